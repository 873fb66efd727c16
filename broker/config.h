/*
 * jitd's configuration: one JSON file, strictly checked.  Unknown keys are
 * an error naming the key (a typo must not silently disable a control);
 * keys that start with "//" are comments.  Relative paths are resolved
 * against the directory of the config file.  A loaded config is immutable
 * and reference-counted so SIGHUP can swap it under running requests.
 */
#ifndef JIT_BROKER_CONFIG_H
#define JIT_BROKER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct policy;
struct notify_config;
struct oidc_config;

struct config {
	char		*path;
	char		 listen_host[64];	/* "127.0.0.1", "::1" */
	int		 listen_port;
	int		 listen_loopback;	/* 1 if the address is loopback */
	char		*database;
	int		 database_busy_timeout_ms; /* wait for a lock, then 503 */
	char		*ca_dir;
	char		*ca_key_file;		/* seal key file, or NULL */
	char		*ca_passphrase_file;	/* or a passphrase file, or NULL */
	char		*secrets_file;		/* sealed instance secret */
	char		*tls_cert;		/* NULL: no TLS */
	char		*tls_key;
	char		*audit_log_file;	/* SIEM JSON lines, or NULL */
	char		*web_root;		/* approver page files, or NULL */
	int64_t		 session_ttl;
	int64_t		 mfa_max_age;
	int64_t		 cert_ttl;
	int		 lockout_failures;
	int64_t		 lockout_duration;
	char		**auditors;		/* "alice", "group:audit" */
	size_t		 nauditors;
	uint64_t	 audit_checkpoint_every;
	int64_t		 audit_checkpoint_interval;
	int		 threads;
	size_t		 max_body;
	/* "login_limits": buckets checked before any password hash. */
	unsigned int	 login_ip_burst;	/* 0: no per-address limit */
	unsigned int	 login_ip_per_minute;
	unsigned int	 login_user_burst;	/* 0: no per-user limit */
	unsigned int	 login_user_per_minute;
	int		 max_concurrent_hashes;
	/* "connections": libmicrohttpd's limits (restart to change). */
	unsigned int	 conn_max;
	unsigned int	 conn_per_ip;
	int64_t		 conn_idle_timeout;	/* seconds without a byte */
	int64_t		 request_timeout;	/* to receive one request */
	struct policy	*policy;		/* the roles, validated */
	int64_t		 sweep_interval;	/* expiry sweeper period */
	struct notify_config *notify;		/* notify_config.c */
	struct oidc_config *oidc;		/* identity providers, or NULL */
	int		 signer_process;	/* CA keys in a child (default 1) */
	int		 refs;
};

/*
 * Loads and validates path.  On failure returns a JIT_ERR_* code and, if
 * err is not NULL, a malloc'd sentence naming the file and the key.
 */
int config_load(const char *path, struct config **out, char **err)
    __attribute__((warn_unused_result));
/*
 * The same from len bytes of data already read (at most CONFIG_MAX);
 * path names the file in errors and anchors relative paths.  config_load
 * reads the file and calls this (the config fuzz harness calls it
 * directly).
 */
int config_load_buffer(const char *path, const uint8_t *data, size_t len,
    struct config **out, char **err) __attribute__((warn_unused_result));

/* Reference counting (thread-safe); config_unref frees at zero. */
struct config *config_ref(struct config *c);
void config_unref(struct config *c);

/*
 * 1 if user (with comma-separated groups) matches one of the entries of
 * list ("name" or "group:NAME"), else 0.
 */
int config_principal_match(char *const *list, size_t n, const char *user,
    const char *groups_csv);

/*
 * Replaces the listen address of a loaded config ("ADDR:PORT"), with the
 * same checks as the file's "listen" (TLS required off loopback).
 */
int config_override_listen(struct config *c, const char *listen, char **err)
    __attribute__((warn_unused_result));

/* The text of a fresh instance's config (for jitd init), malloc'd. */
char *config_default_text(void);

#endif
