#!/usr/bin/env bash
# actlog-server: POST /api/v1/ingest against the real binary — device tokens,
# X-Batch-Id, exactly-once batches, per-line rejection, gzip and size
# errors, the record -> user mapping, sysinfo and last_seen.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need gzip

HOST=0123456789abcdef0123456789abcdef
DAY=$(date -u -d '2 days ago' +%Y-%m-%d)

# ingest TOKEN BATCH_ID FILE [CURL ARGS...]: gzip FILE and POST it (no
# X-Batch-Id header when BATCH_ID is empty); ST and $T/resp as api()
ingest() {
	local tok=$1 bid=$2 f=$3 args
	shift 3
	gzip -c "$f" >"$T/body.gz"
	args=(-s -o "$T/resp" -w '%{http_code}' -X POST --max-time 60
		-H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: gzip')
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$bid" ] && args+=(-H "X-Batch-Id: $bid")
	ST=$(curl "${args[@]}" --data-binary @"$T/body.gz" "$@" "$SRV_URL/api/v1/ingest")
}
# records: act START END KEYS [USER], proc TS EVENT PID COMM [USER],
# sysinfo TS CPUS, agent TS, apps TS USER NAME=SECONDS...
user_json() { if [ -n "${1:-}" ]; then jq -nc --arg u "$1" '$u'; else echo null; fi; }
act() {
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"%s","user":%s,"start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":2,"moves":3,"distance":40,"scrolls":1,"active_s":30,"idle":false}\n' \
		"$2" "$HOST" "$(user_json "${4:-}")" "$1" "$2" "$3"
}
proc() {
	printf '{"type":"process","ts":"%s","v":1,"host_id":"%s","user":%s,"event":"%s","pid":%d,"ppid":1,"uid":1000,"comm":"%s","exe":"/usr/bin/%s"}\n' \
		"$1" "$HOST" "$(user_json "${5:-}")" "$2" "$3" "$4" "$4"
}
sysinfo() { printf '{"type":"sysinfo","ts":"%s","v":1,"host_id":"%s","user":null,"cpus":%d,"os":"Debian"}\n' "$1" "$HOST" "$2"; }
agentrec() { printf '{"type":"agent","ts":"%s","v":1,"host_id":"%s","user":null,"event":"start","version":"0.1"}\n' "$1" "$HOST"; }
apps() {
	local ts=$1 u=$2 a=() kv
	shift 2
	for kv in "$@"; do a+=("{\"app\":\"${kv%%=*}\",\"focus_s\":${kv#*=}}"); done
	printf '{"type":"app_usage","ts":"%s","v":1,"host_id":"%s","user":%s,"apps":[%s]}\n' \
		"$ts" "$HOST" "$(user_json "$u")" "$(IFS=,; echo "${a[*]}")"
}
# jrok FILTER: the last response satisfies FILTER
jrok() { jq -e "$1" "$T/resp" >/dev/null 2>&1; }
procs() { # DEVICE [FROM TO]: the device's process records of $DAY (times of day)
	api "$A" GET "/api/v1/devices/$1/processes?from=${DAY}T${2:-00:00:00}Z&to=${DAY}T${3:-23:59:59}Z&limit=1000"
}

srv_init
srv_start --max-body 1048576 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UC=$(srv_user carol@example.com carol carol "$TA")
UD=$(srv_user dave@example.com dave dave "$TB")
check "users created" test -n "$UA" -a -n "$UC" -a -n "$UD"
srv_enroll "$TA" "$HOST" "h-$HOST"
D1=$DEV T1=$TOK
check_eq "device token" "${T1:0:4}" ald_

# --- authentication and batch ids ---
{ act "${DAY}T10:00:00.000Z" "${DAY}T10:01:00.000Z" 5; } >"$T/one.ndjson"
ingest "" b-auth "$T/one.ndjson"
check_st "no token" 401
ingest "ald_garbage" b-auth "$T/one.ndjson"
check_st "garbage token" 401
ingest "ald_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" b-auth "$T/one.ndjson"
check_st "well-formed unknown token" 401
ingest "$A" b-auth "$T/one.ndjson"
check_st "a user's token is not a device token" 401
ingest "$T1" "" "$T/one.ndjson"
check_st "missing X-Batch-Id" 400
check "the error names the header" grep -q X-Batch-Id "$T/resp"
ingest "$T1" "a/b" "$T/one.ndjson"
check_st "X-Batch-Id with a slash" 400
ingest "$T1" "a b" "$T/one.ndjson"
check_st "X-Batch-Id with a space" 400
ingest "$T1" "$(printf 'x%.0s' $(seq 129))" "$T/one.ndjson"
check_st "X-Batch-Id of 129 characters" 400
ingest "$T1" "$(printf 'y%.0s' $(seq 128))" "$T/one.ndjson"
check_st "X-Batch-Id of 128 characters" 200
ingest "$T1" "Ab09._:-" "$T/one.ndjson"
check_st "X-Batch-Id with every allowed punctuation" 200

# --- a good batch of every type ---
{
	act "${DAY}T10:59:00.000Z" "${DAY}T11:00:00.000Z" 7 alice
	proc "${DAY}T11:00:01.000Z" exec 4242 vim alice
	proc "${DAY}T11:00:02.500Z" exit 4242 vim alice
	agentrec "${DAY}T11:00:03.000Z"
	sysinfo "${DAY}T11:00:04.000Z" 8
	apps "${DAY}T11:00:05.000Z" alice firefox=120 code=60.5
} >"$T/good.ndjson"
ingest "$T1" b-good "$T/good.ndjson"
check_st "good batch" 200
check_eq "batch id echoed" "$(jr .batch_id)" b-good
check_eq "all six accepted" "$(jr .accepted)" 6
check_eq "none rejected" "$(jr '.rejected | length'):$(jr .rejected_count)" 0:0
cp "$T/resp" "$T/good.answer"
procs "$D1"
check_eq "two process records stored" "$(jr '.processes | length')" 2
check_eq "process fields kept" "$(jr '.processes[0] | [.comm, .exe, .pid, .ppid, .uid, .event] | join(",")')" "vim,/usr/bin/vim,4242,1,1000,exec"
check_eq "records carry device and user" "$(jr '.processes[0] | .device_id + "," + .user_id')" "$D1,$UA"
check_eq "in time order" "$(jr '[.processes[].event] | join(",")')" "exec,exit"
api "$A" GET "/api/v1/users/$UA/activity?from=${DAY}T00:00:00Z&to=${DAY}T23:59:59Z"
check_eq "activity rolled up once" "$(jr '.totals | [.records, .keys] | join(",")')" "1,7"

# --- exactly once ---
ingest "$T1" b-good "$T/good.ndjson"
check_st "the same batch again" 200
check_eq "the same answer" "$(jq -cS . "$T/resp")" "$(jq -cS . "$T/good.answer")"
printf 'not gzip at all' >"$T/junk"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $T1" \
	-H 'X-Batch-Id: b-good' -H 'Content-Encoding: gzip' --data-binary @"$T/junk" "$SRV_URL/api/v1/ingest")
check_eq "a known batch id is answered before its body is read" "$ST:$(jq -cS . "$T/resp")" "200:$(jq -cS . "$T/good.answer")"
procs "$D1"
check_eq "process records not stored twice" "$(jr '.processes | length')" 2
api "$A" GET "/api/v1/users/$UA/activity?from=${DAY}T00:00:00Z&to=${DAY}T23:59:59Z"
check_eq "activity not counted twice" "$(jr '.totals | [.records, .keys] | join(",")')" "1,7"
api "$A" GET "/api/v1/apps/top?user_id=$UA&from=${DAY}T00:00:00Z&to=${DAY}T23:59:59Z"
check_eq "apps not counted twice" "$(jr '[.apps[] | "\(.app)=\(.focus_s)"] | join(",")')" "firefox=120,code=60.5"
# the same batch sent five times at once: stored once, the same answer to all
{
	act "${DAY}T05:00:00.000Z" "${DAY}T05:01:00.000Z" 11 alice
	proc "${DAY}T05:00:30.000Z" exec 555 racer alice
} >"$T/race.ndjson"
gzip -c "$T/race.ndjson" >"$T/race.gz"
racers=()
for i in 1 2 3 4 5; do
	curl -s --max-time 30 -o "$T/race.$i" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $T1" \
		-H 'X-Batch-Id: b-race' -H 'Content-Encoding: gzip' --data-binary @"$T/race.gz" \
		"$SRV_URL/api/v1/ingest" >"$T/race.st.$i" &
	racers+=($!)
done
wait "${racers[@]}" # not the server
check_eq "five racing copies all answered 200" "$(cat "$T"/race.st.* | sort -u)" 200
check_eq "with one answer" "$(for i in 1 2 3 4 5; do jq -cS . "$T/race.$i"; done | sort -u)" \
	'{"accepted":2,"batch_id":"b-race","dropped":{"logging_off":0},"rejected":[],"rejected_count":0}'
procs "$D1" 05:00:00 06:00:00
check_eq "racing copies stored once" "$(jr '[.processes[] | select(.comm == "racer")] | length')" 1
api "$A" GET "/api/v1/users/$UA/activity?from=${DAY}T05:00:00Z&to=${DAY}T06:00:00Z"
check_eq "racing copies counted once" "$(jr '.totals | [.records, .keys] | join(",")')" "1,11"

# a batch id is per device: another device may use the same one
srv_enroll "$TB" fedcba9876543210fedcba9876543210 h-fedcba9876543210fedcba9876543210
T2=$TOK
{ proc "${DAY}T12:00:00.000Z" exec 7 top; } >"$T/d2.ndjson"
ingest "$T2" b-good "$T/d2.ndjson"
check_eq "another device's batch b-good is its own" "$ST:$(jr .accepted)" 200:1

# --- bad lines among good ones ---
{
	proc "${DAY}T12:00:00.000Z" exec 100 good1
	echo '{"type":"process",'
	proc "${DAY}T12:00:01.000Z" exit 100 good1
	echo '{"type":"keystrokes","ts":"'"${DAY}"'T12:00:00Z","v":1,"host_id":"h","user":null}'
	echo '{"type":"agent","ts":"'"${DAY}"'T12:00:00Z","v":2,"host_id":"h","user":null}'
	act "${DAY}T12:00:00.000Z" "${DAY}T12:01:00.000Z" -5
	echo '{"type":"process","ts":"'"${DAY}"'T12:00:00Z","v":1,"host_id":"h","user":null,"event":"fork","pid":1}'
	echo '{"type":"process","ts":"yesterday","v":1,"host_id":"h","user":null,"event":"exec","pid":1}'
	echo '{"type":"process","ts":"'"${DAY}"'T12:00:00Z","v":1,"host_id":"h","user":7,"event":"exec","pid":1}'
	echo '[1,2,3]'
	echo '{"type":"app_usage","ts":"'"${DAY}"'T12:00:00Z","v":1,"host_id":"h","user":null,"apps":[{"app":"x","focus_s":-1}]}'
	echo '{"type":"activity","ts":"'"${DAY}"'T12:00:00Z","v":1,"host_id":"h","user":null,"start":"'"${DAY}"'T12:00:00Z","end":"'"${DAY}"'T12:01:00Z","interval_s":60,"keys":1e12,"clicks":0,"moves":0,"scrolls":0,"active_s":0}'
	echo '{"type":"process","ts":"2999-01-01T00:00:00Z","v":1,"host_id":"h","user":null,"event":"exec","pid":1}'
	printf '{"type":"process","ts":"%sT12:00:00Z","v":1,"host_id":"\xff","user":null,"event":"exec","pid":1}\n' "$DAY"
	echo ''
	proc "${DAY}T12:00:02.000Z" exec 101 good2
} >"$T/mixed.ndjson"
ingest "$T1" b-mixed "$T/mixed.ndjson"
check_st "a batch with bad lines is acknowledged" 200
check_eq "good lines accepted" "$(jr .accepted)" 3
check_eq "bad lines named by number" "$(jr '[.rejected[].line] | join(",")')" "2,4,5,6,7,8,9,10,11,12,13,14"
check_eq "rejected_count" "$(jr .rejected_count)" 12
check "malformed JSON says so" jrok '.rejected[] | select(.line == 2) | .error | test("JSON")'
check "unknown type says so" jrok '.rejected[] | select(.line == 4) | .error | test("unknown type")'
check "v says so" jrok '.rejected[] | select(.line == 5) | .error | test("v")'
check "negative count names the field" jrok '.rejected[] | select(.line == 6) | .error | test("keys")'
check "bad event says so" jrok '.rejected[] | select(.line == 7) | .error | test("event")'
check "bad ts names ts" jrok '.rejected[] | select(.line == 8) | .error | test("ts")'
check "future ts refused" jrok '.rejected[] | select(.line == 13) | .error | test("ahead")'
check "invalid UTF-8 refused" jrok '.rejected[] | select(.line == 14) | .error | test("UTF-8")'
procs "$D1"
check_eq "the good lines are stored" "$(jr '[.processes[].comm | select(startswith("good"))] | join(",")')" "good1,good1,good2"

# a line over 64 KiB is refused alone
{
	proc "${DAY}T13:00:00.000Z" exec 200 before-long
	printf '{"type":"agent","ts":"%sT13:00:00Z","v":1,"host_id":"h","user":null,"pad":"%s"}\n' "$DAY" "$(head -c 70000 /dev/zero | tr '\0' a)"
} >"$T/long.ndjson"
ingest "$T1" b-long "$T/long.ndjson"
check_eq "a line over 64 KiB: batch acknowledged" "$ST:$(jr .accepted)" 200:1
check "the long line is rejected by number" jrok '.rejected == [{"line":2,"error":"line over 65536 bytes"}]'

# an encoded NUL in a string is refused with its line: cJSON decodes it into
# a 0 byte, so "alice\u0000x" would map to the user alice and the app
# "nulapp\u0000y" roll up as "nulapp"; a backslash before u0000 is text
{
	proc "${DAY}T13:10:00.000Z" exec 210 before-nul
	printf '{"type":"process","ts":"%sT13:10:01Z","v":1,"host_id":"%s","user":"alice\\u0000x","event":"exec","pid":211,"comm":"nul-user"}\n' "$DAY" "$HOST"
	printf '{"type":"app_usage","ts":"%sT13:10:02Z","v":1,"host_id":"%s","user":"alice","apps":[{"app":"nulapp\\u0000y","focus_s":5}]}\n' "$DAY" "$HOST"
	printf '{"type":"process","ts":"%sT13:10:03Z","v":1,"host_id":"%s","user":null,"event":"exec","pid":212,"comm":"back\\\\u0000slash"}\n' "$DAY" "$HOST"
} >"$T/nul.ndjson"
ingest "$T1" b-nul "$T/nul.ndjson"
check_eq "NUL lines: batch acknowledged, the others accepted" "$ST:$(jr .accepted)" 200:2
check_eq "NUL lines rejected by number" "$(jr '[.rejected[].line] | join(",")')" "2,3"
check "a NUL in user names the field" jrok '.rejected[] | select(.line == 2) | .error | test("user.*control character")'
check "a NUL in an app name names the field" jrok '.rejected[] | select(.line == 3) | .error | test("app.*control character")'
api "$A" GET "/api/v1/apps/top?user_id=$UA&from=${DAY}T13:00:00Z&to=${DAY}T14:00:00Z"
check_eq "the cut app name is not rolled up" "$(jr '[.apps[].app] | join(",")')" ""
procs "$D1" 13:10:00 13:10:59
check_eq "the backslash line is kept as sent" "$(jr '[.processes[].comm] | join(",")')" 'before-nul,back\u0000slash'

# the rejected list is capped, the count is not
for i in $(seq 150); do echo '{}'; done >"$T/many-bad.ndjson"
ingest "$T1" b-many-bad "$T/many-bad.ndjson"
check_eq "rejected list capped at 100, count complete" "$ST:$(jr '.rejected | length'):$(jr .rejected_count):$(jr .accepted)" 200:100:150:0

# --- body errors ---
: >"$T/empty.ndjson"
ingest "$T1" b-empty "$T/empty.ndjson"
check_eq "empty body: accepted 0" "$ST:$(jr .accepted):$(jr .rejected_count)" 200:0:0
gzip -c "$T/good.ndjson" | head -c 60 >"$T/trunc.gz"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $T1" \
	-H 'X-Batch-Id: b-trunc' -H 'Content-Encoding: gzip' --data-binary @"$T/trunc.gz" "$SRV_URL/api/v1/ingest")
check_st "truncated gzip" 400
check "truncated gzip says so" grep -q "truncated or corrupt gzip" "$T/resp"
{ proc "${DAY}T14:00:00.000Z" exec 300 after-trunc; } >"$T/after.ndjson"
ingest "$T1" b-trunc "$T/after.ndjson"
check_eq "a refused batch id is not remembered" "$ST:$(jr .accepted)" 200:1
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $T1" \
	-H 'X-Batch-Id: b-br' -H 'Content-Encoding: br' --data-binary @"$T/after.ndjson" "$SRV_URL/api/v1/ingest")
check_st "unknown Content-Encoding" 415
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $T1" \
	-H 'X-Batch-Id: b-plain' --data-binary @"$T/after.ndjson" "$SRV_URL/api/v1/ingest")
check_eq "an uncompressed body is read too" "$ST:$(jr .accepted)" 200:1

# --- too large: 413 and nothing stored, so the agent can halve ---
yes '{}' | head -n 100001 >"$T/lines.ndjson"
ingest "$T1" b-big "$T/lines.ndjson"
check_st "over 100000 lines" 413
head -c 1200000 /dev/urandom >"$T/rand"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $T1" \
	-H 'X-Batch-Id: b-big' -H 'Content-Encoding: gzip' --data-binary @"$T/rand" "$SRV_URL/api/v1/ingest")
check_st "body over --max-body" 413
# app usage in four hours, 32 apps each: 4 * 2 * 32 rollup items > 97
: >"$T/wide.ndjson"
for h in 15 16 17 18; do
	a=()
	for i in $(seq 32); do a+=("app$i=1"); done
	apps "${DAY}T$h:30:00.000Z" alice "${a[@]}" >>"$T/wide.ndjson"
done
ingest "$T1" b-wide "$T/wide.ndjson"
check_st "a batch touching too many rollup items" 413
check "the 413 says why" grep -q "rollup items" "$T/resp"
head -n 1 "$T/wide.ndjson" >"$T/wide1.ndjson"
ingest "$T1" b-wide "$T/wide1.ndjson"
check_eq "after a 413 the same id with fewer records is stored" "$ST:$(jr .accepted)" 200:1
api "$A" GET "/api/v1/apps/top?user_id=$UA&from=${DAY}T15:00:00Z&to=${DAY}T19:00:00Z&limit=100"
check_eq "only the accepted record's apps are counted" "$(jr '.apps | length'):$(jr '[.apps[].focus_s] | add')" 32:32

# a batch larger than one store commit: raw records go in chunks, once each
awk -v d="$DAY" -v h="$HOST" 'BEGIN { for (i = 0; i < 6000; i++)
	printf "{\"type\":\"process\",\"ts\":\"%sT%02d:%02d:%02d.000Z\",\"v\":1,\"host_id\":\"%s\",\"user\":null,\"event\":\"exec\",\"pid\":%d,\"comm\":\"bulk\"}\n",
		d, 2 + int(i / 3600), int(i / 60) % 60, i % 60, h, i + 1 }' >"$T/bulk.ndjson"
ingest "$T1" b-bulk "$T/bulk.ndjson"
check_eq "6000 records in one batch" "$ST:$(jr .accepted)" 200:6000
ingest "$T1" b-bulk "$T/bulk.ndjson"
check_eq "6000 records again: the stored answer" "$ST:$(jr .accepted)" 200:6000
bulk() { # FROM TO (times of $DAY): count, first and last pid
	api "$A" GET "/api/v1/devices/$D1/processes?from=${DAY}T$1Z&to=${DAY}T$2Z&limit=1000"
	jr '[(.processes | length), .processes[0].pid, .processes[-1].pid, .truncated] | join(",")'
}
check_eq "the first 1000, once each" "$(bulk 02:00:00 02:16:40)" "1000,1,1000,false"
check_eq "the last 1000, once each" "$(bulk 03:23:20 03:40:00)" "1000,5001,6000,false"
check_eq "a range across the chunk boundary" "$(bulk 03:23:19 03:23:21)" "2,5000,5001,false"

# --- the record -> user mapping ---
api "$A" PUT "/api/v1/devices/$D1" '{"owner_id":null}'
{
	proc "${DAY}T20:00:00.000Z" exec 1 map-alice alice
	proc "${DAY}T20:00:01.000Z" exec 2 map-carol carol
	proc "${DAY}T20:00:02.000Z" exec 3 map-dave dave
	proc "${DAY}T20:00:03.000Z" exec 4 map-none
	proc "${DAY}T20:00:04.000Z" exec 5 map-empty | sed 's/"user":null/"user":""/'
} >"$T/map.ndjson"
ingest "$T1" b-map1 "$T/map.ndjson"
procs "$D1" 20:00:00 21:00:00
m() { jr "[.processes[] | select(.comm == \"$1\") | .user_id] | last"; }
check_eq "login alice maps to alice" "$(m map-alice)" "$UA"
check_eq "login carol maps to carol" "$(m map-carol)" "$UC"
check_eq "a login of another team does not map" "$(m map-dave)" null
check_eq "no user and no owner: no user" "$(m map-none)" null
check_eq "an empty user is stored as sent" "$(jr '[.processes[] | select(.comm == "map-empty") | .user] | last')" ""
api "$A" PUT "/api/v1/devices/$D1" "{\"owner_id\":\"$UC\"}"
check_st "owner set" 200
sed 's/map-/own-/' "$T/map.ndjson" >"$T/own.ndjson"
ingest "$T1" b-map2 "$T/own.ndjson"
procs "$D1" 20:00:00 21:00:00
check_eq "with an owner: a team login still wins" "$(m own-alice)" "$UA"
check_eq "with an owner: an unknown login maps to the owner" "$(m own-dave)" "$UC"
check_eq "with an owner: no user maps to the owner" "$(m own-none)" "$UC"
check_eq "with an owner: an empty user maps to the owner" "$(m own-empty)" "$UC"
api "$A" PATCH "/api/v1/users/$UA" '{"login":"alice2"}'
sed 's/map-/ren-/' "$T/map.ndjson" >"$T/ren.ndjson"
ingest "$T1" b-map3 "$T/ren.ndjson"
procs "$D1" 20:00:00 21:00:00
check_eq "after a login rename the old login maps to the owner" "$(m ren-alice)" "$UC"
api "$A" PATCH "/api/v1/users/$UA" '{"login":"alice"}'

# --- device_id and user_id are the server's, also when a record names them twice ---
printf '{"type":"process","ts":"%sT22:00:00.000Z","v":1,"host_id":"%s","user":"dave","event":"exec","pid":9,"comm":"forged","device_id":"d_0000000000000001","device_id":"d_0000000000000002","user_id":"%s","user_id":"%s"}\n' \
	"$DAY" "$HOST" "$UD" "$UD" >"$T/forged.ndjson"
ingest "$T1" b-forged "$T/forged.ndjson"
check_eq "a record naming device_id and user_id twice is accepted" "$ST:$(jr .accepted)" 200:1
procs "$D1" 22:00:00 23:00:00
check_eq "it carries the server's device and user" "$(jr '.processes[0] | .device_id + "," + .user_id')" "$D1,$UC"
check "no copy of the record's own device_id or user_id is kept" not grep -q "d_000000000000000\|$UD" "$T/resp"


{ sysinfo "${DAY}T21:00:00.000Z" 16; } >"$T/si-new.ndjson"
{ sysinfo "${DAY}T20:30:00.000Z" 4; } >"$T/si-old.ndjson"
ingest "$T1" b-si-new "$T/si-new.ndjson"
ingest "$T1" b-si-old "$T/si-old.ndjson"
api "$A" GET "/api/v1/devices/$D1/sysinfo?from=${DAY}T00:00:00Z&to=${DAY}T23:59:59Z"
check_eq "latest sysinfo is the newest" "$(jr .latest.cpus)" 16
check_eq "history holds all three in time order" "$(jr '[.history[].cpus] | join(",")')" "8,4,16"

# --- last_seen ---
api "$A" GET "/api/v1/devices/$D1"
check "last_seen is set by ingest" jrok '.last_seen | type == "string"'

# --- revoked and replaced tokens ---
srv_enroll "$TA" "$HOST" "h-$HOST" 0.1 "$T1"
check_eq "re-enrollment with the device token keeps the device" "$DEV" "$D1"
ingest "$T1" b-old-token "$T/one.ndjson"
check_st "the token replaced by re-enrollment" 401
T1=$TOK
ingest "$T1" b-new-token "$T/one.ndjson"
check_st "the new token" 200
api "$A" POST "/api/v1/devices/$D1/revoke"
check_st "revoke" 200
ingest "$T1" b-revoked "$T/one.ndjson"
check_st "revoked device" 401
check "revoked says so" grep -q revoked "$T/resp"
ingest "$T1" b-good "$T/good.ndjson"
check_st "a revoked device cannot even fetch old answers" 401

check "the server never logs record contents" not grep -q 'map-alice\|firefox' "$SRV_LOG"
srv_stop
check "server stops cleanly" test $? -eq 0
finish
