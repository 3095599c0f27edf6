/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * focus_route.h - how actlog-session learns which application has the
 * focus. A route is one way of asking the desktop; the helper uses one at a
 * time, chosen at start (focus_route_pick) from the environment, and says
 * which one it uses and why each other was not used (the hello's
 * "route"/"routes", actlogctl status, the helper's log).
 *
 *   "x11"    user/session/focus_x11.c: EWMH _NET_ACTIVE_WINDOW, or the input
 *            focus without a window manager (an X11 session);
 *   "wlr"    user/session/focus_wlr.c: the zwlr_foreign_toplevel_manager_v1
 *            Wayland protocol (sway, Hyprland, river, labwc, wayfire ...);
 *   "kwin"   user/session/focus_kwin.c: a KWin script, loaded over D-Bus,
 *            that reports workspace's active window back over D-Bus (KDE
 *            Plasma on Wayland);
 *   "gnome"  user/session/focus_gnome.c: the actlog GNOME Shell extension,
 *            which exports the focused window over the session bus.
 *
 * Order: on X11 only "x11". On Wayland the desktop's own route first (GNOME
 * → gnome, KDE → kwin, anything else → wlr), then the others; Xwayland is
 * never asked (it sees only X11 clients). `--focus-route NAME` forces one.
 *
 * A route that opened may still be unable to tell for a while (the GNOME
 * extension is installed but not enabled, say): its focus_info then has
 * `unknown` set to what to do about it, and the helper reports the focus as
 * unknown with that reason until the route can tell.
 *
 * Every function returns 0 or -errno unless said otherwise and does not
 * log; the helper logs.
 */
#ifndef ACTLOG_FOCUS_ROUTE_H
#define ACTLOG_FOCUS_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "session_proto.h"

#define FOCUS_WHY_LEN 256
#define FOCUS_ROUTES_MAX 4

struct focus_info {
	char source[32];		/* "x11-ewmh", "x11-input-focus", "wlr", "kwin", "gnome" */
	char app[SESSION_APP_LEN];	/* WM_CLASS class / app_id; "" nothing focused */
	char instance[SESSION_APP_LEN]; /* WM_CLASS instance, "" unknown */
	uint32_t pid;			/* the client's pid, 0 unknown */
	char title[SESSION_TITLE_LEN];	/* "" unless titles are on */
	char unknown[FOCUS_WHY_LEN];	/* not "": the route cannot tell now, and why */
};

/* What the routes see of the session (main() fills it from the options and
 * the environment; any field may be NULL). */
struct focus_env {
	const char *display;	     /* X11: --display or $DISPLAY */
	const char *wayland_display; /* $WAYLAND_DISPLAY */
	const char *current_desktop; /* $XDG_CURRENT_DESKTOP, e.g. "GNOME", "KDE", "sway" */
	const char *session_type;    /* $XDG_SESSION_TYPE: "x11", "wayland", ... */
	int titles;		     /* the policy's apps.titles at open */
};

struct focus_route_ops {
	const char *name; /* "x11", "wlr", "kwin", "gnome" */
	/* Connect and learn the current focus. 0, or -errno with why filled
	 * (one line a user can act on: "the compositor does not offer
	 * zwlr_foreign_toplevel_manager_v1", "org.kde.KWin is not on the
	 * session bus"). */
	int (*open)(void **st, const struct focus_env *env, char *why, size_t wlen);
	/* The fd to poll, and the events (POLLIN ...) to poll it for. */
	int (*fd)(void *st);
	short (*events)(void *st);
	/* Milliseconds until dispatch must run even without events, -1 none. */
	int (*timeout_ms)(void *st);
	/* Handle whatever is ready. 1 when the focus (or what is reported of
	 * it) changed, 0 when not, -EPIPE when the display/compositor
	 * connection is gone (the session ended), other -errno: the route
	 * failed for good. */
	int (*dispatch)(void *st);
	void (*focus)(void *st, struct focus_info *fi);
	/* Read titles (on) or stop reading them. 1 when the focus info changed. */
	int (*set_titles)(void *st, int on);
	/* The window manager / compositor's name when known, else "". */
	const char *(*detail)(void *st);
	void (*close)(void *st); /* NULL st ok */
};

extern const struct focus_route_ops focus_route_x11;
extern const struct focus_route_ops focus_route_wlr;
extern const struct focus_route_ops focus_route_kwin;
extern const struct focus_route_ops focus_route_gnome;

/* The route in use. */
struct focus_route {
	const struct focus_route_ops *ops;
	void *st;
};

/* A route that was not used, and why. */
struct focus_tried {
	const char *name;
	char why[FOCUS_WHY_LEN];
};

/* "wayland" or "x11" for env: Wayland when $XDG_SESSION_TYPE says so, or
 * $WAYLAND_DISPLAY is set and the session type does not say x11. */
const char *focus_desktop(const struct focus_env *env);

/* The routes to try for env, in order (force: just that one; NULL when
 * no route has that name). n routes written to order (at most
 * FOCUS_ROUTES_MAX). Pure. */
int focus_route_order(const struct focus_env *env, const char *force,
		      const struct focus_route_ops **order);

/* Look a route up by name; NULL when there is none. */
const struct focus_route_ops *focus_route_by_name(const char *name);

/* Try the routes focus_route_order gives, in order, until one opens. 0 with
 * r set, or -ENOENT when none opened. Either way tried[0..*ntried) holds
 * each route that did not open and why (at most FOCUS_ROUTES_MAX). */
int focus_route_pick(struct focus_route *r, const struct focus_env *env, const char *force,
		     struct focus_tried *tried, int *ntried);

void focus_route_close(struct focus_route *r);

#endif /* ACTLOG_FOCUS_ROUTE_H */
