#!/usr/bin/python3
# sigv4_botocore.py - sign many generated requests with botocore and with
# actlog-sigv4 and compare the canonical request, the string to sign, the
# signature and the Authorization header or presigned URL, exactly.
# Usage: sigv4_botocore.py ACTLOG_SIGV4 COUNT SEED
# Prints one "PASS: test_sigv4: ..." or "FAIL: test_sigv4: ..." line a request.
import datetime
import json
import random
import subprocess
import sys
from urllib.parse import parse_qsl, quote, urlsplit

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

tool, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
NOW = [datetime.datetime(2013, 5, 24)]


class FixedNow(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW[0]


auth.datetime.datetime = FixedNow

CHARS = (
    "abcXYZ019-._~ !$&'()*+,;=:@%[]{}|^`\"<>\\"
    + "\u00e9\u00fc\u4e2d\u1234\U0001f600"
)
ASCII_VAL = "abcXYZ019-._~!$&'()*+,;=:@/?%\"<>"


def word(n, chars=CHARS):
    return "".join(rnd.choice(chars) for _ in range(n))


def gen_path(s3):
    segs = []
    for _ in range(rnd.randint(0, 4)):
        r = rnd.random()
        if r < 0.08:
            segs.append(".")
        elif r < 0.16:
            segs.append("..")
        elif r < 0.24:
            segs.append("")
        else:
            segs.append(word(rnd.randint(1, 8)))
    path = "/" + "/".join(segs)
    if rnd.random() < 0.2:
        path += "/"
    if s3:
        return quote(path, safe="/~")
    # other services: the wire form keeps some sub-delims and escapes bare
    return quote(path, safe="/~!$&'()*+,;=:@")


def gen_query(presign):
    pairs = []
    names = []
    for _ in range(rnd.randint(0, 5)):
        if names and not presign and rnd.random() < 0.3:
            k = rnd.choice(names)  # repeated name
        else:
            k = word(rnd.randint(1, 6))
            if presign and k in names:
                continue
        names.append(k)
        v = "" if rnd.random() < 0.25 else word(rnd.randint(1, 8))
        pairs.append((k, v))
    wire = []
    for k, v in pairs:
        w = quote(k, safe="-_.~")
        if v or rnd.random() < 0.5:
            w += "=" + quote(v, safe="-_.~")
        wire.append(w)
    return pairs, "&".join(wire)


def ws():
    return rnd.choice(["", " ", "  ", "\t", " \t "])


def gen_headers(presign):
    hs = []
    names = ["X-Amz-Meta-Color", "x-amz-meta-a", "My-Header", "X-Custom", "Content-Type",
             "Cache-Control", "x-amz-acl", "Range", "Accept"]
    for _ in range(rnd.randint(0, 5)):
        n = rnd.choice(names)
        if rnd.random() < 0.3:
            n = n.upper() if rnd.random() < 0.5 else n.lower()
        if rnd.random() < 0.15:
            v = ws()
        else:
            v = ws() + (ws() + " ").join(word(rnd.randint(1, 6), ASCII_VAL)
                                        for _ in range(rnd.randint(1, 3))) + ws()
        if presign and n.lower() == "content-type":
            continue
        hs.append((n, v))
    return hs


def one(i):
    s3 = rnd.random() < 0.5
    service = "s3" if s3 else rnd.choice(["service", "execute-api", "dynamodb",
                                          "secretsmanager"])
    region = rnd.choice(["us-east-1", "eu-west-3", "ap-southeast-2", "garage"])
    presign = rnd.random() < 0.25
    unsigned = not presign and rnd.random() < 0.3
    token = None
    if rnd.random() < 0.3:
        token = word(rnd.randint(20, 200), "ABCxyz0189+/=")
    NOW[0] = datetime.datetime(2013, 1, 1) + datetime.timedelta(
        seconds=rnd.randint(0, 18 * 365 * 86400))
    amz = NOW[0].strftime("%Y%m%dT%H%M%SZ")
    method = "GET" if presign and rnd.random() < 0.5 else rnd.choice(
        ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"])
    host = rnd.choice(["examplebucket.s3.amazonaws.com", "s3.us-west-2.amazonaws.com",
                       "127.0.0.1:9000", "minio.local:443", "example.amazonaws.com"])
    path = gen_path(s3)
    pairs, wire_q = gen_query(presign)
    headers = gen_headers(presign)
    body = b""
    if not presign and rnd.random() < 0.5:
        body = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 300)))
        if rnd.random() < 0.5:
            headers.append(("Content-Length", str(len(body))))
    headers.insert(rnd.randint(0, len(headers)), ("Host", host))
    extra = rnd.random()
    if extra < 0.1:
        headers.append(("User-Agent", "test/1.0"))  # never signed
    elif extra < 0.2:
        headers.append(("X-Amz-Date", "20000101T000000Z"))  # replaced

    raw = f"{method} {path}{'?' + wire_q if wire_q else ''} HTTP/1.1\r\n".encode()
    for n, v in headers:
        raw += f"{n}:{v}\r\n".encode()
    raw += b"\r\n" + body

    creds = Credentials("AKID" + word(12, "ABCDEFGHIJ0123456789"),
                        word(40, "abcdefABCDEF0123456789/+"), token)
    url = "https://" + host + path
    req = AWSRequest(method=method, url=url, data=body, params=pairs)
    for n, v in headers:
        req.headers[n] = v
    if presign:
        expires = rnd.randint(1, 604800)
        cls = auth.S3SigV4QueryAuth if s3 else auth.SigV4QueryAuth
        a = cls(creds, service, region, expires=expires)
    else:
        a = (auth.S3SigV4Auth if s3 else auth.SigV4Auth)(creds, service, region)
        if unsigned:
            if s3:
                req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
            else:
                req.context["payload_signing_enabled"] = False
    rec = {}
    o_cr, o_sts, o_sig = a.canonical_request, a.string_to_sign, a.signature

    def cr(r):
        rec["cr"] = o_cr(r)
        return rec["cr"]

    def sts(r, c):
        rec["sts"] = o_sts(r, c)
        return rec["sts"]

    def sig(s, r):
        rec["sig"] = o_sig(s, r)
        return rec["sig"]

    a.canonical_request, a.string_to_sign, a.signature = cr, sts, sig
    a.add_auth(req)

    args = [tool, "--json", "--access-key", creds.access_key, "--secret-key",
            creds.secret_key, "--region", region, "--service", service, "--time", amz]
    if token:
        args += ["--session-token", token]
    if presign:
        args += ["--presign", str(expires)]
    if unsigned:
        args += ["--unsigned-payload"]
    p = subprocess.run(args, input=raw, capture_output=True)
    name = f"#{i} {service} {method} presign={int(presign)} unsigned={int(unsigned)} " \
           f"token={int(bool(token))}"
    if p.returncode != 0:
        return name, f"actlog-sigv4 exited {p.returncode}: {p.stderr.decode(errors='replace')}"
    got = json.loads(p.stdout)
    for key, want in (("canonical_request", rec["cr"]), ("string_to_sign", rec["sts"]),
                      ("signature", rec["sig"])):
        if got[key] != want:
            return name, f"{key} differs:\n--- actlog\n{got[key]}\n--- botocore\n{want}\n" \
                         f"--- request\n{raw[:2000]!r}"
    if presign:
        gu, bu = urlsplit(got["url"]), urlsplit(req.url)
        if (gu.netloc, gu.path) != (bu.netloc, bu.path) or \
                sorted(parse_qsl(gu.query, keep_blank_values=True)) != \
                sorted(parse_qsl(bu.query, keep_blank_values=True)):
            return name, f"url differs: {got['url']} vs {req.url}"
    elif got["authorization"] != req.headers["Authorization"]:
        return name, f"authorization differs: {got['authorization']} vs " \
                     f"{req.headers['Authorization']}"
    return name, None


fails = 0
for i in range(count):
    name, err = one(i)
    if err:
        fails += 1
        print(f"FAIL: test_sigv4: botocore {name}\n  " + err.replace("\n", "\n  "))
    else:
        print(f"PASS: test_sigv4: botocore {name}")
sys.exit(1 if fails else 0)
