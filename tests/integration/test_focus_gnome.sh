#!/usr/bin/env bash
# The "gnome" focus route with a real GNOME Shell (headless Wayland, as an
# unprivileged user on its own session bus), the real actlog GNOME Shell
# extension, two real Wayland clients (foot, two app ids), the real actlogd
# and actlog-session:
#  - the extension not installed: the helper (started as soon as the Shell
#    owns its name) takes the gnome route and says what to do; the Shell
#    going away ends the helper (exit 0);
#  - installed but disabled: status says `gnome-extensions enable ...`;
#    enabling it makes the focus flow without restarting the helper;
#  - focus switched by the Shell itself (Eval, allowed by a test-only
#    extension that turns on unsafe mode): status names each app, its pid,
#    and the app_usage record gives the seconds to the right app (±1 s);
#  - no title leaves the Shell unless asked (FocusChanged seen on the bus),
#    and none reaches status, records or logs; titles when a peer asks;
#  - titles by policy (a second helper on tests/fake_sessd.py): on, the
#    focus reports carry them; off again, they stop, and the extension stops
#    sending them; the first helper (titles off) drops the ones it sees;
#  - disabling the extension: unknown again with the reason;
#  - a FocusChanged from a peer that does not own org.actlog.Focus is ignored;
#  - the GNOME 45+ build (scripts/gnome-extension-esm.sh) is a valid ES
#    module (syntax only: GNOME Shell 43 cannot load it);
#  - org.gnome.Shell not on the bus: the route is not used, with that why.
#
# The test runs in a private mount namespace (it re-executes itself under
# unshare) with its own /run/systemd and a private system bus on /run/dbus.
if [ -z "${ACTLOG_TEST_PRIVATE_NS:-}" ]; then
	ACTLOG_TEST_PRIVATE_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
	echo "FAIL: test_focus_gnome: cannot enter a private mount namespace (unshare -m)"
	exit 1
fi
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
if ! command -v gnome-shell >/dev/null 2>&1; then
	echo "SKIP: $TEST_NAME: gnome-shell is not installed (scripts/deps.sh TEST_PKGS)"
	finish
fi
for t in jq setpriv foot gdbus gsettings gnome-extensions dbus-daemon; do need "$t"; done
for b in actlog-session actlogd actlogctl; do
	[ -x "$BUILD/$b" ] || { fail "missing $BUILD/$b (make)"; finish; }
done
UUID=actlog-focus@actlog.dev
EXT_SRC=$ROOT/user/session/gnome-extension/$UUID

# ---- the GNOME 45+ build: generated, ES module syntax (not loadable here) ----
if command -v node >/dev/null 2>&1; then
	mkdir -p "$T/esm"
	check "the GNOME 45+ build is generated" "$ROOT/scripts/gnome-extension-esm.sh" "$EXT_SRC" "$T/esm/$UUID"
	cp "$T/esm/$UUID/extension.js" "$T/esm/extension.mjs"
	check "... and is a valid ES module" node --check "$T/esm/extension.mjs"
	check "... without legacy imports or init()" not grep -q -e 'imports\.gi' -e '^function init' "$T/esm/$UUID/extension.js"
	check "... for GNOME Shell 45 and later" jq -e '.["shell-version"] | index("45") != null' "$T/esm/$UUID/metadata.json"
	cp "$EXT_SRC/extension.js" "$T/esm/legacy.js"
	check "the legacy extension parses" node --check "$T/esm/legacy.js"
fi

# ---- a private system bus, the user's home and session bus ----
mkdir -p /run/systemd /run/dbus
mount -t tmpfs -o mode=755 tmpfs /run/systemd || { fail "mount a private /run/systemd"; finish; }
mount -t tmpfs -o mode=755 tmpfs /run/dbus || { fail "mount a private /run/dbus"; finish; }
dbus-daemon --system --nofork --nopidfile >"$T/system-bus.log" 2>&1 &
cleanup_add "kill $!"
chmod 755 "$T"
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
H=$T/home
RUN=$H/run
EXTS=$H/.local/share/gnome-shell/extensions
mkdir -p "$RUN" "$EXTS"
cp -r "$ROOT/tests/gnome/actlog-test@actlog.dev" "$EXTS/"
chown -R "$NOBODY:$NOGROUP" "$H"
chmod 700 "$RUN"
BUS=unix:path=$RUN/bus
# "${AS_USER[@]}" CMD...: as the session's user, in the session's environment
# (exec'd: $! of a background command is the command's own pid); U: the same
AS_USER=(setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups env -i HOME="$H"
	XDG_RUNTIME_DIR="$RUN" PATH=/usr/bin:/bin LANG=C.UTF-8 XDG_CURRENT_DESKTOP=GNOME
	XDG_SESSION_TYPE=wayland WAYLAND_DISPLAY=wayland-0 DBUS_SESSION_BUS_ADDRESS="$BUS")
U() { "${AS_USER[@]}" "$@"; }
"${AS_USER[@]}" dbus-daemon --session --address="$BUS" --nofork --nopidfile >"$T/session-bus.log" 2>&1 &
cleanup_add "kill $!"
check "the session bus is up" wait_for 10 test -S "$RUN/bus"
# the test-only extension (unsafe mode for Eval) is enabled before the Shell starts
U gsettings set org.gnome.shell enabled-extensions "['actlog-test@actlog.dev']"

has_owner() { U gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
	--method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true; }
start_shell() { # LOG [nowait]: sets SHPID; waits until the Shell answers unless nowait
	"${AS_USER[@]}" gnome-shell --headless --wayland --virtual-monitor 1280x720 --no-x11 >>"$1" 2>&1 &
	SHPID=$!
	cleanup_add "kill -9 $SHPID"
	wait_for 60 has_owner org.gnome.Shell || return 1
	[ "${2:-}" = nowait ] || wait_for 30 shell_ready
}
# the Shell answers on its objects (it owns its name before it exports them)
shell_ready() { U gdbus call --session --dest org.gnome.Shell --object-path /org/gnome/Shell \
	--method org.gnome.Shell.Extensions.GetExtensionInfo x@y >/dev/null 2>&1; }
stop_shell() { # SIGTERM; SIGKILL when it has not left the bus within 5 s
	kill "$SHPID"
	wait_for 5 not has_owner org.gnome.Shell || kill -9 "$SHPID"
	wait "$SHPID" 2>/dev/null
	wait_for 10 not has_owner org.gnome.Shell
}
eval_js() { U gdbus call --session --dest org.gnome.Shell --object-path /org/gnome/Shell \
	--method org.gnome.Shell.Eval "$1" 2>/dev/null; }
activate() { # APP_ID: the Shell focuses that client's window
	eval_js "global.get_window_actors().map(a => a.meta_window).find(w => w.get_wm_class() == '$1').activate(global.get_current_time())" |
		grep -q '^(true'
}
shell_focus_is() { eval_js 'global.display.focus_window ? global.display.focus_window.get_wm_class() : ""' |
	grep -q "\"$1\""; }

SOCK=$T/session.sock
d=$T/a
st() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json 2>/dev/null; }
helpers_are() { [ "$(st | jq '.session.helpers | length')" = "$1" ]; }
focus_is() { [ "$(st | jq -r '.session.focus.app // empty')" = "$1" ]; }
unknown_has() { st | jq -e --arg w "$1" '.session.focus.unknown // "" | contains($w)' >/dev/null; }
start_helper() { # LOG [ARGS...]: sets HPID
	local log=$1
	shift
	"${AS_USER[@]}" "$BUILD/actlog-session" --socket "$SOCK" -v "$@" >>"$log" 2>&1 &
	HPID=$!
	cleanup_add "kill $HPID"
}
now() { date +%s.%N; }
focus_sum() { jq -s --arg a "$2" '[.[] | select(.type=="app_usage") | .apps[] | select(.app==$a) | .focus_s] | add // 0' "$1"; }
near() { # NAME GOT WANT TOLERANCE
	if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
		pass "$1 ($2 s, expected $3 s)"
	else
		fail "$1 (got $2 s, expected $3 ± $4 s)"
	fi
}

# no .desktop files: the app is named by its app id (foot's own file would
# name both clients "Foot")
mkdir -p "$T/apps"
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" \
	--interval 3600 --desktop-dirs "$T/apps" || { fail "actlogd starts"; finish; }

# ---- 1: the extension is not installed; the Shell goes away ----
# the helper starts the moment org.gnome.Shell is owned, as at login: the
# Shell may not answer on its objects yet (then the route asks again)
check "GNOME Shell starts headless (first run)" start_shell "$T/shell1.log" nowait
start_helper "$T/helper1.log"
check "the helper connects" wait_for 15 helpers_are 1
check_eq "status: the route is gnome" "$(st | jq -r '.session.helpers[0].route')" gnome
check "status: the Shell and its version" bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json |
	jq -e '.session.helpers[0].wm | test(\"^GNOME Shell [0-9]+\")' >/dev/null"
check "not installed: status says what to do" wait_for 10 unknown_has \
	"the actlog GNOME Shell extension ($UUID) is not installed: install actlog-session's extension (make install) and log in again"
check "not installed: the helper's log says it too" grep -q "focus unknown: the actlog GNOME Shell extension ($UUID) is not installed" "$T/helper1.log"
check "GNOME Shell leaves the bus" stop_shell
check "the helper exits when GNOME Shell goes away" wait_for 10 not kill -0 "$HPID"
kill -9 "$HPID" 2>/dev/null
wait "$HPID"
check_eq "and its exit status is 0" "$?" 0
check "it says the session ended" grep -q "the session bus connection closed: the session ended" "$T/helper1.log"
check "actlogd sees the helper go" wait_for 5 helpers_are 0

# ---- 2: installed but disabled; enabled while the helper runs ----
cp -r "$EXT_SRC" "$EXTS/"
chown -R "$NOBODY:$NOGROUP" "$EXTS"
check "GNOME Shell starts headless (second run)" start_shell "$T/shell2.log"
eval_ok() { eval_js 1+1 | grep -q "'2'"; }
check "the test extension allows Eval" wait_for 10 eval_ok ||
	sed 's/^/    /' "$T/shell2.log"
"${AS_USER[@]}" foot --app-id actlogtest.one --title TOPSECRET-ONE sleep 600 >"$T/foot1.log" 2>&1 &
P1=$!
cleanup_add "kill $P1"
"${AS_USER[@]}" foot --app-id actlogtest.two --title TOPSECRET-TWO sleep 600 >"$T/foot2.log" 2>&1 &
P2=$!
cleanup_add "kill $P2"
both_up() { activate actlogtest.one && activate actlogtest.two; }
check "two Wayland clients are up" wait_for 20 both_up
check "the Shell focuses actlogtest.one" activate actlogtest.one
check "... as the Shell sees it" wait_for 5 shell_focus_is actlogtest.one
start_helper "$T/helper2.log"
check "the helper connects" wait_for 15 helpers_are 1
check "disabled: status says exactly what to do" wait_for 10 unknown_has \
	"the actlog GNOME Shell extension is installed but disabled: run \`gnome-extensions enable $UUID\`"
check "disabled: the helper's log says it too" grep -q "focus unknown: the actlog GNOME Shell extension is installed but disabled: run \`gnome-extensions enable $UUID\`" "$T/helper2.log"
check "disabled: the focus is not known" bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | jq -e '.session.focus.known == false' >/dev/null"
"$BUILD/actlogctl" --socket "$d/ctl.sock" status >"$T/status-disabled.txt"
check "actlogctl status prints the reason" grep -q "gnome-extensions enable $UUID" "$T/status-disabled.txt"
# the bus, watched while nobody asks for titles
"${AS_USER[@]}" timeout 30 gdbus monitor --session --dest org.actlog.Focus >"$T/monitor.txt" 2>&1 &
MON=$!
cleanup_add "kill $MON"
tA1=$(now)
U gnome-extensions enable "$UUID"
check "enabled: the focus flows without restarting the helper" wait_for 10 focus_is actlogtest.one
check "the same helper process" kill -0 "$HPID"
check_eq "status: the route" "$(st | jq -r '.session.helpers[0].route')" gnome
check_eq "status: the source" "$(st | jq -r '.session.focus.source')" gnome
check_eq "status: the WM class (the Wayland app id)" "$(st | jq -r '.session.focus.class')" actlogtest.one
check_eq "status: the focused client's pid" "$(st | jq -r '.session.focus.pid')" "$P1"
check "the helper logs that the focus is known again" grep -q "focus known again through route gnome" "$T/helper2.log"
sleep 3
activate actlogtest.two
tB=$(now)
check "focus two" wait_for 5 focus_is actlogtest.two
check_eq "status: its pid" "$(st | jq -r '.session.focus.pid')" "$P2"
sleep 4
activate actlogtest.one
tA2=$(now)
check "focus one again" wait_for 5 focus_is actlogtest.one
# a FocusChanged from another peer than org.actlog.Focus's owner is ignored
U gdbus emit --session --object-path /org/actlog/Focus \
	--signal org.actlog.Focus1.FocusChanged "{'wm_class': <'actlogtest.forged'>}" >/dev/null
sleep 2
check "a FocusChanged from another peer is ignored" focus_is actlogtest.one
check "no title in status (policy off)" not bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | grep -q TOPSECRET"
kill "$MON"
check "FocusChanged signals were seen on the bus" grep -q "org.actlog.Focus1.FocusChanged.*actlogtest.two" "$T/monitor.txt"
check "no title left the Shell while nobody asked" not grep -q -e TOPSECRET -e "'title'" "$T/monitor.txt"
get_focus() { U gdbus call --session --dest org.actlog.Focus --object-path /org/actlog/Focus \
	--method org.actlog.Focus1.GetFocus "$1"; }
get_focus false >"$T/get-false.txt"
get_focus true >"$T/get-true.txt"
check "GetFocus(false) names the window, without its title" bash -c "grep -q \"'wm_class': <'actlogtest.one'>\" '$T/get-false.txt' && ! grep -q title '$T/get-false.txt'"
check "GetFocus(true) has the title" grep -q "'title': <'TOPSECRET-ONE'>" "$T/get-true.txt"

# ---- titles: a second helper whose policy allows them (tests/fake_sessd.py
#      stands in for actlogd and logs the focus messages it gets) ----
fake_sessd
chmod 666 "$T/sess.sock"
"${AS_USER[@]}" "$BUILD/actlog-session" --socket "$T/sess.sock" -v >>"$T/helper-titles.log" 2>&1 &
TPID=$!
cleanup_add "kill $TPID"
last_focus() { grep '^focus ' "$T/fake.log" | tail -1; }
last_focus_has() { last_focus | grep -q -- "$1"; }
last_focus_untitled() { last_focus_has "\"app\": \"$1\"" && ! last_focus_has title; }
check "the second helper reports the focus" wait_for 10 last_focus_has '"app": "actlogtest.one"'
check "without a title while its policy is off" not grep -q TOPSECRET "$T/fake.log"
echo '{"apps.titles": true}' >&7
check "titles on by policy: the focused window's title" wait_for 10 last_focus_has '"title": "TOPSECRET-ONE"'
activate actlogtest.two
tT1=$(now)
check "... and the next focused window's" wait_for 10 last_focus_has '"title": "TOPSECRET-TWO"'
check "the first helper (titles off) follows" wait_for 5 focus_is actlogtest.two
echo '{"apps.titles": false}' >&7
check "titles off by policy: the report drops the title" wait_for 10 last_focus_untitled actlogtest.two
"${AS_USER[@]}" timeout 30 gdbus monitor --session --dest org.actlog.Focus >"$T/monitor2.txt" 2>&1 &
MON=$!
cleanup_add "kill $MON"
wait_for 5 grep -q "is owned by" "$T/monitor2.txt"
activate actlogtest.one
tT2=$(now)
check "focus one, titles off again" wait_for 5 focus_is actlogtest.one
check "the second helper reports it without a title" wait_for 5 last_focus_untitled actlogtest.one
kill "$MON"
check "FocusChanged seen after titles went off" grep -q "org.actlog.Focus1.FocusChanged.*actlogtest.one" "$T/monitor2.txt"
check "and with no title: the extension stopped sending them" not grep -q -e TOPSECRET -e "'title'" "$T/monitor2.txt"
kill "$TPID"

# ---- 3: disabled again: unknown, with the reason ----
tEnd=$(now)
U gnome-extensions disable "$UUID"
check "disabled again: status says what to do" wait_for 10 unknown_has "is installed but disabled: run \`gnome-extensions enable $UUID\`"
check "the name org.actlog.Focus is released" wait_for 5 not has_owner org.actlog.Focus
sleep 1

# ---- 4: org.gnome.Shell not on the bus ----
check "GNOME Shell leaves the bus" stop_shell
check "the helper exits 0 when the Shell goes away" wait_for 10 not kill -0 "$HPID"
kill -9 "$HPID" 2>/dev/null
wait "$HPID"
check_eq "its exit status" "$?" 0
start_helper "$T/helper3.log" --focus-route gnome
check "a helper without GNOME Shell connects" wait_for 15 helpers_are 1
check "status: the gnome route is not used, and why" wait_for 5 bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json |
	jq -e '.session.helpers[0].route == null and .session.helpers[0].routes_not_used[0].route == \"gnome\" and
	       .session.helpers[0].routes_not_used[0].why == \"org.gnome.Shell is not on the session bus\"' >/dev/null"
check "the helper's log says why" grep -q "focus route gnome not used: org.gnome.Shell is not on the session bus" "$T/helper3.log"
kill -TERM "$HPID"
wait_for 5 not kill -0 "$HPID" || kill -9 "$HPID"
wait "$HPID"

# ---- the record ----
agent_stop
check_eq "actlogd exits 0" "$?" 0
spool_dump "$d" >"$d/dump.ndjson"
check_eq "one app_usage record for the one interval" "$(jq -c 'select(.type=="app_usage")' "$d/dump.ndjson" | wc -l)" 1
near "actlogtest.one's focus seconds" "$(focus_sum "$d/dump.ndjson" actlogtest.one)" \
	"$(awk -v a="$tA1" -v b="$tB" -v c="$tA2" -v t1="$tT1" -v t2="$tT2" -v e="$tEnd" \
		'BEGIN { printf "%.2f", (b - a) + (t1 - c) + (e - t2) }')" 1
near "actlogtest.two's focus seconds" "$(focus_sum "$d/dump.ndjson" actlogtest.two)" \
	"$(awk -v b="$tB" -v c="$tA2" -v t1="$tT1" -v t2="$tT2" 'BEGIN { printf "%.2f", (c - b) + (t2 - t1) }')" 1
check "the disabled stretches are unknown seconds" jq -se 'map(select(.type=="app_usage"))[0].unknown_s >= 1' "$d/dump.ndjson"
check "no title anywhere in the spool" not grep -q TOPSECRET "$d/dump.ndjson"
check "no title in actlogd's log" not grep -q TOPSECRET "$d/actlogd.log"
check "no title in the helpers' logs" not grep -q TOPSECRET "$T/helper1.log" "$T/helper2.log" "$T/helper3.log"
finish
