/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ptoken.h - personal API tokens: a user makes a token for an integration
 * (POST /api/v1/me/tokens), with a name, scopes and an expiry; lists and
 * revokes them (api/tokens.c). The token ("alp_" + 43 base64url
 * characters, core/crypto.h) is shown once; the store keeps only its
 * SHA-256 hash, as for sign-in tokens (token_new(), token_get()).
 *
 * What a personal token may do: it authenticates as its user (need_user),
 * whose grants are then each cut down to the token's scopes
 * (ptoken_restrict()), read again on every request: the intersection of
 * the scopes and the user's current grants, so a revoked grant removes the
 * power at once. Its user being disabled, or their sessions ended (a
 * password change or reset, a disable: the user's sessions_after mark),
 * ends it (401). Scopes are permission names the user holds on some node
 * when the token is made; at least one (no empty scope set).
 *
 * Items: store/keys.h (TOKENS: the token by its hash; pk "ptok|<user>": the
 * user's index, by token id). A user holds at most PTOKEN_MAX live tokens.
 * A change commits in one store batch with its audit entry (org_audit_fn,
 * model/org.h). Errors are negative errno; why (model/why.h) says what to
 * answer. Nothing here logs.
 */
#ifndef ACTLOG_MODEL_PTOKEN_H
#define ACTLOG_MODEL_PTOKEN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/org.h"
#include "model/why.h"

#define PTOKEN_MAX 20		     /* live personal tokens per user */
#define PTOKEN_NAME_MAX 64	     /* bytes of a token's name */
#define PTOKEN_SCOPES_MAX 32	     /* entries of "scopes" */
#define PTOKEN_TTL_DEFAULT_S 7776000 /* 90 days */
#define PTOKEN_TTL_MAX_S 31536000    /* 365 days */
#define PTOKEN_TOUCH_MS 60000	     /* last_used is written at most once a minute */

/*
 * The scopes array a (a request's "scopes") as a permission mask into
 * *mask, each name checked against held (the permissions the user holds
 * on any node). 0; -EINVAL (not an array of 1..PTOKEN_SCOPES_MAX strings,
 * or an unknown permission: why names it); -EACCES (a permission the user
 * does not hold: why names it); *mask stays 0 on failure. Pure.
 */
int ptoken_scopes_parse(const cJSON *a, uint32_t held, uint32_t *mask, struct model_why *why);

/*
 * The expiry of a new token from a request body o: "expires_in_s" (1 ..
 * PTOKEN_TTL_MAX_S) or "expires_at" (RFC 3339 or Unix ms, after now and at
 * most PTOKEN_TTL_MAX_S after it), not both; neither: now +
 * PTOKEN_TTL_DEFAULT_S. Unix ms into *exp. 0 or -EINVAL (why says why).
 * Pure.
 */
int ptoken_expiry(const cJSON *o, int64_t now, int64_t *exp, struct model_why *why);

/* The union of the permissions of p's grants. Pure. */
uint32_t ptoken_held(const struct principal *p);

/*
 * Cut p's grants down to scopes (p->scopes, p->personal set): each grant
 * keeps only the permissions in scopes. Pure.
 */
void ptoken_restrict(struct principal *p, uint32_t scopes);

/*
 * The scopes of a personal token's TOKENS item t (its "scopes" names) as a
 * mask; 0 when it has none or none is known. Pure.
 */
uint32_t ptoken_item_scopes(const cJSON *t);

/* A new token, as its creation answers it. */
struct ptoken_new {
	char token[TOKEN_SIZE]; /* the secret, shown once: crypto_wipe() it after */
	char id[ID_SIZE];
	int64_t created_ms, expires_ms;
};

/*
 * p (signed in with a sign-in token) makes a personal token named name
 * (1..PTOKEN_NAME_MAX bytes of text, the caller's check) with permission
 * mask scopes (ptoken_scopes_parse()) expiring at exp (ptoken_expiry()).
 * In one batch: the user item read (a recorded read: a disable or password
 * change committed meanwhile fails it with -EAGAIN), expired or ended
 * tokens of p's index deleted, the token and its index entry, and
 * audit(b, "token.create", p's team or NULL, p->id, {id, name, scopes,
 * expires}). 0 and *out; -EDQUOT (p holds PTOKEN_MAX live tokens: why);
 * -errno (why->what). On failure out->token is wiped.
 */
int ptoken_create(struct srv *s, const struct principal *p, const char *name, uint32_t scopes,
		  int64_t exp, org_audit_fn audit, void *actx, struct ptoken_new *out,
		  struct model_why *why);

/*
 * uid's live personal tokens, newest first, into *out (the caller's): an
 * array of {id, name, scopes, created_at, expires_at, last_used_at (null:
 * never)}, never the secret or its hash. Expired tokens and those ended by the user's
 * sessions_after mark are left out. 0 or -errno (the item "tokens").
 */
int ptoken_list(struct srv *s, const char *uid, cJSON **out);

/*
 * Note a use of uid's token tid at now: its index entry's last_used is
 * written when it is PTOKEN_TOUCH_MS or more behind now (a put only if the
 * entry still exists, so a token revoked meanwhile stays gone). 0 (also
 * when nothing was written) or -errno; a caller may ignore the error.
 */
int ptoken_touch(struct srv *s, const char *uid, const char *tid, int64_t now);

/*
 * p revokes their own personal token tid: the token and its index entry
 * deleted with audit(b, "token.revoke", p's team or NULL, p->id, {id,
 * name}) in one batch. 0; -ENOENT (p has no token tid: another user's
 * token is not found either); -errno.
 */
int ptoken_revoke(struct srv *s, const struct principal *p, const char *tid, org_audit_fn audit,
		  void *actx);

#endif /* ACTLOG_MODEL_PTOKEN_H */
