// SPDX-License-Identifier: BSD-2-Clause
/*
 * spool.c - the durable on-disk spool. Format and contracts: spool.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "spool.h"
#include "util.h"

#define SEG_SUFFIX ".seg"
#define SEG_NAME_LEN 20 /* 16 hex digits + ".seg" */
#define CURSOR_NAME "cursor"
#define CURSOR_TMP "cursor.tmp"
#define CURSOR_MAX 64
#define SCAN_BUF_MIN (64u << 10)

/* What the writer knows about one segment on disk. */
struct seg_info {
	uint64_t seq;
	uint64_t size;	   /* file bytes */
	uint64_t records;  /* good frames */
	uint64_t first_ts; /* ts_ms of the first good frame */
};

struct spool {
	int dirfd;	       /* holds the flock */
	int fd;		       /* active (last) segment, O_APPEND */
	struct seg_info *segs; /* ascending seq; the last one is active */
	size_t nsegs, segs_cap;
	uint64_t segment_bytes, max_bytes;
	struct spool_pos cursor;
	uint64_t bytes, records, pending;
	uint64_t dropped_records, dropped_bytes, corrupt_records, truncated_bytes;
	uint8_t *frame; /* encode buffer */
	size_t frame_cap;
	int dirty;     /* appended since the last fdatasync */
	int dir_dirty; /* segments created or deleted since the last dir fsync */
	int rotate;    /* active segment has a torn tail we could not cut: start anew */
	int defer;     /* spool_defer(): appends collect in wbuf */
	uint8_t *wbuf; /* deferred frames, for the active segment */
	size_t wlen, wcap;
	uint64_t wrecs, wfirst_ts; /* records in wbuf, ts_ms of the first */
	uint64_t failed_records;   /* deferred records whose write failed */
};

/*
 * Buffered reading of the frames of one segment with pread(); the caller owns
 * fd. Invariant: base <= pos <= base + len.
 */
struct scan {
	int fd;
	uint8_t *buf;
	size_t cap, len; /* buf holds file bytes [base, base + len) */
	uint64_t base;
	uint64_t pos;	   /* next frame to decode */
	uint64_t corrupt;  /* damaged regions skipped (a good frame followed) */
	uint64_t good_end; /* at the end: where undecodable data begins */
	uint64_t data_end; /* at the end: bytes in the file when it was read */
};

struct spool_reader {
	int dirfd;
	int fd;		  /* current segment, -1 while none is open */
	uint64_t seg;	  /* current segment; while fd < 0 the lowest wanted */
	uint64_t start;	  /* while fd < 0: offset to start at if seg itself exists */
	int newer;	  /* a newer segment exists: the current one is complete */
	uint64_t corrupt; /* skipped in segments already left */
	struct scan sc;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* crc32 over the length and ts_ms fields of hdr and the payload. */
static uint32_t frame_crc(const uint8_t *hdr, const uint8_t *payload, uint32_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, hdr + 4, 12);
	if (len) /* crc32() with a NULL buffer returns the initial value */
		c = crc32(c, payload, len);
	return (uint32_t)c;
}

int spool_decode(const uint8_t *buf, size_t len, struct spool_frame *out)
{
	uint8_t magic[4];
	size_t n = len < 4 ? len : 4;
	uint32_t plen;

	put_le32(magic, SPOOL_MAGIC);
	if (n && memcmp(buf, magic, n) != 0)
		return SPOOL_REC_BAD;
	if (len < 8)
		return SPOOL_REC_SHORT;
	plen = get_le32(buf + 4);
	if (plen > SPOOL_MAX_RECORD)
		return SPOOL_REC_BAD;
	if (len < SPOOL_FRAME_HDR || len - SPOOL_FRAME_HDR < plen)
		return SPOOL_REC_SHORT;
	if (get_le32(buf + 16) != frame_crc(buf, buf + SPOOL_FRAME_HDR, plen))
		return SPOOL_REC_BAD;
	if (out) {
		out->payload = buf + SPOOL_FRAME_HDR;
		out->len = plen;
		out->ts_ms = get_le64(buf + 8);
		out->size = SPOOL_FRAME_HDR + (size_t)plen;
	}
	return SPOOL_REC_OK;
}

ssize_t spool_encode(uint8_t *buf, size_t cap, const void *payload, size_t len, uint64_t ts_ms)
{
	if (len > SPOOL_MAX_RECORD)
		return -EMSGSIZE;
	if (len && !payload)
		return -EINVAL;
	if (!buf || cap < SPOOL_FRAME_HDR + len)
		return -ENOBUFS;
	put_le32(buf, SPOOL_MAGIC);
	put_le32(buf + 4, (uint32_t)len);
	put_le64(buf + 8, ts_ms);
	if (len)
		memcpy(buf + SPOOL_FRAME_HDR, payload, len);
	put_le32(buf + 16, frame_crc(buf, buf + SPOOL_FRAME_HDR, (uint32_t)len));
	return (ssize_t)(SPOOL_FRAME_HDR + len);
}

/* --- segment names and the directory --- */

static void seg_name(char name[SEG_NAME_LEN + 1], uint64_t seq)
{
	snprintf(name, SEG_NAME_LEN + 1, "%016" PRIx64 SEG_SUFFIX, seq);
}

/* 1 and *seq when name is a segment name, else 0. */
static int seg_parse(const char *name, uint64_t *seq)
{
	uint64_t v = 0;

	if (strlen(name) != SEG_NAME_LEN || strcmp(name + 16, SEG_SUFFIX) != 0)
		return 0;
	for (int i = 0; i < 16; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return 0;
	}
	*seq = v;
	return 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * List the segment sequence numbers in dirfd, ascending, into a malloc'd
 * *out (the caller frees it; NULL when none) of *n entries. 0 or -errno.
 */
static int list_segments(int dirfd, uint64_t **out, size_t *n)
{
	uint64_t *v = NULL, *nv, seq;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;
	int fd, err = 0;

	*out = NULL;
	*n = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			err = -errno;
			break;
		}
		if (!seg_parse(de->d_name, &seq))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[cnt++] = seq;
	}
	if (err)
		goto out;
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*out = v;
	*n = cnt;
	v = NULL;
out:
	free(v);
	closedir(d);
	return err;
}

/* The smallest segment number >= min in dirfd: 1 with *seq, 0 none, -errno. */
static int find_segment(int dirfd, uint64_t min, uint64_t *seq)
{
	uint64_t *v;
	size_t n, i;
	int err;

	err = list_segments(dirfd, &v, &n);
	if (err)
		return err;
	for (i = 0; i < n && v[i] < min; i++)
		;
	if (i < n)
		*seq = v[i];
	free(v);
	return i < n;
}

/* --- scanning the frames of a segment --- */

static void scan_reset(struct scan *sc, int fd, uint64_t off)
{
	sc->fd = fd;
	sc->len = 0;
	sc->base = off;
	sc->pos = off;
	sc->corrupt = 0;
}

/*
 * Make at least need bytes from sc->pos available in the buffer. Returns the
 * bytes available from pos (fewer than need only at the end of the file) or
 * -errno.
 */
static ssize_t scan_fill(struct scan *sc, size_t need)
{
	size_t skip = (size_t)(sc->pos - sc->base);
	ssize_t n;

	if (sc->len - skip >= need)
		return (ssize_t)(sc->len - skip);
	if (skip) {
		memmove(sc->buf, sc->buf + skip, sc->len - skip);
		sc->len -= skip;
		sc->base = sc->pos;
	}
	if (need > sc->cap) {
		size_t cap = need > SCAN_BUF_MIN ? need : SCAN_BUF_MIN;
		uint8_t *nb = realloc(sc->buf, cap);

		if (!nb)
			return -ENOMEM;
		sc->buf = nb;
		sc->cap = cap;
	}
	while (sc->len < need) {
		n = pread(sc->fd, sc->buf + sc->len, sc->cap - sc->len,
			  (off_t)(sc->base + sc->len));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		sc->len += (size_t)n;
	}
	return (ssize_t)sc->len;
}

/* Decode the frame at sc->pos: SPOOL_REC_* (SHORT: the file ends inside it) or -errno. */
static int scan_decode(struct scan *sc, struct spool_frame *f)
{
	size_t need = SPOOL_FRAME_HDR;
	const uint8_t *p;
	ssize_t avail;
	int r;

	for (;;) {
		avail = scan_fill(sc, need);
		if (avail < 0)
			return (int)avail;
		p = sc->buf + (sc->pos - sc->base);
		r = spool_decode(p, (size_t)avail, f);
		if (r != SPOOL_REC_SHORT || (size_t)avail < need)
			return r;
		need = SPOOL_FRAME_HDR + get_le32(p + 4);
	}
}

/*
 * The next good frame at or after sc->pos: 1 with *f and *off (its offset)
 * set, sc->pos after it. A damaged frame followed by a good one is skipped
 * (resync at the next magic whose frame decodes) and counted in sc->corrupt.
 * 0 at the end of the decodable data: sc->good_end is where the rest (nothing,
 * a torn or a damaged tail) begins, sc->data_end the file size seen, and
 * sc->pos is left at good_end so that a later call retries from there.
 * -errno on read errors.
 */
static int scan_next(struct scan *sc, struct spool_frame *f, uint64_t *off)
{
	uint8_t magic[4];
	uint64_t bad_start = sc->pos;
	const uint8_t *p, *q;
	ssize_t avail;
	int r;

	r = scan_decode(sc, f);
	if (r < 0)
		return r;
	if (r == SPOOL_REC_OK)
		goto found;
	if (r == SPOOL_REC_SHORT)
		goto end;
	put_le32(magic, SPOOL_MAGIC);
	sc->pos++;
	for (;;) {
		avail = scan_fill(sc, SPOOL_FRAME_HDR);
		if (avail < 0)
			return (int)avail;
		if (avail < 4)
			goto end;
		p = sc->buf + (sc->pos - sc->base);
		q = memmem(p, (size_t)avail, magic, sizeof(magic));
		if (!q) {
			sc->pos += (uint64_t)avail - 3; /* the last 3 may start a magic */
			continue;
		}
		sc->pos += (uint64_t)(q - p);
		r = scan_decode(sc, f);
		if (r < 0)
			return r;
		if (r == SPOOL_REC_OK) {
			sc->corrupt++;
			goto found;
		}
		sc->pos++; /* not a frame (or one the file ends inside): keep looking */
	}
found:
	*off = sc->pos;
	sc->pos += f->size;
	return 1;
end:
	sc->good_end = bad_start;
	sc->data_end = sc->base + sc->len;
	sc->pos = bad_start;
	if (bad_start < sc->base) {
		sc->base = bad_start;
		sc->len = 0;
	}
	return 0;
}

/* --- the writer --- */

/* Make room for one more entry in s->segs. 0 or -ENOMEM. */
static int segs_reserve(struct spool *s)
{
	struct seg_info *n;
	size_t cap;

	if (s->nsegs < s->segs_cap)
		return 0;
	cap = s->segs_cap ? s->segs_cap * 2 : 16;
	n = realloc(s->segs, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->segs = n;
	s->segs_cap = cap;
	return 0;
}

/*
 * Create segment seq and make it the active one; the previous active segment
 * is fdatasync'ed (when dirty) and closed. 0 or -errno, nothing changed.
 */
static int new_segment(struct spool *s, uint64_t seq)
{
	char name[SEG_NAME_LEN + 1];
	int fd, err;

	err = segs_reserve(s);
	if (err)
		return err;
	if (s->fd >= 0 && s->dirty) {
		if (fdatasync(s->fd) < 0)
			return -errno;
		s->dirty = 0;
	}
	seg_name(name, seq);
	fd = openat(s->dirfd, name, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	s->segs[s->nsegs++] = (struct seg_info){.seq = seq};
	s->dir_dirty = 1;
	s->rotate = 0;
	return 0;
}

/* Records after the cursor inside the cursor's own segment. */
static uint64_t pending_in_cursor_seg(const struct spool *s)
{
	uint64_t later = 0;

	for (size_t i = 0; i < s->nsegs; i++)
		if (s->segs[i].seq > s->cursor.seg)
			later += s->segs[i].records;
	return s->pending - later;
}

/*
 * Delete the oldest segment (never call with only the active one left) and
 * move the cursor to the start of the oldest remaining segment if it was in
 * it. Does not touch pending or the dropped counters. 0 or -errno.
 */
static int remove_oldest(struct spool *s)
{
	char name[SEG_NAME_LEN + 1];
	const struct seg_info *g = &s->segs[0];

	seg_name(name, g->seq);
	if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	s->bytes -= g->size;
	s->records -= g->records;
	memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof(*s->segs));
	s->nsegs--;
	s->dir_dirty = 1;
	if (s->cursor.seg < s->segs[0].seq)
		s->cursor = (struct spool_pos){.seg = s->segs[0].seq, .off = 0};
	return 0;
}

/* Delete the segments wholly before the cursor. 0 or -errno. */
static int remove_acked(struct spool *s)
{
	int err;

	while (s->nsegs > 1 && s->segs[0].seq < s->cursor.seg) {
		err = remove_oldest(s);
		if (err)
			return err;
	}
	return 0;
}

/* Delete the oldest segment for the size cap, counting what was unacknowledged. */
static int drop_oldest(struct spool *s)
{
	const struct seg_info *g = &s->segs[0];
	uint64_t recs = 0, bytes = 0;
	int err;

	if (g->seq == s->cursor.seg) {
		recs = pending_in_cursor_seg(s);
		bytes = g->size - s->cursor.off;
	} else if (g->seq > s->cursor.seg) {
		recs = g->records;
		bytes = g->size;
	}
	err = remove_oldest(s);
	if (err)
		return err;
	s->pending -= recs;
	s->dropped_records += recs;
	s->dropped_bytes += bytes;
	return 0;
}

/*
 * Read the cursor file into *pos: 1 when present and well-formed, 0 when
 * absent or malformed, -errno on read errors.
 */
static int load_cursor(int dirfd, struct spool_pos *pos)
{
	char buf[CURSOR_MAX], nl = 0;
	uint64_t seg, off;
	ssize_t n;
	int fd, err = 0;

	fd = openat(dirfd, CURSOR_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	buf[n] = '\0';
	if (sscanf(buf, "%" SCNx64 " %" SCNu64 "%c", &seg, &off, &nl) != 3 || nl != '\n')
		goto out;
	pos->seg = seg;
	pos->off = off;
	err = 1;
out:
	close(fd);
	return err;
}

/* Replace the cursor file with *pos: temp file, fsync, rename, fsync dir. */
static int save_cursor(struct spool *s, const struct spool_pos *pos)
{
	char buf[CURSOR_MAX];
	int fd, len, err;

	len = snprintf(buf, sizeof(buf), "%016" PRIx64 " %" PRIu64 "\n", pos->seg, pos->off);
	fd = openat(s->dirfd, CURSOR_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = write_all(fd, buf, (size_t)len);
	if (err)
		goto out;
	if (fsync(fd) < 0) {
		err = -errno;
		goto out;
	}
	if (renameat(s->dirfd, CURSOR_TMP, s->dirfd, CURSOR_NAME) < 0) {
		err = -errno;
		goto out;
	}
	if (fsync(s->dirfd) < 0) {
		err = -errno;
		goto out;
	}
	s->dir_dirty = 0;
out:
	close(fd);
	return err;
}

/*
 * Scan segment seq during open: count its frames (those at or after *from
 * are pending), add its damage to the counters, truncate a bad tail when it
 * is the last segment (which stays open as s->fd), and append it to s->segs.
 */
static int open_segment(struct spool *s, struct scan *sc, uint64_t seq, int last,
			const struct spool_pos *from)
{
	struct seg_info g = {.seq = seq};
	char name[SEG_NAME_LEN + 1];
	struct spool_frame f;
	struct stat st;
	uint64_t off;
	int fd, r, err;

	err = segs_reserve(s);
	if (err)
		return err;
	seg_name(name, seq);
	fd = openat(s->dirfd, name, (last ? O_RDWR | O_APPEND : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	scan_reset(sc, fd, 0);
	while ((r = scan_next(sc, &f, &off)) == 1) {
		if (!g.records)
			g.first_ts = f.ts_ms;
		g.records++;
		if (seq > from->seg || (seq == from->seg && off >= from->off))
			s->pending++;
	}
	if (r < 0) {
		err = r;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	g.size = (uint64_t)st.st_size;
	s->corrupt_records += sc->corrupt;
	if (g.size > sc->good_end) {
		if (last) {
			if (ftruncate(fd, (off_t)sc->good_end) < 0) {
				err = -errno;
				goto out;
			}
			s->truncated_bytes += g.size - sc->good_end;
			g.size = sc->good_end;
			s->dirty = 1;
		} else {
			s->corrupt_records++;
		}
	}
	s->segs[s->nsegs++] = g;
	s->bytes += g.size;
	s->records += g.records;
	if (last) {
		s->fd = fd;
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * Place the cursor loaded from disk (raw) on what exists: a missing segment
 * means the start of the next one (or the oldest when raw is beyond every
 * segment), an offset past the end is the end, and the end of an older
 * segment is the start of the next.
 */
static void place_cursor(struct spool *s, struct spool_pos raw)
{
	size_t i;

	for (i = 0; i < s->nsegs && s->segs[i].seq < raw.seg; i++)
		;
	if (i == s->nsegs) {
		i = 0;
		raw.off = 0;
	} else if (s->segs[i].seq != raw.seg) {
		raw.off = 0;
	} else if (raw.off > s->segs[i].size) {
		raw.off = s->segs[i].size;
	}
	if (raw.off == s->segs[i].size && i + 1 < s->nsegs) {
		i++;
		raw.off = 0;
	}
	s->cursor = (struct spool_pos){.seg = s->segs[i].seq, .off = raw.off};
}

/* Free s without syncing. Accepts NULL. */
static void spool_free(struct spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->segs);
	free(s->frame);
	free(s->wbuf);
	free(s);
}

int spool_open(struct spool **out, const char *dir, const struct spool_opts *opts)
{
	struct spool_pos raw = {0, 0};
	struct scan sc = {.fd = -1};
	struct spool *s = NULL;
	uint64_t *seqs = NULL;
	size_t n = 0, i;
	int err;

	if (!out || !dir)
		return -EINVAL;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dirfd = -1;
	s->fd = -1;
	s->segment_bytes =
	    opts && opts->segment_bytes ? opts->segment_bytes : SPOOL_DEFAULT_SEGMENT_BYTES;
	s->max_bytes = opts && opts->max_bytes ? opts->max_bytes : SPOOL_DEFAULT_MAX_BYTES;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		goto out;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		err = -errno;
		goto out;
	}
	if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out;
	}
	err = list_segments(s->dirfd, &seqs, &n);
	if (err)
		goto out;
	if (n == 0) {
		err = new_segment(s, 1);
		if (err)
			goto out;
	} else {
		err = load_cursor(s->dirfd, &raw);
		if (err < 0)
			goto out;
		if (raw.seg > seqs[n - 1])
			raw = (struct spool_pos){0, 0}; /* beyond every segment: start over */
		for (i = 0; i < n; i++) {
			err = open_segment(s, &sc, seqs[i], i + 1 == n, &raw);
			if (err)
				goto out;
		}
	}
	place_cursor(s, raw);
	err = remove_acked(s);
out:
	free(sc.buf);
	free(seqs);
	if (err)
		spool_free(s);
	else
		*out = s;
	return err;
}

int spool_close(struct spool *s)
{
	int err;

	if (!s)
		return 0;
	err = spool_sync(s);
	spool_free(s);
	return err;
}

/* Enforce the size cap after an append. */
static void enforce_cap(struct spool *s)
{
	while (s->bytes > s->max_bytes && s->nsegs > 1)
		if (drop_oldest(s) < 0)
			break;
}

/*
 * Write the deferred frames to the active segment with one write(). On
 * failure the segment is cut back and the records are counted in
 * failed_records. 0 or -errno.
 */
static int flush_deferred(struct spool *s)
{
	struct seg_info *g = &s->segs[s->nsegs - 1];
	uint64_t n = s->wrecs, len = s->wlen;
	int err;

	if (!len)
		return 0;
	s->wlen = 0;
	s->wrecs = 0;
	s->dirty = 1;
	err = write_all(s->fd, s->wbuf, (size_t)len);
	if (err) {
		if (ftruncate(s->fd, (off_t)g->size) < 0)
			s->rotate = 1;
		s->failed_records += n;
		return err;
	}
	if (!g->records)
		g->first_ts = s->wfirst_ts;
	g->size += len;
	g->records += n;
	s->bytes += len;
	s->records += n;
	s->pending += n;
	enforce_cap(s);
	return 0;
}

/* spool_append() while deferring: frame into wbuf. */
static int append_deferred(struct spool *s, const void *payload, size_t len, uint64_t ts_ms)
{
	size_t size = SPOOL_FRAME_HDR + len;
	struct seg_info *g = &s->segs[s->nsegs - 1];
	ssize_t n;
	int err;

	/* what is collected goes into the active segment: write it first when
	 * this record would not fit beside it, or when the buffer is full */
	if (s->wlen &&
	    (g->size + s->wlen + size > s->segment_bytes || s->wlen + size > SPOOL_DEFER_BYTES)) {
		err = flush_deferred(s);
		if (err)
			return err;
	}
	if (s->rotate || (g->size && g->size + size > s->segment_bytes)) {
		err = new_segment(s, g->seq + 1);
		if (err)
			return err;
	}
	if (s->wlen + size > s->wcap) {
		size_t cap =
		    s->wlen + size > SPOOL_DEFER_BYTES ? s->wlen + size : SPOOL_DEFER_BYTES;
		uint8_t *nb = realloc(s->wbuf, cap);

		if (!nb)
			return -ENOMEM;
		s->wbuf = nb;
		s->wcap = cap;
	}
	n = spool_encode(s->wbuf + s->wlen, s->wcap - s->wlen, payload, len, ts_ms);
	if (n < 0)
		return (int)n;
	if (!s->wrecs)
		s->wfirst_ts = ts_ms;
	s->wlen += (size_t)n;
	s->wrecs++;
	return 0;
}

int spool_defer(struct spool *s, int on)
{
	int err = 0;

	if (!s)
		return -EINVAL;
	if (!on)
		err = flush_deferred(s);
	s->defer = on;
	return err;
}

int spool_append(struct spool *s, const void *payload, size_t len, uint64_t ts_ms)
{
	struct seg_info *g;
	ssize_t n;
	int err;

	if (!s || (len && !payload))
		return -EINVAL;
	if (len > SPOOL_MAX_RECORD)
		return -EMSGSIZE;
	if (!ts_ms)
		ts_ms = clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC;
	if (s->defer)
		return append_deferred(s, payload, len, ts_ms);
	if (SPOOL_FRAME_HDR + len > s->frame_cap) {
		uint8_t *nf = realloc(s->frame, SPOOL_FRAME_HDR + len);

		if (!nf)
			return -ENOMEM;
		s->frame = nf;
		s->frame_cap = SPOOL_FRAME_HDR + len;
	}
	n = spool_encode(s->frame, s->frame_cap, payload, len, ts_ms);
	if (n < 0)
		return (int)n;
	g = &s->segs[s->nsegs - 1];
	if (s->rotate || (g->size && g->size + (uint64_t)n > s->segment_bytes)) {
		err = new_segment(s, g->seq + 1);
		if (err)
			return err;
		g = &s->segs[s->nsegs - 1];
	}
	s->dirty = 1;
	err = write_all(s->fd, s->frame, (size_t)n);
	if (err) {
		/* cut a partial frame off; failing that, never write after it */
		if (ftruncate(s->fd, (off_t)g->size) < 0)
			s->rotate = 1;
		return err;
	}
	if (!g->records)
		g->first_ts = ts_ms;
	g->size += (uint64_t)n;
	g->records++;
	s->bytes += (uint64_t)n;
	s->records++;
	s->pending++;
	enforce_cap(s);
	return 0;
}

int spool_sync(struct spool *s)
{
	int err;

	if (!s)
		return -EINVAL;
	err = flush_deferred(s);
	if (err)
		return err;
	if (s->dirty) {
		if (fdatasync(s->fd) < 0)
			return -errno;
		s->dirty = 0;
	}
	if (s->dir_dirty) {
		if (fsync(s->dirfd) < 0)
			return -errno;
		s->dir_dirty = 0;
	}
	return 0;
}

void spool_stats(const struct spool *s, struct spool_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!s)
		return;
	st->bytes = s->bytes;
	st->records = s->records;
	st->segments = s->nsegs;
	st->pending_records = s->pending;
	for (size_t i = 0; i < s->nsegs; i++) {
		if (s->segs[i].records) {
			st->oldest_ts_ms = s->segs[i].first_ts;
			break;
		}
	}
	st->dropped_records = s->dropped_records;
	st->dropped_bytes = s->dropped_bytes;
	st->corrupt_records = s->corrupt_records;
	st->truncated_bytes = s->truncated_bytes;
	st->failed_records = s->failed_records;
}

void spool_cursor(const struct spool *s, struct spool_pos *pos)
{
	*pos = s->cursor;
}

/*
 * Count the frames of segment seq from offset from up to offset to, which
 * must be the end of one of them (or from itself). 0 or -EINVAL / -errno.
 */
static int count_frames(struct spool *s, uint64_t seq, uint64_t from, uint64_t to, uint64_t *count)
{
	char name[SEG_NAME_LEN + 1];
	struct scan sc = {.fd = -1};
	struct spool_frame f;
	uint64_t off;
	int fd, r, err = 0;

	*count = 0;
	if (from == to)
		return 0;
	seg_name(name, seq);
	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	scan_reset(&sc, fd, from);
	while (sc.pos < to) {
		r = scan_next(&sc, &f, &off);
		if (r <= 0) {
			err = r < 0 ? r : -EINVAL;
			goto out;
		}
		(*count)++;
	}
	if (sc.pos != to)
		err = -EINVAL;
out:
	free(sc.buf);
	close(fd);
	return err;
}

int spool_ack(struct spool *s, const struct spool_pos *pos)
{
	struct spool_pos p;
	uint64_t acked = 0, tail;
	size_t i;
	int err;

	if (!s || !pos)
		return -EINVAL;
	p = *pos;
	if (p.seg < s->cursor.seg || (p.seg == s->cursor.seg && p.off <= s->cursor.off))
		return 0;
	for (i = 0; i < s->nsegs && s->segs[i].seq != p.seg; i++)
		if (s->segs[i].seq > s->cursor.seg)
			acked += s->segs[i].records;
	if (i == s->nsegs || p.off > s->segs[i].size)
		return -EINVAL;
	if (p.seg == s->cursor.seg) {
		err = count_frames(s, p.seg, s->cursor.off, p.off, &tail);
	} else {
		acked += pending_in_cursor_seg(s);
		err = count_frames(s, p.seg, 0, p.off, &tail);
	}
	if (err)
		return err;
	acked += tail;
	if (p.off == s->segs[i].size && i + 1 < s->nsegs)
		p = (struct spool_pos){.seg = s->segs[i + 1].seq, .off = 0};
	err = save_cursor(s, &p);
	if (err)
		return err;
	s->cursor = p;
	s->pending -= acked;
	return remove_acked(s);
}

/* --- the reader --- */

int spool_reader_open(struct spool_reader **out, const char *dir, const struct spool_pos *from)
{
	struct spool_reader *r;
	int err = 0;

	if (!out || !dir)
		return -EINVAL;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->sc.fd = -1;
	if (from) {
		r->seg = from->seg;
		r->start = from->off;
	}
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		err = -errno;
		goto out;
	}
	*out = r;
	r = NULL;
out:
	spool_reader_close(r);
	return err;
}

/* Open the oldest segment numbered r->seg or later: 1, 0 when none, -errno. */
static int reader_open_segment(struct spool_reader *r)
{
	char name[SEG_NAME_LEN + 1];
	uint64_t seq = 0, min = r->seg;
	int err;

	for (;;) {
		err = find_segment(r->dirfd, min, &seq);
		if (err <= 0)
			return err;
		seg_name(name, seq);
		r->fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (r->fd >= 0)
			break;
		if (errno != ENOENT)
			return -errno;
		min = seq + 1; /* deleted meanwhile */
	}
	scan_reset(&r->sc, r->fd, seq == r->seg ? r->start : 0);
	r->seg = seq;
	r->newer = 0;
	return 1;
}

int spool_reader_next(struct spool_reader *r, struct spool_frame *frame, struct spool_pos *next_pos)
{
	uint64_t off, seq = 0;
	int err;

	if (!r || !frame)
		return -EINVAL;
	for (;;) {
		if (r->fd < 0) {
			err = reader_open_segment(r);
			if (err <= 0)
				return err;
		}
		err = scan_next(&r->sc, frame, &off);
		if (err < 0)
			return err;
		if (err == 1) {
			if (next_pos)
				*next_pos = (struct spool_pos){.seg = r->seg, .off = r->sc.pos};
			return 1;
		}
		if (!r->newer) {
			err = find_segment(r->dirfd, r->seg + 1, &seq);
			if (err <= 0)
				return err;
			/* the writer has moved on: read this one once more to its final end */
			r->newer = 1;
			continue;
		}
		if (r->sc.data_end > r->sc.good_end)
			r->corrupt++;
		r->corrupt += r->sc.corrupt;
		close(r->fd);
		r->fd = -1;
		r->seg++;
		r->start = 0;
	}
}

uint64_t spool_reader_corrupt(const struct spool_reader *r)
{
	return r ? r->corrupt + r->sc.corrupt : 0;
}

void spool_reader_close(struct spool_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->sc.buf);
	free(r);
}
