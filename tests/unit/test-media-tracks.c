/* Tests for the negotiated-SDP → room-track mapping (server/kt-media-tracks.h): codecs and
 * payload types, the alternatives a receiver accepted, and RED around Opus. */
#include "kt-media-tracks.h"

#include <string.h>

static KtSdpNegotiated audio_line(guint8 red_pt)
{
	KtSdpNegotiated n = {
	    .mid = "0",
	    .kind = KT_SDP_MEDIA_AUDIO,
	    .active = TRUE,
	    .direction = KT_SDP_DIR_RECVONLY,
	    .pt = 111,
	    .codec = "opus",
	    .clock_rate = 48000,
	    .channels = 2,
	    .red_pt = red_pt,
	    .mid_ext_id = 4,
	    .remote_ssrc = 1234,
	};
	return n;
}

static KtSdpNegotiated video_line(void)
{
	KtSdpNegotiated n = {
	    .mid = "1",
	    .kind = KT_SDP_MEDIA_VIDEO,
	    .active = TRUE,
	    .direction = KT_SDP_DIR_RECVONLY,
	    .pt = 96,
	    .codec = "vp8",
	    .clock_rate = 90000,
	    .rtx_pt = 97,
	    .nack = TRUE,
	    .pli = TRUE,
	    .n_alt = 1,
	};
	g_strlcpy(n.alt[0].codec, "h264", sizeof n.alt[0].codec);
	n.alt[0].pt = 102;
	n.alt[0].rtx_pt = 103;
	return n;
}

/* RED goes in as the RED slot of pt_for; Opus stays the track's codec. */
static void test_red(void)
{
	KtSdpNegotiated neg[2] = {audio_line(63), video_line()};
	KtRoomTrack t[2];

	g_assert_cmpuint(kt_media_tracks_from_negotiated(neg, 2, t, 2), ==, 2);
	g_assert_cmpint(t[0].kind, ==, KT_MEDIA_AUDIO);
	g_assert_cmpint(t[0].codec, ==, KT_CODEC_OPUS);
	g_assert_cmpuint(t[0].pt, ==, 111);
	g_assert_cmpuint(t[0].pt_for[KT_CODEC_OPUS], ==, 111);
	g_assert_cmpuint(t[0].pt_for[KT_CODEC_RED], ==, 63);
	g_assert_cmpuint(t[0].rtx_pt_for[KT_CODEC_RED], ==, 0);
	g_assert_cmpuint(t[0].remote_ssrc, ==, 1234);
	g_assert_cmpuint(t[0].mid_ext_id, ==, 4);
	g_assert_cmpstr(t[0].mid, ==, "0");
	g_assert_cmpint(t[1].codec, ==, KT_CODEC_VP8);
	g_assert_cmpuint(t[1].pt_for[KT_CODEC_VP8], ==, 96);
	g_assert_cmpuint(t[1].rtx_pt_for[KT_CODEC_VP8], ==, 97);
	g_assert_cmpuint(t[1].pt_for[KT_CODEC_H264], ==, 102);
	g_assert_cmpuint(t[1].rtx_pt_for[KT_CODEC_H264], ==, 103);
	g_assert_cmpuint(t[1].pt_for[KT_CODEC_RED], ==, 0);
	g_assert_true(t[1].nack && t[1].pli);
}

/* Without RED negotiated the slot stays 0, so the room forwards plain Opus. */
static void test_no_red(void)
{
	KtSdpNegotiated neg[1] = {audio_line(0)};
	KtRoomTrack t[1];

	g_assert_cmpuint(kt_media_tracks_from_negotiated(neg, 1, t, 1), ==, 1);
	g_assert_cmpuint(t[0].pt_for[KT_CODEC_OPUS], ==, 111);
	g_assert_cmpuint(t[0].pt_for[KT_CODEC_RED], ==, 0);
}

/* Rejected and inactive lines make no track; @max is kept. */
static void test_skipped(void)
{
	KtSdpNegotiated neg[4] = {audio_line(63), video_line(), audio_line(63), video_line()};
	KtRoomTrack t[4];

	neg[0].active = FALSE;
	neg[1].direction = KT_SDP_DIR_INACTIVE;
	g_assert_cmpuint(kt_media_tracks_from_negotiated(neg, 4, t, 1), ==, 1);
	g_assert_cmpint(t[0].codec, ==, KT_CODEC_OPUS);
	g_assert_cmpuint(t[0].pt_for[KT_CODEC_RED], ==, 63);
	g_assert_cmpuint(kt_media_tracks_from_negotiated(neg, 4, t, 4), ==, 2);
	g_assert_cmpint(t[1].codec, ==, KT_CODEC_VP8);
}

/* The codec table knows RED as an audio payload format. */
static void test_codec_table(void)
{
	g_assert_cmpint(kt_media_codec_from_name("red"), ==, KT_CODEC_RED);
	g_assert_cmpint(kt_media_codec_from_name("RED"), ==, KT_CODEC_RED);
	g_assert_cmpint(kt_media_codec_kind(KT_CODEC_RED), ==, KT_MEDIA_AUDIO);
	g_assert_cmpstr(kt_media_codec_name(KT_CODEC_RED), ==, "red");
	g_assert_cmpint(kt_media_codec_from_name("opus"), ==, KT_CODEC_OPUS);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/media-tracks/red", test_red);
	g_test_add_func("/media-tracks/no-red", test_no_red);
	g_test_add_func("/media-tracks/skipped", test_skipped);
	g_test_add_func("/media-tracks/codec-table", test_codec_table);
	return g_test_run();
}
