/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256), pure: no I/O, no
 * clock. The caller passes the request as it goes on the wire and the time;
 * the signer returns the canonical request, the string to sign, the
 * signature and either the Authorization header value or the query string of
 * a presigned URL.
 *
 * Canonicalisation (AWS's rules):
 *   path   S3 (SIGV4_S3): the wire path with its encoding normalised (bytes
 *          outside A-Za-z0-9-._~/ percent-encoded, %xx in upper case), never
 *          encoded twice, dot segments kept. Other services: "." and ".."
 *          segments and repeated slashes removed, then every byte outside
 *          A-Za-z0-9-._~/ encoded, '%' included (so "%20" signs as "%2520").
 *   query  split on '&' (empty pieces dropped), name=value at the first '='
 *          (a missing '=' is an empty value), each side percent-decoded then
 *          encoded with only A-Za-z0-9-._~ left alone, sorted by name then
 *          value, repeated names kept.
 *   headers  names lower-cased, values with leading and trailing white space
 *          removed and inner runs collapsed to one space, repeated names joined
 *          with ',' in order, sorted by name.
 */
#ifndef ACTLOG_SIGV4_H
#define ACTLOG_SIGV4_H

#include <stddef.h>

/* Caps on every input: over one, sigv4_sign() returns -E2BIG. */
#define SIGV4_MAX_METHOD 32
#define SIGV4_MAX_PATH 8192
#define SIGV4_MAX_QUERY 16384
#define SIGV4_MAX_HEADERS 64
#define SIGV4_MAX_HEADER_NAME 256
#define SIGV4_MAX_HEADER_VALUE 8192
#define SIGV4_MAX_KEY 256	 /* access key id, secret key */
#define SIGV4_MAX_TOKEN 8192	 /* session token */
#define SIGV4_MAX_SCOPE_PART 64	 /* region, service */
#define SIGV4_MAX_EXPIRES 604800 /* seven days, AWS's limit for presigned URLs */

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_HEX_LEN 64

struct sigv4_header {
	const char *name;
	const char *value;
};

enum sigv4_flags {
	SIGV4_S3 = 1 << 0, /* S3's path rule (no double encoding, no normalisation) */
};

struct sigv4_input {
	const char *method; /* "GET", ... (used as given) */
	const char *path;   /* the request target's path as sent, e.g. "/a%20b"; "" = "/" */
	const char *query;  /* the raw query without '?', or NULL */
	/* Every header to sign, "host" included. Header form: x-amz-date must
	 * be present and equal amz_date; with a session token,
	 * x-amz-security-token must be present too. */
	const struct sigv4_header *headers;
	size_t n_headers;
	/* Lower-case hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD */
	const char *payload_hash;
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL or "" when none */
	const char *region;
	const char *service;
	const char *amz_date;	  /* "YYYYMMDDTHHMMSSZ" (UTC) */
	unsigned presign_expires; /* 0: Authorization header; 1..SIGV4_MAX_EXPIRES: presign */
	unsigned flags;		  /* enum sigv4_flags */
};

struct sigv4_output {
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers; /* "host;x-amz-date" */
	char signature[SIGV4_HEX_LEN + 1];
	/* Header form: the Authorization header's value. */
	char *authorization;
	/* Presign form: the whole query string to send, without '?': the
	 * request's own query, then the X-Amz-* parameters, X-Amz-Signature last. */
	char *presigned_query;
};

/* Sign in. On success fills *out (every pointer malloc'd or NULL; release with
 * sigv4_output_free()) and returns 0. -EINVAL for a malformed input (bad
 * date, missing host or x-amz-date, bad payload hash, control characters),
 * -E2BIG over a cap, -ENOMEM. *out is left empty on failure. */
int sigv4_sign(const struct sigv4_input *in, struct sigv4_output *out);

/* Free what sigv4_sign() put in out; out may be NULL or empty. */
void sigv4_output_free(struct sigv4_output *out);

/* Lower-case hex SHA-256 of len bytes of data into hex (65 bytes). 0 or
 * -ENOMEM. */
int sigv4_sha256_hex(const void *data, size_t len, char hex[SIGV4_HEX_LEN + 1]);

/* Percent-encode len bytes of s for a URI: everything but A-Za-z0-9-._~ is
 * encoded as %XX; '/' too unless keep_slash. Returns a malloc'd string or NULL
 * (no memory). */
char *sigv4_uri_encode(const char *s, size_t len, int keep_slash);

/* 1 when s is "YYYYMMDDTHHMMSSZ" with a valid calendar date and time. */
int sigv4_valid_date(const char *s);

#endif /* ACTLOG_SIGV4_H */
