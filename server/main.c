// SPDX-License-Identifier: BSD-2-Clause
/*
 * main.c - actlog-server: `init` creates a store, `serve` runs the API.
 * See docs/man/man8/actlog-server.8 and docs/API.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "api/web.h"
#include "log.h"
#include "api/api.h"
#include "model/retention.h"
#include "core/srv.h"
#include "util.h"
#include "version.h"

#define PW_FILE_MAX 4096

static void usage(FILE *f)
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
	    "                          [--header-timeout SECONDS] [-v]\n"
	    "       actlog-server --help | --version\n"
	    "\n"
	    "init creates a new store in DIR (refusing one that exists), a master key\n"
	    "file DIR/master.key (0600) unless --key-file names another, the first\n"
	    "business node and its administrator (admin on the whole tree). The\n"
	    "password is read from FILE (\"-\" for standard input; one line).\n"
	    "\n"
	    "serve runs the HTTP API (docs/API.md) until SIGTERM or SIGINT.\n"
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
	    "  -v, --verbose         debug logs\n"
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
	    HTTP_DEFAULT_HEADER_TIMEOUT_S);
}

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

/* 1 when c was a key option (stored in k). */
static int keyopt_take(struct keyopt *k, int c, const char *arg)
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
static int keyopt_check(const struct keyopt *k, const char *cmd)
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

static void key_path(char *out, size_t n, const char *dir, const char *key_file)
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
static int key_open(struct keyopt *k, const char *dir, bool create, struct keyprov **kp,
		    char *where, size_t where_len, char *why, size_t why_len, bool *made)
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

static int cmd_init(int argc, char **argv)
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
			usage(stdout);
			return 0;
		default:
			if (keyopt_take(&ko, c, optarg))
				break;
			usage(stderr);
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

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static bool listen_is_loopback(const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (http_parse_listen(listen, &ss, &len))
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	return false;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option lo[] = {{"data-dir", required_argument, 0, 'd'},
					   {"listen", required_argument, 0, 'l'},
					   {"tls-cert", required_argument, 0, 'c'},
					   {"tls-key", required_argument, 0, 'K'},
					   {"insecure-listen", no_argument, 0, 'I'},
					   KEY_LONGOPTS,
					   {"threads", required_argument, 0, 't'},
					   {"max-body", required_argument, 0, 'm'},
					   {"token-ttl", required_argument, 0, 'T'},
					   {"retention-interval", required_argument, 0, 'r'},
					   {"outbound-threads", required_argument, 0, 'o'},
					   {"outbound-per-business", required_argument, 0, 'B'},
					   {"s3-timeout", required_argument, 0, 'x'},
					   {"web-root", required_argument, 0, 'W'},
					   {"trusted-proxy", required_argument, 0, 'X'},
					   {"max-conns-per-ip", required_argument, 0, 'C'},
					   {"header-timeout", required_argument, 0, 'H'},
					   {"verbose", no_argument, 0, 'v'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	static struct http_route routes[HTTP_MAX_ROUTES];
	static const char *proxies[HTTP_MAX_TRUSTED_PROXIES];
	struct sockaddr_storage proxy_addrs[HTTP_MAX_TRUSTED_PROXIES];
	size_t n_proxy_addrs = 0;
	int (*const mods[])(struct srv *, struct http_route *, size_t) = {
	    api_auth_routes,	  api_org_routes,   api_config_routes, api_device_routes,
	    api_ingest_routes,	  api_query_routes, api_shots_routes,  api_avatar_routes,
	    api_retention_routes, api_web_routes,
	};
	const char *dir = NULL, *web_root = NULL;
	struct keyopt ko = {0};
	struct http_opts ho = {.listen = "127.0.0.1:8080"};
	struct srv_opts so = {0};
	struct outbound_opts oo = {0};
	bool insecure = false, verbose = false;
	char kpath[PATH_MAX], why[512];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct http_server *hs = NULL;
	struct retention_sched *rs = NULL;
	unsigned retention_s = 3600;
	struct sigaction sa = {0};
	struct srv s;
	size_t n = 0, i;
	sigset_t set, old;
	uint64_t u;
	int c, ret;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			ho.listen = optarg;
			break;
		case 'c':
			ho.tls_cert = optarg;
			break;
		case 'K':
			ho.tls_key = optarg;
			break;
		case 'I':
			insecure = true;
			break;
		case 't':
			if (parse_uint(optarg, 1, HTTP_MAX_THREADS, &u)) {
				fprintf(stderr, "actlog-server: --threads must be 1..%d\n",
					HTTP_MAX_THREADS);
				return 2;
			}
			ho.threads = (unsigned)u;
			break;
		case 'm':
			if (parse_uint(optarg, 1024, 1ull << 30, &u)) {
				fprintf(stderr, "actlog-server: --max-body must be 1024..2^30\n");
				return 2;
			}
			ho.max_body = (size_t)u;
			break;
		case 'T':
			if (parse_uint(optarg, 1, 90u * 86400, &u)) {
				fprintf(stderr,
					"actlog-server: --token-ttl must be 1..7776000 seconds\n");
				return 2;
			}
			so.token_ttl_s = (unsigned)u;
			break;
		case 'r':
			if (parse_uint(optarg, 0, 30u * 86400, &u)) {
				fprintf(stderr, "actlog-server: --retention-interval must be "
						"0..2592000 seconds\n");
				return 2;
			}
			retention_s = (unsigned)u;
			break;
		case 'o':
			if (parse_uint(optarg, 1, OUTBOUND_MAX_THREADS, &u)) {
				fprintf(stderr, "actlog-server: --outbound-threads must be 1..%d\n",
					OUTBOUND_MAX_THREADS);
				return 2;
			}
			oo.threads = (unsigned)u;
			break;
		case 'B':
			if (parse_uint(optarg, 1, OUTBOUND_MAX_PER_KEY, &u)) {
				fprintf(stderr,
					"actlog-server: --outbound-per-business must be 1..%d\n",
					OUTBOUND_MAX_PER_KEY);
				return 2;
			}
			oo.per_key = (unsigned)u;
			break;
		case 'x':
			if (parse_uint(optarg, 1, S3_API_MAX_TIMEOUT_S, &u)) {
				fprintf(stderr,
					"actlog-server: --s3-timeout must be 1..%d seconds\n",
					S3_API_MAX_TIMEOUT_S);
				return 2;
			}
			so.s3_timeout_s = (unsigned)u;
			break;
		case 'W':
			web_root = optarg;
			break;
		case 'X':
			if (http_parse_addr_list(optarg, proxy_addrs, HTTP_MAX_TRUSTED_PROXIES,
						 &n_proxy_addrs)) {
				fprintf(stderr,
					"actlog-server: --trusted-proxy '%s': want numeric IPv4 or "
					"IPv6 addresses, comma-separated, at most %d in all\n",
					optarg, HTTP_MAX_TRUSTED_PROXIES);
				return 2;
			}
			proxies[ho.n_trusted_proxies++] = optarg;
			break;
		case 'C':
			if (parse_uint(optarg, 0, 1000000, &u)) {
				fprintf(stderr,
					"actlog-server: --max-conns-per-ip must be 0..1000000\n");
				return 2;
			}
			ho.max_conns_per_ip = u ? (unsigned)u : HTTP_UNLIMITED;
			break;
		case 'H':
			if (parse_uint(optarg, 1, 3600, &u)) {
				fprintf(
				    stderr,
				    "actlog-server: --header-timeout must be 1..3600 seconds\n");
				return 2;
			}
			ho.header_timeout_s = (unsigned)u;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (keyopt_take(&ko, c, optarg))
				break;
			usage(stderr);
			return 2;
		}
	}
	if (keyopt_check(&ko, "serve"))
		return 2;
	if (!dir || optind != argc) {
		fprintf(stderr, "actlog-server serve: --data-dir is required\n");
		return 2;
	}
	if (!ho.tls_cert != !ho.tls_key) {
		fprintf(stderr, "actlog-server serve: --tls-cert and --tls-key go together\n");
		return 2;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl;

		if (http_parse_listen(ho.listen, &ss, &sl)) {
			fprintf(stderr,
				"actlog-server serve: --listen '%s': want A.B.C.D:PORT or "
				"[IPv6]:PORT\n",
				ho.listen);
			return 2;
		}
	}
	if (!ho.tls_cert && !insecure && !listen_is_loopback(ho.listen)) {
		fprintf(stderr,
			"actlog-server serve: refusing plain HTTP on %s: tokens and passwords "
			"would cross the network in clear. Give --tls-cert/--tls-key, or "
			"--insecure-listen behind a TLS proxy.\n",
			ho.listen);
		return 2;
	}
	log_init("actlog-server", verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	{
		char dpath[PATH_MAX];
		struct stat sb;

		snprintf(dpath, sizeof(dpath), "%s/data.mdb", dir);
		if (stat(dpath, &sb)) {
			log_err("event=start_failed reason=\"no store in %s; run actlog-server "
				"init first\"",
				dir);
			return 1;
		}
	}
	ret = key_open(&ko, dir, false, &kp, kpath, sizeof(kpath), why, sizeof(why), NULL);
	if (ret) {
		log_err("event=start_failed reason=\"master key: %s\"", why);
		return 1;
	}
	ret = store_open_lmdb(&st, dir, NULL);
	if (ret) {
		log_err("event=start_failed reason=\"store %s: %s\"", dir, strerror(-ret));
		keyprov_free(kp);
		return 1;
	}
	ret = srv_init(&s, st, kp, &so);
	if (!ret && s.business_id[0] && (ret = srv_key_check(&s, why, sizeof(why)))) {
		log_err("event=start_failed reason=\"master key %s: %s\"", kpath, why);
		srv_fini(&s);
		store_close(st);
		keyprov_free(kp);
		return 1;
	}
	if (ret || !s.business_id[0]) {
		log_err("event=start_failed reason=\"%s\"",
			ret ? strerror(-ret) : "store not initialised; run actlog-server init");
		if (!ret)
			srv_fini(&s);
		store_close(st);
		keyprov_free(kp);
		return 1;
	}
	/* the dashboard: a --web-root that cannot be opened stops the start; a
	 * missing installed one only leaves the dashboard out */
	ret = api_web_open(web_root, why, sizeof(why));
	if (ret && web_root) {
		log_err("event=start_failed reason=\"%s\"", why);
		goto out;
	}
	if (ret)
		log_notice("event=web_disabled reason=\"%s\"", why);
	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		ret = mods[i](&s, routes + n, HTTP_MAX_ROUTES - n);
		if (ret < 0) {
			log_err("event=start_failed reason=\"route table full\"");
			goto out;
		}
		n += (size_t)ret;
	}
	ho.routes = routes;
	ho.n_routes = n;
	ho.trusted_proxies = proxies;
	/* a body over the anonymous cap needs a token that exists */
	ho.gate = srv_body_gate;
	ho.gate_arg = &s;

	/* signals: block them in every thread MHD starts; wait here */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	/* the pool threads inherit the blocked signals */
	ret = outbound_new(&oo, &s.ob);
	if (ret) {
		log_err("event=start_failed reason=\"outbound pool: %s\"", strerror(-ret));
		goto out;
	}
	ret = http_start(&ho, &hs);
	if (ret) {
		log_err("event=start_failed reason=\"listen %s: %s\"", ho.listen, strerror(-ret));
		goto out;
	}
	log_notice("event=started version=%s listen=%s port=%u tls=%s store=%s data_dir=%s "
		   "key=%s routes=%zu trusted_proxies=%zu",
		   ACTLOG_VERSION, ho.listen, http_port(hs), ho.tls_cert ? "on" : "off",
		   store_engine_name(st), dir, keyprov_key_id(kp), n, n_proxy_addrs);
	/* the retention thread inherits the blocked signals */
	if (retention_s && (ret = retention_start(&s, retention_s, &rs)))
		log_err("event=retention_not_started err=\"%s\"", strerror(-ret));
	ret = 0;
	sd_notify(0, "READY=1");
	while (!stop_sig)
		sigsuspend(&old);
	sd_notify(0, "STOPPING=1");
	log_notice("event=stopping signal=%d", (int)stop_sig);
	retention_stop(rs);
	http_stop(hs); /* waits for the requests on the outbound pool */
	log_notice("event=stopped");
out:
	outbound_free(s.ob);
	s.ob = NULL;
	api_web_close();
	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("actlog-server %s\n", ACTLOG_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "init"))
		return cmd_init(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	fprintf(stderr, "actlog-server: unknown command '%s' (try --help)\n", argv[1]);
	return 2;
}
