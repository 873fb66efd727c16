/*
 * The audit log in the store: appending events to the hash chain inside a
 * job's transaction, signed checkpoints, queries with keyset pagination,
 * and the ordered export.  Hashing and signing are audit_chain.h's.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "broker/store_int.h"
#include "common/err.h"

#define AUDIT_FIELD_MAX	1024	/* actor, action, target, outcome */

static const char SQL_HEAD[] =
    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
static const char SQL_LAST_CP[] =
    "SELECT seq, ts FROM audit_checkpoints ORDER BY seq DESC LIMIT 1";
static const char SQL_INSERT[] =
    "INSERT INTO audit (seq, ts, actor, action, target, outcome, details, "
    "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_INSERT_CP[] =
    "INSERT OR REPLACE INTO audit_checkpoints (seq, ts, hash, signature) "
    "VALUES (?, ?, ?, ?)";
static const char SQL_QUERY[] =
    "SELECT seq, ts, actor, action, target, outcome, details, prev_hash, "
    "hash FROM audit WHERE seq > ?1 "
    "AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3) "
    "AND (?4 IS NULL OR target = ?4) AND (?5 = 0 OR ts >= ?5) "
    "AND (?6 = 0 OR ts < ?6) ORDER BY seq LIMIT ?7";
static const char SQL_EXPORT[] =
    "SELECT a.seq, a.ts, a.actor, a.action, a.target, a.outcome, a.details, "
    "a.prev_hash, a.hash, c.ts, c.hash, c.signature FROM audit a "
    "LEFT JOIN audit_checkpoints c ON c.seq = a.seq WHERE a.seq > ?1 "
    "ORDER BY a.seq LIMIT ?2";
static const char SQL_ORPHAN_CP[] =
    "SELECT seq, ts, hash, signature FROM audit_checkpoints WHERE seq > ?1 "
    "AND seq NOT IN (SELECT seq FROM audit WHERE seq > ?1) ORDER BY seq";

int
store_audit_load_head(struct store *s)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = conn_stmt(&s->wconn, SQL_HEAD)) == NULL)
		return JIT_ERR_STORE;
	s->head_seq = 0;
	memset(s->head_hash, 0, sizeof(s->head_hash));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != 32) {
			sqlite3_reset(st);
			return JIT_ERR_STORE;
		}
		s->head_seq = (uint64_t)sqlite3_column_int64(st, 0);
		memcpy(s->head_hash, sqlite3_column_blob(st, 1), 32);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(&s->wconn, SQL_LAST_CP)) == NULL)
		return JIT_ERR_STORE;
	s->cp_seq = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s->cp_seq = (uint64_t)sqlite3_column_int64(st, 0);
		s->cp_time = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? JIT_OK : JIT_ERR_STORE;
}

int
store_audit_write_checkpoint(struct store *s, int64_t now)
{
	struct audit_checkpoint cp;
	sqlite3_stmt *st;
	int rc;

	memset(&cp, 0, sizeof(cp));
	cp.seq = s->head_seq;
	cp.ts = now;
	memcpy(cp.hash, s->head_hash, 32);
	if (audit_checkpoint_sign(&cp, s->audit_sk) != JIT_OK)
		return JIT_ERR_CRYPTO;
	if ((st = conn_stmt(&s->wconn, SQL_INSERT_CP)) == NULL)
		return JIT_ERR_STORE;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cp.seq);
	sqlite3_bind_int64(st, 2, cp.ts);
	sqlite3_bind_blob(st, 3, cp.hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, cp.sig, 64, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return JIT_ERR_STORE;
	s->cp_seq = cp.seq;
	s->cp_time = now;
	return JIT_OK;
}

static int
field_ok(const char *s)
{
	return s != NULL && strnlen(s, AUDIT_FIELD_MAX + 1) <= AUDIT_FIELD_MAX;
}

int
store_tx_audit(struct store_tx *tx, const char *actor, const char *action,
    const char *target, const char *outcome, json_t *details)
{
	struct store *s = tx->s;
	struct pending_event *p = NULL;
	sqlite3_stmt *st;
	char *dj = NULL;
	int r = JIT_ERR_INTERNAL, rc;

	if (!field_ok(actor) || !field_ok(action) || !field_ok(target) ||
	    !field_ok(outcome))
		return JIT_ERR_LIMIT;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->actor = strdup(actor)) == NULL ||
	    (p->action = strdup(action)) == NULL ||
	    (p->target = strdup(target)) == NULL ||
	    (p->outcome = strdup(outcome)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	p->ev.details = details != NULL ? json_deep_copy(details) :
	    json_object();
	if (p->ev.details == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	p->ev.seq = s->head_seq + 1;
	p->ev.ts = tx->now;
	p->ev.actor = p->actor;
	p->ev.action = p->action;
	p->ev.target = p->target;
	p->ev.outcome = p->outcome;
	if ((r = audit_event_seal(&p->ev, s->head_hash)) != JIT_OK)
		goto out;
	if ((dj = json_dumps(p->ev.details, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((st = conn_stmt(tx->c, SQL_INSERT)) == NULL) {
		r = JIT_ERR_STORE;
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)p->ev.seq);
	sqlite3_bind_int64(st, 2, p->ev.ts);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, dj, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, p->ev.prev_hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, p->ev.hash, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		r = JIT_ERR_STORE;
		goto out;
	}
	s->head_seq = p->ev.seq;
	memcpy(s->head_hash, p->ev.hash, 32);
	*tx->tail = p;
	tx->tail = &p->next;
	p = NULL;
	r = JIT_OK;
 out:
	free(dj);
	pending_free(p);
	return r;
}

/* Fills ev from a row (columns 0..8); strings point into the statement. */
static int
row_event(sqlite3_stmt *st, struct audit_event *ev)
{
	json_error_t jerr;
	const char *d;

	memset(ev, 0, sizeof(*ev));
	ev->seq = (uint64_t)sqlite3_column_int64(st, 0);
	ev->ts = sqlite3_column_int64(st, 1);
	ev->actor = (const char *)sqlite3_column_text(st, 2);
	ev->action = (const char *)sqlite3_column_text(st, 3);
	ev->target = (const char *)sqlite3_column_text(st, 4);
	ev->outcome = (const char *)sqlite3_column_text(st, 5);
	d = (const char *)sqlite3_column_text(st, 6);
	if (ev->actor == NULL || ev->action == NULL || ev->target == NULL ||
	    ev->outcome == NULL || d == NULL)
		return JIT_ERR_STORE;
	/*
	 * A row whose details no longer parse (tampering) still yields an
	 * event: its details become a string, so its hash will not verify.
	 */
	if ((ev->details = json_loads(d, JSON_REJECT_DUPLICATES, &jerr)) == NULL &&
	    (ev->details = json_string(d)) == NULL)
		ev->details = json_null();
	if (sqlite3_column_bytes(st, 7) == 32)
		memcpy(ev->prev_hash, sqlite3_column_blob(st, 7), 32);
	if (sqlite3_column_bytes(st, 8) == 32)
		memcpy(ev->hash, sqlite3_column_blob(st, 8), 32);
	return JIT_OK;
}

int
store_audit_query(struct store *s, const struct store_audit_filter *f,
    int (*cb)(void *, const struct audit_event *), void *arg)
{
	struct audit_event ev;
	struct conn *c;
	sqlite3_stmt *st;
	int r = JIT_OK, rc;

	if (f->limit == 0 || f->limit > 1000)
		return JIT_ERR_INVALID_ARG;
	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_QUERY)) == NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->after);
	if (f->actor != NULL)
		sqlite3_bind_text(st, 2, f->actor, -1, SQLITE_STATIC);
	if (f->action != NULL)
		sqlite3_bind_text(st, 3, f->action, -1, SQLITE_STATIC);
	if (f->target != NULL)
		sqlite3_bind_text(st, 4, f->target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, f->since);
	sqlite3_bind_int64(st, 6, f->until);
	sqlite3_bind_int(st, 7, (int)f->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = row_event(st, &ev)) != JIT_OK)
			break;
		r = cb(arg, &ev);
		json_decref(ev.details);
		if (r != JIT_OK)
			break;
	}
	if (r == JIT_OK && rc != SQLITE_DONE)
		r = JIT_ERR_STORE;
	sqlite3_reset(st);
	store_rconn_put(s, c);
	return r;
}

static int
row_checkpoint(sqlite3_stmt *st, int c0, uint64_t seq,
    struct audit_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->seq = seq;
	cp->ts = sqlite3_column_int64(st, c0);
	if (sqlite3_column_bytes(st, c0 + 1) != 32 ||
	    sqlite3_column_bytes(st, c0 + 2) != 64)
		return JIT_ERR_STORE;
	memcpy(cp->hash, sqlite3_column_blob(st, c0 + 1), 32);
	memcpy(cp->sig, sqlite3_column_blob(st, c0 + 2), 64);
	return JIT_OK;
}

int
store_audit_export(struct store *s, uint64_t after, uint64_t limit,
    int (*cb)(void *, const struct audit_event *,
    const struct audit_checkpoint *), void *arg)
{
	struct audit_event ev;
	struct audit_checkpoint cp;
	struct conn *c;
	sqlite3_stmt *st;
	int r = JIT_OK, rc;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	/* One read transaction so the stream is a consistent snapshot. */
	if (sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	if ((st = conn_stmt(c, SQL_EXPORT)) == NULL) {
		r = JIT_ERR_STORE;
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 2, limit == 0 ? -1 : (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = row_event(st, &ev)) != JIT_OK)
			break;
		r = cb(arg, &ev, NULL);
		if (r == JIT_OK && sqlite3_column_type(st, 9) != SQLITE_NULL) {
			if ((r = row_checkpoint(st, 9, ev.seq, &cp)) == JIT_OK)
				r = cb(arg, NULL, &cp);
		}
		json_decref(ev.details);
		if (r != JIT_OK)
			break;
	}
	if (r == JIT_OK && rc != SQLITE_DONE)
		r = JIT_ERR_STORE;
	sqlite3_reset(st);
	/*
	 * Checkpoints whose event is gone (the log was cut short) are still
	 * exported, so a verifier reports the truncation.
	 */
	if (r == JIT_OK && limit == 0) {
		if ((st = conn_stmt(c, SQL_ORPHAN_CP)) == NULL) {
			r = JIT_ERR_STORE;
			goto out;
		}
		sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
		while (r == JIT_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			if ((r = row_checkpoint(st, 1,
			    (uint64_t)sqlite3_column_int64(st, 0), &cp)) ==
			    JIT_OK)
				r = cb(arg, NULL, &cp);
		}
		sqlite3_reset(st);
	}
 out:
	sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	store_rconn_put(s, c);
	return r;
}
