/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tz.h - IANA time zones through ICU's C API (ucal): the UTC offset of a
 * zone at an instant, the local date of an instant and the instant of a
 * local date's midnight. The server keeps UTC; queries bucket by local days
 * and hours with these (model/query.h).
 *
 * Thread rule: an opened zone holds its own UCalendar, so it is used by one
 * thread at a time; zones opened in different threads are independent. The
 * process's TZ is never read nor set. Times are Unix ms; dates are
 * proleptic Gregorian (y, m 1..12, d 1..31). Nothing here logs.
 */
#ifndef ACTLOG_CORE_TZ_H
#define ACTLOG_CORE_TZ_H

#include <stdbool.h>
#include <stdint.h>

#define TZ_NAME_MAX 64 /* bytes of a zone name */

struct tz;

/*
 * Open zone name, an IANA name ICU knows ("Europe/Paris", "UTC"): *out
 * (close with tz_close()). -EINVAL for an empty, over TZ_NAME_MAX, non
 * ASCII or unknown name, -ENOMEM.
 */
int tz_open(const char *name, struct tz **out);

/* Release z (NULL is fine). */
void tz_close(struct tz *z);

/* The name z was opened with (valid until tz_close()). */
const char *tz_name(const struct tz *z);

/* 1 when name opens (tz_open() would succeed), else 0. */
bool tz_valid(const char *name);

/* The offset of local time from UTC at instant t (raw + daylight saving),
 * in ms: *off_ms. 0 or -EINVAL (ICU failed). */
int tz_offset(struct tz *z, int64_t t, int64_t *off_ms);

/* The local date of instant t: *y, *m, *d. 0 or -EINVAL. */
int tz_date(struct tz *z, int64_t t, int *y, int *m, int *d);

/*
 * The instant local date (y, m, d) starts: its midnight (the first of two
 * when clocks go back over it, as America/Havana's do), or the first
 * instant after it when a change of offset skips midnight. 0 or -EINVAL
 * (a date out of 1..9999, or ICU failed).
 */
int tz_midnight(struct tz *z, int y, int m, int d, int64_t *t);

/* The date n days after (y, m, d) (n may be negative), in place. Pure. */
void tz_date_add(int *y, int *m, int *d, int64_t n);

/*
 * Parse a local date "YYYY-MM-DD" (exactly that form, a real day): 0 and
 * *y, *m, *d, else -EINVAL. Pure.
 */
int tz_parse_date(const char *s, int *y, int *m, int *d);

#endif /* ACTLOG_CORE_TZ_H */
