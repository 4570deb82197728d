/* kt-rtx-cache.h — bounded retransmission cache for one outgoing RTP stream.
 *
 * A fixed ring of packet slots (capacity a power of two), all allocated by
 * kt_rtx_cache_new(); a packet lives in slot (seq & (capacity - 1)) until a
 * later packet reuses the slot. Store and lookup allocate nothing, so the
 * cache sits on the packet path answering NACKs (RFC 4585 §6.2.1).
 *
 * Ownership: the stream that created the cache frees it with
 * kt_rtx_cache_free(). kt_rtx_cache_lookup() returns a pointer into the
 * cache, valid until the next store, reset or free on that cache.
 *
 * Threads: media worker — the one thread that owns the stream; no locking.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Largest packet the cache keeps: a full Ethernet MTU. */
#define KT_RTX_CACHE_MAX_PACKET 1500
/* Upper bound on the capacity: half the sequence space, so a slot never
 * holds two live sequence numbers at once. */
#define KT_RTX_CACHE_MAX_CAPACITY 32768

typedef struct _KtRtxCache KtRtxCache;

/* capacity_pow2: number of slots, a power of two in 1..32768 (e.g. 512 or
 * 1024); max_age_us: packets older than this are never returned. Returns
 * NULL (with a g_critical) on a bad capacity — a programming error. */
KtRtxCache *kt_rtx_cache_new(guint capacity_pow2, gint64 max_age_us);
void kt_rtx_cache_free(KtRtxCache *c);

/* Copies pkt[0..len) into the slot for seq, replacing what was there.
 * Packets longer than KT_RTX_CACHE_MAX_PACKET (or empty) are not stored,
 * and the slot is left as it was. */
void kt_rtx_cache_store(KtRtxCache *c, guint16 seq, const guint8 *pkt, gsize len, gint64 now_us);

/* Returns the stored packet with exactly this seq, stored no more than
 * max_age_us before now_us, and sets *len; NULL when absent or too old. */
const guint8 *kt_rtx_cache_lookup(KtRtxCache *c, guint16 seq, gint64 now_us, gsize *len);

/* Whether the packet with this seq was stored and is gone: aged past
 * max_age_us, or its slot taken by a later packet. FALSE for one that never
 * came (it may still: a publisher's retransmission). */
gboolean kt_rtx_cache_expired(const KtRtxCache *c, guint16 seq, gint64 now_us);

/* Forgets every packet (e.g. after an SSRC change). */
void kt_rtx_cache_reset(KtRtxCache *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtRtxCache, kt_rtx_cache_free)

G_END_DECLS
