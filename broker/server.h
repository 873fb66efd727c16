/*
 * The running broker: its current configuration, store, CA and secrets,
 * and the HTTP server (libmicrohttpd) that routes requests to handlers.
 * Handlers receive a struct http_req, read its parsed JSON body and
 * authentication, and answer with http_json() or http_error().
 */
#ifndef JIT_BROKER_SERVER_H
#define JIT_BROKER_SERVER_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "broker/config.h"
#include "broker/instance.h"
#include "broker/metrics.h"
#include "broker/store.h"
#include "ca/ca.h"

#define HTTP_HEADERS_MAX	(16 * 1024)	/* all request headers together */
#define HTTP_PARAMS_MAX		4
#define HTTP_RETRY_AFTER	"5"	/* seconds, on 503 (store unavailable) */

struct login_limit;
struct conn_guard;

struct server {
	pthread_mutex_t		 cfg_mu;
	struct config		*cfg;		/* current; swap on SIGHUP */
	struct store		*store;
	struct instance		*inst;
	struct ca		*ca;
	struct metrics		 metrics;
	pthread_mutex_t		 log_mu;
	FILE			*audit_log;	/* SIEM file, or NULL */
	struct MHD_Daemon	*mhd;
	struct login_limit	*limits;	/* login_limit.h, or NULL */
	struct conn_guard	*guard;		/* conn_guard.h, or NULL */
	int			 suspended;	/* requests waiting for a commit */
	int			 draining;	/* stopping: new requests get 503 */
	char			*tls_cert_pem;
	char			*tls_key_pem;
	char			*listen_desc;	/* "127.0.0.1:8787" */
	/* The expiry sweeper. */
	pthread_t		 sweeper;
	int			 sweeper_started;
	int			 stopping;
	pthread_mutex_t		 sweep_mu;
	pthread_cond_t		 sweep_cv;
	struct notify_worker	*notifier;	/* notify_worker.c */
	int64_t			 signer_max_validity; /* 0: no signer process */
};

/* The authenticated caller of a request, when it sent a valid token. */
struct auth_ctx {
	struct store_user	 user;
	struct store_session	 sess;
};

struct http_req {
	struct server		*srv;
	struct config		*cfg;		/* ref held for the request */
	struct MHD_Connection	*conn;
	const char		*method;
	const char		*path;
	char			*params[HTTP_PARAMS_MAX];
	int			 nparams;
	int			 route;		/* index, for metrics */
	json_t			*body;		/* parsed JSON object or NULL */
	const char		*raw_body;	/* form_body routes: the bytes */
	size_t			 raw_len;
	char			 client_ip[64];
	int			 authed;
	struct auth_ctx		 auth;
	/* Asynchronous handlers (see http_suspend). */
	int			 suspended;
	int			 done;
	/* The answer. */
	int			 status;
	json_t			*resp;
	struct MHD_Response	*mhd_resp;	/* custom (streamed) answer */
	char			 log_user[72];
	char			 allow[64];	/* methods of the path, for 405 */
	int			 retry_after;	/* seconds, for a 429 */
};

/* Returns a reference to the current config (release with config_unref). */
struct config *server_config(struct server *srv);

/*
 * Starts the HTTP server for srv according to cfg (listen address, TLS,
 * threads).  On failure returns a code and a malloc'd sentence in *err.
 */
int server_http_start(struct server *srv, char **err)
    __attribute__((warn_unused_result));
/* Stops accepting, finishes in-flight requests, stops the server. */
void server_http_stop(struct server *srv);

/* Sets the answer: status and a JSON body (stolen). */
void http_json(struct http_req *rq, int status, json_t *body);
/* Sets a JSON error answer {"error": code, "message": msg}. */
void http_error(struct http_req *rq, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Maps a JIT_ERR_* code to an error answer (one table for the broker). */
void http_error_code(struct http_req *rq, int r);

/*
 * Body helpers: each checks the body's keys against the allowed list
 * (unknown fields are refused, naming the field) and types/lengths.  They
 * answer 400 themselves and return -1 on a problem, else 0.
 */
int http_body_check(struct http_req *rq, const char *const *allowed);
int http_body_string(struct http_req *rq, const char *key, int required,
    size_t maxlen, const char **out);

/* A query-string parameter, or NULL. */
const char *http_query(struct http_req *rq, const char *key);

/* Requires a valid bearer token; answers 401 and returns -1 otherwise. */
int http_require_auth(struct http_req *rq);
/* Requires an MFA within mfa_max_age; answers 401 mfa_required otherwise. */
int http_require_fresh_mfa(struct http_req *rq);

/*
 * For handlers that finish later (after a group commit): http_suspend()
 * suspends the connection before the handler hands its work on; whoever
 * completes it sets the answer (http_json/http_error) and calls
 * http_resume(), from any thread, exactly once.  The request structure
 * stays valid until then.
 */
void http_suspend(struct http_req *rq);
void http_resume(struct http_req *rq);

/*
 * One log line on stderr, time=... msg="...", the message escaped like
 * every field of the request log (it may quote a config file, a peer's
 * answer or a user name: no newline or terminal escape gets through),
 * written with one call.
 */
void server_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Appends an audit event's JSON line to the SIEM file (writer thread). */
void server_on_audit_event(void *arg, const struct audit_event *ev);

#endif
