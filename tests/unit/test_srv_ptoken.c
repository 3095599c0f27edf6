// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the pure parts of server/model/ptoken.c: scopes, expiry,
 * and the cut of a principal's grants to a personal token's scopes. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "model/ptoken.h"

#define NOW 1800000000000LL

static int scopes(const char *json, uint32_t held, uint32_t *mask, struct model_why *why)
{
	cJSON *a = cJSON_Parse(json);
	int ret = ptoken_scopes_parse(a, held, mask, why);

	cJSON_Delete(a);
	return ret;
}

static int expiry(const char *json, int64_t *exp, struct model_why *why)
{
	cJSON *o = cJSON_Parse(json);
	int ret = ptoken_expiry(o, NOW, exp, why);

	cJSON_Delete(o);
	return ret;
}

TEST(scopes_rules)
{
	struct model_why why;
	uint32_t m = 99, held = PERM_NODE_READ | PERM_USER_READ | PERM_SELF_READ;
	char many[1024] = "[";
	int i;

	CHECK_EQ(scopes("[\"node.read\",\"user.read\"]", held, &m, &why), 0);
	CHECK_EQ(m, PERM_NODE_READ | PERM_USER_READ);
	CHECK_EQ(scopes("[\"node.read\",\"node.read\"]", held, &m, &why), 0);
	CHECK_EQ(m, PERM_NODE_READ);
	/* not held: refused, the reason names it */
	CHECK_EQ(scopes("[\"node.read\",\"audit.read\"]", held, &m, &why), -EACCES);
	CHECK(strstr(why.msg, "'audit.read'") != NULL);
	CHECK_EQ(m, 0);
	/* unknown: named too */
	CHECK_EQ(scopes("[\"node.fly\"]", held, &m, &why), -EINVAL);
	CHECK(strstr(why.msg, "'node.fly'") != NULL);
	/* empty, not an array, not strings, missing */
	CHECK_EQ(scopes("[]", held, &m, &why), -EINVAL);
	CHECK_EQ(scopes("\"node.read\"", held, &m, &why), -EINVAL);
	CHECK_EQ(scopes("[1]", held, &m, &why), -EINVAL);
	CHECK_EQ(ptoken_scopes_parse(NULL, held, &m, &why), -EINVAL);
	CHECK(why.msg[0] != 0);
	/* the cap on entries: 32 pass, 33 do not */
	for (i = 0; i < PTOKEN_SCOPES_MAX; i++)
		strcat(many, i ? ",\"node.read\"" : "\"node.read\"");
	strcat(many, "]");
	CHECK_EQ(scopes(many, held, &m, &why), 0);
	many[strlen(many) - 1] = 0;
	strcat(many, ",\"node.read\"]");
	CHECK_EQ(scopes(many, held, &m, &why), -EINVAL);
	/* a user holding nothing can carry nothing */
	CHECK_EQ(scopes("[\"self.read\"]", 0, &m, &why), -EACCES);
}

TEST(expiry_rules)
{
	struct model_why why;
	int64_t exp = 0;

	CHECK_EQ(expiry("{}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 90LL * 86400 * 1000);
	CHECK_EQ(expiry("{\"expires_in_s\":null}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 90LL * 86400 * 1000);
	CHECK_EQ(expiry("{\"expires_in_s\":1}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 1000);
	CHECK_EQ(expiry("{\"expires_in_s\":31536000}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 31536000LL * 1000);
	CHECK_EQ(expiry("{\"expires_in_s\":31536001}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":0}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":-5}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":1.5}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":\"60\"}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":1e300}", &exp, &why), -EINVAL);
	/* a minute ahead, in Unix ms and in RFC 3339 (NOW is 2027-01-15T08:00:00Z) */
	CHECK_EQ(expiry("{\"expires_at\":1800000060000}", &exp, &why), 0);
	CHECK_EQ(exp, NOW + 60000);
	CHECK_EQ(expiry("{\"expires_at\":\"2027-01-15T08:01:00Z\"}", &exp, &why), 0);
	CHECK_EQ(exp, 1800000060000LL);
	CHECK_EQ(expiry("{\"expires_at\":1800000000000}", &exp, &why), -EINVAL); /* now */
	CHECK_EQ(expiry("{\"expires_at\":\"2020-01-01T00:00:00Z\"}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_at\":1831536000000}", &exp, &why), 0); /* a year */
	CHECK_EQ(expiry("{\"expires_at\":1831536000001}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_at\":\"tomorrow\"}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_at\":true}", &exp, &why), -EINVAL);
	CHECK_EQ(expiry("{\"expires_in_s\":60,\"expires_at\":1800000060000}", &exp, &why), -EINVAL);
	CHECK(strstr(why.msg, "not both") != NULL);
}

TEST(restrict_to_scopes)
{
	static struct principal p;
	cJSON *t;

	memset(&p, 0, sizeof(p));
	p.n_grants = 2;
	p.g[0].perms = PERM_NODE_READ | PERM_USER_READ | PERM_USER_WRITE;
	p.g[1].perms = PERM_SELF_READ;
	CHECK_EQ(ptoken_held(&p),
		 PERM_NODE_READ | PERM_USER_READ | PERM_USER_WRITE | PERM_SELF_READ);
	ptoken_restrict(&p, PERM_NODE_READ | PERM_AUDIT_READ);
	CHECK(p.personal);
	CHECK_EQ(p.g[0].perms, PERM_NODE_READ);
	CHECK_EQ(p.g[1].perms, 0);
	/* the scopes never add what a grant lacks */
	CHECK_EQ(ptoken_held(&p), PERM_NODE_READ);

	t = cJSON_Parse("{\"scopes\":[\"node.read\",\"bogus\",3,\"activity.read\"]}");
	CHECK_EQ(ptoken_item_scopes(t), PERM_NODE_READ | PERM_ACTIVITY_READ);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"kind\":\"personal\"}");
	CHECK_EQ(ptoken_item_scopes(t), 0);
	cJSON_Delete(t);
}

int main(void)
{
	RUN(scopes_rules);
	RUN(expiry_rules);
	RUN(restrict_to_scopes);
	return CHECK_DONE();
}
