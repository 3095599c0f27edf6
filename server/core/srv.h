/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srv.h - the application core of actlog-server: the server context, ids,
 * JSON items in the store, principals (who asks), targets (what is asked
 * about), the one authorize() every handler calls, the audit log, and the
 * sealed (encrypted) values. Route modules (api_*.c) build on this only;
 * nothing here or above may assume the LMDB engine (store.h is the
 * interface).
 *
 * Conventions of the route modules:
 *  - A handler returns 0 after exactly one http_reply_*().
 *  - Functions named need_*() reply themselves when they fail (401, 403,
 *    400, 404, ...) and return nonzero; the handler then returns 0:
 *        struct principal p;
 *        if (need_user(s, req, &p)) return 0;
 *  - Every decision goes through authorize(); list handlers filter every
 *    item through it, so nothing outside scope is ever returned.
 *  - Timestamps in the API are RFC 3339 UTC with milliseconds; in the store
 *    they are Unix milliseconds.
 *
 * Data layout (tables of store.h; values are compact JSON unless "sealed"):
 *   META    pk "store"           sk "meta"    {schema, created, business_id}
 *   NODES   pk node id           sk "node"    {id,type,name,parent_id,path[],created}
 *           pk parent id         sk "child|"id  {id,type,name}  (parent "root" for businesses)
 *   USERS   pk user id           sk "user"    {id,email,name,login,team_id,pw,disabled,created,
 *                                              sessions_after: Unix ms; tokens issued
 *                                              before it are refused (need_user)}
 *           pk "team|"team id    sk user id   {id}              (members of a team)
 *           pk user id           sk "avatar"  {key,content_type,size,sha256,width,height,...}
 *           pk user id           sk "avatar-s3"  sealed S3 settings of the picture
 *                                             (profile pictures: model/avatar.h)
 *   EMAILS  pk lower-case email  sk "user"    {user_id}         (unique: IF_ABSENT)
 *   TOKENS  pk token hash        sk "token"   {kind:"user"|"device", id, exp, iat}
 *           pk "user|"user id    sk token hash  {iat, exp, addr}  (the user's sign-in
 *                                             tokens: written with the token in one batch,
 *                                             deleted with it at sign-out, expiry,
 *                                             eviction (USER_TOKENS_MAX) and revocation)
 *   ROLES   pk "roles"           sk role name {name, id, permissions[], by, at} (custom roles)
 *   GRANTS  pk user id           sk node id "|" role  {user_id,node_id,role,by,at,
 *                                                      role_id: custom roles' id}
 *           pk "node|"node id    sk user id "|" role  {}       (grants held on a node)
 *   AUDIT   pk "YYYY-MM-DD" (UTC day) sk "%013lld|%08x" ms|random  {ts,actor,action,...}
 *   KEYS    pk scope             sk "dek"     {id, wrapped(base64)}
 *   CONFIG  pk scope             sk "config"  sealed JSON (model/config.h)
 *   DEVICES pk device id         sk "device"  {id,team_id,host_id,hostname,agent_version,
 *                                              owner_id,enrolled_at,revoked,pending,last_seen,
 *                                              token: hash of its current device token}
 *           pk "team|"team id    sk device id {id}              (devices of a team)
 *           pk "host|"team id"|"host_id sk "device" {device_id} (the host's first
 *                                              device: the host is known in the team)
 *   TOKENS  (device tokens too: {kind:"device", id: device id, exp: 0})
 *   ENROLL  pk secret hash       sk "secret"  {team_id,created,by,exp}
 * RECORDS, ROLLUPS and BATCHES are laid out by api_ingest.c and documented
 * there.
 *
 * Users and records: a user's `login` is the login name their sessions run
 * under (default: the local part of their email). A record shipped by a
 * device maps to the user of the device's team whose login equals the
 * record's `user`; failing that, to the device's owner (owner_id) when set;
 * otherwise to no user (kept per device only).
 */
#ifndef ACTLOG_SRV_H
#define ACTLOG_SRV_H

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/crypto.h"
#include "http/http.h"
#include "core/keyprov.h"
#include "store/store.h"
#include "http/outbound.h"

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
	unsigned login_burst;	  /* sign-in attempts per (account, address); see api_auth.c */
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
	struct keyprov *kp;
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
};

/* Open the context on an opened store and key provider (both stay owned by
 * the caller). Fills defaults for zero options. 0 or -errno. */
int srv_init(struct srv *s, struct store *st, struct keyprov *kp, const struct srv_opts *o);
void srv_fini(struct srv *s);
/* Check that the master key unwraps every data key of the store (a wrong
 * key file or secret is refused at start, not at the first secret read).
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
/* "YYYY-MM-DD" of a Unix ms time (UTC) into out (11 bytes). */
void day_of(int64_t ms, char out[11]);
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
 * Parse the request body as a JSON object of at most API_JSON_MAX bytes.
 * On failure replies (413 too large, 400 not a JSON object, 400 a string
 * holding a NUL character: see json_nul_find) and returns NULL.
 */
cJSON *need_json(struct http_req *req);
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
/*
 * Required string field k of o with 1..max bytes of valid UTF-8 and no
 * control characters: returns it, or replies 400 naming the field and
 * returns NULL. opt_ version: NULL without replying when absent or null,
 * (const char *)-1 after replying 400 when present but bad. A C string
 * cannot show a NUL inside it: o must come from need_json(), which refuses
 * every string holding one.
 */
const char *need_str(struct http_req *req, const cJSON *o, const char *k, size_t max);
#define OPT_BAD ((const char *)-1)
const char *opt_str(struct http_req *req, const cJSON *o, const char *k, size_t max);
/*
 * Query argument name as an RFC 3339 time (or Unix ms digits): 0 and *ms,
 * 1 when absent (*ms = def), or replies 400 and returns -1.
 */
int need_time_arg(struct http_req *req, const char *name, int64_t def, int64_t *ms);

/* 1 when v is min..max bytes of valid UTF-8 without control characters
 * (up to its first NUL: strings from JSON go through json_nul_find first). */
bool text_valid(const char *v, size_t min, size_t max);
/* Wait (up to 10 s) for one of the srv_opts.pw_slots Argon2id slots: 0 or
 * -EBUSY; every 0 is followed by one pw_slot_put(). */
int pw_slot_take(struct srv *s);
void pw_slot_put(struct srv *s);
/* Copy a module's n routes into r (room for max): n, or -ENOSPC. */
int routes_add(struct http_route *r, size_t max, const struct http_route *mine, size_t n);

/*
 * Finish req on the outbound pool (outbound.h): fn(req, ctx) runs on a pool
 * thread, replies, and owns ctx. business is the id of the business whose
 * S3 fn calls (target_business()): its jobs beyond the per-business cap are
 * refused. 0: handed on (the handler returns 0 and touches neither req nor
 * ctx again). 1: refused after replying 503 with Retry-After (the business
 * has its cap of jobs, or the pool is full) or 500; ctx stays the caller's
 * to free. Without a pool (s->ob NULL: tools, tests) fn runs at once on the
 * calling thread and 0 is returned.
 */
int need_outbound(struct srv *s, struct http_req *req, const char *business, outbound_fn fn,
		  void *ctx);

/* Reply for a store error: ENOENT 404 "<what> not found", EEXIST 409,
 * EAGAIN 503 busy, others 500 (logged). Returns 0 (for `return`). */
int reply_store_err(struct http_req *req, int err, const char *what);

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

/*
 * Authenticate the request's "Authorization: Bearer <token>" as a signed-in
 * user (alt_ token, not expired, not revoked, user not disabled) and load
 * their grants into *p; also takes one token from the per-token rate
 * bucket. Replies 401 (missing, unknown, expired token; with
 * WWW-Authenticate: Bearer), 403 (disabled user) or 429 and returns nonzero.
 */
int need_user(struct srv *s, struct http_req *req, struct principal *p);
/* The token of the request's "Authorization: Bearer <token>" (pointing into
 * the request's header), or NULL when there is none. Not checked. */
const char *req_bearer(struct http_req *req);
/*
 * The no-escalation rule for changes to user uid (password, login, name,
 * disabled, profile picture): every grant uid holds may carry only
 * permissions p holds on that grant's node. 0, or 1 after replying 403 (or
 * a store error).
 */
int need_holds_all_of(struct srv *s, struct http_req *req, const struct principal *p,
		      const char *uid);
/* Union of the permissions p holds on t through grants (no self rule). */
uint32_t perms_on(const struct principal *p, const struct target *t);
/* The same for a device token (ald_): *p has kind DEVICE, id = device id,
 * team_id = its team, owner_id = its owner (from the same read of the
 * device item). 401 also for a revoked device; 403 for a pending one (see
 * model/device.h: enrolled for a known host without that host's device
 * token, not confirmed yet). With rate false no rate token is taken
 * (ingest acknowledges a known batch id first and then calls need_rate()). */
int need_device(struct srv *s, struct http_req *req, struct principal *p, bool rate);
/*
 * The HTTP layer's body gate (http_gate_fn, arg = s): 0 when the request
 * carries a bearer token (user or device) that exists and has not expired,
 * so it may send a body up to --max-body; replies 401 (WWW-Authenticate)
 * for a malformed, unknown or expired token (503/500 on a store error) and
 * returns nonzero; -EACCES without replying when there is no token. Cheap:
 * one hash and one read; the handler still authenticates fully.
 */
int srv_body_gate(struct http_req *req, void *arg);
/* Take one token from p's per-token bucket; replies 429 + Retry-After. */
int need_rate(struct srv *s, struct http_req *req, const struct principal *p);
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
/* authorize(), replying 403 "forbidden" on refusal. */
int need_perm(struct http_req *req, const struct principal *p, uint32_t perm,
	      const struct target *t);

/* The business t sits in (the node below ROOT_ID on its path), or "" for
 * ROOT_ID itself (and for a user without a team). Points into t. */
const char *target_business(const struct target *t);

/* Targets. 0, -ENOENT (no such node/user/device), -errno. */
int target_node(struct srv *s, const char *node_id, struct target *t);
int target_user(struct srv *s, const char *user_id, struct target *t);
int target_device(struct srv *s, const char *device_id, struct target *t);
/* need_* versions: reply 404 "<kind> not found" (also for malformed ids)
 * or 500 and return nonzero. */
int need_target_node(struct srv *s, struct http_req *req, const char *id, struct target *t);
int need_target_user(struct srv *s, struct http_req *req, const char *id, struct target *t);
int need_target_device(struct srv *s, struct http_req *req, const char *id, struct target *t);

/*
 * Sign-in tokens of users. Each is indexed under its user (srv.h layout:
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

/* The API view of a user item: every field but the password hash. */
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
 * {ts, action, actor (user/device id or "-"), actor_email, client, node_id
 * (the scope that may read it), target, result, detail}. detail may be NULL
 * and stays the caller's. Never put secrets in detail.
 */
int audit_add(struct store_batch *b, struct http_req *req, const struct principal *actor,
	      const char *action, const char *node_id, const char *target, const char *result,
	      const cJSON *detail);
/* The same, committed on its own (failed logins, views). Logs on failure. */
void audit_write(struct srv *s, struct http_req *req, const struct principal *actor,
		 const char *action, const char *node_id, const char *target, const char *result,
		 const cJSON *detail);

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

/* --- route modules: each appends its routes (arg = s) and returns how
 * many, or -ENOSPC --- */
int api_auth_routes(struct srv *s, struct http_route *r, size_t max);
int api_org_routes(struct srv *s, struct http_route *r, size_t max);
int api_config_routes(struct srv *s, struct http_route *r, size_t max);
int api_device_routes(struct srv *s, struct http_route *r, size_t max);
int api_ingest_routes(struct srv *s, struct http_route *r, size_t max);
int api_query_routes(struct srv *s, struct http_route *r, size_t max);
int api_shots_routes(struct srv *s, struct http_route *r, size_t max);
int api_avatar_routes(struct srv *s, struct http_route *r, size_t max);
int api_retention_routes(struct srv *s, struct http_route *r, size_t max);

/* --- retention (retention.c) --- */

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
 * now - days, found through the day indexes (model/ingest.c, model/shots.c),
 * for every device and user of every team, in store batches of at most
 * RETENTION_BATCH_OPS deletes. One audit entry "retention.sweep" per team
 * where something was deleted. Sweeps are serialised. *st is filled (also
 * on failure). 0, or -errno when the organisation tree cannot be read (a
 * failure within one team is counted in st->errors and the sweep goes on).
 */
int retention_sweep(struct srv *s, int64_t now, struct retention_stats *st);
#define RETENTION_BATCH_OPS 100

/*
 * Run retention_sweep() on a thread: first after min(interval_s, 10) s,
 * then every interval_s seconds. retention_stop() wakes and joins it
 * (a sweep in progress stops between partitions). 0 or -errno.
 */
struct retention_sched;
int retention_start(struct srv *s, unsigned interval_s, struct retention_sched **out);
/* Stop and free r; NULL is fine. */
void retention_stop(struct retention_sched *r);

#endif /* ACTLOG_SRV_H */
