/* Keeps the library non-empty while its modules land; removed then. */
int kt_transport_placeholder;
