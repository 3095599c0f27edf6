/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * why.h - how a model call tells its route why it failed, for every model
 * that refuses by rules (org, account, device, shots, avatar): a refusal
 * carries the client's message (the route answers it as it is, with the
 * status its errno maps to), any other failure names the item whose read
 * or write failed (the route answers a store error for it). Nothing here
 * logs or knows HTTP.
 */
#ifndef ACTLOG_MODEL_WHY_H
#define ACTLOG_MODEL_WHY_H

#include <stdarg.h>
#include <stdio.h>

/* The HTTP layer's error message buffer: a message is cut where the reply
 * would cut it. */
#define MODEL_WHY_SIZE 512

struct model_why {
	char msg[MODEL_WHY_SIZE]; /* a refusal's message; "" for other failures */
	const char *what;	  /* other failures: the item that failed, or NULL */
};

/* Nothing to say yet. */
static inline void why_reset(struct model_why *why)
{
	why->msg[0] = 0;
	why->what = NULL;
}

/* A refusal by the rules: returns err, with the client's message in why. */
__attribute__((format(printf, 3, 4))) static inline int why_refuse(struct model_why *why, int err,
								   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	va_end(ap);
	why->what = NULL;
	return err;
}

/* Any other failure: returns err, the read or write of item what failed. */
static inline int why_fail(struct model_why *why, int err, const char *what)
{
	why->msg[0] = 0;
	why->what = what;
	return err;
}

#endif /* ACTLOG_MODEL_WHY_H */
