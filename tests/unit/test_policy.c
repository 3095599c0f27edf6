// SPDX-License-Identifier: BSD-2-Clause
/* actlogd's policy (user/agent/policy.c): the saved file, the merge of the server's
 * policy over the local settings. */
#include <errno.h>

#include "check.h"
#include "conf.h"
#include "policy.h"

/* local settings with values no server default has */
static void local_conf(struct agent_conf *c)
{
	conf_defaults(c);
	c->logging = 1;
	c->interval_s = 7;
	c->idle_threshold_s = 77;
	c->sysinfo_interval_s = 777;
}

TEST(no_policy_is_all_local)
{
	struct agent_conf c;
	struct policy_values v;
	int k;

	local_conf(&c);
	policy_merge(&c, NULL, &v);
	CHECK_EQ(v.logging, 1);
	CHECK_EQ(v.interval_s, 7);
	CHECK_EQ(v.idle_threshold_s, 77);
	CHECK_EQ(v.sysinfo_interval_s, 777);
	for (k = 0; k < POL_NKEYS; k++)
		CHECK_EQ(v.src[k], POL_SRC_LOCAL);
}

TEST(server_keys_win_over_local_ones)
{
	cJSON *doc = cJSON_Parse("{\"config\":{\"logging.enabled\":false,"
				 "\"activity.interval_s\":30,\"screenshots.enabled\":true},"
				 "\"device_id\":\"d_1\"}");
	struct agent_conf c;
	struct policy_values v;

	local_conf(&c);
	policy_merge(&c, policy_config(doc), &v);
	CHECK_EQ(v.logging, 0);
	CHECK_EQ(v.src[POL_LOGGING], POL_SRC_SERVER);
	CHECK_EQ(v.interval_s, 30);
	CHECK_EQ(v.src[POL_INTERVAL], POL_SRC_SERVER);
	/* what the server does not set comes from the local settings */
	CHECK_EQ(v.idle_threshold_s, 77);
	CHECK_EQ(v.src[POL_IDLE], POL_SRC_LOCAL);
	CHECK_EQ(v.sysinfo_interval_s, 777);
	CHECK_EQ(v.src[POL_SYSINFO], POL_SRC_LOCAL);
	/* a local "logging = no" loses to the server's true as well */
	c.logging = 0;
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItem(doc, "config"),
					       "logging.enabled", cJSON_CreateTrue());
	policy_merge(&c, policy_config(doc), &v);
	CHECK_EQ(v.logging, 1);
	cJSON_Delete(doc);
}

TEST(bad_server_values_fall_back_to_local)
{
	cJSON *doc = cJSON_Parse("{\"logging.enabled\":\"no\",\"activity.interval_s\":0,"
				 "\"idle.threshold_s\":12.5,\"sysinfo.interval_s\":59}");
	struct agent_conf c;
	struct policy_values v;
	int k;

	local_conf(&c);
	/* a document without "config" is the settings object itself */
	CHECK(policy_config(doc) == doc);
	policy_merge(&c, policy_config(doc), &v);
	CHECK_EQ(v.logging, 1);
	CHECK_EQ(v.interval_s, 7);
	CHECK_EQ(v.idle_threshold_s, 77);
	CHECK_EQ(v.sysinfo_interval_s, 777);
	for (k = 0; k < POL_NKEYS; k++)
		CHECK_EQ(v.src[k], POL_SRC_LOCAL);
	cJSON_Delete(doc);
	doc = cJSON_Parse("[1]");
	CHECK(policy_config(doc) == NULL);
	cJSON_Delete(doc);
	CHECK_STR(policy_key_name(POL_LOGGING), "logging.enabled");
	CHECK_STR(policy_local_name(POL_SYSINFO), "sysinfo_interval_s");
}

TEST(file_round_trip)
{
	static const char body[] = "{\"config\":{\"logging.enabled\":false,"
				   "\"activity.interval_s\":10},\"device_id\":\"d_1\"}";
	struct policy_saved ps;
	char err[160] = "", *text;
	int e;

	text = policy_file_build(NULL, 0, NULL, "\"abc123\"", 1764324000123LL, body,
				 sizeof(body) - 1, &e);
	CHECK(text != NULL);
	CHECK_EQ(e, 0);
	CHECK_EQ(policy_file_parse(text, strlen(text), NULL, &ps, err, sizeof(err)), 0);
	CHECK_STR(ps.etag, "\"abc123\"");
	CHECK_EQ(ps.saved_ms, 1764324000123LL);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(policy_config(ps.doc), "logging.enabled")));
	CHECK_STR(cJSON_GetObjectItem(ps.doc, "device_id")->valuestring, "d_1");
	cJSON_Delete(ps.doc);
	free(text);
	/* an answer without an ETag is kept too */
	text = policy_file_build(NULL, 0, NULL, "", 1, body, sizeof(body) - 1, &e);
	CHECK(text != NULL);
	CHECK_EQ(policy_file_parse(text, strlen(text), NULL, &ps, err, sizeof(err)), 0);
	CHECK_STR(ps.etag, "");
	cJSON_Delete(ps.doc);
	free(text);
}

/* The policy of config body for user, saved on top of *file (replaced). */
static void put(char **file, const char *user, const char *etag, int64_t ms, const char *body)
{
	char *t;
	int e = 1;

	t = policy_file_build(*file, *file ? strlen(*file) : 0, user, etag, ms, body, strlen(body),
			      &e);
	CHECK(t != NULL);
	CHECK_EQ(e, 0);
	free(*file);
	*file = t;
}

/* The saved logging.enabled for user (-1 no entry), its etag into etag. */
static int logging_of(const char *file, const char *user, char *etag)
{
	struct policy_saved ps;
	char err[160];
	int r;

	r = policy_file_parse(file, strlen(file), user, &ps, err, sizeof(err));
	if (r == -ENOENT)
		return -1;
	CHECK_EQ(r, 0);
	strcpy(etag, ps.etag);
	r = cJSON_IsTrue(cJSON_GetObjectItem(policy_config(ps.doc), "logging.enabled"));
	cJSON_Delete(ps.doc);
	return r;
}

TEST(one_policy_per_user)
{
	static const char on[] = "{\"config\":{\"logging.enabled\":true}}",
			  off[] = "{\"config\":{\"logging.enabled\":false}}";
	char *file = NULL, etag[POLICY_ETAG_MAX], name[16], err[160], *t;
	struct policy_saved ps;
	int i, e;

	put(&file, "alice", "\"a1\"", 10, on);
	put(&file, "bob", "\"b1\"", 20, off);
	put(&file, NULL, "\"n1\"", 30, off);
	CHECK_EQ(logging_of(file, "alice", etag), 1);
	CHECK_STR(etag, "\"a1\"");
	CHECK_EQ(logging_of(file, "bob", etag), 0);
	CHECK_STR(etag, "\"b1\"");
	CHECK_EQ(logging_of(file, NULL, etag), 0);
	CHECK_STR(etag, "\"n1\"");
	CHECK_EQ(logging_of(file, "carol", etag), -1);
	/* a new answer for alice replaces hers only, and comes first */
	put(&file, "alice", "\"a2\"", 40, off);
	CHECK_EQ(logging_of(file, "alice", etag), 0);
	CHECK_STR(etag, "\"a2\"");
	CHECK_EQ(logging_of(file, "bob", etag), 0);
	CHECK(strstr(file, "\"a1\"") == NULL);
	CHECK(!strncmp(file, "{\"v\":2,\"users\":[{\"user\":\"alice\",", 32));
	/* a login is not a prefix match, and "" is nobody's */
	CHECK_EQ(logging_of(file, "alic", etag), -1);
	CHECK(policy_file_build(file, strlen(file), "", "", 1, on, strlen(on), &e) == NULL);
	CHECK_EQ(e, -EINVAL);
	/* at most POLICY_USERS_MAX users: the oldest go */
	for (i = 0; i < POLICY_USERS_MAX; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		put(&file, name, "", 100 + i, on);
	}
	CHECK_EQ(logging_of(file, "u0", etag), 1);
	CHECK_EQ(logging_of(file, "alice", etag), -1);
	CHECK_EQ(logging_of(file, "bob", etag), -1);
	CHECK_EQ(logging_of(file, NULL, etag), -1);
	free(file);
	/* a version 1 file is the policy for no session user, and is kept
	 * when another user's policy is saved */
	file = strdup("{\"v\":1,\"etag\":\"\\\"old\\\"\",\"saved_ms\":5,"
		      "\"policy\":{\"config\":{\"logging.enabled\":false}}}");
	CHECK_EQ(logging_of(file, NULL, etag), 0);
	CHECK_STR(etag, "\"old\"");
	CHECK_EQ(policy_file_parse(file, strlen(file), "alice", &ps, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "alice") != NULL);
	put(&file, "alice", "", 50, on);
	CHECK_EQ(logging_of(file, "alice", etag), 1);
	CHECK_EQ(logging_of(file, NULL, etag), 0);
	CHECK_STR(etag, "\"old\"");
	/* a damaged old file keeps nothing of it */
	t = policy_file_build("{\"v\":2,\"us", 12, "bob", "", 1, on, strlen(on), &e);
	CHECK(t != NULL);
	CHECK_EQ(logging_of(t, "bob", etag), 1);
	CHECK_EQ(logging_of(t, "alice", etag), -1);
	free(t);
	free(file);
}

TEST(build_refuses_what_it_cannot_keep)
{
	char *big = malloc(POLICY_BODY_MAX + 2);
	int e = 0;

	CHECK(policy_file_build(NULL, 0, NULL, "\"x\"", 1, "[1,2]", 5, &e) == NULL);
	CHECK_EQ(e, -EINVAL);
	CHECK(policy_file_build(NULL, 0, NULL, "\"x\"", 1, "{\"a\":", 5, &e) == NULL);
	CHECK_EQ(e, -EINVAL);
	CHECK(policy_file_build(NULL, 0, NULL, "\"x\r\nInjected: 1\"", 1, "{}", 2, &e) == NULL);
	CHECK_EQ(e, -EINVAL);
	memset(big, ' ', POLICY_BODY_MAX + 1);
	big[0] = '{';
	big[POLICY_BODY_MAX] = '}';
	big[POLICY_BODY_MAX + 1] = '\0';
	CHECK(policy_file_build(NULL, 0, NULL, "\"x\"", 1, big, POLICY_BODY_MAX + 1, &e) == NULL);
	CHECK_EQ(e, -E2BIG);
	free(big);
}

/* parse FILE: the expected error and a word of its reason */
static void bad(const char *text, int want, const char *why)
{
	struct policy_saved ps;
	char err[160] = "";

	CHECK_EQ(policy_file_parse(text, strlen(text), NULL, &ps, err, sizeof(err)), want);
	CHECK(ps.doc == NULL);
	if (!strstr(err, why))
		printf("  reason '%s' lacks '%s' (file %s)\n", err, why, text);
	CHECK(strstr(err, why) != NULL);
}

TEST(damaged_files_are_refused)
{
	char *big;

	bad("", -EINVAL, "not a JSON object");
	bad("{\"v\":1,\"etag\":\"\\\"a\\\"\",\"saved_ms\":1,\"policy\":{\"config\":{}}", -EINVAL,
	    "not a JSON object"); /* torn: the closing brace is missing */
	bad("garbage\x01\xff", -EINVAL, "not a JSON object");
	bad("{\"v\":3,\"etag\":\"\",\"saved_ms\":1,\"policy\":{}}", -EINVAL, "version");
	bad("{\"v\":2,\"etag\":\"\",\"saved_ms\":1,\"policy\":{}}", -EINVAL, "users");
	bad("{\"v\":2,\"users\":[{\"user\":null,\"etag\":\"\",\"saved_ms\":1}]}", -EINVAL,
	    "not a JSON object");
	bad("{\"v\":2,\"users\":[{\"user\":\"bob\",\"etag\":\"\",\"saved_ms\":1,\"policy\":{}}]}",
	    -ENOENT, "no session user");
	bad("{\"v\":1,\"etag\":5,\"saved_ms\":1,\"policy\":{}}", -EINVAL, "etag");
	bad("{\"v\":1,\"etag\":\"a\\nb\",\"saved_ms\":1,\"policy\":{}}", -EINVAL, "etag");
	bad("{\"v\":1,\"etag\":\"\",\"saved_ms\":-1,\"policy\":{}}", -EINVAL, "saved_ms");
	bad("{\"v\":1,\"etag\":\"\",\"saved_ms\":1}", -EINVAL, "not a JSON object");
	bad("{\"v\":1,\"etag\":\"\",\"saved_ms\":1,\"policy\":[]}", -EINVAL, "not a JSON object");
	bad("{\"v\":1,\"etag\":\"\",\"saved_ms\":1,\"policy\":{\"config\":{\"logging.enabled\":0}}"
	    "}",
	    -EINVAL, "logging.enabled");
	bad("{\"v\":1,\"etag\":\"\",\"saved_ms\":1,\"policy\":{\"activity.interval_s\":99999}}",
	    -EINVAL, "activity.interval_s");
	big = malloc(POLICY_FILE_MAX + 2);
	memset(big, ' ', POLICY_FILE_MAX + 1);
	big[POLICY_FILE_MAX + 1] = '\0';
	bad(big, -EFBIG, "more than");
	free(big);
}

int main(void)
{
	RUN(no_policy_is_all_local);
	RUN(server_keys_win_over_local_ones);
	RUN(bad_server_values_fall_back_to_local);
	RUN(file_round_trip);
	RUN(one_policy_per_user);
	RUN(build_refuses_what_it_cannot_keep);
	RUN(damaged_files_are_refused);
	return CHECK_DONE();
}
