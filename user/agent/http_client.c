// SPDX-License-Identifier: BSD-2-Clause
/*
 * http_client.c - one HTTP exchange on libcurl (see http_client.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CURL_DISABLE_TYPECHECK /* curl_dl.h routes curl_* through dlopen() */
#include <curl/curl.h>

#include "http_client.h"

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct http_answer *a = ud;
	size_t k = sz * n, room = a->cap - a->len;

	if (k > room) {
		a->truncated = 1;
		k = room;
	}
	if (k) {
		memcpy(a->buf + a->len, p, k);
		a->len += k;
		a->buf[a->len] = '\0';
	}
	return sz * n; /* never fail the transfer for a long answer */
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	const struct http_req *rq = ud;
	size_t k = sz * n, vl;
	const char *v;

	if (k > 5 && !strncasecmp(p, "ETag:", 5)) {
		v = p + 5;
		while (*v == ' ')
			v++;
		vl = k - (size_t)(v - p);
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		if (vl < rq->etag_len) {
			memcpy(rq->etag, v, vl);
			rq->etag[vl] = '\0';
		}
	}
	return k;
}

/* Abort a transfer in flight when the daemon stops (const int *stop). */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return ud && __atomic_load_n((const int *)ud, __ATOMIC_RELAXED);
}

long http_exchange(CURL *c, const struct http_req *rq, struct http_answer *a, char *msg, size_t ml)
{
	char err[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->timeout_s);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "actlogd");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)rq->stop);
	if (rq->etag) {
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, (void *)rq);
	}
	if (rq->ca_file && *rq->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, rq->ca_file);
	if (!strcmp(rq->method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, rq->upload);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->upload_size);
	} else if (!strcmp(rq->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
	}
	a->len = 0;
	a->truncated = 0;
	a->buf[0] = '\0';
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(msg, ml, "%s", err[0] ? err : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code;
}
