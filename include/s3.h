/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * s3.h - a small S3 client on libcurl: PUT (buffer, fd, file; multipart above
 * a threshold), a streamed upload of unknown size, streamed GET, HEAD,
 * DELETE, ListObjectsV2 pages and presigned URLs. Every request is signed
 * with SigV4 (lib/sigv4.c) and carries the SHA-256 of its body. Requests
 * that fail with a 5xx, 429, SlowDown, RequestTimeout or a transport error
 * are retried with exponential back-off and full jitter, up to
 * max_attempts; a streamed GET is retried only while no byte has reached
 * the caller. When a failed answer carries Retry-After (delay-seconds or an
 * HTTP date), the next attempt waits at least that long, capped at
 * S3_MAX_RETRY_AFTER_MS; no wait follows the last attempt.
 *
 * Errors are negative errno: -ENOENT (404, NoSuchKey, NoSuchBucket), -EACCES
 * (403), -EAGAIN (attempts ran out while throttled), -E2BIG (a response over
 * its cap, a streamed upload past S3_MAX_PARTS parts), -EFBIG (an object
 * too large for S3_MAX_PARTS parts of S3_MAX_PART), -EINVAL (bad argument),
 * -ENOMEM, -EIO (anything else). The
 * details of the last failure (HTTP status, S3's Code and Message) are in
 * s3_last_error().
 *
 * A client is not thread-safe; use one per thread.
 */
#ifndef ACTLOG_S3_H
#define ACTLOG_S3_H

#include <stddef.h>
#include <stdint.h>

#include "s3xml.h"
#include "sigv4.h"

#define S3_MIN_PART (5U << 20)		/* S3's smallest part (all but the last) */
#define S3_MAX_PART (5ULL << 30)	/* S3's largest part */
#define S3_MAX_PARTS 10000		/* S3's part count limit */
#define S3_DEFAULT_PART (8U << 20)	/* part size when not configured */
#define S3_DEFAULT_THRESHOLD (8U << 20) /* multipart above this size */
#define S3_MAX_ERROR_BODY (64U << 10)	/* an error response read into memory */
#define S3_MAX_SMALL_BODY (1U << 20)	/* initiate/complete answers */
#define S3_MAX_LIST_BODY S3XML_MAX_DOC	/* one ListObjectsV2 page */
#define S3_MAX_KEY 1024			/* S3's key length limit */
#define S3_DEFAULT_ATTEMPTS 5
#define S3_MAX_ATTEMPTS 20
#define S3_MAX_RETRY_AFTER_MS 60000U /* the longest Retry-After honoured */
#define S3_PRESIGN_MAX_HEADERS 8     /* headers signed into a presigned URL, host aside */

struct s3_config {
	/* "http[s]://host[:port][/base]"; NULL: https://s3.<region>.amazonaws.com */
	const char *endpoint;
	const char *region; /* NULL: us-east-1 */
	const char *bucket;
	int path_style; /* 1: endpoint/bucket/key; 0: bucket.endpoint/key */
	const char *access_key;
	const char *secret_key;
	const char *session_token;    /* NULL or "" when none */
	unsigned connect_timeout_ms;  /* 0: 10 s */
	unsigned timeout_ms;	      /* whole request; 0: none (low-speed check instead) */
	unsigned max_attempts;	      /* 0: S3_DEFAULT_ATTEMPTS; at most S3_MAX_ATTEMPTS */
	unsigned backoff_base_ms;     /* 0: 100 ms; the n-th retry waits rand[0, base*2^n] */
	unsigned backoff_max_ms;      /* 0: 20 s; the cap of one wait */
	uint64_t multipart_threshold; /* 0: S3_DEFAULT_THRESHOLD */
	uint64_t part_size;	      /* 0: S3_DEFAULT_PART; >= S3_MIN_PART */
	/* Optional: told one line about retries and multipart steps. */
	void (*trace)(void *ctx, const char *msg);
	void *trace_ctx;
};

struct s3_error {
	int err;	   /* the negative errno returned */
	long http_status;  /* 0 for transport and local errors */
	char code[64];	   /* S3's <Code>, or "" */
	char message[512]; /* S3's <Message>, curl's error text, or a local reason */
	unsigned attempts; /* requests made for the failed call */
	int timed_out;	   /* 1: the last attempt ran out of time (connect, whole request
			      or stalled transfer) */
};

struct s3_client;

/* Make a client for cfg (strings are copied). 0 and *out, -EINVAL for a
 * missing bucket or credentials, a bad endpoint or out-of-range numbers,
 * -ENOMEM. */
int s3_client_new(const struct s3_config *cfg, struct s3_client **out);
/* Release c; NULL is fine. */
void s3_client_free(struct s3_client *c);
/* The last failure of c (err 0 after a success). Valid until the next call. */
const struct s3_error *s3_last_error(const struct s3_client *c);
/* One line "S3 404 NoSuchKey: The specified key does not exist." into buf. */
const char *s3_strerror(const struct s3_error *e, char *buf, size_t n);

/* PUT len bytes of buf under key. content_type NULL: application/octet-stream.
 * Above the multipart threshold the object goes up in parts. 0 or -errno. */
int s3_put(struct s3_client *c, const char *key, const void *buf, size_t len,
	   const char *content_type);
/* PUT the whole regular file open on fd (read with pread from offset 0). */
int s3_put_fd(struct s3_client *c, const char *key, int fd, const char *content_type);
/* PUT the file at path. */
int s3_put_file(struct s3_client *c, const char *key, const char *path, const char *content_type);

/*
 * A streamed upload: an object of unknown size written in order, for
 * producers that cannot hold it whole (backups). Bytes are buffered up to
 * the client's part size (s3_config.part_size, >= S3_MIN_PART; the buffer
 * is allocated by s3_upload_begin()); a full buffer goes up as one
 * UploadPart (retried as any request, with its SHA-256) when more bytes
 * come, so memory stays at one part buffer whatever the object's size, and
 * the last part is never empty. An object that ends within its first part
 * (up to exactly one part size) goes up as a single PUT from finish; the
 * multipart threshold does not apply. At most S3_MAX_PARTS parts: the
 * largest object is S3_MAX_PARTS * part size. Until finish nothing is
 * complete: a failure or an abort leaves no object and no stored parts
 * (AbortMultipartUpload, retried as any request; when S3 cannot be reached
 * for it either, the parts stay until the bucket's lifecycle rule for
 * incomplete uploads removes them). Failures are also in s3_last_error(c).
 * The upload belongs to its client: no other call on c while it is open.
 */
struct s3_upload;
/* Start an upload of key (nothing is sent yet). content_type NULL:
 * application/octet-stream. 0 and *out, -EINVAL (no client, an empty or
 * too long key), -ENOMEM (the part buffer). */
int s3_upload_begin(struct s3_client *c, const char *key, const char *content_type,
		    struct s3_upload **out);
/* Append len bytes (copied; buf NULL only with len 0). May send a part
 * (the first one initiates the multipart upload). 0 or -errno (-E2BIG past
 * S3_MAX_PARTS parts, a part's error after its retries); a failure is
 * sticky: the only calls left are s3_upload_finish(), which returns it,
 * and s3_upload_abort(). */
int s3_upload_write(struct s3_upload *u, const void *buf, size_t len);
/* Send what is buffered and complete the object; *size (may be NULL) gets
 * its length (0 on failure). Frees u whatever the result; on failure the
 * multipart upload is aborted, so no object and no stored parts are left.
 * 0 or -errno (-EINVAL for a NULL u). */
int s3_upload_finish(struct s3_upload *u, uint64_t *size);
/* Give up: AbortMultipartUpload when parts were sent (no request
 * otherwise; s3_last_error() keeps the failure that led here); frees u.
 * NULL ok. */
void s3_upload_abort(struct s3_upload *u);

/* Receives the object's bytes in order; returns 0, or a negative errno that
 * aborts the transfer (s3_get returns it). */
typedef int (*s3_write_fn)(void *ctx, const void *data, size_t len);
/* GET key, streamed to fn. 0 or -errno. */
int s3_get(struct s3_client *c, const char *key, s3_write_fn fn, void *ctx);
/* GET key into fd (write_all at the current position). */
int s3_get_fd(struct s3_client *c, const char *key, int fd);
/* s3_get() of at most max bytes (max > 0): an answer whose Content-Length
 * is over max fails before any byte reaches fn, one without a length once
 * it passes max; both -E2BIG. *len (may be NULL): the bytes fn accepted
 * (also on failure). */
int s3_get_max(struct s3_client *c, const char *key, uint64_t max, s3_write_fn fn, void *ctx,
	       uint64_t *len);
/* s3_get_fd() of at most max bytes: an answer whose Content-Length is over
 * max fails before any byte is written, one without a length once it passes
 * max; both -E2BIG. *len (may be NULL): the bytes written (also on failure:
 * the caller discards a partial file). */
int s3_get_fd_max(struct s3_client *c, const char *key, int fd, uint64_t max, uint64_t *len);

struct s3_head {
	uint64_t size;
	char etag[80];
	char content_type[128];
	char last_modified[64];
	/* S3's x-amz-checksum-sha256 (base64 of the digest; "<b64>-<parts>"
	 * for a multipart object), "" when it sent none */
	char checksum_sha256[80];
};
/* HEAD key into *out. 0 or -errno (-ENOENT when missing). */
int s3_head(struct s3_client *c, const char *key, struct s3_head *out);
/* s3_head() with x-amz-checksum-mode: ENABLED, so that S3 returns the
 * checksum stored with the object (AWS: only when the object was written
 * with one; S3-compatible stores may never return it). */
int s3_head_checksum(struct s3_client *c, const char *key, struct s3_head *out);
/* DELETE key (S3 answers 204 for a missing key too). 0 or -errno. */
int s3_delete(struct s3_client *c, const char *key);
/* One ListObjectsV2 page: prefix (NULL: all), max_keys 1..1000 (0: S3's
 * default), token from the previous page's next_token (NULL or "": first).
 * Fills *out (free with s3xml_list_free()). 0 or -errno. */
int s3_list(struct s3_client *c, const char *prefix, unsigned max_keys, const char *token,
	    struct s3xml_list *out);
/* A presigned URL for method ("GET", "PUT", ...) on key, valid expires seconds
 * (1..SIGV4_MAX_EXPIRES) from now. *url is malloc'd. 0 or -errno. */
int s3_presign(struct s3_client *c, const char *method, const char *key, unsigned expires,
	       char **url);
/* s3_presign() that also signs the n headers h (0..S3_PRESIGN_MAX_HEADERS;
 * not "host", which is always signed): X-Amz-SignedHeaders names them, and
 * the request made with the URL must carry each with exactly that value
 * (e.g. content-length and x-amz-checksum-sha256 bind a PUT to one body).
 * -EINVAL for a "host", an empty name or too many headers. */
int s3_presign_headers(struct s3_client *c, const char *method, const char *key, unsigned expires,
		       const struct sigv4_header *h, size_t n, char **url);

/* --- pure helpers, exposed for tests --- */

/* Where a request for key (NULL or "": the bucket) goes: the URL without
 * query, the Host header value and the path as sent. Each malloc'd. 0,
 * -EINVAL (bad endpoint or key), -ENOMEM. */
int s3_build_url(const char *endpoint, const char *bucket, int path_style, const char *key,
		 char **url, char **host, char **path);
/* The CompleteMultipartUpload body for n part ETags (part i+1 = etags[i]).
 * Malloc'd string or NULL (no memory, n 0, or an ETag with '<' or '&'). */
char *s3_complete_xml(const char *const *etags, size_t n);
/* Part size for an object of size bytes: the configured part (>= S3_MIN_PART),
 * grown so that at most S3_MAX_PARTS parts are needed. 0 when too large. */
uint64_t s3_part_size(uint64_t size, uint64_t want);
/* The cap of the n-th retry's wait (n from 1): min(max, base * 2^n). */
unsigned s3_backoff_cap(unsigned n, unsigned base_ms, unsigned max_ms);
/* The wait a Retry-After value v asks for, in ms, at Unix time now: "N"
 * delay-seconds or an HTTP date (IMF-fixdate; a past date is 0), capped at
 * S3_MAX_RETRY_AFTER_MS. 0 and *ms, or -EINVAL when v is neither. */
int s3_retry_after_ms(const char *v, long long now, unsigned *ms);
/* Classify a failed answer. *retry set when worth retrying, *throttle when
 * throttling (429, 503, SlowDown...). Returns the negative errno. */
int s3_classify(long status, const char *code, int *retry, int *throttle);

#endif /* ACTLOG_S3_H */
