/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.h - the HTTP layer of actlog-server, on libmicrohttpd (MHD) 0.9.75.
 *
 * One daemon: a listen socket we bind ourselves (IPv4 "ADDR:PORT" or
 * "[IPv6]:PORT"), MHD's internal polling threads (a pool of `threads`, epoll
 * when MHD has it), optional TLS (GnuTLS inside MHD). A route table maps
 * {method, "/api/v1/nodes/{id}/children"} to a handler; the layer answers
 * unknown paths (404), other methods (405 + Allow) and oversized bodies (413)
 * itself, always with a JSON body {"error":"..."}.
 *
 * The body of a request is read completely (and capped) before its handler
 * runs; the handler replies with one http_reply_*() call and returns. The
 * layer queues that response on MHD's final callback of the request, after
 * the body has been consumed, so keep-alive connections survive. A handler
 * whose work waits on another host instead suspends the request
 * (http_req_suspend) and hands it to another thread (outbound.h), which
 * replies and resumes it; the layer then queues the reply on the access
 * callback MHD makes after the resume.
 *
 * Caps (rule 6), what exceeding them gives, and who answers:
 *   max_body      The body cap of a request (its "body cap" below).
 *                 Content-Length above it: 413 before any body byte is read
 *                 (no "100 Continue" is sent; MHD closes the connection after
 *                 the 413 because the body stays unread). Chunked bodies: 413
 *                 once the body passes it; the rest is read and dropped, never
 *                 stored, so the 413 can follow on the same connection, until
 *                 2 * the body cap in all; past that the connection is
 *                 closed without a response. Bodies of requests answered 404
 *                 or 405 are drained (not stored) the same way.
 *   anon_max_body With a gate (http_opts.gate): the body cap of a request
 *                 until the gate lets it through. The gate runs once, with the
 *                 headers, before any body byte is read, and only for a
 *                 routed request that announces more than anon_max_body
 *                 (Content-Length) or a chunked body; it returns 0 (body cap
 *                 max_body), or replies itself (401: that reply goes out at
 *                 once, the body unread, the connection closed), or neither
 *                 (body cap anon_max_body: 413 as above). So what a client
 *                 without credentials can make the server hold is
 *                 anon_max_body per connection. No gate: max_body for all.
 *   request target  At most conn_memory / 4 bytes and min(HTTP_MAX_QUERY_ARGS,
 *                 conn_memory / 512) query arguments ('&'-separated): 414
 *                 with a JSON error, at once, the query never parsed (MHD
 *                 would run out of connection memory parsing it and close the
 *                 connection without an answer).
 *   max_inflated  http_req_body_gunzip() -> -EFBIG (the handler answers 413).
 *   conn_memory   MHD's per-connection pool: request line + headers must fit.
 *                 MHD answers itself, with an HTML body and Connection: close:
 *                 431 when the headers do not fit, 414 when the request line
 *                 does not. Our handlers never see those requests. A request
 *                 that fits but leaves MHD no room for the response headers
 *                 is closed without an answer (logged with term=error).
 *   max_conns     Split evenly between the pool threads. At the limit MHD
 *                 (epoll mode) stops accepting: further clients wait in the
 *                 listen backlog until a slot frees or they give up.
 *   max_conns_per_ip  Open connections from one address (an IPv6 address
 *                 counts by its /64 prefix): a connection accepted beyond it
 *                 is closed at once, so one address cannot take the slots
 *                 of every other. Checked at accept, so connections arriving
 *                 at the same instant on several pool threads may pass it by
 *                 a few. Trusted proxies are exempt.
 *   header_timeout_s  A new connection must complete its first request's
 *                 headers (TLS handshake included) within it, and a kept-
 *                 alive one the next request's headers within timeout_s + 1
 *                 after the previous request ended, however slowly the bytes
 *                 trickle in; else the connection is closed (shutdown() by a
 *                 watchdog thread that looks twice a second) and logged with
 *                 term=header_timeout.
 *   timeout_s     MHD closes a connection idle for that long.
 *   threads       A handler blocks its pool thread: keep handlers short, and
 *                 suspend requests that wait on another host.
 *   suspended     Not capped here: the caller of http_req_suspend() caps how
 *                 many it holds (outbound.h). They count against max_conns.
 *
 * Trusted proxies: when the peer's address is one of http_opts.trusted_proxies,
 * the client address of a request (http_req_client(), the access log) is
 * the last entry of its last X-Forwarded-For header (an IPv4 or IPv6
 * address, or [IPv6]); the proxy's own address when that header is absent or
 * its last entry is not an address. X-Forwarded-For from any other peer is
 * ignored. Connection caps still see the proxy (they are per TCP peer).
 *
 * Logging: the layer never logs errors; it writes exactly one access line per
 * request through log.h at LOG_LVL_INFO:
 *   access method=GET path=/api/v1/x status=200 bytes=17 ms=3 client=10.0.0.2
 * path is the raw path without the query string; requests MHD refused itself
 * (431) show method=- status=0 and every request that did not end normally
 * gets term=error|timeout|shutdown|read_error|client_abort|header_timeout
 * (a connection closed by header_timeout before a request line also gets a
 * line, with path=-). A client taken from X-Forwarded-For is followed by
 * proxy=<the peer>. Headers (so the Authorization bearer token), query
 * strings and bodies are never logged.
 */
#ifndef ACTLOG_SRV_HTTP_H
#define ACTLOG_SRV_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

struct http_server;
/* One request, owned by the layer; valid until its handler returns. */
struct http_req;

/*
 * A route handler, called on an MHD thread (several at once: handlers must be
 * thread-safe) after the whole body is in. It must either reply with exactly
 * one http_reply_*() and return 0, or return a negative errno without
 * replying: the layer then answers http_status_for_errno(err) with a generic
 * JSON error. Returning 0 without a reply gives a 500.
 */
typedef int (*http_handler_fn)(struct http_req *req, void *arg);

/*
 * The body gate (see anon_max_body above), called on an MHD thread with the
 * request's headers (http_req_header() and the other accessors work; there is
 * no body). 0: the request may send up to max_body. Nonzero: it may not;
 * after an http_reply_*() that reply is sent at once, else the body is capped
 * at anon_max_body. Must be thread-safe and quick (no body to wait for).
 */
typedef int (*http_gate_fn)(struct http_req *req, void *arg);

/*
 * A route: method ("GET", "POST", ...; a GET route also answers HEAD) and a
 * pattern of '/'-separated segments where a whole segment "{name}" is a path
 * parameter matching one non-empty segment. Routes are tried in table order;
 * the first that matches path and method wins. Strings must outlive the
 * server.
 */
struct http_route {
	const char *method;
	const char *pattern;
	http_handler_fn handler;
	void *arg;
};

#define HTTP_DEFAULT_THREADS 4
#define HTTP_MAX_THREADS 256
#define HTTP_DEFAULT_MAX_BODY (8u << 20)
#define HTTP_DEFAULT_MAX_INFLATED (64u << 20)
#define HTTP_DEFAULT_CONN_MEMORY (32u << 10)
#define HTTP_MIN_CONN_MEMORY (4u << 10)
#define HTTP_MAX_CONN_MEMORY (1u << 20)
#define HTTP_DEFAULT_ANON_MAX_BODY (16u << 10)
#define HTTP_DEFAULT_MAX_CONNS 1024
#define HTTP_DEFAULT_MAX_CONNS_PER_IP 128
#define HTTP_UNLIMITED (~0u) /* max_conns_per_ip: no per-address cap */
#define HTTP_DEFAULT_TIMEOUT_S 30
#define HTTP_DEFAULT_HEADER_TIMEOUT_S 10
#define HTTP_MAX_QUERY_ARGS 64
#define HTTP_MAX_TRUSTED_PROXIES 16 /* addresses in all */
#define HTTP_DEFAULT_STOP_MS 10000
#define HTTP_MAX_ROUTES 256
#define HTTP_MAX_SEGMENTS 16 /* per pattern; longer request paths are 404 */
#define HTTP_MAX_PARAMS 8    /* per pattern */
#define HTTP_MAX_HEADERS 16  /* extra response headers per request */
#define HTTP_MAX_TLS_FILE (1u << 20)

/* Server options. Zero means the default named after each field. */
struct http_opts {
	const char *listen;		 /* "127.0.0.1:8080", "[::]:443"; port 0 = ephemeral */
	unsigned threads;		 /* MHD thread pool size, 1..HTTP_MAX_THREADS */
	const char *tls_cert;		 /* PEM certificate chain path; with tls_key, or NULL */
	const char *tls_key;		 /* PEM private key path */
	size_t max_body;		 /* HTTP_DEFAULT_MAX_BODY */
	size_t anon_max_body;		 /* HTTP_DEFAULT_ANON_MAX_BODY; at most max_body */
	http_gate_fn gate;		 /* NULL: no gate, max_body for every request */
	void *gate_arg;			 /* gate's arg */
	size_t max_inflated;		 /* HTTP_DEFAULT_MAX_INFLATED */
	size_t conn_memory;		 /* HTTP_DEFAULT_CONN_MEMORY, [MIN, MAX]_CONN_MEMORY */
	unsigned max_conns;		 /* HTTP_DEFAULT_MAX_CONNS */
	unsigned max_conns_per_ip;	 /* HTTP_DEFAULT_MAX_CONNS_PER_IP; HTTP_UNLIMITED */
	unsigned timeout_s;		 /* idle connection timeout, HTTP_DEFAULT_TIMEOUT_S */
	unsigned header_timeout_s;	 /* HTTP_DEFAULT_HEADER_TIMEOUT_S */
	const char **trusted_proxies;	 /* each an address or a comma list */
	size_t n_trusted_proxies;	 /* entries in trusted_proxies */
	unsigned stop_timeout_ms;	 /* how long http_stop() waits, HTTP_DEFAULT_STOP_MS */
	const struct http_route *routes; /* must outlive the server */
	size_t n_routes;		 /* at most HTTP_MAX_ROUTES */
};

/*
 * Parse "A.B.C.D:PORT" or "[IPv6]:PORT" (numeric only, port 0..65535) into
 * *ss / *len. Pure. 0 or -EINVAL.
 */
int http_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/*
 * Parse s, numeric IPv4 or IPv6 addresses separated by commas (blanks around
 * each allowed), into out[*n ...), appending to the *n already there. Pure.
 * 0; -EINVAL an empty item or one that is not an address; -E2BIG more than
 * max in all.
 */
int http_parse_addr_list(const char *s, struct sockaddr_storage *out, size_t max, size_t *n);

/*
 * The client address an X-Forwarded-For value xff names: its last
 * comma-separated entry, blanks trimmed, an IPv4 or IPv6 address or
 * "[IPv6]", written in canonical form into out (INET6_ADDRSTRLEN). Pure.
 * 0 or -EINVAL (empty, or the last entry is not an address).
 */
int http_xff_client(const char *xff, char *out, size_t n);

/*
 * Bind, listen and start serving. On success *out owns the running server.
 * -EINVAL bad options (a trusted proxy that is not an address included) or
 * route pattern; -errno from socket/bind/listen
 * (e.g. -EADDRINUSE) or reading the TLS files (-EFBIG over
 * HTTP_MAX_TLS_FILE); -EOPNOTSUPP TLS asked but MHD lacks it; -ENOMEM;
 * -EIO when MHD refuses to start (unusable certificate or key, no threads).
 */
int http_start(const struct http_opts *o, struct http_server **out);

/* The bound TCP port (the real one when "ADDR:0" was asked). */
uint16_t http_port(const struct http_server *srv);

/*
 * Stop gracefully and free: stop accepting (MHD_quiesce_daemon), let the
 * requests in flight finish (their responses say Connection: close) for up
 * to stop_timeout_ms, and longer while a request is suspended (until it is
 * resumed), then MHD_stop_daemon closes whatever is left. NULL ok. Must not
 * be called from a handler, nor from the thread that resumes requests.
 */
void http_stop(struct http_server *srv);

/* --- request accessors (handler context; strings live as long as req) --- */

/* The request method as sent ("GET", ...). */
const char *http_req_method(const struct http_req *req);
/* The percent-decoded path, without the query string. */
const char *http_req_path(const struct http_req *req);
/* The value of path parameter {name}, or NULL when the route has none. */
const char *http_req_param(const struct http_req *req, const char *name);
/* The value of query argument name (the first, percent-decoded), or NULL
 * when absent or given without a value ("?name"). */
const char *http_req_query(const struct http_req *req, const char *name);
/* The value of request header name (the first; name is case-insensitive),
 * or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);
/* The client's numeric address ("127.0.0.1", "::1"): the peer's, or the
 * one its X-Forwarded-For names when the peer is a trusted proxy. */
const char *http_req_client(const struct http_req *req);
/*
 * The raw request body (as sent, possibly gzip) and its length; "" and 0
 * when there is none. Always NUL-terminated one byte past *len.
 */
const uint8_t *http_req_body(const struct http_req *req, size_t *len);
/*
 * The body with its Content-Encoding removed: gzip / x-gzip is inflated by
 * gz_decompress() (one gzip member, at most max_inflated bytes, never more
 * held in memory), no encoding or "identity" gives the raw body.
 * *out (NUL-terminated past *len) belongs to req. 0; -EFBIG inflated body
 * over the cap (answer 413); -EBADMSG truncated or corrupt gzip (answer
 * 400); -EOPNOTSUPP other encodings (answer 415); -ENOMEM.
 */
int http_req_body_gunzip(struct http_req *req, const uint8_t **out, size_t *len);
/*
 * The same for a body whose cap is below max_inflated (JSON bodies): a body
 * of more than max bytes, raw or inflated, is -EFBIG, and a gzip body is
 * never inflated further than that.
 */
int http_req_body_gunzip_max(struct http_req *req, size_t max, const uint8_t **out, size_t *len);

/* --- finishing a request on another thread --- */

/*
 * Detach req from its handler so that another thread replies: MHD stops
 * serving the connection (MHD_suspend_connection) until http_req_resume().
 * Call it from the handler only (its MHD thread), before handing req on;
 * after a 0 the handler returns 0 without replying and never touches req
 * again (its return value is then ignored). Until the resume, req and all
 * its accessors stay valid for the thread that holds it; the client is not
 * read from (a disconnect shows only after the resume) and MHD's idle
 * timeout does not run. 0; -EALREADY req has a reply or is suspended.
 */
int http_req_suspend(struct http_req *req);
/*
 * Give a suspended req back, from any thread, exactly once per successful
 * http_req_suspend(), after its one http_reply_*() (without one the layer
 * answers 500). MHD then queues the reply from the access callback it makes
 * for the resumed connection. req must not be used after this call.
 * http_stop() waits for every suspended request to be resumed (MHD must not
 * stop with suspended connections): resume in bounded time.
 */
void http_req_resume(struct http_req *req);

/* --- responses: at most one reply per request (-EALREADY otherwise) --- */

/*
 * Reply status with body printed as compact JSON (application/json). Takes
 * ownership of body in every case. 0; -ENOMEM (also for body == NULL, so
 * `return http_reply_json(req, 200, cJSON_CreateObject())` is safe);
 * -EINVAL status outside 100..599.
 */
int http_reply_json(struct http_req *req, int status, cJSON *body);
/* Reply status with {"error":"<printf message, at most 511 bytes>"}. 0 or -errno. */
int http_reply_error(struct http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reply status with a copy of buf[0..len) as content_type. 0 or -errno. */
int http_reply_bytes(struct http_req *req, int status, const char *content_type, const void *buf,
		     size_t len);
/*
 * Reply status with the size bytes of the file open on fd, from offset 0, as
 * content_type; MHD sends them from the file (sendfile without TLS), so the
 * body is never held in memory. Takes ownership of fd in every case (closed
 * once the response is sent or dropped). 0 or -errno.
 */
int http_reply_fd(struct http_req *req, int status, const char *content_type, int fd,
		  uint64_t size);
/*
 * A streamed body's producer: writes at most max (> 0) bytes of the body
 * at buf and returns how many (> 0), 0 at the end of the body, or a
 * negative errno: the status and headers are gone already, so the layer
 * then ends the response with an error (MHD closes the connection and the
 * client sees a cut body). Called on an MHD thread, one call at a time per
 * response.
 */
typedef ssize_t (*http_stream_fn)(void *ctx, char *buf, size_t max);
/*
 * Reply status with a body that fn produces while it is sent (chunked),
 * as content_type, so that a large answer is never held in memory. Takes
 * ownership of ctx in every case: done(ctx) (may be NULL) is called once
 * the response is sent or dropped, also when this call fails. 0 or -errno.
 */
int http_reply_stream(struct http_req *req, int status, const char *content_type, http_stream_fn fn,
		      void *ctx, void (*done)(void *ctx));
/* Reply status with no body (204, 304). 0 or -errno. */
int http_reply_empty(struct http_req *req, int status);
/*
 * 1 when inm, an If-None-Match value (a list such as "a", W/"b", or *),
 * names etag (quotes included, e.g. "\"abc\""); weak tags match by their
 * opaque part. 0 otherwise, also for NULL inm.
 */
int http_etag_match(const char *inm, const char *etag);
/*
 * Add a response header (ETag, Allow, Retry-After, Cache-Control, ...),
 * before or after the reply. Copies both strings. 0; -EINVAL a name that is
 * not a token, one the layer owns (Content-Length, Transfer-Encoding,
 * Connection), or a value with CR/LF or over 1024 bytes; -ENOSPC more than
 * HTTP_MAX_HEADERS; -ENOMEM.
 */
int http_set_header(struct http_req *req, const char *name, const char *value);
/*
 * The status for a negative errno: EFBIG 413, EBADMSG/EINVAL/EPROTO 400,
 * EOPNOTSUPP 415, ENOENT 404, EACCES/EPERM 403, EAGAIN 429, ENOMEM 503,
 * anything else 500.
 */
int http_status_for_errno(int err);

#endif /* ACTLOG_SRV_HTTP_H */
