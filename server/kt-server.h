/* The Ketang server process: settings, secret, HTTPS (libwebsockets on the
 * control GLib main loop), media workers, lessons, WHIP/WHEP.
 *
 * Threads: control loop only. Ownership: kt_server_new() returns the owner's
 * reference; kt_server_free() closes every session and frees everything.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "kt-config.h"

G_BEGIN_DECLS

typedef struct _KtServer KtServer;

/* Takes ownership of @settings. */
KtServer *kt_server_new(KtSettings *settings, GMainLoop *loop, GError **error);
void kt_server_free(KtServer *server);
/* Bound port of listen entry @index (useful with ephemeral ports). */
guint16 kt_server_get_port(KtServer *server, guint index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtServer, kt_server_free)

G_END_DECLS
