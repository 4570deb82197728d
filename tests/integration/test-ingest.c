/* Ingest (pipelines/kt-ingest.h) from a real RTSP server (libgstrtspserver, in
 * this process, on loopback in the test's namespace) into a room, received by
 * a real subscriber peer (ICE + DTLS + SRTP) that decodes the picture. The
 * camera goes away and comes back: the ingest reports RECONNECTING with a
 * growing delay, then LIVE again, and the subscriber's stream goes on under the
 * same SSRC. A source that cannot connect retries without disturbing another.
 * Bad settings are refused. */
#include <netinet/in.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <gst/app/gstappsink.h>
#include <gst/rtsp-server/rtsp-server.h>

#include "kt-gst.h"
#include "kt-ingest.h"
#include "kt-room.h"
#include "kt-rtp.h"
#include "peer-pair.h"
#include "tmp-dir.h"
#include "vp8-decoder.h"

/* A 640x360 H.264 camera with an Opus microphone, as an IP camera serves it. */
#define CAMERA                                                                                     \
	"( videotestsrc is-live=true pattern=ball"                                                 \
	" ! video/x-raw,width=640,height=360,framerate=25/1"                                       \
	" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25"                        \
	" ! rtph264pay name=pay0 pt=96"                                                            \
	" audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=48000,channels=1"                 \
	" ! opusenc ! rtpopuspay name=pay1 pt=97 )"

/* The subscriber ("browser"). Counters: any thread. */
typedef struct {
	KtPeer *peer;
	Vp8Decoder decoder;
	gint video_packets, audio_packets, frames;
	gint width, height;
	guint32 video_ssrc; /* client worker */
} Receiver;

static void on_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Receiver *r = data;
	KtRtpHeader h;

	if (kt_rtp_parse(buf, len, &h) < 0)
		return;
	if (h.payload_type == 96) {
		r->video_ssrc = h.ssrc;
		vp8_decoder_push(&r->decoder, buf, len);
		g_atomic_int_inc(&r->video_packets);
	} else {
		g_atomic_int_inc(&r->audio_packets);
	}
}

static GstFlowReturn on_frame(GstAppSink *sink, gpointer data)
{
	Receiver *r = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstStructure *st = gst_caps_get_structure(gst_sample_get_caps(sample), 0);

	gst_structure_get_int(st, "width", &r->width);
	gst_structure_get_int(st, "height", &r->height);
	g_atomic_int_inc(&r->frames);
	return GST_FLOW_OK;
}

static gboolean install_receiver(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtp = on_rtp};
	Receiver *r = data;

	kt_peer_set_media_funcs(r->peer, &funcs, r);
	return G_SOURCE_REMOVE;
}

/* What an ingest reported. Control loop (the test thread). */
typedef struct {
	KtIngestState state;
	guint changes, reconnecting;
	guint last_retry_s, max_retry_s;
	char *reason;
} States;

static void on_state(KtIngest *in, KtIngestState state, const char *reason, guint retry_s,
                     gpointer data)
{
	States *s = data;

	s->state = state;
	s->changes++;
	if (state == KT_INGEST_RECONNECTING) {
		s->reconnecting++;
		s->last_retry_s = retry_s;
		s->max_retry_s = MAX(s->max_retry_s, retry_s);
		g_free(s->reason);
		s->reason = g_strdup(reason);
	}
}

/* Runs the control loop (the ingest and the RTSP server live there) until
 * @done(@data), at most @timeout_ms; TRUE if it came. */
static gboolean run_until(gboolean (*done)(gpointer), gpointer data, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!done(data)) {
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		g_main_context_iteration(NULL, FALSE) || (g_usleep(2000), TRUE);
	}
	return TRUE;
}

typedef struct {
	gint *counter;
	gint target;
} Count;

static gboolean count_reached(gpointer data)
{
	Count *c = data;

	return g_atomic_int_get(c->counter) >= c->target;
}

static gboolean frames_rise(Receiver *r, gint more, guint timeout_ms)
{
	Count c = {&r->frames, g_atomic_int_get(&r->frames) + more};

	return run_until(count_reached, &c, timeout_ms);
}

typedef struct {
	States *s;
	KtIngestState state;
	guint reconnecting;
} StateWait;

static gboolean state_reached(gpointer data)
{
	StateWait *w = data;

	return w->s->state == w->state && w->s->reconnecting >= w->reconnecting;
}

static gboolean await_state(States *s, KtIngestState state, guint reconnecting, guint timeout_ms)
{
	StateWait w = {s, state, reconnecting};

	return run_until(state_reached, &w, timeout_ms);
}

static GstRTSPFilterResult drop_client(GstRTSPServer *server, GstRTSPClient *client, gpointer data)
{
	return GST_RTSP_FILTER_REMOVE;
}

typedef struct {
	GstRTSPServer *server;
	GstRTSPMountPoints *mounts;
	guint source;
	char *url;
} Camera;

static void camera_mount(Camera *cam)
{
	GstRTSPMediaFactory *f = gst_rtsp_media_factory_new();

	gst_rtsp_media_factory_set_launch(f, CAMERA);
	gst_rtsp_media_factory_set_shared(f, TRUE);
	gst_rtsp_mount_points_add_factory(cam->mounts, "/cam", f);
}

static void camera_start(Camera *cam)
{
	cam->server = gst_rtsp_server_new();
	gst_rtsp_server_set_address(cam->server, "127.0.0.1");
	gst_rtsp_server_set_service(cam->server, "0");
	cam->mounts = gst_rtsp_server_get_mount_points(cam->server);
	camera_mount(cam);
	cam->source = gst_rtsp_server_attach(cam->server, NULL);
	g_assert_cmpuint(cam->source, >, 0);
	cam->url =
	    g_strdup_printf("rtsp://127.0.0.1:%d/cam", gst_rtsp_server_get_bound_port(cam->server));
}

/* The camera goes away: its mount and every connection. */
static void camera_unplug(Camera *cam)
{
	gst_rtsp_mount_points_remove_factory(cam->mounts, "/cam");
	gst_rtsp_server_client_filter(cam->server, drop_client, NULL);
}

static void camera_stop(Camera *cam)
{
	camera_unplug(cam);
	g_source_remove(cam->source);
	g_object_unref(cam->mounts);
	g_object_unref(cam->server);
	g_free(cam->url);
}

static void test_rtsp_camera(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoomTrack tracks[] = {
	    {.kind = KT_MEDIA_VIDEO,
	     .codec = KT_CODEC_VP8,
	     .pt = 96,
	     .clock_rate = 90000,
	     .pli = TRUE,
	     .nack = TRUE},
	    {.kind = KT_MEDIA_AUDIO, .codec = KT_CODEC_OPUS, .pt = 111, .clock_rate = 48000},
	};
	PeerPair pair = {0};
	Receiver rx = {0};
	Camera cam = {0};
	States states = {0}, bad_states = {0};
	KtRoom *room = kt_room_new(w, &rc);
	guint bad_source = kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL);
	KtIngestConfig cfg = {.on_state = on_state, .user_data = &states, .max_retry_s = 4};
	KtIngestConfig bad = {.url = "rtsp://127.0.0.1:1/nothing",
	                      .video_source = bad_source,
	                      .no_audio = TRUE,
	                      .on_state = on_state,
	                      .user_data = &bad_states};
	KtIngest *in, *nowhere;
	KtIngestStats st;
	guint32 ssrc;

	g_assert_no_error(error);
	peer_pair_connect(&pair, w, kt_worker_pool_get(pool, 1));
	kt_room_add_subscriber(room, pair.server, tracks, G_N_ELEMENTS(tracks));
	rx.peer = pair.client;
	vp8_decoder_start(&rx.decoder, NULL, on_frame, &rx);
	kt_worker_invoke_sync(kt_peer_get_worker(rx.peer), install_receiver, &rx);

	camera_start(&cam);
	cfg.url = cam.url;
	in = kt_ingest_new(room, &cfg, &error);
	g_assert_no_error(error);

	/* The camera's picture, re-encoded, decodes at the subscriber; its sound
	 * arrives too. */
	g_assert_true(frames_rise(&rx, 30, 20000));
	g_assert_cmpint(rx.width, ==, 640);
	g_assert_cmpint(rx.height, ==, 360);
	g_assert_cmpint(g_atomic_int_get(&rx.audio_packets), >, 10);
	g_assert_true(await_state(&states, KT_INGEST_LIVE, 0, 3000));
	ssrc = rx.video_ssrc;
	g_assert_cmphex(ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));

	/* A source that cannot connect keeps trying and disturbs nobody. */
	nowhere = kt_ingest_new(room, &bad, &error);
	g_assert_no_error(error);
	g_assert_true(await_state(&bad_states, KT_INGEST_RECONNECTING, 2, 10000));
	g_assert_nonnull(bad_states.reason);
	g_assert_true(frames_rise(&rx, 25, 5000));

	/* The camera goes away: reconnecting, with delays that grow (1, 2, 4 s,
	 * capped by max_retry_s)... */
	camera_unplug(&cam);
	g_assert_true(await_state(&states, KT_INGEST_RECONNECTING, 3, 30000));
	g_assert_cmpuint(states.max_retry_s, >=, 2);
	g_assert_cmpuint(states.max_retry_s, <=, 4);
	/* ...and comes back: live again, the same stream for the subscriber. */
	camera_mount(&cam);
	g_assert_true(await_state(&states, KT_INGEST_LIVE, 3, 20000));
	g_assert_true(frames_rise(&rx, 30, 10000));
	g_assert_cmphex(rx.video_ssrc, ==, ssrc);
	kt_ingest_get_stats(in, &st);
	g_assert_cmpuint(st.attempts, >=, 4);
	g_assert_cmpuint(st.failures, >=, 3);
	g_assert_cmpuint(st.video_packets, >, 0);
	g_assert_cmpuint(st.audio_packets, >, 0);
	g_assert_cmpint(st.state, ==, KT_INGEST_LIVE);

	kt_ingest_free(nowhere);
	kt_ingest_free(in);
	camera_stop(&cam);
	vp8_decoder_stop(&rx.decoder);
	kt_room_close(room);
	kt_room_unref(room);
	peer_pair_close(&pair);
	g_free(states.reason);
	g_free(bad_states.reason);
}

/* ---- RTMP: an encoder pushes to nginx-rtmp, Ketang pulls from it ---- */

/* An encoder as OBS would be set up: H.264 + AAC in FLV over RTMP. */
#define ENCODER                                                                                    \
	"videotestsrc is-live=true pattern=smpte"                                                  \
	" ! video/x-raw,width=640,height=360,framerate=25/1"                                       \
	" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=50 ! h264parse"            \
	" ! flvmux name=m streamable=true ! rtmp2sink location=%s"                                 \
	" audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! voaacenc ! aacparse ! "  \
	"m."

/* A TCP port free now on loopback (the test's own namespace: nothing else binds). */
static guint free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
	close(fd);
	return ntohs(a.sin_port);
}

static gboolean port_open(gpointer data)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((guint16)GPOINTER_TO_UINT(data)),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	gboolean ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

/* nginx with the RTMP module (Debian's libnginx-mod-rtmp), in the foreground. */
static GPid nginx_start(const char *dir, guint port)
{
	g_autofree char *conf_path = g_build_filename(dir, "nginx.conf", NULL);
	g_autofree char *conf = g_strdup_printf(
	    "load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;\n"
	    "daemon off; master_process off; pid %s/nginx.pid; error_log %s/error.log;\n"
	    "events {}\n"
	    "rtmp { server { listen 127.0.0.1:%u; application live { live on; record off; } } }\n",
	    dir, dir, port);
	const char *argv[] = {"nginx", "-p", dir, "-c", conf_path, "-e", "stderr", NULL};
	g_autoptr(GError) error = NULL;
	GPid pid;

	g_assert_true(g_file_set_contents(conf_path, conf, -1, NULL));
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
	                            &pid, &error));
	g_assert_no_error(error);
	g_assert_true(run_until(port_open, GUINT_TO_POINTER(port), 10000));
	return pid;
}

static GstElement *encoder_start(const char *url)
{
	g_autofree char *desc = g_strdup_printf(ENCODER, url);
	GError *error = NULL;
	GstElement *p = gst_parse_launch(desc, &error);

	g_assert_no_error(error);
	g_assert_cmpint(gst_element_set_state(p, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
	return p;
}

static void encoder_stop(GstElement *p)
{
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(p);
}

/* OBS pushes to an RTMP server; the lesson pulls the stream from there. The
 * encoder stops (the stream ends) and starts again: reconnected. */
static void test_rtmp_encoder(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoomTrack track = {.kind = KT_MEDIA_VIDEO,
	                     .codec = KT_CODEC_VP8,
	                     .pt = 96,
	                     .clock_rate = 90000,
	                     .pli = TRUE,
	                     .nack = TRUE};
	g_autofree char *dir = g_dir_make_tmp("kt-rtmp-XXXXXX", NULL);
	guint port = free_port();
	g_autofree char *url = g_strdup_printf("rtmp://127.0.0.1:%u/live/lesson", port);
	PeerPair pair = {0};
	Receiver rx = {0};
	States states = {0};
	KtRoom *room = kt_room_new(w, &rc);
	KtIngestConfig cfg = {.url = url, .on_state = on_state, .user_data = &states};
	GPid nginx = nginx_start(dir, port);
	GstElement *encoder = encoder_start(url);
	KtIngest *in;

	g_assert_no_error(error);
	peer_pair_connect(&pair, w, kt_worker_pool_get(pool, 1));
	kt_room_add_subscriber(room, pair.server, &track, 1);
	rx.peer = pair.client;
	vp8_decoder_start(&rx.decoder, NULL, on_frame, &rx);
	kt_worker_invoke_sync(kt_peer_get_worker(rx.peer), install_receiver, &rx);

	in = kt_ingest_new(room, &cfg, &error);
	g_assert_no_error(error);
	g_assert_true(frames_rise(&rx, 30, 20000));
	g_assert_cmpint(rx.width, ==, 640);
	g_assert_cmpint(rx.height, ==, 360);
	g_assert_true(await_state(&states, KT_INGEST_LIVE, 0, 3000));

	/* The encoder stops, then starts again. */
	encoder_stop(encoder);
	g_assert_true(await_state(&states, KT_INGEST_RECONNECTING, 1, 30000));
	encoder = encoder_start(url);
	g_assert_true(await_state(&states, KT_INGEST_LIVE, 1, 30000));
	g_assert_true(frames_rise(&rx, 30, 10000));

	kt_ingest_free(in);
	encoder_stop(encoder);
	kill(nginx, SIGTERM);
	waitpid(nginx, NULL, 0);
	g_spawn_close_pid(nginx);
	vp8_decoder_stop(&rx.decoder);
	kt_room_close(room);
	kt_room_unref(room);
	peer_pair_close(&pair);
	g_free(states.reason);
	tmp_dir_remove(dir);
}

static void test_bad_settings(void)
{
	static const char *const urls[] = {NULL,
	                                   "",
	                                   "http://127.0.0.1/cam",
	                                   "file:///etc/passwd",
	                                   "rtsp://",
	                                   "rtsp:///cam",
	                                   "not a url",
	                                   "rtsp://127.0.0.1:99999999/x"};
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtRoomConfig rc = {0};
	KtRoom *room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);

	for (guint i = 0; i < G_N_ELEMENTS(urls); i++) {
		KtIngestConfig c = {.url = urls[i]};

		g_assert_null(kt_ingest_new(room, &c, &error));
		g_assert_error(error, KT_INGEST_ERROR, KT_INGEST_ERROR_INVALID);
		g_clear_error(&error);
	}
	{
		KtIngestConfig c = {.url = "rtsp://127.0.0.1/cam", .max_width = 8};

		g_assert_null(kt_ingest_new(room, &c, &error));
		g_assert_nonnull(strstr(error->message, "max_width"));
	}
	{
		g_autofree char *safe =
		    kt_ingest_safe_url("rtsp://admin:secret@10.0.0.5:554/stream1");

		g_assert_null(strstr(safe, "secret"));
		g_assert_null(strstr(safe, "admin"));
		g_assert_nonnull(strstr(safe, "10.0.0.5:554/stream1"));
	}
	kt_room_close(room);
	kt_room_unref(room);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/ingest/rtsp-camera", test_rtsp_camera);
	g_test_add_func("/ingest/rtmp-encoder", test_rtmp_encoder);
	g_test_add_func("/ingest/bad-settings", test_bad_settings);
	return g_test_run();
}
