// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of server/keyprov.c (key files in a temporary directory) and
 * server/crypto.c (envelope encryption, passwords, tokens). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/crypto.h"
#include "core/keyprov.h"

/* --- helpers --- */

static char tmp_dir[64];
static char path_buf[128];

static void tmp_setup(void)
{
	check_mkdtemp(tmp_dir, sizeof(tmp_dir), "crypto");
}

static void tmp_cleanup(void)
{
	CHECK_EQ(check_rmtree(tmp_dir), 0);
}

static const char *tpath(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", tmp_dir, name);
	return path_buf;
}

/* Write text to tmp_dir/name with mode. */
static void put_file(const char *name, const char *text, mode_t mode)
{
	int fd = open(tpath(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("put_file");
		exit(2);
	}
	fchmod(fd, mode);
	close(fd);
}

static void fill_key(uint8_t *k, uint8_t v)
{
	for (int i = 0; i < CRYPTO_KEY_LEN; i++)
		k[i] = (uint8_t)(v + i);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* keyprov_file_open(path) and free what it returns; checks that a failed
 * open leaves no provider. Returns the result. */
static int try_open(const char *path, char *why, size_t why_len)
{
	struct keyprov *kp = (struct keyprov *)&why; /* must be overwritten */
	int r = keyprov_file_open(path, &kp, why, why_len);

	if (r < 0)
		CHECK(kp == NULL);
	else
		CHECK(kp != NULL);
	if (r == 0)
		keyprov_free(kp);
	return r;
}

/* Fast Argon2id limits for tests: the defaults cost ~64 MiB per hash. */
#define T_OPS 1ULL
#define T_MEM (64u << 10)

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* --- key provider --- */

TEST(keyfile_create_mode_0600)
{
	struct stat st;
	mode_t old = umask(0);

	CHECK_EQ(keyprov_file_create(tpath("k1")), 0);
	CHECK_EQ(stat(tpath("k1"), &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(st.st_size, KEYPROV_FILE_HEX_LEN + 1);
	/* a umask that takes the owner's write bit: still exactly 0600 */
	umask(0277);
	CHECK_EQ(keyprov_file_create(tpath("k2")), 0);
	CHECK_EQ(stat(tpath("k2"), &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	umask(old);
}

TEST(keyfile_create_refuses_overwrite)
{
	char before[256], after[256], target[128];
	FILE *f;
	size_t nb, na;

	/* k1 exists from the test above */
	f = fopen(tpath("k1"), "r");
	CHECK(f != NULL);
	nb = f ? fread(before, 1, sizeof(before), f) : 0;
	if (f)
		fclose(f);
	CHECK_EQ(keyprov_file_create(tpath("k1")), -EEXIST);
	f = fopen(tpath("k1"), "r");
	CHECK(f != NULL);
	na = f ? fread(after, 1, sizeof(after), f) : 0;
	if (f)
		fclose(f);
	CHECK_EQ(na, nb);
	CHECK(na == nb && memcmp(before, after, na) == 0);
	/* a dangling symlink is not followed */
	snprintf(target, sizeof(target), "%s/nowhere", tmp_dir);
	CHECK_EQ(symlink(target, tpath("link")), 0);
	CHECK_EQ(keyprov_file_create(tpath("link")), -EEXIST);
	CHECK(access(target, F_OK) < 0); /* nothing was created at the target */
}

TEST(keyfile_open_created_key)
{
	struct keyprov *a = NULL, *b = NULL, *c = NULL;
	uint8_t ka[KEK_LEN], kb[KEK_LEN], kc[KEK_LEN];
	char why[256];

	CHECK_EQ(keyprov_file_open(tpath("k1"), &a, why, sizeof(why)), 0);
	CHECK_EQ(keyprov_file_open(tpath("k1"), &b, why, sizeof(why)), 0);
	CHECK_EQ(keyprov_file_open(tpath("k2"), &c, why, sizeof(why)), 0);
	if (!a || !b || !c)
		goto out;
	CHECK_STR(keyprov_name(a), "file");
	CHECK(strncmp(keyprov_key_id(a), "file:", 5) == 0);
	CHECK_EQ(strlen(keyprov_key_id(a)), 5 + 16);
	CHECK_STR(keyprov_key_id(a), keyprov_key_id(b)); /* stable */
	CHECK(strcmp(keyprov_key_id(a), keyprov_key_id(c)) != 0);
	CHECK_EQ(keyprov_get_kek(a, ka), 0);
	CHECK_EQ(keyprov_get_kek(b, kb), 0);
	CHECK_EQ(keyprov_get_kek(c, kc), 0);
	CHECK(memcmp(ka, kb, KEK_LEN) == 0);
	CHECK(memcmp(ka, kc, KEK_LEN) != 0);
out:
	keyprov_free(a);
	keyprov_free(b);
	keyprov_free(c);
	keyprov_free(NULL);
}

TEST(keyfile_open_reads_hex)
{
	struct keyprov *kp = NULL;
	uint8_t k[KEK_LEN], want[KEK_LEN];

	fill_key(want, 0);
	put_file("k3", KEY_HEX, 0600); /* no newline is fine too */
	CHECK_EQ(keyprov_file_open(tpath("k3"), &kp, NULL, 0), 0);
	CHECK(kp != NULL);
	if (kp) {
		CHECK_EQ(keyprov_get_kek(kp, k), 0);
		CHECK(memcmp(k, want, KEK_LEN) == 0);
	}
	keyprov_free(kp);
	kp = NULL;
	put_file("nl", KEY_HEX "\n", 0400);
	CHECK_EQ(keyprov_file_open(tpath("nl"), &kp, NULL, 0), 0);
	keyprov_free(kp);
}

TEST(keyfile_open_refuses_0644)
{
	char why[256] = "";

	put_file("wide", KEY_HEX "\n", 0644);
	CHECK_EQ(try_open(tpath("wide"), why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "mode 0644") != NULL);
	chmod(tpath("wide"), 0620); /* group-writable only: refused too */
	CHECK_EQ(try_open(tpath("wide"), why, sizeof(why)), -EPERM);
	chmod(tpath("wide"), 0600);
	CHECK_EQ(try_open(tpath("wide"), why, sizeof(why)), 0);
}

TEST(keyfile_open_refuses_other_owner)
{
	char why[256] = "";

	if (geteuid() != 0) {
		printf("  (skipped: needs root to chown)\n");
		return;
	}
	put_file("other", KEY_HEX "\n", 0600);
	CHECK_EQ(chown(tpath("other"), 65534, 65534), 0);
	CHECK_EQ(try_open(tpath("other"), why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "owned by uid 65534") != NULL);
}

TEST(keyfile_open_refuses_bad_format)
{
	char why[256] = "";

	put_file("short", "0001020304\n", 0600);
	CHECK_EQ(try_open(tpath("short"), why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "64 hex digits") != NULL);
	put_file("long", KEY_HEX "00\n", 0600);
	CHECK_EQ(try_open(tpath("long"), why, sizeof(why)), -EINVAL);
	put_file("long", KEY_HEX "\n\n", 0600);
	CHECK_EQ(try_open(tpath("long"), why, sizeof(why)), -EINVAL);
	put_file("long", KEY_HEX " ", 0600);
	CHECK_EQ(try_open(tpath("long"), why, sizeof(why)), -EINVAL);
	put_file("nothex", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		 0600);
	CHECK_EQ(try_open(tpath("nothex"), why, sizeof(why)), -EINVAL);
	CHECK_EQ(try_open(tpath("absent"), why, sizeof(why)), -ENOENT);
	CHECK_EQ(try_open(tmp_dir, why, sizeof(why)), -EPERM); /* a directory */
	CHECK(strstr(why, "not a regular file") != NULL);
}

/* --- DEK wrapping --- */

TEST(dek_wrap_roundtrip)
{
	uint8_t kek[CRYPTO_KEY_LEN], dek[CRYPTO_KEY_LEN], got[CRYPTO_KEY_LEN];
	uint8_t blob[DEK_BLOB_MAX];
	char id[CRYPTO_ID_MAX + 1];
	size_t len = 0;

	fill_key(kek, 1);
	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(dek_wrap(kek, "file:0123456789abcdef", dek, blob, &len), 0);
	CHECK_EQ(len, DEK_BLOB_LEN(21));
	CHECK_EQ(blob[0], CRYPTO_BLOB_VERSION);
	CHECK_EQ(blob[1], 21);
	CHECK_EQ(crypto_blob_key_id(blob, len, id), 0);
	CHECK_STR(id, "file:0123456789abcdef");
	CHECK(memmem(blob, len, dek, sizeof(dek)) == NULL);
	CHECK_EQ(dek_unwrap(kek, blob, len, got), 0);
	CHECK(memcmp(dek, got, sizeof(dek)) == 0);
}

TEST(dek_new_random)
{
	uint8_t a[CRYPTO_KEY_LEN], b[CRYPTO_KEY_LEN], zero[CRYPTO_KEY_LEN] = {0};

	CHECK_EQ(dek_new(a), 0);
	CHECK_EQ(dek_new(b), 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(memcmp(a, zero, sizeof(a)) != 0);
}

TEST(dek_wrap_bad_id)
{
	uint8_t kek[CRYPTO_KEY_LEN] = {0}, dek[CRYPTO_KEY_LEN] = {0}, blob[DEK_BLOB_MAX];
	char long_id[CRYPTO_ID_MAX + 2];
	size_t len;

	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK_EQ(dek_wrap(kek, "", dek, blob, &len), -EINVAL);
	CHECK_EQ(dek_wrap(kek, "has space", dek, blob, &len), -EINVAL);
	CHECK_EQ(dek_wrap(kek, long_id, dek, blob, &len), -EINVAL);
	long_id[CRYPTO_ID_MAX] = '\0'; /* exactly the maximum is fine */
	CHECK_EQ(dek_wrap(kek, long_id, dek, blob, &len), 0);
	CHECK_EQ(len, DEK_BLOB_MAX);
}

TEST(dek_unwrap_wrong_kek)
{
	uint8_t kek[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN], dek[CRYPTO_KEY_LEN];
	uint8_t got[CRYPTO_KEY_LEN], zero[CRYPTO_KEY_LEN] = {0}, blob[DEK_BLOB_MAX];
	size_t len = 0;

	fill_key(kek, 1);
	fill_key(other, 2);
	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(dek_wrap(kek, "k1", dek, blob, &len), 0);
	memset(got, 0xaa, sizeof(got));
	CHECK_EQ(dek_unwrap(other, blob, len, got), -EBADMSG);
	CHECK(memcmp(got, zero, sizeof(got)) == 0); /* nothing leaks out */
}

TEST(dek_unwrap_every_byte_flip)
{
	uint8_t kek[CRYPTO_KEY_LEN], dek[CRYPTO_KEY_LEN], got[CRYPTO_KEY_LEN];
	uint8_t blob[DEK_BLOB_MAX];
	size_t len = 0, bad = 0;
	static const uint8_t masks[] = {0x01, 0x80, 0xff};

	fill_key(kek, 3);
	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(dek_wrap(kek, "kek-7", dek, blob, &len), 0);
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			blob[i] ^= masks[m];
			if (dek_unwrap(kek, blob, len, got) != -EBADMSG) {
				printf("  flip of byte %zu by 0x%02x was accepted\n", i, masks[m]);
				bad++;
			}
			blob[i] ^= masks[m];
		}
	}
	CHECK_EQ(bad, 0);
	/* truncated or extended blobs */
	CHECK_EQ(dek_unwrap(kek, blob, len - 1, got), -EBADMSG);
	CHECK_EQ(dek_unwrap(kek, blob, len + 1, got), -EBADMSG);
	CHECK_EQ(dek_unwrap(kek, blob, 0, got), -EBADMSG);
	/* and the untouched blob still opens */
	CHECK_EQ(dek_unwrap(kek, blob, len, got), 0);
	CHECK(memcmp(dek, got, sizeof(dek)) == 0);
}

TEST(dek_rewrap)
{
	uint8_t old_kek[CRYPTO_KEY_LEN], new_kek[CRYPTO_KEY_LEN], dek[CRYPTO_KEY_LEN];
	uint8_t got[CRYPTO_KEY_LEN], blob[DEK_BLOB_MAX], blob2[DEK_BLOB_MAX], *sealed = NULL,
									      *pt = NULL;
	size_t len = 0, len2 = 0, slen = 0, ptlen = 0;
	char id[CRYPTO_ID_MAX + 1];

	fill_key(old_kek, 10);
	fill_key(new_kek, 20);
	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(dek_wrap(old_kek, "old", dek, blob, &len), 0);
	CHECK_EQ(crypto_seal(dek, "dek1", "f|r:1", 5, "secret", 6, &sealed, &slen), 0);
	CHECK_EQ(crypto_rewrap(old_kek, new_kek, "new-key", blob, len, blob2, &len2), 0);
	CHECK_EQ(crypto_blob_key_id(blob2, len2, id), 0);
	CHECK_STR(id, "new-key");
	CHECK_EQ(dek_unwrap(old_kek, blob2, len2, got), -EBADMSG);
	CHECK_EQ(dek_unwrap(new_kek, blob2, len2, got), 0);
	CHECK(memcmp(dek, got, sizeof(dek)) == 0);
	/* values sealed before the rotation still open with the re-wrapped DEK */
	CHECK_EQ(crypto_open(got, "f|r:1", 5, sealed, slen, &pt, &ptlen), 0);
	CHECK(ptlen == 6 && pt && memcmp(pt, "secret", 6) == 0);
	/* rewrapping with the wrong old KEK fails and writes nothing usable */
	CHECK_EQ(crypto_rewrap(new_kek, old_kek, "x", blob, len, blob2, &len2), -EBADMSG);
	crypto_free(pt, ptlen);
	free(sealed);
}

/* --- sealed values --- */

TEST(seal_open_sizes)
{
	static const size_t sizes[] = {0, 1, 15, 16, 17, 4096, 1u << 20};
	uint8_t dek[CRYPTO_KEY_LEN], *blob, *pt, *in;
	size_t blen, ptlen;
	const char *aad = "config|node:123";

	CHECK_EQ(dek_new(dek), 0);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];

		in = malloc(n ? n : 1);
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(i * 7 + 3);
		blob = pt = NULL;
		CHECK_EQ(crypto_seal(dek, "d1", aad, strlen(aad), in, n, &blob, &blen), 0);
		CHECK_EQ(blen, SEAL_BLOB_LEN(2, n));
		CHECK_EQ(crypto_open(dek, aad, strlen(aad), blob, blen, &pt, &ptlen), 0);
		CHECK_EQ(ptlen, n);
		CHECK(pt != NULL && memcmp(pt, in, n) == 0);
		CHECK(pt != NULL && pt[n] == '\0');
		crypto_free(pt, ptlen);
		free(blob);
		free(in);
	}
	/* NULL plaintext of length 0 and no AAD */
	blob = NULL;
	CHECK_EQ(crypto_seal(dek, "d1", NULL, 0, NULL, 0, &blob, &blen), 0);
	CHECK_EQ(crypto_open(dek, NULL, 0, blob, blen, &pt, &ptlen), 0);
	CHECK_EQ(ptlen, 0);
	crypto_free(pt, ptlen);
	free(blob);
}

TEST(seal_caps)
{
	uint8_t dek[CRYPTO_KEY_LEN] = {0}, *blob = (uint8_t *)1;
	char aad[CRYPTO_AAD_MAX + 1];
	size_t blen = 1;

	memset(aad, 'a', sizeof(aad));
	CHECK_EQ(crypto_seal(dek, "d", "x", 1, "p", CRYPTO_SEAL_MAX + 1, &blob, &blen), -E2BIG);
	CHECK(blob == NULL && blen == 0);
	CHECK_EQ(crypto_seal(dek, "d", aad, sizeof(aad), "p", 1, &blob, &blen), -E2BIG);
	CHECK_EQ(crypto_seal(dek, "", "x", 1, "p", 1, &blob, &blen), -EINVAL);
	CHECK_EQ(crypto_seal(dek, NULL, "x", 1, "p", 1, &blob, &blen), -EINVAL);
}

TEST(open_wrong_aad)
{
	uint8_t dek[CRYPTO_KEY_LEN], *blob = NULL, *pt = (uint8_t *)1;
	size_t blen = 0, ptlen = 1;
	const char *aad = "config|node:123";

	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(crypto_seal(dek, "d1", aad, strlen(aad), "{\"a\":1}", 7, &blob, &blen), 0);
	/* moved to another record, another field, or no AAD at all */
	CHECK_EQ(crypto_open(dek, "config|node:124", 15, blob, blen, &pt, &ptlen), -EBADMSG);
	CHECK(pt == NULL && ptlen == 0);
	CHECK_EQ(crypto_open(dek, "s3cred|node:123", 15, blob, blen, &pt, &ptlen), -EBADMSG);
	CHECK_EQ(crypto_open(dek, aad, strlen(aad) - 1, blob, blen, &pt, &ptlen), -EBADMSG);
	CHECK_EQ(crypto_open(dek, NULL, 0, blob, blen, &pt, &ptlen), -EBADMSG);
	CHECK_EQ(crypto_open(dek, aad, strlen(aad), blob, blen, &pt, &ptlen), 0);
	crypto_free(pt, ptlen);
	free(blob);
}

TEST(open_wrong_dek)
{
	uint8_t dek[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN], *blob = NULL, *pt = NULL;
	size_t blen = 0, ptlen = 0;

	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(dek_new(other), 0);
	CHECK_EQ(crypto_seal(dek, "d1", "a", 1, "hello", 5, &blob, &blen), 0);
	CHECK_EQ(crypto_open(other, "a", 1, blob, blen, &pt, &ptlen), -EBADMSG);
	CHECK(pt == NULL);
	free(blob);
}

TEST(open_tampered)
{
	uint8_t dek[CRYPTO_KEY_LEN], *blob = NULL, *pt = NULL;
	size_t blen = 0, ptlen = 0, h = 2 + 2, bad = 0;
	const char *msg = "the quick brown fox jumps over the lazy dog";
	char id[CRYPTO_ID_MAX + 1];

	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(crypto_seal(dek, "d1", "r|f", 3, msg, strlen(msg), &blob, &blen), 0);
	CHECK_EQ(crypto_blob_key_id(blob, blen, id), 0);
	CHECK_STR(id, "d1");
	/* nonce, ciphertext and tag, one region at a time */
	blob[h] ^= 1; /* nonce */
	CHECK_EQ(crypto_open(dek, "r|f", 3, blob, blen, &pt, &ptlen), -EBADMSG);
	blob[h] ^= 1;
	blob[h + CRYPTO_NONCE_LEN + 5] ^= 1; /* ciphertext */
	CHECK_EQ(crypto_open(dek, "r|f", 3, blob, blen, &pt, &ptlen), -EBADMSG);
	blob[h + CRYPTO_NONCE_LEN + 5] ^= 1;
	blob[blen - 1] ^= 1; /* tag */
	CHECK_EQ(crypto_open(dek, "r|f", 3, blob, blen, &pt, &ptlen), -EBADMSG);
	blob[blen - 1] ^= 1;
	blob[2] ^= 0x20; /* DEK id "d1" -> "D1": relabelled */
	CHECK_EQ(crypto_open(dek, "r|f", 3, blob, blen, &pt, &ptlen), -EBADMSG);
	blob[2] ^= 0x20;
	/* and every other byte, every bit pattern of one byte */
	for (size_t i = 0; i < blen; i++) {
		blob[i] ^= 0xff;
		if (crypto_open(dek, "r|f", 3, blob, blen, &pt, &ptlen) != -EBADMSG)
			bad++;
		blob[i] ^= 0xff;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(crypto_open(dek, "r|f", 3, blob, blen - 1, &pt, &ptlen), -EBADMSG);
	CHECK_EQ(crypto_open(dek, "r|f", 3, blob, 2 + 2 + 12 + 15, &pt, &ptlen), -EBADMSG);
	CHECK_EQ(crypto_open(dek, "r|f", 3, blob, blen, &pt, &ptlen), 0);
	CHECK(pt && ptlen == strlen(msg) && memcmp(pt, msg, ptlen) == 0);
	crypto_free(pt, ptlen);
	free(blob);
}

TEST(seal_nonce_differs)
{
	uint8_t dek[CRYPTO_KEY_LEN], *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0, h = 2 + 2;

	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(crypto_seal(dek, "d1", "x", 1, "same plaintext", 14, &a, &alen), 0);
	CHECK_EQ(crypto_seal(dek, "d1", "x", 1, "same plaintext", 14, &b, &blen), 0);
	CHECK_EQ(alen, blen);
	CHECK(a && b && memcmp(a, b, alen) != 0);
	CHECK(a && b && memcmp(a + h, b + h, CRYPTO_NONCE_LEN) != 0);
	CHECK(a && b && memcmp(a + h + CRYPTO_NONCE_LEN, b + h + CRYPTO_NONCE_LEN, 14) != 0);
	free(a);
	free(b);
}

TEST(seal_hides_plaintext)
{
	uint8_t dek[CRYPTO_KEY_LEN], *blob = NULL;
	size_t blen = 0;
	const char *secret = "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	char doc[4096];

	snprintf(doc, sizeof(doc), "{\"s3\":{\"key\":\"%s\",\"bucket\":\"shots\"}}", secret);
	CHECK_EQ(dek_new(dek), 0);
	CHECK_EQ(crypto_seal(dek, "d1", "s3|team:9", 9, doc, strlen(doc), &blob, &blen), 0);
	CHECK(blob != NULL);
	CHECK(memmem(blob, blen, secret, strlen(secret)) == NULL);
	CHECK(memmem(blob, blen, "AKIA", 4) == NULL);
	CHECK(memmem(blob, blen, "bucket", 6) == NULL);
	CHECK(memmem(blob, blen, dek, sizeof(dek)) == NULL);
	free(blob);
}

TEST(blob_key_id_malformed)
{
	uint8_t b[80] = {0};
	char id[CRYPTO_ID_MAX + 1];

	CHECK_EQ(crypto_blob_key_id(b, 0, id), -EBADMSG);
	b[0] = 2; /* unknown version */
	b[1] = 1;
	b[2] = 'k';
	CHECK_EQ(crypto_blob_key_id(b, sizeof(b), id), -EBADMSG);
	b[0] = 1;
	CHECK_EQ(crypto_blob_key_id(b, sizeof(b), id), 0);
	CHECK_STR(id, "k");
	b[1] = CRYPTO_ID_MAX + 1;
	CHECK_EQ(crypto_blob_key_id(b, sizeof(b), id), -EBADMSG);
	b[1] = 1;
	b[2] = ' ';
	CHECK_EQ(crypto_blob_key_id(b, sizeof(b), id), -EBADMSG);
	b[2] = 'k';
	CHECK_EQ(crypto_blob_key_id(b, 2 + 1 + 12 + 15, id), -EBADMSG); /* no room for a tag */
}

/* --- passwords --- */

TEST(password_hash_verify)
{
	char h[PASSWORD_HASH_SIZE], h2[PASSWORD_HASH_SIZE];

	CHECK_EQ(password_hash_params("correct horse battery staple", T_OPS, T_MEM, h), 0);
	CHECK(strncmp(h, "$argon2id$", 10) == 0);
	CHECK_EQ(password_verify(h, "correct horse battery staple"), 0);
	/* same password, new salt */
	CHECK_EQ(password_hash_params("correct horse battery staple", T_OPS, T_MEM, h2), 0);
	CHECK(strcmp(h, h2) != 0);
	CHECK_EQ(password_verify(h2, "correct horse battery staple"), 0);
}

TEST(password_wrong)
{
	char h[PASSWORD_HASH_SIZE];

	CHECK_EQ(password_hash_params("hunter2", T_OPS, T_MEM, h), 0);
	CHECK_EQ(password_verify(h, "hunter3"), -EACCES);
	CHECK_EQ(password_verify(h, "hunter"), -EACCES);
	CHECK_EQ(password_verify(h, ""), -EACCES);
	CHECK_EQ(password_verify(h, "Hunter2"), -EACCES);
	CHECK_EQ(password_verify("$argon2i$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", "hunter2"), -EINVAL);
	CHECK_EQ(password_verify("plain", "plain"), -EINVAL);
}

TEST(password_overlong)
{
	char pw[PASSWORD_MAX + 2], h[PASSWORD_HASH_SIZE];

	memset(pw, 'p', sizeof(pw) - 1);
	pw[PASSWORD_MAX + 1] = '\0';
	CHECK_EQ(password_hash_params(pw, T_OPS, T_MEM, h), -E2BIG);
	CHECK_EQ(password_hash(pw, h), -E2BIG);
	pw[PASSWORD_MAX] = '\0'; /* exactly the cap is accepted */
	CHECK_EQ(password_hash_params(pw, T_OPS, T_MEM, h), 0);
	CHECK_EQ(password_verify(h, pw), 0);
	pw[PASSWORD_MAX] = 'p';
	CHECK_EQ(password_verify(h, pw), -E2BIG);
}

TEST(password_bad_params)
{
	char h[PASSWORD_HASH_SIZE];

	CHECK_EQ(password_hash_params("pw", 0, T_MEM, h), -EINVAL);
	CHECK_EQ(password_hash_params("pw", T_OPS, 1024, h), -EINVAL);
}

TEST(password_default_and_rehash)
{
	char fast[PASSWORD_HASH_SIZE], def[PASSWORD_HASH_SIZE];
	double t0, t1;

	CHECK_EQ(password_hash_params("pw", T_OPS, T_MEM, fast), 0);
	CHECK_EQ(password_needs_rehash(fast), 1);
	t0 = now_s();
	CHECK_EQ(password_hash("pw", def), 0);
	t1 = now_s();
	printf("  password_hash (t=%llu, m=%llu MiB): %.3f s\n", PASSWORD_OPSLIMIT,
	       PASSWORD_MEMLIMIT >> 20, t1 - t0);
	CHECK(strncmp(def, "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0);
	CHECK_EQ(password_needs_rehash(def), 0);
	CHECK_EQ(password_verify(def, "pw"), 0);
	CHECK_EQ(password_needs_rehash("not a hash"), -EINVAL);
}

/* --- tokens --- */

TEST(token_format)
{
	char tok[TOKEN_SIZE], hash[TOKEN_HASH_SIZE];
	static const char *prefixes[] = {TOKEN_PREFIX_BEARER, TOKEN_PREFIX_DEVICE,
					 TOKEN_PREFIX_ENROLL};

	for (size_t p = 0; p < 3; p++) {
		CHECK_EQ(token_new(prefixes[p], tok, hash), 0);
		CHECK_EQ(strlen(tok), 47);
		CHECK(strncmp(tok, prefixes[p], 4) == 0);
		CHECK_EQ(strspn(tok + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789-_"),
			 43);
		CHECK(token_well_formed(tok, prefixes[p]));
		CHECK(!token_well_formed(tok, prefixes[(p + 1) % 3]));
		CHECK_EQ(strlen(hash), 64);
		CHECK_EQ(strspn(hash, "0123456789abcdef"), 64);
	}
	CHECK(!token_well_formed("alt_short", "alt_"));
	CHECK(!token_well_formed("alt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+", "alt_"));
	CHECK(!token_well_formed("alt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", "alt_"));
	CHECK(token_well_formed("alt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE", "alt_"));
	CHECK_EQ(token_new("alt", tok, hash), -EINVAL);
	CHECK_EQ(token_new("ALT_", tok, hash), -EINVAL);
	CHECK_EQ(token_new("alt__", tok, hash), -EINVAL);
}

TEST(token_unique)
{
	char a[TOKEN_SIZE], b[TOKEN_SIZE], ha[TOKEN_HASH_SIZE], hb[TOKEN_HASH_SIZE];

	CHECK_EQ(token_new(TOKEN_PREFIX_BEARER, a, ha), 0);
	CHECK_EQ(token_new(TOKEN_PREFIX_BEARER, b, hb), 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(strcmp(ha, hb) != 0);
	CHECK(!token_hash_eq(ha, hb));
}

TEST(token_hash_stable)
{
	char tok[TOKEN_SIZE], h1[TOKEN_HASH_SIZE], h2[TOKEN_HASH_SIZE], h3[TOKEN_HASH_SIZE];
	char big[TOKEN_INPUT_MAX + 2];

	CHECK_EQ(token_new(TOKEN_PREFIX_DEVICE, tok, h1), 0);
	CHECK_EQ(token_hash(tok, h2), 0);
	CHECK_STR(h1, h2);
	CHECK(token_hash_eq(h1, h2));
	/* the hash is of the whole string: SHA-256("abc") */
	CHECK_EQ(token_hash("abc", h3), 0);
	CHECK_STR(h3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* one character changed: another hash */
	tok[10] = tok[10] == 'A' ? 'B' : 'A';
	CHECK_EQ(token_hash(tok, h3), 0);
	CHECK(strcmp(h1, h3) != 0);
	/* same random part under another prefix: another hash */
	tok[10] = tok[10] == 'A' ? 'B' : 'A';
	memcpy(tok, TOKEN_PREFIX_BEARER, TOKEN_PREFIX_LEN);
	CHECK_EQ(token_hash(tok, h3), 0);
	CHECK(strcmp(h1, h3) != 0);
	CHECK(!token_hash_eq(h1, "abc"));
	CHECK(!token_hash_eq(h1, NULL));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(token_hash(big, h3), -E2BIG);
}

TEST(ct_eq)
{
	CHECK_EQ(crypto_ct_eq("abcd", "abcd", 4), 1);
	CHECK_EQ(crypto_ct_eq("abcd", "abce", 4), 0);
	CHECK_EQ(crypto_ct_eq("xbcd", "abcd", 4), 0);
}

int main(void)
{
	/* line-buffered: the PASS/FAIL lines survive a sanitizer abort */
	setvbuf(stdout, NULL, _IOLBF, 0);
	tmp_setup();
	RUN(keyfile_create_mode_0600);
	RUN(keyfile_create_refuses_overwrite);
	RUN(keyfile_open_created_key);
	RUN(keyfile_open_reads_hex);
	RUN(keyfile_open_refuses_0644);
	RUN(keyfile_open_refuses_other_owner);
	RUN(keyfile_open_refuses_bad_format);
	RUN(dek_wrap_roundtrip);
	RUN(dek_new_random);
	RUN(dek_wrap_bad_id);
	RUN(dek_unwrap_wrong_kek);
	RUN(dek_unwrap_every_byte_flip);
	RUN(dek_rewrap);
	RUN(seal_open_sizes);
	RUN(seal_caps);
	RUN(open_wrong_aad);
	RUN(open_wrong_dek);
	RUN(open_tampered);
	RUN(seal_nonce_differs);
	RUN(seal_hides_plaintext);
	RUN(blob_key_id_malformed);
	RUN(password_hash_verify);
	RUN(password_wrong);
	RUN(password_overlong);
	RUN(password_bad_params);
	RUN(password_default_and_rehash);
	RUN(token_format);
	RUN(token_unique);
	RUN(token_hash_stable);
	RUN(ct_eq);
	tmp_cleanup();
	return CHECK_DONE();
}
