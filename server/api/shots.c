// SPDX-License-Identifier: BSD-2-Clause
/*
 * api/shots.c - the screenshot routes:
 *   POST /api/v1/screenshots/presign          (device token)
 *   POST /api/v1/screenshots                  (device token: register)
 *   GET  /api/v1/screenshots?user_id=U|device_id=D&from&to
 *   GET  /api/v1/screenshots/{id}/image
 *   GET  /api/v1/screenshots/{id}/thumb
 * See docs/API.md (Screenshots). Each handler parses the request,
 * authorizes it, makes one call of model/shots.h (the rules, the layout and
 * the S3 checks live there) and replies. A register, an image view and a
 * thumbnail finish on the outbound pool (register_finish, image_finish):
 * one model call each, then the reply. Every view of a known shot is
 * audited ("screenshot.view", or "screenshot.thumb" for a thumbnail: "ok",
 * "forbidden" or "error"), here, where the request is.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "model/device.h"
#include "model/shots.h"
#include "util.h"

#define DAY_MS 86400000LL /* a listing's default range */

/* --- helpers --- */

static bool hex64(const char *v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		if (!isxdigit((unsigned char)v[i]) || isupper((unsigned char)v[i]))
			return false;
	return v && i == 64;
}

/* Required non-negative integer field k in [min, max]: 0, or 1 after replying. */
static int need_num(struct http_req *req, const cJSON *o, const char *k, int64_t min, int64_t max,
		    int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble ||
	    v->valuedouble < (double)min || v->valuedouble > (double)max) {
		http_reply_error(req, 400, "field '%s' must be a whole number in %lld..%lld", k,
				 (long long)min, (long long)max);
		return 1;
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

/* Required RFC 3339 field k within the times devices may send (as at
 * ingest: ts_accepted): 0, or 1 after replying. */
static int need_ts(struct http_req *req, const cJSON *o, const char *k, int64_t *ms)
{
	const char *v = need_str(req, o, k, 64);

	if (!v)
		return 1;
	if (rfc3339_parse(v, ms)) {
		http_reply_error(req, 400, "field '%s' must be an RFC 3339 time", k);
		return 1;
	}
	if (!ts_accepted(*ms, now_ms())) {
		http_reply_error(req, 400, "field '%s' is " TS_RANGE_WHY, k);
		return 1;
	}
	return 0;
}

/* Required field "sha256": 64 lower-case hex digits. NULL after replying. */
static const char *need_sha256(struct http_req *req, const cJSON *o)
{
	const char *v = need_str(req, o, "sha256", 64);

	if (v && !hex64(v)) {
		http_reply_error(req, 400, "field 'sha256' must be 64 lower-case hex digits");
		return NULL;
	}
	return v;
}

/*
 * Reply for an error of a model/shots.h call: a failure with its message
 * and status (the call's, by err: see each call's errors), else
 * reply_store_err() naming why->what. Returns 0.
 */
static int reply_shots_err(struct http_req *req, int err, const struct model_why *why, int status)
{
	if (why->msg[0])
		return http_reply_error(req, status, "%s", why->msg), 0;
	return reply_store_err(req, err, why->what ? why->what : "screenshot");
}

/* An {"id": id} answer with status 201. */
static int reply_id(struct http_req *req, const char *id)
{
	cJSON *out = cJSON_CreateObject();

	cJSON_AddStringToObject(out, "id", id);
	return http_reply_json(req, 201, out);
}

/* The audit entry of a view of shot id at node: action "screenshot.view"
 * (the image) or "screenshot.thumb" (its thumbnail), detail
 * {screenshot_id}, and reason when not NULL. */
static void audit_view(struct srv *s, struct http_req *req, const struct principal *p,
		       const char *action, const char *node, const char *id, const char *result,
		       const char *reason)
{
	cJSON *det = cJSON_CreateObject();

	cJSON_AddStringToObject(det, "screenshot_id", id);
	if (reason)
		cJSON_AddStringToObject(det, "reason", reason);
	audit_write(s, req, p, action, node, id, result, det);
	cJSON_Delete(det);
}

/* --- POST /api/v1/screenshots/presign --- */

/* The status of a shots_presign() failure with a message. */
static int presign_status(int err)
{
	switch (err) {
	case -EACCES: /* the policy: screenshots or logging off */
		return 403;
	case -ENODATA: /* S3 settings incomplete */
	case -EINVAL:  /* or unusable */
		return 409;
	default:
		return 500;
	}
}

static int h_presign(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct shots_presign_req r = {0};
	struct model_why why;
	struct principal p;
	cJSON *body = NULL, *out;
	const char *ct;
	int ret;

	if (need_device(s, req, &p, true))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	r.sha256 = need_sha256(req, body);
	if (!r.sha256 || need_num(req, body, "size", 1, SHOTS_MAX_SIZE, &r.size) ||
	    need_ts(req, body, "taken_at", &r.taken_at))
		goto out;
	r.user = opt_str(req, body, "user", DEVICE_LOGIN_MAX);
	if (r.user == OPT_BAD)
		goto out;
	if (r.user && !device_login_ok(r.user)) {
		http_reply_error(req, 400,
				 "field 'user' must be 1..%d bytes of text without control "
				 "characters",
				 DEVICE_LOGIN_MAX);
		goto out;
	}
	ct = need_str(req, body, "content_type", 64);
	if (!ct)
		goto out;
	if (!shots_type_ok(ct)) {
		http_reply_error(
		    req, 400, "field 'content_type' must be image/png, image/webp or image/jpeg");
		goto out;
	}
	r.content_type = ct;
	ret = shots_presign(s, &p, &r, now_ms(), &out, &why);
	if (ret)
		reply_shots_err(req, ret, &why, presign_status(ret));
	else
		http_reply_json(req, 200, out);
out:
	cJSON_Delete(body);
	return 0;
}

/* --- POST /api/v1/screenshots --- */

/* What the checks of a register hand to its job (register_finish). */
struct register_job {
	struct srv *s;
	struct principal p;
	cJSON *body; /* owns the strings of r */
	struct shots_reg r;
};

/* The status of a shots_register() failure with a message. */
static int register_status(int err)
{
	switch (err) {
	case -EINVAL:
		return 400;
	case -ENOENT:	    /* not uploaded */
	case -EBADMSG:	    /* other bytes */
	case -EKEYREJECTED: /* no credentials for its bucket held or accepted */
		return 409;
	case -EREMOTEIO:
		return 502;
	case -ETIMEDOUT:
		return 504;
	default:
		return 500;
	}
}

/* On the outbound pool: check the object in S3 and record the shot
 * (shots_register()), reply 201. Frees j. */
static void register_finish(struct http_req *req, void *ctx)
{
	struct register_job *j = ctx;
	struct model_why why;
	char id[ID_SIZE];
	int ret = shots_register(j->s, &j->p, &j->r, id, &why);

	if (ret)
		reply_shots_err(req, ret, &why, register_status(ret));
	else
		reply_id(req, id);
	cJSON_Delete(j->body);
	free(j);
}

/* Check the request and the pending key here; check S3 and record the shot
 * on the outbound pool. */
static int h_register(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct register_job *j = calloc(1, sizeof(*j));
	struct shots_reg *r;
	struct model_why why;
	char id[ID_SIZE], business[ID_SIZE];
	int ret;

	if (!j)
		return -ENOMEM;
	r = &j->r;
	if (need_device(s, req, &j->p, true))
		goto done;
	j->body = need_json(req);
	if (!j->body)
		goto done;
	r->key = need_str(req, j->body, "key", SHOTS_KEY_SIZE - 1);
	r->sha256 = r->key ? need_sha256(req, j->body) : NULL;
	if (!r->key || !r->sha256)
		goto done;
	if (need_num(req, j->body, "size", 1, SHOTS_MAX_SIZE, &r->size) ||
	    need_num(req, j->body, "width", 1, SHOTS_DIM_MAX, &r->width) ||
	    need_num(req, j->body, "height", 1, SHOTS_DIM_MAX, &r->height) ||
	    need_ts(req, j->body, "taken_at", &r->taken_at))
		goto done;
	r->monitor = opt_str(req, j->body, "monitor", SHOTS_MONITOR_MAX);
	if (r->monitor == OPT_BAD)
		goto done;

	ret = shots_register_check(s, &j->p, r, id, business, &why);
	if (ret) {
		reply_shots_err(req, ret, &why, ret == -ENOENT ? 404 : ret == -EACCES ? 403 : 400);
		goto done;
	}
	if (id[0]) { /* registered already: the same answer */
		reply_id(req, id);
		goto done;
	}
	j->s = s;
	if (!need_outbound(s, req, business, register_finish, j))
		j = NULL; /* register_finish owns it */
done:
	if (j) {
		cJSON_Delete(j->body);
		free(j);
	}
	return 0;
}

/* --- GET /api/v1/screenshots?user_id=U|device_id=D&from&to --- */

static int h_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_query(req, "user_id"), *did = http_req_query(req, "device_id");
	struct model_why why;
	struct principal p;
	struct target t;
	int64_t from, to, now = now_ms();
	cJSON *out;
	int ret;

	if (need_user(s, req, &p))
		return 0;
	if (!!uid == !!did)
		return http_reply_error(req, 400, "exactly one of 'user_id' and 'device_id'");
	if (uid ? need_target_user(s, req, uid, &t) : need_target_device(s, req, did, &t))
		return 0;
	if (need_time_arg(req, "to", now, &to) < 0 ||
	    need_time_arg(req, "from", to - DAY_MS, &from) < 0)
		return 0;
	if (from > to)
		return http_reply_error(req, 400, "'from' is after 'to'");
	if (to - from > SHOTS_RANGE_MAX_MS)
		return http_reply_error(req, 400, "'from' and 'to' are more than 400 days apart");
	ret = shots_list(s, &p, &t, uid, did, from, to, &out, &why);
	if (ret)
		return reply_shots_err(req, ret, &why, 403);
	return http_reply_json(req, 200, out);
}

/* --- GET /api/v1/screenshots/{id}/image and /thumb --- */

#define ACT_VIEW "screenshot.view"   /* the audit action of an image view */
#define ACT_THUMB "screenshot.thumb" /* of a thumbnail */

/* An image or thumbnail GET's job (image_finish): the shot, allowed to be
 * viewed. */
struct image_job {
	struct srv *s;
	struct principal p;
	struct shots_image v;
	bool thumb; /* the thumbnail, not the image */
};

/* The status of a shots_image_fetch() or shots_thumb_fetch() failure. */
static int fetch_status(int err)
{
	switch (err) {
	case -ENOENT:
		return 404;
	case -ETIMEDOUT:
		return 504;
	case -ENOKEY: /* the settings do not open */
	case -ENOMEM:
	case -EIO: /* the thumbnail's encoder */
		return 500;
	case -EKEYREJECTED: /* no credentials for its bucket held or accepted */
		return 409;
	case -EPROTONOSUPPORT: /* a thumbnail of another format */
		return 415;
	case -EFBIG: /* a source over the thumbnail's caps */
		return 422;
	default: /* -EBADMSG, -E2BIG, -EREMOTEIO; -EINVAL: does not decode */
		return 502;
	}
}

/* The audit reason of a failed fetch (NULL: none). */
static const char *fetch_reason(int err)
{
	switch (err) {
	case -EBADMSG:
		return "content_mismatch";
	case -EFBIG:
		return "too_large";
	case -EINVAL:
		return "undecodable";
	default:
		return NULL;
	}
}

/*
 * On the outbound pool, the image is streamed: S3 -> an anonymous temporary
 * file (shots_image_fetch(): never more than the registered size, checked
 * against the registered sha256) -> the client from that file
 * (http_reply_fd), so no copy of it is held in memory. A thumbnail is made
 * from that same file (shots_thumb_fetch()) and sent from memory (a few
 * KiB). Audits the view ("ok", or "error" once S3 was asked). Frees j.
 */
static void image_finish(struct http_req *req, void *ctx)
{
	struct image_job *j = ctx;
	const char *id = http_req_param(req, "id"), *act = j->thumb ? ACT_THUMB : ACT_VIEW;
	struct model_why why;
	uint8_t *jpg = NULL;
	size_t jlen = 0;
	uint64_t len = 0;
	int fd = -1, ret;

	ret = j->thumb ? shots_thumb_fetch(j->s, j->v.shot, id, &jpg, &jlen, &why)
		       : shots_image_fetch(j->s, j->v.shot, id, &fd, &len, &why);
	if (ret) {
		if (ret != -ENOKEY)
			audit_view(j->s, req, &j->p, act, j->v.node, id, "error",
				   fetch_reason(ret));
		reply_shots_err(req, ret, &why, fetch_status(ret));
	} else {
		audit_view(j->s, req, &j->p, act, j->v.node, id, "ok", NULL);
		http_set_header(req, "Cache-Control", "private, no-store");
		if (j->thumb)
			http_reply_bytes(req, 200, "image/jpeg", jpg, jlen);
		else /* the type the shot was presigned with (none stored: image/png) */
			http_reply_fd(req, 200, shots_content_type(j->v.shot), fd,
				      len); /* owns fd */
	}
	free(jpg);
	cJSON_Delete(j->v.shot);
	free(j);
}

/* Decide (and audit a refusal) here; fetch the image (or make its
 * thumbnail) on the outbound pool. */
static int image_start(struct http_req *req, struct srv *s, bool thumb)
{
	const char *id = http_req_param(req, "id"), *act = thumb ? ACT_THUMB : ACT_VIEW;
	struct image_job *j = calloc(1, sizeof(*j));
	struct model_why why;
	int ret;

	if (!j)
		return -ENOMEM;
	if (need_user(s, req, &j->p))
		goto out;
	ret = shots_image_check(s, &j->p, id, &j->v, &why);
	if (ret) {
		if (j->v.denied)
			audit_view(s, req, &j->p, act, j->v.node, id, "forbidden", NULL);
		reply_shots_err(req, ret, &why, ret == -ENOENT ? 404 : ret == -EACCES ? 403 : 500);
		goto out;
	}
	ret = thumb ? shots_thumb_check(j->v.shot, &why) : 0;
	if (ret) { /* not a format thumbnails are made of */
		audit_view(s, req, &j->p, act, j->v.node, id, "error", "format");
		reply_shots_err(req, ret, &why, fetch_status(ret));
		goto out;
	}
	j->s = s;
	j->thumb = thumb;
	if (!need_outbound(s, req, j->v.business, image_finish, j))
		j = NULL; /* image_finish owns it */
	else		  /* refused (503): every view of a known shot is audited */
		audit_view(s, req, &j->p, act, j->v.node, id, "error", NULL);
out:
	if (j) {
		cJSON_Delete(j->v.shot);
		free(j);
	}
	return 0;
}

static int h_image(struct http_req *req, void *arg)
{
	return image_start(req, arg, false);
}

static int h_thumb(struct http_req *req, void *arg)
{
	return image_start(req, arg, true);
}

int api_shots_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/screenshots/presign", h_presign, s},
	    {"POST", "/api/v1/screenshots", h_register, s},
	    {"GET", "/api/v1/screenshots", h_list, s},
	    {"GET", "/api/v1/screenshots/{id}/image", h_image, s},
	    {"GET", "/api/v1/screenshots/{id}/thumb", h_thumb, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
