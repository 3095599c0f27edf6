# shellcheck shell=sh
# tests/vm/guest_input.sh - guest half of tests/vm/test_input.sh; runs inside
# the VM (busybox sh) through tests/vm/run.sh. It only drives actlogd and
# collects evidence under /out; every assertion is made on the host.
#
# usage: guest_input.sh SOURCE KEYS CLICKS MOVES SCROLLS TEXT
#   SOURCE  bpf or evdev (actlogd --input-source)
#
# /out/count/  phase 1: one actlogd run, K/C/M/S injected through a uinput
#              device on a USB bus id (it must still count as synthetic),
#              SIGTERM, then the spool dump.
# /out/priv/   phase 2: a second actlogd run; TEXT is typed; while actlogd
#              still runs its status, metrics and every BPF map are dumped;
#              then SIGTERM and the spool. Everything the agent wrote or
#              reported goes under /out/priv/agent/ (the host greps it for
#              TEXT); the test's own notes stay beside it.
# Each phase dir: status-before.json, inject.json/.rc/.err, actlogd.rc,
# spool.ndjson/spool.rc. Exit status: 0 when everything could be collected,
# else 1 with the reason on stderr.
set -u
src=$1 keys=$2 clicks=$3 moves=$4 scrolls=$5 text=$6
# evdev readers open a new device after inotify tells them: give them time
settle=2000

say() { echo "guest_input[$src]: $*" >&2; }

# start_agent DIR NAME: start actlogd with state and socket of its own and
# wait until its control socket answers. Sets pid, state, sock.
start_agent() {
	d=$1
	state=/tmp/$2/state
	sock=/run/actlog-$2.sock
	mkdir -p "$state" "$d/agent"
	actlogd --foreground --state-dir "$state" --interval 3600 --socket "$sock" --no-upload \
		--input-source "$src" --proc-source auto -v >"$d/agent/actlogd.log" 2>&1 &
	pid=$!
	i=0
	# BPF verification under TCG takes a while: allow two minutes
	while [ $i -lt 1200 ]; do
		if actlogctl --socket "$sock" status --json >"$d/status-before.json" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			echo $? >"$d/actlogd.rc"
			say "actlogd exited $(cat "$d/actlogd.rc") before its socket answered; log:"
			tail -n 20 "$d/agent/actlogd.log" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	say "actlogd's socket did not answer within 120 s"
	return 1
}

# stop_agent DIR: SIGTERM, wait (at most 60 s), record the exit status,
# dump the spool.
stop_agent() {
	d=$1
	kill -TERM "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "actlogd ignored SIGTERM for 60 s; killing it"
		kill -KILL "$pid"
	fi
	wait "$pid"
	echo $? >"$d/actlogd.rc"
	actlogctl --state-dir "$state" spool dump >"$d/spool.ndjson" 2>"$d/spool.err"
	echo $? >"$d/spool.rc"
}

inject() { # DIR ARGS...: run actlog-inject, keep its JSON and exit status
	d=$1
	shift
	actlog-inject --settle-ms "$settle" --json "$@" >"$d/inject.json" 2>"$d/inject.err"
	echo $? >"$d/inject.rc"
}

for b in actlogd actlogctl actlog-inject bpftool; do
	command -v $b >/dev/null || { say "$b is not in the VM (not built?)"; exit 1; }
done

# ---- phase 1: counting ----
c=/out/count
mkdir -p $c
start_agent $c count || exit 1
inject $c --keys "$keys" --clicks "$clicks" --moves "$moves" --scrolls "$scrolls" --bus usb
actlogctl --socket "$sock" status --json >$c/status-after.json 2>&1
stop_agent $c

# ---- phase 2: privacy ----
p=/out/priv
a=$p/agent
mkdir -p $p
start_agent $p priv || exit 1
inject $p --type "$text" --name actlog-privacy
actlogctl --socket "$sock" status --json >$a/status.json 2>&1
actlogctl --socket "$sock" status >$a/status.txt 2>&1
actlogctl --socket "$sock" metrics >$a/metrics.txt 2>&1
mkdir -p $a/maps
bpftool -j prog show >$a/maps/progs.json 2>&1
bpftool map show >$p/maps.txt 2>&1
for id in $(sed -n 's/^\([0-9][0-9]*\): .*/\1/p' $p/maps.txt); do
	bpftool map dump id "$id" >"$a/maps/$id.txt" 2>&1
	echo $? >"$p/map-$id.rc"
	bpftool -j map dump id "$id" >"$a/maps/$id.json" 2>&1
done
stop_agent $p
cp -a "$state" $a/state
exit 0
