/* The body of POST /api/lessons (and `ketang lesson create`), sources included. */
#include "fuzz.h"
#include "kt-api-lessons.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	KtLessonInfo *info = kt_api_lessons_parse_create((const char *)data, size, &error);

	kt_lesson_info_free(info);
	return 0;
}
