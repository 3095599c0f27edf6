// SPDX-License-Identifier: BSD-2-Clause
/*
 * tz.c - IANA time zones through ICU (core/tz.h). One UCalendar per opened
 * zone (a UCalendar is not safe to share between threads); the zone data is
 * ICU's own, not the system's /usr/share/zoneinfo, and TZ is never touched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "core/tz.h"

struct tz {
	UCalendar *cal;
	char name[TZ_NAME_MAX + 1];
};

/* name as UTF-16 into u (cap units): its length, or -1 (not a plain ASCII
 * zone name of 1..TZ_NAME_MAX bytes). */
static int name_utf16(const char *name, UChar *u, size_t cap)
{
	size_t i, n = strlen(name);

	if (!n || n > TZ_NAME_MAX || n >= cap)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '-' || c == '+'))
			return -1;
		u[i] = c;
	}
	u[n] = 0;
	return (int)n;
}

int tz_open(const char *name, struct tz **out)
{
	UChar u[TZ_NAME_MAX + 1], canon[TZ_NAME_MAX * 2];
	UErrorCode st = U_ZERO_ERROR;
	UBool sys = 0;
	struct tz *z;
	int n;

	*out = NULL;
	n = name_utf16(name, u, TZ_NAME_MAX + 1);
	if (n < 0)
		return -EINVAL;
	/* an unknown id would open as "Etc/Unknown" (GMT): refuse it here */
	ucal_getCanonicalTimeZoneID(u, n, canon, (int32_t)(sizeof(canon) / sizeof(canon[0])), &sys,
				    &st);
	if (U_FAILURE(st) || !sys)
		return -EINVAL;
	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	z->cal = ucal_open(u, n, "en_US_POSIX", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st) || !z->cal) {
		free(z);
		return st == U_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EINVAL;
	}
	/* Gregorian for every date, as RFC 3339 */
	ucal_setGregorianChange(z->cal, -8.64e15, &st);
	strcpy(z->name, name);
	*out = z;
	return 0;
}

void tz_close(struct tz *z)
{
	if (!z)
		return;
	ucal_close(z->cal);
	free(z);
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

bool tz_valid(const char *name)
{
	struct tz *z;

	if (tz_open(name, &z))
		return false;
	tz_close(z);
	return true;
}

int tz_offset(struct tz *z, int64_t t, int64_t *off_ms)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t raw, dst;

	ucal_setMillis(z->cal, (UDate)t, &st);
	raw = ucal_get(z->cal, UCAL_ZONE_OFFSET, &st);
	dst = ucal_get(z->cal, UCAL_DST_OFFSET, &st);
	if (U_FAILURE(st))
		return -EINVAL;
	*off_ms = (int64_t)raw + dst;
	return 0;
}

int tz_date(struct tz *z, int64_t t, int *y, int *m, int *d)
{
	UErrorCode st = U_ZERO_ERROR;

	ucal_setMillis(z->cal, (UDate)t, &st);
	*y = ucal_get(z->cal, UCAL_EXTENDED_YEAR, &st);
	*m = ucal_get(z->cal, UCAL_MONTH, &st) + 1;
	*d = ucal_get(z->cal, UCAL_DATE, &st);
	return U_FAILURE(st) ? -EINVAL : 0;
}

int tz_midnight(struct tz *z, int y, int m, int d, int64_t *t)
{
	UErrorCode st = U_ZERO_ERROR;
	UDate ms;

	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -EINVAL;
	ucal_clear(z->cal);
	/* a skipped midnight resolves to the first instant after the gap; a
	 * repeated one (clocks back from 01:00 to 00:00) to its first
	 * occurrence, where the date begins (ICU's default is the last) */
	ucal_setAttribute(z->cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_NEXT_VALID);
	ucal_setAttribute(z->cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
	ucal_setDateTime(z->cal, y, m - 1, d, 0, 0, 0, &st);
	ucal_set(z->cal, UCAL_MILLISECOND, 0);
	ms = ucal_getMillis(z->cal, &st);
	if (U_FAILURE(st))
		return -EINVAL;
	*t = (int64_t)ms;
	return 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void tz_date_add(int *y, int *m, int *d, int64_t n)
{
	civil_from_days(days_from_civil(*y, *m, *d) + n, y, m, d);
}

int tz_parse_date(const char *s, int *y, int *m, int *d)
{
	int yy, mm, dd, i, yy2, mm2, dd2;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -EINVAL;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	yy = atoi(s);
	mm = (s[5] - '0') * 10 + (s[6] - '0');
	dd = (s[8] - '0') * 10 + (s[9] - '0');
	if (yy < 1 || mm < 1 || mm > 12 || dd < 1 || dd > 31)
		return -EINVAL;
	/* a real day: it survives a round trip through the day count */
	civil_from_days(days_from_civil(yy, mm, dd), &yy2, &mm2, &dd2);
	if (yy2 != yy || mm2 != mm || dd2 != dd)
		return -EINVAL;
	*y = yy;
	*m = mm;
	*d = dd;
	return 0;
}
