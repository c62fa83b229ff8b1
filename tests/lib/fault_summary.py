#!/usr/bin/python3
"""fault_summary.py — what the fault suite did, from the e2e logs of one
`make test`: crash points covered per stage, faults injected and survived,
the data differences every independent comparison found, and the attacks
the security tests tried and saw refused.

usage: fault_summary.py E2E_LOG_DIR E2E_SUMMARY_LOG
Prints a few lines for the summary of `make test`; exits 1 when any
comparison found a difference or lost write.
"""
import collections
import json
import os
import re
import sys

logs, results = sys.argv[1], sys.argv[2]
passed = set()
for line in open(results):
    m = re.match(r"ok\s+(\S+)", line)
    if m:
        passed.add(m.group(1))


def lines(name):
    path = os.path.join(logs, name + ".log")
    return open(path, errors="replace").read().splitlines() \
        if name in passed and os.path.exists(path) else []


crash = collections.defaultdict(set)
for name in ("32-cutover-crash-matrix", "40-faults-crash-matrix"):
    for line in lines(name):
        m = re.match(r"crash at ([a-z_]+):([a-z_]+)", line)
        if m:
            crash[m.group(1)].add(m.group(2))
kills = sum(1 for l in lines("46-faults-random-kills") if re.match(r"kill \d+ in", l))
bounces = sum(1 for l in lines("41-faults-server-restart") if l.startswith("MariaDB bounced"))
faults = [("kill -9 at a named crash point", sum(len(p) for p in crash.values())),
          ("kill -9 at a random instant under the writer", kills),
          ("MariaDB killed and restarted", bounces),
          ("source busy storm", int("42-faults-busy-storm" in passed)),
          ("state dir disk full", int("43-faults-disk-full" in passed))]

attacks = collections.Counter()
for name in sorted(passed):
    for line in lines(name):
        if line.startswith("attack refused: "):
            attacks[name] += 1

rows = differences = compares = writes = lost = 0
for name in sorted(passed):
    for line in lines(name):
        m = re.match(r"compared (\d+) rows in \d+ tables: (\d+) differences", line)
        if m:
            compares += 1
            rows += int(m.group(1))
            differences += int(m.group(2))
        if line.startswith('{"keys"'):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            writes += d.get("keys", 0)
            lost += d.get("lost", 0) + d.get("different", 0) + d.get("unexpected", 0)

print("crash points covered: %d (%s)" % (
    sum(len(p) for p in crash.values()),
    ", ".join("%s %d" % (s, len(p)) for s, p in sorted(crash.items()))))
print("faults injected and survived: " +
      ", ".join("%s %d" % (what, n) for what, n in faults))
print("data differences after all of it: %d (%d comparisons, %d rows); "
      "acknowledged writes lost or wrong: %d (of %d checked)" %
      (differences, compares, rows, lost, writes))
print("attacks tried and refused: %d (in %d tests)" %
      (sum(attacks.values()), len(attacks)))
sys.exit(1 if differences or lost else 0)
