// SPDX-License-Identifier: BSD-2-Clause
/*
 * portal.c - the xdg-desktop-portal ScreenCast session over sd-bus and
 * the restore token's file (see portal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "portal.h"
#include "util.h"

#define PORTAL_BUS "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define SCREENCAST_IFACE "org.freedesktop.portal.ScreenCast"
#define REQUEST_IFACE "org.freedesktop.portal.Request"
#define SESSION_IFACE "org.freedesktop.portal.Session"

#define SOURCE_MONITOR 1u
#define CURSOR_HIDDEN 1u
#define PERSIST_UNTIL_REVOKED 2u

int portal_token_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= PORTAL_TOKEN_MAX || s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return i > 0;
}

int portal_token_path(char *buf, size_t len)
{
	const char *st = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	/* the spec: a relative XDG_STATE_HOME is invalid and ignored */
	if (st && st[0] == '/')
		n = snprintf(buf, len, "%s/actlog/screencast.token", st);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/actlog/screencast.token", home);
	else
		return -EINVAL;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int portal_token_load(const char *path, char *tok, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	int err;

	tok[0] = '\0';
	err = read_file(path, PORTAL_TOKEN_MAX + 2, &buf, &n);
	if (err)
		return err == -EFBIG ? -EINVAL : err;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (strlen(buf) != n || !portal_token_valid(buf) || n >= len)
		err = -EINVAL;
	else
		memcpy(tok, buf, n + 1);
	free(buf);
	return err;
}

int portal_token_save(const char *path, const char *tok)
{
	char dir[4096], tmp[4200], line[PORTAL_TOKEN_MAX + 2], *slash;
	size_t n;
	int err;

	if (!portal_token_valid(tok))
		return -EINVAL;
	n = strlen(path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = mkdir_p(dir, 0700);
		if (err)
			return err;
		if (chmod(dir, 0700) < 0)
			return -errno;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	n = (size_t)snprintf(line, sizeof(line), "%s\n", tok); /* valid: fits */
	return write_file_atomic(path, tmp, line, n, 0600);
}

/* A Request in flight: its object path, its signal match, its answer. */
struct request {
	char path[512];
	sd_bus_slot *slot;
	int done;
	uint32_t response;
	sd_bus_message *results; /* a ref on the Response, read at a{sv} */
};

static int on_response(sd_bus_message *m, void *data, sd_bus_error *e)
{
	struct request *rq = data;

	(void)e;
	if (rq->done)
		return 0;
	if (sd_bus_message_read(m, "u", &rq->response) < 0)
		rq->response = 2;
	rq->results = sd_bus_message_ref(m);
	rq->done = 1;
	return 0;
}

/* The request path for token: .../request/SENDER/TOKEN, SENDER the unique
 * name without ':' and with '.' as '_'. Subscribe to its Response. */
static int request_watch(sd_bus *bus, struct request *rq, const char *token)
{
	const char *u;
	char sender[256];
	size_t i;
	int r;

	r = sd_bus_get_unique_name(bus, &u);
	if (r < 0)
		return r;
	snprintf(sender, sizeof(sender), "%s", u[0] == ':' ? u + 1 : u);
	for (i = 0; sender[i]; i++)
		if (sender[i] == '.')
			sender[i] = '_';
	if ((size_t)snprintf(rq->path, sizeof(rq->path), PORTAL_PATH "/request/%s/%s", sender,
			     token) >= sizeof(rq->path))
		return -ENAMETOOLONG;
	return sd_bus_match_signal(bus, &rq->slot, NULL, rq->path, REQUEST_IFACE, "Response",
				   on_response, rq);
}

static void request_done(struct request *rq)
{
	rq->slot = sd_bus_slot_unref(rq->slot);
	rq->results = sd_bus_message_unref(rq->results);
}

/* Read the reply's handle; an older portal may use another path than the
 * one computed: then watch that one. */
static int request_handle(sd_bus *bus, sd_bus_message *reply, struct request *rq)
{
	const char *h;
	int r;

	r = sd_bus_message_read(reply, "o", &h);
	if (r < 0)
		return r;
	if (!strcmp(h, rq->path) || rq->done)
		return 0;
	rq->slot = sd_bus_slot_unref(rq->slot);
	if ((size_t)snprintf(rq->path, sizeof(rq->path), "%s", h) >= sizeof(rq->path))
		return -ENAMETOOLONG;
	return sd_bus_match_signal(bus, &rq->slot, NULL, rq->path, REQUEST_IFACE, "Response",
				   on_response, rq);
}

/* Run the bus until the Response came or timeout_ms passed. */
static int request_wait(sd_bus *bus, struct request *rq, unsigned int timeout_ms)
{
	uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * NSEC_PER_MSEC, now;
	int r;

	while (!rq->done) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= deadline)
			return -ETIMEDOUT;
		r = sd_bus_wait(bus, (deadline - now) / 1000);
		if (r < 0 && r != -EINTR)
			return r;
	}
	return 0;
}

/* Append {key: variant} entries to an open a{sv}. */
static int add_str(sd_bus_message *m, const char *k, const char *v)
{
	return sd_bus_message_append(m, "{sv}", k, "s", v);
}

static int add_u(sd_bus_message *m, const char *k, uint32_t v)
{
	return sd_bus_message_append(m, "{sv}", k, "u", v);
}

/* An error from a bus call in words and as errno. */
static int call_error(const char *what, const sd_bus_error *e, int r, char *why, size_t len)
{
	char msg[200];
	const char *m = e && e->message ? e->message : e && e->name ? e->name : NULL;
	size_t i;

	/* the first line of what the portal said, printable */
	snprintf(msg, sizeof(msg), "%s", m ? m : strerror(r < 0 ? -r : EIO));
	for (i = 0; msg[i]; i++)
		if (msg[i] == '\n') {
			msg[i] = '\0';
			break;
		} else if ((unsigned char)msg[i] < 0x20) {
			msg[i] = ' ';
		}

	if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_METHOD) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
		say_why(why, len,
			"no xdg-desktop-portal ScreenCast on the session bus (%s: %s); install "
			"xdg-desktop-portal and the backend for this desktop (-gnome, -kde, -wlr)",
			what, msg);
		return -ENOSYS;
	}
	if (r == -ETIMEDOUT || sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY)) {
		say_why(why, len, "the ScreenCast portal did not answer %s in time", what);
		return -ETIMEDOUT;
	}
	say_why(why, len, "ScreenCast %s failed: %s", what, msg);
	return r < 0 ? r : -EIO;
}

/* Call method with its options dict (built by fill) through a Request and
 * wait for its Response (timeout_ms). rq->results is left at the results
 * a{sv}. 0 or -errno (why says what). */
static int
portal_request(struct portal_cast *c, const char *method, const char *token,
	       int (*fill)(sd_bus_message *m, const struct portal_cast *c, const void *arg),
	       const void *arg, unsigned int timeout_ms, struct request *rq, char *why, size_t len)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	int r;

	/* subscribe first: the Response may come before the method returns */
	r = request_watch(c->bus, rq, token);
	if (r < 0) {
		say_why(why, len, "cannot watch the portal's answer: %s", strerror(-r));
		return r;
	}
	r = sd_bus_message_new_method_call(c->bus, &m, PORTAL_BUS, PORTAL_PATH, SCREENCAST_IFACE,
					   method);
	if (r >= 0)
		r = fill(m, c, arg);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = add_str(m, "handle_token", token);
	if (r >= 0 && !strcmp(method, "CreateSession"))
		r = add_str(m, "session_handle_token", token);
	if (r >= 0 && !strcmp(method, "SelectSources")) {
		const char *restore = arg;

		r = add_u(m, "types", SOURCE_MONITOR);
		if (r >= 0)
			r = sd_bus_message_append(m, "{sv}", "multiple", "b", 1);
		if (r >= 0 && (c->cursor_modes & CURSOR_HIDDEN))
			r = add_u(m, "cursor_mode", CURSOR_HIDDEN);
		if (r >= 0 && c->version >= 4) {
			r = add_u(m, "persist_mode", PERSIST_UNTIL_REVOKED);
			if (r >= 0 && restore && restore[0]) {
				r = add_str(m, "restore_token", restore);
				c->token_sent = 1;
			}
		}
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		sd_bus_message_unref(m);
		say_why(why, len, "cannot build the %s call: %s", method, strerror(-r));
		return r;
	}
	r = sd_bus_call(c->bus, m, (uint64_t)WL_PORTAL_TIMEOUT_MS * 1000, &e, &reply);
	sd_bus_message_unref(m);
	if (r < 0) {
		r = call_error(method, &e, r, why, len);
		sd_bus_error_free(&e);
		return r;
	}
	r = request_handle(c->bus, reply, rq);
	sd_bus_message_unref(reply);
	if (r < 0) {
		say_why(why, len, "the portal's %s answer has no request handle", method);
		return -EPROTO;
	}
	r = request_wait(c->bus, rq, timeout_ms);
	if (r == -ETIMEDOUT) {
		/* take the unanswered dialog down */
		sd_bus_call_method(c->bus, PORTAL_BUS, rq->path, REQUEST_IFACE, "Close", NULL, NULL,
				   "");
		say_why(why, len, "the ScreenCast portal did not answer %s within %u s%s", method,
			timeout_ms / 1000,
			!strcmp(method, "Start") ? " (was the dialog left unanswered?)" : "");
		return r;
	}
	if (r < 0) {
		say_why(why, len, "the session bus failed while waiting for %s: %s", method,
			strerror(-r));
		return r;
	}
	if (rq->response == 1) {
		say_why(why, len, "the user cancelled the screen-sharing request (%s)", method);
		return -ECANCELED;
	}
	if (rq->response != 0) {
		say_why(why, len, "the ScreenCast portal ended %s (response %u)", method,
			rq->response);
		return -EACCES;
	}
	return 0;
}

static int fill_none(sd_bus_message *m, const struct portal_cast *c, const void *arg)
{
	(void)m, (void)c, (void)arg;
	return 0;
}

static int fill_session(sd_bus_message *m, const struct portal_cast *c, const void *arg)
{
	(void)arg;
	return sd_bus_message_append(m, "o", c->session);
}

static int fill_start(sd_bus_message *m, const struct portal_cast *c, const void *arg)
{
	(void)arg;
	return sd_bus_message_append(m, "os", c->session, "");
}

/* In results (an a{sv} being read), find key with signature sig and
 * enter its variant: 1 found (leave it with exit_container), 0 not, -errno.
 * Rewinds to the start of the dict first. */
static int dict_find(sd_bus_message *m, const char *key, const char *sig)
{
	const char *k, *contents;
	char type;
	int r;

	for (;;) {
		r = sd_bus_message_enter_container(m, 'e', "sv");
		if (r <= 0)
			return r;
		r = sd_bus_message_read(m, "s", &k);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(m, &type, &contents);
		if (r < 0)
			return r;
		if (!strcmp(k, key) && contents && !strcmp(contents, sig)) {
			r = sd_bus_message_enter_container(m, 'v', sig);
			return r < 0 ? r : 1;
		}
		r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
}

/* Rewind a Response (u a{sv}) to its results and find key with signature
 * sig in them, as dict_find: 1 found (its variant entered), 0 not, -errno. */
static int results_find(sd_bus_message *m, const char *key, const char *sig)
{
	int r = sd_bus_message_rewind(m, 1);

	if (r >= 0)
		r = sd_bus_message_skip(m, "u");
	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'a', "{sv}");
	return r < 0 ? r : dict_find(m, key, sig);
}

/* Read a string value of results. */
static int results_string(sd_bus_message *m, const char *key, char *out, size_t len)
{
	const char *s;
	int r;

	out[0] = '\0';
	r = results_find(m, key, "s");
	if (r <= 0)
		return r;
	r = sd_bus_message_read(m, "s", &s);
	if (r < 0)
		return r;
	if (strlen(s) >= len)
		return -E2BIG;
	memcpy(out, s, strlen(s) + 1);
	return 1;
}

/* One stream's properties: position (ii), size (ii). */
static int read_stream(sd_bus_message *m, struct portal_stream *s)
{
	const char *k, *contents;
	char type;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read(m, "s", &k);
		if (r >= 0)
			r = sd_bus_message_peek_type(m, &type, &contents);
		if (r < 0)
			return r;
		if ((!strcmp(k, "position") || !strcmp(k, "size")) && contents &&
		    !strcmp(contents, "(ii)")) {
			int32_t a, b;

			r = sd_bus_message_enter_container(m, 'v', "(ii)");
			if (r >= 0)
				r = sd_bus_message_read(m, "(ii)", &a, &b);
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
			if (r < 0)
				return r;
			if (k[0] == 'p')
				s->x = a, s->y = b;
			else
				s->w = a, s->h = b;
		} else {
			r = sd_bus_message_skip(m, "v");
			if (r < 0)
				return r;
		}
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* Start's results: the streams (a(ua{sv})), at most CAPTURE_MAX_MONITORS;
 * more are ignored. */
static int read_streams(sd_bus_message *m, struct portal_cast *c)
{
	uint32_t node;
	int r;

	r = results_find(m, "streams", "a(ua{sv})");
	if (r <= 0)
		return r < 0 ? r : -EPROTO;
	r = sd_bus_message_enter_container(m, 'a', "(ua{sv})");
	if (r < 0)
		return r;
	while (c->n < CAPTURE_MAX_MONITORS &&
	       (r = sd_bus_message_enter_container(m, 'r', "ua{sv}")) > 0) {
		struct portal_stream *s = &c->streams[c->n];

		memset(s, 0, sizeof(*s));
		r = sd_bus_message_read(m, "u", &node);
		if (r >= 0)
			r = read_stream(m, s);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
		s->node = node;
		snprintf(s->name, sizeof(s->name), "monitor%u", c->n);
		c->n++;
	}
	return r < 0 ? r : 0;
}

/* The ScreenCast interface's version (the property exists since version
 * 1): 0 or -errno, with e set. */
static int get_version(sd_bus *bus, sd_bus_error *e, unsigned int *out)
{
	uint32_t v = 0;
	int r;

	r = sd_bus_get_property_trivial(bus, PORTAL_BUS, PORTAL_PATH, SCREENCAST_IFACE, "version",
					e, 'u', &v);
	*out = v;
	if (r >= 0 && !v) {
		sd_bus_error_set_const(e, SD_BUS_ERROR_UNKNOWN_INTERFACE, "ScreenCast version 0");
		r = -ENOSYS;
	}
	return r;
}

int portal_cast_open(struct portal_cast *c, const char *restore, unsigned int dialog_ms, char *why,
		     size_t why_len)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct request rq = {0};
	char tok[64], sess[512];
	static unsigned int seq;
	int r, fd;

	memset(c, 0, sizeof(*c));
	c->pw_fd = -1;
	r = sd_bus_open_user(&c->bus);
	if (r < 0) {
		say_why(why, why_len, "cannot connect to the session bus: %s", strerror(-r));
		c->bus = NULL;
		return -ENOTCONN;
	}
	sd_bus_set_method_call_timeout(c->bus, (uint64_t)WL_PORTAL_TIMEOUT_MS * 1000);
	r = get_version(c->bus, &e, &c->version);
	if (r < 0) {
		r = call_error("version", &e, r, why, why_len);
		goto fail;
	}
	/* the cursor is left out of shots where the portal can (version 2) */
	if (c->version < 2 ||
	    sd_bus_get_property_trivial(c->bus, PORTAL_BUS, PORTAL_PATH, SCREENCAST_IFACE,
					"AvailableCursorModes", NULL, 'u', &c->cursor_modes) < 0)
		c->cursor_modes = 0;

	snprintf(tok, sizeof(tok), "actlog%d_%u", (int)getpid(), ++seq);
	r = portal_request(c, "CreateSession", tok, fill_none, NULL, WL_PORTAL_TIMEOUT_MS, &rq, why,
			   why_len);
	if (!r) {
		r = results_string(rq.results, "session_handle", sess, sizeof(sess));
		if (r <= 0) {
			say_why(why, why_len, "CreateSession's answer has no session_handle");
			r = -EPROTO;
		} else {
			c->session = strdup(sess);
			r = c->session ? 0 : -ENOMEM;
		}
	}
	request_done(&rq);
	if (r)
		goto fail;

	snprintf(tok, sizeof(tok), "actlog%d_%u", (int)getpid(), ++seq);
	memset(&rq, 0, sizeof(rq));
	r = portal_request(c, "SelectSources", tok, fill_session, restore, WL_PORTAL_TIMEOUT_MS,
			   &rq, why, why_len);
	request_done(&rq);
	if (r)
		goto fail;

	snprintf(tok, sizeof(tok), "actlog%d_%u", (int)getpid(), ++seq);
	memset(&rq, 0, sizeof(rq));
	r = portal_request(c, "Start", tok, fill_start, NULL, dialog_ms, &rq, why, why_len);
	if (!r) {
		r = read_streams(rq.results, c);
		if (r < 0 || c->n == 0) {
			say_why(why, why_len, "the portal's Start answer names no stream");
			r = -EPROTO;
		} else if (results_string(rq.results, "restore_token", c->token,
					  sizeof(c->token)) <= 0 ||
			   !portal_token_valid(c->token)) {
			c->token[0] = '\0'; /* none, or not one worth keeping */
			r = 0;
		} else {
			r = 0;
		}
	}
	request_done(&rq);
	if (r)
		goto fail;

	r = sd_bus_call_method(c->bus, PORTAL_BUS, PORTAL_PATH, SCREENCAST_IFACE,
			       "OpenPipeWireRemote", &e, &reply, "oa{sv}", c->session, 0);
	if (r < 0) {
		r = call_error("OpenPipeWireRemote", &e, r, why, why_len);
		goto fail;
	}
	r = sd_bus_message_read(reply, "h", &fd);
	if (r >= 0) {
		c->pw_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		r = c->pw_fd < 0 ? -errno : 0;
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		say_why(why, why_len, "OpenPipeWireRemote gave no usable fd: %s", strerror(-r));
		goto fail;
	}
	return 0;
fail:
	sd_bus_error_free(&e);
	portal_cast_close(c);
	return r;
}

void portal_cast_close(struct portal_cast *c)
{
	if (c->bus && c->session)
		sd_bus_call_method(c->bus, PORTAL_BUS, c->session, SESSION_IFACE, "Close", NULL,
				   NULL, "");
	free(c->session);
	c->session = NULL;
	if (c->pw_fd >= 0)
		close(c->pw_fd);
	c->pw_fd = -1;
	c->bus = sd_bus_flush_close_unref(c->bus);
}
