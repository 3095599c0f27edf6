/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spool.h - the durable on-disk spool (DESIGN §4). actlogd appends every
 * record here before anything else happens to it; the shipper reads batches
 * with a reader and acknowledges them with spool_ack().
 *
 * On-disk format
 *
 *   <dir>/                    created 0700 when missing
 *     0000000000000001.seg    segments, 16 lowercase hex digits, increasing;
 *     0000000000000002.seg    files 0600, only ever appended to; the last
 *     ...                     (highest) one is the active segment
 *     cursor                  acknowledged position, text:
 *                             "<seg as 16 hex digits> <offset in decimal>\n",
 *                             replaced atomically (cursor.tmp + rename)
 *
 *   A segment is a sequence of frames, all integers little-endian:
 *
 *     offset size
 *          0    4  magic   SPOOL_MAGIC (bytes "SPL1")
 *          4    4  length  payload bytes, at most SPOOL_MAX_RECORD
 *          8    8  ts_ms   unix milliseconds
 *         16    4  crc     zlib crc32() over bytes 4..15 (length, ts_ms)
 *                          followed by the payload
 *         20    n  payload the record (one NDJSON line, no newline)
 *
 *   A new segment starts when the active one would exceed segment_bytes; a
 *   record larger than that goes alone into a segment of its own.
 *
 * Recovery: spool_open() truncates a torn or damaged tail of the last
 * segment at the end of its last good frame. A damaged frame elsewhere is
 * skipped by everything that reads (resync at the next magic whose frame
 * decodes) and counted; it is never returned as data.
 *
 * Positions (struct spool_pos) name the byte offset of a frame boundary in a
 * segment. The position after the last frame of a segment and the start of
 * the next segment mean the same thing.
 *
 * All functions return 0 (or a count) on success and a negative errno on
 * failure; nothing here logs. A struct spool is not thread-safe; one process
 * at a time may hold a spool open for writing (flock on the directory).
 * Readers take no lock and may run while the writer appends.
 */
#ifndef ACTLOG_SPOOL_H
#define ACTLOG_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_MAGIC 0x314c5053u /* "SPL1" as stored (little-endian) */
#define SPOOL_FRAME_HDR 20
#define SPOOL_MAX_RECORD (1u << 20)
#define SPOOL_DEFAULT_SEGMENT_BYTES (1ull << 20)
#define SPOOL_DEFAULT_MAX_BYTES (256ull << 20)
#define SPOOL_DEFER_BYTES (256u << 10) /* deferred frames written at the latest at this size */

/* Results of spool_decode(). */
enum spool_rec {
	SPOOL_REC_OK = 0,    /* a whole, valid frame */
	SPOOL_REC_SHORT = 1, /* the buffer ends inside a frame (a torn tail) */
	SPOOL_REC_BAD = 2,   /* magic, length or CRC wrong */
};

/* One decoded frame. payload points into the buffer it was decoded from. */
struct spool_frame {
	const uint8_t *payload;
	uint32_t len;	/* payload bytes */
	uint64_t ts_ms; /* unix milliseconds */
	size_t size;	/* framed size: SPOOL_FRAME_HDR + len */
};

struct spool_pos {
	uint64_t seg; /* segment sequence number */
	uint64_t off; /* byte offset of a frame boundary in it */
};

/* Zero fields take the defaults. */
struct spool_opts {
	uint64_t segment_bytes; /* start a new segment beyond this; SPOOL_DEFAULT_SEGMENT_BYTES */
	uint64_t max_bytes;	/* size cap of all segments; SPOOL_DEFAULT_MAX_BYTES */
};

/*
 * bytes/records/segments describe what is on disk, acknowledged or not
 * (bytes are file bytes: frames plus any damaged bytes kept in older
 * segments). The last four are counters since spool_open().
 */
struct spool_stats {
	uint64_t bytes;
	uint64_t records;
	uint64_t segments;
	uint64_t pending_records; /* records after the acknowledged cursor */
	uint64_t oldest_ts_ms;	  /* ts_ms of the first record on disk, 0 when empty */
	uint64_t dropped_records; /* unacknowledged records deleted by the size cap */
	uint64_t dropped_bytes;	  /* their framed bytes */
	uint64_t corrupt_records; /* damaged frames (or damaged tails of older segments) skipped */
	uint64_t truncated_bytes; /* torn/damaged tail bytes cut off the last segment */
	uint64_t failed_records;  /* deferred records lost because their write failed */
};

struct spool;
struct spool_reader;

/*
 * Decode the frame at the start of buf (len bytes). Pure, no I/O. On
 * SPOOL_REC_OK fills *out (if not NULL) with a payload pointer into buf.
 * SPOOL_REC_SHORT: buf may be a frame cut short (torn); SPOOL_REC_BAD: it is not
 * a frame (wrong magic, length over SPOOL_MAX_RECORD, or CRC mismatch).
 */
int spool_decode(const uint8_t *buf, size_t len, struct spool_frame *out);

/*
 * Write the frame of payload (len bytes, payload may be NULL when len is 0)
 * stamped ts_ms into buf (cap bytes). Pure. Returns the framed size,
 * -EMSGSIZE when len > SPOOL_MAX_RECORD, -ENOBUFS when cap is too small.
 */
ssize_t spool_encode(uint8_t *buf, size_t cap, const void *payload, size_t len, uint64_t ts_ms);

/*
 * Open the spool in dir for writing, creating dir (0700, last component only)
 * and the first segment when missing. Scans every segment and recovers (see
 * above); loads the cursor ("cursor" absent or unreadable: the oldest record)
 * and deletes segments wholly before it. opts may be NULL. On success *out is
 * a spool the caller releases with spool_close(). -EBUSY when another process
 * holds it open; other failures are -errno of the file operation.
 */
int spool_open(struct spool **out, const char *dir, const struct spool_opts *opts);

/*
 * Sync (spool_sync()) and free s. Accepts NULL. Returns the sync result; s is
 * freed either way.
 */
int spool_close(struct spool *s);

/*
 * Append one record of len bytes (copied; payload may be NULL when len is 0)
 * stamped ts_ms, or the current time when ts_ms is 0, with a single write()
 * to the active segment. Not synced: the record survives a crash of the
 * process at once, a power loss after the next spool_sync(). Then, when the
 * spool exceeds max_bytes, deletes whole oldest segments (never the active
 * one) and counts what was unacknowledged in dropped_records/dropped_bytes; a
 * failed deletion is retried after the next append. -EMSGSIZE when len >
 * SPOOL_MAX_RECORD, -EINVAL on bad arguments, -errno of the write (nothing of
 * the record is left in the segment) or of starting a new segment.
 */
int spool_append(struct spool *s, const void *payload, size_t len, uint64_t ts_ms);

/*
 * Deferred appends, for bursts. After spool_defer(s, 1), spool_append()
 * frames each record into a memory buffer of s instead of writing it; the
 * buffer is written to the active segment with one write() by
 * spool_defer(s, 0), by spool_sync() and spool_close(), and by
 * spool_append() itself before a record that would not fit beside it in the
 * segment or the buffer (SPOOL_DEFER_BYTES). Deferred records are not yet on
 * disk: a crash of the process loses them, as it loses events not yet read.
 * When such a write fails, the segment is cut back, its records are counted
 * in failed_records and the call that wrote returns -errno. spool_defer()
 * returns 0 or that -errno (when turning deferral off).
 */
int spool_defer(struct spool *s, int on);

/*
 * fdatasync the active segment when something was appended since the last
 * sync, and fsync the directory when segments were created or deleted. Meant
 * to be called at most about once a second and at shutdown. 0 or -errno.
 */
int spool_sync(struct spool *s);

/* Fill *st with the current counts (zeros when s is NULL). */
void spool_stats(const struct spool *s, struct spool_stats *st);

/*
 * The acknowledged position: the first record not yet acknowledged. Starts at
 * the oldest segment; when the size cap deletes the segment it is in, it
 * moves to the start of the oldest remaining one.
 */
void spool_cursor(const struct spool *s, struct spool_pos *pos);

/*
 * Acknowledge every record before *pos (a next_pos from spool_reader_next()).
 * Persists the cursor atomically (temp file, fsync, rename, fsync dir), then
 * deletes the segments wholly before it (never the active one). A position at
 * or before the current cursor changes nothing and returns 0. -EINVAL when
 * pos is not a frame boundary of a segment on disk; -errno of the file
 * operations (when only deleting a segment failed the cursor is saved and the
 * deletion is retried by the next ack or open).
 */
int spool_ack(struct spool *s, const struct spool_pos *pos);

/*
 * Open a read-only reader of the spool in dir starting at *from (NULL: the
 * oldest record; a segment that no longer exists: the start of the next one).
 * Never writes, truncates or locks anything, so it can run while the daemon
 * appends. Release with spool_reader_close(). -ENOENT when dir is missing,
 * -ENOMEM, -errno of open.
 */
int spool_reader_open(struct spool_reader **out, const char *dir, const struct spool_pos *from);

/*
 * Read the next good record: returns 1 with *frame set (frame->payload points
 * into r and stays valid until the next call on r) and, if next_pos is not
 * NULL, *next_pos the position after it (what spool_ack() takes). Returns 0
 * at the end of the data; a torn tail of the newest segment is the end, and a
 * later call continues when more has been appended. Follows into newer
 * segments; damaged frames are skipped and counted (spool_reader_corrupt()).
 * -errno on a read error.
 */
int spool_reader_next(struct spool_reader *r, struct spool_frame *frame,
		      struct spool_pos *next_pos);

/* Damaged frames (or damaged tails of older segments) skipped so far by r. */
uint64_t spool_reader_corrupt(const struct spool_reader *r);

/* Close and free r. Accepts NULL. */
void spool_reader_close(struct spool_reader *r);

#endif /* ACTLOG_SPOOL_H */
