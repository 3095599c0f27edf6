// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-sigv4 - sign a raw HTTP/1.1 request read on stdin with AWS SigV4
 * (lib/sigv4.c) and print the canonical request, the string to sign, the
 * signature and the Authorization header, or the presigned URL.
 *
 * Input: request line ("METHOD TARGET HTTP/1.x", TARGET in origin form),
 * header lines ("Name:value"), an empty line, then the body (the rest of the
 * input; with a Content-Length header it must be exactly that long). Lines
 * end in LF or CRLF.
 *
 * What the tool does to the request before signing, as AWS's SDKs do: drops
 * Authorization; leaves Expect, User-Agent and X-Amzn-Trace-Id unsigned. Header
 * form: sets X-Amz-Date to --time, X-Amz-Security-Token to --session-token;
 * sets X-Amz-Content-SHA256 to the payload hash for service s3 and, for other
 * services, with --unsigned-payload; otherwise a X-Amz-Content-SHA256 header
 * already in the request is the payload hash. Presign form: adds no header; the payload is
 * UNSIGNED-PAYLOAD for s3 and the body's hash otherwise. Service s3 signs the path by S3's rule (no
 * double encoding).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sigv4.h"
#include "util.h"

#define MAX_INPUT (8U << 20) /* whole request */
#define MAX_HEAD (64U << 10) /* request line + headers */
#define MAX_LINE 16384

static const char *const usage_text =
    "usage: actlog-sigv4 --access-key K --secret-key S --region R --service SVC\n"
    "                    --time YYYYMMDDTHHMMSSZ [--session-token T] [--presign SECONDS]\n"
    "                    [--unsigned-payload] [--scheme https|http] [--json] < request\n";

struct req {
	char *method, *path, *query;
	struct sigv4_header hdr[SIGV4_MAX_HEADERS];
	size_t n_hdr;
	const char *body;
	size_t body_len;
};

static const char *errmsg;

/* split buf (len bytes, modified in place) into r; 0 or -EINVAL with errmsg */
static int parse_request(char *buf, size_t len, struct req *r)
{
	char *p = buf, *end = buf + len, *nl, *sp1, *sp2, *q;
	size_t head = 0;
	int first = 1;

	memset(r, 0, sizeof(*r));
	for (;;) {
		size_t ll;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			errmsg = "no empty line after the headers";
			return -EINVAL;
		}
		ll = (size_t)(nl - p);
		head += ll + 1;
		if (ll > MAX_LINE || head > MAX_HEAD) {
			errmsg = "request line or headers too long";
			return -E2BIG;
		}
		if (memchr(p, '\0', ll) != NULL) {
			errmsg = "NUL byte in the head";
			return -EINVAL;
		}
		*nl = '\0';
		if (ll && nl[-1] == '\r')
			nl[-1] = '\0';
		if (first) {
			first = 0;
			sp1 = strchr(p, ' ');
			sp2 = strrchr(p, ' ');
			if (!sp1 || sp1 == sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
				errmsg = "bad request line (want METHOD TARGET HTTP/1.x)";
				return -EINVAL;
			}
			*sp1 = *sp2 = '\0';
			r->method = p;
			if (sp1[1] != '/') {
				errmsg = "request target must start with '/'";
				return -EINVAL;
			}
			r->path = sp1 + 1;
			q = strchr(r->path, '?');
			if (q) {
				*q = '\0';
				r->query = q + 1;
			}
			if (strchr(r->query ? r->query : r->path, '#')) {
				errmsg = "fragment in request target";
				return -EINVAL;
			}
		} else if (!*p) {
			p = nl + 1;
			break;
		} else {
			char *c = strchr(p, ':');

			if (*p == ' ' || *p == '\t') {
				errmsg = "folded header lines are not supported";
				return -EINVAL;
			}
			if (!c || c == p) {
				errmsg = "header line without a name and ':'";
				return -EINVAL;
			}
			if (r->n_hdr >= SIGV4_MAX_HEADERS - 4) {
				errmsg = "too many headers";
				return -E2BIG;
			}
			*c = '\0';
			r->hdr[r->n_hdr].name = p;
			r->hdr[r->n_hdr].value = c + 1;
			r->n_hdr++;
		}
		p = nl + 1;
	}
	r->body = p;
	r->body_len = (size_t)(end - p);
	return 0;
}

static const char *get_header(const struct req *r, const char *name)
{
	for (size_t i = 0; i < r->n_hdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

static void drop_header(struct req *r, const char *name)
{
	size_t o = 0;

	for (size_t i = 0; i < r->n_hdr; i++)
		if (strcasecmp(r->hdr[i].name, name) != 0)
			r->hdr[o++] = r->hdr[i];
	r->n_hdr = o;
}

static void set_header(struct req *r, const char *name, const char *value)
{
	drop_header(r, name);
	r->hdr[r->n_hdr].name = name;
	r->hdr[r->n_hdr].value = value;
	r->n_hdr++;
}

static int valid_hash(const char *v)
{
	if (strcmp(v, SIGV4_UNSIGNED_PAYLOAD) == 0)
		return 1;
	if (strlen(v) != SIGV4_HEX_LEN)
		return 0;
	for (; *v; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'f')))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"access-key", required_argument, NULL, 'a'},
	    {"secret-key", required_argument, NULL, 's'},
	    {"region", required_argument, NULL, 'r'},
	    {"service", required_argument, NULL, 'v'},
	    {"time", required_argument, NULL, 't'},
	    {"session-token", required_argument, NULL, 'k'},
	    {"presign", required_argument, NULL, 'p'},
	    {"unsigned-payload", no_argument, NULL, 'u'},
	    {"scheme", required_argument, NULL, 'S'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct sigv4_input in = {0};
	struct sigv4_output out = {0};
	const char *scheme = "https", *host, *v;
	char hash[SIGV4_HEX_LEN + 1], *buf = NULL, *url = NULL;
	int c, json = 0, unsigned_payload = 0, s3, err, rc = 1;
	uint64_t expires = 0;
	size_t len = 0;
	struct req r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			in.access_key = optarg;
			break;
		case 's':
			in.secret_key = optarg;
			break;
		case 'r':
			in.region = optarg;
			break;
		case 'v':
			in.service = optarg;
			break;
		case 't':
			in.amz_date = optarg;
			break;
		case 'k':
			in.session_token = optarg;
			break;
		case 'p':
			if (parse_uint(optarg, 1, SIGV4_MAX_EXPIRES, &expires)) {
				fprintf(stderr, "actlog-sigv4: --presign wants 1..%u seconds\n",
					SIGV4_MAX_EXPIRES);
				return 2;
			}
			break;
		case 'u':
			unsigned_payload = 1;
			break;
		case 'S':
			scheme = optarg;
			if (strcmp(scheme, "https") && strcmp(scheme, "http")) {
				fputs("actlog-sigv4: --scheme is https or http\n", stderr);
				return 2;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind != argc || !in.access_key || !in.secret_key || !in.region || !in.service ||
	    !in.amz_date) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (!sigv4_valid_date(in.amz_date)) {
		fprintf(stderr, "actlog-sigv4: --time '%s' is not YYYYMMDDTHHMMSSZ\n", in.amz_date);
		return 2;
	}
	if (in.session_token && !*in.session_token)
		in.session_token = NULL;
	err = read_fd(STDIN_FILENO, MAX_INPUT, &buf, &len);
	if (err) {
		fprintf(stderr, "actlog-sigv4: reading the request: %s\n",
			err == -EFBIG ? "larger than 8 MiB" : strerror(-err));
		goto out;
	}
	err = parse_request(buf, len, &r);
	if (err) {
		fprintf(stderr, "actlog-sigv4: bad request: %s\n", errmsg);
		goto out;
	}
	v = get_header(&r, "content-length");
	if (v) {
		uint64_t cl;
		char tmp[32];

		snprintf(tmp, sizeof(tmp), "%s", v);
		if (parse_uint(tmp + strspn(tmp, " \t"), 0, MAX_INPUT, &cl) || cl != r.body_len) {
			fprintf(stderr,
				"actlog-sigv4: bad request: body is %zu bytes, Content-Length "
				"says '%s'\n",
				r.body_len, v);
			goto out;
		}
	}
	host = get_header(&r, "host");
	if (!host) {
		fputs("actlog-sigv4: bad request: no Host header\n", stderr);
		goto out;
	}
	s3 = strcmp(in.service, "s3") == 0;
	drop_header(&r, "authorization");
	drop_header(&r, "expect");
	drop_header(&r, "user-agent");
	drop_header(&r, "x-amzn-trace-id");
	if (sigv4_sha256_hex(r.body, r.body_len, hash))
		goto out;
	if (expires) {
		in.payload_hash = s3 ? SIGV4_UNSIGNED_PAYLOAD : hash;
	} else {
		in.payload_hash = unsigned_payload ? SIGV4_UNSIGNED_PAYLOAD : hash;
		set_header(&r, "X-Amz-Date", in.amz_date);
		if (in.session_token)
			set_header(&r, "X-Amz-Security-Token", in.session_token);
		v = get_header(&r, "x-amz-content-sha256");
		if (s3 || unsigned_payload) {
			set_header(&r, "X-Amz-Content-SHA256", in.payload_hash);
		} else if (v) {
			if (!valid_hash(v)) {
				fputs(
				    "actlog-sigv4: bad request: X-Amz-Content-SHA256 is neither a "
				    "SHA-256 in hex nor UNSIGNED-PAYLOAD\n",
				    stderr);
				goto out;
			}
			in.payload_hash = v;
		}
	}
	in.method = r.method;
	in.path = r.path;
	in.query = r.query;
	in.headers = r.hdr;
	in.n_headers = r.n_hdr;
	in.presign_expires = (unsigned)expires;
	in.flags = s3 ? SIGV4_S3 : 0;
	err = sigv4_sign(&in, &out);
	if (err) {
		fprintf(stderr, "actlog-sigv4: cannot sign: %s\n",
			err == -E2BIG	 ? "an input is over its cap"
			: err == -EINVAL ? "malformed input (control character, bad value)"
					 : strerror(-err));
		goto out;
	}
	if (expires) {
		size_t n = strlen(scheme) + strlen(host) + strlen(r.path) +
			   strlen(out.presigned_query) + 8;
		int hl;

		host += strspn(host, " \t");
		hl = (int)strcspn(host, " \t");
		url = malloc(n);
		if (!url)
			goto out;
		snprintf(url, n, "%s://%.*s%s?%s", scheme, hl, host, r.path, out.presigned_query);
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(o, "canonical_request", out.canonical_request);
		cJSON_AddStringToObject(o, "string_to_sign", out.string_to_sign);
		cJSON_AddStringToObject(o, "signed_headers", out.signed_headers);
		cJSON_AddStringToObject(o, "signature", out.signature);
		if (expires)
			cJSON_AddStringToObject(o, "url", url);
		else
			cJSON_AddStringToObject(o, "authorization", out.authorization);
		s = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!s)
			goto out;
		puts(s);
		free(s);
	} else {
		printf("== canonical request\n%s\n== string to sign\n%s\n== signature\n%s\n",
		       out.canonical_request, out.string_to_sign, out.signature);
		if (expires)
			printf("== url\n%s\n", url);
		else
			printf("== authorization\nAuthorization: %s\n", out.authorization);
	}
	rc = 0;
out:
	sigv4_output_free(&out);
	free(url);
	free(buf);
	return rc;
}
