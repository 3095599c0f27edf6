#!/usr/bin/env bash
# The HTTP layer's limits on a real server, from the outside: what a client
# without credentials can make the server hold (request bodies, connections,
# headers that never complete), request targets MHD could not parse, and the
# client address behind a trusted proxy (--trusted-proxy).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need ss
PY=/usr/bin/python3
SLOW=$ROOT/tests/integration/slow_clients.py

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$SRV_PID/status"; }
# established server-side connections of the running server
conns() { ss -Htn state established "( sport = :$PORT )" | wc -l; }

srv_init
srv_start || finish
PORT=${SRV_URL##*:}
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
check "admin signs in" test -n "$A"

# --- request bodies before authentication -------------------------------
# 40 connections announce 8 MiB bodies (the --max-body default) without a
# valid token, send all but the last byte and hold on. The server must answer
# at once from the headers and hold none of it.
r0=$(rss_kb)
"$PY" "$SLOW" bigbody "$PORT" 20 /api/v1/auth/login 8388608 - "$T/big.login" &
P1=$!
"$PY" "$SLOW" bigbody "$PORT" 10 /api/v1/ingest 8388608 - "$T/big.anon" &
P2=$!
"$PY" "$SLOW" bigbody "$PORT" 10 /api/v1/ingest 8388608 "Bearer ald_$(printf 'A%.0s' $(seq 43))" "$T/big.bad" &
P3=$!
cleanup_add "kill $P1 $P2 $P3"
for f in big.login big.anon big.bad; do
	wait_for 60 grep -qs '^sent$' "$T/$f" || fail "$f: the clients did not finish sending"
done
r1=$(rss_kb)
check "40 unauthenticated 8 MiB bodies: server RSS +$(((r1 - r0) >> 10)) MiB (< 64 MiB)" \
	test $((r1 - r0)) -lt $((64 << 10))
check_eq "sign-in with an 8 MiB body: 413 before the body" "$(grep -c '^413 closed=1$' "$T/big.login")" 20
check_eq "ingest without a token, 8 MiB: 413 before the body" "$(grep -c '^413 closed=1$' "$T/big.anon")" 10
check_eq "ingest with an unknown token, 8 MiB: 401 before the body" "$(grep -c '^401 closed=1$' "$T/big.bad")" 10
kill $P1 $P2 $P3 2>/dev/null
wait $P1 $P2 $P3 2>/dev/null
# the cap is 16 KiB without a token; a valid token lifts it to --max-body
head -c 20000 /dev/zero | tr '\0' ' ' >"$T/20k.json"
echo '{}' >>"$T/20k.json"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary @"$T/20k.json" "$SRV_URL/api/v1/auth/login")
check_st "a 20 kB sign-in body" 413
check "its error names the limit" grep -q '16384 bytes without a valid bearer token' "$T/resp"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $A" \
	--data-binary @"$T/20k.json" "$SRV_URL/api/v1/nodes")
check_st "the same body with a valid token reaches the handler (fields missing)" 400
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary '{"email":"nobody@example.com","password":"not this one"}' "$SRV_URL/api/v1/auth/login")
check_st "a small sign-in body is unaffected" 401

# --- many query arguments, long request targets --------------------------
q=$("$PY" -c 'print("&".join("a%d=1" % i for i in range(500)))')
api "$A" GET "/api/v1/me?$q"
check_st "500 query arguments" 414
check "answered with a JSON error" grep -q '"error":"request target too long' "$T/resp"
check "and logged" grep -q 'access method=GET path=/api/v1/me status=414' "$SRV_LOG"
q=$("$PY" -c 'print("&".join("a=" + "x" * 500 for i in range(40)))')
api "$A" GET "/api/v1/me?$q"
check_st "a 20 kB request target with 40 arguments" 414
q=$("$PY" -c 'print("&".join("a%d=1" % i for i in range(64)))')
api "$A" GET "/api/v1/me?$q"
check_st "64 query arguments are fine" 200
api "$A" GET /api/v1/me
check_st "the server answers afterwards" 200

# --- slow headers from one address ---------------------------------------
# 1100 connections from 127.0.0.1 (more than the server's 1024 slots) that
# never complete their headers, trickling a header line a second each.
"$PY" "$SLOW" slow "$PORT" 1100 40 "$T/slow" &
P4=$!
cleanup_add "kill $P4"
wait_for 60 grep -qs '^open=' "$T/slow"
sleep 2
n=$(conns)
check "one address holds at most its share of the slots ($n connections)" test "$n" -le 140
ST=$(curl -s -o "$T/resp" -w '%{http_code}' --max-time 5 --interface 127.0.0.2 \
	-H "Authorization: Bearer $A" "$SRV_URL/api/v1/me")
check_st "another address is still served" 200
wait_for 20 grep -q '^open=0 ' "$T/slow"
check "headers not complete within 10 s: every slow connection closed ($(cat "$T/slow"))" \
	grep -q '^open=0 ' "$T/slow"
check "the server holds none of them ($(conns) connections)" test "$(conns)" -le 2
check "closed connections are logged with term=header_timeout" grep -q 'term=header_timeout' "$SRV_LOG"
kill $P4 2>/dev/null
wait $P4 2>/dev/null

# --- client addresses behind a trusted proxy -----------------------------
xlogin() { # XFF EMAIL [INTERFACE]: one failed sign-in, prints the status
	curl -s -o /dev/null -w '%{http_code}' ${3:+--interface "$3"} -X POST -H "X-Forwarded-For: $1" \
		-H 'Content-Type: application/json' \
		--data-binary "{\"email\":\"$2\",\"password\":\"wrong password\"}" "$SRV_URL/api/v1/auth/login"
}
audit_clients() { # the client field of the last auth.login entries
	api "$A" GET '/api/v1/audit?limit=1000'
	jr '[.entries[] | select(.action == "auth.login") | .client] | join(" ")'
}
xlogin 10.0.0.5 "$ADMIN_EMAIL" >/dev/null
check "without --trusted-proxy X-Forwarded-For is ignored (audit client)" \
	test "$(audit_clients | awk '{print $NF}')" = 127.0.0.1
srv_stop
srv_start --trusted-proxy 127.0.0.1 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
# 30 failed sign-ins (the per-address burst) from 10.0.0.1, one account each
seq 1 30 | xargs -P 4 -I{} curl -s -o /dev/null -X POST -H 'X-Forwarded-For: 10.0.0.1' \
	-H 'Content-Type: application/json' \
	--data-binary '{"email":"u{}@example.com","password":"wrong password"}' "$SRV_URL/api/v1/auth/login"
check_eq "10.0.0.1 has spent its sign-in attempts" "$(xlogin 10.0.0.1 u31@example.com)" 429
check_eq "10.0.0.2 behind the same proxy is not throttled" "$(xlogin 10.0.0.2 u32@example.com)" 401
check_eq "the proxy's own address is not throttled" \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary '{"email":"u33@example.com","password":"wrong password"}' "$SRV_URL/api/v1/auth/login")" 401
check_eq "the last X-Forwarded-For entry counts (what the proxy added)" \
	"$(xlogin '10.0.0.1, 10.0.0.3' u34@example.com)" 401
xlogin 10.0.0.2 "$ADMIN_EMAIL" >/dev/null
check "audit client: the forwarded address" test "$(audit_clients | awk '{print $NF}')" = 10.0.0.2
check "access log: client and proxy" grep -q 'client=10.0.0.2 proxy=127.0.0.1' "$SRV_LOG"
xlogin 10.0.0.1 "$ADMIN_EMAIL" 127.0.0.2 >/dev/null
check "another peer's X-Forwarded-For is ignored" test "$(audit_clients | awk '{print $NF}')" = 127.0.0.2
xlogin 'not-an-address' "$ADMIN_EMAIL" >/dev/null
check "a forwarded entry that is not an address: the proxy's" \
	test "$(audit_clients | awk '{print $NF}')" = 127.0.0.1
srv_stop
ST=$("$SRV_BIN" serve --data-dir "$SRV_DIR" --trusted-proxy 10.0.0.1,nope 2>"$T/err"; echo $?)
check_eq "a bad --trusted-proxy is a usage error" "$ST" 2
check "and says so" grep -q 'trusted-proxy' "$T/err"

finish
