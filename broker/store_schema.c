/*
 * The store's schema: the migrations of both engines, applied once even
 * when several replicas start together, and sqlite's start-up check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/db.h"
#include "broker/store_int.h"
#include "common/err.h"

/*
 * sqlite schema migrations, applied in order; PRAGMA user_version records
 * how many have run.  Never edit a released entry: add a new one, here
 * and in pg_migrations below (both lists always have the same length).
 */
static const char *const lite_migrations[] = {
	/* 1: users, sessions, audit log. */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  groups_csv TEXT NOT NULL DEFAULT '',"
	"  pwhash TEXT NOT NULL DEFAULT '',"
	"  totp_sealed BLOB,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  last_totp_step INTEGER NOT NULL DEFAULT 0,"
	"  slack_id TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	"  token_hash BLOB PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  methods TEXT NOT NULL,"
	"  auth_time INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  details TEXT NOT NULL,"
	"  prev_hash BLOB NOT NULL,"
	"  hash BLOB NOT NULL);"
	"CREATE INDEX audit_actor ON audit(actor, seq);"
	"CREATE INDEX audit_action ON audit(action, seq);"
	"CREATE INDEX audit_target ON audit(target, seq);"
	"CREATE INDEX audit_ts ON audit(ts, seq);"
	"CREATE TABLE audit_checkpoints ("
	"  seq INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  hash BLOB NOT NULL,"
	"  signature BLOB NOT NULL);",
	/* 2: access requests, votes, issued certificates. */
	"CREATE TABLE requests ("
	"  id INTEGER PRIMARY KEY,"
	"  user TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  ticket TEXT NOT NULL DEFAULT '',"
	"  duration INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  starts_at INTEGER NOT NULL DEFAULT 0,"
	"  pending_until INTEGER NOT NULL,"
	"  approvals_required INTEGER NOT NULL,"
	"  approvals INTEGER NOT NULL DEFAULT 0,"
	"  approved_at INTEGER NOT NULL DEFAULT 0,"
	"  grant_start INTEGER NOT NULL DEFAULT 0,"
	"  grant_end INTEGER NOT NULL DEFAULT 0,"
	"  decided_at INTEGER NOT NULL DEFAULT 0,"
	"  break_glass INTEGER NOT NULL DEFAULT 0,"
	"  extends INTEGER NOT NULL DEFAULT 0,"
	"  review_state TEXT NOT NULL DEFAULT '',"
	"  reviewed_by TEXT NOT NULL DEFAULT '',"
	"  review_comment TEXT NOT NULL DEFAULT '',"
	"  reviewed_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX requests_state ON requests(state, id);"
	"CREATE INDEX requests_user ON requests(user, id);"
	"CREATE INDEX requests_role ON requests(role, id);"
	"CREATE INDEX requests_review ON requests(review_state, id);"
	"CREATE TABLE votes ("
	"  request_id INTEGER NOT NULL REFERENCES requests(id),"
	"  approver TEXT NOT NULL,"
	"  decision TEXT NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (request_id, approver));"
	"CREATE TABLE certs ("
	"  kind TEXT NOT NULL,"
	"  serial TEXT NOT NULL,"
	"  request_id INTEGER NOT NULL REFERENCES requests(id),"
	"  user TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  valid_after INTEGER NOT NULL,"
	"  valid_before INTEGER NOT NULL,"
	"  issued_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, serial));"
	"CREATE INDEX certs_request ON certs(request_id);",
	/* 3: notification outbox, replay guard, federated users, CSRF. */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  target TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  request_id INTEGER NOT NULL DEFAULT 0,"
	"  payload TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  delivered_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX outbox_due ON outbox(state, next_at);"
	"CREATE TABLE replay ("
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, key));"
	"CREATE INDEX replay_expiry ON replay(expires_at);"
	"ALTER TABLE users ADD COLUMN federated INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN csrf TEXT NOT NULL DEFAULT '';",
};
#define NMIGRATIONS ((int)(sizeof(lite_migrations) / sizeof(lite_migrations[0])))

/*
 * The same schema for PostgreSQL: BIGINT for every integer, BYTEA for
 * blobs, identity columns for ids, and an explicit "rowid" where sqlite's
 * implicit one orders rows.  The jitd_schema table records the version.
 */
static const char *const pg_migrations[] = {
	/* 1: users, sessions, audit log. */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"CREATE TABLE users ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  groups_csv TEXT NOT NULL DEFAULT '',"
	"  pwhash TEXT NOT NULL DEFAULT '',"
	"  totp_sealed BYTEA,"
	"  disabled BIGINT NOT NULL DEFAULT 0,"
	"  failed BIGINT NOT NULL DEFAULT 0,"
	"  locked_until BIGINT NOT NULL DEFAULT 0,"
	"  last_totp_step BIGINT NOT NULL DEFAULT 0,"
	"  slack_id TEXT NOT NULL DEFAULT '',"
	"  created_at BIGINT NOT NULL);"
	"CREATE TABLE sessions ("
	"  token_hash BYTEA PRIMARY KEY,"
	"  user_id BIGINT NOT NULL REFERENCES users(id),"
	"  methods TEXT NOT NULL,"
	"  auth_time BIGINT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  revoked BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE audit ("
	"  seq BIGINT PRIMARY KEY,"
	"  ts BIGINT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  details TEXT NOT NULL,"
	"  prev_hash BYTEA NOT NULL,"
	"  hash BYTEA NOT NULL);"
	"CREATE INDEX audit_actor ON audit(actor, seq);"
	"CREATE INDEX audit_action ON audit(action, seq);"
	"CREATE INDEX audit_target ON audit(target, seq);"
	"CREATE INDEX audit_ts ON audit(ts, seq);"
	"CREATE TABLE audit_checkpoints ("
	"  seq BIGINT PRIMARY KEY,"
	"  ts BIGINT NOT NULL,"
	"  hash BYTEA NOT NULL,"
	"  signature BYTEA NOT NULL);",
	/* 2: access requests, votes, issued certificates. */
	"CREATE TABLE requests ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  \"user\" TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  ticket TEXT NOT NULL DEFAULT '',"
	"  duration BIGINT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  starts_at BIGINT NOT NULL DEFAULT 0,"
	"  pending_until BIGINT NOT NULL,"
	"  approvals_required BIGINT NOT NULL,"
	"  approvals BIGINT NOT NULL DEFAULT 0,"
	"  approved_at BIGINT NOT NULL DEFAULT 0,"
	"  grant_start BIGINT NOT NULL DEFAULT 0,"
	"  grant_end BIGINT NOT NULL DEFAULT 0,"
	"  decided_at BIGINT NOT NULL DEFAULT 0,"
	"  break_glass BIGINT NOT NULL DEFAULT 0,"
	"  extends BIGINT NOT NULL DEFAULT 0,"
	"  review_state TEXT NOT NULL DEFAULT '',"
	"  reviewed_by TEXT NOT NULL DEFAULT '',"
	"  review_comment TEXT NOT NULL DEFAULT '',"
	"  reviewed_at BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX requests_state ON requests(state, id);"
	"CREATE INDEX requests_user ON requests(\"user\", id);"
	"CREATE INDEX requests_role ON requests(role, id);"
	"CREATE INDEX requests_review ON requests(review_state, id);"
	"CREATE TABLE votes ("
	"  rowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,"
	"  request_id BIGINT NOT NULL REFERENCES requests(id),"
	"  approver TEXT NOT NULL,"
	"  decision TEXT NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  at BIGINT NOT NULL,"
	"  PRIMARY KEY (request_id, approver));"
	"CREATE TABLE certs ("
	"  rowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,"
	"  kind TEXT NOT NULL,"
	"  serial TEXT NOT NULL,"
	"  request_id BIGINT NOT NULL REFERENCES requests(id),"
	"  \"user\" TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  valid_after BIGINT NOT NULL,"
	"  valid_before BIGINT NOT NULL,"
	"  issued_at BIGINT NOT NULL,"
	"  PRIMARY KEY (kind, serial));"
	"CREATE INDEX certs_request ON certs(request_id);",
	/* 3: notification outbox, replay guard, federated users, CSRF. */
	"CREATE TABLE outbox ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  target TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  request_id BIGINT NOT NULL DEFAULT 0,"
	"  payload TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending',"
	"  attempts BIGINT NOT NULL DEFAULT 0,"
	"  next_at BIGINT NOT NULL,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_at BIGINT NOT NULL,"
	"  delivered_at BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX outbox_due ON outbox(state, next_at);"
	"CREATE TABLE replay ("
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  PRIMARY KEY (kind, key));"
	"CREATE INDEX replay_expiry ON replay(expires_at);"
	"ALTER TABLE users ADD COLUMN federated BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN csrf TEXT NOT NULL DEFAULT '';",
};

_Static_assert(sizeof(lite_migrations) == sizeof(pg_migrations),
    "every migration exists for both engines");

static const char SQL_LITE_VERSION[] = "PRAGMA user_version";
static const char SQL_PG_VERSION[] = "SELECT version FROM jitd_schema";

/* Reads the version inside the open transaction; -1 on error. */
static int
read_version(struct db *d)
{
	struct db_stmt *st;
	int rc, v = -1;

	if ((st = db_prepare(d, db_kind(d) == DB_PG ? SQL_PG_VERSION :
	    SQL_LITE_VERSION)) == NULL)
		return -1;
	if ((rc = db_step(st)) == DB_ROW)
		v = (int)db_col_int(st, 0);
	else if (rc == DB_DONE)
		v = 0;
	db_reset(st);
	return v;
}

static int
set_version(struct db *d, int v)
{
	char sql[96];

	if (db_kind(d) == DB_PG)
		snprintf(sql, sizeof(sql), "DELETE FROM jitd_schema; "
		    "INSERT INTO jitd_schema (version) VALUES (%d)", v);
	else
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	return db_exec(d, sql);
}

static const char SQL_PG_HAS_SCHEMA[] =
    "SELECT to_regclass('jitd_schema') IS NOT NULL";

static int
pg_has_schema(struct db *d)
{
	struct db_stmt *st;
	const char *t;
	int yes = 0;

	if ((st = db_prepare(d, SQL_PG_HAS_SCHEMA)) == NULL)
		return 0;
	if (db_step(st) == DB_ROW && (t = db_col_text(st, 0)) != NULL)
		yes = strcmp(t, "t") == 0;
	db_reset(st);
	return yes;
}

int
store_migrate(struct db *d, int create, const char *shown, char **err)
{
	const char *const *list = db_kind(d) == DB_PG ? pg_migrations :
	    lite_migrations;
	int pg = db_kind(d) == DB_PG, version, i;

	/*
	 * Replicas starting together: the first takes the migration lock
	 * and migrates, the others wait for it and find nothing to do.
	 */
	if (db_lock_schema(d, 1) != JIT_OK) {
		jit_set_err(err, "cannot lock the database schema: %s",
		    db_errmsg(d));
		return JIT_ERR_STORE;
	}
	/* Opening (not creating) writes nothing into a foreign database. */
	if (pg && !create && !pg_has_schema(d)) {
		db_lock_schema(d, 0);
		jit_set_err(err, "database %s holds no jitd schema: create it "
		    "with jitd init --database, or restore it from a backup",
		    shown);
		return JIT_ERR_STORE;
	}
	if (pg && db_exec(d,
	    "CREATE TABLE IF NOT EXISTS jitd_schema (version BIGINT NOT NULL)")
	    != JIT_OK) {
		jit_set_err(err, "cannot create the schema version table: %s",
		    db_errmsg(d));
		goto unlock;
	}
	if (db_exec(d, pg ? "BEGIN" : "BEGIN IMMEDIATE") != JIT_OK) {
		jit_set_err(err, "cannot lock the database: %s", db_errmsg(d));
		goto unlock;
	}
	if ((version = read_version(d)) < 0)
		goto fail;
	/* An existing database without our schema was emptied or replaced. */
	if (version == 0 && !create) {
		db_exec(d, "ROLLBACK");
		jit_set_err(err, "database %s is empty or not a jitd database (no "
		    "schema; truncated?): restore it from a backup%s", shown,
		    pg ? ", or create it with jitd init --database" : "");
		goto unlock;
	}
	if (version > NMIGRATIONS) {
		db_exec(d, "ROLLBACK");
		jit_set_err(err, "database schema version %d is newer than this "
		    "jitd understands (%d)", version, NMIGRATIONS);
		goto unlock;
	}
	for (i = version; i < NMIGRATIONS; i++)
		if (db_exec(d, list[i]) != JIT_OK ||
		    set_version(d, i + 1) != JIT_OK)
			goto fail;
	if (db_exec(d, "COMMIT") != JIT_OK)
		goto fail;
	db_lock_schema(d, 0);
	return JIT_OK;
 fail:
	jit_set_err(err, "schema migration failed: %s", db_errmsg(d));
	db_exec(d, "ROLLBACK");
 unlock:
	db_lock_schema(d, 0);
	return JIT_ERR_STORE;
}

int
store_quick_check(struct db *d, const char *shown, char **err)
{
	static const char sql[] = "PRAGMA quick_check";
	struct db_stmt *st;
	const char *t;
	int r = JIT_ERR_STORE;

	if (db_kind(d) != DB_SQLITE)
		return JIT_OK;
	if ((st = db_prepare(d, sql)) == NULL) {
		jit_set_err(err, "database %s is unreadable: %s (%s): restore it "
		    "from a backup", shown, db_errmsg(d), db_fault_code(d));
		return JIT_ERR_STORE;
	}
	if (db_step(st) == DB_ROW && (t = db_col_text(st, 0)) != NULL &&
	    strcmp(t, "ok") == 0)
		r = JIT_OK;
	else
		jit_set_err(err, "database %s failed its integrity check (%s): "
		    "restore it from a backup", shown,
		    (t = db_col_text(st, 0)) != NULL ? t : db_errmsg(d));
	db_reset(st);
	return r;
}
