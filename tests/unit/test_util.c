// SPDX-License-Identifier: BSD-2-Clause
/* test_util.c - reading whole files and secret lines, replacing files
 * whole, a worker's nap, back-off, optional messages (lib/util.c). */
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

TEST(backoff)
{
	uint32_t b = 0, j;
	int i;

	b = backoff_next(b, 1000, 300000);
	CHECK_EQ(b, 1000);
	CHECK_EQ(backoff_next(b, 1000, 300000), 2000);
	CHECK_EQ(backoff_next(200000, 1000, 300000), 300000);
	CHECK_EQ(backoff_next(300000, 1000, 300000), 300000);
	/* below the floor (a smaller one kept from before) and no overflow */
	CHECK_EQ(backoff_next(10, 1000, 300000), 1000);
	CHECK_EQ(backoff_next(3000000000u, 1000, 4000000000u), 4000000000u);
	for (i = 0; i < 200; i++) {
		j = backoff_jitter(10000);
		CHECK(j >= 5000 && j <= 10000);
	}
	CHECK_EQ(backoff_jitter(0), 0);
	CHECK_EQ(backoff_jitter(1), 0);
}

struct napper {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, kicked, ret;
	uint32_t ms;
	int with_kick;
};

static void *nap(void *arg)
{
	struct napper *n = arg;

	n->ret = cond_wait_ms(&n->mu, &n->cv, &n->stop, n->with_kick ? &n->kicked : NULL, n->ms);
	return NULL;
}

/* Start a napper for ms, set *flag under its lock, and join it: the nap
 * must end long before ms (an hour) for the join to return. */
static int nap_woken(struct napper *n, int with_kick, int *flag)
{
	pthread_t t;

	n->ms = 3600 * 1000;
	n->with_kick = with_kick;
	n->ret = -1;
	CHECK_EQ(pthread_create(&t, NULL, nap, n), 0);
	pthread_mutex_lock(&n->mu);
	*flag = 1;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(t, NULL);
	return n->ret;
}

TEST(cond_wait)
{
	struct napper n = {.mu = PTHREAD_MUTEX_INITIALIZER};
	uint64_t t0;

	CHECK_EQ(cond_init_monotonic(&n.cv), 0);
	/* time passes: not stopping, a kick set meanwhile stays unless asked */
	t0 = clock_ns(CLOCK_MONOTONIC);
	n.kicked = 1;
	CHECK_EQ(cond_wait_ms(&n.mu, &n.cv, &n.stop, NULL, 50), 0);
	CHECK(clock_ns(CLOCK_MONOTONIC) - t0 >= 50 * NSEC_PER_MSEC);
	CHECK_EQ(n.kicked, 1);
	/* a pending kick ends a kickable nap at once and is taken */
	CHECK_EQ(cond_wait_ms(&n.mu, &n.cv, &n.stop, &n.kicked, 3600 * 1000), 0);
	CHECK_EQ(n.kicked, 0);
	/* a kick from another thread; then a stop, which ends any nap */
	CHECK_EQ(nap_woken(&n, 1, &n.kicked), 0);
	CHECK_EQ(n.kicked, 0);
	CHECK_EQ(nap_woken(&n, 0, &n.stop), 1);
	CHECK_EQ(cond_wait_ms(&n.mu, &n.cv, &n.stop, &n.kicked, 3600 * 1000), 1);
	pthread_cond_destroy(&n.cv);
}

TEST(fsync_parent_paths)
{
	CHECK_EQ(fsync_parent("/tmp/no-such-file-needed"), 0); /* the directory /tmp */
	CHECK_EQ(fsync_parent("/no-such-dir-here/x"), -ENOENT);
	CHECK_EQ(fsync_parent("bare-name"), 0); /* "." */
	CHECK_EQ(fsync_parent("/x"), 0);	/* "/" */
}

TEST(deadline)
{
	struct timespec ts;
	uint64_t t0, dl;
	uint32_t ms[] = {0, 999, 1000, 1500, 3600 * 1000 + 999};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ms); i++) {
		t0 = clock_ns(CLOCK_MONOTONIC);
		mono_deadline_ms(&ts, ms[i]);
		dl = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
		/* a valid timespec, ms after now */
		CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
		CHECK(dl >= t0 + ms[i] * NSEC_PER_MSEC);
		CHECK(dl < clock_ns(CLOCK_MONOTONIC) + ms[i] * NSEC_PER_MSEC + NSEC_PER_SEC);
	}
}

TEST(say)
{
	char why[8] = "old";

	say_why(why, sizeof(why), "%s %d", "too long", 42);
	CHECK_STR(why, "too lon");
	say_why(why, 0, "%s", "none");
	CHECK_STR(why, "too lon");
	say_why(NULL, 100, "%s", "nowhere");
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "util");
	RUN(read_file_caps);
	RUN(secret_line);
	RUN(write_atomic);
	RUN(backoff);
	RUN(cond_wait);
	RUN(fsync_parent_paths);
	RUN(deadline);
	RUN(say);
	CHECK_EQ(check_rmtree(dir), 0);
	return check_failed_total ? 1 : 0;
}
