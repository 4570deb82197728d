#!/usr/bin/env python3
"""Files a chromium-seeds.mjs capture (CAPTURE) as seed inputs of each fuzz target under
OUT/NAME/, in the input format each target reads (tests/fuzz/README.md):

    file-seeds.py [--keep N] CAPTURE OUT

  sdp, signal     as captured
  rtp             every plaintext RTP and RTCP datagram
  rtcp            every RTCP datagram
  payload         Chromium's Opus payload type (111) then each RTP packet
  rtpext          runs of 16 consecutive packets of one SSRC as (gap ms, length, packet)
                  records, the gaps from the capture's arrival order (5 ms, 100 every 8th
                  so the TWCC receiver reports)
  dtls            every DTLS datagram of the server run
Files are named by content (sha1), as libFuzzer names its own. With --keep N, at most N
datagrams of each kind (RTP payload type, RTCP packet types) are filed: the real ones
capture-seeds.sh keeps in a corpus before libFuzzer's merge adds what else covers more.
"""
import collections
import hashlib
import os
import struct
import sys

OPUS_PT = 111


def put(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


KEEP = None


def rtcp_types(p):
    types, o = [], 0
    while o + 4 <= len(p):
        types.append((p[o + 1], p[o] & 31))
        o += (int.from_bytes(p[o + 2:o + 4], "big") + 1) * 4
    return tuple(types)


def datagrams(d, kind):
    seen = collections.Counter()
    if not os.path.isdir(d):
        return
    for name in sorted(os.listdir(d)):
        if name.endswith("-%s.bin" % kind):
            with open(os.path.join(d, name), "rb") as f:
                p = f.read()
            key = p[1] & 0x7F if kind == "rtp" else rtcp_types(p) if kind == "rtcp" else p[:1]
            seen[key] += 1
            if KEEP is None or seen[key] <= KEEP:
                yield p


def main():
    global KEEP
    args = sys.argv[1:]
    if args[0] == "--keep":
        KEEP = int(args[1])
        args = args[2:]
    cap, out = args
    for target in ("sdp", "signal"):
        src = os.path.join(cap, target)
        for name in sorted(os.listdir(src)) if os.path.isdir(src) else []:
            with open(os.path.join(src, name), "rb") as f:
                put(out, target, f.read())
    plain = os.path.join(cap, "udp-plain")
    by_ssrc = collections.defaultdict(list)
    for p in datagrams(plain, "rtp"):
        put(out, "rtp", p)
        put(out, "payload", bytes([OPUS_PT]) + p)
        if len(p) >= 12:
            by_ssrc[p[8:12]].append(p)
    for p in datagrams(plain, "rtcp"):
        put(out, "rtp", p)
        put(out, "rtcp", p)
    for packets in by_ssrc.values():
        for i in range(0, len(packets) if KEEP is None else 16, 16):
            rec = b"".join(struct.pack("!BH", 100 if j % 8 == 7 else 5, len(p)) + p
                           for j, p in enumerate(packets[i:i + 16]))
            put(out, "rtpext", rec)
    for p in datagrams(os.path.join(cap, "udp-server"), "dtls"):
        put(out, "dtls", p)


if __name__ == "__main__":
    main()
