// SPDX-License-Identifier: BSD-2-Clause
/*
 * sysinfo_mon.c - reading the machine for the sysinfo record, and when to
 * write one (sysinfo_mon.h).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sysinfo_mon.h"
#include "util.h"

/* prefix (root + "/proc/1/root") + mount point */
#define FS_PATH_MAX (SI_PATH * 2 + 16)

/* A statvfs call in a helper thread. Two references: the caller's and the
 * thread's; the last one out frees it. */
struct fs_job {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs, done, err;
	struct statvfs st;
	sysinfo_statfs_fn fn;
	void *ctx;
	char path[FS_PATH_MAX];
};

struct sysinfo_mon {
	char root[SI_PATH];
	sysinfo_statfs_fn statfs;
	void *statfs_ctx;
	int timeout_ms;
	uint32_t interval_s;
	const struct record_ctx *rctx;
	sysinfo_emit_fn emit;
	void *ctx;
	int tfd;

	uint64_t last_boot_ns; /* CLOCK_BOOTTIME of the last record, 0 = none */
	int64_t last_ms;
	uint64_t records;
	int have_prev_times;
	struct si_cpu_times prev_times;
	struct fs_job *stuck[SYSINFO_MAX_STUCK];
	struct si_snapshot last, scratch;
};

static int default_statfs(const char *path, struct statvfs *st, void *ctx)
{
	(void)ctx;
	return statvfs(path, st) < 0 ? -errno : 0;
}

/* ---- statvfs with a timeout ---- */

static void job_put(struct fs_job *j)
{
	int last;

	pthread_mutex_lock(&j->lock);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (last) {
		pthread_cond_destroy(&j->cond);
		pthread_mutex_destroy(&j->lock);
		free(j);
	}
}

static void *job_run(void *arg)
{
	struct fs_job *j = arg;
	struct statvfs st;
	int err = j->fn(j->path, &st, j->ctx);

	pthread_mutex_lock(&j->lock);
	j->st = st;
	j->err = err;
	j->done = 1;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	job_put(j);
	return NULL;
}

static int job_done(struct fs_job *j)
{
	int d;

	pthread_mutex_lock(&j->lock);
	d = j->done;
	pthread_mutex_unlock(&j->lock);
	return d;
}

/* Forget stuck calls that have returned since. */
static void reap_stuck(struct sysinfo_mon *m)
{
	int i;

	for (i = 0; i < SYSINFO_MAX_STUCK; i++)
		if (m->stuck[i] && job_done(m->stuck[i])) {
			job_put(m->stuck[i]);
			m->stuck[i] = NULL;
		}
}

/* statvfs(path) in a thread, waiting at most timeout_ms: 0, -errno, or
 * -ETIMEDOUT (the call is kept in m->stuck until it returns). */
static int statfs_timed(struct sysinfo_mon *m, const char *path, struct statvfs *st)
{
	pthread_attr_t ta;
	struct timespec dl;
	struct fs_job *j;
	pthread_t t;
	int i, slot = -1, r;

	for (i = 0; i < SYSINFO_MAX_STUCK; i++) {
		if (m->stuck[i] && !strcmp(m->stuck[i]->path, path))
			return -ETIMEDOUT; /* still hanging from last time */
		if (!m->stuck[i] && slot < 0)
			slot = i;
	}
	if (slot < 0)
		return -ETIMEDOUT; /* too many hang already: ask none more */
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->fn = m->statfs;
	j->ctx = m->statfs_ctx;
	j->refs = 2;
	pthread_mutex_init(&j->lock, NULL);
	cond_init_monotonic(&j->cond);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &ta, job_run, j);
	pthread_attr_destroy(&ta);
	if (r) {
		j->refs = 1;
		job_put(j);
		return -r;
	}
	mono_deadline_ms(&dl, m->timeout_ms);
	pthread_mutex_lock(&j->lock);
	while (!j->done && pthread_cond_timedwait(&j->cond, &j->lock, &dl) != ETIMEDOUT)
		;
	r = j->done ? j->err : -ETIMEDOUT;
	if (j->done)
		*st = j->st;
	pthread_mutex_unlock(&j->lock);
	if (r == -ETIMEDOUT)
		m->stuck[slot] = j; /* our reference, dropped when it returns */
	else
		job_put(j);
	return r;
}

/* ---- reading the machine ---- */

static int read_at(const struct sysinfo_mon *m, const char *path, char **buf, size_t *len)
{
	char p[SI_PATH + 64];

	snprintf(p, sizeof(p), "%s%s", m->root, path);
	return read_file(p, SI_MAX_FILE, buf, len);
}

static void measure(struct sysinfo_mon *m, struct si_fs *f, const char *prefix)
{
	char path[FS_PATH_MAX];
	struct statvfs st;
	int r;

	snprintf(path, sizeof(path), "%s%s", prefix, f->mount);
	r = f->may_block ? statfs_timed(m, path, &st) : m->statfs(path, &st, m->statfs_ctx);
	f->err = r;
	if (r)
		return;
	f->have_size = 1;
	f->total = (uint64_t)st.f_blocks * st.f_frsize;
	f->free = (uint64_t)st.f_bfree * st.f_frsize;
	f->avail = (uint64_t)st.f_bavail * st.f_frsize;
}

void sysinfo_collect(struct sysinfo_mon *m, struct si_snapshot *s, int full)
{
	char prefix[SI_PATH + 16] = "", *buf = NULL;
	struct utsname u;
	size_t len, i;

	memset(s, 0, sizeof(*s));
	if (uname(&u) == 0) {
		snprintf(s->hostname, sizeof(s->hostname), "%s", u.nodename);
		snprintf(s->kernel_release, sizeof(s->kernel_release), "%s", u.release);
		snprintf(s->kernel_version, sizeof(s->kernel_version), "%s", u.version);
		snprintf(s->arch, sizeof(s->arch), "%s", u.machine);
	}
	/* read_file leaves buf alone when it fails */
	if (read_at(m, "/etc/os-release", &buf, &len) == 0 ||
	    read_at(m, "/usr/lib/os-release", &buf, &len) == 0)
		s->have_os = si_parse_os_release(buf, len, &s->os) == 0;
	free(buf);
	buf = NULL;
	if (read_at(m, "/proc/meminfo", &buf, &len) == 0)
		s->have_mem = si_parse_meminfo(buf, len, &s->mem) == 0;
	free(buf);
	buf = NULL;
	if (read_at(m, "/sys/devices/system/cpu/online", &buf, &len) == 0 &&
	    si_parse_cpu_list(buf, len, &s->cpus_online))
		s->cpus_online = 0;
	free(buf);
	buf = NULL;
	/* the machine's mounts (pid 1's), measured through its root, when we
	 * may enter it (ptrace access to pid 1); else our own */
	snprintf(prefix, sizeof(prefix), "%s/proc/1/root/", m->root);
	if (access(prefix, X_OK) == 0 && read_at(m, "/proc/1/mountinfo", &buf, &len) == 0) {
		prefix[strlen(prefix) - 1] = '\0'; /* mount points start with '/' */
	} else {
		prefix[0] = '\0';
		if (read_at(m, "/proc/self/mountinfo", &buf, &len))
			buf = NULL;
	}
	if (buf) {
		si_parse_mountinfo(buf, len, s->fs, SI_MAX_FS, &s->n_fs, &s->fs_more);
		s->have_fs = 1;
	}
	free(buf);
	buf = NULL;
	if (!full)
		return;

	if (read_at(m, "/proc/cpuinfo", &buf, &len) == 0)
		s->have_cpuinfo = si_parse_cpuinfo(buf, len, &s->cpu) == 0;
	free(buf);
	buf = NULL;
	if (read_at(m, "/proc/stat", &buf, &len) == 0) {
		s->have_times = si_parse_proc_stat(buf, len, &s->times, NULL) == 0;
		if (si_parse_proc_stat(buf, len, NULL, &s->btime))
			s->btime = 0;
	}
	free(buf);
	buf = NULL;
	if (read_at(m, "/proc/loadavg", &buf, &len) == 0)
		s->have_load = si_parse_loadavg(buf, len, &s->load) == 0;
	free(buf);
	reap_stuck(m);
	for (i = 0; i < s->n_fs; i++)
		measure(m, &s->fs[i], prefix);
}

/* ---- records and timing ---- */

static int arm(struct sysinfo_mon *m)
{
	uint64_t due = m->last_boot_ns + (uint64_t)m->interval_s * NSEC_PER_SEC;
	uint64_t now = clock_ns(CLOCK_BOOTTIME);
	struct itimerspec its = {0};

	if (due <= now)
		due = now + 1; /* now: it_value 0 would disarm */
	its.it_value.tv_sec = (time_t)(due / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(due % NSEC_PER_SEC);
	return timerfd_settime(m->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

/* Collect everything and write a record; the new snapshot becomes m->last. */
static void write_record(struct sysinfo_mon *m, enum si_reason reason, unsigned int changed)
{
	struct si_snapshot *s = &m->scratch;
	uint64_t now_boot;
	struct si_usage u = {-1, -1, 0};
	struct si_cpu_times zero = {0};
	int64_t ts = (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);

	sysinfo_collect(m, s, 1);
	now_boot = clock_ns(CLOCK_BOOTTIME);
	if (s->have_times) {
		/* over the window since the last record; since boot at first */
		si_cpu_usage(m->have_prev_times ? &m->prev_times : &zero, &s->times, &u.busy_pct,
			     &u.iowait_pct);
		u.window_s = (double)(now_boot - (m->have_prev_times ? m->last_boot_ns : 0)) / 1e9;
		m->prev_times = s->times;
		m->have_prev_times = 1;
	}
	if (reason == SI_CHANGE && m->records) {
		unsigned int again = sysinfo_changes(&m->last, s);

		if (again)
			changed = again;
	}
	m->emit(record_sysinfo(m->rctx, ts, reason, changed, s, &u), ts, m->ctx);
	m->records++;
	m->last = *s;
	m->last_boot_ns = now_boot;
	m->last_ms = ts;
	arm(m);
}

int sysinfo_mon_open(struct sysinfo_mon **out, const struct sysinfo_mon_opts *o)
{
	struct sysinfo_mon *m;

	if (o->interval_s < SI_INTERVAL_MIN || o->interval_s > SI_INTERVAL_MAX || !o->emit ||
	    !o->rctx)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	snprintf(m->root, sizeof(m->root), "%s", o->root ? o->root : "");
	m->statfs = o->statfs ? o->statfs : default_statfs;
	m->statfs_ctx = o->statfs_ctx;
	m->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : SYSINFO_TIMEOUT_MS;
	m->interval_s = o->interval_s;
	m->rctx = o->rctx;
	m->emit = o->emit;
	m->ctx = o->ctx;
	m->tfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->tfd < 0) {
		int err = -errno;

		free(m);
		return err;
	}
	*out = m;
	return 0;
}

int sysinfo_mon_fd(const struct sysinfo_mon *m)
{
	return m->tfd;
}

void sysinfo_mon_start(struct sysinfo_mon *m)
{
	write_record(m, SI_START, 0);
}

void sysinfo_mon_dispatch(struct sysinfo_mon *m)
{
	uint64_t ticks;

	(void)!read(m->tfd, &ticks, sizeof(ticks));
	write_record(m, SI_INTERVAL, 0);
}

unsigned int sysinfo_mon_check(struct sysinfo_mon *m)
{
	unsigned int changed;

	if (!m->records)
		return 0;
	sysinfo_collect(m, &m->scratch, 0);
	changed = sysinfo_changes(&m->last, &m->scratch);
	if (changed)
		write_record(m, SI_CHANGE, changed);
	return changed;
}

int sysinfo_mon_set_interval(struct sysinfo_mon *m, uint32_t interval_s)
{
	if (interval_s < SI_INTERVAL_MIN || interval_s > SI_INTERVAL_MAX)
		return -EINVAL;
	if (interval_s == m->interval_s)
		return 0;
	m->interval_s = interval_s;
	return m->records ? arm(m) : 0;
}

uint32_t sysinfo_mon_interval(const struct sysinfo_mon *m)
{
	return m->interval_s;
}

int sysinfo_mon_policy(struct sysinfo_mon *m, const struct cJSON *cfg)
{
	const cJSON *v = cJSON_GetObjectItem(cfg, "sysinfo.interval_s");

	if (!cJSON_IsNumber(v) || v->valuedouble < SI_INTERVAL_MIN ||
	    v->valuedouble > SI_INTERVAL_MAX || (uint32_t)v->valuedouble == m->interval_s)
		return 0;
	return sysinfo_mon_set_interval(m, (uint32_t)v->valuedouble) == 0;
}

void sysinfo_mon_status(const struct sysinfo_mon *m, struct cJSON *status)
{
	cJSON *x = cJSON_AddObjectToObject(status, "sysinfo");
	char ts[RFC3339_LEN];
	uint64_t now, due;

	if (!x)
		return;
	cJSON_AddNumberToObject(x, "interval_s", m->interval_s);
	cJSON_AddNumberToObject(x, "records", (double)m->records);
	if (!m->records) {
		cJSON_AddNullToObject(x, "last");
		cJSON_AddNullToObject(x, "next_in_s");
		return;
	}
	cJSON_AddStringToObject(x, "last", rfc3339_ms(m->last_ms, ts));
	now = clock_ns(CLOCK_BOOTTIME);
	due = m->last_boot_ns + (uint64_t)m->interval_s * NSEC_PER_SEC;
	cJSON_AddNumberToObject(x, "next_in_s",
				due > now ? (double)((due - now) / NSEC_PER_SEC) : 0);
}

void sysinfo_mon_close(struct sysinfo_mon *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < SYSINFO_MAX_STUCK; i++)
		if (m->stuck[i])
			job_put(m->stuck[i]);
	if (m->tfd >= 0)
		close(m->tfd);
	free(m);
}
