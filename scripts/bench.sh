#!/usr/bin/env bash
# scripts/bench.sh - actlog's agent benchmarks, side by side in one run.
# docs/PERFORMANCE.md explains every figure.
#
# usage: scripts/bench.sh [--ci] [--only SECTIONS] [--out DIR]
#   (no option)  make bench: every section below, then the server's
#                (scripts/bench-server.sh, when present)
#   --ci         make bench-ci: a short exec storm (no agent vs actlogd on the
#                BPF source) checked against the thresholds below; exit 1
#                when one is passed
#   --only LIST  comma-separated sections: storm, idle, input, ship, vmstorm,
#                server, shots
#   --out DIR    results directory (default build/bench): results.json,
#                table.txt, and each section's raw files under DIR/raw
#
# Sections
#   storm    exec storm (tools/actlog-storm.c) with no collector, actlogd on
#            the BPF source, actlogd on the netlink fallback, a recording and
#            a counting bpftrace one-liner, auditd with an execve rule; runs
#            interleaved round by round; ratios are medians over the rounds
#   idle     every collector at once, nothing happening, BENCH_IDLE_S
#            seconds: CPU, wake-ups, resident memory
#   input    in the QEMU VM (Debian's kernel; the host refuses fentry):
#            actlogd's CPU per 100,000 injected input events with the BPF
#            source and the evdev fallback; BPF run time per event
#   ship     records per second through spool -> gzip -> HTTP to a local
#            ingest stub (tests/fake_ingest.py)
#   vmstorm  in the VM: a small exec storm with no collector, actlogd (BPF)
#            and bcc's execsnoop, which needs kernel headers the host lacks
#   server   scripts/bench-server.sh (--quick with --ci), merged as "server"
#   shots    scripts/bench-shots.sh: bytes and CPU ms per 1920x1080
#            screenshot for PNG, WebP and JPEG on two Xvfb desktops, merged
#            as "shots" (its own table: DIR/shots-table.txt)
#
# Environment: BUILD (default build), BENCH_ROUNDS, BENCH_EXECS,
# BENCH_WORKERS, BENCH_IDLE_S, BENCH_INPUT_SCALE, BENCH_SHIP_RECORDS,
# BENCH_CI_MAX_RATIO, BENCH_CI_MAX_CPU (see below for the defaults).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export ROOT BUILD

# CI thresholds for actlogd on the BPF source under the storm (documented in
# docs/PERFORMANCE.md, "CI gate").
CI_MAX_RATIO=${BENCH_CI_MAX_RATIO:-1.10}
CI_MAX_CPU=${BENCH_CI_MAX_CPU:-0.15}

ci=0
only=
out=$BUILD/bench
while [ $# -gt 0 ]; do
	case $1 in
	--ci) ci=1; shift ;;
	--only) only=${2:-}; shift 2 ;;
	--out) out=${2:-}; shift 2 ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed -n 's/^# \{0,1\}//p' | head -n 36; exit 0 ;;
	*) echo "bench: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
if [ $ci = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-5}
	EXECS=${BENCH_EXECS:-4000}
	sections=${only:-storm}
	STORM_CONFIGS=(none actlogd_bpf)
else
	ROUNDS=${BENCH_ROUNDS:-5}
	EXECS=${BENCH_EXECS:-10000}
	sections=${only:-storm,idle,input,ship,vmstorm,server,shots}
	STORM_CONFIGS=(none actlogd_bpf actlogd_netlink bpftrace_record bpftrace_count auditd)
fi
WORKERS=${BENCH_WORKERS:-$(nproc)}
IDLE_S=${BENCH_IDLE_S:-60}
want() { [[ ",$sections," == *",$1,"* ]]; }

say() { echo "bench: $*" >&2; }
die() { say "error: $*"; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root (BPF, auditd, the VM's kernel cache)"
for b in actlogd actlogctl actlog-storm; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b is not built (make BUILD=$BUILD)"
done
command -v jq >/dev/null || die "jq is missing (scripts/deps.sh)"

W=$(mktemp -d /tmp/actlog-bench.XXXXXX)
COLL_DIRS=()
cleanup() {
	local d n
	for d in "${COLL_DIRS[@]}"; do
		n=$(cat "$d/name" 2>/dev/null) && "c_${n}_stop" "$d" >/dev/null 2>&1
	done
	[ -n "${STATS_BEFORE:-}" ] && sysctl -q -w kernel.bpf_stats_enabled="$STATS_BEFORE" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$out/raw"
: >"$W/sections.json"

. "$ROOT/tests/bench/collectors.sh"

# The storm runs a copy of /bin/true under a name of its own, so that its
# records can be told from the rest of the machine's.
STORM_EXE=$W/bin/actlog-storm-true
STORM_COMM=actlog-storm-tr
mkdir -p "$W/bin"
cp /bin/true "$STORM_EXE"
export STORM_EXE STORM_COMM

HZ=$(getconf CLK_TCK)
ticks_s() { awk -v t="$1" -v hz="$HZ" 'BEGIN {printf "%.3f", t / hz}'; }

# coll_start NAME D: start collector NAME in D and remember it for cleanup
coll_start() {
	mkdir -p "$2"
	echo "$1" >"$2/name"
	COLL_DIRS+=("$2")
	"c_$1_start" "$2"
}
coll_stop() {
	"c_$1_stop" "$2"
	local i
	for i in "${!COLL_DIRS[@]}"; do [ "${COLL_DIRS[$i]}" = "$2" ] && unset 'COLL_DIRS[i]'; done
}

# prog_ids: ids of the BPF programs loaded now (JSON array)
prog_ids() { bpftool -j prog show 2>/dev/null | jq -c '[.[].id]' 2>/dev/null || echo '[]'; }
# bpf_prog_ns IDS: "run_time_ns run_cnt" summed over those programs (needs
# kernel.bpf_stats_enabled=1)
bpf_prog_ns() {
	bpftool -j prog show 2>/dev/null | jq -r --argjson ids "$1" '
		[.[] | select(.id as $i | $ids | index($i))]
		| "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"' 2>/dev/null ||
		echo "0 0"
}

# CPU time of processes over a window, precise where perf is there (task
# clock, ns), else from /proc/PID/stat (1/CLK_TCK steps).
# cpu_begin D PID...: start measuring; cpu_end D: print seconds
cpu_begin() {
	local d=$1
	shift
	if command -v perf >/dev/null; then
		perf stat -e task-clock -x, -o "$d/cpu.perf" -p "$(echo "$@" | tr ' ' ,)" &
		echo $! >"$d/cpu.perf.pid"
		sleep 0.2
	else
		echo "$@" >"$d/cpu.pids"
		cpu_ticks "$@" >"$d/cpu.t0"
	fi
}
cpu_end() {
	local d=$1 p
	if [ -f "$d/cpu.perf.pid" ]; then
		p=$(cat "$d/cpu.perf.pid")
		kill -INT "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		rm -f "$d/cpu.perf.pid"
		awk -F, '$3 == "task-clock" {s += $1} END {printf "%.4f\n", s / 1000}' "$d/cpu.perf"
	else
		ticks_s $(($(cpu_ticks $(cat "$d/cpu.pids")) - $(cat "$d/cpu.t0")))
	fi
}
CPU_METHOD=$(command -v perf >/dev/null && echo "perf task-clock" || echo "/proc/PID/stat")

# ---------------------------------------------------------------- storm ----
storm_one() { # CONFIG ROUND
	local cfg=$1 r=$2 d=$W/storm/$1-$2 pids= cpu=0 b0="0 0" b1="0 0" seen=0 lost=0 per=0
	local ids='[]' before
	mkdir -p "$d"
	if [ "$cfg" != none ]; then
		before=$(prog_ids)
		coll_start "$cfg" "$d" || return 1
		pids=$COLL_PIDS
		ids=$(jq -c -n --argjson a "$before" --argjson b "$(prog_ids)" '$b - $a')
		b0=$(bpf_prog_ns "$ids")
		cpu_begin "$d" $pids
	fi
	if ! "$BUILD/actlog-storm" --execs "$EXECS" --workers "$WORKERS" --exec "$STORM_EXE" \
		--json >"$d/storm.json" 2>"$d/storm.err"; then
		say "storm failed under $cfg: $(cat "$d/storm.err")"
		[ "$cfg" = none ] || { cpu_end "$d" >/dev/null; coll_stop "$cfg" "$d"; }
		return 1
	fi
	if [ "$cfg" != none ]; then
		# caught up when what it wrote stops growing (the collector's own
		# output, never a question to it: that would cost it CPU)
		until_stable 60 "$("c_${cfg}_tolerance")" "c_${cfg}_progress" "$d" >/dev/null
		cpu=$(cpu_end "$d")
		b1=$(bpf_prog_ns "$ids")
		coll_stop "$cfg" "$d"
		seen=$("c_${cfg}_seen" "$d")
		lost=$("c_${cfg}_lost" "$d")
		per=$("c_${cfg}_per_exec")
	fi
	jq -c --arg cfg "$cfg" --argjson r "$r" --argjson cpu "$cpu" \
		--argjson seen "${seen:-0}" --argjson lost "${lost:-0}" --argjson per "$per" \
		--argjson bns "$(awk -v a="$b0" -v b="$b1" 'BEGIN {split(a, x); split(b, y); print y[1] - x[1]}')" \
		--argjson bcnt "$(awk -v a="$b0" -v b="$b1" 'BEGIN {split(a, x); split(b, y); print y[2] - x[2]}')" \
		'{config: $cfg, round: $r, wall_s: .wall_s, execs: .execs, failures: .failures,
		  execs_per_s: .execs_per_s, collector_cpu_s: $cpu,
		  expected: (.execs * $per), seen: $seen, lost_reported: $lost,
		  missing: ([(.execs * $per) - $seen, 0] | max),
		  bpf_run_ns: $bns, bpf_run_cnt: $bcnt}' "$d/storm.json" >>"$W/storm-runs.ndjson"
	say "storm $cfg round $r: $(jq -r '"\(.wall_s | . * 1000 | round / 1000) s, \(.execs_per_s | round)/s"' "$d/storm.json"), collector cpu $cpu s, seen $seen, lost $lost"
}

section_storm() {
	local r i n=${#STORM_CONFIGS[@]} cfg
	STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo)
	[ -n "$STATS_BEFORE" ] && sysctl -q -w kernel.bpf_stats_enabled=1
	: >"$W/storm-runs.ndjson"
	say "storm: ${STORM_CONFIGS[*]}; $ROUNDS rounds of $EXECS execs, $WORKERS workers"
	for ((r = 1; r <= ROUNDS; r++)); do
		# rotate the order each round so that no configuration always runs
		# right after the same neighbour
		for ((i = 0; i < n; i++)); do
			cfg=${STORM_CONFIGS[$(((i + r - 1) % n))]}
			storm_one "$cfg" "$r" || return 1
		done
	done
	[ -n "$STATS_BEFORE" ] && sysctl -q -w kernel.bpf_stats_enabled="$STATS_BEFORE"
	cp "$W/storm-runs.ndjson" "$out/raw/storm-runs.ndjson"
	# per round: wall / wall of "none" in the same round; medians over rounds
	jq -s --argjson execs "$EXECS" --argjson workers "$WORKERS" --argjson rounds "$ROUNDS" --arg cm "$CPU_METHOD" '
		def median: sort | if length == 0 then null
			elif length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		def r3: . * 1000 | round / 1000;
		(map(select(.config == "none")) | map({key: (.round | tostring), value: .wall_s}) | from_entries) as $base
		| {execs_per_run: $execs, workers: $workers, rounds: $rounds, cpu_method: $cm,
		   baseline_execs_per_s: (map(select(.config == "none") | .execs_per_s) | median | round),
		   configs: (group_by(.config) | map({
			key: .[0].config,
			value: {
			  slowdown: (map(.wall_s / $base[.round | tostring]) | median | r3),
			  slowdown_min: (map(.wall_s / $base[.round | tostring]) | min | r3),
			  slowdown_max: (map(.wall_s / $base[.round | tostring]) | max | r3),
			  execs_per_s: (map(.execs_per_s) | median | round),
			  cpu_s_per_10k_execs: (map(.collector_cpu_s / .execs * 10000) | median | r3),
			  bpf_us_per_exec: (if (map(.bpf_run_cnt) | add) > 0
				then (map(.bpf_run_ns / .execs) | median / 1000 | r3) else null end),
			  events_expected: (map(.expected) | add),
			  events_seen: (map(.seen) | add),
			  events_missing: (map(.missing) | add),
			  lost_reported: (map(.lost_reported) | add)
			}}) | from_entries)}' "$W/storm-runs.ndjson" >"$W/storm.json" ||
		return 1
	jq -c '{storm: .}' "$W/storm.json" >>"$W/sections.json"
}

# ----------------------------------------------------------------- idle ----
section_idle() {
	local cfgs=(actlogd_bpf actlogd_netlink bpftrace_record bpftrace_count auditd) cfg d
	local r0 r1 c
	declare -A P S0 CPU
	say "idle: ${cfgs[*]} at once, ${IDLE_S} s"
	for cfg in "${cfgs[@]}"; do
		d=$W/idle/$cfg
		coll_start "$cfg" "$d" || return 1
		P[$cfg]=$COLL_PIDS
	done
	sleep 5 # let start-up work finish
	r0=$("$BUILD/actlogctl" --state-dir "$W/idle/actlogd_bpf/state" spool dump | grep -c '"type":"process"')
	for cfg in "${cfgs[@]}"; do
		S0[$cfg]=$(ctx_switches ${P[$cfg]})
		cpu_begin "$W/idle/$cfg" ${P[$cfg]}
	done
	sleep "$IDLE_S"
	: >"$W/idle.ndjson"
	for cfg in "${cfgs[@]}"; do
		local s1 rss
		c=$(cpu_end "$W/idle/$cfg")
		s1=$(ctx_switches ${P[$cfg]})
		# resident memory of the collector's own process (not kauditd)
		rss=$(rss_kib "${P[$cfg]%% *}")
		jq -n -c --arg cfg "$cfg" --argjson c "$c" \
			--argjson s "$((s1 - S0[$cfg]))" --argjson secs "$IDLE_S" --argjson rss "$rss" \
			'{key: $cfg, value: {cpu_pct_of_core: ($c / $secs * 100 * 10000 | round / 10000),
			  wakeups_per_s: ($s / $secs * 100 | round / 100), rss_mib: ($rss / 1024 * 10 | round / 10)}}' \
			>>"$W/idle.ndjson"
	done
	for cfg in "${cfgs[@]}"; do coll_stop "$cfg" "$W/idle/$cfg"; done
	r1=$("$BUILD/actlogctl" --state-dir "$W/idle/actlogd_bpf/state" spool dump | grep -c '"type":"process"')
	jq -s -c --argjson secs "$IDLE_S" --argjson ev "$((r1 - r0))" --arg cm "$CPU_METHOD" \
		'{idle: {seconds: $secs, process_events_during: $ev, cpu_method: $cm, configs: from_entries}}' \
		"$W/idle.ndjson" >>"$W/sections.json"
}

# ---------------------------------------------------------------- input ----
section_input() {
	local scale=${BENCH_INPUT_SCALE:-1} o=$out/raw/input rc
	[ -x "$BUILD/actlog-inject" ] || { say "input: actlog-inject not built"; return 1; }
	rm -rf "$o"
	say "input: QEMU VM (TCG), BPF and evdev sources"
	ACTLOG_VM_BINS="$(command -v jq)" \
		"$ROOT/tests/vm/run.sh" --timeout 1200 --out "$o" "$ROOT/tests/bench/guest_input.sh" "$scale" \
		>"$W/input.out" 2>"$W/input.err"
	rc=$?
	cp "$W/input.out" "$W/input.err" "$out/raw/" 2>/dev/null
	if [ $rc -ne 0 ] || [ ! -s "$o/input.json" ]; then
		say "input: the VM run failed ($rc); last lines:"
		tail -n 20 "$W/input.err" >&2
		return 1
	fi
	jq -c '{input: .}' "$o/input.json" >>"$W/sections.json"
}

# ----------------------------------------------------------------- ship ----
section_ship() {
	local n=${BENCH_SHIP_RECORDS:-20000} d=$W/ship port c0 c1 t0 t1 recs i
	local py=/usr/bin/python3
	mkdir -p "$d/srv" "$d/a"
	echo ok >"$d/srv/mode"
	port=$((20000 + RANDOM % 20000))
	say "ship: filling a spool with about $n records"
	# fill: actlogd without upload records a storm (2 records per exec)
	coll_start actlogd_bpf "$d/a" || return 1
	"$BUILD/actlog-storm" --execs $((n / 2)) --exec "$STORM_EXE" >/dev/null || return 1
	until_stable 60 "$(c_actlogd_bpf_tolerance)" c_actlogd_bpf_progress "$d/a" >/dev/null
	coll_stop actlogd_bpf "$d/a"
	recs=$("$BUILD/actlogctl" --state-dir "$d/a/state" spool dump | wc -l)
	$py "$ROOT/tests/fake_ingest.py" "$port" "$d/srv" &
	echo $! >"$d/srv.pid"
	for ((i = 0; i < 100; i++)); do
		(echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
		sleep 0.1
	done
	"$BUILD/actlogd" enroll --server "http://127.0.0.1:$port" --secret ale_good \
		--state-dir "$d/a/state" >/dev/null || { kill "$(cat "$d/srv.pid")"; return 1; }
	# the daemon ships what the spool holds; no sources, so nothing is added
	# but its own start record
	t0=$(date +%s.%N)
	"$BUILD/actlogd" --foreground --config /dev/null --state-dir "$d/a/state" \
		--socket "$d/a/ctl.sock" --input-source none --proc-source none >>"$d/a/ship.log" 2>&1 &
	local apid=$!
	echo actlogd_ship >"$d/a/name"
	c0=$(cpu_ticks $apid)
	for ((i = 0; i < 3000; i++)); do
		"$BUILD/actlogctl" --socket "$d/a/ctl.sock" status --json 2>/dev/null |
			jq -e '.spool.pending == 0' >/dev/null 2>&1 && break
		sleep 0.05
	done
	t1=$(date +%s.%N)
	c1=$(cpu_ticks $apid)
	"$BUILD/actlogctl" --socket "$d/a/ctl.sock" status --json >"$d/status.json" 2>/dev/null
	kill -TERM $apid
	wait $apid 2>/dev/null
	kill "$(cat "$d/srv.pid")"
	wait "$(cat "$d/srv.pid")" 2>/dev/null
	local stored batches
	stored=$(wc -l <"$d/srv/records.ndjson")
	batches=$(wc -l <"$d/srv/batches.log")
	[ "$i" -lt 3000 ] || say "ship: the spool did not drain in 150 s"
	jq -n -c --argjson recs "$recs" --argjson stored "$stored" --argjson batches "$batches" \
		--argjson t "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
		--argjson cpu "$(ticks_s $((c1 - c0)))" \
		'{ship: {records: $recs, stored: $stored, batches: $batches,
		  seconds: ($t * 1000 | round / 1000),
		  records_per_s: ($stored / $t | round),
		  agent_cpu_s_per_10k_records: ($cpu / $stored * 10000 * 1000 | round / 1000),
		  peer: "tests/fake_ingest.py (python stdlib, gunzip + append)"}}' >>"$W/sections.json"
}

# -------------------------------------------------------------- vmstorm ----
section_vmstorm() {
	local o=$out/raw/vmstorm rc
	rm -rf "$o"
	say "vmstorm: QEMU VM with Debian's kernel headers: none, actlogd, execsnoop"
	"$ROOT/tests/bench/vm_execsnoop.sh" "$o" >"$W/vmstorm.out" 2>"$W/vmstorm.err"
	rc=$?
	cp "$W/vmstorm.out" "$W/vmstorm.err" "$out/raw/" 2>/dev/null
	if [ $rc -ne 0 ] || [ ! -s "$o/vmstorm.json" ]; then
		say "vmstorm: failed ($rc); last lines:"
		tail -n 20 "$W/vmstorm.err" >&2
		jq -n -c --arg why "$(tail -n 3 "$W/vmstorm.err" | tr '\n' ' ')" \
			'{vmstorm: {error: $why}}' >>"$W/sections.json"
		return 1
	fi
	jq -c '{vmstorm: .}' "$o/vmstorm.json" >>"$W/sections.json"
}

# --------------------------------------------------------------- server ----
section_server() {
	local s=$ROOT/scripts/bench-server.sh args=()
	if [ ! -x "$s" ]; then
		say "server: scripts/bench-server.sh is not there yet; skipped"
		return 0
	fi
	[ $ci = 1 ] && args+=(--quick)
	say "server: $s ${args[*]}"
	if ! BUILD=$BUILD "$s" "${args[@]}"; then
		say "server: bench-server.sh failed"
		return 1
	fi
	[ -s "$BUILD/bench/server.json" ] && jq -c '{server: .}' "$BUILD/bench/server.json" >>"$W/sections.json"
	return 0
}

# ---------------------------------------------------------------- shots ----
section_shots() {
	say "shots: scripts/bench-shots.sh --out $out"
	if ! BUILD=$BUILD "$ROOT/scripts/bench-shots.sh" --out "$out"; then
		say "shots: bench-shots.sh failed"
		return 1
	fi
	jq -c '{shots: .}' "$out/shots.json" >>"$W/sections.json"
}

# ---------------------------------------------------------------- main ----
failed=()
for s in storm idle input ship vmstorm server shots; do
	want "$s" || continue
	"section_$s" || failed+=("$s")
done

jq -s --arg host "$(uname -r)" --arg when "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--argjson cpus "$(nproc)" --arg mode "$([ $ci = 1 ] && echo ci || echo full)" \
	'{generated: $when, mode: $mode, kernel: $host, cpus: $cpus} + add' \
	"$W/sections.json" >"$out/results.json" || die "cannot assemble results.json"

"$ROOT/tests/bench/table.sh" "$out/results.json" | tee "$out/table.txt"

rc=0
if [ ${#failed[@]} -gt 0 ]; then
	say "sections that failed: ${failed[*]}"
	rc=1
fi
if [ $ci = 1 ]; then
	gate=$(jq -r --argjson mr "$CI_MAX_RATIO" --argjson mc "$CI_MAX_CPU" '
		.storm.configs.actlogd_bpf as $a
		| [ (if $a.slowdown > $mr then "slowdown \($a.slowdown) > \($mr)" else empty end),
		    (if $a.cpu_s_per_10k_execs > $mc then "cpu \($a.cpu_s_per_10k_execs) s per 10k execs > \($mc)" else empty end),
		    (if ($a.events_missing + $a.lost_reported) > 0 then "\($a.events_missing) events missing, \($a.lost_reported) reported lost" else empty end)
		  ] | join("; ")' "$out/results.json" 2>/dev/null) || gate="no storm results"
	if [ -n "$gate" ]; then
		echo "bench-ci: FAIL: actlogd (bpf): $gate"
		rc=1
	else
		echo "bench-ci: PASS: actlogd (bpf) within slowdown <= $CI_MAX_RATIO, cpu <= $CI_MAX_CPU s per 10k execs, no events lost"
	fi
fi
exit $rc
