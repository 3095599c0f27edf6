/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * retention.h - enforcing retention.days: the sweep and its thread
 * (model/retention.c; the on-demand route is api/retention.c).
 */
#ifndef ACTLOG_MODEL_RETENTION_H
#define ACTLOG_MODEL_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/srv.h"
#include "store/store.h"

/* What one sweep did. */
struct retention_stats {
	uint64_t teams;	      /* teams visited */
	uint64_t teams_swept; /* teams where something was deleted */
	uint64_t records;     /* RECORDS items deleted */
	uint64_t rollups;     /* ROLLUPS items deleted */
	uint64_t shots;	      /* screenshots deleted (object and rows) */
	uint64_t s3_errors;   /* screenshots kept because the S3 DELETE failed */
	uint64_t errors;      /* other failures (logged; retried next sweep) */
};

/*
 * Delete what is older than the effective retention.days of the team it
 * belongs to (team level), as of Unix ms time now: every RECORDS, ROLLUPS
 * and screenshot partition of a UTC day strictly before the day of
 * now - days, found through the day indexes (store/keys.h: written by model/ingest.c and
 * model/shots.c), for every device and user of every team, in store batches of at most
 * RETENTION_BATCH_OPS deletes. One audit entry "retention.sweep" per team
 * where something was deleted. Sweeps are serialised. *st is filled (also
 * on failure). 0, or -errno when the organisation tree cannot be read (a
 * failure within one team is counted in st->errors and the sweep goes on).
 */
int retention_sweep(struct srv *s, int64_t now, struct retention_stats *st);
#define RETENTION_BATCH_OPS 100

/* What an erasure step (retention_erase()) did and may still do. */
struct retention_erase {
	uint64_t budget;    /* in: items it may still delete (> 0); out: what is left of it */
	uint64_t records;   /* out (added to): RECORDS items deleted */
	uint64_t rollups;   /* ROLLUPS items deleted */
	uint64_t shots;	    /* screenshots deleted (object and rows) */
	uint64_t s3_errors; /* screenshots kept because the S3 DELETE failed */
	bool more;	    /* out (or-ed): stopped at the budget with items left */
};

/*
 * The erasure of one owner's data, through the sweep's own deletion path:
 * every partition of t (RECORDS, ROLLUPS or SCREENSHOTS) indexed under ipk
 * ("days|<device>" in RECORDS, "days|<kind>|<id>" elsewhere), whatever its
 * day. With only_user (RECORDS): only the raw records whose "user_id" is
 * only_user go (a device's partition may hold other people's records; its
 * index item stays while anything is left in it). Screenshots go object
 * first, as in the sweep (an S3 failure keeps the rows: e->s3_errors).
 * Stops after e->budget deletes, with e->more set; a later call resumes
 * (what is deleted is gone; the indexes still name what is left). The
 * counts are added to *e. 0 or -errno (-EINVAL: another table, or no budget).
 */
int retention_erase(struct srv *s, enum store_table t, const char *ipk, const char *only_user,
		    struct retention_erase *e);

/*
 * Run retention_sweep() on a thread: first after min(interval_s, 10) s,
 * then every interval_s seconds. retention_stop() wakes and joins it
 * (a sweep in progress stops between partitions). 0 or -errno.
 */
struct retention_sched;
int retention_start(struct srv *s, unsigned interval_s, struct retention_sched **out);
/* Stop and free r; NULL is fine. */
void retention_stop(struct retention_sched *r);

#endif /* ACTLOG_MODEL_RETENTION_H */
