/* Media kinds and the codecs Ketang forwards, as one table (no strcmp chains).
 * Pure data and functions: any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	KT_MEDIA_AUDIO,
	KT_MEDIA_VIDEO,
	KT_MEDIA_N_KINDS,
} KtMediaKind;

typedef enum {
	KT_CODEC_NONE,
	KT_CODEC_OPUS,
	KT_CODEC_VP8,
	KT_CODEC_H264,
	/* RFC 2198 redundancy around Opus. Never a source's codec: it is the
	 * index of a peer's RED payload type in KtRoomTrack.pt_for[] (0 = the
	 * peer does not take RED); kt-room-red.c does the rest. */
	KT_CODEC_RED,
	KT_CODEC_N,
} KtCodec;

/* Case-insensitive lookup of an SDP encoding name; KT_CODEC_NONE if unknown. */
KtCodec kt_media_codec_from_name(const char *name);
const char *kt_media_codec_name(KtCodec codec);
KtMediaKind kt_media_codec_kind(KtCodec codec);
/* Whether an RTP payload of @codec starts a keyframe (a decoder can start here). */
gboolean kt_media_is_keyframe(KtCodec codec, const guint8 *payload, gsize len);
const char *kt_media_kind_name(KtMediaKind kind);

G_END_DECLS
