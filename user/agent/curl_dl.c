// SPDX-License-Identifier: BSD-2-Clause
/*
 * curl_dl.c - libcurl through dlopen(); see curl_dl.h.
 */
#define CURL_DISABLE_TYPECHECK
#include <dlfcn.h>
#include <errno.h>

#include "curl_dl.h"
#include "log.h"

struct curl_api curl_api;
static void *handle;

int curl_dl_load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(f, n) {n, __builtin_offsetof(struct curl_api, f)}
	    SYM(global_init, "curl_global_init"),	SYM(global_cleanup, "curl_global_cleanup"),
	    SYM(easy_init, "curl_easy_init"),		SYM(easy_cleanup, "curl_easy_cleanup"),
	    SYM(easy_reset, "curl_easy_reset"),		SYM(easy_setopt, "curl_easy_setopt"),
	    SYM(easy_perform, "curl_easy_perform"),	SYM(easy_getinfo, "curl_easy_getinfo"),
	    SYM(easy_strerror, "curl_easy_strerror"),	SYM(slist_append, "curl_slist_append"),
	    SYM(slist_free_all, "curl_slist_free_all"),
#undef SYM
	};
	void *h;

	if (handle)
		return 0;
	h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_debug("dlopen libcurl.so.4: %s", dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(h, syms[i].name);

		if (!p) {
			log_debug("libcurl.so.4 has no %s", syms[i].name);
			dlclose(h);
			return -ENOENT;
		}
		/* object and function pointers share a representation on
		 * every platform dlsym() works on (POSIX) */
		*(void **)((char *)&curl_api + syms[i].off) = p;
	}
	if (curl_api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(h);
		return -EIO;
	}
	handle = h;
	return 0;
}

void curl_dl_unload(void)
{
	if (!handle)
		return;
	curl_api.global_cleanup();
	/* not dlclose()d: TLS libraries do not all unload cleanly */
	handle = NULL;
}
