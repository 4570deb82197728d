/* REMB to publishers (media worker): for each publisher whose answer took
 * goog-remb, what it should send at most, in an RTCP PSFB FMT 15 REMB
 * (draft-alvestrand-rmcat-remb §2.2) naming its media SSRCs. The value is the
 * least of
 *   - the receive-side estimate of its uplink from abs-send-time
 *     (kt-remb-estimate.h), when it sends the extension;
 *   - [media] publisher_max_kbps.
 * The subscribers' estimates do not cap it, not even for a publisher without
 * simulcast: they probe only as far as what it sends (their demand), so a cap
 * at the best of them would hold a classroom camera near where it started,
 * rising by AIMD steps alone. A subscriber that cannot take a single-layer
 * stream gets it paused instead (kt-room-pause.c).
 * A browser with transport-cc as well caps its own estimate by the REMB.
 * Sent once a second, and at once when the value falls by more than 3 %
 * (libwebrtc's receivers do the same), so a congested uplink backs off within
 * a tick. Allocates nothing per packet and logs nothing. */
#include "kt-room-private.h"

#include "kt-remb-estimate.h"

#define COUNT(room, field, n) __atomic_fetch_add(&(room)->counters.field, (n), __ATOMIC_RELAXED)

#define REMB_INTERVAL_US G_USEC_PER_SEC
#define DROP_PERCENT 3 /* a fall of more than this goes out at once */
/* Once a REMB was sent, a publisher whose caps are all gone (its subscribers
 * left, no estimate) is told this, so the last cap does not hold forever. */
#define NO_CAP_BPS 100000000

struct _PubRemb {
	KtRembEstimate *estimate; /* NULL without abs-send-time */
	guint8 abs_ext_id;
	gint64 last_sent_us; /* 0 = never */
	guint32 last_bps;
};

void kt_room_remb_attach(Publisher *pub)
{
	gboolean remb = FALSE;
	guint8 abs_ext_id = 0;

	for (guint i = 0; i < pub->n_tracks; i++) {
		const KtRoomTrack *spec = &pub->tracks[i].spec;

		remb |= spec->remb;
		/* One extension id for the whole (bundled) connection. */
		if (spec->remb && spec->abs_send_time_ext_id)
			abs_ext_id = spec->abs_send_time_ext_id;
	}
	if (!remb)
		return;
	pub->remb = g_new0(PubRemb, 1);
	pub->remb->abs_ext_id = abs_ext_id;
	if (abs_ext_id)
		pub->remb->estimate = kt_remb_estimate_new(0, 0);
}

void kt_room_remb_free(Publisher *pub)
{
	if (!pub->remb)
		return;
	g_clear_pointer(&pub->remb->estimate, kt_remb_estimate_free);
	g_clear_pointer(&pub->remb, g_free);
}

void kt_room_remb_on_packet(Publisher *pub, const guint8 *buf, const KtRtpHeader *h, gsize len,
                            gint64 now_us)
{
	PubRemb *r = pub->remb;
	const guint8 *ext = NULL;
	int n;

	if (!r->estimate)
		return;
	n = kt_rtp_find_extension(buf, h, r->abs_ext_id, &ext);
	kt_remb_estimate_on_packet(r->estimate, now_us, (guint)len, ext, n);
}

/* The least of two limits, 0 meaning none. */
static guint32 least(guint32 a, guint32 b)
{
	return !a ? b : !b ? a : MIN(a, b);
}

/* Its SSRCs as learned (RTX left out), at most KT_ROOM_MAX_PUB_TRACKS. */
static guint media_ssrcs(const Publisher *pub, guint32 *ssrcs)
{
	guint n = 0;

	for (guint i = 0; i < pub->n_tracks; i++)
		if (pub->tracks[i].ssrc)
			ssrcs[n++] = pub->tracks[i].ssrc;
	return n;
}

static void send_remb(KtRoom *room, Publisher *pub, guint32 bps, gint64 now_us)
{
	guint32 ssrcs[KT_ROOM_MAX_PUB_TRACKS];
	guint n = media_ssrcs(pub, ssrcs);
	int len;

	if (n == 0)
		return; /* nothing arrived yet: no stream to name */
	len = kt_rtcp_build_remb(room->tx, 1200, room->rtcp_ssrc, bps, ssrcs, n);
	if (len <= 0 || kt_peer_send_rtcp(pub->peer, room->tx, len, sizeof(room->tx)) <= 0)
		return;
	pub->remb->last_sent_us = now_us;
	pub->remb->last_bps = bps;
	COUNT(room, remb_sent, 1);
}

guint32 kt_room_remb_value(KtRoom *room, Publisher *pub, gint64 now_us)
{
	PubRemb *r = pub->remb;
	guint32 bps = r->estimate ? kt_remb_estimate_update(r->estimate, now_us) : 0;

	bps = least(bps, (guint32)MIN(room->config.publisher_max_kbps * 1000ull, G_MAXUINT32));
	if (bps == 0 && r->last_sent_us != 0)
		bps = NO_CAP_BPS;
	return bps;
}

gboolean kt_room_remb_due(gint64 last_sent_us, guint32 last_bps, guint32 bps, gint64 now_us)
{
	return last_sent_us == 0 || now_us - last_sent_us >= REMB_INTERVAL_US ||
	       bps < last_bps - last_bps / 100 * DROP_PERCENT;
}

void kt_room_remb_tick(KtRoom *room, gint64 now_us)
{
	for (guint i = 0; i < room->publishers->len; i++) {
		Publisher *pub = g_ptr_array_index(room->publishers, i);
		guint32 bps;

		if (!pub->remb)
			continue;
		bps = kt_room_remb_value(room, pub, now_us);
		if (bps != 0 && kt_peer_is_connected(pub->peer) &&
		    kt_room_remb_due(pub->remb->last_sent_us, pub->remb->last_bps, bps, now_us))
			send_remb(room, pub, bps, now_us);
	}
}
