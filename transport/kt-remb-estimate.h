/* Receive-side bandwidth estimate of one publisher's uplink, for the REMB
 * (draft-alvestrand-rmcat-remb) Ketang sends it: libwebrtc's
 * RemoteBitrateEstimatorAbsSendTime idea. Every packet carries the sender's
 * clock in the abs-send-time header extension (24 bits, 6.18 fixed point
 * seconds, wrapping every 64 s); its send time and our arrival time go into
 * the same delay-based controller as the send-side estimator (kt-bwe-delay.c,
 * draft-ietf-rmcat-gcc-02 §5: 5 ms packet groups, trendline, over-use
 * detector), and its AIMD rate control (gcc-02 §5.5) runs against the
 * incoming bitrate measured over the last second instead of an acknowledged
 * one.
 *
 * The estimate is unknown (0) until a packet with a well-formed extension has
 * come and the incoming rate has been measured for KT_REMB_ESTIMATE_INIT_US;
 * it then starts at the larger of the incoming rate and 300 kbit/s (the
 * start bitrate of a browser's own estimator, so the first REMB never holds
 * it below where it starts by itself).
 *
 * Ownership: kt_remb_estimate_new() allocates everything the estimate ever
 * uses; kt_remb_estimate_free() frees it. Nothing else allocates or logs:
 * the estimate sits on the packet path.
 *
 * Threads: one estimate is used from one thread (its publisher's media
 * worker); no locking. Times are that thread's monotonic clock in µs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 8285 element length of abs-send-time: 3 bytes. */
#define KT_REMB_ABS_SEND_TIME_LEN 3
/* How long the incoming rate is measured before the estimate is known. */
#define KT_REMB_ESTIMATE_INIT_US (G_USEC_PER_SEC)

typedef struct _KtRembEstimate KtRembEstimate;

/* Bounds of the estimate in bit/s; 0 = the default (30 kbit/s, 100 Mbit/s).
 * Any thread; the estimate then belongs to the thread that uses it. */
KtRembEstimate *kt_remb_estimate_new(guint32 min_bps, guint32 max_bps);
void kt_remb_estimate_free(KtRembEstimate *e);

/* One RTP packet of the publisher, @size bytes (header and payload), arrived
 * at @arrival_us, in arrival order. @ext: its abs-send-time element and
 * @ext_len the element's length as kt_rtp_find_extension() returned it (NULL
 * / negative when the packet has none). Every packet counts for the incoming
 * rate; only one with a 3-byte element feeds the delay detector: a malformed
 * one is ignored, and the result is FALSE. */
gboolean kt_remb_estimate_on_packet(KtRembEstimate *e, gint64 arrival_us, guint size,
                                    const guint8 *ext, int ext_len);

/* Moves the estimate by the detector's state (call it every few tens of ms;
 * a decrease waits at least 200 ms for the previous one to show). Returns
 * the estimate in bit/s, 0 while unknown. */
guint32 kt_remb_estimate_update(KtRembEstimate *e, gint64 now_us);

/* The rate packets arrived at over the last second (less until a second has
 * passed since the first), bit/s; 0 = none. */
guint32 kt_remb_estimate_incoming_bps(const KtRembEstimate *e, gint64 now_us);

G_END_DECLS
