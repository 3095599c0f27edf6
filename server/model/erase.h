/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * erase.h - the erasure of a user and their data (GDPR; POST
 * /api/v1/users/{id}/erase, api/org.c). See docs/ARCHITECTURE.md
 * ("Erasing a user").
 *
 * An erasure runs in steps the client repeats until one answers done:
 *  1. the first step marks the user "erasing" (and disabled): they cannot
 *     sign in, every session ends, ingest maps no record to them any more
 *     (model/ingest.c skips such users) and the devices they own lose
 *     their owner;
 *  2. every step deletes at most ERASE_STEP_ITEMS items of their data,
 *     through retention's deletion path (model/retention.h:
 *     retention_erase()): their "user|" rollups, their screenshots (S3
 *     object first), and the raw records mapped to them in the partitions
 *     of the devices of their team and of the teams they were moved from
 *     (only their items: a shared device keeps other people's); the
 *     counts so far are kept on the user item, so an interrupted erasure
 *     resumes where it stopped;
 *  3. the last step removes their profile picture, grants, sign-in and
 *     personal tokens, their user-level config and its data key, the email
 *     index, the team membership and the user item, with the audit entry
 *     "user.erase" {user_id, records, rollups, screenshots, grants,
 *     tokens}: the fact, no name or email.
 * The teams' app rollups ("team|", no per-user detail) stay.
 */
#ifndef ACTLOG_MODEL_ERASE_H
#define ACTLOG_MODEL_ERASE_H

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/org.h"
#include "model/why.h"

#define ERASE_STEP_ITEMS 5000 /* items (records, rollups, screenshots) one step deletes */
#define ERASE_TEAMS_MAX ORG_TEAMS_BEFORE_MAX /* past teams of a user */
#define ERASE_DEVICES_MAX 10000		     /* devices of one team looked at */

/* A list of ids (the caller frees v). */
struct erase_ids {
	char (*v)[ID_SIZE];
	size_t n, cap, max;
};

/*
 * The devices whose partitions may hold records mapped to user item u:
 * those of its team and of the teams it was moved from ("teams_before"),
 * at most ERASE_DEVICES_MAX of each, into devs (zeroed by the caller).
 * 0 or -errno.
 */
int erase_user_devices(struct srv *s, const cJSON *u, struct erase_ids *devs);

/*
 * Whether actor_id may erase user uid with confirmation confirm: not
 * oneself; confirm must be the user's email (any case). 0; -EPERM
 * (refused: oneself); -EINVAL (refused: confirm); -errno (what "user";
 * -ENOENT: no such user).
 */
int erase_check(struct srv *s, const char *actor_id, const char *uid, const char *confirm,
		struct model_why *why);

/*
 * One step of the erasure of user uid (erase_check() passed) by actor_id,
 * as above; audit(b, "user.erase", team, uid, detail, actx) in the last
 * step's batch. *out (the caller's) gets {done, erased: {records, rollups,
 * screenshots, s3_errors}} (totals over every step so far; s3_errors of
 * this step: screenshots whose S3 DELETE failed, retried by the next
 * step). 0; -ENOENT (no such user; what "user"); -EKEYREJECTED (refused:
 * no S3 credentials for the picture's bucket); -errno (what "user").
 */
int erase_step(struct srv *s, const char *actor_id, const char *uid, org_audit_fn audit, void *actx,
	       cJSON **out, struct model_why *why);

#endif /* ACTLOG_MODEL_ERASE_H */
