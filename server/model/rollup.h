/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rollup.h - the hourly activity counters of ROLLUPS (store/keys.h), as one
 * list: ingest validates and sums them (model/ingest.c), the queries read
 * them (model/query.c), the seeder generates records with them
 * (tools/bench/actlog-seed.c). A counter is added here once and every one
 * of them follows.
 *
 * X(ID, "name", cap, required): "name" is both the activity record's field
 * and the rollup item's member; cap is the largest value one record (one
 * interval of at most an hour) may carry; required says whether a record
 * must have it. The SYN_ counters are not top-level fields: they sum
 * members of the record's optional "synthetic" object (input the agent saw
 * come from a virtual device), as ROLLUP_SYN says. RECORDS is not a record
 * field: the rollup counts the records it summed (cap 0).
 *
 * Slots: an activity item "act|HH" also holds, under ROLLUP_SLOTS_KEY, one
 * array of ROLLUP_SLOTS numbers per counter: the counter split by the
 * 10-minute slot of the hour its records' "start" falls in
 * ("m":{"keys":[s0,..,s5],...}); an app item "app|HH|<app>" holds its
 * focus_ms split the same way ("m":[s0,..,s5]). Items written before slots
 * existed, or summed partly before, have slots that add up to less than the
 * hour's counter: readers put the difference in slot 0 (query.h).
 */
#ifndef ACTLOG_MODEL_ROLLUP_H
#define ACTLOG_MODEL_ROLLUP_H

#include <stdbool.h>

#define ROLLUP_ACT(X)                                                                              \
	X(KEYS, "keys", 1e7, true)                                                                 \
	X(CLICKS, "clicks", 1e7, true)                                                             \
	X(MOVES, "moves", 1e9, true)                                                               \
	X(DISTANCE, "distance", 1e12, false)                                                       \
	X(SCROLLS, "scrolls", 1e8, true)                                                           \
	X(ACTIVE, "active_s", 86400, true)                                                         \
	X(INTERVAL, "interval_s", 3600, true)                                                      \
	X(SYN_ACTIVE, "synthetic_active_s", 86400, false)                                          \
	X(SYN_EVENTS, "synthetic_events", 0, false)                                                \
	X(RECORDS, "records", 0, false)

enum rollup_act {
#define ROLLUP_ACT_ENUM_(id, name, cap, req) RA_##id,
	ROLLUP_ACT(ROLLUP_ACT_ENUM_)
#undef ROLLUP_ACT_ENUM_
	    RA__N
};

/* Counters that come from a record's top-level fields: every one before
 * RA_SYN_ACTIVE. */
#define RA_FIELDS RA_SYN_ACTIVE

/*
 * X(ID, "member", cap): the members of a record's optional "synthetic"
 * object summed into counter RA_<ID>; each optional, a number in 0..cap.
 */
#define ROLLUP_SYN(X)                                                                              \
	X(SYN_ACTIVE, "active_s", 86400)                                                           \
	X(SYN_EVENTS, "keys", 1e7)                                                                 \
	X(SYN_EVENTS, "clicks", 1e7)                                                               \
	X(SYN_EVENTS, "moves", 1e9)                                                                \
	X(SYN_EVENTS, "scrolls", 1e8)

/* The 10-minute slots of an hourly item (see above). */
#define ROLLUP_SLOTS_KEY "m"
#define ROLLUP_SLOTS 6
#define ROLLUP_SLOT_MS 600000LL

static const char *const rollup_act_names[RA__N] __attribute__((unused)) = {
#define ROLLUP_ACT_NAME_(id, name, cap, req) [RA_##id] = name,
    ROLLUP_ACT(ROLLUP_ACT_NAME_)
#undef ROLLUP_ACT_NAME_
};

static const double rollup_act_caps[RA__N] __attribute__((unused)) = {
#define ROLLUP_ACT_CAP_(id, name, cap, req) [RA_##id] = cap,
    ROLLUP_ACT(ROLLUP_ACT_CAP_)
#undef ROLLUP_ACT_CAP_
};

static const bool rollup_act_required[RA__N] __attribute__((unused)) = {
#define ROLLUP_ACT_REQ_(id, name, cap, req) [RA_##id] = req,
    ROLLUP_ACT(ROLLUP_ACT_REQ_)
#undef ROLLUP_ACT_REQ_
};

/* Members of an application rollup item (sk "app|<HH>|<app>"). */
#define ROLLUP_APP_FOCUS "focus_ms"
#define ROLLUP_APP_RECORDS "records"

#endif /* ACTLOG_MODEL_ROLLUP_H */
