/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shot_queue.h - actlogd's screenshot queue and its uploader.
 *
 * Queue: STATE_DIR/shots (0700), one entry per shot: NAME.png (the bytes,
 * 0600; named .png whatever the shot's format, so that entries queued
 * before formats existed carry over) and NAME.json (the metadata, 0600,
 * with the shot's "format": the presign's content_type; none: PNG), NAME = "<taken_at ms, 13
 * digits>-<16 hex random>", so names sort by time. Both are written to
 * temporary names, fsynced, renamed (the PNG first: the sidecar's presence
 * commits the entry) and the directory fsynced. At open, temporaries, PNGs
 * without a sidecar and sidecars without a PNG are removed. Bounded by
 * shot_queue_max files and shot_queue_max_mb: adding past either drops the
 * oldest entry that is not being uploaded; drops are counted, logged and
 * reported in the agent record (drops.shots_queue).
 *
 * Uploader: a thread beside the event loop (blocking libcurl through
 * curl_dl, like the shipper), oldest entry first:
 *   presign (POST /api/v1/screenshots/presign, naming the session user the
 *   shot was taken under; the key, URL, headers and
 *   expiry are written to the sidecar before the PUT) → PUT to the
 *   presigned URL with the listed headers (put_done saved after a 2xx) →
 *   register (POST /api/v1/screenshots, idempotent by key) → delete.
 * A crash at any step repeats at most that step with the same key: a re-PUT
 * of a key overwrites the same bytes and a second register answers the
 * same id, so a shot is neither lost nor registered twice. An expired URL
 * (or S3's 403) before the PUT succeeded presigns again; register's 404
 * (the key's pending row is gone) presigns again; its 409 (object not in
 * S3, or not the shot's bytes) PUTs again (at most SHOTQ_MAX_REPUT times,
 * then the shot fails).
 * No answer, 5xx, 401, 403, 408, 429 and presign's 409 (screenshots off
 * or S3 settings incomplete at the server: an admin's change ends it) back
 * off exponentially from 1 s to backoff_max_s with full jitter in
 * [b/2, b]; any other 4xx is permanent for that shot: it is moved to STATE_DIR/shots/failed (the
 * newest SHOTQ_FAILED_KEEP kept), counted and logged.
 *
 * When the agent's own policy turns screenshots off (shotq_policy), the
 * queue is emptied unsent: no policy, no consent.
 *
 * Functions return 0 or -errno and do not log, except the thread, which logs
 * what it drops and fails. shotq_close accepts NULL.
 */
#ifndef ACTLOG_SHOTS_UP_H
#define ACTLOG_SHOTS_UP_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "session_sock.h"
#include "ship.h"

#define SHOTQ_DIR "shots"
#define SHOTQ_MAX_ENTRIES 10000 /* hard cap on shot_queue_max */
#define SHOTQ_FAILED_KEEP 20	/* shots kept in shots/failed */
#define SHOTQ_MAX_REPUT 5	/* register's 409 answers before a shot fails */

struct shotq_opts {
	const char *state_dir;
	uint32_t max_files;	 /* shot_queue_max */
	uint64_t max_bytes;	 /* shot_queue_max_mb in bytes */
	uint32_t backoff_max_ms; /* longest retry delay */
	/* the device (server URL, token); NULL: queue only, nothing uploads */
	const struct device_cred *cred;
};

struct shotq_status {
	uint64_t queued, bytes; /* entries and PNG bytes in the queue */
	int64_t oldest_ms;	/* taken_at of the oldest entry, 0 when empty */
	uint64_t added, uploaded, dropped, failed;
	uint32_t max_files;
	uint64_t max_bytes;
	uint32_t backoff_ms; /* current retry delay, 0 when healthy */
	int last_http;	     /* status of the last request, 0 no answer */
	int uploading;	     /* the uploader thread runs */
	char last_error[200];
};

struct shotq;

/* Create (0700) or scan the queue directory, and start the uploader when
 * o->cred is set (call from the main thread: it loads libcurl). */
int shotq_open(struct shotq **out, const struct shotq_opts *o);
/* Copy a checked shot into the queue (sha256 computed here), dropping the
 * oldest entries past the bounds. user: the login of the session user it
 * was taken under (NULL: none), kept in the sidecar ("user") and named to
 * presign, which files the shot under that user. 0, or -errno with why set. */
int shotq_add(struct shotq *q, const struct sessd_shot *sh, const char *user, char *why,
	      size_t whylen);
void shotq_status(struct shotq *q, struct shotq_status *st);
/* The effective screenshots.enabled (and logging.enabled): off deletes
 * every queued shot unsent (counted as dropped, logged once) and stops the
 * uploader, a shot in flight included; on starts it again. NULL q is fine. */
void shotq_policy(struct shotq *q, int enabled);
/* Add a "shots" object (the status above) to o. */
void shotq_status_json(struct shotq *q, cJSON *o);
/* Stop the uploader (a request in flight is aborted) and free. */
void shotq_close(struct shotq *q);

#endif /* ACTLOG_SHOTS_UP_H */
