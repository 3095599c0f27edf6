/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * input.h - the wire format between bpf/input.bpf.c and its userspace side,
 * and the one classification of input events used by both the BPF source and
 * the evdev fallback (user/agent/input_evdev.c).
 *
 * Fixed-size types only; every size is pinned below. Key codes are read here
 * only to decide a class and are never stored: no struct in this file has a
 * field that could hold one.
 */
#ifndef ACTLOG_INPUT_H
#define ACTLOG_INPUT_H

#ifndef __bpf__
#include <linux/types.h>
#define ACTLOG_INLINE static inline __attribute__((always_inline))
#else
#define ACTLOG_INLINE static __always_inline
#endif

/* Event types and codes from linux/input-event-codes.h, prefixed so that the
 * header works in BPF (vmlinux.h has no macros) and in userspace alike. */
#define AL_EV_SYN 0x00
#define AL_EV_KEY 0x01
#define AL_EV_REL 0x02
#define AL_EV_ABS 0x03
#define AL_SYN_REPORT 0
#define AL_REL_X 0x00
#define AL_REL_Y 0x01
#define AL_REL_HWHEEL 0x06
#define AL_REL_WHEEL 0x08
#define AL_ABS_X 0x00
#define AL_ABS_Y 0x01
#define AL_BTN_MISC 0x100  /* first button code */
#define AL_BTN_DIGI 0x140  /* tool/touch indicators: not clicks */
#define AL_BTN_WHEEL 0x150 /* BTN_GEAR_DOWN/UP */
#define AL_KEY_OK 0x160	   /* second keyboard-key range starts here */
#define AL_BTN_TRIGGER_HAPPY 0x2c0
#define AL_BTN_TRIGGER_HAPPY40 0x2e7
#define AL_KEY_MAX 0x2ff
#define AL_BTN_TOUCH 0x14a
#define AL_BUS_VIRTUAL 0x06

enum input_origin {
	INPUT_PHYSICAL = 0,
	INPUT_SYNTHETIC = 1,
	INPUT_ORIGINS = 2,
};

/* Counters for one origin. distance is in device units (Euclidean length of
 * each motion frame, summed). */
struct input_counts {
	__u64 keys;
	__u64 clicks;
	__u64 moves;
	__u64 distance;
	__u64 scrolls;
};

/* Value of the per-CPU counter map (one entry). Userspace sums over CPUs. */
struct input_totals {
	struct input_counts by[INPUT_ORIGINS];
};

/* Per-device motion state, so that REL_X + REL_Y + SYN_REPORT count as one
 * motion and the distance of a frame is its Euclidean length. */
struct input_frame {
	__s32 dx;
	__s32 dy;
	__s32 abs_x;
	__s32 abs_y;
	__u8 pending;	/* a motion event arrived since the last SYN_REPORT */
	__u8 abs_known; /* bit 0: abs_x valid, bit 1: abs_y valid */
	__u8 pad[2];
};

/* Seconds of history kept by the active-second rings; an interval must be
 * shorter than this. Each slot holds the CLOCK_BOOTTIME second (plus one, so
 * zero means "never") in which input last arrived in that slot. */
#define ACTIVE_RING_SLOTS 4096
#define ACTLOG_MAX_INTERVAL_S 3600

#ifndef __bpf__
_Static_assert(sizeof(struct input_counts) == 40, "input_counts is a wire format");
_Static_assert(sizeof(struct input_totals) == 80, "input_totals is a wire format");
_Static_assert(sizeof(struct input_frame) == 20, "input_frame is a wire format");
_Static_assert(ACTLOG_MAX_INTERVAL_S < ACTIVE_RING_SLOTS, "ring must cover an interval");
#endif

enum input_class {
	IC_NONE = 0, /* ignored: releases, repeats, LEDs, MSC, unknown */
	IC_KEY,	     /* keyboard key press */
	IC_CLICK,    /* button press */
	IC_REL_X,    /* relative motion */
	IC_REL_Y,
	IC_ABS_X, /* absolute motion (touchpads, tablets) */
	IC_ABS_Y,
	IC_SCROLL,   /* wheel tick(s); hi-res twins are ignored */
	IC_SYN,	     /* end of a frame */
	IC_TOUCH_UP, /* contact lifted: forget the absolute position */
};

/* Classify one input event. Pure; never stores the code. */
ACTLOG_INLINE enum input_class input_classify(unsigned int type, unsigned int code, int value)
{
	switch (type) {
	case AL_EV_SYN:
		return code == AL_SYN_REPORT ? IC_SYN : IC_NONE;
	case AL_EV_KEY:
		if (code == AL_BTN_TOUCH && value == 0)
			return IC_TOUCH_UP;
		if (value != 1) /* 0 release, 2 autorepeat */
			return IC_NONE;
		if (code >= 1 && code < AL_BTN_MISC)
			return IC_KEY;
		if (code >= AL_BTN_MISC && code < AL_BTN_DIGI)
			return IC_CLICK;
		if (code >= AL_BTN_TRIGGER_HAPPY && code <= AL_BTN_TRIGGER_HAPPY40)
			return IC_CLICK;
		if (code >= AL_KEY_OK && code <= AL_KEY_MAX)
			return IC_KEY;
		return IC_NONE; /* BTN_DIGI tools, BTN_WHEEL gears, KEY_RESERVED */
	case AL_EV_REL:
		if (code == AL_REL_X)
			return IC_REL_X;
		if (code == AL_REL_Y)
			return IC_REL_Y;
		if (code == AL_REL_WHEEL || code == AL_REL_HWHEEL)
			return value ? IC_SCROLL : IC_NONE;
		return IC_NONE;
	case AL_EV_ABS:
		if (code == AL_ABS_X)
			return IC_ABS_X;
		if (code == AL_ABS_Y)
			return IC_ABS_Y;
		return IC_NONE;
	}
	return IC_NONE;
}

/* Integer square root of v (floor). Fixed 32 rounds so the BPF verifier sees
 * a bounded loop. */
ACTLOG_INLINE __u64 input_isqrt(__u64 v)
{
	__u64 res = 0, bit = 1ULL << 62;
	int i;

	for (i = 0; i < 32; i++) {
		if (bit != 0) {
			if (v >= res + bit) {
				v -= res + bit;
				res = (res >> 1) + bit;
			} else {
				res >>= 1;
			}
			bit >>= 2;
		}
	}
	return res;
}

ACTLOG_INLINE __s64 input_abs64(__s64 v)
{
	return v < 0 ? -v : v;
}

/*
 * Account one classified event: update the device's frame state and the
 * counters of its origin. Returns 1 when the event is user activity (it marks
 * an active second), 0 otherwise.
 */
ACTLOG_INLINE int input_account(struct input_frame *f, struct input_counts *c, enum input_class cls,
				int value)
{
	__s64 d;

	switch (cls) {
	case IC_KEY:
		c->keys++;
		return 1;
	case IC_CLICK:
		c->clicks++;
		return 1;
	case IC_SCROLL:
		c->scrolls += input_abs64(value);
		return 1;
	case IC_REL_X:
		f->dx += value;
		f->pending = 1;
		return 1;
	case IC_REL_Y:
		f->dy += value;
		f->pending = 1;
		return 1;
	case IC_ABS_X:
		if (f->abs_known & 1)
			f->dx += value - f->abs_x;
		f->abs_x = value;
		f->abs_known |= 1;
		f->pending = 1;
		return 1;
	case IC_ABS_Y:
		if (f->abs_known & 2)
			f->dy += value - f->abs_y;
		f->abs_y = value;
		f->abs_known |= 2;
		f->pending = 1;
		return 1;
	case IC_TOUCH_UP:
		f->abs_known = 0;
		return 1;
	case IC_SYN:
		if (f->pending) {
			c->moves++;
			d = (__s64)f->dx * f->dx + (__s64)f->dy * f->dy;
			c->distance += input_isqrt((__u64)d);
			f->dx = 0;
			f->dy = 0;
			f->pending = 0;
		}
		return 0;
	case IC_NONE:
		return 0;
	}
	return 0;
}

#endif /* ACTLOG_INPUT_H */
