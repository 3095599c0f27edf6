/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session_proto.h - the session socket's protocol, shared by its two ends:
 * actlogd (user/agent/session_sock.c) and actlog-session
 * (user/session/session.c). One place for the messages and their limits.
 *
 * Transport: a unix stream socket (SESSION_SOCKET_DEFAULT, mode 0666; each
 * peer is checked with SO_PEERCRED), newline-delimited JSON, at most
 * SESSION_MAX_LINE bytes a line.
 *
 *   helper → actlogd  {"type":"hello","v":1,"session":"2","display":":0",
 *                      "desktop":"x11","source":"x11-ewmh","wm":"Openbox",
 *                      "route":"x11"|null,
 *                      "routes":[{"route":"wlr","why":"..."}]}
 *                     ("route": the focus route in use, null for none;
 *                      "routes": those not used, and why)
 *                     {"type":"focus","source":"x11-ewmh","app":"XTerm",
 *                      "instance":"xterm","pid":123[,"title":"..."]}
 *                     {"type":"focus","source":"wayland","app":null,
 *                      "unknown":"why the focus cannot be known"}
 *                     {"type":"shot","taken_at":MS,"monitor":"HDMI-1",
 *                      "width":W,"height":H,"size":N,"format":"webp"}
 *                      + a memfd (SCM_RIGHTS)
 *   actlogd → helper  {"type":"welcome","v":1,"policy":{"apps.titles":false,
 *                      "screenshots.enabled":false,"screenshots.interval_s":600,
 *                      "screenshots.jitter_s":0,"screenshots.blur":false,
 *                      "screenshots.format":"webp","screenshots.quality":50}}
 *                     {"type":"policy","policy":{"apps.titles":true}}
 *                     {"type":"refused","reason":"..."}  (then closes)
 *                     {"type":"shot_ack","ok":true} or
 *                     {"type":"shot_ack","ok":false,"reason":"..."}
 *
 * "app" null means nothing is focused. A title is dropped unless the policy
 * allows titles, whatever the helper sends. A shot travels as a memfd
 * sealed against every change (F_SEAL_SHRINK|GROW|WRITE|SEAL) of the
 * announced size, at most SESSION_SHOT_MAX bytes, holding an image encoded
 * as "format" says (SESSION_SHOT_FORMATS; a shot without it is PNG, as
 * older helpers send) of the announced width and height.
 */
#ifndef ACTLOG_SESSION_PROTO_H
#define ACTLOG_SESSION_PROTO_H

#define SESSION_PROTO_VERSION 1
#define SESSION_SOCKET_DEFAULT "/run/actlog/session.sock"
#define SESSION_MAX_LINE 4096	     /* bytes of one message, newline included */
#define SESSION_SHOT_MAX (32u << 20) /* bytes of one screenshot */
#define SESSION_MONITOR_LEN 64	     /* bytes of a monitor's name */
#define SESSION_APP_LEN 128	     /* bytes of an application id / class */
#define SESSION_TITLE_LEN 256	     /* bytes of a window title */
#define SESSION_ROUTES_MAX 4	     /* entries of the hello's "routes" kept */
#define SESSION_ROUTE_WHY_LEN 256    /* bytes of one route's "why" */

/* A shot's encodings, X(ID, name in "format" and screenshots.format, media
 * type, file extension); the first is what a shot without "format" is.
 * screenshots.quality is 1..100 (WebP and JPEG; PNG ignores it). */
#define SESSION_SHOT_FORMATS(X)                                                                    \
	X(PNG, "png", "image/png", "png")                                                          \
	X(WEBP, "webp", "image/webp", "webp")                                                      \
	X(JPEG, "jpeg", "image/jpeg", "jpg")

#endif /* ACTLOG_SESSION_PROTO_H */
