/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rekey.h - master key rotation: re-wrapping every data key (KEYS) under a
 * new master key while the server serves, resumably (model/rekey.c). Used
 * by `actlog-server rotate-key` (cli/rotate.c), by the server's background
 * re-wrap when the aws-sm secret's AWSCURRENT changes, and by
 * GET /api/v1/admin/keys (api/keys.c).
 *
 * The state lives in the store (core/srv.h struct kek_state, META "kek"):
 *
 *   idle       {current: A}             new DEKs are wrapped by A
 *   rotating   {current: B, from: A,    new DEKs are wrapped by B at once;
 *               started, rewrapped}     passes re-wrap every DEK not under B
 *   idle       {current: B, rotated}    rekey_finish, once a scan finds no
 *                                       DEK under another key
 *
 * Every step commits on its own, so a crash anywhere leaves a store whose
 * every DEK opens with A or B, and a second rekey_begin() to B resumes.
 * Each DEK is re-wrapped in a batch that reads it (a recorded read: a DEK
 * changed meanwhile fails the batch, which is redone) and the key state
 * (so that two rotations never interleave). The DEK itself does not change:
 * nothing sealed with it is rewritten.
 */
#ifndef ACTLOG_MODEL_REKEY_H
#define ACTLOG_MODEL_REKEY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/srv.h"

#define REKEY_BATCH_DEFAULT 50 /* DEKs re-wrapped per store batch */
#define REKEY_BATCH_MAX 100    /* a batch's conditional part stays small (store.h) */
#define REKEY_SCAN_MAX 10000   /* DEK names one scan collects; the pass scans again */

/*
 * Start (or resume) a rotation to the ring's key `to`: the key state
 * becomes {current: to, from: the previous current (or the ring's current
 * key when the store had none), started: now, rewrapped: 0} and new DEKs
 * are wrapped by `to` from then on. Resuming (a rotation to `to` in
 * progress) changes nothing. With force, a rotation in progress to another
 * key is replaced (the aws-sm re-wrap follows AWSCURRENT); without, it is
 * -EBUSY. Audited "key.rotate.start" (system actor, node root) with by (a
 * short word: "rotate-key", "aws-sm"). *st gets the state now. 0, 1 when
 * resumed, -ENOKEY (to not in the ring), -EBUSY, -errno.
 */
int rekey_begin(struct srv *s, const char *to, bool force, const char *by, struct kek_state *st);

/* What the passes did. */
struct rekey_progress {
	uint64_t batches;   /* store batches committed */
	uint64_t rewrapped; /* DEKs re-wrapped */
	uint64_t retries;   /* batches redone after a concurrent change */
	uint64_t left;	    /* DEKs found under another key by the last scan */
};

/*
 * Called after every committed batch (the CLI prints progress, tests stop
 * halfway); return non-zero to stop the pass (-ECANCELED).
 */
typedef int (*rekey_batch_fn)(const struct rekey_progress *p, void *ctx);

/*
 * Re-wrap every DEK not under the key state's current key with it, in
 * batches of batch (1..REKEY_BATCH_MAX) DEKs, scanning again until a scan
 * finds none (DEKs the server made meanwhile are in a later scan). Each
 * batch adds its count to the state's rewrapped. p is filled (also on
 * failure). 0; -EINVAL (no rotation in progress, bad batch); -ENOKEY with
 * the DEK's scope and key id in why when the ring lacks the key a DEK is
 * wrapped under; -ECANCELED (fn or *stop); -EAGAIN when the key state
 * changed under it (another rotation); -errno.
 */
int rekey_pass(struct srv *s, unsigned batch, rekey_batch_fn fn, void *ctx, const atomic_bool *stop,
	       struct rekey_progress *p, char *why, size_t why_len);

/*
 * End the rotation in progress: check that no DEK is under another key than
 * the current one (-EBUSY with the count in why otherwise), then clear
 * from/started and set rotated. Audited "key.rotate.finish" with the
 * counts of p (may be NULL). Counts a rotation (metrics). 0, -EINVAL (none
 * in progress), -EBUSY, -EAGAIN (the state changed), -errno.
 */
int rekey_finish(struct srv *s, const struct rekey_progress *p, char *why, size_t why_len);

/* How many DEKs each key id wraps. */
struct rekey_count {
	char id[KEYPROV_ID_MAX + 1];
	uint64_t items;
};
#define REKEY_COUNT_MAX 16 /* distinct key ids reported; more are summed in other */

/*
 * Count the DEKs of the store by the key id their blobs name into c (up to
 * REKEY_COUNT_MAX ids, *n set; DEKs under further ids in *other), and set
 * the gauge of DEKs not under the current key (current: the key state's,
 * else the ring's). 0 or -errno.
 */
int rekey_count(struct srv *s, struct rekey_count *c, size_t *n, uint64_t *other);

/*
 * The report of GET /api/v1/admin/keys into *out (the caller deletes it):
 * {current, keys: [{id, current, loaded, items}], other_items,
 * stale_items, rotation: {from, to, started, rewrapped} or null, rotated}.
 * keys lists the ring's keys (loaded) and the ids DEKs are under that the
 * ring lacks (loaded false). Times RFC 3339. 0 or -errno.
 */
int rekey_report(struct srv *s, cJSON **out);

/*
 * The server's background re-wrap (the aws-sm engine): a thread that, when
 * kicked, starts or resumes a rotation to the ring's current key if the
 * store's current key differs (or a rotation is in progress), runs the
 * passes and finishes it; audited like the command; logs its result.
 * rekey_sched_stop() stops a pass between batches and joins the thread.
 */
struct rekey_sched;
int rekey_sched_start(struct srv *s, unsigned batch, struct rekey_sched **out);
/* Ask the thread to look now (after a reload of the key ring). */
void rekey_sched_kick(struct rekey_sched *r);
/* Stop and free r; NULL is fine. */
void rekey_sched_stop(struct rekey_sched *r);

#endif /* ACTLOG_MODEL_REKEY_H */
