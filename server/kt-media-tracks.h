/* Turns the negotiated m-lines of an SDP answer into room tracks: codec,
 * payload types (also the alternative codecs a receiver accepted, and RED
 * around Opus as pt_for[KT_CODEC_RED]), SSRCs, feedback. Pure; any thread. */
#pragma once

#include "kt-room.h"
#include "kt-sdp-answer.h"

/* Fills up to @max tracks from the active m-lines of @neg; returns how many.
 * Track i's `source` is left 0 (the default source of its kind). */
guint kt_media_tracks_from_negotiated(const KtSdpNegotiated *neg, guint n, KtRoomTrack *tracks,
                                      guint max);
