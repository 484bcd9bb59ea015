#!/usr/bin/python3
"""Adds secure-aggregation frames (flmsg types 8..14, include/edgeai/flmsg.h)
to fuzz/corpus/flmsg for fuzz_flmsg, encoded here from the documented table
layout, independently of the C encoder (gen_flmsg_corpus.py writes the rest).

    /usr/bin/python3 fuzz/gen_flmsg_sa_corpus.py
"""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus", "flmsg")
os.makedirs(out, exist_ok=True)


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283
ADV, PEERS, SHARES, BUNDLE, MASKED, UREQ, UNMASK = range(8, 15)
ROW = {ADV: 64, PEERS: 64, SHARES: 88, BUNDLE: 88, UREQ: 0, UNMASK: 32}
NOINDEX = 0xFFFF


def frames(typ, payload, rnd=1, client=0, stride=262144, n_samples=0, steps=0, loss=0.0):
    total = len(payload)
    count = max(1, -(-total // stride)) if total else 1
    res = []
    for i in range(count):
        chunk = payload[i * stride:(i + 1) * stride]
        head = struct.pack("<4sHBBIIIIIIQII", b"EAFL", 1, typ, 0, rnd, client, client, i,
                           count, stride, total, len(chunk), crc32c(chunk))
        head += struct.pack("<qqdI", n_samples, steps, loss, 0)
        head += struct.pack("<I", crc32c(head))
        res.append(head + chunk)
    return res


def table(typ, n, index, present, attempt=0):
    """present: the indices with a row; row i is bytes of value i."""
    flags = bytes(1 if i in present else 0 for i in range(n))
    rows = b"".join(bytes([i]) * ROW[typ] for i in range(n) if i in present)
    return struct.pack("<IHH", attempt, n, index) + flags + rows


def masked(n, index, words, attempt=0):
    return struct.pack("<IHH", attempt, n, index) + struct.pack("<%dI" % len(words), *words)


def write(name, fr, mode=0):
    data = bytes([mode])
    for f in fr:
        data += struct.pack("<H", len(f)) + f
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(data)


n = 4
rnd = (frames(ADV, table(ADV, n, 2, {2}), client=2)
       + frames(PEERS, table(PEERS, n, NOINDEX, {0, 1, 2, 3}), client=0xFFFFFFFF)
       + frames(SHARES, table(SHARES, n, 2, {0, 1, 3}), client=2)
       + frames(BUNDLE, table(BUNDLE, n, 2, {0, 1, 3}), client=2)
       + frames(MASKED, masked(n, 2, list(range(0x7FFFFFF0, 0x7FFFFFF0 + 30))), client=2,
                stride=32, n_samples=500, steps=8, loss=2.3)
       + frames(UREQ, table(UREQ, n, NOINDEX, {0, 1, 2}), client=0xFFFFFFFF)
       + frames(UNMASK, table(UNMASK, n, 2, {0, 1, 2, 3}), client=2))
write("sa_round", rnd)
write("sa_round_fixcrc", rnd, mode=1)
# malformed tables with valid CRCs: presence 2, short row, index = n, n = 0
bad = table(SHARES, n, 1, {0, 2, 3})
write("sa_presence2_fixcrc", frames(SHARES, bad[:9] + b"\x02" + bad[10:], client=1), mode=1)
write("sa_short_row_fixcrc", frames(UNMASK, table(UNMASK, n, 1, {1})[:-1], client=1), mode=1)
write("sa_index_n_fixcrc", frames(ADV, table(ADV, n, 4, {3}), client=3), mode=1)
write("sa_n0_fixcrc", frames(PEERS, struct.pack("<IHH", 0, 0, NOINDEX)), mode=1)
write("sa_masked_short", frames(MASKED, b"\x01\x00\x00\x00", client=1))
print("wrote", len(os.listdir(out)), "files to", out)
