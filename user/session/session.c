// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-session - the unprivileged helper in each graphical session: tells
 * actlogd which application has the focus.
 *
 * Lifecycle: options → find the desktop (X11, or Wayland) → connect to
 * actlogd's session socket (hello; actlogd answers with the policy or
 * refuses) → one poll loop (signals, X events, actlogd's messages, the
 * reconnect timer) → exit 0 when the X connection closes (the session
 * ended) or on SIGTERM. When actlogd goes away or refuses, reconnect with
 * exponential back-off (0.5 s doubling to 30 s); the focus is sent again
 * after every hello.
 *
 * The focus comes through one route (focus_route.h): X11, or on Wayland
 * the compositor's own (wlroots protocol, KWin script, GNOME Shell
 * extension). When none works the helper says so ("unknown", with each
 * route's reason) instead of guessing from Xwayland, which sees only X11
 * clients; screenshots still work then.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "capture.h"
#include "capture_pw.h"
#include "log.h"
#include "session.h"
#include "util.h"
#include "version.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define HELLO_TIMEOUT_MS 3000
#define SHOT_INTERVAL_MIN 1 /* the server allows 30 s and more; tests use less */
#define SHOT_INTERVAL_MAX 86400
#define SHOT_JITTER_MAX 3600
#define BLUR_RADIUS_DEFAULT 12
/* --capture-once without --format / --quality: the server's defaults
 * (docs/PERFORMANCE.md, "Screenshots"). */
#define ONCE_FMT_DEFAULT IMAGE_WEBP
#define ONCE_QUALITY_DEFAULT 50
/* A policy without screenshots.quality (an older actlogd, which takes PNG
 * only) */
#define SHOT_QUALITY_FALLBACK 50

struct helper {
	const char *socket;
	const char *display;
	struct focus_env env;
	const char *force_route;		    /* --focus-route */
	struct focus_route route;		    /* ops NULL: no route works */
	struct focus_tried tried[FOCUS_ROUTES_MAX]; /* routes not used, and why */
	int ntried;
	const char *desktop;		 /* "x11" or "wayland" */
	char unknown[FOCUS_WHY_LEN * 2]; /* no route: why the focus cannot be known */
	int fd;				 /* actlogd, -1 while disconnected */
	int titles;			 /* policy apps.titles */
	uint64_t retry_at_ns;		 /* CLOCK_MONOTONIC: next connection attempt */
	unsigned int backoff_ms;
	char last_error[256];		   /* logged once until it changes */
	char route_unknown[FOCUS_WHY_LEN]; /* the route's unknown as last logged */
	/* screenshots: policy from actlogd, applied to the timer at once */
	int shots_on;		 /* screenshots.enabled (off while disconnected) */
	unsigned int shot_iv_s;	 /* screenshots.interval_s */
	unsigned int shot_jit_s; /* screenshots.jitter_s */
	int shot_blur;		 /* screenshots.blur */
	enum image_fmt shot_fmt; /* screenshots.format (png without the key) */
	unsigned int shot_q;	 /* screenshots.quality */
	unsigned int blur_radius;
	unsigned int cap_flags;
	struct capture *cap;		/* opened at the first shot */
	struct wl_capture *wl;		/* Wayland: set up at the first shot */
	struct wl_capture_opts wl_opts; /* --pw-node, --pw-remote */
	int wl_stop;			/* the portal said no: ask no more */
	int tfd;			/* the screenshot timer */
	uint64_t shots_taken;
	size_t in_len;
	char in[SESSION_MAX_LINE + 1];
};

static int send_json(struct helper *h, cJSON *o)
{
	char *txt = cJSON_PrintUnformatted(o);
	size_t n;
	int err;

	if (!txt)
		return -ENOMEM;
	n = strlen(txt);
	txt[n] = '\n';
	err = 0;
	if (send(h->fd, txt, n + 1, MSG_NOSIGNAL) != (ssize_t)(n + 1))
		err = -EPIPE;
	free(txt);
	return err;
}

static int send_focus(struct helper *h)
{
	struct focus_info fi;
	cJSON *o = cJSON_CreateObject();
	int err;

	cJSON_AddStringToObject(o, "type", "focus");
	memset(&fi, 0, sizeof(fi));
	if (h->route.ops)
		h->route.ops->focus(h->route.st, &fi);
	if (!h->route.ops || fi.unknown[0]) {
		cJSON_AddStringToObject(o, "source",
					h->route.ops ? h->route.ops->name : h->desktop);
		cJSON_AddNullToObject(o, "app");
		cJSON_AddStringToObject(o, "unknown", h->route.ops ? fi.unknown : h->unknown);
	} else {
		cJSON_AddStringToObject(o, "source", fi.source);
		if (fi.app[0]) {
			cJSON_AddStringToObject(o, "app", fi.app);
			if (fi.instance[0])
				cJSON_AddStringToObject(o, "instance", fi.instance);
			if (fi.pid)
				cJSON_AddNumberToObject(o, "pid", fi.pid);
			/* titles are read only when allowed; sent only then too */
			if (h->titles && fi.title[0])
				cJSON_AddStringToObject(o, "title", fi.title);
		} else {
			cJSON_AddNullToObject(o, "app");
		}
	}
	err = send_json(h, o);
	cJSON_Delete(o);
	return err;
}

/* Arm the screenshot timer for the next shot (interval plus a random
 * jitter in [0, jitter]) or disarm it when screenshots are off. */
static void shot_timer(struct helper *h)
{
	struct itimerspec its = {0};
	uint32_t rnd = 0;
	uint64_t ms;

	if (h->shots_on) {
		ms = (uint64_t)h->shot_iv_s * 1000;
		if (h->shot_jit_s && getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) == sizeof(rnd))
			ms += rnd % ((uint64_t)h->shot_jit_s * 1000 + 1);
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	}
	timerfd_settime(h->tfd, 0, &its, NULL);
}

/* Stop screenshots (policy off, or actlogd gone: no policy is no consent). */
static void shots_off(struct helper *h)
{
	if (!h->shots_on)
		return;
	h->shots_on = 0;
	shot_timer(h);
	log_info("screenshots off");
}

static void disconnect(struct helper *h, const char *why)
{
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	h->in_len = 0;
	shots_off(h);
	if (why && strcmp(why, h->last_error)) {
		log_warn("%s; retrying with back-off", why);
		snprintf(h->last_error, sizeof(h->last_error), "%s", why);
	}
	h->retry_at_ns = clock_ns(CLOCK_MONOTONIC) + (uint64_t)h->backoff_ms * NSEC_PER_MSEC;
	h->backoff_ms = h->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : h->backoff_ms * 2;
}

/* Screenshot keys of a policy object; re-arm the timer when they change. */
static void apply_shot_policy(struct helper *h, const cJSON *p)
{
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(p, "screenshots.enabled");
	const cJSON *iv = cJSON_GetObjectItemCaseSensitive(p, "screenshots.interval_s");
	const cJSON *jit = cJSON_GetObjectItemCaseSensitive(p, "screenshots.jitter_s");
	const cJSON *bl = cJSON_GetObjectItemCaseSensitive(p, "screenshots.blur");
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(p, "screenshots.format");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(p, "screenshots.quality");
	int nfmt = cJSON_IsString(fmt) ? image_fmt_parse(fmt->valuestring) : -EINVAL;
	unsigned int niv = h->shot_iv_s, njit = h->shot_jit_s;
	int on, changed;

	/* a policy without the key (an older actlogd) means off */
	on = cJSON_IsTrue(en);
	if (cJSON_IsNumber(iv) && iv->valuedouble >= SHOT_INTERVAL_MIN &&
	    iv->valuedouble <= SHOT_INTERVAL_MAX)
		niv = (unsigned int)iv->valuedouble;
	if (cJSON_IsNumber(jit) && jit->valuedouble >= 0 && jit->valuedouble <= SHOT_JITTER_MAX)
		njit = (unsigned int)jit->valuedouble;
	h->shot_blur = cJSON_IsTrue(bl);
	/* without the key (an older actlogd) PNG, the one format it takes */
	h->shot_fmt = nfmt < 0 ? IMAGE_PNG : (enum image_fmt)nfmt;
	h->shot_q = cJSON_IsNumber(q) && q->valuedouble >= IMAGE_QUALITY_MIN &&
			    q->valuedouble <= IMAGE_QUALITY_MAX
			? (unsigned int)q->valuedouble
			: SHOT_QUALITY_FALLBACK;
	changed = on != h->shots_on || (on && (niv != h->shot_iv_s || njit != h->shot_jit_s));
	h->shots_on = on;
	h->shot_iv_s = niv;
	h->shot_jit_s = njit;
	if (!changed)
		return;
	shot_timer(h);
	if (on)
		log_info("screenshots every %us (+ up to %us), %s q%u%s by policy", niv, njit,
			 image_fmt_name(h->shot_fmt), h->shot_q, h->shot_blur ? ", blurred" : "");
	else
		log_info("screenshots off by policy");
}

/* How the policy's shots are made. */
static struct shot_enc policy_enc(const struct helper *h)
{
	struct shot_enc e = {
	    .blur = h->shot_blur ? h->blur_radius : 0, .fmt = h->shot_fmt, .quality = h->shot_q};

	return e;
}

/* Wayland: every monitor through the ScreenCast portal, handed over like
 * the X11 shots. The portal's dialog (only until a restore token is
 * stored) blocks the loop until the user answers or WL_DIALOG_TIMEOUT_MS.
 * A refusal, or no portal at all, stops the shots until the helper
 * restarts: the user is not asked again at every interval. */
static void wl_take_shot(struct helper *h)
{
	struct capture_shot shots[CAPTURE_MAX_MONITORS];
	struct shot_enc e = policy_enc(h);
	int64_t taken_ms;
	int r;

	if (h->wl_stop)
		return;
	if (!h->wl) {
		r = wl_capture_open(&h->wl, &h->wl_opts);
		if (r) {
			log_warn("screenshots: Wayland capture: %s", strerror(-r));
			return;
		}
	}
	taken_ms = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);
	r = wl_capture_grab(h->wl, shots, CAPTURE_MAX_MONITORS);
	if (r >= 0) {
		if (wl_capture_error(h->wl)[0])
			log_warn("screenshots: %s", wl_capture_error(h->wl));
		r = shots_deliver(h->fd, shots, r, &e, taken_ms);
	} else {
		log_warn("screenshot failed: %s", wl_capture_error(h->wl));
		if (r == -ECANCELED || r == -EACCES || r == -ENOSYS) {
			h->wl_stop = 1;
			log_warn("screenshots: none on Wayland until actlog-session restarts");
		}
	}
	capture_shots_free(shots, CAPTURE_MAX_MONITORS);
	if (r == -ECONNRESET) {
		disconnect(h, "actlogd closed the connection");
		return;
	}
	if (r < 0)
		return;
	h->shots_taken++;
	log_debug("screenshot %" PRIu64 ": %d monitor(s) via %s, sent to actlogd", h->shots_taken,
		  r, wl_capture_method(h->wl));
}

/* The timer fired: capture every monitor, hand the encoded images to
 * actlogd (sealed memfds over the session socket), arm the next shot. */
static void take_shot(struct helper *h)
{
	struct shot_enc e = policy_enc(h);
	int64_t taken_ms;
	uint64_t ticks;
	int r;

	if (read(h->tfd, &ticks, sizeof(ticks)) < 0)
		return;
	if (!h->shots_on)
		return;
	shot_timer(h);
	if (h->fd < 0)
		return; /* no actlogd, no consent: shots_on is off then anyway */
	if (strcmp(h->desktop, "x11")) {
		wl_take_shot(h);
		return;
	}
	if (!h->cap) {
		r = capture_open(&h->cap, h->display, h->cap_flags);
		if (r) {
			log_warn("screenshots: cannot open the display: %s", strerror(-r));
			return;
		}
	}
	taken_ms = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);
	r = shots_send(h->cap, h->fd, &e, taken_ms);
	if (r == -ECONNRESET) {
		disconnect(h, "actlogd closed the connection");
		return;
	}
	if (r < 0) {
		log_warn("screenshot failed: %s", strerror(-r));
		if (r == -EPIPE) {
			capture_close(h->cap);
			h->cap = NULL;
		}
		return;
	}
	h->shots_taken++;
	log_debug("screenshot %" PRIu64 ": %d monitor(s) via %s, sent to actlogd", h->shots_taken,
		  r, capture_method(h->cap));
}

/* Apply a policy object: apps.titles and the screenshot keys. */
static void apply_policy(struct helper *h, const cJSON *p)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "apps.titles");
	int on;

	apply_shot_policy(h, p);
	if (!cJSON_IsBool(t))
		return;
	on = cJSON_IsTrue(t);
	if (on == h->titles)
		return;
	h->titles = on;
	log_info("window titles %s by policy", on ? "reported" : "not reported");
	/* the current focus again: with its title, or without it */
	if (h->route.ops && h->route.ops->set_titles(h->route.st, on) && h->fd >= 0 &&
	    send_focus(h))
		disconnect(h, "actlogd closed the connection");
}

/* One message from actlogd; -errno when the connection must end. */
static int on_message(struct helper *h, const char *line, size_t len, int *welcomed)
{
	cJSON *m = cJSON_ParseWithLength(line, len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "type");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "reason");
	char why[300];
	int err = 0;

	if (!cJSON_IsString(t)) {
		cJSON_Delete(m);
		return 0; /* not for us */
	}
	if (!strcmp(t->valuestring, "refused")) {
		snprintf(why, sizeof(why), "actlogd refused this helper: %s",
			 cJSON_IsString(r) ? r->valuestring : "no reason given");
		disconnect(h, why);
		err = -EPERM;
	} else if (!strcmp(t->valuestring, "welcome") || !strcmp(t->valuestring, "policy")) {
		apply_policy(h, cJSON_GetObjectItemCaseSensitive(m, "policy"));
		if (welcomed && !strcmp(t->valuestring, "welcome"))
			*welcomed = 1;
	}
	cJSON_Delete(m);
	return err;
}

/* Read what actlogd sent. -errno when disconnected. */
static int read_socket(struct helper *h, int *welcomed)
{
	char *nl, *p;
	ssize_t r;
	int err;

	r = recv(h->fd, h->in + h->in_len, SESSION_MAX_LINE - h->in_len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0) {
		disconnect(h, r == 0 ? "actlogd closed the connection" : strerror(errno));
		return -EPIPE;
	}
	h->in_len += (size_t)r;
	p = h->in;
	while ((nl = memchr(p, '\n', h->in_len - (size_t)(p - h->in)))) {
		err = on_message(h, p, (size_t)(nl - p), welcomed);
		if (err)
			return err;
		if (h->fd < 0)
			return -EPIPE; /* disconnected while handling it */
		p = nl + 1;
	}
	h->in_len -= (size_t)(p - h->in);
	memmove(h->in, p, h->in_len);
	if (h->in_len >= SESSION_MAX_LINE) {
		disconnect(h, "actlogd sent a line that is too long");
		return -EPROTO;
	}
	return 0;
}

/* Connect, say hello, wait for the welcome (up to HELLO_TIMEOUT_MS), send
 * the current focus. On failure, schedule the next attempt. */
static void try_connect(struct helper *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd pfd;
	char why[300];
	const char *sid = getenv("XDG_SESSION_ID");
	uint64_t deadline;
	int welcomed = 0, r;
	cJSON *o;

	if (strlen(h->socket) >= sizeof(sa.sun_path)) {
		disconnect(h, "socket path too long");
		return;
	}
	strcpy(sa.sun_path, h->socket);
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, sizeof(why), "cannot reach actlogd at %s: %s", h->socket,
			 strerror(errno));
		disconnect(h, why);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "hello");
	cJSON_AddNumberToObject(o, "v", SESSION_PROTO_VERSION);
	if (sid && *sid)
		cJSON_AddStringToObject(o, "session", sid);
	cJSON_AddStringToObject(o, "display", h->display ? h->display : "");
	cJSON_AddStringToObject(o, "desktop", h->desktop);
	if (h->route.ops) {
		struct focus_info fi;

		memset(&fi, 0, sizeof(fi));
		h->route.ops->focus(h->route.st, &fi);
		cJSON_AddStringToObject(o, "source", fi.source[0] ? fi.source : h->route.ops->name);
		cJSON_AddStringToObject(o, "route", h->route.ops->name);
		cJSON_AddStringToObject(o, "wm", h->route.ops->detail(h->route.st));
	} else {
		cJSON_AddStringToObject(o, "source", h->desktop);
		cJSON_AddNullToObject(o, "route");
	}
	/* the routes not taken, and why: for actlogctl status */
	if (h->ntried) {
		cJSON *arr = cJSON_AddArrayToObject(o, "routes");

		for (int i = 0; i < h->ntried; i++) {
			cJSON *t = cJSON_CreateObject();

			cJSON_AddStringToObject(t, "route", h->tried[i].name);
			cJSON_AddStringToObject(t, "why", h->tried[i].why);
			cJSON_AddItemToArray(arr, t);
		}
	}
	r = send_json(h, o);
	cJSON_Delete(o);
	if (r) {
		/* a refusal may be waiting to be read: it says why */
		if (read_socket(h, &welcomed) < 0)
			return;
		disconnect(h, "actlogd closed the connection during hello");
		return;
	}
	deadline = clock_ns(CLOCK_MONOTONIC) + HELLO_TIMEOUT_MS * NSEC_PER_MSEC;
	while (!welcomed) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);

		if (now >= deadline) {
			disconnect(h, "actlogd did not answer the hello");
			return;
		}
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1);
		if (r < 0 && errno != EINTR) {
			disconnect(h, strerror(errno));
			return;
		}
		if (r > 0 && read_socket(h, &welcomed) < 0)
			return; /* refused or closed: already scheduled */
	}
	log_notice("connected to actlogd at %s (titles %s)", h->socket, h->titles ? "on" : "off");
	h->last_error[0] = '\0';
	h->backoff_ms = BACKOFF_MIN_MS;
	if (send_focus(h))
		disconnect(h, "actlogd closed the connection");
}

/* What a route's connection is to: the X server, the Wayland compositor,
 * or the session bus (the KWin and GNOME routes). */
static const char *route_link(const char *route)
{
	if (!strcmp(route, "x11"))
		return "X";
	if (!strcmp(route, "wlr"))
		return "Wayland";
	return "session bus";
}

/* No route works: say honestly why, every route's reason in one line. */
static void no_route_reason(struct helper *h)
{
	size_t off;

	off = (size_t)snprintf(h->unknown, sizeof(h->unknown), "%s: no focus route works",
			       h->desktop);
	for (int i = 0; i < h->ntried && off < sizeof(h->unknown); i++)
		off += (size_t)snprintf(h->unknown + off, sizeof(h->unknown) - off, "%s%s: %s",
					i ? "; " : " (", h->tried[i].name, h->tried[i].why);
	if (h->ntried && off < sizeof(h->unknown) - 1)
		snprintf(h->unknown + off, sizeof(h->unknown) - off, ")");
}

/* Log the route's `unknown` (what the user must do) when it changes, and
 * when the route can tell again. */
static void log_route_unknown(struct helper *h)
{
	struct focus_info fi;

	if (!h->route.ops)
		return;
	memset(&fi, 0, sizeof(fi));
	h->route.ops->focus(h->route.st, &fi);
	if (!strcmp(fi.unknown, h->route_unknown))
		return;
	if (fi.unknown[0])
		log_notice("focus unknown: %s", fi.unknown);
	else
		log_notice("focus known again through route %s", h->route.ops->name);
	snprintf(h->route_unknown, sizeof(h->route_unknown), "%s", fi.unknown);
}

/* Pick the focus route; log which and why the others were not used. 0, or
 * -errno when the helper cannot run (X11 without a display). */
static int open_route(struct helper *h)
{
	int r = focus_route_pick(&h->route, &h->env, h->force_route, h->tried, &h->ntried);

	for (int i = 0; i < h->ntried; i++)
		log_info("focus route %s not used: %s", h->tried[i].name, h->tried[i].why);
	if (!r) {
		const char *d = h->route.ops->detail(h->route.st);

		log_notice("focus route: %s%s%s", h->route.ops->name, *d ? ", " : "", d);
		log_route_unknown(h);
		return 0;
	}
	no_route_reason(h);
	if (!strcmp(h->desktop, "x11") && !h->force_route) {
		log_err("%s", h->ntried ? h->tried[0].why : "no X display");
		return r;
	}
	log_notice("focus unknown: %s", h->unknown);
	return 0;
}

/* --capture-once DIR: every monitor to DIR now, JSON on stdout. The exit
 * code: 0, or 1 when nothing could be captured. */
static int capture_once(struct helper *h, const char *dir, const struct shot_enc *e)
{
	const char *type = getenv("XDG_SESSION_TYPE");
	struct capture *c;
	cJSON *o, *arr;
	char *txt;
	int r;

	/* Wayland (as main decides it), or the diagnostic --pw-node */
	if (h->wl_opts.pw_node >= 0 || (type && !strcmp(type, "wayland")) ||
	    (getenv("WAYLAND_DISPLAY") && (!type || strcmp(type, "x11"))))
		return wl_capture_once(&h->wl_opts, dir, e);
	if (!h->display || !*h->display) {
		log_err("no X display: DISPLAY is not set and no --display was given");
		return 1;
	}
	r = mkdir_p(dir, 0700);
	if (r) {
		log_err("cannot create %s: %s", dir, strerror(-r));
		return 1;
	}
	r = capture_open(&c, h->display, h->cap_flags);
	if (r) {
		log_err("cannot open X display %s for screenshots: %s", h->display, strerror(-r));
		return 1;
	}
	o = cJSON_CreateObject();
	arr = cJSON_CreateArray();
	r = shots_take(c, dir, NULL, e, arr);
	cJSON_AddStringToObject(o, "dir", dir);
	cJSON_AddStringToObject(o, "method", capture_method(c));
	cJSON_AddNumberToObject(o, "blur", e->blur);
	cJSON_AddStringToObject(o, "format", image_fmt_name(e->fmt));
	cJSON_AddNumberToObject(o, "quality", e->quality);
	cJSON_AddItemToObject(o, "monitors", arr);
	if (r < 0)
		cJSON_AddStringToObject(o, "error", strerror(-r));
	txt = cJSON_PrintUnformatted(o);
	if (txt)
		printf("%s\n", txt);
	free(txt);
	cJSON_Delete(o);
	capture_close(c);
	if (r < 0) {
		log_err("screenshot failed: %s", strerror(-r));
		return 1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: actlog-session [OPTIONS]\n"
		"Reports the focused application of this graphical session to actlogd.\n"
		"Runs as the session's user (systemd user unit actlog-session.service).\n\n"
		"  -s, --socket PATH    actlogd's session socket (default " SESSION_SOCKET_DEFAULT
		")\n"
		"  -d, --display NAME   X display (default $DISPLAY)\n"
		"      --blur-radius N  box blur radius when the policy asks for blur\n"
		"                       (pixels, 1-255; default 12)\n"
		"      --no-shm         read the screen with GetImage, never MIT-SHM\n"
		"      --capture-once DIR  capture every monitor to DIR/N-NAME.EXT now, print\n"
		"                       JSON (name, x, y, width, height, format, bytes, sha256,\n"
		"                       encode_ms, cpu_ms), exit\n"
		"      --blur           with --capture-once: blur the shots\n"
		"      --format F       with --capture-once: webp, jpeg or png (default webp)\n"
		"      --quality Q      with --capture-once: WebP/JPEG quality 1-100\n"
		"                       (default 50)\n"
		"      --pw-node ID     diagnostic: read PipeWire node ID, no portal\n"
		"                       (--capture-once, or the policy's shots)\n"
		"      --pw-remote NAME with --pw-node: PipeWire remote\n"
		"      --focus-route NAME  use this focus route only: x11, wlr (wlroots\n"
		"                       compositors), kwin (KDE), gnome (the GNOME Shell\n"
		"                       extension); default: chosen from the desktop\n"
		"  -v, --verbose        debug logging\n"
		"  -V, --version        print the version\n"
		"  -h, --help           this help\n\n"
		"Exits 0 when the session's display connection ends or on SIGTERM.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"display", required_argument, NULL, 'd'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {"blur-radius", required_argument, NULL, 3},
	    {"no-shm", no_argument, NULL, 4},
	    {"capture-once", required_argument, NULL, 5},
	    {"blur", no_argument, NULL, 6},
	    {"pw-node", required_argument, NULL, 7},
	    {"pw-remote", required_argument, NULL, 8},
	    {"focus-route", required_argument, NULL, 9},
	    {"format", required_argument, NULL, 10},
	    {"quality", required_argument, NULL, 11},
	    {0},
	};
	const char *once_dir = NULL;
	int once_blur = 0;
	struct shot_enc once = {.fmt = ONCE_FMT_DEFAULT, .quality = ONCE_QUALITY_DEFAULT};
	uint64_t u;
	static struct helper hs;
	struct helper *h = &hs;
	const char *type = getenv("XDG_SESSION_TYPE");
	struct pollfd pfd[4];
	sigset_t mask;
	int c, n, r, sigfd, rc = 0, timeout;
	uint64_t now;

	log_init("actlog-session", LOG_LVL_INFO);
	h->socket = SESSION_SOCKET_DEFAULT;
	h->display = getenv("DISPLAY");
	h->fd = -1;
	h->backoff_ms = BACKOFF_MIN_MS;
	h->shot_iv_s = 600;
	h->blur_radius = BLUR_RADIUS_DEFAULT;
	h->tfd = -1;
	h->wl_opts.pw_node = -1;
	while ((c = getopt_long(argc, argv, "s:d:vVh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			h->socket = optarg;
			break;
		case 'd':
			h->display = optarg;
			break;
		case 3:
			if (parse_uint(optarg, 1, IMAGE_MAX_BLUR, &u)) {
				log_err("--blur-radius: '%s' is not a number in range", optarg);
				return 2;
			}
			h->blur_radius = (unsigned int)u;
			break;
		case 4:
			h->cap_flags |= CAPTURE_NO_SHM;
			break;
		case 5:
			once_dir = optarg;
			break;
		case 6:
			once_blur = 1;
			break;
		case 7:
			if (parse_uint(optarg, 0, UINT32_MAX - 1, &u)) {
				log_err("--pw-node: '%s' is not a PipeWire node id", optarg);
				return 2;
			}
			h->wl_opts.pw_node = (int64_t)u;
			break;
		case 8:
			h->wl_opts.pw_remote = optarg;
			break;
		case 9:
			if (!focus_route_by_name(optarg)) {
				log_err(
				    "--focus-route: '%s' is not a route (x11, wlr, kwin, gnome)",
				    optarg);
				return 2;
			}
			h->force_route = optarg;
			break;
		case 10:
			r = image_fmt_parse(optarg);
			if (r < 0) {
				log_err("--format: '%s' is not webp, jpeg or png", optarg);
				return 2;
			}
			once.fmt = (enum image_fmt)r;
			break;
		case 11:
			if (parse_uint(optarg, IMAGE_QUALITY_MIN, IMAGE_QUALITY_MAX, &u)) {
				log_err("--quality: '%s' is not a number in 1-100", optarg);
				return 2;
			}
			once.quality = (unsigned int)u;
			break;
		case 'v':
			log_init("actlog-session", LOG_LVL_DEBUG);
			break;
		case 'V':
			printf("actlog-session %s\n", ACTLOG_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	if (once_dir) {
		once.blur = once_blur ? h->blur_radius : 0;
		return capture_once(h, once_dir, &once);
	}
	h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->tfd < 0) {
		log_err("timerfd: %s", strerror(errno));
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return 1;
	}

	h->env.display = h->display;
	h->env.wayland_display = getenv("WAYLAND_DISPLAY");
	h->env.current_desktop = getenv("XDG_CURRENT_DESKTOP");
	h->env.session_type = type;
	h->desktop = focus_desktop(&h->env);
	if (open_route(h))
		return 1;

	try_connect(h);
	for (;;) {
		n = 0;
		pfd[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = h->tfd, .events = POLLIN};
		if (h->route.ops)
			pfd[n++] = (struct pollfd){.fd = h->route.ops->fd(h->route.st),
						   .events = h->route.ops->events(h->route.st)};
		if (h->fd >= 0)
			pfd[n++] = (struct pollfd){.fd = h->fd, .events = POLLIN};
		timeout = h->route.ops ? h->route.ops->timeout_ms(h->route.st) : -1;
		if (h->fd < 0) {
			int t;

			now = clock_ns(CLOCK_MONOTONIC);
			t = h->retry_at_ns > now ? (int)((h->retry_at_ns - now) / NSEC_PER_MSEC) + 1
						 : 0;
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
		r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP) {
				log_info("signal %u: exiting", si.ssi_signo);
				break;
			}
		}
		if (pfd[1].revents)
			take_shot(h);
		if (h->route.ops) {
			/* events may already be queued by replies read elsewhere */
			r = h->route.ops->dispatch(h->route.st);
			if (r == -EPIPE) {
				log_notice("the %s connection closed: the session ended",
					   route_link(h->route.ops->name));
				break;
			}
			if (r < 0) {
				/* the route failed for good: say so, keep running */
				h->tried[h->ntried].name = h->route.ops->name;
				snprintf(h->tried[h->ntried].why, sizeof(h->tried[0].why),
					 "failed: %s", strerror(-r));
				h->ntried++;
				log_warn("focus route %s failed: %s", h->route.ops->name,
					 strerror(-r));
				focus_route_close(&h->route);
				no_route_reason(h);
			}
			if (r > 0)
				log_route_unknown(h);
			if (r != 0 && h->fd >= 0 && send_focus(h))
				disconnect(h, "actlogd closed the connection");
		}
		if (h->fd >= 0 && pfd[n - 1].fd == h->fd && pfd[n - 1].revents)
			read_socket(h, NULL);
		if (h->fd < 0 && clock_ns(CLOCK_MONOTONIC) >= h->retry_at_ns)
			try_connect(h);
	}
	if (h->fd >= 0)
		close(h->fd);
	focus_route_close(&h->route);
	capture_close(h->cap);
	wl_capture_close(h->wl);
	close(h->tfd);
	close(sigfd);
	return rc;
}
