/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keyprov.h - master key (KEK) providers of actlog-server.
 *
 * A provider hands out the 32-byte key-encryption key that wraps the data
 * keys (crypto.h: dek_wrap) and names it with a key id that is written into
 * every wrapped DEK, so that after a rotation the server knows which KEK a
 * blob needs. A new key always gets a new id. Rotation holds both keys in one
 * ring (old and new; below) and re-wraps every DEK with crypto_rewrap()
 * (model/rekey.h).
 *
 * Engines:
 *
 *   file     A local key file, for on-prem and development. Format: exactly
 *            64 lowercase or uppercase hex digits (the 32 key bytes),
 *            optionally followed by one "\n"; nothing else. Created by
 *            keyprov_file_create() with mode 0600; keyprov_file_open()
 *            refuses a file that is not a regular file owned by the
 *            effective user with no group/other permission bits. The key id
 *            is "file:" + 16 hex digits of HMAC-SHA256(key, "actlog-kek-id"):
 *            stable across restarts, different for every key, and it does
 *            not reveal the key.
 *
 *   aws-sm   AWS Secrets Manager: the SecretString of a secret, in the
 *            key-file format above, read with GetSecretValue (JSON 1.1
 *            protocol, SigV4 signed, HTTPS; retried on transport errors, 5xx
 *            and throttling) when the provider is opened, then kept in
 *            memory: a new secret version (rotation) is read by opening a
 *            new provider (the server does on SIGHUP and --key-poll). The
 *            key id is "aws:" + the same HMAC hex as the file engine's: the
 *            id names the key, so one key moved from a file to Secrets
 *            Manager unwraps the same DEKs (ids are labels; unwrapping is
 *            authenticated by the key itself). Credentials come from the
 *            environment or else the EC2 instance metadata service.
 *
 * Key ring: a provider holds its current KEK (the one get_kek returns, which
 * wraps new DEKs) and may hold other known keys, each under its own id
 * (keyprov_ring_add): the key a rotation moves away from, a file named
 * master.key.next, or the AWSPENDING and AWSPREVIOUS versions of a secret.
 * A wrapped DEK is opened with the key its blob names
 * (crypto_blob_key_id, then keyprov_get_kek_by_id). The server swaps its
 * whole provider for a freshly loaded one on SIGHUP and --key-poll.
 *
 * Providers are safe to share between threads once opened (get_kek does not
 * modify the provider; keyprov_ring_add is for the one who builds it, before
 * sharing). No function logs; errors are negative errno.
 */
#ifndef ACTLOG_KEYPROV_H
#define ACTLOG_KEYPROV_H

#include <stddef.h>
#include <stdint.h>

#define KEK_LEN 32
/* Longest key id, bytes without the NUL; ids are printable ASCII without
 * spaces (crypto.h stores them in one length byte). */
#define KEYPROV_ID_MAX 64
/* Key file: 64 hex digits and an optional newline. */
#define KEYPROV_FILE_HEX_LEN (2 * KEK_LEN)

struct keyprov;

/* What an engine implements. */
struct keyprov_ops {
	const char *name; /* engine name: "file" or "aws-sm" */
	/* Copy the current KEK into kek. 0 or -errno. The caller wipes kek
	 * (crypto_wipe) when done. */
	int (*get_kek)(const struct keyprov *kp, uint8_t kek[KEK_LEN]);
	/* Wipe and free the engine's state (kp->priv); kp itself is freed by
	 * keyprov_free(). */
	void (*destroy)(struct keyprov *kp);
};

struct keyprov {
	const struct keyprov_ops *ops;
	char key_id[KEYPROV_ID_MAX + 1]; /* id of the key get_kek returns */
	void *priv;			 /* engine state; holds the key material */
	struct keyprov *next;		 /* the ring: other known keys (owned) */
};

/* Keys one ring holds at most, the current one included. */
#define KEYPROV_RING_MAX 8

/* Copy the provider's current KEK into kek. 0 or the engine's -errno. The
 * caller wipes kek after use. */
int keyprov_get_kek(const struct keyprov *kp, uint8_t kek[KEK_LEN]);
/* The key id of the current KEK (owned by kp). */
const char *keyprov_key_id(const struct keyprov *kp);
/* The engine name, e.g. "file" (static string). */
const char *keyprov_name(const struct keyprov *kp);
/* Wipe the key material and free kp with its whole ring. Accepts NULL. */
void keyprov_free(struct keyprov *kp);

/*
 * Add other (with its own ring) to kp's ring as known, non-current keys;
 * kp takes ownership of other in every case (a key whose id kp's ring
 * already holds is freed). 0, or -E2BIG when the ring would hold more than
 * KEYPROV_RING_MAX keys (other is freed, kp unchanged).
 */
int keyprov_ring_add(struct keyprov *kp, struct keyprov *other);
/* 1 when key ids a and b name the same key: equal, or the same hash after
 * the engine prefix ("file:<h>" and "aws:<h>" are one key moved between
 * engines), else 0. */
int keyprov_id_eq(const char *a, const char *b);
/* Copy the KEK of id (the current key or one of the ring; keyprov_id_eq) into kek; the
 * caller wipes it. 0, -ENOKEY (no key of that id), or the engine's -errno. */
int keyprov_get_kek_by_id(const struct keyprov *kp, const char *id, uint8_t kek[KEK_LEN]);
/* 1 when kp's ring holds a key of id, 0 otherwise (kp may be NULL). */
int keyprov_has(const struct keyprov *kp, const char *id);
/* The ids of the ring's keys, the current one first, into ids (at most max;
 * pointers owned by kp). Returns how many the ring holds (may be > max). */
size_t keyprov_ids(const struct keyprov *kp, const char **ids, size_t max);

/*
 * Create a new key file at path holding 32 random bytes in the format above,
 * mode exactly 0600 whatever the umask, opened O_CREAT|O_EXCL|O_NOFOLLOW|
 * O_CLOEXEC and fsync'ed (file and directory). Never overwrites: -EEXIST
 * when path exists (also a dangling symlink). On any failure after creation
 * the partial file is removed. 0 or -errno (-EIO when no randomness).
 */
int keyprov_file_create(const char *path);
/* Write kp's current key to a new key file at path, by the rules of
 * keyprov_file_create (0600, never overwrites: -EEXIST). 0 or -errno. */
int keyprov_file_write(const struct keyprov *kp, const char *path);

/*
 * Open the key file at path as a provider; *out is freed with keyprov_free().
 * Errors, with a one-line reason written to why (if not NULL, always
 * NUL-terminated, may be truncated) that the caller can log:
 *   -EPERM   not owned by the effective user, or group/other permission bits
 *            set (mode & 077), or not a regular file;
 *   -EINVAL  not exactly 64 hex digits (+ optional newline);
 *   -ENOMEM, or open/read errors as -errno.
 * The file is checked with fstat on the descriptor that is read.
 */
int keyprov_file_open(const char *path, struct keyprov **out, char *why, size_t why_len);

/* Settings of the aws-sm engine (strings are the caller's). */
struct keyprov_aws_cfg {
	const char *secret_id;	   /* name or ARN */
	const char *region;	   /* e.g. "eu-west-1" */
	const char *endpoint;	   /* NULL: https://secretsmanager.<region>.amazonaws.com/ */
	const char *access_key;	   /* AWS_ACCESS_KEY_ID */
	const char *secret_key;	   /* AWS_SECRET_ACCESS_KEY */
	const char *session_token; /* AWS_SESSION_TOKEN, or NULL */
	unsigned timeout_ms;	   /* per attempt; 0: 15 s */
	/* Set by keyprov_aws_cfg_env: the instance-metadata answers the
	 * pointers above may point into; keyprov_aws_cfg_wipe() frees it. */
	char *held;
	size_t held_len;
};

/*
 * Fill the unset fields of cfg from the environment: AWS_REGION (or
 * AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_SECRETS_MANAGER (or
 * AWS_ENDPOINT_URL), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN. When neither key is set (nor given in cfg), the
 * credentials come from the EC2 instance metadata service (IMDSv2: a PUT
 * for a session token, then the instance profile's role and its temporary
 * credentials), and so does the region when none is set; the service is at
 * $AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254) and
 * AWS_EC2_METADATA_DISABLED=true turns it off. Each metadata request has a
 * 1 s connect and 2 s total timeout and two attempts. What the service
 * answers is held in cfg->held until keyprov_aws_cfg_wipe(), which the
 * caller runs after keyprov_aws_open() whatever this returned.
 * Errors with a reason: -EINVAL the secret id, region or credentials are
 * still missing; -EAGAIN the metadata service did not answer; -EACCES it
 * refused; -EIO an answer that is not what IMDS sends; -ENOMEM.
 */
int keyprov_aws_cfg_env(struct keyprov_aws_cfg *cfg, char *why, size_t why_len);

/* Wipe and free what keyprov_aws_cfg_env fetched (cfg->held) and clear the
 * pointers into it. Safe to call twice, and when nothing was fetched. */
void keyprov_aws_cfg_wipe(struct keyprov_aws_cfg *cfg);

/*
 * Open the aws-sm engine: GetSecretValue of the version stages AWSCURRENT
 * (the current key, required), then AWSPENDING and AWSPREVIOUS (added to
 * the ring when the secret has them; a stage the secret does not have is
 * skipped). Errors with a reason in why:
 *   -EINVAL  bad settings, or the SecretString is not the key-file format;
 *   -ENOENT  no such secret; -EACCES refused (credentials, signature,
 *            permissions: the reason carries AWS's error type and message);
 *   -EAGAIN  the endpoint could not be reached; -EIO other HTTP answers;
 *   -EFBIG   an answer over 64 KiB; -ENOMEM.
 */
int keyprov_aws_open(const struct keyprov_aws_cfg *cfg, struct keyprov **out, char *why,
		     size_t why_len);

/* --- for engines --- */

/*
 * A provider of engine ops that keeps in memory the key parsed from key-file
 * text (keyprov_file_open's format; len bytes, no NUL needed), with the key
 * id "<id_prefix>:" + 16 hex digits of HMAC-SHA256(key, "actlog-kek-id").
 * ops->get_kek and ops->destroy are keyprov_mem_get_kek and
 * keyprov_mem_destroy. *out is freed with keyprov_free(). 0; -EINVAL (not
 * the key-file format), -ENOMEM, -EIO (no key id).
 */
int keyprov_mem_new(const struct keyprov_ops *ops, const char *id_prefix, const char *text,
		    size_t len, struct keyprov **out);
int keyprov_mem_get_kek(const struct keyprov *kp, uint8_t kek[KEK_LEN]);
void keyprov_mem_destroy(struct keyprov *kp);

#endif /* ACTLOG_KEYPROV_H */
