/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srv.h - the application core of actlog-server: the server context, ids,
 * JSON items in the store, principals (who asks), targets (what is asked
 * about), the one authorize() every handler calls, the audit log, and the
 * sealed (encrypted) values. The model (server/model/) and the route
 * modules (server/api/, with their request helpers in api/api.h) build on
 * it; it includes no HTTP header, and nothing here or above may assume the
 * LMDB engine (store.h is the interface).
 *
 *  - Every decision goes through authorize(); list handlers filter every
 *    item through it, so nothing outside scope is ever returned.
 *  - Timestamps in the API are RFC 3339 UTC with milliseconds; in the store
 *    they are Unix milliseconds.
 *
 * Data layout: every table's items and keys are written in store/keys.h,
 * which builds every key.
 *
 * Users and records: a user's `login` is the login name their sessions run
 * under (default: the local part of their email). A record shipped by a
 * device maps to the user of the device's team whose login equals the
 * record's `user`; failing that, to the device's owner (owner_id) when set;
 * otherwise to no user (kept per device only).
 */
#ifndef ACTLOG_SRV_H
#define ACTLOG_SRV_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/crypto.h"
#include "core/keyprov.h"
#include "core/ratelimit.h"
#include "store/store.h"

struct outbound;
struct backup_sched;

#define SRV_SCHEMA 1
#define ROOT_ID "root" /* the virtual node above every business */

/* Ids: one letter, '_', 16 lower-case hex digits (64 random bits). */
#define ID_LEN 18
#define ID_SIZE 32 /* room for any id we accept, with the NUL */
#define ID_PREFIX_NODE 'n'
#define ID_PREFIX_USER 'u'
#define ID_PREFIX_DEVICE 'd'
#define ID_PREFIX_ROLE 'r'
#define ID_PREFIX_ENROLL 'e'
#define ID_PREFIX_PTOKEN 't' /* personal API tokens */

/* Times devices may send (record times at ingest, screenshots' taken_at):
 * from 2000-01-01 to a day ahead of the server's clock. Older or later ones
 * are refused, or retention (by UTC day) would never reach them. */
#define TS_MIN_MS 946684800000LL	  /* 2000-01-01T00:00:00Z */
#define TS_FUTURE_MS (24LL * 3600 * 1000) /* at most a day ahead of now */
#define TS_RANGE_WHY "before 2000 or more than a day ahead"

/* Caps on what users send (rule 6). */
#define NAME_MAX_LEN 200 /* node, user, role, host names (bytes) */
#define EMAIL_MAX_LEN 254
#define LOGIN_MAX_LEN 64
#define PASSWORD_MIN_LEN 8
#define API_JSON_MAX (64u << 10) /* JSON body of an API request */
#define MAX_GRANTS 64		 /* grants one user may hold */
#define MAX_ROLES 64		 /* custom roles */
#define TREE_DEPTH 5		 /* root, business, domain, project, team */
#define LIST_MAX 1000		 /* items one list answer returns */

/* Server settings (actlog-server serve options). */
struct srv_opts {
	unsigned token_ttl_s;	  /* bearer token lifetime; default 12 h */
	unsigned login_burst;	  /* sign-in attempts per (account, address); see api/auth.c */
	unsigned login_refill_ms; /* one more attempt every ... */
	unsigned api_burst;	  /* requests per token (bucket) */
	unsigned api_refill_ms;
	unsigned pw_slots;     /* Argon2id hashes at once (64 MiB each) */
	unsigned s3_timeout_s; /* one S3 attempt made for an API request (see S3_API_*) */
};

/* S3 requests made for API requests (profile pictures, screenshot HEAD and
 * image GET): connect within S3_API_CONNECT_MS, each attempt within
 * srv_opts.s3_timeout_s (a screenshot image GET: S3_API_IMAGE_FACTOR times
 * that), at most 3 attempts (s3set.c). They run on the outbound pool. */
#define S3_API_DEFAULT_TIMEOUT_S 15
#define S3_API_MAX_TIMEOUT_S 600
#define S3_API_CONNECT_MS 3000
#define S3_API_IMAGE_FACTOR 4
#define S3_API_TIMEOUT_MS(s) ((s)->o.s3_timeout_s * 1000u)

struct srv {
	struct store *st;
	/* the master key ring: read under kp_lock (srv_kek_by_id), replaced
	 * by srv_key_swap() */
	struct keyprov *kp;
	pthread_rwlock_t kp_lock;
	/* set by serve: load the key ring again (key files or secret) and
	 * srv_key_swap() it in; called from any thread when a data key or the
	 * store's current master key names a key the ring lacks (serve skips
	 * it when one began within 2 s). NULL: no reload. 0 or -errno. */
	int (*key_reload)(struct srv *s, void *arg);
	void *key_reload_arg;
	struct srv_opts o;
	struct ratelimit *rl_login_pair; /* key: lower-case email "|" client address */
	struct ratelimit *rl_login_addr; /* key: client address */
	struct ratelimit *rl_login_acct; /* key: lower-case email (the account ceiling) */
	struct ratelimit *rl_token;	 /* key: token hash (users and devices) */
	sem_t pw_sem;
	char business_id[ID_SIZE]; /* the first business (init) */
	/* the pool finishing requests that call S3 (need_outbound); set and
	 * freed by the caller of srv_init(); NULL: such jobs run inline */
	struct outbound *ob;
	/* the periodic backups (model/backup_sched.h); set by
	 * backup_sched_start(); NULL: none */
	struct backup_sched *backups;
};

/* Open the context on an opened store and key provider (both stay owned by
 * the caller). Fills defaults for zero options. 0 or -errno. */
int srv_init(struct srv *s, struct store *st, struct keyprov *kp, const struct srv_opts *o);
void srv_fini(struct srv *s);
/* Check that the key ring unwraps every data key of the store, each with
 * the key its blob names (a wrong key file or secret, or a key retired by a
 * rotation, is refused at start, not at the first secret read).
 * 0, -EKEYREJECTED with the reason in why, or -errno. */
int srv_key_check(struct srv *s, char *why, size_t why_len);
/* The data-key scope every store gets at init, for that check. */
#define KEY_CHECK_SCOPE "store"

/*
 * First-time set-up of an empty store: META, the business node `business`,
 * the admin user (email, password) with the admin role granted on ROOT_ID,
 * all in one batch. -EEXIST when the store already holds META.
 */
int srv_bootstrap(struct srv *s, const char *business, const char *email, const char *password);

/* --- small helpers --- */

int64_t now_ms(void);
/* A new random id "p_xxxxxxxxxxxxxxxx" into out (ID_SIZE). 0 or -EIO. */
int id_new(char prefix, char out[ID_SIZE]);
/* 1 when s looks like an id of that prefix (any prefix when prefix == 0). */
bool id_valid(const char *s, char prefix);
/* 1 when Unix ms time ms is in TS_MIN_MS..now + TS_FUTURE_MS. */
bool ts_accepted(int64_t ms, int64_t now);
/* Lower-case copy of an email address; -EINVAL when it is not one. */
int email_norm(const char *in, char out[EMAIL_MAX_LEN + 1]);

/* --- JSON items --- */

/* Get (t, pk, sk) and parse it. 0, -ENOENT, -EIO (not JSON), -errno. */
int jget(struct srv *s, enum store_table t, const char *pk, const char *sk, cJSON **out);
/* Same inside a batch (store_batch_get: read-your-writes, checked at commit). */
int jbget(struct store_batch *b, enum store_table t, const char *pk, const char *sk, cJSON **out);
/* Add a put of j (printed compact; j stays the caller's) to b. */
int jput(struct store_batch *b, enum store_table t, const char *pk, const char *sk, const cJSON *j,
	 unsigned flags);

/* String member k of o, or NULL when missing or not a string. */
const char *jstr(const cJSON *o, const char *k);
/* Number member as int64 (saturating at INT64_MIN/MAX); def when missing
 * or not a number. */
int64_t jint(const cJSON *o, const char *k, int64_t def);

/*
 * The first NUL character inside a string of the JSON text j[0..len): a raw
 * 0 byte or the escape \u0000 (hex digits in either case). cJSON decodes
 * both into a 0 byte, and every C string check after it (strlen, length
 * caps, control characters) would see only the part before it. Escapes
 * are read in pairs, so "\\u0000" (an escaped backslash, then text) holds
 * none. Returns its byte offset, or -1 when there is none. When key is not
 * NULL, the name of the field it is in (the innermost object key, or that
 * of the enclosing array; "" when it is in a key itself, or the name is
 * not plain ASCII or over key_len - 1 bytes) goes there. Any bytes are safe
 * to scan, valid JSON or not.
 */
long json_nul_find(const char *j, size_t len, char *key, size_t key_len);
/* 1 when v is min..max bytes of valid UTF-8 without control characters
 * (up to its first NUL: strings from JSON go through json_nul_find first). */
bool text_valid(const char *v, size_t min, size_t max);
/* Wait (up to 10 s) for one of the srv_opts.pw_slots Argon2id slots: 0 or
 * -EBUSY; every 0 is followed by one pw_slot_put(). */
int pw_slot_take(struct srv *s);
void pw_slot_put(struct srv *s);
/* --- permissions and roles --- */

#define PERMS(X)                                                                                   \
	X(NODE_READ, "node.read")                                                                  \
	X(NODE_WRITE, "node.write")                                                                \
	X(USER_READ, "user.read")                                                                  \
	X(USER_WRITE, "user.write")                                                                \
	X(ROLE_WRITE, "role.write")                                                                \
	X(GRANT_WRITE, "grant.write")                                                              \
	X(CONFIG_READ, "config.read")                                                              \
	X(CONFIG_WRITE, "config.write")                                                            \
	X(DEVICE_READ, "device.read")                                                              \
	X(DEVICE_WRITE, "device.write")                                                            \
	X(ACTIVITY_READ, "activity.read")                                                          \
	X(AUDIT_READ, "audit.read")                                                                \
	X(SELF_READ, "self.read")                                                                  \
	X(SCREENSHOT_READ, "screenshot.read")                                                      \
	X(STORE_ADMIN, "store.admin") /* store-wide operations (retention runs); on root */

enum perm_bit {
#define PERM_BIT_(id, name) PERMB_##id,
	PERMS(PERM_BIT_)
#undef PERM_BIT_
	    PERMB__COUNT
};
enum perm {
#define PERM_ENUM_(id, name) PERM_##id = 1u << PERMB_##id,
	PERMS(PERM_ENUM_)
#undef PERM_ENUM_
};
#define PERM_ALL ((1u << PERMB__COUNT) - 1)
/*
 * Permissions a user holds on their own data (target user == principal)
 * through SELF_READ alone: reading their user, activity, effective config
 * and devices.
 */
#define PERM_SELF_SET (PERM_USER_READ | PERM_ACTIVITY_READ | PERM_CONFIG_READ | PERM_DEVICE_READ)

/* "node.read" -> PERM_NODE_READ; 0 when unknown. */
uint32_t perm_parse(const char *name);
const char *perm_name(uint32_t one_perm);
/* Role name rules: 1..64 of [a-z0-9_-], starting with a letter. */
bool role_name_valid(const char *name);
/* Built-in role permissions, or -ENOENT when name is not built in. */
int role_builtin(const char *name, uint32_t *perms);
/* Permissions of a built-in or custom role. 0, -ENOENT, -errno. */
int role_perms(struct srv *s, const char *name, uint32_t *perms);
/*
 * role_perms() and the role's id into id: every custom role gets a new
 * random id when it is created, so a role deleted and created again under
 * the same name is another role; "" for built-in roles (and custom roles
 * stored before roles had ids). A grant of a custom role records that id
 * (role_id) and carries the role's permissions only while they match.
 */
int role_get(struct srv *s, const char *name, uint32_t *perms, char id[ID_SIZE]);

/* --- principals and targets --- */

struct grant {
	char role[72];
	char node_id[ID_SIZE];
	uint32_t perms;
};

enum principal_kind { PRINCIPAL_USER = 1, PRINCIPAL_DEVICE };

struct principal {
	enum principal_kind kind;
	char id[ID_SIZE];	/* user id or device id */
	char team_id[ID_SIZE];	/* the user's or the device's team ("" for none) */
	char owner_id[ID_SIZE]; /* a device's owner, as its item names it ("" for none) */
	char email[EMAIL_MAX_LEN + 1];
	char token_hash[TOKEN_HASH_SIZE];
	/* signed in with a personal API token (alp_): its grants carry only
	 * the token's scopes (model/ptoken.h) */
	bool personal;
	uint32_t scopes; /* the personal token's permissions; 0 otherwise */
	size_t n_grants;
	struct grant g[MAX_GRANTS];
};

/*
 * What a request is about: the node path from ROOT_ID down to the node the
 * target sits in (for a user or a device: their team), and for user-owned
 * data the user id (self rule).
 */
struct target {
	size_t depth;
	char path[TREE_DEPTH][ID_SIZE];
	char user_id[ID_SIZE];
};

/* Union of the permissions p holds on t through grants (no self rule). */
uint32_t perms_on(const struct principal *p, const struct target *t);
/*
 * The item of bearer token `token` of type prefix (TOKEN_PREFIX_BEARER or
 * TOKEN_PREFIX_DEVICE) into *item (the caller's), its hash into hash. An
 * expired token is refused, and deleted (with its entry in the user's
 * index) when drop_expired. 0, -EINVAL (not a token of that type),
 * -ENOENT (unknown or revoked), -EKEYEXPIRED, -errno.
 */
int token_get(struct srv *s, const char *token, const char *prefix, char hash[TOKEN_HASH_SIZE],
	      bool drop_expired, cJSON **item);
/* Load p's grants (need_user does it). 0 or -errno. */
int principal_load_grants(struct srv *s, struct principal *p);

/*
 * The one access decision: 0 when p may do perm on t, else -EACCES.
 * A grant applies when its node is on t's path (a grant on a node covers
 * everything below it). Self rule: when t->user_id is p's own id, a perm in
 * PERM_SELF_SET is allowed if p holds SELF_READ anywhere on t's path.
 * Devices hold no permissions.
 */
int authorize(const struct principal *p, uint32_t perm, const struct target *t);
/* The business t sits in (the node below ROOT_ID on its path), or "" for
 * ROOT_ID itself (and for a user without a team). Points into t. */
const char *target_business(const struct target *t);
/*
 * 0 when p belongs to the business t sits in: t is p's own user, or p holds
 * a grant on the root or on a node of that business (every user holds the
 * employee grant on their team); else -EACCES. For what colleagues may see
 * of each other without a permission (profile pictures): never across
 * businesses.
 */
int principal_in_business(struct srv *s, const struct principal *p, const struct target *t);

/* Targets. 0, -ENOENT (no such node/user/device), -errno. */
int target_node(struct srv *s, const char *node_id, struct target *t);
int target_user(struct srv *s, const char *user_id, struct target *t);
int target_device(struct srv *s, const char *device_id, struct target *t);

/*
 * Sign-in tokens of users. Each is indexed under its user (store/keys.h:
 * TOKENS pk "user|"uid), so that all of a user's tokens can be revoked:
 * disabling a user, an administrator's reset of their password and a
 * change of one's own password (all but the current token) delete them.
 * A user holds at most USER_TOKENS_MAX live tokens: a sign-in beyond that
 * evicts the oldest. Tokens stored before the index existed are not in it;
 * the user's "sessions_after" mark (need_user) ends those.
 */
#define USER_TOKENS_MAX 20  /* live sign-in tokens per user */
#define USER_TOKENS_SCAN 64 /* index entries read at once (> MAX: concurrent sign-ins) */
#define USER_TOKENS_PK_SIZE (ID_SIZE + 8)
#define USER_TOKEN_ADDR_SIZE 48 /* client address kept with an entry (INET6_ADDRSTRLEN) */

/*
 * Add to b the token item tok at TOKENS pk hash (IF_ABSENT) and its index
 * entry {iat, exp (from tok), addr (the client, may be NULL)}; also the
 * deletes of uid's expired tokens and, while uid holds USER_TOKENS_MAX live
 * ones, of the oldest (by iat). The index is read now, not as a recorded
 * read: sign-ins at the same moment may leave a few more, trimmed by the
 * next one. tok stays the caller's. 0 or -errno.
 */
int user_token_add(struct srv *s, struct store_batch *b, const char *uid, const char *hash,
		   const cJSON *tok, const char *addr);
/* Delete uid's token hash and its index entry, in a batch of its own
 * (sign-out, expiry). 0 or -errno. */
int user_token_drop(struct srv *s, const char *uid, const char *hash);
/*
 * Add to b the deletes of every token in uid's index (with their entries)
 * but keep (a token hash, or NULL). The number of tokens, or -errno.
 */
int user_tokens_revoke(struct srv *s, struct store_batch *b, const char *uid, const char *keep);
/*
 * user_tokens_revoke() in a batch of its own. Call it after committing a
 * change that revokes (with user_tokens_revoke() in that change's batch): a
 * sign-in that committed between the read of the index and that commit is
 * caught here (sign-ins read the user item as a recorded read, so none can
 * commit after it on the state before the change). Count or -errno.
 */
int user_tokens_sweep(struct srv *s, const char *uid, const char *keep);
/* true when uid holds a live token issued to a client at addr. */
bool user_token_from(struct srv *s, const char *uid, const char *addr);

/* The API view of a user item: every field but the password hash and
 * sessions_after; "tz" (the preferred time zone) is null when not set. */
cJSON *user_view(const cJSON *u);

/* A node item (NODES pk id sk "node"), parsed. 0, -ENOENT, -errno. */
int node_get(struct srv *s, const char *id, cJSON **out);
/*
 * In batch b, read node id (a recorded read: the commit fails with -EAGAIN
 * if the node changed or went away meanwhile) and write it back with its
 * "rev" counter raised, so that a concurrent batch that read it (a delete
 * checking the node is empty) fails instead. Call it when adding something
 * under a node (child, user, device). 0, -ENOENT (node gone), -errno.
 */
int node_touch(struct store_batch *b, const char *id);

/* "business" 1, "domain" 2, "project" 3, "team" 4; 0 unknown. */
int node_type_parse(const char *name);
const char *node_type_name(int type);

/* --- audit log (append-only) --- */

/*
 * Add an audit entry to batch b (so it commits with the change it records):
 * {ts, action, actor (user/device id or "-"), actor_email, client (the
 * client's address, "-" for none), node_id (the scope that may read it),
 * target, result, detail}. detail may be NULL and stays the caller's. Never
 * put secrets in detail. The routes call audit_add() (api/api.h), which
 * fills client from the request.
 */
int audit_put(struct store_batch *b, const char *client, const struct principal *actor,
	      const char *action, const char *node_id, const char *target, const char *result,
	      const cJSON *detail);
/* The same, committed on its own (failed logins, views). Logs on failure. */
void audit_commit(struct srv *s, const char *client, const struct principal *actor,
		  const char *action, const char *node_id, const char *target, const char *result,
		  const cJSON *detail);

/* --- the master key ring (docs/ARCHITECTURE.md "Master key rotation") --- */

/*
 * The store's key state, META pk "store" sk "kek" (store/keys.h):
 * current is the id of the master key that wraps new data keys (empty on a
 * store that was never rotated: the ring's current key wraps them); from
 * and started are set while a rotation to current is in progress, rewrapped
 * counts the data keys it has re-wrapped so far.
 */
struct kek_state {
	char current[KEYPROV_ID_MAX + 1];
	char from[KEYPROV_ID_MAX + 1];
	int64_t started;   /* Unix ms; 0 when no rotation is in progress */
	int64_t rewrapped; /* data keys re-wrapped by the rotation in progress */
	int64_t rotated;   /* Unix ms the last rotation finished; 0 never */
};
/* Parse a META "kek" item into st (all empty when j is NULL). */
void kek_state_parse(const cJSON *j, struct kek_state *st);
/* The META "kek" item of st (the caller deletes it), or NULL (-ENOMEM). */
cJSON *kek_state_json(const struct kek_state *st);
/* Read the key state. 0 (all empty when the store has none) or -errno. */
int srv_kek_state(struct srv *s, struct kek_state *st);

/* Put kp in place of the key ring (waits for readers of the old one) and
 * return the old ring, which the caller frees. */
struct keyprov *srv_key_swap(struct srv *s, struct keyprov *kp);
/* Copy the ring's key of id into kek (the caller wipes it). 0, -ENOKEY. */
int srv_kek_by_id(struct srv *s, const char *id, uint8_t kek[KEK_LEN]);
/* The ids of the ring, the current one first, into ids (at most max);
 * returns how many the ring holds. */
size_t srv_key_ids(struct srv *s, char ids[][KEYPROV_ID_MAX + 1], size_t max);
/*
 * The key that wraps new data keys under the key state st: st->current
 * when the ring holds it (after one s->key_reload when it does not);
 * otherwise -ENOKEY when st->current is set (a store rotated to a key this
 * server cannot load), else the ring's current key. id and kek are the
 * caller's (wipe kek). 0 or -errno.
 */
int srv_kek_wrapping(struct srv *s, const struct kek_state *st, char id[KEYPROV_ID_MAX + 1],
		     uint8_t kek[KEK_LEN]);

/* --- sealed values (envelope encryption) --- */

/*
 * Seal plaintext pt under the data key of scope (created, wrapped by the
 * master key and stored in KEYS on first use) and add the put of the blob
 * at (t, pk, sk) to b. aad binds the blob to its record and field, e.g.
 * "config|node:n_123". 0 or -errno.
 */
int sealed_put(struct srv *s, struct store_batch *b, enum store_table t, const char *pk,
	       const char *sk, const char *scope, const char *aad, const void *pt, size_t len);
/*
 * Read and open the blob at (t, pk, sk) with the DEK of scope and the same aad. *pt is a
 * NUL-terminated secret: free it with crypto_free(*pt, *len). 0, -ENOENT,
 * -EBADMSG (tampered, moved, wrong key), -errno.
 */
int sealed_get(struct srv *s, enum store_table t, const char *pk, const char *sk, const char *scope,
	       const char *aad, uint8_t **pt, size_t *len);

#endif /* ACTLOG_SRV_H */
