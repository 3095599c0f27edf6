#!/usr/bin/env bash
# Custom roles of a business (POST /api/v1/roles with business_id): a
# business admin creates one, grants it in their business, is refused in
# another; another business neither sees nor uses it; global roles stay
# the root admins'; the no-escalation refusal names the missing permission.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
G=$(srv_node business Globex root)
GD=$(srv_node domain GD "$G")
GP=$(srv_node project GP "$GD")
GT=$(srv_node team GT "$GP")
U_BADM=$(srv_user badm@example.com 'Acme admin' badm "$TA")
U_EA=$(srv_user ea@example.com 'Ann' ea "$TA")
U_GR=$(srv_user gr@example.com 'Granter' gr "$TA")
U_GADM=$(srv_user gadm@example.com 'Globex admin' gadm "$GT")
U_GU=$(srv_user gu@example.com 'Gus' gu "$GT")
srv_grant "$U_BADM" "$B" admin
check_st "setup: Acme's admin" 201
srv_grant "$U_GADM" "$G" admin
check_st "setup: Globex's admin" 201
BADM=$(login badm@example.com password-badm)
GADM=$(login gadm@example.com password-gadm)
EA=$(login ea@example.com password-ea)

# creation: on their business, not global, not on another business
api "$BADM" POST /api/v1/roles "{\"name\":\"acme-auditor\",\"permissions\":[\"audit.read\",\"user.read\"],\"business_id\":\"$B\"}"
check_st "a business admin creates a role of their business" 201
check_eq "the role names its business" "$(jr .business_id)" "$B"
api "$BADM" POST /api/v1/roles '{"name":"acme-global","permissions":["user.read"]}'
check_st "a business admin creates no global role" 403
api "$GADM" POST /api/v1/roles "{\"name\":\"sneaky\",\"permissions\":[\"user.read\"],\"business_id\":\"$B\"}"
check_st "another business's admin creates none in Acme" 403
api "$BADM" POST /api/v1/roles "{\"name\":\"teamrole\",\"permissions\":[],\"business_id\":\"$TA\"}"
check_st "business_id must be a business" 400
api "$BADM" POST /api/v1/roles '{"name":"r","permissions":[],"business_id":"n_nosuch"}'
check_st "unknown business: 404" 404
api "$BADM" POST /api/v1/roles "{\"name\":\"r\",\"permissions\":[],\"business_id\":\"$(head -c 100 /dev/zero | tr '\0' n)\"}"
check_st "an over-long business_id: 400" 400
api "$GADM" POST /api/v1/roles "{\"name\":\"acme-auditor\",\"permissions\":[],\"business_id\":\"$G\"}"
check_st "role names are unique across businesses: 409" 409
api "$A" POST /api/v1/roles '{"name":"global-reader","permissions":["user.read"]}'
check_st "the root admin creates a global role" 201
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "audited on the business" \
	"$(jr '.entries[] | select(.action=="role.create" and .target=="acme-auditor") | .node_id')" "$B"

# listing: only the business's members see its roles
names() { api "$1" GET /api/v1/roles; jr '[.roles[].name] | sort | join(",")'; }
check_eq "Acme's admin sees Acme's role and the global ones" "$(names "$BADM")" \
	"acme-auditor,admin,employee,global-reader,manager"
check_eq "an Acme employee sees it too" "$(names "$EA")" "acme-auditor,admin,employee,global-reader,manager"
check_eq "Globex's admin does not" "$(names "$GADM")" "admin,employee,global-reader,manager"
check_eq "the root admin sees all" "$(names "$A")" "acme-auditor,admin,employee,global-reader,manager"

# granting: in Acme yes; on Globex's nodes no; Globex cannot use it
api "$BADM" POST /api/v1/grants "{\"user_id\":\"$U_EA\",\"node_id\":\"$TA\",\"role\":\"acme-auditor\"}"
check_st "Acme's admin grants it in Acme" 201
EA=$(login ea@example.com password-ea)
api "$EA" GET "/api/v1/users?node_id=$TA"
check_st "the role works: user.read on team A" 200
check "the role works: team A's users listed" test "$(jr '.users | length')" -ge 3
api "$A" POST /api/v1/grants "{\"user_id\":\"$U_GU\",\"node_id\":\"$GT\",\"role\":\"acme-auditor\"}"
check_st "even the root admin grants it on no Globex node" 403
check "the refusal says why" grep -q "belongs to another business" "$T/resp"
api "$GADM" POST /api/v1/grants "{\"user_id\":\"$U_GU\",\"node_id\":\"$GT\",\"role\":\"acme-auditor\"}"
check_st "Globex's admin cannot use it: unknown role" 400
cp "$T/resp" "$T/hidden"
api "$GADM" POST /api/v1/grants "{\"user_id\":\"$U_GU\",\"node_id\":\"$GT\",\"role\":\"acme-nosuch\"}"
check_eq "the same answer as for no such role" "$(sed 's/acme-nosuch/X/' "$T/resp")" "$(sed 's/acme-auditor/X/' "$T/hidden")"
api "$BADM" POST /api/v1/grants "{\"user_id\":\"$U_GU\",\"node_id\":\"$GT\",\"role\":\"acme-auditor\"}"
check_st "Acme's admin grants nothing on Globex's team" 403
api "$GADM" DELETE /api/v1/roles/acme-auditor
check_st "Globex's admin cannot delete it: 404" 404
api "$GADM" GET "/api/v1/grants?user_id=$U_EA"
check_st "Globex's admin sees none of Acme's grants" 403

# no escalation, and the refusal names the missing permission
api "$BADM" POST /api/v1/roles "{\"name\":\"acme-granter\",\"permissions\":[\"grant.write\",\"user.read\"],\"business_id\":\"$B\"}"
check_st "a granter role" 201
api "$BADM" POST /api/v1/grants "{\"user_id\":\"$U_GR\",\"node_id\":\"$TA\",\"role\":\"acme-granter\"}"
check_st "granted" 201
GR=$(login gr@example.com password-gr)
api "$GR" POST /api/v1/grants "{\"user_id\":\"$U_EA\",\"node_id\":\"$TA\",\"role\":\"acme-auditor\"}"
check_st "escalation refused" 403
check "the refusal names audit.read" grep -q "lack here: audit.read" "$T/resp"
check "and not user.read, which they hold" sh -c "! grep -q 'user.read' '$T/resp'"
api "$GR" DELETE "/api/v1/grants?user_id=$U_EA&role=acme-auditor&node_id=$TA"
check_st "revoking a stronger role refused" 403
check "the revoke refusal names audit.read" grep -q "audit.read" "$T/resp"

# deleting: the business's admin may, its grants stop working
api "$BADM" DELETE /api/v1/roles/acme-auditor
check_st "Acme's admin deletes Acme's role" 204
EA=$(login ea@example.com password-ea)
api "$EA" GET "/api/v1/users?node_id=$TA"
check "the deleted role carries nothing" test "$(jr '.users | length')" -le 1
api "$BADM" DELETE /api/v1/roles/global-reader
check_st "a business admin deletes no global role" 403

# a role of a business deleted since: only the root's admins see it
TMP=$(srv_node business Tmp root)
api "$A" POST /api/v1/roles "{\"name\":\"tmp-role\",\"permissions\":[],\"business_id\":\"$TMP\"}"
check_st "a role of an empty business" 201
api "$A" DELETE "/api/v1/nodes/$TMP"
check_st "the business deleted" 204
check_eq "the root admin still lists its role" "$(names "$A" | grep -o tmp-role)" tmp-role
check_eq "Globex's admin does not" "$(names "$GADM" | grep -o tmp-role)" ""
api "$A" DELETE /api/v1/roles/tmp-role
check_st "the root admin deletes it" 204

finish
