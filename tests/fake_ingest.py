#!/usr/bin/python3
"""A controllable stand-in for actlog-server's agent routes, used only to
test the agent's shipping protocol under faults a real server does not
produce on demand (an acknowledgement lost after the batch was stored, a
server that answers 500 or 413). The real server's own tests cover the
routes themselves.

Usage: fake_ingest.py PORT DIR. DIR/mode holds the behaviour: "ok",
"fail" (500 without storing), "lose-ack" (store, then answer 500),
"too-large" (413 for batches over 5 records). Stored lines go to
DIR/records.ndjson, one per record; DIR/batches.log lists each batch id
with "new" or "dup"; DIR/config.json is served as the policy.
"""
import gzip, hashlib, json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, DIR = int(sys.argv[1]), sys.argv[2]
seen = set()


def mode():
    try:
        return open(os.path.join(DIR, "mode")).read().strip()
    except OSError:
        return "ok"


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, obj, headers=()):
        body = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        data = self.body()
        if self.path == "/api/v1/enroll":
            req = json.loads(data)
            if req.get("secret") != "ale_good":
                return self.reply(403, {"error": "unknown enrollment secret"})
            return self.reply(201, {"device_id": "dev-" + req["host_id"][:8],
                                    "device_token": "ald_faketoken"})
        if self.path != "/api/v1/ingest":
            return self.reply(404, {"error": "no such route"})
        if self.headers.get("Authorization") != "Bearer ald_faketoken":
            return self.reply(401, {"error": "bad token"})
        m = mode()
        if m == "fail":
            return self.reply(500, {"error": "injected failure"})
        lines = gzip.decompress(data).decode().splitlines()
        bid = self.headers["X-Batch-Id"]
        # the protocol's rule: a batch id already stored is acknowledged
        # before any other check, so a re-send of it never splits
        if m == "too-large" and len(lines) > 5 and bid not in seen:
            return self.reply(413, {"error": "batch too large"})
        with open(os.path.join(DIR, "batches.log"), "a") as f:
            f.write("%s %s %d\n" % (bid, "dup" if bid in seen else "new", len(lines)))
        if bid not in seen:
            seen.add(bid)
            with open(os.path.join(DIR, "records.ndjson"), "a") as f:
                for l in lines:
                    f.write(l + "\n")
        if m == "lose-ack":
            return self.reply(500, {"error": "stored, but the answer is lost"})
        self.reply(200, {"batch_id": bid, "accepted": len(lines), "rejected": []})

    def do_GET(self):
        if self.path.split("?")[0] != "/api/v1/agent/config":
            return self.reply(404, {"error": "no such route"})
        try:
            text = open(os.path.join(DIR, "config.json")).read()
        except OSError:
            text = "{}"
        etag = '"%s"' % hashlib.sha256(text.encode()).hexdigest()[:16]
        if self.headers.get("If-None-Match") == etag:
            return self.reply(304, None, [("ETag", etag)])
        self.reply(200, json.loads(text), [("ETag", etag)])


ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
