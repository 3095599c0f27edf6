// SPDX-License-Identifier: BSD-2-Clause
/*
 * web.c - the web dashboard's static files. GET / answers index.html,
 * GET /app/<path> the file <path> under the web root; HEAD the same headers.
 * The dashboard itself (web/) is plain HTML, CSS and ES modules that talk to
 * the documented API with a bearer token; this module only serves files.
 *
 * Path handling: the request path (already percent-decoded, so "%2e%2e" is
 * "..") must be a few segments of [A-Za-z0-9._-] not starting with '.'
 * (web_path_rel), so ".." and hidden files never reach the file system. The
 * file is then opened one segment at a time with openat(O_NOFOLLOW) from a
 * descriptor of the root opened at start: a symlink anywhere below the root
 * is refused (ELOOP), so nothing outside it is ever served. Only regular
 * files with a known extension, at most WEB_FILE_MAX bytes.
 *
 * Every answer of these routes (404s too) carries the security headers: a
 * Content-Security-Policy without inline scripts or styles, no framing,
 * nosniff, no Referer. Files are sent with Cache-Control: no-cache and an
 * ETag from size and mtime (If-None-Match gives 304), so an upgraded
 * dashboard is picked up at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/web.h"
#include "log.h"
#include "api/api.h"
#include "core/srv.h"
#include "util.h"

#define WEB_CSP                                                                                    \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "    \
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "             \
	"frame-ancestors 'none'"

static int web_dirfd = -1;

int api_web_open(const char *dir, char *why, size_t why_len)
{
	char exe[PATH_MAX - 32], path[PATH_MAX];
	ssize_t n;
	char *slash;
	int fd;

	if (!dir) {
		/* PREFIX/sbin/actlog-server -> PREFIX/share/actlog/web */
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0) {
			snprintf(why, why_len, "cannot find the installed web root: %s",
				 strerror(errno));
			return -ENOENT;
		}
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(path, sizeof(path), "%s/share/actlog/web", exe);
		dir = path;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		snprintf(why, why_len, "web root %s: %s", dir, strerror(-err));
		return err;
	}
	api_web_close();
	web_dirfd = fd;
	return 0;
}

void api_web_close(void)
{
	if (web_dirfd >= 0)
		close(web_dirfd);
	web_dirfd = -1;
}

static bool seg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int web_path_rel(const char *path, char *rel, size_t rel_len)
{
	const char *p;
	unsigned depth = 0;
	size_t seg = 0;

	if (!path || !rel || !rel_len)
		return -ENOENT;
	if (!strcmp(path, "/")) {
		if (rel_len < sizeof("index.html"))
			return -ENOENT;
		memcpy(rel, "index.html", sizeof("index.html"));
		return 0;
	}
	if (strncmp(path, "/app/", 5))
		return -ENOENT;
	p = path + 5;
	if (strlen(p) >= rel_len)
		return -ENOENT;
	for (; *p; p++) {
		if (*p == '/') {
			if (!seg)
				return -ENOENT;
			seg = 0;
			continue;
		}
		if (!seg_char(*p) || (!seg && *p == '.') || ++seg > WEB_SEG_MAX)
			return -ENOENT;
		if (seg == 1 && ++depth > WEB_MAX_DEPTH)
			return -ENOENT;
	}
	if (!seg)
		return -ENOENT; /* empty, or ends in '/' */
	memcpy(rel, path + 5, strlen(path + 5) + 1);
	return 0;
}

const char *web_content_type(const char *rel)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {"html", "text/html; charset=utf-8"},
	    {"js", "text/javascript; charset=utf-8"},
	    {"mjs", "text/javascript; charset=utf-8"},
	    {"css", "text/css; charset=utf-8"},
	    {"svg", "image/svg+xml"},
	    {"png", "image/png"},
	    {"ico", "image/x-icon"},
	    {"json", "application/json"},
	    {"txt", "text/plain; charset=utf-8"},
	    {"woff2", "font/woff2"},
	};
	const char *dot = strrchr(rel, '.'), *slash = strrchr(rel, '/');
	size_t i;

	if (!dot || (slash && dot < slash))
		return NULL;
	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(dot + 1, types[i].ext))
			return types[i].type;
	return NULL;
}

/*
 * Open rel (checked by web_path_rel) below the root, one segment at a time,
 * refusing symlinks. The open descriptor, or -errno (-ELOOP a symlink,
 * -ENOENT, -ENOTDIR ...).
 */
static int web_openat(int root, const char *rel)
{
	char buf[PATH_MAX], *seg, *next;
	int fd = root, nfd;

	if (strlen(rel) >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, rel, strlen(rel) + 1);
	for (seg = buf; seg; seg = next) {
		next = strchr(seg, '/');
		if (next)
			*next++ = '\0';
		nfd = openat(fd, seg,
			     O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
				 (next ? O_DIRECTORY : 0));
		if (nfd < 0)
			nfd = -errno;
		if (fd != root)
			close(fd);
		if (nfd < 0)
			return nfd;
		fd = nfd;
	}
	return fd;
}

static int set_security_headers(struct http_req *req)
{
	int err = 0;

	err = err ?: http_set_header(req, "Content-Security-Policy", WEB_CSP);
	err = err ?: http_set_header(req, "X-Content-Type-Options", "nosniff");
	err = err ?: http_set_header(req, "X-Frame-Options", "DENY");
	err = err ?: http_set_header(req, "Referrer-Policy", "no-referrer");
	err = err ?: http_set_header(req, "Cross-Origin-Opener-Policy", "same-origin");
	return err;
}

static int h_file(struct http_req *req, void *arg)
{
	char rel[PATH_MAX], etag[64];
	const char *type;
	struct stat sb;
	int fd, err;

	(void)arg;
	err = set_security_headers(req);
	if (err < 0)
		return err;
	if (web_dirfd < 0)
		return http_reply_error(req, 404, "the web dashboard is not installed");
	if (web_path_rel(http_req_path(req), rel, sizeof(rel)) < 0 ||
	    !(type = web_content_type(rel)))
		return http_reply_error(req, 404, "not found");
	fd = web_openat(web_dirfd, rel);
	if (fd < 0) {
		if (fd != -ENOENT)
			log_debug("event=web_refused path=%s err=\"%s\"", rel, strerror(-fd));
		return http_reply_error(req, 404, "not found");
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)WEB_FILE_MAX) {
		close(fd);
		return http_reply_error(req, 404, "not found");
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)sb.st_size,
		 (unsigned long long)sb.st_mtim.tv_sec * 1000000000ull +
		     (unsigned long long)sb.st_mtim.tv_nsec);
	err = http_set_header(req, "Cache-Control", "no-cache");
	err = err ?: http_set_header(req, "ETag", etag);
	if (err < 0) {
		close(fd);
		return err;
	}
	if (http_etag_match(http_req_header(req, "If-None-Match"), etag)) {
		close(fd);
		return http_reply_empty(req, 304);
	}
	return http_reply_fd(req, 200, type, fd, (uint64_t)sb.st_size);
}

int api_web_routes(struct srv *s, struct http_route *r, size_t max)
{
	const struct http_route mine[] = {
	    {"GET", "/", h_file, s},
	    {"GET", "/app/{a}", h_file, s},
	    {"GET", "/app/{a}/{b}", h_file, s},
	    {"GET", "/app/{a}/{b}/{c}", h_file, s},
	    {"GET", "/app/{a}/{b}/{c}/{d}", h_file, s},
	};

	return routes_add(r, max, mine, ARRAY_SIZE(mine));
}
