/* Mix-minus (pipelines/kt-mix-minus.h) through a real room: three live Opus
 * tones stand for the microphones (teacher 440 Hz, classroom A 880 Hz,
 * classroom B 1320 Hz) and are pushed into the mix as a room tap would; the
 * outputs are published into room sources and received by real subscriber
 * peers (ICE + DTLS + SRTP over loopback), decoded with GStreamer and measured
 * with Goertzel filters. Each output must carry every audible tone but its
 * owner's: a tone counts as present within 15 dB of the loudest, and absent
 * at least 30 dB below the weakest present one. Muting, removing and adding
 * inputs and outputs, bad packets and a failing input chain are heard (or
 * not) in the decoded audio. */
#include <math.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "kt-gst.h"
#include "kt-mix-minus-private.h"
#include "kt-mix-minus.h"
#include "kt-room.h"
#include "kt-rtp.h"
#include "peer-pair.h"

#define RATE 48000
#define RING (RATE)       /* the last second of decoded audio */
#define WINDOW (RATE / 4) /* 250 ms analysed: 4 Hz bins */
#define PRESENT_DB 15.0   /* present: within this of the loudest tone */
#define ABSENT_DB 30.0    /* absent: this far below the weakest present tone */

enum { T440, T880, T1320, N_TONES };
static const double tone_hz[N_TONES] = {440, 880, 1320};

/* ---- a subscriber: the "browser" of a classroom ---- */

typedef struct {
	PeerPair pair;
	GstElement *decoder;
	GstAppSrc *src;
	gint packets; /* atomic */
	GMutex lock;  /* guards the ring */
	gint16 ring[RING];
	guint64 total; /* samples decoded so far */
} Receiver;

static void on_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Receiver *r = data;

	(void)peer;
	gst_app_src_push_buffer(r->src, gst_buffer_new_memdup(buf, len));
	g_atomic_int_inc(&r->packets);
}

static GstFlowReturn on_pcm(GstAppSink *sink, gpointer data)
{
	Receiver *r = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstBuffer *buf = gst_sample_get_buffer(sample);
	GstMapInfo map;

	if (!gst_buffer_map(buf, &map, GST_MAP_READ))
		return GST_FLOW_OK;
	g_mutex_lock(&r->lock);
	for (gsize i = 0; i + 1 < map.size; i += 2) {
		gint16 s;

		memcpy(&s, map.data + i, 2);
		r->ring[r->total++ % RING] = s;
	}
	g_mutex_unlock(&r->lock);
	gst_buffer_unmap(buf, &map);
	return GST_FLOW_OK;
}

static gboolean install_receiver(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtp = on_rtp};
	Receiver *r = data;

	kt_peer_set_media_funcs(r->pair.client, &funcs, r);
	return G_SOURCE_REMOVE;
}

/* Connects a subscriber peer to @source and decodes what it receives. */
static Receiver *receiver_new(KtRoom *room, guint source, KtWorker *server, KtWorker *client)
{
	Receiver *r = g_new0(Receiver, 1);
	GError *error = NULL;
	GstAppSinkCallbacks cbs = {.new_sample = on_pcm};
	g_autoptr(GstElement) sink = NULL;
	KtRoomTrack track = {.source = source,
	                     .kind = KT_MEDIA_AUDIO,
	                     .codec = KT_CODEC_OPUS,
	                     .pt = 111,
	                     .clock_rate = RATE};

	g_mutex_init(&r->lock);
	peer_pair_connect(&r->pair, server, client);
	kt_room_add_subscriber(room, r->pair.server, &track, 1);
	r->decoder = gst_parse_launch(
	    "appsrc name=src is-live=true format=time do-timestamp=true"
	    " caps=application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111"
	    " ! rtpjitterbuffer latency=100 ! rtpopusdepay ! opusdec plc=true"
	    " ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,channels=1"
	    " ! appsink name=pcm sync=false",
	    &error);
	g_assert_no_error(error);
	r->src = GST_APP_SRC(gst_bin_get_by_name(GST_BIN(r->decoder), "src"));
	sink = gst_bin_get_by_name(GST_BIN(r->decoder), "pcm");
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, r, NULL);
	gst_element_set_state(r->decoder, GST_STATE_PLAYING);
	kt_worker_invoke_sync(kt_peer_get_worker(r->pair.client), install_receiver, r);
	return r;
}

static void receiver_free(Receiver *r)
{
	peer_pair_close(&r->pair);
	gst_element_set_state(r->decoder, GST_STATE_NULL);
	gst_object_unref(r->src);
	gst_object_unref(r->decoder);
	g_mutex_clear(&r->lock);
	g_free(r);
}

/* ---- frequency analysis ---- */

/* Energy at @hz of @x (Hann window, Goertzel), dB of an arbitrary reference. */
static double tone_db(const double *x, guint n, double hz)
{
	double c = 2 * cos(2 * G_PI * hz / RATE), s1 = 0, s2 = 0;

	for (guint i = 0; i < n; i++) {
		double s = x[i] + c * s1 - s2;

		s2 = s1;
		s1 = s;
	}
	return 10 * log10(s1 * s1 + s2 * s2 - c * s1 * s2 + 1e-9);
}

/* The last WINDOW samples once at least @since + WINDOW were decoded. */
static gboolean measure(Receiver *r, guint64 since, double db[N_TONES])
{
	static double x[WINDOW];
	guint64 end;

	g_mutex_lock(&r->lock);
	end = r->total;
	if (end < since + WINDOW) {
		g_mutex_unlock(&r->lock);
		return FALSE;
	}
	for (guint i = 0; i < WINDOW; i++) {
		double hann = 0.5 - 0.5 * cos(2 * G_PI * i / (WINDOW - 1));

		x[i] = r->ring[(end - WINDOW + i) % RING] * hann;
	}
	g_mutex_unlock(&r->lock);
	for (guint t = 0; t < N_TONES; t++)
		db[t] = tone_db(x, WINDOW, tone_hz[t]);
	return TRUE;
}

/* Whether @db has exactly the tones in @present (bit per tone). */
static gboolean spectrum_is(const double db[N_TONES], guint present)
{
	double loudest = -1e9, weakest = 1e9;

	for (guint t = 0; t < N_TONES; t++)
		if (present & (1u << t)) {
			loudest = MAX(loudest, db[t]);
			weakest = MIN(weakest, db[t]);
		}
	for (guint t = 0; t < N_TONES; t++) {
		if ((present & (1u << t)) && db[t] < loudest - PRESENT_DB)
			return FALSE;
		if (!(present & (1u << t)) && db[t] > weakest - ABSENT_DB)
			return FALSE;
	}
	return TRUE;
}

static gboolean keep_going(gpointer data)
{
	(void)data;
	return G_SOURCE_CONTINUE;
}

/* Iterates the control loop until @r's newest audio has exactly the tones
 * in @present, in two windows in a row (both decoded after this call), or
 * 10 s passed. Logs the energies it saw last. */
static gboolean wait_tones(const char *what, Receiver *r, guint present)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	guint tick = g_timeout_add(20, keep_going, NULL);
	guint64 since;
	double db[N_TONES] = {0};
	guint good = 0;

	g_mutex_lock(&r->lock);
	since = r->total;
	g_mutex_unlock(&r->lock);
	while (good < 2 && g_get_monotonic_time() < deadline) {
		g_main_context_iteration(NULL, TRUE);
		if (!measure(r, since, db))
			continue;
		good = spectrum_is(db, present) ? good + 1 : 0;
		since += WINDOW;
	}
	g_source_remove(tick);
	g_test_message("%s: 440 Hz %.1f dB, 880 Hz %.1f dB, 1320 Hz %.1f dB (relative: %+.1f, "
	               "%+.1f)",
	               what, db[T440], db[T880], db[T1320], db[T880] - db[T440],
	               db[T1320] - db[T440]);
	return good >= 2;
}

/* ---- the microphones ---- */

typedef struct {
	GstElement *pipeline;
	KtMixMinus *mm;
	gint input; /* atomic: where its packets go */
} Tone;

/* The tone's streaming thread, as a media worker calls a room tap. */
static GstFlowReturn on_tone_packet(GstAppSink *sink, gpointer data)
{
	Tone *t = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstBuffer *buf = gst_sample_get_buffer(sample);
	GstMapInfo map;

	if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
		kt_mix_minus_push(t->mm, (guint)g_atomic_int_get(&t->input), map.data, map.size,
		                  KT_CODEC_OPUS);
		gst_buffer_unmap(buf, &map);
	}
	return GST_FLOW_OK;
}

static void tone_start(Tone *t, KtMixMinus *mm, guint input, double hz)
{
	g_autofree char *desc = g_strdup_printf(
	    "audiotestsrc is-live=true wave=sine freq=%.0f volume=0.3 samplesperbuffer=960"
	    " ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=48000 frame-size=20"
	    " ! rtpopuspay pt=111 ! appsink name=out sync=false",
	    hz);
	GstAppSinkCallbacks cbs = {.new_sample = on_tone_packet};
	GError *error = NULL;
	g_autoptr(GstElement) sink = NULL;

	t->mm = mm;
	t->input = (gint)input;
	t->pipeline = gst_parse_launch(desc, &error);
	g_assert_no_error(error);
	sink = gst_bin_get_by_name(GST_BIN(t->pipeline), "out");
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, t, NULL);
	gst_element_set_state(t->pipeline, GST_STATE_PLAYING);
}

static void tone_stop(Tone *t)
{
	gst_element_set_state(t->pipeline, GST_STATE_NULL);
	gst_clear_object(&t->pipeline);
}

static void on_error(KtMixMinus *mm, const GError *error, gpointer data)
{
	(void)mm;
	g_test_message("on_error: %s", error->message);
	g_atomic_int_inc((gint *)data);
}

/* Garbage, the wrong codec and unknown ids, as a broken publisher or a late
 * tap would push them. */
static void push_bad_input(KtMixMinus *mm, guint input)
{
	guint8 pkt[200];
	guint32 seed = 7;

	for (guint i = 0; i < sizeof(pkt); i++)
		pkt[i] = (guint8)((seed = seed * 1103515245u + 12345u) >> 16);
	kt_mix_minus_push(mm, input, pkt, sizeof(pkt), KT_CODEC_OPUS); /* not RTP (likely) */
	pkt[0] = 0x80; /* RTP v2, no CSRC, no extension, no padding */
	pkt[1] = 111;
	for (guint i = 0; i < 20; i++) {
		pkt[2] = (guint8)i; /* random sequence and timestamp, garbage Opus */
		kt_mix_minus_push(mm, input, pkt, sizeof(pkt), KT_CODEC_OPUS);
	}
	kt_mix_minus_push(mm, input, pkt, 5, KT_CODEC_OPUS);           /* truncated */
	kt_mix_minus_push(mm, input, pkt, 12, KT_CODEC_OPUS);          /* no payload */
	kt_mix_minus_push(mm, input, pkt, sizeof(pkt), KT_CODEC_VP8);  /* wrong codec */
	kt_mix_minus_push(mm, input, pkt, sizeof(pkt), KT_CODEC_NONE); /* no codec */
	kt_mix_minus_push(mm, input, NULL, 0, KT_CODEC_OPUS);
	kt_mix_minus_push(mm, 9999, pkt, sizeof(pkt), KT_CODEC_OPUS); /* unknown input */
	kt_mix_minus_push(mm, 0, pkt, sizeof(pkt), KT_CODEC_OPUS);
}

#define ONLY(t) (1u << (t))

static void test_mix_minus(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0), *cw = kt_worker_pool_get(pool, 1);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(w, &rc);
	gint errors = 0;
	/* 64 kbit/s: at the default 32 the codec's own noise at the sum and difference
	 * frequencies of two tones (440 + 880 = 1320, 1320 - 440 = 880) comes within
	 * 33-40 dB; this test is about what is mixed, not the codec. */
	KtMixMinusConfig mc = {.kbps = 64, .on_error = on_error, .user_data = &errors};
	KtMixMinusConfig bad = {.kbps = 1000};
	guint32 ssrc, rtx;
	guint src_a, src_b, src_t, in_t, in_a, in_b, out_a, out_b, out_t;
	KtMixMinus *mm;
	KtMixMinusStats st, st2;
	Receiver *rx_a, *rx_b, *rx_t;
	Tone tones[N_TONES] = {0};
	GstElement *dec;

	g_assert_no_error(error);
	g_assert_null(kt_mix_minus_new(room, &bad, &error));
	g_assert_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_INVALID);
	g_clear_error(&error);

	src_a = kt_room_add_source(room, KT_MEDIA_AUDIO, &ssrc, &rtx);
	src_b = kt_room_add_source(room, KT_MEDIA_AUDIO, &ssrc, &rtx);
	src_t = kt_room_add_source(room, KT_MEDIA_AUDIO, &ssrc, &rtx);
	mm = kt_mix_minus_new(room, &mc, &error);
	g_assert_no_error(error);
	in_t = kt_mix_minus_add_input(mm, "teacher", RATE, &error);
	in_a = kt_mix_minus_add_input(mm, "A", RATE, &error);
	in_b = kt_mix_minus_add_input(mm, "B", RATE, &error);
	out_a = kt_mix_minus_add_output(mm, "A", src_a, &error);
	out_b = kt_mix_minus_add_output(mm, "B", src_b, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(out_a, >, 0);
	g_assert_cmpuint(out_b, >, out_a);
	g_assert_cmpuint(kt_mix_minus_add_output(mm, "C", 0, &error), ==, 0);
	g_assert_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_INVALID);
	g_clear_error(&error);

	rx_a = receiver_new(room, src_a, w, cw);
	rx_b = receiver_new(room, src_b, w, cw);
	/* Nothing pushed yet: the outputs already run (silence). */
	g_assert_true(wait_count(&rx_a->packets, 25, 5000));
	tone_start(&tones[T440], mm, in_t, tone_hz[T440]);
	tone_start(&tones[T880], mm, in_a, tone_hz[T880]);
	tone_start(&tones[T1320], mm, in_b, tone_hz[T1320]);

	/* Each classroom hears the teacher and the other classroom, not itself. */
	g_assert_true(wait_tones("A hears T+B", rx_a, ONLY(T440) | ONLY(T1320)));
	g_assert_true(wait_tones("B hears T+A", rx_b, ONLY(T440) | ONLY(T880)));

	/* B muted: A loses B's tone; B's own mix does not change. */
	g_assert_true(kt_mix_minus_set_input_audible(mm, in_b, FALSE));
	g_assert_true(wait_tones("A, B muted", rx_a, ONLY(T440)));
	g_assert_true(wait_tones("B, B muted", rx_b, ONLY(T440) | ONLY(T880)));
	g_assert_true(kt_mix_minus_set_input_audible(mm, in_b, TRUE));
	g_assert_true(wait_tones("A, B unmuted", rx_a, ONLY(T440) | ONLY(T1320)));

	/* A's microphone leaves and comes back (a reconnect: a new input id). */
	kt_mix_minus_remove_input(mm, in_a);
	g_assert_true(wait_tones("B, A removed", rx_b, ONLY(T440)));
	in_a = kt_mix_minus_add_input(mm, "A", RATE, &error);
	g_assert_no_error(error);
	g_atomic_int_set(&tones[T880].input, (gint)in_a);
	g_assert_true(wait_tones("B, A back", rx_b, ONLY(T440) | ONLY(T880)));
	g_assert_true(wait_tones("A, A back", rx_a, ONLY(T440) | ONLY(T1320)));

	/* An output added mid-way: the teacher's, without the teacher. */
	out_t = kt_mix_minus_add_output(mm, "teacher", src_t, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(out_t, >, out_b);
	rx_t = receiver_new(room, src_t, w, cw);
	g_assert_true(wait_tones("teacher hears A+B", rx_t, ONLY(T880) | ONLY(T1320)));
	g_assert_true(wait_tones("A, teacher output added", rx_a, ONLY(T440) | ONLY(T1320)));

	/* Bad input changes nothing but the counters. */
	kt_mix_minus_get_stats(mm, &st);
	push_bad_input(mm, in_b);
	g_assert_false(kt_mix_minus_set_input_audible(mm, 9999, FALSE));
	kt_mix_minus_remove_input(mm, 9999);
	kt_mix_minus_remove_output(mm, 9999);
	kt_mix_minus_get_stats(mm, &st2);
	g_assert_cmpuint(st2.rejected - st.rejected, >=, 6);
	g_assert_cmpuint(st2.unknown - st.unknown, >=, 2);
	g_assert_true(wait_tones("A after bad input", rx_a, ONLY(T440) | ONLY(T1320)));
	g_assert_true(wait_tones("B after bad input", rx_b, ONLY(T440) | ONLY(T880)));
	g_assert_true(wait_tones("teacher after bad input", rx_t, ONLY(T880) | ONLY(T1320)));
	kt_mix_minus_get_stats(mm, &st2);
	g_assert_cmpuint(st2.restarts, ==, 0);
	g_assert_cmpint(g_atomic_int_get(&errors), ==, 0);

	/* An error inside the teacher's chain rebuilds that input alone. */
	dec = kt_mix_minus_get_input_element(mm, in_t);
	g_assert_nonnull(dec);
	gst_element_post_message(
	    dec,
	    gst_message_new_error(
	        GST_OBJECT(dec),
	        &(GError){GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE, (char *)"injected"}, NULL));
	gst_object_unref(dec);
	g_assert_true(wait_tones("B, teacher chain rebuilt", rx_b, ONLY(T440) | ONLY(T880)));
	kt_mix_minus_get_stats(mm, &st2);
	g_assert_cmpuint(st2.restarts, ==, 1);
	g_assert_cmpuint(st2.chains, >=, 5);
	g_assert_cmpint(g_atomic_int_get(&errors), ==, 0);

	/* B's output leaves; the others go on. */
	kt_mix_minus_remove_output(mm, out_b);
	g_assert_true(wait_tones("A, B's output gone", rx_a, ONLY(T440) | ONLY(T1320)));
	g_assert_true(wait_tones("teacher, B's output gone", rx_t, ONLY(T880) | ONLY(T1320)));

	kt_mix_minus_get_stats(mm, &st);
	g_test_message("stats: %" G_GUINT64_FORMAT " packets in, %" G_GUINT64_FORMAT
	               " dropped, %" G_GUINT64_FORMAT " out, %u links",
	               st.packets, st.dropped, st.out_packets, st.links);
	g_assert_cmpuint(st.inputs, ==, 3);
	g_assert_cmpuint(st.outputs, ==, 2);
	g_assert_cmpuint(st.links, ==, 4); /* T->A, B->A, A->T, B->T */
	g_assert_cmpuint(st.out_dropped, ==, 0);
	g_assert_cmpuint(st.out_packets, >, 200);
	g_assert_cmpint(g_atomic_int_get(&errors), ==, 0);

	for (guint t = 0; t < N_TONES; t++)
		tone_stop(&tones[t]);
	kt_mix_minus_free(mm);
	receiver_free(rx_a);
	receiver_free(rx_b);
	receiver_free(rx_t);
	kt_room_close(room);
	kt_room_unref(room);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/mix-minus/tones", test_mix_minus);
	return g_test_run();
}
