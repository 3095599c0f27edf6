/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.h - actlogd's control socket: a unix stream socket that takes one
 * request line per connection and answers with one JSON document and a
 * newline, then closes. Single-threaded: one pollable fd for the daemon's
 * epoll (an inner epoll set over the listener and its clients).
 *
 * Caps: a request line of at most CONTROL_MAX_REQUEST bytes, at most
 * CONTROL_MAX_CLIENTS connections at once. A client that has not completed
 * its request CONTROL_CLIENT_TIMEOUT_S seconds after connecting is closed
 * when the next client connects (no timer: an idle daemon stays asleep).
 */
#ifndef ACTLOG_CONTROL_H
#define ACTLOG_CONTROL_H

#include <sys/socket.h>
#include <sys/types.h>

#define CONTROL_MAX_REQUEST 4096
#define CONTROL_MAX_CLIENTS 32
#define CONTROL_CLIENT_TIMEOUT_S 5

/* Answer one request (without its newline) from peer; return a malloc'd
 * NUL-terminated response (ownership passes to the control socket), or NULL
 * on allocation failure. */
typedef char *(*control_handler)(const char *request, const struct ucred *peer, void *ctx);

struct control;

/* Bind path (an old socket file there is replaced), chmod it to mode and
 * chown it to gid (-1 = leave). 0 or -errno. */
int control_open(struct control **out, const char *path, mode_t mode, gid_t gid,
		 control_handler handler, void *ctx);
int control_fd(const struct control *c);
/* Accept, read and answer whatever is ready. 0 or -errno. */
int control_dispatch(struct control *c);
/* Close every client and the listener, unlink the socket file. NULL ok. */
void control_close(struct control *c);

#endif /* ACTLOG_CONTROL_H */
