// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_shots.c - model/shots.h on a real LMDB store, where no S3 is
 * needed: a presign (refused while screenshots are off; the pending item
 * and the sealed settings under store/keys.h's keys; long-expired pending
 * items of the device swept), the checks before a register (not presigned,
 * other size or sha256, registered already, whose business), the listing
 * (its range [from, to) over the day partitions, the read decision) and
 * the checks before an image view (malformed, unknown, forbidden and
 * incomplete shots). Also key_time_end(), the listing range's bound, and
 * whose credentials an object's sealed settings are opened with
 * (s3set_open_shot(): the levels that name its place lend theirs, so a
 * rotated key reaches it; a level that moved elsewhere lends nothing).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/crypto.h"
#include "core/keyprov.h"
#include "core/metrics.h"
#include "core/srv.h"
#include "model/config.h"
#include "model/org.h"
#include "model/s3set.h"
#include "model/shots.h"
#include "store/keys.h"
#include "util.h"

#define BIZ "n_00000000000000b0"
#define TEAM "n_00000000000000f1"
#define ADMIN "u_00000000000000a1"
#define USER "u_0000000000000001"
#define USER2 "u_0000000000000002" /* login "b", screenshots off at its level */
#define DEV "d_0000000000000001"
#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define DAY 86400000LL
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

TEST(range_bound)
{
	struct key k;

	CHECK_STR(key_time_end(&k, 5), "0000000000005|~");
	CHECK_STR(key_time(&k, T0), "1767225600000");
	/* every listing sort key of time ms sorts at or below the bound */
	CHECK(strcmp(key_shot_list_sk(&k, T0, "s_ffffffffffffffff"), "1767225600000|~") < 0);
}

static int audit_ok(struct store_batch *b, const char *scope, const cJSON *detail, void *ctx)
{
	(void)b;
	(void)scope;
	(void)detail;
	(void)ctx;
	return 0;
}

static void tree(struct store *st)
{
	struct target root = {.depth = 1}, biz = {.depth = 2};
	const struct org_user_new u = {USER, "a@x.example", "A", "a", TEAM, "-", ADMIN},
				  u2 = {USER2, "b@x.example", "B", "b", TEAM, "-", ADMIN};
	struct store_batch *b;

	strcpy(root.path[0], ROOT_ID);
	strcpy(biz.path[0], ROOT_ID);
	strcpy(biz.path[1], BIZ);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(org_node_add(b, BIZ, "business", "Biz", &root, 1, NULL), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(org_node_add(b, TEAM, "team", "T1", &biz, 1, NULL), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(org_user_add(b, &u, 1, NULL), 0);
	CHECK_EQ(org_user_add(b, &u2, 1, NULL), 0);
	CHECK_EQ(store_batch_commit(b), 0);
}

/* Write values (JSON members) at user uid's level. */
static void user_put(struct srv *s, const char *uid, const char *values)
{
	char body[1024], why[CONFIG_WHY_SIZE];
	cJSON *j, *view = NULL;
	struct target t;

	snprintf(body, sizeof(body), "{\"values\":{%s}}", values);
	j = cJSON_Parse(body);
	CHECK_EQ(target_user(s, uid, &t), 0);
	CHECK_EQ(config_level_put(s, &t, "user", uid, j, audit_ok, NULL, &view, why, sizeof(why)),
		 0);
	cJSON_Delete(view);
	cJSON_Delete(j);
}

/* Put TEAM's config: screenshots on, S3 settings complete (no request is
 * made: a presign only signs). */
static void team_config(struct srv *s)
{
	const char *body = "{\"values\":{\"screenshots.enabled\":true,\"s3.bucket\":\"shots1\","
			   "\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"http://127.0.0.1:9\","
			   "\"s3.path_style\":true,\"s3.access_key_id\":\"AKIDTEST\","
			   "\"s3.secret_access_key\":\"not-a-secret\"}}";
	cJSON *j = cJSON_Parse(body), *view = NULL;
	struct target t;
	char why[CONFIG_WHY_SIZE];

	CHECK_EQ(target_node(s, TEAM, &t), 0);
	CHECK_EQ(config_level_put(s, &t, "node", TEAM, j, audit_ok, NULL, &view, why, sizeof(why)),
		 0);
	cJSON_Delete(view);
	cJSON_Delete(j);
}

/* Write values (JSON members) at node id's level. */
static void level_put(struct srv *s, const char *id, const char *values)
{
	char body[1024], why[CONFIG_WHY_SIZE];
	cJSON *j, *view = NULL;
	struct target t;

	snprintf(body, sizeof(body), "{\"values\":{%s}}", values);
	j = cJSON_Parse(body);
	CHECK_EQ(target_node(s, id, &t), 0);
	CHECK_EQ(config_level_put(s, &t, "node", id, j, audit_ok, NULL, &view, why, sizeof(why)),
		 0);
	cJSON_Delete(view);
	cJSON_Delete(j);
}

/* The credentials object key's settings get from the levels of who, as
 * "level:key id" joined with ','; and its own key id in own. */
static void lent(struct srv *s, const char *key, const struct s3set_who *who, char *buf, size_t n,
		 char *own, size_t on)
{
	struct s3set x = {0};
	const cJSON *e;

	buf[0] = 0;
	CHECK_EQ(s3set_open_shot(s, key, who, 1000, &x), 0);
	cJSON_ArrayForEach(e, x.lent)
	{
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s:%s", buf[0] ? "," : "",
			 jstr(e, "level"), jstr(e, "access_key_id"));
	}
	snprintf(own, on, "%s", jstr(x.j, "access_key_id") ? jstr(x.j, "access_key_id") : "");
	s3set_free(&x);
}

/* A shot item and its listing row as shots_register() writes them. */
static void shot(struct store *st, const char *id, int64_t taken, bool with_key)
{
	struct key pk, sk;
	char v[512];
	struct store_batch *b;

	snprintf(v, sizeof(v),
		 "{\"id\":\"%s\",%s\"device_id\":\"" DEV "\",\"user_id\":\"" USER
		 "\",\"team_id\":\"" TEAM "\",\"size\":4,\"sha256\":\"" SHA
		 "\",\"width\":1,\"height\":1,\"monitor\":\"\",\"taken_at\":%lld,\"created\":%lld,"
		 "\"s3_pk\":\"s3|k\"}",
		 id, with_key ? "\"key\":\"k\"," : "", (long long)taken, (long long)taken);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(store_batch_put(b, STORE_T_SCREENSHOTS, id, SK_SHOT, v, strlen(v), 0), 0);
	snprintf(v, sizeof(v), "{\"id\":\"%s\"}", id);
	CHECK_EQ(store_batch_put(b, STORE_T_SCREENSHOTS, key_shot_list_pk(&pk, "user", USER, taken),
				 key_shot_list_sk(&sk, taken, id), v, strlen(v), 0),
		 0);
	CHECK_EQ(store_batch_commit(b), 0);
}

/* The ids a listing answer holds, joined with ','. */
static void ids(const cJSON *out, char *buf, size_t n)
{
	const cJSON *e;

	buf[0] = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(out, "screenshots"))
	{
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? "," : "",
			 jstr(e, "id"));
	}
}

TEST(shots_on_a_store)
{
	char dir[128], keyf[200], buf[512], id[ID_SIZE], business[ID_SIZE];
	struct principal dev = {
	    .kind = PRINCIPAL_DEVICE, .id = DEV, .team_id = TEAM, .owner_id = USER};
	struct principal admin = {.kind = PRINCIPAL_USER, .id = ADMIN, .n_grants = 1};
	struct principal user = {.kind = PRINCIPAL_USER, .id = USER, .team_id = TEAM};
	struct shots_presign_req pr = {
	    .sha256 = SHA, .content_type = "image/webp", .size = 4, .taken_at = T0};
	struct shots_presign_req gif = pr;
	struct shots_reg r = {0};
	struct shots_image v;
	struct model_why why;
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct s3set x = {0};
	struct target t;
	struct srv s;
	struct key k;
	cJSON *out = NULL, *pend = NULL;
	const char *key;
	int64_t now = now_ms();

	admin.g[0] = (struct grant){"admin", ROOT_ID, PERM_ALL};
	check_mkdtemp(dir, sizeof(dir), "shots");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	tree(st);

	/* --- presign --- */
	metrics_reset();
	CHECK_EQ(shots_presign(&s, &dev, &pr, now, &out, &why), -EACCES);
	CHECK_STR(why.msg, "screenshots are not enabled for this device");
	CHECK(out == NULL);
	CHECK_EQ(metrics_get(METRIC_SHOTS_REFUSED_SCREENSHOTS_OFF), 1);
	CHECK_EQ(metrics_get(METRIC_SHOTS_REFUSED_LOGGING_OFF), 0);
	team_config(&s);
	/* a type outside the three: refused before anything is written */
	gif.content_type = "image/gif";
	CHECK_EQ(shots_presign(&s, &dev, &gif, now, &out, &why), -EINVAL);
	CHECK_STR(why.msg, "content_type must be image/png, image/webp or image/jpeg");
	CHECK(out == NULL);
	/* a pending item a day and more past its URL's expiry: swept */
	CHECK_EQ(store_put(st, STORE_T_SCREENSHOTS, key_shot_pending(&k, DEV), "shots/old.png",
			   "{\"exp\":1}", 9, 0),
		 0);
	CHECK_EQ(shots_presign(&s, &dev, &pr, now, &out, &why), 0);
	key = jstr(out, "key");
	/* no session user named: filed under the owner */
	CHECK(key && !strncmp(key, "shots/" DEV "/2026-01-01/" USER "/", 55) && strlen(key) == 76);
	CHECK(key && !strcmp(key + 71, ".webp")); /* the extension of its type */
	CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(out, "headers"), "Content-Type"),
		  "image/webp");
	CHECK_STR(jstr(out, "method"), "PUT");
	CHECK(strstr(jstr(out, "url"), "http://127.0.0.1:9/shots1/shots/") != NULL);
	CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(out, "headers"), "Content-Length"), "4");
	CHECK_EQ(jget(&s, STORE_T_SCREENSHOTS, key_shot_pending(&k, DEV), "shots/old.png", &pend),
		 -ENOENT);
	CHECK_EQ(jget(&s, STORE_T_SCREENSHOTS, key_shot_pending(&k, DEV), key, &pend), 0);
	CHECK_STR(jstr(pend, "sha256"), SHA);
	CHECK_EQ(jint(pend, "size", 0), 4);
	CHECK_EQ(jint(pend, "taken_at", 0), T0);
	CHECK_STR(jstr(pend, "content_type"), "image/webp");
	CHECK_EQ(jint(pend, "exp", 0), now + SHOTS_PRESIGN_TTL_S * 1000LL);
	CHECK_STR(jstr(pend, "user_id"), USER);
	/* the settings it was signed with, sealed under the object's key */
	CHECK_EQ(s3set_open_shot(&s, key, NULL, 1000, &x), 0);
	CHECK_STR(x.c.bucket, "shots1");
	CHECK_STR(x.c.secret_key, "not-a-secret");
	CHECK(x.lent == NULL);
	s3set_free(&x);
	CHECK(x.j == NULL && x.lent == NULL);

	/* --- whose credentials: the levels that name its place, then its own --- */
	{
		const struct s3set_who by_user = {USER, NULL, NULL}, by_dev = {NULL, DEV, NULL};
		const struct s3set_who by_team = {NULL, NULL, TEAM},
				       gone = {"u_00000000000000ff", NULL, NULL};
		char got[256], own[64];

		lent(&s, key, &by_team, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, TEAM ":AKIDTEST");
		CHECK_STR(own, "AKIDTEST");
		/* the key rotated at the team: the new one is lent, the old stays sealed */
		level_put(&s, TEAM,
			  "\"s3.access_key_id\":\"AKIDNEW\",\"s3.secret_access_key\":\"new\"");
		lent(&s, key, &by_team, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, TEAM ":AKIDNEW");
		CHECK_STR(own, "AKIDTEST");
		lent(&s, key, &by_user, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, TEAM ":AKIDNEW");
		/* an owner gone (this device was never stored) lends nothing */
		lent(&s, key, &by_dev, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, "");
		lent(&s, key, &gone, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, "");
		/* the team moves to another bucket: its key is not lent to this one */
		level_put(&s, TEAM, "\"s3.bucket\":\"shots2\",\"s3.secret_access_key\":\"new\"");
		lent(&s, key, &by_user, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, "");
		/* a level above that names this place with a key lends it */
		level_put(&s, BIZ,
			  "\"s3.bucket\":\"shots1\",\"s3.region\":\"us-east-1\","
			  "\"s3.endpoint\":\"http://127.0.0.1:9\",\"s3.path_style\":true,"
			  "\"s3.access_key_id\":\"AKIDBIZ\",\"s3.secret_access_key\":\"biz\"");
		lent(&s, key, &by_user, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, BIZ ":AKIDBIZ");
		/* but not with another path style (another place) */
		level_put(&s, BIZ, "\"s3.path_style\":false,\"s3.secret_access_key\":\"biz\"");
		lent(&s, key, &by_user, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, "");
		level_put(&s, BIZ,
			  "\"s3.bucket\":null,\"s3.region\":null,\"s3.endpoint\":null,"
			  "\"s3.path_style\":null,\"s3.access_key_id\":null,"
			  "\"s3.secret_access_key\":null");
		team_config(&s);
		lent(&s, key, &by_user, got, sizeof(got), own, sizeof(own));
		CHECK_STR(got, TEAM ":AKIDTEST");
	}

	/* --- before a register --- */
	r = (struct shots_reg){.key = "shots/other.png", .sha256 = SHA, .size = 4, .taken_at = T0};
	CHECK_EQ(shots_register_check(&s, &dev, &r, id, business, &why), -ENOENT);
	CHECK_STR(why.msg, "key was not presigned for this device");
	r.key = key;
	r.size = 5;
	CHECK_EQ(shots_register_check(&s, &dev, &r, id, business, &why), -EINVAL);
	CHECK_STR(why.msg, "size and sha256 differ from the presign request");
	r.size = 4;
	CHECK_EQ(shots_register_check(&s, &dev, &r, id, business, &why), 0);
	CHECK_STR(id, "");
	CHECK_STR(business, BIZ);
	CHECK_STR(r.user_id, USER);

	/* --- the session user's policy decides, and the shot is filed as theirs --- */
	{
		struct shots_presign_req pb = {.sha256 = SHA,
					       .content_type = "image/png",
					       .size = 4,
					       .taken_at = T0,
					       .user = "b"};
		struct shots_presign_req pu = pb;
		struct shots_reg rb = {.sha256 = SHA, .size = 4, .taken_at = T0};
		cJSON *ob = NULL, *pb_pend = NULL;

		pu.user = "nobody";
		user_put(&s, USER2, "\"screenshots.enabled\":false");
		metrics_reset();
		CHECK_EQ(shots_presign(&s, &dev, &pb, now, &ob, &why), -EACCES);
		CHECK_STR(why.msg, "screenshots are not enabled for user 'b'");
		CHECK(ob == NULL);
		CHECK_EQ(metrics_get(METRIC_SHOTS_REFUSED_SCREENSHOTS_OFF), 1);
		/* an unknown login: the owner's policy, filed under the owner */
		CHECK_EQ(shots_presign(&s, &dev, &pu, now, &ob, &why), 0);
		CHECK(!strncmp(jstr(ob, "key"), "shots/" DEV "/2026-01-01/" USER "/", 55));
		cJSON_Delete(ob);
		ob = NULL;
		/* b on, the owner off: b's shot passes, under b */
		user_put(&s, USER2, "\"screenshots.enabled\":true");
		user_put(&s, USER, "\"screenshots.enabled\":false");
		CHECK_EQ(shots_presign(&s, &dev, &pr, now, &ob, &why), -EACCES);
		CHECK_STR(why.msg, "screenshots are not enabled for this device");
		CHECK_EQ(shots_presign(&s, &dev, &pb, now, &ob, &why), 0);
		rb.key = jstr(ob, "key");
		CHECK(rb.key && !strncmp(rb.key, "shots/" DEV "/2026-01-01/" USER2 "/", 55));
		CHECK_EQ(jget(&s, STORE_T_SCREENSHOTS, key_shot_pending(&k, DEV), rb.key, &pb_pend),
			 0);
		CHECK_STR(jstr(pb_pend, "user_id"), USER2);
		CHECK_STR(jstr(pb_pend, "login"), "b");
		/* register keeps b, and checks b's policy again */
		CHECK_EQ(shots_register_check(&s, &dev, &rb, id, business, &why), 0);
		CHECK_STR(rb.user_id, USER2);
		user_put(&s, USER2, "\"screenshots.enabled\":false");
		CHECK_EQ(shots_register_check(&s, &dev, &rb, id, business, &why), -EACCES);
		CHECK_STR(why.msg, "screenshots are not enabled for user 'b'");
		user_put(&s, USER2, "\"screenshots.enabled\":null");
		user_put(&s, USER, "\"screenshots.enabled\":null");
		cJSON_Delete(pb_pend);
		cJSON_Delete(ob);
	}
	CHECK_EQ(store_put(st, STORE_T_SCREENSHOTS, key_shot_key(&k, key), SK_SHOT,
			   "{\"id\":\"s_0000000000000009\"}", 27, 0),
		 0);
	CHECK_EQ(shots_register_check(&s, &dev, &r, id, business, &why), 0);
	CHECK_STR(id, "s_0000000000000009");
	cJSON_Delete(pend);
	cJSON_Delete(out);
	out = NULL;

	/* --- the listing: [from, to) across days --- */
	shot(st, "s_0000000000000001", T0 - 1, true);
	shot(st, "s_0000000000000002", T0, true);
	shot(st, "s_0000000000000003", T0 + DAY + 5, true);
	shot(st, "s_0000000000000004", T0 + 2 * DAY, true);
	CHECK_EQ(target_user(&s, USER, &t), 0);
	CHECK_EQ(shots_list(&s, &admin, &t, USER, NULL, T0, T0 + 2 * DAY, &out, &why), 0);
	ids(out, buf, sizeof(buf));
	CHECK_STR(buf, "s_0000000000000002,s_0000000000000003");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(out, "truncated")));
	cJSON_Delete(out);
	CHECK_EQ(shots_list(&s, &admin, &t, USER, NULL, T0, T0 + DAY + 6, &out, &why), 0);
	ids(out, buf, sizeof(buf));
	CHECK_STR(buf, "s_0000000000000002,s_0000000000000003");
	cJSON_Delete(out);
	/* one's own, without screenshot.read and employee_view off */
	CHECK_EQ(shots_list(&s, &user, &t, USER, NULL, T0, T0 + DAY, &out, &why), -EACCES);
	CHECK_STR(why.msg, "forbidden");
	CHECK(out == NULL);

	/* --- before an image view --- */
	CHECK_EQ(shots_image_check(&s, &admin, "x", &v, &why), -ENOENT);
	CHECK_STR(why.msg, "screenshot not found");
	CHECK_EQ(shots_image_check(&s, &admin, "s_00000000000000ff", &v, &why), -ENOENT);
	CHECK_EQ(shots_image_check(&s, &user, "s_0000000000000002", &v, &why), -EACCES);
	CHECK(v.denied && v.shot == NULL);
	CHECK_STR(v.node, TEAM);
	CHECK_EQ(shots_image_check(&s, &admin, "s_0000000000000002", &v, &why), 0);
	CHECK(!v.denied && v.shot != NULL);
	CHECK_STR(v.business, BIZ);
	CHECK_STR(jstr(v.shot, "key"), "k");
	cJSON_Delete(v.shot);
	shot(st, "s_0000000000000005", T0, false);
	CHECK_EQ(shots_image_check(&s, &admin, "s_0000000000000005", &v, &why), -EUCLEAN);
	CHECK_STR(why.msg, "screenshot item is incomplete");
	CHECK(!v.denied && v.shot == NULL);

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	check_rmtree(dir);
}

/* The three types, and a shot item of before formats (none stored). */
TEST(content_types)
{
	cJSON *old = cJSON_Parse("{\"id\":\"s_0000000000000001\",\"key\":\"shots/x.png\"}");
	cJSON *webp = cJSON_Parse("{\"content_type\":\"image/webp\"}");
	cJSON *odd = cJSON_Parse("{\"content_type\":\"text/html\"}");

	CHECK(shots_type_ok("image/png") && shots_type_ok("image/webp") &&
	      shots_type_ok("image/jpeg"));
	CHECK(!shots_type_ok("image/gif") && !shots_type_ok("image/PNG") && !shots_type_ok("") &&
	      !shots_type_ok(NULL));
	CHECK_STR(shots_content_type(old), "image/png");
	CHECK_STR(shots_content_type(webp), "image/webp");
	CHECK_STR(shots_content_type(odd), "image/png");
	CHECK_STR(shots_content_type(NULL), "image/png");
	cJSON_Delete(old);
	cJSON_Delete(webp);
	cJSON_Delete(odd);
}

/* Thumbnails are made of the three types (none stored: a PNG); a shot
 * stored with another type is refused by its type (415), not decoded as
 * the PNG shots_content_type() would call it. */
TEST(thumb_types)
{
	cJSON *old = cJSON_Parse("{\"id\":\"s_0000000000000001\",\"key\":\"shots/x.png\"}");
	cJSON *jpeg = cJSON_Parse("{\"content_type\":\"image/jpeg\"}");
	cJSON *odd = cJSON_Parse("{\"content_type\":\"image/gif\"}");
	struct model_why why;

	CHECK_EQ(shots_thumb_check(old, &why), 0);
	CHECK_EQ(shots_thumb_check(jpeg, &why), 0);
	CHECK_EQ(shots_thumb_check(odd, &why), -EPROTONOSUPPORT);
	CHECK_STR(why.msg, "thumbnails are made of PNG, WebP and JPEG screenshots only");
	cJSON_Delete(old);
	cJSON_Delete(jpeg);
	cJSON_Delete(odd);
}

int main(void)
{
	RUN(range_bound);
	RUN(content_types);
	RUN(thumb_types);
	RUN(shots_on_a_store);
	return CHECK_DONE();
}
