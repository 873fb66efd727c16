/*
 * The PostgreSQL half of the database connection (see db.h), on libpq.
 *
 * Statements are prepared lazily on first use under a per-connection
 * name, with the store's "?"/"?N" parameters rewritten to $N.  Parameters
 * travel as text, blobs in binary format; results come back as text, with
 * bytea decoded from its hex form on demand.  A connection found broken
 * is re-established at the next statement outside a transaction (its
 * prepared statements are then prepared again).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/db_int.h"
#include "common/err.h"

static void
quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Sets the session's settings after a (re)connect. */
static int
pg_session_setup(struct db *d)
{
	char sql[384];

	PQsetNoticeProcessor(d->pg, quiet_notices, NULL);
	/* No statement of ours runs long (exports go in chunks): a minute
	 * means the server is in trouble, and the request gets a 503. */
	/*
	 * The server's keepalives find a replica whose network died while it
	 * held the write lock within about a minute (not the kernel's two
	 * hours), so the other replicas' writes do not stall behind it.
	 */
	snprintf(sql, sizeof(sql), "SET lock_timeout = %d; "
	    "SET statement_timeout = 60000; SET tcp_keepalives_idle = 30; "
	    "SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3; "
	    "SET client_min_messages = warning; SET TIME ZONE 'UTC'",
	    d->busy_ms);
	return pg_exec(d, sql);
}

int
pg_open(struct db *d, const char *target, char **err)
{
	const char *conninfo = target;

	if (strncmp(target, "postgres:", 9) == 0 &&
	    strncmp(target, "postgres://", 11) != 0)
		conninfo = target + 9;		/* "postgres:host=... " */
	{
		/*
		 * Defaults first, then the configured string, whose own
		 * settings win: bounded connects (also for PQreset in the
		 * writer) and keepalives on our side of the connection.
		 */
		static const char *const keys[] = { "connect_timeout",
		    "keepalives", "keepalives_idle", "keepalives_interval",
		    "keepalives_count", "tcp_user_timeout", "dbname", NULL };
		const char *vals[] = { "10", "1", "30", "10", "3", "60000",
		    conninfo, NULL };

		d->pg = PQconnectdbParams(keys, vals, 1);
	}
	if (d->pg == NULL || PQstatus(d->pg) != CONNECTION_OK) {
		char *shown = db_target_display(target), *nl;
		const char *m = d->pg != NULL ? PQerrorMessage(d->pg) :
		    "out of memory";

		if (err != NULL) {
			free(*err);
			if (asprintf(err, "%s: %s", shown != NULL ? shown :
			    "postgresql", m) == -1)
				*err = NULL;
			else if ((nl = strchr(*err, '\n')) != NULL)
				*nl = '\0';
		}
		free(shown);
		return JIT_ERR_STORE;
	}
	if (pg_session_setup(d) != JIT_OK) {
		if (err != NULL) {
			free(*err);
			*err = strdup(d->err);
		}
		return JIT_ERR_STORE;
	}
	return JIT_OK;
}

void
pg_close(struct db *d)
{
	if (d->pg != NULL)
		PQfinish(d->pg);
	d->pg = NULL;
}

/* The kind of failure a SQLSTATE (NULL: no answer at all) means. */
static enum db_fault
pg_fault(struct db *d, const char *state)
{
	if (state == NULL || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || PQstatus(d->pg) != CONNECTION_OK)
		return DB_FAULT_CONNECTION;
	if (strcmp(state, "53100") == 0)
		return DB_FAULT_FULL;
	if (strcmp(state, "53200") == 0)
		return DB_FAULT_NOMEM;
	if (strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "57014") == 0)
		return DB_FAULT_BUSY;
	if (strcmp(state, "25006") == 0 || strncmp(state, "42501", 5) == 0)
		return DB_FAULT_READONLY;
	if (strcmp(state, "58030") == 0)
		return DB_FAULT_IO;
	if (strncmp(state, "XX", 2) == 0)
		return DB_FAULT_CORRUPT;
	return DB_FAULT_OTHER;
}

/* Copies the error of res (or the connection) and classifies it. */
static int
pg_fail(struct db *d, PGresult *res)
{
	const char *state = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *m = res != NULL ? PQresultErrorMessage(res) : "";
	char *nl;

	if (m == NULL || *m == '\0')
		m = PQerrorMessage(d->pg);
	db_set_err(d, "%s", m != NULL && *m != '\0' ? m :
	    "PostgreSQL error");
	if ((nl = strchr(d->err, '\n')) != NULL)
		*nl = '\0';
	d->fault = pg_fault(d, state);
	snprintf(d->code, sizeof(d->code), "SQLSTATE %s",
	    state != NULL ? state : "08006");
	if (state == NULL)
		return JIT_ERR_STORE;
	if (strcmp(state, "23505") == 0)
		return JIT_ERR_EXISTS;
	if (strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "57014") == 0)
		return JIT_ERR_BUSY;
	return JIT_ERR_STORE;
}

/*
 * Re-establishes a broken connection, but never inside a transaction we
 * began: its remaining statements must fail, not run on a new connection
 * in autocommit, until the caller's ROLLBACK (or COMMIT) ends it.
 */
static int
pg_ensure(struct db *d)
{
	int i;

	if (PQstatus(d->pg) == CONNECTION_OK)
		return JIT_OK;
	if (d->tx) {
		db_set_err(d, "PostgreSQL connection lost in a transaction");
		d->fault = DB_FAULT_CONNECTION;
		snprintf(d->code, sizeof(d->code), "SQLSTATE 08006");
		return JIT_ERR_STORE;
	}
	PQreset(d->pg);
	if (PQstatus(d->pg) != CONNECTION_OK) {
		db_set_err(d, "PostgreSQL connection lost: %s",
		    PQerrorMessage(d->pg));
		d->fault = DB_FAULT_CONNECTION;
		snprintf(d->code, sizeof(d->code), "SQLSTATE 08006");
		return JIT_ERR_STORE;
	}
	for (i = 0; i < d->ncache; i++)
		d->cache[i]->prepared = 0;
	d->leader = 0;
	return pg_session_setup(d);
}

static int
pg_exec1(struct db *d, const char *sql, int retry)
{
	PGresult *res;
	int r = JIT_OK, ends, begins;

	ends = strcmp(sql, "COMMIT") == 0 || strcmp(sql, "ROLLBACK") == 0;
	if (pg_ensure(d) != JIT_OK) {
		if (ends)
			d->tx = 0;
		return JIT_ERR_STORE;
	}
	begins = strncmp(sql, "BEGIN", 5) == 0 && !d->tx;
	if (begins)
		d->tx = 1;
	res = PQexec(d->pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		r = pg_fail(d, res);
	else if (strcmp(sql, "COMMIT") == 0 &&
	    strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		/* COMMIT of a failed transaction rolls it back, "successfully". */
		db_set_err(d, "the transaction had failed and was rolled back");
		d->fault = DB_FAULT_OTHER;
		snprintf(d->code, sizeof(d->code), "SQLSTATE 25P02");
		r = JIT_ERR_STORE;
	}
	PQclear(res);
	if (ends || (r != JIT_OK && PQtransactionStatus(d->pg) ==
	    PQTRANS_IDLE))
		d->tx = 0;
	/*
	 * A connection that died while idle is found out by the next BEGIN:
	 * nothing had started, so reconnect and begin once more.
	 */
	if (r != JIT_OK && begins && retry && PQstatus(d->pg) !=
	    CONNECTION_OK) {
		d->tx = 0;
		return pg_exec1(d, sql, 0);
	}
	return r;
}

int
pg_exec(struct db *d, const char *sql)
{
	return pg_exec1(d, sql, 1);
}

int
pg_begin_write(struct db *d)
{
	char sql[128];

	/*
	 * READ COMMITTED whatever default_transaction_isolation says: each
	 * statement after the lock then sees what the previous holder
	 * committed (the audit head above all).  Under REPEATABLE READ the
	 * snapshot would be the one taken before the lock was granted.
	 */
	snprintf(sql, sizeof(sql), "BEGIN ISOLATION LEVEL READ COMMITTED; "
	    "SELECT pg_advisory_xact_lock(%d, %d)", DB_LOCK_CLASS,
	    DB_LOCK_WRITE);
	if (pg_exec(d, sql) != JIT_OK) {
		pg_exec(d, "ROLLBACK");
		return JIT_ERR_STORE;
	}
	return JIT_OK;
}

int
pg_in_tx(struct db *d)
{
	PGTransactionStatusType t = PQtransactionStatus(d->pg);

	/* A lost connection (UNKNOWN) still counts while our BEGIN stands. */
	return d->tx || t == PQTRANS_INTRANS || t == PQTRANS_INERROR ||
	    t == PQTRANS_ACTIVE;
}

/* Rewrites ?N and ? to $N outside quoted strings and identifiers. */
int
pg_stmt_init(struct db_stmt *st)
{
	const char *p = st->sql;
	size_t len = strlen(p);
	char *o, quote = 0;
	int max = 0, n;

	/* Each "?" grows to at most "$32": 3 bytes. */
	if ((o = st->pgsql = malloc(len * 3 + 1)) == NULL)
		return JIT_ERR_ALLOC;
	for (; *p != '\0'; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
			*o++ = *p;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			*o++ = *p;
			continue;
		}
		if (*p != '?') {
			*o++ = *p;
			continue;
		}
		if (isdigit((unsigned char)p[1])) {
			n = (int)strtol(p + 1, NULL, 10);
			while (isdigit((unsigned char)p[1]))
				p++;
		} else
			n = max + 1;
		if (n < 1 || n > DB_PARAMS_MAX) {
			db_set_err(st->d, "too many SQL parameters");
			return JIT_ERR_LIMIT;
		}
		if (n > max)
			max = n;
		st->used |= 1u << (n - 1);
		o += sprintf(o, "$%d", n);
	}
	*o = '\0';
	st->nparams = max;
	return JIT_OK;
}

void
pg_reset(struct db_stmt *st)
{
	int i;

	if (st->res != NULL)
		PQclear(st->res);
	st->res = NULL;
	st->executed = 0;
	st->row = st->nrows = 0;
	for (i = 0; i < DB_PARAMS_MAX; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
		st->lens[i] = 0;
		st->fmts[i] = 0;
	}
	for (i = 0; i < DB_COLS_MAX; i++) {
		free(st->blob[i]);
		st->blob[i] = NULL;
		st->blobrow[i] = -1;
	}
}

void
pg_stmt_free(struct db_stmt *st)
{
	if (st->d == NULL || st->d->kind != DB_PG)
		return;
	pg_reset(st);
	free(st->pgsql);
	st->pgsql = NULL;
}

int
pg_bind(struct db_stmt *st, int idx, const char *v, int len, int fmt)
{
	char *copy = NULL;
	size_t n;

	if (idx < 1 || idx > st->nparams)
		return JIT_ERR_INVALID_ARG;
	/* An empty blob is empty, not null (as sqlite binds it). */
	if (v == NULL && fmt == 1)
		v = "";
	if (v != NULL) {
		n = len < 0 ? strlen(v) : (size_t)len;
		if ((copy = malloc(n + 1)) == NULL)
			return JIT_ERR_ALLOC;
		memcpy(copy, v, n);
		copy[n] = '\0';
		len = (int)n;
	}
	free(st->vals[idx - 1]);
	st->vals[idx - 1] = copy;
	st->lens[idx - 1] = len;
	st->fmts[idx - 1] = fmt;
	return JIT_OK;
}

static int pg_run(struct db_stmt *st);

int
pg_step(struct db_stmt *st)
{
	struct db *d = st->d;
	int r;

	if (st->executed) {
		if (st->res == NULL || ++st->row >= st->nrows)
			return DB_DONE;
		return DB_ROW;
	}
	st->executed = 1;
	if (pg_ensure(d) != JIT_OK)
		return JIT_ERR_STORE;
	if ((r = pg_run(st)) != JIT_ERR_STORE || d->tx ||
	    PQstatus(d->pg) == CONNECTION_OK)
		return r;
	/*
	 * The connection died while idle (a server restart, a failover):
	 * outside a transaction nothing was done, so run it again on a new
	 * connection once.
	 */
	if (pg_ensure(d) != JIT_OK)
		return JIT_ERR_STORE;
	return pg_run(st);
}

/* Prepares (if needed) and executes st; the first row, if any, is next. */
static int
pg_run(struct db_stmt *st)
{
	struct db *d = st->d;
	PGresult *res;
	ExecStatusType t;

	if (!st->prepared) {
		Oid types[DB_PARAMS_MAX];
		int i;

		/*
		 * A parameter the SQL never names (an UPDATE that binds a
		 * whole row but sets a few columns) has no type to infer:
		 * declare it text.  The others are inferred from context.
		 */
		for (i = 0; i < st->nparams; i++)
			types[i] = (st->used & (1u << i)) ? 0 : 25 /* TEXTOID */;
		res = PQprepare(d->pg, st->name, st->pgsql, st->nparams, types);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			int r = pg_fail(d, res);

			PQclear(res);
			return r;
		}
		PQclear(res);
		st->prepared = 1;
	}
	res = PQexecPrepared(d->pg, st->name, st->nparams,
	    (const char *const *)st->vals, st->lens, st->fmts, 0);
	t = PQresultStatus(res);
	if (t != PGRES_TUPLES_OK && t != PGRES_COMMAND_OK) {
		int r = pg_fail(d, res);

		PQclear(res);
		return r;
	}
	st->changes = strtoll(PQcmdTuples(res), NULL, 10);
	if (t == PGRES_COMMAND_OK || PQntuples(res) == 0) {
		PQclear(res);
		return DB_DONE;
	}
	st->res = res;
	st->nrows = PQntuples(res);
	st->row = 0;
	return DB_ROW;
}

const char *
pg_col_text(struct db_stmt *st, int col)
{
	if (st->res == NULL || st->row >= st->nrows || col < 0 ||
	    col >= PQnfields(st->res) || PQgetisnull(st->res, st->row, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes column col of the current row from bytea's hex output. */
static int
pg_decode(struct db_stmt *st, int col)
{
	const char *t;
	size_t n, i;
	int hi, lo;

	if (col < 0 || col >= DB_COLS_MAX)
		return -1;
	if (st->blobrow[col] == st->row && st->blob[col] != NULL)
		return 0;
	free(st->blob[col]);
	st->blob[col] = NULL;
	st->bloblen[col] = 0;
	if ((t = pg_col_text(st, col)) == NULL)
		return -1;
	n = strlen(t);
	if (n < 2 || t[0] != '\\' || t[1] != 'x' || (n & 1) != 0 ||
	    n / 2 > INT32_MAX)
		return -1;
	if ((st->blob[col] = malloc(n / 2 + 1)) == NULL)
		return -1;
	for (i = 2; i < n; i += 2) {
		if ((hi = hexval(t[i])) < 0 || (lo = hexval(t[i + 1])) < 0) {
			free(st->blob[col]);
			st->blob[col] = NULL;
			return -1;
		}
		st->blob[col][(i - 2) / 2] = (uint8_t)(hi << 4 | lo);
	}
	st->bloblen[col] = (int)(n / 2 - 1);
	st->blobrow[col] = st->row;
	return 0;
}

const void *
pg_col_blob(struct db_stmt *st, int col)
{
	if (pg_decode(st, col) != 0)
		return NULL;
	return st->blob[col];
}

int
pg_col_bytes(struct db_stmt *st, int col)
{
	const char *t;

	if (PQftype(st->res, col) != 17 /* BYTEAOID */) {
		t = pg_col_text(st, col);
		return t != NULL ? (int)strlen(t) : 0;
	}
	if (pg_decode(st, col) != 0)
		return 0;
	return st->bloblen[col];
}

int
pg_try_leader(struct db *d)
{
	char sql[96];
	PGresult *res;
	int r;

	if (d->leader && PQstatus(d->pg) == CONNECTION_OK) {
		/* Still connected: the session lock is still ours. */
		res = PQexec(d->pg, "SELECT 1");
		r = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
		if (r)
			return 1;
		d->leader = 0;
	}
	if (pg_ensure(d) != JIT_OK)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%d, %d)",
	    DB_LOCK_CLASS, DB_LOCK_LEADER);
	res = PQexec(d->pg, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pg_fail(d, res);
		PQclear(res);
		return -1;
	}
	d->leader = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return d->leader;
}
