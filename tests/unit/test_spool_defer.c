// SPDX-License-Identifier: BSD-2-Clause
/*
 * Deferred appends (spool_defer()): records framed in memory reach the disk
 * in order, whole, across segment boundaries and at the buffer's size, with
 * the same counts as one-by-one appends; nothing is on disk before the
 * flush; spool_sync() and spool_close() flush.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "spool.h"

static char root[64], dir[128];

/* Read every record of the spool in dir; returns how many, checking that
 * record i holds "rec-<i>" padded to its length. */
static int read_all(int want)
{
	struct spool_reader *r = NULL;
	struct spool_frame f;
	char expect[64];
	int n = 0, rc;

	CHECK_EQ(spool_reader_open(&r, dir, NULL), 0);
	while ((rc = spool_reader_next(r, &f, NULL)) == 1) {
		int len = snprintf(expect, sizeof(expect), "rec-%d", n);

		if (n < want)
			CHECK(f.len >= (uint32_t)len && !memcmp(f.payload, expect, (size_t)len));
		n++;
	}
	CHECK_EQ(rc, 0);
	CHECK_EQ(spool_reader_corrupt(r), 0);
	spool_reader_close(r);
	return n;
}

/* Append record i: "rec-<i>" padded with '.' to 100 + i % 300 bytes. */
static int add(struct spool *s, int i)
{
	char buf[512];
	int len = 100 + i % 300;

	memset(buf, '.', sizeof(buf));
	snprintf(buf, sizeof(buf), "rec-%d", i);
	buf[strlen(buf)] = '.';
	return spool_append(s, buf, (size_t)len, 1000 + (uint64_t)i);
}

TEST(deferred_records_arrive_in_order_across_segments)
{
	struct spool_opts o = {.segment_bytes = 8192};
	struct spool_stats st;
	struct spool *s;
	int i;

	check_mkdtemp(root, sizeof(root), "defer");
	snprintf(dir, sizeof(dir), "%s/spool", root);
	CHECK_EQ(spool_open(&s, dir, &o), 0);
	CHECK_EQ(add(s, 0), 0); /* one written the usual way */
	CHECK_EQ(spool_defer(s, 1), 0);
	for (i = 1; i <= 300; i++)
		CHECK_EQ(add(s, i), 0);
	/* 300 records of ~250 bytes do not fit one 8 KiB segment: what did not
	 * fit went out before the segment changed; the rest waits */
	CHECK(read_all(301) < 301);
	CHECK_EQ(spool_defer(s, 0), 0);
	CHECK_EQ(read_all(301), 301);
	spool_stats(s, &st);
	CHECK_EQ(st.records, 301);
	CHECK_EQ(st.pending_records, 301);
	CHECK(st.segments > 5);
	CHECK_EQ(st.oldest_ts_ms, 1000);
	CHECK_EQ(st.failed_records, 0);
	CHECK_EQ(spool_close(s), 0);
	/* reopening finds the same records and no torn tail */
	CHECK_EQ(spool_open(&s, dir, &o), 0);
	spool_stats(s, &st);
	CHECK_EQ(st.records, 301);
	CHECK_EQ(st.truncated_bytes, 0);
	CHECK_EQ(spool_close(s), 0);
	CHECK_EQ(check_rmtree(root), 0);
}

TEST(sync_and_close_flush)
{
	struct spool *s;
	int i;

	check_mkdtemp(root, sizeof(root), "defer");
	snprintf(dir, sizeof(dir), "%s/spool", root);
	CHECK_EQ(spool_open(&s, dir, NULL), 0);
	CHECK_EQ(spool_defer(s, 1), 0);
	for (i = 0; i < 10; i++)
		CHECK_EQ(add(s, i), 0);
	CHECK_EQ(read_all(10), 0); /* nothing on disk yet */
	CHECK_EQ(spool_sync(s), 0);
	CHECK_EQ(read_all(10), 10);
	for (; i < 20; i++)
		CHECK_EQ(add(s, i), 0);
	CHECK_EQ(spool_close(s), 0); /* still deferring: close writes them */
	CHECK_EQ(read_all(20), 20);
	CHECK_EQ(check_rmtree(root), 0);
}

TEST(buffer_size_bounds_memory)
{
	static char big[60000];
	struct spool_stats st;
	struct spool *s;
	int i;

	check_mkdtemp(root, sizeof(root), "defer");
	snprintf(dir, sizeof(dir), "%s/spool", root);
	CHECK_EQ(spool_open(&s, dir, NULL), 0);
	CHECK_EQ(spool_defer(s, 1), 0);
	memset(big, 'x', sizeof(big));
	/* 10 x 60 KB > SPOOL_DEFER_BYTES: earlier ones are written meanwhile */
	for (i = 0; i < 10; i++)
		CHECK_EQ(spool_append(s, big, sizeof(big), 5), 0);
	spool_stats(s, &st);
	CHECK(st.records >= 10 - (SPOOL_DEFER_BYTES / sizeof(big)) - 1);
	CHECK(st.records < 10);
	CHECK_EQ(spool_defer(s, 0), 0);
	spool_stats(s, &st);
	CHECK_EQ(st.records, 10);
	CHECK_EQ(spool_close(s), 0);
	CHECK_EQ(check_rmtree(root), 0);
}

int main(void)
{
	RUN(deferred_records_arrive_in_order_across_segments);
	RUN(sync_and_close_flush);
	RUN(buffer_size_bounds_memory);
	return CHECK_DONE();
}
