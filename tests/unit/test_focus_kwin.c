// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_focus_kwin.c - the pure parts of the "kwin" focus route
 * (user/session/focus_kwin.c): the bus names put into the KWin script, the
 * script's two variants (with and without captions) and its size cap, and
 * the cleaning and caps of one Focus call's arguments. The D-Bus half runs
 * against a real KWin and a scripted peer in
 * tests/integration/test_focus_kwin.sh.
 *
 * focus_kwin.c lives in user/ and unit tests link only lib/, so it is
 * included.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#include "../../user/session/focus_kwin.c"

/* The routes focus_kwin.c does not define, for the linker. */
const struct focus_route_ops focus_route_x11, focus_route_wlr, focus_route_gnome;

TEST(unique_names)
{
	char longname[300];

	CHECK(unique_name_ok(":1.42"));
	CHECK(unique_name_ok(":abc_d-e.9"));
	CHECK(!unique_name_ok(NULL));
	CHECK(!unique_name_ok(""));
	CHECK(!unique_name_ok(":"));
	CHECK(!unique_name_ok("org.kde.KWin")); /* a well-known name */
	CHECK(!unique_name_ok(":1.2\"); evil(\""));
	CHECK(!unique_name_ok(":1.2\\"));
	CHECK(!unique_name_ok(":1 2"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = ':';
	longname[sizeof(longname) - 1] = '\0';
	CHECK(!unique_name_ok(longname));
}

TEST(script_text)
{
	char buf[KWIN_SCRIPT_MAX], small[64];
	int n;

	n = kwin_script_text(buf, sizeof(buf), ":1.7", 0);
	CHECK(n > 0);
	CHECK_EQ(strlen(buf), n);
	CHECK(strstr(buf, "var dest = \":1.7\", titles = false,") != NULL);
	CHECK(strstr(buf, "\"/org/actlog/KWinFocus\", \"org.actlog.KWinFocus1\", \"Focus\"") !=
	      NULL);
	/* Plasma 6 and Plasma 5 signals and properties */
	CHECK(strstr(buf, "workspace.windowActivated.connect(activated)") != NULL);
	CHECK(strstr(buf, "workspace.clientActivated.connect(activated)") != NULL);
	CHECK(strstr(buf, "workspace.activeWindow") != NULL);
	CHECK(strstr(buf, "workspace.activeClient") != NULL);
	/* the caption only when titles */
	CHECK(strstr(buf, "titles ? str(w.caption) : \"\"") != NULL);
	n = kwin_script_text(buf, sizeof(buf), ":1.7", 1);
	CHECK(n > 0);
	CHECK(strstr(buf, "titles = true,") != NULL);
	/* refused: a name that is not a unique name, a buffer too small */
	CHECK_EQ(kwin_script_text(buf, sizeof(buf), "\"+x+\"", 0), -EINVAL);
	CHECK_EQ(kwin_script_text(small, sizeof(small), ":1.7", 0), -ENOSPC);
}

TEST(focus_args)
{
	char big[1000];
	struct focus_info fi;

	kwin_focus_args(&fi, "org.kde.konsole", "konsole", "4242", "TOPSECRET", 0);
	CHECK_STR(fi.source, "kwin");
	CHECK_STR(fi.app, "org.kde.konsole");
	CHECK_STR(fi.instance, "konsole");
	CHECK_EQ(fi.pid, 4242);
	CHECK_STR(fi.title, ""); /* titles off: the caption is dropped */
	CHECK_STR(fi.unknown, "");
	kwin_focus_args(&fi, "org.kde.konsole", "konsole", "4242", "TOPSECRET", 1);
	CHECK_STR(fi.title, "TOPSECRET");
	/* nothing active */
	kwin_focus_args(&fi, "", "", "0", "", 1);
	CHECK_STR(fi.app, "");
	CHECK_EQ(fi.pid, 0);
	/* pids: only a plain decimal below 2^31 */
	kwin_focus_args(&fi, "a", "", "2147483647", "", 0);
	CHECK_EQ(fi.pid, 2147483647);
	kwin_focus_args(&fi, "a", "", "2147483648", "", 0);
	CHECK_EQ(fi.pid, 0);
	kwin_focus_args(&fi, "a", "", "99999999999", "", 0);
	CHECK_EQ(fi.pid, 0);
	kwin_focus_args(&fi, "a", "", "-1", "", 0);
	CHECK_EQ(fi.pid, 0);
	kwin_focus_args(&fi, "a", "", "12x", "", 0);
	CHECK_EQ(fi.pid, 0);
	kwin_focus_args(&fi, "a", "", "", "", 0);
	CHECK_EQ(fi.pid, 0);
	/* caps: cut to the protocol's lengths, always terminated */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	kwin_focus_args(&fi, big, big, "1", big, 1);
	CHECK_EQ(strlen(fi.app), SESSION_APP_LEN - 1);
	CHECK_EQ(strlen(fi.instance), SESSION_APP_LEN - 1);
	CHECK_EQ(strlen(fi.title), SESSION_TITLE_LEN - 1);
	/* UTF-8 cleaned: a stray byte and a control become '?' */
	kwin_focus_args(&fi, "ab\xff", "n\x01", "1", "t\x1b[2J", 1);
	CHECK_STR(fi.app, "ab?");
	CHECK_STR(fi.instance, "n?");
	CHECK_STR(fi.title, "t?[2J");
	/* valid UTF-8 kept */
	kwin_focus_args(&fi, "\xc3\xa9t\xc3\xa9", "", "1", "", 0);
	CHECK_STR(fi.app, "\xc3\xa9t\xc3\xa9");
}

int main(void)
{
	RUN(unique_names);
	RUN(script_text);
	RUN(focus_args);
	return CHECK_DONE();
}
