/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * app_usage.h - the app_usage record: seconds of focus per application in
 * an interval and the processes that used the most CPU (DESIGN §3). Pure:
 * the caller supplies every value (user/agent/apps.c gathers them).
 */
#ifndef ACTLOG_APP_USAGE_H
#define ACTLOG_APP_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "focus.h"
#include "record.h"

/* One of the interval's busiest processes (app_usage.top_cpu). */
struct app_cpu {
	uint32_t pid;
	uint32_t uid;	 /* PROC_UID_UNKNOWN: null */
	const char *exe; /* NULL: null */
	const char *app; /* .desktop Name, else the exe's basename, else the comm */
	double cpu_s;	 /* CPU seconds used in the interval */
};

struct app_usage {
	int64_t start_ms, end_ms; /* the interval [start, end) */
	uint32_t interval_s;
	const char *source; /* how focus is known ("x11-ewmh", ...), NULL: no session helper */
	const struct focus_total *apps; /* per app, largest first */
	size_t n_apps;
	const struct focus_total *titles; /* NULL: titles are off, the key is left out */
	size_t n_titles;
	double unknown_s; /* a helper was there but could not tell the focus */
	const struct app_cpu *top;
	size_t n_top;
};

/* {"type":"app_usage", start, end, interval_s, source, apps:[{app, focus_s}],
 *  unknown_s, [titles:[{app, title, focus_s}]], top_cpu:[{pid, uid, app, exe,
 *  cpu_s}]}. Strings are cleaned to UTF-8. */
char *record_app_usage(const struct record_ctx *c, const struct app_usage *u);

#endif /* ACTLOG_APP_USAGE_H */
