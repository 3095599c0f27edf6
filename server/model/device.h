/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * device.h - devices and how they come in: a team's enrollment secrets,
 * the enrollment transaction, the device list and one device's reads and
 * changes (owner, confirmation, revocation), and the config an agent is
 * sent with its ETag. The layout is store/keys.h's (DEVICES, ENROLL,
 * TOKENS); a new device's items are model/org.h's org_device_add(). Used by
 * the device routes (api/device.c), which parse the request, authorize it,
 * make one call here and reply.
 *
 * Re-enrollment: the secret of a team and a host_id prove nothing about a
 * machine (a host id is readable on the machine and shown to managers). A
 * known device gets a new token only when the enrollment also presents
 * that device's current token. Without it, an enrollment of a host the
 * team already knows makes a new device that is "pending": need_device()
 * refuses its token (403) until someone with device.write confirms it; the
 * known device and its token are untouched. Nothing un-revokes a device.
 *
 * A device item also keeps the hash of its current token ("token"), so that
 * re-enrollment and revocation can delete it; device_view() never shows it.
 *
 * Every change commits in one store batch with its audit entry, which the
 * caller adds through a device_audit_fn (api/: audit_add(), which needs the
 * request), and is redone when a concurrent write got there first. Errors
 * are negative errno; why (the caller's) says what to answer: a refusal
 * by the rules (the errors each function lists) with a message for the
 * client, or else the item whose read or write failed. Nothing here logs.
 */
#ifndef ACTLOG_MODEL_DEVICE_H
#define ACTLOG_MODEL_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/why.h"
#include "store/store.h"

#define DEVICE_SECRET_TTL_DEFAULT_S (30 * 86400)
#define DEVICE_SECRET_TTL_MIN_S 1
#define DEVICE_SECRET_TTL_MAX_S (365 * 86400)
#define DEVICE_SECRETS_MAX 1000 /* secrets listed per team */
#define DEVICE_HOST_ID_MAX 128	/* printable ASCII, no spaces */
#define DEVICE_HOSTNAME_MAX 255 /* bytes */
#define DEVICE_VERSION_MAX 64	/* agent_version, bytes */
#define DEVICE_TRIES 5		/* batches redone after a concurrent write */
#define DEVICE_LAST_SEEN_STEP_MS                                                                   \
	60000 /* the agent's config refreshes last_seen at most this often */
#define DEVICE_ETAG_SIZE (16 * 2 + 3) /* "\"" 32 hex digits "\"" NUL */

/* Why a call failed: a refusal by the rules has msg (for the client) set;
 * any other error has msg "" and what, the item whose read or write failed
 * ("device", "secret", ...: reply_store_err()'s word), or NULL when an
 * allocation of the call's own failed (-ENOMEM). */

/*
 * Adds the audit entry of a change to batch b, the change's own batch, so
 * that both commit together: team_id is the team of the secret or device,
 * id the secret's or device's id, detail the entry's detail (may be NULL;
 * never a secret; the callee does not keep it). 0 or -errno (the change
 * then fails with it).
 */
typedef int (*device_audit_fn)(struct store_batch *b, const char *team_id, const char *id,
			       const cJSON *detail, void *ctx);

/* The API view of a device item d: {id, team_id, host_id, hostname,
 * agent_version, owner_id, enrolled_at, last_seen, revoked, pending,
 * users_seen: [{user_id, login, last_seen}], newest first} (never the
 * token). The caller's; pure. */
cJSON *device_view(const cJSON *d);

/* The team users a device's records named (ingest keeps them in the device
 * item's "users_seen": [{user_id, login, last_seen (unix ms)}]). */
#define DEVICE_USERS_SEEN_MAX 32	/* entries kept: the oldest are dropped */
#define DEVICE_USERS_SEEN_STEP_MS 60000 /* a user's last_seen is raised by this or more */
struct device_user_seen {
	char uid[ID_SIZE];
	char login[LOGIN_MAX_LEN + 1];
	int64_t last_seen;
};

/*
 * Merge the n users of e into device item d's users_seen: a new user is
 * added, a known one's last_seen raised when e's is DEVICE_USERS_SEEN_STEP_MS
 * or more newer (and its login refreshed); past DEVICE_USERS_SEEN_MAX
 * entries the oldest are dropped. 1 when d changed, 0 when not (nothing to
 * write), -ENOMEM. Pure.
 */
int device_users_seen_merge(cJSON *d, const struct device_user_seen *e, size_t n);

/* 1..DEVICE_HOST_ID_MAX bytes of printable ASCII without spaces? Pure. */
bool device_host_id_ok(const char *v);

/* --- enrollment secrets (ENROLL) --- */

/*
 * Whether node id is a team, the only nodes devices enroll into: 0;
 * -ENOTDIR (refused: not a team, or no such node); -errno (what "node").
 * device_secret_new() checks it too: a caller may ask first, e.g. to
 * refuse before it reads a request's body.
 */
int device_team_check(struct srv *s, const char *id, struct model_why *why);

/* A new enrollment secret: secret is shown once (crypto_wipe() it after). */
struct device_secret {
	char id[ID_SIZE];
	char secret[TOKEN_SIZE];
	int64_t expires_ms;
};

/*
 * A new enrollment secret of team team_id made by user by, valid ttl_s
 * seconds (DEVICE_SECRET_TTL_MIN_S..DEVICE_SECRET_TTL_MAX_S, else -EINVAL,
 * refused): the secret item (pk its hash) and the team's index item,
 * IF_ABSENT, with audit(b, team_id, secret id, {secret_id, expires_at})
 * in the same batch. 0 and *out; -ENOTDIR (refused: not a team); -errno
 * (what "node" or "secret"). On failure out->secret is wiped.
 */
int device_secret_new(struct srv *s, const char *team_id, const char *by, int64_t ttl_s,
		      device_audit_fn audit, void *actx, struct device_secret *out,
		      struct model_why *why);

/*
 * The secrets of team team_id at time now, oldest first, at most
 * DEVICE_SECRETS_MAX: *out (the caller's) {secrets: [{id, created, by,
 * expires_at, expired}], truncated}. Expired secrets are listed (and
 * flagged) until they are deleted. 0 or -errno.
 */
int device_secret_list(struct srv *s, const char *team_id, int64_t now, cJSON **out);

/*
 * Delete secret sid of team team_id (both items), with audit(b, team_id,
 * sid, NULL) in the same batch. 0; -ENOENT (refused: no such secret of the
 * team, also for a malformed sid); -errno (what "secret").
 */
int device_secret_delete(struct srv *s, const char *team_id, const char *sid, device_audit_fn audit,
			 void *actx, struct model_why *why);

/* --- enrollment --- */

/* What an agent presents to enroll. host_id: device_host_id_ok(); hostname
 * and agent_version: 1..DEVICE_HOSTNAME_MAX / DEVICE_VERSION_MAX bytes of
 * text (text_valid()); device_token: the bearer token it presented (re-enrollment), or
 * NULL. */
struct device_enroll_req {
	const char *secret, *host_id, *hostname, *agent_version, *device_token;
};

/* The answer of an enrollment. */
struct device_enrolled {
	char device_id[ID_SIZE];
	char token[TOKEN_SIZE]; /* the new device token: crypto_wipe() it after */
	bool again;		/* re-enrollment: the presented token's device, new token */
	bool pending;		/* the device (new or not) waits for confirmation */
	/* the secret's team (pointing into team_buf, so valid while this
	 * struct is); on a refusal only with reason "team_gone", else NULL */
	const char *team_id;
	const char *reason; /* a refusal's: "unknown_secret", "expired_secret", "team_gone" */
	char team_buf[STORE_KEY_MAX + 1];
};

/*
 * Enroll with secret r->secret (an unexpired secret of an existing team):
 * the device whose current token r->device_token is, when it is a device
 * of that team and host and not revoked, gets a new token (the old one
 * deleted, hostname and agent_version refreshed, its pending state kept):
 * out->again. Otherwise a new device (org_device_add()), pending when the
 * team already knows the host. The team is touched (node_touch()) and
 * audit(b, team, device id, {host_id, hostname, re_enrolled, pending}) is
 * in the batch; a batch that lost to a concurrent enrollment of the host
 * is redone up to DEVICE_TRIES times. 0 and *out; -EINVAL (r's fields);
 * -EACCES (refused: out->reason, out->team_id; msg "invalid enrollment
 * secret" or "enrollment secret expired"); -errno (what "enrollment";
 * -EAGAIN: still losing to concurrent enrollments). On failure out->token
 * is wiped.
 */
int device_enroll(struct srv *s, const struct device_enroll_req *r, device_audit_fn audit,
		  void *actx, struct device_enrolled *out, struct model_why *why);

/* --- the device list and one device --- */

/*
 * The devices of the teams at and below node x (target tx) that p may read
 * (device.read, or self.read for their own), each through authorize(): the
 * walk starts at x when p holds such a grant at or above x, else at each
 * such grant below x; at most LIST_MAX devices. *out (the caller's)
 * {devices: [device_view()], truncated}. 0; -EACCES (refused: p holds no
 * such grant at, above or below x); -errno (what "devices").
 */
int device_list(struct srv *s, const struct principal *p, const char *x, const struct target *tx,
		cJSON **out, struct model_why *why);

/* Device id's view (device_view()) into *out (the caller's). 0, -ENOENT,
 * -errno. */
int device_get(struct srv *s, const char *id, cJSON **out);

/*
 * Changes of device id of team team_id (the team its target names), each
 * a read-modify-write of the device item with audit(b, team_id, id,
 * detail) in the same batch, redone up to DEVICE_TRIES times when a
 * concurrent write got there first. *view (the caller's) gets the device
 * as it is after the change. Errors: -errno (what "device"), and:
 *
 * device_set_owner: owner (NULL: none) must be a user of team_id: -EINVAL
 * (refused) otherwise; what "user" when reading the user failed. detail
 * {owner_id}.
 * device_revoke: its token is deleted, "revoked" set (also again). detail
 * NULL.
 * device_confirm: "pending" cleared (a confirmed device stays as it is);
 * -EPERM (refused) for a revoked device. detail NULL.
 */
int device_set_owner(struct srv *s, const char *id, const char *team_id, const char *owner,
		     device_audit_fn audit, void *actx, cJSON **view, struct model_why *why);
int device_revoke(struct srv *s, const char *id, const char *team_id, device_audit_fn audit,
		  void *actx, cJSON **view, struct model_why *why);
int device_confirm(struct srv *s, const char *id, const char *team_id, device_audit_fn audit,
		   void *actx, cJSON **view, struct model_why *why);

/* --- the agent's config --- */

/* What an agent is sent. */
struct device_agent_config {
	char *json;		     /* {config, device_id}; free() it */
	char etag[DEVICE_ETAG_SIZE]; /* a quoted hash of json */
	int seen_err;		     /* 0, or why last_seen could not be refreshed */
};

/* A session user's login as a device names it (GET /api/v1/agent/config
 * ?user=, a presign's "user"): the rule of a record's "user", 1..
 * DEVICE_LOGIN_MAX bytes of UTF-8 without control characters. Pure. */
#define DEVICE_LOGIN_MAX 256
bool device_login_ok(const char *v);

/* Whose policy applies to what a device sends for session user login. */
enum device_policy_kind {
	DEVICE_POLICY_USER,  /* the team user whose login it is */
	DEVICE_POLICY_OWNER, /* no such user (or no login): the device's owner */
	DEVICE_POLICY_TEAM,  /* no owner either: the team's */
};

/* Whose policy: kind, the user (uid "" for the team's) and that user's
 * login ("" when unknown). */
struct device_policy_for {
	enum device_policy_kind kind;
	char uid[ID_SIZE];
	char login[DEVICE_LOGIN_MAX + 1];
};

/* "user", "owner" or "team". Static. */
const char *device_policy_kind_name(enum device_policy_kind k);

/*
 * Whose policy applies to session user login (NULL or "": none known) on a
 * device of team team_id whose owner is owner (NULL or "": none): the team
 * user whose login it is (org_team_login_user(), the lookup of ingest's
 * record mapping), else the owner, else the team. 0 and *out; -errno (what
 * "user").
 */
int device_policy_for(struct srv *s, const char *team_id, const char *owner, const char *login,
		      struct device_policy_for *out, struct model_why *why);

/*
 * The config of device id of team team_id (as its token names them, see
 * need_device()) for session user login (NULL: none; device_login_ok()
 * checked by the caller): the effective config (config_effective()) of the
 * team and the user of device_policy_for(), without the s3.* keys (agents
 * upload through presigned URLs: S3 settings stay on the server), as
 * {config, device_id, policy_for: {kind, user_id, login}} (user_id and
 * login null when unknown), and its ETag (the first 16 bytes of its
 * SHA-256, hex, quoted: one per device and user, since policy_for is in
 * it). The device's last_seen is raised to now when it is
 * DEVICE_LAST_SEEN_STEP_MS or more behind (a failure of that only sets
 * out->seen_err). 0 and *out; -ENOMEM; -errno (what "device", "user" or
 * "config").
 */
int device_agent_config(struct srv *s, const char *id, const char *team_id, const char *login,
			int64_t now, struct device_agent_config *out, struct model_why *why);

#endif /* ACTLOG_MODEL_DEVICE_H */
