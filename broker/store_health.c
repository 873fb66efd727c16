/*
 * Write health of the store: the writer reports each batch's outcome, and
 * an operator gets one clear line when writes start failing (naming the
 * cause: disk full, another process's lock, an I/O error) and one when
 * they work again, not one per refused request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/store_int.h"

const char *
store_fault_hint(int fault)
{
	switch (fault) {
	case DB_FAULT_FULL:
		return "the filesystem holding the database is full: free "
		    "space there";
	case DB_FAULT_BUSY:
		return "another process holds a lock on the database";
	case DB_FAULT_IO:
		return "the disk or filesystem reported an I/O error";
	case DB_FAULT_READONLY:
		return "the database or its directory is not writable";
	case DB_FAULT_CORRUPT:
		return "the file is damaged or not a jitd database: restore it "
		    "from a backup";
	case DB_FAULT_CONNECTION:
		return "the PostgreSQL server cannot be reached";
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
store_health_batch(struct store *s, int fault)
{
	char msg[768], *shown;
	const char *hint;

	if (fault == s->health_rc) {
		if (fault != 0)
			s->health_fails++;
		return;
	}
	shown = db_target_display(s->path);
	if (fault != 0) {
		hint = store_fault_hint(fault);
		snprintf(msg, sizeof(msg), "database write failed on %s: %s "
		    "(%s)%s%s%s; nothing was committed, and writes answer 503 "
		    "until the database works again", shown != NULL ? shown :
		    "the database", s->health_msg, s->health_code,
		    *hint != '\0' ? ": " : "", hint,
		    fault == DB_FAULT_BUSY ? " for longer than "
		    "database_busy_timeout_ms" : "");
		s->health_fails = 1;
	} else {
		snprintf(msg, sizeof(msg), "database writes work again on %s "
		    "after %lu failed write batches", shown != NULL ? shown :
		    "the database", s->health_fails);
		s->health_fails = 0;
	}
	free(shown);
	s->health_rc = fault;
	health_log(s, msg);
}
