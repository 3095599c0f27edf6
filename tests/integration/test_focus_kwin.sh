#!/usr/bin/env bash
# The "kwin" focus route against a real, headless KWin (kwin_wayland
# --virtual) on a private session bus, as an unprivileged user, with two
# real Wayland clients (weston-flower, weston-terminal: two app ids), the
# real actlogd and actlog-session. Focus is switched with KWin's own
# scripting (a one-line test script that sets the active window).
# Checks: the helper picks the kwin route on KDE and says so in status;
# status follows each switch (app id, pid); app_usage gives the focus
# seconds to the right app id (±1 s); no caption anywhere with titles off,
# the caption once the policy turns titles on (tests/fake_sessd.py sends the
# policy) and none again when it turns them off;
# the KWin script's file is 0600 and is removed, and the script unloaded,
# when the helper exits; KWin leaving makes the focus unknown and its return
# (a new KWin on the same bus) reloads the script; the helper exits 0 when
# the session bus goes away; without KWin on the bus the route's why says
# so. Then tests/fake_kwin.py, a scripted org.kde.KWin, for what a real KWin
# cannot show: a Focus call from another bus name is refused
# (AccessDenied) and changes nothing, a restart, the script variants per
# titles setting, and a KWin that refuses the script gives the documented
# why.
# kwin_wayland carries a file capability (cap_sys_resource) that an
# unprivileged exec may be refused: the test runs a plain copy.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
KWIN_BIN=$(command -v kwin_wayland) || { echo "SKIP: $TEST_NAME: kwin_wayland is not installed (kwin-wayland, scripts/deps.sh)"; finish; }
for t in dbus-daemon gdbus weston-flower weston-terminal jq setpriv /usr/bin/python3; do need "$t"; done
/usr/bin/python3 -c 'import dbus, dbus.mainloop.glib; from gi.repository import GLib' 2>/dev/null ||
	{ fail "Debian's python3-dbus and python3-gi are missing (scripts/deps.sh)"; finish; }
for b in actlog-session actlogd actlogctl; do
	[ -x "$BUILD/$b" ] || { fail "missing $BUILD/$b (make)"; finish; }
done

chmod 755 "$T"
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
SOCK=$T/session.sock
U=$T/user # the user's private HOME and XDG_RUNTIME_DIR
mkdir -p "$U/home" "$U/run" "$T/bin" "$T/apps"
chmod 0700 "$U/run"
chown -R "$NOBODY:$NOGROUP" "$U"
cp "$KWIN_BIN" "$T/bin/kwin_wayland"
RUN=$U/run
BUS=unix:path=$RUN/bus
WL=wayland-actlog
# the user's session environment, and the switch to the user: `"${AS_USER[@]}"
# CMD &` leaves CMD's own pid in $! (a shell function run in the background
# would leave a subshell's)
user_env() {
	AS_USER=(env -u DISPLAY HOME="$U/home" XDG_RUNTIME_DIR="$RUN" DBUS_SESSION_BUS_ADDRESS="$BUS"
		WAYLAND_DISPLAY="$WL" XDG_SESSION_TYPE=wayland XDG_CURRENT_DESKTOP=KDE
		setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups)
}
user_env
as_user() { "${AS_USER[@]}" "$@"; }
kcall() { # OBJECT METHOD ARGS...: a call to org.kde.KWin as the user
	as_user gdbus call --session -d org.kde.KWin -o "$1" -m "$2" "${@:3}" 2>&1
}

start_bus() {
	"${AS_USER[@]}" dbus-daemon --session --address="$BUS" --nofork --nopidfile >"$T/dbus.log" 2>&1 &
	BUSPID=$!
	cleanup_add "kill $BUSPID"
	wait_for 10 test -S "$RUN/bus"
}
kwin_up() { kcall /Scripting org.kde.kwin.Scripting.isScriptLoaded none | grep -q false; }
start_kwin() {
	"${AS_USER[@]}" "$T/bin/kwin_wayland" --virtual --no-lockscreen --socket "$WL" --width 800 \
		--height 600 >>"$T/kwin.log" 2>&1 &
	KPID=$!
	cleanup_add "kill $KPID"
	wait_for 30 kwin_up && return 0
	echo "KWin did not come up; its log:" >&2
	sed 's/^/    /' "$T/kwin.log" >&2
	return 1
}
client() { # NAME: a Weston demo client; its pid in $CPID
	"${AS_USER[@]}" "$1" >>"$T/clients.log" 2>&1 &
	CPID=$!
	cleanup_add "kill $CPID"
}
FLOWER=org.freedesktop.weston.flower
TERM_ID=org.freedesktop.weston.wayland-terminal
has_window() { # RESOURCECLASS
	local n=$((++SW))
	printf 'var l = workspace.windowList ? workspace.windowList() : workspace.clientList();\nfor (var i = 0; i < l.length; i++) print("actlog-test-window " + l[i].resourceClass);\n' \
		>"$RUN/list$n.js"
	chmod 644 "$RUN/list$n.js"
	run_script "$RUN/list$n.js" "actlog-test-$n"
	wait_for 3 grep -q "actlog-test-window $1\$" "$T/kwin.log"
}
run_script() { # FILE PLUGIN: load a KWin script and run it (Plasma 5 and 6 paths)
	local id
	id=$(kcall /Scripting org.kde.kwin.Scripting.loadScript "$1" "$2" | tr -dc '0-9-')
	kcall "/Scripting/Script$id" org.kde.kwin.Script.run >/dev/null ||
		kcall "/$id" org.kde.kwin.Script.run >/dev/null
}
SW=0
activate() { # RESOURCECLASS: make KWin activate that window (test only)
	local n=$((++SW))
	cat >"$RUN/switch$n.js" <<JS
var l = workspace.windowList ? workspace.windowList() : workspace.clientList();
for (var i = 0; i < l.length; i++)
	if (String(l[i].resourceClass) == "$1") {
		if (workspace.windowList) workspace.activeWindow = l[i]; else workspace.activeClient = l[i];
	}
JS
	chmod 644 "$RUN/switch$n.js"
	run_script "$RUN/switch$n.js" "actlog-test-$n"
}

now() { date +%s.%N; }
jqs() { jq -se "$@" >/dev/null; }
st() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json 2>/dev/null; }
focus_is() { [ "$(st | jq -r '.session.focus.app // empty')" = "$1" ]; }
unknown_has() { st | jq -e --arg w "$1" '.session.focus.unknown // "" | contains($w)' >/dev/null; }
helpers_are() { [ "$(st | jq '.session.helpers | length')" = "$1" ]; }
focus_sum() { jq -s --arg a "$2" '[.[] | select(.type=="app_usage") | .apps[] | select(.app==$a) | .focus_s] | add // 0' "$1"; }
near() { # NAME GOT WANT TOLERANCE
	if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
		pass "$1 ($2 s, expected $3 s)"
	else
		fail "$1 (got $2 s, expected $3 ± $4 s)"
	fi
}
start_helper() { # LOG [ARGS...]: as the user, sets HPID
	local log=$1
	shift
	"${AS_USER[@]}" "$BUILD/actlog-session" --socket "$SOCK" -v "$@" >>"$log" 2>&1 &
	HPID=$!
	cleanup_add "kill $HPID"
}

# ---- a real KWin, two clients ----
check "a private session bus is up" start_bus || finish
check "KWin (--virtual) is up with /Scripting on the bus" start_kwin || finish
client weston-terminal
TPID=$CPID
check "KWin manages weston-terminal ($TERM_ID)" wait_for 10 has_window "$TERM_ID"
client weston-flower
FPID=$CPID
check "KWin manages weston-flower ($FLOWER)" wait_for 10 has_window "$FLOWER"

# ---- 1: the route, the focus per switch, the seconds per app ----
d=$T/a1
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" \
	--interval 3600 --desktop-dirs "$T/apps" || { fail "actlogd starts"; finish; }
activate "$TERM_ID"
start_helper "$T/helper.log"
check "the helper connects" wait_for 10 helpers_are 1
check_eq "status: the focus route in use" "$(st | jq -r '.session.helpers[0].route')" kwin
check_eq "status: the helper's focus source" "$(st | jq -r '.session.helpers[0].source')" kwin
check_eq "status: the compositor" "$(st | jq -r '.session.helpers[0].wm')" KWin
check "status: kwin, KDE's own route, opened first: no other route tried" jqs \
	'.[0].session.helpers[0].routes_not_used == []' <(st)
check "status names the active window's app id at start" wait_for 10 focus_is "$TERM_ID"
tS=$(now)
check_eq "status: the pid KWin gives" "$(st | jq -r .session.focus.pid)" "$TPID"
js=$(ls "$RUN"/actlog-focus-*.js 2>/dev/null | head -1)
check "the KWin script is in XDG_RUNTIME_DIR" test -n "$js"
check_eq "the KWin script is 0600" "$(stat -c %a "$js" 2>/dev/null)" 600
check_eq "the KWin script belongs to the user" "$(stat -c %u "$js" 2>/dev/null)" "$NOBODY"
activate "$FLOWER"
tF1=$(now)
check "focus flower" wait_for 5 focus_is "$FLOWER"
check_eq "status: flower's pid" "$(st | jq -r .session.focus.pid)" "$FPID"
sleep 3
activate "$TERM_ID"
tT=$(now)
check "focus terminal" wait_for 5 focus_is "$TERM_ID"
sleep 4
activate "$FLOWER"
tF2=$(now)
check "focus flower again" wait_for 5 focus_is "$FLOWER"
sleep 2
tEnd=$(now)
agent_stop
check_eq "actlogd exits 0" "$?" 0
spool_dump "$d" >"$d/dump.ndjson"
wantF=$(awk -v a="$tF1" -v b="$tT" -v c="$tF2" -v e="$tEnd" 'BEGIN { printf "%.2f", (b - a) + (e - c) }')
wantT=$(awk -v b="$tT" -v c="$tF2" 'BEGIN { printf "%.2f", c - b }')
near "flower's focus seconds (3 s + 2 s)" "$(focus_sum "$d/dump.ndjson" "$FLOWER")" "$wantF" 1
# the terminal also had the focus from the helper's first report to the first switch
wantT=$(awk -v s="$tS" -v a="$tF1" -v b="$tT" -v c="$tF2" 'BEGIN { printf "%.2f", (a - s) + (c - b) }')
near "terminal's focus seconds (from the start, then 4 s)" "$(focus_sum "$d/dump.ndjson" "$TERM_ID")" "$wantT" 1
check "the record says the focus came from kwin" jqs 'map(select(.type=="app_usage"))[0].source == "kwin"' "$d/dump.ndjson"
check "no caption in the spool (titles off)" not grep -Eq 'Flower|Wayland Terminal' "$d/dump.ndjson"
check "no titles key in app_usage (titles off)" jqs 'map(select(.type=="app_usage" and has("titles"))) | length == 0' "$d/dump.ndjson"
check "no caption in actlogd's log" not grep -Eq 'Flower|Wayland Terminal' "$d/actlogd.log"
check "no caption in the helper's log" not grep -Eq 'Flower|Wayland Terminal' "$T/helper.log"
check "the script sends no caption while titles are off" grep -q 'titles = false' "$js"

# ---- 2: KWin goes and comes back on the same bus: unknown, then reloaded ----
d=$T/a2
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" \
	--interval 3600 --desktop-dirs "$T/apps" || { fail "actlogd restarts"; finish; }
check "the helper reconnects" wait_for 15 helpers_are 1
check "after reconnecting: the focus" wait_for 5 focus_is "$FLOWER"
kill "$KPID"
wait "$KPID" 2>/dev/null
check "KWin gone: the focus is unknown, and why" wait_for 10 unknown_has "KWin left the session bus"
check "the helper keeps running" kill -0 "$HPID"
check "KWin comes back" start_kwin || finish
client weston-flower
FPID=$CPID
check "KWin manages a new weston-flower" wait_for 10 has_window "$FLOWER"
activate "$FLOWER"
check "the script is loaded again: focus known" wait_for 15 focus_is "$FLOWER"
check_eq "status: the new flower's pid" "$(st | jq -r .session.focus.pid)" "$FPID"
check_eq "one script file: the first one was removed" "$(ls "$RUN"/actlog-focus-*.js | wc -l)" 1
js=$(ls "$RUN"/actlog-focus-*.js | head -1)
plugin=$(basename "$js" .js)
script_loaded() { kcall /Scripting org.kde.kwin.Scripting.isScriptLoaded "$1" | grep -q "(true,)"; }
check "KWin runs the helper's script" script_loaded "$plugin"

# ---- 3: the helper exits: script unloaded, file removed ----
kill -TERM "$HPID"
wait "$HPID"
check_eq "the helper exits 0 on SIGTERM" "$?" 0
check "the script file is removed" not test -e "$js"
check "KWin no longer runs the script" wait_for 3 not script_loaded "$plugin"

# ---- 3b: titles on by policy, in the real KWin: the caption-sending script ----
# a stand-in actlogd (tests/fake_sessd.py) sends the policy and logs the focus
mkfifo "$T/sctl"
(umask 000 && FAKE_SESSD_FOCUS=$T/focus.ndjson exec /usr/bin/python3 "$ROOT/tests/fake_sessd.py" \
	"$T/sess.sock" "$T/sctl") 2>>"$T/fake_sessd.log" &
cleanup_add "kill $!"
check "the stand-in actlogd is up" wait_for 5 test -S "$T/sess.sock"
last_focus() { tail -n 1 "$T/focus.ndjson" 2>/dev/null; }
focus_line() { last_focus | jq -e "$1" >/dev/null 2>&1; }
"${AS_USER[@]}" "$BUILD/actlog-session" --socket "$T/sess.sock" -v >>"$T/helper7.log" 2>&1 &
H7=$!
cleanup_add "kill $H7"
check "real KWin, titles off: the focus without a title" wait_for 10 focus_line \
	'.app == "'"$FLOWER"'" and (has("title") | not)'
echo '{"apps.titles": true}' >"$T/sctl"
check "real KWin, titles on: the script's caption (Flower)" wait_for 10 focus_line \
	'.app == "'"$FLOWER"'" and .title == "Flower"'
check "real KWin, titles on: one script file, the caption-sending one" bash -c \
	"[ \$(ls '$RUN'/actlog-focus-$H7-*.js | wc -l) = 1 ] && grep -q 'titles = true' '$RUN'/actlog-focus-$H7-2.js"
check "real KWin: the first script is unloaded" wait_for 3 not script_loaded "actlog-focus-$H7-1"
check "real KWin: the second one runs" script_loaded "actlog-focus-$H7-2"
echo '{"apps.titles": false}' >"$T/sctl"
check "real KWin, titles off again: no title" wait_for 10 focus_line \
	'.app == "'"$FLOWER"'" and (has("title") | not)'
check "real KWin, titles off again: the caption-free script" wait_for 5 grep -q 'titles = false' "$RUN/actlog-focus-$H7-3.js"
kill -TERM "$H7"
wait "$H7"

# ---- 4: the session bus goes away: the helper exits 0 ----
start_helper "$T/helper2.log"
check "a second helper connects" wait_for 10 helpers_are 1
check "it uses the kwin route" wait_for 5 focus_is "$FLOWER"
kill "$BUSPID"
check "the helper exits when the session bus goes" wait_for 10 not kill -0 "$HPID" 2>/dev/null
wait "$HPID"
check_eq "... with status 0" "$?" 0
check "... saying the session ended" grep -q "session bus connection closed" "$T/helper2.log"
kill "$KPID" 2>/dev/null
wait "$KPID" 2>/dev/null

# ---- 5: no KWin on the bus: the documented why ----
BUS=unix:path=$RUN/bus2
user_env
"${AS_USER[@]}" dbus-daemon --session --address="$BUS" --nofork --nopidfile >"$T/dbus2.log" 2>&1 &
cleanup_add "kill $!"
check "a second session bus is up" wait_for 10 test -S "$RUN/bus2"
start_helper "$T/helper3.log"
check "a helper without KWin connects" wait_for 10 helpers_are 1
check "status: kwin not used: org.kde.KWin is not on the session bus" jqs \
	'.[0].session.helpers[0].routes_not_used | map(select(.route == "kwin" and (.why | contains("org.kde.KWin is not on the session bus")))) | length == 1' <(st)
check_eq "status: no route" "$(st | jq -r '.session.helpers[0].route')" null
check "status: the focus is unknown" wait_for 5 unknown_has "no focus route works"
kill -TERM "$HPID"
wait "$HPID"

# ---- 6: a scripted org.kde.KWin: the sender check, a restart, a refusal ----
mkfifo -m 0666 "$T/kwin.ctl"
: >"$T/fake.log"
chown "$NOBODY" "$T/fake.log"
fake_kwin() { # [ENV...]: sets FKPID
	env "$@" HOME="$U/home" XDG_RUNTIME_DIR="$RUN" DBUS_SESSION_BUS_ADDRESS="$BUS" \
		setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups \
		/usr/bin/python3 "$ROOT/tests/fake_kwin.py" "$T/kwin.ctl" "$T/fake.log" 2>>"$T/fake.err" &
	FKPID=$!
	cleanup_add "kill $FKPID"
	wait_for 10 grep -q "^up as" "$T/fake.log"
}
runs() { [ "$(grep -c '^run ' "$T/fake.log")" -ge "$1" ]; }
check "the scripted KWin is up" fake_kwin
start_helper "$T/helper4.log" --focus-route kwin
check "the helper connects (scripted KWin)" wait_for 10 helpers_are 1
check "the scripted KWin ran the script" wait_for 5 runs 1
check "the script file it read was 0600, titles off" grep -q '^run actlog-focus-.* titles false mode 600$' "$T/fake.log"
check "status: the scripted KWin's window" wait_for 5 focus_is org.example.PeerOne
me=$(sed -n 's/^run .* dest \(:[^ ]*\) .*/\1/p' "$T/fake.log" | tail -1)
as_user gdbus call --session -d "$me" -o /org/actlog/KWinFocus -m org.actlog.KWinFocus1.Focus \
	org.example.Intruder intruder 1 "" >"$T/intruder.out" 2>&1
check "a Focus call from another bus name is refused (AccessDenied)" \
	grep -q 'org.freedesktop.DBus.Error.AccessDenied' "$T/intruder.out"
sleep 0.5
check "... and changes nothing" focus_is org.example.PeerOne
echo "org.example.PeerTwo peertwo 78 PEER-CAPTION" >"$T/kwin.ctl"
check "the scripted KWin's next report is taken" wait_for 5 focus_is org.example.PeerTwo
check "no caption from the scripted KWin in status (titles off)" not bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | grep -q PEER-CAPTION"
kill "$FKPID"
check "scripted KWin gone: the focus is unknown" wait_for 10 unknown_has "KWin left the session bus"
check "the scripted KWin restarts" fake_kwin
check "the script is loaded and run again" wait_for 10 runs 2
check "status: known again" wait_for 5 focus_is org.example.PeerOne
# titles follow the policy (the stand-in actlogd of section 3b sends it)
"${AS_USER[@]}" "$BUILD/actlog-session" --socket "$T/sess.sock" -v --focus-route kwin \
	>>"$T/helper6.log" 2>&1 &
H6=$!
cleanup_add "kill $H6"
check "titles off: the focus without a title" wait_for 10 focus_line \
	'.app == "org.example.PeerOne" and (has("title") | not)'
check "titles off: the script sends no caption" grep -q "^run actlog-focus-$H6-1 .* titles false" "$T/fake.log"
echo '{"apps.titles": true}' >"$T/sctl"
check "titles on: the caption-sending script is loaded" wait_for 10 grep -q "^run actlog-focus-$H6-2 .* titles true" "$T/fake.log"
check "... and the first one unloaded" wait_for 5 grep -q "^unloadScript actlog-focus-$H6-1\$" "$T/fake.log"
check "titles on: the focus carries the caption" wait_for 10 focus_line '.title == "PEER-CAPTION"'
echo '{"apps.titles": false}' >"$T/sctl"
check "titles off again: a script without captions" wait_for 10 grep -q "^run actlog-focus-$H6-3 .* titles false" "$T/fake.log"
check "titles off again: the focus without a title" wait_for 10 focus_line \
	'.app == "org.example.PeerOne" and (has("title") | not)'
kill -TERM "$H6"
wait "$H6"
kill -TERM "$HPID"
wait "$HPID"
check "the helper unloads its script on exit" grep -q '^unloadScript actlog-focus-' "$T/fake.log"
kill "$FKPID"
wait "$FKPID" 2>/dev/null
: >"$T/fake.log"
check "a scripted KWin that refuses scripts is up" fake_kwin FAKE_KWIN_REFUSE=1
start_helper "$T/helper5.log" --focus-route kwin
check "the helper connects (refused script)" wait_for 10 helpers_are 1
check "status: why kwin is not used: KWin refused to load the script" jqs \
	'.[0].session.helpers[0].routes_not_used | map(select(.route == "kwin" and (.why | contains("KWin refused to load the script")))) | length == 1' <(st)
check "no script file is left behind" not bash -c "ls '$RUN'/actlog-focus-*.js 2>/dev/null | grep -q ."
agent_stop
finish
