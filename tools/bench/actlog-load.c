// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-load - ingest load: many enrolled agents sending gzip NDJSON
 * batches to a running actlog-server at once.
 *
 * Set-up (over the API, as an administrator): sign in (or take --token),
 * create a domain, a project and a team under the first business (or use
 * --team), create --users users in it (their logins are the records'
 * "user", so records map to people), an enrollment secret, and enroll
 * --devices devices (POST /api/v1/enroll). Enrollment is rate-limited per
 * client address (30, then one per 20 s): against a loopback server the
 * enrollments are spread over source addresses 127.0.0.2, .3, ... (25 each).
 *
 * Batches: --batches batches of --records records each, made and compressed
 * (gzip, --gzip-level, the agent's 6 by default) before the clock starts,
 * so the figures are the server's. Each batch holds the agent's record
 * shapes (user/agent/record.c) on the device's own timeline: one activity record
 * a minute, an app_usage record every five minutes (three apps), and
 * process exec/exit records in between; each has its own X-Batch-Id.
 *
 * Run: --concurrency requests in flight (libcurl multi, one thread, kept-
 * alive connections); like an agent, a device has at most one batch in
 * flight. Each batch is sent once: an error (any status but 200, or a
 * transport failure) is counted by status, not retried. Stops when all
 * batches are answered, after --duration seconds, or on SIGINT or SIGTERM
 * (the batches in flight are answered, then the report).
 *
 * Report: accepted events per second (records the server acknowledged as
 * accepted, over the wall time of the run), batches per second, batch
 * latency (request start to full answer) p50/p99/max, errors by status,
 * the tool's own CPU time and, with --server-pid, the server's.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "gz.h"
#include "benchcli.h"
#include "util.h"

#define LD_MAX_DEVICES 10000
#define LD_MAX_USERS 1000
#define LD_MAX_CONCURRENCY 1024
#define LD_MAX_RECORDS 5000 /* per batch: 1000 minutes of activity, 200 app hours */
#define LD_MAX_BATCHES 1000000UL
#define LD_MAX_DURATION 3600
#define LD_MAX_PREGEN (2ULL << 30) /* bytes of compressed batches held */
#define LD_RESP_MAX 65536	   /* bytes of an answer kept */
#define LD_URL_MAX 1024
#define LD_ENROLL_PER_ADDR 25 /* the server's bucket per address holds 30 */
#define LD_PW_MAX 4096
#define LD_MINUTE_MS 60000LL
#define LD_APP_EVERY 5 /* an app_usage record every 5 minutes */

struct ld_opts {
	const char *url;
	const char *email;
	const char *pw_file;
	const char *token;
	const char *team;
	unsigned devices, users, concurrency, records, gzip_level;
	unsigned long batches;
	unsigned duration_s;
	long server_pid;
	bool json;
};

struct ld_device {
	char id[32];
	char token[64];
	char host_id[64];
	const char *login; /* NULL: records carry user null */
	unsigned next;	   /* its next batch (k: batches[k * devices + index]) */
	unsigned n;	   /* its batches */
};

struct ld_batch {
	uint8_t *gz;
	size_t gz_len;
	char bid[64];
	unsigned records;
};

struct ld_status_count {
	long status; /* HTTP status, or -curl code */
	unsigned long n;
};

struct ld_slot {
	CURL *h;
	struct curl_slist *hdrs;
	struct ld_device *dev;
	struct ld_batch *b;
	uint64_t t0;
	char resp[LD_RESP_MAX + 1];
	size_t resp_len;
};

struct ld_result {
	unsigned long sent, ok, accepted, rejected, errors;
	double seconds, pregen_s, setup_s;
	double p50_ms, p99_ms, max_ms, mean_ms;
	double client_cpu_s, server_cpu_s;
	size_t gz_bytes, raw_bytes;
	struct ld_status_count st[32];
	size_t n_st;
	char first_error[256];
};

static char logins[LD_MAX_USERS][32];

/* xorshift64*: the records' numbers (not security relevant) */
static uint64_t rnd_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* --- blocking API calls for the set-up --- */

struct buf {
	char *p;
	size_t len;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t k = sz * n;

	if (b->len + k > LD_RESP_MAX)
		k = LD_RESP_MAX - b->len;
	memcpy(b->p + b->len, p, k);
	b->len += k;
	b->p[b->len] = 0;
	return sz * n;
}

/*
 * One request to the API: method path (below the base URL) with a JSON body
 * (or NULL) and a bearer token (or NULL), from source address src (or NULL).
 * Returns the HTTP status and *out the parsed answer (NULL when not JSON;
 * the caller frees), or -1 after a transport error (message in err).
 */
static long api_call(const struct ld_opts *o, const char *method, const char *path,
		     const char *token, const cJSON *body, const char *src, cJSON **out, char *err,
		     size_t errlen)
{
	char url[LD_URL_MAX + 256], auth[128], ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	struct buf b = {0};
	char *txt = NULL;
	long status = -1;
	CURL *c;
	CURLcode rc;

	*out = NULL;
	b.p = malloc(LD_RESP_MAX + 1);
	c = curl_easy_init();
	if (!b.p || !c) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	b.p[0] = 0;
	snprintf(url, sizeof(url), "%s%s", o->url, path);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (src)
		curl_easy_setopt(c, CURLOPT_INTERFACE, src);
	if (body) {
		txt = cJSON_PrintUnformatted(body);
		if (!txt) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, txt);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(txt));
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s %.300s: %.150s", method, url,
			 ebuf[0] ? ebuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	*out = cJSON_Parse(b.p);
	if (status >= 300) {
		const char *e =
		    *out ? cJSON_GetStringValue(cJSON_GetObjectItem(*out, "error")) : NULL;

		snprintf(err, errlen, "%s %s: %ld %s", method, path, status, e ? e : "");
	}
out:
	free(txt);
	free(b.p);
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	return status;
}

/* String member k of the answer, or NULL. */
static const char *ans_str(const cJSON *a, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, k));
}

/* Create a node; its id into id. 0 or -1 after printing why. */
static int make_node(const struct ld_opts *o, const char *tok, const char *type, const char *name,
		     const char *parent, char id[32])
{
	cJSON *body = cJSON_CreateObject(), *a = NULL;
	char err[512];
	long st;
	int ret = -1;

	cJSON_AddStringToObject(body, "type", type);
	cJSON_AddStringToObject(body, "name", name);
	cJSON_AddStringToObject(body, "parent_id", parent);
	st = api_call(o, "POST", "/api/v1/nodes", tok, body, NULL, &a, err, sizeof(err));
	if (st == 201 && ans_str(a, "id") && strlen(ans_str(a, "id")) < 32) {
		strcpy(id, ans_str(a, "id"));
		ret = 0;
	} else {
		bench_fail("creating the %s: %s", type, err);
	}
	cJSON_Delete(body);
	cJSON_Delete(a);
	return ret;
}

/* 1 when the URL's host is an IPv4 loopback name (source addresses can be
 * spread over 127.0.0.0/8). */
static bool url_is_loopback4(const char *url)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	return !strncmp(h, "127.", 4) || !strncmp(h, "localhost", 9);
}

/*
 * The set-up: token, team, users, secret, enrolled devices (dev[] filled).
 * 0 or -1 after printing why.
 */
static int setup(const struct ld_opts *o, struct ld_device *dev, char team_out[32])
{
	char err[512], tok[128], team[32], path[256], name[128], src[64], run[17];
	const char *admin_tok = o->token;
	cJSON *body, *a = NULL;
	uint64_t runid = 0;
	char *pw = NULL, *secret = NULL;
	bool spread = url_is_loopback4(o->url);
	unsigned i;
	long st;
	int ret = -1;

	if (getrandom(&runid, sizeof(runid), 0) != sizeof(runid))
		runid = clock_ns(CLOCK_MONOTONIC);
	snprintf(run, sizeof(run), "%016" PRIx64, runid);
	if (!admin_tok) {
		int r = read_secret_line(o->pw_file, LD_PW_MAX, &pw);

		if (r) {
			bench_fail("cannot read the password from %s: %s", o->pw_file,
				   r == -EFBIG ? "file too large" : strerror(-r));
			return -1;
		}
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "email", o->email);
		cJSON_AddStringToObject(body, "password", pw);
		st = api_call(o, "POST", "/api/v1/auth/login", NULL, body, NULL, &a, err,
			      sizeof(err));
		cJSON_Delete(body);
		memset(pw, 0, strlen(pw));
		free(pw);
		if (st != 200 || !ans_str(a, "token") ||
		    strlen(ans_str(a, "token")) >= sizeof(tok)) {
			bench_fail("signing in as %s: %s", o->email, err);
			goto out;
		}
		strcpy(tok, ans_str(a, "token"));
		admin_tok = tok;
		cJSON_Delete(a);
		a = NULL;
	}
	if (o->team) {
		snprintf(team, sizeof(team), "%s", o->team);
	} else {
		char bid[32], dom[32], proj[32];
		const cJSON *kids, *k, *biz = NULL;

		st = api_call(o, "GET", "/api/v1/nodes/root/children", admin_tok, NULL, NULL, &a,
			      err, sizeof(err));
		kids = cJSON_GetObjectItemCaseSensitive(a, "children");
		cJSON_ArrayForEach(k, kids)
		{
			const char *t = ans_str(k, "type");

			if (t && !strcmp(t, "business") && ans_str(k, "id")) {
				biz = k;
				break;
			}
		}
		if (st != 200 || !biz || strlen(ans_str(biz, "id")) >= sizeof(bid)) {
			bench_fail("finding a business under root: %s", st == 200 ? "none" : err);
			goto out;
		}
		snprintf(bid, sizeof(bid), "%s", ans_str(biz, "id"));
		cJSON_Delete(a);
		a = NULL;
		snprintf(name, sizeof(name), "load %s", run);
		if (make_node(o, admin_tok, "domain", name, bid, dom) ||
		    make_node(o, admin_tok, "project", name, dom, proj) ||
		    make_node(o, admin_tok, "team", name, proj, team))
			goto out;
	}
	for (i = 0; i < o->users; i++) {
		char email[96], upw[40];

		snprintf(logins[i], sizeof(logins[i]), "ld%.8s%04u", run, i);
		snprintf(email, sizeof(email), "%s@load.example", logins[i]);
		snprintf(upw, sizeof(upw), "pw-%s-%u", run, i);
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "email", email);
		cJSON_AddStringToObject(body, "name", logins[i]);
		cJSON_AddStringToObject(body, "password", upw);
		cJSON_AddStringToObject(body, "team_id", team);
		cJSON_AddStringToObject(body, "login", logins[i]);
		st = api_call(o, "POST", "/api/v1/users", admin_tok, body, NULL, &a, err,
			      sizeof(err));
		cJSON_Delete(body);
		cJSON_Delete(a);
		a = NULL;
		if (st != 201) {
			bench_fail("creating user %u: %s", i, err);
			goto out;
		}
	}
	snprintf(path, sizeof(path), "/api/v1/nodes/%s/enrollment-secrets", team);
	st = api_call(o, "POST", path, admin_tok, NULL, NULL, &a, err, sizeof(err));
	if (st != 201 || !ans_str(a, "secret")) {
		bench_fail("creating an enrollment secret for %s: %s", team, err);
		goto out;
	}
	secret = strdup(ans_str(a, "secret"));
	cJSON_Delete(a);
	a = NULL;
	if (!secret) {
		bench_fail("out of memory");
		goto out;
	}
	for (i = 0; i < o->devices; i++) {
		struct ld_device *d = &dev[i];

		snprintf(d->host_id, sizeof(d->host_id), "load-%s-%05u", run, i);
		d->login = o->users ? logins[i % o->users] : NULL;
		{
			/* 127.a.b.c, from a point of the run's own */
			unsigned x = (unsigned)(runid % 1000000u) + i / LD_ENROLL_PER_ADDR;

			snprintf(src, sizeof(src), "host!127.%u.%u.%u",
				 1u + x / (254u * 254u) % 254u, 1u + x / 254u % 254u,
				 1u + x % 254u);
		}
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "secret", secret);
		cJSON_AddStringToObject(body, "host_id", d->host_id);
		cJSON_AddStringToObject(body, "hostname", d->host_id);
		cJSON_AddStringToObject(body, "agent_version", "load");
		st = api_call(o, "POST", "/api/v1/enroll", NULL, body, spread ? src : NULL, &a, err,
			      sizeof(err));
		cJSON_Delete(body);
		if (st != 201 || !ans_str(a, "device_id") || !ans_str(a, "device_token") ||
		    strlen(ans_str(a, "device_id")) >= sizeof(d->id) ||
		    strlen(ans_str(a, "device_token")) >= sizeof(d->token)) {
			bench_fail("enrolling device %u: %s%s", i, err,
				   st == 429 && !spread
				       ? " (enrollment is rate-limited per client address; enroll "
					 "fewer devices or use a loopback URL)"
				       : "");
			goto out;
		}
		strcpy(d->id, ans_str(a, "device_id"));
		strcpy(d->token, ans_str(a, "device_token"));
		cJSON_Delete(a);
		a = NULL;
	}
	snprintf(team_out, 32, "%s", team);
	ret = 0;
out:
	cJSON_Delete(a);
	free(secret);
	return ret;
}

/* --- batches --- */

static const char *const apps[] = {"firefox",	  "code",   "slack", "terminal", "thunderbird",
				   "libreoffice", "chrome", "zoom",  "gimp",	 "evince"};
static const char *const comms[][2] = {{"bash", "/usr/bin/bash"},	{"git", "/usr/bin/git"},
				       {"make", "/usr/bin/make"},	{"gcc", "/usr/bin/gcc"},
				       {"python3", "/usr/bin/python3"}, {"ls", "/usr/bin/ls"},
				       {"grep", "/usr/bin/grep"},	{"ssh", "/usr/bin/ssh"}};

/*
 * The NDJSON of one batch of n records of device d, starting at minute *t
 * (Unix ms, advanced past the batch). 0 or -ENOMEM.
 */
static int gen_batch(struct bench_buf *g, const struct ld_device *d, unsigned n, int64_t *t)
{
	char ts[RFC3339_LEN], st[RFC3339_LEN], en[RFC3339_LEN], user[48];
	int64_t minute = *t, at;
	unsigned i, k = 0, pid = 1000 + rnd_below(30000);
	int ret = 0;

	g->len = 0;
	if (d->login)
		snprintf(user, sizeof(user), "\"%s\"", d->login);
	else
		snprintf(user, sizeof(user), "null");
	for (i = 0; !ret && i < n; i++) {
		/* slot i % 5 == 0 opens a minute with its activity record */
		if (i % 5 == 0) {
			unsigned active = rnd_below(61);

			if (i)
				minute += LD_MINUTE_MS;
			rfc3339_ms(minute, st);
			rfc3339_ms(minute + LD_MINUTE_MS, en);
			ret = bench_buf_add(
			    g,
			    "{\"type\":\"activity\",\"ts\":\"%s\",\"v\":1,\"host_id\":\"%s\","
			    "\"user\":%s,\"start\":\"%s\",\"end\":\"%s\",\"interval_s\":60,"
			    "\"keys\":%u,\"clicks\":%u,\"moves\":%u,\"distance\":%u,\"scrolls\":%u,"
			    "\"active_s\":%u,\"idle\":%s,\"synthetic\":{\"keys\":0,\"clicks\":0,"
			    "\"moves\":0,\"distance\":0,\"scrolls\":0,\"active_s\":0}}\n",
			    en, d->host_id, user, st, en, active * 3 + rnd_below(40),
			    active / 4 + rnd_below(5), active * 12 + rnd_below(100),
			    active * 230 + rnd_below(2000), rnd_below(20), active,
			    active ? "false" : "true");
			continue;
		}
		at = minute + (int64_t)(i % 5) * 12000 + rnd_below(1000);
		rfc3339_ms(at, ts);
		if (i % 5 == 1 && (minute / LD_MINUTE_MS) % LD_APP_EVERY == 0) {
			unsigned a0 = rnd_below(ARRAY_SIZE(apps)), f = 60 + rnd_below(180);

			rfc3339_ms(minute - (LD_APP_EVERY - 1) * LD_MINUTE_MS, st);
			ret = bench_buf_add(
			    g,
			    "{\"type\":\"app_usage\",\"ts\":\"%s\",\"v\":1,\"host_id\":"
			    "\"%s\",\"user\":%s,\"start\":\"%s\",\"apps\":[{\"app\":\"%s\","
			    "\"focus_s\":%u},{\"app\":\"%s\",\"focus_s\":%u.5},{\"app\":"
			    "\"%s\",\"focus_s\":%u}],\"top_cpu\":[{\"comm\":\"%s\",\"cpu_"
			    "s\":%u.25}]}\n",
			    ts, d->host_id, user, st, apps[a0], f,
			    apps[(a0 + 1) % ARRAY_SIZE(apps)], (300 - f) / 2,
			    apps[(a0 + 2) % ARRAY_SIZE(apps)], (300 - f) / 3, apps[a0],
			    rnd_below(30));
			continue;
		}
		k = rnd_below(ARRAY_SIZE(comms));
		if (i % 2)
			ret = bench_buf_add(
			    g,
			    "{\"type\":\"process\",\"ts\":\"%s\",\"v\":1,\"host_id\":\"%s\","
			    "\"user\":%s,\"event\":\"exec\",\"pid\":%u,\"ppid\":%u,\"uid\":"
			    "1000,\"comm\":\"%s\",\"exe\":\"%s\",\"start\":\"%s\"}\n",
			    ts, d->host_id, user, pid, pid - 1 - rnd_below(50), comms[k][0],
			    comms[k][1], ts);
		else
			ret = bench_buf_add(
			    g,
			    "{\"type\":\"process\",\"ts\":\"%s\",\"v\":1,\"host_id\":\"%s\","
			    "\"user\":%s,\"event\":\"exit\",\"pid\":%u,\"ppid\":%u,\"uid\":"
			    "1000,\"comm\":\"%s\",\"start\":\"%s\",\"exit_code\":0,"
			    "\"cpu_s\":0.0%02u,\"run_s\":%u.%03u}\n",
			    ts, d->host_id, user, pid, pid - 1 - rnd_below(50), comms[k][0], ts,
			    rnd_below(100), rnd_below(5), rnd_below(1000));
		pid++;
	}
	*t = minute + LD_MINUTE_MS;
	return ret;
}

/* Make all batches (device-major: batch k of device i is bt[k * devices + i]). */
static int pregen(const struct ld_opts *o, struct ld_device *dev, struct ld_batch *bt,
		  struct ld_result *res)
{
	struct bench_buf g = {0};
	unsigned long k;
	unsigned per_dev = (unsigned)((o->batches + o->devices - 1) / o->devices);
	/* every device's timeline ends an hour ago */
	int64_t span = (int64_t)per_dev * ((o->records + 4) / 5) * LD_MINUTE_MS;
	int64_t start = ((int64_t)(clock_ns(CLOCK_REALTIME) / 1000000) - span - 3600000) /
			LD_MINUTE_MS * LD_MINUTE_MS;
	int64_t *t = calloc(o->devices, sizeof(*t));
	int ret = 0;

	g.cap = 1 << 16;
	g.p = malloc(g.cap);
	if (!t || !g.p) {
		free(t);
		free(g.p);
		return -ENOMEM;
	}
	for (k = 0; k < o->devices; k++)
		t[k] = start;
	for (k = 0; !ret && k < o->batches; k++) {
		struct ld_device *d = &dev[k % o->devices];
		struct ld_batch *b = &bt[k];

		ret = gen_batch(&g, d, o->records, &t[k % o->devices]);
		if (!ret)
			ret = gz_compress(g.p, g.len, (int)o->gzip_level, &b->gz, &b->gz_len);
		if (ret)
			break;
		snprintf(b->bid, sizeof(b->bid), "load-%lu-%u", k / o->devices, o->records);
		b->records = o->records;
		d->n++;
		res->raw_bytes += g.len;
		res->gz_bytes += b->gz_len;
		if (res->gz_bytes > LD_MAX_PREGEN) {
			ret = -E2BIG;
			break;
		}
	}
	free(t);
	free(g.p);
	return ret;
}

/* --- the run --- */

static size_t on_slot_body(char *p, size_t sz, size_t n, void *ud)
{
	struct ld_slot *s = ud;
	size_t k = sz * n;

	if (s->resp_len + k > LD_RESP_MAX)
		k = LD_RESP_MAX - s->resp_len;
	memcpy(s->resp + s->resp_len, p, k);
	s->resp_len += k;
	s->resp[s->resp_len] = 0;
	return sz * n;
}

static void count_status(struct ld_result *r, long status)
{
	size_t i;

	for (i = 0; i < r->n_st; i++)
		if (r->st[i].status == status) {
			r->st[i].n++;
			return;
		}
	if (r->n_st < ARRAY_SIZE(r->st)) {
		r->st[r->n_st].status = status;
		r->st[r->n_st++].n = 1;
	}
}

/* Start the next batch of device d on slot s. 0 or -ENOMEM. */
static int slot_start(CURLM *m, struct ld_slot *s, struct ld_device *d, struct ld_batch *b)
{
	char h[160];

	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	snprintf(h, sizeof(h), "Authorization: Bearer %s", d->token);
	s->hdrs = curl_slist_append(s->hdrs, h);
	snprintf(h, sizeof(h), "X-Batch-Id: %s", b->bid);
	s->hdrs = curl_slist_append(s->hdrs, h);
	s->hdrs = curl_slist_append(s->hdrs, "Content-Encoding: gzip");
	s->hdrs = curl_slist_append(s->hdrs, "Content-Type: application/x-ndjson");
	s->hdrs = curl_slist_append(s->hdrs, "Expect:");
	if (!s->hdrs)
		return -ENOMEM;
	s->dev = d;
	s->b = b;
	s->resp_len = 0;
	s->resp[0] = 0;
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, b->gz);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->gz_len);
	s->t0 = clock_ns(CLOCK_MONOTONIC);
	return curl_multi_add_handle(m, s->h) == CURLM_OK ? 0 : -ENOMEM;
}

static double cpu_self_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of a process in seconds, or -1 when unreadable. */
static double cpu_pid_s(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stime) != 2)
		return -1;
	return (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Set by SIGINT or SIGTERM: stop sending, as at the deadline. */
static volatile sig_atomic_t ld_interrupted;

static void on_stop_signal(int sig)
{
	(void)sig;
	ld_interrupted = 1;
}

/* Send every batch (or until the deadline, SIGINT or SIGTERM). 0 or -errno. */
static int run(const struct ld_opts *o, struct ld_device *dev, struct ld_batch *bt,
	       struct ld_result *res)
{
	char url[LD_URL_MAX + 32];
	struct ld_slot *slots = calloc(o->concurrency, sizeof(*slots));
	unsigned *ready = calloc(o->devices, sizeof(*ready)); /* ring of device indices */
	double *lat = calloc(o->batches, sizeof(*lat));
	unsigned head = 0, n_ready = o->devices, i, active = 0;
	uint64_t t0, deadline, t_end;
	double cpu0, scpu0 = -1, sum = 0;
	bool stop = false;
	CURLM *m = curl_multi_init();
	int ret = 0;

	if (!slots || !ready || !lat || !m) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(url, sizeof(url), "%s/api/v1/ingest", o->url);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->concurrency);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)o->concurrency);
	for (i = 0; i < o->concurrency; i++) {
		struct ld_slot *s = &slots[i];

		s->h = curl_easy_init();
		if (!s->h) {
			ret = -ENOMEM;
			goto out;
		}
		curl_easy_setopt(s->h, CURLOPT_URL, url);
		curl_easy_setopt(s->h, CURLOPT_POST, 1L);
		curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 120L);
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_slot_body);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L);
	}
	for (i = 0; i < o->devices; i++)
		ready[i] = i;
	cpu0 = cpu_self_s();
	if (o->server_pid)
		scpu0 = cpu_pid_s(o->server_pid);
	/* from here on SIGINT/SIGTERM end the run with its report */
	{
		struct sigaction sa = {.sa_handler = on_stop_signal};

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	t0 = clock_ns(CLOCK_MONOTONIC);
	deadline = o->duration_s ? t0 + (uint64_t)o->duration_s * 1000000000ULL : UINT64_MAX;
	for (;;) {
		CURLMsg *msg;
		int running, left;

		/* fill idle slots with ready devices that have batches left */
		for (i = 0; !stop && i < o->concurrency && n_ready; i++) {
			struct ld_slot *s = &slots[i];
			struct ld_device *d = NULL;

			if (s->dev)
				continue;
			while (n_ready && !d) {
				d = &dev[ready[head]];
				head = (head + 1) % o->devices;
				n_ready--;
				if (d->next >= d->n)
					d = NULL; /* done: leaves the ring */
			}
			if (!d)
				break;
			ret = slot_start(m, s, d,
					 &bt[(size_t)d->next * o->devices + (size_t)(d - dev)]);
			if (ret)
				goto out;
			d->next++;
			active++;
			res->sent++;
		}
		if (!active)
			break;
		if (curl_multi_perform(m, &running) != CURLM_OK ||
		    curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK) {
			ret = -EIO;
			goto out;
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct ld_slot *s;
			long status = 0;
			double ms;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			ms = (double)(clock_ns(CLOCK_MONOTONIC) - s->t0) / 1e6;
			curl_multi_remove_handle(m, s->h);
			if (msg->data.result != CURLE_OK) {
				status = -(long)msg->data.result;
				if (!res->first_error[0])
					snprintf(res->first_error, sizeof(res->first_error),
						 "transport: %s",
						 curl_easy_strerror(msg->data.result));
			} else {
				curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
			}
			count_status(res, status);
			if (status == 200) {
				cJSON *a = cJSON_Parse(s->resp);
				const cJSON *acc = cJSON_GetObjectItemCaseSensitive(a, "accepted");
				const cJSON *rej =
				    cJSON_GetObjectItemCaseSensitive(a, "rejected_count");

				res->ok++;
				res->accepted +=
				    cJSON_IsNumber(acc) ? (unsigned long)acc->valuedouble : 0;
				res->rejected +=
				    cJSON_IsNumber(rej) ? (unsigned long)rej->valuedouble : 0;
				if (cJSON_IsNumber(rej) && rej->valuedouble > 0 &&
				    !res->first_error[0])
					snprintf(res->first_error, sizeof(res->first_error),
						 "rejected lines: %.200s", s->resp);
				cJSON_Delete(a);
			} else {
				res->errors++;
				if (!res->first_error[0] && status > 0)
					snprintf(res->first_error, sizeof(res->first_error),
						 "status %ld: %.200s", status, s->resp);
			}
			lat[res->ok + res->errors - 1] = ms;
			sum += ms;
			/* the device is ready again: back into the ring */
			ready[(head + n_ready) % o->devices] = (unsigned)(s->dev - dev);
			n_ready++;
			s->dev = NULL;
			active--;
		}
		if (!stop && (ld_interrupted || clock_ns(CLOCK_MONOTONIC) >= deadline))
			stop = true;
	}
	t_end = clock_ns(CLOCK_MONOTONIC);
	res->seconds = (double)(t_end - t0) / 1e9;
	res->client_cpu_s = cpu_self_s() - cpu0;
	if (scpu0 >= 0) {
		double s1 = cpu_pid_s(o->server_pid);

		res->server_cpu_s = s1 >= 0 ? s1 - scpu0 : -1;
	} else {
		res->server_cpu_s = -1;
	}
	{
		size_t n = res->ok + res->errors;

		res->p50_ms = bench_quantile(lat, n, 0.50);
		res->p99_ms = bench_quantile(lat, n, 0.99);
		res->max_ms = n ? lat[n - 1] : 0;
		res->mean_ms = n ? sum / (double)n : 0;
	}
out:
	for (i = 0; slots && i < o->concurrency; i++) {
		if (slots[i].h) {
			if (slots[i].dev)
				curl_multi_remove_handle(m, slots[i].h);
			curl_easy_cleanup(slots[i].h);
		}
		curl_slist_free_all(slots[i].hdrs);
	}
	if (m)
		curl_multi_cleanup(m);
	free(slots);
	free(ready);
	free(lat);
	return ret;
}

/* --- output --- */

static void report(const struct ld_opts *o, const char *team, const struct ld_result *r)
{
	double eps = r->seconds > 0 ? (double)r->accepted / r->seconds : 0;
	double bps = r->seconds > 0 ? (double)(r->ok + r->errors) / r->seconds : 0;
	size_t i;

	if (bench_json) {
		cJSON *root = cJSON_CreateObject(), *p, *e;
		char *s, k[32];

		cJSON_AddStringToObject(root, "tool", "actlog-load");
		p = cJSON_AddObjectToObject(root, "params");
		cJSON_AddStringToObject(p, "team_id", team);
		cJSON_AddNumberToObject(p, "devices", o->devices);
		cJSON_AddNumberToObject(p, "users", o->users);
		cJSON_AddNumberToObject(p, "concurrency", o->concurrency);
		cJSON_AddNumberToObject(p, "records_per_batch", o->records);
		cJSON_AddNumberToObject(p, "batches", (double)o->batches);
		cJSON_AddNumberToObject(p, "gzip_level", o->gzip_level);
		cJSON_AddNumberToObject(p, "duration_cap_s", o->duration_s);
		cJSON_AddNumberToObject(root, "setup_s", r->setup_s);
		cJSON_AddNumberToObject(root, "pregen_s", r->pregen_s);
		cJSON_AddNumberToObject(root, "raw_bytes", (double)r->raw_bytes);
		cJSON_AddNumberToObject(root, "gzip_bytes", (double)r->gz_bytes);
		cJSON_AddNumberToObject(root, "seconds", r->seconds);
		cJSON_AddNumberToObject(root, "batches_sent", (double)r->sent);
		cJSON_AddNumberToObject(root, "batches_ok", (double)r->ok);
		cJSON_AddNumberToObject(root, "events_accepted", (double)r->accepted);
		cJSON_AddNumberToObject(root, "events_rejected", (double)r->rejected);
		cJSON_AddNumberToObject(root, "events_per_s", eps);
		cJSON_AddNumberToObject(root, "batches_per_s", bps);
		cJSON_AddNumberToObject(root, "latency_p50_ms", r->p50_ms);
		cJSON_AddNumberToObject(root, "latency_p99_ms", r->p99_ms);
		cJSON_AddNumberToObject(root, "latency_max_ms", r->max_ms);
		cJSON_AddNumberToObject(root, "latency_mean_ms", r->mean_ms);
		cJSON_AddNumberToObject(root, "client_cpu_s", r->client_cpu_s);
		if (r->server_cpu_s >= 0) {
			cJSON_AddNumberToObject(root, "server_cpu_s", r->server_cpu_s);
			cJSON_AddNumberToObject(
			    root, "server_cpu_us_per_event",
			    r->accepted ? r->server_cpu_s * 1e6 / (double)r->accepted : 0);
		}
		cJSON_AddNumberToObject(root, "errors", (double)r->errors);
		e = cJSON_AddObjectToObject(root, "status");
		for (i = 0; i < r->n_st; i++) {
			if (r->st[i].status < 0)
				snprintf(k, sizeof(k), "curl_%ld", -r->st[i].status);
			else
				snprintf(k, sizeof(k), "%ld", r->st[i].status);
			cJSON_AddNumberToObject(e, k, (double)r->st[i].n);
		}
		if (r->first_error[0])
			cJSON_AddStringToObject(root, "first_error", r->first_error);
		s = cJSON_Print(root);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(root);
		return;
	}
	printf("devices %u (users %u), concurrency %u, %u records a batch, %lu batches\n",
	       o->devices, o->users, o->concurrency, o->records, r->sent);
	printf("  events/s      %12.0f   (%lu accepted, %lu rejected in %.2f s)\n", eps,
	       r->accepted, r->rejected, r->seconds);
	printf("  batches/s     %12.1f\n", bps);
	printf("  latency ms    p50 %.2f  p99 %.2f  max %.2f  mean %.2f\n", r->p50_ms, r->p99_ms,
	       r->max_ms, r->mean_ms);
	printf("  client cpu s  %12.2f\n", r->client_cpu_s);
	if (r->server_cpu_s >= 0)
		printf("  server cpu s  %12.2f   (%.2f us an event)\n", r->server_cpu_s,
		       r->accepted ? r->server_cpu_s * 1e6 / (double)r->accepted : 0);
	printf("  status       ");
	for (i = 0; i < r->n_st; i++) {
		if (r->st[i].status < 0)
			printf(" curl_%ld:%lu", -r->st[i].status, r->st[i].n);
		else
			printf(" %ld:%lu", r->st[i].status, r->st[i].n);
	}
	printf("\n");
	if (r->first_error[0])
		printf("  first error   %s\n", r->first_error);
	printf("  (set-up %.2f s, batches made in %.2f s: %zu bytes, %zu gzip)\n", r->setup_s,
	       r->pregen_s, r->raw_bytes, r->gz_bytes);
}

static const char usage_text[] =
    "usage: actlog-load --url URL (--email EMAIL --password-file FILE | --token TOKEN)\n"
    "                   [--team ID] [--devices N] [--users N] [--concurrency N]\n"
    "                   [--records N] [--batches N] [--duration S] [--gzip-level L]\n"
    "                   [--server-pid PID] [--json]\n"
    "Plays --devices enrolled agents sending gzip NDJSON batches to URL at once\n"
    "and reports events/s, batches/s and batch latency.\n"
    "  --url URL            the server, e.g. http://127.0.0.1:8080\n"
    "  --email/--password-file  an administrator (FILE \"-\": standard input)\n"
    "  --token TOKEN        an administrator's bearer token instead\n"
    "  --team ID            enroll into this team (default: a new domain, project\n"
    "                       and team under the first business)\n"
    "  --devices N          agents (default 64, 1..10000)\n"
    "  --users N            users made in the team, the records' logins (default 8,\n"
    "                       0..1000; 0: records carry no user; needs a new team)\n"
    "  --concurrency N      batches in flight (default 8, 1..1024, at most --devices)\n"
    "  --records N          records a batch (default 200, 1..5000)\n"
    "  --batches N          batches in all (default 2000, 1..1000000)\n"
    "  --duration S         stop sending after S seconds (default: when all are sent);\n"
    "                       SIGINT or SIGTERM stops sending too, and the report follows\n"
    "  --gzip-level L       1..9 (default 6, the agent's)\n"
    "  --server-pid PID     also report the server's CPU time (from /proc)\n"
    "  --json               one JSON object on stdout (errors too)\n";

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"url", required_argument, 0, 'u'},
					   {"email", required_argument, 0, 'e'},
					   {"password-file", required_argument, 0, 'p'},
					   {"token", required_argument, 0, 'T'},
					   {"team", required_argument, 0, 'm'},
					   {"devices", required_argument, 0, 'd'},
					   {"users", required_argument, 0, 'U'},
					   {"concurrency", required_argument, 0, 'c'},
					   {"records", required_argument, 0, 'r'},
					   {"batches", required_argument, 0, 'b'},
					   {"duration", required_argument, 0, 't'},
					   {"gzip-level", required_argument, 0, 'z'},
					   {"server-pid", required_argument, 0, 'P'},
					   {"json", no_argument, 0, 'j'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	struct ld_opts o = {.devices = 64,
			    .users = 8,
			    .concurrency = 8,
			    .records = 200,
			    .batches = 2000,
			    .gzip_level = 6};
	struct ld_device *dev = NULL;
	struct ld_batch *bt = NULL;
	struct ld_result res = {0};
	char team[32] = "";
	unsigned long u, k;
	uint64_t t0;
	int c, i, ret, rc = 1;

	bench_prog = "actlog-load";
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			bench_json = true;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'u':
			o.url = optarg;
			break;
		case 'e':
			o.email = optarg;
			break;
		case 'p':
			o.pw_file = optarg;
			break;
		case 'T':
			o.token = optarg;
			break;
		case 'm':
			o.team = optarg;
			break;
		case 'd':
			if (bench_opt_uint("devices", optarg, 1, LD_MAX_DEVICES, &u))
				return 2;
			o.devices = (unsigned)u;
			break;
		case 'U':
			if (bench_opt_uint("users", optarg, 0, LD_MAX_USERS, &u))
				return 2;
			o.users = (unsigned)u;
			break;
		case 'c':
			if (bench_opt_uint("concurrency", optarg, 1, LD_MAX_CONCURRENCY, &u))
				return 2;
			o.concurrency = (unsigned)u;
			break;
		case 'r':
			if (bench_opt_uint("records", optarg, 1, LD_MAX_RECORDS, &u))
				return 2;
			o.records = (unsigned)u;
			break;
		case 'b':
			if (bench_opt_uint("batches", optarg, 1, LD_MAX_BATCHES, &u))
				return 2;
			o.batches = u;
			break;
		case 't':
			if (bench_opt_uint("duration", optarg, 1, LD_MAX_DURATION, &u))
				return 2;
			o.duration_s = (unsigned)u;
			break;
		case 'z':
			if (bench_opt_uint("gzip-level", optarg, 1, 9, &u))
				return 2;
			o.gzip_level = (unsigned)u;
			break;
		case 'P':
			if (bench_opt_uint("server-pid", optarg, 1, 4194304, &u))
				return 2;
			o.server_pid = (long)u;
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
	if (!o.url || (strncmp(o.url, "http://", 7) && strncmp(o.url, "https://", 8)) ||
	    strlen(o.url) > LD_URL_MAX) {
		bench_fail("--url must be an http:// or https:// URL of at most %d bytes",
			   LD_URL_MAX);
		return 2;
	}
	if (!o.token == !(o.email && o.pw_file) || (o.token && (o.email || o.pw_file))) {
		bench_fail("give --email with --password-file, or --token");
		return 2;
	}
	if (o.team && (strlen(o.team) >= sizeof(team) || o.users)) {
		bench_fail("--team needs --users 0 (users are made in a new team) and a node id");
		return 2;
	}
	if (o.concurrency > o.devices) {
		bench_fail(
		    "--concurrency %u is more than --devices %u: a device has one batch in flight",
		    o.concurrency, o.devices);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		bench_fail("libcurl initialisation failed");
		return 1;
	}
	dev = calloc(o.devices, sizeof(*dev));
	bt = calloc(o.batches, sizeof(*bt));
	if (!dev || !bt) {
		bench_fail("out of memory");
		goto out;
	}
	t0 = clock_ns(CLOCK_MONOTONIC);
	if (setup(&o, dev, team))
		goto out;
	res.setup_s = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	bench_note("team %s: %u devices enrolled in %.2f s; making %lu batches", team, o.devices,
		   res.setup_s, o.batches);
	t0 = clock_ns(CLOCK_MONOTONIC);
	ret = pregen(&o, dev, bt, &res);
	if (ret) {
		bench_fail("making the batches: %s",
			   ret == -E2BIG ? "over 2 GiB compressed; lower --batches or --records"
					 : strerror(-ret));
		goto out;
	}
	res.pregen_s = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	bench_note("sending %lu batches, %u in flight", o.batches, o.concurrency);
	ret = run(&o, dev, bt, &res);
	if (ret) {
		bench_fail("the run failed: %s", strerror(-ret));
		goto out;
	}
	report(&o, team, &res);
	rc = res.ok ? 0 : 1;
out:
	for (k = 0; bt && k < o.batches; k++)
		free(bt[k].gz);
	free(bt);
	free(dev);
	curl_global_cleanup();
	return rc;
}
