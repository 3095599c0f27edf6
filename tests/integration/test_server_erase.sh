#!/usr/bin/env bash
# actlog-server: moving a user to another team and erasing a user (GDPR),
# against the real binary, a real LMDB store and s3rver (a local S3).
# Move: user.write on the old and the new team (403 without it on the new
# one), the employee grant moves (a grant elsewhere stays), audited
# user.move {from, to}. Export: the ZIP (unzip -l) of alice by herself and
# of bob by his manager, 403 for another team's manager, none of the
# screenshots for a custom role without screenshot.read; user.json, the raw
# records, CSV totals equal to the JSON routes', the screenshots' and the
# picture's bytes as uploaded; audited user.export. Erase: alice and bob share a device; alice has
# raw records (over one step's cap), rollups, two screenshots in the bucket,
# a profile picture, a personal token; 403 for the manager of another team,
# 400 for a wrong confirmation, 409 for oneself; the first step answers
# done:false, alice can no longer sign in and her login no longer maps
# records to her; the next step ends it: her objects are gone from the
# bucket, no item of the store names her (mdb_dump of its tables), bob's
# records, rollups and screenshot are intact, and the audit entry
# user.erase holds her id and the counts, not her email.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need gzip
need node
need mdb_dump
need /usr/bin/python3

AKID=AKIDERASE
SECRET=erase-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$SECRET" shots1
s3_up

d() { date -u -d "$1 days ago" +%Y-%m-%d; }
D3=$(d 3) D2=$(d 2)
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
apps() { # TS USER
	printf '{"type":"app_usage","ts":"%s","v":1,"host_id":"%s","user":"%s","apps":[{"app":"firefox","focus_s":60}]}\n' \
		"$1" "$HOST" "$2"
}
activity() { # USER DAY -> "records,keys"
	api "$A" GET "/api/v1/users/$1/activity?from=$2T00:00:00Z&to=$2T23:59:59Z"
	jr '.totals | [.records // 0, .keys // 0] | join(",")'
}
# the items of a table of the store whose key or value holds WORD
in_table() { mdb_dump -p -s "$1" "$SRV_DIR" 2>/dev/null | grep -c -- "$2" || true; }

srv_init
srv_start --retention-interval 0 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UB=$(srv_user bob@example.com bob bob "$TA")
UM=$(srv_user mona@example.com mona mona "$TA")
UN=$(srv_user nina@example.com nina nina "$TB")
UC=$(srv_user carl@example.com carl carl "$TA")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UB" -a -n "$UM" -a -n "$UN" -a -n "$UC"
srv_grant "$UM" "$TA" manager
check_st "mona manages team A" 201
srv_grant "$UN" "$TB" manager
check_st "nina manages team B" 201
srv_grant "$UC" "$PRJ" employee
check_st "carl also holds employee on the project" 201
TKM=$(login mona@example.com password-mona)
TKN=$(login nina@example.com password-nina)
TKA=$(login alice@example.com password-alice)
check "signed in" test -n "$TKM" -a -n "$TKN" -a -n "$TKA"

# --- move: carl from team A to team B ---
api "$TKM" PATCH "/api/v1/users/$UC" "{\"team_id\":\"$TB\"}"
check_st "mona (no user.write on team B) cannot move carl there: 403" 403
api "$A" GET "/api/v1/users/$UC"
check_eq "carl still in team A" "$(jr .team_id)" "$TA"
api "$A" PATCH "/api/v1/users/$UC" "{\"team_id\":\"$PRJ\"}"
check_st "a move to a project (no team): 400" 400
api "$A" PATCH "/api/v1/users/$UC" "{\"team_id\":\"$TB\",\"login\":\"Bad Login\"}"
check_st "a move with a bad login: 400" 400
api "$A" GET "/api/v1/users/$UC"
check_eq "  and carl stays in team A" "$(jr .team_id)" "$TA"
# the first administrator belongs to no team: no move (409), not a 503
# "busy, retry" a client would repeat for ever
UADM=$(api "$A" GET /api/v1/me && jr .user.id)
api "$A" PATCH "/api/v1/users/$UADM" "{\"team_id\":\"$TA\"}"
check_eq "the first administrator (no team) cannot be moved: 409" "$ST:$(jr .error)" \
	"409:the user belongs to no team (an administrator at the root): there is nothing to move from"
api "$A" GET /api/v1/me
check_eq "  and stays without a team" "$(jr .user.team_id)" null
api "$A" PATCH "/api/v1/users/$UC" "{\"team_id\":\"$TB\",\"name\":\"Carl B\"}"
check_st "admin moves carl to team B (and renames him)" 200
check_eq "carl's team and name after" "$(jr '[.team_id, .name] | join(",")')" "$TB,Carl B"
api "$A" GET "/api/v1/grants?user_id=$UC"
check_eq "carl's grants: employee on team B and on the project (not on team A)" \
	"$(jr "[.grants[] | \"\(.node_id)=\(.role)\"] | sort | join(\",\")")" \
	"$(printf '%s\n' "$TB=employee" "$PRJ=employee" | sort | paste -sd,)"
api "$A" GET "/api/v1/users?node_id=$TB"
check "carl listed in team B" jq -e --arg u "$UC" '[.users[].id] | index($u) != null' "$T/resp"
api "$A" GET "/api/v1/users?node_id=$TA"
check "carl no longer listed in team A" jq -e --arg u "$UC" '[.users[].id] | index($u) == null' "$T/resp"
api "$TKN" GET "/api/v1/users/$UC"
check_st "nina (manager of team B) now reads carl" 200
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "user.move audited with from and to" \
	"$(jr "[.entries[] | select(.action==\"user.move\" and .target==\"$UC\") | \"\(.detail.from)>\(.detail.to)\"] | join(\",\")")" "$TA>$TB"

# --- data: device A of team A, owned by alice, used by alice and bob ---
srv_enroll "$TA" 11111111111111111111111111111111
DA=$DEV TOKA=$TOK
api "$A" PUT "/api/v1/devices/$DA" "{\"owner_id\":\"$UA\"}"
check_st "alice owns device A" 200
{
	for day in "$D3" "$D2"; do
		act "${day}T10:00:00.000Z" "${day}T10:01:00.000Z" 5 alice
		apps "${day}T10:00:00.000Z" alice
		act "${day}T11:00:00.000Z" "${day}T11:01:00.000Z" 7 bob
		apps "${day}T11:00:00.000Z" bob
	done
	# 6000 process records of alice: more than one erase step deletes
	/usr/bin/python3 -c "
import sys
for i in range(6000):
    sys.stdout.write('{\"type\":\"process\",\"ts\":\"${D2}T09:%02d:%02d.%03dZ\",\"v\":1,\"host_id\":\"$HOST\",\"user\":\"alice\",\"event\":\"exec\",\"pid\":%d,\"ppid\":1,\"uid\":1000,\"comm\":\"vim\",\"exe\":\"/usr/bin/vim\"}\n' % (i // 600, (i // 10) % 60, i % 10 * 100, 100 + i))
"
	printf '{"type":"process","ts":"%sT12:00:00.000Z","v":1,"host_id":"%s","user":"bob","event":"exec","pid":7,"ppid":1,"uid":1001,"comm":"emacs","exe":"/usr/bin/emacs"}\n' "$D2" "$HOST"
} >"$T/a.ndjson"
ingest "$TOKA" a-1 "$T/a.ndjson"
check_eq "device A: 6009 records accepted" "$ST:$(jr .accepted)" 200:6009
check_eq "alice's activity on D2 before" "$(activity "$UA" "$D2")" 1,5
check_eq "bob's activity on D2 before" "$(activity "$UB" "$D2")" 1,7
BOB_ROLLUPS=$(in_table rollups "user|$UB|")
check "alice's and bob's rollups in the store" test "$(in_table rollups "user|$UA|")" -gt 0 -a "$BOB_ROLLUPS" -gt 0

# screenshots: two of alice (the owner's), one of bob
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"screenshots.enabled\":true,\"s3.bucket\":\"shots1\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "team A: screenshots and pictures to s3rver" 200
/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+os.urandom(5000))' >"$T/shot.png"
SHA=$(sha256sum "$T/shot.png" | cut -d' ' -f1)
SIZE=$(stat -c %s "$T/shot.png")
shoot() { # TOKEN TAKEN_AT USER: sets KEY and SHOT
	KEY= SHOT=
	api "$1" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$SIZE,\"content_type\":\"image/png\",\"taken_at\":\"$2\",\"user\":\"$3\"}"
	[ "$ST" = 200 ] || return 1
	KEY=$(jr .key)
	local url
	url=$(jr .url)
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: image/png' --data-binary @"$T/shot.png" "$url")" = 200 ] || return 1
	api "$1" POST /api/v1/screenshots "{\"key\":\"$KEY\",\"size\":$SIZE,\"sha256\":\"$SHA\",\"width\":10,\"height\":10,\"taken_at\":\"$2\"}"
	[ "$ST" = 201 ] && SHOT=$(jr .id)
}
shoot "$TOKA" "${D2}T10:00:00Z" alice
KA1=$KEY SA1=$SHOT
shoot "$TOKA" "${D3}T10:00:00Z" alice
KA2=$KEY SA2=$SHOT
shoot "$TOKA" "${D2}T11:00:00Z" bob
KB1=$KEY SB1=$SHOT
check "three screenshots registered" test -n "$SA1" -a -n "$SA2" -a -n "$SB1"
api "$A" GET "/api/v1/screenshots/$SA1"
api "$A" GET "/api/v1/screenshots?user_id=$UA&from=${D3}T00:00:00Z&to=${D2}T23:59:59Z"
check_eq "alice's screenshots listed" "$(jr '.screenshots | length')" 2
api "$A" GET "/api/v1/screenshots?user_id=$UB&from=${D3}T00:00:00Z&to=${D2}T23:59:59Z"
check_eq "bob's screenshot listed" "$(jr '.screenshots | length')" 1
check "the three objects in the bucket" test "$(s3_count shots1)" -ge 3

# alice's picture and a personal token
/usr/bin/python3 - "$T/a.png" <<'PY'
import os, struct, sys, zlib
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
raw = b"".join(b"\0" + os.urandom(64 * 3) for _ in range(48))
body = chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 0))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b""))
PY
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TKA" \
	-H 'Content-Type: image/png' --data-binary @"$T/a.png" "$SRV_URL/api/v1/users/$UA/avatar")
check_st "alice sets her picture" 200
NOBJ_BEFORE=$(s3_count shots1)
api "$TKA" POST /api/v1/me/tokens '{"name":"script","scopes":["self.read"]}'
check_st "alice makes a personal token" 201
PTOK=$(jr .token)

# --- export (before the erasure) ---
export() { # TOKEN USER -> ST, the ZIP in $T/x.zip
	rm -f "$T/x.zip"
	ST=$(curl -s -o "$T/x.zip" -w '%{http_code}' --max-time 120 -H "Authorization: Bearer $1" \
		"$SRV_URL/api/v1/users/$2/export.zip")
}
export "$TKN" "$UA"
check_eq "the manager of team B cannot export alice: 403" "$ST" 403
export "$TKA" "$UB"
check_eq "alice cannot export bob: 403" "$ST" 403
export "$TKA" "$UA"
check_eq "alice exports her own data" "$ST" 200
unzip -l "$T/x.zip" >"$T/x.list" 2>&1
names() { awk 'NR > 3 && NF == 4 { print $4 }' "$T/x.list" | sort | paste -sd' '; }
check_eq "unzip -l: the files of the export" "$(names)" \
	"$(printf '%s\n' activity.csv apps.csv avatar.png records/activity.ndjson records/app_usage.ndjson \
		records/process.ndjson screenshots.json "screenshots/$SA1.png" "screenshots/$SA2.png" user.json | sort | paste -sd' ')"
rm -rf "$T/x" && mkdir "$T/x" && (cd "$T/x" && unzip -q "$T/x.zip")
check_eq "user.json: her profile, grant and the device she owns" \
	"$(jq -r '[.user.email, (.grants | map(.role) | join("+")), (.devices | map(.id) | join("+"))] | join(",")' "$T/x/user.json")" \
	"alice@example.com,employee,$DA"
check "user.json holds no password hash" not grep -q '"pw"' "$T/x/user.json"
check_eq "records/process.ndjson: her 6000 process records, all hers" \
	"$(jq -r --arg u "$UA" 'select(.user_id == $u) | .pid' "$T/x/records/process.ndjson" | wc -l):$(wc -l <"$T/x/records/process.ndjson")" 6000:6000
check_eq "records/activity.ndjson: her 2 activity records" "$(wc -l <"$T/x/records/activity.ndjson")" 2
api "$A" GET "/api/v1/users/$UA/activity?from=${D3}T00:00:00Z&to=${D2}T23:59:59Z"
WANT=$(jr '.totals | [.keys, .records] | join(",")')
check_eq "activity.csv: the totals of keys and records equal the activity route's" \
	"$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { k += $c["keys"]; r += $c["records"] } END { print k "," r }' <(tr -d '\r' <"$T/x/activity.csv"))" "$WANT"
check "  (which counted something)" test "$WANT" = "10,2"
api "$A" GET "/api/v1/apps/top?user_id=$UA&from=${D3}T00:00:00Z&to=${D2}T23:59:59Z"
check_eq "apps.csv: the focus time equals apps/top's" \
	"$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["app"] "=" $c["focus_s"] + 0 }' <(tr -d '\r' <"$T/x/apps.csv"))" \
	"$(jr '[.apps[] | "\(.app)=\(.focus_s)"] | join(",")')"
check "screenshots: the image's bytes are the uploaded ones" cmp -s "$T/shot.png" "$T/x/screenshots/$SA1.png"
check_eq "screenshots.json lists both" "$(jq -r 'map(.id) | sort | join(",")' "$T/x/screenshots.json")" \
	"$(printf '%s\n' "$SA1" "$SA2" | sort | paste -sd,)"
check "avatar.png: the picture's bytes" cmp -s "$T/a.png" "$T/x/avatar.png"
export "$TKM" "$UB"
check_eq "mona (manager of team A) exports bob" "$ST" 200
unzip -l "$T/x.zip" >"$T/x.list" 2>&1
check_eq "bob's export: his records, his one screenshot, no picture" "$(names)" \
	"$(printf '%s\n' activity.csv apps.csv records/activity.ndjson records/app_usage.ndjson \
		records/process.ndjson screenshots.json "screenshots/$SB1.png" user.json | sort | paste -sd' ')"
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "user.export audited (alice by herself, bob by mona)" \
	"$(jr "[.entries[] | select(.action==\"user.export\") | \"\(.actor)>\(.target)\"] | join(\",\")")" "$UA>$UA,$UM>$UB"
# user.read and activity.read without screenshot.read (a custom role):
# the export, without the screenshots that GET /screenshots refuses them
api "$A" POST /api/v1/roles '{"name":"hr","permissions":["user.read","activity.read","self.read"]}'
check_st "a custom role hr: user.read and activity.read, no screenshot.read" 201
UH=$(srv_user hank@example.com hank hank "$TB")
check "hank holds hr on team A" srv_grant "$UH" "$TA" hr
TKH=$(login hank@example.com password-hank)
api "$TKH" GET "/api/v1/screenshots?user_id=$UB&from=${D3}T00:00:00Z&to=${D2}T23:59:59Z"
check_st "hank may not list bob's screenshots" 403
export "$TKH" "$UB"
check_eq "hank exports bob" "$ST" 200
unzip -l "$T/x.zip" >"$T/x.list" 2>&1
check_eq "  without his screenshots" "$(names)" \
	"$(printf '%s\n' activity.csv apps.csv records/activity.ndjson records/app_usage.ndjson \
		records/process.ndjson user.json | sort | paste -sd' ')"

# --- erase: refusals ---
api "$TKN" POST "/api/v1/users/$UA/erase" '{"confirm":"alice@example.com"}'
check_st "the manager of team B cannot erase alice: 403" 403
api "$A" POST "/api/v1/users/$UA/erase" '{"confirm":"bob@example.com"}'
check_st "a wrong confirmation: 400" 400
api "$A" POST "/api/v1/users/$UA/erase" '{}'
check_st "no confirmation: 400" 400
AID=$(api "$A" GET /api/v1/me; jr .user.id)
api "$A" POST "/api/v1/users/$AID/erase" '{"confirm":"admin@example.com"}'
check_st "oneself: 409" 409
api "$TKA" GET /api/v1/me
check_st "alice is untouched by the refusals" 200

# --- erase: the first step ---
api "$TKM" POST "/api/v1/users/$UA/erase" '{"confirm":"Alice@Example.com"}'
check_st "mona (manager of team A) erases alice: a step" 200
check_eq "the first step is not done (6000+ items over the cap of a step)" "$(jr .done)" false
STEP1=$(jr .erased.records)
check "the first step deleted some records" test "${STEP1:-0}" -gt 0 -a "${STEP1:-0}" -lt 6004
api "" POST /api/v1/auth/login '{"email":"alice@example.com","password":"password-alice"}'
check "alice cannot sign in while erased" test "$ST" != 200
api "$TKA" GET /api/v1/me
check "alice's session ended" test "$ST" = 401 -o "$ST" = 403
api "$A" POST "/api/v1/users/$UA/enable"
check_st "enabling a user being erased: 409" 409
printf '{"type":"process","ts":"%sT13:00:00.000Z","v":1,"host_id":"%s","user":"alice","event":"exec","pid":9,"ppid":1,"uid":1000,"comm":"late","exe":"/usr/bin/late"}\n' "$D2" "$HOST" >"$T/late.ndjson"
ingest "$TOKA" a-2 "$T/late.ndjson"
check_eq "a record of alice's login arrives meanwhile" "$ST:$(jr .accepted)" 200:1

# --- the rest ---
n=0
while [ $n -lt 10 ]; do
	api "$TKM" POST "/api/v1/users/$UA/erase" '{"confirm":"alice@example.com"}'
	[ "$ST" = 200 ] && [ "$(jr .done)" = false ] || break
	n=$((n + 1))
done
check_st "the next step" 200
check_eq "done" "$(jr .done)" true
check_eq "erased: all 6004 of alice's records, her 2 screenshots, no S3 error" \
	"$(jr '[.erased.records, .erased.screenshots, .erased.s3_errors] | join(",")')" 6004,2,0
check "erased: her rollups" test "$(jr .erased.rollups)" -gt 0
api "$A" GET "/api/v1/users/$UA"
check_st "alice is gone" 404
api "$A" POST "/api/v1/users/$UA/erase" '{"confirm":"alice@example.com"}'
check_st "erasing again: 404" 404
ST=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $PTOK" "$SRV_URL/api/v1/me")
check_eq "her personal token is refused" "$ST" 401

# S3: her objects are gone, bob's stays
check "her screenshots' objects are gone" not s3_has shots1 "$KA1"
check "  (both)" not s3_has shots1 "$KA2"
check "bob's screenshot object stays" s3_has shots1 "$KB1"
check_eq "objects left: bob's screenshot only (her picture gone too)" "$(s3_count shots1)" 1
check "(there were more before)" test "$NOBJ_BEFORE" -ge 4

# the store: nothing names her
for t in users emails grants tokens rollups screenshots records config keys devices; do
	check_eq "no item of $t names alice" "$(in_table "$t" "$UA")" 0
done
check_eq "no item of users or emails holds her email" "$(($(in_table users alice@example.com) + $(in_table emails alice@example.com)))" 0
check "bob's items are still in the store (the dump reads them)" test "$(in_table rollups "user|$UB|")" -eq "$BOB_ROLLUPS"
check "  and his raw records" test "$(in_table records "\"user_id\":\"$UB\"")" -eq 5

# bob: intact
check_eq "bob's activity on D2 after" "$(activity "$UB" "$D2")" 1,7
check_eq "bob's activity on D3 after" "$(activity "$UB" "$D3")" 1,7
api "$A" GET "/api/v1/screenshots?user_id=$UB&from=${D3}T00:00:00Z&to=${D2}T23:59:59Z"
check_eq "bob's screenshot still listed" "$(jr '.screenshots | length')" 1
api "$A" GET "/api/v1/devices/$DA/processes?from=${D2}T00:00:00Z&to=${D2}T23:59:59Z&limit=1000"
check_eq "device A's processes: bob's and the late one, mapped to nobody" \
	"$(jr '[.processes[] | "\(.comm)=\(.user_id // "none")"] | sort | join(",")')" "emacs=$UB,late=none"
api "$A" GET "/api/v1/devices/$DA"
check_eq "device A lost its owner" "$(jr '.owner_id // "none"')" none
api "$A" GET "/api/v1/apps/top?node_id=$TA&from=${D2}T00:00:00Z&to=${D2}T23:59:59Z"
check_eq "the team's app rollups stay (no per-user detail)" "$(jr '[.apps[] | "\(.app)=\(.focus_s)"] | join(",")')" firefox=120

# the audit entry: the fact, no email
api "$A" GET "/api/v1/audit?limit=1000"
jq -c "[.entries[] | select(.action==\"user.erase\")]" "$T/resp" >"$T/erase.json"
check_eq "one user.erase entry, by mona, on alice's id" \
	"$(jq -r '[.[] | "\(.actor)>\(.target)>\(.detail.user_id)"] | join(",")' "$T/erase.json")" "$UM>$UA>$UA"
check_eq "its counts" "$(jq -r '.[0].detail | [.records, .screenshots, .grants] | join(",")' "$T/erase.json")" 6004,2,1
check "it holds no email or name of hers" not grep -qi 'alice' "$T/erase.json"
finish
