/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keys.h - the storage layout of actlog-server: every table's items, and
 * one builder for every key shape. Nothing else in the server (or in the
 * tools that link it) writes a key with snprintf: a key format lives here
 * and only here, so that the writers, the readers, the retention sweep and
 * a second engine cannot drift apart.
 *
 * Values are compact JSON unless marked "sealed" (core/srv.h: sealed_put).
 * Times in keys are Unix milliseconds, fixed width (%013lld), so that they
 * sort as numbers; <day> is "YYYY-MM-DD" (UTC), <HH> "00".."23" (UTC).
 * Ids carry no '|' (core/srv.h: "p_" + 16 hex digits), so '|' separates
 * the parts of a composite key unambiguously; free text (an application
 * name, an object key, a host id) only ever comes last.
 *
 *   META    pk "store"              sk "meta"          {schema, created, business_id}
 *           pk "store"              sk "backup"        {last_success, last_failure}: the
 *                                                      periodic backups' last runs
 *                                                      (model/backup_sched.c)
 *           pk "store"              sk "kek"           {current, from, started, rewrapped,
 *                                                       rotated}  (master key state: the id
 *                                                      that wraps new data keys and the
 *                                                      rotation in progress; core/srv.h)
 *   NODES   pk <node>               sk "node"          {id,type,name,parent_id,path[],created,rev}
 *           pk <parent>             sk "child|<node>"  {id,type,name}     (parent "root" for
 *                                                                          businesses)
 *   USERS   pk <user>               sk "user"          {id,email,name,login,team_id,pw,disabled,
 *                                                       created, sessions_after: Unix ms;
 *                                                       tokens issued before it are refused,
 *                                                       teams_before: [team] (moves),
 *                                                       erasing, erased: {records, rollups,
 *                                                       screenshots} (model/erase.h)}
 *           pk "team|<team>"        sk <user>          {id}               (members of a team)
 *           pk <user>               sk "avatar"        {key,content_type,size,sha256,width,...}
 *           pk <user>               sk "avatar-s3"     sealed S3 settings of the picture
 *                                                      (scope and aad: model/avatar.h)
 *   EMAILS  pk <lower-case email>   sk "user"          {user_id}          (unique: IF_ABSENT)
 *   TOKENS  pk <token hash>         sk "token"         {kind:"user"|"device", id, exp, iat}
 *                                                      (device tokens: exp 0)
 *           pk "user|<user>"        sk <token hash>    {iat, exp, addr}   (a user's sign-in
 *                                                      tokens: written with the token in one
 *                                                      batch, deleted with it at sign-out,
 *                                                      expiry, eviction (USER_TOKENS_MAX)
 *                                                      and revocation)
 *           pk <token hash>         sk "token"         {kind:"personal", id, tid, scopes[],
 *                                                       exp, iat}  (personal API tokens)
 *           pk "ptok|<user>"        sk <token id>      {id,name,scopes[],created,exp,hash}
 *                                                      (a user's personal tokens:
 *                                                      model/ptoken.h)
 *   ROLES   pk "roles"              sk <role name>     {name,id,permissions[],by,at}
 *   GRANTS  pk <user>               sk "<node>|<role>" {user_id,node_id,role,by,at,role_id}
 *           pk "node|<node>"        sk "<user>|<role>" {}                 (grants on a node)
 *   AUDIT   pk <day>                sk "<ms %013lld>|<random %08x>"  {ts,actor,action,...}
 *   KEYS    pk <scope>              sk "dek"           {id, wrapped, kek_id}  (data keys;
 *                                                      wrapped: base64 of the blob, whose
 *                                                      header names the KEK id)
 *   CONFIG  pk <scope>              sk "config"        sealed JSON; scope "node:<node>" or
 *                                                      "user:<user>"
 *           pk <scope>              sk "logging"       sealed {"before":v,"h":[[ms,v],...]}:
 *                                                      the level's logging.enabled over time
 *                                                      (v true, false or null: not set; at
 *                                                      most 256 entries; model/config.h)
 *   DEVICES pk <device>             sk "device"        {id,team_id,host_id,hostname,
 *                                                       agent_version,owner_id,enrolled_at,
 *                                                       revoked,pending,last_seen,token}
 *           pk <device>             sk "sysinfo"       the newest sysinfo record (by ts)
 *           pk <device>             sk "agent"         the newest agent record (by ts)
 *           pk "team|<team>"        sk <device>        {id}               (devices of a team)
 *           pk "host|<team>|<host>" sk "device"        {device_id}        (the host's first
 *                                                      device: a later enrolment of the host
 *                                                      without its token makes a pending one)
 *   ENROLL  pk <secret hash>        sk "secret"        {id,team_id,created,by,exp}
 *           pk "team|<team>"        sk <secret>        {id,created,by,exp,hash}  (secrets of
 *                                                                          a team)
 *   BATCHES pk <device>             sk <batch id>      {at, answer}       (ingest, exactly once)
 *   RECORDS pk "<device>|<type>|<day of ts>"
 *                                   sk "<ts %013lld>|<batch id>|<line %06u>"
 *                                                      the record + device_id, user_id
 *           pk "days|<device>"      sk "<day>|<type>"  {}   (day index of the partitions)
 *   ROLLUPS pk "<kind>|<id>|<day>"  sk "act|<HH>"      rollup counters and their 10-minute
 *                                                      slots "m" (model/rollup.h)
 *                                   sk "app|<HH>|<app>" {focus_ms, records, m}
 *           kind "user" (records mapped to a user), "dev" (mapped to none), "team" (app only)
 *           pk "days|<kind>|<id>"   sk <day>           {}   (day index)
 *   SCREENSHOTS
 *           pk "pending|<device>"   sk <object key>    {key,exp,size,sha256,taken_at}
 *           pk "s3|<object key>"    sk "s3"            sealed S3 settings of the object
 *                                                      (scope and aad: model/s3set.h)
 *           pk "key|<object key>"   sk "shot"          {id}               (idempotent register)
 *           pk <shot>               sk "shot"          {id,key,device_id,user_id,...}
 *           pk "<kind>|<id>|<day>"  sk "<taken %013lld>|<shot>"  {id}   (listing; kind
 *                                                      "user" or "dev"; a time range
 *                                                      [from, to) is read from key_time(from)
 *                                                      to key_time_end(to - 1))
 *           pk "days|<kind>|<id>"   sk <day>           {}   (day index)
 *   LOGIN_FAILS (unused by the LMDB server: failed logins are counted in memory)
 *
 * Day indexes: one item per per-day partition, written with or after the
 * data (retention reads them instead of scanning a table; model/retention.c).
 *
 * Builders: each fills a struct key and returns its string. A key that
 * would not fit STORE_KEY_MAX comes back empty (""), which every store
 * operation refuses with -EINVAL: an over-long key fails, it is never cut.
 */
#ifndef ACTLOG_STORE_KEYS_H
#define ACTLOG_STORE_KEYS_H

#include <stdint.h>

#include "store/store.h"

struct key {
	char s[STORE_KEY_MAX + 1];
};

/* Constant keys. */
#define KEY_META_PK "store"
#define KEY_META_SK "meta"
#define KEY_META_BACKUP_SK "backup"
#define KEY_KEK_SK "kek" /* META pk KEY_META_PK: the master key state */
#define KEY_ROLES_PK "roles"
#define SK_NODE "node"
#define SK_USER "user"
#define SK_AVATAR "avatar"
#define SK_AVATAR_S3 "avatar-s3"
#define SK_TOKEN "token"
#define SK_DEK "dek"
#define SK_CONFIG "config"
#define SK_CONFIG_LOGGING "logging" /* CONFIG: a level's logging.enabled history */
#define SK_DEVICE "device"
#define SK_SYSINFO "sysinfo"
#define SK_AGENT "agent"
#define SK_SECRET "secret"
#define SK_SHOT "shot"
#define SK_SHOT_S3 "s3"
#define SK_CHILD_PREFIX "child|" /* NODES: query prefix of a node's children */

/* NODES */
const char *key_node_child(struct key *k, const char *child_id); /* sk "child|<node>" */

/* USERS, DEVICES and ENROLL: pk "team|<team>" (members, devices, secrets) */
const char *key_team_index(struct key *k, const char *team_id);
/* DEVICES pk "host|<team>|<host id>" */
const char *key_device_host(struct key *k, const char *team_id, const char *host_id);

/* TOKENS pk "user|<user>": the index of a user's sign-in tokens */
const char *key_user_tokens(struct key *k, const char *user_id);
/* TOKENS pk "ptok|<user>": the index of a user's personal API tokens */
const char *key_user_ptokens(struct key *k, const char *user_id);

/* GRANTS */
const char *key_grant_user_sk(struct key *k, const char *node_id, const char *role); /* pk user */
const char *key_grant_node_pk(struct key *k, const char *node_id); /* pk "node|<node>" */
const char *key_grant_node_sk(struct key *k, const char *user_id, const char *role);

/* AUDIT pk <day of ms>, sk "<ms>|<rnd>" */
const char *key_audit_pk(struct key *k, int64_t ms);
const char *key_audit_sk(struct key *k, int64_t ms, uint32_t rnd);

/* KEYS and CONFIG scopes: "node:<id>", "user:<id>" */
const char *key_scope(struct key *k, const char *kind, const char *id);

/* RECORDS */
const char *key_record_pk(struct key *k, const char *device_id, const char *type, int64_t ts);
const char *key_record_sk(struct key *k, int64_t ts, const char *batch_id, unsigned line);
/* "<ms %013lld>": a bound of a time range of RECORDS or listing sort keys */
const char *key_time(struct key *k, int64_t ms);
/* "<ms %013lld>|~": the upper bound of a range of sort keys "<ms>|<id>..."
 * that takes in every key of time ms itself (ids sort below '~') */
const char *key_time_end(struct key *k, int64_t ms);

/* ROLLUPS; kind "user", "dev" or "team" */
const char *key_rollup_pk(struct key *k, const char *kind, const char *id, int64_t ms);
const char *key_rollup_act_sk(struct key *k, int64_t ms);
const char *key_rollup_app_sk(struct key *k, int64_t ms, const char *app);
#define SK_ROLLUP_ACT_PREFIX "act|"
#define SK_ROLLUP_APP_PREFIX "app|"

/*
 * Day index of a per-day partition "<a>|<b>|<day>" (RECORDS "<device>|<type>|<day>",
 * ROLLUPS and SCREENSHOTS listings "<kind>|<id>|<day>"), in the partition's
 * table: RECORDS pk "days|<device>" sk "<day>|<type>"; the others pk
 * "days|<kind>|<id>" sk "<day>". Both return "" when part is not of that shape.
 */
const char *key_days_pk(struct key *k, enum store_table t, const char *part);
const char *key_days_sk(struct key *k, enum store_table t, const char *part);
/* The index partition of a device's records / of a (kind, id) rollup or
 * listing: "days|<device>", "days|<kind>|<id>". */
const char *key_days_of(struct key *k, const char *kind, const char *id);

/*
 * The other way: the partition an index item (index_pk, index_sk) of table t
 * names; "" when the item is not of that shape.
 */
const char *key_days_part(struct key *k, enum store_table t, const char *index_pk,
			  const char *index_sk);

/* SCREENSHOTS */
const char *key_shot_pending(struct key *k, const char *device_id); /* "pending|<device>" */
const char *key_shot_s3(struct key *k, const char *object_key);	    /* "s3|<key>" */
const char *key_shot_key(struct key *k, const char *object_key);    /* "key|<key>" */
/* listing: pk "<kind>|<id>|<day of taken>", sk "<taken>|<shot>" */
const char *key_shot_list_pk(struct key *k, const char *kind, const char *id, int64_t taken);
const char *key_shot_list_sk(struct key *k, int64_t taken, const char *shot_id);

/* "YYYY-MM-DD" of a Unix ms time (UTC) into out (11 bytes). */
void key_day(int64_t ms, char out[11]);

#endif /* ACTLOG_STORE_KEYS_H */
