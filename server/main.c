// SPDX-License-Identifier: BSD-2-Clause
/*
 * main.c - actlog-server: the usage text and the dispatch of argv[1] to its
 * command (server/cli/). See docs/man/man8/actlog-server.8 and docs/API.md.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "core/srv.h"
#include "model/rekey.h"
#include "version.h"

void cli_usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: actlog-server init --data-dir DIR --admin-email EMAIL\n"
	    "                          --admin-password-file FILE [--business NAME]\n"
	    "                          [KEY OPTIONS]\n"
	    "       actlog-server serve --data-dir DIR [--listen ADDR:PORT]\n"
	    "                          [--tls-cert FILE --tls-key FILE] [--insecure-listen]\n"
	    "                          [KEY OPTIONS] [--threads N] [--max-body BYTES]\n"
	    "                          [--token-ttl SECONDS] [--retention-interval SECONDS]\n"
	    "                          [--outbound-threads N] [--outbound-per-business N]\n"
	    "                          [--s3-timeout SECONDS] [--web-root DIR]\n"
	    "                          [--trusted-proxy ADDR[,ADDR...]] [--max-conns-per-ip N]\n"
	    "                          [--header-timeout SECONDS] [--backup-period SECONDS]\n"
	    "                          [--backup-retry-min SECONDS] [--key-poll SECONDS]\n"
	    "                          [-v]\n"
	    "       actlog-server backup --data-dir DIR [--to URL] [--config FILE]\n"
	    "                          [KEY OPTIONS] [--dump-to FILE] [--json]\n"
	    "       actlog-server backup list --to URL|--data-dir DIR [--config FILE] [--json]\n"
	    "       actlog-server backup verify --from URL/NAME [--config FILE]\n"
	    "                          [KEY OPTIONS] [--json]\n"
	    "       actlog-server restore --from URL/NAME --data-dir NEWDIR\n"
	    "                          [--config FILE] [KEY OPTIONS] [--json]\n"
	    "       actlog-server dump --data-dir DIR\n"
	    "       actlog-server rotate-key --data-dir DIR [--new-key-file FILE]\n"
	    "                          [KEY OPTIONS] [--batch N] [--pause MS]\n"
	    "       actlog-server --help | --version\n"
	    "\n"
	    "init creates a new store in DIR (refusing one that exists), a master key\n"
	    "file DIR/master.key (0600) unless --key-file names another, the first\n"
	    "business node and its administrator (admin on the whole tree). The\n"
	    "password is read from FILE (\"-\" for standard input; one line).\n"
	    "\n"
	    "serve runs the HTTP API (docs/API.md) until SIGTERM or SIGINT; SIGHUP\n"
	    "reloads the master key ring (key files or secret).\n"
	    "  --listen ADDR:PORT    default 127.0.0.1:8080; \"[::1]:8080\" for IPv6\n"
	    "  --tls-cert/--tls-key  PEM files: serve HTTPS\n"
	    "  --insecure-listen     allow plain HTTP on a non-loopback address\n"
	    "  --threads N           HTTP worker threads (default %d)\n"
	    "  --outbound-threads N  threads finishing the requests that call S3\n"
	    "                        (pictures, screenshot checks and views; default\n"
	    "                        %d); %d per thread may wait, beyond that 503\n"
	    "  --outbound-per-business N  such requests of one business at once,\n"
	    "                        waiting or running (default %d); beyond it 503\n"
	    "  --s3-timeout SECONDS  one S3 attempt for an API request (default %d;\n"
	    "                        a screenshot image GET %d times that); connect\n"
	    "                        within 3 s; 3 attempts; out of time: 504\n"
	    "  --max-body BYTES      largest request body (default %u)\n"
	    "  --token-ttl SECONDS   sign-in token lifetime (default 43200)\n"
	    "  --retention-interval SECONDS  delete data older than retention.days this\n"
	    "                        often (default 3600; first run 10 s after start;\n"
	    "                        0: never)\n"
	    "  --web-root DIR        the web dashboard's files, served at / (default\n"
	    "                        ../share/actlog/web next to the binary's directory)\n"
	    "  --trusted-proxy ADDR  a TLS proxy in front: requests from ADDR take their\n"
	    "                        client address from X-Forwarded-For (repeatable or a\n"
	    "                        comma list, at most %d addresses)\n"
	    "  --max-conns-per-ip N  open connections from one address (default %d;\n"
	    "                        0: no limit)\n"
	    "  --header-timeout SECONDS  a new connection's request headers must be in\n"
	    "                        within this (default %d)\n"
	    "  --backup-period SECONDS  take the periodic backups (the root's backup.*\n"
	    "                        settings) this often instead of every\n"
	    "                        backup.interval_h hours (default 0: the setting)\n"
	    "  --backup-retry-min SECONDS  the first retry after a failed backup\n"
	    "                        (default 60; doubling, at most the period)\n"
	    "  --key-poll SECONDS    reload the master key ring this often (default %d;\n"
	    "                        0: only on SIGHUP)\n"
	    "  -v, --verbose         debug logs\n"
	    "\n"
	    "backup takes an encrypted backup of the store in DIR (also while serve\n"
	    "runs on it) to URL: s3://BUCKET[/PREFIX] or file:///DIR (default: the\n"
	    "bucket of the root's backup.s3.* settings in the store). It is one\n"
	    "consistent snapshot, compressed, encrypted in chunks under a new data key\n"
	    "that the master key wraps; NAME.alb, then NAME.manifest.json.\n"
	    "  --dump-to FILE        also write the text dump (as dump) of the snapshot\n"
	    "  --config FILE         S3 settings, a JSON object (mode 0600) with\n"
	    "                        backup.s3.region, backup.s3.endpoint,\n"
	    "                        backup.s3.path_style, backup.s3.access_key_id,\n"
	    "                        backup.s3.secret_access_key, backup.s3.session_token;\n"
	    "                        default: $AWS_REGION, $AWS_ENDPOINT_URL_S3 (or\n"
	    "                        $AWS_ENDPOINT_URL; then path-style), $AWS_ACCESS_KEY_ID,\n"
	    "                        $AWS_SECRET_ACCESS_KEY, $AWS_SESSION_TOKEN\n"
	    "  --json                print the manifest (errors: {\"error\": ...})\n"
	    "backup list shows the complete backups at URL, newest first. backup verify\n"
	    "restores URL/NAME into a temporary directory, checking every chunk, the\n"
	    "SHA-256 and the counts, then removes it. restore does the same into NEWDIR\n"
	    "(absent or empty), renamed into place only when all checks passed; they\n"
	    "need the master key of the store that was backed up (--key-file FILE or\n"
	    "aws-sm). dump prints every item of DIR: TABLE, PK, SK, base64 value.\n"
	    "\n"
	    "rotate-key moves the store to a new master key while the server serves:\n"
	    "the new key goes to <key file>.next (generated, or copied from\n"
	    "--new-key-file), every data key is re-wrapped under it in batches of N\n"
	    "(default %d, at most %d; --pause MS between batches), then the old key\n"
	    "file is kept as <key file>.retired-<id> and .next takes its name. A\n"
	    "crash at any point is finished by running it again. With aws-sm, the\n"
	    "data keys move to the secret's AWSCURRENT (the server also does that\n"
	    "by itself when it sees AWSCURRENT change).\n"
	    "\n"
	    "Key options: where the master key comes from.\n"
	    "  --key-provider file|aws-sm  default file\n"
	    "  --key-file FILE       file: the key file (default DIR/master.key)\n"
	    "  --aws-secret-id ID    aws-sm: the secret's name or ARN; its SecretString\n"
	    "                        is the key as 64 hex digits\n"
	    "  --aws-region R        aws-sm: default $AWS_REGION\n"
	    "  --aws-endpoint URL    aws-sm: default https://secretsmanager.R.amazonaws.com/\n"
	    "                        ($AWS_ENDPOINT_URL_SECRETS_MANAGER)\n"
	    "  aws-sm credentials: $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY,\n"
	    "  $AWS_SESSION_TOKEN, else the EC2 instance profile (IMDSv2;\n"
	    "  $AWS_EC2_METADATA_SERVICE_ENDPOINT, $AWS_EC2_METADATA_DISABLED)\n",
	    HTTP_DEFAULT_THREADS, OUTBOUND_DEFAULT_THREADS, OUTBOUND_QUEUE_PER_THREAD,
	    OUTBOUND_DEFAULT_PER_KEY, S3_API_DEFAULT_TIMEOUT_S, S3_API_IMAGE_FACTOR,
	    HTTP_DEFAULT_MAX_BODY, HTTP_MAX_TRUSTED_PROXIES, HTTP_DEFAULT_MAX_CONNS_PER_IP,
	    HTTP_DEFAULT_HEADER_TIMEOUT_S, KEY_POLL_DEFAULT_S, REKEY_BATCH_DEFAULT,
	    REKEY_BATCH_MAX);
}

/* The commands, by argv[1]. */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
    {"init", cmd_init},	      {"serve", cmd_serve}, {"backup", cmd_backup},
    {"restore", cmd_restore}, {"dump", cmd_dump},   {"rotate-key", cmd_rotate_key},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cli_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("actlog-server %s\n", ACTLOG_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "actlog-server: unknown command '%s' (try --help)\n", argv[1]);
	return 2;
}
