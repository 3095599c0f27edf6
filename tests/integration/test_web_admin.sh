#!/usr/bin/env bash
# The dashboard's administration pages in a real headless Chromium
# (tests/web/admin.mjs, playwright-core) against a real actlog-server seeded
# through the API: a business's administrator (a global role holding all
# but store.admin, granted on the business) creates a custom role for her
# business and grants it; a grant beyond her rights shows the API's refusal
# with what is missing; the access review lists the grant with its creator
# and its CSV download has the rows of the JSON route; an enrollment secret
# made on the page (shown once) enrolls machines with curl; a pending
# device is confirmed, then revoked, from the page (the API then answers it
# revoked); config provenance names the levels that set the values; a
# manager and an employee get the API's refusals, not the actions.
# WEB_SHOT_DIR=DIR keeps roles.png, review.png, devices.png (and the others).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../web.sh"
need curl
need jq
need node
web_need

srv_init
srv_start --web-root "$ROOT/web" || finish

# --- seed: a tree, a business administrator, a manager, people, a device ---
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
DOM=$(srv_node domain Engineering "$B")
PRJ=$(srv_node project Platform "$DOM")
TM=$(srv_node team "Red team" "$PRJ")
TM2=$(srv_node team "Blue team" "$PRJ")
OB=$(srv_node business "Elsewhere Ltd" root)
UBEA=$(srv_user bea@example.com "Bea Boss" bea "$TM")
UA=$(srv_user alice@example.com "Alice Anders" alice "$TM")
UB=$(srv_user bob@example.com "Bob Berg" bob "$TM")
UM=$(srv_user mona@example.com "Mona Manager" mona "$TM")
# a name that is markup: the pages must show it as text
HOSTILE='<img src=x onerror=alert(1)>'
UC=$(srv_user carl@example.com "$HOSTILE" carl "$TM2")
UO=$(srv_user olga@example.com "Olga Other" olga "$(srv_node team Ops "$(srv_node project P "$(srv_node domain D "$OB")")")")
check "seed: the tree and six people" test -n "$TM2$UBEA$UA$UB$UM$UC$UO"
# the installation's business administrator role: everything but store.admin
api "$A" POST /api/v1/roles '{"name":"business-admin","permissions":["node.read","node.write","user.read","user.write","role.write","grant.write","config.read","config.write","device.read","device.write","activity.read","audit.read","self.read","screenshot.read"]}'
check_st "seed: a global business-admin role" 201
srv_grant "$UBEA" "$B" business-admin
check_st "seed: bea administers the business" 201
srv_grant "$UM" "$TM" manager
check_st "seed: mona manages the red team" 201
api "$A" PUT "/api/v1/nodes/$B/config" '{"values":{"retention.days":90},"locked":["retention.days"]}'
check_st "seed: the business sets and locks retention.days" 200
api "$A" PUT "/api/v1/nodes/$PRJ/config" '{"values":{"activity.interval_s":30}}'
check_st "seed: the project sets activity.interval_s" 200
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"idle.threshold_s":120,"screenshots.enabled":true}}'
check_st "seed: the team sets idle.threshold_s" 200
api "$A" PUT "/api/v1/users/$UA/config" '{"values":{"idle.threshold_s":100}}'
check_st "seed: alice's own idle.threshold_s" 200
srv_enroll "$TM" webhost1 ws-042
DEV1=$DEV
api "$A" PUT "/api/v1/devices/$DEV1" "{\"owner_id\":\"$UA\"}"
check_st "seed: a device owned by alice" 200
ST=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" "$SRV_URL/api/v1/agent/config")
check_eq "seed: the device fetches its policy (last seen)" "$ST" 200

# what the pages must show: the API's own answers
BEA=$(login bea@example.com password-bea)
api "$BEA" POST /api/v1/grants "{\"user_id\":\"$UB\",\"role\":\"admin\",\"node_id\":\"$TM\"}"
check_st "bea may not grant admin (she lacks store.admin)" 403
GRANT_REFUSAL=$(jr .error)
check "the refusal names store.admin" grep -q 'lack here: store.admin' <<<"$GRANT_REFUSAL"
MONA=$(login mona@example.com password-mona)
api "$MONA" GET "/api/v1/nodes/$B/access-review"
check_st "mona may not review the business" 403
MGR_REVIEW_ERR=$(jr .error)
api "$MONA" GET "/api/v1/nodes/$B/config/effective"
check_st "mona may not read the business's effective config" 403
MGR_CONFIG_ERR=$(jr .error)
ALICE=$(login alice@example.com password-alice)
api "$ALICE" GET "/api/v1/nodes/$TM/access-review"
check_st "alice may not review her team" 403
EMP_REVIEW_ERR=$(jr .error)

# --- the pages in Chromium ---
export B DOM PRJ TM TM2 OB UBEA UA UB UM UC UO DEV1 HOSTILE \
	GRANT_REFUSAL MGR_REVIEW_ERR MGR_CONFIG_ERR EMP_REVIEW_ERR
web_run admin 420
for p in roles review devices; do
	check "a screenshot of the $p page" test -s "$T/$p.png"
done
web_keep '*.png'

# --- what the pages did, as the API and the audit log see it ---
api "$A" GET "/api/v1/roles"
check_eq "the page's role is bea's business's" "$(jr '.roles[] | select(.name == "acme-support") | "\(.business_id) \(.permissions | sort | join(","))"')" \
	"$B device.read,device.write,user.read"
api "$A" GET "/api/v1/grants?user_id=$UB"
check_eq "the page's grant: bob holds acme-support on the red team, made by bea" \
	"$(jr '[.grants[] | select(.role == "acme-support") | "\(.node_id) \(.created_by.login)"] | join(";")')" "$TM bea"
check_eq "the refused grant was not made" "$(jr '[.grants[] | select(.role == "admin")] | length')" 0
PEND=$(cat "$T/pending-device" 2>/dev/null)
api "$A" GET "/api/v1/devices/$PEND"
check_eq "the device confirmed then revoked on the page is revoked" "$ST $(jr '"\(.pending) \(.revoked)"')" "200 false true"
api "$A" GET "/api/v1/audit?limit=1000"
audit_of() { jq -r --arg a "$1" --arg t "$2" '[.entries[] | select(.action == $a and .target == $t) | "\(.actor_email):\(.result)"] | join(",")' "$T/resp"; }
check_eq "audit: bea confirmed the device" "$(audit_of device.confirm "$PEND")" "bea@example.com:ok"
check_eq "audit: bea revoked the device" "$(audit_of device.revoke "$PEND")" "bea@example.com:ok"
check "audit: the CSV review by bea" jq -e '[.entries[] | select(.action == "access.review" and .actor_email == "bea@example.com" and .detail.format == "csv")] | length >= 1' "$T/resp"

srv_stop
check "the server stops cleanly" test $? = 0
finish
