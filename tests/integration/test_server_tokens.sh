#!/usr/bin/env bash
# actlog-server: personal API tokens against the real binary — a user makes
# one (shown once, "alp_"), uses it on a read route within its scopes, is
# refused (403) outside them and when the grant behind a scope is revoked;
# a scope the user does not hold, an unknown one, bad names and expiries are
# refused at creation; a short expiry ends it (401); revoke ends it (401);
# the list holds no secret and the store holds only its hash (dump); another
# user (also of another business) neither sees nor revokes it; a disabled
# user's token answers 401, a password change ends it; a personal token
# cannot make tokens, change the password or sign out; at most 20 per user;
# create and revoke are audited.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need sha256sum
need base64

srv_init || { fail "init: $(cat "$T/init.out")"; finish; }
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
check "admin signs in" test -n "$A"
srv_tree
UM=$(srv_user mgr@example.com Mgr mgr "$TA")
UE=$(srv_user emp@example.com Emp emp "$TA")
srv_grant "$UM" "$TA" manager
check "setup: users and a manager grant on team A" test -n "$UM" -a -n "$UE"
M=$(login mgr@example.com password-mgr)
E=$(login emp@example.com password-emp)
check "setup: both sign in" test -n "$M" -a -n "$E"

# --- creation and use ---
api "$M" POST /api/v1/me/tokens '{"name":"ci export","scopes":["node.read"]}'
check_st "make a token (node.read)" 201
P=$(jr .token)
PID=$(jr .id)
check "the token is shown once, with its kind's prefix" test "${P:0:4}" = alp_ -a ${#P} = 47
check_eq "its scopes" "$(jr '.scopes | join(",")')" node.read
CREATED=$(jr .created_at)
EXP=$(jr .expires_at)
# default expiry: 90 days after creation
check_eq "default expiry: 90 days" \
	$(($(date -d "$EXP" +%s) - $(date -d "$CREATED" +%s))) 7776000
api "$P" GET "/api/v1/nodes/$TA"
check_st "the token reads team A (node.read)" 200
check_eq "as its user's grant" "$(jr .id)" "$TA"
api "$P" GET /api/v1/me
check_st "the token is its user at /me" 200
check_eq "/me is the manager" "$(jr .user.id)" "$UM"
check_eq "/me shows the grants cut to the scopes" \
	"$(jr '[.grants[] | select(.role == "manager") | .permissions[]] | join(",")')" node.read
api "$P" GET "/api/v1/users/$UE"
check_st "user.read (held by the user, not in the scopes) refused" 403
api "$P" PATCH "/api/v1/users/$UE" '{"name":"Renamed"}'
check_st "user.write outside the scopes refused" 403
api "$P" GET "/api/v1/nodes/$TB"
check_st "a node outside the user's grants refused" 403

# --- refusals at creation ---
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":["store.admin"]}'
check_st "a scope the user holds nowhere" 403
check "the refusal names the permission" grep -q "store.admin" "$T/resp"
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":["node.read","audit.read"]}'
check_st "one scope not held among held ones" 403
check "the refusal names audit.read" grep -q "audit.read" "$T/resp"
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":["node.fly"]}'
check_st "an unknown permission" 400
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":[]}'
check_st "no scopes" 400
api "$M" POST /api/v1/me/tokens '{"name":"x"}'
check_st "scopes missing" 400
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":"node.read"}'
check_st "scopes not an array" 400
api "$M" POST /api/v1/me/tokens "$(jq -nc '{name:"x",scopes:[range(33)|"node.read"]}')"
check_st "over 32 scopes" 400
api "$M" POST /api/v1/me/tokens '{"scopes":["node.read"]}'
check_st "no name" 400
api "$M" POST /api/v1/me/tokens "$(jq -nc --arg n "$(printf 'n%.0s' {1..65})" '{name:$n,scopes:["node.read"]}')"
check_st "a 65-byte name" 400
api "$M" POST /api/v1/me/tokens "$(jq -nc --arg n "$(printf 'n%.0s' {1..64})" '{name:$n,scopes:["node.read"],expires_in_s:60}')"
check_st "a 64-byte name" 201
X64=$(jr .id)
api "$M" POST /api/v1/me/tokens '{"name":"a\u0007b","scopes":["node.read"]}'
check_st "a control character in the name" 400
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":["node.read"],"expires_in_s":31536001}'
check_st "expires_in_s over a year" 400
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":["node.read"],"expires_in_s":0}'
check_st "expires_in_s 0" 400
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":["node.read"],"expires_in_s":60,"expires_at":"2099-01-01T00:00:00Z"}'
check_st "both expiries" 400
api "$M" POST /api/v1/me/tokens '{"name":"x","scopes":["node.read"],"expires_at":"2001-01-01T00:00:00Z"}'
check_st "expires_at in the past" 400
AT=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
api "$M" POST /api/v1/me/tokens "$(jq -nc --arg t "$AT" '{name:"at",scopes:["node.read"],expires_at:$t}')"
check_st "expires_at in two days" 201
check_eq "its expiry is the one asked" "$(date -d "$(jr .expires_at)" +%s)" "$(date -d "$AT" +%s)"
XAT=$(jr .id)
api "" POST /api/v1/me/tokens '{"name":"x","scopes":["node.read"]}'
check_st "no token" 401
api "$E" POST /api/v1/me/tokens '{"name":"x","scopes":["node.read"]}'
check_st "the employee holds no node.read" 403

# --- what a personal token cannot do ---
api "$P" POST /api/v1/me/tokens '{"name":"y","scopes":["node.read"]}'
check_st "a personal token cannot make tokens" 403
check "and says so" grep -q "personal API token cannot" "$T/resp"
api "$P" GET /api/v1/me/tokens
check_st "nor list them" 403
api "$P" DELETE "/api/v1/me/tokens/$PID"
check_st "nor revoke them" 403
api "$P" POST /api/v1/me/password '{"current_password":"password-mgr","new_password":"another-pw-123"}'
check_st "nor change the password" 403
api "$P" POST /api/v1/auth/logout
check_st "nor sign out" 403
api "$P" DELETE "/api/v1/users/$UM/avatar"
check_st "nor change one's own picture without user.write in its scopes" 403
api "$M" DELETE "/api/v1/users/$UM/avatar"
check "the sign-in token may (no picture: not a refusal)" test "$ST" != 403 -a "$ST" != 401
# PATCH /me needs no permission either: a read-only token cannot rename its
# user or change their time zone
api "$P" PATCH /api/v1/me '{"name":"Renamed by a script"}'
check_st "nor change one's own name (PATCH /me) without user.write in its scopes" 403
api "$P" PATCH /api/v1/me '{"tz":"Asia/Kolkata"}'
check_st "nor one's own time zone" 403
api "$M" GET /api/v1/me
check_eq "the name stays" "$(jr .user.name)" Mgr
check_eq "the time zone stays unset" "$(jr .user.tz)" null
api "$P" GET "/api/v1/nodes/$TA"
check_st "the token still works after those refusals" 200

# --- the list and the store ---
api "$M" GET /api/v1/me/tokens
check_st "list" 200
check_eq "three tokens, newest first" "$(jr '[.tokens[].name] | join(",")' | cut -d, -f3)" "ci export"
check_eq "with name, scopes and times" "$(jr ".tokens[] | select(.id == \"$PID\") | [.name, (.scopes|join(\"+\")), .created_at, .expires_at] | join(\"|\")")" \
	"ci export|node.read|$CREATED|$EXP"
check "the list holds no secret" test -z "$(grep -o 'alp_[A-Za-z0-9_-]*' "$T/resp")"
check_eq "nor a hash" "$(jr '[.tokens[] | keys[]] | unique | join(",")')" "created_at,expires_at,id,last_used_at,name,scopes"
LU=$(jr ".tokens[] | select(.id == \"$PID\") | .last_used_at")
check "the used token has a last use" test -n "$LU" -a "$LU" != null
check "not before it was made" test "$(date -d "$LU" +%s%3N)" -ge "$(date -d "$CREATED" +%s%3N)"
check_eq "a token never used has none" "$(jr ".tokens[] | select(.id == \"$X64\") | .last_used_at")" null
api "$E" GET /api/v1/me/tokens
check_st "the employee lists their tokens" 200
check_eq "the employee sees none of them" "$(jr '.tokens | length')" 0
H=$(printf '%s' "$P" | sha256sum | cut -d' ' -f1)
"$SRV_BIN" dump --data-dir "$SRV_DIR" >"$T/dump.txt" 2>"$T/dump.err"
check "dump of the store" test -s "$T/dump.txt"
check "the store holds the token's hash as its key" grep -q "^tokens	$H	token	" "$T/dump.txt"
: >"$T/dump.vals"
while IFS=$'\t' read -r _ _ _ v; do printf '%s' "$v" | base64 -d >>"$T/dump.vals" 2>/dev/null; echo >>"$T/dump.vals"; done <"$T/dump.txt"
check "the decoded values hold the token's items" grep -q "\"tid\":\"$PID\"" "$T/dump.vals"
check "nowhere the token itself" test -z "$(grep -F "${P:4}" "$T/dump.txt" "$T/dump.vals")"

# --- another user, another business ---
api "$E" DELETE "/api/v1/me/tokens/$PID"
check_st "another user cannot revoke it" 404
api "$A" POST /api/v1/nodes '{"type":"business","name":"Elsewhere"}'
B2=$(jr .id)
T2=$(srv_node team T2 "$(srv_node project P2 "$(srv_node domain D2 "$B2")")")
U2=$(srv_user other@example.com Other other "$T2")
srv_grant "$U2" "$T2" manager
O=$(login other@example.com password-other)
check "setup: a manager of another business" test -n "$O"
api "$O" GET /api/v1/me/tokens
check_st "they list their tokens" 200
check_eq "sees none of the tokens" "$(jr '.tokens | length')" 0
api "$O" DELETE "/api/v1/me/tokens/$PID"
check_st "cannot revoke it" 404
api "$O" POST /api/v1/me/tokens '{"name":"o","scopes":["node.read"]}'
check_st "they make a token" 201
OP=$(jr .token)
api "$OP" GET "/api/v1/nodes/$TA"
check_st "their token does not reach the first business" 403
api "$P" GET "/api/v1/nodes/$TA"
check_st "the token still works" 200
api "$M" DELETE /api/v1/me/tokens/not-an-id
check_st "revoke: a malformed id" 404

# --- the grant behind a scope revoked: the power goes at once ---
api "$A" DELETE "/api/v1/grants?user_id=$UM&role=manager&node_id=$TA"
check_st "revoke the manager grant" 204
api "$P" GET "/api/v1/nodes/$TA"
check_st "the token no longer reads team A" 403
srv_grant "$UM" "$TA" manager
api "$P" GET "/api/v1/nodes/$TA"
check_st "granted again: it reads again" 200

# --- expiry ---
api "$M" POST /api/v1/me/tokens '{"name":"short","scopes":["node.read"],"expires_in_s":1}'
check_st "a token of 1 s" 201
S=$(jr .token)
SEXP=$(jr .expires_at)
while [ "$(date +%s%3N)" -le "$(($(date -d "$SEXP" +%s%3N) + 200))" ]; do sleep 0.2; done
api "$S" GET "/api/v1/nodes/$TA"
check_st "expired: 401" 401
check "says expired" grep -q expired "$T/resp"

# --- revoke ---
api "$M" DELETE "/api/v1/me/tokens/$PID"
check_st "revoke" 204
api "$P" GET "/api/v1/nodes/$TA"
check_st "revoked: 401" 401
api "$M" DELETE "/api/v1/me/tokens/$PID"
check_st "revoke again: 404" 404
api "$M" GET /api/v1/me/tokens
check "the list no longer holds it" test -z "$(jr ".tokens[] | select(.id == \"$PID\") | .id")"
check "nor the expired one" test -z "$(jr '.tokens[] | select(.name == "short") | .id')"

# --- audit ---
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "token.create audited for the manager, no secret" \
	"$(jr "[.entries[] | select(.action == \"token.create\" and .detail.id == \"$PID\") | .target] | join(\",\")")" "$UM"
check_eq "token.revoke audited" \
	"$(jr "[.entries[] | select(.action == \"token.revoke\" and .detail.id == \"$PID\") | .detail.name] | join(\",\")")" "ci export"
check "no secret in the audit log" test -z "$(grep -o 'alp_[A-Za-z0-9_-]*' "$T/resp")"

# --- the cap: 20 live tokens ---
api "$M" POST /api/v1/me/tokens '{"name":"n","scopes":["node.read"]}'
Q=$(jr .token)
api "$M" GET /api/v1/me/tokens
n=$(jr '.tokens | length')
while [ "$n" -lt 20 ]; do
	api "$M" POST /api/v1/me/tokens '{"name":"fill","scopes":["node.read"]}'
	[ "$ST" = 201 ] || break
	n=$((n + 1))
done
check_eq "20 live tokens" "$n" 20
api "$M" POST /api/v1/me/tokens '{"name":"one too many","scopes":["node.read"]}'
check_st "the 21st refused" 409
api "$M" DELETE "/api/v1/me/tokens/$X64"
api "$M" POST /api/v1/me/tokens '{"name":"after a revoke","scopes":["node.read"]}'
check_st "one revoked: room for one" 201

# --- disabled user, password change ---
api "$A" POST "/api/v1/users/$UM/disable"
check_st "disable the manager" 200
api "$Q" GET "/api/v1/nodes/$TA"
check_st "a disabled user's token: 401" 401
api "$A" POST "/api/v1/users/$UM/enable"
check_st "enable again" 200
api "$Q" GET "/api/v1/nodes/$TA"
check_st "a token made before the disable stays ended" 401
M=$(login mgr@example.com password-mgr)
api "$M" POST /api/v1/me/tokens '{"name":"n2","scopes":["node.read","user.read"]}'
Q=$(jr .token)
api "$Q" GET "/api/v1/users/$UE"
check_st "a token with user.read reads a colleague" 200
api "$M" POST /api/v1/me/password '{"current_password":"password-mgr","new_password":"another-pw-123"}'
check_st "the manager changes the password" 204
api "$Q" GET "/api/v1/nodes/$TA"
check_st "a password change ends personal tokens" 401
api "$OP" GET "/api/v1/nodes/$T2"
check_st "another user's token is untouched" 200

srv_stop
check "server exits cleanly" test $? = 0
finish
