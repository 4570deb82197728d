/* Keeps the library non-empty while its modules land; removed then. */
int kt_common_placeholder;
