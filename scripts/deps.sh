#!/usr/bin/env bash
# scripts/deps.sh - install the Debian 12 packages actlog needs to build and
# test. Idempotent: installs only what is missing. Run as root.
set -euo pipefail

BUILD_PKGS=(make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
	libevdev-dev libcjson-dev libsystemd-dev libssl-dev libcurl4-openssl-dev libsodium-dev
	liblmdb-dev libzstd-dev libmicrohttpd-dev libzip-dev libxcb1-dev libxcb-ewmh-dev libxcb-icccm4-dev
	libxcb-randr0-dev libxcb-shm0-dev libpng-dev libpipewire-0.3-dev libwebp-dev libturbojpeg0-dev libwayland-dev libicu-dev)
TEST_PKGS=(clang-format jq tmux python3 systemd man-db util-linux procps cpio xz-utils
	qemu-system-x86 busybox-static lmdb-utils curl xvfb xauth openbox xdotool x11-utils x11-xserver-utils
	python3-botocore nodejs chromium fonts-dejavu-core webp libjpeg-turbo-progs
	pipewire pipewire-bin wireplumber gstreamer1.0-pipewire gstreamer1.0-tools
	gstreamer1.0-plugins-base dbus-daemon python3-dbus python3-gi
	kwin-wayland weston sway foot gnome-shell)

# only for the benchmarks (docs/PERFORMANCE.md): perf for precise CPU time
# (--bench-ci), and the peers actlog is compared with (--bench)
BENCH_CI_PKGS=(linux-perf)
# bench-shots.sh: real applications on an Xvfb desktop
BENCH_PKGS=(bpftrace bpfcc-tools auditd x11-apps xwallpaper desktop-base)

want=("${BUILD_PKGS[@]}")
[ "${1:-}" = --build-only ] || want+=("${TEST_PKGS[@]}")
case ${1:-} in
--bench) want+=("${BENCH_CI_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
--bench-ci) want+=("${BENCH_CI_PKGS[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm test tools (not in Debian), kept out of the tree: s3rver, a local S3
# for tests/integration/test_s3.sh; playwright-core (no browser download:
# it drives Debian's chromium) for the dashboard test, tests/web/
NODE_DIR=/opt/actlog-test
NODE_PKGS=(s3rver@3 playwright-core@1.65.1)
node_tools() {
	[ "${1:-}" = --build-only ] && return 0
	[ -x "$NODE_DIR/node_modules/.bin/s3rver" ] && [ -f "$NODE_DIR/node_modules/playwright-core/package.json" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing ${NODE_PKGS[*]} in $NODE_DIR; run as root (sudo make deps)" >&2
		return 1
	fi
	# Debian's nodejs has npm apart; some nodejs builds carry their own
	command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm
	echo "deps: npm install ${NODE_PKGS[*]} into $NODE_DIR"
	mkdir -p "$NODE_DIR"
	npm install --no-audit --no-fund --silent --prefix "$NODE_DIR" "${NODE_PKGS[@]}"
}

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#want[@]} packages present"
	node_tools "${1:-}"
	exit
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root (sudo make deps)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
node_tools "${1:-}"
