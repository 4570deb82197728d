/* A datagram on the media port whose first byte says DTLS (RFC 7983 §7): the screen that
 * kt_dtls_handle_datagram runs before OpenSSL sees it (record framing, epoch-0 sequence
 * numbers, plaintext alert/ChangeCipherSpec/handshake fragment bounds). The records after
 * it are OpenSSL's to parse, not ours. */
#include "fuzz.h"
#include "kt-dtls-private.h"
#include "kt-rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kt_rtp_demux(data, size);
	kt_dtls_datagram_well_formed(data, size);
	return 0;
}
