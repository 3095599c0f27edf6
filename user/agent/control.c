// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "util.h"

struct client {
	int fd;
	uint64_t since_ns; /* CLOCK_MONOTONIC at accept */
	size_t in_len;
	char in[CONTROL_MAX_REQUEST + 1];
	char *out; /* response being written, NULL while reading */
	size_t out_len, out_off;
};

struct control {
	int epfd;
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	control_handler handler;
	void *ctx;
	struct client *clients[CONTROL_MAX_CLIENTS];
};

static void client_close(struct control *c, int i)
{
	struct client *cl = c->clients[i];

	if (!cl)
		return;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	free(cl->out);
	free(cl);
	c->clients[i] = NULL;
}

int control_open(struct control **out, const char *path, mode_t mode, gid_t gid,
		 control_handler handler, void *ctx)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct control *c;
	int err;

	if (strlen(path) >= sizeof(c->path))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->lfd = -1;
	c->handler = handler;
	c->ctx = ctx;
	strcpy(c->path, path);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0) {
		err = -errno;
		goto fail;
	}
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		err = -errno;
		goto fail;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		err = -errno;
		goto fail;
	}
	/* never wider than mode, not even before the chmod */
	err = unix_bind_mode(c->lfd, path, mode, gid);
	if (err)
		goto fail;
	if (listen(c->lfd, 16) < 0) {
		err = -errno;
		goto fail;
	}
	ev.data.u32 = CONTROL_MAX_CLIENTS; /* the listener */
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	control_close(c);
	return err;
}

int control_fd(const struct control *c)
{
	return c->epfd;
}

static void expire_clients(struct control *c, uint64_t now)
{
	int i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i] &&
		    now - c->clients[i]->since_ns > CONTROL_CLIENT_TIMEOUT_S * NSEC_PER_SEC)
			client_close(c, i);
}

static void do_accept(struct control *c)
{
	struct epoll_event ev = {.events = EPOLLIN};
	static const char busy[] = "{\"error\":\"too many control connections\"}\n";
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct client *cl;
	int fd, i;

	expire_clients(c, now);
	for (;;) {
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or a transient error: the next wake-up retries */
		for (i = 0; i < CONTROL_MAX_CLIENTS && c->clients[i]; i++)
			;
		cl = i < CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
		if (!cl) {
			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->since_ns = now;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(cl);
			continue;
		}
		c->clients[i] = cl;
	}
}

/* Write what the socket takes; 1 when done, 0 to wait, -errno on error. */
static int client_flush(struct client *cl)
{
	ssize_t w;

	while (cl->out_off < cl->out_len) {
		w = write(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		cl->out_off += (size_t)w;
	}
	return 1;
}

static void client_respond(struct control *c, int i, char *resp)
{
	static const char oom[] = "{\"error\":\"out of memory\"}";
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
	struct client *cl = c->clients[i];
	size_t n;
	int r;

	if (!resp)
		resp = strdup(oom);
	if (!resp) {
		client_close(c, i);
		return;
	}
	n = strlen(resp);
	cl->out = realloc(resp, n + 2);
	if (!cl->out) {
		free(resp);
		client_close(c, i);
		return;
	}
	cl->out[n] = '\n';
	cl->out[n + 1] = '\0';
	cl->out_len = n + 1;
	r = client_flush(cl);
	if (r != 0 || epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &ev) < 0)
		client_close(c, i);
}

static void client_read(struct control *c, int i)
{
	struct client *cl = c->clients[i];
	struct ucred peer;
	socklen_t plen = sizeof(peer);
	char *nl;
	ssize_t r;

	for (;;) {
		r = read(cl->fd, cl->in + cl->in_len, CONTROL_MAX_REQUEST - cl->in_len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			client_close(c, i);
			return;
		}
		cl->in_len += (size_t)r;
		cl->in[cl->in_len] = '\0';
		nl = memchr(cl->in, '\n', cl->in_len);
		if (nl) {
			*nl = '\0';
			break;
		}
		if (cl->in_len >= CONTROL_MAX_REQUEST) {
			client_respond(c, i, strdup("{\"error\":\"request too long\"}"));
			return;
		}
	}
	if (getsockopt(cl->fd, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0) {
		client_close(c, i);
		return;
	}
	client_respond(c, i, c->handler(cl->in, &peer, c->ctx));
}

int control_dispatch(struct control *c)
{
	struct epoll_event evs[16];
	int n, k;
	uint32_t i;

	n = epoll_wait(c->epfd, evs, ARRAY_SIZE(evs), 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (k = 0; k < n; k++) {
		i = evs[k].data.u32;
		if (i == CONTROL_MAX_CLIENTS) {
			do_accept(c);
			continue;
		}
		if (!c->clients[i])
			continue;
		if (c->clients[i]->out) {
			if (client_flush(c->clients[i]) != 0)
				client_close(c, (int)i);
		} else {
			client_read(c, (int)i);
		}
	}
	return 0;
}

void control_close(struct control *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		client_close(c, i);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	free(c);
}
