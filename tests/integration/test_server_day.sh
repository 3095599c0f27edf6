#!/usr/bin/env bash
# GET /api/v1/users/{id}/day against a real server: a day seeded through
# the real ingest route on two devices (alice's own, and a machine she
# shares with bob), then the answer checked against what was sent: focus
# spans (laid out and merged), 10-minute activity slots, idle spans merged,
# top CPU summed by (app, exe), the machines with their hostnames, records
# of the day before and after left out by their start; on the shared
# machine only alice's records count. Access: alice herself and her
# manager 200, a colleague employee 403, an unknown user 404; bad dates,
# ranges and time zones 400.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need gzip

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com "Alice Anders" alice "$TA")
UB=$(srv_user bob@example.com "Bob Berg" bob "$TA")
UM=$(srv_user mona@example.com "Mona Manager" mona "$TA")
srv_grant "$UM" "$TA" manager
UO=$(srv_user olga@example.com "Olga Other" olga "$TB")
srv_grant "$UO" "$TB" manager
check "seed: people and grants" test -n "$UA" -a -n "$UB" -a -n "$UM" -a -n "$UO"
srv_enroll "$TA" host-own ws-own
D1=$DEV T1=$TOK
api "$A" PUT "/api/v1/devices/$D1" "{\"owner_id\":\"$UA\"}"
check_st "seed: alice owns the first machine" 200
srv_enroll "$TA" host-shared kiosk-enrolled
D2=$DEV T2=$TOK
check "seed: two devices" test -n "$D1" -a -n "$D2"

DAY=$(date -u -d '3 days ago' +%Y-%m-%d)
PREV=$(date -u -d "$DAY - 1 day" +%Y-%m-%d)
NEXT=$(date -u -d "$DAY + 1 day" +%Y-%m-%d)
t() { date -u -d "$1" +%Y-%m-%dT%H:%M:%S.000Z; }
act() { # HOST USER START SECONDS KEYS CLICKS MOVES SCROLLS ACTIVE_S [IDLE]
	local e
	e=$(t "$3 + $4 seconds")
	jq -nc --arg h "$1" --arg u "$2" --arg s "$(t "$3")" --arg e "$e" --argjson i "$4" \
		--argjson k "$5" --argjson c "$6" --argjson m "$7" --argjson sc "$8" --argjson a "$9" \
		--argjson idle "${10:-false}" \
		'{type:"activity",ts:$e,v:1,host_id:$h,user:$u,start:$s,end:$e,interval_s:$i,keys:$k,clicks:$c,
		  moves:$m,scrolls:$sc,active_s:$a,idle:$idle}'
}
apps() { # HOST USER START SECONDS APPS_JSON TOP_CPU_JSON
	local e
	e=$(t "$3 + $4 seconds")
	jq -nc --arg h "$1" --arg u "$2" --arg s "$(t "$3")" --arg e "$e" --argjson i "$4" \
		--argjson a "$5" --argjson c "$6" \
		'{type:"app_usage",ts:$e,v:1,host_id:$h,user:$u,start:$s,end:$e,interval_s:$i,apps:$a,top_cpu:$c}'
}
FF='{"pid":10,"uid":1000,"app":"Firefox","exe":"/usr/lib/firefox/firefox","cpu_s":'
ingest() { # TOKEN BATCH_ID FILE
	gzip -c "$3" >"$3.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 -H "Authorization: Bearer $1" \
		-H "X-Batch-Id: $2" -H 'Content-Encoding: gzip' --data-binary @"$3.gz" "$SRV_URL/api/v1/ingest")
}
{
	# the day before: ends at midnight, starts before it (not the day's)
	act host-own alice "${PREV}T23:59:00Z" 60 500 50 5000 50 60
	apps host-own alice "${PREV}T23:59:00Z" 60 '[{"app":"Yesterday","focus_s":60}]' "[${FF}9}]"
	# 09:00-09:02 working, 09:02-09:05 idle (three records, one span), 09:05 working
	act host-own alice "${DAY}T09:00:00Z" 60 120 14 800 9 48
	act host-own alice "${DAY}T09:01:00Z" 60 80 6 300 1 30
	act host-own alice "${DAY}T09:02:00Z" 60 0 0 0 0 0 true
	act host-own alice "${DAY}T09:03:00Z" 60 0 0 0 0 0 true
	act host-own alice "${DAY}T09:04:00Z" 60 0 0 0 0 0
	act host-own alice "${DAY}T09:05:00Z" 60 40 2 100 0 20
	# Firefox 40 s then Code 20 s; then Firefox; then Code goes on and Firefox
	apps host-own alice "${DAY}T09:00:00Z" 60 '[{"app":"Firefox","focus_s":40},{"app":"Code","focus_s":20}]' \
		"[${FF}3.5},{\"pid\":11,\"uid\":1000,\"app\":\"Code\",\"exe\":\"/usr/share/code/code\",\"cpu_s\":1.25}]"
	apps host-own alice "${DAY}T09:01:00Z" 60 '[{"app":"Firefox","focus_s":60}]' "[${FF}2}]"
	# the last record of the day: starts before midnight, ends after it (the day's)
	act host-own alice "${DAY}T23:59:30Z" 60 10 1 10 0 5
	apps host-own alice "${DAY}T23:59:30Z" 60 '[{"app":"Late","focus_s":60}]' '[]'
	jq -nc --arg ts "$(t "${DAY}T08:00:00Z")" \
		'{type:"sysinfo",ts:$ts,v:1,host_id:"host-own",user:null,session:"none",reason:"start",hostname:"ws-own-sysinfo"}'
	# the next day: not the day's
	act host-own alice "${NEXT}T00:01:00Z" 60 700 70 7000 70 60
} >"$T/own.ndjson"
ingest "$T1" own-1 "$T/own.ndjson"
check_eq "seed: alice's machine's batch is accepted whole" "$ST:$(jr .accepted)" "200:$(wc -l <"$T/own.ndjson")"
{
	# the shared machine: alice 14:00-14:02, bob at the same hours
	act host-shared alice "${DAY}T14:00:00Z" 60 10 1 20 0 30
	act host-shared alice "${DAY}T14:01:00Z" 60 11 2 30 0 40
	apps host-shared alice "${DAY}T14:00:00Z" 120 '[{"app":"LibreOffice","focus_s":120}]' \
		'[{"pid":20,"uid":1000,"app":"LibreOffice","exe":"/usr/lib/libreoffice/program/soffice.bin","cpu_s":2.25}]'
	act host-shared bob "${DAY}T14:03:00Z" 60 999 99 9999 99 60
	act host-shared bob "${DAY}T09:03:00Z" 60 999 99 9999 99 0 true
	apps host-shared bob "${DAY}T14:03:00Z" 60 '[{"app":"BobApp","focus_s":60}]' \
		"[{\"pid\":30,\"uid\":1001,\"app\":\"BobApp\",\"exe\":\"/usr/bin/bobapp\",\"cpu_s\":50},${FF}100}]"
} >"$T/shared.ndjson"
ingest "$T2" shared-1 "$T/shared.ndjson"
check_eq "seed: the shared machine's batch is accepted whole" "$ST:$(jr .accepted)" "200:$(wc -l <"$T/shared.ndjson")"

# --- the answer ---
api "$A" GET "/api/v1/users/$UA/day?date=$DAY"
check_st "the admin reads alice's day" 200
cp "$T/resp" "$T/day.json"
check_eq "the day's bounds and time zone" "$(jr '[.user_id,.from,.to,.date,.tz] | join(" ")')" \
	"$UA ${DAY}T00:00:00.000Z ${NEXT}T00:00:00.000Z $DAY UTC"
check_eq "records: alice's of the day only (9 activity, 4 app_usage)" "$(jr .records)" 13
check_eq "not truncated" "$(jr '[.truncated,.devices_truncated] | join(",")')" "false,false"
check_eq "focus: laid out, merged, in time order, on their machines" \
	"$(jr '[.focus[] | "\(.start[11:19])-\(.end[11:19]) \(.app) \(.focus_s) \(.device_id)"] | join("; ")')" \
	"09:00:00-09:00:40 Firefox 40 $D1; 09:00:40-09:01:00 Code 20 $D1; 09:01:00-09:02:00 Firefox 60 $D1; 14:00:00-14:02:00 LibreOffice 120 $D2; 23:59:30-00:00:30 Late 60 $D1"
check_eq "focus: the seconds equal what was sent (alice's, of the day)" \
	"$(jr '[.focus[].focus_s] | add')" \
	"$(jq -s --arg d "$DAY" '[.[] | select(.type=="app_usage" and .user=="alice" and (.start|startswith($d))) | .apps[].focus_s] | add' "$T/own.ndjson" "$T/shared.ndjson")"
check_eq "activity: 144 slots of 10 minutes" "$(jr '[.activity | length, .[0].start, .[143].start] | join(" ")')" \
	"144 ${DAY}T00:00:00.000Z ${DAY}T23:50:00.000Z"
check_eq "activity: the 09:00 slot sums alice's six records" \
	"$(jr '.activity[54] | [.start[11:16],.keys,.clicks,.moves,.scrolls,.active_s,.interval_s,.records] | join(",")')" \
	"09:00,240,22,1200,10,98,360,6"
check_eq "activity: the 14:00 slot is alice's alone on the shared machine" \
	"$(jr '.activity[84] | [.keys,.clicks,.moves,.active_s,.records] | join(",")')" "21,3,50,70,2"
check_eq "activity: the 23:50 slot has the record that ends after midnight" "$(jr '.activity[143] | [.keys,.records] | join(",")')" "10,1"
sum_sent() { jq -s --arg d "$DAY" "[.[] | select(.type==\"activity\" and .user==\"alice\" and (.start|startswith(\$d))) | .$1] | add" "$T/own.ndjson" "$T/shared.ndjson"; }
for f in keys clicks moves scrolls active_s interval_s; do
	check_eq "activity: the slots' $f add up to what alice sent that day" "$(jr "[.activity[].$f] | add")" "$(sum_sent "$f")"
done
check_eq "activity: every other slot is empty" "$(jr '[.activity | to_entries[] | select(.key != 54 and .key != 84 and .key != 143) | .value.records] | add')" 0
check_eq "idle: one merged span (idle:true, and active_s 0), bob's idle record left out" \
	"$(jr '[.idle[] | "\(.start[11:19])-\(.end[11:19]) \(.device_id)"] | join("; ")')" "09:02:00-09:05:00 $D1"
check_eq "top_cpu: summed by (app, exe), bob's processes left out" \
	"$(jr '[.top_cpu[] | "\(.app) \(.exe) \(.cpu_s)"] | join("; ")')" \
	"Firefox /usr/lib/firefox/firefox 5.5; LibreOffice /usr/lib/libreoffice/program/soffice.bin 2.25; Code /usr/share/code/code 1.25"
check_eq "devices: both machines by their first record, hostname from sysinfo else the device, first and last of alice's records" \
	"$(jr '[.devices[] | "\(.device_id) \(.hostname) \(.first[11:19]) \(.last[11:19])"] | join("; ")')" \
	"$D1 ws-own-sysinfo 09:00:00 00:00:30; $D2 kiosk-enrolled 14:00:00 14:02:00"
check_eq "devices: each with its team (the dashboard links there)" "$(jr '[.devices[].team_id] | unique | join(",")')" "$TA"
check "nothing of bob's anywhere in the answer" not grep -q "BobApp\|bobapp\|999" "$T/day.json"

api "$A" GET "/api/v1/users/$UB/day?date=$DAY"
check_eq "bob's day: his records only, on the shared machine" \
	"$(jr '[.records, (.focus|map(.app)|join(",")), (.devices|map(.device_id)|join(",")), .activity[84].keys, .top_cpu[0].app] | join(" ")')" \
	"3 BobApp $D2 999 Firefox"
api "$A" GET "/api/v1/users/$UA/day?from=${DAY}T09:00:00Z&to=${DAY}T09:30:00Z"
check_eq "from/to: 3 slots, the records started in the range" \
	"$(jr '[(.activity|length), .records, (.focus|length), .tz, (has("date")|tostring)] | join(" ")')" "3 8 3 UTC false"
api "$A" GET "/api/v1/users/$UA/day?date=$DAY&tz=UTC"
check_st "tz=UTC is accepted" 200
api "$A" GET "/api/v1/users/$UA/day?date=$PREV"
check_eq "the day before: the record that started then" "$(jr '[.records, .focus[0].app] | join(" ")')" "2 Yesterday"

# --- access ---
TKA=$(login alice@example.com password-alice)
TKB=$(login bob@example.com password-bob)
TKM=$(login mona@example.com password-mona)
TKO=$(login olga@example.com password-olga)
api "$TKA" GET "/api/v1/users/$UA/day?date=$DAY"
check_eq "alice reads her own day, the same answer" "$ST:$(jq -S . "$T/resp" | sha256sum)" "200:$(jq -S . "$T/day.json" | sha256sum)"
api "$TKM" GET "/api/v1/users/$UA/day?date=$DAY"
check_eq "her manager reads it" "$ST:$(jr .records)" "200:13"
api "$TKB" GET "/api/v1/users/$UA/day?date=$DAY"
check_st "a colleague employee may not" 403
check_eq "... with the permission named" "$(jr .error)" "forbidden: needs activity.read here"
api "$TKO" GET "/api/v1/users/$UA/day?date=$DAY"
check_st "another team's manager may not" 403
api "" GET "/api/v1/users/$UA/day?date=$DAY"
check_st "no token" 401
api "$A" GET "/api/v1/users/u_00000000000000ff/day?date=$DAY"
check_st "an unknown user" 404
api "$A" GET "/api/v1/users/nope/day?date=$DAY"
check_st "a malformed user id" 404

# --- bad arguments ---
for q in "date=2026-02-30" "date=2026-1-07" "date=yesterday" "date=" "" "from=${DAY}T00:00:00Z" \
	"date=$DAY&from=${DAY}T00:00:00Z" "from=${DAY}T00:00:00Z&to=$(date -u -d "$DAY + 3 days" +%Y-%m-%d)T00:00:00Z" \
	"from=${DAY}T10:00:00Z&to=${DAY}T09:00:00Z" "from=soon&to=later" "date=$DAY&tz=Mars/Olympus"; do
	api "$A" GET "/api/v1/users/$UA/day?$q"
	check_eq "400 for '$q'" "$ST:$(jr '.error | length > 0')" "400:true"
done
api "$A" GET "/api/v1/users/$UA/day?date=$DAY&tz=Mars/Olympus"
check_eq "... an unknown time zone, said so" "$(jr .error)" "'tz' is not a time zone name (IANA, like Europe/Paris)"
# a local day: Kolkata's starts at 18:30 UTC the day before; Paris's day of
# the autumn change lasts 25 hours (150 slots), its spring one 23 (138)
api "$A" GET "/api/v1/users/$UA/day?date=$DAY&tz=Asia/Kolkata"
check_eq "Asia/Kolkata: the local day's bounds, 144 slots, the zone echoed" \
	"$ST $(jr '[.from,.to,(.activity|length),.tz,.activity[0].start] | join(" ")')" \
	"200 ${PREV}T18:30:00.000Z ${DAY}T18:30:00.000Z 144 Asia/Kolkata ${PREV}T18:30:00.000Z"
api "$A" GET "/api/v1/users/$UA/day?date=2026-10-25&tz=Europe/Paris"
check_eq "Europe/Paris, 2026-10-25: 25 hours" "$ST $(jr '[.from,.to,(.activity|length)] | join(" ")')" \
	"200 2026-10-24T22:00:00.000Z 2026-10-25T23:00:00.000Z 150"
api "$A" GET "/api/v1/users/$UA/day?date=2026-03-29&tz=Europe/Paris"
check_eq "Europe/Paris, 2026-03-29: 23 hours" "$ST $(jr '[.from,.to,(.activity|length)] | join(" ")')" \
	"200 2026-03-28T23:00:00.000Z 2026-03-29T22:00:00.000Z 138"
api "$A" GET "/api/v1/users/$UA/day?from=${DAY}T00:00:00Z&to=$(date -u -d "$DAY + 2 days" +%Y-%m-%d)T00:00:00Z"
check_eq "48 hours: the most a range may be" "$ST:$(jr '.activity|length')" "200:288"

srv_stop
check "the server stops cleanly" test $? = 0
finish
