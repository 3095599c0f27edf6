#!/usr/bin/env bash
# Master key rotation against the real binaries: `actlog-server rotate-key`
# while the server serves and ingests, killed -9 halfway and re-run; every
# sealed secret (config with S3 credentials, the screenshot settings sealed
# at presign, checked by botocore) still opens; the server picks up the new
# key on SIGHUP; GET /api/v1/admin/keys before, during and after; the new
# key alone serves, the old key alone is refused with the reason. Then
# aws-sm: AWSCURRENT changed in the Secrets Manager stub, and the server
# re-wraps every data key in the background without a restart.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need openssl
PY=/usr/bin/python3
"$PY" -c 'import botocore' 2>/dev/null || { fail "Debian's python3-botocore is missing"; finish; }
jrok() { jq -e "$@" "$T/resp" >/dev/null 2>&1; } # [--arg N V]... FILTER: the last body passes

AKID=AKIDROTATETEST
SECRET=rotate-secret-$(openssl rand -hex 12)
S3CFG=$(jq -nc --arg a "$AKID" --arg s "$SECRET" '{values:{"s3.bucket":"rotate-shots","s3.region":"us-east-1",
	"s3.endpoint":"http://127.0.0.1:9","s3.path_style":true,"s3.access_key_id":$a,"s3.secret_access_key":$s,
	"screenshots.enabled":true}}')
SHA=$(openssl rand -hex 32)
presign_body() { printf '{"sha256":"%s","size":1000,"content_type":"image/png","taken_at":"%s"}' "$SHA" "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"; }
# presign_ok NAME: a presign answers 200 and botocore, given the secret,
# computes the URL's signature: the sealed S3 secret opened to the byte
presign_ok() {
	local url hl rc
	api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
	check_st "$1: presign" 200
	url=$(jr .url)
	mapfile -t hl < <(jq -r '.headers | to_entries[] | "\(.key): \(.value)"' "$T/resp")
	PRESIGN_SECRET=$SECRET "$PY" "$ROOT/tests/integration/presign_botocore.py" "$1" PUT "$url" "$AKID" \
		us-east-1 "${hl[@]}" >"$T/bc.log" 2>&1
	rc=$?
	check_eq "$1: botocore signs the presigned URL with the sealed secret" "$rc/$(grep -c '^PASS: ' "$T/bc.log")" 0/5
}
# secrets_ok NAME: every sealed document opens through the API
secrets_ok() {
	local u
	A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
	check "$1: the admin signs in" test -n "$A"
	api "$A" GET "/api/v1/nodes/$TA/config"
	check "$1: team A's config opens, with its S3 secret set" \
		jrok '.secrets_set | index("s3.secret_access_key") != null'
	for u in "$UA" "$UB" "$UC"; do
		api "$A" GET "/api/v1/users/$u/config/effective"
		check_st "$1: effective config of $u" 200
	done
	api "$A" GET "/api/v1/users/$UA/config/effective"
	check "$1: alice's effective config holds her own level and the team's" \
		jrok '.values["activity.interval_s"] == 45 and .values["screenshots.enabled"] == true'
	check "$1: alice signs in" test -n "$(login alice@example.com password-alice)"
	presign_ok "$1"
}
keys() { api "$A" GET /api/v1/admin/keys; }
ING=0
ingest_one() { # one small batch from device A; prints the status
	local n=$1 ts
	ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
	printf '{"type":"agent","ts":"%s","v":1,"host_id":"%s","user":null,"event":"start","version":"0.%d"}\n' \
		"$ts" "$HOSTA" "$n" | gzip -c >"$T/ing.gz"
	curl -s -o /dev/null -w '%{http_code}\n' -X POST --max-time 30 -H "Authorization: Bearer $TOKA" \
		-H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: gzip' -H "X-Batch-Id: rot-$n" \
		--data-binary @"$T/ing.gz" "$SRV_URL/api/v1/ingest"
}

# --- a store with data and sealed secrets, served ---
srv_init
check_eq "init" "$?" 0
srv_start --key-poll 0 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UB=$(srv_user bob@example.com bob bob "$TA")
UC=$(srv_user carol@example.com carol carol "$TB")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UB" -a -n "$UC"
api "$A" PUT "/api/v1/nodes/$TA/config" "$S3CFG"
check_st "team A's config with S3 credentials" 200
for n in "$B" "$DOM" "$PRJ" "$TB"; do
	api "$A" PUT "/api/v1/nodes/$n/config" '{"values":{"idle.threshold_s":300}}'
	check_st "config of node $n" 200
done
for u in "$UA" "$UB" "$UC"; do
	api "$A" PUT "/api/v1/users/$u/config" '{"values":{"activity.interval_s":45}}'
	check_st "config of user $u" 200
done
HOSTA=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
srv_enroll "$TA" "$HOSTA"
DEVA=$DEV TOKA=$TOK
api "$A" PUT "/api/v1/devices/$DEVA" "{\"owner_id\":\"$UA\"}"
check_st "alice owns device A" 200
secrets_ok "before"
check_eq "ingest before" "$(ingest_one 0)" 200

K0=$(grep -o 'key=file:[0-9a-f]*' "$SRV_LOG" | head -1 | cut -d= -f2)
keys
check_st "the admin route" 200
check_eq "before: one key, current, the server's" "$(jr '[.current, (.keys | length), .keys[0].loaded, .rotation]|@json')" \
	"[\"$K0\",1,true,null]"
N=$(jr '.keys[0].items')
check "before: every data key under it (store, config levels, screenshots)" test "$N" -ge 10
check_eq "before: nothing stale" "$(jr .stale_items)" 0
api "$(login alice@example.com password-alice)" GET /api/v1/admin/keys
check_st "the admin route needs store.admin on the root" 403

# --- rotate-key while the server serves and ingests; killed -9 halfway ---
ingest_loop() { # FIRST: batches FIRST.. every 50 ms into $T/ing.status until killed
	local i=$1
	while :; do
		ingest_one "$i" >>"$T/ing.status"
		i=$((i + 1))
		sleep 0.05
	done
}
ingest_stop() {
	kill "$ING_PID" 2>/dev/null
	wait "$ING_PID" 2>/dev/null
}
ingest_loop 1 &
ING_PID=$!
cleanup_add "kill $ING_PID"
"$SRV_BIN" rotate-key --data-dir "$SRV_DIR" --batch 1 --pause 400 >"$T/rot1.out" 2>&1 &
ROT=$!
cleanup_add "kill -9 $ROT"
check "the rotation starts and re-wraps batches" wait_for 20 grep -q '^rotate-key: batch 3:' "$T/rot1.out"
kill -9 "$ROT"
wait "$ROT" 2>/dev/null
check "rotate-key said where it stands" grep -q 'started the rotation from file:' "$T/rot1.out"
check "the new key is DIR/master.key.next" test -f "$SRV_DIR/master.key.next"
check_eq "mode 0600" "$(stat -c %a "$SRV_DIR/master.key.next")" 600
check "the key file is still the old key" grep -q . "$SRV_DIR/master.key"
K1=$(sed -n 's/.*started the rotation from file:[0-9a-f]* to \(file:[0-9a-f]*\);.*/\1/p' "$T/rot1.out")
check "the new key id" test -n "$K1" -a "$K1" != "$K0"
keys
check_eq "halfway: the store's current key is the new one, not yet loaded here" \
	"$(jq -c --arg k "$K1" '[.current, .rotation.to, .rotation.from, ([.keys[] | select(.id == $k) | .loaded][0])]' "$T/resp")" \
	"[\"$K1\",\"$K1\",\"$K0\",false]"
check "halfway: some data keys moved, some not" \
	jrok --arg k "$K1" '.stale_items > 0 and ([.keys[] | select(.id == $k) | .items][0] >= 3)'
check "halfway: the progress is recorded" jrok '.rotation.rewrapped >= 3'

# --- a data key made now is wrapped by the new key at once: the server
# loads master.key.next the moment it needs it ---
NB_BEFORE=$(jq --arg k "$K1" '[.keys[] | select(.id == $k) | .items][0]' "$T/resp")
srv_enroll "$TB" bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
UD=$(srv_user dave@example.com dave dave "$TB")
api "$A" PUT "/api/v1/users/$UD/config" '{"values":{"activity.interval_s":50}}'
check_st "a new user's config during the rotation" 200
check "the server loaded the new key when it needed it" grep -q 'event=key_reloaded .*keys=2' "$SRV_LOG"
keys
check_eq "the new user's data key is under the new key" \
	"$(jq --arg k "$K1" '[.keys[] | select(.id == $k) | .items][0]' "$T/resp")" "$((NB_BEFORE + 1))"
check "the new key is loaded now" jrok --arg k "$K1" '[.keys[] | select(.id == $k) | .loaded][0] == true'

# --- SIGHUP reloads the key ring ---
kill -HUP "$SRV_PID"
check "SIGHUP reloads the key ring" wait_for 10 grep -q 'event=key_reload why=SIGHUP' "$SRV_LOG"
check "with both keys" wait_for 10 eval 'test "$(grep -c "event=key_reloaded .*keys=2" "$SRV_LOG")" -ge 2'
secrets_ok "halfway"

ingest_stop
check "ingest went on during the rotation" test "$(wc -l <"$T/ing.status")" -ge 10
check_eq "every ingest during the rotation answered 200" "$(sort -u "$T/ing.status" | tr '\n' ' ')" "200 "

# --- the server restarts mid-rotation with both key files present ---
srv_stop
check "a clean stop" test $? -eq 0
srv_start --key-poll 0 || finish
check "it starts with both keys" grep -q 'event=started' "$SRV_LOG"
secrets_ok "restarted halfway"

# --- the re-run finishes, while devices ingest ---
: >"$T/ing.status"
ingest_loop 1000 &
ING_PID=$!
cleanup_add "kill $ING_PID"
"$SRV_BIN" rotate-key --data-dir "$SRV_DIR" --batch 2 --pause 200 >"$T/rot2.out" 2>&1
check_eq "the re-run finishes (exit 0)" "$?" 0
ingest_stop
check "ingest went on during the re-run" test "$(wc -l <"$T/ing.status")" -ge 5
check_eq "every ingest during the re-run answered 200" "$(sort -u "$T/ing.status" | tr '\n' ' ')" "200 "
check "it resumed" grep -q "resuming the rotation from $K0 to $K1" "$T/rot2.out"
check "it is done" grep -q "^rotate-key: done: .* the master key is $K1" "$T/rot2.out"
check "master.key.next is gone" test ! -e "$SRV_DIR/master.key.next"
RET=$SRV_DIR/master.key.retired-${K0#file:}
check "the old key is kept as master.key.retired-<id>" test -f "$RET"
check_eq "retired key mode 0600" "$(stat -c %a "$RET")" 600
# a new key_reloaded line after this SIGHUP (the count before it, plus one;
# eval: wait_for runs the count again each time)
n_rl=$(grep -c 'event=key_reloaded' "$SRV_LOG")
kill -HUP "$SRV_PID"
if wait_for 10 eval 'test "$(grep -c event=key_reloaded "$SRV_LOG")" -gt "$n_rl"'; then
	pass "SIGHUP again"
else
	fail "SIGHUP again"
	echo "server pid $SRV_PID ($(ps -o stat= -p "$SRV_PID" 2>/dev/null || echo gone)); its log's end:" >&2
	tail -n 20 "$SRV_LOG" >&2
fi
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
keys
check_eq "after: the new key is current, nothing stale, no rotation" \
	"$(jq -c '[.current, .stale_items, .rotation, (.rotated != null)]' "$T/resp")" "[\"$K1\",0,null,true]"
check "after: no data key under the old key" jrok --arg k "$K0" '[.keys[] | select(.id == $k) | .items] | (length == 0 or .[0] == 0)'
api "$A" GET "/api/v1/audit?limit=1000"
check "audited: start, re-wrap progress and finish, by the system" \
	jrok '[.entries[] | select(.action | startswith("key.rotate.")) | .action] as $a |
		($a | index("key.rotate.start")) != null and ($a | index("key.rotate.rewrap")) != null and
		($a | index("key.rotate.finish")) != null'
check "the finish names both keys" jrok --arg f "$K0" --arg t "$K1" \
	'[.entries[] | select(.action == "key.rotate.finish")][0].detail | .from == $f and .to == $t'
secrets_ok "after"
srv_stop

# --- the new key alone; the old key alone is refused ---
mv "$RET" "$T/old.key"
srv_start --key-poll 0 || finish
check "the new key alone serves the store" grep -q "event=started.*key=$K1" "$SRV_LOG"
secrets_ok "new key alone"
api "$A" GET /metrics
check "metrics: the stale gauge is 0" grep -q '^actlog_server_key_stale_items 0$' "$T/resp"
check "metrics: the counters are listed" grep -q '^actlog_server_key_rotations_total ' "$T/resp"
srv_stop
timeout 60 "$SRV_BIN" serve --data-dir "$SRV_DIR" --listen 127.0.0.1:0 --key-file "$T/old.key" >"$T/refused.log" 2>&1
check_eq "the old key alone: exit 1" "$?" 1
check "the old key alone: says why" grep -q "does not open the store's data key.*the store's current master key is $K1.*retired" "$T/refused.log"
check "the old key alone: never started" not grep -q 'event=started' "$T/refused.log"

# --- a rotation with a given key file; refusals ---
(umask 077 && openssl rand -hex 32 >"$T/given.key")
"$SRV_BIN" rotate-key --data-dir "$SRV_DIR" --new-key-file "$T/given.key" >"$T/rot3.out" 2>&1
check_eq "rotate-key --new-key-file (server stopped)" "$?" 0
check_eq "the key file now holds the given key" "$(cat "$SRV_DIR/master.key")" "$(cat "$T/given.key")"
"$SRV_BIN" rotate-key --data-dir "$SRV_DIR" --batch 0 >"$T/rot4.out" 2>&1
check_eq "--batch 0 is a usage error" "$?" 2
"$SRV_BIN" rotate-key --data-dir "$SRV_DIR" --key-file "$T/old.key" >"$T/rot5.out" 2>&1
check_eq "rotate-key with a retired key: refused" "$?" 1
check "and says why" grep -q "does not open the store's data key" "$T/rot5.out"
check "a refused run leaves no new key file behind" test ! -e "$T/old.key.next"
srv_start --key-poll 0 || finish
secrets_ok "after a second rotation"
srv_stop

# --- aws-sm: AWSCURRENT changes, the server re-wraps in the background ---
AK=AKIDEXAMPLE
SK=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
REGION=eu-west-1
KA=$(openssl rand -hex 32)
KB=$(openssl rand -hex 32)
mkdir -p "$T/sm"
jq -n --arg k "$KA" '{"actlog/master": $k}' >"$T/sm/secrets.json"
"$PY" "$(dirname "$0")/sm_stub.py" "$T/sm/port" "$T/sm" "$AK" "$SK" "$REGION" 2>"$T/sm/stderr" &
cleanup_add "kill $!"
check "the Secrets Manager endpoint is up" wait_for 10 test -s "$T/sm/port"
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_REGION=$REGION AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_EC2_METADATA_SERVICE_ENDPOINT
AWSOPT=(--key-provider aws-sm --aws-secret-id actlog/master --aws-endpoint "http://127.0.0.1:$(cat "$T/sm/port")/")
"$SRV_BIN" init --data-dir "$T/aws" --admin-email "$ADMIN_EMAIL" --admin-password-file "$T/admin.pw" \
	--business Acme "${AWSOPT[@]}" >"$T/init-aws.out" 2>&1
check_eq "init on an aws-sm key" "$?" 0
SRV_DIR=$T/aws
srv_start "${AWSOPT[@]}" --key-poll 1 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UB=$(srv_user bob@example.com bob bob "$TA")
UC=$(srv_user carol@example.com carol carol "$TB")
api "$A" PUT "/api/v1/nodes/$TA/config" "$S3CFG"
check_st "aws: team A's config with S3 credentials" 200
for u in "$UA" "$UB" "$UC"; do
	api "$A" PUT "/api/v1/users/$u/config" '{"values":{"activity.interval_s":45}}'
done
srv_enroll "$TA" "$HOSTA"
DEVA=$DEV TOKA=$TOK
api "$A" PUT "/api/v1/devices/$DEVA" "{\"owner_id\":\"$UA\"}"
secrets_ok "aws before"
keys
KA_ID=$(jr .current)
check "aws: the current key is the secret's" grep -q '^aws:[0-9a-f]\{16\}$' <<<"$KA_ID"
check "aws: the key is asked for by stage" jq -se 'any(.stage == "AWSPENDING") and any(.stage == "AWSPREVIOUS")' "$T/sm/log"
# the secret is rotated: a new AWSCURRENT, the old one AWSPREVIOUS
jq -n --arg a "$KA" --arg b "$KB" '{"actlog/master": {"AWSCURRENT": $b, "AWSPREVIOUS": $a}}' >"$T/sm/secrets.json.tmp"
mv "$T/sm/secrets.json.tmp" "$T/sm/secrets.json"
check "the poll sees the new AWSCURRENT and the server re-wraps" wait_for 20 grep -q 'event=key_rewrap_done' "$SRV_LOG"
check "it re-wrapped data keys" grep -q 'event=key_rewrap_done .*rewrapped=[1-9]' "$SRV_LOG"
keys
KB_ID=$(jr .current)
check "aws: the new key is current" test -n "$KB_ID" -a "$KB_ID" != "$KA_ID"
check_eq "aws: nothing stale, no rotation in progress" "$(jq -c '[.stale_items, .rotation]' "$T/resp")" "[0,null]"
check "aws: both keys are loaded" jrok --arg a "$KA_ID" '[.keys[] | select(.id == $a) | .loaded][0] == true'
secrets_ok "aws after"
api "$A" GET /metrics
check "aws: metrics count the re-wrapped keys" grep -qE '^actlog_server_key_rewrapped_total [1-9]' "$T/resp"
check "aws: and the rotation" grep -q '^actlog_server_key_rotations_total 1$' "$T/resp"
api "$A" GET "/api/v1/audit?limit=1000"
check "aws: audited by the system" jrok '[.entries[] | select(.action == "key.rotate.finish")] | length == 1'
srv_stop
# the previous version gone: the new key alone serves
jq -n --arg b "$KB" '{"actlog/master": $b}' >"$T/sm/secrets.json"
srv_start "${AWSOPT[@]}" || finish
check "aws: AWSCURRENT alone serves the store" grep -q "event=started.*key=$KB_ID" "$SRV_LOG"
secrets_ok "aws new key alone"
srv_stop
finish
