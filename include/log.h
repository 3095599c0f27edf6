/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - the one logging path of every actlog program.
 *
 * On a terminal messages go to stderr as "prog: level: text". Under systemd
 * (JOURNAL_STREAM set) or when stderr is not a terminal they carry the
 * syslog "<N>" prefix the journal understands. The level is checked before
 * anything is formatted.
 */
#ifndef ACTLOG_LOG_H
#define ACTLOG_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Set the program name and the most verbose level that is printed. */
void log_init(const char *prog, enum log_level max);
/* Current maximum level. */
enum log_level log_level(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_level() >= LOG_LVL_DEBUG)                                                  \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif /* ACTLOG_LOG_H */
