// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_config.c - the config merge (config_merge()), fed level
 * documents as the store holds them: defaults, key by key from the
 * business down to the user, sources, locks, secrets, values that no
 * longer fit the schema, and the s3.* keys as one unit taken whole from
 * one level; the rule that binds S3 credentials to where they were set
 * to be sent (config_s3_rebind()); and which level lends its credentials
 * to an object stored at a given place (config_s3_lends()). logging.enabled
 * over time: a level's
 * value at a time (config_hist_value()), the levels merged at a time with
 * the current locks (config_logging_at()), the step function built once
 * per user (config_timeline_build()) agreeing with it, and the history as
 * level writes keep it on a real store (the 256-entry cap, "before").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/keyprov.h"
#include "model/config.h"
#include "core/srv.h"
#include "util.h"

#define LEVELS 6

static const char *const LABELS[LEVELS] = {"n_b", "n_d", "n_p", "n_t", "user:u_1", "n_x"};

/* Merge the documents texts[0..n) (JSON, top down, labelled LABELS[i]),
 * the last a user's when user_last. The merge, or NULL on any failure. */
static cJSON *merge(const char *const *texts, size_t n, bool user_last, bool with_secrets)
{
	cJSON *docs[LEVELS] = {0}, *out = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		docs[i] = cJSON_Parse(texts[i]);
	if (config_merge((const cJSON *const *)docs, LABELS, n, user_last, with_secrets, &out))
		out = NULL;
	for (i = 0; i < n; i++)
		cJSON_Delete(docs[i]);
	return out;
}

/* Member k of m's object part ("values", "source", "locked"), or NULL. */
static const cJSON *get(const cJSON *m, const char *part, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, part), k);
}

/* The string member k of part, or NULL. */
static const char *str(const cJSON *m, const char *part, const char *k)
{
	const cJSON *v = get(m, part, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number member k of m's values, or -1. */
static long long num(const cJSON *m, const char *k)
{
	const cJSON *v = get(m, "values", k);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

TEST(defaults_and_order)
{
	const char *docs[] = {
	    "{\"values\":{\"activity.interval_s\":120,\"idle.threshold_s\":600},\"locked\":[]}",
	    "{\"values\":{},\"locked\":[]}",
	    "{\"values\":{\"activity.interval_s\":90},\"locked\":[]}",
	    "{\"values\":{\"activity.interval_s\":30},\"locked\":[]}",
	    "{\"values\":{\"activity.interval_s\":20}}",
	};
	cJSON *m = merge(docs, 5, true, false);

	CHECK(m != NULL);
	CHECK_EQ(num(m, "activity.interval_s"), 20);
	CHECK_STR(str(m, "source", "activity.interval_s"), "user:u_1");
	CHECK_EQ(num(m, "idle.threshold_s"), 600);
	CHECK_STR(str(m, "source", "idle.threshold_s"), "n_b");
	CHECK_EQ(num(m, "retention.days"), 365);
	CHECK_STR(str(m, "source", "retention.days"), "default");
	CHECK(get(m, "values", "s3.bucket") == NULL);
	CHECK(get(m, "source", "s3.bucket") == NULL);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "locked")), 0);
	cJSON_Delete(m);

	/* no level at all: the defaults */
	m = merge(docs, 0, false, false);
	CHECK_EQ(num(m, "activity.interval_s"), 60);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "values")), 13);
	/* screenshots: WebP at quality 50 unless a level says otherwise */
	CHECK_STR(str(m, "values", "screenshots.format"), "webp");
	CHECK_EQ(num(m, "screenshots.quality"), 50);
	cJSON_Delete(m);
}

TEST(screenshot_format_and_quality)
{
	const char *docs[] = {
	    "{\"values\":{\"screenshots.format\":\"jpeg\",\"screenshots.quality\":80},"
	    "\"locked\":[]}",
	    /* values outside the schema (stored before it narrowed) are ignored */
	    "{\"values\":{\"screenshots.format\":\"gif\",\"screenshots.quality\":101},"
	    "\"locked\":[]}",
	    "{\"values\":{\"screenshots.format\":\"png\",\"screenshots.quality\":0}}",
	};
	cJSON *m = merge(docs, 3, false, false);

	CHECK(m != NULL);
	CHECK_STR(str(m, "values", "screenshots.format"), "png");
	CHECK_STR(str(m, "source", "screenshots.format"), "n_p");
	CHECK_EQ(num(m, "screenshots.quality"), 80);
	CHECK_STR(str(m, "source", "screenshots.quality"), "n_b");
	cJSON_Delete(m);
	m = merge(docs, 2, false, false);
	CHECK_STR(str(m, "values", "screenshots.format"), "jpeg");
	cJSON_Delete(m);
}

TEST(locks)
{
	const char *docs[] = {
	    "{\"values\":{\"logging.enabled\":false},\"locked\":[\"logging.enabled\"]}",
	    "{\"values\":{\"activity.interval_s\":90},\"locked\":[\"activity.interval_s\"]}",
	    "{\"values\":{\"activity.interval_s\":30,\"logging.enabled\":true},"
	    "\"locked\":[\"logging.enabled\",\"no.such.key\",7]}",
	    /* a user's locks are no locks */
	    "{\"values\":{\"idle.threshold_s\":100},\"locked\":[\"idle.threshold_s\"]}",
	};
	cJSON *m = merge(docs, 4, true, false);

	CHECK(m != NULL);
	CHECK(cJSON_IsFalse(get(m, "values", "logging.enabled")));
	CHECK_STR(str(m, "source", "logging.enabled"), "n_b");
	CHECK_STR(str(m, "locked", "logging.enabled"), "n_b");
	CHECK_EQ(num(m, "activity.interval_s"), 90);
	CHECK_STR(str(m, "source", "activity.interval_s"), "n_d");
	CHECK_STR(str(m, "locked", "activity.interval_s"), "n_d");
	CHECK_EQ(num(m, "idle.threshold_s"), 100);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "locked")), 2);
	cJSON_Delete(m);

	/* the last level is a node: its locks count (for nothing below) */
	m = merge(docs, 4, false, false);
	CHECK_STR(str(m, "locked", "idle.threshold_s"), "n_t");
	cJSON_Delete(m);
}

TEST(secrets_and_schema)
{
	const char *docs[] = {
	    "{\"values\":{\"s3.bucket\":\"acme\",\"s3.region\":\"eu-west-1\","
	    "\"s3.access_key_id\":\"AKIA\",\"s3.secret_access_key\":\"sk\"},\"locked\":[]}",
	    /* stored before the schema narrowed, or not the schema's at all */
	    "{\"values\":{\"activity.interval_s\":5,\"old.key\":1,\"retention.days\":null},"
	    "\"locked\":[]}",
	};
	cJSON *m = merge(docs, 2, false, false);

	CHECK(m != NULL);
	CHECK(get(m, "values", "s3.secret_access_key") == NULL);
	CHECK_STR(str(m, "source", "s3.secret_access_key"), "n_b");
	CHECK_STR(str(m, "values", "s3.bucket"), "acme");
	CHECK_EQ(num(m, "activity.interval_s"), 60);
	CHECK(get(m, "values", "old.key") == NULL);
	CHECK_STR(str(m, "source", "retention.days"), "default");
	cJSON_Delete(m);
	m = merge(docs, 2, false, true);
	CHECK_STR(str(m, "values", "s3.secret_access_key"), "sk");
	cJSON_Delete(m);
}

/* The business's S3 settings, as one unit. */
#define S3_BIZ                                                                                     \
	"{\"values\":{\"s3.bucket\":\"acme\",\"s3.region\":\"eu-west-1\","                         \
	"\"s3.endpoint\":\"https://s3.acme.example\",\"s3.path_style\":true,"                      \
	"\"s3.access_key_id\":\"AKIAACME\",\"s3.secret_access_key\":\"sk-acme\"},\"locked\":[]}"

/* Every s3.* source in m is label, and n of them are there. */
static bool s3_sources(const cJSON *m, const char *label, int n)
{
	const cJSON *e;
	int got = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "source"))
	{
		if (strncmp(e->string, "s3.", 3))
			continue;
		if (!cJSON_IsString(e) || strcmp(e->valuestring, label))
			return false;
		got++;
	}
	return got == n;
}

TEST(s3_unit_not_redirected)
{
	/* levels below that set endpoint, region or path style, but neither
	 * the bucket nor a credential: the business's unit stays whole */
	const char *docs[] = {
	    S3_BIZ,
	    "{\"values\":{\"s3.region\":\"xx-evil-1\"},\"locked\":[]}",
	    "{\"values\":{},\"locked\":[]}",
	    "{\"values\":{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.path_style\":false},"
	    "\"locked\":[]}",
	    "{\"values\":{\"s3.endpoint\":\"http://evil.example\"}}",
	};
	cJSON *m = merge(docs, 5, true, true);

	CHECK(m != NULL);
	CHECK_STR(str(m, "values", "s3.endpoint"), "https://s3.acme.example");
	CHECK_STR(str(m, "values", "s3.region"), "eu-west-1");
	CHECK(cJSON_IsTrue(get(m, "values", "s3.path_style")));
	CHECK_STR(str(m, "values", "s3.bucket"), "acme");
	CHECK_STR(str(m, "values", "s3.access_key_id"), "AKIAACME");
	CHECK_STR(str(m, "values", "s3.secret_access_key"), "sk-acme");
	CHECK(s3_sources(m, "n_b", 6));
	cJSON_Delete(m);
	/* the same for a node's merge (no user level) */
	m = merge(docs, 4, false, false);
	CHECK_STR(str(m, "values", "s3.endpoint"), "https://s3.acme.example");
	CHECK(s3_sources(m, "n_b", 6));
	cJSON_Delete(m);
}

TEST(s3_unit_level)
{
	/* a level that sets the bucket is the unit: nothing of the business's
	 * settings comes with it, its credentials least of all */
	const char *bucket[] = {
	    S3_BIZ,
	    "{\"values\":{\"s3.endpoint\":\"http://domain.example\"},\"locked\":[]}",
	    "{\"values\":{\"s3.bucket\":\"team-bkt\",\"s3.endpoint\":\"http://127.0.0.1:1\"},"
	    "\"locked\":[]}",
	};
	/* so is one that sets a credential (here a session token alone) */
	const char *token[] = {
	    S3_BIZ,
	    "{\"values\":{\"s3.session_token\":\"tok\",\"s3.region\":\"us-east-2\"},"
	    "\"locked\":[]}",
	};
	/* and a user's level that sets a whole unit of its own */
	const char *user[] = {
	    S3_BIZ,
	    "{\"values\":{\"s3.bucket\":\"own\",\"s3.region\":\"us-east-1\","
	    "\"s3.access_key_id\":\"AKIAOWN\",\"s3.secret_access_key\":\"sk-own\"}}",
	};
	cJSON *m = merge(bucket, 3, false, true);

	CHECK(m != NULL);
	CHECK_STR(str(m, "values", "s3.bucket"), "team-bkt");
	CHECK_STR(str(m, "values", "s3.endpoint"), "http://127.0.0.1:1");
	CHECK(get(m, "values", "s3.region") == NULL);
	CHECK(get(m, "values", "s3.path_style") == NULL);
	CHECK(get(m, "values", "s3.access_key_id") == NULL);
	CHECK(get(m, "values", "s3.secret_access_key") == NULL);
	CHECK(s3_sources(m, "n_p", 2));
	cJSON_Delete(m);

	m = merge(token, 2, false, true);
	CHECK_STR(str(m, "values", "s3.session_token"), "tok");
	CHECK_STR(str(m, "values", "s3.region"), "us-east-2");
	CHECK(get(m, "values", "s3.bucket") == NULL);
	CHECK(get(m, "values", "s3.secret_access_key") == NULL);
	CHECK(s3_sources(m, "n_d", 2));
	cJSON_Delete(m);

	m = merge(user, 2, true, true);
	CHECK_STR(str(m, "values", "s3.secret_access_key"), "sk-own");
	CHECK(get(m, "values", "s3.endpoint") == NULL);
	CHECK(s3_sources(m, "n_d", 4));
	cJSON_Delete(m);

	/* no level sets a unit: no s3.* value, no source */
	m = merge(bucket + 1, 1, false, true);
	CHECK(get(m, "values", "s3.endpoint") == NULL);
	CHECK(s3_sources(m, "n_b", 0));
	cJSON_Delete(m);
}

TEST(s3_unit_locks)
{
	/* a lock on one s3.* key locks them all: the unit is taken at or
	 * above the locking level, and every s3.* key shows that lock */
	const char *docs[] = {
	    S3_BIZ,
	    "{\"values\":{},\"locked\":[\"s3.region\"]}",
	    "{\"values\":{\"s3.bucket\":\"team-bkt\",\"s3.access_key_id\":\"AKIATEAM\","
	    "\"s3.secret_access_key\":\"sk-team\",\"s3.endpoint\":\"http://127.0.0.1:1\"},"
	    "\"locked\":[\"s3.bucket\"]}",
	    "{\"values\":{\"s3.bucket\":\"user-bkt\"}}",
	};
	const char *above[] = {
	    "{\"values\":{\"s3.bucket\":\"acme\"},\"locked\":[]}",
	    "{\"values\":{\"s3.endpoint\":\"http://127.0.0.1:1\"},\"locked\":[\"s3.bucket\"]}",
	    "{\"values\":{\"s3.access_key_id\":\"AKIATEAM\"},\"locked\":[]}",
	};
	const cJSON *e;
	cJSON *m = merge(docs, 4, true, true);
	int n = 0;

	CHECK(m != NULL);
	CHECK_STR(str(m, "values", "s3.bucket"), "acme");
	CHECK_STR(str(m, "values", "s3.endpoint"), "https://s3.acme.example");
	CHECK_STR(str(m, "values", "s3.secret_access_key"), "sk-acme");
	CHECK(s3_sources(m, "n_b", 6));
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "locked"))
	{
		CHECK(!strncmp(e->string, "s3.", 3));
		CHECK_STR(e->valuestring, "n_d");
		n++;
	}
	CHECK_EQ(n, 7);
	cJSON_Delete(m);

	/* the locking level sets no unit: the nearest one above it counts,
	 * one below it does not */
	m = merge(above, 3, false, true);
	CHECK_STR(str(m, "values", "s3.bucket"), "acme");
	CHECK(get(m, "values", "s3.endpoint") == NULL);
	CHECK(get(m, "values", "s3.access_key_id") == NULL);
	CHECK(s3_sources(m, "n_b", 1));
	CHECK_STR(str(m, "locked", "s3.access_key_id"), "n_d");
	cJSON_Delete(m);
}

/* config_s3_rebind() of the write vals (JSON of a PUT's "values") to the
 * level document doc: 0, or -EPERM with the secret it names in need (NULL
 * when it names none). */
static int rebind(const char *doc, const char *vals, const char **need)
{
	cJSON *d = cJSON_Parse(doc), *v = vals ? cJSON_Parse(vals) : NULL;
	int ret = config_s3_rebind(d, v, need);

	cJSON_Delete(d);
	cJSON_Delete(v);
	return ret;
}

TEST(s3_rebind)
{
	/* where the credentials go cannot change at their level without them */
	const char *moves[] = {
	    "{\"s3.endpoint\":\"http://127.0.0.1:1\"}",
	    "{\"s3.region\":\"xx-evil-1\"}",
	    "{\"s3.bucket\":\"other\"}",
	    "{\"s3.path_style\":false}",
	    "{\"s3.endpoint\":null}",
	    "{\"s3.path_style\":null}",
	    "{\"s3.endpoint\":\"https://s3.acme.example\",\"s3.endpoint\":\"http://127.0.0.1:1\"}",
	    "{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.session_token\":\"st-mine\"}",
	    "{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.access_key_id\":\"AKIAMINE\"}",
	};
	/* what may pass at that level */
	const char *fine[] = {
	    "{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.secret_access_key\":\"sk-acme\"}",
	    "{\"s3.bucket\":\"other\",\"s3.secret_access_key\":\"sk-new\"}",
	    "{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.secret_access_key\":null}",
	    "{\"s3.endpoint\":\"https://s3.acme.example\",\"s3.region\":\"eu-west-1\","
	    "\"s3.path_style\":true,\"s3.bucket\":\"acme\"}",
	    "{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.endpoint\":\"https://s3.acme.example\"}",
	    "{\"s3.access_key_id\":\"AKIAOTHER\",\"retention.days\":30}",
	    "{\"s3.bucket\":null,\"s3.region\":null,\"s3.endpoint\":null,\"s3.path_style\":null,"
	    "\"s3.access_key_id\":null,\"s3.secret_access_key\":null,\"s3.session_token\":null}",
	    "{}",
	};
	const char *token =
	    "{\"values\":{\"s3.bucket\":\"acme\",\"s3.secret_access_key\":\"sk-acme\","
	    "\"s3.session_token\":\"st-acme\"},\"locked\":[]}";
	const char *no_secret = "{\"values\":{\"s3.bucket\":\"acme\",\"s3.endpoint\":"
				"\"https://s3.acme.example\",\"s3.access_key_id\":\"AKIAACME\"}}";
	const char *need = "x";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(moves); i++) {
		need = NULL;
		CHECK_EQ(rebind(S3_BIZ, moves[i], &need), -EPERM);
		CHECK_STR(need, "s3.secret_access_key");
	}
	for (i = 0; i < ARRAY_SIZE(fine); i++) {
		need = "x";
		CHECK_EQ(rebind(S3_BIZ, fine[i], &need), 0);
		CHECK(need == NULL);
	}
	/* a body with "locked" only */
	CHECK_EQ(rebind(S3_BIZ, NULL, &need), 0);

	/* every secret the level holds: the session token too */
	CHECK_EQ(rebind(token,
			"{\"s3.endpoint\":\"http://127.0.0.1:1\","
			"\"s3.secret_access_key\":\"sk-acme\"}",
			&need),
		 -EPERM);
	CHECK_STR(need, "s3.session_token");
	CHECK_EQ(
	    rebind(token, "{\"s3.region\":\"us-east-1\",\"s3.session_token\":\"st-acme\"}", &need),
	    -EPERM);
	CHECK_STR(need, "s3.secret_access_key");
	CHECK_EQ(rebind(token,
			"{\"s3.region\":\"us-east-1\",\"s3.secret_access_key\":\"sk-acme\","
			"\"s3.session_token\":\"st-acme\"}",
			&need),
		 0);
	CHECK_EQ(rebind(token,
			"{\"s3.region\":\"us-east-1\",\"s3.secret_access_key\":\"sk-new\","
			"\"s3.session_token\":null}",
			&need),
		 0);
	/* a level holding only a token */
	CHECK_EQ(rebind("{\"values\":{\"s3.session_token\":\"st-acme\"}}",
			"{\"s3.endpoint\":\"http://127.0.0.1:1\"}", &need),
		 -EPERM);
	CHECK_STR(need, "s3.session_token");

	/* no secret at the level: nothing to bind, also for a new endpoint */
	CHECK_EQ(rebind(no_secret, "{\"s3.endpoint\":\"http://127.0.0.1:1\"}", &need), 0);
	CHECK_EQ(
	    rebind("{}", "{\"s3.bucket\":\"b1b\",\"s3.endpoint\":\"http://127.0.0.1:1\"}", &need),
	    0);
	CHECK(need == NULL);
}

/* config_s3_lends() of level document doc (its "values" JSON) to an
 * object at where (JSON as model/s3set.h keeps it). */
static bool lends(const char *vals, const char *where)
{
	char doc[1024];
	cJSON *d, *w = cJSON_Parse(where);
	bool ret;

	snprintf(doc, sizeof(doc), "{\"values\":%s,\"locked\":[]}", vals);
	d = cJSON_Parse(doc);
	ret = config_s3_lends(d, w);
	cJSON_Delete(d);
	cJSON_Delete(w);
	return ret;
}

TEST(s3_lends)
{
#define WHERE                                                                                      \
	"\"s3.bucket\":\"acme\",\"s3.region\":\"eu-west-1\",\"s3.endpoint\":\"https://"            \
	"s3.acme.example\",\"s3.path_style\":true"
#define KEYS "\"s3.access_key_id\":\"AKIANEW\",\"s3.secret_access_key\":\"sk-new\""
	const char *obj = "{\"bucket\":\"acme\",\"region\":\"eu-west-1\","
			  "\"endpoint\":\"https://s3.acme.example\",\"path_style\":true,"
			  "\"access_key_id\":\"AKIAOLD\",\"secret_access_key\":\"sk-old\"}";
	/* a level at the object's place with a key lends it: the rotated key
	 * serves what the old one wrote (the object's own key does not matter) */
	CHECK(lends("{" WHERE "," KEYS "}", obj));
	CHECK(lends("{" WHERE "," KEYS ",\"s3.session_token\":\"st\",\"logging.enabled\":false}",
		    obj));
	/* anywhere else, or without a whole key, it lends nothing */
	CHECK(!lends("{" WHERE "}", obj));
	CHECK(!lends("{" WHERE ",\"s3.access_key_id\":\"AKIANEW\"}", obj));
	CHECK(!lends("{" WHERE ",\"s3.secret_access_key\":\"sk-new\"}", obj));
	CHECK(!lends("{" KEYS "}", obj));
	CHECK(!lends("{\"s3.bucket\":\"other\",\"s3.region\":\"eu-west-1\","
		     "\"s3.endpoint\":\"https://s3.acme.example\",\"s3.path_style\":true," KEYS "}",
		     obj));
	CHECK(!lends("{\"s3.bucket\":\"acme\",\"s3.region\":\"us-east-1\","
		     "\"s3.endpoint\":\"https://s3.acme.example\",\"s3.path_style\":true," KEYS "}",
		     obj));
	CHECK(!lends("{\"s3.bucket\":\"acme\",\"s3.region\":\"eu-west-1\","
		     "\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.path_style\":true," KEYS "}",
		     obj));
	CHECK(!lends("{\"s3.bucket\":\"acme\",\"s3.region\":\"eu-west-1\","
		     "\"s3.endpoint\":\"https://s3.acme.example\",\"s3.path_style\":false," KEYS
		     "}",
		     obj));
	/* an absent endpoint (AWS) matches only an absent one; an absent path
	 * style is false */
	CHECK(!lends(
	    "{\"s3.bucket\":\"acme\",\"s3.region\":\"eu-west-1\",\"s3.path_style\":true," KEYS "}",
	    obj));
	CHECK(lends("{\"s3.bucket\":\"acme\",\"s3.region\":\"eu-west-1\"," KEYS "}",
		    "{\"bucket\":\"acme\",\"region\":\"eu-west-1\",\"path_style\":false}"));
	CHECK(!lends("{\"s3.bucket\":\"acme\",\"s3.region\":\"eu-west-1\"," KEYS "}",
		     "{\"bucket\":\"acme\",\"region\":\"eu-west-1\","
		     "\"endpoint\":\"https://s3.acme.example\",\"path_style\":false}"));
	/* values the schema refuses count as absent (a bucket name out of rule) */
	CHECK(!lends("{\"s3.bucket\":\"Acme_Bad\",\"s3.region\":\"eu-west-1\"," KEYS "}",
		     "{\"bucket\":\"Acme_Bad\",\"region\":\"eu-west-1\"}"));
	/* an object without a bucket (a blob that is not settings) gets nothing */
	CHECK(!lends("{" WHERE "," KEYS "}", "{}"));
	CHECK(!lends("{" WHERE "," KEYS "}", "{\"bucket\":\"\"}"));
#undef WHERE
#undef KEYS
}

TEST(caps)
{
	const char *docs[LEVELS + 1] = {"{}", "{}", "{}", "{}", "{}", "{}", "{}"};
	cJSON *d[LEVELS + 1], *out = (cJSON *)1;
	const char *labels[LEVELS + 1] = {"a", "b", "c", "d", "e", "f", "g"};
	size_t i;

	for (i = 0; i < LEVELS + 1; i++)
		d[i] = cJSON_Parse(docs[i]);
	CHECK_EQ(config_merge((const cJSON *const *)d, labels, LEVELS + 1, true, false, &out),
		 -EINVAL);
	CHECK(out == NULL);
	/* documents without values or locks merge as empty ones */
	CHECK_EQ(config_merge((const cJSON *const *)d, labels, 2, true, false, &out), 0);
	CHECK_STR(str(out, "source", "logging.enabled"), "default");
	cJSON_Delete(out);
	for (i = 0; i < LEVELS + 1; i++)
		cJSON_Delete(d[i]);
}

/* --- logging.enabled over time --- */

/* A level with history (at, v) pairs hist[0..2n), before b, lock l. */
static void hist_set(struct config_hist *h, int8_t b, bool l, const int64_t *hist, size_t n)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	h->before = b;
	h->locked = l;
	for (i = 0; i < n; i++)
		h->e[i] = (struct config_hist_ent){hist[2 * i], (int8_t)hist[2 * i + 1]};
	h->n = n;
}

TEST(history_value)
{
	static struct config_hist h;
	const int64_t e[] = {100, 0, 200, 1, 200, CONFIG_HIST_UNSET, 300, 1};

	/* never changed: its value all along */
	hist_set(&h, 0, false, NULL, 0);
	CHECK_EQ(config_hist_value(&h, INT64_MIN), 0);
	CHECK_EQ(config_hist_value(&h, INT64_MAX), 0);
	hist_set(&h, 1, false, e, 4);
	CHECK_EQ(config_hist_value(&h, 99), 1); /* before the oldest entry */
	CHECK_EQ(config_hist_value(&h, 100), 0);
	CHECK_EQ(config_hist_value(&h, 199), 0);
	/* two writes in one millisecond: the later one holds */
	CHECK_EQ(config_hist_value(&h, 200), CONFIG_HIST_UNSET);
	CHECK_EQ(config_hist_value(&h, 299), CONFIG_HIST_UNSET);
	CHECK_EQ(config_hist_value(&h, 300), 1);
	CHECK_EQ(config_hist_value(&h, INT64_MAX), 1);
}

TEST(history_merge)
{
	static struct config_hist biz, team, user;
	const struct config_hist *lv[3] = {&biz, &team, &user};
	const int64_t team_off[] = {1000, 0, 2000, 1};		      /* off 1000..2000 */
	const int64_t user_on[] = {1500, 1, 1800, CONFIG_HIST_UNSET}; /* on 1500..1800 */
	const int64_t biz_off[] = {500, 0};

	/* no level: the default, on */
	CHECK(config_logging_at(lv, 0, false, 0));
	hist_set(&biz, CONFIG_HIST_UNSET, false, NULL, 0);
	hist_set(&team, CONFIG_HIST_UNSET, false, team_off, 2);
	hist_set(&user, CONFIG_HIST_UNSET, false, user_on, 2);
	CHECK(config_logging_at(lv, 2, false, 999));
	CHECK(!config_logging_at(lv, 2, false, 1000));
	CHECK(!config_logging_at(lv, 2, false, 1999));
	CHECK(config_logging_at(lv, 2, false, 2000));
	/* the user's own value, below the team's, wins while it is set */
	CHECK(!config_logging_at(lv, 3, true, 1499));
	CHECK(config_logging_at(lv, 3, true, 1500));
	CHECK(config_logging_at(lv, 3, true, 1799));
	CHECK(!config_logging_at(lv, 3, true, 1800)); /* removed: the team's again */
	CHECK(config_logging_at(lv, 3, true, 2000));
	/* a business value applies where the team sets none */
	hist_set(&biz, CONFIG_HIST_UNSET, false, biz_off, 1);
	CHECK(config_logging_at(lv, 3, true, 499));
	CHECK(!config_logging_at(lv, 3, true, 500));
	CHECK(config_logging_at(lv, 3, true, 1500)); /* the user's on */
	CHECK(config_logging_at(lv, 3, true, 2000)); /* the team's on */
	/* a current lock at the business holds for every time: its value then */
	biz.locked = true;
	CHECK(config_logging_at(lv, 3, true, 499));
	CHECK(!config_logging_at(lv, 3, true, 1500));
	CHECK(!config_logging_at(lv, 3, true, 2500));
	/* the lock of the last level is ignored when it is a user's */
	biz.locked = false;
	user.locked = true;
	CHECK(config_logging_at(lv, 3, true, 2500));
	/* a NULL level is skipped */
	lv[1] = NULL;
	CHECK(!config_logging_at(lv, 3, true, 2500)); /* the business's off */
}

TEST(history_timeline)
{
	static struct config_hist biz, team, user;
	const struct config_hist *lv[3] = {&biz, &team, &user};
	const int64_t team_off[] = {1000, 0, 2000, 1};
	const int64_t user_on[] = {1500, 1, 1800, CONFIG_HIST_UNSET};
	struct config_timeline *tl = NULL;
	int64_t t;

	hist_set(&biz, CONFIG_HIST_UNSET, false, NULL, 0);
	hist_set(&team, CONFIG_HIST_UNSET, false, team_off, 2);
	hist_set(&user, CONFIG_HIST_UNSET, false, user_on, 2);
	CHECK_EQ(config_timeline_build(lv, 3, true, &tl), 0);
	if (!tl)
		return;
	/* on, off at 1000, on at 1500, off at 1800, on at 2000 */
	CHECK(tl->first);
	CHECK_EQ(tl->n, 4);
	CHECK_EQ(tl->at[0], 1000);
	CHECK_EQ(tl->at[1], 1500);
	CHECK_EQ(tl->at[2], 1800);
	CHECK_EQ(tl->at[3], 2000);
	CHECK(!tl->v[0] && tl->v[1] && !tl->v[2] && tl->v[3]);
	for (t = 900; t <= 2100; t++)
		if (config_timeline_at(tl, t) != config_logging_at(lv, 3, true, t))
			break;
	CHECK_EQ(t, 2101);
	config_timeline_free(tl);

	/* no change anywhere: one value, no points */
	hist_set(&team, 0, false, NULL, 0);
	CHECK_EQ(config_timeline_build(lv, 2, false, &tl), 0);
	if (!tl)
		return;
	CHECK(!tl->first);
	CHECK_EQ(tl->n, 0);
	CHECK(!config_timeline_at(tl, INT64_MAX));
	config_timeline_free(tl);
	config_timeline_free(NULL);
}

/* Full histories at every level: the timeline agrees with the merge at
 * every change point and between them. */
TEST(history_timeline_full)
{
	static struct config_hist h[LEVELS];
	const struct config_hist *lv[LEVELS];
	struct config_timeline *tl = NULL;
	unsigned seed = 7;
	size_t i, j, bad = 0;

	for (i = 0; i < LEVELS; i++) {
		int64_t at = 0;

		memset(&h[i], 0, sizeof(h[i]));
		h[i].before = CONFIG_HIST_UNSET;
		h[i].locked = i == 1; /* a lock at the second level */
		for (j = 0; j < CONFIG_HIST_MAX; j++) {
			seed = seed * 1103515245u + 12345u;
			at += (seed >> 16) % 50;
			h[i].e[j] = (struct config_hist_ent){at, (int8_t)((seed >> 8) % 3) - 1};
		}
		h[i].n = CONFIG_HIST_MAX;
		lv[i] = &h[i];
	}
	CHECK_EQ(config_timeline_build(lv, LEVELS, true, &tl), 0);
	if (!tl)
		return;
	CHECK(tl->n <= LEVELS * CONFIG_HIST_MAX);
	for (i = 0; i < LEVELS; i++)
		for (j = 0; j < h[i].n; j++) {
			int64_t t = h[i].e[j].at;

			bad += config_timeline_at(tl, t) != config_logging_at(lv, LEVELS, true, t);
			bad += config_timeline_at(tl, t - 1) !=
			       config_logging_at(lv, LEVELS, true, t - 1);
		}
	CHECK_EQ(bad, 0);
	for (i = 1; i < tl->n; i++)
		bad += tl->at[i] <= tl->at[i - 1] || tl->v[i] == tl->v[i - 1];
	CHECK_EQ(bad, 0);
	config_timeline_free(tl);
}

static int no_audit(struct store_batch *b, const char *scope, const cJSON *detail, void *ctx)
{
	(void)b;
	(void)scope;
	(void)detail;
	(void)ctx;
	return 0;
}

/* A level's history as writes make it, on a real store: every change is
 * appended, other writes are not, the cap drops the oldest into "before". */
TEST(history_on_a_store)
{
	char dir[256], keyf[300], why[CONFIG_WHY_SIZE];
	static struct config_hist h;
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct target t;
	struct srv s;
	cJSON *view = NULL, *body;
	int64_t t0 = now_ms();
	bool on = false;
	int i;

	check_mkdtemp(dir, sizeof(dir), "cfghist");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	CHECK_EQ(srv_bootstrap(&s, "Biz", "admin@example.com", "password-admin"), 0);
	CHECK_EQ(target_node(&s, s.business_id, &t), 0);

	/* never written: unset all along */
	CHECK_EQ(config_hist_load(&s, "node", s.business_id, &h), 0);
	CHECK_EQ(h.n, 0);
	CHECK_EQ(h.before, CONFIG_HIST_UNSET);
	CHECK_EQ(config_hist_load(&s, "group", s.business_id, &h), -EINVAL);

	/* another key: no entry */
	body = cJSON_Parse("{\"values\":{\"activity.interval_s\":30}}");
	CHECK_EQ(config_level_put(&s, &t, "node", s.business_id, body, no_audit, NULL, &view, why,
				  sizeof(why)),
		 0);
	cJSON_Delete(view);
	cJSON_Delete(body);
	CHECK_EQ(config_hist_load(&s, "node", s.business_id, &h), 0);
	CHECK_EQ(h.n, 0);

	/* 300 changes, off, on, off...: the newest 256 are kept */
	for (i = 0; i < 300; i++) {
		body = cJSON_Parse(i % 2 ? "{\"values\":{\"logging.enabled\":true}}"
					 : "{\"values\":{\"logging.enabled\":false}}");
		CHECK_EQ(config_level_put(&s, &t, "node", s.business_id, body, no_audit, NULL,
					  &view, why, sizeof(why)),
			 0);
		cJSON_Delete(view);
		cJSON_Delete(body);
	}
	/* the same value again and a lock: no entry */
	body =
	    cJSON_Parse("{\"values\":{\"logging.enabled\":true},\"locked\":[\"logging.enabled\"]}");
	CHECK_EQ(config_level_put(&s, &t, "node", s.business_id, body, no_audit, NULL, &view, why,
				  sizeof(why)),
		 0);
	cJSON_Delete(view);
	cJSON_Delete(body);
	CHECK_EQ(config_hist_load(&s, "node", s.business_id, &h), 0);
	CHECK_EQ(h.n, CONFIG_HIST_MAX);
	CHECK(h.locked);
	CHECK_EQ(h.before, 1);	 /* write 43 (on), the last one dropped */
	CHECK_EQ(h.e[0].v, 0);	 /* write 44 */
	CHECK_EQ(h.e[255].v, 1); /* write 299 */
	CHECK(h.e[0].at >= t0 && h.e[255].at >= h.e[0].at && h.e[255].at <= now_ms());
	CHECK_EQ(config_logging_for(&s, &t, NULL, now_ms(), &on), 0);
	CHECK(on);
	CHECK_EQ(config_logging_for(&s, &t, NULL, t0 - 1, &on), 0);
	CHECK(on); /* "before" */

	/* removing it appends "not set" */
	body = cJSON_Parse("{\"values\":{\"logging.enabled\":null}}");
	CHECK_EQ(config_level_put(&s, &t, "node", s.business_id, body, no_audit, NULL, &view, why,
				  sizeof(why)),
		 0);
	cJSON_Delete(view);
	cJSON_Delete(body);
	CHECK_EQ(config_hist_load(&s, "node", s.business_id, &h), 0);
	CHECK_EQ(h.n, CONFIG_HIST_MAX);
	CHECK_EQ(h.before, 0); /* write 44 dropped now */
	CHECK_EQ(h.e[255].v, CONFIG_HIST_UNSET);

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

int main(void)
{
	RUN(defaults_and_order);
	RUN(screenshot_format_and_quality);
	RUN(locks);
	RUN(secrets_and_schema);
	RUN(s3_unit_not_redirected);
	RUN(s3_unit_level);
	RUN(s3_unit_locks);
	RUN(s3_rebind);
	RUN(s3_lends);
	RUN(caps);
	RUN(history_value);
	RUN(history_merge);
	RUN(history_timeline);
	RUN(history_timeline_full);
	RUN(history_on_a_store);
	return CHECK_DONE();
}
