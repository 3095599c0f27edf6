// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-sample - loads a week of sample activity for a small organisation
 * into a running actlog-server, through its public API only: the tree, the
 * people and their managers' grants through the admin routes, one enrolled
 * device per person through POST /api/v1/enroll, and the records through
 * POST /api/v1/ingest as the agent ships them (gzip NDJSON, one batch per
 * device and hour, stable X-Batch-Id). Screenshots go through presign, PUT
 * and register when the server has S3 settings.
 *
 * Everything is generated from --seed: the same person, day and seed give the
 * same records, batch ids and screenshots, whenever the program runs, so a
 * second run adds nothing (the server answers a known batch id with its
 * stored answer; existing nodes, users, grants and shots are looked up and
 * skipped). Device tokens are kept in the --state file (mode 0600): without
 * it a device enrolled by an earlier run cannot be spoken for again and its
 * records are skipped (said on stderr).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>
#include <turbojpeg.h>

#include "benchcli.h"
#include "httpc.h"
#include "gz.h"
#include "util.h"
#include "version.h"

#define SP_RESP_MAX (4u << 20) /* the biggest answer read: a user or device list */
#define SP_RETRIES 30	       /* 429/503 answers waited out per request */
#define SP_DAYS_MAX 31
#define SP_SHOTS_PER_DAY 3
#define SP_SHOT_W 640
#define SP_SHOT_H 400
#define SP_MIN_MS 60000LL
#define SP_HOUR_MS 3600000LL
#define SP_DAY_MS 86400000LL

/* --- the organisation --- */

enum role { R_DEV, R_DESIGN, R_SALES };

struct team_def {
	const char *domain, *project, *team;
	enum role role;
};

static const struct team_def TEAMS[] = {
    {"Engineering", "Product", "Backend", R_DEV},
    {"Engineering", "Product", "Design", R_DESIGN},
    {"Sales", "EMEA", "Accounts", R_SALES},
};

struct person_def {
	const char *name, *login;
	unsigned team;
	bool manager;
	bool jiggler;	    /* a mouse jiggler runs on this person's machine */
	bool evenings;	    /* works some evenings */
	unsigned start_min; /* usual start, minutes after midnight (local) */
};

static const struct person_def PEOPLE[] = {
    {"Maria Keller", "mkeller", 0, true, false, true, 8 * 60},
    {"Tom Becker", "tbecker", 0, false, false, false, 9 * 60 + 15},
    {"Ana Silva", "asilva", 0, false, false, true, 8 * 60 + 30},
    {"Lukas Novak", "lnovak", 0, false, false, false, 7 * 60 + 30},
    {"Priya Raman", "praman", 0, false, false, false, 9 * 60},
    {"Sofia Rossi", "srossi", 1, true, false, false, 8 * 60 + 45},
    {"Jonas Berg", "jberg", 1, false, false, true, 9 * 60 + 30},
    {"Emma Laurent", "elaurent", 1, false, false, false, 8 * 60},
    {"Daniel Weber", "dweber", 2, true, false, true, 7 * 60 + 45},
    {"Chloe Martin", "cmartin", 2, false, false, false, 8 * 60 + 15},
    {"Marco Bianchi", "mbianchi", 2, false, true, false, 8 * 60 + 30},
    {"Nina Kowalski", "nkowalski", 2, false, false, false, 9 * 60},
};
#define N_TEAMS ARRAY_SIZE(TEAMS)
#define N_PEOPLE ARRAY_SIZE(PEOPLE)
#define EMAIL_DOMAIN "sample.example.com"

struct app_def {
	const char *app, *exe;
	unsigned weight;
};

/* the application mix of each role, by focus weight */
static const struct app_def APPS[][4] = {
    [R_DEV] = {{"code", "/usr/share/code/code", 45},
	       {"firefox", "/usr/lib/firefox-esr/firefox-esr", 25},
	       {"gnome-terminal", "/usr/libexec/gnome-terminal-server", 20},
	       {"slack", "/usr/lib/slack/slack", 10}},
    [R_DESIGN] = {{"gimp", "/usr/bin/gimp-2.10", 40},
		  {"inkscape", "/usr/bin/inkscape", 35},
		  {"firefox", "/usr/lib/firefox-esr/firefox-esr", 25},
		  {NULL, NULL, 0}},
    [R_SALES] = {{"thunderbird", "/usr/lib/thunderbird/thunderbird", 30},
		 {"libreoffice", "/usr/lib/libreoffice/program/soffice.bin", 25},
		 {"firefox", "/usr/lib/firefox-esr/firefox-esr", 25},
		 {"zoom", "/opt/zoom/zoom", 20}},
};

/* short-lived programs each role starts (comm, exe) */
static const char *const PROCS[][8][2] = {
    [R_DEV] = {{"git", "/usr/bin/git"},
	       {"make", "/usr/bin/make"},
	       {"cc1", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1"},
	       {"ld", "/usr/bin/x86_64-linux-gnu-ld.bfd"},
	       {"grep", "/usr/bin/grep"},
	       {"python3", "/usr/bin/python3.11"},
	       {"ssh", "/usr/bin/ssh"},
	       {"bash", "/usr/bin/bash"}},
    [R_DESIGN] = {{"script-fu", "/usr/lib/gimp/2.0/plug-ins/script-fu/script-fu"},
		  {"file-png", "/usr/lib/gimp/2.0/plug-ins/file-png/file-png"},
		  {"convert", "/usr/bin/convert-im6.q16"},
		  {"fc-cache", "/usr/bin/fc-cache"},
		  {"ls", "/usr/bin/ls"},
		  {"bash", "/usr/bin/bash"},
		  {"xdg-open", "/usr/bin/xdg-open"},
		  {"nautilus", "/usr/bin/nautilus"}},
    [R_SALES] = {{"oosplash", "/usr/lib/libreoffice/program/oosplash"},
		 {"evince", "/usr/bin/evince"},
		 {"zoom", "/opt/zoom/zoom"},
		 {"xdg-open", "/usr/bin/xdg-open"},
		 {"gpg", "/usr/bin/gpg"},
		 {"bash", "/usr/bin/bash"},
		 {"file-roller", "/usr/bin/file-roller"},
		 {"nautilus", "/usr/bin/nautilus"}},
};

/* --- options and state --- */

enum shots_mode { SHOTS_AUTO, SHOTS_YES, SHOTS_NO };

struct opts {
	const char *url, *token_file, *email, *password_file, *state, *people_pw_file, *tz,
	    *business;
	unsigned long days, seed;
	int64_t end_ms; /* the end of the range (default now) */
	enum shots_mode shots;
};

struct person {
	const struct person_def *d;
	char email[96], host_id[40], hostname[64];
	char user_id[40], dev_id[40], dev_auth[160]; /* dev_auth: the header, or "" */
	bool created;
	bool shots_refused; /* presign answered 403 (policy) */
};

struct totals {
	uint64_t batches, accepted, rejected, by_type[4], shots, shots_there, shots_refused;
};
enum { T_ACTIVITY, T_APP, T_PROCESS, T_SYSINFO };

struct sample {
	struct opts o;
	struct httpc c;
	cJSON *state; /* the --state document (NULL without --state) */
	char people_pw[80];
	char team_id[N_TEAMS][40];
	struct person p[N_PEOPLE];
	struct totals t;
	unsigned people_created, devices_enrolled;
	bool pw_new;	/* people_pw was made by this run */
	bool shots_off; /* the server has no S3 settings or refuses shots */
	char shots_why[200];
};

/* --- seeded random numbers: splitmix64 --- */

struct rng {
	uint64_t s;
};

/* The next number of splitmix64. */
static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A generator for one (seed, a, b, c): the same stream whenever it is made. */
static struct rng rng_for(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	struct rng r = {seed * 0x100000001b3ULL ^ 0xcbf29ce484222325ULL};

	r.s ^= rng_next(&r) + a;
	r.s ^= rng_next(&r) + b * 0x9e37ULL;
	r.s ^= rng_next(&r) + c * 0x85ebca6bULL;
	rng_next(&r);
	return r;
}

/* A whole number in [lo, hi]. */
static long rnd(struct rng *r, long lo, long hi)
{
	return hi <= lo ? lo : lo + (long)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability pct/100. */
static bool chance(struct rng *r, unsigned pct)
{
	return rng_next(r) % 100 < pct;
}

/* A JSON request with the admin token; *out (when given) gets the parsed
 * answer (NULL when it is not JSON; the caller frees it). The status or -1. */
static long api(struct sample *S, const char *method, const char *path, const cJSON *body,
		cJSON **out)
{
	struct curl_slist *h = curl_slist_append(NULL, S->c.auth);
	char *txt = body ? cJSON_PrintUnformatted(body) : NULL;
	long st;

	h = curl_slist_append(h, "Content-Type: application/json");
	if (body && !txt)
		st = -1;
	else if (body)
		st = httpc_do(&S->c, method, path, h, txt, strlen(txt));
	else if (!strcmp(method, "GET"))
		st = httpc_do(&S->c, method, path, h, NULL, 0);
	else
		st = httpc_do(&S->c, method, path, h, "", 0);
	curl_slist_free_all(h);
	free(txt);
	if (out)
		*out = st > 0 ? cJSON_Parse(S->c.resp) : NULL;
	return st;
}

/* The string member k of o, or NULL (o may be NULL). */
static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Copy the string field k of o into dst (n bytes); 0 or -EPROTO. */
static int jcopy(const cJSON *o, const char *k, char *dst, size_t n)
{
	const char *v = jstr(o, k);

	if (!v || strlen(v) >= n)
		return -EPROTO;
	snprintf(dst, n, "%s", v);
	return 0;
}

/* Say what an unexpected answer was ("what: status N: body") and fail. */
static int api_fail(struct sample *S, const char *what, long st)
{
	if (st < 0)
		bench_fail("%s: cannot reach %s", what, S->c.base);
	else
		bench_fail("%s: status %ld: %.300s", what, st, S->c.resp);
	return -EPROTO;
}

/* --- sign-in --- */

/* The admin's Authorization header into S->c.auth: the token of --token-file
 * (checked with GET /api/v1/me), or a sign-in with --email and
 * --password-file. 0, or -errno after bench_fail() said why. */
static int sign_in(struct sample *S)
{
	char *secret = NULL;
	cJSON *b, *a = NULL;
	long st;
	int ret;

	if (S->o.token_file) {
		ret = read_secret_line(S->o.token_file, 200, &secret);
		if (ret) {
			bench_fail("--token-file %s: %s", S->o.token_file, strerror(-ret));
			return ret;
		}
		snprintf(S->c.auth, sizeof(S->c.auth), "Authorization: Bearer %s", secret);
		explicit_bzero(secret, strlen(secret));
		free(secret);
		st = api(S, "GET", "/api/v1/me", NULL, NULL);
		return st == 200 ? 0 : api_fail(S, "the token of --token-file", st);
	}
	ret = read_secret_line(S->o.password_file, 1024, &secret);
	if (ret) {
		bench_fail("--password-file %s: %s", S->o.password_file, strerror(-ret));
		return ret;
	}
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "email", S->o.email);
	cJSON_AddStringToObject(b, "password", secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	st = api(S, "POST", "/api/v1/auth/login", b, &a);
	cJSON_Delete(b);
	if (st != 200 || !jstr(a, "token") || strlen(jstr(a, "token")) > 200) {
		cJSON_Delete(a);
		return api_fail(S, "sign-in", st);
	}
	snprintf(S->c.auth, sizeof(S->c.auth), "Authorization: Bearer %s", jstr(a, "token"));
	cJSON_Delete(a);
	return 0;
}

/* --- state file --- */

/* Read the --state file into S->state (a new object when the file does not
 * exist; nothing without --state). 0, or -errno after bench_fail(). */
static int state_load(struct sample *S)
{
	char *txt = NULL;
	size_t len;
	int ret;

	if (!S->o.state)
		return 0;
	ret = read_file(S->o.state, 1u << 20, &txt, &len);
	if (ret == -ENOENT) {
		S->state = cJSON_CreateObject();
		return S->state ? 0 : -ENOMEM;
	}
	if (ret) {
		bench_fail("--state %s: %s", S->o.state, strerror(-ret));
		return ret;
	}
	S->state = cJSON_Parse(txt);
	free(txt);
	if (!cJSON_IsObject(S->state)) {
		bench_fail("--state %s: not a state file of actlog-sample", S->o.state);
		return -EINVAL;
	}
	return 0;
}

/* Write S->state to the --state file, atomically, mode 0600 (a no-op
 * without --state). 0, or -errno after bench_fail(). */
static int state_save(struct sample *S)
{
	char tmp[4200];
	char *txt;
	int ret;

	if (!S->state)
		return 0;
	txt = cJSON_Print(S->state);
	if (!txt)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", S->o.state);
	ret = write_file_atomic(S->o.state, tmp, txt, strlen(txt), 0600);
	free(txt);
	if (ret)
		bench_fail("--state %s: %s", S->o.state, strerror(-ret));
	return ret;
}

/* The state's object k, made when missing (NULL without a state). */
static cJSON *state_obj(struct sample *S, const char *k)
{
	cJSON *o;

	if (!S->state)
		return NULL;
	o = cJSON_GetObjectItemCaseSensitive(S->state, k);
	if (!cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(S->state, k);
		o = cJSON_AddObjectToObject(S->state, k);
	}
	return o;
}

/* The people's password: --people-password-file, else the one kept in the
 * state, else a new random one (kept in the state). */
static int people_password(struct sample *S)
{
	static const char al[] = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
	uint8_t rb[16];
	char *pw = NULL;
	const char *kept = jstr(S->state, "people_password");
	int ret;

	if (S->o.people_pw_file) {
		ret = read_secret_line(S->o.people_pw_file, 72, &pw);
		if (ret || strlen(pw) < 8) {
			bench_fail("--people-password-file %s: %s", S->o.people_pw_file,
				   ret ? strerror(-ret) : "8..72 bytes needed");
			free(pw);
			return ret ? ret : -EINVAL;
		}
		snprintf(S->people_pw, sizeof(S->people_pw), "%s", pw);
		free(pw);
	} else if (kept && strlen(kept) >= 8 && strlen(kept) < sizeof(S->people_pw)) {
		snprintf(S->people_pw, sizeof(S->people_pw), "%s", kept);
	} else {
		if (getrandom(rb, sizeof(rb), 0) != (ssize_t)sizeof(rb))
			return -EIO;
		for (size_t i = 0; i < sizeof(rb); i++)
			S->people_pw[i] = al[rb[i] % (sizeof(al) - 1)];
		S->people_pw[sizeof(rb)] = 0;
		S->pw_new = true;
	}
	if (S->state) {
		cJSON_DeleteItemFromObjectCaseSensitive(S->state, "people_password");
		cJSON_AddStringToObject(S->state, "people_password", S->people_pw);
	}
	return 0;
}

/* --- the organisation --- */

/* The id of parent's child of that type and name, made when missing. */
static int node_ensure(struct sample *S, const char *parent, const char *type, const char *name,
		       char *id, size_t n)
{
	char path[160];
	cJSON *a = NULL, *ch, *b;
	long st;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s/children", parent);
	st = api(S, "GET", path, NULL, &a);
	if (st != 200) {
		cJSON_Delete(a);
		return api_fail(S, path, st);
	}
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(a, "children"))
	{
		const char *t = jstr(ch, "type"), *nm = jstr(ch, "name");

		if (t && nm && !strcmp(t, type) && !strcmp(nm, name)) {
			ret = jcopy(ch, "id", id, n);
			break;
		}
	}
	cJSON_Delete(a);
	if (ret != -ENOENT)
		return ret;
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "type", type);
	cJSON_AddStringToObject(b, "name", name);
	cJSON_AddStringToObject(b, "parent_id", parent);
	st = api(S, "POST", "/api/v1/nodes", b, &a);
	cJSON_Delete(b);
	if (st != 201 || jcopy(a, "id", id, n)) {
		cJSON_Delete(a);
		return api_fail(S, "POST /api/v1/nodes", st);
	}
	cJSON_Delete(a);
	return 0;
}

/* The business (--business, else the first one) and the three teams with
 * their domains and projects, made when missing, into S->team_id. 0, or
 * -errno after bench_fail(). */
static int org_tree(struct sample *S)
{
	char biz[40], dom[40], prj[40];
	cJSON *a = NULL;
	long st;
	int ret;

	if (S->o.business) {
		snprintf(biz, sizeof(biz), "%s", S->o.business);
	} else {
		const cJSON *first;

		st = api(S, "GET", "/api/v1/nodes/root/children", NULL, &a);
		if (st != 200) {
			cJSON_Delete(a);
			return api_fail(S, "GET /api/v1/nodes/root/children", st);
		}
		first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "children"), 0);
		ret = jcopy(first, "id", biz, sizeof(biz));
		cJSON_Delete(a);
		if (ret) {
			bench_fail("the server has no business: make one first");
			return -ENOENT;
		}
	}
	for (size_t i = 0; i < N_TEAMS; i++) {
		ret = node_ensure(S, biz, "domain", TEAMS[i].domain, dom, sizeof(dom));
		if (!ret)
			ret = node_ensure(S, dom, "project", TEAMS[i].project, prj, sizeof(prj));
		if (!ret)
			ret = node_ensure(S, prj, "team", TEAMS[i].team, S->team_id[i],
					  sizeof(S->team_id[i]));
		if (ret)
			return ret;
	}
	return 0;
}

/* Each person's user (made when no user of their team has the email) and,
 * for a manager, the manager grant on the team. 0, or -errno after
 * bench_fail(). */
static int org_people(struct sample *S)
{
	for (size_t t = 0; t < N_TEAMS; t++) {
		char path[160];
		cJSON *a = NULL, *u;
		long st;

		snprintf(path, sizeof(path), "/api/v1/users?node_id=%s", S->team_id[t]);
		st = api(S, "GET", path, NULL, &a);
		if (st != 200) {
			cJSON_Delete(a);
			return api_fail(S, path, st);
		}
		for (size_t i = 0; i < N_PEOPLE; i++) {
			struct person *p = &S->p[i];

			if (p->d->team != t)
				continue;
			cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(a, "users"))
			{
				const char *e = jstr(u, "email");

				if (e && !strcasecmp(e, p->email))
					jcopy(u, "id", p->user_id, sizeof(p->user_id));
			}
		}
		cJSON_Delete(a);
	}
	for (size_t i = 0; i < N_PEOPLE; i++) {
		struct person *p = &S->p[i];
		cJSON *b, *a = NULL;
		long st;

		if (!p->user_id[0]) {
			b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "email", p->email);
			cJSON_AddStringToObject(b, "name", p->d->name);
			cJSON_AddStringToObject(b, "login", p->d->login);
			cJSON_AddStringToObject(b, "password", S->people_pw);
			cJSON_AddStringToObject(b, "team_id", S->team_id[p->d->team]);
			st = api(S, "POST", "/api/v1/users", b, &a);
			cJSON_Delete(b);
			if (st != 201 || jcopy(a, "id", p->user_id, sizeof(p->user_id))) {
				cJSON_Delete(a);
				return api_fail(S, "POST /api/v1/users", st);
			}
			cJSON_Delete(a);
			p->created = true;
			S->people_created++;
		}
		if (p->d->manager) {
			b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "user_id", p->user_id);
			cJSON_AddStringToObject(b, "role", "manager");
			cJSON_AddStringToObject(b, "node_id", S->team_id[p->d->team]);
			st = api(S, "POST", "/api/v1/grants", b, NULL);
			cJSON_Delete(b);
			if (st != 201 && st != 409) /* 409: granted before */
				return api_fail(S, "POST /api/v1/grants", st);
		}
	}
	return 0;
}

/* Enroll p's machine into its team with the team's secret (made once per
 * run in *secret), confirm it when pending, make p its owner. */
static int enroll(struct sample *S, struct person *p, char *secret, size_t n)
{
	char path[160], token[128];
	cJSON *b, *a = NULL;
	long st;

	if (!secret[0]) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s/enrollment-secrets",
			 S->team_id[p->d->team]);
		b = cJSON_CreateObject();
		cJSON_AddNumberToObject(b, "ttl_s", 86400);
		st = api(S, "POST", path, b, &a);
		cJSON_Delete(b);
		if (st != 201 || jcopy(a, "secret", secret, n)) {
			cJSON_Delete(a);
			return api_fail(S, path, st);
		}
		cJSON_Delete(a);
	}
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "secret", secret);
	cJSON_AddStringToObject(b, "host_id", p->host_id);
	cJSON_AddStringToObject(b, "hostname", p->hostname);
	cJSON_AddStringToObject(b, "agent_version", ACTLOG_VERSION);
	{
		/* no Authorization: a machine's first enrollment */
		struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
		char *txt = cJSON_PrintUnformatted(b);

		st = txt ? httpc_do(&S->c, "POST", "/api/v1/enroll", h, txt, strlen(txt)) : -1;
		curl_slist_free_all(h);
		free(txt);
	}
	cJSON_Delete(b);
	a = cJSON_Parse(S->c.resp);
	if (st != 201 || jcopy(a, "device_id", p->dev_id, sizeof(p->dev_id)) ||
	    jcopy(a, "device_token", token, sizeof(token))) {
		cJSON_Delete(a);
		return api_fail(S, "POST /api/v1/enroll", st);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "pending"))) {
		snprintf(path, sizeof(path), "/api/v1/devices/%s/confirm", p->dev_id);
		st = api(S, "POST", path, NULL, NULL);
		if (st != 200) {
			cJSON_Delete(a);
			return api_fail(S, path, st);
		}
	}
	cJSON_Delete(a);
	snprintf(path, sizeof(path), "/api/v1/devices/%s", p->dev_id);
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "owner_id", p->user_id);
	st = api(S, "PUT", path, b, NULL);
	cJSON_Delete(b);
	if (st != 200)
		return api_fail(S, path, st);
	snprintf(p->dev_auth, sizeof(p->dev_auth), "Authorization: Bearer %s", token);
	S->devices_enrolled++;
	{
		cJSON *devs = state_obj(S, "devices"), *d;

		if (devs) {
			cJSON_DeleteItemFromObjectCaseSensitive(devs, p->host_id);
			d = cJSON_AddObjectToObject(devs, p->host_id);
			cJSON_AddStringToObject(d, "device_id", p->dev_id);
			cJSON_AddStringToObject(d, "token", token);
			cJSON_AddStringToObject(d, "server", S->c.base);
		}
	}
	explicit_bzero(token, sizeof(token));
	return state_save(S);
}

/* Each person's device: the one the state holds a token for when the team
 * still has it, else a new enrollment; a device of the team with the
 * person's host_id but no token here is left alone (said). */
static int org_devices(struct sample *S)
{
	cJSON *devs = state_obj(S, "devices");

	for (size_t t = 0; t < N_TEAMS; t++) {
		char path[160], secret[128] = "";
		cJSON *a = NULL, *d;
		long st;
		int ret = 0;

		snprintf(path, sizeof(path), "/api/v1/devices?node_id=%s", S->team_id[t]);
		st = api(S, "GET", path, NULL, &a);
		if (st != 200) {
			cJSON_Delete(a);
			return api_fail(S, path, st);
		}
		for (size_t i = 0; i < N_PEOPLE && !ret; i++) {
			struct person *p = &S->p[i];
			const cJSON *kept = cJSON_GetObjectItemCaseSensitive(devs, p->host_id);
			const char *kid = jstr(kept, "device_id"), *ktok = jstr(kept, "token");
			bool known = false, mine = false;

			if (p->d->team != t)
				continue;
			cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(a, "devices"))
			{
				const char *h = jstr(d, "host_id"), *id = jstr(d, "id");

				if (!h || strcmp(h, p->host_id) ||
				    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "revoked")))
					continue;
				known = true;
				if (kid && id && !strcmp(kid, id))
					mine = true;
			}
			if (mine && ktok && strlen(ktok) < 100 && strlen(kid) < sizeof(p->dev_id)) {
				snprintf(p->dev_id, sizeof(p->dev_id), "%s", kid);
				snprintf(p->dev_auth, sizeof(p->dev_auth),
					 "Authorization: Bearer %s", ktok);
			} else if (known) {
				bench_note(
				    "%s: the machine %s was enrolled by an earlier run whose "
				    "token is not in the state file: its records are skipped",
				    p->d->login, p->hostname);
			} else {
				ret = enroll(S, p, secret, sizeof(secret));
			}
		}
		explicit_bzero(secret, sizeof(secret));
		cJSON_Delete(a);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- the records of one person-day --- */

struct line {
	int64_t group_ms; /* the time that picks the batch: start, else ts */
	int64_t ts_ms;
	char *text;
};

struct day {
	struct line *v;
	size_t n, cap;
	int err;
};

/* Append record o (consumed) to the day. */
static void day_add(struct day *dy, cJSON *o, int64_t group_ms, int64_t ts_ms)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (!s) {
		dy->err = -ENOMEM;
		return;
	}
	if (dy->n == dy->cap) {
		size_t cap = dy->cap ? dy->cap * 2 : 1024;
		struct line *v = realloc(dy->v, cap * sizeof(*v));

		if (!v) {
			free(s);
			dy->err = -ENOMEM;
			return;
		}
		dy->v = v;
		dy->cap = cap;
	}
	dy->v[dy->n++] = (struct line){group_ms, ts_ms, s};
}

/* Free the day's lines; dy is empty after. */
static void day_free(struct day *dy)
{
	for (size_t i = 0; i < dy->n; i++)
		free(dy->v[i].text);
	free(dy->v);
	memset(dy, 0, sizeof(*dy));
}

/* The head every record has (record.c record_new()). */
static cJSON *rec_new(const struct person *p, const char *type, int64_t ts_ms)
{
	char ts[RFC3339_LEN];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "ts", rfc3339_ms(ts_ms, ts));
	cJSON_AddNumberToObject(o, "v", 1);
	cJSON_AddStringToObject(o, "host_id", p->host_id);
	cJSON_AddStringToObject(o, "user", p->d->login);
	return o;
}

struct counts {
	long keys, clicks, moves, distance, scrolls;
};

/* The five input counters of k into o, as record.c writes them. */
static void add_counts(cJSON *o, const struct counts *k)
{
	cJSON_AddNumberToObject(o, "keys", (double)k->keys);
	cJSON_AddNumberToObject(o, "clicks", (double)k->clicks);
	cJSON_AddNumberToObject(o, "moves", (double)k->moves);
	cJSON_AddNumberToObject(o, "distance", (double)k->distance);
	cJSON_AddNumberToObject(o, "scrolls", (double)k->scrolls);
}

/* An activity record of the minute starting at t (record.c record_activity()). */
static cJSON *rec_activity(const struct person *p, int64_t t, const struct counts *all,
			   long active_s, bool idle, const struct counts *syn, long syn_active_s)
{
	char ts[RFC3339_LEN];
	cJSON *o = rec_new(p, "activity", t + SP_MIN_MS), *s;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "start", rfc3339_ms(t, ts));
	cJSON_AddStringToObject(o, "end", rfc3339_ms(t + SP_MIN_MS, ts));
	cJSON_AddNumberToObject(o, "interval_s", 60);
	add_counts(o, all);
	cJSON_AddNumberToObject(o, "active_s", (double)active_s);
	cJSON_AddBoolToObject(o, "idle", idle);
	s = cJSON_AddObjectToObject(o, "synthetic");
	if (!s) {
		cJSON_Delete(o);
		return NULL;
	}
	add_counts(s, syn);
	cJSON_AddNumberToObject(s, "active_s", (double)syn_active_s);
	return o;
}

/* Pick an app of the role's mix by weight. */
static unsigned pick_app(struct rng *r, enum role role)
{
	unsigned total = 0, i, x;

	for (i = 0; i < 4 && APPS[role][i].app; i++)
		total += APPS[role][i].weight;
	x = (unsigned)rnd(r, 0, total - 1);
	for (i = 0; i < 4 && APPS[role][i].app; i++) {
		if (x < APPS[role][i].weight)
			return i;
		x -= APPS[role][i].weight;
	}
	return 0;
}

/* An app_usage record of the minute starting at t: the main app of the
 * task, sometimes a second one (app_usage.c record_app_usage()). */
static cJSON *rec_apps(const struct person *p, struct rng *r, int64_t t, unsigned main_app,
		       long focus_s, int *pid_base)
{
	enum role role = TEAMS[p->d->team].role;
	char ts[RFC3339_LEN];
	cJSON *o = rec_new(p, "app_usage", t + SP_MIN_MS), *arr, *e;
	unsigned other = pick_app(r, role);
	long a = focus_s, b = 0;

	if (!o)
		return NULL;
	if (other != main_app && chance(r, 30)) {
		b = rnd(r, 3, focus_s / 3 + 3);
		a = focus_s - b > 0 ? focus_s - b : 0;
	}
	cJSON_AddStringToObject(o, "start", rfc3339_ms(t, ts));
	cJSON_AddStringToObject(o, "end", rfc3339_ms(t + SP_MIN_MS, ts));
	cJSON_AddNumberToObject(o, "interval_s", 60);
	cJSON_AddStringToObject(o, "source", "gnome");
	arr = cJSON_AddArrayToObject(o, "apps");
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "app", APPS[role][main_app].app);
	cJSON_AddNumberToObject(e, "focus_s", (double)a);
	cJSON_AddItemToArray(arr, e);
	if (b) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "app", APPS[role][other].app);
		cJSON_AddNumberToObject(e, "focus_s", (double)b);
		cJSON_AddItemToArray(arr, e);
	}
	cJSON_AddNumberToObject(o, "unknown_s", (double)(60 - focus_s));
	arr = cJSON_AddArrayToObject(o, "top_cpu");
	for (unsigned i = 0; i < 2; i++) {
		unsigned k = i ? other : main_app;

		if (i && k == main_app)
			break;
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "pid", pid_base[k]);
		cJSON_AddNumberToObject(e, "uid", 1000);
		cJSON_AddStringToObject(e, "app", APPS[role][k].app);
		cJSON_AddStringToObject(e, "exe", APPS[role][k].exe);
		cJSON_AddNumberToObject(e, "cpu_s", (double)rnd(r, 1, i ? 40 : 180) / 10.0);
		cJSON_AddItemToArray(arr, e);
	}
	return o;
}

/* A process exec at t and its exit run_ms later (record.c record_process()). */
static void rec_process(struct day *dy, const struct person *p, struct rng *r, int64_t t, int pid,
			int ppid)
{
	enum role role = TEAMS[p->d->team].role;
	const char *const *pr = PROCS[role][rnd(r, 0, 7)];
	char ts[RFC3339_LEN];
	int64_t run_ms = rnd(r, 5, 1500) * (chance(r, 10) ? 100 : 1);
	cJSON *o;

	o = rec_new(p, "process", t);
	if (o) {
		cJSON_AddStringToObject(o, "event", "exec");
		cJSON_AddNumberToObject(o, "pid", pid);
		cJSON_AddNumberToObject(o, "ppid", ppid);
		cJSON_AddNumberToObject(o, "uid", 1000);
		cJSON_AddStringToObject(o, "comm", pr[0]);
		cJSON_AddStringToObject(o, "exe", pr[1]);
		cJSON_AddStringToObject(o, "start", rfc3339_ms(t, ts));
	}
	day_add(dy, o, t, t);
	o = rec_new(p, "process", t + run_ms);
	if (o) {
		cJSON_AddStringToObject(o, "event", "exit");
		cJSON_AddNumberToObject(o, "pid", pid);
		cJSON_AddNumberToObject(o, "ppid", ppid);
		cJSON_AddNumberToObject(o, "uid", 1000);
		cJSON_AddStringToObject(o, "comm", pr[0]);
		cJSON_AddStringToObject(o, "start", rfc3339_ms(t, ts));
		cJSON_AddNumberToObject(o, "exit_code", chance(r, 5) ? 1 : 0);
		cJSON_AddNumberToObject(o, "cpu_s",
					(double)(run_ms * rnd(r, 5, 60) / 100) / 1000.0);
		cJSON_AddNumberToObject(o, "run_s", (double)run_ms / 1000.0);
	}
	day_add(dy, o, t + run_ms, t + run_ms);
}

/* A sysinfo record (sysinfo.c record_sysinfo()): the kernel is upgraded
 * every Wednesday (a new release from that day's boot on), the free space
 * of / drifts down through the week. */
static cJSON *rec_sysinfo(const struct person *p, unsigned idx, int64_t ts_ms, int64_t boot_ms,
			  long daynum, const char *reason, struct rng *r)
{
	char ts[RFC3339_LEN], rel[48];
	long patch = 20 + ((daynum + 1) / 7) % 20;
	double total = 512.0e9,
	       used = 180.0e9 + (double)(daynum % 28) * 3.5e9 + (double)(idx * 13 % 60) * 1.0e9;
	double l1 = (double)rnd(r, 5, 250) / 100.0;
	cJSON *o = rec_new(p, "sysinfo", ts_ms), *x, *arr, *e;

	if (!o)
		return NULL;
	snprintf(rel, sizeof(rel), "6.1.0-%ld-amd64", patch);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddStringToObject(o, "hostname", p->hostname);
	x = cJSON_AddObjectToObject(o, "os");
	cJSON_AddStringToObject(x, "name", "Debian GNU/Linux");
	cJSON_AddStringToObject(x, "id", "debian");
	cJSON_AddStringToObject(x, "version", "12 (bookworm)");
	cJSON_AddStringToObject(x, "version_id", "12");
	cJSON_AddStringToObject(x, "pretty_name", "Debian GNU/Linux 12 (bookworm)");
	x = cJSON_AddObjectToObject(o, "kernel");
	cJSON_AddStringToObject(x, "release", rel);
	cJSON_AddStringToObject(x, "version", "#1 SMP PREEMPT_DYNAMIC Debian");
	cJSON_AddStringToObject(x, "arch", "x86_64");
	cJSON_AddStringToObject(o, "boot_time", rfc3339_ms(boot_ms, ts));
	x = cJSON_AddObjectToObject(o, "cpu");
	cJSON_AddStringToObject(
	    x, "model", p->d->team == 1 ? "AMD Ryzen 7 7840U" : "Intel(R) Core(TM) i7-1365U");
	cJSON_AddNumberToObject(x, "sockets", 1);
	cJSON_AddNumberToObject(x, "cores", p->d->team == 1 ? 8 : 10);
	cJSON_AddNumberToObject(x, "threads", p->d->team == 1 ? 16 : 12);
	cJSON_AddNumberToObject(x, "online", p->d->team == 1 ? 16 : 12);
	{
		double l[3] = {l1, l1 * 0.8, l1 * 0.6};

		for (int i = 0; i < 3; i++)
			l[i] = (double)(int64_t)(l[i] * 100) / 100;
		cJSON_AddItemToObject(x, "load", cJSON_CreateDoubleArray(l, 3));
	}
	cJSON_AddNumberToObject(x, "usage_pct", (double)rnd(r, 20, 350) / 10.0);
	cJSON_AddNumberToObject(x, "iowait_pct", (double)rnd(r, 0, 30) / 10.0);
	cJSON_AddNumberToObject(x, "usage_window_s", 60);
	x = cJSON_AddObjectToObject(o, "memory");
	cJSON_AddNumberToObject(x, "total", 33336221696.0);
	cJSON_AddNumberToObject(x, "available", (double)rnd(r, 12, 24) * 1.0e9);
	cJSON_AddNumberToObject(x, "swap_total", 1023406080.0);
	cJSON_AddNumberToObject(x, "swap_free", 1023406080.0);
	arr = cJSON_AddArrayToObject(o, "filesystems");
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "mount", "/");
	cJSON_AddStringToObject(e, "source", "/dev/nvme0n1p2");
	cJSON_AddStringToObject(e, "fstype", "ext4");
	cJSON_AddNumberToObject(e, "total", total);
	cJSON_AddNumberToObject(e, "free", total - used);
	cJSON_AddNumberToObject(e, "avail", total - used - 26.0e9);
	cJSON_AddItemToArray(arr, e);
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "mount", "/boot/efi");
	cJSON_AddStringToObject(e, "source", "/dev/nvme0n1p1");
	cJSON_AddStringToObject(e, "fstype", "vfat");
	cJSON_AddNumberToObject(e, "total", 535805952.0);
	cJSON_AddNumberToObject(e, "free", 529530880.0);
	cJSON_AddNumberToObject(e, "avail", 529530880.0);
	cJSON_AddItemToArray(arr, e);
	return o;
}

/* The local midnight of the day holding unix ms t (in the TZ set), and the
 * day's number (days since 1970-01-01, local) and weekday (0 = Sunday). */
static int64_t local_midnight(int64_t t_ms, long *daynum, int *wday)
{
	time_t t = (time_t)(t_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	*wday = tm.tm_wday;
	*daynum = (long)(timegm(&(struct tm){
			     .tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday}) /
			 86400);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

/* Minutes of the day: what the person does in each. */
enum { M_OFF, M_IDLE, M_WORK };

/*
 * The records of person p on the local day starting at midnight (ms), with
 * day number daynum and weekday wday, into dy. Only the seed, the person and
 * the day decide them. The screenshot minutes go into shots[] (*n_shots).
 */
static void gen_day(struct sample *S, struct person *p, int64_t midnight, long daynum, int wday,
		    struct day *dy, int64_t *shots, unsigned *n_shots)
{
	struct rng r = rng_for(S->o.seed, (uint64_t)(p - S->p), (uint64_t)daynum, 1);
	enum role role = TEAMS[p->d->team].role;
	unsigned char m[1440];
	bool weekend = wday == 0 || wday == 6;
	int first = -1, last = -1, pid = 2000 + (int)rnd(&r, 0, 3000), pid_base[4], task_left = 0;
	unsigned main_app = 0, k;

	memset(m, M_OFF, sizeof(m));
	*n_shots = 0;
	if (!weekend || chance(&r, 12)) {
		int start = (int)p->d->start_min + (int)rnd(&r, -15, 15);
		int lunch = 12 * 60 + (int)rnd(&r, -20, 40), lunch_len = (int)rnd(&r, 30, 60);
		int end = start + 8 * 60 + 30 + (int)rnd(&r, -40, 40);

		if (weekend) {
			start = 10 * 60 + (int)rnd(&r, 0, 120);
			end = start + (int)rnd(&r, 40, 120);
			lunch = end;
			lunch_len = 0;
		}
		for (int i = start; i < end && i < 1440; i++)
			m[i] = i >= lunch && i < lunch + lunch_len ? M_IDLE : M_WORK;
		/* short breaks and quiet minutes (reading, meetings away from the desk) */
		for (int b = (int)rnd(&r, 2, 4); b > 0 && !weekend; b--) {
			int at = start + (int)rnd(&r, 60, end - start - 60),
			    len = (int)rnd(&r, 5, 15);

			for (int i = at; i < at + len && i < 1440; i++)
				m[i] = M_IDLE;
		}
		for (int i = start; i < end && i < 1440; i++)
			if (m[i] == M_WORK && chance(&r, 8))
				m[i] = M_IDLE;
		if (p->d->evenings && !weekend && chance(&r, 35)) {
			int es = 20 * 60 + (int)rnd(&r, 0, 60), ee = es + (int)rnd(&r, 25, 90);

			for (int i = es; i < ee && i < 1440; i++)
				m[i] = chance(&r, 90) ? M_WORK : M_IDLE;
		}
		/* the jiggler keeps the machine "busy" until the evening */
		if (p->d->jiggler && !weekend)
			for (int i = start; i < 18 * 60 + 30; i++)
				if (m[i] == M_OFF)
					m[i] = M_IDLE;
	}
	for (int i = 0; i < 1440; i++)
		if (m[i] != M_OFF) {
			if (first < 0)
				first = i;
			last = i;
		}
	if (first < 0)
		return;
	for (k = 0; k < 4; k++)
		pid_base[k] = 1500 + (int)rnd(&r, 0, 900) + (int)k;
	/* the machine boots at its first minute: sysinfo at start and at noon */
	{
		int64_t boot = midnight + (int64_t)first * SP_MIN_MS - rnd(&r, 40, 90) * 1000;

		day_add(
		    dy,
		    rec_sysinfo(p, (unsigned)(p - S->p), boot + 20000, boot, daynum, "start", &r),
		    boot + 20000, boot + 20000);
		if (last > 13 * 60) {
			int64_t noon = midnight + 13 * SP_HOUR_MS + rnd(&r, 0, 599) * 1000;

			if (noon > boot + 20000)
				day_add(dy,
					rec_sysinfo(p, (unsigned)(p - S->p), noon, boot, daynum,
						    "interval", &r),
					noon, noon);
		}
	}
	for (int i = first; i <= last; i++) {
		int64_t t = midnight + (int64_t)i * SP_MIN_MS;
		struct counts all = {0}, syn = {0};
		long active = 0, syn_active = 0;
		bool work = m[i] == M_WORK;

		if (m[i] == M_OFF)
			continue;
		if (work) {
			active = rnd(&r, 18, 58);
			switch (role) {
			case R_DEV:
				all.keys = rnd(&r, 60, 260);
				all.clicks = rnd(&r, 3, 25);
				all.scrolls = rnd(&r, 0, 25);
				break;
			case R_DESIGN:
				all.keys = rnd(&r, 5, 60);
				all.clicks = rnd(&r, 20, 90);
				all.scrolls = rnd(&r, 5, 40);
				break;
			case R_SALES:
				all.keys = rnd(&r, 30, 160);
				all.clicks = rnd(&r, 8, 40);
				all.scrolls = rnd(&r, 2, 30);
				break;
			}
			all.moves = rnd(&r, 150, role == R_DESIGN ? 2400 : 1200);
			all.distance = all.moves * rnd(&r, 8, 16);
		}
		if (p->d->jiggler) {
			/* a jiggler: a synthetic move every second, a real person
			 * typing little */
			all.keys = work ? rnd(&r, 0, 25) : 0;
			all.clicks = work ? rnd(&r, 0, 6) : 0;
			syn.moves = 60;
			syn.distance = 60 * 2;
			syn_active = 60;
			all.moves += syn.moves;
			all.distance += syn.distance;
			active = 60;
		}
		day_add(dy, rec_activity(p, t, &all, active, active == 0, &syn, syn_active), t,
			t + SP_MIN_MS);
		if (!work)
			continue;
		if (task_left-- <= 0) {
			main_app = pick_app(&r, role);
			task_left = (int)rnd(&r, 8, 40);
		}
		day_add(dy, rec_apps(p, &r, t, main_app, rnd(&r, 45, 60), pid_base), t,
			t + SP_MIN_MS);
		for (int e = chance(&r, role == R_DEV ? 35 : 20) ? (int)rnd(&r, 1, 2) : 0; e > 0;
		     e--) {
			pid += (int)rnd(&r, 1, 40);
			rec_process(dy, p, &r, t + rnd(&r, 0, 59999), pid, pid_base[0]);
		}
		if (*n_shots < SP_SHOTS_PER_DAY && chance(&r, 2))
			shots[(*n_shots)++] = t + rnd(&r, 0, 59) * 1000;
	}
}

/* --- sending --- */

/* qsort order of a day's lines: by the hour of group_ms, then by ts. */
static int cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->group_ms / SP_HOUR_MS != y->group_ms / SP_HOUR_MS)
		return x->group_ms < y->group_ms ? -1 : 1;
	return x->ts_ms < y->ts_ms ? -1 : x->ts_ms > y->ts_ms;
}

/* A serialised record's type (T_*), from its first member. */
static unsigned line_type(const char *s)
{
	if (!strncmp(s, "{\"type\":\"activity\"", 18))
		return T_ACTIVITY;
	if (!strncmp(s, "{\"type\":\"app_usage\"", 19))
		return T_APP;
	if (!strncmp(s, "{\"type\":\"process\"", 17))
		return T_PROCESS;
	return T_SYSINFO;
}

/* Send lines [a, b) of one hour as one batch with id bid. */
static int send_batch(struct sample *S, struct person *p, const struct day *dy, size_t a, size_t b,
		      const char *bid)
{
	struct bench_buf g = {0};
	struct curl_slist *h = NULL;
	char hb[200];
	uint8_t *z = NULL;
	size_t zl = 0;
	cJSON *ans;
	long st, acc, rej;
	int ret = 0;

	for (size_t i = a; i < b && !ret; i++)
		ret = bench_buf_add(&g, "%s\n", dy->v[i].text);
	if (!ret)
		ret = gz_compress(g.p, g.len, 6, &z, &zl);
	free(g.p);
	if (ret) {
		bench_fail("batch %s: %s", bid, strerror(-ret));
		return ret;
	}
	snprintf(hb, sizeof(hb), "X-Batch-Id: %s", bid);
	h = curl_slist_append(h, p->dev_auth);
	h = curl_slist_append(h, hb);
	h = curl_slist_append(h, "Content-Encoding: gzip");
	h = curl_slist_append(h, "Content-Type: application/x-ndjson");
	h = curl_slist_append(h, "Expect:");
	st = httpc_do(&S->c, "POST", "/api/v1/ingest", h, z, zl);
	curl_slist_free_all(h);
	free(z);
	ans = st == 200 ? cJSON_Parse(S->c.resp) : NULL;
	acc = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ans, "accepted"));
	rej = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ans, "rejected_count"));
	cJSON_Delete(ans);
	if (st != 200) {
		bench_fail("batch %s of %s (%s)", bid, p->d->login, p->dev_id);
		return api_fail(S, "POST /api/v1/ingest", st);
	}
	if (rej > 0)
		bench_note("batch %s of %s: %ld line(s) rejected: %.300s", bid, p->d->login, rej,
			   S->c.resp);
	S->t.batches++;
	S->t.accepted += (uint64_t)(acc > 0 ? acc : 0);
	S->t.rejected += (uint64_t)(rej > 0 ? rej : 0);
	for (size_t i = a; i < b; i++)
		S->t.by_type[line_type(dy->v[i].text)]++;
	return 0;
}

/* --- screenshots --- */

/* A small picture of a desktop: a panel, a window in the app's colour with
 * lines of "text". JPEG into *out (tjFree() it). 0 or -EIO. */
static int shot_image(struct rng *r, unsigned app, unsigned char **out, unsigned long *len)
{
	static const unsigned char col[4][3] = {
	    {40, 110, 200}, {220, 120, 40}, {60, 160, 90}, {150, 70, 170}};
	unsigned char *px = malloc(SP_SHOT_W * SP_SHOT_H * 3);
	int wx = (int)rnd(r, 10, 120), wy = (int)rnd(r, 40, 80), ww = (int)rnd(r, 380, 500),
	    wh = (int)rnd(r, 250, 300);
	tjhandle tj;
	int ret = -EIO;

	if (!px)
		return -ENOMEM;
	for (int y = 0; y < SP_SHOT_H; y++)
		for (int x = 0; x < SP_SHOT_W; x++) {
			unsigned char *q = px + (y * SP_SHOT_W + x) * 3;
			bool in = x >= wx && x < wx + ww && y >= wy && y < wy + wh;

			if (y < 24) {
				q[0] = q[1] = q[2] = 30;
			} else if (in && y < wy + 22) {
				memcpy(q, col[app % 4], 3);
			} else if (in) {
				int row = (y - wy - 22) / 12, rx = x - wx;
				bool text = (y - wy - 22) % 12 < 6 && rx > 16 &&
					    rx < 16 + (row * 97 + (int)(wx * 7)) % (ww - 40);

				q[0] = q[1] = q[2] = text ? 90 : 245;
			} else {
				q[0] = (unsigned char)(60 + y / 8);
				q[1] = (unsigned char)(80 + y / 10);
				q[2] = 120;
			}
		}
	tj = tjInitCompress();
	if (tj &&
	    !tjCompress2(tj, px, SP_SHOT_W, 0, SP_SHOT_H, TJPF_RGB, out, len, TJSAMP_420, 60, 0))
		ret = 0;
	if (tj)
		tjDestroy(tj);
	free(px);
	return ret;
}

/* The taken_at of p's shots already registered in [from, to) into *have. */
static int shots_have(struct sample *S, struct person *p, int64_t from, int64_t to, cJSON **have)
{
	char path[200];
	long st;

	snprintf(path, sizeof(path), "/api/v1/screenshots?user_id=%s&from=%" PRId64 "&to=%" PRId64,
		 p->user_id, from, to);
	st = api(S, "GET", path, NULL, have);
	return st == 200 ? 0 : api_fail(S, path, st);
}

/* Upload and register one shot of p taken at t (presign, PUT, register, as
 * the agent's shot queue does). A refusal of presign for want of S3
 * settings (409) or by policy (403) turns screenshots off for the run in
 * auto mode. 0, 1 when skipped, or -errno. */
static int shot_send(struct sample *S, struct person *p, int64_t t, unsigned app)
{
	struct rng r = rng_for(S->o.seed, (uint64_t)(p - S->p), (uint64_t)t, 2);
	unsigned char *img = NULL, dg[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1], ts[RFC3339_LEN], key[300], url[2048];
	unsigned long len = 0;
	struct curl_slist *h = NULL;
	cJSON *b, *a = NULL, *hv;
	long st;
	int ret = shot_image(&r, app, &img, &len);

	if (ret)
		return ret;
	crypto_hash_sha256(dg, img, len);
	sodium_bin2hex(hex, sizeof(hex), dg, sizeof(dg));
	rfc3339_ms(t, ts);
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "sha256", hex);
	cJSON_AddNumberToObject(b, "size", (double)len);
	cJSON_AddStringToObject(b, "content_type", "image/jpeg");
	cJSON_AddStringToObject(b, "taken_at", ts);
	cJSON_AddStringToObject(b, "user", p->d->login);
	{
		struct curl_slist *hh = curl_slist_append(NULL, p->dev_auth);
		char *txt = cJSON_PrintUnformatted(b);

		hh = curl_slist_append(hh, "Content-Type: application/json");
		st = txt ? httpc_do(&S->c, "POST", "/api/v1/screenshots/presign", hh, txt,
				    strlen(txt))
			 : -1;
		curl_slist_free_all(hh);
		free(txt);
	}
	cJSON_Delete(b);
	if (st == 409 && S->o.shots == SHOTS_AUTO) {
		/* no usable S3 settings: none for anyone */
		S->shots_off = true;
		snprintf(S->shots_why, sizeof(S->shots_why), "presign answered %ld: %.150s", st,
			 S->c.resp);
		tjFree(img);
		return 1;
	}
	if (st == 403 && S->o.shots == SHOTS_AUTO) {
		/* refused by this person's policy: none for them */
		bench_note("%s: no screenshots: %.150s", p->d->login, S->c.resp);
		p->shots_refused = true;
		S->t.shots_refused++;
		tjFree(img);
		return 1;
	}
	a = st == 200 ? cJSON_Parse(S->c.resp) : NULL;
	if (!a || jcopy(a, "url", url, sizeof(url)) || jcopy(a, "key", key, sizeof(key))) {
		cJSON_Delete(a);
		tjFree(img);
		return api_fail(S, "POST /api/v1/screenshots/presign", st);
	}
	cJSON_ArrayForEach(hv, cJSON_GetObjectItemCaseSensitive(a, "headers"))
	{
		char line[300];

		if (cJSON_IsString(hv) && hv->string) {
			snprintf(line, sizeof(line), "%s: %s", hv->string, hv->valuestring);
			h = curl_slist_append(h, line);
		}
	}
	cJSON_Delete(a);
	h = curl_slist_append(h, "Expect:");
	st = httpc_do(&S->c, "PUT", url, h, img, len);
	curl_slist_free_all(h);
	tjFree(img);
	if (st != 200)
		return api_fail(S, "PUT of a screenshot to S3", st);
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "key", key);
	cJSON_AddNumberToObject(b, "size", (double)len);
	cJSON_AddStringToObject(b, "sha256", hex);
	cJSON_AddNumberToObject(b, "width", SP_SHOT_W);
	cJSON_AddNumberToObject(b, "height", SP_SHOT_H);
	cJSON_AddStringToObject(b, "taken_at", ts);
	cJSON_AddStringToObject(b, "monitor", "eDP-1");
	{
		struct curl_slist *hh = curl_slist_append(NULL, p->dev_auth);
		char *txt = cJSON_PrintUnformatted(b);

		hh = curl_slist_append(hh, "Content-Type: application/json");
		st =
		    txt ? httpc_do(&S->c, "POST", "/api/v1/screenshots", hh, txt, strlen(txt)) : -1;
		curl_slist_free_all(hh);
		free(txt);
	}
	cJSON_Delete(b);
	if (st != 201)
		return api_fail(S, "POST /api/v1/screenshots", st);
	S->t.shots++;
	return 0;
}

/* Whether the list of shots holds one taken at t. */
static bool shot_known(const cJSON *have, int64_t t)
{
	char ts[RFC3339_LEN];
	const cJSON *s;

	rfc3339_ms(t, ts);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(have, "screenshots"))
	{
		const char *v = jstr(s, "taken_at");

		if (v && !strcmp(v, ts))
			return true;
	}
	return false;
}

/* --- one person's range --- */

/* Generate and send p's records of every local day that meets [from, to):
 * the complete UTC hours at or after from and before to, one batch each,
 * then the day's screenshots. 0, or -errno after bench_fail(). */
static int load_person(struct sample *S, struct person *p, int64_t from, int64_t to)
{
	int64_t first_hour = (from + SP_HOUR_MS - 1) / SP_HOUR_MS * SP_HOUR_MS;
	int64_t end_hour = to / SP_HOUR_MS * SP_HOUR_MS; /* complete hours only */
	uint64_t before = S->t.accepted;
	cJSON *have = NULL;
	long daynum;
	int wday, ret = 0;
	int64_t mid = local_midnight(from, &daynum, &wday);

	if (!S->shots_off && S->o.shots != SHOTS_NO) {
		ret = shots_have(S, p, first_hour, end_hour, &have);
		if (ret)
			return ret;
	}
	while (mid < end_hour && !ret) {
		struct day dy = {0};
		int64_t shots[SP_SHOTS_PER_DAY];
		unsigned n_shots = 0;
		char date[RFC3339_LEN];
		size_t a = 0;

		gen_day(S, p, mid, daynum, wday, &dy, shots, &n_shots);
		ret = dy.err;
		if (!ret && dy.n)
			qsort(dy.v, dy.n, sizeof(dy.v[0]), cmp_line);
		{
			time_t tt = (time_t)daynum * 86400;
			struct tm tm;

			gmtime_r(&tt, &tm);
			strftime(date, sizeof(date), "%Y%m%d", &tm);
		}
		while (!ret && a < dy.n) {
			int64_t hour = dy.v[a].group_ms / SP_HOUR_MS * SP_HOUR_MS;
			size_t b = a;
			char bid[96];

			while (b < dy.n && dy.v[b].group_ms / SP_HOUR_MS * SP_HOUR_MS == hour)
				b++;
			if (hour >= first_hour && hour < end_hour) {
				snprintf(bid, sizeof(bid), "sample-%lu-%s-%" PRId64, S->o.seed,
					 date, (int64_t)(hour / SP_HOUR_MS));
				ret = send_batch(S, p, &dy, a, b, bid);
			}
			a = b;
		}
		for (unsigned i = 0; !ret && i < n_shots && !S->shots_off && !p->shots_refused &&
				     S->o.shots != SHOTS_NO;
		     i++) {
			if (shots[i] < first_hour || shots[i] >= end_hour)
				continue;
			if (shot_known(have, shots[i])) {
				S->t.shots_there++;
				continue;
			}
			ret = shot_send(S, p, shots[i], (unsigned)i);
			if (ret == 1)
				ret = 0;
		}
		day_free(&dy);
		/* the next local midnight (mktime copes with DST days) */
		mid = local_midnight(mid + SP_DAY_MS + 2 * SP_HOUR_MS, &daynum, &wday);
	}
	cJSON_Delete(have);
	if (!ret)
		bench_note("%-10s %-9s %7" PRIu64 " records", p->d->login, TEAMS[p->d->team].team,
			   S->t.accepted - before);
	return ret;
}

/* --- main --- */

/* The --help text. */
static void usage(FILE *f)
{
	fputs("usage: actlog-sample --url URL (--token-file FILE | --email EMAIL --password-file "
	      "FILE)\n"
	      "                     [--state FILE] [--people-password-file FILE] [--days N]\n"
	      "                     [--end TIME] [--seed N] [--tz ZONE] [--business ID]\n"
	      "                     [--shots auto|yes|no] [--json]\n"
	      "\n"
	      "Loads sample activity of a small organisation into a running actlog-server,\n"
	      "through its API only, as an administrator and as the organisation's agents:\n"
	      "\n"
	      "  * the tree: domains Engineering (project Product: teams Backend, Design) and\n"
	      "    Sales (project EMEA: team Accounts) in the first business (or --business),\n"
	      "    nodes of those names being reused;\n"
	      "  * 12 people, LOGIN@" EMAIL_DOMAIN ", the first of each team with the\n"
	      "    manager role on it (mkeller, srossi, dweber); users of that email are reused;\n"
	      "  * one machine per person, enrolled with a team enrollment secret\n"
	      "    (POST /api/v1/enroll), confirmed when pending, owned by the person;\n"
	      "  * the records of the range, sent to POST /api/v1/ingest as gzip NDJSON, one\n"
	      "    batch per machine and hour (X-Batch-Id sample-SEED-DAY-HOUR): activity every\n"
	      "    60 s while a machine is on (working hours that differ per person, starting\n"
	      "    7:30 to 9:30 local time, a lunch break, short breaks, some evenings, most\n"
	      "    weekends off), app_usage with top_cpu in each worked minute (developers:\n"
	      "    code, firefox, gnome-terminal, slack; designers: gimp, inkscape, firefox;\n"
	      "    sales: thunderbird, libreoffice, firefox, zoom), process exec/exit records,\n"
	      "    sysinfo at each boot and at 13:00 (a new kernel every Wednesday, free disk\n"
	      "    space going down); mbianchi's machine runs a mouse jiggler: synthetic moves\n"
	      "    every second until 18:30, few keys;\n"
	      "  * up to 3 screenshots (640x400 JPEG) per person and worked day, through\n"
	      "    presign, PUT and register, when the server has S3 settings.\n"
	      "\n"
	      "Only complete hours are sent, and the seed alone decides the data: running it\n"
	      "again sends the same batch ids, which the server answers without storing\n"
	      "anything twice, and skips the shots already registered. Device tokens (and the\n"
	      "people's password) are kept in the --state file, written with mode 0600;\n"
	      "without it, machines enrolled by an earlier run are skipped.\n"
	      "\n"
	      "Options:\n"
	      "  --url URL                  the server, e.g. http://127.0.0.1:8080\n"
	      "  --token-file FILE          a file holding an administrator's bearer token\n"
	      "  --email EMAIL              an administrator's email, signing in with\n"
	      "  --password-file FILE       a file holding the password (first line)\n"
	      "  --state FILE               device tokens and the people's password (JSON)\n"
	      "  --people-password-file F   the password of the people made (8..72 bytes;\n"
	      "                             default: kept in the state, else made at random)\n"
	      "  --days N                   days of data ending at --end, 1..31 (default 7)\n"
	      "  --end TIME                 RFC 3339 or Unix ms (default: now)\n"
	      "  --seed N                   the random seed (default 1)\n"
	      "  --tz ZONE                  the people's time zone, e.g. Europe/Berlin\n"
	      "                             (default: TZ, else the machine's)\n"
	      "  --business ID              the business to fill (default: the first one)\n"
	      "  --shots auto|yes|no        screenshots: auto (default) skips them all when\n"
	      "                             presign answers 409 (no S3 settings), and a\n"
	      "                             person's when it answers 403 (their policy: not\n"
	      "                             enabled); yes fails then; no sends none\n"
	      "  --json                     the summary as one JSON object on stdout\n"
	      "  --help                     this text\n"
	      "\n"
	      "Progress goes to stderr; the summary (people, records by type, batches,\n"
	      "rejected lines, screenshots) to stdout. Exit status 0 when every batch was\n"
	      "accepted, 1 on an error (said on stderr, or as {\"error\"} with --json), 2 on\n"
	      "bad usage. Rate-limited answers (429, 503) are waited out (Retry-After).\n",
	      f);
}

/* RFC 3339 or Unix ms (2000..2100) into *ms. 0 or -EINVAL. */
static int parse_time(const char *v, int64_t *ms)
{
	uint64_t u;

	if (!rfc3339_parse(v, ms))
		return 0;
	if (!parse_uint(v, 946684800000ULL, 4102444800000ULL, &u)) {
		*ms = (int64_t)u;
		return 0;
	}
	return -EINVAL;
}

/* The options into o. 0, or the exit status (2) after saying why. */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {{"url", required_argument, 0, 'u'},
					   {"token-file", required_argument, 0, 'T'},
					   {"email", required_argument, 0, 'e'},
					   {"password-file", required_argument, 0, 'p'},
					   {"state", required_argument, 0, 's'},
					   {"people-password-file", required_argument, 0, 'P'},
					   {"days", required_argument, 0, 'd'},
					   {"end", required_argument, 0, 'E'},
					   {"seed", required_argument, 0, 'S'},
					   {"tz", required_argument, 0, 'z'},
					   {"business", required_argument, 0, 'b'},
					   {"shots", required_argument, 0, 'x'},
					   {"json", no_argument, 0, 'j'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	int ch;

	o->days = 7;
	o->seed = 1;
	o->end_ms = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o->url = optarg;
			break;
		case 'T':
			o->token_file = optarg;
			break;
		case 'e':
			o->email = optarg;
			break;
		case 'p':
			o->password_file = optarg;
			break;
		case 's':
			o->state = optarg;
			break;
		case 'P':
			o->people_pw_file = optarg;
			break;
		case 'd':
			if (bench_opt_uint("days", optarg, 1, SP_DAYS_MAX, &o->days))
				return 2;
			break;
		case 'E':
			if (parse_time(optarg, &o->end_ms)) {
				bench_fail("--end must be RFC 3339 or Unix ms (2000..2100)");
				return 2;
			}
			break;
		case 'S':
			if (bench_opt_uint("seed", optarg, 0, 1000000000UL, &o->seed))
				return 2;
			break;
		case 'z':
			if (!*optarg || strlen(optarg) > 64 || strchr(optarg, ' ')) {
				bench_fail("--tz must name a zone, e.g. Europe/Berlin");
				return 2;
			}
			o->tz = optarg;
			break;
		case 'b':
			if (strlen(optarg) >= 40) {
				bench_fail("--business must be a node id");
				return 2;
			}
			o->business = optarg;
			break;
		case 'x':
			if (!strcmp(optarg, "auto"))
				o->shots = SHOTS_AUTO;
			else if (!strcmp(optarg, "yes"))
				o->shots = SHOTS_YES;
			else if (!strcmp(optarg, "no"))
				o->shots = SHOTS_NO;
			else {
				bench_fail("--shots must be auto, yes or no");
				return 2;
			}
			break;
		case 'j':
			bench_json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !o->url) {
		if (optind != argc)
			bench_fail("unexpected argument '%s'", argv[optind]);
		else
			bench_fail("--url is required");
		return 2;
	}
	if (o->end_ms > (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC)) {
		bench_fail("--end must not be in the future");
		return 2;
	}
	if (!o->token_file == !(o->email && o->password_file)) {
		bench_fail("give --token-file, or --email and --password-file");
		return 2;
	}
	return 0;
}

/* The run's summary on stdout: text, or one JSON object with --json. */
static void summary(struct sample *S, double secs)
{
	const struct person *mgr = &S->p[0];

	if (bench_json) {
		cJSON *o = cJSON_CreateObject(), *r;
		char *s;

		cJSON_AddNumberToObject(o, "teams", N_TEAMS);
		cJSON_AddNumberToObject(o, "people", N_PEOPLE);
		cJSON_AddNumberToObject(o, "people_created", S->people_created);
		cJSON_AddNumberToObject(o, "devices_enrolled", S->devices_enrolled);
		cJSON_AddNumberToObject(o, "batches", (double)S->t.batches);
		cJSON_AddNumberToObject(o, "accepted", (double)S->t.accepted);
		cJSON_AddNumberToObject(o, "rejected", (double)S->t.rejected);
		r = cJSON_AddObjectToObject(o, "records");
		cJSON_AddNumberToObject(r, "activity", (double)S->t.by_type[T_ACTIVITY]);
		cJSON_AddNumberToObject(r, "app_usage", (double)S->t.by_type[T_APP]);
		cJSON_AddNumberToObject(r, "process", (double)S->t.by_type[T_PROCESS]);
		cJSON_AddNumberToObject(r, "sysinfo", (double)S->t.by_type[T_SYSINFO]);
		cJSON_AddNumberToObject(o, "screenshots", (double)S->t.shots);
		cJSON_AddNumberToObject(o, "screenshots_there", (double)S->t.shots_there);
		cJSON_AddNumberToObject(o, "screenshots_refused_people",
					(double)S->t.shots_refused);
		if (S->shots_off)
			cJSON_AddStringToObject(o, "screenshots_skipped", S->shots_why);
		cJSON_AddStringToObject(o, "manager_email", mgr->email);
		cJSON_AddNumberToObject(o, "seconds", secs);
		s = cJSON_PrintUnformatted(o);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(o);
		return;
	}
	printf("organisation: %zu teams, %zu people (%u new), %u devices enrolled now\n", N_TEAMS,
	       N_PEOPLE, S->people_created, S->devices_enrolled);
	printf("records: %" PRIu64 " accepted in %" PRIu64 " batches (activity %" PRIu64
	       ", app_usage %" PRIu64 ", process %" PRIu64 ", sysinfo %" PRIu64 "), %" PRIu64
	       " rejected, %.1f s\n",
	       S->t.accepted, S->t.batches, S->t.by_type[T_ACTIVITY], S->t.by_type[T_APP],
	       S->t.by_type[T_PROCESS], S->t.by_type[T_SYSINFO], S->t.rejected, secs);
	if (S->o.shots == SHOTS_NO)
		printf("screenshots: none (--shots no)\n");
	else if (S->shots_off)
		printf("screenshots: skipped (%s)\n", S->shots_why);
	else
		printf("screenshots: %" PRIu64 " uploaded, %" PRIu64 " there already, %" PRIu64
		       " people whose policy refuses them\n",
		       S->t.shots, S->t.shots_there, S->t.shots_refused);
	printf("a manager: %s (team %s)\n", mgr->email, TEAMS[mgr->d->team].team);
}

int main(int argc, char **argv)
{
	static struct sample S;
	int64_t from;
	uint64_t t0;
	int ret, rc = 1;

	bench_prog = "actlog-sample";
	ret = parse_opts(&S.o, argc, argv);
	if (ret)
		return ret;
	if (S.o.tz)
		setenv("TZ", S.o.tz, 1);
	tzset();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || sodium_init() < 0) {
		bench_fail("cannot initialise libcurl or libsodium");
		return 1;
	}
	for (size_t i = 0; i < N_PEOPLE; i++) {
		struct person *p = &S.p[i];
		struct rng r = rng_for(S.o.seed, i, 0, 3);

		p->d = &PEOPLE[i];
		snprintf(p->email, sizeof(p->email), "%s@%s", p->d->login, EMAIL_DOMAIN);
		snprintf(p->host_id, sizeof(p->host_id), "%016" PRIx64 "%016" PRIx64, rng_next(&r),
			 rng_next(&r));
		snprintf(p->hostname, sizeof(p->hostname), "%s-%s", p->d->login,
			 TEAMS[p->d->team].role == R_DEV ? "ws" : "laptop");
	}
	t0 = clock_ns(CLOCK_MONOTONIC);
	ret = httpc_open(&S.c, S.o.url, SP_RESP_MAX, SP_RETRIES);
	if (ret) {
		bench_fail("--url: %s", strerror(-ret));
		goto out;
	}
	ret = state_load(&S);
	if (!ret)
		ret = sign_in(&S);
	if (!ret)
		ret = people_password(&S);
	if (!ret)
		ret = state_save(&S);
	if (!ret)
		ret = org_tree(&S);
	if (!ret)
		ret = org_people(&S);
	if (!ret && S.pw_new && !S.people_created && S.state) {
		/* the people were made by a run whose state is lost: their
		 * password is not the one just made */
		cJSON_DeleteItemFromObjectCaseSensitive(S.state, "people_password");
		ret = state_save(&S);
	}
	if (!ret)
		ret = org_devices(&S);
	if (ret)
		goto out;
	bench_note("organisation ready: %zu teams, %zu people (%u new)", N_TEAMS, N_PEOPLE,
		   S.people_created);
	from = S.o.end_ms - (int64_t)S.o.days * SP_DAY_MS;
	for (size_t i = 0; i < N_PEOPLE && !ret; i++)
		if (S.p[i].dev_auth[0])
			ret = load_person(&S, &S.p[i], from, S.o.end_ms);
	if (ret)
		goto out;
	if (S.shots_off)
		bench_note("screenshots skipped: %s", S.shots_why);
	summary(&S, (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	rc = S.t.rejected ? 1 : 0;
out:
	explicit_bzero(S.c.auth, sizeof(S.c.auth));
	for (size_t i = 0; i < N_PEOPLE; i++)
		explicit_bzero(S.p[i].dev_auth, sizeof(S.p[i].dev_auth));
	httpc_close(&S.c);
	cJSON_Delete(S.state);
	curl_global_cleanup();
	return rc;
}
