/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backup_sched.h - the server's periodic backups (model/backup_sched.c): a
 * thread that takes a backup (model/backup.h) to the bucket the root's
 * settings name (backup.*, model/config.h) every backup.interval_h hours,
 * keeps the backup.keep newest, retries a failed run with an exponential
 * back-off, records each run (an audit entry "backup.run"; the last success
 * and the last failure in META, store/keys.h) and answers
 * GET /api/v1/admin/backups (api/backup.c).
 *
 * One run at a time: the thread runs every backup, also one asked for by
 * POST /api/v1/admin/backups/run (backup_sched_run_now(), which only wakes
 * it). A run only reads the store (one snapshot); it never holds a lock a
 * request needs. backup_sched_stop() cancels a running backup
 * (backup_ctl.cancel) and joins the thread.
 *
 * Errors are negative errno. The thread logs each run; no other function
 * logs.
 */
#ifndef ACTLOG_MODEL_BACKUP_SCHED_H
#define ACTLOG_MODEL_BACKUP_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/backup.h"
#include "s3.h"

#define BACKUP_RETRY_MIN_MS 60000u    /* the first retry after a failed run */
#define BACKUP_RECHECK_MS 60000u      /* settings re-read at least this often */
#define BACKUP_FIRST_DELAY_MS 60000u  /* the first run after a start with none recorded */
#define BACKUP_ERROR_MAX 512	      /* bytes of a recorded error, with the NUL */
#define BACKUP_PERIOD_MAX_S 31622400u /* --backup-period: a year (8784 h) */
#define BACKUP_RETRY_MAX_S 86400u     /* --backup-retry-min */

/* The root's settings as one run uses them (backup_plan_read()). */
struct backup_plan {
	bool scheduled;			 /* a bucket is set and interval_h > 0 */
	unsigned interval_h, keep;	 /* backup.interval_h, backup.keep */
	char target[BACKUP_URL_MAX + 1]; /* "s3://BUCKET[/PREFIX]"; "" without a bucket */
	struct s3_config s3;		 /* region, endpoint, credentials (into vals) */
	cJSON *vals;			 /* the settings, with secrets: what s3 points into */
};

/*
 * Read the root's settings (config_root_values(), with secrets) into *p.
 * Free it with backup_plan_free(). 0, -ENOMEM or -errno from the store.
 */
int backup_plan_read(struct srv *s, struct backup_plan *p);
/* Wipe and free what p holds; p is left empty. Accepts an empty p. */
void backup_plan_free(struct backup_plan *p);

/* What the thread calls; tests give their own. NULL members: the real
 * ones (backup_plan_read(), backup_take(), backup_prune()). */
struct backup_sched_ops {
	int (*settings)(void *ctx, struct backup_plan *p);
	int (*take)(void *ctx, const struct backup_plan *p, const struct backup_ctl *ctl,
		    struct backup_info *out, char *why, size_t wlen);
	/* keep the p->keep newest, and always spare (the backup just taken);
	 * *deleted how many went */
	int (*prune)(void *ctx, const struct backup_plan *p, const char *spare, unsigned *deleted,
		     char *why, size_t wlen);
	void *ctx; /* NULL: the struct srv */
};

struct backup_sched_opts {
	uint64_t period_ms;	 /* between runs; 0: backup.interval_h (serve --backup-period) */
	unsigned retry_min_ms;	 /* the first retry; 0: BACKUP_RETRY_MIN_MS */
	unsigned recheck_ms;	 /* 0: BACKUP_RECHECK_MS */
	unsigned first_delay_ms; /* 0: BACKUP_FIRST_DELAY_MS (at most the period) */
	const struct backup_sched_ops *ops; /* NULL: the real ones */
};

/*
 * The wait before retry number fails (1, 2, ...) after failed runs:
 * min_ms * 2^(fails - 1), at most cap_ms (the period). 0 for fails 0. Pure.
 */
uint64_t backup_backoff_ms(unsigned fails, uint64_t min_ms, uint64_t cap_ms);

/* One run as recorded (META, the audit entry, the route). */
struct backup_record {
	int64_t started_ms, finished_ms; /* 0: none recorded */
	char name[BACKUP_NAME_MAX + 1];	 /* a success's backup */
	uint64_t bytes;			 /* stored bytes of a success */
	uint64_t items;			 /* items in it (all tables) */
	char error[BACKUP_ERROR_MAX];	 /* a failure's reason */
};

struct backup_sched;

/*
 * Start the thread for s (which must outlive it) with options o (NULL: the
 * defaults); the last success and failure are loaded from META. Sets
 * s->backups. 0, -ENOMEM or -errno.
 */
int backup_sched_start(struct srv *s, const struct backup_sched_opts *o, struct backup_sched **out);
/*
 * Cancel a running backup, stop and join the thread; b stays readable
 * (backup_sched_status(), and backup_sched_run_now() refuses with
 * -ESHUTDOWN) until backup_sched_free(). NULL is fine.
 */
void backup_sched_stop(struct backup_sched *b);
/* Stop b if still running and free it (after every reader is done: the
 * server's requests). NULL is fine. */
void backup_sched_free(struct backup_sched *b);

/* The root's settings changed (a PUT of the root's document): wake the
 * thread so that it reads them now rather than at its next check (up to
 * BACKUP_RECHECK_MS later). NULL is fine. */
void backup_sched_settings_changed(struct backup_sched *b);

/*
 * Ask for a run now on behalf of by (the audit entry's actor; may be NULL)
 * from client (may be NULL). 0: the thread starts it at once; -EBUSY: one
 * is running or asked for; -EINVAL: no backup.s3.bucket is set (why says
 * so); -ESHUTDOWN: stopping; -ESRCH: b is NULL (no thread).
 */
int backup_sched_run_now(struct backup_sched *b, const struct principal *by, const char *client,
			 char *why, size_t wlen);

/* What the thread knows now. */
struct backup_status {
	bool scheduled, running;
	unsigned interval_h, keep;
	unsigned period_s;		 /* between runs: the interval or --backup-period */
	char target[BACKUP_URL_MAX + 1]; /* without secrets */
	int64_t next_ms;		 /* the next run (Unix ms); 0: none due */
	unsigned fails;			 /* failed runs in a row */
	uint64_t runs_ok, runs_error;	 /* since the start */
	struct backup_record ok, err;	 /* the last success and failure */
};
/* b's status; with b NULL (no thread) what the settings and META say. 0 or
 * -errno. */
int backup_sched_status(struct srv *s, struct backup_sched *b, struct backup_status *out);

/*
 * The answer of GET /api/v1/admin/backups: backup_sched_status() and the
 * complete backups at the target, newest first (backup_list(), which calls
 * S3: run it off the request threads), as {"enabled", "interval_h",
 * "period_s", "keep", "target", "running", "next_run", "failures",
 * "last_success", "last_failure", "backups": [manifests], "list_error"
 * (when listing failed; "backups" is then [])}. Never a secret. *out is the
 * caller's. 0, -ENOMEM or -errno (the settings or META not readable).
 */
int backup_sched_report(struct srv *s, struct backup_sched *b, cJSON **out);

/* The last success and failure recorded in META (zeroed when none). 0 or
 * -errno. */
int backup_records_load(struct srv *s, struct backup_record *ok, struct backup_record *err);

#endif /* ACTLOG_MODEL_BACKUP_SCHED_H */
