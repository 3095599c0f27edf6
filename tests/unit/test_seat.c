// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_seat.c - the active user without logind: which utmp entry is the
 * graphical login (on files written through glibc's utmpx API), change
 * notification through inotify, and the order the daemon relies on — the
 * change callback runs while seat_user() still names the old user (the
 * daemon closes the running interval there), and the user switches after.
 * The logind source is tested with the real daemon in
 * tests/integration/test_active_user.sh.
 *
 * seat.c lives in user/ and unit tests link only lib/, so it is included.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utmpx.h>

#include "check.h"
#include "record.h"
#include "util.h"

#include "../../user/agent/seat.c"

static char dir[256], path[300];

/* A pid that no longer exists: a child that exited and was reaped. */
static pid_t dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

static void entry(struct utmpx *u, short type, const char *user, const char *line, const char *host,
		  pid_t pid, long sec)
{
	memset(u, 0, sizeof(*u));
	u->ut_type = type;
	u->ut_pid = pid;
	strncpy(u->ut_line, line, sizeof(u->ut_line));
	/* ut_id: the last four characters of the line, as login(1) does */
	strncpy(u->ut_id, line + (strlen(line) > 4 ? strlen(line) - 4 : 0), sizeof(u->ut_id));
	strncpy(u->ut_user, user, sizeof(u->ut_user));
	strncpy(u->ut_host, host, sizeof(u->ut_host));
	u->ut_tv.tv_sec = (int32_t)sec;
}

/* Write entries to file f through glibc (utmpxname + pututxline), which
 * replaces an entry of the same ut_id/ut_line as login and logout do. */
static void utmp_write(const char *f, const struct utmpx *e, size_t n)
{
	FILE *fp = fopen(f, "a");
	size_t i;

	if (!fp) {
		perror(f);
		exit(2);
	}
	fclose(fp);
	if (utmpxname(f) != 0) {
		perror("utmpxname");
		exit(2);
	}
	setutxent();
	for (i = 0; i < n; i++)
		if (!pututxline(&e[i])) {
			perror("pututxline");
			exit(2);
		}
	endutxent();
}

static char *slurp(const char *f, size_t *len)
{
	char *b = NULL;

	if (read_file(f, 1 << 20, &b, len)) {
		printf("cannot read %s\n", f);
		exit(2);
	}
	return b;
}

TEST(logind_classes)
{
	CHECK(seat_logind_counts("user", "x11"));
	CHECK(seat_logind_counts("user", "wayland"));
	CHECK(seat_logind_counts("user", "mir"));
	CHECK(!seat_logind_counts("user", "tty"));
	CHECK(!seat_logind_counts("user", "unspecified"));
	CHECK(!seat_logind_counts("greeter", "x11"));
	CHECK(!seat_logind_counts("lock-screen", "wayland"));
	CHECK(!seat_logind_counts(NULL, "x11"));
	CHECK(!seat_logind_counts("user", NULL));
}

TEST(utmp_pick)
{
	struct utmpx e[8];
	struct seat_utmp_entry got;
	pid_t me = getpid(), gone = dead_pid();
	size_t len;
	char f[320], *b, *odd;

	snprintf(f, sizeof(f), "%s/pick", dir);
	entry(&e[0], BOOT_TIME, "", "~", "6.1.0", 0, 100);
	entry(&e[1], LOGIN_PROCESS, "LOGIN", "tty1", "", me, 110);
	entry(&e[2], USER_PROCESS, "root", "tty2", "", me, 300);	   /* text console */
	entry(&e[3], USER_PROCESS, "carol", "pts/3", "10.0.0.7", me, 310); /* ssh */
	entry(&e[4], USER_PROCESS, "alice", ":0", ":0", me, 200);
	entry(&e[5], USER_PROCESS, "bob", ":1", ":1", gone, 250); /* stale: dead pid */
	entry(&e[6], DEAD_PROCESS, "", ":2", "", 0, 260);
	utmp_write(f, e, 7);
	b = slurp(f, &len);
	CHECK_EQ(len, 7 * sizeof(struct utmpx));
	CHECK_EQ(seat_utmp_pick(b, len, pid_alive, &got), 1);
	CHECK_STR(got.user, "alice");
	CHECK_STR(got.line, ":0");
	CHECK_EQ(got.pid, me);
	/* without the liveness check the newer, stale entry wins */
	CHECK_EQ(seat_utmp_pick(b, len, NULL, &got), 1);
	CHECK_STR(got.user, "bob");
	/* an unaligned buffer and a torn last record */
	odd = malloc(len + 1);
	memcpy(odd + 1, b, len);
	CHECK_EQ(seat_utmp_pick(odd + 1, len - 10, pid_alive, &got), 1);
	CHECK_STR(got.user, "alice");
	/* only the text console and ssh left */
	CHECK_EQ(seat_utmp_pick(odd + 1, 4 * sizeof(struct utmpx), pid_alive, &got), 0);
	free(odd);
	free(b);
	/* a display named in ut_host (DMs that log a VT line) counts */
	entry(&e[7], USER_PROCESS, "dave", "tty7", ":0", me, 400);
	utmp_write(f, &e[7], 1);
	b = slurp(f, &len);
	CHECK_EQ(seat_utmp_pick(b, len, pid_alive, &got), 1);
	CHECK_STR(got.user, "dave");
	CHECK_STR(got.line, ":0");
	free(b);
	CHECK_EQ(seat_utmp_pick("", 0, pid_alive, &got), 0);
}

/* What the daemon's change callback saw. */
struct seen {
	int calls;
	char old_user[64], new_user[64], user_during[64];
	struct seat *s;
};

static void on_change(const char *old_user, const char *new_user, void *ctx)
{
	struct seen *w = ctx;
	const char *now = seat_user(w->s);

	w->calls++;
	snprintf(w->old_user, sizeof(w->old_user), "%s", old_user ? old_user : "(none)");
	snprintf(w->new_user, sizeof(w->new_user), "%s", new_user ? new_user : "(none)");
	snprintf(w->user_during, sizeof(w->user_during), "%s", now ? now : "(none)");
}

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

/* Wait for a notification and dispatch it. */
static int settle(struct seat *s)
{
	int r = 0;

	while (readable(seat_fd(s), 1000)) {
		r = seat_dispatch(s);
		if (r)
			break;
	}
	return r;
}

TEST(utmp_source_changes)
{
	struct seen w = {0};
	struct seat_opts o = {
	    .source = SEAT_UTMP, .utmp_path = path, .on_change = on_change, .ctx = &w};
	struct record_ctx rc = {.host_id = "h"};
	struct utmpx e[2];
	struct seat *s = NULL;
	pid_t me = getpid();
	char tmp[320];
	cJSON *st;

	/* no utmp file yet: nobody, and the directory is watched */
	CHECK_EQ(seat_open(&s, &o), 0);
	if (!s)
		return;
	w.s = s;
	CHECK_STR(seat_source_name(s), "utmp");
	CHECK(seat_user(s) == NULL);
	CHECK_EQ(seat_uid(s), -1);
	seat_record_ctx(s, &rc);
	CHECK(rc.user == NULL);
	CHECK_STR(rc.session, "none");

	/* alice logs in on :0 (the file is created) */
	entry(&e[0], USER_PROCESS, "alice", ":0", ":0", me, 1000);
	utmp_write(path, e, 1);
	CHECK_EQ(settle(s), 1);
	CHECK_EQ(w.calls, 1);
	CHECK_STR(w.old_user, "(none)");
	CHECK_STR(w.new_user, "alice");
	CHECK_STR(w.user_during, "(none)"); /* the callback ran before the switch */
	CHECK_STR(seat_user(s), "alice");
	seat_record_ctx(s, &rc);
	CHECK_STR(rc.user, "alice");
	CHECK(rc.session == NULL);

	/* a terminal login of someone else changes nothing */
	entry(&e[1], USER_PROCESS, "root", "tty2", "", me, 1100);
	utmp_write(path, &e[1], 1);
	CHECK_EQ(settle(s), 0);
	CHECK_EQ(w.calls, 1);
	CHECK_STR(seat_user(s), "alice");

	/* alice logs out (glibc rewrites her entry in place), bob logs in on :1 */
	entry(&e[0], DEAD_PROCESS, "", ":0", "", 0, 1200);
	entry(&e[1], USER_PROCESS, "bob", ":1", ":1", me, 1201);
	utmp_write(path, e, 2);
	CHECK_EQ(settle(s), 1);
	CHECK_EQ(w.calls, 2);
	CHECK_STR(w.old_user, "alice");
	CHECK_STR(w.new_user, "bob");
	CHECK_STR(w.user_during, "alice");
	CHECK_STR(seat_user(s), "bob");
	CHECK(strstr(seat_detail(s), ":1") != NULL);

	/* the file is replaced by rename (the new file has carol) */
	snprintf(tmp, sizeof(tmp), "%s/utmp.new", dir);
	entry(&e[0], USER_PROCESS, "carol", ":0", ":0", me, 1300);
	utmp_write(tmp, e, 1);
	CHECK_EQ(rename(tmp, path), 0);
	CHECK_EQ(settle(s), 1);
	CHECK_STR(w.old_user, "bob");
	CHECK_STR(seat_user(s), "carol");
	/* and the replacement is watched too */
	entry(&e[0], DEAD_PROCESS, "", ":0", "", 0, 1400);
	utmp_write(path, e, 1);
	CHECK_EQ(settle(s), 1);
	CHECK_STR(w.old_user, "carol");
	CHECK(seat_user(s) == NULL);

	/* status: active_user and the source */
	st = cJSON_CreateObject();
	cJSON_AddObjectToObject(st, "sources");
	seat_status(s, st);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(st, "active_user")));
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "sources"), "user")->valuestring,
		  "utmp");
	cJSON_Delete(st);

	/* removed: still nobody, no callback */
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(settle(s), 0);
	CHECK_EQ(w.calls, 4);
	seat_close(s);
}

TEST(no_tracker)
{
	struct record_ctx rc = {.host_id = "h", .user = "stale"};
	struct seat_opts o = {.source = SEAT_UTMP, .utmp_path = "relative/utmp"};
	struct seat *s = NULL;
	cJSON *st, *j;
	char *out;

	CHECK_EQ(seat_open(&s, &o), -EINVAL);
	o.utmp_path = "/nonexistent-dir-for-actlog/utmp";
	CHECK_EQ(seat_open(&s, &o), -ENOENT);
	CHECK(s == NULL);
	seat_close(NULL);
	/* without a tracker the records say the agent cannot tell */
	seat_record_ctx(NULL, &rc);
	CHECK(rc.user == NULL);
	CHECK_STR(rc.session, "unknown");
	out = record_agent(
	    &rc, 0,
	    &(struct agent_info){
		.event = "start", .version = "t", .input_source = "none", .proc_source = "none"});
	j = cJSON_Parse(out);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "user")));
	CHECK_STR(cJSON_GetObjectItem(j, "session")->valuestring, "unknown");
	cJSON_Delete(j);
	free(out);
	st = cJSON_CreateObject();
	cJSON_AddObjectToObject(st, "sources");
	seat_status(NULL, st);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(st, "active_user")));
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "sources"), "user")->valuestring,
		  "none");
	cJSON_Delete(st);
	/* records before this work had no session field: NULL keeps it out */
	rc.session = NULL;
	out = record_agent(
	    &rc, 0,
	    &(struct agent_info){
		.event = "start", .version = "t", .input_source = "none", .proc_source = "none"});
	CHECK(strstr(out, "\"session\"") == NULL);
	free(out);
}

/* uid -> login: root is "root", a uid without a name is NULL, answers are
 * kept for the TTL (the same pointer, no new entry) and looked up again
 * after it; the oldest entry makes room. */
TEST(login_cache)
{
	struct seat_login_cache c;
	const char *r;
	unsigned int i;

	memset(&c, 0, sizeof(c));
	r = seat_login_of(&c, 0, 1000);
	CHECK(r != NULL);
	CHECK_STR(r ? r : "", "root");
	CHECK_EQ(c.next, 1);
	CHECK(seat_login_of(&c, 0, 1000 + SEAT_LOGIN_TTL_MS - 1) == r);
	CHECK_EQ(c.next, 1);
	CHECK(seat_login_of(&c, 3999999999u, 1000) == NULL);
	CHECK_EQ(c.next, 2);
	CHECK(seat_login_of(&c, 3999999999u, 2000) == NULL);
	CHECK_EQ(c.next, 2);
	/* past the TTL: asked again */
	CHECK_STR(seat_login_of(&c, 0, 1000 + SEAT_LOGIN_TTL_MS), "root");
	CHECK_EQ(c.next, 3);
	/* a clock that went back: asked again */
	CHECK_STR(seat_login_of(&c, 0, 10), "root");
	CHECK_EQ(c.next, 4);
	for (i = 0; i < SEAT_LOGIN_CACHE; i++)
		seat_login_of(&c, 3000000000u + i, 5000);
	for (i = 0; i < SEAT_LOGIN_CACHE; i++)
		CHECK(c.e[i].uid >= 3000000000u);
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "seat");
	snprintf(path, sizeof(path), "%s/utmp", dir);
	RUN(logind_classes);
	RUN(utmp_pick);
	RUN(utmp_source_changes);
	RUN(no_tracker);
	RUN(login_cache);
	check_rmtree(dir);
	return CHECK_DONE();
}
