/* Loading and validating jitd.json (see config.h). */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvals/policy.h"
#include "broker/config.h"
#include "broker/config_int.h"
#include "broker/notify.h"
#include "broker/oidc_config.h"
#include "common/duration.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"

#define CONFIG_MAX	(1024 * 1024)
#define AUDITORS_MAX	256

static pthread_mutex_t ref_mu = PTHREAD_MUTEX_INITIALIZER;

void
config_fail(char **err, const char *path, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	free(*err);
	if (asprintf(err, "config %s: %s", path, msg != NULL ? msg :
	    "invalid") == -1)
		*err = NULL;
	free(msg);
}

/* Resolves a relative path against the config file's directory. */
char *
config_resolve_path(const char *cfgpath, const char *p)
{
	const char *slash;
	char *out;

	if (p[0] == '/' || (slash = strrchr(cfgpath, '/')) == NULL)
		return strdup(p);
	if (asprintf(&out, "%.*s/%s", (int)(slash - cfgpath), cfgpath, p) == -1)
		return NULL;
	return out;
}

static int
get_path(json_t *v, const char *key, const char *cfgpath, int nullable,
    char **out, char **err)
{
	const char *s;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (nullable)
			return JIT_OK;
		config_fail(err, cfgpath, "\"%s\" is required", key);
		return JIT_ERR_INVALID_ARG;
	}
	if (!json_is_string(v) || (s = json_string_value(v))[0] == '\0' ||
	    strlen(s) >= PATH_MAX || strchr(s, '\n') != NULL) {
		config_fail(err, cfgpath, "\"%s\" must be a file path%s", key,
		    nullable ? " or null" : "");
		return JIT_ERR_INVALID_ARG;
	}
	if ((*out = config_resolve_path(cfgpath, s)) == NULL)
		return JIT_ERR_ALLOC;
	return JIT_OK;
}

/*
 * "database": a file path (sqlite), "sqlite:PATH", a "postgresql://" or
 * "postgres://" URI, or {"postgres": "host=... dbname=..."} (a libpq
 * keyword/value string, kept as "postgres:" + the string).
 */
static int
get_database(json_t *v, const char *cfgpath, char **out, char **err)
{
	const char *s, *pg;
	size_t n;

	*out = NULL;
	if (json_is_object(v)) {
		if (json_object_size(v) != 1 ||
		    !json_is_string(json_object_get(v, "postgres")) ||
		    (pg = json_string_value(json_object_get(v, "postgres")))
		    [0] == '\0' || (n = strlen(pg)) > 4096 ||
		    strchr(pg, '\n') != NULL) {
			config_fail(err, cfgpath, "\"database\" as an object "
			    "must be {\"postgres\": \"host=... dbname=...\"}");
			return JIT_ERR_INVALID_ARG;
		}
		if (asprintf(out, "postgres:%s", pg) == -1) {
			*out = NULL;
			return JIT_ERR_ALLOC;
		}
		return JIT_OK;
	}
	if (json_is_string(v) && ((s = json_string_value(v)),
	    strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0)) {
		if (strlen(s) > 4096 || strchr(s, '\n') != NULL) {
			config_fail(err, cfgpath, "\"database\" URI is too "
			    "long or holds a newline");
			return JIT_ERR_INVALID_ARG;
		}
		return (*out = strdup(s)) == NULL ? JIT_ERR_ALLOC : JIT_OK;
	}
	if (json_is_string(v) && strncmp(json_string_value(v), "sqlite:", 7)
	    == 0) {
		json_t *p = json_string(json_string_value(v) + 7);
		int r;

		if (p == NULL)
			return JIT_ERR_ALLOC;
		r = get_path(p, "database", cfgpath, 0, out, err);
		json_decref(p);
		return r;
	}
	if (json_is_string(v) && strncmp(json_string_value(v), "postgres:", 9)
	    == 0) {
		config_fail(err, cfgpath, "\"database\": write a PostgreSQL "
		    "database as \"postgresql://...\" or {\"postgres\": "
		    "\"...\"}");
		return JIT_ERR_INVALID_ARG;
	}
	return get_path(v, "database", cfgpath, 0, out, err);
}

static int
get_duration(json_t *v, const char *key, const char *cfgpath, int64_t def,
    int64_t max, int64_t *out, char **err)
{
	*out = def;
	if (v == NULL)
		return JIT_OK;
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= max) {
		*out = json_integer_value(v);
		return JIT_OK;
	}
	if (!json_is_string(v) ||
	    duration_parse(json_string_value(v), max, out) != JIT_OK) {
		config_fail(err, cfgpath, "\"%s\" must be a duration like \"90s\", "
		    "\"15m\" or \"8h\" (at most %lld seconds)", key,
		    (long long)max);
		return JIT_ERR_INVALID_ARG;
	}
	return JIT_OK;
}

static int
get_int(json_t *v, const char *key, const char *cfgpath, long long def,
    long long min, long long max, long long *out, char **err)
{
	*out = def;
	if (v == NULL)
		return JIT_OK;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		config_fail(err, cfgpath, "\"%s\" must be an integer from %lld to "
		    "%lld", key, min, max);
		return JIT_ERR_INVALID_ARG;
	}
	*out = json_integer_value(v);
	return JIT_OK;
}

/* Parses "host:port" or "[v6]:port" and decides whether it is loopback. */
static int
parse_listen(struct config *c, const char *s, char **err)
{
	const char *colon;
	struct in_addr a4;
	struct in6_addr a6;
	char *end;
	size_t hl;
	long port;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			goto bad;
		hl = (size_t)(colon - s - 1);
		if (hl == 0 || hl >= sizeof(c->listen_host))
			goto bad;
		memcpy(c->listen_host, s + 1, hl);
		c->listen_host[hl] = '\0';
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			goto bad;
		hl = (size_t)(colon - s);
		if (hl == 0 || hl >= sizeof(c->listen_host))
			goto bad;
		memcpy(c->listen_host, s, hl);
		c->listen_host[hl] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || port < 0 || port > 65535)
		goto bad;
	c->listen_port = (int)port;
	if (inet_pton(AF_INET, c->listen_host, &a4) == 1)
		c->listen_loopback = (ntohl(a4.s_addr) >> 24) == 127;
	else if (inet_pton(AF_INET6, c->listen_host, &a6) == 1)
		c->listen_loopback = IN6_IS_ADDR_LOOPBACK(&a6);
	else
		goto bad;
	return JIT_OK;
 bad:
	config_fail(err, c->path, "\"listen\" must be an IP address and port like "
	    "\"127.0.0.1:8787\" or \"[::1]:8787\"");
	return JIT_ERR_INVALID_ARG;
}

static int
valid_principal_entry(const char *s)
{
	const char *n = strncmp(s, "group:", 6) == 0 ? s + 6 : s;
	size_t len = strlen(n), i;

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = n[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '@'))
			return 0;
	}
	return 1;
}

static const char *const known_keys[] = {
	"listen", "database", "ca_dir", "ca_key_file", "ca_passphrase_file",
	"secrets_file", "tls_cert", "tls_key", "session_ttl", "mfa_max_age",
	"cert_ttl", "lockout", "auditors", "audit_log_file",
	"audit_checkpoint_every", "audit_checkpoint_interval", "threads",
	"max_body", "roles", "sweep_interval",
	"web_root",
	"notify", "notify_max_attempts", "slack_signing_secret_file",
	"slack_mfa_asserted", "public_url", "oidc", "signer_process",
	"login_limits", "connections", "database_busy_timeout_ms", NULL
};

static int
check_keys(json_t *obj, const char *const *known, const char *where,
    const char *path, char **err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		if (strncmp(key, "//", 2) == 0)
			continue;
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL) {
			config_fail(err, path, "unknown key \"%s\"%s%s", key,
			    where != NULL ? " in " : "",
			    where != NULL ? where : "");
			return JIT_ERR_INVALID_ARG;
		}
	}
	return JIT_OK;
}

/* A member of an optional object, or NULL. */
static json_t *
member(json_t *o, const char *key)
{
	return o != NULL ? json_object_get(o, key) : NULL;
}

/* "login_limits": {"ip_burst": 20, "ip_per_minute": 60, ...} */
static int
load_login_limits(json_t *root, struct config *c, const char *path,
    char **err)
{
	static const char *const keys[] = { "ip_burst", "ip_per_minute",
	    "user_burst", "user_per_minute", "max_concurrent_hashes", NULL };
	json_t *o = json_object_get(root, "login_limits");
	long long v[5];

	if (o != NULL && !json_is_object(o)) {
		config_fail(err, path, "\"login_limits\" must be an object like "
		    "{\"ip_burst\": 20, \"ip_per_minute\": 60}");
		return JIT_ERR_INVALID_ARG;
	}
	if ((o != NULL && check_keys(o, keys, "\"login_limits\"", path,
	    err) != JIT_OK) ||
	    get_int(member(o, "ip_burst"), "login_limits.ip_burst", path, 20,
	    0, 1000000, &v[0], err) != JIT_OK ||
	    get_int(member(o, "ip_per_minute"), "login_limits.ip_per_minute",
	    path, 60, 1, 1000000, &v[1], err) != JIT_OK ||
	    get_int(member(o, "user_burst"), "login_limits.user_burst", path,
	    10, 0, 1000000, &v[2], err) != JIT_OK ||
	    get_int(member(o, "user_per_minute"),
	    "login_limits.user_per_minute", path, 10, 1, 1000000, &v[3],
	    err) != JIT_OK ||
	    get_int(member(o, "max_concurrent_hashes"),
	    "login_limits.max_concurrent_hashes", path, 2, 1, 64, &v[4],
	    err) != JIT_OK)
		return JIT_ERR_INVALID_ARG;
	c->login_ip_burst = (unsigned int)v[0];
	c->login_ip_per_minute = (unsigned int)v[1];
	c->login_user_burst = (unsigned int)v[2];
	c->login_user_per_minute = (unsigned int)v[3];
	c->max_concurrent_hashes = (int)v[4];
	return JIT_OK;
}

/* "connections": {"max": 1024, "per_ip": 64, "idle_timeout": "30s", ...} */
static int
load_connections(json_t *root, struct config *c, const char *path,
    char **err)
{
	static const char *const keys[] = { "max", "per_ip", "idle_timeout",
	    "request_timeout", NULL };
	json_t *o = json_object_get(root, "connections");
	long long max, per_ip;

	if (o != NULL && !json_is_object(o)) {
		config_fail(err, path, "\"connections\" must be an object like "
		    "{\"max\": 1024, \"per_ip\": 64}");
		return JIT_ERR_INVALID_ARG;
	}
	if ((o != NULL && check_keys(o, keys, "\"connections\"", path,
	    err) != JIT_OK) ||
	    get_int(member(o, "max"), "connections.max", path, 1024, 16, 65536,
	    &max, err) != JIT_OK ||
	    get_int(member(o, "per_ip"), "connections.per_ip", path, 64, 1,
	    65536, &per_ip, err) != JIT_OK ||
	    get_duration(member(o, "idle_timeout"), "connections.idle_timeout",
	    path, 30, 3600, &c->conn_idle_timeout, err) != JIT_OK ||
	    get_duration(member(o, "request_timeout"),
	    "connections.request_timeout", path, 30, 3600,
	    &c->request_timeout, err) != JIT_OK)
		return JIT_ERR_INVALID_ARG;
	if (per_ip > max) {
		config_fail(err, path, "\"connections.per_ip\" cannot exceed "
		    "\"connections.max\"");
		return JIT_ERR_INVALID_ARG;
	}
	c->conn_max = (unsigned int)max;
	c->conn_per_ip = (unsigned int)per_ip;
	return JIT_OK;
}

int
config_load(const char *path, struct config **out, char **err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	/*
	 * The config decides who may approve what and where the keys are:
	 * nobody but its owner may read or change it.
	 */
	if ((r = fileio_read(path, CONFIG_MAX, FILEIO_PRIVATE, &data,
	    &len)) != JIT_OK) {
		char why[160];

		config_fail(err, path, "%s", r == JIT_ERR_NOT_FOUND ?
		    "no such file (create one with 'jitd init DIR')" :
		    fileio_explain(path, r, FILEIO_PRIVATE, why, sizeof(why)));
		return r;
	}
	r = config_load_buffer(path, data, len, out, err);
	free(data);
	return r;
}

int
config_load_buffer(const char *path, const uint8_t *data, size_t len,
    struct config **out, char **err)
{
	static const char *const lockout_keys[] = { "max_failures", "duration",
	    NULL };
	struct config *c = NULL;
	json_t *root = NULL, *v, *lk;
	json_error_t jerr;
	size_t i;
	long long n;
	int r;

	*out = NULL;
	if (len > CONFIG_MAX) {
		config_fail(err, path, "%s", jit_strerror(JIT_ERR_LIMIT));
		return JIT_ERR_LIMIT;
	}
	if ((root = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		config_fail(err, path, "line %d: %s", jerr.line, jerr.text);
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	r = JIT_ERR_INVALID_ARG;
	if (!json_is_object(root)) {
		config_fail(err, path, "must be a JSON object");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	c->refs = 1;
	if (check_keys(root, known_keys, NULL, path, err) != JIT_OK)
		goto out;
	if ((v = json_object_get(root, "listen")) == NULL) {
		strcpy(c->listen_host, "127.0.0.1");
		c->listen_port = 8787;
		c->listen_loopback = 1;
	} else if (!json_is_string(v)) {
		config_fail(err, path, "\"listen\" must be a string like "
		    "\"127.0.0.1:8787\"");
		goto out;
	} else if (parse_listen(c, json_string_value(v), err) != JIT_OK)
		goto out;
	if (get_database(json_object_get(root, "database"), path,
	    &c->database, err) != JIT_OK ||
	    get_path(json_object_get(root, "ca_dir"), "ca_dir", path, 0,
	    &c->ca_dir, err) != JIT_OK ||
	    get_path(json_object_get(root, "ca_key_file"), "ca_key_file",
	    path, 1, &c->ca_key_file, err) != JIT_OK ||
	    get_path(json_object_get(root, "ca_passphrase_file"),
	    "ca_passphrase_file", path, 1, &c->ca_passphrase_file, err) !=
	    JIT_OK ||
	    get_path(json_object_get(root, "secrets_file"), "secrets_file",
	    path, 0, &c->secrets_file, err) != JIT_OK ||
	    get_path(json_object_get(root, "tls_cert"), "tls_cert", path, 1,
	    &c->tls_cert, err) != JIT_OK ||
	    get_path(json_object_get(root, "tls_key"), "tls_key", path, 1,
	    &c->tls_key, err) != JIT_OK ||
	    get_path(json_object_get(root, "audit_log_file"),
	    "audit_log_file", path, 1, &c->audit_log_file, err) != JIT_OK ||
	    get_path(json_object_get(root, "web_root"), "web_root", path, 1,
	    &c->web_root, err) != JIT_OK)
		goto out;
	if (c->ca_key_file != NULL && c->ca_passphrase_file != NULL) {
		config_fail(err, path, "\"ca_key_file\" and \"ca_passphrase_file\" "
		    "are mutually exclusive");
		goto out;
	}
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		config_fail(err, path, "\"tls_cert\" and \"tls_key\" go together");
		goto out;
	}
	c->signer_process = 1;
	if ((v = json_object_get(root, "signer_process")) != NULL) {
		if (!json_is_boolean(v)) {
			config_fail(err, path, "\"signer_process\" must be true or "
			    "false");
			goto out;
		}
		c->signer_process = json_is_true(v);
	}
	if (get_duration(json_object_get(root, "session_ttl"), "session_ttl",
	    path, 8 * 3600, 30 * 86400, &c->session_ttl, err) != JIT_OK ||
	    get_duration(json_object_get(root, "mfa_max_age"), "mfa_max_age",
	    path, 15 * 60, 86400, &c->mfa_max_age, err) != JIT_OK ||
	    get_duration(json_object_get(root, "cert_ttl"), "cert_ttl", path,
	    5 * 60, JIT_CERT_TTL_MAX, &c->cert_ttl, err) != JIT_OK ||
	    get_duration(json_object_get(root, "audit_checkpoint_interval"),
	    "audit_checkpoint_interval", path, 60, 86400,
	    &c->audit_checkpoint_interval, err) != JIT_OK)
		goto out;
	c->lockout_failures = 5;
	c->lockout_duration = 15 * 60;
	if ((lk = json_object_get(root, "lockout")) != NULL) {
		if (!json_is_object(lk)) {
			config_fail(err, path, "\"lockout\" must be an object like "
			    "{\"max_failures\": 5, \"duration\": \"15m\"}");
			goto out;
		}
		if (check_keys(lk, lockout_keys, "\"lockout\"", path, err) !=
		    JIT_OK ||
		    get_int(json_object_get(lk, "max_failures"),
		    "lockout.max_failures", path, 5, 1, 1000, &n, err) !=
		    JIT_OK)
			goto out;
		c->lockout_failures = (int)n;
		if (get_duration(json_object_get(lk, "duration"),
		    "lockout.duration", path, 15 * 60, 7 * 86400,
		    &c->lockout_duration, err) != JIT_OK)
			goto out;
	}
	if (get_int(json_object_get(root, "audit_checkpoint_every"),
	    "audit_checkpoint_every", path, 1000, 1, 1000000, &n, err) !=
	    JIT_OK)
		goto out;
	c->audit_checkpoint_every = (uint64_t)n;
	if (get_int(json_object_get(root, "database_busy_timeout_ms"),
	    "database_busy_timeout_ms", path, 5000, 10, 600000, &n, err) !=
	    JIT_OK)
		goto out;
	c->database_busy_timeout_ms = (int)n;
	if (get_int(json_object_get(root, "threads"), "threads", path, 4, 1,
	    64, &n, err) != JIT_OK)
		goto out;
	c->threads = (int)n;
	if (get_int(json_object_get(root, "max_body"), "max_body", path,
	    64 * 1024, 1024, 1024 * 1024, &n, err) != JIT_OK)
		goto out;
	c->max_body = (size_t)n;
	if (load_login_limits(root, c, path, err) != JIT_OK ||
	    load_connections(root, c, path, err) != JIT_OK)
		goto out;
	if ((v = json_object_get(root, "auditors")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > AUDITORS_MAX) {
			config_fail(err, path, "\"auditors\" must be an array of user "
			    "names and \"group:NAME\" entries");
			goto out;
		}
		if ((c->auditors = calloc(json_array_size(v) + 1,
		    sizeof(char *))) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		for (i = 0; i < json_array_size(v); i++) {
			json_t *e = json_array_get(v, i);

			if (!json_is_string(e) ||
			    !valid_principal_entry(json_string_value(e))) {
				config_fail(err, path, "\"auditors\"[%zu] must be a "
				    "user name or \"group:NAME\"", i);
				goto out;
			}
			if ((c->auditors[i] = strdup(json_string_value(e))) ==
			    NULL) {
				r = JIT_ERR_ALLOC;
				goto out;
			}
			c->nauditors++;
		}
	}
	if (get_duration(json_object_get(root, "sweep_interval"),
	    "sweep_interval", path, 5, 3600, &c->sweep_interval, err) !=
	    JIT_OK)
		goto out;
	{
		char *perr = NULL;

		if (policy_load(json_object_get(root, "roles"), &c->policy,
		    &perr) != JIT_OK) {
			config_fail(err, path, "%s", perr != NULL ? perr :
			    "invalid \"roles\"");
			free(perr);
			goto out;
		}
	}
	if (oidc_config_load(json_object_get(root, "oidc"), path, &c->oidc,
	    err) != JIT_OK)
		goto out;
	if (!c->listen_loopback && c->tls_cert == NULL) {
		config_fail(err, path, "refusing to listen on %s without TLS: set "
		    "\"tls_cert\" and \"tls_key\", or listen on a loopback "
		    "address", c->listen_host);
		goto out;
	}
	if ((r = notify_config_load(root, c, err)) != JIT_OK)
		goto out;
	*out = c;
	c = NULL;
	r = JIT_OK;
 out:
	config_unref(c);
	json_decref(root);
	return r;
}

int
config_override_listen(struct config *c, const char *listen, char **err)
{
	if (parse_listen(c, listen, err) != JIT_OK)
		return JIT_ERR_INVALID_ARG;
	if (!c->listen_loopback && c->tls_cert == NULL) {
		config_fail(err, c->path, "refusing to listen on %s without TLS: set "
		    "\"tls_cert\" and \"tls_key\", or listen on a loopback "
		    "address", c->listen_host);
		return JIT_ERR_INVALID_ARG;
	}
	return JIT_OK;
}

struct config *
config_ref(struct config *c)
{
	pthread_mutex_lock(&ref_mu);
	c->refs++;
	pthread_mutex_unlock(&ref_mu);
	return c;
}

void
config_unref(struct config *c)
{
	size_t i;
	int last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&ref_mu);
	last = --c->refs <= 0;
	pthread_mutex_unlock(&ref_mu);
	if (!last)
		return;
	free(c->path);
	free(c->database);
	free(c->ca_dir);
	free(c->ca_key_file);
	free(c->ca_passphrase_file);
	free(c->secrets_file);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->audit_log_file);
	free(c->web_root);
	for (i = 0; i < c->nauditors; i++)
		free(c->auditors[i]);
	free(c->auditors);
	policy_free(c->policy);
	notify_config_free(c->notify);
	oidc_config_free(c->oidc);
	free(c);
}

int
config_principal_match(char *const *list, size_t n, const char *user,
    const char *groups_csv)
{
	return policy_is_member(list, n, user, groups_csv);
}

char *
config_default_text(void)
{
	return strdup(
"{\n"
"  \"//\": \"jitd configuration. Keys starting with // are comments; any other unknown key is an error. Durations: 90s, 15m, 8h, 7d. Relative paths are relative to this file.\",\n"
"  \"//listen\": \"Address and port. A non-loopback address requires tls_cert and tls_key.\",\n"
"  \"listen\": \"127.0.0.1:8787\",\n"
"  \"database\": \"jitd.db\",\n"
"  \"ca_dir\": \"ca\",\n"
"  \"//ca_key_file\": \"32-byte key that seals the CA keys and secrets_file; or use ca_passphrase_file instead.\",\n"
"  \"ca_key_file\": \"ca.key\",\n"
"  \"secrets_file\": \"secrets.key\",\n"
"  \"tls_cert\": null,\n"
"  \"tls_key\": null,\n"
"  \"//session_ttl\": \"Lifetime of a login session.\",\n"
"  \"session_ttl\": \"8h\",\n"
"  \"//mfa_max_age\": \"Requesting, approving and issuing need a TOTP entered no longer ago than this (POST /v1/mfa refreshes it).\",\n"
"  \"mfa_max_age\": \"15m\",\n"
"  \"cert_ttl\": \"5m\",\n"
"  \"lockout\": {\"max_failures\": 5, \"duration\": \"15m\"},\n"
"  \"//login_limits\": \"Checked before any password is hashed: failed logins per client address (IPv6: per /64) and per user name, as a burst and a refill per minute (a burst of 0 turns that limit off), and how many password hashes may run at once. Excess attempts get 429 with Retry-After. Successful logins do not count.\",\n"
"  \"login_limits\": {\"ip_burst\": 20, \"ip_per_minute\": 60, \"user_burst\": 10, \"user_per_minute\": 10, \"max_concurrent_hashes\": 2},\n"
"  \"//connections\": \"HTTP connections: at most max in all and per_ip from one address; cut after idle_timeout without a byte, or when a request has not fully arrived within request_timeout. Change at restart.\",\n"
"  \"connections\": {\"max\": 1024, \"per_ip\": 64, \"idle_timeout\": \"30s\", \"request_timeout\": \"30s\"},\n"
"  \"//auditors\": \"Users and group:NAME entries allowed to read the audit log.\",\n"
"  \"auditors\": [\"group:auditors\"],\n"
"  \"//audit_log_file\": \"Optional: every committed audit event is appended here as one JSON line, for a SIEM.\",\n"
"  \"audit_log_file\": null,\n"
"  \"audit_checkpoint_every\": 1000,\n"
"  \"audit_checkpoint_interval\": \"60s\",\n"
"  \"//web_root\": \"Directory of the approver web page (index.html, app.js, style.css) served at /; null disables the page.\",\n"
"  \"web_root\": null,\n"
"  \"//roles\": \"Who may request what, who approves, for how long. See the README for every field.\",\n"
"  \"roles\": [\n"
"    {\"name\": \"demo-ssh\", \"description\": \"example: shell as 'jitdemo' on test hosts\",\n"
"     \"ssh\": {\"principals\": [\"jitdemo\"], \"extensions\": [\"permit-pty\"]},\n"
"     \"requesters\": [\"group:eng\"], \"approvers\": [\"group:approvers\"],\n"
"     \"approvals_required\": 1, \"self_approval\": false, \"max_duration\": \"1h\",\n"
"     \"require_reason\": true, \"pending_ttl\": \"1h\"}\n"
"  ]\n"
"}\n");
}
