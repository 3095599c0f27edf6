// SPDX-License-Identifier: BSD-2-Clause
/*
 * httpc.c - the tools' HTTP client (httpc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "benchcli.h"
#include "httpc.h"

/* libcurl's body callback: append to c->resp up to its cap; the rest is
 * dropped and said (c->truncated). */
static size_t on_resp(char *p, size_t sz, size_t n, void *ud)
{
	struct httpc *c = ud;
	size_t k = sz * n;

	if (c->len + k > c->max) {
		c->truncated = true;
		k = c->max - c->len;
	}
	memcpy(c->resp + c->len, p, k);
	c->len += k;
	c->resp[c->len] = 0;
	return sz * n;
}

/* libcurl's header callback: keeps Retry-After (seconds). */
static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct httpc *c = ud;
	size_t k = sz * n;

	if (k > 12 && !strncasecmp(p, "Retry-After:", 12))
		c->retry_after = (unsigned)strtoul(p + 12, NULL, 10);
	return k;
}

int httpc_open(struct httpc *c, const char *base, size_t resp_max, unsigned retries)
{
	size_t n = strlen(base);

	memset(c, 0, sizeof(*c));
	while (n && base[n - 1] == '/')
		n--;
	if (!n || n > HTTPC_URL_MAX)
		return -ENAMETOOLONG;
	memcpy(c->base, base, n);
	c->max = resp_max;
	c->retries = retries;
	c->resp = malloc(resp_max + 1);
	c->h = curl_easy_init();
	if (!c->resp || !c->h)
		return -ENOMEM;
	c->resp[0] = 0;
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_resp);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, c);
	return 0;
}

void httpc_close(struct httpc *c)
{
	if (c->h)
		curl_easy_cleanup(c->h);
	free(c->resp);
	explicit_bzero(c->auth, sizeof(c->auth));
	memset(c, 0, sizeof(*c));
}

long httpc_do(struct httpc *c, const char *method, const char *url, struct curl_slist *hdrs,
	      const void *body, size_t len)
{
	char full[HTTPC_URL_MAX + 2048];
	long status = -1;
	unsigned tries;

	if (!strncmp(url, "http", 4))
		snprintf(full, sizeof(full), "%s", url);
	else
		snprintf(full, sizeof(full), "%s%s", c->base, url);
	for (tries = 0;; tries++) {
		c->len = 0;
		c->resp[0] = 0;
		c->truncated = false;
		c->retry_after = 0;
		curl_easy_setopt(c->h, CURLOPT_URL, full);
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
		if (body) {
			curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		} else {
			curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
		}
		if (curl_easy_perform(c->h) != CURLE_OK)
			return -1;
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
		if ((status != 429 && status != 503) || tries >= c->retries)
			return status;
		if (tries == 0)
			bench_note("%s %s: %ld, waiting %u s", method, url, status,
				   c->retry_after ? c->retry_after : 1);
		sleep(c->retry_after ? (c->retry_after > 60 ? 60 : c->retry_after) : 1);
	}
}

long httpc_get(struct httpc *c, const char *path)
{
	struct curl_slist *h = curl_slist_append(NULL, c->auth);
	long st = httpc_do(c, "GET", path, h, NULL, 0);

	c->used++;
	curl_slist_free_all(h);
	return st;
}

int httpc_login(struct httpc *c, const char *email, const char *pw)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	cJSON *b = cJSON_CreateObject(), *a, *tok;
	char *txt;
	long st;
	int ret = -EACCES;

	cJSON_AddStringToObject(b, "email", email);
	cJSON_AddStringToObject(b, "password", pw);
	txt = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	st = txt ? httpc_do(c, "POST", "/api/v1/auth/login", h, txt, strlen(txt)) : -1;
	if (txt) {
		explicit_bzero(txt, strlen(txt));
		free(txt);
	}
	curl_slist_free_all(h);
	if (st < 0)
		return -EHOSTUNREACH;
	a = cJSON_Parse(c->resp);
	tok = cJSON_GetObjectItemCaseSensitive(a, "token");
	if (st == 200 && cJSON_IsString(tok) && strlen(tok->valuestring) <= 200) {
		snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", tok->valuestring);
		c->used = 0;
		ret = 0;
	}
	cJSON_Delete(a);
	return ret;
}
