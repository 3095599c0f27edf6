/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sysinfo_mon.h - the daemon side of the sysinfo record: reads the files
 * that user/agent/sysinfo.h parses, measures filesystems with statvfs, and
 * decides when a record is due:
 *
 *  - at start (sysinfo_mon_start);
 *  - when interval_s has passed since the last record (a one-shot
 *    CLOCK_BOOTTIME timerfd for the daemon's epoll: sysinfo_mon_dispatch);
 *  - when an identity value changed (sysinfo_changes in sysinfo.h): the
 *    daemon calls sysinfo_mon_check when an activity interval closes, which
 *    reads only the small files (uname, os-release, meminfo, the online CPU
 *    list, mountinfo) and no statvfs.
 *
 * Mounts are read from /proc/1/mountinfo and measured through /proc/1/root,
 * so a daemon in its own mount namespace (systemd's ProtectHome, PrivateTmp)
 * still reports the machine's filesystems; /proc/self/mountinfo when pid 1's
 * is unreadable. statvfs on a network or FUSE filesystem runs in a helper
 * thread with a timeout, so a hung NFS server cannot stall the event loop;
 * such a mount is reported with "error":"timeout" and not asked again until
 * the stuck call returns.
 *
 * Single-threaded use (the event loop); functions return 0 or -errno and do
 * not log; close accepts NULL.
 */
#ifndef ACTLOG_SYSINFO_MON_H
#define ACTLOG_SYSINFO_MON_H

#include <stdint.h>
#include <sys/statvfs.h>

#include "record.h"
#include "sysinfo.h"

#define SYSINFO_TIMEOUT_MS 1000 /* statvfs of a network or FUSE filesystem */
#define SYSINFO_MAX_STUCK 8	/* statvfs calls still hanging, at most */

/* statvfs replacement for tests: 0 or -errno. */
typedef int (*sysinfo_statfs_fn)(const char *path, struct statvfs *st, void *ctx);
/* Takes ownership of json (NULL: out of memory), a record at ts_ms. */
typedef void (*sysinfo_emit_fn)(char *json, int64_t ts_ms, void *ctx);

struct sysinfo_mon_opts {
	const char *root;	  /* prefix of every /proc, /sys, /etc path; NULL = "" */
	sysinfo_statfs_fn statfs; /* NULL = statvfs(3) */
	void *statfs_ctx;
	int timeout_ms;		       /* 0 = SYSINFO_TIMEOUT_MS */
	uint32_t interval_s;	       /* SI_INTERVAL_MIN..MAX */
	const struct record_ctx *rctx; /* read when a record is built */
	sysinfo_emit_fn emit;
	void *ctx;
};

struct sysinfo_mon;

/* Set up (no record yet, timer not armed). -EINVAL for a bad interval. */
int sysinfo_mon_open(struct sysinfo_mon **out, const struct sysinfo_mon_opts *o);
/* The timerfd to watch for readability. */
int sysinfo_mon_fd(const struct sysinfo_mon *m);
/* Write the start record and arm the timer. */
void sysinfo_mon_start(struct sysinfo_mon *m);
/* The timer fired: write the periodic record, re-arm. */
void sysinfo_mon_dispatch(struct sysinfo_mon *m);
/* Cheap check for a changed identity value; writes a "change" record when
 * there is one. Returns the SI_CHANGE_* mask found (0: none). */
unsigned int sysinfo_mon_check(struct sysinfo_mon *m);
/* A new interval (SI_INTERVAL_MIN..MAX) counts from the last record;
 * when that time has passed the record is written at the next tick.
 * -EINVAL leaves the interval as it is. */
int sysinfo_mon_set_interval(struct sysinfo_mon *m, uint32_t interval_s);
uint32_t sysinfo_mon_interval(const struct sysinfo_mon *m);
/* Apply "sysinfo.interval_s" of a policy object (flat dotted keys); a
 * missing key or a value outside the range changes nothing. 1 when the
 * interval changed, else 0. */
struct cJSON;
int sysinfo_mon_policy(struct sysinfo_mon *m, const struct cJSON *cfg);
/* Add "sysinfo": {interval_s, records, last, next_in_s} to a status object. */
void sysinfo_mon_status(const struct sysinfo_mon *m, struct cJSON *status);
void sysinfo_mon_close(struct sysinfo_mon *m);

/* Read the machine into s. full = 0: only what the change check compares
 * (hostname, kernel, os-release, meminfo, online CPUs, mount set); full = 1
 * also cpuinfo, /proc/stat, loadavg and filesystem sizes. */
void sysinfo_collect(struct sysinfo_mon *m, struct si_snapshot *s, int full);

#endif /* ACTLOG_SYSINFO_MON_H */
