#!/usr/bin/python3
"""s3_fault_stub.py - an HTTP server that answers like a failing S3, for
tests/integration/test_s3.sh. The path-style bucket picks the behaviour:
  /flaky/...  503 (no body) on the first two requests, then 200 "flaky-ok"
  /slow/...   always 503 with a SlowDown XML error
  /deny/...   always 403 with an AccessDenied XML error
  /cut/...    200 with Content-Length 1000 but 10 bytes, then the connection closes
  /mpfail/... multipart: initiate answers UploadId "up-1", every part upload
              fails with 400 InvalidPart, abort (DELETE) answers 204
  /ra/...     first request 503 SlowDown with "Retry-After: 2", then 200 "ra-ok"
  /radate/... first request 429 with Retry-After as an HTTP date 3 s ahead,
              then 200 "radate-ok"
  /ralong/... always 503 SlowDown with "Retry-After: 3600"
  /mpmid/...  a multipart store that keeps its uploads and objects: parts 1
              and 2 succeed, part 3 and later fail with 500 InternalError
  /mpdone/... the same store; every part succeeds, CompleteMultipartUpload
              answers 200 with an <Error> (InternalError) in the body
  In both, GET /BUCKET?uploads= lists the pending uploads
  (ListMultipartUploads), DELETE ?uploadId= aborts one (204, 404 NoSuchUpload
  when unknown) and GET /BUCKET/KEY returns a completed object (else 404).
Each request is logged as "BUCKET METHOD UNIX_TIME TARGET" to LOG.
usage: s3_fault_stub.py PORTFILE LOG"""
import email.utils
import http.server
import sys
import threading
import time
import urllib.parse

PORTFILE, LOG = sys.argv[1], sys.argv[2]
counts = {}
lock = threading.Lock()
uploads = {}  # (bucket, upload id) -> key, for mpmid and mpdone
initiated = [0]  # upload ids are BUCKET-N, N counting every initiate
objects = {}  # (bucket, key) -> body


def xml_error(code, msg):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            '<Message>%s</Message><RequestId>stub</RequestId></Error>' % (code, msg)).encode()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body, ctype="application/xml", retry_after=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def multipart_store(self, bucket, body):
        """mpmid and mpdone: initiate, parts, complete, abort, list, get"""
        path, _, query = self.path.partition("?")
        key = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        uid = q.get("uploadId", [""])[0]
        with lock:
            if self.command == "GET" and not key and "uploads" in q:
                items = "".join("<Upload><Key>%s</Key><UploadId>%s</UploadId></Upload>" % (k, u)
                                for (b, u), k in sorted(uploads.items()) if b == bucket)
                return self.answer(200, ('<?xml version="1.0" encoding="UTF-8"?>\n'
                                         '<ListMultipartUploadsResult><Bucket>%s</Bucket>%s'
                                         '</ListMultipartUploadsResult>' % (bucket, items)).encode())
            if self.command == "POST" and "uploads" in q:
                initiated[0] += 1
                uid = "%s-%d" % (bucket, initiated[0])
                uploads[(bucket, uid)] = key
                return self.answer(200, ('<?xml version="1.0" encoding="UTF-8"?>\n'
                                         '<InitiateMultipartUploadResult><UploadId>%s</UploadId>'
                                         '</InitiateMultipartUploadResult>' % uid).encode())
            if uid and (bucket, uid) not in uploads:
                return self.answer(404, xml_error("NoSuchUpload", "The upload does not exist"))
            if self.command == "PUT" and uid:
                part = int(q.get("partNumber", ["0"])[0])
                if bucket == "mpmid" and part >= 3:
                    return self.answer(500, xml_error("InternalError", "The stub fails part 3"))
                self.send_response(200)
                self.send_header("ETag", '"etag-%d"' % part)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if self.command == "POST" and uid:
                if bucket == "mpdone":
                    return self.answer(200, xml_error("InternalError", "The stub fails complete"))
                objects[(bucket, key)] = b"completed"
                del uploads[(bucket, uid)]
                return self.answer(200, b"<CompleteMultipartUploadResult/>")
            if self.command == "DELETE" and uid:
                del uploads[(bucket, uid)]
                return self.answer(204, b"")
            if self.command == "PUT":
                objects[(bucket, key)] = body
                return self.answer(200, b"")
            if self.command in ("GET", "HEAD") and (bucket, key) in objects:
                return self.answer(200, objects[(bucket, key)], "application/octet-stream")
        return self.answer(404, xml_error("NoSuchKey", "The specified key does not exist."))

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        bucket = self.path.split("/")[1].split("?")[0]
        with lock:
            counts[bucket] = counts.get(bucket, 0) + 1
            c = counts[bucket]
            with open(LOG, "a") as f:
                f.write("%s %s %.3f %s\n" % (bucket, self.command, time.time(), self.path))
        if bucket == "flaky":
            if c <= 2:
                self.answer(503, b"")
            else:
                self.answer(200, b"flaky-ok", "application/octet-stream")
        elif bucket == "slow":
            self.answer(503, xml_error("SlowDown", "Please reduce your request rate."))
        elif bucket == "deny":
            self.answer(403, xml_error("AccessDenied", "Access Denied by the stub policy"))
        elif bucket == "cut":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif bucket == "mpfail":
            if self.command == "POST" and "uploads" in self.path:
                self.answer(200, b'<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult>'
                            b'<Bucket>mpfail</Bucket><Key>k</Key><UploadId>up-1</UploadId>'
                            b'</InitiateMultipartUploadResult>')
            elif self.command == "DELETE":
                self.answer(204, b"")
            else:
                self.answer(400, xml_error("InvalidPart", "The stub rejects every part"))
        elif bucket in ("ra", "radate"):
            if c == 1 and bucket == "ra":
                self.answer(503, xml_error("SlowDown", "Please reduce your request rate."),
                            retry_after="2")
            elif c == 1:
                self.answer(429, xml_error("TooManyRequests", "Too many requests."),
                            retry_after=email.utils.formatdate(time.time() + 3, usegmt=True))
            else:
                self.answer(200, bucket.encode() + b"-ok", "application/octet-stream")
        elif bucket in ("mpmid", "mpdone"):
            self.multipart_store(bucket, body)
        elif bucket == "ralong":
            self.answer(503, xml_error("SlowDown", "Please reduce your request rate."),
                        retry_after="3600")
        else:
            self.answer(404, xml_error("NoSuchBucket", "The specified bucket does not exist"))

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
