// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_sysinfo.c - the sysinfo parsers on fixtures of several distributions
 * and architectures (tests/unit/fixtures/sysinfo/), the pseudo-filesystem
 * filter, the change rule, the record, the settings key, and the daemon's
 * collector (user/agent/sysinfo_mon.c, included here: unit tests link only lib/)
 * over a fixture root with a fake statvfs, including a hanging network
 * filesystem.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "sysinfo.h"
#include "util.h"

#include "../../user/agent/sysinfo_mon.c"

static const char *fixture_dir(void)
{
	static char dir[512];
	const char *root = getenv("ROOT");

	snprintf(dir, sizeof(dir), "%s/tests/unit/fixtures/sysinfo", root ? root : ".");
	return dir;
}

/* A fixture in a heap buffer of exactly its size (no NUL), so ASan flags
 * any read past len. Exits 2 when it is missing: the test cannot run. */
static char *fx(const char *rel, size_t *len)
{
	char path[1024], *text = NULL, *exact;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), rel);
	if (read_file(path, SI_MAX_FILE, &text, len)) {
		printf("missing fixture %s\n", path);
		exit(2);
	}
	exact = malloc(*len ? *len : 1);
	memcpy(exact, text, *len);
	free(text);
	return exact;
}

static char *dup_exact(const char *s, size_t *len)
{
	char *p;

	*len = strlen(s);
	p = malloc(*len ? *len : 1);
	memcpy(p, s, *len);
	return p;
}

/* ---- os-release ---- */

TEST(os_release_distros)
{
	static const struct {
		const char *dir, *name, *id, *version, *version_id, *pretty, *build_id;
	} t[] = {
	    {"debian12", "Debian GNU/Linux", "debian", "12 (bookworm)", "12",
	     "Debian GNU/Linux 12 (bookworm)", ""},
	    {"ubuntu2204", "Ubuntu", "ubuntu", "22.04.3 LTS (Jammy Jellyfish)", "22.04",
	     "Ubuntu 22.04.3 LTS", ""},
	    {"fedora39", "Fedora Linux", "fedora", "39 (Workstation Edition)", "39",
	     "Fedora Linux 39 (Workstation Edition)", ""},
	    {"alpine319", "Alpine Linux", "alpine", "", "3.19.1", "Alpine Linux v3.19", ""},
	    {"arch", "Arch Linux", "arch", "", "", "Arch Linux", "rolling"},
	};
	char rel[128];
	struct si_os os;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		char *b;

		snprintf(rel, sizeof(rel), "%s/os-release", t[i].dir);
		b = fx(rel, &len);
		CHECK_EQ(si_parse_os_release(b, len, &os), 0);
		CHECK_STR(os.name, t[i].name);
		CHECK_STR(os.id, t[i].id);
		CHECK_STR(os.version, t[i].version);
		CHECK_STR(os.version_id, t[i].version_id);
		CHECK_STR(os.pretty_name, t[i].pretty);
		CHECK_STR(os.build_id, t[i].build_id);
		free(b);
	}
}

TEST(os_release_quoting)
{
	const char *text = "# a comment\n"
			   "  NAME='My \"OS\"'\n"
			   "ID=my-os\n"
			   "VERSION=\"1.0 \\\"beta\\\" \\$HOME \\\\ end\"\n"
			   "VERSION_ID=1.0   # trailing words are not the value\n"
			   "PRETTY_NAME=\"unterminated\n"
			   "garbage line\n"
			   "=novalue\n"
			   "BUILD_ID=a\"b c\"d\x01\n"
			   "ID=second-wins";
	struct si_os os;
	size_t len;
	char *b = dup_exact(text, &len);

	CHECK_EQ(si_parse_os_release(b, len, &os), 0);
	CHECK_STR(os.name, "My \"OS\"");
	CHECK_STR(os.version, "1.0 \"beta\" $HOME \\ end");
	CHECK_STR(os.version_id, "1.0");
	CHECK_STR(os.pretty_name, "unterminated");
	CHECK_STR(os.build_id, "ab cd?");
	CHECK_STR(os.id, "second-wins");
	free(b);
	/* an empty file: the defaults of os-release(5) */
	CHECK_EQ(si_parse_os_release("", 0, &os), 0);
	CHECK_STR(os.name, "Linux");
	CHECK_STR(os.id, "linux");
	CHECK_STR(os.pretty_name, "Linux");
	CHECK_STR(os.version_id, "");
}

/* ---- meminfo ---- */

TEST(meminfo_distros)
{
	static const struct {
		const char *dir;
		uint64_t total_kb, avail_kb, swap_kb, swapfree_kb;
	} t[] = {
	    {"debian12", 16100916, 12433340, 999420, 999420},
	    {"ubuntu2204", 32779348, 28433340, 2097148, 1887436},
	    {"fedora39", 65682832, 58433340, 8388604, 8388604},
	    {"alpine319", 2014036, 1733340, 0, 0},
	    {"arch", 31907624, 26433340, 33554428, 33554428},
	};
	struct si_mem m;
	char rel[128];
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		char *b;

		snprintf(rel, sizeof(rel), "%s/meminfo", t[i].dir);
		b = fx(rel, &len);
		CHECK_EQ(si_parse_meminfo(b, len, &m), 0);
		CHECK_EQ(m.total, t[i].total_kb * 1024);
		CHECK_EQ(m.available, t[i].avail_kb * 1024);
		CHECK_EQ(m.available_estimated, 0);
		CHECK_EQ(m.swap_total, t[i].swap_kb * 1024);
		CHECK_EQ(m.swap_free, t[i].swapfree_kb * 1024);
		free(b);
	}
}

TEST(meminfo_old_kernel_and_bad_input)
{
	struct si_mem m;
	size_t len;
	char *b = fx("other/meminfo-2.6.32", &len);

	CHECK_EQ(si_parse_meminfo(b, len, &m), 0);
	CHECK_EQ(m.total, 3922944ULL * 1024);
	/* no MemAvailable before 3.14: MemFree + Buffers + Cached */
	CHECK_EQ(m.available, (254372ULL + 203444 + 2684500) * 1024);
	CHECK_EQ(m.available_estimated, 1);
	CHECK_EQ(m.swap_total, 4128760ULL * 1024);
	free(b);

	b = dup_exact("MemFree: 10 kB\nSwapTotal: 5 kB\n", &len);
	CHECK_EQ(si_parse_meminfo(b, len, &m), -EINVAL);
	free(b);
	b = dup_exact("MemTotal: lots kB\n", &len);
	CHECK_EQ(si_parse_meminfo(b, len, &m), -EINVAL);
	free(b);
	/* the last line without a newline, and a value past 64 bits */
	b = dup_exact("MemAvailable: 99999999999999999999999 kB\nMemTotal: 1024 kB", &len);
	CHECK_EQ(si_parse_meminfo(b, len, &m), 0);
	CHECK_EQ(m.total, 1024 * 1024);
	free(b);
	CHECK_EQ(si_parse_meminfo("", 0, &m), -EINVAL);
}

/* ---- cpuinfo ---- */

TEST(cpuinfo_fixtures)
{
	static const struct {
		const char *file, *model;
		uint32_t threads, cores, sockets;
	} t[] = {
	    {"debian12/cpuinfo", "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz", 8, 4, 1},
	    {"ubuntu2204/cpuinfo", "AMD Ryzen 5 5600X 6-Core Processor", 12, 6, 1},
	    /* two sockets, sparse core ids */
	    {"fedora39/cpuinfo", "Intel(R) Xeon(R) CPU E5-2623 v4 @ 2.60GHz", 16, 8, 2},
	    /* QEMU -smp 2: two sockets of one core */
	    {"alpine319/cpuinfo", "QEMU Virtual CPU version 2.5+", 2, 2, 2},
	    /* hybrid: 4 P-cores with two threads, 8 E-cores */
	    {"arch/cpuinfo", "12th Gen Intel(R) Core(TM) i7-1260P", 16, 12, 1},
	    {"other/cpuinfo-rpi4-aarch64", "Cortex-A72", 4, 4, 1},
	    {"other/cpuinfo-rk3399-aarch64", "Cortex-A53, Cortex-A72", 6, 6, 1},
	    /* old kernel: the "Processor" header and one set of ids at the end */
	    {"other/cpuinfo-rpi2-armv7-3.18", "Cortex-A7", 4, 4, 1},
	    /* a known core says more than "ARMv7 Processor rev 4 (v7l)" */
	    {"other/cpuinfo-rpi3-armv7", "Cortex-A53", 4, 4, 1},
	    {"other/cpuinfo-power9-ppc64le", "POWER9 (raw)", 4, 4, 1},
	    {"other/cpuinfo-unknown-aarch64", "ARM implementer 0x6d part 0x123", 2, 2, 1},
	};
	struct si_cpuinfo c;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		char *b = fx(t[i].file, &len);

		CHECK_EQ(si_parse_cpuinfo(b, len, &c), 0);
		CHECK_STR(c.model, t[i].model);
		CHECK_EQ(c.threads, t[i].threads);
		CHECK_EQ(c.cores, t[i].cores);
		CHECK_EQ(c.sockets, t[i].sockets);
		if (check_failed_now)
			printf("  (fixture %s)\n", t[i].file);
		free(b);
	}
}

TEST(cpuinfo_s390_and_bad_input)
{
	const char *s390 = "vendor_id       : IBM/S390\n"
			   "# processors    : 2\n"
			   "bogomips per cpu: 3033.00\n"
			   "features\t: esan3 zarch stfle msa ldisp eimm dfp edat etf3eh highgprs\n"
			   "processor 0: version = FF,  identification = 0133E8,  machine = 2964\n"
			   "processor 1: version = FF,  identification = 0133E8,  machine = 2964\n";
	struct si_cpuinfo c;
	size_t len;
	char *b = dup_exact(s390, &len);

	CHECK_EQ(si_parse_cpuinfo(b, len, &c), 0);
	CHECK_STR(c.model, "IBM/S390");
	CHECK_EQ(c.threads, 2);
	CHECK_EQ(c.cores, 2);
	free(b);
	CHECK_EQ(si_parse_cpuinfo("", 0, &c), -EINVAL);
	b = dup_exact("model name\t: nothing else\n", &len);
	CHECK_EQ(si_parse_cpuinfo(b, len, &c), -EINVAL);
	free(b);
}

/* ---- /proc/stat, loadavg, CPU lists ---- */

TEST(proc_stat)
{
	struct si_cpu_times t;
	uint64_t btime = 0;
	size_t len;
	char *b = fx("debian12/stat", &len);

	CHECK_EQ(si_parse_proc_stat(b, len, &t, &btime), 0);
	CHECK_EQ(t.user, 1479147);
	CHECK_EQ(t.nice, 13591);
	CHECK_EQ(t.system, 412258);
	CHECK_EQ(t.idle, 23016625);
	CHECK_EQ(t.iowait, 39868);
	CHECK_EQ(t.irq, 2749);
	CHECK_EQ(t.softirq, 21174);
	CHECK_EQ(t.steal, 3693); /* guest and guest_nice are not added */
	CHECK_EQ(btime, 1700640000);
	free(b);

	b = fx("other/stat-2.6.9", &len);
	memset(&t, 0xff, sizeof(t));
	CHECK_EQ(si_parse_proc_stat(b, len, &t, NULL), 0);
	CHECK_EQ(t.user, 2255);
	CHECK_EQ(t.softirq, 456);
	CHECK_EQ(t.steal, 0);
	CHECK_EQ(si_parse_proc_stat(b, len, NULL, &btime), 0);
	CHECK_EQ(btime, 1062191376);
	free(b);

	b = dup_exact("cpu  1 2 3 4 5\nintr 1\n", &len);
	CHECK_EQ(si_parse_proc_stat(b, len, &t, NULL), 0);
	CHECK_EQ(si_parse_proc_stat(b, len, &t, &btime), -EINVAL); /* no btime */
	free(b);
	b = dup_exact("cpu  1 2 3\nbtime 5\n", &len);
	CHECK_EQ(si_parse_proc_stat(b, len, &t, NULL), -EINVAL); /* too few fields */
	free(b);
	b = dup_exact("cpu  1 2 x 4\n", &len);
	CHECK_EQ(si_parse_proc_stat(b, len, &t, NULL), -EINVAL);
	free(b);
}

TEST(cpu_usage)
{
	struct si_cpu_times a = {100, 0, 50, 800, 50, 0, 0, 0};
	struct si_cpu_times b = {160, 0, 70, 880, 90, 0, 0, 0};
	double busy, io;

	/* 200 ticks: 80 busy, 40 iowait, 80 idle */
	si_cpu_usage(&a, &b, &busy, &io);
	CHECK(busy > 39.99 && busy < 40.01);
	CHECK(io > 19.99 && io < 20.01);
	si_cpu_usage(&a, &a, &busy, &io);
	CHECK(busy < 0 && io < 0);
	si_cpu_usage(&b, &a, &busy, &io); /* counters went back */
	CHECK(busy < 0 && io < 0);
}

TEST(loadavg)
{
	struct si_load l;
	size_t len;
	char *b = dup_exact("0.52 0.58 0.59 1/389 12345\n", &len);

	CHECK_EQ(si_parse_loadavg(b, len, &l), 0);
	CHECK(l.avg[0] > 0.519 && l.avg[0] < 0.521);
	CHECK(l.avg[2] > 0.589 && l.avg[2] < 0.591);
	CHECK_EQ(l.running, 1);
	CHECK_EQ(l.total, 389);
	free(b);
	b = dup_exact("112.00 3.5 0 10/20000", &len);
	CHECK_EQ(si_parse_loadavg(b, len, &l), 0);
	CHECK(l.avg[0] > 111.99 && l.avg[0] < 112.01);
	CHECK(l.avg[1] > 3.49 && l.avg[1] < 3.51);
	CHECK_EQ(l.total, 20000);
	free(b);
	b = dup_exact("0.52 0.58", &len);
	CHECK_EQ(si_parse_loadavg(b, len, &l), -EINVAL);
	free(b);
	b = dup_exact("a b c 1/2", &len);
	CHECK_EQ(si_parse_loadavg(b, len, &l), -EINVAL);
	free(b);
	b = dup_exact("1.0 1.0 1.0 1", &len);
	CHECK_EQ(si_parse_loadavg(b, len, &l), -EINVAL);
	free(b);
}

TEST(cpu_list)
{
	static const struct {
		const char *s;
		int rc;
		uint32_t n;
	} t[] = {
	    {"0-3\n", 0, 4},	{"0-3,6,8-11\n", 0, 9}, {"0", 0, 1},	     {"0-127", 0, 128},
	    {"", -EINVAL, 0},	{"\n", -EINVAL, 0},	{"3-1", -EINVAL, 0}, {"0,,1", -EINVAL, 0},
	    {"0-", -EINVAL, 0}, {"x", -EINVAL, 0},	{"1,", -EINVAL, 0},
	};
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		uint32_t n = 0;
		char *b = dup_exact(t[i].s, &len);

		CHECK_EQ(si_parse_cpu_list(b, len, &n), t[i].rc);
		if (t[i].rc == 0)
			CHECK_EQ(n, t[i].n);
		free(b);
	}
}

/* ---- filesystems ---- */

TEST(fs_classify)
{
	static const struct {
		const char *type, *mount;
		enum si_fs_kind kind;
	} t[] = {
	    {"ext4", "/", SI_FS_LOCAL},
	    {"xfs", "/data", SI_FS_LOCAL},
	    {"btrfs", "/home", SI_FS_LOCAL},
	    {"vfat", "/boot/efi", SI_FS_LOCAL},
	    {"zfs", "/tank", SI_FS_LOCAL},
	    {"iso9660", "/media/cdrom", SI_FS_LOCAL},
	    {"fuseblk", "/media/win", SI_FS_LOCAL},
	    {"proc", "/proc", SI_FS_SKIP},
	    {"sysfs", "/sys", SI_FS_SKIP},
	    {"cgroup", "/sys/fs/cgroup/cpu", SI_FS_SKIP},
	    {"cgroup2", "/sys/fs/cgroup", SI_FS_SKIP},
	    {"devpts", "/dev/pts", SI_FS_SKIP},
	    {"autofs", "/net", SI_FS_SKIP},
	    {"squashfs", "/snap/core22/864", SI_FS_SKIP},
	    {"erofs", "/usr/lib/modules", SI_FS_SKIP},
	    {"tmpfs", "/tmp", SI_FS_SKIP},
	    {"tmpfs", "/", SI_FS_LOCAL},
	    {"overlay", "/var/lib/docker/overlay2/x/merged", SI_FS_SKIP},
	    {"overlay", "/", SI_FS_LOCAL},
	    {"ext4", "/dev/something", SI_FS_SKIP},
	    {"ext4", "/sysroot", SI_FS_LOCAL}, /* not below /sys */
	    {"nfs4", "/mnt/share", SI_FS_REMOTE},
	    {"nfs", "/home", SI_FS_REMOTE},
	    {"cifs", "/mnt/media", SI_FS_REMOTE},
	    {"fuse.sshfs", "/home/bob/remote", SI_FS_REMOTE},
	    {"9p", "/mnt/host", SI_FS_REMOTE},
	    {"fuse.gvfsd-fuse", "/run/user/1000/gvfs", SI_FS_SKIP},
	    {"fuse.portal", "/run/user/1000/doc", SI_FS_SKIP},
	    {"fuse.mystery", "/run/user/1000/x", SI_FS_SKIP},
	    {"fuse.mystery", "/mnt/x", SI_FS_FUSE},
	    {"fuse.lxcfs", "/var/lib/lxcfs", SI_FS_SKIP},
	    {"", "/", SI_FS_SKIP},
	    {"ext4", "relative", SI_FS_SKIP},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK_EQ(si_fs_classify(t[i].type, t[i].mount), t[i].kind);
		if (check_failed_now) {
			printf("  (%s on %s)\n", t[i].type, t[i].mount);
			return;
		}
	}
}

/* "mount|fstype|source|remote" of each kept filesystem, ';'-joined */
static void fs_list(const struct si_fs *fs, size_t n, char *out, size_t outlen)
{
	size_t i, k = 0;

	out[0] = '\0';
	for (i = 0; i < n && k < outlen; i++)
		k += (size_t)snprintf(out + k, outlen - k, "%s%s|%s|%s|%d", i ? ";" : "",
				      fs[i].mount, fs[i].fstype, fs[i].source, fs[i].remote);
}

TEST(mountinfo_fixtures)
{
	static const struct {
		const char *file, *want;
	} t[] = {
	    /* tmpfs, ramfs, cgroup2, autofs, gvfs, portal, docker overlay, nsfs
	     * skipped; a bind mount of /home is not listed twice; \040 decoded */
	    {"debian12/mountinfo",
	     "/|ext4|/dev/nvme0n1p2|0;/boot/efi|vfat|/dev/nvme0n1p1|0;/home|ext4|/dev/nvme0n1p3|0;"
	     "/media/alice/USB STICK|vfat|/dev/sdb1|0"},
	    /* snaps (squashfs) skipped, NFS and sshfs kept as remote */
	    {"ubuntu2204/mountinfo",
	     "/|ext4|/dev/sda2|0;/boot/efi|vfat|/dev/sda1|0;"
	     "/mnt/share|nfs4|fileserver.example.lan:/export/share|1;"
	     "/home/bob/remote|fuse.sshfs|bob@build.example.lan:/home/bob|1"},
	    /* btrfs /home is a subvolume of the filesystem already listed at / */
	    {"fedora39/mountinfo",
	     "/|btrfs|/dev/nvme0n1p3|0;/boot|ext4|/dev/nvme0n1p2|0;/boot/efi|vfat|/dev/nvme0n1p1|0;"
	     "/mnt/media|cifs|//nas.example.lan/media|1"},
	    {"alpine319/mountinfo",
	     "/|ext4|/dev/sda3|0;/boot|ext4|/dev/sda1|0;/media/cdrom|iso9660|/dev/sr0|0"},
	    /* diskless: the tmpfs root is the root filesystem; modloop skipped */
	    {"other/mountinfo-alpine-diskless", "/|tmpfs|tmpfs|0;/media/sda1|vfat|/dev/sda1|0"},
	    /* LVM, xfs with a bind mount of a subtree, zfs */
	    {"arch/mountinfo",
	     "/|ext4|/dev/mapper/vg-root|0;/home|ext4|/dev/mapper/vg-home|0;"
	     "/boot|vfat|/dev/nvme0n1p1|0;/data|xfs|/dev/sda1|0;/tank|zfs|tank/data|0"},
	    /* a container: the overlay root, and the host disk once, where
	     * Docker bind-mounts resolv.conf */
	    {"other/mountinfo-container", "/|overlay|overlay|0;/etc/resolv.conf|ext4|/dev/vda1|0"},
	};
	struct si_fs fs[SI_MAX_FS];
	char got[2048];
	size_t i, n, more, len;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		char *b = fx(t[i].file, &len);

		CHECK_EQ(si_parse_mountinfo(b, len, fs, SI_MAX_FS, &n, &more), 0);
		CHECK_EQ(more, 0);
		fs_list(fs, n, got, sizeof(got));
		CHECK_STR(got, t[i].want);
		free(b);
	}
	/* network and FUSE filesystems are measured with a timeout */
	{
		char *b = fx("ubuntu2204/mountinfo", &len);

		si_parse_mountinfo(b, len, fs, SI_MAX_FS, &n, &more);
		CHECK_EQ(n, 4);
		CHECK(!fs[0].may_block && fs[2].may_block && fs[3].may_block);
		free(b);
	}
}

TEST(mountinfo_edges)
{
	const char *text = "1 0 8:1 / /a\\011tab\\134back\\012nl rw - ext4 /dev/sda1 rw\n"
			   "2 1 8:2 / /short\n"				       /* too few fields */
			   "3 1 8:3 / /nodash rw shared:1 ext4 /dev/sda3 rw\n" /* no separator */
			   "4 1 8:4 / /nosource rw - ext4\n"		       /* no source */
			   "5 1 8x4 / /baddev rw - ext4 /dev/sda5 rw\n"	       /* no maj:min */
			   "\n"
			   "6 1 8:6 / /b rw shared:1 master:2 - ext4 /dev/sda6 rw\n"
			   "7 1 8:7 / /c rw - xfs /dev/sda7 rw\n"
			   "8 1 8:8 / /d rw - xfs /dev/sda8 rw\n"
			   "9 1 8:9 / /e rw - xfs /dev/sda9 rw"; /* no newline at the end */
	struct si_fs fs[8];
	size_t n, more, len;
	char *b = dup_exact(text, &len);

	CHECK_EQ(si_parse_mountinfo(b, len, fs, 8, &n, &more), 0);
	CHECK_EQ(n, 5);
	CHECK_EQ(more, 0);
	CHECK_STR(fs[0].mount, "/a\ttab\\back?nl"); /* a newline is a control: '?' */
	CHECK_EQ(fs[0].major, 8);
	CHECK_EQ(fs[0].minor, 1);
	CHECK_STR(fs[1].mount, "/b");
	CHECK_STR(fs[4].mount, "/e");
	/* the cap: two fit, three more are counted */
	CHECK_EQ(si_parse_mountinfo(b, len, fs, 2, &n, &more), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(more, 3);
	free(b);
	CHECK_EQ(si_parse_mountinfo("", 0, fs, 8, &n, &more), 0);
	CHECK_EQ(n, 0);
}

/* ---- changes and the record ---- */

/* A snapshot of the Debian 12 fixtures, with sizes. */
static void debian_snapshot(struct si_snapshot *s)
{
	size_t len, i;
	char *b;

	memset(s, 0, sizeof(*s));
	strcpy(s->hostname, "desk-17");
	strcpy(s->kernel_release, "6.1.0-13-amd64");
	strcpy(s->kernel_version, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)");
	strcpy(s->arch, "x86_64");
	b = fx("debian12/os-release", &len);
	s->have_os = si_parse_os_release(b, len, &s->os) == 0;
	free(b);
	b = fx("debian12/meminfo", &len);
	s->have_mem = si_parse_meminfo(b, len, &s->mem) == 0;
	free(b);
	b = fx("debian12/cpuinfo", &len);
	s->have_cpuinfo = si_parse_cpuinfo(b, len, &s->cpu) == 0;
	free(b);
	b = fx("debian12/stat", &len);
	s->have_times = si_parse_proc_stat(b, len, &s->times, &s->btime) == 0;
	free(b);
	b = fx("debian12/mountinfo", &len);
	si_parse_mountinfo(b, len, s->fs, SI_MAX_FS, &s->n_fs, &s->fs_more);
	s->have_fs = 1;
	free(b);
	s->cpus_online = 8;
	s->have_load = 1;
	s->load.avg[0] = 0.52;
	s->load.avg[1] = 0.58;
	s->load.avg[2] = 0.59;
	for (i = 0; i < s->n_fs; i++) {
		s->fs[i].have_size = 1;
		s->fs[i].total = 1000000000ULL * (i + 1);
		s->fs[i].free = 400000000ULL;
		s->fs[i].avail = 300000000ULL;
	}
}

TEST(changes)
{
	static struct si_snapshot a, b;
	struct si_fs tmp;

	debian_snapshot(&a);
	b = a;
	CHECK_EQ(sysinfo_changes(&a, &b), 0);
	/* values that always move are not changes */
	b.mem.available -= 4096;
	b.mem.swap_free -= 4096;
	b.fs[0].free -= 1 << 20;
	b.fs[0].avail -= 1 << 20;
	b.load.avg[0] = 3;
	b.times.user += 1000;
	b.btime += 1; /* the kernel's btime wobbles */
	CHECK_EQ(sysinfo_changes(&a, &b), 0);
	/* the same filesystems in another order */
	tmp = b.fs[0];
	b.fs[0] = b.fs[2];
	b.fs[2] = tmp;
	CHECK_EQ(sysinfo_changes(&a, &b), 0);

	b = a;
	strcpy(b.hostname, "desk-18");
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_HOSTNAME);
	b = a;
	strcpy(b.os.version_id, "13");
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_OS);
	b = a;
	strcpy(b.kernel_release, "6.1.0-15-amd64");
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_KERNEL);
	b = a;
	b.cpus_online = 7;
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_CPUS);
	b = a;
	b.mem.total += 128 << 20;
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_MEMORY);
	b = a;
	b.mem.swap_total = 0;
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_SWAP);
	b = a;
	b.n_fs--; /* the USB stick is gone */
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_FILESYSTEMS);
	b = a;
	strcpy(b.fs[1].source, "/dev/sdc1"); /* another device on /boot/efi */
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_FILESYSTEMS);
	b = a;
	b.fs_more = 1;
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_FILESYSTEMS);
	b = a;
	strcpy(b.hostname, "x");
	b.mem.total = 1;
	CHECK_EQ(sysinfo_changes(&a, &b), SI_CHANGE_HOSTNAME | SI_CHANGE_MEMORY);
	/* a value one side could not read is not compared */
	b = a;
	b.have_mem = 0;
	b.mem.total = 1;
	b.have_os = 0;
	b.have_fs = 0;
	b.n_fs = 0;
	b.hostname[0] = '\0';
	b.cpus_online = 0;
	CHECK_EQ(sysinfo_changes(&a, &b), 0);
}

TEST(record_shape)
{
	static struct si_snapshot s;
	struct record_ctx c = {.host_id = "0123456789abcdef0123456789abcdef", .session = "none"};
	struct si_usage u = {12.345, 0.25, 900.4};
	const cJSON *x, *f;
	cJSON *j;
	char *out;

	debian_snapshot(&s);
	s.fs[2].have_size = 0;
	s.fs[2].err = -ETIMEDOUT;
	s.fs[3].have_size = 0;
	s.fs[3].err = -EACCES;
	out = record_sysinfo(&c, 1700000000123LL, SI_START, 0, &s, &u);
	CHECK(out != NULL);
	j = cJSON_Parse(out);
	CHECK(j != NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "type")->valuestring, "sysinfo");
	CHECK_STR(cJSON_GetObjectItem(j, "ts")->valuestring, "2023-11-14T22:13:20.123Z");
	CHECK_EQ(cJSON_GetObjectItem(j, "v")->valueint, RECORD_VERSION);
	CHECK_STR(cJSON_GetObjectItem(j, "host_id")->valuestring, c.host_id);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "user")));
	CHECK_STR(cJSON_GetObjectItem(j, "session")->valuestring, "none");
	CHECK_STR(cJSON_GetObjectItem(j, "reason")->valuestring, "start");
	CHECK(cJSON_GetObjectItem(j, "changed") == NULL);
	/* the machine id is host_id; the raw one is never sent */
	CHECK(cJSON_GetObjectItem(j, "machine_id") == NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "hostname")->valuestring, "desk-17");
	x = cJSON_GetObjectItem(j, "os");
	CHECK_STR(cJSON_GetObjectItem(x, "name")->valuestring, "Debian GNU/Linux");
	CHECK_STR(cJSON_GetObjectItem(x, "version_id")->valuestring, "12");
	CHECK(cJSON_GetObjectItem(x, "build_id") == NULL);
	x = cJSON_GetObjectItem(j, "kernel");
	CHECK_STR(cJSON_GetObjectItem(x, "release")->valuestring, "6.1.0-13-amd64");
	CHECK_STR(cJSON_GetObjectItem(x, "arch")->valuestring, "x86_64");
	CHECK_STR(cJSON_GetObjectItem(j, "boot_time")->valuestring, "2023-11-22T08:00:00.000Z");
	x = cJSON_GetObjectItem(j, "cpu");
	CHECK_STR(cJSON_GetObjectItem(x, "model")->valuestring,
		  "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz");
	CHECK_EQ(cJSON_GetObjectItem(x, "cores")->valueint, 4);
	CHECK_EQ(cJSON_GetObjectItem(x, "threads")->valueint, 8);
	CHECK_EQ(cJSON_GetObjectItem(x, "sockets")->valueint, 1);
	CHECK_EQ(cJSON_GetObjectItem(x, "online")->valueint, 8);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(x, "load")), 3);
	CHECK(cJSON_GetArrayItem(cJSON_GetObjectItem(x, "load"), 1)->valuedouble == 0.58);
	CHECK(cJSON_GetObjectItem(x, "usage_pct")->valuedouble == 12.3);
	CHECK(cJSON_GetObjectItem(x, "iowait_pct")->valuedouble == 0.3);
	CHECK_EQ(cJSON_GetObjectItem(x, "usage_window_s")->valueint, 900);
	x = cJSON_GetObjectItem(j, "memory");
	CHECK(cJSON_GetObjectItem(x, "total")->valuedouble == 16100916.0 * 1024);
	CHECK(cJSON_GetObjectItem(x, "available_estimated") == NULL);
	x = cJSON_GetObjectItem(j, "filesystems");
	CHECK_EQ(cJSON_GetArraySize(x), 4);
	f = cJSON_GetArrayItem(x, 0);
	CHECK_STR(cJSON_GetObjectItem(f, "mount")->valuestring, "/");
	CHECK_STR(cJSON_GetObjectItem(f, "source")->valuestring, "/dev/nvme0n1p2");
	CHECK_STR(cJSON_GetObjectItem(f, "fstype")->valuestring, "ext4");
	CHECK(cJSON_GetObjectItem(f, "total")->valuedouble == 1e9);
	CHECK(cJSON_GetObjectItem(f, "avail")->valuedouble == 3e8);
	CHECK(cJSON_GetObjectItem(f, "remote") == NULL);
	f = cJSON_GetArrayItem(x, 2);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(f, "total")));
	CHECK_STR(cJSON_GetObjectItem(f, "error")->valuestring, "timeout");
	f = cJSON_GetArrayItem(x, 3);
	CHECK_STR(cJSON_GetObjectItem(f, "error")->valuestring, strerror(EACCES));
	CHECK(cJSON_GetObjectItem(j, "filesystems_more") == NULL);
	cJSON_Delete(j);
	free(out);

	/* a change, a user, nothing readable */
	memset(&s, 0, sizeof(s));
	c.user = "alice";
	u.busy_pct = -1;
	out = record_sysinfo(&c, 0, SI_CHANGE, SI_CHANGE_HOSTNAME | SI_CHANGE_FILESYSTEMS, &s, &u);
	j = cJSON_Parse(out);
	CHECK(j != NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "user")->valuestring, "alice");
	CHECK(cJSON_GetObjectItem(j, "session") == NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "reason")->valuestring, "change");
	x = cJSON_GetObjectItem(j, "changed");
	CHECK_EQ(cJSON_GetArraySize(x), 2);
	CHECK_STR(cJSON_GetArrayItem(x, 0)->valuestring, "hostname");
	CHECK_STR(cJSON_GetArrayItem(x, 1)->valuestring, "filesystems");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "hostname")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "os")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "memory")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "filesystems")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "boot_time")));
	x = cJSON_GetObjectItem(j, "cpu");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(x, "model")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(x, "load")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(x, "usage_pct")));
	CHECK(cJSON_GetObjectItem(x, "usage_window_s") == NULL);
	cJSON_Delete(j);
	free(out);
}

TEST(settings_key)
{
	struct agent_conf c;
	char err[256];
	const char *file = "sysinfo_interval_s = 3600\n";

	conf_defaults(&c);
	CHECK_EQ(c.sysinfo_interval_s, 900);
	CHECK_EQ(conf_set(&c, "sysinfo_interval_s", "60", err, sizeof(err)), 0);
	CHECK_EQ(c.sysinfo_interval_s, 60);
	CHECK_EQ(conf_set(&c, "sysinfo_interval_s", "86400", err, sizeof(err)), 0);
	CHECK_EQ(c.sysinfo_interval_s, 86400);
	CHECK_EQ(conf_set(&c, "sysinfo_interval_s", "59", err, sizeof(err)), -ERANGE);
	CHECK(strstr(err, "not a number of seconds in [60, 86400]") != NULL);
	CHECK_EQ(conf_set(&c, "sysinfo_interval_s", "86401", err, sizeof(err)), -ERANGE);
	CHECK_EQ(conf_set(&c, "sysinfo_interval_s", "15m", err, sizeof(err)), -EINVAL);
	CHECK_EQ(c.sysinfo_interval_s, 86400);
	CHECK_EQ(conf_parse(&c, file, strlen(file), err, sizeof(err)), 0);
	CHECK_EQ(c.sysinfo_interval_s, 3600);
}

/* ---- the collector and the monitor over a fixture root ---- */

struct fake_fs {
	int calls_share;	   /* statvfs calls for /mnt/share */
	volatile int share_hangs;  /* while set, /mnt/share does not answer */
	volatile int share_inside; /* a call is inside the hang */
	char last_prefix[512];
};

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

static int fake_statfs(const char *path, struct statvfs *st, void *ctx)
{
	struct fake_fs *f = ctx;

	memset(st, 0, sizeof(*st));
	st->f_frsize = 4096;
	if (has_suffix(path, "/mnt/share")) {
		__atomic_add_fetch(&f->calls_share, 1, __ATOMIC_SEQ_CST);
		f->share_inside = 1;
		while (f->share_hangs)
			usleep(1000);
		f->share_inside = 0;
		st->f_blocks = 1000;
		st->f_bfree = 500;
		st->f_bavail = 400;
		return 0;
	}
	if (has_suffix(path, "/boot/efi"))
		return -EACCES;
	if (has_suffix(path, "/")) {
		snprintf(f->last_prefix, sizeof(f->last_prefix), "%s", path);
		st->f_blocks = 2621440; /* 10 GiB */
		st->f_bfree = 1310720;
		st->f_bavail = 1048576;
		return 0;
	}
	st->f_blocks = 256;
	st->f_bfree = 128;
	st->f_bavail = 64;
	return 0;
}

static void put(const char *root, const char *rel, const char *text)
{
	char path[1024], dir[1024], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	mkdir_p(dir, 0755);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static void put_fixture(const char *root, const char *rel, const char *fixture)
{
	size_t len;
	char *b = fx(fixture, &len), *z = malloc(len + 1);

	memcpy(z, b, len);
	z[len] = '\0';
	put(root, rel, z);
	free(z);
	free(b);
}

static void make_root(const char *root)
{
	char d[1024];

	put_fixture(root, "/etc/os-release", "ubuntu2204/os-release");
	put_fixture(root, "/proc/meminfo", "ubuntu2204/meminfo");
	put_fixture(root, "/proc/cpuinfo", "ubuntu2204/cpuinfo");
	put_fixture(root, "/proc/stat", "debian12/stat");
	put(root, "/proc/loadavg", "0.52 0.58 0.59 1/389 12345\n");
	put(root, "/sys/devices/system/cpu/online", "0-11\n");
	put_fixture(root, "/proc/1/mountinfo", "ubuntu2204/mountinfo");
	put_fixture(root, "/proc/self/mountinfo", "other/mountinfo-container");
	snprintf(d, sizeof(d), "%s/proc/1/root", root);
	mkdir_p(d, 0755);
}

static void discard(char *json, int64_t ts_ms, void *ctx)
{
	(void)ts_ms;
	(void)ctx;
	free(json);
}

TEST(collector)
{
	static struct si_snapshot s;
	struct fake_fs ff = {0};
	struct record_ctx rc = {.host_id = "h"};
	struct sysinfo_mon_opts o = {.statfs = fake_statfs,
				     .statfs_ctx = &ff,
				     .timeout_ms = 100,
				     .interval_s = 900,
				     .rctx = &rc,
				     .emit = discard};
	struct sysinfo_mon *m = NULL;
	char root[256], want[600];
	uint64_t t0;
	int i;

	check_mkdtemp(root, sizeof(root), "sysinfo");
	make_root(root);
	o.root = root;
	CHECK_EQ(sysinfo_mon_open(&m, &o), 0);
	if (!m)
		return;

	/* the cheap read: no cpuinfo, stat, loadavg or sizes */
	sysinfo_collect(m, &s, 0);
	CHECK(s.hostname[0] != '\0');
	CHECK(s.kernel_release[0] != '\0');
	CHECK_EQ(s.have_os, 1);
	CHECK_STR(s.os.name, "Ubuntu");
	CHECK_EQ(s.have_mem, 1);
	CHECK_EQ(s.mem.total, 32779348ULL * 1024);
	CHECK_EQ(s.cpus_online, 12);
	CHECK_EQ(s.have_fs, 1);
	CHECK_EQ(s.n_fs, 4);
	CHECK_EQ(s.have_cpuinfo, 0);
	CHECK_EQ(s.have_times, 0);
	CHECK_EQ(s.fs[0].have_size, 0);
	CHECK_EQ(ff.calls_share, 0);

	/* the full read; /mnt/share hangs: a timeout, not a stall */
	ff.share_hangs = 1;
	t0 = clock_ns(CLOCK_MONOTONIC);
	sysinfo_collect(m, &s, 1);
	CHECK(clock_ns(CLOCK_MONOTONIC) - t0 < 2 * NSEC_PER_SEC);
	CHECK_EQ(s.have_cpuinfo, 1);
	CHECK_EQ(s.cpu.threads, 12);
	CHECK_EQ(s.have_times, 1);
	CHECK_EQ(s.btime, 1700640000);
	CHECK_EQ(s.have_load, 1);
	/* measured through pid 1's root */
	snprintf(want, sizeof(want), "%s/proc/1/root/", root);
	CHECK_STR(ff.last_prefix, want);
	CHECK_EQ(s.fs[0].have_size, 1);
	CHECK_EQ(s.fs[0].total, 10ULL << 30);
	CHECK_EQ(s.fs[0].free, 5ULL << 30);
	CHECK_EQ(s.fs[0].avail, 4ULL << 30);
	CHECK_EQ(s.fs[1].have_size, 0);
	CHECK_EQ(s.fs[1].err, -EACCES);
	CHECK_STR(s.fs[2].mount, "/mnt/share");
	CHECK_EQ(s.fs[2].have_size, 0);
	CHECK_EQ(s.fs[2].err, -ETIMEDOUT);
	CHECK_EQ(s.fs[3].have_size, 1); /* sshfs answers */
	CHECK_EQ(ff.calls_share, 1);

	/* still hanging: not asked again */
	sysinfo_collect(m, &s, 1);
	CHECK_EQ(s.fs[2].err, -ETIMEDOUT);
	CHECK_EQ(ff.calls_share, 1);

	/* the call returns: the next collection asks again and gets sizes */
	ff.share_hangs = 0;
	for (i = 0; i < 500 && (ff.share_inside || !job_done(m->stuck[0])); i++)
		usleep(2000);
	sysinfo_collect(m, &s, 1);
	CHECK_EQ(ff.calls_share, 2);
	CHECK_EQ(s.fs[2].have_size, 1);
	CHECK_EQ(s.fs[2].total, 1000 * 4096);
	CHECK_EQ(s.fs[2].avail, 400 * 4096);

	/* pid 1's root out of reach: our own mounts, measured directly */
	snprintf(want, sizeof(want), "%s/proc/1/root", root);
	CHECK_EQ(rmdir(want), 0);
	sysinfo_collect(m, &s, 1);
	CHECK_EQ(s.n_fs, 2);
	CHECK_STR(s.fs[0].fstype, "overlay");
	CHECK_STR(ff.last_prefix, "/");
	sysinfo_mon_close(m);
	check_rmtree(root);
}

/* Records written by the monitor, kept for inspection. */
struct caught {
	int n;
	cJSON *last;
};

static void catch_record(char *json, int64_t ts_ms, void *ctx)
{
	struct caught *c = ctx;

	(void)ts_ms;
	cJSON_Delete(c->last);
	c->last = json ? cJSON_Parse(json) : NULL;
	c->n++;
	free(json);
}

static const char *reason(const struct caught *c)
{
	const cJSON *r = cJSON_GetObjectItem(c->last, "reason");

	return cJSON_IsString(r) ? r->valuestring : "";
}

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

TEST(monitor)
{
	struct fake_fs ff = {0};
	struct caught got = {0};
	struct record_ctx rc = {.host_id = "h", .session = "none"};
	struct sysinfo_mon_opts o = {.statfs = fake_statfs,
				     .statfs_ctx = &ff,
				     .interval_s = 900,
				     .rctx = &rc,
				     .emit = catch_record,
				     .ctx = &got};
	struct sysinfo_mon *m = NULL;
	char root[256], want_path_buf[1024], *text, *p;
	const cJSON *x;
	cJSON *st, *pol;
	size_t len;

	check_mkdtemp(root, sizeof(root), "sysmon");
	make_root(root);
	o.root = root;
	o.interval_s = 59;
	CHECK_EQ(sysinfo_mon_open(&m, &o), -EINVAL);
	o.interval_s = 900;
	CHECK_EQ(sysinfo_mon_open(&m, &o), 0);
	if (!m)
		return;
	/* nothing before the start record */
	CHECK_EQ(sysinfo_mon_check(m), 0);
	CHECK_EQ(got.n, 0);
	sysinfo_mon_start(m);
	CHECK_EQ(got.n, 1);
	CHECK_STR(reason(&got), "start");
	CHECK_STR(cJSON_GetObjectItem(got.last, "session")->valuestring, "none");
	x = cJSON_GetObjectItem(got.last, "cpu");
	/* the first window is since boot: the fixture's ticks against zero */
	CHECK(cJSON_GetObjectItem(x, "usage_pct")->valuedouble > 0);
	CHECK(cJSON_GetObjectItem(x, "usage_window_s")->valuedouble > 0);
	CHECK(!readable(sysinfo_mon_fd(m), 0)); /* the next one is 900 s away */

	/* nothing changed; free memory moving is no change */
	CHECK_EQ(sysinfo_mon_check(m), 0);
	text = NULL;
	snprintf(want_path_buf, sizeof(want_path_buf), "%s/proc/meminfo", root);
	read_file(want_path_buf, SI_MAX_FILE, &text, &len);
	p = strstr(text, "20123400 kB"); /* MemFree */
	CHECK(p != NULL);
	if (p)
		*p = '1';
	put(root, "/proc/meminfo", text);
	CHECK_EQ(sysinfo_mon_check(m), 0);
	CHECK_EQ(got.n, 1);
	/* memory grows: a change record naming it */
	p = strstr(text, "32779348 kB"); /* MemTotal */
	CHECK(p != NULL);
	if (p)
		memcpy(p, "33827924", 8);
	put(root, "/proc/meminfo", text);
	free(text);
	CHECK_EQ(sysinfo_mon_check(m), SI_CHANGE_MEMORY);
	CHECK_EQ(got.n, 2);
	CHECK_STR(reason(&got), "change");
	x = cJSON_GetObjectItem(got.last, "changed");
	CHECK_EQ(cJSON_GetArraySize(x), 1);
	CHECK_STR(cJSON_GetArrayItem(x, 0)->valuestring, "memory");
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(got.last, "memory"), "total")->valuedouble ==
	      33827924.0 * 1024);
	/* the same ticks as last time: no usage over an empty window */
	x = cJSON_GetObjectItem(got.last, "cpu");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(x, "usage_pct")));
	/* reported once */
	CHECK_EQ(sysinfo_mon_check(m), 0);
	CHECK_EQ(got.n, 2);
	/* an OS upgrade and a new mount at once */
	put(root, "/etc/os-release", "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"24.04\"\n");
	text = NULL;
	snprintf(want_path_buf, sizeof(want_path_buf), "%s/proc/1/mountinfo", root);
	read_file(want_path_buf, SI_MAX_FILE, &text, &len);
	{
		size_t n = strlen(text) + 200;
		char *more = malloc(n);

		snprintf(more, n, "%s900 29 8:33 / /media/usb rw - exfat /dev/sdc1 rw\n", text);
		put(root, "/proc/1/mountinfo", more);
		free(more);
	}
	free(text);
	CHECK_EQ(sysinfo_mon_check(m), SI_CHANGE_OS | SI_CHANGE_FILESYSTEMS);
	CHECK_EQ(got.n, 3);
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(got.last, "filesystems")), 5);

	/* the interval: bounds, status, and a due record when it shrinks
	 * below the time since the last one */
	CHECK_EQ(sysinfo_mon_set_interval(m, 59), -EINVAL);
	CHECK_EQ(sysinfo_mon_set_interval(m, 86401), -EINVAL);
	CHECK_EQ(sysinfo_mon_interval(m), 900);
	st = cJSON_CreateObject();
	sysinfo_mon_status(m, st);
	x = cJSON_GetObjectItem(st, "sysinfo");
	CHECK_EQ(cJSON_GetObjectItem(x, "interval_s")->valueint, 900);
	CHECK_EQ(cJSON_GetObjectItem(x, "records")->valueint, 3);
	CHECK(cJSON_GetObjectItem(x, "next_in_s")->valuedouble > 890);
	cJSON_Delete(st);
	pol = cJSON_Parse("{\"sysinfo.interval_s\":\"120\",\"activity.interval_s\":30}");
	CHECK_EQ(sysinfo_mon_policy(m, pol), 0); /* a string is not a number */
	cJSON_Delete(pol);
	pol = cJSON_Parse("{\"sysinfo.interval_s\":30}");
	CHECK_EQ(sysinfo_mon_policy(m, pol), 0); /* below the range */
	cJSON_Delete(pol);
	pol = cJSON_Parse("{\"sysinfo.interval_s\":120}");
	CHECK_EQ(sysinfo_mon_policy(m, pol), 1);
	CHECK_EQ(sysinfo_mon_interval(m), 120);
	CHECK_EQ(sysinfo_mon_policy(m, pol), 0); /* the same value again */
	cJSON_Delete(pol);
	CHECK(!readable(sysinfo_mon_fd(m), 0));
	m->last_boot_ns -= 200 * NSEC_PER_SEC; /* as if the last record were 200 s old */
	CHECK_EQ(sysinfo_mon_set_interval(m, 60), 0);
	CHECK(readable(sysinfo_mon_fd(m), 1000));
	sysinfo_mon_dispatch(m);
	CHECK_EQ(got.n, 4);
	CHECK_STR(reason(&got), "interval");
	CHECK(!readable(sysinfo_mon_fd(m), 0)); /* re-armed 60 s ahead */
	sysinfo_mon_close(m);
	cJSON_Delete(got.last);
	check_rmtree(root);
}

int main(void)
{
	RUN(os_release_distros);
	RUN(os_release_quoting);
	RUN(meminfo_distros);
	RUN(meminfo_old_kernel_and_bad_input);
	RUN(cpuinfo_fixtures);
	RUN(cpuinfo_s390_and_bad_input);
	RUN(proc_stat);
	RUN(cpu_usage);
	RUN(loadavg);
	RUN(cpu_list);
	RUN(fs_classify);
	RUN(mountinfo_fixtures);
	RUN(mountinfo_edges);
	RUN(changes);
	RUN(record_shape);
	RUN(settings_key);
	RUN(collector);
	RUN(monitor);
	return CHECK_DONE();
}
