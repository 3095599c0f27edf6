/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * export.h - the export of a user's data (GDPR; GET
 * /api/v1/users/{id}/export.zip, api/org.c): one ZIP file (libzip) holding
 *   user.json            {user (as GET /users/{id}), grants, devices: the
 *                        devices they own (as GET /devices/{id})}
 *   activity.csv         the activity report, one row a UTC day (as GET
 *                        /api/v1/reports/activity.csv?step=86400)
 *   apps.csv             the apps report (GET /api/v1/reports/apps.csv)
 *                        (both: the EXPORT_REPORT_DAYS days up to today,
 *                        the reports' longest range)
 *   records/<type>.ndjson  the raw records mapped to them, of every day
 *                        kept, from the devices of their team and of the
 *                        teams they were moved from
 *   screenshots.json     their screenshots' items, and each image as
 *   screenshots/<id>.<png|jpg|webp>  (fetched from S3, checked against
 *                        its registered size and sha256); both only for
 *                        the user themself or a principal holding
 *                        screenshot.read on the user (GET /screenshots)
 *   avatar.<png|jpg|webp>  their profile picture, when they have one
 * The archive is written to a file in $TMPDIR (default /tmp), opened and
 * unlinked before it is sent: nothing stays behind. At most
 * EXPORT_MAX_BYTES of content.
 */
#ifndef ACTLOG_MODEL_EXPORT_H
#define ACTLOG_MODEL_EXPORT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/why.h"

#define EXPORT_MAX_BYTES (512ull << 20) /* content of one export (before compression) */
#define EXPORT_TYPES_MAX 32		/* record types (files under records/) */
#define EXPORT_REPORT_DAYS 400		/* days of activity.csv and apps.csv */

/* What an export holds (for the audit entry). */
struct export_stats {
	uint64_t records, screenshots, bytes;
};

/*
 * Build the export of user uid for principal p (who may read the user and
 * their activity: the caller's check) on the calling thread (it reads S3:
 * run it on the outbound pool). 0 with *fd (the caller's: an unlinked
 * file, at offset 0) and *len (its size), and *st; -ENOENT (no such user;
 * what "user"); -EFBIG (refused: over EXPORT_MAX_BYTES, the message says
 * what to do); -EKEYREJECTED, -ETIMEDOUT, -EREMOTEIO, -EBADMSG (refused: a
 * screenshot or the picture could not be read from S3; the message names
 * it); -errno (what "export").
 */
int export_build(struct srv *s, const struct principal *p, const char *uid, int *fd, uint64_t *len,
		 struct export_stats *st, struct model_why *why);

#endif /* ACTLOG_MODEL_EXPORT_H */
