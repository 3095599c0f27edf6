// SPDX-License-Identifier: BSD-2-Clause
/*
 * focus_route.c - choosing the focus route (focus_route.h): the order for
 * the desktop, and trying each until one opens.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "focus_route.h"

static const struct focus_route_ops *const all_routes[] = {
    &focus_route_x11,
    &focus_route_wlr,
    &focus_route_kwin,
    &focus_route_gnome,
};

#define N_ROUTES (sizeof(all_routes) / sizeof(all_routes[0]))

_Static_assert(N_ROUTES <= FOCUS_ROUTES_MAX, "FOCUS_ROUTES_MAX too small");

const char *focus_desktop(const struct focus_env *env)
{
	const char *type = env->session_type;

	if (type && !strcmp(type, "wayland"))
		return "wayland";
	if (env->wayland_display && *env->wayland_display && (!type || strcmp(type, "x11")))
		return "wayland";
	return "x11";
}

const struct focus_route_ops *focus_route_by_name(const char *name)
{
	for (size_t i = 0; i < N_ROUTES; i++)
		if (name && !strcmp(all_routes[i]->name, name))
			return all_routes[i];
	return NULL;
}

/* 1 when the colon-separated list desktops (XDG_CURRENT_DESKTOP) names d,
 * case-insensitively. */
static int desktop_is(const char *desktops, const char *d)
{
	size_t n = strlen(d);
	const char *p = desktops;

	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncasecmp(p, d, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int focus_route_order(const struct focus_env *env, const char *force,
		      const struct focus_route_ops **order)
{
	const struct focus_route_ops *first;
	int n = 0;

	if (force) {
		order[0] = focus_route_by_name(force);
		return order[0] ? 1 : 0;
	}
	if (!strcmp(focus_desktop(env), "x11")) {
		order[0] = &focus_route_x11;
		return 1;
	}
	if (desktop_is(env->current_desktop, "GNOME"))
		first = &focus_route_gnome;
	else if (desktop_is(env->current_desktop, "KDE"))
		first = &focus_route_kwin;
	else
		first = &focus_route_wlr;
	order[n++] = first;
	for (size_t i = 0; i < N_ROUTES; i++)
		if (all_routes[i] != first && all_routes[i] != &focus_route_x11)
			order[n++] = all_routes[i];
	return n;
}

int focus_route_pick(struct focus_route *r, const struct focus_env *env, const char *force,
		     struct focus_tried *tried, int *ntried)
{
	const struct focus_route_ops *order[FOCUS_ROUTES_MAX];
	int n = focus_route_order(env, force, order);

	*ntried = 0;
	r->ops = NULL;
	r->st = NULL;
	if (n == 0 && force) {
		tried[0].name = "none";
		snprintf(tried[0].why, sizeof(tried[0].why),
			 "no focus route is named '%s' (x11, wlr, kwin, gnome)", force);
		*ntried = 1;
		return -ENOENT;
	}
	for (int i = 0; i < n; i++) {
		struct focus_tried *t = &tried[*ntried];
		void *st = NULL;
		int err;

		t->why[0] = '\0';
		err = order[i]->open(&st, env, t->why, sizeof(t->why));
		if (!err) {
			r->ops = order[i];
			r->st = st;
			return 0;
		}
		t->name = order[i]->name;
		if (!t->why[0])
			snprintf(t->why, sizeof(t->why), "%s", strerror(-err));
		(*ntried)++;
	}
	return -ENOENT;
}

void focus_route_close(struct focus_route *r)
{
	if (r->ops)
		r->ops->close(r->st);
	r->ops = NULL;
	r->st = NULL;
}
