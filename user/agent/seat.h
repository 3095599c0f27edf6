/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * seat.h - who is at the machine: the login name of the active graphical
 * session on seat0, for the "user" field of every record.
 *
 * Two sources, chosen at open:
 *  - logind (sd-login): the active session of seat0 (sd_seat_get_active)
 *    when its class is "user" and its type is x11, wayland or mir; a
 *    greeter, a lock-screen session, a text console or a session that is
 *    closing counts as nobody.
 *    Changes arrive through sd_login_monitor (inotify on /run/systemd/seats
 *    and /run/systemd/sessions): no polling.
 *  - utmp (/run/utmp, struct utmpx): without logind (no
 *    /run/systemd/seats/seat0, e.g. systemd-less systems or containers), the
 *    newest USER_PROCESS entry of a live process on an X display (ut_line or
 *    ut_host ":N"). Changes arrive through inotify on the file (when a
 *    writer closes it: a rewrite is read once, complete) and its directory
 *    (created, replaced, removed). A login whose process died without a
 *    logout entry is noticed at the next change of the file.
 *
 * One pollable fd for the daemon's epoll. When the active user changes,
 * seat_dispatch calls on_change(old, new) while seat_user() still returns
 * the old name — so the caller can close the running interval under the old
 * user — and switches afterwards. Functions return 0 or -errno and do not
 * log; close accepts NULL.
 */
#ifndef ACTLOG_SEAT_H
#define ACTLOG_SEAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

#define SEAT_USER_MAX 256 /* the server's cap on "user" */
#define SEAT_UTMP_PATH "/run/utmp"
#define SEAT_UTMP_MAX_BYTES (1 << 20) /* a utmp file is a few KiB */

enum seat_source { SEAT_AUTO = 0, SEAT_LOGIND, SEAT_UTMP };

/* old and new are NULL for nobody. */
typedef void (*seat_change_fn)(const char *old_user, const char *new_user, void *ctx);

struct seat_opts {
	enum seat_source source; /* AUTO: logind when /run/systemd/seats/seat0 exists */
	const char *utmp_path;	 /* NULL: SEAT_UTMP_PATH */
	seat_change_fn on_change;
	void *ctx;
};

struct seat;

/* Open the source and read the current state (no on_change for it). */
int seat_open(struct seat **out, const struct seat_opts *o);
int seat_fd(const struct seat *s);
/* Read notifications and the state. 1 when the active user changed (after
 * on_change), 0 when not, -errno. */
int seat_dispatch(struct seat *s);
/* The active user's login name, or NULL for nobody. The pointer stays
 * valid until seat_close; its text changes with the user. */
const char *seat_user(const struct seat *s);
/* The active user's uid, or -1. */
int64_t seat_uid(const struct seat *s);
/* "logind" or "utmp". */
const char *seat_source_name(const struct seat *s);
/* A line for status: "seat0 session 2 (wayland)", "no session on seat0", ... */
const char *seat_detail(const struct seat *s);
/* Set c->user and c->session from the current state; s NULL means the agent
 * cannot tell ("session":"unknown"). */
void seat_record_ctx(const struct seat *s, struct record_ctx *c);
/* Add "active_user" (string or null) and "sources.user"/"sources.user_detail"
 * to a status object; s may be NULL. */
struct cJSON;
void seat_status(const struct seat *s, struct cJSON *status);
void seat_close(struct seat *s);

/* uid -> login name for process records (the process's own user, not the
 * active one): getpwuid_r, its answers (a missing name too) kept for
 * SEAT_LOGIN_TTL_MS in a small cache that replaces its oldest entry. One
 * thread at a time. */
#define SEAT_LOGIN_CACHE 16
#define SEAT_LOGIN_TTL_MS 60000
struct seat_login_cache {
	struct {
		uint32_t uid;
		int used, known;
		int64_t at_ms;
		char login[SEAT_USER_MAX];
	} e[SEAT_LOGIN_CACHE];
	unsigned int next;
};
/* The login name of uid at time now_ms, or NULL when uid has none (or it is
 * longer than SEAT_USER_MAX - 1 bytes). The pointer stays valid until the
 * next call with c. */
const char *seat_login_of(struct seat_login_cache *c, uint32_t uid, int64_t now_ms);

/* ---- pure parts, for tests ---- */

/* What a utmp file says: the chosen entry. */
struct seat_utmp_entry {
	char user[33];
	char line[33];
	pid_t pid;
};

/* Pick the active graphical login from a utmp file's bytes (an array of
 * struct utmpx; a torn last record is ignored): the newest USER_PROCESS
 * entry with a user name, on an X display (ut_line or ut_host starting with
 * ':'), whose process alive(pid) says exists (alive NULL: all do). 1 with
 * *out filled, 0 when there is none. */
int seat_utmp_pick(const void *buf, size_t len, int (*alive)(pid_t pid),
		   struct seat_utmp_entry *out);

/* Does a logind session of this class and type count as a person at the
 * graphical seat? (class "user", type "x11", "wayland" or "mir") */
int seat_logind_counts(const char *class_, const char *type);

#endif /* ACTLOG_SEAT_H */
