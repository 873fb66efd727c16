/* Prometheus text exposition of the broker's counters (see metrics.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/metrics.h"

static const int statuses[METRICS_STATUSES] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 410, 413, 415, 429, 431,
	500, 503
};
static const double buckets_s[METRICS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	5
};

void
metrics_request(struct metrics *m, int route, int status, uint64_t micros)
{
	int i, si = -1;

	for (i = 0; i < METRICS_STATUSES; i++)
		if (statuses[i] == status)
			si = i;
	if (si < 0)
		si = status >= 500 ? 14 : 3;	/* other: 500 or 400 class */
	if (route < 0 || route >= METRICS_ROUTES)
		route = 0;
	atomic_fetch_add(&m->req[route][si], 1);
	for (i = 0; i < METRICS_BUCKETS; i++)
		if ((double)micros / 1e6 <= buckets_s[i])
			break;
	atomic_fetch_add(&m->lat[i], 1);
	atomic_fetch_add(&m->lat_count, 1);
	atomic_fetch_add(&m->lat_sum_us, micros);
}

void
metrics_inc(struct metrics *m, enum metric_counter c)
{
	atomic_fetch_add(&m->c[c], 1);
}

char *
metrics_render(struct metrics *m, const char *(*route_name)(int),
    const char *extra)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	uint64_t cum = 0, v;
	const char *name;
	int r, s, i;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fprintf(f, "# HELP jitd_http_requests_total HTTP requests by route "
	    "and status.\n# TYPE jitd_http_requests_total counter\n");
	for (r = 0; r < METRICS_ROUTES && (name = route_name(r)) != NULL;
	    r++) {
		for (s = 0; s < METRICS_STATUSES; s++) {
			if ((v = atomic_load(&m->req[r][s])) == 0)
				continue;
			fprintf(f, "jitd_http_requests_total{route=\"%s\","
			    "status=\"%d\"} %llu\n", name, statuses[s],
			    (unsigned long long)v);
		}
	}
	fprintf(f, "# HELP jitd_http_request_duration_seconds Request "
	    "latency.\n# TYPE jitd_http_request_duration_seconds "
	    "histogram\n");
	for (i = 0; i < METRICS_BUCKETS; i++) {
		cum += atomic_load(&m->lat[i]);
		fprintf(f, "jitd_http_request_duration_seconds_bucket{le=\"%g\"}"
		    " %llu\n", buckets_s[i], (unsigned long long)cum);
	}
	cum += atomic_load(&m->lat[METRICS_BUCKETS]);
	fprintf(f, "jitd_http_request_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\n", (unsigned long long)cum);
	fprintf(f, "jitd_http_request_duration_seconds_sum %.6f\n",
	    (double)atomic_load(&m->lat_sum_us) / 1e6);
	fprintf(f, "jitd_http_request_duration_seconds_count %llu\n",
	    (unsigned long long)atomic_load(&m->lat_count));
	fprintf(f, "# TYPE jitd_logins_total counter\n"
	    "jitd_logins_total{result=\"ok\"} %llu\n"
	    "jitd_logins_total{result=\"failed\"} %llu\n",
	    (unsigned long long)atomic_load(&m->c[M_LOGIN_OK]),
	    (unsigned long long)atomic_load(&m->c[M_LOGIN_FAILED]));
	fprintf(f, "# TYPE jitd_lockouts_total counter\n"
	    "jitd_lockouts_total %llu\n",
	    (unsigned long long)atomic_load(&m->c[M_LOCKOUTS]));
	fprintf(f, "# TYPE jitd_mfa_stepups_total counter\n"
	    "jitd_mfa_stepups_total %llu\n",
	    (unsigned long long)atomic_load(&m->c[M_MFA_STEPUP]));
	fprintf(f, "# HELP jitd_login_throttled_total Login attempts refused "
	    "before hashing, by limit.\n# TYPE jitd_login_throttled_total "
	    "counter\njitd_login_throttled_total{limit=\"ip\"} %llu\n"
	    "jitd_login_throttled_total{limit=\"user\"} %llu\n"
	    "jitd_login_throttled_total{limit=\"busy\"} %llu\n",
	    (unsigned long long)atomic_load(&m->c[M_THROTTLED_IP]),
	    (unsigned long long)atomic_load(&m->c[M_THROTTLED_USER]),
	    (unsigned long long)atomic_load(&m->c[M_THROTTLED_BUSY]));
	fprintf(f, "# HELP jitd_password_hashes_total Password hashes "
	    "(argon2id) computed at login.\n# TYPE "
	    "jitd_password_hashes_total counter\njitd_password_hashes_total "
	    "%llu\n", (unsigned long long)atomic_load(
	    &m->c[M_PASSWORD_HASHES]));
	fprintf(f, "# TYPE jitd_connections_open gauge\n"
	    "jitd_connections_open %lld\n"
	    "# TYPE jitd_connections_total counter\n"
	    "jitd_connections_total %llu\n"
	    "# HELP jitd_connections_cut_total Connections closed because a "
	    "request did not arrive within request_timeout.\n"
	    "# TYPE jitd_connections_cut_total counter\n"
	    "jitd_connections_cut_total %llu\n",
	    (long long)atomic_load(&m->conn_open),
	    (unsigned long long)atomic_load(&m->c[M_CONN_OPENED]),
	    (unsigned long long)atomic_load(&m->c[M_CONN_CUT]));
	fprintf(f, "# TYPE jitd_audit_events_total counter\n"
	    "jitd_audit_events_total %llu\n",
	    (unsigned long long)atomic_load(&m->c[M_AUDIT_EVENTS]));
	if (extra != NULL)
		fputs(extra, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
