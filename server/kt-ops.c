/* Operator endpoints: /healthz and /metrics (Prometheus text format 0.0.4). */
#include "kt-server-private.h"

static void kt_ops_json_ok(KtHttpRequest *req, KtServer *server)
{
	json_t *body = json_pack(
	    "{s:s, s:s, s:I, s:i}", "status", "ok", "version", KT_VERSION, "uptime_seconds",
	    (json_int_t)((g_get_monotonic_time() - server->started_at) / G_USEC_PER_SEC), "lessons",
	    (int)kt_lessons_count(server->lessons));

	kt_http_request_respond_json(req, 200, body);
	json_decref(body);
}

void kt_ops_healthz(KtHttpRequest *req, gpointer user_data)
{
	kt_ops_json_ok(req, user_data);
}

typedef struct {
	KtRoomCounters sum;
} MetricsSum;

static void add_lesson(KtLesson *lesson, gpointer data)
{
	MetricsSum *m = data;
	KtRoomCounters c;

	kt_room_get_counters(kt_lesson_get_room(lesson), &c);
	m->sum.rtp_in += c.rtp_in;
	m->sum.rtp_out += c.rtp_out;
	m->sum.bytes_in += c.bytes_in;
	m->sum.bytes_out += c.bytes_out;
	m->sum.nacks_received += c.nacks_received;
	m->sum.retransmissions += c.retransmissions;
	m->sum.keyframe_requests_received += c.keyframe_requests_received;
	m->sum.keyframe_requests_sent += c.keyframe_requests_sent;
	m->sum.twcc_feedback_sent += c.twcc_feedback_sent;
	m->sum.nacks_sent += c.nacks_sent;
	m->sum.layer_switches += c.layer_switches;
	m->sum.video_pauses += c.video_pauses;
	m->sum.publishers += c.publishers;
	m->sum.subscribers += c.subscribers;
}

void kt_ops_metrics(KtHttpRequest *req, gpointer user_data)
{
	KtServer *server = user_data;
	MetricsSum m = {0};
	GString *out = g_string_new(NULL);
	const struct {
		const char *name, *type, *help;
		guint64 value;
	} rows[] = {
	    {"ketang_lessons_live", "gauge", "Lessons currently live.",
	     kt_lessons_count(server->lessons)},
	    {"ketang_publishers", "gauge", "Connected publisher sessions.", 0},
	    {"ketang_subscribers", "gauge", "Subscriber sessions.", 0},
	    {"ketang_rtp_packets_received_total", "counter", "RTP packets from publishers.", 0},
	    {"ketang_rtp_packets_sent_total", "counter", "RTP packets forwarded.", 0},
	    {"ketang_rtp_bytes_received_total", "counter", "RTP bytes from publishers.", 0},
	    {"ketang_rtp_bytes_sent_total", "counter", "RTP bytes forwarded.", 0},
	    {"ketang_nacks_received_total", "counter", "NACK packets from subscribers.", 0},
	    {"ketang_retransmissions_total", "counter", "Packets resent from the cache.", 0},
	    {"ketang_keyframe_requests_received_total", "counter", "PLI/FIR from subscribers.", 0},
	    {"ketang_keyframe_requests_sent_total", "counter",
	     "Keyframe requests sent to publishers after coalescing.", 0},
	    {"ketang_twcc_feedback_sent_total", "counter",
	     "Transport-wide congestion control reports sent to publishers.", 0},
	    {"ketang_nacks_sent_total", "counter",
	     "NACK packets sent to publishers for what their uplink lost.", 0},
	    {"ketang_layer_switches_total", "counter",
	     "Simulcast layer switches made for subscribers.", 0},
	    {"ketang_video_pauses_total", "counter",
	     "Subscribers whose estimate fell below the lowest simulcast layer: video paused.", 0},
	};
	guint64 values[G_N_ELEMENTS(rows)];

	kt_lessons_foreach(server->lessons, add_lesson, &m);
	values[0] = rows[0].value;
	values[1] = m.sum.publishers;
	values[2] = m.sum.subscribers;
	values[3] = m.sum.rtp_in;
	values[4] = m.sum.rtp_out;
	values[5] = m.sum.bytes_in;
	values[6] = m.sum.bytes_out;
	values[7] = m.sum.nacks_received;
	values[8] = m.sum.retransmissions;
	values[9] = m.sum.keyframe_requests_received;
	values[10] = m.sum.keyframe_requests_sent;
	values[11] = m.sum.twcc_feedback_sent;
	values[12] = m.sum.nacks_sent;
	values[13] = m.sum.layer_switches;
	values[14] = m.sum.video_pauses;
	for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
		g_string_append_printf(
		    out, "# HELP %s %s\n# TYPE %s %s\n%s %" G_GUINT64_FORMAT "\n", rows[i].name,
		    rows[i].help, rows[i].name, rows[i].type, rows[i].name, values[i]);
	kt_http_request_respond(req, 200, "text/plain; version=0.0.4", NULL, out->str, out->len);
	g_string_free(out, TRUE);
}
