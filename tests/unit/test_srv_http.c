// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_http.c - the HTTP layer against a real server on loopback, with
 * libcurl as the client: routing, parameters, caps, gzip, streamed replies, keep-alive,
 * concurrency, TLS, graceful stop, the access log; plus the pure parts
 * (listen address, rate limiter).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "check.h"
#include "gz.h"
#include "http/http.h"
#include "core/ratelimit.h"
#include "log.h"
#include "util.h"

#define TEST_MAX_BODY (256u << 10)
#define TEST_MAX_INFLATED (1u << 20)
#define TEST_CONN_MEMORY (16u << 10)

/* ------------------------------------------------------------------ */
/* handlers                                                            */

static uint32_t sum32(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static int h_children(struct http_req *req, void *arg)
{
	cJSON *o = cJSON_CreateObject();

	(void)arg;
	cJSON_AddStringToObject(o, "id", http_req_param(req, "id"));
	cJSON_AddStringToObject(o, "method", http_req_method(req));
	cJSON_AddBoolToObject(o, "nope_is_null", http_req_param(req, "nope") == NULL);
	return http_reply_json(req, 200, o);
}

static int h_two(struct http_req *req, void *arg)
{
	cJSON *o = cJSON_CreateObject();

	(void)arg;
	cJSON_AddStringToObject(o, "org", http_req_param(req, "org"));
	cJSON_AddStringToObject(o, "user", http_req_param(req, "user"));
	return http_reply_json(req, 200, o);
}

static int h_echo(struct http_req *req, void *arg)
{
	const char *name = http_req_query(req, "name"), *hdr = http_req_header(req, "x-test");
	cJSON *o = cJSON_CreateObject();

	(void)arg;
	cJSON_AddStringToObject(o, "name", name ? name : "(null)");
	cJSON_AddStringToObject(o, "hdr", hdr ? hdr : "(null)");
	cJSON_AddBoolToObject(o, "missing_is_null", http_req_query(req, "nope") == NULL);
	cJSON_AddStringToObject(o, "client", http_req_client(req));
	cJSON_AddStringToObject(o, "path", http_req_path(req));
	return http_reply_json(req, 200, o);
}

static int h_body(struct http_req *req, void *arg)
{
	const char *te = http_req_header(req, "Transfer-Encoding");
	size_t len;
	const uint8_t *b = http_req_body(req, &len);
	cJSON *o = cJSON_CreateObject();

	(void)arg;
	cJSON_AddNumberToObject(o, "len", (double)len);
	cJSON_AddNumberToObject(o, "sum", sum32(b, len));
	cJSON_AddBoolToObject(o, "nul_terminated", b[len] == '\0');
	cJSON_AddStringToObject(o, "te", te ? te : "");
	return http_reply_json(req, 200, o);
}

static int h_ingest(struct http_req *req, void *arg)
{
	const uint8_t *b;
	size_t len;
	int err;
	cJSON *o;

	(void)arg;
	err = http_req_body_gunzip(req, &b, &len);
	if (err < 0)
		return http_reply_error(req, http_status_for_errno(err), "body: %s",
					strerror(-err));
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "len", (double)len);
	cJSON_AddNumberToObject(o, "sum", sum32(b, len));
	return http_reply_json(req, 200, o);
}

static int h_etag(struct http_req *req, void *arg)
{
	const char *inm = http_req_header(req, "If-None-Match");

	(void)arg;
	http_set_header(req, "ETag", "\"v1\"");
	if (inm && strcmp(inm, "\"v1\"") == 0)
		return http_reply_empty(req, 304);
	return http_reply_bytes(req, 200, "text/plain", "version one", 11);
}

static int h_busy(struct http_req *req, void *arg)
{
	(void)arg;
	http_set_header(req, "Retry-After", "1");
	return -EAGAIN;
}

static int h_forget(struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	return 0;
}

static atomic_int slow_started;

static int h_slow(struct http_req *req, void *arg)
{
	struct timespec ts = {0, 700 * 1000000L};

	(void)arg;
	atomic_store(&slow_started, 1);
	nanosleep(&ts, NULL);
	return http_reply_bytes(req, 200, "text/plain", "slow done", 9);
}

/*
 * /defer?name=N: the handler suspends the request and hands it to a thread
 * that waits for defer_release, replies N (nothing for "noreply") with an
 * X-Deferred header, and resumes it.
 */
static atomic_int defer_waiting, defer_release, defer_suspend_again;

static void *defer_thread(void *p)
{
	struct http_req *req = p;
	const char *name = http_req_query(req, "name");
	struct timespec ts = {0, 2 * 1000000L};

	while (!atomic_load(&defer_release))
		nanosleep(&ts, NULL);
	if (!name || strcmp(name, "noreply")) {
		http_set_header(req, "X-Deferred", "yes");
		http_reply_bytes(req, 200, "text/plain", name ? name : "-",
				 name ? strlen(name) : 1);
	}
	atomic_fetch_sub(&defer_waiting, 1);
	http_req_resume(req);
	return NULL;
}

static int h_defer(struct http_req *req, void *arg)
{
	pthread_t th;
	int err;

	(void)arg;
	err = http_req_suspend(req);
	if (err)
		return err;
	atomic_store(&defer_suspend_again, http_req_suspend(req));
	atomic_fetch_add(&defer_waiting, 1);
	if (pthread_create(&th, NULL, defer_thread, req)) {
		atomic_fetch_sub(&defer_waiting, 1);
		http_reply_error(req, 500, "no thread");
		http_req_resume(req);
		return 0;
	}
	pthread_detach(th);
	return 0;
}

/* A streamed body: ?n= bytes of 'a'..'z' in turn, cut by an error after
 * ?fail= bytes when given; stream_done counts the frees. */
struct stream_ctx {
	size_t n, fail, pos;
};
static atomic_int stream_done;

static ssize_t stream_fn(void *ctx, char *buf, size_t max)
{
	struct stream_ctx *c = ctx;
	size_t k = 0;

	if (c->fail && c->pos >= c->fail)
		return -EIO;
	while (k < max && k < 1000 && c->pos < c->n)
		buf[k++] = (char)('a' + c->pos++ % 26);
	return (ssize_t)k;
}

static void stream_free_ctx(void *ctx)
{
	free(ctx);
	atomic_fetch_add(&stream_done, 1);
}

static int h_stream(struct http_req *req, void *arg)
{
	struct stream_ctx *c = calloc(1, sizeof(*c));
	const char *n = http_req_query(req, "n"), *f = http_req_query(req, "fail");
	int ret;

	(void)arg;
	if (!c)
		return -ENOMEM;
	c->n = n ? strtoul(n, NULL, 10) : 0;
	c->fail = f ? strtoul(f, NULL, 10) : 0;
	ret = http_reply_stream(req, 200, "text/plain", stream_fn, c, stream_free_ctx);
	/* a second reply is refused, and its context freed all the same */
	if (!ret)
		CHECK_EQ(http_reply_stream(req, 200, "text/plain", stream_fn, calloc(1, sizeof(*c)),
					   stream_free_ctx),
			 -EALREADY);
	return ret;
}

static const struct http_route routes[] = {
    {"GET", "/stream", h_stream, NULL},
    {"GET", "/api/v1/nodes/{id}/children", h_children, NULL},
    {"POST", "/api/v1/nodes/{id}/children", h_children, NULL},
    {"GET", "/api/v1/orgs/{org}/users/{user}", h_two, NULL},
    {"GET", "/api/v1/echo", h_echo, NULL},
    {"POST", "/api/v1/body", h_body, NULL},
    {"POST", "/api/v1/ingest", h_ingest, NULL},
    {"GET", "/etag", h_etag, NULL},
    {"GET", "/busy", h_busy, NULL},
    {"GET", "/forget", h_forget, NULL},
    {"GET", "/slow", h_slow, NULL},
    {"GET", "/defer", h_defer, NULL},
};

static struct http_opts main_opts(void)
{
	struct http_opts o = {
	    .listen = "127.0.0.1:0",
	    .threads = 4,
	    .max_body = TEST_MAX_BODY,
	    .max_inflated = TEST_MAX_INFLATED,
	    .conn_memory = TEST_CONN_MEMORY,
	    .timeout_s = 10,
	    .stop_timeout_ms = 5000,
	    .routes = routes,
	    .n_routes = ARRAY_SIZE(routes),
	};
	return o;
}

static struct http_server *start_main(void)
{
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	int err = http_start(&o, &s);

	CHECK_EQ(err, 0);
	return s;
}

/* ------------------------------------------------------------------ */
/* client                                                              */

struct resp {
	long status;
	char *body;
	size_t len;
	char hdrs[8192];
	size_t hlen;
	long new_conns;
	CURLcode rc;
};

static long client_timeout_ms = 20000;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = sz * n;
	char *nb;

	if (r->len + k > (64u << 20))
		return 0;
	nb = realloc(r->body, r->len + k + 1);
	if (!nb)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, k);
	r->len += k;
	r->body[r->len] = '\0';
	return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = sz * n;

	if (r->hlen + k < sizeof(r->hdrs)) {
		memcpy(r->hdrs + r->hlen, p, k);
		r->hlen += k;
		r->hdrs[r->hlen] = '\0';
	}
	return k;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The value of response header name (last occurrence), copied into out. */
static const char *resp_header(const struct resp *r, const char *name, char *out, size_t n)
{
	const char *p = r->hdrs, *found = NULL;
	size_t nl = strlen(name);

	while (*p) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			found = p + nl + 1;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	if (!found)
		return NULL;
	while (*found == ' ')
		found++;
	snprintf(out, n, "%.*s", (int)strcspn(found, "\r\n"), found);
	return out;
}

/*
 * One request on handle c to url. body NULL: no body. extra: NULL-terminated
 * header lines. "Expect:" is always sent so that curl does not wait for a
 * "100 Continue" unless the test adds that header itself.
 */
static void do_req(CURL *c, const char *method, const char *url, const void *body, size_t blen,
		   const char *const *extra, struct resp *r)
{
	struct curl_slist *h = NULL;

	memset(r, 0, sizeof(*r));
	h = curl_slist_append(h, "Expect:");
	for (; extra && *extra; extra++)
		h = curl_slist_append(h, *extra);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, client_timeout_ms);
	/* with "Expect: 100-continue" wait for the server's answer (curl sends
	 * the body after 1 s by default, which a loaded machine reaches) */
	curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, (long)client_timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	} else if (strcmp(method, "HEAD") != 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(
	    c, CURLOPT_CUSTOMREQUEST,
	    strcmp(method, "HEAD") == 0 || (!body && strcmp(method, "GET") == 0) ? NULL : method);
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &r->new_conns);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (!r->body)
		on_body("", 1, 0, r);
}

static char *url_of(const struct http_server *s, const char *path, char *buf, size_t n)
{
	snprintf(buf, n, "http://127.0.0.1:%u%s", http_port(s), path);
	return buf;
}

/* One request on a fresh handle. */
static void req1(const struct http_server *s, const char *method, const char *path,
		 const void *body, size_t blen, const char *const *extra, struct resp *r)
{
	size_t n = strlen(path) + 64;
	char *url = malloc(n);
	CURL *c = curl_easy_init();

	do_req(c, method, url_of(s, path, url, n), body, blen, extra, r);
	curl_easy_cleanup(c);
	free(url);
}

/* The string field key of the JSON body, copied into out ("" if absent). */
static const char *json_str(const struct resp *r, const char *key, char *out, size_t n)
{
	cJSON *j = cJSON_Parse(r->body ? r->body : "");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
	cJSON_Delete(j);
	return out;
}

static double json_num(const struct resp *r, const char *key)
{
	cJSON *j = cJSON_Parse(r->body ? r->body : "");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;

	cJSON_Delete(j);
	return d;
}

static bool json_true(const struct resp *r, const char *key)
{
	cJSON *j = cJSON_Parse(r->body ? r->body : "");
	bool t = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, key));

	cJSON_Delete(j);
	return t;
}

/* The body is exactly one JSON object {"error": non-empty string}. */
static bool is_json_error(const struct resp *r)
{
	cJSON *j = cJSON_Parse(r->body ? r->body : "");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	bool ok = cJSON_IsObject(j) && cJSON_IsString(e) && e->valuestring[0] &&
		  cJSON_GetArraySize(j) == 1;

	cJSON_Delete(j);
	return ok;
}

/* ------------------------------------------------------------------ */
/* routing                                                             */

TEST(route_path_param_json)
{
	struct http_server *s = start_main();
	struct resp r;
	char v[128], ct[128];

	if (!s)
		return;
	req1(s, "GET", "/api/v1/nodes/n42/children", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(json_str(&r, "id", v, sizeof(v)), "n42");
	CHECK_STR(json_str(&r, "method", v, sizeof(v)), "GET");
	CHECK(json_true(&r, "nope_is_null"));
	CHECK_STR(resp_header(&r, "Content-Type", ct, sizeof(ct)), "application/json");
	resp_free(&r);

	/* percent-decoded, two parameters, POST on the same pattern */
	req1(s, "GET", "/api/v1/orgs/acme/users/j%20doe", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(json_str(&r, "org", v, sizeof(v)), "acme");
	CHECK_STR(json_str(&r, "user", v, sizeof(v)), "j doe");
	resp_free(&r);
	req1(s, "POST", "/api/v1/nodes/7/children", "{}", 2, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(json_str(&r, "method", v, sizeof(v)), "POST");
	resp_free(&r);

	/* HEAD on a GET route: status and headers, no body */
	req1(s, "HEAD", "/api/v1/nodes/n1/children", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.len, 0);
	resp_free(&r);
	http_stop(s);
}

TEST(query_and_header)
{
	struct http_server *s = start_main();
	const char *hdr[] = {"X-Test: hello", NULL};
	struct resp r;
	char v[128];

	if (!s)
		return;
	req1(s, "GET", "/api/v1/echo?x=1&name=abc%20d%26e&y", NULL, 0, hdr, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(json_str(&r, "name", v, sizeof(v)), "abc d&e");
	CHECK_STR(json_str(&r, "hdr", v, sizeof(v)), "hello"); /* asked as "x-test" */
	CHECK(json_true(&r, "missing_is_null"));
	CHECK_STR(json_str(&r, "client", v, sizeof(v)), "127.0.0.1");
	CHECK_STR(json_str(&r, "path", v, sizeof(v)), "/api/v1/echo");
	resp_free(&r);
	http_stop(s);
}

TEST(not_found_and_method_not_allowed)
{
	struct http_server *s = start_main();
	struct resp r;
	char v[128];

	if (!s)
		return;
	const char *nf[] = {"/nope", "/api/v1/nodes//children", "/api/v1/nodes/1/children/x",
			    "/api/v1/echo/", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t"};
	for (size_t i = 0; i < ARRAY_SIZE(nf); i++) {
		req1(s, "GET", nf[i], NULL, 0, NULL, &r);
		CHECK_EQ(r.status, 404);
		CHECK(is_json_error(&r));
		CHECK_STR(json_str(&r, "error", v, sizeof(v)), "not found");
		resp_free(&r);
	}

	req1(s, "DELETE", "/api/v1/nodes/7/children", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 405);
	CHECK(is_json_error(&r));
	CHECK_STR(resp_header(&r, "Allow", v, sizeof(v)), "GET, HEAD, POST");
	resp_free(&r);
	req1(s, "PUT", "/api/v1/body", "x", 1, NULL, &r);
	CHECK_EQ(r.status, 405);
	CHECK(is_json_error(&r));
	CHECK_STR(resp_header(&r, "Allow", v, sizeof(v)), "POST");
	resp_free(&r);
	http_stop(s);
}

TEST(replies_headers_and_errors)
{
	struct http_server *s = start_main();
	const char *inm[] = {"If-None-Match: \"v1\"", NULL};
	struct resp r;
	char v[128];

	if (!s)
		return;
	req1(s, "GET", "/etag", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(r.body, "version one");
	CHECK_STR(resp_header(&r, "ETag", v, sizeof(v)), "\"v1\"");
	CHECK_STR(resp_header(&r, "Content-Type", v, sizeof(v)), "text/plain");
	resp_free(&r);
	req1(s, "GET", "/etag", NULL, 0, inm, &r);
	CHECK_EQ(r.status, 304);
	CHECK_EQ(r.len, 0);
	CHECK_STR(resp_header(&r, "ETag", v, sizeof(v)), "\"v1\"");
	resp_free(&r);

	/* a handler's -EAGAIN: 429, JSON, and the header it set stays */
	req1(s, "GET", "/busy", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 429);
	CHECK(is_json_error(&r));
	CHECK_STR(resp_header(&r, "Retry-After", v, sizeof(v)), "1");
	resp_free(&r);
	/* a handler that forgot to reply */
	req1(s, "GET", "/forget", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 500);
	CHECK(is_json_error(&r));
	resp_free(&r);
	http_stop(s);
}

TEST(streamed_reply)
{
	struct http_server *s = start_main();
	struct resp r;
	char v[128];
	size_t i;
	bool ok = true;

	if (!s)
		return;
	atomic_store(&stream_done, 0);
	req1(s, "GET", "/stream?n=300000", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.len, 300000);
	for (i = 0; i < r.len && ok; i++)
		ok = r.body[i] == (char)('a' + i % 26);
	CHECK(ok);
	CHECK_STR(resp_header(&r, "Transfer-Encoding", v, sizeof(v)), "chunked");
	CHECK_STR(resp_header(&r, "Content-Type", v, sizeof(v)), "text/plain");
	resp_free(&r);
	req1(s, "GET", "/stream?n=0", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.len, 0);
	resp_free(&r);
	/* an error after the headers: the client sees a cut body, not a clean end */
	req1(s, "GET", "/stream?n=300000&fail=50000", NULL, 0, NULL, &r);
	CHECK(r.rc != CURLE_OK);
	CHECK(r.len < 300000);
	resp_free(&r);
	http_stop(s);
	/* 3 answered + 3 refused second replies: every context freed once */
	CHECK_EQ(atomic_load(&stream_done), 6);
}

/* ------------------------------------------------------------------ */
/* body caps                                                           */

static void body_cap_case(const struct http_server *s, bool chunked)
{
	const char *te[] = {"Transfer-Encoding: chunked", NULL};
	uint8_t *buf = malloc(TEST_MAX_BODY + 1);
	char url[256], v[64];
	CURL *c = curl_easy_init();
	struct resp r;

	for (size_t i = 0; i <= TEST_MAX_BODY; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	url_of(s, "/api/v1/body", url, sizeof(url));

	do_req(c, "POST", url, buf, TEST_MAX_BODY, chunked ? te : NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(json_num(&r, "len"), TEST_MAX_BODY);
	CHECK_EQ(json_num(&r, "sum"), sum32(buf, TEST_MAX_BODY));
	CHECK(json_true(&r, "nul_terminated"));
	CHECK_STR(json_str(&r, "te", v, sizeof(v)), chunked ? "chunked" : "");
	resp_free(&r);

	do_req(c, "POST", url, buf, TEST_MAX_BODY + 1, chunked ? te : NULL, &r);
	CHECK_EQ(r.rc, CURLE_OK);
	CHECK_EQ(r.status, 413);
	CHECK(is_json_error(&r));
	resp_free(&r);

	/*
	 * After a chunked 413 the body was drained and the connection lives
	 * on; after a Content-Length 413 MHD closed it without reading.
	 */
	do_req(c, "GET", url_of(s, "/api/v1/nodes/1/children", url, sizeof(url)), NULL, 0, NULL,
	       &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.new_conns, chunked ? 0 : 1);
	resp_free(&r);
	curl_easy_cleanup(c);
	free(buf);
}

TEST(body_cap_content_length)
{
	struct http_server *s = start_main();

	if (!s)
		return;
	body_cap_case(s, false);
	http_stop(s);
}

TEST(body_cap_chunked)
{
	struct http_server *s = start_main();

	if (!s)
		return;
	body_cap_case(s, true);
	http_stop(s);
}

TEST(body_far_over_cap)
{
	struct http_server *s = start_main();
	const char *expect[] = {"Expect: 100-continue", NULL};
	const char *te[] = {"Transfer-Encoding: chunked", NULL};
	size_t big = 4 * TEST_MAX_BODY;
	uint8_t *buf = calloc(1, big);
	struct resp r;

	if (!s)
		return;
	/* Content-Length over the cap with Expect: refused before the body */
	req1(s, "POST", "/api/v1/body", buf, big, expect, &r);
	CHECK_EQ(r.status, 413);
	CHECK(is_json_error(&r));
	resp_free(&r);
	/* chunked, past the drain budget (2 * cap): dropped without an answer */
	req1(s, "POST", "/api/v1/body", buf, big, te, &r);
	CHECK(r.rc != CURLE_OK);
	CHECK_EQ(r.status, 0);
	resp_free(&r);
	/* the server is fine afterwards */
	req1(s, "GET", "/api/v1/nodes/1/children", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	resp_free(&r);
	free(buf);
	http_stop(s);
}

/* The test gate: "Bearer good" passes, "Bearer bad" gets a 401, none neither. */
static atomic_int gate_calls;

static int test_gate(struct http_req *req, void *arg)
{
	const char *auth = http_req_header(req, "Authorization");

	(void)arg;
	atomic_fetch_add(&gate_calls, 1);
	if (auth && !strcmp(auth, "Bearer good"))
		return 0;
	if (auth)
		return http_reply_error(req, 401, "bad token") ?: 1;
	return -EACCES;
}

TEST(body_gate)
{
	const char *good[] = {"Authorization: Bearer good", NULL};
	const char *bad[] = {"Authorization: Bearer bad", NULL};
	const char *te[] = {"Transfer-Encoding: chunked", NULL};
	const char *te_good[] = {"Transfer-Encoding: chunked", "Authorization: Bearer good", NULL};
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	uint8_t *buf = calloc(1, 8192);
	char msg[256];
	struct resp r;

	o.gate = test_gate;
	o.anon_max_body = 1024;
	CHECK_EQ(http_start(&o, &s), 0);
	if (!s || !buf)
		return;
	/* at most anon_max_body without the gate: no call, no token needed */
	req1(s, "POST", "/api/v1/body", buf, 1024, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(json_num(&r, "len"), 1024);
	resp_free(&r);
	req1(s, "POST", "/api/v1/body", buf, 100, bad, &r);
	CHECK_EQ(r.status, 200);
	resp_free(&r);
	CHECK_EQ(atomic_load(&gate_calls), 0);
	/* more: the gate decides before the body */
	req1(s, "POST", "/api/v1/body", buf, 1025, NULL, &r);
	CHECK_EQ(r.status, 413);
	CHECK(strstr(json_str(&r, "error", msg, sizeof(msg)), "1024 bytes without a valid"));
	resp_free(&r);
	req1(s, "POST", "/api/v1/body", buf, 8192, bad, &r);
	CHECK_EQ(r.status, 401);
	CHECK_STR(json_str(&r, "error", msg, sizeof(msg)), "bad token");
	resp_free(&r);
	req1(s, "POST", "/api/v1/body", buf, 8192, good, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(json_num(&r, "len"), 8192);
	resp_free(&r);
	CHECK_EQ(atomic_load(&gate_calls), 3);
	/* chunked: the gate is asked at once; without a token the small cap */
	req1(s, "POST", "/api/v1/body", buf, 500, te, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(json_num(&r, "len"), 500);
	resp_free(&r);
	req1(s, "POST", "/api/v1/body", buf, 2000, te, &r);
	CHECK_EQ(r.status, 413);
	resp_free(&r);
	req1(s, "POST", "/api/v1/body", buf, 8192, te_good, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(json_num(&r, "len"), 8192);
	resp_free(&r);
	/* an unknown path: never the gate, the small cap */
	gate_calls = 0;
	req1(s, "POST", "/nope", buf, 2000, good, &r);
	CHECK_EQ(r.status, 413);
	resp_free(&r);
	CHECK_EQ(atomic_load(&gate_calls), 0);
	free(buf);
	http_stop(s);
}

/* ------------------------------------------------------------------ */
/* gzip                                                                */

TEST(gzip_body_inflates)
{
	struct http_server *s = start_main();
	const char *enc[] = {"Content-Encoding: gzip", NULL};
	const char *br[] = {"Content-Encoding: br", NULL};
	size_t n = 200000, zlen;
	char *text = malloc(n);
	uint8_t *z = NULL;
	struct resp r;

	if (!s)
		return;
	for (size_t i = 0; i < n; i++)
		text[i] = "{\"t\":1,\"app\":\"firefox\"}\n"[i % 25];
	CHECK_EQ(gz_compress(text, n, 9, &z, &zlen), 0);
	CHECK(zlen < n / 10);
	req1(s, "POST", "/api/v1/ingest", z, zlen, enc, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(json_num(&r, "len"), n);
	CHECK_EQ(json_num(&r, "sum"), sum32((uint8_t *)text, n));
	resp_free(&r);
	/* no Content-Encoding: the raw body */
	req1(s, "POST", "/api/v1/ingest", text, 1000, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(json_num(&r, "len"), 1000);
	resp_free(&r);
	/* an encoding we do not speak */
	req1(s, "POST", "/api/v1/ingest", z, zlen, br, &r);
	CHECK_EQ(r.status, 415);
	CHECK(is_json_error(&r));
	resp_free(&r);
	free(z);
	free(text);
	http_stop(s);
}

TEST(gzip_truncated_and_corrupt)
{
	struct http_server *s = start_main();
	const char *enc[] = {"Content-Encoding: gzip", NULL};
	size_t n = 50000, zlen;
	char *text = malloc(n);
	uint8_t *z = NULL;
	struct resp r;

	if (!s)
		return;
	for (size_t i = 0; i < n; i++)
		text[i] = (char)('a' + (i * 31 % 26));
	CHECK_EQ(gz_compress(text, n, 9, &z, &zlen), 0);
	req1(s, "POST", "/api/v1/ingest", z, zlen / 2, enc, &r);
	CHECK_EQ(r.status, 400);
	CHECK(is_json_error(&r));
	resp_free(&r);
	/* all but the trailer (CRC32 + size) */
	req1(s, "POST", "/api/v1/ingest", z, zlen - 4, enc, &r);
	CHECK_EQ(r.status, 400);
	resp_free(&r);
	z[zlen / 2] ^= 0x55;
	req1(s, "POST", "/api/v1/ingest", z, zlen, enc, &r);
	CHECK_EQ(r.status, 400);
	resp_free(&r);
	req1(s, "POST", "/api/v1/ingest", "", 0, enc, &r);
	CHECK_EQ(r.status, 400);
	resp_free(&r);
	free(z);
	free(text);
	http_stop(s);
}

TEST(gzip_bomb_over_http)
{
	struct http_server *s = start_main();
	const char *enc[] = {"Content-Encoding: gzip", NULL};
	size_t n = 64u << 20, zlen;
	uint8_t *zeros = calloc(1, n), *z = NULL;
	struct resp r;

	if (!s)
		return;
	CHECK_EQ(gz_compress(zeros, n, 9, &z, &zlen), 0);
	free(zeros);
	CHECK(zlen < TEST_MAX_BODY); /* it passes the body cap... */
	req1(s, "POST", "/api/v1/ingest", z, zlen, enc, &r);
	CHECK_EQ(r.status, 413); /* ...but not the inflate cap */
	CHECK(is_json_error(&r));
	resp_free(&r);
	free(z);
	http_stop(s);
}

/* ------------------------------------------------------------------ */
/* connections                                                         */

TEST(keepalive_one_connection)
{
	struct http_server *s = start_main();
	char url[256], body[1000], v[64];
	CURL *c = curl_easy_init();
	long total_new = 0;
	struct resp r;
	int bad = 0;

	if (!s)
		return;
	memset(body, 'k', sizeof(body));
	for (int i = 0; i < 50; i++) {
		long want = 200;

		switch (i % 5) {
		case 0:
			do_req(c, "GET", url_of(s, "/api/v1/nodes/k/children", url, sizeof(url)),
			       NULL, 0, NULL, &r);
			break;
		case 1:
			do_req(c, "POST", url_of(s, "/api/v1/body", url, sizeof(url)), body,
			       sizeof(body), NULL, &r);
			if (json_num(&r, "len") != sizeof(body))
				bad++;
			break;
		case 2: /* known path, wrong method, with a body to drain */
			do_req(c, "PUT", url_of(s, "/api/v1/body", url, sizeof(url)), body,
			       sizeof(body), NULL, &r);
			want = 405;
			break;
		case 3: /* unknown path with a body */
			do_req(c, "POST", url_of(s, "/nowhere", url, sizeof(url)), body,
			       sizeof(body), NULL, &r);
			want = 404;
			break;
		default:
			do_req(c, "GET", url_of(s, "/api/v1/echo?name=q", url, sizeof(url)), NULL,
			       0, NULL, &r);
			if (strcmp(json_str(&r, "name", v, sizeof(v)), "q") != 0)
				bad++;
			break;
		}
		if (r.status != want) {
			printf("  request %d: status %ld, want %ld\n", i, r.status, want);
			bad++;
		}
		if (i == 0)
			CHECK_EQ(r.new_conns, 1);
		else
			total_new += r.new_conns;
		resp_free(&r);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(total_new, 0);
	curl_easy_cleanup(c);
	http_stop(s);
}

struct conc_arg {
	const struct http_server *s;
	int id;
	atomic_int *ok;
};

#define CONC_THREADS 8
#define CONC_REQS 40

static void *conc_thread(void *p)
{
	struct conc_arg *a = p;
	CURL *c = curl_easy_init();
	char url[256], want[32], v[128];
	struct resp r;

	for (int i = 0; i < CONC_REQS; i++) {
		snprintf(want, sizeof(want), "t%d-%d", a->id, i);
		snprintf(v, sizeof(v), "/api/v1/nodes/%s/children", want);
		if (i % 2)
			do_req(c, "POST", url_of(a->s, v, url, sizeof(url)), "{\"x\":1}", 7, NULL,
			       &r);
		else
			do_req(c, "GET", url_of(a->s, v, url, sizeof(url)), NULL, 0, NULL, &r);
		if (r.status == 200 && strcmp(json_str(&r, "id", v, sizeof(v)), want) == 0)
			atomic_fetch_add(a->ok, 1);
		resp_free(&r);
	}
	curl_easy_cleanup(c);
	return NULL;
}

TEST(concurrency)
{
	struct http_server *s = start_main();
	pthread_t th[CONC_THREADS];
	struct conc_arg a[CONC_THREADS];
	atomic_int ok = 0;

	if (!s)
		return;
	for (int i = 0; i < CONC_THREADS; i++) {
		a[i] = (struct conc_arg){s, i, &ok};
		CHECK_EQ(pthread_create(&th[i], NULL, conc_thread, &a[i]), 0);
	}
	for (int i = 0; i < CONC_THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(atomic_load(&ok), CONC_THREADS * CONC_REQS);
	http_stop(s);
}

TEST(huge_header_refused)
{
	struct http_server *s = start_main();
	size_t n = 4 * TEST_CONN_MEMORY;
	char *line = malloc(n + 16);
	const char *hdr[] = {line, NULL};
	struct resp r;

	if (!s)
		return;
	memcpy(line, "X-Big: ", 7);
	memset(line + 7, 'a', n);
	line[7 + n] = '\0';
	req1(s, "GET", "/api/v1/nodes/1/children", NULL, 0, hdr, &r);
	CHECK_EQ(r.status, 431); /* MHD's own answer */
	resp_free(&r);
	/* a request line that does not fit: 414 */
	{
		char *path = malloc(n + 32);

		snprintf(path, n + 32, "/api/v1/echo?name=%s", line + 7);
		req1(s, "GET", path, NULL, 0, NULL, &r);
		CHECK_EQ(r.status, 414);
		resp_free(&r);
		free(path);
	}
	req1(s, "GET", "/api/v1/nodes/1/children", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	resp_free(&r);
	free(line);
	http_stop(s);
}

/* Request targets over their caps (conn_memory 16 KiB: 4096 bytes, 32
 * arguments): 414 with a JSON error, the connection and server fine. */
TEST(request_target_caps)
{
	struct http_server *s = start_main();
	char *path = malloc(8192), v[64];
	size_t n;
	struct resp r;
	int i;

	if (!s || !path)
		return;
	/* 32 arguments: fine */
	n = (size_t)snprintf(path, 8192, "/api/v1/echo?name=x");
	for (i = 1; i < 32; i++)
		n += (size_t)snprintf(path + n, 8192 - n, "&a%d=1", i);
	req1(s, "GET", path, NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(json_str(&r, "name", v, sizeof(v)), "x");
	resp_free(&r);
	/* 33: 414 */
	snprintf(path + n, 8192 - n, "&a32=1");
	req1(s, "GET", path, NULL, 0, NULL, &r);
	CHECK_EQ(r.rc, CURLE_OK);
	CHECK_EQ(r.status, 414);
	CHECK(is_json_error(&r));
	resp_free(&r);
	/* 600 short ones: what made MHD close the connection without an answer */
	n = (size_t)snprintf(path, 8192, "/api/v1/echo?name=x");
	for (i = 1; i < 600; i++)
		n += (size_t)snprintf(path + n, 8192 - n, "&%d", i % 10);
	req1(s, "GET", path, NULL, 0, NULL, &r);
	CHECK_EQ(r.rc, CURLE_OK);
	CHECK_EQ(r.status, 414);
	CHECK(is_json_error(&r));
	resp_free(&r);
	/* a target over 4096 bytes with few arguments */
	memcpy(path, "/api/v1/echo?name=", 18);
	memset(path + 18, 'y', 4200);
	path[18 + 4200] = '\0';
	req1(s, "GET", path, NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 414);
	CHECK(is_json_error(&r));
	resp_free(&r);
	req1(s, "GET", "/api/v1/echo?name=z", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(json_str(&r, "name", v, sizeof(v)), "z");
	resp_free(&r);
	free(path);
	http_stop(s); /* every request was completed: no wait for the stop timeout */
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when the peer closed fd within ms, 0 when it is still open. */
static int closed_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

TEST(connection_limit_and_idle_timeout)
{
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	struct timespec ts = {0, 200 * 1000000L};
	struct resp r;
	int a, b;

	o.threads = 1; /* MHD splits max_conns between pool threads */
	o.max_conns = 2;
	o.timeout_s = 2;
	CHECK_EQ(http_start(&o, &s), 0);
	if (!s)
		return;
	a = tcp_connect(http_port(s));
	b = tcp_connect(http_port(s));
	CHECK(a >= 0 && b >= 0);
	nanosleep(&ts, NULL); /* let MHD accept both */
	/* at the limit MHD accepts nothing more: a third client is not served */
	client_timeout_ms = 700;
	req1(s, "GET", "/api/v1/echo", NULL, 0, NULL, &r);
	client_timeout_ms = 20000;
	CHECK_EQ(r.rc, CURLE_OPERATION_TIMEDOUT);
	CHECK_EQ(r.status, 0);
	resp_free(&r);
	/* idle connections are closed after timeout_s, which frees the slots */
	CHECK(closed_within(a, 5000));
	CHECK(closed_within(b, 5000));
	req1(s, "GET", "/api/v1/echo", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	resp_free(&r);
	close(a);
	close(b);
	http_stop(s);
}

/* A TCP connection to 127.0.0.1:port from source address src. -1 on failure. */
static int tcp_connect_from(const char *src, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in me = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	inet_pton(AF_INET, src, &me.sin_addr);
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
			connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send a raw GET of path on fd and return the status of the answer (0 none). */
static int raw_get(int fd, const char *path)
{
	char buf[4096];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n, status = 0;

	n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	if (write_all(fd, buf, (size_t)n) < 0 || poll(&p, 1, 5000) <= 0)
		return 0;
	n = (int)recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	sscanf(buf, "HTTP/1.1 %d", &status);
	return status;
}

TEST(per_address_cap)
{
	const char *proxies[] = {"127.0.0.3"};
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	struct timespec ts = {0, 200 * 1000000L};
	int a, b, c, d, p[4];

	o.threads = 1; /* no accept races between pool threads */
	o.max_conns_per_ip = 2;
	o.trusted_proxies = proxies;
	o.n_trusted_proxies = 1;
	CHECK_EQ(http_start(&o, &s), 0);
	if (!s)
		return;
	a = tcp_connect(http_port(s));
	b = tcp_connect(http_port(s));
	nanosleep(&ts, NULL); /* let MHD accept both */
	c = tcp_connect(http_port(s));
	CHECK(a >= 0 && b >= 0 && c >= 0);
	/* the third from 127.0.0.1 is closed at once; the first two live */
	CHECK(closed_within(c, 2000));
	CHECK(!closed_within(a, 300));
	CHECK_EQ(raw_get(b, "/api/v1/echo"), 200);
	/* another address has its own share */
	d = tcp_connect_from("127.0.0.2", http_port(s));
	CHECK_EQ(raw_get(d, "/api/v1/echo"), 200);
	/* a trusted proxy is not capped */
	for (int i = 0; i < 4; i++)
		p[i] = tcp_connect_from("127.0.0.3", http_port(s));
	nanosleep(&ts, NULL);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(raw_get(p[i], "/api/v1/echo"), 200);
		close(p[i]);
	}
	/* a slot freed is a slot again */
	close(a);
	close(c);
	nanosleep(&ts, NULL);
	c = tcp_connect(http_port(s));
	CHECK_EQ(raw_get(c, "/api/v1/echo"), 200);
	close(b);
	close(c);
	close(d);
	http_stop(s);
}

TEST(header_timeout)
{
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	const char *line = "GET /api/v1/echo HTTP/1.1\r\nHost: x\r\n";
	uint64_t t0;
	int a, b, c, i, closed = 0;

	o.header_timeout_s = 1;
	o.timeout_s = 3;
	CHECK_EQ(http_start(&o, &s), 0);
	if (!s)
		return;
	a = tcp_connect(http_port(s));
	c = tcp_connect(http_port(s));
	CHECK(a >= 0 && c >= 0);
	t0 = clock_ns(CLOCK_MONOTONIC);
	/* a: headers trickled in, a line every 100 ms: never idle, still cut */
	CHECK_EQ(write_all(a, line, strlen(line)), 0);
	for (i = 0; i < 40 && !closed; i++) {
		(void)!write(a, "X-a: b\r\n", 8);
		closed = closed_within(a, 100);
	}
	CHECK(closed);
	CHECK((clock_ns(CLOCK_MONOTONIC) - t0) / NSEC_PER_MSEC >= 900);
	CHECK((clock_ns(CLOCK_MONOTONIC) - t0) / NSEC_PER_MSEC < 4000);
	/* c: nothing sent at all, closed by the header deadline as well
	 * (before the 3 s idle timeout) */
	CHECK(closed_within(c, 1000));
	/* b: a complete request in time; kept alive past the header deadline
	 * (the next request's headers get timeout_s + 1 s) */
	b = tcp_connect(http_port(s));
	CHECK(b >= 0);
	CHECK_EQ(raw_get(b, "/api/v1/echo"), 200);
	CHECK(!closed_within(b, 1500));
	CHECK_EQ(raw_get(b, "/api/v1/echo"), 200);
	close(a);
	close(b);
	close(c);
	http_stop(s);
}

/* ------------------------------------------------------------------ */
/* TLS                                                                 */

static int run_openssl(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
		 "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
		 dir, dir);
	return system(cmd);
}

TEST(tls_round_trip)
{
	char dir[] = "/tmp/actlog-http-tls.XXXXXX", cert[128], key[128], url[256], v[64];
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	struct resp r;
	CURL *c;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ(run_openssl(dir), 0);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	o.tls_cert = cert;
	o.tls_key = key;
	CHECK_EQ(http_start(&o, &s), 0);
	if (s) {
		c = curl_easy_init();
		curl_easy_setopt(c, CURLOPT_CAINFO, cert);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
		snprintf(url, sizeof(url), "https://127.0.0.1:%u/api/v1/nodes/tls/children",
			 http_port(s));
		do_req(c, "GET", url, NULL, 0, NULL, &r);
		CHECK_EQ(r.rc, CURLE_OK);
		CHECK_EQ(r.status, 200);
		CHECK_STR(json_str(&r, "id", v, sizeof(v)), "tls");
		resp_free(&r);
		/* a body over TLS, same connection */
		snprintf(url, sizeof(url), "https://127.0.0.1:%u/api/v1/body", http_port(s));
		do_req(c, "POST", url, "0123456789", 10, NULL, &r);
		CHECK_EQ(r.status, 200);
		CHECK_EQ(json_num(&r, "len"), 10);
		CHECK_EQ(r.new_conns, 0);
		resp_free(&r);
		curl_easy_cleanup(c);
		/* without the CA the certificate is not trusted */
		c = curl_easy_init();
		curl_easy_setopt(c, CURLOPT_CAINFO, "/dev/null");
		do_req(c, "GET", url, NULL, 0, NULL, &r);
		CHECK(r.rc != CURLE_OK);
		resp_free(&r);
		curl_easy_cleanup(c);
		http_stop(s);
	}
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* graceful stop                                                       */

struct slow_arg {
	const struct http_server *s;
	struct resp r;
};

static void *slow_client(void *p)
{
	struct slow_arg *a = p;

	req1(a->s, "GET", "/slow", NULL, 0, NULL, &a->r);
	return NULL;
}

TEST(stop_completes_inflight)
{
	struct http_server *s = start_main();
	struct slow_arg a = {0};
	struct timespec ts = {0, 5 * 1000000L};
	char v[64];
	uint16_t port;
	pthread_t th;
	int i;

	if (!s)
		return;
	port = http_port(s);
	a.s = s;
	atomic_store(&slow_started, 0);
	CHECK_EQ(pthread_create(&th, NULL, slow_client, &a), 0);
	for (i = 0; i < 1000 && !atomic_load(&slow_started); i++)
		nanosleep(&ts, NULL);
	CHECK(atomic_load(&slow_started));
	http_stop(s); /* while h_slow sleeps */
	pthread_join(th, NULL);
	CHECK_EQ(a.r.rc, CURLE_OK);
	CHECK_EQ(a.r.status, 200);
	CHECK_STR(a.r.body, "slow done");
	CHECK_STR(resp_header(&a.r, "Connection", v, sizeof(v)), "close");
	resp_free(&a.r);
	/* and nobody listens any more */
	{
		char url[128];
		CURL *c = curl_easy_init();
		struct resp r;

		snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/echo", port);
		do_req(c, "GET", url, NULL, 0, NULL, &r);
		CHECK_EQ(r.rc, CURLE_COULDNT_CONNECT);
		resp_free(&r);
		curl_easy_cleanup(c);
	}
}

/* ------------------------------------------------------------------ */
/* suspended requests                                                  */

struct defer_arg {
	const struct http_server *s;
	struct resp r1, r2;
};

/* /defer?name=first, then /defer?name=second on the same connection. */
static void *defer_client(void *p)
{
	struct defer_arg *a = p;
	CURL *c = curl_easy_init();
	char url[128];

	do_req(c, "GET", url_of(a->s, "/defer?name=first", url, sizeof(url)), NULL, 0, NULL,
	       &a->r1);
	do_req(c, "GET", url_of(a->s, "/defer?name=second", url, sizeof(url)), NULL, 0, NULL,
	       &a->r2);
	curl_easy_cleanup(c);
	return NULL;
}

static bool wait_defer_waiting(int n)
{
	struct timespec ts = {0, 5 * 1000000L};
	int i;

	for (i = 0; i < 1000 && atomic_load(&defer_waiting) != n; i++)
		nanosleep(&ts, NULL);
	return atomic_load(&defer_waiting) == n;
}

TEST(suspend_frees_the_thread)
{
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	struct defer_arg a = {0};
	struct resp r;
	pthread_t th;
	char v[64];
	uint64_t t0;

	o.threads = 1; /* one MHD thread: a held request would block everyone */
	CHECK_EQ(http_start(&o, &s), 0);
	if (!s)
		return;
	a.s = s;
	atomic_store(&defer_release, 0);
	atomic_store(&defer_suspend_again, 0);
	CHECK_EQ(pthread_create(&th, NULL, defer_client, &a), 0);
	CHECK(wait_defer_waiting(1));
	CHECK_EQ(atomic_load(&defer_suspend_again), -EALREADY);
	/* the only thread serves others while the request is suspended */
	t0 = clock_ns(CLOCK_MONOTONIC);
	req1(s, "GET", "/api/v1/echo?name=x", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK(clock_ns(CLOCK_MONOTONIC) - t0 < 2000 * 1000000ull);
	CHECK_EQ(atomic_load(&defer_waiting), 1);
	resp_free(&r);
	atomic_store(&defer_release, 1);
	pthread_join(th, NULL);
	CHECK_EQ(a.r1.status, 200);
	CHECK_STR(a.r1.body, "first");
	CHECK_STR(resp_header(&a.r1, "X-Deferred", v, sizeof(v)), "yes");
	CHECK_STR(resp_header(&a.r1, "Content-Type", v, sizeof(v)), "text/plain");
	CHECK_EQ(a.r2.status, 200);
	CHECK_STR(a.r2.body, "second");
	CHECK_EQ(a.r2.new_conns, 0); /* the connection survived its suspension */
	resp_free(&a.r1);
	resp_free(&a.r2);
	/* resumed without a reply: 500 with a JSON error */
	req1(s, "GET", "/defer?name=noreply", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 500);
	CHECK(is_json_error(&r));
	resp_free(&r);
	req1(s, "HEAD", "/defer?name=head", NULL, 0, NULL, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(resp_header(&r, "Content-Length", v, sizeof(v)), "4");
	resp_free(&r);
	CHECK(wait_defer_waiting(0));
	http_stop(s);
}

static void *late_release(void *p)
{
	struct timespec ts = {0, 600 * 1000000L};

	(void)p;
	nanosleep(&ts, NULL);
	atomic_store(&defer_release, 1);
	return NULL;
}

static void *late_client(void *p)
{
	struct defer_arg *a = p;

	req1(a->s, "GET", "/defer?name=late", NULL, 0, NULL, &a->r1);
	return NULL;
}

TEST(stop_waits_for_suspended)
{
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	struct defer_arg a = {0};
	pthread_t cl, rel;
	char v[64];
	uint64_t t0;

	o.threads = 1;
	o.stop_timeout_ms = 100; /* shorter than the suspension */
	CHECK_EQ(http_start(&o, &s), 0);
	if (!s)
		return;
	a.s = s;
	atomic_store(&defer_release, 0);
	CHECK_EQ(pthread_create(&cl, NULL, late_client, &a), 0);
	CHECK(wait_defer_waiting(1));
	CHECK_EQ(pthread_create(&rel, NULL, late_release, NULL), 0);
	t0 = clock_ns(CLOCK_MONOTONIC);
	http_stop(s); /* must not stop MHD while the request is suspended */
	CHECK(clock_ns(CLOCK_MONOTONIC) - t0 >= 400 * 1000000ull);
	pthread_join(rel, NULL);
	pthread_join(cl, NULL);
	CHECK_EQ(a.r1.rc, CURLE_OK);
	CHECK_EQ(a.r1.status, 200);
	CHECK_STR(a.r1.body, "late");
	CHECK_STR(resp_header(&a.r1, "Connection", v, sizeof(v)), "close");
	resp_free(&a.r1);
	CHECK(wait_defer_waiting(0));
}

/* ------------------------------------------------------------------ */
/* start-up errors, addresses                                          */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

TEST(start_errors)
{
	struct http_route bad_routes[][1] = {
	    {{"GET", "no/slash", h_echo, NULL}}, {{"GET", "/a/{b", h_echo, NULL}},
	    {{"GET", "/a/{}", h_echo, NULL}},	 {{"GET", "/{x}/{x}", h_echo, NULL}},
	    {{"G T", "/a", h_echo, NULL}},	 {{"GET", "/a/x{y}", h_echo, NULL}},
	    {{"GET", "/a", NULL, NULL}},	 {{"GET", "/{a-b}", h_echo, NULL}},
	};
	char dir[] = "/tmp/actlog-http-bad.XXXXXX", junk[128], lis[64];
	struct http_opts o = main_opts();
	struct http_server *s = NULL, *s2 = NULL;
	int fds, fd;

	for (size_t i = 0; i < ARRAY_SIZE(bad_routes); i++) {
		o.routes = bad_routes[i];
		o.n_routes = 1;
		CHECK_EQ(http_start(&o, &s), -EINVAL);
		CHECK(s == NULL);
	}
	o = main_opts();
	o.listen = "localhost:80";
	CHECK_EQ(http_start(&o, &s), -EINVAL);
	o = main_opts();
	o.conn_memory = 100;
	CHECK_EQ(http_start(&o, &s), -EINVAL);
	o = main_opts();
	o.threads = HTTP_MAX_THREADS + 1;
	CHECK_EQ(http_start(&o, &s), -EINVAL);
	o = main_opts();
	o.tls_cert = "/nonexistent/cert.pem";
	CHECK_EQ(http_start(&o, &s), -EINVAL); /* key missing */
	o.tls_key = "/nonexistent/key.pem";
	CHECK_EQ(http_start(&o, &s), -ENOENT);

	/* the port is taken */
	s = start_main();
	if (s) {
		o = main_opts();
		snprintf(lis, sizeof(lis), "127.0.0.1:%u", http_port(s));
		o.listen = lis;
		CHECK_EQ(http_start(&o, &s2), -EADDRINUSE);
		http_stop(s);
	}

	/* MHD refuses a certificate: -EIO, and no descriptor leaks */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
	fd = open(junk, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write_all(fd, "not a pem\n", 10) == 0);
	close(fd);
	o = main_opts();
	o.tls_cert = junk;
	o.tls_key = junk;
	fds = count_fds();
	CHECK_EQ(http_start(&o, &s), -EIO);
	CHECK_EQ(count_fds(), fds);
	unlink(junk);
	rmdir(dir);
}

TEST(listen_parse_and_ipv6)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *bad[] = {"127.0.0.1",   "127.0.0.1:", ":80",	"1.2.3.4:65536",
			     "[::1]80",	    "::1:80",	  "[::1]:",	"1.2.3.4:+80",
			     "[1.2.3.4]:1", "1.2.3:80",	  "1.2.3.4:8a", "[::1:80"};

	CHECK_EQ(http_parse_listen("10.1.2.3:8443", &ss, &len), 0);
	CHECK_EQ(ss.ss_family, AF_INET);
	CHECK_EQ(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8443);
	CHECK_EQ(len, sizeof(struct sockaddr_in));
	CHECK_EQ(http_parse_listen("[::]:0", &ss, &len), 0);
	CHECK_EQ(ss.ss_family, AF_INET6);
	CHECK_EQ(len, sizeof(struct sockaddr_in6));
	CHECK_EQ(http_parse_listen("[fe80::1]:65535", &ss, &len), 0);
	CHECK_EQ(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 65535);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (http_parse_listen(bad[i], &ss, &len) != -EINVAL) {
			printf("  accepted \"%s\"\n", bad[i]);
			CHECK(0);
		}

	/* a real IPv6 server, when the host has ::1 */
	{
		struct http_opts o = main_opts();
		struct http_server *s = NULL;
		char url[128], v[64];
		struct resp r;
		CURL *c;
		int err;

		o.listen = "[::1]:0";
		err = http_start(&o, &s);
		if (err == -EADDRNOTAVAIL || err == -EAFNOSUPPORT) {
			printf("  note: no IPv6 loopback, IPv6 server not tried\n");
			return;
		}
		CHECK_EQ(err, 0);
		if (!s)
			return;
		CHECK(http_port(s) != 0);
		snprintf(url, sizeof(url), "http://[::1]:%u/api/v1/echo", http_port(s));
		c = curl_easy_init();
		do_req(c, "GET", url, NULL, 0, NULL, &r);
		CHECK_EQ(r.status, 200);
		CHECK_STR(json_str(&r, "client", v, sizeof(v)), "::1");
		resp_free(&r);
		curl_easy_cleanup(c);
		http_stop(s);
	}
}

TEST(addr_list_and_xff)
{
	struct sockaddr_storage a[HTTP_MAX_TRUSTED_PROXIES];
	char out[INET6_ADDRSTRLEN], many[1024] = "";
	size_t n = 0;

	CHECK_EQ(http_parse_addr_list("10.0.0.1, ::1 ,192.0.2.9", a, 4, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(a[0].ss_family, AF_INET);
	CHECK_EQ(a[1].ss_family, AF_INET6);
	CHECK_EQ(http_parse_addr_list("2001:db8::2", a, 4, &n), 0); /* appends */
	CHECK_EQ(n, 4);
	CHECK_EQ(http_parse_addr_list("10.0.0.2", a, 4, &n), -E2BIG);
	n = 0;
	CHECK_EQ(http_parse_addr_list("", a, 4, &n), -EINVAL);
	CHECK_EQ(http_parse_addr_list("10.0.0.1,", a, 4, &n), -EINVAL);
	CHECK_EQ(http_parse_addr_list("10.0.0.1:80", a, 4, &n), -EINVAL);
	CHECK_EQ(http_parse_addr_list("proxy.example", a, 4, &n), -EINVAL);
	CHECK_EQ(http_parse_addr_list(NULL, a, 4, &n), -EINVAL);
	for (int i = 0; i <= HTTP_MAX_TRUSTED_PROXIES; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.0.0.%d",
			 i ? "," : "", i);
	n = 0;
	CHECK_EQ(http_parse_addr_list(many, a, HTTP_MAX_TRUSTED_PROXIES, &n), -E2BIG);

	CHECK_EQ(http_xff_client("192.0.2.1", out, sizeof(out)), 0);
	CHECK_STR(out, "192.0.2.1");
	CHECK_EQ(http_xff_client("10.9.9.9,  192.0.2.7 ", out, sizeof(out)), 0);
	CHECK_STR(out, "192.0.2.7");
	CHECK_EQ(http_xff_client("2001:DB8:0:0::1", out, sizeof(out)), 0);
	CHECK_STR(out, "2001:db8::1");
	CHECK_EQ(http_xff_client("x, [2001:db8::5]", out, sizeof(out)), 0);
	CHECK_STR(out, "2001:db8::5");
	CHECK_EQ(http_xff_client("[192.0.2.1]", out, sizeof(out)), -EINVAL);
	CHECK_EQ(http_xff_client("192.0.2.1, unknown", out, sizeof(out)), -EINVAL);
	CHECK_EQ(http_xff_client("192.0.2.1:4711", out, sizeof(out)), -EINVAL);
	CHECK_EQ(http_xff_client("192.0.2.1,", out, sizeof(out)), -EINVAL);
	CHECK_EQ(http_xff_client("", out, sizeof(out)), -EINVAL);
	CHECK_EQ(http_xff_client(NULL, out, sizeof(out)), -EINVAL);
}

/* The client of a request: X-Forwarded-For only from a trusted proxy. */
static void xff_case(const char *trusted, const char *const *hdr, const char *want)
{
	const char *proxies[] = {trusted};
	struct http_opts o = main_opts();
	struct http_server *s = NULL;
	char v[64];
	struct resp r;

	o.trusted_proxies = proxies;
	o.n_trusted_proxies = 1;
	CHECK_EQ(http_start(&o, &s), 0);
	if (!s)
		return;
	req1(s, "GET", "/api/v1/echo", NULL, 0, hdr, &r);
	CHECK_EQ(r.status, 200);
	CHECK_STR(json_str(&r, "client", v, sizeof(v)), want);
	resp_free(&r);
	http_stop(s);
}

TEST(trusted_proxy_client)
{
	const char *one[] = {"X-Forwarded-For: 203.0.113.5, 192.0.2.7", NULL};
	const char *two[] = {"X-Forwarded-For: 198.51.100.1", "X-Forwarded-For: 192.0.2.8", NULL};
	const char *junk[] = {"X-Forwarded-For: 192.0.2.9, unknown", NULL};
	const char *none[] = {NULL};
	const char *bad_proxies[] = {"127.0.0.1, nope"};
	struct http_opts o = main_opts();
	struct http_server *s = NULL;

	xff_case("10.0.0.1, 127.0.0.1", one, "192.0.2.7");
	xff_case("127.0.0.1", two, "192.0.2.8"); /* the last header's last entry */
	xff_case("127.0.0.1", junk, "127.0.0.1");
	xff_case("127.0.0.1", none, "127.0.0.1");
	xff_case("127.0.0.9", one, "127.0.0.1"); /* not from the proxy: ignored */
	o.trusted_proxies = bad_proxies;
	o.n_trusted_proxies = 1;
	CHECK_EQ(http_start(&o, &s), -EINVAL);
	CHECK(s == NULL);
}

/* ------------------------------------------------------------------ */
/* access log                                                          */

TEST(access_log_line)
{
	const char *auth[] = {"Authorization: Bearer SECRETTOKEN123", NULL};
	char tmpl[] = "/tmp/actlog-http-log.XXXXXX", *text = NULL;
	struct http_server *s;
	struct resp r;
	size_t len = 0;
	int fd, saved;

	fd = mkstemp(tmpl);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	log_init("test_srv_http", LOG_LVL_INFO);
	s = start_main();
	if (s) {
		req1(s, "GET", "/api/v1/echo?name=SECRETQUERY", NULL, 0, auth, &r);
		CHECK_EQ(r.status, 200);
		resp_free(&r);
		req1(s, "POST", "/api/v1/body", "SECRETBODY", 10, NULL, &r);
		resp_free(&r);
		req1(s, "GET", "/nope", NULL, 0, NULL, &r);
		resp_free(&r);
		{
			size_t n = 2 * TEST_CONN_MEMORY;
			char *big = malloc(n + 8);
			const char *hdr[] = {big, NULL};

			memcpy(big, "X-Big: ", 7);
			memset(big + 7, 'b', n);
			big[7 + n] = '\0';
			req1(s, "GET", "/refused", NULL, 0, hdr, &r);
			CHECK_EQ(r.status, 431);
			resp_free(&r);
			free(big);
		}
		http_stop(s); /* every request has completed and been logged */
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log_init("test_srv_http", LOG_LVL_WARN);
	CHECK_EQ(read_file(tmpl, 1 << 20, &text, &len), 0);
	if (text) {
		CHECK(strstr(text, "access method=GET path=/api/v1/echo status=200 bytes=") !=
		      NULL);
		CHECK(strstr(text, "access method=POST path=/api/v1/body status=200") != NULL);
		CHECK(strstr(text, "access method=GET path=/nope status=404 bytes=") != NULL);
		CHECK(strstr(text, "client=127.0.0.1") != NULL);
		/* refused by MHD itself: still one line, marked */
		CHECK(strstr(text, "access method=- path=/refused status=0 bytes=0 ms=") != NULL);
		CHECK(strstr(text, "term=error") != NULL);
		CHECK(strstr(text, "bbbb") == NULL);
		CHECK(strstr(text, " ms=") != NULL);
		CHECK(strstr(text, "SECRET") == NULL);
		CHECK(strstr(text, "Bearer") == NULL);
		CHECK(strstr(text, "?name") == NULL);
	}
	free(text);
	close(fd);
	unlink(tmpl);
}

/* ------------------------------------------------------------------ */
/* rate limiter                                                        */

TEST(ratelimit_bucket)
{
	struct ratelimit *rl = NULL;
	uint64_t t = 1000000;

	CHECK_EQ(ratelimit_new(64, 3, 1000, &rl), 0);
	if (!rl)
		return;
	/* empties after burst */
	CHECK_EQ(ratelimit_take(rl, "tok-a", t), 0);
	CHECK_EQ(ratelimit_take(rl, "tok-a", t), 0);
	CHECK_EQ(ratelimit_take(rl, "tok-a", t), 0);
	CHECK_EQ(ratelimit_take(rl, "tok-a", t), -EAGAIN);
	/* distinct keys are independent */
	CHECK_EQ(ratelimit_take(rl, "tok-b", t), 0);
	CHECK_EQ(ratelimit_take(rl, "tok-a", t), -EAGAIN);
	/* refills with time: one token per 1000 ms */
	CHECK_EQ(ratelimit_take(rl, "tok-a", t + 999), -EAGAIN);
	CHECK_EQ(ratelimit_take(rl, "tok-a", t + 1000), 0);
	CHECK_EQ(ratelimit_take(rl, "tok-a", t + 1000), -EAGAIN);
	/* a long pause refills up to burst, not beyond */
	t += 1000000;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(ratelimit_take(rl, "tok-a", t), 0);
	CHECK_EQ(ratelimit_take(rl, "tok-a", t), -EAGAIN);
	/* a clock that goes backwards does not mint tokens */
	CHECK_EQ(ratelimit_take(rl, "tok-a", t - 5000), -EAGAIN);
	CHECK_EQ(ratelimit_retry_after_s(rl), 1);
	ratelimit_free(rl);

	CHECK_EQ(ratelimit_new(8, 1, 1500, &rl), 0);
	CHECK_EQ(ratelimit_retry_after_s(rl), 2);
	ratelimit_free(rl);
	CHECK_EQ(ratelimit_new(0, 1, 1, &rl), -EINVAL);
	CHECK_EQ(ratelimit_new(8, 0, 1, &rl), -EINVAL);
	CHECK_EQ(ratelimit_new(8, 1, 0, &rl), -EINVAL);
	CHECK_EQ(ratelimit_new((1u << 24) + 1, 1, 1, &rl), -EINVAL);
	ratelimit_free(NULL);
}

TEST(ratelimit_bounded)
{
	struct ratelimit *rl = NULL;
	char key[32];
	int denied = 0;

	CHECK_EQ(ratelimit_new(60, 1, 60000, &rl), 0); /* rounded up to 64 slots */
	if (!rl)
		return;
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
		denied += ratelimit_take(rl, key, 5000) != 0;
		CHECK(ratelimit_count(rl) <= 64);
	}
	CHECK_EQ(ratelimit_count(rl), 64);
	CHECK_EQ(denied, 0); /* each new key starts with a full bucket */
	/* a key still in the table remembers its empty bucket */
	CHECK_EQ(ratelimit_take(rl, "10.0.78.31", 5000), -EAGAIN); /* the last one */
	ratelimit_free(rl);
}

struct rl_arg {
	struct ratelimit *rl;
	atomic_int *ok;
};

static void *rl_thread(void *p)
{
	struct rl_arg *a = p;

	for (int i = 0; i < 1000; i++)
		if (ratelimit_take(a->rl, "shared", 42) == 0)
			atomic_fetch_add(a->ok, 1);
	return NULL;
}

TEST(ratelimit_threads)
{
	struct ratelimit *rl = NULL;
	atomic_int ok = 0;
	pthread_t th[4];
	struct rl_arg a;

	CHECK_EQ(ratelimit_new(1024, 1500, 86400000, &rl), 0);
	if (!rl)
		return;
	a = (struct rl_arg){rl, &ok};
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, rl_thread, &a);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(atomic_load(&ok), 1500); /* exactly the burst, out of 4000 tries */
	ratelimit_free(rl);
}

TEST(etag_match)
{
	const char *e = "\"abc\"";

	CHECK_EQ(http_etag_match("\"abc\"", e), 1);
	CHECK_EQ(http_etag_match("W/\"abc\"", e), 1);
	CHECK_EQ(http_etag_match("\"x\", \"abc\"", e), 1);
	CHECK_EQ(http_etag_match("\"x\",W/\"abc\"", e), 1);
	CHECK_EQ(http_etag_match("\"x\",\t\"abc\"", e), 1);
	CHECK_EQ(http_etag_match("*", e), 1);
	CHECK_EQ(http_etag_match("\"abcd\"", e), 0);
	CHECK_EQ(http_etag_match("\"ab\"", e), 0);
	CHECK_EQ(http_etag_match("abc", e), 0);
	CHECK_EQ(http_etag_match("", e), 0);
	CHECK_EQ(http_etag_match(NULL, e), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("test_srv_http", LOG_LVL_WARN);
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	RUN(route_path_param_json);
	RUN(query_and_header);
	RUN(not_found_and_method_not_allowed);
	RUN(replies_headers_and_errors);
	RUN(streamed_reply);
	RUN(body_cap_content_length);
	RUN(body_cap_chunked);
	RUN(body_far_over_cap);
	RUN(body_gate);
	RUN(gzip_body_inflates);
	RUN(gzip_truncated_and_corrupt);
	RUN(gzip_bomb_over_http);
	RUN(keepalive_one_connection);
	RUN(concurrency);
	RUN(huge_header_refused);
	RUN(request_target_caps);
	RUN(connection_limit_and_idle_timeout);
	RUN(per_address_cap);
	RUN(header_timeout);
	RUN(tls_round_trip);
	RUN(stop_completes_inflight);
	RUN(suspend_frees_the_thread);
	RUN(stop_waits_for_suspended);
	RUN(start_errors);
	RUN(listen_parse_and_ipv6);
	RUN(addr_list_and_xff);
	RUN(trusted_proxy_client);
	RUN(access_log_line);
	RUN(ratelimit_bucket);
	RUN(ratelimit_bounded);
	RUN(ratelimit_threads);
	RUN(etag_match);
	curl_global_cleanup();
	return CHECK_DONE();
}
