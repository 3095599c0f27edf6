/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * day.h - a person's day from the raw RECORDS (store/keys.h): the focused
 * applications as spans, activity per 10-minute slot, idle spans, the
 * processes that used the most CPU and the machines used. Used by
 * GET /api/v1/users/{id}/day (api/day.c), which parses the arguments,
 * authorizes the request and replies with the answer built here.
 *
 * Which devices: the devices of the user's team (DEVICES pk "team|<team>",
 * at most DAY_TEAM_DEVICES_MAX looked at) that the user owns or whose
 * users_seen names the user with a last_seen at or after the day's start
 * (less DEVICE_USERS_SEEN_STEP_MS, the step by which it is raised); at
 * most DAY_DEVICES_MAX of them (more: devices_truncated). Raw records keep
 * user_id: only the user's records count, so another person's records on a
 * shared machine never appear.
 *
 * Which records: a record belongs to the day of its start ("start", else
 * ts less interval_s, else ts), so a record is read by its ts in [from,
 * to + DAY_RECORD_SPAN_MS) and kept when its start is in [from, to). At
 * most DAY_RECORDS_MAX records are read per request, the user's or not
 * (truncated then). Times are Unix ms; nothing here logs.
 */
#ifndef ACTLOG_MODEL_DAY_H
#define ACTLOG_MODEL_DAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"

#define DAY_RANGE_MAX_MS (48LL * 3600000)  /* to - from */
#define DAY_RECORDS_MAX 20000		   /* records read per request */
#define DAY_DEVICES_MAX 16		   /* devices read per request */
#define DAY_TEAM_DEVICES_MAX 5000	   /* devices of the team looked at */
#define DAY_RECORD_SPAN_MS (3600LL * 1000) /* longest record (interval_s <= 3600) */
#define DAY_SLOT_MS (600LL * 1000)	   /* activity slots */
#define DAY_SPAN_GAP_MS 2000		   /* spans this close merge */
#define DAY_SPANS_MAX 20000		   /* focus and idle spans kept (then truncated) */
#define DAY_TOP_CPU 10			   /* processes answered */
#define DAY_CPU_DISTINCT_MAX 2000	   /* (app, exe) pairs summed; more are left out */
#define DAY_APP_MAX 128			   /* bytes of an application name (ingest's cap) */

/* A span of focus (app set) or idleness (app ""). */
struct day_span {
	int64_t start, end; /* [start, end), Unix ms */
	double focus_s;	    /* the records' exact seconds (focus); 0 for idle */
	char app[DAY_APP_MAX + 1];
	char device_id[ID_SIZE];
};

/* A growing list of spans. */
struct day_spans {
	struct day_span *v;
	size_t n, cap;
	bool truncated; /* DAY_SPANS_MAX reached: later spans were left out */
};

/* An application of an app_usage record and its focus seconds. */
struct day_app {
	const char *app;
	double focus_s;
};

/*
 * Add the focus of one app_usage record of device dev covering [start,
 * end) to sp: its n apps laid out one after the other from start (each
 * for its focus_s, cut at end), in the record's order except that the app
 * of sp's last span comes first when that span is of the same device and
 * ends within DAY_SPAN_GAP_MS of start (the focus that goes on from the
 * record before). A span of the same app and device that starts within
 * DAY_SPAN_GAP_MS of sp's last span's end is merged into it (end moved,
 * focus_s summed). Apps with focus_s <= 0 or an empty name are skipped.
 * Records must come in start order per device. 0, -ENOMEM. Pure.
 */
int day_spans_add_focus(struct day_spans *sp, const char *dev, int64_t start, int64_t end,
			const struct day_app *apps, size_t n);

/*
 * Add the idle span [start, end) of device dev to sp, merged into sp's
 * last span when that is of the same device and ends within
 * DAY_SPAN_GAP_MS of start. 0, -ENOMEM. Pure.
 */
int day_spans_add_idle(struct day_spans *sp, const char *dev, int64_t start, int64_t end);

/* Sort sp's spans by start (then device). Pure. */
void day_spans_sort(struct day_spans *sp);

/* Free sp's spans (sp itself is the caller's). */
void day_spans_free(struct day_spans *sp);

/* 0 when tz is NULL (UTC) or an IANA zone name core/tz.h opens, else
 * -ENOTSUP. */
int day_tz_check(const char *tz);

/*
 * The UTC bounds [*from, *to) of the local day date ("YYYY-MM-DD") in
 * time zone tz (NULL: UTC; else an IANA name, -ENOTSUP when unknown): from
 * its local midnight to the next day's, so 23 or 25 hours on a day the
 * zone's offset changes. -EINVAL for a malformed or impossible date,
 * -ENOMEM.
 */
int day_bounds(const char *date, const char *tz, int64_t *from, int64_t *to);

/*
 * The day of user uid (not checked to exist) in [from, to) (at most
 * DAY_RANGE_MAX_MS, from < to, else -EINVAL). *out (the caller's):
 * {user_id, from, to, focus: [{start, end, app, focus_s, device_id}],
 * activity: [{start, active_s, interval_s, keys, clicks, moves, scrolls,
 * records}] (one per DAY_SLOT_MS slot from from), idle: [{start, end,
 * device_id}], top_cpu: [{app, exe, cpu_s}], devices: [{device_id,
 * hostname, team_id, first, last}], records (the user's records read), truncated,
 * devices_truncated}. -ENOENT (no such user), -ENOMEM, the store's errors.
 */
int day_query(struct srv *s, const char *uid, int64_t from, int64_t to, cJSON **out);

#endif /* ACTLOG_MODEL_DAY_H */
