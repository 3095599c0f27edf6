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

#endif /* ACTLOG_API_H */
