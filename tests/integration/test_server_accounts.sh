#!/usr/bin/env bash
# actlog-server accounts: who may set a password and how, which sessions a
# password change, a reset or a disable ends (the user's tokens are
# deleted, and enabling brings none back), the cap on a user's live tokens,
# and sign-in limits that failures from one address cannot turn into a
# lock-out for the others. Sign-ins come from several loopback addresses
# (curl --interface 127.0.0.N; the server sees them as distinct clients).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq

# login_from ADDR EMAIL PASSWORD: sign in from source address ADDR; sets ST,
# prints the token (nothing unless 200)
login_from() {
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' --max-time 30 --interface "$1" -X POST \
		-H 'Content-Type: application/json' \
		--data-binary "$(jq -nc --arg e "$2" --arg p "$3" '{email:$e,password:$p}')" \
		"$SRV_URL/api/v1/auth/login")
	[ "$ST" = 200 ] && jr .token
}
# audit_of ACTION TARGET: the audit entries of that action on that target
audit_of() {
	api "$A" GET "/api/v1/audit?limit=1000"
	jq -c --arg a "$1" --arg t "$2" '[.entries[] | select(.action == $a and .target == $t)]' "$T/resp"
}

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
api "$A" GET /api/v1/me
ME=$(jr .user.id)
srv_tree
U_MGR=$(srv_user mgr@example.com Mgr mgr "$TA")
U_BOB=$(srv_user bob@example.com Bob bob "$TA")
U_CAT=$(srv_user cat@example.com Cat cat "$TA")
U_DAN=$(srv_user dan@example.com Dan dan "$TA")
U_EVE=$(srv_user eve@example.com Eve eve "$TA")
U_FAY=$(srv_user fay@example.com Fay fay "$TA")
srv_grant "$U_MGR" "$TA" manager
check_st "setup: a manager of team A" 201
check "setup: users" test -n "$U_BOB" -a -n "$U_CAT" -a -n "$U_DAN" -a -n "$U_EVE" -a -n "$U_FAY"

# --- one's own password: only POST /me/password, with the current one ---
api "$A" PATCH "/api/v1/users/$ME" '{"password":"taken-over-admin"}'
check_st "PATCH of one's own password (admin)" 403
check "the refusal points at /me/password" grep -q '/api/v1/me/password' "$T/resp"
check "the admin's password is unchanged" test -n "$(login_from 127.0.0.11 "$ADMIN_EMAIL" "$ADMIN_PW")"
check "and the one sent did not take" test -z "$(login_from 127.0.0.11 "$ADMIN_EMAIL" taken-over-admin)"
MGR=$(login_from 127.0.0.11 mgr@example.com password-mgr)
api "$MGR" PATCH "/api/v1/users/$U_MGR" '{"password":"taken-over-mgr"}'
check_st "PATCH of one's own password (a manager: user.write on his own team)" 403
check "the manager's password is unchanged" test -n "$(login_from 127.0.0.11 mgr@example.com password-mgr)"
api "$MGR" PATCH "/api/v1/users/$U_MGR" '{"name":"Manager"}'
check_st "other fields of one's own user still change" 200
api "$MGR" POST /api/v1/me/password '{"current_password":"password-mgr","new_password":"password-mgr-2"}'
check_st "one's own password through /me/password" 204
api "$MGR" GET /api/v1/me
check_st "the session that changed it goes on" 200

# --- an administrator's reset of someone else's password ---
B1=$(login_from 127.0.0.12 bob@example.com password-bob)
B2=$(login_from 127.0.0.12 bob@example.com password-bob)
api "$A" PATCH "/api/v1/users/$U_BOB" '{"password":"reset-by-admin"}'
check_st "reset of another user's password" 200
api "$B1" GET /api/v1/me
check_st "their first session has ended" 401
api "$B2" GET /api/v1/me
check_st "their second session has ended" 401
check "their old password no longer signs in" test -z "$(login_from 127.0.0.12 bob@example.com password-bob)"
check "the new one does" test -n "$(login_from 127.0.0.12 bob@example.com reset-by-admin)"
ent=$(audit_of user.password_reset "$U_BOB")
check_eq "audited as user.password_reset" "$(jq length <<<"$ent")" 1
check_eq "with the sessions it ended" "$(jq '.[0].detail.sessions_revoked' <<<"$ent")" 2
check_eq "and not as an ordinary update" "$(audit_of user.update "$U_BOB")" "[]"
api "$MGR" PATCH "/api/v1/users/$U_BOB" '{"password":"reset-by-manager","name":"Bob B."}'
check_st "a manager resets a member of his team (with another change)" 200
check_eq "one user.password_reset more" "$(audit_of user.password_reset "$U_BOB" | jq length)" 2
check_eq "the name change is a user.update without the password" \
	"$(audit_of user.update "$U_BOB" | jq -c '[.[].detail]')" '[["name"]]'

# --- one's own password change ends one's other sessions ---
C1=$(login_from 127.0.0.13 cat@example.com password-cat)
C2=$(login_from 127.0.0.13 cat@example.com password-cat)
api "$C1" POST /api/v1/me/password '{"current_password":"password-cat","new_password":"password-cat-2"}'
check_st "own password changed" 204
api "$C1" GET /api/v1/me
check_st "the session that changed it goes on" 200
api "$C2" GET /api/v1/me
check_st "the other session has ended" 401
check_eq "audited with the sessions it ended" \
	"$(audit_of user.password "$U_CAT" | jq -c '[.[] | select(.result == "ok") | .detail.sessions_revoked]')" '[1]'

# --- disable revokes; enable brings nothing back ---
D1=$(login_from 127.0.0.14 dan@example.com password-dan)
api "$A" POST "/api/v1/users/$U_DAN/disable"
check_st "disable" 200
check_eq "audited with the sessions it ended" "$(audit_of user.disable "$U_DAN" | jq -c '[.[].detail.sessions_revoked]')" '[1]'
api "$D1" GET /api/v1/me
check_st "a disabled user's token is revoked" 401
check "a disabled user cannot sign in" test -z "$(login_from 127.0.0.14 dan@example.com password-dan)"
api "$A" POST "/api/v1/users/$U_DAN/enable"
check_st "enable" 200
api "$D1" GET /api/v1/me
check_st "a token from before the disable stays revoked after enable" 401
D2=$(login_from 127.0.0.14 dan@example.com password-dan)
api "$D2" GET /api/v1/me
check_st "a new sign-in after enable works" 200
# the same through PATCH {"disabled":...}
api "$A" PATCH "/api/v1/users/$U_DAN" '{"disabled":true}'
check_st "PATCH disabled:true" 200
api "$A" PATCH "/api/v1/users/$U_DAN" '{"disabled":false}'
check_st "PATCH disabled:false" 200
api "$D2" GET /api/v1/me
check_st "PATCH disable then enable: the old token stays revoked" 401
api "$A" GET /api/v1/me
check_st "the administrator's own session is untouched throughout" 200

# --- at most 20 live tokens per user: the oldest goes ---
# (21 sign-ins from three addresses: each (account, address) allows 10)
E1=$(login_from 127.0.0.21 eve@example.com password-eve)
E2=$(login_from 127.0.0.21 eve@example.com password-eve)
n=2
for a in 127.0.0.21 127.0.0.22 127.0.0.23; do
	for i in $(seq 1 10); do
		[ $n -lt 21 ] || break 2
		[ -n "$(login_from $a eve@example.com password-eve)" ] && n=$((n + 1))
	done
done
check_eq "21 sign-ins" "$n" 21
api "$E1" GET /api/v1/me
check_st "the 21st sign-in evicts the oldest token" 401
api "$E2" GET /api/v1/me
check_st "the second oldest lives on" 200

# --- sign-in limits: no lock-out from another address ---
for i in $(seq 1 12); do login_from 127.0.0.1 fay@example.com wrong-password >/dev/null; done
check_st "failed sign-ins from 127.0.0.1 are limited" 429
login_from 127.0.0.1 fay@example.com password-fay >/dev/null
check_st "there, the right password waits too" 429
F2=$(login_from 127.0.0.2 fay@example.com password-fay)
check "from 127.0.0.2 the right password signs in" test -n "$F2"
check "login_limited names the limit" grep -q 'event=login_limited email=fay@example.com client=127.0.0.1 limit=account_address' "$SRV_LOG"

# The account's ceiling (10 x 10 attempts from any addresses, one more
# every 6 s) bounds guessing from many addresses; once it is empty only an
# address holding a live session of the account gets through. Guess from
# 127.0.1.N, ten at a time each, until the ceiling answers.
drain() { # N: 10 wrong guesses from 127.0.1.N; codes into $T/drain.N
	local i
	for i in $(seq 1 10); do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 --interface "127.0.1.$1" -X POST \
			--data-binary '{"email":"fay@example.com","password":"wrong-password"}' \
			"$SRV_URL/api/v1/auth/login"
	done >"$T/drain.$1"
}
ceiling=
for n in $(seq 1 2 29); do
	drain $n &
	p1=$!
	drain $((n + 1)) &
	wait $p1 $!
	if grep -Eq 'event=login_limited email=fay@example.com client=127\.0\.1\.[0-9]+ limit=account( |$)' "$SRV_LOG"; then
		ceiling=$n
		break
	fi
done
check "guesses from many addresses meet the account's ceiling" test -n "$ceiling"
check "where each address still had attempts left" not grep -q 'client=127.0.1.[0-9]* limit=account_address' "$SRV_LOG"
check_eq "the guesses got 401 until the ceiling answered 429" "$(cat "$T"/drain.* | sort -u | tr '\n' ' ')" "401 429 "
api "$F2" GET /api/v1/me
check_st "the user's session goes on" 200
check "and from its address the user signs in again" test -n "$(login_from 127.0.0.2 fay@example.com password-fay)"

srv_stop
check "passwords never in the logs" not grep -q "password-fay\|reset-by-admin" "$T"/server.*.log
finish
