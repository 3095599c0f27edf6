#!/usr/bin/env bash
# The agent keeps the last policy the real actlog-server sent
# (STATE_DIR/policy.json): restarted while the server is away it starts
# with it (logging off stays off: nothing recorded, counted in its spool and
# on the server once the server is back, where the saved ETag gets a 304);
# a SIGHUP with a local file that says logging on does not turn it on; a
# damaged file is ignored with a log line; a machine never enrolled follows
# its local settings as before.
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
SECRET=$(jr .secret)
d=$T/agent
mkdir -p "$d/state"
"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$SECRET" --state-dir "$d/state" >"$T/enroll.out" 2>&1
check_eq "the agent enrolls with the real server" "$?" 0
DEV=$(jq -r .device_id "$d/state/device.json")
TOK=$(jq -r .device_token "$d/state/device.json")
api "$A" PUT "/api/v1/devices/$DEV" "{\"owner_id\":\"$UA\"}"
check_st "the device belongs to alice" 200
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"activity.interval_s":10}}'
check_st "team policy: 10 s intervals" 200

conf=$T/actlogd.conf
printf 'backoff_max_s = 1\npolicy_poll_s = 1\n' >"$conf"
# the local interval (2 s) is shorter than any the server allows (10 s):
# which one is in effect shows where the value came from
start_agent() { # STATE_DIR LOG
	"$BUILD/actlogd" --config "$conf" --state-dir "$1" --socket "$d/ctl.sock" \
		--session-socket "$d/sess.sock" --input-source auto --proc-source auto \
		--interval 2 >>"$2" 2>&1 &
	AGENT_PID=$!
	cleanup_add "kill -9 $AGENT_PID"
	wait_for 20 "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json >/dev/null 2>&1
}
stop_agent() { kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; }
status() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json; }
st_is() { status | jq -e "$1" >/dev/null 2>&1; } # a jq condition on the status
spool_of() { "$BUILD/actlogctl" --state-dir "$1" spool dump; }
# since TS DIR TYPE: records of TYPE in DIR's spool with ts >= TS
since() { spool_of "$2" | jq -c --arg t "$1" "select(.ts >= \$t and .type == \"$3\")" | wc -l; }
now_ts() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
server_etag() {
	curl -s -D - -o /dev/null -H "Authorization: Bearer $TOK" "$SRV_URL/api/v1/agent/config" |
		sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' | tr -d '\r'
}
# server_activity: activity records of alice's rollups around now
server_activity() {
	local h=$(($(date +%s) / 3600 * 3600))
	api "$A" GET "/api/v1/users/$UA/activity?from=$(date -u -d @$((h - 7200)) +%FT%TZ)&to=$(date -u -d @$((h + 7200)) +%FT%TZ)"
	[ "$ST" = 200 ] && jr .totals.records
}
# server_procs FROM: the device's process records from FROM on (one page)
server_procs() {
	api "$A" GET "/api/v1/devices/$DEV/processes?from=$1&to=$(date -u -d '+1 hour' +%FT%TZ)&limit=1000"
	[ "$ST" = 200 ] && jq '.processes | length' "$T/resp"
}
probe() { cp /bin/true "$T/pol-$1" && "$T/pol-$1"; }
interval_after() { # TS: an agent "interval" record spooled after TS
	spool_of "$d/state" | jq -e --arg t "$1" 'select(.type == "agent" and .event == "interval" and .ts > $t)' >/dev/null
}

# 1. online, logging on: the policy is fetched and saved
start_agent "$d/state" "$d/actlogd.log"
check "the server's policy is fetched" wait_for 20 st_is '.policy.source == "server" and .policy.last_http == 200'
pf=$d/state/policy.json
check_eq "policy.json is 0600" "$(stat -c %a "$pf" 2>/dev/null)" 600
# policy.json keeps one entry per session user, newest first; nobody is
# at this machine's seat ("user":null)
check_eq "policy.json: one entry, for no session user" "$(jq -c '[.v, (.users | length), .users[0].user]' "$pf" 2>/dev/null)" '[2,1,null]'
check_eq "policy.json holds the server's ETag" "$(jq -r .users[0].etag "$pf" 2>/dev/null)" "$(server_etag)"
check "policy.json holds the server's policy" jq -e '.users[0].policy.config["activity.interval_s"] == 10 and .users[0].policy.device_id == "'"$DEV"'"' "$pf"
check "the server's interval wins over the local one" wait_for 20 st_is '.interval.seconds == 10 and .policy.keys["activity.interval_s"] == "server"'
check "with logging on, activity is recorded" wait_for 25 bash -c "'$BUILD/actlogctl' --state-dir '$d/state' spool dump | grep -q '\"type\":\"activity\"'"

# 2. logging off on the team: applied, saved, shipped
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"activity.interval_s":10,"logging.enabled":false}}'
check_st "team policy: logging off" 200
check "the agent applies logging off" wait_for 20 st_is '.logging == false'
check "policy.json now says logging off" wait_for 10 jq -e '.users[0].policy.config["logging.enabled"] == false' "$pf"
check_eq "with the new ETag" "$(jq -r .users[0].etag "$pf")" "$(server_etag)"
check "the agent ships everything it has" wait_for 40 st_is '.spool.pending == 0'
act_before=$(server_activity)
check "activity from before reached the server" test "${act_before:-0}" -gt 0
stop_agent
check_eq "the agent stops cleanly" "$?" 0

# 3. the server goes away; the agent restarts with the saved policy
srv_stop
check "the server stopped" test $? -eq 0
t0=$(now_ts)
start_agent "$d/state" "$d/actlogd.log"
check "offline, logging stays off" st_is '.logging == false and .policy.source == "server" and .policy.from_file == true'
check "offline, the saved interval applies" st_is '.interval.seconds == 10'
check "the log says the saved policy applies" grep -q "the server's policy for no session user saved .* applies until the server answers" "$d/actlogd.log"
txt=$("$BUILD/actlogctl" --socket "$d/ctl.sock" status)
check "text status names the policy's source" grep -q "^policy:    logging off; server (etag \"[0-9a-f]*\", saved .*, read at start)" <<<"$txt"
for i in 1 2 3; do probe "off$i"; done
check "an interval closes (offline)" wait_for 25 interval_after "$t0"
check_eq "offline: no activity record spooled" "$(since "$t0" "$d/state" activity)" 0
check_eq "offline: no process record spooled" "$(since "$t0" "$d/state" process)" 0
check "offline: agent records go on" test "$(since "$t0" "$d/state" agent)" -ge 2

# 4. SIGHUP with a local file that says logging on (and debug logging, a
# local-only setting that does reload)
printf 'backoff_max_s = 1\npolicy_poll_s = 1\nlogging = yes\ninterval_s = 2\nlog_level = debug\n' >"$conf"
t1=$(now_ts)
kill -HUP "$AGENT_PID"
check "SIGHUP reloads" wait_for 10 grep -q "settings reloaded: interval 10s (server; from the next boundary), idle threshold 300s (server), logging off (server)" "$d/actlogd.log"
check "a local-only setting reloads (debug: where each value comes from)" grep -q "policy: logging.enabled = false (server)" "$d/actlogd.log"
check "and the local interval is named as overridden" grep -q "policy: activity.interval_s = 10 (server)" "$d/actlogd.log"
check "after SIGHUP logging is still off" st_is '.logging == false and .policy.keys["logging.enabled"] == "server"'
probe hup
check "an interval closes after the SIGHUP" wait_for 25 interval_after "$t1"
check_eq "after SIGHUP: still no activity record" "$(since "$t0" "$d/state" activity)" 0
check_eq "after SIGHUP: still no process record" "$(since "$t0" "$d/state" process)" 0
check "after SIGHUP the interval is still the server's" st_is '.interval.seconds == 10'

# 5. the server comes back: the saved ETag gets a 304, nothing was recorded
srv_start || finish
check "the first fetch sends the saved ETag and gets a 304" wait_for 30 st_is '.policy.last_http == 304'
check "the saved policy is kept" st_is '.policy.from_file == true and .logging == false'
check "the agent ships what it has" wait_for 40 st_is '.spool.pending == 0 and .shipping.last_http == 200'
check_eq "on the server: no activity record since the restart" "$(server_activity)" "$act_before"
check_eq "on the server: no process record since the restart" "$(server_procs "$t0")" 0
stop_agent
check_eq "the agent stops cleanly" "$?" 0
srv_stop

# 6. a damaged or oversized policy.json is ignored with a log line
printf 'backoff_max_s = 1\npolicy_poll_s = 1\n' >"$conf"
cp "$pf" "$T/policy.good"
printf '{"v":1,"etag":"\\"x\\"","saved_ms":1,"policy":{"config":{"logging.enabled":fal' >"$pf"
start_agent "$d/state" "$d/damaged.log"
check "a damaged policy.json: logged" grep -q "ignoring the saved policy $pf: not a JSON object; the local settings apply" "$d/damaged.log"
check "a damaged policy.json: the local settings apply" st_is '.logging == true and .policy.source == "local"'
stop_agent
check_eq "a damaged policy.json: the agent still stops cleanly" "$?" 0
head -c 600000 /dev/zero | tr '\0' ' ' >"$pf"
start_agent "$d/state" "$d/oversized.log"
check "an oversized policy.json: logged" grep -q "ignoring the saved policy $pf: larger than the cap" "$d/oversized.log"
check "an oversized policy.json: the agent runs" st_is '.policy.source == "local"'
stop_agent

# 7. never enrolled: the same policy.json (logging off) is not consulted;
# the machine records what its local settings say
p=$T/plain
mkdir -p "$p/state"
cp "$T/policy.good" "$p/state/policy.json"
t2=$(now_ts)
start_agent "$p/state" "$p/actlogd.log"
check "never enrolled: logging on, local policy" st_is '.logging == true and .policy.source == "local" and .shipping.enrolled == false'
check "never enrolled: the local interval" wait_for 10 st_is '.interval.seconds == 2'
probe plain
check "never enrolled: processes are recorded" wait_for 10 bash -c "'$BUILD/actlogctl' --state-dir '$p/state' spool dump | grep -q '\"comm\":\"pol-plain\"'"
check "never enrolled: activity is recorded" wait_for 10 bash -c "[ \$('$BUILD/actlogctl' --state-dir '$p/state' spool dump | grep -c '\"type\":\"activity\"') -ge 1 ]"
check "never enrolled: the saved policy is not mentioned" not grep -q "saved policy" "$p/actlogd.log"
stop_agent

# 8. a first enrollment (or one with another server) drops a policy.json
# left in the state directory; renewing with the same server keeps it
srv_start || finish
enroll_plain() {
	api "$A" POST "/api/v1/nodes/$TM/enrollment-secrets" '{}'
	"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$(jr .secret)" --state-dir "$p/state" >>"$p/enroll.out" 2>&1
}
enroll_plain
check "a first enrollment deletes an old policy.json" test ! -e "$p/state/policy.json" -a -s "$p/state/device.json"
cp "$T/policy.good" "$p/state/policy.json"
enroll_plain
check "enrolling again with the same server keeps it" cmp -s "$T/policy.good" "$p/state/policy.json"
srv_stop
finish
