// SPDX-License-Identifier: BSD-2-Clause
/*
 * api_shots.c - screenshots: a device asks for a presigned PUT URL, uploads
 * the PNG straight to S3, then registers it; users with screenshot.read
 * list them and view the image through the server (which GETs it from S3
 * and writes a "screenshot.view" audit entry, refusals included). See
 * docs/API.md (Screenshots).
 *
 * Layout (table SCREENSHOTS):
 *   pk "pending|"device id  sk key   {key,exp,size,sha256,taken_at}  (presigned, not registered)
 *   pk "s3|"key             sk "s3"  sealed {bucket,region,endpoint,path_style,access_key_id,
 *                                            secret_access_key,session_token}
 *                                    scope "screenshots", aad "screenshot-s3|"key: the S3
 *                                    settings the object was presigned (written) with
 *   pk "key|"key            sk "shot" {id}                      (idempotent register)
 *   pk shot id              sk "shot" {id,key,device_id,user_id,team_id,size,sha256,width,
 *                                      height,monitor,taken_at,created,s3_pk,config_source}
 *   pk "user|"uid"|"day     sk "%013lld|"id  {id}               (listing; user known)
 *   pk "dev|"did"|"day      sk "%013lld|"id  {id}               (listing; no user)
 *   pk "days|user|"uid / "days|dev|"did  sk day  {}           (days with listing rows;
 *                                                              read by retention.c)
 * The S3 credentials are opened only to presign (from the effective config)
 * and to view (from the shot's sealed copy); never logged or returned.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "model/config.h"
#include "core/crypto.h"
#include "log.h"
#include "s3.h"
#include "model/s3set.h"
#include "api/api.h"
#include "core/srv.h"
#include "util.h"

#define SHOT_MAX_SIZE (32u << 20)
#define PRESIGN_TTL_S 600
#define DAY_MS 86400000LL
#define RANGE_MAX_MS (400LL * DAY_MS)
#define SHOT_PREFIX_ID 's'
#define KEY_SIZE 128
#define MONITOR_MAX 64
#define DIM_MAX 65535
#define SHA256_B64_SIZE 45 /* base64 of a SHA-256 digest, with its NUL */

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

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char ts[RFC3339_LEN];

	cJSON_AddStringToObject(o, k, rfc3339_ms(ms, ts));
}

/* The base64 of the digest whose hex (hex64()) is hex: the form of S3's
 * x-amz-checksum-sha256. */
static void sha256_b64(const char *hex, char b64[SHA256_B64_SIZE])
{
	unsigned char d[32];

	b64[0] = 0;
	if (!sodium_hex2bin(d, sizeof(d), hex, 64, NULL, NULL, NULL))
		sodium_bin2base64(b64, SHA256_B64_SIZE, d, sizeof(d),
				  sodium_base64_VARIANT_ORIGINAL);
}

/* --- POST /api/v1/screenshots/presign --- */

/* Pending rows this long past their URL's expiry are dropped at the
 * device's next presign: a device that uploaded but could not register for
 * that long gets 404 and presigns again. */
#define PENDING_GRACE_MS DAY_MS
#define PENDING_SWEEP_MAX 16 /* expired rows dropped per presign */

struct sweep {
	int64_t now;
	size_t n;
	char keys[PENDING_SWEEP_MAX][KEY_SIZE];
};

static int sweep_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct sweep *w = ctx;
	cJSON *j = cJSON_ParseWithLength(val, len);
	int64_t exp = jint(j, "exp", 0);

	(void)pk;
	cJSON_Delete(j);
	if (exp && exp + PENDING_GRACE_MS < w->now && strlen(sk) < KEY_SIZE)
		strcpy(w->keys[w->n++], sk);
	return w->n == PENDING_SWEEP_MAX;
}

/* Add to b the deletes of this device's long-expired pending rows (and
 * their sealed settings). Best effort: a failed read drops nothing. */
static int sweep_pending(struct srv *s, struct store_batch *b, const char *pend, int64_t now)
{
	struct sweep *w = calloc(1, sizeof(*w));
	char s3pk[KEY_SIZE + 8];
	size_t i;
	int ret = 0;

	if (!w)
		return 0;
	w->now = now;
	/* keys hold the day: the oldest come first */
	if (store_query(s->st, STORE_T_SCREENSHOTS, pend, NULL, NULL, 256, 0, sweep_item, w) < 0)
		w->n = 0;
	for (i = 0; i < w->n && !ret; i++) {
		snprintf(s3pk, sizeof(s3pk), "s3|%s", w->keys[i]);
		ret = store_batch_delete(b, STORE_T_SCREENSHOTS, pend, w->keys[i], 0);
		if (!ret)
			ret = store_batch_delete(b, STORE_T_SCREENSHOTS, s3pk, "s3", 0);
	}
	if (w->n)
		log_info("screenshots: dropped %zu pending key(s) of device %s never registered",
			 w->n, pend + 8);
	free(w);
	return ret;
}

static int h_presign(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct principal p;
	struct s3set x = {0};
	struct s3_client *c = NULL;
	struct store_batch *b = NULL;
	char day[11], rnd[ID_SIZE], key[KEY_SIZE], pend[ID_SIZE + 16];
	char s3pk[KEY_SIZE + 8], aad[KEY_SIZE + 16], missing[128] = "";
	char clen[24], csum[SHA256_B64_SIZE];
	struct sigv4_header bind[3];
	cJSON *body = NULL, *eff = NULL, *vals, *out = NULL, *pj = NULL, *h;
	const char *sha, *ct;
	char *url = NULL, *plain = NULL;
	int64_t size, taken, now = now_ms();
	size_t i;
	int ret;

	if (need_device(s, req, &p, true))
		return 0;
	body = need_json(req);
	if (!body)
		return 0;
	sha = need_str(req, body, "sha256", 64);
	if (!sha)
		goto out;
	if (!hex64(sha)) {
		http_reply_error(req, 400, "field 'sha256' must be 64 lower-case hex digits");
		goto out;
	}
	if (need_num(req, body, "size", 1, SHOT_MAX_SIZE, &size) ||
	    need_ts(req, body, "taken_at", &taken))
		goto out;
	ct = need_str(req, body, "content_type", 64);
	if (!ct)
		goto out;
	if (strcmp(ct, "image/png")) {
		http_reply_error(req, 400, "field 'content_type' must be image/png");
		goto out;
	}
	ret = config_effective(s, p.team_id, p.owner_id[0] ? p.owner_id : NULL, true, &eff);
	if (ret) {
		reply_store_err(req, ret, "device");
		goto out;
	}
	vals = cJSON_GetObjectItemCaseSensitive(eff, "values");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vals, "screenshots.enabled"))) {
		http_reply_error(req, 409, "screenshots are not enabled for this device");
		goto out;
	}
	ret = s3set_from_config(vals, S3_API_TIMEOUT_MS(s), &x, missing, sizeof(missing));
	if (ret == -ENODATA) {
		http_reply_error(req, 409, "S3 settings incomplete: missing %s", missing);
		goto out;
	}
	if (ret) {
		http_reply_error(req, 500, "out of memory");
		goto out;
	}

	day_of(taken, day);
	if (id_new('x', rnd)) {
		http_reply_error(req, 500, "no randomness");
		goto out;
	}
	snprintf(key, sizeof(key), "shots/%s/%s/%s.png", p.id, day, rnd + 2);
	/* every header the PUT must send is signed into the URL: S3 takes only
	 * a body of this length and digest (it checks x-amz-checksum-sha256) */
	snprintf(clen, sizeof(clen), "%lld", (long long)size);
	sha256_b64(sha, csum);
	bind[0] = (struct sigv4_header){"Content-Length", clen};
	bind[1] = (struct sigv4_header){"Content-Type", "image/png"};
	bind[2] = (struct sigv4_header){"x-amz-checksum-sha256", csum};
	ret = s3_client_new(&x.c, &c);
	if (!ret)
		ret =
		    s3_presign_headers(c, "PUT", key, PRESIGN_TTL_S, bind, ARRAY_SIZE(bind), &url);
	if (ret) {
		log_warn("screenshots: presign for device %s failed: %s", p.id, strerror(-ret));
		http_reply_error(req, ret == -EINVAL ? 409 : 500,
				 ret == -EINVAL ? "S3 settings are not usable (endpoint?)"
						: "cannot presign");
		goto out;
	}

	/* the pending item and the sealed copy of the settings used */
	plain = cJSON_PrintUnformatted(x.j);
	pj = cJSON_CreateObject();
	cJSON_AddStringToObject(pj, "key", key);
	cJSON_AddNumberToObject(pj, "exp", (double)(now + PRESIGN_TTL_S * 1000LL));
	cJSON_AddNumberToObject(pj, "size", (double)size);
	cJSON_AddStringToObject(pj, "sha256", sha);
	cJSON_AddNumberToObject(pj, "taken_at", (double)taken);
	snprintf(pend, sizeof(pend), "pending|%s", p.id);
	snprintf(s3pk, sizeof(s3pk), "s3|%s", key);
	snprintf(aad, sizeof(aad), "screenshot-s3|%s", key);
	ret = plain ? store_batch_begin(s->st, &b) : -ENOMEM;
	if (!ret)
		ret = sweep_pending(s, b, pend, now);
	if (!ret)
		ret = jput(b, STORE_T_SCREENSHOTS, pend, key, pj, STORE_IF_ABSENT);
	if (!ret)
		ret = sealed_put(s, b, STORE_T_SCREENSHOTS, s3pk, "s3", SHOT_S3_SCOPE, aad, plain,
				 strlen(plain));
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret) {
		reply_store_err(req, ret, "screenshot");
		goto out;
	}

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "url", url);
	cJSON_AddStringToObject(out, "method", "PUT");
	h = cJSON_AddObjectToObject(out, "headers");
	for (i = 0; i < ARRAY_SIZE(bind); i++)
		cJSON_AddStringToObject(h, bind[i].name, bind[i].value);
	cJSON_AddStringToObject(out, "key", key);
	add_time(out, "expires_at", now + PRESIGN_TTL_S * 1000LL);
	http_reply_json(req, 200, out);
out:
	store_batch_abort(b);
	if (plain) {
		crypto_wipe(plain, strlen(plain));
		free(plain);
	}
	if (url) {
		crypto_wipe(url, strlen(url));
		free(url);
	}
	s3_client_free(c);
	s3set_free(&x);
	cJSON_Delete(pj);
	cJSON_Delete(body);
	cJSON_Delete(eff);
	return 0;
}

/* --- POST /api/v1/screenshots --- */

/*
 * 0 when object key of x holds the bytes whose hex SHA-256 is sha: S3's
 * own x-amz-checksum-sha256 in hd (a HEAD asked with checksum mode) when it
 * gave one for the whole object, else the SHA-256 of the object read back
 * (a GET of at most size bytes, hashed as it streams; S3-compatible stores
 * that keep no checksum, and objects written without one). -EBADMSG when
 * the bytes differ, or -errno of the GET with ebuf saying why.
 */
static int object_matches(const struct s3set *x, const char *key, const struct s3_head *hd,
			  int64_t size, const char *sha, char *ebuf, size_t elen)
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

/* What the checks of a register hand to its job (register_finish). */
struct register_job {
	struct srv *s;
	struct principal p;
	cJSON *body; /* owns the strings below */
	const char *key, *sha, *mon;
	int64_t size, w, h, taken;
};

/*
 * On the outbound pool: check the object in S3 (HEAD: there, with the
 * announced size; then its bytes: object_matches), record the shot, reply
 * 201. Frees j.
 */
static void register_finish(struct http_req *req, void *ctx)
{
	struct register_job *j = ctx;
	struct srv *s = j->s;
	const struct principal *p = &j->p;
	const char *key = j->key, *sha = j->sha, *mon = j->mon;
	int64_t size = j->size, w = j->w, h = j->h, taken = j->taken;
	struct store_batch *b = NULL;
	struct s3set x = {0};
	struct s3_client *c = NULL;
	struct s3_head hd;
	char ebuf[600];
	char id[ID_SIZE], pend[ID_SIZE + 16], kpk[KEY_SIZE + 8];
	char s3pk[KEY_SIZE + 8], lpk[ID_SIZE * 2 + 24], lsk[ID_SIZE + 24], day[11];
	cJSON *ki = NULL, *shot = NULL, *ref = NULL, *out;
	int ret;

	snprintf(kpk, sizeof(kpk), "key|%s", key);
	snprintf(pend, sizeof(pend), "pending|%s", p->id);
	/* the object must be in S3, with the announced size */
	ret = s3set_open_shot(s, key, S3_API_TIMEOUT_MS(s), &x);
	if (ret) {
		log_err("screenshots: S3 settings of %s: %s", key, strerror(-ret));
		http_reply_error(req, 500, "cannot open the S3 settings of this key");
		goto out;
	}
	ret = s3_client_new(&x.c, &c);
	if (!ret)
		ret = s3_head_checksum(c, key, &hd);
	if (ret == -ENOENT) {
		http_reply_error(req, 409, "the object has not been uploaded");
		goto out;
	}
	if (ret) {
		if (c)
			log_warn("screenshots: HEAD for %s: %s", key,
				 s3_strerror(s3_last_error(c), ebuf, sizeof(ebuf)));
		if (c && s3_last_error(c)->timed_out)
			http_reply_error(req, 504, "S3 did not answer in time");
		else
			http_reply_error(req, 502, "cannot check the object in S3");
		goto out;
	}
	if (hd.size != (uint64_t)size) {
		http_reply_error(req, 400, "the uploaded object has %llu bytes, not %lld",
				 (unsigned long long)hd.size, (long long)size);
		goto out;
	}
	/* and with the announced bytes */
	ret = object_matches(&x, key, &hd, size, sha, ebuf, sizeof(ebuf));
	if (ret == -EBADMSG) {
		log_warn("screenshots: %s of device %s differs from its sha256", key, p->id);
		http_reply_error(req, 409, "the uploaded object's bytes differ from its sha256");
		goto out;
	}
	if (ret) {
		log_warn("screenshots: GET for %s: %s", key, ebuf[0] ? ebuf : strerror(-ret));
		if (ret == -ETIMEDOUT)
			http_reply_error(req, 504, "S3 did not answer in time");
		else
			http_reply_error(req, 502, "cannot check the object in S3");
		goto out;
	}
	if (id_new(SHOT_PREFIX_ID, id)) {
		http_reply_error(req, 500, "no randomness");
		goto out;
	}
	snprintf(s3pk, sizeof(s3pk), "s3|%s", key);
	shot = cJSON_CreateObject();
	cJSON_AddStringToObject(shot, "id", id);
	cJSON_AddStringToObject(shot, "key", key);
	cJSON_AddStringToObject(shot, "device_id", p->id);
	cJSON_AddStringToObject(shot, "user_id", p->owner_id);
	cJSON_AddStringToObject(shot, "team_id", p->team_id);
	cJSON_AddNumberToObject(shot, "size", (double)size);
	cJSON_AddStringToObject(shot, "sha256", sha);
	cJSON_AddNumberToObject(shot, "width", (double)w);
	cJSON_AddNumberToObject(shot, "height", (double)h);
	cJSON_AddStringToObject(shot, "monitor", mon ? mon : "");
	cJSON_AddNumberToObject(shot, "taken_at", (double)taken);
	cJSON_AddNumberToObject(shot, "created", (double)now_ms());
	cJSON_AddStringToObject(shot, "s3_pk", s3pk);
	ref = cJSON_CreateObject();
	cJSON_AddStringToObject(ref, "id", id);

	day_of(taken, day);
	if (p->owner_id[0])
		snprintf(lpk, sizeof(lpk), "user|%s|%s", p->owner_id, day);
	else
		snprintf(lpk, sizeof(lpk), "dev|%s|%s", p->id, day);
	snprintf(lsk, sizeof(lsk), "%013lld|%s", (long long)taken, id);
	ret = store_batch_begin(s->st, &b);
	if (!ret)
		ret = jput(b, STORE_T_SCREENSHOTS, kpk, "shot", ref, STORE_IF_ABSENT);
	if (!ret)
		ret = jput(b, STORE_T_SCREENSHOTS, id, "shot", shot, STORE_IF_ABSENT);
	if (!ret)
		ret = jput(b, STORE_T_SCREENSHOTS, lpk, lsk, ref, 0);
	if (!ret) { /* the day index (retention.c): "days|" + lpk without "|<day>" */
		char dpk[sizeof(lpk) + 8];

		snprintf(dpk, sizeof(dpk), "days|%.*s", (int)(strlen(lpk) - 11), lpk);
		ret = store_batch_put(b, STORE_T_SCREENSHOTS, dpk, day, "{}", 2, 0);
	}
	if (!ret)
		ret = store_batch_delete(b, STORE_T_SCREENSHOTS, pend, key, 0);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
	if (ret == -EEXIST) { /* a concurrent register of the same key won */
		if (!jget(s, STORE_T_SCREENSHOTS, kpk, "shot", &ki) && jstr(ki, "id")) {
			out = cJSON_CreateObject();
			cJSON_AddStringToObject(out, "id", jstr(ki, "id"));
			http_reply_json(req, 201, out);
			goto out;
		}
	}
	if (ret) {
		reply_store_err(req, ret, "screenshot");
		goto out;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", id);
	http_reply_json(req, 201, out);
out:
	store_batch_abort(b);
	s3_client_free(c);
	s3set_free(&x);
	cJSON_Delete(ki);
	cJSON_Delete(shot);
	cJSON_Delete(ref);
	cJSON_Delete(j->body);
	free(j);
}

/* Check the request and the pending key here; check S3 and record the shot
 * on the outbound pool. */
static int h_register(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	struct register_job *j = calloc(1, sizeof(*j));
	struct target t;
	char pend[ID_SIZE + 16], kpk[KEY_SIZE + 8];
	cJSON *pj = NULL, *ki = NULL, *out;
	int ret;

	if (!j)
		return -ENOMEM;
	if (need_device(s, req, &j->p, true))
		goto done;
	j->body = need_json(req);
	if (!j->body)
		goto done;
	j->key = need_str(req, j->body, "key", KEY_SIZE - 1);
	j->sha = j->key ? need_str(req, j->body, "sha256", 64) : NULL;
	if (!j->key || !j->sha)
		goto done;
	if (!hex64(j->sha)) {
		http_reply_error(req, 400, "field 'sha256' must be 64 lower-case hex digits");
		goto done;
	}
	if (need_num(req, j->body, "size", 1, SHOT_MAX_SIZE, &j->size) ||
	    need_num(req, j->body, "width", 1, DIM_MAX, &j->w) ||
	    need_num(req, j->body, "height", 1, DIM_MAX, &j->h) ||
	    need_ts(req, j->body, "taken_at", &j->taken))
		goto done;
	j->mon = opt_str(req, j->body, "monitor", MONITOR_MAX);
	if (j->mon == OPT_BAD)
		goto done;

	/* registered already: the same answer */
	snprintf(kpk, sizeof(kpk), "key|%s", j->key);
	ret = jget(s, STORE_T_SCREENSHOTS, kpk, "shot", &ki);
	if (!ret && jstr(ki, "id")) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "id", jstr(ki, "id"));
		http_reply_json(req, 201, out);
		goto done;
	}
	snprintf(pend, sizeof(pend), "pending|%s", j->p.id);
	ret = jget(s, STORE_T_SCREENSHOTS, pend, j->key, &pj);
	if (ret == -ENOENT) {
		http_reply_error(req, 404, "key was not presigned for this device");
		goto done;
	}
	if (ret) {
		reply_store_err(req, ret, "screenshot");
		goto done;
	}
	if (strcmp(jstr(pj, "sha256") ? jstr(pj, "sha256") : "", j->sha) ||
	    jint(pj, "size", -1) != j->size) {
		http_reply_error(req, 400, "size and sha256 differ from the presign request");
		goto done;
	}
	/* whose S3: the business of the device's team (gone: the root's) */
	ret = target_node(s, j->p.team_id[0] ? j->p.team_id : ROOT_ID, &t);
	if (ret && ret != -ENOENT) {
		reply_store_err(req, ret, "team");
		goto done;
	}
	j->s = s;
	if (!need_outbound(s, req, ret ? ROOT_ID : target_business(&t), register_finish, j))
		j = NULL; /* register_finish owns it */
done:
	if (j) {
		cJSON_Delete(j->body);
		free(j);
	}
	cJSON_Delete(pj);
	cJSON_Delete(ki);
	return 0;
}

/* --- who may read --- */

/*
 * 0 when p may read the screenshots of user uid (team path in t): through
 * screenshot.read, or as that user when screenshots.employee_view is on in
 * their effective config. -EACCES or -errno.
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

static cJSON *shot_view(const cJSON *sh)
{
	cJSON *o = cJSON_CreateObject();
	const char *u = jstr(sh, "user_id"), *m = jstr(sh, "monitor");

	cJSON_AddStringToObject(o, "id", jstr(sh, "id") ? jstr(sh, "id") : "");
	cJSON_AddStringToObject(o, "device_id", jstr(sh, "device_id") ? jstr(sh, "device_id") : "");
	if (u && *u)
		cJSON_AddStringToObject(o, "user_id", u);
	else
		cJSON_AddNullToObject(o, "user_id");
	cJSON_AddStringToObject(o, "key", jstr(sh, "key") ? jstr(sh, "key") : "");
	cJSON_AddNumberToObject(o, "size", (double)jint(sh, "size", 0));
	cJSON_AddStringToObject(o, "sha256", jstr(sh, "sha256") ? jstr(sh, "sha256") : "");
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

/* --- GET /api/v1/screenshots?user_id=U|device_id=D&from&to --- */

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
	if (id && !jget(c->s, STORE_T_SCREENSHOTS, id, "shot", &sh)) {
		cJSON_AddItemToArray(c->arr, shot_view(sh));
		c->n++;
	}
	cJSON_Delete(sh);
	cJSON_Delete(r);
	return 0;
}

static int h_list(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *uid = http_req_query(req, "user_id"), *did = http_req_query(req, "device_id");
	struct principal p;
	struct target t;
	struct list_ctx c = {.s = s};
	char pk[ID_SIZE * 2 + 24], day[11], lo[32], hi[32];
	int64_t from, to, now = now_ms(), d;
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
	if (to - from > RANGE_MAX_MS)
		return http_reply_error(req, 400, "'from' and 'to' are more than 400 days apart");
	ret = uid ? may_read(s, &p, &t) : authorize(&p, PERM_SCREENSHOT_READ, &t);
	if (ret == -EACCES)
		return http_reply_error(req, 403, "forbidden");
	if (ret)
		return reply_store_err(req, ret, "user");
	out = cJSON_CreateObject();
	c.arr = cJSON_AddArrayToObject(out, "screenshots");
	snprintf(lo, sizeof(lo), "%013lld", (long long)from);
	snprintf(hi, sizeof(hi), "%013lld|~", (long long)(to - 1));
	for (d = from / DAY_MS * DAY_MS; d < to && !c.truncated && !c.err; d += DAY_MS) {
		day_of(d, day);
		snprintf(pk, sizeof(pk), "%s|%s|%s", uid ? "user" : "dev", uid ? uid : did, day);
		ret = store_query(s->st, STORE_T_SCREENSHOTS, pk, lo, hi, 0, 0, list_item, &c);
		if (ret < 0 && !c.err)
			c.err = ret;
	}
	if (c.err) {
		cJSON_Delete(out);
		return reply_store_err(req, c.err, "screenshots");
	}
	cJSON_AddBoolToObject(out, "truncated", c.truncated);
	return http_reply_json(req, 200, out);
}

/* --- GET /api/v1/screenshots/{id}/image --- */

/* An image GET's job (image_finish): the shot, allowed to be viewed. */
struct image_job {
	struct srv *s;
	struct principal p;
	cJSON *sh;
	char node[ID_SIZE]; /* where the audit entry goes */
};

/*
 * On the outbound pool, the image is streamed: S3 -> an anonymous temporary
 * file (never more than the registered size, which register checked with a
 * HEAD) -> the client from that file (http_reply_fd), so no copy of it is
 * held in memory. The bytes are hashed on their way into the file: an
 * object that is no longer the registered one (size or sha256) is not
 * served. Audits the view ("ok" or "error"). Frees j.
 */
static void image_finish(struct http_req *req, void *ctx)
{
	struct image_job *j = ctx;
	struct srv *s = j->s;
	const char *id = http_req_param(req, "id"), *key = jstr(j->sh, "key");
	const char *sha = jstr(j->sh, "sha256");
	struct s3set x = {0};
	cJSON *det = NULL;
	char ebuf[600], got[65];
	uint64_t max, len = 0;
	int ret, fd = -1;

	det = cJSON_CreateObject();
	cJSON_AddStringToObject(det, "screenshot_id", id);
	ret = s3set_open_shot(s, key, S3_API_IMAGE_FACTOR * S3_API_TIMEOUT_MS(s), &x);
	if (ret) {
		log_err("screenshots: S3 settings of %s: %s", id, strerror(-ret));
		http_reply_error(req, 500, "cannot open the screenshot's S3 settings");
		goto out;
	}
	max = jint(j->sh, "size", 0) > 0 && jint(j->sh, "size", 0) <= SHOT_MAX_SIZE
		  ? (uint64_t)jint(j->sh, "size", 0)
		  : SHOT_MAX_SIZE;
	ret = s3set_get_hashed(&x, key, max, &fd, &len, got, ebuf, sizeof(ebuf));
	if (!ret && ((int64_t)len != jint(j->sh, "size", -1) || strcmp(got, sha))) {
		log_warn("screenshots: %s: the object in S3 (%llu bytes, sha256 %s) is not the "
			 "one registered",
			 id, (unsigned long long)len, got);
		cJSON_AddStringToObject(det, "reason", "content_mismatch");
		audit_write(s, req, &j->p, "screenshot.view", j->node, id, "error", det);
		http_reply_error(req, 502, "the screenshot in S3 differs from the one registered");
		goto out;
	}
	if (ret) {
		log_warn("screenshots: GET %s: %s", id, ebuf);
		audit_write(s, req, &j->p, "screenshot.view", j->node, id, "error", det);
		if (ret == -E2BIG)
			http_reply_error(req, 502,
					 "the screenshot object in S3 is larger than "
					 "registered");
		else if (ret == -ETIMEDOUT)
			http_reply_error(req, 504, "S3 did not answer in time");
		else
			http_reply_error(req, ret == -ENOENT ? 404 : 502,
					 ret == -ENOENT ? "screenshot object not found in S3"
							: "cannot read the screenshot from S3");
		goto out;
	}
	audit_write(s, req, &j->p, "screenshot.view", j->node, id, "ok", det);
	http_set_header(req, "Cache-Control", "private, no-store");
	http_reply_fd(req, 200, "image/png", fd, len);
	fd = -1; /* the response owns it */
out:
	if (fd >= 0)
		close(fd);
	s3set_free(&x);
	cJSON_Delete(det);
	cJSON_Delete(j->sh);
	free(j);
}

/* Decide (and audit a refusal) here; fetch the image on the outbound pool. */
static int h_image(struct http_req *req, void *arg)
{
	struct srv *s = arg;
	const char *id = http_req_param(req, "id"), *uid;
	struct image_job *j = calloc(1, sizeof(*j));
	struct target t;
	cJSON *det = NULL;
	const char *node = NULL;
	int ret;

	if (!j)
		return -ENOMEM;
	if (need_user(s, req, &j->p))
		goto out;
	if (!id_valid(id, SHOT_PREFIX_ID) ||
	    (ret = jget(s, STORE_T_SCREENSHOTS, id, "shot", &j->sh)) == -ENOENT) {
		http_reply_error(req, 404, "screenshot not found");
		goto out;
	}
	if (ret) {
		reply_store_err(req, ret, "screenshot");
		goto out;
	}
	uid = jstr(j->sh, "user_id");
	if (uid && *uid)
		ret = target_user(s, uid, &t);
	else
		ret =
		    target_device(s, jstr(j->sh, "device_id") ? jstr(j->sh, "device_id") : "", &t);
	if (ret == -ENOENT) /* user or device gone: the team decides */
		ret = target_node(s, jstr(j->sh, "team_id") ? jstr(j->sh, "team_id") : "", &t);
	if (ret) {
		reply_store_err(req, ret, "screenshot");
		goto out;
	}
	node = t.depth ? t.path[t.depth - 1] : ROOT_ID;
	ret = t.user_id[0] ? may_read(s, &j->p, &t) : authorize(&j->p, PERM_SCREENSHOT_READ, &t);
	if (ret) {
		det = cJSON_CreateObject();
		cJSON_AddStringToObject(det, "screenshot_id", id);
		audit_write(s, req, &j->p, "screenshot.view", node, id, "forbidden", det);
		if (ret == -EACCES)
			http_reply_error(req, 403, "forbidden");
		else
			reply_store_err(req, ret, "screenshot");
		goto out;
	}
	if (!jstr(j->sh, "key") || !jstr(j->sh, "s3_pk") || !jstr(j->sh, "sha256")) {
		http_reply_error(req, 500, "screenshot item is incomplete");
		goto out;
	}
	j->s = s;
	snprintf(j->node, sizeof(j->node), "%s", node);
	if (!need_outbound(s, req, target_business(&t), image_finish, j)) {
		j = NULL; /* image_finish owns it */
	} else {
		/* refused (503): every view of a known shot is audited */
		det = cJSON_CreateObject();
		cJSON_AddStringToObject(det, "screenshot_id", id);
		audit_write(s, req, &j->p, "screenshot.view", node, id, "error", det);
	}
out:
	if (j) {
		cJSON_Delete(j->sh);
		free(j);
	}
	cJSON_Delete(det);
	return 0;
}

int api_shots_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"POST", "/api/v1/screenshots/presign", h_presign, s},
	    {"POST", "/api/v1/screenshots", h_register, s},
	    {"GET", "/api/v1/screenshots", h_list, s},
	    {"GET", "/api/v1/screenshots/{id}/image", h_image, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
