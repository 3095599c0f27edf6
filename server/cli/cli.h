/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.h - the commands of actlog-server (one file each under server/cli/)
 * and what they share: the master-key options and opening the key. main.c
 * dispatches argv[1] to a cmd_*(); each returns the process exit status
 * (0 done, 1 failed, 2 usage error) and prints its own messages.
 */
#ifndef ACTLOG_CLI_H
#define ACTLOG_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/keyprov.h"

#define PW_FILE_MAX 4096
/* serve --key-poll: reload the key ring this often (seconds; 0: SIGHUP only) */
#define KEY_POLL_DEFAULT_S 300
#define KEY_POLL_MAX_S 86400

/* The whole usage text (main.c). */
void cli_usage(FILE *f);

/* Where the master key comes from (the key options of init and serve). */
struct keyopt {
	const char *provider; /* "file" (default) or "aws-sm" */
	const char *key_file;
	struct keyprov_aws_cfg aws;
};

/* clang-format off */
#define KEY_LONGOPTS                                                                               \
	{"key-file", required_argument, 0, 'k'},                                                   \
	{"key-provider", required_argument, 0, 'P'},                                               \
	{"aws-secret-id", required_argument, 0, 'S'},                                              \
	{"aws-region", required_argument, 0, 'R'},                                                 \
	{"aws-endpoint", required_argument, 0, 'E'}
/* clang-format on */

/* 1 when getopt's c was a key option (stored in k), 0 otherwise. */
int keyopt_take(struct keyopt *k, int c, const char *arg);
/* 0, or 2 after printing why the key options of command cmd do not fit
 * together. */
int keyopt_check(const struct keyopt *k, const char *cmd);
/* The key file's path: key_file, or dir/master.key. */
void key_path(char *out, size_t n, const char *dir, const char *key_file);
/*
 * Open the master key the options name. create (init): a missing key file
 * is made (*made set). where describes the key for messages; why holds the
 * reason on failure. 0 or -errno.
 */
int key_open(struct keyopt *k, const char *dir, bool create, struct keyprov **kp, char *where,
	     size_t where_len, char *why, size_t why_len, bool *made);

/* The key file a rotation writes and then renames over the key file:
 * <key file>.next; and where the key it replaces is kept:
 * <key file>.retired-<the key id's hex part>. */
void key_next_path(char *out, size_t n, const char *dir, const char *key_file);
void key_retired_path(char *out, size_t n, const char *dir, const char *key_file,
		      const char *key_id);
/*
 * key_open() for serving: the key ring. With the file engine, the key file
 * is the ring's current key and the key file's .next (a rotation's new key,
 * when present) is added to the ring; aws-sm's ring is its version stages.
 * 0 or -errno with why.
 */
int key_ring_open(struct keyopt *k, const char *dir, struct keyprov **kp, char *where,
		  size_t where_len, char *why, size_t why_len);

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_backup(int argc, char **argv); /* backup, backup list, backup verify */
int cmd_restore(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_rotate_key(int argc, char **argv);

#endif /* ACTLOG_CLI_H */
