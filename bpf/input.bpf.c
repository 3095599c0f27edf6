// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * input.bpf.c - count keyboard and pointer input in the kernel.
 *
 * fentry on input_event(), which every driver and uinput event passes
 * through. Each event is classified (include/input.h) and only counters are
 * incremented: per-CPU, split by origin (physical, or synthetic = uinput /
 * BUS_VIRTUAL). The code of a key is read to classify it and is then dropped:
 * no map, ring buffer or print ever holds one. Active seconds are marked in a
 * ring in .bss that userspace reads once per interval, so nothing here wakes
 * userspace up.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "input.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct input_totals);
} counters SEC(".maps");

/* Motion frame state per device, keyed by the input_dev address. Updates for
 * one device are serialised by its event_lock, which input_event() holds. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct input_frame);
} frames SEC(".maps");

/* Active-second rings: slot (s % SLOTS) holds s + 1 for the CLOCK_BOOTTIME
 * second s in which input last arrived. [0] any origin, [1] synthetic. */
__u32 active_ring[INPUT_ORIGINS][ACTIVE_RING_SLOTS];
/* CLOCK_BOOTTIME ns of the last input event, per origin. */
__u64 last_input_ns[INPUT_ORIGINS];

static __always_inline int dev_origin(struct input_dev *dev)
{
	if (BPF_CORE_READ(dev, id.bustype) == AL_BUS_VIRTUAL)
		return INPUT_SYNTHETIC;
	/* uinput devices have no parent device; real drivers always set one */
	if (!BPF_CORE_READ(dev, dev.parent))
		return INPUT_SYNTHETIC;
	return INPUT_PHYSICAL;
}

static __always_inline void mark_active(int origin)
{
	__u64 now = bpf_ktime_get_boot_ns();
	__u32 sec = now / 1000000000ULL;
	__u32 slot = sec % ACTIVE_RING_SLOTS;

	if (active_ring[0][slot] != sec + 1)
		active_ring[0][slot] = sec + 1;
	last_input_ns[0] = now;
	if (origin == INPUT_SYNTHETIC) {
		if (active_ring[1][slot] != sec + 1)
			active_ring[1][slot] = sec + 1;
		last_input_ns[1] = now;
	}
}

SEC("fentry/input_event")
int BPF_PROG(count_input, struct input_dev *dev, unsigned int type, unsigned int code, int value)
{
	struct input_frame zero = {}, *f;
	struct input_totals *t;
	enum input_class cls;
	__u64 key = (__u64)dev;
	__u32 idx = 0;
	int origin;

	cls = input_classify(type, code, value);
	if (cls == IC_NONE)
		return 0;
	/* a SYN_REPORT only matters when this device has a motion pending */
	f = bpf_map_lookup_elem(&frames, &key);
	if (!f) {
		if (cls == IC_SYN)
			return 0;
		bpf_map_update_elem(&frames, &key, &zero, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&frames, &key);
		if (!f)
			return 0;
	}
	if (cls == IC_SYN && !f->pending)
		return 0;
	t = bpf_map_lookup_elem(&counters, &idx);
	if (!t)
		return 0;
	origin = dev_origin(dev);
	if (input_account(f, &t->by[origin], cls, value))
		mark_active(origin);
	return 0;
}
