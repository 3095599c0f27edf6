/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * query.h - reading what ingest stored: a user's activity series and the
 * top applications of a user or of a node (from ROLLUPS, never raw
 * records), a device's sysinfo and process records (RECORDS), and the audit
 * log (AUDIT). The layout is store/keys.h's; the counters are
 * model/rollup.h's. Used by the query routes (api/query.c), which parse the
 * arguments, authorize the request and reply with the answer built here.
 *
 * Times are Unix ms. Raw records and audit entries are read in [from, to);
 * rollups are hourly, and an hour counts when its start is in
 * [from rounded down to the hour, to). Every function takes a range of at
 * most QUERY_RANGE_MAX_MS with from <= to (-EINVAL otherwise), reads a
 * bounded number of partitions and items, and returns 0 and the answer in
 * *out (the caller's), or a negative errno: those listed, -ENOMEM, or the
 * store's error (store.h). Nothing here logs.
 */
#ifndef ACTLOG_MODEL_QUERY_H
#define ACTLOG_MODEL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "core/tz.h"
#include "model/rollup.h"

#define QUERY_HOUR_MS 3600000LL
#define QUERY_DAY_MS 86400000LL
#define QUERY_RANGE_MAX_MS (400LL * QUERY_DAY_MS) /* to - from */
#define QUERY_POINTS_MAX LIST_MAX		  /* points of an activity series */
#define QUERY_TOP_MAX 100			  /* applications of a top list */
#define QUERY_RECORDS_MAX LIST_MAX		  /* records of a device answer */
#define QUERY_AUDIT_MAX LIST_MAX		  /* entries of an audit answer */
#define QUERY_AUDIT_SCAN_MAX 200000    /* audit entries read (in scope or not) per query */
#define QUERY_NODE_WALK_MAX 10000      /* nodes visited below a node for a top list */
#define QUERY_PARTITIONS_MAX 20000     /* (team, day) partitions read for a top list */
#define QUERY_APPS_DISTINCT_MAX 100000 /* applications summed; more are left out */
#define QUERY_SLOT_MS ROLLUP_SLOT_MS   /* step of 10 minutes */
#define QUERY_SLOT_RANGE_MAX_MS (7 * QUERY_DAY_MS) /* to - from with a step of 10 minutes */
#define QUERY_SLOT_POINTS_MAX 1008		   /* points of such a series (7 days) */

/*
 * The slots of an hourly activity rollup item (model/rollup.h): slots[k]
 * gets counter i of the item's 10-minute slot k; what the slots do not hold
 * (an item written before them) goes to slot 0, and an item whose slots
 * add up to more than its counter has that counter all in slot 0. Pure.
 */
void query_rollup_slots(const cJSON *item, int64_t (*slots)[RA__N]);

/* The same for an application rollup item's focus_ms: slots[0..ROLLUP_SLOTS). Pure. */
void query_app_slots(const cJSON *item, int64_t *slots);

/*
 * The start of the hour a rollup sort key ("act|HH", "app|HH|<app>") names
 * in the partition of the day starting at day_ms, when that start is in
 * [h0, to); else -1 (also for a key of another shape). Pure.
 */
int64_t query_rollup_hour(const char *sk, int64_t day_ms, int64_t h0, int64_t to);

/*
 * Points of the activity series of [from, to) in steps of step_ms (> 0):
 * the steps from the hour of from up to to. Pure.
 */
size_t query_activity_points(int64_t from, int64_t to, int64_t step_ms);

/*
 * The rollup counters of user uid (not checked to exist) summed
 * (saturating) into the n (= query_activity_points(), else -EINVAL) steps
 * of step_ms from the hour of from, into b[0..n) (the caller's, zeroed
 * here): the series query_activity() answers, without a cap on n.
 * -EINVAL also for a bad range or step.
 */
int query_activity_buckets(struct srv *s, const char *uid, int64_t from, int64_t to,
			   int64_t step_ms, size_t n, int64_t (*b)[RA__N]);

/*
 * The buckets of a series in a time zone. Bucket k is [start[k],
 * start[k + 1]) (UTC ms), k < n. slots: counted by 10-minute slot, a slot
 * counting in the bucket its start falls in when that start is in
 * [start[0], to); else (the form of query_activity_buckets(): no zone, a
 * step of whole hours) by hour, an hour counting when its start is in
 * [start[0], to).
 */
struct query_span {
	int64_t from, to, step_ms;
	bool slots;
	size_t n;
	int64_t *start; /* n + 1 bounds */
	char tz[TZ_NAME_MAX + 1];
};

/* 1 when step_ms is a step a series takes: QUERY_SLOT_MS or a positive
 * multiple of an hour. Pure. */
bool query_step_ok(int64_t step_ms);

/*
 * The buckets of [from, to) in steps of step_ms in zone z (NULL: UTC, the
 * legacy form) into *sp (the caller's; free with query_span_free()):
 * - z NULL, step_ms a multiple of an hour: fixed steps from the UTC hour of
 *   from, counted by hour (query_activity_buckets()).
 * - z given, step_ms a multiple of a day: local calendar days (23 or 25 h
 *   on a change of offset), step_ms / 1 day of them a bucket, from the local
 *   midnight of from's day.
 * - otherwise fixed steps from from rounded down to the local wall-clock
 *   hour (to 10 minutes for a step of 10 minutes) at from.
 * Buckets start before to; at most max of them (-E2BIG, sp->n then says how
 * many). -EINVAL: a bad range, a step not query_step_ok(), a step of 10
 * minutes over QUERY_SLOT_RANGE_MAX_MS, a zone ICU fails on. -ENOMEM.
 */
int query_span_make(struct tz *z, int64_t from, int64_t to, int64_t step_ms, size_t max,
		    struct query_span *sp);

/* Release sp's bounds (sp itself is the caller's). */
void query_span_free(struct query_span *sp);

/*
 * The rollup counters of user uid (not checked to exist) summed
 * (saturating) into the sp->n buckets of sp (query_span_make()), into
 * b[0..sp->n) (the caller's, zeroed here). -EINVAL (sp not made), store
 * errors.
 */
int query_activity_buckets_tz(struct srv *s, const char *uid, const struct query_span *sp,
			      int64_t (*b)[RA__N]);

/*
 * query_activity() in zone z (NULL: UTC; then a step of whole hours answers
 * exactly as query_activity()) and with steps of QUERY_SLOT_MS too: buckets
 * of query_span_make(); each point's start is UTC; *out also has "tz".
 * -E2BIG over QUERY_POINTS_MAX points (QUERY_SLOT_POINTS_MAX with a step of
 * 10 minutes), -EINVAL as query_span_make().
 */
int query_activity_tz(struct srv *s, const char *uid, struct tz *z, int64_t from, int64_t to,
		      int64_t step_ms, cJSON **out);

/*
 * The activity series of user uid (not checked to exist): the rollup
 * counters summed (saturating) into steps of step_ms from the hour of
 * from. *out: {user_id, from, to, step (s), series: [{start, <counters>}],
 * totals: {<counters>}}. -EINVAL when step_ms is not a positive multiple
 * of an hour, -E2BIG when the series would have more than
 * QUERY_POINTS_MAX points (query_activity_points()).
 */
int query_activity(struct srv *s, const char *uid, int64_t from, int64_t to, int64_t step_ms,
		   cJSON **out);

/* The size of a node's top list, for an error message: its teams and the
 * days of the range. */
struct query_apps_span {
	size_t teams, days;
};

/*
 * The applications with the most focus time in [from, to): of user id
 * (kind "user") or of every team at or below node id (kind "node"; ROOT_ID
 * for the whole tree), the limit (1..QUERY_TOP_MAX) first by focus time,
 * then by name. *out: {user_id | node_id, from, to, apps: [{app,
 * focus_s}], truncated: true when more than QUERY_APPS_DISTINCT_MAX
 * applications were seen (absent otherwise)}. span (may be NULL) gets the
 * teams and days read. -EINVAL (kind, limit), -ENOENT (no such node),
 * -E2BIG (more than QUERY_NODE_WALK_MAX nodes below the node), -ERANGE
 * (teams x days over QUERY_PARTITIONS_MAX; span says how many).
 */
int query_apps_top(struct srv *s, const char *kind, const char *id, int64_t from, int64_t to,
		   size_t limit, cJSON **out, struct query_apps_span *span);

/*
 * query_apps_top() with a zone (NULL: exactly query_apps_top()): with z,
 * focus time counts by 10-minute slot, a slot counting when its start is
 * in [from rounded down to 10 minutes, to) (local days of :30 zones are
 * exact), an application without focus time in those slots left out, and
 * *out has "tz" (z's name; "UTC" without z).
 */
int query_apps_top_tz(struct srv *s, const char *kind, const char *id, struct tz *z, int64_t from,
		      int64_t to, size_t limit, cJSON **out, struct query_apps_span *span);

/*
 * The teams at or below node_id (ROOT_ID: the whole tree), breadth first,
 * as top lists read them: *teams (the caller's, free()) gets *n ids.
 * -ENOENT (no such node), -E2BIG (more than QUERY_NODE_WALK_MAX nodes).
 */
int query_teams_below(struct srv *s, const char *node_id, char (**teams)[ID_SIZE], size_t *n);

/* An application and its focus time. */
struct query_app {
	char *name;
	int64_t ms;
};

/*
 * Every application of user uid in [from, to) (at most
 * QUERY_APPS_DISTINCT_MAX: *truncated when more were seen, left out),
 * first by focus time, then by name: *apps (free with query_apps_free())
 * gets *n of them, *total_ms their sum (saturating).
 */
int query_user_apps(struct srv *s, const char *uid, int64_t from, int64_t to,
		    struct query_app **apps, size_t *n, int64_t *total_ms, bool *truncated);
/* query_user_apps() counting by 10-minute slot (slots; query_apps_top_tz())
 * or by hour. */
int query_user_apps_tz(struct srv *s, const char *uid, bool slots, int64_t from, int64_t to,
		       struct query_app **apps, size_t *n, int64_t *total_ms, bool *truncated);
/* Free what query_user_apps() gave (apps may be NULL). */
void query_apps_free(struct query_app *apps, size_t n);

/*
 * Device device_id's latest sysinfo record and its sysinfo records in
 * [from, to) in time order, at most QUERY_RECORDS_MAX, with its latest
 * agent record. *out: {device_id, latest (null when none), history: [...],
 * truncated, agent (null when none)}.
 */
int query_sysinfo(struct srv *s, const char *device_id, int64_t from, int64_t to, cJSON **out);

/*
 * Device device_id's process records in [from, to) in time order, at most
 * limit (1..QUERY_RECORDS_MAX; -EINVAL otherwise). *out: {device_id,
 * processes: [...], truncated}.
 */
int query_processes(struct srv *s, const char *device_id, int64_t from, int64_t to, size_t limit,
		    cJSON **out);

/*
 * The audit entries of [from, to) that p may read, in time order, at most
 * limit (1..QUERY_AUDIT_MAX; -EINVAL otherwise). The filter is here, not
 * with the caller: an entry is in scope when authorize(p, audit.read) allows
 * its node_id's target (an entry without one, or of a node deleted since,
 * needs audit.read on the root). At most QUERY_AUDIT_SCAN_MAX entries are
 * read, in scope or not. *out: {entries: [...], truncated}: truncated when
 * the limit or the scan cap ended the read.
 */
int query_audit(struct srv *s, const struct principal *p, int64_t from, int64_t to, size_t limit,
		cJSON **out);

#endif /* ACTLOG_MODEL_QUERY_H */
