// SPDX-License-Identifier: BSD-2-Clause
/*
 * review.c - the access review of a node (contracts: model/review.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/org.h"
#include "model/report.h"
#include "model/review.h"
#include "store/keys.h"

struct review {
	struct srv *s;
	cJSON *rows;
	size_t n, max;
	bool truncated;
	int err;
	/* the node being read */
	const char *node_id, *node_path, *node_name;
};

/* One grant on the node (GRANTS pk "node|<node>", sk "<user>|<role>"). */
static int review_grant(const char *pk, const char *sk, const void *v, size_t l, void *ctx)
{
	struct review *r = ctx;
	char uid[ID_SIZE], lg[LOGIN_MAX_LEN + 1];
	const char *bar = strchr(sk, '|');
	cJSON *g = NULL, *u = NULL, *row;
	struct key k;

	(void)pk;
	(void)v;
	(void)l;
	if (!bar || (size_t)(bar - sk) >= ID_SIZE)
		return 0;
	if (r->n >= r->max) {
		r->truncated = true;
		return 1;
	}
	memcpy(uid, sk, (size_t)(bar - sk));
	uid[bar - sk] = 0;
	if (jget(r->s, STORE_T_GRANTS, uid, key_grant_user_sk(&k, r->node_id, bar + 1), &g))
		return 0; /* half a grant (deleted meanwhile): none */
	org_grant_view(r->s, g);
	if (jget(r->s, STORE_T_USERS, uid, SK_USER, &u))
		u = NULL;
	row = cJSON_CreateObject();
	if (!row) {
		cJSON_Delete(g);
		cJSON_Delete(u);
		r->err = -ENOMEM;
		return 1;
	}
	cJSON_AddStringToObject(row, "user_id", uid);
	if (u && org_user_login(u, lg))
		cJSON_AddStringToObject(row, "login", lg);
	else
		cJSON_AddNullToObject(row, "login");
	if (u && jstr(u, "name"))
		cJSON_AddStringToObject(row, "name", jstr(u, "name"));
	else
		cJSON_AddNullToObject(row, "name");
	cJSON_AddStringToObject(row, "role", bar + 1);
	if (jstr(g, "role_id"))
		cJSON_AddStringToObject(row, "role_id", jstr(g, "role_id"));
	cJSON_AddStringToObject(row, "node_id", r->node_id);
	cJSON_AddStringToObject(row, "node_path", r->node_path);
	cJSON_AddStringToObject(row, "node_name", r->node_name);
	cJSON_AddItemToObject(row, "created_by",
			      cJSON_DetachItemFromObjectCaseSensitive(g, "created_by"));
	cJSON_AddItemToObject(row, "created_at",
			      cJSON_DetachItemFromObjectCaseSensitive(g, "created_at"));
	if (u && jstr(u, "last_sign_in"))
		cJSON_AddStringToObject(row, "last_sign_in", jstr(u, "last_sign_in"));
	else
		cJSON_AddNullToObject(row, "last_sign_in");
	cJSON_AddBoolToObject(row, "disabled",
			      u && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "disabled")));
	cJSON_AddItemToArray(r->rows, row);
	r->n++;
	cJSON_Delete(g);
	cJSON_Delete(u);
	return 0;
}

static int review_node(struct review *r, const char *id, const char *path, int depth);

struct review_walk {
	struct review *r;
	const char *path;
	int depth;
};

static int review_child(const char *pk, const char *sk, const void *v, size_t l, void *ctx)
{
	struct review_walk *w = ctx;

	(void)pk;
	(void)v;
	(void)l;
	if (w->r->truncated || w->r->err)
		return 1;
	review_node(w->r, sk + strlen(SK_CHILD_PREFIX), w->path, w->depth + 1);
	return w->r->truncated || w->r->err ? 1 : 0;
}

/* The grants of node id, whose parent's path is path, then of its children. */
static int review_node(struct review *r, const char *id, const char *path, int depth)
{
	struct review_walk w = {r, NULL, depth};
	const char *name = "root";
	char *mine = NULL;
	cJSON *n = NULL;
	struct key pk;
	int ret;

	if (depth > TREE_DEPTH)
		return 0;
	if (strcmp(id, ROOT_ID)) {
		ret = node_get(r->s, id, &n);
		if (ret == -ENOENT && depth > 0)
			return 0; /* deleted meanwhile */
		if (ret)
			return r->err = ret;
		name = jstr(n, "name") ? jstr(n, "name") : "";
		if (asprintf(&mine, "%s%s%s", path, path[0] ? "/" : "", name) < 0) {
			cJSON_Delete(n);
			return r->err = -ENOMEM;
		}
	}
	r->node_id = id;
	r->node_path = mine ? mine : "";
	r->node_name = name;
	ret = store_query(r->s->st, STORE_T_GRANTS, key_grant_node_pk(&pk, id), NULL, NULL, 0, 0,
			  review_grant, r);
	if (ret < 0 && !r->err)
		r->err = ret;
	w.path = mine ? mine : "";
	if (!r->truncated && !r->err) {
		ret = store_query(r->s->st, STORE_T_NODES, id, SK_CHILD_PREFIX, NULL, 0,
				  STORE_PREFIX, review_child, &w);
		if (ret < 0 && !r->err)
			r->err = ret;
	}
	free(mine);
	cJSON_Delete(n);
	return r->err;
}

/* The names of the nodes above node id, below the root, joined by "/"
 * into *out (malloc'd): "" for the root and a business. 0, -ENOENT,
 * -errno. */
static int review_prefix(struct srv *s, const char *id, char **out)
{
	const cJSON *e;
	cJSON *n = NULL, *a = NULL;
	char *p = strdup(""), *q;
	int ret = 0;

	if (!p)
		return -ENOMEM;
	*out = NULL;
	if (strcmp(id, ROOT_ID) && (ret = node_get(s, id, &n))) {
		free(p);
		return ret;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(n, "path"))
	{
		if (!cJSON_IsString(e) || !strcmp(e->valuestring, ROOT_ID) ||
		    !strcmp(e->valuestring, id))
			continue;
		ret = node_get(s, e->valuestring, &a);
		if (ret)
			break;
		ret = asprintf(&q, "%s%s%s", p, p[0] ? "/" : "",
			       jstr(a, "name") ? jstr(a, "name") : "");
		cJSON_Delete(a);
		a = NULL;
		if (ret < 0) {
			ret = -ENOMEM;
			break;
		}
		ret = 0;
		free(p);
		p = q;
	}
	cJSON_Delete(n);
	if (ret) {
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

int review_collect(struct srv *s, const char *node_id, size_t max, cJSON **out)
{
	struct review r = {s, NULL, 0, max, false, 0, NULL, NULL, NULL};
	char *prefix = NULL;
	int ret;

	*out = cJSON_CreateObject();
	if (!*out || !cJSON_AddStringToObject(*out, "node_id", node_id) ||
	    !(r.rows = cJSON_AddArrayToObject(*out, "rows"))) {
		cJSON_Delete(*out);
		*out = NULL;
		return -ENOMEM;
	}
	ret = review_prefix(s, node_id, &prefix);
	if (!ret)
		ret = review_node(&r, node_id, prefix, 0);
	free(prefix);
	if (ret) {
		cJSON_Delete(*out);
		*out = NULL;
		return ret;
	}
	cJSON_AddBoolToObject(*out, "truncated", r.truncated);
	return 0;
}

/* A growing buffer: err set once an append failed. */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	char *np;
	size_t nc;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n + 1)
			nc *= 2;
		np = realloc(b->p, nc);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

/* One field (NULL: empty), after a comma unless first: RFC 4180 and
 * formulas neutralised as in the reports (report_csv_field()). */
static void csv_field(struct sbuf *b, const char *v, bool first)
{
	char small[512], *t = small;
	size_t need;
	int n;

	if (!first)
		sb_add(b, ",", 1);
	if (!v)
		return;
	need = 2 * strlen(v) + 4; /* every byte doubled, two quotes, a ' */
	if (need > sizeof(small) && !(t = malloc(need))) {
		b->err = -ENOMEM;
		return;
	}
	n = report_csv_field(t, need, v);
	if (n > 0)
		sb_add(b, t, (size_t)n);
	if (t != small)
		free(t);
}

int review_csv(const cJSON *rows, char **buf, size_t *len)
{
	struct sbuf b = {NULL, 0, 0, 0};
	const cJSON *r, *cb;

	sb_add(&b, REVIEW_CSV_HEADER "\r\n", strlen(REVIEW_CSV_HEADER) + 2);
	cJSON_ArrayForEach(r, rows)
	{
		cb = cJSON_GetObjectItemCaseSensitive(r, "created_by");
		csv_field(&b, jstr(r, "user_id"), true);
		csv_field(&b, jstr(r, "login"), false);
		csv_field(&b, jstr(r, "name"), false);
		csv_field(&b, jstr(r, "role"), false);
		csv_field(&b, jstr(r, "node_id"), false);
		csv_field(&b, jstr(r, "node_path"), false);
		csv_field(&b, jstr(r, "node_name"), false);
		csv_field(&b, cJSON_IsObject(cb) ? jstr(cb, "id") : NULL, false);
		csv_field(&b, cJSON_IsObject(cb) ? jstr(cb, "login") : NULL, false);
		csv_field(&b, jstr(r, "created_at"), false);
		csv_field(&b, jstr(r, "last_sign_in"), false);
		csv_field(&b,
			  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "disabled")) ? "true"
											: "false",
			  false);
		sb_add(&b, "\r\n", 2);
	}
	if (b.err) {
		free(b.p);
		*buf = NULL;
		*len = 0;
		return b.err;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}
