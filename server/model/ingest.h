/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ingest.h - applying an agent's batch of records to the store: validation
 * of every line, the mapping of records to users, the raw records, the
 * hourly rollups, the day indexes, the device's latest sysinfo and
 * last_seen, and the batch marker that makes a batch count exactly once
 * per (device, batch id). The layout is store/keys.h's; the counters are
 * model/rollup.h's. Used by the ingest route (api/ingest.c) and by the
 * seeder (tools/bench/actlog-seed.c), so a seeded store is an ingested one.
 *
 * A record maps to a user by the rule in core/srv.h: a user of the device's
 * team whose login equals the record's "user" (the lowest user id when two
 * share a login), else the device's owner, else none. A valid record is
 * then judged by the logging policy at its ts (INGEST_DROPS below): the
 * server enforces logging.enabled whatever the agent sends. The policy's
 * change points are read once per (user, batch).
 */
#ifndef ACTLOG_MODEL_INGEST_H
#define ACTLOG_MODEL_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "store/store.h"

#define INGEST_BATCH_ID_MAX 128
#define INGEST_LINE_MAX (64u << 10) /* bytes of one record line */
#define INGEST_LINES_MAX 100000u    /* lines of a batch */
#define INGEST_REJECT_LIST_MAX 100  /* rejected lines named in the answer */
/* Conditional operations of one commit (store.h: DynamoDB takes 100): the
 * batch marker, last_seen, sysinfo and the rollup updates. */
#define INGEST_COND_MAX 100
#define INGEST_COND_FIXED 3
#define INGEST_ROLLUPS_MAX (INGEST_COND_MAX - INGEST_COND_FIXED)

/*
 * Why a valid record is not stored (the answer's "dropped" object names
 * each, with its count; metrics count them by reason). logging_off: the
 * effective logging.enabled of the record's user (or, mapped to nobody, of
 * the device's team) was false at the record's ts (model/config.h:
 * config_hist). Activity, process and app_usage records are judged; agent
 * and sysinfo records only when they name a session user (the agent sends
 * them without one while logging is off).
 */
#define INGEST_DROPS(X) X(LOGGING_OFF, "logging_off")

enum ingest_drop {
#define DROP_ENUM_(id, name) INGEST_DROP_##id,
	INGEST_DROPS(DROP_ENUM_)
#undef DROP_ENUM_
	    INGEST_DROP__N
};

/* "logging_off", ... by enum ingest_drop. */
extern const char *const ingest_drop_names[INGEST_DROP__N];

/* Who sent the batch: the device, its team and owner ("" for none). */
struct ingest_source {
	const char *device_id;
	const char *team_id;
	const char *owner_id;
};

struct ingest;

/* 1 when b is a batch id: 1..INGEST_BATCH_ID_MAX of [A-Za-z0-9._:-]. */
bool ingest_batch_id_valid(const char *b);

/*
 * The stored answer of (device, batch id), when that batch was applied
 * before: 0 and *answer (the caller's), -ENOENT, -EIO, -errno.
 */
int ingest_stored_answer(struct srv *s, const char *device_id, const char *batch_id,
			 cJSON **answer);

/*
 * Read the NDJSON body[0..len) (one record a line; empty lines skipped) of
 * batch batch_id from src, at time now: validate every line, map it to a
 * user, and plan every write. Nothing is written. On success *out is the
 * plan (free it with ingest_free()). -EFBIG over INGEST_LINES_MAX lines,
 * -E2BIG when the batch needs more than INGEST_ROLLUPS_MAX rollup items,
 * -ENOMEM, or a store error reading the team's users.
 */
int ingest_prepare(struct srv *s, const struct ingest_source *src, const char *batch_id,
		   int64_t now, const char *body, size_t len, struct ingest **out);

/* The answer of a prepared batch: {batch_id, accepted, rejected[],
 * rejected_count, dropped: {reason: count}}; stays g's. accepted counts the
 * records stored; dropped ones are valid records not stored by policy. */
const cJSON *ingest_answer(const struct ingest *g);
unsigned ingest_accepted(const struct ingest *g);
unsigned ingest_rejected(const struct ingest *g);
/* Operations ingest_add() adds to a batch. */
size_t ingest_ops(const struct ingest *g);

/*
 * Add every write of g to b: raw records, their day index, the rollup
 * updates and theirs, sysinfo, last_seen, and the batch marker (IF_ABSENT:
 * the commit fails with -EEXIST when the batch was applied before). For
 * callers that put many batches in one commit (the seeder); the ingest
 * route uses ingest_commit(). g must live until b is committed (update
 * functions read it). 0 or the batch's error.
 */
int ingest_add(struct ingest *g, struct store_batch *b);

/*
 * Write g to the store: raw records that do not fit one commit go first,
 * in chunks (idempotent puts, repaired by the agent's retry), then one
 * commit with everything else. 0, -EEXIST (applied meanwhile by a
 * concurrent request), or a store error.
 */
int ingest_commit(struct ingest *g);

/* Free g. Accepts NULL. */
void ingest_free(struct ingest *g);

/*
 * ingest_prepare() + ingest_commit(), and when a concurrent request applied
 * the same batch, that batch's stored answer. A batch it commits adds its
 * dropped records to the metrics (core/metrics.h). 0 and *answer (the
 * caller's), or the errors of both.
 */
int ingest_apply(struct srv *s, const struct ingest_source *src, const char *batch_id, int64_t now,
		 const char *body, size_t len, cJSON **answer);

#endif /* ACTLOG_MODEL_INGEST_H */
