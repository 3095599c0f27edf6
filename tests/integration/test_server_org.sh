#!/usr/bin/env bash
# actlog-server: init/serve, sign-in, /me, nodes, users, roles, grants —
# every route with its success and failure statuses, against the real binary
# on loopback with a real LMDB store.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
jrok() { jq -e "$1" "$T/resp" >/dev/null 2>&1; }

# --- init ---
srv_init
check "init creates the store" test -f "$SRV_DIR/data.mdb"
check_eq "master key is 0600" "$(stat -c %a "$SRV_DIR/master.key")" 600
check_eq "store dir is 0700" "$(stat -c %a "$SRV_DIR")" 700
check "init prints the admin" grep -q "admin:    $ADMIN_EMAIL" "$T/init.out"
if "$SRV_BIN" init --data-dir "$SRV_DIR" --admin-email x@y.z --admin-password-file "$T/admin.pw" >"$T/o" 2>&1; then
	fail "init over an existing store must fail"
else
	check "init refuses an existing store" grep -q "refusing to overwrite" "$T/o"
fi
echo short >"$T/short.pw"
if "$SRV_BIN" init --data-dir "$T/other" --admin-email x@y.z --admin-password-file "$T/short.pw" >"$T/o" 2>&1; then
	fail "a short password must be refused"
else
	check "init refuses a short password" grep -q "password must be" "$T/o"
fi
check "refused init leaves no store" test ! -e "$T/other/data.mdb"
"$SRV_BIN" init --data-dir "$T/x" --admin-email not-an-email --admin-password-file "$T/admin.pw" >"$T/o" 2>&1
check_eq "init: bad email exits 2" "$?" 2
"$SRV_BIN" --help >"$T/o" 2>&1
check "--help describes serve" grep -q 'serve --data-dir' "$T/o"

# --- serve refusals ---
"$SRV_BIN" serve --data-dir "$SRV_DIR" --listen 0.0.0.0:0 >"$T/o" 2>&1
check_eq "plain HTTP off loopback refused (exit 2)" "$?" 2
check "the refusal says why" grep -q 'refusing plain HTTP' "$T/o"
"$SRV_BIN" serve --data-dir "$T/nostore" --listen 127.0.0.1:0 >"$T/o" 2>&1
check_eq "serve without a store fails" "$?" 1
check "and says to run init" grep -q 'run actlog-server init' "$T/o"
chmod 0644 "$SRV_DIR/master.key"
"$SRV_BIN" serve --data-dir "$SRV_DIR" --listen 127.0.0.1:0 >"$T/o" 2>&1
check_eq "a world-readable key file is refused" "$?" 1
chmod 0600 "$SRV_DIR/master.key"

# TLS: HTTPS on any address
need openssl
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout "$T/tls.key" \
	-out "$T/tls.pem" >/dev/null 2>&1
"$SRV_BIN" serve --data-dir "$SRV_DIR" --listen 0.0.0.0:0 --tls-cert "$T/tls.pem" --tls-key "$T/tls.key" >"$T/tls.log" 2>&1 &
tls_pid=$!
cleanup_add "kill $tls_pid"
if wait_for 10 grep -qs 'event=started.*tls=on' "$T/tls.log"; then
	pass "TLS allows a non-loopback address"
	tport=$(sed -n 's/.*event=started.* port=\([0-9]*\).*/\1/p' "$T/tls.log")
	code=$(curl -s -o "$T/tls.resp" -w '%{http_code}' --cacert "$T/tls.pem" "https://localhost:$tport/api/v1/me")
	check_eq "HTTPS answers (401 without a token)" "$code" 401
	check "plain HTTP to the TLS port fails" not curl -s -f -o /dev/null --max-time 5 "http://127.0.0.1:$tport/api/v1/me"
else
	fail "TLS server did not start: $(tail -2 "$T/tls.log")"
fi
kill -TERM $tls_pid; wait $tls_pid
check_eq "TLS server stops cleanly" "$?" 0
"$SRV_BIN" serve --data-dir "$SRV_DIR" --tls-cert "$T/tls.pem" >"$T/o" 2>&1
check_eq "--tls-cert without --tls-key is a usage error" "$?" 2

srv_start --token-ttl 3
check "structured start line" grep -q 'event=started .*store=lmdb' "$SRV_LOG"

# --- auth ---
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
check "admin signs in" test -n "$A"
check_eq "token is a bearer token" "${A:0:4}" alt_
api "" POST /api/v1/auth/login "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"nope-nope\"}"
check_st "wrong password" 401
api "" POST /api/v1/auth/login '{"email":"ghost@example.com","password":"whatever1"}'
check_st "unknown account" 401
api "" POST /api/v1/auth/login '{"email":"x"'
check_st "malformed JSON" 400
api "" POST /api/v1/auth/login '{"email":"a@b.c"}'
check_st "missing password" 400
api "" GET /api/v1/me
check_st "no token" 401
api "alt_garbage" GET /api/v1/me
check_st "garbage token" 401
api "alt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /api/v1/me
check_st "well-formed unknown token" 401
api "$A" GET /api/v1/me
check_st "me" 200
check_eq "me: email" "$(jr .user.email)" "$ADMIN_EMAIL"
check_eq "me: grant admin on root" "$(jr '.grants[0].role + "@" + .grants[0].node_id')" "admin@root"
check "me: no password hash" not grep -q argon2 "$T/resp"
sleep 3.2
api "$A" GET /api/v1/me
check_st "expired token" 401
check "expired token says so" grep -q expired "$T/resp"
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
L=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
api "$L" POST /api/v1/auth/logout
check_st "logout" 204
api "$L" GET /api/v1/me
check_st "logged-out token refused" 401
api "$A" GET /api/v1/me
check_st "other tokens stay valid" 200
srv_stop
check "SIGTERM stops cleanly (exit 0)" test $? -eq 0
check "stop is logged" grep -q 'event=stopped' "$SRV_LOG"

srv_start
# a small gzip JSON body inflating far past the 64 KiB cap is refused
# without being inflated (first thing after the start, so that the peak
# RSS is not already raised by a password hash)
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$SRV_PID/status"; }
head -c $((60 << 20)) /dev/zero | gzip -c >"$T/bomb.gz"
h0=$(hwm)
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Content-Encoding: gzip' \
	--data-binary @"$T/bomb.gz" "$SRV_URL/api/v1/auth/login")
check_st "a gzip body inflating past 64 KiB (sign-in, no token)" 413
h1=$(hwm)
check "it is not inflated in memory (peak RSS +$(((h1 - h0) >> 10)) MiB)" test $((h1 - h0)) -lt $((16 << 10))
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
check "store survives a restart" test -n "$A"

# --- nodes ---
api "$A" GET /api/v1/nodes/root/children
check_st "root children" 200
B=$(jr '.children[0].id')
check_eq "the first business" "$(jr '.children[0].name')" Acme
api "$A" POST /api/v1/nodes "{\"type\":\"domain\",\"name\":\"Engineering\",\"parent_id\":\"$B\"}"
check_st "create domain" 201
D=$(jr .id)
api "$A" POST /api/v1/nodes "{\"type\":\"project\",\"name\":\"Apollo\",\"parent_id\":\"$D\"}"
check_st "create project" 201
P=$(jr .id)
check_eq "path from root" "$(jr '.path | join("/")')" "root/$B/$D/$P"
api "$A" POST /api/v1/nodes "{\"type\":\"team\",\"name\":\"Red\",\"parent_id\":\"$P\"}"
check_st "create team" 201
TA=$(jr .id)
api "$A" POST /api/v1/nodes "{\"type\":\"team\",\"name\":\"Blue\",\"parent_id\":\"$P\"}"
TB=$(jr .id)
api "$A" POST /api/v1/nodes "{\"type\":\"team\",\"name\":\"Bad\",\"parent_id\":\"$D\"}"
check_st "team under a domain" 400
api "$A" POST /api/v1/nodes "{\"type\":\"galaxy\",\"name\":\"G\",\"parent_id\":\"$D\"}"
check_st "unknown type" 400
api "$A" POST /api/v1/nodes "{\"type\":\"domain\",\"name\":\"\",\"parent_id\":\"$B\"}"
check_st "empty name" 400
api "$A" POST /api/v1/nodes "{\"type\":\"domain\",\"name\":\"$(head -c 300 /dev/zero | tr '\0' x)\",\"parent_id\":\"$B\"}"
check_st "name over the cap" 400
api "$A" POST /api/v1/nodes '{"type":"domain","name":"N","parent_id":"n_0000000000000000"}'
check_st "unknown parent" 404
api "$A" POST /api/v1/nodes '{"type":"business","name":"Second"}'
check_st "a second business (root admin)" 201
B2=$(jr .id)
api "$A" GET "/api/v1/nodes/$TA"
check_st "get node" 200
check_eq "get node: name" "$(jr .name)" Red
api "$A" GET /api/v1/nodes/n_ffffffffffffffff
check_st "unknown node" 404
api "$A" GET /api/v1/nodes/zzz
check_st "malformed node id" 404
api "$A" GET "/api/v1/nodes/$P/children"
check_eq "children of the project" "$(jr '[.children[].name] | sort | join(",")')" "Blue,Red"
api "$A" PATCH "/api/v1/nodes/$TB" '{"name":"Azure"}'
check_st "rename" 200
api "$A" GET "/api/v1/nodes/$P/children"
check "rename shows in the parent's list" grep -q Azure "$T/resp"
api "$A" PATCH "/api/v1/nodes/$TB" '{"name":7}'
check_st "rename with a number" 400
api "$A" DELETE "/api/v1/nodes/$B2"
check_st "delete an empty business" 204
api "$A" GET "/api/v1/nodes/$B2"
check_st "deleted node is gone" 404
api "$A" DELETE "/api/v1/nodes/$P"
check_st "delete a node with children" 409

# --- users ---
mkuser() { # EMAIL TEAM [LOGIN]
	local extra=
	[ -n "${3:-}" ] && extra=",\"login\":\"$3\""
	api "$A" POST /api/v1/users "{\"email\":\"$1\",\"name\":\"N $1\",\"password\":\"pw-$1\",\"team_id\":\"$2\"$extra}"
}
mkuser alice@example.com "$TA" alice
check_st "create user" 201
UA=$(jr .id)
check "user view has no hash" not grep -q '"pw"' "$T/resp"
mkuser bob@example.com "$TB"
UB=$(jr .id)
check_eq "login defaults to the email's local part" "$(jr .login)" bob
mkuser ALICE@example.com "$TA"
check_st "duplicate email (case-insensitive)" 409
mkuser carol@example.com "$P"
check_st "user on a project, not a team" 400
api "$A" POST /api/v1/users "{\"email\":\"d@example.com\",\"name\":\"D\",\"password\":\"short\",\"team_id\":\"$TA\"}"
check_st "short password" 400
api "$A" POST /api/v1/users "{\"email\":\"no-at\",\"name\":\"D\",\"password\":\"longenough\",\"team_id\":\"$TA\"}"
check_st "bad email" 400
mkuser eve@example.com "$TA" "Eve Root"
check_st "bad login name" 400
api "$A" GET "/api/v1/users/$UA"
check_st "get user" 200
api "$A" GET /api/v1/users/u_0000000000000000
check_st "unknown user" 404
api "$A" GET "/api/v1/users?node_id=$P"
check_eq "users below the project" "$(jr '[.users[].email] | sort | join(",")')" "alice@example.com,bob@example.com"
api "$A" GET "/api/v1/users?node_id=$TA"
check_eq "users of team Red" "$(jr '[.users[].email] | join(",")')" "alice@example.com"
api "$A" GET /api/v1/users
check_st "list without node_id" 400
ALI=$(login alice@example.com pw-alice@example.com)
api "$ALI" GET /api/v1/me
check_eq "new user is employee on the team" "$(jr '.grants[0].role + "@" + .grants[0].node_id')" "employee@$TA"
check_eq "me: team" "$(jr .team.name)" Red
api "$ALI" GET "/api/v1/users/$UA"
check_st "employee reads herself" 200
api "$ALI" GET "/api/v1/users/$UB"
check_st "employee reads a colleague" 403
api "$ALI" GET "/api/v1/users?node_id=$TA"
check_st "employee lists users" 403
api "$A" PATCH "/api/v1/users/$UA" '{"name":"Alice A.","login":"alicea"}'
check_st "patch user" 200
check_eq "patched login" "$(jr .login)" alicea
api "$A" PATCH "/api/v1/users/$UA" '{"disabled":"yes"}'
check_st "disabled must be a bool" 400
api "$A" POST "/api/v1/users/$UA/disable"
check_st "disable" 200
api "$ALI" GET /api/v1/me
check_st "disabled user's token is revoked" 401
api "" POST /api/v1/auth/login '{"email":"alice@example.com","password":"pw-alice@example.com"}'
check_st "disabled user cannot sign in" 401
api "$A" POST "/api/v1/users/$UA/enable"
check_st "enable" 200
api "$ALI" GET /api/v1/me
check_st "enabling brings no token back" 401
ALI=$(login alice@example.com pw-alice@example.com)
api "$ALI" GET /api/v1/me
check_st "enabled again: she signs in" 200
AID=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
api "$A" GET /api/v1/me
ME=$(jr .user.id)
api "$A" POST "/api/v1/users/$ME/disable"
check_st "nobody disables themselves" 409
BOB0=$(login bob@example.com pw-bob@example.com)
api "$A" PATCH "/api/v1/users/$UB" '{"password":"new-password-b"}'
check_st "set a password" 200
check "new password works" test -n "$(login bob@example.com new-password-b)"
api "$BOB0" GET /api/v1/me
check_st "a session from before the password was set has ended" 401
check "and says why" grep -q "revoked" "$T/resp"
api "$A" GET /api/v1/me
check_st "the admin who set it stays signed in" 200
# a user changes their own password: this session goes on, the others end
# (dave: sign-ins take from the per-account bucket)
mkuser dave@example.com "$TA"
UD=$(jr .id)
D1=$(login dave@example.com pw-dave@example.com)
D2=$(login dave@example.com pw-dave@example.com)
mepw() { api "$1" POST /api/v1/me/password "$(jq -nc --arg c "$2" --arg n "$3" '{current_password:$c,new_password:$n}')"; }
mepw "$D1" wrong-password-d new-password-d
check_st "own password: a wrong current password" 403
mepw "$D1" pw-dave@example.com short
check_st "own password: too short" 400
api "$D1" POST /api/v1/me/password '{"new_password":"new-password-d"}'
check_st "own password: current missing" 400
mepw "" pw-dave@example.com new-password-d
check_st "own password: not signed in" 401
api "$D1" GET /api/v1/me
check_st "refusals end no session" 200
mepw "$D1" pw-dave@example.com new-password-d
check_st "own password changed" 204
api "$D1" GET /api/v1/me
check_st "the session that changed it goes on" 200
check "the user view has no session marker" not grep -q sessions_after "$T/resp"
api "$D2" GET /api/v1/me
check_st "the user's other session has ended" 401
check "the old password no longer signs in" not login dave@example.com pw-dave@example.com
check "the new one does" test -n "$(login dave@example.com new-password-d)"
api "$A" GET "/api/v1/audit?limit=1000"
check "audit: the password change and the wrong attempt" jq -e \
	"[.entries[] | select(.action == \"user.password\" and .target == \"$UD\") | .result] | sort == [\"bad_password\", \"ok\"]" "$T/resp"
api "$A" DELETE "/api/v1/nodes/$TA"
check_st "delete a team with users" 409
# a team deleted while a user is being created in it (the password hash
# takes a while): no user is left behind in a team that is gone
api "$A" POST /api/v1/nodes "{\"type\":\"team\",\"name\":\"Doomed\",\"parent_id\":\"$P\"}"
TD=$(jr .id)
curl -s -o "$T/doomed.resp" -w '%{http_code}' --max-time 30 -X POST -H "Authorization: Bearer $A" \
	-H 'Content-Type: application/json' "$SRV_URL/api/v1/users" \
	--data-binary "{\"email\":\"doomed@example.com\",\"name\":\"D\",\"password\":\"password-d\",\"team_id\":\"$TD\"}" \
	>"$T/doomed.st" &
doomed=$!
sleep 0.05
api "$A" DELETE "/api/v1/nodes/$TD"
del_st=$ST
wait $doomed
check "team deleted or user created, never both ($del_st, $(cat "$T/doomed.st"))" \
	test "$del_st:$(cat "$T/doomed.st")" != 204:201

# --- roles ---
api "$A" GET /api/v1/roles
check_st "list roles" 200
check_eq "built-ins" "$(jr '[.roles[] | select(.builtin) | .name] | join(",")')" "admin,manager,employee"
api "$A" POST /api/v1/roles '{"name":"auditor","permissions":["audit.read","activity.read","user.read"]}'
check_st "create custom role" 201
api "$A" POST /api/v1/roles '{"name":"auditor","permissions":["audit.read"]}'
check_st "duplicate role" 409
api "$A" POST /api/v1/roles '{"name":"manager","permissions":[]}'
check_st "built-in name" 409
api "$A" POST /api/v1/roles '{"name":"x","permissions":["fly"]}'
check_st "unknown permission" 400
api "$A" POST /api/v1/roles '{"name":"Bad Name","permissions":[]}'
check_st "bad role name" 400
api "$A" POST /api/v1/roles '{"name":"temp","permissions":"node.read"}'
check_st "permissions not an array" 400
api "$ALI" POST /api/v1/roles '{"name":"mine","permissions":["node.read"]}'
check_st "employee creates a role" 403
api "$A" POST /api/v1/roles '{"name":"temp","permissions":["node.read"]}'
api "$A" DELETE /api/v1/roles/temp
check_st "delete custom role" 204
api "$A" DELETE /api/v1/roles/temp
check_st "delete it again" 404
api "$A" DELETE /api/v1/roles/admin
check_st "delete a built-in" 409

# --- grants ---
api "$A" POST /api/v1/grants "{\"user_id\":\"$UB\",\"role\":\"manager\",\"node_id\":\"$TB\"}"
check_st "grant manager on a team" 201
api "$A" POST /api/v1/grants "{\"user_id\":\"$UB\",\"role\":\"manager\",\"node_id\":\"$TB\"}"
check_st "same grant twice" 409
api "$A" POST /api/v1/grants "{\"user_id\":\"$UB\",\"role\":\"king\",\"node_id\":\"$TB\"}"
check_st "unknown role" 400
api "$A" POST /api/v1/grants "{\"user_id\":\"u_0000000000000000\",\"role\":\"manager\",\"node_id\":\"$TB\"}"
check_st "grant to an unknown user" 404
api "$A" POST /api/v1/grants "{\"user_id\":\"$UB\",\"role\":\"manager\"}"
check_st "grant without node" 400
BOB=$(login bob@example.com new-password-b)
api "$BOB" GET /api/v1/me
check_eq "me lists both grants" "$(jr '[.grants[].role] | sort | join(",")')" "employee,manager"
api "$BOB" GET "/api/v1/users?node_id=$TB"
check_st "manager lists his team" 200
api "$BOB" POST /api/v1/users "{\"email\":\"new@example.com\",\"name\":\"New\",\"password\":\"newnewnew\",\"team_id\":\"$TB\"}"
check_st "manager creates a user in his team" 201
api "$BOB" GET "/api/v1/users?node_id=$TA"
check_st "manager lists another team" 403
api "$BOB" GET "/api/v1/users/$UA"
check_st "manager reads a user of another team" 403
api "$BOB" POST /api/v1/grants "{\"user_id\":\"$UB\",\"role\":\"admin\",\"node_id\":\"$TB\"}"
check_st "manager cannot grant" 403
api "$A" POST /api/v1/roles '{"name":"granter","permissions":["grant.write","user.read"]}'
api "$A" POST /api/v1/grants "{\"user_id\":\"$UB\",\"role\":\"granter\",\"node_id\":\"$TB\"}"
BOB=$(login bob@example.com new-password-b)
api "$BOB" POST /api/v1/grants "{\"user_id\":\"$UA\",\"role\":\"admin\",\"node_id\":\"$TB\"}"
check_st "no escalation: granting more than one holds" 403
api "$BOB" POST /api/v1/grants "{\"user_id\":\"$UA\",\"role\":\"employee\",\"node_id\":\"$TB\"}"
check_st "granting what one holds" 201
api "$A" POST /api/v1/grants "{\"user_id\":\"$UA\",\"role\":\"admin\",\"node_id\":\"$TB\"}"
api "$BOB" DELETE "/api/v1/grants?user_id=$UA&role=admin&node_id=$TB"
check_st "no revoking more than one holds" 403
api "$BOB" DELETE "/api/v1/grants?user_id=$UA&role=employee&node_id=$TB"
check_st "revoking what one holds" 204
api "$A" DELETE "/api/v1/grants?user_id=$UA&role=admin&node_id=$TB"
api "$A" GET "/api/v1/grants?user_id=$UB"
check_eq "list grants" "$(jr '[.grants[].role] | sort | join(",")')" "employee,granter,manager"
api "$BOB" DELETE "/api/v1/grants?user_id=$UB&role=manager&node_id=$TB"
check_st "nobody revokes their own grant" 409
api "$A" DELETE "/api/v1/grants?user_id=$UB&role=manager&node_id=$TB"
check_st "revoke" 204
api "$A" DELETE "/api/v1/grants?user_id=$UB&role=manager&node_id=$TB"
check_st "revoke again" 404
api "$BOB" POST /api/v1/users "{\"email\":\"zed@example.com\",\"name\":\"Z\",\"password\":\"zedzedzed\",\"team_id\":\"$TB\"}"
check_st "revoked grant no longer applies" 403
# a custom role deleted and created again under its name is another role:
# the grants of the deleted one stay without permissions
api "$A" POST /api/v1/roles '{"name":"phoenix","permissions":["self.read"]}'
api "$A" POST /api/v1/grants "{\"user_id\":\"$UA\",\"role\":\"phoenix\",\"node_id\":\"$TA\"}"
check_st "grant a custom role" 201
api "$A" DELETE /api/v1/roles/phoenix
check_st "delete the granted role" 204
api "$A" POST /api/v1/roles '{"name":"phoenix","permissions":["audit.read","user.read"]}'
check_st "a new role under the deleted one's name" 201
api "$ALI" GET /api/v1/me
check_eq "the old grant carries nothing of the new role" \
	"$(jr '[.grants[] | select(.role == "phoenix") | .permissions[]] | join(",")')" ""
api "$ALI" GET /api/v1/audit
check_st "nor its audit.read" 403
api "$A" DELETE "/api/v1/grants?user_id=$UA&role=phoenix&node_id=$TA"
api "$A" POST /api/v1/grants "{\"user_id\":\"$UA\",\"role\":\"phoenix\",\"node_id\":\"$TA\"}"
check_st "granting the new role" 201
api "$ALI" GET /api/v1/me
check_eq "a new grant carries the new role" \
	"$(jr '[.grants[] | select(.role == "phoenix") | .permissions[]] | join(",")')" "user.read,audit.read"

# --- bad input ---
api "$A" POST /api/v1/nodes "$(head -c 70000 /dev/zero | tr '\0' ' '){}"
check_st "JSON body over 64 KiB" 413
api "$A" POST /api/v1/nodes '[1,2]'
check_st "JSON array body" 400
api "$A" POST /api/v1/nodes $'{"type":"domain","name":"a\\u0001b","parent_id":"'"$B"'"}'
check_st "control character in a name" 400
# an encoded NUL is a control character too: cJSON decodes it into a 0 byte,
# and every check after it would see "a" (or a shorter email, or the first
# of two "name" keys)
api "$A" POST /api/v1/nodes '{"type":"domain","name":"a\u0000b","parent_id":"'"$B"'"}'
check_st "NUL (\\u0000) in a name" 400
check "the refusal names the field and the character" jrok '.error | test("field .name. holds a control character")'
api "$A" POST /api/v1/nodes '{"type":"domain","name":"Nul\u0000","parent_id":"'"$B"'"}'
check_st "NUL at the end of a name" 400
api "$A" POST /api/v1/users '{"email":"nul@example.com","name":"N\u0000x","password":"password-nul","team_id":"'"$TA"'"}'
check_st "NUL in a user's name" 400
api "$A" POST /api/v1/users '{"email":"nul@example.com\u0000.evil","name":"N","password":"password-nul","team_id":"'"$TA"'"}'
check_st "NUL in an email" 400
api "$A" POST /api/v1/nodes '{"type":"domain","name\u0000x":"Shadow","name":"Plain","parent_id":"'"$B"'"}'
check_st "NUL in a field name" 400
api "$A" POST /api/v1/roles '{"name":"nulrole","permissions":["node.read\u0000x"]}'
check_st "NUL in an array element" 400
check "the refusal names the array" jrok '.error | test("field .permissions.")'
api "$A" PUT "/api/v1/nodes/$TA/config" '{"values":{"s3.region":"eu\u0000x"}}'
check_st "NUL in a config value" 400
api "" POST /api/v1/auth/login "{\"email\":\"$ADMIN_EMAIL\\u0000x\",\"password\":\"$ADMIN_PW\"}"
check_st "NUL in the sign-in email" 400
printf '{"type":"domain","name":"raw\0nul","parent_id":"%s"}' "$B" >"$T/raw-nul.json"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $A" --data-binary @"$T/raw-nul.json" "$SRV_URL/api/v1/nodes")
check_st "a raw NUL byte in a name" 400
api "$A" GET "/api/v1/nodes/$B/children"
check "none of those nodes was created" jrok '[.children[].name] | all(. != "a" and . != "Nul" and . != "Shadow" and . != "raw")'
# an escaped backslash before u0000 is text, not a NUL
api "$A" POST /api/v1/nodes '{"type":"domain","name":"a\\u0000b","parent_id":"'"$B"'"}'
check_st "a backslash and u0000 as text" 201
check_eq "kept as sent" "$(jr .name)" 'a\u0000b'
api "$A" DELETE "/api/v1/nodes/$(jr .id)"
check_st "delete it" 204
api "$A" PUT /api/v1/nodes/root
check_st "wrong method" 405
printf '{"email":"\xff\xfe@example.com","password":"whatever1"}' >"$T/bad-email.json"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary @"$T/bad-email.json" "$SRV_URL/api/v1/auth/login")
check_st "sign-in with an email that is not UTF-8" 400

# --- login rate limit (last: it spends this address's bucket) ---
for i in $(seq 1 12); do
	api "" POST /api/v1/auth/login '{"email":"alice@example.com","password":"wrong-wrong"}'
done
check_st "repeated failed logins are limited" 429
curl -s -D "$T/h" -o /dev/null -X POST "$SRV_URL/api/v1/auth/login" -d '{"email":"alice@example.com","password":"x"}'
check "429 carries Retry-After" grep -qi '^Retry-After: [0-9]' "$T/h"

# --- audit trail of the above (raw store, so this test does not depend on
# the audit route) ---
srv_stop
check "audit: failed logins recorded" grep -aq 'bad_password' "$SRV_DIR/data.mdb"
check "audit: grant changes recorded" grep -aq 'grant.revoke' "$SRV_DIR/data.mdb"
check "audit: role changes recorded" grep -aq 'role.create' "$SRV_DIR/data.mdb"
check "passwords never in the store" not grep -aq "pw-alice@example.com" "$SRV_DIR/data.mdb"
check "passwords never in the logs" not grep -q "pw-alice\|$ADMIN_PW" "$T"/server.*.log
check "tokens never in the logs" not grep -q "$A" "$T"/server.*.log
finish
