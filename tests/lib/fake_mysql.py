#!/usr/bin/python3
"""fake_mysql.py — a hostile MySQL server on a unix socket, for the
LOCAL INFILE tests (tests/e2e/47-security-local-infile.sh).

A rogue server (or a man in the middle) may answer any query with a
"LOCAL INFILE" request naming a file of its choice; a client that serves
it sends that file's contents. This server asks for FILE every time and
keeps every byte a client sends back, so a test can check that nothing
was sent.

usage: fake_mysql.py SOCKET FILE RECEIVED-LOG [--upstream SOCK --mode MODE]

Without --upstream it is a whole fake server: it accepts any login and
answers every query with a request for FILE.

With --upstream it sits in front of a real server and passes everything
through, except:
  --mode after-load  once a connection has run a LOAD DATA LOCAL and
                     committed it, every later query is answered with a
                     request for FILE (a file request that arrives after
                     the client's own load is over);
  --mode rename      the server's request for the client's own LOAD DATA
                     stream is rewritten to name FILE.

RECEIVED-LOG gets one JSON line per file request: the query it answered,
the name asked for and the bytes the client sent back (latin-1).
SOCKET.ready is created once the server listens.
"""
import argparse
import json
import os
import socket
import struct
import threading

CAPS = (0x1 | 0x4 | 0x8 | 0x80 | 0x200 | 0x2000 | 0x8000 | 0x10000 |
        0x20000 | 0x40000 | 0x80000 | 0x200000)   # LOCAL_FILES = 0x80
COM_QUIT, COM_INIT_DB, COM_QUERY, COM_PING = 1, 2, 3, 14

log_lock = threading.Lock()


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_packet(s):
    head = read_exact(s, 4)
    n = head[0] | head[1] << 8 | head[2] << 16
    return head[3], read_exact(s, n)


def write_packet(s, seq, payload):
    n = len(payload)
    s.sendall(bytes([n & 255, n >> 8 & 255, n >> 16 & 255, seq & 255]) + payload)


def ok_packet():
    return b"\x00\x00\x00\x02\x00\x00\x00"


def err_packet(msg):
    return b"\xff" + struct.pack("<H", 1105) + b"#HY000" + msg.encode()


def handshake():
    salt = b"abcdefghijklmnopqrst"
    return (b"\x0a" + b"10.11.99-MariaDB-fake\x00" + struct.pack("<I", 7) +
            salt[:8] + b"\x00" + struct.pack("<H", CAPS & 0xffff) + b"\x2d" +
            struct.pack("<H", 2) + struct.pack("<H", CAPS >> 16) +
            bytes([21]) + b"\x00" * 10 + salt[8:] + b"\x00" +
            b"mysql_native_password\x00")


def record(path, query, asked, data):
    with log_lock, open(path, "a") as f:
        f.write(json.dumps({"query": query.decode("latin-1")[:200],
                            "asked": asked,
                            "sent": data.decode("latin-1")}) + "\n")


def ask_for_file(conn, seq, name, query, log):
    """Send a file request; collect what the client sends until its empty
    packet. Returns the next sequence number."""
    write_packet(conn, seq, b"\xfb" + name.encode())
    data = b""
    while True:
        seq, payload = read_packet(conn)
        if not payload:
            break
        data += payload
    record(log, query, name, data)
    return seq + 1


def fake_session(conn, args):
    write_packet(conn, 0, handshake())
    seq, _ = read_packet(conn)              # the login: any is fine
    write_packet(conn, seq + 1, ok_packet())
    while True:
        seq, payload = read_packet(conn)
        cmd = payload[0] if payload else COM_QUIT
        if cmd == COM_QUIT:
            return
        if cmd == COM_QUERY:
            nxt = ask_for_file(conn, 1, args.file, payload[1:], args.log)
            write_packet(conn, nxt, err_packet("fake server"))
        elif cmd in (COM_INIT_DB, COM_PING):
            write_packet(conn, 1, ok_packet())
        else:
            write_packet(conn, 1, err_packet("not supported"))


def pump_server(up, conn, state, args):
    """Server → client, packet by packet (the rename happens here)."""
    try:
        while True:
            seq, payload = read_packet(up)
            if (args.mode == "rename" and seq == 1 and payload[:1] == b"\xfb"
                    and state.get("query", b"").upper().startswith(b"LOAD DATA")):
                state["renamed"] = payload[1:].decode("latin-1")
                payload = b"\xfb" + args.file.encode()
            write_packet(conn, seq, payload)
    except (EOFError, OSError):
        pass
    for s in (conn, up):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def proxy_session(conn, args):
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    up.connect(args.upstream)
    state = {}
    threading.Thread(target=pump_server, args=(up, conn, state, args),
                     daemon=True).start()
    loaded = committed = False
    collecting = None           # data after a renamed request
    while True:
        seq, payload = read_packet(conn)
        if seq == 0 and payload and payload[0] == COM_QUERY:
            query = payload[1:]
            if args.mode == "after-load" and committed:
                nxt = ask_for_file(conn, 1, args.file, query, args.log)
                write_packet(conn, nxt, err_packet("man in the middle"))
                continue
            committed = loaded and query.upper().startswith(b"COMMIT")
            state["query"] = query
            if query.upper().startswith(b"LOAD DATA LOCAL"):
                loaded = True
                if args.mode == "rename":
                    collecting = (query, args.file, b"")
        elif seq > 0 and collecting is not None and "renamed" in state:
            q, name, data = collecting
            if payload:
                collecting = (q, name, data + payload)
            else:                   # the end of what the client sent
                record(args.log, *collecting)
                collecting = None
        write_packet(up, seq, payload)


def serve(conn, args):
    try:
        (proxy_session if args.upstream else fake_session)(conn, args)
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("file")
    ap.add_argument("log")
    ap.add_argument("--upstream")
    ap.add_argument("--mode", choices=["after-load", "rename"],
                    default="after-load")
    args = ap.parse_args()
    open(args.log, "a").close()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    srv.bind(args.socket)
    srv.listen(64)
    open(args.socket + ".ready", "w").close()
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    main()
