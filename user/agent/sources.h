/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sources.h - the collectors actlogd's event loop drives.
 *
 * Every source has the same shape: open → fd (for the daemon's epoll) →
 * dispatch when the fd is readable → close. Functions return 0 or a negative
 * errno and do not log errors (the caller logs once, with context); close
 * accepts NULL.
 *
 * Input sources keep a struct input_state: cumulative counters since start
 * and the active-second rings, exactly what bpf/input.bpf.c keeps in the
 * kernel, so interval aggregation (user/agent/aggregate.c) is one code path.
 */
#ifndef ACTLOG_SOURCES_H
#define ACTLOG_SOURCES_H

#include <stdint.h>

#include "input.h"
#include "proc.h"

/* Snapshot of an input source. rings point into the source (BPF: the
 * mmap'ed .bss; evdev: its own arrays) and stay valid until close. */
struct input_state {
	struct input_totals totals;			 /* cumulative since start */
	const volatile __u32 (*ring)[ACTIVE_RING_SLOTS]; /* [INPUT_ORIGINS] */
	__u64 last_input_ns[INPUT_ORIGINS];		 /* CLOCK_BOOTTIME, 0 = never */
};

/* ---- BPF input source (user/agent/input.c, bpf/input.bpf.c) ---- */
struct input_bpf;
/* Load and attach the fentry program. -errno on failure (EPERM, ENOTSUP...). */
int input_bpf_open(struct input_bpf **out);
/* Fill st from the kernel: one map lookup, ring read in place. */
int input_bpf_read(struct input_bpf *s, struct input_state *st);
void input_bpf_close(struct input_bpf *s);

/* ---- evdev fallback (user/agent/input_evdev.c) ---- */
struct input_evdev;
/* Open every /dev/input/event* under dir (NULL = "/dev/input") read-only,
 * never grabbing, and watch dir with inotify for hot-plug. Succeeds with zero
 * devices, and while dir does not exist yet (its parent is watched). */
int input_evdev_open(struct input_evdev **out, const char *dir);
/* One pollable fd (an inner epoll set over the devices and inotify). */
int input_evdev_fd(const struct input_evdev *s);
/* Read everything ready, classify with input_classify/input_account. */
int input_evdev_dispatch(struct input_evdev *s);
int input_evdev_read(struct input_evdev *s, struct input_state *st);
/* Number of devices currently open. */
unsigned int input_evdev_devices(const struct input_evdev *s);
/* At most this many devices are open at once (a machine has a handful; 64
 * leaves room for docks and KVM switches). Further nodes are ignored until a
 * slot frees. */
#define INPUT_EVDEV_MAX_DEVICES 64
/* Device nodes refused because INPUT_EVDEV_MAX_DEVICES were open, counted
 * once per node found by the start-up scan or created later. */
uint64_t input_evdev_ignored(const struct input_evdev *s);
/* SYN_DROPPED overruns: the kernel discarded a device's queued events, which
 * are lost to the counters. */
uint64_t input_evdev_overruns(const struct input_evdev *s);
void input_evdev_close(struct input_evdev *s);

/* ---- process sources ---- */
typedef void (*proc_cb)(const struct proc_record *r, void *ctx);

/* BPF (user/agent/proc.c, bpf/proc.bpf.c): tp_btf/ first, tp/ when the kernel
 * refuses it. *variant is set to "tp_btf" or "tp". */
struct proc_bpf;
int proc_bpf_open(struct proc_bpf **out, proc_cb cb, void *ctx, const char **variant);
int proc_bpf_fd(const struct proc_bpf *s);
int proc_bpf_dispatch(struct proc_bpf *s);
/* Events lost in the kernel (ring buffer full), summed over CPUs. */
uint64_t proc_bpf_drops(struct proc_bpf *s);
void proc_bpf_close(struct proc_bpf *s);

/* netlink proc connector fallback (user/agent/proc_netlink.c). Needs the initial
 * user and pid namespaces, and CAP_NET_ADMIN before Linux 6.6; open waits up
 * to 1 s for the kernel to confirm the subscription (-EPERM when it does not)
 * and may already call cb. Threads are filtered (pid == tgid); exe, comm,
 * ppid, uid and start time are read from /proc/PID when the event arrives and
 * marked PROC_F_EXE_UNKNOWN when the process is already gone. */
struct proc_netlink;
int proc_netlink_open(struct proc_netlink **out, proc_cb cb, void *ctx);
int proc_netlink_fd(const struct proc_netlink *s);
int proc_netlink_dispatch(struct proc_netlink *s);
/* Events lost (ENOBUFS overruns reported by the socket). */
uint64_t proc_netlink_drops(const struct proc_netlink *s);
void proc_netlink_close(struct proc_netlink *s);

#endif /* ACTLOG_SOURCES_H */
