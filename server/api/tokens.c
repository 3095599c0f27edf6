// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/tokens.c - personal API tokens of the signed-in user: POST
 * /api/v1/me/tokens (make one, shown once), GET /api/v1/me/tokens (list,
 * never the secret), DELETE /api/v1/me/tokens/{id} (revoke). See
 * docs/API.md. Each needs a sign-in token: a personal token manages no
 * tokens (need_session()). Rules and store: model/ptoken.h.
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "core/crypto.h"
#include "log.h"
#include "model/ptoken.h"
#include "util.h"

/* POST /me/tokens {name, scopes, expires_in_s | expires_at} */
static int h_create(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct api_actor w = {req, &p};
	struct model_why why;
	struct ptoken_new nt;
	char ts[RFC3339_LEN];
	const char *name;
	cJSON *body, *out;
	uint32_t scopes;
	int64_t exp;
	int ret;

	if (need_user(s, req, &p) || need_session(req, &p, "make tokens"))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	name = need_str(req, body, "name", PTOKEN_NAME_MAX);
	if (!name)
		goto out;
	ret = ptoken_scopes_parse(cJSON_GetObjectItemCaseSensitive(body, "scopes"), ptoken_held(&p),
				  &scopes, &why);
	if (!ret)
		ret = ptoken_expiry(body, now_ms(), &exp, &why);
	if (ret) {
		http_reply_error(req, ret == -EACCES ? 403 : 400, "%s", why.msg);
		goto out;
	}
	ret = ptoken_create(s, &p, name, scopes, exp, api_audit_ok, &w, &nt, &why);
	if (ret && why.msg[0]) {
		http_reply_error(req, ret == -EDQUOT ? 409 : 403, "%s", why.msg);
		goto out;
	}
	if (ret) {
		reply_store_err(req, ret, why.what ? why.what : "token");
		goto out;
	}
	log_info("event=token_created user=%s token_id=%s client=%s", p.id, nt.id,
		 http_req_client(req));
	out = cJSON_CreateObject();
	if (out) {
		cJSON_AddStringToObject(out, "token", nt.token);
		cJSON_AddStringToObject(out, "id", nt.id);
		cJSON_AddStringToObject(out, "name", name);
		cJSON_AddItemToObject(out, "scopes", org_perm_names(scopes));
		cJSON_AddStringToObject(out, "created_at", rfc3339_ms(nt.created_ms, ts));
		cJSON_AddStringToObject(out, "expires_at", rfc3339_ms(nt.expires_ms, ts));
	}
	crypto_wipe(nt.token, sizeof(nt.token));
	http_reply_json(req, 201, out);
out:
	cJSON_Delete(body);
	return 0;
}

static int h_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	cJSON *a, *out;
	int ret;

	if (need_user(s, req, &p) || need_session(req, &p, "list tokens"))
		return 0;
	ret = ptoken_list(s, p.id, &a);
	if (ret)
		return reply_store_err(req, ret, "tokens");
	out = cJSON_CreateObject();
	if (!out) {
		cJSON_Delete(a);
		return reply_store_err(req, -ENOMEM, "tokens");
	}
	cJSON_AddItemToObject(out, "tokens", a);
	return http_reply_json(req, 200, out);
}

static int h_revoke(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id");
	struct principal p;
	struct api_actor w = {req, &p};
	int ret;

	if (need_user(s, req, &p) || need_session(req, &p, "revoke tokens"))
		return 0;
	ret = ptoken_revoke(s, &p, id ? id : "", api_audit_ok, &w);
	if (ret)
		return reply_store_err(req, ret, "token");
	log_info("event=token_revoked user=%s token_id=%s client=%s", p.id, id,
		 http_req_client(req));
	return http_reply_empty(req, 204);
}

int api_tokens_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/me/tokens", h_create, s},
	    {"GET", "/api/v1/me/tokens", h_list, s},
	    {"DELETE", "/api/v1/me/tokens/{id}", h_revoke, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
