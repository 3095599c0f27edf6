// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_focus_route.c - the focus route chosen for each desktop, the order
 * of the fallbacks, --focus-route, and what is recorded of the routes that
 * did not open. The four routes are stand-ins here that open or fail on
 * demand (the real ones are tested against real compositors).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../user/session/focus_route.c"

static const char *opens; /* the one route that opens, NULL none */
static char opened[64];	  /* the routes tried, in order */

static int fake_open(const char *name, void **st, char *why, size_t wlen)
{
	strcat(opened, name);
	strcat(opened, " ");
	if (opens && !strcmp(opens, name)) {
		*st = (void *)name;
		return 0;
	}
	snprintf(why, wlen, "%s says no", name);
	return -ENOTSUP;
}

#define FAKE(n)                                                                                    \
	static int open_##n(void **st, const struct focus_env *env, char *why, size_t wlen)        \
	{                                                                                          \
		(void)env;                                                                         \
		return fake_open(#n, st, why, wlen);                                               \
	}                                                                                          \
	static void close_##n(void *st)                                                            \
	{                                                                                          \
		(void)st;                                                                          \
	}                                                                                          \
	const struct focus_route_ops focus_route_##n = {                                           \
	    .name = #n, .open = open_##n, .close = close_##n};
FAKE(x11)
FAKE(wlr)
FAKE(kwin)
FAKE(gnome)

static const char *order_of(const struct focus_env *env, const char *force)
{
	static char buf[64];
	const struct focus_route_ops *o[FOCUS_ROUTES_MAX];
	int n = focus_route_order(env, force, o);

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		strcat(buf, o[i]->name);
		strcat(buf, i + 1 < n ? "," : "");
	}
	return buf;
}

TEST(desktop_kind)
{
	struct focus_env e = {0};

	CHECK_STR(focus_desktop(&e), "x11");
	e.wayland_display = "wayland-0";
	CHECK_STR(focus_desktop(&e), "wayland");
	e.session_type = "x11"; /* an X11 session that also has a Wayland socket */
	CHECK_STR(focus_desktop(&e), "x11");
	e.session_type = "wayland";
	e.wayland_display = NULL;
	CHECK_STR(focus_desktop(&e), "wayland");
	e.wayland_display = "";
	e.session_type = "tty";
	CHECK_STR(focus_desktop(&e), "x11");
}

TEST(order_per_desktop)
{
	struct focus_env e = {.display = ":0"};

	CHECK_STR(order_of(&e, NULL), "x11");
	e.wayland_display = "wayland-1";
	e.current_desktop = "GNOME";
	CHECK_STR(order_of(&e, NULL), "gnome,wlr,kwin");
	e.current_desktop = "ubuntu:GNOME";
	CHECK_STR(order_of(&e, NULL), "gnome,wlr,kwin");
	e.current_desktop = "KDE";
	CHECK_STR(order_of(&e, NULL), "kwin,wlr,gnome");
	e.current_desktop = "sway";
	CHECK_STR(order_of(&e, NULL), "wlr,kwin,gnome");
	e.current_desktop = NULL;
	CHECK_STR(order_of(&e, NULL), "wlr,kwin,gnome");
	/* a name inside another is not that desktop */
	e.current_desktop = "NOTGNOME";
	CHECK_STR(order_of(&e, NULL), "wlr,kwin,gnome");
	CHECK_STR(order_of(&e, "kwin"), "kwin");
	CHECK_STR(order_of(&e, "x11"), "x11");
	CHECK_STR(order_of(&e, "mutter"), "");
	CHECK(focus_route_by_name("gnome") == &focus_route_gnome);
	CHECK(focus_route_by_name(NULL) == NULL);
}

TEST(pick_records_the_others)
{
	struct focus_env e = {.wayland_display = "wayland-1", .current_desktop = "KDE"};
	struct focus_tried t[FOCUS_ROUTES_MAX];
	struct focus_route r;
	int n;

	opens = "gnome";
	opened[0] = '\0';
	CHECK_EQ(focus_route_pick(&r, &e, NULL, t, &n), 0);
	CHECK_STR(opened, "kwin wlr gnome ");
	CHECK(r.ops == &focus_route_gnome);
	CHECK_EQ(n, 2);
	CHECK_STR(t[0].name, "kwin");
	CHECK_STR(t[0].why, "kwin says no");
	CHECK_STR(t[1].name, "wlr");
	focus_route_close(&r);
	CHECK(r.ops == NULL);

	opens = NULL;
	opened[0] = '\0';
	CHECK_EQ(focus_route_pick(&r, &e, NULL, t, &n), -ENOENT);
	CHECK_EQ(n, 3);
	CHECK(r.ops == NULL);
	CHECK_STR(t[2].why, "gnome says no");

	/* forced: only that one is tried */
	opens = "wlr";
	opened[0] = '\0';
	CHECK_EQ(focus_route_pick(&r, &e, "kwin", t, &n), -ENOENT);
	CHECK_STR(opened, "kwin ");
	CHECK_EQ(n, 1);
	CHECK_EQ(focus_route_pick(&r, &e, "none-such", t, &n), -ENOENT);
	CHECK(strstr(t[0].why, "no focus route is named 'none-such'") != NULL);
}

int main(void)
{
	RUN(desktop_kind);
	RUN(order_per_desktop);
	RUN(pick_records_the_others);
	return CHECK_DONE();
}
