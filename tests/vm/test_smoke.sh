#!/usr/bin/env bash
# tests/vm/test_smoke.sh - prove the VM harness (tests/vm/run.sh) and the
# injector before any counting test relies on them: one boot runs a guest
# script that injects 5 key presses and 2 clicks with actlog-inject, records
# the raw events an evdev reader sees, lists BPF programs with bpftool, and
# exits 42. The host checks the exit status, both output streams and the
# files that came back through /out. Two cheap runs check the failure paths.
source "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3 # Debian's python; the python3 on PATH may be another one

[ -x "$BUILD/actlog-inject" ] || make -C "$ROOT" -s BUILD="$BUILD" "$BUILD/actlog-inject" >/dev/null ||
	{ fail "cannot build actlog-inject"; finish; }
[ -x "$PY" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null ||
	{ fail "no $PY"; finish; }

cat >"$T/guest.sh" <<'GUEST'
name=actlog-smoke
uname -r >/out/uname
[ -r /sys/kernel/btf/vmlinux ] && echo yes >/out/btf
# a long settle keeps the device alive while we find and open its event node
actlog-inject --keys 5 --clicks 2 --json --name "$name" --settle-ms 1500 \
	>/out/inject.json 2>/out/inject.err &
inj=$!
i=0
while ! grep -q "N: Name=\"$name\"" /proc/bus/input/devices && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
cp /proc/bus/input/devices /out/devices
ev=$(awk -v n="N: Name=\"$name\"" '$0 == n {f = 1} f && /^H: Handlers=/ {
	for (i = 1; i <= NF; i++) if ($i ~ /^event[0-9]+$/) {print $i; exit} }' /proc/bus/input/devices)
echo "$ev" >/out/event-node
# cat ends with ENODEV when the injector destroys the device
[ -n "$ev" ] && cat "/dev/input/$ev" >/out/events.bin 2>/dev/null &
rec=$!
wait $inj
echo $? >/out/inject.rc
wait $rec
bpftool prog list >/out/progs.txt 2>&1
echo $? >/out/bpftool.rc
bpftool -j prog list >/out/progs.json 2>&1
echo smoke-token-stdout
echo smoke-token-stderr >&2
exit 42
GUEST

start=$(date +%s)
"$ROOT/tests/vm/run.sh" --timeout 240 --out "$T/out" "$T/guest.sh" >"$T/stdout" 2>"$T/stderr"
rc=$?
echo "  boot + guest script: $(($(date +%s) - start)) s"
check_eq "guest exit status comes back" "$rc" 42
check "guest stdout comes back on stdout" grep -qx smoke-token-stdout "$T/stdout"
check "guest stderr comes back on stderr" grep -qx smoke-token-stderr "$T/stderr"
check "streams are not mixed" bash -c "! grep -q smoke-token-stderr '$T/stdout'"
kver=$(cat "$("$ROOT/tests/vm/kernel.sh")/release" 2>/dev/null)
check_eq "guest runs Debian's kernel" "$(cat "$T/out/uname" 2>/dev/null)" "$kver"
check_eq "guest kernel has BTF" "$(cat "$T/out/btf" 2>/dev/null)" yes
check_eq "actlog-inject exit status" "$(cat "$T/out/inject.rc" 2>/dev/null)" 0
check_eq "actlog-inject --json" "$(cat "$T/out/inject.json" 2>/dev/null)" \
	'{"keys":5,"clicks":2,"moves":0,"scrolls":0,"typed":0}'
check "uinput device listed in /proc/bus/input/devices" \
	grep -q 'N: Name="actlog-smoke"' "$T/out/devices"
check "device is virtual bus, actlog ids" grep -q 'I: Bus=0006 Vendor=ac71 Product=0001' "$T/out/devices"
check "device has an evdev node" grep -qE '^event[0-9]+$' "$T/out/event-node"
# The exact event stream an evdev reader saw: 5 x (KEY_A 1, SYN, KEY_A 0, SYN)
# then 2 x (BTN_LEFT 1, SYN, BTN_LEFT 0, SYN); struct input_event on x86_64 is
# {timeval (16 bytes), __u16 type, __u16 code, __s32 value}.
got=$("$PY" - "$T/out/events.bin" <<'EOF' 2>&1
import struct, sys
data = open(sys.argv[1], "rb").read()
if len(data) % 24:
    print("torn stream of %d bytes" % len(data)); sys.exit()
print(" ".join("%d:%d:%d" % struct.unpack_from("<HHi", data, off + 16)
               for off in range(0, len(data), 24)))
EOF
)
want=$(for _ in 1 2 3 4 5; do printf '1:30:1 0:0:0 1:30:0 0:0:0 '; done
	for _ in 1 2; do printf '1:272:1 0:0:0 1:272:0 0:0:0 '; done)
check_eq "evdev sees exactly the injected frames" "$got" "${want% }"
check_eq "bpftool prog list runs in the guest" "$(cat "$T/out/bpftool.rc" 2>/dev/null)" 0
check "bpftool -j prog list is JSON" "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out/progs.json"

# Failure paths that need no full run: a missing script, a timeout.
"$ROOT/tests/vm/run.sh" "$T/no-such-script.sh" >/dev/null 2>"$T/err-missing"
check_eq "missing guest script is a harness failure" "$?" 125
printf 'sleep 600\n' >"$T/hang.sh"
"$ROOT/tests/vm/run.sh" --timeout 5 "$T/hang.sh" >/dev/null 2>"$T/err-timeout"
check_eq "a hanging guest times out" "$?" 124
check "timeout is reported" grep -q 'did not finish within 5s' "$T/err-timeout"
finish
