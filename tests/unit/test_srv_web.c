// SPDX-License-Identifier: BSD-2-Clause
/* test_srv_web.c - the dashboard's path and content-type rules (api_web.h). */
#include <errno.h>
#include <string.h>

#include "api/web.h"
#include "check.h"

static const char *rel_of(const char *path)
{
	static char rel[256];

	return web_path_rel(path, rel, sizeof(rel)) ? NULL : rel;
}

TEST(paths_served)
{
	CHECK(!strcmp(rel_of("/"), "index.html"));
	CHECK(!strcmp(rel_of("/app/index.html"), "index.html"));
	CHECK(!strcmp(rel_of("/app/js/main.js"), "js/main.js"));
	CHECK(!strcmp(rel_of("/app/a/b/c/d.css"), "a/b/c/d.css"));
	CHECK(!strcmp(rel_of("/app/x_y-z.1.js"), "x_y-z.1.js"));
}

TEST(paths_refused)
{
	static const char *bad[] = {
	    "",
	    "/app",
	    "/app/",
	    "/app/js/",
	    "/app//x.js",
	    "/app/../x.js",
	    "/app/..",
	    "/app/js/../x",
	    "/app/.hidden",
	    "/app/js/.x.js",
	    "/app/a\\b.js",
	    "/app/a b.js",
	    "/x.js",
	    "/api/v1/me",
	    "/app/a/b/c/d/e.js",
	    "/app/%2e%2e/x",
	    "//app/x.js",
	    "/app/a\n.js",
	};
	char longseg[80], small[8];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rel_of(bad[i])) {
			printf("  accepted '%s'\n", bad[i]);
			CHECK(0);
		}
	}
	memset(longseg, 'a', sizeof(longseg));
	memcpy(longseg, "/app/", 5);
	longseg[5 + WEB_SEG_MAX] = '\0';
	CHECK(rel_of(longseg)); /* exactly WEB_SEG_MAX */
	longseg[5 + WEB_SEG_MAX] = 'a';
	longseg[6 + WEB_SEG_MAX] = '\0';
	CHECK(!rel_of(longseg));
	CHECK(web_path_rel("/app/abcdefgh.js", small, sizeof(small)) == -ENOENT);
	CHECK(web_path_rel(NULL, small, sizeof(small)) == -ENOENT);
}

TEST(content_types)
{
	CHECK(!strcmp(web_content_type("index.html"), "text/html; charset=utf-8"));
	CHECK(!strcmp(web_content_type("js/main.js"), "text/javascript; charset=utf-8"));
	CHECK(!strcmp(web_content_type("style.css"), "text/css; charset=utf-8"));
	CHECK(!strcmp(web_content_type("i.svg"), "image/svg+xml"));
	CHECK(!strcmp(web_content_type("i.png"), "image/png"));
	CHECK(web_content_type("README") == NULL);
	CHECK(web_content_type("a.sh") == NULL);
	CHECK(web_content_type("a.js/x") == NULL);
	CHECK(web_content_type("a.") == NULL);
}

int main(void)
{
	RUN(paths_served);
	RUN(paths_refused);
	RUN(content_types);
	return check_failed_total ? 1 : 0;
}
