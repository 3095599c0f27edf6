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
	       const char *aad, unsigned timeout_ms, struct s3set *x)
{
	uint8_t *pt = NULL;
	size_t len = 0;
	int ret = sealed_get(s, t, pk, sk, scope, aad, &pt, &len);

	if (ret)
		return ret;
	x->j = cJSON_ParseWithLength((const char *)pt, len);
	crypto_free(pt, len);
	if (!x->j)
		return -EBADMSG;
	fill(x, timeout_ms);
	return 0;
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

int s3set_open_shot(struct srv *s, const char *key, unsigned timeout_ms, struct s3set *x)
{
	char aad[SHOT_AAD_SIZE];
	struct key pk;

	if (strlen(key) > STORE_KEY_MAX - 4)
		return -ENAMETOOLONG;
	return s3set_open(s, STORE_T_SCREENSHOTS, key_shot_s3(&pk, key), SK_SHOT_S3, SHOT_S3_SCOPE,
			  shot_s3_aad(aad, key), timeout_ms, x);
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

int s3set_delete(const struct s3set *x, const char *key, char *ebuf, size_t elen)
{
	struct s3_client *c = NULL;
	int ret = s3_client_new(&x->c, &c);

	ebuf[0] = 0;
	if (!ret)
		ret = s3_delete(c, key);
	if (ret && c) {
		s3_strerror(s3_last_error(c), ebuf, elen);
		if (s3_last_error(c)->timed_out)
			ret = -ETIMEDOUT;
	}
	s3_client_free(c);
	return ret;
}

/* The bytes of a GET: hashed, and written to fd when fd >= 0. */
struct hash_sink {
	EVP_MD_CTX *md;
	int fd;
};

static int hash_sink(void *ctx, const void *d, size_t n)
{
	struct hash_sink *h = ctx;

	if (EVP_DigestUpdate(h->md, d, n) != 1)
		return -EIO;
	return h->fd >= 0 ? write_all(h->fd, d, n) : 0;
}

int s3set_get_hashed(const struct s3set *x, const char *key, uint64_t max, int *fd, uint64_t *len,
		     char sha256[65], char *ebuf, size_t elen)
{
	struct hash_sink h = {.md = EVP_MD_CTX_new(), .fd = -1};
	struct s3_client *c = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	int ret = 0;

	ebuf[0] = 0;
	sha256[0] = 0;
	*len = 0;
	if (fd)
		*fd = -1;
	if (!h.md || EVP_DigestInit_ex(h.md, EVP_sha256(), NULL) != 1) {
		snprintf(ebuf, elen, "SHA-256: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	if (fd && (h.fd = tmpfile_anon()) < 0) {
		ret = h.fd;
		snprintf(ebuf, elen, "temporary file: %s", strerror(-ret));
		goto out;
	}
	ret = s3_client_new(&x->c, &c);
	if (!ret)
		ret = s3_get_max(c, key, max, hash_sink, &h, len);
	if (ret && c) {
		s3_strerror(s3_last_error(c), ebuf, elen);
		if (s3_last_error(c)->timed_out)
			ret = -ETIMEDOUT;
	} else if (ret) {
		snprintf(ebuf, elen, "S3 client: %s", strerror(-ret));
	}
	if (!ret && (EVP_DigestFinal_ex(h.md, md, &mdlen) != 1 || mdlen != 32)) {
		snprintf(ebuf, elen, "SHA-256 failed");
		ret = -EIO;
	}
	for (i = 0; !ret && i < 32; i++)
		snprintf(sha256 + 2 * i, 3, "%02x", md[i]);
out:
	s3_client_free(c);
	EVP_MD_CTX_free(h.md);
	if (ret && h.fd >= 0)
		close(h.fd);
	else if (!ret && fd)
		*fd = h.fd;
	return ret;
}

int s3set_get_tmp(const struct s3set *x, const char *key, uint64_t max, int *fd, uint64_t *len,
		  char *ebuf, size_t elen)
{
	char sha256[65];

	return s3set_get_hashed(x, key, max, fd, len, sha256, ebuf, elen);
}

void s3set_free(struct s3set *x)
{
	static const char *const sec[] = {"secret_access_key", "session_token"};
	cJSON *v;
	size_t i;

	for (i = 0; x->j && i < ARRAY_SIZE(sec); i++) {
		v = cJSON_GetObjectItemCaseSensitive(x->j, sec[i]);
		if (cJSON_IsString(v) && v->valuestring)
			crypto_wipe(v->valuestring, strlen(v->valuestring));
	}
	cJSON_Delete(x->j);
	x->j = NULL;
}
