// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_retention.c - retention_sweep() on a real LMDB store with a
 * pinned "now": the cutoff day exactly (the day before it goes, the day
 * itself stays, one millisecond earlier the cutoff moves a day back), a
 * partition larger than one delete batch, every kind of owner (device
 * records and rollups, user rollups, team rollups), index items dropped
 * with their partitions and kept for the others, another team's data
 * untouched, and the sweep thread started and stopped (a stop also
 * cancels sweeps until the next start).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/srv.h"
#include "model/retention.h"
#include "util.h"

#define TEAM "n_00000000000000f1"
#define DEV "d_0000000000000001"
#define USER "u_0000000000000001"
#define DEV2 "d_0000000000000002" /* in another team, without nodes above */

static void put(struct store *st, enum store_table t, const char *pk, const char *sk,
		const char *val)
{
	CHECK_EQ(store_put(st, t, pk, sk, val, strlen(val), 0), 0);
}

/* root > b > d > p > team: NODES items as api_org.c writes them */
static void tree(struct store *st)
{
	static const char *const ids[] = {"n_00000000000000b0", "n_00000000000000d0",
					  "n_00000000000000a0", TEAM};
	static const char *const types[] = {"business", "domain", "project", "team"};
	char val[512], sk[64], path[256] = "[\"root\"";
	const char *parent = ROOT_ID;
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ",\"%s\"", ids[i]);
		snprintf(val, sizeof(val), "{\"id\":\"%s\",\"type\":\"%s\",\"name\":\"x\"}", ids[i],
			 types[i]);
		snprintf(sk, sizeof(sk), "child|%s", ids[i]);
		put(st, STORE_T_NODES, parent, sk, val);
		snprintf(val, sizeof(val),
			 "{\"id\":\"%s\",\"type\":\"%s\",\"name\":\"x\",\"parent_id\":\"%s\","
			 "\"path\":%s]}",
			 ids[i], types[i], parent, path);
		put(st, STORE_T_NODES, ids[i], "node", val);
		parent = ids[i];
	}
}

/* n items in RECORDS partition "<DEV>|process|<day>" and its index item */
static void records(struct store *st, const char *dev, const char *day, int n)
{
	char pk[96], sk[64], ipk[64], isk[64];
	int i;

	snprintf(pk, sizeof(pk), "%s|process|%s", dev, day);
	for (i = 0; i < n; i++) {
		snprintf(sk, sizeof(sk), "%013d|b|%06d", i, i);
		put(st, STORE_T_RECORDS, pk, sk, "{\"type\":\"process\"}");
	}
	snprintf(ipk, sizeof(ipk), "days|%s", dev);
	snprintf(isk, sizeof(isk), "%s|process", day);
	put(st, STORE_T_RECORDS, ipk, isk, "{}");
}

/* two rollup items of "<kind>|<id>|<day>" and its index item */
static void rollups(struct store *st, const char *kind, const char *id, const char *day)
{
	char pk[96], ipk[64];

	snprintf(pk, sizeof(pk), "%s|%s|%s", kind, id, day);
	put(st, STORE_T_ROLLUPS, pk, "act|01", "{\"keys\":1}");
	put(st, STORE_T_ROLLUPS, pk, "app|01|vim", "{\"focus_ms\":1}");
	snprintf(ipk, sizeof(ipk), "days|%s|%s", kind, id);
	put(st, STORE_T_ROLLUPS, ipk, day, "{}");
}

static int count_fn(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	(void)pk;
	(void)sk;
	(void)val;
	(void)len;
	++*(int *)ctx;
	return 0;
}

static int count(struct store *st, enum store_table t, const char *pk)
{
	int n = 0;

	CHECK(store_query(st, t, pk, NULL, NULL, 0, 0, count_fn, &n) >= 0);
	return n;
}

static bool exists(struct store *st, enum store_table t, const char *pk, const char *sk)
{
	void *v = NULL;
	size_t len;
	int ret = store_get(st, t, pk, sk, &v, &len);

	free(v);
	return ret == 0;
}

TEST(sweep_cutoff_and_kinds)
{
	char dir[128], key[200];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct retention_stats rs;
	struct retention_sched *sched = NULL;
	struct srv s;
	int64_t now;

	check_mkdtemp(dir, sizeof(dir), "retention");
	snprintf(key, sizeof(key), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(key), 0);
	CHECK_EQ(keyprov_file_open(key, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);

	tree(st);
	put(st, STORE_T_DEVICES, "team|" TEAM, DEV, "{\"id\":\"" DEV "\"}");
	put(st, STORE_T_USERS, "team|" TEAM, USER, "{\"id\":\"" USER "\"}");
	/* no config: the default 365 days. now = 2026-11-29T00:00:00.000Z,
	 * now - 365 d = 2025-11-29T00:00Z: the cutoff day is 2025-11-29 */
	records(st, DEV, "2025-11-27", 3);
	records(st, DEV, "2025-11-28", 250); /* more than two delete batches */
	records(st, DEV, "2025-11-29", 4);
	records(st, DEV, "2026-11-28", 1);
	records(st, DEV2, "2020-01-01", 2); /* a device of no team we walk */
	rollups(st, "dev", DEV, "2025-11-28");
	rollups(st, "dev", DEV, "2025-11-29");
	rollups(st, "user", USER, "2025-11-28");
	rollups(st, "user", USER, "2025-11-29");
	rollups(st, "team", TEAM, "2025-11-28");
	rollups(st, "team", TEAM, "2025-11-29");
	/* an index item whose partition is already empty */
	put(st, STORE_T_ROLLUPS, "days|user|" USER, "2025-01-01", "{}");

	CHECK_EQ(rfc3339_parse("2026-11-29T00:00:00.000Z", &now), 0);
	/* one millisecond before: the cutoff is 2025-11-28, which stays */
	CHECK_EQ(retention_sweep(&s, now - 1, &rs), 0);
	CHECK_EQ(rs.teams, 1);
	CHECK_EQ(rs.records, 3);
	CHECK_EQ(rs.rollups, 0);
	CHECK_EQ(rs.errors, 0);
	CHECK_EQ(count(st, STORE_T_RECORDS, DEV "|process|2025-11-27"), 0);
	CHECK_EQ(count(st, STORE_T_RECORDS, DEV "|process|2025-11-28"), 250);
	CHECK(!exists(st, STORE_T_RECORDS, "days|" DEV, "2025-11-27|process"));
	CHECK(!exists(st, STORE_T_ROLLUPS, "days|user|" USER, "2025-01-01"));

	/* at now: 2025-11-28 goes, 2025-11-29 stays */
	CHECK_EQ(retention_sweep(&s, now, &rs), 0);
	CHECK_EQ(rs.teams, 1);
	CHECK_EQ(rs.teams_swept, 1);
	CHECK_EQ(rs.records, 250);
	CHECK_EQ(rs.rollups, 6);
	CHECK_EQ(rs.shots, 0);
	CHECK_EQ(rs.errors, 0);
	CHECK_EQ(count(st, STORE_T_RECORDS, DEV "|process|2025-11-28"), 0);
	CHECK_EQ(count(st, STORE_T_RECORDS, DEV "|process|2025-11-29"), 4);
	CHECK_EQ(count(st, STORE_T_RECORDS, DEV "|process|2026-11-28"), 1);
	CHECK_EQ(count(st, STORE_T_RECORDS, DEV2 "|process|2020-01-01"), 2);
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "dev|" DEV "|2025-11-28"), 0);
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "user|" USER "|2025-11-28"), 0);
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "team|" TEAM "|2025-11-28"), 0);
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "dev|" DEV "|2025-11-29"), 2);
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "user|" USER "|2025-11-29"), 2);
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "team|" TEAM "|2025-11-29"), 2);
	/* the index follows: the swept days are gone, the kept days stay */
	CHECK_EQ(count(st, STORE_T_RECORDS, "days|" DEV), 2);
	CHECK(exists(st, STORE_T_RECORDS, "days|" DEV, "2025-11-29|process"));
	CHECK(exists(st, STORE_T_RECORDS, "days|" DEV, "2026-11-28|process"));
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "days|dev|" DEV), 1);
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "days|user|" USER), 1);
	CHECK_EQ(count(st, STORE_T_ROLLUPS, "days|team|" TEAM), 1);
	CHECK(exists(st, STORE_T_ROLLUPS, "days|team|" TEAM, "2025-11-29"));

	/* again: nothing */
	CHECK_EQ(retention_sweep(&s, now, &rs), 0);
	CHECK_EQ(rs.records + rs.rollups + rs.shots + rs.teams_swept, 0);

	/* the thread: started with an hour's interval, stopped before its
	 * first sweep (the stop wakes it) */
	CHECK_EQ(retention_start(&s, 0, &sched), -EINVAL);
	CHECK_EQ(retention_start(&s, 3600, &sched), 0);
	CHECK(sched != NULL);
	retention_stop(sched);
	retention_stop(NULL);
	/* after a stop (shutdown) a sweep is refused until the next start */
	CHECK_EQ(retention_sweep(&s, now, &rs), -ECANCELED);
	CHECK_EQ(retention_start(&s, 3600, &sched), 0);
	CHECK_EQ(retention_sweep(&s, now, &rs), 0);
	retention_stop(sched);

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

int main(void)
{
	RUN(sweep_cutoff_and_kinds);
	return check_failed_total ? 1 : 0;
}
