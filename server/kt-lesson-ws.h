/* Glue between the lesson WebSocket (kt-signal: roster, messages) and the
 * lesson media (kt-lesson-media: connections, routing) and the catalog
 * (attendance). Control loop only. */
#pragma once

#include "kt-lesson-media.h"
#include "kt-lesson-recorder.h"
#include "kt-lesson-store.h"
#include "kt-signal.h"

typedef struct _KtLessonWs KtLessonWs;

/* Borrows @signal, @store and @recorder (both may be NULL); owns the lesson media it makes. */
KtLessonWs *kt_lesson_ws_new(KtSignal *signal, KtLessonStore *store, KtLessonRecorder *recorder,
                             const KtLessonMediaConfig *media_config);
/* After kt_signal_free(): the signal calls into it until then. */
void kt_lesson_ws_free(KtLessonWs *ws);
