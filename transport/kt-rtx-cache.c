/* kt-rtx-cache.c — retransmission cache ring. See kt-rtx-cache.h. */
#include "kt-rtx-cache.h"

#include <string.h>

typedef struct {
	gint64 stored_us;
	guint16 len; /* 0 = empty */
	guint16 seq;
	guint8 data[KT_RTX_CACHE_MAX_PACKET];
} KtRtxSlot;

struct _KtRtxCache {
	guint mask;
	gint64 max_age_us;
	KtRtxSlot *slots;
};

KtRtxCache *kt_rtx_cache_new(guint capacity_pow2, gint64 max_age_us)
{
	g_return_val_if_fail(capacity_pow2 > 0 && capacity_pow2 <= KT_RTX_CACHE_MAX_CAPACITY, NULL);
	g_return_val_if_fail((capacity_pow2 & (capacity_pow2 - 1)) == 0, NULL);
	g_return_val_if_fail(max_age_us >= 0, NULL);

	KtRtxCache *c = g_new0(KtRtxCache, 1);
	c->mask = capacity_pow2 - 1;
	c->max_age_us = max_age_us;
	c->slots = g_new0(KtRtxSlot, capacity_pow2);
	return c;
}

void kt_rtx_cache_free(KtRtxCache *c)
{
	if (c == NULL)
		return;
	g_free(c->slots);
	g_free(c);
}

void kt_rtx_cache_store(KtRtxCache *c, guint16 seq, const guint8 *pkt, gsize len, gint64 now_us)
{
	if (pkt == NULL || len == 0 || len > KT_RTX_CACHE_MAX_PACKET)
		return;
	KtRtxSlot *slot = &c->slots[seq & c->mask];
	memcpy(slot->data, pkt, len);
	slot->len = (guint16)len;
	slot->seq = seq;
	slot->stored_us = now_us;
}

const guint8 *kt_rtx_cache_lookup(KtRtxCache *c, guint16 seq, gint64 now_us, gsize *len)
{
	const KtRtxSlot *slot = &c->slots[seq & c->mask];
	/* The age check also rejects a slot whose seq matches only because the
	 * 16-bit sequence space wrapped all the way round. */
	if (slot->len == 0 || slot->seq != seq || now_us - slot->stored_us > c->max_age_us)
		return NULL;
	*len = slot->len;
	return slot->data;
}

gboolean kt_rtx_cache_expired(const KtRtxCache *c, guint16 seq, gint64 now_us)
{
	const KtRtxSlot *slot = &c->slots[seq & c->mask];

	if (slot->len == 0)
		return FALSE;
	if (slot->seq == seq)
		return now_us - slot->stored_us > c->max_age_us;
	/* A later packet in the slot: @seq is more than a ring behind it. */
	return (gint16)(slot->seq - seq) > 0;
}

void kt_rtx_cache_reset(KtRtxCache *c)
{
	for (guint i = 0; i <= c->mask; i++)
		c->slots[i].len = 0;
}
