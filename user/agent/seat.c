// SPDX-License-Identifier: BSD-2-Clause
/*
 * seat.c - the active user of seat0, from logind or utmp (seat.h).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <utmpx.h>

#include <systemd/sd-login.h>

#include "seat.h"
#include "util.h"

struct seat_state {
	int have_user;
	char user[SEAT_USER_MAX];
	int64_t uid;
	char detail[160];
};

struct seat {
	enum seat_source source;
	seat_change_fn on_change;
	void *ctx;
	int epfd;
	/* logind */
	sd_login_monitor *mon_seat, *mon_session;
	/* utmp */
	int ino, wd_dir, wd_file;
	char utmp_path[PATH_MAX];
	const char *utmp_name; /* basename, inside utmp_path */

	struct seat_state cur, next;
};

/* ---- pure parts ---- */

int seat_logind_counts(const char *class_, const char *type)
{
	if (!class_ || !type || strcmp(class_, "user"))
		return 0;
	return !strcmp(type, "x11") || !strcmp(type, "wayland") || !strcmp(type, "mir");
}

/* Copy a fixed-size, maybe unterminated utmp field. */
static void ut_copy(char *dst, size_t n, const char *src, size_t srclen)
{
	utf8_clean(dst, n, src, strnlen(src, srclen));
}

int seat_utmp_pick(const void *buf, size_t len, int (*alive)(pid_t pid),
		   struct seat_utmp_entry *out)
{
	const char *p = buf;
	struct utmpx u;
	int64_t best_t = -1, t;
	size_t i;

	for (i = 0; i + sizeof(u) <= len; i += sizeof(u)) {
		memcpy(&u, p + i, sizeof(u)); /* the buffer need not be aligned */
		if (u.ut_type != USER_PROCESS || !u.ut_user[0])
			continue;
		if (u.ut_line[0] != ':' && u.ut_host[0] != ':')
			continue;
		if (alive && u.ut_pid > 0 && !alive(u.ut_pid))
			continue;
		t = (int64_t)u.ut_tv.tv_sec * 1000000 + u.ut_tv.tv_usec;
		if (t < best_t)
			continue;
		best_t = t;
		ut_copy(out->user, sizeof(out->user), u.ut_user, sizeof(u.ut_user));
		ut_copy(out->line, sizeof(out->line), u.ut_line[0] == ':' ? u.ut_line : u.ut_host,
			u.ut_line[0] == ':' ? sizeof(u.ut_line) : sizeof(u.ut_host));
		out->pid = u.ut_pid;
	}
	return best_t >= 0;
}

/* ---- reading the state ---- */

static int pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void set_user(struct seat_state *st, const char *user, int64_t uid)
{
	utf8_clean(st->user, sizeof(st->user), user, strlen(user));
	st->have_user = st->user[0] != '\0';
	st->uid = st->have_user ? uid : -1;
}

static void read_logind(struct seat_state *st)
{
	char *sess = NULL, *cls = NULL, *type = NULL, *state = NULL, *user = NULL;
	uid_t uid = 0;
	int r;

	memset(st, 0, sizeof(*st));
	st->uid = -1;
	r = sd_seat_get_active("seat0", &sess, &uid);
	if (r < 0 || !sess) {
		snprintf(st->detail, sizeof(st->detail), "no active session on seat0");
		goto out;
	}
	sd_session_get_class(sess, &cls);
	sd_session_get_type(sess, &type);
	/* a session that is closing has logged out; its processes linger */
	if (sd_session_get_state(sess, &state) == 0 && state && strcmp(state, "active") &&
	    strcmp(state, "online")) {
		snprintf(st->detail, sizeof(st->detail), "seat0 session %.32s is %.16s", sess,
			 state);
		goto out;
	}
	if (!seat_logind_counts(cls, type)) {
		snprintf(st->detail, sizeof(st->detail),
			 "seat0 session %.32s is not a graphical user session (%.16s, %.16s)", sess,
			 cls ? cls : "?", type ? type : "?");
		goto out;
	}
	/* the session's uid and its passwd name: what logind's USER= is made
	 * of (sd_session_get_username() is newer than libsystemd 254) */
	sd_session_get_uid(sess, &uid);
	{
		struct passwd pw, *res = NULL;
		char pbuf[4096];

		if (getpwuid_r(uid, &pw, pbuf, sizeof(pbuf), &res) == 0 && res)
			user = strdup(res->pw_name);
	}
	if (!user) {
		snprintf(st->detail, sizeof(st->detail), "seat0 session %.32s: uid %u has no name",
			 sess, (unsigned)uid);
		goto out;
	}
	set_user(st, user, uid);
	snprintf(st->detail, sizeof(st->detail), "seat0 session %.32s (%.16s)", sess, type);
out:
	free(sess);
	free(cls);
	free(type);
	free(state);
	free(user);
}

static void read_utmp(const struct seat *s, struct seat_state *st)
{
	struct seat_utmp_entry e;
	char *buf = NULL;
	size_t len = 0;
	int r;

	memset(st, 0, sizeof(*st));
	st->uid = -1;
	r = read_file(s->utmp_path, SEAT_UTMP_MAX_BYTES, &buf, &len);
	if (r) {
		snprintf(st->detail, sizeof(st->detail), "%.64s: %s", s->utmp_path, strerror(-r));
		return;
	}
	if (seat_utmp_pick(buf, len, pid_alive, &e)) {
		struct passwd pw, *res = NULL;
		char pbuf[1024];
		int64_t uid = -1;

		if (getpwnam_r(e.user, &pw, pbuf, sizeof(pbuf), &res) == 0 && res)
			uid = res->pw_uid;
		set_user(st, e.user, uid);
		snprintf(st->detail, sizeof(st->detail), "utmp %.32s (pid %d)", e.line, (int)e.pid);
	} else {
		snprintf(st->detail, sizeof(st->detail), "no graphical login in %.64s",
			 s->utmp_path);
	}
	free(buf);
}

static void read_state(const struct seat *s, struct seat_state *st)
{
	if (s->source == SEAT_LOGIND)
		read_logind(st);
	else
		read_utmp(s, st);
}

/* ---- notifications ---- */

static int watch_file(struct seat *s)
{
	/* IN_CLOSE_WRITE, not IN_MODIFY: a writer that truncates and rewrites
	 * the file is read once, when it is done, not half-way */
	s->wd_file = inotify_add_watch(s->ino, s->utmp_path,
				       IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
	return s->wd_file < 0 && errno != ENOENT ? -errno : 0;
}

static int open_utmp(struct seat *s, const char *path)
{
	struct epoll_event ev = {.events = EPOLLIN};
	char dir[PATH_MAX];
	char *slash;
	int r;

	if (strlen(path) >= sizeof(s->utmp_path) || path[0] != '/')
		return -EINVAL;
	strcpy(s->utmp_path, path);
	slash = strrchr(s->utmp_path, '/');
	s->utmp_name = slash + 1;
	snprintf(dir, sizeof(dir), "%.*s", slash == s->utmp_path ? 1 : (int)(slash - s->utmp_path),
		 s->utmp_path);
	s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino < 0)
		return -errno;
	/* the directory: the file appearing, being replaced or removed */
	s->wd_dir = inotify_add_watch(
	    s->ino, dir, IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
	if (s->wd_dir < 0)
		return -errno;
	r = watch_file(s);
	if (r)
		return r;
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->ino, &ev) < 0 ? -errno : 0;
}

/* Drain inotify; 1 when something about the utmp file happened. */
static int drain_utmp(struct seat *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	int relevant = 0;
	ssize_t n;
	char *p;

	while ((n = read(s->ino, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->wd == s->wd_file) {
				relevant = 1;
				if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
					inotify_rm_watch(s->ino, s->wd_file);
					s->wd_file = -1;
				}
			} else if (ev->wd == s->wd_dir && ev->len &&
				   !strcmp(ev->name, s->utmp_name)) {
				relevant = 1;
				if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
					if (s->wd_file >= 0)
						inotify_rm_watch(s->ino, s->wd_file);
					watch_file(s);
				}
			}
		}
	}
	return relevant;
}

static int open_logind(struct seat *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int r;

	r = sd_login_monitor_new("seat", &s->mon_seat);
	if (r < 0)
		return r;
	r = sd_login_monitor_new("session", &s->mon_session);
	if (r < 0)
		return r;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, sd_login_monitor_get_fd(s->mon_seat), &ev) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, sd_login_monitor_get_fd(s->mon_session), &ev) < 0)
		return -errno;
	return 0;
}

/* ---- the interface ---- */

int seat_open(struct seat **out, const struct seat_opts *o)
{
	struct seat *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->ino = s->wd_dir = s->wd_file = -1;
	s->on_change = o->on_change;
	s->ctx = o->ctx;
	s->source = o->source;
	if (s->source == SEAT_AUTO)
		s->source = access("/run/systemd/seats/seat0", F_OK) == 0 ? SEAT_LOGIND : SEAT_UTMP;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		r = -errno;
		goto fail;
	}
	r = s->source == SEAT_LOGIND ? open_logind(s)
				     : open_utmp(s, o->utmp_path ? o->utmp_path : SEAT_UTMP_PATH);
	if (r)
		goto fail;
	read_state(s, &s->cur);
	*out = s;
	return 0;
fail:
	seat_close(s);
	return r;
}

int seat_fd(const struct seat *s)
{
	return s->epfd;
}

int seat_dispatch(struct seat *s)
{
	int relevant = 1;

	if (s->source == SEAT_LOGIND) {
		sd_login_monitor_flush(s->mon_seat);
		sd_login_monitor_flush(s->mon_session);
	} else {
		relevant = drain_utmp(s);
	}
	if (!relevant)
		return 0;
	read_state(s, &s->next);
	if (s->next.have_user == s->cur.have_user &&
	    (!s->cur.have_user || !strcmp(s->next.user, s->cur.user))) {
		memcpy(s->cur.detail, s->next.detail, sizeof(s->cur.detail));
		s->cur.uid = s->next.uid;
		return 0;
	}
	if (s->on_change)
		s->on_change(s->cur.have_user ? s->cur.user : NULL,
			     s->next.have_user ? s->next.user : NULL, s->ctx);
	s->cur = s->next;
	return 1;
}

const char *seat_user(const struct seat *s)
{
	return s && s->cur.have_user ? s->cur.user : NULL;
}

int64_t seat_uid(const struct seat *s)
{
	return s && s->cur.have_user ? s->cur.uid : -1;
}

const char *seat_source_name(const struct seat *s)
{
	return s->source == SEAT_LOGIND ? "logind" : "utmp";
}

const char *seat_detail(const struct seat *s)
{
	return s->cur.detail;
}

void seat_record_ctx(const struct seat *s, struct record_ctx *c)
{
	c->user = seat_user(s);
	c->session = c->user ? NULL : s ? "none" : "unknown";
}

void seat_status(const struct seat *s, struct cJSON *status)
{
	cJSON *src = cJSON_GetObjectItem(status, "sources");

	if (seat_user(s))
		cJSON_AddStringToObject(status, "active_user", seat_user(s));
	else
		cJSON_AddNullToObject(status, "active_user");
	if (!src)
		return;
	cJSON_AddStringToObject(src, "user", s ? seat_source_name(s) : "none");
	cJSON_AddStringToObject(src, "user_detail", s ? seat_detail(s) : "not available");
}

void seat_close(struct seat *s)
{
	if (!s)
		return;
	sd_login_monitor_unref(s->mon_seat);
	sd_login_monitor_unref(s->mon_session);
	if (s->ino >= 0)
		close(s->ino);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}

const char *seat_login_of(struct seat_login_cache *c, uint32_t uid, int64_t now_ms)
{
	struct passwd pw, *res = NULL;
	char pbuf[4096];
	unsigned int i;

	for (i = 0; i < SEAT_LOGIN_CACHE; i++)
		if (c->e[i].used && c->e[i].uid == uid &&
		    now_ms - c->e[i].at_ms < SEAT_LOGIN_TTL_MS && now_ms >= c->e[i].at_ms)
			return c->e[i].known ? c->e[i].login : NULL;
	i = c->next;
	c->next = (c->next + 1) % SEAT_LOGIN_CACHE;
	c->e[i].used = 1;
	c->e[i].uid = uid;
	c->e[i].at_ms = now_ms;
	c->e[i].known = getpwuid_r((uid_t)uid, &pw, pbuf, sizeof(pbuf), &res) == 0 && res &&
			res->pw_name[0] && strlen(res->pw_name) < sizeof(c->e[i].login);
	if (c->e[i].known)
		strcpy(c->e[i].login, res->pw_name);
	return c->e[i].known ? c->e[i].login : NULL;
}
