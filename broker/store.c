/*
 * Store core: opening the database, schema migrations, the read pool and
 * the group-commit writer thread (see store.h for the model).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/store_int.h"
#include "common/clock.h"
#include "common/err.h"

#define RPOOL_MAX	16
#define BATCH_MAX	512
#define BUSY_TIMEOUT_MS	5000


struct job {
	store_job_fn		 fn;
	void			*arg;
	int			 result;
	int			 done;
	pthread_cond_t		*cv;		/* synchronous waiter */
	void			(*cb)(void *, int);
	void			*cb_arg;
	struct pending_event	*events;
	struct job		*next;
};

struct db_stmt *
conn_stmt(struct conn *c, const char *sql)
{
	return db_prepare(c->db, sql);
}

int
col_text(struct db_stmt *st, int col, char *out, size_t outlen)
{
	const char *t = db_col_text(st, col);
	int n = db_col_bytes(st, col);

	if (t == NULL) {
		out[0] = '\0';
		return 0;
	}
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	memcpy(out, t, (size_t)n);
	out[n] = '\0';
	return 0;
}

static void
conn_close(struct conn *c)
{
	db_close(c->db);
	c->db = NULL;
}

static int
exec_sql(struct conn *c, const char *sql)
{
	return db_exec(c->db, sql);
}

static int
conn_open(struct conn *c, const char *path, int flags, int busy_ms,
    char **err)
{
	memset(c, 0, sizeof(*c));
	return db_open(path, flags, busy_ms, &c->db, err);
}

struct conn *
store_rconn_get(struct store *s)
{
	struct conn *c = NULL;
	int i;

	pthread_mutex_lock(&s->rmu);
	for (;;) {
		for (i = 0; i < s->nrconns; i++) {
			if (!s->rconns[i].busy) {
				c = &s->rconns[i];
				break;
			}
		}
		if (c == NULL && s->nrconns < RPOOL_MAX) {
			c = &s->rconns[s->nrconns];
			if (conn_open(c, s->path, DB_READONLY, s->busy_ms,
			    NULL) != JIT_OK) {
				c = NULL;
				break;
			}
			s->nrconns++;
		}
		if (c != NULL)
			break;
		pthread_cond_wait(&s->rcv, &s->rmu);
	}
	if (c != NULL)
		c->busy = 1;
	pthread_mutex_unlock(&s->rmu);
	return c;
}

void
store_rconn_put(struct store *s, struct conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&s->rmu);
	c->busy = 0;
	pthread_cond_signal(&s->rcv);
	pthread_mutex_unlock(&s->rmu);
}

void
pending_free(struct pending_event *p)
{
	struct pending_event *n;

	for (; p != NULL; p = n) {
		n = p->next;
		free(p->actor);
		free(p->action);
		free(p->target);
		free(p->outcome);
		json_decref(p->ev.details);
		free(p);
	}
}

int64_t
store_tx_now(const struct store_tx *tx)
{
	return tx->now;
}

/* Keeps the kind, code and message of a batch's first failure. */
static void
first_fail(struct store *s, int *fault)
{
	struct db *d = s->wconn.db;

	if (*fault != 0)
		return;
	*fault = db_fault(d) != DB_FAULT_NONE ? (int)db_fault(d) :
	    DB_FAULT_OTHER;
	snprintf(s->health_code, sizeof(s->health_code), "%s",
	    *db_fault_code(d) != '\0' ? db_fault_code(d) : "error");
	snprintf(s->health_msg, sizeof(s->health_msg), "%s", db_errmsg(d));
}

/*
 * Runs one batch of jobs in one transaction.  Called by the writer.
 * Returns 0, or the sqlite code of the first database failure.
 */
static int
run_batch(struct store *s, struct job *batch)
{
	struct store_tx tx;
	struct job *j;
	uint64_t seq0;
	uint8_t hash0[32];
	int began, any = 0, failrc = 0;

	memset(&tx, 0, sizeof(tx));
	tx.s = s;
	tx.c = &s->wconn;
	tx.now = jit_now();
	began = db_begin_write(s->wconn.db) == JIT_OK &&
	    store_audit_load_head(s) == JIT_OK;
	if (!began)
		first_fail(s, &failrc);
	for (j = batch; j != NULL; j = j->next) {
		if (!began) {
			j->result = JIT_ERR_STORE;
			continue;
		}
		seq0 = s->head_seq;
		memcpy(hash0, s->head_hash, 32);
		tx.events = NULL;
		tx.tail = &tx.events;
		if (exec_sql(&s->wconn, "SAVEPOINT job") != JIT_OK) {
			first_fail(s, &failrc);
			j->result = JIT_ERR_STORE;
			continue;
		}
		j->result = j->fn(&tx, j->arg);
		if (j->result == JIT_ERR_STORE || !db_in_tx(s->wconn.db))
			first_fail(s, &failrc);
		/*
		 * sqlite ends the whole transaction by itself on some errors
		 * (disk full, I/O, out of memory), PostgreSQL when the
		 * connection drops.  Then nothing of this batch may commit
		 * piecemeal: every job fails.
		 */
		if (!db_in_tx(s->wconn.db)) {
			if (j->result == JIT_OK)
				j->result = JIT_ERR_STORE;
			pending_free(tx.events);
			began = 0;
			continue;
		}
		if (j->result != JIT_OK) {
			/* This job's changes and events vanish; others stay. */
			if (exec_sql(&s->wconn, "ROLLBACK TO job") != JIT_OK ||
			    exec_sql(&s->wconn, "RELEASE job") != JIT_OK ||
			    !db_in_tx(s->wconn.db))
				began = 0;
			s->head_seq = seq0;
			memcpy(s->head_hash, hash0, 32);
			pending_free(tx.events);
			continue;
		}
		if (exec_sql(&s->wconn, "RELEASE job") != JIT_OK) {
			first_fail(s, &failrc);
			j->result = JIT_ERR_STORE;
			pending_free(tx.events);
			began = 0;	/* the transaction is unusable */
			continue;
		}
		j->events = tx.events;
		any = 1;
	}
	if (began && any) {
		if (exec_sql(&s->wconn, "COMMIT") != JIT_OK) {
			first_fail(s, &failrc);
			exec_sql(&s->wconn, "ROLLBACK");
			for (j = batch; j != NULL; j = j->next) {
				if (j->result == JIT_OK)
					j->result = JIT_ERR_STORE;
				pending_free(j->events);
				j->events = NULL;
			}
			return failrc;
		}
	} else if (began) {
		exec_sql(&s->wconn, "ROLLBACK");
	} else {
		/* BEGIN or a RELEASE failed: nothing may count as done. */
		exec_sql(&s->wconn, "ROLLBACK");
		for (j = batch; j != NULL; j = j->next) {
			if (j->result == JIT_OK)
				j->result = JIT_ERR_STORE;
			pending_free(j->events);
			j->events = NULL;
		}
		return failrc;
	}
	pthread_mutex_lock(&s->wmu);
	s->committed_seq = s->head_seq;
	pthread_mutex_unlock(&s->wmu);
	for (j = batch; j != NULL; j = j->next) {
		struct pending_event *p;

		if (s->opts.on_event != NULL)
			for (p = j->events; p != NULL; p = p->next)
				s->opts.on_event(s->opts.on_event_arg, &p->ev);
		pending_free(j->events);
		j->events = NULL;
	}
	return failrc;
}

/* Writes a checkpoint if due (force: whenever there are new events). */
static void
maybe_checkpoint(struct store *s, int force)
{
	int64_t now = jit_now();
	int due;

	if (s->audit_sk == NULL)
		return;
	if (db_begin_write(s->wconn.db) != JIT_OK)
		return;
	if (store_audit_load_head(s) != JIT_OK) {
		exec_sql(&s->wconn, "ROLLBACK");
		return;
	}
	due = s->head_seq > s->cp_seq && (force ||
	    s->head_seq - s->cp_seq >= s->opts.checkpoint_every ||
	    now - s->cp_time >= s->opts.checkpoint_interval);
	if (!due || store_audit_write_checkpoint(s, now) != JIT_OK ||
	    exec_sql(&s->wconn, "COMMIT") != JIT_OK)
		exec_sql(&s->wconn, "ROLLBACK");
}

static void
finish_jobs(struct store *s, struct job *batch)
{
	struct job *j, *next;

	for (j = batch; j != NULL; j = next) {
		next = j->next;
		if (j->cb != NULL) {
			j->cb(j->cb_arg, j->result);
			free(j);
			continue;
		}
		pthread_mutex_lock(&s->wmu);
		j->done = 1;
		pthread_cond_signal(j->cv);
		pthread_mutex_unlock(&s->wmu);
	}
}

static void *
writer_main(void *arg)
{
	struct store *s = arg;
	struct job *batch, *j;
	struct timespec ts;
	int n, force, failed;

	pthread_mutex_lock(&s->wmu);
	for (;;) {
		if (s->queue == NULL && !s->stopping) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&s->wcv, &s->wmu, &ts);
		}
		if (s->queue == NULL) {
			if (s->stopping)
				break;
			pthread_mutex_unlock(&s->wmu);
			maybe_checkpoint(s, 0);
			pthread_mutex_lock(&s->wmu);
			continue;
		}
		batch = s->queue;
		for (j = batch, n = 1; j->next != NULL && n < BATCH_MAX; n++)
			j = j->next;
		s->queue = j->next;
		if (s->queue == NULL)
			s->qtail = &s->queue;
		j->next = NULL;
		pthread_mutex_unlock(&s->wmu);
		failed = run_batch(s, batch);
		store_health_batch(s, failed);
		pthread_mutex_lock(&s->wmu);
		force = s->force_cp;
		s->force_cp = 0;
		pthread_mutex_unlock(&s->wmu);
		/* After a failure, answer now rather than wait for it again. */
		if (!failed || force)
			maybe_checkpoint(s, force);
		finish_jobs(s, batch);
		pthread_mutex_lock(&s->wmu);
	}
	pthread_mutex_unlock(&s->wmu);
	maybe_checkpoint(s, 1);
	return NULL;
}

static int
enqueue(struct store *s, struct job *j)
{
	pthread_mutex_lock(&s->wmu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->wmu);
		return JIT_ERR_BUSY;
	}
	j->next = NULL;
	*s->qtail = j;
	s->qtail = &j->next;
	pthread_cond_signal(&s->wcv);
	pthread_mutex_unlock(&s->wmu);
	return JIT_OK;
}

int
store_write(struct store *s, store_job_fn fn, void *arg)
{
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct job j;
	int r;

	memset(&j, 0, sizeof(j));
	j.fn = fn;
	j.arg = arg;
	j.cv = &cv;
	if ((r = enqueue(s, &j)) != JIT_OK)
		return r;
	pthread_mutex_lock(&s->wmu);
	while (!j.done)
		pthread_cond_wait(&cv, &s->wmu);
	pthread_mutex_unlock(&s->wmu);
	pthread_cond_destroy(&cv);
	return j.result;
}

int
store_write_async(struct store *s, store_job_fn fn, void *arg,
    void (*done)(void *, int), void *done_arg)
{
	struct job *j;
	int r;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return JIT_ERR_ALLOC;
	j->fn = fn;
	j->arg = arg;
	j->cb = done;
	j->cb_arg = done_arg;
	if ((r = enqueue(s, j)) != JIT_OK)
		free(j);
	return r;
}

static int
noop_job(struct store_tx *tx, void *arg)
{
	return JIT_OK;
}

int
store_checkpoint(struct store *s)
{
	/*
	 * The writer owns the write connection: ask it to sign after the
	 * next batch, and wait for that batch (a no-op job) to finish.
	 */
	pthread_mutex_lock(&s->wmu);
	s->force_cp = 1;
	pthread_mutex_unlock(&s->wmu);
	return store_write(s, noop_job, NULL);
}

static const char SQL_MAX_SEQ[] = "SELECT max(seq) FROM audit";

uint64_t
store_audit_head(struct store *s)
{
	struct db_stmt *st;
	struct conn *c;
	uint64_t v;

	pthread_mutex_lock(&s->wmu);
	v = s->committed_seq;
	pthread_mutex_unlock(&s->wmu);
	if (db_kind(s->wconn.db) == DB_SQLITE)
		return v;
	/* Other replicas append too: the database knows the head. */
	if ((c = store_rconn_get(s)) == NULL)
		return v;
	if ((st = conn_stmt(c, SQL_MAX_SEQ)) != NULL) {
		if (db_step(st) == DB_ROW)
			v = (uint64_t)db_col_int(st, 0);
		db_reset(st);
	}
	store_rconn_put(s, c);
	return v;
}

int
store_leader(struct store *s)
{
	int r;

	if (db_kind(s->wconn.db) == DB_SQLITE)
		return 1;
	pthread_mutex_lock(&s->lmu);
	if (s->leader.db == NULL && conn_open(&s->leader, s->path, 0,
	    s->busy_ms, NULL) != JIT_OK) {
		pthread_mutex_unlock(&s->lmu);
		return 0;
	}
	r = db_try_leader(s->leader.db);
	pthread_mutex_unlock(&s->lmu);
	return r == 1;
}

int
store_backend_is_pg(const struct store *s)
{
	return db_kind(s->wconn.db) == DB_PG;
}

int
store_open(const char *path, int create, const struct store_opts *opts,
    struct store **out, char **err)
{
	struct store *s = NULL;
	char *shown = NULL;
	int r = JIT_ERR_STORE;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL ||
	    (s->rconns = calloc(RPOOL_MAX, sizeof(*s->rconns))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto fail;
	}
	if (opts != NULL)
		s->opts = *opts;
	if (s->opts.checkpoint_every == 0)
		s->opts.checkpoint_every = 1000;
	if (s->opts.checkpoint_interval <= 0)
		s->opts.checkpoint_interval = 60;
	s->busy_ms = s->opts.busy_timeout_ms > 0 ? s->opts.busy_timeout_ms :
	    BUSY_TIMEOUT_MS;
	if (opts != NULL && opts->audit_sk != NULL) {
		if ((s->audit_sk = sodium_malloc(64)) == NULL) {
			r = JIT_ERR_ALLOC;
			goto fail;
		}
		memcpy(s->audit_sk, opts->audit_sk, 64);
	}
	s->opts.audit_sk = NULL;	/* only our copy is used */
	pthread_mutex_init(&s->rmu, NULL);
	pthread_cond_init(&s->rcv, NULL);
	pthread_mutex_init(&s->wmu, NULL);
	pthread_cond_init(&s->wcv, NULL);
	pthread_mutex_init(&s->lmu, NULL);
	s->qtail = &s->queue;
	if ((r = conn_open(&s->wconn, path, create ? DB_CREATE : 0, s->busy_ms,
	    err)) != JIT_OK)
		goto fail;
	shown = db_target_display(path);
	if (db_kind(s->wconn.db) == DB_SQLITE &&
	    (exec_sql(&s->wconn, "PRAGMA journal_mode=WAL") != JIT_OK ||
	    exec_sql(&s->wconn, "PRAGMA synchronous=FULL") != JIT_OK ||
	    exec_sql(&s->wconn, "PRAGMA foreign_keys=ON") != JIT_OK)) {
		const char *hint = store_fault_hint(db_fault(s->wconn.db));

		jit_set_err(err, "database %s: %s (%s)%s%s", shown != NULL ?
		    shown : path, db_errmsg(s->wconn.db),
		    db_fault_code(s->wconn.db), *hint != '\0' ? ": " : "",
		    hint);
		r = JIT_ERR_STORE;
		goto fail;
	}
	if ((r = store_quick_check(s->wconn.db, shown != NULL ? shown : path,
	    err)) != JIT_OK ||
	    (r = store_migrate(s->wconn.db, create, shown != NULL ? shown :
	    path, err)) != JIT_OK)
		goto fail;
	if (exec_sql(&s->wconn, "BEGIN") != JIT_OK ||
	    (r = store_audit_load_head(s)) != JIT_OK) {
		exec_sql(&s->wconn, "ROLLBACK");
		jit_set_err(err, "%s: cannot read the audit log: %s",
		    shown != NULL ? shown : "database", db_errmsg(s->wconn.db));
		r = JIT_ERR_STORE;
		goto fail;
	}
	exec_sql(&s->wconn, "COMMIT");
	s->committed_seq = s->head_seq;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		r = JIT_ERR_SYSTEM;
		goto fail;
	}
	s->writer_started = 1;
	free(shown);
	*out = s;
	return JIT_OK;
 fail:
	free(shown);
	store_close(s);
	return r;
}

void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	if (s->writer_started) {
		pthread_mutex_lock(&s->wmu);
		s->stopping = 1;
		pthread_cond_signal(&s->wcv);
		pthread_mutex_unlock(&s->wmu);
		pthread_join(s->writer, NULL);
	}
	conn_close(&s->wconn);
	conn_close(&s->leader);
	if (s->rconns != NULL)
		for (i = 0; i < s->nrconns; i++)
			conn_close(&s->rconns[i]);
	free(s->rconns);
	if (s->audit_sk != NULL)
		sodium_free(s->audit_sk);
	free(s->path);
	free(s);
}
