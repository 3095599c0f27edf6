// SPDX-License-Identifier: BSD-2-Clause
/*
 * model/config.c - the config hierarchy (model/config.h): the schema of
 * policy keys, one document per level (business, domain, project, team,
 * user), locks, the effective merge, the S3 unit's rules and the write of
 * a level. The routes are api/config.c's.
 *
 * A level's document is {"values":{key:value},"locked":[keys]} (users have
 * no locks), stored as ONE sealed blob: CONFIG pk scope, sk "config", scope
 * "node:<id>" or "user:<id>" (key_scope()), aad "config|"+scope
 * (level_aad()). Nothing of it is stored in clear. A write reads the blob
 * inside its batch (store_batch_get), so a concurrent write of the same
 * level makes the commit fail with -EAGAIN and the whole merge is redone.
 *
 * Merge: the schema's defaults, then each node from the business down to
 * the team, then the user's document. A key locked at a node keeps the
 * value it has there (set there or inherited) for everything below; values
 * set below are ignored (and cannot be set any more: -EPERM).
 *
 * The S3 settings (s3.*) are one unit, merged whole and not key by key: all
 * of them come from one level, the nearest that sets the bucket or a
 * credential (an anchor key), so that a level that sets only the endpoint,
 * region or path style cannot point the credentials set above it, which it
 * cannot read, at another host. A lock on any s3.* key locks them all: the
 * unit is then taken at or above the locking node, and no s3.* key can be
 * set below it.
 *
 * At its own level, the credentials stay bound to where they were set to be
 * sent: a write that changes the endpoint, region, bucket or path style of
 * a level holding a secret must give every secret held there again (or
 * remove it), so that only who knows them can send them elsewhere
 * (config_s3_rebind(); -EPERM otherwise).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "store/keys.h"
#include "core/srv.h"
#include "util.h"

#define CFG_STR_MAX 1024
#define CFG_TRIES 8		     /* merges redone after a concurrent write */
#define AAD_SIZE (STORE_KEY_MAX + 8) /* "config|" + scope */
#define LEVELS_MAX (TREE_DEPTH + 1)  /* nodes below the root, and the user */

enum ck_type { CK_BOOL, CK_INT, CK_STR };
enum ck_fmt { FMT_TEXT, FMT_BUCKET, FMT_URL, FMT_PREFIX, FMT_SHOT };

/* One policy key: type, range (ints) or length in bytes (strings), default. */
struct ckey {
	const char *name;
	enum ck_type type;
	int64_t min, max;
	int64_t def;
	bool has_def;
	const char *sdef; /* the default of a string key (has_def) */
	bool secret;	  /* never in a response, never in clear in the store */
	enum ck_fmt fmt;
	bool s3;     /* one of the S3 unit's keys (see the merge above) */
	bool anchor; /* an S3 key whose level is the unit's: bucket, credentials */
	bool where;  /* an S3 key that says where requests go (config_s3_rebind()) */
	bool root;   /* set at the root only, never merged (backup.*) */
	bool bunit;  /* one of the backup bucket's keys (backup.s3.*; config_s3_rebind()) */
};

#define CK_B(n, d)                                                                                 \
	{                                                                                          \
		.name = n, .type = CK_BOOL, .max = 1, .def = d, .has_def = true                    \
	}
#define CK_I(n, lo, hi, d)                                                                         \
	{                                                                                          \
		.name = n, .type = CK_INT, .min = lo, .max = hi, .def = d, .has_def = true         \
	}
#define CK_S(n, lo, hi, f, sec)                                                                    \
	{                                                                                          \
		.name = n, .type = CK_STR, .min = lo, .max = hi, .fmt = f, .secret = sec           \
	}

/* a root-only integer, and a key of the backup bucket (root-only) */
#define CK_RI(n, lo, hi, d)                                                                        \
	{                                                                                          \
		.name = n, .type = CK_INT, .min = lo, .max = hi, .def = d, .has_def = true,        \
		.root = true                                                                       \
	}
#define CK_BS3(n, lo, hi, f, sec, whr)                                                             \
	{                                                                                          \
		.name = n, .type = CK_STR, .min = lo, .max = hi, .fmt = f, .secret = sec,          \
		.root = true, .bunit = true, .where = whr                                          \
	}

#define CK_S3(n, lo, hi, f, sec, anc, whr)                                                         \
	{                                                                                          \
		.name = n, .type = CK_STR, .min = lo, .max = hi, .fmt = f, .secret = sec,          \
		.s3 = true, .anchor = anc, .where = whr                                            \
	}

static const struct ckey schema[] = {
    CK_B("logging.enabled", 1),
    CK_I("activity.interval_s", 10, 3600, 60),
    CK_I("idle.threshold_s", 10, 86400, 300),
    CK_I("sysinfo.interval_s", 60, 86400, 900),
    CK_B("apps.titles", 0),
    CK_B("screenshots.enabled", 0),
    CK_I("screenshots.interval_s", 30, 86400, 600),
    CK_I("screenshots.jitter_s", 0, 3600, 0),
    CK_B("screenshots.blur", 0),
    /* how helpers encode shots: WebP at 50 keeps text readable at 2.4x
     * smaller than PNG on a desktop (docs/PERFORMANCE.md, "Screenshots") */
    {.name = "screenshots.format",
     .type = CK_STR,
     .min = 3,
     .max = 4,
     .fmt = FMT_SHOT,
     .has_def = true,
     .sdef = "webp"},
    CK_I("screenshots.quality", 1, 100, 50),
    CK_B("screenshots.employee_view", 0),
    CK_I("retention.days", 1, 3650, 365),
    CK_S3("s3.bucket", 3, 63, FMT_BUCKET, false, true, true),
    CK_S3("s3.region", 1, 64, FMT_TEXT, false, false, true),
    CK_S3("s3.endpoint", 1, CFG_STR_MAX, FMT_URL, false, false, true),
    /* no default: absent means virtual-host style, like AWS */
    {.name = "s3.path_style", .type = CK_BOOL, .max = 1, .s3 = true, .where = true},
    CK_S3("s3.access_key_id", 1, CFG_STR_MAX, FMT_TEXT, false, true, false),
    CK_S3("s3.secret_access_key", 1, CFG_STR_MAX, FMT_TEXT, true, true, false),
    /* STS session tokens run past 1 KiB */
    CK_S3("s3.session_token", 1, 4096, FMT_TEXT, true, true, false),
    /* the server's periodic backups (model/backup_sched.c): root only */
    CK_RI("backup.interval_h", 0, 8760, 24),
    CK_RI("backup.keep", 1, 1000, 14),
    CK_BS3("backup.s3.bucket", 3, 63, FMT_BUCKET, false, true),
    {.name = "backup.s3.prefix",
     .type = CK_STR,
     .max = CONFIG_PREFIX_MAX,
     .fmt = FMT_PREFIX,
     .has_def = true,
     .sdef = CONFIG_BACKUP_PREFIX_DEFAULT,
     .root = true,
     .bunit = true},
    CK_BS3("backup.s3.region", 1, 64, FMT_TEXT, false, true),
    CK_BS3("backup.s3.endpoint", 1, CFG_STR_MAX, FMT_URL, false, true),
    {.name = "backup.s3.path_style",
     .type = CK_BOOL,
     .max = 1,
     .root = true,
     .bunit = true,
     .where = true},
    CK_BS3("backup.s3.access_key_id", 1, CFG_STR_MAX, FMT_TEXT, false, false),
    CK_BS3("backup.s3.secret_access_key", 1, CFG_STR_MAX, FMT_TEXT, true, false),
    CK_BS3("backup.s3.session_token", 1, 4096, FMT_TEXT, true, false),
};
#define NKEYS ARRAY_SIZE(schema)

/* Index of key name in the schema, or -1. */
static int key_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < NKEYS; i++)
		if (!strcmp(schema[i].name, name))
			return (int)i;
	return -1;
}

/* S3 bucket naming: a-z 0-9 . -, starting and ending with a letter or digit */
static bool bucket_ok(const char *v)
{
	size_t n = strlen(v), i;

	for (i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	return n && v[0] != '.' && v[0] != '-' && v[n - 1] != '.' && v[n - 1] != '-';
}

/* http:// or https:// followed by a host, no spaces */
static bool url_ok(const char *v)
{
	const char *h = !strncmp(v, "https://", 8)  ? v + 8
			: !strncmp(v, "http://", 7) ? v + 7
						    : NULL;

	return h && *h && *h != '/' && !strchr(v, ' ');
}

/* An S3 key prefix: "" or segments of A-Z a-z 0-9 ! - _ . * ' ( ), each
 * ending in '/' (no leading '/', no empty segment, no "." or ".." one) */
static bool prefix_ok(const char *v)
{
	size_t n = strlen(v), i, seg = 0;

	if (n && v[n - 1] != '/')
		return false;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (c == '/') {
			if (!seg || (seg == 1 && v[i - 1] == '.') ||
			    (seg == 2 && v[i - 1] == '.' && v[i - 2] == '.'))
				return false;
			seg = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!-_.*'()", c)))
			return false;
		seg++;
	}
	return true;
}

/* A screenshot format (screenshots.format): png, webp or jpeg */
static bool shot_fmt_ok(const char *v)
{
	return !strcmp(v, "png") || !strcmp(v, "webp") || !strcmp(v, "jpeg");
}

/*
 * Check value v (not null) against key k. Pure. 0, or -EINVAL with a
 * message naming the key and what it takes in msg.
 */
static int key_check(const struct ckey *k, const cJSON *v, char *msg, size_t n)
{
	switch (k->type) {
	case CK_BOOL:
		if (cJSON_IsBool(v))
			return 0;
		snprintf(msg, n, "config key '%s' must be true or false", k->name);
		return -EINVAL;
	case CK_INT:
		if (cJSON_IsNumber(v) && v->valuedouble >= (double)k->min &&
		    v->valuedouble <= (double)k->max &&
		    v->valuedouble == (double)(int64_t)v->valuedouble)
			return 0;
		snprintf(msg, n, "config key '%s' must be an integer %lld..%lld", k->name,
			 (long long)k->min, (long long)k->max);
		return -EINVAL;
	case CK_STR:
		if (cJSON_IsString(v) &&
		    text_valid(v->valuestring, (size_t)k->min, (size_t)k->max) &&
		    (k->fmt != FMT_BUCKET || bucket_ok(v->valuestring)) &&
		    (k->fmt != FMT_URL || url_ok(v->valuestring)) &&
		    (k->fmt != FMT_PREFIX || prefix_ok(v->valuestring)) &&
		    (k->fmt != FMT_SHOT || shot_fmt_ok(v->valuestring)))
			return 0;
		if (k->fmt == FMT_SHOT) {
			snprintf(msg, n, "config key '%s' must be \"png\", \"webp\" or \"jpeg\"",
				 k->name);
			return -EINVAL;
		}
		if (k->fmt == FMT_PREFIX) {
			snprintf(msg, n,
				 "config key '%s' must be \"\" or an S3 key prefix of at most %lld "
				 "bytes of A-Z a-z 0-9 ! - _ . * ' ( ) and '/', ending in '/' "
				 "(e.g. \"actlog-backups/\")",
				 k->name, (long long)k->max);
			return -EINVAL;
		}
		snprintf(msg, n, "config key '%s' must be %s of %lld..%lld bytes%s", k->name,
			 k->fmt == FMT_URL ? "an http:// or https:// URL" : "a string",
			 (long long)k->min, (long long)k->max,
			 k->fmt == FMT_BUCKET ? " of a-z 0-9 . - (an S3 bucket name)"
					      : " without control characters");
		return -EINVAL;
	}
	return -EINVAL;
}

/* --- level documents --- */

/*
 * The AAD that binds the sealed document of a level to it: "config|" and
 * the level's scope (store/keys.h: key_scope()). Not a key: it is never
 * stored, only checked when the blob is opened. Returns aad.
 */
static const char *level_aad(char aad[AAD_SIZE], const char *scope)
{
	snprintf(aad, AAD_SIZE, "config|%s", scope);
	return aad;
}

/* true when kind names a level: "node" or "user" */
static bool kind_ok(const char *kind)
{
	return kind && (!strcmp(kind, "node") || !strcmp(kind, "user"));
}

/* Wipe every string of j, j itself included (documents may hold secrets). */
static void jwipe(cJSON *j)
{
	cJSON *e;

	if (!j)
		return;
	if (cJSON_IsString(j) && j->valuestring)
		crypto_wipe(j->valuestring, strlen(j->valuestring));
	for (e = j->child; e; e = e->next)
		jwipe(e);
}

/* Free a document that may hold secrets. NULL ok. */
static void doc_free(cJSON *j)
{
	jwipe(j);
	cJSON_Delete(j);
}

void config_json_free(cJSON *j)
{
	doc_free(j);
}

/* The member k of o as an object (or array), replaced when missing or of
 * another type. NULL on ENOMEM. */
static cJSON *member(cJSON *o, const char *k, bool array)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);

	if (array ? cJSON_IsArray(m) : cJSON_IsObject(m))
		return m;
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	m = array ? cJSON_CreateArray() : cJSON_CreateObject();
	if (m && !cJSON_AddItemToObject(o, k, m)) {
		cJSON_Delete(m);
		m = NULL;
	}
	return m;
}

/*
 * Load the document of scope into *out ({"values":{},"locked":[]} when
 * there is none). Free it with doc_free(). 0, -EBADMSG (the blob does not
 * open), -EIO (not JSON), -ENOMEM, -errno.
 */
static int doc_load(struct srv *s, const char *scope, cJSON **out)
{
	char aad[AAD_SIZE];
	uint8_t *pt;
	size_t len;
	cJSON *j;
	int ret;

	*out = NULL;
	ret = sealed_get(s, STORE_T_CONFIG, scope, SK_CONFIG, scope, level_aad(aad, scope), &pt,
			 &len);
	if (ret == -ENOENT) {
		j = cJSON_CreateObject();
	} else if (ret) {
		return ret;
	} else {
		j = cJSON_ParseWithLength((const char *)pt, len);
		crypto_free(pt, len);
		if (!cJSON_IsObject(j)) {
			doc_free(j);
			return -EIO;
		}
	}
	if (!j || !member(j, "values", false) || !member(j, "locked", true)) {
		doc_free(j);
		return -ENOMEM;
	}
	*out = j;
	return 0;
}

/*
 * doc_load() for a write: the blob is first read through batch b, which
 * records it as a condition of the commit. Opening it is a second read;
 * when that one saw a newer blob, the recorded one differs from the store
 * at commit and the commit fails with -EAGAIN, so a merge is never based
 * on a value other than the recorded one.
 */
static int doc_load_b(struct srv *s, struct store_batch *b, const char *scope, cJSON **out)
{
	void *v;
	size_t len;
	int ret = store_batch_get(b, STORE_T_CONFIG, scope, SK_CONFIG, &v, &len);

	*out = NULL;
	if (ret && ret != -ENOENT)
		return ret;
	free(v);
	return doc_load(s, scope, out);
}

/* The API view of a level's document: values without secrets, locked,
 * secrets_set. Keys in schema order; stored keys the schema no longer has
 * are left out. */
static cJSON *doc_view(const cJSON *doc)
{
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(doc, "values");
	const cJSON *locked = cJSON_GetObjectItemCaseSensitive(doc, "locked"), *e;
	cJSON *out = cJSON_CreateObject(), *v, *l, *ss;
	size_t k;

	v = cJSON_AddObjectToObject(out, "values");
	l = cJSON_AddArrayToObject(out, "locked");
	ss = cJSON_AddArrayToObject(out, "secrets_set");
	for (k = 0; k < NKEYS; k++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(vals, schema[k].name);

		if (!x || cJSON_IsNull(x))
			continue;
		if (schema[k].secret)
			cJSON_AddItemToArray(ss, cJSON_CreateString(schema[k].name));
		else
			cJSON_AddItemToObject(v, schema[k].name, cJSON_Duplicate(x, 1));
	}
	cJSON_ArrayForEach(e, locked)
	{
		if (cJSON_IsString(e) && key_find(e->valuestring) >= 0)
			cJSON_AddItemToArray(l, cJSON_CreateString(e->valuestring));
	}
	return out;
}

/* --- the merge --- */

/* The default of key k as JSON, or NULL when it has none. */
static cJSON *key_default(const struct ckey *k)
{
	if (!k->has_def)
		return NULL;
	if (k->type == CK_STR)
		return cJSON_CreateString(k->sdef ? k->sdef : "");
	return k->type == CK_BOOL ? cJSON_CreateBool(k->def != 0)
				  : cJSON_CreateNumber((double)k->def);
}

/* The value a level's "values" vals gives key k, or NULL when it sets none.
 * Stored values were checked when set; a schema that has narrowed since
 * ignores what no longer fits. */
static const cJSON *level_value(const cJSON *vals, size_t k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(vals, schema[k].name);
	char msg[8];

	return !x || cJSON_IsNull(x) || key_check(&schema[k], x, msg, sizeof(msg)) ? NULL : x;
}

/* true when the level's "values" vals sets an anchor of the S3 unit */
static bool sets_s3_anchor(const cJSON *vals)
{
	size_t k;

	for (k = 0; k < NKEYS; k++)
		if (schema[k].anchor && level_value(vals, k))
			return true;
	return false;
}

int config_merge(const cJSON *const docs[], const char *const labels[], size_t n, bool user_last,
		 bool with_secrets, cJSON **out)
{
	const cJSON *val[NKEYS] = {0};
	const char *src[NKEYS] = {0}, *lock[NKEYS] = {0};
	const char *s3_lock = NULL; /* the topmost node that locks an s3.* key */
	size_t s3_at = n;	    /* the S3 unit's level; n: none */
	cJSON *o, *ov, *os, *ol;
	size_t i, k;

	*out = NULL;
	if (n > LEVELS_MAX)
		return -EINVAL;
	for (k = 0; k < NKEYS; k++)
		src[k] = schema[k].has_def && !schema[k].root ? "default" : NULL;
	for (i = 0; i < n; i++) {
		const cJSON *vals = cJSON_GetObjectItemCaseSensitive(docs[i], "values"), *e;

		for (k = 0; k < NKEYS; k++) {
			const cJSON *x =
			    schema[k].s3 || schema[k].root ? NULL : level_value(vals, k);

			if (lock[k] || !x)
				continue;
			val[k] = x;
			src[k] = labels[i];
		}
		if (!s3_lock && sets_s3_anchor(vals))
			s3_at = i;
		if (user_last && i == n - 1)
			break; /* users hold no locks */
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(docs[i], "locked"))
		{
			int x = cJSON_IsString(e) ? key_find(e->valuestring) : -1;

			if (x >= 0 && !lock[x] && !schema[x].root)
				lock[x] = labels[i];
			if (x >= 0 && schema[x].s3 && !s3_lock)
				s3_lock = labels[i];
		}
	}
	/* the S3 unit: every s3.* key from its one level, and locked together */
	for (k = 0; k < NKEYS; k++) {
		if (!schema[k].s3)
			continue;
		val[k] =
		    s3_at < n
			? level_value(cJSON_GetObjectItemCaseSensitive(docs[s3_at], "values"), k)
			: NULL;
		src[k] = val[k] ? labels[s3_at] : NULL;
		lock[k] = s3_lock;
	}
	o = cJSON_CreateObject();
	ov = cJSON_AddObjectToObject(o, "values");
	os = cJSON_AddObjectToObject(o, "source");
	ol = cJSON_AddObjectToObject(o, "locked");
	if (!ov || !os || !ol) {
		doc_free(o);
		return -ENOMEM;
	}
	for (k = 0; k < NKEYS; k++) {
		if (schema[k].root)
			continue; /* not policy: never in an effective config */
		if (val[k] || schema[k].has_def) {
			if (!schema[k].secret || with_secrets)
				cJSON_AddItemToObject(ov, schema[k].name,
						      val[k] ? cJSON_Duplicate(val[k], 1)
							     : key_default(&schema[k]));
		}
		if (src[k])
			cJSON_AddStringToObject(os, schema[k].name, src[k]);
		if (lock[k])
			cJSON_AddStringToObject(ol, schema[k].name, lock[k]);
	}
	*out = o;
	return 0;
}

/* Loads the documents along t's path (nodes below the root) and then
 * user_id's (NULL: none), and merges them. */
int config_effective_for(struct srv *s, const struct target *t, const char *user_id,
			 bool with_secrets, cJSON **out)
{
	cJSON *docs[LEVELS_MAX] = {0};
	const char *labels[LEVELS_MAX];
	struct key scope, user_scope;
	size_t nd = 0, i;
	int ret = 0;

	*out = NULL;
	for (i = 0; i < t->depth && nd < LEVELS_MAX - 1; i++) {
		if (!strcmp(t->path[i], ROOT_ID))
			continue;
		ret = doc_load(s, key_scope(&scope, "node", t->path[i]), &docs[nd]);
		if (ret)
			goto out;
		labels[nd++] = t->path[i];
	}
	if (user_id) {
		ret = doc_load(s, key_scope(&user_scope, "user", user_id), &docs[nd]);
		if (ret)
			goto out;
		/* the scope "user:<id>" is also the source label */
		labels[nd++] = user_scope.s;
	}
	ret = config_merge((const cJSON *const *)docs, labels, nd, user_id != NULL, with_secrets,
			   out);
out:
	for (i = 0; i < LEVELS_MAX; i++)
		doc_free(docs[i]);
	return ret;
}

int config_effective(struct srv *s, const char *team_id, const char *user_id, bool with_secrets,
		     cJSON **out)
{
	struct target t;
	int ret;

	*out = NULL;
	if (user_id && !id_valid(user_id, ID_PREFIX_USER))
		return -EINVAL;
	ret = target_node(s, team_id && *team_id ? team_id : ROOT_ID, &t);
	if (ret)
		return ret;
	return config_effective_for(s, &t, user_id, with_secrets, out);
}

/* --- logging.enabled over time (config.h: config_hist) --- */

#define LOGGING_KEY "logging.enabled"
#define HIST_AAD_SIZE (STORE_KEY_MAX + 16) /* "config-logging|" + scope */

/*
 * The AAD that binds a level's sealed history to it: "config-logging|" and
 * the scope (never stored). Returns aad.
 */
static const char *hist_aad(char aad[HIST_AAD_SIZE], const char *scope)
{
	snprintf(aad, HIST_AAD_SIZE, "config-logging|%s", scope);
	return aad;
}

/* The value a level's document doc gives logging.enabled: CONFIG_HIST_UNSET, 0, 1. */
static int8_t doc_logging(const cJSON *doc)
{
	const cJSON *x = level_value(cJSON_GetObjectItemCaseSensitive(doc, "values"),
				     (size_t)key_find(LOGGING_KEY));

	return !x ? CONFIG_HIST_UNSET : cJSON_IsTrue(x) ? 1 : 0;
}

/* JSON true, false or null for a history value. */
static cJSON *hist_json(int8_t v)
{
	return v == CONFIG_HIST_UNSET ? cJSON_CreateNull() : cJSON_CreateBool(v != 0);
}

/* A history value from JSON; CONFIG_HIST_UNSET for anything but a bool. */
static int8_t hist_of_json(const cJSON *j)
{
	return cJSON_IsBool(j) ? (int8_t)cJSON_IsTrue(j) : CONFIG_HIST_UNSET;
}

/*
 * Read the sealed history of scope into h (its lock untouched). -ENOENT
 * when the level has none; -EBADMSG, -EIO (not JSON), -errno. Entries that
 * are not [number, value] are skipped; times kept non-decreasing; at most
 * CONFIG_HIST_MAX (the newest).
 */
static int hist_read(struct srv *s, const char *scope, struct config_hist *h)
{
	char aad[HIST_AAD_SIZE];
	const cJSON *arr, *e;
	uint8_t *pt;
	size_t len;
	cJSON *j;
	int n, skip, ret;

	ret = sealed_get(s, STORE_T_CONFIG, scope, SK_CONFIG_LOGGING, scope, hist_aad(aad, scope),
			 &pt, &len);
	if (ret)
		return ret;
	j = cJSON_ParseWithLength((const char *)pt, len);
	crypto_free(pt, len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -EIO;
	}
	h->before = hist_of_json(cJSON_GetObjectItemCaseSensitive(j, "before"));
	h->n = 0;
	arr = cJSON_GetObjectItemCaseSensitive(j, "h");
	n = cJSON_GetArraySize(arr);
	skip = n > CONFIG_HIST_MAX ? n - CONFIG_HIST_MAX : 0;
	cJSON_ArrayForEach(e, arr)
	{
		const cJSON *at = cJSON_GetArrayItem(e, 0);
		int64_t ms;

		if (skip > 0) {
			skip--;
			continue;
		}
		if (!cJSON_IsArray(e) || !cJSON_IsNumber(at))
			continue;
		ms = (int64_t)at->valuedouble;
		if (h->n && ms < h->e[h->n - 1].at)
			ms = h->e[h->n - 1].at;
		h->e[h->n].at = ms;
		h->e[h->n].v = hist_of_json(cJSON_GetArrayItem(e, 1));
		h->n++;
	}
	cJSON_Delete(j);
	return 0;
}

/*
 * Add to b the write of scope's history with (now, to) appended; from is
 * the level's value before this write (the history's "before" when it has
 * none yet). The item is read through b first (a recorded read). At most
 * CONFIG_HIST_MAX entries: the oldest is dropped, its value becomes
 * "before". 0 or -errno.
 */
static int hist_append(struct srv *s, struct store_batch *b, const char *scope, int8_t from,
		       int8_t to, int64_t now)
{
	struct config_hist *h = calloc(1, sizeof(*h));
	char aad[HIST_AAD_SIZE], *txt = NULL;
	cJSON *j = NULL, *arr;
	void *v = NULL;
	size_t len, i;
	int ret;

	if (!h)
		return -ENOMEM;
	ret = store_batch_get(b, STORE_T_CONFIG, scope, SK_CONFIG_LOGGING, &v, &len);
	free(v);
	if (!ret)
		ret = hist_read(s, scope, h);
	if (ret == -ENOENT) {
		h->before = from;
		h->n = 0;
		ret = 0;
	}
	if (ret)
		goto out;
	if (h->n == CONFIG_HIST_MAX) {
		h->before = h->e[0].v;
		memmove(h->e, h->e + 1, (h->n - 1) * sizeof(h->e[0]));
		h->n--;
	}
	h->e[h->n].at = h->n && now < h->e[h->n - 1].at ? h->e[h->n - 1].at : now;
	h->e[h->n].v = to;
	h->n++;
	j = cJSON_CreateObject();
	arr = j ? cJSON_AddArrayToObject(j, "h") : NULL;
	ret = arr && cJSON_AddItemToObject(j, "before", hist_json(h->before)) ? 0 : -ENOMEM;
	for (i = 0; !ret && i < h->n; i++) {
		cJSON *e = cJSON_CreateArray();

		if (!e || !cJSON_AddItemToArray(arr, e) ||
		    !cJSON_AddItemToArray(e, cJSON_CreateNumber((double)h->e[i].at)) ||
		    !cJSON_AddItemToArray(e, hist_json(h->e[i].v)))
			ret = -ENOMEM;
	}
	txt = ret ? NULL : cJSON_PrintUnformatted(j);
	if (!ret && !txt)
		ret = -ENOMEM;
	if (!ret)
		ret = sealed_put(s, b, STORE_T_CONFIG, scope, SK_CONFIG_LOGGING, scope,
				 hist_aad(aad, scope), txt, strlen(txt));
out:
	free(txt);
	cJSON_Delete(j);
	free(h);
	return ret;
}

int config_hist_value(const struct config_hist *h, int64_t t)
{
	size_t lo = 0, hi = h->n;

	/* the number of entries at or before t */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->e[mid].at <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? h->e[lo - 1].v : h->before;
}

bool config_logging_at(const struct config_hist *const lv[], size_t n, bool user_last, int64_t t)
{
	bool on = schema[key_find(LOGGING_KEY)].def != 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int v;

		if (!lv[i])
			continue;
		v = config_hist_value(lv[i], t);
		if (v != CONFIG_HIST_UNSET)
			on = v != 0;
		if (lv[i]->locked && !(user_last && i == n - 1))
			break; /* locked here: nothing below counts */
	}
	return on;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int config_timeline_build(const struct config_hist *const lv[], size_t n, bool user_last,
			  struct config_timeline **out)
{
	struct config_timeline *tl;
	size_t total = 0, i, j, k = 0;
	int64_t *pts;

	*out = NULL;
	for (i = 0; i < n; i++)
		total += lv[i] ? lv[i]->n : 0;
	tl = calloc(1, sizeof(*tl));
	pts = malloc((total ? total : 1) * sizeof(*pts));
	if (tl) {
		tl->at = malloc((total ? total : 1) * sizeof(*tl->at));
		tl->v = malloc((total ? total : 1) * sizeof(*tl->v));
	}
	if (!tl || !pts || !tl->at || !tl->v) {
		free(pts);
		config_timeline_free(tl);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		for (j = 0; lv[i] && j < lv[i]->n; j++)
			pts[k++] = lv[i]->e[j].at;
	qsort(pts, total, sizeof(*pts), cmp_i64);
	tl->first = config_logging_at(lv, n, user_last, INT64_MIN);
	for (i = 0; i < total; i++) {
		bool v, prev = tl->n ? tl->v[tl->n - 1] : tl->first;

		if (i && pts[i] == pts[i - 1])
			continue;
		v = config_logging_at(lv, n, user_last, pts[i]);
		if (v == prev)
			continue;
		tl->at[tl->n] = pts[i];
		tl->v[tl->n++] = v;
	}
	free(pts);
	*out = tl;
	return 0;
}

bool config_timeline_at(const struct config_timeline *tl, int64_t t)
{
	size_t lo = 0, hi = tl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tl->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? tl->v[lo - 1] : tl->first;
}

void config_timeline_free(struct config_timeline *tl)
{
	if (!tl)
		return;
	free(tl->at);
	free(tl->v);
	free(tl);
}

int config_hist_load(struct srv *s, const char *kind, const char *id, struct config_hist *h)
{
	struct key scope;
	const cJSON *e;
	cJSON *doc;
	int ret;

	memset(h, 0, offsetof(struct config_hist, e));
	h->before = CONFIG_HIST_UNSET;
	if (!kind_ok(kind))
		return -EINVAL;
	ret = doc_load(s, key_scope(&scope, kind, id), &doc);
	if (ret)
		return ret;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "locked"))
	{
		if (kind[0] == 'n' && cJSON_IsString(e) && !strcmp(e->valuestring, LOGGING_KEY))
			h->locked = true;
	}
	ret = hist_read(s, scope.s, h);
	if (ret == -ENOENT) {
		/* never changed since histories are kept: its value all along */
		h->before = doc_logging(doc);
		h->n = 0;
		ret = 0;
	}
	doc_free(doc);
	return ret;
}

int config_logging_for(struct srv *s, const struct target *t, const char *user_id, int64_t at,
		       bool *on)
{
	struct config_hist *lv = calloc(LEVELS_MAX, sizeof(*lv));
	const struct config_hist *p[LEVELS_MAX];
	size_t nd = 0, i;
	int ret = 0;

	*on = true;
	if (!lv)
		return -ENOMEM;
	for (i = 0; !ret && i < t->depth && nd < LEVELS_MAX - 1; i++) {
		if (strcmp(t->path[i], ROOT_ID))
			ret = config_hist_load(s, "node", t->path[i], &lv[nd++]);
	}
	if (!ret && user_id)
		ret = config_hist_load(s, "user", user_id, &lv[nd++]);
	for (i = 0; i < nd; i++)
		p[i] = &lv[i];
	if (!ret)
		*on = config_logging_at(p, nd, user_id != NULL, at);
	free(lv);
	return ret;
}

/* --- the write of a level --- */

/*
 * Check a PUT body: only "values" (an object of known keys, each null or a
 * valid value) and "locked" (nodes below the root only; an array of known
 * keys). At the root (is_root) only the root keys, elsewhere none of them.
 * 0, or -EINVAL with the message in why.
 */
static int put_check(const cJSON *body, bool is_user, bool is_root, char *why, size_t wlen)
{
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(body, "values");
	const cJSON *locked = cJSON_GetObjectItemCaseSensitive(body, "locked"), *e;
	char msg[256];

	cJSON_ArrayForEach(e, body)
	{
		if (strcmp(e->string, "values") && strcmp(e->string, "locked"))
			return snprintf(why, wlen, "unknown field '%s'", e->string), -EINVAL;
	}
	if (!vals && !locked)
		return snprintf(why, wlen, "give \"values\" and/or \"locked\""), -EINVAL;
	if (vals && !cJSON_IsObject(vals))
		return snprintf(why, wlen, "\"values\" must be an object"), -EINVAL;
	if (locked && is_user)
		return snprintf(why, wlen, "keys are locked on nodes, not on users"), -EINVAL;
	if (locked && is_root)
		return snprintf(why, wlen,
				"the root's settings are not inherited: nothing to lock"),
		       -EINVAL;
	if (locked && !cJSON_IsArray(locked))
		return snprintf(why, wlen, "\"locked\" must be an array of config keys"), -EINVAL;
	cJSON_ArrayForEach(e, vals)
	{
		int k = key_find(e->string);

		if (k < 0)
			return snprintf(why, wlen, "unknown config key '%s'", e->string), -EINVAL;
		if (schema[k].root && !is_root)
			return snprintf(
				   why, wlen,
				   "config key '%s' is a server setting: it is set at the root "
				   "only (PUT /api/v1/nodes/root/config)",
				   e->string),
			       -EINVAL;
		if (!schema[k].root && is_root)
			return snprintf(
				   why, wlen,
				   "config key '%s' is set on a business, domain, project, team "
				   "or user, not on the root (the root holds the backup.* "
				   "settings only)",
				   e->string),
			       -EINVAL;
		if (!cJSON_IsNull(e) && key_check(&schema[k], e, msg, sizeof(msg)))
			return snprintf(why, wlen, "%s", msg), -EINVAL;
	}
	cJSON_ArrayForEach(e, locked)
	{
		if (!cJSON_IsString(e))
			return snprintf(why, wlen, "\"locked\" must be an array of config keys"),
			       -EINVAL;
		if (key_find(e->valuestring) < 0)
			return snprintf(why, wlen, "unknown config key '%s'", e->valuestring),
			       -EINVAL;
		if (schema[key_find(e->valuestring)].root)
			return snprintf(why, wlen, "config key '%s' is set at the root only",
					e->valuestring),
			       -EINVAL;
	}
	return 0;
}

/* Member k of o as apply() takes it: the last of duplicate names. */
static const cJSON *last_member(const cJSON *o, const char *k)
{
	const cJSON *e, *found = NULL;

	cJSON_ArrayForEach(e, o)
	{
		if (e->string && !strcmp(e->string, k))
			found = e;
	}
	return found;
}

/* The first s3.* key vals sets (not null: removing is always allowed), as
 * apply() reads it, or NULL. */
static const char *s3_set_in(const cJSON *vals)
{
	size_t k;

	for (k = 0; k < NKEYS; k++) {
		const cJSON *x = schema[k].s3 ? last_member(vals, schema[k].name) : NULL;

		if (x && !cJSON_IsNull(x))
			return schema[k].name;
	}
	return NULL;
}

/* true when key k belongs to the S3 unit (backup false) or the backup
 * bucket's keys (backup true) */
static bool in_unit(size_t k, bool backup)
{
	return backup ? schema[k].bunit : schema[k].s3;
}

/* config_s3_rebind() for one unit of keys. */
static int rebind_unit(const cJSON *doc, const cJSON *vals, bool backup, const char **need)
{
	const cJSON *dv = cJSON_GetObjectItemCaseSensitive(doc, "values");
	bool moved = false;
	size_t k;

	/* a change as apply() makes it: another value, or null removing one */
	for (k = 0; k < NKEYS && !moved; k++) {
		const cJSON *want = schema[k].where && in_unit(k, backup)
					? last_member(vals, schema[k].name)
					: NULL;
		const cJSON *have = cJSON_GetObjectItemCaseSensitive(dv, schema[k].name);

		if (want)
			moved = cJSON_IsNull(want) ? have && !cJSON_IsNull(have)
						   : !have || !cJSON_Compare(have, want, true);
	}
	for (k = 0; moved && k < NKEYS; k++) {
		const cJSON *have = cJSON_GetObjectItemCaseSensitive(dv, schema[k].name);

		if (in_unit(k, backup) && schema[k].secret && have && !cJSON_IsNull(have) &&
		    !last_member(vals, schema[k].name)) {
			*need = schema[k].name;
			return -EPERM;
		}
	}
	return 0;
}

/* The member of the S3 unit key name of a level's "values" vals, as the
 * merge reads it, compared with where's member w (a string, or a bool for
 * the path style; absent is "" or false). */
static bool s3_same(const cJSON *vals, const char *name, const cJSON *where, const char *w)
{
	const cJSON *have = level_value(vals, (size_t)key_find(name));
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(where, w);

	if (!strcmp(w, "path_style"))
		return cJSON_IsTrue(have) == cJSON_IsTrue(want);
	return !strcmp(cJSON_IsString(have) ? have->valuestring : "",
		       cJSON_IsString(want) ? want->valuestring : "");
}

bool config_s3_lends(const cJSON *doc, const cJSON *where)
{
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(doc, "values");
	const char *b = jstr(where, "bucket");

	return b && *b && level_value(vals, (size_t)key_find("s3.access_key_id")) &&
	       level_value(vals, (size_t)key_find("s3.secret_access_key")) &&
	       s3_same(vals, "s3.bucket", where, "bucket") &&
	       s3_same(vals, "s3.region", where, "region") &&
	       s3_same(vals, "s3.endpoint", where, "endpoint") &&
	       s3_same(vals, "s3.path_style", where, "path_style");
}

/* Append level label's credentials (doc lends them) to out, unless a
 * level of that label is there already. 0 or -ENOMEM. */
static int lend_one(const cJSON *doc, const char *label, cJSON *out)
{
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(doc, "values"), *e;
	static const char *const keys[][2] = {{"s3.access_key_id", "access_key_id"},
					      {"s3.secret_access_key", "secret_access_key"},
					      {"s3.session_token", "session_token"}};
	cJSON *o;
	size_t i;

	cJSON_ArrayForEach(e, out)
	{
		if (jstr(e, "level") && !strcmp(jstr(e, "level"), label))
			return 0;
	}
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "level", label))
		goto nomem;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const cJSON *v = level_value(vals, (size_t)key_find(keys[i][0]));

		if (v && !cJSON_AddStringToObject(o, keys[i][1], v->valuestring))
			goto nomem;
	}
	if (cJSON_AddItemToArray(out, o))
		return 0;
nomem:
	doc_free(o);
	return -ENOMEM;
}

int config_s3_lenders(struct srv *s, const struct target *t, const char *user_id,
		      const cJSON *where, cJSON *out)
{
	struct key scope;
	cJSON *doc;
	size_t i;
	int ret = 0;

	if (user_id && !doc_load(s, key_scope(&scope, "user", user_id), &doc)) {
		if (config_s3_lends(doc, where))
			ret = lend_one(doc, scope.s, out);
		doc_free(doc);
	}
	for (i = t->depth; i-- > 0 && !ret;) {
		if (!strcmp(t->path[i], ROOT_ID) ||
		    doc_load(s, key_scope(&scope, "node", t->path[i]), &doc))
			continue;
		if (config_s3_lends(doc, where))
			ret = lend_one(doc, t->path[i], out);
		doc_free(doc);
	}
	return ret;
}

int config_s3_rebind(const cJSON *doc, const cJSON *vals, const char **need)
{
	*need = NULL;
	if (rebind_unit(doc, vals, false, need))
		return -EPERM;
	return rebind_unit(doc, vals, true, need);
}

/*
 * 0 when no key vals sets (null removes, always allowed) is locked at a
 * node of path[1, end), an s3.* key counting as locked where any s3.* key
 * is; else -EPERM with the message in why, or -errno (why untouched).
 */
static int check_locks(struct srv *s, const struct target *t, size_t end, const cJSON *vals,
		       char *why, size_t wlen)
{
	struct key scope;
	size_t i;

	for (i = 0; i < end; i++) {
		const cJSON *e, *x;
		cJSON *doc;
		int ret;

		if (!strcmp(t->path[i], ROOT_ID))
			continue;
		ret = doc_load(s, key_scope(&scope, "node", t->path[i]), &doc);
		if (ret)
			return ret;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "locked"))
		{
			const char *s3;
			int k;

			if (!cJSON_IsString(e))
				continue;
			k = key_find(e->valuestring);
			s3 = k >= 0 && schema[k].s3 ? s3_set_in(vals) : NULL;
			x = last_member(vals, e->valuestring);
			if (s3 || (x && !cJSON_IsNull(x))) {
				snprintf(why, wlen,
					 s3 ? "config key '%s' is locked at %s (the s3.* keys "
					      "are one unit, locked together)"
					    : "config key '%s' is locked at %s",
					 s3 ? s3 : e->valuestring, t->path[i]);
				doc_free(doc);
				return -EPERM;
			}
		}
		doc_free(doc);
	}
	return 0;
}

/*
 * Apply body to doc (in place). detail gets {"keys":[names whose value
 * changed], "locked":[new list] when it changed}. Returns 1 when anything
 * changed, 0 when not, -ENOMEM.
 */
static int apply(cJSON *doc, const cJSON *body, cJSON *detail)
{
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(body, "values");
	const cJSON *locked = cJSON_GetObjectItemCaseSensitive(body, "locked"), *e;
	cJSON *dv = cJSON_GetObjectItemCaseSensitive(doc, "values");
	cJSON *keys = cJSON_AddArrayToObject(detail, "keys");
	bool changed = false;
	size_t k;

	if (!keys)
		return -ENOMEM;
	for (k = 0; k < NKEYS; k++) {
		const cJSON *want = NULL;
		cJSON *have = cJSON_GetObjectItemCaseSensitive(dv, schema[k].name);

		/* the last of duplicate names wins, as in most JSON parsers */
		cJSON_ArrayForEach(e, vals)
		{
			if (!strcmp(e->string, schema[k].name))
				want = e;
		}
		if (!want)
			continue;
		if (cJSON_IsNull(want)) {
			if (!have)
				continue;
			jwipe(have);
			cJSON_DeleteItemFromObjectCaseSensitive(dv, schema[k].name);
		} else {
			cJSON *dup;

			if (have && cJSON_Compare(have, want, true))
				continue;
			dup = cJSON_Duplicate(want, 1);
			if (!dup)
				return -ENOMEM;
			if (have) {
				jwipe(have);
				cJSON_ReplaceItemInObjectCaseSensitive(dv, schema[k].name, dup);
			} else {
				cJSON_AddItemToObject(dv, schema[k].name, dup);
			}
		}
		cJSON_AddItemToArray(keys, cJSON_CreateString(schema[k].name));
		changed = true;
	}
	if (locked) {
		cJSON *nl = cJSON_CreateArray();

		if (!nl)
			return -ENOMEM;
		for (k = 0; k < NKEYS; k++) {
			cJSON_ArrayForEach(e, locked)
			{
				if (!strcmp(e->valuestring, schema[k].name)) {
					cJSON_AddItemToArray(nl,
							     cJSON_CreateString(schema[k].name));
					break;
				}
			}
		}
		if (!cJSON_Compare(nl, cJSON_GetObjectItemCaseSensitive(doc, "locked"), true)) {
			cJSON_AddItemToObject(detail, "locked", cJSON_Duplicate(nl, 1));
			cJSON_ReplaceItemInObjectCaseSensitive(doc, "locked", nl);
			changed = true;
		} else {
			cJSON_Delete(nl);
		}
	}
	return changed;
}

int config_level_put(struct srv *s, const struct target *t, const char *kind, const char *id,
		     const cJSON *body, config_audit_fn audit, void *audit_ctx, cJSON **view,
		     char *why, size_t wlen)
{
	bool is_user = kind[0] == 'u', is_root = !is_user && !strcmp(id, ROOT_ID);
	char aad[AAD_SIZE];
	struct key scope;
	cJSON *doc = NULL, *detail = NULL;
	const char *need = NULL; /* a secret the write must give again */
	struct store_batch *b;
	int8_t was = CONFIG_HIST_UNSET; /* logging.enabled before the write */
	int ret, tries;

	*view = NULL;
	if (wlen)
		why[0] = 0;
	if (!kind_ok(kind))
		return -EINVAL;
	ret = put_check(body, is_user, is_root, why, wlen);
	if (!ret)
		ret = check_locks(s, t, is_user ? t->depth : t->depth - 1,
				  cJSON_GetObjectItemCaseSensitive(body, "values"), why, wlen);
	if (ret)
		return ret;
	key_scope(&scope, kind, id);
	level_aad(aad, scope.s);
	for (tries = 0; tries < CFG_TRIES; tries++) {
		doc_free(doc);
		cJSON_Delete(detail);
		doc = NULL;
		detail = cJSON_CreateObject();
		ret = detail ? store_batch_begin(s->st, &b) : -ENOMEM;
		if (ret)
			break;
		ret = doc_load_b(s, b, scope.s, &doc);
		/* checked on the document this commit is conditional on */
		if (!ret)
			ret = config_s3_rebind(
			    doc, cJSON_GetObjectItemCaseSensitive(body, "values"), &need);
		if (!ret) {
			was = doc_logging(doc);
			ret = apply(doc, body, detail);
		}
		if (ret <= 0) {
			store_batch_abort(b);
			break;
		}
		ret = doc_logging(doc) != was
			  ? hist_append(s, b, scope.s, was, doc_logging(doc), now_ms())
			  : 0;
		if (ret) {
			store_batch_abort(b);
			break;
		}
		{
			char *txt = cJSON_PrintUnformatted(doc);

			ret = txt ? sealed_put(s, b, STORE_T_CONFIG, scope.s, SK_CONFIG, scope.s,
					       aad, txt, strlen(txt))
				  : -ENOMEM;
			if (txt)
				crypto_free(txt, strlen(txt));
		}
		if (!ret)
			ret = audit(b, scope.s, detail, audit_ctx);
		if (ret) {
			store_batch_abort(b);
			break;
		}
		ret = store_batch_commit(b);
		if (ret != -EAGAIN)
			break;
	}
	if (need) {
		snprintf(why, wlen,
			 "changing where S3 credentials are sent requires re-entering %s at "
			 "this level",
			 need);
		ret = -EPERM;
	} else if (ret >= 0) {
		*view = doc_view(doc);
		ret = 0;
	}
	cJSON_Delete(detail);
	doc_free(doc);
	return ret;
}

int config_level_view(struct srv *s, const char *kind, const char *id, cJSON **view)
{
	struct key scope;
	cJSON *doc;
	int ret;

	*view = NULL;
	if (!kind_ok(kind))
		return -EINVAL;
	ret = doc_load(s, key_scope(&scope, kind, id), &doc);
	if (ret)
		return ret;
	*view = doc_view(doc);
	doc_free(doc);
	return 0;
}

int config_root_values(struct srv *s, bool with_secrets, cJSON **out)
{
	const cJSON *vals;
	struct key scope;
	cJSON *doc, *o;
	size_t k;
	int ret;

	*out = NULL;
	ret = doc_load(s, key_scope(&scope, "node", ROOT_ID), &doc);
	if (ret)
		return ret;
	vals = cJSON_GetObjectItemCaseSensitive(doc, "values");
	o = cJSON_CreateObject();
	for (k = 0; o && k < NKEYS; k++) {
		const cJSON *x = schema[k].root ? level_value(vals, k) : NULL;
		cJSON *v;

		if (!schema[k].root || (schema[k].secret && !with_secrets))
			continue;
		v = x ? cJSON_Duplicate(x, 1) : key_default(&schema[k]);
		if ((x || schema[k].has_def) &&
		    (!v || !cJSON_AddItemToObject(o, schema[k].name, v))) {
			cJSON_Delete(v);
			doc_free(o);
			o = NULL;
		}
	}
	doc_free(doc);
	if (!o)
		return -ENOMEM;
	*out = o;
	return 0;
}
