#!/usr/bin/env bash
# tests/vm/run.sh - run one script inside a throw-away QEMU VM (TCG, no KVM)
# booting Debian's stock kernel, and bring its results back.
#
# usage: tests/vm/run.sh [--timeout SEC] [--out DIR] [--mem MB] [--smp N]
#                        GUEST_SCRIPT [ARGS...]
#
#   GUEST_SCRIPT  a host file, run in the guest as `sh GUEST_SCRIPT ARGS...`
#                 by busybox sh, with cwd /actlog and this environment:
#                   ROOT=/actlog  BUILD=/actlog/build  OUT=/out  ACTLOG_VM=1
#                   PATH=/actlog/build:/usr/sbin:/usr/bin:/sbin:/bin
#                 /actlog/build holds actlogd, actlogctl and actlog-inject (those
#                 that exist in build/), /usr/sbin/bpftool is there, and
#                 /actlog/tests holds every tests/**/*.sh. proc, sysfs,
#                 devtmpfs, tmpfs /tmp and /run, bpffs /sys/fs/bpf, tracefs
#                 and debugfs are mounted; evdev and uinput are loaded.
#   --timeout SEC wall-clock limit for the whole boot (default 300)
#   --out DIR     where the files the guest wrote under /out are copied
#                 (created; default: they are discarded)
#   --mem MB      guest memory (default 1024)
#   --smp N       guest CPUs (default 2)
#
# Output: the guest script's stdout and stderr on ours, in order per stream.
# Exit status: the guest script's, or
#   124  the VM did not finish in time (killed)
#   125  the harness failed: QEMU could not start, the kernel panicked, or
#        the guest never reported a result. The serial console's last lines
#        are printed on stderr.
# Environment: ACTLOG_VM_CACHE (kernel cache, see kernel.sh), ACTLOG_VM_KEEP=1
# keeps the work directory (initramfs, console log, result disk),
# ACTLOG_VM_CONSOLE=FILE copies the serial console log there,
# ACTLOG_VM_BINS="path..." adds more host executables (with their libraries)
# to the guest under /usr/local/bin, ACTLOG_VM_TREE=DIR copies a prepared
# directory tree over the guest's root (after everything else),
# ACTLOG_VM_OUT_MB sizes the result disk (default 256).
#
# Transport. Everything the guest needs travels in the initramfs. Results come
# back on a second virtio disk that is nothing but a raw tar archive: the
# host creates a sparse image, the guest's /init writes `tar -cf /dev/vda
# res out vm-end` (res = rc, stdout, stderr; out = the guest's /out; vm-end
# last, so a truncated archive is detected), syncs and powers off; the host
# untars the image after QEMU exits. This is binary-safe, needs no
# filesystem or file-sharing protocol in the guest (only virtio_pci +
# virtio_blk), and cannot be garbled by kernel messages, unlike the serial
# console, which is kept for diagnosis only. The guest's stdout/stderr are
# also echoed to the console, so a run that hangs still shows how far it got.
set -uo pipefail

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
HERE=$ROOT/tests/vm
MODULES=(evdev uinput virtio_pci virtio_blk)

timeout_s=300
outdir=
mem=1024
smp=2

usage() {
	sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p' | head -n 20 >&2
	exit 125
}
say() { echo "vm/run.sh: $*" >&2; }
die() { say "error: $*"; exit 125; }
posint() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) posint "${2:-}" || die "--timeout needs seconds"; timeout_s=$2; shift 2 ;;
	--out) [ -n "${2:-}" ] || die "--out needs a directory"; outdir=$2; shift 2 ;;
	--mem) posint "${2:-}" || die "--mem needs megabytes"; mem=$2; shift 2 ;;
	--smp) posint "${2:-}" || die "--smp needs a CPU count"; smp=$2; shift 2 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
guest_script=$1
shift
[ -f "$guest_script" ] || die "guest script $guest_script not found"

# --- host tools: install what is missing (CI starts from a bare Debian) ---
apt_updated=
ensure() { # CMD PACKAGE
	command -v "$1" >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] || die "$1 is missing (apt-get install $2)"
	say "installing $2"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2; then
		[ -n "$apt_updated" ] || { apt-get update -qq >&2; apt_updated=1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2 || die "cannot install $2"
	fi
}
ensure qemu-system-x86_64 qemu-system-x86
ensure busybox busybox-static
ensure bpftool bpftool
ensure tar tar
ensure timeout coreutils

kdir=$("$HERE/kernel.sh" "${MODULES[@]}") || die "no kernel (tests/vm/kernel.sh failed)"

work=$(mktemp -d "${TMPDIR:-/tmp}/actlog-vm.XXXXXX")
cleanup() {
	if [ -n "${ACTLOG_VM_KEEP:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
rootfs=$work/root
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib/modules,etc,proc,sys,dev,tmp,run,out,res,root,vm,actlog/build}

# Copy executable $1 to $rootfs$2 and every shared library ldd names, the
# dynamic loader included, to the same path inside (symlinks resolved).
copy_exe() {
	local src=$1 dst=$2 lib
	install -D -m 0755 "$src" "$rootfs$dst"
	# ldd prints "name => /path (addr)" and "/lib64/ld-linux-x86-64.so.2 (addr)";
	# a static binary makes it fail, which is fine
	for lib in $(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		[ -e "$rootfs$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
	done
}

copy_exe "$(command -v busybox)" /bin/busybox
copy_exe "$(command -v bpftool)" /usr/sbin/bpftool
found=()
for b in actlogd actlogctl actlog-inject; do
	[ -x "$BUILD/$b" ] || continue
	copy_exe "$BUILD/$b" "/actlog/build/$b"
	found+=("$b")
done
[ ${#found[@]} -gt 0 ] || say "warning: none of actlogd, actlogctl, actlog-inject is built in $BUILD"
for b in ${ACTLOG_VM_BINS:-}; do
	[ -x "$b" ] || die "ACTLOG_VM_BINS: $b is not an executable"
	copy_exe "$b" "/usr/local/bin/$(basename "$b")"
done
(cd "$ROOT" && find tests -name '*.sh' -type f -print0 | xargs -0 -r cp --parents -t "$rootfs/actlog")
if [ -n "${ACTLOG_VM_TREE:-}" ]; then
	[ -d "$ACTLOG_VM_TREE" ] || die "ACTLOG_VM_TREE: $ACTLOG_VM_TREE is not a directory"
	cp -a "$ACTLOG_VM_TREE/." "$rootfs/" || die "cannot copy ACTLOG_VM_TREE"
fi
cp "$kdir"/modules/*.ko "$kdir/modules.load" "$rootfs/lib/modules/"
cp "$guest_script" "$rootfs/vm/guest.sh"
# arguments, each single-quoted for the guest shell's eval
: >"$rootfs/vm/args"
for a in "$@"; do printf "'%s' " "${a//\'/\'\\\'\'}" >>"$rootfs/vm/args"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
echo actlog-vm >"$rootfs/etc/hostname"

cat >"$rootfs/init" <<'INIT'
#!/bin/busybox sh
# PID 1 of the test VM: set up, run /vm/guest.sh, write the result disk, power off.
/bin/busybox --install -s
export PATH=/actlog/build:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
hostname -F /etc/hostname
ip link set lo up 2>/dev/null
while read -r m; do
	insmod "/lib/modules/$m.ko" || echo "vm-init: insmod $m failed" >/dev/console
done </lib/modules/modules.load
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

echo "vm-init: running guest script" >/dev/console
mkfifo /tmp/.vm-stdout /tmp/.vm-stderr
tee /res/stdout </tmp/.vm-stdout >/dev/console &
t1=$!
tee /res/stderr </tmp/.vm-stderr >/dev/console &
t2=$!
export ROOT=/actlog BUILD=/actlog/build OUT=/out ACTLOG_VM=1 HOME=/root TERM=dumb
cd /actlog
eval "set -- $(cat /vm/args)"
sh /vm/guest.sh "$@" >/tmp/.vm-stdout 2>/tmp/.vm-stderr </dev/null
echo $? >/res/rc
cd /
# a daemon the script left behind may hold the pipes open: do not wait forever
i=0
while { kill -0 $t1 || kill -0 $t2; } 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
kill $t1 $t2 2>/dev/null
echo "vm-init: guest script exited $(cat /res/rc)" >/dev/console
echo end >/vm-end
sync
if [ -b /dev/vda ]; then
	tar -cf /dev/vda res out vm-end || echo "vm-init: writing the result disk failed" >/dev/console
else
	echo "vm-init: no result disk /dev/vda" >/dev/console
fi
sync
poweroff -f
INIT
chmod 0755 "$rootfs/init"

(cd "$rootfs" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$work/initrd.cpio" ||
	die "cannot build the initramfs"
truncate -s "${ACTLOG_VM_OUT_MB:-256}M" "$work/result.img"

# -accel tcg: the CI hosts have no KVM. -nodefaults -no-user-config: no VGA,
# NIC or CD-ROM, only what is listed. panic=-1 with -no-reboot turns a kernel
# panic into an immediate QEMU exit instead of a hang until the timeout.
qemu=(qemu-system-x86_64 -accel tcg -machine pc -cpu max -smp "$smp" -m "$mem"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$kdir/vmlinuz" -initrd "$work/initrd.cpio"
	-append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=4 mitigations=off"
	-drive "file=$work/result.img,format=raw,if=virtio,cache=unsafe"
	-serial "file:$work/console.log")
start=$(date +%s.%N)
timeout -k 5 "$timeout_s" "${qemu[@]}" >"$work/qemu.log" 2>&1
qrc=$?
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
[ -z "${ACTLOG_VM_CONSOLE:-}" ] || cp "$work/console.log" "$ACTLOG_VM_CONSOLE" 2>/dev/null || true

console_tail() {
	echo "---- last lines of the serial console ($work/console.log) ----" >&2
	tail -n 40 "$work/console.log" >&2 2>/dev/null
	[ -s "$work/qemu.log" ] && { echo "---- qemu ----" >&2; tail -n 20 "$work/qemu.log" >&2; }
	echo "----" >&2
}

if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	say "error: the VM did not finish within ${timeout_s}s and was killed"
	console_tail
	exit 124
fi
if [ $qrc -ne 0 ]; then
	say "error: qemu exited $qrc after ${secs}s"
	console_tail
	exit 125
fi
mkdir -p "$work/result"
tar -xf "$work/result.img" -C "$work/result" 2>"$work/untar.log"
if [ ! -f "$work/result/res/rc" ]; then
	if grep -q 'Kernel panic' "$work/console.log" 2>/dev/null; then
		say "error: the guest kernel panicked after ${secs}s"
	else
		say "error: the guest reported no result (after ${secs}s)"
	fi
	console_tail
	exit 125
fi
cat "$work/result/res/stdout" 2>/dev/null
cat "$work/result/res/stderr" >&2 2>/dev/null
if [ ! -f "$work/result/vm-end" ]; then
	say "error: the result archive is truncated (/out larger than the ${ACTLOG_VM_OUT_MB:-256} MB result disk?)"
	cat "$work/untar.log" >&2
	exit 125
fi
if [ -n "$outdir" ]; then
	mkdir -p "$outdir" || die "cannot create $outdir"
	cp -a "$work/result/out/." "$outdir/" || die "cannot copy the guest's /out to $outdir"
fi
rc=$(cat "$work/result/res/rc")
[[ "$rc" =~ ^[0-9]+$ ]] || die "bad guest exit status '$rc'"
say "guest exited $rc; the VM ran ${secs}s"
exit "$rc"
