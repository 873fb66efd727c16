/*
 * Internals shared by the store's source files (store.c, store_*.c).
 * Nothing outside broker/store*.c includes this.
 */
#ifndef JIT_BROKER_STORE_INT_H
#define JIT_BROKER_STORE_INT_H

#include <pthread.h>

#include "common/audit_chain.h"
#include "broker/db.h"
#include "broker/store.h"

/* One database connection (it caches its prepared statements). */
struct conn {
	struct db	*db;
	int		 busy;		/* in use (read pool) */
};

/* An event appended by a job, kept until commit for the on_event hook. */
struct pending_event {
	struct audit_event	 ev;
	char			*actor, *action, *target, *outcome;
	struct pending_event	*next;
};

struct store_tx {
	struct store		*s;
	struct conn		*c;
	int64_t			 now;
	struct pending_event	*events, **tail;
};

struct store {
	char			*path;
	int			 busy_ms;
	struct conn		 leader;	/* PostgreSQL: the leader lock */
	pthread_mutex_t		 lmu;
	struct store_opts	 opts;
	uint8_t			*audit_sk;	/* sodium_malloc'd copy or NULL */
	struct conn		 wconn;
	/* Read pool. */
	pthread_mutex_t		 rmu;
	pthread_cond_t		 rcv;
	struct conn		*rconns;
	int			 nrconns;
	/* Writer. */
	pthread_t		 writer;
	pthread_mutex_t		 wmu;
	pthread_cond_t		 wcv;
	struct job		*queue, **qtail;
	int			 stopping;
	int			 force_cp;	/* checkpoint after next batch */
	int			 writer_started;
	/* Chain head, owned by the writer thread (and by store_open). */
	uint64_t		 head_seq;
	uint8_t			 head_hash[32];
	uint64_t		 cp_seq;	/* last checkpoint */
	int64_t			 cp_time;
	/* Published head for readers. */
	uint64_t		 committed_seq;
	/* Write health, owned by the writer (store_health.c). */
	int			 health_rc;	/* enum db_fault of the failure */
	unsigned long		 health_fails;	/* failed batches since */
	char			 health_code[32];	/* its engine code */
	char			 health_msg[256];	/* and message */
};

/*
 * Returns a reset prepared statement for sql on c (cached by the pointer
 * identity of sql, which must be a string literal), or NULL.
 */
struct db_stmt *conn_stmt(struct conn *c, const char *sql);

/* Read-pool connections. */
struct conn *store_rconn_get(struct store *s);
void store_rconn_put(struct store *s, struct conn *c);

/* Copies a text column into a fixed buffer; returns 0 or -1 if too long. */
int col_text(struct db_stmt *st, int col, char *out, size_t outlen);

/* The schema (store_schema.c): migrations and sqlite's quick check. */
int store_migrate(struct db *d, int create, const char *shown, char **err);
int store_quick_check(struct db *d, const char *shown, char **err);

/* Loads the chain head and last checkpoint (called in store_open). */
int store_audit_load_head(struct store *s);
/* Writes a checkpoint for the head inside the current transaction. */
int store_audit_write_checkpoint(struct store *s, int64_t now);
/* Frees a job's pending events. */
void pending_free(struct pending_event *p);

/*
 * Records the outcome of one write batch: 0 if nothing failed in the
 * database, else the enum db_fault of the first failure (its code and
 * message in health_code and health_msg).  Logs (opts.on_log) when
 * writes start failing or the cause changes, and when they work again.
 */
void store_health_batch(struct store *s, int fault);
/* What an operator can do about a kind of failure (enum db_fault), or "". */
const char *store_fault_hint(int fault);

#endif
