#!/usr/bin/env bash
# Tenants: two businesses on one server. The root admin creates business 2
# (Globex) next to business 1 (Acme), each with its own admin (on the
# business), manager (on a team), employee, device and records. Every
# admin and manager of one business is refused the other's nodes, users,
# grants, config, devices, enrollment secrets, activity queries and
# screenshot lists, read and write, with the exact status; every answer is
# searched for ids and names of the other business; the lists they may read
# (children of root, devices, audit) hold only their own (the audit: but for
# the refused attempts on their nodes). Then grants across
# businesses: a holder of grant.write on a team cannot grant a role there
# to a user of another business (who would read the team's people and
# activity, and whom their own admins could no longer manage); the root
# admin, who holds grant.write over both, can. The routes of the overview,
# the day, reports, access review, export, erasure, moves and business
# roles are refused across businesses too.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need gzip

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
ROOT=$A
U_ROOT=$(api "$A" GET /api/v1/me && jr .user.id)

# --- business 1 (from init) and business 2 (created by the root admin) ---
srv_tree Eng Core A B
B1=$B D1=$DOM T1=$TA
B2=$(srv_node business Globex root)
D2=$(srv_node domain Ops "$B2")
P2=$(srv_node project Edge "$D2")
T2=$(srv_node team G "$P2")
check "setup: two businesses" test -n "$B1" -a -n "$T1" -a -n "$B2" -a -n "$T2"
api "$A" POST /api/v1/roles '{"name":"lead","permissions":["grant.write","user.read","activity.read","node.read","self.read"]}'
check_st "setup: custom role with grant.write" 201

U_ADM1=$(srv_user adm1@acme.example adm1 adm1 "$T1")
U_MGR1=$(srv_user mgr1@acme.example mgr1 mgr1 "$T1")
U_EMP1=$(srv_user emp1@acme.example emp1 emp1 "$T1")
U_ADM2=$(srv_user adm2@globex.example adm2 adm2 "$T2")
U_MGR2=$(srv_user mgr2@globex.example mgr2 mgr2 "$T2")
U_EMP2=$(srv_user emp2@globex.example emp2 emp2 "$T2")
U_LEAD2=$(srv_user lead2@globex.example lead2 lead2 "$T2")
check "setup: admin of business 1" srv_grant "$U_ADM1" "$B1" admin
check "setup: manager of team 1" srv_grant "$U_MGR1" "$T1" manager
check "setup: admin of business 2" srv_grant "$U_ADM2" "$B2" admin
check "setup: manager of team 2" srv_grant "$U_MGR2" "$T2" manager
check "setup: lead of team 2" srv_grant "$U_LEAD2" "$T2" lead
ADM1=$(login adm1@acme.example password-adm1)
MGR1=$(login mgr1@acme.example password-mgr1)
EMP1=$(login emp1@acme.example password-emp1)
ADM2=$(login adm2@globex.example password-adm2)
MGR2=$(login mgr2@globex.example password-mgr2)
LEAD2=$(login lead2@globex.example password-lead2)
check "setup: everyone signs in" test -n "$ADM1" -a -n "$MGR1" -a -n "$EMP1" -a -n "$ADM2" -a -n "$MGR2" -a -n "$LEAD2"

# one device per business, owned by its employee, with records
enroll() { # TEAM HOST OWNER -> "device_id token"
	srv_enroll "$1" "$2" "$2" 0.1.0
	api "$A" PUT "/api/v1/devices/$DEV" "{\"owner_id\":\"$3\"}"
	echo "$DEV $TOK"
}
read -r DEV1 TOK1 <<<"$(enroll "$T1" host-acme "$U_EMP1")"
read -r DEV2 TOK2 <<<"$(enroll "$T2" host-globex "$U_EMP2")"
check "setup: two devices" test -n "$DEV1" -a -n "$DEV2"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
ship() { # TOKEN HOST USER
	{
		echo "{\"type\":\"activity\",\"ts\":\"$now\",\"v\":1,\"host_id\":\"$2\",\"user\":\"$3\",\"start\":\"$now\",\"end\":\"$now\",\"interval_s\":60,\"keys\":5,\"clicks\":1,\"moves\":2,\"scrolls\":0,\"active_s\":30,\"idle\":false}"
		echo "{\"type\":\"process\",\"ts\":\"$now\",\"v\":1,\"host_id\":\"$2\",\"user\":\"$3\",\"event\":\"exec\",\"pid\":42,\"ppid\":1,\"uid\":1000,\"comm\":\"secret-$2\",\"exe\":\"/usr/bin/secret-$2\"}"
		echo "{\"type\":\"sysinfo\",\"ts\":\"$now\",\"v\":1,\"host_id\":\"$2\",\"user\":\"$3\",\"hostname\":\"$2\"}"
		echo "{\"type\":\"app_usage\",\"ts\":\"$now\",\"v\":1,\"host_id\":\"$2\",\"user\":\"$3\",\"apps\":[{\"app\":\"app-$2\",\"focus_s\":20}]}"
	} | gzip -c >"$T/batch.gz"
	curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" -H "X-Batch-Id: b1" \
		-H 'Content-Encoding: gzip' -H 'Content-Type: application/x-ndjson' --data-binary @"$T/batch.gz" "$SRV_URL/api/v1/ingest"
}
check_eq "setup: ingest in business 1" "$(ship "$TOK1" host-acme emp1)" 200
check_eq "setup: ingest in business 2" "$(ship "$TOK2" host-globex emp2)" 200

# per business: its ids, and what nobody of the other may ever see
declare -A BZ=([1]=$B1 [2]=$B2) DM=([1]=$D1 [2]=$D2) TM=([1]=$T1 [2]=$T2)
declare -A EU=([1]=$U_EMP1 [2]=$U_EMP2) MU=([1]=$U_MGR1 [2]=$U_MGR2) DV=([1]=$DEV1 [2]=$DEV2)
declare -A EM=([1]=emp1@acme.example [2]=emp2@globex.example)
# a custom role of each business (its name is one the other may not see)
declare -A BROLE=([1]=acmerole [2]=globexrole)
for n in 1 2; do
	api "$A" POST /api/v1/roles "{\"name\":\"${BROLE[$n]}\",\"permissions\":[\"node.read\"],\"business_id\":\"${BZ[$n]}\"}"
	check_st "setup: custom role of business $n" 201
done
declare -A SECRET=([1]="$B1 $D1 $T1 $U_ADM1 $U_MGR1 $U_EMP1 $DEV1 acme.example secret-host-acme app-host-acme acmerole"
	[2]="$B2 $D2 $P2 $T2 $U_ADM2 $U_MGR2 $U_EMP2 $U_LEAD2 $DEV2 Globex globex.example secret-host-globex app-host-globex globexrole")
declare -A TOKN=([ROOT]=$ROOT [ADM1]=$ADM1 [MGR1]=$MGR1 [EMP1]=$EMP1 [ADM2]=$ADM2 [MGR2]=$MGR2 [LEAD2]=$LEAD2)
declare -A NEVER=([ADM1]=${SECRET[2]} [MGR1]=${SECRET[2]} [EMP1]=${SECRET[2]}
	[ADM2]=${SECRET[1]} [MGR2]=${SECRET[1]} [LEAD2]=${SECRET[1]})

# row WHO METHOD PATH BODY|- WANT: the exact status, and no id of the other business
row() {
	local who=$1 m=$2 p=$3 body=$4 want=$5 x
	if [ "$body" = - ]; then api "${TOKN[$who]}" "$m" "$p"; else api "${TOKN[$who]}" "$m" "$p" "$body"; fi
	check_eq "$who $m $p${body#-}" "$ST" "$want"
	for x in ${NEVER[$who]:-}; do
		if grep -q -- "$x" "$T/resp" 2>/dev/null; then fail "$who $m $p: answer holds $x (other business)"; fi
	done
}
g() { echo "{\"user_id\":\"$1\",\"role\":\"$2\",\"node_id\":\"$3\"}"; }
H=$(($(date +%s) * 1000))
DAY=$(date -u +%Y-%m-%d)
R="from=$((H - 86400000))&to=$((H + 3600000))"

# --- each business's admin and manager against the other business ---
# cross WHO OWN OTHER
cross() {
	local w=$1 o=$3 n=$2
	# nodes
	row "$w" GET "/api/v1/nodes/${BZ[$o]}" - 403
	row "$w" GET "/api/v1/nodes/${TM[$o]}" - 403
	row "$w" GET "/api/v1/nodes/${BZ[$o]}/children" - 403
	row "$w" GET "/api/v1/nodes/${DM[$o]}/children" - 403
	row "$w" POST /api/v1/nodes "{\"type\":\"domain\",\"name\":\"x\",\"parent_id\":\"${BZ[$o]}\"}" 403
	row "$w" PATCH "/api/v1/nodes/${TM[$o]}" '{"name":"taken"}' 403
	row "$w" DELETE "/api/v1/nodes/${TM[$o]}" - 403
	row "$w" GET /api/v1/nodes/root/children - 200
	check_eq "$w: from root, only their own business" "$(jr '[.children[].id] | join(",")')" "${BZ[$n]}"
	row "$w" GET /api/v1/nodes/root - 403
	# users
	row "$w" GET "/api/v1/users?node_id=${BZ[$o]}" - 403
	row "$w" GET /api/v1/users?node_id=root - 403
	row "$w" GET "/api/v1/users?node_id=${TM[$o]}" - 403
	row "$w" GET "/api/v1/users/${EU[$o]}" - 403
	row "$w" GET "/api/v1/users/${MU[$o]}" - 403
	row "$w" POST /api/v1/users "{\"email\":\"x-$w@example.com\",\"name\":\"x\",\"password\":\"password-x\",\"team_id\":\"${TM[$o]}\"}" 403
	row "$w" PATCH "/api/v1/users/${EU[$o]}" '{"name":"taken"}' 403
	row "$w" PATCH "/api/v1/users/${EU[$o]}" '{"password":"taken-over-pw"}' 403
	row "$w" POST "/api/v1/users/${EU[$o]}/disable" - 403
	row "$w" POST "/api/v1/users/${EU[$o]}/enable" - 403
	row "$w" DELETE "/api/v1/users/${EU[$o]}/avatar" - 403
	row "$w" GET "/api/v1/users/${EU[$o]}/avatar" - 403
	row "$w" GET "/api/v1/users/${MU[$o]}/avatar" - 403
	# grants
	row "$w" GET "/api/v1/grants?user_id=${EU[$o]}" - 403
	row "$w" GET "/api/v1/grants?user_id=${MU[$o]}" - 403
	row "$w" POST /api/v1/grants "$(g "${EU[$o]}" employee "${TM[$o]}")" 403
	row "$w" POST /api/v1/grants "$(g "${EU[$n]}" employee "${TM[$o]}")" 403
	row "$w" POST /api/v1/grants "$(g "${EU[$o]}" employee "${TM[$n]}")" 403
	row "$w" DELETE "/api/v1/grants?user_id=${EU[$o]}&role=employee&node_id=${TM[$o]}" - 403
	row "$w" DELETE "/api/v1/grants?user_id=${MU[$o]}&role=manager&node_id=${TM[$o]}" - 403
	# config
	row "$w" GET "/api/v1/nodes/${TM[$o]}/config" - 403
	row "$w" GET "/api/v1/nodes/${BZ[$o]}/config" - 403
	row "$w" PUT "/api/v1/nodes/${TM[$o]}/config" '{"values":{"activity.interval_s":120}}' 403
	row "$w" PUT "/api/v1/nodes/${BZ[$o]}/config" '{"values":{"retention.days":1}}' 403
	row "$w" GET "/api/v1/nodes/${TM[$o]}/config/effective" - 403
	row "$w" GET "/api/v1/users/${EU[$o]}/config" - 403
	row "$w" PUT "/api/v1/users/${EU[$o]}/config" '{"values":{"idle.threshold_s":600}}' 403
	row "$w" GET "/api/v1/users/${EU[$o]}/config/effective" - 403
	# devices and enrollment
	row "$w" GET "/api/v1/devices?node_id=${TM[$o]}" - 403
	row "$w" GET "/api/v1/devices?node_id=${BZ[$o]}" - 403
	row "$w" GET /api/v1/devices - 200
	check_eq "$w: the device list holds their own business's only" "$(jr '[.devices[].id] | join(",")')" "${DV[$n]}"
	row "$w" GET "/api/v1/devices/${DV[$o]}" - 403
	row "$w" PUT "/api/v1/devices/${DV[$o]}" "{\"owner_id\":\"${EU[$o]}\"}" 403
	row "$w" PUT "/api/v1/devices/${DV[$n]}" "{\"owner_id\":\"${EU[$o]}\"}" 400
	row "$w" POST "/api/v1/devices/${DV[$o]}/revoke" - 403
	row "$w" GET "/api/v1/nodes/${TM[$o]}/enrollment-secrets" - 403
	row "$w" POST "/api/v1/nodes/${TM[$o]}/enrollment-secrets" '{}' 403
	# activity queries and screenshots
	row "$w" GET "/api/v1/users/${EU[$o]}/activity?$R" - 403
	row "$w" GET "/api/v1/apps/top?node_id=${BZ[$o]}&$R" - 403
	row "$w" GET "/api/v1/apps/top?node_id=root&$R" - 403
	row "$w" GET "/api/v1/apps/top?node_id=${TM[$o]}&$R" - 403
	row "$w" GET "/api/v1/apps/top?user_id=${EU[$o]}&$R" - 403
	row "$w" GET "/api/v1/devices/${DV[$o]}/sysinfo?$R" - 403
	row "$w" GET "/api/v1/devices/${DV[$o]}/processes?$R" - 403
	row "$w" GET "/api/v1/screenshots?user_id=${EU[$o]}&$R" - 403
	row "$w" GET "/api/v1/screenshots?device_id=${DV[$o]}&$R" - 403
	# the team overview, a person's day, reports, the access review
	row "$w" GET "/api/v1/nodes/${TM[$o]}/overview" - 403
	row "$w" GET "/api/v1/nodes/${BZ[$o]}/overview?tz=Europe/Paris&step=600" - 403
	row "$w" GET /api/v1/nodes/root/overview - 403
	row "$w" GET "/api/v1/users/${EU[$o]}/day?date=$DAY" - 403
	row "$w" GET "/api/v1/users/${EU[$o]}/day?$R" - 403
	row "$w" GET "/api/v1/reports/activity.csv?user_id=${EU[$o]}&$R" - 403
	row "$w" GET "/api/v1/reports/activity.json?node_id=${TM[$o]}&$R" - 403
	row "$w" GET "/api/v1/reports/apps.csv?node_id=${BZ[$o]}&$R" - 403
	row "$w" GET "/api/v1/reports/apps.json?user_id=${EU[$o]}&$R" - 403
	row "$w" GET "/api/v1/nodes/${BZ[$o]}/access-review" - 403
	row "$w" GET "/api/v1/nodes/${TM[$o]}/access-review.csv" - 403
	row "$w" GET /api/v1/nodes/root/access-review - 403
	# export, erase, move: neither pulling the other's people in nor pushing
	# one's own out
	row "$w" GET "/api/v1/users/${EU[$o]}/export.zip" - 403
	row "$w" POST "/api/v1/users/${EU[$o]}/erase" "{\"confirm\":\"${EM[$o]}\"}" 403
	row "$w" PATCH "/api/v1/users/${EU[$o]}" "{\"team_id\":\"${TM[$n]}\"}" 403
	row "$w" PATCH "/api/v1/users/${EU[$n]}" "{\"team_id\":\"${TM[$o]}\"}" 403
	row "$w" PATCH "/api/v1/users/${EU[$n]}" "{\"team_id\":\"${BZ[$o]}\"}" 403
	# the other business's custom role: not listed, not deleted, not granted
	row "$w" GET /api/v1/roles - 200
	check_eq "$w: the roles listed are the built-in ones, the global one and their business's" \
		"$(jr '[.roles[].name] | join(",")')" "admin,manager,employee,${BROLE[$n]},lead"
	api "${TOKN[$w]}" DELETE "/api/v1/roles/${BROLE[$o]}"
	check_eq "$w DELETE the other business's role: unknown" "$ST $(jr .error)" "404 unknown role '${BROLE[$o]}'"
	row "$w" POST /api/v1/roles "{\"name\":\"x$w\",\"permissions\":[\"node.read\"],\"business_id\":\"${BZ[$o]}\"}" 403
	api "${TOKN[$w]}" POST /api/v1/grants "$(g "${EU[$n]}" "${BROLE[$o]}" "${TM[$n]}")"
	if [ "${w:0:3}" = ADM ]; then
		check_eq "$w grants the other business's role: unknown" "$ST $(jr .error)" "400 unknown role '${BROLE[$o]}'"
	else
		check_st "$w grants the other business's role (no grant.write)" 403
	fi
}
cross ADM1 1 2
cross MGR1 1 2
cross ADM2 2 1
cross MGR2 2 1
# profile pictures: colleagues of one business see each other's (none here:
# 404), nobody sees another business's, not even an employee
row EMP1 GET "/api/v1/users/$U_MGR1/avatar" - 404
row EMP1 GET "/api/v1/users/$U_EMP2/avatar" - 403
row LEAD2 GET "/api/v1/users/$U_EMP1/avatar" - 403
row ROOT GET "/api/v1/users/$U_EMP2/avatar" - 404
# what they may read of their own business, with nothing of the other in it
for n in 1 2; do
	row "ADM$n" GET "/api/v1/users?node_id=${BZ[$n]}" - 200
	row "ADM$n" GET "/api/v1/apps/top?node_id=${BZ[$n]}&$R" - 200
	check_eq "ADM$n: top apps of their business" "$(jr '[.apps[].app] | join(",")')" "$([ $n = 1 ] && echo app-host-acme || echo app-host-globex)"
	row "MGR$n" GET "/api/v1/users/${EU[$n]}/activity?$R" - 200
	row "MGR$n" GET "/api/v1/devices/${DV[$n]}/processes?$R" - 200
	# the refused attempts of the other business's people on this one's
	# nodes are audited here (result forbidden, with who tried): nothing
	# else of the other business
	api "${TOKN[ADM$n]}" GET "/api/v1/audit?$R"
	check_st "ADM$n GET /api/v1/audit" 200
	check "ADM$n: the other business's refused attempts are in the audit" \
		jq -e 'any(.entries[]; .result == "forbidden" and .action == "report.export")' "$T/resp"
	jq '[.entries[] | select(.result != "forbidden")]' "$T/resp" >"$T/resp.own"
	for x in ${NEVER[ADM$n]}; do
		if grep -q -- "$x" "$T/resp.own"; then fail "ADM$n audit: an entry holds $x (other business)"; fi
	done
	check "ADM$n: the audit holds entries of their own business" \
		jq -e "(.entries | length) > 0 and any(.entries[]; .node_id == \"${TM[$n]}\")" "$T/resp"
	row "MGR$n" GET "/api/v1/audit?$R" - 403
done

# --- grants across businesses ---
# a business admin grants on their team to a user of the other business
row ADM2 POST /api/v1/grants "$(g "$U_EMP1" manager "$T2")" 403
check "the refusal says why" grep -q 'another business' "$T/resp"
row ADM1 POST /api/v1/grants "$(g "$U_EMP2" employee "$T1")" 403
row ADM1 POST /api/v1/grants "$(g "$U_EMP2" admin "$B1")" 403
row ADM1 POST /api/v1/grants "$(g "$U_MGR2" manager "$D1")" 403
# a team lead with grant.write on the team only (custom role)
row LEAD2 POST /api/v1/grants "$(g "$U_EMP1" lead "$T2")" 403
row LEAD2 POST /api/v1/grants "$(g "$U_ADM1" employee "$T2")" 403
# nor to the root admin, who belongs to no business
row ADM2 POST /api/v1/grants "$(g "$U_ROOT" employee "$T2")" 403
# so the employee of business 1 reads nothing of team 2 ...
row EMP1 GET "/api/v1/users?node_id=$T2" - 403
row EMP1 GET "/api/v1/users/$U_EMP2" - 403
row EMP1 GET "/api/v1/users/$U_EMP2/activity?$R" - 403
row EMP1 GET "/api/v1/apps/top?node_id=$T2&$R" - 403
# ... and stays manageable by the admin of business 1
row ADM1 PATCH "/api/v1/users/$U_EMP1" '{"name":"Emp One"}' 200
row ADM1 POST "/api/v1/users/$U_EMP1/disable" - 200
row ADM1 POST "/api/v1/users/$U_EMP1/enable" - 200
row ADM1 GET "/api/v1/grants?user_id=$U_EMP1" - 200
check_eq "the employee of business 1 holds only her own team's grant" "$(jr '[.grants[].node_id] | join(",")')" "$T1"
# grants within one business go on
row LEAD2 POST /api/v1/grants "$(g "$U_EMP2" lead "$T2")" 201
row LEAD2 DELETE "/api/v1/grants?user_id=$U_EMP2&role=lead&node_id=$T2" - 204
row ADM1 POST /api/v1/grants "$(g "$U_EMP1" manager "$T1")" 201
row ADM1 DELETE "/api/v1/grants?user_id=$U_EMP1&role=manager&node_id=$T1" - 204
# the root admin holds grant.write over both teams: allowed
row ROOT POST /api/v1/grants "$(g "$U_EMP1" employee "$T2")" 201
row ROOT DELETE "/api/v1/grants?user_id=$U_EMP1&role=employee&node_id=$T2" - 204

srv_stop
finish
