/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shots.h - screenshots: a device asks for a presigned PUT URL, uploads
 * the PNG straight to S3 and registers it; readers list them and view the
 * image through the server. The rules (who may read, the pending keys and
 * their sweep, the checks of an uploaded object against what the device
 * announced) and every read and write of SCREENSHOTS (layout: store/keys.h)
 * are here; the routes (api/shots.c) parse, authorize, make one call and
 * reply. See docs/API.md (Screenshots).
 *
 * A presign writes a pending item (SCREENSHOTS "pending|<device>", sk the
 * object key) and a sealed copy of the S3 settings the URL was signed with
 * (model/s3set.h: s3set_seal_shot()); a register checks the object in S3
 * with that copy and writes the shot, its "key|" item (a second register
 * of the key gets the same id), its listing row and its day index, and
 * deletes the pending item. The S3 credentials are opened only to presign
 * (from the effective config) and to check or fetch an object (those the
 * owner's levels lend to its place now, then the shot's sealed copy:
 * model/s3set.h); they are never logged or returned. The calls that
 * reach S3 (shots_register(), shots_image_fetch(), shots_thumb_fetch())
 * are made on the outbound pool (need_outbound()).
 *
 * Errors are negative errno; why (the caller's) says what to answer: a
 * failure the client is told about has msg set (each function lists them,
 * with what they mean), any other error has msg "" and what, the item
 * whose read or write failed (reply_store_err()'s word). S3 failures and
 * dropped pending keys are logged here (with S3's account of a failure,
 * never a credential).
 */
#ifndef ACTLOG_MODEL_SHOTS_H
#define ACTLOG_MODEL_SHOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/why.h"

#define SHOTS_MAX_SIZE (32u << 20)		/* bytes of one screenshot */
#define SHOTS_PRESIGN_TTL_S 600			/* a presigned URL's life */
#define SHOTS_RANGE_MAX_MS (400LL * 86400000LL) /* a listing's from..to */
#define SHOTS_KEY_SIZE 128			/* an object key, with its NUL */
#define SHOTS_MONITOR_MAX 64			/* bytes of a monitor's name */
#define SHOTS_DIM_MAX 65535			/* pixels, width and height */
#define SHOTS_ID_PREFIX 's'			/* shot ids: "s_" + 16 hex digits */

/* Why a call failed: msg (for the client) or what (see above). */

/* The media types a screenshot may have: X(media type, format name, the
 * extension of its object key). A shot registered before formats existed
 * has none stored: it is image/png. */
#define SHOTS_TYPES(X)                                                                             \
	X("image/png", "png", "png")                                                               \
	X("image/webp", "webp", "webp")                                                            \
	X("image/jpeg", "jpeg", "jpg")

/* true when ct is one of SHOTS_TYPES. Pure. */
bool shots_type_ok(const char *ct);

/* The media type of shot item shot: its "content_type", image/png when it
 * has none (or one the server no longer takes). Pure; the string is
 * static. */
const char *shots_content_type(const cJSON *shot);

/* --- POST /api/v1/screenshots/presign --- */

/* What a device asks to upload (checked by the route: sha256 64 lower-case
 * hex digits, size 1..SHOTS_MAX_SIZE, taken_at ts_accepted(), content_type
 * shots_type_ok(), user NULL or device_login_ok()). */
struct shots_presign_req {
	const char *sha256, *content_type;
	int64_t size, taken_at;
	const char *user; /* the session user's login at capture time, or NULL */
};

/*
 * A presigned PUT for device p at time now, filed under the user
 * device_policy_for() names for r->user (the team user of that login, else
 * the device's owner, else nobody: the team's), whose effective config
 * decides: the object key "shots/<device>/<day of taken_at>/<user id, or
 * "team">/<random>.<ext>" (ext: r->content_type's in SHOTS_TYPES), a URL
 * valid SHOTS_PRESIGN_TTL_S seconds that binds Content-Length, Content-Type
 * r->content_type (the S3 object's) and x-amz-checksum-sha256 (S3 takes
 * only these bytes), the pending item (with the content type and the user;
 * register stores both with the shot) and the sealed settings, in one batch
 * with the deletes of at most 16 of the device's pending items a day past
 * their URL's expiry. *out (the caller's): {url, method, headers, key,
 * expires_at}. -EINVAL "content_type must be image/png, image/webp or
 * image/jpeg" for another type. Refused by the policy of that user (none:
 * the team's), each refusal counted in the metrics
 * (actlog_server_screenshots_refused_total): -EACCES "screenshots are not
 * enabled for this device" (or "for user '<login>'" when the session
 * user's policy refused: screenshots.enabled off now), "logging is off for
 * this device" (or "for user '<login>'": logging.enabled off now) or "logging was off
 * when the screenshot was taken" (off at taken_at: model/config.h,
 * config_logging_for()). Else 0; -ENODATA "S3 settings incomplete: missing <keys>"; -EINVAL "S3
 * settings are not usable (endpoint?)"; -ENOMEM "out of memory"; -EIO "no randomness" or "cannot
 * presign"; -errno (what "device": the config, "screenshot": the batch).
 */
int shots_presign(struct srv *s, const struct principal *p, const struct shots_presign_req *r,
		  int64_t now, cJSON **out, struct model_why *why);

/* --- POST /api/v1/screenshots --- */

/* What a device registers (checked by the route: key 1..SHOTS_KEY_SIZE - 1
 * bytes, sha256 as for presign, width and height 1..SHOTS_DIM_MAX,
 * monitor NULL or 1..SHOTS_MONITOR_MAX bytes). */
struct shots_reg {
	const char *key, *sha256, *monitor;
	int64_t size, width, height, taken_at;
	/* set by shots_register_check(): the user the presign filed the shot
	 * under ("": nobody, the device's) */
	char user_id[ID_SIZE];
};

/*
 * Before S3: a key already registered gives its shot's id (0, id set: the
 * answer); else the key must be pending for device p with the same size
 * and sha256, and business gets whose S3 checks it (the business of the
 * device's team; a team gone: ROOT_ID) (0, id "", r->user_id the pending
 * item's user, whose policy is checked). -ENOENT "key was not
 * presigned for this device"; -EINVAL "size and sha256 differ from the
 * presign request"; -EACCES the policy's refusals of shots_presign(),
 * checked again (the policy may have changed since the presign), naming
 * the session user when the presign did (its pending item keeps the
 * login); -errno
 * (what "screenshot", "team" or "device").
 */
int shots_register_check(struct srv *s, const struct principal *p, struct shots_reg *r,
			 char id[ID_SIZE], char business[ID_SIZE], struct model_why *why);

/*
 * On the outbound pool: the object must be in S3 with r's size (a HEAD
 * with the settings sealed at presign) and r's bytes (S3's own SHA-256
 * checksum when it gives one for the whole object, else the object read
 * back and hashed, at most r->size bytes); then the shot, its key item,
 * listing row and day index are written and the pending item deleted, in
 * one batch. 0 and id (also when a concurrent register of the key won:
 * its id); -ENOKEY "cannot open the S3 settings of this key"; -EKEYREJECTED
 * "no usable S3 credentials for bucket '<bucket>': ..." (S3SET_NO_CREDS_FMT);
 * -ENOENT "the object has not been uploaded"; -EINVAL "the uploaded object has <n>
 * bytes, not <size>"; -EBADMSG "the uploaded object's bytes differ from its
 * sha256"; -ETIMEDOUT "S3 did not answer in time"; -EREMOTEIO "cannot check
 * the object in S3"; -EIO "no randomness"; -errno (what "screenshot").
 */
int shots_register(struct srv *s, const struct principal *p, const struct shots_reg *r,
		   char id[ID_SIZE], struct model_why *why);

/* --- GET /api/v1/screenshots --- */

/*
 * The screenshots of user uid or device did (exactly one; t its target)
 * taken in [from, to), oldest first, at most LIST_MAX, if p may read them:
 * a user's through screenshot.read or, as that user, when their effective
 * screenshots.employee_view is on; a device's through screenshot.read.
 * *out (the caller's) {screenshots: [...], truncated}. 0; -EACCES
 * "forbidden"; -errno (what "user": the config read of the decision,
 * "screenshots": the listing).
 */
int shots_list(struct srv *s, const struct principal *p, const struct target *t, const char *uid,
	       const char *did, int64_t from, int64_t to, cJSON **out, struct model_why *why);

/* --- GET /api/v1/screenshots/{id}/image --- */

/* A shot p may view, found by shots_image_check(). */
struct shots_image {
	cJSON *shot;		/* its item: the caller's to free */
	char node[ID_SIZE];	/* the node its view's audit entries name */
	char business[ID_SIZE]; /* whose S3 serves it (need_outbound()) */
	bool denied;		/* the call failed at the read decision */
};

/*
 * Shot id, if p may view it: the rule of shots_list() for its user (its
 * device's when it has none; a user or device gone: its team decides).
 * 0 and *v; -ENOENT "screenshot not found" (also for a malformed id);
 * -EACCES "forbidden"; -EUCLEAN "screenshot item is incomplete"; -errno
 * (what "screenshot"). v->denied is set (with v->node) when the failure is
 * the decision (-EACCES, or a read behind it): the view is then refused.
 * v->shot is set only on success.
 */
int shots_image_check(struct srv *s, const struct principal *p, const char *id,
		      struct shots_image *v, struct model_why *why);

/*
 * On the outbound pool: GET the object of shot (an item shots_image_check()
 * passed; id names it in the log) into an anonymous temporary file, at most
 * its registered size, hashed on the way: an object that is not the
 * registered one (size or sha256) is not served. 0 with *fd (the caller's
 * to close) and *len; -ENOKEY "cannot open the screenshot's S3 settings";
 * -EBADMSG "the screenshot in S3 differs from the one registered";
 * -E2BIG "the screenshot object in S3 is larger than registered"; -ENOENT
 * "screenshot object not found in S3"; -EKEYREJECTED "no usable S3
 * credentials for bucket '<bucket>': ..." (S3SET_NO_CREDS_FMT); -ETIMEDOUT
 * "S3 did not answer in time"; -EREMOTEIO "cannot read the screenshot from S3". Every error has
 * msg.
 */
int shots_image_fetch(struct srv *s, const cJSON *shot, const char *id, int *fd, uint64_t *len,
		      struct model_why *why);

/* --- GET /api/v1/screenshots/{id}/thumb --- */

/*
 * Whether a thumbnail can be made of shot (an item shots_image_check()
 * passed): 0 when its stored media type is one of SHOTS_TYPES (none
 * stored: image/png); -EPROTONOSUPPORT "thumbnails are made of PNG, WebP
 * and JPEG screenshots only" for any other. Pure.
 */
int shots_thumb_check(const cJSON *shot, struct model_why *why);

/*
 * On the outbound pool: the object of shot, fetched and checked as by
 * shots_image_fetch() (the same call), made into a thumbnail
 * (core/thumb.h: a JPEG of at most THUMB_MAX_SIDE pixels a side). 0 with
 * *out (malloc'd, the caller's to free) and *len; the errors of
 * shots_image_fetch(); -EPROTONOSUPPORT as shots_thumb_check(); -EFBIG
 * "the screenshot is larger than thumbnails are made of (16384 pixels a
 * side, 64 Mpx)"; -EINVAL "the screenshot does not decode as <type>";
 * -ENOMEM "out of memory"; -EIO "cannot encode the thumbnail". Every
 * error has msg.
 */
int shots_thumb_fetch(struct srv *s, const cJSON *shot, const char *id, uint8_t **out, size_t *len,
		      struct model_why *why);

#endif /* ACTLOG_MODEL_SHOTS_H */
