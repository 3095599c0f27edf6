/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture.h - screenshots of every monitor (user/session/capture_x11.c, in
 * actlog-session).
 *
 * X11: the monitors are RandR 1.5's (GetMonitors: what the desktop calls a
 * monitor, user-defined ones included); without RandR 1.5, or with no
 * monitor, the whole root window is one. Each monitor is read with MIT-SHM
 * (ShmGetImage into a private 0600 segment, removed as soon as the server
 * has attached it) or, when SHM is missing or refused (a remote display, a
 * server that cannot map the segment) or turned off, with a plain GetImage.
 * Monitors are clipped to the root window; each must fit image.h's caps.
 */
#ifndef ACTLOG_CAPTURE_H
#define ACTLOG_CAPTURE_H

#include <stdint.h>

#include "image.h"

#define CAPTURE_MAX_MONITORS 16
#define CAPTURE_NAME_LEN 64

/* capture_open flags */
#define CAPTURE_NO_SHM 1u /* always GetImage */

struct capture_shot {
	char name[CAPTURE_NAME_LEN]; /* RandR monitor name, "screen" for the root */
	int32_t x, y;		     /* position on the root window */
	struct image img;	     /* RGB, owned by the shot */
};

struct capture;

/* Connect to display (NULL: $DISPLAY) for screenshots. 0, -ECONNREFUSED
 * (no X server there), -ENOTSUP (a root visual that is not TrueColor or
 * DirectColor), -ENOMEM. */
int capture_open(struct capture **out, const char *display, unsigned int flags);
/* Capture every monitor into shots (at most max); returns how many, or
 * -errno: -EPIPE when the X connection is gone, -E2BIG when a monitor is
 * over the caps, -EIO when the server refused the image. Free the shots
 * with capture_shots_free, even after a failure. */
int capture_grab(struct capture *c, struct capture_shot *shots, unsigned int max);
void capture_shots_free(struct capture_shot *shots, unsigned int n);
/* "shm" or "get-image": how the last capture read the screen. */
const char *capture_method(const struct capture *c);
/* Accepts NULL. */
void capture_close(struct capture *c);

#endif /* ACTLOG_CAPTURE_H */
