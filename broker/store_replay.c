/* The replay guard in the store (see store.h). */
#include <string.h>

#include "broker/store_int.h"
#include "common/err.h"

static const char SQL_PURGE[] = "DELETE FROM replay WHERE expires_at <= ?";
static const char SQL_INSERT[] =
    "INSERT INTO replay (kind, key, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING";

int
store_tx_replay_once(struct store_tx *tx, const char *kind, const char *key,
    int64_t expires_at)
{
	struct db_stmt *st;
	int rc;

	if (strlen(kind) > 32 || strlen(key) > 256)
		return JIT_ERR_LIMIT;
	if ((st = conn_stmt(tx->c, SQL_PURGE)) == NULL)
		return JIT_ERR_STORE;
	db_bind_int(st, 1, tx->now);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(tx->c, SQL_INSERT)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, kind);
	db_bind_text(st, 2, key);
	db_bind_int(st, 3, expires_at);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	/* A conflict inserts nothing (and, unlike an error, keeps the
	 * transaction usable on every engine). */
	return db_changes(st) == 1 ? JIT_OK : JIT_ERR_EXISTS;
}
