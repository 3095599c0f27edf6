/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crypto.h - the server's cryptography: envelope encryption (KEK -> DEK ->
 * values, AES-256-GCM), password hashing (Argon2id) and bearer tokens.
 * OpenSSL libcrypto does the AES-GCM, SHA-256 and randomness; libsodium the
 * Argon2id, hex and base64. No function logs; errors are negative errno.
 * Every function is thread-safe. Secrets the module allocates are wiped
 * before they are freed; secrets the caller owns are wiped by the caller
 * (crypto_wipe / crypto_free).
 *
 * Key ids (KEK ids from keyprov.h, DEK ids from the store) are C strings of
 * 1..CRYPTO_ID_MAX printable ASCII bytes without spaces (0x21..0x7e).
 *
 * Blob formats (all integers are single bytes; the two share a header):
 *
 *   wrapped DEK, version 1 (dek_wrap), 62 + k bytes:
 *     [0]           0x01 version
 *     [1]           k: length of the KEK id, 1..64
 *     [2, 2+k)      KEK id
 *     [2+k, 14+k)   nonce, 12 random bytes
 *     [14+k, 46+k)  ciphertext of the 32-byte DEK
 *     [46+k, 62+k)  GCM tag
 *     AES-256-GCM under the KEK, AAD = "actlog-dek" || blob[0, 2+k)
 *     (the label, then the header: version, id length, KEK id).
 *
 *   sealed value, version 1 (crypto_seal), 30 + d + n bytes:
 *     [0]           0x01 version
 *     [1]           d: length of the DEK id, 1..64
 *     [2, 2+d)      DEK id
 *     [2+d, 14+d)   nonce, 12 random bytes
 *     [14+d, 14+d+n) ciphertext, n = plaintext length
 *     [14+d+n, +16) GCM tag
 *     AES-256-GCM under the DEK, AAD = "actlog-val" || blob[0, 2+d) ||
 *     caller's aad. The caller's aad names the record and field the value
 *     belongs to (e.g. "config|node:123"), so a blob copied into another
 *     record or field does not open.
 *
 * Nonces are 96 random bits per message. With random nonces GCM allows at
 * most 2^32 messages per key (NIST SP 800-38D 8.3; collision probability
 * stays below 2^-32). The store uses one DEK per scope (organisation node),
 * far below that; a scope that could approach it must get a new DEK.
 */
#ifndef ACTLOG_CRYPTO_H
#define ACTLOG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN 32 /* KEK and DEK */
#define CRYPTO_NONCE_LEN 12
#define CRYPTO_TAG_LEN 16
#define CRYPTO_ID_MAX 64
#define CRYPTO_BLOB_VERSION 1

/* Size of a wrapped DEK with a k-byte KEK id, and the largest one. */
#define DEK_BLOB_LEN(k) (2 + (k) + CRYPTO_NONCE_LEN + CRYPTO_KEY_LEN + CRYPTO_TAG_LEN)
#define DEK_BLOB_MAX DEK_BLOB_LEN(CRYPTO_ID_MAX)
/* Size of a sealed value of n plaintext bytes with a d-byte DEK id. */
#define SEAL_BLOB_LEN(d, n) (2 + (d) + CRYPTO_NONCE_LEN + (n) + CRYPTO_TAG_LEN)
/* Caps: plaintext of one sealed value, and the caller's AAD. */
#define CRYPTO_SEAL_MAX (16u << 20)
#define CRYPTO_AAD_MAX 1024

/* --- secrets in memory --- */

/* Overwrite n bytes at p with zeros in a way the compiler keeps. NULL ok. */
void crypto_wipe(void *p, size_t n);
/* crypto_wipe(p, n), then free(p). Accepts NULL. */
void crypto_free(void *p, size_t n);
/* Constant-time comparison of n bytes: 1 when equal, 0 otherwise. */
int crypto_ct_eq(const void *a, const void *b, size_t n);

/* --- data keys (DEKs) wrapped by the master key (KEK) --- */

/* Fill dek with 32 random bytes. 0 or -EIO (no randomness). */
int dek_new(uint8_t dek[CRYPTO_KEY_LEN]);

/*
 * Wrap dek under kek into out (room for DEK_BLOB_MAX bytes); *out_len gets
 * DEK_BLOB_LEN(strlen(kek_id)). 0, -EINVAL (bad kek_id), -EIO (randomness
 * or cipher failure).
 */
int dek_wrap(const uint8_t kek[CRYPTO_KEY_LEN], const char *kek_id,
	     const uint8_t dek[CRYPTO_KEY_LEN], uint8_t *out, size_t *out_len);

/*
 * Unwrap blob (blob_len bytes) with kek into dek. 0, or -EBADMSG when the
 * blob is malformed, of an unknown version, tampered with in any byte, or
 * wrapped by another KEK (dek is then zeroed); -ENOMEM/-EIO on library
 * failure.
 */
int dek_unwrap(const uint8_t kek[CRYPTO_KEY_LEN], const uint8_t *blob, size_t blob_len,
	       uint8_t dek[CRYPTO_KEY_LEN]);

/*
 * KEK rotation for one DEK: unwrap blob with old_kek, wrap the DEK with
 * new_kek under new_kek_id into out (DEK_BLOB_MAX bytes). The DEK itself,
 * and so every value sealed with it, is unchanged. 0 or the errors of
 * dek_unwrap / dek_wrap.
 */
int crypto_rewrap(const uint8_t old_kek[CRYPTO_KEY_LEN], const uint8_t new_kek[CRYPTO_KEY_LEN],
		  const char *new_kek_id, const uint8_t *blob, size_t blob_len, uint8_t *out,
		  size_t *out_len);

/*
 * Copy the key id from the header of a wrapped DEK or a sealed value (the
 * KEK id or the DEK id) into id (CRYPTO_ID_MAX + 1 bytes), so the caller can
 * pick the key. The id is not authenticated until the blob is opened.
 * 0 or -EBADMSG (malformed header, unknown version).
 */
int crypto_blob_key_id(const uint8_t *blob, size_t blob_len, char *id);

/* --- values sealed with a DEK --- */

/*
 * Encrypt pt (pt_len bytes, pt may be NULL when 0) under dek with a fresh
 * random nonce, bound to aad (aad_len bytes, may be 0). *blob is malloc'd
 * (SEAL_BLOB_LEN(strlen(dek_id), pt_len) bytes, *blob_len); free it with
 * free(). 0, -EINVAL (bad dek_id), -E2BIG (pt_len > CRYPTO_SEAL_MAX or
 * aad_len > CRYPTO_AAD_MAX), -ENOMEM, -EIO.
 */
int crypto_seal(const uint8_t dek[CRYPTO_KEY_LEN], const char *dek_id, const void *aad,
		size_t aad_len, const void *pt, size_t pt_len, uint8_t **blob, size_t *blob_len);

/*
 * Decrypt and authenticate blob with dek and the same aad it was sealed
 * with. *pt is malloc'd, NUL-terminated after *pt_len bytes (handy for
 * JSON), and holds a secret: free it with crypto_free(*pt, *pt_len).
 * 0, -EBADMSG (malformed, unknown version, any byte changed, wrong dek or
 * wrong aad; nothing is returned), -E2BIG (aad or plaintext over the caps),
 * -ENOMEM, -EIO.
 */
int crypto_open(const uint8_t dek[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
		const uint8_t *blob, size_t blob_len, uint8_t **pt, size_t *pt_len);

/* --- raw AES-256-GCM, for formats that frame their own messages --- */

/*
 * Encrypt n bytes of pt (NULL when 0; n <= INT_MAX) under key with the
 * caller's nonce and aad (aad_len bytes, may be 0) into ct (n bytes) and
 * tag. The caller guarantees a nonce is never reused with one key (model/
 * backup.c: random nonces under a fresh key per backup). 0, -EINVAL,
 * -ENOMEM or -EIO.
 */
int crypto_gcm_seal(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_NONCE_LEN],
		    const void *aad, size_t aad_len, const void *pt, size_t n, uint8_t *ct,
		    uint8_t tag[CRYPTO_TAG_LEN]);
/*
 * Decrypt and authenticate n bytes of ct into out (n bytes). 0; -EBADMSG
 * when any byte of ct, tag, nonce or aad differs or the key is another (out
 * is then wiped); -EINVAL, -ENOMEM, -EIO.
 */
int crypto_gcm_open(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_NONCE_LEN],
		    const void *aad, size_t aad_len, const uint8_t *ct, size_t n,
		    const uint8_t tag[CRYPTO_TAG_LEN], uint8_t *out);
/* Fill buf with n random bytes. 0 or -EIO. */
int crypto_random(void *buf, size_t n);

/* --- passwords: Argon2id (libsodium crypto_pwhash_str) --- */

/*
 * Defaults: libsodium's "interactive" limits, 2 passes over 64 MiB, one
 * lane. Measured on the development VM (AMD EPYC, 2 vCPUs, libsodium
 * 1.0.18): 0.07 s per hash; "moderate" (3 passes over 256 MiB) took 0.5 s.
 * Interactive is above the OWASP minimum for Argon2id (19 MiB, 2 passes)
 * and keeps a login at 64 MiB, where moderate would let four concurrent
 * logins take a gigabyte. The login handler must still bound how many
 * hashes run at once (and rate-limit per account). test_srv_crypto prints
 * the time on the machine it runs on.
 */
#define PASSWORD_OPSLIMIT 2ULL		/* crypto_pwhash_OPSLIMIT_INTERACTIVE */
#define PASSWORD_MEMLIMIT (64ULL << 20) /* crypto_pwhash_MEMLIMIT_INTERACTIVE */
#define PASSWORD_MAX 1024		/* bytes; longer -> -E2BIG */
#define PASSWORD_HASH_SIZE 128		/* crypto_pwhash_STRBYTES, with the NUL */
#define PASSWORD_HASH_PREFIX "$argon2id$"

/*
 * Hash the NUL-terminated password pw with the default limits into out
 * ("$argon2id$v=19$m=...,t=...,p=1$salt$hash", NUL-terminated, random
 * salt). Length policy (minimum, character classes) is the caller's.
 * 0, -E2BIG (strlen(pw) > PASSWORD_MAX), -ENOMEM (library failure).
 */
int password_hash(const char *pw, char out[PASSWORD_HASH_SIZE]);
/* password_hash with explicit limits (tests, future tuning). -EINVAL when
 * they are outside libsodium's Argon2id bounds. */
int password_hash_params(const char *pw, unsigned long long opslimit, size_t memlimit,
			 char out[PASSWORD_HASH_SIZE]);

/*
 * Check pw against the stored hash string. 0 when it matches, -EACCES when
 * it does not, -E2BIG (pw over PASSWORD_MAX), -EINVAL (stored is not an
 * Argon2id string). Takes as long as the stored string's limits say.
 */
int password_verify(const char *stored, const char *pw);

/* 1 when stored was made with other limits than the defaults (rehash it
 * after a successful verify), 0 when current, -EINVAL when not Argon2id. */
int password_needs_rehash(const char *stored);

/* --- bearer tokens, device tokens, enrollment secrets --- */

/*
 * A token is a 4-byte prefix followed by 32 random bytes in base64url
 * without padding (43 characters): TOKEN_LEN = 47. Only its hash is stored:
 * SHA-256 of the whole token string, 64 lowercase hex digits.
 */
#define TOKEN_PREFIX_LEN 4
#define TOKEN_RANDOM_BYTES 32
#define TOKEN_B64_LEN 43
#define TOKEN_LEN (TOKEN_PREFIX_LEN + TOKEN_B64_LEN)
#define TOKEN_SIZE (TOKEN_LEN + 1)
#define TOKEN_HASH_LEN 64
#define TOKEN_HASH_SIZE (TOKEN_HASH_LEN + 1)
/* Longest string token_hash accepts (what a client presents is capped). */
#define TOKEN_INPUT_MAX 256

#define TOKEN_PREFIX_BEARER "alt_" /* users' and API bearer tokens */
#define TOKEN_PREFIX_DEVICE "ald_" /* device tokens */
#define TOKEN_PREFIX_ENROLL "ale_" /* team enrollment secrets */
/* users' personal API tokens (model/ptoken.h) */
#define TOKEN_PREFIX_PERSONAL "alp_"

/*
 * Make a new token with prefix (exactly TOKEN_PREFIX_LEN bytes of
 * [a-z0-9_], e.g. TOKEN_PREFIX_BEARER) into tok, and its storage hash into
 * hash. tok is shown to its owner once and then wiped (crypto_wipe); only
 * hash is stored. 0, -EINVAL (bad prefix), -EIO (no randomness).
 */
int token_new(const char *prefix, char tok[TOKEN_SIZE], char hash[TOKEN_HASH_SIZE]);

/*
 * The storage hash of a presented token string (any NUL-terminated string,
 * so a lookup by hash simply finds nothing for garbage) into hash.
 * 0, -E2BIG (longer than TOKEN_INPUT_MAX), -EIO.
 */
int token_hash(const char *tok, char hash[TOKEN_HASH_SIZE]);

/* 1 when tok has the token format with this prefix, 0 otherwise. */
int token_well_formed(const char *tok, const char *prefix);

/* Constant-time equality of two token hashes (TOKEN_HASH_LEN hex digits
 * each; shorter or longer strings are unequal). 1 equal, 0 not. */
int token_hash_eq(const char *a, const char *b);

#endif /* ACTLOG_CRYPTO_H */
