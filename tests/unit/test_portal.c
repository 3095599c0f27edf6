// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_portal.c - the ScreenCast restore token's file (user/session/portal.c): its
 * default place, what counts as a token, loading with caps, saving 0600 in
 * a 0700 directory through a temporary name. The D-Bus half is exercised
 * against a mock portal in tests/integration/test_pipewire.sh.
 *
 * portal.c lives in user/ and unit tests link only lib/, so it is included.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#include "../../user/session/portal.c"

static char dir[256];

static void put(const char *path, const char *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, s, n) == (ssize_t)n);
	close(fd);
}

TEST(token_valid)
{
	char big[PORTAL_TOKEN_MAX + 2];

	CHECK(portal_token_valid("0e7ac5f6-1d2b-4b7e-9a62-3c1f2d9e8b71"));
	CHECK(portal_token_valid("x"));
	CHECK(!portal_token_valid(""));
	CHECK(!portal_token_valid("with space"));
	CHECK(!portal_token_valid("line\nbreak"));
	CHECK(!portal_token_valid("caf\xc3\xa9"));
	memset(big, 'a', sizeof(big) - 1);
	big[PORTAL_TOKEN_MAX] = '\0';
	CHECK(portal_token_valid(big));
	big[PORTAL_TOKEN_MAX] = 'a';
	big[PORTAL_TOKEN_MAX + 1] = '\0';
	CHECK(!portal_token_valid(big));
}

TEST(token_path)
{
	char buf[512];

	setenv("XDG_STATE_HOME", "/st", 1);
	CHECK_EQ(portal_token_path(buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/st/actlog/screencast.token");
	/* a relative XDG_STATE_HOME is ignored, as the spec says */
	setenv("XDG_STATE_HOME", "rel", 1);
	setenv("HOME", "/home/u", 1);
	CHECK_EQ(portal_token_path(buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/home/u/.local/state/actlog/screencast.token");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	CHECK_EQ(portal_token_path(buf, sizeof(buf)), -EINVAL);
	setenv("HOME", "/home/u", 1);
	CHECK_EQ(portal_token_path(buf, 10), -ENAMETOOLONG);
}

TEST(token_load)
{
	char path[400], tok[PORTAL_TOKEN_MAX + 1], big[PORTAL_TOKEN_MAX + 8];

	snprintf(path, sizeof(path), "%s/t1", dir);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), -ENOENT);
	put(path, "abc-123\n", 8);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), 0);
	CHECK_STR(tok, "abc-123");
	put(path, "abc\r\n", 5);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), 0);
	CHECK_STR(tok, "abc");
	put(path, "", 0);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), -EINVAL);
	put(path, "a b\n", 4);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), -EINVAL);
	put(path, "ab\0cd", 5);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), -EINVAL);
	/* over the cap: refused, not truncated */
	memset(big, 'a', sizeof(big));
	put(path, big, sizeof(big));
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), -EINVAL);
	CHECK_STR(tok, "");
	/* a buffer too small for a valid token */
	put(path, "abcdef", 6);
	CHECK_EQ(portal_token_load(path, tok, 4), -EINVAL);
}

TEST(token_save)
{
	char path[400], sub[300], tok[PORTAL_TOKEN_MAX + 1];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/state/actlog", dir);
	snprintf(path, sizeof(path), "%s/screencast.token", sub);
	CHECK_EQ(portal_token_save(path, "first"), 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(stat(sub, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0700);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), 0);
	CHECK_STR(tok, "first");
	/* a directory made too open is closed again */
	CHECK_EQ(chmod(sub, 0755), 0);
	CHECK_EQ(portal_token_save(path, "second"), 0);
	CHECK_EQ(stat(sub, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0700);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), 0);
	CHECK_STR(tok, "second");
	/* not a token: refused, the stored one kept */
	CHECK_EQ(portal_token_save(path, "bad token"), -EINVAL);
	CHECK_EQ(portal_token_save(path, ""), -EINVAL);
	CHECK_EQ(portal_token_load(path, tok, sizeof(tok)), 0);
	CHECK_STR(tok, "second");
	/* a directory in the way: an error, nothing left behind */
	snprintf(path, sizeof(path), "%s/state/actlog/blocked", dir);
	CHECK_EQ(mkdir(path, 0700), 0);
	CHECK(portal_token_save(path, "third") < 0);
	CHECK_EQ(rmdir(path), 0);
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "portal");
	RUN(token_valid);
	RUN(token_path);
	RUN(token_load);
	RUN(token_save);
	check_rmtree(dir);
	return CHECK_DONE();
}
