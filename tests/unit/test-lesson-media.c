/* kt-lesson-media: the room priority each published video gets from [media] video_priority. */
#include "kt-lesson-media-private.h"

#include <string.h>

/* Default: courseware, then the teacher's camera, then classroom cameras. */
static void test_default_order(void)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();

	g_assert_cmpuint(kt_lesson_media_video_priority(s, KT_ROLE_TEACHER, KT_SRC_COURSEWARE), ==,
	                 0);
	g_assert_cmpuint(kt_lesson_media_video_priority(s, KT_ROLE_TEACHER, KT_SRC_CAMERA), ==, 1);
	g_assert_cmpuint(kt_lesson_media_video_priority(s, KT_ROLE_CLASSROOM, KT_SRC_CAMERA), ==,
	                 2);
}

/* An operator who puts classroom cameras first and courseware last. */
static void test_configured_order(void)
{
	const char *ini = "[media]\nvideo_priority = classroom, teacher, courseware\n";
	g_autoptr(KtSettings) s = kt_settings_new_default();
	g_autoptr(GError) error = NULL;

	g_assert_true(kt_settings_load_data(s, ini, strlen(ini), &error));
	g_assert_no_error(error);
	g_assert_cmpuint(kt_lesson_media_video_priority(s, KT_ROLE_CLASSROOM, KT_SRC_CAMERA), ==,
	                 0);
	g_assert_cmpuint(kt_lesson_media_video_priority(s, KT_ROLE_TEACHER, KT_SRC_CAMERA), ==, 1);
	g_assert_cmpuint(kt_lesson_media_video_priority(s, KT_ROLE_TEACHER, KT_SRC_COURSEWARE), ==,
	                 2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lesson-media/video-priority/default", test_default_order);
	g_test_add_func("/lesson-media/video-priority/configured", test_configured_order);
	return g_test_run();
}
