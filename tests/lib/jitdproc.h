/*
 * A real bin/jitd for integration tests, run as an operator runs it: a
 * fresh instance made by `jitd init` in a private temporary directory,
 * config edits, `jitd user add`, `jitd serve` in the background (stopped by
 * PID, or killed with SIGKILL), operator commands, logins with codes from
 * oathtool, and waiting for the daemon's log.  The helpers fail the
 * running check test on any surprise.  A daemon still running when the
 * test process exits (a failed assertion) is killed by an atexit handler.
 */
#ifndef JIT_TESTS_JITDPROC_H
#define JIT_TESTS_JITDPROC_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

#define JP_PASSWORD	"correct horse battery"

struct sqlite3;

struct jp {
	char	*tmp;		/* private temporary directory */
	char	*inst;		/* tmp/inst, made by jitd init */
	char	*cfg;		/* inst/jitd.json */
	char	*db;		/* inst/jitd.db (unless "database" moves) */
	char	*jitd;		/* $JIT_BIN/jitd */
	char	*logpath;	/* tmp/jitd.log: the daemon's stderr */
	char	 base[64];	/* "http://127.0.0.1:PORT" */
	int	 port;
	pid_t	 pid;		/* the running daemon, or 0 */
};

/* Makes an instance listening on a free loopback port; tag names tmp. */
void jp_init(struct jp *j, const char *tag);
/* Stops the daemon if it runs and removes the temporary directory. */
void jp_free(struct jp *j);

/* Sets (value NULL: deletes) a top-level config key; steals value. */
void jp_set_config(struct jp *j, const char *key, json_t *value);

/*
 * Adds a user with password JP_PASSWORD and the comma-separated groups;
 * returns the TOTP secret (base32) in b32.
 */
void jp_add_user(struct jp *j, const char *name, const char *groups,
    char b32[64]);

/*
 * Runs `jitd -c CFG ARGS...` (NULL-terminated, at most 8) and returns its
 * status and output (free with tu_out_free).
 */
struct tu_out jp_run(struct jp *j, ...);

/* Starts `jitd serve` and waits until this daemon listens. */
void jp_start(struct jp *j);
/* SIGTERM, reap, and fail the test on a sanitizer report in the log. */
void jp_stop(struct jp *j);
/* SIGTERM, reap, and return the wait status (no sanitizer check). */
int jp_term(struct jp *j);
/* SIGKILL and reap: a crash at an arbitrary moment. */
void jp_kill9(struct jp *j);

/* Waits up to timeout_s for text in the daemon's log; 1 if it appeared. */
int jp_log_wait(struct jp *j, const char *text, int timeout_s);

/*
 * One HTTP request to the daemon (path like "/v1/me"; token may be NULL,
 * body may be NULL).  Returns 0, or -1 when no HTTP answer came (r is
 * then empty but may be freed).
 */
int jp_http(struct jp *j, const char *method, const char *path,
    const char *token, const char *body, struct tu_resp *r);

/*
 * Logs user in with the password and the TOTP code of time t; returns the
 * HTTP status (-1: no answer) and, on 200, a malloc'd token in *token (if
 * token is not NULL).
 */
long jp_login(struct jp *j, const char *user, const char *b32, int64_t t,
    char **token);

/*
 * Opens the instance database read-only with the sqlite3 API (beside a
 * running daemon, as WAL allows); close with sqlite3_close.
 */
struct sqlite3 *jp_db_open(struct jp *j);
/* The first column of the first row of sql as an integer (-1: no row). */
long long jp_db_int(struct sqlite3 *db, const char *sql);
/* Fails the test unless PRAGMA integrity_check says "ok". */
void jp_db_integrity_ok(struct jp *j);
/* Fails the test unless `jitd audit verify` finds the chain intact. */
void jp_audit_verify_ok(struct jp *j);

#endif
