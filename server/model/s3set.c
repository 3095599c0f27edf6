// SPDX-License-Identifier: BSD-2-Clause
/*
 * s3set.c - the sealed S3 settings of stored objects (s3set.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "model/config.h"
#include "model/s3set.h"
#include "store/keys.h"
#include <openssl/evp.h>

#include "util.h"

#define SHOT_AAD_SIZE (STORE_KEY_MAX + 16) /* "screenshot-s3|" + object key */

static const char *const required[] = {"s3.bucket", "s3.region", "s3.access_key_id",
				       "s3.secret_access_key"};

/* Point x->c into the settings object x->j (the strings stay j's). */
static void fill(struct s3set *x, unsigned timeout_ms)
{
	const char *tok = jstr(x->j, "session_token");

	memset(&x->c, 0, sizeof(x->c));
	x->c.bucket = jstr(x->j, "bucket");
	x->c.region = jstr(x->j, "region");
	x->c.endpoint = jstr(x->j, "endpoint");
	x->c.path_style = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x->j, "path_style"));
	x->c.access_key = jstr(x->j, "access_key_id");
	x->c.secret_key = jstr(x->j, "secret_access_key");
	x->c.session_token = tok && *tok ? tok : NULL;
	x->c.connect_timeout_ms = timeout_ms < S3_API_CONNECT_MS ? timeout_ms : S3_API_CONNECT_MS;
	x->c.timeout_ms = timeout_ms;
	x->c.max_attempts = 3;
	x->at = 0;
}

/* true when credential objects a and b hold the same key id and secret */
static bool same_key(const cJSON *a, const cJSON *b)
{
	const char *ak = jstr(a, "access_key_id"), *as = jstr(a, "secret_access_key");
	const char *bk = jstr(b, "access_key_id"), *bs = jstr(b, "secret_access_key");

	return ak && as && bk && bs && !strcmp(ak, bk) && !strcmp(as, bs);
}

/*
 * Point x->c's credentials at candidate i: the i-th lent one, then (i ==
 * the number lent) j's own when it holds a key and a secret that no level
 * lent already. false when there is no candidate i.
 */
static bool pick(struct s3set *x, size_t i)
{
	size_t n = (size_t)cJSON_GetArraySize(x->lent);
	const cJSON *o = i < n ? cJSON_GetArrayItem(x->lent, (int)i) : i == n ? x->j : NULL;
	const char *ak = jstr(o, "access_key_id"), *sk = jstr(o, "secret_access_key");
	const char *tok = jstr(o, "session_token");
	const cJSON *e;

	if (!ak || !*ak || !sk || !*sk)
		return false;
	if (i == n) {
		cJSON_ArrayForEach(e, x->lent)
		{
			if (same_key(e, o))
				return false; /* tried as a level's */
		}
	}
	x->c.access_key = ak;
	x->c.secret_key = sk;
	x->c.session_token = tok && *tok ? tok : NULL;
	return true;
}

int s3set_from_config(const cJSON *vals, unsigned timeout_ms, struct s3set *x, char *missing,
		      size_t mlen)
{
	size_t i;

	missing[0] = 0;
	for (i = 0; i < ARRAY_SIZE(required); i++) {
		const char *v = jstr(vals, required[i]);

		if (!v || !*v)
			snprintf(missing + strlen(missing), mlen - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", required[i]);
	}
	if (missing[0])
		return -ENODATA;
	x->j = cJSON_CreateObject();
	cJSON_AddStringToObject(x->j, "bucket", jstr(vals, "s3.bucket"));
	cJSON_AddStringToObject(x->j, "region", jstr(vals, "s3.region"));
	if (jstr(vals, "s3.endpoint"))
		cJSON_AddStringToObject(x->j, "endpoint", jstr(vals, "s3.endpoint"));
	cJSON_AddBoolToObject(
	    x->j, "path_style",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vals, "s3.path_style")));
	cJSON_AddStringToObject(x->j, "access_key_id", jstr(vals, "s3.access_key_id"));
	cJSON_AddStringToObject(x->j, "secret_access_key", jstr(vals, "s3.secret_access_key"));
	if (jstr(vals, "s3.session_token"))
		cJSON_AddStringToObject(x->j, "session_token", jstr(vals, "s3.session_token"));
	fill(x, timeout_ms);
	return x->c.bucket && x->c.access_key && x->c.secret_key ? 0 : -ENOMEM;
}

int s3set_open(struct srv *s, enum store_table t, const char *pk, const char *sk, const char *scope,
	       const char *aad, const struct s3set_who *who, unsigned timeout_ms, struct s3set *x)
{
	uint8_t *pt = NULL;
	size_t len = 0;
	int ret = sealed_get(s, t, pk, sk, scope, aad, &pt, &len);

	memset(x, 0, sizeof(*x));
	if (ret)
		return ret;
	x->j = cJSON_ParseWithLength((const char *)pt, len);
	crypto_free(pt, len);
	if (!cJSON_IsObject(x->j) || !jstr(x->j, "bucket")) {
		s3set_free(x);
		return -EBADMSG;
	}
	fill(x, timeout_ms);
	ret = who ? s3set_lend(s, who, x) : 0;
	if (ret)
		s3set_free(x);
	return ret;
}

int s3set_lend(struct srv *s, const struct s3set_who *who, struct s3set *x)
{
	struct target t;
	int ret = 0;

	if (!x->lent && !(x->lent = cJSON_CreateArray()))
		return -ENOMEM;
	/* the owner as they are now: the user's level and team, else the device's team */
	if (who->user_id && *who->user_id && !target_user(s, who->user_id, &t))
		ret = config_s3_lenders(s, &t, who->user_id, x->j, x->lent);
	else if (who->device_id && *who->device_id && !target_device(s, who->device_id, &t))
		ret = config_s3_lenders(s, &t, NULL, x->j, x->lent);
	/* the team the object was written for (the user may have moved since) */
	if (!ret && who->team_id && *who->team_id && !target_node(s, who->team_id, &t))
		ret = config_s3_lenders(s, &t, NULL, x->j, x->lent);
	x->at = 0;
	return ret;
}

const char *s3set_bucket(const struct s3set *x)
{
	return x->c.bucket ? x->c.bucket : "";
}

int s3set_seal(struct srv *s, struct store_batch *b, enum store_table t, const char *pk,
	       const char *sk, const char *scope, const char *aad, const struct s3set *x)
{
	char *plain = cJSON_PrintUnformatted(x->j);
	int ret;

	if (!plain)
		return -ENOMEM;
	ret = sealed_put(s, b, t, pk, sk, scope, aad, plain, strlen(plain));
	crypto_wipe(plain, strlen(plain));
	free(plain);
	return ret;
}

/*
 * The AAD that binds the sealed settings of screenshot object key to their
 * item: "screenshot-s3|" key. Not a key: it is never stored, only checked
 * when the blob is opened. Returns aad.
 */
static const char *shot_s3_aad(char aad[SHOT_AAD_SIZE], const char *key)
{
	snprintf(aad, SHOT_AAD_SIZE, "screenshot-s3|%s", key);
	return aad;
}

int s3set_open_shot(struct srv *s, const char *key, const struct s3set_who *who,
		    unsigned timeout_ms, struct s3set *x)
{
	char aad[SHOT_AAD_SIZE];
	struct key pk;

	if (strlen(key) > STORE_KEY_MAX - 4)
		return -ENAMETOOLONG;
	return s3set_open(s, STORE_T_SCREENSHOTS, key_shot_s3(&pk, key), SK_SHOT_S3, SHOT_S3_SCOPE,
			  shot_s3_aad(aad, key), who, timeout_ms, x);
}

int s3set_seal_shot(struct srv *s, struct store_batch *b, const char *key, const struct s3set *x)
{
	char aad[SHOT_AAD_SIZE];
	struct key pk;

	if (strlen(key) > STORE_KEY_MAX - 4)
		return -ENAMETOOLONG;
	return s3set_seal(s, b, STORE_T_SCREENSHOTS, key_shot_s3(&pk, key), SK_SHOT_S3,
			  SHOT_S3_SCOPE, shot_s3_aad(aad, key), x);
}

/*
 * true when the last failure of c is S3 refusing its credentials (not the
 * request): 403, or a code that says the key, signature or token is bad.
 */
static bool refused(const struct s3_client *c)
{
	static const char *const codes[] = {"InvalidAccessKeyId",   "SignatureDoesNotMatch",
					    "ExpiredToken",	    "InvalidToken",
					    "TokenRefreshRequired", "AccessDenied"};
	const struct s3_error *e = s3_last_error(c);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(codes); i++)
		if (!strcmp(e->code, codes[i]))
			return true;
	return e->http_status == 403;
}

/* One S3 call made with client c (run()). 0 or -errno. */
typedef int (*call_fn)(struct s3_client *c, void *ctx);

/*
 * Make call fn with x's credentials, from the one in use: the next is
 * tried only when S3 refused the last one. x->at is left at the one that
 * answered. 0 or -errno as s3set_delete(), ebuf as it says.
 */
static int run(struct s3set *x, call_fn fn, void *ctx, char *ebuf, size_t elen)
{
	char last[512] = "";
	size_t i, tried = 0;
	int ret;

	ebuf[0] = 0;
	for (i = x->at; pick(x, i); i++) {
		struct s3_client *c = NULL;
		bool again;

		tried++;
		ret = s3_client_new(&x->c, &c);
		if (!ret)
			ret = fn(c, ctx);
		if (ret && c) {
			s3_strerror(s3_last_error(c), ebuf, elen);
			if (s3_last_error(c)->timed_out)
				ret = -ETIMEDOUT;
		} else if (ret) {
			snprintf(ebuf, elen, "S3 client: %s", strerror(-ret));
		}
		again = ret && c && refused(c);
		s3_client_free(c);
		if (!again) {
			x->at = i;
			return ret;
		}
		snprintf(last, sizeof(last), "%s", ebuf);
	}
	x->at = 0;
	if (tried)
		snprintf(ebuf, elen,
			 "S3 bucket '%s' refused all %zu credential(s) held for it (last: %s)",
			 s3set_bucket(x), tried, last);
	else
		snprintf(ebuf, elen, "no config level holds credentials for S3 bucket '%s'",
			 s3set_bucket(x));
	return -EKEYREJECTED;
}

static int call_delete(struct s3_client *c, void *ctx)
{
	return s3_delete(c, ctx);
}

int s3set_delete(struct s3set *x, const char *key, char *ebuf, size_t elen)
{
	return run(x, call_delete, (void *)key, ebuf, elen);
}

struct head_call {
	const char *key;
	bool checksum;
	struct s3_head *hd;
};

static int call_head(struct s3_client *c, void *ctx)
{
	struct head_call *h = ctx;

	return h->checksum ? s3_head_checksum(c, h->key, h->hd) : s3_head(c, h->key, h->hd);
}

int s3set_head(struct s3set *x, const char *key, bool checksum, struct s3_head *hd, char *ebuf,
	       size_t elen)
{
	struct head_call h = {key, checksum, hd};

	return run(x, call_head, &h, ebuf, elen);
}

/* The bytes of a GET: hashed, and written to fd when fd >= 0. */
struct hash_sink {
	EVP_MD_CTX *md;
	int fd;
	const char *key;
	uint64_t max, *len;
};

static int hash_sink(void *ctx, const void *d, size_t n)
{
	struct hash_sink *h = ctx;

	if (EVP_DigestUpdate(h->md, d, n) != 1)
		return -EIO;
	return h->fd >= 0 ? write_all(h->fd, d, n) : 0;
}

/* One GET into h: the digest and the file start again at every try. */
static int call_get(struct s3_client *c, void *ctx)
{
	struct hash_sink *h = ctx;

	*h->len = 0;
	if (EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	if (h->fd >= 0 && (ftruncate(h->fd, 0) || lseek(h->fd, 0, SEEK_SET)))
		return -errno;
	return s3_get_max(c, h->key, h->max, hash_sink, h, h->len);
}

int s3set_get_hashed(struct s3set *x, const char *key, uint64_t max, int *fd, uint64_t *len,
		     char sha256[65], char *ebuf, size_t elen)
{
	struct hash_sink h = {.md = EVP_MD_CTX_new(), .fd = -1, .key = key, .max = max, .len = len};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	int ret = 0;

	ebuf[0] = 0;
	sha256[0] = 0;
	*len = 0;
	if (fd)
		*fd = -1;
	if (!h.md) {
		snprintf(ebuf, elen, "SHA-256: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	if (fd && (h.fd = tmpfile_anon()) < 0) {
		ret = h.fd;
		snprintf(ebuf, elen, "temporary file: %s", strerror(-ret));
		goto out;
	}
	ret = run(x, call_get, &h, ebuf, elen);
	if (!ret && (EVP_DigestFinal_ex(h.md, md, &mdlen) != 1 || mdlen != 32)) {
		snprintf(ebuf, elen, "SHA-256 failed");
		ret = -EIO;
	}
	for (i = 0; !ret && i < 32; i++)
		snprintf(sha256 + 2 * i, 3, "%02x", md[i]);
out:
	EVP_MD_CTX_free(h.md);
	if (ret && h.fd >= 0)
		close(h.fd);
	else if (!ret && fd)
		*fd = h.fd;
	return ret;
}

int s3set_get_tmp(struct s3set *x, const char *key, uint64_t max, int *fd, uint64_t *len,
		  char *ebuf, size_t elen)
{
	char sha256[65];

	return s3set_get_hashed(x, key, max, fd, len, sha256, ebuf, elen);
}

void s3set_free(struct s3set *x)
{
	config_json_free(x->j);
	config_json_free(x->lent);
	memset(x, 0, sizeof(*x));
}
