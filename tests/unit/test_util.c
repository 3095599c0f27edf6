// SPDX-License-Identifier: BSD-2-Clause
/* test_util.c - reading whole files and secret lines (lib/util.c). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static char dir[128];

static void put(const char *name, const char *text, char *path, size_t n)
{
	int fd;

	snprintf(path, n, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write_all(fd, text, strlen(text)), 0);
	close(fd);
}

TEST(read_file_caps)
{
	char path[256], *buf = NULL;
	size_t len = 0;

	put("f", "0123456789", path, sizeof(path));
	CHECK_EQ(read_file(path, 10, &buf, &len), 0);
	CHECK_EQ(len, 10);
	CHECK_STR(buf, "0123456789");
	free(buf);
	buf = NULL;
	CHECK_EQ(read_file(path, 9, &buf, &len), -EFBIG);
	CHECK(buf == NULL);
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_EQ(read_file(path, 10, &buf, &len), -ENOENT);
}

TEST(secret_line)
{
	char path[256], *buf = NULL;

	put("pw", "s3cret pass\r\nsecond line\n", path, sizeof(path));
	CHECK_EQ(read_secret_line(path, 100, &buf), 0);
	CHECK_STR(buf, "s3cret pass");
	/* what followed the line is wiped, not left behind the NUL */
	CHECK(buf && !memmem(buf, 26, "second", 6));
	free(buf);
	put("nolf", "only", path, sizeof(path));
	CHECK_EQ(read_secret_line(path, 100, &buf), 0);
	CHECK_STR(buf, "only");
	free(buf);
	buf = NULL;
	CHECK_EQ(read_secret_line(path, 3, &buf), -EFBIG);
	CHECK(buf == NULL);
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "util");
	RUN(read_file_caps);
	RUN(secret_line);
	CHECK_EQ(check_rmtree(dir), 0);
	return check_failed_total ? 1 : 0;
}
