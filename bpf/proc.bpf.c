// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * proc.bpf.c - process exec and exit, one fixed-size event each
 * (include/proc.h) on one ring buffer.
 *
 * Two attachments of the same logic: BTF-enabled raw tracepoints (tp_btf/)
 * where the kernel has them, classic tracepoints (tp/) otherwise; userspace
 * enables one pair before load. Threads are filtered here: exec is per
 * process, exit is reported once, by the last thread of the group. Every
 * failed ring-buffer reservation is counted in `drops`. Exit events are
 * shorter than exec events (PROC_EXIT_SIZE: no exe).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "proc.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PROC_RING_BYTES);
} events SEC(".maps");

/* When userspace was last woken (CLOCK_BOOTTIME ns); see wake_flags(). */
__u64 last_wake_ns;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 idx = 0;
	__u64 *d = bpf_map_lookup_elem(&drops, &idx);

	if (d)
		(*d)++;
}

/*
 * Wake userspace for an event only when it has not been woken for
 * PROC_WAKE_NS, or when PROC_WAKE_BYTES are waiting; otherwise the event
 * waits for the drain that userspace runs PROC_WAKE_NS after each batch it
 * read (user/agent/proc.c). A burst of execs then costs a few wake-ups a second
 * instead of one per event, and a quiet machine costs none. Races between
 * CPUs on last_wake_ns only cause an extra wake-up.
 */
static __always_inline __u64 wake_flags(__u64 now)
{
	if (now - last_wake_ns >= PROC_WAKE_NS ||
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= PROC_WAKE_BYTES) {
		last_wake_ns = now;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_common(struct proc_record *e, struct task_struct *p, __u32 kind)
{
	e->kind = kind;
	e->pid = BPF_CORE_READ(p, tgid);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->uid = BPF_CORE_READ(p, real_cred, uid.val);
	e->exit_code = 0;
	e->flags = 0;
	e->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cpu_ns = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
}

static __always_inline int emit_exec(struct task_struct *p, const char *filename)
{
	struct proc_record *e;
	long n;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	fill_common(e, p, PROC_EXEC);
	n = bpf_probe_read_kernel_str(e->exe, sizeof(e->exe), filename);
	if (n < 0) {
		e->exe[0] = '\0';
		e->flags |= PROC_F_EXE_UNKNOWN;
	} else if (n == sizeof(e->exe)) {
		e->flags |= PROC_F_EXE_TRUNCATED;
	}
	bpf_ringbuf_submit(e, wake_flags(e->ts_ns));
	return 0;
}

static __always_inline int emit_exit(struct task_struct *p)
{
	struct signal_struct *sig = BPF_CORE_READ(p, signal);
	struct proc_record *e;

	/* only the last thread of the group reports the process's exit;
	 * do_exit() has already decremented signal->live at this point */
	if (BPF_CORE_READ(sig, live.counter) != 0)
		return 0;
	/* an exit has no exe: its event stops before the field */
	e = bpf_ringbuf_reserve(&events, PROC_EXIT_SIZE, 0);
	if (!e) {
		count_drop();
		return 0;
	}
	fill_common(e, p, PROC_EXIT);
	e->exit_code = BPF_CORE_READ(p, exit_code);
	/* CPU of this thread plus what exited threads left in signal_struct */
	e->cpu_ns = BPF_CORE_READ(p, utime) + BPF_CORE_READ(p, stime) + BPF_CORE_READ(sig, utime) +
		    BPF_CORE_READ(sig, stime);
	bpf_ringbuf_submit(e, wake_flags(e->ts_ns));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return emit_exec(p, BPF_CORE_READ(bprm, filename));
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *p)
{
	return emit_exit(p);
}

SEC("tp/sched/sched_process_exec")
int exec_tp(struct trace_event_raw_sched_process_exec *ctx)
{
	unsigned int off = ctx->__data_loc_filename & 0xFFFF;

	return emit_exec((struct task_struct *)bpf_get_current_task(), (const char *)ctx + off);
}

SEC("tp/sched/sched_process_exit")
int exit_tp(void *ctx)
{
	return emit_exit((struct task_struct *)bpf_get_current_task());
}
