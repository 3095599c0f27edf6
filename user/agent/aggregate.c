// SPDX-License-Identifier: BSD-2-Clause
#include "aggregate.h"

static uint64_t delta(uint64_t prev, uint64_t cur)
{
	return cur >= prev ? cur - prev : cur;
}

static void diff_counts(const struct input_counts *p, const struct input_counts *c,
			struct input_counts *o)
{
	o->keys = delta(p->keys, c->keys);
	o->clicks = delta(p->clicks, c->clicks);
	o->moves = delta(p->moves, c->moves);
	o->distance = delta(p->distance, c->distance);
	o->scrolls = delta(p->scrolls, c->scrolls);
}

void aggregate_diff(const struct input_totals *prev, const struct input_totals *cur,
		    struct interval_counts *out)
{
	struct input_counts phys;

	diff_counts(&prev->by[INPUT_PHYSICAL], &cur->by[INPUT_PHYSICAL], &phys);
	diff_counts(&prev->by[INPUT_SYNTHETIC], &cur->by[INPUT_SYNTHETIC], &out->synthetic);
	out->all.keys = phys.keys + out->synthetic.keys;
	out->all.clicks = phys.clicks + out->synthetic.clicks;
	out->all.moves = phys.moves + out->synthetic.moves;
	out->all.distance = phys.distance + out->synthetic.distance;
	out->all.scrolls = phys.scrolls + out->synthetic.scrolls;
}

uint32_t aggregate_active_seconds(const volatile __u32 *ring, uint64_t start_s, uint64_t end_s)
{
	uint32_t n = 0;
	uint64_t s;

	if (end_s <= start_s)
		return 0;
	if (end_s - start_s > ACTIVE_RING_SLOTS)
		start_s = end_s - ACTIVE_RING_SLOTS;
	for (s = start_s; s < end_s; s++)
		if (ring[s % ACTIVE_RING_SLOTS] == (__u32)(s + 1))
			n++;
	return n;
}

bool aggregate_idle(uint64_t last_input_ns, uint64_t end_ns, uint32_t threshold_s)
{
	if (last_input_ns == 0 || last_input_ns > end_ns)
		return last_input_ns == 0;
	return end_ns - last_input_ns >= (uint64_t)threshold_s * 1000000000ULL;
}
