// SPDX-License-Identifier: BSD-2-Clause
/*
 * serve.c - `actlog-server serve`: the HTTP API until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "api/api.h"
#include "api/web.h"
#include "cli/cli.h"
#include "core/metrics.h"
#include "core/srv.h"
#include "log.h"
#include "model/backup_sched.h"
#include "model/rekey.h"
#include "model/retention.h"
#include "util.h"
#include "version.h"

/* getopt codes of long options without a letter of their own (the key
 * options of cli.h take P, R, S, E and k) */
enum { OPT_BACKUP_PERIOD = 0x100, OPT_BACKUP_RETRY };

static volatile sig_atomic_t stop_sig, hup_sig;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_sig = 1;
	else
		stop_sig = sig;
}

/* A reload asked for by a request (a key the ring lacks) is skipped when
 * the last one began this recently: a lost key costs no reload per read. */
#define KEY_RELOAD_MIN_MS 2000

/* What a reload of the key ring needs (srv.key_reload). */
struct reload {
	struct keyopt *ko;
	const char *dir;
	pthread_mutex_t mu;
	int64_t last_ms;	/* when the last reload began (under mu) */
	struct rekey_sched *rs; /* aws-sm: the background re-wrap */
};

/* Load the key ring again and put it in place; the old ring is freed. On a
 * failure the ring in use stays. Unless force, nothing is done (0) when a
 * reload began within KEY_RELOAD_MIN_MS (a caller that waited for it on the
 * mutex finds its result in place). 0 or -errno (logged). */
static int ring_reload(struct srv *s, struct reload *r, bool force)
{
	char where[PATH_MAX], why[512];
	const char *ids[KEYPROV_RING_MAX];
	struct keyprov *kp = NULL;
	size_t n;
	int ret;

	pthread_mutex_lock(&r->mu);
	if (!force && r->last_ms && now_ms() - r->last_ms < KEY_RELOAD_MIN_MS) {
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	r->last_ms = now_ms();
	ret = key_ring_open(r->ko, r->dir, &kp, where, sizeof(where), why, sizeof(why));
	if (ret) {
		log_err("event=key_reload_failed key=\"%s\" reason=\"%s\"", where, why);
	} else {
		n = keyprov_ids(kp, ids, KEYPROV_RING_MAX);
		log_notice("event=key_reloaded key=%s keys=%zu%s%s", ids[0], n,
			   n > 1 ? " other=" : "", n > 1 ? ids[1] : "");
		keyprov_free(srv_key_swap(s, kp));
	}
	pthread_mutex_unlock(&r->mu);
	return ret;
}

/* srv.key_reload: a request needs a key the ring lacks. */
static int key_reload(struct srv *s, void *arg)
{
	return ring_reload(s, arg, false);
}

/* After a reload from the main loop: count the data keys by master key
 * (the gauge) and let the aws-sm re-wrap look. */
static void keys_look(struct srv *s, struct reload *r)
{
	struct rekey_count c[REKEY_COUNT_MAX];
	uint64_t other;
	size_t n;
	int ret = rekey_count(s, c, &n, &other);

	if (ret)
		log_warn("event=key_count_failed err=\"%s\"", strerror(-ret));
	rekey_sched_kick(r->rs);
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

int cmd_serve(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, 0, 'd'},
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
	    {"backup-period", required_argument, 0, OPT_BACKUP_PERIOD},
	    {"backup-retry-min", required_argument, 0, OPT_BACKUP_RETRY},
	    {"key-poll", required_argument, 0, 'Q'},
	    {"verbose", no_argument, 0, 'v'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	static struct http_route routes[HTTP_MAX_ROUTES];
	static const char *proxies[HTTP_MAX_TRUSTED_PROXIES];
	struct sockaddr_storage proxy_addrs[HTTP_MAX_TRUSTED_PROXIES];
	size_t n_proxy_addrs = 0;
	int (*const mods[])(struct srv *, struct http_route *, size_t) = {
	    api_auth_routes,	  api_org_routes,      api_config_routes, api_device_routes,
	    api_ingest_routes,	  api_query_routes,    api_shots_routes,  api_avatar_routes,
	    api_retention_routes, api_metrics_routes,  api_backup_routes, api_keys_routes,
	    api_tokens_routes,	  api_web_routes,      api_report_routes, api_review_routes,
	    api_day_routes,	  api_overview_routes,
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
	struct backup_sched *bs = NULL;
	struct backup_sched_opts bo = {0};
	unsigned retention_s = 3600, key_poll_s = KEY_POLL_DEFAULT_S;
	struct reload rl = {.ko = &ko};
	int64_t poll_due = 0;
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
		case OPT_BACKUP_PERIOD:
			if (parse_uint(optarg, 0, BACKUP_PERIOD_MAX_S, &u)) {
				fprintf(stderr,
					"actlog-server: --backup-period must be 0..%u seconds\n",
					BACKUP_PERIOD_MAX_S);
				return 2;
			}
			bo.period_ms = u * 1000u;
			break;
		case OPT_BACKUP_RETRY:
			if (parse_uint(optarg, 1, BACKUP_RETRY_MAX_S, &u)) {
				fprintf(stderr,
					"actlog-server: --backup-retry-min must be 1..%u seconds\n",
					BACKUP_RETRY_MAX_S);
				return 2;
			}
			bo.retry_min_ms = (unsigned)u * 1000u;
			break;
		case 'Q':
			if (parse_uint(optarg, 0, KEY_POLL_MAX_S, &u)) {
				fprintf(stderr, "actlog-server: --key-poll must be 0..%d seconds\n",
					KEY_POLL_MAX_S);
				return 2;
			}
			key_poll_s = (unsigned)u;
			break;
		case 'v':
			verbose = true;
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
	ret = key_ring_open(&ko, dir, &kp, kpath, sizeof(kpath), why, sizeof(why));
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
	metrics_reset();
	metrics_set(METRIC_START_TIME, (int64_t)time(NULL));
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
	rl.dir = dir;
	pthread_mutex_init(&rl.mu, NULL);
	s.key_reload = key_reload;
	s.key_reload_arg = &rl;
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
	sigaddset(&set, SIGHUP);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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
	/* aws-sm: the background re-wrap (it inherits the blocked signals); a
	 * first look now resumes a rotation or follows an AWSCURRENT changed
	 * while the server was down */
	if (ko.provider && !strcmp(ko.provider, "aws-sm") &&
	    (ret = rekey_sched_start(&s, REKEY_BATCH_DEFAULT, &rl.rs)))
		log_err("event=key_rewrap_not_started err=\"%s\"", strerror(-ret));
	keys_look(&s, &rl);
	/* the retention thread inherits the blocked signals */
	if (retention_s && (ret = retention_start(&s, retention_s, &rs)))
		log_err("event=retention_not_started err=\"%s\"", strerror(-ret));
	/* the backup thread too; s.backups is set for the routes */
	if ((ret = backup_sched_start(&s, &bo, &bs)))
		log_err("event=backups_not_started err=\"%s\"", strerror(-ret));
	ret = 0;
	sd_notify(0, "READY=1");
	if (key_poll_s)
		poll_due = now_ms() + (int64_t)key_poll_s * 1000;
	while (!stop_sig) {
		struct timespec ts, *tp = NULL;
		int64_t left = poll_due - now_ms();

		if (key_poll_s) {
			left = left < 0 ? 0 : left;
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000L;
			tp = &ts;
		}
		ppoll(NULL, 0, tp, &old); /* returns on a signal or the poll time */
		if (stop_sig)
			break;
		if (hup_sig || (key_poll_s && now_ms() >= poll_due)) {
			log_notice("event=key_reload why=%s", hup_sig ? "SIGHUP" : "poll");
			hup_sig = 0;
			if (key_poll_s)
				poll_due = now_ms() + (int64_t)key_poll_s * 1000;
			if (!ring_reload(&s, &rl, true))
				keys_look(&s, &rl);
		}
	}
	sd_notify(0, "STOPPING=1");
	log_notice("event=stopping signal=%d", (int)stop_sig);
	retention_stop(rs);
	backup_sched_stop(bs); /* cancels a running backup */
	rekey_sched_stop(rl.rs);
	rl.rs = NULL;
	http_stop(hs); /* waits for the requests on the outbound pool */
	log_notice("event=stopped");
out:
	backup_sched_free(bs);
	outbound_free(s.ob);
	s.ob = NULL;
	api_web_close();
	kp = srv_key_swap(&s, NULL); /* the ring in use (reloads replaced the first) */
	srv_fini(&s);
	pthread_mutex_destroy(&rl.mu);
	store_close(st);
	keyprov_free(kp);
	return ret ? 1 : 0;
}
