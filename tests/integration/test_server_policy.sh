#!/usr/bin/env bash
# actlog-server: the logging and screenshot policy enforced by the server,
# whatever a device sends (a device that ignores its policy is curl with a
# device token). Records taken before logging was switched off at a team or
# at a user are kept, those taken after it dropped, also when they arrive
# later in one batch; switched on again, later records are kept and the
# off-window's still dropped. A record mapped to no user is judged by its
# device's team. The answer and GET /metrics count the dropped records; a
# replayed batch counts nothing twice. A lock above the team holds. Presign
# and register of a screenshot are refused (403) when screenshots.enabled
# or logging.enabled is off, or logging was off when the shot was taken,
# and allowed again when both are on (with s3rver).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need gzip
need node
need sha256sum

HOST=0123456789abcdef0123456789abcdef
AKID=AKIDPOLICYTEST
SECRET=policy-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$SECRET" shots
s3_up

now_ms() { date +%s%3N; }
# iso MS: RFC 3339 UTC with milliseconds of Unix ms MS
iso() { date -u -d "@$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
user_json() { if [ -n "${1:-}" ]; then jq -nc --arg u "$1" '$u'; else echo null; fi; }
# records at Unix ms: proc MS COMM [USER], act MS KEYS [USER], sysinfo MS [USER], agentrec MS [USER]
proc() {
	printf '{"type":"process","ts":"%s","v":1,"host_id":"%s","user":%s,"event":"exec","pid":7,"ppid":1,"uid":1000,"comm":"%s","exe":"/usr/bin/%s"}\n' \
		"$(iso "$1")" "$HOST" "$(user_json "${3:-}")" "$2" "$2"
}
act() {
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"%s","user":%s,"start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":0,"moves":0,"scrolls":0,"active_s":30}\n' \
		"$(iso "$1")" "$HOST" "$(user_json "${3:-}")" "$(iso "$(($1 - 60000))")" "$(iso "$1")" "$2"
}
sysinfo() { printf '{"type":"sysinfo","ts":"%s","v":1,"host_id":"%s","user":%s,"cpus":4}\n' "$(iso "$1")" "$HOST" "$(user_json "${2:-}")"; }
agentrec() { printf '{"type":"agent","ts":"%s","v":1,"host_id":"%s","user":%s,"event":"start"}\n' "$(iso "$1")" "$HOST" "$(user_json "${2:-}")"; }
# ingest TOKEN BATCH_ID FILE: gzip FILE and POST it; ST and $T/resp as api()
ingest() {
	gzip -c "$3" >"$T/body.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 60 \
		-H "Authorization: Bearer $1" -H "X-Batch-Id: $2" -H 'Content-Encoding: gzip' \
		--data-binary @"$T/body.gz" "$SRV_URL/api/v1/ingest")
}
# comms DEVICE FROM_MS TO_MS: the comm names of the device's stored process records, sorted
comms() {
	api "$A" GET "/api/v1/devices/$1/processes?from=$(iso "$2")&to=$(iso "$3")&limit=1000"
	jr '[.processes[].comm] | sort | join(",")'
}
# keys USER FROM_MS TO_MS: the user's rolled-up keys and activity records
keys() {
	api "$A" GET "/api/v1/users/$1/activity?from=$(iso "$2")&to=$(iso "$3")"
	jr '.totals | "\(.keys)/\(.records)"'
}
metric() { # SERIES: its value in GET /metrics
	api "$A" GET /metrics
	grep -F "$1 " "$T/resp" | awk '{print $2}'
}
set_cfg() { # PATH JSON NAME: PUT the config, 200
	api "$A" PUT "$1" "$2"
	check_st "$3" 200
}
DROP='actlog_server_ingest_dropped_total{reason="logging_off"}'

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UD=$(srv_user dave@example.com dave dave "$TB")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UD"
srv_enroll "$TA" "$HOST"
D1=$DEV T1=$TOK
srv_enroll "$TB" fedcba9876543210fedcba9876543210
D2=$DEV T2=$TOK
check "two devices, no owners" test -n "$T1" -a -n "$T2"
check_eq "nothing dropped yet" "$(metric "$DROP")" 0

# --- logging off at team A ---
t0=$(now_ms)
sleep 0.2
set_cfg "/api/v1/nodes/$TA/config" '{"values":{"logging.enabled":false}}' "team A: logging off"
t1=$(now_ms)
sleep 0.3
# taken before the switch (alice's, and one mapped to nobody), after it
# (alice's, one naming an unknown login, one without a user); sent in one
# batch after the switch
{
	proc $((t0 - 5000)) before1 alice
	proc $((t0 - 4000)) before2
	act $((t0 - 3000)) 11 alice
	proc $((t1 + 100)) after1 alice
	proc $((t1 + 150)) after2 ghost
	proc $((t1 + 200)) after3
	act $((t1 + 250)) 13 alice
	sysinfo $((t1 + 260))
	agentrec $((t1 + 270))
	agentrec $((t1 + 280)) alice
} >"$T/b1.ndjson"
ingest "$T1" b1 "$T/b1.ndjson"
check_st "a batch across the switch is acknowledged" 200
check_eq "answer: stored, rejected, dropped" \
	"$(jr '"\(.accepted) \(.rejected_count) \(.dropped.logging_off)"')" "5 0 5"
cp "$T/resp" "$T/b1.answer"
check_eq "only the processes taken before the switch are stored" \
	"$(comms "$D1" $((t0 - 60000)) $((t1 + 60000)))" "before1,before2"
check_eq "only the activity taken before the switch is rolled up" \
	"$(keys "$UA" $((t0 - 3600000)) $((t1 + 3600000)))" "11/1"
check_eq "metrics count the dropped records" "$(metric "$DROP")" 5
ingest "$T1" b1 "$T/b1.ndjson"
check_st "the same batch again" 200
check_eq "is answered with the stored answer" "$(jq -cS . "$T/resp")" "$(jq -cS . "$T/b1.answer")"
check_eq "and counts nothing twice" "$(metric "$DROP")" 5
api "$T1" GET /api/v1/agent/config
check_eq "the agent is told logging is off" "$(jr '.config["logging.enabled"]')" false

# the machine's own records go on without a user (the agent's way)
api "$A" GET "/api/v1/devices/$D1/sysinfo?from=$(iso $((t0 - 60000)))&to=$(iso $((t1 + 60000)))"
check_eq "the sysinfo without a user was stored" "$(jr '.history | length')" 1

# --- team B is not affected; logging off at one user (dave) ---
t2=$(now_ms)
sleep 0.2
set_cfg "/api/v1/users/$UD/config" '{"values":{"logging.enabled":false}}' "dave: logging off"
t3=$(now_ms)
sleep 0.3
{
	proc $((t2 - 1000)) d-before dave
	proc $((t3 + 100)) d-after dave
	proc $((t3 + 200)) nobody-after
	act $((t2 - 500)) 17 dave
	act $((t3 + 300)) 19 dave
} >"$T/b2.ndjson"
ingest "$T2" b2 "$T/b2.ndjson"
check_st "team B's batch" 200
check_eq "dave's records after his switch dropped, the team's kept" \
	"$(jr '"\(.accepted) \(.dropped.logging_off)"')" "3 2"
check_eq "stored: dave's before, and the one mapped to nobody (team B is on)" \
	"$(comms "$D2" $((t2 - 60000)) $((t3 + 60000)))" "d-before,nobody-after"
check_eq "dave's activity before the switch only" \
	"$(keys "$UD" $((t2 - 3600000)) $((t3 + 3600000)))" "17/1"
check_eq "metrics: 5 + 2" "$(metric "$DROP")" 7
api "$A" GET "/api/v1/devices/$D2"
check_eq "the device saw dave as of his last record kept, not of those his policy dropped" \
	"$(jr '[.users_seen[] | "\(.login) \(.last_seen)"] | join(",")')" "dave $(iso $((t2 - 500)))"

# --- switched on again: later records kept, the off-window's still dropped ---
sleep 0.2
t4=$(now_ms) # before the write: still off
set_cfg "/api/v1/nodes/$TA/config" '{"values":{"logging.enabled":null}}' "team A: logging back (removed)"
set_cfg "/api/v1/users/$UD/config" '{"values":{"logging.enabled":true}}' "dave: logging on"
t5=$(now_ms)
sleep 0.3
{
	proc $((t1 + 300)) window1 alice
	proc $((t4 - 50)) window2
	proc $((t0 - 2000)) before3 alice
	proc $((t5 + 100)) later1 alice
	proc $((t5 + 200)) later2
} >"$T/b3.ndjson"
ingest "$T1" b3 "$T/b3.ndjson"
check_st "team A's late batch" 200
check_eq "off-window dropped, before and after kept" \
	"$(jr '"\(.accepted) \(.dropped.logging_off)"')" "3 2"
check_eq "stored on device 1" "$(comms "$D1" $((t0 - 60000)) $((t5 + 60000)))" \
	"before1,before2,before3,later1,later2"
{
	proc $((t3 + 400)) d-window dave
	proc $((t5 + 300)) d-later dave
} >"$T/b4.ndjson"
ingest "$T2" b4 "$T/b4.ndjson"
check_eq "dave: off-window dropped, later kept" "$(jr '"\(.accepted) \(.dropped.logging_off)"')" "1 1"
check_eq "stored on device 2" "$(comms "$D2" $((t2 - 60000)) $((t5 + 60000)))" \
	"d-before,d-later,nobody-after"
check_eq "metrics: 7 + 2 + 1" "$(metric "$DROP")" 10

# --- a lock above the team holds, for the past as well (current locks) ---
set_cfg "/api/v1/nodes/$TA/config" '{"values":{"logging.enabled":false}}' "team A: off again"
t6=$(now_ms)
sleep 0.2
set_cfg "/api/v1/nodes/$PRJ/config" '{"values":{"logging.enabled":true},"locked":["logging.enabled"]}' \
	"the project locks logging on"
{
	proc $((t1 + 500)) locked-window alice
	proc $((t6 + 100)) locked-now alice
} >"$T/b5.ndjson"
ingest "$T1" b5 "$T/b5.ndjson"
check_eq "under the lock nothing is dropped" "$(jr '"\(.accepted) \(.dropped.logging_off)"')" "2 0"
set_cfg "/api/v1/nodes/$PRJ/config" '{"values":{"logging.enabled":null},"locked":[]}' "the lock is lifted"
{ proc $((t6 + 200)) unlocked-again alice; } >"$T/b6.ndjson"
ingest "$T1" b6 "$T/b6.ndjson"
check_eq "without it, team A's off counts again" "$(jr '"\(.accepted) \(.dropped.logging_off)"')" "0 1"
set_cfg "/api/v1/nodes/$TA/config" '{"values":{"logging.enabled":true}}' "team A: on"

# --- screenshots ---
SHOTS_OFF='actlog_server_screenshots_refused_total{reason="screenshots_off"}'
SHOTS_LOG='actlog_server_screenshots_refused_total{reason="logging_off"}'
api "$A" PUT "/api/v1/devices/$D1" "{\"owner_id\":\"$UA\"}"
check_st "alice owns device 1" 200
set_cfg "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.bucket\":\"shots\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$SECRET\"}}" \
	"team A's S3 settings"
/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+os.urandom(5000))' >"$T/shot.png"
SHA=$(sha256sum "$T/shot.png" | cut -d' ' -f1)
SIZE=$(stat -c %s "$T/shot.png")
presign() { api "$T1" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$SIZE,\"content_type\":\"image/png\",\"taken_at\":\"$(iso "$1")\"}"; }
register() { api "$T1" POST /api/v1/screenshots "{\"key\":\"$1\",\"size\":$SIZE,\"sha256\":\"$SHA\",\"width\":10,\"height\":10,\"taken_at\":\"$(iso "$2")\"}"; }
put_shot() { # the presign answer in $T/presign.json: PUT the shot with its headers
	local h=() k v
	while IFS=$'\t' read -r k v; do h+=(-H "$k: $v"); done < <(jq -r '.headers | to_entries[] | "\(.key)\t\(.value)"' "$T/presign.json")
	curl -s -o /dev/null -w '%{http_code}' -X PUT "${h[@]}" --data-binary @"$T/shot.png" "$(jq -r .url "$T/presign.json")"
}

presign "$(now_ms)"
check_st "presign with screenshots.enabled off (the default)" 403
check "403 says screenshots are not enabled" grep -q 'screenshots are not enabled' "$T/resp"
check_eq "counted" "$(metric "$SHOTS_OFF")" 1
set_cfg "/api/v1/nodes/$TA/config" '{"values":{"screenshots.enabled":true}}' "team A: screenshots on"
presign "$(now_ms)"
check_st "presign allowed with both on" 200
cp "$T/resp" "$T/presign.json"
KEY1=$(jr .key)
T_SHOT1=$(now_ms)
check_eq "the shot is uploaded to s3rver" "$(put_shot)" 200

# logging off at alice (the owner): presign and register refused
set_cfg "/api/v1/users/$UA/config" '{"values":{"logging.enabled":false}}' "alice: logging off"
t7=$(now_ms)
presign "$(now_ms)"
check_st "presign with alice's logging off" 403
check "403 says logging is off" grep -q 'logging is off for this device' "$T/resp"
register "$KEY1" "$T_SHOT1"
check_st "register with alice's logging off" 403
check_eq "both counted" "$(metric "$SHOTS_LOG")" 2
sleep 0.3
set_cfg "/api/v1/users/$UA/config" '{"values":{"logging.enabled":true}}' "alice: logging on"
# a shot taken while logging was off, sent after it is on again
presign $((t7 + 100))
check_st "presign of a shot taken while logging was off" 403
check "403 says logging was off when it was taken" grep -q 'logging was off when the screenshot was taken' "$T/resp"
check_eq "counted as logging_off" "$(metric "$SHOTS_LOG")" 3
register "$KEY1" "$T_SHOT1"
check_st "register allowed again (the shot was taken while logging was on)" 201
check_eq "registered once" "$(jr '.id | test("^s_[0-9a-f]{16}$")')" true
# screenshots off: register refused even for a key presigned before
presign "$(now_ms)"
check_st "presign again" 200
cp "$T/resp" "$T/presign.json"
KEY2=$(jr .key)
T_SHOT2=$(now_ms)
check_eq "the second shot is uploaded" "$(put_shot)" 200
set_cfg "/api/v1/nodes/$TA/config" '{"values":{"screenshots.enabled":false}}' "team A: screenshots off"
register "$KEY2" "$T_SHOT2"
check_st "register with screenshots off" 403
check_eq "counted as screenshots_off" "$(metric "$SHOTS_OFF")" 2
api "$A" GET "/api/v1/screenshots?user_id=$UA&from=$(iso $((t0 - 60000)))&to=$(iso $(($(now_ms) + 60000)))"
check_eq "alice's listing holds the one allowed shot" "$(jr '.screenshots | length')" 1

check "the server exits 0" srv_stop
finish
