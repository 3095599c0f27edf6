// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-storebench - the raw put rate of the server's store on this
 * machine: the storage limit that ingest is measured against.
 *
 * It links the store engine (server/store_lmdb.c) and writes, into a fresh
 * store in a temporary directory per mode, values of record size under keys
 * shaped like ingest's RECORDS layout (store/keys.h):
 *
 *   pk "<device id>|activity|<YYYY-MM-DD>"  sk "<ts %013lld>|<batch id>|<line %06u>"
 *
 * Devices take turns (round robin), each writing its next records in time
 * order, so every commit appends to the tail of a few partitions the way
 * concurrent agents do. Modes (each for --seconds, or --commits commits):
 *
 *   put1    one put per commit (store_put): the per-commit cost (fsync)
 *   putN    --batch puts per commit: the raw put rate
 *   ingest  what one ingest commit holds: --batch record puts, --rollups
 *           read-modify-write JSON updates (ROLLUPS), the device's
 *           last_seen update and the IF_ABSENT BATCHES put
 *
 * Values are made before the clock starts, so the figures are the store's
 * alone. Every commit is durable (the engine's default sync).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "store/keys.h"
#include "store/store.h"
#include "benchcli.h"
#include "util.h"

#define SB_MAX_SECONDS 600
#define SB_MAX_COMMITS 10000000UL
#define SB_MAX_BATCH 5000 /* ingest writes raw records in commits of at most 5000 */
#define SB_MAX_ROLLUPS 97 /* ingest's conditional part: at most 97 rollup items */
#define SB_MAX_DEVICES 100000
#define SB_MAX_VALUE 65536
#define SB_MAX_THREADS 64
#define SB_DAY_MS 86400000LL
#define SB_DIR_MAX 3000	     /* bytes of --dir */
#define SB_LAT_MAX 2000000UL /* commit latencies kept per mode (beyond: not sampled) */

struct sb_opts {
	const char *dir;
	unsigned seconds;
	unsigned long commits; /* 0: time-bound */
	unsigned batch;
	unsigned rollups;
	unsigned devices;
	unsigned value_bytes;
	unsigned threads;
	bool keep;
	bool json;
	const char *modes;
};

enum sb_mode { M_PUT1, M_PUTN, M_INGEST, M__N };
static const char *const mode_names[M__N] = {"put1", "putN", "ingest"};

struct sb_device {
	char id[24];
	int64_t ts;	  /* next record's time */
	uint64_t batches; /* batch ids used */
};

struct sb_run {
	const struct sb_opts *o;
	enum sb_mode mode;
	struct store *st;
	struct sb_device *dev;
	char *value; /* value_bytes of record-shaped JSON */
	size_t value_len;
	pthread_mutex_t mu; /* device turn, counters, latencies */
	unsigned next_dev;
	uint64_t deadline_ns;
	unsigned long commits, puts, updates, errors;
	int first_err;
	double *lat_ms;
	size_t n_lat;
};

struct sb_result {
	enum sb_mode mode;
	unsigned batch; /* puts per commit */
	unsigned long commits, puts, updates, errors;
	double seconds;
	double p50_ms, p99_ms, max_ms;
	int first_err;
};

/* A record-shaped JSON value (what ingest stores for an activity record),
 * padded with a "pad" string to exactly want bytes when that is longer. */
static char *make_value(size_t want, size_t *len)
{
	static const char base[] =
	    "{\"type\":\"activity\",\"ts\":\"2026-11-28T10:01:00.000Z\",\"v\":1,"
	    "\"host_id\":\"4c1f0e6bd0a14e0f9a1a5f3b2f6c7d8e\",\"user\":\"alice\","
	    "\"start\":\"2026-11-28T10:00:00.000Z\",\"end\":\"2026-11-28T10:01:00.000Z\","
	    "\"interval_s\":60,\"keys\":120,\"clicks\":14,\"moves\":800,\"distance\":15200,"
	    "\"scrolls\":9,\"active_s\":48,\"idle\":false,\"synthetic\":{\"keys\":0,\"clicks\":0,"
	    "\"moves\":0,\"distance\":0,\"scrolls\":0,\"active_s\":0},"
	    "\"device_id\":\"d_cbeb88bbe68e4208\",\"user_id\":\"u_3321564eb8e9fecb\"";
	size_t n = sizeof(base) - 1, total = n + 1;
	char *v;

	if (want > total + 10)
		total = want; /* else the record as it is */
	v = malloc(total + 1);
	if (!v)
		return NULL;
	memcpy(v, base, n);
	if (total > n + 1) {
		size_t pad = total - n - 10; /* ,"pad":"" and } */

		memcpy(v + n, ",\"pad\":\"", 8);
		memset(v + n + 8, 'x', pad);
		memcpy(v + n + 8 + pad, "\"}", 2);
	} else {
		v[n] = '}';
	}
	v[total] = 0;
	*len = total;
	return v;
}

/* Rollup update: add 1 to each counter of a JSON object, as ingest's
 * upd_rollup() does for its deltas (parse, add, print). */
static const char *const ru_names[] = {"keys",	  "clicks",   "moves",	    "distance",
				       "scrolls", "active_s", "interval_s", "records"};

static int upd_counts(const void *old, size_t old_len, void **val, size_t *len, void *ctx)
{
	cJSON *j = old ? cJSON_ParseWithLength(old, old_len) : cJSON_CreateObject();
	char *txt;
	size_t i;

	(void)ctx;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -EIO;
	}
	for (i = 0; i < ARRAY_SIZE(ru_names); i++) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, ru_names[i]);
		double cur = cJSON_IsNumber(c) ? c->valuedouble : 0;

		cJSON_DeleteItemFromObjectCaseSensitive(j, ru_names[i]);
		cJSON_AddNumberToObject(j, ru_names[i], cur + 1);
	}
	txt = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!txt)
		return -ENOMEM;
	*val = txt;
	*len = strlen(txt);
	return STORE_UPDATE_PUT;
}

/* Add one commit's operations for device d to b (the caller holds the turn
 * of d). 0 or -errno. */
static int fill_batch(struct sb_run *r, struct sb_device *d, struct store_batch *b, unsigned *puts,
		      unsigned *updates)
{
	unsigned n = r->mode == M_PUT1 ? 1 : r->o->batch, i;
	struct key pk, sk;
	char bid[64], uid[48], app[16];
	int64_t last = d->ts;
	int ret = 0;

	snprintf(bid, sizeof(bid), "9d05fc2a2d98e05b-1-%" PRIu64 "-1-%" PRIu64, d->batches,
		 d->batches + n);
	d->batches++;
	for (i = 0; !ret && i < n; i++) {
		last = d->ts;
		ret = store_batch_put(
		    b, STORE_T_RECORDS, key_record_pk(&pk, d->id, "activity", d->ts),
		    key_record_sk(&sk, d->ts, bid, i + 1), r->value, r->value_len, 0);
		d->ts += 1000;
	}
	*puts = n;
	*updates = 0;
	if (ret || r->mode != M_INGEST)
		return ret;
	snprintf(uid, sizeof(uid), "u_%s", d->id + 2);
	for (i = 0; !ret && i < r->o->rollups; i++) {
		snprintf(app, sizeof(app), "app%u", i);
		ret = store_batch_update(b, STORE_T_ROLLUPS, key_rollup_pk(&pk, "user", uid, last),
					 key_rollup_app_sk(&sk, last, app), upd_counts, NULL);
	}
	if (!ret)
		ret = store_batch_update(b, STORE_T_DEVICES, d->id, "device", upd_counts, NULL);
	if (!ret)
		ret = store_batch_put(b, STORE_T_BATCHES, d->id, bid, "{\"at\":1}", 8,
				      STORE_IF_ABSENT);
	*updates = r->o->rollups + 1;
	return ret;
}

static void *worker(void *arg)
{
	struct sb_run *r = arg;

	for (;;) {
		struct store_batch *b = NULL;
		struct sb_device *d;
		unsigned puts = 0, updates = 0;
		uint64_t t0, t1;
		int ret;

		pthread_mutex_lock(&r->mu);
		if ((r->o->commits && r->commits >= r->o->commits) ||
		    (!r->o->commits && clock_ns(CLOCK_MONOTONIC) >= r->deadline_ns) ||
		    r->first_err) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		d = &r->dev[r->next_dev];
		r->next_dev = (r->next_dev + 1) % r->o->devices;
		/* reserve: a device's keys are made under the lock, so two
		 * threads never share a device's batch ids or times */
		ret = store_batch_begin(r->st, &b);
		if (!ret)
			ret = fill_batch(r, d, b, &puts, &updates);
		r->commits++;
		pthread_mutex_unlock(&r->mu);
		t0 = clock_ns(CLOCK_MONOTONIC);
		if (ret)
			store_batch_abort(b);
		else
			ret = store_batch_commit(b);
		t1 = clock_ns(CLOCK_MONOTONIC);
		pthread_mutex_lock(&r->mu);
		if (ret) {
			r->errors++;
			if (!r->first_err)
				r->first_err = ret;
		} else {
			r->puts += puts;
			r->updates += updates;
		}
		if (r->n_lat < SB_LAT_MAX)
			r->lat_ms[r->n_lat++] = (double)(t1 - t0) / 1e6;
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

/* Remove the store files of dir and dir itself. */
static void remove_store_dir(const char *dir)
{
	char p[SB_DIR_MAX + 64];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* Run one mode in a fresh store under o->dir. 0 or -errno (setup failures;
 * commit errors are counted in *res). */
static int run_mode(const struct sb_opts *o, enum sb_mode mode, const char *value, size_t vlen,
		    struct sb_result *res)
{
	struct sb_run r = {.o = o, .mode = mode, .value = (char *)value, .value_len = vlen};
	pthread_t th[SB_MAX_THREADS];
	char tmpl[SB_DIR_MAX + 32];
	uint64_t t0, t1;
	unsigned i, started = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	snprintf(tmpl, sizeof(tmpl), "%s/actlog-storebench.XXXXXX", o->dir);
	if (!mkdtemp(tmpl))
		return -errno;
	ret = store_open_lmdb(&r.st, tmpl, NULL);
	if (ret)
		goto out;
	r.dev = calloc(o->devices, sizeof(*r.dev));
	r.lat_ms = malloc(SB_LAT_MAX * sizeof(*r.lat_ms));
	if (!r.dev || !r.lat_ms) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < o->devices; i++) {
		snprintf(r.dev[i].id, sizeof(r.dev[i].id), "d_%016" PRIx64,
			 (uint64_t)0x9e3779b97f4a7c15ULL * (i + 1));
		/* a day ago, so a run crosses into the next day's partition */
		r.dev[i].ts = (int64_t)(clock_ns(CLOCK_REALTIME) / 1000000) - SB_DAY_MS;
	}
	pthread_mutex_init(&r.mu, NULL);
	r.deadline_ns = clock_ns(CLOCK_MONOTONIC) + (uint64_t)o->seconds * 1000000000ULL;
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (i = 0; i < o->threads; i++) {
		if (pthread_create(&th[i], NULL, worker, &r))
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	t1 = clock_ns(CLOCK_MONOTONIC);
	pthread_mutex_destroy(&r.mu);
	if (!started) {
		ret = -EAGAIN;
		goto out;
	}
	res->mode = mode;
	res->batch = mode == M_PUT1 ? 1 : o->batch;
	res->commits = r.commits - r.errors;
	res->puts = r.puts;
	res->updates = r.updates;
	res->errors = r.errors;
	res->seconds = (double)(t1 - t0) / 1e9;
	res->p50_ms = bench_quantile(r.lat_ms, r.n_lat, 0.50);
	res->p99_ms = bench_quantile(r.lat_ms, r.n_lat, 0.99);
	res->max_ms = r.n_lat ? r.lat_ms[r.n_lat - 1] : 0;
	res->first_err = r.first_err;
out:
	store_close(r.st);
	free(r.dev);
	free(r.lat_ms);
	if (!o->keep)
		remove_store_dir(tmpl);
	else if (!bench_json)
		fprintf(stderr, "actlog-storebench: kept %s\n", tmpl);
	return ret;
}

static const char usage_text[] =
    "usage: actlog-storebench [--dir DIR] [--seconds S | --commits N] [--batch N]\n"
    "                         [--rollups R] [--devices D] [--value-bytes B] [--threads T]\n"
    "                         [--modes put1,putN,ingest] [--keep] [--json]\n"
    "Measures the store's put rate in a fresh LMDB store per mode, made in a\n"
    "temporary directory under DIR (default $TMPDIR or /tmp) and removed after.\n"
    "  --seconds S      time per mode (default 3, at most 600)\n"
    "  --commits N      a fixed number of commits per mode instead\n"
    "  --batch N        puts per commit of putN and ingest (default 200, 1..5000)\n"
    "  --rollups R      rollup updates per ingest commit (default 8, 0..97)\n"
    "  --devices D      devices taking turns (default 64)\n"
    "  --value-bytes B  value size, padded (default: an activity record as stored)\n"
    "  --threads T      committing threads (default 1; LMDB has one writer)\n"
    "  --keep           keep the stores (their paths go to stderr)\n"
    "  --json           one JSON object on stdout\n";

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"dir", required_argument, 0, 'd'},
					   {"seconds", required_argument, 0, 's'},
					   {"commits", required_argument, 0, 'c'},
					   {"batch", required_argument, 0, 'b'},
					   {"rollups", required_argument, 0, 'r'},
					   {"devices", required_argument, 0, 'D'},
					   {"value-bytes", required_argument, 0, 'v'},
					   {"threads", required_argument, 0, 't'},
					   {"modes", required_argument, 0, 'm'},
					   {"keep", no_argument, 0, 'k'},
					   {"json", no_argument, 0, 'j'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	struct sb_opts o = {.seconds = 3,
			    .batch = 200,
			    .rollups = 8,
			    .devices = 64,
			    .value_bytes = 0,
			    .threads = 1,
			    .modes = "put1,putN,ingest"};
	struct sb_result res[M__N];
	bool want[M__N] = {0};
	unsigned long u;
	size_t n_res = 0, vlen = 0, i;
	char *value = NULL, *list, *tok, *save;
	int c, ret = 0, rc = 0;

	bench_prog = "actlog-storebench";
	for (i = 1; i < (size_t)argc; i++)
		if (!strcmp(argv[i], "--json"))
			bench_json = true;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.dir = optarg;
			break;
		case 's':
			if (bench_opt_uint("seconds", optarg, 1, SB_MAX_SECONDS, &u))
				return 2;
			o.seconds = (unsigned)u;
			break;
		case 'c':
			if (bench_opt_uint("commits", optarg, 1, SB_MAX_COMMITS, &u))
				return 2;
			o.commits = u;
			break;
		case 'b':
			if (bench_opt_uint("batch", optarg, 1, SB_MAX_BATCH, &u))
				return 2;
			o.batch = (unsigned)u;
			break;
		case 'r':
			if (bench_opt_uint("rollups", optarg, 0, SB_MAX_ROLLUPS, &u))
				return 2;
			o.rollups = (unsigned)u;
			break;
		case 'D':
			if (bench_opt_uint("devices", optarg, 1, SB_MAX_DEVICES, &u))
				return 2;
			o.devices = (unsigned)u;
			break;
		case 'v':
			if (bench_opt_uint("value-bytes", optarg, 16, SB_MAX_VALUE, &u))
				return 2;
			o.value_bytes = (unsigned)u;
			break;
		case 't':
			if (bench_opt_uint("threads", optarg, 1, SB_MAX_THREADS, &u))
				return 2;
			o.threads = (unsigned)u;
			break;
		case 'm':
			o.modes = optarg;
			break;
		case 'k':
			o.keep = true;
			break;
		case 'j':
			bench_json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		bench_fail("unexpected argument '%s' (try --help)", argv[optind]);
		return 2;
	}
	if (!o.dir)
		o.dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (strlen(o.dir) > SB_DIR_MAX) {
		bench_fail("--dir is longer than %d bytes", SB_DIR_MAX);
		return 2;
	}
	list = strdup(o.modes);
	if (!list) {
		bench_fail("out of memory");
		return 1;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < M__N && strcmp(tok, mode_names[i]); i++)
			;
		if (i == M__N) {
			bench_fail("unknown mode '%s' (put1, putN, ingest)", tok);
			free(list);
			return 2;
		}
		want[i] = true;
	}
	free(list);
	value = make_value(o.value_bytes, &vlen);
	if (!value) {
		bench_fail("out of memory");
		return 1;
	}
	for (i = 0; i < M__N; i++) {
		if (!want[i])
			continue;
		ret = run_mode(&o, (enum sb_mode)i, value, vlen, &res[n_res]);
		if (ret) {
			bench_fail("%s: cannot set up a store under %s: %s", mode_names[i], o.dir,
				   strerror(-ret));
			rc = 1;
			goto out;
		}
		if (res[n_res].first_err) {
			bench_fail("%s: %lu commits failed, the first with %s", mode_names[i],
				   res[n_res].errors, strerror(-res[n_res].first_err));
			rc = 1;
			goto out;
		}
		n_res++;
	}
	if (bench_json) {
		cJSON *root = cJSON_CreateObject(), *arr;
		char *s;

		cJSON_AddStringToObject(root, "tool", "actlog-storebench");
		cJSON_AddNumberToObject(root, "value_bytes", (double)vlen);
		cJSON_AddNumberToObject(root, "devices", o.devices);
		cJSON_AddNumberToObject(root, "threads", o.threads);
		cJSON_AddNumberToObject(root, "rollups", o.rollups);
		arr = cJSON_AddArrayToObject(root, "modes");
		for (i = 0; i < n_res; i++) {
			const struct sb_result *x = &res[i];
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "mode", mode_names[x->mode]);
			cJSON_AddNumberToObject(e, "puts_per_commit", x->batch);
			cJSON_AddNumberToObject(e, "commits", (double)x->commits);
			cJSON_AddNumberToObject(e, "puts", (double)x->puts);
			cJSON_AddNumberToObject(e, "updates", (double)x->updates);
			cJSON_AddNumberToObject(e, "seconds", x->seconds);
			cJSON_AddNumberToObject(e, "puts_per_s", (double)x->puts / x->seconds);
			cJSON_AddNumberToObject(e, "commits_per_s",
						(double)x->commits / x->seconds);
			cJSON_AddNumberToObject(e, "commit_p50_ms", x->p50_ms);
			cJSON_AddNumberToObject(e, "commit_p99_ms", x->p99_ms);
			cJSON_AddNumberToObject(e, "commit_max_ms", x->max_ms);
			cJSON_AddItemToArray(arr, e);
		}
		s = cJSON_Print(root);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(root);
	} else {
		printf("%-7s %8s %10s %12s %12s %10s %10s\n", "mode", "puts/c", "commits", "puts/s",
		       "commits/s", "p50 ms", "p99 ms");
		for (i = 0; i < n_res; i++) {
			const struct sb_result *x = &res[i];

			printf("%-7s %8u %10lu %12.0f %12.1f %10.3f %10.3f\n", mode_names[x->mode],
			       x->batch, x->commits, (double)x->puts / x->seconds,
			       (double)x->commits / x->seconds, x->p50_ms, x->p99_ms);
		}
	}
out:
	free(value);
	return rc;
}
