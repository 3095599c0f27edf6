// SPDX-License-Identifier: BSD-2-Clause
/*
 * rotate.c - `actlog-server rotate-key`: move the store to a new master key
 * while the server keeps serving (model/rekey.h; docs/ARCHITECTURE.md
 * "Master key rotation"; README "Rotating the master key").
 *
 * File engine, step by step (each step survives a crash; a re-run resumes):
 *   1. the new key is written to <key file>.next (0600): generated, or
 *      copied from --new-key-file;
 *   2. the store's key state becomes "rotating to the new key" (new data
 *      keys are wrapped by it from now on; a server loads .next on SIGHUP,
 *      at --key-poll, or when it first needs the key);
 *   3. every data key is re-wrapped under the new key, in batches, until a
 *      scan finds none under another key;
 *   4. the old key file is kept as <key file>.retired-<id> (a hard link)
 *      and .next is renamed over the key file;
 *   5. the rotation is marked finished.
 * aws-sm: the new key is the secret's AWSCURRENT; steps 2, 3 and 5.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/srv.h"
#include "model/rekey.h"
#include "util.h"

#define PAUSE_MAX_MS 60000u

struct pace {
	unsigned pause_ms;
};

/* After each batch: progress on stdout, then the pause. */
static int on_batch(const struct rekey_progress *p, void *ctx)
{
	const struct pace *pc = ctx;
	struct timespec ts = {pc->pause_ms / 1000, (long)(pc->pause_ms % 1000) * 1000000L};

	printf("rotate-key: batch %llu: %llu re-wrapped, %llu left in this scan\n",
	       (unsigned long long)p->batches, (unsigned long long)p->rewrapped,
	       (unsigned long long)p->left);
	fflush(stdout);
	while (pc->pause_ms && nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

/*
 * Step 4: keep the old key as retired (a hard link; an existing one is
 * left as it is) and rename next over the key file. 0 or -errno with why.
 */
static int retire(const char *kpath, const char *next, const char *retired, char *why,
		  size_t why_len)
{
	if (link(kpath, retired) && errno != EEXIST) {
		say_why(why, why_len, "cannot keep %s as %s: %s", kpath, retired, strerror(errno));
		return -errno;
	}
	if (rename(next, kpath)) {
		say_why(why, why_len, "cannot rename %s to %s: %s", next, kpath, strerror(errno));
		return -errno;
	}
	return fsync_parent(kpath);
}

/* Open (and make, when missing: *made set) the new key at next. 0 or
 * -errno with why. */
static int new_key(const char *next, const char *given, struct keyprov **nk, bool *made, char *why,
		   size_t why_len)
{
	struct keyprov *g = NULL;
	int ret;

	if (!access(next, F_OK)) {
		ret = keyprov_file_open(next, nk, why, why_len);
		if (!ret && given) {
			ret = keyprov_file_open(given, &g, why, why_len);
			if (!ret && strcmp(keyprov_key_id(g), keyprov_key_id(*nk))) {
				say_why(why, why_len,
					"%s holds another new key (%s) than %s (%s): a rotation "
					"to it was prepared; run rotate-key without "
					"--new-key-file to finish it",
					next, keyprov_key_id(*nk), given, keyprov_key_id(g));
				ret = -EEXIST;
			}
			keyprov_free(g);
		}
		return ret;
	}
	if (given) {
		ret = keyprov_file_open(given, &g, why, why_len);
		if (!ret && (ret = keyprov_file_write(g, next)))
			say_why(why, why_len, "cannot write %s: %s", next, strerror(-ret));
		keyprov_free(g);
	} else if ((ret = keyprov_file_create(next))) {
		say_why(why, why_len, "cannot create %s: %s", next, strerror(-ret));
	}
	*made = !ret;
	return ret ? ret : keyprov_file_open(next, nk, why, why_len);
}

int cmd_rotate_key(int argc, char **argv)
{
	static const struct option lo[] = {{"data-dir", required_argument, 0, 'd'},
					   {"new-key-file", required_argument, 0, 'n'},
					   KEY_LONGOPTS,
					   {"batch", required_argument, 0, 'b'},
					   {"pause", required_argument, 0, 'p'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *dir = NULL, *given = NULL;
	char kpath[PATH_MAX], next[PATH_MAX], retired[PATH_MAX], why[1024], to[KEYPROV_ID_MAX + 1];
	struct keyopt ko = {0};
	struct keyprov *kp = NULL, *nk = NULL;
	struct store *st = NULL;
	struct rekey_progress prog = {0};
	struct kek_state ks;
	struct srv s_rot;
	struct pace pc = {0};
	unsigned batch = REKEY_BATCH_DEFAULT;
	bool aws, inited = false, made = false;
	struct stat sb;
	uint64_t u;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			given = optarg;
			break;
		case 'b':
			if (parse_uint(optarg, 1, REKEY_BATCH_MAX, &u)) {
				fprintf(stderr, "actlog-server rotate-key: --batch must be 1..%d\n",
					REKEY_BATCH_MAX);
				return 2;
			}
			batch = (unsigned)u;
			break;
		case 'p':
			if (parse_uint(optarg, 0, PAUSE_MAX_MS, &u)) {
				fprintf(stderr,
					"actlog-server rotate-key: --pause must be 0..%u ms\n",
					PAUSE_MAX_MS);
				return 2;
			}
			pc.pause_ms = (unsigned)u;
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
	if (keyopt_check(&ko, "rotate-key"))
		return 2;
	if (!dir || optind != argc) {
		fprintf(stderr, "actlog-server rotate-key: --data-dir is required\n");
		return 2;
	}
	aws = ko.provider && !strcmp(ko.provider, "aws-sm");
	if (aws && given) {
		fprintf(stderr, "actlog-server rotate-key: --new-key-file is for the file engine; "
				"with aws-sm the new key is the secret's AWSCURRENT\n");
		return 2;
	}
	snprintf(next, sizeof(next), "%s/data.mdb", dir);
	if (stat(next, &sb)) {
		fprintf(stderr, "actlog-server rotate-key: no store in %s\n", dir);
		return 1;
	}
	ret = store_open_lmdb(&st, dir, NULL);
	if (ret) {
		fprintf(stderr, "actlog-server rotate-key: store %s: %s\n", dir, strerror(-ret));
		return 1;
	}
	/* the key ring: the current key (and for aws-sm its other stages) */
	ret = key_open(&ko, dir, false, &kp, kpath, sizeof(kpath), why, sizeof(why), NULL);
	if (ret)
		goto fail;
	ret = srv_init(&s_rot, st, kp, NULL);
	if (ret) {
		say_why(why, sizeof(why), "%s", strerror(-ret));
		goto fail;
	}
	inited = true;
	ret = srv_kek_state(&s_rot, &ks);
	if (ret) {
		say_why(why, sizeof(why), "cannot read the key state: %s", strerror(-ret));
		goto fail;
	}
	if (!aws) {
		key_next_path(next, sizeof(next), dir, ko.key_file);
		/* the key file already holds the new key: only the end is left */
		if (!(ks.started && keyprov_id_eq(ks.current, keyprov_key_id(kp)) &&
		      access(next, F_OK))) {
			ret = new_key(next, given, &nk, &made, why, sizeof(why));
			if (ret)
				goto fail;
			if (keyprov_id_eq(keyprov_key_id(nk), keyprov_key_id(kp))) {
				say_why(why, sizeof(why),
					"the new key is the current key (%s); remove %s",
					keyprov_key_id(kp), next);
				keyprov_free(nk);
				ret = -EINVAL;
				goto fail;
			}
			snprintf(to, sizeof(to), "%s", keyprov_key_id(nk));
			ret = keyprov_ring_add(kp, nk);
			if (ret)
				goto fail;
		} else {
			snprintf(to, sizeof(to), "%s", keyprov_key_id(kp));
		}
	} else {
		snprintf(to, sizeof(to), "%s", keyprov_key_id(kp));
	}
	if (ks.started && !keyprov_id_eq(ks.current, to)) {
		say_why(why, sizeof(why),
			"a rotation from %s to %s is in progress; finish it first with the key "
			"that holds %s",
			ks.from, ks.current, ks.current);
		ret = -EBUSY;
		goto fail;
	}
	ret = srv_key_check(&s_rot, why, sizeof(why));
	if (ret)
		goto fail;
	ret = rekey_begin(&s_rot, to, false, "rotate-key", &ks);
	if (ret < 0) {
		say_why(why, sizeof(why), "cannot start the rotation: %s", strerror(-ret));
		goto fail;
	}
	made = false; /* the store names the new key now: .next stays */
	printf("rotate-key: %s the rotation from %s to %s; new data keys are wrapped by %s\n"
	       "rotate-key: a running server loads the new key on SIGHUP, at its next key poll,\n"
	       "rotate-key: or when it next needs it\n",
	       ret == 1 ? "resuming" : "started", ks.from, to, to);
	fflush(stdout);
	ret = rekey_pass(&s_rot, batch, on_batch, &pc, NULL, &prog, why, sizeof(why));
	if (ret)
		goto fail;
	if (!aws && nk) {
		key_retired_path(retired, sizeof(retired), dir, ko.key_file, keyprov_key_id(kp));
		ret = retire(kpath, next, retired, why, sizeof(why));
		if (ret)
			goto fail;
		printf("rotate-key: %s now holds %s; the old key is kept as %s\n", kpath, to,
		       retired);
	}
	ret = rekey_finish(&s_rot, &prog, why, sizeof(why));
	if (ret)
		goto fail;
	printf("rotate-key: done: %llu data keys re-wrapped in %llu batches (%llu retried); "
	       "the master key is %s\n",
	       (unsigned long long)prog.rewrapped, (unsigned long long)prog.batches,
	       (unsigned long long)prog.retries, to);
	srv_fini(&s_rot);
	store_close(st);
	keyprov_free(kp);
	return 0;
fail:
	fprintf(stderr, "actlog-server rotate-key: %s\n", why);
	if (made) /* made by this run, and no rotation to it started */
		unlink(next);
	if (inited)
		srv_fini(&s_rot);
	store_close(st);
	keyprov_free(kp);
	return 1;
}
