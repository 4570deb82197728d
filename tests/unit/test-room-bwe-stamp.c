/* The room's per-subscriber bandwidth estimation (transport/kt-room-bwe.c)
 * without peers: the transport-wide sequence number written into a packet
 * (RFC 8285 one-byte form), one counter per subscriber across its streams
 * and across the wrap, packets of streams without TWCC untouched; and the
 * subscriber's feedback, where malformed reports change nothing. The room,
 * subscribers and sources are made by hand (kt-room-private.h). */
#include <string.h>

#include "kt-room-private.h"
#include "kt-rtp.h"
#include "kt-twcc.h"

#define MS ((gint64)1000)
#define SSRC_A 0x0A0A0A0Au
#define SSRC_B 0x0B0B0B0Bu
#define PAYLOAD 100

/* ---- a packet as the room builds it (room->canon) ---- */

static gsize canonical(guint8 *buf, guint16 seq, guint32 ssrc, gboolean padding)
{
	gsize len = KT_RTP_HEADER_LEN + PAYLOAD;

	kt_rtp_write_header(buf, 64, 96, TRUE, seq, 0x12345678, ssrc);
	for (guint i = 0; i < PAYLOAD; i++)
		buf[KT_RTP_HEADER_LEN + i] = (guint8)(i * 7 + 1);
	if (padding) {
		buf[0] |= 0x20;
		memset(buf + len, 0, 3);
		buf[len + 3] = 4;
		len += 4;
	}
	return len;
}

/* Checks @buf is @orig (@orig_len bytes) with transport-wide seq @seq under @id. */
static void assert_stamped(const guint8 *buf, gsize len, const guint8 *orig, gsize orig_len,
                           guint8 id, guint16 seq)
{
	KtRtpHeader h, o;
	const guint8 *ext;

	g_assert_cmpuint(len, ==, orig_len + 8);
	g_assert_cmpint(kt_rtp_parse(buf, len, &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_parse(orig, orig_len, &o), ==, KT_RTP_OK);
	g_assert_true(h.extension && !o.extension);
	g_assert_cmphex(h.ext_profile, ==, 0xBEDE);
	g_assert_cmpuint(h.ext_len, ==, 4);
	g_assert_cmpint(kt_rtp_find_extension(buf, &h, id, &ext), ==, 2);
	g_assert_cmphex(kt_rtp_read_be16(ext), ==, seq);
	/* The rest of the word is padding (a zero byte), not another element. */
	g_assert_cmpuint(buf[19], ==, 0);
	g_assert_cmpuint(h.header_len, ==, 20);
	g_assert_true(h.marker == o.marker && h.padding == o.padding);
	g_assert_cmpuint(h.payload_type, ==, o.payload_type);
	g_assert_cmpuint(h.seq, ==, o.seq);
	g_assert_cmpuint(h.timestamp, ==, o.timestamp);
	g_assert_cmphex(h.ssrc, ==, o.ssrc);
	g_assert_cmpuint(h.padding_len, ==, o.padding_len);
	g_assert_cmpuint(h.payload_len, ==, o.payload_len);
	/* Header, extension, then the payload (and padding) as it was. */
	g_assert_cmpmem(buf + 20, len - 20, orig + 12, orig_len - 12);
}

static void test_stamp(void)
{
	guint8 orig[64 + PAYLOAD], buf[64 + PAYLOAD];
	gsize len;

	for (int padded = 0; padded < 2; padded++) {
		len = canonical(orig, 4321, SSRC_A, padded);
		memcpy(buf, orig, len);
		g_assert_cmpint(kt_room_bwe_stamp(buf, len, sizeof(buf), 3, 0xABCD), ==, len + 8);
		assert_stamped(buf, len + 8, orig, len, 3, 0xABCD);
	}
	/* Ids 1 and 14 are the one-byte form's ends. */
	len = canonical(orig, 1, SSRC_A, FALSE);
	for (guint8 id = 1; id <= 14; id += 13) {
		memcpy(buf, orig, len);
		g_assert_cmpint(kt_room_bwe_stamp(buf, len, sizeof(buf), id, 0), ==, len + 8);
		assert_stamped(buf, len + 8, orig, len, id, 0);
	}
	/* Exactly enough room; one byte short leaves the packet alone. */
	memcpy(buf, orig, len);
	g_assert_cmpint(kt_room_bwe_stamp(buf, len, len + 7, 3, 9), ==, KT_RTP_ENOSPACE);
	g_assert_cmpmem(buf, len, orig, len);
	g_assert_cmpint(kt_room_bwe_stamp(buf, len, len + 8, 3, 9), ==, len + 8);

	/* Not Ketang's form, or an id the one-byte form cannot carry: refused,
	 * untouched. */
	struct {
		guint8 byte0;
		guint8 id;
		gsize len;
	} bad[] = {
	    {0x80, 0, len},  /* id 0 is padding in RFC 8285 */
	    {0x80, 15, len}, /* reserved */
	    {0x90, 3, len},  /* already has an extension */
	    {0x81, 3, len},  /* a CSRC */
	    {0x40, 3, len},  /* version 1 */
	    {0x80, 3, KT_RTP_HEADER_LEN - 1},
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		memcpy(buf, orig, len);
		buf[0] = bad[i].byte0;
		g_assert_cmpint(kt_room_bwe_stamp(buf, bad[i].len, sizeof(buf), bad[i].id, 1), ==,
		                KT_RTP_EVERSION);
		g_assert_cmpuint(buf[0], ==, bad[i].byte0);
		g_assert_cmpmem(buf + 1, len - 1, orig + 1, len - 1);
	}
}

/* ---- a room, subscribers and sources by hand ---- */

typedef struct {
	KtRoom *room;
	Source audio, video;
	Subscriber sub;
	SubStream *twcc, *plain; /* video with TWCC (ext 5), audio without */
} Fixture;

static void fixture_init(Fixture *f, gboolean with_twcc)
{
	memset(f, 0, sizeof(*f));
	f->room = g_new0(KtRoom, 1);
	f->video = (Source){.id = 1,
	                    .room = f->room,
	                    .kind = KT_MEDIA_VIDEO,
	                    .codec = KT_CODEC_VP8,
	                    .ssrc = SSRC_A};
	f->audio = (Source){.id = 2,
	                    .room = f->room,
	                    .kind = KT_MEDIA_AUDIO,
	                    .codec = KT_CODEC_OPUS,
	                    .ssrc = SSRC_B};
	f->sub.room = f->room;
	f->sub.streams = g_ptr_array_new_with_free_func(g_free);
	f->sub.rtt_ms = -1;
	f->twcc = g_new0(SubStream, 1);
	f->plain = g_new0(SubStream, 1);
	*f->twcc = (SubStream){.sub = &f->sub, .source = &f->video};
	*f->plain = (SubStream){.sub = &f->sub, .source = &f->audio};
	f->twcc->pt_for[KT_CODEC_VP8] = 96;
	f->plain->pt_for[KT_CODEC_OPUS] = 111;
	g_ptr_array_add(f->sub.streams, f->twcc);
	g_ptr_array_add(f->sub.streams, f->plain);
	kt_room_bwe_on_subscribe(f->plain, 0);
	kt_room_bwe_on_subscribe(f->twcc, with_twcc ? 5 : 0);
}

static void fixture_clear(Fixture *f)
{
	kt_room_bwe_free(&f->sub);
	g_ptr_array_unref(f->sub.streams);
	g_free(f->room);
}

static guint64 feedback_count(const Fixture *f)
{
	KtRoomCounters c;

	kt_room_get_counters(f->room, &c);
	return c.twcc_feedback_received;
}

/* The transport-wide sequence number kt_room_bwe_prepare() wrote, -1 for none. */
static gint stamped_seq(const guint8 *buf, gsize len)
{
	KtRtpHeader h;
	const guint8 *ext;

	g_assert_cmpint(kt_rtp_parse(buf, len, &h), ==, KT_RTP_OK);
	if (kt_rtp_find_extension(buf, &h, 5, &ext) != 2)
		return -1;
	return kt_rtp_read_be16(ext);
}

/* One counter for the subscriber, from 0, over both streams' packets and past
 * the wrap; only a packet that left uses a number up; the stream without
 * TWCC sends its packets as they are. */
static void test_sequence(void)
{
	Fixture f;
	guint8 orig[64 + PAYLOAD], buf[64 + PAYLOAD];
	gint64 t = 1000 * G_USEC_PER_SEC;
	guint next = 0;

	fixture_init(&f, TRUE);
	g_assert_nonnull(f.sub.bwe);
	g_assert_cmpuint(f.twcc->twcc_ext_id, ==, 5);
	g_assert_cmpuint(f.plain->twcc_ext_id, ==, 0);
	g_assert_cmpuint(kt_room_sub_get_estimate(&f.sub), ==, 300000);
	for (guint i = 0; i < 120000; i++) {
		gsize len = canonical(orig, (guint16)i, i % 3 ? SSRC_A : SSRC_B, i % 5 == 0);
		SubStream *ss = i % 3 ? f.twcc : f.plain;
		int n;

		memcpy(buf, orig, len);
		n = kt_room_bwe_prepare(ss, buf, len, sizeof(buf));
		if (ss == f.plain) {
			g_assert_cmpint(n, ==, len);
			g_assert_cmpmem(buf, len, orig, len);
			kt_room_bwe_sent(ss, t, (guint)n, FALSE);
			continue;
		}
		assert_stamped(buf, (gsize)n, orig, len, 5, (guint16)next);
		/* Not sent (i % 7): the next packet gets the same number. */
		if (i % 7 == 0)
			continue;
		kt_room_bwe_sent(ss, t + i * MS / 10, (guint)n, FALSE);
		next++;
	}
	g_assert_cmpuint(next, >, 65536); /* wrapped */
	/* After the wrap: exactly the count, modulo 2^16. */
	memcpy(buf, orig, canonical(orig, 1, SSRC_A, FALSE));
	g_assert_cmpint(
	    stamped_seq(buf, (gsize)kt_room_bwe_prepare(f.twcc, buf, KT_RTP_HEADER_LEN + PAYLOAD,
	                                                sizeof(buf))),
	    ==, next & 0xFFFF);
	fixture_clear(&f);

	/* A subscriber with no TWCC line has no estimator and numbers nothing. */
	fixture_init(&f, FALSE);
	g_assert_null(f.sub.bwe);
	g_assert_cmpuint(kt_room_sub_get_estimate(&f.sub), ==, 0);
	canonical(orig, 7, SSRC_A, FALSE);
	memcpy(buf, orig, KT_RTP_HEADER_LEN + PAYLOAD);
	g_assert_cmpint(kt_room_bwe_prepare(f.twcc, buf, KT_RTP_HEADER_LEN + PAYLOAD, sizeof(buf)),
	                ==, KT_RTP_HEADER_LEN + PAYLOAD);
	g_assert_cmpmem(buf, KT_RTP_HEADER_LEN + PAYLOAD, orig, KT_RTP_HEADER_LEN + PAYLOAD);
	kt_room_bwe_sent(f.twcc, t, 100, FALSE);
	fixture_clear(&f);
}

/* ---- feedback ---- */

/* @n packets numbered from @first sent 5 ms apart from @t (1200 bytes each),
 * all arriving 20 ms later; the receiver's reports of them in @reports. */
static void send_and_report(Fixture *f, KtTwccReceiver *rx, guint first, guint n, gint64 t,
                            GPtrArray *reports)
{
	guint8 buf[64 + PAYLOAD];

	for (guint i = 0; i < n; i++) {
		gsize len = canonical(buf, (guint16)(first + i), SSRC_A, FALSE);
		int stamped = kt_room_bwe_prepare(f->twcc, buf, len, sizeof(buf));

		g_assert_cmpint(stamped_seq(buf, (gsize)stamped), ==, (gint)((first + i) & 0xFFFF));
		kt_room_bwe_sent(f->twcc, t + i * 5 * MS, 1200, FALSE);
		kt_twcc_receiver_record(rx, (guint16)(first + i), t + i * 5 * MS + 20 * MS);
		if (i % 20 == 19 || i + 1 == n) {
			GByteArray *r = g_byte_array_sized_new(1200);
			int len2;

			g_byte_array_set_size(r, 1200);
			len2 = kt_twcc_receiver_build(rx, r->data, r->len, 0x5B5B5B5B, SSRC_A);
			g_assert_cmpint(len2, >, 0);
			g_byte_array_set_size(r, (guint)len2);
			g_ptr_array_add(reports, r);
		}
	}
}

static void feed(Fixture *f, const guint8 *buf, gsize len, gint64 now)
{
	KtRtcpIter it;
	KtRtcpChunk c;

	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0)
		if (c.type == KT_RTCP_RTPFB && c.count == KT_RTCP_FB_TWCC)
			kt_room_bwe_on_feedback(&f->sub, &c, now);
}

/* RTPFB FMT 15 with @body (after the 8-byte common header and sender SSRC,
 * i.e. from the media SSRC on), padded to 32 bits with zeros. */
static gsize twcc_packet(guint8 *out, const guint8 *body, gsize body_len)
{
	gsize len = 8 + ((body_len + 3) & ~(gsize)3);

	memset(out, 0, len);
	out[0] = 0x80 | KT_RTCP_FB_TWCC;
	out[1] = KT_RTCP_RTPFB;
	kt_rtp_write_be16(out + 2, (guint16)(len / 4 - 1));
	kt_rtp_write_be32(out + 4, 0x5B5B5B5B);
	memcpy(out + 8, body, body_len);
	return len;
}

/* Two subscribers get the same packets and the same reports; one also gets
 * malformed reports between them. Those are refused by the parser, counted
 * nowhere and leave its estimate where the other's is. A report about
 * numbers never sent is read (it counts) but moves nothing either. */
static void test_malformed_feedback(void)
{
	static const guint8 too_short[] = {0x0A, 0x0A, 0x0A, 0x0A, 0x00, 0x01, 0x00, 0x05};
	/* base 0, 50 statuses, then the packet ends after a run of 10. */
	static const guint8 few_chunks[] = {0x0A, 0x0A, 0x0A, 0x0A, 0x00, 0x00, 0x00,
	                                    50,   0x00, 0x00, 0x10, 0x07, 0x20, 10};
	/* 2-bit status vector with the reserved symbol 3 first. */
	static const guint8 reserved[] = {0x0A, 0x0A, 0x0A, 0x0A, 0x00, 0x00, 0x00, 7,
	                                  0x00, 0x00, 0x10, 0x08, 0xF0, 0x00, 0,    0};
	/* A run of 20 received, 4 deltas. */
	static const guint8 few_deltas[] = {0x0A, 0x0A, 0x0A, 0x0A, 0x00, 0x00, 0x00, 20, 0x00,
	                                    0x00, 0x10, 0x09, 0x20, 20,   1,    2,    3,  4};
	/* Well formed, about numbers 30000.. that were never sent. */
	static const guint8 forged[] = {0x0A, 0x0A, 0x0A, 0x0A, 0x75, 0x30, 0x00, 20, 0x00,
	                                0x00, 0x10, 0x0A, 0x20, 20,   1,    1,    1,  1,
	                                1,    1,    1,    1,    1,    1,    1,    1,  1,
	                                1,    1,    1,    1,    1,    1,    1};
	const struct {
		const guint8 *body;
		gsize len;
		gboolean parses;
	} bad[] = {
	    {too_short, sizeof(too_short), FALSE}, {few_chunks, sizeof(few_chunks), FALSE},
	    {reserved, sizeof(reserved), FALSE},   {few_deltas, sizeof(few_deltas), FALSE},
	    {forged, sizeof(forged), TRUE},
	};
	Fixture clean, dirty;
	KtTwccReceiver *rx = kt_twcc_receiver_new();
	g_autoptr(GPtrArray) reports =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
	gint64 t = 1000 * G_USEC_PER_SEC, now = t;
	guint8 pkt[128];

	fixture_init(&clean, TRUE);
	fixture_init(&dirty, TRUE);
	/* Both numbered the same 400 packets (400 * 5 ms = 2 s, 1.92 Mbit/s). */
	send_and_report(&clean, rx, 0, 400, t, reports);
	kt_twcc_receiver_free(rx);
	rx = kt_twcc_receiver_new();
	g_ptr_array_set_size(reports, 0);
	send_and_report(&dirty, rx, 0, 400, t, reports);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		KtRtcpIter it;
		KtRtcpChunk c;
		KtTwccFeedback fb;
		KtTwccStatus st[64];
		gsize len = twcc_packet(pkt, bad[i].body, bad[i].len);

		kt_rtcp_iter_init(&it, pkt, len);
		g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
		g_assert_cmpint(kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st)) >= 0, ==,
		                bad[i].parses);
	}
	for (guint r = 0; r < reports->len; r++) {
		GByteArray *a = g_ptr_array_index(reports, r);

		now = t + (gint64)(r + 1) * 100 * MS + 40 * MS;
		for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
			feed(&dirty, pkt, twcc_packet(pkt, bad[i].body, bad[i].len), now);
		feed(&clean, a->data, a->len, now);
		feed(&dirty, a->data, a->len, now);
		g_assert_cmpuint(kt_room_sub_get_estimate(&dirty.sub), ==,
		                 kt_room_sub_get_estimate(&clean.sub));
	}
	g_test_message("estimate after %u reports: %u bit/s", reports->len,
	               kt_room_sub_get_estimate(&clean.sub));
	g_assert_cmpuint(kt_room_sub_get_estimate(&clean.sub), >, 300000);
	g_assert_cmpuint(feedback_count(&clean), ==, reports->len);
	g_assert_cmpuint(feedback_count(&dirty), ==, 2 * reports->len); /* + the forged ones */

	/* Another message type, or a subscriber without TWCC: nothing. */
	{
		Fixture none;
		GByteArray *a = g_ptr_array_index(reports, 0);
		guint32 before = kt_room_sub_get_estimate(&clean.sub);
		KtRtcpIter it;
		KtRtcpChunk c;

		fixture_init(&none, FALSE);
		feed(&none, a->data, a->len, now);
		g_assert_cmpuint(feedback_count(&none), ==, 0);
		kt_rtcp_iter_init(&it, a->data, a->len);
		g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
		c.count = KT_RTCP_FB_NACK;
		kt_room_bwe_on_feedback(&clean.sub, &c, now);
		g_assert_cmpuint(kt_room_sub_get_estimate(&clean.sub), ==, before);
		g_assert_cmpuint(feedback_count(&clean), ==, reports->len);
		fixture_clear(&none);
	}
	kt_twcc_receiver_free(rx);
	fixture_clear(&clean);
	fixture_clear(&dirty);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-bwe/stamp", test_stamp);
	g_test_add_func("/room-bwe/sequence", test_sequence);
	g_test_add_func("/room-bwe/malformed-feedback", test_malformed_feedback);
	return g_test_run();
}
