/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc_parse.h - pure parsers for /proc/PID/stat and /proc/PID/status.
 *
 * They take a buffer and its length (no NUL terminator needed, nothing is
 * read past len), do no I/O and keep no state, so the unit tests feed them
 * fixtures. The netlink process source (user/agent/proc_netlink.c) does the reads.
 */
#ifndef ACTLOG_PROC_PARSE_H
#define ACTLOG_PROC_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "proc.h"

/* The fields of /proc/PID/stat that actlog uses. Times are in clock ticks
 * (sysconf(_SC_CLK_TCK)); start_ticks counts from boot (CLOCK_BOOTTIME). */
struct proc_stat_info {
	uint32_t pid;		  /* field 1 */
	char comm[PROC_COMM_LEN]; /* field 2, raw bytes, NUL-terminated */
	char state;		  /* field 3 */
	uint32_t ppid;		  /* field 4 */
	uint64_t utime_ticks;	  /* field 14 */
	uint64_t stime_ticks;	  /* field 15 */
	uint64_t start_ticks;	  /* field 22 */
};

/* The fields of /proc/PID/status that actlog uses. */
struct proc_status_info {
	uint32_t ppid; /* "PPid:" */
	uint32_t uid;  /* "Uid:", first column: the real uid */
};

/*
 * Parse the contents of /proc/PID/stat from buf[0..len). The comm is the text
 * between the first '(' and the LAST ')', so a comm that itself contains
 * spaces, '(' or ')' parses correctly; it is cut to PROC_COMM_LEN - 1 bytes.
 * Fills *out and returns 0, or -EINVAL when the text is malformed or has
 * fewer than 22 fields (out is then unspecified).
 */
int proc_parse_stat(const char *buf, size_t len, struct proc_stat_info *out);

/*
 * Parse the contents of /proc/PID/status from buf[0..len): the "PPid:" line
 * and the real uid of the "Uid:" line. Keys are only matched at the start of
 * a line. Returns 0, or -EINVAL when either line is missing or malformed.
 */
int proc_parse_status(const char *buf, size_t len, struct proc_status_info *out);

/* Convert clock ticks at hz ticks per second to nanoseconds without
 * overflowing the intermediate product. hz <= 0 yields 0. */
uint64_t proc_ticks_to_ns(uint64_t ticks, long hz);

#endif /* ACTLOG_PROC_PARSE_H */
