/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.h - actlogd's policy: the server's last policy as kept on disk, and
 * which value wins when the server's policy and the local settings both set
 * one. Pure: parsing takes a buffer, merging takes structs; the agent reads
 * and writes the file.
 *
 * The saved file, STATE_DIR/policy.json (0600, at most POLICY_FILE_MAX
 * bytes), written by the shipper after each 200 of GET /api/v1/agent/config
 * (?user=LOGIN: each session user has a policy of their own), holds the
 * last answer for each of the POLICY_USERS_MAX users last asked for,
 * newest first ("user":null: no session user):
 *
 *   {"v":2,"users":[{"user":"alice","etag":"\"c268d3d7dd3cd051\"",
 *    "saved_ms":1764324000123,"policy":{"config":{"logging.enabled":false,
 *    ...},"device_id":"d_…","policy_for":{...}}},...]}
 *
 * A version 1 file ({"v":1,"etag","saved_ms","policy"}, before users) is
 * read as the entry for no session user.
 *
 * "policy" is the server's answer as received. Precedence: a key the
 * server's policy sets with a valid value wins over the same setting of the
 * local file and command line (POLICY_KEYS below names both); a key it does
 * not set, or sets to a value outside the agent's range, comes from the
 * local settings. Keys without a local twin (screenshots.*, apps.titles)
 * only ever come from the server.
 */
#ifndef ACTLOG_POLICY_H
#define ACTLOG_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "conf.h"

#define POLICY_FILE "policy.json"
#define POLICY_BODY_MAX 65536 /* bytes of a policy document kept */
#define POLICY_USER_MAX 256   /* bytes of a login (seat.h SEAT_USER_MAX) */
#define POLICY_USERS_MAX 8    /* users whose policy the file keeps */
/* bytes of the saved file: each entry is its body and at most 4 KiB more */
#define POLICY_FILE_MAX (POLICY_USERS_MAX * (POLICY_BODY_MAX + 4096))
#define POLICY_ETAG_MAX 128 /* bytes of an ETag, NUL included */

/* The settings both sides have: X(id, server key, local key) */
#define POLICY_KEYS(X)                                                                             \
	X(POL_LOGGING, "logging.enabled", "logging")                                               \
	X(POL_INTERVAL, "activity.interval_s", "interval_s")                                       \
	X(POL_IDLE, "idle.threshold_s", "idle_threshold_s")                                        \
	X(POL_SYSINFO, "sysinfo.interval_s", "sysinfo_interval_s")

#define POLICY_KEY_ENUM(id, srv, loc) id,
enum policy_key { POLICY_KEYS(POLICY_KEY_ENUM) POL_NKEYS };
#undef POLICY_KEY_ENUM

enum policy_src { POL_SRC_LOCAL = 0, POL_SRC_SERVER };

/* The effective values and where each came from. */
struct policy_values {
	int logging;
	uint32_t interval_s;
	uint32_t idle_threshold_s;
	uint32_t sysinfo_interval_s;
	enum policy_src src[POL_NKEYS];
};

/* What policy_file_parse() found. */
struct policy_saved {
	cJSON *doc; /* the policy document (an object); the caller cJSON_Delete()s it */
	char etag[POLICY_ETAG_MAX];
	int64_t saved_ms; /* unix ms of the write */
};

/* The server's name of k ("logging.enabled"), its local one ("logging"),
 * "local"/"server" for a source. Static strings. */
const char *policy_key_name(enum policy_key k);
const char *policy_local_name(enum policy_key k);
const char *policy_src_name(enum policy_src s);

/* The settings object of a policy document: its "config" member when that
 * is an object, else the document itself when it is an object, else NULL.
 * Borrowed from doc. */
const cJSON *policy_config(const cJSON *doc);

/* Effective values: each key from cfg when cfg sets it to a valid value
 * (logging.enabled a bool; the others whole numbers in the agent's
 * ranges), else from local. cfg NULL: everything local. */
void policy_merge(const struct agent_conf *local, const cJSON *cfg, struct policy_values *out);

/* 1 when etag can be sent back in If-None-Match: 1..POLICY_ETAG_MAX-1
 * bytes of printable ASCII (no CR, LF or other control byte); else 0. */
int policy_etag_ok(const char *etag);

/*
 * The saved file's text with the server's answer body (len bytes, at most
 * POLICY_BODY_MAX, a JSON object) for session user user (NULL: none;
 * else 1..POLICY_USER_MAX bytes), its etag ("" when the answer had none)
 * and the time of saving, first; then the entries of the file's current
 * text old (oldlen bytes; NULL, damaged or another format: none kept) for
 * other users, in their order, up to POLICY_USERS_MAX in all (and as many
 * as fit in POLICY_FILE_MAX). Malloc'd NUL-terminated text, or NULL with
 * -errno in *err: -E2BIG body or user too long, -EINVAL body not an
 * object, an empty user or a bad etag, -ENOMEM.
 */
char *policy_file_build(const char *old, size_t oldlen, const char *user, const char *etag,
			int64_t saved_ms, const char *body, size_t len, int *err);

/*
 * Parse a saved file (len bytes of buf) and check its entry for session
 * user user (NULL: none). 0 and *out filled, or -EFBIG (over
 * POLICY_FILE_MAX), -ENOENT (no entry for that user), -EINVAL (not that
 * format: no JSON, another version, or an entry with a bad etag or
 * saved_ms, a policy that is not an object, or one of POLICY_KEYS with a
 * value of the wrong type or range), with a reason in err; on failure
 * *out holds nothing to free.
 */
int policy_file_parse(const char *buf, size_t len, const char *user, struct policy_saved *out,
		      char *err, size_t errlen);

#endif /* ACTLOG_POLICY_H */
