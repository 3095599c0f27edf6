// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-s3 - drive the S3 client (lib/s3.c) from the command line: put, get,
 * head, rm, ls and presign against AWS or any S3-compatible endpoint.
 *
 * Credentials: --access-key (or AWS_ACCESS_KEY_ID), the secret key from
 * --secret-key-file (or AWS_SECRET_ACCESS_KEY), the session token from
 * --session-token-file (or AWS_SESSION_TOKEN). Exit codes: 0 success, 1 error,
 * 2 usage, 3 not found, 4 access denied, 5 throttled (retries ran out).
 * Manual: docs/man/man1/actlog-s3.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "s3.h"
#include "util.h"

#define MAX_SECRET 16384
#define STDIN_CHUNK (64U << 10) /* put from stdin: one read */

static const char *const usage_text =
    "usage: actlog-s3 [options] COMMAND ARGS\n"
    "commands:\n"
    "  put KEY FILE          upload FILE; multipart above --multipart-threshold\n"
    "  put KEY -             stream stdin (any size, memory: one part); multipart\n"
    "                        once it passes one --part-size\n"
    "  get KEY [FILE]        download to FILE (default stdout)\n"
    "  head KEY              size, ETag, content type, last modified\n"
    "  rm KEY                delete\n"
    "  ls [PREFIX]           list every key (ListObjectsV2, pages of --max-keys)\n"
    "  presign METHOD KEY    print a presigned URL (--expires seconds, default 3600)\n"
    "options:\n"
    "  --endpoint URL        default https://s3.REGION.amazonaws.com\n"
    "  --bucket NAME         required\n"
    "  --region NAME         default us-east-1\n"
    "  --path-style          endpoint/bucket/key instead of bucket.endpoint/key\n"
    "  --access-key ID       default $AWS_ACCESS_KEY_ID\n"
    "  --secret-key-file F   default $AWS_SECRET_ACCESS_KEY\n"
    "  --session-token-file F  default $AWS_SESSION_TOKEN\n"
    "  --content-type T      for put\n"
    "  --max-keys N          ls page size (1..1000)\n"
    "  --expires N           presign validity in seconds\n"
    "  --attempts N          tries per request (1..20, default 5)\n"
    "  --backoff-ms N        base of the exponential back-off (default 100)\n"
    "  --timeout-ms N        whole-request timeout (default none)\n"
    "  --part-size N         multipart part size in bytes (>= 5 MiB)\n"
    "  --multipart-threshold N  bytes above which put uses multipart (default 8 MiB)\n"
    "  --json                machine-readable output and errors\n"
    "  -v, --verbose         log retries (waits, Retry-After) and multipart steps to stderr\n"
    "exit: 0 ok, 1 error, 2 usage, 3 not found, 4 access denied, 5 throttled\n";

static int json;

static void trace_cb(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "actlog-s3: %s\n", msg);
}

static int exit_code(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -ENOENT:
		return 3;
	case -EACCES:
		return 4;
	case -EAGAIN:
		return 5;
	default:
		return 1;
	}
}

static void print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

/* report e for what ("get k") once, on stderr (JSON on stdout in --json) */
static int report(const char *what, const struct s3_error *e)
{
	char buf[768];

	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "error", what);
		cJSON_AddNumberToObject(o, "errno", -e->err);
		cJSON_AddNumberToObject(o, "status", (double)e->http_status);
		cJSON_AddStringToObject(o, "code", e->code);
		cJSON_AddStringToObject(o, "message", e->message);
		cJSON_AddNumberToObject(o, "attempts", e->attempts);
		print_json(o);
	} else {
		fprintf(stderr, "actlog-s3: %s: %s (%s, %u attempt%s)\n", what,
			s3_strerror(e, buf, sizeof(buf)), strerror(-e->err), e->attempts,
			e->attempts == 1 ? "" : "s");
	}
	return exit_code(e->err);
}

/* read a secret from path: first line, trailing white space removed */
static char *read_secret(const char *path)
{
	char *buf = NULL;
	size_t len;
	int err = read_secret_line(path, MAX_SECRET, &buf);

	if (err) {
		fprintf(stderr, "actlog-s3: %s: %s\n", path, strerror(-err));
		return NULL;
	}
	len = strlen(buf);
	while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	return buf;
}

/* stream standard input into key with the streamed upload (memory: one
 * part); 0 or -errno, -EIO with errno in *read_err for a failed read */
static int put_stdin(struct s3_client *c, const char *key, const char *ctype, int *read_err)
{
	static char buf[STDIN_CHUNK];
	struct s3_upload *u = NULL;
	int err = s3_upload_begin(c, key, ctype, &u);

	*read_err = 0;
	while (!err) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*read_err = errno;
			s3_upload_abort(u);
			return -EIO;
		}
		if (!n)
			return s3_upload_finish(u, NULL);
		err = s3_upload_write(u, buf, (size_t)n);
	}
	s3_upload_abort(u);
	return err;
}

static int cmd_put(struct s3_client *c, const char *key, const char *file, const char *ctype)
{
	char what[1200];
	int err, read_err = 0;

	snprintf(what, sizeof(what), "put %s", key);
	if (!strcmp(file, "-"))
		err = put_stdin(c, key, ctype, &read_err);
	else
		err = s3_put_file(c, key, file, ctype);
	if (read_err) {
		fprintf(stderr, "actlog-s3: reading stdin: %s\n", strerror(read_err));
		return 1;
	}
	if (err)
		return report(what, s3_last_error(c));
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "key", key);
		print_json(o);
	}
	return 0;
}

static int cmd_get(struct s3_client *c, const char *key, const char *file)
{
	char what[1200];
	int fd = 1, err;

	snprintf(what, sizeof(what), "get %s", key);
	if (file && strcmp(file, "-")) {
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "actlog-s3: %s: %s\n", file, strerror(errno));
			return 1;
		}
	}
	err = s3_get_fd(c, key, fd);
	if (fd != 1) {
		if (close(fd) < 0 && !err) {
			fprintf(stderr, "actlog-s3: %s: %s\n", file, strerror(errno));
			return 1;
		}
		if (err)
			unlink(file);
	}
	return err ? report(what, s3_last_error(c)) : 0;
}

static int cmd_head(struct s3_client *c, const char *key)
{
	struct s3_head h;
	char what[1200];

	snprintf(what, sizeof(what), "head %s", key);
	if (s3_head(c, key, &h))
		return report(what, s3_last_error(c));
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "key", key);
		cJSON_AddNumberToObject(o, "size", (double)h.size);
		cJSON_AddStringToObject(o, "etag", h.etag);
		cJSON_AddStringToObject(o, "content_type", h.content_type);
		cJSON_AddStringToObject(o, "last_modified", h.last_modified);
		print_json(o);
	} else {
		printf("size: %" PRIu64 "\netag: %s\ncontent-type: %s\nlast-modified: %s\n", h.size,
		       h.etag, h.content_type, h.last_modified);
	}
	return 0;
}

static int cmd_rm(struct s3_client *c, const char *key)
{
	char what[1200];

	snprintf(what, sizeof(what), "rm %s", key);
	return s3_delete(c, key) ? report(what, s3_last_error(c)) : 0;
}

static int cmd_ls(struct s3_client *c, const char *prefix, unsigned max_keys, int verbose)
{
	char token[1024] = "";
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	unsigned page = 0;
	int rc = 0;

	for (;;) {
		struct s3xml_list l;
		size_t i;

		if (s3_list(c, prefix, max_keys, token, &l)) {
			rc = report("ls", s3_last_error(c));
			break;
		}
		page++;
		if (verbose)
			fprintf(stderr, "actlog-s3: ls page %u: %zu keys%s\n", page, l.n,
				l.truncated ? ", truncated" : "");
		for (i = 0; i < l.n; i++) {
			if (arr) {
				cJSON *o = cJSON_CreateObject();

				cJSON_AddStringToObject(o, "key", l.objs[i].key);
				cJSON_AddNumberToObject(o, "size", (double)l.objs[i].size);
				cJSON_AddStringToObject(o, "etag", l.objs[i].etag);
				cJSON_AddItemToArray(arr, o);
			} else {
				printf("%s\t%" PRIu64 "\t%s\n", l.objs[i].key, l.objs[i].size,
				       l.objs[i].etag);
			}
		}
		if (!l.truncated) {
			s3xml_list_free(&l);
			break;
		}
		if (!l.next_token[0]) {
			s3xml_list_free(&l);
			fprintf(stderr,
				"actlog-s3: ls: truncated page without a continuation token\n");
			rc = 1;
			break;
		}
		snprintf(token, sizeof(token), "%s", l.next_token);
		s3xml_list_free(&l);
	}
	if (arr) {
		if (!rc)
			print_json(arr);
		else
			cJSON_Delete(arr);
	}
	return rc;
}

static int cmd_presign(struct s3_client *c, const char *method, const char *key, unsigned expires)
{
	char *url = NULL;

	if (s3_presign(c, method, key, expires, &url))
		return report("presign", s3_last_error(c));
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "url", url);
		print_json(o);
	} else {
		puts(url);
	}
	free(url);
	return 0;
}

static int num_opt(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (parse_uint(v, min, max, out)) {
		fprintf(stderr, "actlog-s3: --%s wants %" PRIu64 "..%" PRIu64 "\n", name, min, max);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"endpoint", required_argument, NULL, 'E'},
	    {"bucket", required_argument, NULL, 'b'},
	    {"region", required_argument, NULL, 'r'},
	    {"path-style", no_argument, NULL, 'P'},
	    {"access-key", required_argument, NULL, 'a'},
	    {"secret-key-file", required_argument, NULL, 's'},
	    {"session-token-file", required_argument, NULL, 'k'},
	    {"content-type", required_argument, NULL, 'T'},
	    {"max-keys", required_argument, NULL, 'm'},
	    {"expires", required_argument, NULL, 'x'},
	    {"attempts", required_argument, NULL, 'A'},
	    {"backoff-ms", required_argument, NULL, 'B'},
	    {"timeout-ms", required_argument, NULL, 'O'},
	    {"part-size", required_argument, NULL, 'p'},
	    {"multipart-threshold", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct s3_config cfg = {0};
	struct s3_client *cl = NULL;
	const char *secret_file = NULL, *token_file = NULL, *ctype = NULL, *cmd;
	char *secret = NULL, *token = NULL;
	uint64_t v, max_keys = 0, expires = 3600;
	int c, verbose = 0, rc = 2, nargs, err;

	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'E':
			cfg.endpoint = optarg;
			break;
		case 'b':
			cfg.bucket = optarg;
			break;
		case 'r':
			cfg.region = optarg;
			break;
		case 'P':
			cfg.path_style = 1;
			break;
		case 'a':
			cfg.access_key = optarg;
			break;
		case 's':
			secret_file = optarg;
			break;
		case 'k':
			token_file = optarg;
			break;
		case 'T':
			ctype = optarg;
			break;
		case 'm':
			if (num_opt("max-keys", optarg, 1, S3XML_MAX_KEYS, &max_keys))
				return 2;
			break;
		case 'x':
			if (num_opt("expires", optarg, 1, 604800, &expires))
				return 2;
			break;
		case 'A':
			if (num_opt("attempts", optarg, 1, S3_MAX_ATTEMPTS, &v))
				return 2;
			cfg.max_attempts = (unsigned)v;
			break;
		case 'B':
			if (num_opt("backoff-ms", optarg, 1, 60000, &v))
				return 2;
			cfg.backoff_base_ms = (unsigned)v;
			break;
		case 'O':
			if (num_opt("timeout-ms", optarg, 1, 86400000, &v))
				return 2;
			cfg.timeout_ms = (unsigned)v;
			break;
		case 'p':
			if (num_opt("part-size", optarg, S3_MIN_PART, S3_MAX_PART, &cfg.part_size))
				return 2;
			break;
		case 't':
			if (num_opt("multipart-threshold", optarg, 1, UINT64_MAX,
				    &cfg.multipart_threshold))
				return 2;
			break;
		case 'j':
			json = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (!cfg.bucket) {
		fputs("actlog-s3: --bucket is required\n", stderr);
		return 2;
	}
	if (!cfg.access_key)
		cfg.access_key = getenv("AWS_ACCESS_KEY_ID");
	if (secret_file) {
		if (!(secret = read_secret(secret_file)))
			return 1;
		cfg.secret_key = secret;
	} else {
		cfg.secret_key = getenv("AWS_SECRET_ACCESS_KEY");
	}
	if (token_file) {
		if (!(token = read_secret(token_file)))
			goto out_rc1;
		cfg.session_token = token;
	} else {
		cfg.session_token = getenv("AWS_SESSION_TOKEN");
	}
	if (!cfg.access_key || !*cfg.access_key || !cfg.secret_key || !*cfg.secret_key) {
		fputs("actlog-s3: credentials missing: --access-key and --secret-key-file (or "
		      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)\n",
		      stderr);
		goto out;
	}
	if (verbose)
		cfg.trace = trace_cb;
	err = s3_client_new(&cfg, &cl);
	if (err) {
		fprintf(stderr, "actlog-s3: %s: bad endpoint, bucket or settings\n",
			strerror(-err));
		goto out;
	}
	if (!strcmp(cmd, "put") && nargs == 2)
		rc = cmd_put(cl, argv[optind + 1], argv[optind + 2], ctype);
	else if (!strcmp(cmd, "get") && (nargs == 1 || nargs == 2))
		rc = cmd_get(cl, argv[optind + 1], nargs == 2 ? argv[optind + 2] : NULL);
	else if (!strcmp(cmd, "head") && nargs == 1)
		rc = cmd_head(cl, argv[optind + 1]);
	else if (!strcmp(cmd, "rm") && nargs == 1)
		rc = cmd_rm(cl, argv[optind + 1]);
	else if (!strcmp(cmd, "ls") && nargs <= 1)
		rc = cmd_ls(cl, nargs ? argv[optind + 1] : NULL, (unsigned)max_keys, verbose);
	else if (!strcmp(cmd, "presign") && nargs == 2)
		rc = cmd_presign(cl, argv[optind + 1], argv[optind + 2], (unsigned)expires);
	else
		fprintf(stderr, "actlog-s3: unknown command or wrong arguments: %s (see --help)\n",
			cmd);
	goto out;
out_rc1:
	rc = 1;
out:
	s3_client_free(cl);
	if (secret)
		explicit_bzero(secret, strlen(secret));
	if (token)
		explicit_bzero(token, strlen(token));
	free(secret);
	free(token);
	return rc;
}
