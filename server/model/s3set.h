/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * s3set.h - the S3 settings an object was written with, as the server keeps
 * them: a JSON object {bucket,region,endpoint,path_style,access_key_id,
 * secret_access_key,session_token} taken from the effective config's s3.*
 * values, sealed next to the record that names the object (screenshots:
 * model/shots.c, profile pictures: model/avatar.c) and opened again to read or
 * delete the object (also retention.c), so that a later change of bucket or
 * keys does not orphan it. The settings hold secrets: s3set_free() wipes them.
 */
#ifndef ACTLOG_SRV_S3SET_H
#define ACTLOG_SRV_S3SET_H

#include <stddef.h>
#include <stdint.h>

#include "s3.h"
#include "core/srv.h"

/* Where the settings of screenshot object key are sealed (s3set_seal_shot(),
 * s3set_open_shot()): (SCREENSHOTS, key_shot_s3(key), SK_SHOT_S3), scope
 * SHOT_S3_SCOPE, aad "screenshot-s3|"key (made in s3set.c only). */
#define SHOT_S3_SCOPE "screenshots"

struct s3set {
	cJSON *j;	    /* the settings object (owns the strings) */
	struct s3_config c; /* points into j */
};

/*
 * Build *x from vals, the "values" of an effective config read with secrets,
 * with a whole-request timeout of timeout_ms per attempt (3 attempts; connect
 * within S3_API_CONNECT_MS, or timeout_ms when shorter). 0; -ENODATA when s3.bucket,
 * s3.region, s3.access_key_id or s3.secret_access_key is absent or empty,
 * with missing naming them ("a, b"); -ENOMEM. On failure x->j may be set:
 * s3set_free() it either way.
 */
int s3set_from_config(const cJSON *vals, unsigned timeout_ms, struct s3set *x, char *missing,
		      size_t mlen);

/*
 * Open the settings sealed at (t, pk, sk) under scope and aad into *x, with a
 * whole-request timeout of timeout_ms. 0, or -errno from sealed_get()
 * (-ENOENT, -EBADMSG, ...) or -EBADMSG when the plaintext is not JSON; on
 * failure x is left empty.
 */
int s3set_open(struct srv *s, enum store_table t, const char *pk, const char *sk, const char *scope,
	       const char *aad, unsigned timeout_ms, struct s3set *x);

/* s3set_open() of the settings of screenshot object key (see SHOT_S3_SCOPE).
 * -ENAMETOOLONG for a key that cannot be stored. */
int s3set_open_shot(struct srv *s, const char *key, unsigned timeout_ms, struct s3set *x);

/*
 * The other way: add to batch b the put of settings x sealed at (t, pk,
 * sk) under scope and aad (sealed_put(); the plaintext is wiped). 0,
 * -ENOMEM, or -errno from sealed_put().
 */
int s3set_seal(struct srv *s, struct store_batch *b, enum store_table t, const char *pk,
	       const char *sk, const char *scope, const char *aad, const struct s3set *x);

/* s3set_seal() of the settings of screenshot object key (see SHOT_S3_SCOPE).
 * -ENAMETOOLONG for a key that cannot be stored. */
int s3set_seal_shot(struct srv *s, struct store_batch *b, const char *key, const struct s3set *x);

/*
 * DELETE object key with settings x. 0 or -errno (-ENOENT: S3 has no such
 * object, -ETIMEDOUT: the last attempt ran out of time). On failure ebuf holds S3's account of it,
 * or is empty when no request was made (settings not usable: -EINVAL, or -ENOMEM).
 */
int s3set_delete(const struct s3set *x, const char *key, char *ebuf, size_t elen);

/*
 * GET object key with settings x into a new anonymous temporary file
 * (tmpfile_anon()), at most max bytes (s3_get_fd_max()). 0 with *fd (the
 * caller's to close) and *len; or -errno (-ENOENT: S3 has no such object,
 * -E2BIG: it is over max, -ETIMEDOUT: the last attempt ran out of time) with *fd -1 and ebuf
 * holding S3's account of it or why no request was made.
 */
int s3set_get_tmp(const struct s3set *x, const char *key, uint64_t max, int *fd, uint64_t *len,
		  char *ebuf, size_t elen);

/*
 * s3set_get_tmp() that also hashes the bytes as they arrive: sha256 (65
 * bytes) gets their lower-case hex SHA-256. With fd NULL the bytes are only
 * hashed (no temporary file). 0, or -errno as s3set_get_tmp() (sha256 "").
 */
int s3set_get_hashed(const struct s3set *x, const char *key, uint64_t max, int *fd, uint64_t *len,
		     char sha256[65], char *ebuf, size_t elen);

/* Wipe the secrets and free x->j; x is left empty. NULL j is fine. */
void s3set_free(struct s3set *x);

#endif
