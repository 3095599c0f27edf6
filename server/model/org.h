/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * org.h - the organisation: nodes (business > domain > project > team),
 * users, roles and grants.
 *
 * First the writers: one function per item set, each adding every item of
 * that set (the item and its indexes, store/keys.h) to a caller's batch, so
 * that the calls below, model/device.c and the seeder
 * (tools/bench/actlog-seed.c) write the same items. They only lay the
 * items out (who may, what may go where is decided before them). Each
 * returns 0 or the batch's first error (the batch is then failed:
 * store.h). Then the rules and reads of the organisation's routes.
 */
#ifndef ACTLOG_MODEL_ORG_H
#define ACTLOG_MODEL_ORG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/why.h"
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
 * node node_id by user by, whose login then was by_login (NULL or "": not
 * recorded): both grant items, IF_ABSENT (-EEXIST at commit when the user
 * holds that role there). *out (may be NULL) gets the grant.
 */
int org_grant_add(struct store_batch *b, const char *uid, const char *node_id, const char *role,
		  const char *role_id, const char *by, const char *by_login, int64_t now,
		  cJSON **out);

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

/* --- the rules and reads of the organisation ---
 *
 * What the organisation routes (api/org.c) call: each parses the request,
 * authorizes it (node.write on the parent creates and deletes a node, on
 * the node renames it; user.write, user.read, role.write on ROOT_ID (on
 * the business for a business's roles),
 * grant.write on the grant's node), makes one call here and replies.
 * Where a rule answers before the authorization, a check is called first
 * (org_node_place, org_node_changeable, org_node_delete_scope,
 * org_user_check, org_user_disable_check, org_role_check); the call after
 * it checks again what it needs.
 *
 * Rules kept here:
 *  - a node is created under a parent of the type just above it (a
 *    business under ROOT_ID); the root is neither renamed nor deleted, nor
 *    is the first business (init) deleted;
 *  - a node is deleted only when it has no children, users or devices; the
 *    grants held on it, its config document and its data key go with it;
 *  - a new user gets the employee role on their team (org_user_add());
 *  - built-in and global custom roles are installation-wide; a custom
 *    role may belong to a business instead, seen and granted only there;
 *    role names are unique across the installation; each custom role gets
 *    a new id, which its grants record (a role deleted and created again
 *    under its name does not revive the old grants);
 *  - nobody grants or revokes more than they hold: the role's permissions
 *    must be a subset of what the granter holds on the node (no
 *    escalation). That nobody changes a user holding more than they do is
 *    core/srv.h's need_holds_all_of(), which the routes ask;
 *  - nobody disables themselves or revokes their own grants (no lock-out),
 *    and one's own password is changed only through model/account.h;
 *  - a grant's user belongs to the node's business, unless the granter
 *    holds grant.write over the user's team too (the root admin).
 *
 * A change commits in one store batch with its audit entry, which the
 * caller adds through an org_audit_fn (api/: audit_add(), which needs the
 * request). Errors are negative errno; why (the caller's) says what to
 * answer: a refusal by the rules (the errors each function lists) with a
 * message for the client, or else the item whose read or write failed.
 * Functions without why name that item in their contract. Nothing here
 * logs.
 */

/* Room for a refusal's message: the HTTP layer's cap on an error message,
 * so a message is cut where a reply would cut it. */

/* Why a call failed: a refusal by the rules has msg (for the client) set;
 * any other error has msg "" and what, the item whose read or write failed
 * ("node", "user", "role", "grant", "grants", "parent node", "team": the
 * word of reply_store_err()). */

/*
 * Adds the audit entry of a change (action, e.g. "user.create"; node_id,
 * the scope that may read it, may be NULL; target; detail, may be NULL, the
 * callee does not keep it, never a secret) to batch b, the change's own
 * batch, so that both commit together. 0 or -errno (the change then fails
 * with it). model/account.h uses it too.
 */
typedef int (*org_audit_fn)(struct store_batch *b, const char *action, const char *node_id,
			    const char *target, const cJSON *detail, void *ctx);

/* The names of the permissions in perms, in the order of core/srv.h's
 * PERMS, as a JSON array (the caller's; NULL when out of memory). Pure. */
cJSON *org_perm_names(uint32_t perms);

/* --- nodes --- */

/*
 * Whether a node of type ("business", "domain", "project", "team") goes
 * under parent_id (ROOT_ID for a business): 0; -EINVAL (refused: an
 * unknown type, or a parent of another type than the one just above);
 * -errno (what "parent node", -ENOENT: no such parent).
 */
int org_node_place(struct srv *s, const char *type, const char *parent_id, struct model_why *why);

/*
 * A new node of type named name (1..NAME_MAX_LEN bytes, the caller's
 * check) under the parent whose target is pt (org_node_place() said it
 * goes there): org_node_add() at now, with audit(b, "node.create", id, id,
 * NULL) in the same batch. *node (the caller's) gets the node item. 0 or
 * -errno (what "node").
 */
int org_node_create(struct srv *s, const char *type, const char *name, const struct target *pt,
		    org_audit_fn audit, void *actx, cJSON **node);

/* Node id's item into *out (the caller's); for ROOT_ID {id, type, name}
 * all "root". 0, -ENOENT, -errno (what "node"). */
int org_node_get(struct srv *s, const char *id, cJSON **out);

/*
 * The children of node id (target t) that p may see, at most LIST_MAX:
 * all of them when p may read t (node.read), else those p may read or
 * that lead to a node where p holds node.read. *out (the caller's)
 * {children: [{id, type, name}]}. 0; -EACCES (refused: p may not read t
 * and sees no child); -errno (what "node").
 */
int org_node_children(struct srv *s, const struct principal *p, const char *id,
		      const struct target *t, cJSON **out, struct model_why *why);

/* Whether node id may be changed as done says ("renamed", "deleted"): 0;
 * -EINVAL (refused) for ROOT_ID, which is no stored node. Pure. */
int org_node_changeable(const char *id, const char *done, struct model_why *why);

/*
 * Rename node id to name (the caller's check of name; not ROOT_ID): the
 * node item and its parent's child entry, read and written back in one
 * batch (IF_EXISTS) with audit(b, "node.rename", id, id, NULL). *node (the
 * caller's) gets the node item. 0 or -errno (what "node"; -ENOENT: no such
 * node, -EIO: it names no parent).
 */
int org_node_rename(struct srv *s, const char *id, const char *name, org_audit_fn audit, void *actx,
		    cJSON **node);

/*
 * Where a delete of node id is decided: the target of its parent (node.write
 * there deletes it) into *pt. 0; -EINVAL (refused: ROOT_ID); -errno (what
 * "node"; -EIO: the node names no parent that can be read).
 */
int org_node_delete_scope(struct srv *s, const char *id, struct target *pt, struct model_why *why);

/*
 * Delete node id, whose parent's target is pt (org_node_delete_scope();
 * the parent is pt's last node), when it is empty: the node item, its
 * parent's child entry, the grants held on it (both items of each), its
 * config document and data key, with audit(b, "node.delete", parent, id,
 * NULL) in the same batch. The node is read in that batch first: whatever
 * adds a child, user or device touches it (node_touch()), so one that
 * commits meanwhile fails the delete (-EAGAIN). 0; -EPERM (refused: the
 * first business); -ENOTEMPTY (refused: it has children, users or
 * devices); -errno (what "node").
 */
int org_node_delete(struct srv *s, const char *id, const struct target *pt, org_audit_fn audit,
		    void *actx, struct model_why *why);

/* --- users --- */

/* A login a user's sessions may run under: a Linux user name, 1..32 of
 * [a-z0-9_.-] starting with a letter or '_'. Pure. */
bool org_login_valid(const char *login);

/* The login user item u answers to in records: its "login" when that is at
 * most LOGIN_MAX_LEN bytes, else its email's local part when that is. true
 * and out, or false (no login). Pure. */
bool org_user_login(const cJSON *u, char out[LOGIN_MAX_LEN + 1]);

/* Longest user list of a team read for a login (org_team_login_user(),
 * ingest's map). */
#define ORG_TEAM_USERS_MAX 5000

/*
 * The user of team team_id whose login (org_user_login()) is login: the
 * lowest user id when two share it, among the first ORG_TEAM_USERS_MAX
 * users of the team's index. 0 and uid; -ENOENT (none; also for an empty
 * team_id or login); -errno (what "user").
 */
int org_team_login_user(struct srv *s, const char *team_id, const char *login, char uid[ID_SIZE],
			struct model_why *why);

/* A user to create, as a request gives it (each string already 1..its cap
 * bytes of text: NAME_MAX_LEN, EMAIL_MAX_LEN, PASSWORD_MAX, ID_SIZE,
 * LOGIN_MAX_LEN). org_user_check() fills em and, without a login, lg (and
 * points login at it). */
struct org_user_req {
	const char *email, *name, *password, *team_id;
	const char *login; /* NULL: the local part of the email */
	char em[EMAIL_MAX_LEN + 1];
	char lg[LOGIN_MAX_LEN + 1];
};

/*
 * Check r before anything is read, in this order: the email (normalised
 * into r->em), the password (PASSWORD_MIN_LEN..PASSWORD_MAX bytes), the
 * login (org_login_valid(); by default the email's local part). 0, or
 * -EINVAL (refused). Pure.
 */
int org_user_check(struct org_user_req *r, struct model_why *why);

/*
 * Create user r (org_user_check() passed) in team r->team_id, made by user
 * by: the password hashed in an Argon2id slot (pw_slot_take()), then
 * org_user_add() with audit(b, "user.create", team, id, NULL) in the same
 * batch. *view (the caller's) gets user_view() of the new user. 0; -EINVAL
 * (refused: team_id names no team); -EEXIST (refused: the email is taken);
 * -errno (what "user", or "team" when the team went away; -EAGAIN: no
 * hashing slot in time).
 */
int org_user_create(struct srv *s, const struct org_user_req *r, const char *by, org_audit_fn audit,
		    void *actx, cJSON **view, struct model_why *why);

/* User id's user_view() into *view (the caller's). 0, -ENOENT, -errno (what
 * "user"). */
int org_user_get(struct srv *s, const char *id, cJSON **view);

/*
 * The users of the teams at and below node node_id that p may read
 * (user.read, through authorize()), team by team depth first, at most
 * LIST_MAX: *out (the caller's) {users: [user_view()], truncated: true
 * when cut}. 0 or -errno (what "users").
 */
int org_user_list(struct srv *s, const struct principal *p, const char *node_id, cJSON **out);

/* No lock-out: whether actor_id may disable user uid (not themselves). 0,
 * or -EPERM (refused). Pure. */
int org_user_disable_check(const char *actor_id, const char *uid, struct model_why *why);

/* A change of a user; NULL fields stay as they are. */
struct org_user_change {
	const char *name, *login; /* 1..NAME_MAX_LEN, 1..LOGIN_MAX_LEN bytes of text */
	const char *password;	  /* an administrator's reset: 1..PASSWORD_MAX bytes */
	const char *tz;		  /* the preferred time zone: tz_valid() */
	int disabled;		  /* -1 unchanged, 0 enable, 1 disable */
};

/*
 * Change user id of team team_id (as its target names it; the audit
 * entries' scope) by user actor_id, in this order of checks: the login
 * (org_login_valid()), the time zone (tz_valid()), no self-disable, no reset of one's own password,
 * the password's length; the password hashed in a slot. Then in one batch:
 * the user item read and written back with the fields set; on a reset or
 * a disable every session of the user ends (their tokens deleted, the
 * item's sessions_after set to now); audit(b, "user.password_reset",
 * team_id, id, {sessions_revoked}) for a reset, and, unless the change is
 * only a reset, audit(b, "user.update" ("user.disable", "user.enable" when
 * disabled is set), team_id, id, [names of the fields set]). After the
 * commit of a reset or a disable, user_tokens_sweep(); its error goes to
 * *sweep_err (0 else), the change stands. *view (the caller's) gets
 * user_view() of the user after it. 0; -EINVAL (refused: login, time
 * zone, password length); -EPERM (refused: disabling oneself); -EACCES (refused: one's
 * own password); -errno (what "user"; -EAGAIN: no hashing slot in time).
 */
int org_user_update(struct srv *s, const char *actor_id, const char *id, const char *team_id,
		    const struct org_user_change *c, org_audit_fn audit, void *actx, cJSON **view,
		    int *sweep_err, struct model_why *why);

/*
 * Disable (off) or enable user id of team team_id by user actor_id:
 * org_user_disable_check() for a disable, then the user item read and
 * written back in one batch, with (off) every session ended as in
 * org_user_update() and audit(b, "user.disable", team_id, id,
 * {sessions_revoked}), or audit(b, "user.enable", team_id, id, NULL). After
 * a disable's commit, user_tokens_sweep() (*sweep_err as there). *view as
 * there. 0; -EPERM (refused: oneself); -errno (what "user").
 */
int org_user_set_disabled(struct srv *s, const char *actor_id, const char *id, const char *team_id,
			  bool off, org_audit_fn audit, void *actx, cJSON **view, int *sweep_err,
			  struct model_why *why);

/* Past teams a user item keeps ("teams_before"; the oldest goes first). */
#define ORG_TEAMS_BEFORE_MAX 32

/*
 * Move user id from team from (as its target names it) to team to, by
 * user by (who holds user.write on both, the caller's check): in one batch
 * the user item (team_id; from appended to "teams_before", at most
 * ORG_TEAMS_BEFORE_MAX: the devices of those teams keep records mapped to
 * the user, which an erasure looks for), the members index of both teams,
 * the employee grant on from deleted and one on to added (when the user
 * does not hold it there yet; grants elsewhere stay), a touch of to, and
 * audit(b, "user.move", to, id, {from, to}). Records stored before keep
 * their mapping. *view (the caller's) gets user_view(). 0; -EINVAL
 * (refused: to is no team, or the user's team); -EPERM (refused: the user
 * is being erased, or belongs to no team: from is the root); -errno (what
 * "user", "team"; -EAGAIN: moved meanwhile).
 */
int org_user_move(struct srv *s, const char *by, const char *id, const char *from, const char *to,
		  org_audit_fn audit, void *actx, cJSON **view, struct model_why *why);

/* --- roles --- */

/* Most custom roles one list answers. */
#define ORG_ROLES_LIST_MAX 1000

/*
 * The built-in roles, then the custom ones p may see (at most
 * ORG_ROLES_LIST_MAX): the global ones, and a business's only when p
 * belongs to that business (principal_in_business(): a grant there or on
 * the root). *out (the caller's) {roles: [{name, permissions, builtin,
 * (custom:) id, by, at, (a business's:) business_id}]}. 0 or -errno (what
 * "roles").
 */
int org_role_list(struct srv *s, const struct principal *p, cJSON **out);

/*
 * A custom role name (1..64 bytes, the caller's cap) with the permissions
 * named in perms (a JSON array of names) made by user by, of business
 * business_id (a business node; the caller checked role.write there) or
 * global (NULL; role.write on ROOT_ID): the role item (IF_ABSENT: names
 * are unique across the installation) with a new id, and audit(b,
 * "role.create", business_id or ROOT_ID, name, [permissions]) in the same
 * batch. *role (the caller's) gets the role as listed. 0; -EINVAL
 * (refused: the name's rules (role_name_valid()), perms not an array, an
 * unknown permission); -EPERM (refused: a built-in name); -ENOSPC
 * (refused: MAX_ROLES custom roles of that business, or global ones,
 * exist); -EEXIST (refused: a custom role of that name exists, in any
 * business); -errno (what "role").
 */
int org_role_create(struct srv *s, const char *by, const char *name, const cJSON *perms,
		    const char *business_id, org_audit_fn audit, void *actx, cJSON **role,
		    struct model_why *why);

/*
 * The business custom role name belongs to into bid ("" for a global,
 * built-in or unknown role), as p may know it: 0; -ENOENT (refused,
 * "unknown role": a role of a business p does not belong to); -errno
 * (what "role").
 */
int org_role_business(struct srv *s, const struct principal *p, const char *name, char bid[ID_SIZE],
		      struct model_why *why);

/* Delete custom role name (of business business_id, "" or NULL: global;
 * org_role_business()) with audit(b, "role.delete", business_id or
 * ROOT_ID, name, NULL) in the same batch. 0; -EPERM (refused: a built-in
 * role); -ENOENT (refused: not a valid name); -errno (what "role";
 * -ENOENT: no such role). */
int org_role_delete(struct srv *s, const char *name, const char *business_id, org_audit_fn audit,
		    void *actx, struct model_why *why);

/* Whether role names a role (built in or custom): 0; -EINVAL (refused);
 * -errno (what "role"). */
int org_role_check(struct srv *s, const char *role, struct model_why *why);

/* --- grants --- */

/*
 * Grant role to user uid (target ut) on node node_id (target nt) by p, who
 * holds grant.write on nt: p must also hold grant.write over ut when the
 * user belongs to another business than the node; a business's role is
 * unknown (-EINVAL) to p outside that business and is granted only on that
 * business's nodes (-EACCES); the role's permissions must all be p's on nt
 * (the refusal names those missing); the user holds fewer than MAX_GRANTS
 * grants. Then
 * org_grant_add() (with the role's id) and audit(b, "grant.create",
 * node_id, uid, {role, user_id}) in one batch. *grant (the caller's) gets
 * the grant item. 0; -EACCES (refused: across businesses, escalation);
 * -ENOSPC (refused: MAX_GRANTS); -EEXIST (refused: the user holds that
 * role there); -errno (what "role", "grants" or "grant").
 */
int org_grant_create(struct srv *s, const struct principal *p, const char *uid, const char *role,
		     const char *node_id, const struct target *nt, const struct target *ut,
		     org_audit_fn audit, void *actx, cJSON **grant, struct model_why *why);

/*
 * Revoke role of user uid on node node_id (target nt) by p, who holds
 * grant.write on nt: not one's own grant, and not a role carrying
 * permissions p lacks on nt. Both grant items deleted (the user's
 * IF_EXISTS) with audit(b, "grant.revoke", node_id, uid, {role, user_id})
 * in the same batch. 0; -EPERM (refused: one's own); -EACCES (refused:
 * escalation); -errno (what "grant"; -ENOENT: no such grant).
 */
int org_grant_revoke(struct srv *s, const struct principal *p, const char *uid, const char *role,
		     const char *node_id, const struct target *nt, org_audit_fn audit, void *actx,
		     struct model_why *why);

/*
 * The grants user uid holds (at most MAX_GRANTS) that p may see: all of
 * them for uid itself, else those on nodes where p may read users (a
 * manager of one team does not learn where else the user holds what).
 * *out (the caller's) {grants: [grant items]}. 0 or -errno (what
 * "grants").
 */
int org_grant_list(struct srv *s, const struct principal *p, const char *uid, cJSON **out);

/*
 * Grant item g as the routes show it: created_by {id, login} (the login
 * recorded with the grant, else the creator's current one, else null) when
 * "by" names a user, else null (grants made by init or the seeder);
 * created_at ("at") or null. Reads the creator's user item when the grant
 * recorded no login.
 */
void org_grant_view(struct srv *s, cJSON *g);

#endif /* ACTLOG_MODEL_ORG_H */
