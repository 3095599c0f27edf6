// SPDX-License-Identifier: BSD-2-Clause
/*
 * avatar.c - profile pictures: recognising an image by its bytes, and the
 * picture's checks, object and items (contracts and layout: model/avatar.h;
 * keys: store/keys.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "model/avatar.h"
#include "model/config.h"
#include "model/s3set.h"
#include "s3.h"
#include "store/keys.h"
#include "util.h"

#define KEY_SIZE 96				/* "avatars/<uid>/<random>.<ext>" */
#define AAD_SIZE (STORE_KEY_MAX + ID_SIZE + 16) /* "avatar-s3|<uid>|<key>" */

/* --- the image, by its bytes --- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int sniff_png(const uint8_t *p, size_t len, struct avatar_info *out)
{
	static const uint8_t iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};

	/* signature, IHDR (4 + 4 + 13 + 4 CRC), IEND */
	if (len < 8 + 25 + 12 || be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) ||
	    memcmp(p + len - 12, iend, 12))
		return -EBADMSG;
	out->content_type = "image/png";
	out->width = be32(p + 16);
	out->height = be32(p + 20);
	return out->width && out->height && out->width < (1u << 31) && out->height < (1u << 31)
		   ? 0
		   : -EBADMSG;
}

static int sniff_jpeg(const uint8_t *p, size_t len, struct avatar_info *out)
{
	size_t i = 2, seg;
	uint8_t m;

	if (len < 4 || p[len - 2] != 0xFF || p[len - 1] != 0xD9)
		return -EBADMSG; /* no EOI: truncated */
	while (i + 4 <= len) {
		if (p[i] != 0xFF)
			return -EBADMSG;
		while (i + 4 <= len && p[i + 1] == 0xFF) /* fill bytes */
			i++;
		m = p[i + 1];
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* no length */
			i += 2;
			continue;
		}
		if (m == 0xD9 || m == 0xDA) /* end or scan before any frame header */
			return -EBADMSG;
		seg = (size_t)p[i + 2] << 8 | p[i + 3];
		if (seg < 2 || seg > len - i - 2)
			return -EBADMSG;
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			if (seg < 8)
				return -EBADMSG;
			out->content_type = "image/jpeg";
			out->height = (unsigned)p[i + 5] << 8 | p[i + 6];
			out->width = (unsigned)p[i + 7] << 8 | p[i + 8];
			return out->width && out->height ? 0 : -EBADMSG;
		}
		i += 2 + seg;
	}
	return -EBADMSG;
}

static int sniff_webp(const uint8_t *p, size_t len, struct avatar_info *out)
{
	if (len < 30 || (uint64_t)le32(p + 4) + 8 != len)
		return -EBADMSG;
	out->content_type = "image/webp";
	if (!memcmp(p + 12, "VP8X", 4)) {
		out->width = 1 + (p[24] | (unsigned)p[25] << 8 | (unsigned)p[26] << 16);
		out->height = 1 + (p[27] | (unsigned)p[28] << 8 | (unsigned)p[29] << 16);
		return 0;
	}
	if (!memcmp(p + 12, "VP8L", 4)) {
		uint32_t bits = le32(p + 21);

		if (p[20] != 0x2F)
			return -EBADMSG;
		out->width = (bits & 0x3FFF) + 1;
		out->height = ((bits >> 14) & 0x3FFF) + 1;
		return 0;
	}
	if (!memcmp(p + 12, "VP8 ", 4)) {
		if (p[23] != 0x9D || p[24] != 0x01 || p[25] != 0x2A)
			return -EBADMSG;
		out->width = (p[26] | (unsigned)p[27] << 8) & 0x3FFF;
		out->height = (p[28] | (unsigned)p[29] << 8) & 0x3FFF;
		return out->width && out->height ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}

int avatar_sniff(const uint8_t *p, size_t len, struct avatar_info *out)
{
	static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

	memset(out, 0, sizeof(*out));
	if (len >= 8 && !memcmp(p, png_sig, 8))
		return sniff_png(p, len, out);
	if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return sniff_jpeg(p, len, out);
	if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return sniff_webp(p, len, out);
	return -EOPNOTSUPP;
}

/* --- helpers --- */

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

/* The ETag of picture item a: its sha256, quoted. Returns etag. */
static const char *etag_of(const cJSON *a, char etag[AVATAR_ETAG_SIZE])
{
	snprintf(etag, AVATAR_ETAG_SIZE, "\"%s\"", jstr(a, "sha256") ? jstr(a, "sha256") : "");
	return etag;
}

/* The API view of user uid's picture item a. The caller's. */
static cJSON *avatar_view(const char *uid, const cJSON *a)
{
	cJSON *o = cJSON_CreateObject();
	char ts[RFC3339_LEN], etag[AVATAR_ETAG_SIZE];

	cJSON_AddStringToObject(o, "user_id", uid);
	cJSON_AddStringToObject(o, "content_type",
				jstr(a, "content_type") ? jstr(a, "content_type") : "");
	cJSON_AddNumberToObject(o, "size", (double)jint(a, "size", 0));
	cJSON_AddNumberToObject(o, "width", (double)jint(a, "width", 0));
	cJSON_AddNumberToObject(o, "height", (double)jint(a, "height", 0));
	cJSON_AddStringToObject(o, "sha256", jstr(a, "sha256") ? jstr(a, "sha256") : "");
	cJSON_AddStringToObject(o, "etag", etag_of(a, etag));
	cJSON_AddStringToObject(o, "updated_at", rfc3339_ms(jint(a, "updated", 0), ts));
	return o;
}

/* --- S3 settings (s3set.h) --- */

/*
 * The AAD that binds the sealed settings of user uid's picture object key
 * to them: "avatar-s3|" uid "|" key. Not a key: it is never stored, only
 * checked when the blob is opened. Returns aad.
 */
static const char *picture_aad(char aad[AAD_SIZE], const char *uid, const char *key)
{
	snprintf(aad, AAD_SIZE, "avatar-s3|%s|%s", uid, key);
	return aad;
}

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
 * Open the sealed settings of user uid's picture item a into *x, with the
 * credentials uid's levels (and those of the team recorded in a) lend to
 * it; log a failure (x stays empty). 0 or -errno.
 */
static int picture_s3(struct srv *s, const char *uid, const cJSON *a, struct s3set *x)
{
	const struct s3set_who who = {uid, NULL, jstr(a, "team_id")};
	char aad[AAD_SIZE];
	int ret;

	ret = s3set_open(s, STORE_T_USERS, uid, SK_AVATAR_S3, AVATAR_S3_SCOPE,
			 picture_aad(aad, uid, jstr(a, "key")), &who, S3_API_TIMEOUT_MS(s), x);
	if (ret)
		log_err("avatars: S3 settings of %s's picture: %s", uid, strerror(-ret));
	return ret;
}

/* Delete object key with settings x; log a failure. 0 or -errno as
 * s3set_delete(). */
static int s3_delete_logged(struct s3set *x, const char *key, const char *why)
{
	char ebuf[600];
	int ret = s3set_delete(x, key, ebuf, sizeof(ebuf));

	if (ret)
		log_warn("avatars: deleting %s (%s) from S3 failed: %s", key, why,
			 ebuf[0] ? ebuf : strerror(-ret));
	return ret;
}

/*
 * Within batch b: is user uid's picture item still prev (the one read before
 * the batch; NULL: none), judged by its object key? 0, -EAGAIN when it
 * changed, -errno.
 */
static int picture_unchanged(struct store_batch *b, const char *uid, const cJSON *prev)
{
	cJSON *cur = NULL;
	int ret = jbget(b, STORE_T_USERS, uid, SK_AVATAR, &cur);

	if (ret == -ENOENT)
		ret = prev ? -EAGAIN : 0;
	else if (!ret && (!prev || strcmp(jstr(cur, "key") ? jstr(cur, "key") : "",
					  jstr(prev, "key") ? jstr(prev, "key") : "")))
		ret = -EAGAIN;
	cJSON_Delete(cur);
	return ret;
}

/* --- the calls of avatar.h --- */

int avatar_check(const uint8_t *p, size_t len, const char *declared, struct avatar_new *out,
		 struct model_why *why)
{
	int ret;

	why_reset(why);
	memset(out, 0, sizeof(*out));
	if (len > AVATAR_MAX_SIZE)
		return why_refuse(why, -EFBIG, "the picture is over %u bytes", AVATAR_MAX_SIZE);
	if (!len)
		return why_refuse(why, -ENODATA, "the body is empty: send the image");
	ret = avatar_sniff(p, len, &out->ai);
	if (ret == -EOPNOTSUPP)
		return why_refuse(why, ret, "the body is not a PNG, JPEG or WebP image");
	if (ret)
		return why_refuse(why, -EBADMSG, "the %s image is truncated or corrupt",
				  out->ai.content_type ? out->ai.content_type : "uploaded");
	if (strcasecmp(declared, out->ai.content_type))
		return why_refuse(why, -EMEDIUMTYPE, "the body is %s, not %s as declared",
				  out->ai.content_type, declared);
	if (out->ai.width > AVATAR_MAX_SIDE || out->ai.height > AVATAR_MAX_SIDE)
		return why_refuse(why, -EDOM, "the picture is %ux%u; at most %ux%u", out->ai.width,
				  out->ai.height, AVATAR_MAX_SIDE, AVATAR_MAX_SIDE);
	if (sha256_hex(p, len, out->sha256) || id_new('x', out->rnd))
		return why_refuse(why, -EIO, "no digest or randomness");
	return 0;
}

int avatar_put(struct srv *s, const char *uid, const char *team_id, const char *by,
	       const struct avatar_new *n, const uint8_t *p, size_t len, avatar_audit_fn audit,
	       void *actx, cJSON **view, struct model_why *why)
{
	const struct avatar_info *ai = &n->ai;
	struct s3set x = {0}, old = {0};
	struct s3_client *c = NULL;
	struct store_batch *b = NULL;
	cJSON *prev = NULL, *row = NULL, *det = NULL;
	char key[KEY_SIZE], aad[AAD_SIZE], missing[128], ebuf[600];
	bool uploaded = false, committed = false;
	int ret;

	why_reset(why);
	*view = NULL;
	ret = effective_s3(s, team_id, uid, &x, missing, sizeof(missing));
	if (ret == -ENODATA) {
		why_refuse(why, ret, "S3 settings incomplete: missing %s", missing);
		goto out;
	}
	if (ret) {
		why_fail(why, ret, "user");
		goto out;
	}
	/* the current picture and its settings, to delete its object later */
	ret = jget(s, STORE_T_USERS, uid, SK_AVATAR, &prev);
	if (ret && ret != -ENOENT) {
		why_fail(why, ret, "avatar");
		goto out;
	}
	if (!ret && jstr(prev, "key"))
		picture_s3(s, uid, prev, &old);

	snprintf(key, sizeof(key), "avatars/%s/%s.%s", uid, n->rnd + 2,
		 !strcmp(ai->content_type, "image/png")	   ? "png"
		 : !strcmp(ai->content_type, "image/jpeg") ? "jpg"
							   : "webp");
	ret = s3_client_new(&x.c, &c);
	if (!ret)
		ret = s3_put(c, key, p, len, ai->content_type);
	if (ret) {
		if (ret == -EINVAL && !c) {
			why_refuse(why, ret, "S3 settings are not usable (endpoint?)");
			goto out;
		}
		log_warn("avatars: PUT %s: %s", key,
			 c ? s3_strerror(s3_last_error(c), ebuf, sizeof(ebuf)) : strerror(-ret));
		if (c && s3_last_error(c)->timed_out)
			ret = why_refuse(why, -ETIMEDOUT,
					 "S3 did not answer in time; the picture is not stored");
		else
			ret = why_refuse(why, -EREMOTEIO, "cannot store the picture in S3");
		goto out;
	}
	uploaded = true;

	row = cJSON_CreateObject();
	cJSON_AddStringToObject(row, "key", key);
	cJSON_AddStringToObject(row, "content_type", ai->content_type);
	cJSON_AddNumberToObject(row, "size", (double)len);
	cJSON_AddStringToObject(row, "sha256", n->sha256);
	cJSON_AddNumberToObject(row, "width", ai->width);
	cJSON_AddNumberToObject(row, "height", ai->height);
	cJSON_AddNumberToObject(row, "updated", (double)now_ms());
	cJSON_AddStringToObject(row, "by", by);
	/* whose levels lend credentials to the object later, should uid move */
	cJSON_AddStringToObject(row, "team_id", team_id ? team_id : "");
	det = cJSON_CreateObject();
	cJSON_AddStringToObject(det, "content_type", ai->content_type);
	cJSON_AddNumberToObject(det, "size", (double)len);
	cJSON_AddNumberToObject(det, "width", ai->width);
	cJSON_AddNumberToObject(det, "height", ai->height);
	cJSON_AddStringToObject(det, "sha256", n->sha256);
	cJSON_AddBoolToObject(det, "replaced", prev != NULL);
	ret = store_batch_begin(s->st, &b);
	/* the picture read above must still be the current one at commit */
	if (!ret)
		ret = picture_unchanged(b, uid, prev);
	if (!ret)
		ret = jput(b, STORE_T_USERS, uid, SK_AVATAR, row, 0);
	if (!ret)
		ret = s3set_seal(s, b, STORE_T_USERS, uid, SK_AVATAR_S3, AVATAR_S3_SCOPE,
				 picture_aad(aad, uid, key), &x);
	if (!ret)
		ret = audit(b, det, actx);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret == -EAGAIN) {
		why_refuse(why, ret, "the picture changed meanwhile; send it again");
		goto out;
	}
	if (ret) {
		why_fail(why, ret, "avatar");
		goto out;
	}
	committed = true;
	log_info("event=avatar_set user=%s by=%s size=%zu", uid, by, len);
	if (prev && jstr(prev, "key") && old.j)
		s3_delete_logged(&old, jstr(prev, "key"), "replaced");
	*view = avatar_view(uid, row);
out:
	store_batch_abort(b);
	if (uploaded && !committed)
		s3_delete_logged(&x, key, "not recorded");
	s3_client_free(c);
	s3set_free(&x);
	s3set_free(&old);
	cJSON_Delete(prev);
	cJSON_Delete(row);
	cJSON_Delete(det);
	return ret;
}

int avatar_item(struct srv *s, const char *uid, cJSON **item, struct model_why *why)
{
	int ret;

	why_reset(why);
	*item = NULL;
	ret = jget(s, STORE_T_USERS, uid, SK_AVATAR, item);
	if (ret == -ENOENT)
		return why_refuse(why, ret, "this user has no picture");
	if (ret)
		return why_fail(why, ret, "avatar");
	return 0;
}

int avatar_get(struct srv *s, const char *uid, struct avatar_rec *out, struct model_why *why)
{
	cJSON *a = NULL;
	int64_t size;
	int ret = avatar_item(s, uid, &a, why);

	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	size = jint(a, "size", 0);
	if (!jstr(a, "key") || !jstr(a, "content_type") || !jstr(a, "sha256") || size < 1 ||
	    size > AVATAR_MAX_SIZE) {
		cJSON_Delete(a);
		return why_refuse(why, -EUCLEAN, "the picture's item is incomplete");
	}
	etag_of(a, out->etag);
	out->item = a;
	return 0;
}

int avatar_fetch(struct srv *s, const char *uid, const cJSON *item, int *fd, uint64_t *len,
		 struct model_why *why)
{
	const char *key = jstr(item, "key");
	struct s3set x = {0};
	char ebuf[600], got[65];
	uint64_t size = (uint64_t)jint(item, "size", 0);
	int ret;

	why_reset(why);
	*fd = -1;
	*len = 0;
	ret = picture_s3(s, uid, item, &x);
	if (ret)
		return why_refuse(why, -ENOKEY, "cannot open the picture's S3 settings");
	ret = s3set_get_tmp(&x, key, size, fd, len, ebuf, sizeof(ebuf));
	if (!ret && *len != size)
		ret = -EBADMSG;
	/* the bytes must be the ones recorded: an object replaced in the
	 * bucket behind the server's back is not served under the old ETag */
	if (!ret && (ret = sha256_fd(*fd, *len, got)) == 0 && strcmp(got, jstr(item, "sha256")))
		ret = -EBADMSG;
	if (ret) {
		log_warn("avatars: GET %s: %s", key,
			 ret == -EBADMSG ? "the object differs from the recorded size or sha256"
			 : ebuf[0]	 ? ebuf
					 : strerror(-ret));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		if (ret == -ENOENT)
			why_refuse(why, ret, "the picture is missing in S3");
		else if (ret == -EKEYREJECTED)
			why_refuse(why, ret, S3SET_NO_CREDS_FMT, s3set_bucket(&x));
		else if (ret == -E2BIG || ret == -EBADMSG)
			ret = why_refuse(why, -EBADMSG,
					 "the picture in S3 differs from the one recorded");
		else if (ret == -ETIMEDOUT)
			why_refuse(why, ret, "S3 did not answer in time");
		else
			ret = why_refuse(why, -EREMOTEIO, "cannot read the picture from S3");
	}
	s3set_free(&x);
	return ret;
}

int avatar_delete(struct srv *s, const char *uid, const cJSON *item, const char *by,
		  avatar_audit_fn audit, void *actx, struct model_why *why)
{
	const char *key = jstr(item, "key");
	struct s3set x = {0};
	struct store_batch *b = NULL;
	cJSON *det = NULL;
	int ret;

	why_reset(why);
	/* the object first: one no credential can reach any more is refused,
	 * and stays recorded, rather than left in its bucket unreferenced */
	if (key && !picture_s3(s, uid, item, &x) &&
	    s3_delete_logged(&x, key, "removed") == -EKEYREJECTED) {
		ret = why_refuse(why, -EKEYREJECTED, S3SET_NO_CREDS_FMT, s3set_bucket(&x));
		goto out;
	}
	det = cJSON_CreateObject();
	cJSON_AddStringToObject(det, "sha256", jstr(item, "sha256") ? jstr(item, "sha256") : "");
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = picture_unchanged(b, uid, item);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_USERS, uid, SK_AVATAR, 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_USERS, uid, SK_AVATAR_S3, 0);
	if (!ret)
		ret = audit(b, det, actx);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret == -EAGAIN) {
		why_refuse(why, ret, "the picture changed meanwhile; try again");
		goto out;
	}
	if (ret) {
		why_fail(why, ret, "avatar");
		goto out;
	}
	log_info("event=avatar_remove user=%s by=%s", uid, by);
out:
	store_batch_abort(b);
	s3set_free(&x);
	cJSON_Delete(det);
	return ret;
}
