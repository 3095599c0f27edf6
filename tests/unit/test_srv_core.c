// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_core.c - the server core: authorize() over a grid of grants and
 * targets, permission and id parsing, email normalisation, and sealed
 * values on a real LMDB store (AAD binding, tampering, other scopes), and
 * the index of a user's sign-in tokens.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check.h"
#include "core/srv.h"
#include "store/keys.h"
#include "api/api.h"
#include "util.h"

static void path_of(struct target *t, const char *const *ids, size_t n, const char *user)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++)
		strcpy(t->path[i], ids[i]);
	t->depth = n;
	if (user)
		strcpy(t->user_id, user);
}

static void grant(struct principal *p, const char *role, const char *node)
{
	struct grant *g = &p->g[p->n_grants++];

	strcpy(g->role, role);
	strcpy(g->node_id, node);
	CHECK_EQ(role_builtin(role, &g->perms), 0);
}

/* root > b1 > d1 > p1 > {t1, t2}; b2 elsewhere */
static const char *const T1[] = {"root", "n_b1", "n_d1", "n_p1", "n_t1"};
static const char *const T2[] = {"root", "n_b1", "n_d1", "n_p1", "n_t2"};
static const char *const B2[] = {"root", "n_b2"};

TEST(authorize_grid)
{
	struct principal admin = {.kind = PRINCIPAL_USER, .id = "u_admin"};
	struct principal mgr = {.kind = PRINCIPAL_USER, .id = "u_mgr"};
	struct principal emp = {.kind = PRINCIPAL_USER, .id = "u_emp"};
	struct principal dev = {.kind = PRINCIPAL_DEVICE, .id = "d_1"};
	struct target t1, t2, b2, emp_self, emp_other;
	uint32_t bit;

	grant(&admin, "admin", "n_b1");
	grant(&mgr, "manager", "n_t1");
	grant(&mgr, "employee", "n_t1");
	grant(&emp, "employee", "n_t1");
	path_of(&t1, T1, 5, NULL);
	path_of(&t2, T2, 5, NULL);
	path_of(&b2, B2, 2, NULL);
	path_of(&emp_self, T1, 5, "u_emp");
	path_of(&emp_other, T1, 5, "u_other");

	for (bit = 1; bit <= PERM_ALL; bit <<= 1) {
		/* an admin on b1: everything below b1, nothing elsewhere */
		CHECK_EQ(authorize(&admin, bit, &t1), 0);
		CHECK_EQ(authorize(&admin, bit, &t2), 0);
		CHECK_EQ(authorize(&admin, bit, &b2), -EACCES);
		/* a device holds nothing */
		CHECK_EQ(authorize(&dev, bit, &t1), -EACCES);
	}
	/* manager on t1: reads and manages t1, never t2; no grants, roles, audit */
	CHECK_EQ(authorize(&mgr, PERM_ACTIVITY_READ, &t1), 0);
	CHECK_EQ(authorize(&mgr, PERM_CONFIG_WRITE, &t1), 0);
	CHECK_EQ(authorize(&mgr, PERM_ACTIVITY_READ, &t2), -EACCES);
	CHECK_EQ(authorize(&mgr, PERM_GRANT_WRITE, &t1), -EACCES);
	CHECK_EQ(authorize(&mgr, PERM_ROLE_WRITE, &t1), -EACCES);
	CHECK_EQ(authorize(&mgr, PERM_AUDIT_READ, &t1), -EACCES);
	CHECK_EQ(authorize(&mgr, PERM_NODE_WRITE, &t1), -EACCES);
	/* employee: own data only, and only the self set */
	CHECK_EQ(authorize(&emp, PERM_ACTIVITY_READ, &emp_self), 0);
	CHECK_EQ(authorize(&emp, PERM_USER_READ, &emp_self), 0);
	CHECK_EQ(authorize(&emp, PERM_CONFIG_READ, &emp_self), 0);
	CHECK_EQ(authorize(&emp, PERM_ACTIVITY_READ, &emp_other), -EACCES);
	CHECK_EQ(authorize(&emp, PERM_ACTIVITY_READ, &t1), -EACCES);
	CHECK_EQ(authorize(&emp, PERM_USER_WRITE, &emp_self), -EACCES);
	CHECK_EQ(authorize(&emp, PERM_CONFIG_WRITE, &emp_self), -EACCES);
	CHECK_EQ(authorize(&emp, PERM_ACTIVITY_READ | PERM_USER_WRITE, &emp_self), -EACCES);
	/* the self rule needs self.read on the user's own path */
	{
		struct principal moved = {.kind = PRINCIPAL_USER, .id = "u_emp"};
		struct target self_t2;

		grant(&moved, "employee", "n_t2");
		path_of(&self_t2, T1, 5, "u_emp");
		CHECK_EQ(authorize(&moved, PERM_ACTIVITY_READ, &self_t2), -EACCES);
	}
	/* a deleted custom role (perms 0) grants nothing */
	{
		struct principal c = {.kind = PRINCIPAL_USER, .id = "u_c", .n_grants = 1};

		strcpy(c.g[0].role, "gone");
		strcpy(c.g[0].node_id, "root");
		CHECK_EQ(authorize(&c, PERM_NODE_READ, &t1), -EACCES);
	}
	/* no permission asked, no target: refused */
	CHECK_EQ(authorize(&admin, 0, &t1), -EACCES);
	CHECK_EQ(authorize(&admin, PERM_NODE_READ, NULL), -EACCES);
	CHECK_EQ(authorize(NULL, PERM_NODE_READ, &t1), -EACCES);
}

TEST(perms_and_roles)
{
	uint32_t p;
	unsigned bit;

	for (bit = 0; bit < PERMB__COUNT; bit++) {
		const char *n = perm_name(1u << bit);

		CHECK(n != NULL);
		CHECK_EQ(perm_parse(n), 1u << bit);
	}
	CHECK_EQ(perm_parse("node.fly"), 0);
	CHECK_EQ(perm_parse(NULL), 0);
	CHECK(perm_name(3) == NULL);
	CHECK_EQ(role_builtin("admin", &p), 0);
	CHECK_EQ(p, PERM_ALL);
	CHECK_EQ(role_builtin("employee", &p), 0);
	CHECK_EQ(p, PERM_SELF_READ);
	CHECK_EQ(role_builtin("manager", &p), 0);
	CHECK_EQ(p & (PERM_GRANT_WRITE | PERM_ROLE_WRITE | PERM_AUDIT_READ | PERM_NODE_WRITE), 0);
	CHECK_EQ(role_builtin("auditor", &p), -ENOENT);
	CHECK(role_name_valid("auditor-2"));
	CHECK(!role_name_valid("2auditor"));
	CHECK(!role_name_valid("Auditor"));
	CHECK(!role_name_valid(""));
	CHECK(!role_name_valid("a b"));
}

TEST(ids_and_emails)
{
	char id[ID_SIZE], em[EMAIL_MAX_LEN + 1], big[400];

	CHECK_EQ(id_new('n', id), 0);
	CHECK_EQ(strlen(id), ID_LEN);
	CHECK(id_valid(id, 'n'));
	CHECK(!id_valid(id, 'u'));
	CHECK(id_valid(id, 0));
	CHECK(!id_valid("n_0123", 'n'));
	CHECK(!id_valid("n_0123456789ABCDEF", 'n'));
	CHECK(!id_valid("n_0123456789abcdeg", 'n'));
	CHECK(!id_valid("n-0123456789abcdef", 'n'));
	CHECK(!id_valid(NULL, 'n'));
	CHECK_EQ(email_norm("Alice@Example.COM", em), 0);
	CHECK_STR(em, "alice@example.com");
	CHECK_EQ(email_norm("no-at-sign", em), -EINVAL);
	CHECK_EQ(email_norm("@example.com", em), -EINVAL);
	CHECK_EQ(email_norm("a@", em), -EINVAL);
	CHECK_EQ(email_norm("a@b@c", em), -EINVAL);
	CHECK_EQ(email_norm("a b@c.d", em), -EINVAL);
	CHECK_EQ(email_norm("a|b@c.d", em), -EINVAL);
	CHECK_EQ(email_norm("\xff\xfe@c.d", em), -EINVAL);
	CHECK_EQ(email_norm("jos\xc3\xa9@c.d", em), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[10] = '@';
	CHECK_EQ(email_norm(big, em), -EINVAL);
	{
		char d[11];

		key_day(0, d);
		CHECK_STR(d, "1970-01-01");
		key_day(1795996799999LL, d);
		CHECK_STR(d, "2026-11-29");
	}
}

/* json_nul_find() over a string literal (its bytes, NULs included) */
#define NUL_AT(lit, key, klen) json_nul_find(lit, sizeof(lit) - 1, key, klen)

TEST(json_nul)
{
	char key[16], deep[128];
	size_t i;

	CHECK_EQ(NUL_AT("", key, sizeof(key)), -1);
	CHECK_EQ(NUL_AT("{\"a\":\"b\",\"n\":0}", key, sizeof(key)), -1);
	CHECK_STR(key, "");
	/* the escape, wherever it is in the string, named by its field */
	CHECK_EQ(NUL_AT("{\"name\":\"a\\u0000b\"}", key, sizeof(key)), 10);
	CHECK_STR(key, "name");
	CHECK_EQ(NUL_AT("{\"name\":\"\\u0000\"}", key, sizeof(key)), 9);
	CHECK_EQ(NUL_AT("{\"x\":1, \"name\" : \"ab\\u0000\"}", key, sizeof(key)), 20);
	CHECK_STR(key, "name");
	/* other \u escapes, and an escaped backslash before u0000, are no NUL */
	CHECK_EQ(NUL_AT("{\"a\":\"\\u000a\\u0a00\\u00e9\\u0001\"}", key, sizeof(key)), -1);
	CHECK_EQ(NUL_AT("{\"a\":\"\\\\u0000\"}", key, sizeof(key)), -1);
	CHECK_EQ(NUL_AT("{\"a\":\"\\\\\\\\u0000\"}", key, sizeof(key)), -1);
	/* ... but an escaped backslash and then the escape is */
	CHECK_EQ(NUL_AT("{\"a\":\"\\\\\\u0000\"}", key, sizeof(key)), 8);
	CHECK_STR(key, "a");
	/* an escaped quote does not end the string */
	CHECK_EQ(NUL_AT("{\"a\":\"x\\\"y\",\"b\":\"\\u0000\"}", key, sizeof(key)), 17);
	CHECK_STR(key, "b");
	/* a raw 0 byte */
	CHECK_EQ(NUL_AT("{\"a\":\"x\0y\"}", key, sizeof(key)), 7);
	CHECK_STR(key, "a");
	/* in a key: no name */
	CHECK_EQ(NUL_AT("{\"na\\u0000me\":\"x\"}", key, sizeof(key)), 4);
	CHECK_STR(key, "");
	/* nested objects and arrays: the innermost key, or the array's */
	CHECK_EQ(NUL_AT("{\"values\":{\"s3.region\":\"\\u0000\"}}", key, sizeof(key)), 24);
	CHECK_STR(key, "s3.region");
	CHECK(NUL_AT("{\"perms\":[\"x\",{\"k\":1},\"\\u0000\"]}", key, sizeof(key)) > 0);
	CHECK_STR(key, "perms");
	CHECK(NUL_AT("{\"perms\":[\"x\"],\"b\":{\"c\":[1]},\"d\":\"\\u0000\"}", key, sizeof(key)) >
	      0);
	CHECK_STR(key, "d");
	/* a name too long for key, or not plain ASCII: "" */
	CHECK(NUL_AT("{\"a_rather_long_name\":\"\\u0000\"}", key, sizeof(key)) > 0);
	CHECK_STR(key, "");
	CHECK(NUL_AT("{\"n\\u00e9\":\"\\u0000\"}", key, sizeof(key)) > 0);
	CHECK_STR(key, "");
	/* no key buffer */
	CHECK_EQ(NUL_AT("{\"a\":\"\\u0000\"}", NULL, 0), 6);
	/* cut short anywhere: never read past len */
	CHECK_EQ(NUL_AT("{\"a\":\"\\u000", key, sizeof(key)), -1);
	CHECK_EQ(NUL_AT("{\"a\":\"\\", key, sizeof(key)), -1);
	CHECK_EQ(NUL_AT("{\"a\":\"x", key, sizeof(key)), -1);
	CHECK_EQ(json_nul_find("{\"a\":\"\\u0000\"}", 11, key, sizeof(key)), -1);
	/* deeper than the keys it remembers */
	for (i = 0; i < 40; i++)
		deep[i] = '[';
	memcpy(deep + 40, "\"\\u0000\"", 9);
	CHECK_EQ(json_nul_find(deep, strlen(deep), key, sizeof(key)), 41);
	CHECK_STR(key, "");
}

TEST(sealed_values)
{
	char dir[128], key[200];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct store_batch *b;
	struct srv s;
	uint8_t *pt;
	size_t len;
	void *raw;
	size_t rlen;
	static const char secret[] = "{\"s3.secret_access_key\":\"SUPERSECRET-1234\"}";

	check_mkdtemp(dir, sizeof(dir), "core");
	snprintf(key, sizeof(key), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(key), 0);
	CHECK_EQ(keyprov_file_open(key, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);

	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(sealed_put(&s, b, STORE_T_CONFIG, "node:n_1", "config", "node:n_1",
			    "config|node:n_1", secret, strlen(secret)),
		 0);
	CHECK_EQ(store_batch_commit(b), 0);
	/* round trip */
	CHECK_EQ(sealed_get(&s, STORE_T_CONFIG, "node:n_1", "config", "node:n_1", "config|node:n_1",
			    &pt, &len),
		 0);
	CHECK_EQ(len, strlen(secret));
	CHECK(pt && !memcmp(pt, secret, len));
	crypto_free(pt, len);
	/* the stored bytes hold no plaintext */
	CHECK_EQ(store_get(st, STORE_T_CONFIG, "node:n_1", "config", &raw, &rlen), 0);
	CHECK(!memmem(raw, rlen, "SUPERSECRET", 11));
	/* wrong AAD (the blob read as another record's) fails */
	CHECK_EQ(sealed_get(&s, STORE_T_CONFIG, "node:n_1", "config", "node:n_1", "config|node:n_2",
			    &pt, &len),
		 -EBADMSG);
	CHECK(pt == NULL);
	/* the blob copied under another scope does not open there */
	CHECK_EQ(store_put(st, STORE_T_CONFIG, "node:n_2", "config", raw, rlen, 0), 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(sealed_put(&s, b, STORE_T_CONFIG, "node:n_3", "config", "node:n_2",
			    "config|node:n_3", "{}", 2),
		 0);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK_EQ(sealed_get(&s, STORE_T_CONFIG, "node:n_2", "config", "node:n_2", "config|node:n_2",
			    &pt, &len),
		 -EBADMSG);
	/* a flipped byte fails */
	((uint8_t *)raw)[rlen - 1] ^= 1;
	CHECK_EQ(store_put(st, STORE_T_CONFIG, "node:n_1", "config", raw, rlen, 0), 0);
	CHECK_EQ(sealed_get(&s, STORE_T_CONFIG, "node:n_1", "config", "node:n_1", "config|node:n_1",
			    &pt, &len),
		 -EBADMSG);
	free(raw);
	/* the DEK is stored wrapped: the KEYS item holds no raw key material we
	 * can find, and a missing item is -ENOENT */
	CHECK_EQ(sealed_get(&s, STORE_T_CONFIG, "node:n_9", "config", "node:n_9", "config|node:n_9",
			    &pt, &len),
		 -ENOENT);

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

TEST(bootstrap)
{
	char dir[128], key[200];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct principal p = {.kind = PRINCIPAL_USER};
	struct target t;
	struct srv s;
	cJSON *u = NULL, *idx = NULL;

	check_mkdtemp(dir, sizeof(dir), "core");
	snprintf(key, sizeof(key), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(key), 0);
	CHECK_EQ(keyprov_file_open(key, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	CHECK_EQ(srv_bootstrap(&s, "Acme", "Root@Example.com", "long enough password"), 0);
	CHECK(id_valid(s.business_id, 'n'));
	CHECK_EQ(srv_bootstrap(&s, "Again", "x@example.com", "long enough password"), -EEXIST);
	CHECK_EQ(jget(&s, STORE_T_EMAILS, "root@example.com", "user", &idx), 0);
	CHECK_EQ(jget(&s, STORE_T_USERS, jstr(idx, "user_id"), "user", &u), 0);
	CHECK_EQ(password_verify(jstr(u, "pw"), "long enough password"), 0);
	strcpy(p.id, jstr(idx, "user_id"));
	CHECK_EQ(principal_load_grants(&s, &p), 0);
	CHECK_EQ(p.n_grants, 1);
	CHECK_EQ(target_node(&s, s.business_id, &t), 0);
	CHECK_EQ(t.depth, 2);
	CHECK_EQ(authorize(&p, PERM_NODE_WRITE, &t), 0);
	CHECK_EQ(target_node(&s, "n_0000000000000000", &t), -ENOENT);
	CHECK_EQ(target_user(&s, "bogus", &t), -ENOENT);
	cJSON_Delete(u);
	cJSON_Delete(idx);
	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

#define BODY_KEEP 4096

/* curl write callback: keep the first BODY_KEEP - 1 bytes of the answer */
static size_t keep_body(char *p, size_t sz, size_t n, void *ud)
{
	char *buf = ud;
	size_t have = strlen(buf), add = sz * n;

	if (add > BODY_KEEP - 1 - have)
		add = BODY_KEEP - 1 - have;
	memcpy(buf + have, p, add);
	buf[have + add] = 0;
	return sz * n;
}

/*
 * GET /api/v1/apps/top over a project with more teams than the walk below a
 * node may visit (10 000): a clear 400, and no team id written past the
 * walk's arrays (ASan would stop the test).
 */
TEST(apps_top_wide_tree)
{
	enum { TEAMS = 10100, CHUNK = 5000 };
	char dir[128], key[200], pid[ID_SIZE], tid[ID_SIZE], sk[ID_SIZE + 8], tok[TOKEN_SIZE],
	    hash[TOKEN_HASH_SIZE], url[256], auth[TOKEN_SIZE + 32], body[BODY_KEEP] = "";
	struct http_route routes[16];
	struct http_opts o = {.listen = "127.0.0.1:0"};
	struct http_server *hs = NULL;
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct store_batch *b = NULL;
	struct curl_slist *hdr = NULL;
	cJSON *idx = NULL, *j, *path;
	struct srv s;
	long code = 0;
	CURL *c;
	int i, n;

	check_mkdtemp(dir, sizeof(dir), "core");
	snprintf(key, sizeof(key), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(key), 0);
	CHECK_EQ(keyprov_file_open(key, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	CHECK_EQ(srv_bootstrap(&s, "Acme", "root@example.com", "long enough password"), 0);
	/* a token of the admin (admin on root) */
	CHECK_EQ(jget(&s, STORE_T_EMAILS, "root@example.com", "user", &idx), 0);
	CHECK_EQ(token_new(TOKEN_PREFIX_BEARER, tok, hash), 0);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kind", "user");
	cJSON_AddStringToObject(j, "id", jstr(idx, "user_id"));
	cJSON_AddNumberToObject(j, "exp", 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(jput(b, STORE_T_TOKENS, hash, "token", j, 0), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	cJSON_Delete(j);
	cJSON_Delete(idx);
	/* a project below the business with TEAMS teams */
	id_new(ID_PREFIX_NODE, pid);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", pid);
	cJSON_AddStringToObject(j, "type", "project");
	cJSON_AddStringToObject(j, "name", "wide");
	path = cJSON_AddArrayToObject(j, "path");
	cJSON_AddItemToArray(path, cJSON_CreateString(ROOT_ID));
	cJSON_AddItemToArray(path, cJSON_CreateString(s.business_id));
	cJSON_AddItemToArray(path, cJSON_CreateString(pid));
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(jput(b, STORE_T_NODES, pid, "node", j, 0), 0);
	cJSON_Delete(j);
	for (i = 0; i < TEAMS; i++) {
		if (i && i % CHUNK == 0) {
			CHECK_EQ(store_batch_commit(b), 0);
			CHECK_EQ(store_batch_begin(st, &b), 0);
		}
		id_new(ID_PREFIX_NODE, tid);
		snprintf(sk, sizeof(sk), "child|%s", tid);
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "id", tid);
		cJSON_AddStringToObject(j, "type", "team");
		cJSON_AddStringToObject(j, "name", "t");
		CHECK_EQ(jput(b, STORE_T_NODES, pid, sk, j, 0), 0);
		cJSON_Delete(j);
	}
	CHECK_EQ(store_batch_commit(b), 0);

	n = api_query_routes(&s, routes, 16);
	CHECK(n > 0);
	o.routes = routes;
	o.n_routes = (size_t)n;
	CHECK_EQ(http_start(&o, &hs), 0);
	if (hs) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/apps/top?node_id=%s",
			 http_port(hs), pid);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		c = curl_easy_init();
		hdr = curl_slist_append(NULL, auth);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
		CHECK_EQ(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		CHECK_EQ(code, 400);
		CHECK(strstr(body, "more than 10000 nodes") != NULL);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(c);
		http_stop(hs);
	}
	crypto_wipe(tok, sizeof(tok));
	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

/*
 * GET /api/v1/users/{id}/activity over rollups holding counters at and past
 * the int64 range (what a device lying about its counts for long enough
 * leaves): the answer saturates, it neither wraps to negative numbers nor
 * overflows while summing (UBSan would stop the test).
 */
TEST(activity_huge_counters)
{
	char dir[128], key[200], tok[TOKEN_SIZE], hash[TOKEN_HASH_SIZE], url[256],
	    auth[TOKEN_SIZE + 32], pk[64], day[11], body[BODY_KEEP] = "";
	struct http_route routes[16];
	struct http_opts o = {.listen = "127.0.0.1:0"};
	struct http_server *hs = NULL;
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct store_batch *b = NULL;
	struct curl_slist *hdr = NULL;
	cJSON *idx = NULL, *j;
	const char *uid;
	int64_t t0 = now_ms() / 86400000 * 86400000 - 86400000; /* yesterday 00:00 */
	struct srv s;
	long code = 0;
	CURL *c;
	int n;

	check_mkdtemp(dir, sizeof(dir), "core");
	snprintf(key, sizeof(key), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(key), 0);
	CHECK_EQ(keyprov_file_open(key, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	CHECK_EQ(srv_bootstrap(&s, "Acme", "root@example.com", "long enough password"), 0);
	CHECK_EQ(jget(&s, STORE_T_EMAILS, "root@example.com", "user", &idx), 0);
	uid = jstr(idx, "user_id");
	CHECK_EQ(token_new(TOKEN_PREFIX_BEARER, tok, hash), 0);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kind", "user");
	cJSON_AddStringToObject(j, "id", uid);
	cJSON_AddNumberToObject(j, "exp", 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(jput(b, STORE_T_TOKENS, hash, "token", j, 0), 0);
	cJSON_Delete(j);
	/* two hours near the top of int64, one past it */
	key_day(t0, day);
	snprintf(pk, sizeof(pk), "user|%s|%s", uid, day);
	{
		static const char *const act[][2] = {{"act|01", "{\"keys\":9e18,\"records\":1}"},
						     {"act|02", "{\"keys\":9e18,\"records\":1}"},
						     {"act|03", "{\"keys\":1e19,\"records\":1}"}};

		for (n = 0; n < 3; n++)
			CHECK_EQ(store_batch_put(b, STORE_T_ROLLUPS, pk, act[n][0], act[n][1],
						 strlen(act[n][1]), 0),
				 0);
	}
	CHECK_EQ(store_batch_commit(b), 0);

	n = api_query_routes(&s, routes, 16);
	CHECK(n > 0);
	o.routes = routes;
	o.n_routes = (size_t)n;
	CHECK_EQ(http_start(&o, &hs), 0);
	if (hs) {
		/* hours 01..03 one by one (step 1 h), then all in one point */
		snprintf(
		    url, sizeof(url),
		    "http://127.0.0.1:%u/api/v1/users/%s/activity?from=%lld&to=%lld&step=10800",
		    http_port(hs), uid, (long long)t0, (long long)(t0 + 86400000));
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		c = curl_easy_init();
		hdr = curl_slist_append(NULL, auth);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
		CHECK_EQ(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		CHECK_EQ(code, 200);
		j = cJSON_Parse(body);
		CHECK(j != NULL);
		{
			const cJSON *tot = cJSON_GetObjectItemCaseSensitive(j, "totals");
			const cJSON *s0 =
			    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "series"), 0);

			CHECK(jint(tot, "keys", 0) == INT64_MAX);
			CHECK(jint(s0, "keys", 0) == INT64_MAX);
			CHECK_EQ(jint(tot, "records", 0), 3);
		}
		cJSON_Delete(j);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(c);
		http_stop(hs);
	}
	/* jint itself: out-of-range numbers saturate */
	j = cJSON_Parse("{\"big\":1e300,\"small\":-1e300,\"x\":42.9}");
	CHECK(jint(j, "big", 0) == INT64_MAX);
	CHECK(jint(j, "small", 0) == INT64_MIN);
	CHECK_EQ(jint(j, "x", 0), 42);
	CHECK_EQ(jint(j, "none", -7), -7);
	cJSON_Delete(j);
	cJSON_Delete(idx);
	crypto_wipe(tok, sizeof(tok));
	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

/*
 * POST /api/v1/ingest of an activity record into an hour whose rollup
 * already holds a counter past the int64 range: the sum saturates instead
 * of overflowing (UBSan would stop the test).
 */
TEST(ingest_huge_counters)
{
	char dir[128], key[200], tok[TOKEN_SIZE], hash[TOKEN_HASH_SIZE], url[256],
	    auth[TOKEN_SIZE + 32], pk[64], day[11], ts[RFC3339_LEN], line[512], did[ID_SIZE],
	    body[BODY_KEEP] = "";
	struct http_route routes[16];
	struct http_opts o = {.listen = "127.0.0.1:0"};
	struct http_server *hs = NULL;
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct store_batch *b = NULL;
	struct curl_slist *hdr = NULL;
	int64_t t0 = now_ms() / 86400000 * 86400000 - 86400000 + 3600000; /* yesterday 01:00 */
	cJSON *j;
	struct srv s;
	long code = 0;
	CURL *c;
	int n;

	check_mkdtemp(dir, sizeof(dir), "core");
	snprintf(key, sizeof(key), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(key), 0);
	CHECK_EQ(keyprov_file_open(key, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);
	CHECK_EQ(srv_bootstrap(&s, "Acme", "root@example.com", "long enough password"), 0);
	/* a device of no one, with its token */
	id_new(ID_PREFIX_DEVICE, did);
	CHECK_EQ(token_new(TOKEN_PREFIX_DEVICE, tok, hash), 0);
	CHECK_EQ(store_batch_begin(st, &b), 0);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", did);
	cJSON_AddStringToObject(j, "team_id", s.business_id);
	cJSON_AddFalseToObject(j, "revoked");
	cJSON_AddStringToObject(j, "token", hash);
	CHECK_EQ(jput(b, STORE_T_DEVICES, did, "device", j, 0), 0);
	cJSON_Delete(j);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kind", "device");
	cJSON_AddStringToObject(j, "id", did);
	cJSON_AddNumberToObject(j, "exp", 0);
	CHECK_EQ(jput(b, STORE_T_TOKENS, hash, "token", j, 0), 0);
	cJSON_Delete(j);
	/* its activity rollup of yesterday 01:00 already past int64 */
	key_day(t0, day);
	snprintf(pk, sizeof(pk), "dev|%s|%s", did, day);
	CHECK_EQ(store_batch_put(b, STORE_T_ROLLUPS, pk, "act|01", "{\"keys\":1e19}", 13, 0), 0);
	CHECK_EQ(store_batch_commit(b), 0);

	n = api_ingest_routes(&s, routes, 16);
	CHECK(n > 0);
	o.routes = routes;
	o.n_routes = (size_t)n;
	CHECK_EQ(http_start(&o, &hs), 0);
	if (hs) {
		rfc3339_ms(t0, ts);
		snprintf(line, sizeof(line),
			 "{\"type\":\"activity\",\"ts\":\"%s\",\"v\":1,\"host_id\":\"h\","
			 "\"user\":null,\"start\":\"%s\",\"end\":\"%s\",\"interval_s\":60,"
			 "\"keys\":5,\"clicks\":0,\"moves\":0,\"scrolls\":0,\"active_s\":30}\n",
			 ts, ts, ts);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/ingest", http_port(hs));
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		c = curl_easy_init();
		hdr = curl_slist_append(NULL, auth);
		hdr = curl_slist_append(hdr, "X-Batch-Id: b1");
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, line);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
		CHECK_EQ(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		CHECK_EQ(code, 200);
		CHECK(strstr(body, "\"accepted\":1") != NULL);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(c);
		http_stop(hs);
		CHECK_EQ(jget(&s, STORE_T_ROLLUPS, pk, "act|01", &j), 0);
		CHECK(jint(j, "keys", 0) == INT64_MAX);
		CHECK_EQ(jint(j, "records", 0), 1);
		cJSON_Delete(j);
	}
	crypto_wipe(tok, sizeof(tok));
	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

static int count_item(const char *pk, const char *sk, const void *val, size_t len, void *ctx)
{
	(void)pk, (void)sk, (void)val, (void)len, (void)ctx;
	return 0;
}

/* Sign a token of uid in: issued at iat, expiring at exp (0: never), from addr. */
static void utok_add(struct srv *s, const char *uid, int64_t iat, int64_t exp, const char *addr,
		     char hash[TOKEN_HASH_SIZE])
{
	char tok[TOKEN_SIZE];
	struct store_batch *b;
	cJSON *j = cJSON_CreateObject();

	CHECK_EQ(token_new(TOKEN_PREFIX_BEARER, tok, hash), 0);
	cJSON_AddStringToObject(j, "kind", "user");
	cJSON_AddStringToObject(j, "id", uid);
	cJSON_AddNumberToObject(j, "exp", (double)exp);
	cJSON_AddNumberToObject(j, "iat", (double)iat);
	CHECK_EQ(store_batch_begin(s->st, &b), 0);
	CHECK_EQ(user_token_add(s, b, uid, hash, j, addr), 0);
	CHECK_EQ(store_batch_commit(b), 0);
	cJSON_Delete(j);
}

static bool tok_exists(struct srv *s, const char *hash)
{
	void *v = NULL;
	size_t n;
	int ret = store_get(s->st, STORE_T_TOKENS, hash, "token", &v, &n);

	free(v);
	return ret == 0;
}

/*
 * The index of a user's tokens (TOKENS pk "user|"uid): expired tokens and,
 * past USER_TOKENS_MAX, the oldest go at the next sign-in; revocation
 * deletes every token but the one kept, with their entries; a live token
 * tells where it was issued.
 */
TEST(user_token_index)
{
	const char *uid = "u_00000000000000a1", *pk = "user|u_00000000000000a1";
	char dir[128], key[200], first[TOKEN_HASH_SIZE], gone[TOKEN_HASH_SIZE],
	    keep[TOKEN_HASH_SIZE], h[TOKEN_HASH_SIZE];
	struct keyprov *kp = NULL;
	struct store *st = NULL;
	struct store_batch *b;
	int64_t now = now_ms();
	struct srv s;
	int i;

	check_mkdtemp(dir, sizeof(dir), "utok");
	snprintf(key, sizeof(key), "%s/master.key", dir);
	CHECK_EQ(keyprov_file_create(key), 0);
	CHECK_EQ(keyprov_file_open(key, &kp, NULL, 0), 0);
	CHECK_EQ(store_open_lmdb(&st, dir, NULL), 0);
	CHECK_EQ(srv_init(&s, st, kp, NULL), 0);

	utok_add(&s, uid, now - 5000, now + 3600000, "10.0.0.1", first);
	utok_add(&s, uid, now - 3000, 0, "10.0.0.3", keep);
	utok_add(&s, uid, now - 4000, now - 1, "10.0.0.2", gone);
	CHECK(user_token_from(&s, uid, "10.0.0.1"));
	CHECK(user_token_from(&s, uid, "10.0.0.3"));
	CHECK(!user_token_from(&s, uid, "10.0.0.2")); /* expired */
	CHECK(!user_token_from(&s, uid, "10.0.0.9"));
	CHECK(!user_token_from(&s, NULL, "10.0.0.1"));
	CHECK(!user_token_from(&s, "u_00000000000000b2", "10.0.0.1"));

	/* the next sign-in takes the expired token and its entry away */
	CHECK(tok_exists(&s, gone));
	utok_add(&s, uid, now - 2000, now + 3600000, "10.0.0.4", h);
	CHECK(!tok_exists(&s, gone));
	CHECK_EQ(store_query(st, STORE_T_TOKENS, pk, NULL, NULL, 0, 0, count_item, NULL), 3);

	/* up to USER_TOKENS_MAX live tokens; one more evicts the oldest */
	for (i = 3; i < USER_TOKENS_MAX; i++)
		utok_add(&s, uid, now - 1000 + i, now + 3600000, "10.0.0.5", h);
	CHECK(tok_exists(&s, first));
	CHECK_EQ(store_query(st, STORE_T_TOKENS, pk, NULL, NULL, 0, 0, count_item, NULL),
		 USER_TOKENS_MAX);
	utok_add(&s, uid, now, now + 3600000, "10.0.0.6", h);
	CHECK(!tok_exists(&s, first));
	CHECK(tok_exists(&s, keep));
	CHECK(tok_exists(&s, h));
	CHECK_EQ(store_query(st, STORE_T_TOKENS, pk, NULL, NULL, 0, 0, count_item, NULL),
		 USER_TOKENS_MAX);

	/* revoke all but one */
	CHECK_EQ(store_batch_begin(st, &b), 0);
	CHECK_EQ(user_tokens_revoke(&s, b, uid, keep), USER_TOKENS_MAX - 1);
	CHECK_EQ(store_batch_commit(b), 0);
	CHECK(!tok_exists(&s, h));
	CHECK(tok_exists(&s, keep));
	CHECK_EQ(store_query(st, STORE_T_TOKENS, pk, NULL, NULL, 0, 0, count_item, NULL), 1);
	CHECK_EQ(user_tokens_sweep(&s, uid, keep), 0);
	CHECK_EQ(user_tokens_sweep(&s, uid, NULL), 1);
	CHECK(!tok_exists(&s, keep));
	CHECK_EQ(store_query(st, STORE_T_TOKENS, pk, NULL, NULL, 0, 0, count_item, NULL), 0);

	/* sign-out: the token and its entry */
	utok_add(&s, uid, now, 0, "10.0.0.7", h);
	CHECK_EQ(user_token_drop(&s, uid, h), 0);
	CHECK(!tok_exists(&s, h));
	CHECK_EQ(store_query(st, STORE_T_TOKENS, pk, NULL, NULL, 0, 0, count_item, NULL), 0);

	srv_fini(&s);
	store_close(st);
	keyprov_free(kp);
	CHECK_EQ(check_rmtree(dir), 0);
}

int main(void)
{
	RUN(authorize_grid);
	RUN(perms_and_roles);
	RUN(ids_and_emails);
	RUN(json_nul);
	RUN(sealed_values);
	RUN(bootstrap);
	RUN(apps_top_wide_tree);
	RUN(activity_huge_counters);
	RUN(ingest_huge_counters);
	RUN(user_token_index);
	return check_failed_total ? 1 : 0;
}
