/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * review.h - the access review of a node: every grant held on the node and
 * on the nodes below it, with who made it and when, and the grantee's last
 * sign-in; as JSON rows and as CSV (RFC 4180). Nothing here logs or
 * decides who may read it (the route asks user.read on the node).
 */
#ifndef ACTLOG_MODEL_REVIEW_H
#define ACTLOG_MODEL_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/srv.h"

/* Most rows one review answers; the answer says truncated past it. */
#define REVIEW_MAX_ROWS 20000

/* The CSV columns, in order (the header row). */
#define REVIEW_CSV_HEADER                                                                          \
	"user_id,login,name,role,node_id,node_path,node_name,created_by_id,created_by_login,"      \
	"created_at,last_sign_in,disabled"

/*
 * The grants on node node_id and every node below it (depth first, each
 * node's grants in the store's order of user id then role), at most max
 * rows: *out (the caller's) {node_id, rows: [{user_id, login, name, role,
 * (custom roles:) role_id, node_id, node_path (the names from the business
 * down joined by "/"; "" for root), node_name, created_by ({id, login} or
 * null: org_grant_view()), created_at (or null), last_sign_in (or null),
 * disabled}], truncated}. A grant whose user item cannot be read shows
 * null login, name and last_sign_in. 0; -ENOENT (no such node); -errno.
 */
int review_collect(struct srv *s, const char *node_id, size_t max, cJSON **out);

/*
 * The rows of review_collect() as CSV into *buf (malloc'd, the caller's;
 * *len its length, NUL-terminated too): the header row then one record a
 * row, lines ended by CRLF; a field holding a comma, a quote, CR or LF is
 * quoted, its quotes doubled; a field starting with = + - @, tab or CR
 * (what a spreadsheet would run as a formula) gets a ' before it. Nulls
 * are empty fields; disabled is "true" or "false". 0 or -ENOMEM. Pure.
 */
int review_csv(const cJSON *rows, char **buf, size_t *len);

#endif /* ACTLOG_MODEL_REVIEW_H */
