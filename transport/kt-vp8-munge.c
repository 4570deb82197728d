/* VP8 PictureID and TL0PICIDX continuity across simulcast switches; see
 * kt-vp8-munge.h. */
#include "kt-vp8-munge.h"

#define PID_MASK 0x7FFF

gboolean kt_vp8_desc_parse(const guint8 *p, gsize len, KtVp8Desc *d)
{
	gsize off = 2;

	*d = (KtVp8Desc){.pid_pos = -1, .tl0_pos = -1};
	if (len < 1)
		return FALSE;
	if (!(p[0] & 0x80)) /* X: no extension byte, no numbers */
		return TRUE;
	if (len < 2)
		return FALSE;
	if (p[1] & 0x80) { /* I */
		if (off >= len)
			return FALSE;
		d->pid_pos = (int)off;
		d->pid15 = (p[off] & 0x80) != 0;
		off += d->pid15 ? 2 : 1;
	}
	if (p[1] & 0x40) /* L */
		d->tl0_pos = (int)off++;
	if (off > len) {
		*d = (KtVp8Desc){.pid_pos = -1, .tl0_pos = -1};
		return FALSE;
	}
	return TRUE;
}

static guint16 read_pid(const guint8 *p, const KtVp8Desc *d)
{
	if (d->pid15)
		return (guint16)((p[d->pid_pos] & 0x7F) << 8 | p[d->pid_pos + 1]);
	return p[d->pid_pos] & 0x7F;
}

static void write_pid(guint8 *p, const KtVp8Desc *d, guint16 pid)
{
	if (d->pid15) {
		p[d->pid_pos] = (guint8)(0x80 | (pid >> 8 & 0x7F));
		p[d->pid_pos + 1] = (guint8)(pid & 0xFF);
	} else {
		p[d->pid_pos] = (guint8)(pid & 0x7F);
	}
}

void kt_vp8_munge_switch(KtVp8Munge *m, const guint8 *payload, gsize len)
{
	KtVp8Desc d;

	if (!kt_vp8_desc_parse(payload, len, &d))
		return;
	if (d.pid_pos >= 0 && m->have_pid)
		m->pid_off = (guint16)((m->last_pid + 1 - read_pid(payload, &d)) & PID_MASK);
	if (d.tl0_pos >= 0 && m->have_tl0)
		m->tl0_off = (guint8)(m->last_tl0 + 1 - payload[d.tl0_pos]);
}

void kt_vp8_munge_packet(KtVp8Munge *m, guint8 *payload, gsize len, gboolean sent)
{
	KtVp8Desc d;

	if (!kt_vp8_desc_parse(payload, len, &d))
		return;
	if (d.pid_pos >= 0) {
		/* A 7-bit PictureID wraps at 128: the offset is taken in its width. */
		guint16 pid =
		    (guint16)((read_pid(payload, &d) + m->pid_off) & (d.pid15 ? PID_MASK : 0x7F));

		write_pid(payload, &d, pid);
		/* Newer in 15-bit serial arithmetic: ahead by less than half the space. */
		guint ahead = (guint)(pid - m->last_pid) & PID_MASK;

		if (sent && (!m->have_pid || (ahead != 0 && ahead < PID_MASK / 2))) {
			m->last_pid = pid;
			m->have_pid = TRUE;
		}
	}
	if (d.tl0_pos >= 0) {
		guint8 tl0 = (guint8)(payload[d.tl0_pos] + m->tl0_off);

		payload[d.tl0_pos] = tl0;
		if (sent && (!m->have_tl0 || (gint8)(tl0 - m->last_tl0) > 0)) {
			m->last_tl0 = tl0;
			m->have_tl0 = TRUE;
		}
	}
}
