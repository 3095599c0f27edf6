// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "policy.h"
#include "sysinfo.h"

#define POLICY_FILE_VERSION 1

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

char *policy_file_build(const char *etag, int64_t saved_ms, const char *body, size_t len, int *err)
{
	cJSON *o = NULL, *doc = NULL;
	char *text = NULL;

	*err = -E2BIG;
	if (len > POLICY_BODY_MAX)
		return NULL;
	*err = -EINVAL;
	if (etag[0] && !policy_etag_ok(etag))
		return NULL;
	doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc))
		goto out;
	*err = -ENOMEM;
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddNumberToObject(o, "v", POLICY_FILE_VERSION) ||
	    !cJSON_AddStringToObject(o, "etag", etag) ||
	    !cJSON_AddNumberToObject(o, "saved_ms", (double)saved_ms))
		goto out;
	if (!cJSON_AddItemToObject(o, "policy", doc))
		goto out;
	doc = NULL;
	text = cJSON_PrintUnformatted(o);
	if (text)
		*err = 0;
out:
	cJSON_Delete(doc);
	cJSON_Delete(o);
	return text;
}

int policy_file_parse(const char *buf, size_t len, struct policy_saved *out, char *err,
		      size_t errlen)
{
	const cJSON *v, *etag, *saved, *cfg;
	struct policy_values scratch;
	cJSON *j;
	int k;

	memset(out, 0, sizeof(*out));
	if (len > POLICY_FILE_MAX) {
		snprintf(err, errlen, "%zu bytes, more than the %d allowed", len, POLICY_FILE_MAX);
		return -EFBIG;
	}
	j = cJSON_ParseWithLength(buf, len);
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "not a JSON object");
		goto bad;
	}
	v = cJSON_GetObjectItemCaseSensitive(j, "v");
	if (!cJSON_IsNumber(v) || v->valuedouble != POLICY_FILE_VERSION) {
		snprintf(err, errlen, "not a version %d policy file", POLICY_FILE_VERSION);
		goto bad;
	}
	etag = cJSON_GetObjectItemCaseSensitive(j, "etag");
	if (!cJSON_IsString(etag) || (etag->valuestring[0] && !policy_etag_ok(etag->valuestring))) {
		snprintf(err, errlen, "a bad etag");
		goto bad;
	}
	saved = cJSON_GetObjectItemCaseSensitive(j, "saved_ms");
	if (!cJSON_IsNumber(saved) || !(saved->valuedouble >= 0 && saved->valuedouble < 1e15)) {
		snprintf(err, errlen, "a bad saved_ms");
		goto bad;
	}
	out->doc = cJSON_DetachItemFromObjectCaseSensitive(j, "policy");
	cfg = policy_config(out->doc);
	if (!cfg) {
		snprintf(err, errlen, "its policy is not a JSON object");
		goto bad;
	}
	for (k = 0; k < POL_NKEYS; k++)
		if (key_value(cfg, (enum policy_key)k, &scratch) < 0) {
			snprintf(err, errlen, "its policy's %s has a bad value", key_names[k]);
			goto bad;
		}
	strcpy(out->etag, etag->valuestring);
	out->saved_ms = (int64_t)saved->valuedouble;
	cJSON_Delete(j);
	return 0;
bad:
	cJSON_Delete(out->doc);
	cJSON_Delete(j);
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}
