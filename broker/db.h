/*
 * One database connection behind the store: sqlite3 (a file path) or
 * PostgreSQL through libpq (a "postgresql://" or "postgres://" URI, or a
 * "postgres:" prefixed keyword/value conninfo string).  The store writes
 * one dialect of SQL that both engines accept ("?" or "?N" parameters,
 * INSERT ... ON CONFLICT, RETURNING, quoted "user"); the PostgreSQL side
 * rewrites the parameters to $N.  Only the store uses connections; the
 * rest of jitd at most asks db_target_kind() what a target names.
 *
 * Statements are prepared once per connection and cached by the pointer
 * identity of their SQL text, which must be a string literal or another
 * string that lives as long as the connection.  A connection is used by
 * one thread at a time.
 */
#ifndef JIT_BROKER_DB_H
#define JIT_BROKER_DB_H

#include <stddef.h>
#include <stdint.h>

enum db_kind {
	DB_SQLITE = 1,
	DB_PG = 2,
};

/* db_open flags */
#define DB_READONLY	0x01
#define DB_CREATE	0x02	/* sqlite: create the file (0600) if missing */

/* db_step results besides the negative JIT_ERR_* codes */
#define DB_DONE		0
#define DB_ROW		1

struct db;
struct db_stmt;

/* DB_PG if target names a PostgreSQL database, else DB_SQLITE. */
enum db_kind db_target_kind(const char *target);

/*
 * A printable form of target with any password removed (for messages and
 * logs).  Returns a malloc'd string or NULL.
 */
char *db_target_display(const char *target);

/*
 * Opens a connection.  busy_ms bounds the wait for a lock (sqlite's busy
 * timeout, PostgreSQL's lock_timeout).  Returns JIT_OK, JIT_ERR_NOT_FOUND
 * (sqlite file missing without DB_CREATE), JIT_ERR_STORE; *err receives
 * a malloc'd sentence on failure when err is not NULL.
 */
int db_open(const char *target, int flags, int busy_ms, struct db **out,
    char **err);
void db_close(struct db *d);
enum db_kind db_kind(const struct db *d);

/* The last error on the connection, for messages (never NULL). */
const char *db_errmsg(struct db *d);

/* What kind of failure the last error was, whatever the engine. */
enum db_fault {
	DB_FAULT_NONE = 0,
	DB_FAULT_FULL,		/* no space left for the database */
	DB_FAULT_BUSY,		/* another holds a lock past the timeout */
	DB_FAULT_IO,		/* the disk reported an I/O error */
	DB_FAULT_READONLY,	/* not writable (or a read-only standby) */
	DB_FAULT_CORRUPT,	/* damaged, or not a jitd database */
	DB_FAULT_NOMEM,
	DB_FAULT_CONNECTION,	/* the server is unreachable */
	DB_FAULT_OTHER,
};
enum db_fault db_fault(struct db *d);

/*
 * The engine's own name for the last error, for operators: "SQLITE_FULL",
 * "SQLITE_BUSY", ... or "SQLSTATE 53100"; "" when there was none.
 */
const char *db_fault_code(struct db *d);

/* Runs SQL without parameters (may hold several statements). */
int db_exec(struct db *d, const char *sql);

/*
 * Starts a write transaction: sqlite's BEGIN IMMEDIATE; on PostgreSQL,
 * BEGIN and the cluster-wide write lock (an advisory transaction lock),
 * so writers on every replica run one at a time.
 */
int db_begin_write(struct db *d);

/*
 * Starts a read-only transaction that sees one snapshot of the database
 * for all its statements (ended by db_exec(d, "COMMIT")).
 */
int db_begin_read(struct db *d);

/* 1 if a transaction is open on the connection. */
int db_in_tx(struct db *d);

/* Returns a reset statement for sql (see above), or NULL. */
struct db_stmt *db_prepare(struct db *d, const char *sql);

/* Parameters are numbered from 1.  Text and blobs are copied. */
int db_bind_int(struct db_stmt *st, int idx, int64_t v);
int db_bind_text(struct db_stmt *st, int idx, const char *s);	/* NULL: null */
int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n);
int db_bind_null(struct db_stmt *st, int idx);

/*
 * Runs the statement (first call) or moves to the next row: DB_ROW,
 * DB_DONE, or JIT_ERR_EXISTS (unique constraint), JIT_ERR_BUSY (lock
 * timeout), JIT_ERR_STORE.
 */
int db_step(struct db_stmt *st);

/* Columns of the current row, numbered from 0. */
int db_col_null(struct db_stmt *st, int col);
int64_t db_col_int(struct db_stmt *st, int col);
const char *db_col_text(struct db_stmt *st, int col);	/* NULL for null */
const void *db_col_blob(struct db_stmt *st, int col);
int db_col_bytes(struct db_stmt *st, int col);

/* Rows changed by the statement's last run. */
int64_t db_changes(struct db_stmt *st);

/* Ends the statement's run (keeps it prepared). */
void db_reset(struct db_stmt *st);

/*
 * The PostgreSQL session lock that makes one replica the leader (the
 * expiry sweeper, the outbox worker).  Tries to take it without waiting;
 * returns 1 if this connection holds it, 0 if another does, < 0 on error.
 * sqlite: always 1.
 */
int db_try_leader(struct db *d);

/*
 * Takes (take != 0, waiting) or releases the cluster-wide schema lock, so
 * that replicas starting together migrate once.  sqlite: nothing to do
 * (its migration runs in one BEGIN IMMEDIATE).
 */
int db_lock_schema(struct db *d, int take);

#endif
