/*
 * Write health of the store: the writer reports each batch's outcome, and
 * an operator gets one clear line when writes start failing (naming the
 * cause: disk full, another process's lock, an I/O error) and one when
 * they work again, not one per refused request.
 */
#include <stdio.h>

#include <sqlite3.h>

#include "broker/store_int.h"

const char *
store_code_name(int rc)
{
	switch (rc) {
	case SQLITE_FULL:
		return "SQLITE_FULL";
	case SQLITE_BUSY:
	case SQLITE_BUSY_SNAPSHOT:
	case SQLITE_BUSY_RECOVERY:
		return "SQLITE_BUSY";
	case SQLITE_LOCKED:
		return "SQLITE_LOCKED";
	case SQLITE_READONLY:
		return "SQLITE_READONLY";
	case SQLITE_CORRUPT:
		return "SQLITE_CORRUPT";
	case SQLITE_NOTADB:
		return "SQLITE_NOTADB";
	case SQLITE_CANTOPEN:
		return "SQLITE_CANTOPEN";
	case SQLITE_NOMEM:
		return "SQLITE_NOMEM";
	case SQLITE_PERM:
		return "SQLITE_PERM";
	case SQLITE_IOERR:
		return "SQLITE_IOERR";
	default:
		break;
	}
	switch (rc & 0xff) {
	case SQLITE_IOERR:
		return "SQLITE_IOERR";
	case SQLITE_READONLY:
		return "SQLITE_READONLY";
	case SQLITE_CORRUPT:
		return "SQLITE_CORRUPT";
	case SQLITE_CANTOPEN:
		return "SQLITE_CANTOPEN";
	case SQLITE_BUSY:
		return "SQLITE_BUSY";
	default:
		return "SQLITE_ERROR";
	}
}

const char *
store_code_hint(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return "the filesystem holding the database is full: free "
		    "space there";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "another process holds a lock on the database";
	case SQLITE_IOERR:
		return "the disk or filesystem reported an I/O error";
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		return "the database or its directory is not writable";
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return "the file is damaged or not a jitd database: restore it "
		    "from a backup";
	default:
		return "";
	}
}

static void
health_log(struct store *s, const char *msg)
{
	if (s->opts.on_log != NULL)
		s->opts.on_log(s->opts.on_log_arg, msg);
	else
		fprintf(stderr, "jitd: store: %s\n", msg);
}

void
store_health_batch(struct store *s, int rc)
{
	char msg[512];
	const char *hint;

	if (rc == s->health_rc) {
		if (rc != 0)
			s->health_fails++;
		return;
	}
	if (rc != 0) {
		hint = store_code_hint(rc);
		snprintf(msg, sizeof(msg), "database write failed on %s: %s "
		    "(%s)%s%s%s; nothing was committed, and writes answer 503 "
		    "until the database works again", s->path,
		    sqlite3_errstr(rc), store_code_name(rc),
		    *hint != '\0' ? ": " : "", hint,
		    (rc & 0xff) == SQLITE_BUSY ? " for longer than "
		    "database_busy_timeout_ms" : "");
		s->health_fails = 1;
	} else {
		snprintf(msg, sizeof(msg), "database writes work again on %s "
		    "after %lu failed write batches", s->path,
		    s->health_fails);
		s->health_fails = 0;
	}
	s->health_rc = rc;
	health_log(s, msg);
}
