// SPDX-License-Identifier: BSD-2-Clause
/*
 * shot_queue.c - the screenshot queue and its uploader (see shot_queue.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#define CURL_DISABLE_TYPECHECK /* curl_dl.h routes curl_* through dlopen() */
#include <curl/curl.h>

#include "curl_dl.h"
#include "http_client.h"
#include "log.h"
#include "shot_queue.h"
#include "util.h"

#define NAME_LEN 31   /* "<13 digits>-<16 hex>" and a NUL */
#define PATH_LEN 1024 /* the queue directory (< 600) and a file name */
#define SIDECAR_MAX 16384
#define RESP_MAX 16384
#define BACKOFF_MIN_MS 1000
#define URL_MARGIN_MS 30000 /* presign again when the URL has less left */

struct entry {
	char name[NAME_LEN];
	uint64_t bytes;
	int64_t taken_ms;
};

struct shotq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int started, stop, kicked;
	char dir[600], failed_dir[620];
	uint32_t max_files;
	uint64_t max_bytes;
	uint32_t backoff_max_ms;
	struct device_cred cred;
	/* the queue, oldest first; guarded by mu */
	struct entry *e;
	unsigned int n;
	uint64_t bytes;
	char busy[NAME_LEN]; /* the entry the uploader works on, "" none */
	int off;	     /* the policy turned screenshots off: upload nothing */
	struct shotq_status st;
	CURL *curl;
};

/* ---- files ---- */

static void path_of(const struct shotq *q, const char *name, const char *ext, char *out, size_t n)
{
	snprintf(out, n, "%s/%s.%s", q->dir, name, ext);
}

/* Write text to dir/name.json through a temporary (fsynced, renamed). The
 * directory is not synced: the caller does that. 0 or -errno. */
static int write_sidecar(const struct shotq *q, const char *name, const cJSON *j)
{
	char path[PATH_LEN], *text = cJSON_PrintUnformatted(j);
	int err;

	if (!text)
		return -ENOMEM;
	path_of(q, name, "json", path, sizeof(path));
	err = write_file_atomic(path, NULL, text, strlen(text), 0600);
	free(text);
	return err;
}

static int read_sidecar(const struct shotq *q, const char *name, cJSON **out)
{
	char path[PATH_LEN], *buf = NULL;
	int r;

	path_of(q, name, "json", path, sizeof(path));
	r = read_file(path, SIDECAR_MAX, &buf, NULL);
	if (r)
		return r;
	*out = cJSON_Parse(buf);
	free(buf);
	return cJSON_IsObject(*out) ? 0 : (cJSON_Delete(*out), *out = NULL, -EINVAL);
}

/* Remove an entry's files (sidecar first: a PNG alone is an orphan that the
 * next open removes). */
static void remove_files(const struct shotq *q, const char *name)
{
	char path[PATH_LEN];

	path_of(q, name, "json", path, sizeof(path));
	unlink(path);
	path_of(q, name, "png", path, sizeof(path));
	unlink(path);
	fsync_dir(q->dir);
}

static int name_ok(const char *n, size_t len)
{
	size_t i;

	if (len != NAME_LEN - 1 || n[13] != '-')
		return 0;
	for (i = 0; i < len; i++)
		if (i != 13 && !((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	return 1;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep the newest SHOTQ_FAILED_KEEP shots in failed/. */
static void prune_failed(const struct shotq *q)
{
	char *names[SHOTQ_FAILED_KEEP * 8], path[PATH_LEN];
	unsigned int n = 0, i;
	struct dirent *d;
	DIR *dh = opendir(q->failed_dir);

	if (!dh)
		return;
	while ((d = readdir(dh)) && n < ARRAY_SIZE(names)) {
		size_t l = strlen(d->d_name);

		if (l > 5 && !strcmp(d->d_name + l - 5, ".json") && name_ok(d->d_name, l - 5))
			names[n] = strndup(d->d_name, l - 5), n += names[n] != NULL;
	}
	closedir(dh);
	qsort(names, n, sizeof(names[0]), str_cmp);
	for (i = 0; i < n; i++) {
		if (n - i > SHOTQ_FAILED_KEEP) {
			snprintf(path, sizeof(path), "%s/%s.json", q->failed_dir, names[i]);
			unlink(path);
			snprintf(path, sizeof(path), "%s/%s.png", q->failed_dir, names[i]);
			unlink(path);
		}
		free(names[i]);
	}
}

/* Scan the queue at open: complete entries in, debris out. */
static int scan(struct shotq *q)
{
	char path[PATH_LEN];
	struct dirent *d;
	struct stat sb;
	DIR *dh;
	size_t l;

	dh = opendir(q->dir);
	if (!dh)
		return -errno;
	while ((d = readdir(dh))) {
		l = strlen(d->d_name);
		if (d->d_name[0] == '.' && l > 4 && !strcmp(d->d_name + l - 4, ".tmp")) {
			snprintf(path, sizeof(path), "%s/%s", q->dir, d->d_name);
			unlink(path);
			continue;
		}
		if (l < 5 || strcmp(d->d_name + l - 4, ".png") || !name_ok(d->d_name, l - 4))
			continue;
		snprintf(path, sizeof(path), "%s/%.*s.json", q->dir, (int)(l - 4), d->d_name);
		if (access(path, F_OK) < 0 || q->n >= SHOTQ_MAX_ENTRIES) {
			/* a PNG whose sidecar was never committed */
			snprintf(path, sizeof(path), "%s/%s", q->dir, d->d_name);
			unlink(path);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", q->dir, d->d_name);
		if (stat(path, &sb) < 0)
			continue;
		memcpy(q->e[q->n].name, d->d_name, l - 4);
		q->e[q->n].name[l - 4] = '\0';
		q->e[q->n].bytes = (uint64_t)sb.st_size;
		q->e[q->n].taken_ms = strtoll(d->d_name, NULL, 10);
		q->bytes += (uint64_t)sb.st_size;
		q->n++;
	}
	rewinddir(dh);
	/* sidecars without their PNG */
	while ((d = readdir(dh))) {
		l = strlen(d->d_name);
		if (l < 6 || strcmp(d->d_name + l - 5, ".json") || !name_ok(d->d_name, l - 5))
			continue;
		snprintf(path, sizeof(path), "%s/%.*s.png", q->dir, (int)(l - 5), d->d_name);
		if (access(path, F_OK) < 0) {
			snprintf(path, sizeof(path), "%s/%s", q->dir, d->d_name);
			unlink(path);
		}
	}
	closedir(dh);
	qsort(q->e, q->n, sizeof(q->e[0]), entry_cmp);
	return 0;
}

/* ---- the queue ---- */

/* Drop entry i (mu held). */
static void drop_locked(struct shotq *q, unsigned int i, const char *why)
{
	log_warn("screenshot queue: dropped %s, the oldest shot (%s; %" PRIu64
		 " dropped since start)",
		 q->e[i].name, why, q->st.dropped + 1);
	remove_files(q, q->e[i].name);
	q->bytes -= q->e[i].bytes;
	memmove(q->e + i, q->e + i + 1, (q->n - i - 1) * sizeof(q->e[0]));
	q->n--;
	q->st.dropped++;
}

/* Make room for one more entry of size bytes: drop the oldest entries that
 * are not being uploaded. 0, or -ENOSPC when that is not enough. */
static int make_room(struct shotq *q, uint64_t size)
{
	unsigned int i;

	while (q->n + 1 > q->max_files || q->bytes + size > q->max_bytes) {
		for (i = 0; i < q->n && !strcmp(q->e[i].name, q->busy); i++)
			;
		if (i == q->n)
			return -ENOSPC;
		drop_locked(q, i,
			    q->n + 1 > q->max_files ? "more than shot_queue_max shots"
						    : "more than shot_queue_max_mb");
	}
	return 0;
}

static void hex(const unsigned char *md, unsigned int n, char *out)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		sprintf(out + i * 2, "%02x", md[i]);
	out[n * 2] = '\0';
}

/* Copy size bytes of fd into path (0600, fsynced), hashing them. */
static int copy_png(int fd, uint64_t size, const char *path, char sha[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	uint8_t buf[65536];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t off = 0;
	unsigned int mdl = 0;
	ssize_t r;
	int out, err = 0;

	if (!ctx)
		return -ENOMEM;
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		EVP_MD_CTX_free(ctx);
		return -errno;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (off < size && !err) {
		r = pread(fd, buf, size - off < sizeof(buf) ? size - off : sizeof(buf), (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		err = write_all(out, buf, (size_t)r);
		off += (uint64_t)r;
	}
	if (!err && fsync(out) < 0)
		err = -errno;
	if (close(out) < 0 && !err)
		err = -errno;
	if (!err && !EVP_DigestFinal_ex(ctx, md, &mdl))
		err = -EIO;
	EVP_MD_CTX_free(ctx);
	if (!err)
		hex(md, mdl < 32 ? mdl : 32, sha);
	return err;
}

int shotq_add(struct shotq *q, const struct sessd_shot *sh, const char *user, char *why, size_t wl)
{
	char name[NAME_LEN], tmp[PATH_LEN], path[PATH_LEN] = "", sha[65] = "";
	uint64_t rnd = 0;
	cJSON *j;
	int err;

	if (sh->size > q->max_bytes) {
		snprintf(why, wl, "a shot of %" PRIu64 " bytes is larger than shot_queue_max_mb",
			 sh->size);
		return -EFBIG;
	}
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
		snprintf(why, wl, "no randomness for a queue name");
		return -EIO;
	}
	snprintf(name, sizeof(name), "%013" PRId64 "-%016" PRIx64, sh->taken_ms, rnd);
	snprintf(tmp, sizeof(tmp), "%s/.%s.png.tmp", q->dir, name);
	err = copy_png(sh->fd, sh->size, tmp, sha);
	if (err) {
		unlink(tmp);
		snprintf(why, wl, "cannot write the queue (%s): %s", q->dir, strerror(-err));
		return err;
	}
	j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "taken_at", (double)sh->taken_ms);
	cJSON_AddStringToObject(j, "monitor", sh->monitor);
	cJSON_AddNumberToObject(j, "width", sh->width);
	cJSON_AddNumberToObject(j, "height", sh->height);
	cJSON_AddNumberToObject(j, "size", (double)sh->size);
	cJSON_AddStringToObject(j, "sha256", sha);
	cJSON_AddStringToObject(j, "format", sessd_fmt_name(sh->format));
	cJSON_AddNumberToObject(j, "uid", sh->uid);
	if (user)
		cJSON_AddStringToObject(j, "user", user);
	cJSON_AddNumberToObject(j, "queued_at", (double)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC));
	pthread_mutex_lock(&q->mu);
	err = make_room(q, sh->size);
	if (!err) {
		path_of(q, name, "png", path, sizeof(path));
		err = rename(tmp, path) < 0 ? -errno : 0;
	}
	if (!err)
		err = write_sidecar(q, name, j);
	if (!err)
		err = fsync_dir(q->dir);
	if (!err) {
		memcpy(q->e[q->n].name, name, sizeof(name));
		q->e[q->n].bytes = sh->size;
		q->e[q->n].taken_ms = sh->taken_ms;
		q->n++;
		q->bytes += sh->size;
		q->st.added++;
		q->kicked = 1;
		pthread_cond_signal(&q->cv);
	} else if (path[0]) {
		unlink(path);
	}
	pthread_mutex_unlock(&q->mu);
	cJSON_Delete(j);
	unlink(tmp);
	if (err)
		snprintf(why, wl, "cannot write the queue (%s): %s", q->dir, strerror(-err));
	return err;
}

/* ---- HTTP (http_client.h) ---- */

/*
 * One request: POST of a JSON body (body), or PUT of a file (put, size
 * bytes). The HTTP status, or -errno (no answer) with msg set.
 */
static long http(struct shotq *q, const char *method, const char *url, struct curl_slist *hl,
		 const char *body, FILE *put, uint64_t size, struct http_answer *r, char *msg,
		 size_t ml)
{
	struct http_req rq = {.method = method,
			      .url = url,
			      .headers = hl,
			      .body = body,
			      .len = body ? strlen(body) : 0,
			      .upload = put,
			      .upload_size = size,
			      .timeout_s = put ? 120 : 30, /* 32 MiB at a slow 512 KiB/s */
			      .ca_file = q->cred.ca_file,
			      .stop = &q->stop};

	return http_exchange(q->curl, &rq, r, msg, ml);
}

/* POST a JSON object to the server's path with the device token. */
static long api_post(struct shotq *q, const char *path, const cJSON *j, struct http_answer *r,
		     char *msg, size_t ml)
{
	char url[700], auth[200], *body = cJSON_PrintUnformatted(j);
	struct curl_slist *hl = NULL;
	long code;

	if (!body) {
		snprintf(msg, ml, "out of memory");
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s%s", q->cred.server, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", q->cred.token);
	hl = curl_slist_append(hl, auth);
	hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	code = http(q, "POST", url, hl, body, NULL, 0, r, msg, ml);
	curl_slist_free_all(hl);
	explicit_bzero(auth, sizeof(auth));
	free(body);
	return code;
}

/* The answer's "error", or its first bytes. */
static void answer_msg(const struct http_answer *r, long code, const char *what, char *msg,
		       size_t ml)
{
	cJSON *j = cJSON_Parse(r->buf);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	if (cJSON_IsString(e))
		snprintf(msg, ml, "%s: HTTP %ld: %s", what, code, e->valuestring);
	else
		snprintf(msg, ml, "%s: HTTP %ld%s%.80s", what, code, r->len ? ": " : "", r->buf);
	cJSON_Delete(j);
}

/* ---- one shot ---- */

enum step_result {
	STEP_DONE = 1,	/* registered: remove from the queue */
	STEP_AGAIN = 2, /* go on at once (presign again, PUT again) */
	STEP_FAILED = 3 /* permanent: move aside */
};

/* A 4xx that retrying cannot change. */
static int permanent(long code)
{
	return code >= 400 && code < 500 && code != 401 && code != 403 && code != 408 &&
	       code != 429;
}

static const char *sstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double snum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void forget_url(cJSON *j)
{
	cJSON_DeleteItemFromObjectCaseSensitive(j, "key");
	cJSON_DeleteItemFromObjectCaseSensitive(j, "url");
	cJSON_DeleteItemFromObjectCaseSensitive(j, "headers");
	cJSON_DeleteItemFromObjectCaseSensitive(j, "expires_ms");
	cJSON_DeleteItemFromObjectCaseSensitive(j, "put_done");
}

static int presign(struct shotq *q, const char *name, cJSON *j, struct http_answer *r, char *msg,
		   size_t ml, long *http_st)
{
	char ts[RFC3339_LEN];
	const cJSON *h;
	cJSON *req, *ans;
	int64_t exp_ms = 0;
	long code;
	int fmt;

	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "sha256", sstr(j, "sha256") ? sstr(j, "sha256") : "");
	cJSON_AddNumberToObject(req, "size", snum(j, "size"));
	/* an entry queued before formats existed has none: a PNG */
	fmt = sessd_fmt_parse(sstr(j, "format"));
	cJSON_AddStringToObject(req, "content_type",
				sessd_fmt_type(fmt < 0 ? SESSD_PNG : (enum sessd_fmt)fmt));
	cJSON_AddStringToObject(req, "taken_at", rfc3339_ms((int64_t)snum(j, "taken_at"), ts));
	if (sstr(j, "user"))
		cJSON_AddStringToObject(req, "user", sstr(j, "user"));
	code = api_post(q, "/api/v1/screenshots/presign", req, r, msg, ml);
	cJSON_Delete(req);
	*http_st = code > 0 ? code : 0;
	if (code < 0)
		return (int)code;
	if (code != 200) {
		answer_msg(r, code, "presign", msg, ml);
		/* 409: screenshots off or S3 settings incomplete at the server, a
		 * state an admin changes: wait for it, do not fail the shot */
		return code != 409 && permanent(code) ? STEP_FAILED : -EPROTO;
	}
	ans = cJSON_Parse(r->buf);
	h = cJSON_GetObjectItemCaseSensitive(ans, "headers");
	if (!sstr(ans, "url") || !sstr(ans, "key") || (h && !cJSON_IsObject(h)) ||
	    (sstr(ans, "expires_at") && rfc3339_parse(sstr(ans, "expires_at"), &exp_ms))) {
		cJSON_Delete(ans);
		snprintf(msg, ml, "presign: the server's answer has no url/key");
		return -EPROTO;
	}
	forget_url(j);
	cJSON_AddStringToObject(j, "key", sstr(ans, "key"));
	cJSON_AddStringToObject(j, "url", sstr(ans, "url"));
	cJSON_AddItemToObject(j, "headers", h ? cJSON_Duplicate(h, 1) : cJSON_CreateObject());
	cJSON_AddNumberToObject(
	    j, "expires_ms",
	    (double)(exp_ms ? exp_ms
			    : (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC) + 600000));
	cJSON_Delete(ans);
	/* the key is kept before anything is uploaded under it */
	return write_sidecar(q, name, j) ? -EIO : STEP_AGAIN;
}

static int put_object(struct shotq *q, const char *name, cJSON *j, struct http_answer *r, char *msg,
		      size_t ml, long *http_st)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "headers"), *it;
	struct curl_slist *hl = NULL;
	char path[PATH_LEN], line[600];
	FILE *f;
	long code;

	path_of(q, name, "png", path, sizeof(path));
	f = fopen(path, "rbe");
	if (!f) {
		snprintf(msg, ml, "%.120s: %s", path, strerror(errno));
		return STEP_FAILED;
	}
	cJSON_ArrayForEach(it, h) if (cJSON_IsString(it) && it->string &&
				      !strpbrk(it->string, ":\r\n") &&
				      !strpbrk(it->valuestring, "\r\n"))
	{
		snprintf(line, sizeof(line), "%s: %s", it->string, it->valuestring);
		hl = curl_slist_append(hl, line);
	}
	hl = curl_slist_append(hl, "Expect:");
	code = http(q, "PUT", sstr(j, "url"), hl, NULL, f, (uint64_t)snum(j, "size"), r, msg, ml);
	curl_slist_free_all(hl);
	fclose(f);
	*http_st = code > 0 ? code : 0;
	if (code < 0)
		return (int)code;
	if (code >= 200 && code < 300) {
		cJSON_DeleteItemFromObjectCaseSensitive(j, "put_done");
		cJSON_AddTrueToObject(j, "put_done");
		return write_sidecar(q, name, j) ? -EIO : STEP_AGAIN;
	}
	answer_msg(r, code, "PUT to S3", msg, ml);
	if (code == 403) {
		/* an expired (or otherwise refused) signature: a new URL */
		forget_url(j);
		return write_sidecar(q, name, j) ? -EIO : -EPROTO;
	}
	return permanent(code) ? STEP_FAILED : -EPROTO;
}

static int reg(struct shotq *q, const char *name, cJSON *j, struct http_answer *r, char *msg,
	       size_t ml, long *http_st)
{
	char ts[RFC3339_LEN];
	cJSON *req;
	long code;
	double n;

	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "key", sstr(j, "key"));
	cJSON_AddNumberToObject(req, "size", snum(j, "size"));
	cJSON_AddStringToObject(req, "sha256", sstr(j, "sha256") ? sstr(j, "sha256") : "");
	cJSON_AddNumberToObject(req, "width", snum(j, "width"));
	cJSON_AddNumberToObject(req, "height", snum(j, "height"));
	cJSON_AddStringToObject(req, "taken_at", rfc3339_ms((int64_t)snum(j, "taken_at"), ts));
	if (sstr(j, "monitor"))
		cJSON_AddStringToObject(req, "monitor", sstr(j, "monitor"));
	code = api_post(q, "/api/v1/screenshots", req, r, msg, ml);
	cJSON_Delete(req);
	*http_st = code > 0 ? code : 0;
	if (code < 0)
		return (int)code;
	if (code == 200 || code == 201)
		return STEP_DONE;
	answer_msg(r, code, "register", msg, ml);
	if (code == 404) {
		/* the server no longer knows the key: a new one */
		forget_url(j);
		return write_sidecar(q, name, j) ? -EIO : STEP_AGAIN;
	}
	if (code == 409) {
		/* the object is not in S3: upload it again, a few times */
		n = snum(j, "reputs");
		if (n + 1 >= SHOTQ_MAX_REPUT)
			return STEP_FAILED;
		cJSON_DeleteItemFromObjectCaseSensitive(j, "put_done");
		cJSON_DeleteItemFromObjectCaseSensitive(j, "reputs");
		cJSON_AddNumberToObject(j, "reputs", n < 0 ? 1 : n + 1);
		return write_sidecar(q, name, j) ? -EIO : -EPROTO;
	}
	return permanent(code) ? STEP_FAILED : -EPROTO;
}

/* Advance one shot by one step. A step_result, or -errno to back off. */
static int step(struct shotq *q, const char *name, struct http_answer *r, char *msg, size_t ml,
		long *http_st)
{
	int64_t now = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);
	cJSON *j = NULL;
	int ret;

	*http_st = 0;
	ret = read_sidecar(q, name, &j);
	if (ret) {
		snprintf(msg, ml, "the queue entry's metadata is unreadable: %s", strerror(-ret));
		return STEP_FAILED;
	}
	if (!sstr(j, "sha256") || snum(j, "size") < 1 || snum(j, "taken_at") < 0) {
		snprintf(msg, ml, "the queue entry's metadata is incomplete");
		ret = STEP_FAILED;
	} else if (!sstr(j, "key") || !sstr(j, "url") ||
		   (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "put_done")) &&
		    snum(j, "expires_ms") < (double)(now + URL_MARGIN_MS))) {
		ret = presign(q, name, j, r, msg, ml, http_st);
	} else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "put_done"))) {
		ret = put_object(q, name, j, r, msg, ml, http_st);
	} else {
		ret = reg(q, name, j, r, msg, ml, http_st);
	}
	cJSON_Delete(j);
	return ret;
}

/* Move an entry to failed/ (mu not held). */
static void move_failed(struct shotq *q, const char *name)
{
	char from[PATH_LEN], to[PATH_LEN];

	mkdir(q->failed_dir, 0700);
	snprintf(from, sizeof(from), "%s/%s.png", q->dir, name);
	snprintf(to, sizeof(to), "%s/%s.png", q->failed_dir, name);
	if (rename(from, to) < 0)
		unlink(from);
	snprintf(from, sizeof(from), "%s/%s.json", q->dir, name);
	snprintf(to, sizeof(to), "%s/%s.json", q->failed_dir, name);
	if (rename(from, to) < 0)
		unlink(from);
	fsync_dir(q->failed_dir);
	fsync_dir(q->dir);
	prune_failed(q);
}

/* Take an entry out of the in-memory queue (mu held). */
static void forget_locked(struct shotq *q, const char *name)
{
	unsigned int i;

	for (i = 0; i < q->n && strcmp(q->e[i].name, name); i++)
		;
	if (i == q->n)
		return;
	q->bytes -= q->e[i].bytes;
	memmove(q->e + i, q->e + i + 1, (q->n - i - 1) * sizeof(q->e[0]));
	q->n--;
}

/* Sleep until kicked (when until_kick), stopped or ms passed. 1 when
 * stopping. */
static int wait_ms(struct shotq *q, uint32_t ms, int until_kick)
{
	return cond_wait_ms(&q->mu, &q->cv, &q->stop, until_kick ? &q->kicked : NULL, ms);
}

static void *up_main(void *arg)
{
	struct shotq *q = arg;
	struct http_answer a = {.buf = malloc(RESP_MAX + 1), .cap = RESP_MAX}, *r = &a;
	char name[NAME_LEN], msg[200];
	uint32_t backoff;
	long http_st;
	int ret;

	if (!a.buf)
		return NULL;
	while (!__atomic_load_n(&q->stop, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&q->mu);
		name[0] = '\0';
		if (q->n && !q->off) {
			memcpy(name, q->e[0].name, NAME_LEN);
			memcpy(q->busy, name, NAME_LEN);
		}
		pthread_mutex_unlock(&q->mu);
		if (!name[0]) {
			if (wait_ms(q, 60000, 1))
				break;
			continue;
		}
		msg[0] = '\0';
		ret = step(q, name, r, msg, sizeof(msg), &http_st);
		pthread_mutex_lock(&q->mu);
		q->busy[0] = '\0';
		q->st.last_http = (int)http_st;
		if (q->off && ret != STEP_DONE) {
			/* turned off while this one was on its way: it goes too */
			unsigned int i;

			for (i = 0; i < q->n && strcmp(q->e[i].name, name); i++)
				;
			if (i < q->n)
				drop_locked(q, i, "screenshots turned off by policy");
			pthread_mutex_unlock(&q->mu);
			continue;
		}
		if (ret == STEP_DONE || ret == STEP_FAILED) {
			forget_locked(q, name);
			if (ret == STEP_DONE)
				q->st.uploaded++;
			else
				q->st.failed++;
		}
		if (ret > 0) {
			q->st.backoff_ms = 0;
			if (ret != STEP_FAILED)
				q->st.last_error[0] = '\0';
		}
		pthread_mutex_unlock(&q->mu);
		if (ret == STEP_DONE) {
			remove_files(q, name);
			log_debug("screenshot %s uploaded and registered", name);
			continue;
		}
		if (ret == STEP_FAILED) {
			log_err("screenshot %s failed for good (moved to %s): %s", name,
				q->failed_dir, msg);
			pthread_mutex_lock(&q->mu);
			snprintf(q->st.last_error, sizeof(q->st.last_error), "%s", msg);
			pthread_mutex_unlock(&q->mu);
			move_failed(q, name);
			continue;
		}
		if (ret > 0)
			continue;
		pthread_mutex_lock(&q->mu);
		snprintf(q->st.last_error, sizeof(q->st.last_error), "%s",
			 msg[0] ? msg : strerror(-ret));
		q->st.backoff_ms =
		    backoff_next(q->st.backoff_ms, BACKOFF_MIN_MS, q->backoff_max_ms);
		backoff = q->st.backoff_ms;
		pthread_mutex_unlock(&q->mu);
		log_info("screenshot upload: %s; retrying in about %u ms", q->st.last_error,
			 backoff);
		if (wait_ms(q, backoff_jitter(backoff), 0))
			break;
	}
	free(a.buf);
	return NULL;
}

void shotq_policy(struct shotq *q, int enabled)
{
	unsigned int i = 0;
	uint64_t before;

	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	if ((!enabled) == q->off) {
		pthread_mutex_unlock(&q->mu);
		return;
	}
	q->off = !enabled;
	before = q->st.dropped;
	while (q->off && i < q->n) {
		if (!strcmp(q->e[i].name, q->busy))
			i++; /* the uploader drops it when its step returns */
		else
			drop_locked(q, i, "screenshots turned off by policy");
	}
	if (!q->off)
		q->kicked = 1;
	pthread_cond_broadcast(&q->cv);
	if (q->off && q->st.dropped > before)
		log_notice("screenshot queue: screenshots are off by policy; %" PRIu64
			   " queued shots deleted unsent",
			   q->st.dropped - before);
	pthread_mutex_unlock(&q->mu);
}

/* ---- lifecycle ---- */

int shotq_open(struct shotq **out, const struct shotq_opts *o)
{
	struct shotq *q;
	int err;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	cond_init_monotonic(&q->cv);
	q->max_files = o->max_files ? o->max_files : 200;
	if (q->max_files > SHOTQ_MAX_ENTRIES)
		q->max_files = SHOTQ_MAX_ENTRIES;
	q->max_bytes = o->max_bytes ? o->max_bytes : 256ull << 20;
	q->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : 300000;
	if (q->backoff_max_ms < BACKOFF_MIN_MS)
		q->backoff_max_ms = BACKOFF_MIN_MS;
	snprintf(q->dir, sizeof(q->dir), "%s/%s", o->state_dir, SHOTQ_DIR);
	snprintf(q->failed_dir, sizeof(q->failed_dir), "%s/failed", q->dir);
	q->e = calloc(SHOTQ_MAX_ENTRIES + 1, sizeof(q->e[0]));
	if (!q->e) {
		err = -ENOMEM;
		goto fail;
	}
	err = mkdir_p(q->dir, 0700);
	if (!err && chmod(q->dir, 0700) < 0)
		err = -errno;
	if (!err)
		err = scan(q);
	if (err)
		goto fail;
	prune_failed(q);
	/* a smaller bound than last time applies at once */
	pthread_mutex_lock(&q->mu);
	while (q->n > q->max_files || q->bytes > q->max_bytes)
		drop_locked(q, 0, "over the queue bound set now");
	pthread_mutex_unlock(&q->mu);
	if (o->cred) {
		q->cred = *o->cred;
		err = curl_dl_load();
		if (!err) {
			q->curl = curl_easy_init();
			err = q->curl ? 0 : -ENOMEM;
		}
		if (!err)
			err = -pthread_create(&q->th, NULL, up_main, q);
		if (err)
			goto fail;
		q->started = 1;
	}
	*out = q;
	return 0;
fail:
	shotq_close(q);
	return err;
}

void shotq_status(struct shotq *q, struct shotq_status *st)
{
	pthread_mutex_lock(&q->mu);
	*st = q->st;
	st->queued = q->n;
	st->bytes = q->bytes;
	st->oldest_ms = q->n ? q->e[0].taken_ms : 0;
	st->max_files = q->max_files;
	st->max_bytes = q->max_bytes;
	st->uploading = q->started;
	pthread_mutex_unlock(&q->mu);
}

void shotq_status_json(struct shotq *q, cJSON *o)
{
	struct shotq_status st;
	char ts[RFC3339_LEN];
	int64_t now = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);
	cJSON *x;

	if (!q)
		return;
	shotq_status(q, &st);
	x = cJSON_AddObjectToObject(o, "shots");
	if (!x)
		return;
	cJSON_AddStringToObject(x, "dir", q->dir);
	cJSON_AddBoolToObject(x, "uploading", st.uploading);
	cJSON_AddNumberToObject(x, "queued", (double)st.queued);
	cJSON_AddNumberToObject(x, "bytes", (double)st.bytes);
	cJSON_AddNumberToObject(x, "max_files", st.max_files);
	cJSON_AddNumberToObject(x, "max_bytes", (double)st.max_bytes);
	if (st.oldest_ms) {
		cJSON_AddStringToObject(x, "oldest", rfc3339_ms(st.oldest_ms, ts));
		cJSON_AddNumberToObject(x, "oldest_age_s", (double)(now - st.oldest_ms) / 1000.0);
	} else {
		cJSON_AddNullToObject(x, "oldest");
		cJSON_AddNullToObject(x, "oldest_age_s");
	}
	cJSON_AddNumberToObject(x, "added", (double)st.added);
	cJSON_AddNumberToObject(x, "uploaded", (double)st.uploaded);
	cJSON_AddNumberToObject(x, "dropped", (double)st.dropped);
	cJSON_AddNumberToObject(x, "failed", (double)st.failed);
	cJSON_AddNumberToObject(x, "backoff_ms", st.backoff_ms);
	cJSON_AddNumberToObject(x, "last_http", st.last_http);
	cJSON_AddStringToObject(x, "last_error", st.last_error);
}

void shotq_close(struct shotq *q)
{
	if (!q)
		return;
	if (q->started) {
		pthread_mutex_lock(&q->mu);
		__atomic_store_n(&q->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&q->cv);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->th, NULL);
	}
	if (q->curl)
		curl_easy_cleanup(q->curl);
	explicit_bzero(q->cred.token, sizeof(q->cred.token));
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->e);
	free(q);
}
