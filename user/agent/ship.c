// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>

#include <cjson/cJSON.h>
#define CURL_DISABLE_TYPECHECK /* curl_dl.h routes curl_* through dlopen() */
#include <curl/curl.h>

#include "curl_dl.h"
#include "http_client.h"
#include "gz.h"
#include "log.h"
#include "policy.h"
#include "sigv4.h"
#include "ship.h"
#include "util.h"
#include "version.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 300000
#define GATHER_MS 1000 /* after a kick, wait this long so records batch up */

struct batch {
	struct spool_pos start, end;
	uint32_t records;
	char *body; /* NDJSON */
	size_t len, cap;
};

struct shipper {
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, kicked;
	struct ship_status st;
	struct ship_policy policy; /* newest policy not yet taken (text NULL: none) */
	char etag[128];		   /* sent in If-None-Match; "" none */
	char user[257];		   /* the session user whose policy to ask for; "" none */
	int policy_now;		   /* ask at once: the session user changed */
	int policy_due;		   /* no policy for the current user since it changed */
	uint32_t policy_retry_ms;  /* delay before asking again while policy_due */

	struct spool *sp;
	pthread_mutex_t *splock;
	struct device_cred cred;
	char spool_dir[512];
	char state_dir[512];
	char policy_path[600];
	char inflight[600];
	char epoch[17];
	char ca_file[512];
	uint32_t max_records, max_records_cfg, max_bytes, config_poll_s, backoff_max_ms;
	uint32_t ok_streak; /* acknowledged batches since the last 413 */
	int wake_fd;
	CURL *curl;
};

/* ---- HTTP (http_client.h) ---- */

struct hdrs {
	char etag[128];
};

/*
 * One request: headers a NULL-terminated list, body NULL for a GET. The
 * HTTP status (>0), or -errno with msg set when no answer came. r->buf
 * (r->cap + 1 bytes) is the caller's.
 */
static long http_call(CURL *c, const char *method, const char *url, const char *const *headers,
		      const void *body, size_t len, const char *ca_file, struct http_answer *r,
		      struct hdrs *h, int *stop, char *msg, size_t msglen)
{
	struct http_req rq = {.method = method,
			      .url = url,
			      .body = body,
			      .len = len,
			      .timeout_s = 60,
			      .ca_file = ca_file,
			      .stop = stop,
			      .etag = h ? h->etag : NULL,
			      .etag_len = h ? sizeof(h->etag) : 0};
	long code;

	for (; headers && *headers; headers++)
		rq.headers = curl_slist_append(rq.headers, *headers);
	code = http_exchange(c, &rq, r, msg, msglen);
	curl_slist_free_all(rq.headers);
	return code;
}

/* The "error" member of a JSON answer, or the status line. */
static void answer_error(const struct http_answer *r, long code, char *msg, size_t msglen)
{
	cJSON *j = cJSON_Parse(r->buf);
	const cJSON *e = j ? cJSON_GetObjectItem(j, "error") : NULL;

	if (cJSON_IsString(e))
		snprintf(msg, msglen, "HTTP %ld: %s", code, e->valuestring);
	else
		snprintf(msg, msglen, "HTTP %ld", code);
	cJSON_Delete(j);
}

/* ---- enrollment ---- */

int device_cred_load(const char *state_dir, struct device_cred *c)
{
	char path[600], *buf = NULL;
	const cJSON *s, *id, *t;
	cJSON *j;
	int r;

	snprintf(path, sizeof(path), "%s/%s", state_dir, DEVICE_FILE);
	r = read_file(path, 16384, &buf, NULL);
	if (r)
		return r;
	j = cJSON_Parse(buf);
	free(buf);
	s = cJSON_GetObjectItem(j, "server");
	id = cJSON_GetObjectItem(j, "device_id");
	t = cJSON_GetObjectItem(j, "device_token");
	r = -EINVAL;
	if (cJSON_IsString(s) && cJSON_IsString(id) && cJSON_IsString(t) &&
	    strlen(s->valuestring) < sizeof(c->server) &&
	    strlen(id->valuestring) < sizeof(c->device_id) &&
	    strlen(t->valuestring) < sizeof(c->token)) {
		strcpy(c->server, s->valuestring);
		strcpy(c->device_id, id->valuestring);
		strcpy(c->token, t->valuestring);
		c->ca_file[0] = '\0';
		t = cJSON_GetObjectItem(j, "ca_file");
		if (cJSON_IsString(t) && strlen(t->valuestring) < sizeof(c->ca_file))
			strcpy(c->ca_file, t->valuestring);
		r = 0;
	}
	cJSON_Delete(j);
	return r;
}

/* Write state_dir/device.json atomically with mode 0600. */
static int device_cred_save(const char *state_dir, const struct device_cred *c)
{
	char path[600], tmp[620], *text;
	cJSON *j = cJSON_CreateObject();
	int r;

	cJSON_AddStringToObject(j, "server", c->server);
	cJSON_AddStringToObject(j, "device_id", c->device_id);
	cJSON_AddStringToObject(j, "device_token", c->token);
	if (c->ca_file[0])
		cJSON_AddStringToObject(j, "ca_file", c->ca_file);
	text = cJSON_Print(j);
	cJSON_Delete(j);
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", state_dir, DEVICE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	r = write_file_atomic(path, tmp, text, strlen(text), 0600);
	free(text);
	return r;
}

/*
 * 1 when url is an http:// URL whose host, as written (never resolved), is
 * a loopback one: 127.0.0.0/8 in dotted quads, [::1] (or an IPv4-mapped
 * 127.x) or "localhost"; 0 for anything else, https:// included.
 */
static int http_url_loopback(const char *url)
{
	const char *a, *at, *end;
	char host[256];
	struct in6_addr v6;
	struct in_addr v4;
	size_t n;

	if (strncmp(url, "http://", 7))
		return 0;
	a = url + 7;
	n = strcspn(a, "/?#");
	at = memrchr(a, '@', n); /* user:password@ */
	if (at) {
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	if (n && *a == '[') {
		end = memchr(a, ']', n);
		if (!end)
			return 0;
		a++;
		n = (size_t)(end - a);
	} else {
		end = memchr(a, ':', n);
		if (end)
			n = (size_t)(end - a);
	}
	if (!n || n >= sizeof(host))
		return 0;
	memcpy(host, a, n);
	host[n] = '\0';
	if (!strcasecmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6) ||
		       (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
	return 0;
}

int ship_enroll(const char *server, const char *secret, const char *state_dir, const char *host_id,
		const char *ca_file, int insecure_http, char *msg, size_t msglen)
{
	const char *hdr[3] = {"Content-Type: application/json", NULL, NULL};
	struct http_answer r = {.cap = SHIP_MAX_RESPONSE};
	struct device_cred c = {0}, old = {0};
	char url[700], host[256] = "", auth[160] = "";
	const cJSON *id, *tok, *pend;
	cJSON *req, *ans = NULL;
	char *body = NULL;
	long code;
	int err = 0, same_server = 0;
	CURL *curl;

	if (curl_dl_load()) {
		snprintf(msg, msglen, "libcurl (libcurl.so.4) cannot be loaded");
		return -ENOENT;
	}
	if (strncmp(server, "http://", 7) && strncmp(server, "https://", 8)) {
		snprintf(msg, msglen, "server must be an http:// or https:// URL");
		return -EINVAL;
	}
	if (!strncmp(server, "http://", 7) && !insecure_http && !http_url_loopback(server)) {
		snprintf(msg, msglen,
			 "refusing plain http:// to a server that is not on this machine: the "
			 "enrollment secret and the device token would cross the network in "
			 "clear. Use https://, or give --insecure-http to allow it");
		return -EPERM;
	}
	if (strlen(server) >= sizeof(c.server)) {
		snprintf(msg, msglen, "server URL too long");
		return -EINVAL;
	}
	gethostname(host, sizeof(host) - 1);
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "secret", secret);
	cJSON_AddStringToObject(req, "host_id", host_id);
	cJSON_AddStringToObject(req, "hostname", host);
	cJSON_AddStringToObject(req, "agent_version", ACTLOG_VERSION);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	r.buf = malloc(SHIP_MAX_RESPONSE + 1);
	curl = curl_easy_init();
	if (!body || !r.buf || !curl) {
		err = -ENOMEM;
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	/* enrolled with this server before: the device token proves this is
	 * that device (without it the server makes a new, pending device) */
	if (!device_cred_load(state_dir, &old) && !strcmp(old.server, server)) {
		same_server = 1;
		if ((size_t)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", old.token) <
		    sizeof(auth))
			hdr[1] = auth;
	}
	explicit_bzero(&old, sizeof(old));
	snprintf(url, sizeof(url), "%s/api/v1/enroll", server);
	code = http_call(curl, "POST", url, hdr, body, strlen(body), ca_file, &r, NULL, NULL, msg,
			 msglen);
	explicit_bzero(auth, sizeof(auth));
	if (code < 0) {
		err = (int)code;
		goto out;
	}
	if (code != 200 && code != 201) {
		answer_error(&r, code, msg, msglen);
		err = code == 401 || code == 403 ? -EACCES : -EPROTO;
		goto out;
	}
	ans = cJSON_Parse(r.buf);
	id = cJSON_GetObjectItem(ans, "device_id");
	tok = cJSON_GetObjectItem(ans, "device_token");
	if (!cJSON_IsString(id) || !cJSON_IsString(tok) ||
	    strlen(id->valuestring) >= sizeof(c.device_id) ||
	    strlen(tok->valuestring) >= sizeof(c.token)) {
		snprintf(msg, msglen, "the server's answer has no device_id/device_token");
		err = -EPROTO;
		goto out;
	}
	strcpy(c.server, server);
	strcpy(c.device_id, id->valuestring);
	strcpy(c.token, tok->valuestring);
	if (ca_file && strlen(ca_file) < sizeof(c.ca_file))
		strcpy(c.ca_file, ca_file);
	err = device_cred_save(state_dir, &c);
	if (err) {
		snprintf(msg, msglen, "saving %s/%s: %s", state_dir, DEVICE_FILE, strerror(-err));
	} else if (!same_server) {
		/* the last policy was another server's (or another device's) */
		snprintf(url, sizeof(url), "%s/%s", state_dir, POLICY_FILE);
		if (unlink(url) < 0 && errno != ENOENT) {
			err = -errno;
			snprintf(msg, msglen, "removing the old policy %s: %s", url,
				 strerror(errno));
		}
	}
	if (!err)
		snprintf(msg, msglen, "%s", c.device_id);
	pend = cJSON_GetObjectItem(ans, "pending");
	if (!err && cJSON_IsTrue(pend))
		err = 1;
out:
	cJSON_Delete(ans);
	free(body);
	free(r.buf);
	if (curl)
		curl_easy_cleanup(curl);
	return err;
}
/* ---- batches ---- */

static int pos_cmp(const struct spool_pos *a, const struct spool_pos *b)
{
	if (a->seg != b->seg)
		return a->seg < b->seg ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

static int inflight_load(struct shipper *s, struct spool_pos *start, struct spool_pos *end)
{
	char *buf = NULL;
	int r = read_file(s->inflight, 256, &buf, NULL);

	if (r)
		return r;
	r = sscanf(buf, "%" SCNx64 " %" SCNu64 " %" SCNx64 " %" SCNu64, &start->seg, &start->off,
		   &end->seg, &end->off) == 4
		? 0
		: -EINVAL;
	free(buf);
	return r;
}

static int inflight_save(struct shipper *s, const struct batch *b)
{
	char tmp[620], line[128];

	snprintf(line, sizeof(line), "%016" PRIx64 " %" PRIu64 " %016" PRIx64 " %" PRIu64 "\n",
		 b->start.seg, b->start.off, b->end.seg, b->end.off);
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->inflight);
	return write_file_atomic(s->inflight, tmp, line, strlen(line), 0600);
}

static int batch_add(struct batch *b, const void *p, size_t len)
{
	char *nb;
	size_t cap;

	if (b->len + len + 1 > b->cap) {
		cap = (b->len + len + 1) * 2;
		nb = realloc(b->body, cap);
		if (!nb)
			return -ENOMEM;
		b->body = nb;
		b->cap = cap;
	}
	memcpy(b->body + b->len, p, len);
	b->len += len;
	b->body[b->len++] = '\n';
	return 0;
}

/*
 * Build the next batch from the cursor. An inflight range that starts at the
 * cursor is rebuilt exactly, so a re-send carries the same records under the
 * same id. Returns the number of records (0: nothing pending) or -errno.
 */
static int batch_build(struct shipper *s, struct batch *b)
{
	struct spool_pos cur, ifs, ife, next;
	struct spool_reader *rd = NULL;
	struct spool_frame f;
	int r, exact = 0;

	pthread_mutex_lock(s->splock);
	spool_cursor(s->sp, &cur);
	pthread_mutex_unlock(s->splock);
	b->len = 0;
	b->records = 0;
	b->start = b->end = cur;
	if (inflight_load(s, &ifs, &ife) == 0 && pos_cmp(&ifs, &cur) == 0 &&
	    pos_cmp(&ife, &cur) > 0)
		exact = 1;
	r = spool_reader_open(&rd, s->spool_dir, &cur);
	if (r)
		return r;
	while (exact ? pos_cmp(&b->end, &ife) < 0
		     : b->records < s->max_records && b->len < s->max_bytes) {
		r = spool_reader_next(rd, &f, &next);
		if (r <= 0)
			break;
		if (!exact && b->records > 0 && b->len + f.len + 1 > s->max_bytes)
			break;
		r = batch_add(b, f.payload, f.len);
		if (r)
			break;
		b->records++;
		b->end = next;
	}
	spool_reader_close(rd);
	if (r < 0)
		return r;
	if (exact && pos_cmp(&b->end, &ife) != 0) {
		/* the range is no longer on disk as it was (the cap took part of
		 * it): forget it and build a fresh batch next time */
		unlink(s->inflight);
		return -EAGAIN;
	}
	if (b->records && !exact) {
		r = inflight_save(s, b);
		if (r)
			return r;
	}
	return (int)b->records;
}

static void set_error(struct shipper *s, int http, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(struct shipper *s, int http, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->mu);
	s->st.failures++;
	s->st.last_http = http;
	va_start(ap, fmt);
	vsnprintf(s->st.last_error, sizeof(s->st.last_error), fmt, ap);
	va_end(ap);
	s->st.backoff_ms = backoff_next(s->st.backoff_ms, BACKOFF_MIN_MS, s->backoff_max_ms);
	pthread_mutex_unlock(&s->mu);
}

/* Send one batch. 1: acknowledged, 0: nothing to send, -errno: failed
 * (status updated, caller backs off). */
static int ship_one(struct shipper *s, struct batch *b, struct http_answer *r)
{
	char url[700], auth[200], bid[160], msg[160];
	const char *hdr[6];
	uint8_t *z = NULL;
	size_t zl;
	long code;
	int n, err;
	cJSON *ans;
	const cJSON *rej;

	n = batch_build(s, b);
	if (n <= 0) {
		if (n < 0 && n != -EAGAIN)
			set_error(s, 0, "reading the spool: %s", strerror(-n));
		return n == -EAGAIN ? 0 : n;
	}
	err = gz_compress(b->body, b->len, 6, &z, &zl);
	if (err) {
		set_error(s, 0, "compressing a batch: %s", strerror(-err));
		return err;
	}
	snprintf(url, sizeof(url), "%s/api/v1/ingest", s->cred.server);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->cred.token);
	snprintf(bid, sizeof(bid), "X-Batch-Id: %s-%" PRIx64 "-%" PRIu64 "-%" PRIx64 "-%" PRIu64,
		 s->epoch, b->start.seg, b->start.off, b->end.seg, b->end.off);
	hdr[0] = auth;
	hdr[1] = bid;
	hdr[2] = "Content-Type: application/x-ndjson";
	hdr[3] = "Content-Encoding: gzip";
	hdr[4] = "Expect:";
	hdr[5] = NULL;
	code = http_call(s->curl, "POST", url, hdr, z, zl, s->ca_file, r, NULL, &s->stop, msg,
			 sizeof(msg));
	free(z);
	if (code < 0) {
		set_error(s, 0, "%s", msg);
		return (int)code;
	}
	if (code == 413 && b->records > 1) {
		/* the server takes smaller batches: halve and rebuild at once (not
		 * an outage, so no back-off) */
		pthread_mutex_lock(&s->mu);
		s->max_records = b->records / 2;
		s->ok_streak = 0;
		s->st.last_http = 413;
		pthread_mutex_unlock(&s->mu);
		unlink(s->inflight);
		log_info("server refused a batch of %u records as too large; now at most %u",
			 b->records, b->records / 2);
		return 1;
	}
	if (code != 200) {
		answer_error(r, code, msg, sizeof(msg));
		set_error(s, (int)code, "%s%s", msg,
			  code == 401 || code == 403 ? " (device token refused: re-enroll?)" : "");
		return -EPROTO;
	}
	ans = cJSON_Parse(r->buf);
	rej = ans ? cJSON_GetObjectItem(ans, "rejected") : NULL;
	pthread_mutex_lock(s->splock);
	err = spool_ack(s->sp, &b->end);
	pthread_mutex_unlock(s->splock);
	if (err) {
		cJSON_Delete(ans);
		set_error(s, 200, "acknowledging the spool: %s", strerror(-err));
		return err;
	}
	unlink(s->inflight);
	pthread_mutex_lock(&s->mu);
	s->st.batches++;
	s->st.records += b->records;
	/* after a 413 shrank batches, try larger ones again after a while */
	if (s->max_records < s->max_records_cfg && ++s->ok_streak >= 64) {
		s->ok_streak = 0;
		s->max_records = s->max_records * 2 < s->max_records_cfg ? s->max_records * 2
									 : s->max_records_cfg;
	}
	if (cJSON_IsArray(rej))
		s->st.rejected += (uint64_t)cJSON_GetArraySize(rej);
	s->st.last_ok_ms = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);
	s->st.backoff_ms = 0;
	s->st.last_http = 200;
	s->st.last_error[0] = '\0';
	pthread_mutex_unlock(&s->mu);
	if (cJSON_IsArray(rej) && cJSON_GetArraySize(rej) > 0)
		log_warn("server refused %d of %u records in a batch (see its answer)",
			 cJSON_GetArraySize(rej), b->records);
	cJSON_Delete(ans);
	return 1;
}

/* Write a policy the server sent for session user user ("": none) into
 * STATE_DIR/policy.json (0600), beside the other users' (policy.h):
 * temporary file, fsync, rename, fsync of the directory. 0 or -errno. */
static int policy_save(struct shipper *s, const char *user, const char *etag, int64_t saved_ms,
		       const char *body, size_t len)
{
	char tmp[620], *text, *old = NULL;
	size_t oldlen = 0;
	int err;

	if (read_file(s->policy_path, POLICY_FILE_MAX, &old, &oldlen))
		oldlen = 0;
	text =
	    policy_file_build(old, oldlen, user[0] ? user : NULL, etag, saved_ms, body, len, &err);
	free(old);
	if (!text)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->policy_path);
	err = write_file_atomic(s->policy_path, tmp, text, strlen(text), 0600);
	free(text);
	return err ? err : fsync_dir(s->state_dir);
}

/* Ask for the effective policy of the session user (ETag, 304 when
 * unchanged); a new one is saved, then handed to the event loop unless the
 * user changed meanwhile. 1 when the server answered 200 or 304, else 0. */
static int fetch_policy(struct shipper *s, struct http_answer *r)
{
	char url[1400], auth[200], inm[200], msg[160], user[sizeof(s->user)], etag[128], *text,
	    *q = NULL;
	const char *hdr[3] = {auth, NULL, NULL};
	struct hdrs h = {""};
	uint64_t one = 1;
	int64_t now;
	cJSON *j;
	long code;
	int err;

	pthread_mutex_lock(&s->mu);
	memcpy(user, s->user, sizeof(user));
	memcpy(etag, s->etag, sizeof(etag));
	pthread_mutex_unlock(&s->mu);
	if (user[0] && !(q = sigv4_uri_encode(user, strlen(user), 0)))
		return 0;
	snprintf(url, sizeof(url), "%s/api/v1/agent/config%s%s", s->cred.server, q ? "?user=" : "",
		 q ? q : "");
	free(q);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->cred.token);
	if (etag[0]) {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
		hdr[1] = inm;
	}
	code = http_call(s->curl, "GET", url, hdr, NULL, 0, s->ca_file, r, &h, &s->stop, msg,
			 sizeof(msg));
	pthread_mutex_lock(&s->mu);
	s->st.policy_http = code > 0 ? (int)code : 0;
	pthread_mutex_unlock(&s->mu);
	if (code == 304) {
		log_debug("policy fetch: not modified (ETag %s)", etag);
		return 1;
	}
	if (code < 0)
		return 0;
	j = code == 200 && !r->truncated && r->len <= POLICY_BODY_MAX ? cJSON_Parse(r->buf) : NULL;
	if (!cJSON_IsObject(j)) {
		log_debug("policy fetch: HTTP %ld, %s", code, j ? "not an object" : "no JSON");
		cJSON_Delete(j);
		return 0;
	}
	cJSON_Delete(j);
	if (!policy_etag_ok(h.etag))
		h.etag[0] = '\0'; /* never sent back in a header */
	text = strdup(r->buf);
	if (!text)
		return 0;
	now = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);
	err = policy_save(s, user, h.etag, now, r->buf, r->len);
	if (err)
		log_warn("saving the policy to %s: %s (it applies until actlogd stops)",
			 s->policy_path, strerror(-err));
	pthread_mutex_lock(&s->mu);
	if (strcmp(user, s->user)) {
		/* the session user changed while this one was asked for */
		pthread_mutex_unlock(&s->mu);
		free(text);
		return 0;
	}
	free(s->policy.text);
	s->policy.text = text;
	memcpy(s->policy.user, user, sizeof(s->policy.user));
	snprintf(s->policy.etag, sizeof(s->policy.etag), "%s", h.etag);
	s->policy.saved_ms = err ? 0 : now;
	s->policy.save_err = err;
	snprintf(s->etag, sizeof(s->etag), "%s", h.etag);
	pthread_mutex_unlock(&s->mu);
	if (s->wake_fd >= 0)
		(void)!write(s->wake_fd, &one, sizeof(one));
	return 1;
}

/* After a fetch of user's policy (ok: the server answered): no longer due
 * when the user is still the one asked for; a failed one while due makes
 * the retry delay grow (1 s doubling to backoff_max_ms). The delay before
 * the next fetch, in ms (the poll interval when not due). */
static uint32_t policy_next(struct shipper *s, int ok, const char *user)
{
	uint32_t ms = s->config_poll_s * 1000;

	pthread_mutex_lock(&s->mu);
	if (ok && !strcmp(user, s->user)) {
		s->policy_due = 0;
		s->policy_retry_ms = 0;
	} else if (s->policy_due && !ok) {
		s->policy_retry_ms = backoff_next(s->policy_retry_ms, 1000, s->backoff_max_ms);
	}
	if (s->policy_due && s->policy_retry_ms < ms)
		ms = s->policy_retry_ms;
	pthread_mutex_unlock(&s->mu);
	return ms;
}

/* Sleep until kicked (when until_kick), stopped or ms passed. Returns 1
 * when stopping. */
static int wait_ms(struct shipper *s, uint32_t ms, int until_kick)
{
	return cond_wait_ms(&s->mu, &s->cv, &s->stop, until_kick ? &s->kicked : NULL, ms);
}

static void *ship_main(void *arg)
{
	struct shipper *s = arg;
	struct batch b = {0};
	struct http_answer r = {.cap = SHIP_MAX_RESPONSE};
	uint64_t next_policy = 0, now;
	uint32_t backoff, poll_ms = s->config_poll_s * 1000;
	char user[sizeof(s->user)];
	int n, due, ok;

	r.buf = malloc(SHIP_MAX_RESPONSE + 1);
	if (!r.buf)
		return NULL;
	for (;;) {
		now = clock_ns(CLOCK_MONOTONIC);
		pthread_mutex_lock(&s->mu);
		due = s->policy_now;
		s->policy_now = 0;
		memcpy(user, s->user, sizeof(user));
		pthread_mutex_unlock(&s->mu);
		if (now >= next_policy || due) {
			ok = fetch_policy(s, &r);
			poll_ms = policy_next(s, ok, user);
			next_policy = now + (uint64_t)poll_ms * NSEC_PER_MSEC;
		}
		do
			n = ship_one(s, &b, &r);
		while (n == 1 && !__atomic_load_n(&s->stop, __ATOMIC_RELAXED));
		if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
			break;
		pthread_mutex_lock(&s->mu);
		backoff = s->st.backoff_ms;
		pthread_mutex_unlock(&s->mu);
		if (n < 0 && backoff) {
			if (wait_ms(s, backoff_jitter(backoff), 0))
				break;
			continue;
		}
		/* caught up: wait for new records (or the next policy poll), then
		 * give them a moment to batch up, unless a new session user's
		 * policy is due */
		if (wait_ms(s, poll_ms, 1))
			break;
		pthread_mutex_lock(&s->mu);
		due = s->policy_now;
		pthread_mutex_unlock(&s->mu);
		if (!due && wait_ms(s, GATHER_MS, 0))
			break;
	}
	free(b.body);
	free(r.buf);
	return NULL;
}

int shipper_start(struct shipper **out, const struct ship_opts *o, struct spool *sp,
		  pthread_mutex_t *spool_lock)
{
	struct shipper *s;
	char path[600], *buf = NULL;
	uint64_t rnd;
	int err, fd;

	err = curl_dl_load();
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	cond_init_monotonic(&s->cv);
	s->sp = sp;
	s->splock = spool_lock;
	s->cred = *o->cred;
	s->max_records = o->max_records ? o->max_records : SHIP_MAX_RECORDS;
	s->max_records_cfg = s->max_records;
	s->max_bytes = o->max_bytes ? o->max_bytes : SHIP_MAX_BYTES;
	s->config_poll_s = o->config_poll_s ? o->config_poll_s : 60;
	s->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : BACKOFF_MAX_MS;
	s->wake_fd = o->wake_fd;
	snprintf(s->spool_dir, sizeof(s->spool_dir), "%s", o->spool_dir);
	snprintf(s->inflight, sizeof(s->inflight), "%s/inflight", o->state_dir);
	snprintf(s->state_dir, sizeof(s->state_dir), "%s", o->state_dir);
	snprintf(s->policy_path, sizeof(s->policy_path), "%s/%s", o->state_dir, POLICY_FILE);
	if (o->etag && policy_etag_ok(o->etag))
		snprintf(s->etag, sizeof(s->etag), "%s", o->etag);
	if (o->user && strlen(o->user) < sizeof(s->user))
		strcpy(s->user, o->user);
	snprintf(s->ca_file, sizeof(s->ca_file), "%s", o->cred->ca_file);
	/* the epoch names this spool in batch ids, so a spool made anew never
	 * reuses the ids of an old one */
	snprintf(path, sizeof(path), "%s/ship-epoch", o->state_dir);
	if (read_file(path, 64, &buf, NULL) == 0 && strlen(buf) == 16) {
		memcpy(s->epoch, buf, 17);
	} else {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			err = -EIO;
			goto fail;
		}
		snprintf(s->epoch, sizeof(s->epoch), "%016" PRIx64, rnd);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write_all(fd, s->epoch, 16) || fsync(fd) < 0) {
			err = -errno;
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		close(fd);
	}
	free(buf);
	buf = NULL;
	s->curl = curl_easy_init();
	if (!s->curl) {
		err = -ENOMEM;
		goto fail;
	}
	err = -pthread_create(&s->th, NULL, ship_main, s);
	if (err)
		goto fail;
	s->started = 1;
	*out = s;
	return 0;
fail:
	free(buf);
	shipper_stop(s);
	return err ? err : -EINVAL;
}

void shipper_kick(struct shipper *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->kicked = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void shipper_status(struct shipper *s, struct ship_status *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->st;
	pthread_mutex_unlock(&s->mu);
}

void shipper_set_user(struct shipper *s, const char *user)
{
	if (!s)
		return;
	if (!user || strlen(user) >= sizeof(s->user))
		user = "";
	pthread_mutex_lock(&s->mu);
	if (strcmp(user, s->user)) {
		strcpy(s->user, user);
		s->etag[0] = '\0';
		s->policy_now = 1;
		s->policy_due = 1;
		s->policy_retry_ms = 0;
		s->kicked = 1;
		pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

int shipper_take_policy(struct shipper *s, struct ship_policy *p)
{
	pthread_mutex_lock(&s->mu);
	*p = s->policy;
	memset(&s->policy, 0, sizeof(s->policy));
	pthread_mutex_unlock(&s->mu);
	return p->text != NULL;
}

void shipper_stop(struct shipper *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->th, NULL);
	}
	if (s->curl)
		curl_easy_cleanup(s->curl);
	free(s->policy.text);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	explicit_bzero(s->cred.token, sizeof(s->cred.token));
	free(s);
}
