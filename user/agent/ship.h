/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ship.h - actlogd's link to actlog-server: enrollment, shipping spool
 * batches, fetching the effective policy.
 *
 * Shipping runs in its own thread with blocking libcurl calls, so a slow or
 * absent server never stalls the event loop. Exactly once: a batch is a range
 * [start, end) of spool positions; the range is written to an "inflight" file
 * before it is sent and re-sent unchanged after a crash, its id names the
 * range, the server de-duplicates by (device, batch id), and the spool cursor
 * advances only when the server acknowledged that id. While the server is
 * away, retries back off exponentially (1 s doubling to 5 min) with jitter.
 * The server must acknowledge a batch id it already stored before any other
 * check (size, rate): only then may a 413 make the agent split a batch that
 * was sent before, without a record reaching the store twice.
 */
#ifndef ACTLOG_SHIP_H
#define ACTLOG_SHIP_H

#include <pthread.h>
#include <stdint.h>

#include "spool.h"

#define SHIP_MAX_RECORDS 1000	 /* records per batch */
#define SHIP_MAX_BYTES (1 << 20) /* uncompressed bytes per batch */
#define SHIP_MAX_RESPONSE 65536	 /* bytes of a server answer kept */
#define DEVICE_FILE "device.json"

/* What enrollment stored (state_dir/device.json, 0600). */
struct device_cred {
	char server[512];
	char device_id[64];
	char token[128];
	char ca_file[256]; /* CA bundle given at enrollment, "" = system CAs */
};

struct ship_opts {
	const char *state_dir;
	const char *spool_dir;
	const struct device_cred *cred;
	uint32_t max_records;
	uint32_t max_bytes;
	uint32_t config_poll_s;	 /* how often to ask for the policy */
	uint32_t backoff_max_ms; /* longest retry delay (default 5 min) */
	int wake_fd;		 /* eventfd the shipper writes when a new policy arrived */
	const char *etag;	 /* the saved policy's ETag for the first If-None-Match, or NULL */
	const char *user;	 /* the session user whose policy to ask for, or NULL (none) */
};

struct ship_status {
	uint64_t batches;     /* acknowledged batches */
	uint64_t records;     /* acknowledged records */
	uint64_t rejected;    /* records the server refused (kept out of its store) */
	uint64_t failures;    /* failed attempts */
	int64_t last_ok_ms;   /* unix ms of the last acknowledgement, 0 = never */
	uint32_t backoff_ms;  /* current retry delay, 0 when healthy */
	int last_http;	      /* HTTP status of the last attempt, 0 = no answer */
	int policy_http;      /* HTTP status of the last policy fetch, 0 = no answer yet */
	char last_error[160]; /* "" when the last attempt worked */
};

struct shipper;

/* Read state_dir/device.json. 0, -ENOENT when not enrolled, -EINVAL when it
 * is damaged. */
int device_cred_load(const char *state_dir, struct device_cred *c);

/* Enroll this machine: POST server/api/v1/enroll and store the device token
 * (0600). When state_dir already holds a device token for this server, it
 * is presented (the server then renews that device's token). An http://
 * server that is not loopback (127.0.0.0/8, [::1], localhost, as written)
 * is refused with -EPERM unless insecure_http. 0, 1 when the server made a
 * new device that waits for an administrator's confirmation, or -errno; msg
 * receives the device id, or a human-readable reason on failure. */
int ship_enroll(const char *server, const char *secret, const char *state_dir, const char *host_id,
		const char *ca_file, int insecure_http, char *msg, size_t msglen);

/* Start the shipping thread. spool_lock guards every call on sp (the daemon
 * holds it around its own spool calls). */
int shipper_start(struct shipper **out, const struct ship_opts *o, struct spool *sp,
		  pthread_mutex_t *spool_lock);
/* New records were synced: ship soon. Cheap; callable from any thread. */
void shipper_kick(struct shipper *s);
void shipper_status(struct shipper *s, struct ship_status *st);
/* A policy the server sent (a 200). */
struct ship_policy {
	char *text;	  /* the answer's body (malloc'd JSON object text; the taker frees it) */
	char user[257];	  /* the session user it was asked for ("": none) */
	char etag[128];	  /* its ETag, "" when it had none */
	int64_t saved_ms; /* unix ms it was written to STATE_DIR/policy.json */
	int save_err;	  /* 0, or -errno when writing policy.json failed */
};
/* The session user changed to user (NULL: nobody): ask for that user's
 * policy (GET /api/v1/agent/config?user=) at once, without If-None-Match,
 * and from now on at each poll; a fetch that gets no policy is retried
 * after 1 s, doubling up to backoff_max_ms, until one arrives. Callable
 * from any thread. */
void shipper_set_user(struct shipper *s, const char *user);
/* Take the newest policy not yet taken into *p: 1, or 0 when there is none
 * (*p is then zeroed). */
int shipper_take_policy(struct shipper *s, struct ship_policy *p);
/* Stop the thread (an attempt in flight is given up to 5 s) and free. NULL ok. */
void shipper_stop(struct shipper *s);

#endif /* ACTLOG_SHIP_H */
