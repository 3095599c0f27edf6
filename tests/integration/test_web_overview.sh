#!/usr/bin/env bash
# The dashboard's team overview (#/overview/<node>) and applications view
# (#/apps/node|user/<id>) in a real headless Chromium (tests/web/overview.mjs,
# playwright-core) against a real server seeded through the API and the
# ingest route: people of two teams, each number on screen equal to the
# API's answer (active time, activity %, top app, heat strip cells, shares,
# per-day focus time), sorting, a manager limited to her team, an employee
# refused. Then a second store seeded with actlog-seed (200 machines, 7
# days): the overview of the whole business timed in the browser (printed
# and written to $T/perf-overview.txt, not asserted).
# WEB_SHOT_DIR=DIR keeps the PNG screenshots (overview.png, apps.png).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../web.sh"
need curl
need jq
need gzip
need node
web_need

ingest() { # TOKEN BATCH_ID FILE
	gzip -c "$3" >"$T/body.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 \
		-H "Authorization: Bearer $1" -H "X-Batch-Id: $2" -H 'Content-Encoding: gzip' \
		--data-binary @"$T/body.gz" "$SRV_URL/api/v1/ingest")
}
# act START_MS USER KEYS ACTIVE_S (a 60 s interval)
act() {
	local s e
	s=$(date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%S.000Z)
	e=$(date -u -d "@$(($1 / 1000 + 60))" +%Y-%m-%dT%H:%M:%S.000Z)
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"h","user":"%s","start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":2,"moves":30,"distance":400,"scrolls":1,"active_s":%d}\n' \
		"$e" "$2" "$s" "$e" "$3" "$4"
}
apps() { # TS USER NAME=SECONDS...
	local ts=$1 u=$2 a=() kv
	shift 2
	for kv in "$@"; do a+=("{\"app\":\"${kv%%=*}\",\"focus_s\":${kv#*=}}"); done
	printf '{"type":"app_usage","ts":"%s","v":1,"host_id":"h","user":"%s","apps":[%s]}\n' \
		"$ts" "$u" "$(IFS=,; echo "${a[*]}")"
}
# a working day of USER on DAY_MS: SPANS of "HOUR:MINUTES_ACTIVE_S" (one record a minute)
workday() {
	local day=$1 u=$2 span hr n a k
	shift 2
	for span in "$@"; do
		IFS=: read -r hr n a <<<"$span"
		for ((k = 0; k < n; k++)); do
			act $((day + hr * 3600000 + k * 60000)) "$u" $((20 + k % 7 * 9)) "$a"
		done
	done
}

srv_init
srv_start --web-root "$ROOT/web" || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
DOM=$(srv_node domain Engineering "$B")
PRJ=$(srv_node project Platform "$DOM")
TM=$(srv_node team "Red team" "$PRJ")
TB=$(srv_node team "Blue team" "$PRJ")
UA=$(srv_user alice@example.com "Alice Anders" alice "$TM")
UB=$(srv_user bob@example.com "Bob Berg" bob "$TM")
UE=$(srv_user erin@example.com "Erin Eastwood" erin "$TM")
UM=$(srv_user mona@example.com "Mona Manager" mona "$TM")
UC=$(srv_user carl@example.com "Carl Castro" carl "$TB")
UD=$(srv_user dina@example.com "Dina Duarte" dina "$TB")
check "seed: tree and six people" test -n "$TM" -a -n "$TB" -a -n "$UA" -a -n "$UB" -a -n "$UE" -a -n "$UM" -a -n "$UC" -a -n "$UD"
check "seed: mona manages the red team" srv_grant "$UM" "$TM" manager
srv_enroll "$TM" red-host-1 ws-red-1
KR=$TOK
srv_enroll "$TB" blue-host-1 ws-blue-1
KB=$TOK
check "seed: a device in each team" test -n "$KR" -a -n "$KB"
api "$A" PUT "/api/v1/users/$UA/config" '{"values":{"activity.interval_s":3600}}'
check_st "seed: alice records every hour (online for two)" 200

DAY=$(date -u -d '2 days ago' +%Y-%m-%d)
PREV=$(date -u -d "$DAY - 1 day" +%Y-%m-%d)
D0=$(date -u -d "${DAY}T00:00:00Z" +%s%3N)
P0=$(date -u -d "${PREV}T00:00:00Z" +%s%3N)
NOW=$(date +%s%3N)
{
	workday "$D0" alice 8:50:55 9:58:48 10:45:52 13:55:50 14:30:40 16:20:30
	workday "$P0" alice 9:40:50 14:30:45
	workday "$D0" bob 9:30:40 11:40:30 15:25:20
	workday "$P0" bob 10:20:35
	workday "$D0" erin 7:15:58 12:10:44
	act $(((NOW - 90000) / 1000 * 1000)) alice 12 40 # a minute ago: online
	apps "${DAY}T10:00:00.000Z" alice firefox=5400 code=7200 slack=900
	apps "${DAY}T15:00:00.000Z" alice code=3600 terminal=1800
	apps "${PREV}T12:00:00.000Z" alice firefox=2400 code=1200 libreoffice=600
	apps "${DAY}T10:00:00.000Z" bob slack=3000 firefox=1800 thunderbird=700
	apps "${PREV}T11:00:00.000Z" bob slack=1200 evince=300
	apps "${DAY}T08:00:00.000Z" erin terminal=2400 code=1500
} >"$T/red.ndjson"
ingest "$KR" red-1 "$T/red.ndjson"
check_eq "seed: the red team's batch is accepted whole" "$ST:$(jr '.rejected | length')" "200:0"
{
	workday "$D0" carl 9:45:50 13:35:45
	apps "${DAY}T10:00:00.000Z" carl gimp=4000 firefox=900
} >"$T/blue.ndjson"
ingest "$KB" blue-1 "$T/blue.ndjson"
check_eq "seed: the blue team's batch is accepted whole" "$ST:$(jr '.rejected | length')" "200:0"
# four more working days before PREV, for the applications' trend
APPS_FROM=$(date -u -d "$DAY - 5 days" +%Y-%m-%d)
for n in 2 3 4 5; do
	d=$(date -u -d "$DAY - $n days" +%Y-%m-%d)
	dm=$(date -u -d "${d}T00:00:00Z" +%s%3N)
	{
		workday "$dm" alice 9:$((30 + n * 5)):50 13:40:45
		workday "$dm" bob 10:$((20 + n * 3)):35
		workday "$dm" erin 8:25:50
		apps "${d}T10:00:00.000Z" alice code=$((3000 + n * 600)) firefox=$((2400 - n * 200)) slack=600
		apps "${d}T11:00:00.000Z" bob slack=$((1500 + n * 100)) thunderbird=$((400 + n * 50)) firefox=300
		apps "${d}T09:00:00.000Z" erin terminal=$((1800 - n * 150)) code=900
	} >"$T/red-$n.ndjson"
	ingest "$KR" "red-day-$n" "$T/red-$n.ndjson"
	check_eq "seed: the red team's day $d is accepted whole" "$ST:$(jr '.rejected | length')" "200:0"
done
api "$A" GET "/api/v1/users/$UA/activity?from=${DAY}T00:00:00Z&to=$(date -u -d "$DAY + 1 day" +%Y-%m-%d)T00:00:00Z"
check_eq "seed: alice's day as the API sums it" "$(jr '[.totals.active_s, .totals.interval_s] | join(",")')" \
	"$((50 * 55 + 58 * 48 + 45 * 52 + 55 * 50 + 30 * 40 + 20 * 30)),$((60 * (50 + 58 + 45 + 55 + 30 + 20)))"
api "$A" GET "/api/v1/nodes/$TM/overview?from=${DAY}T00:00:00Z&to=$(date -u -d "$DAY + 1 day" +%Y-%m-%d)T00:00:00Z"
check_eq "seed: the overview answers for the red team's four" "$ST:$(jr '.people | length')" "200:4"
TKM=$(login mona@example.com password-mona)
api "$TKM" GET "/api/v1/nodes/$TB/overview"
MONA_BLUE_ERR=$(jr '.error // empty')
check_eq "seed: mona may not see the blue team's overview" "$ST:$(test -n "$MONA_BLUE_ERR" && echo msg)" "403:msg"
TKA=$(login alice@example.com password-alice)
api "$TKA" GET "/api/v1/nodes/$TM/overview"
ALICE_ERR=$(jr '.error // empty')
check_eq "seed: alice (an employee) may not see her team's overview" "$ST:$(test -n "$ALICE_ERR" && echo msg)" "403:msg"

# --- the views in Chromium ---
run_browser() { # MODE
	WEB_MODE=$1 web_run overview 400 "$1"
}
export ADMIN_EMAIL ADMIN_PW DAY PREV APPS_FROM B DOM PRJ TM TB UA UB UE UM UC UD MONA_BLUE_ERR ALICE_ERR
run_browser main
check "a screenshot of the overview" test -s "$T/overview.png"
check "a screenshot of the applications view" test -s "$T/apps.png"
srv_stop
check "the server stops cleanly" test $? = 0

# --- 200 people over 7 days: the render time (measured, not asserted) ---
srv_init "$T/seed"
check "perf: a store for the seed" test -d "$T/seed"
END=$(date -u +%Y-%m-%d)
"$BUILD/actlog-seed" seed --data-dir "$T/seed" --machines 200 --days 7 --end "$END" >"$T/seed.log" 2>&1
check "perf: actlog-seed wrote 200 machines x 7 days ($(tail -c 300 "$T/seed.log" | tr '\n' ' '))" grep -q '200 machines' "$T/seed.log"
srv_start --web-root "$ROOT/web" || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
PFROM=$(date -u -d "$END - 7 days" +%Y-%m-%d)
CURL_T=$(curl -s -o "$T/perf.json" -w '%{time_total}' -H "Authorization: Bearer $A" \
	"$SRV_URL/api/v1/nodes/$B/overview?from=${PFROM}T00:00:00Z&to=${END}T00:00:00Z")
check_eq "perf: the business's overview has 200 people" "$(jq '.people | length' "$T/perf.json")" 200
echo "overview API, 200 people x 7 days: ${CURL_T}s, $(stat -c %s "$T/perf.json") bytes" | tee -a "$T/perf-overview.txt"
export B PFROM END
export PTO=$(date -u -d "$END - 1 day" +%Y-%m-%d)
run_browser perf
cat "$T/perf-overview.txt" 2>/dev/null
web_keep '*.png' perf-overview.txt
srv_stop
check "the server stops cleanly (perf)" test $? = 0
finish
