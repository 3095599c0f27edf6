// SPDX-License-Identifier: BSD-2-Clause
/*
 * proc.c - userspace side of bpf/proc.bpf.c: load the exec/exit programs
 * (tp_btf/ first, tp/ when the kernel refuses BTF tracepoints), attach, and
 * hand every ring-buffer event to the caller's callback.
 *
 * Wake-ups: the kernel wakes us for the first event after a quiet spell and
 * when the ring fills (bpf/proc.bpf.c, wake_flags()); the events between
 * wait for a one-shot drain timer armed PROC_WAKE_NS after every dispatch
 * that found events. The fd the caller polls is an epoll set of the ring
 * and that timer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
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
	int epfd; /* the ring's map fd and tfd */
	int tfd;  /* drain timer, CLOCK_MONOTONIC, one-shot */
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct proc_bpf *s = ctx;
	struct proc_record r;

	if (len >= sizeof(r)) {
		s->cb(data, s->ctx);
	} else if (len >= PROC_EXIT_SIZE) {
		/* a short (exit) event: the rest reads as empty */
		memcpy(&r, data, len);
		memset((char *)&r + len, 0, sizeof(r) - len);
		s->cb(&r, s->ctx);
	}
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
	s->epfd = s->tfd = -1;
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
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epfd < 0 || s->tfd < 0) {
		err = -errno;
		goto fail;
	}
	{
		struct epoll_event ev = {.events = EPOLLIN};

		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, bpf_map__fd(s->skel->maps.events), &ev) < 0 ||
		    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->tfd, &ev) < 0) {
			err = -errno;
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	proc_bpf_close(s);
	return err;
}

int proc_bpf_fd(const struct proc_bpf *s)
{
	return s->epfd;
}

int proc_bpf_dispatch(struct proc_bpf *s)
{
	struct itimerspec its = {.it_value = {.tv_sec = PROC_WAKE_NS / 1000000000ULL,
					      .tv_nsec = PROC_WAKE_NS % 1000000000ULL}};
	uint64_t ticks;
	int n;

	(void)!read(s->tfd, &ticks, sizeof(ticks)); /* EAGAIN when it did not fire */
	n = ring_buffer__consume(s->rb);
	if (n < 0)
		return n;
	/* events came: look again later for those that did not wake us */
	if (n > 0 && timerfd_settime(s->tfd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
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
	if (s->tfd >= 0)
		close(s->tfd);
	if (s->epfd >= 0)
		close(s->epfd);
	ring_buffer__free(s->rb);
	proc_skel__destroy(s->skel);
	free(s);
}
