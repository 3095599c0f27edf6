#!/usr/bin/python3
"""shots_proxy.py PORT UPSTREAM MODEFILE - an HTTP proxy between actlogd and
actlog-server that can break the screenshot register step on demand. The
first line of MODEFILE (re-read on every request) picks what happens to
POST /api/v1/screenshots:
  pass        forwarded (also when MODEFILE is missing or empty)
  fail        answered 503 without reaching the server
  lose        forwarded, then the server's answer is replaced by a 503 (the
              shot is registered but the agent does not know)
  reject      answered 400 without reaching the server (a permanent error)
and with "expire", the next presign's answer says its URL expired in 2000
(then MODEFILE is set to "pass"). Every other request is forwarded. Each
register request is logged to MODEFILE.log as "MODE STATUS", each presign
as "presign STATUS"; the agent records of every batch the server
acknowledged (POST /api/v1/ingest, 200) are appended to MODEFILE.agent."""
import gzip
import http.client
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, upstream, modefile = int(sys.argv[1]), urllib.parse.urlsplit(sys.argv[2]), sys.argv[3]


def mode():
    try:
        with open(modefile) as f:
            return (f.readline().strip() or "pass")
    except OSError:
        return "pass"


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, st, body, headers=()):
        self.send_response(st)
        for k, v in headers:
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        m = mode() if self.command == "POST" and self.path == "/api/v1/screenshots" else None
        if m == "fail":
            self.log(m, 503)
            return self.reply(503, b'{"error":"register broken by the test proxy"}')
        if m == "reject":
            self.log(m, 400)
            return self.reply(400, b'{"error":"register refused by the test proxy"}')
        c = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        try:
            c.request(self.command, self.path, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
        except OSError:
            return self.reply(502, b'{"error":"upstream down"}')
        if self.command == "POST" and self.path == "/api/v1/screenshots/presign":
            self.log("presign", r.status)
            if mode() == "expire" and r.status == 200:
                j = json.loads(data)
                j["expires_at"] = "2000-01-01T00:00:00.000Z"
                data = json.dumps(j).encode()
                with open(modefile, "w") as f:
                    f.write("pass\n")
        if m == "lose":
            self.log(m, r.status)
            return self.reply(503, b'{"error":"answer lost by the test proxy"}')
        if m:
            self.log(m, r.status)
        if self.path == "/api/v1/ingest" and r.status == 200 and body:
            self.agent_records(body)
        self.reply(r.status, data, r.getheaders())

    def agent_records(self, body):
        try:
            text = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
        except OSError:
            return
        with open(modefile + ".agent", "a") as f:
            for line in text.decode(errors="replace").splitlines():
                try:
                    if json.loads(line).get("type") == "agent":
                        f.write(line + "\n")
                except ValueError:
                    pass

    def log(self, m, st):
        with open(modefile + ".log", "a") as f:
            f.write("%s %d\n" % (m, st))

    do_GET = do_POST = do_PUT = do_DELETE = forward


ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
