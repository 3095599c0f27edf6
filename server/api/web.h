/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * web.h - the web dashboard's static files (web/ in the source tree,
 * PREFIX/share/actlog/web installed), served by actlog-server itself:
 * GET / is index.html, GET /app/<path> the file <path> under the web root.
 * See docs/ARCHITECTURE.md (Dashboard).
 */
#ifndef ACTLOG_SRV_API_WEB_H
#define ACTLOG_SRV_API_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

struct srv;

#define WEB_FILE_MAX (16u << 20) /* larger files under the root are not served */
#define WEB_MAX_DEPTH 4		 /* path segments below the root */
#define WEB_SEG_MAX 64		 /* bytes in one segment */

/*
 * Open the web root directory once, for the routes of api_web_routes(). dir
 * NULL: the installed one, ../share/actlog/web next to the directory of the
 * running binary. Not thread-safe (call before serving). 0; -errno when the
 * directory cannot be opened, with why filled (the routes then answer 404).
 */
int api_web_open(const char *dir, char *why, size_t why_len);
/* Close the web root. Safe to call when it was never opened. */
void api_web_close(void);
/*
 * Pure: the file a request path names under the web root, in rel (at most
 * rel_len bytes): "/" gives "index.html", "/app/a/b.js" gives "a/b.js".
 * Every segment must be 1..WEB_SEG_MAX bytes of [A-Za-z0-9._-] not starting
 * with '.', at most WEB_MAX_DEPTH of them. 0 or -ENOENT.
 */
int web_path_rel(const char *path, char *rel, size_t rel_len);
/* Pure: the Content-Type for rel's extension, or NULL (not served). */
const char *web_content_type(const char *rel);
/* Route module (the list in main.c): GET /, GET /app/... (HEAD too). */
int api_web_routes(struct srv *s, struct http_route *r, size_t max);

#endif /* ACTLOG_SRV_API_WEB_H */
