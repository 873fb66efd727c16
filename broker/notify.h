/*
 * Notifications: outbound deliveries to chat (Slack-compatible) and
 * signed webhooks through a durable outbox, and the configuration of the
 * inbound chat callbacks.  Internal to broker/.
 *
 * A change that notifies (a request created, approved, denied, expired,
 * revoked; a break-glass use) calls notify_tx() inside its own store
 * transaction: the payload for every matching target is written to the
 * outbox table with the change, or neither happens.  A worker thread
 * (notify_worker_start) posts due rows with libcurl and records each
 * outcome through the store writer: delivered, retried later with
 * exponential backoff and jitter, or dead after notify_max_attempts (with
 * an audit event "notify.dead").  Nothing in the API waits on delivery.
 */
#ifndef JIT_BROKER_NOTIFY_H
#define JIT_BROKER_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct config;
struct server;
struct store_tx;
struct store_request;

#define NOTIFY_TARGETS_MAX	32
#define NOTIFY_URL_MAX		2048
#define NOTIFY_SECRET_MAX	1024
#define NOTIFY_NAME_MAX		64

enum notify_type { NOTIFY_SLACK, NOTIFY_WEBHOOK };

struct notify_target {
	char		*name;		/* outbox "target"; default TYPE-INDEX */
	enum notify_type type;
	char		*url;
	char		*host;		/* lower-case host of url */
	uint8_t		*secret;	/* contents of secret_file, or NULL */
	size_t		 secret_len;
	char		**roles;	/* NULL: every role */
	size_t		 nroles;
	int		 insecure_loopback;
};

struct notify_config {
	struct notify_target	*targets;
	size_t			 ntargets;
	int			 max_attempts;		/* default 8 */
	uint8_t			*slack_signing_secret;	/* NULL: hook off */
	size_t			 slack_signing_secret_len;
	int			 slack_mfa_asserted;	/* default 0 */
	char			*public_url;		/* no trailing slash */
};

/*
 * Parses the notification keys of the config object root ("notify",
 * "notify_max_attempts", "slack_signing_secret_file",
 * "slack_mfa_asserted", "public_url") into c->notify.  Secret files are
 * read now, relative to the config file's directory.  Returns JIT_OK or
 * a code with a malloc'd sentence in *err.
 */
int notify_config_load(json_t *root, struct config *c, char **err)
    __attribute__((warn_unused_result));
void notify_config_free(struct notify_config *nc);

/*
 * Checks an outbound URL: https, or http to a loopback host (127.0.0.0/8,
 * ::1, localhost) when insecure_loopback is set; no user info, a host,
 * at most NOTIFY_URL_MAX bytes.  On success *host is the malloc'd
 * lower-case host.  Returns JIT_OK or JIT_ERR_INVALID_ARG with a static
 * reason in *why.
 */
int notify_check_url(const char *url, int insecure_loopback, char **host,
    const char **why) __attribute__((warn_unused_result));

/*
 * Writes one outbox row per target that wants event for request r, inside
 * the caller's transaction.  event is "request.created",
 * "request.approved", "request.denied", "request.expired",
 * "request.revoked" or "breakglass.used"; actor is who caused it.
 * Returns JIT_OK or a store error (the caller's change then rolls back).
 */
int notify_tx(struct store_tx *tx, const struct config *cfg,
    const char *event, const struct store_request *r, const char *actor)
    __attribute__((warn_unused_result));

/* The request link on the approval page: PUBLIC_URL/#request/ID. */
void notify_request_link(const struct config *cfg, int64_t id, char *out,
    size_t outlen);

/* The Slack message (blocks) for a request, used by notify and replies. */
json_t *notify_slack_message(const struct config *cfg, const char *event,
    const struct store_request *r, const char *actor, int buttons);

/*
 * hex(HMAC-SHA256(key, prefix ":" ts ":" body)) into out (65 bytes), the
 * signature of webhooks ("v1") and of Slack callbacks ("v0").
 */
int notify_sign(const uint8_t *key, size_t keylen, const char *prefix,
    const char *ts, const void *body, size_t bodylen, char out[65])
    __attribute__((warn_unused_result));

/* The delivery worker (one thread per server). */
int notify_worker_start(struct server *srv)
    __attribute__((warn_unused_result));
/* Wakes the worker now (tests; after a commit that queued deliveries). */
void notify_worker_kick(struct server *srv);
void notify_worker_stop(struct server *srv);

/* Appends the notify metrics (Prometheus text) to out. */
void notify_metrics(struct server *srv, char *out, size_t outlen);

#endif
