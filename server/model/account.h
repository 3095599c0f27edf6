/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * account.h - one's own account: sign-in (the password checked, a bearer
 * token issued), sign-out, the signed-in user as /me shows them, and the
 * change of one's own password. Used by the sign-in routes (api/auth.c),
 * which parse the request, keep the sign-in limits (rate buckets keyed by
 * the client's address, so they stay with the request) and reply. The
 * items are store/keys.h's (USERS, EMAILS, TOKENS); a user's sign-in
 * tokens and their index are core/srv.h's (user_token_add() ...).
 *
 * Passwords are verified and hashed in the Argon2id slots of core/srv.h
 * (pw_slot_take(): at most srv_opts.pw_slots at once, 64 MiB each, up to
 * 10 s of waiting). An unknown email costs the same hash as a wrong
 * password, so timing does not tell which accounts exist.
 *
 * A change commits in one store batch with its audit entry, which the
 * caller adds through an org_audit_fn (model/org.h). Errors are negative
 * errno: -EACCES is the refusal (the password), -EBUSY no slot in time;
 * any other comes from the item each function names. Nothing here logs.
 */
#ifndef ACTLOG_MODEL_ACCOUNT_H
#define ACTLOG_MODEL_ACCOUNT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/srv.h"
#include "model/org.h"

/*
 * The account of lower-case email em (email_norm()): *u (the caller's)
 * gets its user item, or NULL when no user has that email. 0 or -errno (the
 * item "user").
 */
int account_lookup(struct srv *s, const char *em, cJSON **u);

/* What a sign-in gives. */
struct account_session {
	char token[TOKEN_SIZE]; /* the new bearer token: crypto_wipe() it after */
	int64_t expires_ms;	/* Unix ms */
	/* a refusal's reason: "unknown_account", "bad_password", "disabled" */
	const char *reason;
};

/*
 * Sign in as user item u (account_lookup()'s; NULL: no such account) with
 * password pw (1..PASSWORD_MAX bytes, the caller's check): pw is verified
 * in a slot (against a dummy hash without u). Then a bearer token valid
 * srv_opts.token_ttl_s, issued to client address addr (may be NULL), and
 * its index entry (user_token_add()), with audit(b, "auth.login", the
 * user's team, the user's id, NULL) in the same batch, which also reads
 * the user item again: a disable or a password change committed since the
 * check fails it (-EAGAIN), so no token outlives a revocation. The same
 * batch writes the user item back with last_sign_in (RFC 3339, the token's
 * iat); a commit failing with -EAGAIN for another reason (another sign-in
 * of the user) is tried again, up to 3 times. 0 and *out;
 * -EACCES (refused: out->reason); -EBUSY (no slot in time); -errno (the
 * token). On failure out->token is wiped.
 */
int account_sign_in(struct srv *s, const cJSON *u, const char *pw, const char *addr,
		    org_audit_fn audit, void *actx, struct account_session *out);

/* Sign out: p's token and its index entry are deleted (user_token_drop()).
 * 0 or -errno (the token). */
int account_sign_out(struct srv *s, const struct principal *p);

/*
 * The signed-in user p as /me shows them: *out (the caller's) {user:
 * user_view(), team: the team's node item without its path (null when p
 * has none, or it cannot be read), grants: [{permissions, role, node_id}]
 * from p's grants}. 0 or -errno (the item "user").
 */
int account_me(struct srv *s, const struct principal *p, cJSON **out);

/*
 * p changes their own password from cur to pw (the caller's checks:
 * 1..PASSWORD_MAX and PASSWORD_MIN_LEN..PASSWORD_MAX bytes): cur is
 * verified and pw hashed, each in a slot. Then in one batch: the user item
 * (the new hash; sessions_after now, which ends tokens issued before the
 * token index) and p's own token (iat now, so it outlives that mark), each
 * read and written back; every other token of p deleted
 * (user_tokens_revoke()); audit(b, "user.password", p's team or NULL,
 * p->id, {sessions_revoked}). After the commit, user_tokens_sweep(); its
 * error goes to *sweep_err (0 else), the change stands. 0; -EACCES
 * (refused: cur is wrong); -EBUSY (no slot in time); -errno (the item
 * "user").
 */
int account_password_change(struct srv *s, const struct principal *p, const char *cur,
			    const char *pw, org_audit_fn audit, void *actx, int *sweep_err);

#endif /* ACTLOG_MODEL_ACCOUNT_H */
