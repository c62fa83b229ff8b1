#!/usr/bin/python3
"""checkpoint_edit.py — change fields of a checkpoint.json and give it a
matching SHA-256, as a damaged disk, a bad restore or someone with write
access to the state dir could (the hash proves only that the content is
what was written, not who wrote it).

usage: checkpoint_edit.py CHECKPOINT 'PYTHON-STATEMENTS'
The statements see the checkpoint as `cp` (a dict), e.g.
    'cp["cutover"]["switch_done"] = -1'

The hash is the one checkpoints/checkpoint.c computes: SHA-256 of the
compact dump with sorted keys, ASCII only, reals as %.17g, without
"sha256".
"""
import hashlib
import json
import sys


def dump(v):
    if isinstance(v, dict):
        return "{" + ",".join(dump(k) + ":" + dump(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dump(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        s = "%.17g" % v
        return s if any(c in s for c in ".eninf") else s + ".0"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, ensure_ascii=True)


path, code = sys.argv[1], sys.argv[2]
cp = json.load(open(path))
cp.pop("sha256", None)
if hashlib.sha256(dump(cp).encode()).hexdigest() != json.load(open(path))["sha256"]:
    sys.exit("checkpoint_edit.py: cannot reproduce the hash of %s" % path)
exec(code, {}, {"cp": cp})
cp["sha256"] = hashlib.sha256(dump(cp).encode()).hexdigest()
with open(path, "w") as f:
    json.dump(cp, f, indent=1, sort_keys=True)
    f.write("\n")
