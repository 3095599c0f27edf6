// SPDX-License-Identifier: BSD-2-Clause
/*
 * shots.c - screenshots: presign, register, the listing and the image
 * (contracts: model/shots.h; layout: store/keys.h, SCREENSHOTS).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "core/metrics.h"
#include "core/thumb.h"
#include "log.h"
#include "model/config.h"
#include "model/device.h"
#include "model/s3set.h"
#include "model/shots.h"
#include "s3.h"
#include "store/keys.h"
#include "util.h"

#define DAY_MS 86400000LL
#define SHA256_B64_SIZE 45 /* base64 of a SHA-256 digest, with its NUL */

/* Pending rows this long past their URL's expiry are dropped at the
 * device's next presign: a device that uploaded but could not register for
 * that long gets 404 and presigns again. */
#define PENDING_GRACE_MS DAY_MS
#define PENDING_SWEEP_MAX 16 /* expired rows dropped per presign */

/* --- helpers --- */

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char ts[RFC3339_LEN];

	cJSON_AddStringToObject(o, k, rfc3339_ms(ms, ts));
}

/* The base64 of the digest whose hex (64 lower-case digits) is hex: the
 * form of S3's x-amz-checksum-sha256. */
static void sha256_b64(const char *hex, char b64[SHA256_B64_SIZE])
{
	unsigned char d[32];

	b64[0] = 0;
	if (!sodium_hex2bin(d, sizeof(d), hex, 64, NULL, NULL, NULL))
		sodium_bin2base64(b64, SHA256_B64_SIZE, d, sizeof(d),
				  sodium_base64_VARIANT_ORIGINAL);
}

/* --- the policy of the shot's user --- */

/*
 * 0 when the policy lets user uid (NULL: the team's) of device p store a
 * shot taken at taken_at: vals, that user's effective config now, has
 * screenshots.enabled and logging.enabled on, and logging.enabled was on
 * at taken_at (config_logging_for()). login names a session user whose
 * policy it is (NULL: the device's owner or team) in the reason. Else
 * -EACCES with the reason in why, counted in the metrics, or -errno (what
 * "device").
 */
static int shots_policy(struct srv *s, const struct principal *p, const char *uid,
			const char *login, const cJSON *vals, int64_t taken_at,
			struct model_why *why)
{
	struct target t;
	bool on = true;
	int ret;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vals, "screenshots.enabled"))) {
		metrics_add(METRIC_SHOTS_REFUSED_SCREENSHOTS_OFF, 1);
		if (login)
			return why_refuse(why, -EACCES, "screenshots are not enabled for user '%s'",
					  login);
		return why_refuse(why, -EACCES, "screenshots are not enabled for this device");
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vals, "logging.enabled"))) {
		metrics_add(METRIC_SHOTS_REFUSED_LOGGING_OFF, 1);
		if (login)
			return why_refuse(why, -EACCES, "logging is off for user '%s'", login);
		return why_refuse(why, -EACCES, "logging is off for this device");
	}
	ret = target_node(s, p->team_id[0] ? p->team_id : ROOT_ID, &t);
	if (ret == -ENOENT)
		ret = target_node(s, ROOT_ID, &t);
	if (!ret)
		ret = config_logging_for(s, &t, uid, taken_at, &on);
	if (ret)
		return why_fail(why, ret, "device");
	if (!on) {
		metrics_add(METRIC_SHOTS_REFUSED_LOGGING_OFF, 1);
		return why_refuse(why, -EACCES, "logging was off when the screenshot was taken");
	}
	return 0;
}

/* --- presign --- */

struct sweep {
	int64_t now;
	size_t n;
	char keys[PENDING_SWEEP_MAX][SHOTS_KEY_SIZE];
};

static int sweep_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct sweep *w = ctx;
	cJSON *j = cJSON_ParseWithLength(val, len);
	int64_t exp = jint(j, "exp", 0);

	(void)pk;
	cJSON_Delete(j);
	if (exp && exp + PENDING_GRACE_MS < w->now && strlen(sk) < SHOTS_KEY_SIZE)
		strcpy(w->keys[w->n++], sk);
	return w->n == PENDING_SWEEP_MAX;
}

/* Add to b the deletes of device did's long-expired pending rows (and
 * their sealed settings). Best effort: a failed read drops nothing. */
static int sweep_pending(struct srv *s, struct store_batch *b, const char *did, int64_t now)
{
	struct sweep *w = calloc(1, sizeof(*w));
	struct key pend, s3pk;
	size_t i;
	int ret = 0;

	if (!w)
		return 0;
	w->now = now;
	key_shot_pending(&pend, did);
	/* keys hold the day: the oldest come first */
	if (store_query(s->st, STORE_T_SCREENSHOTS, pend.s, NULL, NULL, 256, 0, sweep_item, w) < 0)
		w->n = 0;
	for (i = 0; i < w->n && !ret; i++) {
		ret = store_batch_delete(b, STORE_T_SCREENSHOTS, pend.s, w->keys[i], 0);
		if (!ret)
			ret = store_batch_delete(b, STORE_T_SCREENSHOTS,
						 key_shot_s3(&s3pk, w->keys[i]), SK_SHOT_S3, 0);
	}
	if (w->n)
		log_info("screenshots: dropped %zu pending key(s) of device %s never registered",
			 w->n, did);
	free(w);
	return ret;
}

struct shot_type {
	const char *type, *name, *ext;
};
#define SHOT_TYPE(t, n, e) {t, n, e},
static const struct shot_type shot_types[] = {SHOTS_TYPES(SHOT_TYPE)};
#undef SHOT_TYPE

/* The SHOTS_TYPES entry of media type ct; NULL for another. */
static const struct shot_type *type_find(const char *ct)
{
	size_t i;

	for (i = 0; ct && i < ARRAY_SIZE(shot_types); i++)
		if (!strcmp(ct, shot_types[i].type))
			return &shot_types[i];
	return NULL;
}

/* The media type of object key key, by the extension presign gave it (the
 * key was presigned, so the server chose it); image/png for another. */
static const char *type_of_key(const char *key)
{
	const char *dot = strrchr(key, '.');
	size_t i;

	for (i = 0; dot && i < ARRAY_SIZE(shot_types); i++)
		if (!strcmp(dot + 1, shot_types[i].ext))
			return shot_types[i].type;
	return shot_types[0].type;
}

bool shots_type_ok(const char *ct)
{
	return type_find(ct) != NULL;
}

const char *shots_content_type(const cJSON *shot)
{
	const struct shot_type *t = type_find(jstr(shot, "content_type"));

	return (t ? t : &shot_types[0])->type;
}

int shots_presign(struct srv *s, const struct principal *p, const struct shots_presign_req *r,
		  int64_t now, cJSON **out, struct model_why *why)
{
	const struct shot_type *ty = type_find(r->content_type);
	struct s3set x = {0};
	struct s3_client *c = NULL;
	struct store_batch *b = NULL;
	char day[11], rnd[ID_SIZE], key[SHOTS_KEY_SIZE], missing[128] = "";
	char clen[24], csum[SHA256_B64_SIZE];
	struct sigv4_header bind[3];
	struct key pend;
	struct device_policy_for who;
	cJSON *eff = NULL, *vals, *pj = NULL, *h;
	const char *uid;
	char *url = NULL;
	size_t i;
	int ret;

	why_reset(why);
	*out = NULL;
	if (!ty)
		return why_refuse(why, -EINVAL,
				  "content_type must be image/png, image/webp or image/jpeg");
	/* whose shot: the session user's, else the owner's, else the team's */
	ret = device_policy_for(s, p->team_id, p->owner_id, r->user, &who, why);
	if (ret)
		goto out;
	uid = who.uid[0] ? who.uid : NULL;
	ret = config_effective(s, p->team_id, uid, true, &eff);
	if (ret) {
		why_fail(why, ret, "device");
		goto out;
	}
	vals = cJSON_GetObjectItemCaseSensitive(eff, "values");
	ret = shots_policy(s, p, uid, who.kind == DEVICE_POLICY_USER ? who.login : NULL, vals,
			   r->taken_at, why);
	if (ret)
		goto out;
	ret = s3set_from_config(vals, S3_API_TIMEOUT_MS(s), &x, missing, sizeof(missing));
	if (ret == -ENODATA) {
		why_refuse(why, ret, "S3 settings incomplete: missing %s", missing);
		goto out;
	}
	if (ret) {
		ret = why_refuse(why, -ENOMEM, "out of memory");
		goto out;
	}

	key_day(r->taken_at, day);
	if (id_new('x', rnd)) {
		ret = why_refuse(why, -EIO, "no randomness");
		goto out;
	}
	snprintf(key, sizeof(key), "shots/%s/%s/%s/%s.%s", p->id, day, uid ? uid : "team", rnd + 2,
		 ty->ext);
	/* every header the PUT must send is signed into the URL: S3 takes only
	 * a body of this length and digest (it checks x-amz-checksum-sha256) */
	snprintf(clen, sizeof(clen), "%lld", (long long)r->size);
	sha256_b64(r->sha256, csum);
	bind[0] = (struct sigv4_header){"Content-Length", clen};
	bind[1] = (struct sigv4_header){"Content-Type", ty->type};
	bind[2] = (struct sigv4_header){"x-amz-checksum-sha256", csum};
	ret = s3_client_new(&x.c, &c);
	if (!ret)
		ret = s3_presign_headers(c, "PUT", key, SHOTS_PRESIGN_TTL_S, bind, ARRAY_SIZE(bind),
					 &url);
	if (ret) {
		log_warn("screenshots: presign for device %s failed: %s", p->id, strerror(-ret));
		ret = ret == -EINVAL
			  ? why_refuse(why, -EINVAL, "S3 settings are not usable (endpoint?)")
			  : why_refuse(why, -EIO, "cannot presign");
		goto out;
	}

	/* the pending item and the sealed copy of the settings used */
	pj = cJSON_CreateObject();
	cJSON_AddStringToObject(pj, "key", key);
	cJSON_AddNumberToObject(pj, "exp", (double)(now + SHOTS_PRESIGN_TTL_S * 1000LL));
	cJSON_AddNumberToObject(pj, "size", (double)r->size);
	cJSON_AddStringToObject(pj, "sha256", r->sha256);
	cJSON_AddStringToObject(pj, "content_type", ty->type);
	cJSON_AddNumberToObject(pj, "taken_at", (double)r->taken_at);
	cJSON_AddStringToObject(pj, "user_id", uid ? uid : "");
	if (who.kind == DEVICE_POLICY_USER) /* register's refusals name them too */
		cJSON_AddStringToObject(pj, "login", who.login);
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = sweep_pending(s, b, p->id, now);
	if (!ret)
		ret = jput(b, STORE_T_SCREENSHOTS, key_shot_pending(&pend, p->id), key, pj,
			   STORE_IF_ABSENT);
	if (!ret)
		ret = s3set_seal_shot(s, b, key, &x);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret) {
		why_fail(why, ret, "screenshot");
		goto out;
	}

	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "url", url);
	cJSON_AddStringToObject(*out, "method", "PUT");
	h = cJSON_AddObjectToObject(*out, "headers");
	for (i = 0; i < ARRAY_SIZE(bind); i++)
		cJSON_AddStringToObject(h, bind[i].name, bind[i].value);
	cJSON_AddStringToObject(*out, "key", key);
	add_time(*out, "expires_at", now + SHOTS_PRESIGN_TTL_S * 1000LL);
out:
	store_batch_abort(b);
	if (url) {
		crypto_wipe(url, strlen(url));
		free(url);
	}
	s3_client_free(c);
	s3set_free(&x);
	cJSON_Delete(pj);
	cJSON_Delete(eff);
	return ret;
}

/* --- register --- */

int shots_register_check(struct srv *s, const struct principal *p, struct shots_reg *r,
			 char id[ID_SIZE], char business[ID_SIZE], struct model_why *why)
{
	struct key kpk, pend;
	struct target t;
	cJSON *pj = NULL, *ki = NULL, *eff = NULL;
	int ret;

	why_reset(why);
	id[0] = 0;
	business[0] = 0;
	/* registered already: the same answer */
	ret = jget(s, STORE_T_SCREENSHOTS, key_shot_key(&kpk, r->key), SK_SHOT, &ki);
	if (!ret && jstr(ki, "id")) {
		snprintf(id, ID_SIZE, "%s", jstr(ki, "id"));
		goto out;
	}
	ret = jget(s, STORE_T_SCREENSHOTS, key_shot_pending(&pend, p->id), r->key, &pj);
	if (ret == -ENOENT) {
		why_refuse(why, ret, "key was not presigned for this device");
		goto out;
	}
	if (ret) {
		why_fail(why, ret, "screenshot");
		goto out;
	}
	if (strcmp(jstr(pj, "sha256") ? jstr(pj, "sha256") : "", r->sha256) ||
	    jint(pj, "size", -1) != r->size) {
		ret = why_refuse(why, -EINVAL, "size and sha256 differ from the presign request");
		goto out;
	}
	/* the user the presign filed it under (a row of an older server
	 * names none: the owner) */
	snprintf(r->user_id, ID_SIZE, "%s",
		 jstr(pj, "user_id") ? jstr(pj, "user_id") : p->owner_id);
	if (r->user_id[0] && !id_valid(r->user_id, ID_PREFIX_USER))
		r->user_id[0] = 0;
	/* the policy again: it may have changed since the presign */
	ret = config_effective(s, p->team_id, r->user_id[0] ? r->user_id : NULL, false, &eff);
	if (ret) {
		why_fail(why, ret, "device");
		goto out;
	}
	ret = shots_policy(s, p, r->user_id[0] ? r->user_id : NULL, jstr(pj, "login"),
			   cJSON_GetObjectItemCaseSensitive(eff, "values"), r->taken_at, why);
	if (ret)
		goto out;
	/* whose S3: the business of the device's team (gone: the root's) */
	ret = target_node(s, p->team_id[0] ? p->team_id : ROOT_ID, &t);
	if (ret && ret != -ENOENT) {
		why_fail(why, ret, "team");
		goto out;
	}
	snprintf(business, ID_SIZE, "%s", ret ? ROOT_ID : target_business(&t));
	ret = 0;
out:
	cJSON_Delete(eff);
	cJSON_Delete(pj);
	cJSON_Delete(ki);
	return ret;
}

/*
 * 0 when object key of x holds the bytes whose hex SHA-256 is sha: S3's
 * own x-amz-checksum-sha256 in hd (a HEAD asked with checksum mode) when it
 * gave one for the whole object, else the SHA-256 of the object read back
 * (a GET of at most size bytes, hashed as it streams; S3-compatible stores
 * that keep no checksum, and objects written without one). -EBADMSG when
 * the bytes differ, or -errno of the GET with ebuf saying why.
 */
static int object_matches(struct s3set *x, const char *key, const struct s3_head *hd, int64_t size,
			  const char *sha, char *ebuf, size_t elen)
{
	char want[SHA256_B64_SIZE], got[65];
	uint64_t len;
	int ret;

	ebuf[0] = 0;
	if (hd->checksum_sha256[0] && !strchr(hd->checksum_sha256, '-')) {
		sha256_b64(sha, want);
		return strcmp(hd->checksum_sha256, want) ? -EBADMSG : 0;
	}
	ret = s3set_get_hashed(x, key, (uint64_t)size, NULL, &len, got, ebuf, elen);
	if (ret == -E2BIG || ret == -ENOENT) /* replaced or gone since the HEAD */
		return -EBADMSG;
	if (ret)
		return ret;
	return len != (uint64_t)size || strcmp(got, sha) ? -EBADMSG : 0;
}

/* Check object r->key in S3 (shots_register()): 0 or an error with msg. */
static int object_check(struct srv *s, const struct principal *p, const struct shots_reg *r,
			struct model_why *why)
{
	const struct s3set_who who = {r->user_id, p->id, p->team_id};
	struct s3set x = {0};
	struct s3_head hd;
	char ebuf[600];
	int ret;

	/* the object must be in S3, with the announced size */
	ret = s3set_open_shot(s, r->key, &who, S3_API_TIMEOUT_MS(s), &x);
	if (ret) {
		log_err("screenshots: S3 settings of %s: %s", r->key, strerror(-ret));
		ret = why_refuse(why, -ENOKEY, "cannot open the S3 settings of this key");
		goto out;
	}
	ret = s3set_head(&x, r->key, true, &hd, ebuf, sizeof(ebuf));
	if (ret == -ENOENT) {
		why_refuse(why, ret, "the object has not been uploaded");
		goto out;
	}
	if (ret) {
		log_warn("screenshots: HEAD for %s: %s", r->key, ebuf);
		if (ret == -EKEYREJECTED)
			why_refuse(why, ret, S3SET_NO_CREDS_FMT, s3set_bucket(&x));
		else if (ret == -ETIMEDOUT)
			why_refuse(why, ret, "S3 did not answer in time");
		else
			ret = why_refuse(why, -EREMOTEIO, "cannot check the object in S3");
		goto out;
	}
	if (hd.size != (uint64_t)r->size) {
		ret = why_refuse(why, -EINVAL, "the uploaded object has %llu bytes, not %lld",
				 (unsigned long long)hd.size, (long long)r->size);
		goto out;
	}
	/* and with the announced bytes */
	ret = object_matches(&x, r->key, &hd, r->size, r->sha256, ebuf, sizeof(ebuf));
	if (ret == -EBADMSG) {
		log_warn("screenshots: %s of device %s differs from its sha256", r->key, p->id);
		why_refuse(why, ret, "the uploaded object's bytes differ from its sha256");
		goto out;
	}
	if (ret) {
		log_warn("screenshots: GET for %s: %s", r->key, ebuf[0] ? ebuf : strerror(-ret));
		if (ret == -EKEYREJECTED)
			why_refuse(why, ret, S3SET_NO_CREDS_FMT, s3set_bucket(&x));
		else if (ret == -ETIMEDOUT)
			why_refuse(why, ret, "S3 did not answer in time");
		else
			ret = why_refuse(why, -EREMOTEIO, "cannot check the object in S3");
	}
out:
	s3set_free(&x);
	return ret;
}

int shots_register(struct srv *s, const struct principal *p, const struct shots_reg *r,
		   char id[ID_SIZE], struct model_why *why)
{
	struct store_batch *b = NULL;
	struct key kpk, pend, s3pk, lpk, lsk, dpk, dsk;
	const char *kind = r->user_id[0] ? "user" : "dev";
	const char *who = r->user_id[0] ? r->user_id : p->id;
	cJSON *ki = NULL, *shot = NULL, *ref = NULL;
	int ret;

	why_reset(why);
	id[0] = 0;
	ret = object_check(s, p, r, why);
	if (ret)
		return ret;
	if (id_new(SHOTS_ID_PREFIX, id)) {
		id[0] = 0;
		return why_refuse(why, -EIO, "no randomness");
	}
	shot = cJSON_CreateObject();
	cJSON_AddStringToObject(shot, "id", id);
	cJSON_AddStringToObject(shot, "key", r->key);
	cJSON_AddStringToObject(shot, "device_id", p->id);
	cJSON_AddStringToObject(shot, "user_id", r->user_id);
	cJSON_AddStringToObject(shot, "team_id", p->team_id);
	cJSON_AddNumberToObject(shot, "size", (double)r->size);
	cJSON_AddStringToObject(shot, "sha256", r->sha256);
	cJSON_AddStringToObject(shot, "content_type", type_of_key(r->key));
	cJSON_AddNumberToObject(shot, "width", (double)r->width);
	cJSON_AddNumberToObject(shot, "height", (double)r->height);
	cJSON_AddStringToObject(shot, "monitor", r->monitor ? r->monitor : "");
	cJSON_AddNumberToObject(shot, "taken_at", (double)r->taken_at);
	cJSON_AddNumberToObject(shot, "created", (double)now_ms());
	cJSON_AddStringToObject(shot, "s3_pk", key_shot_s3(&s3pk, r->key));
	ref = cJSON_CreateObject();
	cJSON_AddStringToObject(ref, "id", id);

	/* the listing row and its day index (model/retention.c reads it) */
	key_shot_list_pk(&lpk, kind, who, r->taken_at);
	key_shot_list_sk(&lsk, r->taken_at, id);
	key_shot_key(&kpk, r->key);
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = jput(b, STORE_T_SCREENSHOTS, kpk.s, SK_SHOT, ref, STORE_IF_ABSENT);
	if (!ret)
		ret = jput(b, STORE_T_SCREENSHOTS, id, SK_SHOT, shot, STORE_IF_ABSENT);
	if (!ret)
		ret = jput(b, STORE_T_SCREENSHOTS, lpk.s, lsk.s, ref, 0);
	if (!ret)
		ret = store_batch_put(b, STORE_T_SCREENSHOTS,
				      key_days_pk(&dpk, STORE_T_SCREENSHOTS, lpk.s),
				      key_days_sk(&dsk, STORE_T_SCREENSHOTS, lpk.s), "{}", 2, 0);
	if (!ret)
		ret = store_batch_delete(b, STORE_T_SCREENSHOTS, key_shot_pending(&pend, p->id),
					 r->key, 0);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret == -EEXIST) { /* a concurrent register of the same key won */
		if (!jget(s, STORE_T_SCREENSHOTS, kpk.s, SK_SHOT, &ki) && jstr(ki, "id")) {
			snprintf(id, ID_SIZE, "%s", jstr(ki, "id"));
			ret = 0;
		}
	}
	if (ret) {
		id[0] = 0;
		why_fail(why, ret, "screenshot");
	}
	store_batch_abort(b);
	cJSON_Delete(ki);
	cJSON_Delete(shot);
	cJSON_Delete(ref);
	return ret;
}

/* --- who may read --- */

/*
 * 0 when p may read the screenshots of user t->user_id (team path in t):
 * through screenshot.read, or as that user when screenshots.employee_view
 * is on in their effective config. -EACCES or -errno.
 */
static int may_read(struct srv *s, const struct principal *p, const struct target *t)
{
	cJSON *eff = NULL;
	int ret;

	if (!authorize(p, PERM_SCREENSHOT_READ, t))
		return 0;
	if (!t->user_id[0] || strcmp(t->user_id, p->id) || authorize(p, PERM_USER_READ, t))
		return -EACCES;
	ret = config_effective(s, p->team_id[0] ? p->team_id : NULL, p->id, false, &eff);
	if (ret)
		return ret;
	ret = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		  cJSON_GetObjectItemCaseSensitive(eff, "values"), "screenshots.employee_view"))
		  ? 0
		  : -EACCES;
	cJSON_Delete(eff);
	return ret;
}

/* The API view of shot item sh. The caller's. */
static cJSON *shot_view(const cJSON *sh)
{
	cJSON *o = cJSON_CreateObject();
	const char *u = jstr(sh, "user_id"), *m = jstr(sh, "monitor");
	const struct shot_type *ty = type_find(shots_content_type(sh));

	cJSON_AddStringToObject(o, "id", jstr(sh, "id") ? jstr(sh, "id") : "");
	cJSON_AddStringToObject(o, "device_id", jstr(sh, "device_id") ? jstr(sh, "device_id") : "");
	if (u && *u)
		cJSON_AddStringToObject(o, "user_id", u);
	else
		cJSON_AddNullToObject(o, "user_id");
	cJSON_AddStringToObject(o, "key", jstr(sh, "key") ? jstr(sh, "key") : "");
	cJSON_AddNumberToObject(o, "size", (double)jint(sh, "size", 0));
	cJSON_AddStringToObject(o, "sha256", jstr(sh, "sha256") ? jstr(sh, "sha256") : "");
	cJSON_AddStringToObject(o, "content_type", ty->type);
	cJSON_AddStringToObject(o, "format", ty->name);
	cJSON_AddNumberToObject(o, "width", (double)jint(sh, "width", 0));
	cJSON_AddNumberToObject(o, "height", (double)jint(sh, "height", 0));
	if (m && *m)
		cJSON_AddStringToObject(o, "monitor", m);
	else
		cJSON_AddNullToObject(o, "monitor");
	add_time(o, "taken_at", jint(sh, "taken_at", 0));
	add_time(o, "created", jint(sh, "created", 0));
	return o;
}

/* --- the listing --- */

struct list_ctx {
	struct srv *s;
	cJSON *arr;
	size_t n;
	bool truncated;
	int err;
};

static int list_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct list_ctx *c = ctx;
	cJSON *r = cJSON_ParseWithLength(val, len), *sh = NULL;
	const char *id = jstr(r, "id");

	(void)pk;
	(void)sk;
	if (c->n >= LIST_MAX) {
		c->truncated = true;
		cJSON_Delete(r);
		return 1;
	}
	if (id && !jget(c->s, STORE_T_SCREENSHOTS, id, SK_SHOT, &sh)) {
		cJSON_AddItemToArray(c->arr, shot_view(sh));
		c->n++;
	}
	cJSON_Delete(sh);
	cJSON_Delete(r);
	return 0;
}

int shots_list(struct srv *s, const struct principal *p, const struct target *t, const char *uid,
	       const char *did, int64_t from, int64_t to, cJSON **out, struct model_why *why)
{
	struct list_ctx c = {.s = s};
	struct key pk, lo, hi;
	int64_t d;
	int ret;

	why_reset(why);
	*out = NULL;
	ret = uid ? may_read(s, p, t) : authorize(p, PERM_SCREENSHOT_READ, t);
	if (ret == -EACCES)
		return why_refuse(why, ret, "forbidden");
	if (ret)
		return why_fail(why, ret, "user");
	*out = cJSON_CreateObject();
	c.arr = cJSON_AddArrayToObject(*out, "screenshots");
	key_time(&lo, from);
	key_time_end(&hi, to - 1);
	for (d = from / DAY_MS * DAY_MS; d < to && !c.truncated && !c.err; d += DAY_MS) {
		key_shot_list_pk(&pk, uid ? "user" : "dev", uid ? uid : did, d);
		ret =
		    store_query(s->st, STORE_T_SCREENSHOTS, pk.s, lo.s, hi.s, 0, 0, list_item, &c);
		if (ret < 0 && !c.err)
			c.err = ret;
	}
	if (c.err) {
		cJSON_Delete(*out);
		*out = NULL;
		return why_fail(why, c.err, "screenshots");
	}
	cJSON_AddBoolToObject(*out, "truncated", c.truncated);
	return 0;
}

/* --- the image --- */

int shots_image_check(struct srv *s, const struct principal *p, const char *id,
		      struct shots_image *v, struct model_why *why)
{
	struct target t;
	const char *uid;
	cJSON *sh = NULL;
	int ret;

	why_reset(why);
	memset(v, 0, sizeof(*v));
	if (!id_valid(id, SHOTS_ID_PREFIX) ||
	    (ret = jget(s, STORE_T_SCREENSHOTS, id, SK_SHOT, &sh)) == -ENOENT)
		return why_refuse(why, -ENOENT, "screenshot not found");
	if (ret)
		return why_fail(why, ret, "screenshot");
	uid = jstr(sh, "user_id");
	if (uid && *uid)
		ret = target_user(s, uid, &t);
	else
		ret = target_device(s, jstr(sh, "device_id") ? jstr(sh, "device_id") : "", &t);
	if (ret == -ENOENT) /* user or device gone: the team decides */
		ret = target_node(s, jstr(sh, "team_id") ? jstr(sh, "team_id") : "", &t);
	if (ret) {
		why_fail(why, ret, "screenshot");
		goto out;
	}
	snprintf(v->node, sizeof(v->node), "%s", t.depth ? t.path[t.depth - 1] : ROOT_ID);
	ret = t.user_id[0] ? may_read(s, p, &t) : authorize(p, PERM_SCREENSHOT_READ, &t);
	if (ret) {
		v->denied = true;
		if (ret == -EACCES)
			why_refuse(why, ret, "forbidden");
		else
			why_fail(why, ret, "screenshot");
		goto out;
	}
	if (!jstr(sh, "key") || !jstr(sh, "s3_pk") || !jstr(sh, "sha256")) {
		ret = why_refuse(why, -EUCLEAN, "screenshot item is incomplete");
		goto out;
	}
	snprintf(v->business, sizeof(v->business), "%s", target_business(&t));
	v->shot = sh;
	sh = NULL;
out:
	cJSON_Delete(sh);
	return ret;
}

int shots_image_fetch(struct srv *s, const cJSON *shot, const char *id, int *fd, uint64_t *len,
		      struct model_why *why)
{
	const char *key = jstr(shot, "key"), *sha = jstr(shot, "sha256");
	const struct s3set_who who = {jstr(shot, "user_id"), jstr(shot, "device_id"),
				      jstr(shot, "team_id")};
	int64_t size = jint(shot, "size", 0);
	struct s3set x = {0};
	char ebuf[600], got[65];
	uint64_t max;
	int ret;

	why_reset(why);
	*fd = -1;
	*len = 0;
	ret = s3set_open_shot(s, key, &who, S3_API_IMAGE_FACTOR * S3_API_TIMEOUT_MS(s), &x);
	if (ret) {
		log_err("screenshots: S3 settings of %s: %s", id, strerror(-ret));
		return why_refuse(why, -ENOKEY, "cannot open the screenshot's S3 settings");
	}
	max = size > 0 && size <= SHOTS_MAX_SIZE ? (uint64_t)size : SHOTS_MAX_SIZE;
	ret = s3set_get_hashed(&x, key, max, fd, len, got, ebuf, sizeof(ebuf));
	if (!ret && ((int64_t)*len != jint(shot, "size", -1) || strcmp(got, sha))) {
		log_warn("screenshots: %s: the object in S3 (%llu bytes, sha256 %s) is not the "
			 "one registered",
			 id, (unsigned long long)*len, got);
		close(*fd);
		*fd = -1;
		ret = why_refuse(why, -EBADMSG,
				 "the screenshot in S3 differs from the one registered");
	} else if (ret) {
		log_warn("screenshots: GET %s: %s", id, ebuf);
		if (ret == -E2BIG)
			why_refuse(why, ret,
				   "the screenshot object in S3 is larger than registered");
		else if (ret == -ETIMEDOUT)
			why_refuse(why, ret, "S3 did not answer in time");
		else if (ret == -ENOENT)
			why_refuse(why, ret, "screenshot object not found in S3");
		else if (ret == -EKEYREJECTED)
			why_refuse(why, ret, S3SET_NO_CREDS_FMT, s3set_bucket(&x));
		else
			ret = why_refuse(why, -EREMOTEIO, "cannot read the screenshot from S3");
	}
	s3set_free(&x);
	return ret;
}

int shots_thumb_check(const cJSON *shot, struct model_why *why)
{
	const char *ct = jstr(shot, "content_type");

	why_reset(why);
	if (ct && !shots_type_ok(ct))
		return why_refuse(why, -EPROTONOSUPPORT,
				  "thumbnails are made of PNG, WebP and JPEG screenshots only");
	return 0;
}

int shots_thumb_fetch(struct srv *s, const cJSON *shot, const char *id, uint8_t **out, size_t *len,
		      struct model_why *why)
{
	const char *ct = shots_content_type(shot);
	enum thumb_format f;
	uint64_t size = 0;
	void *src;
	int fd, ret;

	*out = NULL;
	*len = 0;
	ret = shots_thumb_check(shot, why);
	if (!ret && thumb_format_of(ct, &f))
		ret = why_refuse(why, -EPROTONOSUPPORT,
				 "thumbnails are made of PNG, WebP and JPEG screenshots only");
	if (ret)
		return ret;
	ret = shots_image_fetch(s, shot, id, &fd, &size, why);
	if (ret)
		return ret;
	/* the file holds at most the registered size (<= SHOTS_MAX_SIZE) */
	src = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (src == MAP_FAILED && !size)
		return why_refuse(why, -EINVAL, "the screenshot does not decode as %s", ct);
	if (src == MAP_FAILED)
		return why_refuse(why, -ENOMEM, "out of memory");
	ret = thumb_make(f, src, size, out, len, NULL, NULL);
	munmap(src, size);
	if (!ret || ret == -EFBIG || ret == -EINVAL)
		metrics_add(ret ? METRIC_SHOT_THUMBS_REFUSED : METRIC_SHOT_THUMBS_OK, 1);
	if (ret == -EFBIG)
		why_refuse(why, ret,
			   "the screenshot is larger than thumbnails are made of (%u pixels a "
			   "side, %u Mpx)",
			   THUMB_SRC_DIM_MAX, THUMB_SRC_PIXELS_MAX >> 20);
	else if (ret == -EINVAL)
		why_refuse(why, ret, "the screenshot does not decode as %s", ct);
	else if (ret == -ENOMEM)
		why_refuse(why, ret, "out of memory");
	else if (ret)
		ret = why_refuse(why, -EIO, "cannot encode the thumbnail");
	return ret;
}
