#!/usr/bin/env bash
# test_s3_stream.sh - the streamed upload of lib/s3.c (s3_upload_begin/write/
# finish/abort) through `actlog-s3 put KEY -`: objects of 0 bytes, under one
# part, exactly one and two parts and 2.5 parts read back byte-identical from
# s3rver; the peak RSS of a 200 MiB stream; failures in a part, in
# CompleteMultipartUpload and in a single PUT against the fault stub
# (s3_fault_stub.py), which leave no object and no pending upload.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../s3.sh"
S3=$BUILD/actlog-s3
need /usr/bin/python3
need /usr/bin/time
need node
need curl
need sha256sum
[ -x "$S3" ] || { fail "missing $S3 (make BUILD=$BUILD)"; finish; }
PART=$((5 << 20)) # S3_MIN_PART

s3_init "" "" testbucket
s3_up
printf 'S3RVER\n' >"$T/secret"
s3() { "$S3" --endpoint "$S3URL" --bucket testbucket --path-style \
	--access-key S3RVER --secret-key-file "$T/secret" --part-size "$PART" "$@"; }
pending() { find "$T/s3/testbucket/._S3rver_uploads" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# NAME SIZE PARTS: stream SIZE random bytes through a pipe, read them back;
# PARTS 0 means a single PUT (s3rver's ETag is the MD5 of the object either way)
stream_case() {
	local name=$1 size=$2 parts=$3 rc=0 etag
	head -c "$size" /dev/urandom >"$T/$name"
	cat "$T/$name" | s3 -v --content-type application/x-stream put "stream/$name" - 2>"$T/$name.err" || rc=$?
	check_eq "$name: put from a pipe, exit 0" "$rc" 0
	s3 get "stream/$name" "$T/$name.back"
	check_eq "$name: read back byte-identical" "$(sha256sum <"$T/$name.back")" "$(sha256sum <"$T/$name")"
	s3 --json head "stream/$name" >"$T/$name.head"
	check_eq "$name: size" "$(jq -r .size "$T/$name.head")" "$size"
	check_eq "$name: content type" "$(jq -r .content_type "$T/$name.head")" application/x-stream
	check_eq "$name: ETag is the MD5 of the bytes" "$(jq -r .etag "$T/$name.head")" \
		"\"$(md5sum <"$T/$name" | cut -d' ' -f1)\""
	if [ "$parts" = 0 ]; then
		check "$name: one PUT, no multipart step" not grep -q multipart "$T/$name.err"
	else
		check_eq "$name: parts sent" "$(grep -c "multipart stream/$name: part " "$T/$name.err")" "$parts"
		check "$name: completed with $parts parts" grep -q "multipart stream/$name: complete, $size bytes in $parts parts" "$T/$name.err"
	fi
}

stream_case empty 0 0
stream_case small $((1 << 20)) 0
stream_case onepart "$PART" 0
stream_case twoparts $((2 * PART)) 2
stream_case twohalf $((PART * 5 / 2)) 3
check "2.5 parts: the last part holds the half" grep -q "part 3 ($((PART / 2)) bytes)" "$T/twohalf.err"
check "2.5 parts: the first part is full" grep -q "part 1 ($PART bytes)" "$T/twohalf.err"
check_eq "no pending multipart upload left in s3rver" "$(pending)" 0

# memory: a 200 MiB stream holds one part buffer, not the object
head -c $((200 << 20)) /dev/urandom >"$T/big"
rc=0
cat "$T/big" | /usr/bin/time -v -o "$T/big.time" "$S3" --endpoint "$S3URL" --bucket testbucket \
	--path-style --access-key S3RVER --secret-key-file "$T/secret" --part-size "$PART" \
	put stream/big - || rc=$?
check_eq "200 MiB stream: exit 0" "$rc" 0
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$T/big.time")
bound=$(((3 * PART + (30 << 20)) >> 10))
echo "  200 MiB stream in parts of 5 MiB: peak RSS ${rss} KiB (bound ${bound} KiB)"
check "200 MiB stream: peak RSS ${rss} KiB < 3 parts + 30 MiB (${bound} KiB)" test "${rss:-999999999}" -lt "$bound"
s3 get stream/big "$T/big.back"
check_eq "200 MiB stream: read back byte-identical" "$(sha256sum <"$T/big.back")" "$(sha256sum <"$T/big")"
rm -f "$T/big" "$T/big.back"

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
		--secret-key-file "$T/secret" --part-size "$PART" "$@"
}
steps() { awk -v b="$1" '$1 == b { print $2, $4 }' "$T/stub.log" | tr '\n' ' '; }
uploads() { curl -sS "http://127.0.0.1:$sport/$1?uploads="; }

# the stub's ListMultipartUploads sees an upload that is not aborted
curl -sS -X POST "http://127.0.0.1:$sport/mpmid/probe?uploads=" >/dev/null
check "stub lists a pending upload" grep -q "<Upload><Key>probe</Key>" <<<"$(uploads mpmid)"
curl -sS -X DELETE "http://127.0.0.1:$sport/mpmid/probe?uploadId=mpmid-1"
check "stub lists none once it is aborted" not grep -q "<Upload>" <<<"$(uploads mpmid)"
: >"$T/stub.log"

# part 3 fails for good while stdin still has bytes: abort, nothing left
head -c $((17 << 20)) /dev/urandom >"$T/mid"
rc=0
stub mpmid -v --attempts 2 --backoff-ms 10 put k - <"$T/mid" 2>"$T/mid.err" || rc=$?
check_eq "failed part 3: exit 1" "$rc" 1
check "failed part 3: error names InternalError" grep -q "500 InternalError: The stub fails part 3" "$T/mid.err"
check_eq "failed part 3: initiate, parts 1-2, part 3 twice, abort" "$(steps mpmid)" \
	"POST /mpmid/k?uploads= PUT /mpmid/k?partNumber=1&uploadId=mpmid-2 PUT /mpmid/k?partNumber=2&uploadId=mpmid-2 PUT /mpmid/k?partNumber=3&uploadId=mpmid-2 PUT /mpmid/k?partNumber=3&uploadId=mpmid-2 DELETE /mpmid/k?uploadId=mpmid-2 "
check "failed part 3: the trace says aborted" grep -q "multipart k: aborted" "$T/mid.err"
check "failed part 3: no pending upload (ListMultipartUploads)" not grep -q "<Upload>" <<<"$(uploads mpmid)"
rc=0
stub mpmid head k 2>/dev/null || rc=$?
check_eq "failed part 3: no object (head exit 3)" "$rc" 3

# CompleteMultipartUpload answers 200 with an <Error>: abort, nothing left
head -c $((12 << 20)) /dev/urandom >"$T/done"
rc=0
stub mpdone -v put k - <"$T/done" 2>"$T/done.err" || rc=$?
check_eq "failed complete: exit 1" "$rc" 1
check "failed complete: error names InternalError" grep -q "200 InternalError: The stub fails complete" "$T/done.err"
check_eq "failed complete: 3 parts, complete, abort" "$(steps mpdone | sed 's/&uploadId=[^ ]*//g; s/?uploadId=[^ ]*//g')" \
	"POST /mpdone/k?uploads= PUT /mpdone/k?partNumber=1 PUT /mpdone/k?partNumber=2 PUT /mpdone/k?partNumber=3 POST /mpdone/k DELETE /mpdone/k "
check "failed complete: no pending upload (ListMultipartUploads)" not grep -q "<Upload>" <<<"$(uploads mpdone)"
rc=0
stub mpdone head k 2>/dev/null || rc=$?
check_eq "failed complete: no object (head exit 3)" "$rc" 3

# the same store completes a streamed upload (so the checks above can fail),
# and sees exactly one part as one PUT
: >"$T/stub.log"
rc=0
stub mpmid put two - <"$T/twoparts" || rc=$?
check_eq "stub store: a 2-part stream completes" "$rc" 0
check_eq "stub store: initiate, 2 parts, complete" "$(steps mpmid | sed 's/&uploadId=[^ ]*//g; s/?uploadId=[^ ]*//g')" \
	"POST /mpmid/two?uploads= PUT /mpmid/two?partNumber=1 PUT /mpmid/two?partNumber=2 POST /mpmid/two "
check "stub store: the object exists after complete" stub mpmid head two >/dev/null
: >"$T/stub.log"
rc=0
stub mpmid put one - <"$T/onepart" || rc=$?
check_eq "stub store: exactly one part goes up as one PUT" "$rc $(steps mpmid)" "0 PUT /mpmid/one "

# a single PUT refused (403): one request, no multipart step to abort
rc=0
stub deny -v put k - <"$T/small" 2>"$T/deny.err" || rc=$?
check_eq "single PUT denied: exit 4" "$rc" 4
check_eq "single PUT denied: one PUT, nothing else" "$(steps deny)" "PUT /deny/k "
finish
