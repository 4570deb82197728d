/* Room internals shared by kt-room.c (lifecycle, control → worker) and
 * kt-room-forward.c (the packet path). Worker-only state unless noted. */
#pragma once

#include "kt-room.h"
#include "kt-rtcp.h"
#include "kt-rtp-stats.h"
#include "kt-rtx-cache.h"
#include "kt-srtp.h"

#define KT_ROOM_BUF 2048
#define KT_ROOM_MAX_TRACKS 4

typedef struct _Source Source;
typedef struct _Publisher Publisher;

/* What a publisher sends for one source. */
typedef struct {
	Source *source;
	KtRoomTrack spec;
	guint32 ssrc, rtx_ssrc; /* learned from SDP or the MID extension */
	KtRtpStats stats;
	gboolean stats_ready;
} PubTrack;

struct _Publisher {
	KtPeer *peer;
	KtRoom *room;
	PubTrack tracks[KT_ROOM_MAX_TRACKS];
	guint n_tracks;
};

/* One forwarded stream (teacher audio, teacher video): the identity every
 * subscriber sees, stable across publisher reconnects. */
struct _Source {
	KtMediaKind kind;
	KtCodec codec;
	guint clock_rate;
	guint32 ssrc, rtx_ssrc; /* Ketang's, announced in WHEP answers */
	PubTrack *track;        /* current publisher's track, or NULL */
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
	KtRoom *room;
	guint8 fir_seq;
	/* Latest publisher SR, for SRs to late subscribers. */
	KtRtcpSenderInfo last_sr;
	gboolean have_sr;
};

typedef struct {
	Source *source;
	guint8 pt_for[KT_CODEC_N], rtx_pt_for[KT_CODEC_N]; /* by the source's codec */
	gboolean nack, pli, fir;
	gboolean started; /* video: first keyframe forwarded */
	gint64 waiting_since_us;
	guint16 rtx_seq;
	guint32 packets, octets; /* for our SRs (RFC 3550 §6.4.1) */
} SubStream;

typedef struct {
	KtPeer *peer;
	KtRoom *room;
	SubStream streams[KT_MEDIA_N_KINDS];
	gboolean has[KT_MEDIA_N_KINDS];
} Subscriber;

struct _KtRoom {
	gint refcount;
	KtWorker *worker;
	KtRoomConfig config;
	guint32 rtcp_ssrc; /* our sender SSRC in RTCP feedback to publishers */
	Source sources[KT_MEDIA_N_KINDS];

	/* Worker only. */
	Publisher *publisher;
	GPtrArray *subscribers; /* Subscriber* */
	GSource *timer;
	gint64 last_rr_us;
	gboolean closed;
	guint8 canon[KT_ROOM_BUF]; /* the packet as every subscriber gets it */
	gsize canon_len;
	guint8 tx[KT_ROOM_BUF]; /* per-send copy, encrypted in place */

	/* Any thread, atomics. */
	KtRoomCounters counters;
};

/* kt-room-forward.c, worker. */
void kt_room_on_publisher_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data);
void kt_room_on_publisher_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data);
void kt_room_on_subscriber_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data);
void kt_room_request_keyframe(KtRoom *room, Source *source, gint64 now_us);
void kt_room_send_receiver_reports(KtRoom *room, gint64 now_us);
void kt_room_send_sender_report(KtRoom *room, Subscriber *sub, Source *source);
