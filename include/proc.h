/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * proc.h - the process event that bpf/proc.bpf.c writes to its ring buffer
 * and that the netlink fallback (user/agent/proc_netlink.c) fills the same way.
 * Fixed-size, sizes pinned: this is a wire format.
 */
#ifndef ACTLOG_PROC_H
#define ACTLOG_PROC_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define PROC_COMM_LEN 16
#define PROC_EXE_LEN 256

enum proc_event_kind {
	PROC_EXEC = 1,
	PROC_EXIT = 2,
};

#define PROC_F_EXE_TRUNCATED 0x1     /* exe did not fit PROC_EXE_LEN */
#define PROC_F_EXE_UNKNOWN 0x2	     /* exe could not be read (netlink race) */
#define PROC_F_CPU_UNKNOWN 0x4	     /* exit: CPU time could not be read (netlink race) */
#define PROC_UID_UNKNOWN 0xffffffffU /* uid could not be read (netlink race) */

struct proc_record {
	__u32 kind;	 /* enum proc_event_kind */
	__u32 pid;	 /* thread-group id: the process */
	__u32 ppid;	 /* parent's thread-group id */
	__u32 uid;	 /* real uid */
	__s32 exit_code; /* exit: wait(2) status (code << 8 | signal) */
	__u32 flags;	 /* PROC_F_* */
	__u64 start_ns;	 /* process start, CLOCK_BOOTTIME ns */
	__u64 ts_ns;	 /* event time, CLOCK_BOOTTIME ns */
	__u64 cpu_ns;	 /* exit: user + system CPU of all threads, ns */
	char comm[PROC_COMM_LEN];
	char exe[PROC_EXE_LEN];
};

/* An exit event ends before exe: the ring buffer carries only this much. */
#define PROC_EXIT_SIZE 64

/* Ring buffer of bpf/proc.bpf.c, and when it wakes userspace: after
 * PROC_WAKE_NS without a wake-up, or when PROC_WAKE_BYTES are waiting.
 * Userspace drains PROC_WAKE_NS after every batch it read. */
#define PROC_RING_BYTES (512 << 10)
#define PROC_WAKE_BYTES (64 << 10)
#define PROC_WAKE_NS 100000000ULL

#ifndef __bpf__
_Static_assert(sizeof(struct proc_record) == 320, "proc_record is a wire format");
_Static_assert(__builtin_offsetof(struct proc_record, exe) == PROC_EXIT_SIZE,
	       "an exit event is the record up to exe");
#endif

#endif /* ACTLOG_PROC_H */
