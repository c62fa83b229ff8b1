#!/bin/bash
# 06-json-get.sh — json_get (tests/lib/common.sh), which `status` and the
# wait loops call several times a second, proves itself:
#   1. over documents with nested objects and arrays, strings with escapes
#      and non-ASCII text, integers, floats of every form and size,
#      booleans and nulls, each expression prints what Python's
#      print(eval(EXPR)) prints, and fails where Python fails (a missing
#      key, an index out of range);
#   2. the plain paths the wait loops poll (d["state"], a count, a flag,
#      a lag in seconds) are answered without starting Python.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"

# the cases, each a directory: expr, doc, and what Python prints for it
# (want) with its exit status (want_rc)
$PY - "$T/cases" <<'PYEOF'
import io, json, os, random, struct, sys, contextlib
r = random.Random(6)
floats = [0.1, 0.5, 1.5, 2.0, 100.0, 0.0001, 0.00001, 1e15, 1e16, 1e22,
          123456789012345.6, -0.0, 0.0, -3.25, 12500.0, 0.30000000000000004,
          1 / 3, 2.3, 5e-324, 1.7976931348623157e308]
for _ in range(15):
    floats += [r.uniform(-1e6, 1e6), round(r.uniform(0, 100), r.randint(0, 6)),
               struct.unpack('d', struct.pack('Q', r.getrandbits(64)))[0]]
numbers = ['0', '-7', '12345678901234567890', '1E3', '2e-7', '1.0e+2']
for f in floats:
    if f == f and abs(f) != float('inf'):
        # as Python writes them, as JSON writers with 17 and 10 digits do
        numbers += [repr(f), '%.17g' % f, '%.10g' % f]
doc = {"state": "sync", "running": True, "stopped": False, "gone": None,
       "text": 'tab\there "quoted" back\\slash\nnew line / slash',
       "greek": "καλημέρα 😀", "escaped": "\u00e9\u4e2d",
       "sync": {"backlog_rows": 12, "lag_s": 0.25,
                "nested": {"deep": [1, [2, 3]]}},
       "replicas": [{"name": "r1", "lag_s": 0.1, "sql_running": False}, {}],
       "tables": [{"rows": 3}, {"rows": 4}], "empty": {}, "list": []}
exprs = ['d["state"]', "d['state']", 'd["running"]', 'd["stopped"]',
         'd["gone"]', 'd["text"]', 'd["greek"]', 'd["escaped"]',
         'd["sync"]["backlog_rows"]', "d['sync']['lag_s']",
         'd["sync"]["nested"]["deep"][1][0]', 'd["sync"]["nested"]',
         'd["replicas"][0]["sql_running"]', 'd["replicas"][1]', 'd["empty"]',
         'd["list"]', 'd["tables"]', 'sum(t["rows"] for t in d["tables"])',
         'd["nope"]', 'd["replicas"][2]', 'd["state"]["x"]', 'd["a\\b"]']
cases = [(e, json.dumps(doc, indent=2, ensure_ascii=a))
         for a in (True, False) for e in exprs]
cases += [('d["x"][0]' if i % 2 else "d['y']['z']",
           '{"x": [%s], "y": {"z": %s}}' % (n, n)) for i, n in enumerate(numbers)]
for i, (e, text) in enumerate(cases):
    d = os.path.join(sys.argv[1], str(i))
    os.makedirs(d)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            print(eval(e, {}, {"d": json.loads(text)}))
        rc = 0
    except Exception:
        rc = 1
    for name, value in (("expr", e), ("doc", text), ("want", out.getvalue()),
                        ("want_rc", str(rc))):
        with open(os.path.join(d, name), "w") as f:
            f.write(value)
PYEOF

# 1. json_get against Python, case by case
for c in "$T"/cases/*; do
    set +e
    json_get "$(cat "$c/expr")" <"$c/doc" >"$c/got" 2>/dev/null
    echo $? >"$c/got_rc"
    set -e
done
$PY - "$T/cases" <<'PYEOF' || fail "json_get differs from Python"
import os, sys
bad = 0
cases = sorted(os.listdir(sys.argv[1]), key=int)
for c in cases:
    f = {n: open(os.path.join(sys.argv[1], c, n)).read()
         for n in ("expr", "doc", "want", "want_rc", "got", "got_rc")}
    if (f["got_rc"].strip() == "0") != (f["want_rc"] == "0") or \
            (f["want_rc"] == "0" and f["got"] != f["want"]):
        bad += 1
        print("case %s: %s on %.60r: json_get printed %r (exit %s), Python %r"
              % (c, f["expr"], f["doc"], f["got"], f["got_rc"].strip(),
                 f["want"]))
print("%d cases, %d differ from Python" % (len(cases), bad))
sys.exit(1 if bad else 0)
PYEOF

# 2. what the wait loops poll, with no Python to fall back on
status_doc='{
  "state": "bulk_copy",
  "running": true,
  "last_error": "",
  "sync": {"backlog_rows": 0, "lag_s": 0.25},
  "replicas": [{"name": "r1", "lag_s": 4.5, "sql_running": false}]
}'
for pair in 'd["state"]=bulk_copy' 'd["running"]=True' 'd["last_error"]=' \
            'd["sync"]["backlog_rows"]=0' 'd["sync"]["lag_s"]=0.25' \
            "d['replicas'][0]['lag_s']=4.5" \
            'd["replicas"][0]["sql_running"]=False'; do
    got=$(PY=false json_get "${pair%%=*}" <<<"$status_doc") ||
        fail "${pair%%=*} needed Python"
    assert_eq "${pair#*=}" "$got" "${pair%%=*} without Python"
done
echo "the polled paths are read without Python"
echo ok
