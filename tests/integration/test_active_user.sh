#!/usr/bin/env bash
# The active user with the real agent, through both sources:
#  - utmp (no logind seat): /run/utmp written with utmpdump(1);
#  - logind: the agent's sd-login reads /run/systemd/seats/seat0 and
#    /run/systemd/sessions/* as systemd-logind writes them (replaced by
#    rename, which is what sd_login_monitor watches for).
# Each switch of user must close the running interval early under the old
# user and start the next one at the same instant under the new; nobody at
# the seat is user null with "session":"none"; status names the user. Last,
# the real actlog-server maps the shipped records to the team users of those
# logins.
#
# The test runs in a private mount namespace (it re-executes itself under
# unshare), so /run, /run/systemd and /etc/passwd are test copies and the
# machine's own are untouched.
if [ -z "${ACTLOG_TEST_PRIVATE_NS:-}" ]; then
	ACTLOG_TEST_PRIVATE_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
	echo "FAIL: test_active_user: cannot enter a private mount namespace (unshare -m)"
	exit 1
fi
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
need jq
need utmpdump
ctl=$BUILD/actlogctl

if pgrep -x systemd-logind >/dev/null; then
	echo "note: systemd-logind runs on this machine; the test uses its own /run/systemd"
else
	echo "note: systemd-logind is not running here; its files are written by the test"
fi

# private /run and two users known only here
mount -t tmpfs -o mode=755 tmpfs /run || { fail "mount a private /run"; finish; }
mkdir -p /run/actlog
cp /etc/passwd "$T/passwd"
printf 'alice:x:4101:4101::/nonexistent:/bin/sh\nbob:x:4102:4102::/nonexistent:/bin/sh\n' >>"$T/passwd"
mount --bind "$T/passwd" /etc/passwd || { fail "bind a test /etc/passwd"; finish; }
check_eq "alice exists in the namespace" "$(id -u alice)" 4101

# activity records: "user|start|end", in order
activity() { spool_dump "$1" | jq -r 'select(.type == "activity") | "\(.user)|\(.start)|\(.end)"'; }
status() { "$ctl" --socket "$1/ctl.sock" status --json; }

# ---- utmp ----
sleep 1000 &
S1=$!
sleep 1000 &
S2=$!
cleanup_add "kill $S1 $S2"
# utmp USER LINE PID [TYPE]...: one entry per 4 words
utmp() {
	local out=$1 n=10
	shift
	: >"$T/utmp.txt"
	while [ $# -gt 0 ]; do
		printf '[%d] [%05d] [%-4.4s] [%-8s] [%-12s] [%-20s] [%-15s] [%s]\n' "$4" "$3" "$2" "$1" \
			"$2" "$2" 0.0.0.0 "2024-01-02T03:04:$n,000000+00:00" >>"$T/utmp.txt"
		n=$((n + 1))
		shift 4
	done
	utmpdump -r <"$T/utmp.txt" >"$out" 2>/dev/null
}

check "no logind seat here: the utmp source is chosen" test ! -e /run/systemd/seats/seat0
utmp /run/utmp alice :0 "$S1" 7 root tty2 "$$" 7
d=$T/u
agent_start "$d" --interval 3600 --proc-source none || fail "actlogd starts"
s=$(status "$d")
check_eq "status: the active user" "$(jq -r .active_user <<<"$s")" alice
check_eq "status: the source" "$(jq -r .sources.user <<<"$s")" utmp
check "status: the detail names the display" jq -e '.sources.user_detail | test(":0")' <<<"$s"
check "text status has a user line" bash -c "'$ctl' --socket '$d/ctl.sock' status | grep -q '^user:      alice (utmp: '"
check_eq "the start record carries alice" \
	"$(spool_dump "$d" | jq -r 'select(.type == "agent" and .event == "start") | .user')" alice
check "and no session field" bash -c "'$ctl' --state-dir '$d/state' spool dump | jq -se 'all(.[]; has(\"session\") | not)' >/dev/null"
sleep 1.2
# alice logs out, bob logs in on :1 (rewritten in place, as login programs do)
utmp "$T/utmp.bin" alice :0 0 8 bob :1 "$S2" 7
cat "$T/utmp.bin" >/run/utmp
check "the switch is seen" wait_for 5 bash -c "[ \"\$('$ctl' --socket '$d/ctl.sock' status --json | jq -r .active_user)\" = bob ]"
check "an interval closed early under alice" wait_for 5 bash -c "'$ctl' --state-dir '$d/state' spool dump | jq -se 'any(.[]; .type == \"activity\" and .user == \"alice\")' >/dev/null"
check "the switch is logged" grep -q "active user: alice -> bob: new interval" "$d/actlogd.log"
sleep 1.2
# nobody: bob's entry is gone
utmp "$T/utmp.bin" bob :1 0 8
cat "$T/utmp.bin" >/run/utmp
check "nobody at the seat" wait_for 5 bash -c "'$ctl' --socket '$d/ctl.sock' status --json | jq -e '.active_user == null' >/dev/null"
sleep 1.2
agent_stop
check_eq "exit 0" "$?" 0
a=$(activity "$d")
echo "$a"
check_eq "three intervals: alice, bob, nobody" "$(cut -d'|' -f1 <<<"$a" | paste -sd,)" "alice,bob,null"
check "each interval starts where the previous ended" bash -c '
	prev=""; while IFS="|" read -r u s e; do
		[ -z "$prev" ] || [ "$s" = "$prev" ] || exit 1; prev=$e; done <<<"$1"' _ "$a"
check "alice's interval ended early (the interval is 3600 s)" bash -c '
	IFS="|" read -r u s e <<<"$(head -n 1 <<<"$1")"
	[ $(( $(date -d "$e" +%s) - $(date -d "$s" +%s) )) -lt 60 ]' _ "$a"
check "with nobody, records say session none" bash -c "'$ctl' --state-dir '$d/state' spool dump | jq -se '[.[] | select(.type == \"agent\" and .event == \"stop\")] | length == 1 and all(.[]; .user == null and .session == \"none\")' >/dev/null"
# a stale login: the process is gone but utmp still lists it
kill "$S1"
wait "$S1" 2>/dev/null
utmp /run/utmp alice :0 "$S1" 7
d=$T/u2
agent_start "$d" --interval 3600 --input-source none --proc-source none || fail "actlogd starts"
check "a utmp entry of a dead process is nobody" bash -c "'$ctl' --socket '$d/ctl.sock' status --json | jq -e '.active_user == null' >/dev/null"
agent_stop

# ---- logind ----
mkdir -p /run/systemd/seats /run/systemd/sessions /run/systemd/users
# session ID UID TYPE CLASS [STATE]: written to a temporary file and renamed,
# as logind does
session() {
	printf 'UID=%s\nUSER=%s\nACTIVE=1\nIS_DISPLAY=1\nSTATE=%s\nREMOTE=0\nTYPE=%s\nORIGINAL_TYPE=%s\nCLASS=%s\nSEAT=seat0\nVTNR=2\n' \
		"$2" "$(id -nu "$2")" "${5:-active}" "$3" "$3" "$4" >"/run/systemd/sessions/.#$1"
	mv "/run/systemd/sessions/.#$1" "/run/systemd/sessions/$1"
}
# seat ACTIVE_SESSION UID (empty: no active session)
seat() {
	{
		printf 'IS_SEAT0=1\nCAN_MULTI_SESSION=1\nCAN_TTY=1\nCAN_GRAPHICAL=1\n'
		[ -z "$1" ] || printf 'ACTIVE=%s\nACTIVE_UID=%s\n' "$1" "$2"
		printf 'SESSIONS=c1 c2 c3 c4\n'
	} >/run/systemd/seats/.#seat0
	mv /run/systemd/seats/.#seat0 /run/systemd/seats/seat0
}
session c1 4101 wayland user
session c2 0 x11 greeter
session c3 4102 x11 user
session c4 4101 tty user
seat c1 4101
rm -f /run/utmp
d=$T/l
agent_start "$d" --interval 3600 --proc-source none || fail "actlogd starts"
s=$(status "$d")
check_eq "logind: the source" "$(jq -r .sources.user <<<"$s")" logind
check_eq "logind: alice on seat0" "$(jq -r .active_user <<<"$s")" alice
check_eq "logind: the detail" "$(jq -r .sources.user_detail <<<"$s")" "seat0 session c1 (wayland)"
want_user() { # USER: wait until status says so
	wait_for 5 bash -c "[ \"\$('$ctl' --socket '$d/ctl.sock' status --json | jq -r '.active_user // \"none\"')\" = '$1' ]"
}
sleep 1.2
seat c2 0
check "logind: the greeter is nobody" want_user none
check "logind: the detail says why" bash -c "'$ctl' --socket '$d/ctl.sock' status --json | jq -e '.sources.user_detail | test(\"greeter\")' >/dev/null"
sleep 1.2
seat c3 4102
check "logind: bob's x11 session" want_user bob
sleep 1.2
seat c4 4101
check "logind: a text console is nobody" want_user none
sleep 1.2
seat c1 4101
check "logind: alice again" want_user alice
# a session whose type changes (compositors may set it late): still alice
session c1 4101 x11 user
sleep 0.5
check_eq "logind: a session update of the same user is no switch" \
	"$(grep -c 'active user: .* new interval' "$d/actlogd.log")" 4
sleep 1.2
# alice logs out: logind marks her session closing before it goes
session c1 4101 x11 user closing
check "logind: a closing session is nobody" want_user none
seat "" ""
sleep 0.5
check_eq "logind: then no active session: still nobody, no new interval" \
	"$(grep -c 'active user: .* new interval' "$d/actlogd.log")" 5
agent_stop
check_eq "exit 0 (logind)" "$?" 0
a=$(activity "$d")
echo "$a"
check_eq "logind: intervals follow the seat" "$(cut -d'|' -f1 <<<"$a" | paste -sd,)" "alice,null,bob,null,alice,null"
check "logind: each interval starts where the previous ended" bash -c '
	prev=""; while IFS="|" read -r u s e; do
		[ -z "$prev" ] || [ "$s" = "$prev" ] || exit 1; prev=$e; done <<<"$1"' _ "$a"
check "logind: records of nobody carry session none" bash -c "'$ctl' --state-dir '$d/state' spool dump | jq -se '[.[] | select(.user == null)] | length > 0 and all(.[]; .session == \"none\")' >/dev/null"
check "logind: every activity record of a user has no session field" bash -c "'$ctl' --state-dir '$d/state' spool dump | jq -se '[.[] | select(.user != null) | has(\"session\")] | any | not' >/dev/null"

# ---- the real server: records map to the team's users by login; nobody's
# records (user null, session none) are accepted too ----
. "$ROOT/tests/server.sh"
need curl
srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
DM=$(srv_node domain D "$B")
PJ=$(srv_node project P "$DM")
TM=$(srv_node team T "$PJ")
UA=$(srv_user alice@example.com Alice alice "$TM")
UB=$(srv_user bob@example.com Bob bob "$TM")
api "$A" POST "/api/v1/nodes/$TM/enrollment-secrets" '{}'
check_st "enrollment secret" 201
d=$T/s
mkdir -p "$d/state"
"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$(jr .secret)" --state-dir "$d/state" >/dev/null 2>&1
check_eq "the agent enrolls" "$?" 0
DEV=$(jq -r .device_id "$d/state/device.json")
session c1 4101 wayland user
seat c1 4101
printf 'policy_poll_s = 1\n' >"$T/poll.conf"
"$BUILD/actlogd" --config "$T/poll.conf" --state-dir "$d/state" --socket "$d/ctl.sock" \
	--interval 3600 --proc-source none >>"$d/actlogd.log" 2>&1 &
AGENT_PID=$!
cleanup_add "kill -9 $AGENT_PID"
wait_for 20 "$ctl" --socket "$d/ctl.sock" status --json >/dev/null 2>&1
check "shipping runs" bash -c "'$ctl' --socket '$d/ctl.sock' status --json | jq -e '.shipping.active' >/dev/null"
sleep 1.2
seat c3 4102
want_user bob
sleep 1.2
seat "" ""
want_user none
check "every record is shipped" wait_for 30 bash -c \
	"'$ctl' --socket '$d/ctl.sock' status --json | jq -e '.spool.pending == 0 and .shipping.batches > 0' >/dev/null"
check_eq "the server rejected no record" "$("$ctl" --socket "$d/ctl.sock" status --json | jq .shipping.rejected)" 0
from=$(date -u -d '-1 hour' +%Y-%m-%dT%H:00:00Z)
to=$(date -u -d '+2 hour' +%Y-%m-%dT%H:00:00Z)
api "$A" GET "/api/v1/users/$UA/activity?from=$from&to=$to"
check_st "alice's activity" 200
check_eq "alice has her one interval" "$(jr .totals.records)" 1
api "$A" GET "/api/v1/users/$UB/activity?from=$from&to=$to"
check_eq "bob has his one interval" "$(jr .totals.records)" 1
api "$A" GET "/api/v1/devices/$DEV/sysinfo"
check_st "the device's sysinfo" 200
check_eq "the latest sysinfo is the start record, taken while alice was there" \
	"$(jr '.latest.reason + " " + .latest.user')" "start alice"
check_eq "and describes this machine" "$(jr .latest.kernel.release)" "$(uname -r)"
# logging off by policy: records go on (agent, sysinfo) but no longer name
# who is at the machine
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"logging.enabled":false}}'
check_st "logging off on the team" 200
seat c1 4101
want_user alice
check "the agent applies logging off" wait_for 20 bash -c \
	"'$ctl' --socket '$d/ctl.sock' status --json | jq -e '.logging == false' >/dev/null"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
check_eq "exit 0 (shipping)" "$?" 0
check "with logging off the stop record withholds the user" bash -c \
	"'$ctl' --state-dir '$d/state' spool dump | jq -se '[.[] | select(.type == \"agent\" and .event == \"stop\")][0] | .user == null and .session == \"withheld\"' >/dev/null"
check "alice's last interval, closed when logging went off, names her" bash -c \
	"'$ctl' --state-dir '$d/state' spool dump | jq -se '[.[] | select(.type == \"activity\")][-1].user == \"alice\"' >/dev/null"
finish
