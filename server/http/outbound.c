// SPDX-License-Identifier: BSD-2-Clause
/*
 * outbound.c - the pool for request work that waits on another host
 * (outbound.h): fixed threads, a fixed ring of waiting jobs, and a fixed
 * table of per-key counts (one slot per job the pool can hold, so a key with
 * a job always finds one). One mutex guards it all.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http/outbound.h"

struct job {
	outbound_fn fn;
	struct http_req *req;
	void *ctx;
	unsigned slot; /* its key's index in keys[] */
};

struct key_slot {
	char key[OUTBOUND_KEY_MAX + 1];
	unsigned n; /* jobs waiting or running; 0: the slot is free */
};

struct outbound {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	unsigned nthreads, per_key;
	pthread_t *threads;
	unsigned started; /* threads to join */
	bool stop;
	struct job *ring; /* qcap entries */
	unsigned qcap, qhead, qlen;
	unsigned reserved;     /* admitted but not yet in the ring (being suspended) */
	struct key_slot *keys; /* nkeys = nthreads + qcap: every job the pool holds */
	unsigned nkeys;
};

/* The slot of key, or NULL; with add, a free one taken for it. Locked. */
static struct key_slot *key_find(struct outbound *ob, const char *key, bool add)
{
	struct key_slot *free_slot = NULL;
	unsigned i;

	for (i = 0; i < ob->nkeys; i++) {
		struct key_slot *k = &ob->keys[i];

		if (k->n && !strcmp(k->key, key))
			return k;
		if (!k->n && !free_slot)
			free_slot = k;
	}
	if (!add || !free_slot)
		return NULL;
	strcpy(free_slot->key, key);
	return free_slot;
}

static void *worker(void *arg)
{
	struct outbound *ob = arg;
	struct job j;

	pthread_mutex_lock(&ob->lock);
	for (;;) {
		while (!ob->qlen && !(ob->stop && !ob->reserved))
			pthread_cond_wait(&ob->work, &ob->lock);
		if (!ob->qlen)
			break; /* stopping, nothing left */
		j = ob->ring[ob->qhead];
		ob->qhead = (ob->qhead + 1) % ob->qcap;
		ob->qlen--;
		pthread_mutex_unlock(&ob->lock);
		j.fn(j.req, j.ctx);
		if (j.req)
			http_req_resume(j.req);
		pthread_mutex_lock(&ob->lock);
		ob->keys[j.slot].n--;
	}
	pthread_mutex_unlock(&ob->lock);
	return NULL;
}

int outbound_submit(struct outbound *ob, const char *key, struct http_req *req, outbound_fn fn,
		    void *ctx)
{
	struct key_slot *k;
	int err = 0;

	if (!key || !*key || strlen(key) > OUTBOUND_KEY_MAX || !fn)
		return -EINVAL;
	pthread_mutex_lock(&ob->lock);
	k = key_find(ob, key, false);
	if (ob->stop)
		err = -ESHUTDOWN;
	else if (k && k->n >= ob->per_key)
		err = -EBUSY;
	/* every job passes through the ring; with it full, so are the threads
	 * (or about to take from it) */
	else if (ob->qlen + ob->reserved >= ob->qcap)
		err = -EAGAIN;
	else if (!k && !(k = key_find(ob, key, true)))
		err = -EAGAIN; /* cannot happen: a slot per job the pool holds */
	if (err) {
		pthread_mutex_unlock(&ob->lock);
		return err;
	}
	/* admitted: hold the place while req is suspended, unlocked (MHD
	 * takes its own locks, which the pool threads take when resuming) */
	k->n++;
	ob->reserved++;
	pthread_mutex_unlock(&ob->lock);
	err = req ? http_req_suspend(req) : 0;
	pthread_mutex_lock(&ob->lock);
	ob->reserved--;
	if (err) {
		k->n--;
	} else {
		ob->ring[(ob->qhead + ob->qlen) % ob->qcap] = (struct job){
		    .fn = fn, .req = req, .ctx = ctx, .slot = (unsigned)(k - ob->keys)};
		ob->qlen++;
	}
	pthread_cond_broadcast(&ob->work);
	pthread_mutex_unlock(&ob->lock);
	return err;
}

unsigned outbound_count(struct outbound *ob, const char *key)
{
	struct key_slot *k;
	unsigned n;

	pthread_mutex_lock(&ob->lock);
	k = key ? key_find(ob, key, false) : NULL;
	n = k ? k->n : 0;
	pthread_mutex_unlock(&ob->lock);
	return n;
}

void outbound_free(struct outbound *ob)
{
	unsigned i;

	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->stop = true;
	pthread_cond_broadcast(&ob->work);
	pthread_mutex_unlock(&ob->lock);
	for (i = 0; i < ob->started; i++)
		pthread_join(ob->threads[i], NULL);
	pthread_cond_destroy(&ob->work);
	pthread_mutex_destroy(&ob->lock);
	free(ob->threads);
	free(ob->ring);
	free(ob->keys);
	free(ob);
}

int outbound_new(const struct outbound_opts *o, struct outbound **out)
{
	struct outbound *ob;
	unsigned nthreads = o && o->threads ? o->threads : OUTBOUND_DEFAULT_THREADS;
	unsigned per_key = o && o->per_key ? o->per_key : OUTBOUND_DEFAULT_PER_KEY;
	int err;

	*out = NULL;
	if (nthreads > OUTBOUND_MAX_THREADS || per_key > OUTBOUND_MAX_PER_KEY)
		return -EINVAL;
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return -ENOMEM;
	ob->nthreads = nthreads;
	ob->per_key = per_key;
	ob->qcap = nthreads * OUTBOUND_QUEUE_PER_THREAD;
	ob->nkeys = nthreads + ob->qcap;
	ob->threads = calloc(nthreads, sizeof(*ob->threads));
	ob->ring = calloc(ob->qcap, sizeof(*ob->ring));
	ob->keys = calloc(ob->nkeys, sizeof(*ob->keys));
	err = pthread_mutex_init(&ob->lock, NULL);
	if (err) {
		free(ob->threads);
		free(ob->ring);
		free(ob->keys);
		free(ob);
		return -err;
	}
	err = pthread_cond_init(&ob->work, NULL);
	if (err) {
		pthread_mutex_destroy(&ob->lock);
		free(ob->threads);
		free(ob->ring);
		free(ob->keys);
		free(ob);
		return -err;
	}
	if (!ob->threads || !ob->ring || !ob->keys) {
		outbound_free(ob);
		return -ENOMEM;
	}
	for (; ob->started < nthreads; ob->started++) {
		err = pthread_create(&ob->threads[ob->started], NULL, worker, ob);
		if (err) {
			outbound_free(ob);
			return -err;
		}
	}
	*out = ob;
	return 0;
}
