// SPDX-License-Identifier: BSD-2-Clause
/*
 * device.c - devices, their enrollment and the agent's config (contracts
 * and the re-enrollment rules: model/device.h; layout: store/keys.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "model/config.h"
#include "model/device.h"
#include "model/org.h"
#include "store/keys.h"
#include "util.h"

#define ETAG_BYTES 16

static void users_seen_view(cJSON *v, const cJSON *us);
static void jset_str(cJSON *o, const char *k, const char *v);
static void jset_num(cJSON *o, const char *k, double v);

/* --- helpers --- */

cJSON *device_view(const cJSON *d)
{
	static const char *const strs[] = {"id", "team_id", "host_id", "hostname", "agent_version"};
	cJSON *v = cJSON_CreateObject();
	const char *owner = jstr(d, "owner_id");
	int64_t seen = jint(d, "last_seen", 0);
	char ts[RFC3339_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(strs); i++)
		cJSON_AddStringToObject(v, strs[i], jstr(d, strs[i]) ? jstr(d, strs[i]) : "");
	if (owner)
		cJSON_AddStringToObject(v, "owner_id", owner);
	else
		cJSON_AddNullToObject(v, "owner_id");
	cJSON_AddStringToObject(v, "enrolled_at", rfc3339_ms(jint(d, "enrolled_at", 0), ts));
	if (seen)
		cJSON_AddStringToObject(v, "last_seen", rfc3339_ms(seen, ts));
	else
		cJSON_AddNullToObject(v, "last_seen");
	cJSON_AddBoolToObject(v, "revoked",
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "revoked")));
	cJSON_AddBoolToObject(v, "pending",
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "pending")));
	users_seen_view(v, cJSON_GetObjectItemCaseSensitive(d, "users_seen"));
	return v;
}

/* users_seen of a device item's us, newest first, added to view v. */
static void users_seen_view(cJSON *v, const cJSON *us)
{
	cJSON *arr = cJSON_AddArrayToObject(v, "users_seen");
	const cJSON *e;
	int64_t prev = INT64_MAX;
	char ts[RFC3339_LEN];

	/* selection by newest: at most DEVICE_USERS_SEEN_MAX entries */
	for (;;) {
		const cJSON *best = NULL;
		int64_t bt = -1;

		cJSON_ArrayForEach(e, us)
		{
			int64_t t = jint(e, "last_seen", 0);

			if (jstr(e, "user_id") && t < prev && t > bt)
				best = e, bt = t;
		}
		if (!best || !arr)
			break;
		cJSON_ArrayForEach(e, us)
		{
			cJSON *o;

			if (!jstr(e, "user_id") || jint(e, "last_seen", 0) != bt)
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "user_id", jstr(e, "user_id"));
			cJSON_AddStringToObject(o, "login",
						jstr(e, "login") ? jstr(e, "login") : "");
			cJSON_AddStringToObject(o, "last_seen", rfc3339_ms(bt, ts));
			cJSON_AddItemToArray(arr, o);
		}
		prev = bt;
	}
}

int device_users_seen_merge(cJSON *d, const struct device_user_seen *e, size_t n)
{
	cJSON *us = cJSON_GetObjectItemCaseSensitive(d, "users_seen"), *x;
	int changed = 0;
	size_t i;

	if (!n)
		return 0;
	if (!cJSON_IsArray(us)) {
		cJSON_DeleteItemFromObjectCaseSensitive(d, "users_seen");
		us = cJSON_AddArrayToObject(d, "users_seen");
		if (!us)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		cJSON *found = NULL;

		cJSON_ArrayForEach(x, us)
		{
			if (jstr(x, "user_id") && !strcmp(jstr(x, "user_id"), e[i].uid))
				found = x;
		}
		if (found) {
			if (e[i].last_seen - jint(found, "last_seen", 0) <
			    DEVICE_USERS_SEEN_STEP_MS)
				continue;
			jset_num(found, "last_seen", (double)e[i].last_seen);
			jset_str(found, "login", e[i].login);
			changed = 1;
			continue;
		}
		x = cJSON_CreateObject();
		if (!x)
			return -ENOMEM;
		cJSON_AddStringToObject(x, "user_id", e[i].uid);
		cJSON_AddStringToObject(x, "login", e[i].login);
		cJSON_AddNumberToObject(x, "last_seen", (double)e[i].last_seen);
		cJSON_AddItemToArray(us, x);
		changed = 1;
	}
	/* the oldest go past the cap */
	while (cJSON_GetArraySize(us) > DEVICE_USERS_SEEN_MAX) {
		cJSON *old = NULL;

		cJSON_ArrayForEach(x, us)
		{
			if (!old || jint(x, "last_seen", 0) < jint(old, "last_seen", 0))
				old = x;
		}
		cJSON_Delete(cJSON_DetachItemViaPointer(us, old));
		changed = 1;
	}
	return changed;
}

/* Set string member k of o (replacing it); v NULL sets null. */
static void jset_str(cJSON *o, const char *k, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void jset_num(cJSON *o, const char *k, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	cJSON_AddNumberToObject(o, k, v);
}

static void jset_bool(cJSON *o, const char *k, bool v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	cJSON_AddBoolToObject(o, k, v);
}

bool device_host_id_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0, i;

	if (!n || n > DEVICE_HOST_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

/* --- enrollment secrets --- */

int device_team_check(struct srv *s, const char *id, struct model_why *why)
{
	cJSON *node = NULL;
	int ret;

	why_reset(why);
	ret = node_get(s, id, &node);
	if (ret == -ENOENT || (!ret && node_type_parse(jstr(node, "type")) != 4)) {
		cJSON_Delete(node);
		return why_refuse(why, -ENOTDIR, "devices enroll into teams; %s is not a team", id);
	}
	cJSON_Delete(node);
	if (ret)
		why->what = "node";
	return ret;
}

int device_secret_new(struct srv *s, const char *team_id, const char *by, int64_t ttl_s,
		      device_audit_fn audit, void *actx, struct device_secret *out,
		      struct model_why *why)
{
	char hash[TOKEN_HASH_SIZE], ts[RFC3339_LEN];
	int64_t now = now_ms();
	cJSON *item, *idx, *detail;
	struct store_batch *b;
	struct key tpk;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = device_team_check(s, team_id, why);
	if (ret)
		return ret;
	if (ttl_s < DEVICE_SECRET_TTL_MIN_S || ttl_s > DEVICE_SECRET_TTL_MAX_S)
		return why_refuse(why, -EINVAL, "'ttl_s' must be an integer %d..%d",
				  DEVICE_SECRET_TTL_MIN_S, DEVICE_SECRET_TTL_MAX_S);
	why->what = "secret";
	out->expires_ms = now + ttl_s * 1000;
	ret = token_new(TOKEN_PREFIX_ENROLL, out->secret, hash);
	if (!ret && id_new(ID_PREFIX_ENROLL, out->id))
		ret = -EIO;
	if (ret) {
		crypto_wipe(out->secret, sizeof(out->secret));
		return ret;
	}
	item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "id", out->id);
	cJSON_AddStringToObject(item, "team_id", team_id);
	cJSON_AddNumberToObject(item, "created", (double)now);
	cJSON_AddStringToObject(item, "by", by);
	cJSON_AddNumberToObject(item, "exp", (double)out->expires_ms);
	idx = cJSON_Duplicate(item, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(idx, "team_id");
	cJSON_AddStringToObject(idx, "hash", hash);
	detail = cJSON_CreateObject();
	cJSON_AddStringToObject(detail, "secret_id", out->id);
	cJSON_AddStringToObject(detail, "expires_at", rfc3339_ms(out->expires_ms, ts));
	ret = store_batch_begin(s->st, &b);
	if (!ret) {
		ret = jput(b, STORE_T_ENROLL, hash, SK_SECRET, item, STORE_IF_ABSENT);
		if (!ret)
			ret = jput(b, STORE_T_ENROLL, key_team_index(&tpk, team_id), out->id, idx,
				   STORE_IF_ABSENT);
		if (!ret)
			ret = audit(b, team_id, out->id, detail, actx);
		if (ret)
			store_batch_abort(b);
		else
			ret = store_batch_commit(b);
	}
	cJSON_Delete(item);
	cJSON_Delete(idx);
	cJSON_Delete(detail);
	if (ret)
		crypto_wipe(out->secret, sizeof(out->secret));
	return ret;
}

struct secret_list {
	cJSON *arr;
	int64_t now;
	size_t n;
};

/* ENROLL pk "team|"team, sk secret id: add its view. */
static int list_secret(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct secret_list *l = ctx;
	cJSON *j = cJSON_ParseWithLength(val, len), *o;
	char ts[RFC3339_LEN];
	int64_t exp;

	(void)pk;
	if (!j)
		return 0;
	exp = jint(j, "exp", 0);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", jstr(j, "id") ? jstr(j, "id") : sk);
	cJSON_AddStringToObject(o, "created", rfc3339_ms(jint(j, "created", 0), ts));
	cJSON_AddStringToObject(o, "by", jstr(j, "by") ? jstr(j, "by") : "");
	cJSON_AddStringToObject(o, "expires_at", rfc3339_ms(exp, ts));
	cJSON_AddBoolToObject(o, "expired", exp <= l->now);
	cJSON_AddItemToArray(l->arr, o);
	cJSON_Delete(j);
	return ++l->n >= DEVICE_SECRETS_MAX;
}

static int cmp_created(const void *a, const void *b)
{
	const char *x = jstr(*(cJSON *const *)a, "created"),
		   *y = jstr(*(cJSON *const *)b, "created");

	return strcmp(x ? x : "", y ? y : "");
}

/* Order arr's items by their "created" (RFC 3339 UTC: text order is time). */
static void sort_by_created(cJSON *arr)
{
	size_t i, n = (size_t)cJSON_GetArraySize(arr);
	cJSON **v = n ? calloc(n, sizeof(*v)) : NULL;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		v[i] = cJSON_DetachItemFromArray(arr, 0);
	qsort(v, n, sizeof(*v), cmp_created);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, v[i]);
	free(v);
}

int device_secret_list(struct srv *s, const char *team_id, int64_t now, cJSON **out)
{
	struct secret_list l = {.now = now};
	struct key tpk;
	int ret;

	*out = cJSON_CreateObject();
	l.arr = cJSON_AddArrayToObject(*out, "secrets");
	ret = store_query(s->st, STORE_T_ENROLL, key_team_index(&tpk, team_id), NULL, NULL,
			  DEVICE_SECRETS_MAX, 0, list_secret, &l);
	if (ret < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return ret;
	}
	sort_by_created(l.arr);
	cJSON_AddBoolToObject(*out, "truncated", l.n >= DEVICE_SECRETS_MAX);
	return 0;
}

int device_secret_delete(struct srv *s, const char *team_id, const char *sid, device_audit_fn audit,
			 void *actx, struct model_why *why)
{
	struct store_batch *b = NULL;
	const char *hash = NULL;
	cJSON *idx = NULL;
	struct key tpk;
	int ret;

	why_reset(why);
	if (!id_valid(sid, ID_PREFIX_ENROLL))
		return why_refuse(why, -ENOENT, "enrollment secret not found");
	why->what = "secret";
	key_team_index(&tpk, team_id);
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = jbget(b, STORE_T_ENROLL, tpk.s, sid, &idx);
	if (ret == -ENOENT || (!ret && !(hash = jstr(idx, "hash")))) {
		ret = why_refuse(why, -ENOENT, "enrollment secret not found");
		goto out;
	}
	if (!ret)
		ret = store_batch_delete(b, STORE_T_ENROLL, tpk.s, sid, 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_ENROLL, hash, SK_SECRET, 0);
	if (!ret)
		ret = audit(b, team_id, sid, NULL, actx);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
out:
	store_batch_abort(b);
	cJSON_Delete(idx);
	return ret;
}

/* --- enrollment --- */

/* What one enrollment writes. */
struct enroll {
	const struct device_enroll_req *r;
	const char *team;
	char hash[TOKEN_HASH_SIZE]; /* the new device token's */
	char cur[TOKEN_HASH_SIZE];  /* the presented device token's, "" for none */
	char device_id[ID_SIZE];
	bool again;
	bool pending;
};

/*
 * In batch b, the device whose current token e->cur is, when it is a device
 * of e's team and host and not revoked: 0 with the item in *d (the
 * caller's) and e->device_id set; -ENOENT when the token proves no such
 * device (unknown, another device's, revoked); -errno.
 */
static int enroll_own_device(struct store_batch *b, struct enroll *e, cJSON **d)
{
	const char *id, *kind, *team, *host, *tok;
	cJSON *t = NULL;
	int ret;

	*d = NULL;
	if (!e->cur[0])
		return -ENOENT;
	ret = jbget(b, STORE_T_TOKENS, e->cur, SK_TOKEN, &t);
	if (ret)
		return ret;
	id = jstr(t, "id");
	kind = jstr(t, "kind");
	if (!id || !kind || strcmp(kind, "device") || !id_valid(id, ID_PREFIX_DEVICE)) {
		cJSON_Delete(t);
		return -ENOENT;
	}
	snprintf(e->device_id, sizeof(e->device_id), "%s", id);
	cJSON_Delete(t);
	ret = jbget(b, STORE_T_DEVICES, e->device_id, SK_DEVICE, d);
	if (ret)
		return ret;
	team = jstr(*d, "team_id");
	host = jstr(*d, "host_id");
	tok = jstr(*d, "token");
	if (team && host && tok && !strcmp(team, e->team) && !strcmp(host, e->r->host_id) &&
	    strlen(tok) == TOKEN_HASH_LEN && token_hash_eq(tok, e->cur) &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(*d, "revoked")))
		return 0;
	cJSON_Delete(*d);
	*d = NULL;
	e->device_id[0] = 0;
	return -ENOENT;
}

/*
 * One attempt at the enrollment batch: the device the presented token
 * proves gets a new token (old one deleted, names refreshed, its pending
 * state kept); otherwise a new device, pending when the team already knows
 * the host. 0 or -errno (-EAGAIN/-EEXIST: a concurrent enrollment of the
 * same host; redo).
 */
static int enroll_batch(struct srv *s, struct enroll *e, device_audit_fn audit, void *actx)
{
	const struct device_enroll_req *r = e->r;
	struct store_batch *b;
	cJSON *hidx = NULL, *d = NULL, *detail;
	int64_t now = now_ms();
	struct key hk;
	int ret;

	key_device_host(&hk, e->team, r->host_id);
	e->again = e->pending = false;
	ret = store_batch_begin(s->st, &b);
	if (ret)
		return ret;
	/* the team must still be there at commit, and a delete of it racing
	 * this enrollment must fail (see node_touch) */
	ret = node_touch(b, e->team);
	if (ret) {
		store_batch_abort(b);
		return ret;
	}
	ret = enroll_own_device(b, e, &d);
	if (!ret) {
		e->again = true;
		e->pending = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "pending"));
		ret = store_batch_delete(b, STORE_T_TOKENS, e->cur, SK_TOKEN, 0);
		if (!ret) {
			jset_str(d, "hostname", r->hostname);
			jset_str(d, "agent_version", r->agent_version);
			jset_str(d, "token", e->hash);
			ret = jput(b, STORE_T_DEVICES, e->device_id, SK_DEVICE, d, 0);
		}
		if (!ret)
			ret = org_device_token_add(b, e->device_id, e->hash);
	} else if (ret == -ENOENT) {
		/* a recorded read: a concurrent first enrollment of this host
		 * makes the commit fail, and the redo makes this one pending */
		ret = jbget(b, STORE_T_DEVICES, hk.s, SK_DEVICE, &hidx);
		e->pending = !ret;
		if (ret == -ENOENT)
			ret = 0;
		if (!ret) {
			const struct org_device_new n = {
			    .id = e->device_id,
			    .team_id = e->team,
			    .host_id = r->host_id,
			    .hostname = r->hostname,
			    .agent_version = r->agent_version,
			    .owner_id = NULL,
			    .token_hash = e->hash,
			    .pending = e->pending,
			};

			id_new(ID_PREFIX_DEVICE, e->device_id);
			ret = org_device_add(b, &n, now);
		}
	}
	detail = cJSON_CreateObject();
	cJSON_AddStringToObject(detail, "host_id", r->host_id);
	cJSON_AddStringToObject(detail, "hostname", r->hostname);
	cJSON_AddBoolToObject(detail, "re_enrolled", e->again);
	cJSON_AddBoolToObject(detail, "pending", e->pending);
	if (!ret)
		ret = audit(b, e->team, e->device_id, detail, actx);
	cJSON_Delete(detail);
	cJSON_Delete(hidx);
	cJSON_Delete(d);
	if (ret) {
		store_batch_abort(b);
		return ret;
	}
	return store_batch_commit(b);
}

int device_enroll(struct srv *s, const struct device_enroll_req *r, device_audit_fn audit,
		  void *actx, struct device_enrolled *out, struct model_why *why)
{
	struct enroll e = {.r = r};
	char hash[TOKEN_HASH_SIZE];
	cJSON *sec = NULL, *team = NULL;
	const char *tid = NULL;
	int ret, tries;

	memset(out, 0, sizeof(*out));
	why_reset(why);
	if (!r->secret || !device_host_id_ok(r->host_id) || !r->hostname || !r->agent_version ||
	    !text_valid(r->hostname, 1, DEVICE_HOSTNAME_MAX) ||
	    !text_valid(r->agent_version, 1, DEVICE_VERSION_MAX))
		return why_refuse(
		    why, -EINVAL,
		    "an enrollment needs secret, host_id, hostname and agent_version");
	why->what = "enrollment";
	/* the device's own token, when it re-enrolls (device.h) */
	if (r->device_token && token_well_formed(r->device_token, TOKEN_PREFIX_DEVICE) &&
	    token_hash(r->device_token, e.cur))
		e.cur[0] = 0;
	if (!token_well_formed(r->secret, TOKEN_PREFIX_ENROLL) || token_hash(r->secret, hash))
		ret = -ENOENT;
	else
		ret = jget(s, STORE_T_ENROLL, hash, SK_SECRET, &sec);
	if (ret == -ENOENT)
		out->reason = "unknown_secret";
	else if (ret)
		goto done;
	else if (jint(sec, "exp", 0) <= now_ms())
		out->reason = "expired_secret";
	else if (!(tid = jstr(sec, "team_id")) || node_get(s, tid, &team) ||
		 node_type_parse(jstr(team, "type")) != 4)
		out->reason = "team_gone";
	if (tid) {
		snprintf(out->team_buf, sizeof(out->team_buf), "%s", tid);
		out->team_id = e.team = out->team_buf;
	}
	if (out->reason) {
		ret = why_refuse(why, -EACCES, "%s",
				 !strcmp(out->reason, "expired_secret")
				     ? "enrollment secret expired"
				     : "invalid enrollment secret");
		goto done;
	}
	ret = token_new(TOKEN_PREFIX_DEVICE, out->token, e.hash);
	for (tries = 0; !ret; tries++) {
		ret = enroll_batch(s, &e, audit, actx);
		if (!ret || (ret != -EAGAIN && ret != -EEXIST) || tries + 1 == DEVICE_TRIES)
			break;
		ret = 0;
	}
	if (ret) {
		/* lost to concurrent enrollments of this host every time */
		if (ret == -EEXIST)
			ret = -EAGAIN;
		crypto_wipe(out->token, sizeof(out->token));
		goto done;
	}
	memcpy(out->device_id, e.device_id, sizeof(out->device_id));
	out->again = e.again;
	out->pending = e.pending;
done:
	cJSON_Delete(team);
	cJSON_Delete(sec);
	return ret;
}

/* --- the device list --- */

struct list_ctx {
	struct srv *s;
	const struct principal *p;
	cJSON *arr;
	size_t n;
	bool truncated;
	int err;
	struct target team; /* the team being listed */
};

/* DEVICES pk "team|"team, sk device id: add it when p may read it. */
static int list_device(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct list_ctx *c = ctx;
	cJSON *d;
	const char *owner;
	int ret;

	(void)pk;
	(void)val;
	(void)len;
	if (c->n >= LIST_MAX) {
		c->truncated = true;
		return 1;
	}
	ret = jget(c->s, STORE_T_DEVICES, sk, SK_DEVICE, &d);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return c->err = ret, 1;
	owner = jstr(d, "owner_id");
	snprintf(c->team.user_id, sizeof(c->team.user_id), "%s",
		 owner && strlen(owner) < ID_SIZE ? owner : "");
	if (!authorize(c->p, PERM_DEVICE_READ, &c->team)) {
		cJSON_AddItemToArray(c->arr, device_view(d));
		c->n++;
	}
	cJSON_Delete(d);
	return 0;
}

static int walk(struct list_ctx *c, const char *node_id, int type);

/* NODES pk parent, sk "child|"id {id,type}: walk down into it. */
static int list_child(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct list_ctx *c = ctx;
	cJSON *ch = cJSON_ParseWithLength(val, len);
	const char *id = jstr(ch, "id");
	int ret = 0;

	(void)pk;
	(void)sk;
	if (id && id_valid(id, ID_PREFIX_NODE))
		ret = walk(c, id, node_type_parse(jstr(ch, "type")));
	cJSON_Delete(ch);
	return ret;
}

/* List the devices of the teams at and below node_id (type: 0 for the
 * root). 0 to go on, 1 to stop (cap reached or c->err set). */
static int walk(struct list_ctx *c, const char *node_id, int type)
{
	struct key pk;
	int ret;

	if (c->truncated || c->err)
		return 1;
	if (type == 4) {
		ret = target_node(c->s, node_id, &c->team);
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return c->err = ret, 1;
		ret = store_query(c->s->st, STORE_T_DEVICES, key_team_index(&pk, node_id), NULL,
				  NULL, 0, 0, list_device, c);
	} else {
		ret = store_query(c->s->st, STORE_T_NODES, node_id, SK_CHILD_PREFIX, NULL, 0,
				  STORE_PREFIX, list_child, c);
	}
	if (ret < 0 && !c->err)
		c->err = ret;
	return c->truncated || c->err ? 1 : 0;
}

static bool on_path(const struct target *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->depth; i++)
		if (!strcmp(t->path[i], id))
			return true;
	return false;
}

/*
 * Where to start walking for p under node x (target tx): x itself when p
 * holds a grant that may show devices (device.read, or self.read for their
 * own) at or above x; else each such grant node below x. Starts below
 * another start are dropped. Fills starts (MAX_GRANTS), returns how many.
 */
static size_t list_starts(struct srv *s, const struct principal *p, const char *x,
			  const struct target *tx, char starts[][ID_SIZE], struct target *ts)
{
	size_t n = 0, i, j;

	for (i = 0; i < p->n_grants; i++) {
		const char *g = p->g[i].node_id;

		if (!(p->g[i].perms & (PERM_DEVICE_READ | PERM_SELF_READ)))
			continue;
		if (on_path(tx, g)) {
			snprintf(starts[n], ID_SIZE, "%s", x);
			ts[n++] = *tx;
		} else if (!target_node(s, g, &ts[n]) && on_path(&ts[n], x)) {
			snprintf(starts[n++], ID_SIZE, "%s", g);
		}
	}
	/* drop a start that another one covers (an ancestor, or a duplicate
	 * earlier in the list) */
	for (i = 0; i < n;) {
		bool covered = false;

		for (j = 0; j < n && !covered; j++)
			if (j != i && on_path(&ts[i], starts[j]) &&
			    (strcmp(starts[i], starts[j]) || j < i))
				covered = true;
		if (covered) {
			memmove(&starts[i], &starts[i + 1], (n - i - 1) * sizeof(starts[0]));
			memmove(&ts[i], &ts[i + 1], (n - i - 1) * sizeof(ts[0]));
			n--;
		} else {
			i++;
		}
	}
	return n;
}

int device_list(struct srv *s, const struct principal *p, const char *x, const struct target *tx,
		cJSON **out, struct model_why *why)
{
	struct list_ctx c = {.s = s, .p = p};
	char starts[MAX_GRANTS][ID_SIZE];
	struct target *ts;
	size_t n, i;

	*out = NULL;
	why_reset(why);
	ts = malloc(MAX_GRANTS * sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	n = list_starts(s, p, x, tx, starts, ts);
	free(ts);
	if (!n)
		return why_refuse(why, -EACCES, "forbidden: needs device.read here");
	*out = cJSON_CreateObject();
	c.arr = cJSON_AddArrayToObject(*out, "devices");
	for (i = 0; i < n; i++) {
		int type = 0;

		if (strcmp(starts[i], ROOT_ID)) {
			cJSON *node;

			c.err = node_get(s, starts[i], &node);
			if (c.err == -ENOENT) {
				c.err = 0;
				continue;
			}
			type = node_type_parse(jstr(node, "type"));
			cJSON_Delete(node);
		}
		if (c.err || walk(&c, starts[i], type))
			break;
	}
	if (c.err) {
		cJSON_Delete(*out);
		*out = NULL;
		why->what = "devices";
		return c.err;
	}
	cJSON_AddBoolToObject(*out, "truncated", c.truncated);
	return 0;
}

/* --- one device --- */

int device_get(struct srv *s, const char *id, cJSON **out)
{
	cJSON *d;
	int ret;

	*out = NULL;
	ret = jget(s, STORE_T_DEVICES, id, SK_DEVICE, &d);
	if (ret)
		return ret;
	*out = device_view(d);
	cJSON_Delete(d);
	return 0;
}

/* A change of one device item: fn edits d in the batch (may add ops);
 * 0 or -errno (-EPERM: refused, the device is revoked). */
typedef int (*dev_edit_fn)(struct store_batch *b, cJSON *d, void *ctx);

/*
 * Read-modify-write of device id with edit and audit(b, team_id, id,
 * detail), redone when a concurrent write got there first; *view gets the
 * device as it is after the change. 0 or -errno (why set).
 */
static int dev_change(struct srv *s, const char *id, const char *team_id, dev_edit_fn edit,
		      void *ctx, const cJSON *detail, device_audit_fn audit, void *actx,
		      cJSON **view, struct model_why *why)
{
	struct store_batch *b;
	cJSON *d = NULL;
	int ret = 0, tries;

	*view = NULL;
	why_reset(why);
	for (tries = 0; tries < DEVICE_TRIES; tries++) {
		cJSON_Delete(d);
		d = NULL;
		ret = store_batch_begin(s->st, &b);
		if (ret)
			break;
		ret = jbget(b, STORE_T_DEVICES, id, SK_DEVICE, &d);
		if (!ret)
			ret = edit(b, d, ctx);
		if (!ret)
			ret = jput(b, STORE_T_DEVICES, id, SK_DEVICE, d, 0);
		if (!ret)
			ret = audit(b, team_id, id, detail, actx);
		if (ret) {
			store_batch_abort(b);
			break;
		}
		ret = store_batch_commit(b);
		if (ret != -EAGAIN)
			break;
	}
	if (ret) {
		cJSON_Delete(d);
		if (ret == -EPERM)
			return why_refuse(why, ret, "device %s is revoked", id);
		why->what = "device";
		return ret;
	}
	*view = device_view(d);
	cJSON_Delete(d);
	return 0;
}

static int edit_owner(struct store_batch *b, cJSON *d, void *ctx)
{
	(void)b;
	jset_str(d, "owner_id", ctx);
	return 0;
}

int device_set_owner(struct srv *s, const char *id, const char *team_id, const char *owner,
		     device_audit_fn audit, void *actx, cJSON **view, struct model_why *why)
{
	cJSON *detail;
	int ret;

	*view = NULL;
	why_reset(why);
	if (owner) {
		cJSON *u = NULL;
		const char *team;

		ret = id_valid(owner, ID_PREFIX_USER) ? jget(s, STORE_T_USERS, owner, SK_USER, &u)
						      : -ENOENT;
		if (ret && ret != -ENOENT) {
			why->what = "user";
			return ret;
		}
		team = jstr(u, "team_id");
		if (ret || !team || strcmp(team, team_id)) {
			cJSON_Delete(u);
			return why_refuse(why, -EINVAL,
					  "owner_id must be a user of the device's team %s",
					  team_id);
		}
		cJSON_Delete(u);
	}
	detail = cJSON_CreateObject();
	if (owner)
		cJSON_AddStringToObject(detail, "owner_id", owner);
	else
		cJSON_AddNullToObject(detail, "owner_id");
	ret = dev_change(s, id, team_id, edit_owner, (void *)owner, detail, audit, actx, view, why);
	cJSON_Delete(detail);
	return ret;
}

static int edit_revoke(struct store_batch *b, cJSON *d, void *ctx)
{
	const char *tok = jstr(d, "token");
	int ret = 0;

	(void)ctx;
	if (tok)
		ret = store_batch_delete(b, STORE_T_TOKENS, tok, SK_TOKEN, 0);
	cJSON_DeleteItemFromObjectCaseSensitive(d, "token");
	jset_bool(d, "revoked", true);
	return ret;
}

int device_revoke(struct srv *s, const char *id, const char *team_id, device_audit_fn audit,
		  void *actx, cJSON **view, struct model_why *why)
{
	return dev_change(s, id, team_id, edit_revoke, NULL, NULL, audit, actx, view, why);
}

/* A pending device is confirmed (a confirmed one stays as it is); a revoked
 * one cannot be: -EPERM. */
static int edit_confirm(struct store_batch *b, cJSON *d, void *ctx)
{
	(void)b;
	(void)ctx;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "revoked")))
		return -EPERM;
	jset_bool(d, "pending", false);
	return 0;
}

int device_confirm(struct srv *s, const char *id, const char *team_id, device_audit_fn audit,
		   void *actx, cJSON **view, struct model_why *why)
{
	return dev_change(s, id, team_id, edit_confirm, NULL, NULL, audit, actx, view, why);
}

/* --- the agent's config --- */

/* store_update_fn: last_seen = max(last_seen, *(int64_t *)ctx). */
static int seen_update(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	int64_t now = *(const int64_t *)ctx;
	cJSON *d;
	char *txt;

	if (!old)
		return STORE_UPDATE_KEEP;
	d = cJSON_ParseWithLength(old, old_len);
	if (!cJSON_IsObject(d) || jint(d, "last_seen", 0) >= now) {
		cJSON_Delete(d);
		return STORE_UPDATE_KEEP;
	}
	jset_num(d, "last_seen", (double)now);
	txt = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	if (!txt)
		return -ENOMEM;
	*val = txt;
	*len = strlen(txt);
	return STORE_UPDATE_PUT;
}

bool device_login_ok(const char *v)
{
	return v && text_valid(v, 1, DEVICE_LOGIN_MAX);
}

const char *device_policy_kind_name(enum device_policy_kind k)
{
	return k == DEVICE_POLICY_USER ? "user" : k == DEVICE_POLICY_OWNER ? "owner" : "team";
}

int device_policy_for(struct srv *s, const char *team_id, const char *owner, const char *login,
		      struct device_policy_for *out, struct model_why *why)
{
	char lg[LOGIN_MAX_LEN + 1];
	cJSON *u;
	int ret;

	memset(out, 0, sizeof(*out));
	why_reset(why);
	if (login && *login) {
		ret = org_team_login_user(s, team_id, login, out->uid, why);
		if (!ret) {
			out->kind = DEVICE_POLICY_USER;
			snprintf(out->login, sizeof(out->login), "%s", login);
			return 0;
		}
		if (ret != -ENOENT)
			return ret;
	}
	if (!owner || !id_valid(owner, ID_PREFIX_USER)) {
		out->kind = DEVICE_POLICY_TEAM;
		return 0;
	}
	out->kind = DEVICE_POLICY_OWNER;
	strcpy(out->uid, owner);
	ret = jget(s, STORE_T_USERS, owner, SK_USER, &u);
	if (ret == -ENOENT)
		return 0; /* the owner's item is gone: its config still applies */
	if (ret)
		return why_fail(why, ret, "user");
	if (org_user_login(u, lg))
		snprintf(out->login, sizeof(out->login), "%s", lg);
	cJSON_Delete(u);
	return 0;
}

int device_agent_config(struct srv *s, const char *id, const char *team_id, const char *login,
			int64_t now, struct device_agent_config *out, struct model_why *why)
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	char hex[ETAG_BYTES * 2 + 1];
	cJSON *d, *eff = NULL, *o, *v, *e, *pf;
	struct device_policy_for who;
	int ret;

	memset(out, 0, sizeof(*out));
	why_reset(why);
	ret = jget(s, STORE_T_DEVICES, id, SK_DEVICE, &d);
	if (ret) {
		why->what = "device";
		return ret;
	}
	ret = device_policy_for(s, team_id, jstr(d, "owner_id"), login, &who, why);
	if (ret) {
		cJSON_Delete(d);
		return ret;
	}
	ret = config_effective(s, team_id, who.uid[0] ? who.uid : NULL, false, &eff);
	if (!ret && now - jint(d, "last_seen", 0) >= DEVICE_LAST_SEEN_STEP_MS)
		out->seen_err =
		    store_update(s->st, STORE_T_DEVICES, id, SK_DEVICE, seen_update, &now);
	cJSON_Delete(d);
	if (ret) {
		why->what = "config";
		return ret;
	}
	/* agents upload through presigned URLs: S3 settings stay on the server */
	v = cJSON_GetObjectItemCaseSensitive(eff, "values");
	e = v ? v->child : NULL;
	while (e) {
		cJSON *next = e->next;

		if (!strncmp(e->string, "s3.", 3))
			cJSON_Delete(cJSON_DetachItemViaPointer(v, e));
		e = next;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "config", cJSON_DetachItemFromObject(eff, "values"));
	cJSON_AddStringToObject(o, "device_id", id);
	pf = cJSON_AddObjectToObject(o, "policy_for");
	cJSON_AddStringToObject(pf, "kind", device_policy_kind_name(who.kind));
	jset_str(pf, "user_id", who.uid[0] ? who.uid : NULL);
	jset_str(pf, "login", who.login[0] ? who.login : NULL);
	cJSON_Delete(eff);
	out->json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!out->json)
		return -ENOMEM;
	crypto_hash_sha256(sum, (const unsigned char *)out->json, strlen(out->json));
	sodium_bin2hex(hex, sizeof(hex), sum, ETAG_BYTES);
	snprintf(out->etag, sizeof(out->etag), "\"%s\"", hex);
	return 0;
}
