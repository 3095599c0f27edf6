/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * outbound.h - a bounded pool of threads for the part of an API request that
 * waits on another host (S3). The handler checks what it can at once, then
 * hands the request to a job: the request is suspended (http_req_suspend),
 * the job runs on a pool thread and replies, and the pool resumes the
 * request. A remote that is slow or never answers then holds pool threads,
 * never the HTTP layer's threads that every business shares.
 *
 * Every job carries a key (the id of the business whose S3 it calls), and
 * caps bound what one key and the whole pool may hold (rule 6):
 *   threads   jobs running at once (OUTBOUND_DEFAULT_THREADS)
 *   queue     jobs waiting for a thread: OUTBOUND_QUEUE_PER_THREAD per
 *             thread; beyond it a job is refused (-EAGAIN)
 *   per_key   jobs of one key, waiting and running
 *             (OUTBOUND_DEFAULT_PER_KEY); beyond it a job is refused
 *             (-EBUSY), so that one business cannot fill the pool
 * A refused job is answered 503 with Retry-After (OUTBOUND_RETRY_AFTER_S)
 * by its caller (need_outbound() in srv.h). Jobs are never cancelled: each
 * bounds its own time (S3 timeouts), and outbound_free() waits for them.
 */
#ifndef ACTLOG_SRV_OUTBOUND_H
#define ACTLOG_SRV_OUTBOUND_H

#include "http/http.h"

#define OUTBOUND_DEFAULT_THREADS 16
#define OUTBOUND_MAX_THREADS 256
#define OUTBOUND_QUEUE_PER_THREAD 4
#define OUTBOUND_DEFAULT_PER_KEY 4
#define OUTBOUND_MAX_PER_KEY 1024
#define OUTBOUND_KEY_MAX 63	 /* bytes of a key */
#define OUTBOUND_RETRY_AFTER_S 5 /* what a refusal tells the client */

struct outbound;

/* Zero means the default named after each field. */
struct outbound_opts {
	unsigned threads; /* 1..OUTBOUND_MAX_THREADS */
	unsigned per_key; /* 1..OUTBOUND_MAX_PER_KEY */
};

/*
 * A job: runs on a pool thread with the request it finishes (NULL for a job
 * without one) and its context, which it owns and frees. It must reply to
 * req with one http_reply_*(); the pool resumes req after it returns.
 */
typedef void (*outbound_fn)(struct http_req *req, void *ctx);

/* Start the pool's threads. 0 and *out; -EINVAL bad options; -ENOMEM;
 * -errno from pthread_create. */
int outbound_new(const struct outbound_opts *o, struct outbound **out);

/*
 * Queue fn(req, ctx) under key, suspending req (http_req_suspend) when it is
 * not NULL: call it from req's handler, which then returns 0 and touches
 * neither req nor ctx again. 0; -EBUSY key has per_key jobs already;
 * -EAGAIN the queue is full; -ESHUTDOWN the pool is stopping; -EINVAL key
 * empty or over OUTBOUND_KEY_MAX; -EALREADY from http_req_suspend(). On
 * failure nothing happened: req is not suspended and ctx stays the caller's.
 * Thread-safe.
 */
int outbound_submit(struct outbound *ob, const char *key, struct http_req *req, outbound_fn fn,
		    void *ctx);

/* Jobs of key waiting or running now (0 for an unknown key). Thread-safe. */
unsigned outbound_count(struct outbound *ob, const char *key);

/*
 * Refuse new jobs, let the queued and running ones finish, join the threads
 * and free. NULL ok. Call it after http_stop(): the server's stop waits for
 * the requests the jobs resume.
 */
void outbound_free(struct outbound *ob);

#endif /* ACTLOG_SRV_OUTBOUND_H */
