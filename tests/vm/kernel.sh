#!/usr/bin/env bash
# tests/vm/kernel.sh - make Debian's stock kernel available to the VM tests
# without installing it on this machine (nothing under /boot or /lib/modules
# is touched).
#
# usage: tests/vm/kernel.sh [MODULE...]
#   default modules: evdev uinput virtio_pci virtio_blk
#
# Prints one line on stdout: the kernel directory, which holds
#   vmlinuz        the kernel image
#   config         its build configuration
#   modules.dep    generated for the whole package (the .deb ships none)
#   modules/*.ko   the requested modules and their dependencies, uncompressed
#   modules.load   module names in insmod order (dependencies first); modules
#                  built into the kernel are left out
# Progress goes to stderr.
#
# Cache: $ACTLOG_VM_CACHE (default <repo>/build/vm). The first run downloads
# the package that linux-image-amd64 depends on (apt-get download, ~70 MB),
# keeps the .deb there and extracts what is needed; later runs only check the
# cache. ACTLOG_VM_KERNEL_REFRESH=1 asks apt again for the newest kernel;
# ACTLOG_VM_KERNEL_PKG=linux-image-6.1.0-NN-amd64 pins one.
set -euo pipefail

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CACHE=${ACTLOG_VM_CACHE:-$ROOT/build/vm}
DEFAULT_MODULES=(evdev uinput virtio_pci virtio_blk)

say() { echo "kernel.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ $# -gt 0 ] && want=("$@") || want=("${DEFAULT_MODULES[@]}")
for m in "${want[@]}"; do
	[[ "$m" =~ ^[A-Za-z0-9_-]+$ ]] || die "bad module name '$m'"
done
mkdir -p "$CACHE"
exec 9>"$CACHE/.kernel.lock"
flock 9 # one download/extraction at a time; parallel test runs share the cache

# module name as the kernel spells it: dashes become underscores
norm() { echo "${1//-/_}"; }

# Is every wanted module present (as a file or built in) in kernel dir $1?
cached() {
	local d=$1 m
	[ -s "$d/vmlinuz" ] && [ -s "$d/modules.dep" ] && [ -f "$d/modules.load" ] || return 1
	for m in "${want[@]}"; do
		m=$(norm "$m")
		[ -f "$d/modules/$m.ko" ] || grep -q "/$m\.ko" "$d/modules.builtin" 2>/dev/null || return 1
	done
}

# Name of the versioned kernel package (linux-image-6.1.0-NN-amd64).
resolve_pkg() {
	local p
	if [ -n "${ACTLOG_VM_KERNEL_PKG:-}" ]; then
		echo "$ACTLOG_VM_KERNEL_PKG"
		return
	fi
	p=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$p" ]; then
		say "apt has no linux-image-amd64 yet: running apt-get update"
		apt-get update -qq >&2 || true
		p=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	fi
	[ -n "$p" ] || return 1
	echo "$p"
}

# Fast path: the kernel used last time has everything.
if [ -z "${ACTLOG_VM_KERNEL_REFRESH:-}" ] && [ -z "${ACTLOG_VM_KERNEL_PKG:-}" ] &&
	[ -L "$CACHE/current" ] && cached "$CACHE/current"; then
	readlink -f "$CACHE/current"
	exit 0
fi

if ! pkg=$(resolve_pkg); then
	# offline and no apt lists: fall back to whatever kernel is cached
	[ -L "$CACHE/current" ] || die "cannot resolve linux-image-amd64 (apt-get update failed?) and nothing is cached in $CACHE"
	pkg=$(basename "$(readlink -f "$CACHE/current")")
	say "warning: apt cannot resolve linux-image-amd64; using cached $pkg"
fi
kdir=$CACHE/$pkg
if cached "$kdir"; then
	ln -sfn "$pkg" "$CACHE/current"
	echo "$kdir"
	exit 0
fi

deb=$(ls "$CACHE/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$deb" ]; then
	say "downloading $pkg (apt-get download)"
	# apt's _apt user must be able to write where the .deb lands
	dl=$(mktemp -d "$CACHE/.dl.XXXXXX")
	chmod 0777 "$dl"
	(cd "$dl" && apt-get download -q "$pkg" >&2) || {
		rm -rf "$dl"
		die "apt-get download $pkg failed"
	}
	mv "$dl"/*.deb "$CACHE/"
	rm -rf "$dl"
	deb=$(ls "$CACHE/${pkg}_"*.deb | sort -V | tail -n 1)
fi

say "extracting $(basename "$deb")"
tmp=$(mktemp -d "$CACHE/.x.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/x"
kver=$(ls "$tmp/x/lib/modules" | head -n 1)
mdir=$tmp/x/lib/modules/$kver
[ -n "$kver" ] && [ -f "$tmp/x/boot/vmlinuz-$kver" ] || die "$deb holds no vmlinuz/modules"

# Decompress modules (newer Debian kernels ship .ko.xz or .ko.zst), then let
# busybox's depmod write modules.dep for the whole tree: the package has none
# because the real depmod runs at install time.
if find "$mdir/kernel" -name '*.ko.*' -print -quit | grep -q .; then
	say "decompressing modules"
	find "$mdir/kernel" -name '*.ko.xz' -print0 | xargs -0 -r -P "$(nproc)" -n 64 xz -d
	find "$mdir/kernel" -name '*.ko.gz' -print0 | xargs -0 -r -P "$(nproc)" -n 64 gzip -d
	if find "$mdir/kernel" -name '*.ko.zst' -print -quit | grep -q .; then
		command -v zstd >/dev/null || apt-get install -y -qq zstd >&2 || die "zstd is needed to decompress modules"
		find "$mdir/kernel" -name '*.ko.zst' -print0 | xargs -0 -r -P "$(nproc)" -n 64 zstd -q -d --rm
	fi
fi
command -v busybox >/dev/null || apt-get install -y -qq busybox-static >&2 || die "busybox is needed for depmod"
say "generating modules.dep"
busybox depmod -b "$tmp/x" "$kver"
[ -s "$mdir/modules.dep" ] || die "depmod wrote no modules.dep"

# Resolve the wanted modules depth-first through modules.dep so that every
# dependency is loaded before its user.
declare -A path_of seen
while IFS=: read -r rel _; do
	n=${rel##*/}
	n=${n%.ko}
	path_of[${n//-/_}]=$rel
done <"$mdir/modules.dep"
order=()
visit() {
	local m rel d
	m=$(norm "$1")
	[ -z "${seen[$m]:-}" ] || return 0
	seen[$m]=1
	rel=${path_of[$m]:-}
	if [ -z "$rel" ]; then
		grep -q "/$m\.ko" "$mdir/modules.builtin" && return 0
		die "module $m is neither in $pkg nor built into it"
	fi
	for d in $(awk -F': *' -v r="$rel" '$1 == r {print $2; exit}' "$mdir/modules.dep"); do
		visit "$(basename "$d" .ko)"
	done
	order+=("$m")
}
# a kernel dir only grows: keep the modules an earlier run asked for
if [ -f "$kdir/modules.load" ]; then
	while read -r m; do [ -n "$m" ] && want+=("$m"); done <"$kdir/modules.load"
fi
for m in "${want[@]}"; do visit "$m"; done

new=$tmp/out
mkdir -p "$new/modules"
cp "$tmp/x/boot/vmlinuz-$kver" "$new/vmlinuz"
cp "$tmp/x/boot/config-$kver" "$new/config"
cp "$mdir/modules.dep" "$mdir/modules.builtin" "$new/"
: >"$new/modules.load"
for m in "${order[@]}"; do
	cp "$mdir/${path_of[$m]}" "$new/modules/$m.ko"
	echo "$m" >>"$new/modules.load"
done
echo "$kver" >"$new/release"
rm -rf "$kdir"
mv "$new" "$kdir"
ln -sfn "$pkg" "$CACHE/current"
say "kernel $kver ready in $kdir (modules: ${order[*]})"
echo "$kdir"
