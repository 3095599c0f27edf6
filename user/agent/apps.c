// SPDX-License-Identifier: BSD-2-Clause
/*
 * apps.c - focus seconds, top CPU processes and application names (see
 * apps.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app_usage.h"
#include "session_proto.h"
#include "apps.h"
#include "desktop.h"
#include "focus.h"
#include "log.h"
#include "proc_parse.h"
#include "session_sock.h"
#include "util.h"

#define HASH_SLOTS 8192	       /* power of two, twice APPS_MAX_PIDS */
#define MIN_CPU_NS 10000000ULL /* top_cpu leaves out processes under 10 ms */

struct ptask {
	uint32_t pid;
	uint32_t uid;
	int32_t next; /* hash chain, or free list */
	uint8_t used, exited;
	uint64_t start_ticks; /* /proc/PID/stat field 22; 0 until first read */
	uint64_t last_ns;     /* CPU at the previous sample (the baseline) */
	uint64_t exit_ns;     /* CPU at exit */
	char comm[PROC_COMM_LEN];
	char *exe; /* malloc'd, NULL unknown (kernel threads, races) */
};

struct top_entry {
	uint32_t pid, uid;
	uint64_t ns;
	char comm[PROC_COMM_LEN];
	char exe[PROC_EXE_LEN];
};

struct apps {
	struct sessd *sd;
	int (*shot)(void *ctx, const struct sessd_shot *sh, char *why, size_t whylen);
	void *shot_ctx;
	struct focus_acc focus;
	int focus_client; /* the helper whose report is the current focus, -1 */
	char source[32];  /* that helper's focus source */
	int had_helper;	  /* a helper was connected during the interval */
	char cur_class[FOCUS_APP_LEN], cur_instance[FOCUS_APP_LEN];
	char unknown[2 * SESSION_ROUTE_WHY_LEN]; /* the helper cannot tell the focus: why */
	uint32_t cur_pid;
	char cur_name[FOCUS_APP_LEN]; /* focus_name() of cur_class and cur_pid; "" none */
	uint64_t focus_reports;
	struct sessd_shots shots; /* the screenshot policy the helpers get */

	struct desktop_index dix;
	char dirs[1024];

	int procfd;
	long hz;
	uint64_t iv_start_boot_ns;
	struct ptask t[APPS_MAX_PIDS];
	int32_t hash[HASH_SLOTS];
	int32_t free_head;
	unsigned int n_pids;
	uint64_t untracked; /* processes not followed because the table was full */
	uint64_t last_sample_us;
};

/* ---- the process table ---- */

static unsigned int hslot(uint32_t pid)
{
	return (pid * 2654435761u) & (HASH_SLOTS - 1);
}

static struct ptask *pt_find(struct apps *a, uint32_t pid)
{
	int32_t i;

	for (i = a->hash[hslot(pid)]; i >= 0; i = a->t[i].next)
		if (a->t[i].pid == pid)
			return &a->t[i];
	return NULL;
}

static struct ptask *pt_add(struct apps *a, uint32_t pid)
{
	struct ptask *p;
	int32_t i = a->free_head;
	unsigned int h = hslot(pid);

	if (i < 0) {
		a->untracked++;
		return NULL;
	}
	p = &a->t[i];
	a->free_head = p->next;
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->pid = pid;
	p->uid = PROC_UID_UNKNOWN;
	p->next = a->hash[h];
	a->hash[h] = i;
	a->n_pids++;
	return p;
}

static void pt_del(struct apps *a, struct ptask *p)
{
	int32_t idx = (int32_t)(p - a->t), *link = &a->hash[hslot(p->pid)];

	while (*link >= 0 && *link != idx)
		link = &a->t[*link].next;
	if (*link == idx)
		*link = p->next;
	free(p->exe);
	memset(p, 0, sizeof(*p));
	p->next = a->free_head;
	a->free_head = idx;
	a->n_pids--;
}

static void pt_set_exe(struct ptask *p, const char *exe)
{
	free(p->exe);
	p->exe = exe && *exe ? strdup(exe) : NULL;
}

/* Read /proc/PID/stat into *si. 0 or -errno (-ENOENT: gone). */
static int read_stat(struct apps *a, uint32_t pid, struct proc_stat_info *si)
{
	char path[32], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%u/stat", pid);
	fd = openat(a->procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	return proc_parse_stat(buf, (size_t)n, si);
}

/* Fill a process first seen in /proc: exe, uid, comm, start; its CPU so
 * far is the baseline unless it started during this interval. */
static void pt_fill_from_proc(struct apps *a, struct ptask *p, const struct proc_stat_info *si)
{
	char path[32], exe[PROC_EXE_LEN];
	struct stat st;
	ssize_t n;
	uint64_t cpu = proc_ticks_to_ns(si->utime_ticks + si->stime_ticks, a->hz);

	snprintf(path, sizeof(path), "%u/exe", p->pid);
	n = readlinkat(a->procfd, path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		pt_set_exe(p, exe);
	} else {
		pt_set_exe(p, NULL); /* a kernel thread, or not ours to read */
	}
	snprintf(path, sizeof(path), "%u", p->pid);
	if (fstatat(a->procfd, path, &st, 0) == 0)
		p->uid = st.st_uid;
	memcpy(p->comm, si->comm, sizeof(p->comm));
	p->start_ticks = si->start_ticks;
	p->last_ns = proc_ticks_to_ns(si->start_ticks, a->hz) >= a->iv_start_boot_ns ? 0 : cpu;
}

/* One getdents pass over /proc: follow the processes the table lacks. */
static void discover(struct apps *a)
{
	struct proc_stat_info si;
	struct dirent *de;
	struct ptask *p;
	uint64_t pid;
	DIR *d;
	int fd;

	fd = openat(a->procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    parse_uint(de->d_name, 1, UINT32_MAX, &pid) || pt_find(a, (uint32_t)pid))
			continue;
		if (read_stat(a, (uint32_t)pid, &si))
			continue;
		p = pt_add(a, (uint32_t)pid);
		if (!p)
			break; /* full: counted once per pass */
		pt_fill_from_proc(a, p, &si);
	}
	closedir(d);
}

static void top_offer(struct top_entry *top, unsigned int *n, const struct ptask *p, uint64_t ns)
{
	unsigned int i, j;

	if (ns < MIN_CPU_NS)
		return;
	for (i = 0; i < *n && top[i].ns >= ns; i++)
		;
	if (i >= APPS_TOP_N)
		return;
	j = *n < APPS_TOP_N ? (*n)++ : APPS_TOP_N - 1;
	for (; j > i; j--)
		top[j] = top[j - 1];
	top[i].pid = p->pid;
	top[i].uid = p->uid;
	top[i].ns = ns;
	memcpy(top[i].comm, p->comm, sizeof(top[i].comm));
	snprintf(top[i].exe, sizeof(top[i].exe), "%s", p->exe ? p->exe : "");
}

/* Sample every followed process; fill the interval's top CPU users. */
static void sample(struct apps *a, struct top_entry *top, unsigned int *n_top)
{
	struct proc_stat_info si;
	struct ptask *p;
	uint64_t cpu, t0 = clock_ns(CLOCK_MONOTONIC);
	unsigned int i;

	*n_top = 0;
	discover(a);
	for (i = 0; i < APPS_MAX_PIDS; i++) {
		p = &a->t[i];
		if (!p->used)
			continue;
		if (p->exited) {
			top_offer(top, n_top, p,
				  p->exit_ns > p->last_ns ? p->exit_ns - p->last_ns : 0);
			pt_del(a, p);
			continue;
		}
		if (read_stat(a, p->pid, &si)) {
			pt_del(a, p); /* gone, and its exit event was lost */
			continue;
		}
		if (p->start_ticks && si.start_ticks != p->start_ticks) {
			pt_fill_from_proc(a, p, &si); /* the pid was reused */
			continue;
		}
		p->start_ticks = si.start_ticks;
		if (!p->comm[0])
			memcpy(p->comm, si.comm, sizeof(p->comm));
		cpu = proc_ticks_to_ns(si.utime_ticks + si.stime_ticks, a->hz);
		top_offer(top, n_top, p, cpu > p->last_ns ? cpu - p->last_ns : 0);
		p->last_ns = cpu;
	}
	a->last_sample_us = (clock_ns(CLOCK_MONOTONIC) - t0) / 1000;
}

void apps_on_proc(struct apps *a, const struct proc_record *r)
{
	struct ptask *p;

	if (!a)
		return;
	p = pt_find(a, r->pid);
	if (r->kind == PROC_EXEC) {
		if (!p)
			p = pt_add(a, r->pid); /* CPU since fork counts: baseline 0 */
		if (!p)
			return;
		p->exited = 0;
		pt_set_exe(p, r->flags & PROC_F_EXE_UNKNOWN ? NULL : r->exe);
		if (r->uid != PROC_UID_UNKNOWN)
			p->uid = r->uid;
		memcpy(p->comm, r->comm, sizeof(p->comm));
		p->comm[sizeof(p->comm) - 1] = '\0';
		return;
	}
	/* exit: a process we do not follow counts only when it was born in
	 * this interval (all its CPU is then the interval's) */
	if (!p) {
		if (r->start_ns < a->iv_start_boot_ns)
			return;
		p = pt_add(a, r->pid);
		if (!p)
			return;
		memcpy(p->comm, r->comm, sizeof(p->comm));
		p->comm[sizeof(p->comm) - 1] = '\0';
		if (r->uid != PROC_UID_UNKNOWN)
			p->uid = r->uid;
	}
	p->exited = 1;
	/* the netlink source may not know the CPU of a reaped process: then
	 * only what the samples saw counts */
	p->exit_ns = r->flags & PROC_F_CPU_UNKNOWN ? p->last_ns : r->cpu_ns;
}

/* ---- application names ---- */

static void scan_desktop_dirs(struct apps *a)
{
	char dirs[sizeof(a->dirs)], path[PATH_MAX], id[FOCUS_APP_LEN], *save = NULL, *dir, *buf;
	struct desktop_entry e;
	struct dirent *de;
	size_t len;
	DIR *d;

	desktop_index_clear(&a->dix);
	snprintf(dirs, sizeof(dirs), "%s", a->dirs);
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			len = strlen(de->d_name);
			if (len <= 8 || len - 8 >= sizeof(id) ||
			    strcmp(de->d_name + len - 8, ".desktop"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			buf = NULL;
			if (read_file(path, DESKTOP_MAX_FILE, &buf, &len))
				continue;
			memcpy(id, de->d_name, strlen(de->d_name) - 8);
			id[strlen(de->d_name) - 8] = '\0';
			if (desktop_parse(buf, len, id, &e) == 0)
				desktop_index_add(&a->dix, &e);
			free(buf);
		}
		closedir(d);
	}
	log_info("applications: %zu .desktop entries from %s%s", a->dix.n, a->dirs,
		 a->dix.skipped ? " (some left out: the index is full)" : "");
}

/* The name of the app whose window has WM_CLASS class and pid: a .desktop
 * Name by class, else by the pid's executable, else the class itself. */
static const char *focus_name(struct apps *a, const char *class, uint32_t pid, char *buf, size_t n)
{
	char path[32], exe[PROC_EXE_LEN];
	const char *name = desktop_name_for_class(&a->dix, class);
	ssize_t k;

	if (name)
		return name;
	if (pid) {
		snprintf(path, sizeof(path), "%u/exe", pid);
		k = readlinkat(a->procfd, path, exe, sizeof(exe) - 1);
		if (k > 0) {
			exe[k] = '\0';
			name = desktop_name_for_exe(&a->dix, exe);
			if (name)
				return name;
		}
	}
	snprintf(buf, n, "%s", class);
	return buf;
}

/* ---- focus from helpers ---- */

static void on_focus(void *ctx, unsigned int client, const struct sessd_focus *f)
{
	struct apps *a = ctx;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	char buf[FOCUS_APP_LEN], class[FOCUS_APP_LEN];
	const char *name;

	a->focus_reports++;
	a->focus_client = (int)client;
	a->had_helper = 1;
	snprintf(a->source, sizeof(a->source), "%s", f->source ? f->source : "");
	a->cur_instance[0] = '\0';
	if (f->unknown)
		utf8_clean(a->unknown, sizeof(a->unknown), f->unknown, strlen(f->unknown));
	else
		a->unknown[0] = '\0';
	if (f->unknown || !f->app || !*f->app) {
		a->cur_pid = 0;
		a->cur_class[0] = a->cur_name[0] = '\0';
		focus_set(&a->focus, now, f->unknown ? FOCUS_UNKNOWN : FOCUS_NONE, NULL, NULL);
		return;
	}
	utf8_clean(class, sizeof(class), f->app, strlen(f->app));
	if (f->instance)
		utf8_clean(a->cur_instance, sizeof(a->cur_instance), f->instance,
			   strlen(f->instance));
	/* a title change reports the same window again: its name is known,
	 * without another look at the .desktop index and /proc */
	if (!a->cur_name[0] || f->pid != a->cur_pid || strcmp(class, a->cur_class)) {
		memcpy(a->cur_class, class, sizeof(class));
		a->cur_pid = f->pid;
		name = focus_name(a, class, f->pid, buf, sizeof(buf));
		utf8_clean(a->cur_name, sizeof(a->cur_name), name, strlen(name));
	}
	focus_set(&a->focus, now, FOCUS_APP, a->cur_name, sessd_titles(a->sd) ? f->title : NULL);
}

static void on_gone(void *ctx, unsigned int client)
{
	struct apps *a = ctx;

	if ((int)client != a->focus_client)
		return;
	focus_set(&a->focus, clock_ns(CLOCK_MONOTONIC), FOCUS_NONE, NULL, NULL);
	a->focus_client = -1;
	a->cur_class[0] = a->cur_instance[0] = a->cur_name[0] = '\0';
	a->cur_pid = 0;
}

/* ---- the interval ---- */

char *apps_interval_close(struct apps *a, const struct record_ctx *rc, int64_t start_ms,
			  int64_t end_ms, uint32_t interval_s)
{
	struct focus_total apps[APPS_MAX_APPS], titles[APPS_MAX_TITLES];
	struct top_entry top[APPS_TOP_N];
	struct app_cpu cpu[APPS_TOP_N];
	char names[APPS_TOP_N][FOCUS_APP_LEN];
	struct app_usage u = {0};
	unsigned int n_top, i;
	const char *name;
	char *json;

	if (!a)
		return NULL;
	sessd_recheck(a->sd); /* the active session may have changed */
	focus_take(&a->focus, clock_ns(CLOCK_MONOTONIC), apps, APPS_MAX_APPS, &u.n_apps,
		   sessd_titles(a->sd) ? titles : NULL, APPS_MAX_TITLES, &u.n_titles, &u.unknown_s);
	sample(a, top, &n_top);
	a->iv_start_boot_ns = clock_ns(CLOCK_BOOTTIME);
	for (i = 0; i < n_top; i++) {
		name = top[i].exe[0] ? desktop_name_for_exe(&a->dix, top[i].exe) : NULL;
		if (name)
			snprintf(names[i], sizeof(names[i]), "%s", name);
		else if (top[i].exe[0])
			desktop_basename(top[i].exe, names[i], sizeof(names[i]));
		else
			snprintf(names[i], sizeof(names[i]), "%s", top[i].comm);
		cpu[i].pid = top[i].pid;
		cpu[i].uid = top[i].uid;
		cpu[i].exe = top[i].exe[0] ? top[i].exe : NULL;
		cpu[i].app = names[i];
		cpu[i].cpu_s = (double)((top[i].ns + 500000) / 1000000) / 1000.0;
	}
	u.start_ms = start_ms;
	u.end_ms = end_ms;
	u.interval_s = interval_s;
	u.source = (a->had_helper || sessd_helpers(a->sd) > 0) && a->source[0] ? a->source : NULL;
	u.apps = apps;
	u.titles = sessd_titles(a->sd) ? titles : NULL;
	u.top = cpu;
	u.n_top = n_top;
	json = record_app_usage(rc, &u);
	focus_reset(&a->focus);
	a->had_helper = sessd_helpers(a->sd) > 0;
	return json;
}

/* ---- the rest of the interface ---- */

static int on_shot(void *ctx, const struct sessd_shot *sh, char *why, size_t whylen)
{
	struct apps *a = ctx;

	if (!a->shot) {
		snprintf(why, whylen, "this actlogd keeps no screenshots (not enrolled)");
		return -ENOSYS;
	}
	return a->shot(a->shot_ctx, sh, why, whylen);
}

int apps_open(struct apps **out, const struct apps_opts *o)
{
	struct sessd_hooks h = {.focus = on_focus, .gone = on_gone, .shot = on_shot};
	struct sessd_opts so = {.path = o->session_socket,
				.session_uid = o->session_uid,
				.active_uid = o->active_uid,
				.active_ctx = o->active_ctx};
	struct top_entry top[APPS_TOP_N];
	unsigned int i, n;
	struct apps *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->focus_client = -1;
	a->shot = o->shot;
	a->shot_ctx = o->shot_ctx;
	a->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->procfd < 0) {
		err = -errno;
		free(a);
		return err;
	}
	a->hz = sysconf(_SC_CLK_TCK);
	if (a->hz <= 0)
		a->hz = 100;
	for (i = 0; i < HASH_SLOTS; i++)
		a->hash[i] = -1;
	for (i = 0; i < APPS_MAX_PIDS; i++)
		a->t[i].next = i + 1 < APPS_MAX_PIDS ? (int32_t)(i + 1) : -1;
	a->free_head = 0;
	focus_init(&a->focus, clock_ns(CLOCK_MONOTONIC));
	snprintf(a->dirs, sizeof(a->dirs), "%s", o->desktop_dirs ? o->desktop_dirs : "");
	h.ctx = a;
	{
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", o->session_socket);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir_p(dir, 0755);
		}
	}
	err = sessd_open(&a->sd, &so, &h);
	if (err) {
		apps_close(a);
		return err;
	}
	a->shots.interval_s = 600;
	a->shots.format = SESSD_WEBP; /* the server's defaults until its policy */
	a->shots.quality = 50;
	scan_desktop_dirs(a);
	/* the first sample: what runs now is the baseline */
	a->iv_start_boot_ns = clock_ns(CLOCK_BOOTTIME);
	sample(a, top, &n);
	*out = a;
	return 0;
}

int apps_fd(const struct apps *a)
{
	return sessd_fd(a->sd);
}

int apps_dispatch(struct apps *a)
{
	return a ? sessd_dispatch(a->sd) : 0;
}

/* screenshots.*: passed on to the helpers, which take the shots; off while
 * logging is off. Bad values keep the current setting. */
static void shots_policy(struct apps *a, const cJSON *cfg)
{
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(cfg, "screenshots.enabled");
	const cJSON *iv = cJSON_GetObjectItemCaseSensitive(cfg, "screenshots.interval_s");
	const cJSON *jit = cJSON_GetObjectItemCaseSensitive(cfg, "screenshots.jitter_s");
	const cJSON *bl = cJSON_GetObjectItemCaseSensitive(cfg, "screenshots.blur");
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(cfg, "screenshots.format");
	const cJSON *qu = cJSON_GetObjectItemCaseSensitive(cfg, "screenshots.quality");
	const cJSON *lg = cJSON_GetObjectItemCaseSensitive(cfg, "logging.enabled");
	struct sessd_shots p = a->shots;

	if (cJSON_IsBool(en))
		p.enabled = cJSON_IsTrue(en);
	if (cJSON_IsFalse(lg))
		p.enabled = 0;
	if (cJSON_IsNumber(iv) && iv->valuedouble >= 1 && iv->valuedouble <= 86400)
		p.interval_s = (unsigned int)iv->valuedouble;
	if (cJSON_IsNumber(jit) && jit->valuedouble >= 0 && jit->valuedouble <= 3600)
		p.jitter_s = (unsigned int)jit->valuedouble;
	if (cJSON_IsBool(bl))
		p.blur = cJSON_IsTrue(bl);
	if (cJSON_IsString(fmt) && sessd_fmt_parse(fmt->valuestring) >= 0)
		p.format = (enum sessd_fmt)sessd_fmt_parse(fmt->valuestring);
	if (cJSON_IsNumber(qu) && qu->valuedouble >= 1 && qu->valuedouble <= 100)
		p.quality = (unsigned int)qu->valuedouble;
	if (!memcmp(&p, &a->shots, sizeof(p)))
		return;
	a->shots = p;
	sessd_set_shots(a->sd, &p);
	log_notice("policy: screenshots %s (every %us + up to %us, %s quality %u%s)",
		   p.enabled ? "on" : "off", p.interval_s, p.jitter_s, sessd_fmt_name(p.format),
		   p.quality, p.blur ? ", blurred" : "");
}

void apps_policy(struct apps *a, const cJSON *cfg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, "apps.titles");

	if (a)
		shots_policy(a, cfg);
	if (!a || !cJSON_IsBool(v) || cJSON_IsTrue(v) == sessd_titles(a->sd))
		return;
	sessd_set_titles(a->sd, cJSON_IsTrue(v));
	log_notice("policy: window titles %s", cJSON_IsTrue(v) ? "recorded" : "not recorded");
}

void apps_user_changed(struct apps *a)
{
	if (a)
		sessd_recheck(a->sd);
}

void apps_reload(struct apps *a)
{
	if (!a)
		return;
	scan_desktop_dirs(a);
	a->cur_name[0] = '\0'; /* the next report names its app from the new index */
}

void apps_status(struct apps *a, cJSON *status)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), for_ns;
	const char *cur;
	cJSON *s, *f, *x;

	if (!a)
		return;
	s = cJSON_AddObjectToObject(status, "session");
	if (!s)
		return;
	sessd_status(a->sd, s);
	cur = focus_current(&a->focus, now, &for_ns);
	if (a->focus.state == FOCUS_NONE || a->focus_client < 0) {
		cJSON_AddNullToObject(s, "focus");
	} else {
		f = cJSON_AddObjectToObject(s, "focus");
		if (cur)
			cJSON_AddStringToObject(f, "app", cur);
		else
			cJSON_AddNullToObject(f, "app");
		cJSON_AddBoolToObject(f, "known", a->focus.state == FOCUS_APP);
		if (a->cur_class[0])
			cJSON_AddStringToObject(f, "class", a->cur_class);
		if (a->cur_instance[0])
			cJSON_AddStringToObject(f, "instance", a->cur_instance);
		if (a->cur_pid)
			cJSON_AddNumberToObject(f, "pid", a->cur_pid);
		cJSON_AddStringToObject(f, "source", a->source);
		if (a->focus.state == FOCUS_UNKNOWN && a->unknown[0])
			cJSON_AddStringToObject(f, "unknown", a->unknown);
		cJSON_AddNumberToObject(f, "for_s", (double)(for_ns / 1000000) / 1000.0);
	}
	cJSON_AddNumberToObject(s, "focus_reports", (double)a->focus_reports);
	x = cJSON_AddObjectToObject(status, "apps");
	if (!x)
		return;
	cJSON_AddNumberToObject(x, "pids", a->n_pids);
	cJSON_AddNumberToObject(x, "pids_max", APPS_MAX_PIDS);
	cJSON_AddNumberToObject(x, "untracked", (double)a->untracked);
	cJSON_AddNumberToObject(x, "last_sample_us", (double)a->last_sample_us);
	cJSON_AddNumberToObject(x, "desktop_entries", (double)a->dix.n);
}

void apps_close(struct apps *a)
{
	unsigned int i;

	if (!a)
		return;
	sessd_close(a->sd);
	for (i = 0; i < APPS_MAX_PIDS; i++)
		free(a->t[i].exe);
	desktop_index_clear(&a->dix);
	if (a->procfd >= 0)
		close(a->procfd);
	free(a);
}
