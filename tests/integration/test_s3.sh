#!/usr/bin/env bash
# test_s3.sh - actlog-s3 (lib/s3.c) against s3rver (a local S3 from npm, see
# scripts/deps.sh) and against a Python fault stub (s3_fault_stub.py) for
# retries, throttling and access errors.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../s3.sh"
S3=$BUILD/actlog-s3
need /usr/bin/python3
need node
need curl
need sha256sum
[ -x "$S3" ] || { fail "missing $S3 (make BUILD=$BUILD)"; finish; }

# --- s3rver, with its built-in key pair S3RVER/S3RVER ---
s3_init "" "" testbucket
s3_up
printf 'S3RVER\n' >"$T/secret"
s3() { "$S3" --endpoint "$S3URL" --bucket testbucket --path-style \
	--access-key S3RVER --secret-key-file "$T/secret" "$@"; }

# round trip: binary data, a key that needs encoding
head -c 300000 /dev/urandom >"$T/obj"
key='dir/a key+with%odd&chars é.bin'
check "put succeeds" s3 --content-type application/x-test put "$key" "$T/obj"
s3 get "$key" "$T/obj.back"
check "get is byte-exact" cmp -s "$T/obj" "$T/obj.back"
s3 get "$key" >"$T/obj.stdout"
check "get to stdout is byte-exact" cmp -s "$T/obj" "$T/obj.stdout"
s3 --json head "$key" >"$T/head.json"
check_eq "head size" "$(jq -r .size "$T/head.json")" 300000
check_eq "head etag is the md5" "$(jq -r .etag "$T/head.json")" "\"$(md5sum <"$T/obj" | cut -d' ' -f1)\""
check_eq "head content type" "$(jq -r .content_type "$T/head.json")" application/x-test
check "rm succeeds" s3 rm "$key"
rc=0
s3 head "$key" 2>"$T/err" || rc=$?
check_eq "head after rm: exit 3 (not found)" "$rc" 3

# 404 on GET: exit 3, S3's code and message, no partial file left
rc=0
s3 get no/such/key "$T/missing" 2>"$T/err" || rc=$?
check_eq "get missing key: exit 3" "$rc" 3
check "get missing key names NoSuchKey and its message" \
	grep -q "404 NoSuchKey: The specified key does not exist" "$T/err"
check "get missing key leaves no file" not test -e "$T/missing"

# a wrong access key: 403 from s3rver, exit 4, no retry
rc=0
"$S3" --endpoint "$S3URL" --bucket testbucket --path-style --access-key NOBODY \
	--secret-key-file "$T/secret" get x 2>"$T/err" || rc=$?
check_eq "unknown access key: exit 4" "$rc" 4
check "unknown access key: InvalidAccessKeyId, 1 attempt" grep -q "403 InvalidAccessKeyId.*1 attempt)" "$T/err"

# ListObjectsV2 in pages of 2 over 7 keys
echo x >"$T/small"
keys=(l/g l/a "l/c d" l/e l/b l/f l/d)
for k in "${keys[@]}"; do s3 put "$k" "$T/small" || fail "put $k"; done
s3 put other/z "$T/small"
s3 -v --max-keys 2 ls l/ >"$T/ls" 2>"$T/ls.err"
check_eq "ls lists every key once, sorted" "$(cut -f1 "$T/ls")" "$(printf '%s\n' "${keys[@]}" | LC_ALL=C sort)"
check_eq "ls took 4 pages (continuation tokens)" "$(grep -c 'ls page' "$T/ls.err")" 4
check_eq "ls sizes" "$(cut -f2 "$T/ls" | sort -u)" 2
check_eq "ls without prefix sees 8 keys" "$(s3 ls | wc -l)" 8

# 12 MiB through multipart (default threshold 8 MiB, 5 MiB parts: 3 parts)
head -c $((12 << 20)) /dev/urandom >"$T/big"
s3 -v --part-size $((5 << 20)) put big/obj "$T/big" 2>"$T/mp.err"
check "multipart put used 3 parts" grep -q "12582912 bytes in 3 parts of 5242880" "$T/mp.err"
check "multipart put completed" grep -q "multipart big/obj: complete" "$T/mp.err"
s3 get big/obj "$T/big.back"
check_eq "multipart object sha256" "$(sha256sum <"$T/big.back")" "$(sha256sum <"$T/big")"
rc=0
s3 -v put small/obj "$T/obj" 2>"$T/sp.err" || rc=$?
check_eq "a small put succeeds" "$rc" 0
check "a small put is one request" not grep -q multipart "$T/sp.err"

# presigned PUT used by plain curl, then GET by the client; presigned GET by curl
url=$(s3 presign PUT presigned/obj)
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$T/obj" "$url")
check_eq "presigned PUT by curl" "$code" 200
s3 get presigned/obj "$T/pre.back"
check "presigned PUT object is byte-exact" cmp -s "$T/obj" "$T/pre.back"
url=$(s3 presign GET presigned/obj)
check "presigned URL carries a signature" grep -q 'X-Amz-Signature=[0-9a-f]\{64\}' <<<"$url"
curl -sS -o "$T/pre.curl" "$url"
check "presigned GET by curl is byte-exact" cmp -s "$T/obj" "$T/pre.curl"
rc=0
s3 presign PUT k --expires 0 2>/dev/null || rc=$?
check_eq "presign rejects --expires 0" "$rc" 2

# --- fault stub ---
/usr/bin/python3 "$ROOT/tests/integration/s3_fault_stub.py" "$T/stub.port" "$T/stub.log" 2>"$T/stub.err" &
stubpid=$!
cleanup_add "kill $stubpid"
wait_for 10 test -s "$T/stub.port" || { fail "fault stub did not start: $(cat "$T/stub.err")"; finish; }
sport=$(cat "$T/stub.port")
stub() { # BUCKET ARGS...
	local b=$1
	shift
	"$S3" --endpoint "http://127.0.0.1:$sport" --bucket "$b" --path-style --access-key AK \
		--secret-key-file "$T/secret" "$@"
}
requests() { grep -c "^$1 " "$T/stub.log"; }

# 503 twice, then 200: retried, succeeds
rc=0
out=$(stub flaky -v --backoff-ms 20 get k 2>"$T/flaky.err") || rc=$?
check_eq "503 twice then 200: exit 0" "$rc" 0
check_eq "503 twice then 200: body" "$out" flaky-ok
check_eq "503 twice then 200: 3 requests" "$(requests flaky)" 3

# SlowDown always: gives up after --attempts with the throttling error, backing off
start=$(date +%s%N)
rc=0
stub slow -v --attempts 4 --backoff-ms 100 get k 2>"$T/slow.err" || rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check_eq "SlowDown: exit 5 (throttled)" "$rc" 5
check "SlowDown: error names the code and message" \
	grep -q "503 SlowDown: Please reduce your request rate.*4 attempts" "$T/slow.err"
check_eq "SlowDown: exactly 4 requests" "$(requests slow)" 4
check_eq "SlowDown: back-off caps double (100, 200, 400 ms)" \
	"$(grep -o 'cap [0-9]* ms' "$T/slow.err" | tr '\n' ' ')" "cap 100 ms cap 200 ms cap 400 ms "
waits=$(grep -o 'in [0-9]* ms (cap [0-9]*' "$T/slow.err" | awk '{ if ($2 > $5) bad = 1; s += $2 } END { print (bad ? "over" : s) }')
check "SlowDown: each wait within its cap" test "$waits" != over
check "SlowDown: elapsed ${elapsed_ms} ms >= the waits (${waits} ms)" test "$elapsed_ms" -ge "${waits/over/0}"
gaps=$(grep '^slow ' "$T/stub.log" | awk 'NR > 1 { s += ($3 - p) * 1000 } { p = $3 } END { printf "%d", s }')
check "SlowDown: request gaps at the stub (${gaps} ms) cover the waits" test "$gaps" -ge $((${waits/over/0} - 5))

# Retry-After: the next attempt waits at least what the server asked, even
# with a back-off base of 1 ms (so the jitter alone could not explain the gap)
gap_ms() { grep "^$1 " "$T/stub.log" | awk 'NR == 1 { p = $3 } NR == 2 { printf "%d", ($3 - p) * 1000 }'; }
rc=0
out=$(stub ra -v --backoff-ms 1 get k 2>"$T/ra.err") || rc=$?
check_eq "Retry-After 2: exit 0 and the body" "$rc $out" "0 ra-ok"
check_eq "Retry-After 2: 2 requests" "$(requests ra)" 2
check "Retry-After 2: the trace says the wait is 2000 ms" grep -q 'retry 1/4 in 2000 ms (cap 1 ms; Retry-After 2000 ms)' "$T/ra.err"
check "Retry-After 2: the requests are >= 1900 ms apart at the stub ($(gap_ms ra) ms)" test "$(gap_ms ra)" -ge 1900
rc=0
out=$(stub radate -v --backoff-ms 1 get k 2>"$T/radate.err") || rc=$?
check_eq "Retry-After as an HTTP date (429): exit 0 and the body" "$rc $out" "0 radate-ok"
check "Retry-After as an HTTP date: the trace shows it" grep -qE 'Retry-After [0-9]+ ms' "$T/radate.err"
# the date is 3 s ahead in whole seconds: at least 2 s remain when it is read
check "Retry-After as an HTTP date: the requests are >= 1900 ms apart ($(gap_ms radate) ms)" test "$(gap_ms radate)" -ge 1900
rc=0
stub ralong -v --attempts 1 get k 2>"$T/ralong.err" || rc=$?
check_eq "Retry-After on the last attempt: no wait, exit 5 (throttled)" "$rc" 5
check_eq "Retry-After on the last attempt: one request" "$(requests ralong)" 1
check "Retry-After on the last attempt: no retry traced" not grep -q retry "$T/ralong.err"

# 403 AccessDenied: no retry, clear error
rc=0
stub deny -v get k 2>"$T/deny.err" || rc=$?
check_eq "AccessDenied: exit 4" "$rc" 4
check "AccessDenied: error names the code and message" \
	grep -q "403 AccessDenied: Access Denied by the stub policy" "$T/deny.err"
check_eq "AccessDenied: one request" "$(requests deny)" 1

# a streamed GET that broke after delivering bytes is not retried
rc=0
stub cut -v --backoff-ms 10 get k "$T/cut.out" 2>"$T/cut.err" || rc=$?
check_eq "cut stream: exit 1" "$rc" 1
check_eq "cut stream: not retried after bytes were delivered" "$(requests cut)" 1
check "cut stream: partial file removed" not test -e "$T/cut.out"

# a failed part aborts the multipart upload
head -c $((6 << 20)) /dev/zero >"$T/six"
rc=0
stub mpfail -v --multipart-threshold $((5 << 20)) put k "$T/six" 2>"$T/mpfail.err" || rc=$?
check_eq "failed part: exit 1" "$rc" 1
check "failed part: error names InvalidPart" grep -q "400 InvalidPart: The stub rejects every part" "$T/mpfail.err"
check_eq "failed part: initiate, one part, abort" "$(awk '$1 == "mpfail" { print $2, $4 }' "$T/stub.log" | tr '\n' ' ')" \
	"POST /mpfail/k?uploads= PUT /mpfail/k?partNumber=1&uploadId=up-1 DELETE /mpfail/k?uploadId=up-1 "

# transport errors are retried, then reported
dead=$(free_port)
rc=0
"$S3" --endpoint "http://127.0.0.1:$dead" --bucket b --path-style --access-key AK --secret-key-file "$T/secret" \
	-v --attempts 3 --backoff-ms 10 get k 2>"$T/dead.err" || rc=$?
check_eq "connection refused: exit 1" "$rc" 1
check_eq "connection refused: 2 retries" "$(grep -c 'retry' "$T/dead.err")" 2
check "connection refused: error says so, 3 attempts" grep -q "Transport: .*3 attempts" "$T/dead.err"

# usage errors
rc=0
"$S3" --bucket b get 2>/dev/null || rc=$?
check_eq "missing arguments: exit 2" "$rc" 2
check "--help prints usage" sh -c "'$S3' --help | grep -q 'presign METHOD KEY'"
finish
