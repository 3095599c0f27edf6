// SPDX-License-Identifier: BSD-2-Clause
/*
 * key.c - the master-key options shared by the commands (cli.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli/cli.h"

/* 1 when c was a key option (stored in k). */
int keyopt_take(struct keyopt *k, int c, const char *arg)
{
	switch (c) {
	case 'k':
		k->key_file = arg;
		return 1;
	case 'P':
		k->provider = arg;
		return 1;
	case 'S':
		k->aws.secret_id = arg;
		return 1;
	case 'R':
		k->aws.region = arg;
		return 1;
	case 'E':
		k->aws.endpoint = arg;
		return 1;
	default:
		return 0;
	}
}

/* 0, or 2 after printing why the key options do not fit together. */
int keyopt_check(const struct keyopt *k, const char *cmd)
{
	bool aws = k->provider && !strcmp(k->provider, "aws-sm");

	if (k->provider && !aws && strcmp(k->provider, "file")) {
		fprintf(stderr, "actlog-server %s: --key-provider is file or aws-sm, not '%s'\n",
			cmd, k->provider);
		return 2;
	}
	if (aws && k->key_file) {
		fprintf(stderr, "actlog-server %s: --key-file is for --key-provider file\n", cmd);
		return 2;
	}
	if (!aws && (k->aws.secret_id || k->aws.region || k->aws.endpoint)) {
		fprintf(stderr, "actlog-server %s: --aws-* options need --key-provider aws-sm\n",
			cmd);
		return 2;
	}
	return 0;
}

void key_path(char *out, size_t n, const char *dir, const char *key_file)
{
	if (key_file)
		snprintf(out, n, "%s", key_file);
	else
		snprintf(out, n, "%s/master.key", dir);
}

/*
 * Open the master key the options name. create (init): a missing key file
 * is made (*made set). where describes the key for messages; why holds the
 * reason on failure. 0 or -errno.
 */
int key_open(struct keyopt *k, const char *dir, bool create, struct keyprov **kp, char *where,
	     size_t where_len, char *why, size_t why_len, bool *made)
{
	struct stat sb;
	int ret;

	*kp = NULL;
	if (made)
		*made = false;
	if (k->provider && !strcmp(k->provider, "aws-sm")) {
		snprintf(where, where_len, "aws-sm secret %s",
			 k->aws.secret_id ? k->aws.secret_id : "(none)");
		ret = keyprov_aws_cfg_env(&k->aws, why, why_len);
		if (!ret)
			ret = keyprov_aws_open(&k->aws, kp, why, why_len);
		keyprov_aws_cfg_wipe(&k->aws); /* instance-profile credentials */
		return ret;
	}
	key_path(where, where_len, dir, k->key_file);
	if (create && stat(where, &sb)) {
		ret = keyprov_file_create(where);
		if (ret) {
			snprintf(why, why_len, "cannot create key file %s: %s", where,
				 strerror(-ret));
			return ret;
		}
		if (made)
			*made = true;
	}
	return keyprov_file_open(where, kp, why, why_len);
}

void key_next_path(char *out, size_t n, const char *dir, const char *key_file)
{
	size_t l;

	key_path(out, n, dir, key_file);
	l = strlen(out);
	snprintf(out + l, n - l, ".next");
}

void key_retired_path(char *out, size_t n, const char *dir, const char *key_file,
		      const char *key_id)
{
	const char *hex = strchr(key_id, ':');
	size_t l;

	key_path(out, n, dir, key_file);
	l = strlen(out);
	snprintf(out + l, n - l, ".retired-%s", hex ? hex + 1 : key_id);
}

int key_ring_open(struct keyopt *k, const char *dir, struct keyprov **kp, char *where,
		  size_t where_len, char *why, size_t why_len)
{
	char next[4096];
	struct keyprov *nk = NULL;
	int ret;

	ret = key_open(k, dir, false, kp, where, where_len, why, why_len, NULL);
	if (ret || (k->provider && !strcmp(k->provider, "aws-sm")))
		return ret;
	key_next_path(next, sizeof(next), dir, k->key_file);
	if (access(next, F_OK))
		return 0;
	ret = keyprov_file_open(next, &nk, why, why_len);
	if (!ret)
		ret = keyprov_ring_add(*kp, nk);
	if (ret) {
		keyprov_free(*kp);
		*kp = NULL;
	}
	return ret;
}
