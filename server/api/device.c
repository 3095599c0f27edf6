// SPDX-License-Identifier: BSD-2-Clause
/*
 * api_device.c - devices: enrollment secrets, enrollment, the device list,
 * owner, confirmation, revocation, and the agent's config:
 *   POST /api/v1/nodes/{id}/enrollment-secrets
 *   GET  /api/v1/nodes/{id}/enrollment-secrets
 *   DELETE /api/v1/nodes/{id}/enrollment-secrets/{sid}
 *   POST /api/v1/enroll                         (the secret; re-enrolling: the device token)
 *   GET  /api/v1/devices[?node_id=]
 *   GET  /api/v1/devices/{id}
 *   PUT  /api/v1/devices/{id}
 *   POST /api/v1/devices/{id}/confirm
 *   POST /api/v1/devices/{id}/revoke
 *   GET  /api/v1/agent/config                   (device token)
 * See docs/API.md (Devices); the items are laid out in srv.h. A device item
 * also keeps the hash of its current token ("token"), so re-enrollment and
 * revocation can delete it; the API never shows it.
 *
 * Re-enrollment: the secret of a team and a host_id prove nothing about a
 * machine (a host id is readable on the machine and shown to managers). A
 * known device gets a new token only when the request also presents that
 * device's current token ("Authorization: Bearer ald_..."). Without it, an
 * enrollment of a host the team already knows makes a new device that is
 * "pending": need_device() refuses its token (403) until someone with
 * device.write confirms it; the known device and its token are untouched.
 * Nothing un-revokes a device.
 *
 * Enrollment secrets (table ENROLL): pk <secret hash> sk "secret"
 * {id,team_id,created,by,exp}, what enrollment looks up, and pk
 * "team|"<team> sk <id> {id,hash,created,by,exp}, the team's list, written
 * and deleted together.
 *
 * Enrollment attempts take a token from s->rl_login_addr under the key
 * "enroll|<client address>" (buckets apart from sign-in's), every attempt,
 * good or bad: a leaked secret cannot mint devices at will from one place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "model/config.h"
#include "log.h"
#include "core/srv.h"
#include "util.h"

#define ENROLL_TTL_DEFAULT_S (30 * 86400)
#define ENROLL_TTL_MIN_S 1
#define ENROLL_TTL_MAX_S (365 * 86400)
#define HOST_ID_MAX 128
#define HOSTNAME_MAX 255
#define VERSION_MAX 64
#define DEV_TRIES 5		/* batches redone after a concurrent write */
#define LAST_SEEN_STEP_MS 60000 /* agent/config refreshes last_seen at most this often */
#define ETAG_BYTES 16
#define ENROLL_LIST_MAX 1000 /* secrets listed per team */

/* --- helpers --- */

/* The API view of a device item. */
static cJSON *device_view(const cJSON *d)
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
	return v;
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

/* 1..max bytes of printable ASCII without spaces (host ids) */
static bool host_id_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0, i;

	if (!n || n > HOST_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

/* --- enrollment secrets --- */

static int h_secret_new(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	char tok[TOKEN_SIZE], hash[TOKEN_HASH_SIZE], ts[RFC3339_LEN], sid[ID_SIZE];
	char tpk[ID_SIZE + 8];
	int64_t ttl = ENROLL_TTL_DEFAULT_S, now = now_ms(), exp;
	cJSON *node = NULL, *body = NULL, *item, *idx, *detail, *out;
	struct store_batch *b;
	struct principal p;
	struct target t;
	size_t blen;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	ret = node_get(s, id, &node);
	if (ret == -ENOENT || (!ret && node_type_parse(jstr(node, "type")) != 4)) {
		cJSON_Delete(node);
		return http_reply_error(req, 409, "devices enroll into teams; %s is not a team",
					id);
	}
	cJSON_Delete(node);
	if (ret)
		return reply_store_err(req, ret, "node");
	http_req_body(req, &blen);
	if (blen) {
		const cJSON *e, *v;

		body = need_json(req);
		if (!body)
			return 0;
		cJSON_ArrayForEach(e, body)
		{
			if (strcmp(e->string, "ttl_s")) {
				http_reply_error(req, 400, "unknown field '%s'", e->string);
				cJSON_Delete(body);
				return 0;
			}
		}
		v = cJSON_GetObjectItemCaseSensitive(body, "ttl_s");
		if (v && !(cJSON_IsNumber(v) && v->valuedouble >= ENROLL_TTL_MIN_S &&
			   v->valuedouble <= ENROLL_TTL_MAX_S &&
			   v->valuedouble == (double)(int64_t)v->valuedouble)) {
			cJSON_Delete(body);
			return http_reply_error(req, 400, "'ttl_s' must be an integer %d..%d",
						ENROLL_TTL_MIN_S, ENROLL_TTL_MAX_S);
		}
		if (v)
			ttl = (int64_t)v->valuedouble;
		cJSON_Delete(body);
	}
	exp = now + ttl * 1000;
	ret = token_new(TOKEN_PREFIX_ENROLL, tok, hash);
	if (ret)
		return reply_store_err(req, ret, "secret");
	if (id_new(ID_PREFIX_ENROLL, sid)) {
		crypto_wipe(tok, sizeof(tok));
		return reply_store_err(req, -EIO, "secret");
	}
	snprintf(tpk, sizeof(tpk), "team|%s", id);
	item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "id", sid);
	cJSON_AddStringToObject(item, "team_id", id);
	cJSON_AddNumberToObject(item, "created", (double)now);
	cJSON_AddStringToObject(item, "by", p.id);
	cJSON_AddNumberToObject(item, "exp", (double)exp);
	idx = cJSON_Duplicate(item, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(idx, "team_id");
	cJSON_AddStringToObject(idx, "hash", hash);
	detail = cJSON_CreateObject();
	cJSON_AddStringToObject(detail, "secret_id", sid);
	cJSON_AddStringToObject(detail, "expires_at", rfc3339_ms(exp, ts));
	ret = store_batch_begin(s->st, &b);
	if (!ret) {
		jput(b, STORE_T_ENROLL, hash, "secret", item, STORE_IF_ABSENT);
		jput(b, STORE_T_ENROLL, tpk, sid, idx, STORE_IF_ABSENT);
		audit_add(b, req, &p, "enroll.secret_created", id, id, "ok", detail);
		ret = store_batch_commit(b);
	}
	cJSON_Delete(item);
	cJSON_Delete(idx);
	cJSON_Delete(detail);
	if (ret) {
		crypto_wipe(tok, sizeof(tok));
		return reply_store_err(req, ret, "secret");
	}
	log_info("event=enroll_secret_created team=%s id=%s by=%s", id, sid, p.id);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", sid);
	cJSON_AddStringToObject(out, "secret", tok);
	cJSON_AddStringToObject(out, "team_id", id);
	cJSON_AddStringToObject(out, "expires_at", ts);
	crypto_wipe(tok, sizeof(tok));
	http_set_header(req, "Cache-Control", "no-store");
	return http_reply_json(req, 201, out);
}

/* The team's live secrets, oldest first; expired ones are listed (and
 * flagged) until they are deleted. */
struct secret_list {
	cJSON *arr;
	int64_t now;
	size_t n;
};

static int list_secret(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct secret_list *l = ctx;
	cJSON *j = cJSON_ParseWithLength(val, len), *o;
	char ts[RFC3339_LEN];
	int64_t exp;

	(void)pk;
	(void)sk;
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
	return ++l->n >= ENROLL_LIST_MAX;
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

static int h_secret_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct secret_list l = {.now = now_ms()};
	char tpk[ID_SIZE + 8];
	struct principal p;
	struct target t;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	out = cJSON_CreateObject();
	l.arr = cJSON_AddArrayToObject(out, "secrets");
	snprintf(tpk, sizeof(tpk), "team|%s", id);
	ret = store_query(s->st, STORE_T_ENROLL, tpk, NULL, NULL, ENROLL_LIST_MAX, 0, list_secret,
			  &l);
	if (ret < 0) {
		cJSON_Delete(out);
		return reply_store_err(req, ret, "secret");
	}
	sort_by_created(l.arr);
	cJSON_AddBoolToObject(out, "truncated", l.n >= ENROLL_LIST_MAX);
	return http_reply_json(req, 200, out);
}

static int h_secret_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id"), *sid = http_req_param(req, "sid"), *hash;
	char tpk[ID_SIZE + 8];
	struct store_batch *b = NULL;
	struct principal p;
	struct target t;
	cJSON *idx = NULL;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	if (!id_valid(sid, ID_PREFIX_ENROLL))
		return http_reply_error(req, 404, "enrollment secret not found");
	snprintf(tpk, sizeof(tpk), "team|%s", id);
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = jbget(b, STORE_T_ENROLL, tpk, sid, &idx);
	if (ret == -ENOENT || (!ret && !(hash = jstr(idx, "hash")))) {
		http_reply_error(req, 404, "enrollment secret not found");
		goto out;
	}
	if (!ret)
		ret = store_batch_delete(b, STORE_T_ENROLL, tpk, sid, 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_ENROLL, hash, "secret", 0);
	if (!ret) {
		audit_add(b, req, &p, "enroll.secret_revoked", id, sid, "ok", NULL);
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret) {
		reply_store_err(req, ret, "secret");
		goto out;
	}
	log_info("event=enroll_secret_revoked team=%s id=%s by=%s", id, sid, p.id);
	http_reply_empty(req, 204);
out:
	store_batch_abort(b);
	cJSON_Delete(idx);
	return 0;
}

/* --- enrollment --- */

static int enroll_limited(struct srv *s, struct http_req *req)
{
	char key[80], ra[16];

	snprintf(key, sizeof(key), "enroll|%s", http_req_client(req));
	if (!ratelimit_take(s->rl_login_addr, key, clock_ns(CLOCK_MONOTONIC) / 1000000))
		return 0;
	snprintf(ra, sizeof(ra), "%u", ratelimit_retry_after_s(s->rl_login_addr));
	http_set_header(req, "Retry-After", ra);
	http_reply_error(req, 429, "too many enrollment attempts; retry in %s s", ra);
	log_notice("event=enroll_limited client=%s", http_req_client(req));
	return 1;
}

/* What one enrollment writes. */
struct enroll {
	const char *team, *host_id, *hostname, *version;
	char hash[TOKEN_HASH_SIZE]; /* the new device token's */
	char cur[TOKEN_HASH_SIZE];  /* the presented device token's, "" for none */
	char device_id[ID_SIZE];
	bool again;   /* re-enrollment: the presented token's device, new token */
	bool pending; /* the device (new or not) waits for confirmation */
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
	ret = jbget(b, STORE_T_TOKENS, e->cur, "token", &t);
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
	ret = jbget(b, STORE_T_DEVICES, e->device_id, "device", d);
	if (ret)
		return ret;
	team = jstr(*d, "team_id");
	host = jstr(*d, "host_id");
	tok = jstr(*d, "token");
	if (team && host && tok && !strcmp(team, e->team) && !strcmp(host, e->host_id) &&
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
static int enroll_batch(struct srv *s, struct http_req *req, struct enroll *e)
{
	char hk[STORE_KEY_MAX], tk[ID_SIZE + 8];
	struct principal who = {.kind = PRINCIPAL_DEVICE};
	struct store_batch *b;
	cJSON *hidx = NULL, *d = NULL, *tok, *detail;
	int64_t now = now_ms();
	int ret;

	snprintf(hk, sizeof(hk), "host|%s|%s", e->team, e->host_id);
	snprintf(tk, sizeof(tk), "team|%s", e->team);
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
		ret = store_batch_delete(b, STORE_T_TOKENS, e->cur, "token", 0);
		if (!ret) {
			jset_str(d, "hostname", e->hostname);
			jset_str(d, "agent_version", e->version);
			jset_str(d, "token", e->hash);
			ret = jput(b, STORE_T_DEVICES, e->device_id, "device", d, 0);
		}
	} else if (ret == -ENOENT) {
		/* a recorded read: a concurrent first enrollment of this host
		 * makes the commit fail, and the redo makes this one pending */
		ret = jbget(b, STORE_T_DEVICES, hk, "device", &hidx);
		e->pending = !ret;
		if (ret == -ENOENT)
			ret = 0;
	}
	if (!ret && !e->again) {
		cJSON *idx = cJSON_CreateObject();

		id_new(ID_PREFIX_DEVICE, e->device_id);
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "id", e->device_id);
		cJSON_AddStringToObject(d, "team_id", e->team);
		cJSON_AddStringToObject(d, "host_id", e->host_id);
		cJSON_AddStringToObject(d, "hostname", e->hostname);
		cJSON_AddStringToObject(d, "agent_version", e->version);
		cJSON_AddNullToObject(d, "owner_id");
		cJSON_AddNumberToObject(d, "enrolled_at", (double)now);
		cJSON_AddFalseToObject(d, "revoked");
		cJSON_AddBoolToObject(d, "pending", e->pending);
		cJSON_AddNumberToObject(d, "last_seen", 0);
		cJSON_AddStringToObject(d, "token", e->hash);
		ret = jput(b, STORE_T_DEVICES, e->device_id, "device", d, STORE_IF_ABSENT);
		cJSON_AddStringToObject(idx, "id", e->device_id);
		if (!ret)
			ret = jput(b, STORE_T_DEVICES, tk, e->device_id, idx, STORE_IF_ABSENT);
		cJSON_Delete(idx);
		idx = cJSON_CreateObject();
		cJSON_AddStringToObject(idx, "device_id", e->device_id);
		if (!ret && !e->pending)
			ret = jput(b, STORE_T_DEVICES, hk, "device", idx, STORE_IF_ABSENT);
		cJSON_Delete(idx);
	}
	tok = cJSON_CreateObject();
	cJSON_AddStringToObject(tok, "kind", "device");
	cJSON_AddStringToObject(tok, "id", e->device_id);
	cJSON_AddNumberToObject(tok, "exp", 0);
	if (!ret)
		ret = jput(b, STORE_T_TOKENS, e->hash, "token", tok, STORE_IF_ABSENT);
	cJSON_Delete(tok);
	detail = cJSON_CreateObject();
	cJSON_AddStringToObject(detail, "host_id", e->host_id);
	cJSON_AddStringToObject(detail, "hostname", e->hostname);
	cJSON_AddBoolToObject(detail, "re_enrolled", e->again);
	cJSON_AddBoolToObject(detail, "pending", e->pending);
	snprintf(who.id, sizeof(who.id), "%s", e->device_id);
	if (!ret)
		ret = audit_add(b, req, &who, "device.enroll", e->team, e->device_id, "ok", detail);
	cJSON_Delete(detail);
	cJSON_Delete(hidx);
	cJSON_Delete(d);
	if (ret) {
		store_batch_abort(b);
		return ret;
	}
	return store_batch_commit(b);
}

static int h_enroll(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct enroll e = {0};
	char tok[TOKEN_SIZE], hash[TOKEN_HASH_SIZE];
	const char *secret, *cur, *why = NULL;
	cJSON *body, *sec = NULL, *team = NULL, *out;
	int ret, tries;

	if (enroll_limited(s, req))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	secret = jstr(body, "secret");
	if (!secret) {
		cJSON_Delete(body);
		return http_reply_error(req, 400, "field 'secret' is required (a string)");
	}
	e.host_id = jstr(body, "host_id");
	if (!host_id_ok(e.host_id)) {
		cJSON_Delete(body);
		return http_reply_error(req, 400,
					"field 'host_id' must be 1..%d printable ASCII characters",
					HOST_ID_MAX);
	}
	if (!(e.hostname = need_str(req, body, "hostname", HOSTNAME_MAX)) ||
	    !(e.version = need_str(req, body, "agent_version", VERSION_MAX))) {
		cJSON_Delete(body);
		return 0;
	}
	/* the device's own token, when it re-enrolls (see the top) */
	cur = req_bearer(req);
	if (cur && token_well_formed(cur, TOKEN_PREFIX_DEVICE) && token_hash(cur, e.cur))
		e.cur[0] = 0;
	if (!token_well_formed(secret, TOKEN_PREFIX_ENROLL) || token_hash(secret, hash))
		ret = -ENOENT;
	else
		ret = jget(s, STORE_T_ENROLL, hash, "secret", &sec);
	if (ret == -ENOENT)
		why = "unknown_secret";
	else if (ret)
		goto store_err;
	else if (jint(sec, "exp", 0) <= now_ms())
		why = "expired_secret";
	else if (!(e.team = jstr(sec, "team_id")) || node_get(s, e.team, &team) ||
		 node_type_parse(jstr(team, "type")) != 4)
		why = "team_gone";
	if (why) {
		struct principal none = {0};

		log_notice("event=enroll_failed client=%s reason=%s host_id=%s",
			   http_req_client(req), why, e.host_id);
		audit_write(s, req, &none, "device.enroll", e.team ? e.team : NULL, NULL, why,
			    NULL);
		http_reply_error(req, 403, "%s",
				 !strcmp(why, "expired_secret") ? "enrollment secret expired"
								: "invalid enrollment secret");
		goto done;
	}
	ret = token_new(TOKEN_PREFIX_DEVICE, tok, e.hash);
	for (tries = 0; !ret; tries++) {
		ret = enroll_batch(s, req, &e);
		if (!ret || (ret != -EAGAIN && ret != -EEXIST) || tries + 1 == DEV_TRIES)
			break;
		ret = 0;
	}
	if (ret) {
		/* lost to concurrent enrollments of this host every time */
		if (ret == -EEXIST)
			ret = -EAGAIN;
		crypto_wipe(tok, sizeof(tok));
		goto store_err;
	}
	log_info("event=enroll device=%s team=%s host_id=%s re_enrolled=%d pending=%d client=%s",
		 e.device_id, e.team, e.host_id, e.again, e.pending, http_req_client(req));
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "device_id", e.device_id);
	cJSON_AddStringToObject(out, "device_token", tok);
	cJSON_AddStringToObject(out, "team_id", e.team);
	cJSON_AddBoolToObject(out, "pending", e.pending);
	crypto_wipe(tok, sizeof(tok));
	http_set_header(req, "Cache-Control", "no-store");
	http_reply_json(req, e.again ? 200 : 201, out);
	goto done;
store_err:
	reply_store_err(req, ret, "enrollment");
done:
	cJSON_Delete(team);
	cJSON_Delete(sec);
	cJSON_Delete(body);
	return 0;
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
	ret = jget(c->s, STORE_T_DEVICES, sk, "device", &d);
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
	char pk[ID_SIZE + 8];
	int ret;

	if (c->truncated || c->err)
		return 1;
	if (type == 4) {
		ret = target_node(c->s, node_id, &c->team);
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return c->err = ret, 1;
		snprintf(pk, sizeof(pk), "team|%s", node_id);
		ret = store_query(c->s->st, STORE_T_DEVICES, pk, NULL, NULL, 0, 0, list_device, c);
	} else {
		ret = store_query(c->s->st, STORE_T_NODES, node_id, "child|", NULL, 0, STORE_PREFIX,
				  list_child, c);
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

static int h_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *x = http_req_query(req, "node_id");
	struct list_ctx c = {.s = s};
	char starts[MAX_GRANTS][ID_SIZE];
	struct target tx, *ts;
	struct principal p;
	cJSON *out;
	size_t n, i;

	if (need_user(s, req, &p))
		return 0;
	if (!x)
		x = ROOT_ID;
	if (need_target_node(s, req, x, &tx))
		return 0;
	ts = malloc(MAX_GRANTS * sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	n = list_starts(s, &p, x, &tx, starts, ts);
	free(ts);
	if (!n)
		return http_reply_error(req, 403, "forbidden: needs device.read here");
	out = cJSON_CreateObject();
	c.p = &p;
	c.arr = cJSON_AddArrayToObject(out, "devices");
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
		cJSON_Delete(out);
		return reply_store_err(req, c.err, "devices");
	}
	cJSON_AddBoolToObject(out, "truncated", c.truncated);
	return http_reply_json(req, 200, out);
}

/* --- one device --- */

static int h_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;
	cJSON *d;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, id, &t) ||
	    need_perm(req, &p, PERM_DEVICE_READ, &t))
		return 0;
	ret = jget(s, STORE_T_DEVICES, id, "device", &d);
	if (ret)
		return reply_store_err(req, ret, "device");
	ret = http_reply_json(req, 200, device_view(d));
	cJSON_Delete(d);
	return ret;
}

/* A change of one device item: fn edits d in the batch (may add ops);
 * 0 or -errno. */
typedef int (*dev_edit_fn)(struct store_batch *b, cJSON *d, void *ctx);

/*
 * Read-modify-write of device id with edit, audited as action with detail,
 * redone when a concurrent write got there first; replies 200 with the
 * device as it is after the change, or the error (409 "device is revoked"
 * when edit returns -EPERM).
 */
static int dev_change(struct srv *s, struct http_req *req, const struct principal *p,
		      const struct target *t, const char *id, dev_edit_fn edit, void *ctx,
		      const char *action, const cJSON *detail)
{
	struct store_batch *b;
	cJSON *d = NULL;
	int ret = 0, tries;

	for (tries = 0; tries < DEV_TRIES; tries++) {
		cJSON_Delete(d);
		d = NULL;
		ret = store_batch_begin(s->st, &b);
		if (ret)
			break;
		ret = jbget(b, STORE_T_DEVICES, id, "device", &d);
		if (!ret)
			ret = edit(b, d, ctx);
		if (!ret)
			ret = jput(b, STORE_T_DEVICES, id, "device", d, 0);
		if (!ret)
			ret = audit_add(b, req, p, action, t->path[t->depth - 1], id, "ok", detail);
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
			return http_reply_error(req, 409, "device %s is revoked", id);
		return reply_store_err(req, ret, "device");
	}
	log_info("event=%s device=%s by=%s", action, id, p->id);
	ret = http_reply_json(req, 200, device_view(d));
	cJSON_Delete(d);
	return ret;
}

static int edit_owner(struct store_batch *b, cJSON *d, void *ctx)
{
	(void)b;
	jset_str(d, "owner_id", ctx);
	return 0;
}

static int h_put(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	const cJSON *v, *e;
	const char *owner = NULL;
	struct principal p;
	struct target t;
	cJSON *body, *detail;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, id, &t))
		return 0;
	t.user_id[0] = 0; /* the owner's own rights do not count here */
	if (need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	cJSON_ArrayForEach(e, body)
	{
		if (strcmp(e->string, "owner_id")) {
			http_reply_error(req, 400, "unknown field '%s'", e->string);
			goto done;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(body, "owner_id");
	if (!v || !(cJSON_IsNull(v) || cJSON_IsString(v))) {
		http_reply_error(req, 400, "field 'owner_id' is required (a user id or null)");
		goto done;
	}
	if (cJSON_IsString(v)) {
		cJSON *u = NULL;
		const char *team;

		owner = v->valuestring;
		ret = id_valid(owner, ID_PREFIX_USER) ? jget(s, STORE_T_USERS, owner, "user", &u)
						      : -ENOENT;
		if (ret && ret != -ENOENT) {
			reply_store_err(req, ret, "user");
			goto done;
		}
		team = jstr(u, "team_id");
		if (ret || !team || strcmp(team, t.path[t.depth - 1])) {
			cJSON_Delete(u);
			http_reply_error(req, 400,
					 "owner_id must be a user of the device's team %s",
					 t.path[t.depth - 1]);
			goto done;
		}
		cJSON_Delete(u);
	}
	detail = cJSON_CreateObject();
	if (owner)
		cJSON_AddStringToObject(detail, "owner_id", owner);
	else
		cJSON_AddNullToObject(detail, "owner_id");
	dev_change(s, req, &p, &t, id, edit_owner, (void *)owner, "device.update", detail);
	cJSON_Delete(detail);
done:
	cJSON_Delete(body);
	return 0;
}

static int edit_revoke(struct store_batch *b, cJSON *d, void *ctx)
{
	const char *tok = jstr(d, "token");
	int ret = 0;

	(void)ctx;
	if (tok)
		ret = store_batch_delete(b, STORE_T_TOKENS, tok, "token", 0);
	cJSON_DeleteItemFromObjectCaseSensitive(d, "token");
	jset_bool(d, "revoked", true);
	return ret;
}

static int h_revoke(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;

	if (need_user(s, req, &p) || need_target_device(s, req, id, &t))
		return 0;
	t.user_id[0] = 0;
	if (need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	return dev_change(s, req, &p, &t, id, edit_revoke, NULL, "device.revoke", NULL);
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

static int h_confirm(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;

	if (need_user(s, req, &p) || need_target_device(s, req, id, &t))
		return 0;
	t.user_id[0] = 0; /* owning a device gives no right to confirm it */
	if (need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	return dev_change(s, req, &p, &t, id, edit_confirm, NULL, "device.confirm", NULL);
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

static int h_agent_config(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	unsigned char sum[crypto_hash_sha256_BYTES];
	char hex[ETAG_BYTES * 2 + 1], etag[ETAG_BYTES * 2 + 3];
	const char *owner;
	cJSON *d, *eff = NULL, *out;
	struct principal p;
	int64_t now = now_ms();
	char *txt;
	int ret;

	if (need_device(s, req, &p, true))
		return 0;
	ret = jget(s, STORE_T_DEVICES, p.id, "device", &d);
	if (ret)
		return reply_store_err(req, ret, "device");
	owner = jstr(d, "owner_id");
	ret = config_effective(
	    s, p.team_id, owner && id_valid(owner, ID_PREFIX_USER) ? owner : NULL, false, &eff);
	if (!ret && now - jint(d, "last_seen", 0) >= LAST_SEEN_STEP_MS) {
		int r = store_update(s->st, STORE_T_DEVICES, p.id, "device", seen_update, &now);

		if (r)
			log_warn("event=last_seen_failed device=%s err=%s", p.id, strerror(-r));
	}
	cJSON_Delete(d);
	if (ret)
		return reply_store_err(req, ret, "config");
	/* agents upload through presigned URLs: S3 settings stay on the server */
	{
		cJSON *v = cJSON_GetObjectItemCaseSensitive(eff, "values"),
		      *e = v ? v->child : NULL;

		while (e) {
			cJSON *next = e->next;

			if (!strncmp(e->string, "s3.", 3))
				cJSON_Delete(cJSON_DetachItemViaPointer(v, e));
			e = next;
		}
	}
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "config", cJSON_DetachItemFromObject(eff, "values"));
	cJSON_AddStringToObject(out, "device_id", p.id);
	cJSON_Delete(eff);
	txt = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (!txt)
		return -ENOMEM;
	crypto_hash_sha256(sum, (const unsigned char *)txt, strlen(txt));
	sodium_bin2hex(hex, sizeof(hex), sum, ETAG_BYTES);
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	http_set_header(req, "ETag", etag);
	http_set_header(req, "Cache-Control", "no-cache");
	if (http_etag_match(http_req_header(req, "If-None-Match"), etag))
		ret = http_reply_empty(req, 304);
	else
		ret = http_reply_bytes(req, 200, "application/json", txt, strlen(txt));
	free(txt);
	return ret;
}

int api_device_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/nodes/{id}/enrollment-secrets", h_secret_new, s},
	    {"GET", "/api/v1/nodes/{id}/enrollment-secrets", h_secret_list, s},
	    {"DELETE", "/api/v1/nodes/{id}/enrollment-secrets/{sid}", h_secret_delete, s},
	    {"POST", "/api/v1/enroll", h_enroll, s},
	    {"GET", "/api/v1/devices", h_list, s},
	    {"GET", "/api/v1/devices/{id}", h_get, s},
	    {"PUT", "/api/v1/devices/{id}", h_put, s},
	    {"POST", "/api/v1/devices/{id}/confirm", h_confirm, s},
	    {"POST", "/api/v1/devices/{id}/revoke", h_revoke, s},
	    {"GET", "/api/v1/agent/config", h_agent_config, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
