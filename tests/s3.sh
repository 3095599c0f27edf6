# tests/s3.sh - sourced (after lib.sh) by the tests that need a local S3:
# s3rver (from npm, scripts/deps.sh) on a fixed loopback port, its objects
# under $T/s3 (BUCKET/KEY._S3rver_object), so that it can be stopped and
# started again with its buckets intact.
#
#   s3_init AKID SECRET BUCKET...   port S3PORT, endpoint S3URL; a key pair
#                        of our own (a secret found nowhere else) unless AKID
#                        is empty (then only the built-in S3RVER/S3RVER)
#   s3_start             start; true once it answers (S3PID)
#   s3_up                s3_start, or a failure and the end of the test
#   s3_stop              stop; true once it no longer answers
#   s3_count BUCKET      prints the number of objects in BUCKET
#   s3_has BUCKET KEY    true when KEY is in BUCKET
S3RVER_DIR=${ACTLOG_NODE_DIR:-/opt/actlog-test}/node_modules/s3rver
S3PORT=
S3URL=
S3PID=

s3_init() {
	local akid=$1 b buckets=
	[ -d "$S3RVER_DIR" ] || { fail "missing $S3RVER_DIR (scripts/deps.sh installs s3rver)"; finish; }
	S3_SECRET=$2
	shift 2
	for b in "$@"; do buckets+="${buckets:+, }{ name: '$b' }"; done
	S3PORT=$(free_port)
	S3URL=http://127.0.0.1:$S3PORT
	mkdir -p "$T/s3"
	{
		echo "const S3rver = require('$S3RVER_DIR');"
		[ -z "$akid" ] || echo "require('$S3RVER_DIR/lib/models/account').DUMMY_ACCOUNT.createKeyPair('$akid', process.env.S3_SECRET);"
		echo "new S3rver({ address: '127.0.0.1', port: $S3PORT, directory: '$T/s3', silent: true,"
		echo "  configureBuckets: [$buckets] }).run((err) => { if (err) { console.error(err); process.exit(1); } });"
	} >"$T/s3rver.js"
}

# s3rver's continuation tokens use DES, which Node 17+ only has in OpenSSL's legacy provider
s3_start() {
	S3_SECRET=$S3_SECRET NODE_OPTIONS=--openssl-legacy-provider node "$T/s3rver.js" >>"$T/s3rver.log" 2>&1 &
	S3PID=$!
	cleanup_add "kill $S3PID"
	wait_for 30 curl -s -o /dev/null "$S3URL/"
}

s3_up() { s3_start || { fail "s3rver did not start: $(tail -5 "$T/s3rver.log")"; finish; }; }

s3_stop() { kill "$S3PID" && wait "$S3PID" 2>/dev/null; ! curl -s -o /dev/null "$S3URL/"; }

s3_count() { find "$T/s3/$1" -name '*._S3rver_object' 2>/dev/null | wc -l; }

s3_has() { test -f "$T/s3/$1/$2._S3rver_object"; }
