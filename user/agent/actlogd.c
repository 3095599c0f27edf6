// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlogd - the per-machine activity agent.
 *
 * Lifecycle: parse settings → open the spool → choose and open the sources
 * (feature probes; fallbacks) → open the control socket → tell systemd we
 * are ready → one epoll loop (signals, interval timer, spool-sync timer,
 * process events, evdev input, control clients) → on SIGTERM close the
 * running interval, sync, exit 0. Every record is appended to the spool
 * before anything else is done with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "aggregate.h"
#include "apps.h"
#include "conf.h"
#include "control.h"
#include "curl_dl.h"
#include "log.h"
#include "policy.h"
#include "record.h"
#include "seat.h"
#include "sources.h"
#include "spool.h"
#include "ship.h"
#include "shot_queue.h"
#include "sysinfo_mon.h"
#include "util.h"
#include "version.h"

/* app id for sd_id128_get_machine_app_specific(): the raw machine id never
 * leaves the machine (machine-id(5)) */
#define ACTLOG_APP_ID SD_ID128_MAKE(6b, 1e, 3a, 0c, 4f, 52, 4d, 8a, 9e, 27, 5d, 13, c0, 8f, 41, 7a)

#define RECENT_EXECS 16

/* event-loop tags of the active-user tracker and sysinfo */
enum { TAG_SEAT = 64, TAG_SYSINFO };

enum tag { TAG_SIGNAL = 1, TAG_INTERVAL, TAG_SYNC, TAG_CONTROL, TAG_PROC, TAG_INPUT, TAG_POLICY };
/* the session socket (user/agent/apps.c, user/agent/session_sock.c) */
enum { TAG_SESSION = 80 };

struct recent_exec {
	int64_t ts_ms;
	uint32_t pid;
	uint32_t uid;
	char comm[PROC_COMM_LEN];
	char exe[PROC_EXE_LEN];
};

struct override {
	const char *key;
	const char *value;
};

struct agent {
	struct agent_conf conf;	 /* in effect: local settings with the server's policy over them */
	struct agent_conf local; /* what the settings file and options say (SIGHUP re-reads) */
	const char *conf_path;
	int conf_path_given;
	struct override overrides[32];
	int n_overrides;

	struct spool *spool;
	pthread_mutex_t spool_lock; /* the shipper thread acknowledges */
	struct shipper *ship;
	struct shotq *shots; /* screenshots waiting for upload; NULL not enrolled */
	struct device_cred cred;
	int enrolled;
	int policyfd; /* eventfd: a new policy arrived */
	int logging;  /* effective logging.enabled */
	/* the server's last policy (policy.h): NULL while there is none */
	cJSON *policy;
	char policy_etag[POLICY_ETAG_MAX];
	int64_t policy_saved_ms; /* when it was written to policy.json, 0: not saved */
	int policy_from_file;	 /* read from policy.json; none fetched since */
	/* the session user the policy is asked for ("": nobody at the seat),
	 * and whether their policy has yet to arrive after a switch
	 * (screenshots stay off meanwhile) */
	char policy_user[POLICY_USER_MAX + 1];
	int policy_pending;
	struct policy_values eff; /* effective values and where each came from */
	int64_t boot_off; /* unix ns - boottime ns, refreshed before each process dispatch */
	int in_proc;	  /* inside proc_drain() */
	struct input_bpf *in_bpf;
	struct input_evdev *in_evdev;
	struct proc_bpf *pr_bpf;
	struct proc_netlink *pr_nl;
	const char *input_name;
	const char *proc_name;
	char input_detail[160];
	char proc_detail[160];
	struct control *ctl;
	struct apps *apps; /* focus seconds, top CPU: app_usage records */
	int epfd, sigfd, tfd_interval, tfd_sync;
	int sync_armed;

	struct record_ctx rctx;
	char host_id[33];
	struct seat *seat;		/* the active user (rctx.user); NULL: unknown */
	struct seat_login_cache logins; /* uid -> login for process records */
	struct sysinfo_mon *si;		/* sysinfo records */

	/* the running interval */
	uint32_t iv_len_s;
	int64_t iv_start_ms;
	uint64_t iv_start_boot_ns;
	struct input_totals iv_prev;

	/* since start */
	int64_t started_ms;
	uint64_t execs, exits, records, record_errors, intervals;
	struct recent_exec recent[RECENT_EXECS];
	unsigned int recent_n, recent_head;
	int quit;
};

static int libbpf_quiet;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level l = level == LIBBPF_WARN ? LOG_LVL_WARN : LOG_LVL_DEBUG;

	if (libbpf_quiet || level == LIBBPF_DEBUG)
		l = LOG_LVL_DEBUG;
	if (l > log_level())
		return 0;
	log_vmsg(l, fmt, ap);
	return 0;
}

static int64_t now_ms(void)
{
	return (int64_t)(clock_ns(CLOCK_REALTIME) / NSEC_PER_MSEC);
}

static int64_t boot_to_unix_ns(void)
{
	return (int64_t)clock_ns(CLOCK_REALTIME) - (int64_t)clock_ns(CLOCK_BOOTTIME);
}

/* ---- records ---- */

static void spool_arm_sync(struct agent *a)
{
	struct itimerspec its = {.it_value = {.tv_sec = 1}};

	if (a->sync_armed)
		return;
	if (timerfd_settime(a->tfd_sync, 0, &its, NULL) == 0)
		a->sync_armed = 1;
}

static void proc_drain(struct agent *a);

/* Append one record (takes ownership of json). */
static void emit(struct agent *a, char *json, int64_t ts_ms)
{
	int err;

	/* process events wait in the ring for up to PROC_WAKE_NS: read them
	 * first, so that the spool stays in time order */
	if (a->pr_bpf && !a->in_proc)
		proc_drain(a);
	if (!json) {
		a->record_errors++;
		log_err("out of memory building a record");
		return;
	}
	pthread_mutex_lock(&a->spool_lock);
	err = spool_append(a->spool, json, strlen(json), ts_ms);
	pthread_mutex_unlock(&a->spool_lock);
	free(json);
	if (err) {
		a->record_errors++;
		log_err("spool append: %s", strerror(-err));
		return;
	}
	a->records++;
	spool_arm_sync(a);
}

/* spool_defer() under the spool lock; a failed write is logged here. */
static void spool_defer_locked(struct agent *a, int on)
{
	struct spool_stats ss;
	int err;

	pthread_mutex_lock(&a->spool_lock);
	err = spool_defer(a->spool, on);
	spool_stats(a->spool, &ss);
	pthread_mutex_unlock(&a->spool_lock);
	if (err)
		log_err("spool append: %s (%" PRIu64 " records lost so far)", strerror(-err),
			ss.failed_records);
}

/* Read the process events that are waiting; the records of one drain go to
 * disk with one write. */
static void proc_drain(struct agent *a)
{
	int err;

	if (!a->pr_bpf && !a->pr_nl)
		return;
	a->in_proc = 1;
	a->boot_off = boot_to_unix_ns();
	spool_defer_locked(a, 1);
	err = a->pr_bpf ? proc_bpf_dispatch(a->pr_bpf) : proc_netlink_dispatch(a->pr_nl);
	if (err)
		log_warn("process events: %s", strerror(-err));
	spool_defer_locked(a, 0);
	a->in_proc = 0;
}

static int read_input(struct agent *a, struct input_state *st)
{
	memset(st, 0, sizeof(*st));
	if (a->in_bpf)
		return input_bpf_read(a->in_bpf, st);
	if (a->in_evdev)
		return input_evdev_read(a->in_evdev, st);
	return -ENODEV;
}

/* Counts of the running interval up to now_boot_ns; st is read by the caller. */
static void interval_counts(struct agent *a, const struct input_state *st, uint64_t end_boot_ns,
			    int include_current_second, struct interval_counts *ic)
{
	uint64_t s0 = a->iv_start_boot_ns / NSEC_PER_SEC;
	uint64_t s1 = end_boot_ns / NSEC_PER_SEC + (include_current_second ? 1 : 0);

	memset(ic, 0, sizeof(*ic));
	aggregate_diff(&a->iv_prev, &st->totals, ic);
	if (st->ring) {
		ic->active_s = aggregate_active_seconds(st->ring[0], s0, s1);
		ic->synthetic_active_s = aggregate_active_seconds(st->ring[1], s0, s1);
	}
	ic->idle = aggregate_idle(st->last_input_ns[0], end_boot_ns, a->conf.idle_threshold_s);
}

/* The agent's self-report; *ss receives the spool counts it was built from. */
static void fill_agent_info(struct agent *a, struct agent_info *ai, const char *event,
			    struct spool_stats *ss_out)
{
	struct spool_stats tmp, *ss = ss_out ? ss_out : &tmp;

	pthread_mutex_lock(&a->spool_lock);
	spool_stats(a->spool, ss);
	pthread_mutex_unlock(&a->spool_lock);
	memset(ai, 0, sizeof(*ai));
	ai->event = event;
	ai->version = ACTLOG_VERSION;
	ai->input_source = a->input_name;
	ai->input_detail = a->input_detail;
	ai->proc_source = a->proc_name;
	ai->proc_detail = a->proc_detail;
	ai->proc_drops = a->pr_bpf  ? proc_bpf_drops(a->pr_bpf)
			 : a->pr_nl ? proc_netlink_drops(a->pr_nl)
				    : 0;
	ai->spool_dropped = ss->dropped_records;
	ai->spool_corrupt = ss->corrupt_records;
	ai->spool_bytes = ss->bytes;
	ai->spool_records = ss->records;
	ai->records_written = a->records;
	if (a->shots) {
		struct shotq_status qs;

		shotq_status(a->shots, &qs);
		ai->shots_dropped = qs.dropped;
		ai->shots_failed = qs.failed;
		ai->shots_queued = qs.queued;
	}
}

static void emit_agent(struct agent *a, const char *event)
{
	struct agent_info ai;
	int64_t ts = now_ms();

	fill_agent_info(a, &ai, event, NULL);
	emit(a, record_agent(&a->rctx, ts, &ai), ts);
}

/* Close the running interval at now and start the next. final: include the
 * current second (shutdown), so input just before SIGTERM is counted. */
static void interval_close(struct agent *a, int final)
{
	struct interval_counts ic;
	struct input_state st;
	uint64_t end_boot = clock_ns(CLOCK_BOOTTIME);
	int64_t end_ms = now_ms();
	int err;

	/* process events wait in the ring for up to PROC_WAKE_NS: an exit
	 * read after the apps sample below would find its process dropped as
	 * gone and its last CPU time lost */
	if (!a->in_proc)
		proc_drain(a);
	if (a->in_bpf || a->in_evdev) {
		err = read_input(a, &st);
		if (err) {
			log_err("reading input counters: %s", strerror(-err));
		} else {
			/* with logging off by policy nothing is recorded, but the
			 * baseline moves on */
			if (a->logging) {
				interval_counts(a, &st, end_boot, final, &ic);
				if (end_ms < a->iv_start_ms) /* the wall clock went back */
					a->iv_start_ms = end_ms;
				emit(a,
				     record_activity(&a->rctx, a->iv_start_ms, end_ms, a->iv_len_s,
						     &ic),
				     end_ms);
			}
			a->iv_prev = st.totals;
		}
	}
	{
		char *au =
		    apps_interval_close(a->apps, &a->rctx, a->iv_start_ms, end_ms, a->iv_len_s);

		if (a->logging && a->apps)
			emit(a, au, end_ms);
		else
			free(au);
	}
	a->intervals++;
	/* seconds are counted in [start, end): the next interval starts at the
	 * second this one did not count */
	a->iv_start_boot_ns = final ? end_boot : end_boot / NSEC_PER_SEC * NSEC_PER_SEC;
	a->iv_start_ms = end_ms;
	a->iv_len_s = a->conf.interval_s;
}

/* Arm the interval timer for the next wall-clock multiple of the interval. */
static int interval_arm(struct agent *a)
{
	int64_t step = (int64_t)a->iv_len_s * 1000, now = now_ms(), next;
	struct itimerspec its = {0};

	next = (now / step + 1) * step;
	its.it_value.tv_sec = next / 1000;
	its.it_value.tv_nsec = (next % 1000) * 1000000;
	if (timerfd_settime(a->tfd_interval, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its,
			    NULL) < 0)
		return -errno;
	return 0;
}

/* ---- active user (user/agent/seat.c) and sysinfo (user/agent/sysinfo_mon.c) ---- */

/* The active user is about to change (seat_user() still names the old one):
 * the running interval ends here, under the old user, so that no interval
 * mixes two people; the next one starts now. */
static void on_user_change(const char *old_user, const char *new_user, void *ctx)
{
	log_notice("active user: %s -> %s: new interval", old_user ? old_user : "(none)",
		   new_user ? new_user : "(none)");
	interval_close(ctx, 0);
}

/* Who the records name: the active user; nobody while logging is off by
 * policy ("session":"withheld"), since agent and sysinfo records go on and
 * would otherwise log who was at the machine. */
static void record_user(struct agent *a)
{
	seat_record_ctx(a->seat, &a->rctx);
	if (!a->logging) {
		a->rctx.user = NULL;
		a->rctx.session = "withheld";
	}
}

/* Before anything is recorded: who is at the machine. Without a tracker the
 * records say "session":"unknown". */
static void open_seat(struct agent *a)
{
	struct seat_opts so = {.on_change = on_user_change, .ctx = a};
	int err = seat_open(&a->seat, &so);

	if (err)
		log_warn("active user tracking unavailable: %s", strerror(-err));
	else
		log_info("active user: %s (%s: %s)",
			 seat_user(a->seat) ? seat_user(a->seat) : "none",
			 seat_source_name(a->seat), seat_detail(a->seat));
	record_user(a);
}

/* For the session socket: session helpers of this uid are accepted. */
static int64_t seat_active_uid(void *ctx, const char **by)
{
	*by = seat_source_name(ctx);
	return seat_uid(ctx);
}

static void emit_cb(char *json, int64_t ts_ms, void *ctx)
{
	emit(ctx, json, ts_ms);
}

/* Open sysinfo and put it and the seat tracker into the event loop. */
static int open_sysinfo(struct agent *a)
{
	struct sysinfo_mon_opts o = {
	    .interval_s = a->conf.sysinfo_interval_s, .rctx = &a->rctx, .emit = emit_cb, .ctx = a};
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TAG_SYSINFO};
	int err = sysinfo_mon_open(&a->si, &o);

	if (!err && epoll_ctl(a->epfd, EPOLL_CTL_ADD, sysinfo_mon_fd(a->si), &ev) < 0)
		err = -errno;
	ev.data.u32 = TAG_SEAT;
	if (!err && a->seat && epoll_ctl(a->epfd, EPOLL_CTL_ADD, seat_fd(a->seat), &ev) < 0)
		err = -errno;
	if (err)
		log_err("sysinfo and active user set-up: %s", strerror(-err));
	return err;
}

static void on_proc(const struct proc_record *r, void *ctx)
{
	struct agent *a = ctx;
	int64_t off = a->boot_off;
	int64_t ts = ((int64_t)r->ts_ns + off) / (int64_t)NSEC_PER_MSEC;
	struct recent_exec *re;

	if (r->kind == PROC_EXEC) {
		a->execs++;
		re = &a->recent[a->recent_head];
		a->recent_head = (a->recent_head + 1) % RECENT_EXECS;
		if (a->recent_n < RECENT_EXECS)
			a->recent_n++;
		re->ts_ms = ts;
		re->pid = r->pid;
		re->uid = r->uid;
		memcpy(re->comm, r->comm, sizeof(re->comm));
		memcpy(re->exe, r->exe, sizeof(re->exe));
		re->comm[sizeof(re->comm) - 1] = '\0';
		re->exe[sizeof(re->exe) - 1] = '\0';
	} else {
		a->exits++;
	}
	apps_on_proc(a->apps, r);
	if (a->logging) {
		/* a process is its own user's: the login of its uid; the active
		 * user when the uid is unknown or has no name */
		struct record_ctx pc = a->rctx;
		const char *login =
		    r->uid == PROC_UID_UNKNOWN ? NULL : seat_login_of(&a->logins, r->uid, now_ms());

		if (login)
			pc.user = login;
		emit(a, record_process(&pc, r, off), ts);
	}
}

/* ---- policy: the server's over the local settings (policy.h) ---- */

/* Merge the local settings and the server's policy into a->eff; log where
 * each value comes from (debug). The config object of the server's policy,
 * or NULL when there is none. */
static const cJSON *policy_effective(struct agent *a)
{
	const cJSON *cfg = policy_config(a->policy);
	const struct policy_values *v = &a->eff;

	policy_merge(&a->local, cfg, &a->eff);
	log_debug("policy: %s = %s (%s)", policy_key_name(POL_LOGGING),
		  v->logging ? "true" : "false", policy_src_name(v->src[POL_LOGGING]));
	log_debug("policy: %s = %u (%s)", policy_key_name(POL_INTERVAL), v->interval_s,
		  policy_src_name(v->src[POL_INTERVAL]));
	log_debug("policy: %s = %u (%s)", policy_key_name(POL_IDLE), v->idle_threshold_s,
		  policy_src_name(v->src[POL_IDLE]));
	log_debug("policy: %s = %u (%s)", policy_key_name(POL_SYSINFO), v->sysinfo_interval_s,
		  policy_src_name(v->src[POL_SYSINFO]));
	return cfg;
}

/*
 * Apply the effective policy (after a new one from the server, and after a
 * SIGHUP): the interval from the next boundary, the idle threshold and the
 * sysinfo interval at once, logging (a change ends the running interval),
 * and the keys only the server sets (screenshots.*, apps.titles). Unknown
 * keys are ignored (newer servers); bad values fall back to the local
 * settings.
 */
static void policy_apply(struct agent *a)
{
	const cJSON *cfg = policy_effective(a), *se;
	const struct policy_values *v = &a->eff;
	int logging = v->logging;
	cJSON *eff;

	if (v->interval_s != a->conf.interval_s) {
		a->conf.interval_s = v->interval_s;
		log_notice("policy: interval %us from the next boundary (%s)", v->interval_s,
			   policy_src_name(v->src[POL_INTERVAL]));
	}
	a->conf.idle_threshold_s = v->idle_threshold_s;
	a->conf.sysinfo_interval_s = v->sysinfo_interval_s;
	if (a->si && v->sysinfo_interval_s != sysinfo_mon_interval(a->si) &&
	    sysinfo_mon_set_interval(a->si, v->sysinfo_interval_s) == 0)
		log_notice("policy: sysinfo every %us (%s)", v->sysinfo_interval_s,
			   policy_src_name(v->src[POL_SYSINFO]));
	if (logging != a->logging) {
		/* events that came before the change follow the old setting */
		proc_drain(a);
		/* the running interval ends here either way */
		if (!logging)
			interval_close(a, 1);
		a->logging = logging;
		if (logging) {
			struct input_state st;

			if (read_input(a, &st) == 0)
				a->iv_prev = st.totals;
			a->iv_start_ms = now_ms();
			a->iv_start_boot_ns = clock_ns(CLOCK_BOOTTIME);
		}
		log_notice("policy: logging %s (%s)", logging ? "on" : "off",
			   policy_src_name(v->src[POL_LOGGING]));
		record_user(a);
	}
	if (!cfg && !a->policy_pending)
		return;
	/* the helpers see the effective logging.enabled (screenshots are off
	 * while it is false), and screenshots off while a new session user's
	 * policy has yet to arrive: never the previous user's */
	eff = cfg ? cJSON_Duplicate(cfg, 1) : cJSON_CreateObject();
	if (eff) {
		cJSON_DeleteItemFromObjectCaseSensitive(eff, "logging.enabled");
		cJSON_AddBoolToObject(eff, "logging.enabled", logging);
		/* a server from before formats names none, and its presign
		 * takes image/png only */
		if (cfg && !cJSON_GetObjectItemCaseSensitive(eff, "screenshots.format"))
			cJSON_AddStringToObject(eff, "screenshots.format", "png");
		if (a->policy_pending) {
			cJSON_DeleteItemFromObjectCaseSensitive(eff, "screenshots.enabled");
			cJSON_AddFalseToObject(eff, "screenshots.enabled");
			/* no saved policy of the new user: titles as without any
			 * policy (off), not as the previous user's left them */
			if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(eff, "apps.titles")))
				cJSON_AddFalseToObject(eff, "apps.titles");
		}
		apps_policy(a->apps, eff);
		cJSON_Delete(eff);
	}
	/* the queue holds shots taken under their own user's policy: it
	 * follows a policy that has arrived, not a pending switch */
	se = cJSON_GetObjectItemCaseSensitive(cfg, "screenshots.enabled");
	if (cJSON_IsBool(se) && !a->policy_pending)
		shotq_policy(a->shots, cJSON_IsTrue(se) && logging);
}

/* A new policy from the shipper (already saved to policy.json): keep it
 * and apply it, when it is the current session user's. */
static void policy_take(struct agent *a)
{
	struct ship_policy p;
	cJSON *doc;

	if (!a->ship || !shipper_take_policy(a->ship, &p))
		return;
	if (strcmp(p.user, a->policy_user)) {
		free(p.text); /* asked for before the user changed */
		return;
	}
	doc = cJSON_Parse(p.text);
	free(p.text);
	if (!policy_config(doc)) {
		cJSON_Delete(doc);
		return;
	}
	cJSON_Delete(a->policy);
	a->policy = doc;
	snprintf(a->policy_etag, sizeof(a->policy_etag), "%s", p.etag);
	a->policy_saved_ms = p.saved_ms;
	a->policy_from_file = 0;
	if (a->policy_pending)
		log_notice("policy: the server's policy for %s arrived",
			   a->policy_user[0] ? a->policy_user : "no session user");
	a->policy_pending = 0;
	policy_apply(a);
}

/* The session user's last policy from the server (STATE_DIR/policy.json
 * keeps one per user; a->policy_user names whose), into a->policy (which
 * is replaced; NULL when there is none). A missing, damaged or oversized
 * file, or one without that user, is logged and ignored: the local
 * settings apply until the server answers. */
static void policy_load(struct agent *a)
{
	char path[CONF_PATH_MAX + 16], why[160], ts[RFC3339_LEN], *buf = NULL;
	const char *user = a->policy_user[0] ? a->policy_user : NULL;
	struct policy_saved ps;
	size_t len = 0;
	int r;

	cJSON_Delete(a->policy);
	a->policy = NULL;
	a->policy_etag[0] = '\0';
	a->policy_saved_ms = 0;
	a->policy_from_file = 0;
	snprintf(path, sizeof(path), "%.*s/%s", CONF_PATH_MAX - 1, a->conf.state_dir, POLICY_FILE);
	r = read_file(path, POLICY_FILE_MAX, &buf, &len);
	if (r == -ENOENT) {
		log_info("no saved policy (%s): the local settings apply until the server answers",
			 path);
		return;
	}
	if (r) {
		log_warn("ignoring the saved policy %s: %s; the local settings apply until the "
			 "server answers",
			 path, r == -EFBIG ? "larger than the cap" : strerror(-r));
		return;
	}
	r = policy_file_parse(buf, len, user, &ps, why, sizeof(why));
	free(buf);
	if (r == -ENOENT) {
		log_info("%s in %s: the local settings apply until the server answers", why, path);
		return;
	}
	if (r) {
		log_warn("ignoring the saved policy %s: %s; the local settings apply until the "
			 "server answers",
			 path, why);
		return;
	}
	a->policy = ps.doc;
	memcpy(a->policy_etag, ps.etag, sizeof(a->policy_etag));
	a->policy_saved_ms = ps.saved_ms;
	a->policy_from_file = 1;
	log_notice("policy: the server's policy for %s saved %s (ETag %s) applies until the "
		   "server answers",
		   user ? user : "no session user", rfc3339_ms(ps.saved_ms, ts),
		   ps.etag[0] ? ps.etag : "none");
}

/* The session user whose policy applies: the active user's login, "" for
 * nobody (or no tracker). */
static const char *session_login(const struct agent *a)
{
	const char *u = a->seat ? seat_user(a->seat) : NULL;

	return u && strlen(u) <= POLICY_USER_MAX ? u : "";
}

/* The active user changed: their policy, asked of the server at once. Until
 * it arrives, their saved policy (if any) applies with screenshots off. */
static void policy_switch(struct agent *a)
{
	const char *u = session_login(a);

	if (!a->ship || !strcmp(u, a->policy_user))
		return;
	log_notice("policy: session user %s -> %s: asking for their policy; screenshots off "
		   "until it arrives",
		   a->policy_user[0] ? a->policy_user : "(none)", u[0] ? u : "(none)");
	snprintf(a->policy_user, sizeof(a->policy_user), "%s", u);
	policy_load(a);
	a->policy_pending = 1;
	shipper_set_user(a->ship, u);
	policy_apply(a);
}

/* ---- screenshots ---- */

/* A checked shot from a helper (user/agent/session_sock.c): into the upload queue. */
static int on_shot(void *ctx, const struct sessd_shot *sh, char *why, size_t whylen)
{
	struct agent *a = ctx;

	if (!a->shots) {
		snprintf(why, whylen, "this actlogd keeps no screenshots (not enrolled)");
		return -ENOSYS;
	}
	/* taken under the session user's policy: filed under their login */
	return shotq_add(a->shots, sh, a->policy_user[0] ? a->policy_user : NULL, why, whylen);
}

/* The queue under STATE_DIR/shots and its uploader (enrolled only). */
static int open_shots(struct agent *a)
{
	struct shotq_opts o = {
	    .state_dir = a->conf.state_dir,
	    .max_files = a->conf.shot_queue_max,
	    .max_bytes = (uint64_t)a->conf.shot_queue_max_mb << 20,
	    .backoff_max_ms = a->conf.backoff_max_s * 1000,
	    .cred = &a->cred,
	};
	int err = shotq_open(&a->shots, &o);

	if (err)
		log_err("screenshot queue %s/%s: %s", a->conf.state_dir, SHOTQ_DIR, strerror(-err));
	return err;
}

/* ---- control socket: status ---- */

static cJSON *counts_json(const struct input_counts *k)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "keys", (double)k->keys);
	cJSON_AddNumberToObject(o, "clicks", (double)k->clicks);
	cJSON_AddNumberToObject(o, "moves", (double)k->moves);
	cJSON_AddNumberToObject(o, "distance", (double)k->distance);
	cJSON_AddNumberToObject(o, "scrolls", (double)k->scrolls);
	return o;
}

/* status "policy": where the policy comes from and each value's source. */
static void policy_status(struct agent *a, cJSON *o)
{
	cJSON *x = cJSON_AddObjectToObject(o, "policy"), *k;
	char ts[RFC3339_LEN];
	int i;

	cJSON_AddStringToObject(x, "source", a->policy ? "server" : "local");
	if (a->policy_user[0])
		cJSON_AddStringToObject(x, "user", a->policy_user);
	else
		cJSON_AddNullToObject(x, "user");
	cJSON_AddBoolToObject(x, "pending", a->policy_pending);
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(a->policy, "policy_for")))
		cJSON_AddItemToObject(
		    x, "for",
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(a->policy, "policy_for"), 1));
	if (a->policy) {
		cJSON_AddStringToObject(x, "etag", a->policy_etag);
		if (a->policy_saved_ms)
			cJSON_AddStringToObject(x, "saved", rfc3339_ms(a->policy_saved_ms, ts));
		else
			cJSON_AddNullToObject(x, "saved");
		cJSON_AddBoolToObject(x, "from_file", a->policy_from_file);
	}
	if (a->ship) {
		struct ship_status sh;

		shipper_status(a->ship, &sh);
		cJSON_AddNumberToObject(x, "last_http", sh.policy_http);
	}
	k = cJSON_AddObjectToObject(x, "keys");
	for (i = 0; i < POL_NKEYS; i++)
		cJSON_AddStringToObject(k, policy_key_name((enum policy_key)i),
					policy_src_name(a->eff.src[i]));
}

static char *status_json(struct agent *a)
{
	char ts[RFC3339_LEN], buf[PROC_EXE_LEN * 2];
	uint64_t now_boot = clock_ns(CLOCK_BOOTTIME);
	int64_t now = now_ms();
	struct interval_counts ic;
	struct input_state st;
	struct agent_info ai;
	struct spool_stats ss;
	cJSON *o, *x, *y, *arr;
	unsigned int i;
	char *out;
	int have_input = 0;

	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "version", ACTLOG_VERSION);
	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON_AddStringToObject(o, "started", rfc3339_ms(a->started_ms, ts));
	cJSON_AddNumberToObject(o, "uptime_s", (double)(now - a->started_ms) / 1000.0);
	cJSON_AddStringToObject(o, "host_id", a->host_id);
	cJSON_AddStringToObject(o, "state_dir", a->conf.state_dir);
	cJSON_AddBoolToObject(o, "upload", a->conf.upload);

	x = cJSON_AddObjectToObject(o, "sources");
	cJSON_AddStringToObject(x, "input", a->input_name);
	cJSON_AddStringToObject(x, "input_detail", a->input_detail);
	if (a->in_evdev)
		cJSON_AddNumberToObject(x, "input_devices", input_evdev_devices(a->in_evdev));
	cJSON_AddStringToObject(x, "proc", a->proc_name);
	cJSON_AddStringToObject(x, "proc_detail", a->proc_detail);
	seat_status(a->seat, o);
	sysinfo_mon_status(a->si, o);

	memset(&ic, 0, sizeof(ic));
	memset(&st, 0, sizeof(st));
	if (read_input(a, &st) == 0) {
		have_input = 1;
		interval_counts(a, &st, now_boot, 1, &ic);
	}
	x = cJSON_AddObjectToObject(o, "interval");
	cJSON_AddNumberToObject(x, "seconds", a->iv_len_s);
	cJSON_AddStringToObject(x, "start", rfc3339_ms(a->iv_start_ms, ts));
	cJSON_AddNumberToObject(x, "elapsed_s", (double)(now - a->iv_start_ms) / 1000.0);
	y = counts_json(&ic.all);
	cJSON_AddNumberToObject(y, "active_s", ic.active_s);
	cJSON_AddBoolToObject(y, "idle", ic.idle);
	cJSON_AddItemToObject(x, "counts", y);
	y = counts_json(&ic.synthetic);
	cJSON_AddNumberToObject(y, "active_s", ic.synthetic_active_s);
	cJSON_AddItemToObject(x, "synthetic", y);

	x = cJSON_AddObjectToObject(o, "totals");
	cJSON_AddItemToObject(x, "physical", counts_json(&st.totals.by[INPUT_PHYSICAL]));
	cJSON_AddItemToObject(x, "synthetic", counts_json(&st.totals.by[INPUT_SYNTHETIC]));
	cJSON_AddNumberToObject(x, "execs", (double)a->execs);
	cJSON_AddNumberToObject(x, "exits", (double)a->exits);
	cJSON_AddNumberToObject(x, "records", (double)a->records);
	cJSON_AddNumberToObject(x, "intervals", (double)a->intervals);
	if (have_input && st.last_input_ns[0])
		cJSON_AddNumberToObject(o, "last_input_age_s",
					(double)(now_boot - st.last_input_ns[0]) / 1e9);
	else
		cJSON_AddNullToObject(o, "last_input_age_s");

	fill_agent_info(a, &ai, "status", &ss);
	x = cJSON_AddObjectToObject(o, "drops");
	cJSON_AddNumberToObject(x, "proc_events", (double)ai.proc_drops);
	cJSON_AddNumberToObject(x, "spool_records", (double)ai.spool_dropped);
	cJSON_AddNumberToObject(x, "spool_corrupt", (double)ai.spool_corrupt);
	cJSON_AddNumberToObject(x, "record_errors", (double)a->record_errors);

	x = cJSON_AddObjectToObject(o, "spool");
	cJSON_AddNumberToObject(x, "bytes", (double)ss.bytes);
	cJSON_AddNumberToObject(x, "max_bytes", (double)a->conf.spool_max_bytes);
	cJSON_AddNumberToObject(x, "records", (double)ss.records);
	cJSON_AddNumberToObject(x, "segments", (double)ss.segments);
	cJSON_AddNumberToObject(x, "pending", (double)ss.pending_records);
	if (ss.oldest_ts_ms) {
		cJSON_AddStringToObject(x, "oldest", rfc3339_ms((int64_t)ss.oldest_ts_ms, ts));
		cJSON_AddNumberToObject(x, "age_s",
					(double)(now - (int64_t)ss.oldest_ts_ms) / 1000.0);
	} else {
		cJSON_AddNullToObject(x, "oldest");
		cJSON_AddNullToObject(x, "age_s");
	}

	cJSON_AddBoolToObject(o, "logging", a->logging);
	policy_status(a, o);
	x = cJSON_AddObjectToObject(o, "shipping");
	cJSON_AddBoolToObject(x, "enrolled", a->enrolled);
	cJSON_AddBoolToObject(x, "active", a->ship != NULL);
	if (a->enrolled) {
		cJSON_AddStringToObject(x, "server", a->cred.server);
		cJSON_AddStringToObject(x, "device_id", a->cred.device_id);
	}
	if (a->ship) {
		struct ship_status sh;

		shipper_status(a->ship, &sh);
		cJSON_AddNumberToObject(x, "batches", (double)sh.batches);
		cJSON_AddNumberToObject(x, "records", (double)sh.records);
		cJSON_AddNumberToObject(x, "rejected", (double)sh.rejected);
		cJSON_AddNumberToObject(x, "failures", (double)sh.failures);
		cJSON_AddNumberToObject(x, "backoff_ms", sh.backoff_ms);
		cJSON_AddNumberToObject(x, "last_http", sh.last_http);
		if (sh.last_ok_ms)
			cJSON_AddStringToObject(x, "last_ok", rfc3339_ms(sh.last_ok_ms, ts));
		else
			cJSON_AddNullToObject(x, "last_ok");
		cJSON_AddStringToObject(x, "last_error", sh.last_error);
	}

	apps_status(a->apps, o);
	shotq_status_json(a->shots, o);
	arr = cJSON_AddArrayToObject(o, "recent_execs");
	for (i = 0; i < a->recent_n; i++) {
		const struct recent_exec *re =
		    &a->recent[(a->recent_head + RECENT_EXECS - 1 - i) % RECENT_EXECS];

		y = cJSON_CreateObject();
		cJSON_AddStringToObject(y, "ts", rfc3339_ms(re->ts_ms, ts));
		cJSON_AddNumberToObject(y, "pid", re->pid);
		cJSON_AddNumberToObject(y, "uid", re->uid);
		utf8_clean(buf, sizeof(buf), re->comm, sizeof(re->comm));
		cJSON_AddStringToObject(y, "comm", buf);
		utf8_clean(buf, sizeof(buf), re->exe, sizeof(re->exe));
		cJSON_AddStringToObject(y, "exe", buf);
		cJSON_AddItemToArray(arr, y);
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static char *on_control(const char *req, const struct ucred *peer, void *ctx)
{
	struct agent *a = ctx;

	log_debug("control request '%.32s' from pid %d uid %u", req, peer->pid, peer->uid);
	if (!strcmp(req, "status"))
		return status_json(a);
	if (!strcmp(req, "ping"))
		return strdup("{\"ok\":true}");
	return strdup("{\"error\":\"unknown command; try status or ping\"}");
}

/* ---- settings ---- */

static int load_settings(struct agent *a, struct agent_conf *out)
{
	char err[256], *buf = NULL;
	size_t len = 0;
	int i, r;

	conf_defaults(out);
	r = read_file(a->conf_path, CONF_MAX_FILE, &buf, &len);
	if (r == 0) {
		r = conf_parse(out, buf, len, err, sizeof(err));
		free(buf);
		if (r) {
			log_err("%s: %s", a->conf_path, err);
			return r;
		}
	} else if (r != -ENOENT || a->conf_path_given) {
		log_err("reading %s: %s", a->conf_path, strerror(-r));
		return r;
	}
	for (i = 0; i < a->n_overrides; i++) {
		r = conf_set(out, a->overrides[i].key, a->overrides[i].value, err, sizeof(err));
		if (r) {
			log_err("%s", err);
			return r;
		}
	}
	return 0;
}

static void reload(struct agent *a)
{
	struct agent_conf c;

	if (load_settings(a, &c)) {
		log_warn("reload failed; keeping the current settings");
		return;
	}
	if (strcmp(c.state_dir, a->conf.state_dir) || strcmp(c.socket, a->conf.socket) ||
	    c.input_source != a->conf.input_source || c.proc_source != a->conf.proc_source ||
	    c.spool_max_bytes != a->conf.spool_max_bytes)
		log_warn("state_dir, socket, sources and spool_max_bytes change only on restart");
	/* the local settings change; what the server's policy sets stays */
	a->local = c;
	a->conf.log_level = c.log_level;
	log_init("actlogd", (enum log_level)c.log_level);
	policy_apply(a);
	log_notice("settings reloaded: interval %us (%s; from the next boundary), idle threshold "
		   "%us (%s), logging %s (%s)",
		   a->eff.interval_s, policy_src_name(a->eff.src[POL_INTERVAL]),
		   a->eff.idle_threshold_s, policy_src_name(a->eff.src[POL_IDLE]),
		   a->eff.logging ? "on" : "off", policy_src_name(a->eff.src[POL_LOGGING]));
	apps_reload(a->apps);
}

/* ---- sources ---- */

static int open_input(struct agent *a)
{
	enum src_choice want = a->conf.input_source;
	int err = 0;

	if (want == SRC_NONE) {
		a->input_name = "none";
		snprintf(a->input_detail, sizeof(a->input_detail), "disabled by settings");
		return 0;
	}
	if (want == SRC_AUTO || want == SRC_BPF) {
		libbpf_quiet = want == SRC_AUTO;
		err = input_bpf_open(&a->in_bpf);
		libbpf_quiet = 0;
		if (!err) {
			a->input_name = "bpf";
			snprintf(a->input_detail, sizeof(a->input_detail), "fentry/input_event");
			return 0;
		}
		if (want == SRC_BPF) {
			log_err("input source bpf: fentry on input_event failed: %s",
				strerror(-err));
			return err;
		}
		log_notice("fentry on input_event unavailable (%s): using evdev", strerror(-err));
	}
	{
		int err2 = input_evdev_open(&a->in_evdev, NULL);

		if (err2) {
			log_err("input source evdev: %s", strerror(-err2));
			return err2;
		}
	}
	a->input_name = "evdev";
	if (want == SRC_EVDEV)
		snprintf(a->input_detail, sizeof(a->input_detail), "forced by settings");
	else
		snprintf(a->input_detail, sizeof(a->input_detail), "fentry refused: %s",
			 strerror(-err));
	return 0;
}

static int open_proc(struct agent *a)
{
	enum src_choice want = a->conf.proc_source;
	const char *variant = "";
	int err = 0;

	if (want == SRC_NONE) {
		a->proc_name = "none";
		snprintf(a->proc_detail, sizeof(a->proc_detail), "disabled by settings");
		return 0;
	}
	if (want == SRC_AUTO || want == SRC_BPF) {
		libbpf_quiet = want == SRC_AUTO;
		err = proc_bpf_open(&a->pr_bpf, on_proc, a, &variant);
		libbpf_quiet = 0;
		if (!err) {
			a->proc_name = "bpf";
			snprintf(a->proc_detail, sizeof(a->proc_detail),
				 "%s/sched_process_exec,exit", variant);
			return 0;
		}
		if (want == SRC_BPF) {
			log_err("process source bpf: %s", strerror(-err));
			return err;
		}
		log_notice("BPF process tracing unavailable (%s): using the proc connector",
			   strerror(-err));
	}
	{
		int err2 = proc_netlink_open(&a->pr_nl, on_proc, a);

		if (err2) {
			log_err("process source netlink: %s", strerror(-err2));
			return err2;
		}
	}
	a->proc_name = "netlink";
	if (want == SRC_NETLINK)
		snprintf(a->proc_detail, sizeof(a->proc_detail), "forced by settings");
	else
		snprintf(a->proc_detail, sizeof(a->proc_detail), "bpf refused: %s", strerror(-err));
	return 0;
}

/* host_id: the app-specific machine id, or a random id kept in the state dir
 * when the machine has no /etc/machine-id. */
static int load_host_id(struct agent *a)
{
	char path[CONF_PATH_MAX + 16], *buf = NULL;
	sd_id128_t id;
	int r, fd;

	if (sd_id128_get_machine_app_specific(ACTLOG_APP_ID, &id) == 0) {
		sd_id128_to_string(id, a->host_id);
		return 0;
	}
	snprintf(path, sizeof(path), "%.*s/host_id", CONF_PATH_MAX - 1, a->conf.state_dir);
	if (read_file(path, 64, &buf, NULL) == 0 && sd_id128_from_string(buf, &id) == 0) {
		free(buf);
		sd_id128_to_string(id, a->host_id);
		return 0;
	}
	free(buf);
	r = sd_id128_randomize(&id);
	if (r < 0)
		return r;
	sd_id128_to_string(id, a->host_id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, a->host_id, 32);
	close(fd);
	return r;
}

static gid_t socket_gid(const char *name)
{
	struct group *g;

	if (!name[0])
		return (gid_t)-1;
	g = getgrnam(name);
	return g ? g->gr_gid : (gid_t)-2;
}

/* ---- main loop ---- */

static int epoll_add(int epfd, int fd, enum tag tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			sd_notify(0, "RELOADING=1");
			reload(a);
			sd_notify(0, "READY=1");
		} else {
			log_notice("signal %d: flushing and stopping", si.ssi_signo);
			a->quit = 1;
		}
	}
}

static int run(struct agent *a)
{
	struct epoll_event evs[16];
	uint64_t ticks;
	int n, i, err;

	while (!a->quit) {
		n = epoll_wait(a->epfd, evs, ARRAY_SIZE(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case TAG_SIGNAL:
				on_signal(a);
				break;
			case TAG_INTERVAL:
				if (read(a->tfd_interval, &ticks, sizeof(ticks)) < 0 &&
				    errno == ECANCELED) {
					/* the wall clock was set: re-align, keep the interval */
					interval_arm(a);
					break;
				}
				interval_close(a, 0);
				emit_agent(a, "interval");
				interval_arm(a);
				sysinfo_mon_check(a->si);
				break;
			case TAG_SYNC:
				(void)!read(a->tfd_sync, &ticks, sizeof(ticks));
				a->sync_armed = 0;
				pthread_mutex_lock(&a->spool_lock);
				err = spool_sync(a->spool);
				pthread_mutex_unlock(&a->spool_lock);
				if (err)
					log_err("spool sync: %s", strerror(-err));
				shipper_kick(a->ship);
				break;
			case TAG_POLICY:
				(void)!read(a->policyfd, &ticks, sizeof(ticks));
				policy_take(a);
				break;
			case TAG_SEAT:
				err = seat_dispatch(a->seat);
				if (err < 0)
					log_warn("active user: %s", strerror(-err));
				record_user(a);
				policy_switch(a);
				apps_user_changed(a->apps);
				break;
			case TAG_SYSINFO:
				sysinfo_mon_dispatch(a->si);
				break;
			case TAG_CONTROL:
				control_dispatch(a->ctl);
				break;
			case TAG_PROC:
				proc_drain(a);
				break;
			case TAG_INPUT:
				err = input_evdev_dispatch(a->in_evdev);
				if (err)
					log_warn("evdev input: %s", strerror(-err));
				break;
			case TAG_SESSION:
				err = apps_dispatch(a->apps);
				if (err)
					log_warn("session socket: %s", strerror(-err));
				break;
			}
		}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: actlogd [OPTIONS]\n"
	    "       actlogd enroll --server URL --secret S [--state-dir DIR] [--ca-file PEM]\n"
	    "The actlog agent: counts keyboard and pointer input (never which key),\n"
	    "records process exec and exit, and spools every record on disk.\n\n"
	    "  -f, --foreground          stay in the foreground (the default; systemd runs it so)\n"
	    "  -c, --config FILE         settings file (default " CONF_DEFAULT_PATH ")\n"
	    "  -d, --state-dir DIR       state and spool directory (default /var/lib/actlog)\n"
	    "  -i, --interval SEC        activity interval, 1..%u (default 60)\n"
	    "  -s, --socket PATH         control socket (default /run/actlog/actlogd.sock)\n"
	    "      --socket-group NAME   group allowed to use the control socket\n"
	    "      --idle-threshold SEC  no input this long means idle (default 300)\n"
	    "      --spool-max-bytes N   spool size cap, K/M/G suffixes (default 256M)\n"
	    "      --input-source SRC    auto|bpf|evdev|none (default auto)\n"
	    "      --proc-source SRC     auto|bpf|netlink|none (default auto)\n"
	    "      --no-upload           keep every record in the spool\n"
	    "      --session-socket PATH socket of the session helpers\n"
	    "                            (default /run/actlog/session.sock)\n"
	    "      --session-uid UID     accept session helpers of this uid (for containers\n"
	    "                            and tests without logind; default: the user of\n"
	    "                            the active seat0 session, from logind)\n"
	    "      --desktop-dirs DIRS   ':'-separated .desktop directories for app names\n"
	    "  -v, --verbose             debug logging (libbpf's messages too)\n"
	    "  -V, --version             print the version\n"
	    "  -h, --help                this help\n\n"
	    "Signals: SIGTERM/SIGINT close the running interval, sync and exit 0;\n"
	    "SIGHUP reloads the settings file; what the server's policy sets keeps\n"
	    "the policy's value (STATE_DIR/policy.json keeps the last one received).\n",
	    ACTLOG_MAX_INTERVAL_S);
}

static int parse_args(struct agent *a, int argc, char **argv)
{
	enum { O_GROUP = 256, O_IDLE, O_SPOOLMAX, O_INSRC, O_PROCSRC, O_NOUPLOAD };
	enum { O_SESSSOCK = 320, O_SESSUID, O_DESKTOP };
	static const struct option opts[] = {
	    {"foreground", no_argument, NULL, 'f'},
	    {"config", required_argument, NULL, 'c'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"interval", required_argument, NULL, 'i'},
	    {"socket", required_argument, NULL, 's'},
	    {"socket-group", required_argument, NULL, O_GROUP},
	    {"idle-threshold", required_argument, NULL, O_IDLE},
	    {"spool-max-bytes", required_argument, NULL, O_SPOOLMAX},
	    {"input-source", required_argument, NULL, O_INSRC},
	    {"proc-source", required_argument, NULL, O_PROCSRC},
	    {"no-upload", no_argument, NULL, O_NOUPLOAD},
	    {"session-socket", required_argument, NULL, O_SESSSOCK},
	    {"session-uid", required_argument, NULL, O_SESSUID},
	    {"desktop-dirs", required_argument, NULL, O_DESKTOP},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *key;
	int c;

	a->conf_path = CONF_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "fc:d:i:s:vVh", opts, NULL)) != -1) {
		key = NULL;
		switch (c) {
		case 'f':
			break;
		case 'c':
			a->conf_path = optarg;
			a->conf_path_given = 1;
			break;
		case 'd':
			key = "state_dir";
			break;
		case 'i':
			key = "interval_s";
			break;
		case 's':
			key = "socket";
			break;
		case O_GROUP:
			key = "socket_group";
			break;
		case O_IDLE:
			key = "idle_threshold_s";
			break;
		case O_SPOOLMAX:
			key = "spool_max_bytes";
			break;
		case O_INSRC:
			key = "input_source";
			break;
		case O_PROCSRC:
			key = "proc_source";
			break;
		case O_NOUPLOAD:
			key = "upload";
			optarg = "no";
			break;
		case O_SESSSOCK:
			key = "session_socket";
			break;
		case O_SESSUID:
			key = "session_uid";
			break;
		case O_DESKTOP:
			key = "desktop_dirs";
			break;
		case 'v':
			key = "log_level";
			optarg = "debug";
			break;
		case 'V':
			printf("actlogd %s\n", ACTLOG_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (key) {
			if (a->n_overrides >= (int)ARRAY_SIZE(a->overrides)) {
				log_err("too many options");
				return -E2BIG;
			}
			a->overrides[a->n_overrides].key = key;
			a->overrides[a->n_overrides].value = optarg;
			a->n_overrides++;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* `actlogd enroll --server URL --secret S [--state-dir DIR] [--ca-file F]
 * [--insecure-http]` */
static int cmd_enroll(struct agent *a, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"secret", required_argument, NULL, 'k'},
	    {"secret-file", required_argument, NULL, 'K'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"ca-file", required_argument, NULL, 'c'},
	    {"insecure-http", no_argument, NULL, 'I'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *server = NULL, *ca = NULL;
	char secret[256] = "", msg[256], err_[256], *buf = NULL;
	int c, r, insecure_http = 0;

	conf_defaults(&a->conf);
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:k:K:d:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			server = optarg;
			break;
		case 'k':
			snprintf(secret, sizeof(secret), "%s", optarg);
			break;
		case 'K':
			r = read_file(optarg, sizeof(secret) - 1, &buf, NULL);
			if (r) {
				log_err("reading %s: %s", optarg, strerror(-r));
				return 2;
			}
			snprintf(secret, sizeof(secret), "%s", buf);
			secret[strcspn(secret, "\r\n")] = '\0';
			free(buf);
			break;
		case 'd':
			if (conf_set(&a->conf, "state_dir", optarg, err_, sizeof(err_))) {
				log_err("%s", err_);
				return 2;
			}
			break;
		case 'c':
			ca = optarg;
			break;
		case 'I':
			insecure_http = 1;
			break;
		case 'h':
			printf(
			    "Usage: actlogd enroll --server URL (--secret S | --secret-file F)\n"
			    "                      [--state-dir DIR] [--ca-file PEM] "
			    "[--insecure-http]\n"
			    "Enroll this machine with actlog-server using a team's enrollment "
			    "secret;\n"
			    "the device token is stored in STATE_DIR/%s (0600). Run again, it "
			    "presents\n"
			    "that token, and the server renews this device's token.\n"
			    "An http:// URL is refused unless its host is loopback (127.0.0.0/8, "
			    "[::1],\n"
			    "localhost) or --insecure-http is given: the secret and the token "
			    "would\n"
			    "cross the network in clear.\n",
			    DEVICE_FILE);
			return 0;
		default:
			return 2;
		}
	}
	if (!server || !secret[0]) {
		log_err("enroll needs --server URL and --secret (see actlogd enroll --help)");
		return 2;
	}
	r = mkdir_p(a->conf.state_dir, 0700);
	if (!r)
		r = load_host_id(a);
	if (r) {
		log_err("state directory %s: %s", a->conf.state_dir, strerror(-r));
		return 1;
	}
	r = ship_enroll(server, secret, a->conf.state_dir, a->host_id, ca, insecure_http, msg,
			sizeof(msg));
	explicit_bzero(secret, sizeof(secret));
	if (r < 0) {
		log_err("enrolling with %s: %s", server, msg);
		return 1;
	}
	if (r == 1)
		printf("enrolled with %s as device %s, pending: an administrator must confirm it "
		       "before the server takes its records (they wait in the spool); restart "
		       "actlogd to start shipping\n",
		       server, msg);
	else
		printf("enrolled with %s as device %s; restart actlogd to start shipping\n", server,
		       msg);
	return 0;
}

int main(int argc, char **argv)
{
	static struct agent ag; /* large: keep it off the stack */
	struct agent *a = &ag;
	struct spool_opts so = {0};
	char spool_dir[CONF_PATH_MAX + 8];
	sigset_t mask;
	gid_t gid;
	int err;

	log_init("actlogd", LOG_LVL_INFO);
	a->epfd = a->sigfd = a->tfd_interval = a->tfd_sync = a->policyfd = -1;
	pthread_mutex_init(&a->spool_lock, NULL);
	if (argc > 1 && !strcmp(argv[1], "enroll")) {
		err = cmd_enroll(a, argc - 1, argv + 1);
		curl_dl_unload();
		return err;
	}
	a->input_name = a->proc_name = "none";
	err = parse_args(a, argc, argv);
	if (err)
		return 2;
	err = load_settings(a, &a->conf);
	if (err)
		return 2;
	log_init("actlogd", (enum log_level)a->conf.log_level);
	libbpf_set_print(libbpf_log);
	a->local = a->conf;

	err = mkdir_p(a->conf.state_dir, 0700);
	if (err) {
		log_err("creating state directory %s: %s", a->conf.state_dir, strerror(-err));
		goto out;
	}
	/* before anything is recorded: an enrolled machine follows the last
	 * policy its server sent for the session user (a machine never
	 * enrolled: its settings) */
	open_seat(a);
	snprintf(a->policy_user, sizeof(a->policy_user), "%s", session_login(a));
	if (device_cred_load(a->conf.state_dir, &a->cred) == 0) {
		policy_load(a);
		a->policy_pending = a->conf.upload && !a->policy;
	}
	policy_effective(a);
	a->conf.interval_s = a->eff.interval_s;
	a->conf.idle_threshold_s = a->eff.idle_threshold_s;
	a->conf.sysinfo_interval_s = a->eff.sysinfo_interval_s;
	a->logging = a->eff.logging;
	if (!a->logging)
		log_notice("logging off (%s): no activity or process records",
			   policy_src_name(a->eff.src[POL_LOGGING]));
	snprintf(spool_dir, sizeof(spool_dir), "%.*s/spool", CONF_PATH_MAX - 1, a->conf.state_dir);
	so.max_bytes = a->conf.spool_max_bytes;
	err = spool_open(&a->spool, spool_dir, &so);
	if (err) {
		log_err("opening spool %s: %s", spool_dir, strerror(-err));
		goto out;
	}
	{
		struct spool_stats ss;

		spool_stats(a->spool, &ss);
		if (ss.truncated_bytes || ss.corrupt_records)
			log_warn("spool %s: truncated %" PRIu64
				 " bytes of a torn tail, skipped %" PRIu64 " damaged records",
				 spool_dir, ss.truncated_bytes, ss.corrupt_records);
		log_info("spool %s: %" PRIu64 " records, %" PRIu64 " bytes", spool_dir, ss.records,
			 ss.bytes);
	}
	err = load_host_id(a);
	if (err) {
		log_err("host id: %s", strerror(-err));
		goto out;
	}
	a->rctx.host_id = a->host_id;
	record_user(a);

	/* signals first, so a SIGTERM during start-up is not lost */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	a->tfd_interval = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	a->tfd_sync = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	a->policyfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->sigfd < 0 || a->epfd < 0 || a->tfd_interval < 0 || a->tfd_sync < 0 ||
	    a->policyfd < 0) {
		err = -errno;
		log_err("event loop set-up: %s", strerror(errno));
		goto out;
	}

	err = open_input(a);
	if (err)
		goto out;
	a->boot_off = boot_to_unix_ns(); /* the netlink source may report during open */
	err = open_proc(a);
	if (err)
		goto out;
	log_notice("sources: input %s (%s), processes %s (%s)", a->input_name, a->input_detail,
		   a->proc_name, a->proc_detail);

	gid = socket_gid(a->conf.socket_group);
	if (gid == (gid_t)-2) {
		err = -ENOENT;
		log_err("socket_group '%s' does not exist", a->conf.socket_group);
		goto out;
	}
	{
		char dir[CONF_PATH_MAX], *slash;

		strcpy(dir, a->conf.socket);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir_p(dir, 0755);
		}
	}
	err = control_open(&a->ctl, a->conf.socket, gid == (gid_t)-1 ? 0600 : 0660, gid, on_control,
			   a);
	if (err) {
		log_err("control socket %s: %s", a->conf.socket, strerror(-err));
		goto out;
	}

	{
		struct apps_opts ao = {.session_socket = a->conf.session_socket,
				       .session_uid = a->conf.session_uid,
				       .active_uid = a->seat ? seat_active_uid : NULL,
				       .active_ctx = a->seat,
				       .desktop_dirs = a->conf.desktop_dirs,
				       .shot = on_shot,
				       .shot_ctx = a};

		err = apps_open(&a->apps, &ao);
		if (err) {
			log_err("session socket %s: %s", a->conf.session_socket, strerror(-err));
			goto out;
		}
	}
	if ((err = epoll_add(a->epfd, a->sigfd, TAG_SIGNAL)) ||
	    (err = epoll_add(a->epfd, a->tfd_interval, TAG_INTERVAL)) ||
	    (err = epoll_add(a->epfd, a->tfd_sync, TAG_SYNC)) ||
	    (err = epoll_add(a->epfd, a->policyfd, TAG_POLICY)) ||
	    (err = epoll_add(a->epfd, control_fd(a->ctl), TAG_CONTROL)) ||
	    (err = epoll_add(a->epfd, apps_fd(a->apps), (enum tag)TAG_SESSION)) ||
	    (a->pr_bpf && (err = epoll_add(a->epfd, proc_bpf_fd(a->pr_bpf), TAG_PROC))) ||
	    (a->pr_nl && (err = epoll_add(a->epfd, proc_netlink_fd(a->pr_nl), TAG_PROC))) ||
	    (a->in_evdev && (err = epoll_add(a->epfd, input_evdev_fd(a->in_evdev), TAG_INPUT)))) {
		log_err("event loop set-up: %s", strerror(-err));
		goto out;
	}
	err = open_sysinfo(a);
	if (err)
		goto out;

	/* the first interval starts now and ends at the next aligned boundary */
	{
		struct input_state st;

		a->started_ms = now_ms();
		a->iv_start_ms = a->started_ms;
		a->iv_start_boot_ns = clock_ns(CLOCK_BOOTTIME);
		a->iv_len_s = a->conf.interval_s;
		if (read_input(a, &st) == 0)
			a->iv_prev = st.totals;
	}
	err = interval_arm(a);
	if (err) {
		log_err("interval timer: %s", strerror(-err));
		goto out;
	}
	if (a->conf.upload) {
		err = device_cred_load(a->conf.state_dir, &a->cred);
		if (err == 0) {
			struct ship_opts so2 = {
			    .state_dir = a->conf.state_dir,
			    .spool_dir = spool_dir,
			    .cred = &a->cred,
			    .wake_fd = a->policyfd,
			    .backoff_max_ms = a->conf.backoff_max_s * 1000,
			    .config_poll_s = a->conf.policy_poll_s,
			    .etag = a->policy ? a->policy_etag : NULL,
			    .user = a->policy_user,
			};

			a->enrolled = 1;
			err = shipper_start(&a->ship, &so2, a->spool, &a->spool_lock);
			if (err) {
				log_err("starting the shipper: %s", strerror(-err));
				goto out;
			}
			log_notice("shipping to %s as device %s", a->cred.server,
				   a->cred.device_id);
			err = open_shots(a);
			if (err)
				goto out;
		} else if (err == -ENOENT) {
			log_notice("not enrolled (no %s/%s): records stay in the spool",
				   a->conf.state_dir, DEVICE_FILE);
			err = 0;
		} else {
			log_err("%s/%s: %s", a->conf.state_dir, DEVICE_FILE, strerror(-err));
			goto out;
		}
	}
	policy_apply(a); /* the server-only keys reach the helpers and the queue */
	emit_agent(a, "start");
	sysinfo_mon_start(a->si);
	sd_notify(0, "READY=1");
	log_notice("actlogd %s running: state %s, interval %us, socket %s%s", ACTLOG_VERSION,
		   a->conf.state_dir, a->conf.interval_s, a->conf.socket,
		   a->conf.upload ? "" : ", upload off");

	err = run(a);
	sd_notify(0, "STOPPING=1");
	/* take what the kernel already produced; the close drains the
	 * process events */
	if (a->in_evdev)
		input_evdev_dispatch(a->in_evdev);
	interval_close(a, 1);
	emit_agent(a, "stop");
	if (err)
		log_err("event loop: %s", strerror(-err));
out:
	shotq_close(a->shots);
	shipper_stop(a->ship);
	control_close(a->ctl);
	seat_close(a->seat);
	sysinfo_mon_close(a->si);
	apps_close(a->apps);
	proc_bpf_close(a->pr_bpf);
	proc_netlink_close(a->pr_nl);
	input_bpf_close(a->in_bpf);
	input_evdev_close(a->in_evdev);
	spool_close(a->spool);
	if (a->tfd_sync >= 0)
		close(a->tfd_sync);
	if (a->tfd_interval >= 0)
		close(a->tfd_interval);
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->sigfd >= 0)
		close(a->sigfd);
	if (a->policyfd >= 0)
		close(a->policyfd);
	curl_dl_unload(); /* loaded by the shipper, if it ran */
	cJSON_Delete(a->policy);
	return err ? 1 : 0;
}
