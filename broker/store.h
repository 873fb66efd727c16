/*
 * The store: the only code in jitd that speaks SQL, to sqlite3 (the
 * embedded default) or PostgreSQL (several replicas on one database);
 * broker/db.h hides which.
 *
 * Writes go through one writer thread that owns the write connection and
 * commits in groups: callers hand it a job (a function that performs the
 * change through the store_tx_* calls, including its audit events), the
 * writer runs whatever jobs have queued inside one transaction, each job
 * inside its own savepoint so a failing job rolls back alone, commits
 * once, and only then reports each job's result.  A job's change and its
 * audit events are therefore always committed together or not at all.
 *
 * Reads use a small pool of read-only connections (WAL lets them run
 * beside the writer) and see every write whose store_write() returned.
 */
#ifndef JIT_BROKER_STORE_H
#define JIT_BROKER_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define STORE_WUR __attribute__((warn_unused_result))

#define STORE_NAME_MAX		64	/* user and group names */
#define STORE_GROUPS_MAX	64	/* groups of one user */
#define STORE_GROUPS_LEN	(STORE_GROUPS_MAX * (STORE_NAME_MAX + 1))
#define STORE_PWHASH_MAX	128
#define STORE_SEALED_MAX	256
#define STORE_TOKEN_HASH_LEN	32

struct store;
struct store_tx;
struct audit_event;
struct audit_checkpoint;

struct store_opts {
	/* Audit checkpoints: signing key (64-byte Ed25519 secret key). */
	const uint8_t	*audit_sk;
	uint64_t	 checkpoint_every;	/* events; default 1000 */
	int64_t		 checkpoint_interval;	/* seconds; default 60 */
	/* Called by the writer after each commit, once per new event. */
	void		(*on_event)(void *arg, const struct audit_event *ev);
	void		*on_event_arg;
	/*
	 * How long a statement waits for another process's lock before it
	 * fails (and the request answers 503); default 5000 ms.
	 */
	int		 busy_timeout_ms;
	/*
	 * Called by the writer with one sentence when writes start failing
	 * (naming the cause: disk full, locked, I/O error) and when they work
	 * again; NULL: "jitd: store: ..." lines on stderr.
	 */
	void		(*on_log)(void *arg, const char *msg);
	void		*on_log_arg;
};

/*
 * Opens (create != 0: creates) the database at path, applies migrations,
 * runs a quick integrity check and starts the writer thread.  Returns
 * JIT_OK, JIT_ERR_NOT_FOUND (missing and not creating), JIT_ERR_STORE
 * (corrupt, locked, a newer schema, or - when not creating - an empty
 * file or one without jitd's schema).  *err receives a malloc'd sentence
 * on failure when err is not NULL.
 */
int store_open(const char *path, int create, const struct store_opts *opts,
    struct store **out, char **err) STORE_WUR;

/* Stops the writer (after the queued jobs and a final checkpoint), closes. */
void store_close(struct store *s);

/*
 * Runs fn(tx, arg) inside the next group commit and waits for the commit.
 * Returns fn's result if it failed (its changes and events rolled back),
 * JIT_ERR_STORE if the commit failed (nothing of it happened), else JIT_OK.
 */
typedef int (*store_job_fn)(struct store_tx *tx, void *arg);
int store_write(struct store *s, store_job_fn fn, void *arg) STORE_WUR;

/*
 * The same without waiting: done(done_arg, result) is called from the
 * writer thread after the commit (or failure).  Returns JIT_OK if queued.
 */
int store_write_async(struct store *s, store_job_fn fn, void *arg,
    void (*done)(void *done_arg, int result), void *done_arg) STORE_WUR;

/*
 * 1 if this process is the one replica that runs the singleton duties
 * (the expiry sweeper, the outbox worker): always on sqlite; on
 * PostgreSQL whoever holds a session advisory lock, which passes to
 * another replica when the holder's connection ends (it dies).
 */
int store_leader(struct store *s);

/* 1 if the database is PostgreSQL. */
int store_backend_is_pg(const struct store *s);

/*
 * Copies every table of the instance in database from into database to
 * (which must hold no instance yet; its schema is created), in one
 * transaction, and prints a row count per table to report.  Both are
 * store_open() targets.  The source should not be in use meanwhile.
 */
int store_copy(const char *from, const char *to, FILE *report, char **err)
    STORE_WUR;

/* Writes a signed checkpoint now if events were added since the last. */
int store_checkpoint(struct store *s) STORE_WUR;

/* ---- audit ---- */

/*
 * Appends an audit event to the chain inside the job's transaction.
 * details (may be NULL) is not stolen.  Strings are copied.
 */
int store_tx_audit(struct store_tx *tx, const char *actor, const char *action,
    const char *target, const char *outcome, json_t *details) STORE_WUR;

/* The time the writer assigned to this job (seconds since the epoch). */
int64_t store_tx_now(const struct store_tx *tx);

struct store_audit_filter {
	const char	*actor;		/* NULL = any */
	const char	*action;
	const char	*target;
	int64_t		 since;		/* ts >= since; 0 = any */
	int64_t		 until;		/* ts < until; 0 = any */
	uint64_t	 after;		/* seq > after (keyset pagination) */
	unsigned int	 limit;		/* 1..1000 */
};

/*
 * Calls cb for each matching event in seq order (at most limit).  The
 * event is valid only during the call.  Returns JIT_OK, or cb's non-zero
 * result, or JIT_ERR_STORE.
 */
int store_audit_query(struct store *s, const struct store_audit_filter *f,
    int (*cb)(void *arg, const struct audit_event *ev), void *arg) STORE_WUR;

/*
 * Streams the whole log in order from event seq > after: events
 * interleaved with the checkpoints that cover them (each checkpoint right
 * after its event), at most limit events (0 = all).  Exactly one of ev and
 * cp is non-NULL in each call.
 */
int store_audit_export(struct store *s, uint64_t after, uint64_t limit,
    int (*cb)(void *arg, const struct audit_event *ev,
    const struct audit_checkpoint *cp), void *arg) STORE_WUR;

/* Highest committed seq. */
uint64_t store_audit_head(struct store *s);

/* ---- users ---- */

struct store_user {
	int64_t		 id;
	char		 name[STORE_NAME_MAX + 1];
	char		 groups[STORE_GROUPS_LEN];	/* "a,b,c" */
	char		 pwhash[STORE_PWHASH_MAX];	/* "" for federated */
	uint8_t		 totp_sealed[STORE_SEALED_MAX];
	size_t		 totp_sealed_len;
	int		 disabled;
	int		 failed;
	int64_t		 locked_until;
	uint64_t	 last_totp_step;
	char		 slack_id[STORE_NAME_MAX + 1];
	int64_t		 created_at;
	int		 federated;	/* created by an OIDC login */
};

/* JIT_OK, JIT_ERR_NOT_FOUND, JIT_ERR_STORE.  Zeroes *u first. */
int store_user_get(struct store *s, const char *name, struct store_user *u)
    STORE_WUR;
int store_tx_user_get(struct store_tx *tx, const char *name,
    struct store_user *u) STORE_WUR;
int store_user_get_by_id(struct store *s, int64_t id, struct store_user *u)
    STORE_WUR;
/* Calls cb for each user in name order. */
int store_user_list(struct store *s,
    int (*cb)(void *arg, const struct store_user *u), void *arg) STORE_WUR;

/* Inserts u (id and created_at are set); JIT_ERR_EXISTS for a taken name. */
int store_tx_user_insert(struct store_tx *tx, struct store_user *u) STORE_WUR;
/* Updates every mutable field of the user with u->id. */
int store_tx_user_update(struct store_tx *tx, const struct store_user *u)
    STORE_WUR;

/* ---- sessions ---- */

struct store_session {
	uint8_t		 token_hash[STORE_TOKEN_HASH_LEN];
	int64_t		 user_id;
	char		 methods[32];		/* "pwd,otp" */
	int64_t		 auth_time;
	int64_t		 created_at;
	int64_t		 expires_at;
	int		 revoked;
};

int store_tx_session_insert(struct store_tx *tx,
    const struct store_session *ss) STORE_WUR;
/* JIT_OK, JIT_ERR_NOT_FOUND. */
int store_session_get(struct store *s, const uint8_t *token_hash,
    struct store_session *ss) STORE_WUR;
int store_tx_session_get(struct store_tx *tx, const uint8_t *token_hash,
    struct store_session *ss) STORE_WUR;
int store_tx_session_update(struct store_tx *tx,
    const struct store_session *ss) STORE_WUR;
/* Revokes every live session of a user (disable, password reset). */
int store_tx_sessions_revoke_user(struct store_tx *tx, int64_t user_id)
    STORE_WUR;

/* ---- access requests ---- */

#define STORE_REASON_MAX	1024
#define STORE_TICKET_MAX	64

struct store_request {
	int64_t		 id;
	char		 user[STORE_NAME_MAX + 1];
	char		 role[STORE_NAME_MAX + 1];
	char		 reason[STORE_REASON_MAX + 1];
	char		 ticket[STORE_TICKET_MAX + 1];
	int64_t		 duration;
	char		 state[16];		/* wf_state_name() */
	int64_t		 created_at;
	int64_t		 starts_at;		/* 0: at approval */
	int64_t		 pending_until;
	int		 approvals_required;
	int		 approvals;
	int64_t		 approved_at;
	int64_t		 grant_start;
	int64_t		 grant_end;
	int64_t		 decided_at;
	int		 break_glass;
	int64_t		 extends;		/* 0, or the grant it extends */
	char		 review_state[8];	/* "", "open", "closed" */
	char		 reviewed_by[STORE_NAME_MAX + 1];
	char		 review_comment[STORE_REASON_MAX + 1];
	int64_t		 reviewed_at;
};

/* Inserts r and sets r->id. */
int store_tx_request_insert(struct store_tx *tx, struct store_request *r)
    STORE_WUR;
/* Updates every mutable field of the request with r->id. */
int store_tx_request_update(struct store_tx *tx, const struct store_request *r)
    STORE_WUR;
/* JIT_OK, JIT_ERR_NOT_FOUND, JIT_ERR_STORE. */
int store_tx_request_get(struct store_tx *tx, int64_t id,
    struct store_request *r) STORE_WUR;
int store_request_get(struct store *s, int64_t id, struct store_request *r)
    STORE_WUR;

struct store_request_filter {
	const char	*user;		/* NULL: any */
	const char	*state;		/* NULL: any */
	const char	*review_state;	/* NULL: any */
	unsigned int	 limit;		/* 1..1000 */
};

/* Calls cb for each match, newest first. */
int store_request_list(struct store *s, const struct store_request_filter *f,
    int (*cb)(void *arg, const struct store_request *r), void *arg)
    STORE_WUR;

/*
 * Requests whose state must change with time (pending past pending_until,
 * approved at or past grant_end), at most limit, oldest first.
 */
int store_tx_requests_due(struct store_tx *tx, int64_t now, unsigned int limit,
    int64_t *ids, size_t *n) STORE_WUR;

/* Records a vote; JIT_ERR_EXISTS if approver already voted. */
int store_tx_vote_insert(struct store_tx *tx, int64_t request_id,
    const char *approver, const char *decision, const char *comment)
    STORE_WUR;
/* 1 if approver has voted on the request, 0 if not, < 0 on error. */
int store_tx_vote_exists(struct store_tx *tx, int64_t request_id,
    const char *approver);
int store_vote_exists(struct store *s, int64_t request_id,
    const char *approver);
/* Calls cb(arg, approver, decision, comment, at) in vote order. */
int store_votes_list(struct store *s, int64_t request_id,
    int (*cb)(void *arg, const char *approver, const char *decision,
    const char *comment, int64_t at), void *arg) STORE_WUR;

/* ---- issued certificates ---- */

struct store_cert {
	char		 kind[8];		/* "ssh", "x509" */
	char		 serial[48];		/* decimal (ssh) or hex (x509) */
	int64_t		 request_id;
	char		 user[STORE_NAME_MAX + 1];
	char		 fingerprint[80];
	char		 subject[1024];		/* principals csv, or the DN */
	int64_t		 valid_after;
	int64_t		 valid_before;
	int64_t		 issued_at;
};

/* Records an issued certificate; JIT_ERR_EXISTS on a serial collision. */
int store_tx_cert_insert(struct store_tx *tx, const struct store_cert *c)
    STORE_WUR;
/* Calls cb for each certificate issued under a request, oldest first. */
int store_certs_list(struct store *s, int64_t request_id,
    int (*cb)(void *arg, const struct store_cert *c), void *arg) STORE_WUR;
/*
 * Serials (as uint64) of SSH certificates of revoked grants that are
 * still valid at now: the KRL's content.
 */
int store_revoked_ssh_serials(struct store *s, int64_t now,
    uint64_t **serials, size_t *n) STORE_WUR;

/* ---- replay guard ---- */

/*
 * Records that (kind, key) was seen, until expires_at.  Returns JIT_OK the
 * first time and JIT_ERR_EXISTS for a replay (while the record lives).
 * Expired records are purged on the way.  kind is a short tag such as
 * "oidc" or "slack"; key at most 256 bytes (hash longer identifiers).
 */
int store_tx_replay_once(struct store_tx *tx, const char *kind,
    const char *key, int64_t expires_at) STORE_WUR;

/* ---- meta ---- */

/* Small key/value settings (instance id, salts). */
int store_meta_get(struct store *s, const char *key, char *out, size_t outlen)
    STORE_WUR;
int store_tx_meta_set(struct store_tx *tx, const char *key, const char *value)
    STORE_WUR;

#endif
