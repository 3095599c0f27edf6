# actlog - top-level build. `make help` lists the targets.

BUILD ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
DESTDIR ?=
BTF ?= /sys/kernel/btf/vmlinux

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
PKGS := libbpf libelf zlib libevdev libcjson libsystemd libcrypto libcurl libsodium lmdb libzstd \
	libmicrohttpd xcb xcb-ewmh xcb-icccm xcb-randr xcb-shm libpng libpipewire-0.3

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-missing-field-initializers
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# --as-needed: each program records only the libraries it really uses
PKG_LIBS := -Wl,--as-needed $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS := $(CFLAGS) -std=gnu11 $(WARN) -D_GNU_SOURCE -fno-strict-aliasing \
	-Iinclude -I$(BUILD) $(PKG_CFLAGS)
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
LIB_A := $(BUILD)/libactlog.a

# The two programs under user/ (docs/ARCHITECTURE.md "Agent"), each file
# listed: membership is explicit, never by file-name pattern.
# actlogd (user/agent/): the event loop, input and process sources, the
# application tracker, system facts, spool and shipping, the control and
# session sockets, the screenshot queue. AGENT_LIB_SRCS are its pure parts,
# which unit tests link too.
AGENT_LIB_SRCS := $(addprefix user/agent/,aggregate.c app_usage.c conf.c desktop.c focus.c \
	policy.c record.c sysinfo.c)
ACTLOGD_SRCS := $(addprefix user/agent/,actlogd.c apps.c control.c curl_dl.c http_client.c \
	input.c input_evdev.c proc.c proc_netlink.c proc_parse.c seat.c session_sock.c ship.c \
	shot_queue.c sysinfo_mon.c) $(AGENT_LIB_SRCS)
ACTLOGD_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(ACTLOGD_SRCS))
ACTLOGD_HDRS := $(wildcard user/agent/*.h)

# actlog-session (user/session/): focus routes (focus_route.h: X11, wlroots,
# KWin, GNOME Shell), screenshots (X11
# through xcb; Wayland through PipeWire and the ScreenCast portal over
# sd-bus), the image encoders. SESSION_LIB_SRCS are its pure parts.
SESSION_LIB_SRCS := $(addprefix user/session/,blur.c image.c png.c)
SESSION_SRCS := $(addprefix user/session/,session.c focus_route.c focus_x11.c focus_wlr.c \
	focus_kwin.c focus_gnome.c shots.c capture_x11.c \
	capture_pw.c capture_once_wl.c portal.c) $(SESSION_LIB_SRCS)
SESSION_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(SESSION_SRCS))
SESSION_HDRS := $(wildcard user/session/*.h)

# actlog-server: one folder per layer (docs/ARCHITECTURE.md "Server layers"):
# api/ -> model/ -> core/ + store/, and http/ under api/
SERVER_LAYERS := http store core model api
SERVER_SRCS := server/main.c $(wildcard server/cli/*.c) $(foreach d,$(SERVER_LAYERS),$(wildcard server/$(d)/*.c))
SERVER_HDRS := $(wildcard server/cli/*.h) $(foreach d,$(SERVER_LAYERS),$(wildcard server/$(d)/*.h))
SERVER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(SERVER_SRCS))
SERVER_LIB_SRCS := $(filter-out server/main.c server/cli/%,$(SERVER_SRCS))
SERVER_BIN := $(if $(wildcard server/main.c),$(BUILD)/actlog-server)

TOOLS := actlogctl actlog-inject actlog-sigv4 actlog-s3
TOOL_BINS := $(addprefix $(BUILD)/,$(TOOLS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

HEADERS := $(wildcard include/*.h)

.PHONY: check-deps all clean install uninstall test test-all test-unit test-host test-vm deps demo demo-stop lint format help bench bench-ci

all: $(BUILD)/actlogd $(BUILD)/actlog-session $(BUILD)/actlog-testwin $(BUILD)/actlog-pattern $(TOOL_BINS) $(SERVER_BIN)

help:
	@echo "make            build everything into $(BUILD)/"
	@echo "make deps       install the Debian packages needed to build and test (root)"
	@echo "make demo       deps + build + run an agent in the foreground on a temp state dir"
	@echo "make test       every test (unit, host, VM); ends with 'N passed, N failed'"
	@echo "make test-unit  unit tests only (ASan+UBSan)"
	@echo "make test-vm    kernel input tests in a QEMU VM"
	@echo "make install    install under DESTDIR/PREFIX (default /usr/local)"
	@echo "make lint       clang-format check and the server's layering rules"
	@echo "make bench      agent benchmarks against peers (docs/PERFORMANCE.md; root; ~40 min)"
	@echo "make bench-ci   the short exec-storm gate CI runs (a few minutes)"

PKGS_OK := $(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && command -v $(CLANG) >/dev/null && command -v $(BPFTOOL) >/dev/null && echo yes)

check-deps:
	@test "$(PKGS_OK)" = yes || { echo "error: build dependencies missing (pkg-config: $(PKGS); clang; bpftool): run 'sudo make deps'" >&2; exit 1; }

$(BUILD) $(BUILD)/bpf $(BUILD)/lib $(BUILD)/user $(BUILD)/server $(BUILD)/tools $(BUILD)/tests: | check-deps
	@mkdir -p $@

# --- BPF: vmlinux.h from the running kernel's BTF, CO-RE objects, skeletons ---
$(BUILD)/vmlinux.h: | $(BUILD)
	@test -r $(BTF) || { echo "error: $(BTF) not readable: the kernel needs CONFIG_DEBUG_INFO_BTF" >&2; exit 1; }
	$(BPFTOOL) btf dump file $(BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(HEADERS) $(wildcard bpf/*.bpf.h) | $(BUILD)/bpf
	$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(BUILD) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_skel > $@.tmp && mv $@.tmp $@

# --- userspace ---
$(BUILD)/lib/%.o: lib/%.c $(HEADERS) | $(BUILD)/lib
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/user/agent/%.o: user/agent/%.c $(HEADERS) $(ACTLOGD_HDRS) | $(BUILD)/user $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iuser/agent -c $< -o $@

$(BUILD)/user/session/%.o: user/session/%.c $(HEADERS) $(SESSION_HDRS) | $(BUILD)/user
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iuser/session -c $< -o $@

$(BUILD)/actlogd: $(ACTLOGD_OBJS) $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/actlog-session: $(SESSION_OBJS) $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

# an X11 client with a chosen WM_CLASS for the session tests
$(BUILD)/actlog-testwin: tests/testwin.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(PKG_LIBS) $(LDFLAGS)

# an X11 client that draws a known pattern for the screenshot tests
$(BUILD)/actlog-pattern: tests/pattern.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(PKG_LIBS) $(LDFLAGS)

# a PipeWire video source with a known frame for the Wayland screenshot tests
all: $(BUILD)/actlog-pwsource
$(BUILD)/actlog-pwsource: tests/pw_source.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/server/%.o: server/%.c $(HEADERS) $(SERVER_HDRS) | $(BUILD)/server
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iserver -c $< -o $@

$(BUILD)/actlog-server: $(SERVER_OBJS) $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/tools/%.o: tools/%.c $(HEADERS) | $(BUILD)/tools
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/actlog-%: $(BUILD)/tools/actlog-%.o $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/actlogctl: $(BUILD)/tools/actlogctl.o $(BUILD)/tools/benchcli.o $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

# benchmark-only programs (tools/bench/: docs/PERFORMANCE.md, docs/perf-server.md);
# storebench and seed link the server's layers below api/
BENCH_TOOLS := actlog-storm actlog-storebench actlog-load actlog-seed actlog-latency
all: $(addprefix $(BUILD)/,$(BENCH_TOOLS))
$(BUILD)/tools/bench/%.o: tools/bench/%.c $(HEADERS) $(SERVER_HDRS) tools/benchcli.h | $(BUILD)/tools
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools -Iserver -c $< -o $@
$(BUILD)/tools/benchcli.o $(BUILD)/tools/actlogctl.o: tools/benchcli.h
SERVER_LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(SERVER_LIB_SRCS))

$(BUILD)/actlog-storm: $(BUILD)/tools/bench/actlog-storm.o $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/actlog-load: $(BUILD)/tools/bench/actlog-load.o $(BUILD)/tools/benchcli.o $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/actlog-latency: $(BUILD)/tools/bench/actlog-latency.o $(BUILD)/tools/benchcli.o $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/actlog-storebench: $(BUILD)/tools/bench/actlog-storebench.o $(BUILD)/tools/benchcli.o $(BUILD)/server/store/store.o $(BUILD)/server/store/store_lmdb.o $(BUILD)/server/store/keys.o $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(BUILD)/actlog-seed: $(BUILD)/tools/bench/actlog-seed.o $(BUILD)/tools/benchcli.o $(SERVER_LIB_OBJS) $(LIB_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

# --- tests: unit tests link the library sources built with sanitizers,
# and the pure parts of the two user/ programs ---
UNIT_LINK_SRCS := $(LIB_SRCS) $(AGENT_LIB_SRCS) $(SESSION_LIB_SRCS)
UNIT_INC := -Itests/unit -Iuser/agent -Iuser/session
$(BUILD)/tests/%: tests/unit/%.c tests/unit/check.h $(UNIT_LINK_SRCS) $(HEADERS) $(ACTLOGD_HDRS) $(SESSION_HDRS) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(UNIT_INC) -o $@ $< $(UNIT_LINK_SRCS) $(PKG_LIBS)

# unit tests that include a user/ source
$(BUILD)/tests/test_seat: user/agent/seat.c user/agent/seat.h
$(BUILD)/tests/test_sysinfo: user/agent/sysinfo_mon.c user/agent/sysinfo_mon.h
$(BUILD)/tests/test_portal: user/session/portal.c user/session/portal.h
$(BUILD)/tests/test_focus_gnome: user/session/focus_gnome.c

# the agent's unix sockets: user/agent/control.c and session_sock.c, with
# bind() wrapped so that the test sees the socket file the moment it is created
$(BUILD)/tests/test_sockets: tests/unit/test_sockets.c tests/unit/check.h user/agent/control.c user/agent/session_sock.c $(ACTLOGD_HDRS) $(UNIT_LINK_SRCS) $(HEADERS) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(UNIT_INC) -Wl,--wrap=bind -o $@ $< user/agent/control.c user/agent/session_sock.c $(UNIT_LINK_SRCS) $(PKG_LIBS)

# server unit tests (tests/unit/test_srv_*.c) also link the server's code
$(BUILD)/tests/test_srv_%: tests/unit/test_srv_%.c tests/unit/check.h $(LIB_SRCS) $(SERVER_LIB_SRCS) $(HEADERS) $(SERVER_HDRS) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Itests/unit -Iserver -o $@ $< $(LIB_SRCS) $(SERVER_LIB_SRCS) $(PKG_LIBS)

test-unit: $(UNIT_BINS)
	@tests/run.sh --unit

test-host: all $(UNIT_BINS)
	@tests/run.sh --host

test-vm: all
	@tests/run.sh --vm

# `make test` first installs what is missing (a no-op when all is there),
# then re-enters make so that pkg-config sees the new packages.
test:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory test-all

test-all: all $(UNIT_BINS)
	@tests/run.sh --all

# --- benchmarks (docs/PERFORMANCE.md): results in $(BUILD)/bench/results.json ---
bench: all
	@scripts/deps.sh --bench
	@BUILD=$(BUILD) scripts/bench.sh

bench-ci: all
	@scripts/deps.sh --bench-ci
	@BUILD=$(BUILD) scripts/bench.sh --ci

# --- install ---
# the GNOME Shell extension of the "gnome" focus route (user/session/focus_gnome.c):
# the legacy one for GNOME Shell 42-44, or its ES-module build for 45 and later
# (chosen by the installed gnome-shell; a package sets GNOME_SHELL_MAJOR)
GNOME_EXT := actlog-focus@actlog.dev
GNOME_EXT_SRC := user/session/gnome-extension/$(GNOME_EXT)
GNOME_EXT_ESM := $(BUILD)/gnome-extension-45/$(GNOME_EXT)
GNOME_SHELL_MAJOR ?= $(shell gnome-shell --version 2>/dev/null | sed -n 's/^GNOME Shell \([0-9]*\).*/\1/p')
GNOME_EXT_DIR = $(if $(shell test "$(GNOME_SHELL_MAJOR)" -ge 45 2>/dev/null && echo y),$(GNOME_EXT_ESM),$(GNOME_EXT_SRC))
$(GNOME_EXT_ESM)/extension.js: $(GNOME_EXT_SRC)/extension.js $(GNOME_EXT_SRC)/metadata.json scripts/gnome-extension-esm.sh
	scripts/gnome-extension-esm.sh $(GNOME_EXT_SRC) $(GNOME_EXT_ESM)
install: all $(GNOME_EXT_ESM)/extension.js
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/doc/actlog \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BUILD)/actlogd $(DESTDIR)$(PREFIX)/sbin/actlogd
	install -m 0755 $(BUILD)/actlogctl $(DESTDIR)$(PREFIX)/bin/actlogctl
	install -m 0755 $(BUILD)/actlog-session $(DESTDIR)$(PREFIX)/bin/actlog-session
	install -m 0755 $(BUILD)/actlog-s3 $(DESTDIR)$(PREFIX)/bin/actlog-s3
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/user $(DESTDIR)$(PREFIX)/share/man/man1
	sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/actlog-session.service > $(DESTDIR)$(PREFIX)/lib/systemd/user/actlog-session.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/user/actlog-session.service
	install -m 0644 docs/man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/gnome-shell/extensions/$(GNOME_EXT)
	install -m 0644 $(addprefix $(GNOME_EXT_DIR)/,metadata.json extension.js) \
		$(DESTDIR)$(PREFIX)/share/gnome-shell/extensions/$(GNOME_EXT)/
	install -m 0755 $(BUILD)/actlog-server $(DESTDIR)$(PREFIX)/sbin/actlog-server
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/actlog-server.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/actlog-server.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/actlog-server.service
	install -d $(DESTDIR)$(PREFIX)/lib/sysusers.d
	install -m 0644 systemd/actlog-server.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/actlog-server.conf
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/actlogd.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/actlogd.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/actlogd.service
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/actlog/
	install -m 0644 docs/man/man8/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -d $(DESTDIR)$(PREFIX)/share/actlog/web/js
	install -m 0644 web/index.html web/style.css $(DESTDIR)$(PREFIX)/share/actlog/web/
	install -m 0644 web/js/*.js $(DESTDIR)$(PREFIX)/share/actlog/web/js/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/actlogd $(DESTDIR)$(PREFIX)/bin/actlogctl \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/actlogd.service \
		$(DESTDIR)$(PREFIX)/sbin/actlog-server $(DESTDIR)$(PREFIX)/lib/systemd/system/actlog-server.service \
		$(DESTDIR)$(PREFIX)/lib/sysusers.d/actlog-server.conf $(DESTDIR)$(PREFIX)/share/man/man8/actlog-server.8
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/actlog $(DESTDIR)$(PREFIX)/share/actlog/web
	rm -f $(DESTDIR)$(PREFIX)/share/man/man8/actlogd.8 $(DESTDIR)$(PREFIX)/share/man/man8/actlogctl.8
	rm -f $(DESTDIR)$(PREFIX)/bin/actlog-session $(DESTDIR)$(PREFIX)/lib/systemd/user/actlog-session.service \
		$(DESTDIR)$(PREFIX)/share/man/man1/actlog-session.1
	rm -rf $(DESTDIR)$(PREFIX)/share/gnome-shell/extensions/$(GNOME_EXT)
	rm -f $(DESTDIR)$(PREFIX)/bin/actlog-s3 $(DESTDIR)$(PREFIX)/share/man/man1/actlog-s3.1

deps:
	scripts/deps.sh

demo:
	scripts/demo.sh

demo-stop:
	scripts/demo.sh stop

FORMAT_FILES = $(LIB_SRCS) $(ACTLOGD_SRCS) $(SESSION_SRCS) tests/testwin.c tests/pattern.c tests/pw_source.c $(SERVER_SRCS) $(wildcard tools/*.c tools/bench/*.c) $(HEADERS) \
	$(ACTLOGD_HDRS) $(SESSION_HDRS) $(SERVER_HDRS) $(wildcard tests/unit/*.c)

lint:
	@clang-format --dry-run -Werror $(FORMAT_FILES)
	@scripts/check-layers.sh

format:
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

.SECONDARY:
