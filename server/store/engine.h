/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * engine.h - the headers a store engine embeds (contracts: store.h,
 * "Engines"). Included only by store.c and the engines (store_<name>.c);
 * callers see struct store and struct store_batch as opaque.
 *
 * An engine's store and batch start with these headers, e.g.
 *
 *     struct store_lmdb { struct store base; MDB_env *env; ... };
 *     struct lmdb_batch { struct store_batch base; struct op *ops; ... };
 *
 * so that a struct store * is a pointer to the engine's struct.
 */
#ifndef ACTLOG_STORE_ENGINE_H
#define ACTLOG_STORE_ENGINE_H

#include "store/store.h"

/* The head of every engine's store: set ops before returning the store. */
struct store {
	const struct store_engine *ops;
};

/*
 * The head of every engine's batch. store.c fills it in after the engine's
 * batch_begin and keeps it; an engine reads s and leaves the rest alone.
 */
struct store_batch {
	struct store *s;
	int err;      /* the first error of a batch call; the commit returns it */
	size_t nops;  /* operations charged against STORE_BATCH_MAX_OPS */
	size_t bytes; /* bytes charged against STORE_BATCH_MAX_BYTES */
};

/*
 * Count one more operation of pk + sk + 1 + vlen bytes against b's caps
 * (store.h: STORE_BATCH_MAX_OPS, STORE_BATCH_MAX_BYTES). For an engine's
 * batch_get that records its read as a condition (the value read is vlen);
 * store.c charges puts, deletes and updates itself. pk and sk are the
 * already-checked keys of the call. 0, or -E2BIG (nothing counted; the
 * engine returns it and store.c marks the batch failed).
 */
int store_batch_charge(struct store_batch *b, const char *pk, const char *sk, size_t vlen);

#endif /* ACTLOG_STORE_ENGINE_H */
