#!/usr/bin/env bash
# actlog-server: retention.days enforced against the real binary and s3rver
# (a local S3). Records, rollups and screenshots spread over 40 days; team A
# keeps 30 days, team B the default 365. POST /api/v1/admin/retention/run
# deletes what is older than team A's cutoff (exact counts; raw records,
# activity, top apps, the screenshot rows and their objects in the bucket)
# and keeps the rest and all of team B; it is audited per team, refused to
# non-admins, a second run deletes nothing, a record ingested later for an
# old day goes at the next run, and a server started with
# --retention-interval 1 sweeps on its own and stops promptly on SIGTERM.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need gzip
need node
need /usr/bin/python3

AKID=AKIDRETENTION
SECRET=retention-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$SECRET" shots1
s3_up

# days: D40 and D32 are before team A's 30-day cutoff, D29 and D2 after it
# (far enough from the cutoff that a UTC midnight during the test changes
# nothing)
d() { date -u -d "$1 days ago" +%Y-%m-%d; }
D40=$(d 40) D35=$(d 35) D32=$(d 32) D29=$(d 29) D2=$(d 2)
HOST=0123456789abcdef0123456789abcdef

ingest() { # TOKEN BATCH_ID FILE
	gzip -c "$3" >"$T/body.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 60 \
		-H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: gzip' \
		-H "Authorization: Bearer $1" -H "X-Batch-Id: $2" \
		--data-binary @"$T/body.gz" "$SRV_URL/api/v1/ingest")
}
act() { # START END KEYS USER
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"%s","user":"%s","start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":2,"moves":3,"distance":40,"scrolls":1,"active_s":30,"idle":false}\n' \
		"$2" "$HOST" "$4" "$1" "$2" "$3"
}
proc() { # TS PID USER
	printf '{"type":"process","ts":"%s","v":1,"host_id":"%s","user":"%s","event":"exec","pid":%d,"ppid":1,"uid":1000,"comm":"vim","exe":"/usr/bin/vim"}\n' \
		"$1" "$HOST" "$3" "$2"
}
apps() { # TS USER
	printf '{"type":"app_usage","ts":"%s","v":1,"host_id":"%s","user":"%s","apps":[{"app":"firefox","focus_s":60}]}\n' \
		"$1" "$HOST" "$2"
}
# a full day for USER: 2 activity, 1 process, 1 app_usage record (4 raw
# records; rollups: act|10, act|11, app|10|firefox and the team's app|10|firefox)
fullday() { # DAY USER
	act "$1T10:00:00.000Z" "$1T10:01:00.000Z" 5 "$2"
	act "$1T11:00:00.000Z" "$1T11:01:00.000Z" 7 "$2"
	proc "$1T10:30:00.000Z" 100 "$2"
	apps "$1T10:00:00.000Z" "$2"
}
# a device without owner and an unknown login: 1 activity, 1 process (the
# rollup goes to "dev|<device>")
devday() { # DAY
	act "$1T12:00:00.000Z" "$1T12:01:00.000Z" 3 nobody
	proc "$1T12:30:00.000Z" 200 nobody
}
jrok() { jq -e "$1" "$T/resp" >/dev/null 2>&1; }
run() { api "$1" POST /api/v1/admin/retention/run; }
counts() { jr '[.records, .rollups, .screenshots, .s3_errors, .errors] | join(",")'; }
procs() { # DEVICE DAY -> number of process records that day
	api "$A" GET "/api/v1/devices/$1/processes?from=$2T00:00:00Z&to=$2T23:59:59Z&limit=1000"
	jr '.processes | length'
}
activity() { # USER DAY -> "records,keys"
	api "$A" GET "/api/v1/users/$1/activity?from=$2T00:00:00Z&to=$2T23:59:59Z"
	jr '.totals | [.records // 0, .keys // 0] | join(",")'
}
topapps() { # user_id=U|node_id=N DAY -> "app=focus,..."
	api "$A" GET "/api/v1/apps/top?$1&from=$2T00:00:00Z&to=$2T23:59:59Z"
	jr '[.apps[] | "\(.app)=\(.focus_s)"] | join(",")'
}
shots() { # user_id=U|device_id=D DAY -> number listed
	api "$A" GET "/api/v1/screenshots?$1&from=$2T00:00:00Z&to=$2T23:59:59Z"
	jr '.screenshots | length'
}
in_bucket() { s3_has shots1 "$1"; }

srv_init
srv_start --retention-interval 0 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UM=$(srv_user mona@example.com mona mona "$TA")
UD=$(srv_user dave@example.com dave dave "$TB")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UM" -a -n "$UD"
srv_grant "$UM" "$TA" manager
check_st "mona manages team A" 201
srv_grant "$UM" "$B" admin
check_st "mona is admin of the business (not of root)" 201
TKM=$(login mona@example.com password-mona)
TKU=$(login alice@example.com password-alice)

srv_enroll "$TA" 11111111111111111111111111111111
DA=$DEV TOKA=$TOK
api "$A" PUT "/api/v1/devices/$DA" "{\"owner_id\":\"$UA\"}"
check_st "alice owns device A" 200
srv_enroll "$TA" 33333333333333333333333333333333
DC=$DEV TOKC=$TOK
srv_enroll "$TB" 22222222222222222222222222222222
DB=$DEV TOKB=$TOK

# --- data over 40 days ---
for day in "$D40" "$D32" "$D29" "$D2"; do fullday "$day" alice; done >"$T/a.ndjson"
ingest "$TOKA" a-1 "$T/a.ndjson"
check_eq "device A: 16 records accepted" "$ST:$(jr .accepted)" 200:16
for day in "$D40" "$D2"; do devday "$day"; done >"$T/c.ndjson"
ingest "$TOKC" c-1 "$T/c.ndjson"
check_eq "device C (no owner): 4 records accepted" "$ST:$(jr .accepted)" 200:4
for day in "$D40" "$D2"; do fullday "$day" dave; done >"$T/b.ndjson"
ingest "$TOKB" b-1 "$T/b.ndjson"
check_eq "device B (team B): 8 records accepted" "$ST:$(jr .accepted)" 200:8
check_eq "before: alice's activity on D40" "$(activity "$UA" "$D40")" 2,12
check_eq "before: device C's processes on D40" "$(procs "$DC" "$D40")" 1

# --- screenshots: one old of device A (alice's), one old of device C
# (no user), one recent of device A ---
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"screenshots.enabled\":true,\"s3.bucket\":\"shots1\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "team A: screenshots to s3rver" 200
/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+os.urandom(5000))' >"$T/shot.png"
SHA=$(sha256sum "$T/shot.png" | cut -d' ' -f1)
SIZE=$(stat -c %s "$T/shot.png")
shoot() { # TOKEN TAKEN_AT: sets KEY and SHOT
	KEY= SHOT=
	api "$1" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$SIZE,\"content_type\":\"image/png\",\"taken_at\":\"$2\"}"
	[ "$ST" = 200 ] || return 1
	KEY=$(jr .key)
	local url
	url=$(jr .url)
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: image/png' --data-binary @"$T/shot.png" "$url")" = 200 ] || return 1
	api "$1" POST /api/v1/screenshots "{\"key\":\"$KEY\",\"size\":$SIZE,\"sha256\":\"$SHA\",\"width\":10,\"height\":10,\"taken_at\":\"$2\"}"
	[ "$ST" = 201 ] && SHOT=$(jr .id)
}
check "an old shot of device A" shoot "$TOKA" "${D40}T09:00:00.000Z"
KOLD=$KEY SOLD=$SHOT
check "an old shot of device C" shoot "$TOKC" "${D35}T09:00:00.000Z"
KOLDC=$KEY
check "a recent shot of device A" shoot "$TOKA" "${D2}T09:00:00.000Z"
KNEW=$KEY SNEW=$SHOT
check "the three objects are in the bucket" eval 'in_bucket "$KOLD" && in_bucket "$KOLDC" && in_bucket "$KNEW"'
check_eq "alice's old shot is listed" "$(shots "user_id=$UA" "$D40")" 1
check_eq "device C's old shot is listed" "$(shots "device_id=$DC" "$D35")" 1

# --- who may run it ---
run ""
check_st "no token" 401
run "$TKU"
check_st "an employee" 403
run "$TKM"
check_st "a manager and admin of a business, not of root" 403
run "$TOKA"
check_st "a device token" 401
check "nothing deleted by the refusals" test "$(procs "$DA" "$D40")" = 1

api "$A" PUT "/api/v1/nodes/$TA/config" '{"values":{"retention.days":30}}'
check_st "team A keeps 30 days" 200

# --- the sweep ---
run "$A"
check_st "admin runs the sweep" 200
cp "$T/resp" "$T/run1.json"
# team A, days D40 and D32: device A 2 x 4 records, device C 2 (D40 only);
# rollups: alice 2 x 3, team A 2 x 1, device C 1; screenshots: 2
check_eq "counts: records, rollups, screenshots, s3 errors, errors" "$(counts)" 10,9,2,0,0
check_eq "two teams visited, one swept" "$(jr '[.teams, .teams_swept] | join(",")')" 2,1

check_eq "device A: no process record on D40" "$(procs "$DA" "$D40")" 0
check_eq "device A: none on D32" "$(procs "$DA" "$D32")" 0
check_eq "device A: D29 kept" "$(procs "$DA" "$D29")" 1
check_eq "device A: D2 kept" "$(procs "$DA" "$D2")" 1
check_eq "device C: D40 gone" "$(procs "$DC" "$D40")" 0
check_eq "device C: D2 kept" "$(procs "$DC" "$D2")" 1
check_eq "alice's activity on D40 gone" "$(activity "$UA" "$D40")" 0,0
check_eq "alice's activity on D32 gone" "$(activity "$UA" "$D32")" 0,0
check_eq "alice's activity on D29 intact" "$(activity "$UA" "$D29")" 2,12
check_eq "alice's activity on D2 intact" "$(activity "$UA" "$D2")" 2,12
check_eq "alice's top apps on D40 gone" "$(topapps "user_id=$UA" "$D40")" ""
check_eq "alice's top apps on D29 intact" "$(topapps "user_id=$UA" "$D29")" firefox=60
check_eq "team A's top apps on D32 gone" "$(topapps "node_id=$TA" "$D32")" ""
check_eq "team A's top apps on D2 intact" "$(topapps "node_id=$TA" "$D2")" firefox=60
check_eq "team B (365 days): dave's activity on D40 kept" "$(activity "$UD" "$D40")" 2,12
check_eq "team B: device B's process on D40 kept" "$(procs "$DB" "$D40")" 1
check_eq "team B: top apps on D40 kept" "$(topapps "node_id=$TB" "$D40")" firefox=60

check_eq "alice's old shot no longer listed" "$(shots "user_id=$UA" "$D40")" 0
check_eq "device C's old shot no longer listed" "$(shots "device_id=$DC" "$D35")" 0
check_eq "alice's recent shot still listed" "$(shots "user_id=$UA" "$D2")" 1
check "the old objects are gone from the bucket" not eval 'in_bucket "$KOLD" || in_bucket "$KOLDC"'
check "the recent object is still there" in_bucket "$KNEW"
api "$A" GET "/api/v1/screenshots/$SOLD/image"
check_st "the old shot's image" 404
ST=$(curl -s -o "$T/img" -w '%{http_code}' -H "Authorization: Bearer $A" "$SRV_URL/api/v1/screenshots/$SNEW/image")
check_eq "the recent shot's image byte-exact" "$ST:$(cmp -s "$T/img" "$T/shot.png" && echo same)" 200:same

# --- audit ---
api "$A" GET "/api/v1/audit?from=$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%SZ)&limit=1000"
check_st "audit log" 200
cp "$T/resp" "$T/audit1.json"
check_eq "one retention.sweep entry, for team A" \
	"$(jr "[.entries[] | select(.action == \"retention.sweep\") | .node_id] | join(\",\")")" "$TA"
check_eq "with the counts and the cutoff" \
	"$(jr '.entries[] | select(.action == "retention.sweep") | .detail | [.retention_days, .cutoff_day, .records, .rollups, .screenshots, .s3_errors] | join(",")')" \
	"30,$(d 30),10,9,2,0"
check_eq "the run itself, by the admin" \
	"$(jr '[.entries[] | select(.action == "retention.run") | .actor_email + ":" + .result] | join(",")')" "$ADMIN_EMAIL:ok"
check "the sweep is logged with totals" grep -q 'event=retention_sweep result=ok teams=2 swept=1 records=10 rollups=9 screenshots=2' "$SRV_LOG"

# --- again: nothing more ---
run "$A"
check_st "second run" 200
check_eq "deletes nothing" "$(counts):$(jr .teams_swept)" 0,0,0,0,0:0
check_eq "D29 still intact" "$(procs "$DA" "$D29"):$(activity "$UA" "$D29")" 1:2,12
api "$A" GET "/api/v1/audit?from=$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%SZ)&limit=1000"
check_eq "and writes no second retention.sweep entry" \
	"$(jr '[.entries[] | select(.action == "retention.sweep")] | length')" 1

# --- S3 down: the shot is kept, counted, and deleted once S3 is back ---
check "another old shot of device A" shoot "$TOKA" "${D35}T10:00:00.000Z"
KOLD2=$KEY
s3_stop
run "$A"
check_st "a run with S3 down" 200
check_eq "keeps the shot and counts the failure" "$(counts)" 0,0,0,1,0
check_eq "the shot is still listed" "$(shots "user_id=$UA" "$D35")" 1
check "its object is still in the bucket" in_bucket "$KOLD2"
api "$A" GET "/api/v1/audit?from=$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%SZ)&limit=1000"
check_eq "audited as partial" \
	"$(jr '[.entries[] | select(.action == "retention.sweep") | .result + ":" + (.detail.s3_errors | tostring)] | join(",")')" "ok:0,partial:1"
s3_up
run "$A"
check_eq "S3 back: the next run deletes it" "$(counts)" 0,0,1,0,0
check_eq "no longer listed" "$(shots "user_id=$UA" "$D35")" 0
check "its object is gone" not in_bucket "$KOLD2"

# --- a record arriving later for an old day goes at the next sweep ---
proc "${D40}T13:00:00.000Z" 300 alice >"$T/late.ndjson"
ingest "$TOKA" a-late "$T/late.ndjson"
check_eq "a late record for D40 is accepted" "$ST:$(jr .accepted)" 200:1
check_eq "and stored" "$(procs "$DA" "$D40")" 1
run "$A"
check_eq "the next sweep deletes it" "$(counts)" 1,0,0,0,0
check_eq "D40 empty again" "$(procs "$DA" "$D40")" 0
check "the server survived" kill -0 "$SRV_PID"
srv_stop
check_eq "server stopped cleanly" "$?" 0

# --- on its own: --retention-interval 1 ---
srv_start --retention-interval 1 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
proc "${D32}T13:00:00.000Z" 301 alice >"$T/late2.ndjson"
ingest "$TOKA" a-late2 "$T/late2.ndjson"
check_eq "another late record for D32" "$ST:$(jr .accepted)" 200:1
check "the background sweep deletes it" wait_for 60 grep -q 'event=retention_sweep result=ok .* records=1 ' "$SRV_LOG"
check_eq "D32 empty" "$(procs "$DA" "$D32")" 0
check_eq "D29 intact" "$(procs "$DA" "$D29"):$(activity "$UA" "$D29")" 1:2,12
sweeps() { grep -c 'event=retention_sweep' "$SRV_LOG"; }
check "it keeps sweeping" wait_for 30 eval 'test "$(sweeps)" -ge 3'
srv_stop
check_eq "SIGTERM: clean exit" "$?" 0

# --- SIGTERM while the thread waits an hour for the next sweep ---
srv_start --retention-interval 3600 || finish
check "the first sweep runs soon after start" wait_for 60 grep -q 'event=retention_sweep' "$SRV_LOG"
pid=$SRV_PID
kill -TERM "$pid"
gone() { ! kill -0 "$1" 2>/dev/null; }
check "SIGTERM ends it without waiting for the next sweep" wait_for 30 gone "$pid"
wait "$pid"
check_eq "with a clean exit" "$?" 0
SRV_PID=
check_eq "one sweep in that hour" "$(sweeps)" 1

# --- bad option ---
"$SRV_BIN" serve --data-dir "$SRV_DIR" --retention-interval -1 >"$T/bad.out" 2>&1
check_eq "--retention-interval -1 refused" "$?" 2
check "with a clear message" grep -q 'retention-interval must be' "$T/bad.out"
finish
