#!/usr/bin/env bash
# actlog-server: the query routes against the real binary — activity series
# from the hourly rollups (hour and day boundaries, step aggregation), top
# apps of a user and of a node, device sysinfo and processes in a range,
# the audit log, and who may read what.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need gzip

HOST1=11111111111111111111111111111111
HOST2=22222222222222222222222222222222
DAY=$(date -u -d '3 days ago' +%Y-%m-%d)
NEXT=$(date -u -d "$DAY + 1 day" +%Y-%m-%d)

ingest() { # TOKEN BATCH_ID FILE
	gzip -c "$3" >"$T/body.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 \
		-H "Authorization: Bearer $1" -H "X-Batch-Id: $2" -H 'Content-Encoding: gzip' \
		--data-binary @"$T/body.gz" "$SRV_URL/api/v1/ingest")
}
# act START KEYS USER (a 60 s interval)
act() {
	local ms end
	ms=$(($(date -u -d "$1" +%s%3N) + 60000))
	end=$(date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((ms % 1000)))Z
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"h","user":"%s","start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":2,"moves":3,"distance":40,"scrolls":1,"active_s":30}\n' \
		"$end" "$3" "$1" "$end" "$2"
}
proc() { printf '{"type":"process","ts":"%s","v":1,"host_id":"h","user":null,"event":"exec","pid":%d,"comm":"%s"}\n' "$1" "$2" "$3"; }
sysinfo() { printf '{"type":"sysinfo","ts":"%s","v":1,"host_id":"h","user":null,"cpus":%d}\n' "$1" "$2"; }
# agent TS VERSION INPUT_SOURCE (the fields record_agent() writes that matter here)
agent() { printf '{"type":"agent","ts":"%s","v":1,"host_id":"h","user":null,"event":"interval","version":"%s","sources":{"input":"%s","input_detail":"","proc":"netlink","proc_detail":""}}\n' "$1" "$2" "$3"; }
apps() { # TS USER NAME=SECONDS...
	local ts=$1 u=$2 a=() kv
	shift 2
	for kv in "$@"; do a+=("{\"app\":\"${kv%%=*}\",\"focus_s\":${kv#*=}}"); done
	printf '{"type":"app_usage","ts":"%s","v":1,"host_id":"h","user":"%s","apps":[%s]}\n' \
		"$ts" "$u" "$(IFS=,; echo "${a[*]}")"
}
jrok() { jq -e "$1" "$T/resp" >/dev/null 2>&1; }
# q TOKEN PATH: GET
q() { api "$1" GET "$2"; }

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UC=$(srv_user carol@example.com carol carol "$TA")
UM=$(srv_user mona@example.com mona mona "$TA")
UD=$(srv_user dave@example.com dave dave "$TB")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UC" -a -n "$UM" -a -n "$UD"
check "mona manages team A" srv_grant "$UM" "$TA" manager
# a second business with its own admin
B2=$(srv_node business Globex root)
D2N=$(srv_node domain Ops "$B2")
P2=$(srv_node project Infra "$D2N")
T2=$(srv_node team Z "$P2")
UX=$(srv_user xena@example.com xena xena "$T2")
check "xena administers business 2" srv_grant "$UX" "$B2" admin
srv_enroll "$TA" "$HOST1"
D1=$DEV K1=$TOK
srv_enroll "$TB" "$HOST2"
D2=$DEV K2=$TOK
check "two devices" test -n "$D1" -a -n "$D2" -a "$D1" != "$D2"
TKA=$(login alice@example.com password-alice)
TKC=$(login carol@example.com password-carol)
TKM=$(login mona@example.com password-mona)
TKX=$(login xena@example.com password-xena)
check "everyone signs in" test -n "$TKA" -a -n "$TKC" -a -n "$TKM" -a -n "$TKX"

# --- activity: hour boundaries, day boundaries, step ---
{
	act "${DAY}T10:59:00.000Z" 1 alice
	act "${DAY}T11:00:00.000Z" 10 alice
	act "${DAY}T11:30:00.000Z" 100 alice
	act "${DAY}T12:10:00.000Z" 1000 alice
	act "${DAY}T13:59:59.999Z" 10000 alice
	act "${DAY}T14:00:00.000Z" 100000 alice
	act "${DAY}T23:30:00.000Z" 3 alice
	act "${NEXT}T00:30:00.000Z" 4 alice
	act "${DAY}T11:15:00.000Z" 999 carol
} >"$T/act1.ndjson"
# split over two batches: the rollups add up across batches
head -n 4 "$T/act1.ndjson" >"$T/a.ndjson"
tail -n +5 "$T/act1.ndjson" >"$T/b.ndjson"
ingest "$K1" act-a "$T/a.ndjson"
check_eq "activity batch 1" "$ST:$(jr .accepted)" 200:4
ingest "$K1" act-b "$T/b.ndjson"
check_eq "activity batch 2" "$ST:$(jr .accepted)" 200:5
ingest "$K1" act-b "$T/b.ndjson"
check_st "batch 2 again (a retry)" 200

R="from=${DAY}T10:00:00Z&to=${DAY}T14:00:00Z"
q "$A" "/api/v1/users/$UA/activity?$R"
check_st "activity" 200
check_eq "hourly keys: 10:59 in hour 10, 11:00 in hour 11, 13:59:59.999 in hour 13, 14:00 out" \
	"$(jr '[.series[].keys] | join(",")')" "1,110,1000,10000"
check_eq "hourly records" "$(jr '[.series[].records] | join(",")')" "1,2,1,1"
check_eq "bucket starts" "$(jr '[.series[].start] | join(",")')" \
	"${DAY}T10:00:00.000Z,${DAY}T11:00:00.000Z,${DAY}T12:00:00.000Z,${DAY}T13:00:00.000Z"
check_eq "totals are the sum of what was sent" \
	"$(jr '.totals | [.keys, .clicks, .moves, .distance, .scrolls, .active_s, .interval_s, .records] | join(",")')" \
	"11111,10,15,200,5,150,300,5"
check_eq "the answer names user, step and range" "$(jr '[.user_id, .step, .from, .to] | join(",")')" \
	"$UA,3600,${DAY}T10:00:00.000Z,${DAY}T14:00:00.000Z"
q "$A" "/api/v1/users/$UA/activity?$R&step=7200"
check_eq "step 7200 adds two hours a point" "$(jr '[.series[].keys] | join(",")')" "111,11000"
check_eq "step 7200 records" "$(jr '[.series[].records] | join(",")')" "3,2"
check_eq "step 7200: same totals" "$(jr .totals.keys)" 11111
q "$A" "/api/v1/users/$UA/activity?from=${DAY}T10:30:00Z&to=${DAY}T14:00:00.001Z&step=7200"
check_eq "from rounds down to its hour; the hour starting before to counts" \
	"$(jr '[.series[] | "\(.start[11:16])=\(.keys)"] | join(",")')" "10:00=111,12:00=11000,14:00=100000"
q "$A" "/api/v1/users/$UA/activity?from=${DAY}T23:00:00Z&to=${NEXT}T01:00:00Z&step=7200"
check_eq "a point across midnight reads both days" "$(jr '[.series[].keys] | join(",")')" "7"
q "$A" "/api/v1/users/$UA/activity?from=${DAY}T00:00:00Z&to=${NEXT}T00:00:00Z&step=86400"
check_eq "one point a day" "$(jr '[(.series | length), .series[0].keys] | join(",")')" "1,111114"
q "$A" "/api/v1/users/$UC/activity?$R"
check_eq "carol's login maps to carol" "$(jr .totals.keys)" 999
q "$A" "/api/v1/users/$UD/activity?$R"
check_eq "no activity: zeros, every point present" "$(jr '[(.series | length), .totals.records] | join(",")')" "4,0"
q "$A" "/api/v1/users/$UA/activity"
check_st "default range" 200
f=$(date -d "$(jr .from)" +%s)
t=$(date -d "$(jr .to)" +%s)
check_eq "default range is the last 24 h" "$((t - f))" 86400
check "default range ends now" test $((t - $(date +%s))) -le 2 -a $(($(date +%s) - t)) -le 5

q "$A" "/api/v1/users/$UA/activity?$R&step=5400"
check_st "step not a multiple of 3600" 400
q "$A" "/api/v1/users/$UA/activity?$R&step=60"
check_st "step under an hour" 400
q "$A" "/api/v1/users/$UA/activity?$R&step=abc"
check_st "step not a number" 400
q "$A" "/api/v1/users/$UA/activity?from=${DAY}T14:00:00Z&to=${DAY}T10:00:00Z"
check_st "from after to" 400
q "$A" "/api/v1/users/$UA/activity?from=2020-01-01T00:00:00Z&to=2021-02-05T00:00:01Z&step=86400"
check_st "range over 400 days" 400
q "$A" "/api/v1/users/$UA/activity?from=2020-01-01T00:00:00Z&to=2021-02-04T00:00:00Z&step=86400"
check_eq "range of exactly 400 days" "$ST:$(jr '.series | length')" 200:400
q "$A" "/api/v1/users/$UA/activity?from=2020-01-01T00:00:00Z&to=2020-03-01T00:00:00Z"
check_st "over 1000 points" 400
q "$A" "/api/v1/users/$UA/activity?from=yesterday"
check_st "from not a time" 400
q "$A" "/api/v1/users/u_0000000000000000/activity"
check_st "unknown user" 404
q "$A" "/api/v1/users/nonsense/activity"
check_st "malformed user id" 404
q "" "/api/v1/users/$UA/activity"
check_st "no token" 401

# --- activity scoping ---
q "$TKA" "/api/v1/users/$UA/activity?$R"
check_eq "an employee reads their own activity" "$ST:$(jr .totals.keys)" 200:11111
q "$TKA" "/api/v1/users/$UC/activity?$R"
check_st "an employee cannot read a colleague's" 403
q "$TKM" "/api/v1/users/$UC/activity?$R"
check_eq "the manager of team A reads carol" "$ST:$(jr .totals.keys)" 200:999
q "$TKM" "/api/v1/users/$UD/activity?$R"
check_st "the manager of team A cannot read a user of team B" 403
q "$TKX" "/api/v1/users/$UA/activity?$R"
check_st "another business's admin cannot read alice" 403

# --- top apps ---
{
	apps "${DAY}T10:05:00.000Z" alice code=500 firefox=300 term=100
	apps "${DAY}T11:05:00.000Z" alice firefox=250.25
	apps "${DAY}T11:06:00.000Z" carol aaa=5 bbb=5
} >"$T/apps1.ndjson"
ingest "$K1" apps-1 "$T/apps1.ndjson"
check_eq "app usage (team A)" "$ST:$(jr .accepted)" 200:3
{ apps "${DAY}T10:10:00.000Z" dave slack=1000 code=100; } >"$T/apps2.ndjson"
ingest "$K2" apps-2 "$T/apps2.ndjson"
check_eq "app usage (team B)" "$ST:$(jr .accepted)" 200:1
top() { jr '[.apps[] | "\(.app)=\(.focus_s)"] | join(",")'; }
q "$A" "/api/v1/apps/top?user_id=$UA&$R"
check_eq "alice's apps, most used first" "$(top)" "firefox=550.25,code=500,term=100"
q "$A" "/api/v1/apps/top?user_id=$UA&$R&limit=2"
check_eq "limit" "$(top)" "firefox=550.25,code=500"
q "$A" "/api/v1/apps/top?user_id=$UA&from=${DAY}T10:00:00Z&to=${DAY}T11:00:00Z"
check_eq "only the hours in range" "$(top)" "code=500,firefox=300,term=100"
q "$A" "/api/v1/apps/top?user_id=$UC&$R"
check_eq "ties by name" "$(top)" "aaa=5,bbb=5"
q "$A" "/api/v1/apps/top?node_id=$TA&$R"
check_eq "team A: every device of the team" "$(top)" "firefox=550.25,code=500,term=100,aaa=5,bbb=5"
q "$A" "/api/v1/apps/top?node_id=$PRJ&$R"
check_eq "a project: its two teams summed" "$(top)" "slack=1000,code=600,firefox=550.25,term=100,aaa=5,bbb=5"
q "$A" "/api/v1/apps/top?node_id=$B&$R&limit=1"
check_eq "the business, limit 1" "$(top)" "slack=1000"
q "$A" "/api/v1/apps/top?node_id=root&$R&limit=3"
check_eq "the whole tree" "$(top)" "slack=1000,code=600,firefox=550.25"
q "$A" "/api/v1/apps/top?node_id=$B2&$R"
check_eq "a business without usage" "$ST:$(jr '.apps | length')" 200:0
q "$A" "/api/v1/apps/top?user_id=$UA&node_id=$TA"
check_st "both user_id and node_id" 400
q "$A" "/api/v1/apps/top"
check_st "neither user_id nor node_id" 400
q "$A" "/api/v1/apps/top?user_id=$UA&limit=0"
check_st "limit 0" 400
q "$A" "/api/v1/apps/top?user_id=$UA&limit=101"
check_st "limit 101" 400
q "$A" "/api/v1/apps/top?node_id=n_0000000000000000"
check_st "unknown node" 404
q "$TKA" "/api/v1/apps/top?user_id=$UA&$R"
check_eq "an employee reads their own apps" "$ST:$(top)" "200:firefox=550.25,code=500,term=100"
q "$TKA" "/api/v1/apps/top?user_id=$UC&$R"
check_st "an employee cannot read a colleague's apps" 403
q "$TKA" "/api/v1/apps/top?node_id=$TA&$R"
check_st "an employee cannot read the team's apps" 403
q "$TKM" "/api/v1/apps/top?node_id=$TA&$R"
check_st "the manager reads the team's apps" 200
q "$TKM" "/api/v1/apps/top?node_id=$PRJ&$R"
check_st "the manager cannot read the project's apps" 403
q "$TKM" "/api/v1/apps/top?node_id=$TB&$R"
check_st "the manager cannot read team B's apps" 403

# --- sysinfo ---
{
	sysinfo "${DAY}T09:00:00.000Z" 2
	sysinfo "${DAY}T12:00:00.000Z" 4
	sysinfo "${DAY}T15:00:00.000Z" 8
} >"$T/si.ndjson"
ingest "$K1" si-1 "$T/si.ndjson"
q "$A" "/api/v1/devices/$D1/sysinfo?from=${DAY}T10:00:00Z&to=${DAY}T15:00:00Z"
check_st "sysinfo" 200
check_eq "latest is the newest record" "$(jr .latest.cpus)" 8
check_eq "history: [from, to)" "$(jr '[.history[].cpus] | join(",")')" "4"
check_eq "records name their device" "$(jr .latest.device_id)" "$D1"
q "$A" "/api/v1/devices/$D1/sysinfo?from=${DAY}T09:00:00Z&to=${DAY}T15:00:00.001Z"
check_eq "history in time order" "$(jr '[.history[].cpus] | join(",")')" "2,4,8"
q "$A" "/api/v1/devices/$D2/sysinfo?from=${DAY}T00:00:00Z&to=${NEXT}T00:00:00Z"
check_eq "no sysinfo: latest null, empty history" "$ST:$(jr '.latest'):$(jr '.history | length')" "200:null:0"
check_eq "no agent record: agent is there, null" "$(jr 'has("agent") and .agent == null')" true
q "$A" "/api/v1/devices/$D1/sysinfo"
check_eq "no agent record yet on device 1: agent is there, null" "$(jr 'has("agent") and .agent == null')" true
# the newest agent record by ts, not by arrival: a batch of two, then an
# older one that must not replace it
{
	agent "${DAY}T09:00:00.000Z" 0.9.0 bpf
	agent "${DAY}T11:00:00.000Z" 1.2.0 evdev
	agent "${DAY}T10:00:00.000Z" 1.1.0 bpf
} >"$T/ag.ndjson"
ingest "$K1" ag-1 "$T/ag.ndjson"
check_eq "agent records accepted" "$ST:$(jr .accepted)" 200:3
q "$A" "/api/v1/devices/$D1/sysinfo"
check_eq "agent: the batch's newest (by ts)" "$(jr '[.agent.version, .agent.sources.input, .agent.ts, .agent.device_id] | join(",")')" "1.2.0,evdev,${DAY}T11:00:00.000Z,$D1"
agent "${DAY}T10:30:00.000Z" 1.1.5 bpf >"$T/ag2.ndjson"
ingest "$K1" ag-2 "$T/ag2.ndjson"
q "$A" "/api/v1/devices/$D1/sysinfo"
check_eq "agent: an older record arriving later does not replace it" "$(jr .agent.version)" "1.2.0"
agent "${DAY}T12:00:00.000Z" 1.3.0 evdev >"$T/ag3.ndjson"
ingest "$K1" ag-3 "$T/ag3.ndjson"
q "$A" "/api/v1/devices/$D1/sysinfo"
check_eq "agent: a newer one does" "$(jr .agent.version)" "1.3.0"
check_eq "agent records stay out of the sysinfo history" "$(jr '[.history[] | select(.type != "sysinfo")] | length')" 0
q "$A" "/api/v1/devices/$D2/sysinfo"
check_eq "agent: per device (device 2 has none)" "$(jr 'has("agent") and .agent == null')" true
q "$TKC" "/api/v1/devices/$D1/sysinfo"
check_st "an employee cannot read a device they do not own" 403
api "$A" PUT "/api/v1/devices/$D1" "{\"owner_id\":\"$UC\"}"
check_st "carol owns device 1" 200
q "$TKC" "/api/v1/devices/$D1/sysinfo"
check_eq "the owner reads their device" "$ST:$(jr .latest.cpus)" 200:8
q "$TKM" "/api/v1/devices/$D1/sysinfo"
check_st "the manager reads a device of the team" 200
q "$TKM" "/api/v1/devices/$D2/sysinfo"
check_st "the manager cannot read a device of team B" 403
q "$A" "/api/v1/devices/d_0000000000000000/sysinfo"
check_st "unknown device" 404

# --- processes ---
{
	proc "${DAY}T10:00:00.000Z" 1 p-a
	proc "${DAY}T10:00:00.500Z" 2 p-b
	proc "${DAY}T10:30:00.000Z" 3 p-c
	proc "${DAY}T11:00:00.000Z" 4 p-d
	proc "${DAY}T23:59:59.999Z" 5 p-e
	proc "${NEXT}T00:00:00.000Z" 6 p-f
} >"$T/procs.ndjson"
# shuffled: the answer is in time order whatever the order sent
sort -r "$T/procs.ndjson" >"$T/procs-r.ndjson"
ingest "$K1" procs-1 "$T/procs-r.ndjson"
check_eq "process records" "$ST:$(jr .accepted)" 200:6
pq() { q "$A" "/api/v1/devices/$D1/processes?$1"; jr '[.processes[].comm] | join(",")'; }
check_eq "range [from, to), time order" "$(pq "from=${DAY}T10:00:00Z&to=${DAY}T11:00:00Z")" "p-a,p-b,p-c"
check_eq "not truncated" "$(jr .truncated)" false
check_eq "from inclusive to the millisecond" "$(pq "from=${DAY}T10:00:00.500Z&to=${DAY}T11:00:00.001Z")" "p-b,p-c,p-d"
check_eq "limit" "$(pq "from=${DAY}T10:00:00Z&to=${DAY}T11:00:00Z&limit=2")" "p-a,p-b"
check_eq "limit: truncated" "$(jr .truncated)" true
check_eq "across midnight" "$(pq "from=${DAY}T23:00:00Z&to=${NEXT}T01:00:00Z")" "p-e,p-f"
check_eq "Unix milliseconds work too" "$(pq "from=$(date -u -d "${DAY}T10:30:00Z" +%s)000&to=$(date -u -d "${DAY}T10:30:00Z" +%s)001")" "p-c"
check_eq "records keep their fields" "$(jr '.processes[0] | [.event, .pid, .host_id] | join(",")')" "exec,3,h"
q "$A" "/api/v1/devices/$D1/processes?limit=0"
check_st "limit 0" 400
q "$A" "/api/v1/devices/$D1/processes?limit=1001"
check_st "limit over LIST_MAX" 400
q "$A" "/api/v1/devices/$D1/processes?from=${DAY}T11:00:00Z&to=${DAY}T10:00:00Z"
check_st "from after to" 400
q "$TKA" "/api/v1/devices/$D1/processes"
check_st "an employee cannot read another's device processes" 403
q "$TKM" "/api/v1/devices/$D2/processes"
check_st "the manager cannot read team B's device processes" 403
q "$A" "/api/v1/devices/$D2/processes?from=${DAY}T00:00:00Z&to=${NEXT}T00:00:00Z"
check_eq "device 2 has none of device 1's records" "$ST:$(jr '.processes | length')" 200:0

# --- audit ---
api "$A" POST "/api/v1/nodes/$T2/enrollment-secrets" '{}'
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{}'
q "$A" "/api/v1/audit?limit=1000"
check_st "audit" 200
check "admin on root sees team A's entries" jrok "[.entries[] | select(.node_id == \"$TA\")] | length > 0"
check "admin on root sees business 2's entries" jrok "[.entries[] | select(.node_id == \"$T2\")] | length > 0"
check "entries in time order" jrok '[.entries[].ts] == ([.entries[].ts] | sort)'
check "no secrets in audit entries" not grep -q 'ale_' "$T/resp"
n_all=$(jr '.entries | length')
q "$A" "/api/v1/audit?limit=2"
check_eq "limit" "$(jr '.entries | length'):$(jr .truncated)" 2:true
q "$TKX" "/api/v1/audit?limit=1000"
check_st "business 2's admin reads the audit log" 200
check "... the entries of business 2" jrok "[.entries[] | select(.node_id == \"$T2\" and .action == \"enroll.secret_created\")] | length == 1"
check "... and none of business 1" jrok "[.entries[] | select(.node_id == \"$TA\" or .node_id == \"$B\" or .node_id == \"root\")] | length == 0"
check "... fewer than the root admin" test "$(jr '.entries | length')" -lt "$n_all"
q "$TKM" /api/v1/audit
check_st "a manager cannot read the audit log" 403
q "$TKA" /api/v1/audit
check_st "an employee cannot read the audit log" 403
q "$A" "/api/v1/audit?from=$(($(date +%s) + 3600))000&to=$(($(date +%s) + 7200))000"
check_eq "nothing in the future" "$ST:$(jr '.entries | length')" 200:0
q "$A" "/api/v1/audit?limit=abc"
check_st "limit not a number" 400

srv_stop
check "server stops cleanly" test $? -eq 0
finish
