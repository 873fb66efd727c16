/* The notification outbox and chat-user lookups (see store_outbox.h). */
#include <stdlib.h>
#include <string.h>

#include "broker/store_int.h"
#include "broker/store_outbox.h"
#include "common/err.h"

#define OUTBOX_COLS "id, target, event, request_id, payload, state, " \
	"attempts, next_at, last_error, created_at, delivered_at"

static const char SQL_OB_INSERT[] =
    "INSERT INTO outbox (target, event, request_id, payload, state, "
    "attempts, next_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)";
static const char SQL_OB_UPDATE[] =
    "UPDATE outbox SET state = ?, attempts = ?, next_at = ?, "
    "last_error = ?, delivered_at = ? WHERE id = ? AND state = 'pending'";
static const char SQL_OB_DUE[] =
    "SELECT " OUTBOX_COLS " FROM outbox WHERE state = 'pending' AND "
    "next_at <= ? ORDER BY next_at, id LIMIT ?";
static const char SQL_OB_ALL[] =
    "SELECT " OUTBOX_COLS " FROM outbox ORDER BY id LIMIT ?";
static const char SQL_OB_COUNTS[] =
    "SELECT state, count(*) FROM outbox GROUP BY state";
static const char SQL_USER_BY_SLACK[] =
    "SELECT name FROM users WHERE slack_id = ? AND slack_id != '' "
    "ORDER BY id LIMIT 2";

int
store_tx_outbox_insert(struct store_tx *tx, const char *target,
    const char *event, int64_t request_id, const char *payload)
{
	struct db_stmt *st;
	int rc;

	if (strlen(target) > STORE_NAME_MAX || strlen(event) >= 32 ||
	    strlen(payload) > STORE_OUTBOX_PAYLOAD_MAX)
		return JIT_ERR_LIMIT;
	if ((st = conn_stmt(tx->c, SQL_OB_INSERT)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, target);
	db_bind_text(st, 2, event);
	db_bind_int(st, 3, request_id);
	db_bind_text(st, 4, payload);
	db_bind_int(st, 5, tx->now);
	db_bind_int(st, 6, tx->now);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? JIT_OK : JIT_ERR_STORE;
}

int
store_tx_outbox_update(struct store_tx *tx, int64_t id, const char *state,
    int attempts, int64_t next_at, const char *last_error)
{
	struct db_stmt *st;
	int rc;

	if (strlen(last_error) > STORE_OUTBOX_ERROR_MAX)
		return JIT_ERR_LIMIT;
	if ((st = conn_stmt(tx->c, SQL_OB_UPDATE)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, state);
	db_bind_int(st, 2, attempts);
	db_bind_int(st, 3, next_at);
	db_bind_text(st, 4, last_error);
	db_bind_int(st, 5, strcmp(state, "delivered") == 0 ? tx->now :
	    0);
	db_bind_int(st, 6, id);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	return db_changes(st) == 1 ? JIT_OK : JIT_ERR_NOT_FOUND;
}

static int
row_outbox(struct db_stmt *st, struct store_outbox *o)
{
	memset(o, 0, sizeof(*o));
	o->id = db_col_int(st, 0);
	if (col_text(st, 1, o->target, sizeof(o->target)) != 0 ||
	    col_text(st, 2, o->event, sizeof(o->event)) != 0 ||
	    col_text(st, 5, o->state, sizeof(o->state)) != 0 ||
	    col_text(st, 8, o->last_error, sizeof(o->last_error)) != 0)
		return JIT_ERR_STORE;
	o->request_id = db_col_int(st, 3);
	o->payload = (char *)db_col_text(st, 4);
	if (o->payload == NULL || db_col_bytes(st, 4) >
	    STORE_OUTBOX_PAYLOAD_MAX)
		return JIT_ERR_STORE;
	o->attempts = (int)db_col_int(st, 6);
	o->next_at = db_col_int(st, 7);
	o->created_at = db_col_int(st, 9);
	o->delivered_at = db_col_int(st, 10);
	return JIT_OK;
}

int
store_outbox_list(struct store *s, const char *state, int64_t now,
    unsigned int limit, int (*cb)(void *, const struct store_outbox *),
    void *arg)
{
	struct store_outbox o;
	struct conn *c;
	struct db_stmt *st;
	int r = JIT_OK, rc;

	if (limit == 0 || limit > 1000 || (state != NULL &&
	    strcmp(state, "pending") != 0))
		return JIT_ERR_INVALID_ARG;
	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, state != NULL ? SQL_OB_DUE : SQL_OB_ALL)) ==
	    NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	if (state != NULL) {
		db_bind_int(st, 1, now);
		db_bind_int(st, 2, (int)limit);
	} else
		db_bind_int(st, 1, (int)limit);
	while ((rc = db_step(st)) == DB_ROW) {
		if ((r = row_outbox(st, &o)) != JIT_OK ||
		    (r = cb(arg, &o)) != JIT_OK)
			break;
	}
	if (r == JIT_OK && rc != DB_DONE)
		r = JIT_ERR_STORE;
	db_reset(st);
	store_rconn_put(s, c);
	return r;
}

int
store_outbox_counts(struct store *s, int64_t *pending, int64_t *delivered,
    int64_t *dead)
{
	const char *state;
	struct conn *c;
	struct db_stmt *st;
	int64_t n;
	int rc;

	*pending = *delivered = *dead = 0;
	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_OB_COUNTS)) == NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		state = db_col_text(st, 0);
		n = db_col_int(st, 1);
		if (state == NULL)
			continue;
		if (strcmp((const char *)state, "pending") == 0)
			*pending = n;
		else if (strcmp((const char *)state, "delivered") == 0)
			*delivered = n;
		else if (strcmp((const char *)state, "dead") == 0)
			*dead = n;
	}
	db_reset(st);
	store_rconn_put(s, c);
	return rc == DB_DONE ? JIT_OK : JIT_ERR_STORE;
}

int
store_tx_user_get_by_slack(struct store_tx *tx, const char *slack_id,
    struct store_user *u)
{
	char name[STORE_NAME_MAX + 1];
	struct db_stmt *st;
	int rc, n = 0;

	memset(u, 0, sizeof(*u));
	if (*slack_id == '\0' || strlen(slack_id) > STORE_NAME_MAX)
		return JIT_ERR_NOT_FOUND;
	if ((st = conn_stmt(tx->c, SQL_USER_BY_SLACK)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, slack_id);
	while ((rc = db_step(st)) == DB_ROW) {
		if (n++ == 0 && col_text(st, 0, name, sizeof(name)) != 0) {
			db_reset(st);
			return JIT_ERR_STORE;
		}
	}
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	/* An id linked to two users maps to neither. */
	if (n != 1)
		return JIT_ERR_NOT_FOUND;
	return store_tx_user_get(tx, name, u);
}
