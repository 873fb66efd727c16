/*
 * Copying a whole instance from one database to another (`jitd migrate`):
 * every table, row for row, in one transaction on the destination, so the
 * audit chain, its checkpoints, the ids and the order of votes and
 * certificates are those of the source.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/db.h"
#include "broker/store_int.h"
#include "common/err.h"

/* Every table and column of the current schema (migration 3). */
static const struct copy_table {
	const char	*name;
	const char	*cols;	/* as written in SQL */
	const char	*types;	/* one letter per column: i, t, b */
	const char	*ident;	/* identity column to advance, or NULL */
} tables[] = {
	{ "meta", "key, value", "tt", NULL },
	{ "users", "id, name, groups_csv, pwhash, totp_sealed, disabled, "
	    "failed, locked_until, last_totp_step, slack_id, created_at, "
	    "federated", "itttbiiiitii", "id" },
	{ "sessions", "token_hash, user_id, methods, auth_time, created_at, "
	    "expires_at, revoked, csrf", "bitiiiit", NULL },
	{ "audit", "seq, ts, actor, action, target, outcome, details, "
	    "prev_hash, hash", "iitttttbb", NULL },
	{ "audit_checkpoints", "seq, ts, hash, signature", "iibb", NULL },
	{ "requests", "id, \"user\", role, reason, ticket, duration, state, "
	    "created_at, starts_at, pending_until, approvals_required, "
	    "approvals, approved_at, grant_start, grant_end, decided_at, "
	    "break_glass, extends, review_state, reviewed_by, review_comment, "
	    "reviewed_at", "ittttit" "iiiiiiiiiii" "ttti", "id" },
	{ "votes", "rowid, request_id, approver, decision, comment, at",
	    "iittti", "rowid" },
	{ "certs", "rowid, kind, serial, request_id, \"user\", fingerprint, "
	    "subject, valid_after, valid_before, issued_at", "ittitttiii",
	    "rowid" },
	{ "outbox", "id, target, event, request_id, payload, state, "
	    "attempts, next_at, last_error, created_at, delivered_at",
	    "ittittiitii", "id" },
	{ "replay", "kind, key, expires_at", "tti", NULL },
};
#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

/* Rows in a table, or -1. */
static int64_t
count_rows(struct db *d, const char *sql)
{
	struct db_stmt *st;
	int64_t n = -1;

	if ((st = db_prepare(d, sql)) == NULL)
		return -1;
	if (db_step(st) == DB_ROW)
		n = db_col_int(st, 0);
	db_reset(st);
	return n;
}

/*
 * Copies one table.  The SQL texts are the statements' identities in the
 * connections' caches, so they live in *keep until both are closed.
 */
static int
copy_table(struct db *src, struct db *dst, const struct copy_table *t,
    char **keep, int64_t *rows, char **err)
{
	struct db_stmt *in, *out;
	size_t ncols = strlen(t->types), i, off;
	char *sel = NULL, *ins = NULL;
	int rc, r = JIT_ERR_STORE;

	*rows = 0;
	for (i = 0, off = 1; t->cols[i] != '\0'; i++)
		off += t->cols[i] == ',';
	if (off != ncols)
		return JIT_ERR_INTERNAL;	/* tables[] is inconsistent */
	if (asprintf(&sel, "SELECT %s FROM %s ORDER BY 1", t->cols,
	    t->name) == -1)
		return JIT_ERR_ALLOC;
	keep[0] = sel;
	if ((ins = malloc(strlen(t->name) + strlen(t->cols) + 3 * ncols +
	    64)) == NULL)
		return JIT_ERR_ALLOC;
	keep[1] = ins;
	off = (size_t)sprintf(ins, "INSERT INTO %s (%s) VALUES (", t->name,
	    t->cols);
	for (i = 0; i < ncols; i++)
		off += (size_t)sprintf(ins + off, "%s?", i > 0 ? ", " : "");
	strcpy(ins + off, ")");
	if ((in = db_prepare(src, sel)) == NULL ||
	    (out = db_prepare(dst, ins)) == NULL) {
		jit_set_err(err, "table %s: %s", t->name, db_errmsg(in == NULL ?
		    src : dst));
		return JIT_ERR_STORE;
	}
	while ((rc = db_step(in)) == DB_ROW) {
		db_reset(out);
		for (i = 0; i < ncols; i++) {
			int c = (int)i, p = (int)i + 1;

			if (db_col_null(in, c))
				db_bind_null(out, p);
			else if (t->types[i] == 'b')
				db_bind_blob(out, p, db_col_blob(in, c),
				    (size_t)db_col_bytes(in, c));
			else if (t->types[i] == 't')
				db_bind_text(out, p, db_col_text(in, c));
			else
				db_bind_int(out, p, db_col_int(in, c));
		}
		if (db_step(out) != DB_DONE) {
			jit_set_err(err, "table %s, row %lld: %s", t->name,
			    (long long)*rows + 1, db_errmsg(dst));
			goto out;
		}
		(*rows)++;
	}
	if (rc != DB_DONE) {
		jit_set_err(err, "reading table %s: %s", t->name, db_errmsg(src));
		goto out;
	}
	r = JIT_OK;
 out:
	db_reset(in);
	db_reset(out);
	return r;
}

/* Moves the destination's identity sequences past the copied ids. */
static int
advance_identity(struct db *dst, const struct copy_table *t)
{
	char sql[256];

	if (t->ident == NULL || db_kind(dst) != DB_PG)
		return JIT_OK;
	snprintf(sql, sizeof(sql), "SELECT setval(pg_get_serial_sequence("
	    "'%s', '%s'), (SELECT COALESCE(max(%s), 0) + 1 FROM %s), false)",
	    t->name, t->ident, t->ident, t->name);
	return db_exec(dst, sql);
}

int
store_copy(const char *from, const char *to, FILE *report, char **err)
{
	struct store *s = NULL;
	struct db *src = NULL, *dst = NULL;
	char *keep[NTABLES * 2 + NTABLES], cnt[NTABLES][96];
	int64_t rows[NTABLES], n;
	size_t i;
	int r;

	memset(keep, 0, sizeof(keep));
	/* Both schemas current: the source migrated in place, the
	 * destination created, and refused unless it is empty. */
	if ((r = store_open(from, 0, NULL, &s, err)) != JIT_OK)
		return r;
	store_close(s);
	if ((r = store_open(to, 1, NULL, &s, err)) != JIT_OK)
		return r;
	store_close(s);
	if ((r = db_open(from, DB_READONLY, 5000, &src, err)) != JIT_OK ||
	    (r = db_open(to, 0, 5000, &dst, err)) != JIT_OK)
		goto out;
	if ((n = count_rows(dst, "SELECT (SELECT count(*) FROM audit) + "
	    "(SELECT count(*) FROM users) + (SELECT count(*) FROM meta)")) !=
	    0) {
		jit_set_err(err, "the destination already holds data (%lld rows "
		    "in audit, users and meta): migrate into an empty "
		    "database", (long long)n);
		r = JIT_ERR_EXISTS;
		goto out;
	}
	r = JIT_ERR_STORE;
	if (db_begin_read(src) != JIT_OK || db_begin_write(dst) != JIT_OK) {
		jit_set_err(err, "cannot start the copy: %s / %s",
		    db_errmsg(src), db_errmsg(dst));
		goto out;
	}
	for (i = 0; i < NTABLES; i++) {
		if ((r = copy_table(src, dst, &tables[i], &keep[2 * i],
		    &rows[i], err)) != JIT_OK)
			goto rollback;
		if (advance_identity(dst, &tables[i]) != JIT_OK) {
			jit_set_err(err, "table %s: %s", tables[i].name,
			    db_errmsg(dst));
			r = JIT_ERR_STORE;
			goto rollback;
		}
	}
	/* Count again on both sides before committing. */
	for (i = 0; i < NTABLES; i++) {
		snprintf(cnt[i], sizeof(cnt[i]), "SELECT count(*) FROM %s",
		    tables[i].name);
		keep[2 * NTABLES + i] = cnt[i];
		if (count_rows(src, cnt[i]) != rows[i] ||
		    count_rows(dst, cnt[i]) != rows[i]) {
			jit_set_err(err, "table %s: row counts differ after the "
			    "copy", tables[i].name);
			r = JIT_ERR_STORE;
			goto rollback;
		}
	}
	if (db_exec(dst, "COMMIT") != JIT_OK) {
		jit_set_err(err, "commit: %s", db_errmsg(dst));
		r = JIT_ERR_STORE;
		goto rollback;
	}
	db_exec(src, "COMMIT");
	for (i = 0; i < NTABLES; i++)
		fprintf(report, "%-18s %lld rows\n", tables[i].name,
		    (long long)rows[i]);
	r = JIT_OK;
	goto out;
 rollback:
	db_exec(dst, "ROLLBACK");
	db_exec(src, "ROLLBACK");
 out:
	db_close(src);
	db_close(dst);
	for (i = 0; i < NTABLES * 2; i++)
		free(keep[i]);
	return r;
}
