/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h - the server's process-wide counters and gauges, rendered in the
 * Prometheus text exposition format (version 0.0.4) for GET /metrics
 * (api/metrics.c). Nothing of HTTP is in it.
 *
 * Every metric is one line of METRICS below: X(ID, type, name, labels, help)
 *   ID      the enum name (METRIC_<ID>)
 *   type    COUNTER (only grows; metrics_add) or GAUGE (metrics_set)
 *   name    the Prometheus metric name, actlog_server_* (units in the name:
 *           _seconds, _bytes, _total for counters)
 *   labels  the label set of this series, "" or e.g. "reason=\"logging_off\""
 *   help    one line of HELP text
 * Series of one name (different labels) are adjacent lines with the same type
 * and help, so that HELP and TYPE are written once per name. To add a metric,
 * add a line; the name and labels never change once released.
 *
 * All calls are thread-safe and lock-free (relaxed atomics: a reader sees
 * each value whole, not a snapshot across metrics). No function logs.
 */
#ifndef ACTLOG_CORE_METRICS_H
#define ACTLOG_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS(X)                                                                                 \
	X(START_TIME, GAUGE, "actlog_server_start_time_seconds", "",                               \
	  "Unix time the server started")                                                          \
	X(BACKUP_RUNS_OK, COUNTER, "actlog_server_backup_runs_total", "outcome=\"ok\"",            \
	  "Periodic and requested backup runs by outcome")                                         \
	X(BACKUP_RUNS_ERROR, COUNTER, "actlog_server_backup_runs_total", "outcome=\"error\"",      \
	  "Periodic and requested backup runs by outcome")                                         \
	X(BACKUP_LAST_SUCCESS, GAUGE, "actlog_server_backup_last_success_timestamp_seconds", "",   \
	  "Unix time the last successful backup finished (0: none recorded)")                      \
	X(BACKUP_LAST_FAILURE, GAUGE, "actlog_server_backup_last_failure_timestamp_seconds", "",   \
	  "Unix time the last failed backup run finished (0: none recorded)")                      \
	X(BACKUP_LAST_BYTES, GAUGE, "actlog_server_backup_last_bytes", "",                         \
	  "Stored (encrypted) bytes of the last successful backup")                                \
	X(BACKUP_RUNNING, GAUGE, "actlog_server_backup_running", "",                               \
	  "1 while a backup runs, else 0")                                                         \
	X(INGEST_DROPPED_LOGGING_OFF, COUNTER, "actlog_server_ingest_dropped_total",               \
	  "reason=\"logging_off\"", "Valid records ingest did not store, by reason")               \
	X(SHOTS_REFUSED_SCREENSHOTS_OFF, COUNTER, "actlog_server_screenshots_refused_total",       \
	  "reason=\"screenshots_off\"", "Screenshot presigns and registers refused by policy")     \
	X(SHOTS_REFUSED_LOGGING_OFF, COUNTER, "actlog_server_screenshots_refused_total",           \
	  "reason=\"logging_off\"", "Screenshot presigns and registers refused by policy")         \
	X(SHOT_THUMBS_OK, COUNTER, "actlog_server_screenshot_thumbs_total", "result=\"ok\"",       \
	  "Screenshot thumbnails made, or refused for their source")                               \
	X(SHOT_THUMBS_REFUSED, COUNTER, "actlog_server_screenshot_thumbs_total",                   \
	  "result=\"refused\"", "Screenshot thumbnails made, or refused for their source")         \
	X(KEY_REWRAPPED, COUNTER, "actlog_server_key_rewrapped_total", "",                         \
	  "Data keys this server re-wrapped under a new master key")                               \
	X(KEY_ROTATIONS, COUNTER, "actlog_server_key_rotations_total", "",                         \
	  "Master key rotations this server finished")                                             \
	X(KEY_STALE_ITEMS, GAUGE, "actlog_server_key_stale_items", "",                             \
	  "Data keys under another master key than the current one, at the last count")

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

enum metric {
#define METRIC_ENUM_(id, type, name, labels, help) METRIC_##id,
	METRICS(METRIC_ENUM_)
#undef METRIC_ENUM_
	    METRIC__COUNT
};

/* Add n to counter m (a gauge too: adds to its value). */
void metrics_add(enum metric m, uint64_t n);
/* Set gauge m to v. */
void metrics_set(enum metric m, int64_t v);
/* The current value of m. */
int64_t metrics_get(enum metric m);
/* Zero every metric (tests, and once at server start). */
void metrics_reset(void);

/*
 * The exposition text of every metric into *out (malloc'd, NUL-terminated,
 * the caller frees it) and *len (without the NUL). 0 or -ENOMEM.
 */
int metrics_render(char **out, size_t *len);

#endif /* ACTLOG_CORE_METRICS_H */
