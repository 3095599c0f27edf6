#!/usr/bin/env bash
# tests/bench/vm_execsnoop.sh OUTDIR - the exec storm in the QEMU VM, where
# bcc's execsnoop can run: it compiles its program against kernel headers at
# start, the host kernel has none, and Debian ships them for the VM's kernel.
# Builds a tree with Debian's python3, bcc (python3-bpfcc, libbpfcc and their
# libraries), execsnoop-bpfcc and the kernel's headers (downloaded once with
# apt-get download into the VM cache, like tests/vm/kernel.sh does with the
# kernel), boots the VM with it (ACTLOG_VM_TREE) and runs
# tests/bench/guest_storm.sh. Writes OUTDIR/vmstorm.json.
# Environment: BENCH_VM_EXECS (default 600), BENCH_VM_ROUNDS (default 3).
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
out=$1
CACHE=${ACTLOG_VM_CACHE:-$ROOT/build/vm}
say() { echo "vm_execsnoop: $*" >&2; }

for f in /usr/sbin/execsnoop-bpfcc /usr/bin/python3; do
	[ -x "$f" ] || { say "$f missing (scripts/deps.sh --bench installs bpfcc-tools)"; exit 1; }
done
kdir=$("$ROOT/tests/vm/kernel.sh") || { say "no VM kernel"; exit 1; }
kver=$(cat "$kdir/release")
hdr=$CACHE/headers-$kver
if [ ! -d "$hdr/usr/src/linux-headers-$kver" ]; then
	say "fetching Debian's headers for $kver"
	dl=$(mktemp -d "$CACHE/.hdl.XXXXXX")
	chmod 0777 "$dl"
	common=$(apt-cache depends "linux-headers-$kver" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-headers-.*-common$/ {print $2; exit}')
	(cd "$dl" && apt-get download -q "linux-headers-$kver" $common >&2) ||
		{ rm -rf "$dl"; say "apt-get download linux-headers-$kver failed"; exit 1; }
	rm -rf "$hdr.tmp"
	mkdir -p "$hdr.tmp"
	for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$hdr.tmp"; done
	rm -rf "$dl" "$hdr"
	mv "$hdr.tmp" "$hdr"
fi

tree=$(mktemp -d /tmp/actlog-vmtree.XXXXXX)
trap 'rm -rf "$tree"' EXIT
# copy FILE to the same path in the tree, and every library ldd names at
# /lib/x86_64-linux-gnu (where the VM's loader finds them without a cache)
put() {
	local f=$1 lib
	[ -e "$tree$f" ] || install -D -m 0755 "$(readlink -f "$f")" "$tree$f"
	for lib in $(ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
		[ -e "$tree/lib/x86_64-linux-gnu/${lib##*/}" ] ||
			install -D -m 0755 "$(readlink -f "$lib")" "$tree/lib/x86_64-linux-gnu/${lib##*/}"
	done
}
py=$(readlink -f /usr/bin/python3)
put "$py"
ln -sf "$(basename "$py")" "$tree/usr/bin/python3"
pyver=$(basename "$py")
mkdir -p "$tree/usr/lib"
(cd /usr/lib && tar -cf - --exclude=test --exclude=tests --exclude=idlelib --exclude=tkinter \
	--exclude=ensurepip --exclude=lib2to3 --exclude=__pycache__ --exclude='config-*' "$pyver") |
	tar -xf - -C "$tree/usr/lib"
for so in /usr/lib/"$pyver"/lib-dynload/*.so; do put "$so"; done
mkdir -p "$tree/usr/lib/python3/dist-packages"
cp -a /usr/lib/python3/dist-packages/bcc "$tree/usr/lib/python3/dist-packages/"
put /usr/lib/x86_64-linux-gnu/libbcc.so.0
cp -a /usr/lib/x86_64-linux-gnu/libbcc.so.0 "$tree/lib/x86_64-linux-gnu/" 2>/dev/null || true
[ -e /usr/lib/x86_64-linux-gnu/libbcc_bpf.so.0 ] && put /usr/lib/x86_64-linux-gnu/libbcc_bpf.so.0
install -D -m 0755 /usr/sbin/execsnoop-bpfcc "$tree/usr/sbin/execsnoop-bpfcc"
# bcc's python loads these with ctypes, by name
for l in librt.so.1 libdl.so.2 libpthread.so.0 libm.so.6; do
	install -D -m 0755 "$(readlink -f "/lib/x86_64-linux-gnu/$l")" "$tree/lib/x86_64-linux-gnu/$l"
done
put /usr/bin/true
put /usr/bin/bpftrace
cp -a "$hdr/." "$tree/"
say "tree: $(du -sh "$tree" | cut -f1)"

mkdir -p "$out"
ACTLOG_VM_TREE=$tree ACTLOG_VM_BINS="$(command -v jq) $BUILD/actlog-storm" ACTLOG_VM_OUT_MB=64 \
	"$ROOT/tests/vm/run.sh" --timeout 2400 --mem 3072 --out "$out" \
	"$ROOT/tests/bench/guest_storm.sh" "${BENCH_VM_EXECS:-600}" "${BENCH_VM_ROUNDS:-3}"
