/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aggregate.h - turn cumulative input counters and active-second rings into
 * one interval's numbers. Pure: no I/O, no clocks; tests feed it arrays.
 */
#ifndef ACTLOG_AGGREGATE_H
#define ACTLOG_AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>

#include "input.h"

struct interval_counts {
	struct input_counts all;       /* physical + synthetic */
	struct input_counts synthetic; /* the synthetic share */
	uint32_t active_s;	       /* seconds with any input */
	uint32_t synthetic_active_s;   /* seconds with synthetic input */
	bool idle;		       /* no input for idle_threshold_s at the end */
};

/* out = cur - prev for both origins; all = physical + synthetic. A counter
 * that went backwards (source restarted) counts from zero instead. */
void aggregate_diff(const struct input_totals *prev, const struct input_totals *cur,
		    struct interval_counts *out);

/* Number of seconds s in [start_s, end_s) marked in ring (slot s % SLOTS
 * holds s + 1). Ranges longer than the ring are clipped to its newest
 * ACTIVE_RING_SLOTS seconds. */
uint32_t aggregate_active_seconds(const volatile __u32 *ring, uint64_t start_s, uint64_t end_s);

/* Idle: true when the last input (CLOCK_BOOTTIME ns, 0 = never) is at least
 * threshold_s before end_ns. */
bool aggregate_idle(uint64_t last_input_ns, uint64_t end_ns, uint32_t threshold_s);

#endif /* ACTLOG_AGGREGATE_H */
