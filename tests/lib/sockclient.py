#!/usr/bin/python3
"""sockclient.py — progress-socket clients for the e2e tests (DESIGN §7).

usage:
  sockclient.py watch SOCK OUT [--count N] [--ready FILE] [--hold FILE]
      Connect N watchers (retrying until the socket accepts). Without
      --hold: read each hello, touch FILE (--ready), then record every line
      each watcher receives to OUT.I (I = 0..N-1) until it sees a final
      event (completed, failed, aborted, rolled_back), a "dropped" line or
      EOF. With --hold: never read anything — wait (MSG_PEEK) until the
      server has accepted and sent its first byte, touch --ready, then sit
      still until the --hold file exists, and only then read to EOF.
  sockclient.py request SOCK LINE... [--eval]
      Connect, read the hello, send each LINE (with --eval each LINE is a
      Python bytes expression such as 'b"x" * 100'), and print the reply to
      each, one JSON per line (events in between are skipped).
  sockclient.py alerts SOCK COUNT [--batch B] [--name-len L]
      Send COUNT alert commands (names of L bytes) in batches of B, reading
      the replies of each batch before sending the next; print how many
      replies were ok.
  sockclient.py check EVENTS OUT... [--final TYPE] [--dropped]
                      [--min-progress N] [--hello-states S1,S2,...]
      Check watcher recordings against state_dir/events.ndjson: every line
      is JSON, the first is the hello, the events after it have gap-free
      seqs, each is byte-identical to the events.ndjson line with that seq,
      and the last one is TYPE (default completed) — or, with --dropped,
      the last line is {"type":"dropped"} and no final event came first.
      --min-progress: at least N copy progress events (with chunk_rows);
      --hello-states: the hello's status.state is one of these.
      Prints one summary line per recording.
"""
import json
import os
import selectors
import socket
import sys
import time

FINAL = {"completed", "failed", "aborted", "rolled_back"}


def connect(path, deadline_s=30.0):
    end = time.monotonic() + deadline_s
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def touch(path):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write("ready\n")
        os.rename(path + ".tmp", path)


def read_line(s, buf, timeout=30.0):
    """One line (bytes, without newline) from s; buf is a bytearray."""
    end = time.monotonic() + timeout
    while b"\n" not in buf:
        s.settimeout(max(0.01, end - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("the orchestrator closed the connection")
        buf.extend(chunk)
    i = buf.index(b"\n")
    line = bytes(buf[:i])
    del buf[:i + 1]
    return line


def cmd_watch(args):
    sock, out = args[0], args[1]
    count, ready, hold = 1, None, None
    i = 2
    while i < len(args):
        if args[i] == "--count":
            count = int(args[i + 1])
        elif args[i] == "--ready":
            ready = args[i + 1]
        elif args[i] == "--hold":
            hold = args[i + 1]
        else:
            sys.exit("unknown option " + args[i])
        i += 2
    socks = [connect(sock) for _ in range(count)]
    files = [open("%s.%d" % (out, k), "wb") for k in range(count)]
    pending = {}
    if hold:
        for s in socks:
            s.settimeout(30)
            s.recv(1, socket.MSG_PEEK)
        touch(ready)
        while not os.path.exists(hold):
            time.sleep(0.05)
    else:
        # the hello of each, so "ready" means every watcher is registered
        for s, f in zip(socks, files):
            buf = bytearray()
            line = read_line(s, buf)
            f.write(line + b"\n")
            f.write(bytes(buf))
            pending[s] = buf
        touch(ready)
    sel = selectors.DefaultSelector()
    state = {}
    for k, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, k)
        state[k] = bytearray(pending.get(s, b""))
    open_n = count

    def finished(k):
        # a final event or a dropped line ends a watcher's recording
        for line in bytes(state[k]).split(b"\n"):
            if not line.strip():
                continue
            try:
                t = json.loads(line).get("type")
            except ValueError:
                continue
            if t in FINAL or t == "dropped":
                return True
        return False

    done = set(k for k in state if finished(k))
    for k in done:
        sel.unregister(socks[k])
        open_n -= 1
    deadline = time.monotonic() + 600
    while open_n > 0 and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            k = key.data
            try:
                chunk = socks[k].recv(1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                files[k].write(chunk)
                state[k].extend(chunk)
                # keep only the unfinished tail plus complete lines to scan
                if finished(k):
                    chunk = b""
                else:
                    tail = state[k].rfind(b"\n")
                    del state[k][:tail + 1]
                    continue
            sel.unregister(socks[k])
            open_n -= 1
    for f in files:
        f.close()
    for s in socks:
        s.close()
    return 0


def cmd_request(args):
    ev = "--eval" in args
    args = [a for a in args if a != "--eval"]
    s = connect(args[0])
    buf = bytearray()
    hello = json.loads(read_line(s, buf))
    assert hello.get("type") == "hello", hello
    for a in args[1:]:
        line = eval(a, {}, {}) if ev else a.encode()
        s.sendall(line + b"\n")
        while True:
            r = json.loads(read_line(s, buf))
            if r.get("type") == "reply":
                print(json.dumps(r, sort_keys=True), flush=True)
                break
    s.close()
    return 0


def cmd_alerts(args):
    sock, count = args[0], int(args[1])
    batch, name_len = 200, 90
    i = 2
    while i < len(args):
        if args[i] == "--batch":
            batch = int(args[i + 1])
        elif args[i] == "--name-len":
            name_len = int(args[i + 1])
        i += 2
    s = connect(sock)
    buf = bytearray()
    read_line(s, buf)
    ok = sent = 0
    while sent < count:
        n = min(batch, count - sent)
        lines = b"".join(
            json.dumps({"cmd": "alert", "severity": "info",
                        "name": ("flood-%d-" % (sent + j)).ljust(name_len, "x")
                        }).encode() + b"\n" for j in range(n))
        s.sendall(lines)
        got = 0
        while got < n:
            r = json.loads(read_line(s, buf))
            if r.get("type") == "dropped":
                sys.exit("the alert sender itself was dropped")
            if r.get("type") == "reply":
                got += 1
                ok += bool(r.get("ok"))
        sent += n
        # The flood must outgrow a watcher that never reads, not the ones
        # that do: leave them time to read even on a loaded machine.
        time.sleep(0.02)
    s.close()
    print(ok)
    return 0


def cmd_check(args):
    final, dropped, min_progress, states = "completed", False, 0, None
    paths = []
    i = 1
    while i < len(args):
        if args[i] in ("--final", "--min-progress", "--hello-states"):
            if args[i] == "--final":
                final = args[i + 1]
            elif args[i] == "--min-progress":
                min_progress = int(args[i + 1])
            else:
                states = args[i + 1].split(",")
            i += 2
            continue
        if args[i] == "--dropped":
            dropped = True
        else:
            paths.append(args[i])
        i += 1
    by_seq = {}
    with open(args[0], "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if line:
                by_seq[json.loads(line)["seq"]] = line
    bad = []
    for p in paths:
        with open(p, "rb") as f:
            raw = f.read()
        if raw and not raw.endswith(b"\n"):
            bad.append("%s: ends in a torn line: %r" % (p, raw[-80:]))
            continue
        lines = raw.split(b"\n")[:-1]
        try:
            objs = [json.loads(l) for l in lines]
        except ValueError as e:
            bad.append("%s: a line is not JSON: %s" % (p, e))
            continue
        if not objs or objs[0].get("type") != "hello" or \
                objs[0].get("version") != 1 or \
                not isinstance(objs[0].get("status"), dict) or \
                "state" not in objs[0]["status"]:
            bad.append("%s: no hello with a status first: %r" %
                       (p, lines[:1]))
            continue
        if states and objs[0]["status"]["state"] not in states:
            bad.append("%s: connected in state %s, expected one of %s" %
                       (p, objs[0]["status"]["state"], states))
            continue
        evs, evlines = objs[1:], lines[1:]
        # a watcher stops at the first final event; what follows is ignored
        ends = [k for k, e in enumerate(evs) if e.get("type") in FINAL]
        if ends and not dropped:
            evs, evlines = evs[:ends[0] + 1], evlines[:ends[0] + 1]
        if dropped:
            if not evs or evs[-1].get("type") != "dropped":
                bad.append("%s: last line is not {\"type\":\"dropped\"}: %r "
                           "(%d lines, %d bytes)" % (
                               p, evlines[-1:] or lines[-1:], len(lines),
                               len(raw)))
                continue
            evs, evlines = evs[:-1], evlines[:-1]
        seqs = [e.get("seq") for e in evs]
        if not seqs:
            bad.append("%s: no events after the hello" % p)
            continue
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
            bad.append("%s: seq not gap-free: %s (first %s, last %s)" %
                       (p, gaps[:5], seqs[0], seqs[-1]))
            continue
        diff = [s for s, l in zip(seqs, evlines) if by_seq.get(s) != l]
        if diff:
            bad.append("%s: events differ from events.ndjson at seq %s: "
                       "%r vs %r" % (p, diff[:5], evlines[seqs.index(diff[0])],
                                     by_seq.get(diff[0])))
            continue
        types = [e.get("type") for e in evs]
        if dropped:
            if any(t in FINAL for t in types):
                bad.append("%s: saw a final event before being dropped" % p)
                continue
        elif types[-1] != final:
            bad.append("%s: last event is %s (seq %s), not %s; events.ndjson "
                       "ends at seq %s (events %s..%s: gap-free, identical to "
                       "events.ndjson)" % (p, types[-1], seqs[-1], final,
                                           max(by_seq), seqs[0], seqs[-1]))
            continue
        copied = sum(1 for e in evs if e.get("type") == "progress" and
                     "chunk_rows" in e)
        if copied < min_progress:
            bad.append("%s: only %d copy progress events (expected >= %d)" %
                       (p, copied, min_progress))
            continue
        print("%s: hello(%s) + events %d..%d (%d copy progress)%s" % (
            os.path.basename(p), objs[0]["status"]["state"], seqs[0],
            seqs[-1], copied,
            ", dropped" if dropped else ""))
    for b in bad[:5]:
        print("BAD " + b, file=sys.stderr)
    if len(bad) > 5:
        print("BAD ... and %d more recordings like these" % (len(bad) - 5),
              file=sys.stderr)
    return 1 if bad else 0


def main(argv):
    cmds = {"watch": cmd_watch, "request": cmd_request,
            "alerts": cmd_alerts, "check": cmd_check}
    if len(argv) < 3 or argv[1] not in cmds:
        sys.exit(__doc__)
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
