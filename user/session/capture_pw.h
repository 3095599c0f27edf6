/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture_pw.h - screenshots on Wayland (in actlog-session): the
 * xdg-desktop-portal ScreenCast session (user/session/portal.c) names one PipeWire
 * node per monitor and hands over a PipeWire connection; user/session/capture_pw.c
 * reads ONE frame of each node and converts it to image.h's packed RGB.
 *
 * One shot is one whole round: portal session (no dialog once a restore
 * token is stored), a pw_stream per monitor that takes the first complete
 * frame, then the stream, the connection and the portal session are
 * closed. Nothing runs between shots: a live screencast would keep the
 * compositor producing frames and its "screen is being shared" indicator
 * lit for as long as the helper runs, while shots are minutes apart.
 *
 * Only memory buffers are accepted (MemPtr and MemFd): no DmaBuf is
 * offered, so producers fall back to shared memory. Formats: BGRx, BGRA,
 * RGBx, RGBA, xRGB, ARGB, xBGR, ABGR, RGB, BGR.
 */
#ifndef ACTLOG_CAPTURE_PW_H
#define ACTLOG_CAPTURE_PW_H

#include <stdint.h>

#include "capture.h"
#include "image.h"

/* The longest a frame may take to arrive after connecting (ms). */
#define PW_FRAME_TIMEOUT_MS 10000u

/* Read one video frame of each of the n PipeWire nodes (at most
 * CAPTURE_MAX_MONITORS), all on one connection, into outs[0..n) (each
 * px malloc'd; image_free). The connection is fd, a PipeWire remote from
 * OpenPipeWireRemote (always consumed: closed on return), or with fd -1
 * the remote named remote (NULL: $PIPEWIRE_REMOTE or "pipewire-0").
 * Waits at most timeout_ms for all of them. 0 or -errno, and then no
 * image is kept: -ECONNREFUSED (no PipeWire there), -EPIPE (the
 * connection broke), -ENOENT (no such node, or it went away), -ENOTSUP
 * (the node offers no format or buffer type this reader takes),
 * -ETIMEDOUT (no frame in time), -E2BIG (over image.h's caps), -EINVAL,
 * -ENOMEM. why: a sentence on what failed (why_len bytes). */
int pw_grab_frames(int fd, const char *remote, const uint32_t *nodes, unsigned int n,
		   unsigned int timeout_ms, struct image *outs, char *why, size_t why_len);

/* The Wayland capture that actlog-session uses, like capture.h's. */
struct wl_capture;

struct wl_capture_opts {
	/* Diagnostic: skip the portal and read node pw_node (>= 0) of the
	 * PipeWire remote pw_remote (NULL: the default one). */
	int64_t pw_node;
	const char *pw_remote;
	/* Where the restore token lives (NULL: $XDG_STATE_HOME/actlog/
	 * screencast.token, ~/.local/state/... without XDG_STATE_HOME). */
	const char *token_path;
	/* How long the user may take to answer the portal's dialog (ms; 0:
	 * 120 s). Other portal calls wait WL_PORTAL_TIMEOUT_MS. */
	unsigned int dialog_timeout_ms;
};

/* Set up (nothing is contacted yet). 0, -ENOMEM, -EINVAL (no HOME for
 * the token's default place). */
int wl_capture_open(struct wl_capture **out, const struct wl_capture_opts *o);
/* Capture every monitor the portal names (or the diagnostic node) into
 * shots, at most max; the number taken, or -errno (portal.h's errors,
 * pw_grab_frame's). Free the shots with capture_shots_free, even after a
 * failure. wl_capture_error says what failed. */
int wl_capture_grab(struct wl_capture *w, struct capture_shot *shots, unsigned int max);
/* "portal" or "pipewire-node": how shots are taken. */
const char *wl_capture_method(const struct wl_capture *w);
/* A sentence about the last failure, or a warning after a success (the
 * restore token could not be stored); "" when there is nothing to say. */
const char *wl_capture_error(const struct wl_capture *w);
/* Accepts NULL. */
void wl_capture_close(struct wl_capture *w);

/* actlog-session --capture-once DIR on Wayland (user/session/capture_once_wl.c): every
 * monitor to DIR/N-NAME.EXT (0600) now, blurred and encoded as e says
 * (session.h), JSON on stdout (dir, method, blur, format, quality,
 * monitors[] as shots_write() gives them; error on a failure). The exit
 * code: 0, or 1 when nothing could be captured (the reason logged). */
struct shot_enc;
int wl_capture_once(const struct wl_capture_opts *o, const char *dir, const struct shot_enc *e);

#endif /* ACTLOG_CAPTURE_PW_H */
