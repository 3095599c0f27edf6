/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session_sock.h - actlogd's end of the session socket: actlog-session helpers
 * (one per graphical session, running as the session's user) connect here
 * and report what is focused. The control socket is root-only; this one is
 * mode 0666 and every peer is checked with SO_PEERCRED instead:
 *
 *  - a peer is accepted only when its uid is the allowed one: the user of
 *    the active graphical session (actlogd's active-user tracker,
 *    user/agent/seat.c: logind's seat0, or utmp without logind), or the uid given
 *    with --session-uid (containers and tests). Others get
 *    {"type":"refused","reason":...}, are closed, logged (at most once a
 *    second) and counted;
 *  - the hello may name a logind session id, which must belong to the peer.
 *
 * Protocol: include/session_proto.h (the messages and their limits).
 *
 * A shot is taken only while the screenshot policy is on, and only as a
 * memfd sealed against every change (F_SEAL_SHRINK|GROW|WRITE|SEAL) of the
 * announced size (at most SESSION_SHOT_MAX bytes) holding an image of the
 * announced format (PNG, WebP or JPEG: SESSION_SHOT_FORMATS) whose header
 * has the announced width and height (PNG: the IHDR; WebP: a RIFF/WEBP
 * file whose VP8, VP8L or VP8X header libwebp's WebPGetInfo reads; JPEG:
 * the SOFn frame header libjpeg-turbo's tjDecompressHeader3 reads, over the
 * whole sealed memfd mapped read-only); the shot hook then copies it. A
 * refused shot is answered, counted by cause and logged (at most once a
 * second); the connection stays.
 *
 * Caps: SESSD_MAX_CLIENTS helpers; a peer that has not said hello within
 * SESSD_HELLO_TIMEOUT_S is closed at the next accept; more than
 * SESSD_MAX_RATE messages in one second close the connection.
 * Single-threaded: one pollable fd (an inner epoll set) for actlogd's loop.
 */
#ifndef ACTLOG_SESSD_H
#define ACTLOG_SESSD_H

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "session_proto.h"

#define SESSD_MAX_CLIENTS 16
#define SESSD_HELLO_TIMEOUT_S 5
#define SESSD_MAX_RATE 50 /* messages per second per helper */
#define SESSD_MAX_FDS 4	  /* descriptors received ahead of their messages */

/* One focus report, valid during the callback only. */
struct sessd_focus {
	const char *source;   /* "x11-ewmh", "x11-input-focus", "wayland", ... */
	const char *app;      /* WM_CLASS class; NULL: nothing focused */
	const char *instance; /* WM_CLASS instance or NULL */
	uint32_t pid;	      /* _NET_WM_PID, 0 unknown */
	const char *title;    /* NULL unless titles are allowed */
	const char *unknown;  /* not NULL: the helper cannot tell, and why */
	uid_t uid;	      /* the helper's uid */
};

/* A shot's encodings (include/session_proto.h). */
#define SESSD_FMT_ENUM(id, name, type, ext) SESSD_##id,
enum sessd_fmt { SESSION_SHOT_FORMATS(SESSD_FMT_ENUM) SESSD_FMT_N };
#undef SESSD_FMT_ENUM
/* A format's name ("png", "webp", "jpeg") and media type ("image/png",
 * ...); NULL for an unknown one. */
const char *sessd_fmt_name(enum sessd_fmt f);
const char *sessd_fmt_type(enum sessd_fmt f);
/* The format named s, or -EINVAL. */
int sessd_fmt_parse(const char *s);

/* One screenshot, valid during the callback only. fd is checked: a sealed
 * memfd of size bytes holding an image of format and width x height; read
 * it with pread (its file offset is shared with the helper). */
struct sessd_shot {
	int fd;
	enum sessd_fmt format;
	uint64_t size;
	int64_t taken_ms; /* unix ms, the helper's clock */
	const char *monitor;
	uint32_t width, height;
	uid_t uid;
};

/* Why shots were refused (counters in status). */
enum sessd_shot_refusal {
	SHOT_REF_POLICY,  /* screenshots are off (or no policy yet) */
	SHOT_REF_MESSAGE, /* a bad field, or no descriptor */
	SHOT_REF_SEALS,	  /* not a memfd, or not sealed */
	SHOT_REF_SIZE,	  /* over SESSION_SHOT_MAX, empty, or not the announced size */
	SHOT_REF_FORMAT,  /* not an image of the announced format */
	SHOT_REF_DIMS,	  /* its header's width/height are not the announced ones */
	SHOT_REF_QUEUE,	  /* the shot hook failed (queue directory) */
	SHOT_REF_N
};

struct sessd_hooks {
	/* a helper reported focus */
	void (*focus)(void *ctx, unsigned int client, const struct sessd_focus *f);
	/* a helper that had said hello is gone */
	void (*gone)(void *ctx, unsigned int client);
	/* a checked screenshot: 0 when kept, -errno (why: a reason) when not */
	int (*shot)(void *ctx, const struct sessd_shot *sh, char *why, size_t whylen);
	void *ctx;
};

/* The uid of the active graphical session's user, or -1 for nobody; *by
 * names where that comes from ("logind", "utmp"). */
typedef int64_t (*sessd_active_uid_fn)(void *ctx, const char **by);

struct sessd_opts {
	const char *path;    /* socket path; its directory must exist */
	int64_t session_uid; /* >= 0: this uid, whoever is active */
	/* else the active user: active_uid(active_ctx), or logind's seat0
	 * when active_uid is NULL */
	sessd_active_uid_fn active_uid;
	void *active_ctx;
};

struct sessd;

/* Bind the socket (mode 0666; a stale socket file is replaced). 0 or -errno. */
int sessd_open(struct sessd **out, const struct sessd_opts *o, const struct sessd_hooks *h);
int sessd_fd(const struct sessd *s);
/* Accept, read and act on whatever is ready; calls the hooks. 0 or -errno. */
int sessd_dispatch(struct sessd *s);
/* Set the apps.titles policy; helpers are told when it changes. */
void sessd_set_titles(struct sessd *s, int on);
int sessd_titles(const struct sessd *s);
/* The screenshot policy helpers receive (screenshots.enabled, interval_s,
 * jitter_s, blur, format, quality); helpers are told when it changes. */
struct sessd_shots {
	int enabled;
	unsigned int interval_s, jitter_s;
	int blur;
	enum sessd_fmt format;
	unsigned int quality; /* 1..100 */
};
void sessd_set_shots(struct sessd *s, const struct sessd_shots *p);
/* Close helpers whose user is no longer the allowed one (the active session
 * changed); their gone hook runs. */
void sessd_recheck(struct sessd *s);
/* Add "socket", "allowed_uid", "allowed_by", "refused", "helpers": [...],
 * "shots": {"received","accepted","refused","refused_by":{...}} to o. */
void sessd_status(const struct sessd *s, cJSON *o);
/* Helpers connected (past hello). */
unsigned int sessd_helpers(const struct sessd *s);
/* Close every client and the listener, unlink the socket. NULL ok. */
void sessd_close(struct sessd *s);

#endif /* ACTLOG_SESSD_H */
