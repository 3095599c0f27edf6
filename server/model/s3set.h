/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * s3set.h - the S3 settings of stored objects. Written: the effective
 * config's s3.* values (s3set_from_config()), used to presign or upload,
 * and sealed next to the record that names the object (screenshots:
 * model/shots.c, profile pictures: model/avatar.c): {bucket,region,
 * endpoint,path_style} (where the object lives) and the access_key_id,
 * secret_access_key and session_token it was written with (s3set_seal()).
 * Read back (s3set_open(), also retention.c): that location, with first
 * the credentials the config levels of the object's owner lend to it now
 * (model/config.h: config_s3_lenders(): the user's level, then the nodes
 * of the owner's team and of the team recorded with the object, nearest
 * first; only a level that itself names this very location lends), and
 * last the sealed ones. A call tries them in that order and moves to the
 * next only when S3 refuses the one used (403, InvalidAccessKeyId,
 * SignatureDoesNotMatch, an expired token); when every one is refused, or
 * there is none, it fails with -EKEYREJECTED. So a key rotated at its level
 * (a new key set, the old one deleted) serves the objects written with the
 * old one; a level that moved to another bucket leaves its old objects
 * readable with the key that wrote them while that key is valid; and a key
 * is only ever signed for a location its level names or that it was
 * written to. The settings hold secrets: s3set_free() wipes them.
 */
#ifndef ACTLOG_SRV_S3SET_H
#define ACTLOG_SRV_S3SET_H

#include <stdbool.h>
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
	cJSON *lent;	    /* credentials the config levels lend (NULL: none) */
	size_t at;	    /* the candidate in use: lent[0..n), then j's own */
	struct s3_config c; /* points into j and the candidate's strings */
};

/* Whose config levels may lend credentials to an object: user_id's own
 * level and their team's path (else device_id's team's path), then the
 * path of team_id, the team recorded with the object. Each may be NULL or
 * "" (none); a user, device or team gone lends nothing. */
struct s3set_who {
	const char *user_id, *device_id, *team_id;
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
 * whole-request timeout of timeout_ms, and add the credentials the levels
 * of who lend to them (who NULL: none; s3set_lend()). 0, or -errno from
 * sealed_get() (-ENOENT, -EBADMSG, ...), -EBADMSG when the plaintext is not
 * a settings object, -ENOMEM; on failure x is left empty.
 */
int s3set_open(struct srv *s, enum store_table t, const char *pk, const char *sk, const char *scope,
	       const char *aad, const struct s3set_who *who, unsigned timeout_ms, struct s3set *x);

/* s3set_open() of the settings of screenshot object key (see SHOT_S3_SCOPE).
 * -ENAMETOOLONG for a key that cannot be stored. */
int s3set_open_shot(struct srv *s, const char *key, const struct s3set_who *who,
		    unsigned timeout_ms, struct s3set *x);

/*
 * Add to x (opened) the credentials the config levels of who lend to its
 * location now (config_s3_lenders()), before any it holds itself. 0 or
 * -ENOMEM.
 */
int s3set_lend(struct srv *s, const struct s3set_who *who, struct s3set *x);

/* What a client is told of -EKEYREJECTED, with the bucket (s3set_bucket()). */
#define S3SET_NO_CREDS_FMT                                                                         \
	"no usable S3 credentials for bucket '%s': no config level holds any for it, or S3 "       \
	"refuses them"

/* The bucket of x, for messages ("" when none). */
const char *s3set_bucket(const struct s3set *x);

/*
 * The other way: add to batch b the put of settings x (as
 * s3set_from_config() made them: the location and the credentials, never
 * what levels lent) sealed at (t, pk, sk) under scope and aad
 * (sealed_put(); the plaintext is wiped). 0, -ENOMEM, or -errno from
 * sealed_put().
 */
int s3set_seal(struct srv *s, struct store_batch *b, enum store_table t, const char *pk,
	       const char *sk, const char *scope, const char *aad, const struct s3set *x);

/* s3set_seal() of the settings of screenshot object key (see SHOT_S3_SCOPE).
 * -ENAMETOOLONG for a key that cannot be stored. */
int s3set_seal_shot(struct srv *s, struct store_batch *b, const char *key, const struct s3set *x);

/*
 * DELETE object key with settings x, trying its credentials in turn (see
 * above). 0 or -errno (-ENOENT: S3 has no such object, -ETIMEDOUT: the last
 * attempt ran out of time, -EKEYREJECTED: every credential refused, or
 * none held). On failure ebuf holds S3's account of it, or why no request
 * was made (-EKEYREJECTED naming the bucket; settings not usable: -EINVAL;
 * -ENOMEM).
 */
int s3set_delete(struct s3set *x, const char *key, char *ebuf, size_t elen);

/*
 * HEAD object key with settings x (with x-amz-checksum-mode when checksum)
 * into *hd, trying its credentials in turn. 0 or -errno as
 * s3set_delete().
 */
int s3set_head(struct s3set *x, const char *key, bool checksum, struct s3_head *hd, char *ebuf,
	       size_t elen);

/*
 * GET object key with settings x into a new anonymous temporary file
 * (tmpfile_anon()), at most max bytes (s3_get_fd_max()). 0 with *fd (the
 * caller's to close) and *len; or -errno (-ENOENT: S3 has no such object,
 * -E2BIG: it is over max, -ETIMEDOUT: the last attempt ran out of time,
 * -EKEYREJECTED as s3set_delete()) with *fd -1 and ebuf holding S3's
 * account of it or why no request was made. Credentials are tried in turn.
 */
int s3set_get_tmp(struct s3set *x, const char *key, uint64_t max, int *fd, uint64_t *len,
		  char *ebuf, size_t elen);

/*
 * s3set_get_tmp() that also hashes the bytes as they arrive: sha256 (65
 * bytes) gets their lower-case hex SHA-256. With fd NULL the bytes are only
 * hashed (no temporary file). 0, or -errno as s3set_get_tmp() (sha256 "").
 */
int s3set_get_hashed(struct s3set *x, const char *key, uint64_t max, int *fd, uint64_t *len,
		     char sha256[65], char *ebuf, size_t elen);

/* Wipe the secrets and free x->j and x->lent; x is left empty. NULL j is
 * fine. */
void s3set_free(struct s3set *x);

#endif
