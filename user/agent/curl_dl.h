/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * curl_dl.h - libcurl, loaded with dlopen() only when the agent enrolls or
 * ships. libcurl and what it links (TLS, Kerberos, LDAP, SSH...) are more
 * than a third of a spooling agent's resident memory; an agent that keeps
 * its records never maps them. Include after <curl/curl.h>, with
 * CURL_DISABLE_TYPECHECK defined before it: the curl_* names below become
 * calls through the loaded table.
 */
#ifndef ACTLOG_CURL_DL_H
#define ACTLOG_CURL_DL_H

#ifndef CURL_DISABLE_TYPECHECK
#define CURL_DISABLE_TYPECHECK /* curl_easy_setopt() is a macro here */
#endif
#include <curl/curl.h>

struct curl_api {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *c);
	void (*easy_reset)(CURL *c);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

extern struct curl_api curl_api;

/*
 * Load libcurl (libcurl.so.4) and run curl_global_init() once; later calls
 * return at once. Not thread-safe: call it from the main thread before any
 * thread uses curl. 0, or -ENOENT when the library or a symbol is missing
 * (the reason is logged at debug level), -EIO when curl_global_init failed.
 */
int curl_dl_load(void);

/* curl_global_cleanup() and unload, when curl_dl_load() succeeded. */
void curl_dl_unload(void);

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init() curl_api.easy_init()
#define curl_easy_cleanup(c) curl_api.easy_cleanup(c)
#define curl_easy_reset(c) curl_api.easy_reset(c)
#define curl_easy_setopt(...) curl_api.easy_setopt(__VA_ARGS__)
#define curl_easy_perform(c) curl_api.easy_perform(c)
#define curl_easy_getinfo(...) curl_api.easy_getinfo(__VA_ARGS__)
#define curl_easy_strerror(e) curl_api.easy_strerror(e)
#define curl_slist_append(l, s) curl_api.slist_append(l, s)
#define curl_slist_free_all(l) curl_api.slist_free_all(l)

#endif /* ACTLOG_CURL_DL_H */
