/* Operator endpoints: /healthz and /metrics (Prometheus text format 0.0.4). */
#include <stddef.h>
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

/* The room counters /metrics shows: one row per KtRoomCounters field, so a
 * new counter is one line here (and summing over lessons needs no list). */
#define COUNTER(field, name, help)                                                                 \
	{                                                                                          \
		name, "counter", help, offsetof(KtRoomCounters, field)                             \
	}
static const struct {
	const char *name, *type, *help;
	gsize offset; /* of a guint64 in KtRoomCounters */
} counter_rows[] = {
    COUNTER(rtp_in, "ketang_rtp_packets_received_total", "RTP packets from publishers."),
    COUNTER(rtp_out, "ketang_rtp_packets_sent_total", "RTP packets forwarded."),
    COUNTER(bytes_in, "ketang_rtp_bytes_received_total", "RTP bytes from publishers."),
    COUNTER(bytes_out, "ketang_rtp_bytes_sent_total", "RTP bytes forwarded."),
    COUNTER(nacks_received, "ketang_nacks_received_total", "NACK packets from subscribers."),
    COUNTER(retransmissions, "ketang_retransmissions_total", "Packets resent from the cache."),
    COUNTER(keyframe_requests_received, "ketang_keyframe_requests_received_total",
            "PLI/FIR from subscribers."),
    COUNTER(keyframe_requests_sent, "ketang_keyframe_requests_sent_total",
            "Keyframe requests sent to publishers after coalescing."),
    COUNTER(twcc_feedback_sent, "ketang_twcc_feedback_sent_total",
            "Transport-wide congestion control reports sent to publishers."),
    COUNTER(nacks_sent, "ketang_nacks_sent_total",
            "NACK packets sent to publishers for what their uplink lost."),
    COUNTER(retransmissions_skipped, "ketang_retransmissions_skipped_total",
            "NACKed packets not resent: already resent within the subscriber's round trip."),
    COUNTER(retransmissions_missed, "ketang_retransmissions_missed_total",
            "NACKed packets not resent: no longer (or not yet) in the retransmission cache."),
    COUNTER(keyframes_for_missed, "ketang_keyframes_for_missed_total",
            "Keyframes asked for because a subscriber NACKed video the cache no longer held."),
    COUNTER(red_stripped, "ketang_red_stripped_total",
            "Publishers' RED audio packets cut to their Opus frame for receivers without RED."),
    COUNTER(red_recovered, "ketang_red_recovered_total",
            "Audio packets lost on a publisher's uplink rebuilt from RED redundancy."),
    COUNTER(red_dropped, "ketang_red_dropped_total",
            "Publishers' RED audio packets dropped because they do not parse."),
    COUNTER(red_added, "ketang_red_added_total",
            "Opus packets sent wrapped in RED to subscribers reporting loss."),
    COUNTER(twcc_feedback_received, "ketang_twcc_feedback_received_total",
            "Transport-wide congestion control reports from subscribers, for their bandwidth "
            "estimates."),
    COUNTER(probe_packets_sent, "ketang_probe_packets_sent_total",
            "Bandwidth probe packets (RTX resends or padding) sent to subscribers."),
    COUNTER(padding_packets_sent, "ketang_padding_packets_sent_total",
            "Padding sent to subscribers (RTX resends or padding) while a stream waited to go up "
            "a layer or resume: the wait tests the link at that rate."),
    COUNTER(layer_switches, "ketang_layer_switches_total",
            "Simulcast layer switches made for subscribers."),
    COUNTER(video_pauses, "ketang_video_pauses_total",
            "Video streams paused for a subscriber whose link could not carry their lowest layer."),
    COUNTER(publisher_rtx_duplicates, "ketang_publisher_rtx_duplicates_total",
            "Packets from publishers that had already arrived (a browser pads its bandwidth "
            "probes with old packets on RTX): dropped, not forwarded."),
    COUNTER(remb_sent, "ketang_remb_sent_total",
            "REMB packets sent to publishers that took goog-remb: the most they should send."),
};

typedef struct {
	guint64 counters[G_N_ELEMENTS(counter_rows)];
	guint64 publishers, subscribers;
} MetricsSum;

static void add_lesson(KtLesson *lesson, gpointer data)
{
	MetricsSum *m = data;
	KtRoomCounters c;

	kt_room_get_counters(kt_lesson_get_room(lesson), &c);
	for (guint i = 0; i < G_N_ELEMENTS(counter_rows); i++)
		m->counters[i] += G_STRUCT_MEMBER(guint64, &c, counter_rows[i].offset);
	m->publishers += c.publishers;
	m->subscribers += c.subscribers;
}

static void append_metric(GString *out, const char *name, const char *type, const char *help,
                          guint64 value)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %" G_GUINT64_FORMAT "\n", name,
	                       help, name, type, name, value);
}

void kt_ops_metrics(KtHttpRequest *req, gpointer user_data)
{
	KtServer *server = user_data;
	MetricsSum m = {0};
	GString *out = g_string_new(NULL);

	kt_lessons_foreach(server->lessons, add_lesson, &m);
	append_metric(out, "ketang_lessons_live", "gauge", "Lessons currently live.",
	              kt_lessons_count(server->lessons));
	append_metric(out, "ketang_publishers", "gauge", "Connected publisher sessions.",
	              m.publishers);
	append_metric(out, "ketang_subscribers", "gauge", "Subscriber sessions.", m.subscribers);
	append_metric(out, "ketang_sessions_connecting", "gauge",
	              "Media sessions started by clients whose ICE and DTLS are not done yet "
	              "([limits] dtls_handshakes).",
	              kt_peer_gate_get_connecting(server->peer_gate));
	for (guint i = 0; i < G_N_ELEMENTS(counter_rows); i++)
		append_metric(out, counter_rows[i].name, counter_rows[i].type, counter_rows[i].help,
		              m.counters[i]);
	kt_http_request_respond(req, 200, "text/plain; version=0.0.4", NULL, out->str, out->len);
	g_string_free(out, TRUE);
}
