/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backup.h - encrypted backups of the whole store, where they are kept, and
 * their verified restore. The commands `actlog-server backup | backup list |
 * backup verify | restore` (cli/backup.c) and the server's periodic backups
 * (model/backup_sched.c) are built on these calls only.
 *
 * A backup is one logical snapshot of every table (every item of one
 * consistent read of the store, so that it restores into any engine),
 * compressed, and encrypted in chunks with AES-256-GCM under a fresh data
 * key that the master key wraps (crypto.h: dek_wrap). Each chunk is
 * authenticated with its index and a final-chunk flag, so that reordered,
 * dropped, truncated or spliced chunks are refused. It is kept as two
 * objects side by side under the target:
 *
 *   NAME.alb            the encrypted stream (format in backup.c)
 *   NAME.manifest.json  struct backup_info as JSON, written after the
 *                       stream is complete: a backup without its manifest
 *                       is unfinished and is neither listed nor restored
 *
 * NAME is "actlog-YYYYMMDDTHHMMSSZ-XXXXXXXX" (the snapshot's UTC time and 32
 * random bits in hex), so names sort by time.
 *
 * Errors are negative errno, with a one-line reason in why (always
 * NUL-terminated; a caller logs it or prints it). No function logs.
 */
#ifndef ACTLOG_MODEL_BACKUP_H
#define ACTLOG_MODEL_BACKUP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/keyprov.h"
#include "s3.h"
#include "store/store.h"

#define BACKUP_FORMAT 1
#define BACKUP_NAME_MAX 64 /* bytes of a name, without the NUL */
#define BACKUP_URL_MAX 1024
#define BACKUP_LIST_MAX 10000 /* backups backup_list() returns at most */
/* Compressed plaintext bytes per encrypted chunk (format in backup.c). */
#define BACKUP_CHUNK (1u << 20)
#define BACKUP_CHUNK_MIN 64u	     /* what a reader accepts, and backup_ctl.chunk_size */
#define BACKUP_CHUNK_MAX (16u << 20) /* idem */

/* Where backups are kept. */
enum backup_kind { BACKUP_S3, BACKUP_FILE };

struct backup_target {
	enum backup_kind kind;
	char *dir;	     /* BACKUP_FILE: the directory (absolute) */
	char *prefix;	     /* BACKUP_S3: the key prefix, "" or ending in '/' */
	struct s3_config s3; /* BACKUP_S3: the bucket and its settings */
	char *held;	     /* the strings the fields above point into */
	size_t held_len;
};

/*
 * Parse url into *t: "s3://BUCKET[/PREFIX]" takes the region, endpoint, path
 * style and credentials from s3 (may be NULL for file URLs; its bucket is
 * ignored, the URL's wins); "file:///ABSOLUTE/DIR" needs no settings.
 * Strings are copied into t (secrets are wiped by backup_target_free).
 * 0; -EINVAL with the reason (another scheme, a bad bucket name, a relative
 * path, S3 settings missing); -ENOMEM.
 */
int backup_target_parse(const char *url, const struct s3_config *s3, struct backup_target *t,
			char *why, size_t why_len);
/* Wipe and free what t holds; t is left empty. Accepts an empty t. */
void backup_target_free(struct backup_target *t);

/*
 * Split the URL of one backup, "s3://BUCKET/PREFIX/NAME" or
 * "file:///DIR/NAME" (NAME may carry .alb or .manifest.json), into the
 * target's URL (target_url, BACKUP_URL_MAX + 1 bytes) and the name (name,
 * BACKUP_NAME_MAX + 1 bytes). 0 or -EINVAL with the reason.
 */
int backup_url_split(const char *url, char *target_url, char *name, char *why, size_t why_len);

/* A backup as its manifest describes it. */
struct backup_info {
	char name[BACKUP_NAME_MAX + 1];
	int format;			 /* BACKUP_FORMAT */
	int64_t snapshot_ms;		 /* Unix ms of the snapshot */
	int64_t finished_ms;		 /* Unix ms the stream was complete */
	char server_version[32];	 /* of the server that took it */
	uint64_t plain_bytes;		 /* the plaintext stream */
	uint64_t stored_bytes;		 /* the encrypted object */
	char sha256[65];		 /* hex SHA-256 of the plaintext stream */
	uint64_t items[STORE_T__COUNT];	 /* items per table */
	char kek_id[KEYPROV_ID_MAX + 1]; /* the master key that wraps the data key */
};

/* Optional controls of a long call (NULL: none). */
struct backup_ctl {
	/* when set and non-zero, the call stops at the next chunk with
	 * -ECANCELED, leaving nothing behind (the server's shutdown) */
	const volatile sig_atomic_t *cancel;
	/* told the plaintext bytes done so far, about once per chunk */
	void (*progress)(void *ctx, uint64_t plain_bytes);
	void *ctx;
	/* backup_take: bytes per chunk, BACKUP_CHUNK_MIN..BACKUP_CHUNK_MAX
	 * (0: BACKUP_CHUNK); small ones let tests make many chunks */
	uint32_t chunk_size;
	/* backup_take: when set, also called with tee_ctx for every item of
	 * the snapshot, from its read (the shape and rules of store_snap_fn;
	 * `backup --dump-to` writes the text dump with it). An attempt that
	 * gives way to a map growth (store_snapshot: -EAGAIN) is started over:
	 * tee_reset (when set) is called before each attempt after the first. */
	store_snap_fn tee;
	void (*tee_reset)(void *ctx);
	void *tee_ctx;
};

/*
 * Take a backup of st now, while it stays in use by other threads and
 * processes: one consistent snapshot, streamed (bounded memory: a few
 * chunk buffers; no full copy on local disk) to target t, then the
 * manifest. On success *out describes it. On failure nothing usable is
 * left at t (an S3 multipart upload is aborted, a partial file removed).
 * 0, -ECANCELED, -ENOSPC, -EACCES (S3 refused), -EAGAIN (S3 unreachable or
 * throttled), -EIO, -ENOMEM, with the reason.
 */
int backup_take(struct store *st, const struct keyprov *kp, const struct backup_target *t,
		const struct backup_ctl *ctl, struct backup_info *out, char *why, size_t why_len);

/*
 * The complete backups at t (those with a manifest), newest first: *out is
 * malloc'd (free()), *n its length: the newest BACKUP_LIST_MAX when there
 * are more. Only objects named as backup_take() names them count
 * (backup_name_shape()); others under the prefix are left alone. A manifest
 * that does not parse is skipped. 0 or -errno with the reason.
 */
int backup_list(const struct backup_target *t, struct backup_info **out, size_t *n, char *why,
		size_t why_len);

/* Delete backup name at t: the manifest first, then the stream. A missing
 * object is not an error. 0 or -errno with the reason. */
int backup_delete(const struct backup_target *t, const char *name, char *why, size_t why_len);

/*
 * Keep the keep newest complete backups at t (keep >= 1) and delete the
 * older ones; *deleted (may be NULL) gets how many went. Backup spare (may
 * be NULL: the one just taken) is kept whatever its place, as one of the
 * keep: names sort by the clock of their time, which may have gone back
 * since the newest name at t was made. 0 or the first -errno with the
 * reason (the ones before it stay deleted).
 */
int backup_prune(const struct backup_target *t, unsigned keep, const char *spare, unsigned *deleted,
		 char *why, size_t why_len);

/*
 * Restore backup name from t into dir, which must not exist or be empty
 * (-EEXIST otherwise). The store is built in a temporary directory beside
 * dir and renamed to dir only after every chunk authenticated, the final
 * chunk was seen, the plaintext SHA-256 and the item counts matched the
 * manifest: on any failure nothing is left at dir. The master key kp must
 * be the one that wrapped the data key (the manifest's kek_id). *out (may
 * be NULL) gets the manifest. 0; -EBADMSG (a damaged, truncated, reordered
 * or foreign object, or a checksum or count that does not match), -EKEYREJECTED
 * (another master key), -ENOENT (no such backup), -EEXIST, or -errno, each
 * with the reason.
 */
int backup_restore(const struct backup_target *t, const char *name, const struct keyprov *kp,
		   const char *dir, const struct backup_ctl *ctl, struct backup_info *out,
		   char *why, size_t why_len);

/*
 * backup_restore() into a temporary directory that is removed afterwards,
 * comparing the restored store's item counts with the manifest. 0 when the
 * backup restores and matches; the errors of backup_restore().
 */
int backup_verify(const struct backup_target *t, const char *name, const struct keyprov *kp,
		  const struct backup_ctl *ctl, struct backup_info *out, char *why, size_t why_len);

/* The manifest as JSON (the object NAME.manifest.json holds), and back.
 * backup_info_from_json: 0 or -EBADMSG. */
cJSON *backup_info_to_json(const struct backup_info *b);
int backup_info_from_json(const cJSON *j, struct backup_info *b);

/* --- pure helpers, exposed for tests --- */

/* 1 when name (n bytes) has the shape of the names backup_take() gives,
 * "actlog-YYYYMMDDTHHMMSSZ-XXXXXXXX" (digits, lower-case hex): listing and
 * pruning count only those, so another object under the prefix that
 * happens to end in .manifest.json is never counted, kept or deleted. */
int backup_name_shape(const char *name, size_t n);

/*
 * A bounded set of names that keeps the greatest (newest) cap of those
 * added, whatever their order: a min-heap in v (cap slots), *n in use.
 * backup_names_add: O(log cap). backup_names_sort: sorts v[0..n) from the
 * greatest down (the heap is gone).
 */
void backup_names_add(char (*v)[BACKUP_NAME_MAX + 1], size_t *n, size_t cap, const char *name);
void backup_names_sort(char (*v)[BACKUP_NAME_MAX + 1], size_t n);

#endif /* ACTLOG_MODEL_BACKUP_H */
