// SPDX-License-Identifier: BSD-2-Clause
/*
 * backup.c - `actlog-server backup | backup list | backup verify | restore
 * | dump`: encrypted backups of a store (model/backup.h) and the text dump
 * of one (model/dump.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/crypto.h"
#include "core/srv.h"
#include "model/backup.h"
#include "model/backup_sched.h"
#include "model/dump.h"
#include "util.h"

#define CONFIG_MAX (64u << 10)

/* Options of the backup commands. */
struct bopts {
	const char *cmd; /* "backup", "backup list", ... for messages */
	const char *dir, *url, *config, *dump_to;
	bool json;
	struct keyopt ko;
};

/* One-line error, as text or JSON on stdout (--json). Returns 1. */
static int fail(const struct bopts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const struct bopts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->json) {
		cJSON *j = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(j, "error", msg);
		s = cJSON_PrintUnformatted(j);
		if (s)
			printf("%s\n", s);
		free(s);
		cJSON_Delete(j);
	}
	fprintf(stderr, "actlog-server %s: %s\n", o->cmd, msg);
	return 1;
}

/* Print j (consumed) on stdout. */
static void put_json(cJSON *j)
{
	char *s = j ? cJSON_Print(j) : NULL;

	if (s)
		printf("%s\n", s);
	free(s);
	cJSON_Delete(j);
}

/* A string setting of the --config object (flat keys), or NULL. */
static const char *cfg_str(const cJSON *c, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, k);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static const char *env(const char *k)
{
	const char *v = getenv(k);

	return v && *v ? v : NULL;
}

/*
 * The S3 settings: from --config FILE (refused with group/other permission
 * bits), else the environment. *cfg holds the parsed file (cJSON_Delete it);
 * the strings of s3 point into it or into the environment. 0 or 1 (printed).
 */
static int s3_settings(const struct bopts *o, struct s3_config *s3, cJSON **cfg)
{
	memset(s3, 0, sizeof(*s3));
	*cfg = NULL;
	if (o->config) {
		struct stat sb;
		char *txt = NULL;
		size_t len = 0;
		const cJSON *ps;
		int err;

		if (stat(o->config, &sb))
			return fail(o, "--config %s: %s", o->config, strerror(errno));
		if (sb.st_mode & 077)
			return fail(
			    o,
			    "--config %s holds secrets: it must not be readable by group or "
			    "others (chmod 600)",
			    o->config);
		err = read_file(o->config, CONFIG_MAX, &txt, &len);
		if (err)
			return fail(o, "--config %s: %s", o->config,
				    err == -EFBIG ? "file too large" : strerror(-err));
		*cfg = cJSON_ParseWithLength(txt, len);
		crypto_free(txt, len);
		if (!cJSON_IsObject(*cfg))
			return fail(o, "--config %s is not a JSON object", o->config);
		s3->region = cfg_str(*cfg, "backup.s3.region");
		s3->endpoint = cfg_str(*cfg, "backup.s3.endpoint");
		s3->access_key = cfg_str(*cfg, "backup.s3.access_key_id");
		s3->secret_key = cfg_str(*cfg, "backup.s3.secret_access_key");
		s3->session_token = cfg_str(*cfg, "backup.s3.session_token");
		ps = cJSON_GetObjectItemCaseSensitive(*cfg, "backup.s3.path_style");
		s3->path_style = cJSON_IsTrue(ps) || (cJSON_IsNumber(ps) && ps->valuedouble != 0);
		return 0;
	}
	s3->region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	s3->endpoint =
	    env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3") : env("AWS_ENDPOINT_URL");
	s3->access_key = env("AWS_ACCESS_KEY_ID");
	s3->secret_key = env("AWS_SECRET_ACCESS_KEY");
	s3->session_token = env("AWS_SESSION_TOKEN");
	/* a custom endpoint (MinIO, s3rver, ...) usually wants path-style */
	s3->path_style = s3->endpoint != NULL;
	return 0;
}

/* The target of url with the S3 settings. 0 or 1 (printed). */
static int target(const struct bopts *o, const char *url, struct backup_target *t)
{
	struct s3_config s3;
	cJSON *cfg = NULL;
	char why[512];
	int err = 0;

	if (!strncmp(url, "s3://", 5))
		err = s3_settings(o, &s3, &cfg);
	if (!err &&
	    backup_target_parse(url, strncmp(url, "s3://", 5) ? NULL : &s3, t, why, sizeof(why)))
		err = fail(o, "%s", why);
	cJSON_Delete(cfg);
	return err;
}

/*
 * Without --to: the target the store's own settings name (the root's
 * backup.s3.*, as the server's periodic backups use them), read with the
 * master key kp from st. The URL goes to url (BACKUP_URL_MAX + 1 bytes).
 * 0 or 1 (printed).
 */
static int settings_target(const struct bopts *o, struct store *st, struct keyprov *kp,
			   struct backup_target *t, char *url)
{
	struct backup_plan p;
	struct srv s;
	char why[512];
	int err, ret = 0;

	err = srv_init(&s, st, kp, NULL);
	if (err)
		return fail(o, "cannot read the store's settings: %s", strerror(-err));
	err = backup_plan_read(&s, &p);
	if (err)
		ret = fail(o, "cannot read the root's backup settings: %s", strerror(-err));
	else if (!p.target[0])
		ret = fail(o, "no --to given and the root's backup.s3.bucket is not set");
	else if (backup_target_parse(p.target, &p.s3, t, why, sizeof(why)))
		ret = fail(o, "the root's backup settings: %s", why);
	else
		snprintf(url, BACKUP_URL_MAX + 1, "%s", p.target);
	backup_plan_free(&p);
	srv_fini(&s);
	return ret;
}

/* Open the master key; a file key must be named unless dir has one. 0 or 1. */
static int open_key(struct bopts *o, const char *dir, struct keyprov **kp)
{
	char where[PATH_MAX], why[512];

	if (!dir && !o->ko.key_file && !(o->ko.provider && !strcmp(o->ko.provider, "aws-sm")))
		return fail(o, "--key-file FILE (or --key-provider aws-sm) is required: the master "
			       "key of the store that was backed up");
	if (key_open(&o->ko, dir, false, kp, where, sizeof(where), why, sizeof(why), NULL))
		return fail(o, "master key: %s", why);
	return 0;
}

/* Open the master key ring of the store in dir (the key file and, during a
 * rotation, its .next; key_ring_open()), so that a backup taken while a
 * rotation runs reads every data key. 0 or 1 (printed). */
static int open_ring(struct bopts *o, const char *dir, struct keyprov **kp)
{
	char where[PATH_MAX], why[512];

	if (key_ring_open(&o->ko, dir, kp, where, sizeof(where), why, sizeof(why)))
		return fail(o, "master key: %s", why);
	return 0;
}

/* Open the existing store in dir (never create one). 0 or 1. */
static int open_store(const struct bopts *o, const char *dir, struct store **st)
{
	char p[PATH_MAX];
	struct stat sb;
	int err;

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	if (stat(p, &sb))
		return fail(o, "no store in %s", dir);
	err = store_open_lmdb(st, dir, NULL);
	if (err)
		return fail(o, "cannot open the store in %s: %s", dir, strerror(-err));
	return 0;
}

static void progress(void *ctx, uint64_t plain)
{
	(void)ctx;
	fprintf(stderr, "\r%.1f MiB", (double)plain / (1 << 20));
}

static void tee_reset(void *ctx)
{
	FILE *f = ctx;

	fflush(f);
	if (ftruncate(fileno(f), 0) == 0)
		rewind(f);
}

static uint64_t total_items(const struct backup_info *b)
{
	uint64_t n = 0;

	for (int t = 0; t < STORE_T__COUNT; t++)
		n += b->items[t];
	return n;
}

/* Parse the options of a backup command; 0, or the exit status to return + 1. */
static int parse(int argc, char **argv, struct bopts *o, const char *allowed)
{
	static const struct option lo[] = {{"data-dir", required_argument, 0, 'd'},
					   {"to", required_argument, 0, 't'},
					   {"from", required_argument, 0, 'f'},
					   {"config", required_argument, 0, 'c'},
					   {"dump-to", required_argument, 0, 'D'},
					   {"json", no_argument, 0, 'j'},
					   KEY_LONGOPTS,
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c != 'h' && c != '?' && !strchr(allowed, c)) {
			fprintf(stderr, "actlog-server %s: option not valid here (try --help)\n",
				o->cmd);
			return 3;
		}
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 't':
		case 'f':
			o->url = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'D':
			o->dump_to = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			cli_usage(stdout);
			return 1;
		default:
			if (keyopt_take(&o->ko, c, optarg))
				break;
			cli_usage(stderr);
			return 3;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "actlog-server %s: unexpected argument '%s'\n", o->cmd,
			argv[optind]);
		return 3;
	}
	return keyopt_check(&o->ko, o->cmd) ? 3 : 0;
}

#define KEYCH "kPSRE"

static int do_take(struct bopts *o)
{
	char url[BACKUP_URL_MAX + 1];
	struct backup_ctl ctl = {0};
	struct backup_target t = {0};
	struct backup_info b;
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	FILE *df = NULL;
	char why[1024];
	int ret, err;

	if (!o->dir) {
		fprintf(stderr, "actlog-server backup: --data-dir is required\n");
		return 2;
	}
	ret = o->url ? target(o, o->url, &t) : 0;
	if (!ret)
		ret = open_ring(o, o->dir, &kp);
	if (!ret)
		ret = open_store(o, o->dir, &st);
	if (!ret && !o->url && !(ret = settings_target(o, st, kp, &t, url)))
		o->url = url;
	if (ret)
		goto out;
	if (o->dump_to) {
		df = fopen(o->dump_to, "we");
		if (!df) {
			ret = fail(o, "--dump-to %s: %s", o->dump_to, strerror(errno));
			goto out;
		}
		ctl.tee = dump_text_item;
		ctl.tee_reset = tee_reset;
		ctl.tee_ctx = df;
	}
	if (isatty(STDERR_FILENO))
		ctl.progress = progress;
	err = backup_take(st, kp, &t, &ctl, &b, why, sizeof(why));
	if (ctl.progress)
		fputc('\n', stderr);
	if (!err && df && fclose(df)) {
		df = NULL;
		ret = fail(o, "--dump-to %s: %s", o->dump_to, strerror(errno));
		goto out;
	}
	df = NULL;
	if (err) {
		ret = fail(o, "%s", why);
		goto out;
	}
	if (o->json) {
		put_json(backup_info_to_json(&b));
	} else {
		printf(
		    "backup %s%s%s\n  %llu items, %llu bytes of dump, %llu bytes stored, %.1f s\n",
		    o->url, o->url[0] && o->url[strlen(o->url) - 1] == '/' ? "" : "/", b.name,
		    (unsigned long long)total_items(&b), (unsigned long long)b.plain_bytes,
		    (unsigned long long)b.stored_bytes,
		    (double)(b.finished_ms - b.snapshot_ms) / 1000);
	}
out:
	if (df)
		fclose(df);
	store_close(st);
	keyprov_free(kp);
	backup_target_free(&t);
	return ret;
}

static int do_list(struct bopts *o)
{
	char url[BACKUP_URL_MAX + 1];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct backup_target t = {0};
	struct backup_info *v = NULL;
	char why[1024], ts[RFC3339_LEN];
	size_t n = 0;
	int ret;

	if (!o->url && !o->dir) {
		fprintf(stderr, "actlog-server backup list: --to or --data-dir is required\n");
		return 2;
	}
	if (o->url) {
		ret = target(o, o->url, &t);
	} else {
		ret = open_ring(o, o->dir, &kp);
		if (!ret)
			ret = open_store(o, o->dir, &st);
		if (!ret)
			ret = settings_target(o, st, kp, &t, url);
	}
	if (!ret && backup_list(&t, &v, &n, why, sizeof(why)))
		ret = fail(o, "%s", why);
	if (!ret && o->json) {
		cJSON *a = cJSON_CreateArray();

		for (size_t i = 0; a && i < n; i++)
			cJSON_AddItemToArray(a, backup_info_to_json(&v[i]));
		put_json(a);
	} else if (!ret) {
		for (size_t i = 0; i < n; i++)
			printf("%s  %s  %llu items  %llu bytes\n", v[i].name,
			       rfc3339_ms(v[i].snapshot_ms, ts),
			       (unsigned long long)total_items(&v[i]),
			       (unsigned long long)v[i].stored_bytes);
	}
	free(v);
	backup_target_free(&t);
	store_close(st);
	keyprov_free(kp);
	return ret;
}

/* verify (dir NULL) or restore into dir. */
static int do_restore(struct bopts *o, const char *dir)
{
	struct backup_ctl ctl = {0};
	struct backup_target t = {0};
	struct backup_info b;
	struct keyprov *kp = NULL;
	char turl[BACKUP_URL_MAX + 1], name[BACKUP_NAME_MAX + 1], why[1024];
	int ret, err;

	if (!o->url || (!dir && !strcmp(o->cmd, "restore"))) {
		fprintf(stderr, "actlog-server %s: --from%s required\n", o->cmd,
			strcmp(o->cmd, "restore") ? " is" : " and --data-dir are");
		return 2;
	}
	if (backup_url_split(o->url, turl, name, why, sizeof(why)))
		return fail(o, "%s", why);
	ret = target(o, turl, &t);
	if (!ret)
		ret = open_key(o, NULL, &kp);
	if (ret)
		goto out;
	if (isatty(STDERR_FILENO))
		ctl.progress = progress;
	err = dir ? backup_restore(&t, name, kp, dir, &ctl, &b, why, sizeof(why))
		  : backup_verify(&t, name, kp, &ctl, &b, why, sizeof(why));
	if (ctl.progress)
		fputc('\n', stderr);
	if (err) {
		ret = fail(o, "%s", why);
		goto out;
	}
	if (o->json) {
		cJSON *j = backup_info_to_json(&b);

		if (j && dir)
			cJSON_AddStringToObject(j, "restored_to", dir);
		if (j && !dir)
			cJSON_AddBoolToObject(j, "verified", 1);
		put_json(j);
	} else if (dir) {
		printf("restored %s into %s: %llu items, SHA-256 %s verified\n", name, dir,
		       (unsigned long long)total_items(&b), b.sha256);
	} else {
		printf("%s: ok, %llu items, SHA-256 %s\n", name,
		       (unsigned long long)total_items(&b), b.sha256);
	}
out:
	keyprov_free(kp);
	backup_target_free(&t);
	return ret;
}

int cmd_backup(int argc, char **argv)
{
	struct bopts o = {.cmd = "backup"};
	int rc;

	if (argc > 1 && !strcmp(argv[1], "list")) {
		o.cmd = "backup list";
		rc = parse(argc - 1, argv + 1, &o, "tdcj" KEYCH);
		return rc ? rc - 1 : do_list(&o);
	}
	if (argc > 1 && !strcmp(argv[1], "verify")) {
		o.cmd = "backup verify";
		rc = parse(argc - 1, argv + 1, &o, "fcj" KEYCH);
		return rc ? rc - 1 : do_restore(&o, NULL);
	}
	rc = parse(argc, argv, &o, "dtcDj" KEYCH);
	return rc ? rc - 1 : do_take(&o);
}

int cmd_restore(int argc, char **argv)
{
	struct bopts o = {.cmd = "restore"};
	int rc = parse(argc, argv, &o, "fdcj" KEYCH);

	if (rc)
		return rc - 1;
	if (!o.dir) {
		fprintf(stderr, "actlog-server restore: --from and --data-dir are required\n");
		return 2;
	}
	return do_restore(&o, o.dir);
}

int cmd_dump(int argc, char **argv)
{
	struct bopts o = {.cmd = "dump"};
	struct store *st = NULL;
	int rc = parse(argc, argv, &o, "d"), err;

	if (rc)
		return rc - 1;
	if (!o.dir) {
		fprintf(stderr, "actlog-server dump: --data-dir is required\n");
		return 2;
	}
	if (open_store(&o, o.dir, &st))
		return 1;
	err = dump_text(st, stdout);
	store_close(st);
	return err ? fail(&o, "%s", strerror(-err)) : 0;
}
