// SPDX-License-Identifier: BSD-2-Clause
/*
 * input.c - userspace side of bpf/input.bpf.c: load and attach the fentry
 * program, and read its counters and active-second rings once per interval
 * (one map lookup; the rings are read in place through the mmap'ed .bss).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "input.skel.h"
#include "sources.h"

struct input_bpf {
	struct input_skel *skel;
	int ncpu;
	struct input_totals *percpu; /* ncpu values, one lookup buffer */
};

int input_bpf_open(struct input_bpf **out)
{
	struct input_bpf *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ncpu = libbpf_num_possible_cpus();
	if (s->ncpu <= 0) {
		err = s->ncpu ? s->ncpu : -EINVAL;
		goto fail;
	}
	s->percpu = calloc((size_t)s->ncpu, sizeof(*s->percpu));
	if (!s->percpu) {
		err = -ENOMEM;
		goto fail;
	}
	s->skel = input_skel__open();
	if (!s->skel) {
		err = -errno;
		goto fail;
	}
	err = input_skel__load(s->skel);
	if (err)
		goto fail;
	err = input_skel__attach(s->skel);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	input_bpf_close(s);
	return err < 0 ? err : -EINVAL;
}

int input_bpf_read(struct input_bpf *s, struct input_state *st)
{
	__u32 key = 0;
	int i, o;

	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.counters), &key, s->percpu) < 0)
		return -errno;
	memset(&st->totals, 0, sizeof(st->totals));
	for (i = 0; i < s->ncpu; i++) {
		for (o = 0; o < INPUT_ORIGINS; o++) {
			struct input_counts *d = &st->totals.by[o];
			const struct input_counts *c = &s->percpu[i].by[o];

			d->keys += c->keys;
			d->clicks += c->clicks;
			d->moves += c->moves;
			d->distance += c->distance;
			d->scrolls += c->scrolls;
		}
	}
	st->ring = (const volatile __u32(*)[ACTIVE_RING_SLOTS])s->skel->bss->active_ring;
	for (o = 0; o < INPUT_ORIGINS; o++)
		st->last_input_ns[o] = s->skel->bss->last_input_ns[o];
	return 0;
}

void input_bpf_close(struct input_bpf *s)
{
	if (!s)
		return;
	input_skel__destroy(s->skel);
	free(s->percpu);
	free(s);
}
