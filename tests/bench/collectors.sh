# tests/bench/collectors.sh - start, drain, measure and stop the process
# collectors that scripts/bench.sh compares; sourced by it (bash).
#
# Every collector NAME has these functions, each taking the collector's work
# directory D:
#   c_NAME_start D    start it; wait until it records; set COLL_PIDS (the
#                     processes whose CPU, wake-ups and memory are its cost)
#   c_NAME_progress D a number that stops growing when it has caught up
#   c_NAME_tolerance  how much it may still grow in a second then (the
#                     rest of the machine's programs)
#   c_NAME_stop D     stop it (and undo what its start changed)
#   c_NAME_seen D     after stop: events recorded that belong to the storm
#                     (for counting collectors: every event counted)
#   c_NAME_lost D     after stop: events the collector itself says it lost
#   c_NAME_per_exec   events expected per exec of the storm: 2 (exec and
#                     exit) or 1 (exec only)
# Variables used: BUILD (actlogd, actlogctl), STORM_COMM (comm of the storm's
# program), STORM_EXE (its path).

BPFTRACE=${BPFTRACE:-bpftrace}

# cpu_ticks PID...: user + system clock ticks of the processes (all threads);
# a process that is gone counts 0
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# ctx_switches PID...: voluntary + involuntary context switches of every
# thread: each time a thread was woken and ran, it was switched in once
ctx_switches() {
	local p t=0 v
	for p in "$@"; do
		v=$(cat /proc/"$p"/task/*/status 2>/dev/null |
			awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {s += $2} END {print s + 0}')
		t=$((t + v))
	done
	echo "$t"
}

# rss_kib PID...: resident memory, KiB, summed
rss_kib() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# until_stable SECONDS TOLERANCE CMD...: poll CMD's output (a number) every
# 0.2 s until it has grown by at most TOLERANCE over the last second (or
# SECONDS pass); prints the last value. The tolerance absorbs the rest of
# the machine, which keeps running programs while a collector drains.
until_stable() {
	local max=$1 tol=$2 v i
	local -a hist=()
	shift 2
	for ((i = 0; i < max * 5; i++)); do
		v=$("$@")
		hist+=("${v:-0}")
		if [ ${#hist[@]} -gt 5 ] && [ $((v - hist[${#hist[@]} - 6])) -le "$tol" ]; then
			break
		fi
		sleep 0.2
	done
	echo "$v"
}

# ---- actlogd, BPF source and netlink source ----
_actlogd_start() { # D SOURCE
	local d=$1 i
	mkdir -p "$d"
	"$BUILD/actlogd" --foreground --config /dev/null --state-dir "$d/state" \
		--socket "$d/ctl.sock" --no-upload --input-source none --proc-source "$2" \
		>>"$d/actlogd.log" 2>&1 &
	echo $! >"$d/pid"
	COLL_PIDS=$!
	for ((i = 0; i < 200; i++)); do
		"$BUILD/actlogctl" --socket "$d/ctl.sock" status --json >/dev/null 2>&1 && return 0
		kill -0 "$COLL_PIDS" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: actlogd --proc-source $2 did not start; its log:" >&2
	tail -n 20 "$d/actlogd.log" >&2
	return 1
}
_actlogd_status() { "$BUILD/actlogctl" --socket "$1/ctl.sock" status --json 2>/dev/null; }
_actlogd_seen() { # D: process records of the storm's program in the spool
	"$BUILD/actlogctl" --state-dir "$1/state" spool dump 2>/dev/null |
		grep -F '"type":"process"' | grep -cF "\"comm\":\"$STORM_COMM\""
}
_actlogd_seen_all() { # D: all process records (exec/exit) the daemon handled
	_actlogd_status "$1" | jq '.totals.execs + .totals.exits'
}
# read after stop, from the status saved just before it
_actlogd_lost() { jq '.drops.proc_events + .drops.record_errors' "$1/status.json"; }
_actlogd_stop() {
	local p
	p=$(cat "$1/pid" 2>/dev/null) || return 0
	_actlogd_status "$1" >"$1/status.json"
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rm -f "$1/pid"
}

# bytes in the spool: grows while records are written
_actlogd_spooled() { cat "$1"/state/spool/*.seg 2>/dev/null | wc -c; }

c_actlogd_bpf_start() { _actlogd_start "$1" bpf; }
c_actlogd_bpf_seen() { _actlogd_seen "$1"; }
c_actlogd_bpf_progress() { _actlogd_spooled "$1"; }
c_actlogd_bpf_lost() { _actlogd_lost "$1"; }
c_actlogd_bpf_stop() { _actlogd_stop "$1"; }
c_actlogd_bpf_per_exec() { echo 2; }
c_actlogd_bpf_tolerance() { echo 32768; } # spool bytes: ~100 records

# The proc connector reports pids only; /proc of a process this short-lived
# is often gone when the event is read, so some records have comm (and exe)
# null. Counted: records with the storm's comm, records whose parent is one
# of the storm's workers, and execs of processes that were already gone.
c_actlogd_netlink_start() { _actlogd_start "$1" netlink; }
c_actlogd_netlink_seen() {
	"$BUILD/actlogctl" --state-dir "$1/state" spool dump 2>/dev/null |
		grep -F '"type":"process"' | jq -s --arg c "$STORM_COMM" '
		([.[] | select(.comm == $c) | .ppid] | unique) as $workers
		| map(select(.comm == $c or (.ppid as $p | $workers | index($p))
			or (.comm == null and .event == "exec"))) | length'
}
c_actlogd_netlink_progress() { _actlogd_spooled "$1"; }
c_actlogd_netlink_lost() { _actlogd_lost "$1"; }
c_actlogd_netlink_stop() { _actlogd_stop "$1"; }
c_actlogd_netlink_per_exec() { echo 2; }
c_actlogd_netlink_tolerance() { echo 32768; }

# ---- bpftrace ----
# The recording one-liner prints what actlog records: pid, parent, uid,
# comm and path on exec; pid, parent, uid, comm and status on the exit of a
# process (its last thread... approximated by the leader thread).
BT_RECORD='tracepoint:sched:sched_process_exec { printf("exec %d %d %d %s %s\n", pid, curtask->real_parent->tgid, uid, comm, str(args->filename)); }
tracepoint:sched:sched_process_exit /pid == tid/ { printf("exit %d %d %d %s %d\n", pid, curtask->real_parent->tgid, uid, comm, curtask->exit_code); }'
# The floor: count in the kernel, print only at the end.
BT_COUNT='tracepoint:sched:sched_process_exec { @exec = count(); }
tracepoint:sched:sched_process_exit /pid == tid/ { @exit = count(); }'

_bt_start() { # D PROGRAM
	local d=$1 i
	mkdir -p "$d"
	"$BPFTRACE" -o "$d/out.txt" -e "$2" 2>"$d/err.txt" &
	echo $! >"$d/pid"
	COLL_PIDS=$!
	for ((i = 0; i < 300; i++)); do
		if grep -q '^Attaching' "$d/out.txt" 2>/dev/null; then
			sleep 1 # attaching is announced before it is done
			return 0
		fi
		kill -0 "$COLL_PIDS" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: bpftrace did not start:" >&2
	cat "$d/err.txt" >&2
	return 1
}
_bt_stop() {
	local p
	p=$(cat "$1/pid" 2>/dev/null) || return 0
	kill -INT "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rm -f "$1/pid"
}
# bpftrace reports perf-buffer losses as "Lost N events"
_bt_lost() { cat "$1/out.txt" "$1/err.txt" 2>/dev/null | awk '/Lost [0-9]+ events/ {s += $2} END {print s + 0}'; }

c_bpftrace_record_start() { _bt_start "$1" "$BT_RECORD"; }
c_bpftrace_record_seen() { grep -c " $STORM_COMM " "$1/out.txt" 2>/dev/null || true; }
c_bpftrace_record_progress() { wc -l <"$1/out.txt"; }
c_bpftrace_record_lost() { _bt_lost "$1"; }
c_bpftrace_record_stop() { _bt_stop "$1"; }
c_bpftrace_record_per_exec() { echo 2; }
c_bpftrace_record_tolerance() { echo 100; } # lines

c_bpftrace_count_start() { _bt_start "$1" "$BT_COUNT"; }
# counts are printed when it stops: seen is read after c_*_stop
c_bpftrace_count_seen() { awk '/^@(exec|exit):/ {s += $2} END {print s + 0}' "$1/out.txt"; }
c_bpftrace_count_progress() { echo 0; }
c_bpftrace_count_lost() { _bt_lost "$1"; }
c_bpftrace_count_stop() { _bt_stop "$1"; }
c_bpftrace_count_per_exec() { echo 2; }
c_bpftrace_count_tolerance() { echo 0; }

# ---- auditd with an execve rule ----
# Its own configuration in D (log file there, no plugins), Debian's default
# backlog (-b 8192), one rule: -a always,exit -F arch=b64 -S execve. The
# kernel's kauditd thread formats and sends the records: its CPU counts too.
AUDIT_KEY=actlogbench
_audit_lost() { auditctl -s 2>/dev/null | awk '$1 == "lost" {print $2}'; }
c_auditd_start() {
	local d=$1 i kpid
	mkdir -p "$d/conf" "$d/plugins"
	cat >"$d/conf/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $d/audit.log
log_group = root
log_format = RAW
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 0
max_log_file_action = IGNORE
num_logs = 1
priority_boost = 4
name_format = NONE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
use_libwrap = no
tcp_listen_queue = 5
tcp_max_per_addr = 1
tcp_client_max_idle = 0
transport = TCP
distribute_network = no
q_depth = 2000
overflow_action = IGNORE
max_restarts = 10
plugin_dir = $d/plugins
end_of_event_timeout = 2
EOF
	auditctl -s | awk '$1 == "enabled" {print $2}' >"$d/enabled-before"
	auditctl -D >/dev/null
	auditctl -b 8192 >/dev/null
	auditd -n -c "$d/conf" >"$d/auditd.out" 2>&1 &
	echo $! >"$d/pid"
	for ((i = 0; i < 100; i++)); do
		[ "$(auditctl -s | awk '$1 == "pid" {print $2}')" = "$(cat "$d/pid")" ] && break
		sleep 0.1
	done
	if [ "$i" -ge 100 ]; then
		echo "bench: auditd did not register with the kernel:" >&2
		cat "$d/auditd.out" >&2
		return 1
	fi
	auditctl -a always,exit -F arch=b64 -S execve -k "$AUDIT_KEY" >/dev/null
	auditctl -e 1 >/dev/null
	_audit_lost >"$d/lost-before"
	kpid=$(pgrep -x kauditd | head -n 1)
	COLL_PIDS="$(cat "$d/pid") $kpid"
	sleep 0.5
}
c_auditd_seen() {
	grep '^type=SYSCALL' "$1/audit.log" 2>/dev/null | grep -F "key=\"$AUDIT_KEY\"" |
		grep -cF "exe=\"$STORM_EXE\"" || true
}
c_auditd_progress() { stat -c %s "$1/audit.log" 2>/dev/null || echo 0; }
c_auditd_lost() { echo $(($(_audit_lost) - $(cat "$1/lost-before"))); }
c_auditd_stop() {
	local d=$1 p
	p=$(cat "$d/pid" 2>/dev/null) || return 0
	auditctl -D >/dev/null 2>&1
	auditctl -e "$(cat "$d/enabled-before" 2>/dev/null || echo 0)" >/dev/null 2>&1
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rm -f "$d/pid"
}
c_auditd_per_exec() { echo 1; }
c_auditd_tolerance() { echo 65536; } # log bytes: ~60 execs
