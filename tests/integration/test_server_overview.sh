#!/usr/bin/env bash
# actlog-server: GET /api/v1/nodes/{id}/overview against the real binary —
# one row per person the caller may read below a node, every number equal
# to the activity and top-apps routes' for that person and range (totals,
# series per step, activity %, top app), the newest record from the
# devices' users_seen, "online" by the effective activity interval, who
# may ask (a manager only their team, an employee not at all; activity.read
# without user.read: rows without names, emails, zones or states) and the
# argument checks.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need gzip

HOST1=11111111111111111111111111111111
HOST2=22222222222222222222222222222222
DAY=$(date -u -d '3 days ago' +%Y-%m-%d)
NEXT=$(date -u -d "$DAY + 1 day" +%Y-%m-%d)
FROM=${DAY}T00:00:00Z
TO=${NEXT}T00:00:00Z

ingest() { # TOKEN BATCH_ID FILE
	gzip -c "$3" >"$T/body.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 \
		-H "Authorization: Bearer $1" -H "X-Batch-Id: $2" -H 'Content-Encoding: gzip' \
		--data-binary @"$T/body.gz" "$SRV_URL/api/v1/ingest")
}
# act START_MS USER KEYS ACTIVE_S (a 60 s interval ending at START_MS + 60 s)
act() {
	local s e
	s=$(date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%S.000Z)
	e=$(date -u -d "@$(($1 / 1000 + 60))" +%Y-%m-%dT%H:%M:%S.000Z)
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"h","user":"%s","start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":2,"moves":3,"distance":40,"scrolls":1,"active_s":%d}\n' \
		"$e" "$2" "$s" "$e" "$3" "$4"
}
apps() { # TS USER NAME=SECONDS...
	local ts=$1 u=$2 a=() kv
	shift 2
	for kv in "$@"; do a+=("{\"app\":\"${kv%%=*}\",\"focus_s\":${kv#*=}}"); done
	printf '{"type":"app_usage","ts":"%s","v":1,"host_id":"h","user":"%s","apps":[%s]}\n' \
		"$ts" "$u" "$(IFS=,; echo "${a[*]}")"
}
ms() { date -u -d "$1" +%s%3N; }

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com "Alice Anders" alice "$TA")
UC=$(srv_user carol@example.com "Carol Chen" carol "$TA")
UM=$(srv_user mona@example.com "Mona Manager" mona "$TA")
UD=$(srv_user dave@example.com "Dave Dorn" dave "$TB")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UC" -a -n "$UM" -a -n "$UD"
check "mona manages team A" srv_grant "$UM" "$TA" manager
srv_enroll "$TA" "$HOST1"
KA=$TOK
srv_enroll "$TB" "$HOST2"
KB=$TOK
check "two devices" test -n "$KA" -a -n "$KB"
api "$A" PUT "/api/v1/nodes/$TB/config" '{"values":{"activity.interval_s":30}}'
check_st "team B's activity interval: 30 s" 200
api "$A" PUT "/api/v1/users/$UA/config" '{"values":{"activity.interval_s":3600}}'
check_st "alice's own activity interval: 3600 s" 200

D0=$(ms "${DAY}T00:00:00Z")
NOW=$(date +%s%3N)
RECENT=$(((NOW - 120000) / 1000 * 1000)) # ends a minute ago
{
	act $((D0 + 9 * 3600000)) alice 100 40
	act $((D0 + 9 * 3600000 + 600000)) alice 50 60
	act $((D0 + 14 * 3600000 + 1800000)) alice 7 5
	act $((D0 + 10 * 3600000)) carol 300 55
	act $((D0 + 11 * 3600000 + 120000)) carol 20 10
	apps "${DAY}T09:30:00.000Z" alice firefox=1800 code=900
	apps "${DAY}T14:40:00.000Z" alice code=1200
	apps "${DAY}T10:30:00.000Z" carol slack=400 firefox=100
	act "$RECENT" alice 3 20
} >"$T/a.ndjson"
ingest "$KA" ov-1 "$T/a.ndjson"
check_eq "team A's batch is accepted whole" "$ST:$(jr .accepted)" "200:9"
act $((D0 + 16 * 3600000)) dave 10 50 >"$T/b.ndjson"
ingest "$KB" ov-2 "$T/b.ndjson"
check_eq "team B's batch is accepted whole" "$ST:$(jr .accepted)" "200:1"
CAROL_LAST=$((D0 + 11 * 3600000 + 180000))
TKA=$(login alice@example.com password-alice)
TKM=$(login mona@example.com password-mona)
check "alice and mona sign in" test -n "$TKA" -a -n "$TKM"

# --- the admin's overview of the business over DAY ---
api "$A" GET "/api/v1/nodes/$B/overview?from=$FROM&to=$TO"
check_st "the business's overview" 200
cp "$T/resp" "$T/ov.json"
ov() { jq -r --arg u "$1" ".people[] | select(.user_id == \$u) | $2" "$T/ov.json"; }
check_eq "a row for each person of both teams, team by team" \
	"$(jq -r --arg a "$UA" --arg c "$UC" --arg m "$UM" --arg d "$UD" \
		'[.people[].user_id | select(. == $a or . == $c or . == $m or . == $d)] | length' "$T/ov.json")" 4
check_eq "24 hourly points from the day's start" "$(jq -r '[.points, .step, .start, .tz, .truncated] | join(",")' "$T/ov.json")" \
	"24,3600,${DAY}T00:00:00.000Z,UTC,false"
check_eq "each row carries name, email, team" "$(ov "$UC" '[.name, .email, .team_id, .team_name] | join(",")')" \
	"Carol Chen,carol@example.com,$TA,A"
for u in "$UA" "$UC" "$UM" "$UD"; do
	api "$A" GET "/api/v1/users/$u/activity?from=$FROM&to=$TO"
	check_eq "$u: totals equal the activity route's" "$(ov "$u" '.totals | tojson')" "$(jr '.totals | tojson')"
	check_eq "$u: active_s per step equals the activity route's" "$(ov "$u" '.series.active_s | tojson')" \
		"$(jr '[.series[].active_s] | tojson')"
	check_eq "$u: interval_s per step equals the activity route's" "$(ov "$u" '.series.interval_s | tojson')" \
		"$(jr '[.series[].interval_s] | tojson')"
	check_eq "$u: activity % is 100 x active_s / interval_s of the totals" "$(ov "$u" '.activity_pct | tojson')" \
		"$(jr 'if .totals.interval_s > 0 then 100 * .totals.active_s / .totals.interval_s else null end | tojson')"
	api "$A" GET "/api/v1/apps/top?user_id=$u&from=$FROM&to=$TO&limit=1"
	check_eq "$u: top app equals the top-apps route's first" "$(ov "$u" '.top_app | tojson')" "$(jr '.apps[0] // null | tojson')"
done
check_eq "alice's numbers as seeded (3 records that day)" "$(ov "$UA" '[.totals.keys, .totals.active_s, .totals.interval_s, .top_app.app, .top_app.focus_s] | join(",")')" \
	"157,105,180,code,2100"
check_eq "alice's activity % (105 of 180 s)" "$(ov "$UA" '.activity_pct')" "$(jq -n '100 * 105 / 180')"
check_eq "mona recorded nothing: zeros, no top app, no activity %" "$(ov "$UM" '[.totals.interval_s, (.top_app|tojson), (.activity_pct|tojson), (.last_record|tojson), .online] | join(",")')" \
	"0,null,null,null,false"
check_eq "the effective activity interval of each" "$(ov "$UA" .interval_s),$(ov "$UC" .interval_s),$(ov "$UD" .interval_s)" "3600,60,30"
check_eq "carol's last record: her newest record's time (users_seen)" "$(ov "$UC" .last_record)" "$CAROL_LAST"
check "alice's last record is her record of a minute ago" test "$(ov "$UA" .last_record)" -ge "$((RECENT + 60000))"
check_eq "alice is online (within 2 x 3600 s), carol and dave are not" "$(ov "$UA" .online),$(ov "$UC" .online),$(ov "$UD" .online)" "true,false,false"

# --- steps of two hours, the whole tree, today ---
api "$A" GET "/api/v1/nodes/$TA/overview?from=$FROM&to=$TO&step=7200"
check_st "a team's overview with step=7200" 200
cp "$T/resp" "$T/ov2.json"
api "$A" GET "/api/v1/users/$UA/activity?from=$FROM&to=$TO&step=7200"
check_eq "step 7200: alice's series equals the activity route's" \
	"$(jq -r --arg u "$UA" '.people[] | select(.user_id == $u) | .series.active_s | tojson' "$T/ov2.json")" "$(jr '[.series[].active_s] | tojson')"
check_eq "step 7200: 12 points, team A's three people only" "$(jq -r '[.points, ([.people[].team_id] | unique | join(" ")), (.people | length)] | join(",")' "$T/ov2.json")" \
	"12,$TA,3"
api "$A" GET "/api/v1/nodes/root/overview?from=$FROM&to=$TO"
check_eq "the root's overview has everyone of both teams" "$ST:$(jq -r --arg d "$UD" '[.people[] | select(.user_id == $d)] | length' "$T/resp")" "200:1"
api "$A" GET "/api/v1/nodes/$TA/overview"
check_eq "default range: today (from midnight UTC), alice's minute in it" \
	"$ST:$(jr '.from[0:10]'):$(jq -r --arg u "$UA" '.people[] | select(.user_id == $u) | .totals.active_s >= 20' "$T/resp")" \
	"200:$(date -u +%Y-%m-%d):true"

# --- 10-minute steps and time zones: the activity route's numbers ---
api "$A" GET "/api/v1/nodes/$TA/overview?from=$FROM&to=$TO&step=600"
check_eq "step 600: 144 points, a start per step" "$ST:$(jr '[.points, (.starts|length), .starts[1]] | join(",")')" \
	"200:144,144,${DAY}T00:10:00.000Z"
cp "$T/resp" "$T/ov3.json"
api "$A" GET "/api/v1/users/$UA/activity?from=$FROM&to=$TO&step=600"
check_eq "step 600: alice's active_s per 10 minutes equals the activity route's" \
	"$(jq -r --arg u "$UA" '.people[] | select(.user_id == $u) | .series.active_s | tojson' "$T/ov3.json")" "$(jr '[.series[].active_s] | tojson')"
check_eq "... her 09:00 and 09:10 records in their own slots (54, 55)" \
	"$(jq -r --arg u "$UA" '.people[] | select(.user_id == $u) | .series.active_s[54:56] | join(",")' "$T/ov3.json")" "40,60"
api "$A" GET "/api/v1/nodes/$TA/overview?from=$DAY&to=$NEXT&tz=Asia/Kolkata"
check_eq "tz=Asia/Kolkata: the local day from 18:30 UTC, hourly" \
	"$ST:$(jr '[.tz, .start, .points] | join(",")')" "200:Asia/Kolkata,$(date -u -d "$DAY - 1 day" +%Y-%m-%d)T18:30:00.000Z,24"
cp "$T/resp" "$T/ov4.json"
api "$A" GET "/api/v1/users/$UC/activity?from=$DAY&to=$NEXT&tz=Asia/Kolkata"
check_eq "tz=Asia/Kolkata: carol's series equals the activity route's in that zone" \
	"$(jq -r --arg u "$UC" '.people[] | select(.user_id == $u) | .series.active_s | tojson' "$T/ov4.json")" "$(jr '[.series[].active_s] | tojson')"
api "$A" GET "/api/v1/apps/top?user_id=$UC&from=$DAY&to=$NEXT&tz=Asia/Kolkata&limit=1"
check_eq "tz=Asia/Kolkata: carol's top app equals the top-apps route's in that zone" \
	"$(jq -r --arg u "$UC" '.people[] | select(.user_id == $u) | .top_app | tojson' "$T/ov4.json")" "$(jr '.apps[0] // null | tojson')"
api "$A" GET "/api/v1/nodes/$TA/overview?from=2026-10-25&to=2026-10-27&tz=Europe/Paris&step=86400"
check_eq "Paris days: 25 hours, then 24" "$ST:$(jr '[.points, .starts[0], .starts[1]] | join(",")')" \
	"200:2,2026-10-24T22:00:00.000Z,2026-10-25T23:00:00.000Z"
# step=600 without tz, from inside an hour: the series and the top app by
# 10-minute slot from 09:40, as the activity route and /apps/top?tz=UTC
# count them (alice's apps of 09:30 are before; /apps/top without tz would
# count the whole hour 09)
api "$A" GET "/api/v1/nodes/$TA/overview?from=${DAY}T09:40:00Z&to=${DAY}T10:00:00Z&step=600"
check_eq "step=600 from 09:40: two points" "$ST:$(jr '[.points, .start] | join(",")')" "200:2,${DAY}T09:40:00.000Z"
cp "$T/resp" "$T/ov5.json"
api "$A" GET "/api/v1/apps/top?user_id=$UA&from=${DAY}T09:40:00Z&to=${DAY}T10:00:00Z&tz=UTC&limit=1"
check_eq "step=600 from 09:40: alice's top app is /apps/top?tz=UTC's (none)" \
	"$(jq -r --arg u "$UA" '.people[] | select(.user_id == $u) | .top_app | tojson' "$T/ov5.json")" "$(jr '.apps[0] // null | tojson')"
api "$A" GET "/api/v1/apps/top?user_id=$UA&from=${DAY}T09:40:00Z&to=${DAY}T10:00:00Z&limit=1"
check_eq "(/apps/top without tz: the hour 09 whole)" "$(jr '.apps[0].app')" firefox
api "$A" GET "/api/v1/users/$UA/activity?from=${DAY}T09:40:00Z&to=${DAY}T10:00:00Z&step=600"
check_eq "step=600 from 09:40: alice's series is the activity route's" \
	"$(jq -r --arg u "$UA" '.people[] | select(.user_id == $u) | .series.active_s | tojson' "$T/ov5.json")" "$(jr '[.series[].active_s] | tojson')"

api "$A" GET "/api/v1/nodes/$TA/overview?to=$NEXT"
check_eq "only 'to' a date: the whole day before it" "$ST:$(jr '[.from, .to, .points] | join(",")')" \
	"200:${DAY}T00:00:00.000Z,${NEXT}T00:00:00.000Z,24"

# --- who may ask ---
api "$TKM" GET "/api/v1/nodes/$TA/overview?from=$FROM&to=$TO"
check_eq "the manager's overview of her team: its three people" \
	"$ST:$(jr '.people | length'):$(jq -r --arg d "$UD" '[.people[] | select(.user_id == $d)] | length' "$T/resp")" "200:3:0"
api "$TKM" GET "/api/v1/nodes/$TB/overview?from=$FROM&to=$TO"
check_st "the manager may not see another team" 403
api "$TKM" GET "/api/v1/nodes/$B/overview?from=$FROM&to=$TO"
check_st "nor the business above her team" 403
api "$TKA" GET "/api/v1/nodes/$TA/overview?from=$FROM&to=$TO"
check_st "an employee gets no overview of their own team" 403
check "... with an error message" test -n "$(jr '.error // empty')"
# activity.read without user.read (a personal token of those scopes, a
# custom role): the numbers, not who the people are (name, email, tz and
# state are user.read's, as GET /users/{id})
api "$TKM" POST /api/v1/me/tokens '{"name":"numbers only","scopes":["activity.read"]}'
check_st "mona makes an activity.read token" 201
PT=$(jr .token)
api "$PT" GET "/api/v1/nodes/$TA/overview?from=$FROM&to=$TO"
check_st "the activity.read token reads the overview" 200
check_eq "its rows name nobody: no name, email, tz or state" \
	"$(jr '[.people[] | [.name, .email, .tz, .disabled] | map(tostring) | join("/")] | unique | join(",")')" "null/null/null/null"
check "... but hold the numbers" jq -e --arg c "$UC" '.people[] | select(.user_id == $c) | .totals.keys > 0' "$T/resp"
check "nor is any email in the answer" sh -c "! grep -q '@example.com' '$T/resp'"
api "$A" POST /api/v1/roles '{"name":"counter","permissions":["activity.read"]}'
check_st "a custom role of activity.read only" 201
check "dave counts team A's activity" srv_grant "$UD" "$TA" counter
TKD=$(login dave@example.com password-dave)
api "$TKD" GET "/api/v1/nodes/$TA/overview?from=$FROM&to=$TO"
check_eq "its holder sees no email either" "$ST:$(jr '[.people[].email] | unique | tojson')" '200:[null]'
api "$TKM" GET "/api/v1/nodes/$TA/overview?from=$FROM&to=$TO"
check_eq "the manager (user.read) sees them" "$(jr '[.people[] | select(.user_id == "'"$UC"'") | .email] | join(",")')" carol@example.com
api "" GET "/api/v1/nodes/$TA/overview"
check_st "without a token: 401" 401
api "$A" GET "/api/v1/nodes/n_nope/overview"
check_st "an unknown node: 404" 404

# --- arguments ---
bad() { # NAME QUERY MESSAGE
	api "$A" GET "/api/v1/nodes/$TA/overview?$2"
	check_eq "$1: 400 and its message" "$ST:$(jr .error)" "400:$3"
}
bad "step under 10 minutes" "step=300" "'step' must be a whole number in 600..2678400"
bad "step neither 600 nor whole hours" "step=5400" "'step' must be 600 or a multiple of 3600 seconds"
bad "step 600 over 7 days" "step=600&from=2025-01-01T00:00:00Z&to=2025-01-08T00:10:00Z" "a 'step' of 600 takes 'from' and 'to' at most 7 days apart"
bad "an unknown time zone" "tz=Mars/Olympus" "'tz' is not a time zone name (IANA, like Europe/Paris)"
bad "a range over 31 days" "from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:01Z" "'from' and 'to' are more than 31 days apart"
bad "from after to" "from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z" "'from' is after 'to'"
api "$A" GET "/api/v1/nodes/$TA/overview?from=$FROM&to=$TO&tz=UTC"
check_st "tz=UTC is taken" 200
api "$A" GET "/api/v1/nodes/$TA/overview?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z"
check_eq "31 days of hours: 744 points" "$ST:$(jr .points)" "200:744"

srv_stop
check "the server stops cleanly" test $? = 0
finish
