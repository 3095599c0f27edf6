// SPDX-License-Identifier: BSD-2-Clause
/*
 * s3.c - the S3 client of s3.h on libcurl. One curl easy handle per client
 * (connections are reused); each attempt is signed afresh (new x-amz-date).
 * Bodies come from a buffer or from a file by pread, so that a retry can
 * resend them; answers that are parsed (errors, list pages, multipart
 * initiate/complete) are read into memory under a cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "s3.h"
#include "sigv4.h"
#include "util.h"

struct s3_client {
	char *endpoint, *region, *bucket, *access_key, *secret_key, *session_token;
	int path_style;
	unsigned connect_timeout_ms, timeout_ms, max_attempts, backoff_base_ms, backoff_max_ms;
	uint64_t threshold, part_size;
	void (*trace)(void *ctx, const char *msg);
	void *trace_ctx;
	CURL *curl;
	struct s3_error err;
	char curl_err[CURL_ERROR_SIZE];
};

/* --- small helpers --- */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void trace(struct s3_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct s3_client *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!c->trace)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->trace(c->trace_ctx, buf);
}

static int set_err(struct s3_client *c, int err, long status, const char *code, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));
static int set_err(struct s3_client *c, int err, long status, const char *code, const char *fmt,
		   ...)
{
	va_list ap;

	c->err.err = err;
	c->err.http_status = status;
	snprintf(c->err.code, sizeof(c->err.code), "%s", code ? code : "");
	va_start(ap, fmt);
	vsnprintf(c->err.message, sizeof(c->err.message), fmt, ap);
	va_end(ap);
	return err;
}

const char *s3_strerror(const struct s3_error *e, char *buf, size_t n)
{
	if (!e->err)
		snprintf(buf, n, "no error");
	else if (e->http_status)
		snprintf(buf, n, "S3 %ld %s: %s", e->http_status,
			 e->code[0] ? e->code : "(no code)",
			 e->message[0] ? e->message : "(no message)");
	else
		snprintf(buf, n, "%s%s%s", e->code, e->code[0] ? ": " : "", e->message);
	return buf;
}

const struct s3_error *s3_last_error(const struct s3_client *c)
{
	return &c->err;
}

/* growable buffer with a hard cap */
struct membuf {
	char *p;
	size_t len, cap, max;
	int over;
};

static int membuf_add(struct membuf *b, const void *d, size_t n)
{
	if (n > b->max - b->len) {
		b->over = 1;
		return -E2BIG;
	}
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		char *np;

		while (nc < b->len + n + 1)
			nc *= 2;
		np = realloc(b->p, nc);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* --- pure helpers --- */

int s3_build_url(const char *endpoint, const char *bucket, int path_style, const char *key,
		 char **url, char **host, char **path)
{
	const char *sep, *auth, *slash;
	char *ekey = NULL, *base = NULL;
	size_t scheme_len, auth_len;
	int n1, n2, n3;

	*url = *host = *path = NULL;
	if (!endpoint || !bucket || !*bucket)
		return -EINVAL;
	sep = strstr(endpoint, "://");
	if (!sep || (strncmp(endpoint, "http", 4) != 0) ||
	    (sep - endpoint != 4 && sep - endpoint != 5) ||
	    (sep - endpoint == 5 && endpoint[4] != 's'))
		return -EINVAL;
	scheme_len = (size_t)(sep - endpoint);
	auth = sep + 3;
	slash = strchr(auth, '/');
	auth_len = slash ? (size_t)(slash - auth) : strlen(auth);
	if (!auth_len || memchr(auth, '?', auth_len) || memchr(auth, '@', auth_len) ||
	    strpbrk(endpoint, " \t\r\n?#"))
		return -EINVAL;
	if (!path_style && (strchr(bucket, '.') || strchr(bucket, '/')))
		return -EINVAL; /* not a valid host label */
	if (strchr(bucket, '/') || strpbrk(bucket, " \t\r\n?#%"))
		return -EINVAL;
	if (key && strlen(key) > S3_MAX_KEY)
		return -EINVAL;
	/* the base path without trailing slashes */
	if (slash) {
		size_t bl = strlen(slash);

		while (bl && slash[bl - 1] == '/')
			bl--;
		base = strndup(slash, bl);
	} else {
		base = strdup("");
	}
	ekey = sigv4_uri_encode(key ? key : "", key ? strlen(key) : 0, 1);
	if (!base || !ekey)
		goto nomem;
	if (path_style) {
		n1 = asprintf(path, "%s/%s%s%s", base, bucket, (key && *key) ? "/" : "", ekey);
		n2 = asprintf(host, "%.*s", (int)auth_len, auth);
	} else {
		n1 = asprintf(path, "%s/%s", base, ekey);
		n2 = asprintf(host, "%s.%.*s", bucket, (int)auth_len, auth);
	}
	if (n1 < 0)
		*path = NULL;
	if (n2 < 0)
		*host = NULL;
	if (!*path || !*host)
		goto nomem;
	n3 = asprintf(url, "%.*s://%s%s", (int)scheme_len, endpoint, *host, *path);
	if (n3 < 0) {
		*url = NULL;
		goto nomem;
	}
	free(base);
	free(ekey);
	return 0;
nomem:
	free(base);
	free(ekey);
	free(*path);
	free(*host);
	*path = *host = NULL;
	return -ENOMEM;
}

char *s3_complete_xml(const char *const *etags, size_t n)
{
	struct membuf b = {.max = (size_t)S3_MAX_PARTS * 256 + 4096};
	char line[256];
	size_t i;

	if (!n || n > S3_MAX_PARTS)
		return NULL;
	if (membuf_add(&b, "<CompleteMultipartUpload>", 25))
		goto fail;
	for (i = 0; i < n; i++) {
		int l;

		if (!etags[i] || strpbrk(etags[i], "<>&") || strlen(etags[i]) > 128)
			goto fail;
		l = snprintf(line, sizeof(line),
			     "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1,
			     etags[i]);
		if (membuf_add(&b, line, (size_t)l))
			goto fail;
	}
	if (membuf_add(&b, "</CompleteMultipartUpload>", 26))
		goto fail;
	return b.p;
fail:
	free(b.p);
	return NULL;
}

uint64_t s3_part_size(uint64_t size, uint64_t want)
{
	uint64_t p = want < S3_MIN_PART ? S3_MIN_PART : want;

	if (p > S3_MAX_PART)
		p = S3_MAX_PART;
	while (size / p + (size % p != 0) > S3_MAX_PARTS) {
		if (p >= S3_MAX_PART)
			return 0;
		p *= 2;
		if (p > S3_MAX_PART)
			p = S3_MAX_PART;
	}
	return p;
}

unsigned s3_backoff_cap(unsigned n, unsigned base_ms, unsigned max_ms)
{
	uint64_t v = base_ms;

	while (n-- && v < max_ms)
		v *= 2;
	return v > max_ms ? max_ms : (unsigned)v;
}

int s3_retry_after_ms(const char *v, long long now, unsigned *ms)
{
	static const char *const fmts[] = {
	    "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
	    "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
	    "%a %b %e %H:%M:%S %Y",	 /* asctime */
	};
	char buf[64];
	size_t i, n;
	uint64_t sec;

	*ms = 0;
	if (!v)
		return -EINVAL;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (buf[0] >= '0' && buf[0] <= '9') {
		if (strspn(buf, "0123456789") != n)
			return -EINVAL;
		/* a huge number is just a long wait: saturate instead of failing */
		sec = n > 9 ? 999999999 : strtoull(buf, NULL, 10);
	} else {
		long long t = -1;

		for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]) && t < 0; i++) {
			struct tm tm = {0};
			const char *end = strptime(buf, fmts[i], &tm);

			if (end && !*end)
				t = (long long)timegm(&tm);
		}
		if (t < 0)
			return -EINVAL;
		sec = t > now ? (uint64_t)(t - now) : 0;
	}
	*ms = sec >= S3_MAX_RETRY_AFTER_MS / 1000 ? S3_MAX_RETRY_AFTER_MS : (unsigned)sec * 1000;
	return 0;
}

int s3_classify(long status, const char *code, int *retry, int *throttle)
{
	static const char *const throttle_codes[] = {"SlowDown", "Throttling",
						     "ThrottlingException", "RequestLimitExceeded",
						     "TooManyRequests"};
	size_t i;

	*retry = *throttle = 0;
	code = code ? code : "";
	for (i = 0; i < sizeof(throttle_codes) / sizeof(throttle_codes[0]); i++)
		if (!strcmp(code, throttle_codes[i]))
			*throttle = *retry = 1;
	if (status == 429 || status == 503)
		*throttle = *retry = 1;
	if (status >= 500 || !strcmp(code, "RequestTimeout") || !strcmp(code, "InternalError"))
		*retry = 1;
	if (*retry)
		return *throttle ? -EAGAIN : -EIO;
	if (status == 404 || !strcmp(code, "NoSuchKey") || !strcmp(code, "NoSuchBucket") ||
	    !strcmp(code, "NoSuchUpload"))
		return -ENOENT;
	if (status == 403)
		return -EACCES;
	return -EIO;
}

/* --- client --- */

int s3_client_new(const struct s3_config *cfg, struct s3_client **out)
{
	struct s3_client *c;
	char *u = NULL, *h = NULL, *p = NULL;
	int err;

	*out = NULL;
	if (!cfg || !cfg->bucket || !*cfg->bucket || !cfg->access_key || !*cfg->access_key ||
	    !cfg->secret_key || !*cfg->secret_key || cfg->max_attempts > S3_MAX_ATTEMPTS ||
	    (cfg->part_size && (cfg->part_size < S3_MIN_PART || cfg->part_size > S3_MAX_PART)))
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->region = strdup(cfg->region && *cfg->region ? cfg->region : "us-east-1");
	if (cfg->endpoint && *cfg->endpoint)
		c->endpoint = strdup(cfg->endpoint);
	else if (c->region && asprintf(&c->endpoint, "https://s3.%s.amazonaws.com", c->region) < 0)
		c->endpoint = NULL;
	c->bucket = xstrdup(cfg->bucket);
	c->access_key = xstrdup(cfg->access_key);
	c->secret_key = xstrdup(cfg->secret_key);
	c->session_token =
	    xstrdup(cfg->session_token && *cfg->session_token ? cfg->session_token : NULL);
	c->path_style = cfg->path_style;
	c->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 10000;
	c->timeout_ms = cfg->timeout_ms;
	c->max_attempts = cfg->max_attempts ? cfg->max_attempts : S3_DEFAULT_ATTEMPTS;
	c->backoff_base_ms = cfg->backoff_base_ms ? cfg->backoff_base_ms : 100;
	c->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 20000;
	c->threshold = cfg->multipart_threshold ? cfg->multipart_threshold : S3_DEFAULT_THRESHOLD;
	c->part_size = cfg->part_size ? cfg->part_size : S3_DEFAULT_PART;
	c->trace = cfg->trace;
	c->trace_ctx = cfg->trace_ctx;
	err = -ENOMEM;
	if (!c->region || !c->endpoint || !c->bucket || !c->access_key || !c->secret_key ||
	    (cfg->session_token && *cfg->session_token && !c->session_token))
		goto fail;
	/* validates endpoint and bucket */
	err = s3_build_url(c->endpoint, c->bucket, c->path_style, NULL, &u, &h, &p);
	free(u);
	free(h);
	free(p);
	if (err)
		goto fail;
	err = -ENOMEM;
	c->curl = curl_easy_init();
	if (!c->curl)
		goto fail;
	*out = c;
	return 0;
fail:
	s3_client_free(c);
	return err;
}

void s3_client_free(struct s3_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->endpoint);
	free(c->region);
	free(c->bucket);
	free(c->access_key);
	if (c->secret_key)
		explicit_bzero(c->secret_key, strlen(c->secret_key));
	free(c->secret_key);
	free(c->session_token);
	free(c);
}

/* --- one request, with retries --- */

struct body {
	const char *buf; /* either buf ... */
	int fd;		 /* ... or fd (>= 0) read with pread from off */
	uint64_t off, len, pos;
};

struct resp_head {
	char etag[80];
	char content_type[128];
	char last_modified[64];
	char retry_after[64];
	char checksum_sha256[80];
	uint64_t content_length;
	int have_length;
};

struct req {
	const char *method;
	const char *key;   /* NULL: the bucket */
	const char *query; /* raw, already encoded, or NULL */
	const char *content_type;
	struct body *body; /* NULL: none */
	/* 2xx answer: to sink (streamed) or into mem (capped at mem_max) */
	s3_write_fn sink;
	void *sink_ctx;
	struct membuf *mem;
	uint64_t max_len; /* with sink: a 2xx body over it is -E2BIG (0: no cap) */
	int head_only;
	int checksum_mode; /* x-amz-checksum-mode: ENABLED */
	struct resp_head rh;
	/* per attempt */
	long status;
	int delivered; /* bytes reached sink */
	int sink_err;  /* sink's error */
	struct membuf errbody;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t want = size * nmemb;
	uint64_t left = b->len - b->pos;

	if (want > left)
		want = (size_t)left;
	if (!want)
		return 0;
	if (b->buf) {
		memcpy(dst, b->buf + b->pos, want);
	} else {
		ssize_t r;

		do
			r = pread(b->fd, dst, want, (off_t)(b->off + b->pos));
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)r;
	}
	b->pos += want;
	return want;
}

static int seek_cb(void *ud, curl_off_t offset, int origin)
{
	struct body *b = ud;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > b->len)
		return CURL_SEEKFUNC_CANTSEEK;
	b->pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *d, size_t size, size_t nmemb, void *ud)
{
	struct req *r = ud;
	size_t n = size * nmemb;

	if (r->status < 200 || r->status > 299)
		return membuf_add(&r->errbody, d, n) ? 0 : n;
	if (r->sink) {
		int e = 0;

		if (r->max_len && r->rh.have_length && r->rh.content_length > r->max_len)
			e = -E2BIG; /* refused before its first byte */
		if (!e)
			e = r->sink(r->sink_ctx, d, n);

		if (e) {
			r->sink_err = e < 0 ? e : -EIO;
			return 0;
		}
		r->delivered = 1;
		return n;
	}
	if (r->mem)
		return membuf_add(r->mem, d, n) ? 0 : n;
	return n;
}

static void copy_hval(char *dst, size_t n, const char *v, size_t vl)
{
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (vl >= n)
		vl = n - 1;
	memcpy(dst, v, vl);
	dst[vl] = '\0';
}

static size_t header_cb(char *d, size_t size, size_t nmemb, void *ud)
{
	struct req *r = ud;
	size_t n = size * nmemb;
	const char *colon = memchr(d, ':', n);
	char num[32];

	if (n > 5 && !memcmp(d, "HTTP/", 5)) {
		const char *sp = memchr(d, ' ', n);

		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		memset(&r->rh, 0, sizeof(r->rh));
		return n;
	}
	if (!colon)
		return n;
#define HDR(name)                                                                                  \
	((size_t)(colon - d) == sizeof(name) - 1 && !strncasecmp(d, name, sizeof(name) - 1))
	if (HDR("etag"))
		copy_hval(r->rh.etag, sizeof(r->rh.etag), colon + 1, n - (size_t)(colon + 1 - d));
	else if (HDR("content-type"))
		copy_hval(r->rh.content_type, sizeof(r->rh.content_type), colon + 1,
			  n - (size_t)(colon + 1 - d));
	else if (HDR("last-modified"))
		copy_hval(r->rh.last_modified, sizeof(r->rh.last_modified), colon + 1,
			  n - (size_t)(colon + 1 - d));
	else if (HDR("retry-after"))
		copy_hval(r->rh.retry_after, sizeof(r->rh.retry_after), colon + 1,
			  n - (size_t)(colon + 1 - d));
	else if (HDR("x-amz-checksum-sha256"))
		copy_hval(r->rh.checksum_sha256, sizeof(r->rh.checksum_sha256), colon + 1,
			  n - (size_t)(colon + 1 - d));
	else if (HDR("content-length")) {
		copy_hval(num, sizeof(num), colon + 1, n - (size_t)(colon + 1 - d));
		r->rh.have_length = !parse_uint(num, 0, UINT64_MAX, &r->rh.content_length);
	}
#undef HDR
	return n;
}

static void amz_now(char date[17])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int body_sha256(const struct body *b, char hex[SIGV4_HEX_LEN + 1])
{
	unsigned char md[32], *buf;
	uint64_t done = 0;
	EVP_MD_CTX *ctx;
	unsigned mdlen = 0;
	int err = -EIO, i;

	if (!b)
		return sigv4_sha256_hex("", 0, hex);
	if (b->buf)
		return sigv4_sha256_hex(b->buf, (size_t)b->len, hex);
	buf = malloc(1 << 16);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx) {
		err = -ENOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while (done < b->len) {
		size_t want = b->len - done < (1 << 16) ? (size_t)(b->len - done) : (1 << 16);
		ssize_t r = pread(b->fd, buf, want, (off_t)(b->off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1)
			goto out;
		done += (uint64_t)r;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	err = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return err;
}

static unsigned rand_below(unsigned n)
{
	uint32_t v = 0;

	if (!n)
		return 0;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint32_t)rand();
	return (unsigned)((uint64_t)v * ((uint64_t)n + 1) >> 32);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The part of a signing input that is the same for every request of c and
 * for a presigned URL: the keys, region and S3's rules; the caller adds the
 * query, headers, payload hash and (presigning) the expiry. */
static struct sigv4_input sign_input(const struct s3_client *c, const char *method,
				     const char *path, const char *date)
{
	return (struct sigv4_input){
	    .method = method,
	    .path = path,
	    .access_key = c->access_key,
	    .secret_key = c->secret_key,
	    .session_token = c->session_token,
	    .region = c->region,
	    .service = "s3",
	    .amz_date = date,
	    .flags = SIGV4_S3,
	};
}

/* One attempt: sign, send, receive. Returns the CURLcode. */
static CURLcode attempt(struct s3_client *c, struct req *r, const char *url, const char *host,
			const char *path, const char *payload_hash, int *local_err)
{
	struct sigv4_header sh[8];
	struct sigv4_input in;
	struct sigv4_output out = {0};
	struct curl_slist *hl = NULL, *t;
	char date[17], line[SIGV4_MAX_TOKEN + 64];
	char *full = NULL;
	CURL *h = c->curl;
	CURLcode cc = CURLE_FAILED_INIT;
	size_t n = 0;
	int e;

	*local_err = 0;
	amz_now(date);
	sh[n++] = (struct sigv4_header){"host", host};
	if (r->content_type)
		sh[n++] = (struct sigv4_header){"content-type", r->content_type};
	if (r->checksum_mode)
		sh[n++] = (struct sigv4_header){"x-amz-checksum-mode", "ENABLED"};
	sh[n++] = (struct sigv4_header){"x-amz-content-sha256", payload_hash};
	sh[n++] = (struct sigv4_header){"x-amz-date", date};
	if (c->session_token)
		sh[n++] = (struct sigv4_header){"x-amz-security-token", c->session_token};
	in = sign_input(c, r->method, path, date);
	in.query = r->query;
	in.headers = sh;
	in.n_headers = n;
	in.payload_hash = payload_hash;
	e = sigv4_sign(&in, &out);
	if (e) {
		*local_err = e;
		return CURLE_FAILED_INIT;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%s: %s", sh[i].name, sh[i].value);
		if (!(t = curl_slist_append(hl, line)))
			goto nomem;
		hl = t;
	}
	snprintf(line, sizeof(line), "Authorization: %s", out.authorization);
	if (!(t = curl_slist_append(hl, line)))
		goto nomem;
	hl = t;
	if (!(t = curl_slist_append(hl, "Expect:")))
		goto nomem;
	hl = t;
	if (r->query && *r->query) {
		if (asprintf(&full, "%s?%s", url, r->query) < 0) {
			full = NULL;
			goto nomem;
		}
	}

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, full ? full : url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	if (c->timeout_ms)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	/* a stalled transfer: under 1 byte/s for 60 s */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (r->body) {
		r->body->pos = 0;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, r->body);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, r->body);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body->len);
		if (strcmp(r->method, "PUT"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (r->head_only) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	c->curl_err[0] = '\0';
	r->status = 0;
	r->errbody.len = 0;
	r->errbody.over = 0;
	if (r->mem) {
		r->mem->len = 0;
		r->mem->over = 0;
	}
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK || !r->status)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	goto out;
nomem:
	*local_err = -ENOMEM;
out:
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	free(full);
	sigv4_output_free(&out);
	return cc;
}

/* Run r with retries. 0 on a 2xx, else -errno with c->err filled. */
static int run(struct s3_client *c, struct req *r)
{
	char *url = NULL, *host = NULL, *path = NULL, hash[SIGV4_HEX_LEN + 1];
	unsigned n;
	int err, retry = 0, throttle = 0;

	memset(&c->err, 0, sizeof(c->err));
	r->errbody.max = S3_MAX_ERROR_BODY;
	err = s3_build_url(c->endpoint, c->bucket, c->path_style, r->key, &url, &host, &path);
	if (err) {
		set_err(c, err, 0, "", "bad endpoint, bucket or key");
		goto out;
	}
	err = body_sha256(r->body, hash);
	if (err) {
		set_err(c, err, 0, "", "reading the body: %s", strerror(-err));
		goto out;
	}
	for (n = 1;; n++) {
		int local = 0;
		CURLcode cc;

		r->delivered = 0;
		r->sink_err = 0;
		cc = attempt(c, r, url, host, path, hash, &local);
		c->err.attempts = n;
		c->err.timed_out = cc == CURLE_OPERATION_TIMEDOUT;
		if (local) {
			err = set_err(c, local, 0, "", "signing the request: %s", strerror(-local));
			break;
		}
		if (r->sink_err) {
			err = set_err(c, r->sink_err, 0, "", "writing the object: %s",
				      strerror(-r->sink_err));
			break;
		}
		if ((r->mem && r->mem->over) || r->errbody.over) {
			err = set_err(c, -E2BIG, r->status, "", "response body over its cap");
			break;
		}
		if (cc != CURLE_OK) {
			err = set_err(c, -EIO, 0, "Transport", "%s",
				      c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
			retry = !r->delivered;
			throttle = 0;
		} else if (r->status >= 200 && r->status <= 299) {
			err = 0;
			break;
		} else {
			char code[64] = "", msg[512] = "";

			if (r->errbody.len) {
				s3xml_text(r->errbody.p, r->errbody.len, "Code", code,
					   sizeof(code));
				s3xml_text(r->errbody.p, r->errbody.len, "Message", msg,
					   sizeof(msg));
			}
			if (!code[0] && r->status == 404)
				snprintf(code, sizeof(code), "NotFound");
			else if (!code[0] && r->status == 403)
				snprintf(code, sizeof(code), "Forbidden");
			err = s3_classify(r->status, code, &retry, &throttle);
			if (retry)
				err = -EIO;
			set_err(c, err, r->status, code, "%s", msg);
		}
		if (!retry)
			break;
		if (n >= c->max_attempts) {
			if (throttle)
				c->err.err = err = -EAGAIN;
			break;
		}
		{
			unsigned cap = s3_backoff_cap(n - 1, c->backoff_base_ms, c->backoff_max_ms);
			unsigned wait = rand_below(cap), ra = 0;
			char es[640], ras[48] = "";

			/* the server's Retry-After (only on an HTTP answer) is a floor */
			if (r->status && r->rh.retry_after[0] &&
			    !s3_retry_after_ms(r->rh.retry_after, (long long)time(NULL), &ra)) {
				snprintf(ras, sizeof(ras), "; Retry-After %u ms", ra);
				if (wait < ra)
					wait = ra;
			}
			trace(c, "%s %s: %s; retry %u/%u in %u ms (cap %u ms%s)", r->method,
			      r->key ? r->key : "/", s3_strerror(&c->err, es, sizeof(es)), n,
			      c->max_attempts - 1, wait, cap, ras);
			sleep_ms(wait);
		}
	}
out:
	c->err.err = err;
	free(url);
	free(host);
	free(path);
	free(r->errbody.p);
	r->errbody.p = NULL;
	r->errbody.cap = 0;
	return err;
}

/* --- operations --- */

static int put_single(struct s3_client *c, const char *key, struct body *b, const char *ctype)
{
	struct req r = {.method = "PUT", .key = key, .body = b, .content_type = ctype};

	return run(c, &r);
}

/* an XML answer with a 200 status can still be an <Error> (CompleteMultipartUpload) */
static int xml_error(struct s3_client *c, const struct membuf *m)
{
	char code[64] = "", msg[512] = "";

	if (!m->p || !strstr(m->p, "<Error>"))
		return 0;
	s3xml_text(m->p, m->len, "Code", code, sizeof(code));
	s3xml_text(m->p, m->len, "Message", msg, sizeof(msg));
	return set_err(c, -EIO, 200, code, "%s", msg);
}

/*
 * --- multipart: one code path for a body of known size and a stream ---
 *
 * A struct s3_upload is a multipart upload in progress: initiated by its
 * first part (upload_part()), completed by upload_complete(), aborted by
 * upload_free() when it was initiated and not completed. put_multipart()
 * sends slices of its buffer or file as parts (no copy; the part size
 * grows so that the object fits in S3_MAX_PARTS); the streamed upload
 * copies the caller's bytes into its one part buffer and sends it when it
 * is full and more bytes come, so that an object ending within its first
 * part goes up as a single PUT from that buffer.
 */
struct s3_upload {
	struct s3_client *c;
	char *key, *ctype;
	char *buf;	 /* streamed: one part; NULL for put_multipart() */
	uint64_t part;	 /* part size */
	uint64_t fill;	 /* streamed: bytes in buf */
	uint64_t total;	 /* bytes taken so far */
	uint64_t nparts; /* the part count when known (put_multipart()), else 0 */
	char upload_id[1024];
	char *qid;    /* upload_id URI-encoded; NULL until initiated */
	char **etags; /* of parts 1..n */
	size_t n, cap;
	int err; /* the first failure; sticky */
	int initiated, completed;
};

/* A new upload of key in parts of part bytes, with a part buffer when
 * streamed. 0 and *out, or -EINVAL (empty key) / -ENOMEM with c->err set. */
static int upload_new(struct s3_client *c, const char *key, const char *ctype, uint64_t part,
		      int streamed, struct s3_upload **out)
{
	struct s3_upload *u;

	*out = NULL;
	if (!key || !*key)
		return set_err(c, -EINVAL, 0, "", "empty key");
	if (strlen(key) > S3_MAX_KEY)
		return set_err(c, -EINVAL, 0, "", "key over %d bytes", S3_MAX_KEY);
	u = calloc(1, sizeof(*u));
	if (!u)
		return set_err(c, -ENOMEM, 0, "", "out of memory");
	u->c = c;
	u->part = part;
	u->key = strdup(key);
	u->ctype = strdup(ctype ? ctype : "application/octet-stream");
	if (streamed && part <= SIZE_MAX)
		u->buf = malloc((size_t)part);
	if (!u->key || !u->ctype || (streamed && !u->buf)) {
		free(u->buf);
		free(u->key);
		free(u->ctype);
		free(u);
		return set_err(c, -ENOMEM, 0, "", "out of memory");
	}
	*out = u;
	return 0;
}

/* InitiateMultipartUpload: u->upload_id and u->qid. 0 or -errno (c->err). */
static int upload_init(struct s3_upload *u)
{
	struct s3_client *c = u->c;
	struct membuf m = {.max = S3_MAX_SMALL_BODY};
	struct body empty = {.buf = "", .fd = -1};
	struct req r = {.method = "POST",
			.key = u->key,
			.query = "uploads=",
			.body = &empty,
			.content_type = u->ctype,
			.mem = &m};
	int err = run(c, &r);

	if (!err && (s3xml_text(m.p, m.len, "UploadId", u->upload_id, sizeof(u->upload_id)) ||
		     !u->upload_id[0])) {
		u->upload_id[0] = '\0';
		err = set_err(c, -EIO, 200, "", "no UploadId in the answer to initiate");
	}
	free(m.p);
	if (err)
		return err;
	u->initiated = 1;
	u->qid = sigv4_uri_encode(u->upload_id, strlen(u->upload_id), 0);
	if (!u->qid)
		return set_err(c, -ENOMEM, 0, "", "out of memory");
	if (!u->nparts)
		trace(c, "multipart %s: streamed in parts of %" PRIu64, u->key, u->part);
	return 0;
}

/* UploadPart of b as part n+1 (initiating the upload first when needed).
 * 0, or -E2BIG past S3_MAX_PARTS, or -errno; c->err set. */
static int upload_part(struct s3_upload *u, struct body *b)
{
	struct s3_client *c = u->c;
	char q[1200];
	struct req r = {.method = "PUT", .key = u->key, .query = q, .body = b};
	int err;

	if (u->n >= S3_MAX_PARTS)
		return set_err(c, -E2BIG, 0, "", "more than %d parts of %" PRIu64 " bytes",
			       S3_MAX_PARTS, u->part);
	if (!u->initiated && (err = upload_init(u)))
		return err;
	if (u->n == u->cap) {
		size_t nc = u->cap ? u->cap * 2 : 16;
		char **ne;

		if (nc > S3_MAX_PARTS)
			nc = S3_MAX_PARTS;
		if (!(ne = realloc(u->etags, nc * sizeof(*ne))))
			return set_err(c, -ENOMEM, 0, "", "out of memory");
		u->etags = ne;
		u->cap = nc;
	}
	snprintf(q, sizeof(q), "partNumber=%zu&uploadId=%s", u->n + 1, u->qid);
	err = run(c, &r);
	if (err)
		return err;
	if (!r.rh.etag[0])
		return set_err(c, -EIO, r.status, "", "no ETag for part %zu", u->n + 1);
	if (!(u->etags[u->n] = strdup(r.rh.etag)))
		return set_err(c, -ENOMEM, 0, "", "out of memory");
	u->n++;
	if (u->nparts)
		trace(c, "multipart %s: part %zu/%" PRIu64 " %s", u->key, u->n, u->nparts,
		      r.rh.etag);
	else
		trace(c, "multipart %s: part %zu (%" PRIu64 " bytes) %s", u->key, u->n, b->len,
		      r.rh.etag);
	return 0;
}

/* CompleteMultipartUpload of the n parts sent. 0 or -errno (c->err). */
static int upload_complete(struct s3_upload *u)
{
	struct s3_client *c = u->c;
	struct membuf m = {.max = S3_MAX_SMALL_BODY};
	char q[1200], *xml = s3_complete_xml((const char *const *)u->etags, u->n);
	struct body b = {.buf = xml, .fd = -1, .len = xml ? strlen(xml) : 0};
	struct req r = {.method = "POST",
			.key = u->key,
			.query = q,
			.body = &b,
			.content_type = "application/xml",
			.mem = &m};
	int err;

	if (!xml)
		return set_err(c, -EIO, 0, "", "cannot build the complete request (bad ETag)");
	snprintf(q, sizeof(q), "uploadId=%s", u->qid);
	err = run(c, &r);
	if (!err)
		err = xml_error(c, &m);
	free(xml);
	free(m.p);
	if (err)
		return err;
	u->completed = 1;
	trace(c, "multipart %s: complete, %" PRIu64 " bytes in %zu parts", u->key, u->total, u->n);
	return 0;
}

/* AbortMultipartUpload when u was initiated and not completed (c->err kept:
 * it tells why), then free u. NULL ok. */
static void upload_free(struct s3_upload *u)
{
	size_t i;

	if (!u)
		return;
	if (u->initiated && !u->completed) {
		struct s3_client *c = u->c;
		struct s3_error saved = c->err;
		char q[1200];
		struct req r = {.method = "DELETE", .key = u->key, .query = q};

		snprintf(q, sizeof(q), "uploadId=%s", u->qid ? u->qid : u->upload_id);
		if (run(c, &r))
			trace(c, "multipart %s: abort failed too", u->key);
		else
			trace(c, "multipart %s: aborted", u->key);
		c->err = saved;
	}
	for (i = 0; i < u->n; i++)
		free(u->etags[i]);
	free(u->etags);
	free(u->qid);
	free(u->buf);
	free(u->key);
	free(u->ctype);
	free(u);
}

static int put_multipart(struct s3_client *c, const char *key, const struct body *src,
			 const char *ctype)
{
	struct s3_upload *u = NULL;
	uint64_t part = s3_part_size(src->len, c->part_size), i;
	int err;

	if (!part)
		return set_err(c, -EFBIG, 0, "", "object too large for %d parts", S3_MAX_PARTS);
	err = upload_new(c, key, ctype, part, 0, &u);
	if (err)
		return err;
	u->nparts = src->len / part + (src->len % part != 0);
	trace(c, "multipart %s: %" PRIu64 " bytes in %" PRIu64 " parts of %" PRIu64, key, src->len,
	      u->nparts, part);
	for (i = 0; i < u->nparts && !err; i++) {
		struct body b = *src;

		b.pos = 0;
		if (b.buf)
			b.buf += i * part;
		else
			b.off += i * part;
		b.len = src->len - i * part < part ? src->len - i * part : part;
		err = upload_part(u, &b);
		u->total += err ? 0 : b.len;
	}
	if (!err)
		err = upload_complete(u);
	upload_free(u);
	c->err.err = err;
	return err;
}

int s3_upload_begin(struct s3_client *c, const char *key, const char *content_type,
		    struct s3_upload **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!c)
		return -EINVAL;
	memset(&c->err, 0, sizeof(c->err));
	return upload_new(c, key, content_type, c->part_size, 1, out);
}

/* the full part buffer of u goes up as the next part */
static int upload_flush(struct s3_upload *u)
{
	struct body b = {.buf = u->buf, .fd = -1, .len = u->fill};
	int err = upload_part(u, &b);

	if (!err)
		u->fill = 0;
	return err;
}

int s3_upload_write(struct s3_upload *u, const void *buf, size_t len)
{
	const char *p = buf;

	if (!u)
		return -EINVAL;
	if (u->err)
		return u->err;
	if (!buf && len)
		return u->err = set_err(u->c, -EINVAL, 0, "", "no buffer");
	while (len) {
		uint64_t n = u->part - u->fill;

		/* a full buffer is sent only once more bytes come, so the last
		 * part is never empty; it must leave room for that last part */
		if (!n) {
			if (u->n + 1 >= S3_MAX_PARTS)
				return u->err = set_err(u->c, -E2BIG, 0, "",
							"more than %d parts of %" PRIu64 " bytes",
							S3_MAX_PARTS, u->part);
			if ((u->err = upload_flush(u)))
				return u->err;
			n = u->part;
		}
		if (n > len)
			n = len;
		memcpy(u->buf + u->fill, p, (size_t)n);
		u->fill += n;
		u->total += n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int s3_upload_finish(struct s3_upload *u, uint64_t *size)
{
	struct s3_client *c;
	int err;

	if (size)
		*size = 0;
	if (!u)
		return -EINVAL;
	c = u->c;
	err = u->err;
	if (!err && !u->initiated) {
		/* within the first part: one PUT from the buffer */
		struct body b = {.buf = u->buf, .fd = -1, .len = u->fill};

		err = put_single(c, u->key, &b, u->ctype);
	} else if (!err) {
		if (u->fill)
			err = upload_flush(u);
		if (!err)
			err = upload_complete(u);
	}
	if (!err && size)
		*size = u->total;
	upload_free(u);
	c->err.err = err;
	return err;
}

void s3_upload_abort(struct s3_upload *u)
{
	upload_free(u);
}

static int put_body(struct s3_client *c, const char *key, struct body *b, const char *ctype)
{
	if (!key || !*key) {
		memset(&c->err, 0, sizeof(c->err));
		return set_err(c, -EINVAL, 0, "", "empty key");
	}
	if (!ctype)
		ctype = "application/octet-stream";
	if (b->len > c->threshold)
		return put_multipart(c, key, b, ctype);
	return put_single(c, key, b, ctype);
}

int s3_put(struct s3_client *c, const char *key, const void *buf, size_t len,
	   const char *content_type)
{
	struct body b = {.buf = buf ? buf : "", .fd = -1, .len = len};

	return put_body(c, key, &b, content_type);
}

int s3_put_fd(struct s3_client *c, const char *key, int fd, const char *content_type)
{
	struct stat st;
	struct body b = {.fd = fd};

	memset(&c->err, 0, sizeof(c->err));
	if (fstat(fd, &st) < 0)
		return set_err(c, -errno, 0, "", "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return set_err(c, -EINVAL, 0, "", "not a regular file");
	b.len = (uint64_t)st.st_size;
	return put_body(c, key, &b, content_type);
}

int s3_put_file(struct s3_client *c, const char *key, const char *path, const char *content_type)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0) {
		err = -errno;
		memset(&c->err, 0, sizeof(c->err));
		return set_err(c, err, 0, "", "%s: %s", path, strerror(-err));
	}
	err = s3_put_fd(c, key, fd, content_type);
	close(fd);
	return err;
}

int s3_get(struct s3_client *c, const char *key, s3_write_fn fn, void *ctx)
{
	struct req r = {.method = "GET", .key = key, .sink = fn, .sink_ctx = ctx};

	if (!key || !*key || !fn) {
		memset(&c->err, 0, sizeof(c->err));
		return set_err(c, -EINVAL, 0, "", "empty key");
	}
	return run(c, &r);
}

static int fd_sink(void *ctx, const void *d, size_t n)
{
	return write_all(*(int *)ctx, d, n);
}

int s3_get_fd(struct s3_client *c, const char *key, int fd)
{
	return s3_get(c, key, fd_sink, &fd);
}

struct capped_sink {
	s3_write_fn fn;
	void *ctx;
	uint64_t max, len;
};

static int capped_sink(void *ctx, const void *d, size_t n)
{
	struct capped_sink *k = ctx;
	int err;

	if (n > k->max - k->len)
		return -E2BIG;
	err = k->fn(k->ctx, d, n);
	if (!err)
		k->len += n;
	return err;
}

int s3_get_max(struct s3_client *c, const char *key, uint64_t max, s3_write_fn fn, void *ctx,
	       uint64_t *len)
{
	struct capped_sink k = {.fn = fn, .ctx = ctx, .max = max};
	struct req r = {.method = "GET", .key = key, .sink = capped_sink, .sink_ctx = &k};
	int err;

	if (len)
		*len = 0;
	if (!key || !*key || !max || !fn) {
		memset(&c->err, 0, sizeof(c->err));
		return set_err(c, -EINVAL, 0, "", "empty key or no size cap");
	}
	r.max_len = max;
	err = run(c, &r);
	if (len)
		*len = k.len;
	if (err == -E2BIG)
		set_err(c, err, 0, "", "the object is over the cap of %" PRIu64 " bytes", max);
	return err;
}

int s3_get_fd_max(struct s3_client *c, const char *key, int fd, uint64_t max, uint64_t *len)
{
	return s3_get_max(c, key, max, fd_sink, &fd, len);
}

static int head(struct s3_client *c, const char *key, int checksum_mode, struct s3_head *out)
{
	struct req r = {
	    .method = "HEAD", .key = key, .head_only = 1, .checksum_mode = checksum_mode};
	int err;

	memset(out, 0, sizeof(*out));
	if (!key || !*key) {
		memset(&c->err, 0, sizeof(c->err));
		return set_err(c, -EINVAL, 0, "", "empty key");
	}
	err = run(c, &r);
	if (err)
		return err;
	out->size = r.rh.content_length;
	snprintf(out->etag, sizeof(out->etag), "%s", r.rh.etag);
	snprintf(out->content_type, sizeof(out->content_type), "%s", r.rh.content_type);
	snprintf(out->last_modified, sizeof(out->last_modified), "%s", r.rh.last_modified);
	snprintf(out->checksum_sha256, sizeof(out->checksum_sha256), "%s", r.rh.checksum_sha256);
	return 0;
}

int s3_head(struct s3_client *c, const char *key, struct s3_head *out)
{
	return head(c, key, 0, out);
}

int s3_head_checksum(struct s3_client *c, const char *key, struct s3_head *out)
{
	return head(c, key, 1, out);
}

int s3_delete(struct s3_client *c, const char *key)
{
	struct req r = {.method = "DELETE", .key = key};

	if (!key || !*key) {
		memset(&c->err, 0, sizeof(c->err));
		return set_err(c, -EINVAL, 0, "", "empty key");
	}
	return run(c, &r);
}

int s3_list(struct s3_client *c, const char *prefix, unsigned max_keys, const char *token,
	    struct s3xml_list *out)
{
	struct membuf m = {.max = S3_MAX_LIST_BODY};
	char *ep = NULL, *et = NULL, *q = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	memset(&c->err, 0, sizeof(c->err));
	if (max_keys > S3XML_MAX_KEYS)
		return set_err(c, -EINVAL, 0, "", "max-keys over %d", S3XML_MAX_KEYS);
	if (prefix && strlen(prefix) > S3_MAX_KEY)
		return set_err(c, -EINVAL, 0, "", "prefix too long");
	/* query names in sorted order, as they are signed */
	if (token && *token && !(et = sigv4_uri_encode(token, strlen(token), 0)))
		goto nomem;
	if (prefix && *prefix && !(ep = sigv4_uri_encode(prefix, strlen(prefix), 0)))
		goto nomem;
	{
		char mk[32] = "";

		if (max_keys)
			snprintf(mk, sizeof(mk), "&max-keys=%u", max_keys);
		if (asprintf(&q, "%s%s%slist-type=2%s%s%s", et ? "continuation-token=" : "",
			     et ? et : "", et ? "&" : "", mk, ep ? "&prefix=" : "",
			     ep ? ep : "") < 0) {
			q = NULL;
			goto nomem;
		}
	}
	{
		struct req r = {.method = "GET", .query = q, .mem = &m};

		err = run(c, &r);
	}
	if (!err) {
		err = s3xml_parse_list(m.p ? m.p : "", m.len, out);
		if (err)
			set_err(c, err, 200, "", "bad ListObjectsV2 answer: %s", strerror(-err));
	}
	free(m.p);
	free(q);
	free(ep);
	free(et);
	c->err.err = err;
	return err;
nomem:
	free(q);
	free(ep);
	free(et);
	return set_err(c, -ENOMEM, 0, "", "out of memory");
}

int s3_presign(struct s3_client *c, const char *method, const char *key, unsigned expires,
	       char **url)
{
	return s3_presign_headers(c, method, key, expires, NULL, 0, url);
}

int s3_presign_headers(struct s3_client *c, const char *method, const char *key, unsigned expires,
		       const struct sigv4_header *h, size_t n, char **url)
{
	char *u = NULL, *host = NULL, *path = NULL, date[17];
	struct sigv4_header sh[1 + S3_PRESIGN_MAX_HEADERS];
	struct sigv4_input in;
	struct sigv4_output out = {0};
	size_t i;
	int err;

	*url = NULL;
	memset(&c->err, 0, sizeof(c->err));
	if (!method || !*method || !key || !*key || !expires || expires > SIGV4_MAX_EXPIRES)
		return set_err(c, -EINVAL, 0, "", "bad method, key or expiry");
	if (n > S3_PRESIGN_MAX_HEADERS || (n && !h))
		return set_err(c, -EINVAL, 0, "", "too many headers to sign");
	for (i = 0; i < n; i++) {
		if (!h[i].name || !*h[i].name || !h[i].value || !strcasecmp(h[i].name, "host"))
			return set_err(c, -EINVAL, 0, "", "bad header to sign");
		sh[1 + i] = h[i];
	}
	err = s3_build_url(c->endpoint, c->bucket, c->path_style, key, &u, &host, &path);
	if (err)
		return set_err(c, err, 0, "", "bad endpoint, bucket or key");
	amz_now(date);
	sh[0] = (struct sigv4_header){"host", host};
	in = sign_input(c, method, path, date);
	in.headers = sh;
	in.n_headers = 1 + n;
	in.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	in.presign_expires = expires;
	err = sigv4_sign(&in, &out);
	if (err)
		set_err(c, err, 0, "", "signing: %s", strerror(-err));
	else if (asprintf(url, "%s?%s", u, out.presigned_query) < 0) {
		*url = NULL;
		err = set_err(c, -ENOMEM, 0, "", "out of memory");
	}
	sigv4_output_free(&out);
	free(u);
	free(host);
	free(path);
	return err;
}
