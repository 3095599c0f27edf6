#!/usr/bin/env bash
# The systemd unit passes `systemd-analyze verify` and keeps its promises.
. "$(dirname "$0")/../lib.sh"
need systemd-analyze
mkdir -p "$T/unit"
sed "s|@SBINDIR@|$BUILD|g" "$ROOT/systemd/actlogd.service" >"$T/unit/actlogd.service"
out=$(MANPATH=$ROOT/docs/man systemd-analyze verify "$T/unit/actlogd.service" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out"
check_eq "systemd-analyze verify: exit status" "$rc" 0
check_eq "systemd-analyze verify: no warnings" "$out" ""
u=$T/unit/actlogd.service
for want in "Type=notify" "Restart=on-failure" "StateDirectory=actlog" "RuntimeDirectory=actlog" \
	"ProtectSystem=strict" "ProtectHome=yes" "NoNewPrivileges=yes"; do
	check "unit has $want" grep -qx "$want" "$u"
done
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$u")
for c in $caps; do
	case $c in CAP_BPF | CAP_PERFMON | CAP_SYS_ADMIN | CAP_NET_ADMIN | CAP_SYS_PTRACE | CAP_DAC_READ_SEARCH | CAP_SYS_RESOURCE) ;;
	*) fail "unexpected capability $c" ;;
	esac
done
check "capabilities are bounded" test -n "$caps"
check "the syscall filter allows bpf and perf_event_open" grep -qE "^SystemCallFilter=.*\bbpf\b.*\bperf_event_open\b" "$u"
# expand a syscall group recursively, as systemd does
expand() {
	local item
	for item in $(systemd-analyze syscall-filter "$1" | sed -n 's/^    \([-@a-z0-9_]*\)$/\1/p'); do
		case $item in @*) expand "$item" ;; *) echo "$item" ;; esac
	done
}
expanded=$(expand @system-service | sort -u)
check "expansion works (read is in @system-service)" grep -qx read <<<"$expanded"
check "bpf must be added: @system-service lacks it" bash -c '! grep -qx bpf <<<"$1"' _ "$expanded"
check "the unit's filter adds every syscall BPF needs that the group lacks" \
	bash -c 'for s in bpf perf_event_open; do grep -qx $s <<<"$1" || grep -qE "^SystemCallFilter=.*\b$s\b" "$2" || exit 1; done' _ "$expanded" "$u"
# the server's unit
sed "s|@SBINDIR@|$BUILD|g" "$ROOT/systemd/actlog-server.service" >"$T/unit/actlog-server.service"
out=$(MANPATH=$ROOT/docs/man systemd-analyze verify "$T/unit/actlog-server.service" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out"
check_eq "actlog-server.service: verify exit status" "$rc" 0
check_eq "actlog-server.service: no warnings" "$out" ""
su=$T/unit/actlog-server.service
for want in "Type=notify" "User=actlog-server" "CapabilityBoundingSet=" "NoNewPrivileges=yes" \
	"ProtectSystem=strict" "StateDirectory=actlog-server" "MemoryDenyWriteExecute=yes"; do
	check "server unit has $want" grep -qx "$want" "$su"
done
check "the sysusers file creates the user" grep -q '^u actlog-server ' "$ROOT/systemd/actlog-server.sysusers"
finish
