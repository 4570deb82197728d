/* Server internals shared by the route files (kt-whip.c, kt-ops.c). Control
 * loop only. */
#pragma once

#include "kt-api-audit.h"
#include "kt-api-lessons.h"
#include "kt-api-recordings.h"
#include "kt-audit.h"
#include "kt-cert.h"
#include "kt-http.h"
#include "kt-lesson-store.h"
#include "kt-lesson.h"
#include "kt-lesson-ws.h"
#include "kt-lesson-recorder.h"
#include "kt-recordings.h"
#include "kt-signal.h"
#include "kt-server.h"
#include "kt-worker.h"

struct _KtServer {
	KtSettings *settings;
	GMainLoop *loop;
	guint8 *secret;
	gsize secret_len;
	KtPeerGate *peer_gate; /* [limits] dtls_handshakes */
	KtCert *dtls_cert;     /* one DTLS identity per process, fingerprint in every answer */
	KtWorkerPool *workers;
	KtHttpServer *http;
	KtSignal *signal;      /* the lesson WebSocket /ws; outlives http */
	KtLessonWs *lesson_ws; /* its media and attendance */
	KtLessons *lessons;
	KtAudit *audit;                  /* admin actions and archive access, <data_dir>/audit.db */
	KtApiAudit *api_audit;           /* GET /api/audit */
	KtLessonStore *lesson_store;     /* the catalog, <data_dir>/ketang.db */
	KtApiLessons *api_lessons;       /* /api/lessons routes */
	KtRecordings *recordings;        /* the archive catalog, <data_dir>/recordings.db */
	KtApiRecordings *api_recordings; /* /api/recordings routes */
	KtLessonRecorder *recorder;      /* records live lessons into the archive */
	char *web_root;
	char *video_codecs; /* "vp8,h264": [media] video_codecs joined for SDP */
	gint64 started_at;
	/* Recently ended sessions (id → "kind/lesson"), so a DELETE arriving
	 * after the browser already closed the connection still gets 200. */
	GHashTable *tombstones;
};

/* kt-whip.c */
void kt_whip_handle(KtHttpRequest *req, gpointer user_data); /* /whip/ */
void kt_whep_handle(KtHttpRequest *req, gpointer user_data); /* /whep/ */
void kt_live_handle(KtHttpRequest *req, gpointer user_data); /* /live/: HLS, kt-live.c */
/* kt-ops.c */
void kt_ops_healthz(KtHttpRequest *req, gpointer user_data);
void kt_ops_metrics(KtHttpRequest *req, gpointer user_data);
