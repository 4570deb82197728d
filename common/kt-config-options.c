/* kt-config-options.c — every group and key of the INI file: type, default, range, checks
 * and the line of documentation configs/ketang.ini shows (kt-config-private.h). Adding a
 * key means adding a KtSettings field and one row here; nothing else. */
#include "kt-config-private.h"

static const char *const kt_config_codecs[] = {"vp8", "h264", NULL};
static const char *const kt_config_policies[] = {"reject", "replace", NULL};
static const char *const kt_config_video_kinds[] = {
    [KT_CONFIG_VIDEO_COURSEWARE] = "courseware",
    [KT_CONFIG_VIDEO_TEACHER] = "teacher",
    [KT_CONFIG_VIDEO_CLASSROOM] = "classroom",
    [KT_CONFIG_VIDEO_N] = NULL,
};

const KtOptionGroup kt_config_groups[] = {
    {"server", "HTTPS/WSS front end and storage."},
    {"auth", "Signed, expiring tokens that carry each endpoint's role."},
    {"media", "ICE, RTP and the media worker threads."},
    {"lesson", "Limits and rules for lessons."},
    {"recording", "Recording of live lessons (docs/archivists.md)."},
    {"broadcast", "The lesson program for large passive audiences (docs/operators.md)."},
    {"wall", "The classroom wall: every classroom camera in one picture for the teacher "
             "(docs/teachers.md)."},
    {"mix", "Mix-minus audio for classrooms on weak links (docs/teachers.md)."},
    {"ingest", "Lesson sources that are not browsers: RTSP cameras and RTMP encoders "
               "(docs/operators.md)."},
    {"limits", "What one client, one lesson or the whole server may take, so that a broken or "
               "hostile client costs no one but itself (docs/security.md). [server] "
               "max_body_bytes and [lesson] max_lessons and max_subscribers are limits too."},
};

const KtOption kt_config_options[] = {
    {"server", "listen", KT_OPT_LIST, KT_OFF(listen), .def = "0.0.0.0:8443,[::]:8443",
     .check = kt_config_check_listen, .flags = KT_OPT_NONEMPTY,
     .doc = "Addresses for HTTPS, WSS and WHIP/WHEP: ADDR:PORT, IPv6 in brackets."},
    {"server", "data_dir", KT_OPT_STRING, KT_OFF(data_dir), .def = "./data",
     .flags = KT_OPT_NONEMPTY,
     .doc = "Directory for recordings, the catalog, generated TLS material and the token "
            "secret."},
    {"server", "tls_cert", KT_OPT_STRING, KT_OFF(tls_cert), .def = "",
     .doc = "PEM certificate chain for HTTPS; empty = self-signed, generated into data_dir."},
    {"server", "tls_key", KT_OPT_STRING, KT_OFF(tls_key), .def = "",
     .doc = "PEM private key of tls_cert; set both or neither."},
    {"server", "web_root", KT_OPT_STRING, KT_OFF(web_root), .def = "",
     .doc = "Directory of the web pages; empty = the web/ directory the binary was built "
            "from."},
    {"server", "public_url", KT_OPT_STRING, KT_OFF(public_url), .def = "",
     .check = kt_config_check_url,
     .doc = "Base URL clients reach the server at (http:// or https://), used in lesson join "
            "links; empty = https:// and each request's Host."},
    {"server", "max_body_bytes", KT_OPT_INT, KT_OFF(max_body_bytes), .def_int = 65536, .min = 1024,
     .max = 1048576,
     .doc = "Largest HTTP request body accepted, in bytes (SDP offers, API calls)."},
    {"server", "retention_days", KT_OPT_INT, KT_OFF(retention_days), .def_int = 0, .min = 0,
     .max = 36500,
     .doc = "Recordings (file and catalog row) are deleted this many days after they end, "
            "checked at start and daily; 0 = keep forever."},

    {"auth", "secret", KT_OPT_STRING, KT_OFF(secret), .def = "", .check = kt_config_check_secret,
     .doc = "HMAC key that signs tokens, at least 16 characters; empty = random, kept in "
            "data_dir/secret."},
    {"auth", "token_ttl", KT_OPT_INT, KT_OFF(token_ttl), .def_int = 86400, .min = 60,
     .max = 31536000, .doc = "Lifetime of minted tokens, in seconds."},

    {"media", "workers", KT_OPT_INT, KT_OFF(workers), .def_int = 0, .min = 0, .max = 64,
     .doc = "Media worker threads; 0 = one per CPU core."},
    {"media", "ice_addresses", KT_OPT_LIST, KT_OFF(ice_addresses), .def = "",
     .check = kt_config_check_ip,
     .doc = "Local IP addresses to gather ICE candidates on; empty = every non-loopback "
            "interface."},
    {"media", "ice_port_min", KT_OPT_INT, KT_OFF(ice_port_min), .def_int = 0, .min = 0,
     .max = 65535, .doc = "Lowest local port for ICE; 0 (with ice_port_max = 0) = any port."},
    {"media", "ice_port_max", KT_OPT_INT, KT_OFF(ice_port_max), .def_int = 0, .min = 0,
     .max = 65535, .doc = "Highest local port for ICE, inclusive; >= ice_port_min."},
    {"media", "ice_tcp", KT_OPT_BOOL, KT_OFF(ice_tcp), .def_int = TRUE,
     .doc = "Also offer ICE-TCP candidates (RFC 6544), for networks that block UDP."},
    {"media", "stun_server", KT_OPT_STRING, KT_OFF(stun_server), .def = "",
     .check = kt_config_check_listen,
     .doc = "STUN server HOST:PORT, to learn the public address behind NAT; empty = none."},
    {"media", "video_codecs", KT_OPT_LIST, KT_OFF(video_codecs), .def = "vp8,h264",
     .choices = kt_config_codecs, .flags = KT_OPT_NONEMPTY,
     .doc = "Video codecs to negotiate, most preferred first."},
    {"media", "simulcast", KT_OPT_BOOL, KT_OFF(simulcast), .def_int = TRUE,
     .doc = "Receive browsers' simulcast (several sizes of one camera) and give each "
            "subscriber the layer its link carries; false = publishers send one stream."},
    {"media", "keyframe_interval_ms", KT_OPT_INT, KT_OFF(keyframe_interval_ms), .def_int = 300,
     .min = 50, .max = 5000,
     .doc = "Least time between keyframe requests (PLI/FIR) for one stream, in ms."},
    {"media", "rtx_cache_ms", KT_OPT_INT, KT_OFF(rtx_cache_ms), .def_int = 1000, .min = 100,
     .max = 5000, .doc = "How long sent packets stay available for retransmission, in ms."},
    {"media", "audio_red", KT_OPT_BOOL, KT_OFF(audio_red), .def_int = TRUE,
     .doc = "Redundant audio (RED, RFC 2198): publishers that offer it send each Opus frame "
            "again in the next packet, so a lost packet costs no sound; subscribers that offer "
            "it get it as sent, the others get plain Opus with what the publisher's uplink lost "
            "rebuilt. false = plain Opus only, both ways."},
    {"media", "audio_red_add", KT_OPT_BOOL, KT_OFF(audio_red_add), .def_int = TRUE,
     .doc = "Audio from a publisher that sends plain Opus reaches a subscriber that took RED "
            "and reports more than 5 % loss wrapped in RED with the previous frame (two past "
            "15 %). Needs audio_red."},
    {"media", "publisher_max_kbps", KT_OPT_INT, KT_OFF(publisher_max_kbps), .def_int = 2500,
     .min = 0, .max = 100000,
     .doc = "Most a publisher is asked to send, in kbit/s, when its browser takes REMB "
            "(goog-remb): the REMB Ketang sends it never says more, nor (for a camera sent "
            "without simulcast) more than the best-connected receiver's estimate. 0 = no cap."},
    {"media", "max_playout_delay_ms", KT_OPT_INT, KT_OFF(max_playout_delay_ms), .def_int = 800,
     .min = 0, .max = 5000,
     .doc = "Most playout delay, in ms, Ketang asks of a lossy viewer's browser (the "
            "playout-delay extension), so that retransmissions arrive before a frame is due "
            "instead of freezing the picture: up to a round trip plus 100 ms per further retry "
            "as its loss grows past 0.5 %; nothing on a clean link. It is latency for a "
            "classroom that talks back. 0 = never ask."},
    {"media", "video_priority", KT_OPT_ORDER, KT_OFF(video_priority),
     .def = "courseware,teacher,classroom", .choices = kt_config_video_kinds,
     .doc = "When a subscriber's link (a weak classroom uplink) cannot carry every video, the "
            "order they are kept in, highest first: the last kinds are paused first, the first "
            "kept longest. Audio is always kept before any video."},

    {"lesson", "teacher_publish_policy", KT_OPT_STRING, KT_OFF(teacher_publish_policy),
     .def = "reject", .choices = kt_config_policies, .flags = KT_OPT_NONEMPTY,
     .doc = "A second teacher publisher in a lesson: reject it (HTTP 409) or replace the "
            "first."},
    {"lesson", "max_lessons", KT_OPT_INT, KT_OFF(max_lessons), .def_int = 100, .min = 1,
     .max = 100000, .doc = "Most lessons live at the same time."},
    {"lesson", "max_subscribers", KT_OPT_INT, KT_OFF(max_subscribers), .def_int = 500, .min = 1,
     .max = 100000, .doc = "Most receiving endpoints in one lesson."},
    {"lesson", "empty_timeout", KT_OPT_INT, KT_OFF(empty_timeout), .def_int = 60, .min = 0,
     .max = 3600,
     .doc = "When the last participant leaves a lesson (a shared school uplink fails and takes the "
            "teacher and every classroom with it), the lesson stays live this many seconds: "
            "whoever comes back continues the same room and the same recordings. 0 = end at once. "
            "A lesson the teacher ends ends at once."},

    {"recording", "enabled", KT_OPT_BOOL, KT_OFF(record), .def_int = TRUE,
     .doc = "Record every live lesson into data_dir/recordings (a lesson scheduled with "
            "\"record\": false is not recorded either way)."},
    {"recording", "program", KT_OPT_BOOL, KT_OFF(record_program), .def_int = TRUE,
     .doc = "Besides each published stream on its own, record the program: one composite "
            "of courseware, teacher camera and the on-stage classroom (H.264 + AAC, MP4)."},
    {"recording", "program_width", KT_OPT_INT, KT_OFF(program_width), .def_int = 1280, .min = 160,
     .max = 3840, .doc = "Width of the program composite, in pixels (even)."},
    {"recording", "program_height", KT_OPT_INT, KT_OFF(program_height), .def_int = 720, .min = 120,
     .max = 2160, .doc = "Height of the program composite, in pixels (even)."},
    {"recording", "program_fps", KT_OPT_INT, KT_OFF(program_fps), .def_int = 15, .min = 5,
     .max = 60, .doc = "Frame rate of the program composite."},
    {"recording", "program_kbps", KT_OPT_INT, KT_OFF(program_kbps), .def_int = 1500, .min = 200,
     .max = 20000, .doc = "Video bitrate of the program composite, in kbit/s."},

    {"broadcast", "hls", KT_OPT_BOOL, KT_OFF(hls), .def_int = TRUE,
     .doc = "Broadcast every live lesson's program (the composite above, encoded once for "
            "the recording and the broadcast) as HLS at /live/LESSON/index.m3u8, played by "
            "/watch. Segments live in data_dir/live/LESSON only while the lesson does."},
    {"broadcast", "public", KT_OPT_BOOL, KT_OFF(hls_public), .def_int = FALSE,
     .doc = "Anyone may watch the HLS broadcast without a token. Otherwise any token of the "
            "lesson (teacher, classroom, observer) as ?token= is needed, unless the lesson "
            "was scheduled with \"broadcast_public\": true."},
    {"broadcast", "segment_seconds", KT_OPT_INT, KT_OFF(hls_segment_s), .def_int = 2, .min = 1,
     .max = 10,
     .doc = "Length of an HLS segment; also the program's keyframe interval. Viewers are "
            "about three segments behind the lesson."},
    {"broadcast", "window", KT_OPT_INT, KT_OFF(hls_window), .def_int = 6, .min = 3, .max = 30,
     .doc = "Segments listed in the live playlist (a sliding window; older ones are deleted)."},

    {"wall", "enabled", KT_OPT_BOOL, KT_OFF(wall), .def_int = TRUE,
     .doc = "Let the teacher switch to the wall: one VP8 picture of every classroom camera "
            "(one stream to decode instead of one per classroom), made while a teacher "
            "watches it."},
    {"wall", "width", KT_OPT_INT, KT_OFF(wall_width), .def_int = 960, .min = 64, .max = 4096,
     .doc = "Width of the wall picture, in pixels (even)."},
    {"wall", "height", KT_OPT_INT, KT_OFF(wall_height), .def_int = 540, .min = 64, .max = 4096,
     .doc = "Height of the wall picture, in pixels (even)."},
    {"wall", "fps", KT_OPT_INT, KT_OFF(wall_fps), .def_int = 15, .min = 1, .max = 60,
     .doc = "Frame rate of the wall."},
    {"wall", "kbps", KT_OPT_INT, KT_OFF(wall_kbps), .def_int = 800, .min = 50, .max = 20000,
     .doc = "Video bitrate of the wall, in kbit/s."},

    {"mix", "enabled", KT_OPT_BOOL, KT_OFF(mix), .def_int = TRUE,
     .doc = "A classroom may ask for one mixed audio stream (the teacher, the on-stage "
            "classroom and every unmuted classroom, without its own voice) instead of one "
            "track per speaker: less to receive on a weak link, ~150 ms more delay."},
    {"mix", "kbps", KT_OPT_INT, KT_OFF(mix_kbps), .def_int = 32, .min = 8, .max = 256,
     .doc = "Opus bitrate of each classroom's mix, in kbit/s."},

    {"ingest", "enabled", KT_OPT_BOOL, KT_OFF(ingest), .def_int = TRUE,
     .doc = "Pull the lesson's RTSP and RTMP sources (POST /api/lessons \"sources\") while "
            "it is live; false = scheduled sources are ignored."},
    {"ingest", "whip_ladder", KT_OPT_BOOL, KT_OFF(whip_ladder), .def_int = TRUE,
     .doc = "A WHIP publisher that sends one video stream (OBS, a browser without simulcast) "
            "is transcoded into the ladder below too, so weak links get a small size; false "
            "= forwarded as it comes. Needs enabled = true."},
    {"ingest", "ladder", KT_OPT_LIST, KT_OFF(ingest_ladder),
     .def = "1280x720@1200,640x360@500,320x180@150", .max = 4, .check = kt_config_check_rung,
     .flags = KT_OPT_NONEMPTY,
     .doc = "A source's video is sent in these sizes (WxH@kbit/s, 1 to 4), each subscriber "
            "getting the one its link carries, like a browser's simulcast. Sizes above the "
            "source's own are skipped."},
    {"limits", "max_participants", KT_OPT_INT, KT_OFF(max_participants), .def_int = 64, .min = 1,
     .max = 10000,
     .doc = "Most participants on a lesson's WebSocket at once (teacher, classrooms, observers); "
            "one more is refused with error \"lesson-full\"."},
    {"limits", "ws_max_message", KT_OPT_INT, KT_OFF(ws_max_message), .def_int = 65536, .min = 4096,
     .max = 65536,
     .doc = "Largest lesson WebSocket message, in bytes; a bigger one is read, dropped and "
            "answered with error \"too-large\"."},
    {"limits", "ws_message_rate", KT_OPT_INT, KT_OFF(ws_message_rate), .def_int = 10, .min = 0,
     .max = 10000,
     .doc = "Messages per second one lesson WebSocket may send, on average (a token bucket of "
            "ws_message_burst); more are dropped with one error \"rate-limited\", and a socket "
            "that sends another ws_message_burst while refused is closed (1008). 0 = no limit."},
    {"limits", "ws_message_burst", KT_OPT_INT, KT_OFF(ws_message_burst), .def_int = 50, .min = 1,
     .max = 100000,
     .doc = "Messages a lesson WebSocket may send at once (a page joining sends its offers and "
            "ICE candidates together)."},
    {"limits", "ws_idle_timeout", KT_OPT_INT, KT_OFF(ws_idle_timeout), .def_int = 60, .min = 10,
     .max = 3600,
     .doc = "A lesson WebSocket silent this many seconds is closed. Browsers answer the pings "
            "Ketang sends after 20 s of silence, so only a dead or hostile peer stays silent."},
    {"limits", "http_rate", KT_OPT_INT, KT_OFF(http_rate), .def_int = 50, .min = 0, .max = 100000,
     .doc = "HTTP requests (pages, API, WHIP/WHEP) per second from one client address, on "
            "average (a token bucket of http_burst); more get 429 with Retry-After. A school's "
            "classrooms may share one address: leave room for all of them. 0 = no limit."},
    {"limits", "http_burst", KT_OPT_INT, KT_OFF(http_burst), .def_int = 500, .min = 1,
     .max = 1000000, .doc = "HTTP requests one client address may send at once."},
    {"limits", "dtls_handshakes", KT_OPT_INT, KT_OFF(dtls_handshakes), .def_int = 200, .min = 1,
     .max = 100000,
     .doc = "Media sessions that may be connecting (ICE and DTLS not yet done) at once on the "
            "server; one more is refused (HTTP 503 with Retry-After, or error \"busy\" on the "
            "WebSocket), so a flood of offers cannot tie up the media workers."},
    {"limits", "consent_timeout", KT_OPT_INT, KT_OFF(consent_timeout), .def_int = 10, .min = 5,
     .max = 30,
     .doc = "ICE consent freshness (RFC 7675): media to a peer stops when nothing authenticated "
            "came from it for this many seconds (30 at most, as the RFC says). Sooner than 30 "
            "frees a page's old session before the page, back on the network, rejoins."},
};

const gsize kt_config_n_groups = G_N_ELEMENTS(kt_config_groups);
const gsize kt_config_n_options = G_N_ELEMENTS(kt_config_options);
