/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * org.h - the writers of the organisation: one function per item set, each
 * adding every item of that set (the item and its indexes, store/keys.h) to
 * a caller's batch, so that the route handlers (api/org.c), model/device.c
 * and the seeder (tools/bench/actlog-seed.c) write the same items. The
 * rules (who may, what may go where) stay with the callers; these only lay
 * the items out. Each returns 0 or the batch's first error (the batch is
 * then failed: store.h).
 */
#ifndef ACTLOG_MODEL_ORG_H
#define ACTLOG_MODEL_ORG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "store/store.h"

/*
 * Node id of type ("business" ... "team") named name under parent, whose
 * path (ROOT_ID first, parent last) is parent_path: the node item and the
 * parent's child entry (both IF_ABSENT), and a touch of the parent
 * (node_touch(): it must still exist at commit). *out (may be NULL) gets
 * the node item (the caller's).
 */
int org_node_add(struct store_batch *b, const char *id, const char *type, const char *name,
		 const struct target *parent_path, int64_t now, cJSON **out);

/* A new user. email is already normalised (email_norm), pw_hash a
 * password_hash() result; by is the creating user's id ("-" for none). */
struct org_user_new {
	const char *id, *email, *name, *login, *team_id, *pw_hash, *by;
};

/*
 * The user item, the email's unique index, the team's member index, the
 * employee grant on the team (both grant items), all IF_ABSENT (a taken
 * email fails the commit with -EEXIST), and a touch of the team. *out (may
 * be NULL) gets the user item.
 */
int org_user_add(struct store_batch *b, const struct org_user_new *u, int64_t now, cJSON **out);

/*
 * Role role (role_id: a custom role's id, or "") granted to user uid on
 * node node_id by user by: both grant items, IF_ABSENT (-EEXIST at commit
 * when the user holds that role there). *out (may be NULL) gets the grant.
 */
int org_grant_add(struct store_batch *b, const char *uid, const char *node_id, const char *role,
		  const char *role_id, const char *by, int64_t now, cJSON **out);

/* A new device: owner_id may be NULL (none); token_hash is its device
 * token's hash; pending: it waits for confirmation (model/device.h), false
 * for a device as a first enrolment of its host makes it. */
struct org_device_new {
	const char *id, *team_id, *host_id, *hostname, *agent_version, *owner_id, *token_hash;
	bool pending;
};

/*
 * The device item, the team's device index, the (team, host id) index (not
 * for a pending device: the host keeps its first device) and the device
 * token, all IF_ABSENT, at time now. The caller touches the team.
 */
int org_device_add(struct store_batch *b, const struct org_device_new *d, int64_t now);

/* The token item of a device token (TOKENS, IF_ABSENT). */
int org_device_token_add(struct store_batch *b, const char *device_id, const char *token_hash);

#endif /* ACTLOG_MODEL_ORG_H */
