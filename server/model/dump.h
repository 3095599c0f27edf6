/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump.h - the logical dump of a store: the plaintext stream inside a backup
 * (model/backup.c compresses and encrypts it), its writer, its pure parser,
 * and the text form of `actlog-server dump`.
 *
 * The stream, version 1. Integers are unsigned big-endian.
 *
 *   stream := head item* end          (nothing may follow end)
 *
 *   head, 8 bytes:
 *     [0, 6)        "ALDUMP"
 *     [6]           0x00
 *     [7]           0x01 version (DUMP_VERSION)
 *
 *   item, 10 + p + s + v bytes:
 *     [0]           'I' (0x49)
 *     [1]           table id: enum store_table (store.h: the tables keep their
 *                   ids for ever, new ones are added at the end)
 *     [2, 4)        p: length of pk, >= 1
 *     [4, 6)        s: length of sk, >= 1;  p + s <= STORE_KEY_MAX
 *     [6, 10)       v: length of the value, <= STORE_VAL_MAX
 *     [10, 10+p)    pk bytes (no 0x00)
 *     [.., +s)      sk bytes (no 0x00)
 *     [.., +v)      value bytes
 *
 *   end, 2 + 8n bytes:
 *     [0]           'E' (0x45)
 *     [1]           n: the number of tables of the writer (STORE_T__COUNT)
 *     [2, 2+8n)     u64 per table id 0..n-1: the items of that table
 *
 * Items come table by table in enum order, each table in storage order (a
 * store_snapshot()), but a reader does not rely on it. A reader refuses an
 * item of a table it does not know; the end of an older writer (n smaller)
 * means the missing tables are empty; counts of tables unknown to the reader
 * must be 0. Every count must equal the items the stream held.
 */
#ifndef ACTLOG_MODEL_DUMP_H
#define ACTLOG_MODEL_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define DUMP_VERSION 1
#define DUMP_MAGIC "ALDUMP"
#define DUMP_HEAD_LEN 8
#define DUMP_ITEM_HEAD 10
#define DUMP_END_MAX (2 + 8 * 255)
/* the largest record: an item at both caps */
#define DUMP_RECORD_MAX (DUMP_ITEM_HEAD + STORE_KEY_MAX + STORE_VAL_MAX)
#define DUMP_WHY_MAX 160

/* Receives the stream's bytes in order: 0 or a negative errno that stops the writer. */
typedef int (*dump_sink_fn)(void *ctx, const void *buf, size_t len);

struct dump_writer {
	dump_sink_fn sink;
	void *ctx;
	uint64_t items[STORE_T__COUNT]; /* items written per table */
	uint64_t bytes;			/* bytes of the stream so far */
};

/* Start a stream to sink: writes the head. 0 or the sink's error. */
int dump_write_start(struct dump_writer *w, dump_sink_fn sink, void *ctx);
/*
 * Append one item (the shape of store_snap_fn, so that it can be a
 * snapshot's callback with the writer as ctx). -EINVAL for a key or value
 * the format cannot carry (empty, over the caps, unknown table), else 0 or
 * the sink's error.
 */
int dump_write_item(enum store_table t, const char *pk, const char *sk, const void *val, size_t len,
		    void *w);
/* Append the end record with the counts. 0 or the sink's error. */
int dump_write_end(struct dump_writer *w);

/*
 * The parser: fed the stream in pieces of any size, it calls fn for each
 * item (pk and sk NUL-terminated, valid during the call), and checks the
 * end record against the items it saw. Memory: one record buffer of at most
 * DUMP_RECORD_MAX bytes, allocated by dump_parse_init.
 */
struct dump_parser {
	store_snap_fn fn;
	void *ctx;
	int state;
	uint8_t *buf; /* the record being gathered */
	size_t have, need;
	uint64_t items[STORE_T__COUNT]; /* items seen per table */
	uint64_t offset;		/* stream bytes consumed */
	char why[DUMP_WHY_MAX];		/* the reason of the first error */
	int err;			/* the first error; every later call returns it */
};

/* Prepare p to parse a stream for fn(ctx). 0 or -ENOMEM. Release with dump_parse_fini. */
int dump_parse_init(struct dump_parser *p, store_snap_fn fn, void *ctx);
/*
 * Parse the next len bytes. 0; -EBADMSG (p->why says what and at which
 * offset: bad magic or version, an unknown record or table, a key or value
 * over the caps, bytes after the end, counts that do not match), or the
 * negative errno fn returned (p->why empty).
 */
int dump_parse_feed(struct dump_parser *p, const void *buf, size_t len);
/* The stream has ended: 0 when it ended right after its end record,
 * -EBADMSG (truncated) otherwise, or the earlier error. */
int dump_parse_done(struct dump_parser *p);
/* Free what p holds. Accepts a zeroed or finished p. */
void dump_parse_fini(struct dump_parser *p);

/*
 * One line of the text dump to f: "TABLE\tPK\tSK\tVALUE\n", TABLE the
 * table's name, PK and SK with '\\', tab, newline and the other control
 * bytes written as \xHH, VALUE the value in base64 (RFC 4648, padded; empty
 * for an empty value). The shape of store_snap_fn with f as ctx.
 * 0 or -EIO (a write error).
 */
int dump_text_item(enum store_table t, const char *pk, const char *sk, const void *val, size_t len,
		   void *f);

/* The text dump of every item of st (one store_snapshot) to f. 0 or -errno. */
int dump_text(struct store *st, FILE *f);

#endif /* ACTLOG_MODEL_DUMP_H */
