#!/usr/bin/python3
"""benchlib.py — the Python half of bench/lib.sh: measuring processes,
reading cutover's events, talking to its progress socket, printing results.
Standard library only.

As a command:
  benchlib.py timed OUT.json CMD...     run CMD; write {rc, wall_s,
        maxrss_kib}: ru_maxrss from wait4(), the figure GNU time -v prints
        as "Maximum resident set size" (the largest of CMD and the children
        it waited for). SIGTERM/SIGINT are passed on to CMD.
  benchlib.py spans EVENTS.ndjson       {state: {start, end, s}}: when the
        migration first entered each state and first left it, from the
        `stage` events' ts (millisecond resolution).
  benchlib.py events EVENTS.ndjson TYPE [EXPR]   that type's events, one JSON
        a line (EXPR: python over `e`).
  benchlib.py poll SOCKET OUT.ndjson HZ  send {"cmd":"status"} HZ times a
        second on one connection; append {t, state, lag_s, backlog_rows,
        applied_per_s, applied_seq: {table: seq}} per reply (t: unix
        time) until SIGTERM; when the
        orchestrator goes away, a last {t, "state": "gone"} and exit.
  benchlib.py watchers SOCKET N OUT.json   hold N connections to the socket
        (retrying until it exists), read and discard everything until the
        orchestrator closes them; write {connected, hello_states, events,
        bytes, dropped, attached_at, closed_at}.
  benchlib.py get EXPR                  evaluate EXPR over the JSON on stdin
        (`d`); print the result.

As a module (the scripts' report steps): load(), spans(), percentile(),
median(), table(), verdict(), result().
"""
import datetime
import json
import os
import select
import signal
import socket
import statistics
import subprocess
import sys
import time


# ---- reading ------------------------------------------------------------

def load(path):
    with open(path) as f:
        return json.load(f)


def read_events(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass        # a torn last line of a killed run
    return out


def ts_seconds(ts):
    """RFC 3339 UTC with milliseconds → unix time."""
    return datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def spans(path):
    """{state: {start, end, s}} from the stage events: first entry, first
    exit. A state never left has end None."""
    out = {}
    for e in read_events(path):
        if e.get('type') != 'stage':
            continue
        t = ts_seconds(e['ts'])
        frm, to = e.get('from'), e.get('to')
        if frm in out and out[frm]['end'] is None:
            out[frm]['end'] = t
            out[frm]['s'] = round(t - out[frm]['start'], 3)
        if to not in out:
            out[to] = {'start': t, 'end': None, 's': None}
    return out


# ---- statistics and printing ------------------------------------------------

def percentile(values, q):
    """Nearest rank, q in [0, 1]; None for no values."""
    if not values:
        return None
    v = sorted(values)
    k = max(1, int(-(-q * len(v) // 1)))     # ceil(q * n), at least 1
    return v[min(k, len(v)) - 1]


def median(values):
    return statistics.median(values) if values else None


def verdict(value, op, target):
    if value is None:
        return 'n/a'
    ok = value <= target if op == '<=' else value >= target
    return 'met' if ok else 'MISSED'


def table(title, rows, note=None):
    """rows: lists of cells; the first row is the header."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells if i < len(r))
              for i in range(max(len(r) for r in cells))]
    print()
    print(title)
    for n, r in enumerate(cells):
        print('  ' + '  '.join(c.ljust(widths[i]) if i == 0 else
                               c.rjust(widths[i]) for i, c in enumerate(r)))
        if n == 0:
            print('  ' + '  '.join('-' * w for w in widths))
    if note:
        print(note)


def result(bench, figures):
    print('RESULT ' + json.dumps(dict({'bench': bench}, **figures),
                                 sort_keys=False, separators=(',', ':')))


def arg_num(s):
    """A number from the command line: int when it is one."""
    v = float(s)
    return int(v) if v.is_integer() else v


def num(x, digits=2):
    if x is None:
        return '-'
    if isinstance(x, int) or abs(x) >= 1000:
        return '{:,.0f}'.format(x)
    return '{:.{}f}'.format(x, digits)


# ---- commands ---------------------------------------------------------------

def cmd_timed(out, argv):
    start = time.monotonic()
    child = subprocess.Popen(argv)

    def forward(sig, _frame):
        try:
            child.send_signal(sig)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            _, status, ru = os.wait4(child.pid, 0)
            break
        except InterruptedError:
            continue
    wall = time.monotonic() - start
    rc = os.waitstatus_to_exitcode(status)
    with open(out, 'w') as f:
        json.dump({'rc': rc, 'wall_s': round(wall, 3),
                   'maxrss_kib': ru.ru_maxrss}, f)
    return rc if rc >= 0 else 128 - rc


def connect(path, wait_s):
    deadline = time.monotonic() + wait_s
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def cmd_poll(path, out, hz):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = connect(path, 60)
    f = s.makefile('rb')
    period = 1.0 / hz
    nxt = time.monotonic()
    with open(out, 'a') as o:
        while not stop:
            m = None
            try:
                s.sendall(b'{"cmd":"status"}\n')
                # skip the hello and the events up to the reply
                for line in f:
                    m = json.loads(line)
                    if m.get('type') == 'reply' and 'status' in m:
                        break
                    m = None
            except OSError:
                pass
            if m is None:   # the orchestrator has gone
                o.write(json.dumps({'t': round(time.time(), 3),
                                    'state': 'gone'}) + '\n')
                return 0
            st = m['status']
            sy = st.get('sync') or {}
            o.write(json.dumps({'t': round(time.time(), 3),
                                'state': st.get('state'),
                                'lag_s': sy.get('lag_s'),
                                'backlog_rows': sy.get('backlog_rows'),
                                'applied_per_s': sy.get('applied_per_s'),
                                'applied_seq': {
                                    t['name']: t.get('applied_seq')
                                    for t in st.get('tables') or []}})
                    + '\n')
            o.flush()
            nxt += period
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                nxt = time.monotonic()
    return 0


def cmd_watchers(path, n, out):
    socks = [connect(path, 600) for _ in range(n)]
    attached = time.time()
    state = {s.fileno(): {'buf': b'', 'hello': None, 'events': 0,
                          'bytes': 0, 'dropped': False} for s in socks}
    live = {s.fileno(): s for s in socks}
    while live:
        ready, _, _ = select.select(list(live), [], [], 1.0)
        for fd in ready:
            try:
                data = live[fd].recv(65536)
            except OSError:
                data = b''
            st = state[fd]
            if not data:
                live.pop(fd).close()
                continue
            st['bytes'] += len(data)
            st['buf'] += data
            *lines, st['buf'] = st['buf'].split(b'\n')
            for line in lines:
                try:
                    m = json.loads(line)
                except ValueError:
                    continue
                if m.get('type') == 'hello':
                    st['hello'] = (m.get('status') or {}).get('state')
                elif m.get('type') == 'dropped':
                    st['dropped'] = True
                else:
                    st['events'] += 1
    per = list(state.values())
    with open(out, 'w') as f:
        json.dump({'connected': n,
                   'hello_states': sorted({p['hello'] or '?' for p in per}),
                   'events_min': min(p['events'] for p in per),
                   'events_max': max(p['events'] for p in per),
                   'bytes': sum(p['bytes'] for p in per),
                   'dropped': sum(p['dropped'] for p in per),
                   'attached_at': attached, 'closed_at': time.time()}, f)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == 'timed':
        return cmd_timed(args[0], args[1:])
    if cmd == 'spans':
        print(json.dumps(spans(args[0])))
        return 0
    if cmd == 'events':
        expr = args[2] if len(args) > 2 else 'True'
        for e in read_events(args[0]):
            if e.get('type') == args[1] and eval(expr, {}, {'e': e}):
                print(json.dumps(e))
        return 0
    if cmd == 'poll':
        return cmd_poll(args[0], args[1], float(args[2]))
    if cmd == 'watchers':
        return cmd_watchers(args[0], int(args[1]), args[2])
    if cmd == 'get':
        d = json.load(sys.stdin)
        print(eval(args[0], {}, {'d': d}))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
