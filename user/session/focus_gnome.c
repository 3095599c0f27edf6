// SPDX-License-Identifier: BSD-2-Clause
/*
 * focus_gnome.c - the "gnome" focus route (focus_route.h): the actlog GNOME
 * Shell extension (user/session/gnome-extension/actlog-focus@actlog.dev)
 * exports the focused window on the session bus as org.actlog.Focus; this
 * route reads it over sd-bus.
 *
 * open() needs org.gnome.Shell on the session bus. When org.actlog.Focus
 * is owned, the focus comes from its FocusChanged signal (accepted only
 * from the name's current owner) and an initial GetFocus. When it is not,
 * the route stays open and asks the Shell why
 * (org.gnome.Shell.Extensions.GetExtensionInfo): the focus is unknown with
 * what the user must do (or that the screen is locked: the Shell turns
 * extensions off then), until NameOwnerChanged says the extension is up
 * (and back to unknown when it goes). Titles: SetTitles(true) and
 * GetFocus(true) only while the policy allows them; any title that arrives
 * otherwise is dropped. org.gnome.Shell leaving the bus, or the bus going
 * away, is the end of the session (-EPIPE).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "focus_route.h"
#include "util.h"

#define SHELL_BUS "org.gnome.Shell"
#define SHELL_PATH "/org/gnome/Shell"
#define SHELL_IFACE "org.gnome.Shell"
#define EXT_IFACE "org.gnome.Shell.Extensions"
#define FOCUS_BUS "org.actlog.Focus"
#define FOCUS_PATH "/org/actlog/Focus"
#define FOCUS_IFACE "org.actlog.Focus1"
#define GNOME_EXT_UUID "actlog-focus@actlog.dev"
#define SAVER_BUS "org.gnome.ScreenSaver"
#define SAVER_PATH "/org/gnome/ScreenSaver"
#define DBUS_BUS "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"

#define OWNER_MATCH                                                                                \
	"type='signal',sender='" DBUS_BUS "',path='" DBUS_PATH "',interface='" DBUS_BUS            \
	"',member='NameOwnerChanged',"

#define CALL_TIMEOUT_US (2 * 1000 * 1000ULL) /* a D-Bus call: 2 s at most */
#define DICT_MAX 64			     /* a{sv} entries read from a peer */
#define PROCESS_MAX 256			     /* messages per dispatch */
#define RETRY_US (1000 * 1000ULL)	     /* the Shell not ready yet: ask again in */
#define RETRY_MAX 30
#define VERSION_WAITS 20 /* open(): 100 ms each for a Shell still starting */
#define NAME_LEN 256	 /* D-Bus names are at most 255 */

/* GNOME Shell's ExtensionState (js/misc/extensionUtils.js). */
enum {
	EXT_ENABLED = 1,
	EXT_DISABLED = 2,
	EXT_ERROR = 3,
	EXT_OUT_OF_DATE = 4,
	EXT_DOWNLOADING = 5,
	EXT_INITIALIZED = 6,
	EXT_DISABLING = 7,
	EXT_ENABLING = 8,
	EXT_UNINSTALLED = 99,
};

struct gnome {
	sd_bus *bus;
	sd_bus_slot *slot_owner, *slot_shell, *slot_focus, *slot_ext, *slot_saver;
	char owner[NAME_LEN]; /* org.actlog.Focus's unique name, "" none */
	char detail[64];      /* "GNOME Shell 43.9" */
	int shell_gone;	      /* org.gnome.Shell left the bus */
	int refresh;	      /* owner or extension state changed: ask again */
	uint64_t retry_at;    /* CLOCK_MONOTONIC µs: ask the Shell again, 0 no */
	int retries;	      /* of a Shell still starting, up to RETRY_MAX */
	int titles;
	struct focus_info cur;
};

/* The focused window's fields as the extension sends them. */
struct gnome_win {
	char wm_class[SESSION_APP_LEN];
	char instance[SESSION_APP_LEN];
	char app_id[SESSION_APP_LEN];
	char title[SESSION_TITLE_LEN];
	uint32_t pid;
	int has_title;
};

/* Fill fi (cleared first) from w: app is the WM class (a Wayland window's
 * app_id), else the .desktop id without ".desktop"; the title only when
 * titles is on. An empty w (no window focused) gives app "". Pure. */
static void gnome_fill(struct focus_info *fi, const struct gnome_win *w, int titles)
{
	size_t n;

	memset(fi, 0, sizeof(*fi));
	snprintf(fi->source, sizeof(fi->source), "gnome");
	if (w->wm_class[0]) {
		snprintf(fi->app, sizeof(fi->app), "%s", w->wm_class);
	} else if (w->app_id[0]) {
		snprintf(fi->app, sizeof(fi->app), "%s", w->app_id);
		n = strlen(fi->app);
		if (n > 8 && !strcmp(fi->app + n - 8, ".desktop"))
			fi->app[n - 8] = '\0';
	}
	snprintf(fi->instance, sizeof(fi->instance), "%s", w->instance);
	fi->pid = w->pid;
	if (titles && w->has_title)
		snprintf(fi->title, sizeof(fi->title), "%s", w->title);
}

/* Why the focus cannot be known while org.actlog.Focus is not on the bus,
 * from the Shell's GetExtensionInfo answer: found 0 (an empty answer: not
 * installed), state (ExtensionState), its error text, and whether user
 * extensions are on (org.gnome.Shell.Extensions UserExtensionsEnabled,
 * -1 unknown). One line a user can act on, in why. Pure. */
static void gnome_ext_why(int found, int state, const char *error, int user_ext, char *why,
			  size_t wlen)
{
	if (!found || state == EXT_UNINSTALLED) {
		snprintf(why, wlen,
			 "the actlog GNOME Shell extension (" GNOME_EXT_UUID
			 ") is not installed: install actlog-session's extension (make install) "
			 "and log in again");
		return;
	}
	switch (state) {
	case EXT_ENABLED:
	case EXT_ENABLING:
		snprintf(why, wlen,
			 "the actlog GNOME Shell extension is enabled but " FOCUS_BUS
			 " is not on the session bus: log out and in again, or see the Shell's log "
			 "(journalctl --user -b /usr/bin/gnome-shell)");
		break;
	case EXT_ERROR:
		snprintf(why, wlen, "the actlog GNOME Shell extension failed in the Shell: %.160s",
			 error && *error ? error : "(no error text)");
		break;
	case EXT_OUT_OF_DATE:
		snprintf(
		    why, wlen,
		    "the actlog GNOME Shell extension does not support this GNOME Shell version: "
		    "install the extension of this actlog-session (make install) and log in again");
		break;
	default: /* disabled, initialized (never enabled), disabling, downloading */
		if (user_ext == 0)
			snprintf(
			    why, wlen,
			    "GNOME Shell extensions are switched off for this user: run `gsettings "
			    "set org.gnome.shell disable-user-extensions false` and "
			    "`gnome-extensions "
			    "enable " GNOME_EXT_UUID "`");
		else
			snprintf(why, wlen,
				 "the actlog GNOME Shell extension is installed but disabled: run "
				 "`gnome-extensions enable " GNOME_EXT_UUID "`");
		break;
	}
}

/* 1 when the next value of m is a variant holding a sig. */
static int variant_is(sd_bus_message *m, const char *sig)
{
	const char *contents = NULL;
	char type = 0;

	return sd_bus_message_peek_type(m, &type, &contents) > 0 && type == 'v' && contents &&
	       !strcmp(contents, sig);
}

/* Read one a{sv} focus dictionary (the message at it) into w, cleared
 * first: wm_class, wm_class_instance, app_id, title (s), pid (u); other
 * keys skipped, values of another type skipped. -E2BIG past DICT_MAX
 * entries, else 0 or the sd-bus error. */
static int read_win(sd_bus_message *m, struct gnome_win *w)
{
	int r, n = 0;

	memset(w, 0, sizeof(*w));
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *s = NULL;
		char *dst = NULL;
		size_t dlen = 0;

		if (++n > DICT_MAX)
			return -E2BIG;
		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		if (!strcmp(key, "wm_class"))
			dst = w->wm_class, dlen = sizeof(w->wm_class);
		else if (!strcmp(key, "wm_class_instance"))
			dst = w->instance, dlen = sizeof(w->instance);
		else if (!strcmp(key, "app_id"))
			dst = w->app_id, dlen = sizeof(w->app_id);
		else if (!strcmp(key, "title"))
			dst = w->title, dlen = sizeof(w->title);
		if (dst && variant_is(m, "s")) {
			r = sd_bus_message_read(m, "v", "s", &s);
			if (r < 0)
				return r;
			utf8_clean(dst, dlen, s, strlen(s));
			if (dst == w->title)
				w->has_title = 1;
		} else if (!strcmp(key, "pid") && variant_is(m, "u")) {
			r = sd_bus_message_read(m, "v", "u", &w->pid);
			if (r < 0)
				return r;
		} else {
			r = sd_bus_message_skip(m, "v");
			if (r < 0)
				return r;
		}
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 0;
}

/* The unique name owning name into out ("" when none). 0, or -errno of
 * the call (not "has no owner"). */
static int name_owner(sd_bus *bus, const char *name, char *out, size_t len)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *u;
	int r;

	out[0] = '\0';
	r = sd_bus_call_method(bus, DBUS_BUS, DBUS_PATH, DBUS_BUS, "GetNameOwner", &e, &reply, "s",
			       name);
	if (r < 0) {
		r = sd_bus_error_has_name(&e, "org.freedesktop.DBus.Error.NameHasNoOwner") ? 0 : r;
		sd_bus_error_free(&e);
		return r;
	}
	r = sd_bus_message_read(reply, "s", &u);
	if (r >= 0)
		snprintf(out, len, "%s", u);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* The Shell's version into g->detail ("GNOME Shell 43.9"); 0 or -errno
 * (the Shell still starting: its objects are not exported yet). */
static int read_version(struct gnome *g)
{
	char *ver = NULL, v[32];
	int r;

	r = sd_bus_get_property_string(g->bus, SHELL_BUS, SHELL_PATH, SHELL_IFACE, "ShellVersion",
				       NULL, &ver);
	if (r < 0)
		return r;
	utf8_clean(v, sizeof(v), ver, strlen(ver));
	snprintf(g->detail, sizeof(g->detail), "GNOME Shell %s", v);
	free(ver);
	return 0;
}

/* Ask the Shell why org.actlog.Focus is not there: cur cleared, its
 * unknown set. A Shell that does not answer yet (still starting) is asked
 * again every RETRY_US, RETRY_MAX times. */
static void explain(struct gnome *g)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r, found = 0, state = 0, n = 0, user_ext = -1, locked = 0;
	char error[160] = "";

	memset(&g->cur, 0, sizeof(g->cur));
	snprintf(g->cur.source, sizeof(g->cur.source), "gnome");
	/* the Shell turns extensions off while the screen is locked */
	if (sd_bus_call_method(g->bus, SAVER_BUS, SAVER_PATH, SAVER_BUS, "GetActive", NULL, &reply,
			       "") >= 0 &&
	    sd_bus_message_read(reply, "b", &locked) >= 0 && locked) {
		sd_bus_message_unref(reply);
		snprintf(
		    g->cur.unknown, sizeof(g->cur.unknown),
		    "the screen is locked (GNOME Shell turns its extensions off while locked)");
		return;
	}
	reply = sd_bus_message_unref(reply);
	r = sd_bus_call_method(g->bus, SHELL_BUS, SHELL_PATH, EXT_IFACE, "GetExtensionInfo", &e,
			       &reply, "s", GNOME_EXT_UUID);
	if (r < 0) {
		snprintf(
		    g->cur.unknown, sizeof(g->cur.unknown),
		    "the actlog GNOME Shell extension is not running, and GNOME Shell does not "
		    "say why (GetExtensionInfo: %.120s)",
		    e.message ? e.message : strerror(-r));
		sd_bus_error_free(&e);
		if (g->retries++ < RETRY_MAX)
			g->retry_at = mono_us() + RETRY_US;
		return;
	}
	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key, *s;
		double d;

		found = 1;
		if (++n > DICT_MAX || sd_bus_message_read(reply, "s", &key) < 0)
			break;
		if (!strcmp(key, "state") && variant_is(reply, "d") &&
		    sd_bus_message_read(reply, "v", "d", &d) >= 0)
			state = d >= 0 && d < 1000 ? (int)d : 0;
		else if (!strcmp(key, "error") && variant_is(reply, "s") &&
			 sd_bus_message_read(reply, "v", "s", &s) >= 0)
			utf8_clean(error, sizeof(error), s, strlen(s));
		else if (sd_bus_message_skip(reply, "v") < 0)
			break;
		if (sd_bus_message_exit_container(reply) < 0)
			break;
	}
	sd_bus_message_unref(reply);
	if (found && state != EXT_ENABLED) {
		int on = 0;

		if (sd_bus_get_property_trivial(g->bus, SHELL_BUS, SHELL_PATH, EXT_IFACE,
						"UserExtensionsEnabled", NULL, 'b', &on) >= 0)
			user_ext = !!on;
	}
	gnome_ext_why(found, state, error, user_ext, g->cur.unknown, sizeof(g->cur.unknown));
}

/* Learn the focus again: from the extension when org.actlog.Focus is
 * owned (telling it whether titles are wanted), else why not. */
static void refresh(struct gnome *g)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct gnome_win w;
	int r;

	g->retry_at = 0;
	if (!g->owner[0]) {
		explain(g);
		return;
	}
	if (g->titles)
		sd_bus_call_method(g->bus, g->owner, FOCUS_PATH, FOCUS_IFACE, "SetTitles", NULL,
				   NULL, "b", 1);
	r = sd_bus_call_method(g->bus, g->owner, FOCUS_PATH, FOCUS_IFACE, "GetFocus", &e, &reply,
			       "b", g->titles);
	if (r >= 0)
		r = read_win(reply, &w);
	sd_bus_message_unref(reply);
	if (r < 0) {
		memset(&g->cur, 0, sizeof(g->cur));
		snprintf(g->cur.source, sizeof(g->cur.source), "gnome");
		snprintf(g->cur.unknown, sizeof(g->cur.unknown),
			 "the actlog GNOME Shell extension does not answer (GetFocus: %.120s): "
			 "install the extension of this actlog-session and log in again",
			 e.message ? e.message : strerror(-r));
		sd_bus_error_free(&e);
		return;
	}
	gnome_fill(&g->cur, &w, g->titles);
}

/* NameOwnerChanged for org.actlog.Focus or org.gnome.Shell. */
static int on_owner(sd_bus_message *m, void *data, sd_bus_error *err)
{
	struct gnome *g = data;
	const char *name, *old, *new;

	(void)err;
	if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0)
		return 0;
	if (!strcmp(name, SHELL_BUS)) {
		if (!*new)
			g->shell_gone = 1;
	} else if (!strcmp(name, FOCUS_BUS)) {
		snprintf(g->owner, sizeof(g->owner), "%s", new);
		g->refresh = 1;
	}
	return 0;
}

/* FocusChanged: only from org.actlog.Focus's current owner. */
static int on_focus(sd_bus_message *m, void *data, sd_bus_error *err)
{
	struct gnome *g = data;
	const char *sender = sd_bus_message_get_sender(m);
	struct gnome_win w;

	(void)err;
	if (!g->owner[0] || !sender || strcmp(sender, g->owner))
		return 0;
	if (read_win(m, &w) < 0)
		return 0;
	gnome_fill(&g->cur, &w, g->titles);
	return 0;
}

/* ExtensionStateChanged for our extension, or the screen locked or
 * unlocked (ActiveChanged): ask again while the extension is not up. */
static int on_ext_state(sd_bus_message *m, void *data, sd_bus_error *err)
{
	struct gnome *g = data;

	(void)m;
	(void)err;
	if (!g->owner[0])
		g->refresh = 1;
	return 0;
}

static void gnome_close(void *st)
{
	struct gnome *g = st;

	if (!g)
		return;
	sd_bus_slot_unref(g->slot_owner);
	sd_bus_slot_unref(g->slot_shell);
	sd_bus_slot_unref(g->slot_focus);
	sd_bus_slot_unref(g->slot_ext);
	sd_bus_slot_unref(g->slot_saver);
	sd_bus_flush_close_unref(g->bus);
	free(g);
}

static int gnome_open(void **st, const struct focus_env *env, char *why, size_t wlen)
{
	struct gnome *g = calloc(1, sizeof(*g));
	char shell[NAME_LEN];
	int r;

	if (!g)
		return -ENOMEM;
	g->titles = env->titles;
	r = sd_bus_open_user(&g->bus);
	if (r < 0) {
		snprintf(why, wlen,
			 "cannot connect to the session bus (DBUS_SESSION_BUS_ADDRESS, or "
			 "$XDG_RUNTIME_DIR/bus): %s",
			 strerror(-r));
		goto fail;
	}
	sd_bus_set_method_call_timeout(g->bus, CALL_TIMEOUT_US);
	/* watch first, then ask: no change falls between */
	r = sd_bus_add_match(g->bus, &g->slot_owner, OWNER_MATCH "arg0='" FOCUS_BUS "'", on_owner,
			     g);
	if (r >= 0)
		r = sd_bus_add_match(g->bus, &g->slot_shell, OWNER_MATCH "arg0='" SHELL_BUS "'",
				     on_owner, g);
	if (r >= 0)
		r = sd_bus_add_match(g->bus, &g->slot_focus,
				     "type='signal',path='" FOCUS_PATH "',interface='" FOCUS_IFACE
				     "',member='FocusChanged'",
				     on_focus, g);
	if (r >= 0)
		r = sd_bus_add_match(g->bus, &g->slot_ext,
				     "type='signal',path='" SHELL_PATH "',interface='" EXT_IFACE
				     "',member='ExtensionStateChanged',arg0='" GNOME_EXT_UUID "'",
				     on_ext_state, g);
	if (r >= 0)
		r = sd_bus_add_match(g->bus, &g->slot_saver,
				     "type='signal',path='" SAVER_PATH "',interface='" SAVER_BUS
				     "',member='ActiveChanged'",
				     on_ext_state, g);
	if (r < 0) {
		snprintf(why, wlen, "cannot watch the session bus: %s", strerror(-r));
		goto fail;
	}
	r = name_owner(g->bus, SHELL_BUS, shell, sizeof(shell));
	if (r >= 0 && !shell[0])
		r = -ENOENT;
	if (r < 0) {
		snprintf(why, wlen, SHELL_BUS " is not on the session bus");
		goto fail;
	}
	/* a Shell just started owns its name before it exports its objects:
	 * wait for them a little (the version goes into the hello) */
	for (int i = 0; read_version(g) < 0; i++) {
		if (i == VERSION_WAITS) {
			snprintf(g->detail, sizeof(g->detail), "GNOME Shell");
			break;
		}
		usleep(100 * 1000);
	}
	r = name_owner(g->bus, FOCUS_BUS, g->owner, sizeof(g->owner));
	if (r < 0) {
		snprintf(why, wlen, "cannot ask the session bus for " FOCUS_BUS ": %s",
			 strerror(-r));
		goto fail;
	}
	refresh(g);
	*st = g;
	return 0;
fail:
	gnome_close(g);
	return r < 0 ? r : -EIO;
}

static int gnome_fd(void *st)
{
	return sd_bus_get_fd(((struct gnome *)st)->bus);
}

static short gnome_events(void *st)
{
	int e = sd_bus_get_events(((struct gnome *)st)->bus);

	return e < 0 ? POLLIN : (short)e;
}

static int gnome_timeout(void *st)
{
	struct gnome *g = st;
	uint64_t at, now;

	if (sd_bus_get_timeout(g->bus, &at) <= 0)
		at = UINT64_MAX;
	if (g->retry_at && g->retry_at < at)
		at = g->retry_at;
	if (at == UINT64_MAX)
		return -1;
	now = mono_us();
	if (at <= now)
		return 0;
	return at - now > 60ULL * 1000000ULL ? 60000 : (int)((at - now + 999) / 1000);
}

/* 1 when a and b report different things. */
static int differ(const struct focus_info *a, const struct focus_info *b)
{
	return strcmp(a->app, b->app) || strcmp(a->instance, b->instance) || a->pid != b->pid ||
	       strcmp(a->title, b->title) || strcmp(a->unknown, b->unknown) ||
	       strcmp(a->source, b->source);
}

static int gnome_dispatch(void *st)
{
	struct gnome *g = st;
	struct focus_info before = g->cur;
	int r;

	for (int i = 0; i < PROCESS_MAX; i++) {
		r = sd_bus_process(g->bus, NULL);
		if (r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE)
			return -EPIPE;
		if (r < 0)
			return r;
		if (r == 0)
			break;
	}
	if (g->shell_gone || !sd_bus_is_open(g->bus))
		return -EPIPE;
	if (g->retry_at && mono_us() >= g->retry_at) {
		g->retry_at = 0;
		g->refresh = 1;
		if (!strcmp(g->detail, "GNOME Shell"))
			read_version(g);
	}
	if (g->refresh) {
		g->refresh = 0;
		refresh(g);
	}
	return differ(&before, &g->cur);
}

static void gnome_focus(void *st, struct focus_info *fi)
{
	*fi = ((struct gnome *)st)->cur;
}

static int gnome_set_titles(void *st, int on)
{
	struct gnome *g = st;
	struct focus_info before = g->cur;

	on = !!on;
	if (on == g->titles)
		return 0;
	g->titles = on;
	if (!on) {
		g->cur.title[0] = '\0';
		if (g->owner[0])
			sd_bus_call_method(g->bus, g->owner, FOCUS_PATH, FOCUS_IFACE, "SetTitles",
					   NULL, NULL, "b", 0);
	} else {
		refresh(g);
	}
	return differ(&before, &g->cur);
}

static const char *gnome_detail(void *st)
{
	return ((struct gnome *)st)->detail;
}

const struct focus_route_ops focus_route_gnome = {
    .name = "gnome",
    .open = gnome_open,
    .fd = gnome_fd,
    .events = gnome_events,
    .timeout_ms = gnome_timeout,
    .dispatch = gnome_dispatch,
    .focus = gnome_focus,
    .set_titles = gnome_set_titles,
    .detail = gnome_detail,
    .close = gnome_close,
};
