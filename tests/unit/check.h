/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.h - the unit-test harness. A test binary defines TEST(name) functions
 * and lists them in main() with RUN(name). Each test prints "PASS: file:name"
 * or "FAIL: file:name" (after the failing checks, with file:line); the binary
 * exits non-zero when any failed. tests/run.sh counts these lines.
 */
#ifndef ACTLOG_CHECK_H
#define ACTLOG_CHECK_H

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* line-buffered stdout: a sanitizer abort must not swallow the PASS lines */
__attribute__((constructor)) static void check_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static int check_failed_total;
static int check_failed_now;

#define TEST(name) static void name(void)

#define RUN(name)                                                                                  \
	do {                                                                                       \
		check_failed_now = 0;                                                              \
		name();                                                                            \
		printf("%s: %s:%s\n", check_failed_now ? "FAIL" : "PASS", __FILE__, #name);        \
		check_failed_total += check_failed_now;                                            \
	} while (0)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
			check_failed_now = 1;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ != check_b_) {                                                        \
			printf("  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
			       #b, check_a_, check_b_);                                            \
			check_failed_now = 1;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                   \
			printf("  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
			       #a, #b, check_a_ ? check_a_ : "(null)",                            \
			       check_b_ ? check_b_ : "(null)");                                    \
			check_failed_now = 1;                                                      \
		}                                                                                  \
	} while (0)

/* Make a fresh directory /tmp/actlog-test-TAG-XXXXXX into buf (n bytes);
 * the test cannot run without it, so failure exits 2. */
__attribute__((unused)) static void check_mkdtemp(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/tmp/actlog-test-%s-XXXXXX", tag);
	if (!mkdtemp(buf)) {
		perror("mkdtemp");
		exit(2);
	}
}

static int check_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove path and everything below it. 0 or -1. */
__attribute__((unused)) static int check_rmtree(const char *path)
{
	return nftw(path, check_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define CHECK_DONE() (check_failed_total ? 1 : 0)

#endif /* ACTLOG_CHECK_H */
