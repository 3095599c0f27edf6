#!/usr/bin/env bash
# The access review of a node (GET /api/v1/nodes/{id}/access-review and
# .csv): every grant on the node and below with its creator and date and
# the grantee's last sign-in; the CSV parses and holds the JSON's rows, a
# name that a spreadsheet would run as a formula is neutralised; each
# review is audited; a user without user.read there and another business's
# admin are refused and see nothing of it.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
PY=/usr/bin/python3

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
api "$A" GET /api/v1/me
ADMIN_ID=$(jr .user.id)
U_MGR=$(srv_user mgr@example.com 'Mary, "the" manager' mgr "$TA")
U_EVIL=$(srv_user evil@example.com '=HYPERLINK("http://x","y")' evil "$TB")
U_EB=$(srv_user eb@example.com 'Bob' eb "$TB")
check "setup: users" test -n "$U_MGR" -a -n "$U_EVIL" -a -n "$U_EB"

# step 1: a grant records its creator and date; GET /grants shows them
t0=$(date -u +%Y-%m-%dT%H:%M:%S)
srv_grant "$U_MGR" "$PRJ" manager
check_st "manager grant on the project" 201
check_eq "the created grant names its creator" "$(jr .created_by.id)" "$ADMIN_ID"
api "$A" GET "/api/v1/grants?user_id=$U_MGR"
check_st "grants of mgr" 200
check_eq "GET /grants: created_by.id" \
	"$(jr '.grants[] | select(.role=="manager") | .created_by.id')" "$ADMIN_ID"
check_eq "GET /grants: created_by.login (the admin's)" \
	"$(jr '.grants[] | select(.role=="manager") | .created_by.login')" "admin"
at=$(jr '.grants[] | select(.role=="manager") | .created_at')
check "GET /grants: created_at is of this test ($at >= $t0)" test "$at" \> "$t0"
# the first admin's grant, made by init, has no creator
api "$A" GET "/api/v1/grants?user_id=$ADMIN_ID"
check_eq "init's grant: created_by null" "$(jr '.grants[0].created_by')" "null"

# last sign-in: none before, set by a login
api "$A" GET "/api/v1/users/$U_MGR"
check_eq "no sign-in yet: last_sign_in absent" "$(jr '.last_sign_in // "none"')" "none"
t1=$(date -u +%Y-%m-%dT%H:%M:%S)
MGR=$(login mgr@example.com password-mgr)
check "mgr signs in" test -n "$MGR"
api "$A" GET "/api/v1/users/$U_MGR"
ls1=$(jr .last_sign_in)
check "last_sign_in after the login ($ls1 >= $t1)" test "$ls1" \> "$t1"
# parallel sign-ins of one user all succeed (the user item is written by each)
pids=()
for i in 1 2 3 4; do
	curl -s -o /dev/null -w '%{http_code}\n' -X POST "$SRV_URL/api/v1/auth/login" \
		--data-binary '{"email":"mgr@example.com","password":"password-mgr"}' >"$T/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
check_eq "4 parallel sign-ins of one user: all 200" "$(cat "$T"/par.* | sort -u)" "200"
EB=$(login eb@example.com password-eb)

# step 2: the review of the business: every grant below it
api "$A" GET "/api/v1/nodes/$B/access-review"
check_st "review of the business as admin" 200
cp "$T/resp" "$T/review.json"
check_eq "not truncated" "$(jr .truncated)" "false"
# employee grants of the three users on their teams, and mgr's manager grant
check_eq "rows: 4 grants below the business" "$(jr '.rows | length')" "4"
check_eq "mgr's manager row: creator" \
	"$(jr ".rows[] | select(.user_id==\"$U_MGR\" and .role==\"manager\") | .created_by.login")" admin
check_eq "mgr's manager row: node path" \
	"$(jr ".rows[] | select(.user_id==\"$U_MGR\" and .role==\"manager\") | .node_path")" "Acme/Eng/Core"
check_eq "mgr's rows: last sign-in" \
	"$(jr "[.rows[] | select(.user_id==\"$U_MGR\") | .last_sign_in] | unique | length")" 1
check "mgr's last sign-in is the latest one" test \
	"$(jr ".rows[] | select(.user_id==\"$U_MGR\" and .role==\"manager\") | .last_sign_in")" \> "$t1"
check_eq "evil's row: last sign-in null" \
	"$(jr ".rows[] | select(.user_id==\"$U_EVIL\") | .last_sign_in")" null
check_eq "a team's review holds only its grants" \
	"$(api "$A" GET "/api/v1/nodes/$TB/access-review"; jr '[.rows[].node_id] | unique | join(",")')" "$TB"
api "$A" POST "/api/v1/users/$U_EB/disable" '{}'
check_st "disable eb" 200

# the CSV: parses, the same rows, the formula neutralised
curl -s -D "$T/csv.h" -o "$T/review.csv" -H "Authorization: Bearer $A" \
	"$SRV_URL/api/v1/nodes/$B/access-review.csv"
check "CSV: text/csv" grep -qi '^content-type: text/csv' "$T/csv.h"
check "CSV: lines end with CRLF" $PY -c '
import sys; d=open(sys.argv[1],"rb").read(); assert d.endswith(b"\r\n") and d.count(b"\n")==d.count(b"\r\n")' "$T/review.csv"
api "$A" GET "/api/v1/nodes/$B/access-review"
cp "$T/resp" "$T/review.json"
cat >"$T/cmp.py" <<'PYEOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
js = json.load(open(sys.argv[2]))["rows"]
def n(v): return "" if v is None else ("true" if v is True else "false" if v is False else v)
def unformula(v): return v[1:] if v[:2] in ("'=", "'+", "'-", "'@") else v
assert len(rows) == len(js), (len(rows), len(js))
for c, j in zip(rows, js):
    cb = j["created_by"] or {}
    want = {"user_id": j["user_id"], "login": n(j["login"]), "name": n(j["name"]),
            "role": j["role"], "node_id": j["node_id"], "node_path": j["node_path"],
            "node_name": j["node_name"], "created_by_id": n(cb.get("id")),
            "created_by_login": n(cb.get("login")), "created_at": n(j["created_at"]),
            "last_sign_in": n(j["last_sign_in"]), "disabled": n(j["disabled"])}
    got = {k: unformula(v) for k, v in c.items()}
    assert got == want, (got, want)
print(len(rows))
PYEOF
check_eq "CSV parses (csv module) with the JSON's rows" "$($PY "$T/cmp.py" "$T/review.csv" "$T/review.json" 2>&1)" 4
check_eq "CSV: the formula name starts with '" \
	"$($PY -c 'import csv,sys; print([r["name"] for r in csv.DictReader(open(sys.argv[1],newline="")) if r["login"]=="evil"][0])' "$T/review.csv")" \
	"'=HYPERLINK(\"http://x\",\"y\")"
check_eq "CSV: a name with a comma and quotes comes back whole" \
	"$($PY -c 'import csv,sys; print(sorted({r["name"] for r in csv.DictReader(open(sys.argv[1],newline="")) if r["login"]=="mgr"})[0])' "$T/review.csv")" \
	'Mary, "the" manager'
check_eq "CSV: eb disabled" \
	"$($PY -c 'import csv,sys; print([r["disabled"] for r in csv.DictReader(open(sys.argv[1],newline="")) if r["login"]=="eb"][0])' "$T/review.csv")" true

# audited: who reviewed what, in which format
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "audit: a csv review of the business by the admin" \
	"$(jr "[.entries[] | select(.action==\"access.review\" and .target==\"$B\" and .detail.format==\"csv\")] | length > 0")" true

# refusals: an employee (no user.read), a manager outside their node
EVIL=$(login evil@example.com password-evil)
api "$EVIL" GET "/api/v1/nodes/$B/access-review"
check_st "an employee: 403" 403
api "$EVIL" GET "/api/v1/nodes/$TB/access-review.csv"
check_st "an employee, on their own team, CSV: 403" 403
curl -s -o "$T/eb.csv" -w '%{http_code}' -H "Authorization: Bearer $(login mgr@example.com password-mgr)" \
	"$SRV_URL/api/v1/nodes/$B/access-review.csv" >"$T/st"
check_eq "a manager of the project asks the business: 403" "$(cat "$T/st")" 403
MGR=$(login mgr@example.com password-mgr)
api "$MGR" GET "/api/v1/nodes/$PRJ/access-review"
check_st "a manager of the project reviews it" 200
check_eq "a subtree's review: paths from the business" \
	"$(jr '[.rows[].node_path] | unique | join(",")')" "Acme/Eng/Core,Acme/Eng/Core/A,Acme/Eng/Core/B"
api "" GET "/api/v1/nodes/$B/access-review"
check_st "no token: 401" 401
api "$A" GET "/api/v1/nodes/n_nosuch/access-review"
check_st "unknown node: 404" 404
api "$A" GET "/api/v1/nodes/$(head -c 300 /dev/zero | tr '\0' n)/access-review.csv"
check_st "an over-long id: 404" 404

# another business's admin: 403 on ours, and their own review shows none of ours
G=$(srv_node business Globex root)
GD=$(srv_node domain GD "$G")
GP=$(srv_node project GP "$GD")
GT=$(srv_node team GT "$GP")
U_GADM=$(srv_user gadm@example.com 'Globex admin' gadm "$GT")
srv_grant "$U_GADM" "$G" admin
check_st "setup: Globex admin" 201
GADM=$(login gadm@example.com password-gadm)
api "$GADM" GET "/api/v1/nodes/$B/access-review"
check_st "another business's admin: JSON 403" 403
check "the 403 holds none of our users" sh -c "! grep -q -e '$U_MGR' -e mgr '$T/resp'"
api "$GADM" GET "/api/v1/nodes/$B/access-review.csv"
check_st "another business's admin: CSV 403" 403
api "$GADM" GET "/api/v1/nodes/root/access-review"
check_st "another business's admin: root 403" 403
api "$GADM" GET "/api/v1/nodes/$G/access-review"
check_st "Globex admin reviews Globex" 200
check_eq "Globex's review: only Globex grants" "$(jr "[.rows[].node_path | split(\"/\")[0]] | unique | join(\",\")")" Globex
check "Globex's review holds none of Acme's users" sh -c "! grep -q -e '$U_MGR' -e '$U_EB' -e '$U_EVIL' '$T/resp'"

finish
