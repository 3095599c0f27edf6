// SPDX-License-Identifier: BSD-2-Clause
/*
 * export.c - the export of a user's data as a ZIP file (contracts and
 * contents: model/export.h). Every member's bytes are first appended to one
 * anonymous spool file; each member is a span of it, read by libzip through
 * a source of our own (pread) when the archive is written, so that an
 * export of many screenshots holds two files open, not one per member.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "model/avatar.h"
#include "model/device.h"
#include "model/erase.h"
#include "model/export.h"
#include "model/report.h"
#include "model/shots.h"
#include "store/keys.h"
#include "util.h"

#define DAY_MS 86400000LL
#define TYPE_MAX 31	     /* bytes of a record type we name a file after */
#define INDEX_MAX 1000000    /* day-index items read over the user's devices */
#define SHOTS_MAX 100000     /* screenshots of one export */
#define COPY_BUF (64u << 10) /* bytes copied at once */

struct xp {
	struct srv *s;
	const char *uid;
	zip_t *z;
	int spool;     /* every member's bytes, one after the other */
	uint64_t size; /* of the spool */
	struct export_stats st;
	struct model_why *why;
	bool shots; /* the screenshots too: the user or screenshot.read on them */
};

/* --- the spool and its spans --- */

struct span {
	int fd;
	uint64_t start, len, pos;
	zip_error_t err;
};

static zip_int64_t span_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	struct span *sp = ud;
	ssize_t r;

	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		sp->pos = 0;
		return 0;
	case ZIP_SOURCE_READ:
		if (len > sp->len - sp->pos)
			len = sp->len - sp->pos;
		r = len ? pread(sp->fd, data, len, (off_t)(sp->start + sp->pos)) : 0;
		if (r < 0) {
			zip_error_set(&sp->err, ZIP_ER_READ, errno);
			return -1;
		}
		sp->pos += (uint64_t)r;
		return r;
	case ZIP_SOURCE_CLOSE:
		return 0;
	case ZIP_SOURCE_STAT: {
		zip_stat_t *st = data;

		if (len < sizeof(*st))
			return -1;
		zip_stat_init(st);
		st->size = sp->len;
		st->valid |= ZIP_STAT_SIZE;
		return sizeof(*st);
	}
	case ZIP_SOURCE_ERROR:
		return zip_error_to_data(&sp->err, data, len);
	case ZIP_SOURCE_FREE:
		zip_error_fini(&sp->err);
		free(sp);
		return 0;
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ,
						      ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
						      ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
	default:
		return -1;
	}
}

/* Refuse past the cap: -EFBIG with the message. */
static int over_cap(struct xp *x)
{
	return why_refuse(x->why, -EFBIG,
			  "the export of this user is over %llu MiB (mostly screenshots, "
			  "likely): lower the team's retention.days or delete old screenshots, "
			  "then export again",
			  (unsigned long long)(EXPORT_MAX_BYTES >> 20));
}

/* Append len bytes of buf to the spool. 0 or -errno. */
static int spool_put(struct xp *x, const void *buf, size_t len)
{
	if (x->size + len > EXPORT_MAX_BYTES)
		return over_cap(x);
	x->size += len;
	return write_all(x->spool, buf, len);
}

/* Append the len bytes of fd (from offset 0) to the spool. 0 or -errno. */
static int spool_copy(struct xp *x, int fd, uint64_t len)
{
	char *buf;
	uint64_t off = 0;
	ssize_t r;
	int ret = 0;

	if (x->size + len > EXPORT_MAX_BYTES)
		return over_cap(x);
	buf = malloc(COPY_BUF);
	if (!buf)
		return -ENOMEM;
	while (!ret && off < len) {
		r = pread(fd, buf, len - off < COPY_BUF ? len - off : COPY_BUF, (off_t)off);
		if (r <= 0)
			ret = r < 0 ? -errno : -EIO;
		else
			ret = spool_put(x, buf, (size_t)r);
		off += r > 0 ? (uint64_t)r : 0;
	}
	free(buf);
	return ret;
}

/* Add member name: the spool's bytes from start to its end. store: no
 * compression (images). 0 or -errno. */
static int member(struct xp *x, const char *name, uint64_t start, bool store)
{
	struct span *sp = calloc(1, sizeof(*sp));
	zip_source_t *src;
	zip_int64_t i;

	if (!sp)
		return -ENOMEM;
	sp->fd = x->spool;
	sp->start = start;
	sp->len = x->size - start;
	zip_error_init(&sp->err);
	src = zip_source_function(x->z, span_cb, sp);
	if (!src) {
		zip_error_fini(&sp->err);
		free(sp);
		return -ENOMEM;
	}
	i = zip_file_add(x->z, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
	if (i < 0) {
		zip_source_free(src);
		return -EIO;
	}
	if (store)
		zip_set_file_compression(x->z, (zip_uint64_t)i, ZIP_CM_STORE, 0);
	return 0;
}

/* Member name holding JSON j (printed). 0 or -errno. */
static int member_json(struct xp *x, const char *name, const cJSON *j)
{
	uint64_t start = x->size;
	char *t = cJSON_Print(j);
	int ret;

	if (!t)
		return -ENOMEM;
	ret = spool_put(x, t, strlen(t));
	ret = ret ? ret : spool_put(x, "\n", 1);
	free(t);
	return ret ? ret : member(x, name, start, false);
}

static const char *image_ext(const char *ct)
{
	if (ct && !strcmp(ct, "image/jpeg"))
		return "jpg";
	if (ct && !strcmp(ct, "image/webp"))
		return "webp";
	return "png";
}

/* --- user.json --- */

static int add_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	cJSON *e = cJSON_ParseWithLength(val, len);

	(void)pk;
	(void)sk;
	if (e)
		cJSON_AddItemToArray(ctx, e);
	return 0;
}

static int user_json(struct xp *x, const cJSON *u, const struct erase_ids *devs)
{
	cJSON *o = cJSON_CreateObject(), *grants, *owned;
	size_t i;
	int ret;

	if (!o)
		return -ENOMEM;
	cJSON_AddItemToObject(o, "user", user_view(u));
	grants = cJSON_AddArrayToObject(o, "grants");
	owned = cJSON_AddArrayToObject(o, "devices");
	ret = grants && owned ? store_query(x->s->st, STORE_T_GRANTS, x->uid, NULL, NULL,
					    MAX_GRANTS, 0, add_item, grants)
			      : -ENOMEM;
	for (i = 0; ret >= 0 && i < devs->n; i++) {
		cJSON *d = NULL;
		const char *owner;

		ret = jget(x->s, STORE_T_DEVICES, devs->v[i], SK_DEVICE, &d);
		owner = jstr(d, "owner_id");
		if (!ret && owner && !strcmp(owner, x->uid))
			cJSON_AddItemToArray(owned, device_view(d));
		cJSON_Delete(d);
		ret = ret == -ENOENT ? 0 : ret;
	}
	ret = ret < 0 ? ret : member_json(x, "user.json", o);
	cJSON_Delete(o);
	return ret;
}

/* --- the reports --- */

static int report_member(struct xp *x, const struct principal *p, enum report_kind kind,
			 const char *name)
{
	const int64_t to = (now_ms() / DAY_MS + 1) * DAY_MS;
	struct report_req q = {kind,
			       REPORT_CSV,
			       x->uid,
			       NULL,
			       to - EXPORT_REPORT_DAYS * DAY_MS,
			       to,
			       kind == REPORT_ACTIVITY ? DAY_MS : 0};
	uint64_t start = x->size;
	struct report *r;
	char *buf;
	ssize_t n;
	int ret;

	ret = report_open(x->s, p, &q, &r, NULL);
	if (ret)
		return ret;
	buf = malloc(COPY_BUF);
	if (!buf) {
		report_free(r);
		return -ENOMEM;
	}
	while ((n = report_read(r, buf, COPY_BUF)) > 0)
		if ((ret = spool_put(x, buf, (size_t)n)))
			break;
	if (!ret && n < 0)
		ret = (int)n;
	free(buf);
	report_free(r);
	return ret ? ret : member(x, name, start, false);
}

/* --- records/<type>.ndjson --- */

struct part {
	char dev[ID_SIZE];
	char sk[ID_SIZE]; /* "<day>|<type>" */
};

struct parts {
	struct part *v;
	size_t n, cap;
	const char *dev;
};

static int collect_part(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct parts *l = ctx;
	const char *bar = strchr(sk, '|');

	(void)pk;
	(void)val;
	(void)len;
	if (strlen(sk) >= ID_SIZE || !bar || strlen(bar + 1) > TYPE_MAX)
		return 0;
	if (l->n >= INDEX_MAX)
		return -E2BIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct part *n = realloc(l->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->v = n;
		l->cap = cap;
	}
	strcpy(l->v[l->n].dev, l->dev);
	strcpy(l->v[l->n].sk, sk);
	l->n++;
	return 0;
}

struct rec_ctx {
	struct xp *x;
	int err;
};

static int put_record(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct rec_ctx *c = ctx;
	cJSON *r = cJSON_ParseWithLength(val, len);
	const char *uid = jstr(r, "user_id");
	int ret = 0;

	(void)pk;
	(void)sk;
	if (uid && !strcmp(uid, c->x->uid)) {
		ret = spool_put(c->x, val, len);
		ret = ret ? ret : spool_put(c->x, "\n", 1);
		c->x->st.records++;
	}
	cJSON_Delete(r);
	return ret;
}

static int records(struct xp *x, const struct erase_ids *devs)
{
	char types[EXPORT_TYPES_MAX][TYPE_MAX + 1], name[64];
	struct parts l = {0};
	size_t i, j, nt = 0;
	struct key pk;
	int ret = 0;

	for (i = 0; ret >= 0 && i < devs->n; i++) {
		l.dev = devs->v[i];
		ret = store_query(x->s->st, STORE_T_RECORDS, key_days_of(&pk, NULL, devs->v[i]),
				  NULL, NULL, 0, 0, collect_part, &l);
	}
	for (i = 0; ret >= 0 && i < l.n; i++) {
		const char *t = strchr(l.v[i].sk, '|') + 1;

		for (j = 0; j < nt && strcmp(types[j], t); j++)
			;
		if (j == nt && nt < EXPORT_TYPES_MAX)
			strcpy(types[nt++], t);
	}
	/* one file per type: its partitions one after the other */
	for (j = 0; ret >= 0 && j < nt; j++) {
		uint64_t start = x->size;
		struct rec_ctx c = {x, 0};

		for (i = 0; ret >= 0 && i < l.n; i++) {
			struct key part;

			if (strcmp(strchr(l.v[i].sk, '|') + 1, types[j]))
				continue;
			key_days_part(&part, STORE_T_RECORDS, key_days_of(&pk, NULL, l.v[i].dev),
				      l.v[i].sk);
			if (part.s[0])
				ret = store_query(x->s->st, STORE_T_RECORDS, part.s, NULL, NULL, 0,
						  0, put_record, &c);
		}
		if (ret >= 0 && x->size > start) {
			snprintf(name, sizeof(name), "records/%.*s.ndjson", TYPE_MAX, types[j]);
			ret = member(x, name, start, false);
		}
	}
	free(l.v);
	return ret < 0 ? ret : 0;
}

/* --- screenshots --- */

struct shot_ids {
	char (*v)[ID_SIZE];
	size_t n, cap;
};

static int collect_shot(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct shot_ids *l = ctx;
	cJSON *j = cJSON_ParseWithLength(val, len);
	const char *id = jstr(j, "id");
	int ret = 0;

	(void)pk;
	(void)sk;
	if (id && strlen(id) < ID_SIZE) {
		if (l->n >= SHOTS_MAX) {
			ret = -E2BIG;
		} else if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 32;
			char(*n)[ID_SIZE] = realloc(l->v, cap * sizeof(*n));

			if (!n)
				ret = -ENOMEM;
			else
				l->v = n, l->cap = cap;
		}
		if (!ret)
			strcpy(l->v[l->n++], id);
	}
	cJSON_Delete(j);
	return ret;
}

static int collect_day(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct xp *x = ((void **)ctx)[0];
	struct key part;
	int ret;

	(void)val;
	(void)len;
	key_days_part(&part, STORE_T_SCREENSHOTS, pk, sk);
	if (!part.s[0])
		return 0;
	ret = store_query(x->s->st, STORE_T_SCREENSHOTS, part.s, NULL, NULL, 0, 0, collect_shot,
			  ((void **)ctx)[1]);
	return ret < 0 ? ret : 0; /* a count would stop the outer query */
}

static int screenshots(struct xp *x)
{
	struct shot_ids l = {0};
	void *ctx[2] = {x, &l};
	cJSON *arr = cJSON_CreateArray(), *sh;
	char name[64];
	struct key pk;
	size_t i;
	int ret;

	if (!arr)
		return -ENOMEM;
	ret = store_query(x->s->st, STORE_T_SCREENSHOTS, key_days_of(&pk, "user", x->uid), NULL,
			  NULL, 0, 0, collect_day, ctx);
	for (i = 0; ret >= 0 && i < l.n; i++) {
		uint64_t start = x->size, len;
		int fd;

		sh = NULL;
		ret = jget(x->s, STORE_T_SCREENSHOTS, l.v[i], SK_SHOT, &sh);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret)
			break;
		if (x->size + (uint64_t)jint(sh, "size", 0) > EXPORT_MAX_BYTES) {
			cJSON_Delete(sh);
			ret = over_cap(x);
			break;
		}
		ret = shots_image_fetch(x->s, sh, l.v[i], &fd, &len, x->why);
		if (!ret) {
			ret = spool_copy(x, fd, len);
			close(fd);
		}
		if (!ret) {
			snprintf(name, sizeof(name), "screenshots/%s.%s", l.v[i],
				 image_ext(shots_content_type(sh)));
			ret = member(x, name, start, true);
		}
		if (!ret) {
			cJSON_DeleteItemFromObjectCaseSensitive(sh, "key");
			cJSON_AddItemToArray(arr, sh);
			x->st.screenshots++;
		} else {
			cJSON_Delete(sh);
		}
	}
	ret = ret < 0 ? ret : member_json(x, "screenshots.json", arr);
	cJSON_Delete(arr);
	free(l.v);
	return ret;
}

static int avatar(struct xp *x)
{
	struct avatar_rec a;
	uint64_t start = x->size, len;
	char name[32];
	int fd, ret = avatar_get(x->s, x->uid, &a, x->why);

	if (ret == -ENOENT) {
		why_reset(x->why);
		return 0;
	}
	if (ret)
		return ret;
	ret = avatar_fetch(x->s, x->uid, a.item, &fd, &len, x->why);
	if (!ret) {
		ret = spool_copy(x, fd, len);
		close(fd);
	}
	if (!ret) {
		snprintf(name, sizeof(name), "avatar.%s", image_ext(jstr(a.item, "content_type")));
		ret = member(x, name, start, true);
	}
	cJSON_Delete(a.item);
	return ret;
}

/* --- the archive --- */

int export_build(struct srv *s, const struct principal *p, const char *uid, int *fd, uint64_t *len,
		 struct export_stats *st, struct model_why *why)
{
	struct xp x = {.s = s, .uid = uid, .spool = -1, .why = why};
	struct erase_ids devs = {0};
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	struct stat sb;
	cJSON *u = NULL;
	int tmp, zerr = 0, ret;

	why_reset(why);
	*fd = -1;
	*len = 0;
	memset(st, 0, sizeof(*st));
	if (!dir || *dir != '/' || strlen(dir) > PATH_MAX - 32)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/actlog-export.XXXXXX", dir);
	ret = jget(s, STORE_T_USERS, uid, SK_USER, &u);
	if (ret)
		return why_fail(why, ret, "user");
	/* the images are screenshot.read's, as GET /screenshots: user.read
	 * and activity.read alone export the rest (the user: all of it) */
	if (!strcmp(p->id, uid)) {
		x.shots = true;
	} else {
		struct target t;

		ret = target_user(s, uid, &t);
		if (ret) {
			cJSON_Delete(u);
			return why_fail(why, ret, "user");
		}
		x.shots = !authorize(p, PERM_SCREENSHOT_READ, &t);
	}
	tmp = mkostemp(path, O_CLOEXEC);
	if (tmp < 0) {
		ret = -errno;
		cJSON_Delete(u);
		return why_fail(why, ret, "export");
	}
	close(tmp);
	x.spool = tmpfile_anon();
	x.z = x.spool >= 0 ? zip_open(path, ZIP_TRUNCATE, &zerr) : NULL;
	ret = x.spool < 0 ? x.spool : x.z ? 0 : -EIO;
	ret = ret ? ret : erase_user_devices(s, u, &devs);
	ret = ret ? ret : user_json(&x, u, &devs);
	ret = ret ? ret : report_member(&x, p, REPORT_ACTIVITY, "activity.csv");
	ret = ret ? ret : report_member(&x, p, REPORT_APPS, "apps.csv");
	ret = ret ? ret : records(&x, &devs);
	ret = ret ? ret : x.shots ? screenshots(&x) : 0;
	ret = ret ? ret : avatar(&x);
	if (!ret) {
		ret = zip_close(x.z) ? -EIO : 0;
		if (ret)
			zip_discard(x.z);
		x.z = NULL;
	}
	if (x.z)
		zip_discard(x.z);
	if (!ret) {
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		ret = *fd < 0 ? -errno : fstat(*fd, &sb) ? -errno : 0;
	}
	unlink(path);
	if (x.spool >= 0)
		close(x.spool);
	free(devs.v);
	cJSON_Delete(u);
	if (ret) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		if (!why->msg[0])
			why_fail(why, ret, "export");
		return ret;
	}
	*len = (uint64_t)sb.st_size;
	x.st.bytes = x.size;
	*st = x.st;
	return 0;
}
