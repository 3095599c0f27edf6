#!/usr/bin/python3
# sm_stub.py - a local AWS Secrets Manager endpoint for the aws-sm key
# provider's tests: GetSecretValue only (JSON 1.1 protocol). Every request's
# SigV4 signature is recomputed with botocore from what was received and
# compared; a wrong one is answered as AWS does (400
# InvalidSignatureException), a wrong access key with
# UnrecognizedClientException.
#
# Usage: sm_stub.py PORTFILE STATE_DIR ACCESS_KEY SECRET_KEY REGION [TOKEN]
# STATE_DIR/secrets.json: {"name": "SecretString", ...} (read per request);
#   a value may also be {"AWSCURRENT": "...", "AWSPENDING": "...",
#   "AWSPREVIOUS": "..."}: the secret's versions by stage. A string is a
#   secret with only AWSCURRENT. GetSecretValue's VersionStage (default
#   AWSCURRENT) picks one; a stage the secret lacks is
#   ResourceNotFoundException, as AWS answers.
# STATE_DIR/fail: "N STATUS" answers the next N requests with STATUS
# STATE_DIR/log: one JSON line per request (target, signed headers, verdict)
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

portfile, state, ak, sk, region = sys.argv[1:6]
token = sys.argv[6] if len(sys.argv) > 6 else None


def log(entry):
    with open(os.path.join(state, "log"), "a") as f:
        f.write(json.dumps(entry) + "\n")


def take_failure():
    path = os.path.join(state, "fail")
    try:
        n, status = open(path).read().split()
    except (OSError, ValueError):
        return None
    n = int(n)
    if n <= 0:
        return None
    with open(path, "w") as f:
        f.write("%d %s\n" % (n - 1, status))
    return int(status)


class H(BaseHTTPRequestHandler):
    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, typ, msg, entry):
        entry["verdict"] = typ
        log(entry)
        self.answer(status, {"__type": typ, "message": msg})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        entry = {"target": self.headers.get("X-Amz-Target"), "path": self.path}
        fail = take_failure()
        if fail:
            entry["verdict"] = "injected %d" % fail
            log(entry)
            self.answer(fail, {"__type": "InternalServiceError", "message": "injected"})
            return
        authz = self.headers.get("Authorization", "")
        try:
            cred = authz.split("Credential=")[1].split(",")[0]
            signed = authz.split("SignedHeaders=")[1].split(",")[0].split(";")
            got_sig = authz.split("Signature=")[1].strip()
        except IndexError:
            return self.error(400, "IncompleteSignatureException", "no signature", entry)
        entry["signed_headers"] = signed
        parts = cred.split("/")
        if parts[0] != ak:
            return self.error(400, "UnrecognizedClientException",
                              "The security token included in the request is invalid.", entry)
        if parts[2:] != [region, "secretsmanager", "aws4_request"]:
            return self.error(400, "InvalidSignatureException", "wrong scope " + cred, entry)
        hdrs = {h: self.headers.get(h) for h in signed if h != "host"}
        req = AWSRequest(method="POST", url="http://%s%s" % (self.headers["Host"], self.path),
                         data=body, headers=hdrs)
        auth = SigV4Auth(Credentials(ak, sk, token), "secretsmanager", region)
        req.context["timestamp"] = self.headers.get("X-Amz-Date", "")
        canonical = auth.canonical_request(req)
        want = auth.signature(auth.string_to_sign(req, canonical), req)
        if want != got_sig:
            return self.error(400, "InvalidSignatureException",
                              "The request signature we calculated does not match", entry)
        if token and self.headers.get("X-Amz-Security-Token") != token:
            return self.error(400, "UnrecognizedClientException", "bad session token", entry)
        if entry["target"] != "secretsmanager.GetSecretValue":
            return self.error(400, "UnknownOperationException", "only GetSecretValue", entry)
        req = json.loads(body)
        sid = req.get("SecretId")
        stage = req.get("VersionStage", "AWSCURRENT")
        entry["stage"] = stage
        secrets = json.load(open(os.path.join(state, "secrets.json")))
        if sid not in secrets:
            return self.error(400, "ResourceNotFoundException",
                              "Secrets Manager can't find the specified secret.", entry)
        versions = secrets[sid]
        if not isinstance(versions, dict):
            versions = {"AWSCURRENT": versions}
        if stage not in versions:
            return self.error(400, "ResourceNotFoundException",
                              "Secrets Manager can't find the specified secret value for "
                              "staging label: " + stage, entry)
        entry["verdict"] = "ok"
        log(entry)
        arn = "arn:aws:secretsmanager:%s:123456789012:secret:%s-AbCdEf" % (region, sid)
        self.answer(200, {"ARN": arn, "Name": sid, "VersionId": "v-" + stage.lower(),
                          "SecretString": versions[stage], "VersionStages": [stage],
                          "CreatedDate": 1.7e9})

    def log_message(self, fmt, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
