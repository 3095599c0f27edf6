// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlogctl - the sysadmin's window into a running actlogd: status, a live
 * view (top), the spool's contents, and Prometheus metrics. Everything it
 * shows about the agent comes from one "status" request on the control
 * socket; the spool is read directly from the state directory (read-only),
 * so it works when the agent is stopped.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "benchcli.h"
#include "log.h"
#include "spool.h"
#include "util.h"

#define MAX_RESPONSE (1 << 20)

/* Send one request, return the parsed answer (caller frees) or NULL after
 * printing why. */
static cJSON *request(const char *sock, const char *req)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = 0, cap = 65536;
	char *buf = NULL, *nb;
	cJSON *j = NULL;
	ssize_t r;
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		bench_fail("socket path too long: %s", sock);
		return NULL;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		bench_fail("socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			bench_fail("actlogd is not running (nothing listens on %s)", sock);
		else if (errno == EACCES || errno == EPERM)
			bench_fail("permission denied on %s: run as root or as a member of the "
				   "socket's group (actlogd --socket-group)",
				   sock);
		else
			bench_fail("connecting to %s: %s", sock, strerror(errno));
		goto out;
	}
	if (write_all(fd, req, strlen(req)) || write_all(fd, "\n", 1)) {
		bench_fail("writing to %s: %s", sock, strerror(errno));
		goto out;
	}
	buf = malloc(cap);
	if (!buf) {
		bench_fail("out of memory");
		goto out;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= MAX_RESPONSE) {
				bench_fail("answer from actlogd larger than %d bytes",
					   MAX_RESPONSE);
				goto out;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				bench_fail("out of memory");
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			bench_fail("reading from %s: %s", sock, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	j = cJSON_Parse(buf);
	if (!j) {
		bench_fail("actlogd sent an answer that is not JSON");
		goto out;
	}
	if (cJSON_IsString(cJSON_GetObjectItem(j, "error"))) {
		bench_fail("actlogd: %s", cJSON_GetObjectItem(j, "error")->valuestring);
		cJSON_Delete(j);
		j = NULL;
	}
out:
	free(buf);
	close(fd);
	return j;
}

/* The member at a dotted path ("spool.bytes"), or NULL. Tolerates missing
 * objects, so older agents without a field print 0 or "-". */
static const cJSON *lookup(const cJSON *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = cJSON_GetObjectItem(o, key);
		path = dot + 1;
	}
	return o ? cJSON_GetObjectItem(o, path) : NULL;
}

static double num(const cJSON *o, const char *path)
{
	const cJSON *v = lookup(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *path)
{
	const cJSON *v = lookup(o, path);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

static const char *human_bytes(double b, char *buf, size_t n)
{
	static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;

	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
	return buf;
}

static const char *human_secs(double s, char *buf, size_t n)
{
	uint64_t t = (uint64_t)s;

	if (t < 120)
		snprintf(buf, n, "%" PRIu64 "s", t);
	else if (t < 7200)
		snprintf(buf, n, "%" PRIu64 "m%02" PRIu64 "s", t / 60, t % 60);
	else if (t < 172800)
		snprintf(buf, n, "%" PRIu64 "h%02" PRIu64 "m", t / 3600, t / 60 % 60);
	else
		snprintf(buf, n, "%" PRIu64 "d%02" PRIu64 "h", t / 86400, t / 3600 % 24);
	return buf;
}

static void print_counts(const cJSON *c, const char *indent)
{
	printf("%skeys %.0f  clicks %.0f  moves %.0f (distance %.0f)  scrolls %.0f", indent,
	       num(c, "keys"), num(c, "clicks"), num(c, "moves"), num(c, "distance"),
	       num(c, "scrolls"));
}

/* The session helpers (actlog-session) and what they report as focused. */
static void print_session(const cJSON *s)
{
	const cJSON *hs = lookup(s, "session.helpers"), *h, *f = lookup(s, "session.focus");
	char b1[32];
	int n = cJSON_GetArraySize(hs);

	if (!lookup(s, "session"))
		return; /* an agent without the session socket */
	if (n == 0) {
		printf("session:   no helper connected (socket %s", str(s, "session.socket"));
	} else {
		h = cJSON_GetArrayItem(hs, 0);
		printf("session:   %d helper%s connected (uid %.0f, display %s, %s%s%s", n,
		       n == 1 ? "" : "s", num(h, "uid"),
		       *str(h, "display") ? str(h, "display") : "-", str(h, "source"),
		       *str(h, "wm") ? ", " : "", str(h, "wm"));
	}
	if (num(s, "session.refused") > 0)
		printf("; %.0f refused", num(s, "session.refused"));
	printf(")\n");
	for (int i = 0; i < n; i++) {
		const cJSON *nu, *r;

		h = cJSON_GetArrayItem(hs, i);
		if (cJSON_IsString(cJSON_GetObjectItem(h, "route")))
			printf("route:     %s (uid %.0f)\n", str(h, "route"), num(h, "uid"));
		else
			printf("route:     none works (uid %.0f)\n", num(h, "uid"));
		nu = cJSON_GetObjectItem(h, "routes_not_used");
		cJSON_ArrayForEach(r, nu)
		{
			printf("           not %s: %s\n", str(r, "route"), str(r, "why"));
		}
	}
	if (!cJSON_IsObject(f))
		printf("focus:     %s\n", n ? "nothing focused" : "unknown (no helper)");
	else if (!cJSON_IsTrue(cJSON_GetObjectItem(f, "known")))
		printf("focus:     unknown (%s: %s)\n", str(f, "source"),
		       *str(f, "unknown") ? str(f, "unknown") : "the helper cannot tell");
	else
		printf("focus:     %s (class %s, pid %.0f) for %s\n", str(f, "app"),
		       str(f, "class"), num(f, "pid"), human_secs(num(f, "for_s"), b1, sizeof(b1)));
}

/* The active user of seat0, and the sysinfo schedule. */
static void print_user(const cJSON *s)
{
	const cJSON *u = cJSON_GetObjectItem(s, "active_user");
	char b1[32], b2[32];

	if (lookup(s, "sources.user"))
		printf("user:      %s (%s: %s)\n", cJSON_IsString(u) ? u->valuestring : "none",
		       str(s, "sources.user"), str(s, "sources.user_detail"));
	if (cJSON_IsNumber(lookup(s, "sysinfo.next_in_s")))
		printf("sysinfo:   every %s, %.0f records, last %s, next in %s\n",
		       human_secs(num(s, "sysinfo.interval_s"), b1, sizeof(b1)),
		       num(s, "sysinfo.records"), str(s, "sysinfo.last"),
		       human_secs(num(s, "sysinfo.next_in_s"), b2, sizeof(b2)));
}

/* The screenshot queue and what the session socket refused. */
static void print_shots(const cJSON *s)
{
	char b1[32], b2[32];

	if (!cJSON_IsObject(lookup(s, "shots"))) {
		printf("shots:     no queue (not enrolled, or upload off)\n");
	} else {
		printf(
		    "shots:     %.0f queued (%s; at most %.0f, %s), %.0f uploaded, %.0f dropped, "
		    "%.0f failed%s%s%s\n",
		    num(s, "shots.queued"), human_bytes(num(s, "shots.bytes"), b1, sizeof(b1)),
		    num(s, "shots.max_files"),
		    human_bytes(num(s, "shots.max_bytes"), b2, sizeof(b2)),
		    num(s, "shots.uploaded"), num(s, "shots.dropped"), num(s, "shots.failed"),
		    *str(s, "shots.last_error") ? ", last error: " : "",
		    *str(s, "shots.last_error") ? str(s, "shots.last_error") : "",
		    num(s, "shots.backoff_ms") > 0 ? " (backing off)" : "");
		if (cJSON_IsNumber(lookup(s, "shots.oldest_age_s")))
			printf("           oldest taken %s (%s ago)\n", str(s, "shots.oldest"),
			       human_secs(num(s, "shots.oldest_age_s"), b1, sizeof(b1)));
	}
	if (num(s, "session.shots.refused") > 0)
		printf(
		    "           %.0f refused from helpers (policy %.0f, message %.0f, seals %.0f, "
		    "size %.0f, png %.0f, dims %.0f, queue %.0f)\n",
		    num(s, "session.shots.refused"), num(s, "session.shots.refused_by.policy"),
		    num(s, "session.shots.refused_by.message"),
		    num(s, "session.shots.refused_by.seals"),
		    num(s, "session.shots.refused_by.size"), num(s, "session.shots.refused_by.png"),
		    num(s, "session.shots.refused_by.dims"),
		    num(s, "session.shots.refused_by.queue"));
}

/* Whose policy: the session user it is asked for, whom the server's
 * answer is for ("for alice (user u_…)", "for bob: the owner alice's
 * (u_…)", "the team's"), and whether it has yet to arrive. */
static void print_policy_for(const cJSON *s)
{
	const char *kind = str(s, "policy.for.kind"), *login = str(s, "policy.for.login");

	if (!lookup(s, "policy.pending"))
		return; /* an older agent */
	printf("; for %s", cJSON_IsString(lookup(s, "policy.user")) ? str(s, "policy.user")
								    : "no session user");
	if (cJSON_IsTrue(lookup(s, "policy.pending")))
		printf(" (pending: screenshots off until it arrives)");
	if (!strcmp(kind, "user"))
		printf(" (user %s)", str(s, "policy.for.user_id"));
	else if (!strcmp(kind, "owner"))
		printf(": the owner %s's (%s)", *login ? login : "?", str(s, "policy.for.user_id"));
	else if (!strcmp(kind, "team"))
		printf(": the team's");
}

/* Where the policy comes from: the server's (with its ETag and when it was
 * saved) or the local settings; whom it is for; and the keys the local
 * settings still set. */
static void print_policy(const cJSON *s)
{
	const cJSON *keys = lookup(s, "policy.keys"), *k;
	int n = 0;

	if (!cJSON_IsObject(lookup(s, "policy")))
		return; /* an older agent */
	printf("policy:    logging %s; ",
	       cJSON_IsTrue(cJSON_GetObjectItem(s, "logging")) ? "on" : "off");
	if (!strcmp(str(s, "policy.source"), "server"))
		printf("server (etag %s, saved %s%s)",
		       *str(s, "policy.etag") ? str(s, "policy.etag") : "none",
		       cJSON_IsString(lookup(s, "policy.saved")) ? str(s, "policy.saved") : "never",
		       cJSON_IsTrue(lookup(s, "policy.from_file")) ? ", read at start" : "");
	else
		printf("local");
	print_policy_for(s);
	cJSON_ArrayForEach(k, keys)
	{
		if (!cJSON_IsString(k) || strcmp(k->valuestring, "local") ||
		    strcmp(str(s, "policy.source"), "server"))
			continue;
		printf("%s%s", n++ ? ", " : "; local: ", k->string);
	}
	printf("\n");
}

static void print_status(const cJSON *s)
{
	char b1[32], b2[32];
	const cJSON *age;

	printf("actlogd %s, pid %.0f, up %s, host %s\n", str(s, "version"), num(s, "pid"),
	       human_secs(num(s, "uptime_s"), b1, sizeof(b1)), str(s, "host_id"));
	printf("sources:   input %s (%s)", str(s, "sources.input"), str(s, "sources.input_detail"));
	if (lookup(s, "sources.input_devices"))
		printf(", %.0f devices", num(s, "sources.input_devices"));
	printf("\n           processes %s (%s)\n", str(s, "sources.proc"),
	       str(s, "sources.proc_detail"));
	print_user(s);
	printf("interval:  %.0f s, started %s (%s ago)\n", num(s, "interval.seconds"),
	       str(s, "interval.start"), human_secs(num(s, "interval.elapsed_s"), b1, sizeof(b1)));
	print_counts(lookup(s, "interval.counts"), "           ");
	printf("  active %.0f s%s\n", num(s, "interval.counts.active_s"),
	       cJSON_IsTrue(lookup(s, "interval.counts.idle")) ? "  idle" : "");
	print_counts(lookup(s, "interval.synthetic"), "           synthetic: ");
	printf("\n");
	age = cJSON_GetObjectItem(s, "last_input_age_s");
	if (cJSON_IsNumber(age))
		printf("last input: %s ago\n", human_secs(age->valuedouble, b1, sizeof(b1)));
	else
		printf("last input: none since start\n");
	printf("totals:    execs %.0f  exits %.0f  records %.0f  intervals %.0f\n",
	       num(s, "totals.execs"), num(s, "totals.exits"), num(s, "totals.records"),
	       num(s, "totals.intervals"));
	printf("drops:     process events %.0f  spool cap %.0f  spool damage %.0f  record errors "
	       "%.0f\n",
	       num(s, "drops.proc_events"), num(s, "drops.spool_records"),
	       num(s, "drops.spool_corrupt"), num(s, "drops.record_errors"));
	printf("spool:     %.0f records, %s of %s in %.0f segments, %.0f pending upload%s\n",
	       num(s, "spool.records"), human_bytes(num(s, "spool.bytes"), b1, sizeof(b1)),
	       human_bytes(num(s, "spool.max_bytes"), b2, sizeof(b2)), num(s, "spool.segments"),
	       num(s, "spool.pending"),
	       cJSON_IsTrue(cJSON_GetObjectItem(s, "upload")) ? "" : " (upload off)");
	if (!cJSON_IsTrue(lookup(s, "shipping.enrolled")))
		printf("shipping:  not enrolled (actlogd enroll --server URL --secret S)\n");
	else if (!cJSON_IsTrue(lookup(s, "shipping.active")))
		printf("shipping:  enrolled as %s, upload off\n", str(s, "shipping.device_id"));
	else
		printf("shipping:  to %s as %s: %.0f batches, %.0f records, %.0f failures%s%s%s\n",
		       str(s, "shipping.server"), str(s, "shipping.device_id"),
		       num(s, "shipping.batches"), num(s, "shipping.records"),
		       num(s, "shipping.failures"),
		       *str(s, "shipping.last_error") ? ", last error: " : "",
		       *str(s, "shipping.last_error") ? str(s, "shipping.last_error") : "",
		       num(s, "shipping.backoff_ms") > 0 ? " (backing off)" : "");
	if (cJSON_IsNumber(lookup(s, "spool.age_s")))
		printf("           oldest %s (%s ago)\n", str(s, "spool.oldest"),
		       human_secs(num(s, "spool.age_s"), b1, sizeof(b1)));
	print_policy(s);
	print_shots(s);
	print_session(s);
}

static int cmd_status(const char *sock)
{
	cJSON *s = request(sock, "status");
	char *out;

	if (!s)
		return 1;
	if (bench_json) {
		out = cJSON_PrintUnformatted(s);
		puts(out ? out : "{}");
		free(out);
	} else {
		print_status(s);
	}
	cJSON_Delete(s);
	return 0;
}

static void metric(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int cmd_metrics(const char *sock)
{
	static const char *kinds[] = {"keys", "clicks", "moves", "scrolls"};
	static const char *origins[] = {"physical", "synthetic"};
	cJSON *s = request(sock, "status");
	char path[64];
	unsigned int i, o;

	if (!s)
		return 1;
	metric("actlog_up", "gauge", "1 while actlogd answers.");
	printf("actlog_up 1\n");
	metric("actlog_info", "gauge", "Agent version and the sources in use.");
	printf("actlog_info{version=\"%s\",input_source=\"%s\",proc_source=\"%s\"} 1\n",
	       str(s, "version"), str(s, "sources.input"), str(s, "sources.proc"));
	metric("actlog_uptime_seconds", "gauge", "Seconds since actlogd started.");
	printf("actlog_uptime_seconds %.3f\n", num(s, "uptime_s"));
	metric("actlog_input_events_total", "counter",
	       "Input events counted since start, by kind and origin.");
	for (o = 0; o < 2; o++)
		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "totals.%s.%s", origins[o], kinds[i]);
			printf("actlog_input_events_total{kind=\"%s\",origin=\"%s\"} %.0f\n",
			       kinds[i], origins[o], num(s, path));
		}
	metric("actlog_pointer_distance_total", "counter",
	       "Pointer travel since start in device units, by origin.");
	for (o = 0; o < 2; o++) {
		snprintf(path, sizeof(path), "totals.%s.distance", origins[o]);
		printf("actlog_pointer_distance_total{origin=\"%s\"} %.0f\n", origins[o],
		       num(s, path));
	}
	metric("actlog_process_events_total", "counter", "Process events recorded since start.");
	printf("actlog_process_events_total{event=\"exec\"} %.0f\n", num(s, "totals.execs"));
	printf("actlog_process_events_total{event=\"exit\"} %.0f\n", num(s, "totals.exits"));
	metric("actlog_records_total", "counter", "Records appended to the spool since start.");
	printf("actlog_records_total %.0f\n", num(s, "totals.records"));
	metric("actlog_dropped_total", "counter", "Events or records lost, by cause.");
	printf("actlog_dropped_total{cause=\"proc_events\"} %.0f\n", num(s, "drops.proc_events"));
	printf("actlog_dropped_total{cause=\"spool_cap\"} %.0f\n", num(s, "drops.spool_records"));
	printf("actlog_dropped_total{cause=\"spool_damage\"} %.0f\n",
	       num(s, "drops.spool_corrupt"));
	printf("actlog_dropped_total{cause=\"record_errors\"} %.0f\n",
	       num(s, "drops.record_errors"));
	metric("actlog_spool_bytes", "gauge", "Bytes in the spool.");
	printf("actlog_spool_bytes %.0f\n", num(s, "spool.bytes"));
	metric("actlog_spool_max_bytes", "gauge", "Spool size cap.");
	printf("actlog_spool_max_bytes %.0f\n", num(s, "spool.max_bytes"));
	metric("actlog_spool_records", "gauge", "Records in the spool.");
	printf("actlog_spool_records %.0f\n", num(s, "spool.records"));
	metric("actlog_spool_pending_records", "gauge",
	       "Records not yet acknowledged by a server.");
	printf("actlog_spool_pending_records %.0f\n", num(s, "spool.pending"));
	metric("actlog_spool_oldest_age_seconds", "gauge", "Age of the oldest spooled record.");
	printf("actlog_spool_oldest_age_seconds %.3f\n", num(s, "spool.age_s"));
	metric("actlog_shipped_records_total", "counter", "Records the server acknowledged.");
	printf("actlog_shipped_records_total %.0f\n", num(s, "shipping.records"));
	metric("actlog_ship_failures_total", "counter", "Failed shipping attempts.");
	printf("actlog_ship_failures_total %.0f\n", num(s, "shipping.failures"));
	metric("actlog_session_helpers", "gauge", "actlog-session helpers connected.");
	printf("actlog_session_helpers %d\n", cJSON_GetArraySize(lookup(s, "session.helpers")));
	metric("actlog_session_refused_total", "counter",
	       "Session socket peers refused (not the active session's user, protocol errors).");
	printf("actlog_session_refused_total %.0f\n", num(s, "session.refused"));
	metric("actlog_shots_received_total", "counter",
	       "Screenshots helpers sent over the session socket.");
	printf("actlog_shots_received_total %.0f\n", num(s, "session.shots.received"));
	metric("actlog_shots_refused_total", "counter",
	       "Screenshots refused at the session socket, by cause.");
	{
		static const char *const causes[] = {"policy", "message", "seals", "size",
						     "format", "dims",	  "queue"};
		char key[64];
		size_t k;

		for (k = 0; k < ARRAY_SIZE(causes); k++) {
			snprintf(key, sizeof(key), "session.shots.refused_by.%s", causes[k]);
			printf("actlog_shots_refused_total{cause=\"%s\"} %.0f\n", causes[k],
			       num(s, key));
		}
	}
	if (cJSON_IsObject(lookup(s, "shots"))) {
		metric("actlog_shots_queued", "gauge", "Screenshots waiting for upload.");
		printf("actlog_shots_queued %.0f\n", num(s, "shots.queued"));
		metric("actlog_shots_queued_bytes", "gauge",
		       "Bytes of screenshots waiting for upload.");
		printf("actlog_shots_queued_bytes %.0f\n", num(s, "shots.bytes"));
		metric("actlog_shots_oldest_age_seconds", "gauge",
		       "Age of the oldest queued screenshot (0 when none).");
		printf("actlog_shots_oldest_age_seconds %.3f\n", num(s, "shots.oldest_age_s"));
		metric("actlog_shots_uploaded_total", "counter",
		       "Screenshots uploaded and registered since start.");
		printf("actlog_shots_uploaded_total %.0f\n", num(s, "shots.uploaded"));
		metric("actlog_shots_dropped_total", "counter",
		       "Screenshots dropped by the queue bound since start.");
		printf("actlog_shots_dropped_total %.0f\n", num(s, "shots.dropped"));
		metric("actlog_shots_failed_total", "counter",
		       "Screenshots the server refused for good (moved to shots/failed).");
		printf("actlog_shots_failed_total %.0f\n", num(s, "shots.failed"));
	}
	metric("actlog_interval_seconds", "gauge", "Length of the activity interval.");
	printf("actlog_interval_seconds %.0f\n", num(s, "interval.seconds"));
	if (cJSON_IsNumber(cJSON_GetObjectItem(s, "last_input_age_s"))) {
		metric("actlog_last_input_age_seconds", "gauge", "Seconds since the last input.");
		printf("actlog_last_input_age_seconds %.3f\n", num(s, "last_input_age_s"));
	}
	cJSON_Delete(s);
	return 0;
}

/* ---- top ---- */

static struct termios top_saved;
static int top_raw;

static void top_restore(void)
{
	if (top_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &top_saved);
		printf("\033[?25h");
		fflush(stdout);
		top_raw = 0;
	}
}

static void top_sig(int sig)
{
	top_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void top_draw(const cJSON *s, int clear)
{
	const cJSON *iv = cJSON_GetObjectItem(s, "interval"), *arr, *e;
	char b1[32];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (clear)
		printf("\033[H\033[2J");
	printf("actlog top — %02d:%02d:%02d   input %s, processes %s   (q to quit)\n\n", tm.tm_hour,
	       tm.tm_min, tm.tm_sec, str(s, "sources.input"), str(s, "sources.proc"));
	printf("interval %.0f s, %s elapsed\n", num(s, "interval.seconds"),
	       human_secs(num(s, "interval.elapsed_s"), b1, sizeof(b1)));
	printf("  %-10s %10s %10s\n", "", "all", "synthetic");
	printf("  %-10s %10.0f %10.0f\n", "keys", num(iv, "counts.keys"),
	       num(iv, "synthetic.keys"));
	printf("  %-10s %10.0f %10.0f\n", "clicks", num(iv, "counts.clicks"),
	       num(iv, "synthetic.clicks"));
	printf("  %-10s %10.0f %10.0f\n", "moves", num(iv, "counts.moves"),
	       num(iv, "synthetic.moves"));
	printf("  %-10s %10.0f %10.0f\n", "distance", num(iv, "counts.distance"),
	       num(iv, "synthetic.distance"));
	printf("  %-10s %10.0f %10.0f\n", "scrolls", num(iv, "counts.scrolls"),
	       num(iv, "synthetic.scrolls"));
	printf("  %-10s %10.0f %10.0f\n\n", "active s", num(iv, "counts.active_s"),
	       num(iv, "synthetic.active_s"));
	printf("execs %.0f  exits %.0f  drops %.0f  spool %.0f records\n\n", num(s, "totals.execs"),
	       num(s, "totals.exits"), num(s, "drops.proc_events"), num(s, "spool.records"));
	printf("recent execs:\n");
	arr = cJSON_GetObjectItem(s, "recent_execs");
	cJSON_ArrayForEach(e, arr)
	{
		const char *ts = str(e, "ts");

		printf("  %.8s  %7.0f  %-16s %s\n", strlen(ts) >= 19 ? ts + 11 : ts, num(e, "pid"),
		       str(e, "comm"), str(e, "exe"));
	}
	fflush(stdout);
}

static int cmd_top(const char *sock, int period_ms, int iterations)
{
	int interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && iterations == 0;
	struct termios raw;
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	int n = 0, rc = 0;
	char ch;
	cJSON *s;

	if (!interactive && iterations == 0) {
		bench_fail(
		    "top needs a terminal; use --iterations N to print N snapshots, or status "
		    "--json");
		return 2;
	}
	if (interactive) {
		if (tcgetattr(STDIN_FILENO, &top_saved) == 0) {
			raw = top_saved;
			raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
			raw.c_cc[VMIN] = 0;
			raw.c_cc[VTIME] = 0;
			tcsetattr(STDIN_FILENO, TCSANOW, &raw);
			top_raw = 1;
			signal(SIGINT, top_sig);
			signal(SIGTERM, top_sig);
			printf("\033[?25l");
		}
	}
	for (;;) {
		s = request(sock, "status");
		if (!s) {
			rc = 1;
			break;
		}
		top_draw(s, interactive);
		cJSON_Delete(s);
		if (iterations && ++n >= iterations)
			break;
		if (!interactive) {
			usleep((useconds_t)period_ms * 1000);
			printf("\n");
			continue;
		}
		if (poll(&pfd, 1, period_ms) > 0 && read(STDIN_FILENO, &ch, 1) == 1 &&
		    (ch == 'q' || ch == 'Q'))
			break;
	}
	top_restore();
	return rc;
}

/* ---- spool ---- */

static int cmd_spool_dump(const char *state_dir)
{
	char dir[PATH_MAX], ts[RFC3339_LEN];
	struct spool_reader *r = NULL;
	struct spool_frame f;
	struct spool_pos pos;
	int err;

	snprintf(dir, sizeof(dir), "%s/spool", state_dir);
	err = spool_reader_open(&r, dir, NULL);
	if (err) {
		if (err == -ENOENT)
			bench_fail("no spool at %s (is --state-dir right?)", dir);
		else if (err == -EACCES)
			bench_fail("permission denied reading %s: run as root", dir);
		else
			bench_fail("opening spool %s: %s", dir, strerror(-err));
		return 1;
	}
	while ((err = spool_reader_next(r, &f, &pos)) > 0) {
		if (bench_json)
			printf("{\"seg\":%" PRIu64 ",\"end\":%" PRIu64
			       ",\"spooled\":\"%s\",\"record\":"
			       "%.*s}\n",
			       pos.seg, pos.off, rfc3339_ms((int64_t)f.ts_ms, ts), (int)f.len,
			       (const char *)f.payload);
		else
			printf("%.*s\n", (int)f.len, (const char *)f.payload);
	}
	spool_reader_close(r);
	if (err < 0) {
		bench_fail("reading spool %s: %s", dir, strerror(-err));
		return 1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: actlogctl [OPTIONS] COMMAND\n"
	    "Inspect a running actlogd.\n\n"
	    "Commands:\n"
	    "  status              sources, counters, drops, spool (--json for machines)\n"
	    "  top                 live view of the current interval and recent execs (q quits)\n"
	    "  spool dump          every spooled record as NDJSON, oldest first\n"
	    "                      (--json: each line wraps the record with seg and end position)\n"
	    "  metrics             Prometheus text exposition of the agent's counters\n\n"
	    "Options:\n"
	    "  -s, --socket PATH     control socket (default /run/actlog/actlogd.sock)\n"
	    "  -d, --state-dir DIR   state directory for spool commands (default "
	    "/var/lib/actlog)\n"
	    "  -j, --json            machine-readable output; errors as JSON too\n"
	    "  -n, --iterations N    top: print N snapshots and exit (no terminal needed)\n"
	    "  -p, --period-ms MS    top: refresh period (default 1000)\n"
	    "  -h, --help            this help\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"iterations", required_argument, NULL, 'n'},
	    {"period-ms", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *sock = "/run/actlog/actlogd.sock", *state_dir = "/var/lib/actlog", *cmd;
	int c, iterations = 0, period = 1000;
	unsigned long v;

	bench_prog = "actlogctl";
	log_init("actlogctl", LOG_LVL_WARN);
	/* options may come before or after the command */
	while ((c = getopt_long(argc, argv, "s:d:jn:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'd':
			state_dir = optarg;
			break;
		case 'j':
			bench_json = true;
			break;
		case 'n':
			if (bench_opt_uint("iterations", optarg, 1, 1000000, &v))
				return 2;
			iterations = (int)v;
			break;
		case 'p':
			if (bench_opt_uint("period-ms", optarg, 100, 3600000, &v))
				return 2;
			period = (int)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (!strcmp(cmd, "status") && optind + 1 == argc)
		return cmd_status(sock);
	if (!strcmp(cmd, "metrics") && optind + 1 == argc)
		return cmd_metrics(sock);
	if (!strcmp(cmd, "top") && optind + 1 == argc)
		return cmd_top(sock, period, iterations);
	if (!strcmp(cmd, "spool") && optind + 2 == argc && !strcmp(argv[optind + 1], "dump"))
		return cmd_spool_dump(state_dir);
	bench_fail("unknown command '%s' (see --help)", cmd);
	return 2;
}
