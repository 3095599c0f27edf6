/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.h - the storage layer of actlog-server (DESIGN §5 "Store").
 *
 * Data model: DynamoDB-shaped items in a fixed set of tables. An item is
 * addressed by a partition key `pk` and a sort key `sk`, both non-empty
 * UTF-8 C strings (pk + sk at most STORE_KEY_MAX bytes), and holds an opaque
 * value of at most STORE_VAL_MAX bytes. Sort keys are compared as bytes
 * (memcmp, a shorter prefix first), which is DynamoDB's order for String
 * keys; numbers that must sort (times, sequence numbers) are written
 * fixed-width, e.g. "%013" PRId64 " ms". Values carry no alignment.
 *
 * Operations are the ones both engines do natively:
 *   store_get            GetItem (always a consistent read)
 *   store_query          Query: one partition, a sort-key range or prefix,
 *                        forward or reverse, with a limit
 *   store_scan           Scan: admin and backup tools only
 *   store_batch_*        TransactWriteItems: puts, deletes, conditional puts,
 *                        read-modify-write updates and read checks, applied
 *                        all-or-nothing at commit
 *   store_copy_compact   hot, compacted backup copy
 *   store_snapshot       every item of every table from one consistent read
 *                        (logical backups, dumps)
 *   store_stats          item counts and space
 *
 * Errors are negative errno values; nothing here logs. The common ones:
 *   -EINVAL        bad argument: unknown table, NULL/empty/invalid UTF-8 key
 *                  (a NUL inside a key cannot be expressed: keys are C strings)
 *   -ENAMETOOLONG  pk + sk longer than STORE_KEY_MAX bytes
 *   -EMSGSIZE      value longer than STORE_VAL_MAX bytes
 *   -ENOENT        no such item (get; IF_EXISTS at commit)
 *   -EEXIST        IF_ABSENT put of an existing item (at commit)
 *   -EAGAIN        an item read with store_batch_get() changed before commit
 *   -E2BIG         a batch over STORE_BATCH_MAX_OPS or STORE_BATCH_MAX_BYTES
 *   -ENOSPC        the store cannot grow further (map_max) or the disk is full
 *   -EIO           the store is damaged
 *   -EPROTO        the file is not a store of this format/version
 *   -EUSERS        too many concurrent readers (store_lmdb_opts.max_readers)
 *   -ENOMEM
 *
 * Threads: a struct store may be used by any number of threads at once. A
 * batch belongs to one thread at a time (it holds no engine resources until
 * store_batch_commit(), so it may move between threads). Query and scan
 * callbacks run with no lock or transaction held and may call any store
 * function; update functions (store_update_fn) run inside the commit and must
 * not call the store.
 *
 * Rules for callers, so that the DynamoDB engine can keep the same
 * semantics: keep a batch's conditional part (IF_ABSENT/IF_EXISTS puts and
 * deletes, updates, items read with store_batch_get) small (DynamoDB
 * transactions take 100 items); make unconditional puts idempotent (keys
 * derived from the data, the same bytes on a replay), because an engine may
 * have to write them outside the transaction; never rely on the order of
 * items across partitions or tables.
 *
 * Engines: every store_* call goes through store.c, which checks the
 * arguments and then calls the store's engine through its table of
 * operations (struct store_engine, "Engines" at the end of this file). What
 * the future DynamoDB engine must mimic: "Engine notes" there; the LMDB key
 * encoding and locking: store_lmdb.c.
 */
#ifndef ACTLOG_STORE_H
#define ACTLOG_STORE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The tables: X(ID, "name"). To add one, add a line at the end; the name is
 * the table's name on disk (LMDB database name, DynamoDB table suffix) and
 * never changes once released.
 */
#define STORE_TABLES(X)                                                                            \
	X(META, "meta")		      /* store-wide settings, schema version */                    \
	X(NODES, "nodes")	      /* organisation tree: business … team */                   \
	X(USERS, "users")	      /* accounts, password hashes */                              \
	X(EMAILS, "emails")	      /* unique index: email -> user */                            \
	X(TOKENS, "tokens")	      /* bearer tokens by hash */                                  \
	X(ROLES, "roles")	      /* role -> permissions */                                    \
	X(GRANTS, "grants")	      /* role granted on a node */                                 \
	X(DEVICES, "devices")	      /* enrolled devices */                                       \
	X(ENROLL, "enroll")	      /* enrollment secrets */                                     \
	X(CONFIG, "config")	      /* encrypted config documents per node */                    \
	X(KEYS, "keys")		      /* wrapped data keys (DEKs) */                               \
	X(BATCHES, "batches")	      /* ingest dedup: (device, batch id) */                       \
	X(RECORDS, "records")	      /* raw activity records */                                   \
	X(ROLLUPS, "rollups")	      /* aggregated activity */                                    \
	X(SCREENSHOTS, "screenshots") /* registered screenshots (S3 references) */                 \
	X(AUDIT, "audit")	      /* append-only audit log */                                  \
	X(LOGIN_FAILS, "login_fails") /* failed-login counters */

enum store_table {
#define STORE_TABLE_ENUM_(id, name) STORE_T_##id,
	STORE_TABLES(STORE_TABLE_ENUM_)
#undef STORE_TABLE_ENUM_
	    STORE_T__COUNT
};

/* Caps. STORE_KEY_MAX + 1 (the separator) fits LMDB's default 511-byte key. */
#define STORE_KEY_MAX 510		  /* bytes of pk + sk */
#define STORE_VAL_MAX (350u * 1024)	  /* bytes of a value (DynamoDB items: 400 KB) */
#define STORE_BATCH_MAX_OPS 10000u	  /* operations in one batch */
#define STORE_BATCH_MAX_BYTES (64u << 20) /* keys + values in one batch */

/* store_batch_put / store_batch_delete / store_put / store_delete flags */
#define STORE_IF_ABSENT 0x1u /* put only: commit fails with -EEXIST if the item exists */
#define STORE_IF_EXISTS 0x2u /* commit fails with -ENOENT if the item does not exist */

/* store_query flags */
#define STORE_REVERSE 0x1u /* descending sort-key order */
#define STORE_PREFIX 0x2u  /* sk_from is a prefix (begins_with); sk_to must be NULL */

/* Return values of a store_update_fn */
#define STORE_UPDATE_PUT 0    /* store *val (the new value) */
#define STORE_UPDATE_DELETE 1 /* delete the item (no-op when absent) */
#define STORE_UPDATE_KEEP 2   /* leave the item as it is */

/* LMDB engine defaults */
#define STORE_LMDB_DEFAULT_MAP_SIZE (1ull << 30) /* 1 GiB */
#define STORE_LMDB_DEFAULT_MAP_MAX (1ull << 40)	 /* 1 TiB of address space */
#define STORE_LMDB_DEFAULT_READERS 126u

struct store;
struct store_batch;

/* Options of store_open_lmdb(). Zero fields take the defaults. */
struct store_lmdb_opts {
	uint64_t map_size;    /* initial map size; STORE_LMDB_DEFAULT_MAP_SIZE */
	uint64_t map_max;     /* the map never grows beyond; STORE_LMDB_DEFAULT_MAP_MAX */
	unsigned max_readers; /* concurrent read transactions; STORE_LMDB_DEFAULT_READERS */
};

/* Figures for status and metrics. A field an engine has no notion of is 0. */
struct store_stats {
	uint64_t entries[STORE_T__COUNT]; /* items per table (approximate on DynamoDB) */
	uint64_t map_size;		  /* LMDB: current map size, bytes */
	uint64_t map_max;		  /* LMDB: growth limit, bytes */
	uint64_t used_bytes;		  /* LMDB: bytes of the file in use (pages) */
	uint64_t grows;			  /* LMDB: map growths since open */
};

/*
 * Called by store_query() and store_scan() for each item, in order. pk and sk
 * are NUL-terminated; val has len bytes followed by a NUL that is not part of
 * the value. All three are valid only during the call. Return 0 to continue,
 * 1 (any positive value) to stop, or a negative errno to stop and make the
 * query return it.
 */
typedef int (*store_item_fn)(const char *pk, const char *sk, const void *val, size_t len,
			     void *ctx);

/*
 * Read-modify-write of one item (store_batch_update()). old/old_len is the
 * item's current value (old is NULL when the item does not exist; the bytes
 * are read-only and valid only during the call). To store a new value set *val
 * to a malloc'd buffer (the store frees it; NULL is allowed when *len is 0)
 * and *len, and return STORE_UPDATE_PUT; or return STORE_UPDATE_DELETE or
 * STORE_UPDATE_KEEP; or a negative errno, which fails the whole batch. The
 * function may be called several times for one commit (retries, and
 * store_batch_get() previews), so it must be a pure function of (old, ctx),
 * and it must not call the store.
 */
typedef int (*store_update_fn)(const void *old, size_t old_len, void **val, size_t *len, void *ctx);

/*
 * Open (creating when missing) the LMDB store in dir: dir is created 0700 when
 * missing; the data is one file dir/data.mdb (with its lock file
 * dir/lock.mdb), both created 0600. Every table is opened once here. opts may
 * be NULL. A directory must be opened only once per process. On success *out
 * is a store the caller releases with store_close(). -EPROTO when the file is
 * not an LMDB environment of this version, -EINVAL, -ENOMEM, -errno of the
 * file operations.
 */
int store_open_lmdb(struct store **out, const char *dir, const struct store_lmdb_opts *opts);

/* Close and free s. Accepts NULL. No other call on s may be running or follow. */
void store_close(struct store *s);

/* The name of s's engine ("lmdb"), for logs and status; NULL when s is NULL. */
const char *store_engine_name(const struct store *s);

/* The on-disk name of table t ("records", ...), NULL when t is not a table. */
const char *store_table_name(enum store_table t);

/*
 * Read one item. On success *val is a malloc'd copy of the value (the caller
 * frees it; never NULL, and followed by a NUL that is not part of the value)
 * and *len its length. -ENOENT when the item does not exist; *val is NULL on
 * every failure.
 */
int store_get(struct store *s, enum store_table t, const char *pk, const char *sk, void **val,
	      size_t *len);

/*
 * Query one partition: call fn for the items of partition pk whose sort key
 * is within [sk_from, sk_to] (inclusive; NULL = unbounded on that side), in
 * ascending sort-key order or descending with STORE_REVERSE, stopping after
 * limit items (0 = no limit) or when fn stops. With STORE_PREFIX the items
 * are those whose sort key starts with sk_from (sk_to must be NULL). Items of
 * other partitions are never returned, whatever the keys ("a" and "ab" are
 * unrelated partitions). Results are read in pages (up to 128 items or about
 * 1 MiB); each page is one consistent snapshot, but a long query may see
 * writes committed between its pages, as a paginated DynamoDB Query does.
 * Returns the number of items passed to fn (saturating at INT_MAX), or the
 * negative errno fn returned, or -errno.
 */
int store_query(struct store *s, enum store_table t, const char *pk, const char *sk_from,
		const char *sk_to, size_t limit, unsigned flags, store_item_fn fn, void *ctx);

/*
 * Call fn for every item of table t, in storage order (no order is promised
 * across partitions). For admin and backup tools only, never on a request
 * path: it reads the whole table. Paging and return value as store_query();
 * -EIO when an item's key is not in the store's encoding.
 */
int store_scan(struct store *s, enum store_table t, store_item_fn fn, void *ctx);

/*
 * Start a write batch on s. Nothing is applied and nothing is locked until
 * store_batch_commit(). On success *b must be passed to exactly one of
 * store_batch_commit() or store_batch_abort(). -ENOMEM, -EINVAL.
 *
 * A batch call that fails (bad key, cap, ENOMEM, ...) returns its error and
 * also marks the batch failed: the commit then applies nothing and returns
 * that first error, so an unchecked error can never commit half a batch.
 */
int store_batch_begin(struct store *s, struct store_batch **b);

/*
 * Add a put of (pk, sk) = val/len (copied; val may be NULL when len is 0).
 * flags: STORE_IF_ABSENT (the commit fails with -EEXIST when the item exists
 * at that point) or STORE_IF_EXISTS (fails with -ENOENT when it does not).
 * Operations apply in the order they were added. -EINVAL, -ENAMETOOLONG,
 * -EMSGSIZE, -E2BIG, -ENOMEM.
 */
int store_batch_put(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		    const void *val, size_t len, unsigned flags);

/*
 * Add a delete of (pk, sk). Deleting a missing item is not an error unless
 * flags has STORE_IF_EXISTS (the commit then fails with -ENOENT).
 * STORE_IF_ABSENT is -EINVAL. Other errors as store_batch_put().
 */
int store_batch_delete(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		       unsigned flags);

/*
 * Add a read-modify-write of (pk, sk): at commit fn is called with the item's
 * value at that point of the batch (including this batch's earlier
 * operations) and its result applied, atomically with the rest of the batch
 * and without lost updates under concurrent commits. This is the primitive
 * for counters and rollups. fn and ctx must stay valid until the commit.
 * Errors as store_batch_put().
 */
int store_batch_update(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		       store_update_fn fn, void *ctx);

/*
 * Read (pk, sk) as the batch would leave it so far (read-your-writes): the
 * store's current value with this batch's operations on that item applied
 * (update functions are called to preview them; IF_ABSENT/IF_EXISTS are
 * assumed to pass). When the answer depends on the store (no earlier put or
 * delete of the item in this batch), the value read is recorded as a
 * condition: the commit fails with -EAGAIN, applying nothing, if the item
 * has changed by then (optimistic concurrency; the caller may redo its whole
 * request). A second read of the item returns the same answer. The recorded
 * read counts toward the batch caps. Results as store_get(); -ENOENT does not
 * mark the batch failed.
 */
int store_batch_get(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
		    void **val, size_t *len);

/*
 * Apply all operations of b in one transaction, all or nothing, and free b
 * (whatever the result). An empty batch commits trivially. Returns 0, the
 * batch's first error (see store_batch_begin()), -EEXIST / -ENOENT for a
 * failed IF_ABSENT / IF_EXISTS, -EAGAIN for a changed read, -EMSGSIZE for an
 * update result over the cap, the errno of an update function, -ENOSPC,
 * -EIO, -EINVAL when b is NULL. The map grows as needed (see store_lmdb.c).
 */
int store_batch_commit(struct store_batch *b);

/* Discard b without applying anything. Accepts NULL. */
void store_batch_abort(struct store_batch *b);

/* One-item batches: store_batch_put / store_batch_delete / store_batch_update,
 * then store_batch_commit. Results as those. */
int store_put(struct store *s, enum store_table t, const char *pk, const char *sk, const void *val,
	      size_t len, unsigned flags);
int store_delete(struct store *s, enum store_table t, const char *pk, const char *sk,
		 unsigned flags);
int store_update(struct store *s, enum store_table t, const char *pk, const char *sk,
		 store_update_fn fn, void *ctx);

/*
 * Write a compacted copy of the whole store to fd (a new regular file or a
 * pipe, open for writing; written sequentially from its current offset) while
 * the store stays in use: the copy is one consistent snapshot, and written as
 * "data.mdb" into an empty directory it opens with store_open_lmdb(). Map
 * growth cannot happen meanwhile: a commit that needs it waits for the end of
 * the copy, and once one waits, new transactions queue behind it (the growth
 * lock prefers writers), so run backups when the map has headroom. 0 or
 * -errno.
 */
int store_copy_compact(struct store *s, int fd);

/* Fill *st from one consistent snapshot. 0 or -errno. */
int store_stats(struct store *s, struct store_stats *st);

/*
 * Called by store_snapshot() for each item: its table t, pk and sk
 * (NUL-terminated) and value (len bytes, not NUL-terminated), valid only
 * during the call. Unlike store_item_fn it runs inside
 * the snapshot's read: it must not call the store (that could deadlock
 * against a map growth). It may block (write to a file or the network);
 * commits go on meanwhile. Return 0 to continue, a negative errno to stop
 * (store_snapshot returns it).
 */
typedef int (*store_snap_fn)(enum store_table t, const char *pk, const char *sk, const void *val,
			     size_t len, void *ctx);

/*
 * Call fn for every item of every table, tables in enum order, the items of
 * a table in storage order (the order of store_scan()), all from ONE
 * consistent read: the items are exactly those of the store at one instant,
 * whatever commits run meanwhile (from this process or another). For
 * backups, dumps and checks only; it reads everything. Commits are not
 * stalled by it: the engine makes room before the read starts so that
 * writes during it need no map growth (LMDB: see store_lmdb.c, "Snapshots"),
 * and when one still does, the snapshot gives way: it stops with -EAGAIN
 * (having called fn for a prefix of the items) and the caller starts over.
 * Returns 0 when every item was delivered, fn's negative errno, -EAGAIN,
 * -EIO (an item's key not in the store's encoding), or -errno.
 */
int store_snapshot(struct store *s, store_snap_fn fn, void *ctx);

/*
 * Engines. A store is reached through a const table of operations, so that
 * a second engine comes in without touching a caller: every caller holds a
 * struct store * and calls the store_* functions above, which live once, in
 * store.c, and dispatch through s->ops.
 *
 * What store.c (the generic layer) does before an engine is called, so that
 * every engine gets it for free and answers alike:
 *  - NULL arguments, the table range, the flags, and every key: non-NULL,
 *    non-empty, valid UTF-8, pk + sk at most STORE_KEY_MAX bytes (query and
 *    scan: the pk, and sk_from / sk_to when given); values over
 *    STORE_VAL_MAX (-EMSGSIZE) and NULL with a length;
 *  - the batch caps (STORE_BATCH_MAX_OPS, STORE_BATCH_MAX_BYTES; an
 *    operation counts pk + sk + 1 + its value's bytes);
 *  - the batch's first error: a batch call that fails marks the batch
 *    failed, later calls return that error, and the commit aborts the batch
 *    and returns it without calling the engine's commit; an empty batch
 *    commits without the engine;
 *  - the out-parameters: *val = NULL before get / batch_get, *b = NULL
 *    before batch_begin, *st zeroed before stats;
 *  - store_put / store_delete / store_update (one-item batches) and
 *    store_table_name().
 *
 * What an engine does (server/store/engine.h has struct store and struct
 * store_batch, the headers an engine embeds as its first member):
 *  - a constructor like store_open_lmdb() that allocates its struct (the
 *    base first), sets base.ops to its table and returns &base;
 *  - every entry of the table, taking arguments already checked as above:
 *    the contracts are those of the store_* function of the same name, minus
 *    the checks; s and b are never NULL. batch_begin allocates the
 *    engine's batch zeroed (store.c fills in the base); batch_get returns 0
 *    with *val set, 1 when the item is absent (store.c answers -ENOENT
 *    without failing the batch), or -errno leaving *val NULL; when it
 *    records the read as a condition it first charges it with
 *    store_batch_charge() (-E2BIG over the caps). batch_commit is called
 *    only for a batch with operations and no error; it and batch_abort free
 *    the batch; close frees the store;
 *  - the notes below. It never logs, and returns the errno values above.
 * To add an engine: a server/store/store_<name>.c with its table and
 * constructor (declared here beside store_open_lmdb()), run against
 * tests/unit/test_srv_store.c, the contract test.
 */
struct store_engine {
	const char *name; /* "lmdb"; for logs and status */
	void (*close)(struct store *s);
	int (*get)(struct store *s, enum store_table t, const char *pk, const char *sk, void **val,
		   size_t *len);
	int (*query)(struct store *s, enum store_table t, const char *pk, const char *sk_from,
		     const char *sk_to, size_t limit, unsigned flags, store_item_fn fn, void *ctx);
	int (*scan)(struct store *s, enum store_table t, store_item_fn fn, void *ctx);
	int (*batch_begin)(struct store *s, struct store_batch **b);
	int (*batch_put)(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
			 const void *val, size_t len, unsigned flags);
	int (*batch_delete)(struct store_batch *b, enum store_table t, const char *pk,
			    const char *sk, unsigned flags);
	int (*batch_update)(struct store_batch *b, enum store_table t, const char *pk,
			    const char *sk, store_update_fn fn, void *ctx);
	int (*batch_get)(struct store_batch *b, enum store_table t, const char *pk, const char *sk,
			 void **val, size_t *len);
	int (*batch_commit)(struct store_batch *b);
	void (*batch_abort)(struct store_batch *b);
	int (*copy_compact)(struct store *s, int fd);
	int (*stats)(struct store *s, struct store_stats *st);
	int (*snapshot)(struct store *s, store_snap_fn fn, void *ctx);
};

/*
 * Engine notes: what every engine must provide.
 *  - Reads see every batch committed before they started (DynamoDB:
 *    ConsistentRead=true on GetItem and Query).
 *  - Items of one partition are returned in byte order of sk; a partition's
 *    range never leaks items of another partition or table.
 *  - A commit is all-or-nothing for its conditional part (see the rules
 *    above); conditions are evaluated against the state at commit time and
 *    in operation order within the batch (DynamoDB: TransactWriteItems with
 *    ConditionExpression attribute_not_exists/attribute_exists and a check on
 *    the value read; several operations on one item are coalesced into one).
 *  - Update functions may be re-run; a lost update is never allowed (DynamoDB:
 *    read, apply, conditional write on the old value, retry).
 *  - Same caps and errno values as above, checked before anything is sent
 *    (store.c checks the arguments; an engine checks what only it can see,
 *    such as an update function's result over STORE_VAL_MAX).
 *  - store_snapshot() is one consistent read of every table. LMDB: one
 *    read transaction. DynamoDB has no read transaction over whole tables;
 *    its engine would export every table at one point in time
 *    (ExportTableToPointInTime with point-in-time recovery enabled, the same
 *    ExportTime for all tables, read back from the export's S3 objects), or,
 *    without PITR, a parallel Scan with ConsistentRead under a write freeze
 *    (a store-wide flag every commit checks). A Scan alone is not a snapshot:
 *    it sees writes committed while it runs, so two tables could disagree.
 */

#endif /* ACTLOG_STORE_H */
