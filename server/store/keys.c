// SPDX-License-Identifier: BSD-2-Clause
/*
 * keys.c - the key builders of keys.h (the layout is documented there).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/keys.h"

/* printf into k; "" when the result does not fit (keys.h: never cut). */
__attribute__((format(printf, 2, 3))) static const char *kfmt(struct key *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(k->s, sizeof(k->s), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(k->s))
		k->s[0] = 0;
	return k->s;
}

void key_day(int64_t ms, char out[11])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static unsigned hour_of(int64_t ms)
{
	return (unsigned)((ms / 3600000LL) % 24);
}

const char *key_node_child(struct key *k, const char *child_id)
{
	return kfmt(k, SK_CHILD_PREFIX "%s", child_id);
}

const char *key_team_index(struct key *k, const char *team_id)
{
	return kfmt(k, "team|%s", team_id);
}

const char *key_device_host(struct key *k, const char *team_id, const char *host_id)
{
	return kfmt(k, "host|%s|%s", team_id, host_id);
}

const char *key_user_tokens(struct key *k, const char *user_id)
{
	return kfmt(k, "user|%s", user_id);
}

const char *key_user_ptokens(struct key *k, const char *user_id)
{
	return kfmt(k, "ptok|%s", user_id);
}

const char *key_grant_user_sk(struct key *k, const char *node_id, const char *role)
{
	return kfmt(k, "%s|%s", node_id, role);
}

const char *key_grant_node_pk(struct key *k, const char *node_id)
{
	return kfmt(k, "node|%s", node_id);
}

const char *key_grant_node_sk(struct key *k, const char *user_id, const char *role)
{
	return kfmt(k, "%s|%s", user_id, role);
}

const char *key_audit_pk(struct key *k, int64_t ms)
{
	key_day(ms, k->s);
	return k->s;
}

const char *key_audit_sk(struct key *k, int64_t ms, uint32_t rnd)
{
	return kfmt(k, "%013lld|%08x", (long long)ms, rnd);
}

const char *key_scope(struct key *k, const char *kind, const char *id)
{
	return kfmt(k, "%s:%s", kind, id);
}

const char *key_record_pk(struct key *k, const char *device_id, const char *type, int64_t ts)
{
	char day[11];

	key_day(ts, day);
	return kfmt(k, "%s|%s|%s", device_id, type, day);
}

const char *key_record_sk(struct key *k, int64_t ts, const char *batch_id, unsigned line)
{
	return kfmt(k, "%013lld|%s|%06u", (long long)ts, batch_id, line);
}

const char *key_time(struct key *k, int64_t ms)
{
	return kfmt(k, "%013lld", (long long)ms);
}

const char *key_time_end(struct key *k, int64_t ms)
{
	return kfmt(k, "%013lld|~", (long long)ms);
}

const char *key_rollup_pk(struct key *k, const char *kind, const char *id, int64_t ms)
{
	char day[11];

	key_day(ms, day);
	return kfmt(k, "%s|%s|%s", kind, id, day);
}

const char *key_rollup_act_sk(struct key *k, int64_t ms)
{
	return kfmt(k, SK_ROLLUP_ACT_PREFIX "%02u", hour_of(ms));
}

const char *key_rollup_app_sk(struct key *k, int64_t ms, const char *app)
{
	return kfmt(k, SK_ROLLUP_APP_PREFIX "%02u|%s", hour_of(ms), app);
}

const char *key_days_pk(struct key *k, enum store_table t, const char *part)
{
	const char *first = strchr(part, '|'), *last = strrchr(part, '|');

	if (!first || first == last)
		return kfmt(k, "%s", "");
	if (t == STORE_T_RECORDS)
		return kfmt(k, "days|%.*s", (int)(first - part), part);
	return kfmt(k, "days|%.*s", (int)(last - part), part);
}

const char *key_days_sk(struct key *k, enum store_table t, const char *part)
{
	const char *first = strchr(part, '|'), *last = strrchr(part, '|');

	if (!first || first == last)
		return kfmt(k, "%s", "");
	if (t == STORE_T_RECORDS)
		return kfmt(k, "%s|%.*s", last + 1, (int)(last - first - 1), first + 1);
	return kfmt(k, "%s", last + 1);
}

const char *key_days_of(struct key *k, const char *kind, const char *id)
{
	return kind ? kfmt(k, "days|%s|%s", kind, id) : kfmt(k, "days|%s", id);
}

const char *key_days_part(struct key *k, enum store_table t, const char *index_pk,
			  const char *index_sk)
{
	const char *base = index_pk + 5;

	if (strncmp(index_pk, "days|", 5) || strlen(index_sk) < 10)
		return kfmt(k, "%s", "");
	if (t == STORE_T_RECORDS) { /* sk "<day>|<type>" */
		if (index_sk[10] != '|' || !index_sk[11])
			return kfmt(k, "%s", "");
		return kfmt(k, "%s|%s|%.10s", base, index_sk + 11, index_sk);
	}
	return kfmt(k, "%s|%s", base, index_sk);
}

const char *key_shot_pending(struct key *k, const char *device_id)
{
	return kfmt(k, "pending|%s", device_id);
}

const char *key_shot_s3(struct key *k, const char *object_key)
{
	return kfmt(k, "s3|%s", object_key);
}

const char *key_shot_key(struct key *k, const char *object_key)
{
	return kfmt(k, "key|%s", object_key);
}

const char *key_shot_list_pk(struct key *k, const char *kind, const char *id, int64_t taken)
{
	return key_rollup_pk(k, kind, id, taken);
}

const char *key_shot_list_sk(struct key *k, int64_t taken, const char *shot_id)
{
	return kfmt(k, "%013lld|%s", (long long)taken, shot_id);
}
