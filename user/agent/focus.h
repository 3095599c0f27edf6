/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * focus.h - seconds of focus per application within an interval. Pure: the
 * caller passes every time (CLOCK_MONOTONIC ns in actlogd, so suspended time
 * is nobody's focus), which lets the unit tests drive it with made-up clocks.
 *
 * A focus_acc keeps what is focused now and since when, and the time
 * credited to each (application, title) pair so far in the interval.
 * focus_set() changes the focus, crediting the time up to now to the old
 * one; focus_take() credits up to the interval's end, returns the totals and
 * starts the next interval with the same focus at that very instant, so an
 * interval boundary splits a focus exactly. Titles are keys only when the
 * caller passes them (policy apps.titles); with NULL titles, one key per app.
 *
 * Caps: FOCUS_MAX_KEYS pairs per interval; time of further pairs goes to
 * the app FOCUS_OTHER (counted, never dropped).
 */
#ifndef ACTLOG_FOCUS_H
#define ACTLOG_FOCUS_H

#include <stddef.h>
#include <stdint.h>

#define FOCUS_APP_LEN 128   /* bytes with the NUL; the ingest cap is 128 */
#define FOCUS_TITLE_LEN 256 /* bytes with the NUL */
#define FOCUS_MAX_KEYS 64
#define FOCUS_OTHER "(other)"

struct focus_slot {
	char app[FOCUS_APP_LEN];
	char title[FOCUS_TITLE_LEN]; /* "" when titles are off */
	uint64_t ns;
};

enum focus_state {
	FOCUS_NONE = 0, /* nothing focused, or no helper: time is nobody's */
	FOCUS_APP,	/* slot[cur] is focused */
	FOCUS_UNKNOWN,	/* a helper is there but cannot tell (Wayland without a protocol) */
};

struct focus_acc {
	struct focus_slot slot[FOCUS_MAX_KEYS];
	unsigned int n;
	enum focus_state state;
	unsigned int cur;    /* slot of the focused app when state == FOCUS_APP */
	uint64_t since_ns;   /* credited up to here */
	uint64_t focused_ns; /* when the current focus began (for status) */
	uint64_t unknown_ns; /* time in FOCUS_UNKNOWN this interval */
	uint64_t overflow;   /* focus changes folded into FOCUS_OTHER, since init */
	struct focus_slot sum[FOCUS_MAX_KEYS]; /* focus_take's per-app sums */
};

/* Start empty with nothing focused. */
void focus_init(struct focus_acc *f, uint64_t now_ns);
/* From now on, app (cleaned to UTF-8, cut) is focused with title (NULL or ""
 * when titles are off). state FOCUS_NONE / FOCUS_UNKNOWN ignore app and
 * title. The running stretch up to now is credited first. A clock that went
 * back credits nothing. */
void focus_set(struct focus_acc *f, uint64_t now_ns, enum focus_state state, const char *app,
	       const char *title);

/* One application's total for the record. */
struct focus_total {
	const char *app;   /* points into the accumulator: valid until focus_take/set */
	const char *title; /* NULL in per-app totals */
	double focus_s;	   /* rounded to milliseconds */
};

/*
 * Close the interval at now_ns: credit the running stretch, then fill
 * apps[0..*n_apps) with per-app totals (titles summed; at most max_apps,
 * largest first, the rest summed into FOCUS_OTHER as the last entry) and, if
 * titles is not NULL, titles[0..*n_titles) with per-(app, title) totals of
 * non-empty titles (largest first, at most max_titles, the rest left out).
 * *unknown_s receives the FOCUS_UNKNOWN time. The strings point into *f and
 * stay valid until the next focus_take(), focus_reset() or focus_set().
 * Call focus_reset() after using them.
 */
void focus_take(struct focus_acc *f, uint64_t now_ns, struct focus_total *apps, size_t max_apps,
		size_t *n_apps, struct focus_total *titles, size_t max_titles, size_t *n_titles,
		double *unknown_s);
/* Forget the interval's totals; the current focus goes on from since_ns. */
void focus_reset(struct focus_acc *f);

/* The focused app, or NULL; *for_ns how long it has been focused (the
 * current stretch, across intervals). */
const char *focus_current(const struct focus_acc *f, uint64_t now_ns, uint64_t *for_ns);

#endif /* ACTLOG_FOCUS_H */
