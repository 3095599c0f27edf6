#!/usr/bin/env bash
# End to end: the real actlogd (process events from this host) enrolls with
# the real actlog-server, ships, and the query API returns exactly the
# records the agent spooled, once each, also across a graceful server stop
# and a kill -9 in the middle of the stream. The policy set on the team
# reaches the agent live.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$ROOT/tests/agent.sh"
need curl
need jq

SRV_LISTEN=127.0.0.1:$(free_port)
srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
D=$(srv_node domain Ops "$B")
P=$(srv_node project Fleet "$D")
TM=$(srv_node team Hosts "$P")
UA=$(srv_user alice@example.com Alice alice "$TM")
api "$A" POST "/api/v1/nodes/$TM/enrollment-secrets" '{}'
check_st "enrollment secret" 201
SECRET=$(jr .secret)

d=$T/agent
mkdir -p "$d/state"
out=$("$BUILD/actlogd" enroll --server "$SRV_URL" --secret ale_wrongwrongwrongwrongwrongwrongwrongwrongwro --state-dir "$d/state" 2>&1)
check_eq "enroll with a wrong secret fails" "$?" 1
"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$SECRET" --state-dir "$d/state" >"$T/enroll.out" 2>&1
check_eq "actlogd enroll against the real server" "$?" 0
check_eq "device.json is 0600" "$(stat -c %a "$d/state/device.json")" 600
DEV=$(jq -r .device_id "$d/state/device.json")
check "a device id" test -n "$DEV"
check "the secret is not in the agent's state" not grep -rq "$SECRET" "$d/state"
api "$A" PUT "/api/v1/devices/$DEV" "{\"owner_id\":\"$UA\"}"
check_st "device owned by alice" 200
# the team's policy decides the interval (the shortest the schema allows)
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"activity.interval_s":10}}'
check_st "team policy: 10 s intervals" 200

cat >"$T/actlogd.conf" <<CONF
backoff_max_s = 1
policy_poll_s = 1
CONF
start_agent() {
	"$BUILD/actlogd" --config "$T/actlogd.conf" --state-dir "$d/state" --socket "$d/ctl.sock" \
		--input-source none --proc-source auto --interval 2 >>"$d/actlogd.log" 2>&1 &
	AGENT_PID=$!
	cleanup_add "kill -9 $AGENT_PID"
	wait_for 20 "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json >/dev/null 2>&1
}
status() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json; }
probe() { cp /bin/true "$T/e2e-$1" && "$T/e2e-$1"; }
# server_procs: the device's process records over the last hour, in
# [from, to) slices halved until none is truncated, so a duplicate on the
# server would show (nothing is de-duplicated here)
fetch_slice() { # FROM TO
	api "$A" GET "/api/v1/devices/$DEV/processes?from=$1&to=$2&limit=1000"
	[ "$ST" = 200 ] || return 1
	if [ "$(jr .truncated)" = true ] && [ $(($2 - $1)) -gt 1 ]; then
		local mid=$((($1 + $2) / 2))
		fetch_slice "$1" "$mid" && fetch_slice "$mid" "$2"
		return
	fi
	jq -c '.processes[]' "$T/resp" >>"$T/procs.ndjson"
}
server_procs() {
	local now=$(($(date +%s) * 1000))
	: >"$T/procs.ndjson"
	fetch_slice $((now - 3600000)) $((now + 60000))
}
# the spool removes acknowledged segments: keep copies of every segment as
# it grows, so that what the agent spooled can be compared at the end
mkdir -p "$T/copy/state/spool"
keep_segments() { while :; do cp -u "$d/state/spool/"*.seg "$T/copy/state/spool/" 2>/dev/null; sleep 0.1; done; }
on_server() { server_procs && grep -q "\"comm\":\"e2e-$1\"" "$T/procs.ndjson" && [ "$(grep -c "\"comm\":\"e2e-$1\"" "$T/procs.ndjson")" -ge 2 ]; }
drained() { status | jq -e '.spool.pending == 0' >/dev/null; }

keep_segments &
cleanup_add "kill $!"
start_agent
check "agent is enrolled and shipping" jq -e '.shipping.enrolled' <<<"$(status)"
for i in 1 2 3; do probe "$i"; done
check "records reach the server" wait_for 30 on_server 3

# a graceful stop in the middle of the stream
srv_stop
check "server stopped gracefully" test $? -eq 0
for i in 4 5 6; do probe "$i"; done
sleep 2
check "while the server is away, records wait" jq -e '.spool.pending > 0' <<<"$(status)"
srv_start || finish
check "after a restart the waiting records arrive" wait_for 40 on_server 6

# kill -9 in the middle of the stream
for i in 7 8 9; do probe "$i"; done
kill -9 "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
for i in 10 11 12; do probe "$i"; done
srv_start || finish
check "after a kill -9 the records arrive" wait_for 40 on_server 12

# live policy: logging off on the team stops recording (also this test's
# own commands, which are traced too: so the spool can drain completely).
# The server keeps only what was taken before the switch: what the agent
# records until it learns of it is dropped at ingest.
OFF0=$(date +%s%3N)
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"logging.enabled":false}}'
check_st "team policy: logging off" 200
OFF1=$(date +%s%3N)
check "the agent applies it" wait_for 20 bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | jq -e '.logging == false' >/dev/null"
check "with recording off, the agent ships everything it has" wait_for 40 drained

# exactly once: every probe's exec and exit, once each, identical to what
# the agent spooled; no record twice; every spooled record present
sleep 0.5
spool_dump "$T/copy" | sort -u >"$T/spool.all"
server_procs
sort "$T/procs.ndjson" -o "$T/procs.ndjson"
for i in $(seq 1 12); do
	want=$(grep "\"comm\":\"e2e-$i\"" "$T/spool.all" | jq -cS . | sort)
	got=$(grep "\"comm\":\"e2e-$i\"" "$T/procs.ndjson" | jq -cS 'del(.device_id, .user_id)' | sort)
	check_eq "probe $i: exec+exit once each on the server" "$(grep -c "\"comm\":\"e2e-$i\"" "$T/procs.ndjson")" 2
	check_eq "probe $i: server records equal the spooled ones" "$got" "$want"
done
check_eq "no process record twice on the server" "$(uniq -d "$T/procs.ndjson" | wc -l)" 0
jq -cS 'del(.device_id, .user_id)' "$T/procs.ndjson" | sort >"$T/server.norm"
ms='((.ts[0:19] + "Z" | fromdate) * 1000 + (.ts[20:23] | tonumber))'
jq -cS "select(.type==\"process\" and $ms < $OFF0)" "$T/spool.all" | sort >"$T/spool.norm"
jq -cS "select(.type==\"process\" and $ms > $OFF1)" "$T/spool.all" | sort >"$T/spool.off"
check "the comparison covers the stream (over 100 process records)" test "$(wc -l <"$T/spool.norm")" -gt 100
check_eq "spooled process records missing on the server" "$(comm -23 "$T/spool.norm" "$T/server.norm" | wc -l)" 0
check_eq "none of those taken after the switch is on the server" "$(comm -12 "$T/spool.off" "$T/server.norm" | wc -l)" 0
check "server records carry device and owner" jq -se "map(select(.comm==\"e2e-1\")) | length == 2 and all(.device_id == \"$DEV\" and .user_id == \"$UA\")" "$T/procs.ndjson"

probe off
sleep 2
check "a program run while logging is off is not recorded" not grep -q '"comm":"e2e-off"' <(spool_dump "$d") <(spool_dump "$T/copy")
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"logging.enabled":true,"activity.interval_s":20}}'
check "logging on again" wait_for 20 bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | jq -e '.logging == true' >/dev/null"
check "a new interval from the policy is taken at the next boundary" wait_for 20 grep -q "policy: interval 20s" "$d/actlogd.log"

# revocation: the agent is refused and keeps its records
api "$A" POST "/api/v1/devices/$DEV/revoke"
check_st "revoke the device" 200
probe revoked
check "a revoked device is refused" wait_for 30 bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | jq -e '.shipping.last_http == 401' >/dev/null"
check "its records stay in the spool" jq -e '.spool.pending > 0' <<<"$(status)"
agent_stop
check "the agent stops cleanly" test $? -eq 0
srv_stop
finish
