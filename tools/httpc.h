/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpc.h - the tools' HTTP client for actlog-server's API (actlog-sample,
 * actlog-seed): one kept-alive libcurl handle on a base URL, the answer's
 * body in a buffer of a fixed cap, a bearer token, and 429/503 answers
 * waited out (Retry-After) when asked to. Progress goes through
 * bench_note() (benchcli.h); nothing else is printed.
 */
#ifndef ACTLOG_TOOLS_HTTPC_H
#define ACTLOG_TOOLS_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#define HTTPC_URL_MAX 1024 /* bytes of the base URL */

struct httpc {
	CURL *h;
	char base[HTTPC_URL_MAX + 1]; /* no trailing slash */
	char auth[256];		      /* "Authorization: Bearer <token>", or "" */
	char *resp;		      /* the last answer's body, NUL-terminated */
	size_t len, max;	      /* its length; the cap (bytes past it are dropped) */
	bool truncated;		      /* the last answer was longer than max */
	unsigned retry_after;	      /* the last answer's Retry-After (s), 0 without one */
	unsigned retries;	      /* 429/503 answers waited out per request (0: none) */
	unsigned used;		      /* requests made by httpc_get() since httpc_login() */
};

/*
 * Open c (the caller's; zeroed here) for base (trailing slashes dropped),
 * keeping at most resp_max bytes of an answer and waiting out up to retries
 * 429/503 answers per request. 0, -ENAMETOOLONG (empty or over
 * HTTPC_URL_MAX) or -ENOMEM; httpc_close() either way.
 */
int httpc_open(struct httpc *c, const char *base, size_t resp_max, unsigned retries);

/* Release what httpc_open() made; safe on a zeroed or half-opened client. */
void httpc_close(struct httpc *c);

/*
 * One request: url is absolute when it starts with "http", else a path
 * below the base; hdrs and body (len bytes; NULL: none, a GET) as given.
 * Returns the status (c->resp holds the body) or -1 on a transport error.
 */
long httpc_do(struct httpc *c, const char *method, const char *url, struct curl_slist *hdrs,
	      const void *body, size_t len);

/* GET path with c->auth; counts it in c->used. The status or -1. */
long httpc_get(struct httpc *c, const char *path);

/*
 * Sign in with POST /api/v1/auth/login: c->auth gets the token (and c->used
 * 0). 0, -EACCES (refused, or no usable token in the answer) or
 * -EHOSTUNREACH. The password is wiped from the request body afterwards.
 */
int httpc_login(struct httpc *c, const char *email, const char *pw);

#endif /* ACTLOG_TOOLS_HTTPC_H */
