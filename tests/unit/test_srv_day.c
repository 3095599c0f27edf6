// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_day.c - model/day.h, the pure parts: focus spans laid out from
 * app_usage records (one after the other within a record, the app that
 * goes on from the record before first, merged across records, cut at the
 * record's end, other devices never merged), idle spans merged, the cap on
 * spans, and the day's bounds (a date, a bad date, a time zone not
 * supported yet); on a real LMDB store, the caps of day_query(): the
 * machines looked for (owned, or users_seen since the day's start; at most
 * DAY_DEVICES_MAX) and the records read (DAY_RECORDS_MAX, truncated).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "model/day.h"
#include "store/keys.h"
#include "util.h"

#define DEV "d_0000000000000001"
#define DEV2 "d_0000000000000002"
#define M 60000LL /* a minute */
#define TEAM "n_00000000000000f1"
#define USER "u_0000000000000001"
#define OTHER "u_0000000000000002"

TEST(focus_within_a_record)
{
	struct day_spans sp = {0};
	struct day_app a[] = {{"Firefox", 41.2}, {"XTerm", 12.5}, {"", 3}, {"Zero", 0}};

	CHECK_EQ(day_spans_add_focus(&sp, DEV, 0, M, a, 4), 0);
	CHECK_EQ(sp.n, 2);
	CHECK_STR(sp.v[0].app, "Firefox");
	CHECK_EQ(sp.v[0].start, 0);
	CHECK_EQ(sp.v[0].end, 41200);
	CHECK_STR(sp.v[1].app, "XTerm");
	CHECK_EQ(sp.v[1].start, 41200);
	CHECK_EQ(sp.v[1].end, 53700);
	CHECK(sp.v[1].focus_s == 12.5);
	CHECK_STR(sp.v[1].device_id, DEV);
	day_spans_free(&sp);
	CHECK(!sp.v && !sp.n);
}

TEST(focus_goes_on_across_records)
{
	struct day_spans sp = {0};
	struct day_app r1[] = {{"Firefox", 30}, {"XTerm", 30}};
	struct day_app r2[] = {{"Firefox", 20}, {"XTerm", 40}}; /* XTerm goes on: first */
	struct day_app r3[] = {{"Firefox", 60}};

	CHECK_EQ(day_spans_add_focus(&sp, DEV, 0, M, r1, 2), 0);
	CHECK_EQ(day_spans_add_focus(&sp, DEV, M, 2 * M, r2, 2), 0);
	CHECK_EQ(day_spans_add_focus(&sp, DEV, 2 * M, 3 * M, r3, 1), 0);
	/* Firefox 0-30 s, XTerm 30-100 s (merged), Firefox 100-180 s (merged) */
	CHECK_EQ(sp.n, 3);
	CHECK_STR(sp.v[0].app, "Firefox");
	CHECK_STR(sp.v[1].app, "XTerm");
	CHECK_EQ(sp.v[1].start, 30000);
	CHECK_EQ(sp.v[1].end, 100000);
	CHECK(sp.v[1].focus_s == 70);
	CHECK_STR(sp.v[2].app, "Firefox");
	CHECK_EQ(sp.v[2].start, 100000);
	CHECK_EQ(sp.v[2].end, 3 * M);
	CHECK(sp.v[2].focus_s == 80);
	day_spans_free(&sp);
}

TEST(focus_gap_and_other_device_do_not_merge)
{
	struct day_spans sp = {0};
	struct day_app r[] = {{"Firefox", 60}};

	CHECK_EQ(day_spans_add_focus(&sp, DEV, 0, M, r, 1), 0);
	/* the same app on another device at the same time: its own span */
	CHECK_EQ(day_spans_add_focus(&sp, DEV2, M, 2 * M, r, 1), 0);
	/* back on the first device after 10 minutes: a new span */
	CHECK_EQ(day_spans_add_focus(&sp, DEV, 12 * M, 13 * M, r, 1), 0);
	/* within DAY_SPAN_GAP_MS: merged */
	CHECK_EQ(day_spans_add_focus(&sp, DEV, 13 * M + DAY_SPAN_GAP_MS, 14 * M, r, 1), 0);
	CHECK_EQ(sp.n, 3);
	CHECK_STR(sp.v[1].device_id, DEV2);
	CHECK_EQ(sp.v[2].start, 12 * M);
	CHECK_EQ(sp.v[2].end, 14 * M); /* cut at the record's end */
	CHECK(sp.v[2].focus_s == 120);
	day_spans_free(&sp);
}

TEST(focus_cut_at_the_record_end)
{
	struct day_spans sp = {0};
	/* more focus than the interval (rounding in the agent): cut */
	struct day_app r[] = {{"A", 50}, {"B", 20}};

	CHECK_EQ(day_spans_add_focus(&sp, DEV, 0, M, r, 2), 0);
	CHECK_EQ(sp.n, 2);
	CHECK_EQ(sp.v[1].start, 50000);
	CHECK_EQ(sp.v[1].end, M);
	CHECK(sp.v[1].focus_s == 20); /* the exact seconds stay as sent */
	day_spans_free(&sp);
}

TEST(idle_merged_and_sorted)
{
	struct day_spans sp = {0};

	CHECK_EQ(day_spans_add_idle(&sp, DEV2, 30 * M, 31 * M), 0);
	CHECK_EQ(day_spans_add_idle(&sp, DEV, 0, M), 0);
	CHECK_EQ(day_spans_add_idle(&sp, DEV, M, 2 * M), 0);
	CHECK_EQ(day_spans_add_idle(&sp, DEV, 5 * M, 6 * M), 0);
	CHECK_EQ(sp.n, 3);
	day_spans_sort(&sp);
	CHECK_EQ(sp.v[0].start, 0);
	CHECK_EQ(sp.v[0].end, 2 * M);
	CHECK_STR(sp.v[0].app, "");
	CHECK_EQ(sp.v[1].start, 5 * M);
	CHECK_EQ(sp.v[2].start, 30 * M);
	CHECK_STR(sp.v[2].device_id, DEV2);
	day_spans_free(&sp);
}

TEST(spans_capped)
{
	struct day_spans sp = {0};
	size_t i;
	int ret = 0;

	for (i = 0; i < DAY_SPANS_MAX + 5 && !ret; i++)
		ret = day_spans_add_idle(&sp, DEV, (int64_t)i * 10 * M, (int64_t)i * 10 * M + M);
	CHECK_EQ(ret, 0);
	CHECK_EQ(sp.n, DAY_SPANS_MAX);
	CHECK(sp.truncated);
	day_spans_free(&sp);
}

TEST(bounds)
{
	int64_t from = 0, to = 0;

	CHECK_EQ(day_bounds("2026-12-07", NULL, &from, &to), 0);
	CHECK_EQ(from, 1796601600000LL);
	CHECK_EQ(to - from, 86400000LL);
	CHECK_EQ(day_bounds("2026-12-07", "UTC", &from, &to), 0);
	CHECK_EQ(day_bounds("2026-12-07", "Etc/UTC", &from, &to), 0);
	CHECK_EQ(day_bounds("2028-02-29", NULL, &from, &to), 0);
	CHECK_EQ(day_bounds("2026-02-29", NULL, &from, &to), -EINVAL);
	CHECK_EQ(day_bounds("2026-13-01", NULL, &from, &to), -EINVAL);
	CHECK_EQ(day_bounds("2026-1-07", NULL, &from, &to), -EINVAL);
	CHECK_EQ(day_bounds("2026-12-07x", NULL, &from, &to), -EINVAL);
	CHECK_EQ(day_bounds("2026/12/07", NULL, &from, &to), -EINVAL);
	CHECK_EQ(day_bounds("", NULL, &from, &to), -EINVAL);
	CHECK_EQ(day_bounds("2026-12-07", "Mars/Olympus", &from, &to), -ENOTSUP);
	/* local days: Paris in winter (+1), its 25 and 23 hour days, Kolkata */
	CHECK_EQ(day_bounds("2026-12-07", "Europe/Paris", &from, &to), 0);
	CHECK_EQ(from, 1796601600000LL - 3600000LL);
	CHECK_EQ(to - from, 86400000LL);
	CHECK_EQ(day_bounds("2026-10-25", "Europe/Paris", &from, &to), 0);
	CHECK_EQ(to - from, 25 * 3600000LL);
	CHECK_EQ(day_bounds("2026-03-29", "Europe/Paris", &from, &to), 0);
	CHECK_EQ(to - from, 23 * 3600000LL);
	CHECK_EQ(day_bounds("2026-12-07", "Asia/Kolkata", &from, &to), 0);
	CHECK_EQ(from, 1796601600000LL - 19800000LL);
	CHECK_EQ(day_tz_check(NULL), 0);
	CHECK_EQ(day_tz_check("Etc/UTC"), 0);
	CHECK_EQ(day_tz_check("America/New_York"), 0);
	CHECK_EQ(day_tz_check("Mars/Olympus"), -ENOTSUP);
	CHECK_EQ(day_tz_check("../etc/passwd"), -ENOTSUP);
}

static void put(struct store *st, enum store_table t, const char *pk, const char *sk,
		const char *val)
{
	CHECK_EQ(store_put(st, t, pk, sk, val, strlen(val), 0), 0);
}

/* a device of TEAM: val is its item */
static void device(struct store *st, const char *id, const char *val)
{
	struct key k;

	put(st, STORE_T_DEVICES, key_team_index(&k, TEAM), id, "{}");
	put(st, STORE_T_DEVICES, id, SK_DEVICE, val);
}

TEST(caps_on_a_store)
{
	char dir[128], keyf[200], id[ID_SIZE], val[512];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct store_batch *b = NULL;
	struct srv s;
	struct key pk, sk;
	int64_t day = 1796601600000LL, t; /* 2026-12-07 */
	cJSON *out = NULL;
	const cJSON *devs;
	int i;

	check_mkdtemp(dir, sizeof(dir), "day");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	put(st, STORE_T_USERS, USER, SK_USER, "{\"id\":\"" USER "\",\"team_id\":\"" TEAM "\"}");

	CHECK_EQ(day_query(&s, "u_00000000000000ff", day, day + 86400000, &out), -ENOENT);
	CHECK_EQ(day_query(&s, USER, day, day, &out), -EINVAL);
	CHECK_EQ(day_query(&s, USER, day, day + DAY_RANGE_MAX_MS + 1, &out), -EINVAL);

	/* not the user's machines: another's, and one the user left before the day */
	device(st, "d_0000000000000a01", "{\"owner_id\":\"" OTHER "\"}");
	snprintf(val, sizeof(val),
		 "{\"users_seen\":[{\"user_id\":\"" USER "\",\"last_seen\":%lld}]}",
		 (long long)(day - 2 * M));
	device(st, "d_0000000000000a02", val);
	CHECK_EQ(day_query(&s, USER, day, day + 86400000, &out), 0);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "devices")), 0);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(out, "devices_truncated")));
	cJSON_Delete(out);

	/* DAY_DEVICES_MAX + 1 machines: owned, or users_seen within the step
	 * before the day's start; records on the first */
	for (i = 0; i <= DAY_DEVICES_MAX; i++) {
		snprintf(id, sizeof(id), "d_00000000000001%02d", i);
		if (i % 2)
			snprintf(val, sizeof(val),
				 "{\"team_id\":\"" TEAM "\",\"owner_id\":\"" USER "\"}");
		else
			snprintf(val, sizeof(val),
				 "{\"team_id\":\"" TEAM "\",\"users_seen\":[{\"user_id\":\"" OTHER
				 "\",\"last_seen\":%lld},{\"user_id\":\"" USER
				 "\",\"last_seen\":%lld}]}",
				 (long long)day, (long long)(day - 30000));
		device(st, id, val);
	}
	/* DAY_RECORDS_MAX + 10 activity records of one minute */
	for (i = 0; i < DAY_RECORDS_MAX + 10; i++) {
		char start[RFC3339_LEN];

		if (i % 5000 == 0) {
			if (b)
				CHECK_EQ(store_batch_commit(b), 0);
			CHECK_EQ(store_batch_begin(st, &b), 0);
		}
		t = day + (int64_t)i * 4000; /* every 4 s, all within the day */
		snprintf(val, sizeof(val),
			 "{\"type\":\"activity\",\"user_id\":\"" USER
			 "\",\"start\":\"%s\",\"interval_s\":4,\"keys\":1,\"active_s\":4}",
			 rfc3339_ms(t, start));
		CHECK_EQ(store_batch_put(
			     b, STORE_T_RECORDS,
			     key_record_pk(&pk, "d_0000000000000100", "activity", t + 4000),
			     key_record_sk(&sk, t + 4000, "b", (unsigned)i), val, strlen(val), 0),
			 0);
	}
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(day_query(&s, USER, day, day + 86400000, &out), 0);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(out, "devices_truncated")));
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(out, "truncated")));
	CHECK_EQ(jint(out, "records", 0), DAY_RECORDS_MAX);
	devs = cJSON_GetObjectItem(out, "devices");
	CHECK_EQ(cJSON_GetArraySize(devs), 1); /* the machines without records are not listed */
	CHECK_STR(jstr(cJSON_GetArrayItem(devs, 0), "device_id"), "d_0000000000000100");
	CHECK_EQ(jint(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "activity"), 0), "records", 0),
		 150);
	cJSON_Delete(out);

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

int main(void)
{
	RUN(focus_within_a_record);
	RUN(focus_goes_on_across_records);
	RUN(focus_gap_and_other_device_do_not_merge);
	RUN(focus_cut_at_the_record_end);
	RUN(idle_merged_and_sorted);
	RUN(spans_capped);
	RUN(bounds);
	RUN(caps_on_a_store);
	return CHECK_DONE();
}
