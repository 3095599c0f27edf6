#!/usr/bin/python3
"""s3_sigv4_proxy.py PORT UPSTREAM KEYFILE - an S3 front that checks SigV4
signatures (s3rver, behind it, checks none) against the access keys valid
now: KEYFILE holds one "ACCESS_KEY_ID SECRET" a line and is re-read on every
request, so that a test can create, rotate and delete keys as IAM would.
A request signed in its Authorization header or presigned in its URL is
verified with botocore (S3SigV4Auth / S3SigV4QueryAuth over the signed
headers, at the request's own X-Amz-Date); an unknown key id gets 403
InvalidAccessKeyId, a wrong signature 403 SignatureDoesNotMatch, an
unsigned request 403 AccessDenied. Accepted requests are forwarded to
UPSTREAM without their signature (s3rver knows none of these key ids and
takes unsigned requests). Every request is logged to KEYFILE.log as
"METHOD PATH KEY_ID STATUS" (KEY_ID "-" when unsigned)."""
import datetime
import http.client
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

port, upstream, keyfile = int(sys.argv[1]), urlsplit(sys.argv[2]), sys.argv[3]


def keys():
    out = {}
    try:
        with open(keyfile) as f:
            for line in f:
                p = line.split()
                if len(p) == 2:
                    out[p[0]] = p[1]
    except OSError:
        pass
    return out


def expected(method, path, query, headers, signed, akid, secret, region, amzdate, presign):
    """The signature botocore computes for this request."""
    if presign:
        query = "&".join(q for q in query.split("&") if not q.startswith("X-Amz-Signature="))
    url = "http://" + headers.get("host", "") + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url)
    for name in signed:
        if name != "host" and name in headers:
            req.headers[name] = headers[name]
    req.context["timestamp"] = amzdate
    creds = Credentials(akid, secret)
    a = auth.S3SigV4QueryAuth(creds, "s3", region, expires=3600) if presign else \
        auth.S3SigV4Auth(creds, "s3", region)
    cr = a.canonical_request(req)
    return a.signature(a.string_to_sign(req, cr), req)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def log(self, akid, st):
        with open(keyfile + ".log", "a") as f:
            f.write("%s %s %s %d\n" % (self.command, self.path.split("?")[0], akid or "-", st))

    def refuse(self, code, msg, akid):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
                "<Message>%s</Message></Error>" % (code, msg)).encode()
        self.log(akid, 403)
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def check(self):
        """None when the request is signed with a valid key, else (code, msg, akid)."""
        parts = urlsplit(self.path)
        hdrs = {k.lower(): " ".join(v.strip().split()) for k, v in self.headers.items()}
        q = dict(parse_qsl(parts.query, keep_blank_values=True))
        authz = self.headers.get("Authorization", "")
        if authz.startswith("AWS4-HMAC-SHA256 "):
            f = dict(p.strip().split("=", 1) for p in authz[17:].split(","))
            cred, signed, sig = f["Credential"], f["SignedHeaders"], f["Signature"]
            amzdate, presign = hdrs.get("x-amz-date", ""), False
        elif "X-Amz-Signature" in q:
            cred, signed, sig = q["X-Amz-Credential"], q["X-Amz-SignedHeaders"], q["X-Amz-Signature"]
            amzdate, presign = q.get("X-Amz-Date", ""), True
        else:
            return "AccessDenied", "Anonymous access is not allowed", None
        akid, _, region, _, _ = cred.split("/")
        secret = keys().get(akid)
        if secret is None:
            return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", akid
        want = expected(self.command, parts.path, parts.query, hdrs, signed.split(";"), akid,
                        secret, region, amzdate, presign)
        if want != sig:
            return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", akid
        return None, None, akid

    def forward(self):
        data = self.body()
        try:
            code, msg, akid = self.check()
        except (KeyError, ValueError) as e:
            code, msg, akid = "AccessDenied", "malformed signature: %s" % e, None
        if code:
            return self.refuse(code, msg, akid)
        c = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("connection", "transfer-encoding", "authorization")}
        parts = urlsplit(self.path)
        query = "&".join(q for q in parts.query.split("&")
                         if q and not q.startswith(("X-Amz-Algorithm=", "X-Amz-Credential=",
                                                    "X-Amz-Date=", "X-Amz-Expires=",
                                                    "X-Amz-SignedHeaders=", "X-Amz-Signature=",
                                                    "X-Amz-Security-Token=")))
        path = parts.path + ("?" + query if query else "")
        if data or self.command in ("PUT", "POST"):
            hdrs["Content-Length"] = str(len(data))
        try:
            c.request(self.command, path, body=data or None, headers=hdrs)
            r = c.getresponse()
            out = r.read()
        except OSError:
            self.log(akid, 502)
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.log(akid, r.status)
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", r.getheader("Content-Length") or str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward


ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
