/* Users, sessions and settings in the store (see store.h). */
#include <stdlib.h>
#include <string.h>

#include "broker/store_int.h"
#include "common/err.h"

#define USER_COLS "id, name, groups_csv, pwhash, totp_sealed, disabled, " \
	"failed, locked_until, last_totp_step, slack_id, created_at, federated"

static const char SQL_USER_BY_NAME[] =
    "SELECT " USER_COLS " FROM users WHERE name = ?";
static const char SQL_USER_BY_ID[] =
    "SELECT " USER_COLS " FROM users WHERE id = ?";
static const char SQL_USER_LIST[] =
    "SELECT " USER_COLS " FROM users ORDER BY name";
static const char SQL_USER_INSERT[] =
    "INSERT INTO users (name, groups_csv, pwhash, totp_sealed, disabled, "
    "failed, locked_until, last_totp_step, slack_id, created_at, federated) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING "
    "RETURNING id";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET groups_csv = ?, pwhash = ?, totp_sealed = ?, "
    "disabled = ?, failed = ?, locked_until = ?, last_totp_step = ?, "
    "slack_id = ?, federated = ? WHERE id = ?";
static const char SQL_SESS_INSERT[] =
    "INSERT INTO sessions (token_hash, user_id, methods, auth_time, "
    "created_at, expires_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char SQL_SESS_GET[] =
    "SELECT token_hash, user_id, methods, auth_time, created_at, "
    "expires_at, revoked FROM sessions WHERE token_hash = ?";
static const char SQL_SESS_UPDATE[] =
    "UPDATE sessions SET methods = ?, auth_time = ?, expires_at = ?, "
    "revoked = ? WHERE token_hash = ?";
static const char SQL_SESS_REVOKE_USER[] =
    "UPDATE sessions SET revoked = 1 WHERE user_id = ? AND revoked = 0";
static const char SQL_META_GET[] = "SELECT value FROM meta WHERE key = ?";
static const char SQL_META_SET[] =
    "INSERT INTO meta (key, value) VALUES (?, ?) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";

static int
row_user(struct db_stmt *st, struct store_user *u)
{
	int n;

	memset(u, 0, sizeof(*u));
	u->id = db_col_int(st, 0);
	if (col_text(st, 1, u->name, sizeof(u->name)) != 0 ||
	    col_text(st, 2, u->groups, sizeof(u->groups)) != 0 ||
	    col_text(st, 3, u->pwhash, sizeof(u->pwhash)) != 0 ||
	    col_text(st, 9, u->slack_id, sizeof(u->slack_id)) != 0)
		return JIT_ERR_STORE;
	n = db_col_bytes(st, 4);
	if (n < 0 || n > STORE_SEALED_MAX)
		return JIT_ERR_STORE;
	if (n > 0)
		memcpy(u->totp_sealed, db_col_blob(st, 4), (size_t)n);
	u->totp_sealed_len = (size_t)n;
	u->disabled = (int)db_col_int(st, 5);
	u->failed = (int)db_col_int(st, 6);
	u->locked_until = db_col_int(st, 7);
	u->last_totp_step = (uint64_t)db_col_int(st, 8);
	u->created_at = db_col_int(st, 10);
	u->federated = (int)db_col_int(st, 11);
	return JIT_OK;
}

/* Runs a one-row user lookup on c. */
static int
user_lookup(struct conn *c, const char *sql, const char *name, int64_t id,
    struct store_user *u)
{
	struct db_stmt *st;
	int r, rc;

	memset(u, 0, sizeof(*u));
	if ((st = conn_stmt(c, sql)) == NULL)
		return JIT_ERR_STORE;
	if (name != NULL)
		db_bind_text(st, 1, name);
	else
		db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW)
		r = row_user(st, u);
	else
		r = rc == DB_DONE ? JIT_ERR_NOT_FOUND : JIT_ERR_STORE;
	db_reset(st);
	return r;
}

int
store_user_get(struct store *s, const char *name, struct store_user *u)
{
	struct conn *c;
	int r;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	r = user_lookup(c, SQL_USER_BY_NAME, name, 0, u);
	store_rconn_put(s, c);
	return r;
}

int
store_user_get_by_id(struct store *s, int64_t id, struct store_user *u)
{
	struct conn *c;
	int r;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	r = user_lookup(c, SQL_USER_BY_ID, NULL, id, u);
	store_rconn_put(s, c);
	return r;
}

int
store_tx_user_get(struct store_tx *tx, const char *name, struct store_user *u)
{
	return user_lookup(tx->c, SQL_USER_BY_NAME, name, 0, u);
}

int
store_user_list(struct store *s,
    int (*cb)(void *, const struct store_user *), void *arg)
{
	struct store_user u;
	struct conn *c;
	struct db_stmt *st;
	int r = JIT_OK, rc;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_USER_LIST)) == NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	while ((rc = db_step(st)) == DB_ROW) {
		if ((r = row_user(st, &u)) != JIT_OK || (r = cb(arg, &u)) !=
		    JIT_OK)
			break;
	}
	if (r == JIT_OK && rc != DB_DONE)
		r = JIT_ERR_STORE;
	db_reset(st);
	store_rconn_put(s, c);
	return r;
}

static void
bind_user_fields(struct db_stmt *st, int first, const struct store_user *u)
{
	db_bind_text(st, first, u->groups);
	db_bind_text(st, first + 1, u->pwhash);
	if (u->totp_sealed_len > 0)
		db_bind_blob(st, first + 2, u->totp_sealed,
		    u->totp_sealed_len);
	else
		db_bind_null(st, first + 2);
	db_bind_int(st, first + 3, u->disabled);
	db_bind_int(st, first + 4, u->failed);
	db_bind_int(st, first + 5, u->locked_until);
	db_bind_int(st, first + 6, (int64_t)u->last_totp_step);
	db_bind_text(st, first + 7, u->slack_id);
}

int
store_tx_user_insert(struct store_tx *tx, struct store_user *u)
{
	struct db_stmt *st;
	int rc;

	if (u->totp_sealed_len > STORE_SEALED_MAX)
		return JIT_ERR_LIMIT;
	if ((st = conn_stmt(tx->c, SQL_USER_INSERT)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, u->name);
	bind_user_fields(st, 2, u);
	u->created_at = tx->now;
	db_bind_int(st, 10, u->created_at);
	db_bind_int(st, 11, u->federated);
	if ((rc = db_step(st)) == DB_ROW)
		u->id = db_col_int(st, 0);
	db_reset(st);
	/* A taken name inserts nothing and returns no row. */
	if (rc == DB_DONE)
		return JIT_ERR_EXISTS;
	return rc == DB_ROW ? JIT_OK : JIT_ERR_STORE;
}

int
store_tx_user_update(struct store_tx *tx, const struct store_user *u)
{
	struct db_stmt *st;
	int rc;

	if (u->totp_sealed_len > STORE_SEALED_MAX)
		return JIT_ERR_LIMIT;
	if ((st = conn_stmt(tx->c, SQL_USER_UPDATE)) == NULL)
		return JIT_ERR_STORE;
	bind_user_fields(st, 1, u);
	db_bind_int(st, 9, u->federated);
	db_bind_int(st, 10, u->id);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	return db_changes(st) == 1 ? JIT_OK : JIT_ERR_NOT_FOUND;
}

int
store_tx_session_insert(struct store_tx *tx, const struct store_session *ss)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(tx->c, SQL_SESS_INSERT)) == NULL)
		return JIT_ERR_STORE;
	db_bind_blob(st, 1, ss->token_hash, STORE_TOKEN_HASH_LEN);
	db_bind_int(st, 2, ss->user_id);
	db_bind_text(st, 3, ss->methods);
	db_bind_int(st, 4, ss->auth_time);
	db_bind_int(st, 5, ss->created_at);
	db_bind_int(st, 6, ss->expires_at);
	db_bind_int(st, 7, ss->revoked);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? JIT_OK : JIT_ERR_STORE;
}

static int
session_lookup(struct conn *c, const uint8_t *hash, struct store_session *ss)
{
	struct db_stmt *st;
	int r = JIT_OK, rc;

	memset(ss, 0, sizeof(*ss));
	if ((st = conn_stmt(c, SQL_SESS_GET)) == NULL)
		return JIT_ERR_STORE;
	db_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN);
	rc = db_step(st);
	if (rc == DB_ROW) {
		memcpy(ss->token_hash, hash, STORE_TOKEN_HASH_LEN);
		ss->user_id = db_col_int(st, 1);
		if (col_text(st, 2, ss->methods, sizeof(ss->methods)) != 0)
			r = JIT_ERR_STORE;
		ss->auth_time = db_col_int(st, 3);
		ss->created_at = db_col_int(st, 4);
		ss->expires_at = db_col_int(st, 5);
		ss->revoked = (int)db_col_int(st, 6);
	} else
		r = rc == DB_DONE ? JIT_ERR_NOT_FOUND : JIT_ERR_STORE;
	db_reset(st);
	return r;
}

int
store_session_get(struct store *s, const uint8_t *hash,
    struct store_session *ss)
{
	struct conn *c;
	int r;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	r = session_lookup(c, hash, ss);
	store_rconn_put(s, c);
	return r;
}

int
store_tx_session_get(struct store_tx *tx, const uint8_t *hash,
    struct store_session *ss)
{
	return session_lookup(tx->c, hash, ss);
}

int
store_tx_session_update(struct store_tx *tx, const struct store_session *ss)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(tx->c, SQL_SESS_UPDATE)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, ss->methods);
	db_bind_int(st, 2, ss->auth_time);
	db_bind_int(st, 3, ss->expires_at);
	db_bind_int(st, 4, ss->revoked);
	db_bind_blob(st, 5, ss->token_hash, STORE_TOKEN_HASH_LEN);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	return db_changes(st) == 1 ? JIT_OK : JIT_ERR_NOT_FOUND;
}

int
store_tx_sessions_revoke_user(struct store_tx *tx, int64_t user_id)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(tx->c, SQL_SESS_REVOKE_USER)) == NULL)
		return JIT_ERR_STORE;
	db_bind_int(st, 1, user_id);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? JIT_OK : JIT_ERR_STORE;
}

int
store_meta_get(struct store *s, const char *key, char *out, size_t outlen)
{
	struct conn *c;
	struct db_stmt *st;
	int r, rc;

	out[0] = '\0';
	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_META_GET)) == NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	db_bind_text(st, 1, key);
	rc = db_step(st);
	if (rc == DB_ROW)
		r = col_text(st, 0, out, outlen) == 0 ? JIT_OK : JIT_ERR_LIMIT;
	else
		r = rc == DB_DONE ? JIT_ERR_NOT_FOUND : JIT_ERR_STORE;
	db_reset(st);
	store_rconn_put(s, c);
	return r;
}

int
store_tx_meta_set(struct store_tx *tx, const char *key, const char *value)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(tx->c, SQL_META_SET)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, value);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? JIT_OK : JIT_ERR_STORE;
}
