// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_tz.c - core/tz.h with real zones (Europe/Paris days of 23 and
 * 25 h, Asia/Kolkata at +5:30, America/New_York, unknown names), the
 * buckets of a series in a zone (model/query.h query_span_make(): local
 * days, local hours, 10-minute steps, the legacy UTC form, the caps), the
 * 10-minute slots of a rollup item (query_rollup_slots(): an item from
 * before slots, one summed partly before them, slots that do not add up)
 * and series and top lists read by slot from a real LMDB store (Kolkata
 * hours across two UTC hours, step=600, an hour from before slots shown
 * whole in its first 10 minutes, the legacy form unchanged), and ingest
 * adding to a saturated slot.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/srv.h"
#include "core/tz.h"
#include "model/ingest.h"
#include "model/query.h"
#include "store/keys.h"
#include "util.h"

#define USER "u_0000000000000001"
#define H QUERY_HOUR_MS
#define D QUERY_DAY_MS
#define M10 QUERY_SLOT_MS

static int64_t ms(const char *rfc3339)
{
	int64_t t = -1;

	CHECK_EQ(rfc3339_parse(rfc3339, &t), 0);
	return t;
}

/* the instant local date (y, m, d) of z starts */
static int64_t midnight(struct tz *z, int y, int m, int d)
{
	int64_t t = -1;

	CHECK_EQ(tz_midnight(z, y, m, d, &t), 0);
	return t;
}

TEST(zones)
{
	struct tz *z = NULL;
	int64_t off = 0;
	int y, m, d;
	char longname[80];

	/* Europe/Paris: +1 h in winter, +2 h in summer; the day clocks go
	 * forward lasts 23 h, the day they go back 25 h */
	CHECK_EQ(tz_open("Europe/Paris", &z), 0);
	CHECK_STR(tz_name(z), "Europe/Paris");
	CHECK_EQ(tz_offset(z, ms("2026-01-15T12:00:00Z"), &off), 0);
	CHECK_EQ(off, 3600000);
	CHECK_EQ(tz_offset(z, ms("2026-07-15T12:00:00Z"), &off), 0);
	CHECK_EQ(off, 7200000);
	CHECK_EQ(midnight(z, 2026, 3, 29), ms("2026-03-28T23:00:00Z"));
	CHECK_EQ(midnight(z, 2026, 3, 30) - midnight(z, 2026, 3, 29), 23 * H);
	CHECK_EQ(midnight(z, 2026, 10, 25), ms("2026-10-24T22:00:00Z"));
	CHECK_EQ(midnight(z, 2026, 10, 26) - midnight(z, 2026, 10, 25), 25 * H);
	CHECK_EQ(tz_date(z, ms("2026-03-28T23:30:00Z"), &y, &m, &d), 0);
	CHECK(y == 2026 && m == 3 && d == 29);
	CHECK_EQ(tz_date(z, ms("2026-03-28T22:59:59.999Z"), &y, &m, &d), 0);
	CHECK(y == 2026 && m == 3 && d == 28);
	tz_close(z);

	/* Asia/Kolkata: +5:30 all year, its midnight at :30 UTC */
	CHECK_EQ(tz_open("Asia/Kolkata", &z), 0);
	CHECK_EQ(tz_offset(z, ms("2026-03-01T00:00:00Z"), &off), 0);
	CHECK_EQ(off, 19800000);
	CHECK_EQ(midnight(z, 2026, 3, 1), ms("2026-02-28T18:30:00Z"));
	tz_close(z);

	/* America/New_York: -5 h, -4 h from 2026-03-08 (a day of 23 h) */
	CHECK_EQ(tz_open("America/New_York", &z), 0);
	CHECK_EQ(tz_offset(z, ms("2026-01-15T12:00:00Z"), &off), 0);
	CHECK_EQ(off, -18000000);
	CHECK_EQ(tz_offset(z, ms("2026-07-15T12:00:00Z"), &off), 0);
	CHECK_EQ(off, -14400000);
	CHECK_EQ(midnight(z, 2026, 3, 8), ms("2026-03-08T05:00:00Z"));
	CHECK_EQ(midnight(z, 2026, 3, 9) - midnight(z, 2026, 3, 8), 23 * H);
	CHECK_EQ(tz_midnight(z, 0, 1, 1, &off), -EINVAL);
	tz_close(z);

	/* America/Havana: clocks go back from 01:00 to 00:00 on 2026-11-01,
	 * so that midnight comes twice: the day starts at the first one
	 * (04:00 UTC, -4 h) and lasts 25 h; the day before, 24 h */
	CHECK_EQ(tz_open("America/Havana", &z), 0);
	CHECK_EQ(midnight(z, 2026, 11, 1), ms("2026-11-01T04:00:00Z"));
	CHECK_EQ(midnight(z, 2026, 11, 2) - midnight(z, 2026, 11, 1), 25 * H);
	CHECK_EQ(midnight(z, 2026, 11, 1) - midnight(z, 2026, 10, 31), 24 * H);
	CHECK_EQ(tz_date(z, ms("2026-11-01T04:30:00Z"), &y, &m, &d), 0);
	CHECK(y == 2026 && m == 11 && d == 1);
	tz_close(z);

	CHECK_EQ(tz_open("UTC", &z), 0);
	CHECK_EQ(midnight(z, 1970, 1, 2), D);
	tz_close(z);

	/* names ICU does not know, or not names at all */
	CHECK_EQ(tz_open("Mars/Olympus_Mons", &z), -EINVAL);
	CHECK(z == NULL);
	CHECK_EQ(tz_open("", &z), -EINVAL);
	CHECK_EQ(tz_open("Europe/Paris;", &z), -EINVAL);
	CHECK_EQ(tz_open("../etc/passwd", &z), -EINVAL);
	CHECK_EQ(tz_open("Europe/Par\xc3\xads", &z), -EINVAL);
	memset(longname, 'A', sizeof(longname));
	longname[TZ_NAME_MAX + 1] = 0;
	CHECK_EQ(tz_open(longname, &z), -EINVAL);
	CHECK(tz_valid("America/Argentina/Buenos_Aires"));
	CHECK(!tz_valid("Nowhere"));
	tz_close(NULL);
}

TEST(dates)
{
	int y = 2024, m = 12, d = 31;

	tz_date_add(&y, &m, &d, 1);
	CHECK(y == 2025 && m == 1 && d == 1);
	tz_date_add(&y, &m, &d, -366);
	CHECK(y == 2024 && m == 1 && d == 1);
	tz_date_add(&y, &m, &d, 59);
	CHECK(y == 2024 && m == 2 && d == 29);
	CHECK_EQ(tz_parse_date("2024-02-29", &y, &m, &d), 0);
	CHECK(y == 2024 && m == 2 && d == 29);
	CHECK_EQ(tz_parse_date("2025-02-29", &y, &m, &d), -EINVAL);
	CHECK_EQ(tz_parse_date("2026-13-01", &y, &m, &d), -EINVAL);
	CHECK_EQ(tz_parse_date("2026-1-01", &y, &m, &d), -EINVAL);
	CHECK_EQ(tz_parse_date("2026-01-01T00:00:00Z", &y, &m, &d), -EINVAL);
	CHECK_EQ(tz_parse_date("0000-01-01", &y, &m, &d), -EINVAL);
}

TEST(spans)
{
	struct query_span sp;
	struct tz *paris = NULL, *kolkata = NULL;
	int64_t t;

	CHECK_EQ(tz_open("Europe/Paris", &paris), 0);
	CHECK_EQ(tz_open("Asia/Kolkata", &kolkata), 0);

	/* local days around the change: 23 h, 24 h, 24 h; from anywhere in
	 * the first day */
	t = ms("2026-03-28T23:00:00Z");
	CHECK_EQ(query_span_make(paris, t + 5 * H, ms("2026-03-31T22:00:00Z"), D, 1000, &sp), 0);
	CHECK_EQ(sp.n, 3);
	CHECK(sp.slots);
	CHECK_STR(sp.tz, "Europe/Paris");
	CHECK_EQ(sp.start[0], t);
	CHECK_EQ(sp.start[1] - sp.start[0], 23 * H);
	CHECK_EQ(sp.start[2] - sp.start[1], 24 * H);
	CHECK_EQ(sp.start[3], ms("2026-03-31T22:00:00Z"));
	query_span_free(&sp);
	/* two days a step; a to inside a bucket keeps it */
	CHECK_EQ(query_span_make(paris, ms("2026-10-23T22:00:00Z"), ms("2026-10-26T00:00:00Z"),
				 2 * D, 1000, &sp),
		 0);
	CHECK_EQ(sp.n, 2);
	CHECK_EQ(sp.start[1] - sp.start[0], 49 * H);
	query_span_free(&sp);

	/* hours in Kolkata: from rounded down to the local hour (:30 UTC) */
	CHECK_EQ(query_span_make(kolkata, ms("2026-02-28T18:45:00Z"), ms("2026-02-28T21:30:00Z"), H,
				 1000, &sp),
		 0);
	CHECK_EQ(sp.n, 3);
	CHECK_EQ(sp.start[0], ms("2026-02-28T18:30:00Z"));
	CHECK_EQ(sp.start[3], ms("2026-02-28T21:30:00Z"));
	query_span_free(&sp);

	/* 10 minutes, UTC: from rounded down to 10 minutes; 7 days = 1008 */
	t = ms("2026-03-02T10:05:00Z");
	CHECK_EQ(query_span_make(NULL, t, t + H, M10, 1008, &sp), 0);
	CHECK_EQ(sp.start[0], t - 5 * 60000);
	CHECK_EQ(sp.n, 7);
	CHECK(sp.slots);
	CHECK_STR(sp.tz, "UTC");
	query_span_free(&sp);
	t = ms("2026-03-02T00:00:00Z");
	CHECK_EQ(query_span_make(NULL, t, t + 7 * D, M10, QUERY_SLOT_POINTS_MAX, &sp), 0);
	CHECK_EQ(sp.n, 1008);
	query_span_free(&sp);
	CHECK_EQ(query_span_make(NULL, t, t + 7 * D + M10, M10, 2000, &sp), -EINVAL);
	CHECK_EQ(query_span_make(NULL, t, t + 7 * D, M10, 1000, &sp), -E2BIG);
	CHECK_EQ(sp.n, 1008);
	query_span_free(&sp);
	CHECK_EQ(query_span_make(NULL, t, t + D, 1800 * 1000, 1000, &sp), -EINVAL);
	CHECK_EQ(query_span_make(NULL, t + 1, t, H, 1000, &sp), -EINVAL);

	/* no zone, whole hours: the legacy form, by hour from the UTC hour */
	CHECK_EQ(query_span_make(NULL, t + 30 * 60000, t + D, D, 1000, &sp), 0);
	CHECK(!sp.slots);
	CHECK_EQ(sp.start[0], t);
	CHECK_EQ(sp.n, 1);
	query_span_free(&sp);

	tz_close(paris);
	tz_close(kolkata);
}

TEST(slots_of_an_item)
{
	int64_t sl[ROLLUP_SLOTS][RA__N], a[ROLLUP_SLOTS];
	cJSON *j;
	int k;

	/* before slots: the hour in slot 0 */
	j = cJSON_Parse("{\"keys\":21,\"records\":2}");
	query_rollup_slots(j, sl);
	CHECK_EQ(sl[0][RA_KEYS], 21);
	CHECK_EQ(sl[0][RA_RECORDS], 2);
	for (k = 1; k < ROLLUP_SLOTS; k++)
		CHECK_EQ(sl[k][RA_KEYS], 0);
	cJSON_Delete(j);
	/* summed partly before slots: the rest in slot 0 */
	j = cJSON_Parse("{\"keys\":30,\"m\":{\"keys\":[1,2,3,4,5,6]}}");
	query_rollup_slots(j, sl);
	CHECK_EQ(sl[0][RA_KEYS], 10);
	CHECK_EQ(sl[5][RA_KEYS], 6);
	CHECK_EQ(sl[0][RA_CLICKS], 0);
	cJSON_Delete(j);
	/* slots over the counter, or of the wrong shape: all in slot 0 */
	j = cJSON_Parse("{\"keys\":3,\"clicks\":7,\"m\":{\"keys\":[1,2,3,4,5,6],\"clicks\":[1]}}");
	query_rollup_slots(j, sl);
	CHECK_EQ(sl[0][RA_KEYS], 3);
	CHECK_EQ(sl[1][RA_KEYS], 0);
	CHECK_EQ(sl[0][RA_CLICKS], 7);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"focus_ms\":9000,\"m\":[0,0,1000,0,0,2000]}");
	query_app_slots(j, a);
	CHECK_EQ(a[0], 6000);
	CHECK_EQ(a[2], 1000);
	CHECK_EQ(a[5], 2000);
	cJSON_Delete(j);
	/* a saturated counter (stored as 2^63, what ingest writes for
	 * INT64_MAX) stays INT64_MAX in its slot, never negative */
	j = cJSON_Parse("{\"distance\":9223372036854775807,"
			"\"m\":{\"distance\":[5,0,9223372036854775807,0,0,0]}}");
	query_rollup_slots(j, sl);
	CHECK_EQ(sl[2][RA_DISTANCE], INT64_MAX);
	for (k = 0; k < ROLLUP_SLOTS; k++)
		CHECK(sl[k][RA_DISTANCE] >= 0);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"focus_ms\":9223372036854775807,\"m\":[0,9223372036854775807,0,0,0,0]}");
	query_app_slots(j, a);
	CHECK_EQ(a[1], INT64_MAX);
	for (k = 0; k < ROLLUP_SLOTS; k++)
		CHECK(a[k] >= 0);
	cJSON_Delete(j);
}

static void put(struct store *st, const char *pk, const char *sk, const char *val)
{
	CHECK_EQ(store_put(st, STORE_T_ROLLUPS, pk, sk, val, strlen(val), 0), 0);
}

TEST(series_by_slot)
{
	char dir[128], keyf[200];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct tz *kolkata = NULL;
	struct srv s;
	struct key pk, sk;
	int64_t h18 = ms("2026-02-28T18:00:00Z"), h19 = h18 + H;
	cJSON *out = NULL, *leg = NULL;
	const cJSON *a;
	char *x, *y;

	check_mkdtemp(dir, sizeof(dir), "tz");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	CHECK_EQ(tz_open("Asia/Kolkata", &kolkata), 0);

	/* 18:00 UTC by slot: 1..6 keys; 19:00 UTC from before slots: 100 */
	put(st, key_rollup_pk(&pk, "user", USER, h18), key_rollup_act_sk(&sk, h18),
	    "{\"keys\":21,\"records\":6,\"m\":{\"keys\":[1,2,3,4,5,6],\"records\":[1,1,1,1,1,1]}}");
	put(st, key_rollup_pk(&pk, "user", USER, h19), key_rollup_act_sk(&sk, h19),
	    "{\"keys\":100,\"records\":1}");
	put(st, key_rollup_pk(&pk, "user", USER, h18), key_rollup_app_sk(&sk, h18, "vim"),
	    "{\"focus_ms\":60000,\"records\":2,\"m\":[10000,0,0,50000,0,0]}");

	/* Kolkata hours: [18:30, 19:30) holds 18:30..18:50 (4+5+6) and 19:00
	 * (100, in its slot 0); [17:30, 18:30) holds 1+2+3 */
	CHECK_EQ(query_activity_tz(&s, USER, kolkata, ms("2026-02-28T17:30:00Z"),
				   ms("2026-02-28T20:30:00Z"), H, &out),
		 0);
	CHECK_STR(jstr(out, "tz"), "Asia/Kolkata");
	a = cJSON_GetObjectItem(out, "series");
	CHECK_EQ(cJSON_GetArraySize(a), 3);
	CHECK_STR(jstr(cJSON_GetArrayItem(a, 0), "start"), "2026-02-28T17:30:00.000Z");
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 0), "keys", -1), 6);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 0), "records", -1), 3);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 1), "keys", -1), 115);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 2), "keys", -1), 0);
	CHECK_EQ(jint(cJSON_GetObjectItem(out, "totals"), "keys", -1), 121);
	cJSON_Delete(out);

	/* 10 minutes, UTC: one point a slot; a to at 18:40 leaves the rest out */
	CHECK_EQ(query_activity_tz(&s, USER, NULL, h18, h18 + 40 * 60000, M10, &out), 0);
	a = cJSON_GetObjectItem(out, "series");
	CHECK_EQ(cJSON_GetArraySize(a), 4);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 3), "keys", -1), 4);
	CHECK_STR(jstr(cJSON_GetArrayItem(a, 3), "start"), "2026-02-28T18:30:00.000Z");
	CHECK_EQ(jint(cJSON_GetObjectItem(out, "totals"), "keys", -1), 10);
	cJSON_Delete(out);

	/* an hour written before slots: step=600 shows it whole at :00 */
	CHECK_EQ(query_activity_tz(&s, USER, NULL, h19, h19 + H, M10, &out), 0);
	a = cJSON_GetObjectItem(out, "series");
	CHECK_EQ(cJSON_GetArraySize(a), 6);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 0), "keys", -1), 100);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 0), "records", -1), 1);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 1), "keys", -1), 0);
	CHECK_EQ(jint(cJSON_GetArrayItem(a, 5), "keys", -1), 0);
	cJSON_Delete(out);

	/* no zone, whole hours: the same answer as query_activity() */
	CHECK_EQ(query_activity_tz(&s, USER, NULL, h18 + 1, h19 + 1, H, &out), 0);
	CHECK_EQ(query_activity(&s, USER, h18 + 1, h19 + 1, H, &leg), 0);
	cJSON_DeleteItemFromObject(out, "tz");
	x = cJSON_PrintUnformatted(out);
	y = cJSON_PrintUnformatted(leg);
	CHECK_STR(x, y);
	free(x);
	free(y);
	cJSON_Delete(out);
	cJSON_Delete(leg);

	/* top apps in Kolkata from 18:30 UTC: the 50 s of 18:30 only */
	CHECK_EQ(query_apps_top_tz(&s, "user", USER, kolkata, ms("2026-02-28T18:30:00Z"),
				   ms("2026-02-28T19:30:00Z"), 10, &out, NULL),
		 0);
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "apps"), 0);
	CHECK_STR(jstr(a, "app"), "vim");
	CHECK(cJSON_GetObjectItem(a, "focus_s")->valuedouble == 50);
	CHECK_STR(jstr(out, "tz"), "Asia/Kolkata");
	cJSON_Delete(out);
	/* without a zone: by hour, all 60 s */
	CHECK_EQ(query_apps_top(&s, "user", USER, ms("2026-02-28T18:30:00Z"),
				ms("2026-02-28T19:30:00Z"), 10, &out, NULL),
		 0);
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "apps"), 0);
	CHECK(cJSON_GetObjectItem(a, "focus_s")->valuedouble == 60);
	cJSON_Delete(out);

	tz_close(kolkata);
	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

/* A record added to an hour whose slot has saturated (stored as the double
 * 2^63): the slot stays at the top, it does not wrap to a negative sum. */
TEST(ingest_into_a_saturated_slot)
{
	static const char line[] =
	    "{\"v\":1,\"type\":\"activity\",\"ts\":\"2026-02-28T18:25:00Z\",\"host_id\":\"h1\","
	    "\"user\":null,\"start\":\"2026-02-28T18:20:00Z\",\"end\":\"2026-02-28T18:25:00Z\","
	    "\"keys\":1,\"clicks\":0,\"moves\":0,\"scrolls\":0,\"distance\":7,\"active_s\":1,"
	    "\"interval_s\":300}\n";
	const struct ingest_source src = {"d_0000000000000001", "", ""};
	char dir[128], keyf[200];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct srv s;
	struct key pk, sk;
	int64_t h18 = ms("2026-02-28T18:00:00Z");
	cJSON *ans = NULL, *j = NULL;
	const cJSON *m;
	void *val = NULL;
	size_t len = 0;

	check_mkdtemp(dir, sizeof(dir), "tzsat");
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(keyf), 0);
	CHECK_EQ(keyprov_file_open(keyf, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	key_rollup_pk(&pk, "dev", src.device_id, h18);
	key_rollup_act_sk(&sk, h18);
	put(st, pk.s, sk.s,
	    "{\"distance\":9223372036854775807,\"records\":1,"
	    "\"m\":{\"distance\":[0,0,9223372036854775807,0,0,0],\"records\":[0,0,1,0,0,0]}}");
	CHECK_EQ(ingest_apply(&s, &src, "b1", h18 + H, line, strlen(line), &ans), 0);
	CHECK_EQ(jint(ans, "accepted", -1), 1);
	cJSON_Delete(ans);
	CHECK_EQ(store_get(st, STORE_T_ROLLUPS, pk.s, sk.s, &val, &len), 0);
	j = cJSON_ParseWithLength(val, len);
	m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "m"), "distance");
	CHECK(cJSON_GetArrayItem(m, 2)->valuedouble >= 9223372036854775807.0);
	CHECK_EQ(jint(j, "distance", -1), INT64_MAX);
	m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "m"), "records");
	CHECK(cJSON_GetArrayItem(m, 2)->valuedouble == 2);
	cJSON_Delete(j);
	free(val);
	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

int main(void)
{
	RUN(zones);
	RUN(dates);
	RUN(spans);
	RUN(slots_of_an_item);
	RUN(series_by_slot);
	RUN(ingest_into_a_saturated_slot);
	return check_failed_total ? 1 : 0;
}
