/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * record.h - the agent's records (NDJSON, one object per line; DESIGN §3).
 * Every builder returns a malloc'd JSON text without a newline, or NULL when
 * memory runs out. Pure: callers supply every time and value.
 */
#ifndef ACTLOG_RECORD_H
#define ACTLOG_RECORD_H

#include <stdint.h>

#include "aggregate.h"
#include "proc.h"

#define RECORD_VERSION 1

struct record_ctx {
	const char *host_id; /* app-specific machine id, 32 hex chars */
	const char *user;    /* login name of the active graphical session, or NULL */
	const char *session; /* with user NULL: "none" (no active graphical session
			      * on seat0), "unknown" (the agent cannot tell) or
			      * "withheld" (logging off by policy); NULL writes
			      * no "session" field */
};

/* For record builders in other files: a new record object with the common
 * head (type, ts, v, host_id, user[, session]), NULL when memory runs out;
 * and its serialisation, which frees o (NULL in, or any failure, gives NULL). */
struct cJSON;
struct cJSON *record_new(const struct record_ctx *c, const char *type, int64_t ts_ms);
char *record_finish(struct cJSON *o);

/* {"type":"activity", start, end, keys, clicks, moves, distance, scrolls,
 *  active_s, idle, synthetic:{...}} for [start_ms, end_ms). */
char *record_activity(const struct record_ctx *c, int64_t start_ms, int64_t end_ms,
		      uint32_t interval_s, const struct interval_counts *ic);

/* {"type":"process","event":"exec"|"exit",...}. boot_to_unix_ns converts a
 * CLOCK_BOOTTIME time of the record into unix ns (unix = boot + offset).
 * Exit: exit_code is the exit status, or 128 + signal with "signal" set. */
char *record_process(const struct record_ctx *c, const struct proc_record *p,
		     int64_t boot_to_unix_ns);

struct agent_info {
	const char *event;	  /* "start", "interval", "stop" */
	const char *version;	  /* agent version */
	const char *input_source; /* "bpf", "evdev", "none" */
	const char *input_detail; /* why, or which attach point */
	const char *proc_source;  /* "bpf", "netlink", "none" */
	const char *proc_detail;
	uint64_t proc_drops;	/* process events lost in the kernel/socket, total */
	uint64_t spool_dropped; /* records dropped by the spool cap, total */
	uint64_t spool_corrupt; /* damaged records skipped or truncated, total */
	uint64_t spool_bytes;
	uint64_t spool_records;
	uint64_t records_written; /* records appended since start */
	uint64_t shots_dropped;	  /* screenshots dropped by the queue bound, since start */
	uint64_t shots_failed;	  /* screenshots the server refused for good, since start */
	uint64_t shots_queued;	  /* screenshots waiting for upload */
};

char *record_agent(const struct record_ctx *c, int64_t ts_ms, const struct agent_info *a);

#endif /* ACTLOG_RECORD_H */
