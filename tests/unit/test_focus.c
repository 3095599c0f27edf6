// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_focus.c - focus accounting with made-up clocks: switches, exact
 * splits at interval boundaries, titles, unknown time, caps.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "focus.h"

#define S 1000000000ULL
static struct focus_acc f;

static double app_s(const struct focus_total *t, size_t n, const char *app)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].app, app))
			return t[i].focus_s;
	return -1;
}

TEST(switches_and_boundaries)
{
	struct focus_total apps[8];
	size_t n, nt;
	double unk;

	focus_init(&f, 100 * S);
	focus_set(&f, 101 * S, FOCUS_APP, "A", NULL); /* 1 s of nothing first */
	focus_set(&f, 104 * S, FOCUS_APP, "B", NULL); /* A 3 s */
	focus_set(&f, 109 * S, FOCUS_APP, "A", NULL); /* B 5 s */
	/* the interval ends in the middle of A's second stretch */
	focus_take(&f, 110 * S + S / 2, apps, 8, &n, NULL, 0, &nt, &unk);
	CHECK_EQ(n, 2);
	CHECK_STR(apps[0].app, "B"); /* largest first */
	CHECK(apps[0].focus_s == 5.0);
	CHECK(app_s(apps, n, "A") == 4.5);
	CHECK(unk == 0);
	CHECK_EQ(nt, 0);
	focus_reset(&f);
	/* the next interval starts exactly where the last one ended */
	focus_take(&f, 112 * S, apps, 8, &n, NULL, 0, &nt, &unk);
	CHECK_EQ(n, 1);
	CHECK(app_s(apps, n, "A") == 1.5);
	focus_reset(&f);
	/* nothing focused: no time */
	focus_set(&f, 113 * S, FOCUS_NONE, NULL, NULL);
	focus_set(&f, 115 * S, FOCUS_APP, "", NULL); /* an empty app is nothing too */
	focus_take(&f, 116 * S, apps, 8, &n, NULL, 0, &nt, &unk);
	CHECK_EQ(n, 1);
	CHECK(app_s(apps, n, "A") == 1.0);
	focus_reset(&f);
	CHECK(focus_current(&f, 116 * S, NULL) == NULL);
}

TEST(unknown_and_clock_back)
{
	struct focus_total apps[4];
	size_t n, nt;
	double unk;
	uint64_t for_ns;

	focus_init(&f, 10 * S);
	focus_set(&f, 10 * S, FOCUS_UNKNOWN, NULL, NULL);
	focus_set(&f, 13 * S, FOCUS_APP, "A", NULL);
	CHECK_STR(focus_current(&f, 14 * S, &for_ns), "A");
	CHECK_EQ(for_ns, 1 * S);
	focus_set(&f, 12 * S, FOCUS_APP, "B", NULL); /* a clock that went back credits nothing */
	focus_take(&f, 15 * S, apps, 4, &n, NULL, 0, &nt, &unk);
	CHECK(unk == 3.0);
	CHECK(app_s(apps, n, "A") == 0 || app_s(apps, n, "A") == -1);
	CHECK(app_s(apps, n, "B") == 2.0);
	focus_reset(&f);
	/* status: a new title of the same app keeps the stretch */
	focus_set(&f, 16 * S, FOCUS_APP, "B", "t2");
	CHECK_STR(focus_current(&f, 17 * S, &for_ns), "B");
	CHECK_EQ(for_ns, 4 * S); /* B counts from 13 s: the clock went back to 12 */
}

TEST(titles)
{
	struct focus_total apps[4], titles[4];
	size_t n, nt;
	double unk;

	focus_init(&f, 0);
	focus_set(&f, 0, FOCUS_APP, "Mail", "Inbox");
	focus_set(&f, 2 * S, FOCUS_APP, "Mail", "Draft");
	focus_set(&f, 3 * S, FOCUS_APP, "Web", NULL);
	focus_set(&f, 4 * S, FOCUS_APP, "Mail", "Inbox");
	focus_take(&f, 5 * S, apps, 4, &n, titles, 4, &nt, &unk);
	CHECK_EQ(n, 2);
	CHECK(app_s(apps, n, "Mail") == 4.0); /* titles fold into the app */
	CHECK(app_s(apps, n, "Web") == 1.0);
	CHECK_EQ(nt, 2); /* Web has no title: not a title entry */
	CHECK_STR(titles[0].title, "Inbox");
	CHECK(titles[0].focus_s == 3.0);
	CHECK_STR(titles[1].title, "Draft");
	focus_reset(&f);
}

TEST(caps)
{
	struct focus_total apps[4];
	char name[32];
	size_t n, nt;
	double unk, sum = 0;
	unsigned int i;

	focus_init(&f, 0);
	/* more apps than slots: the rest goes to FOCUS_OTHER, nothing is lost */
	for (i = 0; i < FOCUS_MAX_KEYS + 10; i++) {
		snprintf(name, sizeof(name), "app%u", i);
		focus_set(&f, (uint64_t)i * S, FOCUS_APP, name, NULL);
	}
	focus_take(&f, (uint64_t)(FOCUS_MAX_KEYS + 10) * S, apps, 4, &n, NULL, 0, &nt, &unk);
	CHECK_EQ(n, 4); /* at most max_apps, the last one FOCUS_OTHER */
	CHECK_STR(apps[3].app, FOCUS_OTHER);
	for (i = 0; i < n; i++)
		sum += apps[i].focus_s;
	CHECK(sum == (double)(FOCUS_MAX_KEYS + 10));
	CHECK(f.overflow > 0);
	focus_reset(&f);
	/* a long app name is cut at a UTF-8 boundary */
	memset(name, 0, sizeof(name));
	{
		char big[400];

		for (i = 0; i + 2 < sizeof(big); i += 2)
			memcpy(big + i, "\xc3\xa9", 2);
		big[i] = '\0';
		focus_set(&f, 100 * S, FOCUS_APP, big, NULL);
		CHECK(strlen(focus_current(&f, 100 * S, NULL)) <= FOCUS_APP_LEN - 1);
		CHECK(strlen(focus_current(&f, 100 * S, NULL)) % 2 == 0);
	}
}

int main(void)
{
	RUN(switches_and_boundaries);
	RUN(unknown_and_clock_back);
	RUN(titles);
	RUN(caps);
	return check_failed_total ? 1 : 0;
}
