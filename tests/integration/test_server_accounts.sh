#!/usr/bin/env bash
# actlog-server accounts: a disable ends the user's sessions (their tokens
# are deleted, and enabling brings none back).
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
srv_tree
U_DAN=$(srv_user dan@example.com Dan dan "$TA")
check "setup: users" test -n "$U_DAN"

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

srv_stop
check "passwords never in the logs" not grep -q "password-dan" "$T"/server.*.log
finish
