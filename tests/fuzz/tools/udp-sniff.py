#!/usr/bin/env python3
"""Writes the payload of every UDP datagram seen on loopback to OUTDIR, one file each
(NNNNNN-KIND.bin, KIND by RFC 7983 first byte: stun, dtls, rtp, rtcp), until killed.

    udp-sniff.py OUTDIR

For tests/fuzz/tools/capture-seeds.sh only: it needs root (an AF_PACKET socket) and is
meant for the private network namespace of tests/netns-run.sh, where loopback carries
nothing but the test's own traffic."""
import os
import signal
import socket
import struct
import sys

PACKET_HOST = 0  # loopback shows each datagram twice: keep the delivered copy


def kind(p):
    if len(p) < 2:
        return None
    b = p[0]
    if b < 4:
        return "stun"
    if 20 <= b <= 63:
        return "dtls"
    if 128 <= b <= 191:
        return "rtcp" if 192 <= p[1] <= 223 else "rtp"
    return None


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
    s.bind(("lo", 0))
    n = 0
    while True:
        frame, addr = s.recvfrom(70000)
        if addr[2] != PACKET_HOST or len(frame) < 14 + 20:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17:  # UDP
            continue
        udp_len = struct.unpack("!H", ip[ihl + 4:ihl + 6])[0]
        payload = ip[ihl + 8:ihl + udp_len]
        k = kind(payload)
        if k is None:
            continue
        n += 1
        with open(os.path.join(out, "%06d-%s.bin" % (n, k)), "wb") as f:
            f.write(payload)


if __name__ == "__main__":
    main()
