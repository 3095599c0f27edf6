// SPDX-License-Identifier: BSD-2-Clause
/*
 * backup.c - encrypted backups of the store (contracts: backup.h).
 *
 * Pipeline. Taking: store_snapshot() -> dump writer (dump.h; the plaintext
 * stream, hashed with SHA-256) -> zstd (streaming) -> chunks of at most
 * chunk-size compressed bytes, each sealed with AES-256-GCM -> the object
 * (a file, or an S3 streamed upload) -> then the manifest. Restoring runs
 * the same steps backwards into store_batch_* batches of a new store.
 * Memory: one chunk and its frame, zstd's buffers, one dump record.
 *
 * The object, NAME.alb, format 1. Integers are unsigned big-endian.
 *
 *   header, 32 + m + w bytes:
 *     [0, 8)          "ACTLOGBK"
 *     [8]             0x01 format (BACKUP_FORMAT)
 *     [9]             0x01 compression: zstd
 *     [10, 14)        c: chunk size, the most ciphertext bytes of a chunk
 *                     (BACKUP_CHUNK_MIN..BACKUP_CHUNK_MAX)
 *     [14, 30)        backup id: 16 random bytes
 *     [30]            m: length of NAME, 1..BACKUP_NAME_MAX
 *     [31, 31+m)      NAME
 *     [31+m]          w: length of the wrapped data key, <= DEK_BLOB_MAX
 *     [32+m, 32+m+w)  the data key (DEK) wrapped by the master key: crypto.h
 *                     dek_wrap, which names the master key's id
 *
 *   then chunks 0, 1, ..., each 33 + n bytes:
 *     [0, 4)          n: ciphertext bytes, 0..c
 *     [4]             flags: 0x01 final (the last chunk), other bits 0
 *     [5, 17)         nonce: 12 random bytes
 *     [17, 17+n)      ciphertext: the next n bytes of the zstd stream
 *     [17+n, 33+n)    GCM tag
 *     AES-256-GCM under the DEK with
 *     AAD = "actlog-backup" || SHA-256(header) || u64 chunk index || flags.
 *
 * The header's hash binds every chunk to this object (its random id, its
 * name, its wrapped key), the index to its place, the flag to the end: a
 * chunk moved, dropped, repeated or taken from another backup does not
 * authenticate, a final flag cannot be added or removed, and an object
 * without a final chunk is truncated. Nothing may follow the final chunk.
 * The zstd frame must end exactly there too, the dump inside must end with
 * its end record, and the SHA-256 and the counts must match the manifest.
 *
 * A fresh DEK per backup, random 96-bit nonces: a backup of 2^32 chunks
 * (4 PiB at 1 MiB) would reach GCM's bound; BACKUP_CHUNKS_MAX stops far
 * below.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>
#include <zstd.h>

#include "core/crypto.h"
#include "model/backup.h"
#include "model/dump.h"
#include "util.h"
#include "version.h"

#define MAGIC "ACTLOGBK"
#define HEAD_FIXED 31 /* bytes up to NAME */
#define HEAD_MAX (32 + BACKUP_NAME_MAX + DEK_BLOB_MAX)
#define FRAME_HEAD 17
#define FRAME_OVER (FRAME_HEAD + CRYPTO_TAG_LEN)
#define FLAG_FINAL 0x01
#define AAD_LABEL "actlog-backup"
#define AAD_LEN (sizeof(AAD_LABEL) - 1 + 32 + 8 + 1)
#define COMP_ZSTD 1
#define ZSTD_LEVEL 3
#define BACKUP_CHUNKS_MAX (1ull << 30)
#define MANIFEST_MAX (64u << 10)
#define READ_BLOCK (256u << 10)
#define RESTORE_BATCH_OPS 1000u
#define RESTORE_BATCH_BYTES (8u << 20)
#define SNAP_ATTEMPTS 3
#define SUFFIX_ALB ".alb"
#define SUFFIX_MAN ".manifest.json"

/* --- names, URLs, targets --- */

/* 1 when s is a backup name we accept: 1..BACKUP_NAME_MAX of [A-Za-z0-9._-],
 * not starting with '.'. */
static int name_ok(const char *s, size_t n)
{
	if (!n || n > BACKUP_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* 1 when b is an S3 bucket name (3..63 of [a-z0-9.-], alphanumeric ends). */
static int bucket_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return 0;
	}
	return b[0] != '.' && b[0] != '-' && b[n - 1] != '.' && b[n - 1] != '-';
}

void backup_target_free(struct backup_target *t)
{
	if (!t)
		return;
	crypto_free(t->held, t->held_len);
	memset(t, 0, sizeof(*t));
}

/* Copy s (may be NULL) into the held buffer at *off; returns the copy or NULL. */
static char *hold(struct backup_target *t, size_t *off, const char *s)
{
	char *p;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	p = t->held + *off;
	memcpy(p, s, n);
	*off += n;
	return p;
}

int backup_target_parse(const char *url, const struct s3_config *s3, struct backup_target *t,
			char *why, size_t why_len)
{
	size_t need = 0, off = 0;

	memset(t, 0, sizeof(*t));
	if (!url || strlen(url) > BACKUP_URL_MAX) {
		say_why(why, why_len, "no backup URL, or longer than %d bytes", BACKUP_URL_MAX);
		return -EINVAL;
	}
	if (!strncmp(url, "file://", 7)) {
		const char *dir = url + 7;
		size_t n = strlen(dir);

		if (dir[0] != '/') {
			say_why(why, why_len, "%s: a file URL needs an absolute path (file:///DIR)",
				url);
			return -EINVAL;
		}
		while (n > 1 && dir[n - 1] == '/')
			n--;
		t->held_len = n + 1;
		t->held = calloc(1, t->held_len);
		if (!t->held)
			return -ENOMEM;
		memcpy(t->held, dir, n);
		t->kind = BACKUP_FILE;
		t->dir = t->held;
		return 0;
	}
	if (!strncmp(url, "s3://", 5)) {
		const char *b = url + 5, *slash = strchr(b, '/');
		size_t bl = slash ? (size_t)(slash - b) : strlen(b);
		const char *pre = slash ? slash + 1 : "";
		size_t pl = strlen(pre);

		if (!bucket_ok(b, bl)) {
			say_why(why, why_len, "%s: not a valid bucket name", url);
			return -EINVAL;
		}
		while (pl && pre[pl - 1] == '/')
			pl--;
		if (!s3 || !s3->access_key || !*s3->access_key || !s3->secret_key ||
		    !*s3->secret_key) {
			say_why(why, why_len,
				"%s: S3 settings missing (region, endpoint, access key id, secret "
				"access key)",
				url);
			return -EINVAL;
		}
		need = bl + 1 + pl + 2;
		need += s3->endpoint ? strlen(s3->endpoint) + 1 : 0;
		need += s3->region ? strlen(s3->region) + 1 : 0;
		need += strlen(s3->access_key) + 1 + strlen(s3->secret_key) + 1;
		need += s3->session_token ? strlen(s3->session_token) + 1 : 0;
		t->held = calloc(1, need);
		if (!t->held)
			return -ENOMEM;
		t->held_len = need;
		t->kind = BACKUP_S3;
		t->s3 = *s3;
		memcpy(t->held, b, bl);
		t->s3.bucket = t->held;
		off = bl + 1;
		t->prefix = t->held + off;
		memcpy(t->prefix, pre, pl);
		if (pl)
			t->prefix[pl++] = '/';
		off += pl + 1;
		t->s3.endpoint = hold(t, &off, s3->endpoint);
		t->s3.region = hold(t, &off, s3->region);
		t->s3.access_key = hold(t, &off, s3->access_key);
		t->s3.secret_key = hold(t, &off, s3->secret_key);
		t->s3.session_token = hold(t, &off, s3->session_token);
		t->s3.trace = NULL;
		return 0;
	}
	say_why(why, why_len, "%s: not a backup URL (s3://BUCKET[/PREFIX] or file:///DIR)", url);
	return -EINVAL;
}

int backup_url_split(const char *url, char *target_url, char *name, char *why, size_t why_len)
{
	const char *slash, *nm;
	size_t tl, nl;

	if (!url || strlen(url) > BACKUP_URL_MAX) {
		say_why(why, why_len, "no backup URL, or longer than %d bytes", BACKUP_URL_MAX);
		return -EINVAL;
	}
	slash = strrchr(url, '/');
	if (!slash || (strncmp(url, "s3://", 5) && strncmp(url, "file://", 7)) ||
	    slash < url + (url[0] == 's' ? 5 : 8)) {
		say_why(why, why_len,
			"%s: not the URL of one backup (s3://BUCKET/PREFIX/NAME or "
			"file:///DIR/NAME)",
			url);
		return -EINVAL;
	}
	nm = slash + 1;
	nl = strlen(nm);
	if (nl > strlen(SUFFIX_MAN) && !strcmp(nm + nl - strlen(SUFFIX_MAN), SUFFIX_MAN))
		nl -= strlen(SUFFIX_MAN);
	else if (nl > strlen(SUFFIX_ALB) && !strcmp(nm + nl - strlen(SUFFIX_ALB), SUFFIX_ALB))
		nl -= strlen(SUFFIX_ALB);
	if (!name_ok(nm, nl)) {
		say_why(why, why_len, "%s: '%.*s' is not a backup name", url, (int)nl, nm);
		return -EINVAL;
	}
	tl = (size_t)(slash - url);
	memcpy(target_url, url, tl);
	target_url[tl] = '\0';
	memcpy(name, nm, nl);
	name[nl] = '\0';
	return 0;
}

/* The S3 key or file path of name + suffix at t into out (n bytes). */
static int obj_where(const struct backup_target *t, const char *name, const char *suffix, char *out,
		     size_t n)
{
	int len = t->kind == BACKUP_FILE ? snprintf(out, n, "%s/%s%s", t->dir, name, suffix)
					 : snprintf(out, n, "%s%s%s", t->prefix, name, suffix);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

/* A client for t (BACKUP_S3). 0 or -errno with the reason. */
static int client_new(const struct backup_target *t, struct s3_client **c, char *why,
		      size_t why_len)
{
	int err = s3_client_new(&t->s3, c);

	if (err)
		say_why(why, why_len, "S3 settings of s3://%s refused: %s", t->s3.bucket,
			strerror(-err));
	return err;
}

/* The reason of the last S3 failure of c, after what. Returns err. */
static int s3_why(struct s3_client *c, int err, const char *what, char *why, size_t why_len)
{
	char buf[600];

	say_why(why, why_len, "%s: %s", what, s3_strerror(s3_last_error(c), buf, sizeof(buf)));
	return err;
}

/* --- the stream object being written --- */

struct out_obj {
	const struct backup_target *t;
	int fd;
	char tmp[PATH_MAX + 16], path[PATH_MAX];
	struct s3_client *c;
	struct s3_upload *u;
	uint64_t bytes;
};

static int out_open(struct out_obj *o, const struct backup_target *t, struct s3_client *c,
		    const char *name, char *why, size_t why_len)
{
	int err;

	memset(o, 0, sizeof(*o));
	o->t = t;
	o->fd = -1;
	o->c = c;
	err = obj_where(t, name, SUFFIX_ALB, o->path, sizeof(o->path));
	if (err) {
		say_why(why, why_len, "backup path too long");
		return err;
	}
	if (t->kind == BACKUP_FILE) {
		snprintf(o->tmp, sizeof(o->tmp), "%s.partial", o->path);
		o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (o->fd < 0) {
			err = -errno;
			say_why(why, why_len, "cannot create %s: %s", o->tmp, strerror(errno));
			return err;
		}
		return 0;
	}
	err = s3_upload_begin(c, o->path, "application/octet-stream", &o->u);
	if (err)
		say_why(why, why_len, "cannot start the upload of %s: %s", o->path, strerror(-err));
	return err;
}

static int out_write(struct out_obj *o, const void *buf, size_t len, char *why, size_t why_len)
{
	int err;

	if (o->t->kind == BACKUP_FILE) {
		err = write_all(o->fd, buf, len);
		if (err)
			say_why(why, why_len, "write %s: %s", o->tmp, strerror(-err));
	} else {
		err = s3_upload_write(o->u, buf, len);
		if (err)
			s3_why(o->c, err, "upload", why, why_len);
	}
	if (!err)
		o->bytes += len;
	return err;
}

/* Make the object whole and visible; *size gets its length. The object is gone on failure. */
static int out_commit(struct out_obj *o, uint64_t *size, char *why, size_t why_len)
{
	int err = 0;

	*size = o->bytes;
	if (o->t->kind == BACKUP_S3) {
		err = s3_upload_finish(o->u, size);
		o->u = NULL;
		if (err)
			s3_why(o->c, err, "upload", why, why_len);
		return err;
	}
	if (fsync(o->fd))
		err = -errno;
	if (close(o->fd) && !err)
		err = -errno;
	o->fd = -1;
	if (!err && rename(o->tmp, o->path))
		err = -errno;
	if (!err)
		err = fsync_dir(o->t->dir);
	if (err) {
		say_why(why, why_len, "cannot complete %s: %s", o->path, strerror(-err));
		unlink(o->tmp);
	}
	return err;
}

/* Give up: nothing of the object is left. */
static void out_abort(struct out_obj *o)
{
	if (o->t->kind == BACKUP_S3) {
		s3_upload_abort(o->u);
		o->u = NULL;
		return;
	}
	if (o->fd >= 0) {
		close(o->fd);
		o->fd = -1;
		unlink(o->tmp);
	}
}

/* Store a small object (the manifest) whole. */
static int put_small(const struct backup_target *t, struct s3_client *c, const char *name,
		     const char *suffix, const void *buf, size_t len, char *why, size_t why_len)
{
	char where[PATH_MAX];
	int err = obj_where(t, name, suffix, where, sizeof(where));

	if (err)
		return err;
	if (t->kind == BACKUP_S3) {
		err = s3_put(c, where, buf, len, "application/json");
		return err ? s3_why(c, err, where, why, why_len) : 0;
	}
	err = write_file_atomic(where, NULL, buf, len, 0600);
	if (!err)
		err = fsync_dir(t->dir);
	if (err)
		say_why(why, why_len, "cannot write %s: %s", where, strerror(-err));
	return err;
}

/* Delete one object; a missing one is fine. */
static int del_obj(const struct backup_target *t, struct s3_client *c, const char *name,
		   const char *suffix, char *why, size_t why_len)
{
	char where[PATH_MAX];
	int err = obj_where(t, name, suffix, where, sizeof(where));

	if (err)
		return err;
	if (t->kind == BACKUP_S3) {
		err = s3_delete(c, where);
		if (err == -ENOENT)
			err = 0;
		return err ? s3_why(c, err, where, why, why_len) : 0;
	}
	if (unlink(where) && errno != ENOENT) {
		err = -errno;
		say_why(why, why_len, "cannot delete %s: %s", where, strerror(errno));
		return err;
	}
	return 0;
}

/* Stream object name + suffix to fn, at most max bytes (0: no cap). -ENOENT when missing. */
static int get_obj(const struct backup_target *t, struct s3_client *c, const char *name,
		   const char *suffix, uint64_t max, s3_write_fn fn, void *ctx, char *why,
		   size_t why_len)
{
	char where[PATH_MAX];
	uint64_t total = 0;
	char *buf;
	int fd, err = obj_where(t, name, suffix, where, sizeof(where));

	if (err)
		return err;
	if (t->kind == BACKUP_S3) {
		err = max ? s3_get_max(c, where, max, fn, ctx, NULL) : s3_get(c, where, fn, ctx);
		if (err && !(why && *why)) /* fn's own errors carry their reason */
			s3_why(c, err, where, why, why_len);
		return err;
	}
	fd = open(where, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
		say_why(why, why_len, "cannot open %s: %s", where, strerror(errno));
		return err;
	}
	buf = malloc(READ_BLOCK);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf, READ_BLOCK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			say_why(why, why_len, "read %s: %s", where, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (max && total > max) {
			err = -E2BIG;
			say_why(why, why_len, "%s is larger than its manifest says", where);
			break;
		}
		err = fn(ctx, buf, (size_t)r);
		if (err)
			break;
	}
	free(buf);
	close(fd);
	return err;
}

struct small {
	char *buf;
	size_t len;
};

static int small_add(void *ctx, const void *data, size_t len)
{
	struct small *s = ctx;
	char *b;

	if (s->len + len > MANIFEST_MAX)
		return -E2BIG;
	b = realloc(s->buf, s->len + len + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b + s->len, data, len);
	s->buf = b;
	s->len += len;
	b[s->len] = '\0';
	return 0;
}

/* Read and parse the manifest of name into *b. -ENOENT when missing, -EBADMSG. */
static int get_manifest(const struct backup_target *t, struct s3_client *c, const char *name,
			struct backup_info *b, char *why, size_t why_len)
{
	struct small s = {0};
	cJSON *j = NULL;
	int err = get_obj(t, c, name, SUFFIX_MAN, MANIFEST_MAX, small_add, &s, why, why_len);

	if (!err) {
		j = s.buf ? cJSON_ParseWithLength(s.buf, s.len) : NULL;
		err = j ? backup_info_from_json(j, b) : -EBADMSG;
		if (!err && strcmp(b->name, name))
			err = -EBADMSG;
		if (err)
			say_why(why, why_len, "the manifest of %s does not parse", name);
	}
	cJSON_Delete(j);
	free(s.buf);
	return err;
}

/* --- manifest JSON --- */

cJSON *backup_info_to_json(const struct backup_info *b)
{
	cJSON *j = cJSON_CreateObject(), *items = cJSON_CreateObject();
	int ok = j && items;

	for (int t = 0; ok && t < STORE_T__COUNT; t++)
		ok = cJSON_AddNumberToObject(items, store_table_name(t), (double)b->items[t]) !=
		     NULL;
	ok = ok && cJSON_AddStringToObject(j, "name", b->name) &&
	     cJSON_AddNumberToObject(j, "format", b->format) &&
	     cJSON_AddNumberToObject(j, "snapshot_ms", (double)b->snapshot_ms) &&
	     cJSON_AddNumberToObject(j, "finished_ms", (double)b->finished_ms) &&
	     cJSON_AddStringToObject(j, "server_version", b->server_version) &&
	     cJSON_AddNumberToObject(j, "plain_bytes", (double)b->plain_bytes) &&
	     cJSON_AddNumberToObject(j, "stored_bytes", (double)b->stored_bytes) &&
	     cJSON_AddStringToObject(j, "sha256", b->sha256) &&
	     cJSON_AddStringToObject(j, "kek_id", b->kek_id);
	if (ok) {
		cJSON_AddItemToObject(j, "items", items);
		return j;
	}
	cJSON_Delete(items);
	cJSON_Delete(j);
	return NULL;
}

/* The string member k of j copied into out (n bytes); 0 or -EBADMSG. */
static int jstr(const cJSON *j, const char *k, char *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= n)
		return -EBADMSG;
	strcpy(out, v->valuestring);
	return 0;
}

/* The non-negative integer member k of j (exact in a double); 0 or -EBADMSG. */
static int jnum(const cJSON *j, const char *k, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return -EBADMSG;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

int backup_info_from_json(const cJSON *j, struct backup_info *b)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
	uint64_t fmt = 0, snap = 0, fin = 0;
	int err;

	memset(b, 0, sizeof(*b));
	if (!cJSON_IsObject(j) || !cJSON_IsObject(items))
		return -EBADMSG;
	err = jstr(j, "name", b->name, sizeof(b->name));
	if (!err)
		err = jstr(j, "server_version", b->server_version, sizeof(b->server_version));
	if (!err)
		err = jstr(j, "sha256", b->sha256, sizeof(b->sha256));
	if (!err)
		err = jstr(j, "kek_id", b->kek_id, sizeof(b->kek_id));
	if (!err)
		err = jnum(j, "format", &fmt);
	if (!err)
		err = jnum(j, "snapshot_ms", &snap);
	if (!err)
		err = jnum(j, "finished_ms", &fin);
	if (!err)
		err = jnum(j, "plain_bytes", &b->plain_bytes);
	if (!err)
		err = jnum(j, "stored_bytes", &b->stored_bytes);
	for (int t = 0; !err && t < STORE_T__COUNT; t++) {
		if (cJSON_GetObjectItemCaseSensitive(items, store_table_name(t)))
			err = jnum(items, store_table_name(t), &b->items[t]);
	}
	if (!err &&
	    (!name_ok(b->name, strlen(b->name)) || strlen(b->sha256) != 64 || fmt != BACKUP_FORMAT))
		err = -EBADMSG;
	if (err) {
		memset(b, 0, sizeof(*b));
		return err;
	}
	b->format = (int)fmt;
	b->snapshot_ms = (int64_t)snap;
	b->finished_ms = (int64_t)fin;
	return 0;
}

/* --- the writer: dump -> sha256 -> zstd -> sealed chunks -> object --- */

struct wr {
	struct out_obj *o;
	const struct backup_ctl *ctl;
	ZSTD_CCtx *z;
	EVP_MD_CTX *sha;
	uint8_t dek[CRYPTO_KEY_LEN];
	uint8_t hh[32]; /* SHA-256 of the header */
	uint8_t *chunk, *frame;
	size_t cap, fill;
	uint64_t index, plain;
	char *why;
	size_t why_len;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cancelled(const struct backup_ctl *ctl)
{
	return ctl && ctl->cancel && *ctl->cancel;
}

static void aad_make(uint8_t *aad, const uint8_t hh[32], uint64_t index, uint8_t flags)
{
	memcpy(aad, AAD_LABEL, sizeof(AAD_LABEL) - 1);
	aad += sizeof(AAD_LABEL) - 1;
	memcpy(aad, hh, 32);
	for (int i = 0; i < 8; i++)
		aad[32 + i] = (uint8_t)(index >> (56 - 8 * i));
	aad[40] = flags;
}

/* Seal the buffered chunk (fill bytes) as chunk w->index and write it. */
static int seal_chunk(struct wr *w, int final)
{
	uint8_t aad[AAD_LEN], flags = final ? FLAG_FINAL : 0;
	uint8_t *f = w->frame;
	int err;

	if (cancelled(w->ctl)) {
		say_why(w->why, w->why_len, "cancelled");
		return -ECANCELED;
	}
	if (w->index >= BACKUP_CHUNKS_MAX) {
		say_why(w->why, w->why_len, "too many chunks");
		return -EFBIG;
	}
	for (int i = 0; i < 4; i++)
		f[i] = (uint8_t)(w->fill >> (24 - 8 * i));
	f[4] = flags;
	err = crypto_random(f + 5, CRYPTO_NONCE_LEN);
	aad_make(aad, w->hh, w->index, flags);
	if (!err)
		err = crypto_gcm_seal(w->dek, f + 5, aad, sizeof(aad), w->chunk, w->fill,
				      f + FRAME_HEAD, f + FRAME_HEAD + w->fill);
	if (err) {
		say_why(w->why, w->why_len, "encryption failed");
		return err;
	}
	err = out_write(w->o, f, FRAME_OVER + w->fill, w->why, w->why_len);
	if (err)
		return err;
	w->index++;
	w->fill = 0;
	if (w->ctl && w->ctl->progress)
		w->ctl->progress(w->ctl->ctx, w->plain);
	return 0;
}

/* Compress in (len bytes) with op; seal each full chunk (never the last one:
 * with ZSTD_e_end the last one stays buffered for the final seal). */
static int compress(struct wr *w, const void *in, size_t len, ZSTD_EndDirective op)
{
	ZSTD_inBuffer ib = {in, len, 0};

	for (;;) {
		ZSTD_outBuffer ob;
		size_t rem;

		if (w->fill == w->cap) {
			int err = seal_chunk(w, 0);

			if (err)
				return err;
		}
		ob = (ZSTD_outBuffer){w->chunk, w->cap, w->fill};
		rem = ZSTD_compressStream2(w->z, &ob, &ib, op);
		if (ZSTD_isError(rem)) {
			say_why(w->why, w->why_len, "zstd: %s", ZSTD_getErrorName(rem));
			return -EIO;
		}
		w->fill = ob.pos;
		if (op == ZSTD_e_continue ? ib.pos == ib.size : rem == 0)
			return 0;
	}
}

/* The dump writer's sink. */
static int plain_sink(void *ctx, const void *buf, size_t len)
{
	struct wr *w = ctx;

	if (EVP_DigestUpdate(w->sha, buf, len) != 1)
		return -EIO;
	w->plain += len;
	return compress(w, buf, len, ZSTD_e_continue);
}

/* Build the header for name with a fresh DEK wrapped by kp into head (HEAD_MAX). */
static int head_make(struct wr *w, const struct keyprov *kp, const char *name, uint32_t chunk,
		     uint8_t *head, size_t *hlen, char *why, size_t why_len)
{
	uint8_t kek[KEK_LEN];
	size_t m = strlen(name), wl = 0;
	int err;

	memcpy(head, MAGIC, 8);
	head[8] = BACKUP_FORMAT;
	head[9] = COMP_ZSTD;
	for (int i = 0; i < 4; i++)
		head[10 + i] = (uint8_t)(chunk >> (24 - 8 * i));
	err = crypto_random(head + 14, 16);
	head[30] = (uint8_t)m;
	memcpy(head + 31, name, m);
	if (!err)
		err = dek_new(w->dek);
	if (!err)
		err = keyprov_get_kek(kp, kek);
	if (err) {
		say_why(why, why_len, "cannot make the data key: %s", strerror(-err));
		return err;
	}
	err = dek_wrap(kek, keyprov_key_id(kp), w->dek, head + 32 + m, &wl);
	crypto_wipe(kek, sizeof(kek));
	if (err) {
		say_why(why, why_len, "cannot wrap the data key: %s", strerror(-err));
		return err;
	}
	head[31 + m] = (uint8_t)wl;
	*hlen = 32 + m + wl;
	return 0;
}

/* Snapshot callback: the dump writer, with cancellation. */
struct snap_ctx {
	struct dump_writer dw;
	struct wr *w;
};

static int snap_item(enum store_table t, const char *pk, const char *sk, const void *val,
		     size_t len, void *ctx)
{
	struct snap_ctx *sc = ctx;
	const struct backup_ctl *ctl = sc->w->ctl;
	int err = dump_write_item(t, pk, sk, val, len, &sc->dw);

	if (!err && ctl && ctl->tee)
		err = ctl->tee(t, pk, sk, val, len, ctl->tee_ctx);
	return err;
}

/* The name of a backup taken at ms. */
static int name_make(int64_t ms, char *name)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	uint8_t r[4];
	char rh[9];

	if (!gmtime_r(&sec, &tm) || crypto_random(r, sizeof(r)))
		return -EIO;
	sodium_bin2hex(rh, sizeof(rh), r, sizeof(r));
	snprintf(name, BACKUP_NAME_MAX + 1, "actlog-%04d%02d%02dT%02d%02d%02dZ-%s",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 rh);
	return 0;
}

/* One attempt of backup_take(): -EAGAIN when the snapshot gave way. */
static int take_once(struct store *st, const struct keyprov *kp, const struct backup_target *t,
		     struct s3_client *c, const struct backup_ctl *ctl, struct backup_info *b,
		     char *why, size_t why_len)
{
	struct wr w = {0};
	struct out_obj o;
	struct snap_ctx sc;
	uint8_t head[HEAD_MAX], dig[32];
	uint32_t chunk = ctl && ctl->chunk_size ? ctl->chunk_size : BACKUP_CHUNK;
	size_t hlen = 0;
	unsigned dl = 0;
	char *js_txt = NULL;
	cJSON *j = NULL;
	int err, opened = 0, committed = 0;

	memset(b, 0, sizeof(*b));
	if (chunk < BACKUP_CHUNK_MIN || chunk > BACKUP_CHUNK_MAX) {
		say_why(why, why_len, "chunk size out of range");
		return -EINVAL;
	}
	w.ctl = ctl;
	w.why = why;
	w.why_len = why_len;
	w.cap = chunk;
	b->snapshot_ms = now_ms();
	err = name_make(b->snapshot_ms, b->name);
	if (err)
		return err;
	w.chunk = malloc(chunk);
	w.frame = malloc((size_t)chunk + FRAME_OVER);
	w.z = ZSTD_createCCtx();
	w.sha = EVP_MD_CTX_new();
	if (!w.chunk || !w.frame || !w.z || !w.sha) {
		err = -ENOMEM;
		goto out;
	}
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w.z, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
	    EVP_DigestInit_ex(w.sha, EVP_sha256(), NULL) != 1) {
		err = -EIO;
		goto out;
	}
	err = head_make(&w, kp, b->name, chunk, head, &hlen, why, why_len);
	if (err)
		goto out;
	if (EVP_Digest(head, hlen, w.hh, NULL, EVP_sha256(), NULL) != 1) {
		err = -EIO;
		goto out;
	}
	err = out_open(&o, t, c, b->name, why, why_len);
	if (err)
		goto out;
	opened = 1;
	w.o = &o;
	err = out_write(&o, head, hlen, why, why_len);
	if (err)
		goto out;
	sc.w = &w;
	err = dump_write_start(&sc.dw, plain_sink, &w);
	if (!err) {
		err = store_snapshot(st, snap_item, &sc);
		if (err == -EAGAIN)
			say_why(why, why_len, "the store had to grow during the snapshot");
		else if (err && !*why)
			say_why(why, why_len, "snapshot: %s", strerror(-err));
	}
	if (!err)
		err = dump_write_end(&sc.dw);
	if (!err)
		err = compress(&w, NULL, 0, ZSTD_e_end);
	if (!err)
		err = seal_chunk(&w, 1);
	if (err)
		goto out;
	if (EVP_DigestFinal_ex(w.sha, dig, &dl) != 1) {
		err = -EIO;
		goto out;
	}
	err = out_commit(&o, &b->stored_bytes, why, why_len);
	opened = 0;
	if (err)
		goto out;
	committed = 1;
	b->format = BACKUP_FORMAT;
	b->finished_ms = now_ms();
	snprintf(b->server_version, sizeof(b->server_version), "%s", ACTLOG_VERSION);
	b->plain_bytes = w.plain;
	sodium_bin2hex(b->sha256, sizeof(b->sha256), dig, 32);
	memcpy(b->items, sc.dw.items, sizeof(b->items));
	snprintf(b->kek_id, sizeof(b->kek_id), "%s", keyprov_key_id(kp));
	j = backup_info_to_json(b);
	js_txt = j ? cJSON_Print(j) : NULL;
	if (!js_txt) {
		err = -ENOMEM;
		goto out;
	}
	err = put_small(t, c, b->name, SUFFIX_MAN, js_txt, strlen(js_txt), why, why_len);
out:
	if (opened)
		out_abort(&o);
	if (err && committed) /* a stream without its manifest is of no use: remove it */
		del_obj(t, c, b->name, SUFFIX_ALB, NULL, 0);
	if (err == -ENOMEM && !*why)
		say_why(why, why_len, "out of memory");
	if (err == -EIO && !*why)
		say_why(why, why_len, "I/O error");
	free(js_txt);
	cJSON_Delete(j);
	crypto_wipe(w.dek, sizeof(w.dek));
	free(w.chunk);
	free(w.frame);
	ZSTD_freeCCtx(w.z);
	EVP_MD_CTX_free(w.sha);
	return err;
}

int backup_take(struct store *st, const struct keyprov *kp, const struct backup_target *t,
		const struct backup_ctl *ctl, struct backup_info *out, char *why, size_t why_len)
{
	struct s3_client *c = NULL;
	struct backup_info b;
	int err = 0;

	say_why(why, why_len, "%s", "");
	if (t->kind == BACKUP_S3)
		err = client_new(t, &c, why, why_len);
	for (int i = 0; !err || (err == -EAGAIN && i < SNAP_ATTEMPTS); i++) {
		if (why && why_len)
			why[0] = '\0';
		if (i && ctl && ctl->tee_reset)
			ctl->tee_reset(ctl->tee_ctx);
		err = take_once(st, kp, t, c, ctl, &b, why, why_len);
		if (err != -EAGAIN)
			break;
	}
	s3_client_free(c);
	if (!err && out)
		*out = b;
	return err;
}

/* --- list, delete, prune --- */

static int info_newer_first(const void *a, const void *b)
{
	const struct backup_info *x = a, *y = b;

	return strcmp(y->name, x->name);
}

/* Add the name of manifest key k (a file or S3 key ending in SUFFIX_MAN) to names. */
static int name_of(const char *k, char *name)
{
	const char *base = strrchr(k, '/');
	size_t n;

	base = base ? base + 1 : k;
	n = strlen(base);
	if (n <= strlen(SUFFIX_MAN) || strcmp(base + n - strlen(SUFFIX_MAN), SUFFIX_MAN))
		return 0;
	n -= strlen(SUFFIX_MAN);
	if (!name_ok(base, n) || !backup_name_shape(base, n))
		return 0;
	memcpy(name, base, n);
	name[n] = '\0';
	return 1;
}

int backup_name_shape(const char *name, size_t n)
{
	static const char shape[] = "actlog-DDDDDDDDTDDDDDDZ-HHHHHHHH";

	if (n != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (shape[i] == 'D'   ? !(c >= '0' && c <= '9')
		    : shape[i] == 'H' ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
				      : c != shape[i])
			return 0;
	}
	return 1;
}

/* Restore the min-heap property of v[0..n) from slot i down. */
static void names_sift(char (*v)[BACKUP_NAME_MAX + 1], size_t n, size_t i)
{
	char tmp[BACKUP_NAME_MAX + 1];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && strcmp(v[l], v[m]) < 0)
			m = l;
		if (r < n && strcmp(v[r], v[m]) < 0)
			m = r;
		if (m == i)
			return;
		memcpy(tmp, v[i], sizeof(tmp));
		memcpy(v[i], v[m], sizeof(tmp));
		memcpy(v[m], tmp, sizeof(tmp));
		i = m;
	}
}

void backup_names_add(char (*v)[BACKUP_NAME_MAX + 1], size_t *n, size_t cap, const char *name)
{
	char tmp[BACKUP_NAME_MAX + 1];
	size_t i;

	if (!cap)
		return;
	if (*n == cap) { /* full: replace the least if name is greater */
		if (strcmp(name, v[0]) <= 0)
			return;
		snprintf(v[0], sizeof(v[0]), "%s", name);
		names_sift(v, *n, 0);
		return;
	}
	i = (*n)++;
	snprintf(v[i], sizeof(v[i]), "%s", name);
	while (i && strcmp(v[i], v[(i - 1) / 2]) < 0) { /* up */
		size_t p = (i - 1) / 2;

		memcpy(tmp, v[i], sizeof(tmp));
		memcpy(v[i], v[p], sizeof(tmp));
		memcpy(v[p], tmp, sizeof(tmp));
		i = p;
	}
}

static int name_greater_first(const void *a, const void *b)
{
	return strcmp(b, a);
}

void backup_names_sort(char (*v)[BACKUP_NAME_MAX + 1], size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), name_greater_first);
}

int backup_list(const struct backup_target *t, struct backup_info **out, size_t *n, char *why,
		size_t why_len)
{
	struct s3_client *c = NULL;
	struct backup_info *v = NULL;
	size_t cnt = 0, cap = 0;
	char(*names)[BACKUP_NAME_MAX + 1] = NULL, one[BACKUP_NAME_MAX + 1];
	size_t nn = 0;
	int err = 0;

	*out = NULL;
	*n = 0;
	names = malloc(sizeof(*names) * BACKUP_LIST_MAX);
	if (!names)
		return -ENOMEM;
	if (t->kind == BACKUP_FILE) {
		DIR *d = opendir(t->dir);
		struct dirent *e;

		if (!d) {
			err = -errno;
			say_why(why, why_len, "cannot list %s: %s", t->dir, strerror(errno));
			goto out;
		}
		while ((e = readdir(d)))
			if (name_of(e->d_name, one))
				backup_names_add(names, &nn, BACKUP_LIST_MAX, one);
		closedir(d);
	} else {
		char token[1024] = "";

		err = client_new(t, &c, why, why_len);
		while (!err) {
			struct s3xml_list l = {0};

			err = s3_list(c, t->prefix, 1000, token, &l);
			if (err) {
				s3_why(c, err, "list", why, why_len);
				break;
			}
			for (size_t i = 0; i < l.n; i++) {
				const char *k = l.objs[i].key;

				/* only objects right under the prefix (an endpoint may
				 * answer keys outside it, or shorter than it) */
				if (strncmp(k, t->prefix, strlen(t->prefix)) ||
				    strchr(k + strlen(t->prefix), '/'))
					continue;
				if (name_of(k, one))
					backup_names_add(names, &nn, BACKUP_LIST_MAX, one);
			}
			snprintf(token, sizeof(token), "%s", l.next_token);
			s3xml_list_free(&l);
			if (!l.truncated || !*token)
				break;
		}
		if (err)
			goto out;
	}
	backup_names_sort(names, nn); /* newest first: the manifests read below */
	for (size_t i = 0; i < nn; i++) {
		struct backup_info b;
		char w2[8];

		if (get_manifest(t, c, names[i], &b, w2, sizeof(w2)))
			continue; /* unreadable manifests are skipped */
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct backup_info *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				err = -ENOMEM;
				goto out;
			}
			v = nv;
			cap = nc;
		}
		v[cnt++] = b;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), info_newer_first);
	*out = v;
	*n = cnt;
	v = NULL;
out:
	free(v);
	free(names);
	s3_client_free(c);
	return err;
}

int backup_delete(const struct backup_target *t, const char *name, char *why, size_t why_len)
{
	struct s3_client *c = NULL;
	int err = 0;

	if (!name || !name_ok(name, strlen(name))) {
		say_why(why, why_len, "not a backup name");
		return -EINVAL;
	}
	if (t->kind == BACKUP_S3)
		err = client_new(t, &c, why, why_len);
	if (!err)
		err = del_obj(t, c, name, SUFFIX_MAN, why, why_len);
	if (!err)
		err = del_obj(t, c, name, SUFFIX_ALB, why, why_len);
	s3_client_free(c);
	return err;
}

int backup_prune(const struct backup_target *t, unsigned keep, const char *spare, unsigned *deleted,
		 char *why, size_t why_len)
{
	struct backup_info *v = NULL;
	size_t n = 0, kept = 0;
	int err;

	if (deleted)
		*deleted = 0;
	if (keep < 1) {
		say_why(why, why_len, "keep must be at least 1");
		return -EINVAL;
	}
	err = backup_list(t, &v, &n, why, why_len);
	/* the spare, when listed, takes one of the places kept */
	for (size_t i = 0; !err && spare && i < n; i++)
		if (!strcmp(v[i].name, spare))
			kept = 1;
	for (size_t i = 0; !err && i < n; i++) {
		if (spare && !strcmp(v[i].name, spare))
			continue;
		if (kept < keep) {
			kept++;
			continue;
		}
		err = backup_delete(t, v[i].name, why, why_len);
		if (!err && deleted)
			(*deleted)++;
	}
	free(v);
	return err;
}

/* --- the reader: object -> chunks opened -> zstd -> sha256 -> dump parser -> store --- */

enum { RD_HEAD, RD_HEAD_NAME, RD_HEAD_KEY, RD_FRAME, RD_BODY, RD_DONE };

struct rd {
	const struct keyprov *kp;
	const struct backup_ctl *ctl;
	const char *name;
	const char *kek_id; /* the manifest's */
	int state;
	uint8_t head[HEAD_MAX];
	size_t hlen;
	uint8_t hh[32];
	uint8_t dek[CRYPTO_KEY_LEN];
	int have_dek;
	uint32_t chunk;
	uint8_t *frame, *plain; /* a frame being gathered; its plaintext */
	size_t have, need;
	uint8_t flags;
	uint64_t index, stored;
	ZSTD_DCtx *z;
	size_t zlast; /* zstd's last hint: 0 when the frame is complete */
	uint8_t *zout;
	size_t zout_len;
	EVP_MD_CTX *sha;
	uint64_t plain_bytes;
	struct dump_parser dp;
	/* the restore */
	struct store *st;
	struct store_batch *b;
	size_t bops, bbytes;
	int err;
	char *why;
	size_t why_len;
};

/* Say why (prefixed with the backup's name) and return err. */
__attribute__((format(printf, 3, 4))) static int rd_bad(struct rd *r, int err, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say_why(r->why, r->why_len, "%s: %s", r->name, msg);
	return err;
}

/* Commit the batch being filled. */
static int rd_flush(struct rd *r)
{
	int err;

	if (!r->b)
		return 0;
	err = store_batch_commit(r->b);
	r->b = NULL;
	r->bops = r->bbytes = 0;
	if (err)
		say_why(r->why, r->why_len, "cannot write the restored store: %s", strerror(-err));
	return err;
}

/* The dump parser's callback: put the item into the new store. */
static int rd_item(enum store_table t, const char *pk, const char *sk, const void *val, size_t len,
		   void *ctx)
{
	struct rd *r = ctx;
	size_t sz = strlen(pk) + strlen(sk) + 1 + len;
	int err;

	if (!r->st)
		return 0;
	if (r->b && (r->bops >= RESTORE_BATCH_OPS || r->bbytes + sz > RESTORE_BATCH_BYTES)) {
		err = rd_flush(r);
		if (err)
			return err;
	}
	if (!r->b) {
		err = store_batch_begin(r->st, &r->b);
		if (err)
			return err;
	}
	err = store_batch_put(r->b, t, pk, sk, val, len, 0);
	if (err) {
		say_why(r->why, r->why_len, "%s: an item the store refuses (%s)", r->name,
			strerror(-err));
		return -EBADMSG;
	}
	r->bops++;
	r->bbytes += sz;
	return 0;
}

/* Plaintext of one opened chunk: decompress into sha256 and the parser. */
static int rd_plain(struct rd *r, const uint8_t *p, size_t n)
{
	ZSTD_inBuffer ib = {p, n, 0};

	while (ib.pos < ib.size) {
		ZSTD_outBuffer ob = {r->zout, r->zout_len, 0};
		size_t rc = ZSTD_decompressStream(r->z, &ob, &ib);
		int err;

		if (ZSTD_isError(rc))
			return rd_bad(r, -EBADMSG, "the compressed stream is damaged (%s)",
				      ZSTD_getErrorName(rc));
		r->zlast = rc;
		if (EVP_DigestUpdate(r->sha, ob.dst, ob.pos) != 1)
			return -EIO;
		r->plain_bytes += ob.pos;
		err = dump_parse_feed(&r->dp, ob.dst, ob.pos);
		if (err) {
			if (r->dp.why[0])
				say_why(r->why, r->why_len, "%s: %s", r->name, r->dp.why);
			return err;
		}
		if (rc == 0 && ib.pos < ib.size)
			return rd_bad(r, -EBADMSG, "data after the end of the compressed stream");
	}
	return 0;
}

/* The header is complete: check it and open the data key. */
static int rd_head(struct rd *r)
{
	const uint8_t *h = r->head;
	size_t m = h[30], wl = h[31 + m];
	char id[CRYPTO_ID_MAX + 1] = "";
	uint8_t kek[KEK_LEN];
	int err;

	r->chunk = (uint32_t)h[10] << 24 | (uint32_t)h[11] << 16 | (uint32_t)h[12] << 8 | h[13];
	if (r->chunk < BACKUP_CHUNK_MIN || r->chunk > BACKUP_CHUNK_MAX)
		return rd_bad(r, -EBADMSG, "bad chunk size %u in the header", (unsigned)r->chunk);
	if (m != strlen(r->name) || memcmp(h + 31, r->name, m))
		return rd_bad(r, -EBADMSG,
			      "the object is another backup (its header names another)");
	if (crypto_blob_key_id(h + 32 + m, wl, id))
		return rd_bad(r, -EBADMSG, "the wrapped data key in the header is malformed");
	err = keyprov_get_kek(r->kp, kek);
	if (err)
		return rd_bad(r, err, "cannot read the master key");
	err = dek_unwrap(kek, h + 32 + m, wl, r->dek);
	crypto_wipe(kek, sizeof(kek));
	if (err == -EBADMSG) {
		/* another key when the header names the key the manifest names (the
		 * id alone is not authenticated) and that is not this one */
		if (!strcmp(id, r->kek_id) && strcmp(id, keyprov_key_id(r->kp))) {
			say_why(
			    r->why, r->why_len,
			    "%s: the data key is wrapped by master key %s; this master key (%s) "
			    "does not open it",
			    r->name, id, keyprov_key_id(r->kp));
			return -EKEYREJECTED;
		}
		return rd_bad(r, -EBADMSG,
			      "the wrapped data key in the header does not open (damaged header)");
	}
	if (err)
		return rd_bad(r, err, "cannot unwrap the data key");
	r->have_dek = 1;
	if (EVP_Digest(h, r->hlen, r->hh, NULL, EVP_sha256(), NULL) != 1)
		return -EIO;
	r->frame = malloc((size_t)r->chunk + FRAME_OVER);
	r->plain = malloc(r->chunk ? r->chunk : 1);
	if (!r->frame || !r->plain)
		return -ENOMEM;
	return 0;
}

/* A whole chunk is in r->frame: open it and pass its plaintext on. */
static int rd_chunk(struct rd *r)
{
	uint8_t aad[AAD_LEN];
	size_t n = r->need - FRAME_OVER;
	int err;

	if (cancelled(r->ctl)) {
		say_why(r->why, r->why_len, "cancelled");
		return -ECANCELED;
	}
	aad_make(aad, r->hh, r->index, r->flags);
	err = crypto_gcm_open(r->dek, r->frame + 5, aad, sizeof(aad), r->frame + FRAME_HEAD, n,
			      r->frame + FRAME_HEAD + n, r->plain);
	if (err == -EBADMSG)
		return rd_bad(r, err,
			      "chunk %llu does not authenticate (damaged, out of place, or from "
			      "another backup)",
			      (unsigned long long)r->index);
	if (err)
		return err;
	err = rd_plain(r, r->plain, n);
	if (err)
		return err;
	r->index++;
	if (r->ctl && r->ctl->progress)
		r->ctl->progress(r->ctl->ctx, r->plain_bytes);
	return 0;
}

/* s3_write_fn: the object's next bytes. */
static int rd_feed(void *ctx, const void *data, size_t len)
{
	struct rd *r = ctx;
	const uint8_t *in = data;

	if (r->err)
		return r->err;
	r->stored += len;
	while (len) {
		uint8_t *dst = r->state == RD_FRAME || r->state == RD_BODY ? r->frame : r->head;
		size_t take;
		int err = 0;

		if (r->state == RD_DONE) {
			r->err = rd_bad(r, -EBADMSG, "data after the final chunk (chunk %llu)",
					(unsigned long long)r->index);
			return r->err;
		}
		take = r->need - r->have;
		if (take > len)
			take = len;
		memcpy(dst + r->have, in, take);
		r->have += take;
		in += take;
		len -= take;
		if (r->have < r->need)
			continue;
		switch (r->state) {
		case RD_HEAD:
			if (memcmp(r->head, MAGIC, 8)) {
				err = rd_bad(r, -EBADMSG, "not an actlog backup (bad magic)");
			} else if (r->head[8] != BACKUP_FORMAT || r->head[9] != COMP_ZSTD) {
				err =
				    rd_bad(r, -EBADMSG, "unknown format %u", (unsigned)r->head[8]);
			} else if (!r->head[30] || r->head[30] > BACKUP_NAME_MAX) {
				err = rd_bad(r, -EBADMSG, "bad name length %u in the header",
					     r->head[30]);
			} else {
				r->state = RD_HEAD_NAME;
				r->need = HEAD_FIXED + r->head[30] + 1;
			}
			break;
		case RD_HEAD_NAME: {
			size_t wl = r->head[r->need - 1];

			if (wl > DEK_BLOB_MAX || wl < DEK_BLOB_LEN(1)) {
				err = rd_bad(r, -EBADMSG, "bad wrapped key length %zu", wl);
			} else {
				r->state = RD_HEAD_KEY;
				r->need += wl;
			}
			break;
		}
		case RD_HEAD_KEY:
			r->hlen = r->need;
			err = rd_head(r);
			r->state = RD_FRAME;
			r->have = 0;
			r->need = FRAME_HEAD;
			break;
		case RD_FRAME: {
			const uint8_t *f = r->frame;
			uint64_t n = (uint64_t)f[0] << 24 | f[1] << 16 | f[2] << 8 | f[3];

			r->flags = f[4];
			if (n > r->chunk)
				err =
				    rd_bad(r, -EBADMSG, "chunk %llu is larger than the chunk size",
					   (unsigned long long)r->index);
			else if (r->flags & ~FLAG_FINAL)
				err = rd_bad(r, -EBADMSG, "chunk %llu has unknown flags",
					     (unsigned long long)r->index);
			r->state = RD_BODY;
			r->need = FRAME_OVER + (size_t)n;
			break;
		}
		case RD_BODY:
			err = rd_chunk(r);
			r->state = r->flags & FLAG_FINAL ? RD_DONE : RD_FRAME;
			r->have = 0;
			r->need = FRAME_HEAD;
			break;
		}
		if (err) {
			r->err = err;
			return err;
		}
	}
	return 0;
}

/* The object has ended: was it whole? */
static int rd_end(struct rd *r)
{
	int err;

	if (r->err)
		return r->err;
	if (r->state != RD_DONE)
		return rd_bad(r, -EBADMSG,
			      "truncated: the object ends without its final chunk (after %llu "
			      "chunks)",
			      (unsigned long long)r->index);
	if (r->zlast != 0)
		return rd_bad(r, -EBADMSG, "truncated: the compressed stream is incomplete");
	err = dump_parse_done(&r->dp);
	if (err) {
		say_why(r->why, r->why_len, "%s: %s", r->name, r->dp.why);
		return err;
	}
	return rd_flush(r);
}

static void rd_free(struct rd *r)
{
	store_batch_abort(r->b);
	r->b = NULL;
	crypto_wipe(r->dek, sizeof(r->dek));
	if (r->plain)
		crypto_free(r->plain, r->chunk);
	free(r->frame);
	crypto_free(r->zout, r->zout_len);
	ZSTD_freeDCtx(r->z);
	EVP_MD_CTX_free(r->sha);
	dump_parse_fini(&r->dp);
}

/* Read backup name (manifest b) from t into st (NULL: only check it), checking everything. */
static int read_backup(const struct backup_target *t, struct s3_client *c, const char *name,
		       const struct backup_info *b, const struct keyprov *kp, struct store *st,
		       const struct backup_ctl *ctl, char *why, size_t why_len)
{
	struct rd r = {0};
	uint8_t dig[32];
	char dh[65];
	unsigned dl = 0;
	int err;

	r.kp = kp;
	r.ctl = ctl;
	r.name = name;
	r.kek_id = b->kek_id;
	r.st = st;
	r.why = why;
	r.why_len = why_len;
	r.state = RD_HEAD;
	r.need = HEAD_FIXED;
	r.zlast = 1;
	r.zout_len = ZSTD_DStreamOutSize();
	r.zout = malloc(r.zout_len);
	r.z = ZSTD_createDCtx();
	r.sha = EVP_MD_CTX_new();
	err = dump_parse_init(&r.dp, rd_item, &r);
	if (!err && (!r.zout || !r.z || !r.sha))
		err = -ENOMEM;
	if (!err && EVP_DigestInit_ex(r.sha, EVP_sha256(), NULL) != 1)
		err = -EIO;
	if (err)
		goto out;
	err = get_obj(t, c, name, SUFFIX_ALB, b->stored_bytes, rd_feed, &r, why, why_len);
	if (err == -E2BIG) {
		say_why(why, why_len, "%s: the object is larger than its manifest says", name);
		err = -EBADMSG;
	}
	if (err == -ENOENT)
		say_why(why, why_len, "%s: the manifest is there but not the object", name);
	if (!err)
		err = rd_end(&r);
	if (err)
		goto out;
	if (EVP_DigestFinal_ex(r.sha, dig, &dl) != 1) {
		err = -EIO;
		goto out;
	}
	sodium_bin2hex(dh, sizeof(dh), dig, 32);
	if (strcmp(dh, b->sha256)) {
		err = rd_bad(&r, -EBADMSG,
			     "the SHA-256 of the plaintext does not match the manifest");
		goto out;
	}
	if (r.stored != b->stored_bytes || r.plain_bytes != b->plain_bytes) {
		err = rd_bad(&r, -EBADMSG, "the sizes do not match the manifest");
		goto out;
	}
	for (int i = 0; i < STORE_T__COUNT; i++) {
		if (r.dp.items[i] != b->items[i]) {
			say_why(why, why_len, "%s: table %s has %llu items, the manifest says %llu",
				name, store_table_name(i), (unsigned long long)r.dp.items[i],
				(unsigned long long)b->items[i]);
			err = -EBADMSG;
			goto out;
		}
	}
out:
	if (err == -ENOMEM && why && !*why)
		say_why(why, why_len, "out of memory");
	rd_free(&r);
	return err;
}

/* Remove a store directory we made (its LMDB files) and the directory. */
static void rm_store_dir(const char *dir)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* 0 when dir does not exist or is an empty directory, else -EEXIST/-ENOTDIR. */
static int dir_free(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			err = -EEXIST;
			break;
		}
	}
	closedir(d);
	return err;
}

int backup_restore(const struct backup_target *t, const char *name, const struct keyprov *kp,
		   const char *dir, const struct backup_ctl *ctl, struct backup_info *out,
		   char *why, size_t why_len)
{
	struct s3_client *c = NULL;
	struct store *st = NULL;
	struct backup_info b;
	char tmp[PATH_MAX + 32], parent[PATH_MAX];
	const char *base;
	int err, made = 0;

	say_why(why, why_len, "%s", "");
	if (!name || !name_ok(name, strlen(name)) || !dir || !*dir) {
		say_why(why, why_len, "not a backup name, or no directory");
		return -EINVAL;
	}
	err = dir_free(dir);
	if (err) {
		say_why(why, why_len, "%s is not empty: refusing to restore over it", dir);
		return err == -ENOTDIR ? -EEXIST : err;
	}
	/* the temporary directory beside dir, on its file system */
	snprintf(parent, sizeof(parent), "%s", dir);
	while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
		parent[strlen(parent) - 1] = '\0';
	base = strrchr(parent, '/');
	if (base) {
		int n = snprintf(tmp, sizeof(tmp), "%.*s/.%s.restore-XXXXXX", (int)(base - parent),
				 parent, base + 1);

		if (n < 0 || (size_t)n >= sizeof(tmp))
			return -ENAMETOOLONG;
		if (base == parent)
			snprintf(parent, sizeof(parent), "/");
		else
			parent[base - parent] = '\0';
	} else {
		snprintf(tmp, sizeof(tmp), ".%s.restore-XXXXXX", parent);
		snprintf(parent, sizeof(parent), ".");
	}
	if (t->kind == BACKUP_S3) {
		err = client_new(t, &c, why, why_len);
		if (err)
			return err;
	}
	err = get_manifest(t, c, name, &b, why, why_len);
	if (err == -ENOENT)
		say_why(why, why_len, "no backup %s (no manifest)", name);
	if (err)
		goto out;
	if (!mkdtemp(tmp)) {
		err = -errno;
		say_why(why, why_len, "cannot create a directory beside %s: %s", dir,
			strerror(errno));
		goto out;
	}
	made = 1;
	err = store_open_lmdb(&st, tmp, NULL);
	if (err) {
		say_why(why, why_len, "cannot create a store in %s: %s", tmp, strerror(-err));
		goto out;
	}
	err = read_backup(t, c, name, &b, kp, st, ctl, why, why_len);
	store_close(st);
	st = NULL;
	if (err)
		goto out;
	if (rename(tmp, dir)) {
		err = -errno;
		say_why(why, why_len, "cannot rename %s to %s: %s", tmp, dir, strerror(errno));
		goto out;
	}
	made = 0;
	fsync_dir(parent);
	if (out)
		*out = b;
out:
	store_close(st);
	if (made)
		rm_store_dir(tmp);
	s3_client_free(c);
	return err;
}

int backup_verify(const struct backup_target *t, const char *name, const struct keyprov *kp,
		  const struct backup_ctl *ctl, struct backup_info *out, char *why, size_t why_len)
{
	const char *td = getenv("TMPDIR");
	char base[PATH_MAX], dir[PATH_MAX + 8];
	int err;

	snprintf(base, sizeof(base), "%s/actlog-verify-XXXXXX", td && *td == '/' ? td : "/tmp");
	if (!mkdtemp(base)) {
		say_why(why, why_len, "cannot create a temporary directory: %s", strerror(errno));
		return -errno;
	}
	snprintf(dir, sizeof(dir), "%s/store", base);
	err = backup_restore(t, name, kp, dir, ctl, out, why, why_len);
	if (!err)
		rm_store_dir(dir);
	rmdir(base);
	return err;
}
