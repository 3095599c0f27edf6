#!/usr/bin/env bash
# actlog-server: GET /metrics, the Prometheus text of the server's counters,
# for a token holding store.admin on the root only: 200 with the start time
# for the administrator, 401 without a token, 403 for a business's own
# administrator (admin on the business, not on the root).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq

srv_init || fail "init: $(cat "$T/init.out")"
srv_start || exit 1
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
U=$(srv_user boss@example.com Boss boss "$TA")
srv_grant "$U" "$B" admin || fail "grant admin on the business: $ST"
UT=$(login boss@example.com password-boss)

t0=$(date +%s)
api "$A" GET /metrics
check_st "GET /metrics as the root's administrator" 200
start=$(sed -n 's/^actlog_server_start_time_seconds \([0-9]*\)$/\1/p' "$T/resp")
check "the start time is a recent Unix time ($start)" \
	test -n "$start" -a "${start:-0}" -le "$t0" -a "${start:-0}" -gt $((t0 - 600))
grep -q '^# TYPE actlog_server_start_time_seconds gauge$' "$T/resp"
check_eq "TYPE line of the start time" "$?" 0
ctype=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $A" "$SRV_URL/metrics")
check_eq "content type" "$ctype" "text/plain; version=0.0.4; charset=utf-8"

api "" GET /metrics
check_st "GET /metrics without a token" 401
api "$UT" GET /metrics
check_st "GET /metrics as a business administrator" 403

srv_stop
check_eq "server stops cleanly" "$?" 0
finish
