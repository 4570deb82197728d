/* kt-role, kt-token and kt-secret: the pieces that turn a secret into trusted roles. */
#include "kt-role.h"
#include "kt-secret.h"
#include "kt-token.h"
#include "tmp-dir.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define NOW ((gint64)1700000000)

static const guint8 secret[] = "0123456789abcdef0123456789abcdef";
#define SECRET_LEN (sizeof secret - 1)

static char *mint(const char *lesson, KtRole role, gint64 expires)
{
	g_autoptr(GError) error = NULL;
	char *token = kt_token_mint(secret, SECRET_LEN, lesson, role, expires, &error);

	g_assert_no_error(error);
	g_assert_nonnull(token);
	return token;
}

static void expect_verify_error(const char *token, KtTokenError code)
{
	g_autoptr(GError) error = NULL;
	KtTokenClaims claims = {.role = KT_ROLE_NONE};

	if (kt_token_verify(secret, SECRET_LEN, token, NOW, &claims, &error))
		g_error("token \"%s\" was accepted", token);
	g_assert_error(error, KT_TOKEN_ERROR, (int)code);
	g_assert_cmpint(claims.role, ==, KT_ROLE_NONE);
	/* A rejected token is never quoted back (it may be a real credential). */
	if (token[0] != '\0')
		g_assert_null(strstr(error->message, token));
}

static void test_roles(void)
{
	static const struct {
		const char *name;
		KtRole role;
		gboolean needs_lesson;
	} roles[] = {
	    {"teacher", KT_ROLE_TEACHER, TRUE},   {"classroom", KT_ROLE_CLASSROOM, TRUE},
	    {"observer", KT_ROLE_OBSERVER, TRUE}, {"archivist", KT_ROLE_ARCHIVIST, FALSE},
	    {"admin", KT_ROLE_ADMIN, FALSE},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(roles); i++) {
		g_assert_cmpint(kt_role_from_string(roles[i].name), ==, roles[i].role);
		g_assert_cmpstr(kt_role_to_string(roles[i].role), ==, roles[i].name);
		g_assert_cmpint(kt_role_needs_lesson(roles[i].role), ==, roles[i].needs_lesson);
	}
	g_assert_cmpint(kt_role_from_string("none"), ==, KT_ROLE_NONE);
	g_assert_cmpint(kt_role_from_string("Teacher"), ==, KT_ROLE_NONE);
	g_assert_cmpint(kt_role_from_string(""), ==, KT_ROLE_NONE);
	g_assert_cmpint(kt_role_from_string(NULL), ==, KT_ROLE_NONE);
	g_assert_cmpstr(kt_role_to_string(KT_ROLE_NONE), ==, "none");
	g_assert_cmpstr(kt_role_to_string((KtRole)99), ==, "none");
	g_assert_false(kt_role_needs_lesson((KtRole)99));
}

static void test_lesson_ids(void)
{
	g_autofree char *max = g_strnfill(64, 'a');
	g_autofree char *over = g_strnfill(65, 'a');

	g_assert_true(kt_token_lesson_id_is_valid("math-7_B"));
	g_assert_true(kt_token_lesson_id_is_valid(max));
	g_assert_false(kt_token_lesson_id_is_valid(over));
	g_assert_false(kt_token_lesson_id_is_valid(""));
	g_assert_false(kt_token_lesson_id_is_valid(NULL));
	g_assert_false(kt_token_lesson_id_is_valid("a.b"));
	g_assert_false(kt_token_lesson_id_is_valid("a/b"));
	g_assert_false(kt_token_lesson_id_is_valid("数学"));
}

static void test_round_trip_each_role(void)
{
	for (KtRole role = KT_ROLE_TEACHER; role <= KT_ROLE_ADMIN; role++) {
		g_autofree char *token = mint("lesson-42", role, NOW + 60);
		g_autoptr(GError) error = NULL;
		KtTokenClaims claims;

		g_assert_true(g_str_has_prefix(token, "v1.lesson-42."));
		g_assert_cmpuint(strlen(token), <=, KT_TOKEN_MAX_LEN);
		g_assert_true(kt_token_verify(secret, SECRET_LEN, token, NOW, &claims, &error));
		g_assert_no_error(error);
		g_assert_cmpstr(claims.lesson, ==, "lesson-42");
		g_assert_cmpint(claims.role, ==, role);
		g_assert_cmpint(claims.expires, ==, NOW + 60);
	}
}

static void test_no_lesson_roles(void)
{
	g_autofree char *archivist = mint("", KT_ROLE_ARCHIVIST, NOW + 60);
	g_autofree char *admin = mint(NULL, KT_ROLE_ADMIN, NOW + 60);
	KtTokenClaims claims;

	g_assert_true(g_str_has_prefix(archivist, "v1..archivist."));
	g_assert_true(kt_token_verify(secret, SECRET_LEN, archivist, NOW, &claims, NULL));
	g_assert_cmpstr(claims.lesson, ==, "");
	g_assert_cmpint(claims.role, ==, KT_ROLE_ARCHIVIST);
	g_assert_true(kt_token_verify(secret, SECRET_LEN, admin, NOW, &claims, NULL));
	g_assert_cmpint(claims.role, ==, KT_ROLE_ADMIN);
}

static void expect_mint_error(const guint8 *key, gsize key_len, const char *lesson, KtRole role,
                              gint64 expires)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(kt_token_mint(key, key_len, lesson, role, expires, &error));
	g_assert_error(error, KT_TOKEN_ERROR, KT_TOKEN_ERROR_INVALID);
}

static void test_mint_rejects(void)
{
	g_autofree char *over = g_strnfill(65, 'a');

	expect_mint_error(secret, SECRET_LEN, "", KT_ROLE_TEACHER, NOW);
	expect_mint_error(secret, SECRET_LEN, NULL, KT_ROLE_CLASSROOM, NOW);
	expect_mint_error(secret, SECRET_LEN, "", KT_ROLE_OBSERVER, NOW);
	expect_mint_error(secret, SECRET_LEN, "a.b", KT_ROLE_TEACHER, NOW);
	expect_mint_error(secret, SECRET_LEN, over, KT_ROLE_TEACHER, NOW);
	expect_mint_error(secret, SECRET_LEN, "l1", KT_ROLE_NONE, NOW);
	expect_mint_error(secret, SECRET_LEN, "l1", (KtRole)99, NOW);
	expect_mint_error(secret, SECRET_LEN, "l1", KT_ROLE_TEACHER, -1);
	expect_mint_error(secret, 15, "l1", KT_ROLE_TEACHER, NOW);
	expect_mint_error(NULL, 0, "l1", KT_ROLE_TEACHER, NOW);
}

static void test_expired(void)
{
	g_autofree char *token = mint("l1", KT_ROLE_TEACHER, NOW);
	g_autofree char *old = mint("l1", KT_ROLE_TEACHER, 0);
	g_autoptr(GError) error = NULL;

	/* Valid while now < expiry. */
	g_assert_true(kt_token_verify(secret, SECRET_LEN, token, NOW - 1, NULL, &error));
	expect_verify_error(token, KT_TOKEN_ERROR_EXPIRED);
	expect_verify_error(old, KT_TOKEN_ERROR_EXPIRED);
}

/* Replaces field @index of @token with @value. */
static char *replace_field(const char *token, guint index, const char *value)
{
	g_auto(GStrv) parts = g_strsplit(token, ".", -1);

	g_assert_cmpuint(g_strv_length(parts), ==, 5);
	g_free(parts[index]);
	parts[index] = g_strdup(value);
	return g_strjoinv(".", parts);
}

static void test_tampered(void)
{
	g_autofree char *token = mint("l1", KT_ROLE_CLASSROOM, NOW + 60);
	g_autofree char *lesson = replace_field(token, 1, "l2");
	g_autofree char *role = replace_field(token, 2, "teacher");
	g_autofree char *expiry = replace_field(token, 3, "1800000000");
	g_autofree char *no_lesson = replace_field(token, 1, "");
	g_autofree char *mac = g_strdup(token);
	char *last = &mac[strlen(mac) - 2]; /* not the final char: its low bits are unused */

	*last = *last == 'A' ? 'B' : 'A';
	expect_verify_error(lesson, KT_TOKEN_ERROR_BAD_SIGNATURE);
	expect_verify_error(role, KT_TOKEN_ERROR_BAD_SIGNATURE);
	expect_verify_error(expiry, KT_TOKEN_ERROR_BAD_SIGNATURE);
	expect_verify_error(mac, KT_TOKEN_ERROR_BAD_SIGNATURE);
	/* A classroom token stripped of its lesson is malformed before any MAC check. */
	expect_verify_error(no_lesson, KT_TOKEN_ERROR_MALFORMED);
}

static void test_wrong_secret(void)
{
	static const guint8 other[] = "fedcba9876543210fedcba9876543210";
	g_autofree char *token = mint("l1", KT_ROLE_TEACHER, NOW + 60);
	g_autoptr(GError) error = NULL;

	g_assert_false(kt_token_verify(other, sizeof other - 1, token, NOW, NULL, &error));
	g_assert_error(error, KT_TOKEN_ERROR, KT_TOKEN_ERROR_BAD_SIGNATURE);
	g_clear_error(&error);
	g_assert_false(kt_token_verify(secret, 8, token, NOW, NULL, &error));
	g_assert_error(error, KT_TOKEN_ERROR, KT_TOKEN_ERROR_BAD_SIGNATURE);
}

static void test_malformed(void)
{
	g_autofree char *token = mint("l1", KT_ROLE_TEACHER, NOW + 60);
	g_autofree char *oversized = g_strnfill(KT_TOKEN_MAX_LEN + 1, 'a');
	g_autofree char *extra_dot = g_strconcat(token, ".x", NULL);
	g_autofree char *truncated = g_strndup(token, strlen(token) - 1);
	g_autofree char *padded = g_strconcat(token, "=", NULL);
	g_autofree char *long_lesson = g_strnfill(65, 'a');
	g_autofree char *mac_long_lesson = replace_field(token, 1, long_lesson);
	g_autofree char *bad_version = replace_field(token, 0, "v2");
	g_autofree char *bad_role = replace_field(token, 2, "janitor");
	g_autofree char *none_role = replace_field(token, 2, "none");
	g_autofree char *long_role = replace_field(token, 2, "teacherteacherteacher");
	g_autofree char *alpha_expiry = replace_field(token, 3, "17x0000000");
	g_autofree char *neg_expiry = replace_field(token, 3, "-1");
	g_autofree char *plus_expiry = replace_field(token, 3, "+1700000060");
	g_autofree char *empty_expiry = replace_field(token, 3, "");
	g_autofree char *huge_expiry = replace_field(token, 3, "99999999999999999999");
	g_autofree char *lesson_chars = replace_field(token, 1, "l 1");
	g_autofree char *lesson_slash = replace_field(token, 1, "l/1");
	g_autofree char *mac_chars =
	    replace_field(token, 4, "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+");
	g_autofree char *mac_empty = replace_field(token, 4, "");
	const char *fixed[] = {"", ".", "....", ".....", "v1", "v1.l1.teacher.1", "garbage"};

	for (gsize i = 0; i < G_N_ELEMENTS(fixed); i++)
		expect_verify_error(fixed[i], KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(oversized, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(extra_dot, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(truncated, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(padded, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(mac_long_lesson, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(bad_version, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(bad_role, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(none_role, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(long_role, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(alpha_expiry, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(neg_expiry, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(plus_expiry, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(empty_expiry, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(huge_expiry, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(lesson_chars, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(lesson_slash, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(mac_chars, KT_TOKEN_ERROR_MALFORMED);
	expect_verify_error(mac_empty, KT_TOKEN_ERROR_MALFORMED);
	g_assert_false(kt_token_verify(secret, SECRET_LEN, NULL, NOW, NULL, NULL));
}

/* The final MAC character carries 2 unused bits; a token with them set is a second
 * spelling of the same MAC and is refused. */
static void test_non_canonical_mac(void)
{
	g_autofree char *token = mint("l1", KT_ROLE_TEACHER, NOW + 60);
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *last = &token[strlen(token) - 1];
	int v = (int)(strchr(alphabet, *last) - alphabet);

	g_assert_cmpint(v & 3, ==, 0);
	*last = alphabet[v | 1];
	expect_verify_error(token, KT_TOKEN_ERROR_MALFORMED);
}

/* ---- kt-secret ---- */

static KtSettings *settings_in(const char *dir)
{
	KtSettings *s = kt_settings_new_default();
	g_free(s->data_dir);
	s->data_dir = g_build_filename(dir, "sub", "data", NULL);
	return s;
}

static void test_secret_generate_and_reload(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-secret-XXXXXX", NULL);
	g_autoptr(KtSettings) s = settings_in(dir);
	g_autofree char *path = g_build_filename(s->data_dir, KT_SECRET_FILE, NULL);
	g_autoptr(GError) error = NULL;
	guint8 *a = NULL, *b = NULL;
	gsize a_len = 0, b_len = 0;
	struct stat st;

	g_assert_true(kt_secret_load(s, &a, &a_len, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(a_len, ==, 32);
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(g_stat(s->data_dir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);

	g_assert_true(kt_secret_load(s, &b, &b_len, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(a, a_len, b, b_len);

	/* `ketang token` and `ketang serve` agree: one mints, the other verifies. */
	g_autofree char *token = kt_token_mint(a, a_len, "l1", KT_ROLE_TEACHER, NOW + 1, NULL);
	g_assert_true(kt_token_verify(b, b_len, token, NOW, NULL, NULL));
	kt_secret_free(a, a_len);
	kt_secret_free(b, b_len);
	kt_secret_free(NULL, 0);
	tmp_dir_remove(dir);
}

static void test_secret_corrupt(void)
{
	static const char *bad[] = {
	    "", "abc\n", "zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00"};
	g_autofree char *dir = g_dir_make_tmp("kt-secret-XXXXXX", NULL);
	g_autoptr(KtSettings) s = settings_in(dir);
	g_autofree char *path = g_build_filename(s->data_dir, KT_SECRET_FILE, NULL);
	guint8 *key = NULL;
	gsize len = 0;

	g_assert_cmpint(g_mkdir_with_parents(s->data_dir, 0700), ==, 0);
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_true(g_file_set_contents(path, bad[i], -1, NULL));
		g_assert_false(kt_secret_load(s, &key, &len, &error));
		g_assert_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_CORRUPT);
		g_assert_nonnull(strstr(error->message, path));
		g_assert_nonnull(strstr(error->message, "64 hex characters"));
	}
	g_assert_null(key);
	/* Upper-case hex with CRLF, as an editor might save it, is fine. */
	g_assert_true(g_file_set_contents(
	    path, "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\r\n", -1,
	    NULL));
	g_assert_true(kt_secret_load(s, &key, &len, NULL));
	g_assert_cmpuint(len, ==, 32);
	g_assert_cmpuint(key[0], ==, 0x01);
	g_assert_cmpuint(key[7], ==, 0xef);
	kt_secret_free(key, len);
	tmp_dir_remove(dir);
}

static void test_secret_from_config(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-secret-XXXXXX", NULL);
	g_autoptr(KtSettings) s = settings_in(dir);
	g_autoptr(GError) error = NULL;
	guint8 *key = NULL;
	gsize len = 0;

	g_free(s->secret);
	s->secret = g_strdup("a-config-secret-of-some-length");
	g_assert_true(kt_secret_load(s, &key, &len, &error));
	g_assert_cmpmem(key, len, s->secret, strlen(s->secret));
	kt_secret_free(key, len);
	/* The config secret wins: no file is generated. */
	g_assert_false(g_file_test(s->data_dir, G_FILE_TEST_EXISTS));

	g_free(s->secret);
	s->secret = g_strdup("too-short");
	g_assert_false(kt_secret_load(s, &key, &len, &error));
	g_assert_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_TOO_SHORT);
	tmp_dir_remove(dir);
}

static void test_secret_unwritable(void)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();
	g_autoptr(GError) error = NULL;
	guint8 *key = NULL;
	gsize len = 0;

	g_free(s->data_dir);
	s->data_dir = g_strdup("/proc/kt-no-such-dir");
	g_assert_false(kt_secret_load(s, &key, &len, &error));
	g_assert_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_IO);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/role/table", test_roles);
	g_test_add_func("/token/lesson-ids", test_lesson_ids);
	g_test_add_func("/token/round-trip-each-role", test_round_trip_each_role);
	g_test_add_func("/token/no-lesson-roles", test_no_lesson_roles);
	g_test_add_func("/token/mint-rejects", test_mint_rejects);
	g_test_add_func("/token/expired", test_expired);
	g_test_add_func("/token/tampered", test_tampered);
	g_test_add_func("/token/wrong-secret", test_wrong_secret);
	g_test_add_func("/token/malformed", test_malformed);
	g_test_add_func("/token/non-canonical-mac", test_non_canonical_mac);
	g_test_add_func("/secret/generate-and-reload", test_secret_generate_and_reload);
	g_test_add_func("/secret/corrupt", test_secret_corrupt);
	g_test_add_func("/secret/from-config", test_secret_from_config);
	g_test_add_func("/secret/unwritable", test_secret_unwritable);
	return g_test_run();
}
