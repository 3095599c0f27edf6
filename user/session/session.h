/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session.h - actlog-session's focus sources. user/session/session.c runs the
 * helper (options, actlogd connection, event loop); user/session/focus_x11.c
 * follows the focused X11 window.
 *
 * X11: with an EWMH window manager, the root window's _NET_ACTIVE_WINDOW
 * names the focused client; without one, XGetInputFocus (and the window
 * under the pointer when focus is PointerRoot). Both are event-driven:
 * PropertyNotify on the root and the focused window; FocusIn/EnterNotify on
 * top-level windows without a window manager. No polling.
 *
 * Titles (_NET_WM_NAME, WM_NAME) are read only while the policy allows them.
 */
#ifndef ACTLOG_SESSION_H
#define ACTLOG_SESSION_H

#include <stdint.h>

#include "focus_route.h"
#include "image.h"

struct x11;

/* Connect to display (NULL: $DISPLAY), find the window manager and the
 * current focus. 0 or -errno (-ECONNREFUSED: no X server there). */
int x11_open(struct x11 **out, const char *display);
int x11_fd(const struct x11 *x);
/* Handle every queued event. 1 when the focus (or what is reported of it)
 * changed, 0 when not, -EPIPE when the X connection is gone (the session
 * ended). */
int x11_dispatch(struct x11 *x);
/* The current focus. */
void x11_focus(const struct x11 *x, struct focus_info *fi);
/* Read titles (on) or stop reading them. 1 when the focus info changed. */
int x11_set_titles(struct x11 *x, int on);
/* The EWMH window manager's name, "" without one. */
const char *x11_wm(const struct x11 *x);
void x11_close(struct x11 *x);

/* Screenshots (user/session/shots.c). */
struct capture;
struct capture_shot;
struct cJSON;

/* How shots are made: a box blur of radius blur (0: none), then fmt at
 * quality (1..100; PNG ignores it). */
struct shot_enc {
	unsigned int blur;
	enum image_fmt fmt;
	unsigned int quality;
};

/* Blur n captured monitors and encode them as e says, write one file per
 * monitor, mode 0600 and through a temporary name, to dir as
 * "[PREFIX-]N-NAME.EXT" (N the monitor's index, EXT png, webp or jpg).
 * With arr, add one object per monitor to it (name, x, y, width, height,
 * file, format, bytes, sha256, and encode_ms / cpu_ms: the wall-clock and
 * this thread's CPU time of blur plus encode). The shots' images are
 * blurred in place; the caller still frees them. Stops at the first
 * failure: 0 or -errno (the encoder's, the file system's). */
int shots_write(struct capture_shot *shots, int n, const char *dir, const char *prefix,
		const struct shot_enc *e, struct cJSON *arr);
/* capture_grab (X11), then shots_write. The number of monitors, or -errno
 * (capture_grab's or shots_write's). */
int shots_take(struct capture *c, const char *dir, const char *prefix, const struct shot_enc *e,
	       struct cJSON *arr);
/* Hand n captured monitors to actlogd on sock: blur and encode as e says
 * into a memfd sealed against any change (F_SEAL_SHRINK, GROW, WRITE,
 * SEAL) and send {"type":"shot","taken_at":MS,"monitor":NAME,"width":W,
 * "height":H,"size":N,"format":F} with the fd attached (SCM_RIGHTS). The
 * shots' images are blurred in place; the caller still frees them. n, or
 * -errno (the encoder's, memfd's; -ECONNRESET: the socket failed). */
int shots_deliver(int sock, struct capture_shot *shots, int n, const struct shot_enc *e,
		  int64_t taken_ms);
/* capture_grab, then shots_deliver. n or -errno. */
int shots_send(struct capture *c, int sock, const struct shot_enc *e, int64_t taken_ms);

#endif /* ACTLOG_SESSION_H */
