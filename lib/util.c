// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

char *rfc3339_ms(int64_t unix_ms, char *buf)
{
	/* records come in bursts within one second: keep the formatted second
	 * of the last call (per thread) and only add the milliseconds */
	static __thread time_t cached_secs = -1;
	static __thread char cached[RFC3339_LEN];
	static __thread size_t cached_len;
	time_t secs = (time_t)(unix_ms / 1000);
	int ms = (int)(unix_ms % 1000);
	struct tm tm;

	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	if (secs != cached_secs || !cached_len) {
		char tmp[96];
		int n;

		gmtime_r(&secs, &tm);
		n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (n < 0)
			n = 0;
		/* room for ".mmmZ" and the NUL */
		cached_len = (size_t)n < RFC3339_LEN - 6 ? (size_t)n : RFC3339_LEN - 6;
		memcpy(cached, tmp, cached_len);
		cached_secs = secs;
	}
	memcpy(buf, cached, cached_len);
	buf[cached_len] = '.';
	buf[cached_len + 1] = (char)('0' + ms / 100);
	buf[cached_len + 2] = (char)('0' + ms / 10 % 10);
	buf[cached_len + 3] = (char)('0' + ms % 10);
	buf[cached_len + 4] = 'Z';
	buf[cached_len + 5] = '\0';
	return buf;
}

int rfc3339_parse(const char *s, int64_t *unix_ms)
{
	struct tm tm = {0};
	const char *p;
	int ms = 0, digits = 0;

	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
			digits++;
			p++;
		}
		if (digits == 0)
			return -EINVAL;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -EINVAL;
	*unix_ms = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long x;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || x < min || x > max)
		return -ERANGE;
	*out = x;
	return 0;
}

int read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int err = 0;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max + 1) {
				err = -EFBIG;
				goto out;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			err = -EFBIG;
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = n;
out:
	free(buf);
	return err;
}

int read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = read_fd(fd, max, out, len);
	close(fd);
	return err;
}

int read_secret_line(const char *path, size_t max, char **out)
{
	size_t len = 0, line;
	char *buf = NULL;
	int err;

	err = strcmp(path, "-") ? read_file(path, max, &buf, &len) : read_fd(0, max, &buf, &len);
	if (err)
		return err;
	line = strcspn(buf, "\r\n");
	explicit_bzero(buf + line, len - line);
	*out = buf;
	return 0;
}

int tmpfile_anon(void)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	if (!dir || *dir != '/' || strlen(dir) > PATH_MAX - 32)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* a file system without O_TMPFILE: a named file, unlinked at once */
	snprintf(path, sizeof(path), "%s/actlog-resp.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int write_file_atomic(const char *path, const char *tmp, const void *buf, size_t len, mode_t mode)
{
	char def[4096];
	const char *base = strrchr(path, '/');
	int fd, err, n;

	if (!tmp) {
		if (base)
			n = snprintf(def, sizeof(def), "%.*s/.%s.tmp", (int)(base - path), path,
				     base + 1);
		else
			n = snprintf(def, sizeof(def), ".%s.tmp", path);
		if (n < 0 || (size_t)n >= sizeof(def))
			return -ENAMETOOLONG;
		tmp = def;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	err = write_all(fd, buf, len);
	if (!err && fchmod(fd, mode) < 0)
		err = -errno;
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

int fsync_parent(const char *path)
{
	char d[4096];
	char *slash;

	if (strlen(path) >= sizeof(d))
		return -ENAMETOOLONG;
	snprintf(d, sizeof(d), "%s", path);
	slash = strrchr(d, '/');
	if (!slash)
		return fsync_dir(".");
	if (slash == d)
		slash[1] = 0;
	else
		*slash = 0;
	return fsync_dir(d);
}

int mkdir_p(const char *dir, mode_t mode)
{
	char path[4096];
	size_t len = strlen(dir), i;

	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -errno;
		path[i] = dir[i];
	}
	return 0;
}

int unix_bind_mode(int fd, const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int err = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = -errno;
	umask(old);
	if (!err && gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0)
		err = -errno;
	if (!err && chmod(path, mode) < 0)
		err = -errno;
	return err;
}

int cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int r;

	r = pthread_condattr_init(&ca);
	if (r)
		return -r;
	r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!r)
		r = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return -r;
}

void mono_deadline_ms(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int cond_wait_ms(pthread_mutex_t *mu, pthread_cond_t *cv, const int *stop, int *kicked, uint32_t ms)
{
	struct timespec ts;
	int st;

	mono_deadline_ms(&ts, ms);
	pthread_mutex_lock(mu);
	while (!*stop && !(kicked && *kicked))
		if (pthread_cond_timedwait(cv, mu, &ts) == ETIMEDOUT)
			break;
	if (kicked)
		*kicked = 0;
	st = *stop;
	pthread_mutex_unlock(mu);
	return st;
}

uint32_t backoff_next(uint32_t cur, uint32_t min, uint32_t max)
{
	uint64_t b = cur ? (uint64_t)cur * 2 : min;

	if (b < min)
		b = min;
	if (b > max)
		b = max;
	return (uint32_t)b;
}

uint32_t backoff_jitter(uint32_t ms)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = 0;
	return ms / 2 + r % (ms / 2 + 1);
}

/* Length of the valid UTF-8 sequence at s (max avail bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	size_t need, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (need > avail)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

void utf8_clean(char *dst, size_t n, const char *src, size_t srclen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, k;

	while (i < srclen && s[i] != '\0' && o + 1 < n) {
		k = utf8_seq(s + i, srclen - i);
		if (k == 0 || (k == 1 && s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + k >= n)
			break;
		memcpy(dst + o, s + i, k);
		o += k;
		i += k;
	}
	dst[o] = '\0';
}

void say_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}
