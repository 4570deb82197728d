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
#include "kt-playout.h"
#include "kt-vp8-munge.h"
#include "kt-rtcp.h"
#include "kt-red.h"
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

/* RED (RFC 2198) around Opus, kt-room-red.c. Up to this many packets the
 * publisher's uplink lost are rebuilt from one RED packet. */
#define KT_ROOM_RED_MAX_RECOVER 2

/* Per audio source (worker). */
typedef struct {
	/* The newest packet (Ketang's numbering) of the Opus stream subscribers
	 * without RED get: a hole after it is filled from RED redundancy. */
	gboolean have_last;
	guint16 last_seq;
	/* The payload types of the latest RED packet: the canonical packet's
	 * (the publisher's RED) and the Opus one inside it. */
	guint8 red_pt, opus_pt;
	KtRedHistory history; /* plain Opus frames, for [media] audio_red_add */
} RedSource;

typedef enum {
	KT_ROOM_RED_NONE,  /* the canonical packet goes out as it is */
	KT_ROOM_RED_STRIP, /* it is RED: Opus-only sinks and taps get its primary */
	KT_ROOM_RED_ADD,   /* it is Opus: lossy RED sinks get it wrapped in RED */
} RedMode;

/* What kt_room_red_prepare() made of the packet being forwarded (worker). */
typedef struct {
	RedMode mode;
	guint8 opus_pt;    /* the Opus payload type inside (STRIP) or of (ADD) the packet */
	gsize payload_len; /* STRIP: of the RED payload in room->canon */
	gsize primary_len; /* STRIP: of primary[]; 0 = the RED did not parse: dropped */
	guint n_recovered; /* STRIP: lost packets rebuilt, oldest first */
	gsize recovered_len[KT_ROOM_RED_MAX_RECOVER];
	gsize added_len[KT_RED_HISTORY_LEN]; /* ADD: by redundancy depth - 1; 0 = not built */
	gint64 now_us;
	guint8 primary[KT_ROOM_BUF];
	guint8 recovered[KT_ROOM_RED_MAX_RECOVER][KT_ROOM_BUF];
	guint8 added[KT_RED_HISTORY_LEN][KT_ROOM_BUF];
} RedPacket;

typedef struct {
	guint id;
	KtRoomTapFunc func;
	gpointer user_data;
	GDestroyNotify notify;
} Tap;
typedef struct _Publisher Publisher;
typedef struct _Subscriber Subscriber;
typedef struct _SubBwe SubBwe;   /* kt-room-bwe.c */
typedef struct _PubRemb PubRemb; /* kt-room-remb.c */

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

/* An SSRC a publisher was seen sending for an m-line (and rid), kept across its
 * renegotiations: browsers name a stream in the MID and rid header extensions only until
 * our receiver reports acknowledge its SSRC (libwebrtc), so after that a layer's SSRC
 * cannot be learned again (kt-room-attach.c). */
typedef struct {
	char mid[32];
	char rid[KT_ROOM_RID_LEN]; /* "" = the m-line's own stream */
	guint32 ssrc, rtx_ssrc;
} KnownSsrc;

struct _Publisher {
	KtPeer *peer;
	KtRoom *room;
	PubTrack tracks[KT_ROOM_MAX_PUB_TRACKS];
	guint n_tracks;
	KnownSsrc known[KT_ROOM_MAX_PUB_TRACKS];
	guint n_known, next_known; /* next_known: the slot a new one takes once all are used */
	guint64 bytes_in;
	guint8 fraction_lost; /* of our last receiver report, 0..255 */
	/* Transport-wide congestion control: arrivals we report back (NULL when
	 * the publisher did not negotiate it). */
	KtTwccReceiver *twcc;
	guint8 twcc_ext_id;
	/* REMB towards it (kt-room-remb.c); NULL when no line took goog-remb. */
	PubRemb *remb;
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
	KtVp8Munge vp8; /* PictureID and TL0PICIDX run on across switches */
	KtLayerSelect select;
} SimOut;

/* What a simulcast layer carries, measured over 1 s windows. */
typedef struct {
	KtLayerInfo info;
	guint64 bytes;
	guint frames;
	gint64 window_start_us, last_packet_us;
} LayerMeter;

/* One subscriber's pause of a single-layer video stream (kt-room-pause.c): while `on`,
 * nothing is sent; after it, the stream runs on its own numbering, out = canonical - skip. */
typedef struct {
	gboolean on, resuming, renumbered;
	gint64 since_us;
	guint16 skip;
	guint16 last_out;  /* the last sequence number it got before the pause */
	guint16 first_out; /* its first after the last resume; older is not resent */
} PauseOut;

typedef struct {
	/* What every packet's send reads, in the first cache line (the room
	 * fetches it ahead: kt_room_prefetch_sinks). */
	Subscriber *sub;
	guint8 pt_for[KT_CODEC_N]; /* by the source's codec */
	/* Transport-wide sequence extension id the line negotiated; 0 = none
	 * (its packets go out unnumbered and uncounted by the estimate). */
	guint8 twcc_ext_id;
	/* Playout-delay extension id its video line negotiated, 0 = none (kt-playout.h). */
	guint8 playout_ext_id;
	gboolean started;        /* video: first keyframe forwarded */
	guint32 packets, octets; /* for our SRs (RFC 3550 §6.4.1) */
	PauseOut pause;          /* its source is single-layer video */

	Source *source;
	guint8 rtx_pt_for[KT_CODEC_N]; /* by the source's codec */
	gboolean nack, pli, fir;
	gint64 waiting_since_us;
	guint16 rtx_seq;
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
	/* Its share of the subscriber's estimate (kt-room-alloc.c), bit/s: what
	 * the layer choice may spend; 0 with a known estimate = pause it. */
	guint32 budget_bps;
	gint64 short_since_us; /* its share has not covered its lowest layer since; 0 = it has */
	/* What it would add if it went up (a higher layer, or resumed), while that waits
	 * for its hold: the subscriber's padding rate meanwhile (kt-room-bwe.c). */
	guint32 fill_bps;
} SubStream;

struct _Subscriber {
	KtPeer *peer;
	KtRoom *room;
	GPtrArray *streams;   /* SubStream*, owned */
	gint rtt_ms;          /* latest, -1 until measured */
	guint8 fraction_lost; /* what it reports losing, 0..255 */
	SubBwe *bwe;          /* bandwidth estimate; NULL unless a stream negotiated TWCC */
	gint64 estimate_bps;  /* bandwidth estimate for what it receives; 0 = unknown */
	/* estimate_bps was set by kt_room_set_subscriber_estimate (tests) and is
	 * not overwritten by the TWCC estimate. */
	gboolean estimate_pinned;
	KtPlayout playout; /* the playout delay its video is asked for (kt-room-playout.c) */
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
	guint priority;  /* video: lower is served first when a link is short (kt-alloc.h) */
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
	RedSource red; /* audio */
	/* What arrives for it (canonical bytes, counted by kt_room_forward) and
	 * the bitrate kt-room-bwe.c measures from that about once a second. */
	guint64 bytes_in, bytes_at_mark;
	gint64 mark_us;
	guint32 bitrate_bps;
	/* Simulcast (kt-room-simulcast.c): while its publisher track sends layers, each
	 * layer is a Source of its own (cache, rewrite, keyframe requests; not in
	 * room->sources) pointing back here; subscribers and taps get one at a time. */
	Source *layers[KT_ROOM_MAX_LAYERS];
	guint n_layers;
	Source *parent;   /* a layer: its public source */
	guint layer_slot; /* a layer: its index in parent->layers */
	LayerMeter meter; /* a layer */
	SimOut tap_out;   /* public: what the taps get (the top layer) */
	/* public: layered feeds publish its layers (kt-room-feed.c), this many; 0 = none */
	guint feed_layers;
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
	gint64 last_playout_us; /* kt_room_playout_tick, once a second */
	gint64 last_twcc_us;
	gint64 last_retry_us;
	gboolean closed;
	guint8 canon[KT_ROOM_BUF]; /* the packet as every subscriber gets it */
	guint8 tx[KT_ROOM_BUF];    /* per-send copy, encrypted in place */
	RedPacket red;             /* the canonical packet's RED forms, if any */

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
/* For a loop over @sinks (SubStream*) sending each an @ssrc packet: at sink
 * @i, has the CPU fetch, a step at a time, the state the next few sinks'
 * sends will read (their SubStream's first line, or with @simulcast its
 * SimOut too, their Subscriber, peer, SRTP sender and cipher). Each is found
 * through the one before, so fetched one by one as the send reads it the
 * misses queue up: most of the room's own time with 200 subscribers. Call
 * with @i from -KT_ROOM_PREFETCH_STEPS before the loop's first sink. */
#define KT_ROOM_PREFETCH_STEPS 6
void kt_room_prefetch_sinks(GPtrArray *sinks, gint i, guint32 ssrc, gboolean simulcast);

/* kt-room-red.c, worker: RED (RFC 2198) around Opus on the packet path. */
/* Whether a packet of @t with payload type @pt is RED (it keeps that type in
 * the canonical packet, so the rest of the path can tell). */
gboolean kt_room_red_is_red(const PubTrack *t, guint8 pt);
/* Once per forwarded packet of @s, room->canon[0..len): fills room->red. */
void kt_room_red_prepare(KtRoom *room, Source *s, gsize len, gint64 now_us);
/* room->red.mode != NONE: writes into room->tx what @ss gets of the packet
 * (sending first any packet rebuilt for it); returns its length, 0 = none,
 * and its payload length in *payload_len (for sender reports). */
gsize kt_room_red_for_sink(KtRoom *room, SubStream *ss, gsize len, gsize *payload_len);
/* room->red.mode == STRIP: the taps get the Opus packets instead. */
void kt_room_red_tap(KtRoom *room, Source *s);
/* The payload type to resend the cached packet @pkt to @ss with, given @pt
 * (its codec's): 0 when it is RED and @ss does not take it as it is. */
guint8 kt_room_red_resend_pt(const SubStream *ss, const guint8 *pkt, guint8 pt);
/* kt-room-bwe.c, worker: a bandwidth estimate per subscriber from its
 * transport-wide congestion control feedback (kt-bwe.h). */
/* Sends the RTP packet in room->tx (@len bytes in Ketang's form: a 12-byte
 * header, no CSRCs, no extension) to @ss's subscriber. When @ss negotiated
 * TWCC the subscriber's next transport-wide sequence number goes in first
 * (kt_room_bwe_stamp) and the packet is recorded for the estimate.
 * @is_probe: part of a probe cluster. Returns kt_peer_send_rtp()'s result. */
int kt_room_send_rtp(KtRoom *room, SubStream *ss, gsize len, gboolean is_probe);
/* The two halves of kt_room_send_rtp around kt_peer_send_rtp(): stamp the
 * packet in @buf (returns its new length, or a negative KtRtpStatus), and,
 * once it left at @send_us as @size bytes on the wire (or was dropped by a
 * full socket buffer), use up the sequence number. Without TWCC on @ss the
 * first returns @len and leaves @buf alone, the second does nothing. */
int kt_room_bwe_prepare(SubStream *ss, guint8 *buf, gsize len, gsize cap);
void kt_room_bwe_sent(SubStream *ss, gint64 send_us, guint size, gboolean is_probe);
/* RFC 8285 §4.2 one-byte form: element @ext_id (1..14) = @seq (big-endian)
 * added to the packet in @buf (kt_rtp_add_extension: a packet in Ketang's
 * form gains 0xBEDE, length 1, the element and one byte of padding; one
 * with a playout delay already has the block). Returns the new length,
 * KT_RTP_ENOSPACE when @cap cannot hold it, KT_RTP_EVERSION for any other
 * header or id. */
int kt_room_bwe_stamp(guint8 *buf, gsize len, gsize cap, guint8 ext_id, guint16 seq);
/* @ss (of its subscriber) negotiated TWCC with extension @ext_id (0: not):
 * the subscriber gets its estimator with the first such stream. */
void kt_room_bwe_on_subscribe(SubStream *ss, guint8 ext_id);
void kt_room_bwe_free(Subscriber *sub);
/* RTPFB FMT 15 from the subscriber: parsed and fed to its estimator;
 * malformed feedback, or feedback from a subscriber without TWCC, is ignored. */
void kt_room_bwe_on_feedback(Subscriber *sub, const KtRtcpChunk *c, gint64 now_us);
/* Every room tick: sources' bitrates, subscribers' demand, probing. */
void kt_room_bwe_tick(KtRoom *room, gint64 now_us);
/* What @sub should get if its link allowed (e.g. the next simulcast layer's
 * bitrate), bit/s; only drives probing. 0 = the default: the sum of the
 * bitrates of the sources it receives. */
void kt_room_sub_set_demand(Subscriber *sub, guint32 bps);
/* The current estimate of what may be sent to @sub, bit/s; 0 = none (it did
 * not negotiate TWCC). */
guint32 kt_room_sub_get_estimate(const Subscriber *sub);
/* Whether @sub's estimate is one its path has bounded (kt_bwe_is_bounded), or
 * one set from outside; TRUE without transport-cc (no estimate to grow). */
gboolean kt_room_sub_estimate_bounded(const Subscriber *sub);
/* The loss fraction (0..1) of @sub's latest transport-wide feedback; -1 = none. */
gdouble kt_room_sub_get_loss(const Subscriber *sub);
/* kt-room-playout.c, worker: the playout delay asked of lossy subscribers
 * (kt-playout.h), updated once a second on the room's tick; and written into
 * a packet to @ss (its video line negotiated the extension and something was
 * asked): returns the new length, or a negative KtRtpStatus. */
void kt_room_playout_tick(KtRoom *room, gint64 now_us);
int kt_room_playout_prepare(const SubStream *ss, guint8 *buf, gsize len, gsize cap);
/* kt-room-alloc.c, worker: every tick, before the simulcast choice, each
 * subscriber's estimate (kt-room-bwe.c) split between its streams by priority,
 * audio first (kt-alloc.h), into SubStream.budget_bps; and what it would take
 * with no limit, as its demand for probing. */
void kt_room_alloc_tick(KtRoom *room, gint64 now_us);

/* kt-room-forward.c, worker: whether @s's cache holds its packet of the publisher's
 * sequence number @seq (a publisher's RTX copy of it is then a duplicate). */
gboolean kt_room_already_have(Source *s, guint16 seq, gint64 now_us);
/* kt-room-forward.c, worker: what a NACK from @ss for its sequence number @seq asks
 * for (simulcast, paused or plain), NULL when it is gone or not its; and the resent
 * copy (@rtx: already wrapped in RTX with @seq inside) put on @ss's numbering and timeline. */
const guint8 *kt_room_resend_lookup(SubStream *ss, guint16 seq, gint64 now_us, gsize *len);
void kt_room_resend_fix(SubStream *ss, guint8 *pkt, gsize len, guint16 seq, gboolean rtx);
/* kt-room-resend.c, worker: a NACK from @ss for @seq the cache cannot answer: counted,
 * and for video gone from the cache a keyframe is asked for. */
void kt_room_resend_missed(KtRoom *room, SubStream *ss, guint16 seq, gint64 now_us);

/* kt-room-pause.c, worker: pausing a single-layer video stream for one subscriber. */
/* A paused stream resumes once its share carries what its source sends this many times
 * (the resuming keyframe costs more than the average); its subscriber probes that far. */
#define KT_ROOM_RESUME_MARGIN 1.15
/* Whether @ss is a stream kt_room_pause_update acts on (video without simulcast). */
gboolean kt_room_pause_applies(const SubStream *ss);
/* Every alloc tick: @share_bps is @ss's share of its subscriber's estimate (0 = pause
 * it), @need_bps what its source sends. Pauses at once when given nothing; resumes,
 * with hysteresis, at the source's next keyframe (asked for). */
void kt_room_pause_update(KtRoom *room, SubStream *ss, guint32 share_bps, guint32 need_bps,
                          gint64 now_us);
/* The estimate went away (or the split no longer covers @ss): resume at a keyframe. */
void kt_room_pause_release(KtRoom *room, SubStream *ss, gint64 now_us);
/* @ss starts again with the packet of canonical number @canon_seq (a keyframe). */
void kt_room_pause_resumed(SubStream *ss, guint16 canon_seq);
/* NACK: the cache and canonical number behind @ss's sequence number @seq; NULL before
 * its resume. */
KtRtxCache *kt_room_pause_resend_cache(const SubStream *ss, guint16 seq, guint16 *canon);
/* @ss's number for canonical @canon_seq. */
static inline guint16 kt_room_pause_out_seq(const SubStream *ss, guint16 canon_seq)
{
	return (guint16)(canon_seq - ss->pause.skip);
}

/* kt-room-remb.c, worker: REMB (draft-alvestrand-rmcat-remb) to publishers
 * that took goog-remb: the receive-side estimate of their uplink
 * (kt-remb-estimate.h) and the caps, about once a second. */
/* After binding @pub's tracks: its REMB state when a line took goog-remb. */
void kt_room_remb_attach(Publisher *pub);
void kt_room_remb_free(Publisher *pub);
/* Every RTP packet of @pub (@len bytes, @h parsed from @buf, arrived at
 * @now_us), before anything may drop it: RTX and padding count too. */
void kt_room_remb_on_packet(Publisher *pub, const guint8 *buf, const KtRtpHeader *h, gsize len,
                            gint64 now_us);
/* Every room tick, after the subscribers' estimates moved: estimates, and the
 * REMBs that are due. */
void kt_room_remb_tick(KtRoom *room, gint64 now_us);
/* The tick's two halves. What @pub's REMB says now, bit/s (moving its
 * estimate; 0 = nothing to say), and whether a REMB of @bps is due at @now_us
 * after one of @last_bps at @last_sent_us (0 = none yet). */
guint32 kt_room_remb_value(KtRoom *room, Publisher *pub, gint64 now_us);
gboolean kt_room_remb_due(gint64 last_sent_us, guint32 last_bps, guint32 bps, gint64 now_us);

/* kt-room-simulcast.c, worker. */
/* The active layers' measured bitrates of simulcast source @s, lowest first
 * (as ranked by what they carry), at most @max into @bps; returns how many. */
guint kt_room_sim_ladder_bps(Source *s, guint32 *bps, guint max);
/* Whether @s now forwards a simulcast publisher's layers. */
gboolean kt_room_sim_layered(const Source *s);
/* A packet of @t's m-line (its MID, or none) that no SSRC matched: the layer track its
 * rid (RTX: repaired rid) names, learning its SSRC; NULL if it names none. */
PubTrack *kt_room_sim_learn(Publisher *pub, PubTrack *t, const guint8 *buf, const KtRtpHeader *h,
                            gboolean *is_rtx);
/* After binding @pub's tracks: a layer track and a layer source per rid. */
void kt_room_sim_attach_layers(KtRoom *room, Publisher *pub);
/* @s's layer Source of slot @r, made (with those below it) if it does not exist yet. */
Source *kt_room_sim_layer(KtRoom *room, Source *s, guint r);
/* @layer starts over for a new sender of @codec at @clock_rate (cache, meter, resync). */
void kt_room_sim_layer_reset(Source *layer, KtCodec codec, guint clock_rate);
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
/* NACK from a simulcast receiver: the layer's cache and the layer's number behind its
 * sequence number @seq (NULL before its last switch, or while its video is paused), and
 * the resent copy put back on its timeline. */
KtRtxCache *kt_room_sim_resend_cache(const SubStream *ss, guint16 seq, guint16 *canon);
void kt_room_sim_fix_resent(SubStream *ss, guint8 *pkt, gsize len, guint16 seq, gboolean rtx);
void kt_room_sim_tick(KtRoom *room, gint64 now_us); /* meters and layer choice, 50 ms */
guint kt_room_sim_video_height(const Subscriber *sub);
