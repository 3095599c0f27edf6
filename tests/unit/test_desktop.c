// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_desktop.c - the .desktop parser and name index on fixtures: groups,
 * translations, escapes, quoting, env prefixes, Hidden, non-applications,
 * caps; and the app_usage record builder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app_usage.h"
#include "check.h"
#include "desktop.h"

/* Parse exactly the bytes of text from a heap copy (ASan sees over-reads). */
static int parse(const char *text, const char *id, struct desktop_entry *e)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, text, len);
	r = desktop_parse(copy, len, id, e);
	free(copy);
	return r;
}

TEST(parses_firefox)
{
	struct desktop_entry e;

	CHECK_EQ(parse("[Desktop Entry]\n"
		       "Version=1.0\n"
		       "Name=Firefox ESR\n"
		       "Name[de]=Firefox ESR (Deutsch)\n"
		       "Comment=Browse the World Wide Web\n"
		       "Exec=/usr/lib/firefox-esr/firefox-esr %u\n"
		       "Icon=firefox-esr\n"
		       "Terminal=false\n"
		       "Type=Application\n"
		       "StartupWMClass=Firefox-esr\n"
		       "\n"
		       "[Desktop Action new-window]\n"
		       "Name=New Window\n"
		       "Exec=/usr/bin/other --new-window\n",
		       "firefox-esr", &e),
		 0);
	CHECK_STR(e.name, "Firefox ESR");
	CHECK_STR(e.exec_base, "firefox-esr");
	CHECK_STR(e.wmclass, "Firefox-esr");
	CHECK_STR(e.id, "firefox-esr");
	CHECK_STR(e.tryexec_base, "");
}

TEST(exec_quoting_env_and_escapes)
{
	struct desktop_entry e;

	CHECK_EQ(parse("[Desktop Entry]\r\nType=Application\r\nName=Quoted\\sName\r\n"
		       "Exec=\"/opt/My App/bin/my app\" --flag %F\r\n",
		       "q", &e),
		 0);
	CHECK_STR(e.name, "Quoted Name");
	CHECK_STR(e.exec_base, "my app");
	CHECK_EQ(parse("[Desktop Entry]\nType=Application\nName=Env\n"
		       "Exec=env GDK_BACKEND=x11 LANG=C /usr/bin/gimp-2.10 %U\n"
		       "TryExec=gimp-2.10\n",
		       "gimp", &e),
		 0);
	CHECK_STR(e.exec_base, "gimp-2.10");
	CHECK_STR(e.tryexec_base, "gimp-2.10");
	/* spaces around '=' are allowed */
	CHECK_EQ(
	    parse("[Desktop Entry]\nType = Application\nName = Spaced\nExec = xterm\n", "x", &e),
	    0);
	CHECK_STR(e.name, "Spaced");
	CHECK_STR(e.exec_base, "xterm");
}

TEST(not_applications)
{
	struct desktop_entry e;

	CHECK_EQ(parse("[Desktop Entry]\nType=Link\nName=A link\nURL=http://x\n", "l", &e),
		 -ENOENT);
	CHECK_EQ(
	    parse("[Desktop Entry]\nType=Application\nName=Gone\nHidden=true\nExec=x\n", "h", &e),
	    -ENOENT);
	CHECK_EQ(parse("[Desktop Entry]\nType=Application\nExec=x\n", "n", &e), -ENOENT);
	CHECK_EQ(parse("Name=No group\nType=Application\n", "g", &e), -EINVAL);
	CHECK_EQ(parse("", "e", &e), -EINVAL);
	CHECK_EQ(desktop_parse("[Desktop Entry]\n\0Name=x\n", 22, "z", &e), -EINVAL);
	/* keys of another group do not count */
	CHECK_EQ(parse("[Other]\nType=Application\nName=Other\n[Desktop Entry]\nType=Application\n",
		       "o", &e),
		 -ENOENT);
}

TEST(long_and_bad_values)
{
	struct desktop_entry e;
	char *big = malloc(20000), *p = big;

	p += sprintf(p, "[Desktop Entry]\nType=Application\nName=");
	memset(p, 'N', 9000);
	p += 9000;
	p += sprintf(p, "\nExec=/usr/bin/");
	memset(p, 'x', 200);
	p += 200;
	sprintf(p, "\n");
	CHECK_EQ(parse(big, "big", &e), -ENOENT); /* the overlong Name line is skipped */
	p = big + sprintf(big, "[Desktop Entry]\nType=Application\nName=");
	memset(p, 'N', 300);
	p += 300;
	p += sprintf(p, "\nExec=/usr/bin/");
	memset(p, 'x', 200);
	p += 200;
	sprintf(p, "\n");
	CHECK_EQ(parse(big, "big", &e), 0);
	CHECK_EQ(strlen(e.name), DESKTOP_NAME_LEN - 1);
	CHECK_EQ(strlen(e.exec_base), DESKTOP_BASE_LEN - 1);
	free(big);
	/* invalid UTF-8 and control characters are cleaned */
	CHECK_EQ(
	    parse("[Desktop Entry]\nType=Application\nName=Bad\xff\x01Name\nExec=x\n", "b", &e), 0);
	CHECK_STR(e.name, "Bad??Name");
}

TEST(index_lookups)
{
	struct desktop_index ix = {0};
	struct desktop_entry e;
	char b[64];

	CHECK_EQ(parse("[Desktop Entry]\nType=Application\nName=Terminal\nExec=xterm\n",
		       "debian-xterm", &e),
		 0);
	CHECK_EQ(desktop_index_add(&ix, &e), 0);
	CHECK_EQ(parse("[Desktop Entry]\nType=Application\nName=Files\nExec=nautilus "
		       "--new-window\nStartupWMClass=org.gnome.Nautilus\n",
		       "org.gnome.Nautilus", &e),
		 0);
	CHECK_EQ(desktop_index_add(&ix, &e), 0);
	CHECK_EQ(parse("[Desktop Entry]\nType=Application\nName=Code\nExec=/usr/share/code/code "
		       "--unity-launch %F\nTryExec=/usr/share/code/code\n",
		       "code", &e),
		 0);
	CHECK_EQ(desktop_index_add(&ix, &e), 0);
	/* the same id again (a later directory) is ignored */
	CHECK_EQ(
	    parse("[Desktop Entry]\nType=Application\nName=Other Code\nExec=code\n", "code", &e),
	    0);
	CHECK_EQ(desktop_index_add(&ix, &e), 0);
	CHECK_EQ(ix.n, 3);

	CHECK_STR(desktop_name_for_exe(&ix, "/usr/bin/xterm"), "Terminal");
	CHECK_STR(desktop_name_for_exe(&ix, "/usr/share/code/code (deleted)"), "Code");
	CHECK(desktop_name_for_exe(&ix, "/usr/bin/unknown") == NULL);
	CHECK(desktop_name_for_exe(&ix, "") == NULL);
	CHECK_STR(desktop_name_for_class(&ix, "XTerm"), "Terminal");	       /* Exec basename */
	CHECK_STR(desktop_name_for_class(&ix, "org.gnome.nautilus"), "Files"); /* StartupWMClass */
	CHECK_STR(desktop_name_for_class(&ix, "Code"), "Code");		       /* file id */
	CHECK(desktop_name_for_class(&ix, "Firefox") == NULL);
	CHECK_STR(desktop_basename("/a/b/c (deleted)", b, sizeof(b)), "c");
	CHECK_STR(desktop_basename("plain", b, sizeof(b)), "plain");
	desktop_index_clear(&ix);
	CHECK_EQ(ix.n, 0);
}

TEST(index_cap)
{
	struct desktop_index ix = {0};
	struct desktop_entry e;
	unsigned int i;

	memset(&e, 0, sizeof(e));
	strcpy(e.name, "n");
	for (i = 0; i < DESKTOP_MAX_ENTRIES + 3; i++) {
		snprintf(e.id, sizeof(e.id), "id%u", i);
		desktop_index_add(&ix, &e);
	}
	CHECK_EQ(ix.n, DESKTOP_MAX_ENTRIES);
	CHECK_EQ(ix.skipped, 3);
	snprintf(e.id, sizeof(e.id), "one-more");
	CHECK_EQ(desktop_index_add(&ix, &e), -ENOSPC);
	desktop_index_clear(&ix);
}

TEST(app_usage_record)
{
	struct record_ctx rc = {.host_id = "0123456789abcdef0123456789abcdef"};
	struct focus_total apps[2] = {{"Firefox", NULL, 35.5}, {"bad\x01name", NULL, 1}};
	struct focus_total titles[1] = {{"Firefox", "Inbox \xff", 35.5}};
	struct app_cpu top[1] = {
	    {.pid = 42, .uid = PROC_UID_UNKNOWN, .exe = NULL, .app = "kworker", .cpu_s = 1.25}};
	struct app_usage u = {.start_ms = 1000,
			      .end_ms = 61000,
			      .interval_s = 60,
			      .source = "x11-ewmh",
			      .apps = apps,
			      .n_apps = 2,
			      .top = top,
			      .n_top = 1};
	char *s = record_app_usage(&rc, &u);
	cJSON *j = cJSON_Parse(s), *a;

	CHECK(j != NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "type")->valuestring, "app_usage");
	CHECK_STR(cJSON_GetObjectItem(j, "start")->valuestring, "1970-01-01T00:00:01.000Z");
	CHECK_STR(cJSON_GetObjectItem(j, "source")->valuestring, "x11-ewmh");
	a = cJSON_GetObjectItem(j, "apps");
	CHECK_EQ(cJSON_GetArraySize(a), 2);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1), "app")->valuestring, "bad?name");
	CHECK(cJSON_GetObjectItem(j, "titles") == NULL); /* titles off: no key at all */
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "top_cpu"), 0);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(a, "uid")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(a, "exe")));
	CHECK(cJSON_GetObjectItem(a, "cpu_s")->valuedouble == 1.25);
	cJSON_Delete(j);
	free(s);

	u.titles = titles;
	u.n_titles = 1;
	u.source = NULL;
	s = record_app_usage(&rc, &u);
	j = cJSON_Parse(s);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "source")));
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "titles"), 0);
	CHECK_STR(cJSON_GetObjectItem(a, "title")->valuestring, "Inbox ?");
	cJSON_Delete(j);
	free(s);
}

int main(void)
{
	RUN(parses_firefox);
	RUN(exec_quoting_env_and_escapes);
	RUN(not_applications);
	RUN(long_and_bad_values);
	RUN(index_lookups);
	RUN(index_cap);
	RUN(app_usage_record);
	return check_failed_total ? 1 : 0;
}
