// SPDX-License-Identifier: BSD-2-Clause
/*
 * proc.c - userspace side of bpf/proc.bpf.c: load the exec/exit programs
 * (tp_btf/ first, tp/ when the kernel refuses BTF tracepoints), attach, and
 * hand every ring-buffer event to the caller's callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "proc.skel.h"
#include "sources.h"

struct proc_bpf {
	struct proc_skel *skel;
	struct ring_buffer *rb;
	proc_cb cb;
	void *ctx;
	int ncpu;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct proc_bpf *s = ctx;

	if (len < sizeof(struct proc_record))
		return 0;
	s->cb(data, s->ctx);
	return 0;
}

/* Classic tracepoints need tracefs for their ids; mount it when absent. */
static void ensure_tracefs(void)
{
	struct stat st;

	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
		log_debug("mounting tracefs: %s", strerror(errno));
}

/* Open and load with one pair of programs enabled. */
static int load_variant(struct proc_skel **out, int btf)
{
	struct proc_skel *skel;
	int err;

	skel = proc_skel__open();
	if (!skel)
		return -errno;
	bpf_program__set_autoload(skel->progs.exec_btf, btf);
	bpf_program__set_autoload(skel->progs.exit_btf, btf);
	bpf_program__set_autoload(skel->progs.exec_tp, !btf);
	bpf_program__set_autoload(skel->progs.exit_tp, !btf);
	err = proc_skel__load(skel);
	if (!err)
		err = proc_skel__attach(skel);
	if (err) {
		proc_skel__destroy(skel);
		return err < 0 ? err : -EINVAL;
	}
	*out = skel;
	return 0;
}

int proc_bpf_open(struct proc_bpf **out, proc_cb cb, void *ctx, const char **variant)
{
	struct proc_bpf *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cb = cb;
	s->ctx = ctx;
	s->ncpu = libbpf_num_possible_cpus();
	if (s->ncpu <= 0) {
		err = -EINVAL;
		goto fail;
	}
	err = load_variant(&s->skel, 1);
	if (err) {
		log_info("tp_btf process tracepoints unavailable (%s); trying tp/", strerror(-err));
		ensure_tracefs();
		err = load_variant(&s->skel, 0);
		if (err)
			goto fail;
		*variant = "tp";
	} else {
		*variant = "tp_btf";
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_event, s, NULL);
	if (!s->rb) {
		err = -errno;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	proc_bpf_close(s);
	return err;
}

int proc_bpf_fd(const struct proc_bpf *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

int proc_bpf_dispatch(struct proc_bpf *s)
{
	int n = ring_buffer__consume(s->rb);

	return n < 0 ? n : 0;
}

uint64_t proc_bpf_drops(struct proc_bpf *s)
{
	__u64 vals[s->ncpu > 0 ? s->ncpu : 1];
	__u32 key = 0;
	uint64_t sum = 0;
	int i;

	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.drops), &key, vals) < 0)
		return 0;
	for (i = 0; i < s->ncpu; i++)
		sum += vals[i];
	return sum;
}

void proc_bpf_close(struct proc_bpf *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	proc_skel__destroy(s->skel);
	free(s);
}
