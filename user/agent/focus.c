// SPDX-License-Identifier: BSD-2-Clause
/*
 * focus.c - per-interval focus accounting (see focus.h). Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focus.h"
#include "util.h"

void focus_init(struct focus_acc *f, uint64_t now_ns)
{
	memset(f, 0, sizeof(*f));
	f->since_ns = now_ns;
	f->focused_ns = now_ns;
}

/* Credit [since, now) to what is focused; since moves to now. */
static void credit(struct focus_acc *f, uint64_t now_ns)
{
	uint64_t d = now_ns > f->since_ns ? now_ns - f->since_ns : 0;

	if (f->state == FOCUS_APP)
		f->slot[f->cur].ns += d;
	else if (f->state == FOCUS_UNKNOWN)
		f->unknown_ns += d;
	if (now_ns > f->since_ns)
		f->since_ns = now_ns;
}

/* The slot of (app, title), created if needed; the FOCUS_OTHER slot (the
 * last one) once the table is full. */
static unsigned int slot_for(struct focus_acc *f, const char *app, const char *title)
{
	unsigned int i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->slot[i].app, app) && !strcmp(f->slot[i].title, title))
			return i;
	if (f->n < FOCUS_MAX_KEYS - 1) {
		i = f->n++;
		snprintf(f->slot[i].app, sizeof(f->slot[i].app), "%s", app);
		snprintf(f->slot[i].title, sizeof(f->slot[i].title), "%s", title);
		f->slot[i].ns = 0;
		return i;
	}
	f->overflow++;
	for (i = 0; i < f->n; i++)
		if (!strcmp(f->slot[i].app, FOCUS_OTHER) && !f->slot[i].title[0])
			return i;
	i = f->n++;
	snprintf(f->slot[i].app, sizeof(f->slot[i].app), "%s", FOCUS_OTHER);
	f->slot[i].title[0] = '\0';
	f->slot[i].ns = 0;
	return i;
}

void focus_set(struct focus_acc *f, uint64_t now_ns, enum focus_state state, const char *app,
	       const char *title)
{
	char a[FOCUS_APP_LEN], t[FOCUS_TITLE_LEN];
	unsigned int i;

	credit(f, now_ns);
	if (state == FOCUS_APP && (!app || !*app))
		state = FOCUS_NONE;
	if (state != FOCUS_APP) {
		if (state != f->state)
			f->focused_ns = f->since_ns;
		f->state = state;
		return;
	}
	utf8_clean(a, sizeof(a), app, strlen(app));
	if (title)
		utf8_clean(t, sizeof(t), title, strlen(title));
	else
		t[0] = '\0';
	i = slot_for(f, a, t);
	/* the same app with another title is still the same focus for status */
	if (f->state != FOCUS_APP || strcmp(f->slot[f->cur].app, f->slot[i].app))
		f->focused_ns = f->since_ns;
	f->state = FOCUS_APP;
	f->cur = i;
}

static double to_s(uint64_t ns)
{
	return (double)((ns + 500000) / 1000000) / 1000.0;
}

static int by_ns_desc(const void *x, const void *y)
{
	const struct focus_slot *a = *(const struct focus_slot *const *)x;
	const struct focus_slot *b = *(const struct focus_slot *const *)y;

	return a->ns < b->ns ? 1 : a->ns > b->ns ? -1 : strcmp(a->app, b->app);
}

void focus_take(struct focus_acc *f, uint64_t now_ns, struct focus_total *apps, size_t max_apps,
		size_t *n_apps, struct focus_total *titles, size_t max_titles, size_t *n_titles,
		double *unknown_s)
{
	const struct focus_slot *order[FOCUS_MAX_KEYS];
	struct focus_slot *sums = f->sum;
	unsigned int i, j, ns = 0, no;
	uint64_t rest = 0;
	size_t k = 0, limit;

	credit(f, now_ns);
	/* per-app sums (titles folded) */
	for (i = 0; i < f->n; i++) {
		for (j = 0; j < ns && strcmp(sums[j].app, f->slot[i].app); j++)
			;
		if (j == ns) {
			memcpy(sums[j].app, f->slot[i].app, sizeof(sums[j].app));
			sums[j].title[0] = '\0';
			sums[j].ns = 0;
			ns++;
		}
		sums[j].ns += f->slot[i].ns;
	}
	for (i = 0, no = 0; i < ns; i++)
		if (sums[i].ns)
			order[no++] = &sums[i];
	qsort(order, no, sizeof(order[0]), by_ns_desc);
	/* leave room for FOCUS_OTHER when not everything fits */
	limit = no > max_apps && max_apps ? max_apps - 1 : max_apps;
	for (i = 0; i < no; i++) {
		if (k < limit && strcmp(order[i]->app, FOCUS_OTHER)) {
			apps[k].app = order[i]->app;
			apps[k].title = NULL;
			apps[k].focus_s = to_s(order[i]->ns);
			k++;
		} else {
			rest += order[i]->ns;
		}
	}
	if (rest && k < max_apps) {
		apps[k].app = FOCUS_OTHER;
		apps[k].title = NULL;
		apps[k].focus_s = to_s(rest);
		k++;
	}
	*n_apps = k;
	k = 0;
	if (titles) {
		for (i = 0, no = 0; i < f->n; i++)
			if (f->slot[i].ns && f->slot[i].title[0])
				order[no++] = &f->slot[i];
		qsort(order, no, sizeof(order[0]), by_ns_desc);
		for (i = 0; i < no && k < max_titles; i++, k++) {
			titles[k].app = order[i]->app;
			titles[k].title = order[i]->title;
			titles[k].focus_s = to_s(order[i]->ns);
		}
	}
	if (n_titles)
		*n_titles = k;
	*unknown_s = to_s(f->unknown_ns);
}

void focus_reset(struct focus_acc *f)
{
	struct focus_slot keep;

	f->unknown_ns = 0;
	if (f->state == FOCUS_APP) {
		keep = f->slot[f->cur];
		keep.ns = 0;
		f->slot[0] = keep;
		f->n = 1;
		f->cur = 0;
	} else {
		f->n = 0;
	}
}

const char *focus_current(const struct focus_acc *f, uint64_t now_ns, uint64_t *for_ns)
{
	if (for_ns)
		*for_ns = now_ns > f->focused_ns ? now_ns - f->focused_ns : 0;
	return f->state == FOCUS_APP ? f->slot[f->cur].app : NULL;
}
