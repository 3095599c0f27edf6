#!/usr/bin/env bash
# test_sigv4.sh - actlog-sigv4 against botocore (Debian's python3-botocore) over
# generated requests, and against the signatures AWS publishes for S3.
source "$(dirname "$0")/../lib.sh"
SIG=$BUILD/actlog-sigv4
need /usr/bin/python3
[ -x "$SIG" ] || { fail "missing $SIG (make BUILD=$BUILD)"; finish; }
/usr/bin/python3 -c 'import botocore.auth' 2>/dev/null || { fail "python3-botocore not installed (scripts/deps.sh)"; finish; }

S3KEYS=(--access-key AKIAIOSFODNN7EXAMPLE --secret-key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
	--region us-east-1 --service s3 --time 20130524T000000Z)

# S3 documentation: GET object with a range (Authorization header form)
out=$(printf 'GET /test.txt HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\nRange: bytes=0-9\r\n\r\n' |
	"$SIG" "${S3KEYS[@]}")
check_eq "s3 doc get-object authorization" "$(grep '^Authorization:' <<<"$out")" \
	"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

# S3 documentation: PUT object with a body
out=$(printf 'PUT /test$file.text HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\nDate: Fri, 24 May 2013 00:00:00 GMT\nx-amz-storage-class: REDUCED_REDUNDANCY\n\nWelcome to Amazon S3.' |
	"$SIG" "${S3KEYS[@]}" --json)
check_eq "s3 doc put-object signature" "$(jq -r .signature <<<"$out")" \
	98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd

# S3 documentation: presigned URL
out=$(printf 'GET /test.txt HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\n\n' |
	"$SIG" "${S3KEYS[@]}" --presign 86400 --json)
check_eq "s3 doc presigned url" "$(jq -r .url <<<"$out")" \
	"https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

# SigV4 test suite: get-vanilla-query-order-key-case, get-space
SUITE=(--access-key AKIDEXAMPLE --secret-key wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
	--region us-east-1 --service service --time 20150830T123600Z --json)
out=$(printf 'GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\n' | "$SIG" "${SUITE[@]}")
check_eq "suite get-vanilla-query-order-key-case" "$(jq -r .signature <<<"$out")" \
	b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500
out=$(printf 'GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\n' | "$SIG" "${SUITE[@]}")
check_eq "suite get-space" "$(jq -r .signature <<<"$out")" \
	652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741

# malformed requests: a clear error, exit 1
bad() { # NAME INPUT WANT-IN-STDERR
	local rc=0
	printf "$2" | "$SIG" "${SUITE[@]}" >/dev/null 2>"$T/err" || rc=$?
	if [ "$rc" -eq 1 ] && grep -q "$3" "$T/err"; then pass "$1"; else fail "$1 (rc $rc: $(cat "$T/err"))"; fi
}
bad "rejects a missing Host" 'GET / HTTP/1.1\nX-A: b\n\n' "no Host header"
bad "rejects a bad request line" 'GET /\nHost: h\n\n' "bad request line"
bad "rejects a wrong Content-Length" 'PUT / HTTP/1.1\nHost: h\nContent-Length: 9\n\nabc' "Content-Length"
bad "rejects a header without a colon" 'GET / HTTP/1.1\nHost: h\nnocolon\n\n' "without a name"
bad "rejects a missing blank line" 'GET / HTTP/1.1\nHost: h\n' "no empty line"
rc=0
printf 'GET / HTTP/1.1\nHost: h\n\n' | "$SIG" --access-key a --secret-key b --region r --service s --time 2015-08-30 >/dev/null 2>&1 || rc=$?
check_eq "rejects a bad --time" "$rc" 2

# botocore: many generated requests, compared exactly
seed=${SIGV4_SEED:-$RANDOM}
echo "botocore comparison: seed $seed (SIGV4_SEED=$seed repeats it)"
/usr/bin/python3 "$ROOT/tests/integration/sigv4_botocore.py" "$SIG" "${SIGV4_COUNT:-250}" "$seed" >"$T/bc.log" 2>&1
rc=$?
cat "$T/bc.log"
n=$(grep -c '^PASS: ' "$T/bc.log")
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL: ' "$T/bc.log"; then fail "botocore comparison crashed (rc $rc)"; fi
[ "$n" -ge 200 ] || fail "botocore comparison: only $n requests matched (want >= 200)"
finish
