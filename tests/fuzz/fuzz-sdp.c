/* An SDP offer from a WHIP/WHEP request or a publish_offer message. */
#include "fuzz.h"
#include "kt-sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	KtSdp *sdp = kt_sdp_parse((const char *)data, size, &error);

	kt_sdp_free(sdp);
	return 0;
}
