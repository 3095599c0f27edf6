// SPDX-License-Identifier: BSD-2-Clause
/*
 * init.c - `actlog-server init`: a new store, its master key, the first
 * business and its administrator.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/srv.h"
#include "util.h"

int cmd_init(int argc, char **argv)
{
	static const struct option lo[] = {{"data-dir", required_argument, 0, 'd'},
					   {"admin-email", required_argument, 0, 'e'},
					   {"admin-password-file", required_argument, 0, 'p'},
					   {"business", required_argument, 0, 'b'},
					   KEY_LONGOPTS,
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *dir = NULL, *email = NULL, *pwfile = NULL, *business = "My business";
	char kpath[PATH_MAX], dpath[PATH_MAX], why[512], em[EMAIL_MAX_LEN + 1];
	struct keyopt ko = {0};
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct srv s;
	char *pw = NULL;
	bool made_key = false;
	struct stat sb;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'e':
			email = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'b':
			business = optarg;
			break;
		case 'h':
			cli_usage(stdout);
			return 0;
		default:
			if (keyopt_take(&ko, c, optarg))
				break;
			cli_usage(stderr);
			return 2;
		}
	}
	if (keyopt_check(&ko, "init"))
		return 2;
	if (!dir || !email || !pwfile || optind != argc) {
		fprintf(stderr, "actlog-server init: --data-dir, --admin-email and "
				"--admin-password-file are required\n");
		return 2;
	}
	if (email_norm(email, em)) {
		fprintf(stderr, "actlog-server init: '%s' is not an email address\n", email);
		return 2;
	}
	if (!*business || strlen(business) > NAME_MAX_LEN) {
		fprintf(stderr, "actlog-server init: --business must be 1..%d bytes\n",
			NAME_MAX_LEN);
		return 2;
	}
	ret = read_secret_line(pwfile, PW_FILE_MAX, &pw);
	if (ret) {
		fprintf(stderr, "actlog-server init: cannot read %s: %s\n", pwfile,
			ret == -EFBIG ? "file too large" : strerror(-ret));
		return 1;
	}
	if (strlen(pw) < PASSWORD_MIN_LEN || strlen(pw) > PASSWORD_MAX) {
		fprintf(stderr, "actlog-server init: the password must be %d..%d bytes\n",
			PASSWORD_MIN_LEN, PASSWORD_MAX);
		ret = -EINVAL;
		goto out;
	}
	snprintf(dpath, sizeof(dpath), "%s/data.mdb", dir);
	if (!stat(dpath, &sb)) {
		fprintf(stderr,
			"actlog-server init: %s already holds a store; refusing to overwrite it\n",
			dir);
		ret = -EEXIST;
		goto out;
	}
	ret = mkdir_p(dir, 0700);
	if (ret) {
		fprintf(stderr, "actlog-server init: cannot create %s: %s\n", dir, strerror(-ret));
		goto out;
	}
	ret = key_open(&ko, dir, true, &kp, kpath, sizeof(kpath), why, sizeof(why), &made_key);
	if (ret) {
		fprintf(stderr, "actlog-server init: master key: %s\n", why);
		goto out;
	}
	ret = store_open_lmdb(&st, dir, NULL);
	if (ret) {
		fprintf(stderr, "actlog-server init: cannot open the store in %s: %s\n", dir,
			strerror(-ret));
		goto out;
	}
	ret = srv_init(&s, st, kp, NULL);
	if (!ret) {
		ret = srv_bootstrap(&s, business, email, pw);
		if (ret == -EEXIST)
			fprintf(stderr, "actlog-server init: %s is already initialised\n", dir);
		else if (ret)
			fprintf(stderr, "actlog-server init: %s\n", strerror(-ret));
		else
			printf("initialised %s\n  business: %s (%s)\n  admin:    %s\n  master "
			       "key: %s%s\n",
			       dir, business, s.business_id, em, kpath,
			       made_key ? " (new; back it up: without it the store's secrets "
					  "are lost)"
					: "");
		srv_fini(&s);
	}
out:
	store_close(st);
	keyprov_free(kp);
	if (pw)
		crypto_free(pw, strlen(pw));
	return ret ? 1 : 0;
}
