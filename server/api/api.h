/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * api.h - what every route module (the .c files of server/api/) builds on: the HTTP
 * layer, the core (principals, authorize(), audit) and the request helpers
 * that reply themselves (need_*). A route handler parses, authorizes, makes
 * one model call and replies; it never builds a store key.
 */
#ifndef ACTLOG_API_H
#define ACTLOG_API_H

#include "core/srv.h"
#include "http/http.h"

/*
 * Reply for an error a model call returned (a negative errno: the store's
 * or the model's own) with reply_store_err()'s table: ENOENT 404 "<what>
 * not found", EEXIST 409, EAGAIN 503, ENOSPC 507, others 500. Returns 0.
 */
static inline int reply_model_err(struct http_req *req, int err, const char *what)
{
	return reply_store_err(req, err, what);
}

#endif /* ACTLOG_API_H */
