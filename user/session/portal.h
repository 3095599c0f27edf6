/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * portal.h - the xdg-desktop-portal ScreenCast session over the session
 * bus (sd-bus), for Wayland screenshots (user/session/portal.c).
 *
 * CreateSession → SelectSources (monitors, several, cursor hidden when the
 * portal can, persist_mode 2 and the stored restore token from portal
 * version 4 on) → Start (the user's dialog, unless the token is honoured)
 * → the streams' PipeWire node ids and geometry, and the next restore
 * token → OpenPipeWireRemote (a PipeWire connection fd). Each call that
 * answers through a Request object is subscribed to BEFORE it is made:
 * the request path comes from the bus's unique name and a handle_token.
 *
 * The restore token is kept in $XDG_STATE_HOME/actlog/screencast.token
 * (~/.local/state/actlog/ by default; directory 0700, file 0600, written
 * to a temporary name then renamed), so the user is asked once.
 */
#ifndef ACTLOG_PORTAL_H
#define ACTLOG_PORTAL_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"

/* How long one portal call may take, the dialog apart (ms). */
#define WL_PORTAL_TIMEOUT_MS 10000u
/* The default for the user's answer to the dialog (ms). */
#define WL_DIALOG_TIMEOUT_MS 120000u
/* The longest restore token kept (portals use UUIDs: 36 bytes). */
#define PORTAL_TOKEN_MAX 256

struct portal_stream {
	uint32_t node; /* PipeWire node id */
	int32_t x, y;  /* position in the compositor's space (0,0 unknown) */
	int32_t w, h;  /* size (0 unknown) */
	char name[CAPTURE_NAME_LEN];
};

struct sd_bus;

/* An open ScreenCast session: streams, a PipeWire fd, the next token. */
struct portal_cast {
	struct sd_bus *bus;
	char *session; /* the session's object path, malloc'd */
	struct portal_stream streams[CAPTURE_MAX_MONITORS];
	unsigned int n;
	int pw_fd;			  /* from OpenPipeWireRemote; -1 once taken */
	char token[PORTAL_TOKEN_MAX + 1]; /* the next restore token, "" none */
	unsigned int version;		  /* the portal's ScreenCast version */
	uint32_t cursor_modes;		  /* AvailableCursorModes (version 2) */
	int token_sent;			  /* a restore token went with SelectSources */
};

/* Open a ScreenCast session of every monitor. restore: the stored token
 * or NULL. dialog_ms: how long Start may wait for the user. 0 or -errno:
 * -ENOTCONN (no session bus), -ENOSYS (no ScreenCast portal on it),
 * -ECANCELED (the user cancelled: response 1), -EACCES (the portal ended
 * the request otherwise: response 2), -ETIMEDOUT, -EPROTO (an answer
 * without what it must hold), -ENOMEM. On failure nothing stays open; on
 * success close it with portal_cast_close. why: a sentence on a failure. */
int portal_cast_open(struct portal_cast *c, const char *restore, unsigned int dialog_ms, char *why,
		     size_t why_len);
/* Close the session (Session.Close), the fd if not taken, the bus.
 * Accepts a closed or zeroed cast. */
void portal_cast_close(struct portal_cast *c);

/* The token file's default path into buf: 0, -EINVAL (no HOME and no
 * XDG_STATE_HOME), -ENAMETOOLONG. */
int portal_token_path(char *buf, size_t len);
/* Read the token: 0 (tok holds it), -ENOENT (none stored), -EINVAL (not a
 * token: empty, too long, not printable ASCII), -errno. */
int portal_token_load(const char *path, char *tok, size_t len);
/* Store tok atomically (dir 0700, file 0600). 0 or -errno. */
int portal_token_save(const char *path, const char *tok);
/* 1 when s is a token worth keeping: 1..PORTAL_TOKEN_MAX printable ASCII
 * bytes. Pure. */
int portal_token_valid(const char *s);

#endif /* ACTLOG_PORTAL_H */
