/*
 * The notification outbox and the chat-user mapping in the store: part of
 * the store's interface (see store.h), kept in its own header so the
 * notification code can change without touching the core.  Every change
 * to an outbox row happens inside a store_write job.
 */
#ifndef JIT_BROKER_STORE_OUTBOX_H
#define JIT_BROKER_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "broker/store.h"

#define STORE_OUTBOX_PAYLOAD_MAX	(64 * 1024)
#define STORE_OUTBOX_ERROR_MAX		255

struct store_outbox {
	int64_t		 id;
	char		 target[STORE_NAME_MAX + 1];
	char		 event[32];
	int64_t		 request_id;
	char		*payload;	/* owned by the store during callbacks */
	char		 state[16];	/* "pending", "delivered", "dead" */
	int		 attempts;
	int64_t		 next_at;
	char		 last_error[STORE_OUTBOX_ERROR_MAX + 1];
	int64_t		 created_at;
	int64_t		 delivered_at;
};

/*
 * Queues a delivery (state pending, due at the transaction's time).
 * JIT_ERR_LIMIT for an oversized payload or target name.
 */
int store_tx_outbox_insert(struct store_tx *tx, const char *target,
    const char *event, int64_t request_id, const char *payload) STORE_WUR;

/*
 * Records the outcome of an attempt on a pending row: state ("pending"
 * with a new next_at for a retry, "delivered" or "dead"), the attempt
 * count and the last error ("" when delivered).  JIT_ERR_NOT_FOUND if the
 * row is not pending any more.
 */
int store_tx_outbox_update(struct store_tx *tx, int64_t id, const char *state,
    int attempts, int64_t next_at, const char *last_error) STORE_WUR;

/*
 * Calls cb for pending rows with next_at <= now, oldest first, at most
 * limit (1..1000); state == NULL lists every row (for tests and tools).
 * The row (and its payload) is valid only during the call.
 */
int store_outbox_list(struct store *s, const char *state, int64_t now,
    unsigned int limit, int (*cb)(void *arg, const struct store_outbox *o),
    void *arg) STORE_WUR;

/* Row counts by state. */
int store_outbox_counts(struct store *s, int64_t *pending,
    int64_t *delivered, int64_t *dead) STORE_WUR;

/*
 * The user linked to a chat (Slack) user id: JIT_OK, JIT_ERR_NOT_FOUND,
 * JIT_ERR_STORE.  Zeroes *u first.
 */
int store_tx_user_get_by_slack(struct store_tx *tx, const char *slack_id,
    struct store_user *u) STORE_WUR;

#endif
