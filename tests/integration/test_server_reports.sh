#!/usr/bin/env bash
# actlog-server: the report routes (activity and apps as CSV and JSON) against
# the real binary: rows equal the JSON twin and the query routes person by
# person, RFC 4180 output that Python's csv module reads back, formula
# injection neutralised, who may export whom, bad arguments, and the audit
# entry of every export.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need gzip

HOST1=11111111111111111111111111111111
HOST2=22222222222222222222222222222222
DAY=$(date -u -d '3 days ago' +%Y-%m-%d)
NEXT=$(date -u -d "$DAY + 1 day" +%Y-%m-%d)
PY=/usr/bin/python3

ingest() { # TOKEN BATCH_ID FILE
	gzip -c "$3" >"$T/body.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 \
		-H "Authorization: Bearer $1" -H "X-Batch-Id: $2" -H 'Content-Encoding: gzip' \
		--data-binary @"$T/body.gz" "$SRV_URL/api/v1/ingest")
}
act() { # START KEYS USER (a 60 s interval)
	local ms end
	ms=$(($(date -u -d "$1" +%s%3N) + 60000))
	end=$(date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((ms % 1000)))Z
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"h","user":"%s","start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":2,"moves":3,"distance":40,"scrolls":1,"active_s":30}\n' \
		"$end" "$3" "$1" "$end" "$2"
}
apps() { # TS USER NAME=SECONDS...
	local ts=$1 u=$2 a=() kv
	shift 2
	for kv in "$@"; do a+=("{\"app\":\"${kv%%=*}\",\"focus_s\":${kv#*=}}"); done
	printf '{"type":"app_usage","ts":"%s","v":1,"host_id":"h","user":"%s","apps":[%s]}\n' \
		"$ts" "$u" "$(IFS=,; echo "${a[*]}")"
}
# get TOKEN PATH: GET with the response headers in $T/hdr
get() {
	ST=$(curl -s -D "$T/hdr" -o "$T/resp" -w '%{http_code}' --max-time 30 \
		${1:+-H "Authorization: Bearer $1"} "$SRV_URL$2")
}
hdr() { grep -i "^$1:" "$T/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# csvq EXPR: evaluate EXPR over rows (the csv module's dicts of $T/resp)
csvq() {
	$PY -c 'import csv,sys
rows=list(csv.DictReader(open(sys.argv[1],newline="",encoding="utf-8"),strict=True))
print(eval(sys.argv[2]))' "$T/resp" "$1"
}

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UC=$(srv_user carol@example.com carol carol "$TA")
UM=$(srv_user mona@example.com mona mona "$TA")
UD=$(srv_user dave@example.com dave dave "$TB")
# logins are Linux user names (never a formula): the texts a device sends,
# application names, carry the formulas and the quotes here
UE=$(srv_user eve@example.com eve eve "$TA")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UC" -a -n "$UM" -a -n "$UD" -a -n "$UE"
check "mona manages team A" srv_grant "$UM" "$TA" manager
B2=$(srv_node business Globex root)
D2N=$(srv_node domain Ops "$B2")
P2=$(srv_node project Infra "$D2N")
T2=$(srv_node team Z "$P2")
UX=$(srv_user xena@example.com xena xena "$T2")
check "xena administers business 2" srv_grant "$UX" "$B2" admin
srv_enroll "$TA" "$HOST1"
K1=$TOK
srv_enroll "$TB" "$HOST2"
K2=$TOK
TKA=$(login alice@example.com password-alice)
TKM=$(login mona@example.com password-mona)
TKX=$(login xena@example.com password-xena)
check "everyone signs in" test -n "$TKA" -a -n "$TKM" -a -n "$TKX" -a -n "$K1" -a -n "$K2"

{
	act "${DAY}T10:59:00.000Z" 1 alice
	act "${DAY}T11:00:00.000Z" 10 alice
	act "${DAY}T12:10:00.000Z" 1000 alice
	act "${DAY}T23:30:00.000Z" 3 alice
	act "${NEXT}T00:30:00.000Z" 4 alice
	act "${DAY}T11:15:00.000Z" 999 carol
	act "${DAY}T11:20:00.000Z" 7 eve
	jq -nc --arg ts "${DAY}T11:30:00.000Z" '{type:"app_usage",ts:$ts,v:1,host_id:"h",user:"alice",
		apps:[{app:"firefox",focus_s:600},{app:"code,\"x\"",focus_s:300},{app:"@sum(1)",focus_s:100}]}'
	apps "${DAY}T12:30:00.000Z" alice firefox=60
	apps "${DAY}T11:30:00.000Z" carol slack=50
	jq -nc --arg ts "${DAY}T11:30:00.000Z" '{type:"app_usage",ts:$ts,v:1,host_id:"h",user:"eve",
		apps:[{app:"=cmd",focus_s:10},{app:"-2+3",focus_s:5},{app:"+x",focus_s:4}]}'
} >"$T/a.ndjson"
ingest "$K1" rep-a "$T/a.ndjson"
check_eq "team A records" "$ST:$(jr .accepted)" 200:11
{
	act "${DAY}T11:00:00.000Z" 5 dave
	apps "${DAY}T11:30:00.000Z" dave vim=40
} >"$T/b.ndjson"
ingest "$K2" rep-b "$T/b.ndjson"
check_eq "team B records" "$ST:$(jr .accepted)" 200:2

R="from=${DAY}T00:00:00Z&to=${NEXT}T02:00:00Z"

# --- activity: CSV, its JSON twin, the query route ---
get "$A" "/api/v1/reports/activity.csv?node_id=$PRJ&$R&step=3600&tz=UTC"
check_st "activity.csv of the project" 200
check_eq "CSV content type" "$(hdr content-type)" "text/csv; charset=utf-8; header=present"
check "a download with a file name" grep -qi '^content-disposition: attachment; filename="actlog-activity-' "$T/hdr"
check "streamed (chunked)" grep -qi '^transfer-encoding: chunked' "$T/hdr"
check_eq "header row" "$(head -1 "$T/resp" | tr -d '\r')" \
	"user_id,login,start,keys,clicks,moves,distance,scrolls,active_s,interval_s,synthetic_active_s,synthetic_events,records"
check "every line ends in CRLF" $PY -c 'import sys
d=open(sys.argv[1],"rb").read()
sys.exit(not (d.endswith(b"\r\n") and d.count(b"\n")==d.count(b"\r\n")))' "$T/resp"
check_eq "one row per person x hour (5 people x 26 h)" "$(csvq 'len(rows)')" 130
check_eq "people of the project, by login" \
	"$(csvq '",".join(r["login"] for r in rows[::26])')" "alice,carol,dave,eve,mona"
cp "$T/resp" "$T/act.csv"
get "$A" "/api/v1/reports/activity.json?node_id=$PRJ&$R&step=3600"
check_st "activity.json of the project" 200
check "the JSON twin parses" jq -e '.rows | length == 130' "$T/resp"
cp "$T/resp" "$T/act.json"
for u in "$UA" "$UC" "$UE" "$UD" "$UM"; do
	api "$A" GET "/api/v1/users/$u/activity?$R&step=3600"
	want=$(jq -c '[.totals.keys, .totals.clicks, .totals.active_s, .totals.records]' "$T/resp")
	got_csv=$($PY -c 'import csv,sys,json
rows=[r for r in csv.DictReader(open(sys.argv[1],newline="")) if r["user_id"]==sys.argv[2]]
print(json.dumps([sum(int(r[k]) for r in rows) for k in ("keys","clicks","active_s","records")],separators=(",",":")))' "$T/act.csv" "$u")
	got_json=$(jq -c --arg u "$u" '[.rows[] | select(.user_id == $u)] | [(map(.keys)|add), (map(.clicks)|add), (map(.active_s)|add), (map(.records)|add)]' "$T/act.json")
	check_eq "activity totals of $u: CSV = JSON twin = query route" "$got_csv|$got_json" "$want|$want"
done
check_eq "alice's keys in the CSV" \
	"$($PY -c 'import csv,sys
print(sum(int(r["keys"]) for r in csv.DictReader(open(sys.argv[1],newline="")) if r["login"]=="alice"))' "$T/act.csv")" 1018
get "$A" "/api/v1/reports/activity.csv?user_id=$UA&$R&step=7200"
check_eq "one person, step 7200: 13 rows" "$ST:$(csvq 'len(rows)')" 200:13
check_eq "bucket starts are RFC 3339" "$(csvq 'rows[5]["start"]')" "${DAY}T10:00:00.000Z"
check_eq "step 7200 sums two hours" "$(csvq 'rows[5]["keys"]')" 11

# --- apps: CSV, JSON twin, top list ---
get "$A" "/api/v1/reports/apps.csv?node_id=$PRJ&$R"
check_st "apps.csv of the project" 200
check_eq "apps header row" "$(head -1 "$T/resp" | tr -d '\r')" "user_id,login,app,focus_s,share"
cp "$T/resp" "$T/apps.csv"
check_eq "an app name with a comma and quotes reads back" \
	"$(csvq '[r["app"] for r in rows if r["login"]=="alice"]')" \
	"['firefox', 'code,\"x\"', \"'@sum(1)\"]"
check "the quoted field is RFC 4180 quoted" grep -q '"code,""x"""' "$T/apps.csv"
check_eq "formula app names are neutralised with a quote" \
	"$(csvq '[r["app"] for r in rows if r["login"]=="eve"]')" "[\"'=cmd\", \"'-2+3\", \"'+x\"]"
check_eq "no field starts with = + - @" \
	"$(csvq 'sum(1 for r in rows for v in r.values() if v[:1] in "=+-@")')" 0
check_eq "alice's focus and shares" \
	"$(csvq '[(r["focus_s"], r["share"]) for r in rows if r["login"]=="alice"]')" \
	"[('660.000', '0.622642'), ('300.000', '0.283019'), ('100.000', '0.094340')]"
get "$A" "/api/v1/reports/apps.json?node_id=$PRJ&$R"
cp "$T/resp" "$T/apps.json"
check_eq "apps JSON twin: the same rows" "$(jq -c '[.rows[] | [.login, .app, .focus_s]]' "$T/apps.json")" \
	"$($PY -c 'import csv,sys,json
print(json.dumps([[r["login"].lstrip("'"'"'"), r["app"].lstrip("'"'"'"), float(r["focus_s"])] for r in csv.DictReader(open(sys.argv[1],newline=""))],separators=(",",":")).replace(".0,",",").replace(".0]","]"))' "$T/apps.csv")"
for u in "$UA" "$UC" "$UE" "$UD"; do
	api "$A" GET "/api/v1/apps/top?user_id=$u&$R&limit=100"
	want=$(jq -c '[.apps[] | [.app, .focus_s]]' "$T/resp")
	got=$(jq -c --arg u "$u" '[.rows[] | select(.user_id == $u) | [.app, .focus_s]]' "$T/apps.json")
	check_eq "apps of $u: JSON twin = top list" "$got" "$want"
done

# --- who may export whom ---
get "$TKM" "/api/v1/reports/activity.csv?node_id=$TA&$R"
check_eq "a manager of team A gets team A's people only" \
	"$ST:$(csvq '",".join(sorted(set(r["login"] for r in rows)))')" "200:alice,carol,eve,mona"
get "$TKM" "/api/v1/reports/activity.csv?node_id=$PRJ&$R"
check_eq "a manager of A asking for the project: A's people only" \
	"$ST:$(csvq '",".join(sorted(set(r["login"] for r in rows)))')" "200:alice,carol,eve,mona"
get "$TKM" "/api/v1/reports/apps.json?node_id=$TB&$R"
check_st "a manager of A may not export team B" 403
get "$TKM" "/api/v1/reports/activity.json?user_id=$UD&$R"
check_st "nor dave of team B" 403
get "$TKA" "/api/v1/reports/activity.csv?node_id=$TA&$R"
check_eq "an employee gets only themselves" \
	"$ST:$(csvq '",".join(sorted(set(r["login"] for r in rows)))')" "200:alice"
get "$TKA" "/api/v1/reports/apps.csv?user_id=$UA&$R"
check_eq "an employee exports their own apps" "$ST:$(csvq 'len(rows)')" 200:3
get "$TKA" "/api/v1/reports/activity.csv?user_id=$UC&$R"
check_st "an employee may not export a colleague" 403
get "$TKX" "/api/v1/reports/activity.csv?node_id=$PRJ&$R"
check_st "another business: 403 on a node" 403
get "$TKX" "/api/v1/reports/apps.json?user_id=$UA&$R"
check_st "another business: 403 on a user" 403
get "$TKX" "/api/v1/reports/activity.csv?node_id=root&$R"
check_eq "another business's admin asking for the root: their people only" \
	"$ST:$(csvq '",".join(sorted(set(r["login"] for r in rows)))')" "200:xena"
get "$TKX" "/api/v1/reports/activity.csv?node_id=$B2&$R"
check_eq "another business's admin gets their own business: only xena" \
	"$ST:$(csvq '",".join(sorted(set(r["login"] for r in rows)))')" "200:xena"
get "" "/api/v1/reports/activity.csv?node_id=$PRJ&$R"
check_st "no token: 401" 401

# --- bad arguments ---
bad() { # NAME QUERY [WANT]
	get "$A" "/api/v1/reports/$2"
	check_st "$1" "${3:-400}"
}
bad "neither user_id nor node_id" "activity.csv?$R"
bad "both user_id and node_id" "activity.csv?user_id=$UA&node_id=$TA&$R"
bad "an unknown time zone" "activity.csv?user_id=$UA&$R&tz=Europe/Atlantis"
check_eq "the time zone refusal says so" "$(jr .error)" "'tz' is not a time zone name (IANA, like Europe/Paris)"
bad "step not a multiple of an hour" "activity.csv?user_id=$UA&$R&step=5400"
bad "step not a number" "activity.json?user_id=$UA&$R&step=abc"
bad "step on apps" "apps.csv?user_id=$UA&$R&step=3600"
bad "from after to" "activity.csv?user_id=$UA&from=${NEXT}T00:00:00Z&to=${DAY}T00:00:00Z"
bad "over 400 days" "activity.csv?user_id=$UA&from=2020-01-01T00:00:00Z&to=2021-02-05T00:00:01Z&step=86400"
bad "a bad time" "apps.json?user_id=$UA&from=yesterday"
bad "a long tz" "activity.csv?user_id=$UA&$R&tz=$(printf 'x%.0s' {1..100})"
bad "no such user" "activity.csv?user_id=00000000000000000000000000000000&$R" 404
bad "no such node" "apps.csv?node_id=00000000000000000000000000000000&$R" 404
get "$A" "/api/v1/reports/activity.csv?node_id=$PRJ&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"
check_eq "a year hourly of 5 people, streamed: 5 x 8760 rows" "$ST:$(csvq 'len(rows)')" 200:43800
check_eq "the last row is the last hour of the last person" \
	"$(csvq '(rows[-1]["login"], rows[-1]["start"])')" "('mona', '2025-12-31T23:00:00.000Z')"
ST=$(curl -s -I -o "$T/hdr" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $A" \
	"$SRV_URL/api/v1/reports/apps.csv?user_id=$UA&$R")
check_eq "HEAD: the headers without a body" "$ST:$(hdr content-type)" "200:text/csv; charset=utf-8; header=present"
get "$A" "/api/v1/reports/apps.csv?user_id=$UA&$R"
check_eq "and the route still answers after a HEAD" "$ST:$(csvq 'len(rows)')" 200:3

# --- the audit log ---
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "every export is audited with what, whom and the range" \
	"$(jq -r --arg p "$PRJ" '[.entries[] | select(.action == "report.export" and .result == "ok" and .detail.node_id == $p and .detail.report == "activity.csv")][0].detail | [.from, .to, .step, .users, .rows] | join(",")' "$T/resp")" \
	"${DAY}T00:00:00.000Z,${NEXT}T02:00:00.000Z,3600,5,130"
check_eq "the exporter is named" \
	"$(jq -r --arg u "$UA" '[.entries[] | select(.action == "report.export" and .detail.report == "apps.csv" and .detail.user_id == $u)][0] | [.actor, .actor_email, .node_id] | join(",")' "$T/resp")" "$UA,alice@example.com,$TA"
check "a refused export is audited" jq -e --arg u "$UD" \
	'[.entries[] | select(.action == "report.export" and .result == "forbidden" and .detail.user_id == $u)] | length == 1' "$T/resp"
check "a manager's export of their team is filed under the team" jq -e --arg t "$TA" --arg m "$UM" \
	'[.entries[] | select(.action == "report.export" and .actor == $m and .node_id == $t and .detail.node_id == $t)] | length == 1' "$T/resp"

# --- activity.read without user.read: the numbers, not the logins ---
api "$TKM" POST /api/v1/me/tokens '{"name":"numbers only","scopes":["activity.read"]}'
check_st "mona makes an activity.read token" 201
PT=$(jr .token)
get "$PT" "/api/v1/reports/activity.json?node_id=$TA&$R&step=86400"
check_st "the activity.read token reads team A's report" 200
check_eq "its rows name no login but mona's own (null)" \
	"$(jq -c --arg m "$UM" '[.rows[] | select(.user_id != $m) | .login] | unique' "$T/resp"):$(jq -r --arg m "$UM" '[.rows[] | select(.user_id == $m) | .login] | unique | join(",")' "$T/resp")" "[null]:mona"
check "... but hold the numbers" jq -e --arg c "$UC" '[.rows[] | select(.user_id == $c) | .keys] | add > 0' "$T/resp"
get "$PT" "/api/v1/reports/apps.csv?node_id=$TA&$R"
check_eq "its CSV rows have an empty login (but mona's)" \
	"$(csvq '"|".join(sorted(set(r["login"] for r in rows if r["user_id"] != "'"$UM"'")))'):$(csvq 'len(rows) > 0')" ":True"
get "$TKM" "/api/v1/reports/activity.json?node_id=$TA&$R&step=86400"
check "the manager (user.read) sees the logins" jq -e '[.rows[].login] | index("carol") != null' "$T/resp"
get "$TKA" "/api/v1/reports/activity.json?user_id=$UA&$R&step=86400"
check_eq "alice sees her own login" "$ST:$(jq -r '[.rows[].login] | unique | join(",")' "$T/resp")" "200:alice"

srv_stop
check "server stops cleanly" test $? -eq 0
finish
