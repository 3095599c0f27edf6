# tests/server.sh - sourced (after lib.sh) by the server tests: a real
# actlog-server on loopback with a real LMDB store under $T, and curl helpers.
#
#   srv_init [DIR]        new store (admin ADMIN_EMAIL / ADMIN_PW), DIR default $T/srv
#   srv_start [ARGS...]   serve on 127.0.0.1:<ephemeral>; sets SRV_URL, SRV_PID, SRV_LOG
#   srv_stop              SIGTERM and wait (checks the exit status)
#   api TOKEN METHOD PATH [JSON]   one request: sets ST (status), body in $T/resp
#   jr FILTER             jq -r FILTER on the last response body
#   check_st NAME WANT    the last status is WANT
#   login EMAIL PASSWORD  prints a bearer token (empty on failure)
# The organisation, as the admin whose token is in $A:
#   srv_business          prints the id of the first business (Acme, from srv_init;
#                         nothing when there is none)
#   srv_node TYPE NAME PARENT         creates a node, prints its id (nothing unless 201)
#   srv_user EMAIL NAME LOGIN TEAM    creates a user with password "password-LOGIN",
#                                     prints its id (nothing unless 201)
#   srv_tree [DOMAIN PROJECT TEAM_A TEAM_B]   a domain (Eng), a project (Core)
#                         and two teams (A, B) in the first business; sets B,
#                         DOM, PRJ, TA, TB
#   srv_grant USER NODE ROLE          true when the grant is created
#   srv_enroll TEAM HOST_ID [HOSTNAME [VERSION [DEVICE_TOKEN]]]   enrolls a device
#                         into TEAM with a fresh secret (re-enrolls the device
#                         whose token is given); sets DEV and TOK (empty on failure)
SRV_BIN=$BUILD/actlog-server
ADMIN_EMAIL=admin@example.com
ADMIN_PW='correct horse battery staple'
SRV_DIR=
SRV_URL=
SRV_PID=
SRV_LOG=

srv_init() {
	SRV_DIR=${1:-$T/srv}
	printf '%s\n' "$ADMIN_PW" >"$T/admin.pw"
	"$SRV_BIN" init --data-dir "$SRV_DIR" --admin-email "$ADMIN_EMAIL" \
		--admin-password-file "$T/admin.pw" --business "Acme" >"$T/init.out" 2>&1
}

srv_start() {
	local port
	SRV_LOG=$T/server.$((${SRV_STARTS:-0})).log
	SRV_STARTS=$((${SRV_STARTS:-0} + 1))
	"$SRV_BIN" serve --data-dir "$SRV_DIR" --listen "${SRV_LISTEN:-127.0.0.1:0}" "$@" >"$SRV_LOG" 2>&1 &
	SRV_PID=$!
	cleanup_add "kill $SRV_PID"
	if ! wait_for 10 grep -q 'event=started' "$SRV_LOG"; then
		fail "server did not start: $(tail -3 "$SRV_LOG")"
		return 1
	fi
	port=$(sed -n 's/.*event=started.* port=\([0-9]*\).*/\1/p' "$SRV_LOG")
	SRV_URL=http://127.0.0.1:$port
}

srv_stop() {
	local rc=0
	[ -n "$SRV_PID" ] || return 0
	kill -TERM "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" || rc=$?
	SRV_PID=
	return $rc
}

api() {
	local tok=$1 m=$2 p=$3 args
	args=(-s -o "$T/resp" -w '%{http_code}' -X "$m" --max-time 30)
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	ST=$(curl "${args[@]}" "$SRV_URL$p")
}

jr() { jq -r "$1" "$T/resp" 2>/dev/null; }

check_st() { check_eq "$1 (status; body: $(head -c 200 "$T/resp" 2>/dev/null))" "$ST" "$2"; }

login() {
	api "" POST /api/v1/auth/login "$(jq -nc --arg e "$1" --arg p "$2" '{email:$e,password:$p}')"
	[ "$ST" = 200 ] && jr .token
}

srv_business() {
	api "$A" GET /api/v1/nodes/root/children
	jr '.children[0].id // empty'
}

srv_node() {
	api "$A" POST /api/v1/nodes "$(jq -nc --arg t "$1" --arg n "$2" --arg p "$3" '{type:$t,name:$n,parent_id:$p}')"
	[ "$ST" = 201 ] && jr .id
}

srv_user() {
	api "$A" POST /api/v1/users "$(jq -nc --arg e "$1" --arg n "$2" --arg l "$3" --arg t "$4" \
		'{email:$e,name:$n,login:$l,password:("password-"+$l),team_id:$t}')"
	[ "$ST" = 201 ] && jr .id
}

srv_tree() {
	B=$(srv_business)
	DOM=$(srv_node domain "${1:-Eng}" "$B")
	PRJ=$(srv_node project "${2:-Core}" "$DOM")
	TA=$(srv_node team "${3:-A}" "$PRJ")
	TB=$(srv_node team "${4:-B}" "$PRJ")
}

srv_grant() {
	api "$A" POST /api/v1/grants "$(jq -nc --arg u "$1" --arg n "$2" --arg r "$3" '{user_id:$u,node_id:$n,role:$r}')"
	[ "$ST" = 201 ]
}

srv_enroll() {
	local sec
	api "$A" POST "/api/v1/nodes/$1/enrollment-secrets" '{}'
	sec=$(jr .secret)
	api "${5:-}" POST /api/v1/enroll "$(jq -nc --arg s "$sec" --arg h "$2" --arg n "${3:-h}" --arg v "${4:-0.1}" \
		'{secret:$s,host_id:$h,hostname:$n,agent_version:$v}')"
	DEV=$(jr '.device_id // empty')
	TOK=$(jr '.device_token // empty')
}
