/* The replay guard in the store (see store.h). */
#include <string.h>

#include "broker/store_int.h"
#include "common/err.h"

static const char SQL_PURGE[] = "DELETE FROM replay WHERE expires_at <= ?";
static const char SQL_INSERT[] =
    "INSERT INTO replay (kind, key, expires_at) VALUES (?, ?, ?)";

int
store_tx_replay_once(struct store_tx *tx, const char *kind, const char *key,
    int64_t expires_at)
{
	sqlite3_stmt *st;
	int rc;

	if (strlen(kind) > 32 || strlen(key) > 256)
		return JIT_ERR_LIMIT;
	if ((st = conn_stmt(tx->c, SQL_PURGE)) == NULL)
		return JIT_ERR_STORE;
	sqlite3_bind_int64(st, 1, tx->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(tx->c, SQL_INSERT)) == NULL)
		return JIT_ERR_STORE;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, expires_at);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return JIT_ERR_EXISTS;
	return rc == SQLITE_DONE ? JIT_OK : JIT_ERR_STORE;
}
