// SPDX-License-Identifier: BSD-2-Clause
/*
 * session_sock.c - the session socket (see session_sock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-login.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include "log.h"
#include "session_sock.h"
#include "util.h"

struct client {
	int fd;
	pid_t pid;
	uid_t uid;
	int hello;
	uint64_t since_ns; /* CLOCK_MONOTONIC at accept */
	uint64_t rate_sec; /* the second being counted, and its messages */
	unsigned int rate_n;
	size_t in_len;
	int fds[SESSD_MAX_FDS]; /* received, not yet claimed by a shot message */
	unsigned int nfds;
	char in[SESSION_MAX_LINE + 1];
	char session[32], display[64], desktop[16], source[32], wm[64];
	char route[16]; /* the focus route in use, "" none */
	struct {
		char route[16], why[SESSION_ROUTE_WHY_LEN];
	} not_used[SESSION_ROUTES_MAX]; /* routes the helper did not use, and why */
	unsigned int n_not_used;
};

struct sessd {
	int epfd, lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int64_t session_uid;
	sessd_active_uid_fn active_uid;
	void *active_ctx;
	int titles;
	struct sessd_shots shots;
	uint64_t refused, accepted;
	uint64_t shots_received, shots_accepted, shots_refused[SHOT_REF_N];
	uint64_t last_shot_log_ns;
	char last_shot_refusal[200];
	uint64_t last_refusal_log_ns;
	char last_refusal[160];
	struct sessd_hooks hooks;
	struct client *clients[SESSD_MAX_CLIENTS];
};

/*
 * The uid whose helpers may report: --session-uid when given, else the user
 * of the active graphical session (the tracker's, or logind's seat0). 0, or
 * -ENOENT when there is none (nobody at the seat, no logind); *by names the
 * rule.
 */
static int allowed_uid(const struct sessd *s, uid_t *uid, const char **by)
{
	int64_t u;
	int r;

	if (s->session_uid >= 0) {
		*uid = (uid_t)s->session_uid;
		*by = "session_uid";
		return 0;
	}
	if (s->active_uid) {
		*by = "active user";
		u = s->active_uid(s->active_ctx, by);
		if (u < 0)
			return -ENOENT;
		*uid = (uid_t)u;
		return 0;
	}
	*by = "logind seat0";
	r = sd_seat_get_active("seat0", NULL, uid);
	return r < 0 ? -ENOENT : 0;
}

static int send_line(int fd, cJSON *o)
{
	char *txt = cJSON_PrintUnformatted(o);
	size_t n;
	ssize_t w;
	int err = 0;

	if (!txt)
		return -ENOMEM;
	n = strlen(txt);
	txt[n] = '\n'; /* replaces the NUL: written with its length */
	do
		w = send(fd, txt, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	/* messages are small and helpers read them at once: a full socket
	 * means a stuck helper */
	if (w < 0)
		err = -errno;
	else if ((size_t)w != n + 1)
		err = -EAGAIN;
	free(txt);
	return err;
}

static cJSON *policy_json(const struct sessd *s)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddBoolToObject(p, "apps.titles", s->titles);
	cJSON_AddBoolToObject(p, "screenshots.enabled", s->shots.enabled);
	cJSON_AddNumberToObject(p, "screenshots.interval_s", s->shots.interval_s);
	cJSON_AddNumberToObject(p, "screenshots.jitter_s", s->shots.jitter_s);
	cJSON_AddBoolToObject(p, "screenshots.blur", s->shots.blur);
	cJSON_AddStringToObject(p, "screenshots.format", sessd_fmt_name(s->shots.format));
	cJSON_AddNumberToObject(p, "screenshots.quality", s->shots.quality);
	return p;
}

static void refuse_fd(struct sessd *s, int fd, pid_t pid, uid_t uid, const char *reason)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", "refused");
	cJSON_AddStringToObject(o, "reason", reason);
	send_line(fd, o);
	cJSON_Delete(o);
	s->refused++;
	snprintf(s->last_refusal, sizeof(s->last_refusal), "pid %d uid %u: %s", (int)pid,
		 (unsigned int)uid, reason);
	/* a refused helper retries: log at most once a second, count always */
	if (now - s->last_refusal_log_ns >= NSEC_PER_SEC || !s->last_refusal_log_ns) {
		log_warn("session helper refused: %s (%" PRIu64 " refused since start)",
			 s->last_refusal, s->refused);
		s->last_refusal_log_ns = now;
	}
}

static void client_close(struct sessd *s, unsigned int i)
{
	struct client *c = s->clients[i];

	if (!c)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	while (c->nfds)
		close(c->fds[--c->nfds]);
	s->clients[i] = NULL;
	if (c->hello) {
		log_info("session helper gone: pid %d uid %u display %s", (int)c->pid,
			 (unsigned int)c->uid, c->display);
		if (s->hooks.gone)
			s->hooks.gone(s->hooks.ctx, i);
	}
	free(c);
}

static void client_refuse(struct sessd *s, unsigned int i, const char *reason)
{
	struct client *c = s->clients[i];

	refuse_fd(s, c->fd, c->pid, c->uid, reason);
	client_close(s, i);
}

int sessd_open(struct sessd **out, const struct sessd_opts *o, const struct sessd_hooks *h)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = SESSD_MAX_CLIENTS};
	struct sessd *s;
	int err;

	if (strlen(o->path) >= sizeof(s->path))
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lfd = -1;
	s->session_uid = o->session_uid;
	s->shots.interval_s = 600; /* the server's default; off until a policy says on */
	s->shots.format = SESSD_WEBP;
	s->shots.quality = 50;
	s->active_uid = o->active_uid;
	s->active_ctx = o->active_ctx;
	s->hooks = *h;
	strcpy(s->path, o->path);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		err = -errno;
		goto fail;
	}
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		err = -errno;
		goto fail;
	}
	if (unlink(o->path) < 0 && errno != ENOENT) {
		err = -errno;
		goto fail;
	}
	/* anyone may connect; SO_PEERCRED decides who may stay (bound owner-only
	 * and opened with chmod, like every socket of the agent) */
	err = unix_bind_mode(s->lfd, o->path, 0666, (gid_t)-1);
	if (err)
		goto fail;
	if (listen(s->lfd, 16) < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	sessd_close(s);
	return err;
}

int sessd_fd(const struct sessd *s)
{
	return s->epfd;
}

static void do_accept(struct sessd *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct ucred cred;
	socklen_t clen;
	struct client *c;
	const char *by;
	char why[128];
	unsigned int i;
	uid_t ok_uid;
	int fd;

	for (i = 0; i < SESSD_MAX_CLIENTS; i++)
		if (s->clients[i] && !s->clients[i]->hello &&
		    now - s->clients[i]->since_ns > SESSD_HELLO_TIMEOUT_S * NSEC_PER_SEC)
			client_close(s, i);
	for (;;) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or a transient error: the next wake-up retries */
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
			close(fd);
			continue;
		}
		if (allowed_uid(s, &ok_uid, &by) < 0) {
			refuse_fd(s, fd, cred.pid, cred.uid,
				  "no active graphical session (nobody at seat0; actlogd "
				  "--session-uid names the user where neither logind nor utmp "
				  "can tell)");
			close(fd);
			continue;
		}
		if (cred.uid != ok_uid) {
			snprintf(why, sizeof(why),
				 "uid %u is not the user of the active session (%s)",
				 (unsigned int)cred.uid, by);
			refuse_fd(s, fd, cred.pid, cred.uid, why);
			close(fd);
			continue;
		}
		for (i = 0; i < SESSD_MAX_CLIENTS && s->clients[i]; i++)
			;
		c = i < SESSD_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			refuse_fd(s, fd, cred.pid, cred.uid, "too many session helpers");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->since_ns = now;
		ev.data.u32 = i;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		s->clients[i] = c;
	}
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void copy_field(char *dst, size_t n, const char *v)
{
	if (v)
		utf8_clean(dst, n, v, strlen(v));
	else
		dst[0] = '\0';
}

/* hello: a session id, if given, must be the peer's own (logind). */
static int on_hello(struct sessd *s, unsigned int i, const cJSON *m)
{
	struct client *c = s->clients[i];
	const char *session = jstr(m, "session");
	const cJSON *e;
	uid_t suid;
	cJSON *o;

	/* only logind knows sessions (elogind and utmp systems set no such ids
	 * that sd-login could check) */
	if (session && *session && s->session_uid < 0 && access("/run/systemd/seats/", F_OK) == 0) {
		if (sd_session_get_uid(session, &suid) < 0 || suid != c->uid) {
			client_refuse(s, i, "the hello names a session that is not the peer's own");
			return -EPERM;
		}
	}
	copy_field(c->session, sizeof(c->session), session);
	copy_field(c->display, sizeof(c->display), jstr(m, "display"));
	copy_field(c->desktop, sizeof(c->desktop), jstr(m, "desktop"));
	copy_field(c->source, sizeof(c->source), jstr(m, "source"));
	copy_field(c->wm, sizeof(c->wm), jstr(m, "wm"));
	copy_field(c->route, sizeof(c->route), jstr(m, "route"));
	c->n_not_used = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "routes"))
	{
		if (c->n_not_used == SESSION_ROUTES_MAX || !jstr(e, "route"))
			continue;
		copy_field(c->not_used[c->n_not_used].route, sizeof(c->not_used[0].route),
			   jstr(e, "route"));
		copy_field(c->not_used[c->n_not_used].why, sizeof(c->not_used[0].why),
			   jstr(e, "why"));
		c->n_not_used++;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "welcome");
	cJSON_AddNumberToObject(o, "v", SESSION_PROTO_VERSION);
	cJSON_AddItemToObject(o, "policy", policy_json(s));
	if (send_line(c->fd, o) < 0) {
		cJSON_Delete(o);
		client_close(s, i);
		return -EPIPE;
	}
	cJSON_Delete(o);
	c->hello = 1;
	s->accepted++;
	log_notice("session helper connected: pid %d uid %u display %s (%s, route %s, %s%s%s)",
		   (int)c->pid, (unsigned int)c->uid, c->display[0] ? c->display : "-",
		   c->desktop[0] ? c->desktop : "?", c->route[0] ? c->route : "none",
		   c->source[0] ? c->source : "?", c->wm[0] ? ", " : "", c->wm);
	return 0;
}

static void on_focus(struct sessd *s, unsigned int i, const cJSON *m)
{
	struct client *c = s->clients[i];
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(m, "pid");
	struct sessd_focus f = {0};
	const char *src = jstr(m, "source");

	if (src)
		copy_field(c->source, sizeof(c->source), src);
	f.source = c->source[0] ? c->source : NULL;
	f.app = jstr(m, "app");
	f.instance = jstr(m, "instance");
	f.unknown = jstr(m, "unknown");
	if (cJSON_IsNumber(pid) && pid->valuedouble >= 1 && pid->valuedouble < 4194305)
		f.pid = (uint32_t)pid->valuedouble;
	f.title = s->titles ? jstr(m, "title") : NULL;
	f.uid = c->uid;
	if (s->hooks.focus)
		s->hooks.focus(s->hooks.ctx, i, &f);
}

static const char *const shot_ref_names[SHOT_REF_N] = {
    [SHOT_REF_POLICY] = "policy", [SHOT_REF_MESSAGE] = "message", [SHOT_REF_SEALS] = "seals",
    [SHOT_REF_SIZE] = "size",	  [SHOT_REF_FORMAT] = "format",	  [SHOT_REF_DIMS] = "dims",
    [SHOT_REF_QUEUE] = "queue",
};

static void shot_ack(struct sessd *s, unsigned int i, const char *reason)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", "shot_ack");
	cJSON_AddBoolToObject(o, "ok", !reason);
	if (reason)
		cJSON_AddStringToObject(o, "reason", reason);
	if (send_line(s->clients[i]->fd, o) < 0)
		log_debug("session helper pid %d: the shot answer was not sent",
			  (int)s->clients[i]->pid);
	cJSON_Delete(o);
}

static void shot_refuse(struct sessd *s, unsigned int i, enum sessd_shot_refusal why,
			const char *reason)
{
	const struct client *c = s->clients[i];
	uint64_t now = clock_ns(CLOCK_MONOTONIC), total = 0;
	unsigned int k;

	s->shots_refused[why]++;
	for (k = 0; k < SHOT_REF_N; k++)
		total += s->shots_refused[k];
	snprintf(s->last_shot_refusal, sizeof(s->last_shot_refusal), "pid %d uid %u: %s",
		 (int)c->pid, (unsigned int)c->uid, reason);
	if (now - s->last_shot_log_ns >= NSEC_PER_SEC || !s->last_shot_log_ns) {
		log_warn("screenshot refused: %s (%" PRIu64 " refused since start)",
			 s->last_shot_refusal, total);
		s->last_shot_log_ns = now;
	}
	shot_ack(s, i, reason);
}

/* A number member in [min, max], else -1. */
static int64_t jnum(const cJSON *o, const char *k, double min, double max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return -1;
	return (int64_t)v->valuedouble;
}

#define FMT_NAME(id, name, type, ext) name,
#define FMT_TYPE(id, name, type, ext) type,
static const char *const fmt_names[SESSD_FMT_N] = {SESSION_SHOT_FORMATS(FMT_NAME)};
static const char *const fmt_types[SESSD_FMT_N] = {SESSION_SHOT_FORMATS(FMT_TYPE)};

const char *sessd_fmt_name(enum sessd_fmt f)
{
	return (unsigned int)f < SESSD_FMT_N ? fmt_names[f] : NULL;
}

const char *sessd_fmt_type(enum sessd_fmt f)
{
	return (unsigned int)f < SESSD_FMT_N ? fmt_types[f] : NULL;
}

int sessd_fmt_parse(const char *str)
{
	int i;

	for (i = 0; str && i < SESSD_FMT_N; i++)
		if (!strcmp(str, fmt_names[i]))
			return i;
	return -EINVAL;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The width and height in the header of an image of format fmt (buf, len
 * bytes: the whole file). PNG: the signature and IHDR. WebP: "RIFF" and
 * "WEBP", then libwebp's WebPGetInfo (VP8, VP8L or VP8X; it reads the
 * headers only, within len). JPEG: the SOI marker, then libjpeg-turbo's
 * tjDecompressHeader3 (the markers up to the first SOS, within len; no
 * pixel is decoded). 0, or -EINVAL when it is no such image.
 */
static int image_dims(enum sessd_fmt fmt, const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	int iw = 0, ih = 0, sub, cs, r;
	tjhandle tj;

	switch (fmt) {
	case SESSD_PNG:
		if (len < 24 || memcmp(buf, sig, 8) || memcmp(buf + 12, "IHDR", 4))
			return -EINVAL;
		*w = be32(buf + 16);
		*h = be32(buf + 20);
		return 0;
	case SESSD_WEBP:
		if (len < 16 || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WEBP", 4) ||
		    !WebPGetInfo(buf, len, &iw, &ih) || iw <= 0 || ih <= 0)
			return -EINVAL;
		break;
	case SESSD_JPEG:
		if (len < 4 || buf[0] != 0xff || buf[1] != 0xd8 || buf[2] != 0xff ||
		    len > SESSION_SHOT_MAX)
			return -EINVAL;
		tj = tjInitDecompress();
		if (!tj)
			return -EINVAL;
		/* a header cut before its SOFn answers 0 and leaves iw, ih as they
		 * were: they start at 0 so that it is refused */
		r = tjDecompressHeader3(tj, buf, (unsigned long)len, &iw, &ih, &sub, &cs);
		tjDestroy(tj);
		if (r || iw <= 0 || ih <= 0)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	*w = (uint32_t)iw;
	*h = (uint32_t)ih;
	return 0;
}

/*
 * Check a shot's descriptor against its message: a memfd sealed against
 * any change, of the announced size, holding an image of the announced
 * format and dimensions (read through a read-only mapping: the seals keep
 * it from shrinking under it). 0, or the refusal's cause with why filled
 * in.
 */
static int shot_check(int fd, const struct sessd_shot *sh, char *why, size_t wl)
{
	const int need = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	struct stat st;
	uint32_t w = 0, h = 0;
	void *map;
	int seals, r;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, wl, "the descriptor is not a memfd");
		return SHOT_REF_SEALS + 1;
	}
	if ((seals & need) != need) {
		snprintf(why, wl, "the memfd is not sealed (seals 0x%x, need 0x%x)", seals, need);
		return SHOT_REF_SEALS + 1;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > SESSION_SHOT_MAX ||
	    (uint64_t)st.st_size != sh->size) {
		snprintf(why, wl,
			 "the memfd holds %lld bytes; the message says %" PRIu64 " (at most %u)",
			 (long long)st.st_size, sh->size, SESSION_SHOT_MAX);
		return SHOT_REF_SIZE + 1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(why, wl, "the memfd cannot be mapped: %s", strerror(errno));
		return SHOT_REF_SEALS + 1;
	}
	r = image_dims(sh->format, map, (size_t)st.st_size, &w, &h);
	munmap(map, (size_t)st.st_size);
	if (r) {
		snprintf(why, wl, "not a %s image (its header does not parse)",
			 sessd_fmt_name(sh->format));
		return SHOT_REF_FORMAT + 1;
	}
	if (w != sh->width || h != sh->height) {
		snprintf(why, wl, "the %s is %ux%u; the message says %ux%u",
			 sessd_fmt_name(sh->format), w, h, sh->width, sh->height);
		return SHOT_REF_DIMS + 1;
	}
	return 0;
}

/* {"type":"shot",...} with the oldest unclaimed descriptor. */
static void on_shot(struct sessd *s, unsigned int i, const cJSON *m)
{
	struct client *c = s->clients[i];
	struct sessd_shot sh = {.fd = -1, .uid = c->uid};
	char why[200], mon[SESSION_MONITOR_LEN + 1];
	int64_t size, w, h;
	const char *mn, *fmt;
	int r;

	s->shots_received++;
	if (c->nfds) {
		sh.fd = c->fds[0];
		memmove(c->fds, c->fds + 1, --c->nfds * sizeof(c->fds[0]));
	}
	sh.taken_ms = jnum(m, "taken_at", 946684800000.0, 4102444800000.0); /* 2000..2100 */
	size = jnum(m, "size", 1, SESSION_SHOT_MAX);
	w = jnum(m, "width", 1, 65535);
	h = jnum(m, "height", 1, 65535);
	mn = jstr(m, "monitor");
	fmt = jstr(m, "format");
	/* a helper that names no format sends PNG (before formats existed) */
	r = fmt ? sessd_fmt_parse(fmt) : SESSD_PNG;
	if (!s->shots.enabled) {
		shot_refuse(s, i, SHOT_REF_POLICY,
			    "screenshots are off by policy (or no policy has arrived)");
		goto out;
	}
	if (sh.fd < 0) {
		shot_refuse(s, i, SHOT_REF_MESSAGE, "no descriptor came with the shot");
		goto out;
	}
	if (sh.taken_ms < 0 || w < 0 || h < 0 || !mn || strlen(mn) > SESSION_MONITOR_LEN) {
		shot_refuse(s, i, SHOT_REF_MESSAGE,
			    "a shot needs taken_at (unix ms), width and height (1..65535) and "
			    "monitor (at most 64 bytes)");
		goto out;
	}
	if (r < 0) {
		shot_refuse(s, i, SHOT_REF_MESSAGE, "format must be png, webp or jpeg");
		goto out;
	}
	sh.format = (enum sessd_fmt)r;
	if (size < 0) {
		shot_refuse(s, i, SHOT_REF_SIZE, "size must be 1..33554432 bytes");
		goto out;
	}
	utf8_clean(mon, sizeof(mon), mn, strlen(mn));
	sh.monitor = mon;
	sh.size = (uint64_t)size;
	sh.width = (uint32_t)w;
	sh.height = (uint32_t)h;
	r = shot_check(sh.fd, &sh, why, sizeof(why));
	if (r) {
		shot_refuse(s, i, (enum sessd_shot_refusal)(r - 1), why);
		goto out;
	}
	snprintf(why, sizeof(why), "not kept");
	r = s->hooks.shot ? s->hooks.shot(s->hooks.ctx, &sh, why, sizeof(why)) : -ENOSYS;
	if (r) {
		shot_refuse(s, i, SHOT_REF_QUEUE, why);
		goto out;
	}
	s->shots_accepted++;
	shot_ack(s, i, NULL);
out:
	if (sh.fd >= 0)
		close(sh.fd);
}

/* One message; -errno when the client was closed. */
static int on_line(struct sessd *s, unsigned int i, const char *line, size_t len)
{
	struct client *c = s->clients[i];
	uint64_t sec = clock_ns(CLOCK_MONOTONIC) / NSEC_PER_SEC;
	const char *type;
	cJSON *m;

	if (len == 0)
		return 0;
	if (sec != c->rate_sec) {
		c->rate_sec = sec;
		c->rate_n = 0;
	}
	if (++c->rate_n > SESSD_MAX_RATE) {
		client_refuse(s, i, "more than 50 messages in one second");
		return -EPERM;
	}
	m = cJSON_ParseWithLength(line, len);
	type = jstr(m, "type");
	if (!cJSON_IsObject(m) || !type) {
		cJSON_Delete(m);
		client_refuse(s, i, "a message that is not a JSON object with a type");
		return -EINVAL;
	}
	if (!c->hello) {
		int r = strcmp(type, "hello")
			    ? (client_refuse(s, i, "the first message must be hello"), -EPROTO)
			    : on_hello(s, i, m);

		cJSON_Delete(m);
		return r;
	}
	if (!strcmp(type, "focus"))
		on_focus(s, i, m);
	else if (!strcmp(type, "shot"))
		on_shot(s, i, m);
	/* other types are for newer actlogd versions: ignored */
	cJSON_Delete(m);
	return 0;
}

/* Keep the descriptors that came with a message, in order; more than
 * SESSD_MAX_FDS waiting is a protocol error. 0 or -EPROTO. */
static int take_fds(struct client *c, struct msghdr *mh)
{
	struct cmsghdr *cm;
	int err = 0, fd;
	size_t k, n;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < n; k++) {
			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
			if (c->nfds < SESSD_MAX_FDS) {
				c->fds[c->nfds++] = fd;
			} else {
				close(fd);
				err = -EPROTO;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		err = -EPROTO;
	return err;
}

static void client_read(struct sessd *s, unsigned int i)
{
	struct client *c = s->clients[i];
	union {
		char buf[CMSG_SPACE(sizeof(int) * SESSD_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr mh;
	char *nl, *p;
	ssize_t r;

	for (;;) {
		iov.iov_base = c->in + c->in_len;
		iov.iov_len = SESSION_MAX_LINE - c->in_len;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		r = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (r >= 0 && mh.msg_controllen && take_fds(c, &mh) < 0) {
			client_refuse(s, i, "more descriptors than shot messages");
			return;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			client_close(s, i);
			return;
		}
		c->in_len += (size_t)r;
		p = c->in;
		while ((nl = memchr(p, '\n', c->in_len - (size_t)(p - c->in)))) {
			if (on_line(s, i, p, (size_t)(nl - p)) < 0)
				return; /* closed */
			p = nl + 1;
		}
		c->in_len -= (size_t)(p - c->in);
		memmove(c->in, p, c->in_len);
		if (c->in_len >= SESSION_MAX_LINE) {
			client_refuse(s, i, "a line longer than 4096 bytes");
			return;
		}
	}
}

int sessd_dispatch(struct sessd *s)
{
	struct epoll_event evs[16];
	int n, k;
	uint32_t i;

	n = epoll_wait(s->epfd, evs, ARRAY_SIZE(evs), 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (k = 0; k < n; k++) {
		i = evs[k].data.u32;
		if (i == SESSD_MAX_CLIENTS)
			do_accept(s);
		else if (s->clients[i])
			client_read(s, i);
	}
	return 0;
}

/* Tell every helper the current policy. */
static void send_policy(struct sessd *s)
{
	unsigned int i;
	cJSON *o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "policy");
	cJSON_AddItemToObject(o, "policy", policy_json(s));
	for (i = 0; i < SESSD_MAX_CLIENTS; i++)
		if (s->clients[i] && s->clients[i]->hello && send_line(s->clients[i]->fd, o) < 0)
			client_close(s, i);
	cJSON_Delete(o);
}

void sessd_set_titles(struct sessd *s, int on)
{
	on = !!on;
	if (!s || on == s->titles)
		return;
	s->titles = on;
	send_policy(s);
}

void sessd_set_shots(struct sessd *s, const struct sessd_shots *p)
{
	if (!s || !memcmp(&s->shots, p, sizeof(*p)))
		return;
	s->shots = *p;
	send_policy(s);
}

int sessd_titles(const struct sessd *s)
{
	return s ? s->titles : 0;
}

void sessd_recheck(struct sessd *s)
{
	const char *by;
	unsigned int i;
	uid_t uid;
	int r;

	if (!s || s->session_uid >= 0)
		return;
	r = allowed_uid(s, &uid, &by);
	for (i = 0; i < SESSD_MAX_CLIENTS; i++)
		if (s->clients[i] && (r < 0 || s->clients[i]->uid != uid))
			client_refuse(s, i, "the session is no longer the active one on seat0");
}

unsigned int sessd_helpers(const struct sessd *s)
{
	unsigned int i, n = 0;

	for (i = 0; s && i < SESSD_MAX_CLIENTS; i++)
		n += s->clients[i] && s->clients[i]->hello;
	return n;
}

void sessd_status(const struct sessd *s, cJSON *o)
{
	const struct client *c;
	const char *by;
	unsigned int i;
	cJSON *arr, *e, *nu;
	uid_t uid;

	cJSON_AddStringToObject(o, "socket", s->path);
	if (allowed_uid(s, &uid, &by) == 0)
		cJSON_AddNumberToObject(o, "allowed_uid", uid);
	else
		cJSON_AddNullToObject(o, "allowed_uid");
	cJSON_AddStringToObject(o, "allowed_by", by);
	cJSON_AddNumberToObject(o, "accepted", (double)s->accepted);
	cJSON_AddNumberToObject(o, "refused", (double)s->refused);
	if (s->last_refusal[0])
		cJSON_AddStringToObject(o, "last_refusal", s->last_refusal);
	cJSON_AddBoolToObject(o, "titles", s->titles);
	e = cJSON_AddObjectToObject(o, "shots");
	if (e) {
		cJSON *rb;
		uint64_t total = 0;

		cJSON_AddNumberToObject(e, "received", (double)s->shots_received);
		cJSON_AddNumberToObject(e, "accepted", (double)s->shots_accepted);
		for (i = 0; i < SHOT_REF_N; i++)
			total += s->shots_refused[i];
		cJSON_AddNumberToObject(e, "refused", (double)total);
		rb = cJSON_AddObjectToObject(e, "refused_by");
		for (i = 0; rb && i < SHOT_REF_N; i++)
			cJSON_AddNumberToObject(rb, shot_ref_names[i], (double)s->shots_refused[i]);
		if (s->last_shot_refusal[0])
			cJSON_AddStringToObject(e, "last_refusal", s->last_shot_refusal);
	}
	arr = cJSON_AddArrayToObject(o, "helpers");
	for (i = 0; i < SESSD_MAX_CLIENTS; i++) {
		c = s->clients[i];
		if (!c || !c->hello)
			continue;
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "pid", c->pid);
		cJSON_AddNumberToObject(e, "uid", c->uid);
		cJSON_AddStringToObject(e, "session", c->session);
		cJSON_AddStringToObject(e, "display", c->display);
		cJSON_AddStringToObject(e, "desktop", c->desktop);
		cJSON_AddStringToObject(e, "source", c->source);
		cJSON_AddStringToObject(e, "wm", c->wm);
		if (c->route[0])
			cJSON_AddStringToObject(e, "route", c->route);
		else
			cJSON_AddNullToObject(e, "route");
		nu = cJSON_AddArrayToObject(e, "routes_not_used");
		for (unsigned int k = 0; nu && k < c->n_not_used; k++) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "route", c->not_used[k].route);
			cJSON_AddStringToObject(r, "why", c->not_used[k].why);
			cJSON_AddItemToArray(nu, r);
		}
		cJSON_AddItemToArray(arr, e);
	}
}

void sessd_close(struct sessd *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < SESSD_MAX_CLIENTS; i++)
		client_close(s, i);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}
