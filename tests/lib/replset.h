/*
 * Several real `jitd serve` processes on one shared database, as an
 * operator would run them: one instance made with `jitd init` (on sqlite,
 * or with --database URI on PostgreSQL), copied into one directory per
 * replica (same ca/, secrets.key and ca.key) whose jitd.json differs only
 * in "listen".  Replicas are started, stopped (SIGTERM) and killed
 * (SIGKILL) by PID.  Users come from `jitd user add` and log in over
 * HTTP with codes from oathtool.  A TOTP code is accepted once in the
 * whole cluster, so the fixture remembers each user's last accepted step
 * and logs in with the next one (at most two logins per user and 30 s
 * step; a third waits for the clock).
 *
 * The helpers fail the running check test on any surprise, except
 * rs_http, which reports a transport error so a test can tell a killed
 * replica from a wrong answer.
 */
#ifndef JIT_TESTS_REPLSET_H
#define JIT_TESTS_REPLSET_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "tests/lib/http.h"
#include "tests/lib/pgfix.h"
#include "tests/lib/testutil.h"

#define RS_MAX		4
#define RS_USERS_MAX	48
#define RS_PASSWORD	"correct horse battery"

struct rs_user {
	char	 name[32];
	char	 b32[64];
	char	 token[64];	/* of the last successful login */
	int64_t	 step;		/* last TOTP step accepted for this user */
};

struct rs_replica {
	char		*dir;		/* instance directory of this replica */
	char		*cfg;		/* dir/jitd.json */
	char		*log;		/* stdout and stderr of serve */
	int		 port;
	pid_t		 pid;		/* 0 when not running */
	volatile int	 up;		/* 0 once stopped or being killed */
};

struct replset {
	char		*tmp;		/* private directory holding it all */
	char		*database;	/* URI, or NULL for the sqlite file */
	char		*jitd;		/* $JIT_BIN/jitd */
	int		 n;		/* replicas made by rs_replicate */
	struct rs_replica r[RS_MAX];
	struct rs_user	 users[RS_USERS_MAX];
	int		 nusers;
};

/*
 * Creates the instance in TMP/r0 with `jitd init` (plus --database when
 * database is not NULL) and merges the members of the JSON object
 * config_patch (may be NULL) into its jitd.json.
 */
void rs_init(struct replset *rs, const char *tag, const char *database,
    const char *config_patch);

/* Writes a file into the instance directory (before rs_replicate). */
void rs_put_file(struct replset *rs, const char *name, const char *data);

/* `jitd -c CONFIG-of-replica-0 user add NAME --groups GROUPS`. */
void rs_add_user(struct replset *rs, const char *name, const char *groups);
/* The same for a NULL-terminated list of "NAME:GROUPS", two at a time. */
void rs_add_users(struct replset *rs, const char *const *specs);
struct rs_user *rs_user(struct replset *rs, const char *name);

/*
 * Copies the instance to n-1 more directories and gives every replica
 * its own free port in "listen".
 */
void rs_replicate(struct replset *rs, int n);

/* Starts replicas [from, to) at once and waits until each listens. */
void rs_start(struct replset *rs, int from, int to);
/* SIGTERM, reap, and require a clean exit without sanitizer reports. */
void rs_stop(struct replset *rs, int i);
/* SIGKILL and reap. */
void rs_kill(struct replset *rs, int i);
/* Stops whatever still runs and removes everything (teardown). */
void rs_free(struct replset *rs);

/*
 * One HTTP request to replica i as user (NULL: anonymous, else the
 * user's last token).  Returns 0, or -1 if no HTTP answer came.
 */
int rs_http(struct replset *rs, int i, const char *method, const char *path,
    const char *user, const char *body, struct tu_resp *r);
/* The same, failing the test on a transport error. */
void rs_call(struct replset *rs, int i, const char *method, const char *path,
    const char *user, const char *body, struct tu_resp *r);

/*
 * Logs user in on replica i with the code of the given TOTP step and
 * password (NULL: the right one).  Returns the HTTP status; on 200 keeps
 * the token and the step.
 */
long rs_login_step(struct replset *rs, int i, const char *name, int64_t step,
    const char *password);
/* The next step user may use now (waits if it lies in the future). */
int64_t rs_next_step(struct replset *rs, const char *name);
/* Logs user in on replica i with its next step; requires 200. */
void rs_login(struct replset *rs, int i, const char *name);

/* Runs `jitd -c CONFIG-of-replica-i ARGS...` (NULL-terminated). */
void rs_jitd(struct replset *rs, int i, struct tu_out *o, ...);

/*
 * Runs one query on the shared database, with libpq on PostgreSQL and
 * the sqlite3 shell on sqlite, and returns its rows as malloc'd text: one
 * line per row, columns separated by a tab, NULL as "".  Keep the SQL
 * portable (CAST(x AS TEXT), no backend functions).
 */
char *rs_sql(struct replset *rs, const char *sql);
/* The same for a single integer (count(*), max(seq)); NULL is 0. */
long long rs_sql_int(struct replset *rs, const char *sql);

/*
 * `jitd audit verify` on the shared database passes; returns the number
 * of events it reports.
 */
long rs_audit_verify(struct replset *rs);
/* Approvals of request id whose audit event says they decided it. */
int rs_transitions(struct replset *rs, json_int_t id);
/*
 * Stops the replicas still running (cleanly), then requires: `jitd audit
 * verify` passes, the audit sequence is 1..N without a gap, no request
 * made its approval transition twice, each request's approvals are its
 * votes and none has more than it needs.
 */
void rs_final_checks(struct replset *rs);

/*
 * Whether the replica tests run on PostgreSQL: yes, unless JIT_TEST_DB is
 * "sqlite" (a debugging aid: one replica on sqlite, no kills); then *why
 * says so (static string).
 */
int rs_want_postgres(const char **why);

/*
 * For a test case's unchecked fixture (check runs it in the runner's
 * process, and its teardown even when a test fails): starts the
 * PostgreSQL cluster when rs_want_postgres says so (else notes on stderr
 * that the tests run on sqlite) and points TMPDIR at a private directory
 * for the tests' files, which rs_suite_down removes with the cluster:
 * in fork mode a failed test never reaches its own teardown.  Returns the
 * cluster, or NULL for sqlite.
 */
struct pgfix *rs_suite_up(const char *tag);
void rs_suite_down(struct pgfix *pg);

#endif
