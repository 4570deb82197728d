/* A room: the SFU core of one lesson. It forwards RTP from publishers to
 * subscribers without decoding, rewrites SSRC/sequence/timestamp so every
 * subscriber sees one consistent stream per source even when a publisher
 * reconnects, answers NACKs from a retransmission cache (RTX when the
 * subscriber negotiated it), coalesces keyframe requests, forwards sender
 * reports and sends receiver reports to publishers. For each subscriber that
 * negotiated transport-wide congestion control it numbers what it sends and
 * estimates from the subscriber's feedback how fast it may send to it,
 * probing for more while the subscriber should get more (kt-room-bwe.c).
 *
 * Threads: a room is pinned to one media worker; all packet work happens
 * there. The kt_room_* functions below are called from the control loop
 * unless stated otherwise; they hand the work to the worker.
 *
 * Ownership: refcounted; kt_room_close() detaches every peer and stops the
 * room's timer, after which the last kt_room_unref() frees it.
 */
#pragma once

#include <glib.h>

#include "kt-media.h"
#include "kt-peer.h"
#include "kt-worker.h"

G_BEGIN_DECLS

typedef struct _KtRoom KtRoom;

#define KT_ROOM_MAX_LAYERS 4 /* simulcast layers of one publisher track */
#define KT_ROOM_RID_LEN 17   /* a rid and its NUL */

typedef struct {
	guint keyframe_interval_ms; /* min spacing of keyframe requests per source */
	guint rtx_cache_ms;         /* how long sent packets stay resendable */
	/* Wrap a plain Opus source in RED (RFC 2198) for subscribers that took
	 * RED and report more than 5 % loss ([media] audio_red_add). */
	gboolean red_add;
	/* Most a publisher that took goog-remb is asked to send, kbit/s, in its
	 * REMB ([media] publisher_max_kbps); 0 = no cap. */
	guint publisher_max_kbps;
	/* Most playout delay asked of a lossy subscriber's video, ms ([media]
	 * max_playout_delay_ms, kt-playout.h); 0 = never ask. */
	guint max_playout_delay_ms;
} KtRoomConfig;

/* One negotiated m-line of a peer, as the room needs it. */
typedef struct {
	guint source; /* the room source it publishes or receives; 0 = the default
	               * (teacher) source of its kind */
	KtMediaKind kind;
	KtCodec codec;
	guint8 pt, rtx_pt; /* the peer's payload types; rtx_pt 0 = no RTX */
	guint clock_rate;
	guint32 remote_ssrc, remote_rtx_ssrc; /* publishers: from SDP, 0 = learn */
	guint8 mid_ext_id;                    /* publishers: RFC 8843 MID extension id */
	/* Transport-wide sequence extension id; 0 = no TWCC. Publishers: Ketang sends
	 * feedback. Subscribers (the line also negotiated transport-cc feedback):
	 * Ketang numbers what it sends and estimates the bandwidth. */
	guint8 twcc_ext_id;
	/* Publishers: the line took goog-remb: Ketang sends the publisher REMB
	 * (kt-room-remb.c), estimated from abs-send-time (extension id; 0 = none:
	 * the REMB then carries only the caps). */
	gboolean remb;
	guint8 abs_send_time_ext_id;
	/* Subscribers' video: the playout-delay extension id (0 = not negotiated): Ketang
	 * asks a lossy receiver to buffer long enough for retransmissions (kt-playout.h). */
	guint8 playout_delay_ext_id;
	char mid[32];
	gboolean nack, pli, fir;
	/* Subscribers: the payload types (and RTX payload types) the peer
	 * accepted for each codec, 0 = not accepted; the room sends whichever
	 * codec the current publisher uses. Filled from pt/rtx_pt when empty.
	 * Both: pt_for[KT_CODEC_RED] is the peer's RED (RFC 2198) payload type
	 * around its Opus, 0 = none (kt-room-red.c). */
	guint8 pt_for[KT_CODEC_N], rtx_pt_for[KT_CODEC_N];
	/* Publishers: a simulcast video line (RFC 8853), n_rids >= 2: its layers' rids (any
	 * order; the room ranks the layers by what they carry) and the header extensions
	 * that name a packet's layer (RFC 8852; rrid: of RTX packets). */
	guint n_rids;
	char rids[KT_ROOM_MAX_LAYERS][KT_ROOM_RID_LEN];
	guint8 rid_ext_id, rrid_ext_id;
} KtRoomTrack;

/* Counters for metrics; a snapshot read with atomics. */
typedef struct {
	guint64 rtp_in, rtp_out, bytes_in, bytes_out;
	guint64 nacks_received, retransmissions, keyframe_requests_received, keyframe_requests_sent;
	guint64 twcc_feedback_sent;      /* TWCC reports to publishers */
	guint64 nacks_sent;              /* NACK packets to publishers for uplink loss */
	guint64 retransmissions_skipped; /* repeated NACKs within a round trip */
	guint64 retransmissions_missed;  /* NACKed packets the cache did not hold */
	guint64 keyframes_for_missed;    /* keyframes asked for because a NACKed packet was gone */
	/* RED (RFC 2198) around Opus, kt-room-red.c: publisher packets stripped
	 * to their primary Opus frame (once per packet, for the subscribers and
	 * recorders without RED), lost packets rebuilt from redundancy, RED
	 * packets dropped as unparsable, and RED packets Ketang made for lossy
	 * subscribers of a plain Opus source (per send). */
	guint64 red_stripped, red_recovered, red_dropped, red_added;
	guint64 twcc_feedback_received; /* TWCC reports from subscribers, parsed */
	guint64 probe_packets_sent;     /* bandwidth probes to subscribers (RTX or padding) */
	/* padding (RTX or padding-only) to subscribers while a stream waits to go up */
	guint64 padding_packets_sent;
	guint64 layer_switches; /* simulcast: a subscriber moved to another layer */
	/* a subscriber's video stream paused: its share of the estimate fell below
	 * the lowest simulcast layer, or below a single-layer stream's bitrate */
	guint64 video_pauses;
	guint64 remb_sent; /* REMB to publishers that took goog-remb (kt-room-remb.c) */
	/* publisher packets (RTX or not) that had already arrived: their probes' padding,
	 * repeated answers, network duplicates; dropped */
	guint64 publisher_rtx_duplicates;
	guint publishers, subscribers;
} KtRoomCounters;

KtRoom *kt_room_new(KtWorker *worker, const KtRoomConfig *config);
KtRoom *kt_room_ref(KtRoom *room);
void kt_room_unref(KtRoom *room);
void kt_room_close(KtRoom *room);
KtWorker *kt_room_get_worker(KtRoom *room);

/* Sources are the streams the room forwards (a teacher's camera, courseware,
 * audio; a classroom's camera and audio). Each has Ketang's own SSRCs, stable
 * for the life of the room whoever publishes it, so subscribers see one
 * consistent stream. Every room starts with one default source per kind
 * (the teacher streams of WHIP/WHEP). */

/* The default sources and their SSRCs. Any thread. */
guint kt_room_get_default_source(KtRoom *room, KtMediaKind kind);
guint32 kt_room_get_ssrc(KtRoom *room, KtMediaKind kind);
guint32 kt_room_get_rtx_ssrc(KtRoom *room, KtMediaKind kind);

/* A new source; returns its id (> 0) and Ketang's SSRCs for it at once. */
guint kt_room_add_source(KtRoom *room, KtMediaKind kind, guint32 *ssrc, guint32 *rtx_ssrc);
/* Unbinds its publisher and subscribers and frees it. */
void kt_room_remove_source(KtRoom *room, guint source);
/* A muted source is not forwarded (floor control); publishing continues. */
void kt_room_set_source_muted(KtRoom *room, guint source, gboolean muted);
/* When a subscriber's link is short, video sources are served lowest
 * @priority first (audio always before them); equal ones in subscription
 * order. Default 0. */
void kt_room_set_source_priority(KtRoom *room, guint source, guint priority);

/* Attach @peer as a publisher of the tracks' sources: a source has one
 * publisher; a new one takes the source over from the previous (whose
 * packets for it are then dropped). The room takes a reference.
 * Called again for an attached @peer (a renegotiation: a track added, stopped
 * or started again), its tracks are replaced, and an m-line (by mid) and each
 * of its simulcast layers (by rid) go on with the SSRCs the room learned for
 * them: browsers put the MID and rid header extensions only on packets sent
 * before our receiver reports acknowledge the SSRC. Removing the peer first
 * would forget them. */
void kt_room_add_publisher(KtRoom *room, KtPeer *peer, const KtRoomTrack *tracks, guint n);
/* Subscribe @peer to the tracks' sources (adding to what it already gets). */
void kt_room_add_subscriber(KtRoom *room, KtPeer *peer, const KtRoomTrack *tracks, guint n);
void kt_room_unsubscribe(KtRoom *room, KtPeer *peer, guint source);
void kt_room_remove_peer(KtRoom *room, KtPeer *peer);

void kt_room_get_counters(KtRoom *room, KtRoomCounters *out);

/* Control loop; for tests and benches. Pins the bandwidth estimate for what @peer (a
 * subscriber) receives, in bit/s, in place of its transport-cc estimate from then on;
 * 0 = unknown (its simulcast layers then follow its receiver reports' loss). The
 * estimate is split by priority (kt-room-alloc.c) among the peer's streams. */
void kt_room_set_subscriber_estimate(KtRoom *room, KtPeer *peer, gint64 bps);

/* Taps: a consumer (a recorder) gets every packet of one source as the room
 * forwards it — Ketang's SSRC, continuous sequence numbers and timestamps
 * across publisher changes, no header extensions — called on the media
 * worker with a buffer it must copy and not keep. @codec says how to read
 * the payload (it changes when a publisher with another codec takes over). */
typedef void (*KtRoomTapFunc)(const guint8 *rtp, gsize len, KtCodec codec, gpointer user_data);
/* Control loop. Returns the tap id; @notify runs on the worker once the tap
 * is removed (or the room closes), after the last call. */
guint kt_room_add_tap(KtRoom *room, guint source, KtRoomTapFunc func, gpointer user_data,
                      GDestroyNotify notify);
void kt_room_remove_tap(KtRoom *room, guint tap);
/* Control loop. Ask the source's publisher for a keyframe (coalesced like
 * subscribers' requests), e.g. when a recorder starts or lost data. */
void kt_room_request_source_keyframe(KtRoom *room, guint source);

/* Feeds: streams made inside Ketang (a GStreamer pipeline's RTP output, through
 * pipelines/kt-rtp-out.h) published into a source the way a peer publishes
 * one. A feed takes the source over from its publisher or previous feed (and a
 * publisher attached later takes it back); its packets are rewritten onto
 * the source's SSRC and timeline, cached for NACKs, forwarded and tapped like
 * any other, and the room sends subscribers sender reports for it.
 *
 * Layered feeds (the transcoding ladder, pipelines/kt-ladder.h): a video feed
 * with n_layers >= 2 publishes one layer of a simulcast source, and n_layers
 * feeds of one source together make it simulcast exactly like a browser's
 * rids: each layer is a layer Source of the room (kt-room-simulcast.c), ranked
 * by what it carries (VP8 keyframe size, else measured bitrate), not by its
 * index; every receiver gets one layer, chosen from its bandwidth estimate and
 * switched at that layer's keyframes, with its sequence, timeline and VP8
 * PictureID/TL0PICIDX running on; below the lowest layer its video pauses; taps
 * get the top layer. A keyframe request for a layer goes to that layer's feed's
 * on_keyframe. The first layered feed (or one with another n_layers) takes the
 * source over from its publisher or plain feed; a feed for a layer that already
 * has one replaces it; a layer whose feed is removed or stops sending goes
 * inactive after 1 s and its receivers move to another. */
typedef void (*KtRoomKeyframeFunc)(gpointer user_data);
typedef struct {
	guint source; /* 0 = the default source of @kind */
	KtMediaKind kind;
	KtCodec codec;
	guint clock_rate;
	/* Worker. A subscriber or tap wants a keyframe (coalesced per source like
	 * requests to a publisher); NULL for audio. */
	KtRoomKeyframeFunc on_keyframe;
	gpointer user_data;
	/* Video: the layer (0 .. n_layers - 1) of a simulcast source this feed
	 * publishes, of n_layers (2 .. KT_ROOM_MAX_LAYERS); 0/0 = a plain stream.
	 * Any other n_layers, or layer >= n_layers: the feed is not attached. */
	guint layer, n_layers;
	/* Worker, after the last call: once the feed is removed, or the room
	 * closes, or the feed could not be attached (no such source, a bad layer). */
	GDestroyNotify notify;
} KtRoomFeedSpec;
/* Control loop. Returns the feed id at once (attached on the worker). */
guint kt_room_add_feed(KtRoom *room, const KtRoomFeedSpec *spec);
void kt_room_remove_feed(KtRoom *room, guint feed);
/* Worker only. One RTP packet of @feed (any SSRC and sequence; the room
 * rewrites them). @capture_us: the g_get_monotonic_time() instant the packet's
 * RTP timestamp stands for, from which the room's sender reports map RTP time
 * to wall-clock time (lip sync in the receiver). Allocates nothing. */
void kt_room_feed_rtp(KtRoom *room, guint feed, const guint8 *rtp, gsize len, gint64 capture_us);

/* Link quality per attached peer, from RTCP: what a publisher sends us and
 * loses on the way; what a subscriber reports losing, its round-trip time
 * and how fast Ketang may send to it. */
typedef struct {
	KtPeer *peer; /* borrowed: valid during the callback */
	gboolean publisher;
	guint64 bytes_in; /* publishers: total received */
	double loss_pct;  /* publishers: our latest RR; subscribers: theirs */
	gint rtt_ms;      /* subscribers: from their RR; -1 = unknown */
	/* Subscribers that negotiated TWCC: the send-side bandwidth estimate
	 * (kt-bwe.h), bit/s; 0 = none. */
	guint32 estimate_bps;
	/* Subscribers: the height of the simulcast layer they get; 0 = none (or paused). */
	guint video_height;
} KtRoomPeerStats;
typedef void (*KtRoomStatsFunc)(const KtRoomPeerStats *stats, guint n, gpointer user_data);
/* Collects the stats on the worker and calls @func on the control loop (the
 * caller's thread-default context). */
void kt_room_query_stats(KtRoom *room, KtRoomStatsFunc func, gpointer user_data,
                         GDestroyNotify notify);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtRoom, kt_room_unref)

G_END_DECLS
