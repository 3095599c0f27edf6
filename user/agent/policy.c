// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "policy.h"
#include "sysinfo.h"

#define POLICY_FILE_VERSION 2 /* 1: one policy, for no session user */

#define POLICY_KEY_NAME(id, srv, loc) [id] = srv,
static const char *const key_names[POL_NKEYS] = {POLICY_KEYS(POLICY_KEY_NAME)};
#undef POLICY_KEY_NAME
#define POLICY_LOCAL_NAME(id, srv, loc) [id] = loc,
static const char *const local_names[POL_NKEYS] = {POLICY_KEYS(POLICY_LOCAL_NAME)};
#undef POLICY_LOCAL_NAME

const char *policy_key_name(enum policy_key k)
{
	return (unsigned)k < POL_NKEYS ? key_names[k] : "?";
}

const char *policy_local_name(enum policy_key k)
{
	return (unsigned)k < POL_NKEYS ? local_names[k] : "?";
}

const char *policy_src_name(enum policy_src s)
{
	return s == POL_SRC_SERVER ? "server" : "local";
}

const cJSON *policy_config(const cJSON *doc)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");

	if (cJSON_IsObject(cfg))
		return cfg;
	return cJSON_IsObject(doc) ? doc : NULL;
}

/* A whole number in [lo, hi] into *out: 1, else 0. */
static int whole_in(const cJSON *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	if (!(d >= lo && d <= hi) || (double)(uint32_t)d != d)
		return 0;
	*out = (uint32_t)d;
	return 1;
}

/*
 * Key k of cfg: 1 when it is there with a valid value (stored in *v), 0
 * when it is absent, -1 when it is there with a bad value.
 */
static int key_value(const cJSON *cfg, enum policy_key k, struct policy_values *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(cfg, key_names[k]);
	int ok = 0;

	if (!x)
		return 0;
	switch (k) {
	case POL_LOGGING:
		ok = cJSON_IsBool(x);
		if (ok)
			v->logging = cJSON_IsTrue(x);
		break;
	case POL_INTERVAL:
		ok = whole_in(x, 1, ACTLOG_MAX_INTERVAL_S, &v->interval_s);
		break;
	case POL_IDLE:
		ok = whole_in(x, 1, 86400, &v->idle_threshold_s);
		break;
	case POL_SYSINFO:
		ok = whole_in(x, SI_INTERVAL_MIN, SI_INTERVAL_MAX, &v->sysinfo_interval_s);
		break;
	default:
		break;
	}
	return ok ? 1 : -1;
}

void policy_merge(const struct agent_conf *local, const cJSON *cfg, struct policy_values *out)
{
	int k;

	memset(out, 0, sizeof(*out));
	out->logging = local->logging;
	out->interval_s = local->interval_s;
	out->idle_threshold_s = local->idle_threshold_s;
	out->sysinfo_interval_s = local->sysinfo_interval_s;
	for (k = 0; k < POL_NKEYS; k++)
		out->src[k] = cfg && key_value(cfg, (enum policy_key)k, out) == 1 ? POL_SRC_SERVER
										  : POL_SRC_LOCAL;
}

int policy_etag_ok(const char *etag)
{
	size_t n = etag ? strlen(etag) : 0, i;

	if (n == 0 || n >= POLICY_ETAG_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)etag[i] < 0x20 || (unsigned char)etag[i] > 0x7e)
			return 0;
	return 1;
}

/* Who an entry of the saved file is for: its "user" member, a string or
 * null. 1 when that is user (NULL: no session user), 0 when another, -1
 * when the member is missing or of another type. */
static int entry_is_for(const cJSON *e, const char *user)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "user");

	if (cJSON_IsNull(u))
		return !user;
	if (!cJSON_IsString(u))
		return -1;
	return user && !strcmp(u->valuestring, user);
}

/* A new entry {user, etag, saved_ms, policy} for body (checked). NULL with
 * *err set. */
static cJSON *entry_new(const char *user, const char *etag, int64_t saved_ms, const char *body,
			size_t len, int *err)
{
	cJSON *e = NULL, *doc;

	*err = -E2BIG;
	if (len > POLICY_BODY_MAX || (user && strlen(user) > POLICY_USER_MAX))
		return NULL;
	*err = -EINVAL;
	if (etag[0] && !policy_etag_ok(etag))
		return NULL;
	if (user && !user[0])
		return NULL;
	doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc))
		goto fail;
	*err = -ENOMEM;
	e = cJSON_CreateObject();
	if (!e ||
	    !(user ? cJSON_AddStringToObject(e, "user", user) : cJSON_AddNullToObject(e, "user")) ||
	    !cJSON_AddStringToObject(e, "etag", etag) ||
	    !cJSON_AddNumberToObject(e, "saved_ms", (double)saved_ms) ||
	    !cJSON_AddItemToObject(e, "policy", doc))
		goto fail;
	*err = 0;
	return e;
fail:
	if (!e || !cJSON_GetObjectItemCaseSensitive(e, "policy"))
		cJSON_Delete(doc);
	cJSON_Delete(e);
	return NULL;
}

/* The entries of an old file to keep beside a new one for user: those of
 * other users (a version 1 file is the entry for no session user), in
 * their order, appended to users until it holds POLICY_USERS_MAX. */
static void keep_old_entries(const char *old, size_t oldlen, const char *user, cJSON *users)
{
	cJSON *j = old && oldlen <= POLICY_FILE_MAX ? cJSON_ParseWithLength(old, oldlen) : NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "v"), *e;
	cJSON *d;

	if (cJSON_IsNumber(v) && v->valuedouble == 1 && user) {
		d = cJSON_Duplicate(j, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(d, "v");
		if (d && cJSON_AddNullToObject(d, "user"))
			cJSON_AddItemToArray(users, d);
		else
			cJSON_Delete(d);
	} else if (cJSON_IsNumber(v) && v->valuedouble == POLICY_FILE_VERSION) {
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "users"))
		{
			if (cJSON_GetArraySize(users) >= POLICY_USERS_MAX)
				break;
			if (!cJSON_IsObject(e) || entry_is_for(e, user) != 0 ||
			    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "policy")))
				continue;
			d = cJSON_Duplicate(e, 1);
			if (d)
				cJSON_AddItemToArray(users, d);
		}
	}
	cJSON_Delete(j);
}

char *policy_file_build(const char *old, size_t oldlen, const char *user, const char *etag,
			int64_t saved_ms, const char *body, size_t len, int *err)
{
	cJSON *o = NULL, *users, *e;
	char *text = NULL;

	e = entry_new(user, etag, saved_ms, body, len, err);
	if (!e)
		return NULL;
	*err = -ENOMEM;
	o = cJSON_CreateObject();
	users = o && cJSON_AddNumberToObject(o, "v", POLICY_FILE_VERSION)
		    ? cJSON_AddArrayToObject(o, "users")
		    : NULL;
	if (!users || !cJSON_AddItemToArray(users, e)) {
		cJSON_Delete(e);
		goto out;
	}
	keep_old_entries(old, oldlen, user, users);
	/* the newest entries that fit */
	for (;;) {
		text = cJSON_PrintUnformatted(o);
		if (!text || strlen(text) <= POLICY_FILE_MAX || cJSON_GetArraySize(users) <= 1)
			break;
		free(text);
		text = NULL;
		cJSON_DeleteItemFromArray(users, cJSON_GetArraySize(users) - 1);
	}
	if (text)
		*err = 0;
out:
	cJSON_Delete(o);
	return text;
}

/* Check entry e (etag, saved_ms, policy) and take its policy into *out
 * (e keeps the rest). 0, or -EINVAL with err set. */
static int entry_take(cJSON *e, struct policy_saved *out, char *err, size_t errlen)
{
	const cJSON *etag, *saved, *cfg;
	struct policy_values scratch;
	int k;

	etag = cJSON_GetObjectItemCaseSensitive(e, "etag");
	if (!cJSON_IsString(etag) || (etag->valuestring[0] && !policy_etag_ok(etag->valuestring))) {
		snprintf(err, errlen, "a bad etag");
		return -EINVAL;
	}
	saved = cJSON_GetObjectItemCaseSensitive(e, "saved_ms");
	if (!cJSON_IsNumber(saved) || !(saved->valuedouble >= 0 && saved->valuedouble < 1e15)) {
		snprintf(err, errlen, "a bad saved_ms");
		return -EINVAL;
	}
	out->doc = cJSON_DetachItemFromObjectCaseSensitive(e, "policy");
	cfg = policy_config(out->doc);
	if (!cfg) {
		snprintf(err, errlen, "its policy is not a JSON object");
		return -EINVAL;
	}
	for (k = 0; k < POL_NKEYS; k++)
		if (key_value(cfg, (enum policy_key)k, &scratch) < 0) {
			snprintf(err, errlen, "its policy's %s has a bad value", key_names[k]);
			return -EINVAL;
		}
	strcpy(out->etag, etag->valuestring);
	out->saved_ms = (int64_t)saved->valuedouble;
	return 0;
}

int policy_file_parse(const char *buf, size_t len, const char *user, struct policy_saved *out,
		      char *err, size_t errlen)
{
	cJSON *j, *e = NULL, *it;
	const cJSON *v, *users;
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (len > POLICY_FILE_MAX) {
		snprintf(err, errlen, "%zu bytes, more than the %d allowed", len, POLICY_FILE_MAX);
		return -EFBIG;
	}
	j = cJSON_ParseWithLength(buf, len);
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(j, "v");
	if (cJSON_IsNumber(v) && v->valuedouble == 1) {
		/* the format before users: the policy for no session user */
		e = j;
	} else if (cJSON_IsNumber(v) && v->valuedouble == POLICY_FILE_VERSION) {
		users = cJSON_GetObjectItemCaseSensitive(j, "users");
		if (!cJSON_IsArray(users)) {
			snprintf(err, errlen, "no users list");
			goto out;
		}
		cJSON_ArrayForEach(it, users) if (entry_is_for(it, user) == 1)
		{
			e = it;
			break;
		}
	} else {
		snprintf(err, errlen, "not a version 1 or %d policy file", POLICY_FILE_VERSION);
		goto out;
	}
	if (!e || (e == j && user)) {
		snprintf(err, errlen, "no policy saved for %s%s%s",
			 user ? "user '" : "no session user", user ? user : "", user ? "'" : "");
		r = -ENOENT;
		goto out;
	}
	r = entry_take(e, out, err, errlen);
out:
	if (r) {
		cJSON_Delete(out->doc);
		memset(out, 0, sizeof(*out));
	}
	cJSON_Delete(j);
	return r;
}
