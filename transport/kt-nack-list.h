/* Missing sequence numbers of one received stream, for NACKs (RFC 4585 §6.2.1)
 * to its sender: Ketang asks a publisher again for what its uplink lost, so a
 * classroom's weak uplink costs a retransmission instead of a frozen picture
 * until the next keyframe, and the room's cache can then serve subscribers'
 * own NACKs.
 *
 * A gap in the sequence adds its numbers; a late or retransmitted packet
 * removes its own. Each missing number is asked for at most KT_NACK_MAX_TRIES
 * times, @retry_us apart, for at most KT_NACK_MAX_AGE_US; a gap wider than
 * the list is not asked for at all (the decoder needs a keyframe then).
 *
 * Packet-path module: a plain struct, no allocation, no logging. Threads:
 * none; one list is used from one thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KT_NACK_MAX 128
#define KT_NACK_MAX_TRIES 5
#define KT_NACK_MAX_AGE_US (G_USEC_PER_SEC)

typedef struct {
	guint16 seq;
	guint8 tries;
	gint64 first_us, next_us;
} KtNackEntry;

typedef struct {
	KtNackEntry e[KT_NACK_MAX]; /* oldest first */
	guint n;
	guint16 highest;
	gboolean started;
} KtNackList;

void kt_nack_list_init(KtNackList *l);
/* A packet with sequence number @seq arrived at @now_us (for RTX, the
 * original sequence number it carries). */
void kt_nack_list_on_packet(KtNackList *l, guint16 seq, gint64 now_us);
/* The missing numbers due to be asked for now, oldest first, at most @max
 * into @out; each is then not due again before @retry_us. Entries past their
 * tries or age are dropped. Returns how many were written. */
guint kt_nack_list_due(KtNackList *l, gint64 now_us, gint64 retry_us, guint16 *out, guint max);

G_END_DECLS
