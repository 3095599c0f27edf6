#!/usr/bin/env bash
# app_usage without a session: the processes that used the most CPU in an
# interval, named by application (.desktop Name, else the executable's
# basename), with both process sources; a busy process that started before
# actlogd and a child that forked without exec are found too; exit records
# carry the CPU time and run time of the process.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
need jq

burn=$T/actlog-burn
cp /bin/bash "$burn"
mkdir -p "$T/apps"
cat >"$T/apps/burner.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Burner Deluxe
Exec=env LANG=C $burn --burn %U
EOF
cat >"$T/apps/hidden.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Never Shown
Hidden=true
Exec=/usr/bin/sleep
EOF
jqs() { jq -se "$@" >/dev/null; }
now() { date +%s.%N; }
# fixed CPU-bound work (about 1 s of CPU per unit here), whatever the load
spin='for ((i = 0; i < $1 * 600000; i++)); do :; done'

for src in bpf netlink; do
	d=$T/$src
	# busy since before actlogd started: found by the first /proc pass
	"$burn" -c "$spin" burn 3 &
	early=$!
	sleep 0.3
	if ! agent_start "$d" --proc-source "$src" --input-source none --interval 2 \
		--session-socket "$d/session.sock" --session-uid 0 --desktop-dirs "$T/apps"; then
		fail "$src: actlogd starts"
		continue
	fi
	wait $early
	# a CPU-bound program started now: its exec is in the stream
	t0=$(now)
	"$burn" -c "$spin" burn 2
	t1=$(now)
	p1=$(jq -r --arg e "$burn" 'select(.type=="process" and .event=="exec" and .exe==$e) | .pid' \
		<("$BUILD/actlogctl" --state-dir "$d/state" spool dump) | tail -1)
	# a child that forks without exec: only the /proc pass sees it
	bash -c "( $spin ) & echo \$! >'$d/child'; wait" spin 3
	sleep 2.3
	st=$("$BUILD/actlogctl" --socket "$d/ctl.sock" status --json)
	check "$src: status shows the CPU table" jqs '.[0].apps.pids > 0 and .[0].apps.desktop_entries == 1' <<<"$st"
	agent_stop
	check_eq "$src: actlogd exits 0" "$?" 0
	spool_dump "$d" >"$d/dump.ndjson"
	ex=$(jq -c --argjson pid "${p1:-0}" 'select(.type=="process" and .event=="exit" and .pid==$pid)' "$d/dump.ndjson")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	if [ "$src" = bpf ]; then
		check "$src: the busy program's exit carries its CPU time ($(jq .cpu_s <<<"$ex") s)" \
			jqs '.[0].cpu_s >= 0.8 and .[0].cpu_s <= .[0].run_s + 0.05' <<<"$ex"
	else
		# the proc connector's exit event has no CPU time; /proc/PID is gone
		# once the parent reaped the process (this shell waits at once)
		check "$src: a reaped process's exit CPU is unknown (null), not 0" \
			jqs '.[0] | has("cpu_s") and (.cpu_s == null or .cpu_s >= 0.8)' <<<"$ex"
	fi
	check "$src: ... and its run time ($(jq .run_s <<<"$ex") s, ran $wall s)" \
		jqs --argjson w "$wall" '.[0].run_s <= $w + 0.05 and .[0].run_s >= $w - 0.5' <<<"$ex"
	# top_cpu: the busy program, summed over the intervals it ran in, is
	# the CPU time its exit reports (BPF); at least what was sampled (netlink)
	sum_top() { jq -s --argjson pid "$1" '[.[] | select(.type=="app_usage") | .top_cpu[] | select(.pid==$pid) | .cpu_s] | add // 0' "$d/dump.ndjson"; }
	got=$(sum_top "${p1:-0}")
	if [ "$src" = bpf ]; then
		check "$src: top_cpu names the busy program (${got} s, its exit says $(jq .cpu_s <<<"$ex") s)" \
			jqs --argjson g "$got" '(.[0].cpu_s - $g) | fabs <= 0.2' <<<"$ex"
	else
		# (what it gets of the 2 cores depends on the machine's load)
		check "$src: top_cpu names the busy program (${got} s)" awk -v g="$got" 'BEGIN { exit !(g > 0) }'
	fi
	check "$src: it is named by its .desktop file's Name" jqs --argjson pid "${p1:-0}" \
		'[.[] | select(.type=="app_usage") | .top_cpu[] | select(.pid==$pid)] | length >= 1 and all(.app == "Burner Deluxe" and .exe == "'"$burn"'" and .uid == '"$(id -u)"')' "$d/dump.ndjson"
	got=$(sum_top "$early")
	check "$src: a process older than actlogd is sampled (${got} s)" awk -v g="$got" 'BEGIN { exit !(g >= 0.5) }'
	got=$(sum_top "$(cat "$d/child")")
	check "$src: a child that forked without exec is sampled (${got} s)" awk -v g="$got" 'BEGIN { exit !(g >= 0.3) }'
	check "$src: ... and named by its executable" jqs --argjson pid "$(cat "$d/child")" '
		[.[] | select(.type=="app_usage") | .top_cpu[] | select(.pid == $pid)] | all(.app == "bash")' "$d/dump.ndjson"
	check "$src: top_cpu is at most 5 entries, largest first" jqs '
		[.[] | select(.type=="app_usage") | .top_cpu | length <= 5 and (map(.cpu_s) == (map(.cpu_s) | sort | reverse))] | all' "$d/dump.ndjson"
	check "$src: one app_usage record per interval" jqs '
		([.[] | select(.type=="app_usage")] | length) >= 3' "$d/dump.ndjson"
	check "$src: without a session helper, apps is empty and source null" jqs '
		[.[] | select(.type=="app_usage")] | all(.apps == [] and .source == null)' "$d/dump.ndjson"
done
finish
