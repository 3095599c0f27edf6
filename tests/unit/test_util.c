// SPDX-License-Identifier: BSD-2-Clause
/* test_util.c - reading whole files and secret lines, replacing files
 * whole (lib/util.c). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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

TEST(write_atomic)
{
	char path[256], tmp[256], other[256], big[5000], *buf = NULL;
	struct stat st;
	size_t len = 0;
	mode_t old;

	put("a", "old", path, sizeof(path));
	old = umask(022);
	CHECK_EQ(write_file_atomic(path, NULL, "new text", 8, 0600), 0);
	CHECK_EQ(read_file(path, 100, &buf, &len), 0);
	CHECK_STR(buf, "new text");
	free(buf);
	buf = NULL;
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	/* the temporary beside it is gone */
	snprintf(tmp, sizeof(tmp), "%s/.a.tmp", dir);
	CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
	/* a mode the umask would cut is set all the same */
	CHECK_EQ(write_file_atomic(path, NULL, "x", 1, 0666), 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0666);
	umask(old);
	/* the caller's temporary name */
	snprintf(tmp, sizeof(tmp), "%s/a.part", dir);
	CHECK_EQ(write_file_atomic(path, tmp, "third", 5, 0600), 0);
	CHECK_EQ(read_file(path, 100, &buf, &len), 0);
	CHECK_STR(buf, "third");
	free(buf);
	buf = NULL;
	CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
	/* a link at the temporary name is refused; neither file changes */
	put("other", "keep", other, sizeof(other));
	snprintf(tmp, sizeof(tmp), "%s/.a.tmp", dir);
	CHECK_EQ(symlink(other, tmp), 0);
	CHECK_EQ(write_file_atomic(path, NULL, "evil", 4, 0600), -ELOOP);
	CHECK_EQ(read_file(other, 100, &buf, &len), 0);
	CHECK_STR(buf, "keep");
	free(buf);
	buf = NULL;
	CHECK_EQ(read_file(path, 100, &buf, &len), 0);
	CHECK_STR(buf, "third");
	free(buf);
	buf = NULL;
	unlink(tmp);
	/* a rename that fails leaves no temporary behind */
	snprintf(path, sizeof(path), "%s/nodir/b", dir);
	snprintf(tmp, sizeof(tmp), "%s/b.part", dir);
	CHECK_EQ(write_file_atomic(path, tmp, "b", 1, 0600), -ENOENT);
	CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
	/* no room for the temporary name */
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(write_file_atomic(big, NULL, "b", 1, 0600), -ENAMETOOLONG);
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "util");
	RUN(read_file_caps);
	RUN(secret_line);
	RUN(write_atomic);
	CHECK_EQ(check_rmtree(dir), 0);
	return check_failed_total ? 1 : 0;
}
