// SPDX-License-Identifier: BSD-2-Clause
/*
 * http.c - the HTTP layer on libmicrohttpd: listen socket, daemon, route
 * table, body accumulation with caps, replies, access log, graceful stop,
 * See http.h for the contracts. (The token-bucket rate limiter the routes
 * use is core/ratelimit.c.)
 *
 * MHD calls on_access() several times per request:
 *   1. headers parsed, *upload_data_size == 0: we route, check
 *      Content-Length and return without a response (except the early 413);
 *   2. zero or more times with body bytes: we store or drop them, and always
 *      consume all of them (*upload_data_size = 0);
 *   3. *upload_data_size == 0 again, body complete: the handler runs and the
 *      response is queued here, never earlier, or MHD would close a
 *      keep-alive connection whose body it has not read.
 * MHD refuses MHD_queue_response() while the body is being received, so a
 * chunked body that passes max_body can only be answered in step 3.
 * A handler may instead suspend the request in step 3 (http_req_suspend):
 * MHD then leaves the connection alone until another thread has replied and
 * called http_req_resume(), and calls on_access() once more, where the
 * reply is queued (MHD accepts a response only from that callback).
 *
 * The request object is created in the URI-log callback (first thing MHD
 * knows about a request) and freed in the completion callback, which MHD
 * calls for every request it told us about, also those it refused itself
 * (431) or that were aborted; that callback writes the access line.
 *
 * Connections: the accept-policy callback applies the per-address cap; the
 * connection-notify callback keeps a record of every open connection (its
 * socket, address, header deadline) in a list that a watchdog thread walks
 * twice a second, shutting down the sockets of connections past their
 * header deadline. MHD calls the "closed" notification before it closes the
 * socket, and the record leaves the list there under the list lock, so the
 * watchdog never touches a descriptor MHD has closed (and maybe reused).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "gz.h"
#include "http/http.h"
#include "log.h"
#include "util.h"

#define BODY_MIN_ALLOC 16384u
#define ERR_MSG_MAX 512
#define HDR_VALUE_MAX 1024
#define LOG_PATH_MAX 256
#define METHOD_MAX 16
#define ALLOW_MAX 128
#define WATCHDOG_MS 500
#define ARG_COST 512 /* bytes of conn_memory per query argument allowed */

/* One open connection (socket context of MHD's connection notifications). */
struct conn_rec {
	struct conn_rec *prev, *next;	   /* in http_server.conns, under conn_lock */
	int fd;				   /* the socket, for the watchdog; -1 unknown */
	uint8_t key[16];		   /* per-address key (IPv6 by its /64) */
	bool trusted;			   /* the peer is a trusted proxy */
	bool logged;			   /* a header_timeout line was written (MHD thread) */
	atomic_uint_least64_t deadline_ms; /* headers due (monotonic ms); 0: none */
	atomic_bool timed_out;		   /* shut down by the watchdog */
	uint64_t t0_ns;
	char client[INET6_ADDRSTRLEN];
};

struct route {
	const struct http_route *r;
	char *buf;			      /* pattern copy, split at '/' */
	unsigned nseg;			      /* number of segments */
	const char *seg[HTTP_MAX_SEGMENTS];   /* literal, or param name */
	signed char param[HTTP_MAX_SEGMENTS]; /* param index, -1 for literals */
	unsigned nparam;
};

struct http_server {
	struct MHD_Daemon *daemon;
	int lfd;       /* until handed to MHD */
	ino_t lfd_ino; /* identifies lfd after a failed MHD start */
	uint16_t port;
	sa_family_t family;
	size_t max_body;
	size_t anon_max_body;
	http_gate_fn gate;
	void *gate_arg;
	size_t max_inflated;
	size_t max_target; /* request target bytes */
	unsigned max_args; /* query arguments */
	unsigned per_ip;   /* connections per address; HTTP_UNLIMITED */
	uint64_t header_ms;
	uint64_t keepalive_ms;
	struct sockaddr_storage proxy[HTTP_MAX_TRUSTED_PROXIES];
	size_t n_proxy;
	unsigned stop_timeout_ms;
	struct route *routes;
	size_t n_routes;
	char *tls_cert;
	char *tls_key;
	size_t tls_key_len;
	atomic_bool stopping;
	pthread_mutex_t lock; /* guards active and suspended */
	pthread_cond_t idle;  /* signalled when active or suspended drops to 0 */
	bool sync_init;
	unsigned long active;	 /* requests between URI log and completion */
	unsigned long suspended; /* requests between suspend and resume */
	/* the open connections (guarded by conn_lock, with wd_stop) */
	pthread_mutex_t conn_lock;
	pthread_cond_t wd_wake; /* wakes the watchdog to stop */
	struct conn_rec *conns;
	bool wd_stop;
	bool wd_running;
	pthread_t wd;
};

enum req_phase {
	REQ_NEW,       /* no access callback yet */
	REQ_BODY,      /* headers seen, reading the body (and running the handler) */
	REQ_SUSPENDED, /* handed to another thread, which replies and resumes */
	REQ_DONE,      /* response queued */
};

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct conn_rec *cr; /* its connection's record, or NULL */
	enum req_phase phase;
	uint64_t t0_ns;
	char client[INET6_ADDRSTRLEN];
	char method[METHOD_MAX]; /* for the log; "-" until known */
	char *log_path;		 /* raw path before '?', for the log */
	char *path;		 /* decoded path */
	char *segbuf;		 /* copy of path split at '/' */
	const char *seg[HTTP_MAX_SEGMENTS];
	unsigned nseg;
	const struct route *route;
	const char *pval[HTTP_MAX_PARAMS];
	int err_status; /* answer decided before the handler (404, 405, 413, 414) */
	char allow[ALLOW_MAX];
	size_t body_max; /* this request's body cap */
	/* 414: request target over its caps */
	bool target_refused;
	/* the proxy, when client came from X-Forwarded-For */
	char peer[INET6_ADDRSTRLEN];
	uint8_t *body;
	size_t body_len, body_cap;
	size_t dropped; /* body bytes read but not stored */
	uint8_t *inflated;
	size_t inflated_len;
	struct MHD_Response *resp;
	int status;
	size_t resp_len;
	unsigned nhdr;
	char *hdr_name[HTTP_MAX_HEADERS];
	char *hdr_value[HTTP_MAX_HEADERS];
};

/* ------------------------------------------------------------------ */
/* listen address                                                      */

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int http_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *hs;
	size_t hl;
	uint16_t port;

	if (!s)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hl = (size_t)(end - hs);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hs = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host) || parse_port(colon + 1, &port) < 0)
		return -EINVAL;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
	}
	return 0;
}

/* One numeric IPv4 or IPv6 address, s[0..len), into *ss. 0 or -EINVAL. */
static int parse_addr(const char *s, size_t len, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int http_parse_addr_list(const char *s, struct sockaddr_storage *out, size_t max, size_t *n)
{
	if (!s)
		return -EINVAL;
	for (;;) {
		size_t l;

		s += strspn(s, " \t");
		l = strcspn(s, ",");
		while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		if (*n >= max)
			return -E2BIG;
		if (parse_addr(s, l, &out[*n]) < 0)
			return -EINVAL;
		(*n)++;
		s += strcspn(s, ",");
		if (!*s)
			return 0;
		s++;
	}
}

/* The numeric form of sa's address into out (INET6_ADDRSTRLEN); "-" if none. */
static void addr_str(const struct sockaddr *sa, char *out, size_t n)
{
	snprintf(out, n, "-");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)n);
}

int http_xff_client(const char *xff, char *out, size_t n)
{
	struct sockaddr_storage ss;
	const char *last, *end;

	if (!xff)
		return -EINVAL;
	last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	last += strspn(last, " \t");
	end = last + strlen(last);
	while (end > last && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - last >= 2 && *last == '[' && end[-1] == ']') {
		last++;
		end--;
		if (memchr(last, '.', (size_t)(end - last)) &&
		    !memchr(last, ':', (size_t)(end - last)))
			return -EINVAL; /* brackets are for IPv6 only */
	}
	if (parse_addr(last, (size_t)(end - last), &ss) < 0)
		return -EINVAL;
	addr_str((const struct sockaddr *)&ss, out, n);
	return 0;
}

/* Whether sa's address is one of the trusted proxies. */
static bool addr_trusted(const struct http_server *s, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; sa && i < s->n_proxy; i++) {
		const struct sockaddr_storage *p = &s->proxy[i];

		if (p->ss_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET &&
		    ((const struct sockaddr_in *)p)->sin_addr.s_addr ==
			((const struct sockaddr_in *)sa)->sin_addr.s_addr)
			return true;
		if (sa->sa_family == AF_INET6 &&
		    !memcmp(&((const struct sockaddr_in6 *)p)->sin6_addr,
			    &((const struct sockaddr_in6 *)sa)->sin6_addr, sizeof(struct in6_addr)))
			return true;
	}
	return false;
}

/*
 * The per-address key of sa: an IPv4 address whole (as ::ffff:a.b.c.d), an
 * IPv6 address by its /64 prefix (one host usually holds a whole /64).
 * 0, or -EAFNOSUPPORT for other families.
 */
static int addr_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 8);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* ------------------------------------------------------------------ */
/* routes                                                              */

/* Split s (modified) after its leading '/' into at most max segments. */
static int split_path(char *s, const char **seg, unsigned max, unsigned *n)
{
	unsigned i = 0;

	if (*s != '/')
		return -EINVAL;
	s++;
	for (;;) {
		char *slash = strchr(s, '/');

		if (i == max)
			return -E2BIG;
		seg[i++] = s;
		if (!slash)
			break;
		*slash = '\0';
		s = slash + 1;
	}
	*n = i;
	return 0;
}

static bool is_tchar(int c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c);
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

static int route_compile(struct route *rt, const struct http_route *r)
{
	unsigned i, j;

	if (!r->method || !is_token(r->method) || strlen(r->method) >= METHOD_MAX || !r->pattern ||
	    !r->handler)
		return -EINVAL;
	rt->r = r;
	rt->buf = strdup(r->pattern);
	if (!rt->buf)
		return -ENOMEM;
	if (split_path(rt->buf, rt->seg, HTTP_MAX_SEGMENTS, &rt->nseg) < 0)
		return -EINVAL;
	for (i = 0; i < rt->nseg; i++) {
		char *s = (char *)rt->seg[i];
		size_t l = strlen(s);

		rt->param[i] = -1;
		if (strpbrk(s, "{}") == NULL)
			continue;
		if (l < 3 || s[0] != '{' || s[l - 1] != '}' || rt->nparam == HTTP_MAX_PARAMS)
			return -EINVAL;
		s[l - 1] = '\0';
		rt->seg[i] = ++s;
		for (; *s; s++)
			if (!isalnum((unsigned char)*s) && *s != '_')
				return -EINVAL;
		for (j = 0; j < i; j++)
			if (rt->param[j] >= 0 && strcmp(rt->seg[j], rt->seg[i]) == 0)
				return -EINVAL;
		rt->param[i] = (signed char)rt->nparam++;
	}
	return 0;
}

static bool route_match_path(const struct route *rt, const struct http_req *req)
{
	unsigned i;

	if (rt->nseg != req->nseg)
		return false;
	for (i = 0; i < rt->nseg; i++) {
		if (rt->param[i] >= 0) {
			if (req->seg[i][0] == '\0')
				return false;
		} else if (strcmp(rt->seg[i], req->seg[i]) != 0) {
			return false;
		}
	}
	return true;
}

static bool method_matches(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Append m to the comma-separated list in req->allow unless it is there. */
static void allow_add(struct http_req *req, const char *m)
{
	size_t ml = strlen(m), al = strlen(req->allow);
	const char *p = req->allow;

	while (*p) {
		size_t l = strcspn(p, ",");

		if (l == ml && strncmp(p, m, ml) == 0)
			return;
		p += l;
		while (*p == ',' || *p == ' ')
			p++;
	}
	if (al + ml + 3 > sizeof(req->allow))
		return;
	snprintf(req->allow + al, sizeof(req->allow) - al, "%s%s", al ? ", " : "", m);
}

/*
 * Route req (path and method already set): req->route and its parameters, or
 * req->err_status 404 / 405 (with req->allow). 0 or -ENOMEM.
 */
static int req_route(struct http_req *req, const char *method)
{
	const struct http_server *s = req->srv;
	bool path_known = false;
	size_t i;

	req->segbuf = strdup(req->path);
	if (!req->segbuf)
		return -ENOMEM;
	if (split_path(req->segbuf, req->seg, HTTP_MAX_SEGMENTS, &req->nseg) < 0) {
		req->err_status = MHD_HTTP_NOT_FOUND;
		return 0;
	}
	for (i = 0; i < s->n_routes; i++) {
		const struct route *rt = &s->routes[i];
		unsigned j;

		if (!route_match_path(rt, req))
			continue;
		if (!method_matches(rt->r->method, method)) {
			path_known = true;
			allow_add(req, rt->r->method);
			if (strcmp(rt->r->method, "GET") == 0)
				allow_add(req, "HEAD");
			continue;
		}
		req->route = rt;
		for (j = 0; j < rt->nseg; j++)
			if (rt->param[j] >= 0)
				req->pval[rt->param[j]] = req->seg[j];
		return 0;
	}
	req->err_status = path_known ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND;
	return 0;
}

/* ------------------------------------------------------------------ */
/* request life                                                        */

static void server_active_add(struct http_server *s, int d)
{
	pthread_mutex_lock(&s->lock);
	if (d > 0)
		s->active++;
	else if (--s->active == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

static void req_free(struct http_req *req)
{
	unsigned i;

	if (!req)
		return;
	if (req->resp)
		MHD_destroy_response(req->resp);
	for (i = 0; i < req->nhdr; i++) {
		free(req->hdr_name[i]);
		free(req->hdr_value[i]);
	}
	free(req->inflated);
	free(req->body);
	free(req->segbuf);
	free(req->path);
	free(req->log_path);
	free(req);
}

/* A new request on conn; uri is the raw request target. NULL on ENOMEM. */
static struct http_req *req_new(struct http_server *s, struct MHD_Connection *conn, const char *uri)
{
	const union MHD_ConnectionInfo *ci;
	struct http_req *req;

	req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	req->log_path = strndup(uri ? uri : "", uri ? strcspn(uri, "?") : 0);
	if (!req->log_path) {
		free(req);
		return NULL;
	}
	req->srv = s;
	req->conn = conn;
	req->t0_ns = clock_ns(CLOCK_MONOTONIC);
	req->body_max = s->max_body;
	strcpy(req->method, "-");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	req->cr = ci ? ci->socket_context : NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	addr_str(ci ? ci->client_addr : NULL, req->client, sizeof(req->client));
	server_active_add(s, 1);
	return req;
}

/*
 * Whether the raw request target uri passes the caps (length, number of
 * query arguments). When it does not, its query is cut to nothing in place:
 * MHD calls the URI-log callback before it parses the query into the
 * connection's memory pool, from the same buffer, and a pool that runs out
 * there ends the connection without an answer or a completion callback.
 */
static bool target_ok(const struct http_server *s, const char *uri)
{
	const char *q = strchr(uri, '?');
	unsigned args = 0;

	if (q && q[1]) {
		args = 1;
		for (const char *p = q + 1; *p && args <= s->max_args; p++)
			args += *p == '&';
	}
	if (strlen(uri) <= s->max_target && args <= s->max_args)
		return true;
	if (q && q[1])
		((char *)q)[1] = '\0'; /* MHD's own read buffer (see above) */
	return false;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	bool ok = uri ? target_ok(cls, uri) : true;
	struct http_req *req = req_new(cls, conn, uri);

	if (req)
		req->target_refused = !ok;
	return req;
}

static const char *term_name(enum MHD_RequestTerminationCode t)
{
	switch (t) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return NULL;
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR:
		return "read_error";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client_abort";
	default:
		return "error";
	}
}

static void access_log(const struct http_req *req, const char *term)
{
	char path[LOG_PATH_MAX], method[METHOD_MAX];
	uint64_t ms = (clock_ns(CLOCK_MONOTONIC) - req->t0_ns) / NSEC_PER_MSEC;

	if (log_level() < LOG_LVL_INFO)
		return;
	utf8_clean(path, sizeof(path), req->log_path, strlen(req->log_path));
	utf8_clean(method, sizeof(method), req->method, strlen(req->method));
	for (char *p = path; *p; p++)
		if (*p == ' ')
			*p = '?';
	log_info("access method=%s path=%s status=%d bytes=%zu ms=%llu client=%s%s%s%s%s", method,
		 path[0] ? path : "-", req->status, req->resp_len, (unsigned long long)ms,
		 req->client, req->peer[0] ? " proxy=" : "", req->peer, term ? " term=" : "",
		 term ? term : "");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode t)
{
	struct http_server *s = cls;
	struct http_req *req = *con_cls;
	const char *term = term_name(t);
	struct conn_rec *cr;

	(void)conn;
	if (!req)
		return;
	*con_cls = NULL;
	cr = req->cr;
	if (cr && atomic_load(&cr->timed_out)) {
		term = "header_timeout";
		cr->logged = true;
	}
	/* a kept-alive connection: the next request's headers are due */
	if (cr)
		atomic_store(&cr->deadline_ms,
			     clock_ns(CLOCK_MONOTONIC) / NSEC_PER_MSEC + s->keepalive_ms);
	access_log(req, term);
	req_free(req);
	server_active_add(s, -1);
}

/* ------------------------------------------------------------------ */
/* connections: per-address cap, header deadline                       */

/* MHD's accept policy: refuse a connection past its address's cap. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_server *s = cls;
	const struct conn_rec *c;
	uint8_t key[16];
	unsigned n = 0;

	(void)addrlen;
	if (s->per_ip == HTTP_UNLIMITED || addr_trusted(s, addr) || addr_key(addr, key) < 0)
		return MHD_YES;
	pthread_mutex_lock(&s->conn_lock);
	for (c = s->conns; c && n < s->per_ip; c = c->next)
		n += !c->trusted && !memcmp(c->key, key, sizeof(key));
	pthread_mutex_unlock(&s->conn_lock);
	return n < s->per_ip ? MHD_YES : MHD_NO;
}

/* The line of a connection closed by the header deadline before any request. */
static void conn_log_timeout(const struct conn_rec *c)
{
	uint64_t ms = (clock_ns(CLOCK_MONOTONIC) - c->t0_ns) / NSEC_PER_MSEC;

	log_info("access method=- path=- status=0 bytes=0 ms=%llu client=%s term=header_timeout",
		 (unsigned long long)ms, c->client);
}

/*
 * MHD's connection notifications: a record for every open connection, in
 * the list from "started" to "closed" (which MHD calls before it closes the
 * socket). Without memory for the record, the connection is shut down.
 */
static void on_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
		    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn_rec *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = calloc(1, sizeof(*c));
		if (!c) {
			if (ci)
				shutdown(ci->connect_fd, SHUT_RDWR);
			return;
		}
		c->fd = ci ? ci->connect_fd : -1;
		c->t0_ns = clock_ns(CLOCK_MONOTONIC);
		atomic_init(&c->deadline_ms, c->t0_ns / NSEC_PER_MSEC + s->header_ms);
		atomic_init(&c->timed_out, false);
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		addr_str(ci ? ci->client_addr : NULL, c->client, sizeof(c->client));
		if (ci && addr_key(ci->client_addr, c->key) == 0)
			c->trusted = addr_trusted(s, ci->client_addr);
		pthread_mutex_lock(&s->conn_lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->conn_lock);
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	*socket_context = NULL;
	pthread_mutex_lock(&s->conn_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->conn_lock);
	if (atomic_load(&c->timed_out) && !c->logged)
		conn_log_timeout(c);
	free(c);
}

/* The watchdog: shut down connections whose headers are overdue. */
static void *watchdog_main(void *arg)
{
	struct http_server *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->conn_lock);
	while (!s->wd_stop) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC) / NSEC_PER_MSEC;

		for (struct conn_rec *c = s->conns; c; c = c->next) {
			uint64_t d = atomic_load(&c->deadline_ms);

			/* MHD sees the end of the stream and closes the connection */
			if (d && now >= d && c->fd >= 0 && !atomic_exchange(&c->timed_out, true))
				shutdown(c->fd, SHUT_RDWR);
		}
		mono_deadline_ms(&ts, WATCHDOG_MS);
		pthread_cond_timedwait(&s->wd_wake, &s->conn_lock, &ts);
	}
	pthread_mutex_unlock(&s->conn_lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* responses                                                           */

static int reply_set(struct http_req *req, int status, struct MHD_Response *resp, size_t len)
{
	if (!resp)
		return -ENOMEM;
	req->resp = resp;
	req->status = status;
	req->resp_len = len;
	return 0;
}

static int reply_check(const struct http_req *req, int status)
{
	if (req->resp || req->phase == REQ_DONE)
		return -EALREADY;
	if (status < 100 || status > 599)
		return -EINVAL;
	return 0;
}

int http_reply_bytes(struct http_req *req, int status, const char *content_type, const void *buf,
		     size_t len)
{
	struct MHD_Response *r;
	int err = reply_check(req, status);

	if (err < 0)
		return err;
	if (!buf && len)
		return -EINVAL;
	r = MHD_create_response_from_buffer(len, (void *)(buf ? buf : ""), MHD_RESPMEM_MUST_COPY);
	if (!r)
		return -ENOMEM;
	if (content_type &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES) {
		MHD_destroy_response(r);
		return -EINVAL;
	}
	return reply_set(req, status, r, len);
}

int http_reply_fd(struct http_req *req, int status, const char *content_type, int fd, uint64_t size)
{
	struct MHD_Response *r;
	int err = reply_check(req, status);

	if (fd < 0)
		return err < 0 ? err : -EBADF;
	if (err < 0) {
		close(fd);
		return err;
	}
	r = MHD_create_response_from_fd64(size, fd); /* closes fd when destroyed */
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	if (content_type &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES) {
		MHD_destroy_response(r);
		return -EINVAL;
	}
	return reply_set(req, status, r, (size_t)size);
}

struct stream {
	http_stream_fn fn;
	void *ctx;
	void (*done)(void *ctx);
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	ssize_t n;

	(void)pos;
	n = st->fn(st->ctx, buf, max);
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	if (st->done)
		st->done(st->ctx);
	free(st);
}

int http_reply_stream(struct http_req *req, int status, const char *content_type, http_stream_fn fn,
		      void *ctx, void (*done)(void *ctx))
{
	struct MHD_Response *r;
	struct stream *st;
	int err = reply_check(req, status);

	if (!err && !fn)
		err = -EINVAL;
	st = err ? NULL : malloc(sizeof(*st));
	if (!st) {
		if (done)
			done(ctx);
		return err ? err : -ENOMEM;
	}
	*st = (struct stream){fn, ctx, done};
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st,
					      stream_free);
	if (!r) {
		stream_free(st);
		return -ENOMEM;
	}
	if (content_type &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES) {
		MHD_destroy_response(r);
		return -EINVAL;
	}
	return reply_set(req, status, r, 0);
}

int http_etag_match(const char *inm, const char *etag)
{
	size_t el = strlen(etag), n;

	while (inm && *inm) {
		while (*inm == ' ' || *inm == '\t' || *inm == ',')
			inm++;
		if (!strncmp(inm, "W/", 2))
			inm += 2;
		n = strcspn(inm, ", \t");
		if ((n == 1 && *inm == '*') || (n == el && !memcmp(inm, etag, el)))
			return 1;
		inm += n;
	}
	return 0;
}

int http_reply_empty(struct http_req *req, int status)
{
	return http_reply_bytes(req, status, NULL, NULL, 0);
}

int http_reply_json(struct http_req *req, int status, cJSON *body)
{
	struct MHD_Response *r;
	char *txt;
	size_t len;
	int err = reply_check(req, status);

	if (err < 0 || !body) {
		cJSON_Delete(body);
		return err < 0 ? err : -ENOMEM;
	}
	txt = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (!txt)
		return -ENOMEM;
	len = strlen(txt);
	r = MHD_create_response_from_buffer_with_free_callback(len, txt, cJSON_free);
	if (!r) {
		cJSON_free(txt);
		return -ENOMEM;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") !=
	    MHD_YES) {
		MHD_destroy_response(r);
		return -ENOMEM;
	}
	return reply_set(req, status, r, len);
}

static int reply_verror(struct http_req *req, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int reply_verror(struct http_req *req, int status, const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX], clean[ERR_MSG_MAX];
	cJSON *o;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	utf8_clean(clean, sizeof(clean), msg, strlen(msg));
	o = cJSON_CreateObject();
	if (o && !cJSON_AddStringToObject(o, "error", clean)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return http_reply_json(req, status, o);
}

int http_reply_error(struct http_req *req, int status, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = reply_verror(req, status, fmt, ap);
	va_end(ap);
	return err;
}

int http_set_header(struct http_req *req, const char *name, const char *value)
{
	char *n, *v;

	if (!name || !value || !is_token(name) || strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Transfer-Encoding") == 0 || strcasecmp(name, "Connection") == 0 ||
	    strnlen(value, HDR_VALUE_MAX + 1) > HDR_VALUE_MAX || strpbrk(value, "\r\n"))
		return -EINVAL;
	if (req->nhdr == HTTP_MAX_HEADERS)
		return -ENOSPC;
	n = strdup(name);
	v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	req->hdr_name[req->nhdr] = n;
	req->hdr_value[req->nhdr++] = v;
	return 0;
}

int http_status_for_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case EFBIG:
		return 413;
	case EBADMSG:
	case EINVAL:
	case EPROTO:
		return 400;
	case EOPNOTSUPP:
		return 415;
	case ENOENT:
		return 404;
	case EACCES:
	case EPERM:
		return 403;
	case EAGAIN:
		return 429;
	case ENOMEM:
		return 503;
	default:
		return 500;
	}
}

static const char *status_message(int status)
{
	switch (status) {
	case 400:
		return "bad request";
	case 403:
		return "forbidden";
	case 404:
		return "not found";
	case 405:
		return "method not allowed";
	case 413:
		return "request body too large";
	case 414:
		return "request target too long";
	case 415:
		return "unsupported content encoding";
	case 429:
		return "too many requests";
	case 503:
		return "out of memory";
	default:
		return "internal error";
	}
}

/* Queue req's response (adding its extra headers) and give it to MHD. */
static enum MHD_Result req_queue(struct http_req *req)
{
	struct MHD_Response *r = req->resp;
	enum MHD_Result ret = MHD_YES;
	unsigned i;

	req->resp = NULL;
	req->phase = REQ_DONE;
	for (i = 0; i < req->nhdr && ret == MHD_YES; i++)
		ret = MHD_add_response_header(r, req->hdr_name[i], req->hdr_value[i]);
	if (ret == MHD_YES && atomic_load(&req->srv->stopping))
		ret = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (ret == MHD_YES)
		ret = MHD_queue_response(req->conn, (unsigned)req->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Answer req with its pre-decided error (404, 405, 413, 414). */
static int reply_decided(struct http_req *req)
{
	const struct http_server *s = req->srv;
	int err;

	if (req->err_status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		err = http_set_header(req, MHD_HTTP_HEADER_ALLOW, req->allow);
		if (err < 0)
			return err;
	}
	if (req->err_status == MHD_HTTP_CONTENT_TOO_LARGE)
		return http_reply_error(
		    req, req->err_status, "request body too large (limit %zu bytes%s)",
		    req->body_max,
		    req->body_max < s->max_body ? " without a valid bearer token" : "");
	if (req->err_status == MHD_HTTP_URI_TOO_LONG)
		return http_reply_error(req, req->err_status,
					"request target too long (limits: %zu bytes, %u query "
					"arguments)",
					s->max_target, s->max_args);
	return http_reply_error(req, req->err_status, "%s", status_message(req->err_status));
}

/* Body complete: run the handler (or the decided error) and queue. */
static enum MHD_Result req_finish(struct http_req *req)
{
	int err;

	if (req->err_status) {
		reply_decided(req);
	} else {
		err = req->route->r->handler(req, req->route->r->arg);
		/* another thread owns req now: it replies and resumes */
		if (req->phase == REQ_SUSPENDED)
			return MHD_YES;
		if (err >= 0 && !req->resp)
			err = -EPROTO; /* the handler forgot to reply */
		if (err < 0 && !req->resp) {
			int st = err == -EPROTO ? 500 : http_status_for_errno(err);

			/* headers the handler set (Retry-After) stay */
			http_reply_error(req, st, "%s", status_message(st));
		}
	}
	if (!req->resp)
		return MHD_NO; /* out of memory: MHD closes the connection */
	return req_queue(req);
}

/* The access callback after http_req_resume(): queue the reply made. */
static enum MHD_Result req_resumed(struct http_req *req)
{
	if (!req->resp)
		http_reply_error(req, 500, "%s", status_message(500));
	if (!req->resp)
		return MHD_NO;
	return req_queue(req);
}

int http_req_suspend(struct http_req *req)
{
	struct http_server *s = req->srv;

	if (req->resp || req->phase != REQ_BODY || req->err_status)
		return -EALREADY;
	pthread_mutex_lock(&s->lock);
	s->suspended++;
	pthread_mutex_unlock(&s->lock);
	req->phase = REQ_SUSPENDED;
	MHD_suspend_connection(req->conn);
	return 0;
}

void http_req_resume(struct http_req *req)
{
	struct http_server *s = req->srv;

	/* MHD may complete and free req as soon as this returns */
	MHD_resume_connection(req->conn);
	pthread_mutex_lock(&s->lock);
	if (--s->suspended == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

/* MHD_get_connection_values() callback: keep the last X-Forwarded-For. */
static enum MHD_Result xff_last(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	(void)kind;
	if (key && value && strcasecmp(key, "X-Forwarded-For") == 0)
		*(const char **)cls = value;
	return MHD_YES;
}

/* The client of a request whose peer is a trusted proxy (see http.h). */
static void req_client_from_proxy(struct http_req *req)
{
	const union MHD_ConnectionInfo *ci;
	const char *xff = NULL;
	char client[INET6_ADDRSTRLEN];

	ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !addr_trusted(req->srv, ci->client_addr))
		return;
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, xff_last, &xff);
	if (!xff || http_xff_client(xff, client, sizeof(client)) < 0)
		return;
	memcpy(req->peer, req->client, sizeof(req->peer));
	memcpy(req->client, client, sizeof(req->client));
}

/*
 * The body cap of a routed request (see anon_max_body in http.h): the gate
 * decides when the request may carry more than anon_max_body. 1 when the
 * gate has replied (queue that reply now), else 0.
 */
static int req_body_cap(struct http_req *req, const char *cl)
{
	struct http_server *s = req->srv;
	bool big;

	if (!s->gate)
		return 0;
	req->body_max = s->anon_max_body;
	if (req->err_status)
		return 0; /* 404, 405: drained within the smaller cap */
	if (cl) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(cl, &end, 10);
		big = errno || end == cl || v > s->anon_max_body;
	} else {
		big = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						  MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
	}
	if (!big)
		return 0;
	if (s->gate(req, s->gate_arg) == 0) {
		req->body_max = s->max_body;
		return 0;
	}
	return req->resp ? 1 : 0;
}

/* First callback: method, path, route, client, body cap, Content-Length. */
static enum MHD_Result req_begin(struct http_req *req, const char *url, const char *method)
{
	const char *cl;

	snprintf(req->method, sizeof(req->method), "%s", method);
	if (req->cr)
		atomic_store(&req->cr->deadline_ms, 0); /* the headers are in */
	req->path = strdup(url);
	if (!req->path)
		return MHD_NO;
	req->phase = REQ_BODY;
	if (req->srv->n_proxy)
		req_client_from_proxy(req);
	if (req->target_refused) {
		/* before routing: the query is gone; the body (if any) is never read */
		req->err_status = MHD_HTTP_URI_TOO_LONG;
		if (reply_decided(req) < 0)
			return MHD_NO;
		return req_queue(req);
	}
	if (req_route(req, method) < 0)
		return MHD_NO;
	cl =
	    MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (req_body_cap(req, cl))
		return req_queue(req); /* the gate's answer, before the body */
	if (cl) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(cl, &end, 10);
		/* MHD has validated the value; treat anything odd as too large */
		if (errno || end == cl || v > req->body_max) {
			/*
			 * Too large: answer now, before a byte of the body is read.
			 * MHD sends no "100 Continue" and closes the connection
			 * after this response instead of reading the body.
			 */
			req->err_status = MHD_HTTP_CONTENT_TOO_LARGE;
			if (reply_decided(req) < 0)
				return MHD_NO;
			return req_queue(req);
		}
	}
	return MHD_YES;
}

/* Body bytes: store them up to the body cap, drop the rest (bounded). */
static int req_body(struct http_req *req, const char *data, size_t n)
{
	size_t max = req->body_max;

	if (!req->err_status && n > max - req->body_len) {
		req->err_status = MHD_HTTP_CONTENT_TOO_LARGE;
		req->dropped = req->body_len;
		free(req->body);
		req->body = NULL;
		req->body_len = req->body_cap = 0;
	}
	if (req->err_status) {
		/* answer after the body, but never read more than 2 * the cap */
		if (n > 2 * max - req->dropped)
			return -EFBIG;
		req->dropped += n;
		return 0;
	}
	if (req->body_len + n + 1 > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : BODY_MIN_ALLOC;
		uint8_t *nb;

		while (cap < req->body_len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		nb = realloc(req->body, cap);
		if (!nb)
			return -ENOMEM;
		req->body = nb;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	req->body[req->body_len] = '\0';
	return 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_req *req = *con_cls;

	(void)version;
	if (!req) {
		/* the URI log callback ran out of memory; try once more */
		req = req_new(s, conn, url);
		if (!req)
			return MHD_NO;
		*con_cls = req;
	}
	if (req->phase == REQ_NEW)
		return req_begin(req, url, method);
	if (req->phase == REQ_DONE)
		return MHD_YES;
	if (req->phase == REQ_SUSPENDED)
		return req_resumed(req);
	if (*upload_data_size) {
		int err = req_body(req, upload_data, *upload_data_size);

		*upload_data_size = 0;
		return err < 0 ? MHD_NO : MHD_YES;
	}
	return req_finish(req);
}

/* ------------------------------------------------------------------ */
/* request accessors                                                   */

const char *http_req_method(const struct http_req *req)
{
	return req->method;
}

const char *http_req_path(const struct http_req *req)
{
	return req->path;
}

const char *http_req_param(const struct http_req *req, const char *name)
{
	const struct route *rt = req->route;
	unsigned i;

	if (!rt || !name)
		return NULL;
	for (i = 0; i < rt->nseg; i++)
		if (rt->param[i] >= 0 && strcmp(rt->seg[i], name) == 0)
			return req->pval[rt->param[i]];
	return NULL;
}

const char *http_req_query(const struct http_req *req, const char *name)
{
	return name ? MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

const char *http_req_header(const struct http_req *req, const char *name)
{
	return name ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *http_req_client(const struct http_req *req)
{
	return req->client;
}

const uint8_t *http_req_body(const struct http_req *req, size_t *len)
{
	*len = req->body_len;
	return req->body ? req->body : (const uint8_t *)"";
}

int http_req_body_gunzip_max(struct http_req *req, size_t max, const uint8_t **out, size_t *len)
{
	const char *enc = http_req_header(req, MHD_HTTP_HEADER_CONTENT_ENCODING);
	size_t produced, cap = max < req->srv->max_inflated ? max : req->srv->max_inflated;
	int err;

	*out = NULL;
	*len = 0;
	if (!enc || !*enc || strcasecmp(enc, "identity") == 0) {
		if (req->body_len > max)
			return -EFBIG;
		*out = http_req_body(req, len);
		return 0;
	}
	if (strcasecmp(enc, "gzip") != 0 && strcasecmp(enc, "x-gzip") != 0)
		return -EOPNOTSUPP;
	if (!req->inflated) {
		err = gz_decompress(req->body, req->body_len, cap, &req->inflated, &produced);
		if (err < 0)
			return err;
		req->inflated_len = produced;
	}
	if (req->inflated_len > cap)
		return -EFBIG;
	*out = req->inflated;
	*len = req->inflated_len;
	return 0;
}

int http_req_body_gunzip(struct http_req *req, const uint8_t **out, size_t *len)
{
	return http_req_body_gunzip_max(req, SIZE_MAX, out, len);
}

/* ------------------------------------------------------------------ */
/* server                                                              */

static int read_tls(const char *path, char **out, size_t *len)
{
	return read_file(path, HTTP_MAX_TLS_FILE, out, len);
}

static void server_free(struct http_server *s)
{
	size_t i;

	if (!s)
		return;
	if (s->lfd >= 0)
		close(s->lfd);
	for (i = 0; i < s->n_routes; i++)
		free(s->routes[i].buf);
	free(s->routes);
	free(s->tls_cert);
	if (s->tls_key)
		explicit_bzero(s->tls_key, s->tls_key_len);
	free(s->tls_key);
	if (s->sync_init) {
		pthread_cond_destroy(&s->wd_wake);
		pthread_mutex_destroy(&s->conn_lock);
		pthread_cond_destroy(&s->idle);
		pthread_mutex_destroy(&s->lock);
	}
	free(s);
}

static int server_sync_init(struct http_server *s)
{
	pthread_condattr_t ca;
	int err, n = 0;

	err = pthread_condattr_init(&ca);
	if (err)
		return -err;
	err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!err && !(err = pthread_cond_init(&s->idle, &ca)))
		n++;
	if (!err && !(err = pthread_cond_init(&s->wd_wake, &ca)))
		n++;
	if (!err && !(err = pthread_mutex_init(&s->lock, NULL)))
		n++;
	if (!err && !(err = pthread_mutex_init(&s->conn_lock, NULL)))
		n++;
	pthread_condattr_destroy(&ca);
	if (!err) {
		s->sync_init = true;
		return 0;
	}
	/* undo in reverse order what was made */
	if (n > 2)
		pthread_mutex_destroy(&s->lock);
	if (n > 1)
		pthread_cond_destroy(&s->wd_wake);
	if (n > 0)
		pthread_cond_destroy(&s->idle);
	return -err;
}

/* Stop and join the watchdog thread, if it runs. */
static void watchdog_stop(struct http_server *s)
{
	if (!s->wd_running)
		return;
	pthread_mutex_lock(&s->conn_lock);
	s->wd_stop = true;
	pthread_cond_signal(&s->wd_wake);
	pthread_mutex_unlock(&s->conn_lock);
	pthread_join(s->wd, NULL);
	s->wd_running = false;
}

/* socket, bind, listen; records the fd, its inode and the bound port. */
static int server_listen(struct http_server *s, const char *addr, unsigned backlog)
{
	struct sockaddr_storage ss, bound;
	socklen_t len, blen = sizeof(bound);
	struct stat st;
	int one = 1, err;

	err = http_parse_listen(addr, &ss, &len);
	if (err < 0)
		return err;
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->lfd < 0)
		return -errno;
	if (setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(s->lfd, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	if (listen(s->lfd, backlog > INT_MAX ? INT_MAX : (int)backlog) < 0)
		return -errno;
	if (getsockname(s->lfd, (struct sockaddr *)&bound, &blen) < 0 || fstat(s->lfd, &st) < 0)
		return -errno;
	s->lfd_ino = st.st_ino;
	s->family = ss.ss_family;
	s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						    : ((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

/*
 * After MHD_start_daemon() failed: MHD 0.9.75 has closed the listen socket on
 * some failure paths (TLS set-up) and not on others (option checks). Close it
 * only if the descriptor still refers to our socket.
 */
static void server_reclaim_lfd(struct http_server *s)
{
	struct stat st;

	if (fstat(s->lfd, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_ino != s->lfd_ino)
		s->lfd = -1;
}

int http_start(const struct http_opts *o, struct http_server **out)
{
	struct MHD_OptionItem opt[16];
	struct http_server *s;
	unsigned threads, max_conns, flags, timeout_s, n = 0;
	size_t conn_memory, i, cert_len;
	int err;

	*out = NULL;
	threads = o->threads ? o->threads : HTTP_DEFAULT_THREADS;
	conn_memory = o->conn_memory ? o->conn_memory : HTTP_DEFAULT_CONN_MEMORY;
	max_conns = o->max_conns ? o->max_conns : HTTP_DEFAULT_MAX_CONNS;
	timeout_s = o->timeout_s ? o->timeout_s : HTTP_DEFAULT_TIMEOUT_S;
	if (!o->listen || threads > HTTP_MAX_THREADS || conn_memory < HTTP_MIN_CONN_MEMORY ||
	    conn_memory > HTTP_MAX_CONN_MEMORY || !o->tls_cert != !o->tls_key ||
	    o->n_routes > HTTP_MAX_ROUTES || (o->n_routes && !o->routes) ||
	    o->max_body > SIZE_MAX / 4 || timeout_s > 86400 || o->header_timeout_s > 86400 ||
	    (o->n_trusted_proxies && !o->trusted_proxies))
		return -EINVAL;
	if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return -EOPNOTSUPP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lfd = -1;
	s->max_body = o->max_body ? o->max_body : HTTP_DEFAULT_MAX_BODY;
	s->anon_max_body = o->anon_max_body ? o->anon_max_body : HTTP_DEFAULT_ANON_MAX_BODY;
	if (s->anon_max_body > s->max_body)
		s->anon_max_body = s->max_body;
	s->gate = o->gate;
	s->gate_arg = o->gate_arg;
	s->max_inflated = o->max_inflated ? o->max_inflated : HTTP_DEFAULT_MAX_INFLATED;
	s->max_target = conn_memory / 4;
	s->max_args = (unsigned)(conn_memory / ARG_COST);
	if (s->max_args > HTTP_MAX_QUERY_ARGS)
		s->max_args = HTTP_MAX_QUERY_ARGS;
	s->per_ip = o->max_conns_per_ip ? o->max_conns_per_ip : HTTP_DEFAULT_MAX_CONNS_PER_IP;
	s->header_ms =
	    1000ull * (o->header_timeout_s ? o->header_timeout_s : HTTP_DEFAULT_HEADER_TIMEOUT_S);
	s->keepalive_ms = 1000ull * timeout_s + 1000;
	s->stop_timeout_ms = o->stop_timeout_ms ? o->stop_timeout_ms : HTTP_DEFAULT_STOP_MS;
	err = server_sync_init(s);
	if (err < 0)
		goto fail;
	for (i = 0; i < o->n_trusted_proxies; i++) {
		err = http_parse_addr_list(o->trusted_proxies[i], s->proxy,
					   HTTP_MAX_TRUSTED_PROXIES, &s->n_proxy);
		if (err < 0) {
			err = -EINVAL;
			goto fail;
		}
	}
	if (o->n_routes) {
		s->routes = calloc(o->n_routes, sizeof(*s->routes));
		if (!s->routes) {
			err = -ENOMEM;
			goto fail;
		}
	}
	for (i = 0; i < o->n_routes; i++) {
		err = route_compile(&s->routes[i], &o->routes[i]);
		s->n_routes = i + 1; /* so that server_free() frees its buffer */
		if (err < 0)
			goto fail;
	}
	if (o->tls_cert) {
		err = read_tls(o->tls_cert, &s->tls_cert, &cert_len);
		if (err < 0)
			goto fail;
		err = read_tls(o->tls_key, &s->tls_key, &s->tls_key_len);
		if (err < 0)
			goto fail;
	}
	err = server_listen(s, o->listen, max_conns < 128 ? 128 : max_conns);
	if (err < 0)
		goto fail;

	/* ITC: quiesce with a pool, and wake a worker for a resumed connection */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	flags |=
	    MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
	if (s->tls_cert)
		flags |= MHD_USE_TLS;
	if (s->family == AF_INET6)
		flags |= MHD_USE_IPv6;
#define OPT(o_, v_, p_) (opt[n++] = (struct MHD_OptionItem){(o_), (intptr_t)(v_), (p_)})
	OPT(MHD_OPTION_LISTEN_SOCKET, s->lfd, NULL);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, on_uri, s);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, s);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_memory, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, max_conns, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, NULL);
	OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_conn, s);
	if (threads > 1)
		OPT(MHD_OPTION_THREAD_POOL_SIZE, threads, NULL);
	if (s->tls_cert) {
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	err = -pthread_create(&s->wd, NULL, watchdog_main, s);
	if (err < 0)
		goto fail;
	s->wd_running = true;
	s->daemon = MHD_start_daemon(flags, 0, on_accept, s, on_access, s, MHD_OPTION_ARRAY, opt,
				     MHD_OPTION_END);
	if (!s->daemon) {
		server_reclaim_lfd(s);
		err = -EIO;
		goto fail;
	}
	s->lfd = -1; /* MHD's now */
	*out = s;
	return 0;
fail:
	watchdog_stop(s);
	server_free(s);
	return err;
}

uint16_t http_port(const struct http_server *srv)
{
	return srv->port;
}

void http_stop(struct http_server *srv)
{
	MHD_socket lfd;
	struct timespec dl;

	if (!srv)
		return;
	if (srv->daemon) {
		atomic_store(&srv->stopping, true);
		lfd = MHD_quiesce_daemon(srv->daemon);
		mono_deadline_ms(&dl, srv->stop_timeout_ms);
		pthread_mutex_lock(&srv->lock);
		while (srv->active > 0) {
			if (pthread_cond_timedwait(&srv->idle, &srv->lock, &dl) != ETIMEDOUT)
				continue;
			if (!srv->suspended)
				break;
			/* MHD must not stop while a request is suspended: wait
			 * for their resumes (bounded by whoever holds them), then
			 * give them the time an in-flight request gets */
			while (srv->suspended > 0)
				pthread_cond_wait(&srv->idle, &srv->lock);
			mono_deadline_ms(&dl, srv->stop_timeout_ms);
		}
		pthread_mutex_unlock(&srv->lock);
		MHD_stop_daemon(srv->daemon);
		/* after quiesce the listen socket is ours, closed only now */
		if (lfd != MHD_INVALID_SOCKET)
			close(lfd);
	}
	watchdog_stop(srv); /* after MHD: every connection record is gone */
	server_free(srv);
}
