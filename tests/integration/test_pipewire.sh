#!/usr/bin/env bash
# Wayland screenshots against a real, headless PipeWire: a private
# XDG_RUNTIME_DIR and session bus, `pipewire` with `wireplumber` (the
# session manager links a capture stream to its target, as on a desktop).
# Producers with KNOWN frames: GStreamer (videotestsrc pattern=colors !
# pipewiresink, RGB at an odd width: rows of 603 bytes padded to 604, the
# chunk's stride left 0) compared with the same frame written to a file;
# and actlog-pwsource (tests/pw_source.c), a driver node like a
# compositor's screencast, in every format the reader takes. The
# GStreamer node is read once only: pipewiresink (0.3.65) stops feeding new
# consumers after a few have come and gone, so the repeated reads (portal,
# timer) use actlog-pwsource. tests/mock_portal.py stands in for
# xdg-desktop-portal's ScreenCast on the private bus, names two nodes and
# hands over a real fd to the PipeWire socket.
# Checks: a frame read directly (--pw-node) and through the portal has the
# expected size and every pixel (PNG decoded with zlib only); the restore
# token is stored 0600 (dir 0700) and sent back on the next run; the policy
# timer hands Wayland shots to actlogd like X11 ones (tests/fake_sessd.py);
# cancelled, denied, no portal, a PipeWire that does not answer (timeout)
# and no PipeWire at all each end with a clear error, no crash, no shot.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
[ -d "${T:-}" ] || { echo "FAIL: test_pipewire: no temporary directory"; exit 1; }
for t in pipewire wireplumber pw-dump gst-launch-1.0 dbus-daemon jq stat /usr/bin/python3; do need "$t"; done
/usr/bin/python3 -c 'import dbus, dbus.mainloop.glib; from gi.repository import GLib' 2>/dev/null ||
	{ fail "Debian's python3-dbus and python3-gi are missing (scripts/deps.sh)"; finish; }
for b in actlog-session actlog-pwsource; do
	[ -x "$BUILD/$b" ] || { fail "missing $BUILD/$b (make)"; finish; }
done
gst-inspect-1.0 pipewiresink >/dev/null 2>&1 || { fail "no GStreamer pipewiresink (gstreamer1.0-pipewire)"; finish; }

# everything private: runtime dir (bus, PipeWire socket), home, state
export XDG_RUNTIME_DIR=$T/run HOME=$T/home XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
mkdir -m 0700 "$XDG_RUNTIME_DIR" "$HOME"
unset PIPEWIRE_REMOTE DISPLAY WAYLAND_DISPLAY XDG_SESSION_TYPE XDG_CURRENT_DESKTOP
export GST_REGISTRY=$T/gst-registry.bin
export DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus
dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" --nofork --nopidfile \
	>"$T/dbus.log" 2>&1 &
cleanup_add "kill $!"
check "a private session bus is up" wait_for 10 test -S "$XDG_RUNTIME_DIR/bus"
pipewire >"$T/pipewire.log" 2>&1 &
PW_PID=$!
cleanup_add "kill -CONT $PW_PID; kill $PW_PID"
check "a headless PipeWire is up" wait_for 10 test -S "$XDG_RUNTIME_DIR/pipewire-0"
wireplumber >"$T/wireplumber.log" 2>&1 &
cleanup_add "kill $!"

# GStreamer: the colour spectrum, live, and the same frame into a file
gst-launch-1.0 -q videotestsrc is-live=true pattern=colors \
	! video/x-raw,format=RGB,width=201,height=150,framerate=5/1 \
	! pipewiresink mode=provide stream-properties="p,node.name=actlog-test-gst" >"$T/gst.log" 2>&1 &
GST_PID=$!
cleanup_add "kill $GST_PID"
gst-launch-1.0 -q videotestsrc pattern=colors num-buffers=1 \
	! video/x-raw,format=RGB,width=201,height=150 ! filesink location="$T/gst.raw" >/dev/null 2>&1
check_eq "the reference frame is 604 x 150 bytes" "$(stat -c %s "$T/gst.raw" 2>/dev/null)" 90600
node_id() { pw-dump 2>/dev/null | jq -r --arg n "$1" \
	'[.[] | select(.type == "PipeWire:Interface:Node" and .info.props["node.name"] == $n) | .id][0] // empty'; }
have_gst() { G=$(node_id actlog-test-gst) && [ -n "$G" ]; }
check "the GStreamer producer is a PipeWire node" wait_for 30 have_gst
# pwsource VAR NAME FORMAT W H PATTERN [PAD]: start actlog-pwsource, its
# node id into VAR ("" when it did not come up)
pwsource() {
	local _out=$T/src-$2.out
	"$BUILD/actlog-pwsource" "${@:2}" >"$_out" 2>"$T/src-$2.err" &
	cleanup_add "kill $!"
	wait_for 20 grep -q '^node ' "$_out"
	printf -v "$1" '%s' "$(awk '{ print $2; exit }' "$_out")"
}
A_RGB=(51 102 153)
pwsource A srcA BGRx 320 240 solid:336699
pwsource B srcB RGB 201 150 ramp 1
check "two actlog-pwsource nodes (BGRx solid, RGB ramp with padded rows)" test -n "$A" -a -n "$B"

# pixel checks: tests/pngcheck.py's zlib-only decoder
cat >"$T/pwcheck.py" <<'EOF'
import sys
src = open(sys.argv[1]).read()
exec(src[:src.index("\ndef main")])
mode, png = sys.argv[2], sys.argv[3]
w, h, px = decode(png)
if mode == "solid":  # solid PNG W H R G B
    want = (int(sys.argv[4]), int(sys.argv[5]))
    if (w, h) != want:
        sys.exit(f"size {w}x{h}, want {want}")
    rgb = bytes(int(x) for x in sys.argv[6:9])
    if px != rgb * (w * h):
        i = next(i for i in range(w * h) if px[i * 3:i * 3 + 3] != rgb)
        sys.exit(f"pixel {i % w},{i // w} is {tuple(px[i * 3:i * 3 + 3])}, want {tuple(rgb)}")
elif mode == "ramp":  # ramp PNG W H: r = x, g = y, b = 7x + 13y (mod 256)
    want = (int(sys.argv[4]), int(sys.argv[5]))
    if (w, h) != want:
        sys.exit(f"size {w}x{h}, want {want}")
    for y in range(h):
        for x in range(w):
            p = px[(y * w + x) * 3:(y * w + x) * 3 + 3]
            if tuple(p) != (x & 255, y & 255, (7 * x + 13 * y) & 255):
                sys.exit(f"pixel {x},{y} is {tuple(p)}")
elif mode == "rgb":  # rgb PNG RAW W H: RAW is packed RGB, rows padded to 4
    rw, rh = int(sys.argv[5]), int(sys.argv[6])
    if (w, h) != (rw, rh):
        sys.exit(f"size {w}x{h}, want {rw}x{rh}")
    raw, stride = open(sys.argv[4], "rb").read(), (rw * 3 + 3) & ~3
    for y in range(h):
        if px[y * w * 3:(y + 1) * w * 3] != raw[y * stride:y * stride + w * 3]:
            sys.exit(f"row {y} differs")
else:
    sys.exit("mode?")
print("ok", w * h)
EOF
pixels() { /usr/bin/python3 "$T/pwcheck.py" "$ROOT/tests/pngcheck.py" "$@" >>"$T/pwcheck.log" 2>&1; }
js() { jq -r "$2" "$1.json" 2>/dev/null; }
shot() { # DIR [OPTIONS...]: --capture-once into DIR as PNG (exact pixels:
	# the default, WebP, is lossy); JSON in DIR.json, log in DIR.err
	local d=$1
	shift
	timeout 120 "$BUILD/actlog-session" --capture-once "$d" --format png "$@" >"$d.json" 2>"$d.err"
}
pngs() { find "$1" -name '*.png' 2>/dev/null | wc -l; }
# fails DIR [OPTIONS...]: capture-once ends with exit code 1 (not a crash,
# not the test's timeout)
fails() { shot "$@"; [ $? -eq 1 ]; }

# ---- straight from a node (the diagnostic path) ----
check "--pw-node: the GStreamer frame, exit 0" shot "$T/ng" --pw-node "$G"
check_eq "--pw-node: method and size" "$(js "$T/ng" '"\(.method) \(.monitors[0].width)x\(.monitors[0].height)"')" \
	"pipewire-node 201x150"
check "--pw-node: every pixel of the GStreamer frame matches the reference" \
	pixels rgb "$T/ng/$(js "$T/ng" '.monitors[0].file')" "$T/gst.raw" 201 150
check_eq "--pw-node: the PNG is mode 0600" "$(stat -c %a "$T/ng/$(js "$T/ng" '.monitors[0].file')")" 600
kill "$GST_PID"
check "--pw-node: BGRx, exit 0" shot "$T/na" --pw-node "$A"
check "--pw-node: every pixel is the BGRx source's colour" \
	pixels solid "$T/na/$(js "$T/na" '.monitors[0].file')" 320 240 "${A_RGB[@]}"
for f in BGRA RGBx RGBA xRGB ARGB xBGR ABGR BGR; do
	pwsource node "src$f" "$f" 97 61 ramp
	check "--pw-node: $f, exit 0" shot "$T/n$f" --pw-node "${node:-0}"
	check "--pw-node: every pixel of the $f ramp" pixels ramp "$T/n$f/$(js "$T/n$f" '.monitors[0].file')" 97 61
done
check "--pw-node: a node that does not exist fails (exit 1)" fails "$T/nx" --pw-node 99999
check "... with a clear error (never another node's frame)" grep -q "PipeWire node 99999 is not there" "$T/nx.err"
check_eq "... and no shot" "$(pngs "$T/nx")" 0

# ---- through the ScreenCast portal ----
PLOG=$T/portal.log
portal_start() { # [--start MODE]: (re)start the mock portal on the bus
	portal_stop
	/usr/bin/python3 "$ROOT/tests/mock_portal.py" --log "$PLOG" --node "$A" --node "$B" \
		--pw-socket "$XDG_RUNTIME_DIR/pipewire-0" --size 320x240 "$@" >"$T/portal.out" 2>&1 &
	PORTAL_PID=$!
	wait_for 10 grep -q ready "$T/portal.out"
}
portal_stop() { [ -z "${PORTAL_PID:-}" ] || { kill "$PORTAL_PID"; wait "$PORTAL_PID"; } 2>/dev/null; PORTAL_PID=; }
cleanup_add 'portal_stop'
sel() { grep '"method": "SelectSources"' "$PLOG" | sed -n "${1}p"; }
TOK=$XDG_STATE_HOME/actlog/screencast.token

check "the mock portal is on the bus" portal_start
export XDG_SESSION_TYPE=wayland WAYLAND_DISPLAY=wayland-actlog-test
check "portal: capture-once exits 0" shot "$T/p1"
check_eq "portal: method, monitors and sizes" \
	"$(js "$T/p1" '"\(.method) " + ([.monitors[] | "\(.name) \(.x),\(.y) \(.width)x\(.height)"] | join("; "))')" \
	"portal monitor0 0,0 320x240; monitor1 320,0 201x150"
check "portal: every pixel of monitor 0 is the BGRx source's colour" \
	pixels solid "$T/p1/$(js "$T/p1" '.monitors[0].file')" 320 240 "${A_RGB[@]}"
check "portal: every pixel of monitor 1 matches the ramp" \
	pixels ramp "$T/p1/$(js "$T/p1" '.monitors[1].file')" 201 150
check_eq "portal: SelectSources asked for monitors, several, persist_mode 2, no token yet" \
	"$(sel 1 | jq -c '.options | [.types, .multiple, .persist_mode, .cursor_mode, .restore_token]')" \
	'[1,true,2,1,null]'
check "portal: every Request call carried a handle_token, CreateSession a session token" \
	jq -e -s '[.[] | select(.method | test("^(CreateSession|SelectSources|Start)$"))] as $r
		| ($r | length) == 3 and ($r | all(.options.handle_token | type == "string"))
		and ($r[0].options.session_handle_token | type == "string")' "$PLOG"
check "portal: the session is closed after the shot" grep -q '"method": "Session.Close"' "$PLOG"
T1=$(grep '"method": "Start"' "$PLOG" | tail -1 | jq -r .token)
check_eq "the restore token is stored" "$(cat "$TOK" 2>/dev/null)" "$T1"
check_eq "the token file is mode 0600" "$(stat -c %a "$TOK" 2>/dev/null)" 600
check_eq "its directory is mode 0700" "$(stat -c %a "$(dirname "$TOK")" 2>/dev/null)" 700
check "portal: the second capture exits 0" shot "$T/p2"
check_eq "the stored token is sent back with the next SelectSources" \
	"$(sel 2 | jq -r .options.restore_token)" "$T1"
T2=$(grep '"method": "Start"' "$PLOG" | tail -1 | jq -r .token)
check_eq "the portal's new token replaces it" "$(cat "$TOK" 2>/dev/null)" "$T2"
check "... and differs from the first" not test "$T1" = "$T2"

# ---- the policy timer: Wayland shots reach actlogd like X11 ones ----
fake_sessd
"$BUILD/actlog-session" --socket "$T/sess.sock" -v >>"$T/helper.log" 2>&1 &
HPID=$!
cleanup_add "kill $HPID"
check "the helper connects on Wayland" wait_for 10 grep -q "connected to actlogd" "$T/helper.log"
echo '{"screenshots.enabled":true,"screenshots.interval_s":2,"screenshots.jitter_s":0}' >&7
four_shots() { [ "$(pngs "$T/shots")" -ge 4 ]; }
check "timer: Wayland shots are handed to actlogd" wait_for 60 four_shots
check "timer: every shot came as a sealed memfd of the announced size" not test -e "$T/shots/bad"
f=$(find "$T/shots" -name '*-monitor0.png' | sort | tail -1)
check "timer: a shot of monitor 0 has the source's pixels" pixels solid "$f" 320 240 "${A_RGB[@]}"
f=$(find "$T/shots" -name '*-monitor1.png' | sort | tail -1)
check "timer: a shot of monitor 1 has the ramp" pixels ramp "$f" 201 150
echo '{"screenshots.enabled":false}' >&7
kill "$HPID"

# ---- an older portal (version 3: no persistence) without a hidden cursor ----
check "a version 3 portal without a hidden cursor mode is up" portal_start --version 3 --cursor-modes 2
check "version 3: capture-once exits 0" shot "$T/v3"
check_eq "version 3: both monitors" "$(js "$T/v3" '.monitors | length')" 2
check_eq "version 3: SelectSources asks no persistence and no cursor mode it lacks" \
	"$(sel '$' | jq -c '.options | [.types, .multiple, .persist_mode, .restore_token, .cursor_mode]')" \
	'[1,true,null,null,null]'

# ---- the user cancels; the portal denies ----
cp "$TOK" "$T/token.before"
check "portal answering 'cancelled' is up" portal_start --start cancel
check "cancelled: capture-once fails (exit 1)" fails "$T/c1"
check "cancelled: the error says the user cancelled" grep -q "the user cancelled the screen-sharing request" "$T/c1.err"
check_eq "cancelled: the JSON says so too" "$(js "$T/c1" '.error | test("cancelled")')" true
check_eq "cancelled: no shot" "$(pngs "$T/c1")" 0
check "cancelled: the stored token was offered and is kept" cmp -s "$TOK" "$T/token.before"
# the policy timer: asked once, then no more shots until a restart
starts() { grep -c '"method": "Start"' "$PLOG"; }
n0=$(starts)
before=$(pngs "$T/shots")
"$BUILD/actlog-session" --socket "$T/sess.sock" -v >>"$T/helper2.log" 2>&1 &
HPID2=$!
cleanup_add "kill $HPID2"
check "cancelled (timer): the helper connects" wait_for 10 grep -q "connected to actlogd" "$T/helper2.log"
echo '{"screenshots.enabled":true,"screenshots.interval_s":1,"screenshots.jitter_s":0}' >&7
check "cancelled (timer): the refusal is logged with its reason" \
	wait_for 30 grep -q "the user cancelled the screen-sharing request" "$T/helper2.log"
check "cancelled (timer): Wayland shots stop until a restart" \
	grep -q "none on Wayland until actlog-session restarts" "$T/helper2.log"
sleep 4
check_eq "cancelled (timer): the user is asked once, not at every interval" "$(($(starts) - n0))" 1
check_eq "cancelled (timer): no shot" "$(pngs "$T/shots")" "$before"
check "cancelled (timer): the helper keeps running" kill -0 "$HPID2"
echo '{"screenshots.enabled":false}' >&7
kill "$HPID2"
check "portal answering 'denied' is up" portal_start --start deny
check "denied: capture-once fails (exit 1)" fails "$T/d1"
check "denied: the error names the response" grep -q "ended Start (response 2)" "$T/d1.err"
check_eq "denied: no shot" "$(pngs "$T/d1")" 0

# ---- no portal ----
portal_stop
check "no portal: capture-once fails (exit 1)" fails "$T/x1"
check "no portal: the error says there is none" grep -q "no xdg-desktop-portal ScreenCast on the session bus" "$T/x1.err"
check_eq "no portal: no shot" "$(pngs "$T/x1")" 0

# ---- PipeWire stops answering, then is gone ----
check "the mock portal is back" portal_start
kill -STOP "$PW_PID"
check "PipeWire not answering: capture-once fails (exit 1)" fails "$T/s1"
kill -CONT "$PW_PID"
check "... after the frame timeout, with a clear error" grep -q "no frame from PipeWire node $A within" "$T/s1.err"
check_eq "... and no shot" "$(pngs "$T/s1")" 0
kill "$PW_PID"
wait "$PW_PID" 2>/dev/null
check "PipeWire gone: capture-once through the portal fails (exit 1)" fails "$T/g1"
check "... with a clear error" grep -q "OpenPipeWireRemote failed" "$T/g1.err"
check "PipeWire gone: --pw-node fails (exit 1)" fails "$T/g2" --pw-node "$A"
check "... saying it cannot connect" grep -q "cannot connect to PipeWire" "$T/g2.err"
check_eq "PipeWire gone: no shots" "$(($(pngs "$T/g1") + $(pngs "$T/g2")))" 0
finish
