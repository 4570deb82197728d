/* kt-peer-gate.c — the server-wide count of connecting peers (kt-peer-gate.h). */
#include "kt-peer-gate.h"

struct _KtPeerGate {
	gint refcount;
	gint connecting; /* atomic */
	guint max;
};

KtPeerGate *kt_peer_gate_new(guint max_connecting)
{
	KtPeerGate *gate = g_new0(KtPeerGate, 1);
	gate->refcount = 1;
	gate->max = max_connecting;
	return gate;
}

KtPeerGate *kt_peer_gate_ref(KtPeerGate *gate)
{
	g_atomic_int_inc(&gate->refcount);
	return gate;
}

void kt_peer_gate_unref(KtPeerGate *gate)
{
	if (gate && g_atomic_int_dec_and_test(&gate->refcount))
		g_free(gate);
}

guint kt_peer_gate_get_connecting(KtPeerGate *gate)
{
	return (guint)g_atomic_int_get(&gate->connecting);
}

guint kt_peer_gate_get_max(KtPeerGate *gate)
{
	return gate->max;
}

gboolean kt_peer_gate_enter(KtPeerGate *gate)
{
	for (;;) {
		gint n = g_atomic_int_get(&gate->connecting);
		if (gate->max && (guint)n >= gate->max)
			return FALSE;
		if (g_atomic_int_compare_and_exchange(&gate->connecting, n, n + 1))
			return TRUE;
	}
}

void kt_peer_gate_leave(KtPeerGate *gate)
{
	g_atomic_int_add(&gate->connecting, -1);
}
