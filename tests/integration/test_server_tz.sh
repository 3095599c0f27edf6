#!/usr/bin/env bash
# actlog-server: time zones and 10-minute steps against the real binary —
# Europe/Paris local days around both changes of offset (23 and 25 h),
# Asia/Kolkata local hours made of 10-minute slots, step=600 points equal to
# the records sent, top apps by slot in a zone, the activity report in a
# zone, synthetic input in the rollups, bad zones and steps (400), and the
# users' preferred time zone (set by an administrator, by the user through
# PATCH /me, read back, audited; an employee cannot set another's).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need gzip

HOST1=11111111111111111111111111111111
DAY=$(date -u -d '3 days ago' +%Y-%m-%d)

ingest() { # TOKEN BATCH_ID FILE
	gzip -c "$3" >"$T/body.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 \
		-H "Authorization: Bearer $1" -H "X-Batch-Id: $2" -H 'Content-Encoding: gzip' \
		--data-binary @"$T/body.gz" "$SRV_URL/api/v1/ingest")
}
# act START KEYS USER [SYNTHETIC-JSON] (a 60 s interval)
act() {
	local ms end
	ms=$(($(date -u -d "$1" +%s%3N) + 60000))
	end=$(date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((ms % 1000)))Z
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"h","user":"%s","start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":2,"moves":3,"distance":40,"scrolls":1,"active_s":30,"idle":false,"synthetic":%s}\n' \
		"$end" "$3" "$1" "$end" "$2" "${4:-{\"keys\":0,\"clicks\":0,\"moves\":0,\"distance\":0,\"scrolls\":0,\"active_s\":0\}}"
}
apps() { # START USER NAME=SECONDS
	printf '{"type":"app_usage","ts":"%s","start":"%s","v":1,"host_id":"h","user":"%s","apps":[{"app":"%s","focus_s":%s}]}\n' \
		"$1" "$1" "$2" "${3%%=*}" "${3#*=}"
}
q() { api "$1" GET "$2"; }

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UB=$(srv_user bob@example.com bob bob "$TA")
UM=$(srv_user mona@example.com mona mona "$TA")
check "tree and users" test -n "$TA" -a -n "$UA" -a -n "$UB" -a -n "$UM"
check "mona manages team A" srv_grant "$UM" "$TA" manager
srv_enroll "$TA" "$HOST1"
K1=$TOK
TKA=$(login alice@example.com password-alice)
TKB=$(login bob@example.com password-bob)
TKM=$(login mona@example.com password-mona)
check "everyone signs in" test -n "$TKA" -a -n "$TKB" -a -n "$TKM"

# --- Europe/Paris: local days around both changes of offset ---
{
	act 2026-03-28T22:30:00.000Z 1 alice    # Mar 28, 23:30 CET
	act 2026-03-28T23:30:00.000Z 10 alice   # Mar 29, 00:30 CET
	act 2026-03-29T21:30:00.000Z 100 alice  # Mar 29, 23:30 CEST
	act 2026-03-29T22:10:00.000Z 1000 alice # Mar 30, 00:10 CEST
	act 2026-10-24T21:30:00.000Z 1 alice    # Oct 24, 23:30 CEST
	act 2026-10-24T22:30:00.000Z 10 alice   # Oct 25, 00:30 CEST
	act 2026-10-25T22:30:00.000Z 100 alice  # Oct 25, 23:30 CET
	act 2026-10-25T23:10:00.000Z 1000 alice # Oct 26, 00:10 CET
} >"$T/paris.ndjson"
ingest "$K1" paris "$T/paris.ndjson"
check_eq "Paris records accepted" "$ST:$(jr .accepted)" 200:8

q "$A" "/api/v1/users/$UA/activity?tz=Europe/Paris&from=2026-03-28&to=2026-03-31&step=86400"
check_st "Paris days (spring)" 200
check_eq "spring: local days start at local midnight (UTC starts)" "$(jr '[.series[].start] | join(",")')" \
	"2026-03-27T23:00:00.000Z,2026-03-28T23:00:00.000Z,2026-03-29T22:00:00.000Z"
check_eq "spring: each record in its local day; Mar 29 lasts 23 h" "$(jr '[.series[].keys] | join(",")')" "1,110,1000"
check_eq "the answer names the zone" "$(jr .tz)" Europe/Paris
check_eq "from/to as local dates are their midnights in the zone" "$(jr '[.from, .to] | join(",")')" \
	"2026-03-27T23:00:00.000Z,2026-03-30T22:00:00.000Z"
q "$A" "/api/v1/users/$UA/activity?tz=Europe/Paris&from=2026-10-24&to=2026-10-27&step=86400"
check_eq "autumn: local days of 24, 25 and 24 h" "$(jr '[.series[].start] | join(",")')" \
	"2026-10-23T22:00:00.000Z,2026-10-24T22:00:00.000Z,2026-10-25T23:00:00.000Z"
check_eq "autumn: Oct 25 holds its 25 h" "$(jr '[.series[].keys] | join(",")')" "1,110,1000"
q "$A" "/api/v1/users/$UA/activity?from=2026-10-24&to=2026-10-27&step=86400"
check_eq "the same range in UTC (no tz) buckets by UTC day" "$(jr '[.tz, ([.series[].keys] | join(","))] | join(" ")')" \
	"UTC 11,1100,0"

# --- Asia/Kolkata hours from 10-minute slots, and step=600 ---
{
	act "${DAY}T10:05:00.000Z" 1 alice
	act "${DAY}T10:25:00.000Z" 2 alice
	act "${DAY}T10:35:00.000Z" 4 alice
	act "${DAY}T10:55:00.000Z" 8 alice
	act "${DAY}T11:20:00.000Z" 16 alice \
		'{"keys":5,"clicks":1,"moves":10,"distance":99,"scrolls":2,"active_s":20}'
	apps "${DAY}T10:15:00.000Z" alice emacs=120
	apps "${DAY}T10:35:00.000Z" alice vim=300
} >"$T/kol.ndjson"
ingest "$K1" kolkata "$T/kol.ndjson"
check_eq "slot records accepted" "$ST:$(jr .accepted)" 200:7

q "$A" "/api/v1/users/$UA/activity?tz=Asia/Kolkata&from=${DAY}T09:30:00Z&to=${DAY}T11:30:00Z"
check_st "Kolkata hours" 200
check_eq "Kolkata hours start at :30 UTC" "$(jr '[.series[].start[11:16]] | join(",")')" "09:30,10:30"
check_eq "Kolkata hours sum the slots of two UTC hours" "$(jr '[.series[].keys] | join(",")')" "3,28"
check_eq "and count their records" "$(jr '[.series[].records] | join(",")')" "2,3"
q "$A" "/api/v1/users/$UA/activity?tz=Asia/Kolkata&from=${DAY}T09:45:00Z&to=${DAY}T11:30:00Z"
check_eq "from rounds down to the local hour" "$(jr '.series[0].start[11:16]')" "09:30"

q "$A" "/api/v1/users/$UA/activity?from=${DAY}T10:00:00Z&to=${DAY}T12:00:00Z&step=600"
check_st "step=600" 200
check_eq "step=600: 12 points, each the records whose start is in it" \
	"$(jr '[.series[].keys] | join(",")')" "1,0,2,4,0,8,0,0,16,0,0,0"
check_eq "step=600: records by slot" "$(jr '[.series[].records] | join(",")')" "1,0,1,1,0,1,0,0,1,0,0,0"
check_eq "step=600 starts" "$(jr '[.series[0,1,11].start[11:16]] | join(",")')" "10:00,10:10,11:50"
check_eq "step=600 totals are what was sent" \
	"$(jr '.totals | [.keys, .clicks, .moves, .distance, .scrolls, .active_s, .interval_s, .records] | join(",")')" \
	"31,10,15,200,5,150,300,5"
check_eq "synthetic input is counted: events = keys+clicks+moves+scrolls, active_s" \
	"$(jr '[.totals.synthetic_events, .totals.synthetic_active_s, .series[8].synthetic_events] | join(",")')" "18,20,18"
q "$A" "/api/v1/users/$UA/activity?from=${DAY}T10:00:00Z&to=${DAY}T11:00:00Z"
check_eq "hourly (no tz) answers as before" "$(jr '[.tz, .series[0].keys, .series[0].records] | join(",")')" "UTC,15,4"

q "$A" "/api/v1/apps/top?user_id=$UA&tz=Asia/Kolkata&from=${DAY}T10:30:00Z&to=${DAY}T11:30:00Z"
check_eq "top apps in Kolkata count by slot: 10:15 is out" \
	"$(jr '[.tz, (.apps | map("\(.app)=\(.focus_s)") | join(","))] | join(" ")')" "Asia/Kolkata vim=300"
q "$A" "/api/v1/apps/top?user_id=$UA&from=${DAY}T10:30:00Z&to=${DAY}T11:30:00Z"
check_eq "top apps without tz count whole hours" "$(jr '.apps | map("\(.app)=\(.focus_s)") | join(",")')" \
	"vim=300,emacs=120"

# --- reports in a zone ---
q "$A" "/api/v1/reports/activity.json?user_id=$UA&tz=Europe/Paris&from=2026-10-24&to=2026-10-27&step=86400"
check_st "activity report in Paris" 200
check_eq "report rows are local days" "$(jr '[.tz, ([.rows[].keys] | join(","))] | join(" ")')" "Europe/Paris 1,110,1000"
check_eq "report row starts" "$(jr '[.rows[].start] | join(",")')" \
	"2026-10-23T22:00:00.000Z,2026-10-24T22:00:00.000Z,2026-10-25T23:00:00.000Z"
q "$A" "/api/v1/reports/apps.json?user_id=$UA&tz=Asia/Kolkata&from=${DAY}T10:30:00Z&to=${DAY}T11:30:00Z"
check_eq "apps report in Kolkata" "$(jr '[.tz, (.rows | map("\(.app)=\(.focus_s)") | join(","))] | join(" ")')" \
	"Asia/Kolkata vim=300"
api "$A" GET "/api/v1/reports/activity.csv?user_id=$UA&tz=Asia/Kolkata&from=${DAY}T09:30:00Z&to=${DAY}T11:30:00Z"
check_eq "CSV report in Kolkata: the same hours" "$(awk -F, 'NR > 1 { print $3 "=" $4 }' "$T/resp" | tr -d '\r' | paste -sd ' ')" \
	"${DAY}T09:30:00.000Z=3 ${DAY}T10:30:00.000Z=28"

# --- refusals ---
q "$A" "/api/v1/users/$UA/activity?tz=Mars/Olympus_Mons"
check_st "unknown zone" 400
check "the error says so" grep -q "time zone" "$T/resp"
q "$A" "/api/v1/users/$UA/activity?tz=$(printf 'A%.0s' {1..65})"
check_st "zone name over 64 bytes" 400
q "$A" "/api/v1/apps/top?user_id=$UA&tz=Nowhere"
check_st "top apps: unknown zone" 400
q "$A" "/api/v1/reports/activity.csv?user_id=$UA&tz=Nowhere"
check_st "report: unknown zone" 400
q "$A" "/api/v1/users/$UA/activity?from=2026-02-30&to=2026-03-02"
check_st "not a date" 400
q "$A" "/api/v1/users/$UA/activity?from=${DAY}T00:00:00Z&to=$(date -u -d "$DAY + 7 days" +%Y-%m-%d)T00:00:00Z&step=600"
check_eq "step=600 over 7 days: 1008 points" "$ST:$(jr '.series | length')" 200:1008
q "$A" "/api/v1/users/$UA/activity?from=${DAY}T00:00:00Z&to=$(date -u -d "$DAY + 7 days" +%Y-%m-%d)T00:10:00Z&step=600"
check_st "step=600 over more than 7 days" 400
q "$A" "/api/v1/users/$UA/activity?step=1800"
check_st "step 1800" 400
# the ends of the calendar: an instant whose local day is past 9999-12-30
# in a zone ahead of UTC, or a local date before 1970 (a negative time),
# is refused (400), not a failed conversion (500)
LAST=253402300799999
for r in "/api/v1/users/$UA/activity?step=86400&" "/api/v1/nodes/$TA/overview?step=86400&" \
	"/api/v1/reports/activity.csv?user_id=$UA&step=86400&" "/api/v1/apps/top?user_id=$UA&"; do
	q "$A" "${r}tz=Pacific/Kiritimati&from=$((LAST - 3 * 86400000))&to=$LAST"
	check_eq "${r%%\?*}: 'to' in the local year 10000: 400" "$ST:$(jr .error)" \
		"400:'to' must be between 1970-01-01 and 9999-12-30T00:00:00Z"
done
q "$A" "/api/v1/nodes/$TA/overview?tz=Pacific/Kiritimati&to=$LAST"
check_st "overview: today of an instant in the local year 10000: 400" 400
q "$A" "/api/v1/users/$UA/activity?tz=Pacific/Pago_Pago&from=0001-01-01&to=0001-01-05&step=86400"
check_eq "a local date of the year 1: 400" "$ST:$(jr .error)" \
	"400:'to' must be between 1970-01-01 and 9999-12-30T00:00:00Z"
q "$A" "/api/v1/users/$UA/activity?from=1969-12-30&to=1970-01-02&step=86400"
check_st "a local date before 1970: 400" 400
q "$A" "/api/v1/users/$UA/activity?tz=Pacific/Kiritimati&from=9999-12-27&to=$((LAST - 2 * 86400000 + 1))&step=86400"
check_eq "the last instant taken, in the zone furthest ahead: 200, its local day whole" \
	"$ST:$(jr '.series | length')" 200:4
q "$A" "/api/v1/reports/activity.json?node_id=$TA&tz=Pacific/Pago_Pago&from=1970-01-02&to=1970-01-05&step=86400"
check_st "the first days after 1970 in the zone furthest behind: 200" 200

# --- who reads what, in a zone ---
q "$TKB" "/api/v1/users/$UA/activity?tz=Europe/Paris"
check_st "an employee cannot read another's activity in a zone either" 403
q "$TKA" "/api/v1/users/$UA/activity?tz=Europe/Paris&from=2026-10-24&to=2026-10-27&step=86400"
check_eq "alice reads her own days" "$ST:$(jr '[.series[].keys] | join(",")')" "200:1,110,1000"
q "$TKM" "/api/v1/users/$UA/activity?tz=Europe/Paris&from=2026-10-24&to=2026-10-27&step=86400"
check_eq "her manager too" "$ST:$(jr '[.series[].keys] | join(",")')" "200:1,110,1000"

# --- the preferred time zone ---
q "$TKA" /api/v1/me
check_eq "a user has no preferred zone until one is set (null)" "$ST:$(jr .user.tz)" 200:null
api "$A" PATCH "/api/v1/users/$UA" '{"tz":"Asia/Kolkata"}'
check_eq "an administrator sets alice's zone" "$ST:$(jr .tz)" 200:Asia/Kolkata
q "$A" "/api/v1/users/$UA"
check_eq "read back" "$(jr .tz)" Asia/Kolkata
api "$A" PATCH "/api/v1/users/$UA" '{"tz":"Nowhere"}'
check_st "an unknown zone is refused" 400
api "$TKA" PATCH /api/v1/me '{"tz":"Europe/Paris","name":"Alice P."}'
check_eq "alice sets her own zone and name" "$ST:$(jr .tz):$(jr .name)" "200:Europe/Paris:Alice P."
q "$TKA" /api/v1/me
check_eq "GET /me returns it" "$(jr .user.tz)" Europe/Paris
api "$TKA" PATCH /api/v1/me '{"tz":"Europe/Nowhere"}'
check_st "PATCH /me: unknown zone" 400
api "$TKA" PATCH /api/v1/me '{"login":"mallory"}'
check_st "PATCH /me changes only name and tz" 400
api "$TKA" PATCH /api/v1/me '{"tz":5}'
check_st "PATCH /me: tz not a string" 400
api "$TKA" PATCH "/api/v1/users/$UB" '{"tz":"Europe/Paris"}'
check_st "an employee cannot set another's zone" 403
q "$A" "/api/v1/users/$UB"
check_eq "bob's zone is unchanged (none set)" "$(jr .tz)" null
q "$A" "/api/v1/audit?limit=1000"
check_eq "both changes are audited as user.update with the fields" \
	"$(jr "[.entries[] | select(.action == \"user.update\" and .target == \"$UA\") | .detail | join(\"+\")] | join(\",\")")" \
	"tz,name+tz"
finish
