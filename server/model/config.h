/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - the config hierarchy: the schema of policy keys, one document
 * per level (business, domain, project, team, user), locks, the effective
 * merge, the S3 unit's rules and the write of a level. The routes
 * (api/config.c) and every reader of the effective config (screenshots,
 * profile pictures, device policy, retention) go through these.
 *
 * A level's document is {"values":{key:value},"locked":[keys]} (users have
 * no locks), stored sealed: CONFIG pk scope, sk "config", scope "node:<id>"
 * or "user:<id>" (store/keys.h: key_scope()), aad "config|"+scope.
 *
 * Errors are negative errno. The functions that take why (a message for
 * the client, cut to wlen - 1 bytes) fill it only for a refusal by the
 * rules: -EINVAL (a bad request) and -EPERM (locked, or an S3 rebind);
 * any other error, or one of those with why "", comes from the store.
 */
#ifndef ACTLOG_MODEL_CONFIG_H
#define ACTLOG_MODEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "store/store.h"

/* Room for any message of the functions that take why. */
#define CONFIG_WHY_SIZE 512

/*
 * The effective config for a user (user_id may be NULL: the team's) in team
 * team_id: the schema's defaults, then each node from the business down to
 * the team, then the user's own document; a key locked at a level cannot be
 * changed below it. The s3.* keys all come from one level, the nearest
 * that sets the bucket or a credential, at or above the topmost node that
 * locks an s3.* key, so that no level redirects credentials set above it.
 * *out: {"values":{key:value},"source":{key:level},"locked":{key:node id}}
 * where level is "default", a node id or "user:<id>". Secret keys appear in
 * values only when with_secrets (server-side use, e.g. presigning);
 * responses to clients never carry them. 0 or -errno.
 */
int config_effective(struct srv *s, const char *team_id, const char *user_id, bool with_secrets,
		     cJSON **out);

/*
 * config_effective() along target t's path (the nodes below ROOT_ID; a root
 * target gives the defaults), then user_id's document (NULL: none). *out is
 * the caller's. 0 or -errno (-EBADMSG: a level's blob does not open, -EIO:
 * it is not JSON).
 */
int config_effective_for(struct srv *s, const struct target *t, const char *user_id,
			 bool with_secrets, cJSON **out);

/*
 * The merge behind config_effective(), pure: the schema's defaults, then the
 * level documents docs[0..n) top down (each {"values":{..},"locked":[..]}
 * as a level stores it), labels[i] naming level i in "source" and "locked".
 * When user_last, docs[n-1] is a user's document and its locks are ignored.
 * Values that do not fit the schema are ignored. *out as config_effective()
 * gives it (the caller frees it). 0, -EINVAL (n over the tree's depth and a
 * user), -ENOMEM.
 */
int config_merge(const cJSON *const docs[], const char *const labels[], size_t n, bool user_last,
		 bool with_secrets, cJSON **out);

/*
 * S3 credentials stay bound to where they were set to be sent, pure: a write
 * of vals (a PUT's "values", the last of duplicate names counting) to a
 * level whose stored document doc holds a secret s3.* key, which changes
 * s3.endpoint, s3.region, s3.bucket or s3.path_style (another value, or
 * null removing one), must give every secret the level holds again, or
 * remove it (null). 0 when the write may be applied; else -EPERM with *need
 * the first secret it must give (a static name). A write of no s3.* key,
 * or to a level without a secret, always passes.
 */
int config_s3_rebind(const cJSON *doc, const cJSON *vals, const char **need);

/*
 * Whether a level's document doc lends its S3 credentials to an object
 * stored at where (an object with "bucket", "region", "endpoint" and
 * "path_style" as model/s3set.h keeps them; other members are ignored),
 * pure: true when doc sets s3.access_key_id and s3.secret_access_key and
 * its own s3.bucket, s3.region, s3.endpoint and s3.path_style are where's
 * (an absent endpoint matches only an absent one, an absent path style is
 * false). So a level's credentials are only ever signed for the place the
 * level itself names (config_s3_rebind() binds them to it).
 */
bool config_s3_lends(const cJSON *doc, const cJSON *where);

/*
 * Append to array out the credentials of every level that lends them to
 * where (config_s3_lends()): user_id's own level first (NULL: none), then
 * the nodes of t's path below the root, nearest first. A level whose label
 * ("user:<id>" or the node id) is already in out is skipped; a level whose
 * document does not open lends nothing. Each element: {"level",
 * "access_key_id", "secret_access_key"[, "session_token"]}; free out with
 * config_json_free(). 0 or -ENOMEM.
 */
int config_s3_lenders(struct srv *s, const struct target *t, const char *user_id,
		      const cJSON *where, cJSON *out);

/*
 * The document of level kind ("node" or "user") id as the API shows it:
 * {"values":{..} without secrets, "locked":[..], "secrets_set":[names]},
 * keys in schema order. *view is the caller's (NULL when out of memory).
 * 0, -EINVAL (another kind) or -errno.
 */
int config_level_view(struct srv *s, const char *kind, const char *id, cJSON **view);

/*
 * Adds the audit entry of a level's change to batch b, the batch of the
 * change, so that both commit together: scope is the level ("node:<id>",
 * "user:<id>"), detail {"keys":[names whose value changed], "locked":[new
 * list] when it changed} (never a value). 0 or -errno (the write fails).
 */
typedef int (*config_audit_fn)(struct store_batch *b, const char *scope, const cJSON *detail,
			       void *ctx);

/*
 * Write body, a PUT of level kind ("node" or "user") id whose target is t
 * (the node, or the user's team path), already authorized: body may hold
 * "values" (an object of known keys, each null to remove or a valid value)
 * and "locked" (nodes only: an array of known keys, the new list). A key
 * locked at a node above the level cannot be set (an s3.* key counts as
 * locked where any s3.* key is), and a change of where the level's S3
 * credentials are sent must give them again (config_s3_rebind()). The level
 * is read, changed and sealed in one store batch with audit(b, scope,
 * detail, audit_ctx) when anything changed; redone when a concurrent write
 * of the level got there first. *view (the caller's) gets the level as
 * config_level_view() shows it, also when nothing changed (NULL when out of
 * memory; the change is committed all the same). 0; -EINVAL with why (the
 * body; why "" for another kind); -EPERM with why (a locked key, an S3
 * rebind); or -errno from the store (-EAGAIN: still conflicting after the
 * retries) or audit. A write that sets, changes or removes the level's
 * logging.enabled appends (now, its new value) to the level's history in
 * the same batch (config_hist below).
 */
int config_level_put(struct srv *s, const struct target *t, const char *kind, const char *id,
		     const cJSON *body, config_audit_fn audit, void *audit_ctx, cJSON **view,
		     char *why, size_t wlen);

/*
 * The root's document: the server settings (backup.*, model/backup_sched.h),
 * which are set at the root only (a PUT of one elsewhere, or of any other
 * key at the root, is -EINVAL), never inherited and never in an effective
 * config. Their backup.s3.* keys are bound like the s3.* ones
 * (config_s3_rebind()).
 */
#define CONFIG_BACKUP_PREFIX_DEFAULT "actlog-backups/"
#define CONFIG_PREFIX_MAX 512 /* bytes of backup.s3.prefix */

/*
 * The root keys' values as the root's document sets them, with their
 * defaults for those it does not set: {key: value} (backup.interval_h,
 * backup.keep and backup.s3.prefix are always there). Secret keys only
 * when with_secrets (the scheduler); free *out with config_json_free().
 * 0, -EBADMSG, -EIO, -ENOMEM or -errno from the store.
 */
int config_root_values(struct srv *s, bool with_secrets, cJSON **out);
/* --- logging.enabled over time --- */

/*
 * Every level keeps a bounded history of its own logging.enabled: each
 * write of the level that sets, changes or removes it appends (time, value)
 * to a sealed item next to the level's document (CONFIG pk scope, sk
 * SK_CONFIG_LOGGING; store/keys.h), in the write's batch. At most
 * CONFIG_HIST_MAX entries are kept: past that the oldest is dropped and its
 * value becomes "before", the value the level is taken to have had at any
 * time older than the oldest kept entry. A level whose history was never
 * written has had its current value all along. Ingest judges a record by
 * the effective value at the record's time (config_logging_at()); the
 * locks are the levels' current ones (no history of locks is kept).
 */
#define CONFIG_HIST_MAX 256

/* A level's own value: CONFIG_HIST_UNSET (the level does not set it), 0 or 1. */
#define CONFIG_HIST_UNSET (-1)

struct config_hist_ent {
	int64_t at; /* Unix ms of the write */
	int8_t v;   /* the level's value from then on */
};

/* The history of one level, oldest first (at never decreasing). */
struct config_hist {
	int8_t before; /* the value before e[0] (all along when n == 0) */
	bool locked;   /* the level locks logging.enabled now (nodes only) */
	size_t n;
	struct config_hist_ent e[CONFIG_HIST_MAX];
};

/* The level's own value at Unix ms t, pure: CONFIG_HIST_UNSET, 0 or 1. */
int config_hist_value(const struct config_hist *h, int64_t t);

/*
 * The effective logging.enabled at Unix ms t, pure: the default (on), then
 * each level lv[0..n) top down as config_merge() does it, each with its
 * value at t and its current lock; when user_last, lv[n-1] is a user's
 * level and its lock is ignored. NULL levels are skipped.
 */
bool config_logging_at(const struct config_hist *const lv[], size_t n, bool user_last, int64_t t);

/* The effective logging.enabled as a step function of time: first before
 * at[0], v[i] from at[i] on (at increasing, v alternating). */
struct config_timeline {
	bool first;
	size_t n;
	int64_t *at;
	bool *v;
};

/*
 * The timeline of config_logging_at() over lv[0..n), pure: evaluated once
 * at every time a level changes (at most n * CONFIG_HIST_MAX points).
 * *out (free it with config_timeline_free()). 0 or -ENOMEM.
 */
int config_timeline_build(const struct config_hist *const lv[], size_t n, bool user_last,
			  struct config_timeline **out);
/* The value of tl at Unix ms t (a binary search). */
bool config_timeline_at(const struct config_timeline *tl, int64_t t);
/* NULL is fine. */
void config_timeline_free(struct config_timeline *tl);

/*
 * Load level kind ("node" or "user") id into *h: its history, its current
 * lock of logging.enabled, and (no history yet) its current value as
 * "before". A level never written loads as unset. 0, -EINVAL (another
 * kind), -EBADMSG (a blob does not open), -EIO (not JSON), -errno.
 */
int config_hist_load(struct srv *s, const char *kind, const char *id, struct config_hist *h);

/*
 * The effective logging.enabled at Unix ms at of user_id (NULL: none) in
 * target t's team path (config_effective_for()'s levels), into *on. 0 or
 * the errors of config_hist_load(), -ENOMEM.
 */
int config_logging_for(struct srv *s, const struct target *t, const char *user_id, int64_t at,
		       bool *on);

/* Free a document or a request body that may hold secrets: every string of
 * it is wiped first. NULL is fine. */
void config_json_free(cJSON *j);

#endif /* ACTLOG_MODEL_CONFIG_H */
