/* An IP camera for the browser tests of lesson sources (issue 6 item 5): serves
 * rtsp://ADDR:PORT/cam, a moving test picture in H.264 with an Opus tone, the
 * way a classroom camera serves it, until SIGTERM or SIGINT.
 *
 *   rtsp-camera [--address 127.0.0.1] [--port 0] [--size 640x360] [--fps 15] [--busy]
 *
 * --busy: a detailed moving picture (a zone plate) that costs every encoder
 * its whole bit rate, where the default bouncing ball costs little.
 *
 * Prints "rtsp-camera: rtsp://ADDR:PORT/cam" once it listens (port 0 = any
 * free port). Test tooling only: nothing of it goes into Ketang. */
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdio.h>
#include <stdlib.h>

static gboolean on_signal(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	g_autofree char *address = g_strdup("127.0.0.1");
	g_autofree char *size = g_strdup("640x360");
	gint port = 0, fps = 15;
	gboolean busy = FALSE;
	guint width = 0, height = 0;
	GOptionEntry entries[] = {
	    {"address", 0, 0, G_OPTION_ARG_STRING, &address, "address to listen on", "ADDR"},
	    {"port", 0, 0, G_OPTION_ARG_INT, &port, "TCP port (0: any free one)", "PORT"},
	    {"size", 0, 0, G_OPTION_ARG_STRING, &size, "picture size", "WxH"},
	    {"fps", 0, 0, G_OPTION_ARG_INT, &fps, "frames per second", "N"},
	    {"busy", 0, 0, G_OPTION_ARG_NONE, &busy, "a picture that is expensive to encode", NULL},
	    {NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- a test RTSP camera");
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autofree char *launch = NULL;
	g_autofree char *service = NULL;
	GstRTSPServer *server;
	GstRTSPMountPoints *mounts;
	GstRTSPMediaFactory *factory;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_add_group(ctx, gst_init_get_option_group());
	if (!g_option_context_parse(ctx, &argc, &argv, &error) ||
	    sscanf(size, "%ux%u", &width, &height) != 2 || fps < 1 || fps > 60) {
		fprintf(stderr, "rtsp-camera: %s\n",
		        error ? error->message : "bad --size or --fps");
		return 2;
	}
	launch = g_strdup_printf(
	    "( videotestsrc is-live=true %s ! "
	    "video/x-raw,width=%u,height=%u,framerate=%d/1"
	    " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d"
	    " ! rtph264pay name=pay0 pt=96 config-interval=-1"
	    " audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=48000,channels=1"
	    " ! opusenc ! rtpopuspay name=pay1 pt=97 )",
	    busy ? "pattern=zone-plate kx2=20 ky2=20 kt=1" : "pattern=ball", width, height, fps,
	    fps * 2);
	loop = g_main_loop_new(NULL, FALSE);
	server = gst_rtsp_server_new();
	service = g_strdup_printf("%d", port);
	gst_rtsp_server_set_address(server, address);
	gst_rtsp_server_set_service(server, service);
	mounts = gst_rtsp_server_get_mount_points(server);
	factory = gst_rtsp_media_factory_new();
	gst_rtsp_media_factory_set_launch(factory, launch);
	gst_rtsp_media_factory_set_shared(factory, TRUE);
	gst_rtsp_mount_points_add_factory(mounts, "/cam", factory);
	g_object_unref(mounts);
	if (gst_rtsp_server_attach(server, NULL) == 0) {
		fprintf(stderr, "rtsp-camera: cannot listen on %s:%d\n", address, port);
		return 1;
	}
	printf("rtsp-camera: rtsp://%s:%d/cam\n", address, gst_rtsp_server_get_bound_port(server));
	fflush(stdout);
	g_unix_signal_add(SIGTERM, on_signal, loop);
	g_unix_signal_add(SIGINT, on_signal, loop);
	g_main_loop_run(loop);
	g_object_unref(server);
	return 0;
}
