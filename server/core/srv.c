// SPDX-License-Identifier: BSD-2-Clause
/*
 * srv.c - the application core: context, ids, JSON items, request helpers,
 * roles, principals, targets, authorize(), audit log and sealed values.
 * See srv.h.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "log.h"
#include "core/srv.h"
#include "store/keys.h"
#include "util.h"

#define DEFAULT_TOKEN_TTL_S (12u * 3600)
#define DEFAULT_LOGIN_BURST 10
#define DEFAULT_LOGIN_REFILL_MS 60000
#define LOGIN_ACCT_X 10 /* the account ceiling: 10 x the (account, address) bucket */
#define DEFAULT_API_BURST 600
#define DEFAULT_API_REFILL_MS 20
#define DEFAULT_PW_SLOTS 2
#define RL_SLOTS 65536

/* --- context --- */

int srv_init(struct srv *s, struct store *st, struct keyprov *kp, const struct srv_opts *o)
{
	cJSON *meta = NULL;
	int ret;

	memset(s, 0, sizeof(*s));
	s->st = st;
	s->kp = kp;
	if (o)
		s->o = *o;
	if (!s->o.token_ttl_s)
		s->o.token_ttl_s = DEFAULT_TOKEN_TTL_S;
	if (!s->o.login_burst)
		s->o.login_burst = DEFAULT_LOGIN_BURST;
	if (!s->o.login_refill_ms)
		s->o.login_refill_ms = DEFAULT_LOGIN_REFILL_MS;
	if (!s->o.api_burst)
		s->o.api_burst = DEFAULT_API_BURST;
	if (!s->o.api_refill_ms)
		s->o.api_refill_ms = DEFAULT_API_REFILL_MS;
	if (!s->o.pw_slots)
		s->o.pw_slots = DEFAULT_PW_SLOTS;
	if (!s->o.s3_timeout_s)
		s->o.s3_timeout_s = S3_API_DEFAULT_TIMEOUT_S;
	if (sodium_init() < 0)
		return -EIO;
	/* sign-in limits: api/auth.c */
	ret = ratelimit_new(RL_SLOTS, s->o.login_burst, s->o.login_refill_ms, &s->rl_login_pair);
	if (!ret)
		ret = ratelimit_new(RL_SLOTS, s->o.login_burst * 3, s->o.login_refill_ms / 3 + 1,
				    &s->rl_login_addr);
	if (!ret)
		ret = ratelimit_new(RL_SLOTS, s->o.login_burst * LOGIN_ACCT_X,
				    s->o.login_refill_ms / LOGIN_ACCT_X + 1, &s->rl_login_acct);
	if (!ret)
		ret = ratelimit_new(RL_SLOTS, s->o.api_burst, s->o.api_refill_ms, &s->rl_token);
	if (!ret && sem_init(&s->pw_sem, 0, s->o.pw_slots))
		ret = -errno;
	if (!ret && (ret = -pthread_rwlock_init(&s->kp_lock, NULL)))
		sem_destroy(&s->pw_sem);
	if (ret) {
		ratelimit_free(s->rl_login_pair);
		ratelimit_free(s->rl_login_acct);
		ratelimit_free(s->rl_login_addr);
		ratelimit_free(s->rl_token);
		return ret;
	}
	if (!jget(s, STORE_T_META, "store", "meta", &meta)) {
		const char *b = jstr(meta, "business_id");

		if (b)
			snprintf(s->business_id, sizeof(s->business_id), "%s", b);
		cJSON_Delete(meta);
	}
	return 0;
}

void srv_fini(struct srv *s)
{
	ratelimit_free(s->rl_login_pair);
	ratelimit_free(s->rl_login_acct);
	ratelimit_free(s->rl_login_addr);
	ratelimit_free(s->rl_token);
	sem_destroy(&s->pw_sem);
	pthread_rwlock_destroy(&s->kp_lock);
	memset(s, 0, sizeof(*s));
}

/* --- small helpers --- */

int64_t now_ms(void)
{
	return (int64_t)(clock_ns(CLOCK_REALTIME) / 1000000);
}

int id_new(char prefix, char out[ID_SIZE])
{
	uint8_t r[8];

	randombytes_buf(r, sizeof(r));
	snprintf(out, ID_SIZE, "%c_%02x%02x%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7]);
	return 0;
}

bool id_valid(const char *s, char prefix)
{
	size_t i;

	if (!s || strlen(s) != ID_LEN || s[1] != '_' || !islower((unsigned char)s[0]))
		return false;
	if (prefix && s[0] != prefix)
		return false;
	for (i = 2; i < ID_LEN; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

bool ts_accepted(int64_t ms, int64_t now)
{
	return ms >= TS_MIN_MS && ms <= now + TS_FUTURE_MS;
}

int email_norm(const char *in, char out[EMAIL_MAX_LEN + 1])
{
	size_t n, i;
	const char *at;

	if (!in)
		return -EINVAL;
	n = strlen(in);
	at = strchr(in, '@');
	if (n < 3 || n > EMAIL_MAX_LEN || !at || at == in || !at[1] || strchr(at + 1, '@'))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
		    c == ',' || c == ';' || c == '|')
			return -EINVAL;
		out[i] = (char)tolower(c);
	}
	out[n] = 0;
	/* UTF-8 only: it becomes a store key and goes into logs and audit */
	{
		char clean[EMAIL_MAX_LEN + 1];

		utf8_clean(clean, sizeof(clean), out, n);
		if (strcmp(clean, out))
			return -EINVAL;
	}
	return 0;
}

/* --- JSON items --- */

static int parse_item(void *v, size_t len, cJSON **out)
{
	*out = cJSON_ParseWithLength(v, len);
	free(v);
	return *out ? 0 : -EIO;
}

int jget(struct srv *s, enum store_table t, const char *pk, const char *sk, cJSON **out)
{
	void *v;
	size_t len;
	int ret;

	*out = NULL;
	ret = store_get(s->st, t, pk, sk, &v, &len);
	if (ret)
		return ret;
	return parse_item(v, len, out);
}

int jbget(struct store_batch *b, enum store_table t, const char *pk, const char *sk, cJSON **out)
{
	void *v;
	size_t len;
	int ret;

	*out = NULL;
	ret = store_batch_get(b, t, pk, sk, &v, &len);
	if (ret)
		return ret;
	return parse_item(v, len, out);
}

int jput(struct store_batch *b, enum store_table t, const char *pk, const char *sk, const cJSON *j,
	 unsigned flags)
{
	char *txt = cJSON_PrintUnformatted(j);
	int ret;

	if (!txt)
		return -ENOMEM;
	ret = store_batch_put(b, t, pk, sk, txt, strlen(txt), flags);
	free(txt);
	return ret;
}

const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t jint(const cJSON *o, const char *k, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	double d;

	if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble)
		return def;
	/* out of range a conversion is undefined (x86 gives INT64_MIN) */
	d = v->valuedouble;
	if (d >= 9223372036854775808.0)
		return INT64_MAX;
	if (d < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

/* Value 0..15 of hex digit c, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy the key j[from..to) into key when it is plain printable ASCII that fits. */
static void key_copy(char *key, size_t key_len, const char *j, size_t from, size_t to)
{
	size_t i;

	key[0] = 0;
	if (to - from >= key_len)
		return;
	for (i = from; i < to; i++)
		if ((unsigned char)j[i] <= 0x20 || (unsigned char)j[i] >= 0x7f || j[i] == '\\' ||
		    j[i] == '"')
			return;
	memcpy(key, j + from, to - from);
	key[to - from] = 0;
}

#define JSON_KEY_DEPTH 32 /* object keys remembered, from the top down */

long json_nul_find(const char *j, size_t len, char *key, size_t key_len)
{
	/* keys[d]: the span of the key naming what is read at depth d */
	size_t keys[JSON_KEY_DEPTH][2] = {{0, 0}};
	size_t i = 0, d = 0, start, k;
	long nul;

	while (i < len) {
		char c = j[i];

		if (c == '{' || c == '[') {
			if (++d < JSON_KEY_DEPTH) {
				keys[d][0] = keys[d - 1][0];
				keys[d][1] = keys[d - 1][1];
			}
			i++;
			continue;
		}
		if (c == '}' || c == ']') {
			d -= d > 0;
			i++;
			continue;
		}
		if (c != '"') {
			i++;
			continue;
		}
		/* a string: to its closing quote, escapes in pairs */
		start = ++i;
		nul = -1;
		while (i < len && j[i] != '"') {
			if (!j[i] && nul < 0)
				nul = (long)i;
			if (j[i] != '\\') {
				i++;
				continue;
			}
			if (i + 5 < len && j[i + 1] == 'u' && nul < 0 &&
			    (hexval(j[i + 2]) | hexval(j[i + 3]) | hexval(j[i + 4]) |
			     hexval(j[i + 5])) == 0)
				nul = (long)i;
			i += 2;
		}
		k = i < len ? i : len;
		i = k + 1;
		/* a key when a ':' follows */
		while (i < len && (j[i] == ' ' || j[i] == '\t' || j[i] == '\n' || j[i] == '\r'))
			i++;
		if (i < len && j[i] == ':') {
			if (d < JSON_KEY_DEPTH) {
				keys[d][0] = start;
				keys[d][1] = k;
			}
			if (nul >= 0 && key && key_len)
				key[0] = 0; /* in a key: no name to give */
		} else if (nul >= 0 && key && key_len) {
			size_t *kk = keys[d < JSON_KEY_DEPTH ? d : JSON_KEY_DEPTH - 1];

			key_copy(key, key_len, j, kk[0], kk[1]);
		}
		if (nul >= 0)
			return nul;
	}
	if (key && key_len)
		key[0] = 0;
	return -1;
}

bool text_valid(const char *v, size_t min, size_t max)
{
	size_t n = strlen(v), i;
	char *clean;
	bool ok;

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	clean = malloc(n + 1);
	if (!clean)
		return false;
	utf8_clean(clean, n + 1, v, n);
	ok = !strcmp(clean, v);
	crypto_free(clean, n + 1); /* v may be a secret */
	return ok;
}

int pw_slot_take(struct srv *s)
{
	struct timespec dl;
	int ret;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	while ((ret = sem_timedwait(&s->pw_sem, &dl)) && errno == EINTR)
		;
	return ret ? -EBUSY : 0;
}

void pw_slot_put(struct srv *s)
{
	sem_post(&s->pw_sem);
}

/* --- permissions and roles --- */

static const char *const perm_names[] = {
#define PERM_NAME_(id, name) name,
    PERMS(PERM_NAME_)
#undef PERM_NAME_
};

uint32_t perm_parse(const char *name)
{
	unsigned i;

	for (i = 0; i < PERMB__COUNT; i++)
		if (name && !strcmp(name, perm_names[i]))
			return 1u << i;
	return 0;
}

const char *perm_name(uint32_t one_perm)
{
	unsigned i;

	for (i = 0; i < PERMB__COUNT; i++)
		if (one_perm == 1u << i)
			return perm_names[i];
	return NULL;
}

bool role_name_valid(const char *name)
{
	size_t n, i;

	if (!name || !(n = strlen(name)) || n > 64 || !islower((unsigned char)name[0]))
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

int role_builtin(const char *name, uint32_t *perms)
{
	if (!strcmp(name, "admin"))
		*perms = PERM_ALL;
	else if (!strcmp(name, "manager"))
		*perms = PERM_NODE_READ | PERM_USER_READ | PERM_USER_WRITE | PERM_CONFIG_READ |
			 PERM_CONFIG_WRITE | PERM_DEVICE_READ | PERM_DEVICE_WRITE |
			 PERM_ACTIVITY_READ | PERM_SELF_READ | PERM_SCREENSHOT_READ;
	else if (!strcmp(name, "employee"))
		*perms = PERM_SELF_READ;
	else
		return -ENOENT;
	return 0;
}

int role_get(struct srv *s, const char *name, uint32_t *perms, char id[ID_SIZE])
{
	cJSON *r, *p;
	const char *rid;
	int ret;

	id[0] = 0;
	if (!role_builtin(name, perms))
		return 0;
	ret = jget(s, STORE_T_ROLES, "roles", name, &r);
	if (ret)
		return ret;
	*perms = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r, "permissions"))
	{
		if (cJSON_IsString(p))
			*perms |= perm_parse(p->valuestring);
	}
	rid = jstr(r, "id");
	if (rid && strlen(rid) < ID_SIZE)
		strcpy(id, rid);
	cJSON_Delete(r);
	return 0;
}

int role_perms(struct srv *s, const char *name, uint32_t *perms)
{
	char id[ID_SIZE];

	return role_get(s, name, perms, id);
}

/* --- principals --- */

struct grants_ctx {
	struct srv *s;
	struct principal *p;
	int err;
};

static int grant_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct grants_ctx *c = ctx;
	struct grant *g;
	const char *bar = strchr(sk, '|');
	char rid[ID_SIZE];

	(void)pk;
	if (!bar || c->p->n_grants >= MAX_GRANTS || (size_t)(bar - sk) >= ID_SIZE ||
	    strlen(bar + 1) >= sizeof(g->role))
		return 0;
	g = &c->p->g[c->p->n_grants];
	memcpy(g->node_id, sk, (size_t)(bar - sk));
	g->node_id[bar - sk] = 0;
	strcpy(g->role, bar + 1);
	/* a custom role deleted since: no permissions */
	if (role_get(c->s, g->role, &g->perms, rid)) {
		g->perms = 0;
	} else if (rid[0]) {
		/* a grant of a role deleted and created again under its name
		 * is not a grant of the new role */
		cJSON *gv = cJSON_ParseWithLength(val, len);
		const char *have = jstr(gv, "role_id");

		if (!have || strcmp(have, rid))
			g->perms = 0;
		cJSON_Delete(gv);
	}
	c->p->n_grants++;
	return 0;
}

int principal_load_grants(struct srv *s, struct principal *p)
{
	struct grants_ctx c = {s, p, 0};
	int ret;

	p->n_grants = 0;
	ret = store_query(s->st, STORE_T_GRANTS, p->id, NULL, NULL, MAX_GRANTS, 0, grant_item, &c);
	return ret < 0 ? ret : 0;
}

/* --- user tokens and their index --- */

/* "user|"uid: the index partition of uid's tokens (TOKENS), into out. */
static int user_tokens_pk(const char *uid, char out[USER_TOKENS_PK_SIZE])
{
	struct key k;

	if (!key_user_tokens(&k, uid)[0] || strlen(k.s) >= USER_TOKENS_PK_SIZE)
		return -EINVAL;
	strcpy(out, k.s);
	return 0;
}

/* One index entry. */
struct utok {
	char hash[TOKEN_HASH_SIZE];
	int64_t iat, exp;
	char addr[USER_TOKEN_ADDR_SIZE];
};

struct utok_list {
	size_t n;
	struct utok t[USER_TOKENS_SCAN];
};

static int utok_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct utok_list *l = ctx;
	struct utok *e;
	const char *a;
	cJSON *j;

	(void)pk;
	if (strlen(sk) != TOKEN_HASH_LEN)
		return 0; /* not a token's entry */
	if (l->n >= USER_TOKENS_SCAN)
		return 1;
	e = &l->t[l->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->hash, sk, TOKEN_HASH_SIZE);
	j = cJSON_ParseWithLength(val, len);
	e->iat = jint(j, "iat", 0);
	e->exp = jint(j, "exp", 0);
	if ((a = jstr(j, "addr")) && strlen(a) < sizeof(e->addr))
		strcpy(e->addr, a);
	cJSON_Delete(j);
	return 0;
}

/* The first USER_TOKENS_SCAN entries of uid's index into *l. 0 or -errno. */
static int utok_list(struct srv *s, const char *uid, struct utok_list *l)
{
	char pk[USER_TOKENS_PK_SIZE];
	int ret = user_tokens_pk(uid, pk);

	l->n = 0;
	if (ret)
		return ret;
	ret = store_query(s->st, STORE_T_TOKENS, pk, NULL, NULL, 0, 0, utok_item, l);
	return ret < 0 ? ret : 0;
}

/* Add to b the deletes of token hash and of its entry in index pk. */
static int utok_delete(struct store_batch *b, const char *pk, const char *hash)
{
	int ret = store_batch_delete(b, STORE_T_TOKENS, hash, "token", 0);

	return ret ? ret : store_batch_delete(b, STORE_T_TOKENS, pk, hash, 0);
}

int user_token_add(struct srv *s, struct store_batch *b, const char *uid, const char *hash,
		   const cJSON *tok, const char *addr)
{
	char pk[USER_TOKENS_PK_SIZE];
	struct utok_list l;
	size_t i, live = 0;
	int64_t now = now_ms();
	cJSON *e;
	int ret;

	ret = user_tokens_pk(uid, pk);
	if (!ret)
		ret = utok_list(s, uid, &l);
	if (ret)
		return ret;
	/* expired tokens go; of the live ones, the oldest while too many */
	for (i = 0; i < l.n; i++) {
		if (l.t[i].exp && l.t[i].exp <= now) {
			ret = utok_delete(b, pk, l.t[i].hash);
			if (ret)
				return ret;
			l.t[i].hash[0] = 0;
		} else {
			live++;
		}
	}
	while (live >= USER_TOKENS_MAX) {
		struct utok *old = NULL;

		for (i = 0; i < l.n; i++)
			if (l.t[i].hash[0] && (!old || l.t[i].iat < old->iat))
				old = &l.t[i];
		ret = utok_delete(b, pk, old->hash);
		if (ret)
			return ret;
		old->hash[0] = 0;
		live--;
	}
	e = cJSON_CreateObject();
	if (!e)
		return -ENOMEM;
	cJSON_AddNumberToObject(e, "iat", (double)jint(tok, "iat", now));
	cJSON_AddNumberToObject(e, "exp", (double)jint(tok, "exp", 0));
	if (addr && strlen(addr) < USER_TOKEN_ADDR_SIZE)
		cJSON_AddStringToObject(e, "addr", addr);
	ret = jput(b, STORE_T_TOKENS, hash, "token", tok, STORE_IF_ABSENT);
	if (!ret)
		ret = jput(b, STORE_T_TOKENS, pk, hash, e, STORE_IF_ABSENT);
	cJSON_Delete(e);
	return ret;
}

int user_token_drop(struct srv *s, const char *uid, const char *hash)
{
	char pk[USER_TOKENS_PK_SIZE];
	struct store_batch *b;
	int ret = user_tokens_pk(uid, pk);

	if (!ret)
		ret = store_batch_begin(s->st, &b);
	if (ret)
		return ret;
	ret = utok_delete(b, pk, hash);
	if (ret) {
		store_batch_abort(b);
		return ret;
	}
	return store_batch_commit(b);
}

int user_tokens_revoke(struct srv *s, struct store_batch *b, const char *uid, const char *keep)
{
	char pk[USER_TOKENS_PK_SIZE];
	struct utok_list l;
	size_t i;
	int ret, n = 0;

	ret = user_tokens_pk(uid, pk);
	if (!ret)
		ret = utok_list(s, uid, &l);
	for (i = 0; !ret && i < l.n; i++) {
		if (keep && !strcmp(l.t[i].hash, keep))
			continue;
		ret = utok_delete(b, pk, l.t[i].hash);
		n++;
	}
	return ret ? ret : n;
}

int user_tokens_sweep(struct srv *s, const char *uid, const char *keep)
{
	struct store_batch *b;
	int ret = store_batch_begin(s->st, &b), n;

	if (ret)
		return ret;
	n = user_tokens_revoke(s, b, uid, keep);
	if (n <= 0) {
		store_batch_abort(b);
		return n;
	}
	ret = store_batch_commit(b);
	return ret ? ret : n;
}

bool user_token_from(struct srv *s, const char *uid, const char *addr)
{
	struct utok_list l;
	int64_t now = now_ms();
	size_t i;

	if (!uid || !addr || utok_list(s, uid, &l))
		return false;
	for (i = 0; i < l.n; i++)
		if ((!l.t[i].exp || l.t[i].exp > now) && !strcmp(l.t[i].addr, addr))
			return true;
	return false;
}

/* --- bearer tokens --- */

int token_get(struct srv *s, const char *token, const char *prefix, char hash[TOKEN_HASH_SIZE],
	      bool drop_expired, cJSON **item)
{
	cJSON *t;
	int64_t exp;
	int ret;

	*item = NULL;
	if (!token || !token_well_formed(token, prefix) || token_hash(token, hash))
		return -EINVAL;
	ret = jget(s, STORE_T_TOKENS, hash, SK_TOKEN, &t);
	if (ret)
		return ret;
	exp = jint(t, "exp", 0);
	if (exp && exp <= now_ms()) {
		const char *uid = jstr(t, "id");

		if (drop_expired) {
			if (!strcmp(jstr(t, "kind") ? jstr(t, "kind") : "", "user") && uid &&
			    id_valid(uid, ID_PREFIX_USER))
				user_token_drop(s, uid, hash);
			else
				store_delete(s->st, STORE_T_TOKENS, hash, SK_TOKEN, 0);
		}
		cJSON_Delete(t);
		return -EKEYEXPIRED;
	}
	*item = t;
	return 0;
}

/* --- authorize --- */

static bool on_path(const struct target *t, const char *node_id)
{
	size_t i;

	for (i = 0; i < t->depth; i++)
		if (!strcmp(t->path[i], node_id))
			return true;
	return false;
}

int authorize(const struct principal *p, uint32_t perm, const struct target *t)
{
	size_t i;

	if (!p || !t || !perm || p->kind != PRINCIPAL_USER)
		return -EACCES;
	for (i = 0; i < p->n_grants; i++)
		if ((p->g[i].perms & perm) == perm && on_path(t, p->g[i].node_id))
			return 0;
	if (t->user_id[0] && !strcmp(t->user_id, p->id) && (perm & ~PERM_SELF_SET) == 0)
		for (i = 0; i < p->n_grants; i++)
			if ((p->g[i].perms & PERM_SELF_READ) && on_path(t, p->g[i].node_id))
				return 0;
	return -EACCES;
}

cJSON *user_view(const cJSON *u)
{
	cJSON *v = cJSON_Duplicate(u, 1);

	cJSON_DeleteItemFromObjectCaseSensitive(v, "pw");
	cJSON_DeleteItemFromObjectCaseSensitive(v, "sessions_after");
	/* a user who never set a preferred time zone has none (null): the
	 * dashboard then uses the browser's, the queries UTC */
	if (v && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "tz"))) {
		cJSON_DeleteItemFromObjectCaseSensitive(v, "tz");
		cJSON_AddNullToObject(v, "tz");
	}
	return v;
}

/* --- nodes and targets --- */

int node_touch(struct store_batch *b, const char *id)
{
	cJSON *n = NULL;
	int ret;

	if (!strcmp(id, ROOT_ID))
		return 0;
	ret = jbget(b, STORE_T_NODES, id, "node", &n);
	if (ret)
		return ret;
	{
		int64_t rev = jint(n, "rev", 0) + 1;

		cJSON_DeleteItemFromObjectCaseSensitive(n, "rev");
		cJSON_AddNumberToObject(n, "rev", (double)rev);
	}
	ret = jput(b, STORE_T_NODES, id, "node", n, STORE_IF_EXISTS);
	cJSON_Delete(n);
	return ret;
}

int node_type_parse(const char *name)
{
	static const char *const n[] = {"business", "domain", "project", "team"};
	int i;

	for (i = 0; i < 4; i++)
		if (name && !strcmp(name, n[i]))
			return i + 1;
	return 0;
}

const char *node_type_name(int type)
{
	static const char *const n[] = {"business", "domain", "project", "team"};

	return type >= 1 && type <= 4 ? n[type - 1] : NULL;
}

int node_get(struct srv *s, const char *id, cJSON **out)
{
	*out = NULL;
	if (!id_valid(id, ID_PREFIX_NODE))
		return -ENOENT;
	return jget(s, STORE_T_NODES, id, "node", out);
}

/* t from a node item's path array */
static int target_from_node(const cJSON *node, struct target *t)
{
	const cJSON *e;

	memset(t, 0, sizeof(*t));
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(node, "path"))
	{
		if (!cJSON_IsString(e) || strlen(e->valuestring) >= ID_SIZE ||
		    t->depth >= TREE_DEPTH)
			return -EIO;
		strcpy(t->path[t->depth++], e->valuestring);
	}
	return t->depth ? 0 : -EIO;
}

int target_node(struct srv *s, const char *node_id, struct target *t)
{
	cJSON *n;
	int ret;

	memset(t, 0, sizeof(*t));
	if (node_id && !strcmp(node_id, ROOT_ID)) {
		strcpy(t->path[0], ROOT_ID);
		t->depth = 1;
		return 0;
	}
	ret = node_get(s, node_id, &n);
	if (ret)
		return ret;
	ret = target_from_node(n, t);
	cJSON_Delete(n);
	return ret;
}

int target_user(struct srv *s, const char *user_id, struct target *t)
{
	cJSON *u;
	const char *team;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!id_valid(user_id, ID_PREFIX_USER))
		return -ENOENT;
	ret = jget(s, STORE_T_USERS, user_id, "user", &u);
	if (ret)
		return ret;
	team = jstr(u, "team_id");
	/* a user without a team (the first admin) sits at the root */
	ret = target_node(s, team ? team : ROOT_ID, t);
	cJSON_Delete(u);
	if (!ret)
		strcpy(t->user_id, user_id);
	return ret == -ENOENT ? -EIO : ret;
}

int target_device(struct srv *s, const char *device_id, struct target *t)
{
	cJSON *d;
	const char *team, *owner;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!id_valid(device_id, ID_PREFIX_DEVICE))
		return -ENOENT;
	ret = jget(s, STORE_T_DEVICES, device_id, "device", &d);
	if (ret)
		return ret;
	team = jstr(d, "team_id");
	ret = team ? target_node(s, team, t) : -EIO;
	owner = jstr(d, "owner_id");
	if (!ret && owner && strlen(owner) < ID_SIZE)
		strcpy(t->user_id, owner);
	cJSON_Delete(d);
	return ret == -ENOENT ? -EIO : ret;
}

int principal_in_business(struct srv *s, const struct principal *p, const struct target *t)
{
	const char *b = target_business(t);
	struct target gt;
	size_t i;

	if (!p || p->kind != PRINCIPAL_USER)
		return -EACCES;
	if (t->user_id[0] && !strcmp(t->user_id, p->id))
		return 0;
	for (i = 0; i < p->n_grants; i++) {
		if (!strcmp(p->g[i].node_id, ROOT_ID))
			return 0;
		if (b[0] && !target_node(s, p->g[i].node_id, &gt) &&
		    !strcmp(target_business(&gt), b))
			return 0;
	}
	return -EACCES;
}

const char *target_business(const struct target *t)
{
	return t->depth >= 2 ? t->path[1] : "";
}

/* --- audit --- */

static cJSON *audit_entry(const char *client, const struct principal *actor, const char *action,
			  const char *node_id, const char *target, const char *result,
			  const cJSON *detail, int64_t ts)
{
	char buf[32];
	cJSON *e = cJSON_CreateObject();

	if (!e)
		return NULL;
	cJSON_AddStringToObject(e, "ts", rfc3339_ms(ts, buf));
	cJSON_AddStringToObject(e, "action", action);
	cJSON_AddStringToObject(e, "actor", actor && actor->id[0] ? actor->id : "-");
	if (actor && actor->email[0])
		cJSON_AddStringToObject(e, "actor_email", actor->email);
	cJSON_AddStringToObject(e, "client", client && client[0] ? client : "-");
	cJSON_AddStringToObject(e, "node_id", node_id ? node_id : ROOT_ID);
	if (target)
		cJSON_AddStringToObject(e, "target", target);
	cJSON_AddStringToObject(e, "result", result ? result : "ok");
	if (detail)
		cJSON_AddItemToObject(e, "detail", cJSON_Duplicate(detail, 1));
	return e;
}

int audit_put(struct store_batch *b, const char *client, const struct principal *actor,
	      const char *action, const char *node_id, const char *target, const char *result,
	      const cJSON *detail)
{
	int64_t ts = now_ms();
	struct key pk, sk;
	cJSON *e = audit_entry(client, actor, action, node_id, target, result, detail, ts);
	int ret;

	if (!e)
		return store_batch_put(b, STORE_T_AUDIT, "", "", NULL, 0, 0), -ENOMEM;
	ret = jput(b, STORE_T_AUDIT, key_audit_pk(&pk, ts),
		   key_audit_sk(&sk, ts, randombytes_random()), e, STORE_IF_ABSENT);
	cJSON_Delete(e);
	return ret;
}

void audit_commit(struct srv *s, const char *client, const struct principal *actor,
		  const char *action, const char *node_id, const char *target, const char *result,
		  const cJSON *detail)
{
	struct store_batch *b;
	int ret = store_batch_begin(s->st, &b);

	if (!ret) {
		audit_put(b, client, actor, action, node_id, target, result, detail);
		ret = store_batch_commit(b);
	}
	if (ret)
		log_err("event=audit_failed action=%s err=%s", action, strerror(-ret));
}

/* --- the master key ring --- */

void kek_state_parse(const cJSON *j, struct kek_state *st)
{
	const char *cur = jstr(j, "current"), *from = jstr(j, "from");

	memset(st, 0, sizeof(*st));
	if (cur && strlen(cur) <= KEYPROV_ID_MAX)
		strcpy(st->current, cur);
	if (from && strlen(from) <= KEYPROV_ID_MAX)
		strcpy(st->from, from);
	st->started = jint(j, "started", 0);
	st->rewrapped = jint(j, "rewrapped", 0);
	st->rotated = jint(j, "rotated", 0);
}

cJSON *kek_state_json(const struct kek_state *st)
{
	cJSON *j = cJSON_CreateObject();

	if (!j)
		return NULL;
	if (st->current[0])
		cJSON_AddStringToObject(j, "current", st->current);
	if (st->started) {
		cJSON_AddStringToObject(j, "from", st->from);
		cJSON_AddNumberToObject(j, "started", (double)st->started);
		cJSON_AddNumberToObject(j, "rewrapped", (double)st->rewrapped);
	}
	if (st->rotated)
		cJSON_AddNumberToObject(j, "rotated", (double)st->rotated);
	return j;
}

int srv_kek_state(struct srv *s, struct kek_state *st)
{
	cJSON *j = NULL;
	int ret = jget(s, STORE_T_META, KEY_META_PK, KEY_KEK_SK, &j);

	kek_state_parse(ret ? NULL : j, st);
	cJSON_Delete(j);
	return ret == -ENOENT ? 0 : ret;
}

struct keyprov *srv_key_swap(struct srv *s, struct keyprov *kp)
{
	struct keyprov *old;

	pthread_rwlock_wrlock(&s->kp_lock);
	old = s->kp;
	s->kp = kp;
	pthread_rwlock_unlock(&s->kp_lock);
	return old;
}

int srv_kek_by_id(struct srv *s, const char *id, uint8_t kek[KEK_LEN])
{
	int ret;

	pthread_rwlock_rdlock(&s->kp_lock);
	ret = keyprov_get_kek_by_id(s->kp, id, kek);
	pthread_rwlock_unlock(&s->kp_lock);
	return ret;
}

size_t srv_key_ids(struct srv *s, char ids[][KEYPROV_ID_MAX + 1], size_t max)
{
	const char *p[KEYPROV_RING_MAX];
	size_t n, i;

	pthread_rwlock_rdlock(&s->kp_lock);
	n = keyprov_ids(s->kp, p, KEYPROV_RING_MAX);
	for (i = 0; i < n && i < max && i < KEYPROV_RING_MAX; i++)
		snprintf(ids[i], KEYPROV_ID_MAX + 1, "%s", p[i]);
	pthread_rwlock_unlock(&s->kp_lock);
	return n;
}

/* The ring's current key (id and kek). 0 or -errno. */
static int kek_ring_current(struct srv *s, char id[KEYPROV_ID_MAX + 1], uint8_t kek[KEK_LEN])
{
	int ret;

	pthread_rwlock_rdlock(&s->kp_lock);
	snprintf(id, KEYPROV_ID_MAX + 1, "%s", keyprov_key_id(s->kp));
	ret = keyprov_get_kek(s->kp, kek);
	pthread_rwlock_unlock(&s->kp_lock);
	return ret;
}

int srv_kek_wrapping(struct srv *s, const struct kek_state *st, char id[KEYPROV_ID_MAX + 1],
		     uint8_t kek[KEK_LEN])
{
	int ret;

	if (!st->current[0])
		return kek_ring_current(s, id, kek);
	ret = srv_kek_by_id(s, st->current, kek);
	if (ret == -ENOKEY && s->key_reload && !s->key_reload(s, s->key_reload_arg))
		ret = srv_kek_by_id(s, st->current, kek);
	if (!ret)
		strcpy(id, st->current);
	return ret;
}

/* Base64 of a KEYS item's "wrapped" into blob (DEK_BLOB_MAX). 0 or -EBADMSG. */
static int dek_blob(const cJSON *k, uint8_t *blob, size_t *blen)
{
	const char *w = jstr(k, "wrapped");

	if (!w || sodium_base642bin(blob, DEK_BLOB_MAX, w, strlen(w), NULL, blen, NULL,
				    sodium_base64_VARIANT_ORIGINAL))
		return -EBADMSG;
	return 0;
}

/* Unwrap a wrapped DEK (blob) with the ring's key its header names (after
 * one s->key_reload when the ring lacks it). 0, -ENOKEY (no such key in
 * the ring), -EBADMSG, -errno. */
static int dek_open(struct srv *s, const uint8_t *blob, size_t blen, uint8_t dek[CRYPTO_KEY_LEN])
{
	uint8_t kek[KEK_LEN];
	char kid[CRYPTO_ID_MAX + 1];
	int ret = crypto_blob_key_id(blob, blen, kid);

	if (!ret)
		ret = srv_kek_by_id(s, kid, kek);
	/* a rotation this server has not loaded yet: load the ring again */
	if (ret == -ENOKEY && s->key_reload && !s->key_reload(s, s->key_reload_arg))
		ret = srv_kek_by_id(s, kid, kek);
	if (!ret)
		ret = dek_unwrap(kek, blob, blen, dek);
	crypto_wipe(kek, sizeof(kek));
	return ret;
}

/*
 * Create the DEK of scope, wrapped by the key that wraps new data keys
 * (srv_kek_wrapping), put only if nobody else did and only if the key state
 * has not changed meanwhile (a recorded read: a rotation starting now
 * makes this commit fail with -EAGAIN, and the retry wraps under its key).
 * 0, -EEXIST (a racing one won), -EAGAIN, -errno.
 */
static int dek_create(struct srv *s, const char *scope)
{
	char b64[sodium_base64_ENCODED_LEN(DEK_BLOB_MAX, sodium_base64_VARIANT_ORIGINAL)];
	uint8_t kek[KEK_LEN], dek[CRYPTO_KEY_LEN], blob[DEK_BLOB_MAX];
	char nid[ID_SIZE], kid[KEYPROV_ID_MAX + 1];
	struct store_batch *b = NULL;
	struct kek_state ks;
	cJSON *item = NULL, *state = NULL;
	size_t blen;
	int ret;

	ret = store_batch_begin(s->st, &b);
	if (ret)
		return ret;
	ret = jbget(b, STORE_T_META, KEY_META_PK, KEY_KEK_SK, &state);
	if (ret && ret != -ENOENT)
		goto out;
	kek_state_parse(ret ? NULL : state, &ks);
	ret = dek_new(dek);
	if (!ret)
		ret = srv_kek_wrapping(s, &ks, kid, kek);
	if (!ret)
		ret = id_new('k', nid);
	if (!ret)
		ret = dek_wrap(kek, kid, dek, blob, &blen);
	crypto_wipe(kek, sizeof(kek));
	crypto_wipe(dek, sizeof(dek));
	if (ret)
		goto out;
	sodium_bin2base64(b64, sizeof(b64), blob, blen, sodium_base64_VARIANT_ORIGINAL);
	item = cJSON_CreateObject();
	if (!item || !cJSON_AddStringToObject(item, "id", nid) ||
	    !cJSON_AddStringToObject(item, "wrapped", b64) ||
	    !cJSON_AddStringToObject(item, "kek_id", kid)) {
		ret = -ENOMEM;
		goto out;
	}
	ret = jput(b, STORE_T_KEYS, scope, SK_DEK, item, STORE_IF_ABSENT);
	if (!ret) {
		ret = store_batch_commit(b);
		b = NULL;
	}
out:
	store_batch_abort(b);
	cJSON_Delete(item);
	cJSON_Delete(state);
	return ret;
}

/* The DEK of scope: read it (unwrap with the key its blob names) or create
 * it. */
static int dek_for(struct srv *s, const char *scope, bool create, uint8_t dek[CRYPTO_KEY_LEN],
		   char id[CRYPTO_ID_MAX + 1])
{
	uint8_t blob[DEK_BLOB_MAX];
	size_t blen;
	cJSON *k = NULL;
	int ret, tries;

	for (tries = 0; tries < 5; tries++) {
		ret = jget(s, STORE_T_KEYS, scope, SK_DEK, &k);
		if (!ret) {
			const char *kid = jstr(k, "id");

			ret = -EIO;
			if (kid && strlen(kid) <= CRYPTO_ID_MAX && !dek_blob(k, blob, &blen)) {
				ret = dek_open(s, blob, blen, dek);
				strcpy(id, kid);
			}
			cJSON_Delete(k);
			return ret;
		}
		if (ret != -ENOENT || !create)
			return ret;
		ret = dek_create(s, scope);
		if (ret && ret != -EEXIST && ret != -EAGAIN)
			return ret;
		/* loop: read back what is stored (ours or a racing one) */
	}
	return -EAGAIN;
}

int sealed_put(struct srv *s, struct store_batch *b, enum store_table t, const char *pk,
	       const char *sk, const char *scope, const char *aad, const void *pt, size_t len)
{
	uint8_t dek[CRYPTO_KEY_LEN], *blob = NULL;
	char id[CRYPTO_ID_MAX + 1];
	size_t blen;
	int ret;

	ret = dek_for(s, scope, true, dek, id);
	if (ret)
		return ret;
	ret = crypto_seal(dek, id, aad, strlen(aad), pt, len, &blob, &blen);
	crypto_wipe(dek, sizeof(dek));
	if (ret)
		return ret;
	ret = store_batch_put(b, t, pk, sk, blob, blen, 0);
	free(blob);
	return ret;
}

int sealed_get(struct srv *s, enum store_table t, const char *pk, const char *sk, const char *scope,
	       const char *aad, uint8_t **pt, size_t *len)
{
	uint8_t dek[CRYPTO_KEY_LEN];
	char id[CRYPTO_ID_MAX + 1], want[CRYPTO_ID_MAX + 1];
	void *blob;
	size_t blen;
	int ret;

	*pt = NULL;
	ret = store_get(s->st, t, pk, sk, &blob, &blen);
	if (ret)
		return ret;
	ret = crypto_blob_key_id(blob, blen, want);
	if (!ret)
		ret = dek_for(s, scope, false, dek, id);
	if (!ret && strcmp(id, want))
		ret = -EBADMSG;
	if (!ret)
		ret = crypto_open(dek, aad, strlen(aad), blob, blen, pt, len);
	crypto_wipe(dek, sizeof(dek));
	free(blob);
	return ret == -ENOENT ? -EBADMSG : ret;
}

/* --- bootstrap --- */

int srv_bootstrap(struct srv *s, const char *business, const char *email, const char *password)
{
	char nid[ID_SIZE], uid[ID_SIZE], em[EMAIL_MAX_LEN + 1], hash[PASSWORD_HASH_SIZE], ts[32],
	    login[LOGIN_MAX_LEN + 1];
	struct store_batch *b;
	cJSON *meta, *node, *child, *user, *em_item, *grant, *path, *empty;
	int64_t now = now_ms();
	const char *at;
	int ret;

	if (email_norm(email, em))
		return -EINVAL;
	ret = password_hash(password, hash);
	if (ret)
		return ret;
	id_new(ID_PREFIX_NODE, nid);
	id_new(ID_PREFIX_USER, uid);
	rfc3339_ms(now, ts);
	at = strchr(em, '@');
	snprintf(login, sizeof(login), "%.*s", (int)(at - em), em);

	meta = cJSON_CreateObject();
	cJSON_AddNumberToObject(meta, "schema", SRV_SCHEMA);
	cJSON_AddStringToObject(meta, "created", ts);
	cJSON_AddStringToObject(meta, "business_id", nid);

	node = cJSON_CreateObject();
	cJSON_AddStringToObject(node, "id", nid);
	cJSON_AddStringToObject(node, "type", "business");
	cJSON_AddStringToObject(node, "name", business);
	cJSON_AddStringToObject(node, "parent_id", ROOT_ID);
	path = cJSON_AddArrayToObject(node, "path");
	cJSON_AddItemToArray(path, cJSON_CreateString(ROOT_ID));
	cJSON_AddItemToArray(path, cJSON_CreateString(nid));
	cJSON_AddStringToObject(node, "created", ts);

	child = cJSON_CreateObject();
	cJSON_AddStringToObject(child, "id", nid);
	cJSON_AddStringToObject(child, "type", "business");
	cJSON_AddStringToObject(child, "name", business);

	user = cJSON_CreateObject();
	cJSON_AddStringToObject(user, "id", uid);
	cJSON_AddStringToObject(user, "email", em);
	cJSON_AddStringToObject(user, "name", "Administrator");
	cJSON_AddStringToObject(user, "login", login);
	cJSON_AddNullToObject(user, "team_id");
	cJSON_AddStringToObject(user, "pw", hash);
	cJSON_AddFalseToObject(user, "disabled");
	cJSON_AddStringToObject(user, "created", ts);

	em_item = cJSON_CreateObject();
	cJSON_AddStringToObject(em_item, "user_id", uid);

	grant = cJSON_CreateObject();
	cJSON_AddStringToObject(grant, "user_id", uid);
	cJSON_AddStringToObject(grant, "node_id", ROOT_ID);
	cJSON_AddStringToObject(grant, "role", "admin");
	cJSON_AddStringToObject(grant, "by", "init");
	cJSON_AddStringToObject(grant, "at", ts);
	empty = cJSON_CreateObject();

	ret = store_batch_begin(s->st, &b);
	if (!ret) {
		struct key pk, sk;

		jput(b, STORE_T_META, KEY_META_PK, KEY_META_SK, meta, STORE_IF_ABSENT);
		jput(b, STORE_T_NODES, nid, SK_NODE, node, STORE_IF_ABSENT);
		jput(b, STORE_T_NODES, ROOT_ID, key_node_child(&sk, nid), child, STORE_IF_ABSENT);
		jput(b, STORE_T_USERS, uid, SK_USER, user, STORE_IF_ABSENT);
		jput(b, STORE_T_EMAILS, em, SK_USER, em_item, STORE_IF_ABSENT);
		jput(b, STORE_T_GRANTS, uid, key_grant_user_sk(&sk, ROOT_ID, "admin"), grant,
		     STORE_IF_ABSENT);
		jput(b, STORE_T_GRANTS, key_grant_node_pk(&pk, ROOT_ID),
		     key_grant_node_sk(&sk, uid, "admin"), empty, STORE_IF_ABSENT);
		{
			struct principal p = {.kind = PRINCIPAL_USER};

			snprintf(p.id, sizeof(p.id), "%s", uid);
			snprintf(p.email, sizeof(p.email), "%s", em);
			audit_put(b, NULL, &p, "store.init", nid, nid, "ok", NULL);
		}
		ret = store_batch_commit(b);
	}
	crypto_wipe(hash, sizeof(hash));
	cJSON_Delete(meta);
	cJSON_Delete(node);
	cJSON_Delete(child);
	cJSON_Delete(user);
	cJSON_Delete(em_item);
	cJSON_Delete(grant);
	cJSON_Delete(empty);
	if (!ret) {
		uint8_t dek[CRYPTO_KEY_LEN];
		char kid[CRYPTO_ID_MAX + 1];

		snprintf(s->business_id, sizeof(s->business_id), "%s", nid);
		/* a first data key, so serve can tell a wrong master key at once */
		ret = dek_for(s, KEY_CHECK_SCOPE, true, dek, kid);
		crypto_wipe(dek, sizeof(dek));
	}
	return ret;
}

/* --- the master key against the store --- */

struct key_check {
	struct srv *s;
	char *why;
	size_t why_len;
	int bad;
};

static int key_check_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	struct key_check *c = ctx;
	uint8_t dek[CRYPTO_KEY_LEN], blob[DEK_BLOB_MAX];
	cJSON *j = strcmp(sk, SK_DEK) ? NULL : cJSON_ParseWithLength(val, len);
	char kid[CRYPTO_ID_MAX + 1] = "?";
	size_t blen;
	int ret;

	if (!j)
		return 0;
	ret = dek_blob(j, blob, &blen);
	if (!ret)
		ret = crypto_blob_key_id(blob, blen, kid);
	if (!ret)
		ret = dek_open(c->s, blob, blen, dek);
	crypto_wipe(dek, sizeof(dek));
	if (ret) {
		char ids[KEYPROV_RING_MAX][KEYPROV_ID_MAX + 1], list[KEYPROV_RING_MAX * 70] = "";
		size_t n = srv_key_ids(c->s, ids, KEYPROV_RING_MAX), i, off = 0;
		struct kek_state ks;

		for (i = 0; i < n && i < KEYPROV_RING_MAX; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						i ? ", " : "", ids[i]);
		snprintf(c->why, c->why_len,
			 "the master key (id %s) does not open the store's data key '%s' "
			 "(wrapped under key id %s): wrong key file or secret",
			 list, pk, kid);
		if (!srv_kek_state(c->s, &ks) && ks.current[0] &&
		    !keyprov_has(c->s->kp, ks.current))
			snprintf(c->why + strlen(c->why), c->why_len - strlen(c->why),
				 "; the store's current master key is %s: a key that a rotation "
				 "replaced (retired) no longer opens the store",
				 ks.current);
		c->bad = 1;
	}
	cJSON_Delete(j);
	return c->bad;
}

int srv_key_check(struct srv *s, char *why, size_t why_len)
{
	struct key_check c = {.s = s, .why = why, .why_len = why_len};
	int ret;

	snprintf(why, why_len, "ok");
	ret = store_scan(s->st, STORE_T_KEYS, key_check_item, &c);
	if (c.bad)
		return -EKEYREJECTED;
	if (ret < 0)
		snprintf(why, why_len, "cannot read the store's data keys: %s", strerror(-ret));
	return ret < 0 ? ret : 0;
}

/* --- the no-escalation rule --- */

uint32_t perms_on(const struct principal *p, const struct target *t)
{
	uint32_t u = 0;
	size_t i, j;

	for (i = 0; i < p->n_grants; i++)
		for (j = 0; j < t->depth; j++)
			if (!strcmp(p->g[i].node_id, t->path[j]))
				u |= p->g[i].perms;
	return u;
}
