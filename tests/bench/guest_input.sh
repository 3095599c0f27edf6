# shellcheck shell=sh
# tests/bench/guest_input.sh - guest half of scripts/bench.sh's "input"
# section; runs inside the QEMU VM (busybox sh, tests/vm/run.sh) with jq
# added (ACTLOG_VM_BINS). For each input source (bpf, evdev) it starts
# actlogd, injects a fixed mix of input through uinput, and measures
# actlogd's CPU (utime + stime of /proc/PID/stat) and context switches over
# the injection, and with kernel.bpf_stats_enabled the run time of the BPF
# input program. Writes /out/input.json.
#
# usage: guest_input.sh SCALE   (1: 5000 keys, 2000 clicks, 10000 moves,
#                                3000 scrolls = 67,000 input events)
set -u
scale=${1:-1}
keys=$((5000 * scale)) clicks=$((2000 * scale)) moves=$((10000 * scale)) scrolls=$((3000 * scale))
# input_event() calls: a key or click is press, SYN, release, SYN; a move is
# REL_X, REL_Y, SYN; a scroll tick REL_WHEEL, REL_WHEEL_HI_RES, SYN
events=$((4 * keys + 4 * clicks + 3 * moves + 3 * scrolls))
# evdev readers must keep up with the injection (their buffers hold a few
# dozen events): one frame every 1 ms
delay_us=1000
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)

say() { echo "guest_input[bench]: $*" >&2; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() {
	cat /proc/"$1"/task/*/status | awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {s += $2} END {print s + 0}'
}
prog_stats() { # "run_time_ns run_cnt" of the fentry/input_event program
	bpftool -j prog show 2>/dev/null |
		jq -r '[.[] | select(.name == "count_input")] | "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}

for b in actlogd actlogctl actlog-inject bpftool jq; do
	command -v $b >/dev/null || { say "$b is not in the VM"; exit 1; }
done
echo 1 >/proc/sys/kernel/bpf_stats_enabled || say "cannot enable bpf_stats"
mkdir -p /out
: >/out/sources.ndjson
for src in bpf evdev; do
	d=/tmp/$src
	sock=/run/actlog-$src.sock
	mkdir -p $d
	actlogd --foreground --config /dev/null --state-dir $d/state --interval 3600 --socket $sock \
		--no-upload --input-source $src --proc-source none >$d/actlogd.log 2>&1 &
	pid=$!
	i=0
	while ! actlogctl --socket $sock status --json >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 1200 ] || ! kill -0 $pid 2>/dev/null; then
			say "actlogd ($src) did not start"
			tail -n 20 $d/actlogd.log >&2
			exit 1
		fi
		sleep 0.1
	done
	sleep 2
	t0=$(ticks $pid) s0=$(switches $pid) b0=$(prog_stats)
	start=$(date +%s)
	actlog-inject --keys $keys --clicks $clicks --moves $moves --scrolls $scrolls \
		--delay-us $delay_us --settle-ms 2000 --json >$d/inject.json 2>$d/inject.err ||
		{ say "actlog-inject failed: $(cat $d/inject.err)"; exit 1; }
	end=$(date +%s)
	t1=$(ticks $pid) s1=$(switches $pid) b1=$(prog_stats)
	actlogctl --socket $sock status --json >$d/status.json
	kill -TERM $pid
	wait $pid
	jq -c -n --arg src "$src" --argjson events $events --argjson hz "$hz" \
		--argjson t "$((t1 - t0))" --argjson s "$((s1 - s0))" --argjson secs "$((end - start))" \
		--argjson b0 "[$(echo "$b0" | tr ' ' ,)]" --argjson b1 "[$(echo "$b1" | tr ' ' ,)]" \
		--argjson k $keys --argjson c $clicks --argjson m $moves --argjson sc $scrolls \
		--slurpfile st $d/status.json '
		($st[0].totals.synthetic) as $got
		| {key: $src, value: {
			agent_cpu_s: ($t / $hz),
			cpu_s_per_100k_events: ($t / $hz / $events * 100000 * 1000 | round / 1000),
			wakeups: $s,
			wakeups_per_100k_events: ($s / $events * 100000 | round),
			inject_s: $secs,
			bpf_run_cnt: ($b1[1] - $b0[1]),
			bpf_ns_per_event: (if ($b1[1] - $b0[1]) > 0
				then (($b1[0] - $b0[0]) / ($b1[1] - $b0[1]) | round) else null end),
			counted: $got,
			counts_match: ($got.keys == $k and $got.clicks == $c and $got.moves == $m and $got.scrolls == $sc)}}' \
		>>/out/sources.ndjson || exit 1
	say "$src: $(tail -n 1 /out/sources.ndjson)"
done
jq -s -c --arg kernel "$(uname -r)" --argjson events $events \
	'{kernel: $kernel, events: $events, sources: from_entries}' /out/sources.ndjson >/out/input.json
