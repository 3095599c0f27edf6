// SPDX-License-Identifier: BSD-2-Clause
/*
 * sysinfo.c - pure parsers and the record of sysinfo.h. No I/O here: the
 * daemon side (user/agent/sysinfo_mon.c) reads the files.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysinfo.h"
#include "util.h"

/* ---- small helpers over [p, end) ---- */

/* The line starting at p: its length without the newline. */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? (size_t)(nl - p) : (size_t)(end - p);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Trim [*s, *e) of blanks on both sides. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

/* Does [s, e) equal the string lit? */
static int span_eq(const char *s, const char *e, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(e - s) == n && memcmp(s, lit, n) == 0;
}

/* Parse decimal digits at *p (< end) into *out; advances *p. -EINVAL without
 * a digit, -ERANGE on overflow. */
static int span_u64(const char **p, const char *end, uint64_t *out)
{
	uint64_t x = 0;
	const char *s = *p;

	if (s >= end || !is_digit(*s))
		return -EINVAL;
	for (; s < end && is_digit(*s); s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = x;
	return 0;
}

/* Copy [s, e) into dst (size n) as clean UTF-8 (util.h utf8_clean). */
static void span_copy(char *dst, size_t n, const char *s, const char *e)
{
	utf8_clean(dst, n, s, (size_t)(e - s));
}

/* ---- /proc/meminfo ---- */

int si_parse_meminfo(const char *buf, size_t len, struct si_mem *out)
{
	const char *p = buf, *end = buf + len;
	uint64_t total = 0, avail = 0, mfree = 0, buffers = 0, cached = 0, stotal = 0, sfree = 0;
	int have_total = 0, have_avail = 0;

	while (p < end) {
		size_t n = line_len(p, end);
		const char *le = p + n, *colon = memchr(p, ':', n), *v;
		uint64_t x, *dst = NULL;

		if (colon) {
			if (span_eq(p, colon, "MemTotal")) {
				dst = &total;
				have_total = 1;
			} else if (span_eq(p, colon, "MemAvailable")) {
				dst = &avail;
				have_avail = 1;
			} else if (span_eq(p, colon, "MemFree")) {
				dst = &mfree;
			} else if (span_eq(p, colon, "Buffers")) {
				dst = &buffers;
			} else if (span_eq(p, colon, "Cached")) {
				dst = &cached;
			} else if (span_eq(p, colon, "SwapTotal")) {
				dst = &stotal;
			} else if (span_eq(p, colon, "SwapFree")) {
				dst = &sfree;
			}
		}
		if (dst) {
			v = colon + 1;
			while (v < le && is_space(*v))
				v++;
			if (span_u64(&v, le, &x) == 0) {
				while (v < le && is_space(*v))
					v++;
				if (le - v >= 2 && v[0] == 'k' && v[1] == 'B')
					x = x > UINT64_MAX / 1024 ? UINT64_MAX : x * 1024;
				*dst = x;
			} else if (dst == &total) {
				have_total = 0;
			}
		}
		p = le + (le < end);
	}
	if (!have_total)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->total = total;
	out->available = have_avail ? avail : mfree + buffers + cached;
	out->available_estimated = !have_avail;
	out->swap_total = stotal;
	out->swap_free = sfree;
	return 0;
}

/* ---- os-release ---- */

/* Unquote an os-release value [s, e) into dst (size n): shell-like words,
 * "..." with \ escaping $ " \ `, '...' literal, \x outside quotes. Stops at
 * unquoted blanks. */
static void os_value(char *dst, size_t n, const char *s, const char *e)
{
	char tmp[512];
	size_t k = 0;

	while (s < e && k < sizeof(tmp) - 1) {
		char c = *s++;

		if (c == '"') {
			while (s < e && *s != '"' && k < sizeof(tmp) - 1) {
				if (*s == '\\' && s + 1 < e && s[1] && strchr("$\"\\`", s[1]))
					s++;
				tmp[k++] = *s++;
			}
			s += s < e; /* the closing quote */
		} else if (c == '\'') {
			while (s < e && *s != '\'' && k < sizeof(tmp) - 1)
				tmp[k++] = *s++;
			s += s < e;
		} else if (c == '\\') {
			if (s < e)
				tmp[k++] = *s++;
		} else if (is_space(c)) {
			break;
		} else {
			tmp[k++] = c;
		}
	}
	span_copy(dst, n, tmp, tmp + k);
}

int si_parse_os_release(const char *buf, size_t len, struct si_os *out)
{
	const char *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		size_t n = line_len(p, end);
		const char *s = p, *le = p + n, *k, *eq;

		p = le + (le < end);
		while (s < le && is_space(*s))
			s++;
		if (s == le || *s == '#')
			continue;
		k = s;
		while (s < le && (is_digit(*s) || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
				  (*s >= 'a' && *s <= 'z')))
			s++;
		eq = s;
		if (eq == k || eq >= le || *eq != '=')
			continue;
		s = eq + 1;
		if (span_eq(k, eq, "NAME"))
			os_value(out->name, sizeof(out->name), s, le);
		else if (span_eq(k, eq, "ID"))
			os_value(out->id, sizeof(out->id), s, le);
		else if (span_eq(k, eq, "VERSION"))
			os_value(out->version, sizeof(out->version), s, le);
		else if (span_eq(k, eq, "VERSION_ID"))
			os_value(out->version_id, sizeof(out->version_id), s, le);
		else if (span_eq(k, eq, "PRETTY_NAME"))
			os_value(out->pretty_name, sizeof(out->pretty_name), s, le);
		else if (span_eq(k, eq, "BUILD_ID"))
			os_value(out->build_id, sizeof(out->build_id), s, le);
	}
	if (!out->name[0])
		strcpy(out->name, "Linux");
	if (!out->id[0])
		strcpy(out->id, "linux");
	if (!out->pretty_name[0])
		strcpy(out->pretty_name, "Linux");
	return 0;
}

/* ---- /proc/cpuinfo ---- */

/* ARM cores by (implementer, part), after the kernel's and util-linux's
 * tables: what aarch64 kernels print instead of a model name. */
static const struct arm_part {
	uint16_t impl, part;
	const char *name;
} arm_parts[] = {
    {0x41, 0xb76, "ARM1176"},
    {0x41, 0xc07, "Cortex-A7"},
    {0x41, 0xc08, "Cortex-A8"},
    {0x41, 0xc09, "Cortex-A9"},
    {0x41, 0xc0d, "Cortex-A17"},
    {0x41, 0xc0f, "Cortex-A15"},
    {0x41, 0xd01, "Cortex-A32"},
    {0x41, 0xd03, "Cortex-A53"},
    {0x41, 0xd04, "Cortex-A35"},
    {0x41, 0xd05, "Cortex-A55"},
    {0x41, 0xd06, "Cortex-A65"},
    {0x41, 0xd07, "Cortex-A57"},
    {0x41, 0xd08, "Cortex-A72"},
    {0x41, 0xd09, "Cortex-A73"},
    {0x41, 0xd0a, "Cortex-A75"},
    {0x41, 0xd0b, "Cortex-A76"},
    {0x41, 0xd0c, "Neoverse-N1"},
    {0x41, 0xd0d, "Cortex-A77"},
    {0x41, 0xd40, "Neoverse-V1"},
    {0x41, 0xd41, "Cortex-A78"},
    {0x41, 0xd44, "Cortex-X1"},
    {0x41, 0xd46, "Cortex-A510"},
    {0x41, 0xd47, "Cortex-A710"},
    {0x41, 0xd48, "Cortex-X2"},
    {0x41, 0xd49, "Neoverse-N2"},
    {0x41, 0xd4b, "Cortex-A78C"},
    {0x41, 0xd4d, "Cortex-A715"},
    {0x41, 0xd4e, "Cortex-X3"},
    {0x41, 0xd4f, "Neoverse-V2"},
    {0x41, 0xd80, "Cortex-A520"},
    {0x41, 0xd81, "Cortex-A720"},
    {0x41, 0xd82, "Cortex-X4"},
    {0x46, 0x001, "A64FX"},
    {0x48, 0xd01, "TaiShan-v110"},
    {0x4e, 0x004, "Carmel"},
    {0x50, 0x000, "X-Gene"},
    {0x51, 0x800, "Kryo-2XX-Gold"},
    {0x51, 0x801, "Kryo-2XX-Silver"},
    {0x51, 0x803, "Kryo-3XX-Silver"},
    {0x51, 0x804, "Kryo-4XX-Gold"},
    {0x51, 0x805, "Kryo-4XX-Silver"},
    {0x61, 0x022, "Apple-M1-Icestorm"},
    {0x61, 0x023, "Apple-M1-Firestorm"},
    {0xc0, 0xac3, "Ampere-1"},
};

static const char *arm_part_name(unsigned int impl, unsigned int part)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(arm_parts); i++)
		if (arm_parts[i].impl == impl && arm_parts[i].part == part)
			return arm_parts[i].name;
	return NULL;
}

/* Append name to the ", "-joined list in dst (size n) unless it is there. */
static void join_distinct(char *dst, size_t n, const char *name)
{
	size_t dl = strlen(dst), nl = strlen(name);
	const char *p = dst;

	if (!nl)
		return;
	while ((p = strstr(p, name))) {
		if ((p == dst || (p >= dst + 2 && p[-2] == ',' && p[-1] == ' ')) &&
		    (p[nl] == '\0' || p[nl] == ','))
			return;
		p += nl;
	}
	if (dl + (dl ? 2 : 0) + nl >= n)
		return; /* keep whole names only */
	if (dl) {
		memcpy(dst + dl, ", ", 2);
		dl += 2;
	}
	memcpy(dst + dl, name, nl + 1);
}

/* A hex or decimal number ("0x41", "65"); -1 when it is neither. */
static long parse_num(const char *s, const char *e)
{
	long x = 0;
	int base = 10, any = 0;

	if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; s < e; s++, any = 1) {
		int d;

		if (is_digit(*s))
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (x > 0xffffff)
			return -1;
		x = x * base + d;
	}
	return any ? x : -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define CPUINFO_MAX_IDS 8192

/* Sort ids[0..n) and count distinct values. */
static uint32_t count_distinct(uint64_t *ids, size_t n)
{
	uint32_t d = 0;
	size_t i;

	qsort(ids, n, sizeof(*ids), cmp_u64);
	for (i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			d++;
	return d;
}

int si_parse_cpuinfo(const char *buf, size_t len, struct si_cpuinfo *out)
{
	const char *p = buf, *end = buf + len;
	/* per key, in order of preference below the ARM core names */
	char model_name[SI_STR] = "", processor[SI_STR] = "", cpu_model[SI_STR] = "",
	     cpu[SI_STR] = "", uarch[SI_STR] = "", vendor[SI_STR] = "", arm[SI_STR] = "",
	     val[SI_STR];
	uint64_t *cores = malloc(CPUINFO_MAX_IDS * sizeof(uint64_t)),
		 *socks = malloc(CPUINFO_MAX_IDS * sizeof(uint64_t));
	size_t ncores = 0, nsocks = 0;
	long phys = -1, core = -1, impl = -1, part;
	uint32_t threads = 0;
	int unknown_arm = 0;

	if (!cores || !socks) {
		free(cores);
		free(socks);
		return -ENOMEM;
	}
	memset(out, 0, sizeof(*out));
	for (;;) {
		size_t n = p < end ? line_len(p, end) : 0;
		const char *s = p, *le = p + n, *colon = p < end ? memchr(p, ':', n) : NULL, *ke,
			   *vs, *ve;
		int new_block = p >= end || n == 0;

		if (colon) {
			ke = colon;
			vs = colon + 1;
			ve = le;
			trim(&s, &ke);
			trim(&vs, &ve);
			/* "processor : 0" (most), "processor 0: ..." (s390) */
			if (span_eq(s, ke, "processor") ||
			    (ke - s > 10 && !memcmp(s, "processor ", 10) && is_digit(s[10]))) {
				new_block = 1;
				threads++;
			}
		}
		if (new_block && phys >= 0 && core >= 0 && ncores < CPUINFO_MAX_IDS)
			cores[ncores++] = ((uint64_t)phys << 32) | (uint64_t)core;
		if (new_block && phys >= 0 && nsocks < CPUINFO_MAX_IDS)
			socks[nsocks++] = (uint64_t)phys;
		if (new_block)
			phys = core = -1;
		if (p >= end)
			break;
		p = le + (le < end);
		if (!colon)
			continue;
		span_copy(val, sizeof(val), vs, ve);
		if (span_eq(s, ke, "model name"))
			join_distinct(model_name, sizeof(model_name), val);
		else if (span_eq(s, ke, "Processor"))
			join_distinct(processor, sizeof(processor), val);
		else if (span_eq(s, ke, "cpu model"))
			join_distinct(cpu_model, sizeof(cpu_model), val);
		else if (span_eq(s, ke, "cpu")) {
			val[strcspn(val, ",")] = '\0'; /* "POWER9 (raw), altivec supported" */
			join_distinct(cpu, sizeof(cpu), val);
		} else if (span_eq(s, ke, "uarch"))
			join_distinct(uarch, sizeof(uarch), val);
		else if (span_eq(s, ke, "vendor_id"))
			join_distinct(vendor, sizeof(vendor), val);
		else if (span_eq(s, ke, "physical id"))
			phys = parse_num(vs, ve);
		else if (span_eq(s, ke, "core id"))
			core = parse_num(vs, ve);
		else if (span_eq(s, ke, "CPU implementer"))
			impl = parse_num(vs, ve);
		else if (span_eq(s, ke, "CPU part")) {
			const char *name;

			part = parse_num(vs, ve);
			name = impl >= 0 && part >= 0
				   ? arm_part_name((unsigned)impl, (unsigned)part)
				   : NULL;
			if (name) {
				join_distinct(arm, sizeof(arm), name);
			} else if (impl >= 0 && part >= 0) {
				snprintf(val, sizeof(val), "ARM implementer 0x%lx part 0x%lx", impl,
					 part);
				join_distinct(arm, sizeof(arm), val);
				unknown_arm = 1;
			}
		}
	}
	if (threads == 0) {
		free(cores);
		free(socks);
		return -EINVAL;
	}
	out->threads = threads;
	out->cores = ncores ? count_distinct(cores, ncores) : threads;
	out->sockets = nsocks ? count_distinct(socks, nsocks) : 1;
	free(cores);
	free(socks);
	/* an ARM core we know by name says more than "ARMv7 Processor rev 4" */
	if (arm[0] && !unknown_arm)
		strcpy(out->model, arm);
	else if (model_name[0])
		strcpy(out->model, model_name);
	else if (processor[0])
		strcpy(out->model, processor);
	else if (arm[0])
		strcpy(out->model, arm);
	else if (cpu_model[0])
		strcpy(out->model, cpu_model);
	else if (cpu[0])
		strcpy(out->model, cpu);
	else if (uarch[0])
		strcpy(out->model, uarch);
	else
		strcpy(out->model, vendor);
	return 0;
}

/* ---- /proc/stat ---- */

int si_parse_proc_stat(const char *buf, size_t len, struct si_cpu_times *cpu, uint64_t *btime)
{
	const char *p = buf, *end = buf + len;
	int got_cpu = 0, got_btime = 0;

	while (p < end && ((cpu && !got_cpu) || (btime && !got_btime))) {
		size_t n = line_len(p, end);
		const char *s = p, *le = p + n;

		p = le + (le < end);
		if (cpu && !got_cpu && n > 4 && !memcmp(s, "cpu ", 4)) {
			uint64_t v[8] = {0};
			int i;

			s += 4;
			for (i = 0; i < 8; i++) {
				while (s < le && is_space(*s))
					s++;
				if (s == le)
					break;
				if (span_u64(&s, le, &v[i]))
					return -EINVAL;
			}
			if (i < 4) /* user nice system idle at least */
				return -EINVAL;
			cpu->user = v[0];
			cpu->nice = v[1];
			cpu->system = v[2];
			cpu->idle = v[3];
			cpu->iowait = v[4];
			cpu->irq = v[5];
			cpu->softirq = v[6];
			cpu->steal = v[7];
			got_cpu = 1;
		} else if (btime && !got_btime && n > 6 && !memcmp(s, "btime ", 6)) {
			s += 6;
			while (s < le && is_space(*s))
				s++;
			if (span_u64(&s, le, btime))
				return -EINVAL;
			got_btime = 1;
		}
	}
	if ((cpu && !got_cpu) || (btime && !got_btime))
		return -EINVAL;
	return 0;
}

static uint64_t cpu_total(const struct si_cpu_times *t)
{
	return t->user + t->nice + t->system + t->idle + t->iowait + t->irq + t->softirq + t->steal;
}

void si_cpu_usage(const struct si_cpu_times *a, const struct si_cpu_times *b, double *busy_pct,
		  double *iowait_pct)
{
	uint64_t ta = cpu_total(a), tb = cpu_total(b);
	uint64_t ia = a->idle + a->iowait, ib = b->idle + b->iowait;

	*busy_pct = *iowait_pct = -1;
	if (tb <= ta || ib < ia || b->iowait < a->iowait || tb - ta < ib - ia)
		return;
	*busy_pct = 100.0 * (double)((tb - ta) - (ib - ia)) / (double)(tb - ta);
	*iowait_pct = 100.0 * (double)(b->iowait - a->iowait) / (double)(tb - ta);
}

/* ---- /proc/loadavg ---- */

/* "12.34" → 12.34, by hand (no locale). */
static int span_decimal(const char **p, const char *end, double *out)
{
	uint64_t ip, fp = 0;
	double scale = 1;

	if (span_u64(p, end, &ip))
		return -EINVAL;
	if (*p < end && **p == '.') {
		(*p)++;
		while (*p < end && is_digit(**p)) {
			if (scale < 1e12) {
				fp = fp * 10 + (uint64_t)(**p - '0');
				scale *= 10;
			}
			(*p)++;
		}
	}
	*out = (double)ip + (double)fp / scale;
	return 0;
}

int si_parse_loadavg(const char *buf, size_t len, struct si_load *out)
{
	const char *p = buf, *end = buf + len;
	uint64_t r, t;
	int i;

	for (i = 0; i < 3; i++) {
		while (p < end && is_space(*p))
			p++;
		if (span_decimal(&p, end, &out->avg[i]))
			return -EINVAL;
	}
	while (p < end && is_space(*p))
		p++;
	if (span_u64(&p, end, &r) || p >= end || *p != '/')
		return -EINVAL;
	p++;
	if (span_u64(&p, end, &t) || r > UINT32_MAX || t > UINT32_MAX)
		return -EINVAL;
	out->running = (uint32_t)r;
	out->total = (uint32_t)t;
	return 0;
}

/* ---- /sys/devices/system/cpu/online ---- */

int si_parse_cpu_list(const char *buf, size_t len, uint32_t *n)
{
	const char *p = buf, *end = buf + len;
	uint64_t a, b, count = 0;

	while (end > p && (end[-1] == '\n' || is_space(end[-1])))
		end--;
	if (p == end)
		return -EINVAL;
	while (p < end) {
		if (span_u64(&p, end, &a))
			return -EINVAL;
		b = a;
		if (p < end && *p == '-') {
			p++;
			if (span_u64(&p, end, &b) || b < a)
				return -EINVAL;
		}
		count += b - a + 1;
		if (count > UINT32_MAX)
			return -ERANGE;
		if (p < end && (*p++ != ',' || p == end))
			return -EINVAL;
	}
	*n = (uint32_t)count;
	return 0;
}

/* ---- mountinfo ---- */

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* mount is p or below it */
static int path_under(const char *mount, const char *p)
{
	size_t n = strlen(p);

	return !strncmp(mount, p, n) && (mount[n] == '\0' || mount[n] == '/');
}

enum si_fs_kind si_fs_classify(const char *fstype, const char *mount)
{
	static const char *const pseudo[] = {
	    "proc",
	    "sysfs",
	    "devtmpfs",
	    "devpts",
	    "cgroup",
	    "cgroup2",
	    "securityfs",
	    "debugfs",
	    "tracefs",
	    "configfs",
	    "fusectl",
	    "mqueue",
	    "hugetlbfs",
	    "pstore",
	    "bpf",
	    "binfmt_misc",
	    "autofs",
	    "rpc_pipefs",
	    "nsfs",
	    "efivarfs",
	    "selinuxfs",
	    "nfsd",
	    "rootfs",
	    "sockfs",
	    "pipefs",
	    "devfs",
	    "usbfs",
	    "xenfs",
	    "ipathfs",
	    "smackfs",
	    "apparmorfs",
	    "squashfs",
	    "erofs",
	    "cramfs",
	    "fuse.lxcfs",
	    "fuse.snapfuse",
	    "fuse.gvfsd-fuse",
	    "fuse.portal",
	    "fuse.gvfs-fuse-daemon",
	    "fuse.kio-fuse",
	    "fuse.xdg-document-portal",
	    "binder",
	    NULL,
	};
	static const char *const root_only[] = {
	    "tmpfs", "ramfs", "overlay", "aufs", "fuse-overlayfs", "fuse.fuse-overlayfs", NULL};
	static const char *const remote[] = {"nfs",	    "nfs4",	 "cifs",
					     "smb3",	    "smbfs",	 "ncpfs",
					     "ceph",	    "glusterfs", "fuse.glusterfs",
					     "fuse.sshfs",  "fuse.s3fs", "fuse.rclone",
					     "fuse.cephfs", "9p",	 "afs",
					     "lustre",	    "davfs",	 "fuse.davfs",
					     "virtiofs",    "beegfs",	 "gpfs",
					     "ocfs2",	    "gfs2",	 NULL};

	if (!fstype[0] || !mount[0] || mount[0] != '/')
		return SI_FS_SKIP;
	if (in_list(fstype, pseudo))
		return SI_FS_SKIP;
	if (in_list(fstype, root_only))
		return strcmp(mount, "/") ? SI_FS_SKIP : SI_FS_LOCAL;
	if (path_under(mount, "/proc") || path_under(mount, "/sys") || path_under(mount, "/dev"))
		return SI_FS_SKIP;
	if (in_list(fstype, remote))
		return SI_FS_REMOTE;
	if (!strncmp(fstype, "fuse", 4) && strcmp(fstype, "fuseblk")) {
		if (path_under(mount, "/run/user"))
			return SI_FS_SKIP;
		return SI_FS_FUSE;
	}
	return SI_FS_LOCAL;
}

/* Copy a mountinfo field [s, e) into dst (size n), decoding the kernel's
 * octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
static void mi_unescape(char *dst, size_t n, const char *s, const char *e)
{
	char tmp[SI_PATH * 2];
	size_t k = 0;

	while (s < e && k < sizeof(tmp) - 1) {
		if (*s == '\\' && e - s >= 4 && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			tmp[k++] = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			tmp[k++] = *s++;
		}
	}
	span_copy(dst, n, tmp, tmp + k);
}

/* The next space-separated field of [*p, end). 0 when there is none. */
static int mi_field(const char **p, const char *end, const char **s, const char **e)
{
	while (*p < end && **p == ' ')
		(*p)++;
	if (*p >= end)
		return 0;
	*s = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	*e = *p;
	return 1;
}

int si_parse_mountinfo(const char *buf, size_t len, struct si_fs *out, size_t max, size_t *n,
		       size_t *more)
{
	const char *p = buf, *end = buf + len;
	size_t kept = 0, extra = 0;

	while (p < end) {
		size_t ll = line_len(p, end), i;
		const char *q = p, *le = p + ll, *f[10][2], *s, *e;
		char devno[32];
		unsigned long maj, min;
		struct si_fs fs;
		enum si_fs_kind kind;
		int nf = 0, dup = -1;
		char *colon;

		p = le + (le < end);
		/* id parent maj:min root mount opts [optional...] - fstype source superopts */
		while (nf < 6 && mi_field(&q, le, &f[nf][0], &f[nf][1]))
			nf++;
		if (nf < 6)
			continue;
		while (mi_field(&q, le, &s, &e) && !span_eq(s, e, "-"))
			;
		if (q >= le || !mi_field(&q, le, &f[6][0], &f[6][1]) ||
		    !mi_field(&q, le, &f[7][0], &f[7][1]))
			continue;
		memset(&fs, 0, sizeof(fs));
		span_copy(fs.fstype, sizeof(fs.fstype), f[6][0], f[6][1]);
		mi_unescape(fs.mount, sizeof(fs.mount), f[4][0], f[4][1]);
		kind = si_fs_classify(fs.fstype, fs.mount);
		if (kind == SI_FS_SKIP)
			continue;
		mi_unescape(fs.source, sizeof(fs.source), f[7][0], f[7][1]);
		span_copy(devno, sizeof(devno), f[2][0], f[2][1]); /* maj:min */
		colon = strchr(devno, ':');
		if (!colon)
			continue;
		*colon = '\0';
		maj = strtoul(devno, NULL, 10);
		min = strtoul(colon + 1, NULL, 10);
		fs.major = (uint32_t)maj;
		fs.minor = (uint32_t)min;
		fs.remote = kind == SI_FS_REMOTE;
		fs.may_block = kind == SI_FS_REMOTE || kind == SI_FS_FUSE;
		/* one filesystem once: by device number; by source when it is a path */
		for (i = 0; i < kept && dup < 0; i++)
			if ((out[i].major == fs.major && out[i].minor == fs.minor) ||
			    (fs.source[0] == '/' && !strcmp(out[i].source, fs.source) &&
			     !strcmp(out[i].fstype, fs.fstype)))
				dup = (int)i;
		if (dup >= 0)
			continue;
		if (kept < max)
			out[kept++] = fs;
		else
			extra++;
	}
	*n = kept;
	*more = extra;
	return 0;
}

/* ---- changes ---- */

static int fs_same(const struct si_fs *a, const struct si_fs *b)
{
	return !strcmp(a->mount, b->mount) && !strcmp(a->source, b->source) &&
	       !strcmp(a->fstype, b->fstype);
}

/* Is every filesystem of a in b? */
static int fs_subset(const struct si_snapshot *a, const struct si_snapshot *b)
{
	size_t i, j;

	for (i = 0; i < a->n_fs; i++) {
		for (j = 0; j < b->n_fs && !fs_same(&a->fs[i], &b->fs[j]); j++)
			;
		if (j == b->n_fs)
			return 0;
	}
	return 1;
}

unsigned int sysinfo_changes(const struct si_snapshot *o, const struct si_snapshot *c)
{
	unsigned int m = 0;

	if (o->hostname[0] && c->hostname[0] && strcmp(o->hostname, c->hostname))
		m |= SI_CHANGE_HOSTNAME;
	if (o->have_os && c->have_os &&
	    (strcmp(o->os.name, c->os.name) || strcmp(o->os.id, c->os.id) ||
	     strcmp(o->os.version_id, c->os.version_id) || strcmp(o->os.version, c->os.version) ||
	     strcmp(o->os.build_id, c->os.build_id)))
		m |= SI_CHANGE_OS;
	if (o->kernel_release[0] && c->kernel_release[0] &&
	    strcmp(o->kernel_release, c->kernel_release))
		m |= SI_CHANGE_KERNEL;
	if (o->cpus_online && c->cpus_online && o->cpus_online != c->cpus_online)
		m |= SI_CHANGE_CPUS;
	if (o->have_mem && c->have_mem && o->mem.total != c->mem.total)
		m |= SI_CHANGE_MEMORY;
	if (o->have_mem && c->have_mem && o->mem.swap_total != c->mem.swap_total)
		m |= SI_CHANGE_SWAP;
	if (o->have_fs && c->have_fs &&
	    (o->n_fs + o->fs_more != c->n_fs + c->fs_more || !fs_subset(o, c) || !fs_subset(c, o)))
		m |= SI_CHANGE_FILESYSTEMS;
	return m;
}

/* ---- the record ---- */

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v && v[0])
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_pct(cJSON *o, const char *key, double v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)(int64_t)(v * 10 + 0.5) / 10);
}

char *record_sysinfo(const struct record_ctx *c, int64_t ts_ms, enum si_reason reason,
		     unsigned int changed, const struct si_snapshot *s, const struct si_usage *u)
{
	static const char *const reasons[] = {"start", "interval", "change"};
	static const char *const change_names[] = {"hostname", "os",   "kernel",     "cpus",
						   "memory",   "swap", "filesystems"};
	char ts[RFC3339_LEN];
	cJSON *o = record_new(c, "sysinfo", ts_ms), *x, *arr, *e;
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "reason", reasons[reason]);
	if (reason == SI_CHANGE) {
		arr = cJSON_AddArrayToObject(o, "changed");
		for (i = 0; arr && i < ARRAY_SIZE(change_names); i++)
			if (changed & (1u << i))
				cJSON_AddItemToArray(arr, cJSON_CreateString(change_names[i]));
	}
	add_str_or_null(o, "hostname", s->hostname);

	if (s->have_os) {
		x = cJSON_AddObjectToObject(o, "os");
		if (x) {
			cJSON_AddStringToObject(x, "name", s->os.name);
			cJSON_AddStringToObject(x, "id", s->os.id);
			add_str_or_null(x, "version", s->os.version);
			add_str_or_null(x, "version_id", s->os.version_id);
			cJSON_AddStringToObject(x, "pretty_name", s->os.pretty_name);
			if (s->os.build_id[0])
				cJSON_AddStringToObject(x, "build_id", s->os.build_id);
		}
	} else {
		cJSON_AddNullToObject(o, "os");
	}

	x = cJSON_AddObjectToObject(o, "kernel");
	if (x) {
		add_str_or_null(x, "release", s->kernel_release);
		add_str_or_null(x, "version", s->kernel_version);
		add_str_or_null(x, "arch", s->arch);
	}
	if (s->btime)
		cJSON_AddStringToObject(o, "boot_time", rfc3339_ms((int64_t)s->btime * 1000, ts));
	else
		cJSON_AddNullToObject(o, "boot_time");

	x = cJSON_AddObjectToObject(o, "cpu");
	if (x) {
		if (s->have_cpuinfo) {
			add_str_or_null(x, "model", s->cpu.model);
			cJSON_AddNumberToObject(x, "sockets", s->cpu.sockets);
			cJSON_AddNumberToObject(x, "cores", s->cpu.cores);
			cJSON_AddNumberToObject(x, "threads", s->cpu.threads);
		} else {
			cJSON_AddNullToObject(x, "model");
		}
		if (s->cpus_online)
			cJSON_AddNumberToObject(x, "online", s->cpus_online);
		if (s->have_load) {
			double l[3];

			for (i = 0; i < 3; i++)
				l[i] = s->load.avg[i];
			cJSON_AddItemToObject(x, "load", cJSON_CreateDoubleArray(l, 3));
		} else {
			cJSON_AddNullToObject(x, "load");
		}
		add_pct(x, "usage_pct", u ? u->busy_pct : -1);
		add_pct(x, "iowait_pct", u ? u->iowait_pct : -1);
		if (u && u->busy_pct >= 0)
			cJSON_AddNumberToObject(x, "usage_window_s",
						(double)(int64_t)(u->window_s + 0.5));
	}

	if (s->have_mem) {
		x = cJSON_AddObjectToObject(o, "memory");
		if (x) {
			cJSON_AddNumberToObject(x, "total", (double)s->mem.total);
			cJSON_AddNumberToObject(x, "available", (double)s->mem.available);
			if (s->mem.available_estimated)
				cJSON_AddTrueToObject(x, "available_estimated");
			cJSON_AddNumberToObject(x, "swap_total", (double)s->mem.swap_total);
			cJSON_AddNumberToObject(x, "swap_free", (double)s->mem.swap_free);
		}
	} else {
		cJSON_AddNullToObject(o, "memory");
	}

	arr = s->have_fs ? cJSON_AddArrayToObject(o, "filesystems")
			 : cJSON_AddNullToObject(o, "filesystems");
	for (i = 0; s->have_fs && arr && i < s->n_fs; i++) {
		const struct si_fs *f = &s->fs[i];

		e = cJSON_CreateObject();
		if (!e)
			break;
		cJSON_AddStringToObject(e, "mount", f->mount);
		cJSON_AddStringToObject(e, "source", f->source);
		cJSON_AddStringToObject(e, "fstype", f->fstype);
		if (f->remote)
			cJSON_AddTrueToObject(e, "remote");
		if (f->have_size) {
			cJSON_AddNumberToObject(e, "total", (double)f->total);
			cJSON_AddNumberToObject(e, "free", (double)f->free);
			cJSON_AddNumberToObject(e, "avail", (double)f->avail);
		} else {
			cJSON_AddNullToObject(e, "total");
			cJSON_AddNullToObject(e, "free");
			cJSON_AddNullToObject(e, "avail");
			cJSON_AddStringToObject(e, "error",
						f->err == -ETIMEDOUT ? "timeout"
						: f->err	     ? strerror(-f->err)
								     : "unknown");
		}
		cJSON_AddItemToArray(arr, e);
	}
	if (s->fs_more)
		cJSON_AddNumberToObject(o, "filesystems_more", (double)s->fs_more);
	return record_finish(o);
}
