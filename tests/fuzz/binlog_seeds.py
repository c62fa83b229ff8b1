#!/usr/bin/python3
"""binlog_seeds.py — write the seeds of fuzz_binlog_rows from the captured
binlogs in tests/unit/files/binlog/: one file per rows event, in the
harness's input form (type/flags byte, TABLE_MAP length, TABLE_MAP body,
rows event body; bodies without the 19-byte header and the CRC32), and
one per kind of GTID event (byte 0x40, then its body).

    /usr/bin/python3 tests/fuzz/binlog_seeds.py
"""
import glob
import hashlib
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus", "binlog_rows")
# The harness's order of the rows event types (index = low 4 bits).
TYPES = [23, 24, 25, 30, 31, 32, 166, 167, 168, 169, 170, 171]
GTID = 162                       # MariaDB's GTID_EVENT
GTID_FLAG = 0x40                 # the harness's "a GTID event body" bit
NO_METADATA = "no-metadata"      # needs signedness and charsets filled in
MAX = 16384                      # run.sh's -max_len for this harness


def events(data):
    pos, crc = 4, 0
    while pos < len(data):
        size = int.from_bytes(data[pos + 9:pos + 13], "little")
        etype = data[pos + 4]
        if etype == 15:
            crc = 4 if data[pos + size - 5] == 1 else 0
        yield etype, data[pos + 19:pos + size - crc]
        pos += size


def main():
    os.makedirs(OUT, exist_ok=True)
    n = 0
    gtid_kinds = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "files",
                                              "binlog", "*.binlog"))):
        fill = 0x20 if NO_METADATA in path else 0
        table_map = None
        for etype, body in events(open(path, "rb").read()):
            if etype == 19:
                table_map = body
                continue
            if etype == GTID:
                if body[8:] in gtid_kinds:   # the same but for seq_no
                    continue
                gtid_kinds.add(body[8:])
                seed = bytes([GTID_FLAG]) + body
            elif etype in TYPES and table_map is not None:
                seed = (bytes([TYPES.index(etype) | fill]) +
                        len(table_map).to_bytes(2, "little") + table_map +
                        body)
            else:
                continue
            if len(seed) > MAX:
                continue
            name = hashlib.sha1(seed).hexdigest()
            with open(os.path.join(OUT, name), "wb") as f:
                f.write(seed)
            n += 1
    print("%d seeds in %s" % (n, OUT))


main()
