#!/usr/bin/python3
"""Writes fuzz/corpus/flmsg: FL wire-format inputs for fuzz_flmsg (the
secure-aggregation tables too), encoded here independently of the C encoder
(from the table in include/edgeai/flmsg.h), so the corpus also checks that
the C decoder reads the documented format.

Each file: a mode byte (bit 0: the target recomputes CRCs), then frames as a
2-byte little-endian length + the frame.

    /usr/bin/python3 fuzz/gen_flmsg_corpus.py
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

MANIFEST, MODEL, UPDATE, JOIN, ACK, OPEN, CLOSE = range(1, 8)
# secure aggregation (types 8..14): table payloads of ROW bytes per present party
ADV, PEERS, SHARES, BUNDLE, MASKED, UREQ, UNMASK = range(8, 15)
ROW = {ADV: 64, PEERS: 64, SHARES: 88, BUNDLE: 88, UREQ: 0, UNMASK: 32}
NOINDEX = 0xFFFF


def frames(typ, payload, rnd=1, client=0, sender=0, stride=262144, n_samples=0, steps=0,
           loss=0.0, block2=0):
    """block2 > 0: a version-2 frame whose payload ends with block2 floats of a
    second block (flags 1, bytes 72..75 = block2)."""
    total = len(payload)
    count = max(1, -(-total // stride)) if total else 1
    res = []
    for i in range(count):
        chunk = payload[i * stride:(i + 1) * stride]
        head = struct.pack("<4sHBBIIIIIIQII", b"EAFL", 2 if block2 else 1, typ,
                           1 if block2 else 0, rnd, client, sender, i, count, stride, total,
                           len(chunk), crc32c(chunk))
        head += struct.pack("<qqdI", n_samples, steps, loss, block2)
        assert len(head) == 76
        head += struct.pack("<I", crc32c(head))
        res.append(head + chunk)
    return res


def floats(n):
    return struct.pack("<%df" % n, *[0.25 * i - 1.0 for i in range(n)])


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


upd = frames(UPDATE, floats(40), rnd=3, client=2, sender=2, stride=32, n_samples=600, steps=19,
             loss=0.75)
write("update_in_order", upd)
write("update_reversed", upd[::-1])
write("update_dups", [upd[1], upd[1], upd[0]] + upd[2:] + [upd[0]])
write("update_fixcrc", upd, mode=1)
model = frames(MODEL, floats(33), rnd=0, client=0xFFFFFFFF, stride=16)
write("model_chunks", model)
write("empty_vector", frames(UPDATE, b"", rnd=1, client=1, sender=1))
write("control", frames(JOIN, b"", client=4, sender=4) + frames(OPEN, struct.pack("<3I", 1, 2, 4))
      + frames(ACK, b"ok") + frames(CLOSE, b"") + frames(MANIFEST, b"m" * 16, client=0xFFFFFFFF))
# edge cases: mixed totals for one key, a truncated frame, overlong count, flipped CRC
other = frames(UPDATE, floats(44), rnd=3, client=2, sender=2, stride=32)
write("mixed_totals", [upd[0], other[1]] + upd[1:])
write("truncated", [upd[0][:-3]])
bad = bytearray(upd[0])
bad[24] = 9  # chunk count
write("overlong_count_fixcrc", [bytes(bad)], mode=1)
bad = bytearray(upd[0])
bad[44] ^= 1
write("bad_payload_crc", [bytes(bad)])
write("header_only", [upd[0][:80]], mode=1)
write("many_partials_fixcrc",
      [frames(UPDATE, floats(64), rnd=r, client=c, sender=c, stride=16)[0]
       for r in range(3) for c in range(3)], mode=1)
# version 2: a model and its SCAFFOLD control (37 + 30 floats), an update
# with its control delta; one v1 and one v2 message interleaved
write("update_block2", frames(UPDATE, floats(40), rnd=4, client=1, sender=1, stride=32,
                              n_samples=300, steps=9, loss=0.5, block2=12))
both = frames(MODEL, floats(67), rnd=2, client=0xFFFFFFFF, stride=64, block2=30)
write("model_block2_fixcrc", both, mode=1)
write("v1_v2_interleaved", [x for pair in zip(upd, both) for x in pair] + upd[len(both):])
bad = bytearray(both[0])
bad[72] = 200  # second block longer than the message
write("block2_overlong_fixcrc", [bytes(bad)], mode=1)
# secure aggregation: one whole round, then malformed tables with valid CRCs
n = 4
rnd = (frames(ADV, table(ADV, n, 2, {2}), client=2, sender=2)
       + frames(PEERS, table(PEERS, n, NOINDEX, {0, 1, 2, 3}), client=0xFFFFFFFF, sender=0xFFFFFFFF)
       + frames(SHARES, table(SHARES, n, 2, {0, 1, 3}), client=2, sender=2)
       + frames(BUNDLE, table(BUNDLE, n, 2, {0, 1, 3}), client=2, sender=2)
       + frames(MASKED, masked(n, 2, list(range(0x7FFFFFF0, 0x7FFFFFF0 + 30))), client=2, sender=2,
                stride=32, n_samples=500, steps=8, loss=2.3)
       + frames(UREQ, table(UREQ, n, NOINDEX, {0, 1, 2}), client=0xFFFFFFFF, sender=0xFFFFFFFF)
       + frames(UNMASK, table(UNMASK, n, 2, {0, 1, 2, 3}), client=2, sender=2))
write("sa_round", rnd)
write("sa_round_fixcrc", rnd, mode=1)
# malformed tables with valid CRCs: presence 2, short row, index = n, n = 0
bad = table(SHARES, n, 1, {0, 2, 3})
write("sa_presence2_fixcrc", frames(SHARES, bad[:9] + b"\x02" + bad[10:], client=1, sender=1), mode=1)
write("sa_short_row_fixcrc", frames(UNMASK, table(UNMASK, n, 1, {1})[:-1], client=1, sender=1), mode=1)
write("sa_index_n_fixcrc", frames(ADV, table(ADV, n, 4, {3}), client=3, sender=3), mode=1)
write("sa_n0_fixcrc", frames(PEERS, struct.pack("<IHH", 0, 0, NOINDEX)), mode=1)
write("sa_masked_short", frames(MASKED, b"\x01\x00\x00\x00", client=1, sender=1))
# a round manifest of a SecAgg + DP run (layout in tools/edgeai/fl_net.h; the
# payload is opaque to the decoder): the fixed part, 4 sampled ids, the SAGG
# block (threshold 3, 16 fraction bits, range 16), then the SADP block
# (weighting rule 1: clipped delta with weight 1, clip 0.1)
man = (struct.pack("<5I3fQII", 0, 100, 1, 32, 0, 0.05, 0.0, 0.5, 5, 0, 4)
       + struct.pack("<4I", 0, 1, 2, 3) + struct.pack("<3If", 0x47474153, 3, 16, 16.0)
       + struct.pack("<2If", 0x50444153, 1, 0.1))
assert len(man) == 48 + 16 + 16 + 12
write("manifest_secagg_dp", frames(MANIFEST, man, rnd=2, client=0xFFFFFFFF, sender=0xFFFFFFFF))
print("wrote", len(os.listdir(out)), "files to", out)
