// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of lib/spool.c: the frame decoder on byte buffers, and the spool
 * on real files in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "spool.h"

/* --- helpers --- */

static char tmp_root[64];
static char spool_dir[128];

/* A fresh temporary directory; the spool lives in its "spool" subdirectory,
 * which does not exist yet. */
static void tmp_setup(void)
{
	check_mkdtemp(tmp_root, sizeof(tmp_root), "spool");
	snprintf(spool_dir, sizeof(spool_dir), "%s/spool", tmp_root);
}

static void tmp_cleanup(void)
{
	CHECK_EQ(check_rmtree(tmp_root), 0);
}

static void seg_path(char *buf, size_t n, uint64_t seq)
{
	snprintf(buf, n, "%s/%016" PRIx64 ".seg", spool_dir, seq);
}

/* Size of segment seq, -1 when it does not exist. */
static long long seg_size(uint64_t seq)
{
	char p[256];
	struct stat st;

	seg_path(p, sizeof(p), seq);
	if (stat(p, &st) < 0)
		return -1;
	return (long long)st.st_size;
}

static int seg_count(void)
{
	int n = 0;

	for (uint64_t seq = 1; seq < 1000; seq++)
		n += seg_size(seq) >= 0;
	return n;
}

/* Read all of segment seq into a malloc'd buffer. */
static uint8_t *seg_read(uint64_t seq, size_t *len)
{
	char p[256];
	struct stat st;
	uint8_t *buf;
	int fd;

	seg_path(p, sizeof(p), seq);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	*len = (size_t)st.st_size;
	if (buf && read(fd, buf, *len) != (ssize_t)*len) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

/* Replace segment seq with len bytes of buf. */
static void seg_write(uint64_t seq, const uint8_t *buf, size_t len)
{
	char p[256];
	int fd;

	seg_path(p, sizeof(p), seq);
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(write(fd, buf, len), len);
	close(fd);
}

/* Overwrite bytes of segment seq at off. */
static void seg_poke(uint64_t seq, uint64_t off, const void *bytes, size_t n)
{
	char p[256];
	int fd;

	seg_path(p, sizeof(p), seq);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(pwrite(fd, bytes, n, (off_t)off), n);
	close(fd);
}

/* Payload of record id: its id (little-endian) then a pattern. */
static void fill_rec(uint8_t *p, size_t n, uint32_t id)
{
	for (size_t j = 0; j < n; j++)
		p[j] = (uint8_t)(id * 31 + j * 7);
	for (size_t j = 0; j < 4 && j < n; j++)
		p[j] = (uint8_t)(id >> (8 * j));
}

static uint8_t rec_buf[SPOOL_MAX_RECORD + 1];

static void append_rec(struct spool *s, uint32_t id, size_t n, uint64_t ts)
{
	fill_rec(rec_buf, n, id);
	CHECK_EQ(spool_append(s, rec_buf, n, ts), 0);
}

/* Append records first..first+count-1 of n bytes each, ts = 1000 + id. */
static void append_range(struct spool *s, uint32_t first, uint32_t count, size_t n)
{
	for (uint32_t id = first; id < first + count; id++)
		append_rec(s, id, n, 1000 + id);
}

/* The id of a record payload after checking the whole payload; -1 when wrong. */
static long rec_id(const struct spool_frame *f)
{
	static uint8_t want[SPOOL_MAX_RECORD];
	uint32_t id;

	if (f->len < 4 || f->len > sizeof(want))
		return -1;
	id = (uint32_t)f->payload[0] | (uint32_t)f->payload[1] << 8 |
	     (uint32_t)f->payload[2] << 16 | (uint32_t)f->payload[3] << 24;
	fill_rec(want, f->len, id);
	return memcmp(want, f->payload, f->len) == 0 ? (long)id : -1;
}

/* Read every record from *from (NULL: oldest) into ids (at most max).
 * Returns the count; *corrupt (if not NULL) gets the reader's corrupt count. */
static int read_ids(const struct spool_pos *from, long *ids, int max, uint64_t *corrupt)
{
	struct spool_reader *r = NULL;
	struct spool_frame f;
	struct spool_pos next, prev = {0, 0};
	int n = 0, rc;

	rc = spool_reader_open(&r, spool_dir, from);
	CHECK_EQ(rc, 0);
	if (rc)
		return -1;
	while ((rc = spool_reader_next(r, &f, &next)) == 1) {
		CHECK(next.seg > prev.seg || (next.seg == prev.seg && next.off > prev.off));
		prev = next;
		if (n < max)
			ids[n] = rec_id(&f);
		n++;
	}
	CHECK_EQ(rc, 0);
	if (corrupt)
		*corrupt = spool_reader_corrupt(r);
	spool_reader_close(r);
	return n;
}

/* ids[0..n) == first, first+1, ... except the ids listed in skip. */
static void check_ids(const long *ids, int n, long first, long last, const long *skip, int nskip)
{
	int k = 0;

	for (long id = first; id <= last; id++) {
		int skipped = 0;

		for (int j = 0; j < nskip; j++)
			skipped |= skip[j] == id;
		if (skipped)
			continue;
		if (k >= n) {
			CHECK_EQ(k, n + 1); /* too few records */
			return;
		}
		if (ids[k] != id) {
			CHECK_EQ(ids[k], id);
			return;
		}
		k++;
	}
	CHECK_EQ(n, k);
}

static struct spool *open_spool(uint64_t segment_bytes, uint64_t max_bytes)
{
	struct spool_opts o = {.segment_bytes = segment_bytes, .max_bytes = max_bytes};
	struct spool *s = NULL;

	CHECK_EQ(spool_open(&s, spool_dir, &o), 0);
	CHECK(s != NULL);
	return s;
}

/* The 25-byte frame of "hello" at ts 0x0102030405060708, built by hand. */
static void hand_frame(uint8_t f[25])
{
	static const uint8_t head[16] = {'S', 'P', 'L', '1', 5, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
	uLong c;

	memcpy(f, head, 16);
	memcpy(f + 20, "hello", 5);
	c = crc32(0L, Z_NULL, 0);
	c = crc32(c, f + 4, 12);
	c = crc32(c, f + 20, 5);
	for (int i = 0; i < 4; i++)
		f[16 + i] = (uint8_t)(c >> (8 * i));
}

/* --- the decoder --- */

TEST(decode_good)
{
	uint8_t f[25], enc[25], big[64];
	struct spool_frame fr;

	hand_frame(f);
	CHECK_EQ(spool_decode(f, sizeof(f), &fr), SPOOL_REC_OK);
	CHECK_EQ(fr.len, 5);
	CHECK_EQ(fr.size, 25);
	CHECK(fr.ts_ms == 0x0102030405060708ull);
	CHECK(fr.payload == f + 20);
	CHECK(memcmp(fr.payload, "hello", 5) == 0);

	/* the encoder writes exactly the documented bytes */
	CHECK_EQ(spool_encode(enc, sizeof(enc), "hello", 5, 0x0102030405060708ull), 25);
	CHECK(memcmp(enc, f, sizeof(f)) == 0);

	/* bytes after the frame are not part of it */
	memset(big, 0xee, sizeof(big));
	memcpy(big, f, sizeof(f));
	CHECK_EQ(spool_decode(big, sizeof(big), &fr), SPOOL_REC_OK);
	CHECK_EQ(fr.size, 25);

	/* an empty record */
	CHECK_EQ(spool_encode(enc, sizeof(enc), NULL, 0, 42), SPOOL_FRAME_HDR);
	CHECK_EQ(spool_decode(enc, SPOOL_FRAME_HDR, &fr), SPOOL_REC_OK);
	CHECK_EQ(fr.len, 0);
	CHECK_EQ(fr.ts_ms, 42);
	CHECK_EQ(fr.size, SPOOL_FRAME_HDR);
}

TEST(decode_short)
{
	uint8_t f[25];
	struct spool_frame fr;

	hand_frame(f);
	for (size_t k = 0; k < sizeof(f); k++)
		CHECK_EQ(spool_decode(f, k, &fr), SPOOL_REC_SHORT);
	CHECK_EQ(spool_decode(NULL, 0, &fr), SPOOL_REC_SHORT);
	/* a length grown past the buffer cannot be told from a torn tail */
	f[4] = 6;
	CHECK_EQ(spool_decode(f, sizeof(f), &fr), SPOOL_REC_SHORT);
}

TEST(decode_bad)
{
	uint8_t f[25], g[25];
	struct spool_frame fr;

	hand_frame(f);

	/* magic: whole, and a torn prefix that is not the magic's */
	memcpy(g, f, sizeof(g));
	g[0] ^= 1;
	CHECK_EQ(spool_decode(g, sizeof(g), &fr), SPOOL_REC_BAD);
	CHECK_EQ(spool_decode(g, 2, &fr), SPOOL_REC_BAD);
	memcpy(g, f, sizeof(g));
	g[3] = 0;
	CHECK_EQ(spool_decode(g, sizeof(g), &fr), SPOOL_REC_BAD);

	/* length over SPOOL_MAX_RECORD, seen as soon as the field is there */
	memcpy(g, f, sizeof(g));
	g[4] = 1, g[5] = 0, g[6] = 0x10, g[7] = 0; /* 1 MiB + 1 */
	CHECK_EQ(spool_decode(g, sizeof(g), &fr), SPOOL_REC_BAD);
	CHECK_EQ(spool_decode(g, 8, &fr), SPOOL_REC_BAD);
	g[4] = g[5] = g[6] = g[7] = 0xff;
	CHECK_EQ(spool_decode(g, sizeof(g), &fr), SPOOL_REC_BAD);

	/* a shorter length no longer matches the CRC */
	memcpy(g, f, sizeof(g));
	g[4] = 4;
	CHECK_EQ(spool_decode(g, sizeof(g), &fr), SPOOL_REC_BAD);

	/* every bit of the payload, of the timestamp and of the CRC */
	for (int byte = 8; byte < 25; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(g, f, sizeof(g));
			g[byte] ^= (uint8_t)(1 << bit);
			CHECK_EQ(spool_decode(g, sizeof(g), &fr), SPOOL_REC_BAD);
		}
	}

	/* the encoder refuses what the decoder would */
	CHECK_EQ(spool_encode(rec_buf, sizeof(rec_buf), rec_buf, SPOOL_MAX_RECORD + 1, 1),
		 -EMSGSIZE);
	CHECK_EQ(spool_encode(g, 24, "hello", 5, 1), -ENOBUFS);
}

/* --- the spool on disk --- */

static size_t varied_size(uint32_t i)
{
	if (i == 100)
		return 10000; /* larger than a segment */
	return 4 + (i * 7919u) % 2997;
}

TEST(roundtrip_many_segments)
{
	enum { N = 400 };
	static long ids[N + 10];
	uint64_t want_bytes = 0, t0, t1, corrupt = 99, seq;
	struct spool_stats st;
	struct spool_frame f;
	struct spool_reader *r = NULL;
	struct spool *s;
	struct stat sb;
	char p[256];
	int n;

	tmp_setup();
	s = open_spool(4096, 0);
	CHECK_EQ(stat(spool_dir, &sb), 0);
	CHECK_EQ(sb.st_mode & 0777, 0700);
	t0 = (uint64_t)time(NULL) * 1000;
	for (uint32_t i = 0; i < N; i++) {
		append_rec(s, i, varied_size(i), i == 5 ? 0 : 1000 + i);
		want_bytes += SPOOL_FRAME_HDR + varied_size(i);
	}
	t1 = ((uint64_t)time(NULL) + 1) * 1000;
	CHECK_EQ(spool_sync(s), 0);
	spool_stats(s, &st);
	CHECK_EQ(st.records, N);
	CHECK_EQ(st.pending_records, N);
	CHECK_EQ(st.bytes, want_bytes);
	CHECK_EQ(st.oldest_ts_ms, 1000);
	CHECK_EQ(st.dropped_records, 0);
	CHECK_EQ(st.corrupt_records, 0);
	CHECK(st.segments > 10);
	CHECK_EQ(st.segments, seg_count());

	/* every segment within the limit, except the one holding the big record alone */
	for (seq = 1; seq <= st.segments; seq++) {
		long long sz = seg_size(seq);

		CHECK(sz > 0);
		if (sz > 4096)
			CHECK_EQ(sz, SPOOL_FRAME_HDR + 10000);
		seg_path(p, sizeof(p), seq);
		CHECK_EQ(stat(p, &sb), 0);
		CHECK_EQ(sb.st_mode & 0777, 0600);
	}

	n = read_ids(NULL, ids, N + 10, &corrupt);
	CHECK_EQ(n, N);
	check_ids(ids, n, 0, N - 1, NULL, 0);
	CHECK_EQ(corrupt, 0);

	/* timestamps come back: given ones exactly, 0 means "now" */
	CHECK_EQ(spool_reader_open(&r, spool_dir, NULL), 0);
	for (uint32_t i = 0; i < N && spool_reader_next(r, &f, NULL) == 1; i++) {
		if (i == 5)
			CHECK(f.ts_ms >= t0 && f.ts_ms <= t1);
		else if (f.ts_ms != 1000 + i)
			CHECK_EQ(f.ts_ms, 1000 + i);
		CHECK_EQ(f.len, varied_size(i));
	}
	CHECK_EQ(spool_reader_next(r, &f, NULL), 0);
	spool_reader_close(r);

	CHECK_EQ(spool_close(s), 0);
	spool_reader_close(NULL);
	CHECK_EQ(spool_close(NULL), 0);
	tmp_cleanup();
}

TEST(second_writer_is_refused)
{
	struct spool *s, *t = NULL;

	tmp_setup();
	s = open_spool(0, 0);
	CHECK_EQ(spool_open(&t, spool_dir, NULL), -EBUSY);
	CHECK(t == NULL);
	CHECK_EQ(spool_close(s), 0);
	CHECK_EQ(spool_open(&t, spool_dir, NULL), 0);
	CHECK_EQ(spool_close(t), 0);
	tmp_cleanup();
}

/* 20 records of 100 bytes (120 framed) in segments of 1000 bytes: 8, 8, 4. */
static void build_three_segments(void)
{
	struct spool *s = open_spool(1000, 0);

	append_range(s, 0, 20, 100);
	CHECK_EQ(spool_close(s), 0);
	CHECK_EQ(seg_size(1), 960);
	CHECK_EQ(seg_size(2), 960);
	CHECK_EQ(seg_size(3), 480);
}

TEST(torn_tail_truncated_at_every_offset)
{
	static long ids[32];
	struct spool_stats st;
	struct spool *s;
	uint8_t *full, zeros[50] = {0};
	size_t len = 0;
	int n;

	tmp_setup();
	build_three_segments();
	full = seg_read(3, &len);
	CHECK(full != NULL && len == 480);
	if (!full) {
		tmp_cleanup();
		return;
	}
	/* the last frame is bytes 360..479: cut inside it anywhere */
	for (size_t cut = 361; cut < 480; cut++) {
		seg_write(3, full, cut);
		s = open_spool(1000, 0);
		spool_stats(s, &st);
		CHECK_EQ(st.truncated_bytes, cut - 360);
		CHECK_EQ(st.records, 19);
		CHECK_EQ(st.corrupt_records, 0);
		CHECK_EQ(seg_size(3), 360);
		CHECK_EQ(spool_close(s), 0);
		n = read_ids(NULL, ids, 32, NULL);
		CHECK_EQ(n, 19);
		check_ids(ids, n, 0, 18, NULL, 0);
	}

	/* a recovered spool opens clean and appends after the good end */
	s = open_spool(1000, 0);
	spool_stats(s, &st);
	CHECK_EQ(st.truncated_bytes, 0);
	append_rec(s, 19, 100, 1019);
	CHECK_EQ(spool_close(s), 0);
	n = read_ids(NULL, ids, 32, NULL);
	CHECK_EQ(n, 20);
	check_ids(ids, n, 0, 19, NULL, 0);

	/* garbage (zeros, as after a crash on some file systems) is cut too */
	seg_poke(3, 480, zeros, sizeof(zeros));
	CHECK_EQ(seg_size(3), 530);
	s = open_spool(1000, 0);
	spool_stats(s, &st);
	CHECK_EQ(st.truncated_bytes, 50);
	CHECK_EQ(st.records, 20);
	CHECK_EQ(seg_size(3), 480);
	CHECK_EQ(spool_close(s), 0);
	free(full);
	tmp_cleanup();
}

TEST(damaged_records_skipped_and_counted)
{
	enum { N = 40 }; /* 5 segments of 8 */
	static const long skip[] = {3, 12, 20, 37};
	static long ids[N];
	struct spool_stats st;
	struct spool *s;
	uint8_t b, ff[4] = {0xff, 0xff, 0xff, 0xff}, z = 0;
	uint64_t corrupt = 0;
	int n;

	tmp_setup();
	s = open_spool(1000, 0);
	append_range(s, 0, N, 100);
	CHECK_EQ(spool_close(s), 0);

	/* record 3 (segment 1): a payload bit */
	b = (uint8_t)((3 * 31 + 10 * 7) ^ 0x10);
	seg_poke(1, 3 * 120 + 20 + 10, &b, 1);
	/* record 12 (segment 2, 5th): an impossible length */
	seg_poke(2, 4 * 120 + 4, ff, 4);
	/* record 20 (segment 3, 5th): its magic */
	seg_poke(3, 4 * 120, &z, 1);
	/* record 37 (last segment, 6th of 8): damage that good records follow */
	b = (uint8_t)((37 * 31 + 50 * 7) ^ 0x01);
	seg_poke(5, 5 * 120 + 20 + 50, &b, 1);

	s = open_spool(1000, 0);
	spool_stats(s, &st);
	CHECK_EQ(st.corrupt_records, 4);
	CHECK_EQ(st.records, N - 4);
	CHECK_EQ(st.pending_records, N - 4);
	CHECK_EQ(st.truncated_bytes, 0);
	CHECK_EQ(st.bytes, N * 120);
	for (uint64_t seq = 1; seq <= 5; seq++)
		CHECK_EQ(seg_size(seq), 960); /* nothing cut, not even in the last one */
	CHECK_EQ(spool_close(s), 0);

	n = read_ids(NULL, ids, N, &corrupt);
	CHECK_EQ(n, N - 4);
	check_ids(ids, n, 0, N - 1, skip, 4);
	CHECK_EQ(corrupt, 4);
	tmp_cleanup();
}

TEST(cap_drops_oldest_segments)
{
	static long ids[100];
	struct spool_stats st;
	struct spool_pos c;
	struct spool *s;
	int n;

	/* 8 records of 120 framed bytes per 1000-byte segment; cap 5000 */
	tmp_setup();
	s = open_spool(1000, 5000);
	append_range(s, 0, 100, 100);
	spool_stats(s, &st);
	/* 100 records = segments 1..12 full + 4 in 13; the cap keeps 9..13 */
	CHECK_EQ(st.segments, 5);
	CHECK_EQ(st.records, 36);
	CHECK_EQ(st.bytes, 4 * 960 + 480);
	CHECK_EQ(st.dropped_records, 64);
	CHECK_EQ(st.dropped_bytes, 64 * 120);
	CHECK_EQ(st.records + st.dropped_records, 100);
	CHECK_EQ(st.pending_records, 36);
	CHECK_EQ(st.oldest_ts_ms, 1000 + 64);
	CHECK(st.bytes <= 5000);
	for (uint64_t seq = 1; seq <= 8; seq++)
		CHECK_EQ(seg_size(seq), -1);
	CHECK_EQ(seg_count(), 5);
	spool_cursor(s, &c);
	CHECK_EQ(c.seg, 9);
	CHECK_EQ(c.off, 0);
	CHECK_EQ(spool_close(s), 0);

	n = read_ids(NULL, ids, 100, NULL);
	CHECK_EQ(n, 36);
	check_ids(ids, n, 64, 99, NULL, 0);
	tmp_cleanup();
}

TEST(cap_counts_only_unacknowledged_as_dropped)
{
	struct spool_reader *r = NULL;
	struct spool_stats st;
	struct spool_frame f;
	struct spool_pos pos = {0, 0}, c;
	struct spool *s;

	tmp_setup();
	s = open_spool(1000, 3000);
	append_range(s, 0, 16, 100);
	CHECK_EQ(spool_reader_open(&r, spool_dir, NULL), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(spool_reader_next(r, &f, &pos), 1);
	spool_reader_close(r);
	CHECK_EQ(pos.seg, 1);
	CHECK_EQ(pos.off, 480);
	CHECK_EQ(spool_ack(s, &pos), 0);

	/* segments 1-3 full (2880) and one record more stay under the cap; the
	 * second record of segment 4 pushes segment 1 out */
	append_range(s, 16, 9, 100);
	spool_stats(s, &st);
	CHECK_EQ(st.dropped_records, 0);
	CHECK_EQ(seg_size(1), 960);
	append_range(s, 25, 1, 100);
	spool_stats(s, &st);
	CHECK_EQ(seg_size(1), -1);
	CHECK_EQ(st.dropped_records, 4); /* records 4..7; 0..3 were shipped */
	CHECK_EQ(st.dropped_bytes, 480);
	CHECK_EQ(st.records, 18);
	CHECK_EQ(st.pending_records, 18);
	spool_cursor(s, &c);
	CHECK_EQ(c.seg, 2);
	CHECK_EQ(c.off, 0);
	CHECK_EQ(spool_close(s), 0);
	tmp_cleanup();
}

TEST(reader_does_not_modify_files)
{
	static long ids[32];
	uint8_t *before[4] = {NULL}, *after;
	size_t blen[4] = {0}, alen;
	uint64_t corrupt = 0;
	uint8_t b = 0;
	struct stat st;
	int n;

	tmp_setup();
	build_three_segments();
	/* torn last frame and a damaged record in segment 1 */
	after = seg_read(3, &alen);
	CHECK(after != NULL);
	if (after)
		seg_write(3, after, 400);
	free(after);
	seg_poke(1, 2 * 120 + 30, &b, 1);
	for (uint64_t seq = 1; seq <= 3; seq++)
		before[seq] = seg_read(seq, &blen[seq]);

	n = read_ids(NULL, ids, 32, &corrupt);
	CHECK_EQ(n, 18); /* 0..18 without 2; the torn 19 is the end */
	check_ids(ids, n, 0, 18, (const long[]){2}, 1);
	CHECK_EQ(corrupt, 1);
	/* from a position, too */
	n = read_ids(&(struct spool_pos){2, 240}, ids, 32, NULL);
	CHECK_EQ(n, 9);
	check_ids(ids, n, 10, 18, NULL, 0);

	for (uint64_t seq = 1; seq <= 3; seq++) {
		after = seg_read(seq, &alen);
		CHECK(after != NULL && before[seq] != NULL);
		CHECK_EQ(alen, blen[seq]);
		if (after && before[seq] && alen == blen[seq])
			CHECK(memcmp(after, before[seq], alen) == 0);
		free(after);
		free(before[seq]);
	}
	CHECK_EQ(seg_size(3), 400);
	CHECK_EQ(seg_count(), 3);
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/cursor", spool_dir);
		CHECK(stat(p, &st) < 0 && errno == ENOENT);
	}
	tmp_cleanup();
}

TEST(reader_follows_appends_into_new_segments)
{
	struct spool_reader *r = NULL;
	struct spool_frame f;
	struct spool_pos pos;
	struct spool *s;
	long want = 0;
	int rc;

	tmp_setup();
	s = open_spool(1000, 0);
	append_range(s, 0, 5, 100);
	CHECK_EQ(spool_reader_open(&r, spool_dir, NULL), 0);
	while ((rc = spool_reader_next(r, &f, &pos)) == 1)
		CHECK_EQ(rec_id(&f), want++);
	CHECK_EQ(rc, 0);
	CHECK_EQ(want, 5);
	append_range(s, 5, 15, 100); /* into segment 2 */
	while ((rc = spool_reader_next(r, &f, &pos)) == 1)
		CHECK_EQ(rec_id(&f), want++);
	CHECK_EQ(rc, 0);
	CHECK_EQ(want, 20);
	CHECK_EQ(pos.seg, 3);
	CHECK_EQ(pos.off, 480);
	spool_reader_close(r);

	/* a start in a segment that does not exist is the start of the next one */
	r = NULL;
	CHECK_EQ(spool_reader_open(&r, spool_dir, &(struct spool_pos){0, 77}), 0);
	CHECK_EQ(spool_reader_next(r, &f, &pos), 1);
	CHECK_EQ(rec_id(&f), 0);
	spool_reader_close(r);
	CHECK_EQ(spool_close(s), 0);

	r = NULL;
	CHECK_EQ(spool_reader_open(&r, "/nonexistent/actlog-spool", NULL), -ENOENT);
	CHECK(r == NULL);
	tmp_cleanup();
}

TEST(cursor_ack_persists_and_deletes)
{
	enum { N = 40 }; /* 5 segments of 8 */
	static long ids[N];
	struct spool_reader *r = NULL;
	struct spool_stats st;
	struct spool_frame f;
	struct spool_pos pos = {0, 0}, c, end = {0, 0};
	struct spool *s;
	char p[256];
	struct stat sb;
	int n;

	tmp_setup();
	s = open_spool(1000, 0);
	append_range(s, 0, N, 100);
	spool_cursor(s, &c);
	CHECK_EQ(c.seg, 1);
	CHECK_EQ(c.off, 0);

	CHECK_EQ(spool_reader_open(&r, spool_dir, NULL), 0);
	for (int i = 0; i < N / 2; i++)
		CHECK_EQ(spool_reader_next(r, &f, &pos), 1);
	spool_reader_close(r);
	CHECK_EQ(pos.seg, 3); /* after record 19, the 4th of segment 3 */
	CHECK_EQ(pos.off, 480);
	CHECK_EQ(spool_ack(s, &pos), 0);
	spool_cursor(s, &c);
	CHECK_EQ(c.seg, 3);
	CHECK_EQ(c.off, 480);
	spool_stats(s, &st);
	CHECK_EQ(st.pending_records, N / 2);
	CHECK_EQ(st.records, 24);
	CHECK_EQ(st.segments, 3);
	CHECK_EQ(seg_size(1), -1);
	CHECK_EQ(seg_size(2), -1);
	snprintf(p, sizeof(p), "%s/cursor", spool_dir);
	CHECK_EQ(stat(p, &sb), 0);

	/* not frame boundaries of segments on disk */
	CHECK_EQ(spool_ack(s, &(struct spool_pos){3, 481}), -EINVAL);
	CHECK_EQ(spool_ack(s, &(struct spool_pos){4, 1}), -EINVAL);
	CHECK_EQ(spool_ack(s, &(struct spool_pos){5, 961}), -EINVAL);
	CHECK_EQ(spool_ack(s, &(struct spool_pos){6, 0}), -EINVAL);
	/* at or before the cursor: nothing */
	CHECK_EQ(spool_ack(s, &(struct spool_pos){2, 0}), 0);
	CHECK_EQ(spool_ack(s, &(struct spool_pos){3, 120}), 0);
	spool_cursor(s, &c);
	CHECK_EQ(c.seg, 3);
	CHECK_EQ(c.off, 480);
	spool_stats(s, &st);
	CHECK_EQ(st.pending_records, N / 2);
	CHECK_EQ(spool_close(s), 0);

	/* the cursor survives a reopen; reading from it yields exactly the rest */
	s = open_spool(1000, 0);
	spool_cursor(s, &c);
	CHECK_EQ(c.seg, 3);
	CHECK_EQ(c.off, 480);
	spool_stats(s, &st);
	CHECK_EQ(st.pending_records, N / 2);
	CHECK_EQ(st.records, 24);
	n = read_ids(&c, ids, N, NULL);
	CHECK_EQ(n, N / 2);
	check_ids(ids, n, N / 2, N - 1, NULL, 0);

	/* the end of a segment is the start of the next: segment 4 goes too */
	CHECK_EQ(spool_ack(s, &(struct spool_pos){4, 960}), 0);
	spool_cursor(s, &c);
	CHECK_EQ(c.seg, 5);
	CHECK_EQ(c.off, 0);
	CHECK_EQ(seg_size(3), -1);
	CHECK_EQ(seg_size(4), -1);
	spool_stats(s, &st);
	CHECK_EQ(st.pending_records, 8);

	/* everything: the active segment stays */
	CHECK_EQ(spool_reader_open(&r, spool_dir, &c), 0);
	while (spool_reader_next(r, &f, &pos) == 1)
		end = pos;
	spool_reader_close(r);
	CHECK_EQ(end.seg, 5);
	CHECK_EQ(end.off, 960);
	CHECK_EQ(spool_ack(s, &end), 0);
	spool_stats(s, &st);
	CHECK_EQ(st.pending_records, 0);
	CHECK_EQ(seg_size(5), 960);

	/* a new record goes to segment 6 and is all a reader from the cursor sees */
	append_rec(s, 40, 100, 1040);
	spool_stats(s, &st);
	CHECK_EQ(st.pending_records, 1);
	spool_cursor(s, &c);
	n = read_ids(&c, ids, N, NULL);
	CHECK_EQ(n, 1);
	CHECK_EQ(ids[0], 40);
	CHECK_EQ(spool_close(s), 0);

	/* on reopen the wholly acknowledged segment 5 is deleted */
	s = open_spool(1000, 0);
	spool_cursor(s, &c);
	CHECK_EQ(c.seg, 6);
	CHECK_EQ(c.off, 0);
	spool_stats(s, &st);
	CHECK_EQ(st.segments, 1);
	CHECK_EQ(st.pending_records, 1);
	CHECK_EQ(seg_size(5), -1);
	CHECK_EQ(spool_close(s), 0);
	tmp_cleanup();
}

TEST(oversize_record_rejected)
{
	struct spool_reader *r = NULL;
	struct spool_stats st;
	struct spool_frame f;
	struct spool *s;

	tmp_setup();
	s = open_spool(0, 0);
	fill_rec(rec_buf, sizeof(rec_buf), 7);
	CHECK_EQ(spool_append(s, rec_buf, SPOOL_MAX_RECORD + 1, 1), -EMSGSIZE);
	CHECK_EQ(spool_append(s, NULL, 5, 1), -EINVAL);
	spool_stats(s, &st);
	CHECK_EQ(st.records, 0);
	CHECK_EQ(st.bytes, 0);
	CHECK_EQ(seg_size(1), 0);

	/* exactly the maximum and an empty record are fine */
	CHECK_EQ(spool_append(s, rec_buf, SPOOL_MAX_RECORD, 1), 0);
	CHECK_EQ(spool_append(s, NULL, 0, 2), 0);
	spool_stats(s, &st);
	CHECK_EQ(st.records, 2);
	CHECK_EQ(st.bytes, 2 * SPOOL_FRAME_HDR + SPOOL_MAX_RECORD);
	CHECK_EQ(spool_reader_open(&r, spool_dir, NULL), 0);
	CHECK_EQ(spool_reader_next(r, &f, NULL), 1);
	CHECK_EQ(f.len, SPOOL_MAX_RECORD);
	CHECK(memcmp(f.payload, rec_buf, SPOOL_MAX_RECORD) == 0);
	CHECK_EQ(spool_reader_next(r, &f, NULL), 1);
	CHECK_EQ(f.len, 0);
	CHECK_EQ(f.ts_ms, 2);
	CHECK_EQ(spool_reader_next(r, &f, NULL), 0);
	spool_reader_close(r);
	CHECK_EQ(spool_close(s), 0);
	tmp_cleanup();
}

TEST(reopen_continues_sequence)
{
	static long ids[32];
	struct spool_stats st;
	struct spool *s;
	int n;

	tmp_setup();
	s = open_spool(1000, 0);
	append_range(s, 0, 10, 100); /* segment 1: 8, segment 2: 2 */
	CHECK_EQ(spool_close(s), 0);

	s = open_spool(1000, 0);
	spool_stats(s, &st);
	CHECK_EQ(st.records, 10);
	CHECK_EQ(st.pending_records, 10);
	CHECK_EQ(st.segments, 2);
	CHECK_EQ(st.bytes, 1200);
	CHECK_EQ(st.oldest_ts_ms, 1000);
	CHECK_EQ(st.truncated_bytes, 0);
	CHECK_EQ(st.corrupt_records, 0);
	append_range(s, 10, 10, 100); /* fills segment 2, then 3 */
	CHECK_EQ(spool_close(s), 0);
	CHECK_EQ(seg_size(1), 960);
	CHECK_EQ(seg_size(2), 960);
	CHECK_EQ(seg_size(3), 480);
	CHECK_EQ(seg_count(), 3);

	n = read_ids(NULL, ids, 32, NULL);
	CHECK_EQ(n, 20);
	check_ids(ids, n, 0, 19, NULL, 0);
	tmp_cleanup();
}

TEST(killed_writer_loses_nothing)
{
	static long ids[64];
	struct spool_stats st;
	struct spool *s;
	int status = 0, n;
	pid_t pid;

	tmp_setup();
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* no spool_sync(), no spool_close(): only what append left behind */
		s = NULL;
		if (spool_open(&s, spool_dir, &(struct spool_opts){.segment_bytes = 1000}) == 0)
			append_range(s, 0, 50, 100);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	s = open_spool(1000, 0); /* the dead writer's lock is gone with it */
	spool_stats(s, &st);
	CHECK_EQ(st.records, 50);
	CHECK_EQ(st.truncated_bytes, 0);
	CHECK_EQ(spool_close(s), 0);
	n = read_ids(NULL, ids, 64, NULL);
	CHECK_EQ(n, 50);
	check_ids(ids, n, 0, 49, NULL, 0);
	tmp_cleanup();
}

int main(void)
{
	RUN(decode_good);
	RUN(decode_short);
	RUN(decode_bad);
	RUN(roundtrip_many_segments);
	RUN(second_writer_is_refused);
	RUN(torn_tail_truncated_at_every_offset);
	RUN(damaged_records_skipped_and_counted);
	RUN(cap_drops_oldest_segments);
	RUN(cap_counts_only_unacknowledged_as_dropped);
	RUN(reader_does_not_modify_files);
	RUN(reader_follows_appends_into_new_segments);
	RUN(cursor_ack_persists_and_deletes);
	RUN(oversize_record_rejected);
	RUN(reopen_continues_sequence);
	RUN(killed_writer_loses_nothing);
	return CHECK_DONE();
}
