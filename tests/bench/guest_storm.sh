# shellcheck shell=sh
# tests/bench/guest_storm.sh N ROUNDS - guest half of
# tests/bench/vm_execsnoop.sh (busybox sh in the QEMU VM): N-exec storms of
# /usr/bin/true with no collector, with actlogd (BPF source) and with bcc's
# execsnoop. No collector and actlogd alternate round by round; execsnoop
# compiles its program at start (a minute or more under TCG), so it starts
# once and runs its rounds in a row, followed by more rounds with no
# collector; while execsnoop runs, actlogd and the two bpftrace one-liners of
# the host benchmark join it for an idle minute (this VM runs nothing else,
# unlike the shared host). Collector CPU: utime + stime of /proc/PID/stat.
# Writes /out/vmstorm.json.
set -u
n=${1:-600} rounds=${2:-3}
exe=/usr/bin/true
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
say() { echo "guest_storm: $*" >&2; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
size_of() { cat "$@" 2>/dev/null | wc -c; }
# stable FILE...: wait until the files stop growing for 2 s (at most 120 s)
stable() {
	last=-1 same=0 i=0
	while [ $i -lt 600 ]; do
		v=$(size_of "$@")
		if [ "$v" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 10 ] && return 0
		else
			same=0
			last=$v
		fi
		sleep 0.2
		i=$((i + 1))
	done
}
mkdir -p /out
: >/out/runs.ndjson
storm() { # CONFIG ROUND PID(or 0) SEEN-CMD...
	cfg=$1 r=$2 pid=$3
	shift 3
	t0=0
	[ "$pid" = 0 ] || t0=$(ticks "$pid")
	actlog-storm --execs "$n" --workers 2 --exec $exe --json >/tmp/storm.json || return 1
	t1=0 seen=0
	if [ "$pid" != 0 ]; then
		stable "$@"
		t1=$(ticks "$pid")
	fi
	jq -c --arg cfg "$cfg" --argjson r "$r" --argjson cpu "$(((t1 - t0)))" --argjson hz "$hz" \
		'{config: $cfg, round: $r, wall_s, execs, execs_per_s, collector_cpu_s: ($cpu / $hz)}' \
		/tmp/storm.json >>/out/runs.ndjson
	say "$(tail -n 1 /out/runs.ndjson)"
}

for b in actlogd actlogctl actlog-storm jq python3 execsnoop-bpfcc bpftrace; do
	command -v $b >/dev/null || { say "$b is not in the VM"; exit 1; }
done
[ -x $exe ] || { say "$exe is not in the VM"; exit 1; }

# warm-up: page cache, first-exec costs
actlog-storm --execs 100 --exec $exe >/dev/null

r=1
while [ $r -le "$rounds" ]; do
	storm none "$r" 0 || exit 1
	d=/tmp/actlogd-$r
	mkdir -p $d
	actlogd --foreground --config /dev/null --state-dir $d/state --socket $d/ctl.sock --no-upload \
		--input-source none --proc-source bpf >$d/log 2>&1 &
	apid=$!
	i=0
	while ! actlogctl --socket $d/ctl.sock status --json >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 1200 ] || { say "actlogd did not start"; tail $d/log >&2; exit 1; }
		sleep 0.1
	done
	sleep 5 # start-up work (sysinfo, first records) is slow under TCG
	storm actlogd_bpf "$r" $apid $d/state/spool/*.seg || exit 1
	kill -TERM $apid
	wait $apid
	seen=$(actlogctl --state-dir $d/state spool dump | grep '"type":"process"' | grep -c "\"exe\":\"$exe\"")
	echo "{\"config\":\"actlogd_bpf\",\"round\":$r,\"seen_execs\":$seen}" >>/out/seen.ndjson
	r=$((r + 1))
done

say "starting execsnoop (it compiles its program first)"
start=$(date +%s)
execsnoop-bpfcc >/tmp/execsnoop.out 2>/tmp/execsnoop.err &
epid=$!
i=0
while ! grep -q PCOMM /tmp/execsnoop.out 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 6000 ] || ! kill -0 $epid 2>/dev/null; then
		say "execsnoop did not start:"
		cat /tmp/execsnoop.err >&2
		jq -n -c --arg e "$(tail -n 5 /tmp/execsnoop.err)" '{error: ("execsnoop did not start: " + $e)}' >/out/execsnoop-error.json
		break
	fi
	sleep 0.1
done
ready=$(($(date +%s) - start))

# idle: with execsnoop running, start actlogd and the two bpftrace
# one-liners too; nothing else runs in the VM. CPU, wake-ups (context
# switches of every thread) and resident memory over IDLE_S seconds.
idle_s=${IDLE_S:-60}
mkdir -p /tmp/idle
actlogd --foreground --config /dev/null --state-dir /tmp/idle/state --socket /tmp/idle/ctl.sock \
	--no-upload --input-source bpf --proc-source bpf >/tmp/idle/actlogd.log 2>&1 &
ipid=$!
bpftrace -e 'tracepoint:sched:sched_process_exec { printf("exec %d %d %d %s %s\n", pid, curtask->real_parent->tgid, uid, comm, str(args->filename)); }
tracepoint:sched:sched_process_exit /pid == tid/ { printf("exit %d %d %d %s %d\n", pid, curtask->real_parent->tgid, uid, comm, curtask->exit_code); }' \
	>/tmp/idle/bt-record.out 2>&1 &
bpid1=$!
bpftrace -e 'tracepoint:sched:sched_process_exec { @exec = count(); }
tracepoint:sched:sched_process_exit /pid == tid/ { @exit = count(); }' >/tmp/idle/bt-count.out 2>&1 &
bpid2=$!
i=0
while [ $i -lt 3000 ]; do
	grep -q Attaching /tmp/idle/bt-record.out && grep -q Attaching /tmp/idle/bt-count.out &&
		actlogctl --socket /tmp/idle/ctl.sock status --json >/dev/null 2>&1 && break
	sleep 0.2
	i=$((i + 1))
done
sleep 10
switches() { cat /proc/"$1"/task/*/status | awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {s += $2} END {print s + 0}'; }
rss() { awk '/^VmRSS:/ {print $2}' /proc/"$1"/status; }
: >/out/idle.ndjson
for p in $ipid $epid $bpid1 $bpid2; do echo "$p $(ticks $p 2>/dev/null) $(switches $p 2>/dev/null)" >>/tmp/idle/before; done
sleep "$idle_s"
for p in $ipid $epid $bpid1 $bpid2; do echo "$p $(ticks $p 2>/dev/null) $(switches $p 2>/dev/null) $(rss $p 2>/dev/null)" >>/tmp/idle/after; done
for pair in actlogd:$ipid execsnoop:$epid bpftrace_record:$bpid1 bpftrace_count:$bpid2; do
	name=${pair%%:*} p=${pair#*:}
	b=$(grep "^$p [0-9]* [0-9]*" /tmp/idle/before) a=$(grep "^$p [0-9]* [0-9]* [0-9]*" /tmp/idle/after)
	[ -n "$b" ] && [ -n "$a" ] || { say "idle: $name was not running"; continue; }
	t0=$(echo "$b" | awk '{print $2}') s0=$(echo "$b" | awk '{print $3}')
	t1=$(echo "$a" | awk '{print $2}') s1=$(echo "$a" | awk '{print $3}') r1=$(echo "$a" | awk '{print $4}')
	jq -n -c --arg n "$name" --argjson t "$((t1 - t0))" --argjson s "$((s1 - s0))" --argjson rss "${r1:-0}" \
		--argjson hz "$hz" --argjson secs "$idle_s" \
		'{key: $n, value: {cpu_pct_of_core: ($t / $hz / $secs * 100 * 10000 | round / 10000),
		  wakeups_per_s: ($s / $secs * 100 | round / 100), rss_mib: ($rss / 1024 * 10 | round / 10)}}' >>/out/idle.ndjson
done
kill -TERM $ipid
kill -INT $bpid1 $bpid2
wait $ipid $bpid1 $bpid2
say "idle: $(cat /out/idle.ndjson | tr '\n' ' ')"

if kill -0 $epid 2>/dev/null; then
	sleep 1
	r=1
	while [ $r -le "$rounds" ]; do
		before=$(grep -c " $exe" /tmp/execsnoop.out)
		storm execsnoop "$r" $epid /tmp/execsnoop.out || exit 1
		after=$(grep -c " $exe" /tmp/execsnoop.out)
		echo "{\"config\":\"execsnoop\",\"round\":$r,\"seen_execs\":$((after - before))}" >>/out/seen.ndjson
		r=$((r + 1))
	done
	kill -TERM $epid # a background job of sh ignores SIGINT, and so does python then
	wait $epid
	r=1
	while [ $r -le "$rounds" ]; do
		storm none "$((rounds + r))" 0 || exit 1
		r=$((r + 1))
	done
fi
lost=$(cat /tmp/execsnoop.out /tmp/execsnoop.err | awk '/[Ll]ost [0-9]+ samples/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i} END {print s + 0}')
jq -s -c --argjson n "$n" --argjson rounds "$rounds" --arg kernel "$(uname -r)" \
	--argjson ready "$ready" --argjson lost "$lost" --slurpfile seen /out/seen.ndjson \
	--slurpfile idle /out/idle.ndjson --argjson idle_s "$idle_s" '
	def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def r3: . * 1000 | round / 1000;
	(map(select(.config == "none") | .wall_s) | median) as $base
	| {kernel: $kernel, execs_per_run: $n, rounds: $rounds, execsnoop_start_s: $ready,
	   idle: {seconds: $idle_s, configs: ($idle | from_entries)},
	   baseline_execs_per_s: (map(select(.config == "none") | .execs_per_s) | median | round),
	   configs: (group_by(.config) | map(.[0].config as $c | {key: $c, value: {
		slowdown: (map(.wall_s / $base) | median | r3),
		slowdown_min: (map(.wall_s / $base) | min | r3),
		slowdown_max: (map(.wall_s / $base) | max | r3),
		cpu_s_per_10k_execs: (map(.collector_cpu_s / .execs * 10000) | median | r3),
		events_expected: (map(.execs) | add),
		events_seen: ([$seen[] | select(.config == $c) | .seen_execs] | add),
		events_missing: ((map(.execs) | add) - ([$seen[] | select(.config == $c) | .seen_execs] | add // 0)),
		lost_reported: (if $c == "execsnoop" then $lost else 0 end)}}) | from_entries)}' \
	/out/runs.ndjson >/out/vmstorm.json
[ ! -f /out/execsnoop-error.json ] || exit 1
