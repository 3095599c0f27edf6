// SPDX-License-Identifier: BSD-2-Clause
/*
 * crypto.c - envelope encryption, password hashing and tokens. Formats and
 * contracts: crypto.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>

#include "core/crypto.h"

#define DEK_LABEL "actlog-dek"
#define VAL_LABEL "actlog-val"
#define HDR_LEN(k) (2 + (k))

_Static_assert(PASSWORD_HASH_SIZE == crypto_pwhash_argon2id_STRBYTES, "hash string size");
_Static_assert(TOKEN_B64_LEN + 1 ==
		   sodium_base64_ENCODED_LEN(TOKEN_RANDOM_BYTES,
					     sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	       "token length");
_Static_assert(CRYPTO_SEAL_MAX < INT_MAX && CRYPTO_AAD_MAX < INT_MAX, "EVP takes int lengths");
_Static_assert(CRYPTO_ID_MAX <= UINT8_MAX, "id length is one byte");
_Static_assert(PASSWORD_OPSLIMIT == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE &&
		   PASSWORD_MEMLIMIT == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
	       "documented as libsodium's interactive limits");
_Static_assert(PASSWORD_MAX <= crypto_pwhash_argon2id_PASSWD_MAX, "password cap");

/* One piece of additional authenticated data. */
struct span {
	const void *p;
	size_t n;
};

void crypto_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

void crypto_free(void *p, size_t n)
{
	if (!p)
		return;
	crypto_wipe(p, n);
	free(p);
}

int crypto_ct_eq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* Length of id when it is a valid key id, else 0. */
static size_t id_len(const char *id)
{
	size_t n;

	if (!id)
		return 0;
	n = strnlen(id, CRYPTO_ID_MAX + 1);
	if (n == 0 || n > CRYPTO_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (id[i] < 0x21 || id[i] > 0x7e)
			return 0;
	return n;
}

/* Write the shared blob header (version, id length, id). Returns its size. */
static size_t put_header(uint8_t *out, const char *id, size_t k)
{
	out[0] = CRYPTO_BLOB_VERSION;
	out[1] = (uint8_t)k;
	memcpy(out + 2, id, k);
	return HDR_LEN(k);
}

/* Check the shared header and the minimum size (header + nonce + body_min +
 * tag). Returns the header size, or 0 when malformed. */
static size_t check_header(const uint8_t *blob, size_t len, size_t body_min)
{
	size_t k;

	if (!blob || len < 2 || blob[0] != CRYPTO_BLOB_VERSION)
		return 0;
	k = blob[1];
	if (k == 0 || k > CRYPTO_ID_MAX)
		return 0;
	if (len < HDR_LEN(k) + CRYPTO_NONCE_LEN + body_min + CRYPTO_TAG_LEN)
		return 0;
	return HDR_LEN(k);
}

/* AES-256-GCM encryption of n bytes in -> ct, tag. 0, -ENOMEM or -EIO. */
static int gcm_seal(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_NONCE_LEN],
		    const struct span *aad, size_t naad, const uint8_t *in, size_t n, uint8_t *ct,
		    uint8_t tag[CRYPTO_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl, err = -EIO;

	if (!ctx)
		return -ENOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
		goto out;
	for (size_t i = 0; i < naad; i++)
		if (aad[i].n && EVP_EncryptUpdate(ctx, NULL, &outl, aad[i].p, (int)aad[i].n) != 1)
			goto out;
	if (n && (EVP_EncryptUpdate(ctx, ct, &outl, in, (int)n) != 1 || (size_t)outl != n))
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + n, &outl) != 1 || outl != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN, tag) != 1)
		goto out;
	err = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

/* AES-256-GCM decryption of n bytes ct -> out, checking tag. On -EBADMSG
 * (authentication failed) out is wiped. 0, -EBADMSG, -ENOMEM or -EIO. */
static int gcm_open(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_NONCE_LEN],
		    const struct span *aad, size_t naad, const uint8_t *ct, size_t n,
		    const uint8_t tag[CRYPTO_TAG_LEN], uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t tagbuf[CRYPTO_TAG_LEN];
	int outl, err = -EIO;

	if (!ctx)
		return -ENOMEM;
	memcpy(tagbuf, tag, sizeof(tagbuf));
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
		goto out;
	for (size_t i = 0; i < naad; i++)
		if (aad[i].n && EVP_DecryptUpdate(ctx, NULL, &outl, aad[i].p, (int)aad[i].n) != 1)
			goto out;
	if (n && (EVP_DecryptUpdate(ctx, out, &outl, ct, (int)n) != 1 || (size_t)outl != n))
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN, tagbuf) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, out + n, &outl) != 1) {
		err = -EBADMSG;
		goto out;
	}
	err = 0;
out:
	if (err)
		crypto_wipe(out, n);
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int crypto_gcm_seal(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_NONCE_LEN],
		    const void *aad, size_t aad_len, const void *pt, size_t n, uint8_t *ct,
		    uint8_t tag[CRYPTO_TAG_LEN])
{
	struct span a = {aad, aad_len};

	if (n > INT_MAX || aad_len > INT_MAX || (!pt && n) || (!aad && aad_len))
		return -EINVAL;
	return gcm_seal(key, nonce, &a, 1, pt, n, ct, tag);
}

int crypto_gcm_open(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t nonce[CRYPTO_NONCE_LEN],
		    const void *aad, size_t aad_len, const uint8_t *ct, size_t n,
		    const uint8_t tag[CRYPTO_TAG_LEN], uint8_t *out)
{
	struct span a = {aad, aad_len};

	if (n > INT_MAX || aad_len > INT_MAX || (!ct && n) || (!aad && aad_len))
		return -EINVAL;
	return gcm_open(key, nonce, &a, 1, ct, n, tag, out);
}

int crypto_random(void *buf, size_t n)
{
	return n > INT_MAX || RAND_bytes(buf, (int)n) != 1 ? -EIO : 0;
}

/* --- DEKs --- */

int dek_new(uint8_t dek[CRYPTO_KEY_LEN])
{
	if (RAND_bytes(dek, CRYPTO_KEY_LEN) != 1) {
		crypto_wipe(dek, CRYPTO_KEY_LEN);
		return -EIO;
	}
	return 0;
}

int dek_wrap(const uint8_t kek[CRYPTO_KEY_LEN], const char *kek_id,
	     const uint8_t dek[CRYPTO_KEY_LEN], uint8_t *out, size_t *out_len)
{
	size_t k = id_len(kek_id), h;
	struct span aad[2];
	uint8_t *nonce;
	int err;

	if (!k)
		return -EINVAL;
	h = put_header(out, kek_id, k);
	nonce = out + h;
	if (RAND_bytes(nonce, CRYPTO_NONCE_LEN) != 1)
		return -EIO;
	aad[0] = (struct span){DEK_LABEL, strlen(DEK_LABEL)};
	aad[1] = (struct span){out, h};
	err = gcm_seal(kek, nonce, aad, 2, dek, CRYPTO_KEY_LEN, nonce + CRYPTO_NONCE_LEN,
		       nonce + CRYPTO_NONCE_LEN + CRYPTO_KEY_LEN);
	if (err) {
		crypto_wipe(out, DEK_BLOB_LEN(k));
		return err;
	}
	*out_len = DEK_BLOB_LEN(k);
	return 0;
}

int dek_unwrap(const uint8_t kek[CRYPTO_KEY_LEN], const uint8_t *blob, size_t blob_len,
	       uint8_t dek[CRYPTO_KEY_LEN])
{
	size_t h = check_header(blob, blob_len, CRYPTO_KEY_LEN);
	const uint8_t *nonce;
	struct span aad[2];

	if (!h || blob_len != DEK_BLOB_LEN(h - 2)) {
		crypto_wipe(dek, CRYPTO_KEY_LEN);
		return -EBADMSG;
	}
	nonce = blob + h;
	aad[0] = (struct span){DEK_LABEL, strlen(DEK_LABEL)};
	aad[1] = (struct span){blob, h};
	return gcm_open(kek, nonce, aad, 2, nonce + CRYPTO_NONCE_LEN, CRYPTO_KEY_LEN,
			nonce + CRYPTO_NONCE_LEN + CRYPTO_KEY_LEN, dek);
}

int crypto_rewrap(const uint8_t old_kek[CRYPTO_KEY_LEN], const uint8_t new_kek[CRYPTO_KEY_LEN],
		  const char *new_kek_id, const uint8_t *blob, size_t blob_len, uint8_t *out,
		  size_t *out_len)
{
	uint8_t dek[CRYPTO_KEY_LEN];
	int err;

	err = dek_unwrap(old_kek, blob, blob_len, dek);
	if (err)
		goto out;
	err = dek_wrap(new_kek, new_kek_id, dek, out, out_len);
out:
	crypto_wipe(dek, sizeof(dek));
	return err;
}

int crypto_blob_key_id(const uint8_t *blob, size_t blob_len, char *id)
{
	size_t h = check_header(blob, blob_len, 0), k;

	id[0] = '\0';
	if (!h)
		return -EBADMSG;
	k = h - 2;
	for (size_t i = 0; i < k; i++)
		if (blob[2 + i] < 0x21 || blob[2 + i] > 0x7e)
			return -EBADMSG;
	memcpy(id, blob + 2, k);
	id[k] = '\0';
	return 0;
}

/* --- values --- */

int crypto_seal(const uint8_t dek[CRYPTO_KEY_LEN], const char *dek_id, const void *aad,
		size_t aad_len, const void *pt, size_t pt_len, uint8_t **blob, size_t *blob_len)
{
	size_t d = id_len(dek_id), h, len;
	struct span spans[3];
	uint8_t *b = NULL, *nonce;
	int err;

	*blob = NULL;
	*blob_len = 0;
	if (!d)
		return -EINVAL;
	if (pt_len > CRYPTO_SEAL_MAX || aad_len > CRYPTO_AAD_MAX)
		return -E2BIG;
	len = SEAL_BLOB_LEN(d, pt_len);
	b = malloc(len);
	if (!b)
		return -ENOMEM;
	h = put_header(b, dek_id, d);
	nonce = b + h;
	if (RAND_bytes(nonce, CRYPTO_NONCE_LEN) != 1) {
		err = -EIO;
		goto out;
	}
	spans[0] = (struct span){VAL_LABEL, strlen(VAL_LABEL)};
	spans[1] = (struct span){b, h};
	spans[2] = (struct span){aad, aad_len};
	err = gcm_seal(dek, nonce, spans, 3, pt, pt_len, nonce + CRYPTO_NONCE_LEN,
		       nonce + CRYPTO_NONCE_LEN + pt_len);
	if (err)
		goto out;
	*blob = b;
	*blob_len = len;
	b = NULL;
out:
	free(b); /* holds no plaintext: only ciphertext is ever written to it */
	return err;
}

int crypto_open(const uint8_t dek[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
		const uint8_t *blob, size_t blob_len, uint8_t **pt, size_t *pt_len)
{
	size_t h = check_header(blob, blob_len, 0), n;
	const uint8_t *nonce;
	struct span spans[3];
	uint8_t *out = NULL;
	int err;

	*pt = NULL;
	*pt_len = 0;
	if (aad_len > CRYPTO_AAD_MAX)
		return -E2BIG;
	if (!h)
		return -EBADMSG;
	n = blob_len - h - CRYPTO_NONCE_LEN - CRYPTO_TAG_LEN;
	if (n > CRYPTO_SEAL_MAX)
		return -E2BIG;
	out = malloc(n + 1);
	if (!out)
		return -ENOMEM;
	nonce = blob + h;
	spans[0] = (struct span){VAL_LABEL, strlen(VAL_LABEL)};
	spans[1] = (struct span){blob, h};
	spans[2] = (struct span){aad, aad_len};
	err = gcm_open(dek, nonce, spans, 3, nonce + CRYPTO_NONCE_LEN, n,
		       nonce + CRYPTO_NONCE_LEN + n, out);
	if (err)
		goto out;
	out[n] = '\0';
	*pt = out;
	*pt_len = n;
	out = NULL;
out:
	crypto_free(out, n + 1);
	return err;
}

/* --- passwords --- */

/* strlen(pw) when within PASSWORD_MAX, else -E2BIG. */
static long pw_len(const char *pw)
{
	size_t n = strnlen(pw, PASSWORD_MAX + 1);

	return n > PASSWORD_MAX ? -E2BIG : (long)n;
}

/* 1 when s looks like an Argon2id string of ours (prefix, fits the size). */
static int is_argon2id(const char *s)
{
	return s && strncmp(s, PASSWORD_HASH_PREFIX, strlen(PASSWORD_HASH_PREFIX)) == 0 &&
	       strnlen(s, PASSWORD_HASH_SIZE) < PASSWORD_HASH_SIZE;
}

int password_hash_params(const char *pw, unsigned long long opslimit, size_t memlimit,
			 char out[PASSWORD_HASH_SIZE])
{
	long n = pw_len(pw);

	out[0] = '\0';
	if (n < 0)
		return (int)n;
	if (opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
	    memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
	    memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	if (crypto_pwhash_argon2id_str(out, pw, (unsigned long long)n, opslimit, memlimit) != 0) {
		out[0] = '\0';
		return -ENOMEM; /* the only runtime failure: the memlimit allocation */
	}
	return 0;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_SIZE])
{
	return password_hash_params(pw, PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT, out);
}

int password_verify(const char *stored, const char *pw)
{
	long n = pw_len(pw);

	if (n < 0)
		return (int)n;
	if (!is_argon2id(stored))
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	if (crypto_pwhash_argon2id_str_verify(stored, pw, (unsigned long long)n) != 0)
		return -EACCES;
	return 0;
}

int password_needs_rehash(const char *stored)
{
	int r;

	if (!is_argon2id(stored))
		return -EINVAL;
	r = crypto_pwhash_argon2id_str_needs_rehash(stored, PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT);
	if (r < 0)
		return -EINVAL;
	return r ? 1 : 0;
}

/* --- tokens --- */

static int prefix_ok(const char *prefix)
{
	if (!prefix || strnlen(prefix, TOKEN_PREFIX_LEN + 1) != TOKEN_PREFIX_LEN)
		return 0;
	for (size_t i = 0; i < TOKEN_PREFIX_LEN; i++) {
		char c = prefix[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

int token_hash(const char *tok, char hash[TOKEN_HASH_SIZE])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	size_t n = strnlen(tok, TOKEN_INPUT_MAX + 1);

	hash[0] = '\0';
	if (n > TOKEN_INPUT_MAX)
		return -E2BIG;
	if (EVP_Digest(tok, n, md, &md_len, EVP_sha256(), NULL) != 1 ||
	    md_len * 2 != TOKEN_HASH_LEN)
		return -EIO;
	sodium_bin2hex(hash, TOKEN_HASH_SIZE, md, md_len);
	return 0;
}

int token_new(const char *prefix, char tok[TOKEN_SIZE], char hash[TOKEN_HASH_SIZE])
{
	uint8_t rnd[TOKEN_RANDOM_BYTES];
	int err;

	tok[0] = '\0';
	hash[0] = '\0';
	if (!prefix_ok(prefix))
		return -EINVAL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		err = -EIO;
		goto out;
	}
	memcpy(tok, prefix, TOKEN_PREFIX_LEN);
	sodium_bin2base64(tok + TOKEN_PREFIX_LEN, TOKEN_B64_LEN + 1, rnd, sizeof(rnd),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	err = token_hash(tok, hash);
	if (err)
		crypto_wipe(tok, TOKEN_SIZE);
out:
	crypto_wipe(rnd, sizeof(rnd));
	return err;
}

int token_well_formed(const char *tok, const char *prefix)
{
	if (!tok || !prefix_ok(prefix) || strnlen(tok, TOKEN_SIZE) != TOKEN_LEN ||
	    memcmp(tok, prefix, TOKEN_PREFIX_LEN) != 0)
		return 0;
	for (size_t i = TOKEN_PREFIX_LEN; i < TOKEN_LEN; i++) {
		char c = tok[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	/* 32 bytes = 256 bits in 43 characters: the last one carries 4 bits, so
	 * its low 2 bits are 0 in a canonical encoding. */
	return (strchr("AEIMQUYcgkosw048", tok[TOKEN_LEN - 1]) != NULL);
}

int token_hash_eq(const char *a, const char *b)
{
	if (!a || !b || strnlen(a, TOKEN_HASH_SIZE) != TOKEN_HASH_LEN ||
	    strnlen(b, TOKEN_HASH_SIZE) != TOKEN_HASH_LEN)
		return 0;
	return crypto_ct_eq(a, b, TOKEN_HASH_LEN);
}
