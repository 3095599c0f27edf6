#!/usr/bin/env bash
# scripts/bench-shots.sh - screenshot encodings measured on real 1920x1080
# desktops (docs/PERFORMANCE.md, "Screenshots"): bytes per shot and CPU ms
# per shot (blur off; the encoder's thread CPU time, which actlog-session
# --capture-once reports as cpu_ms) for PNG, WebP and JPEG at a few
# qualities, and for WebP whether the shots came out lossless (VP8L) or
# lossy (VP8).
#
# usage: scripts/bench-shots.sh [--out DIR] [--rounds N] [--keep]
#   --out DIR    results directory (default build/bench): shots.json,
#                shots-table.txt; samples (one shot of each encoding and
#                scene, PNG conversions of the lossy ones when dwebp/djpeg
#                are installed) under DIR/raw/shots
#   --rounds N   captures of each encoding and scene (default 5); the
#                figures are medians
#
# Scenes, each on its own Xvfb 1920x1080x24 with openbox:
#   desktop  Debian 12's default wallpaper (desktop-base, emerald), set
#            with xwallpaper; chromium showing a local page of headings, paragraphs, a table
#            and photographs (the largest PNG/JPEG images under /usr/share,
#            else canvas-drawn gradients), an xterm with a directory
#            listing, xclock, xeyes and xlogo
#   text     two xterms side by side, each full of C source (DejaVu Sans
#            Mono 9 pt), the densest text a screen shows
#
# Needs Xvfb, openbox, xterm, x11-apps (xclock, xeyes, xlogo), chromium,
# jq, xdotool, xwallpaper, desktop-base (scripts/deps.sh --bench installs
# the missing ones).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
out=$BUILD/bench
rounds=5
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=${2:-}; shift 2 ;;
	--rounds) rounds=${2:-5}; shift 2 ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed -n 's/^# \{0,1\}//p' | head -n 24; exit 0 ;;
	*) echo "bench-shots: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
say() { echo "bench-shots: $*" >&2; }
die() { say "$*"; exit 1; }
WALLPAPER=/usr/share/desktop-base/emerald-theme/grub/grub-16x9.png
[ -r "$WALLPAPER" ] || die "missing $WALLPAPER (desktop-base; scripts/deps.sh --bench)"
for t in Xvfb openbox xterm xclock xeyes xlogo chromium jq xdotool xprop xwallpaper; do
	command -v "$t" >/dev/null || die "missing $t (scripts/deps.sh --bench)"
done
SESSION=$BUILD/actlog-session
[ -x "$SESSION" ] || die "missing $SESSION (make)"

# the encodings measured: FORMAT:QUALITY
ENCODINGS=(png:100 webp:30 webp:50 webp:75 webp:90 jpeg:50 jpeg:75 jpeg:90)

W=$(mktemp -d /tmp/actlog-bench-shots.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
raw=$out/raw/shots
mkdir -p "$raw" || die "cannot create $raw"

free_display() {
	local n
	for n in $(seq 140 199); do
		[ -e /tmp/.X11-unix/X$n ] || [ -e /tmp/.X$n-lock ] || { echo "$n"; return; }
	done
	return 1
}
wait_for() { # SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
}

# The desktop scene's page: text, a table, and the largest images found.
make_page() {
	local f=$W/page.html img n=0
	{
		echo '<!doctype html><html><head><meta charset="utf-8"><style>'
		echo 'body{font:15px "DejaVu Sans",sans-serif;margin:24px;background:#f6f7f9;color:#222}'
		echo 'h1{font-size:26px}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px}'
		echo 'img{max-width:440px;max-height:300px;margin:6px;border:1px solid #999}'
		echo 'canvas{margin:6px;border:1px solid #999}</style></head><body>'
		echo '<h1>Quarterly activity report</h1><p>'
		sed -n '1,60p' "$ROOT/docs/ARCHITECTURE.md" | tr -d '<>&' | tr '\n' ' '
		echo '</p><table><tr><th>Team</th><th>Devices</th><th>Active hours</th><th>Top application</th></tr>'
		for t in Platform Sales Support Finance Design Research; do
			echo "<tr><td>$t</td><td>$((RANDOM % 90 + 10))</td><td>$((RANDOM % 900 + 100)).$((RANDOM % 10))</td><td>Chromium</td></tr>"
		done
		echo '</table><div>'
		while read -r img; do
			echo "<img src=\"file://$img\">"
			n=$((n + 1))
		done < <(find /usr/share -xdev \( -name '*.jpg' -o -name '*.png' \) -size +60k 2>/dev/null |
			xargs -r ls -S 2>/dev/null | head -n 4)
		if [ $n -lt 2 ]; then
			for i in 1 2; do echo "<canvas id=c$i width=420 height=280></canvas>"; done
			echo '<script>for(const id of ["c1","c2"]){const c=document.getElementById(id).getContext("2d");'
			echo 'for(let y=0;y<280;y++)for(let x=0;x<420;x+=2){c.fillStyle=`hsl(${(x+y*id.length*7)%360},60%,${30+((x*y)%40)}%)`;c.fillRect(x,y,2,1)}}</script>'
		fi
		echo '</div><p>'
		sed -n '60,120p' "$ROOT/docs/ARCHITECTURE.md" | tr -d '<>&' | tr '\n' ' '
		echo '</p></body></html>'
	} >"$f"
	echo "$f"
}

# Start Xvfb + openbox on a free display and the scene's applications.
start_scene() { # SCENE
	local dn page
	dn=$(free_display) || die "no free X display"
	export DISPLAY=:$dn
	Xvfb "$DISPLAY" -screen 0 1920x1080x24 -nolisten tcp -noreset >"$W/xvfb-$1.log" 2>&1 &
	PIDS+=($!)
	wait_for 10 xprop -root _NET_NOTHING || die "Xvfb did not start"
	openbox >"$W/openbox-$1.log" 2>&1 &
	PIDS+=($!)
	sleep 1
	case $1 in
	desktop)
		xwallpaper --zoom "$WALLPAPER" || die "xwallpaper failed"
		page=$(make_page)
		chromium --no-sandbox --user-data-dir="$W/chromium" --no-first-run --disable-gpu \
			--window-position=0,0 --window-size=1280,1040 --app="file://$page" \
			>"$W/chromium.log" 2>&1 &
		PIDS+=($!)
		xterm -geometry 80x24+1290+0 -fa 'DejaVu Sans Mono' -fs 9 \
			-e sh -c 'ls -l /usr/bin | head -n 40; sleep 3600' &
		PIDS+=($!)
		xclock -geometry 200x200+1300+420 -update 1 &
		PIDS+=($!)
		xeyes -geometry 200x150+1520+420 &
		PIDS+=($!)
		xlogo -geometry 380x300+1300+650 &
		PIDS+=($!)
		;;
	text)
		local geo
		for geo in 135x72+0+0 135x72+962+0; do
			xterm -geometry "$geo" -fa 'DejaVu Sans Mono' -fs 9 \
				-e sh -c "cat $ROOT/server/model/shots.c $ROOT/user/agent/session_sock.c | head -n 72; sleep 3600" &
			PIDS+=($!)
		done
		;;
	esac
	sleep 6 # the applications draw (chromium takes a few seconds)
}

stop_scene() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	PIDS=()
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print 0}'; }

: >"$W/rows.ndjson"
for scene in desktop text; do
	say "$scene: Xvfb 1920x1080x24 with its applications"
	start_scene "$scene"
	for enc in "${ENCODINGS[@]}"; do
		fmt=${enc%:*}
		q=${enc#*:}
		: >"$W/m"
		for ((r = 0; r < rounds; r++)); do
			d=$W/$scene-$fmt-$q-$r
			"$SESSION" --capture-once "$d" --format "$fmt" --quality "$q" >"$d.json" 2>"$d.err" ||
				die "capture failed: $(cat "$d.err")"
			jq -c '.monitors[0] | {bytes, cpu_ms, encode_ms, file}' "$d.json" >>"$W/m"
		done
		f=$(jq -r .file "$W/m" | head -1)
		cp "$W/$scene-$fmt-$q-0/$f" "$raw/$scene-$fmt-q$q.${f##*.}"
		# WebP: the first chunk of each round's file, VP8L (lossless) or VP8 (lossy)
		mode=
		if [ "$fmt" = webp ]; then
			mode=$(for ((r = 0; r < rounds; r++)); do
				g=$(jq -r '.monitors[0].file' "$W/$scene-$fmt-$q-$r.json")
				dd if="$W/$scene-$fmt-$q-$r/$g" bs=1 skip=12 count=4 2>/dev/null | tr -d ' '
				echo
			done | sort -u | sed 's/^VP8L$/lossless/; s/^VP8$/lossy/' | paste -sd+)
		fi
		jq -cn --arg scene "$scene" --arg fmt "$fmt" --argjson q "$q" \
			--argjson bytes "$(jq .bytes "$W/m" | median)" \
			--argjson cpu "$(jq .cpu_ms "$W/m" | median)" \
			--argjson wall "$(jq .encode_ms "$W/m" | median)" --arg mode "$mode" \
			'{scene: $scene, format: $fmt, quality: (if $fmt == "png" then null else $q end),
			  bytes: $bytes, cpu_ms: $cpu, encode_ms: $wall}
			 + (if $mode != "" then {webp: $mode} else {} end)' >>"$W/rows.ndjson"
	done
	stop_scene
done

# samples as PNG, to look at
for f in "$raw"/*.webp; do [ -e "$f" ] && command -v dwebp >/dev/null && dwebp -quiet "$f" -o "${f%.webp}.webp.png"; done
for f in "$raw"/*.jpg; do [ -e "$f" ] && command -v djpeg >/dev/null && djpeg -outfile "${f%.jpg}.jpg.ppm" "$f"; done

jq -s --argjson rounds "$rounds" '
	. as $rows
	| {rounds: $rounds, resolution: "1920x1080",
	   rows: [ $rows[] | . as $r
		| ($rows[] | select(.scene == $r.scene and .format == "png") | .bytes) as $png
		| . + {vs_png: ((($png / .bytes) * 10 | round) / 10)} ]}' \
	"$W/rows.ndjson" >"$out/shots.json" || die "cannot write shots.json"
{
	printf '%-8s %-5s %7s %10s %8s %8s %8s  %s\n' scene format quality bytes "x<png" cpu_ms wall_ms webp
	jq -r '.rows[] | [.scene, .format, (.quality // "-"), .bytes, .vs_png, .cpu_ms, .encode_ms, (.webp // "-")] | @tsv' \
		"$out/shots.json" | while IFS=$'\t' read -r a b c d e f g h; do
		printf '%-8s %-5s %7s %10s %8s %8s %8s  %s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h"
	done
} | tee "$out/shots-table.txt"
