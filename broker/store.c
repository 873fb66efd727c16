/*
 * Store core: opening the database, schema migrations, the read pool and
 * the group-commit writer thread (see store.h for the model).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

/*
 * Schema migrations, applied in order; PRAGMA user_version records how
 * many have run.  Never edit a released entry: add a new one.
 */
static const char *const migrations[] = {
	/* 1: users, sessions, audit log. */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  groups_csv TEXT NOT NULL DEFAULT '',"
	"  pwhash TEXT NOT NULL DEFAULT '',"
	"  totp_sealed BLOB,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  last_totp_step INTEGER NOT NULL DEFAULT 0,"
	"  slack_id TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	"  token_hash BLOB PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  methods TEXT NOT NULL,"
	"  auth_time INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  details TEXT NOT NULL,"
	"  prev_hash BLOB NOT NULL,"
	"  hash BLOB NOT NULL);"
	"CREATE INDEX audit_actor ON audit(actor, seq);"
	"CREATE INDEX audit_action ON audit(action, seq);"
	"CREATE INDEX audit_target ON audit(target, seq);"
	"CREATE INDEX audit_ts ON audit(ts, seq);"
	"CREATE TABLE audit_checkpoints ("
	"  seq INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  hash BLOB NOT NULL,"
	"  signature BLOB NOT NULL);",
	/* 2: access requests, votes, issued certificates. */
	"CREATE TABLE requests ("
	"  id INTEGER PRIMARY KEY,"
	"  user TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  ticket TEXT NOT NULL DEFAULT '',"
	"  duration INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  starts_at INTEGER NOT NULL DEFAULT 0,"
	"  pending_until INTEGER NOT NULL,"
	"  approvals_required INTEGER NOT NULL,"
	"  approvals INTEGER NOT NULL DEFAULT 0,"
	"  approved_at INTEGER NOT NULL DEFAULT 0,"
	"  grant_start INTEGER NOT NULL DEFAULT 0,"
	"  grant_end INTEGER NOT NULL DEFAULT 0,"
	"  decided_at INTEGER NOT NULL DEFAULT 0,"
	"  break_glass INTEGER NOT NULL DEFAULT 0,"
	"  extends INTEGER NOT NULL DEFAULT 0,"
	"  review_state TEXT NOT NULL DEFAULT '',"
	"  reviewed_by TEXT NOT NULL DEFAULT '',"
	"  review_comment TEXT NOT NULL DEFAULT '',"
	"  reviewed_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX requests_state ON requests(state, id);"
	"CREATE INDEX requests_user ON requests(user, id);"
	"CREATE INDEX requests_role ON requests(role, id);"
	"CREATE INDEX requests_review ON requests(review_state, id);"
	"CREATE TABLE votes ("
	"  request_id INTEGER NOT NULL REFERENCES requests(id),"
	"  approver TEXT NOT NULL,"
	"  decision TEXT NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (request_id, approver));"
	"CREATE TABLE certs ("
	"  kind TEXT NOT NULL,"
	"  serial TEXT NOT NULL,"
	"  request_id INTEGER NOT NULL REFERENCES requests(id),"
	"  user TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  valid_after INTEGER NOT NULL,"
	"  valid_before INTEGER NOT NULL,"
	"  issued_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, serial));"
	"CREATE INDEX certs_request ON certs(request_id);",
	/* 3: notification outbox, replay guard, federated users, CSRF. */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  target TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  request_id INTEGER NOT NULL DEFAULT 0,"
	"  payload TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  delivered_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX outbox_due ON outbox(state, next_at);"
	"CREATE TABLE replay ("
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, key));"
	"CREATE INDEX replay_expiry ON replay(expires_at);"
	"ALTER TABLE users ADD COLUMN federated INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN csrf TEXT NOT NULL DEFAULT '';",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

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

static void __attribute__((format(printf, 2, 3)))
set_err(char **err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	free(*err);
	*err = NULL;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) == -1)
		*err = NULL;
	va_end(ap);
}

sqlite3_stmt *
conn_stmt(struct conn *c, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int i;

	for (i = 0; i < c->ncache; i++) {
		if (c->cache[i].sql == sql) {
			sqlite3_reset(c->cache[i].st);
			sqlite3_clear_bindings(c->cache[i].st);
			return c->cache[i].st;
		}
	}
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK)
		return NULL;
	if (c->ncache < STMT_CACHE) {
		c->cache[c->ncache].sql = sql;
		c->cache[c->ncache].st = st;
		c->ncache++;
	}
	/* A full cache is a programming error: more distinct SQL than slots. */
	else
		abort();
	return st;
}

int
col_text(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

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
	int i;

	for (i = 0; i < c->ncache; i++)
		sqlite3_finalize(c->cache[i].st);
	c->ncache = 0;
	if (c->db != NULL)
		sqlite3_close(c->db);
	c->db = NULL;
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? JIT_OK :
	    JIT_ERR_STORE;
}

static int
conn_open(struct conn *c, const char *path, int flags, int busy_ms,
    char **err)
{
	memset(c, 0, sizeof(*c));
	if (sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		set_err(err, "%s: %s", path, c->db != NULL ?
		    sqlite3_errmsg(c->db) : "cannot open");
		conn_close(c);
		return JIT_ERR_STORE;
	}
	sqlite3_busy_timeout(c->db, busy_ms);
	sqlite3_extended_result_codes(c->db, 1);
	return JIT_OK;
}

static int
migrate(sqlite3 *db, int create, const char *path, char **err)
{
	sqlite3_stmt *st = NULL;
	int version = 0, i;

	if (exec_sql(db, "BEGIN IMMEDIATE") != JIT_OK) {
		set_err(err, "cannot lock the database: %s", sqlite3_errmsg(db));
		return JIT_ERR_STORE;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	/* An existing database without our schema was emptied or replaced. */
	if (version == 0 && !create) {
		exec_sql(db, "ROLLBACK");
		set_err(err, "database %s is empty or not a jitd database (no "
		    "schema; truncated?): restore it from a backup", path);
		return JIT_ERR_STORE;
	}
	if (version > NMIGRATIONS) {
		exec_sql(db, "ROLLBACK");
		set_err(err, "database schema version %d is newer than this "
		    "jitd understands (%d)", version, NMIGRATIONS);
		return JIT_ERR_STORE;
	}
	for (i = version; i < NMIGRATIONS; i++) {
		char pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    i + 1);
		if (exec_sql(db, migrations[i]) != JIT_OK ||
		    exec_sql(db, pragma) != JIT_OK)
			goto fail;
	}
	if (exec_sql(db, "COMMIT") != JIT_OK)
		goto fail;
	return JIT_OK;
 fail:
	set_err(err, "schema migration failed: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	exec_sql(db, "ROLLBACK");
	return JIT_ERR_STORE;
}

static int
quick_check(sqlite3 *db, const char *path, char **err)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int r = JIT_ERR_STORE;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) !=
	    SQLITE_OK) {
		set_err(err, "database %s is unreadable: %s", path,
		    sqlite3_errmsg(db));
		return JIT_ERR_STORE;
	}
	if (sqlite3_step(st) == SQLITE_ROW && (t = sqlite3_column_text(st,
	    0)) != NULL && strcmp((const char *)t, "ok") == 0)
		r = JIT_OK;
	else
		set_err(err, "database %s failed its integrity check (%s): "
		    "restore it from a backup", path,
		    (t = sqlite3_column_text(st, 0)) != NULL ?
		    (const char *)t : sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return r;
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
			if (conn_open(c, s->path, SQLITE_OPEN_READONLY,
			    s->opts.busy_timeout_ms, NULL) != JIT_OK) {
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

/* Keeps the sqlite code of a batch's first failure (store_health.c). */
static void
first_fail(int *rc, sqlite3 *db)
{
	int e = sqlite3_extended_errcode(db);

	if (*rc == 0)
		*rc = e == SQLITE_OK || e == SQLITE_ROW || e == SQLITE_DONE ?
		    SQLITE_ERROR : e;
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
	began = exec_sql(s->wconn.db, "BEGIN IMMEDIATE") == JIT_OK &&
	    store_audit_load_head(s) == JIT_OK;
	if (!began)
		first_fail(&failrc, s->wconn.db);
	for (j = batch; j != NULL; j = j->next) {
		if (!began) {
			j->result = JIT_ERR_STORE;
			continue;
		}
		seq0 = s->head_seq;
		memcpy(hash0, s->head_hash, 32);
		tx.events = NULL;
		tx.tail = &tx.events;
		if (exec_sql(s->wconn.db, "SAVEPOINT job") != JIT_OK) {
			first_fail(&failrc, s->wconn.db);
			j->result = JIT_ERR_STORE;
			continue;
		}
		j->result = j->fn(&tx, j->arg);
		if (j->result == JIT_ERR_STORE ||
		    sqlite3_get_autocommit(s->wconn.db))
			first_fail(&failrc, s->wconn.db);
		/*
		 * sqlite ends the whole transaction by itself on some errors
		 * (disk full, I/O, out of memory).  Then nothing of this batch
		 * may commit piecemeal: every job fails.
		 */
		if (sqlite3_get_autocommit(s->wconn.db)) {
			if (j->result == JIT_OK)
				j->result = JIT_ERR_STORE;
			pending_free(tx.events);
			began = 0;
			continue;
		}
		if (j->result != JIT_OK) {
			/* This job's changes and events vanish; others stay. */
			if (exec_sql(s->wconn.db, "ROLLBACK TO job") != JIT_OK ||
			    exec_sql(s->wconn.db, "RELEASE job") != JIT_OK ||
			    sqlite3_get_autocommit(s->wconn.db))
				began = 0;
			s->head_seq = seq0;
			memcpy(s->head_hash, hash0, 32);
			pending_free(tx.events);
			continue;
		}
		if (exec_sql(s->wconn.db, "RELEASE job") != JIT_OK) {
			first_fail(&failrc, s->wconn.db);
			j->result = JIT_ERR_STORE;
			pending_free(tx.events);
			began = 0;	/* the transaction is unusable */
			continue;
		}
		j->events = tx.events;
		any = 1;
	}
	if (began && any) {
		if (exec_sql(s->wconn.db, "COMMIT") != JIT_OK) {
			first_fail(&failrc, s->wconn.db);
			exec_sql(s->wconn.db, "ROLLBACK");
			for (j = batch; j != NULL; j = j->next) {
				if (j->result == JIT_OK)
					j->result = JIT_ERR_STORE;
				pending_free(j->events);
				j->events = NULL;
			}
			return failrc;
		}
	} else if (began) {
		exec_sql(s->wconn.db, "ROLLBACK");
	} else {
		/* BEGIN or a RELEASE failed: nothing may count as done. */
		exec_sql(s->wconn.db, "ROLLBACK");
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
	if (exec_sql(s->wconn.db, "BEGIN IMMEDIATE") != JIT_OK)
		return;
	if (store_audit_load_head(s) != JIT_OK) {
		exec_sql(s->wconn.db, "ROLLBACK");
		return;
	}
	due = s->head_seq > s->cp_seq && (force ||
	    s->head_seq - s->cp_seq >= s->opts.checkpoint_every ||
	    now - s->cp_time >= s->opts.checkpoint_interval);
	if (!due || store_audit_write_checkpoint(s, now) != JIT_OK ||
	    exec_sql(s->wconn.db, "COMMIT") != JIT_OK)
		exec_sql(s->wconn.db, "ROLLBACK");
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

uint64_t
store_audit_head(struct store *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->wmu);
	v = s->committed_seq;
	pthread_mutex_unlock(&s->wmu);
	return v;
}

int
store_open(const char *path, int create, const struct store_opts *opts,
    struct store **out, char **err)
{
	struct store *s = NULL;
	struct stat st;
	int fd, r = JIT_ERR_STORE;

	*out = NULL;
	if (stat(path, &st) == -1) {
		if (errno != ENOENT || !create) {
			set_err(err, "%s: %s", path, strerror(errno));
			return errno == ENOENT ? JIT_ERR_NOT_FOUND :
			    JIT_ERR_STORE;
		}
		/* Create it private; sqlite's -wal and -shm copy its mode. */
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
		    0600)) == -1) {
			set_err(err, "%s: %s", path, strerror(errno));
			return JIT_ERR_STORE;
		}
		close(fd);
	}
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
	s->qtail = &s->queue;
	if (s->opts.busy_timeout_ms <= 0)
		s->opts.busy_timeout_ms = BUSY_TIMEOUT_MS;
	if ((r = conn_open(&s->wconn, path, SQLITE_OPEN_READWRITE,
	    s->opts.busy_timeout_ms, err)) != JIT_OK)
		goto fail;
	if (exec_sql(s->wconn.db, "PRAGMA journal_mode=WAL") != JIT_OK ||
	    exec_sql(s->wconn.db, "PRAGMA synchronous=FULL") != JIT_OK ||
	    exec_sql(s->wconn.db, "PRAGMA foreign_keys=ON") != JIT_OK) {
		int ec = sqlite3_extended_errcode(s->wconn.db);

		set_err(err, "database %s: %s (%s)%s%s", path,
		    sqlite3_errmsg(s->wconn.db), store_code_name(ec),
		    *store_code_hint(ec) != '\0' ? ": " : "",
		    store_code_hint(ec));
		r = JIT_ERR_STORE;
		goto fail;
	}
	if ((r = quick_check(s->wconn.db, path, err)) != JIT_OK ||
	    (r = migrate(s->wconn.db, create, path, err)) != JIT_OK)
		goto fail;
	if (exec_sql(s->wconn.db, "BEGIN") != JIT_OK ||
	    (r = store_audit_load_head(s)) != JIT_OK) {
		exec_sql(s->wconn.db, "ROLLBACK");
		set_err(err, "%s: cannot read the audit log: %s", path,
		    sqlite3_errmsg(s->wconn.db));
		r = JIT_ERR_STORE;
		goto fail;
	}
	exec_sql(s->wconn.db, "COMMIT");
	s->committed_seq = s->head_seq;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		r = JIT_ERR_SYSTEM;
		goto fail;
	}
	s->writer_started = 1;
	*out = s;
	return JIT_OK;
 fail:
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
	if (s->rconns != NULL)
		for (i = 0; i < s->nrconns; i++)
			conn_close(&s->rconns[i]);
	free(s->rconns);
	if (s->audit_sk != NULL)
		sodium_free(s->audit_sk);
	free(s->path);
	free(s);
}
