/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchcli.h - what the benchmark tools (actlog-load, actlog-seed,
 * actlog-storebench) and actlogctl share: messages that follow --json,
 * option parsing, latency quantiles and a growing text buffer.
 */
#ifndef ACTLOG_BENCHCLI_H
#define ACTLOG_BENCHCLI_H

#include <stdbool.h>
#include <stddef.h>

/* The tool's name for messages ("actlog-load"); set once in main(). */
extern const char *bench_prog;
/* --json: errors become one {"error":...} object on stdout, notes are
 * silent. */
extern bool bench_json;

/* An error: "prog: msg" on stderr, or {"error":"msg"} on stdout with --json. */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress on stderr ("prog: msg"); nothing with --json. */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parse option --name's value v into *out within [min, max]; 0, or -1
 * after bench_fail() said why. */
int bench_opt_uint(const char *name, const char *v, unsigned long min, unsigned long max,
		   unsigned long *out);
/* The q-quantile (nearest rank) of v[0..n), which it sorts in place; 0 when
 * n is 0. */
double bench_quantile(double *v, size_t n, double q);

/* A growing text buffer (generated batches); p is malloc'd, NUL-terminated
 * after len bytes once anything was added. */
struct bench_buf {
	char *p;
	size_t len, cap;
};

/* Append formatted text to b, growing it as needed. 0, -ENOMEM or -EINVAL. */
int bench_buf_add(struct bench_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* ACTLOG_BENCHCLI_H */
