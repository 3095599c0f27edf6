/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit.h - token buckets keyed by string, in fixed memory: the limits
 * on sign-ins (per address, per account and address, per account), on
 * enrolments and on each token's requests (core/srv.h, struct srv). Nothing
 * of HTTP is in it; the routes answer 429 with ratelimit_retry_after_s().
 */
#ifndef ACTLOG_CORE_RATELIMIT_H
#define ACTLOG_CORE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/*
 * A limiter of `slots` buckets (rounded up to a multiple of 8, at most
 * 1 << 24), each holding up to `burst` tokens (1..1000000) and regaining one
 * every `refill_ms` milliseconds (1..86400000). Keys are hashed with a
 * random SipHash key; when a key's set of 8 slots is full, a bucket that has
 * refilled completely, else the least recently used one, is evicted (an
 * evicted key starts again with a full bucket). 0, -EINVAL or -ENOMEM.
 */
int ratelimit_new(size_t slots, unsigned burst, unsigned refill_ms, struct ratelimit **out);
/*
 * Take one token from key's bucket at now_ms (a monotonic clock in ms).
 * Thread-safe. 0, or -EAGAIN when the bucket is empty (answer 429 with
 * Retry-After: ratelimit_retry_after_s()).
 */
int ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ms);
/* Seconds until an empty bucket holds a token again (rounded up, >= 1). */
unsigned ratelimit_retry_after_s(const struct ratelimit *rl);
/* Buckets in use (never more than the slots). Thread-safe. */
size_t ratelimit_count(struct ratelimit *rl);
/* Free. NULL ok. */
void ratelimit_free(struct ratelimit *rl);

#endif /* ACTLOG_CORE_RATELIMIT_H */
