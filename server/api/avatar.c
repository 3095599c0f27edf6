// SPDX-License-Identifier: BSD-2-Clause
/*
 * api_avatar.c - profile pictures. A user (or anyone with user.write on
 * them) PUTs an image; the server checks it by its bytes (PNG, JPEG, WebP;
 * at most AVATAR_MAX_SIZE bytes and AVATAR_MAX_SIDE pixels a side), stores
 * it in S3 under the user's effective S3 settings and records it; any
 * signed-in user GETs it (streamed from S3 through a temporary file, with
 * an ETag); DELETE removes it. See docs/API.md (Users, avatar).
 *
 * Layout (table USERS, next to the user item):
 *   pk user id  sk "avatar"     {key,content_type,size,sha256,width,height,updated,by}
 *   pk user id  sk "avatar-s3"  sealed {bucket,region,endpoint,path_style,access_key_id,
 *                                       secret_access_key,session_token}
 *                               scope "avatars", aad "avatar-s3|"user id"|"key: the S3
 *                               settings the object was written with, so that a later
 *                               change of bucket or keys does not orphan it
 * Both are replaced together in one batch. The previous object is deleted
 * from S3 after the batch commits (best effort: a failure is logged and
 * leaves an unreferenced object, never a reference to a missing one).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "model/avatar.h"
#include "model/config.h"
#include "core/crypto.h"
#include "log.h"
#include "s3.h"
#include "model/s3set.h"
#include "core/srv.h"
#include "util.h"

#define SEAL_SCOPE "avatars"
#define KEY_SIZE 96
#define AAD_SIZE (KEY_SIZE + ID_SIZE + 16)

/* --- S3 settings (s3set.h) --- */

/*
 * The effective S3 settings of user uid in team into *x. 0; -ENODATA with
 * missing naming the absent keys; -errno.
 */
static int effective_s3(struct srv *s, const char *team, const char *uid, struct s3set *x,
			char *missing, size_t mlen)
{
	cJSON *eff = NULL;
	int ret = config_effective(s, team, uid, true, &eff);

	missing[0] = 0;
	if (!ret)
		ret = s3set_from_config(cJSON_GetObjectItemCaseSensitive(eff, "values"),
					S3_API_TIMEOUT_MS(s), x, missing, mlen);
	/* a secret copy lives in eff too */
	cJSON_Delete(eff);
	return ret;
}

/*
 * Open the sealed settings of user uid's picture object key into *x; log a
 * failure (x stays empty). 0 or -errno.
 */
static int picture_s3(struct srv *s, const char *uid, const char *key, struct s3set *x)
{
	char aad[AAD_SIZE];
	int ret;

	snprintf(aad, sizeof(aad), "avatar-s3|%s|%s", uid, key);
	ret = s3set_open(s, STORE_T_USERS, uid, "avatar-s3", SEAL_SCOPE, aad, S3_API_TIMEOUT_MS(s),
			 x);
	if (ret)
		log_err("avatars: S3 settings of %s's picture: %s", uid, strerror(-ret));
	return ret;
}

/* Delete object key with settings x; log a failure. */
static void s3_delete_logged(const struct s3set *x, const char *key, const char *why)
{
	char ebuf[600];
	int ret = s3set_delete(x, key, ebuf, sizeof(ebuf));

	if (ret)
		log_warn("avatars: deleting %s (%s) from S3 failed: %s", key, why,
			 ebuf[0] ? ebuf : strerror(-ret));
}

/* --- helpers --- */

/*
 * Within batch b: is user uid's picture item still prev (the one read before
 * the batch; NULL: none), judged by its object key? 0, -EAGAIN when it
 * changed, -errno.
 */
static int picture_unchanged(struct store_batch *b, const char *uid, const cJSON *prev)
{
	cJSON *cur = NULL;
	int ret = jbget(b, STORE_T_USERS, uid, "avatar", &cur);

	if (ret == -ENOENT)
		ret = prev ? -EAGAIN : 0;
	else if (!ret && (!prev || strcmp(jstr(cur, "key") ? jstr(cur, "key") : "",
					  jstr(prev, "key") ? jstr(prev, "key") : "")))
		ret = -EAGAIN;
	cJSON_Delete(cur);
	return ret;
}

static int sha256_hex(const void *p, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0, i;

	if (EVP_Digest(p, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -EIO;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* sha256 hex of the first len bytes of fd (read with pread: the offset
 * stays). 0, -EBADMSG when shorter, -errno. */
static int sha256_fd(int fd, uint64_t len, char hex[65])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t off = 0;
	unsigned n = 0, i;
	int ret = 0;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return -EIO;
	}
	while (!ret && off < len) {
		size_t want = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		ssize_t r = pread(fd, buf, want, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			ret = -errno;
		else if (r == 0)
			ret = -EBADMSG;
		else if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1)
			ret = -EIO;
		else
			off += (uint64_t)r;
	}
	if (!ret && (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32))
		ret = -EIO;
	EVP_MD_CTX_free(ctx);
	for (i = 0; !ret && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return ret;
}

static cJSON *avatar_view(const char *uid, const cJSON *a)
{
	cJSON *o = cJSON_CreateObject();
	char ts[RFC3339_LEN], etag[80];

	snprintf(etag, sizeof(etag), "\"%s\"", jstr(a, "sha256") ? jstr(a, "sha256") : "");
	cJSON_AddStringToObject(o, "user_id", uid);
	cJSON_AddStringToObject(o, "content_type",
				jstr(a, "content_type") ? jstr(a, "content_type") : "");
	cJSON_AddNumberToObject(o, "size", (double)jint(a, "size", 0));
	cJSON_AddNumberToObject(o, "width", (double)jint(a, "width", 0));
	cJSON_AddNumberToObject(o, "height", (double)jint(a, "height", 0));
	cJSON_AddStringToObject(o, "sha256", jstr(a, "sha256") ? jstr(a, "sha256") : "");
	cJSON_AddStringToObject(o, "etag", etag);
	cJSON_AddStringToObject(o, "updated_at", rfc3339_ms(jint(a, "updated", 0), ts));
	return o;
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
	if (!strcmp(uid, p->id))
		return 0;
	return need_perm(req, p, PERM_USER_WRITE, t) || need_holds_all_of(s, req, p, uid) ? 1 : 0;
}

/* The team a user target sits in ("" for none). */
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
	struct avatar_info ai;
	char sha[65], rnd[ID_SIZE];
};

/*
 * The S3 part of a PUT, on the outbound pool: store the checked picture in
 * S3, record it, delete the replaced object, reply. Frees j.
 */
static void put_finish(struct http_req *req, void *ctx)
{
	struct put_job *j = ctx;
	struct srv *s = j->s;
	const struct avatar_info *ai = &j->ai;
	const char *uid = http_req_param(req, "id");
	struct s3set x = {0}, old = {0};
	struct s3_client *c = NULL;
	struct store_batch *b = NULL;
	const uint8_t *body;
	size_t len;
	cJSON *prev = NULL, *row = NULL, *det = NULL;
	char key[KEY_SIZE], aad[AAD_SIZE], missing[128], ebuf[600];
	char *plain = NULL;
	bool uploaded = false, committed = false;
	int ret;

	body = http_req_body(req, &len);
	ret = effective_s3(s, target_team(&j->t), uid, &x, missing, sizeof(missing));
	if (ret == -ENODATA) {
		http_reply_error(req, 409, "S3 settings incomplete: missing %s", missing);
		goto out;
	}
	if (ret) {
		reply_store_err(req, ret, "user");
		goto out;
	}
	/* the current picture and its settings, to delete its object later */
	ret = jget(s, STORE_T_USERS, uid, "avatar", &prev);
	if (ret && ret != -ENOENT) {
		reply_store_err(req, ret, "avatar");
		goto out;
	}
	if (!ret && jstr(prev, "key"))
		picture_s3(s, uid, jstr(prev, "key"), &old);

	snprintf(key, sizeof(key), "avatars/%s/%s.%s", uid, j->rnd + 2,
		 !strcmp(ai->content_type, "image/png")	   ? "png"
		 : !strcmp(ai->content_type, "image/jpeg") ? "jpg"
							   : "webp");
	ret = s3_client_new(&x.c, &c);
	if (!ret)
		ret = s3_put(c, key, body, len, ai->content_type);
	if (ret) {
		if (ret == -EINVAL && !c) {
			http_reply_error(req, 409, "S3 settings are not usable (endpoint?)");
			goto out;
		}
		log_warn("avatars: PUT %s: %s", key,
			 c ? s3_strerror(s3_last_error(c), ebuf, sizeof(ebuf)) : strerror(-ret));
		if (c && s3_last_error(c)->timed_out)
			http_reply_error(req, 504,
					 "S3 did not answer in time; the picture is not stored");
		else
			http_reply_error(req, 502, "cannot store the picture in S3");
		goto out;
	}
	uploaded = true;

	row = cJSON_CreateObject();
	cJSON_AddStringToObject(row, "key", key);
	cJSON_AddStringToObject(row, "content_type", ai->content_type);
	cJSON_AddNumberToObject(row, "size", (double)len);
	cJSON_AddStringToObject(row, "sha256", j->sha);
	cJSON_AddNumberToObject(row, "width", ai->width);
	cJSON_AddNumberToObject(row, "height", ai->height);
	cJSON_AddNumberToObject(row, "updated", (double)now_ms());
	cJSON_AddStringToObject(row, "by", j->p.id);
	det = cJSON_CreateObject();
	cJSON_AddStringToObject(det, "content_type", ai->content_type);
	cJSON_AddNumberToObject(det, "size", (double)len);
	cJSON_AddNumberToObject(det, "width", ai->width);
	cJSON_AddNumberToObject(det, "height", ai->height);
	cJSON_AddStringToObject(det, "sha256", j->sha);
	cJSON_AddBoolToObject(det, "replaced", prev != NULL);
	plain = cJSON_PrintUnformatted(x.j);
	snprintf(aad, sizeof(aad), "avatar-s3|%s|%s", uid, key);
	ret = plain ? store_batch_begin(s->st, &b) : -ENOMEM;
	/* the picture read above must still be the current one at commit */
	if (!ret)
		ret = picture_unchanged(b, uid, prev);
	if (!ret)
		ret = jput(b, STORE_T_USERS, uid, "avatar", row, 0);
	if (!ret)
		ret = sealed_put(s, b, STORE_T_USERS, uid, "avatar-s3", SEAL_SCOPE, aad, plain,
				 strlen(plain));
	if (!ret)
		ret =
		    audit_add(b, req, &j->p, "user.avatar.set", target_team(&j->t), uid, "ok", det);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret == -EAGAIN) {
		http_reply_error(req, 409, "the picture changed meanwhile; send it again");
		goto out;
	}
	if (ret) {
		reply_store_err(req, ret, "avatar");
		goto out;
	}
	committed = true;
	log_info("event=avatar_set user=%s by=%s size=%zu", uid, j->p.id, len);
	if (prev && jstr(prev, "key") && old.j)
		s3_delete_logged(&old, jstr(prev, "key"), "replaced");
	http_reply_json(req, 200, avatar_view(uid, row));
out:
	store_batch_abort(b);
	if (uploaded && !committed)
		s3_delete_logged(&x, key, "not recorded");
	if (plain) {
		crypto_wipe(plain, strlen(plain));
		free(plain);
	}
	s3_client_free(c);
	s3set_free(&x);
	s3set_free(&old);
	cJSON_Delete(prev);
	cJSON_Delete(row);
	cJSON_Delete(det);
	free(j);
}

/* Check the caller and the picture here; store it on the outbound pool. */
static int h_put(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id"), *ct, *enc;
	struct put_job *j = calloc(1, sizeof(*j));
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
	if (len > AVATAR_MAX_SIZE) {
		http_reply_error(req, 413, "the picture is over %u bytes", AVATAR_MAX_SIZE);
		goto done;
	}
	if (!len) {
		http_reply_error(req, 400, "the body is empty: send the image");
		goto done;
	}
	ret = avatar_sniff(body, len, &j->ai);
	if (ret == -EOPNOTSUPP) {
		http_reply_error(req, 415, "the body is not a PNG, JPEG or WebP image");
		goto done;
	}
	if (ret) {
		http_reply_error(req, 400, "the %s image is truncated or corrupt",
				 j->ai.content_type ? j->ai.content_type : "uploaded");
		goto done;
	}
	if (strcasecmp(ctype, j->ai.content_type)) {
		http_reply_error(req, 415, "the body is %s, not %s as declared", j->ai.content_type,
				 ctype);
		goto done;
	}
	if (j->ai.width > AVATAR_MAX_SIDE || j->ai.height > AVATAR_MAX_SIDE) {
		http_reply_error(req, 400, "the picture is %ux%u; at most %ux%u", j->ai.width,
				 j->ai.height, AVATAR_MAX_SIDE, AVATAR_MAX_SIDE);
		goto done;
	}
	if (sha256_hex(body, len, j->sha) || id_new('x', j->rnd)) {
		http_reply_error(req, 500, "no digest or randomness");
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
	cJSON *a;
	char etag[80];
};

/*
 * The S3 part of a GET, on the outbound pool: fetch the object into a
 * temporary file, check it against the item, stream it. Frees j.
 */
static void get_finish(struct http_req *req, void *ctx)
{
	struct get_job *j = ctx;
	const char *uid = http_req_param(req, "id"), *key = jstr(j->a, "key");
	const char *ct = jstr(j->a, "content_type");
	struct s3set x = {0};
	char ebuf[600], got[65];
	uint64_t len = 0, size = (uint64_t)jint(j->a, "size", 0);
	int ret, fd = -1;

	ret = picture_s3(j->s, uid, key, &x);
	if (ret) {
		http_reply_error(req, 500, "cannot open the picture's S3 settings");
		goto out;
	}
	ret = s3set_get_tmp(&x, key, size, &fd, &len, ebuf, sizeof(ebuf));
	if (!ret && len != size)
		ret = -EBADMSG;
	/* the bytes must be the ones recorded: an object replaced in the
	 * bucket behind the server's back is not served under the old ETag */
	if (!ret && (ret = sha256_fd(fd, len, got)) == 0 && strcmp(got, jstr(j->a, "sha256")))
		ret = -EBADMSG;
	if (ret) {
		log_warn("avatars: GET %s: %s", key,
			 ret == -EBADMSG ? "the object differs from the recorded size or sha256"
			 : ebuf[0]	 ? ebuf
					 : strerror(-ret));
		if (ret == -ENOENT)
			http_reply_error(req, 404, "the picture is missing in S3");
		else if (ret == -E2BIG || ret == -EBADMSG)
			http_reply_error(req, 502,
					 "the picture in S3 differs from the one recorded");
		else if (ret == -ETIMEDOUT)
			http_reply_error(req, 504, "S3 did not answer in time");
		else
			http_reply_error(req, 502, "cannot read the picture from S3");
		goto out;
	}
	http_set_header(req, "ETag", j->etag);
	http_set_header(req, "Cache-Control", "private, no-cache");
	http_reply_fd(req, 200, ct, fd, len);
	fd = -1; /* the response owns it */
out:
	if (fd >= 0)
		close(fd);
	s3set_free(&x);
	cJSON_Delete(j->a);
	free(j);
}

/* Answer 404 and 304 here; fetch the picture on the outbound pool. */
static int h_get(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id");
	struct principal p;
	struct target t;
	struct get_job *j;
	cJSON *a = NULL;
	char etag[80];
	int64_t size;
	int ret;

	if (need_user(s, req, &p) || need_target_user(s, req, uid, &t))
		return 0;
	ret = jget(s, STORE_T_USERS, uid, "avatar", &a);
	if (ret == -ENOENT)
		return http_reply_error(req, 404, "this user has no picture");
	if (ret)
		return reply_store_err(req, ret, "avatar");
	size = jint(a, "size", 0);
	if (!jstr(a, "key") || !jstr(a, "content_type") || !jstr(a, "sha256") || size < 1 ||
	    size > AVATAR_MAX_SIZE) {
		http_reply_error(req, 500, "the picture's item is incomplete");
		goto out;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", jstr(a, "sha256"));
	if (http_etag_match(http_req_header(req, "If-None-Match"), etag)) {
		http_set_header(req, "ETag", etag);
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
	snprintf(j->etag, sizeof(j->etag), "%s", etag);
	if (!need_outbound(s, req, target_business(&t), get_finish, j))
		return 0; /* get_finish owns j and a */
	free(j);
out:
	cJSON_Delete(a);
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
 * On the outbound pool: remove the picture's rows and audit it, then delete
 * its object from S3 (best effort), reply 204. Frees j.
 */
static void delete_finish(struct http_req *req, void *ctx)
{
	struct delete_job *j = ctx;
	struct srv *s = j->s;
	const char *uid = http_req_param(req, "id"), *key = jstr(j->a, "key");
	struct s3set x = {0};
	struct store_batch *b = NULL;
	cJSON *det = NULL;
	int ret;

	if (key)
		picture_s3(s, uid, key, &x);
	det = cJSON_CreateObject();
	cJSON_AddStringToObject(det, "sha256", jstr(j->a, "sha256") ? jstr(j->a, "sha256") : "");
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = picture_unchanged(b, uid, j->a);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_USERS, uid, "avatar", 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_USERS, uid, "avatar-s3", 0);
	if (!ret)
		ret = audit_add(b, req, &j->p, "user.avatar.remove", target_team(&j->t), uid, "ok",
				det);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret == -EAGAIN) {
		http_reply_error(req, 409, "the picture changed meanwhile; try again");
		goto out;
	}
	if (ret) {
		reply_store_err(req, ret, "avatar");
		goto out;
	}
	log_info("event=avatar_remove user=%s by=%s", uid, j->p.id);
	if (key && x.j)
		s3_delete_logged(&x, key, "removed");
	http_reply_empty(req, 204);
out:
	store_batch_abort(b);
	s3set_free(&x);
	cJSON_Delete(j->a);
	cJSON_Delete(det);
	free(j);
}

/* Check the caller here; remove the picture on the outbound pool. */
static int h_delete(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_param(req, "id");
	struct delete_job *j = calloc(1, sizeof(*j));
	int ret;

	if (!j)
		return -ENOMEM;
	if (need_user(s, req, &j->p) || need_writer(s, req, &j->p, uid, &j->t))
		goto done;
	ret = jget(s, STORE_T_USERS, uid, "avatar", &j->a);
	if (ret == -ENOENT) {
		http_reply_error(req, 404, "this user has no picture");
		goto done;
	}
	if (ret) {
		reply_store_err(req, ret, "avatar");
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
