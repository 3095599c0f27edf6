// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_backup.c - the dump stream (model/dump.c) on fixtures, and
 * encrypted backups (model/backup.c) on a real LMDB store and a file://
 * target: round trips, the empty store, values at STORE_VAL_MAX, every
 * tamper case the format must refuse, the wrong master key, the parser's
 * caps, list/prune and cancellation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "core/crypto.h"
#include "core/keyprov.h"
#include "model/backup.h"
#include "model/dump.h"
#include "store/store.h"

/* --- the dump stream --- */

struct mem {
	uint8_t *p;
	size_t len;
};

static int mem_sink(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;

	m->p = realloc(m->p, m->len + len);
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

/* What the parser delivers, as text (dump_text_item lines). */
struct seen {
	char *txt;
	size_t len;
	FILE *f;
	int n;
};

static int seen_item(enum store_table t, const char *pk, const char *sk, const void *val,
		     size_t len, void *ctx)
{
	struct seen *s = ctx;

	s->n++;
	return dump_text_item(t, pk, sk, val, len, s->f);
}

/* Parse m in pieces of step bytes; returns the parser's result; *s gets the items. */
static int parse_all(const struct mem *m, size_t step, struct seen *s, char *why, size_t wl)
{
	struct dump_parser p;
	int err;

	memset(s, 0, sizeof(*s));
	s->f = open_memstream(&s->txt, &s->len);
	err = dump_parse_init(&p, seen_item, s);
	for (size_t off = 0; !err && off < m->len; off += step)
		err = dump_parse_feed(&p, m->p + off, off + step > m->len ? m->len - off : step);
	if (!err)
		err = dump_parse_done(&p);
	snprintf(why, wl, "%s", p.why);
	dump_parse_fini(&p);
	fclose(s->f);
	return err;
}

/* The stream of one item (USERS, "u", "k") = "v": pins the format byte by byte. */
static const uint8_t fixture[] = {
    'A', 'L',
    'D', 'U',
    'M', 'P',
    0,	 1, /* head */
    'I', STORE_T_USERS,
    0,	 1,
    0,	 1,
    0,	 0,
    0,	 1,
    'u', 'k',
    'v',		 /* item */
    'E', STORE_T__COUNT, /* end: then 8 bytes per table */
};

static void fixture_stream(struct mem *m)
{
	memset(m, 0, sizeof(*m));
	mem_sink(m, fixture, sizeof(fixture));
	for (int t = 0; t < STORE_T__COUNT; t++) {
		uint8_t c[8] = {0};

		c[7] = t == STORE_T_USERS;
		mem_sink(m, c, 8);
	}
}

TEST(dump_fixture)
{
	struct dump_writer w;
	struct mem out = {0}, fx;
	struct seen s;
	char why[DUMP_WHY_MAX];

	fixture_stream(&fx);
	CHECK_EQ(dump_write_start(&w, mem_sink, &out), 0);
	CHECK_EQ(dump_write_item(STORE_T_USERS, "u", "k", "v", 1, &w), 0);
	CHECK_EQ(dump_write_end(&w), 0);
	CHECK_EQ(out.len, fx.len);
	CHECK(out.len == fx.len && !memcmp(out.p, fx.p, fx.len));
	CHECK_EQ(w.bytes, fx.len);
	for (size_t step = 1; step <= fx.len; step += 7) {
		CHECK_EQ(parse_all(&fx, step, &s, why, sizeof(why)), 0);
		CHECK_EQ(s.n, 1);
		CHECK_STR(s.txt, "users\tu\tk\tdg==\n");
		free(s.txt);
	}
	free(out.p);
	free(fx.p);
}

/* A stream with one item of the given lengths (bytes 'a'), and a good end. */
static void item_stream(struct mem *m, unsigned table, size_t pl, size_t sl, size_t vl)
{
	uint8_t h[10] = {'I',
			 (uint8_t)table,
			 (uint8_t)(pl >> 8),
			 (uint8_t)pl,
			 (uint8_t)(sl >> 8),
			 (uint8_t)sl,
			 (uint8_t)(vl >> 24),
			 (uint8_t)(vl >> 16),
			 (uint8_t)(vl >> 8),
			 (uint8_t)vl};
	uint8_t e[2 + 8 * STORE_T__COUNT] = {'E', STORE_T__COUNT};
	char *body = malloc(pl + sl + vl + 1);

	memset(m, 0, sizeof(*m));
	mem_sink(m, fixture, 8);
	mem_sink(m, h, sizeof(h));
	memset(body, 'a', pl + sl + vl);
	mem_sink(m, body, pl + sl + vl);
	if (table < STORE_T__COUNT)
		e[2 + 8 * table + 7] = 1;
	mem_sink(m, e, sizeof(e));
	free(body);
}

TEST(dump_parser_caps)
{
	struct mem m;
	struct seen s;
	char why[DUMP_WHY_MAX];

	/* at the caps: accepted */
	item_stream(&m, STORE_T_RECORDS, 255, STORE_KEY_MAX - 255, STORE_VAL_MAX);
	CHECK_EQ(parse_all(&m, 4096, &s, why, sizeof(why)), 0);
	CHECK_EQ(s.n, 1);
	free(s.txt);
	free(m.p);
	/* over: refused with a reason */
	item_stream(&m, STORE_T_RECORDS, 256, STORE_KEY_MAX - 255, 1);
	CHECK_EQ(parse_all(&m, 4096, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "STORE_KEY_MAX") != NULL);
	CHECK_EQ(s.n, 0);
	free(s.txt);
	free(m.p);
	item_stream(&m, STORE_T_RECORDS, 1, 1, STORE_VAL_MAX + 1);
	CHECK_EQ(parse_all(&m, 4096, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "STORE_VAL_MAX") != NULL);
	free(s.txt);
	free(m.p);
	item_stream(&m, STORE_T__COUNT, 1, 1, 1);
	CHECK_EQ(parse_all(&m, 4096, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "table") != NULL);
	free(s.txt);
	free(m.p);
	item_stream(&m, STORE_T_META, 0, 1, 1);
	CHECK_EQ(parse_all(&m, 4096, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "empty key") != NULL);
	free(s.txt);
	free(m.p);
}

TEST(dump_parser_refusals)
{
	struct mem m;
	struct seen s;
	char why[DUMP_WHY_MAX];

	/* bad magic, bad version */
	fixture_stream(&m);
	m.p[0] = 'X';
	CHECK_EQ(parse_all(&m, 3, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "magic") != NULL);
	free(s.txt);
	m.p[0] = 'A';
	m.p[7] = 2;
	CHECK_EQ(parse_all(&m, 3, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "version") != NULL);
	free(s.txt);
	m.p[7] = 1;
	/* a count that does not match */
	m.p[m.len - 1] = 1; /* LOGIN_FAILS: 1, none in the stream */
	CHECK_EQ(parse_all(&m, 5, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "counts") != NULL);
	free(s.txt);
	m.p[m.len - 1] = 0;
	/* an unknown record type */
	m.p[8] = 'Z';
	CHECK_EQ(parse_all(&m, 5, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "record type") != NULL);
	free(s.txt);
	m.p[8] = 'I';
	/* truncated: no end record, or cut inside it */
	m.len -= 3;
	CHECK_EQ(parse_all(&m, 5, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "truncated") != NULL);
	free(s.txt);
	m.len += 3;
	/* bytes after the end */
	mem_sink(&m, "x", 1);
	CHECK_EQ(parse_all(&m, 5, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "after the end") != NULL);
	free(s.txt);
	/* a key with a NUL */
	m.len--;
	m.p[18] = 0;
	CHECK_EQ(parse_all(&m, 5, &s, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "NUL") != NULL);
	free(s.txt);
	free(m.p);
}

/* --- backups --- */

struct env {
	char dir[128], key[160], key2[160];
	char bk[160], url[200];
	struct store *st;
	struct keyprov *kp, *kp2;
	struct backup_target t;
};

static void env_up(struct env *e)
{
	char sdir[200];

	memset(e, 0, sizeof(*e));
	check_mkdtemp(e->dir, sizeof(e->dir), "backup");
	snprintf(e->key, sizeof(e->key), "%s/master.key", e->dir);
	snprintf(e->key2, sizeof(e->key2), "%s/other.key", e->dir);
	snprintf(e->bk, sizeof(e->bk), "%s/bk", e->dir);
	snprintf(e->url, sizeof(e->url), "file://%s", e->bk);
	snprintf(sdir, sizeof(sdir), "%s/store", e->dir);
	mkdir(e->bk, 0700);
	CHECK_EQ(keyprov_file_create(e->key), 0);
	CHECK_EQ(keyprov_file_open(e->key, &e->kp, NULL, 0), 0);
	CHECK_EQ(keyprov_file_create(e->key2), 0);
	CHECK_EQ(keyprov_file_open(e->key2, &e->kp2, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&e->st, sdir, NULL), 0);
	CHECK_EQ(backup_target_parse(e->url, NULL, &e->t, NULL, 0), 0);
}

static void env_down(struct env *e)
{
	backup_target_free(&e->t);
	store_close(e->st);
	keyprov_free(e->kp);
	keyprov_free(e->kp2);
	check_rmtree(e->dir);
}

/* Items in several tables, one value at STORE_VAL_MAX of random bytes. */
static void fill(struct store *st)
{
	uint8_t *big = malloc(STORE_VAL_MAX);
	struct store_batch *b = NULL;
	char pk[32], sk[32], v[64];

	crypto_random(big, STORE_VAL_MAX);
	CHECK_EQ(store_put(st, STORE_T_RECORDS, "dev1", "big", big, STORE_VAL_MAX, 0), 0);
	CHECK_EQ(store_put(st, STORE_T_META, "schema", "v", "", 0, 0), 0);
	CHECK_EQ(store_put(st, STORE_T_EMAILS, "a\tb\nc\\", "x", "tab", 3, 0), 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(pk, sizeof(pk), "user%d", i % 50);
		snprintf(sk, sizeof(sk), "%06d", i);
		snprintf(v, sizeof(v), "{\"i\":%d,\"email\":\"u%d@example.org\"}", i, i);
		store_batch_put(b, (enum store_table)(1 + i % (STORE_T__COUNT - 1)), pk, sk, v,
				strlen(v), 0);
	}
	CHECK_EQ(store_batch_commit(b), 0);
	free(big);
}

/* The text dump of st. malloc'd. */
static char *text_of(struct store *st)
{
	char *txt = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&txt, &len);

	CHECK_EQ(dump_text(st, f), 0);
	fclose(f);
	return txt;
}

/* Entries of dir (not . and ..). */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

TEST(backup_round_trip)
{
	struct env e;
	struct backup_ctl ctl = {.chunk_size = 4096};
	struct backup_info b, r, *list = NULL;
	char why[512], rdir[200];
	struct store *st2 = NULL;
	char *t1, *t2;
	size_t n = 0;

	env_up(&e);
	fill(e.st);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, &ctl, &b, why, sizeof(why)), 0);
	CHECK(!strncmp(b.name, "actlog-", 7) && strlen(b.name) == 32);
	CHECK_EQ(b.items[STORE_T_RECORDS] > 0, 1);
	CHECK_EQ(b.items[STORE_T_META], 1);
	CHECK_STR(b.kek_id, keyprov_key_id(e.kp));
	CHECK(b.stored_bytes > STORE_VAL_MAX); /* random bytes do not compress */
	CHECK_EQ(strlen(b.sha256), 64);
	CHECK_EQ(entries(e.bk), 2); /* NAME.alb and NAME.manifest.json, no .partial */
	CHECK_EQ(backup_list(&e.t, &list, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_STR(list[0].name, b.name);
	free(list);

	snprintf(rdir, sizeof(rdir), "%s/restored", e.dir);
	CHECK_EQ(backup_restore(&e.t, b.name, e.kp, rdir, NULL, &r, why, sizeof(why)), 0);
	CHECK_STR(r.sha256, b.sha256);
	CHECK_EQ(store_open_lmdb(&st2, rdir, NULL), 0);
	t1 = text_of(e.st);
	t2 = text_of(st2);
	CHECK(t1 && t2 && strlen(t1) > STORE_VAL_MAX && !strcmp(t1, t2));
	CHECK(strstr(t1, "emails\ta\\x09b\\x0ac\\x5c\tx\tdGFi\n") != NULL);
	free(t1);
	free(t2);
	store_close(st2);
	/* a non-empty directory is refused */
	CHECK_EQ(backup_restore(&e.t, b.name, e.kp, rdir, NULL, NULL, why, sizeof(why)), -EEXIST);
	CHECK(strstr(why, "not empty") != NULL);
	CHECK_EQ(backup_verify(&e.t, b.name, e.kp, NULL, NULL, why, sizeof(why)), 0);
	env_down(&e);
}

TEST(backup_empty_store)
{
	struct env e;
	struct backup_info b;
	char why[512], rdir[200];
	struct store *st2 = NULL;
	struct store_stats ss;

	env_up(&e);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, NULL, &b, why, sizeof(why)), 0);
	for (int t = 0; t < STORE_T__COUNT; t++)
		CHECK_EQ(b.items[t], 0);
	snprintf(rdir, sizeof(rdir), "%s/restored", e.dir);
	mkdir(rdir, 0700); /* an empty directory is fine */
	CHECK_EQ(backup_restore(&e.t, b.name, e.kp, rdir, NULL, NULL, why, sizeof(why)), 0);
	CHECK_EQ(store_open_lmdb(&st2, rdir, NULL), 0);
	CHECK_EQ(store_stats(st2, &ss), 0);
	for (int t = 0; t < STORE_T__COUNT; t++)
		CHECK_EQ(ss.entries[t], 0);
	store_close(st2);
	env_down(&e);
}

/* --- tampering --- */

static int read_all(const char *path, uint8_t **p, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*p = malloc((size_t)n + 1);
	*len = fread(*p, 1, (size_t)n, f);
	fclose(f);
	return 0;
}

static void write_all_file(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	fwrite(p, 1, len, f);
	fclose(f);
}

/* Offsets of the chunks of an object (format in backup.c): off[i], len[i]. */
static size_t chunks(const uint8_t *p, size_t len, size_t *off, size_t *clen, size_t max)
{
	size_t m = p[30], w = p[31 + m], at = 32 + m + w, n = 0;

	while (at + 17 <= len && n < max) {
		size_t c = (size_t)p[at] << 24 | (size_t)p[at + 1] << 16 | (size_t)p[at + 2] << 8 |
			   p[at + 3];

		off[n] = at;
		clen[n] = 33 + c;
		at += 33 + c;
		n++;
	}
	return n;
}

/* Restore object bytes p/len as backup name; the error, with the reason in why;
 * checks that nothing is left at the target directory or beside it. */
static int try_restore(struct env *e, const char *name, const char *alb, const uint8_t *p,
		       size_t len, const struct keyprov *kp, char *why, size_t wl)
{
	char rdir[200];
	int err;

	write_all_file(alb, p, len);
	snprintf(rdir, sizeof(rdir), "%s/r/new", e->dir);
	mkdir(rdir, 0700);
	err = backup_restore(&e->t, name, kp, rdir, NULL, NULL, why, wl);
	if (err) {
		snprintf(rdir, sizeof(rdir), "%s/r", e->dir);
		CHECK_EQ(entries(rdir), 1); /* the empty "new", no temporary directory */
		snprintf(rdir, sizeof(rdir), "%s/r/new", e->dir);
		CHECK_EQ(entries(rdir), 0);
	} else {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s/r/new", e->dir);
		CHECK_EQ(system(cmd), 0);
	}
	return err;
}

TEST(backup_tamper)
{
	struct env e;
	struct backup_ctl ctl = {.chunk_size = 4096};
	struct backup_info b, b2;
	char why[512], alb[300], alb2[300], rdir[200];
	uint8_t *orig = NULL, *o2 = NULL, *p;
	size_t len = 0, len2 = 0, off[2048], cl[2048], off2[2048], cl2[2048], nc, nc2;
	int err;

	env_up(&e);
	fill(e.st);
	snprintf(rdir, sizeof(rdir), "%s/r", e.dir);
	mkdir(rdir, 0700);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, &ctl, &b, why, sizeof(why)), 0);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, &ctl, &b2, why, sizeof(why)), 0);
	snprintf(alb, sizeof(alb), "%s/%s.alb", e.bk, b.name);
	snprintf(alb2, sizeof(alb2), "%s/%s.alb", e.bk, b2.name);
	CHECK_EQ(read_all(alb, &orig, &len), 0);
	CHECK_EQ(read_all(alb2, &o2, &len2), 0);
	nc = chunks(orig, len, off, cl, 2048);
	nc2 = chunks(o2, len2, off2, cl2, 2048);
	CHECK(nc > 10 && nc2 > 10);
	CHECK_EQ(off[nc - 1] + cl[nc - 1], len); /* the walk covers the object */
	CHECK_EQ(orig[off[nc - 1] + 4], 1);	 /* the last chunk is final */
	CHECK_EQ(orig[off[0] + 4], 0);
	p = malloc(len + 64);

	/* the untouched object restores (the harness itself is sound) */
	CHECK_EQ(try_restore(&e, b.name, alb, orig, len, e.kp, why, sizeof(why)), 0);

	/* a flipped byte anywhere: header, wrapped key, lengths, flags, nonce, ciphertext, tag */
	{
		size_t at[] = {0,
			       8,
			       12,
			       20,
			       31,
			       31 + 32 + 3,
			       off[0] - 1,
			       off[0] + 2,
			       off[0] + 4,
			       off[0] + 6,
			       off[0] + 40,
			       off[1] + 100,
			       off[nc / 2] + 17,
			       off[nc - 1] + cl[nc - 1] - 1,
			       len - 1};

		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			memcpy(p, orig, len);
			p[at[i]] ^= 0x01;
			err = try_restore(&e, b.name, alb, p, len, e.kp, why, sizeof(why));
			if (err != -EBADMSG)
				printf("  flip at %zu: %d %s\n", at[i], err, why);
			CHECK_EQ(err, -EBADMSG);
		}
	}
	/* a dropped chunk (the middle one) */
	memcpy(p, orig, off[nc / 2]);
	memcpy(p + off[nc / 2], orig + off[nc / 2] + cl[nc / 2], len - off[nc / 2] - cl[nc / 2]);
	CHECK_EQ(try_restore(&e, b.name, alb, p, len - cl[nc / 2], e.kp, why, sizeof(why)),
		 -EBADMSG);
	CHECK(strstr(why, "does not authenticate") != NULL);
	/* two chunks swapped (same sizes: both full) */
	CHECK_EQ(cl[1], cl[2]);
	memcpy(p, orig, len);
	memcpy(p + off[1], orig + off[2], cl[2]);
	memcpy(p + off[2], orig + off[1], cl[1]);
	CHECK_EQ(try_restore(&e, b.name, alb, p, len, e.kp, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "chunk 1 does not authenticate") != NULL);
	/* truncated: the final chunk dropped */
	CHECK_EQ(try_restore(&e, b.name, alb, orig, off[nc - 1], e.kp, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "truncated") != NULL);
	/* truncated inside a chunk */
	CHECK_EQ(try_restore(&e, b.name, alb, orig, off[3] + 50, e.kp, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "truncated") != NULL);
	/* the final flag set on an earlier chunk (then cut there) */
	memcpy(p, orig, off[4]);
	p[off[3] + 4] = 1;
	CHECK_EQ(try_restore(&e, b.name, alb, p, off[4], e.kp, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "chunk 3 does not authenticate") != NULL);
	/* a chunk of the other backup spliced in at the same index */
	CHECK_EQ(cl[2], cl2[2]);
	memcpy(p, orig, len);
	memcpy(p + off[2], o2 + off2[2], cl2[2]);
	CHECK_EQ(try_restore(&e, b.name, alb, p, len, e.kp, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "chunk 2 does not authenticate") != NULL);
	/* the other backup's whole object under this name */
	CHECK_EQ(try_restore(&e, b.name, alb, o2, len2, e.kp, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "another backup") != NULL);
	/* data after the final chunk (and the manifest's size no longer matching) */
	memcpy(p, orig, len);
	memcpy(p + len, "extra", 5);
	CHECK_EQ(try_restore(&e, b.name, alb, p, len + 5, e.kp, why, sizeof(why)), -EBADMSG);
	/* the wrong master key */
	CHECK_EQ(try_restore(&e, b.name, alb, orig, len, e.kp2, why, sizeof(why)), -EKEYREJECTED);
	CHECK(strstr(why, keyprov_key_id(e.kp)) != NULL);
	/* verify refuses the same way */
	write_all_file(alb, orig, off[nc - 1]);
	CHECK_EQ(backup_verify(&e.t, b.name, e.kp, NULL, NULL, why, sizeof(why)), -EBADMSG);
	/* a manifest whose checksum or counts are not the object's */
	{
		char man[300], *mt = NULL, *q;
		size_t ml = 0;

		write_all_file(alb, orig, len);
		snprintf(man, sizeof(man), "%s/%s.manifest.json", e.bk, b.name);
		CHECK_EQ(read_all(man, (uint8_t **)&mt, &ml), 0);
		mt[ml] = '\0';
		q = strstr(mt, b.sha256);
		CHECK(q != NULL);
		if (q) {
			q[0] = q[0] == '0' ? '1' : '0';
			write_all_file(man, (uint8_t *)mt, ml);
			CHECK_EQ(try_restore(&e, b.name, alb, orig, len, e.kp, why, sizeof(why)),
				 -EBADMSG);
			CHECK(strstr(why, "SHA-256") != NULL);
			q[0] = b.sha256[0];
		}
		q = strstr(mt, "\"meta\":");
		if (!q)
			q = strstr(mt, "\"meta\":\t");
		CHECK(q != NULL);
		if (q) {
			q = strchr(q, ':') + 1;
			while (*q == ' ' || *q == '\t')
				q++;
			*q = *q == '1' ? '2' : '1';
			write_all_file(man, (uint8_t *)mt, ml);
			CHECK_EQ(try_restore(&e, b.name, alb, orig, len, e.kp, why, sizeof(why)),
				 -EBADMSG);
			CHECK(strstr(why, "table meta") != NULL);
		}
		free(mt);
	}
	/* no such backup */
	CHECK_EQ(
	    backup_restore(&e.t, "actlog-nope", e.kp, "/tmp/x-never", NULL, NULL, why, sizeof(why)),
	    -ENOENT);
	free(p);
	free(orig);
	free(o2);
	env_down(&e);
}

TEST(backup_list_prune_cancel)
{
	struct env e;
	struct backup_info b, *list = NULL;
	volatile sig_atomic_t stop = 1;
	struct backup_ctl ctl = {.cancel = &stop, .chunk_size = 4096};
	char why[512];
	unsigned del = 0;
	size_t n = 0;

	env_up(&e);
	fill(e.st);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, &ctl, &b, why, sizeof(why)), -ECANCELED);
	CHECK_EQ(entries(e.bk), 0); /* nothing left */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(backup_take(e.st, e.kp, &e.t, NULL, &b, why, sizeof(why)), 0);
	/* an unfinished backup (no manifest) and a stray file are not listed */
	{
		char p[300];

		snprintf(p, sizeof(p), "%s/actlog-20000101T000000Z-00000000.alb", e.bk);
		write_all_file(p, (const uint8_t *)"x", 1);
		snprintf(p, sizeof(p), "%s/junk.manifest.json", e.bk);
		write_all_file(p, (const uint8_t *)"{", 1);
	}
	CHECK_EQ(backup_list(&e.t, &list, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 3);
	for (size_t i = 1; i < n; i++)
		CHECK(strcmp(list[i - 1].name, list[i].name) > 0); /* newest first */
	CHECK_EQ(backup_prune(&e.t, 1, NULL, &del, why, sizeof(why)), 0);
	CHECK_EQ(del, 2);
	free(list);
	CHECK_EQ(backup_list(&e.t, &list, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(entries(e.bk), 4); /* the one kept (2 files) and the two strays */
	free(list);
	CHECK_EQ(backup_prune(&e.t, 0, NULL, NULL, why, sizeof(why)), -EINVAL);
	env_down(&e);
}

/*
 * A clock gone back: the backup just taken has a name older than those at
 * the target, and a prune after it keeps it (the spare) rather than the
 * keep newest names alone.
 */
TEST(backup_prune_spares_the_one_taken)
{
	struct env e;
	struct backup_info a, b, *list = NULL;
	char why[512], p[300];
	unsigned del = 0;
	size_t n = 0;
	cJSON *j;
	char *txt;

	env_up(&e);
	fill(e.st);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, NULL, &a, why, sizeof(why)), 0);
	/* a backup named by a clock that ran ahead (its manifest is all a list reads) */
	snprintf(a.name, sizeof(a.name), "actlog-29991231T235959Z-0000abcd");
	j = backup_info_to_json(&a);
	txt = cJSON_PrintUnformatted(j);
	snprintf(p, sizeof(p), "%s/%s.manifest.json", e.bk, a.name);
	write_all_file(p, (const uint8_t *)txt, strlen(txt));
	free(txt);
	cJSON_Delete(j);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, NULL, &b, why, sizeof(why)), 0);
	CHECK_EQ(backup_prune(&e.t, 1, b.name, &del, why, sizeof(why)), 0);
	CHECK_EQ(del, 2);
	CHECK_EQ(backup_list(&e.t, &list, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 1);
	CHECK_STR(n ? list[0].name : "", b.name);
	free(list);
	/* keep 2: the spare and the newest other */
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, NULL, &a, why, sizeof(why)), 0);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, NULL, &b, why, sizeof(why)), 0);
	CHECK_EQ(backup_prune(&e.t, 2, b.name, &del, why, sizeof(why)), 0);
	CHECK_EQ(backup_list(&e.t, &list, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 2);
	CHECK(n == 2 && (!strcmp(list[0].name, b.name) || !strcmp(list[1].name, b.name)));
	free(list);
	env_down(&e);
}

/* A loopback endpoint that answers every listing with lst_body and every
 * other request with 404. */
struct lst_stub {
	int fd;
	unsigned short port;
	const char *body;
	char *manifest; /* the answer to a GET of elsewhere.manifest.json */
	pthread_t th;
};

static void *lst_serve(void *arg)
{
	struct lst_stub *st = arg;
	int c;

	while ((c = accept(st->fd, NULL, NULL)) >= 0) {
		char req[8192], out[8192];
		size_t have = 0;
		ssize_t r;

		for (;;) {
			char *end;

			r = read(c, req + have, sizeof(req) - 1 - have);
			if (r <= 0)
				break;
			have += (size_t)r;
			req[have] = '\0';
			end = strstr(req, "\r\n\r\n");
			if (!end)
				continue;
			if (strstr(req, "list-type=2"))
				snprintf(out, sizeof(out),
					 "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
					 "Content-Length: %zu\r\n\r\n%s",
					 strlen(st->body), st->body);
			else if (strstr(req, "elsewhere.manifest.json") && st->manifest)
				snprintf(out, sizeof(out),
					 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
					 "Content-Length: %zu\r\n\r\n%s",
					 strlen(st->manifest), st->manifest);
			else
				snprintf(out, sizeof(out),
					 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
			if (write(c, out, strlen(out)) < 0)
				break;
			have -= (size_t)(end + 4 - req);
			memmove(req, end + 4, have);
		}
		close(c);
	}
	return NULL;
}

/* A listing that names keys outside the prefix, one shorter than it: none
 * is taken for a backup under the prefix (nor read past its end). */
TEST(backup_list_keys_outside_prefix)
{
	struct lst_stub st = {
	    .body = "<?xml version=\"1.0\"?><ListBucketResult><Name>bkt</Name>"
		    "<IsTruncated>false</IsTruncated>"
		    "<Contents><Key>x</Key><Size>1</Size></Contents>"
		    "<Contents><Key>elsewhere.manifest.json</Key><Size>1</Size></Contents>"
		    "<Contents><Key>actlog-backups-no/b.manifest.json</Key><Size>1</Size>"
		    "</Contents></ListBucketResult>"};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	struct s3_config s3 = {.region = "us-east-1",
			       .access_key = "AK",
			       .secret_key = "SK",
			       .path_style = 1,
			       .max_attempts = 1};
	struct backup_target t;
	struct backup_info *list = NULL;
	char ep[64], why[512];
	size_t n = 9;

	{ /* a manifest for the key outside the prefix, were it read under it */
		struct backup_info b = {.format = BACKUP_FORMAT};
		cJSON *j;

		snprintf(b.name, sizeof(b.name), "elsewhere");
		memset(b.sha256, 'a', 64);
		j = backup_info_to_json(&b);
		st.manifest = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
	}
	st.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(st.fd >= 0);
	CHECK_EQ(bind(st.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(listen(st.fd, 8), 0);
	CHECK_EQ(getsockname(st.fd, (struct sockaddr *)&a, &al), 0);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	s3.endpoint = ep;
	CHECK_EQ(pthread_create(&st.th, NULL, lst_serve, &st), 0);
	CHECK_EQ(backup_target_parse("s3://bkt/actlog-backups/", &s3, &t, why, sizeof(why)), 0);
	CHECK_EQ(backup_list(&t, &list, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 0);
	free(list);
	backup_target_free(&t);
	shutdown(st.fd, SHUT_RDWR);
	pthread_join(st.th, NULL);
	close(st.fd);
	free(st.manifest);
}

/*
 * Only objects named as backup_take() names them are backups: a valid
 * manifest under another name beside them (another tool's, another
 * owner's) is neither listed nor counted nor deleted by a prune.
 */
TEST(backup_list_only_backup_names)
{
	struct env e;
	struct backup_info b, other, *list = NULL;
	char why[512], p[300], *txt;
	unsigned del = 9;
	size_t n = 0;
	cJSON *j;

	env_up(&e);
	fill(e.st);
	CHECK_EQ(backup_take(e.st, e.kp, &e.t, NULL, &b, why, sizeof(why)), 0);
	other = b;
	snprintf(other.name, sizeof(other.name), "notes");
	j = backup_info_to_json(&other);
	txt = cJSON_PrintUnformatted(j);
	snprintf(p, sizeof(p), "%s/notes.manifest.json", e.bk);
	write_all_file(p, (const uint8_t *)txt, strlen(txt));
	snprintf(p, sizeof(p), "%s/notes.alb", e.bk);
	write_all_file(p, (const uint8_t *)"x", 1);
	cJSON_free(txt);
	cJSON_Delete(j);
	CHECK_EQ(backup_list(&e.t, &list, &n, why, sizeof(why)), 0);
	CHECK_EQ(n, 1);
	CHECK_STR(n ? list[0].name : "", b.name);
	free(list);
	CHECK_EQ(backup_prune(&e.t, 1, NULL, &del, why, sizeof(why)), 0);
	CHECK_EQ(del, 0);
	CHECK_EQ(entries(e.bk), 4); /* the backup's two files and the other two */
	env_down(&e);
}

TEST(backup_name_shapes)
{
	CHECK(backup_name_shape("actlog-20261207T045140Z-63282197", 32));
	CHECK(!backup_name_shape("actlog-20261207T045140Z-6328219", 31));
	CHECK(!backup_name_shape("actlog-20261207T045140Z-6328219G", 32));
	CHECK(!backup_name_shape("actlog-2026120xT045140Z-63282197", 32));
	CHECK(!backup_name_shape("actlog_20261207T045140Z-63282197", 32));
	CHECK(!backup_name_shape("notes", 5));
}

/* The bounded set keeps the greatest names whatever the order of arrival
 * (S3 lists in ascending order; a directory in any). */
TEST(backup_names_keep_newest)
{
	char v[5][BACKUP_NAME_MAX + 1], nm[BACKUP_NAME_MAX + 1];
	size_t n = 0;
	unsigned order[50];

	for (unsigned i = 0; i < 50; i++)
		order[i] = i;
	srand(7);
	for (unsigned i = 49; i > 0; i--) { /* shuffled */
		unsigned k = (unsigned)rand() % (i + 1), t = order[i];

		order[i] = order[k];
		order[k] = t;
	}
	for (unsigned i = 0; i < 50; i++) {
		snprintf(nm, sizeof(nm), "actlog-202612%02uT000000Z-00000000", order[i]);
		backup_names_add(v, &n, 5, nm);
	}
	CHECK_EQ(n, 5);
	backup_names_sort(v, n);
	for (unsigned i = 0; i < 5; i++) {
		snprintf(nm, sizeof(nm), "actlog-202612%02uT000000Z-00000000", 49 - i);
		CHECK_STR(v[i], nm);
	}
	/* ascending arrival, as S3 lists */
	n = 0;
	for (unsigned i = 0; i < 50; i++) {
		snprintf(nm, sizeof(nm), "actlog-202612%02uT000000Z-00000000", i);
		backup_names_add(v, &n, 5, nm);
	}
	backup_names_sort(v, n);
	CHECK_STR(v[0], "actlog-20261249T000000Z-00000000");
	CHECK_STR(v[4], "actlog-20261245T000000Z-00000000");
}

TEST(backup_urls)
{
	struct backup_target t;
	struct s3_config s3 = {.region = "eu-west-1", .access_key = "AK", .secret_key = "SK"};
	char tu[BACKUP_URL_MAX + 1], nm[BACKUP_NAME_MAX + 1], why[256];

	CHECK_EQ(backup_target_parse("file://relative/dir", NULL, &t, why, sizeof(why)), -EINVAL);
	CHECK_EQ(backup_target_parse("http://x/y", NULL, &t, why, sizeof(why)), -EINVAL);
	CHECK_EQ(backup_target_parse("s3://Bad_Bucket/x", &s3, &t, why, sizeof(why)), -EINVAL);
	CHECK_EQ(backup_target_parse("s3://bucket/x", NULL, &t, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "S3 settings missing") != NULL);
	CHECK_EQ(backup_target_parse("s3://my-bucket/a/b/", &s3, &t, why, sizeof(why)), 0);
	CHECK_EQ(t.kind, BACKUP_S3);
	CHECK_STR(t.s3.bucket, "my-bucket");
	CHECK_STR(t.prefix, "a/b/");
	CHECK_STR(t.s3.secret_key, "SK");
	backup_target_free(&t);
	CHECK_EQ(backup_target_parse("s3://my-bucket", &s3, &t, why, sizeof(why)), 0);
	CHECK_STR(t.prefix, "");
	backup_target_free(&t);
	CHECK_EQ(backup_target_parse("file:///var/bk/", NULL, &t, why, sizeof(why)), 0);
	CHECK_STR(t.dir, "/var/bk");
	backup_target_free(&t);
	CHECK_EQ(backup_url_split("s3://b/p/actlog-x.alb", tu, nm, why, sizeof(why)), 0);
	CHECK_STR(tu, "s3://b/p");
	CHECK_STR(nm, "actlog-x");
	CHECK_EQ(backup_url_split("file:///d/actlog-y.manifest.json", tu, nm, why, sizeof(why)), 0);
	CHECK_STR(tu, "file:///d");
	CHECK_STR(nm, "actlog-y");
	CHECK_EQ(backup_url_split("file:///d/", tu, nm, why, sizeof(why)), -EINVAL);
	CHECK_EQ(backup_url_split("s3://bucketonly", tu, nm, why, sizeof(why)), -EINVAL);
	CHECK_EQ(backup_url_split("file:///d/../x", tu, nm, why, sizeof(why)), 0);
	CHECK_STR(nm, "x");
}

/* --- the snapshot: one read, commits go on during it --- */

struct during {
	struct store *st;
	int calls, commit_rc, saw_new;
	char last_pk[64];
};

static void *put_new(void *arg)
{
	struct during *d = arg;

	d->commit_rc = store_put(d->st, STORE_T_META, "new", "x", "1", 1, 0);
	if (!d->commit_rc)
		d->commit_rc = store_delete(d->st, STORE_T_META, "schema", "v", 0);
	return NULL;
}

static int during_item(enum store_table t, const char *pk, const char *sk, const void *val,
		       size_t len, void *ctx)
{
	struct during *d = ctx;
	pthread_t th;

	(void)sk, (void)val, (void)len;
	if (d->calls++ == 0) {
		/* a commit from another thread completes while the read is open */
		pthread_create(&th, NULL, put_new, d);
		pthread_join(th, NULL);
	}
	if (t == STORE_T_META && !strcmp(pk, "new"))
		d->saw_new = 1;
	if (t == STORE_T_META)
		snprintf(d->last_pk, sizeof(d->last_pk), "%s", pk);
	return 0;
}

TEST(snapshot_is_one_read)
{
	struct env e;
	struct during d = {0};
	void *v = NULL;
	size_t len = 0;

	env_up(&e);
	CHECK_EQ(store_put(e.st, STORE_T_META, "schema", "v", "", 0, 0), 0);
	CHECK_EQ(store_put(e.st, STORE_T_USERS, "u", "1", "a", 1, 0), 0);
	d.st = e.st;
	CHECK_EQ(store_snapshot(e.st, during_item, &d), 0);
	CHECK_EQ(d.commit_rc, 0);
	CHECK_EQ(d.calls, 2);		/* the two items of the snapshot's instant */
	CHECK_EQ(d.saw_new, 0);		/* not the item committed during it */
	CHECK_STR(d.last_pk, "schema"); /* and still the one deleted during it */
	CHECK_EQ(store_get(e.st, STORE_T_META, "new", "x", &v, &len), 0);
	free(v);
	env_down(&e);
}

int main(void)
{
	RUN(dump_fixture);
	RUN(dump_parser_caps);
	RUN(dump_parser_refusals);
	RUN(snapshot_is_one_read);
	RUN(backup_round_trip);
	RUN(backup_empty_store);
	RUN(backup_tamper);
	RUN(backup_list_prune_cancel);
	RUN(backup_prune_spares_the_one_taken);
	RUN(backup_list_keys_outside_prefix);
	RUN(backup_list_only_backup_names);
	RUN(backup_name_shapes);
	RUN(backup_names_keep_newest);
	RUN(backup_urls);
	return CHECK_DONE();
}
