// SPDX-License-Identifier: BSD-2-Clause
/* Interval aggregation (user/agent/aggregate.c) and the records built from it
 * (user/agent/record.c). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>

#include "aggregate.h"
#include "check.h"
#include "record.h"
#include "util.h"

static __u32 ring[ACTIVE_RING_SLOTS];

static void mark(uint64_t s)
{
	ring[s % ACTIVE_RING_SLOTS] = (__u32)(s + 1);
}

TEST(diff_splits_origins_and_sums_totals)
{
	struct input_totals prev = {0}, cur = {0};
	struct interval_counts ic;

	prev.by[INPUT_PHYSICAL].keys = 10;
	cur.by[INPUT_PHYSICAL].keys = 15;
	cur.by[INPUT_SYNTHETIC].keys = 7;
	prev.by[INPUT_SYNTHETIC].moves = 3;
	cur.by[INPUT_SYNTHETIC].moves = 5;
	cur.by[INPUT_PHYSICAL].distance = 100;
	cur.by[INPUT_SYNTHETIC].scrolls = 4;
	cur.by[INPUT_PHYSICAL].clicks = 2;
	aggregate_diff(&prev, &cur, &ic);
	CHECK_EQ(ic.all.keys, 12);
	CHECK_EQ(ic.synthetic.keys, 7);
	CHECK_EQ(ic.all.moves, 2);
	CHECK_EQ(ic.synthetic.moves, 2);
	CHECK_EQ(ic.all.distance, 100);
	CHECK_EQ(ic.synthetic.distance, 0);
	CHECK_EQ(ic.all.scrolls, 4);
	CHECK_EQ(ic.all.clicks, 2);
	CHECK_EQ(ic.synthetic.clicks, 0);
}

TEST(diff_after_a_source_restart_counts_from_zero)
{
	struct input_totals prev = {0}, cur = {0};
	struct interval_counts ic;

	prev.by[INPUT_PHYSICAL].keys = 1000;
	cur.by[INPUT_PHYSICAL].keys = 3;
	aggregate_diff(&prev, &cur, &ic);
	CHECK_EQ(ic.all.keys, 3);
}

TEST(active_seconds_counts_each_second_once)
{
	uint64_t base = 1000000;

	memset(ring, 0, sizeof(ring));
	mark(base + 1);
	mark(base + 2);
	mark(base + 59);
	mark(base + 60); /* belongs to the next interval */
	CHECK_EQ(aggregate_active_seconds(ring, base, base + 60), 3);
	CHECK_EQ(aggregate_active_seconds(ring, base + 60, base + 120), 1);
	/* consecutive intervals split the seconds exactly */
	CHECK_EQ(aggregate_active_seconds(ring, base, base + 30) +
		     aggregate_active_seconds(ring, base + 30, base + 120),
		 4);
	CHECK_EQ(aggregate_active_seconds(ring, base + 5, base + 5), 0);
	CHECK_EQ(aggregate_active_seconds(ring, base + 9, base + 5), 0);
}

TEST(active_seconds_ignores_stale_ring_laps)
{
	uint64_t base = 5000000;

	memset(ring, 0, sizeof(ring));
	mark(base + 10); /* one lap of the ring earlier: same slot */
	CHECK_EQ(
	    aggregate_active_seconds(ring, base + ACTIVE_RING_SLOTS, base + ACTIVE_RING_SLOTS + 60),
	    0);
	CHECK_EQ(aggregate_active_seconds(ring, base, base + 60), 1);
	/* a range longer than the ring is clipped, never counts a slot twice */
	CHECK(aggregate_active_seconds(ring, 0, base + 3 * ACTIVE_RING_SLOTS) <= ACTIVE_RING_SLOTS);
}

TEST(idle_threshold)
{
	uint64_t s = NSEC_PER_SEC;

	CHECK(aggregate_idle(0, 1000 * s, 300));
	CHECK(!aggregate_idle(900 * s, 1000 * s, 300));
	CHECK(aggregate_idle(700 * s, 1000 * s, 300));
	CHECK(!aggregate_idle(701 * s, 1000 * s, 300));
}

TEST(activity_record_fields)
{
	struct record_ctx ctx = {.host_id = "0123456789abcdef0123456789abcdef", .user = "alice"};
	struct interval_counts ic = {0};
	cJSON *j, *syn;
	char *s;

	ic.all.keys = 37;
	ic.all.clicks = 11;
	ic.all.moves = 23;
	ic.all.distance = 115;
	ic.all.scrolls = 7;
	ic.synthetic = ic.all;
	ic.active_s = 3;
	ic.synthetic_active_s = 3;
	s = record_activity(&ctx, 1764374400000LL, 1764374460000LL, 60, &ic);
	CHECK(s != NULL);
	j = cJSON_Parse(s);
	CHECK(j != NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "type")->valuestring, "activity");
	CHECK_STR(cJSON_GetObjectItem(j, "start")->valuestring, "2025-11-29T00:00:00.000Z");
	CHECK_STR(cJSON_GetObjectItem(j, "end")->valuestring, "2025-11-29T00:01:00.000Z");
	CHECK_STR(cJSON_GetObjectItem(j, "ts")->valuestring, "2025-11-29T00:01:00.000Z");
	CHECK_STR(cJSON_GetObjectItem(j, "host_id")->valuestring, ctx.host_id);
	CHECK_STR(cJSON_GetObjectItem(j, "user")->valuestring, "alice");
	CHECK_EQ(cJSON_GetObjectItem(j, "keys")->valuedouble, 37);
	CHECK_EQ(cJSON_GetObjectItem(j, "clicks")->valuedouble, 11);
	CHECK_EQ(cJSON_GetObjectItem(j, "moves")->valuedouble, 23);
	CHECK_EQ(cJSON_GetObjectItem(j, "distance")->valuedouble, 115);
	CHECK_EQ(cJSON_GetObjectItem(j, "scrolls")->valuedouble, 7);
	CHECK_EQ(cJSON_GetObjectItem(j, "active_s")->valuedouble, 3);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "idle")));
	syn = cJSON_GetObjectItem(j, "synthetic");
	CHECK(cJSON_IsObject(syn));
	CHECK_EQ(cJSON_GetObjectItem(syn, "keys")->valuedouble, 37);
	CHECK_EQ(cJSON_GetObjectItem(syn, "active_s")->valuedouble, 3);
	cJSON_Delete(j);
	free(s);
}

TEST(process_records)
{
	struct record_ctx ctx = {.host_id = "h"};
	struct proc_record p = {0};
	cJSON *j;
	char *s;

	p.kind = PROC_EXEC;
	p.pid = 42;
	p.ppid = 1;
	p.uid = 1000;
	p.ts_ns = 10 * NSEC_PER_SEC;
	p.start_ns = 10 * NSEC_PER_SEC;
	strcpy(p.comm, "bash");
	strcpy(p.exe, "/usr/bin/\xff\x01weird\"name");
	s = record_process(&ctx, &p, 1764374400LL * (int64_t)NSEC_PER_SEC);
	j = cJSON_Parse(s);
	CHECK(j != NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "event")->valuestring, "exec");
	CHECK_STR(cJSON_GetObjectItem(j, "exe")->valuestring, "/usr/bin/??weird\"name");
	CHECK_STR(cJSON_GetObjectItem(j, "ts")->valuestring, "2025-11-29T00:00:10.000Z");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "user")));
	CHECK(cJSON_GetObjectItem(j, "exit_code") == NULL);
	cJSON_Delete(j);
	free(s);

	p.kind = PROC_EXIT;
	p.exit_code = 3 << 8;
	p.ts_ns = 12 * NSEC_PER_SEC;
	p.cpu_ns = NSEC_PER_SEC / 2;
	s = record_process(&ctx, &p, 0);
	j = cJSON_Parse(s);
	CHECK_STR(cJSON_GetObjectItem(j, "event")->valuestring, "exit");
	CHECK_EQ(cJSON_GetObjectItem(j, "exit_code")->valuedouble, 3);
	CHECK(cJSON_GetObjectItem(j, "signal") == NULL);
	CHECK(cJSON_GetObjectItem(j, "cpu_s")->valuedouble == 0.5);
	CHECK(cJSON_GetObjectItem(j, "run_s")->valuedouble == 2.0);
	cJSON_Delete(j);
	free(s);

	p.exit_code = 9; /* killed by SIGKILL */
	s = record_process(&ctx, &p, 0);
	j = cJSON_Parse(s);
	CHECK_EQ(cJSON_GetObjectItem(j, "exit_code")->valuedouble, 137);
	CHECK_EQ(cJSON_GetObjectItem(j, "signal")->valuedouble, 9);
	cJSON_Delete(j);
	free(s);
}

TEST(rfc3339_round_trip)
{
	char buf[RFC3339_LEN];
	int64_t ms;

	CHECK_STR(rfc3339_ms(0, buf), "1970-01-01T00:00:00.000Z");
	CHECK_STR(rfc3339_ms(1764374400123LL, buf), "2025-11-29T00:00:00.123Z");
	CHECK_EQ(rfc3339_parse("2025-11-29T00:00:00.123Z", &ms), 0);
	CHECK_EQ(ms, 1764374400123LL);
	CHECK_EQ(rfc3339_parse("2025-11-29T00:00:00Z", &ms), 0);
	CHECK_EQ(ms, 1764374400000LL);
	CHECK_EQ(rfc3339_parse("2025-11-29T00:00:00.5+00:00", &ms), 0);
	CHECK_EQ(ms, 1764374400500LL);
	CHECK_EQ(rfc3339_parse("2025-11-29 00:00:00Z", &ms), -EINVAL);
	CHECK_EQ(rfc3339_parse("2025-11-29T00:00:00+01:00", &ms), -EINVAL);
	CHECK_EQ(rfc3339_parse("2025-11-29T00:00:00.Z", &ms), -EINVAL);
	CHECK_EQ(rfc3339_parse("", &ms), -EINVAL);
}

TEST(utf8_cleaning)
{
	char out[16];

	utf8_clean(out, sizeof(out), "caf\xc3\xa9", 5);
	CHECK_STR(out, "caf\xc3\xa9");
	utf8_clean(out, sizeof(out),
		   "a\x80"
		   "b\xc3",
		   4);
	CHECK_STR(out, "a?b?");
	utf8_clean(out, sizeof(out), "\xed\xa0\x80x", 4); /* surrogate */
	CHECK_STR(out, "???x");
	utf8_clean(out, sizeof(out), "tab\tnl\n", 7);
	CHECK_STR(out, "tab\tnl?");
	utf8_clean(out, 6, "abcdefgh", 8);
	CHECK_STR(out, "abcde");
	utf8_clean(out, 5, "ab\xe2\x82\xac", 5); /* euro sign does not fit: cut before it */
	CHECK_STR(out, "ab");
}

TEST(parse_uint_takes_whole_decimal_numbers_only)
{
	uint64_t v = 7;

	CHECK_EQ(parse_uint("42", 0, 100, &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(parse_uint("0", 0, 100, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(parse_uint("18446744073709551615", 0, ~0ULL, &v), 0);
	CHECK(v == ~0ULL);
	v = 7;
	CHECK_EQ(parse_uint("18446744073709551616", 0, ~0ULL, &v), -ERANGE);
	CHECK_EQ(parse_uint("101", 0, 100, &v), -ERANGE);
	CHECK_EQ(parse_uint("4", 5, 100, &v), -ERANGE);
	CHECK_EQ(parse_uint("", 0, 100, &v), -EINVAL);
	CHECK_EQ(parse_uint("-1", 0, 100, &v), -EINVAL);
	CHECK_EQ(parse_uint("+1", 0, 100, &v), -EINVAL);
	CHECK_EQ(parse_uint(" 1", 0, 100, &v), -EINVAL);
	CHECK_EQ(parse_uint("1 ", 0, 100, &v), -EINVAL);
	CHECK_EQ(parse_uint("12x", 0, 100, &v), -EINVAL);
	CHECK_EQ(parse_uint(NULL, 0, 100, &v), -EINVAL);
	CHECK_EQ(v, 7); /* untouched on failure */
}

int main(void)
{
	RUN(diff_splits_origins_and_sums_totals);
	RUN(diff_after_a_source_restart_counts_from_zero);
	RUN(active_seconds_counts_each_second_once);
	RUN(active_seconds_ignores_stale_ring_laps);
	RUN(idle_threshold);
	RUN(activity_record_fields);
	RUN(process_records);
	RUN(rfc3339_round_trip);
	RUN(utf8_cleaning);
	RUN(parse_uint_takes_whole_decimal_numbers_only);
	return CHECK_DONE();
}
