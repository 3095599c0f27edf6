// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_focus_gnome.c - the gnome focus route's pure parts
 * (user/session/focus_gnome.c): what the user is told for each state of the
 * extension, how the focused window becomes a focus_info (app from the WM
 * class or the .desktop id, titles only when on), and the reading of the
 * extension's a{sv} with its caps (long strings cut, bad UTF-8 cleaned,
 * unknown keys and wrong types skipped, too many entries refused). The D-Bus
 * half runs against a real GNOME Shell in
 * tests/integration/test_focus_gnome.sh.
 *
 * focus_gnome.c lives in user/ and unit tests link only lib/, so it is
 * included.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#include "../../user/session/focus_gnome.c"

TEST(ext_why)
{
	char why[FOCUS_WHY_LEN];

	gnome_ext_why(0, 0, "", -1, why, sizeof(why));
	CHECK_STR(why,
		  "the actlog GNOME Shell extension (actlog-focus@actlog.dev) is not installed: "
		  "install actlog-session's extension (make install) and log in again");
	gnome_ext_why(1, EXT_UNINSTALLED, "", 1, why, sizeof(why));
	CHECK(strstr(why, "is not installed") != NULL);
	gnome_ext_why(1, EXT_DISABLED, "", 1, why, sizeof(why));
	CHECK_STR(why, "the actlog GNOME Shell extension is installed but disabled: run "
		       "`gnome-extensions enable actlog-focus@actlog.dev`");
	/* installed, never enabled: the same advice */
	gnome_ext_why(1, EXT_INITIALIZED, "", -1, why, sizeof(why));
	CHECK(strstr(why, "installed but disabled") != NULL);
	gnome_ext_why(1, EXT_DISABLED, "", 0, why, sizeof(why));
	CHECK_STR(why,
		  "GNOME Shell extensions are switched off for this user: run `gsettings set "
		  "org.gnome.shell disable-user-extensions false` and `gnome-extensions enable "
		  "actlog-focus@actlog.dev`");
	gnome_ext_why(1, EXT_ERROR, "TypeError: x is undefined", 1, why, sizeof(why));
	CHECK_STR(why, "the actlog GNOME Shell extension failed in the Shell: TypeError: x is "
		       "undefined");
	gnome_ext_why(1, EXT_ERROR, "", 1, why, sizeof(why));
	CHECK(strstr(why, "(no error text)") != NULL);
	gnome_ext_why(1, EXT_OUT_OF_DATE, "", 1, why, sizeof(why));
	CHECK(strstr(why, "does not support this GNOME Shell version") != NULL);
	gnome_ext_why(1, EXT_ENABLED, "", 1, why, sizeof(why));
	CHECK(strstr(why, "is enabled but org.actlog.Focus is not on the session bus") != NULL);
	/* a small buffer: cut, terminated */
	gnome_ext_why(1, EXT_DISABLED, "", 1, why, 8);
	CHECK_EQ(strlen(why), 7);
}

TEST(fill)
{
	struct gnome_win w;
	struct focus_info fi;

	memset(&w, 0, sizeof(w));
	snprintf(w.wm_class, sizeof(w.wm_class), "org.gnome.Nautilus");
	snprintf(w.instance, sizeof(w.instance), "nautilus");
	snprintf(w.app_id, sizeof(w.app_id), "org.gnome.Nautilus.desktop");
	snprintf(w.title, sizeof(w.title), "Home");
	w.has_title = 1;
	w.pid = 4242;
	gnome_fill(&fi, &w, 0);
	CHECK_STR(fi.source, "gnome");
	CHECK_STR(fi.app, "org.gnome.Nautilus");
	CHECK_STR(fi.instance, "nautilus");
	CHECK_EQ(fi.pid, 4242);
	CHECK_STR(fi.title, "");
	CHECK_STR(fi.unknown, "");
	gnome_fill(&fi, &w, 1);
	CHECK_STR(fi.title, "Home");
	/* no WM class: the .desktop id without ".desktop" */
	w.wm_class[0] = '\0';
	gnome_fill(&fi, &w, 0);
	CHECK_STR(fi.app, "org.gnome.Nautilus");
	snprintf(w.app_id, sizeof(w.app_id), ".desktop");
	gnome_fill(&fi, &w, 0);
	CHECK_STR(fi.app, ".desktop");
	/* nothing focused */
	memset(&w, 0, sizeof(w));
	gnome_fill(&fi, &w, 1);
	CHECK_STR(fi.app, "");
	CHECK_EQ(fi.pid, 0);
}

static sd_bus *bus;

/* A sealed FocusChanged message built by add(m), rewound for reading. */
static sd_bus_message *signal_with(int (*add)(sd_bus_message *m))
{
	sd_bus_message *m = NULL;

	if (sd_bus_message_new_signal(bus, &m, FOCUS_PATH, FOCUS_IFACE, "FocusChanged") < 0)
		return NULL;
	if (add(m) < 0 || sd_bus_message_seal(m, 1, 0) < 0 || sd_bus_message_rewind(m, 1) < 0) {
		sd_bus_message_unref(m);
		return NULL;
	}
	return m;
}

static int add_normal(sd_bus_message *m)
{
	return sd_bus_message_append(m, "a{sv}", 6, "wm_class", "s", "foot", "wm_class_instance",
				     "s", "foot", "pid", "u", 77u, "app_id", "s", "foot.desktop",
				     "title", "s", "~/src", "extra", "i", 5);
}

static int add_odd(sd_bus_message *m)
{
	char longs[SESSION_APP_LEN * 3];

	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	/* pid of the wrong type, a long class, control bytes in the instance */
	return sd_bus_message_append(m, "a{sv}", 3, "pid", "s", "12", "wm_class", "s", longs,
				     "wm_class_instance", "s", "a\033b");
}

static int add_many(sd_bus_message *m)
{
	int r = sd_bus_message_open_container(m, 'a', "{sv}");

	for (int i = 0; r >= 0 && i < DICT_MAX + 1; i++)
		r = sd_bus_message_append(m, "{sv}", "k", "u", (uint32_t)i);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

TEST(read_dict)
{
	struct gnome_win w;
	sd_bus_message *m;

	m = signal_with(add_normal);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(read_win(m, &w), 0);
	CHECK_STR(w.wm_class, "foot");
	CHECK_STR(w.instance, "foot");
	CHECK_STR(w.app_id, "foot.desktop");
	CHECK_STR(w.title, "~/src");
	CHECK_EQ(w.has_title, 1);
	CHECK_EQ(w.pid, 77);
	sd_bus_message_unref(m);

	m = signal_with(add_odd);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(read_win(m, &w), 0);
	CHECK_EQ(w.pid, 0);
	CHECK_EQ(strlen(w.wm_class), SESSION_APP_LEN - 1);
	CHECK_STR(w.instance, "a?b");
	CHECK_EQ(w.has_title, 0);
	sd_bus_message_unref(m);

	m = signal_with(add_many);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(read_win(m, &w), -E2BIG);
	sd_bus_message_unref(m);
}

int main(void)
{
	int sv[2];

	RUN(ext_why);
	RUN(fill);
	/* messages need a bus object that has started; one end of a
	 * socketpair that never completes its handshake is enough */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || sd_bus_new(&bus) < 0 ||
	    sd_bus_set_fd(bus, sv[0], sv[0]) < 0 || sd_bus_start(bus) < 0) {
		printf("FAIL: %s:read_dict (no sd-bus object)\n", __FILE__);
		return 1;
	}
	RUN(read_dict);
	sd_bus_flush_close_unref(bus);
	close(sv[1]);
	return CHECK_DONE();
}
