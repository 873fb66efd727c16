/* The CSRF tokens of web sessions in the store (see store_web.h). */
#include <string.h>

#include <sodium.h>

#include "broker/store_int.h"
#include "broker/store_web.h"
#include "common/err.h"

static const char SQL_SET_CSRF[] =
    "UPDATE sessions SET csrf = ? WHERE token_hash = ?";
static const char SQL_GET_CSRF[] =
    "SELECT csrf FROM sessions WHERE token_hash = ?";

int
store_tx_session_set_csrf(struct store_tx *tx, const uint8_t *token_hash,
    const char *csrf)
{
	struct db_stmt *st;
	int rc;

	if (strlen(csrf) > STORE_CSRF_MAX)
		return JIT_ERR_LIMIT;
	if ((st = conn_stmt(tx->c, SQL_SET_CSRF)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, csrf);
	db_bind_blob(st, 2, token_hash, STORE_TOKEN_HASH_LEN);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	return db_changes(st) == 1 ? JIT_OK : JIT_ERR_NOT_FOUND;
}

int
store_session_csrf_get(struct store *s, const uint8_t *token_hash, char *out,
    size_t outlen)
{
	struct db_stmt *st;
	struct conn *c;
	int r = JIT_ERR_STORE, rc;

	if (outlen > 0)
		out[0] = '\0';
	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_GET_CSRF)) == NULL)
		goto out;
	db_bind_blob(st, 1, token_hash, STORE_TOKEN_HASH_LEN);
	rc = db_step(st);
	if (rc == DB_DONE)
		r = JIT_ERR_NOT_FOUND;
	else if (rc == DB_ROW)
		r = col_text(st, 0, out, outlen) == 0 ? JIT_OK :
		    JIT_ERR_STORE;
	db_reset(st);
 out:
	store_rconn_put(s, c);
	if (r != JIT_OK && outlen > 0)
		sodium_memzero(out, outlen);
	return r;
}
