/*
 * The HTTP server: libmicrohttpd with an epoll thread pool, request bodies
 * capped while they are received (before jansson sees them), routing by
 * method and path pattern, JSON answers (ASCII only: every non-ASCII
 * character \u-escaped) and errors, one structured log line per request
 * with every field escaped, and metrics.  The connection limits and
 * timeouts come from the config's "connections"; conn_guard.c adds a
 * deadline for receiving each request.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "broker/api.h"
#include "broker/auth.h"
#include "broker/conn_guard.h"
#include "broker/login_limit.h"
#include "broker/server.h"
#include "broker/web.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/safetext.h"

#define MHD_LOG_PER_SEC	10	/* libmicrohttpd log lines a second */

struct route {
	const char	*method;
	const char	*pattern;	/* "/v1/requests/{}/approve" */
	void		(*fn)(struct http_req *);
	const char	*name;
	int		 form_body;	/* accepts a form body instead of JSON */
};

static const struct route routes[] = {
	{ "GET", "/healthz", api_healthz, "healthz", 0 },
	{ "GET", "/metrics", api_metrics, "metrics", 0 },
	{ "POST", "/v1/login", api_login, "login", 0 },
	{ "POST", "/v1/mfa", api_mfa, "mfa", 0 },
	{ "POST", "/v1/logout", api_logout, "logout", 0 },
	{ "GET", "/v1/me", api_me, "me", 0 },
	{ "GET", "/v1/audit", api_audit_query, "audit", 0 },
	{ "GET", "/v1/audit/export", api_audit_export, "audit_export", 0 },
	{ "GET", "/v1/audit/key", api_audit_key, "audit_key", 0 },
	{ "GET", "/v1/roles", api_roles, "roles", 0 },
	{ "POST", "/v1/requests", api_request_create, "request_create", 0 },
	{ "GET", "/v1/requests", api_request_list, "request_list", 0 },
	{ "GET", "/v1/requests/{}", api_request_get, "request_get", 0 },
	{ "POST", "/v1/requests/{}/approve", api_request_approve,
	    "request_approve", 0 },
	{ "POST", "/v1/requests/{}/deny", api_request_deny, "request_deny", 0 },
	{ "POST", "/v1/requests/{}/cancel", api_request_cancel,
	    "request_cancel", 0 },
	{ "POST", "/v1/requests/{}/revoke", api_request_revoke,
	    "request_revoke", 0 },
	{ "POST", "/v1/requests/{}/extend", api_request_extend,
	    "request_extend", 0 },
	{ "POST", "/v1/requests/{}/review", api_request_review,
	    "request_review", 0 },
	{ "GET", "/v1/reviews", api_reviews, "reviews", 0 },
	{ "POST", "/v1/requests/{}/ssh-cert", api_ssh_cert, "ssh_cert", 0 },
	{ "POST", "/v1/requests/{}/x509-cert", api_x509_cert, "x509_cert", 0 },
	{ "GET", "/v1/ca/ssh", api_ca_ssh, "ca_ssh", 0 },
	{ "GET", "/v1/ca/x509", api_ca_x509, "ca_x509", 0 },
	{ "GET", "/v1/ca/krl", api_ca_krl, "ca_krl", 0 },
	{ "GET", "/", api_web_static, "web_index", 0 },
	{ "GET", "/app.js", api_web_static, "web_js", 0 },
	{ "GET", "/style.css", api_web_static, "web_css", 0 },
	{ "POST", "/v1/web/login", api_web_login, "web_login", 0 },
	{ "POST", "/v1/web/logout", api_web_logout, "web_logout", 0 },
	{ "GET", "/v1/web/session", api_web_session, "web_session", 0 },
	{ "POST", "/v1/hooks/slack", api_hook_slack, "hook_slack", 1 },
	{ "POST", "/v1/login/oidc", api_login_oidc, "login_oidc", 0 },
	{ "GET", "/v1/login/oidc/providers", api_login_oidc_providers,
	    "login_oidc_providers", 0 },
};
#define NROUTES ((int)(sizeof(routes) / sizeof(routes[0])))

/* Per-connection request state while the body arrives. */
struct conn_ctx {
	char		*body;
	size_t		 len;
	int		 too_large;
	int		 headers_too_large;
	struct timespec	 start;
	struct http_req	*rq;		/* once dispatched */
};

const char *
http_route_name(int i)
{
	if (i == 0)
		return "unknown";
	return i - 1 < NROUTES ? routes[i - 1].name : NULL;
}

struct config *
server_config(struct server *srv)
{
	struct config *c;

	pthread_mutex_lock(&srv->cfg_mu);
	c = config_ref(srv->cfg);
	pthread_mutex_unlock(&srv->cfg_mu);
	return c;
}

int
http_require_auth(struct http_req *rq)
{
	const char *h;
	int r;

	if (rq->authed)
		return 0;
	h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	/* The web page's session cookie, with its CSRF check (api_web.c). */
	if (h == NULL && (r = web_cookie_auth(rq)) <= 0)
		return r;
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0) {
		http_error(rq, 401, "unauthorized", "an Authorization: Bearer "
		    "token is required");
		return -1;
	}
	if ((r = auth_check_token(rq->srv, rq->cfg, h + 7, &rq->auth)) !=
	    JIT_OK) {
		if (r == JIT_ERR_AUTH)
			http_error(rq, 401, "unauthorized", "the session "
			    "token is invalid, expired or revoked");
		else
			http_error_code(rq, r);
		return -1;
	}
	rq->authed = 1;
	snprintf(rq->log_user, sizeof(rq->log_user), "%s", rq->auth.user.name);
	return 0;
}

int
http_require_fresh_mfa(struct http_req *rq)
{
	if (http_require_auth(rq) != 0)
		return -1;
	if (!auth_mfa_fresh(rq->cfg, &rq->auth)) {
		http_error_code(rq, JIT_ERR_MFA_REQUIRED);
		return -1;
	}
	return 0;
}

/*
 * Matches path against pattern, where "{}" stands for one non-empty
 * segment; fills params (malloc'd).  Returns 1 on a match.
 */
static int
match(const char *pattern, const char *path, struct http_req *rq)
{
	const char *p = pattern, *q = path, *e;
	int n = 0, i;

	while (*p != '\0') {
		if (p[0] == '{' && p[1] == '}') {
			e = strchr(q, '/');
			if (e == NULL)
				e = q + strlen(q);
			if (e == q || n == HTTP_PARAMS_MAX || e - q > 128)
				goto no;
			if ((rq->params[n++] = strndup(q, (size_t)(e - q))) ==
			    NULL)
				goto no;
			p += 2;
			q = e;
			continue;
		}
		if (*p != *q)
			goto no;
		p++;
		q++;
	}
	if (*q != '\0')
		goto no;
	rq->nparams = n;
	return 1;
 no:
	for (i = 0; i < n; i++) {
		free(rq->params[i]);
		rq->params[i] = NULL;
	}
	return 0;
}

/* Appends s to a log line with quotes, escaping anything unprintable. */
static void
log_field(FILE *f, const char *key, const char *s)
{
	fprintf(f, " %s=\"", key);
	safetext_log(f, s);
	fputc('"', f);
}

static void
log_request(struct http_req *rq, double ms)
{
	char ts[32], *line = NULL;
	size_t len = 0;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;

	if ((f = open_memstream(&line, &len)) == NULL)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "time=%s msg=request", ts);
	log_field(f, "method", rq->method);
	log_field(f, "path", rq->path);
	fprintf(f, " status=%d ms=%.1f", rq->status, ms);
	log_field(f, "ip", rq->client_ip);
	if (rq->log_user[0] != '\0')
		log_field(f, "user", rq->log_user);
	fputc('\n', f);
	if (fclose(f) == 0)
		fputs(line, stderr);
	free(line);
}

static void
client_ip(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, len, "-");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		    (socklen_t)len);
}

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	size_t *total = cls;

	*total += strlen(key) + (value != NULL ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Routes and runs a complete request; fills rq's answer. */
static void
dispatch(struct http_req *rq, struct conn_ctx *cx)
{
	const struct route *rt;
	const char *ct;
	json_error_t jerr;
	int i, path_matched = 0;

	if (__atomic_load_n(&rq->srv->draining, __ATOMIC_SEQ_CST)) {
		http_error(rq, 503, "unavailable", "jitd is shutting down; "
		    "try again");
		return;
	}
	if (cx->headers_too_large) {
		http_error(rq, 431, "headers_too_large", "request headers "
		    "exceed %d bytes", HTTP_HEADERS_MAX);
		return;
	}
	if (cx->too_large) {
		http_error(rq, 413, "body_too_large", "request body exceeds %zu "
		    "bytes", rq->cfg->max_body);
		return;
	}
	for (i = 0; i < NROUTES; i++) {
		rt = &routes[i];
		if (!match(rt->pattern, rq->path, rq))
			continue;
		if (strcmp(rt->method, rq->method) == 0)
			break;
		path_matched = 1;
		snprintf(rq->allow + strlen(rq->allow), sizeof(rq->allow) -
		    strlen(rq->allow), "%s%s", rq->allow[0] != '\0' ? ", " : "",
		    rt->method);
		for (int k = 0; k < rq->nparams; k++) {
			free(rq->params[k]);
			rq->params[k] = NULL;
		}
		rq->nparams = 0;
	}
	if (i == NROUTES) {
		if (path_matched)
			http_error(rq, 405, "method_not_allowed", "use %s for "
			    "this path", rq->allow);
		else
			http_error(rq, 404, "not_found", "no such endpoint");
		return;
	}
	rq->route = i + 1;
	if (rt->form_body) {
		rq->raw_body = cx->body;
		rq->raw_len = cx->len;
	}
	if (cx->len > 0 && !rt->form_body) {
		ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!is_json_type(ct)) {
			http_error(rq, 415, "unsupported_media_type", "send the "
			    "body as Content-Type: application/json");
			return;
		}
		/* jansson allows 2048 levels; nothing of ours needs 32. */
		if (safetext_json_depth(cx->body, cx->len, JIT_JSON_DEPTH_MAX) >
		    JIT_JSON_DEPTH_MAX) {
			http_error(rq, 400, "invalid_json", "the body nests "
			    "arrays and objects deeper than %d levels",
			    JIT_JSON_DEPTH_MAX);
			return;
		}
		rq->body = json_loadb(cx->body, cx->len,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (rq->body == NULL) {
			http_error(rq, 400, "invalid_json", "the body is not "
			    "valid JSON (UTF-8): %s", jerr.text);
			return;
		}
		if (!json_is_object(rq->body)) {
			http_error(rq, 400, "invalid_json", "the body must be "
			    "a JSON object");
			return;
		}
	}
	rt->fn(rq);
	if (rq->suspended)
		return;
	rq->done = 1;
	if (rq->resp == NULL && rq->mhd_resp == NULL)
		http_error(rq, 500, "internal", "no answer");
}

static enum MHD_Result
send_answer(struct MHD_Connection *c, struct http_req *rq)
{
	struct MHD_Response *resp = rq->mhd_resp;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len;

	if (resp == NULL) {
		/*
		 * ASCII only: a reason or a user name with terminal escapes
		 * or bidirectional overrides reaches a terminal (curl, jq)
		 * as \u escapes, never as raw control characters.
		 */
		text = rq->resp != NULL ? json_dumps(rq->resp, JSON_COMPACT |
		    JSON_ENSURE_ASCII) : NULL;
		if (text == NULL)
			text = strdup("{\"error\":\"internal\"}");
		if (text == NULL)
			return MHD_NO;
		len = strlen(text);
		text[len] = '\0';
		/* Append a newline for humans with curl. */
		{
			char *t = realloc(text, len + 2);

			if (t != NULL) {
				text = t;
				text[len++] = '\n';
				text[len] = '\0';
			}
		}
		resp = MHD_create_response_from_buffer(len, text,
		    MHD_RESPMEM_MUST_FREE);
		if (resp == NULL) {
			free(text);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json");
	}
	rq->mhd_resp = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (rq->status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->allow);
	if (rq->status == 429 && rq->retry_after > 0) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%d", rq->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	/* The store is unavailable (disk full, locked): nothing was done. */
	if (rq->status == 503)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    HTTP_RETRY_AFTER);
	ret = MHD_queue_response(c, (unsigned)rq->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
req_free(struct http_req *rq)
{
	int i;

	if (rq == NULL)
		return;
	if (rq->suspended)
		__atomic_sub_fetch(&rq->srv->suspended, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < rq->nparams; i++)
		free(rq->params[i]);
	json_decref(rq->body);
	json_decref(rq->resp);
	if (rq->mhd_resp != NULL)
		MHD_destroy_response(rq->mhd_resp);
	config_unref(rq->cfg);
	sodium_memzero(rq, sizeof(*rq));
	free(rq);
}

void
http_suspend(struct http_req *rq)
{
	__atomic_add_fetch(&rq->srv->suspended, 1, __ATOMIC_SEQ_CST);
	MHD_suspend_connection(rq->conn);
	rq->suspended = 1;
}

void
http_resume(struct http_req *rq)
{
	rq->done = 1;
	MHD_resume_connection(rq->conn);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct conn_ctx *cx = *con_cls;
	struct http_req *rq;
	struct timespec end;
	enum MHD_Result ret;
	const char *cl;
	size_t hdr = 0, n;
	char *nb;

	if (cx == NULL) {
		if ((cx = calloc(1, sizeof(*cx))) == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &cx->start);
		*con_cls = cx;
		MHD_get_connection_values(c, MHD_HEADER_KIND, count_header,
		    &hdr);
		if (hdr > HTTP_HEADERS_MAX)
			cx->headers_too_large = 1;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > srv->cfg->max_body)
			cx->too_large = 1;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		n = *upload_data_size;
		*upload_data_size = 0;
		if (cx->too_large || cx->headers_too_large)
			return MHD_YES;	/* discard */
		if (cx->len + n > srv->cfg->max_body) {
			cx->too_large = 1;
			free(cx->body);
			cx->body = NULL;
			cx->len = 0;
			return MHD_YES;
		}
		if ((nb = realloc(cx->body, cx->len + n + 1)) == NULL)
			return MHD_NO;
		cx->body = nb;
		memcpy(cx->body + cx->len, upload_data, n);
		cx->len += n;
		return MHD_YES;
	}
	if ((rq = cx->rq) == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		cx->rq = rq;
		rq->srv = srv;
		rq->cfg = server_config(srv);
		rq->conn = c;
		rq->method = method;
		rq->path = url;
		client_ip(c, rq->client_ip, sizeof(rq->client_ip));
		conn_guard_arrived(c);
		dispatch(rq, cx);
		if (rq->suspended)
			return MHD_YES;	/* resumed by http_resume() */
	} else if (!rq->done)
		return MHD_YES;		/* spurious call while suspended */
	ret = send_answer(c, rq);
	clock_gettime(CLOCK_MONOTONIC, &end);
	{
		uint64_t us = (uint64_t)(end.tv_sec - cx->start.tv_sec) *
		    1000000 + (uint64_t)((end.tv_nsec - cx->start.tv_nsec) /
		    1000);

		metrics_request(&srv->metrics, rq->route, rq->status, us);
		log_request(rq, (double)us / 1000.0);
	}
	req_free(rq);
	cx->rq = NULL;
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *cx = *con_cls;

	conn_guard_next(c);
	if (cx == NULL)
		return;
	/* A request that never got its answer (client gone). */
	if (cx->rq != NULL && (!cx->rq->suspended || cx->rq->done))
		req_free(cx->rq);
	if (cx->body != NULL) {
		sodium_memzero(cx->body, cx->len);	/* may hold a password */
		free(cx->body);
	}
	free(cx);
	*con_cls = NULL;
}

/*
 * libmicrohttpd's messages, as escaped log lines, at most MHD_LOG_PER_SEC
 * a second: a client that opens connections past the limits must not
 * flood the log with "connection limit" lines.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static time_t second;
	static long shown, dropped;
	long report = 0;
	time_t now = time(NULL);
	char msg[512];
	size_t n;
	int show;

	pthread_mutex_lock(&mu);
	if (now != second) {
		report = dropped;
		second = now;
		shown = dropped = 0;
	}
	if ((show = shown < MHD_LOG_PER_SEC))
		shown++;
	else
		dropped++;
	pthread_mutex_unlock(&mu);
	if (report > 0)
		server_log("http: %ld more messages not shown", report);
	if (!show)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	server_log("http: %s", msg);
}

int
server_http_start(struct server *srv, char **err)
{
	struct config *cfg = srv->cfg;
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	uint8_t *d = NULL;
	size_t len;
	int r;

	__atomic_store_n(&srv->draining, 0, __ATOMIC_SEQ_CST);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->listen_host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)cfg->listen_port);
	} else if (inet_pton(AF_INET6, cfg->listen_host, &s6->sin6_addr) ==
	    1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)cfg->listen_port);
		flags |= MHD_USE_IPv6;
	} else {
		if (asprintf(err, "bad listen address %s", cfg->listen_host) ==
		    -1)
			*err = NULL;
		return JIT_ERR_INVALID_ARG;
	}
	if (cfg->tls_cert != NULL) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			if (asprintf(err, "this libmicrohttpd has no TLS") ==
			    -1)
				*err = NULL;
			return JIT_ERR_INVALID_ARG;
		}
		if ((r = fileio_read(cfg->tls_cert, 1024 * 1024, 0, &d,
		    &len)) != JIT_OK) {
			if (asprintf(err, "%s: %s", cfg->tls_cert,
			    jit_strerror(r)) == -1)
				*err = NULL;
			return r;
		}
		srv->tls_cert_pem = (char *)d;
		if ((r = fileio_read(cfg->tls_key, 1024 * 1024, 0, &d,
		    &len)) != JIT_OK) {
			if (asprintf(err, "%s: %s", cfg->tls_key,
			    jit_strerror(r)) == -1)
				*err = NULL;
			return r;
		}
		srv->tls_key_pem = (char *)d;
		flags |= MHD_USE_TLS;
	}
	if ((srv->limits = login_limit_new()) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = conn_guard_start(&srv->metrics, cfg->request_timeout,
	    &srv->guard)) != JIT_OK)
		return r;
	srv->mhd = MHD_start_daemon(flags, (uint16_t)cfg->listen_port, NULL,
	    NULL, on_request, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->conn_max,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->conn_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->conn_idle_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, conn_guard_notify, srv->guard,
	    srv->tls_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT :
	    MHD_OPTION_END, srv->tls_cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, srv->tls_key_pem,
	    MHD_OPTION_END);
	if (srv->mhd == NULL) {
		if (asprintf(err, "cannot listen on %s port %d: %s",
		    cfg->listen_host, cfg->listen_port, strerror(errno)) == -1)
			*err = NULL;
		return JIT_ERR_SYSTEM;
	}
	return JIT_OK;
}

void
server_http_stop(struct server *srv)
{
	int i;

	if (srv->mhd == NULL) {
		conn_guard_stop(srv->guard);
		srv->guard = NULL;
		login_limit_free(srv->limits);
		srv->limits = NULL;
		return;
	}
	/*
	 * New requests get 503 from here on.  (Not MHD_quiesce_daemon: with
	 * epoll and internal threads it races with the workers' own removal
	 * of the listening socket, and libmicrohttpd aborts the process.)
	 * Requests waiting for a commit are resumed by the writer, which is
	 * still running: let them finish (libmicrohttpd must not be stopped
	 * with suspended connections).  Bounded, in case the store is stuck.
	 */
	__atomic_store_n(&srv->draining, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 300 && __atomic_load_n(&srv->suspended,
	    __ATOMIC_SEQ_CST) > 0; i++)
		usleep(100000);
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	conn_guard_stop(srv->guard);
	srv->guard = NULL;
	login_limit_free(srv->limits);
	srv->limits = NULL;
	if (srv->tls_key_pem != NULL) {
		sodium_memzero(srv->tls_key_pem, strlen(srv->tls_key_pem));
		free(srv->tls_key_pem);
		srv->tls_key_pem = NULL;
	}
	free(srv->tls_cert_pem);
	srv->tls_cert_pem = NULL;
}
