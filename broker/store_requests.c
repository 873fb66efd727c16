/* Access requests, votes and issued certificates in the store. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "broker/store_int.h"
#include "common/err.h"

#define REQ_COLS "id, \"user\", role, reason, ticket, duration, state, " \
	"created_at, starts_at, pending_until, approvals_required, " \
	"approvals, approved_at, grant_start, grant_end, decided_at, " \
	"break_glass, extends, review_state, reviewed_by, review_comment, " \
	"reviewed_at"

static const char SQL_REQ_INSERT[] =
    "INSERT INTO requests (\"user\", role, reason, ticket, duration, state, "
    "created_at, starts_at, pending_until, approvals_required, approvals, "
    "approved_at, grant_start, grant_end, decided_at, break_glass, extends, "
    "review_state, reviewed_by, review_comment, reviewed_at) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
    "?16, ?17, ?18, ?19, ?20, ?21) RETURNING id";
static const char SQL_REQ_UPDATE[] =
    "UPDATE requests SET state = ?6, approvals = ?11, approved_at = ?12, "
    "grant_start = ?13, grant_end = ?14, decided_at = ?15, "
    "review_state = ?18, reviewed_by = ?19, review_comment = ?20, "
    "reviewed_at = ?21 WHERE id = ?22";
static const char SQL_REQ_GET[] =
    "SELECT " REQ_COLS " FROM requests WHERE id = ?";
static const char SQL_REQ_LIST[] =
    "SELECT " REQ_COLS " FROM requests "
    "WHERE (CAST(?1 AS TEXT) IS NULL OR \"user\" = ?1) "
    "AND (CAST(?2 AS TEXT) IS NULL OR state = ?2) "
    "AND (CAST(?3 AS TEXT) IS NULL OR review_state = ?3) "
    "ORDER BY id DESC LIMIT ?4";
static const char SQL_REQ_DUE[] =
    "SELECT id FROM requests WHERE (state = 'pending' AND pending_until <= "
    "?1) OR (state = 'approved' AND grant_end <= ?1) ORDER BY id LIMIT ?2";
static const char SQL_VOTE_INSERT[] =
    "INSERT INTO votes (request_id, approver, decision, comment, at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_VOTE_EXISTS[] =
    "SELECT 1 FROM votes WHERE request_id = ? AND approver = ?";
static const char SQL_VOTE_LIST[] =
    "SELECT approver, decision, comment, at FROM votes WHERE request_id = ? "
    "ORDER BY at, rowid";
static const char SQL_CERT_INSERT[] =
    "INSERT INTO certs (kind, serial, request_id, \"user\", fingerprint, "
    "subject, valid_after, valid_before, issued_at) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_CERT_LIST[] =
    "SELECT kind, serial, request_id, \"user\", fingerprint, subject, "
    "valid_after, valid_before, issued_at FROM certs WHERE request_id = ? "
    "ORDER BY issued_at, rowid";
static const char SQL_KRL[] =
    "SELECT c.serial FROM certs c JOIN requests r ON r.id = c.request_id "
    "WHERE c.kind = 'ssh' AND r.state = 'revoked' AND c.valid_before > ? "
    "ORDER BY c.serial";

static void
bind_request(struct db_stmt *st, const struct store_request *r)
{
	db_bind_text(st, 1, r->user);
	db_bind_text(st, 2, r->role);
	db_bind_text(st, 3, r->reason);
	db_bind_text(st, 4, r->ticket);
	db_bind_int(st, 5, r->duration);
	db_bind_text(st, 6, r->state);
	db_bind_int(st, 7, r->created_at);
	db_bind_int(st, 8, r->starts_at);
	db_bind_int(st, 9, r->pending_until);
	db_bind_int(st, 10, r->approvals_required);
	db_bind_int(st, 11, r->approvals);
	db_bind_int(st, 12, r->approved_at);
	db_bind_int(st, 13, r->grant_start);
	db_bind_int(st, 14, r->grant_end);
	db_bind_int(st, 15, r->decided_at);
	db_bind_int(st, 16, r->break_glass);
	db_bind_int(st, 17, r->extends);
	db_bind_text(st, 18, r->review_state);
	db_bind_text(st, 19, r->reviewed_by);
	db_bind_text(st, 20, r->review_comment);
	db_bind_int(st, 21, r->reviewed_at);
}

static int
row_request(struct db_stmt *st, struct store_request *r)
{
	memset(r, 0, sizeof(*r));
	r->id = db_col_int(st, 0);
	if (col_text(st, 1, r->user, sizeof(r->user)) != 0 ||
	    col_text(st, 2, r->role, sizeof(r->role)) != 0 ||
	    col_text(st, 3, r->reason, sizeof(r->reason)) != 0 ||
	    col_text(st, 4, r->ticket, sizeof(r->ticket)) != 0 ||
	    col_text(st, 6, r->state, sizeof(r->state)) != 0 ||
	    col_text(st, 18, r->review_state, sizeof(r->review_state)) != 0 ||
	    col_text(st, 19, r->reviewed_by, sizeof(r->reviewed_by)) != 0 ||
	    col_text(st, 20, r->review_comment,
	    sizeof(r->review_comment)) != 0)
		return JIT_ERR_STORE;
	r->duration = db_col_int(st, 5);
	r->created_at = db_col_int(st, 7);
	r->starts_at = db_col_int(st, 8);
	r->pending_until = db_col_int(st, 9);
	r->approvals_required = (int)db_col_int(st, 10);
	r->approvals = (int)db_col_int(st, 11);
	r->approved_at = db_col_int(st, 12);
	r->grant_start = db_col_int(st, 13);
	r->grant_end = db_col_int(st, 14);
	r->decided_at = db_col_int(st, 15);
	r->break_glass = (int)db_col_int(st, 16);
	r->extends = db_col_int(st, 17);
	r->reviewed_at = db_col_int(st, 21);
	return JIT_OK;
}

int
store_tx_request_insert(struct store_tx *tx, struct store_request *r)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(tx->c, SQL_REQ_INSERT)) == NULL)
		return JIT_ERR_STORE;
	bind_request(st, r);
	if ((rc = db_step(st)) == DB_ROW)
		r->id = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW ? JIT_OK : JIT_ERR_STORE;
}

int
store_tx_request_update(struct store_tx *tx, const struct store_request *r)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(tx->c, SQL_REQ_UPDATE)) == NULL)
		return JIT_ERR_STORE;
	bind_request(st, r);
	db_bind_int(st, 22, r->id);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	return db_changes(st) == 1 ? JIT_OK : JIT_ERR_NOT_FOUND;
}

static int
request_lookup(struct conn *c, int64_t id, struct store_request *r)
{
	struct db_stmt *st;
	int rc, ret;

	memset(r, 0, sizeof(*r));
	if ((st = conn_stmt(c, SQL_REQ_GET)) == NULL)
		return JIT_ERR_STORE;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW)
		ret = row_request(st, r);
	else
		ret = rc == DB_DONE ? JIT_ERR_NOT_FOUND : JIT_ERR_STORE;
	db_reset(st);
	return ret;
}

int
store_tx_request_get(struct store_tx *tx, int64_t id, struct store_request *r)
{
	return request_lookup(tx->c, id, r);
}

int
store_request_get(struct store *s, int64_t id, struct store_request *r)
{
	struct conn *c;
	int ret;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	ret = request_lookup(c, id, r);
	store_rconn_put(s, c);
	return ret;
}

int
store_request_list(struct store *s, const struct store_request_filter *f,
    int (*cb)(void *, const struct store_request *), void *arg)
{
	struct store_request *r;
	struct conn *c;
	struct db_stmt *st;
	int ret = JIT_OK, rc;

	if (f->limit == 0 || f->limit > 1000)
		return JIT_ERR_INVALID_ARG;
	if ((r = malloc(sizeof(*r))) == NULL)
		return JIT_ERR_ALLOC;
	if ((c = store_rconn_get(s)) == NULL) {
		free(r);
		return JIT_ERR_STORE;
	}
	if ((st = conn_stmt(c, SQL_REQ_LIST)) == NULL) {
		ret = JIT_ERR_STORE;
		goto out;
	}
	if (f->user != NULL)
		db_bind_text(st, 1, f->user);
	if (f->state != NULL)
		db_bind_text(st, 2, f->state);
	if (f->review_state != NULL)
		db_bind_text(st, 3, f->review_state);
	db_bind_int(st, 4, (int)f->limit);
	while ((rc = db_step(st)) == DB_ROW) {
		if ((ret = row_request(st, r)) != JIT_OK ||
		    (ret = cb(arg, r)) != JIT_OK)
			break;
	}
	if (ret == JIT_OK && rc != DB_DONE)
		ret = JIT_ERR_STORE;
	db_reset(st);
 out:
	store_rconn_put(s, c);
	free(r);
	return ret;
}

int
store_tx_requests_due(struct store_tx *tx, int64_t now, unsigned int limit,
    int64_t *ids, size_t *n)
{
	struct db_stmt *st;
	int rc;

	*n = 0;
	if ((st = conn_stmt(tx->c, SQL_REQ_DUE)) == NULL)
		return JIT_ERR_STORE;
	db_bind_int(st, 1, now);
	db_bind_int(st, 2, (int)limit);
	while ((rc = db_step(st)) == DB_ROW && *n < limit)
		ids[(*n)++] = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? JIT_OK : JIT_ERR_STORE;
}

int
store_tx_vote_insert(struct store_tx *tx, int64_t request_id,
    const char *approver, const char *decision, const char *comment)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(tx->c, SQL_VOTE_INSERT)) == NULL)
		return JIT_ERR_STORE;
	db_bind_int(st, 1, request_id);
	db_bind_text(st, 2, approver);
	db_bind_text(st, 3, decision);
	db_bind_text(st, 4, comment != NULL ? comment : "");
	db_bind_int(st, 5, tx->now);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	return db_changes(st) == 1 ? JIT_OK : JIT_ERR_EXISTS;
}

static int
vote_exists(struct conn *c, int64_t request_id, const char *approver)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(c, SQL_VOTE_EXISTS)) == NULL)
		return -1;
	db_bind_int(st, 1, request_id);
	db_bind_text(st, 2, approver);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

int
store_tx_vote_exists(struct store_tx *tx, int64_t request_id,
    const char *approver)
{
	return vote_exists(tx->c, request_id, approver);
}

int
store_vote_exists(struct store *s, int64_t request_id, const char *approver)
{
	struct conn *c;
	int ret;

	if ((c = store_rconn_get(s)) == NULL)
		return -1;
	ret = vote_exists(c, request_id, approver);
	store_rconn_put(s, c);
	return ret;
}

int
store_votes_list(struct store *s, int64_t request_id,
    int (*cb)(void *, const char *, const char *, const char *, int64_t),
    void *arg)
{
	struct conn *c;
	struct db_stmt *st;
	int ret = JIT_OK, rc;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_VOTE_LIST)) == NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	db_bind_int(st, 1, request_id);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *a = db_col_text(st, 0);
		const char *d = db_col_text(st, 1);
		const char *cm = db_col_text(st, 2);

		if ((ret = cb(arg, a != NULL ? a : "", d != NULL ? d : "",
		    cm != NULL ? cm : "", db_col_int(st, 3))) !=
		    JIT_OK)
			break;
	}
	if (ret == JIT_OK && rc != DB_DONE)
		ret = JIT_ERR_STORE;
	db_reset(st);
	store_rconn_put(s, c);
	return ret;
}

int
store_tx_cert_insert(struct store_tx *tx, const struct store_cert *c)
{
	struct db_stmt *st;
	int rc;

	if ((st = conn_stmt(tx->c, SQL_CERT_INSERT)) == NULL)
		return JIT_ERR_STORE;
	db_bind_text(st, 1, c->kind);
	db_bind_text(st, 2, c->serial);
	db_bind_int(st, 3, c->request_id);
	db_bind_text(st, 4, c->user);
	db_bind_text(st, 5, c->fingerprint);
	db_bind_text(st, 6, c->subject);
	db_bind_int(st, 7, c->valid_after);
	db_bind_int(st, 8, c->valid_before);
	db_bind_int(st, 9, c->issued_at);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return JIT_ERR_STORE;
	return db_changes(st) == 1 ? JIT_OK : JIT_ERR_EXISTS;
}

int
store_certs_list(struct store *s, int64_t request_id,
    int (*cb)(void *, const struct store_cert *), void *arg)
{
	struct store_cert cert;
	struct conn *c;
	struct db_stmt *st;
	int ret = JIT_OK, rc;

	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_CERT_LIST)) == NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	db_bind_int(st, 1, request_id);
	while ((rc = db_step(st)) == DB_ROW) {
		memset(&cert, 0, sizeof(cert));
		if (col_text(st, 0, cert.kind, sizeof(cert.kind)) != 0 ||
		    col_text(st, 1, cert.serial, sizeof(cert.serial)) != 0 ||
		    col_text(st, 3, cert.user, sizeof(cert.user)) != 0 ||
		    col_text(st, 4, cert.fingerprint,
		    sizeof(cert.fingerprint)) != 0 ||
		    col_text(st, 5, cert.subject, sizeof(cert.subject)) != 0) {
			ret = JIT_ERR_STORE;
			break;
		}
		cert.request_id = db_col_int(st, 2);
		cert.valid_after = db_col_int(st, 6);
		cert.valid_before = db_col_int(st, 7);
		cert.issued_at = db_col_int(st, 8);
		if ((ret = cb(arg, &cert)) != JIT_OK)
			break;
	}
	if (ret == JIT_OK && rc != DB_DONE)
		ret = JIT_ERR_STORE;
	db_reset(st);
	store_rconn_put(s, c);
	return ret;
}

int
store_revoked_ssh_serials(struct store *s, int64_t now, uint64_t **serials,
    size_t *n)
{
	struct conn *c;
	struct db_stmt *st;
	uint64_t *v = NULL, *nv;
	size_t cap = 0, cnt = 0;
	int ret = JIT_OK, rc;

	*serials = NULL;
	*n = 0;
	if ((c = store_rconn_get(s)) == NULL)
		return JIT_ERR_STORE;
	if ((st = conn_stmt(c, SQL_KRL)) == NULL) {
		store_rconn_put(s, c);
		return JIT_ERR_STORE;
	}
	db_bind_int(st, 1, now);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *t = db_col_text(st, 0);
		char *end;
		uint64_t serial;

		if (t == NULL)
			continue;
		errno = 0;
		serial = strtoull(t, &end, 10);
		if (errno != 0 || *end != '\0' || serial == 0)
			continue;
		if (cnt == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				ret = JIT_ERR_ALLOC;
				break;
			}
			v = nv;
		}
		v[cnt++] = serial;
	}
	if (ret == JIT_OK && rc != DB_DONE)
		ret = JIT_ERR_STORE;
	db_reset(st);
	store_rconn_put(s, c);
	if (ret != JIT_OK) {
		free(v);
		return ret;
	}
	*serials = v;
	*n = cnt;
	return JIT_OK;
}
