#!/usr/bin/python3
"""hooksrv.py — a webhook receiver for the e2e tests.

usage: hooksrv.py PORTFILE LOG MODE

Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE once it
listens) and appends one JSON line per request to LOG as it arrives:
{"n", "t" (unix time), "method", "path", "headers", "body", "status"}.
MODE: "fail-first" answers 500 to the first POST and 200 afterwards;
"sleep:S" sleeps S seconds before answering 200 to every request.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, logpath, mode = sys.argv[1:4]
lock = threading.Lock()
count = {"n": 0, "posts": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            count["n"] += 1
            if self.command == "POST":
                count["posts"] += 1
            status = 200
            if mode == "fail-first" and self.command == "POST" and \
                    count["posts"] == 1:
                status = 500
            rec = {"n": count["n"], "t": time.time(), "method": self.command,
                   "path": self.path, "headers": dict(self.headers.items()),
                   "body": body.decode("utf-8", "replace"), "status": status}
            with open(logpath, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if mode.startswith("sleep:"):
            time.sleep(float(mode.split(":", 1)[1]))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"ok\n")
        except OSError:
            pass    # the client gave up waiting

    do_POST = do_GET = do_PUT = handle_any


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
open(logpath, "a").close()
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
