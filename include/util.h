/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.h - small helpers shared by every actlog program: clocks, RFC 3339
 * time, whole-file I/O with caps, UTF-8 clean-up.
 */
#ifndef ACTLOG_UTIL_H
#define ACTLOG_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

/* Nanoseconds on clock id (CLOCK_BOOTTIME, CLOCK_REALTIME, ...). */
uint64_t clock_ns(clockid_t id);

/* Format unix milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least
 * RFC3339_LEN bytes). Returns buf. */
#define RFC3339_LEN 32
char *rfc3339_ms(int64_t unix_ms, char *buf);
/* Parse the RFC 3339 UTC form above (with or without milliseconds, 'Z' or
 * "+00:00") into unix ms. 0 on success, -EINVAL otherwise. Pure. */
int rfc3339_parse(const char *s, int64_t *unix_ms);

/* Parse the whole of s as a decimal number in [min, max]: digits only (no
 * sign, space or suffix). 0, -EINVAL (not a number), -ERANGE (out of range,
 * overflow included). Pure. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Read at most max bytes of path into a NUL-terminated malloc'd buffer
 * (*len without the NUL). -EFBIG when the file is larger than max. */
int read_file(const char *path, size_t max, char **out, size_t *len);
/* The same for an open descriptor, read to its end (stdin: fd 0). */
int read_fd(int fd, size_t max, char **out, size_t *len);
/* The first line of path ("-": standard input), at most max bytes in all,
 * without its line end, into a NUL-terminated malloc'd buffer; whatever
 * followed the line is wiped. For password and secret files. 0 or -errno
 * (-EFBIG over max). */
int read_secret_line(const char *path, size_t max, char **out);
/*
 * An anonymous temporary file (a response body fetched from S3): O_TMPFILE in
 * $TMPDIR (absolute) or /tmp, else a mkostemp file unlinked at once.
 * Read-write, O_CLOEXEC; gone when its last descriptor closes. fd or -errno.
 */
int tmpfile_anon(void);
/* write(2) all of buf, retrying on EINTR and short writes. 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);
/* Replace path with buf (len bytes) so that a reader sees the old file or
 * the whole new one: write tmp (NULL: ".NAME.tmp" beside path; it must be
 * on path's file system) with mode whatever the umask, refusing a link
 * there, fsync it and rename it over path. tmp is removed on failure; the
 * directory is not synced (the caller does that when it must). 0 or
 * -errno (-ENAMETOOLONG for a path too long for the temporary name). */
int write_file_atomic(const char *path, const char *tmp, const void *buf, size_t len, mode_t mode);
/* fsync the directory dir (after a rename into it). 0 or -errno. */
int fsync_dir(const char *dir);
/* fsync the directory that holds path ("." for a bare name). 0 or -errno
 * (-ENAMETOOLONG for a path over PATH_MAX). */
int fsync_parent(const char *path);
/* Create dir and its parents with mode. 0 or -errno. */
int mkdir_p(const char *dir, mode_t mode);
/*
 * Bind the AF_UNIX socket fd to path so that the socket file is never
 * wider than mode, not even between bind() and chmod(): it is created under
 * umask 0177 (owner read/write only; the umask is set back before
 * returning), then given group gid ((gid_t)-1: left alone) and only then
 * mode. The umask is process-wide: call this before starting threads that
 * create files. path must not exist (unlink a stale socket first). 0 or
 * -errno (-ENAMETOOLONG for a path longer than sun_path); on failure after
 * bind the file stays, for the caller to unlink.
 */
int unix_bind_mode(int fd, const char *path, mode_t mode, gid_t gid);

/* pthread_cond_init() with waits timed on CLOCK_MONOTONIC, as
 * cond_wait_ms() wants. 0 or -errno. */
int cond_init_monotonic(pthread_cond_t *cv);
/* *ts = CLOCK_MONOTONIC now + ms: the deadline for a pthread_cond_timedwait()
 * on a condition from cond_init_monotonic(). */
void mono_deadline_ms(struct timespec *ts, uint32_t ms);
/* A worker thread's nap, mu not held on entry: wait on cv (from
 * cond_init_monotonic) until *stop is set, ms have passed, or - when kicked
 * is not NULL - *kicked is set; *kicked is then cleared whatever ended the
 * wait. *stop and *kicked are guarded by mu. Returns *stop. */
int cond_wait_ms(pthread_mutex_t *mu, pthread_cond_t *cv, const int *stop, int *kicked,
		 uint32_t ms);

/* The back-off after one more failure: min after none (cur 0), else twice
 * cur, kept within [min, max]. Pure. */
uint32_t backoff_next(uint32_t cur, uint32_t min, uint32_t max);
/* How long to wait out a back-off of ms: a random time in [ms/2, ms]
 * ("full jitter" on the upper half), so that agents that failed together
 * do not retry together. ms/2 when no randomness is at hand. */
uint32_t backoff_jitter(uint32_t ms);

/* Copy src into dst (size n, n >= 4), replacing every byte that is not part
 * of valid UTF-8 or is a C0 control (except tab) with '?'. Always
 * NUL-terminates; stops at the first NUL of src or after srclen bytes. */
void utf8_clean(char *dst, size_t n, const char *src, size_t srclen);

/* snprintf into an optional message buffer: nothing when why is NULL or
 * len 0. For the words a function hands back on why it failed. */
void say_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* ACTLOG_UTIL_H */
