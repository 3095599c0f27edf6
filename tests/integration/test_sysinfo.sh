#!/usr/bin/env bash
# The sysinfo record of the real agent against this machine: memory from
# /proc/meminfo (MemTotal exact), os-release, uname, hostname, boot time,
# CPUs, every real filesystem against df; a change record when the
# hostname changes (the agent in its own UTS namespace) and when a
# filesystem is mounted (its own mount namespace); the settings key; and
# sysinfo.interval_s applied live from the server's policy, with the
# periodic record it schedules.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
need jq
need df
need unshare
need nsenter
need mkfs.ext4
ctl=$BUILD/actlogctl

sysinfo_records() { spool_dump "$1" | jq -c 'select(.type == "sysinfo")'; }

# --- the start record against the machine ---
d=$T/a
printf 'sysinfo_interval_s = 86400\n' >"$T/si.conf"
# free space moves while others write: df just before and just after the
# record brackets what the agent saw
df -B1 --output=target,avail >"$T/df.before"
agent_start "$d" --config "$T/si.conf" --interval 1 --proc-source none || fail "actlogd starts"
check "a sysinfo record is written at start" wait_for 10 bash -c "'$ctl' --state-dir '$d/state' spool dump | grep -q '\"type\":\"sysinfo\"'"
df -B1 --output=target,avail >"$T/df.after"
r=$(sysinfo_records "$d" | head -n 1)
echo "$r" | jq . | head -n 80
check_eq "reason start" "$(jq -r .reason <<<"$r")" start
check_eq "common head: v" "$(jq -r .v <<<"$r")" 1
check "common head: host_id is 32 hex" jq -e '.host_id | test("^[0-9a-f]{32}$")' <<<"$r"
if [ -r /etc/machine-id ]; then
	check "the raw machine id is not in the record" not grep -qi "$(cat /etc/machine-id)" <<<"$r"
fi
check "no machine_id field: host_id names the machine" jq -e 'has("machine_id") | not' <<<"$r"
check "user is a string or null" jq -e '.user == null or (.user | type == "string")' <<<"$r"

mem_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
check_eq "memory.total is MemTotal exactly" "$(jq .memory.total <<<"$r")" "$(($(mem_kb MemTotal) * 1024))"
check_eq "memory.swap_total is SwapTotal" "$(jq .memory.swap_total <<<"$r")" "$(($(mem_kb SwapTotal) * 1024))"
avail=$(jq .memory.available <<<"$r")
now_avail=$(($(mem_kb MemAvailable) * 1024))
check "memory.available is near MemAvailable (256 MiB)" \
	test $((avail > now_avail ? avail - now_avail : now_avail - avail)) -lt $((256 << 20))

osr=/etc/os-release
[ -r "$osr" ] || osr=/usr/lib/os-release
(
	. "$osr"
	check_eq "os.name is NAME" "$(jq -r .os.name <<<"$r")" "${NAME:-Linux}"
	check_eq "os.id is ID" "$(jq -r .os.id <<<"$r")" "${ID:-linux}"
	check_eq "os.version_id is VERSION_ID" "$(jq -r '.os.version_id // ""' <<<"$r")" "${VERSION_ID:-}"
	check_eq "os.version is VERSION" "$(jq -r '.os.version // ""' <<<"$r")" "${VERSION:-}"
	check_eq "os.pretty_name is PRETTY_NAME" "$(jq -r .os.pretty_name <<<"$r")" "${PRETTY_NAME:-Linux}"
) || _fails=$((_fails + 1))
check_eq "kernel.release is uname -r" "$(jq -r .kernel.release <<<"$r")" "$(uname -r)"
check_eq "kernel.version is uname -v" "$(jq -r .kernel.version <<<"$r")" "$(uname -v)"
check_eq "kernel.arch is uname -m" "$(jq -r .kernel.arch <<<"$r")" "$(uname -m)"
check_eq "hostname is uname -n" "$(jq -r .hostname <<<"$r")" "$(uname -n)"
check_eq "hostname is hostname(1)" "$(jq -r .hostname <<<"$r")" "$(hostname)"
btime=$(awk '$1 == "btime" { print $2 }' /proc/stat)
check_eq "boot_time is /proc/stat btime" "$(jq -r .boot_time <<<"$r")" "$(date -u -d "@$btime" +%Y-%m-%dT%H:%M:%S.000Z)"
check_eq "cpu.threads counts /proc/cpuinfo processors" "$(jq .cpu.threads <<<"$r")" "$(grep -c '^processor' /proc/cpuinfo)"
check_eq "cpu.online is the online CPU count" "$(jq .cpu.online <<<"$r")" "$(getconf _NPROCESSORS_ONLN)"
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sort -u | paste -sd, | sed 's/,/, /g')
if [ -n "$model" ]; then
	check_eq "cpu.model is the model name" "$(jq -r .cpu.model <<<"$r")" "$model"
fi
check "cpu cores within [sockets, threads]" jq -e '.cpu.cores >= .cpu.sockets and .cpu.cores <= .cpu.threads' <<<"$r"
read -r l1 l5 l15 _ </proc/loadavg
check "cpu.load is three numbers near /proc/loadavg" jq -e --argjson a "$l1" --argjson b "$l15" \
	'(.cpu.load | length) == 3 and ((.cpu.load[0] - $a) | fabs) < 2 and ((.cpu.load[2] - $b) | fabs) < 1' <<<"$r"
check "cpu.usage_pct over the window since boot is a percentage" \
	jq -e '.cpu.usage_pct >= 0 and .cpu.usage_pct <= 100 and .cpu.usage_window_s > 0' <<<"$r"

# filesystems: each against df and stat -f; df's real filesystems are listed
n=$(jq '.filesystems | length' <<<"$r")
check "at least one filesystem" test "$n" -ge 1
check "the root filesystem is listed" jq -e '[.filesystems[].mount] | index("/")' <<<"$r"
for i in $(seq 0 $((n - 1))); do
	f=$(jq -c ".filesystems[$i]" <<<"$r")
	m=$(jq -r .mount <<<"$f")
	read -r size avail fstype < <(df -B1 --output=size,avail,fstype "$m" | tail -n 1)
	check_eq "$m: total is df's size" "$(jq .total <<<"$f")" "$size"
	check_eq "$m: fstype is df's" "$(jq -r .fstype <<<"$f")" "$fstype"
	ravail=$(jq .avail <<<"$f")
	a0=$(awk -v m="$m" '$1 == m { print $2 }' "$T/df.before")
	a1=$(awk -v m="$m" '$1 == m { print $2 }' "$T/df.after")
	lo=$((a0 < a1 ? a0 : a1)) hi=$((a0 > a1 ? a0 : a1))
	check "$m: avail between df's before and after ($lo..$hi, 16 MiB slack)" \
		test "$ravail" -ge $((lo - (16 << 20))) -a "$ravail" -le $((hi + (16 << 20)))
	read -r blocks bsize < <(stat -f -c '%b %S' "$m")
	check_eq "$m: total is stat -f's blocks × size" "$(jq .total <<<"$f")" "$((blocks * bsize))"
	check "$m: free >= avail" jq -e '.free >= .avail' <<<"$f"
done
# every block-device filesystem df shows is in the record
while read -r src target; do
	case $src in /dev/loop*) continue ;; esac
	check "df's $target ($src) is in the record" jq -e --arg m "$target" '[.filesystems[].mount] | index($m)' <<<"$r"
done < <(df --output=source,target -x tmpfs -x devtmpfs -x squashfs -x overlay | tail -n +2 | awk '$1 ~ /^\/dev\//')
check "pseudo filesystems are not listed" \
	jq -e '[.filesystems[].fstype] | all(. != "proc" and . != "sysfs" and . != "cgroup2" and . != "devtmpfs" and . != "devpts")' <<<"$r"
check_eq "status shows the sysinfo interval" "$("$ctl" --socket "$d/ctl.sock" status --json | jq .sysinfo.interval_s)" 86400
check "text status has a sysinfo line" bash -c "'$ctl' --socket '$d/ctl.sock' status | grep -q '^sysinfo:   every 24h00m, 1 records'"
sleep 3
check_eq "nothing changed: no change record after some intervals" "$(sysinfo_records "$d" | wc -l)" 1
agent_stop
check_eq "exit 0" "$?" 0

# --- changes: hostname (own UTS namespace) and a new mount (own mount and
# pid namespaces, so that pid 1's mounts are the agent's own) ---
d=$T/ns
mkdir -p "$d"
truncate -s 16M "$T/fs.img"
mkfs.ext4 -q -F "$T/fs.img"
mkdir -p "$T/mnt"
unshare --uts --mount --pid --fork --mount-proc --propagation private \
	"$BUILD/actlogd" --config "$T/si.conf" --state-dir "$d/state" --socket "$d/ctl.sock" \
	--no-upload --interval 1 --proc-source none >>"$d/actlogd.log" 2>&1 &
U=$!
cleanup_add "kill -9 $U"
check "actlogd starts in its namespaces" wait_for 20 "$ctl" --socket "$d/ctl.sock" status --json
A=$(cat "/proc/$U/task/$U/children" | awk '{print $1}')
cleanup_add "kill -9 $A"
check "found the agent's pid" test -n "$A"
wait_for 10 bash -c "'$ctl' --state-dir '$d/state' spool dump | grep -q '\"type\":\"sysinfo\"'"
nsenter -t "$A" --uts hostname actlog-si-renamed
check "a hostname change writes a change record" wait_for 10 bash -c \
	"'$ctl' --state-dir '$d/state' spool dump | jq -se 'any(.[]; .type == \"sysinfo\" and .reason == \"change\")' >/dev/null"
c=$(sysinfo_records "$d" | jq -c 'select(.reason == "change")' | head -n 1)
check_eq "it names the hostname" "$(jq -c .changed <<<"$c")" '["hostname"]'
check_eq "and carries the new one" "$(jq -r .hostname <<<"$c")" actlog-si-renamed
check "the CPU usage window is since the start record" jq -e '.cpu.usage_window_s >= 0 and .cpu.usage_window_s < 30' <<<"$c"
check_eq "the machine's hostname is untouched" "$(hostname)" "$(uname -n)"
sleep 2.5
check_eq "reported once" "$(sysinfo_records "$d" | jq -c 'select(.reason == "change")' | wc -l)" 1
nsenter -t "$A" --mount mount -o loop "$T/fs.img" "$T/mnt"
check "a new filesystem writes a change record" wait_for 10 bash -c \
	"'$ctl' --state-dir '$d/state' spool dump | jq -se 'any(.[]; .type == \"sysinfo\" and .reason == \"change\" and .changed == [\"filesystems\"])' >/dev/null"
c=$(sysinfo_records "$d" | jq -c 'select(.reason == "change" and .changed == ["filesystems"])' | head -n 1)
f=$(jq -c --arg m "$T/mnt" '.filesystems[] | select(.mount == $m)' <<<"$c")
check_eq "the new filesystem is listed as ext4" "$(jq -r .fstype <<<"$f")" ext4
check "on its loop device" jq -e '.source | startswith("/dev/loop")' <<<"$f"
read -r blocks bsize < <(nsenter -t "$A" --mount stat -f -c '%b %S' "$T/mnt")
check_eq "with its statfs size" "$(jq .total <<<"$f")" "$((blocks * bsize))"
nsenter -t "$A" --mount umount "$T/mnt"
check "unmounting it is a change too" wait_for 10 bash -c \
	"[ \$('$ctl' --state-dir '$d/state' spool dump | jq -c 'select(.type == \"sysinfo\" and .changed == [\"filesystems\"])' | wc -l) = 2 ]"
kill -TERM "$A"
wait "$U"
check_eq "exit 0 in namespaces" "$?" 0

# --- the settings key ---
printf 'sysinfo_interval_s = 59\n' >"$T/bad.conf"
out=$("$BUILD/actlogd" --config "$T/bad.conf" 2>&1)
rc=$?
check_eq "sysinfo_interval_s below 60 exits 2" "$rc" 2
check "and says why" grep -q "sysinfo_interval_s: '59' is not a number of seconds in \[60, 86400\]" <<<"$out"
d=$T/hup
agent_start "$d" --config "$T/si.conf" --input-source none --proc-source none || fail "actlogd starts"
printf 'sysinfo_interval_s = 3600\n' >"$T/si.conf"
kill -HUP "$AGENT_PID"
check "SIGHUP applies a new sysinfo_interval_s" wait_for 5 bash -c \
	"[ \"\$('$ctl' --socket '$d/ctl.sock' status --json | jq .sysinfo.interval_s)\" = 3600 ]"
check "the next record is due within the new interval" \
	bash -c "'$ctl' --socket '$d/ctl.sock' status --json | jq -e '.sysinfo.next_in_s <= 3600'"
agent_stop

# --- the unit keeps the hostname visible and unchangeable ---
u=$ROOT/systemd/actlogd.service
check "the unit has no ProtectHostname (it would freeze the hostname)" not grep -q '^ProtectHostname=' "$u"
check "sethostname is not in the unit's syscall filter" not grep -qE '^SystemCallFilter=.*sethostname' "$u"

# --- sysinfo.interval_s from the server's policy, live ---
PY=/usr/bin/python3
port=$((20000 + RANDOM % 20000))
srv=$T/srv
mkdir -p "$srv"
echo ok >"$srv/mode"
echo '{"config":{"sysinfo.interval_s":60}}' >"$srv/config.json"
$PY "$ROOT/tests/fake_ingest.py" "$port" "$srv" &
FAKE=$!
cleanup_add "kill $FAKE"
wait_for 10 bash -c "echo > /dev/tcp/127.0.0.1/$port" 2>/dev/null
d=$T/pol
printf 'sysinfo_interval_s = 86400\n' >"$T/pol.conf"
"$BUILD/actlogd" enroll --server "http://127.0.0.1:$port" --secret ale_good --state-dir "$d/state" >/dev/null
"$BUILD/actlogd" --config "$T/pol.conf" --state-dir "$d/state" --socket "$d/ctl.sock" \
	--input-source none --proc-source none --interval 3600 >>"$d/actlogd.log" 2>&1 &
AGENT_PID=$!
cleanup_add "kill -9 $AGENT_PID"
check "the policy's sysinfo.interval_s is applied live" wait_for 20 bash -c \
	"[ \"\$('$ctl' --socket '$d/ctl.sock' status --json 2>/dev/null | jq .sysinfo.interval_s)\" = 60 ]"
check "and logged" grep -q "policy: sysinfo every 60s" "$d/actlogd.log"
check "a periodic record follows 60 s after the start record" wait_for 75 bash -c \
	"'$ctl' --state-dir '$d/state' spool dump | jq -se 'any(.[]; .type == \"sysinfo\" and .reason == \"interval\")' >/dev/null"
t0=$(sysinfo_records "$d" | jq -r 'select(.reason == "start") | .ts' | head -n 1)
t1=$(sysinfo_records "$d" | jq -r 'select(.reason == "interval") | .ts' | head -n 1)
gap=$(($(date -d "$t1" +%s) - $(date -d "$t0" +%s)))
check "the gap is the policy's 60 s (got $gap)" test "$gap" -ge 59 -a "$gap" -le 62
check "its CPU usage covers those 60 s" bash -c "'$ctl' --state-dir '$d/state' spool dump | jq -se '[.[] | select(.type == \"sysinfo\" and .reason == \"interval\")][0] | .cpu.usage_window_s >= 59 and .cpu.usage_window_s <= 62' >/dev/null"
check "the sysinfo records reach the server" wait_for 15 bash -c \
	"[ \$(grep -c '\"type\": *\"sysinfo\"' '$srv/records.ndjson') -ge 2 ]"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
check_eq "exit 0 while shipping" "$?" 0
finish
