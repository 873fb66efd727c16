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
    "INSERT INTO audit_checkpoints (seq, ts, hash, signature) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (seq) DO UPDATE SET ts = excluded.ts, "
    "hash = excluded.hash, signature = excluded.signature";
/*
 * One query per combination of the equality filters, so that an absent
 * filter is a constant condition and a present one can use its index
 * (audit_actor, audit_action, audit_target: (column, seq)); a single
 * "(?2 IS NULL OR actor = ?2)" form makes every filtered query scan the
 * log from its start.  Every form names all seven parameters.
 */
#define Q_SELECT "SELECT seq, ts, actor, action, target, outcome, details, " \
    "prev_hash, hash FROM audit WHERE seq > ?1 "
#define Q_ACTOR_ANY	"AND CAST(?2 AS TEXT) IS NULL "
#define Q_ACTOR_EQ	"AND actor = ?2 "
#define Q_ACTION_ANY	"AND CAST(?3 AS TEXT) IS NULL "
#define Q_ACTION_EQ	"AND action = ?3 "
#define Q_TARGET_ANY	"AND CAST(?4 AS TEXT) IS NULL "
#define Q_TARGET_EQ	"AND target = ?4 "
#define Q_TAIL "AND ts >= CAST(?5 AS BIGINT) " \
    "AND (CAST(?6 AS BIGINT) = 0 OR ts < CAST(?6 AS BIGINT)) " \
    "ORDER BY seq LIMIT ?7"
static const char *const SQL_QUERY[8] = {	/* actor 1, action 2, target 4 */
	Q_SELECT Q_ACTOR_ANY Q_ACTION_ANY Q_TARGET_ANY Q_TAIL,
	Q_SELECT Q_ACTOR_EQ Q_ACTION_ANY Q_TARGET_ANY Q_TAIL,
	Q_SELECT Q_ACTOR_ANY Q_ACTION_EQ Q_TARGET_ANY Q_TAIL,
	Q_SELECT Q_ACTOR_EQ Q_ACTION_EQ Q_TARGET_ANY Q_TAIL,
	Q_SELECT Q_ACTOR_ANY Q_ACTION_ANY Q_TARGET_EQ Q_TAIL,
	Q_SELECT Q_ACTOR_EQ Q_ACTION_ANY Q_TARGET_EQ Q_TAIL,
	Q_SELECT Q_ACTOR_ANY Q_ACTION_EQ Q_TARGET_EQ Q_TAIL,
	Q_SELECT Q_ACTOR_EQ Q_ACTION_EQ Q_TARGET_EQ Q_TAIL,
};
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
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(&s->wconn, SQL_HEAD)) == NULL)
		return JIT_ERR_STORE;
	s->head_seq = 0;
	memset(s->head_hash, 0, sizeof(s->head_hash));
	if ((rc = db_step(st)) == DB_ROW) {
		if (db_col_bytes(st, 1) != 32) {
			db_reset(st);
			return JIT_ERR_STORE;
		}
		s->head_seq = (uint64_t)db_col_int(st, 0);
		memcpy(s->head_hash, db_col_blob(st, 1), 32);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(&s->wconn, SQL_LAST_CP)) == NULL)
		return JIT_ERR_STORE;
	s->cp_seq = 0;
	if ((rc = db_step(st)) == DB_ROW) {
		s->cp_seq = (uint64_t)db_col_int(st, 0);
		s->cp_time = db_col_int(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? JIT_OK : JIT_ERR_STORE;
}

int
store_audit_write_checkpoint(struct store *s, int64_t now)
{
	struct audit_checkpoint cp;
	struct db_stmt *st;
	int rc;

	memset(&cp, 0, sizeof(cp));
	cp.seq = s->head_seq;
	cp.ts = now;
	memcpy(cp.hash, s->head_hash, 32);
	if (audit_checkpoint_sign(&cp, s->audit_sk) != JIT_OK)
		return JIT_ERR_CRYPTO;
	if ((st = conn_stmt(&s->wconn, SQL_INSERT_CP)) == NULL)
		return JIT_ERR_STORE;
	db_bind_int(st, 1, (int64_t)cp.seq);
	db_bind_int(st, 2, cp.ts);
	db_bind_blob(st, 3, cp.hash, 32);
	db_bind_blob(st, 4, cp.sig, 64);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
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
	struct db_stmt *st;
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
	db_bind_int(st, 1, (int64_t)p->ev.seq);
	db_bind_int(st, 2, p->ev.ts);
	db_bind_text(st, 3, actor);
	db_bind_text(st, 4, action);
	db_bind_text(st, 5, target);
	db_bind_text(st, 6, outcome);
	db_bind_text(st, 7, dj);
	db_bind_blob(st, 8, p->ev.prev_hash, 32);
	db_bind_blob(st, 9, p->ev.hash, 32);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE) {
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
row_event(struct db_stmt *st, struct audit_event *ev)
{
	json_error_t jerr;
	const char *d;

	memset(ev, 0, sizeof(*ev));
	ev->seq = (uint64_t)db_col_int(st, 0);
	ev->ts = db_col_int(st, 1);
	ev->actor = db_col_text(st, 2);
	ev->action = db_col_text(st, 3);
	ev->target = db_col_text(st, 4);
	ev->outcome = db_col_text(st, 5);
	d = db_col_text(st, 6);
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
	if (db_col_bytes(st, 7) == 32)
		memcpy(ev->prev_hash, db_col_blob(st, 7), 32);
	if (db_col_bytes(st, 8) == 32)
		memcpy(ev->hash, db_col_blob(st, 8), 32);
	return JIT_OK;
}

int
store_audit_query(struct store *s, const struct store_audit_filter *f,
    int (*cb)(void *, const struct audit_event *), void *arg)
{
	struct audit_event ev;
	struct conn *c;
	struct db_stmt *st;
	int r = JIT_OK, rc;

	if (f->limit == 0 || f->limit > 1000)
		return JIT_ERR_INVALID_ARG;
	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_QUERY[(f->actor != NULL ? 1 : 0) |
	    (f->action != NULL ? 2 : 0) | (f->target != NULL ? 4 : 0)])) ==
	    NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	db_bind_int(st, 1, (int64_t)f->after);
	if (f->actor != NULL)
		db_bind_text(st, 2, f->actor);
	if (f->action != NULL)
		db_bind_text(st, 3, f->action);
	if (f->target != NULL)
		db_bind_text(st, 4, f->target);
	db_bind_int(st, 5, f->since);
	db_bind_int(st, 6, f->until);
	db_bind_int(st, 7, (int)f->limit);
	while ((rc = db_step(st)) == DB_ROW) {
		if ((r = row_event(st, &ev)) != JIT_OK)
			break;
		r = cb(arg, &ev);
		json_decref(ev.details);
		if (r != JIT_OK)
			break;
	}
	if (r == JIT_OK && rc != DB_DONE)
		r = JIT_ERR_STORE;
	db_reset(st);
	store_rconn_put(s, c);
	return r;
}

static int
row_checkpoint(struct db_stmt *st, int c0, uint64_t seq,
    struct audit_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->seq = seq;
	cp->ts = db_col_int(st, c0);
	if (db_col_bytes(st, c0 + 1) != 32 ||
	    db_col_bytes(st, c0 + 2) != 64)
		return JIT_ERR_STORE;
	memcpy(cp->hash, db_col_blob(st, c0 + 1), 32);
	memcpy(cp->sig, db_col_blob(st, c0 + 2), 64);
	return JIT_OK;
}

#define EXPORT_CHUNK	4096

int
store_audit_export(struct store *s, uint64_t after, uint64_t limit,
    int (*cb)(void *, const struct audit_event *,
    const struct audit_checkpoint *), void *arg)
{
	struct audit_event ev;
	struct audit_checkpoint cp;
	struct conn *c;
	struct db_stmt *st;
	uint64_t last = after, left = limit, chunk, got;
	int r = JIT_OK, rc = DB_DONE;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	/* One read transaction so the stream is a consistent snapshot. */
	if (db_begin_read(c->db) != JIT_OK) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	/* In chunks, so no engine holds the whole log in memory. */
	do {
		chunk = limit == 0 || left > EXPORT_CHUNK ? EXPORT_CHUNK : left;
		if ((st = conn_stmt(c, SQL_EXPORT)) == NULL) {
			r = JIT_ERR_STORE;
			goto out;
		}
		db_bind_int(st, 1, (int64_t)last);
		db_bind_int(st, 2, (int64_t)chunk);
		got = 0;
		while ((rc = db_step(st)) == DB_ROW) {
			if ((r = row_event(st, &ev)) != JIT_OK)
				break;
			got++;
			last = ev.seq;
			r = cb(arg, &ev, NULL);
			if (r == JIT_OK && !db_col_null(st, 9)) {
				if ((r = row_checkpoint(st, 9, ev.seq, &cp)) ==
				    JIT_OK)
					r = cb(arg, NULL, &cp);
			}
			json_decref(ev.details);
			if (r != JIT_OK)
				break;
		}
		if (r == JIT_OK && rc != DB_DONE)
			r = JIT_ERR_STORE;
		db_reset(st);
		left -= limit == 0 ? 0 : got;
	} while (r == JIT_OK && got == chunk && (limit == 0 || left > 0));
	/*
	 * Checkpoints whose event is gone (the log was cut short) are still
	 * exported, so a verifier reports the truncation.
	 */
	if (r == JIT_OK && limit == 0) {
		if ((st = conn_stmt(c, SQL_ORPHAN_CP)) == NULL) {
			r = JIT_ERR_STORE;
			goto out;
		}
		db_bind_int(st, 1, (int64_t)after);
		while (r == JIT_OK && (rc = db_step(st)) == DB_ROW) {
			if ((r = row_checkpoint(st, 1,
			    (uint64_t)db_col_int(st, 0), &cp)) == JIT_OK)
				r = cb(arg, NULL, &cp);
		}
		if (r == JIT_OK && rc != DB_DONE)
			r = JIT_ERR_STORE;
		db_reset(st);
	}
 out:
	db_exec(c->db, "COMMIT");
	store_rconn_put(s, c);
	return r;
}
