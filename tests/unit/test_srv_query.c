// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_query.c - model/query.h: the pure parts (which rollup hours a
 * range covers, how many points a series has) and the queries on a real
 * LMDB store: an activity series summed into steps and saturating, top apps
 * of a user and of a node (order, limit, hours outside the range), the
 * caps of a node's top list (-ERANGE over the partition cap, -E2BIG over
 * the walk cap), device records in [from, to) with a limit, and the audit
 * scope (an entry of another team, or of a node deleted since, is not
 * returned to a team's auditor).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/srv.h"
#include "model/query.h"
#include "store/keys.h"
#include "util.h"

#define BIZ "n_00000000000000b0"
#define TEAM "n_00000000000000f1"
#define TEAM2 "n_00000000000000f2"
#define USER "u_0000000000000001"
#define DEV "d_0000000000000001"
#define H QUERY_HOUR_MS
#define D QUERY_DAY_MS

static int64_t ms(const char *rfc3339)
{
	int64_t t = -1;

	CHECK_EQ(rfc3339_parse(rfc3339, &t), 0);
	return t;
}

static void put(struct store *st, enum store_table t, const char *pk, const char *sk,
		const char *val)
{
	CHECK_EQ(store_put(st, t, pk, sk, val, strlen(val), 0), 0);
}

/* NODES items of node id (type) under parent; above: the path from the root
 * to the parent, as JSON array elements */
static void node(struct store *st, const char *id, const char *type, const char *parent,
		 const char *above)
{
	char val[512];
	struct key k;

	snprintf(val, sizeof(val), "{\"id\":\"%s\",\"type\":\"%s\",\"name\":\"x\"}", id, type);
	put(st, STORE_T_NODES, parent, key_node_child(&k, id), val);
	snprintf(val, sizeof(val),
		 "{\"id\":\"%s\",\"type\":\"%s\",\"name\":\"x\",\"parent_id\":\"%s\",\"path\":[%s,"
		 "\"%s\"]}",
		 id, type, parent, above, id);
	put(st, STORE_T_NODES, id, SK_NODE, val);
}

static void act(struct store *st, const char *uid, int64_t hour, const char *val)
{
	struct key pk, sk;

	put(st, STORE_T_ROLLUPS, key_rollup_pk(&pk, "user", uid, hour),
	    key_rollup_act_sk(&sk, hour), val);
}

static void app(struct store *st, const char *kind, const char *id, int64_t hour, const char *name,
		long long focus_ms)
{
	struct key pk, sk;
	char val[64];

	snprintf(val, sizeof(val), "{\"focus_ms\":%lld,\"records\":1}", focus_ms);
	put(st, STORE_T_ROLLUPS, key_rollup_pk(&pk, kind, id, hour),
	    key_rollup_app_sk(&sk, hour, name), val);
}

/* "name:focus_s,..." of a top list */
static const char *apps_str(const cJSON *o, char *buf, size_t n)
{
	const cJSON *e;

	buf[0] = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "apps"))
	    snprintf(buf + strlen(buf), n - strlen(buf), "%s%s:%g", buf[0] ? "," : "",
		     jstr(e, "app"), cJSON_GetObjectItem(e, "focus_s")->valuedouble);
	return buf;
}

TEST(rollup_hours_and_points)
{
	int64_t day = ms("2025-03-09T00:00:00.000Z");

	CHECK_EQ(query_rollup_hour("act|00", day, day, day + D), day);
	CHECK_EQ(query_rollup_hour("app|23|vim", day, day, day + D), day + 23 * H);
	CHECK_EQ(query_rollup_hour("app|05|a|b", day, day, day + D), day + 5 * H);
	/* [h0, to): the hour at to is out, the hour before h0 too */
	CHECK_EQ(query_rollup_hour("act|05", day, day, day + 5 * H), -1);
	CHECK_EQ(query_rollup_hour("act|04", day, day + 5 * H, day + D), -1);
	CHECK_EQ(query_rollup_hour("act|05", day, day + 5 * H, day + 5 * H + 1), day + 5 * H);
	/* not an hour */
	CHECK_EQ(query_rollup_hour("act|24", day, 0, INT64_MAX), -1);
	CHECK_EQ(query_rollup_hour("act|30", day, 0, INT64_MAX), -1);
	CHECK_EQ(query_rollup_hour("act|1", day, 0, INT64_MAX), -1);
	CHECK_EQ(query_rollup_hour("act-01", day, 0, INT64_MAX), -1);
	CHECK_EQ(query_rollup_hour("act|x1", day, 0, INT64_MAX), -1);
	CHECK_EQ(query_rollup_hour("", day, 0, INT64_MAX), -1);

	/* from 10:30 to 12:00 in hours: 10:00 and 11:00 */
	CHECK_EQ(query_activity_points(day + 10 * H + H / 2, day + 12 * H, H), 2);
	CHECK_EQ(query_activity_points(day + 10 * H + H / 2, day + 12 * H + 1, H), 3);
	CHECK_EQ(query_activity_points(day, day + D, 2 * H), 12);
	CHECK_EQ(query_activity_points(day, day + D + 1, 2 * H), 13);
	CHECK_EQ(query_activity_points(day, day, H), 0);
	CHECK_EQ(query_activity_points(day, day + 400 * D, H), 9600);
}

TEST(queries_on_a_store)
{
	char dir[128], keyf[200], buf[512], id[ID_SIZE];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct store_batch *b = NULL;
	struct query_apps_span span;
	struct principal p;
	struct srv s;
	struct key pk, sk;
	int64_t day = ms("2025-03-09T00:00:00.000Z"), t;
	const cJSON *a;
	cJSON *out = NULL;
	int i;

	check_mkdtemp(dir, sizeof(dir), "query");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);

	/* root > BIZ > {TEAM, TEAM2} */
	node(st, BIZ, "business", ROOT_ID, "\"root\"");
	node(st, TEAM, "team", BIZ, "\"root\",\"" BIZ "\"");
	node(st, TEAM2, "team", BIZ, "\"root\",\"" BIZ "\"");

	/* --- activity: hours 01, 02, 03 of day, 00 of the next day --- */
	act(st, USER, day + 1 * H, "{\"keys\":1,\"clicks\":2,\"records\":1}");
	act(st, USER, day + 2 * H, "{\"keys\":10,\"records\":1}");
	act(st, USER, day + 3 * H, "{\"keys\":9223372036854775807,\"records\":1}");
	act(st, USER, day + D, "{\"keys\":100,\"records\":1}");
	CHECK_EQ(query_activity(&s, USER, day + H + 1, day + D + H, 2 * H, &out), 0);
	/* steps from 01:00: [01,03) [03,05) ... [23,01) */
	CHECK_STR(jstr(out, "user_id"), USER);
	CHECK_EQ(jint(out, "step", 0), 7200);
	a = cJSON_GetObjectItem(out, "series");
	CHECK_EQ(cJSON_GetArraySize(a), 12);
	CHECK_STR(jstr(cJSON_GetArrayItem(a, 0), "start"), "2025-03-09T01:00:00.000Z");
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 0), "keys", -1), 11);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 0), "clicks", -1), 2);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 0), "records", -1), 2);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 1), "keys", -1), INT64_MAX);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 11), "keys", -1), 100);
	/* totals saturate */
	CHECK_EQ(jint(cJSON_GetObjectItem(out, "totals"), "keys", -1), INT64_MAX);
	CHECK_EQ(jint(cJSON_GetObjectItem(out, "totals"), "records", -1), 4);
	cJSON_Delete(out);
	/* caps and arguments */
	CHECK_EQ(query_activity(&s, USER, day, day + D, 5000 * 1000, &out), -EINVAL);
	CHECK_EQ(query_activity(&s, USER, day, day + D, 0, &out), -EINVAL);
	CHECK_EQ(query_activity(&s, USER, day + 1, day, H, &out), -EINVAL);
	CHECK_EQ(query_activity(&s, USER, day, day + QUERY_RANGE_MAX_MS + 1, 24 * H, &out),
		 -EINVAL);
	CHECK_EQ(query_activity(&s, USER, day, day + (QUERY_POINTS_MAX + 1) * H, H, &out), -E2BIG);
	CHECK(out == NULL);
	CHECK_EQ(query_activity(&s, USER, day, day + QUERY_POINTS_MAX * H, H, &out), 0);
	cJSON_Delete(out);

	/* --- top apps --- */
	app(st, "user", USER, day + 1 * H, "vim", 3000);
	app(st, "user", USER, day + 2 * H, "vim", 1500);
	app(st, "user", USER, day + 2 * H, "emacs", 4500);
	app(st, "user", USER, day + 3 * H, "code", 1000);
	app(st, "user", USER, day + 9 * H, "late", 99000); /* after the range below */
	CHECK_EQ(query_apps_top(&s, "user", USER, day, day + 9 * H, 10, &out, &span), 0);
	/* equal time: by name */
	CHECK_STR(apps_str(out, buf, sizeof(buf)), "emacs:4.5,vim:4.5,code:1");
	CHECK_STR(jstr(out, "user_id"), USER);
	CHECK(!cJSON_GetObjectItem(out, "truncated"));
	cJSON_Delete(out);
	CHECK_EQ(query_apps_top(&s, "user", USER, day + 2 * H, day + D, 2, &out, NULL), 0);
	CHECK_STR(apps_str(out, buf, sizeof(buf)), "late:99,emacs:4.5");
	cJSON_Delete(out);
	/* a node: the teams below it */
	app(st, "team", TEAM, day + 1 * H, "vim", 2000);
	app(st, "team", TEAM2, day + 1 * H, "vim", 3000);
	app(st, "team", TEAM2, day + 1 * H, "gimp", 1000);
	CHECK_EQ(query_apps_top(&s, "node", ROOT_ID, day, day + D, 10, &out, &span), 0);
	CHECK_STR(apps_str(out, buf, sizeof(buf)), "vim:5,gimp:1");
	CHECK_STR(jstr(out, "node_id"), ROOT_ID);
	CHECK_EQ(span.teams, 2);
	CHECK_EQ(span.days, 1);
	cJSON_Delete(out);
	CHECK_EQ(query_apps_top(&s, "node", TEAM2, day, day + D, 1, &out, &span), 0);
	CHECK_STR(apps_str(out, buf, sizeof(buf)), "vim:3");
	cJSON_Delete(out);
	CHECK_EQ(query_apps_top(&s, "node", "n_00000000000000ee", day, day + D, 1, &out, NULL),
		 -ENOENT);
	CHECK_EQ(query_apps_top(&s, "team", TEAM, day, day + D, 1, &out, NULL), -EINVAL);
	CHECK_EQ(query_apps_top(&s, "user", USER, day, day + D, 0, &out, NULL), -EINVAL);
	CHECK_EQ(query_apps_top(&s, "user", USER, day, day + D, QUERY_TOP_MAX + 1, &out, NULL),
		 -EINVAL);
	/* 50 more teams: 52 teams x 385 days is over the partition cap */
	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "n_%016x", 0x100 + i);
		node(st, id, "team", BIZ, "\"root\",\"" BIZ "\"");
	}
	CHECK_EQ(query_apps_top(&s, "node", BIZ, day - 384 * D, day + 1, 10, &out, &span), -ERANGE);
	CHECK(out == NULL);
	CHECK_EQ(span.teams, 52);
	CHECK_EQ(span.days, 385);
	CHECK_EQ(query_apps_top(&s, "node", BIZ, day - 383 * D, day + 1, 10, &out, &span), 0);
	cJSON_Delete(out);
	/* more nodes below a node than the walk visits */
	CHECK_EQ(store_batch_begin(st, &b), 0);
	for (i = 0; i < QUERY_NODE_WALK_MAX; i++) {
		snprintf(id, sizeof(id), "n_%016x", 0x100000 + i);
		snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"type\":\"project\"}", id);
		CHECK_EQ(store_batch_put(b, STORE_T_NODES, TEAM2 "x", key_node_child(&sk, id), buf,
					 strlen(buf), 0),
			 0);
	}
	CHECK_EQ(store_batch_commit(b), 0);
	node(st, TEAM2 "x", "domain", BIZ, "\"root\",\"" BIZ "\"");
	CHECK_EQ(query_apps_top(&s, "node", BIZ, day, day + D, 10, &out, &span), -E2BIG);
	CHECK_EQ(query_apps_top(&s, "node", TEAM, day, day + D, 10, &out, &span), 0);
	cJSON_Delete(out);

	/* --- device records: [from, to), time order, limit --- */
	for (i = 0; i < 5; i++) {
		t = day + i * H;
		snprintf(buf, sizeof(buf), "{\"type\":\"process\",\"pid\":%d}", i);
		put(st, STORE_T_RECORDS, key_record_pk(&pk, DEV, "process", t),
		    key_record_sk(&sk, t, "b", (unsigned)i), buf);
	}
	t = day + D; /* the next day's partition */
	put(st, STORE_T_RECORDS, key_record_pk(&pk, DEV, "process", t),
	    key_record_sk(&sk, t, "b", 9), "{\"type\":\"process\",\"pid\":9}");
	CHECK_EQ(query_processes(&s, DEV, day + H, day + D + 1, 10, &out), 0);
	a = cJSON_GetObjectItem(out, "processes");
	CHECK_EQ(cJSON_GetArraySize(a), 5);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 0), "pid", -1), 1);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 4), "pid", -1), 9);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "truncated")));
	cJSON_Delete(out);
	CHECK_EQ(query_processes(&s, DEV, day + H, day + D, 2, &out), 0);
	a = cJSON_GetObjectItem(out, "processes");
	CHECK_EQ(cJSON_GetArraySize(a), 2);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(out, "truncated")));
	cJSON_Delete(out);
	/* to is excluded */
	CHECK_EQ(query_processes(&s, DEV, day, day + 2 * H, 10, &out), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "processes")), 2);
	cJSON_Delete(out);
	CHECK_EQ(query_processes(&s, DEV, day, day + D, 0, &out), -EINVAL);
	CHECK_EQ(query_processes(&s, DEV, day, day + D, QUERY_RECORDS_MAX + 1, &out), -EINVAL);
	/* sysinfo: no latest, no history */
	CHECK_EQ(query_sysinfo(&s, DEV, day, day + D, &out), 0);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(out, "latest")));
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "history")), 0);
	cJSON_Delete(out);
	put(st, STORE_T_DEVICES, DEV, SK_SYSINFO, "{\"type\":\"sysinfo\",\"cpus\":4}");
	CHECK_EQ(query_sysinfo(&s, DEV, day, day + D, &out), 0);
	CHECK_EQ(jint(cJSON_GetObjectItem(out, "latest"), "cpus", -1), 4);
	cJSON_Delete(out);

	/* --- audit: entries of TEAM, TEAM2, the root and a node deleted since --- */
	put(st, STORE_T_AUDIT, key_audit_pk(&pk, day + 1), key_audit_sk(&sk, day + 1, 1),
	    "{\"action\":\"a1\",\"node_id\":\"" TEAM "\"}");
	put(st, STORE_T_AUDIT, key_audit_pk(&pk, day + 2), key_audit_sk(&sk, day + 2, 2),
	    "{\"action\":\"a2\",\"node_id\":\"" TEAM2 "\"}");
	put(st, STORE_T_AUDIT, key_audit_pk(&pk, day + 3), key_audit_sk(&sk, day + 3, 3),
	    "{\"action\":\"a3\"}");
	put(st, STORE_T_AUDIT, key_audit_pk(&pk, day + 4), key_audit_sk(&sk, day + 4, 4),
	    "{\"action\":\"a4\",\"node_id\":\"n_00000000000000dd\"}");
	put(st, STORE_T_AUDIT, key_audit_pk(&pk, day + D), key_audit_sk(&sk, day + D, 5),
	    "{\"action\":\"a5\",\"node_id\":\"" TEAM "\"}");
	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_USER;
	p.n_grants = 1;
	strcpy(p.g[0].node_id, TEAM);
	p.g[0].perms = PERM_AUDIT_READ;
	CHECK_EQ(query_audit(&s, &p, day, day + 2 * D, 10, &out), 0);
	a = cJSON_GetObjectItem(out, "entries");
	CHECK_EQ(cJSON_GetArraySize(a), 2);
	CHECK_STR(jstr(cJSON_GetArrayItem(a, 0), "action"), "a1");
	CHECK_STR(jstr(cJSON_GetArrayItem(a, 1), "action"), "a5");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "truncated")));
	cJSON_Delete(out);
	strcpy(p.g[0].node_id, ROOT_ID);
	CHECK_EQ(query_audit(&s, &p, day, day + D, 10, &out), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "entries")), 4);
	cJSON_Delete(out);
	CHECK_EQ(query_audit(&s, &p, day + 2, day + 2 * D, 2, &out), 0);
	a = cJSON_GetObjectItem(out, "entries");
	CHECK_EQ(cJSON_GetArraySize(a), 2);
	CHECK_STR(jstr(cJSON_GetArrayItem(a, 0), "action"), "a2");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(out, "truncated")));
	cJSON_Delete(out);
	CHECK_EQ(query_audit(&s, &p, day, day + D, 0, &out), -EINVAL);

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

int main(void)
{
	RUN(rollup_hours_and_points);
	RUN(queries_on_a_store);
	return check_failed_total ? 1 : 0;
}
