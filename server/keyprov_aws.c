// SPDX-License-Identifier: BSD-2-Clause
/*
 * keyprov_aws.c - the "aws-sm" KEK engine: the master key is the
 * SecretString of an AWS Secrets Manager secret, read once at open with
 * GetSecretValue (JSON 1.1 protocol over HTTPS, SigV4 from lib/sigv4.c)
 * and kept in memory like the file engine's key. Contract: keyprov.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "keyprov.h"
#include "sigv4.h"
#include "util.h"

#define AWS_RESP_MAX (64u << 10) /* a GetSecretValue answer; the secret is ~65 bytes */
#define AWS_ATTEMPTS 4
#define AWS_URL_MAX 2048
#define AWS_FIELD_MAX 256 /* region, secret id, error type and message shown */
#define AWS_SECRET_ID_MAX 2048

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

int keyprov_aws_cfg_env(struct keyprov_aws_cfg *cfg, char *why, size_t why_len)
{
	if (!cfg->region)
		cfg->region = env_first("AWS_REGION", "AWS_DEFAULT_REGION");
	if (!cfg->endpoint)
		cfg->endpoint = env_first("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL");
	if (!cfg->access_key)
		cfg->access_key = env_first("AWS_ACCESS_KEY_ID", NULL);
	if (!cfg->secret_key)
		cfg->secret_key = env_first("AWS_SECRET_ACCESS_KEY", NULL);
	if (!cfg->session_token)
		cfg->session_token = env_first("AWS_SESSION_TOKEN", NULL);
	if (!cfg->secret_id || !*cfg->secret_id) {
		say_why(why, why_len, "aws-sm: no secret id (--aws-secret-id)");
		return -EINVAL;
	}
	if (!cfg->region) {
		say_why(why, why_len, "aws-sm: no region (--aws-region or AWS_REGION)");
		return -EINVAL;
	}
	if (!cfg->access_key || !cfg->secret_key) {
		say_why(why, why_len,
			"aws-sm: no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
		return -EINVAL;
	}
	return 0;
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
};

static size_t write_cb(char *d, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = sz * n;
	char *np;

	if (r->len + k > AWS_RESP_MAX) {
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

int keyprov_aws_open(const struct keyprov_aws_cfg *cfg, struct keyprov **out, char *why,
		     size_t why_len)
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
		say_why(why, why_len, "aws-sm: GetSecretValue of '%.200s' at %s: HTTP %ld %s",
			cfg->secret_id, url, status, etext);
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
			"aws-sm: secret '%.200s' has no SecretString (a binary secret, or not "
			"JSON); store the key as %d hex digits",
			cfg->secret_id, KEYPROV_FILE_HEX_LEN);
		goto out;
	}
	ret = keyprov_mem_new(&aws_ops, "aws", ss->valuestring, strlen(ss->valuestring), out);
	if (ret == -ENOMEM)
		say_why(why, why_len, "aws-sm: out of memory");
	else if (ret == -EINVAL)
		say_why(why, why_len,
			"aws-sm: secret '%.200s': SecretString is not exactly %d hex digits "
			"(and an optional newline)",
			cfg->secret_id, KEYPROV_FILE_HEX_LEN);
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
