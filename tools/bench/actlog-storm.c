// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-storm - an exec storm: many short fork + execve + exit cycles, timed,
 * so that benchmarks can compare how much a process collector slows them down.
 *
 * W worker processes share N cycles (processes, not threads: forks from
 * threads of one process serialise on its address space). Each cycle forks;
 * the child execs PROGRAM (default /bin/true) with no arguments, an empty
 * environment and stdout/stderr on /dev/null; the worker waits for it and
 * checks that it exited 0. The run ends after N cycles or after --seconds,
 * whichever comes first. The report gives the cycles done, failures, wall
 * time, the rate, and the CPU time of the workers and their children
 * (RUSAGE_CHILDREN).
 */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "util.h"

#define STORM_MAX_EXECS 100000000UL
#define STORM_MAX_WORKERS 256UL
#define STORM_MAX_SECONDS 86400UL

/* Lives in a shared mapping: the workers are processes. */
struct storm {
	const char *program;
	int devnull;
	unsigned long execs;   /* cycles wanted in total */
	uint64_t deadline_ns;  /* CLOCK_MONOTONIC; 0: none */
	atomic_ulong next;     /* cycles handed out */
	atomic_ulong done;     /* cycles whose child exited 0 */
	atomic_ulong failures; /* fork/exec/wait failures or a non-zero exit */
	atomic_int first_errno;
};

static const char *const usage_text =
    "usage: actlog-storm [--execs N] [--workers W] [--seconds S] [--exec PROGRAM] [--json]\n"
    "Runs N fork + exec + exit cycles of PROGRAM (default /bin/true, no arguments,\n"
    "empty environment) in W parallel workers (default: the number of online CPUs)\n"
    "and reports how long they took. Defaults: --execs 10000; --seconds stops\n"
    "earlier when given. Exit status: 0 when every cycle succeeded, 1 otherwise,\n"
    "2 on a usage error.\n";

static void note_errno(struct storm *s, int e)
{
	int zero = 0;

	atomic_compare_exchange_strong(&s->first_errno, &zero, e);
}

/* One cycle: fork, exec the program in the child, wait. 0 or -errno/-ECHILD. */
static int cycle(struct storm *s)
{
	static char *const envp[] = {NULL};
	char *argv[] = {(char *)s->program, NULL};
	int status;
	pid_t pid, w;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(s->devnull, STDOUT_FILENO);
		dup2(s->devnull, STDERR_FILENO);
		execve(s->program, argv, envp);
		_exit(127);
	}
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOEXEC : -ECHILD;
	return 0;
}

static void worker(struct storm *s)
{
	unsigned long i;
	int err;

	for (;;) {
		i = atomic_fetch_add(&s->next, 1);
		if (i >= s->execs)
			break;
		/* the clock is read every 64 cycles: cheap next to a fork */
		if (s->deadline_ns && (i & 63) == 0 &&
		    clock_ns(CLOCK_MONOTONIC) >= s->deadline_ns) {
			atomic_store(&s->next, s->execs);
			break;
		}
		err = cycle(s);
		if (err) {
			atomic_fetch_add(&s->failures, 1);
			note_errno(s, -err);
		} else {
			atomic_fetch_add(&s->done, 1);
		}
	}
}

/* --name's value v as a count in 1..max; -1 after saying why. */
static int count_opt(const char *name, const char *v, unsigned long max, unsigned long *out)
{
	uint64_t u;

	if (parse_uint(v, 1, max, &u)) {
		log_err("--%s: want a number from 1 to %lu (got '%s')", name, max, v);
		return -1;
	}
	*out = (unsigned long)u;
	return 0;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"execs", required_argument, NULL, 'n'},
	    {"workers", required_argument, NULL, 'w'},
	    {"seconds", required_argument, NULL, 's'},
	    {"exec", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	unsigned long workers = 0, seconds = 0, execs = 10000, done, failures;
	const char *program = "/bin/true";
	unsigned long i, started = 0;
	struct rusage ch;
	struct storm *s;
	uint64_t t0, t1;
	double wall;
	int c, json = 0, err = 0;
	pid_t pid;

	log_init("actlog-storm", LOG_LVL_INFO);
	while ((c = getopt_long(argc, argv, "n:w:s:e:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (count_opt("execs", optarg, STORM_MAX_EXECS, &execs))
				return 2;
			break;
		case 'w':
			if (count_opt("workers", optarg, STORM_MAX_WORKERS, &workers))
				return 2;
			break;
		case 's':
			if (count_opt("seconds", optarg, STORM_MAX_SECONDS, &seconds))
				return 2;
			break;
		case 'e':
			program = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (access(program, X_OK) < 0) {
		log_err("%s: %s", program, strerror(errno));
		return 2;
	}
	if (!workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		workers = n > 0 ? (unsigned long)n : 1;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED) {
		log_err("mmap: %s", strerror(errno));
		return 1;
	}
	memset(s, 0, sizeof(*s));
	s->program = program;
	s->execs = execs;
	s->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (s->devnull < 0) {
		log_err("/dev/null: %s", strerror(errno));
		return 1;
	}
	fflush(NULL);
	t0 = clock_ns(CLOCK_MONOTONIC);
	if (seconds)
		s->deadline_ns = t0 + seconds * NSEC_PER_SEC;
	for (i = 0; i < workers; i++) {
		pid = fork();
		if (pid < 0) {
			err = errno;
			log_err("starting worker %lu: %s", i, strerror(err));
			atomic_store(&s->next, s->execs);
			break;
		}
		if (pid == 0) {
			worker(s);
			_exit(0);
		}
		started++;
	}
	while (started > 0) {
		if (wait(NULL) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		started--;
	}
	t1 = clock_ns(CLOCK_MONOTONIC);
	getrusage(RUSAGE_CHILDREN, &ch);
	wall = (double)(t1 - t0) / 1e9;
	done = atomic_load(&s->done);
	failures = atomic_load(&s->failures);
	if (json) {
		/* the path as a JSON string: quotes and backslashes escaped */
		cJSON *pj = cJSON_CreateString(program);
		char *ps = pj ? cJSON_PrintUnformatted(pj) : NULL;

		printf("{\"program\":%s,\"workers\":%lu,\"execs\":%lu,\"failures\":%lu,"
		       "\"wall_s\":%.6f,\"execs_per_s\":%.1f,\"children_user_s\":%.3f,"
		       "\"children_sys_s\":%.3f}\n",
		       ps ? ps : "null", workers, done, failures, wall,
		       wall > 0 ? (double)done / wall : 0.0, tv_s(ch.ru_utime), tv_s(ch.ru_stime));
		free(ps);
		cJSON_Delete(pj);
	} else {
		printf("%lu execs of %s in %.3f s with %lu workers: %.0f/s, %lu failures\n", done,
		       program, wall, workers, wall > 0 ? (double)done / wall : 0.0, failures);
		printf("cpu of workers and children: %.3f s user, %.3f s sys\n", tv_s(ch.ru_utime),
		       tv_s(ch.ru_stime));
	}
	if (failures) {
		log_err("%lu cycles failed (first: %s)", failures,
			strerror(atomic_load(&s->first_errno)));
		return 1;
	}
	return err ? 1 : 0;
}
