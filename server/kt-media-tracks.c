/* Negotiated SDP (signaling/) to room tracks (transport/): the one place
 * that knows both shapes. */
#include "kt-media-tracks.h"

#include <string.h>

guint kt_media_tracks_from_negotiated(const KtSdpNegotiated *neg, guint n, KtRoomTrack *tracks,
                                      guint max)
{
	guint count = 0;

	for (guint i = 0; i < n && count < max; i++) {
		const KtSdpNegotiated *e = &neg[i];
		KtRoomTrack *t;
		KtCodec codec = kt_media_codec_from_name(e->codec);

		if (!e->active || codec == KT_CODEC_NONE || e->direction == KT_SDP_DIR_INACTIVE)
			continue;
		t = &tracks[count++];
		memset(t, 0, sizeof(*t));
		t->kind = kt_media_codec_kind(codec);
		t->codec = codec;
		t->pt = e->pt;
		t->rtx_pt = e->rtx_pt;
		t->clock_rate = e->clock_rate;
		t->remote_ssrc = e->remote_ssrc;
		t->remote_rtx_ssrc = e->remote_rtx_ssrc;
		t->mid_ext_id = e->mid_ext_id;
		/* Sending, Ketang estimates from the receiver's feedback: it must
		 * have agreed to send it. */
		t->twcc_ext_id =
		    e->direction == KT_SDP_DIR_SENDONLY && !e->transport_cc ? 0 : e->twcc_ext_id;
		t->remb = e->goog_remb;
		t->abs_send_time_ext_id = e->abs_send_time_ext_id;
		t->playout_delay_ext_id = e->playout_delay_ext_id;
		g_strlcpy(t->mid, e->mid, sizeof(t->mid));
		t->nack = e->nack;
		t->pli = e->pli;
		t->fir = e->fir;
		t->pt_for[codec] = e->pt;
		t->rtx_pt_for[codec] = e->rtx_pt;
		/* RED around the Opus: what a publisher may send, what a subscriber takes. */
		if (codec == KT_CODEC_OPUS)
			t->pt_for[KT_CODEC_RED] = e->red_pt;
		t->n_rids = MIN(e->n_rids, KT_ROOM_MAX_LAYERS);
		for (guint r = 0; r < t->n_rids; r++)
			g_strlcpy(t->rids[r], e->rids[r], sizeof(t->rids[r]));
		t->rid_ext_id = e->rid_ext_id;
		t->rrid_ext_id = e->rrid_ext_id;
		for (guint a = 0; a < e->n_alt; a++) {
			KtCodec alt = kt_media_codec_from_name(e->alt[a].codec);

			if (alt != KT_CODEC_NONE && kt_media_codec_kind(alt) == t->kind) {
				t->pt_for[alt] = e->alt[a].pt;
				t->rtx_pt_for[alt] = e->alt[a].rtx_pt;
			}
		}
	}
	return count;
}
