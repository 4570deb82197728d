/* Value checks for the option table (kt-config-check.c): each sets @error saying
 * why @value is bad, never echoing a secret. Pure functions, any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

bool kt_config_check_listen(const char *value, GError **error);
bool kt_config_check_ip(const char *value, GError **error);
bool kt_config_check_url(const char *value, GError **error);
bool kt_config_check_secret(const char *value, GError **error);
bool kt_config_check_rung(const char *value, GError **error);
