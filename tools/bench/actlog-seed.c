// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-seed - a seeded dataset for the dashboard's queries, and their
 * benchmark.
 *
 *   seed   writes straight into a store made by `actlog-server init` (the
 *          server stopped), through the server's model (not HTTP): a domain,
 *          a project and --teams teams under the store's business, one user
 *          and one device (owned by that user, its records carrying the
 *          user's login) per machine, written by the organisation's writers
 *          (model/org.h), and --days days up to --end of the agent's
 *          records, one batch per device and hour (an activity record a
 *          minute, an app_usage record every five minutes, a sysinfo record
 *          every fifteen) applied by ingest itself (model/ingest.h), many
 *          batches to a commit. This program only generates data: the
 *          layout is the server's. Ids follow from --seed, so two stores
 *          seeded alike hold the same keys. A manifest (JSON, 0600: it holds
 *          device tokens) names what was made.
 *   send   sends the same batches to a running server over POST
 *          /api/v1/ingest, with the device tokens of a manifest made by
 *          `seed --tree-only` on that server's store.
 *   dump   prints RECORDS, ROLLUPS and each device's latest sysinfo, one
 *          item a line in key order: `seed` then `dump` of one store and
 *          `seed --tree-only`, `send`, `dump` of another must print the
 *          same lines, which checks that the seeded rollups are ingest's.
 *   query  times the dashboard's queries against a running server on a
 *          seeded store (HTTP, as the dashboard asks them), computes the
 *          same answers in process from the rollups and, for contrast,
 *          from the raw RECORDS (a forced scan through store.h), checks
 *          that the answers agree, and prints p50/p99 of each.
 *
 * Nothing is guessed about the server at query time: team and device lists
 * come from the store's own indexes (DEVICES "team|<id>").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "benchcli.h"
#include "httpc.h"
#include "core/srv.h"
#include "gz.h"
#include "model/ingest.h"
#include "model/org.h"
#include "model/rollup.h"
#include "store/keys.h"
#include "util.h"

#define SD_MAX_MACHINES 5000
#define SD_MAX_TEAMS 500
#define SD_MAX_DAYS 400
#define SD_MAX_RUNS 100000
#define SD_DAY_MS 86400000LL
#define SD_HOUR_MS 3600000LL
#define SD_MIN_MS 60000LL
#define SD_COMMIT_OPS 8000u	    /* operations of one seeding commit */
#define SD_COMMIT_BYTES (48u << 20) /* bytes of one seeding commit */
#define SD_HOUR_LINES 76	    /* 60 activity, 12 app_usage, 4 sysinfo */
#define SD_LINE_MAX 2048	    /* bytes of one generated line */
#define SD_MANIFEST_MAX (64u << 20) /* bytes of a manifest file */
#define SD_RESP_MAX (8u << 20)	    /* bytes of an HTTP answer kept */
#define SD_PW_MAX 4096
#define SD_USER_PASSWORD "seeded-user-password" /* every seeded user's */
#define SD_TOP 10				/* apps in a top-apps answer */
#define SD_WARMUP 5				/* untimed runs before each series */

/* --- the catalogue the records draw from --- */

static const char *const app_names[] = {
    "firefox",	"code",	 "slack",    "gnome-terminal",	"thunderbird", "libreoffice-writer",
    "chromium", "zoom",	 "gimp",     "inkscape",	"evince",      "nautilus",
    "spotify",	"teams", "intellij", "libreoffice-calc"};
#define N_APPS (sizeof(app_names) / sizeof(app_names[0]))

enum { R_ACTIVITY, R_APP_USAGE, R_SYSINFO };

/* --- output --- */

static void print_json(cJSON *root)
{
	char *s = cJSON_Print(root);

	if (s)
		puts(s);
	free(s);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rnd_below(uint64_t *x, unsigned n)
{
	return (unsigned)(splitmix64(x) % n);
}

/* --- the manifest: what a seed made --- */

struct sd_dev {
	char id[ID_SIZE];
	char user_id[ID_SIZE];
	char login[16];
	char host_id[40];
	char token[TOKEN_SIZE];
	unsigned team;
	unsigned fav[3];  /* the user's apps, most used first */
	unsigned start_h; /* working hours start (UTC) */
};

struct sd_team {
	char id[ID_SIZE];
	char name[32];
};

struct sd_manifest {
	uint64_t seed;
	unsigned machines, teams, days;
	int64_t end_ms; /* records cover [end - days, end) */
	char business_id[ID_SIZE], domain_id[ID_SIZE], project_id[ID_SIZE];
	struct sd_team *team;
	struct sd_dev *dev;
};

/* A deterministic id: prefix, '_', 16 hex digits from (seed, kind, index). */
static void id_det(char out[ID_SIZE], char prefix, uint64_t seed, unsigned kind, unsigned index)
{
	uint64_t x = seed ^ ((uint64_t)kind << 56) ^ ((uint64_t)index * 0x2545f4914f6cdd1dULL);

	snprintf(out, ID_SIZE, "%c_%016" PRIx64, prefix, splitmix64(&x));
}

/* Fill m's teams and devices from its seed and sizes (tokens excepted). */
static int manifest_plan(struct sd_manifest *m)
{
	unsigned i;

	m->team = calloc(m->teams, sizeof(*m->team));
	m->dev = calloc(m->machines, sizeof(*m->dev));
	if (!m->team || !m->dev)
		return -ENOMEM;
	id_det(m->domain_id, ID_PREFIX_NODE, m->seed, 1, 0);
	id_det(m->project_id, ID_PREFIX_NODE, m->seed, 2, 0);
	for (i = 0; i < m->teams; i++) {
		id_det(m->team[i].id, ID_PREFIX_NODE, m->seed, 3, i);
		snprintf(m->team[i].name, sizeof(m->team[i].name), "Team %03u", i + 1);
	}
	for (i = 0; i < m->machines; i++) {
		struct sd_dev *d = &m->dev[i];
		uint64_t x = m->seed ^ (0xd1ce0000ULL + i);

		id_det(d->id, ID_PREFIX_DEVICE, m->seed, 4, i);
		id_det(d->user_id, ID_PREFIX_USER, m->seed, 5, i);
		snprintf(d->login, sizeof(d->login), "s%05u", i + 1);
		{
			uint64_t h1 = splitmix64(&x), h2 = splitmix64(&x);

			snprintf(d->host_id, sizeof(d->host_id), "%016" PRIx64 "%016" PRIx64, h1,
				 h2);
		}
		d->team = (unsigned)((uint64_t)i * m->teams / m->machines);
		d->fav[0] = rnd_below(&x, N_APPS);
		d->fav[1] = (d->fav[0] + 1 + rnd_below(&x, N_APPS - 1)) % N_APPS;
		do
			d->fav[2] = rnd_below(&x, N_APPS);
		while (d->fav[2] == d->fav[0] || d->fav[2] == d->fav[1]);
		d->start_h = 7 + rnd_below(&x, 3);
	}
	return 0;
}

static void manifest_free(struct sd_manifest *m)
{
	if (m->dev)
		for (unsigned i = 0; i < m->machines; i++)
			memset(m->dev[i].token, 0, sizeof(m->dev[i].token));
	free(m->team);
	free(m->dev);
}

/* Write m as JSON to path (mode 0600, replaced atomically). 0 or -errno. */
static int manifest_save(const struct sd_manifest *m, const char *path)
{
	char tmp[PATH_MAX + 8], ts[RFC3339_LEN];
	cJSON *root = cJSON_CreateObject(), *teams, *devs;
	char *txt;
	unsigned i;
	int fd, ret;

	cJSON_AddNumberToObject(root, "version", 1);
	cJSON_AddNumberToObject(root, "seed", (double)m->seed);
	cJSON_AddNumberToObject(root, "machines", m->machines);
	cJSON_AddNumberToObject(root, "teams", m->teams);
	cJSON_AddNumberToObject(root, "days", m->days);
	cJSON_AddStringToObject(root, "end", rfc3339_ms(m->end_ms, ts));
	cJSON_AddNumberToObject(root, "end_ms", (double)m->end_ms);
	cJSON_AddStringToObject(root, "business_id", m->business_id);
	cJSON_AddStringToObject(root, "domain_id", m->domain_id);
	cJSON_AddStringToObject(root, "project_id", m->project_id);
	cJSON_AddStringToObject(root, "user_password", SD_USER_PASSWORD);
	teams = cJSON_AddArrayToObject(root, "team_ids");
	for (i = 0; i < m->teams; i++)
		cJSON_AddItemToArray(teams, cJSON_CreateString(m->team[i].id));
	devs = cJSON_AddArrayToObject(root, "devices");
	for (i = 0; i < m->machines; i++) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(d, "id", m->dev[i].id);
		cJSON_AddStringToObject(d, "user_id", m->dev[i].user_id);
		cJSON_AddStringToObject(d, "login", m->dev[i].login);
		cJSON_AddNumberToObject(d, "team", m->dev[i].team);
		cJSON_AddStringToObject(d, "token", m->dev[i].token);
		cJSON_AddItemToArray(devs, d);
	}
	txt = cJSON_Print(root);
	cJSON_Delete(root);
	if (!txt)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		free(txt);
		return ret;
	}
	ret = write_all(fd, txt, strlen(txt));
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	free(txt);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* Read a manifest: sizes and seed, then the plan again, then the tokens.
 * 0, -EINVAL (not a manifest of this version), -errno. */
static int manifest_load(struct sd_manifest *m, const char *path)
{
	const cJSON *devs, *d;
	char *txt = NULL;
	size_t len;
	cJSON *root;
	unsigned i = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	ret = read_file(path, SD_MANIFEST_MAX, &txt, &len);
	if (ret)
		return ret;
	root = cJSON_ParseWithLength(txt, len);
	free(txt);
	if (jint(root, "version", 0) != 1 || !jstr(root, "end") || jint(root, "machines", 0) < 1 ||
	    jint(root, "machines", 0) > SD_MAX_MACHINES || jint(root, "teams", 0) < 1 ||
	    jint(root, "teams", 0) > jint(root, "machines", 0) || jint(root, "days", 0) < 1 ||
	    jint(root, "days", 0) > SD_MAX_DAYS) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	m->seed = (uint64_t)jint(root, "seed", 0);
	m->machines = (unsigned)jint(root, "machines", 0);
	m->teams = (unsigned)jint(root, "teams", 0);
	m->days = (unsigned)jint(root, "days", 0);
	m->end_ms = jint(root, "end_ms", 0);
	snprintf(m->business_id, sizeof(m->business_id), "%s",
		 jstr(root, "business_id") ? jstr(root, "business_id") : "");
	ret = manifest_plan(m);
	devs = cJSON_GetObjectItemCaseSensitive(root, "devices");
	cJSON_ArrayForEach(d, devs)
	{
		const char *tok = jstr(d, "token");

		if (ret || i >= m->machines)
			break;
		if (!jstr(d, "id") || strcmp(jstr(d, "id"), m->dev[i].id)) {
			ret = -EINVAL; /* made by another seed */
			break;
		}
		snprintf(m->dev[i].token, sizeof(m->dev[i].token), "%s", tok ? tok : "");
		i++;
	}
	if (!ret && i != m->machines)
		ret = -EINVAL;
	cJSON_Delete(root);
	return ret;
}

/* --- record generation: one device, one hour --- */

/* What seeding needs of a generated record besides its text. */
struct sd_rec {
	int type;
	int64_t ts, start;
	int64_t c[RA_RECORDS]; /* activity counters */
	unsigned n_apps;
	unsigned app[3];
	double focus[3]; /* seconds */
	size_t off, len; /* its line in the buffer, without the newline */
};

/*
 * The NDJSON of device d's batch for the hour starting at hour_ms, into g
 * (replaced), and one sd_rec per line into r[SD_HOUR_LINES]. The agent's
 * shapes (user/agent/record.c). Deterministic in (seed, device, hour). 0 or
 * -ENOMEM.
 */
static int gen_hour(const struct sd_manifest *m, unsigned dev_index, int64_t hour_ms,
		    struct bench_buf *g, struct sd_rec *r)
{
	const struct sd_dev *d = &m->dev[dev_index];
	uint64_t x = m->seed ^ ((uint64_t)dev_index << 40) ^ (uint64_t)(hour_ms / SD_HOUR_MS);
	int64_t day = hour_ms / SD_DAY_MS;
	unsigned h = (unsigned)(hour_ms / SD_HOUR_MS % 24), wd = (unsigned)((day + 4) % 7);
	bool weekday = wd >= 1 && wd <= 5;
	unsigned p_active, active[60], mnt, n = 0;
	char st[RFC3339_LEN], en[RFC3339_LEN];
	int ret = 0;

	if (weekday && h >= d->start_h && h < d->start_h + 9)
		p_active = h == d->start_h + 4 ? 25 : 85; /* lunch */
	else if (weekday && (h + 1 == d->start_h || h == d->start_h + 9))
		p_active = 10;
	else
		p_active = 0;
	g->len = 0;
	for (mnt = 0; !ret && mnt < 60; mnt++) {
		int64_t t = hour_ms + mnt * SD_MIN_MS;
		struct sd_rec *a = &r[n++];
		unsigned act = rnd_below(&x, 100) < p_active ? 15 + rnd_below(&x, 46) : 0;

		active[mnt] = act;
		memset(a, 0, sizeof(*a));
		a->type = R_ACTIVITY;
		a->start = t;
		a->ts = t + SD_MIN_MS;
		a->c[RA_ACTIVE] = act;
		a->c[RA_INTERVAL] = 60;
		if (act) {
			a->c[RA_KEYS] = act * rnd_below(&x, 5);
			a->c[RA_CLICKS] = rnd_below(&x, act / 3 + 1);
			a->c[RA_MOVES] = act * (5 + rnd_below(&x, 16));
			a->c[RA_DISTANCE] = a->c[RA_MOVES] * (10 + rnd_below(&x, 30));
			a->c[RA_SCROLLS] = rnd_below(&x, 21);
		}
		rfc3339_ms(a->start, st);
		rfc3339_ms(a->ts, en);
		a->off = g->len;
		ret = bench_buf_add(
		    g,
		    "{\"type\":\"activity\",\"ts\":\"%s\",\"v\":1,\"host_id\":\"%s\","
		    "\"user\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"interval_s\":60,"
		    "\"keys\":%" PRId64 ",\"clicks\":%" PRId64 ",\"moves\":%" PRId64
		    ",\"distance\":%" PRId64 ",\"scrolls\":%" PRId64 ",\"active_s\":%u,"
		    "\"idle\":%s,\"synthetic\":{\"keys\":0,\"clicks\":0,\"moves\":0,"
		    "\"distance\":0,\"scrolls\":0,\"active_s\":0}}",
		    en, d->host_id, d->login, st, en, a->c[RA_KEYS], a->c[RA_CLICKS],
		    a->c[RA_MOVES], a->c[RA_DISTANCE], a->c[RA_SCROLLS], act,
		    act || p_active >= 25 ? "false" : "true");
		a->len = g->len - a->off;
		if (!ret)
			ret = bench_buf_add(g, "\n");
		if (!ret && mnt % 5 == 4) {
			/* app_usage of the five minutes ending now */
			struct sd_rec *u = &r[n++];
			unsigned total = 0, k, cpu = rnd_below(&x, 40);
			double share[3] = {0.6, 0.3, 0.1};

			for (k = 0; k < 5; k++)
				total += active[mnt - k];
			memset(u, 0, sizeof(*u));
			u->type = R_APP_USAGE;
			u->start = t - 4 * SD_MIN_MS;
			u->ts = t + SD_MIN_MS;
			u->n_apps = total ? 1 + rnd_below(&x, 3) : 0;
			for (k = 0; k < u->n_apps; k++) {
				u->app[k] = d->fav[k];
				/* halves of seconds: printed and read back exactly */
				u->focus[k] = (double)(int64_t)(total * share[k] * 2) / 2;
			}
			rfc3339_ms(u->start, st);
			rfc3339_ms(u->ts, en);
			u->off = g->len;
			ret = bench_buf_add(
			    g,
			    "{\"type\":\"app_usage\",\"ts\":\"%s\",\"v\":1,\"host_id\":\"%s\","
			    "\"user\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"interval_s\":"
			    "300,\"source\":\"x11-ewmh\",\"apps\":[",
			    en, d->host_id, d->login, st, en);
			for (k = 0; !ret && k < u->n_apps; k++)
				ret =
				    bench_buf_add(g, "%s{\"app\":\"%s\",\"focus_s\":%.1f}",
						  k ? "," : "", app_names[u->app[k]], u->focus[k]);
			if (!ret && u->n_apps) {
				ret = bench_buf_add(
				    g,
				    "],\"unknown_s\":0,\"top_cpu\":[{\"pid\":%u,\"uid\":1000,"
				    "\"app\":\"%s\",\"exe\":\"/usr/bin/%s\",\"cpu_s\":%.2f}]}",
				    2000 + rnd_below(&x, 30000), app_names[d->fav[0]],
				    app_names[d->fav[0]], (double)cpu / 4);
			} else if (!ret) {
				ret = bench_buf_add(g, "],\"unknown_s\":0,\"top_cpu\":[]}");
			}
			u->len = g->len - u->off;
			if (!ret)
				ret = bench_buf_add(g, "\n");
		}
		if (!ret && mnt % 15 == 14) {
			struct sd_rec *s = &r[n++];
			unsigned up = (unsigned)((hour_ms % (7 * SD_DAY_MS)) / 1000) + mnt * 60;
			uint64_t avail_mem = 4294967296ULL + 65536ULL * rnd_below(&x, 100000);
			double load1 = (double)rnd_below(&x, 400) / 100;
			uint64_t avail_fs = 512110190592ULL - 4096ULL * rnd_below(&x, 1000000);

			memset(s, 0, sizeof(*s));
			s->type = R_SYSINFO;
			s->ts = t + 59000;
			rfc3339_ms(s->ts, en);

			s->off = g->len;
			ret = bench_buf_add(
			    g,
			    "{\"type\":\"sysinfo\",\"ts\":\"%s\",\"v\":1,\"host_id\":\"%s\","
			    "\"user\":\"%s\",\"hostname\":\"seed-%05u\",\"os\":{\"name\":"
			    "\"Debian GNU/Linux\",\"id\":\"debian\",\"version_id\":\"12\","
			    "\"pretty_name\":\"Debian GNU/Linux 12 (bookworm)\"},\"kernel\":"
			    "\"6.1.0-18-amd64\",\"cpus\":8,\"cpu_model\":\"Intel(R) Core(TM) "
			    "i7-1165G7 @ 2.80GHz\",\"mem\":{\"total\":17179869184,\"available\":"
			    "%" PRIu64 "},\"uptime_s\":%u,\"load1\":%.2f,\"fs\":[{\"mount\":"
			    "\"/\",\"type\":\"ext4\",\"size\":512110190592,\"avail\":%" PRIu64
			    "}]}",
			    en, d->host_id, d->login, dev_index + 1, avail_mem, up, load1,
			    avail_fs);
			s->len = g->len - s->off;
			if (!ret)
				ret = bench_buf_add(g, "\n");
		}
	}
	return ret;
}

/* "YYYYMMDD-HH" batch id of an hour. */
static void batch_id(int64_t hour_ms, char out[32])
{
	char day[11];

	key_day(hour_ms, day);
	snprintf(out, 32, "seed-%.4s%.2s%.2s-%02u", day, day + 5, day + 8,
		 (unsigned)(hour_ms / SD_HOUR_MS % 24));
}

/* --- seeding: a writer that commits full batches on a second thread --- */

/*
 * The seeder's store batches: the seeding thread fills one while the
 * committer thread commits the one before. A batch keeps the ingest plans
 * whose writes it holds (their update functions run at commit) until it is
 * committed. While the tree is written, flushes wait for their commit:
 * the organisation's writers read the parent node in the batch
 * (node_touch), which must not race the commit of the batch before.
 */
struct writer {
	struct store *st;
	struct store_batch *b;
	struct ingest **plans;
	size_t n_plans, cap_plans, ops;
	bool sync;
	/* the committer */
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_batch *pending;
	struct ingest **pending_plans;
	size_t n_pending_plans;
	bool quit;
	int err;
	uint64_t commits, items;
};

static void plans_free(struct ingest **plans, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ingest_free(plans[i]);
	free(plans);
}

static void *committer(void *arg)
{
	struct writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct store_batch *b;
		struct ingest **plans;
		size_t n;
		int ret;

		while (!w->pending && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->pending)
			break;
		b = w->pending;
		plans = w->pending_plans;
		n = w->n_pending_plans;
		pthread_mutex_unlock(&w->mu);
		ret = store_batch_commit(b);
		plans_free(plans, n);
		pthread_mutex_lock(&w->mu);
		w->pending = NULL;
		w->commits++;
		if (ret && !w->err)
			w->err = ret;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hand the current batch to the committer (waiting while it is busy, and
 * for this commit too when w->sync). 0 or the first commit error. */
static int writer_flush(struct writer *w)
{
	int err;

	if (!w->b)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->pending)
		pthread_cond_wait(&w->cv, &w->mu);
	err = w->err;
	if (err) {
		store_batch_abort(w->b);
		plans_free(w->plans, w->n_plans);
	} else {
		w->pending = w->b;
		w->pending_plans = w->plans;
		w->n_pending_plans = w->n_plans;
		pthread_cond_broadcast(&w->cv);
		while (w->sync && w->pending)
			pthread_cond_wait(&w->cv, &w->mu);
		err = w->err;
	}
	pthread_mutex_unlock(&w->mu);
	w->b = NULL;
	w->plans = NULL;
	w->n_plans = w->cap_plans = 0;
	w->ops = 0;
	return err;
}

/* The batch to add ops operations to (a new one when the current is
 * full). 0 or -errno. */
static int writer_batch(struct writer *w, size_t ops, struct store_batch **b)
{
	int ret;

	if (w->b && w->ops + ops > SD_COMMIT_OPS) {
		ret = writer_flush(w);
		if (ret)
			return ret;
	}
	if (!w->b) {
		ret = store_batch_begin(w->st, &w->b);
		if (ret)
			return ret;
	}
	w->ops += ops;
	w->items += ops;
	*b = w->b;
	return 0;
}

/* Keep ingest plan g (whose writes the current batch holds) until the
 * batch is committed; frees g on failure. 0 or -ENOMEM. */
static int writer_keep(struct writer *w, struct ingest *g)
{
	if (w->n_plans == w->cap_plans) {
		size_t cap = w->cap_plans ? 2 * w->cap_plans : 256;
		struct ingest **n = realloc(w->plans, cap * sizeof(*n));

		if (!n) {
			ingest_free(g);
			return -ENOMEM;
		}
		w->plans = n;
		w->cap_plans = cap;
	}
	w->plans[w->n_plans++] = g;
	return 0;
}

static int writer_start(struct writer *w, struct store *st)
{
	memset(w, 0, sizeof(*w));
	w->st = st;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, committer, w))
		return -EAGAIN;
	w->started = true;
	return 0;
}

/* Flush, wait for the last commit, stop the committer. 0 or the first error. */
static int writer_finish(struct writer *w)
{
	int ret = writer_flush(w);

	pthread_mutex_lock(&w->mu);
	while (w->pending)
		pthread_cond_wait(&w->cv, &w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->th, NULL);
	w->started = false;
	return ret ? ret : w->err;
}

/* --- seeding: the tree, through the organisation's writers --- */

/* t with node id appended to its path. */
static struct target path_below(const struct target *t, const char *id)
{
	struct target c = *t;

	if (c.depth < TREE_DEPTH)
		snprintf(c.path[c.depth++], ID_SIZE, "%s", id);
	return c;
}

/* Nodes, users (with the employee grant), devices with their tokens. */
static int seed_tree(struct srv *s, struct writer *w, struct sd_manifest *m, const char *pw_hash)
{
	char em[64], host[16], hash[TOKEN_HASH_SIZE];
	struct target tb, td, tp;
	struct store_batch *b;
	int64_t now = now_ms();
	unsigned i;
	int ret;

	w->sync = true;
	ret = target_node(s, s->business_id, &tb);
	if (!ret)
		ret = writer_batch(w, 3, &b);
	if (!ret)
		ret = org_node_add(b, m->domain_id, "domain", "Seeded fleet", &tb, now, NULL);
	td = path_below(&tb, m->domain_id);
	if (!ret)
		ret = writer_batch(w, 3, &b);
	if (!ret)
		ret = org_node_add(b, m->project_id, "project", "Seeded", &td, now, NULL);
	tp = path_below(&td, m->project_id);
	for (i = 0; !ret && i < m->teams; i++) {
		ret = writer_batch(w, 3, &b);
		if (!ret)
			ret =
			    org_node_add(b, m->team[i].id, "team", m->team[i].name, &tp, now, NULL);
	}
	for (i = 0; !ret && i < m->machines; i++) {
		struct sd_dev *d = &m->dev[i];
		const char *team = m->team[d->team].id;
		const struct org_user_new u = {d->user_id, em,	    d->login, d->login,
					       team,	   pw_hash, "-"};

		snprintf(em, sizeof(em), "%s@seed.example", d->login);
		snprintf(host, sizeof(host), "seed-%05u", i + 1);
		ret = writer_batch(w, 10, &b);
		if (!ret)
			ret = org_user_add(b, &u, now, NULL);
		if (!ret)
			ret = token_new(TOKEN_PREFIX_DEVICE, d->token, hash);
		if (!ret) {
			/* the device, as a first enrolment writes it, owned by the user */
			const struct org_device_new dv = {d->id,   team,       d->host_id, host,
							  "0.1.0", d->user_id, hash};

			ret = org_device_add(b, &dv, now);
		}
	}
	if (!ret)
		ret = writer_flush(w);
	w->sync = false;
	return ret;
}

/* --- seeding: records, through ingest --- */

struct seed_stats {
	uint64_t records, batches, raw_bytes;
};

/* Every batch of every device of every team, as ingest applies them. */
static int seed_records(struct srv *s, struct writer *w, const struct sd_manifest *m,
			struct seed_stats *stt)
{
	struct sd_rec r[SD_HOUR_LINES + 4];
	struct bench_buf g = {0};
	int64_t now = now_ms();
	unsigned t, i, dd, h;
	char bid[32];
	int ret = 0;

	for (t = 0; !ret && t < m->teams; t++) {
		for (dd = 0; !ret && dd < m->days; dd++) {
			int64_t day_ms = m->end_ms - (int64_t)(m->days - dd) * SD_DAY_MS;

			for (i = 0; !ret && i < m->machines; i++) {
				const struct sd_dev *d = &m->dev[i];
				const struct ingest_source src = {d->id, m->team[t].id, d->user_id};

				if (d->team != t)
					continue;
				for (h = 0; !ret && h < 24; h++) {
					int64_t hour_ms = day_ms + (int64_t)h * SD_HOUR_MS;
					struct store_batch *b;
					struct ingest *plan;

					ret = gen_hour(m, i, hour_ms, &g, r);
					batch_id(hour_ms, bid);
					if (!ret)
						ret = ingest_prepare(s, &src, bid, now, g.p, g.len,
								     &plan);
					if (ret)
						break;
					if (ingest_rejected(plan)) {
						bench_fail("seed: ingest rejected %u generated "
							   "records of batch %s",
							   ingest_rejected(plan), bid);
						ingest_free(plan);
						ret = -EINVAL;
						break;
					}
					stt->records += ingest_accepted(plan);
					stt->raw_bytes += g.len;
					stt->batches++;
					ret = writer_batch(w, ingest_ops(plan), &b);
					if (!ret)
						ret = ingest_add(plan, b);
					if (ret) {
						ingest_free(plan);
						break;
					}
					ret = writer_keep(w, plan);
				}
			}
		}
		bench_note("team %u/%u seeded", t + 1, m->teams);
	}
	free(g.p);
	return ret;
}

/* Midnight UTC of an RFC 3339 time or "YYYY-MM-DD"; -1 when neither. */
static int64_t parse_day(const char *v)
{
	char buf[40];
	int64_t ms;

	if (strlen(v) == 10) {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", v);
		v = buf;
	}
	if (rfc3339_parse(v, &ms))
		return -1;
	return ms / SD_DAY_MS * SD_DAY_MS;
}

/* 1 when dir holds a store (data.mdb): opening a store creates one. */
static bool store_exists(const char *dir)
{
	char p[PATH_MAX];
	struct stat sb;

	if (strlen(dir) > PATH_MAX - 16)
		return false;
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	return !stat(p, &sb);
}

static int cmd_seed(int argc, char **argv)
{
	static const struct option lo[] = {{"data-dir", required_argument, 0, 'd'},
					   {"machines", required_argument, 0, 'm'},
					   {"teams", required_argument, 0, 't'},
					   {"days", required_argument, 0, 'D'},
					   {"end", required_argument, 0, 'e'},
					   {"seed", required_argument, 0, 's'},
					   {"manifest", required_argument, 0, 'M'},
					   {"tree-only", no_argument, 0, 'T'},
					   {"json", no_argument, 0, 'j'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	struct sd_manifest m = {.seed = 1, .machines = 200, .teams = 10, .days = 30};
	const char *dir = NULL, *manifest = NULL;
	char mpath[PATH_MAX], pw_hash[PASSWORD_HASH_SIZE];
	struct seed_stats stt = {0};
	struct store *st = NULL;
	struct writer w;
	bool tree_only = false, srv_ok = false, w_ok = false;
	struct srv s;
	unsigned long u;
	uint64_t t0;
	double secs;
	int c, ret, rc = 1;

	m.end_ms = now_ms() / SD_DAY_MS * SD_DAY_MS;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'm':
			if (bench_opt_uint("machines", optarg, 1, SD_MAX_MACHINES, &u))
				return 2;
			m.machines = (unsigned)u;
			break;
		case 't':
			if (bench_opt_uint("teams", optarg, 1, SD_MAX_TEAMS, &u))
				return 2;
			m.teams = (unsigned)u;
			break;
		case 'D':
			if (bench_opt_uint("days", optarg, 1, SD_MAX_DAYS, &u))
				return 2;
			m.days = (unsigned)u;
			break;
		case 'e':
			m.end_ms = parse_day(optarg);
			if (m.end_ms < 0) {
				bench_fail("--end must be a day (YYYY-MM-DD) or an RFC 3339 time");
				return 2;
			}
			break;
		case 's':
			if (bench_opt_uint("seed", optarg, 0, 1ULL << 52, &u))
				return 2;
			m.seed = u;
			break;
		case 'M':
			manifest = optarg;
			break;
		case 'T':
			tree_only = true;
			break;
		case 'j':
			bench_json = true;
			break;
		case 'h':
			return -1;
		default:
			return 2;
		}
	}
	if (!dir || optind != argc) {
		bench_fail("seed: --data-dir is required (a store made by actlog-server init)");
		return 2;
	}
	if (m.teams > m.machines) {
		bench_fail("seed: --teams %u is more than --machines %u", m.teams, m.machines);
		return 2;
	}
	if (m.end_ms > now_ms() || m.end_ms - (int64_t)m.days * SD_DAY_MS < 946684800000LL) {
		bench_fail("seed: the records must lie between 2000 and now (--end, --days)");
		return 2;
	}
	if (strlen(dir) > PATH_MAX - 64 || (manifest && strlen(manifest) > PATH_MAX - 8)) {
		bench_fail("seed: path too long");
		return 2;
	}
	snprintf(mpath, sizeof(mpath), "%s", manifest ? manifest : "");
	if (!manifest)
		snprintf(mpath, sizeof(mpath), "%s/seed.json", dir);
	if (!store_exists(dir)) {
		bench_fail("seed: no store in %s: make one with actlog-server init first", dir);
		return 1;
	}
	ret = store_open_lmdb(&st, dir, NULL);
	if (ret) {
		bench_fail("seed: cannot open the store in %s: %s", dir, strerror(-ret));
		goto out;
	}
	ret = srv_init(&s, st, NULL, NULL);
	if (ret) {
		bench_fail("seed: %s", strerror(-ret));
		goto out;
	}
	srv_ok = true;
	if (!s.business_id[0]) {
		bench_fail("seed: %s is not initialised (actlog-server init)", dir);
		goto out;
	}
	snprintf(m.business_id, sizeof(m.business_id), "%s", s.business_id);
	ret = manifest_plan(&m);
	if (!ret)
		ret = password_hash(SD_USER_PASSWORD, pw_hash);
	if (ret) {
		bench_fail("seed: %s", strerror(-ret));
		goto out;
	}
	ret = writer_start(&w, st);
	if (ret) {
		bench_fail("seed: cannot start the committer thread");
		goto out;
	}
	w_ok = true;
	t0 = clock_ns(CLOCK_MONOTONIC);
	ret = seed_tree(&s, &w, &m, pw_hash);
	if (!ret)
		ret = writer_flush(&w);
	if (!ret && !tree_only) {
		bench_note("seeding %u machines x %u days (%u teams)", m.machines, m.days, m.teams);
		ret = seed_records(&s, &w, &m, &stt);
	}
	{
		int r2 = writer_finish(&w);

		ret = ret ? ret : r2;
		w_ok = false;
	}
	secs = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	if (ret) {
		bench_fail("seed: writing the store: %s", strerror(-ret));
		goto out;
	}
	ret = manifest_save(&m, mpath);
	if (ret) {
		bench_fail("seed: writing the manifest %s: %s", mpath, strerror(-ret));
		goto out;
	}
	if (bench_json) {
		cJSON *root = cJSON_CreateObject();

		cJSON_AddStringToObject(root, "tool", "actlog-seed");
		cJSON_AddStringToObject(root, "mode", tree_only ? "tree" : "seed");
		cJSON_AddNumberToObject(root, "machines", m.machines);
		cJSON_AddNumberToObject(root, "teams", m.teams);
		cJSON_AddNumberToObject(root, "days", m.days);
		cJSON_AddNumberToObject(root, "records", (double)stt.records);
		cJSON_AddNumberToObject(root, "batches", (double)stt.batches);
		cJSON_AddNumberToObject(root, "items", (double)w.items);
		cJSON_AddNumberToObject(root, "commits", (double)w.commits);
		cJSON_AddNumberToObject(root, "record_bytes", (double)stt.raw_bytes);
		cJSON_AddNumberToObject(root, "seconds", secs);
		cJSON_AddNumberToObject(root, "items_per_s", secs > 0 ? (double)w.items / secs : 0);
		cJSON_AddStringToObject(root, "manifest", mpath);
		print_json(root);
		cJSON_Delete(root);
	} else {
		printf("seeded %s: %u machines, %u teams, %u days: %" PRIu64 " records (%" PRIu64
		       " bytes), %" PRIu64 " items in %" PRIu64 " commits, %.1f s (%.0f items/s)\n"
		       "manifest: %s\n",
		       dir, m.machines, m.teams, m.days, stt.records, stt.raw_bytes, w.items,
		       w.commits, secs, secs > 0 ? (double)w.items / secs : 0, mpath);
	}
	rc = 0;
out:
	if (w_ok)
		writer_finish(&w);
	if (srv_ok)
		srv_fini(&s);
	store_close(st);
	manifest_free(&m);
	return rc;
}

/* --- HTTP client (send, query) --- */

/* A token's rate bucket holds 600 requests (core/srv.c DEFAULT_API_BURST): the
 * query bench signs in again before a run could empty it. */
#define SD_TOKEN_REQUESTS 500

/* --- send: the seed's batches over POST /api/v1/ingest --- */

static int cmd_send(int argc, char **argv)
{
	static const struct option lo[] = {{"url", required_argument, 0, 'u'},
					   {"manifest", required_argument, 0, 'M'},
					   {"json", no_argument, 0, 'j'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *url = NULL, *mpath = NULL;
	struct sd_manifest m = {0};
	struct sd_rec r[SD_HOUR_LINES + 4];
	struct bench_buf g = {0};
	struct httpc c = {0};
	uint64_t batches = 0, accepted = 0, t0;
	unsigned i, dd, h;
	int ch, ret, rc = 1;

	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 'M':
			mpath = optarg;
			break;
		case 'j':
			bench_json = true;
			break;
		case 'h':
			return -1;
		default:
			return 2;
		}
	}
	if (!url || !mpath || optind != argc) {
		bench_fail("send: --url and --manifest are required");
		return 2;
	}
	ret = manifest_load(&m, mpath);
	if (ret) {
		bench_fail("send: %s: %s", mpath,
			   ret == -EINVAL ? "not a manifest of actlog-seed" : strerror(-ret));
		goto out;
	}
	ret = httpc_open(&c, url, SD_RESP_MAX, 0);
	if (ret) {
		bench_fail("send: %s", strerror(-ret));
		goto out;
	}
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (i = 0; i < m.machines; i++) {
		char auth[128];

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", m.dev[i].token);
		for (dd = 0; dd < m.days; dd++)
			for (h = 0; h < 24; h++) {
				int64_t hour_ms = m.end_ms - (int64_t)(m.days - dd) * SD_DAY_MS +
						  (int64_t)h * SD_HOUR_MS;
				struct curl_slist *hd = NULL;
				char bid[32], hb[64];
				uint8_t *z = NULL;
				size_t zl = 0;
				long st;
				cJSON *a;

				ret = gen_hour(&m, i, hour_ms, &g, r);
				if (!ret)
					ret = gz_compress(g.p, g.len, 6, &z, &zl);
				if (ret) {
					bench_fail("send: %s", strerror(-ret));
					goto out;
				}
				batch_id(hour_ms, bid);
				snprintf(hb, sizeof(hb), "X-Batch-Id: %s", bid);
				hd = curl_slist_append(hd, auth);
				hd = curl_slist_append(hd, hb);
				hd = curl_slist_append(hd, "Content-Encoding: gzip");
				hd = curl_slist_append(hd, "Content-Type: application/x-ndjson");
				hd = curl_slist_append(hd, "Expect:");
				st = httpc_do(&c, "POST", "/api/v1/ingest", hd, z, zl);
				curl_slist_free_all(hd);
				free(z);
				a = cJSON_Parse(c.resp);
				if (st != 200 || jint(a, "accepted", -1) != SD_HOUR_LINES) {
					bench_fail("send: batch %s of %s: status %ld: %.300s", bid,
						   m.dev[i].id, st, c.resp);
					cJSON_Delete(a);
					goto out;
				}
				accepted += SD_HOUR_LINES;
				batches++;
				cJSON_Delete(a);
			}
	}
	if (bench_json) {
		cJSON *root = cJSON_CreateObject();

		cJSON_AddStringToObject(root, "tool", "actlog-seed");
		cJSON_AddStringToObject(root, "mode", "send");
		cJSON_AddNumberToObject(root, "batches", (double)batches);
		cJSON_AddNumberToObject(root, "records", (double)accepted);
		cJSON_AddNumberToObject(root, "seconds",
					(double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
		print_json(root);
		cJSON_Delete(root);
	} else {
		printf("sent %" PRIu64 " batches, %" PRIu64 " records accepted, in %.1f s\n",
		       batches, accepted, (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	}
	rc = 0;
out:
	httpc_close(&c);
	free(g.p);
	manifest_free(&m);
	return rc;
}

/* --- dump: RECORDS, ROLLUPS and latest sysinfo, one item a line --- */

static int dump_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	const char *table = ctx;

	if (!strcmp(table, "devices") && strcmp(sk, "sysinfo"))
		return 0;
	printf("%s\t%s\t%s\t%.*s\n", table, pk, sk, (int)len, (const char *)val);
	return 0;
}

static int cmd_dump(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *dir = NULL;
	struct store *st = NULL;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			return -1;
		default:
			return 2;
		}
	}
	if (!dir || optind != argc) {
		bench_fail("dump: --data-dir is required");
		return 2;
	}
	if (!store_exists(dir)) {
		bench_fail("dump: no store in %s", dir);
		return 1;
	}
	ret = store_open_lmdb(&st, dir, NULL);
	if (!ret)
		ret = store_scan(st, STORE_T_RECORDS, dump_item, "records");
	if (ret >= 0)
		ret = store_scan(st, STORE_T_ROLLUPS, dump_item, "rollups");
	if (ret >= 0)
		ret = store_scan(st, STORE_T_DEVICES, dump_item, "devices");
	store_close(st);
	if (ret < 0) {
		bench_fail("dump: %s: %s", dir, strerror(-ret));
		return 1;
	}
	return fflush(stdout) ? 1 : 0;
}

/* --- query: the dashboard's questions, three ways --- */

#define TOP_NAME 136 /* an app name as ingest keeps it (128 bytes) */
#define TOP_MAX_APPS 4096

/* Focus time per app. */
struct topapps {
	struct {
		char name[TOP_NAME];
		int64_t ms;
	} * e;
	size_t n, cap;
	uint64_t items; /* items read to make it */
};

static int top_add(struct topapps *t, const char *name, int64_t ms)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name)) {
			t->e[i].ms += ms;
			return 0;
		}
	if (t->n == TOP_MAX_APPS || strlen(name) >= TOP_NAME)
		return -E2BIG;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		void *n = realloc(t->e, cap * sizeof(*t->e));

		if (!n)
			return -ENOMEM;
		t->e = n;
		t->cap = cap;
	}
	strcpy(t->e[t->n].name, name);
	t->e[t->n++].ms = ms;
	return 0;
}

/* most focus first, ties by name (model/query.c app_cmp) */
static int top_cmp(const void *a, const void *b)
{
	const struct topapps *dummy = NULL;
	const __typeof__(dummy->e[0]) *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void top_reset(struct topapps *t)
{
	t->n = 0;
	t->items = 0;
}

/* One user's day by hour: the activity counters. */
struct day_series {
	int64_t c[24][RA__N];
	uint64_t items;
};

/* Latest sysinfo time of each device of a team. */
struct sys_latest {
	size_t n;
	int64_t ts[SD_MAX_MACHINES];
	uint64_t items;
};

struct qctx {
	struct store *st;
	const struct sd_manifest *m;
	int64_t from, to; /* the 30-day range */
	/* scratch */
	char (*devs)[ID_SIZE];
	size_t n_devs;
	int64_t lo, hi; /* record filter: start in [lo, hi) */
	const char *uid;
	struct topapps *top;
	struct day_series *day;
	int64_t day_ms;
};

static int collect_dev(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct qctx *q = ctx;

	(void)pk;
	(void)val;
	(void)len;
	if (q->n_devs < SD_MAX_MACHINES && strlen(sk) < ID_SIZE)
		strcpy(q->devs[q->n_devs++], sk);
	return 0;
}

/* The devices of a team, from the store's index (DEVICES "team|<id>"). */
static int team_devices(struct qctx *q, const char *team)
{
	struct key pk;
	int ret;

	q->n_devs = 0;
	ret = store_query(q->st, STORE_T_DEVICES, key_team_index(&pk, team), NULL, NULL,
			  SD_MAX_MACHINES, 0, collect_dev, q);
	return ret < 0 ? ret : 0;
}

/* "HH" of a rollup sort key "act|HH" / "app|HH|name"; -1 when malformed. */
static int sk_hour(const char *sk)
{
	if (strlen(sk) < 6 || sk[3] != '|' || sk[4] < '0' || sk[4] > '2' || sk[5] < '0' ||
	    sk[5] > '9')
		return -1;
	return (sk[4] - '0') * 10 + (sk[5] - '0');
}

/* rollups: team app items of one day partition (q->day_ms) in [lo, hi) */
static int roll_app_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct qctx *q = ctx;
	int hh = sk_hour(sk);
	int64_t t = q->day_ms + (int64_t)hh * SD_HOUR_MS;
	cJSON *j;
	int ret;

	(void)pk;
	q->top->items++;
	if (hh < 0 || t < q->lo || t >= q->hi || strlen(sk) < 8)
		return 0;
	j = cJSON_ParseWithLength(val, len);
	ret = top_add(q->top, sk + 7, jint(j, "focus_ms", 0));
	cJSON_Delete(j);
	return ret;
}

static int roll_top(struct qctx *q, const char *team, struct topapps *t)
{
	struct key pk;
	int ret = 0;

	top_reset(t);
	q->top = t;
	q->lo = q->from;
	q->hi = q->to;
	for (q->day_ms = q->from / SD_DAY_MS * SD_DAY_MS; !ret && q->day_ms < q->to;
	     q->day_ms += SD_DAY_MS) {
		ret =
		    store_query(q->st, STORE_T_ROLLUPS, key_rollup_pk(&pk, "team", team, q->day_ms),
				SK_ROLLUP_APP_PREFIX, NULL, 0, STORE_PREFIX, roll_app_item, q);
		ret = ret < 0 ? ret : 0;
	}
	return ret;
}

static int roll_act_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct qctx *q = ctx;
	int hh = sk_hour(sk), i;
	cJSON *j;

	(void)pk;
	q->day->items++;
	if (hh < 0 || hh > 23)
		return 0;
	j = cJSON_ParseWithLength(val, len);
	for (i = 0; i < RA__N; i++)
		q->day->c[hh][i] += jint(j, rollup_act_names[i], 0);
	cJSON_Delete(j);
	return 0;
}

static int roll_day(struct qctx *q, const char *uid, int64_t day_ms, struct day_series *d)
{
	struct key pk;
	int ret;

	memset(d, 0, sizeof(*d));
	q->day = d;
	ret = store_query(q->st, STORE_T_ROLLUPS, key_rollup_pk(&pk, "user", uid, day_ms),
			  SK_ROLLUP_ACT_PREFIX, NULL, 0, STORE_PREFIX, roll_act_item, q);
	return ret < 0 ? ret : 0;
}

static int64_t value_ts(const void *val, size_t len, const char *field)
{
	cJSON *j = cJSON_ParseWithLength(val, len);
	int64_t ms = -1;

	if (jstr(j, field) && rfc3339_parse(jstr(j, field), &ms))
		ms = -1;
	cJSON_Delete(j);
	return ms;
}

static int roll_sysinfo(struct qctx *q, const char *team, struct sys_latest *out)
{
	size_t i;
	int ret = team_devices(q, team);

	out->n = 0;
	out->items = 0;
	for (i = 0; !ret && i < q->n_devs; i++) {
		void *v = NULL;
		size_t len;

		ret = store_get(q->st, STORE_T_DEVICES, q->devs[i], SK_SYSINFO, &v, &len);
		out->ts[out->n++] = ret ? -1 : value_ts(v, len, "ts");
		out->items++;
		free(v);
		if (ret == -ENOENT)
			ret = 0;
	}
	return ret;
}

/* raw: app_usage records whose start is in [lo, hi) */
static int raw_app_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct qctx *q = ctx;
	cJSON *j = cJSON_ParseWithLength(val, len);
	const cJSON *a;
	int64_t start;
	int ret = 0;

	(void)pk;
	(void)sk;
	q->top->items++;
	/* ingest rolls an app_usage record up in the hour of its start, else of ts */
	if ((!jstr(j, "start") || rfc3339_parse(jstr(j, "start"), &start)) &&
	    (!jstr(j, "ts") || rfc3339_parse(jstr(j, "ts"), &start))) {
		cJSON_Delete(j);
		return 0;
	}
	if (start / SD_HOUR_MS * SD_HOUR_MS >= q->lo && start < q->hi) {
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "apps"))
		{
			const cJSON *f = cJSON_GetObjectItemCaseSensitive(a, "focus_s");

			if (!jstr(a, "app") || !cJSON_IsNumber(f))
				continue;
			ret =
			    top_add(q->top, jstr(a, "app"), (int64_t)(f->valuedouble * 1000 + 0.5));
			if (ret)
				break;
		}
	}
	cJSON_Delete(j);
	return ret;
}

/* Records of a type of every device of q->devs, partitions of the days
 * from lo's to hi's (records are partitioned by ts, which follows start). */
static int raw_scan(struct qctx *q, const char *type, store_item_fn fn)
{
	struct key pk;
	int64_t d;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < q->n_devs; i++)
		for (d = q->lo / SD_DAY_MS * SD_DAY_MS; !ret && d <= q->hi; d += SD_DAY_MS) {
			ret = store_query(q->st, STORE_T_RECORDS,
					  key_record_pk(&pk, q->devs[i], type, d), NULL, NULL, 0, 0,
					  fn, q);
			ret = ret < 0 ? ret : 0;
		}
	return ret;
}

static int raw_top(struct qctx *q, const char *team, struct topapps *t)
{
	int ret = team_devices(q, team);

	top_reset(t);
	q->top = t;
	q->lo = q->from;
	q->hi = q->to;
	return ret ? ret : raw_scan(q, "app_usage", raw_app_item);
}

/* raw: activity records of user q->uid whose start is in [lo, hi) */
static int raw_act_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct qctx *q = ctx;
	cJSON *j = cJSON_ParseWithLength(val, len);
	int64_t start;
	int i;

	(void)pk;
	(void)sk;
	q->day->items++;
	if (jstr(j, "user_id") && !strcmp(jstr(j, "user_id"), q->uid) && jstr(j, "start") &&
	    !rfc3339_parse(jstr(j, "start"), &start) && start >= q->lo && start < q->hi) {
		int hh = (int)((start - q->lo) / SD_HOUR_MS);

		for (i = 0; i < RA_RECORDS; i++)
			q->day->c[hh][i] += jint(j, rollup_act_names[i], 0);
		q->day->c[hh][RA_RECORDS]++;
	}
	cJSON_Delete(j);
	return 0;
}

/* A user's day from the raw records of every device of their team (a
 * record's user is known only from the record). */
static int raw_day(struct qctx *q, const char *team, const char *uid, int64_t day_ms,
		   struct day_series *d)
{
	int ret = team_devices(q, team);

	memset(d, 0, sizeof(*d));
	q->day = d;
	q->uid = uid;
	q->lo = day_ms;
	q->hi = day_ms + SD_DAY_MS;
	return ret ? ret : raw_scan(q, "activity", raw_act_item);
}

struct newest {
	int64_t ts;
	uint64_t items;
};

static int newest_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct newest *n = ctx;

	(void)pk;
	(void)sk;
	n->items++;
	n->ts = value_ts(val, len, "ts");
	return 1;
}

/* The newest sysinfo record of each device of the team: its partitions
 * read newest day first, the last item of the first one that has any. */
static int raw_sysinfo(struct qctx *q, const char *team, struct sys_latest *out)
{
	struct key pk;
	size_t i;
	int ret = team_devices(q, team);

	out->n = 0;
	out->items = 0;
	for (i = 0; !ret && i < q->n_devs; i++) {
		struct newest n = {.ts = -1};
		int64_t d;

		for (d = q->to / SD_DAY_MS * SD_DAY_MS; n.ts < 0 && d >= q->from - SD_DAY_MS;
		     d -= SD_DAY_MS) {
			ret = store_query(q->st, STORE_T_RECORDS,
					  key_record_pk(&pk, q->devs[i], "sysinfo", d), NULL, NULL,
					  1, STORE_REVERSE, newest_item, &n);
			if (ret < 0)
				break;
			ret = 0;
		}
		out->ts[out->n++] = n.ts;
		out->items += n.items;
	}
	return ret;
}

/* --- the HTTP side --- */

static long q_http_top(struct httpc *c, const struct qctx *q, const char *team)
{
	char path[256];

	snprintf(path, sizeof(path),
		 "/api/v1/apps/top?node_id=%s&from=%" PRId64 "&to=%" PRId64 "&limit=%d", team,
		 q->from, q->to, SD_TOP);
	return httpc_get(c, path);
}

static long q_http_day(struct httpc *c, const char *uid, int64_t day_ms)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/users/%s/activity?from=%" PRId64 "&to=%" PRId64, uid,
		 day_ms, (int64_t)(day_ms + SD_DAY_MS));
	return httpc_get(c, path);
}

/* The devices list of a team, then the latest sysinfo of each (an empty
 * history range: only `latest` is wanted). out may be NULL. Returns 200 or
 * the first other status. */
static long q_http_sysinfo(struct httpc *c, const struct qctx *q, const char *team,
			   struct sys_latest *out, unsigned *requests)
{
	char path[256], ids[SD_MAX_MACHINES > 1000 ? 1000 : SD_MAX_MACHINES][ID_SIZE];
	const cJSON *d;
	size_t n = 0, i;
	cJSON *a;
	long st;

	snprintf(path, sizeof(path), "/api/v1/devices?node_id=%s", team);
	st = httpc_get(c, path);
	*requests = 1;
	if (st != 200)
		return st;
	a = cJSON_Parse(c->resp);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(a, "devices"))
	{
		if (n < sizeof(ids) / sizeof(ids[0]) && jstr(d, "id") &&
		    strlen(jstr(d, "id")) < ID_SIZE)
			strcpy(ids[n++], jstr(d, "id"));
	}
	cJSON_Delete(a);
	if (out)
		out->n = 0;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path),
			 "/api/v1/devices/%s/sysinfo?from=%" PRId64 "&to=%" PRId64, ids[i], q->to,
			 q->to);
		st = httpc_get(c, path);
		(*requests)++;
		if (st != 200)
			return st;
		if (out) {
			cJSON *l;

			a = cJSON_Parse(c->resp);
			l = cJSON_GetObjectItemCaseSensitive(a, "latest");
			out->ts[out->n] = -1;
			if (jstr(l, "ts") && rfc3339_parse(jstr(l, "ts"), &out->ts[out->n]))
				out->ts[out->n] = -1;
			out->n++;
			cJSON_Delete(a);
		}
	}
	return 200;
}

/* --- agreement of the three answers --- */

static bool top_equal_http(struct topapps *t, const char *json)
{
	cJSON *a = cJSON_Parse(json);
	const cJSON *e;
	size_t i = 0;
	bool ok = true;

	qsort(t->e, t->n, sizeof(*t->e), top_cmp);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(a, "apps"))
	{
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "focus_s");

		if (i >= t->n || !jstr(e, "app") || strcmp(jstr(e, "app"), t->e[i].name) ||
		    !cJSON_IsNumber(f) || (int64_t)(f->valuedouble * 1000 + 0.5) != t->e[i].ms)
			ok = false;
		i++;
	}
	if (i != (t->n < SD_TOP ? t->n : SD_TOP))
		ok = false;
	cJSON_Delete(a);
	return ok;
}

static bool day_equal_http(const struct day_series *d, const char *json)
{
	cJSON *a = cJSON_Parse(json);
	const cJSON *p;
	size_t h = 0;
	bool ok = true;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(a, "series"))
	{
		for (int i = 0; ok && h < 24 && i < RA__N; i++)
			if (jint(p, rollup_act_names[i], -1) != d->c[h][i])
				ok = false;
		h++;
	}
	cJSON_Delete(a);
	return ok && h == 24;
}

static bool day_equal(const struct day_series *a, const struct day_series *b)
{
	return !memcmp(a->c, b->c, sizeof(a->c));
}

static bool top_equal(struct topapps *a, struct topapps *b)
{
	size_t i;

	qsort(a->e, a->n, sizeof(*a->e), top_cmp);
	qsort(b->e, b->n, sizeof(*b->e), top_cmp);
	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->e[i].name, b->e[i].name) || a->e[i].ms != b->e[i].ms)
			return false;
	return true;
}

static bool latest_equal(const struct sys_latest *a, const struct sys_latest *b)
{
	return a->n == b->n && !memcmp(a->ts, b->ts, a->n * sizeof(a->ts[0]));
}

/* --- timing --- */

enum { Q_TOP, Q_DAY, Q_SYS, Q__N };
static const char *const q_names[Q__N] = {"apps_top_team", "user_day_timeline",
					  "team_latest_sysinfo"};
static const char *const q_what[Q__N] = {
    "GET /apps/top?node_id=<team> over the whole range (--days), limit 10",
    "GET /users/<id>/activity, one day by hour",
    "GET /devices?node_id=<team>, then GET /devices/<id>/sysinfo for each (latest only)"};

enum { W_HTTP, W_ROLLUP, W_RAW, W__N };
static const char *const w_names[W__N] = {"http", "rollup", "raw"};

struct series_t {
	double *ms;
	size_t n;
	uint64_t items; /* store items read, summed over runs */
	unsigned requests;
};

/* The day of run k: the days of the range in turn, newest first. */
static int64_t run_day(const struct qctx *q, unsigned k)
{
	return q->to - (int64_t)(1 + k % q->m->days) * SD_DAY_MS;
}

/* Run query qi by way wi for run k (team k % teams, user k % machines).
 * 0, or -errno, or an HTTP status over 299 as a positive number. */
static int run_one(struct qctx *q, struct httpc *c, int qi, int wi, unsigned k, uint64_t *items,
		   unsigned *requests, struct topapps *t, struct day_series *d,
		   struct sys_latest *sl)
{
	const struct sd_manifest *m = q->m;
	const char *team = m->team[k % m->teams].id;
	const struct sd_dev *u = &m->dev[k % m->machines];
	long st = 200;
	int ret = 0;

	*items = 0;
	*requests = 1;
	switch (qi * W__N + wi) {
	case Q_TOP *W__N + W_HTTP:
		st = q_http_top(c, q, team);
		break;
	case Q_TOP *W__N + W_ROLLUP:
		ret = roll_top(q, team, t);
		*items = t->items;
		break;
	case Q_TOP *W__N + W_RAW:
		ret = raw_top(q, team, t);
		*items = t->items;
		break;
	case Q_DAY *W__N + W_HTTP:
		st = q_http_day(c, u->user_id, run_day(q, k));
		break;
	case Q_DAY *W__N + W_ROLLUP:
		ret = roll_day(q, u->user_id, run_day(q, k), d);
		*items = d->items;
		break;
	case Q_DAY *W__N + W_RAW:
		ret = raw_day(q, m->team[u->team].id, u->user_id, run_day(q, k), d);
		*items = d->items;
		break;
	case Q_SYS *W__N + W_HTTP:
		st = q_http_sysinfo(c, q, team, NULL, requests);
		break;
	case Q_SYS *W__N + W_ROLLUP:
		ret = roll_sysinfo(q, team, sl);
		*items = sl->items;
		break;
	case Q_SYS *W__N + W_RAW:
		ret = raw_sysinfo(q, team, sl);
		*items = sl->items;
		break;
	}
	if (st < 0)
		return -EHOSTUNREACH;
	if (st != 200)
		return (int)st;
	return ret;
}

static int cmd_query(int argc, char **argv)
{
	static const struct option lo[] = {{"url", required_argument, 0, 'u'},
					   {"email", required_argument, 0, 'e'},
					   {"password-file", required_argument, 0, 'p'},
					   {"manifest", required_argument, 0, 'M'},
					   {"data-dir", required_argument, 0, 'd'},
					   {"runs", required_argument, 0, 'r'},
					   {"raw-runs", required_argument, 0, 'R'},
					   {"json", no_argument, 0, 'j'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *url = NULL, *email = NULL, *pwfile = NULL, *mpath = NULL, *dir = NULL;
	unsigned runs = 200, raw_runs = 20, k;
	struct sd_manifest m = {0};
	struct series_t ser[Q__N][W__N];
	struct topapps t1 = {0}, t2 = {0};
	struct day_series *d1 = NULL, *d2 = NULL;
	struct sys_latest *s1 = NULL, *s2 = NULL;
	bool match[Q__N] = {0};
	struct qctx q = {0};
	struct httpc c = {0};
	unsigned long u;
	char *pw = NULL;
	int ch, ret, rc = 1, qi, wi;

	memset(ser, 0, sizeof(ser));
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 'e':
			email = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'M':
			mpath = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'r':
			if (bench_opt_uint("runs", optarg, 1, SD_MAX_RUNS, &u))
				return 2;
			runs = (unsigned)u;
			break;
		case 'R':
			if (bench_opt_uint("raw-runs", optarg, 1, SD_MAX_RUNS, &u))
				return 2;
			raw_runs = (unsigned)u;
			break;
		case 'j':
			bench_json = true;
			break;
		case 'h':
			return -1;
		default:
			return 2;
		}
	}
	if (!url || !email || !pwfile || !mpath || !dir || optind != argc) {
		bench_fail("query: --url, --email, --password-file, --manifest and --data-dir are "
			   "required");
		return 2;
	}
	if (!store_exists(dir)) {
		bench_fail("query: no store in %s", dir);
		return 1;
	}
	ret = read_secret_line(pwfile, SD_PW_MAX, &pw);
	if (ret) {
		bench_fail("query: cannot read %s: %s", pwfile, strerror(-ret));
		return 1;
	}
	ret = manifest_load(&m, mpath);
	if (ret) {
		bench_fail("query: %s: %s", mpath,
			   ret == -EINVAL ? "not a manifest of actlog-seed" : strerror(-ret));
		goto out;
	}
	d1 = calloc(1, sizeof(*d1));
	d2 = calloc(1, sizeof(*d2));
	s1 = calloc(1, sizeof(*s1));
	s2 = calloc(1, sizeof(*s2));
	q.devs = calloc(SD_MAX_MACHINES, sizeof(*q.devs));
	for (qi = 0; qi < Q__N; qi++)
		for (wi = 0; wi < W__N; wi++)
			ser[qi][wi].ms = calloc(runs > raw_runs ? runs : raw_runs, sizeof(double));
	if (!d1 || !d2 || !s1 || !s2 || !q.devs) {
		bench_fail("query: out of memory");
		goto out;
	}
	ret = store_open_lmdb(&q.st, dir, NULL);
	if (ret) {
		bench_fail("query: cannot open the store in %s: %s", dir, strerror(-ret));
		goto out;
	}
	q.m = &m;
	q.to = m.end_ms;
	q.from = m.end_ms - (int64_t)m.days * SD_DAY_MS;
	ret = httpc_open(&c, url, SD_RESP_MAX, 0);
	if (!ret)
		ret = httpc_login(&c, email, pw);
	if (ret) {
		bench_fail("query: signing in to %s as %s: %s", url, email,
			   ret == -EACCES ? "refused" : strerror(-ret));
		goto out;
	}

	/* the answers first: HTTP, rollups in process and raw records agree */
	match[Q_TOP] = match[Q_DAY] = match[Q_SYS] = true;
	for (k = 0; k < 3 && k < m.teams; k++) {
		const char *team = m.team[k].id;
		const struct sd_dev *usr = &m.dev[k * m.machines / m.teams];
		/* a weekday of the range: activity to compare */
		int64_t day = q.to - SD_DAY_MS;
		unsigned reqs;

		while ((day / SD_DAY_MS + 4) % 7 == 0 || (day / SD_DAY_MS + 4) % 7 == 6)
			day -= SD_DAY_MS;
		if (day < q.from)
			day = q.from;
		if (q_http_top(&c, &q, team) != 200 || roll_top(&q, team, &t1) ||
		    raw_top(&q, team, &t2) || !top_equal_http(&t1, c.resp) || !top_equal(&t1, &t2))
			match[Q_TOP] = false;
		if (q_http_day(&c, usr->user_id, day) != 200 ||
		    roll_day(&q, usr->user_id, day, d1) ||
		    raw_day(&q, team, usr->user_id, day, d2) || !day_equal_http(d1, c.resp) ||
		    !day_equal(d1, d2))
			match[Q_DAY] = false;
		if (q_http_sysinfo(&c, &q, team, s1, &reqs) != 200 || roll_sysinfo(&q, team, s2) ||
		    !latest_equal(s1, s2) || raw_sysinfo(&q, team, s1) || !latest_equal(s1, s2))
			match[Q_SYS] = false;
	}

	/* then the clock */
	for (qi = 0; qi < Q__N; qi++)
		for (wi = 0; wi < W__N; wi++) {
			struct series_t *se = &ser[qi][wi];
			unsigned n = wi == W_RAW ? raw_runs : runs, w;

			bench_note("timing %s (%s), %u runs", q_names[qi], w_names[wi], n);
			for (w = 0; w < SD_WARMUP + n; w++) {
				uint64_t items, t0;
				unsigned reqs;

				/* a fresh token (rate bucket) before this one could run dry */
				if (wi == W_HTTP &&
				    c.used + 2 + m.machines / m.teams > SD_TOKEN_REQUESTS) {
					ret = httpc_login(&c, email, pw);
					if (ret) {
						bench_fail("query: signing in again: %s",
							   strerror(-ret));
						goto out;
					}
				}
				t0 = clock_ns(CLOCK_MONOTONIC);
				ret = run_one(&q, &c, qi, wi, w, &items, &reqs, &t1, d1, s1);
				if (ret) {
					bench_fail("query: %s (%s): %s", q_names[qi], w_names[wi],
						   ret > 0 ? c.resp : strerror(-ret));
					goto out;
				}
				if (w < SD_WARMUP)
					continue;
				se->ms[se->n++] = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
				se->items += items;
				se->requests = reqs;
			}
		}

	if (bench_json) {
		cJSON *root = cJSON_CreateObject(), *ds, *arr;

		cJSON_AddStringToObject(root, "tool", "actlog-seed");
		cJSON_AddStringToObject(root, "mode", "query");
		ds = cJSON_AddObjectToObject(root, "dataset");
		cJSON_AddNumberToObject(ds, "machines", m.machines);
		cJSON_AddNumberToObject(ds, "teams", m.teams);
		cJSON_AddNumberToObject(ds, "days", m.days);
		cJSON_AddNumberToObject(root, "runs", runs);
		cJSON_AddNumberToObject(root, "raw_runs", raw_runs);
		arr = cJSON_AddArrayToObject(root, "queries");
		for (qi = 0; qi < Q__N; qi++) {
			cJSON *e = cJSON_CreateObject();
			double p50[W__N];

			cJSON_AddStringToObject(e, "name", q_names[qi]);
			cJSON_AddStringToObject(e, "what", q_what[qi]);
			cJSON_AddNumberToObject(e, "http_requests_per_run",
						ser[qi][W_HTTP].requests);
			for (wi = 0; wi < W__N; wi++) {
				struct series_t *se = &ser[qi][wi];
				char k50[32], k99[32], kmax[32], kit[32];

				p50[wi] = bench_quantile(se->ms, se->n, 0.50);
				snprintf(k50, sizeof(k50), "%s_p50_ms", w_names[wi]);
				snprintf(k99, sizeof(k99), "%s_p99_ms", w_names[wi]);
				snprintf(kmax, sizeof(kmax), "%s_max_ms", w_names[wi]);
				snprintf(kit, sizeof(kit), "%s_items_per_run", w_names[wi]);
				cJSON_AddNumberToObject(e, k50, p50[wi]);
				cJSON_AddNumberToObject(e, k99,
							bench_quantile(se->ms, se->n, 0.99));
				cJSON_AddNumberToObject(e, kmax, se->n ? se->ms[se->n - 1] : 0);
				if (wi != W_HTTP)
					cJSON_AddNumberToObject(
					    e, kit, se->n ? (double)se->items / (double)se->n : 0);
			}
			cJSON_AddNumberToObject(e, "raw_over_rollup_p50",
						p50[W_ROLLUP] > 0 ? p50[W_RAW] / p50[W_ROLLUP] : 0);
			cJSON_AddBoolToObject(e, "answers_match", match[qi]);
			cJSON_AddItemToArray(arr, e);
		}
		print_json(root);
		cJSON_Delete(root);
	} else {
		printf("%u machines, %u teams, %u days; %u runs (raw scans: %u)\n", m.machines,
		       m.teams, m.days, runs, raw_runs);
		printf("%-22s %10s %10s %10s %10s %10s %10s %8s\n", "query", "http p50", "http p99",
		       "rollup p50", "rollup p99", "raw p50", "raw p99", "agree");
		for (qi = 0; qi < Q__N; qi++) {
			double v[W__N][2];

			for (wi = 0; wi < W__N; wi++) {
				v[wi][0] = bench_quantile(ser[qi][wi].ms, ser[qi][wi].n, 0.50);
				v[wi][1] = bench_quantile(ser[qi][wi].ms, ser[qi][wi].n, 0.99);
			}
			printf("%-22s %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f %8s\n", q_names[qi],
			       v[0][0], v[0][1], v[1][0], v[1][1], v[2][0], v[2][1],
			       match[qi] ? "yes" : "NO");
		}
	}
	rc = match[Q_TOP] && match[Q_DAY] && match[Q_SYS] ? 0 : 1;
	if (rc)
		bench_note("the answers disagree (see \"answers_match\")");
out:
	httpc_close(&c);
	store_close(q.st);
	for (qi = 0; qi < Q__N; qi++)
		for (wi = 0; wi < W__N; wi++)
			free(ser[qi][wi].ms);
	free(t1.e);
	free(t2.e);
	free(d1);
	free(d2);
	free(s1);
	free(s2);
	free(q.devs);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	manifest_free(&m);
	return rc;
}

/* --- main --- */

static const char usage_text[] =
    "usage: actlog-seed seed --data-dir DIR [--machines N] [--teams N] [--days N]\n"
    "                        [--end YYYY-MM-DD] [--seed N] [--manifest FILE] [--tree-only]\n"
    "                        [--json]\n"
    "       actlog-seed send --url URL --manifest FILE [--json]\n"
    "       actlog-seed dump --data-dir DIR\n"
    "       actlog-seed query --url URL --email EMAIL --password-file FILE\n"
    "                         --manifest FILE --data-dir DIR [--runs N] [--raw-runs N]\n"
    "                         [--json]\n"
    "seed   writes a dataset into a store made by actlog-server init (server stopped):\n"
    "       --machines (default 200, at most 5000) users and devices in --teams teams\n"
    "       (default 10), --days days (default 30, at most 400) of records ending at\n"
    "       --end (default: today 00:00 UTC), ids from --seed (default 1); one\n"
    "       activity record a minute, app_usage every 5 and sysinfo every 15 minutes,\n"
    "       with the rollups ingest keeps. --tree-only: users and devices only. The\n"
    "       manifest (default DIR/seed.json, 0600) holds the device tokens.\n"
    "send   sends the dataset of a --tree-only manifest to URL's ingest route.\n"
    "dump   prints RECORDS, ROLLUPS and the devices' latest sysinfo, one a line.\n"
    "query  times the dashboard's queries over HTTP (--runs, default 200), from the\n"
    "       rollups in process and from raw records in process (--raw-runs, default\n"
    "       20), and checks that the three answers agree (exit status 1 if not).\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int i, rc;

	bench_prog = "actlog-seed";
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			bench_json = true;
	if (!cmd || !strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, cmd ? stdout : stderr);
		return cmd ? 0 : 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		bench_fail("libcurl initialisation failed");
		return 1;
	}
	if (!strcmp(cmd, "seed"))
		rc = cmd_seed(argc - 1, argv + 1);
	else if (!strcmp(cmd, "send"))
		rc = cmd_send(argc - 1, argv + 1);
	else if (!strcmp(cmd, "dump"))
		rc = cmd_dump(argc - 1, argv + 1);
	else if (!strcmp(cmd, "query"))
		rc = cmd_query(argc - 1, argv + 1);
	else {
		bench_fail("unknown command '%s' (try --help)", cmd);
		rc = 2;
	}
	if (rc == -1) { /* --help of a command */
		fputs(usage_text, stdout);
		rc = 0;
	} else if (rc == 2 && !bench_json) {
		fputs("actlog-seed: try 'actlog-seed --help'\n", stderr);
	}
	curl_global_cleanup();
	return rc;
}
