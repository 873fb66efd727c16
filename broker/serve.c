/*
 * The daemon's lifecycle (see serve.h).  Signals are blocked in every
 * thread and taken synchronously by the main thread with sigwait, so no
 * handler ever runs inside library code.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ca/signer_proc.h"
#include "common/audit_chain.h"
#include "broker/notify.h"
#include "broker/requests.h"
#include "broker/serve.h"
#include "broker/server.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/safetext.h"
#include "common/secret.h"
#include "common/timefmt.h"

void
server_log(const char *fmt, ...)
{
	char ts[TIMEFMT_LEN], msg[1024], *line = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f;

	time_format((int64_t)time(NULL), ts);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((f = open_memstream(&line, &len)) == NULL)
		return;
	fprintf(f, "time=%s msg=\"", ts);
	safetext_log(f, msg);
	fputs("\"\n", f);
	if (fclose(f) == 0)
		fputs(line, stderr);
	free(line);
}

void
server_on_audit_event(void *arg, const struct audit_event *ev)
{
	struct server *srv = arg;
	char *line;

	metrics_inc(&srv->metrics, M_AUDIT_EVENTS);
	/*
	 * A committed request change may have queued chat and webhook
	 * deliveries: wake the worker now rather than at its next poll.
	 */
	if (strncmp(ev->action, "request.", 8) == 0 ||
	    strncmp(ev->action, "breakglass.", 11) == 0)
		notify_worker_kick(srv);
	if (srv->audit_log == NULL)
		return;
	if ((line = audit_event_export_line(ev)) == NULL)
		return;
	pthread_mutex_lock(&srv->log_mu);
	if (fputs(line, srv->audit_log) == EOF || fflush(srv->audit_log) != 0)
		server_log("cannot append to the audit log file: %s",
		    strerror(errno));
	pthread_mutex_unlock(&srv->log_mu);
	free(line);
}

/* The store's reports of failing and recovered writes (store_opts.on_log). */
static void
store_log(void *arg, const char *msg)
{
	(void)arg;
	server_log("%s", msg);
}

struct lifecycle_job {
	const char	*action;
	const char	*outcome;
	const char	*detail;
};

static int
lifecycle_tx(struct store_tx *tx, void *arg)
{
	struct lifecycle_job *j = arg;
	json_t *d = json_pack("{s:s}", "detail", j->detail);
	int r;

	if (d == NULL)
		return JIT_ERR_ALLOC;
	r = store_tx_audit(tx, "jitd", j->action, "jitd", j->outcome, d);
	json_decref(d);
	return r;
}

static int
audit_lifecycle(struct server *srv, const char *action, const char *outcome,
    const char *detail)
{
	struct lifecycle_job j = { action, outcome, detail };

	return store_write(srv->store, lifecycle_tx, &j);
}

/* Applies a reloaded config; settings needing a restart are reported. */
static void
reload(struct server *srv)
{
	struct config *nc = NULL, *old;
	char *err = NULL, detail[512];

	if (config_load(srv->cfg->path, &nc, &err) != JIT_OK) {
		server_log("SIGHUP: keeping the running configuration: %s",
		    err != NULL ? err : "invalid");
		snprintf(detail, sizeof(detail), "%s", err != NULL ? err :
		    "invalid");
		(void)audit_lifecycle(srv, "config.reload", "failed", detail);
		free(err);
		return;
	}
	if (strcmp(nc->listen_host, srv->cfg->listen_host) != 0 ||
	    nc->listen_port != srv->cfg->listen_port ||
	    strcmp(nc->database, srv->cfg->database) != 0 ||
	    strcmp(nc->ca_dir, srv->cfg->ca_dir) != 0 ||
	    nc->threads != srv->cfg->threads ||
	    nc->conn_max != srv->cfg->conn_max ||
	    nc->conn_per_ip != srv->cfg->conn_per_ip ||
	    nc->conn_idle_timeout != srv->cfg->conn_idle_timeout ||
	    nc->request_timeout != srv->cfg->request_timeout ||
	    nc->database_busy_timeout_ms !=
	    srv->cfg->database_busy_timeout_ms)
		server_log("SIGHUP: listen, database, "
		    "database_busy_timeout_ms, ca_dir, threads and "
		    "connections change only at restart; the other settings "
		    "apply now");
	if (srv->signer_max_validity > 0 &&
	    nc->cert_ttl + JIT_CLOCK_SKEW > srv->signer_max_validity) {
		server_log("SIGHUP: the signer process allows cert_ttl up to "
		    "%lld s until a restart; using that", (long long)
		    (srv->signer_max_validity - JIT_CLOCK_SKEW));
		nc->cert_ttl = srv->signer_max_validity - JIT_CLOCK_SKEW;
	}
	/* Keep the running values of restart-only settings. */
	snprintf(nc->listen_host, sizeof(nc->listen_host), "%s",
	    srv->cfg->listen_host);
	nc->listen_port = srv->cfg->listen_port;
	nc->threads = srv->cfg->threads;
	nc->conn_max = srv->cfg->conn_max;
	nc->conn_per_ip = srv->cfg->conn_per_ip;
	nc->conn_idle_timeout = srv->cfg->conn_idle_timeout;
	nc->request_timeout = srv->cfg->request_timeout;
	pthread_mutex_lock(&srv->cfg_mu);
	old = srv->cfg;
	srv->cfg = nc;
	pthread_mutex_unlock(&srv->cfg_mu);
	config_unref(old);
	server_log("SIGHUP: configuration reloaded from %s", nc->path);
	(void)audit_lifecycle(srv, "config.reload", "ok", nc->path);
}

/*
 * Expires pending requests past their pending_ttl and grants past their
 * end, with audit events, every sweep_interval.  Decisions do not depend
 * on it: they compute the effective state themselves.
 */
static void *
sweeper_main(void *arg)
{
	struct server *srv = arg;
	struct timespec ts;
	struct config *cfg;
	int64_t every;
	int signer_lost = 0, leader = 0, was_leader = 0;

	pthread_mutex_lock(&srv->sweep_mu);
	while (!srv->stopping) {
		cfg = server_config(srv);
		every = cfg->sweep_interval;
		config_unref(cfg);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += every;
		pthread_cond_timedwait(&srv->sweep_cv, &srv->sweep_mu, &ts);
		if (srv->stopping)
			break;
		pthread_mutex_unlock(&srv->sweep_mu);
		cfg = server_config(srv);
		/* With several replicas, one sweeps (see store_leader). */
		leader = store_leader(srv->store);
		if (leader != was_leader && store_backend_is_pg(srv->store))
			server_log(leader ? "this replica now runs the expiry "
			    "sweeper and the outbox worker" : "another replica "
			    "runs the expiry sweeper and the outbox worker");
		was_leader = leader;
		if (leader && store_write(srv->store, req_sweep_tx, cfg) !=
		    JIT_OK)
			server_log("expiry sweep failed; retrying later");
		if (srv->signer_max_validity > 0 && !signer_lost &&
		    !ca_signer_alive(srv->ca)) {
			signer_lost = 1;
			server_log("the CA signer process is gone: every "
			    "certificate is refused until jitd restarts");
		}
		config_unref(cfg);
		pthread_mutex_lock(&srv->sweep_mu);
	}
	pthread_mutex_unlock(&srv->sweep_mu);
	return NULL;
}

static void
sweeper_stop(struct server *srv)
{
	if (!srv->sweeper_started)
		return;
	pthread_mutex_lock(&srv->sweep_mu);
	srv->stopping = 1;
	pthread_cond_signal(&srv->sweep_cv);
	pthread_mutex_unlock(&srv->sweep_mu);
	pthread_join(srv->sweeper, NULL);
	srv->sweeper_started = 0;
}

static void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	sweeper_stop(srv);
	/* No request change (hence no kick) once HTTP and the sweeper stop. */
	server_http_stop(srv);
	notify_worker_stop(srv);
	store_close(srv->store);	/* writes the final checkpoint */
	if (srv->audit_log != NULL)
		fclose(srv->audit_log);
	ca_free(srv->ca);
	instance_free(srv->inst);
	config_unref(srv->cfg);
	pthread_mutex_destroy(&srv->cfg_mu);
	pthread_mutex_destroy(&srv->log_mu);
	free(srv->listen_desc);
	free(srv);
}

/*
 * Moves the CA keys into the signer process (ca/signer_proc.h), limited to
 * the configured cert_ttl, and wipes the seal key that could unseal them
 * from disk again: from here on, this process holds no CA secret.
 */
static int
start_signer(struct server *srv, char **err)
{
	struct ca_signer_limits lim;
	pid_t pid;
	int r;

	lim.max_validity = srv->cfg->cert_ttl + JIT_CLOCK_SKEW;
	if ((r = ca_signer_fork(srv->ca, &lim, &pid)) != JIT_OK) {
		if (asprintf(err, "cannot start the CA signer process: %s",
		    jit_strerror(r)) == -1)
			*err = NULL;
		return r;
	}
	srv->signer_max_validity = lim.max_validity;
	seal_key_clear(&srv->inst->seal);
	strfreezero(srv->inst->passphrase);
	srv->inst->passphrase = NULL;
	server_log("CA keys moved to signer process %d (max validity %lld s)",
	    (int)pid, (long long)lim.max_validity);
	return JIT_OK;
}

int
serve_open(const char *cfgpath, const char *listen, struct server **out,
    char **err)
{
	struct server *srv;
	struct store_opts so;
	char addr[96];
	int r;

	*out = NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return JIT_ERR_ALLOC;
	pthread_mutex_init(&srv->cfg_mu, NULL);
	pthread_mutex_init(&srv->log_mu, NULL);
	pthread_mutex_init(&srv->sweep_mu, NULL);
	pthread_cond_init(&srv->sweep_cv, NULL);
	if ((r = config_load(cfgpath, &srv->cfg, err)) != JIT_OK)
		goto fail;
	if (listen != NULL && (r = config_override_listen(srv->cfg, listen,
	    err)) != JIT_OK)
		goto fail;
	if ((r = instance_unlock(srv->cfg, &srv->inst, err)) != JIT_OK ||
	    (r = instance_open_ca(srv->inst, srv->cfg, &srv->ca, err)) !=
	    JIT_OK)
		goto fail;
	if (srv->cfg->signer_process && (r = start_signer(srv, err)) != JIT_OK)
		goto fail;
	if (srv->cfg->audit_log_file != NULL &&
	    (srv->audit_log = fopen(srv->cfg->audit_log_file, "a")) == NULL) {
		if (asprintf(err, "%s: %s", srv->cfg->audit_log_file,
		    strerror(errno)) == -1)
			*err = NULL;
		r = JIT_ERR_SYSTEM;
		goto fail;
	}
	memset(&so, 0, sizeof(so));
	so.audit_sk = srv->inst->audit_sk;
	so.checkpoint_every = srv->cfg->audit_checkpoint_every;
	so.checkpoint_interval = srv->cfg->audit_checkpoint_interval;
	so.on_event = server_on_audit_event;
	so.on_event_arg = srv;
	so.busy_timeout_ms = srv->cfg->database_busy_timeout_ms;
	so.on_log = store_log;
	if ((r = store_open(srv->cfg->database, 0, &so, &srv->store, err)) !=
	    JIT_OK)
		goto fail;
	/* Before anything can commit a request change and kick it. */
	if ((r = notify_worker_start(srv)) != JIT_OK)
		goto fail;
	if ((r = server_http_start(srv, err)) != JIT_OK)
		goto fail;
	snprintf(addr, sizeof(addr), "%s%s%s:%d",
	    strchr(srv->cfg->listen_host, ':') != NULL ? "[" : "",
	    srv->cfg->listen_host,
	    strchr(srv->cfg->listen_host, ':') != NULL ? "]" : "",
	    srv->cfg->listen_port);
	if ((srv->listen_desc = strdup(addr)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto fail;
	}
	if ((r = audit_lifecycle(srv, "server.start", "ok", addr)) != JIT_OK) {
		if (asprintf(err, "cannot write the audit log (%s): refusing "
		    "to serve", jit_strerror(r)) == -1)
			*err = NULL;
		goto fail;
	}
	if (pthread_create(&srv->sweeper, NULL, sweeper_main, srv) != 0) {
		r = JIT_ERR_SYSTEM;
		goto fail;
	}
	srv->sweeper_started = 1;
	server_log("jitd listening on %s%s (pid %d)",
	    srv->cfg->tls_cert != NULL ? "https://" : "http://", addr,
	    (int)getpid());
	*out = srv;
	return JIT_OK;
 fail:
	server_free(srv);
	return r;
}

void
serve_reload(struct server *srv)
{
	reload(srv);
}

void
serve_close(struct server *srv)
{
	if (srv == NULL)
		return;
	sweeper_stop(srv);
	server_http_stop(srv);
	notify_worker_stop(srv);
	(void)audit_lifecycle(srv, "server.stop", "ok", srv->listen_desc);
	server_free(srv);
}

int
serve_main(const char *cfgpath, const char *listen)
{
	struct server *srv = NULL;
	sigset_t set;
	char *err = NULL;
	int sig;

	/* Block the signals we wait for before any thread starts. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (serve_open(cfgpath, listen, &srv, &err) != JIT_OK) {
		fprintf(stderr, "jitd: %s\n", err != NULL ? err :
		    "cannot start");
		free(err);
		return 1;
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(srv);
			continue;
		}
		server_log("received %s: draining and stopping",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	serve_close(srv);
	server_log("stopped");
	return 0;
}
