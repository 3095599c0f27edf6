// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/avatar.c - the profile-picture routes:
 *   PUT    /api/v1/users/{id}/avatar   (the image as the body)
 *   GET    /api/v1/users/{id}/avatar
 *   DELETE /api/v1/users/{id}/avatar
 * A user (or anyone with user.write on them, holding every permission they
 * hold) sets or removes their picture; any signed-in user GETs it (streamed
 * from S3 through a temporary file, with an ETag). See docs/API.md (Users,
 * avatar). Each handler parses the request, authorizes it, makes one call
 * of model/avatar.h (the checks of an image, its object in S3, its items
 * and their layout live there) and replies; each S3 part finishes on the
 * outbound pool (put_finish, get_finish, delete_finish): one model call,
 * then the reply. The audit entry of a change is added here (audit_add()
 * needs the request), through the avatar_audit_fn the model calls inside
 * the change's batch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api.h"
#include "model/avatar.h"
#include "util.h"

/* --- helpers --- */

/*
 * Reply for an error of a model/avatar.h call: a failure with its message
 * and status (the call's, by err: see each call's errors), else
 * reply_store_err() naming why->what. Returns 0.
 */
static int reply_avatar_err(struct http_req *req, int err, const struct model_why *why, int status)
{
	if (why->msg[0])
		return http_reply_error(req, status, "%s", why->msg), 0;
	return reply_store_err(req, err, why->what ? why->what : "avatar");
}

/* Who a change's audit entry names, and as what. */
struct who {
	struct http_req *req;
	const struct principal *p;
	const char *action, *team, *uid;
};

/* avatar_audit_fn: the user is the target, their team the scope. */
static int audit_change(struct store_batch *b, const cJSON *detail, void *ctx)
{
	const struct who *w = ctx;

	return audit_add(b, w->req, w->p, w->action, w->team, w->uid, "ok", detail);
}

/*
 * The caller p may change user uid's picture: themself, or user.write on
 * them. 0, or 1 after replying (404 unknown user, 403).
 */
static int need_writer(struct srv *s, struct http_req *req, const struct principal *p,
		       const char *uid, struct target *t)
{
	if (need_target_user(s, req, uid, t))
		return 1;
	/* one's own picture: no permission needed, but a personal API token
	 * changes it only with user.write in its scopes */
	if (!strcmp(uid, p->id) && (!p->personal || (p->scopes & PERM_USER_WRITE)))
		return 0;
	return need_perm(req, p, PERM_USER_WRITE, t) || need_holds_all_of(s, req, p, uid) ? 1 : 0;
}

/* The team a user target sits in (ROOT_ID for none). */
static const char *target_team(const struct target *t)
{
	return t->depth ? t->path[t->depth - 1] : ROOT_ID;
}

/* --- PUT /api/v1/users/{id}/avatar --- */

/* What the checks of a PUT hand to its job (put_finish). */
struct put_job {
	struct srv *s;
	struct principal p;
	struct target t;
	struct avatar_new n;
};

/* The status of an avatar_put() failure with a message. */
static int put_status(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return 504;
	case -EREMOTEIO:
		return 502;
	default: /* -ENODATA, -EINVAL (S3 settings), -EAGAIN (changed meanwhile) */
		return 409;
	}
}

/*
 * The S3 part of a PUT, on the outbound pool: store the checked picture
 * (avatar_put(): S3, its items with the audit entry, the replaced object
 * deleted), reply. Frees j.
 */
static void put_finish(struct http_req *req, void *ctx)
{
	struct put_job *j = ctx;
	const char *uid = http_req_param(req, "id");
	struct who w = {req, &j->p, "user.avatar.set", target_team(&j->t), uid};
	struct model_why why;
	const uint8_t *body;
	cJSON *view;
	size_t len;
	int ret;

	body = http_req_body(req, &len);
	ret =
	    avatar_put(j->s, uid, w.team, j->p.id, &j->n, body, len, audit_change, &w, &view, &why);
	if (ret)
		reply_avatar_err(req, ret, &why, put_status(ret));
	else
		http_reply_json(req, 200, view);
	free(j);
}

/* The status of an avatar_check() failure. */
static int check_status(int err)
{
	switch (err) {
	case -EFBIG:
		return 413;
	case -EOPNOTSUPP:
	case -EMEDIUMTYPE:
		return 415;
	case -EIO:
		return 500;
	default: /* -ENODATA, -EBADMSG, -EDOM */
		return 400;
	}
}

/* Check the caller and the picture here; store it on the outbound pool. */
static int h_put(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id"), *ct, *enc;
	struct put_job *j = calloc(1, sizeof(*j));
	struct model_why why;
	const uint8_t *body;
	size_t len;
	char ctype[64];
	int ret;

	if (!j)
		return -ENOMEM;
	if (need_user(s, req, &j->p) || need_writer(s, req, &j->p, uid, &j->t))
		goto done;
	enc = http_req_header(req, "Content-Encoding");
	if (enc && strcasecmp(enc, "identity")) {
		http_reply_error(req, 415, "send the image without a Content-Encoding");
		goto done;
	}
	ct = http_req_header(req, "Content-Type");
	snprintf(ctype, sizeof(ctype), "%.*s", ct ? (int)strcspn(ct, "; \t") : 0, ct ? ct : "");
	if (strcasecmp(ctype, "image/png") && strcasecmp(ctype, "image/jpeg") &&
	    strcasecmp(ctype, "image/webp")) {
		http_reply_error(req, 415,
				 "Content-Type must be image/png, image/jpeg or image/webp");
		goto done;
	}
	body = http_req_body(req, &len);
	ret = avatar_check(body, len, ctype, &j->n, &why);
	if (ret) {
		reply_avatar_err(req, ret, &why, check_status(ret));
		goto done;
	}
	j->s = s;
	if (!need_outbound(s, req, target_business(&j->t), put_finish, j))
		return 0; /* put_finish owns j */
done:
	free(j);
	return 0;
}

/* --- GET /api/v1/users/{id}/avatar --- */

/* A GET's job (get_finish): the picture's item, read and checked. */
struct get_job {
	struct srv *s;
	struct avatar_rec a;
};

/* The status of an avatar_fetch() failure. */
static int fetch_status(int err)
{
	switch (err) {
	case -ENOKEY: /* the settings do not open */
		return 500;
	case -ENOENT:
		return 404;
	case -EKEYREJECTED: /* no credentials for its bucket held or accepted */
		return 409;
	case -ETIMEDOUT:
		return 504;
	default: /* -EBADMSG, -EREMOTEIO */
		return 502;
	}
}

/*
 * The S3 part of a GET, on the outbound pool: fetch the object into a
 * temporary file, checked against the item (avatar_fetch()), stream it.
 * Frees j.
 */
static void get_finish(struct http_req *req, void *ctx)
{
	struct get_job *j = ctx;
	const char *uid = http_req_param(req, "id");
	struct model_why why;
	uint64_t len;
	int fd, ret = avatar_fetch(j->s, uid, j->a.item, &fd, &len, &why);

	if (ret) {
		reply_avatar_err(req, ret, &why, fetch_status(ret));
	} else {
		http_set_header(req, "ETag", j->a.etag);
		http_set_header(req, "Cache-Control", "private, no-cache");
		/* the response owns fd */
		http_reply_fd(req, 200, jstr(j->a.item, "content_type"), fd, len);
	}
	cJSON_Delete(j->a.item);
	free(j);
}

/* Answer 404 and 304 here; fetch the picture on the outbound pool. */
static int h_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id");
	struct model_why why;
	struct avatar_rec a;
	struct principal p;
	struct target t;
	struct get_job *j;
	int ret;

	if (need_user(s, req, &p) || need_target_user(s, req, uid, &t))
		return 0;
	/* colleagues see each other's pictures; another business's users do not */
	if (principal_in_business(s, &p, &t))
		return http_reply_error(req, 403, "forbidden: the user is in another business");
	ret = avatar_get(s, uid, &a, &why);
	if (ret)
		return reply_avatar_err(req, ret, &why, ret == -ENOENT ? 404 : 500);
	if (http_etag_match(http_req_header(req, "If-None-Match"), a.etag)) {
		http_set_header(req, "ETag", a.etag);
		http_set_header(req, "Cache-Control", "private, no-cache");
		http_reply_empty(req, 304);
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		http_reply_error(req, 503, "out of memory");
		goto out;
	}
	j->s = s;
	j->a = a;
	if (!need_outbound(s, req, target_business(&t), get_finish, j))
		return 0; /* get_finish owns j and a.item */
	free(j);
out:
	cJSON_Delete(a.item);
	return 0;
}

/* --- DELETE /api/v1/users/{id}/avatar --- */

/* A DELETE's job (delete_finish). */
struct delete_job {
	struct srv *s;
	struct principal p;
	struct target t;
	cJSON *a; /* the picture's item */
};

/*
 * On the outbound pool: remove the picture (avatar_delete(): its object in
 * S3, then its items with the audit entry), reply 204. Frees j.
 */
static void delete_finish(struct http_req *req, void *ctx)
{
	struct delete_job *j = ctx;
	const char *uid = http_req_param(req, "id");
	struct who w = {req, &j->p, "user.avatar.remove", target_team(&j->t), uid};
	struct model_why why;
	int ret = avatar_delete(j->s, uid, j->a, j->p.id, audit_change, &w, &why);

	if (ret)
		/* -EAGAIN: changed meanwhile; -EKEYREJECTED: no credentials for its bucket */
		reply_avatar_err(req, ret, &why, 409);
	else
		http_reply_empty(req, 204);
	cJSON_Delete(j->a);
	free(j);
}

/* Check the caller here; remove the picture on the outbound pool. */
static int h_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id");
	struct delete_job *j = calloc(1, sizeof(*j));
	struct model_why why;
	int ret;

	if (!j)
		return -ENOMEM;
	if (need_user(s, req, &j->p) || need_writer(s, req, &j->p, uid, &j->t))
		goto done;
	ret = avatar_item(s, uid, &j->a, &why);
	if (ret) {
		reply_avatar_err(req, ret, &why, 404);
		goto done;
	}
	j->s = s;
	if (!need_outbound(s, req, target_business(&j->t), delete_finish, j))
		return 0; /* delete_finish owns j */
done:
	cJSON_Delete(j->a);
	free(j);
	return 0;
}

int api_avatar_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"PUT", "/api/v1/users/{id}/avatar", h_put, s},
	    {"GET", "/api/v1/users/{id}/avatar", h_get, s},
	    {"DELETE", "/api/v1/users/{id}/avatar", h_delete, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
