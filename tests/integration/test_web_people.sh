#!/usr/bin/env bash
# actlog-server's dashboard: people administration (#/people/<node>,
# web/js/people.js) in a real headless Chromium driven by
# tests/web/people.mjs (playwright-core) against a real server seeded
# through the API and the ingest route: the list equals GET /users (team,
# login, state, last sign-in), create, edit, move to another team, disable,
# reset password (the new one signs in), export downloaded (the bytes are a
# ZIP), erase with the email typed (a wrong one refused with the API's
# message), the no-escalation refusal shown as the API words it, a manager
# sees only her team, an employee no administration.
# WEB_SHOT_DIR=DIR keeps the browser's PNG screenshots (people.png) there.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../web.sh"
need curl
need jq
need gzip
need node
need unzip
web_need

srv_init
srv_start --web-root "$ROOT/web" || finish

# --- seed: a project with two teams, people, a device with records ---
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
DOM=$(srv_node domain Engineering "$B")
PRJ=$(srv_node project Platform "$DOM")
TR=$(srv_node team "Red team" "$PRJ")
TBL=$(srv_node team "Blue team" "$PRJ")
UA=$(srv_user alice@example.com "Alice Anders" alice "$TR")
UB=$(srv_user bob@example.com "Bob Berg" bob "$TR")
UM=$(srv_user mona@example.com "Mona Manager" mona "$TR")
UL=$(srv_user lena@example.com "Lena Lead" lena "$TR")
UC=$(srv_user chris@example.com "Chris Chen" chris "$TBL")
UD=$(srv_user dana@example.com "Dana Diaz" dana "$TBL")
srv_grant "$UM" "$TR" manager
check_st "seed: mona manages the red team" 201
srv_grant "$UL" "$B" admin
check_st "seed: lena (red team) is an admin of the business" 201
check "seed: tree and people" test -n "$PRJ" -a -n "$TR" -a -n "$TBL" -a -n "$UA" -a -n "$UD" -a -n "$UL"
TKA=$(login alice@example.com password-alice)
TKC=$(login chris@example.com password-chris)
check "seed: alice and chris signed in (a last sign-in to show)" test -n "$TKA" -a -n "$TKC"
api "$A" POST "/api/v1/users/$UB/disable"
check_st "seed: bob is disabled" 200

api "$A" POST "/api/v1/nodes/$TR/enrollment-secrets" '{}'
SEC=$(jr .secret)
api "" POST /api/v1/enroll "$(jq -nc --arg s "$SEC" '{secret:$s,host_id:"0123456789abcdef0123456789abcdef",hostname:"ws-042",agent_version:"0.1"}')"
DTOK=$(jr '.device_token // empty')
DAY=$(date -u -d '2 days ago' +%Y-%m-%d)
for h in 09 10 11; do
	printf '{"type":"activity","ts":"%sT%s:01:00.000Z","v":1,"host_id":"0123456789abcdef0123456789abcdef","user":"alice","start":"%sT%s:00:00.000Z","end":"%sT%s:01:00.000Z","interval_s":60,"keys":40,"clicks":5,"moves":9,"distance":300,"scrolls":2,"active_s":55,"idle":false}\n' \
		"$DAY" "$h" "$DAY" "$h" "$DAY" "$h"
done | gzip >"$T/b.gz"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: gzip' \
	-H "Authorization: Bearer $DTOK" -H 'X-Batch-Id: web-people-1' --data-binary @"$T/b.gz" "$SRV_URL/api/v1/ingest")
check_eq "seed: alice's records accepted" "$ST:$(jr .accepted)" 200:3

# what the API answers, for the page to equal
TKM=$(login mona@example.com password-mona)
api "$A" GET "/api/v1/users?node_id=$PRJ"
jq -c '[.users[] | {id, email, login, team_id, disabled, last_sign_in}]' "$T/resp" >"$T/want-admin.json"
api "$TKM" GET "/api/v1/users?node_id=$TR"
jq -c '[.users[] | .id] | sort' "$T/resp" >"$T/want-mona.json"
check_eq "seed: mona's list is the red team's 4" "$(jq length "$T/want-mona.json")" 4
# the no-escalation refusal, as the API words it (nothing changes: refused)
api "$TKM" POST "/api/v1/users/$UL/disable"
check_st "seed: mona cannot disable lena (she holds more)" 403
ESC_ERR=$(jr .error)

export ADMIN_EMAIL ADMIN_PW PRJ TR TBL UA UB UL UM ESC_ERR \
	WANT_ADMIN="$(cat "$T/want-admin.json")" WANT_MONA="$(cat "$T/want-mona.json")"
web_run people 400
check "a screenshot of the people page" test -s "$T/people.png"
web_keep people.png

# the download the browser saved is a ZIP of alice's data
check "the downloaded export lists user.json and her records" \
	bash -c "unzip -l '$T/download.zip' | grep -q ' user.json' && unzip -l '$T/download.zip' | grep -q ' records/activity.ndjson'"
# the changes went through the API, audited
api "$A" GET "/api/v1/audit?limit=1000"
acts() { jq -r --arg u "$1" '[.entries[] | select(.target == $u) | .action] | join(",")' "$T/resp"; }
ZID=$(jq -r '.[] | select(.action == "user.erase") | .target' <(jq -c '.entries' "$T/resp"))
check_eq "the page's changes to zoe, audited in order" "$(acts "$ZID")" \
	"user.create,user.update,user.move,user.disable,user.password_reset,user.enable,auth.login,user.erase"
check_eq "alice's export audited" "$(jq -r --arg u "$UA" '[.entries[] | select(.action == "user.export" and .target == $u)] | length' "$T/resp")" 1
finish
