// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-latency - the latency of a cheap authenticated route of a running
 * actlog-server (GET /api/v1/me) while --idle keep-alive connections sit
 * open: each idle connection makes one request (unauthenticated, so it
 * takes no rate-limit token), reads the answer and then stays open, doing
 * nothing. They come from 127.0.1.x source addresses, --per-address to an
 * address, so that a per-address connection cap does not refuse them. Then
 * --requests requests go one after another over one keep-alive connection
 * with an administrator's token, each timed from the first byte sent to the
 * last received. Prints p50/p99/max, and how many idle connections the
 * server still held at the end (a connection it closed reads EOF).
 *
 *   actlog-latency --url URL --email E --password-file F [--idle 100]
 *                  [--requests 500] [--per-address 20] [--json]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "benchcli.h"
#include "util.h"

#define LT_IDLE_MAX 10000
#define LT_REQUESTS_MAX 100000
#define LT_PW_MAX 4096
#define LT_RESP_MAX (1u << 20)

struct resp {
	char *p;
	size_t len;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = sz * n;

	if (r->len + k > LT_RESP_MAX)
		return 0;
	memcpy(r->p + r->len, p, k);
	r->len += k;
	r->p[r->len] = 0;
	return k;
}

/* host:port of an http:// URL with a loopback IPv4 host, into *sa. */
static int url_addr(const char *url, struct sockaddr_in *sa)
{
	char host[64];
	unsigned port;

	if (sscanf(url, "http://%63[0-9.]:%u", host, &port) != 2 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

/* One idle connection from 127.0.1.<a>: a request, its answer, then
 * nothing. The fd, or -errno. */
static int idle_open(const struct sockaddr_in *srv, unsigned a)
{
	static const char req[] = "GET /api/v1/me HTTP/1.1\r\nHost: bench\r\n\r\n";
	struct sockaddr_in src = {.sin_family = AF_INET};
	struct pollfd pfd;
	char buf[4096];
	int fd, ret;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	src.sin_addr.s_addr = htonl(0x7f000100u | (a & 0xff));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	    connect(fd, (const struct sockaddr *)srv, sizeof(*srv)) ||
	    write_all(fd, req, sizeof(req) - 1)) {
		ret = -errno;
		close(fd);
		return ret ? ret : -EIO;
	}
	/* the answer is small: read what arrives within a second */
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, 1000) != 1 || read(fd, buf, sizeof(buf)) <= 0) {
		close(fd);
		return -ETIMEDOUT;
	}
	return fd;
}

/* 1 when the server still holds fd open (no EOF, no error, nothing to read). */
static bool idle_alive(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char c;

	if (poll(&pfd, 1, 0) == 0)
		return true;
	return recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) > 0;
}

static int login(CURL *h, const char *url, const char *email, const char *pw, struct resp *r,
		 char *auth, size_t alen)
{
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	cJSON *b = cJSON_CreateObject(), *a;
	char u[1200], *txt;
	const char *tok;
	long st = 0;
	int ret = -EACCES;

	cJSON_AddStringToObject(b, "email", email);
	cJSON_AddStringToObject(b, "password", pw);
	txt = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	snprintf(u, sizeof(u), "%s/api/v1/auth/login", url);
	curl_easy_setopt(h, CURLOPT_URL, u);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, txt);
	r->len = 0;
	if (txt && curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	if (txt) {
		explicit_bzero(txt, strlen(txt));
		free(txt);
	}
	curl_slist_free_all(hd);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	a = st == 200 ? cJSON_Parse(r->p) : NULL;
	tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "token"));
	if (tok && strlen(tok) < 100) {
		snprintf(auth, alen, "Authorization: Bearer %s", tok);
		ret = 0;
	}
	cJSON_Delete(a);
	return ret;
}

static const char usage_text[] =
    "usage: actlog-latency --url URL --email EMAIL --password-file FILE [--idle N]\n"
    "                      [--requests N] [--per-address N] [--json]\n"
    "GET /api/v1/me latency over one keep-alive connection while N idle keep-alive\n"
    "connections are open (default 100 idle, 500 requests, 20 idle connections a\n"
    "source address 127.0.1.x).\n";

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"url", required_argument, 0, 'u'},
					   {"email", required_argument, 0, 'e'},
					   {"password-file", required_argument, 0, 'p'},
					   {"idle", required_argument, 0, 'i'},
					   {"requests", required_argument, 0, 'r'},
					   {"per-address", required_argument, 0, 'a'},
					   {"json", no_argument, 0, 'j'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *url = NULL, *email = NULL, *pwfile = NULL;
	unsigned long idle = 100, requests = 500, per = 20, u;
	struct sockaddr_in sa;
	struct resp r = {0};
	struct curl_slist *hd = NULL;
	char auth[160], murl[1200], *pw = NULL;
	double *lat = NULL;
	int *fds = NULL, c, rc = 1, ret;
	unsigned long i, opened = 0, alive = 0, errors = 0;
	CURL *h = NULL;

	bench_prog = "actlog-latency";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'e':
			email = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'i':
			if (bench_opt_uint("idle", optarg, 0, LT_IDLE_MAX, &idle))
				return 2;
			break;
		case 'r':
			if (bench_opt_uint("requests", optarg, 1, LT_REQUESTS_MAX, &requests))
				return 2;
			break;
		case 'a':
			if (bench_opt_uint("per-address", optarg, 1, 1000, &u))
				return 2;
			per = u;
			break;
		case 'j':
			bench_json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (!url || !email || !pwfile || optind != argc) {
		bench_fail("--url, --email and --password-file are required (--help)");
		return 2;
	}
	if (strlen(url) > 1000 || url_addr(url, &sa)) {
		bench_fail("--url must be http://<IPv4 address>:<port> (a loopback server)");
		return 2;
	}
	if (idle / per > 254) {
		bench_fail("--idle / --per-address must stay within 254 source addresses");
		return 2;
	}
	ret = read_secret_line(pwfile, LT_PW_MAX, &pw);
	if (ret) {
		bench_fail("reading %s: %s", pwfile, strerror(-ret));
		return 1;
	}
	r.p = malloc(LT_RESP_MAX + 1);
	lat = calloc(requests, sizeof(*lat));
	fds = calloc(idle ? idle : 1, sizeof(*fds));
	h = curl_easy_init();
	if (!r.p || !lat || !fds || !h) {
		bench_fail("out of memory");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	ret = login(h, url, email, pw, &r, auth, sizeof(auth));
	if (ret) {
		bench_fail("signing in to %s as %s: refused", url, email);
		goto out;
	}
	for (i = 0; i < idle; i++) {
		fds[i] = idle_open(&sa, (unsigned)(1 + i / per));
		if (fds[i] < 0) {
			bench_fail("idle connection %lu: %s", i + 1, strerror(-fds[i]));
			goto out;
		}
		opened++;
	}
	hd = curl_slist_append(NULL, auth);
	snprintf(murl, sizeof(murl), "%s/api/v1/me", url);
	curl_easy_setopt(h, CURLOPT_URL, murl);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	for (i = 0; i < requests; i++) {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
		long st = 0;

		r.len = 0;
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
		lat[i] = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
		if (st != 200)
			errors++;
	}
	for (i = 0; i < opened; i++)
		alive += idle_alive(fds[i]);
	{
		double p50 = bench_quantile(lat, requests, 0.5),
		       p99 = bench_quantile(lat, requests, 0.99),
		       mx = bench_quantile(lat, requests, 1.0);

		if (bench_json) {
			cJSON *o = cJSON_CreateObject();
			char *txt;

			cJSON_AddStringToObject(o, "tool", "actlog-latency");
			cJSON_AddStringToObject(o, "route", "GET /api/v1/me");
			cJSON_AddNumberToObject(o, "idle_connections", (double)opened);
			cJSON_AddNumberToObject(o, "idle_still_open", (double)alive);
			cJSON_AddNumberToObject(o, "requests", (double)requests);
			cJSON_AddNumberToObject(o, "errors", (double)errors);
			cJSON_AddNumberToObject(o, "p50_ms", p50);
			cJSON_AddNumberToObject(o, "p99_ms", p99);
			cJSON_AddNumberToObject(o, "max_ms", mx);
			txt = cJSON_Print(o);
			if (txt)
				puts(txt);
			free(txt);
			cJSON_Delete(o);
		} else {
			printf(
			    "GET /api/v1/me with %lu idle keep-alive connections (%lu still open "
			    "at the end): %lu requests, %lu not 200, p50 %.3f ms, p99 %.3f ms, "
			    "max %.3f ms\n",
			    opened, alive, requests, errors, p50, p99, mx);
		}
	}
	rc = errors ? 1 : 0;
out:
	for (i = 0; i < opened; i++)
		close(fds[i]);
	curl_slist_free_all(hd);
	if (h)
		curl_easy_cleanup(h);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	free(fds);
	free(lat);
	free(r.p);
	return rc;
}
