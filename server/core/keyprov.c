// SPDX-License-Identifier: BSD-2-Clause
/*
 * keyprov.c - KEK providers: the common calls and the local key-file engine
 * (the aws-sm engine is keyprov_aws.c).
 * Formats and contracts: keyprov.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sodium.h>

#include "core/keyprov.h"
#include "util.h"

/* Largest key file we read: anything longer is not the format. */
#define KEYFILE_READ_MAX 128
#define KEY_ID_LABEL "actlog-kek-id"
#define KEY_ID_HASH_BYTES 8

int keyprov_get_kek(const struct keyprov *kp, uint8_t kek[KEK_LEN])
{
	if (!kp || !kp->ops || !kp->ops->get_kek)
		return -EINVAL;
	return kp->ops->get_kek(kp, kek);
}

const char *keyprov_key_id(const struct keyprov *kp)
{
	return kp->key_id;
}

const char *keyprov_name(const struct keyprov *kp)
{
	return kp->ops->name;
}

void keyprov_free(struct keyprov *kp)
{
	struct keyprov *next;

	while (kp) {
		next = kp->next;
		if (kp->ops && kp->ops->destroy)
			kp->ops->destroy(kp);
		OPENSSL_cleanse(kp, sizeof(*kp));
		free(kp);
		kp = next;
	}
}

/* --- the key ring --- */

int keyprov_id_eq(const char *a, const char *b)
{
	const char *ha = strchr(a, ':'), *hb = strchr(b, ':');

	if (!strcmp(a, b))
		return 1;
	return ha && hb && ha[1] && !strcmp(ha + 1, hb + 1);
}

/* The ring's key of id (keyprov_id_eq), or NULL. */
static const struct keyprov *ring_find(const struct keyprov *kp, const char *id)
{
	for (; kp; kp = kp->next)
		if (keyprov_id_eq(kp->key_id, id))
			return kp;
	return NULL;
}

int keyprov_ring_add(struct keyprov *kp, struct keyprov *other)
{
	struct keyprov *o, *next, *tail;
	size_t n = 0, add = 0;

	for (tail = kp; tail; tail = tail->next) {
		n++;
		if (!tail->next)
			break;
	}
	for (o = other; o; o = o->next)
		if (!ring_find(kp, o->key_id))
			add++;
	if (n + add > KEYPROV_RING_MAX) {
		keyprov_free(other);
		return -E2BIG;
	}
	for (o = other; o; o = next) {
		next = o->next;
		o->next = NULL;
		if (ring_find(kp, o->key_id)) {
			keyprov_free(o);
			continue;
		}
		tail->next = o;
		tail = o;
	}
	return 0;
}

int keyprov_get_kek_by_id(const struct keyprov *kp, const char *id, uint8_t kek[KEK_LEN])
{
	const struct keyprov *k = id ? ring_find(kp, id) : NULL;

	if (!k)
		return -ENOKEY;
	return keyprov_get_kek(k, kek);
}

int keyprov_has(const struct keyprov *kp, const char *id)
{
	return id && ring_find(kp, id) != NULL;
}

size_t keyprov_ids(const struct keyprov *kp, const char **ids, size_t max)
{
	size_t n = 0;

	for (; kp; kp = kp->next, n++)
		if (n < max)
			ids[n] = kp->key_id;
	return n;
}

/* --- engines that hold the key in memory (file, aws-sm) --- */

struct mem_priv {
	uint8_t kek[KEK_LEN];
};

int keyprov_mem_get_kek(const struct keyprov *kp, uint8_t kek[KEK_LEN])
{
	const struct mem_priv *mp = kp->priv;

	memcpy(kek, mp->kek, KEK_LEN);
	return 0;
}

void keyprov_mem_destroy(struct keyprov *kp)
{
	struct mem_priv *mp = kp->priv;

	if (mp) {
		OPENSSL_cleanse(mp, sizeof(*mp));
		free(mp);
	}
	kp->priv = NULL;
}

/* --- file engine --- */

static const struct keyprov_ops file_ops = {
    .name = "file",
    .get_kek = keyprov_mem_get_kek,
    .destroy = keyprov_mem_destroy,
};

/* Write key in the key-file format to a new file at path (the rules of
 * keyprov_file_create). 0 or -errno. */
static int key_file_write(const char *path, const uint8_t key[KEK_LEN])
{
	char text[KEYPROV_FILE_HEX_LEN + 2]; /* hex, "\n", NUL from bin2hex */
	int fd = -1, err = 0, created = 0;

	sodium_bin2hex(text, sizeof(text) - 1, key, KEK_LEN);
	text[KEYPROV_FILE_HEX_LEN] = '\n';

	do
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	created = 1;
	/* The umask may have removed bits from 0600: the mode is exactly 0600. */
	if (fchmod(fd, 0600) < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, text, KEYPROV_FILE_HEX_LEN + 1);
	if (err)
		goto out;
	if (fsync(fd) < 0) {
		err = -errno;
		goto out;
	}
	err = fsync_parent(path);
out:
	if (fd >= 0 && close(fd) < 0 && !err)
		err = -errno;
	if (err && created)
		unlink(path);
	OPENSSL_cleanse(text, sizeof(text));
	return err;
}

int keyprov_file_create(const char *path)
{
	uint8_t key[KEK_LEN];
	int err = -EIO;

	if (RAND_bytes(key, sizeof(key)) == 1)
		err = key_file_write(path, key);
	OPENSSL_cleanse(key, sizeof(key));
	return err;
}

int keyprov_file_write(const struct keyprov *kp, const char *path)
{
	uint8_t key[KEK_LEN];
	int err = keyprov_get_kek(kp, key);

	if (!err)
		err = key_file_write(path, key);
	OPENSSL_cleanse(key, sizeof(key));
	return err;
}

/* Parse the key-file text (len bytes, no NUL needed) into key. 0 or -EINVAL. */
static int parse_key_text(const char *text, size_t len, uint8_t key[KEK_LEN])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len == KEYPROV_FILE_HEX_LEN + 1 && text[KEYPROV_FILE_HEX_LEN] == '\n')
		len--;
	if (len != KEYPROV_FILE_HEX_LEN)
		return -EINVAL;
	if (sodium_hex2bin(key, KEK_LEN, text, len, NULL, &bin_len, &end) != 0 ||
	    bin_len != KEK_LEN || end != text + len) {
		OPENSSL_cleanse(key, KEK_LEN);
		return -EINVAL;
	}
	return 0;
}

/* The key id "<prefix>:" + 16 hex digits of HMAC-SHA256(key, KEY_ID_LABEL)
 * into id (KEYPROV_ID_MAX + 1 bytes). 0 or -EIO. */
static int derive_id(const char *prefix, const uint8_t key[KEK_LEN], char *id)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char hex[2 * KEY_ID_HASH_BYTES + 1];
	int err = -EIO;

	if (!HMAC(EVP_sha256(), key, KEK_LEN, (const unsigned char *)KEY_ID_LABEL,
		  strlen(KEY_ID_LABEL), mac, &mac_len) ||
	    mac_len < KEY_ID_HASH_BYTES)
		goto out;
	sodium_bin2hex(hex, sizeof(hex), mac, KEY_ID_HASH_BYTES);
	snprintf(id, KEYPROV_ID_MAX + 1, "%s:%s", prefix, hex);
	err = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return err;
}

int keyprov_mem_new(const struct keyprov_ops *ops, const char *id_prefix, const char *text,
		    size_t len, struct keyprov **out)
{
	struct keyprov *kp = calloc(1, sizeof(*kp));
	struct mem_priv *mp = calloc(1, sizeof(*mp));
	int err = kp && mp ? 0 : -ENOMEM;

	*out = NULL;
	if (!err)
		err = parse_key_text(text, len, mp->kek);
	if (!err)
		err = derive_id(id_prefix, mp->kek, kp->key_id);
	if (!err) {
		kp->ops = ops;
		kp->priv = mp;
		*out = kp;
		return 0;
	}
	if (mp) {
		OPENSSL_cleanse(mp, sizeof(*mp));
		free(mp);
	}
	free(kp); /* never holds key material: priv is only set on success */
	return err;
}

int keyprov_file_open(const char *path, struct keyprov **out, char *why, size_t why_len)
{
	char buf[KEYFILE_READ_MAX + 1];
	struct stat st;
	size_t len = 0;
	ssize_t r;
	int fd = -1, err = 0;

	*out = NULL;
	say_why(why, why_len, "ok");
	do
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		err = -errno;
		say_why(why, why_len, "key file %s: cannot open: %s", path, strerror(-err));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		say_why(why, why_len, "key file %s: fstat: %s", path, strerror(-err));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EPERM;
		say_why(why, why_len, "key file %s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		err = -EPERM;
		say_why(why, why_len, "key file %s: owned by uid %u, not by this user (uid %u)",
			path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	if (st.st_mode & 077) {
		err = -EPERM;
		say_why(why, why_len,
			"key file %s: mode %04o gives access to group or others; it must be 0600 "
			"or 0400 (chmod 600 %s)",
			path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			say_why(why, why_len, "key file %s: read: %s", path, strerror(-err));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}

	err = keyprov_mem_new(&file_ops, "file", buf, len, out);
	if (err == -ENOMEM)
		say_why(why, why_len, "key file %s: out of memory", path);
	else if (err == -EINVAL)
		say_why(why, why_len,
			"key file %s: expected exactly %d hex digits and an optional newline "
			"(%zu%s bytes read)",
			path, KEYPROV_FILE_HEX_LEN, len, len > KEYFILE_READ_MAX ? "+" : "");
	else if (err)
		say_why(why, why_len, "key file %s: cannot derive the key id", path);
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(buf, sizeof(buf));
	return err;
}
