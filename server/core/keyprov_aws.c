// SPDX-License-Identifier: BSD-2-Clause
/*
 * keyprov_aws.c - the "aws-sm" KEK engine: the master key is the
 * SecretString of an AWS Secrets Manager secret, read once at open with
 * GetSecretValue (JSON 1.1 protocol over HTTPS, SigV4 from lib/sigv4.c)
 * and kept in memory like the file engine's key. Contract: keyprov.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "core/keyprov.h"
#include "sigv4.h"
#include "util.h"

#define AWS_RESP_MAX (64u << 10) /* a GetSecretValue answer; the secret is ~65 bytes */
#define AWS_ATTEMPTS 4
#define AWS_URL_MAX 2048
#define AWS_FIELD_MAX 256 /* region, secret id, error type and message shown */
#define AWS_SECRET_ID_MAX 2048

/* The EC2 instance metadata service (IMDSv2). */
#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_BASE_MAX 256
#define IMDS_ATTEMPTS 2
#define IMDS_CONNECT_MS 1000L
#define IMDS_TOTAL_MS 2000L
#define IMDS_TOKEN_TTL "21600"
#define IMDS_TOKEN_MAX 1024	  /* a session token is ~56 bytes */
#define IMDS_RESP_MAX (16u << 10) /* the role's credentials are ~1.5 KiB */
#define IMDS_ROLE_MAX 64	  /* IAM role names: 1..64 of [A-Za-z0-9+=,.@_-] */
#define IMDS_FIELD_MAX 4096	  /* access key, secret key, token */

static const struct keyprov_ops aws_ops = {
    .name = "aws-sm",
    .get_kek = keyprov_mem_get_kek,
    .destroy = keyprov_mem_destroy,
};

static const char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);

	if ((!v || !*v) && b)
		v = getenv(b);
	return v && *v ? v : NULL;
}

/* A region or service name: [a-z0-9-], 1..63. */
static int region_ok(const char *r)
{
	size_t i, n = strlen(r);

	if (!n || n >= SIGV4_MAX_SCOPE_PART)
		return 0;
	for (i = 0; i < n; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
			return 0;
	return 1;
}

struct resp {
	char *p;
	size_t len;
	int over;
	size_t max; /* cap on len; 0: AWS_RESP_MAX */
};

static size_t write_cb(char *d, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = sz * n;
	char *np;

	if (r->len + k > (r->max ? r->max : AWS_RESP_MAX)) {
		r->over = 1;
		return 0;
	}
	np = realloc(r->p, r->len + k + 1);
	if (!np)
		return 0;
	r->p = np;
	memcpy(r->p + r->len, d, k);
	r->len += k;
	r->p[r->len] = 0;
	return k;
}

/* "Type: message" of an AWS JSON error body into out (printable only). */
static void aws_error_text(const char *body, char *out, size_t n)
{
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
	const char *type, *hash;
	size_t i;

	if (!m)
		m = cJSON_GetObjectItemCaseSensitive(j, "Message");
	type = cJSON_IsString(t) ? t->valuestring : "unknown error";
	/* "com.amazonaws...#ResourceNotFoundException" -> the name */
	if ((hash = strrchr(type, '#')))
		type = hash + 1;
	snprintf(out, n, "%.*s%s%.*s", AWS_FIELD_MAX, type, cJSON_IsString(m) ? ": " : "",
		 AWS_FIELD_MAX, cJSON_IsString(m) ? m->valuestring : "");
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	cJSON_Delete(j);
}

/* Wipe and free r's buffer; r is empty after. */
static void resp_wipe(struct resp *r)
{
	if (r->p) {
		OPENSSL_cleanse(r->p, r->len);
		free(r->p);
	}
	r->p = NULL;
	r->len = 0;
	r->over = 0;
}

/*
 * One IMDS request: method ("PUT" or "GET") on url with the header line
 * hdr, at most IMDS_ATTEMPTS attempts (again on transport errors and 5xx).
 * 0 with the answer in r (capped at r->max) and *status set; -EAGAIN with
 * the transport error in err; -EFBIG; -ENOMEM.
 */
static int imds_req(CURL *h, const char *method, const char *url, const char *hdr, struct resp *r,
		    long *status, char *err, size_t err_len)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hl;
	CURLcode cc = CURLE_OK;
	int attempt;

	hl = curl_slist_append(NULL, hdr);
	if (!hl)
		return -ENOMEM;
	for (attempt = 1; attempt <= IMDS_ATTEMPTS; attempt++) {
		resp_wipe(r);
		*status = 0;
		errbuf[0] = 0;
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (!strcmp(method, "PUT")) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		}
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* never hand credentials to a proxy */
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, IMDS_CONNECT_MS);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, IMDS_TOTAL_MS);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
		cc = curl_easy_perform(h);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		if (r->over) {
			curl_slist_free_all(hl);
			snprintf(err, err_len, "answer over %zu bytes", r->max);
			return -EFBIG;
		}
		if (cc == CURLE_OK) {
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
			if (*status < 500)
				break;
		}
		if (attempt < IMDS_ATTEMPTS)
			usleep(200000);
	}
	curl_slist_free_all(hl);
	if (cc != CURLE_OK) {
		snprintf(err, err_len, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return -EAGAIN;
	}
	return 0;
}

/* Trailing whitespace off r's text; 1 when what is left is 1..max bytes of
 * printable ASCII without spaces. */
static int resp_word(struct resp *r, size_t max)
{
	size_t i;

	while (r->len && (r->p[r->len - 1] == '\n' || r->p[r->len - 1] == '\r' ||
			  r->p[r->len - 1] == ' ' || r->p[r->len - 1] == '\t'))
		r->p[--r->len] = 0;
	if (!r->p || !r->len || r->len > max)
		return 0;
	for (i = 0; i < r->len; i++)
		if ((unsigned char)r->p[i] <= 0x20 || (unsigned char)r->p[i] >= 0x7f)
			return 0;
	return 1;
}

/* An IAM role name: 1..64 of [A-Za-z0-9+=,.@_-]. */
static int role_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || n > IMDS_ROLE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("+=,.@_-", s[i])))
			return 0;
	return 1;
}

/* The JSON string field name of j when it is 1..IMDS_FIELD_MAX printable
 * bytes, else NULL. */
static const char *json_field(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	size_t i, n;

	if (!cJSON_IsString(v))
		return NULL;
	n = strlen(v->valuestring);
	if (!n || n > IMDS_FIELD_MAX)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)v->valuestring[i] <= 0x20 ||
		    (unsigned char)v->valuestring[i] >= 0x7f)
			return NULL;
	return v->valuestring;
}

/* Wipe the strings of a parsed credentials answer, then free it. */
static void json_wipe(cJSON *j)
{
	cJSON *v;

	cJSON_ArrayForEach(v, j)
	{
		if (cJSON_IsString(v))
			OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
	}
	cJSON_Delete(j);
}

/*
 * Ask the instance metadata service at base (no trailing /) for the
 * instance profile's credentials (need_creds) and the region (need_region)
 * and set them in cfg, held in cfg->held. lead starts the reason when the
 * service does not answer. 0 or -errno with a reason.
 */
static int imds_fetch(struct keyprov_aws_cfg *cfg, const char *base, int need_creds,
		      int need_region, const char *lead, char *why, size_t why_len)
{
	char url[IMDS_BASE_MAX + 128 + IMDS_ROLE_MAX], err[CURL_ERROR_SIZE + 64] = "";
	char hdr[IMDS_TOKEN_MAX + 64], role[IMDS_ROLE_MAX + 1] = "";
	const char *ak = NULL, *sk = NULL, *tok = NULL, *code;
	struct resp r = {0};
	cJSON *j = NULL;
	CURL *h;
	size_t n, off;
	long status;
	int ret;

	h = curl_easy_init();
	if (!h) {
		say_why(why, why_len, "aws-sm: out of memory");
		return -ENOMEM;
	}
	/* the session token */
	r.max = IMDS_TOKEN_MAX;
	snprintf(url, sizeof(url), "%s/latest/api/token", base);
	ret = imds_req(h, "PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL, &r,
		       &status, err, sizeof(err));
	if (ret == -EAGAIN) {
		say_why(why, why_len,
			"aws-sm: %s and the instance metadata service did not answer at %s: %s",
			lead, base, err);
		goto out;
	}
	if (!ret && status != 200) {
		say_why(
		    why, why_len,
		    "aws-sm: the instance metadata service at %s refused a session token (PUT %s: "
		    "HTTP %ld)",
		    base, url, status);
		ret = -EACCES;
		goto out;
	}
	if (!ret && !resp_word(&r, IMDS_TOKEN_MAX))
		ret = -EIO;
	if (ret) {
		say_why(why, why_len, "aws-sm: instance metadata PUT %s: %s", url,
			ret == -EIO ? "not a session token"
			: err[0]    ? err
				    : strerror(-ret));
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", r.p);
	resp_wipe(&r);

	if (need_creds) {
		/* the instance profile's role: the first line */
		r.max = IMDS_RESP_MAX;
		snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/", base);
		ret = imds_req(h, "GET", url, hdr, &r, &status, err, sizeof(err));
		if (ret)
			goto failed;
		if (status == 404) {
			say_why(why, why_len,
				"aws-sm: no credentials in the environment and the instance has no "
				"instance profile (GET %s: HTTP 404)",
				url);
			ret = -EINVAL;
			goto out;
		}
		if (status != 200)
			goto refused;
		n = r.p ? strcspn(r.p, "\r\n") : 0;
		if (!role_ok(r.p, n)) {
			say_why(why, why_len,
				"aws-sm: instance metadata GET %s: not an IAM role name", url);
			ret = -EIO;
			goto out;
		}
		memcpy(role, r.p, n);
		role[n] = 0;
		resp_wipe(&r);
		/* its temporary credentials */
		snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s", base,
			 role);
		ret = imds_req(h, "GET", url, hdr, &r, &status, err, sizeof(err));
		if (ret)
			goto failed;
		if (status != 200)
			goto refused;
		j = r.p ? cJSON_Parse(r.p) : NULL;
		code = json_field(j, "Code");
		ak = json_field(j, "AccessKeyId");
		sk = json_field(j, "SecretAccessKey");
		tok = json_field(j, "Token");
		if (!code || strcmp(code, "Success") || !ak || !sk || !tok) {
			say_why(why, why_len,
				"aws-sm: instance metadata GET %s: no usable credentials (Code "
				"'%.64s', AccessKeyId, SecretAccessKey and Token needed)",
				url, code ? code : "");
			ret = -EIO;
			goto out;
		}
		resp_wipe(&r);
	}
	if (need_region) {
		r.max = IMDS_FIELD_MAX;
		snprintf(url, sizeof(url), "%s/latest/meta-data/placement/region", base);
		ret = imds_req(h, "GET", url, hdr, &r, &status, err, sizeof(err));
		if (ret)
			goto failed;
		if (status != 200)
			goto refused;
		if (!resp_word(&r, SIGV4_MAX_SCOPE_PART) || !region_ok(r.p)) {
			say_why(why, why_len, "aws-sm: instance metadata GET %s: not a region",
				url);
			ret = -EIO;
			goto out;
		}
	}
	/* ak \\0 sk \\0 tok \\0 region \\0, wiped by keyprov_aws_cfg_wipe */
	n = (ak ? strlen(ak) + strlen(sk) + strlen(tok) + 3 : 0) + (need_region ? r.len + 1 : 0);
	cfg->held = malloc(n);
	if (!cfg->held) {
		say_why(why, why_len, "aws-sm: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	cfg->held_len = n;
	off = 0;
	if (ak) {
		cfg->access_key = memcpy(cfg->held + off, ak, strlen(ak) + 1);
		off += strlen(ak) + 1;
		cfg->secret_key = memcpy(cfg->held + off, sk, strlen(sk) + 1);
		off += strlen(sk) + 1;
		cfg->session_token = memcpy(cfg->held + off, tok, strlen(tok) + 1);
		off += strlen(tok) + 1;
	}
	if (need_region)
		cfg->region = memcpy(cfg->held + off, r.p, r.len + 1);
	ret = 0;
	goto out;
failed:
	if (ret == -EAGAIN)
		say_why(why, why_len,
			"aws-sm: %s and the instance metadata service did not answer at %s: %s",
			lead, base, err);
	else
		say_why(why, why_len, "aws-sm: instance metadata GET %s: %s", url,
			err[0] ? err : strerror(-ret));
	goto out;
refused:
	say_why(why, why_len, "aws-sm: the instance metadata service refused GET %s: HTTP %ld%s",
		url, status, status == 401 ? " (the session token was not accepted)" : "");
	ret = -EACCES;
out:
	OPENSSL_cleanse(hdr, sizeof(hdr));
	if (j)
		json_wipe(j);
	resp_wipe(&r);
	curl_easy_cleanup(h);
	return ret;
}

/* 1 when p points into cfg->held. */
static int in_held(const struct keyprov_aws_cfg *cfg, const char *p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)cfg->held;

	return p && a >= b && a < b + cfg->held_len;
}

void keyprov_aws_cfg_wipe(struct keyprov_aws_cfg *cfg)
{
	if (!cfg->held)
		return;
	if (in_held(cfg, cfg->access_key))
		cfg->access_key = NULL;
	if (in_held(cfg, cfg->secret_key))
		cfg->secret_key = NULL;
	if (in_held(cfg, cfg->session_token))
		cfg->session_token = NULL;
	if (in_held(cfg, cfg->region))
		cfg->region = NULL;
	OPENSSL_cleanse(cfg->held, cfg->held_len);
	free(cfg->held);
	cfg->held = NULL;
	cfg->held_len = 0;
}

/* 1 when AWS_EC2_METADATA_DISABLED says so ("true", any case). */
static int imds_disabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");

	return v && !strcasecmp(v, "true");
}

int keyprov_aws_cfg_env(struct keyprov_aws_cfg *cfg, char *why, size_t why_len)
{
	char base[IMDS_BASE_MAX + 1];
	const char *ep, *lead;
	size_t n, i;

	if (!cfg->region)
		cfg->region = env_first("AWS_REGION", "AWS_DEFAULT_REGION");
	if (!cfg->endpoint)
		cfg->endpoint = env_first("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL");
	if (!cfg->access_key && !cfg->secret_key) {
		cfg->access_key = env_first("AWS_ACCESS_KEY_ID", NULL);
		cfg->secret_key = env_first("AWS_SECRET_ACCESS_KEY", NULL);
		if (cfg->access_key && cfg->secret_key && !cfg->session_token)
			cfg->session_token = env_first("AWS_SESSION_TOKEN", NULL);
	}
	if (!cfg->secret_id || !*cfg->secret_id) {
		say_why(why, why_len, "aws-sm: no secret id (--aws-secret-id)");
		return -EINVAL;
	}
	if (!cfg->access_key != !cfg->secret_key) {
		say_why(why, why_len,
			"aws-sm: no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go "
			"together, and only %s is set",
			cfg->access_key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
		return -EINVAL;
	}
	if (cfg->access_key && cfg->region)
		return 0;
	if (imds_disabled()) {
		if (!cfg->access_key)
			say_why(why, why_len,
				"aws-sm: no credentials (AWS_ACCESS_KEY_ID and "
				"AWS_SECRET_ACCESS_KEY; the instance metadata service is off: "
				"AWS_EC2_METADATA_DISABLED)");
		else
			say_why(why, why_len, "aws-sm: no region (--aws-region or AWS_REGION)");
		return -EINVAL;
	}
	ep = env_first("AWS_EC2_METADATA_SERVICE_ENDPOINT", NULL);
	if (!ep)
		ep = IMDS_DEFAULT;
	n = strlen(ep);
	while (n && ep[n - 1] == '/')
		n--;
	for (i = 0; i < n; i++)
		if ((unsigned char)ep[i] <= 0x20 || (unsigned char)ep[i] >= 0x7f)
			break;
	if (i < n || n > IMDS_BASE_MAX ||
	    (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) ||
	    n <= (size_t)(ep[4] == 's' ? 8 : 7)) {
		say_why(why, why_len,
			"aws-sm: AWS_EC2_METADATA_SERVICE_ENDPOINT '%.200s' is not an http(s) URL",
			ep);
		return -EINVAL;
	}
	memcpy(base, ep, n);
	base[n] = 0;
	lead = cfg->access_key ? "no region (--aws-region or AWS_REGION)"
			       : "no credentials in the environment";
	return imds_fetch(cfg, base, !cfg->access_key, !cfg->region, lead, why, why_len);
}

/*
 * One GetSecretValue. 0 with r filled and *status set, -EAGAIN for a
 * transport error worth retrying (text in err), or -errno.
 */
static int get_secret_once(CURL *h, const struct keyprov_aws_cfg *cfg, const char *url,
			   const char *host, const char *body, struct resp *r, long *status,
			   char *err, size_t err_len)
{
	char amz_date[17], hash[SIGV4_HEX_LEN + 1];
	struct sigv4_header hs[5];
	struct sigv4_output out = {0};
	struct sigv4_input in = {0};
	struct curl_slist *hl = NULL, *tmp;
	char *authz = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	time_t now = time(NULL);
	struct tm tm;
	size_t nh = 0, i;
	CURLcode cc;
	int ret;

	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	ret = sigv4_sha256_hex(body, strlen(body), hash);
	if (ret)
		return ret;
	hs[nh++] = (struct sigv4_header){"host", host};
	hs[nh++] = (struct sigv4_header){"content-type", "application/x-amz-json-1.1"};
	hs[nh++] = (struct sigv4_header){"x-amz-date", amz_date};
	hs[nh++] = (struct sigv4_header){"x-amz-target", "secretsmanager.GetSecretValue"};
	if (cfg->session_token)
		hs[nh++] = (struct sigv4_header){"x-amz-security-token", cfg->session_token};
	in.method = "POST";
	in.path = "/";
	in.headers = hs;
	in.n_headers = nh;
	in.payload_hash = hash;
	in.access_key = cfg->access_key;
	in.secret_key = cfg->secret_key;
	in.session_token = cfg->session_token;
	in.region = cfg->region;
	in.service = "secretsmanager";
	in.amz_date = amz_date;
	ret = sigv4_sign(&in, &out);
	if (ret) {
		snprintf(err, err_len, "cannot sign the request: %s", strerror(-ret));
		return ret;
	}
	if (asprintf(&authz, "Authorization: %s", out.authorization) < 0) {
		sigv4_output_free(&out);
		return -ENOMEM;
	}
	sigv4_output_free(&out);
	for (i = 0; i < nh; i++) {
		char line[SIGV4_MAX_HEADER_VALUE + 64];

		snprintf(line, sizeof(line), "%s: %s", hs[i].name, hs[i].value);
		tmp = curl_slist_append(hl, line);
		OPENSSL_cleanse(line, sizeof(line));
		if (!tmp)
			goto nomem;
		hl = tmp;
	}
	tmp = curl_slist_append(hl, authz);
	if (!tmp)
		goto nomem;
	hl = tmp;
	tmp = curl_slist_append(hl, "Expect:");
	if (!tmp)
		goto nomem;
	hl = tmp;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg->timeout_ms ? (long)cfg->timeout_ms : 15000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	cc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	OPENSSL_cleanse(authz, strlen(authz));
	free(authz);
	if (r->over) {
		snprintf(err, err_len, "answer over %u bytes", AWS_RESP_MAX);
		return -EFBIG;
	}
	if (cc != CURLE_OK) {
		snprintf(err, err_len, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return -EAGAIN;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	return 0;
nomem:
	curl_slist_free_all(hl);
	if (authz)
		OPENSSL_cleanse(authz, strlen(authz));
	free(authz);
	return -ENOMEM;
}

/* The request's URL and the host (authority) to sign, from the endpoint or
 * the region's default. 0 or -EINVAL. */
static int endpoint_parts(const struct keyprov_aws_cfg *cfg, char *url, size_t url_len, char **host)
{
	CURLU *u = curl_url();
	char *h = NULL, *port = NULL, *path = NULL;
	int ret = -EINVAL;

	*host = NULL;
	if (!u)
		return -ENOMEM;
	if (cfg->endpoint)
		snprintf(url, url_len, "%s", cfg->endpoint);
	else
		snprintf(url, url_len, "https://secretsmanager.%s.amazonaws.com/", cfg->region);
	if (strlen(url) + 1 >= url_len ||
	    curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && path && strcmp(path, "/"))
		goto out; /* the API lives at "/" */
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port) {
		if (asprintf(host, "%s:%s", h, port) < 0)
			*host = NULL;
	} else {
		*host = strdup(h);
	}
	ret = *host ? 0 : -ENOMEM;
out:
	curl_free(h);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return ret;
}

/* GetSecretValue of the secret's version stage into a provider *out. 0 or
 * -errno with a reason (keyprov_aws_open). */
static int aws_get_stage(const struct keyprov_aws_cfg *cfg, const char *stage, struct keyprov **out,
			 char *why, size_t why_len)
{
	char url[AWS_URL_MAX], err[512] = "", etext[2 * AWS_FIELD_MAX + 8];
	struct resp r = {0};
	cJSON *req = NULL, *ans = NULL;
	const cJSON *ss;
	char *host = NULL, *body = NULL;
	CURL *h = NULL;
	long status = 0;
	int ret, attempt;

	*out = NULL;
	say_why(why, why_len, "ok");
	if (!cfg->secret_id || !*cfg->secret_id || strlen(cfg->secret_id) > AWS_SECRET_ID_MAX ||
	    !cfg->region || !region_ok(cfg->region) || !cfg->access_key || !cfg->secret_key) {
		say_why(why, why_len,
			"aws-sm: a secret id (1..%d bytes), a region ([a-z0-9-]) "
			"and credentials are required",
			AWS_SECRET_ID_MAX);
		return -EINVAL;
	}
	ret = endpoint_parts(cfg, url, sizeof(url), &host);
	if (ret) {
		say_why(why, why_len, "aws-sm: endpoint '%.200s' is not an http(s) URL ending at /",
			cfg->endpoint ? cfg->endpoint : url);
		return ret;
	}
	req = cJSON_CreateObject();
	if (!req || !cJSON_AddStringToObject(req, "SecretId", cfg->secret_id) ||
	    !cJSON_AddStringToObject(req, "VersionStage", stage) ||
	    !(body = cJSON_PrintUnformatted(req)) || !(h = curl_easy_init())) {
		ret = -ENOMEM;
		say_why(why, why_len, "aws-sm: out of memory");
		goto out;
	}
	for (attempt = 1; attempt <= AWS_ATTEMPTS; attempt++) {
		free(r.p);
		r = (struct resp){0};
		status = 0;
		ret = get_secret_once(h, cfg, url, host, body, &r, &status, err, sizeof(err));
		if (ret && ret != -EAGAIN)
			break;
		/* retry transport errors, 5xx and throttling, with back-off */
		if (!ret && status < 500 &&
		    !(status == 400 && r.p && strstr(r.p, "ThrottlingException")))
			break;
		if (attempt < AWS_ATTEMPTS)
			usleep(200000u << (attempt - 1));
	}
	if (ret) {
		say_why(why, why_len, "aws-sm: GetSecretValue at %s: %s", url, err);
		goto out;
	}
	if (status != 200) {
		aws_error_text(r.p, etext, sizeof(etext));
		say_why(why, why_len, "aws-sm: GetSecretValue of '%.200s' (%s) at %s: HTTP %ld %s",
			cfg->secret_id, stage, url, status, etext);
		ret = status == 400 && r.p && strstr(r.p, "ResourceNotFoundException") ? -ENOENT
		      : status == 400 || status == 403				       ? -EACCES
										       : -EIO;
		goto out;
	}
	ans = r.p ? cJSON_Parse(r.p) : NULL;
	ss = cJSON_GetObjectItemCaseSensitive(ans, "SecretString");
	if (!cJSON_IsString(ss)) {
		ret = -EINVAL;
		say_why(why, why_len,
			"aws-sm: secret '%.200s' (%s) has no SecretString (a binary secret, or "
			"not JSON); store the key as %d hex digits",
			cfg->secret_id, stage, KEYPROV_FILE_HEX_LEN);
		goto out;
	}
	ret = keyprov_mem_new(&aws_ops, "aws", ss->valuestring, strlen(ss->valuestring), out);
	if (ret == -ENOMEM)
		say_why(why, why_len, "aws-sm: out of memory");
	else if (ret == -EINVAL)
		say_why(why, why_len,
			"aws-sm: secret '%.200s' (%s): SecretString is not exactly %d hex digits "
			"(and an optional newline)",
			cfg->secret_id, stage, KEYPROV_FILE_HEX_LEN);
	else if (ret)
		say_why(why, why_len, "aws-sm: cannot derive the key id");
out:
	if (ans) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(ans, "SecretString");

		if (cJSON_IsString(v))
			OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
		cJSON_Delete(ans);
	}
	if (r.p) {
		OPENSSL_cleanse(r.p, r.len);
		free(r.p);
	}
	if (h)
		curl_easy_cleanup(h);
	cJSON_free(body);
	cJSON_Delete(req);
	free(host);
	return ret;
}

int keyprov_aws_open(const struct keyprov_aws_cfg *cfg, struct keyprov **out, char *why,
		     size_t why_len)
{
	static const char *const others[] = {"AWSPENDING", "AWSPREVIOUS"};
	struct keyprov *kp = NULL, *o;
	size_t i;
	int ret;

	*out = NULL;
	ret = aws_get_stage(cfg, "AWSCURRENT", &kp, why, why_len);
	for (i = 0; !ret && i < sizeof(others) / sizeof(others[0]); i++) {
		ret = aws_get_stage(cfg, others[i], &o, why, why_len);
		if (ret == -ENOENT) { /* the secret has no such stage */
			ret = 0;
			continue;
		}
		if (!ret)
			ret = keyprov_ring_add(kp, o);
	}
	if (ret) {
		keyprov_free(kp);
		return ret;
	}
	say_why(why, why_len, "ok");
	*out = kp;
	return 0;
}
