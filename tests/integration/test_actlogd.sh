#!/usr/bin/env bash
# actlogd as a sysadmin meets it: options and settings errors, SIGHUP
# reload, the spool cap with counted drops, and make install.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
need jq
ad=$BUILD/actlogd
ctl=$BUILD/actlogctl

check "--help describes the options" bash -c "'$ad' --help | grep -q -- '--input-source SRC'"
check "--version prints a version" bash -c "'$ad' --version | grep -qE '^actlogd [0-9]+\.[0-9]+'"
out=$("$ad" --interval 0 2>&1); rc=$?
check_eq "--interval 0 exits 2" "$rc" 2
check "and says why" grep -q "interval_s: '0' is not a number of seconds in \[1, 3600\]" <<<"$out"
out=$("$ad" --input-source magic 2>&1); rc=$?
check_eq "an unknown source exits 2" "$rc" 2
check "and lists the choices" grep -q "auto, bpf, evdev, none" <<<"$out"
printf 'interval_s = 5\ncolour = blue\n' >"$T/bad.conf"
out=$("$ad" --config "$T/bad.conf" 2>&1); rc=$?
check_eq "a bad settings file exits 2" "$rc" 2
check "with its line number" grep -q "bad.conf: line 2: unknown setting 'colour'" <<<"$out"
out=$("$ad" --config "$T/missing.conf" 2>&1); rc=$?
check "a named settings file that is missing is an error" test "$rc" -ne 0 -a -n "$(grep 'missing.conf' <<<"$out")"

# SIGHUP: the new interval applies from the next boundary; a bad file is refused
d=$T/hup
mkdir -p "$d"
printf 'interval_s = 2\n' >"$d/actlogd.conf"
"$ad" --config "$d/actlogd.conf" --state-dir "$d/state" --socket "$d/ctl.sock" --no-upload \
	--input-source none --proc-source none >"$d/actlogd.log" 2>&1 &
AGENT_PID=$!
cleanup_add "kill -9 $AGENT_PID"
wait_for 20 "$ctl" --socket "$d/ctl.sock" status --json >/dev/null 2>&1
check_eq "interval from the file" "$("$ctl" --socket "$d/ctl.sock" status --json | jq .interval.seconds)" 2
printf 'interval_s = 3\n' >"$d/actlogd.conf"
kill -HUP "$AGENT_PID"
check "after SIGHUP and a boundary the interval is 3 s" \
	wait_for 8 bash -c "[ \"\$('$ctl' --socket '$d/ctl.sock' status --json | jq .interval.seconds)\" = 3 ]"
printf 'interval_s = lots\n' >"$d/actlogd.conf"
kill -HUP "$AGENT_PID"
sleep 0.5
check "a bad file on SIGHUP keeps the settings" grep -q "reload failed; keeping the current settings" "$d/actlogd.log"
check "and the daemon lives on" "$ctl" --socket "$d/ctl.sock" status --json >/dev/null
agent_stop
check_eq "exit 0 after reloads" "$?" 0

# the spool cap: oldest segments go, the loss is counted and reported
d=$T/cap
agent_start "$d" --spool-max-bytes 1M --proc-source auto --input-source none || fail "actlogd starts"
( for i in $(seq 1 4000); do /bin/true; done )
sleep 0.5
s=$("$ctl" --socket "$d/ctl.sock" status --json)
check "spool stays near its cap" jq -e '.spool.bytes <= 2.2 * 1048576' <<<"$s"
check "dropped records are counted" jq -e '.drops.spool_records > 0' <<<"$s"
agent_stop
spool_dump "$d" >"$d/dump"
check "the stop record reports the drops" jq -se '[.[]|select(.type=="agent" and .event=="stop")][0].drops.spool_records > 0' "$d/dump"
check "the newest records survived" jq -se '.[-1].type=="agent" and .[-1].event=="stop"' "$d/dump"

# the sockets' modes do not depend on the umask actlogd is started with (the
# moment of bind() itself is checked in tests/unit/test_sockets.c)
d=$T/modes
grp=$(getent group daemon >/dev/null && echo daemon || id -gn)
um=$(umask)
umask 000
agent_start "$d" --socket-group "$grp" --session-socket "$d/session.sock" \
	--input-source none --proc-source none || fail "actlogd starts under umask 000"
umask "$um"
check_eq "control socket: 0660, group $grp" "$(stat -c %a:%G "$d/ctl.sock")" "660:$grp"
check_eq "session socket: 0666" "$(stat -c %a "$d/session.sock")" 666
agent_stop

# make install honours DESTDIR and PREFIX
make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$T/root" PREFIX=/usr >"$T/install.log" 2>&1
check_eq "make install succeeds" "$?" 0
for f in usr/sbin/actlogd usr/bin/actlogctl usr/lib/systemd/system/actlogd.service \
	usr/share/man/man8/actlogd.8 usr/share/man/man8/actlogctl.8 usr/share/doc/actlog/README.md \
	usr/share/doc/actlog/ARCHITECTURE.md; do
	check "installed $f" test -s "$T/root/$f"
done
check "the installed unit runs the installed binary" \
	grep -qx "ExecStart=/usr/sbin/actlogd --foreground" "$T/root/usr/lib/systemd/system/actlogd.service"
finish
