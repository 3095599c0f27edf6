// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

/* a growing string with a hard cap; any failure sticks in err */
struct sbuf {
	char *s;
	size_t len, cap, max;
	int err;
};

#define SBUF_MAX (1U << 20)

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	size_t ncap;
	char *ns;

	if (b->err)
		return;
	if (b->len + n + 1 > b->max) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		ns = realloc(b->s, ncap);
		if (!ns) {
			b->err = -ENOMEM;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_chr(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

/* take the string out of b (NULL after an error) */
static char *sb_take(struct sbuf *b)
{
	char *s;

	if (!b->err && !b->s)
		sb_add(b, "", 0);
	if (b->err) {
		free(b->s);
		b->s = NULL;
		return NULL;
	}
	s = b->s;
	b->s = NULL;
	return s;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void sb_enc_byte(struct sbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = {'%', hex[c >> 4], hex[c & 15]};

	sb_add(b, e, 3);
}

/* encode n bytes of s (raw bytes, no decoding) */
static void sb_encode(struct sbuf *b, const char *s, size_t n, int keep_slash)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/'))
			sb_chr(b, (char)c);
		else
			sb_enc_byte(b, c);
	}
}

/* percent-decode n bytes of s, then encode (only unreserved bytes bare) */
static void sb_reencode(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int h, l;

		if (c == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
		    (l = hexval(s[i + 2])) >= 0) {
			c = (unsigned char)(h << 4 | l);
			i += 2;
		}
		if (unreserved(c))
			sb_chr(b, (char)c);
		else
			sb_enc_byte(b, c);
	}
}

char *sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
	struct sbuf b = {.max = SBUF_MAX};

	sb_encode(&b, s, len, keep_slash);
	return sb_take(&b);
}

int sigv4_valid_date(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, se;

	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return 0;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return 0;
	if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &se) != 6)
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return 0;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

int sigv4_sha256_hex(const void *data, size_t len, char hex[SIGV4_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -ENOMEM;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n) ||
	    n != 32)
		return -ENOMEM;
	return 0;
}

/* --- path --- */

/* Remove "." and ".." segments and empty segments (the normalisation AWS
 * applies for services other than S3) into dst (strlen(p) + 2 bytes). 0 or
 * -ENOMEM. */
static int normalize_path(const char *p, char *dst)
{
	size_t n = strlen(p), o = 0, nseg = 0, i = 0;
	size_t(*seg)[2] = calloc(n / 2 + 2, sizeof(*seg)); /* start, length */

	if (!seg)
		return -ENOMEM;
	while (i < n) {
		size_t j = i;

		while (j < n && p[j] != '/')
			j++;
		if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') {
			if (nseg)
				nseg--;
		} else if (j > i && !(j - i == 1 && p[i] == '.')) {
			seg[nseg][0] = i;
			seg[nseg][1] = j - i;
			nseg++;
		}
		i = j + 1;
	}
	if (p[0] == '/')
		dst[o++] = '/';
	for (i = 0; i < nseg; i++) {
		if (i)
			dst[o++] = '/';
		memcpy(dst + o, p + seg[i][0], seg[i][1]);
		o += seg[i][1];
	}
	if (nseg && p[n - 1] == '/')
		dst[o++] = '/';
	dst[o] = '\0';
	free(seg);
	return 0;
}

static int canonical_path(struct sbuf *b, const char *path, unsigned flags)
{
	size_t n = strlen(path);
	char *norm;

	if (n == 0) {
		sb_chr(b, '/');
		return 0;
	}
	if (flags & SIGV4_S3) {
		/* keep every %XX escape (upper-cased), encode other bytes that
		 * must not appear bare */
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)path[i];
			int h, l;

			if (c == '%' && i + 2 < n && (h = hexval(path[i + 1])) >= 0 &&
			    (l = hexval(path[i + 2])) >= 0) {
				sb_enc_byte(b, (unsigned char)(h << 4 | l));
				i += 2;
			} else if (unreserved(c) || c == '/') {
				sb_chr(b, (char)c);
			} else {
				sb_enc_byte(b, c);
			}
		}
		return 0;
	}
	norm = malloc(n + 2);
	if (!norm)
		return -ENOMEM;
	if (normalize_path(path, norm)) {
		free(norm);
		return -ENOMEM;
	}
	sb_encode(b, norm, strlen(norm), 1);
	free(norm);
	return 0;
}

/* --- query --- */

struct qpair {
	char *k, *v;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int r = strcmp(x->k, y->k);

	return r ? r : strcmp(x->v, y->v);
}

static void qpairs_free(struct qpair *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(q[i].k);
		free(q[i].v);
	}
	free(q);
}

static char *reencode(const char *s, size_t n)
{
	struct sbuf b = {.max = SBUF_MAX};

	sb_reencode(&b, s, n);
	return sb_take(&b);
}

/* Parse raw (may be NULL) plus extra pairs (already encoded) into a sorted
 * canonical query string appended to b. */
static int canonical_query(struct sbuf *b, const char *raw, const struct qpair *extra,
			   size_t n_extra)
{
	size_t cap = n_extra + 1, n = 0;
	struct qpair *q;
	const char *p = raw ? raw : "";
	int err = 0;

	for (const char *c = p; *c; c++)
		cap += *c == '&';
	q = calloc(cap, sizeof(*q));
	if (!q)
		return -ENOMEM;
	while (*p) {
		const char *e = strchr(p, '&'), *eq;
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len) {
			eq = memchr(p, '=', len);
			q[n].k = reencode(p, eq ? (size_t)(eq - p) : len);
			q[n].v = eq ? reencode(eq + 1, len - (size_t)(eq + 1 - p)) : strdup("");
			n++;
			if (!q[n - 1].k || !q[n - 1].v) {
				err = -ENOMEM;
				goto out;
			}
		}
		p += len + (e ? 1 : 0);
	}
	for (size_t i = 0; i < n_extra; i++) {
		q[n].k = strdup(extra[i].k);
		q[n].v = strdup(extra[i].v);
		n++;
		if (!q[n - 1].k || !q[n - 1].v) {
			err = -ENOMEM;
			goto out;
		}
	}
	qsort(q, n, sizeof(*q), qpair_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_chr(b, '&');
		sb_str(b, q[i].k);
		sb_chr(b, '=');
		sb_str(b, q[i].v);
	}
out:
	qpairs_free(q, n);
	return err;
}

/* --- headers --- */

struct hdr {
	char *name;
	const char *value;
	size_t idx; /* input order, for a stable sort */
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Python's str.split() white space within ASCII: what AWS's SDKs trim */
static int ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	       (c >= 0x1c && c <= 0x1f);
}

static void sb_trimall(struct sbuf *b, const char *v)
{
	int first = 1;

	while (*v) {
		const char *s;

		while (*v && ws((unsigned char)*v))
			v++;
		if (!*v)
			break;
		s = v;
		while (*v && !ws((unsigned char)*v))
			v++;
		if (!first)
			sb_chr(b, ' ');
		sb_add(b, s, (size_t)(v - s));
		first = 0;
	}
}

static int valid_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return n == 0 ? -EINVAL : -E2BIG;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == ':')
			return -EINVAL;
	}
	return 0;
}

static int valid_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' || s[i] == '\r' || s[i] == '\0')
			return -EINVAL;
	return 0;
}

static int check_input(const struct sigv4_input *in)
{
	int r;

	if (!in->method || !in->path || !in->access_key || !in->secret_key || !in->region ||
	    !in->service || !in->amz_date || !in->payload_hash || (in->n_headers && !in->headers))
		return -EINVAL;
	if ((r = valid_token(in->method, SIGV4_MAX_METHOD)) ||
	    (r = valid_token(in->access_key, SIGV4_MAX_KEY)) ||
	    (r = valid_token(in->region, SIGV4_MAX_SCOPE_PART)) ||
	    (r = valid_token(in->service, SIGV4_MAX_SCOPE_PART)))
		return r;
	if (strchr(in->access_key, '/') || strchr(in->region, '/') || strchr(in->service, '/'))
		return -EINVAL;
	if (strlen(in->secret_key) > SIGV4_MAX_KEY)
		return -E2BIG;
	if (in->session_token && (r = valid_text(in->session_token, SIGV4_MAX_TOKEN)))
		return r;
	if (strlen(in->path) > SIGV4_MAX_PATH || (in->query && strlen(in->query) > SIGV4_MAX_QUERY))
		return -E2BIG;
	for (const char *c = in->path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '?' || *c == '#')
			return -EINVAL;
	if (in->query)
		for (const char *c = in->query; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '#')
				return -EINVAL;
	if (!sigv4_valid_date(in->amz_date))
		return -EINVAL;
	if (strcmp(in->payload_hash, SIGV4_UNSIGNED_PAYLOAD) != 0) {
		if (strlen(in->payload_hash) != SIGV4_HEX_LEN)
			return -EINVAL;
		for (const char *c = in->payload_hash; *c; c++)
			if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
				return -EINVAL;
	}
	if (in->presign_expires > SIGV4_MAX_EXPIRES)
		return -EINVAL;
	if (in->n_headers > SIGV4_MAX_HEADERS)
		return -E2BIG;
	for (size_t i = 0; i < in->n_headers; i++) {
		if (!in->headers[i].name || !in->headers[i].value)
			return -EINVAL;
		if ((r = valid_token(in->headers[i].name, SIGV4_MAX_HEADER_NAME)) ||
		    (r = valid_text(in->headers[i].value, SIGV4_MAX_HEADER_VALUE)))
			return r;
	}
	return 0;
}

static const char *find_header(const struct sigv4_input *in, const char *lname)
{
	for (size_t i = 0; i < in->n_headers; i++)
		if (strcasecmp(in->headers[i].name, lname) == 0)
			return in->headers[i].value;
	return NULL;
}

/* canonical headers ("name:value\n"...) into ch, "a;b" into sh */
static int canonical_headers(const struct sigv4_input *in, struct sbuf *ch, struct sbuf *sh)
{
	struct hdr *h;
	size_t n = in->n_headers;
	int err = 0;

	h = calloc(n ? n : 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		h[i].name = strdup(in->headers[i].name);
		if (!h[i].name) {
			err = -ENOMEM;
			goto out;
		}
		for (char *c = h[i].name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		h[i].value = in->headers[i].value;
		h[i].idx = i;
	}
	qsort(h, n, sizeof(*h), hdr_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(h[i].name, h[i - 1].name) == 0) {
			sb_chr(ch, ',');
		} else {
			if (i) {
				sb_chr(ch, '\n');
				sb_chr(sh, ';');
			}
			sb_str(ch, h[i].name);
			sb_chr(ch, ':');
			sb_str(sh, h[i].name);
		}
		sb_trimall(ch, h[i].value);
	}
	if (n)
		sb_chr(ch, '\n');
out:
	for (size_t i = 0; i < n; i++)
		free(h[i].name);
	free(h);
	return err;
}

void sigv4_output_free(struct sigv4_output *out)
{
	if (!out)
		return;
	free(out->canonical_request);
	free(out->string_to_sign);
	free(out->signed_headers);
	free(out->authorization);
	free(out->presigned_query);
	memset(out, 0, sizeof(*out));
}

int sigv4_sign(const struct sigv4_input *in, struct sigv4_output *out)
{
	struct sbuf cr = {.max = SBUF_MAX}, ch = {.max = SBUF_MAX}, sh = {.max = SBUF_MAX};
	struct sbuf sts = {.max = SBUF_MAX}, tmp = {.max = SBUF_MAX}, res = {.max = SBUF_MAX};
	char date[9], scope[4 * SIGV4_MAX_SCOPE_PART], hash[SIGV4_HEX_LEN + 1];
	char *cred = NULL, *sh_enc = NULL, *tok_enc = NULL, expires[16];
	unsigned char k[32], key0[SIGV4_MAX_KEY + 8];
	const char *token =
	    in && in->session_token && *in->session_token ? in->session_token : NULL;
	const char *v;
	struct qpair auth[6];
	size_t n_auth = 0;
	int err;

	if (!in || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	err = check_input(in);
	if (err)
		return err;
	if (!find_header(in, "host"))
		return -EINVAL;
	if (!in->presign_expires) {
		v = find_header(in, "x-amz-date");
		if (!v || strcmp(v, in->amz_date) != 0)
			return -EINVAL;
		if (token && !find_header(in, "x-amz-security-token"))
			return -EINVAL;
	}
	memcpy(date, in->amz_date, 8);
	date[8] = '\0';
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, in->region, in->service);

	err = canonical_headers(in, &ch, &sh);
	if (err || (err = ch.err) || (err = sh.err))
		goto out;
	if (in->presign_expires) {
		sb_str(&tmp, in->access_key);
		sb_chr(&tmp, '/');
		sb_str(&tmp, scope);
		if (tmp.err) {
			err = tmp.err;
			goto out;
		}
		cred = sigv4_uri_encode(tmp.s, tmp.len, 0);
		sh_enc = sigv4_uri_encode(sh.s ? sh.s : "", sh.len, 0);
		tok_enc = token ? sigv4_uri_encode(token, strlen(token), 0) : NULL;
		if (!cred || !sh_enc || (token && !tok_enc)) {
			err = -ENOMEM;
			goto out;
		}
		snprintf(expires, sizeof(expires), "%u", in->presign_expires);
		auth[n_auth++] =
		    (struct qpair){(char *)"X-Amz-Algorithm", (char *)"AWS4-HMAC-SHA256"};
		auth[n_auth++] = (struct qpair){(char *)"X-Amz-Credential", cred};
		auth[n_auth++] = (struct qpair){(char *)"X-Amz-Date", (char *)in->amz_date};
		auth[n_auth++] = (struct qpair){(char *)"X-Amz-Expires", expires};
		auth[n_auth++] = (struct qpair){(char *)"X-Amz-SignedHeaders", sh_enc};
		if (token)
			auth[n_auth++] = (struct qpair){(char *)"X-Amz-Security-Token", tok_enc};
	}

	sb_str(&cr, in->method);
	sb_chr(&cr, '\n');
	if ((err = canonical_path(&cr, in->path, in->flags)))
		goto out;
	sb_chr(&cr, '\n');
	if ((err = canonical_query(&cr, in->query, auth, n_auth)))
		goto out;
	sb_chr(&cr, '\n');
	sb_str(&cr, ch.s ? ch.s : "");
	sb_chr(&cr, '\n');
	sb_str(&cr, sh.s ? sh.s : "");
	sb_chr(&cr, '\n');
	sb_str(&cr, in->payload_hash);
	if ((err = cr.err))
		goto out;

	if ((err = sigv4_sha256_hex(cr.s, cr.len, hash)))
		goto out;
	sb_str(&sts, "AWS4-HMAC-SHA256\n");
	sb_str(&sts, in->amz_date);
	sb_chr(&sts, '\n');
	sb_str(&sts, scope);
	sb_chr(&sts, '\n');
	sb_str(&sts, hash);
	if ((err = sts.err))
		goto out;

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
	 * "aws4_request"); signature = hex(HMAC(kSigning, string to sign)) */
	memcpy(key0, "AWS4", 4);
	memcpy(key0 + 4, in->secret_key, strlen(in->secret_key));
	if ((err = hmac(key0, 4 + strlen(in->secret_key), date, k)) ||
	    (err = hmac(k, 32, in->region, k)) || (err = hmac(k, 32, in->service, k)) ||
	    (err = hmac(k, 32, "aws4_request", k)) || (err = hmac(k, 32, sts.s, k)))
		goto out;
	for (int i = 0; i < 32; i++)
		snprintf(out->signature + 2 * i, 3, "%02x", k[i]);

	if (in->presign_expires) {
		if (in->query && *in->query) {
			sb_str(&res, in->query);
			sb_chr(&res, '&');
		}
		for (size_t i = 0; i < n_auth; i++) {
			sb_str(&res, auth[i].k);
			sb_chr(&res, '=');
			sb_str(&res, auth[i].v);
			sb_chr(&res, '&');
		}
		sb_str(&res, "X-Amz-Signature=");
		sb_str(&res, out->signature);
		out->presigned_query = sb_take(&res);
	} else {
		sb_str(&res, "AWS4-HMAC-SHA256 Credential=");
		sb_str(&res, in->access_key);
		sb_chr(&res, '/');
		sb_str(&res, scope);
		sb_str(&res, ", SignedHeaders=");
		sb_str(&res, sh.s ? sh.s : "");
		sb_str(&res, ", Signature=");
		sb_str(&res, out->signature);
		out->authorization = sb_take(&res);
	}
	if (!out->presigned_query && !out->authorization) {
		err = res.err ? res.err : -ENOMEM;
		goto out;
	}
	out->canonical_request = sb_take(&cr);
	out->string_to_sign = sb_take(&sts);
	out->signed_headers = sb_take(&sh);
	if (!out->canonical_request || !out->string_to_sign || !out->signed_headers)
		err = -ENOMEM;
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(key0, sizeof(key0));
	free(cr.s);
	free(ch.s);
	free(sh.s);
	free(sts.s);
	free(tmp.s);
	free(res.s);
	free(cred);
	free(sh_enc);
	free(tok_enc);
	if (err)
		sigv4_output_free(out);
	return err;
}
