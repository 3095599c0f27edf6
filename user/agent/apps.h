/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * apps.h - actlogd's application tracking, behind a handful of hooks in the
 * event loop: focus seconds per application (reported by actlog-session
 * helpers over the session socket, user/agent/session_sock.c), the processes that used
 * the most CPU in each interval, and application names from .desktop files.
 * Together they make one app_usage record per interval.
 *
 * CPU sampling is cheap by construction: a table of live processes (at most
 * APPS_MAX_PIDS) is kept from the exec/exit stream; at interval close one
 * getdents of /proc adds processes the stream cannot report (children that
 * forked without exec, and those older than actlogd), then /proc/PID/stat is
 * read once for each live process and diffed with the previous sample.
 * Processes that exited during the interval are counted from the CPU time
 * their exit event carries. Nothing runs between interval closes.
 *
 * Functions return 0 or -errno and do not log errors, except where noted;
 * apps_close accepts NULL, and every hook accepts a NULL struct apps.
 */
#ifndef ACTLOG_APPS_H
#define ACTLOG_APPS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "proc.h"
#include "record.h"
#include "session_sock.h"

#define APPS_MAX_PIDS 4096 /* processes whose CPU is followed */
#define APPS_TOP_N 5	   /* top_cpu entries per record */
#define APPS_MAX_APPS 32   /* apps entries per record (the ingest cap) */
#define APPS_MAX_TITLES 32 /* titles entries per record */

struct apps_opts {
	const char *session_socket; /* path of the session socket */
	int64_t session_uid;	    /* >= 0: helpers of this uid; -1: of the active user */
	/* the active user's uid (-1 nobody) and its source; NULL: logind */
	int64_t (*active_uid)(void *ctx, const char **by);
	void *active_ctx;
	const char *desktop_dirs; /* ':'-separated .desktop directories */
	/* a checked screenshot from a helper (session_sock.h); NULL: shots refused */
	int (*shot)(void *ctx, const struct sessd_shot *sh, char *why, size_t whylen);
	void *shot_ctx;
};

struct apps;

/* Open the session socket, scan the .desktop directories (logs how many
 * entries it found), and take the first CPU sample. */
int apps_open(struct apps **out, const struct apps_opts *o);
/* The session socket's pollable fd, and its dispatch. */
int apps_fd(const struct apps *a);
int apps_dispatch(struct apps *a);
/* Every exec and exit the process source delivers. */
void apps_on_proc(struct apps *a, const struct proc_record *r);
/* Close the interval [start_ms, end_ms): the app_usage record (malloc'd
 * JSON, NULL when out of memory); the next interval starts now. */
char *apps_interval_close(struct apps *a, const struct record_ctx *rc, int64_t start_ms,
			  int64_t end_ms, uint32_t interval_s);
/* Apply the effective policy (flat dotted keys): apps.titles. */
void apps_policy(struct apps *a, const cJSON *cfg);
/* The active user changed: helpers of anyone else are closed. */
void apps_user_changed(struct apps *a);
/* SIGHUP: scan the .desktop directories again (logs the count). */
void apps_reload(struct apps *a);
/* Add "session" (helpers, focus) and "apps" (CPU table) objects to status. */
void apps_status(struct apps *a, cJSON *status);
void apps_close(struct apps *a);

#endif /* ACTLOG_APPS_H */
