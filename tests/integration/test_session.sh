#!/usr/bin/env bash
# actlog-session against the real actlogd on a real X server (Xvfb) with a
# real window manager (openbox) and real X clients (actlog-testwin, one
# WM_CLASS each): focus seconds per application within ±1 s, split at
# interval boundaries, titles only when the server's policy allows them,
# the no-window-manager fallback, refusal of other users, reconnection after
# an actlogd restart, actlogctl status, Wayland's honest "unknown", the exit
# when the X session ends, and the systemd user unit.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
. "$ROOT/tests/server.sh"
for t in Xvfb openbox xdotool xprop jq setpriv curl systemd-analyze; do need "$t"; done
for b in actlog-session actlog-testwin actlogd actlogctl actlog-server; do
	[ -x "$BUILD/$b" ] || { fail "missing $BUILD/$b (make)"; finish; }
done

# helpers run as an unprivileged user, as they do in a real session
chmod 755 "$T"
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
as_user() { setpriv --reuid="$1" --regid="$1" --clear-groups "${@:2}"; }
SOCK=$T/session.sock

# ---- an X server and a window manager ----
free_display
export DISPLAY=:$DN
Xvfb "$DISPLAY" -screen 0 1024x768x24 -nolisten tcp >"$T/xvfb.log" 2>&1 &
XPID=$!
cleanup_add "kill $XPID"
xup() { xprop -root -display "$DISPLAY" _NET_NOTHING >/dev/null 2>&1; }
check "Xvfb is up" wait_for 10 xup
start_wm() {
	openbox >"$T/openbox.log" 2>&1 &
	WMPID=$!
	cleanup_add "kill $WMPID"
	wait_for 10 bash -c 'xprop -root _NET_SUPPORTING_WM_CHECK | grep -q "window id"' && return 0
	echo "openbox did not take the display; its log:" >&2
	sed 's/^/    /' "$T/openbox.log" >&2
	return 1
}
check "openbox manages the display" start_wm

win() { # CLASS TITLE: starts a window, its id in $T/win.CLASS
	"$BUILD/actlog-testwin" --class "$1" --title "$2" >"$T/win.$1" 2>>"$T/testwin.log" &
	cleanup_add "kill $!"
	wait_for 10 test -s "$T/win.$1"
}
win ActlogTestA "TOPSECRET-A window"
win ActlogTestB "TOPSECRET-B window"
win ActlogTestC "TOPSECRET-C window"
WA=$(cat "$T/win.ActlogTestA")
WB=$(cat "$T/win.ActlogTestB")
WC=$(cat "$T/win.ActlogTestC")
check "three test windows" test -n "$WA" -a -n "$WB" -a -n "$WC"

now() { date +%s.%N; }
jqs() { jq -se "$@" >/dev/null; }
activate() { xdotool windowactivate --sync "$1" >/dev/null 2>&1; }
st() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json 2>/dev/null; }
focus_is() { [ "$(st | jq -r '.session.focus.app // empty')" = "$1" ]; }
helpers_are() { [ "$(st | jq '.session.helpers | length')" = "$1" ]; }
# sum of an app's focus seconds over the app_usage records of a spool dump
focus_sum() { jq -s --arg a "$2" '[.[] | select(.type=="app_usage") | .apps[] | select(.app==$a) | .focus_s] | add // 0' "$1"; }
near() { # NAME GOT WANT TOLERANCE
	if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
		pass "$1 ($2 s, expected $3 s)"
	else
		fail "$1 (got $2 s, expected $3 ± $4 s)"
	fi
}
start_helper() { # LOG [ENV...]: as nobody, sets HPID
	local log=$1
	shift
	env "$@" setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups \
		"$BUILD/actlog-session" --socket "$SOCK" -v >>"$log" 2>&1 &
	HPID=$!
	cleanup_add "kill $HPID"
}

# ---- 1: EWMH, A 3 s, B 5 s, A 2 s within one interval ----
activate "$WC" # what is focused before the helper speaks goes to C
d=$T/a1
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" \
	--interval 3600 || { fail "actlogd starts"; finish; }
start_helper "$T/helper.log"
check "the helper connects as uid $NOBODY" wait_for 10 helpers_are 1
check "status names the focused window's class" wait_for 10 focus_is ActlogTestC
check_eq "status: the helper's focus source" "$(st | jq -r '.session.helpers[0].source')" x11-ewmh
check_eq "status: the focus route in use" "$(st | jq -r '.session.helpers[0].route')" x11
check_eq "status: the helper's uid" "$(st | jq -r '.session.helpers[0].uid')" "$NOBODY"
check_eq "status: the window manager" "$(st | jq -r '.session.helpers[0].wm')" Openbox
activate "$WA"
tA1=$(now)
check "focus A" wait_for 5 focus_is ActlogTestA
sleep 3
activate "$WB"
tB=$(now)
check "focus B" wait_for 5 focus_is ActlogTestB
sleep 5
activate "$WA"
tA2=$(now)
check "focus A again" wait_for 5 focus_is ActlogTestA
sleep 2
check_eq "status: focus pid is the window's _NET_WM_PID" "$(st | jq -r .session.focus.pid)" \
	"$(pgrep -f -- '--class ActlogTestA' | head -1)"
"$BUILD/actlogctl" --socket "$d/ctl.sock" status >"$T/status.txt"
check "actlogctl status shows the focused application" grep -q '^focus: .*ActlogTestA' "$T/status.txt"
check "actlogctl status shows a connected helper" grep -q "^session: .*1 helper connected.*uid $NOBODY" "$T/status.txt"
"$BUILD/actlogctl" --socket "$d/ctl.sock" metrics >"$T/metrics.txt"
check "metrics: helpers connected" grep -qx 'actlog_session_helpers 1' "$T/metrics.txt"
tEnd=$(now)
agent_stop
check_eq "actlogd exits 0" "$?" 0
spool_dump "$d" >"$d/dump.ndjson"
n=$(jq -c 'select(.type=="app_usage")' "$d/dump.ndjson" | wc -l)
check_eq "one app_usage record for the one interval" "$n" 1
wantA=$(awk -v a="$tA1" -v b="$tB" -v c="$tA2" -v e="$tEnd" 'BEGIN { printf "%.2f", (b - a) + (e - c) }')
wantB=$(awk -v b="$tB" -v c="$tA2" 'BEGIN { printf "%.2f", c - b }')
near "A's focus seconds (3 s + 2 s)" "$(focus_sum "$d/dump.ndjson" ActlogTestA)" "$wantA" 1
near "B's focus seconds (5 s)" "$(focus_sum "$d/dump.ndjson" ActlogTestB)" "$wantB" 1
check "the record says how focus was known" jqs 'map(select(.type=="app_usage"))[0].source == "x11-ewmh"' "$d/dump.ndjson"
check "the record has top_cpu" jqs 'map(select(.type=="app_usage"))[0].top_cpu | type == "array"' "$d/dump.ndjson"
check "no title anywhere in the spool (policy off)" not grep -q TOPSECRET "$d/dump.ndjson"
check "no title key in app_usage (policy off)" jqs 'map(select(.type=="app_usage" and has("titles"))) | length == 0' "$d/dump.ndjson"
check "no title in actlogd's log" not grep -q TOPSECRET "$d/actlogd.log"
check "no title in the helper's log" not grep -q TOPSECRET "$T/helper.log"

# ---- 2: actlogd restarts: the same helper reconnects; boundaries split focus;
#         a .desktop file's Name names the app ----
mkdir -p "$T/apps"
cat >"$T/apps/actlog-bee.desktop" <<'EOF'
[Desktop Entry]
Type=Application
Name=Bee Editor
Name[de]=Bienen-Editor
Exec=/opt/bee/bin/bee-editor %F
StartupWMClass=ActlogTestB
EOF
d=$T/a2
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" \
	--interval 2 --desktop-dirs "$T/apps" || { fail "actlogd restarts"; finish; }
check "the helper reconnects after actlogd restarted" wait_for 15 helpers_are 1
check "the same helper process" kill -0 "$HPID"
check "after reconnecting the helper reports the current focus" wait_for 5 focus_is ActlogTestA
activate "$WB"
check "a .desktop StartupWMClass names the app" wait_for 5 focus_is "Bee Editor"
check_eq "status keeps the WM_CLASS" "$(st | jq -r .session.focus.class)" ActlogTestB
t0=$(now)
sleep 3.2
activate "$WA"
t1=$(now)
wait_for 5 focus_is ActlogTestA
sleep 3.2

# ---- 5: peers of other users are refused ----
timeout 4 "$BUILD/actlog-session" --socket "$SOCK" >"$T/root-helper.log" 2>&1
check "a root peer is refused (not the session's user)" grep -q "refused this helper: uid 0 is not the user" "$T/root-helper.log"
timeout 4 setpriv --reuid=1 --regid=1 --clear-groups "$BUILD/actlog-session" --socket "$SOCK" >"$T/daemon-helper.log" 2>&1
check "a uid 1 peer is refused" grep -q "refused this helper: uid 1 is not the user" "$T/daemon-helper.log"
check "refusals are counted" test "$(st | jq .session.refused)" -ge 2
check "refusals are logged with the peer" grep -q "session helper refused: pid [0-9]* uid 1:" "$d/actlogd.log"
check "the session's own helper is still the only one" helpers_are 1
"$BUILD/actlogctl" --socket "$d/ctl.sock" metrics >"$T/metrics.txt"
check "metrics: refusals" grep -qE '^actlog_session_refused_total [2-9]' "$T/metrics.txt"
t2=$(now)
agent_stop
spool_dump "$d" >"$d/dump.ndjson"
n=$(jq -c 'select(.type=="app_usage")' "$d/dump.ndjson" | wc -l)
check "several intervals" test "$n" -ge 3
near "Bee Editor summed over intervals" "$(focus_sum "$d/dump.ndjson" "Bee Editor")" \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" 1
check "no interval holds more focus than its length" jqs '
	map(select(.type=="app_usage") |
	    (([.apps[].focus_s] | add // 0) + .unknown_s) <=
	    (((.end | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.start | sub("\\.[0-9]+Z$"; "Z") | fromdate)) + 1.01))
	| all' "$d/dump.ndjson"
check "a focus stretch is split across interval records" jqs '
	[.[] | select(.type=="app_usage" and any(.apps[]; .app == "Bee Editor"))] | length >= 2' "$d/dump.ndjson"

# ---- 4: titles follow the server's policy (real actlog-server) ----
SRV_LISTEN=127.0.0.1:$(free_port)
srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
BZ=$(srv_business)
DM=$(srv_node domain D "$BZ")
PJ=$(srv_node project P "$DM")
TM=$(srv_node team T "$PJ")
api "$A" POST "/api/v1/nodes/$TM/enrollment-secrets" '{}'
SECRET=$(jr .secret)
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"apps.titles":true,"activity.interval_s":10}}'
check_st "team policy: titles on" 200
d=$T/a4
mkdir -p "$d/state"
"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$SECRET" --state-dir "$d/state" >"$T/enroll.out" 2>&1
check_eq "actlogd enrolls with the real server" "$?" 0
printf 'backoff_max_s = 1\npolicy_poll_s = 1\n' >"$T/actlogd.conf"
# no process records here: on a busy machine they would fill a spool segment,
# and acknowledged segments are removed before the checks read them
# the interval starts at 10 s: a policy interval applies only from the next
# boundary of the running one, which could be a minute away
"$BUILD/actlogd" --config "$T/actlogd.conf" --state-dir "$d/state" --socket "$d/ctl.sock" \
	--interval 10 --input-source none --proc-source none --session-socket "$SOCK" --session-uid "$NOBODY" >>"$d/actlogd.log" 2>&1 &
AGENT_PID=$!
cleanup_add "kill -9 $AGENT_PID"
check "the agent takes the titles policy" wait_for 20 grep -q "policy: window titles recorded" "$d/actlogd.log"
check "the helper reconnects to the enrolled agent" wait_for 15 helpers_are 1
check "the helper hears that titles are on" wait_for 10 grep -q "window titles reported by policy" "$T/helper.log"
activate "$WB"
wait_for 5 focus_is "ActlogTestB"
sleep 1.2
activate "$WA"
wait_for 5 focus_is "ActlogTestA"
sleep 1.2
# an interval boundary (10 s) ships an app_usage record to the server
from=$(date -u -d '-1 hour' +%Y-%m-%dT%H:00:00Z)
to=$(date -u -d '+1 hour' +%Y-%m-%dT%H:00:00Z)
check "app_usage reaches the server: its top apps list the focused application" wait_for 30 bash -c \
	"curl -s -H 'Authorization: Bearer $A' '$SRV_URL/api/v1/apps/top?node_id=$TM&from=$from&to=$to' | jq -e '.apps | any(.app == \"ActlogTestA\")' >/dev/null"
check_eq "the server refused no record" "$(st | jq .shipping.rejected)" 0
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"apps.titles":false,"activity.interval_s":10}}'
check "the agent takes titles off" wait_for 20 grep -q "policy: window titles not recorded" "$d/actlogd.log"
check "the helper hears that titles are off" wait_for 10 grep -q "window titles not reported by policy" "$T/helper.log"
# spool positions [seg, end] mark where titles went off and on again
spool_pos() { "$BUILD/actlogctl" --state-dir "$d/state" spool dump --json | tail -1 | jq -c '[.seg, .end]'; }
app_usage_after() { "$BUILD/actlogctl" --state-dir "$d/state" spool dump --json |
	jq -se --argjson m "$1" 'map(select([.seg, .end] > $m and .record.type == "app_usage")) | length >= 1' >/dev/null; }
spool_pos >"$T/mark1"
activate "$WB"
wait_for 5 focus_is "ActlogTestB"
sleep 1
# a live switch back to titles: the helper sends the focused window's title
# at once, without waiting for the focus to change
check "an interval closes with titles off" wait_for 15 app_usage_after "$(cat "$T/mark1")"
spool_pos >"$T/mark2"
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"apps.titles":true,"activity.interval_s":10}}'
check "the helper hears that titles are on again" wait_for 10 bash -c "[ \$(grep -c 'window titles reported by policy' '$T/helper.log') -ge 2 ]"
sleep 1
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
"$BUILD/actlogctl" --state-dir "$d/state" spool dump >"$d/dump.ndjson"
check "titles are recorded when the policy allows them" jqs '
	[.[] | select(.type=="app_usage") | .titles[]? | select(.app=="ActlogTestA" and .title=="TOPSECRET-A window")] | length >= 1' "$d/dump.ndjson"
# records by spool position: between titles off and on again, none has a title
"$BUILD/actlogctl" --state-dir "$d/state" spool dump --json >"$d/dumpj.ndjson"
jq -c --argjson a "$(cat "$T/mark1")" --argjson b "$(cat "$T/mark2")" \
	'select([.seg, .end] > $a and [.seg, .end] <= $b) | .record' "$d/dumpj.ndjson" >"$d/after-off.ndjson"
check "after titles are turned off, the next record has no titles" jqs '
	[.[] | select(.type=="app_usage")] | length >= 1 and all(has("titles") | not)' "$d/after-off.ndjson"
check "and no title text" not grep -q TOPSECRET "$d/after-off.ndjson"
jq -c --argjson b "$(cat "$T/mark2")" 'select([.seg, .end] > $b) | .record' "$d/dumpj.ndjson" >"$d/on-again.ndjson"
check "titles on again: the focused window's title without a focus change" jqs '
	[.[] | select(.type=="app_usage") | .titles[]? | select(.app=="ActlogTestB" and .title=="TOPSECRET-B window")] | length >= 1' "$d/on-again.ndjson"
srv_stop

# ---- 6: no window manager: XGetInputFocus names the focused client ----
d=$T/a6
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" \
	--interval 3600 || fail "actlogd starts again"
check "the helper reconnects" wait_for 15 helpers_are 1
kill "$WMPID"
wait "$WMPID" 2>/dev/null
check "without a window manager the helper falls back to XGetInputFocus" \
	wait_for 10 bash -c "[ \"\$('$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | jq -r .session.helpers[0].source)\" = x11-input-focus ]"
xdotool windowfocus --sync "$WB"
check "fallback: focus B" wait_for 5 focus_is ActlogTestB
sleep 1.5
xdotool windowfocus --sync "$WA"
check "fallback: focus A" wait_for 5 focus_is ActlogTestA
check_eq "fallback: source in status" "$(st | jq -r .session.focus.source)" x11-input-focus
sleep 1.5

# ---- SIGTERM ends the helper with 0 ----
kill -TERM "$HPID"
wait "$HPID"
check_eq "the helper exits 0 on SIGTERM" "$?" 0
check "actlogd sees the helper go" wait_for 5 helpers_are 0

# ---- 7: Wayland without a usable protocol: "unknown", honestly ----
start_helper "$T/wayland-helper.log" -u DISPLAY XDG_SESSION_TYPE=wayland WAYLAND_DISPLAY=wayland-0 \
	XDG_CURRENT_DESKTOP=GNOME
check "a Wayland helper connects" wait_for 10 helpers_are 1
check "status: focus not known on Wayland" wait_for 5 bash -c \
	"'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | jq -e '.session.focus.known == false' >/dev/null"
check "the helper says why, route by route, GNOME's first" \
	grep -q "focus unknown: wayland: no focus route works (gnome: " "$T/wayland-helper.log"
"$BUILD/actlogctl" --socket "$d/ctl.sock" status --json >"$T/wl-status.json"
check "status: no route in use, the three tried with their reasons" jq -e '
	.session.helpers[0].route == null and
	([.session.helpers[0].routes_not_used[].route] == ["gnome","wlr","kwin"]) and
	all(.session.helpers[0].routes_not_used[]; (.why | length) > 0)' "$T/wl-status.json"
check "status: the focus is unknown with the reason" jq -e '
	.session.focus.unknown | startswith("wayland: no focus route works")' "$T/wl-status.json"
"$BUILD/actlogctl" --socket "$d/ctl.sock" status >"$T/wl-status.txt"
check "actlogctl status names each route not used" grep -q "not wlr: " "$T/wl-status.txt"
sleep 1.5
kill -TERM "$HPID"
wait "$HPID"
agent_stop
spool_dump "$d" >"$d/dump.ndjson"
check "fallback seconds recorded for A and B" jqs '
	[.[] | select(.type=="app_usage") | .apps[] | select(.app=="ActlogTestA" or .app=="ActlogTestB") | .focus_s] | length == 2 and all(. >= 1)' "$d/dump.ndjson"
check "the unknown (Wayland) seconds are recorded as unknown_s" jqs '
	[.[] | select(.type=="app_usage")][0] | .unknown_s >= 1 and .source == "wayland"' "$d/dump.ndjson"

# ---- 8: the helper exits when the X session ends ----
d=$T/a8
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" || fail "actlogd"
start_helper "$T/helper8.log"
check "an X helper connects" wait_for 10 helpers_are 1
xdotool windowfocus --sync "$WB"
check "a helper started without a window manager names the focused client" wait_for 5 focus_is ActlogTestB
check_eq "... through XGetInputFocus" "$(st | jq -r .session.focus.source)" x11-input-focus
kill "$XPID"
wait "$XPID" 2>/dev/null
check "the helper exits when the X server goes away" wait_for 10 not kill -0 "$HPID" 2>/dev/null
wait "$HPID"
check_eq "and its exit status is 0" "$?" 0
check "it says the session ended" grep -q "the X connection closed" "$T/helper8.log"
agent_stop

# ---- the systemd user unit ----
mkdir -p "$T/unit" "$T/xdg"
chmod 700 "$T/xdg"
sed "s|@BINDIR@|$BUILD|g" "$ROOT/systemd/actlog-session.service" >"$T/unit/actlog-session.service"
out=$(cd "$T/unit" && XDG_RUNTIME_DIR=$T/xdg MANPATH=$ROOT/docs/man systemd-analyze --user verify "$T/unit/actlog-session.service" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out"
check_eq "systemd-analyze --user verify: exit status" "$rc" 0
check_eq "systemd-analyze --user verify: no warnings" "$out" ""
for want in "WantedBy=graphical-session.target" "PartOf=graphical-session.target" "Restart=on-failure"; do
	check "unit has $want" grep -qx "$want" "$T/unit/actlog-session.service"
done
finish
