/* Server settings: one INI file (GKeyFile) applied on top of built-in defaults.
 *
 * One table in kt-config.c drives parsing, defaults, validation and the documented sample
 * (kt_settings_describe); configs/ketang.ini is that sample and a unit test keeps them equal
 * in content. Lists are comma-separated ("listen = 0.0.0.0:8443,[::]:8443").
 *
 * Ownership: KtSettings is a plain value struct owned by whoever created it; every string
 * and string vector in it belongs to the struct and is freed by kt_settings_free. A caller
 * may replace a field (e.g. a CLI override), freeing the old value with g_free/g_strfreev,
 * and should then call kt_settings_validate.
 * Threads: any thread, but one KtSettings must not be used from two threads at once; the
 * server loads it on the control loop and hands out read-only views afterwards. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define KT_CONFIG_ERROR (kt_config_error_quark())
GQuark kt_config_error_quark(void);

typedef enum {
	KT_CONFIG_ERROR_PARSE,         /* not INI syntax, or the file cannot be read */
	KT_CONFIG_ERROR_UNKNOWN_GROUP, /* a [group] the table does not know */
	KT_CONFIG_ERROR_UNKNOWN_KEY,   /* a key the table does not know in a known group */
	KT_CONFIG_ERROR_INVALID_VALUE, /* wrong type, out of range, or inconsistent */
} KtConfigError;

/* The kinds of video [media] video_priority puts in order; the names in the file are
 * "courseware", "teacher" and "classroom". */
typedef enum {
	KT_CONFIG_VIDEO_COURSEWARE, /* the teacher's courseware (shared screen) */
	KT_CONFIG_VIDEO_TEACHER,    /* the teacher's camera */
	KT_CONFIG_VIDEO_CLASSROOM,  /* every classroom's camera */
	KT_CONFIG_VIDEO_N,
} KtConfigVideo;

typedef struct {
	/* [server] */
	char **listen;    /* ADDR:PORT list, IPv6 in brackets; default 0.0.0.0:8443, [::]:8443 */
	char *data_dir;   /* default "./data" */
	char *tls_cert;   /* PEM path; "" = self-signed generated into data_dir */
	char *tls_key;    /* PEM path; set together with tls_cert */
	char *web_root;   /* "" = the web/ dir the binary was built from */
	char *public_url; /* "" = derived from the request Host; else http(s)://... */
	gint64 max_body_bytes; /* largest HTTP request body; 1024..1048576, default 65536 */
	gint64 retention_days; /* recordings older than this are deleted; 0 = keep forever */
	/* [auth] */
	char *secret; /* token HMAC key; "" = generated into data_dir/secret; else >= 16 chars */
	gint64 token_ttl; /* seconds; 60..31536000, default 86400 */
	/* [media] */
	gint64 workers;       /* media worker threads; 0 = one per core; 0..64 */
	char **ice_addresses; /* IPs to gather on; empty = all non-loopback interfaces */
	gint64 ice_port_min;  /* UDP port range; both 0 = any, else 1..65535, min <= max */
	gint64 ice_port_max;
	gboolean ice_tcp;    /* also offer ICE-TCP candidates (RFC 6544); default TRUE */
	char *stun_server;   /* "" or HOST:PORT */
	char **video_codecs; /* preference order; values "vp8", "h264"; default vp8, h264 */
	gboolean simulcast;  /* take publishers' simulcast (RFC 8853); default TRUE */
	gint64
	    keyframe_interval_ms;  /* min spacing of keyframe requests per stream; 50..5000, 300 */
	gint64 rtx_cache_ms;       /* how long sent packets stay retransmittable; 100..5000, 1000 */
	gboolean audio_red;        /* negotiate RED (RFC 2198) around Opus; default TRUE */
	gboolean audio_red_add;    /* wrap plain Opus in RED for lossy RED subscribers; TRUE */
	gint64 publisher_max_kbps; /* REMB cap for publishers with goog-remb; 0 = none; 0..100000 */
	gint64 max_playout_delay_ms; /* most playout delay asked of a lossy viewer; 0 = off; 800 */
	/* Per KtConfigVideo, its place in the order: 0 is kept longest on a short link.
	 * Each of 0..KT_CONFIG_VIDEO_N-1 once; default courseware 0, teacher 1, classroom 2. */
	guint video_priority[KT_CONFIG_VIDEO_N];
	/* [lesson] */
	char *
	    teacher_publish_policy; /* "reject" (409 for a second teacher publisher) or "replace" */
	gint64 max_lessons;         /* concurrent lessons; 1..100000, default 100 */
	gint64 max_subscribers;     /* per lesson; 1..100000, default 500 */
	gint64
	    empty_timeout; /* s a lesson stays live after its last participant left; 0..3600, 60 */
	/* [recording] */
	gboolean record;         /* record every live lesson; default TRUE (per lesson: API) */
	gboolean record_program; /* also the program composite; default TRUE */
	gint64 program_width;    /* composite size; 160..3840 x 120..2160, default 1280x720 */
	gint64 program_height;
	gint64 program_fps;  /* 5..60, default 15 */
	gint64 program_kbps; /* H.264 bitrate; 200..20000, default 1500 */
	/* [broadcast] */
	gboolean hls;         /* the program as live HLS; default TRUE */
	gboolean hls_public;  /* no token needed; default FALSE (per lesson: API) */
	gint64 hls_segment_s; /* 1..10, default 2 */
	gint64 hls_window;    /* segments in the playlist; 3..30, default 6 */
	/* [wall] */
	gboolean wall;     /* the teacher may switch to the wall; default TRUE */
	gint64 wall_width; /* picture size; 64..4096 (even), default 960x540 */
	gint64 wall_height;
	gint64 wall_fps;  /* 1..60, default 15 */
	gint64 wall_kbps; /* VP8 bitrate; 50..20000, default 800 */
	/* [mix] */
	gboolean mix;    /* classrooms may ask for one mix-minus audio stream; default TRUE */
	gint64 mix_kbps; /* Opus bitrate of each mix; 8..256, default 32 */
	/* [ingest] */
	gboolean ingest;      /* lessons may pull RTSP/RTMP sources; default TRUE */
	gboolean whip_ladder; /* a WHIP publisher without simulcast goes through the ladder; TRUE */
	char **ingest_ladder; /* 1..4 rungs "WxH@KBPS"; default 1280x720@1200,640x360@500,
	                       * 320x180@150 (kt_settings_parse_rung) */
	/* [limits] (docs/security.md) */
	gint64 max_participants; /* lesson WebSocket participants per lesson; 1..10000, 64 */
	gint64 ws_max_message;   /* bytes; 4096..65536 (the parser's own cap), default 65536 */
	gint64 ws_message_rate;  /* messages/s per socket, token bucket; 0 = none; default 10 */
	gint64 ws_message_burst; /* the bucket's size; default 50 */
	gint64 ws_idle_timeout;  /* s; 10..3600, default 60 */
	gint64 http_rate;        /* requests/s per client address; 0 = none; default 50 */
	gint64 http_burst;       /* default 500 */
	gint64 dtls_handshakes;  /* media sessions connecting at once, server-wide; default 200 */
	gint64 consent_timeout;  /* s without authenticated media before sending stops; 5..30, 10 */
} KtSettings;

/* A new struct holding the built-in defaults; free with kt_settings_free. */
KtSettings *kt_settings_new_default(void);

/* A deep copy of @s; free with kt_settings_free. */
KtSettings *kt_settings_copy(const KtSettings *s);

/* Applies the INI file at @path (or the @len bytes at @data) on top of @s: keys present
 * replace the current values, absent keys keep them. All or nothing: on error @s is left
 * unchanged and @error names the offending "[group] key" and why. */
bool kt_settings_load_file(KtSettings *s, const char *path, GError **error);
bool kt_settings_load_data(KtSettings *s, const char *data, gsize len, GError **error);

/* Checks every field of @s against the table and the cross-field rules (port range,
 * TLS cert/key pair). Loading already does this; call it after changing fields by hand. */
bool kt_settings_validate(const KtSettings *s, GError **error);

void kt_settings_free(KtSettings *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtSettings, kt_settings_free)

/* Splits a listen spec "ADDR:PORT" ("0.0.0.0:8443", "[::]:8443", "localhost:8443") into
 * @host_out (without brackets; caller frees with g_free; may be NULL) and @port_out (may be
 * NULL). ADDR is an IPv4 address, a bracketed IPv6 address or a host name; PORT is 1..65535. */
/* Parses a ladder rung "WxH@KBPS" ([ingest] ladder): W and H even, 64..4096; KBPS
 * 30..20000. */
bool kt_settings_parse_rung(const char *spec, guint *width, guint *height, guint *kbps,
                            GError **error);
bool kt_settings_parse_listen(const char *spec, char **host_out, guint16 *port_out, GError **error);

/* The documented sample INI generated from the table: every group and key with its
 * description, type, range and default, and the default as its value. Caller frees. */
char *kt_settings_describe(void);
