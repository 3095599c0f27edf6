/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.h - exports of the rollups as rows, for download (CSV, RFC 4180)
 * and for integrations (JSON): activity (one row per person x step: the
 * counters of model/rollup.h) and apps (one row per person x application:
 * focus time and its share of the person's total). A report is opened once
 * (the people, their scope and the caps are settled there, before anything
 * is sent) and then read in pieces while it is sent, one person at a time,
 * so its memory stays bounded whatever the size of the node. Used by
 * api/report.c; the reads are model/query.h's. Nothing here logs.
 */
#ifndef ACTLOG_MODEL_REPORT_H
#define ACTLOG_MODEL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/srv.h"

#define REPORT_USERS_MAX 10000	      /* people of one report */
#define REPORT_ROWS_MAX 1000000	      /* activity rows (people x steps) of one report */
#define REPORT_PARTITIONS_MAX 1000000 /* people x days read by one report */
#define REPORT_APPS_PER_USER 1000     /* apps rows of a person; the rest in one "(other)" row */
#define REPORT_OTHER_APP "(other)"

enum report_kind { REPORT_ACTIVITY, REPORT_APPS };
enum report_format { REPORT_CSV, REPORT_JSON };

/* What a report covers, as the route parsed it. */
struct report_req {
	enum report_kind kind;
	enum report_format format;
	const char *user_id, *node_id; /* exactly one set */
	int64_t from, to;	       /* Unix ms, from <= to, at most QUERY_RANGE_MAX_MS */
	int64_t step_ms;	       /* activity: a positive multiple of an hour */
	struct tz *tz;		       /* NULL: UTC; read by report_open() only */
};

/* The size of a report, settled by report_open(), for the audit entry and
 * the error messages. */
struct report_size {
	size_t users, days, steps;
	uint64_t rows; /* activity: users x steps; apps: 0 (known once read) */
};

struct report;

/*
 * Open report r for principal p: the person user_id when p may read their
 * activity (authorize(activity.read), the self rule included), or every
 * person of the teams at or below node_id whose activity p may read, by
 * login then id. -ENOENT (no such user or node), -EACCES (p may read
 * nobody's activity there: the user, or the node and every person below
 * it), -E2BIG (more than QUERY_NODE_WALK_MAX nodes below the node),
 * -EOVERFLOW (more than REPORT_USERS_MAX people), -ERANGE (more than
 * REPORT_ROWS_MAX rows or REPORT_PARTITIONS_MAX people x days), -EINVAL
 * (q), -ENOMEM, the store's errors. size (may be NULL) is set as far as it
 * was known, also on failure. *out is the caller's (report_free()).
 */
int report_open(struct srv *s, const struct principal *p, const struct report_req *q,
		struct report **out, struct report_size *size);

/*
 * The next at most max (> 0) bytes of the report's body into buf: the
 * number written (> 0), 0 at its end, or a negative errno (a store read
 * failed; the body is then cut). A shape for http_stream_fn.
 */
ssize_t report_read(void *r, char *buf, size_t max);

/* Free r (NULL is fine). A shape for the http layer's done callback. */
void report_free(void *r);

/*
 * Append field f as one CSV field (RFC 4180) to out, at most cap bytes in
 * all with its NUL: quoted ("" for a quote) when it holds a comma, a quote,
 * CR or LF; prefixed with ' when it starts with = + - @, TAB or CR, so a
 * spreadsheet does not run it as a formula. The length written, or -ENOSPC
 * (out unchanged past what fits). Pure.
 */
int report_csv_field(char *out, size_t cap, const char *f);

#endif /* ACTLOG_MODEL_REPORT_H */
