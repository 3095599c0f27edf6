#!/usr/bin/env bash
# Process tracing on the host: actlogd with the BPF source, then with the
# netlink proc connector, records the exec and exit of spawned programs with
# the right pid, ppid, exe and exit code.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
need jq

probe=$T/actlog-probe-$$
cp /bin/bash "$probe"
pyprobe=$T/actlog-pyprobe
cp /usr/bin/python3 "$pyprobe"

for src in bpf netlink; do
	d=$T/$src
	if ! agent_start "$d" --proc-source "$src" --input-source none; then
		fail "$src: actlogd starts"
		continue
	fi
	got=$("$BUILD/actlogctl" --socket "$d/ctl.sock" status --json | jq -r .sources.proc)
	check_eq "$src: status reports the process source" "$got" "$src"

	"$probe" -c 'sleep 0.3; exit 7' &
	p1=$!
	"$probe" -c 'sleep 0.3; kill -9 $$' &
	p2=$!
	"$pyprobe" -c 'import threading, time
ts = [threading.Thread(target=time.sleep, args=(0.2,)) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]'
	wait $p1; rc1=$?
	wait $p2; rc2=$?
	check_eq "$src: probe exit status" "$rc1/$rc2" "7/137"
	sleep 0.5
	agent_stop
	check_eq "$src: actlogd exits 0 on SIGTERM" "$?" 0
	spool_dump "$d" >"$d/dump.ndjson"
	check "$src: spool dump is valid NDJSON" jq -e . "$d/dump.ndjson" >/dev/null

	sel() { jq -c --argjson pid "$1" --arg ev "$2" \
		'select(.type=="process" and .pid==$pid and .event==$ev)' "$d/dump.ndjson"; }
	for pid in $p1 $p2; do
		n=$(sel "$pid" exec | wc -l)
		check_eq "$src: one exec record for pid $pid" "$n" 1
		n=$(sel "$pid" exit | wc -l)
		check_eq "$src: one exit record for pid $pid" "$n" 1
		check_eq "$src: exec exe for $pid" "$(sel "$pid" exec | jq -r .exe)" "$probe"
		check_eq "$src: exec ppid for $pid" "$(sel "$pid" exec | jq -r .ppid)" "$$"
		check_eq "$src: exit ppid for $pid" "$(sel "$pid" exit | jq -r .ppid)" "$$"
		check_eq "$src: uid for $pid" "$(sel "$pid" exec | jq -r .uid)" "$(id -u)"
		check_eq "$src: comm for $pid" "$(sel "$pid" exec | jq -r .comm)" "$(basename "$probe" | cut -c1-15)"
		check "$src: host_id and ts on $pid" test -n "$(sel "$pid" exec | jq -r 'select(.host_id|length==32) | .ts')"
	done
	check_eq "$src: exit code 7" "$(sel "$p1" exit | jq -r .exit_code)" 7
	check_eq "$src: killed by signal 9" "$(sel "$p2" exit | jq -r '"\(.exit_code)/\(.signal)"')" "137/9"
	# netlink: the CPU time is null when the parent reaped the process
	# before /proc could be read (never a false 0)
	check "$src: exit carries run and CPU time" jq -se --argjson pid "$p1" \
		'map(select(.type=="process" and .pid==$pid and .event=="exit")) | length == 1 and
		 (.[0].run_s >= 0.25 and .[0].run_s < 30 and
		  (.[0].cpu_s >= 0 or ($src == "netlink" and .[0].cpu_s == null)))' --arg src "$src" "$d/dump.ndjson"
	# threads are filtered in the kernel: four threads, one exec and one exit
	n=$(jq -c 'select(.type=="process" and .comm=="actlog-pyprobe")' "$d/dump.ndjson" | wc -l)
	check_eq "$src: a multi-threaded process gives one exec and one exit" "$n" 2
	check "$src: no command line recorded" bash -c "! grep -q 'sleep 0.3' '$d/dump.ndjson'"
	# an interval boundary (wall-clock aligned) may fall in this short run and
	# add an "interval" agent record between the two
	check_eq "$src: agent start and stop records" \
		"$(jq -r 'select(.type=="agent" and .event != "interval") | .event' "$d/dump.ndjson" | tr '\n' ' ')" "start stop "
done
finish
