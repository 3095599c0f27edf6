#!/usr/bin/env bash
# Screenshots on a real X server (Xvfb) with two RandR monitors (user-defined
# with `xrandr --setmonitor`) and known patterns drawn by actlog-pattern:
# `actlog-session --capture-once --format png` writes one PNG per monitor
# whose every pixel matches the pattern (decoded by tests/pngcheck.py with
# zlib only), through MIT-SHM, through GetImage (--no-shm), and through the
# automatic fallback when the server refuses SHM (a TCP display); blur keeps
# what it should; the JSON matches the files. WebP (the default) and JPEG:
# N-NAME.webp / .jpg files that libwebp's and libjpeg-turbo's own tools
# (dwebp, djpeg) decode to the monitor's size and close to the exact PNG,
# blurred ones close to the blurred PNG and far from the sharp one; bad
# --format / --quality refused.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
for t in Xvfb xrandr xauth mcookie xprop jq sha256sum stat dwebp djpeg /usr/bin/python3; do need "$t"; done
for b in actlog-session actlog-pattern; do
	[ -x "$BUILD/$b" ] || { fail "missing $BUILD/$b (make)"; finish; }
done
PNG=$ROOT/tests/pngcheck.py
quiet() { "$@" >/dev/null 2>&1; }

free_display
export DISPLAY=:$DN XAUTHORITY=$T/xauth
xauth -q -f "$XAUTHORITY" add ":$DN" . "$(mcookie)" 2>/dev/null
# TCP too (with the cookie): a client there is remote to the X server, which
# refuses it MIT-SHM; -noreset keeps the RandR monitors between clients;
# -br a black root
Xvfb "$DISPLAY" -screen 0 1280x480x24 -listen tcp -auth "$XAUTHORITY" -noreset -br \
	>"$T/xvfb.log" 2>&1 &
cleanup_add "kill $!"
xup() { xprop -root _NET_NOTHING >/dev/null 2>&1; }
check "Xvfb is up" wait_for 10 xup
# two monitors side by side: LEFT takes over the output, RIGHT is smaller
# than its share (the strip below it belongs to no monitor)
xrandr --setmonitor LEFT 640/169x480/127+0+0 screen >/dev/null 2>&1
xrandr --setmonitor RIGHT 600/159x400/106+640+0 none >/dev/null 2>&1
check_eq "two RandR monitors" "$(xrandr --listmonitors | head -1)" "Monitors: 2"

# one pattern on each monitor, one across the edge between them
WINS=(100 50 400 300 700 20 300 200 560 380 200 90)
for ((i = 0; i < ${#WINS[@]}; i += 4)); do
	"$BUILD/actlog-pattern" "${WINS[@]:i:4}" >"$T/pat$i" 2>>"$T/pattern.log" &
	cleanup_add "kill $!"
	wait_for 10 quiet grep -q ready "$T/pat$i" || fail "pattern $i is drawn"
done

shot() { # DIR [OPTIONS...]: capture once into DIR, JSON in DIR.json
	local d=$1
	shift
	"$BUILD/actlog-session" --capture-once "$d" "$@" >"$d.json" 2>"$d.err"
}
mon() { jq -r "$2" "$1.json"; }
patterns_match() { # DIR: every monitor's PNG matches the patterns
	local i n file x y
	n=$(mon "$1" '.monitors | length')
	[ "$n" = 2 ] || return 1
	for ((i = 0; i < n; i++)); do
		file=$(mon "$1" ".monitors[$i].file")
		x=$(mon "$1" ".monitors[$i].x")
		y=$(mon "$1" ".monitors[$i].y")
		/usr/bin/python3 "$PNG" pattern "$1/$file" "$x" "$y" "${WINS[@]}" >>"$T/pngcheck.log" 2>&1 || return 1
	done
}

# ---- MIT-SHM ----
check "capture-once exits 0" shot "$T/shm" --format png
check_eq "MIT-SHM is used on a local display" "$(mon "$T/shm" .method)" shm
check_eq "monitors: names and geometry" \
	"$(mon "$T/shm" '[.monitors[] | "\(.name) \(.x),\(.y) \(.width)x\(.height)"] | join("; ")')" \
	"LEFT 0,0 640x480; RIGHT 640,0 600x400"
check "every pixel of both monitors matches the patterns (SHM)" patterns_match "$T/shm"
f0=$T/shm/$(mon "$T/shm" '.monitors[0].file')
check_eq "the PNG file is mode 0600" "$(stat -c %a "$f0")" 600
check_eq "JSON sha256 is the file's" "$(mon "$T/shm" '.monitors[0].sha256')" "$(sha256sum <"$f0" | cut -d' ' -f1)"
check_eq "JSON bytes is the file's size" "$(mon "$T/shm" '.monitors[0].bytes')" "$(stat -c %s "$f0")"

# ---- GetImage, forced ----
check "capture-once --no-shm exits 0" shot "$T/plain" --no-shm --format png
check_eq "--no-shm uses GetImage" "$(mon "$T/plain" .method)" get-image
check "every pixel of both monitors matches the patterns (GetImage)" patterns_match "$T/plain"
check_eq "GetImage and SHM give the same PNGs" "$(mon "$T/plain" '[.monitors[].sha256] | join(",")')" \
	"$(mon "$T/shm" '[.monitors[].sha256] | join(",")')"

# ---- GetImage, because the server refuses SHM to a TCP client ----
env DISPLAY="127.0.0.1:$DN" "$BUILD/actlog-session" --capture-once "$T/tcp" --format png >"$T/tcp.json" 2>"$T/tcp.err"
check_eq "capture-once over TCP exits 0" "$?" 0
check_eq "a remote display falls back to GetImage" "$(mon "$T/tcp" .method)" get-image
check "the fallback is logged" grep -q "refused MIT-SHM" "$T/tcp.err"
check "every pixel of both monitors matches the patterns (fallback)" patterns_match "$T/tcp"

# ---- blur ----
check "capture-once --blur exits 0" shot "$T/blur" --blur --blur-radius 6 --format png
check_eq "JSON names the blur radius" "$(mon "$T/blur" .blur)" 6
check "blur: inner pixels kept, edges smeared, mean colours kept" \
	quiet /usr/bin/python3 "$PNG" blur "$T/blur/0-LEFT.png" 0 0 100 50 400 300 6 "$f0"
check "the sharp capture fails the blur check (the check can fail)" \
	not quiet /usr/bin/python3 "$PNG" blur "$f0" 0 0 100 50 400 300 6 "$f0"
check "a blurred capture fails the pattern check (the check can fail)" \
	not quiet /usr/bin/python3 "$PNG" pattern "$T/blur/0-LEFT.png" 0 0 "${WINS[@]}"

# ---- WebP and JPEG: the library's own decoder gives the monitor back ----
f1=$T/shm/$(mon "$T/shm" '.monitors[1].file')
decoded() { # FILE OUT: decode a .webp or .jpg to a PPM with its library's tool
	case $1 in
	*.webp) dwebp -quiet -ppm "$1" -o "$2" ;;
	*.jpg) djpeg -outfile "$2" "$1" ;;
	esac
}
for enc in webp:75:webp jpeg:75:jpg webp:1:webp; do
	IFS=: read -r fmt q ext <<<"$enc"
	d=$T/$fmt-$q
	check "$fmt q$q: capture-once exits 0" shot "$d" --format "$fmt" --quality "$q"
	check_eq "$fmt q$q: the JSON names format and quality" \
		"$(mon "$d" '"\(.format) \(.quality) \([.monitors[].format] | unique | join(","))"')" "$fmt $q $fmt"
	check_eq "$fmt q$q: files N-NAME.$ext" "$(ls "$d" | tr '\n' ' ')" "0-LEFT.$ext 1-RIGHT.$ext "
	check_eq "$fmt q$q: JSON file, bytes and sha256 are the file's" \
		"$(mon "$d" '.monitors[0] | "\(.file) \(.bytes) \(.sha256)"')" \
		"0-LEFT.$ext $(stat -c %s "$d/0-LEFT.$ext") $(sha256sum <"$d/0-LEFT.$ext" | cut -d' ' -f1)"
	check "$fmt q$q: its decoder reads both files" bash -c "$(declare -f decoded); decoded '$d/0-LEFT.$ext' '$d/l.ppm' && decoded '$d/1-RIGHT.$ext' '$d/r.ppm'"
done
# quality 75 is close to the exact capture (a mean difference of at most 2
# of 255 on each channel: about 1 measured; blurred against sharp about 4)
for enc in webp-75:webp jpeg-75:jpg; do
	d=$T/${enc%%:*}
	check "${enc%%:*}: LEFT decodes 640x480, close to the PNG" quiet /usr/bin/python3 "$PNG" near "$d/l.ppm" "$f0" 2
	check "${enc%%:*}: RIGHT decodes 600x400, close to the PNG" quiet /usr/bin/python3 "$PNG" near "$d/r.ppm" "$f1" 2
	check "${enc%%:*}: not close to the other monitor (the check can fail)" \
		not quiet /usr/bin/python3 "$PNG" near "$d/l.ppm" "$f1" 2
done
# the pattern has few colours (under 1024): WebP encodes it losslessly
# (a VP8L chunk), exactly, and the quality does not change a byte
chunk() { dd if="$1" bs=1 skip=12 count=4 2>/dev/null; }
check_eq "webp: the pattern's shots are lossless (VP8L)" \
	"$(chunk "$T/webp-75/0-LEFT.webp") $(chunk "$T/webp-1/1-RIGHT.webp")" "VP8L VP8L"
check "webp lossless: quality 1 and 75 give the same bytes" \
	cmp -s "$T/webp-1/0-LEFT.webp" "$T/webp-75/0-LEFT.webp"
check "webp lossless: LEFT decodes to exactly the PNG" \
	quiet /usr/bin/python3 "$PNG" near "$T/webp-75/l.ppm" "$f0" 0
check "webp lossless: RIGHT decodes to exactly the PNG" \
	quiet /usr/bin/python3 "$PNG" near "$T/webp-1/r.ppm" "$f1" 0
# blur happens before encoding, whatever the format
fb=$T/blur/0-LEFT.png
for enc in webp:webp jpeg:jpg; do
	IFS=: read -r fmt ext <<<"$enc"
	d=$T/blur-$fmt
	check "$fmt: capture-once --blur exits 0" shot "$d" --blur --blur-radius 6 --format "$fmt" --quality 75
	decoded "$d/0-LEFT.$ext" "$d/l.ppm"
	check "$fmt blurred: close to the blurred PNG" quiet /usr/bin/python3 "$PNG" near "$d/l.ppm" "$fb" 2
	check "$fmt blurred: not close to the sharp capture" not quiet /usr/bin/python3 "$PNG" near "$d/l.ppm" "$f0" 2
	check "$fmt sharp: not close to the blurred PNG" not quiet /usr/bin/python3 "$PNG" near "$T/$fmt-75/l.ppm" "$fb" 2
done
# blurred, the pattern's edges are gradients of thousands of colours: lossy
check_eq "webp blurred: lossy (VP8)" "$(chunk "$T/blur-webp/0-LEFT.webp")" "VP8 "
check "the default is webp" shot "$T/default"
check_eq "the default's files are .webp" "$(ls "$T/default" | tr '\n' ' ')" "0-LEFT.webp 1-RIGHT.webp "

# ---- errors ----
for a in "--format gif" "--format PNG" "--quality 0" "--quality 101" "--quality 5x"; do
	# shellcheck disable=SC2086
	"$BUILD/actlog-session" --capture-once "$T/none" $a >/dev/null 2>&1
	check_eq "$a: exit 2" "$?" 2
done
env DISPLAY=:1 XAUTHORITY=/dev/null "$BUILD/actlog-session" --capture-once "$T/none" >/dev/null 2>&1
check_eq "no X server: exit 1" "$?" 1
"$BUILD/actlog-session" --blur-radius 999 --capture-once "$T/none" >/dev/null 2>&1
check_eq "--blur-radius out of range: exit 2" "$?" 2
"$BUILD/actlog-session" --shot-dir "$T/none" >/dev/null 2>&1
check_eq "the old --shot-dir is gone: exit 2" "$?" 2

# ---- the policy drives a timer: shots at the interval, none when off ----
fake_sessd
"$BUILD/actlog-session" --socket "$T/sess.sock" -v \
	>>"$T/helper.log" 2>&1 &
HPID=$!
cleanup_add "kill $HPID"
count() { find "$T/shots" -name '*.png' 2>/dev/null | wc -l; }
check "the helper connects" wait_for 10 grep -q "connected to actlogd" "$T/helper.log"
sleep 2
check_eq "no shots before the policy asks" "$(count)" 0
echo '{"screenshots.enabled":true,"screenshots.interval_s":1,"screenshots.jitter_s":0}' >&7
check "screenshots on by policy" wait_for 5 grep -q "screenshots every 1s" "$T/helper.log"
t0=$(date +%s.%N)
taken() { [ "$(grep -c 'screenshot [0-9]*: 2 monitor' "$T/helper.log")" -ge "$1" ]; }
wait_for 10 taken 3
t1=$(date +%s.%N)
check "three shots at a 1 s interval" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 2.5 && b - a <= 5) }'
check "shots reach the session socket as files" wait_for 10 eval 'test "$(count)" -ge 6'
check "every shot came as a sealed memfd of the announced size" not test -e "$T/shots/bad"
f=$(find "$T/shots" -name '*-LEFT.png' | sort | tail -1)
check "a timed shot matches the patterns" quiet /usr/bin/python3 "$PNG" pattern "$f" 0 0 "${WINS[@]}"
echo '{"screenshots.enabled":false,"screenshots.interval_s":1}' >&7
check "screenshots off by policy" wait_for 5 grep -q "screenshots off by policy" "$T/helper.log"
sleep 0.5
ls "$T/shots" >"$T/off1"
sleep 3
ls "$T/shots" >"$T/off2"
check "no shots while the policy is off" cmp -s "$T/off1" "$T/off2"
echo '{"screenshots.enabled":true,"screenshots.interval_s":1,"screenshots.blur":true}' >&7
sleep 2.5
f=$(ls "$T/shots"/*-LEFT.png | sort | tail -1)
check "policy blur: the next shots are blurred" \
	quiet /usr/bin/python3 "$PNG" blur "$f" 0 0 100 50 400 300 12 "$f0"
kill "$HPID"
finish
