#!/usr/bin/env bash
# The RBAC matrix: an admin (root), a manager granted on team A, an employee
# of team A, an employee of team B, and a custom "auditor" role granted on
# team B, against every route with targets in and out of their scope. Every
# answer a principal gets is also searched for the ids it must never see.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
ADM=$A
srv_tree D P A B
D=$DOM P=$PRJ
U_MGR=$(srv_user mgr@example.com mgr@example.com mgr "$TA")
U_EA=$(srv_user ea@example.com ea@example.com ea "$TA")
U_EB=$(srv_user eb@example.com eb@example.com eb "$TB")
U_AUD=$(srv_user aud@example.com aud@example.com aud "$TB")
srv_grant "$U_MGR" "$TA" manager
check_st "setup: manager grant" 201
api "$ADM" POST /api/v1/roles '{"name":"auditor","permissions":["audit.read","activity.read","user.read","device.read"]}'
srv_grant "$U_AUD" "$TB" auditor
check_st "setup: custom role grant" 201
MGR=$(login mgr@example.com password-mgr)
EA=$(login ea@example.com password-ea)
EB=$(login eb@example.com password-eb)
AUD=$(login aud@example.com password-aud)

# one device per team, owned by its employee, with records of every kind
enroll() { # TEAM HOST OWNER -> "device_id token"
	srv_enroll "$1" "$2" "$2" 0.1.0
	api "$A" PUT "/api/v1/devices/$DEV" "{\"owner_id\":\"$3\"}"
	echo "$DEV $TOK"
}
read -r DEV_A TOK_A <<<"$(enroll "$TA" host-a "$U_EA")"
read -r DEV_B TOK_B <<<"$(enroll "$TB" host-b "$U_EB")"
check "setup: two devices" test -n "$DEV_A" -a -n "$DEV_B"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
ship() { # TOKEN HOST USER BATCH
	{
		echo "{\"type\":\"activity\",\"ts\":\"$now\",\"v\":1,\"host_id\":\"$2\",\"user\":\"$3\",\"start\":\"$now\",\"end\":\"$now\",\"interval_s\":60,\"keys\":5,\"clicks\":1,\"moves\":2,\"scrolls\":0,\"active_s\":30,\"idle\":false}"
		echo "{\"type\":\"process\",\"ts\":\"$now\",\"v\":1,\"host_id\":\"$2\",\"user\":\"$3\",\"event\":\"exec\",\"pid\":42,\"ppid\":1,\"uid\":1000,\"comm\":\"secret-$2\",\"exe\":\"/usr/bin/secret-$2\"}"
		echo "{\"type\":\"sysinfo\",\"ts\":\"$now\",\"v\":1,\"host_id\":\"$2\",\"user\":\"$3\",\"hostname\":\"$2\"}"
		echo "{\"type\":\"app_usage\",\"ts\":\"$now\",\"v\":1,\"host_id\":\"$2\",\"user\":\"$3\",\"apps\":[{\"app\":\"app-$2\",\"focus_s\":20}]}"
	} | gzip -c >"$T/batch.gz"
	curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" -H "X-Batch-Id: $4" \
		-H 'Content-Encoding: gzip' -H 'Content-Type: application/x-ndjson' --data-binary @"$T/batch.gz" "$SRV_URL/api/v1/ingest"
}
check_eq "setup: ingest A" "$(ship "$TOK_A" host-a ea b1)" 200
check_eq "setup: ingest B" "$(ship "$TOK_B" host-b eb b1)" 200

# what each principal must never see in any answer
declare -A NEVER
NEVER[MGR]="$DEV_B $U_EB secret-host-b app-host-b"
NEVER[EA]="$DEV_B $U_EB $U_MGR secret-host-b app-host-b"
NEVER[EB]="$DEV_A $U_EA $U_MGR secret-host-a app-host-a"
NEVER[AUD]="$DEV_A $U_EA secret-host-a app-host-a"
declare -A TOK=([ADM]=$ADM [MGR]=$MGR [EA]=$EA [EB]=$EB [AUD]=$AUD)

# row WHO METHOD PATH BODY|- WANT
row() {
	local who=$1 m=$2 p=$3 body=$4 want=$5 x
	if [ "$body" = - ]; then api "${TOK[$who]}" "$m" "$p"; else api "${TOK[$who]}" "$m" "$p" "$body"; fi
	check_eq "$who $m $p" "$ST" "$want"
	for x in ${NEVER[$who]:-}; do
		if grep -q -- "$x" "$T/resp" 2>/dev/null; then fail "$who $m $p: answer holds $x (out of scope)"; fi
	done
}
H=$(($(date +%s) * 1000))
R="from=$((H - 86400000))&to=$((H + 3600000))"

# --- sign-in routes: everyone ---
for w in ADM MGR EA EB AUD; do row $w GET /api/v1/me - 200; done
# own password only: a wrong current password is 403 for everyone
for w in MGR EA EB AUD; do row $w POST /api/v1/me/password '{"current_password":"wrong-password","new_password":"whatever-new"}' 403; done

# --- nodes ---
for w in MGR EA EB AUD; do row $w POST /api/v1/nodes "{\"type\":\"project\",\"name\":\"x\",\"parent_id\":\"$D\"}" 403; done
row ADM POST /api/v1/nodes "{\"type\":\"project\",\"name\":\"x\",\"parent_id\":\"$D\"}" 201
PX=$(jr .id)
row ADM GET "/api/v1/nodes/$TA" - 200
row MGR GET "/api/v1/nodes/$TA" - 200
row MGR GET "/api/v1/nodes/$TB" - 403
row EA GET "/api/v1/nodes/$TA" - 403
row AUD GET "/api/v1/nodes/$TB" - 403
row MGR GET "/api/v1/nodes/$P/children" - 200
check_eq "manager sees only his team below the project" "$(jr '[.children[].id] | join(",")')" "$TA"
row EA GET "/api/v1/nodes/$P/children" - 403
row ADM GET "/api/v1/nodes/$P/children" - 200
# a manager walks down from root to his team: only the nodes on the way
row ADM POST /api/v1/nodes '{"type":"business","name":"Elsewhere"}' 201
B_OTHER=$(jr .id)
row MGR GET /api/v1/nodes/root/children - 200
check_eq "manager: from root, only the business on the way to his team" "$(jr '[.children[].id] | join(",")')" "$B"
row MGR GET "/api/v1/nodes/$B/children" - 200
check_eq "manager: then the domain" "$(jr '[.children[].id] | join(",")')" "$D"
row MGR GET "/api/v1/nodes/$D/children" - 200
check_eq "manager: then the project" "$(jr '[.children[].id] | join(",")')" "$P"
row MGR GET "/api/v1/nodes/$B" - 403
row MGR GET "/api/v1/nodes/$B_OTHER/children" - 403
# the auditor's role carries no node.read: no way down is shown
row AUD GET /api/v1/nodes/root/children - 403
row EA GET /api/v1/nodes/root/children - 403
row ADM DELETE "/api/v1/nodes/$B_OTHER" - 204
for w in MGR EA AUD; do row $w PATCH "/api/v1/nodes/$TA" '{"name":"A2"}' 403; done
row ADM PATCH "/api/v1/nodes/$TA" '{"name":"A"}' 200
for w in MGR EA EB AUD; do row $w DELETE "/api/v1/nodes/$PX" - 403; done
row ADM DELETE "/api/v1/nodes/$PX" - 204

# --- users ---
nu() { echo "{\"email\":\"$1@example.com\",\"name\":\"n\",\"password\":\"password-x\",\"team_id\":\"$2\"}"; }
row MGR POST /api/v1/users "$(nu new1 "$TA")" 201
row MGR POST /api/v1/users "$(nu new2 "$TB")" 403
row EA POST /api/v1/users "$(nu new3 "$TA")" 403
row AUD POST /api/v1/users "$(nu new4 "$TB")" 403
row ADM POST /api/v1/users "$(nu new5 "$TB")" 201
row MGR GET "/api/v1/users/$U_EA" - 200
row MGR GET "/api/v1/users/$U_EB" - 403
row EA GET "/api/v1/users/$U_EA" - 200
row EA GET "/api/v1/users/$U_EB" - 403
row AUD GET "/api/v1/users/$U_EB" - 200
row AUD GET "/api/v1/users/$U_EA" - 403
row MGR GET "/api/v1/users?node_id=$TA" - 200
row MGR GET "/api/v1/users?node_id=$P" - 403
row EA GET "/api/v1/users?node_id=$TA" - 403
row AUD GET "/api/v1/users?node_id=$TB" - 200
row ADM GET "/api/v1/users?node_id=$B" - 200
row MGR PATCH "/api/v1/users/$U_EA" '{"name":"Emp A"}' 200
row MGR PATCH "/api/v1/users/$U_EB" '{"name":"x"}' 403
row EA PATCH "/api/v1/users/$U_EA" '{"name":"me"}' 403
row AUD PATCH "/api/v1/users/$U_EB" '{"name":"x"}' 403
row MGR POST "/api/v1/users/$U_EA/disable" - 200
row MGR POST "/api/v1/users/$U_EA/enable" - 200
# the disable revoked her token (enabling brings none back): she signs in again
row EA GET /api/v1/me - 401
EA=$(login ea@example.com password-ea)
TOK[EA]=$EA
row EA GET /api/v1/me - 200
row MGR POST "/api/v1/users/$U_EB/disable" - 403
row EA POST "/api/v1/users/$U_EB/disable" - 403
# no escalation through user.write: a member of team A who is admin on the
# business is out of the manager's reach (no password reset, no lock-out)
api "$ADM" POST /api/v1/users "{\"email\":\"big@example.com\",\"name\":\"big\",\"password\":\"password-big\",\"team_id\":\"$TA\",\"login\":\"big\"}"
U_BIG=$(jr .id)
api "$ADM" POST /api/v1/grants "{\"user_id\":\"$U_BIG\",\"role\":\"admin\",\"node_id\":\"$B\"}"
check_st "setup: a business admin in team A" 201
row MGR PATCH "/api/v1/users/$U_BIG" '{"password":"taken-over-pw"}' 403
row MGR PATCH "/api/v1/users/$U_BIG" '{"name":"x"}' 403
row MGR POST "/api/v1/users/$U_BIG/disable" - 403
row MGR POST "/api/v1/users/$U_BIG/enable" - 403
check "the business admin's password is unchanged" test -z "$(login big@example.com taken-over-pw)"
row ADM PATCH "/api/v1/users/$U_BIG" '{"password":"password-big2"}' 200

# --- roles ---
for w in ADM MGR EA EB AUD; do row $w GET /api/v1/roles - 200; done
for w in MGR EA EB AUD; do row $w POST /api/v1/roles '{"name":"r2","permissions":[]}' 403; done
row ADM POST /api/v1/roles '{"name":"r2","permissions":["node.read"]}' 201
for w in MGR EA EB AUD; do row $w DELETE /api/v1/roles/r2 - 403; done
row ADM DELETE /api/v1/roles/r2 - 204

# --- grants ---
g() { echo "{\"user_id\":\"$1\",\"role\":\"$2\",\"node_id\":\"$3\"}"; }
for w in MGR EA EB AUD; do row $w POST /api/v1/grants "$(g "$U_EA" employee "$TA")" 403; done
row ADM POST /api/v1/grants "$(g "$U_EB" employee "$TA")" 201
row MGR GET "/api/v1/grants?user_id=$U_EA" - 200
row MGR GET "/api/v1/grants?user_id=$U_EB" - 403
row EA GET "/api/v1/grants?user_id=$U_EA" - 200
row EA GET "/api/v1/grants?user_id=$U_MGR" - 403
for w in MGR EA AUD; do row $w DELETE "/api/v1/grants?user_id=$U_EB&role=employee&node_id=$TA" - 403; done
row ADM DELETE "/api/v1/grants?user_id=$U_EB&role=employee&node_id=$TA" - 204

# --- config ---
cv='{"values":{"activity.interval_s":120}}'
row ADM PUT "/api/v1/nodes/$B/config" '{"values":{"retention.days":90}}' 200
row MGR PUT "/api/v1/nodes/$TA/config" "$cv" 200
row MGR PUT "/api/v1/nodes/$TB/config" "$cv" 403
row MGR PUT "/api/v1/nodes/$P/config" "$cv" 403
row EA PUT "/api/v1/nodes/$TA/config" "$cv" 403
row AUD PUT "/api/v1/nodes/$TB/config" "$cv" 403
row MGR GET "/api/v1/nodes/$TA/config" - 200
row MGR GET "/api/v1/nodes/$TB/config" - 403
row EA GET "/api/v1/nodes/$TA/config" - 403
row MGR PUT "/api/v1/users/$U_EA/config" '{"values":{"idle.threshold_s":600}}' 200
row MGR PUT "/api/v1/users/$U_EB/config" '{"values":{"idle.threshold_s":600}}' 403
row EA PUT "/api/v1/users/$U_EA/config" '{"values":{"idle.threshold_s":60}}' 403
row MGR GET "/api/v1/users/$U_EA/config" - 200
row EA GET "/api/v1/users/$U_EA/config/effective" - 200
check_eq "employee's effective config merges business, team and user" \
	"$(jr '[.values["retention.days"], .values["activity.interval_s"], .values["idle.threshold_s"]] | join(",")')" "90,120,600"
row EA GET "/api/v1/users/$U_EB/config/effective" - 403
row EB GET "/api/v1/users/$U_EB/config/effective" - 200
row MGR GET "/api/v1/users/$U_EA/config/effective" - 200
row MGR GET "/api/v1/users/$U_EB/config/effective" - 403
row ADM GET "/api/v1/nodes/$TB/config/effective" - 200
row ADM GET /api/v1/nodes/root/config/effective - 200
row MGR GET "/api/v1/nodes/$TA/config/effective" - 200
check_eq "team A's effective config merges business and team, no user level" \
	"$(jr '[.values["retention.days"], .values["activity.interval_s"], .values["idle.threshold_s"], .source["retention.days"]] | join(",")')" "90,120,300,$B"
row MGR GET "/api/v1/nodes/$TB/config/effective" - 403
row MGR GET "/api/v1/nodes/$P/config/effective" - 403
row EA GET "/api/v1/nodes/$TA/config/effective" - 403
row EB GET "/api/v1/nodes/$TB/config/effective" - 403
row AUD GET "/api/v1/nodes/$TB/config/effective" - 403
row AUD GET "/api/v1/nodes/$TA/config/effective" - 403

# --- devices ---
row MGR POST "/api/v1/nodes/$TA/enrollment-secrets" '{}' 201
row MGR POST "/api/v1/nodes/$TB/enrollment-secrets" '{}' 403
row EA POST "/api/v1/nodes/$TA/enrollment-secrets" '{}' 403
row AUD POST "/api/v1/nodes/$TB/enrollment-secrets" '{}' 403
row MGR GET "/api/v1/nodes/$TA/enrollment-secrets" - 200
row MGR GET "/api/v1/nodes/$TB/enrollment-secrets" - 403
row EA GET "/api/v1/nodes/$TA/enrollment-secrets" - 403
row AUD GET "/api/v1/nodes/$TB/enrollment-secrets" - 403
api "$ADM" POST "/api/v1/nodes/$TB/enrollment-secrets" '{}'
SID_B=$(jr .id)
row MGR DELETE "/api/v1/nodes/$TB/enrollment-secrets/$SID_B" - 403
row EB DELETE "/api/v1/nodes/$TB/enrollment-secrets/$SID_B" - 403
row AUD DELETE "/api/v1/nodes/$TB/enrollment-secrets/$SID_B" - 403
row ADM DELETE "/api/v1/nodes/$TB/enrollment-secrets/$SID_B" - 204
row ADM GET /api/v1/devices - 200
check_eq "admin lists both devices" "$(jr '[.devices[].id] | sort | join(",")')" "$(printf '%s\n' "$DEV_A" "$DEV_B" | sort | paste -sd,)"
row MGR GET /api/v1/devices - 200
check_eq "manager lists only team A's device" "$(jr '[.devices[].id] | join(",")')" "$DEV_A"
row AUD GET /api/v1/devices - 200
check_eq "auditor lists only team B's device" "$(jr '[.devices[].id] | join(",")')" "$DEV_B"
row EA GET /api/v1/devices - 200
check_eq "an employee lists only the device she owns" "$(jr '[.devices[].id] | join(",")')" "$DEV_A"
row MGR GET "/api/v1/devices?node_id=$TB" - 403
row MGR GET "/api/v1/devices/$DEV_A" - 200
row MGR GET "/api/v1/devices/$DEV_B" - 403
row EA GET "/api/v1/devices/$DEV_A" - 200
row EB GET "/api/v1/devices/$DEV_A" - 403
row MGR PUT "/api/v1/devices/$DEV_A" "{\"owner_id\":\"$U_EA\"}" 200
row MGR PUT "/api/v1/devices/$DEV_B" "{\"owner_id\":\"$U_EB\"}" 403
row EA PUT "/api/v1/devices/$DEV_A" "{\"owner_id\":\"$U_EA\"}" 403
row AUD PUT "/api/v1/devices/$DEV_B" "{\"owner_id\":\"$U_EB\"}" 403

# --- agent routes take device tokens only ---
for w in ADM MGR EA; do row $w GET /api/v1/agent/config - 401; done
api "$TOK_A" GET /api/v1/agent/config
check_st "device token reads its policy" 200
api "$TOK_A" GET /api/v1/me
check_st "a device token is not a user token" 401

# --- queries ---
row ADM GET "/api/v1/users/$U_EA/activity?$R" - 200
row MGR GET "/api/v1/users/$U_EA/activity?$R" - 200
row EA GET "/api/v1/users/$U_EA/activity?$R" - 200
check_eq "employee's own activity totals" "$(jr .totals.keys)" 5
row EB GET "/api/v1/users/$U_EA/activity?$R" - 403
row AUD GET "/api/v1/users/$U_EA/activity?$R" - 403
row AUD GET "/api/v1/users/$U_EB/activity?$R" - 200
row MGR GET "/api/v1/users/$U_EB/activity?$R" - 403
row MGR GET "/api/v1/apps/top?node_id=$TA&$R" - 200
row MGR GET "/api/v1/apps/top?node_id=$TB&$R" - 403
row MGR GET "/api/v1/apps/top?node_id=$P&$R" - 403
row ADM GET "/api/v1/apps/top?node_id=$P&$R" - 200
check_eq "admin's top apps over the project" "$(jr '[.apps[].app] | sort | join(",")')" "app-host-a,app-host-b"
row EA GET "/api/v1/apps/top?user_id=$U_EA&$R" - 200
row EA GET "/api/v1/apps/top?node_id=$TA&$R" - 403
row EB GET "/api/v1/apps/top?user_id=$U_EA&$R" - 403
row AUD GET "/api/v1/apps/top?node_id=$TB&$R" - 200
row MGR GET "/api/v1/devices/$DEV_A/sysinfo?$R" - 200
row MGR GET "/api/v1/devices/$DEV_B/sysinfo?$R" - 403
row EA GET "/api/v1/devices/$DEV_A/sysinfo?$R" - 200
row EB GET "/api/v1/devices/$DEV_A/sysinfo?$R" - 403
row AUD GET "/api/v1/devices/$DEV_B/sysinfo?$R" - 200
row MGR GET "/api/v1/devices/$DEV_A/processes?$R" - 200
check "manager sees team A's processes" grep -q secret-host-a "$T/resp"
row MGR GET "/api/v1/devices/$DEV_B/processes?$R" - 403
row EA GET "/api/v1/devices/$DEV_A/processes?$R" - 200
row EB GET "/api/v1/devices/$DEV_A/processes?$R" - 403
row AUD GET "/api/v1/devices/$DEV_B/processes?$R" - 200
row AUD GET "/api/v1/devices/$DEV_A/processes?$R" - 403
row ADM GET "/api/v1/audit?$R" - 200
check "admin's audit shows both teams" bash -c "jq -e '[.entries[].node_id] | (index(\"$TA\") != null) and (index(\"$TB\") != null)' '$T/resp' >/dev/null"
for w in MGR EA EB; do row $w GET "/api/v1/audit?$R" - 403; done
row AUD GET "/api/v1/audit?$R" - 200
check "auditor's audit is team B's only" bash -c "jq -e '(.entries | length) > 0 and all(.entries[]; .node_id == \"$TB\")' '$T/resp' >/dev/null"

# (after the audit checks: this grant puts EA on team B's audit trail)
# a grant list shows only the grants where the caller may read users
row ADM POST /api/v1/grants "$(g "$U_EA" auditor "$TB")" 201
row MGR GET "/api/v1/grants?user_id=$U_EA" - 200
check_eq "manager of A does not see the grant on B" "$(jr '[.grants[].node_id] | sort | join(",")')" "$TA"
row EA GET "/api/v1/grants?user_id=$U_EA" - 200
check_eq "the holder sees all her grants" "$(jr '[.grants[].node_id] | sort | join(",")')" "$(printf '%s\n' "$TA" "$TB" | sort | paste -sd,)"
row ADM DELETE "/api/v1/grants?user_id=$U_EA&role=auditor&node_id=$TB" - 204

# --- revocation last ---
row MGR POST "/api/v1/devices/$DEV_B/revoke" - 403
row EA POST "/api/v1/devices/$DEV_A/revoke" - 403
row MGR POST "/api/v1/devices/$DEV_A/revoke" - 200
api "$TOK_A" GET /api/v1/agent/config
check_st "revoked device" 401
srv_stop
finish
