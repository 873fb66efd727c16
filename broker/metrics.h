/*
 * Counters for GET /metrics in the Prometheus text format: requests by
 * route and status class, logins, lockouts, audit events, login attempts
 * refused by the rate limits, password hashes, connections, and a request
 * latency histogram.  All updates are lock-free atomics.
 */
#ifndef JIT_BROKER_METRICS_H
#define JIT_BROKER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_ROUTES		64
#define METRICS_STATUSES	16
#define METRICS_BUCKETS		12

enum metric_counter {
	M_LOGIN_OK,
	M_LOGIN_FAILED,
	M_LOCKOUTS,
	M_AUDIT_EVENTS,
	M_MFA_STEPUP,
	M_THROTTLED_IP,		/* login refused: client address's bucket */
	M_THROTTLED_USER,	/* login refused: user name's bucket */
	M_THROTTLED_BUSY,	/* login refused: too many hashes running */
	M_PASSWORD_HASHES,	/* argon2id verifications at login */
	M_CONN_OPENED,		/* connections accepted */
	M_CONN_CUT,		/* connections cut by request_timeout */
	M_COUNTERS
};

struct metrics {
	atomic_uint_fast64_t	 req[METRICS_ROUTES][METRICS_STATUSES];
	atomic_uint_fast64_t	 lat[METRICS_BUCKETS + 1];	/* +Inf last */
	atomic_uint_fast64_t	 lat_count;
	atomic_uint_fast64_t	 lat_sum_us;
	atomic_uint_fast64_t	 c[M_COUNTERS];
	atomic_int_fast64_t	 conn_open;	/* gauge */
};

void metrics_request(struct metrics *m, int route, int status,
    uint64_t micros);
void metrics_inc(struct metrics *m, enum metric_counter c);
/*
 * Renders the text exposition; route_name(i) names route i (NULL ends).
 * Returns malloc'd text or NULL.
 */
char *metrics_render(struct metrics *m, const char *(*route_name)(int),
    const char *extra);

#endif
