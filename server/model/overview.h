/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * overview.h - a node's team overview: one row per person of every team at
 * or below a node that the caller may read, each with the person's
 * activity over a range (the rollups, as the activity route sums them),
 * top application, newest record and whether they are online. Read by GET
 * /api/v1/nodes/{id}/overview (api/overview.c), which parses, authorizes
 * activity.read on the node and replies with what is built here.
 *
 * One pass: the teams below the node (query_teams_below()), each team's
 * member index and device index once, and per person their effective
 * config, activity rollups and application rollups. Nothing here logs.
 */
#ifndef ACTLOG_MODEL_OVERVIEW_H
#define ACTLOG_MODEL_OVERVIEW_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "core/tz.h"

#define OVERVIEW_PEOPLE_MAX 1000		  /* rows of one answer */
#define OVERVIEW_RANGE_MAX_MS (31LL * 86400000LL) /* to - from */
#define OVERVIEW_POINTS_MAX 1008		  /* steps of a row's series */
#define OVERVIEW_DEVICES_MAX 20000		  /* devices read for last_record */
#define OVERVIEW_TEAM_SCAN_MAX 50000		  /* member entries read (in scope or not) */

/* What an overview is asked for. */
struct overview_req {
	const char *node_id; /* a node, or ROOT_ID */
	int64_t from, to;    /* Unix ms, from <= to, at most OVERVIEW_RANGE_MAX_MS apart */
	int64_t step_ms;     /* query_step_ok(): 10 minutes or a positive multiple of an hour */
	struct tz *z;	     /* the zone of the steps (core/tz.h), NULL: UTC */
	int64_t now;	     /* Unix ms: what "online" is judged against */
};

/*
 * The overview of q for principal p (p holds activity.read on the node: the
 * caller's check). A row for every user of every team at or below the node
 * whose activity p may read (authorize(p, activity.read, user)), teams in
 * query_teams_below()'s order, members in id order, at most
 * OVERVIEW_PEOPLE_MAX (truncated: true when more were in scope). *out (the
 * caller's): {node_id, from, to, step (s), tz (the zone's name, "UTC"
 * without one), start (of the first step), starts (every step's start,
 * UTC: local days are 23 or 25 hours on a change of offset), points, truncated, last_record_partial
 * (true when more than OVERVIEW_DEVICES_MAX devices were to be read; absent otherwise), people:
 * [{user_id, name, email, team_id, team_name, tz (the user's preferred zone or null), disabled,
 * interval_s (effective activity.interval_s), last_record (Unix ms or null: the newest time a
 * device of the team last saw a record of the user, users_seen), online
 * (last_record within 2 * interval_s of q->now), totals: {<every rollup
 * counter>}, activity_pct (100 * active_s / interval_s of the totals, null
 * when interval_s is 0), top_app: {app, focus_s} or null, series:
 * {active_s: [..], interval_s: [..]} (points each)}]}.
 * Steps are query_span_make()'s (model/query.h): local days and hours in
 * q->z, 10-minute steps for ranges of at most 7 days.
 * 0; -EINVAL (a bad range or step); -E2BIG (more than
 * OVERVIEW_POINTS_MAX steps, or more nodes below than query_teams_below()
 * walks); -ENOENT (no such node); -ENOMEM; the store's errors.
 */
int overview_node(struct srv *s, const struct principal *p, const struct overview_req *q,
		  cJSON **out);

#endif /* ACTLOG_MODEL_OVERVIEW_H */
