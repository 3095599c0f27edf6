#!/usr/bin/python3
# presign_botocore.py - check a presigned S3 URL against botocore. The same
# request (method, the URL without its X-Amz-* parameters, the headers the
# URL was presigned for, at the URL's X-Amz-Date and X-Amz-Expires) is
# signed with botocore's S3SigV4QueryAuth: X-Amz-SignedHeaders and
# X-Amz-Signature must be the URL's. Then each signed header but host is
# given another value (x-amz-checksum-sha256: the digest of other bytes;
# content-length: one more) and botocore's signature for that request must
# differ from the URL's: S3 would refuse it (403 SignatureDoesNotMatch).
# Usage: PRESIGN_SECRET=... presign_botocore.py NAME METHOD URL ACCESS_KEY
#        REGION 'Name: value'...
# Prints "PASS: NAME: ..." / "FAIL: NAME: ..." lines; exits 1 on a failure.
import base64
import datetime
import hashlib
import os
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

name, method, url, akid, region = sys.argv[1:6]
headers = [h.split(":", 1) for h in sys.argv[6:]]
headers = [(k.strip(), v.strip()) for k, v in headers]
creds = Credentials(akid, os.environ["PRESIGN_SECRET"], os.environ.get("PRESIGN_TOKEN"))

parts = urlsplit(url)
query = parse_qsl(parts.query, keep_blank_values=True)
amz = {k: v for k, v in query if k.startswith("X-Amz-")}
plain = urlunsplit(parts._replace(query=urlencode(
    [(k, v) for k, v in query if not k.startswith("X-Amz-")])))
NOW = datetime.datetime.strptime(amz["X-Amz-Date"], "%Y%m%dT%H%M%SZ")


class FixedNow(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW


auth.datetime.datetime = FixedNow
fails = 0


def report(ok, what):
    global fails
    print(f"{'PASS' if ok else 'FAIL'}: {name}: {what}")
    fails += not ok


def sign(hs):
    req = AWSRequest(method=method, url=plain)
    for k, v in hs:
        req.headers[k] = v
    auth.S3SigV4QueryAuth(creds, "s3", region, expires=int(amz["X-Amz-Expires"])).add_auth(req)
    return dict(parse_qsl(urlsplit(req.url).query, keep_blank_values=True))


got = sign(headers)
report(got["X-Amz-SignedHeaders"] == amz["X-Amz-SignedHeaders"],
       f"botocore signs the same headers ({amz['X-Amz-SignedHeaders']})")
report(got["X-Amz-Signature"] == amz["X-Amz-Signature"],
       "botocore computes the URL's signature for these headers")
other = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
for i, (k, v) in enumerate(headers):
    if k.lower() not in amz["X-Amz-SignedHeaders"].split(";"):
        continue
    if k.lower() == "x-amz-checksum-sha256":
        w = other
    elif k.lower() == "content-length":
        w = str(int(v) + 1)
    else:
        w = v + "x"
    changed = headers[:i] + [(k, w)] + headers[i + 1:]
    report(sign(changed)["X-Amz-Signature"] != amz["X-Amz-Signature"],
           f"the URL does not sign a request with {k}: {w}")
sys.exit(1 if fails else 0)
