/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * avatar.h - profile pictures: recognising an image by its bytes and
 * reading its dimensions, so that the type a client declares is never
 * trusted on its own (avatar_sniff(), pure, exposed for tests), and the
 * picture's rules and data: the checks of an upload, its object in S3, its
 * items and the S3 settings it was written with. Used by the avatar routes
 * (api/avatar.c), which parse the request, authorize it, make one call
 * here and reply; the S3 calls (avatar_put(), avatar_fetch(),
 * avatar_delete()) are made on the outbound pool (need_outbound()).
 *
 * Layout (store/keys.h, table USERS, next to the user item):
 *   pk user id  sk SK_AVATAR     {key,content_type,size,sha256,width,height,updated,by,
 *                                team_id (the team it was written for; whose levels lend
 *                                credentials to it: model/s3set.h)}
 *   pk user id  sk SK_AVATAR_S3  sealed {bucket,region,endpoint,path_style,access_key_id,
 *                                        secret_access_key,session_token}
 *                                scope AVATAR_S3_SCOPE, aad "avatar-s3|"user id"|"key
 *                                (made in avatar.c only): the S3 settings the object was
 *                                written with, so that a later change of bucket or keys
 *                                does not orphan it
 * Both are replaced together in one batch. The previous object is deleted
 * from S3 after the batch commits (best effort: a failure is logged and
 * leaves an unreferenced object, never a reference to a missing one). The
 * settings are opened with the credentials the user's levels lend to the
 * object first (s3set_open()), so a rotated key still reaches it.
 *
 * Errors are negative errno; why (the caller's) says what to answer: a
 * failure the client is told about has msg set (each function lists them),
 * any other error has msg "" and what, the item whose read or write failed
 * (reply_store_err()'s word). S3 failures are logged here (with S3's
 * account of them, never a credential), and so is each change
 * (event=avatar_set, event=avatar_remove).
 */
#ifndef ACTLOG_SRV_AVATAR_H
#define ACTLOG_SRV_AVATAR_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/why.h"

#define AVATAR_MAX_SIZE (1u << 20) /* bytes of one picture */
#define AVATAR_MAX_SIDE 4096u	   /* pixels, width and height */
#define AVATAR_S3_SCOPE "avatars"  /* data-key scope of the sealed settings */
#define AVATAR_ETAG_SIZE 80

struct avatar_info {
	const char *content_type; /* "image/png", "image/jpeg", "image/webp" (static) */
	unsigned width, height;
};

/*
 * Recognise the image in p[0..len): PNG (signature, IHDR first, IEND last),
 * JPEG (SOI, a SOF segment before the scan, EOI last) or WebP (RIFF size
 * equal to the length, a VP8, VP8L or VP8X chunk). Fills *out. 0;
 * -EOPNOTSUPP when the bytes are none of those (or empty); -EBADMSG when the
 * signature is right but the structure is truncated or corrupt. The
 * dimensions are not checked against AVATAR_MAX_SIDE here.
 */
int avatar_sniff(const uint8_t *p, size_t len, struct avatar_info *out);

/* Why a call failed: msg (for the client) or what (see above). */

/*
 * Adds the audit entry of a change of a picture to batch b, the change's
 * own batch, so that both commit together; detail is the entry's detail
 * (never a secret; the callee does not keep it). 0 or -errno (the change
 * then fails with it).
 */
typedef int (*avatar_audit_fn)(struct store_batch *b, const cJSON *detail, void *ctx);

/* A picture avatar_check() passed, ready for avatar_put(). */
struct avatar_new {
	struct avatar_info ai;
	char sha256[65];   /* lower-case hex of its bytes */
	char rnd[ID_SIZE]; /* the random part of its object key */
};

/*
 * Check the picture p[0..len), sent as type declared (one of image/png,
 * image/jpeg, image/webp; compared without case), into *out: at most
 * AVATAR_MAX_SIZE bytes, an image avatar_sniff() knows, of the declared
 * type, at most AVATAR_MAX_SIDE pixels a side. 0; -EFBIG "the picture is
 * over <n> bytes"; -ENODATA "the body is empty: send the image";
 * -EOPNOTSUPP "the body is not a PNG, JPEG or WebP image"; -EBADMSG "the
 * <type> image is truncated or corrupt"; -EMEDIUMTYPE "the body is <type>,
 * not <declared> as declared"; -EDOM "the picture is <w>x<h>; at most ...";
 * -EIO "no digest or randomness". Every error has msg.
 */
int avatar_check(const uint8_t *p, size_t len, const char *declared, struct avatar_new *out,
		 struct model_why *why);

/*
 * Make picture n (bytes p[0..len)) user uid's, for user by: the object
 * "avatars/<uid>/<random>.<ext>" is written with the effective S3 settings
 * of uid in team team_id, then the picture's items (replacing any) and
 * audit(b, {content_type, size, width, height, sha256, replaced}, actx)
 * commit in one batch, if the picture read before the upload is still the
 * current one. Then the replaced object is deleted. On any failure after
 * the upload the new object is deleted. *view (the caller's) gets the
 * picture as the API shows it {user_id, content_type, size, width, height,
 * sha256, etag, updated_at}. 0; -ENODATA "S3 settings incomplete: missing
 * <keys>"; -EINVAL "S3 settings are not usable (endpoint?)"; -ETIMEDOUT "S3
 * did not answer in time; the picture is not stored"; -EREMOTEIO "cannot
 * store the picture in S3"; -EAGAIN "the picture changed meanwhile; send it
 * again"; -errno (what "user": the settings, "avatar": the items).
 */
int avatar_put(struct srv *s, const char *uid, const char *team_id, const char *by,
	       const struct avatar_new *n, const uint8_t *p, size_t len, avatar_audit_fn audit,
	       void *actx, cJSON **view, struct model_why *why);

/*
 * User uid's picture item into *item (the caller's). 0; -ENOENT "this user
 * has no picture"; -errno (what "avatar").
 */
int avatar_item(struct srv *s, const char *uid, cJSON **item, struct model_why *why);

/* A picture that can be served: its item and ETag. */
struct avatar_rec {
	cJSON *item;		     /* the caller's to free */
	char etag[AVATAR_ETAG_SIZE]; /* its sha256, quoted */
};

/*
 * avatar_item() of a picture that can be served: an item with key,
 * content_type, sha256 and a size of 1..AVATAR_MAX_SIZE, and its ETag.
 * 0; -ENOENT "this user has no picture"; -EUCLEAN "the picture's item is
 * incomplete"; -errno (what "avatar"). out->item is set only on success.
 */
int avatar_get(struct srv *s, const char *uid, struct avatar_rec *out, struct model_why *why);

/*
 * The bytes of user uid's picture item (avatar_get()) from S3, with the
 * settings sealed with it, into an anonymous temporary file: they must be
 * the recorded ones (size and sha256), so that an object replaced behind
 * the server's back is not served under the old ETag. 0 with *fd (the
 * caller's to close) and *len; -ENOKEY "cannot open the picture's S3
 * settings"; -ENOENT "the picture is missing in S3"; -EKEYREJECTED "no
 * usable S3 credentials for bucket '<bucket>': ..." (S3SET_NO_CREDS_FMT);
 * -EBADMSG "the picture in S3 differs from the one recorded"; -ETIMEDOUT "S3 did not answer in
 * time"; -EREMOTEIO "cannot read the picture from S3". Every error has msg.
 */
int avatar_fetch(struct srv *s, const char *uid, const cJSON *item, int *fd, uint64_t *len,
		 struct model_why *why);

/*
 * Remove user uid's picture item (avatar_item()) for user by: its object is
 * deleted from S3 first (another S3 failure is logged and the removal goes
 * on), then both items and audit(b, {sha256}, actx) in one batch, if it is
 * still the current picture. 0; -EKEYREJECTED "no usable S3 credentials
 * for bucket '<bucket>': ..." (nothing removed); -EAGAIN "the picture
 * changed meanwhile; try again"; -errno (what "avatar"). A store failure
 * after the S3 DELETE leaves the item without its object (a GET answers
 * that it is missing in S3; a DELETE again removes it).
 */
int avatar_delete(struct srv *s, const char *uid, const cJSON *item, const char *by,
		  avatar_audit_fn audit, void *actx, struct model_why *why);

#endif /* ACTLOG_SRV_AVATAR_H */
