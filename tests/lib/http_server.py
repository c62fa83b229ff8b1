#!/usr/bin/python3
"""http_server.py — a tiny local HTTP server for tests (switch actions,
health checks, webhooks).

usage: http_server.py PORT_FILE LOG_FILE [--fail-first N] [--status-file F]
                      [--delay S]

Listens on 127.0.0.1 on a free port (written to PORT_FILE). Every request
is appended to LOG_FILE as one JSON line {method, path, body}. The answer is
500 for the first N requests (--fail-first), then the status read from
--status-file when given (so a test can turn a health check bad), else 200.
--delay sleeps before answering.
"""
import http.server
import json
import sys
import time

args = sys.argv[1:]
port_file, log_file = args[0], args[1]
fail_first = int(args[args.index('--fail-first') + 1]) if '--fail-first' in args else 0
status_file = args[args.index('--status-file') + 1] if '--status-file' in args else None
delay = float(args[args.index('--delay') + 1]) if '--delay' in args else 0
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        global count
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length).decode('utf-8', 'replace') if length else ''
        with open(log_file, 'a') as f:
            f.write(json.dumps({'method': self.command, 'path': self.path,
                                'body': body}) + '\n')
        count += 1
        if delay:
            time.sleep(delay)
        status = 200
        if count <= fail_first:
            status = 500
        elif status_file:
            try:
                status = int(open(status_file).read().strip() or 200)
            except (OSError, ValueError):
                status = 200
        self.send_response(status)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'ok')

    do_GET = do_POST = do_PUT = answer

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
with open(port_file + '.tmp', 'w') as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + '.tmp', port_file)
server.serve_forever()
