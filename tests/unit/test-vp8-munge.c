/* VP8 PictureID and TL0PICIDX continuity across simulcast switches
 * (transport/kt-vp8-munge.h): descriptors of each form parsed; a switch to a
 * layer whose numbers are behind (or far ahead) continues from the last ones
 * sent; retransmissions are rewritten alike without moving them; both
 * numbers wrap; truncated descriptors are left alone. */
#include <string.h>

#include "kt-vp8-munge.h"

/* A payload: X=1, I (15-bit PictureID @pid, or 7-bit when !@m), L (@tl0),
 * T (TID byte), then one byte of VP8 payload. Returns its length. */
static gsize payload(guint8 *p, gboolean m, guint16 pid, guint8 tl0)
{
	gsize n = 0;

	p[n++] = 0x90; /* X, S */
	p[n++] = 0xE0; /* I, L, T */
	if (m) {
		p[n++] = (guint8)(0x80 | pid >> 8);
		p[n++] = (guint8)(pid & 0xFF);
	} else {
		p[n++] = (guint8)(pid & 0x7F);
	}
	p[n++] = tl0;
	p[n++] = 0x40; /* TID 1 */
	p[n++] = 0x9D;
	return n;
}

static guint16 pid_of(const guint8 *p, gsize len)
{
	KtVp8Desc d;

	g_assert_true(kt_vp8_desc_parse(p, len, &d));
	g_assert_cmpint(d.pid_pos, ==, 2);
	return d.pid15 ? (guint16)((p[2] & 0x7F) << 8 | p[3]) : p[2] & 0x7F;
}

static guint8 tl0_of(const guint8 *p, gsize len)
{
	KtVp8Desc d;

	g_assert_true(kt_vp8_desc_parse(p, len, &d));
	return p[d.tl0_pos];
}

/* Sends @n packets of a layer from @pid/@tl0 through @m (a switch first when
 * @switch_first); returns the last length, the last packet in @p. */
static gsize run(KtVp8Munge *m, guint8 *p, guint16 pid, guint8 tl0, guint n, gboolean sw)
{
	gsize len = 0;

	for (guint i = 0; i < n; i++) {
		len = payload(p, TRUE, (guint16)((pid + i) & 0x7FFF), (guint8)(tl0 + i));
		if (sw && i == 0)
			kt_vp8_munge_switch(m, p, len);
		kt_vp8_munge_packet(m, p, len, TRUE);
	}
	return len;
}

static void test_switch_continues(void)
{
	KtVp8Munge m = {0};
	guint8 p[16];
	gsize len;

	/* The first layer goes out as it is. */
	len = run(&m, p, 1000, 50, 6, TRUE);
	g_assert_cmpuint(pid_of(p, len), ==, 1005);
	g_assert_cmpuint(tl0_of(p, len), ==, 55);
	/* A layer far behind: its keyframe continues at 1006 / 56. */
	len = run(&m, p, 200, 7, 1, TRUE);
	g_assert_cmpuint(pid_of(p, len), ==, 1006);
	g_assert_cmpuint(tl0_of(p, len), ==, 56);
	len = run(&m, p, 201, 8, 3, FALSE);
	g_assert_cmpuint(pid_of(p, len), ==, 1009);
	g_assert_cmpuint(tl0_of(p, len), ==, 59);
	/* A retransmission of that layer's first packet: rewritten alike, and the
	 * last numbers stay where they were. */
	len = payload(p, TRUE, 200, 7);
	kt_vp8_munge_packet(&m, p, len, FALSE);
	g_assert_cmpuint(pid_of(p, len), ==, 1006);
	g_assert_cmpuint(tl0_of(p, len), ==, 56);
	/* Back to a layer far ahead, across both wraps: 0x7FFF and 255 follow on. */
	len = run(&m, p, 30000, 250, 1, TRUE);
	g_assert_cmpuint(pid_of(p, len), ==, 1010);
	g_assert_cmpuint(tl0_of(p, len), ==, 60);
	m.last_pid = 0x7FFE;
	m.last_tl0 = 254;
	len = run(&m, p, 5, 5, 1, TRUE);
	g_assert_cmpuint(pid_of(p, len), ==, 0x7FFF);
	g_assert_cmpuint(tl0_of(p, len), ==, 255);
	len = run(&m, p, 6, 6, 1, FALSE);
	g_assert_cmpuint(pid_of(p, len), ==, 0);
	g_assert_cmpuint(tl0_of(p, len), ==, 0);
}

/* A 7-bit PictureID keeps its width (and its M bit clear). */
static void test_short_picture_id(void)
{
	KtVp8Munge m = {0};
	guint8 p[16];
	gsize len = payload(p, FALSE, 120, 1);

	kt_vp8_munge_packet(&m, p, len, TRUE);
	len = payload(p, FALSE, 3, 9);
	kt_vp8_munge_switch(&m, p, len);
	kt_vp8_munge_packet(&m, p, len, TRUE);
	g_assert_cmpuint(p[2] & 0x80, ==, 0);
	g_assert_cmpuint(pid_of(p, len), ==, 121);
	len = payload(p, FALSE, 10, 10);
	kt_vp8_munge_packet(&m, p, len, TRUE);
	g_assert_cmpuint(pid_of(p, len), ==, (121 + 7) & 0x7F);
}

/* Descriptors without numbers, or cut short: parsed as far as they go,
 * nothing written past the end. */
static void test_bad_descriptors(void)
{
	KtVp8Munge m = {.have_pid = TRUE, .pid_off = 5, .have_tl0 = TRUE, .tl0_off = 5};
	const guint8 no_x[] = {0x10, 0x9D, 0x01};
	const guint8 cut_pid[] = {0x90, 0x80, 0x81};       /* 15-bit PictureID, one byte of it */
	const guint8 cut_tl0[] = {0x90, 0xC0, 0x81, 0x02}; /* TL0PICIDX missing */
	const guint8 *bad[] = {cut_pid, cut_tl0};
	const gsize bad_len[] = {sizeof(cut_pid), sizeof(cut_tl0)};
	guint8 p[8];
	KtVp8Desc d;

	memcpy(p, no_x, sizeof(no_x));
	g_assert_true(kt_vp8_desc_parse(p, sizeof(no_x), &d));
	g_assert_cmpint(d.pid_pos, ==, -1);
	g_assert_cmpint(d.tl0_pos, ==, -1);
	kt_vp8_munge_packet(&m, p, sizeof(no_x), TRUE);
	g_assert_cmpmem(p, sizeof(no_x), no_x, sizeof(no_x));
	g_assert_false(kt_vp8_desc_parse(p, 0, &d));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		memcpy(p, bad[i], bad_len[i]);
		g_assert_false(kt_vp8_desc_parse(p, bad_len[i], &d));
		kt_vp8_munge_switch(&m, p, bad_len[i]);
		kt_vp8_munge_packet(&m, p, bad_len[i], TRUE);
		g_assert_cmpmem(p, bad_len[i], bad[i], bad_len[i]);
	}
	g_assert_cmpuint(m.pid_off, ==, 5);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vp8-munge/switch-continues", test_switch_continues);
	g_test_add_func("/vp8-munge/short-picture-id", test_short_picture_id);
	g_test_add_func("/vp8-munge/bad-descriptors", test_bad_descriptors);
	return g_test_run();
}
