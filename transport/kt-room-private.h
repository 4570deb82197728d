/* Room internals shared by kt-room.c (lifecycle, control → worker) and
 * kt-room-forward.c (the packet path). Worker-only state unless noted.
 *
 * Object graph (all owned by the room, worker thread):
 *   Source    — a forwarded stream; its `sinks` are the SubStreams receiving it
 *   Publisher — a peer that sends; each PubTrack feeds one Source
 *   Subscriber — a peer that receives; one SubStream per subscribed Source
 */
#pragma once

#include "kt-room.h"
#include "kt-layer-select.h"
#include "kt-nack-list.h"
#include "kt-rtcp.h"
#include "kt-rtp.h"
#include "kt-rtp-stats.h"
#include "kt-rtx-cache.h"
#include "kt-srtp.h"
#include "kt-twcc.h"

#define KT_ROOM_BUF 2048
#define KT_ROOM_MAX_TRACKS 4
#define KT_ROOM_RESENT_KEEP 32
/* A publisher's tracks: its m-lines, and a track per simulcast layer. */
#define KT_ROOM_MAX_PUB_TRACKS (KT_ROOM_MAX_TRACKS * (1 + KT_ROOM_MAX_LAYERS))

typedef struct _Source Source;

typedef struct {
	guint id;
	KtRoomTapFunc func;
	gpointer user_data;
	GDestroyNotify notify;
} Tap;
typedef struct _Publisher Publisher;
typedef struct _Subscriber Subscriber;

/* A stream made inside Ketang, published into a source (kt-room-feed.c). */
typedef struct {
	guint id;
	Source *source; /* NULL until attached, and once something took the source over */
	KtRoomFeedSpec spec;
	/* The newest packet's RTP timestamp and the instant it stands for: the
	 * NTP<->RTP mapping of our sender reports. */
	gboolean have_time;
	guint32 last_ts;
	gint64 last_capture_us;
} LocalFeed;

/* What a publisher sends for one source. */
typedef struct _PubTrack {
	Source *source; /* NULL once another publisher took the source over */
	Publisher *publisher;
	KtRoomTrack spec;
	guint32 ssrc, rtx_ssrc; /* learned from SDP or the MID extension */
	KtRtpStats stats;
	gboolean stats_ready;
	KtNackList nacks; /* video with NACK negotiated: what the uplink lost */
	/* A simulcast layer's track (kt-room-simulcast.c): the m-line's track, whose own
	 * ssrc stays 0, and the index of its rid in spec.rids. NULL otherwise. */
	struct _PubTrack *layer_of;
	guint layer;
} PubTrack;

struct _Publisher {
	KtPeer *peer;
	KtRoom *room;
	PubTrack tracks[KT_ROOM_MAX_PUB_TRACKS];
	guint n_tracks;
	guint64 bytes_in;
	guint8 fraction_lost; /* of our last receiver report, 0..255 */
	/* Transport-wide congestion control: arrivals we report back (NULL when
	 * the publisher did not negotiate it). */
	KtTwccReceiver *twcc;
	guint8 twcc_ext_id;
};

/* One receiver's view of a simulcast source (a subscriber's, or the taps'): the layer it
 * gets, the one it moves to at that layer's next keyframe, and its own rewrite onto the
 * public SSRC so its sequence and timeline run on across switches (kt-room-simulcast.c). */
typedef struct {
	Source *layer, *target;
	gint64 target_since_us;
	guint16 seq_off;
	guint32 ts_off;
	gboolean have_out;
	guint16 last_seq, first_seq; /* first_seq: since the last switch; older is not resent */
	guint32 last_ts;
	gint64 last_us;
	KtLayerSelect select;
} SimOut;

/* What a simulcast layer carries, measured over 1 s windows. */
typedef struct {
	KtLayerInfo info;
	guint64 bytes;
	guint frames;
	gint64 window_start_us, last_packet_us;
} LayerMeter;

typedef struct {
	Subscriber *sub;
	Source *source;
	guint8 pt_for[KT_CODEC_N], rtx_pt_for[KT_CODEC_N]; /* by the source's codec */
	gboolean nack, pli, fir;
	gboolean started; /* video: first keyframe forwarded */
	gint64 waiting_since_us;
	guint16 rtx_seq;
	guint32 packets, octets; /* for our SRs (RFC 3550 §6.4.1) */
	/* Our last SR to this subscriber, to turn its RR's LSR/DLSR into a
	 * round-trip time (RFC 3550 §6.4.1). */
	guint32 sr_lsr;
	gint64 sr_sent_us;
	/* What the subscriber's latest receiver report says it loses of this
	 * stream, and when it said so (0 = never). */
	guint8 fraction_lost;
	gint64 loss_at_us;
	/* The latest retransmissions to it, so a NACK repeated before the
	 * resent packet could have arrived is not answered twice. */
	guint16 resent_seq[KT_ROOM_RESENT_KEEP];
	gint64 resent_at_us[KT_ROOM_RESENT_KEEP];
	guint resent_next;
	SimOut sim; /* its source is simulcast */
} SubStream;

struct _Subscriber {
	KtPeer *peer;
	KtRoom *room;
	GPtrArray *streams;   /* SubStream*, owned */
	gint rtt_ms;          /* latest, -1 until measured */
	guint8 fraction_lost; /* what it reports losing, 0..255 */
	gint64 estimate_bps;  /* bandwidth estimate for what it receives; 0 = unknown */
};

/* One forwarded stream: the identity every subscriber sees, stable across
 * publisher reconnects. */
struct _Source {
	guint id;
	KtRoom *room;
	KtMediaKind kind;
	KtCodec codec;
	guint clock_rate;
	guint32 ssrc, rtx_ssrc; /* Ketang's, announced in SDP */
	PubTrack *track;        /* current publisher's track, or NULL */
	LocalFeed *feed;        /* or the current feed (never both) */
	GPtrArray *sinks;       /* SubStream*, borrowed from their subscribers */
	gboolean muted;
	GPtrArray *taps; /* Tap*, owned; usually empty */
	KtRtxCache *cache;
	/* Rewriting (RFC 7667 §3.7 switching SFU): out = in + offset. */
	gboolean resync;
	guint16 seq_offset;
	guint32 ts_offset;
	gboolean have_out;
	guint16 last_seq;
	guint32 last_ts;
	gint64 last_time_us;
	gint64 last_keyframe_request_us;
	GSource *keyframe_timer; /* trailing request after a coalesced one */
	guint8 fir_seq;
	/* Latest publisher SR, for SRs to late subscribers. */
	KtRtcpSenderInfo last_sr;
	gboolean have_sr;
	/* Simulcast (kt-room-simulcast.c): while its publisher track sends layers, each
	 * layer is a Source of its own (cache, rewrite, keyframe requests; not in
	 * room->sources) pointing back here; subscribers and taps get one at a time. */
	Source *layers[KT_ROOM_MAX_LAYERS];
	guint n_layers;
	Source *parent;   /* a layer: its public source */
	guint layer_slot; /* a layer: its index in parent->layers */
	LayerMeter meter; /* a layer */
	SimOut tap_out;   /* public: what the taps get (the top layer) */
};

struct _KtRoom {
	gint refcount;
	KtWorker *worker;
	KtRoomConfig config;
	guint32 rtcp_ssrc; /* our sender SSRC in RTCP feedback to publishers */
	/* Set at creation, read-only: any thread. */
	guint default_source[KT_MEDIA_N_KINDS];
	guint32 default_ssrc[KT_MEDIA_N_KINDS], default_rtx_ssrc[KT_MEDIA_N_KINDS];
	gint next_source_id; /* atomic */

	/* Worker only. */
	GPtrArray *sources;     /* Source*, owned */
	GPtrArray *publishers;  /* Publisher*, owned */
	GPtrArray *subscribers; /* Subscriber*, owned */
	GPtrArray *feeds;       /* LocalFeed*, owned; notify runs when freed */
	GSource *timer;
	gint64 last_rr_us;
	gint64 last_twcc_us;
	gint64 last_retry_us;
	gboolean closed;
	guint8 canon[KT_ROOM_BUF]; /* the packet as every subscriber gets it */
	guint8 tx[KT_ROOM_BUF];    /* per-send copy, encrypted in place */

	/* Any thread, atomics. */
	KtRoomCounters counters;
};

/* kt-room.c, worker. */
Source *kt_room_source_new(KtRoom *room, guint id, KtMediaKind kind);
void kt_room_source_free(gpointer source);
Source *kt_room_find_source(KtRoom *room, guint id);
Source *kt_room_find_source_by_ssrc(KtRoom *room, guint32 ssrc);
void kt_room_ensure_timer(KtRoom *room);
void kt_room_tap_free(gpointer tap); /* runs its notify */

/* kt-room-attach.c, worker. */
void kt_room_drop_sink(SubStream *ss); /* unsubscribe one stream */
void kt_room_detach_all(KtRoom *room);

/* kt-room-feed.c, worker. */
void kt_room_feed_free(gpointer feed);  /* runs its notify */
void kt_room_release_source(Source *s); /* its publisher track or feed lets go */
void kt_room_send_feed_reports(KtRoom *room, gint64 now_us);

/* kt-room-forward.c, worker. */
/* Everything after a packet is known to belong to @s: resync, rewrite, cache,
 * forward, tap. @h describes @buf; @seq is the original sequence number. */
void kt_room_forward(KtRoom *room, Source *s, const guint8 *buf, KtRtpHeader *h,
                     const guint8 *payload, gsize payload_len, guint16 seq, gint64 now_us);
void kt_room_on_publisher_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data);
void kt_room_on_publisher_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data);
void kt_room_on_subscriber_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data);
void kt_room_request_keyframe(KtRoom *room, Source *source, gint64 now_us);
void kt_room_send_receiver_reports(KtRoom *room, gint64 now_us);
void kt_room_send_twcc_feedback(KtRoom *room);
void kt_room_send_publisher_nacks(KtRoom *room, gint64 now_us);
void kt_room_send_sender_report(KtRoom *room, SubStream *ss);

/* kt-room-simulcast.c, worker. */
/* Whether @s now forwards a simulcast publisher's layers. */
gboolean kt_room_sim_layered(const Source *s);
/* A packet of @t's m-line (its MID, or none) that no SSRC matched: the layer track its
 * rid (RTX: repaired rid) names, learning its SSRC; NULL if it names none. */
PubTrack *kt_room_sim_learn(Publisher *pub, PubTrack *t, const guint8 *buf, const KtRtpHeader *h,
                            gboolean *is_rtx);
/* After binding @pub's tracks: a layer track and a layer source per rid. */
void kt_room_sim_attach_layers(KtRoom *room, Publisher *pub);
void kt_room_sim_release(Source *s); /* layers let their tracks go; receivers start over */
void kt_room_sim_free_layers(Source *s);
/* room->canon holds @layer's packet (@out_len): to the receivers on that layer. */
void kt_room_sim_forward(KtRoom *room, Source *layer, const KtRtpHeader *h, const guint8 *payload,
                         gsize payload_len, gsize out_len, gboolean keyframe, gint64 now_us);
void kt_room_sim_on_sender_report(KtRoom *room, Source *layer);
/* What a sender report to @ss says (plain or simulcast); FALSE = nothing to say. */
gboolean kt_room_sim_sender_info(const SubStream *ss, KtRtcpSenderInfo *si);
/* Where a keyframe for @ss comes from: the layer it waits for or gets, else its source. */
Source *kt_room_sim_keyframe_source(SubStream *ss);
void kt_room_sim_request_keyframes(KtRoom *room, Source *s, gint64 now_us);
/* NACK from a simulcast receiver: the cached packet behind its sequence number @seq
 * (NULL before its last switch, or while its video is paused), and the resent copy put
 * back on its timeline. */
const guint8 *kt_room_sim_lookup(SubStream *ss, guint16 seq, gint64 now_us, gsize *len);
void kt_room_sim_fix_resent(const SubStream *ss, guint8 *pkt, guint16 seq, gboolean rtx);
void kt_room_sim_tick(KtRoom *room, gint64 now_us); /* meters and layer choice, 50 ms */
guint kt_room_sim_video_height(const Subscriber *sub);
