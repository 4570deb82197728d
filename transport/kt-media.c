/* Codec table. */
#include "kt-media.h"

#include "kt-rtp.h"

typedef struct {
	const char *name;
	KtMediaKind kind;
	gboolean (*is_keyframe)(const guint8 *payload, gsize len);
} CodecInfo;

static gboolean audio_is_keyframe(const guint8 *payload, gsize len)
{
	return TRUE; /* every Opus packet decodes on its own */
}

static const CodecInfo codecs[KT_CODEC_N] = {
    [KT_CODEC_NONE] = {"none", KT_MEDIA_AUDIO, NULL},
    [KT_CODEC_OPUS] = {"opus", KT_MEDIA_AUDIO, audio_is_keyframe},
    [KT_CODEC_VP8] = {"vp8", KT_MEDIA_VIDEO, kt_rtp_vp8_is_keyframe},
    [KT_CODEC_H264] = {"h264", KT_MEDIA_VIDEO, kt_rtp_h264_is_keyframe},
    [KT_CODEC_RED] = {"red", KT_MEDIA_AUDIO, audio_is_keyframe},
};

KtCodec kt_media_codec_from_name(const char *name)
{
	for (guint i = KT_CODEC_NONE + 1; name && i < KT_CODEC_N; i++)
		if (g_ascii_strcasecmp(name, codecs[i].name) == 0)
			return i;
	return KT_CODEC_NONE;
}

const char *kt_media_codec_name(KtCodec codec)
{
	return (guint)codec < KT_CODEC_N ? codecs[codec].name : "none";
}

KtMediaKind kt_media_codec_kind(KtCodec codec)
{
	return (guint)codec < KT_CODEC_N ? codecs[codec].kind : KT_MEDIA_AUDIO;
}

gboolean kt_media_is_keyframe(KtCodec codec, const guint8 *payload, gsize len)
{
	if ((guint)codec >= KT_CODEC_N || !codecs[codec].is_keyframe)
		return FALSE;
	return codecs[codec].is_keyframe(payload, len);
}

const char *kt_media_kind_name(KtMediaKind kind)
{
	static const char *const names[KT_MEDIA_N_KINDS] = {"audio", "video"};

	return (guint)kind < KT_MEDIA_N_KINDS ? names[kind] : "unknown";
}
