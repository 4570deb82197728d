#!/usr/bin/env python3
"""Hand-made seed inputs for what a Chromium capture (chromium-seeds.mjs) does not hold:
the clear RTP and RTCP packets of srtp, PLI and FIR (a Chromium receiver sent none on 5 % loss), two-byte-form header extensions,
padding, the text inputs of the token, http and recordings targets, and the stream
scripts of seqstate (records: op, sequence step, time step, size, timestamp step). Formats as
Chromium sends them (RFC 4585 §6.3.1 PLI, RFC 5104 §4.3.1 FIR, RFC 8285 §4.3).

    gen-seeds.py OUT       (writes OUT/NAME/<sha1>)"""
import hashlib
import os
import struct
import sys


def put(out, target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def rtcp(pt, count, body):
    return struct.pack("!BBH", 0x80 | count, pt, (len(body) + 4) // 4 - 1) + body


def rtp(pt, seq, ext=b"", profile=0xBEDE, payload=b"\x90\x80\x12\x34\x10\x00", pad=0):
    b0 = 0x80 | (0x10 if ext else 0) | (0x20 if pad else 0)
    h = struct.pack("!BBHII", b0, pt, seq, 90000 + seq * 3000, 0x1234ABCD)
    if ext:
        ext += b"\0" * (-len(ext) % 4)
        h += struct.pack("!HH", profile, len(ext) // 4) + ext
    return h + payload + (b"\0" * (pad - 1) + bytes([pad]) if pad else b"")


def main():
    out = sys.argv[1]
    rr = rtcp(201, 0, struct.pack("!I", 1))
    pli = rtcp(206, 1, struct.pack("!II", 1, 0x1234ABCD))
    fir = rtcp(206, 4, struct.pack("!IIIB3x", 1, 0, 0x1234ABCD, 7))
    for p in (pli, fir, rr + pli, rr + fir, rr + pli + fir):
        put(out, "rtcp", p)
        put(out, "rtp", p)
        for mode in (2, 3):  # srtp: RTCP, AES-CM then AES-GCM
            put(out, "srtp", bytes([mode]) + p)
    # One-byte form with abs-send-time (2), TWCC (3), mid (4), rid (10); two-byte form.
    one = bytes([0x22, 1, 2, 3, 0x31, 0, 9, 0x40, ord("0"), 0xA0, ord("h")])
    two = bytes([3, 2, 0, 9, 4, 1, ord("1"), 200, 0])
    for seq in range(4):
        for p in (rtp(96, seq, one), rtp(96, seq, two, 0x1000), rtp(96, seq, one, pad=4)):
            put(out, "rtp", p)
            put(out, "payload", bytes([111]) + p)
            for mode in (0, 1):  # srtp: RTP, AES-CM then AES-GCM
                put(out, "srtp", bytes([mode]) + p)
    put(out, "rtpext", b"".join(struct.pack("!BH", 5 if s % 8 else 100, len(p)) + p
                                 for s in range(16) for p in [rtp(96, s, one)]))
    tokens = ["v1.maths-3a.classroom.1795549599.wy5YsQKc6bRzZ1Jx2iN0Yb2I5uC0bC6Ktq2sA3l8YbQ",
              "v1..admin.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
              "v1.l1.teacher.99999999999.", "v2.a.b.c.d", "...."]
    for t in tokens:
        put(out, "token", "\0" + t)
    for t in ("v1.maths-3a.teacher.1900000000", "v1..archivist.1900000000",
              "v1.x.observer.1700000000"):
        put(out, "token", "\1" + t)
    put(out, "token", "\2maths-3a\nclassroom\n1900000000")
    put(out, "token", "\2\nadmin\n1900000001")
    http = ["\0bytes=0-99", "\0bytes=-500", "\0bytes=100-", "\0bytes=0-0,5-9", "\0items=1-2",
            "\1/", "\1/teacher", "\1/css/a.css", "\1/up/", "\1/leak", "\1/../etc/passwd",
            "\1//etc/hostname", "\2 2026-11-24T08:00+08:00", "\2 1795549599", "\2 2026-11-24T08:00Z",
            "\3 12", "\3 12/media", "\3 999999999999999999", "\4 maths-3a", "\4 maths-3a/program",
            "\4 maths-3a/3f2a9c1e-7d41-4c1b-9a55-0c9b8e6a1d22", "\5 segment00042.ts",
            "\5 index.m3u8", "\5 maths-3a", "\5 video.mp4"]
    for h in http:
        put(out, "http", h[0] + h[1:].lstrip(" "))
    for q in ("l1\n\n\n\n\n\n\n\n\n", "\nWang_Li\nmath\ng1\nprogram\n1600000000\n1900000000\n\n10\n0",
              "\n\n\n\nsource\n2023-11-14T00:00+08:00\n2030-01-01T00:00Z\n100%\n1\n1",
              "\n\n\n\n\n\n\n_\n500\n2", "\n\n\n\n\n\n\n数学\n\n", "\n\n\n\n\n\n\n\\\n\n"):
        put(out, "recordings", q)
    # DTLS: a ClientHello record head with a fragment, an alert, a ChangeCipherSpec.
    hs = bytes([1]) + (40).to_bytes(3, "big") + b"\0\0" + (0).to_bytes(3, "big") + (40).to_bytes(3, "big") + b"\x01" * 40
    put(out, "dtls", bytes([22, 0xfe, 0xff, 0, 0]) + b"\0" * 6 + struct.pack("!H", len(hs)) + hs)
    put(out, "dtls", bytes([21, 0xfe, 0xfd, 0, 0]) + b"\0\0\0\0\0\1" + struct.pack("!H", 2) + b"\2\x28")
    put(out, "dtls", bytes([20, 0xfe, 0xfd, 0, 0]) + b"\0\0\0\0\0\2" + struct.pack("!H", 1) + b"\1")

    def rec(op, step, ms, size, ts):
        return struct.pack("!BHBBB", op, step & 0xFFFF, ms, size, ts)
    # A steady 30 packets/s stream with a report a second.
    put(out, "seqstate", b"".join(rec(0, 1, 33, 180, 10) + (rec(4, 0, 0, 0, 0) if i % 30 == 29 else b"")
                                  for i in range(90)))
    # Losses (gaps of 1, 5 and 200), NACKs due, the lost ones late, subscribers' NACKs.
    put(out, "seqstate", rec(0, 1, 20, 100, 10) + rec(0, 2, 20, 100, 10) + rec(0, 6, 20, 100, 10)
        + rec(1, 0, 30, 128, 0) + rec(0, 0xFFFB, 5, 100, 0) + rec(2, 3, 0, 0, 0)
        + rec(0, 201, 20, 250, 10) + rec(1, 0, 30, 16, 0) + rec(1, 0, 30, 16, 0) + rec(4, 0, 0, 0, 0))
    # The wrap, a restart after a jump (two packets confirm it), an SR, old packets after 2 s.
    put(out, "seqstate", rec(0, 0xFFF0, 10, 50, 1) + b"".join(rec(0, 1, 10, 50, 1) for _ in range(20))
        + rec(0, 0x8000, 10, 50, 1) + rec(0, 1, 10, 50, 1) + rec(3, 0x1234, 0, 7, 9)
        + rec(4, 0, 251, 0, 0) + rec(2, 5, 0, 0, 0) + rec(2, 0x8000, 0, 0, 0))


if __name__ == "__main__":
    main()
