// SPDX-License-Identifier: BSD-2-Clause
/*
 * ratelimit.c - token buckets keyed by string, in fixed memory (contracts:
 * core/ratelimit.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/ratelimit.h"

#define RL_WAYS 8u
#define RL_MAX_SLOTS (1u << 24)

struct rl_entry {
	uint64_t key;	 /* keyed hash, 0 = free */
	uint64_t credit; /* ms of refill time banked; a token costs refill_ms */
	uint64_t last;	 /* now_ms of the last update */
};

struct ratelimit {
	pthread_mutex_t lock;
	size_t nsets; /* power of two */
	size_t count;
	uint64_t full;	 /* burst * refill_ms */
	uint64_t refill; /* refill_ms */
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	struct rl_entry e[];
};

int ratelimit_new(size_t slots, unsigned burst, unsigned refill_ms, struct ratelimit **out)
{
	struct ratelimit *rl;
	size_t nsets = 1;
	int err;

	*out = NULL;
	if (slots == 0 || slots > RL_MAX_SLOTS || burst == 0 || burst > 1000000 || refill_ms == 0 ||
	    refill_ms > 86400000)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	while (nsets * RL_WAYS < slots)
		nsets *= 2;
	rl = calloc(1, sizeof(*rl) + nsets * RL_WAYS * sizeof(rl->e[0]));
	if (!rl)
		return -ENOMEM;
	err = pthread_mutex_init(&rl->lock, NULL);
	if (err) {
		free(rl);
		return -err;
	}
	rl->nsets = nsets;
	rl->refill = refill_ms;
	rl->full = (uint64_t)burst * refill_ms;
	crypto_shorthash_keygen(rl->hkey);
	*out = rl;
	return 0;
}

/* Credit of e at now: banked plus elapsed time, at most full. */
static uint64_t rl_credit(const struct ratelimit *rl, const struct rl_entry *e, uint64_t now)
{
	uint64_t elapsed = now > e->last ? now - e->last : 0;

	if (elapsed >= rl->full || e->credit + elapsed >= rl->full)
		return rl->full;
	return e->credit + elapsed;
}

static int rl_rank(const struct ratelimit *rl, const struct rl_entry *e, uint64_t now)
{
	if (!e->key)
		return 0;
	return rl_credit(rl, e, now) == rl->full ? 1 : 2;
}

int ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ms)
{
	unsigned char h[crypto_shorthash_BYTES];
	struct rl_entry *set, *e = NULL, *victim = NULL;
	uint64_t hk;
	unsigned i;
	int ret;

	crypto_shorthash(h, (const unsigned char *)key, strlen(key), rl->hkey);
	memcpy(&hk, h, sizeof(hk));
	if (hk == 0)
		hk = 1;
	set = &rl->e[(hk & (rl->nsets - 1)) * RL_WAYS];
	pthread_mutex_lock(&rl->lock);
	for (i = 0; i < RL_WAYS; i++) {
		struct rl_entry *c = &set[i];

		if (c->key == hk) {
			e = c;
			break;
		}
		/* eviction order: free, then refilled (nothing to forget), then LRU */
		if (!victim || rl_rank(rl, c, now_ms) < rl_rank(rl, victim, now_ms) ||
		    (rl_rank(rl, c, now_ms) == rl_rank(rl, victim, now_ms) &&
		     c->last < victim->last))
			victim = c;
	}
	if (!e) {
		/* new key (or evicted one): a full bucket */
		e = victim;
		if (!e->key)
			rl->count++;
		e->key = hk;
		e->credit = rl->full;
		e->last = now_ms;
	}
	e->credit = rl_credit(rl, e, now_ms);
	if (now_ms > e->last)
		e->last = now_ms;
	if (e->credit >= rl->refill) {
		e->credit -= rl->refill;
		ret = 0;
	} else {
		ret = -EAGAIN;
	}
	pthread_mutex_unlock(&rl->lock);
	return ret;
}

unsigned ratelimit_retry_after_s(const struct ratelimit *rl)
{
	return (unsigned)((rl->refill + 999) / 1000);
}

size_t ratelimit_count(struct ratelimit *rl)
{
	size_t n;

	pthread_mutex_lock(&rl->lock);
	n = rl->count;
	pthread_mutex_unlock(&rl->lock);
	return n;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}
