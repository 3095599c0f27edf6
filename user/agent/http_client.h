/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http_client.h - one HTTP exchange on libcurl (through curl_dl.h), the
 * one the shipper (ship.c) and the screenshot uploader (shot_queue.c) share:
 * http and https only, a capped answer, a stop flag that aborts a transfer
 * in flight, a CA file of the device's.
 */
#ifndef ACTLOG_HTTP_CLIENT_H
#define ACTLOG_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "curl_dl.h"

/* The answer's body: buf holds cap + 1 bytes (the caller's), NUL-terminated
 * after len; what comes past cap is dropped and truncated set. */
struct http_answer {
	char *buf;
	size_t cap, len;
	int truncated;
};

struct http_req {
	const char *method; /* "GET"; "POST" sends body; "PUT" sends upload */
	const char *url;
	struct curl_slist *headers; /* NULL: none of the caller's */
	const void *body;	    /* POST: len bytes */
	size_t len;
	FILE *upload; /* PUT: upload_size bytes read from it */
	uint64_t upload_size;
	long timeout_s;	     /* the whole exchange; connecting: 10 s at most */
	const char *ca_file; /* NULL or "": the system's CAs */
	const int *stop;     /* non-zero (read atomically) aborts; NULL never */
	char *etag;	     /* when not NULL: the answer's ETag, if shorter */
	size_t etag_len;     /* than etag_len (else etag is left alone) */
};

/*
 * One exchange on c (reset first). Returns the HTTP status (> 0) with the
 * body in *a, or -errno with msg set when no answer came: -ETIMEDOUT,
 * -ECONNREFUSED (any other failure, a stop included).
 */
long http_exchange(CURL *c, const struct http_req *rq, struct http_answer *a, char *msg, size_t ml);

#endif /* ACTLOG_HTTP_CLIENT_H */
