// SPDX-License-Identifier: BSD-2-Clause
/*
 * focus_kwin.c - the "kwin" focus route (focus_route.h): KDE Plasma on
 * Wayland. KWin tells nobody outside which window is active, but it runs
 * scripts: the route writes a small KWin script (JavaScript) to
 * $XDG_RUNTIME_DIR (0600), loads it over the session bus (org.kde.KWin
 * /Scripting org.kde.kwin.Scripting.loadScript, then the script's run()),
 * and the script calls the helper back on its unique bus name whenever the
 * active window changes, once at start too:
 *
 *   KWin script --callDBus--> <helper's unique name> /org/actlog/KWinFocus
 *       org.actlog.KWinFocus1.Focus(s resourceClass, s resourceName,
 *                                   s pid, s caption)
 *
 * The pid travels as a decimal string: the D-Bus type KWin gives a
 * JavaScript number depends on the Qt version. Only calls whose sender is
 * org.kde.KWin's current owner are taken; anything else on the bus gets
 * org.freedesktop.DBus.Error.AccessDenied. Titles: the script is generated
 * without the caption while titles are off (the caption argument is then
 * always ""), and with it (following caption changes) while they are on;
 * a change of policy loads the other variant and unloads the first. A
 * caption that still arrives while titles are off is dropped at once.
 *
 * KWin leaving the bus (NameOwnerChanged) makes the focus unknown; when
 * org.kde.KWin comes back the script is loaded again (retried with a
 * back-off: KWin takes its name before its /Scripting object exists). The
 * bus connection closing is the session's end (-EPIPE). close() unloads the
 * script and removes its file.
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

#define KWIN_BUS "org.kde.KWin"
#define KWIN_SCRIPTING_PATH "/Scripting"
#define KWIN_SCRIPTING_IFACE "org.kde.kwin.Scripting"
#define KWIN_SCRIPT_IFACE "org.kde.kwin.Script"
#define FOCUS_PATH "/org/actlog/KWinFocus"
#define FOCUS_IFACE "org.actlog.KWinFocus1"

/* One D-Bus call to KWin may take this long (ms). */
#define KWIN_CALL_MS 3000u
/* open() waits this long for the script's first report (ms). */
#define KWIN_FIRST_MS 2000u
/* Loading again after KWin came back: back-off bounds (ms). */
#define KWIN_RETRY_MIN_MS 250u
#define KWIN_RETRY_MAX_MS 10000u
/* Messages handled per dispatch; the rest wait for the next round. */
#define KWIN_BATCH 64
/* The longest script text generated (bytes). */
#define KWIN_SCRIPT_MAX 4096

struct kwin {
	sd_bus *bus;
	sd_bus_slot *obj_slot;	 /* the Focus object */
	sd_bus_slot *match_slot; /* NameOwnerChanged for org.kde.KWin */
	char owner[256];	 /* org.kde.KWin's unique name, "" gone */
	char plugin[64];	 /* the loaded script's plugin name, "" none */
	char script[4096];	 /* its file */
	unsigned int gen;	 /* scripts loaded so far */
	int titles;
	int reported;	      /* the running script has reported once */
	int changed;	      /* cur changed since the last dispatch */
	int need_load;	      /* KWin is back: load the script again */
	uint64_t retry_at_ns; /* CLOCK_MONOTONIC of the next load attempt */
	uint32_t retry_ms;    /* the current back-off */
	struct focus_info cur;
};

/* 1 when s is a bus unique name safe to put in a JavaScript string
 * (":1.42"): ':' then letters, digits, '.', '_', '-'; at most 255 bytes.
 * Pure. */
static int unique_name_ok(const char *s)
{
	size_t i;

	if (!s || s[0] != ':')
		return 0;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (i >= 255 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return i > 1;
}

/* Write into buf (len bytes) the KWin script that reports the active window
 * to dest (a unique name, see unique_name_ok) at FOCUS_PATH; with the
 * caption, and following caption changes, only when titles. Handles
 * Plasma 5 (workspace.clientActivated, activeClient) and Plasma 6
 * (workspace.windowActivated, activeWindow), and reports the active window
 * once at start. Bytes written (without the NUL), -EINVAL for a bad dest,
 * -ENOSPC when len is too small. Pure. */
static int kwin_script_text(char *buf, size_t len, const char *dest, int titles)
{
	int n;

	if (!unique_name_ok(dest))
		return -EINVAL;
	n = snprintf(
	    buf, len,
	    "// actlog-session: reports the active window to %s (generated)\n"
	    "var dest = \"%s\", titles = %s, watched = null;\n"
	    "function str(v) { return v === undefined || v === null ? \"\" : String(v); }\n"
	    "function report(w) {\n"
	    "    if (!w) {\n"
	    "        callDBus(dest, \"" FOCUS_PATH "\", \"" FOCUS_IFACE "\", \"Focus\", "
	    "\"\", \"\", \"0\", \"\");\n"
	    "        return;\n"
	    "    }\n"
	    "    callDBus(dest, \"" FOCUS_PATH "\", \"" FOCUS_IFACE "\", \"Focus\",\n"
	    "             str(w.resourceClass), str(w.resourceName),\n"
	    "             w.pid > 0 ? String(w.pid) : \"0\", titles ? str(w.caption) : \"\");\n"
	    "}\n"
	    "function onCaption() { report(watched); }\n"
	    "function activated(w) {\n"
	    "    if (titles && watched && watched.captionChanged)\n"
	    "        try { watched.captionChanged.disconnect(onCaption); } catch (e) {}\n"
	    "    watched = w ? w : null;\n"
	    "    if (titles && watched && watched.captionChanged)\n"
	    "        watched.captionChanged.connect(onCaption);\n"
	    "    report(watched);\n"
	    "}\n"
	    "if (workspace.windowActivated)\n"
	    "    workspace.windowActivated.connect(activated);\n"
	    "else\n"
	    "    workspace.clientActivated.connect(activated);\n"
	    "activated(workspace.activeWindow !== undefined ? workspace.activeWindow "
	    ": workspace.activeClient);\n",
	    dest, dest, titles ? "true" : "false");
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* Fill fi from one Focus call's arguments: class and name cleaned
 * (utf8_clean, cut to SESSION_APP_LEN), pid from its decimal string (0 when
 * it is not one below 2^31), the caption only when titles. An empty class
 * is "nothing focused" (fi->app ""). fi->source is "kwin", fi->unknown "".
 * Pure. */
static void kwin_focus_args(struct focus_info *fi, const char *cls, const char *name,
			    const char *pid, const char *caption, int titles)
{
	unsigned long v = 0;
	size_t i;

	memset(fi, 0, sizeof(*fi));
	snprintf(fi->source, sizeof(fi->source), "kwin");
	utf8_clean(fi->app, sizeof(fi->app), cls, strnlen(cls, sizeof(fi->app) - 1));
	if (fi->app[0])
		utf8_clean(fi->instance, sizeof(fi->instance), name,
			   strnlen(name, sizeof(fi->instance) - 1));
	for (i = 0; pid[i] >= '0' && pid[i] <= '9' && i < 10; i++)
		v = v * 10 + (unsigned long)(pid[i] - '0');
	if (fi->app[0] && i > 0 && !pid[i] && v < 0x80000000ul)
		fi->pid = (uint32_t)v;
	if (fi->app[0] && titles)
		utf8_clean(fi->title, sizeof(fi->title), caption,
			   strnlen(caption, sizeof(fi->title) - 1));
}

/* The focus is unknown for why; note the change. */
static void set_unknown(struct kwin *k, const char *why)
{
	if (!strcmp(k->cur.unknown, why))
		return;
	memset(&k->cur, 0, sizeof(k->cur));
	snprintf(k->cur.source, sizeof(k->cur.source), "kwin");
	snprintf(k->cur.unknown, sizeof(k->cur.unknown), "%s", why);
	k->changed = 1;
}

/* org.actlog.KWinFocus1.Focus from the script: only from org.kde.KWin's
 * owner. */
static int on_focus(sd_bus_message *m, void *data, sd_bus_error *e)
{
	const char *sender = sd_bus_message_get_sender(m);
	const char *cls, *name, *pid, *caption;
	struct kwin *k = data;
	struct focus_info fi;
	int r;

	if (!k->owner[0] || !sender || strcmp(sender, k->owner))
		return sd_bus_error_setf(e, SD_BUS_ERROR_ACCESS_DENIED,
					 "only %s reports the focus here", KWIN_BUS);
	r = sd_bus_message_read(m, "ssss", &cls, &name, &pid, &caption);
	if (r < 0)
		return r;
	kwin_focus_args(&fi, cls, name, pid, caption, k->titles);
	k->reported = 1;
	if (memcmp(&fi, &k->cur, sizeof(fi))) {
		k->cur = fi;
		k->changed = 1;
	}
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable focus_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Focus", "ssss", "", on_focus, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

/* NameOwnerChanged(org.kde.KWin, old, new): KWin left or came back. */
static int on_owner(sd_bus_message *m, void *data, sd_bus_error *e)
{
	const char *name, *old, *new;
	struct kwin *k = data;

	(void)e;
	if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || strcmp(name, KWIN_BUS))
		return 0;
	if (k->owner[0]) { /* its scripts went with it */
		k->owner[0] = '\0';
		k->plugin[0] = '\0';
		set_unknown(k, "KWin left the session bus; the focus is unknown until it is back");
	}
	if (new[0] && strlen(new) < sizeof(k->owner)) {
		snprintf(k->owner, sizeof(k->owner), "%s", new);
		k->need_load = 1;
		k->retry_ms = 0;
		k->retry_at_ns = clock_ns(CLOCK_MONOTONIC);
	} else {
		k->need_load = 0;
	}
	return 0;
}

/* An error from a call to KWin, in words (the first line of its message). */
static int call_failed(const char *what, const sd_bus_error *e, int r, char *why, size_t len)
{
	char msg[160];
	size_t i;

	snprintf(msg, sizeof(msg), "%s",
		 e && e->message ? e->message
		 : e && e->name	 ? e->name
				 : strerror(r < 0 ? -r : EIO));
	for (i = 0; msg[i]; i++)
		if ((unsigned char)msg[i] < 0x20)
			msg[i] = ' ';
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_METHOD) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_INTERFACE)) {
		say_why(why, len, "KWin has no scripting over D-Bus (%s: %s)", what, msg);
		return -ENOSYS;
	}
	if (r == -ETIMEDOUT || sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT)) {
		say_why(why, len, "KWin did not answer %s within %u s", what, KWIN_CALL_MS / 1000);
		return -ETIMEDOUT;
	}
	say_why(why, len, "KWin's %s failed: %s", what, msg);
	return r < 0 ? r : -EIO;
}

/* Unload plugin from KWin (when it is there); errors ignored: a KWin that
 * is gone took its scripts along. */
static void unload(struct kwin *k, const char *plugin)
{
	if (!plugin[0] || !k->owner[0])
		return;
	sd_bus_call_method(k->bus, KWIN_BUS, KWIN_SCRIPTING_PATH, KWIN_SCRIPTING_IFACE,
			   "unloadScript", NULL, NULL, "s", plugin);
}

/* Start the script KWin loaded as id: its object is /Scripting/Script<id>
 * (Plasma 6) or /<id> (Plasma 5); failing both, Scripting.start() runs
 * every script loaded and not yet running. */
static int run_script(struct kwin *k, int id, char *why, size_t wlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char path[64];
	int r;

	snprintf(path, sizeof(path), KWIN_SCRIPTING_PATH "/Script%d", id);
	r = sd_bus_call_method(k->bus, KWIN_BUS, path, KWIN_SCRIPT_IFACE, "run", &e, NULL, "");
	if (r >= 0)
		return 0;
	sd_bus_error_free(&e);
	snprintf(path, sizeof(path), "/%d", id);
	r = sd_bus_call_method(k->bus, KWIN_BUS, path, KWIN_SCRIPT_IFACE, "run", &e, NULL, "");
	if (r >= 0)
		return 0;
	sd_bus_error_free(&e);
	r = sd_bus_call_method(k->bus, KWIN_BUS, KWIN_SCRIPTING_PATH, KWIN_SCRIPTING_IFACE, "start",
			       &e, NULL, "");
	if (r < 0)
		r = call_failed("Scripting.start", &e, r, why, wlen);
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

/* Write the script for the current titles setting to a new file, load it
 * under a new plugin name and run it; then unload the one it replaces and
 * remove its file. 0, or -errno with why (the previous script, if any,
 * stays). */
static int load(struct kwin *k, char *why, size_t wlen)
{
	const char *dir = getenv("XDG_RUNTIME_DIR"), *me;
	char text[KWIN_SCRIPT_MAX], path[sizeof(k->script)], plugin[sizeof(k->plugin)];
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r, n, id;

	if (!dir || dir[0] != '/') {
		say_why(why, wlen,
			"XDG_RUNTIME_DIR is not set: no private place for the KWin script");
		return -ENOENT;
	}
	r = sd_bus_get_unique_name(k->bus, &me);
	if (r < 0) {
		say_why(why, wlen, "no unique name on the session bus: %s", strerror(-r));
		return r;
	}
	n = kwin_script_text(text, sizeof(text), me, k->titles);
	if (n < 0) {
		say_why(why, wlen, "cannot write the KWin script for bus name %s", me);
		return n;
	}
	k->gen++;
	snprintf(plugin, sizeof(plugin), "actlog-focus-%d-%u", (int)getpid(), k->gen);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.js", dir, plugin) >= sizeof(path)) {
		say_why(why, wlen, "XDG_RUNTIME_DIR is too long for the KWin script's path");
		return -ENAMETOOLONG;
	}
	r = write_file_atomic(path, NULL, text, (size_t)n, 0600);
	if (r < 0) {
		say_why(why, wlen, "cannot write the KWin script %s: %s", path, strerror(-r));
		return r;
	}
	r = sd_bus_call_method(k->bus, KWIN_BUS, KWIN_SCRIPTING_PATH, KWIN_SCRIPTING_IFACE,
			       "loadScript", &e, &reply, "ss", path, plugin);
	if (r < 0) {
		r = call_failed("Scripting.loadScript", &e, r, why, wlen);
		goto fail;
	}
	r = sd_bus_message_read(reply, "i", &id);
	if (r < 0) {
		say_why(why, wlen, "KWin's loadScript answered something else than a script id");
		goto fail;
	}
	if (id < 0) {
		say_why(why, wlen, "KWin refused to load the script %s (loadScript returned %d)",
			path, id);
		r = -EIO;
		goto fail;
	}
	r = run_script(k, id, why, wlen);
	if (r < 0) {
		unload(k, plugin);
		goto fail;
	}
	unload(k, k->plugin);
	if (k->script[0])
		unlink(k->script);
	snprintf(k->plugin, sizeof(k->plugin), "%s", plugin);
	snprintf(k->script, sizeof(k->script), "%s", path);
	k->reported = 0;
	sd_bus_message_unref(reply);
	return 0;
fail:
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	unlink(path);
	return r;
}

/* org.kde.KWin's owner into k->owner; -ENXIO when it has none. */
static int get_owner(struct kwin *k, char *why, size_t wlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *o;
	int r;

	r = sd_bus_call_method(k->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetNameOwner", &e, &reply, "s", KWIN_BUS);
	if (r < 0) {
		if (sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
			say_why(why, wlen,
				"%s is not on the session bus (not a KDE Plasma session, "
				"or KWin is not running)",
				KWIN_BUS);
			r = -ENXIO;
		} else {
			r = call_failed("GetNameOwner", &e, r, why, wlen);
		}
	} else if ((r = sd_bus_message_read(reply, "s", &o)) >= 0) {
		snprintf(k->owner, sizeof(k->owner), "%s", o);
		r = 0;
	}
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return r;
}

/* Handle up to KWIN_BATCH queued messages. 0, -EPIPE when the bus is gone,
 * other -errno. */
static int process(struct kwin *k)
{
	int i, r = 0;

	for (i = 0; i < KWIN_BATCH; i++) {
		r = sd_bus_process(k->bus, NULL);
		if (r <= 0)
			break;
	}
	if (r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE || sd_bus_is_open(k->bus) <= 0)
		return -EPIPE;
	return r < 0 ? r : 0;
}

static void kwin_close(void *st)
{
	struct kwin *k = st;

	if (!k)
		return;
	if (k->bus && sd_bus_is_open(k->bus) > 0)
		unload(k, k->plugin);
	if (k->script[0])
		unlink(k->script);
	sd_bus_slot_unref(k->obj_slot);
	sd_bus_slot_unref(k->match_slot);
	sd_bus_flush_close_unref(k->bus);
	free(k);
}

static int kwin_open(void **st, const struct focus_env *env, char *why, size_t wlen)
{
	struct kwin *k;
	uint64_t deadline;
	int r;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->titles = !!env->titles;
	r = sd_bus_open_user(&k->bus);
	if (r < 0) {
		say_why(why, wlen, "cannot connect to the session bus: %s", strerror(-r));
		goto fail;
	}
	sd_bus_set_method_call_timeout(k->bus, (uint64_t)KWIN_CALL_MS * 1000);
	r = sd_bus_add_object_vtable(k->bus, &k->obj_slot, FOCUS_PATH, FOCUS_IFACE, focus_vtable,
				     k);
	if (r < 0) {
		say_why(why, wlen, "cannot export %s on the session bus: %s", FOCUS_PATH,
			strerror(-r));
		goto fail;
	}
	/* watch before asking, so that no change between the two is missed */
	r = sd_bus_match_signal(k->bus, &k->match_slot, "org.freedesktop.DBus",
				"/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged",
				on_owner, k);
	if (r < 0) {
		say_why(why, wlen, "cannot watch org.kde.KWin on the session bus: %s",
			strerror(-r));
		goto fail;
	}
	r = get_owner(k, why, wlen);
	if (r < 0)
		goto fail;
	r = load(k, why, wlen);
	if (r < 0)
		goto fail;
	/* the script reports the active window once at start */
	set_unknown(k, "the KWin script has not reported the active window yet");
	deadline = clock_ns(CLOCK_MONOTONIC) + (uint64_t)KWIN_FIRST_MS * NSEC_PER_MSEC;
	while (!k->reported && k->owner[0]) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);

		r = sd_bus_process(k->bus, NULL);
		if (r < 0) {
			say_why(why, wlen, "the session bus failed: %s", strerror(-r));
			goto fail;
		}
		if (r > 0)
			continue;
		if (now >= deadline)
			break;
		sd_bus_wait(k->bus, (deadline - now) / 1000);
	}
	k->changed = 0;
	*st = k;
	return 0;
fail:
	kwin_close(k);
	return r < 0 ? r : -EIO;
}

static int kwin_fd(void *st)
{
	return sd_bus_get_fd(((struct kwin *)st)->bus);
}

static short kwin_events(void *st)
{
	int e = sd_bus_get_events(((struct kwin *)st)->bus);

	return e < 0 ? POLLIN : (short)e;
}

static int kwin_timeout(void *st)
{
	struct kwin *k = st;
	uint64_t usec = UINT64_MAX, now = clock_ns(CLOCK_MONOTONIC), at = UINT64_MAX;

	if (sd_bus_get_timeout(k->bus, &usec) >= 0 && usec != UINT64_MAX)
		at = usec * 1000;
	if (k->need_load && k->retry_at_ns < at)
		at = k->retry_at_ns;
	if (at == UINT64_MAX)
		return -1;
	if (at <= now)
		return 0;
	return (at - now) / NSEC_PER_MSEC > 60000 ? 60000 : (int)((at - now) / NSEC_PER_MSEC) + 1;
}

static int kwin_dispatch(void *st)
{
	struct kwin *k = st;
	char why[FOCUS_WHY_LEN - 64], msg[FOCUS_WHY_LEN];
	int r;

	r = process(k);
	if (r < 0)
		return r;
	if (k->need_load && clock_ns(CLOCK_MONOTONIC) >= k->retry_at_ns) {
		why[0] = '\0';
		r = load(k, why, sizeof(why));
		if (r == 0) {
			k->need_load = 0;
			set_unknown(k, "the KWin script has not reported the active window yet");
		} else {
			k->retry_ms =
			    backoff_next(k->retry_ms, KWIN_RETRY_MIN_MS, KWIN_RETRY_MAX_MS);
			k->retry_at_ns =
			    clock_ns(CLOCK_MONOTONIC) + (uint64_t)k->retry_ms * NSEC_PER_MSEC;
			snprintf(msg, sizeof(msg), "KWin is back but %s; retrying", why);
			set_unknown(k, msg);
		}
		r = process(k); /* what the calls above queued */
		if (r < 0)
			return r;
	}
	r = k->changed;
	k->changed = 0;
	return r;
}

static void kwin_focus(void *st, struct focus_info *fi)
{
	*fi = ((struct kwin *)st)->cur;
}

static int kwin_set_titles(void *st, int on)
{
	struct kwin *k = st;
	char why[FOCUS_WHY_LEN];
	int changed = 0;

	on = !!on;
	if (on == k->titles)
		return 0;
	k->titles = on;
	if (!on && k->cur.title[0]) {
		k->cur.title[0] = '\0';
		changed = 1;
	}
	/* the other variant of the script; on failure the first one stays
	 * (captions are dropped here while titles are off) */
	if (k->owner[0] && k->plugin[0] && !k->need_load)
		load(k, why, sizeof(why));
	return changed;
}

static const char *kwin_detail(void *st)
{
	return ((struct kwin *)st)->owner[0] ? "KWin" : "";
}

const struct focus_route_ops focus_route_kwin = {
    .name = "kwin",
    .open = kwin_open,
    .fd = kwin_fd,
    .events = kwin_events,
    .timeout_ms = kwin_timeout,
    .dispatch = kwin_dispatch,
    .focus = kwin_focus,
    .set_titles = kwin_set_titles,
    .detail = kwin_detail,
    .close = kwin_close,
};
