/*
 * Internals of broker/db*.c: the connection and statement structures of
 * both engines.  Nothing else includes this.
 */
#ifndef JIT_BROKER_DB_INT_H
#define JIT_BROKER_DB_INT_H

#include <libpq-fe.h>
#include <sqlite3.h>

#include "broker/db.h"

#define DB_STMT_CACHE	128	/* distinct SQL texts per connection */
#define DB_PARAMS_MAX	32
#define DB_COLS_MAX	32
#define DB_ERR_LEN	512

/* Advisory lock keys (pg_advisory_*(int, int)): "jitd" and a purpose. */
#define DB_LOCK_CLASS	0x6a697464
#define DB_LOCK_WRITE	1
#define DB_LOCK_LEADER	2
#define DB_LOCK_MIGRATE	3

struct db_stmt {
	struct db	*d;
	const char	*sql;		/* identity */
	int64_t		 changes;
	int		 bind_err;	/* a bind failed: the run fails */
	/* sqlite */
	sqlite3_stmt	*lite;
	/* PostgreSQL */
	char		 name[16];	/* prepared statement name */
	char		*pgsql;		/* the SQL with $N parameters */
	int		 nparams;
	uint32_t	 used;		/* bit n-1: $n appears in pgsql */
	int		 prepared;
	char		*vals[DB_PARAMS_MAX];
	int		 lens[DB_PARAMS_MAX];
	int		 fmts[DB_PARAMS_MAX];
	PGresult	*res;
	int		 executed;
	int		 row, nrows;
	uint8_t		*blob[DB_COLS_MAX];	/* decoded bytea, this row */
	int		 bloblen[DB_COLS_MAX];
	int		 blobrow[DB_COLS_MAX];
};

struct db {
	enum db_kind	 kind;
	char		 err[DB_ERR_LEN];
	enum db_fault	 fault;
	char		 code[32];
	struct db_stmt	*cache[DB_STMT_CACHE];
	int		 ncache;
	sqlite3		*lite;
	PGconn		*pg;
	int		 busy_ms;
	int		 leader;	/* holds the leader lock */
	int		 tx;		/* PostgreSQL: we sent BEGIN, not yet
					   COMMIT or ROLLBACK */
};

void db_set_err(struct db *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* PostgreSQL halves of the db.h calls (db_pg.c). */
int pg_open(struct db *d, const char *target, char **err);
void pg_close(struct db *d);
int pg_exec(struct db *d, const char *sql);
int pg_begin_write(struct db *d);
int pg_in_tx(struct db *d);
int pg_stmt_init(struct db_stmt *st);
void pg_stmt_free(struct db_stmt *st);
int pg_bind(struct db_stmt *st, int idx, const char *v, int len, int fmt);
int pg_step(struct db_stmt *st);
const char *pg_col_text(struct db_stmt *st, int col);
const void *pg_col_blob(struct db_stmt *st, int col);
int pg_col_bytes(struct db_stmt *st, int col);
void pg_reset(struct db_stmt *st);
int pg_try_leader(struct db *d);

#endif
