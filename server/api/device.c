// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/device.c - the device routes: enrollment secrets, enrollment, the
 * device list, owner, confirmation, revocation, and the agent's config:
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
 * See docs/API.md (Devices). Each handler parses the request, authorizes
 * it, makes one model call (model/device.h: the items, the re-enrollment
 * rules, the list's scope, the agent's config and ETag) and replies; the
 * audit entry of a change is added here (audit_add() needs the request),
 * through the device_audit_fn the model calls inside the change's batch.
 * A new secret's handler asks device_team_check() first, so that a node
 * that is not a team is refused (409) before the body is read.
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

#include "api/api.h"
#include "log.h"
#include "model/device.h"
#include "util.h"

/* Reply for an error of a model/device.h call: a refusal with its message
 * (status by err), an allocation of the model's own with err (the HTTP
 * layer's 503), else reply_store_err() naming why->what. */
static int reply_dev_err(struct http_req *req, int err, const struct model_why *why)
{
	int st;

	if (why->msg[0]) {
		switch (err) {
		case -EINVAL:
			st = 400;
			break;
		case -EACCES:
			st = 403;
			break;
		case -ENOENT:
			st = 404;
			break;
		default: /* -ENOTDIR (not a team), -EPERM (revoked) */
			st = 409;
			break;
		}
		return http_reply_error(req, st, "%s", why->msg);
	}
	if (!why->what)
		return err;
	return reply_store_err(req, err, why->what);
}

/* Who a change's audit entry names, and as what. */
struct who {
	struct http_req *req;
	const struct principal *p;
	const char *action;
};

/* device_audit_fn of a secret's creation: the team is also the target. */
static int audit_secret_new(struct store_batch *b, const char *team_id, const char *id,
			    const cJSON *detail, void *ctx)
{
	const struct who *w = ctx;

	(void)id;
	return audit_add(b, w->req, w->p, w->action, team_id, team_id, "ok", detail);
}

/* device_audit_fn of the other changes: the secret or device is the target. */
static int audit_change(struct store_batch *b, const char *team_id, const char *id,
			const cJSON *detail, void *ctx)
{
	const struct who *w = ctx;

	return audit_add(b, w->req, w->p, w->action, team_id, id, "ok", detail);
}

/* device_audit_fn of an enrollment: the device enrolls itself. */
static int audit_enroll(struct store_batch *b, const char *team_id, const char *id,
			const cJSON *detail, void *ctx)
{
	struct principal who = {.kind = PRINCIPAL_DEVICE};

	snprintf(who.id, sizeof(who.id), "%s", id); /* the actor's id (not a key) */
	return audit_add(b, ctx, &who, "device.enroll", team_id, id, "ok", detail);
}

/* --- enrollment secrets --- */

static int h_secret_new(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	int64_t ttl = DEVICE_SECRET_TTL_DEFAULT_S;
	struct device_secret sec;
	struct model_why why;
	char ts[RFC3339_LEN];
	struct principal p;
	struct target t;
	struct who w = {req, &p, "enroll.secret_created"};
	cJSON *out;
	size_t blen;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	/* a node that is not a team is refused before the body is read */
	ret = device_team_check(s, id, &why);
	if (ret)
		return reply_dev_err(req, ret, &why);
	http_req_body(req, &blen);
	if (blen) {
		const cJSON *e, *v;
		cJSON *body = need_json(req);

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
		if (v && !(cJSON_IsNumber(v) && v->valuedouble >= DEVICE_SECRET_TTL_MIN_S &&
			   v->valuedouble <= DEVICE_SECRET_TTL_MAX_S &&
			   v->valuedouble == (double)(int64_t)v->valuedouble)) {
			cJSON_Delete(body);
			return http_reply_error(req, 400, "'ttl_s' must be an integer %d..%d",
						DEVICE_SECRET_TTL_MIN_S, DEVICE_SECRET_TTL_MAX_S);
		}
		if (v)
			ttl = (int64_t)v->valuedouble;
		cJSON_Delete(body);
	}
	ret = device_secret_new(s, id, p.id, ttl, audit_secret_new, &w, &sec, &why);
	if (ret)
		return reply_dev_err(req, ret, &why);
	log_info("event=enroll_secret_created team=%s id=%s by=%s", id, sec.id, p.id);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", sec.id);
	cJSON_AddStringToObject(out, "secret", sec.secret);
	cJSON_AddStringToObject(out, "team_id", id);
	cJSON_AddStringToObject(out, "expires_at", rfc3339_ms(sec.expires_ms, ts));
	crypto_wipe(sec.secret, sizeof(sec.secret));
	http_set_header(req, "Cache-Control", "no-store");
	return http_reply_json(req, 201, out);
}

static int h_secret_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	ret = device_secret_list(s, id, now_ms(), &out);
	if (ret)
		return reply_store_err(req, ret, "secret");
	return http_reply_json(req, 200, out);
}

static int h_secret_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id"), *sid = http_req_param(req, "sid");
	struct model_why why;
	struct principal p;
	struct target t;
	struct who w = {req, &p, "enroll.secret_revoked"};
	int ret;

	if (need_user(s, req, &p) || need_target_node(s, req, id, &t) ||
	    need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	ret = device_secret_delete(s, id, sid, audit_change, &w, &why);
	if (ret)
		return reply_dev_err(req, ret, &why);
	log_info("event=enroll_secret_revoked team=%s id=%s by=%s", id, sid, p.id);
	return http_reply_empty(req, 204);
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

static int h_enroll(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct device_enroll_req r = {0};
	struct device_enrolled e;
	struct model_why why;
	cJSON *body, *out;
	int ret;

	if (enroll_limited(s, req))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	r.secret = jstr(body, "secret");
	if (!r.secret) {
		cJSON_Delete(body);
		return http_reply_error(req, 400, "field 'secret' is required (a string)");
	}
	r.host_id = jstr(body, "host_id");
	if (!device_host_id_ok(r.host_id)) {
		cJSON_Delete(body);
		return http_reply_error(req, 400,
					"field 'host_id' must be 1..%d printable ASCII characters",
					DEVICE_HOST_ID_MAX);
	}
	if (!(r.hostname = need_str(req, body, "hostname", DEVICE_HOSTNAME_MAX)) ||
	    !(r.agent_version = need_str(req, body, "agent_version", DEVICE_VERSION_MAX))) {
		cJSON_Delete(body);
		return 0;
	}
	/* the device's own token, when it re-enrolls (model/device.h) */
	r.device_token = req_bearer(req);
	ret = device_enroll(s, &r, audit_enroll, req, &e, &why);
	if (ret == -EACCES && e.reason) {
		struct principal none = {0};

		log_notice("event=enroll_failed client=%s reason=%s host_id=%s",
			   http_req_client(req), e.reason, r.host_id);
		audit_write(s, req, &none, "device.enroll", e.team_id, NULL, e.reason, NULL);
	}
	if (ret) {
		reply_dev_err(req, ret, &why);
		goto done;
	}
	log_info("event=enroll device=%s team=%s host_id=%s re_enrolled=%d pending=%d client=%s",
		 e.device_id, e.team_id, r.host_id, e.again, e.pending, http_req_client(req));
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "device_id", e.device_id);
	cJSON_AddStringToObject(out, "device_token", e.token);
	cJSON_AddStringToObject(out, "team_id", e.team_id);
	cJSON_AddBoolToObject(out, "pending", e.pending);
	crypto_wipe(e.token, sizeof(e.token));
	http_set_header(req, "Cache-Control", "no-store");
	http_reply_json(req, e.again ? 200 : 201, out);
done:
	cJSON_Delete(body);
	return 0;
}

/* --- the device list and one device --- */

static int h_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *x = http_req_query(req, "node_id");
	struct model_why why;
	struct principal p;
	struct target tx;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	if (!x)
		x = ROOT_ID;
	if (need_target_node(s, req, x, &tx))
		return 0;
	ret = device_list(s, &p, x, &tx, &out, &why);
	if (ret)
		return reply_dev_err(req, ret, &why);
	return http_reply_json(req, 200, out);
}

static int h_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct target t;
	cJSON *out;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, id, &t) ||
	    need_perm(req, &p, PERM_DEVICE_READ, &t))
		return 0;
	ret = device_get(s, id, &out);
	if (ret)
		return reply_store_err(req, ret, "device");
	return http_reply_json(req, 200, out);
}

/* Reply to a change of device id made by p (ret, view, why: the model's). */
static int reply_change(struct http_req *req, const struct principal *p, const char *action,
			const char *id, int ret, cJSON *view, const struct model_why *why)
{
	if (ret)
		return reply_dev_err(req, ret, why);
	log_info("event=%s device=%s by=%s", action, id, p->id);
	return http_reply_json(req, 200, view);
}

static int h_put(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	const cJSON *v, *e;
	struct model_why why;
	struct principal p;
	struct target t;
	struct who w = {req, &p, "device.update"};
	cJSON *body, *view;
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
	ret =
	    device_set_owner(s, id, t.path[t.depth - 1], cJSON_IsString(v) ? v->valuestring : NULL,
			     audit_change, &w, &view, &why);
	reply_change(req, &p, w.action, id, ret, view, &why);
done:
	cJSON_Delete(body);
	return 0;
}

static int h_revoke(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct model_why why;
	struct principal p;
	struct target t;
	struct who w = {req, &p, "device.revoke"};
	cJSON *view;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, id, &t))
		return 0;
	t.user_id[0] = 0;
	if (need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	ret = device_revoke(s, id, t.path[t.depth - 1], audit_change, &w, &view, &why);
	return reply_change(req, &p, w.action, id, ret, view, &why);
}

static int h_confirm(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct model_why why;
	struct principal p;
	struct target t;
	struct who w = {req, &p, "device.confirm"};
	cJSON *view;
	int ret;

	if (need_user(s, req, &p) || need_target_device(s, req, id, &t))
		return 0;
	t.user_id[0] = 0; /* owning a device gives no right to confirm it */
	if (need_perm(req, &p, PERM_DEVICE_WRITE, &t))
		return 0;
	ret = device_confirm(s, id, t.path[t.depth - 1], audit_change, &w, &view, &why);
	return reply_change(req, &p, w.action, id, ret, view, &why);
}

/* --- the agent's config --- */

static int h_agent_config(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct device_agent_config c;
	struct model_why why;
	struct principal p;
	int ret;

	const char *login;

	if (need_device(s, req, &p, true))
		return 0;
	login = http_req_query(req, "user");
	if (login && !*login)
		login = NULL;
	if (login && !device_login_ok(login))
		return http_reply_error(req, 400,
					"'user' must be 1..%d bytes of text without control "
					"characters",
					DEVICE_LOGIN_MAX);
	ret = device_agent_config(s, p.id, p.team_id, login, now_ms(), &c, &why);
	if (c.seen_err)
		log_warn("event=last_seen_failed device=%s err=%s", p.id, strerror(-c.seen_err));
	if (ret)
		return reply_dev_err(req, ret, &why);
	http_set_header(req, "ETag", c.etag);
	http_set_header(req, "Cache-Control", "no-cache");
	if (http_etag_match(http_req_header(req, "If-None-Match"), c.etag))
		ret = http_reply_empty(req, 304);
	else
		ret = http_reply_bytes(req, 200, "application/json", c.json, strlen(c.json));
	free(c.json);
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
