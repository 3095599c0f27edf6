#!/usr/bin/env bash
# The master key from AWS Secrets Manager (--key-provider aws-sm) against a
# local endpoint (sm_stub.py) that checks every request's SigV4 signature
# with botocore; a wrong master key refused at start; one key moved between
# a file and Secrets Manager opens the same store; with no credentials in
# the environment, the instance profile's from a local IMDSv2 (imds_stub.py).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need openssl
PY=/usr/bin/python3
jqe() { jq -se "$1" "$2" >/dev/null; } # FILTER FILE: true on the slurped file
"$PY" -c 'import botocore' 2>/dev/null || { fail "Debian's python3-botocore is missing"; finish; }

AK=AKIDEXAMPLE
SK=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
TOKEN='FwoGZXIvYXdzEXAMPLE/session+token=='
REGION=eu-west-1
KEY=$(openssl rand -hex 32)
mkdir -p "$T/sm"
jq -n --arg k "$KEY" '{"actlog/master": $k, "actlog/not-hex": "not a key", "actlog/short": "abcd"}' >"$T/sm/secrets.json"
"$PY" "$(dirname "$0")/sm_stub.py" "$T/sm/port" "$T/sm" "$AK" "$SK" "$REGION" "$TOKEN" 2>"$T/sm/stderr" &
cleanup_add "kill $!"
check "the Secrets Manager endpoint is up" wait_for 10 test -s "$T/sm/port"
SM=http://127.0.0.1:$(cat "$T/sm/port")/
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SESSION_TOKEN=$TOKEN AWS_REGION=$REGION
# never ask a real instance metadata service (the machine may be on EC2)
export AWS_EC2_METADATA_DISABLED=true
unset AWS_EC2_METADATA_SERVICE_ENDPOINT
AWSOPT=(--key-provider aws-sm --aws-secret-id actlog/master --aws-endpoint "$SM")
printf '%s\n' "$ADMIN_PW" >"$T/admin.pw"

# --- init and serve on the secret ---
SRV_DIR=$T/srv
"$SRV_BIN" init --data-dir "$SRV_DIR" --admin-email "$ADMIN_EMAIL" --admin-password-file "$T/admin.pw" \
	"${AWSOPT[@]}" >"$T/init.out" 2>&1
check_eq "init on an aws-sm key" "$?" 0
check "init names the key's source" grep -q "master key: aws-sm secret actlog/master" "$T/init.out"
check "no key file is written" test ! -e "$SRV_DIR/master.key"
check "the key is nowhere in the data dir" not grep -rqa "$KEY" "$SRV_DIR"
# AWSCURRENT is the key; AWSPENDING and AWSPREVIOUS are asked for too (the
# key ring), and this secret has neither: AWS answers ResourceNotFound
OK_STAGES='all(.verdict == "ok" or (.stage != "AWSCURRENT" and .verdict == "ResourceNotFoundException"))'
check "every request was signed right (botocore agrees)" jqe "length >= 1 and $OK_STAGES" "$T/sm/log"
check "the current key is read by its stage" jqe 'any(.stage == "AWSCURRENT" and .verdict == "ok")' "$T/sm/log"
check "the signature covers host, date, target, type and token" jqe \
	'length >= 1 and all(.signed_headers == ["content-type","host","x-amz-date","x-amz-security-token","x-amz-target"])' "$T/sm/log"
check "it asks for GetSecretValue" jqe 'length >= 1 and all(.target == "secretsmanager.GetSecretValue")' "$T/sm/log"
srv_start "${AWSOPT[@]}" || finish
check "the server names the aws-sm key" grep -q "key=aws:[0-9a-f]\{16\}" "$SRV_LOG"
check "the secret is not logged" not grep -q "$KEY" "$SRV_LOG"
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
api "$A" PUT "/api/v1/nodes/$B/config" '{"values":{"s3.bucket":"actlog-shots","s3.secret_access_key":"S3-SECRET-VALUE-1234"}}'
check_st "a sealed secret is written under the aws-sm key" 200
api "$A" GET "/api/v1/nodes/$B/config"
check_st "and the config reads back" 200
check "the S3 secret is set (write-only)" jqe '.[0].secrets_set | index("s3.secret_access_key") != null' "$T/resp"
srv_stop
check "a clean stop" test $? -eq 0

# --- the same key in a file opens the same store ---
(umask 077 && printf '%s\n' "$KEY" >"$T/moved.key")
srv_start --key-file "$T/moved.key" || finish
check "the key moved to a file serves the store" grep -q 'event=started' "$SRV_LOG"
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
api "$A" PUT "/api/v1/nodes/$B/config" '{"values":{"s3.bucket":"actlog-shots-2","s3.secret_access_key":"S3-SECRET-VALUE-1234"}}'
check_st "its sealed config opens and is rewritten" 200
srv_stop

# --- refusals: each a clear reason, exit 1, nothing served ---
refused() { # NAME PATTERN ARGS...: serve must refuse with PATTERN in its log
	local name=$1 pat=$2 rc
	shift 2
	timeout "${REFUSE_WITHIN:-60}" "$SRV_BIN" serve --data-dir "$SRV_DIR" --listen 127.0.0.1:0 "$@" >"$T/refused.log" 2>&1
	rc=$?
	check_eq "$name: exit status" "$rc" 1
	check "$name: says why" grep -q "$pat" "$T/refused.log"
	check "$name: never started" not grep -q 'event=started' "$T/refused.log"
}
(umask 077 && openssl rand -hex 32 >"$T/other.key")
refused "a wrong key file" "does not open the store's data key" --key-file "$T/other.key"
refused "an unknown secret" "ResourceNotFoundException" --key-provider aws-sm --aws-secret-id actlog/nope --aws-endpoint "$SM"
refused "a secret that is not a key" "not exactly 64 hex digits" --key-provider aws-sm --aws-secret-id actlog/not-hex --aws-endpoint "$SM"
AWS_SECRET_ACCESS_KEY=wrong refused "a wrong secret key" "InvalidSignatureException" "${AWSOPT[@]}"
AWS_ACCESS_KEY_ID=AKIDWRONG refused "an unknown access key" "UnrecognizedClientException" "${AWSOPT[@]}"
AWS_SESSION_TOKEN= refused "no session token" "UnrecognizedClientException" "${AWSOPT[@]}"
AWS_REGION=us-east-1 refused "the wrong region" "InvalidSignatureException" "${AWSOPT[@]}"
unset AWS_ACCESS_KEY_ID
refused "no credentials" "no credentials" "${AWSOPT[@]}"
export AWS_ACCESS_KEY_ID=$AK
unset AWS_REGION
refused "no region" "no region" "${AWSOPT[@]}"
srv_start "${AWSOPT[@]}" --aws-region "$REGION" || finish
check "--aws-region stands in for AWS_REGION" grep -q 'event=started' "$SRV_LOG"
srv_stop
export AWS_REGION=$REGION
refused "an endpoint that is down" "GetSecretValue at http://127.0.0.1:1/" \
	--key-provider aws-sm --aws-secret-id actlog/master --aws-endpoint http://127.0.0.1:1/
refused "an endpoint with a path" "is not an http(s) URL ending at /" \
	--key-provider aws-sm --aws-secret-id actlog/master --aws-endpoint "${SM}x/y"

# --- retries: 5xx twice, then the key ---
: >"$T/sm/log"
echo "2 500" >"$T/sm/fail"
srv_start "${AWSOPT[@]}" || finish
check_eq "two 500s are retried, the third attempt gets the key" "$(jq -sc '[.[].verdict][0:3]' "$T/sm/log")" \
	'["injected 500","injected 500","ok"]'
srv_stop
echo "9 500" >"$T/sm/fail"
refused "a Secrets Manager that keeps failing" "HTTP 500 InternalServiceError" "${AWSOPT[@]}"
echo "0 500" >"$T/sm/fail"

# --- credentials from the instance profile (IMDSv2) ---
AK2=ASIAIMDSEXAMPLE7
SK2=imdsSecretKey/EXAMPLE+0123456789abcdefghijk
TOKEN2='IQoJb3JpZ2luX2VjEXAMPLE/instance+profile=='
REGION2=eu-central-1
ROLE=actlog-server-role
mkdir -p "$T/sm2" "$T/imds"
cp "$T/sm/secrets.json" "$T/sm2/secrets.json"
"$PY" "$(dirname "$0")/sm_stub.py" "$T/sm2/port" "$T/sm2" "$AK2" "$SK2" "$REGION2" "$TOKEN2" 2>"$T/sm2/stderr" &
cleanup_add "kill $!"
"$PY" "$(dirname "$0")/imds_stub.py" "$T/imds/port" "$T/imds" "$ROLE" "$AK2" "$SK2" "$TOKEN2" "$REGION2" \
	2>"$T/imds/stderr" &
cleanup_add "kill $!"
check "the second Secrets Manager endpoint is up" wait_for 10 test -s "$T/sm2/port"
check "the metadata service is up" wait_for 10 test -s "$T/imds/port"
SM2=http://127.0.0.1:$(cat "$T/sm2/port")/
IMDS=http://127.0.0.1:$(cat "$T/imds/port")
AWSOPT2=(--key-provider aws-sm --aws-secret-id actlog/master --aws-endpoint "$SM2")
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$IMDS

check_eq "the metadata service refuses a GET without a token" \
	"$(curl -s -o /dev/null -w '%{http_code}' "$IMDS/latest/meta-data/iam/security-credentials/")" 401
check_eq "and one with a made-up token" "$(curl -s -o /dev/null -w '%{http_code}' \
	-H 'X-aws-ec2-metadata-token: AQAEAmadeup' "$IMDS/latest/meta-data/iam/security-credentials/")" 401
: >"$T/imds/log"
"$SRV_BIN" init --data-dir "$T/srv3" --admin-email "$ADMIN_EMAIL" --admin-password-file "$T/admin.pw" \
	"${AWSOPT2[@]}" >"$T/init3.out" 2>&1
check_eq "init on instance-profile credentials" "$?" 0
check "the key is nowhere in that data dir" not grep -rqa "$KEY" "$T/srv3"
check_eq "IMDSv2: a token PUT, then the role, its credentials and the region with the token" \
	"$(jq -sc '[.[] | "\(.method) \(.path) \(.token // .ttl) \(.status)"]' "$T/imds/log")" \
	'["PUT /latest/api/token 21600 200","GET /latest/meta-data/iam/security-credentials/ true 200","GET /latest/meta-data/iam/security-credentials/'"$ROLE"' true 200","GET /latest/meta-data/placement/region true 200"]'
check "Secrets Manager got requests signed with the role's credentials in the instance's region" \
	jqe "length >= 1 and $OK_STAGES" "$T/sm2/log"
check "and the role's session token is signed" jqe \
	'length >= 1 and all(.signed_headers | index("x-amz-security-token") != null)' "$T/sm2/log"
srv_start "${AWSOPT2[@]}" || finish
check "the store opens on the key read with instance-profile credentials" grep -q 'event=started' "$SRV_LOG"
check "the role's secret key is not logged" not grep -qF "$SK2" "$SRV_LOG"
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
api "$A" GET "/api/v1/nodes/$B/config"
check_st "its sealed config reads back" 200
srv_stop

: >"$T/imds/log"
: >"$T/sm2/log"
srv_start "${AWSOPT2[@]}" --aws-region "$REGION2" || finish
check "with a region given, it starts too" grep -q 'event=started' "$SRV_LOG"
check "and the metadata service is not asked for the region" not grep -q placement "$T/imds/log"
srv_stop
AWS_REGION=$REGION refused "AWS_REGION wins over the instance's region" "wrong scope" "${AWSOPT2[@]}"
check "and the metadata service was not asked for it" not grep -q placement "$T/imds/log"

: >"$T/imds/log"
echo stale >"$T/imds/mode"
refused "a metadata service that does not take the token" \
	"refused GET $IMDS/latest/meta-data/iam/security-credentials/: HTTP 401" "${AWSOPT2[@]}"
check "the stub got the token and refused it" jqe \
	'any(.method == "GET" and .token == true and .status == 401)' "$T/imds/log"
echo ok >"$T/imds/mode"

: >"$T/imds/log"
AWS_EC2_METADATA_DISABLED=true refused "AWS_EC2_METADATA_DISABLED=true" \
	"no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the instance metadata service is off" \
	"${AWSOPT2[@]}"
check "and the metadata service was not asked" test ! -s "$T/imds/log"
AWS_SECRET_ACCESS_KEY=$SK2 refused "a secret key alone" "only AWS_SECRET_ACCESS_KEY is set" "${AWSOPT2[@]}"

AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1 REFUSE_WITHIN=20 refused "a metadata service that is down" \
	"no credentials in the environment and the instance metadata service did not answer at http://127.0.0.1:1:" \
	"${AWSOPT2[@]}"
# a port that takes connections (the listen backlog) and never answers
"$PY" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(3600)' "$T/mute.port" &
cleanup_add "kill $!"
check "the mute port is up" wait_for 10 test -s "$T/mute.port"
MUTE=http://127.0.0.1:$(cat "$T/mute.port")
AWS_EC2_METADATA_SERVICE_ENDPOINT=$MUTE REFUSE_WITHIN=30 refused "a metadata service that never answers" \
	"instance metadata service did not answer at $MUTE: .*[Tt]imed\? out" "${AWSOPT2[@]}"
AWS_EC2_METADATA_SERVICE_ENDPOINT=ftp://x refused "a metadata endpoint that is not http" \
	"AWS_EC2_METADATA_SERVICE_ENDPOINT 'ftp://x' is not an http(s) URL" "${AWSOPT2[@]}"
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SESSION_TOKEN=$TOKEN AWS_REGION=$REGION
export AWS_EC2_METADATA_DISABLED=true

# --- options that do not fit ---
"$SRV_BIN" serve --data-dir "$SRV_DIR" --key-provider vault >"$T/o" 2>&1
check_eq "an unknown provider: exit 2" "$?" 2
check "and says which there are" grep -q "file or aws-sm" "$T/o"
"$SRV_BIN" serve --data-dir "$SRV_DIR" --aws-secret-id x >"$T/o" 2>&1
check_eq "--aws-* without aws-sm: exit 2" "$?" 2
"$SRV_BIN" serve --data-dir "$SRV_DIR" "${AWSOPT[@]}" --key-file "$T/other.key" >"$T/o" 2>&1
check_eq "--key-file with aws-sm: exit 2" "$?" 2
"$SRV_BIN" init --data-dir "$T/srv2" --admin-email "$ADMIN_EMAIL" --admin-password-file "$T/admin.pw" \
	--key-provider aws-sm --aws-secret-id actlog/short --aws-endpoint "$SM" >"$T/o" 2>&1
check_eq "init refuses a secret that is not a key" "$?" 1
check "init leaves no store behind" test ! -e "$T/srv2/data.mdb"
finish
