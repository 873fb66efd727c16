/*
 * The database connection (see db.h): the engine-neutral calls and their
 * sqlite3 half.  The PostgreSQL half is db_pg.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/db_int.h"
#include "common/err.h"

void
db_set_err(struct db *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
}

enum db_kind
db_target_kind(const char *target)
{
	if (strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0 ||
	    strncmp(target, "postgres:", 9) == 0)
		return DB_PG;
	return DB_SQLITE;
}

char *
db_target_display(const char *target)
{
	const char *auth, *end, *at, *colon;
	char *out;
	size_t n;

	if (db_target_kind(target) != DB_PG)
		return strdup(target);
	/*
	 * A keyword/value string, or a URI whose query may hold a password
	 * (libpq also decodes %-escapes in keywords): show none of it.
	 */
	if (strncmp(target, "postgres:", 9) == 0 &&
	    strncmp(target, "postgres://", 11) != 0)
		return strdup(strstr(target, "password") != NULL ?
		    "postgres:(conninfo with a password)" : target);
	if ((auth = strstr(target, "://")) == NULL)
		return strdup("postgresql:(unparsable URI)");
	auth += 3;
	/*
	 * scheme://[user[:password]@]host[:port][/db][?options], the
	 * credentials found as libpq finds them: up to the first '@' that
	 * comes before any '/'.
	 */
	at = auth + strcspn(auth, "@/");
	n = (size_t)(auth - target);
	if ((out = malloc(strlen(target) + 32)) == NULL)
		return NULL;
	memcpy(out, target, n);
	if (*at == '@') {
		colon = memchr(auth, ':', (size_t)(at - auth));
		memcpy(out + n, auth, (size_t)((colon != NULL ? colon : at) -
		    auth));
		n += (size_t)((colon != NULL ? colon : at) - auth);
		auth = at;
	}
	/* The rest, but not a query that may hold a password. */
	end = auth + strcspn(auth, "?");
	if (*end == '\0' || (strstr(end, "password") == NULL &&
	    strchr(end, '%') == NULL))
		end += strlen(end);
	memcpy(out + n, auth, (size_t)(end - auth));
	n += (size_t)(end - auth);
	out[n] = '\0';
	if (*end != '\0')
		strcat(out, "?(options hidden)");
	return out;
}

/* sqlite's name for a result code, and the kind of failure it is. */
static const char *
lite_code(int rc, enum db_fault *fault)
{
	static const struct {
		int		 rc;
		const char	*name;
		enum db_fault	 fault;
	} codes[] = {
		{ SQLITE_FULL, "SQLITE_FULL", DB_FAULT_FULL },
		{ SQLITE_BUSY, "SQLITE_BUSY", DB_FAULT_BUSY },
		{ SQLITE_LOCKED, "SQLITE_LOCKED", DB_FAULT_BUSY },
		{ SQLITE_READONLY, "SQLITE_READONLY", DB_FAULT_READONLY },
		{ SQLITE_PERM, "SQLITE_PERM", DB_FAULT_READONLY },
		{ SQLITE_CANTOPEN, "SQLITE_CANTOPEN", DB_FAULT_READONLY },
		{ SQLITE_CORRUPT, "SQLITE_CORRUPT", DB_FAULT_CORRUPT },
		{ SQLITE_NOTADB, "SQLITE_NOTADB", DB_FAULT_CORRUPT },
		{ SQLITE_NOMEM, "SQLITE_NOMEM", DB_FAULT_NOMEM },
		{ SQLITE_IOERR, "SQLITE_IOERR", DB_FAULT_IO },
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if ((rc & 0xff) == codes[i].rc) {
			*fault = codes[i].fault;
			return codes[i].name;
		}
	}
	*fault = DB_FAULT_OTHER;
	return "SQLITE_ERROR";
}

static int
lite_rc(struct db *d, int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
		return DB_DONE;
	case SQLITE_ROW:
		return DB_ROW;
	}
	db_set_err(d, "%s", sqlite3_errmsg(d->lite));
	snprintf(d->code, sizeof(d->code), "%s", lite_code(rc, &d->fault));
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return JIT_ERR_EXISTS;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return JIT_ERR_BUSY;
	return JIT_ERR_STORE;
}

static int
lite_open(struct db *d, const char *path, int flags, char **err)
{
	struct stat sb;
	int fd, oflags;

	if (stat(path, &sb) == -1) {
		if (errno != ENOENT || !(flags & DB_CREATE)) {
			jit_set_err(err, "%s: %s", path, strerror(errno));
			return errno == ENOENT ? JIT_ERR_NOT_FOUND :
			    JIT_ERR_STORE;
		}
		/* Create it private; sqlite's -wal and -shm copy its mode. */
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
		    0600)) == -1) {
			jit_set_err(err, "%s: %s", path, strerror(errno));
			return JIT_ERR_STORE;
		}
		close(fd);
	}
	/* The store's SQL uses RETURNING and ON CONFLICT without a target. */
	if (sqlite3_libversion_number() < 3035000) {
		jit_set_err(err, "%s: sqlite %s is too old: jitd needs 3.35 or "
		    "later", path, sqlite3_libversion());
		return JIT_ERR_STORE;
	}
	oflags = (flags & DB_READONLY) ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &d->lite, oflags | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		jit_set_err(err, "%s: %s", path, d->lite != NULL ?
		    sqlite3_errmsg(d->lite) : "cannot open");
		return JIT_ERR_STORE;
	}
	sqlite3_busy_timeout(d->lite, d->busy_ms);
	sqlite3_extended_result_codes(d->lite, 1);
	return JIT_OK;
}

int
db_open(const char *target, int flags, int busy_ms, struct db **out,
    char **err)
{
	struct db *d;
	int r;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return JIT_ERR_ALLOC;
	d->kind = db_target_kind(target);
	d->busy_ms = busy_ms > 0 ? busy_ms : 5000;
	r = d->kind == DB_PG ? pg_open(d, target, err) :
	    lite_open(d, target, flags, err);
	if (r != JIT_OK) {
		db_close(d);
		return r;
	}
	*out = d;
	return JIT_OK;
}

static void
stmt_free(struct db_stmt *st)
{
	if (st == NULL)
		return;
	if (st->lite != NULL)
		sqlite3_finalize(st->lite);
	pg_stmt_free(st);
	free(st);
}

void
db_close(struct db *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < d->ncache; i++)
		stmt_free(d->cache[i]);
	if (d->lite != NULL)
		sqlite3_close(d->lite);
	pg_close(d);
	free(d);
}

enum db_kind
db_kind(const struct db *d)
{
	return d->kind;
}

const char *
db_errmsg(struct db *d)
{
	if (d->err[0] == '\0' && d->lite != NULL)
		return sqlite3_errmsg(d->lite);
	return d->err[0] != '\0' ? d->err : "unknown database error";
}

enum db_fault
db_fault(struct db *d)
{
	return d->fault;
}

const char *
db_fault_code(struct db *d)
{
	return d->code;
}

static void
clear_fault(struct db *d)
{
	d->fault = DB_FAULT_NONE;
	d->code[0] = '\0';
}

int
db_exec(struct db *d, const char *sql)
{
	char *msg = NULL;
	int rc;

	clear_fault(d);
	if (d->kind == DB_PG)
		return pg_exec(d, sql);
	if ((rc = sqlite3_exec(d->lite, sql, NULL, NULL, &msg)) != SQLITE_OK) {
		lite_rc(d, rc);
		if (msg != NULL)
			db_set_err(d, "%s", msg);
		sqlite3_free(msg);
		return JIT_ERR_STORE;
	}
	return JIT_OK;
}

int
db_begin_write(struct db *d)
{
	if (d->kind == DB_PG)
		return pg_begin_write(d);
	return db_exec(d, "BEGIN IMMEDIATE");
}

int
db_begin_read(struct db *d)
{
	return db_exec(d, d->kind == DB_PG ?
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
}

int
db_in_tx(struct db *d)
{
	if (d->kind == DB_PG)
		return pg_in_tx(d);
	return !sqlite3_get_autocommit(d->lite);
}

struct db_stmt *
db_prepare(struct db *d, const char *sql)
{
	struct db_stmt *st;
	int i;

	for (i = 0; i < d->ncache; i++) {
		if (d->cache[i]->sql == sql) {
			db_reset(d->cache[i]);
			d->cache[i]->changes = 0;
			return d->cache[i];
		}
	}
	/* More distinct SQL than slots is a programming error. */
	if (d->ncache >= DB_STMT_CACHE)
		abort();
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->d = d;
	st->sql = sql;
	if (d->kind == DB_PG) {
		snprintf(st->name, sizeof(st->name), "j%d", d->ncache);
		if (pg_stmt_init(st) != JIT_OK) {
			stmt_free(st);
			return NULL;
		}
	} else if (lite_rc(d, sqlite3_prepare_v3(d->lite, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &st->lite, NULL)) != DB_DONE) {
		stmt_free(st);
		return NULL;
	}
	d->cache[d->ncache++] = st;
	return st;
}

/* A failed bind (no memory) must not leave a filter NULL: fail the run. */
static int
bound(struct db_stmt *st, int r)
{
	if (r != JIT_OK)
		st->bind_err = r;
	return r;
}

int
db_bind_int(struct db_stmt *st, int idx, int64_t v)
{
	char num[24];

	if (st->d->kind == DB_PG) {
		snprintf(num, sizeof(num), "%" PRId64, v);
		return bound(st, pg_bind(st, idx, num, -1, 0));
	}
	return bound(st, sqlite3_bind_int64(st->lite, idx, v) == SQLITE_OK ?
	    JIT_OK : JIT_ERR_STORE);
}

int
db_bind_text(struct db_stmt *st, int idx, const char *s)
{
	if (s == NULL)
		return db_bind_null(st, idx);
	if (st->d->kind == DB_PG)
		return bound(st, pg_bind(st, idx, s, -1, 0));
	return bound(st, sqlite3_bind_text(st->lite, idx, s, -1,
	    SQLITE_TRANSIENT) == SQLITE_OK ? JIT_OK : JIT_ERR_STORE);
}

int
db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n)
{
	if (n > INT32_MAX)
		return bound(st, JIT_ERR_LIMIT);
	if (st->d->kind == DB_PG)
		return bound(st, pg_bind(st, idx, p, (int)n, 1));
	return bound(st, sqlite3_bind_blob(st->lite, idx, n == 0 ? "" : p,
	    (int)n, SQLITE_TRANSIENT) == SQLITE_OK ? JIT_OK : JIT_ERR_STORE);
}

int
db_bind_null(struct db_stmt *st, int idx)
{
	if (st->d->kind == DB_PG)
		return bound(st, pg_bind(st, idx, NULL, 0, 0));
	return bound(st, sqlite3_bind_null(st->lite, idx) == SQLITE_OK ?
	    JIT_OK : JIT_ERR_STORE);
}

int
db_step(struct db_stmt *st)
{
	int r;

	clear_fault(st->d);
	if (st->bind_err != 0) {
		db_set_err(st->d, "a parameter could not be bound: %s",
		    jit_strerror(st->bind_err));
		return st->bind_err;
	}
	if (st->d->kind == DB_PG)
		return pg_step(st);
	st->d->err[0] = '\0';
	r = lite_rc(st->d, sqlite3_step(st->lite));
	if (r == DB_DONE)
		st->changes = sqlite3_changes(st->d->lite);
	return r;
}

int
db_col_null(struct db_stmt *st, int col)
{
	if (st->d->kind == DB_PG)
		return pg_col_text(st, col) == NULL;
	return sqlite3_column_type(st->lite, col) == SQLITE_NULL;
}

int64_t
db_col_int(struct db_stmt *st, int col)
{
	const char *t;

	if (st->d->kind == DB_PG) {
		if ((t = pg_col_text(st, col)) == NULL)
			return 0;
		return strtoll(t, NULL, 10);
	}
	return sqlite3_column_int64(st->lite, col);
}

const char *
db_col_text(struct db_stmt *st, int col)
{
	if (st->d->kind == DB_PG)
		return pg_col_text(st, col);
	return (const char *)sqlite3_column_text(st->lite, col);
}

const void *
db_col_blob(struct db_stmt *st, int col)
{
	if (st->d->kind == DB_PG)
		return pg_col_blob(st, col);
	return sqlite3_column_blob(st->lite, col);
}

int
db_col_bytes(struct db_stmt *st, int col)
{
	if (st->d->kind == DB_PG)
		return pg_col_bytes(st, col);
	return sqlite3_column_bytes(st->lite, col);
}

int64_t
db_changes(struct db_stmt *st)
{
	return st->changes;
}

void
db_reset(struct db_stmt *st)
{
	st->bind_err = 0;
	if (st->d->kind == DB_PG) {
		pg_reset(st);
		return;
	}
	sqlite3_reset(st->lite);
	sqlite3_clear_bindings(st->lite);
}

int
db_try_leader(struct db *d)
{
	return d->kind == DB_PG ? pg_try_leader(d) : 1;
}

int
db_lock_schema(struct db *d, int take)
{
	char sql[96];

	if (d->kind != DB_PG)
		return JIT_OK;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_%s(%d, %d)",
	    take ? "lock" : "unlock", DB_LOCK_CLASS, DB_LOCK_MIGRATE);
	return db_exec(d, sql);
}
