// SPDX-License-Identifier: BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "actlog";
static enum log_level log_max = LOG_LVL_INFO;
static int log_prefix; /* 1: "<N>" prefixes for the journal */

void log_init(const char *prog, enum log_level max)
{
	log_prog = prog;
	log_max = max;
	log_prefix = getenv("JOURNAL_STREAM") != NULL || !isatty(STDERR_FILENO);
}

enum log_level log_level(void)
{
	return log_max;
}

static const char *level_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERR:
		return "error";
	case LOG_LVL_WARN:
		return "warning";
	case LOG_LVL_NOTICE:
		return "notice";
	case LOG_LVL_INFO:
		return "info";
	case LOG_LVL_DEBUG:
		return "debug";
	}
	return "?";
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char buf[2048];
	int n;

	if (lvl > log_max)
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	/* one write per message keeps lines whole when several writers share stderr */
	while (n > 0 && (size_t)n < sizeof(buf) && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (log_prefix)
		fprintf(stderr, "<%d>%s: %s\n", (int)lvl, level_name(lvl), buf);
	else
		fprintf(stderr, "%s: %s: %s\n", log_prog, level_name(lvl), buf);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
