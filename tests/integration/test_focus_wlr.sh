#!/usr/bin/env bash
# actlog-session's "wlr" focus route against a real wlroots compositor (sway,
# headless, run by an unprivileged user) with two real Wayland clients (foot,
# one app_id each): the route is picked on a Wayland session without a
# desktop name, the focus follows sway's own focus command, the pid comes
# from sway's IPC, focus seconds per app_id land in app_usage within ±1 s,
# titles only while the policy allows them (and then at once, for windows
# already open), the helper exits 0 when the compositor goes away, and a
# compositor without zwlr_foreign_toplevel_manager_v1 (weston) gives the
# documented reason.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
for t in sway foot; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "SKIP: $TEST_NAME: $t is not installed (scripts/deps.sh)"
		finish
	}
done
for t in swaymsg jq setpriv; do need "$t"; done
for b in actlog-session actlogd actlogctl; do
	[ -x "$BUILD/$b" ] || { fail "missing $BUILD/$b (make)"; finish; }
done

chmod 755 "$T"
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
RUN=$T/run # the compositor user's XDG_RUNTIME_DIR
mkdir -p "$RUN" "$T/home" "$T/apps"
chown "$NOBODY:$NOGROUP" "$RUN" "$T/home"
chmod 700 "$RUN"
SOCK=$T/session.sock

# as_user_exec CMD...: becomes CMD as nobody in the compositor's
# environment (started with `&`, $! is CMD's pid); as_user: runs it
as_user_exec() {
	exec env -i PATH=/usr/bin:/bin HOME="$T/home" XDG_RUNTIME_DIR="$RUN" \
		XDG_SESSION_TYPE=wayland ${WAYLAND_DISPLAY:+WAYLAND_DISPLAY=$WAYLAND_DISPLAY} \
		${SWAYSOCK:+SWAYSOCK=$SWAYSOCK} \
		setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups "$@"
}
as_user() { (as_user_exec "$@"); }

# ---- sway, headless, and two foot windows ----
printf 'output HEADLESS-1 resolution 1024x768\nfocus_follows_mouse no\n' >"$T/sway.conf"
as_user_exec env WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 \
	sway -c "$T/sway.conf" >"$T/sway.log" 2>&1 &
SWAYPID=$!
cleanup_add "kill $SWAYPID"
sock_up() { compgen -G "$RUN/wayland-*[0-9]" >/dev/null && compgen -G "$RUN/sway-ipc.*.sock" >/dev/null; }
if ! wait_for 15 sock_up; then
	fail "sway starts headless as uid $NOBODY"
	sed 's/^/    /' "$T/sway.log"
	finish
fi
pass "sway starts headless as uid $NOBODY"
WAYLAND_DISPLAY=$(basename "$(compgen -G "$RUN/wayland-*[0-9]" | head -1)")
SWAYSOCK=$(compgen -G "$RUN/sway-ipc.*.sock" | head -1)

tree() { as_user swaymsg -t get_tree; }
has_app() { tree | jq -e --arg a "$1" '[.. | objects | select(.app_id? == $a)] | length == 1' >/dev/null; }
foot_win() { # APP_ID TITLE: a foot window (its command sleeps), pid in FOOT_PID
	as_user_exec foot --app-id="$1" --title="$2" sleep 3600 >>"$T/foot.log" 2>&1 &
	FOOT_PID=$!
	cleanup_add "kill $FOOT_PID"
	wait_for 15 has_app "$1"
}
check "foot window actlog-a is mapped" foot_win actlog-a "TOPSECRET-A window"
PA=$FOOT_PID
check "foot window actlog-b is mapped" foot_win actlog-b "TOPSECRET-B window"
PB=$FOOT_PID
focus() { as_user swaymsg "[app_id=\"$1\"] focus" >/dev/null; }

now() { date +%s.%N; }
st() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json 2>/dev/null; }
focus_is() { [ "$(st | jq -r '.session.focus.app // empty')" = "$1" ]; }
helpers_are() { [ "$(st | jq '.session.helpers | length')" = "$1" ]; }
focus_sum() { jq -s --arg a "$2" '[.[] | select(.type=="app_usage") | .apps[] | select(.app==$a) | .focus_s] | add // 0' "$1"; }
near() { # NAME GOT WANT TOLERANCE
	if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
		pass "$1 ($2 s, expected $3 s)"
	else
		fail "$1 (got $2 s, expected $3 ± $4 s)"
	fi
}

# ---- 1: the route, the focus and its pid, focus seconds in one interval ----
d=$T/a1
# an empty .desktop directory: the app keeps its app_id (foot's own
# .desktop file would name both windows "Foot")
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" \
	--interval 3600 --desktop-dirs "$T/apps" || { fail "actlogd starts"; finish; }
as_user_exec "$BUILD/actlog-session" --socket "$SOCK" -v >"$T/helper.log" 2>&1 &
HPID=$!
cleanup_add "kill $HPID"
check "the helper connects as uid $NOBODY" wait_for 10 helpers_are 1
check "status names the focused app_id (the newest window)" wait_for 10 focus_is actlog-b
check_eq "status: the focus route in use" "$(st | jq -r '.session.helpers[0].route')" wlr
check_eq "status: the focus source" "$(st | jq -r '.session.helpers[0].source')" wlr
check "status: the compositor's name from sway's IPC" \
	test "$(st | jq -r '.session.helpers[0].wm' | cut -d' ' -f1)" = sway
check_eq "status: the focus pid is foot B's (sway's IPC)" "$(st | jq -r .session.focus.pid)" "$PB"
check "the helper logs the route" grep -q "focus route: wlr, sway" "$T/helper.log"
focus actlog-a
tA1=$(now)
check "sway focuses A: the focus follows" wait_for 5 focus_is actlog-a
check_eq "status: the focus pid is foot A's" "$(st | jq -r .session.focus.pid)" "$PA"
sleep 3
focus actlog-b
tB=$(now)
check "focus B" wait_for 5 focus_is actlog-b
sleep 4
focus actlog-a
tA2=$(now)
check "focus A again" wait_for 5 focus_is actlog-a
sleep 2
check "no title in status (policy off)" not grep -q TOPSECRET <(st)
tEnd=$(now)
agent_stop
check_eq "actlogd exits 0" "$?" 0
spool_dump "$d" >"$d/dump.ndjson"
check_eq "one app_usage record for the one interval" \
	"$(jq -c 'select(.type=="app_usage")' "$d/dump.ndjson" | wc -l)" 1
wantA=$(awk -v a="$tA1" -v b="$tB" -v c="$tA2" -v e="$tEnd" 'BEGIN { printf "%.2f", (b - a) + (e - c) }')
wantB=$(awk -v b="$tB" -v c="$tA2" 'BEGIN { printf "%.2f", c - b }')
near "A's focus seconds (3 s + 2 s)" "$(focus_sum "$d/dump.ndjson" actlog-a)" "$wantA" 1
near "B's focus seconds (4 s)" "$(focus_sum "$d/dump.ndjson" actlog-b)" "$wantB" 1
check "the record says how focus was known" \
	jq -se 'map(select(.type=="app_usage"))[0].source == "wlr"' "$d/dump.ndjson" >/dev/null
check "no title anywhere in the spool (policy off)" not grep -q TOPSECRET "$d/dump.ndjson"
check "no title in actlogd's log" not grep -q TOPSECRET "$d/actlogd.log"
check "no title in the helper's log" not grep -q TOPSECRET "$T/helper.log"

# ---- 2: titles follow the policy (a stand-in for actlogd's socket) ----
export FAKE_SESSD_FOCUS=$T/focus.ndjson
fake_sessd
chmod 666 "$T/sess.sock"
as_user_exec "$BUILD/actlog-session" --socket "$T/sess.sock" -v >"$T/helper2.log" 2>&1 &
H2=$!
cleanup_add "kill $H2"
sent() { test -s "$FAKE_SESSD_FOCUS" && tail -1 "$FAKE_SESSD_FOCUS" | jq -e "$1" >/dev/null; }
check "the focus is sent without a title (policy off)" \
	wait_for 10 sent '.app == "actlog-a" and (has("title") | not)'
echo '{"apps.titles":true}' >&7
check "titles on: the open window's title is sent at once" \
	wait_for 10 sent '.app == "actlog-a" and .title == "TOPSECRET-A window"'
focus actlog-b
check "titles on: the next window's title" \
	wait_for 10 sent '.app == "actlog-b" and .title == "TOPSECRET-B window" and .pid == '"$PB"
echo '{"apps.titles":false}' >&7
check "titles off again: the focus without its title" \
	wait_for 10 sent '.app == "actlog-b" and (has("title") | not)'
kill "$H2"

# ---- 3: the compositor goes away: the helper exits 0 ----
d=$T/a3
agent_start "$d" --input-source none --session-socket "$SOCK" --session-uid "$NOBODY" \
	--interval 3600 --desktop-dirs "$T/apps" || { fail "actlogd starts again"; finish; }
check "the first helper reconnects to the new actlogd" wait_for 15 helpers_are 1
kill "$SWAYPID"
rc="still running after 20 s"
if timeout 20 tail --pid="$HPID" -f /dev/null; then
	wait "$HPID"
	rc=$?
fi
check_eq "the helper exits 0 when sway exits" "$rc" 0
check "the helper says the compositor connection closed" \
	grep -q "the Wayland connection closed: the session ended" "$T/helper.log"

# ---- 4: a compositor without zwlr_foreign_toplevel_manager_v1 (weston) ----
if command -v weston >/dev/null 2>&1; then
	as_user_exec weston --backend=headless-backend.so --socket=wayland-weston \
		--no-config >"$T/weston.log" 2>&1 &
	WPID=$!
	cleanup_add "kill $WPID"
	if wait_for 15 test -S "$RUN/wayland-weston"; then
		WAYLAND_DISPLAY=wayland-weston SWAYSOCK= as_user_exec "$BUILD/actlog-session" \
			--socket "$SOCK" --focus-route wlr -v >"$T/weston-helper.log" 2>&1 &
		H4=$!
		cleanup_add "kill $H4"
		check "weston: the helper connects" wait_for 10 helpers_are 1
		check "weston: the wlr route says the compositor lacks the protocol" \
			grep -q "focus route wlr not used: the compositor does not offer zwlr_foreign_toplevel_manager_v1" \
			"$T/weston-helper.log"
		st >"$T/weston-status.json"
		check "weston: status gives the reason and the focus as unknown" jq -e '
			.session.helpers[0].route == null and
			([.session.helpers[0].routes_not_used[].route] == ["wlr"]) and
			(.session.helpers[0].routes_not_used[0].why |
			 startswith("the compositor does not offer zwlr_foreign_toplevel_manager_v1")) and
			(.session.focus.unknown | contains("zwlr_foreign_toplevel_manager_v1"))' \
			"$T/weston-status.json" >/dev/null
		kill "$H4"
	else
		fail "weston starts headless"
		sed 's/^/    /' "$T/weston.log"
	fi
else
	echo "SKIP: $TEST_NAME: weston is not installed: no compositor without the protocol"
fi

# ---- 5: no compositor there: the reason says what is missing ----
WAYLAND_DISPLAY=wayland-none as_user timeout 3 "$BUILD/actlog-session" --socket "$SOCK" \
	--focus-route wlr >"$T/none-helper.log" 2>&1
check "no compositor at WAYLAND_DISPLAY: the reason names it" grep -q \
	"focus route wlr not used: cannot connect to the Wayland compositor at wayland-none: No such file" \
	"$T/none-helper.log"
WAYLAND_DISPLAY=wayland-none as_user env -u XDG_RUNTIME_DIR timeout 3 "$BUILD/actlog-session" \
	--socket "$SOCK" --focus-route wlr >"$T/nort-helper.log" 2>&1
check "no XDG_RUNTIME_DIR: the reason says so" grep -q \
	"focus route wlr not used: cannot connect to the Wayland compositor: XDG_RUNTIME_DIR is not set" \
	"$T/nort-helper.log"
agent_stop
finish
