// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_outbound.c - the outbound pool (server/outbound.c) with jobs that
 * carry no request: the per-key cap, the queue cap, keys freed when their
 * jobs end, and a stop that runs every admitted job.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "http/outbound.h"

static atomic_int started, done, gate;

/* A job: counts its start, waits for the gate, counts its end. */
static void job(struct http_req *req, void *ctx)
{
	struct timespec ts = {0, 1000000L};

	(void)req;
	(void)ctx;
	atomic_fetch_add(&started, 1);
	while (!atomic_load(&gate))
		nanosleep(&ts, NULL);
	atomic_fetch_add(&done, 1);
}

static bool wait_for(atomic_int *v, int n)
{
	struct timespec ts = {0, 2 * 1000000L};
	int i;

	for (i = 0; i < 2500 && atomic_load(v) != n; i++)
		nanosleep(&ts, NULL);
	return atomic_load(v) == n;
}

static void reset(void)
{
	atomic_store(&started, 0);
	atomic_store(&done, 0);
	atomic_store(&gate, 0);
}

TEST(caps)
{
	struct outbound_opts o = {.threads = 2, .per_key = 3};
	struct outbound *ob = NULL;
	char key[16], lng[OUTBOUND_KEY_MAX + 2];
	int i;

	reset();
	CHECK_EQ(outbound_new(&o, &ob), 0);
	if (!ob)
		return;
	for (i = 0; i < 3; i++)
		CHECK_EQ(outbound_submit(ob, "n_a", NULL, job, NULL), 0);
	CHECK_EQ(outbound_submit(ob, "n_a", NULL, job, NULL), -EBUSY);
	CHECK_EQ(outbound_count(ob, "n_a"), 3);
	CHECK_EQ(outbound_count(ob, "n_zzz"), 0);
	/* both threads busy with n_a; n_a's third waits: 8 - 1 more may wait */
	CHECK(wait_for(&started, 2));
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "n_%d", i);
		CHECK_EQ(outbound_submit(ob, key, NULL, job, NULL), 0);
	}
	CHECK_EQ(outbound_submit(ob, "n_new", NULL, job, NULL), -EAGAIN);
	CHECK_EQ(outbound_submit(ob, "n_a", NULL, job, NULL), -EBUSY);
	CHECK_EQ(outbound_submit(ob, "", NULL, job, NULL), -EINVAL);
	memset(lng, 'k', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = 0;
	CHECK_EQ(outbound_submit(ob, lng, NULL, job, NULL), -EINVAL);
	CHECK_EQ(atomic_load(&started), 2); /* no more than the threads run */
	atomic_store(&gate, 1);
	CHECK(wait_for(&done, 10));
	/* the keys are free again */
	CHECK_EQ(outbound_count(ob, "n_a"), 0);
	for (i = 0; i < 3; i++)
		CHECK_EQ(outbound_submit(ob, "n_a", NULL, job, NULL), 0);
	CHECK(wait_for(&done, 13));
	outbound_free(ob);
}

TEST(free_runs_admitted_jobs)
{
	struct outbound_opts o = {.threads = 1, .per_key = 8};
	struct outbound *ob = NULL;
	int i;

	reset();
	CHECK_EQ(outbound_new(&o, &ob), 0);
	if (!ob)
		return;
	for (i = 0; i < 4; i++)
		CHECK_EQ(outbound_submit(ob, "root", NULL, job, NULL), 0);
	CHECK(wait_for(&started, 1));
	atomic_store(&gate, 1);
	outbound_free(ob); /* waits for the running and the queued ones */
	CHECK_EQ(atomic_load(&done), 4);
}

TEST(bad_options)
{
	struct outbound_opts o = {.threads = OUTBOUND_MAX_THREADS + 1};
	struct outbound *ob = NULL;

	CHECK_EQ(outbound_new(&o, &ob), -EINVAL);
	CHECK(ob == NULL);
	o.threads = 0;
	o.per_key = OUTBOUND_MAX_PER_KEY + 1;
	CHECK_EQ(outbound_new(&o, &ob), -EINVAL);
	CHECK_EQ(outbound_new(NULL, &ob), 0); /* defaults */
	outbound_free(ob);
	outbound_free(NULL);
}

int main(void)
{
	RUN(caps);
	RUN(free_runs_admitted_jobs);
	RUN(bad_options);
	return CHECK_DONE();
}
