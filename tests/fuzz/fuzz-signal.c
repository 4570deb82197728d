/* One text frame of the lesson WebSocket (signaling/PROTOCOL.md). */
#include "fuzz.h"
#include "kt-signal-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	KtSignalMsg msg = {0};

	kt_signal_msg_parse((const char *)data, size, &msg, &error);
	kt_signal_msg_clear(&msg);
	return 0;
}
