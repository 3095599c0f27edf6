#!/usr/bin/python3
# imds_stub.py - a local EC2 instance metadata service (IMDSv2 only) for the
# aws-sm key provider's tests. A session token comes from
# PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1..21600);
# every GET must carry it in X-aws-ec2-metadata-token or gets 401, as on EC2.
#
# Usage: imds_stub.py PORTFILE STATE_DIR ROLE ACCESS_KEY SECRET_KEY TOKEN REGION
# STATE_DIR/mode (read per request): "ok" (default), or "stale" (every GET
#   gets 401: the tokens handed out are not accepted)
# STATE_DIR/log: one JSON line per request (method, path, token, verdict)
import json
import os
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, state, role, ak, sk, token, region = sys.argv[1:8]
issued = set()


def log(entry):
    with open(os.path.join(state, "log"), "a") as f:
        f.write(json.dumps(entry) + "\n")


def mode():
    try:
        return open(os.path.join(state, "mode")).read().strip() or "ok"
    except OSError:
        return "ok"


class H(BaseHTTPRequestHandler):
    def answer(self, status, text, entry, verdict):
        entry["verdict"] = verdict
        entry["status"] = status
        log(entry)
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        entry = {"method": "PUT", "path": self.path}
        if self.path != "/latest/api/token":
            return self.answer(404, "Not Found", entry, "no such path")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        entry["ttl"] = ttl
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.answer(400, "Bad Request", entry, "bad ttl")
        t = "AQAEA" + secrets.token_urlsafe(40)
        issued.add(t)
        self.answer(200, t, entry, "token")

    def do_GET(self):
        got = self.headers.get("X-aws-ec2-metadata-token")
        entry = {"method": "GET", "path": self.path, "token": got is not None}
        if got is None or got not in issued or mode() == "stale":
            return self.answer(401, "Unauthorized", entry, "no valid token")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.answer(200, role + "\n", entry, "ok")
        if self.path == base + role:
            creds = {"Code": "Success", "LastUpdated": "2026-11-29T07:00:00Z",
                     "Type": "AWS-HMAC", "AccessKeyId": ak, "SecretAccessKey": sk,
                     "Token": token, "Expiration": "2026-11-29T13:00:00Z"}
            return self.answer(200, json.dumps(creds, indent=2), entry, "ok")
        if self.path == "/latest/meta-data/placement/region":
            return self.answer(200, region, entry, "ok")
        self.answer(404, "Not Found", entry, "no such path")

    def log_message(self, fmt, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
