/*
 * A throwaway PostgreSQL cluster for tests: initdb into a private
 * temporary directory owned by an unprivileged account (postgres refuses
 * to run as root; under root the account "jit-pgtest" is created once),
 * one postmaster on 127.0.0.1 and a free port, trust authentication for
 * the superuser "jitd", fsync off, and a database "jitd".  The postmaster
 * is stopped by its PID and the directory removed by pgfix_stop.  Also
 * small libpq helpers to run SQL and read values back for assertions.
 *
 * Nothing here calls check: failures come back as NULL or -1 with a
 * malloc'd sentence in *err, so that the cluster can be started from an
 * unchecked fixture (once per test case, in the runner's process, where
 * its teardown runs even when a test fails).
 */
#ifndef JIT_TESTS_PGFIX_H
#define JIT_TESTS_PGFIX_H

#include <sys/types.h>

#define PGFIX_USER	"jit-pgtest"	/* account the cluster runs as */
#define PGFIX_SUPERUSER	"jitd"		/* initdb -U */
#define PGFIX_DB	"jitd"		/* created by pgfix_start */

struct pgfix;

/*
 * Returns 1 if initdb and postgres are found (JIT_PG_BINDIR, else
 * `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin), or 0
 * with the reason in *why (static string).
 */
int pgfix_available(const char **why);

/*
 * Initialises and starts a cluster and creates database PGFIX_DB.  With
 * JIT_PG_DURABLE set in the environment, fsync and synchronous commits
 * stay on (for benchmarks); by default they are off (tests).
 * Returns the running cluster (stop it with pgfix_stop), or NULL and a
 * malloc'd message, with the server's log when there is one, in *err.
 */
struct pgfix *pgfix_start(char **err);

/*
 * Stops the postmaster by PID (SIGINT, a fast shutdown; SIGKILL after
 * 15 s), reaps it, removes the cluster's directory and frees pg.
 * Accepts NULL.
 */
void pgfix_stop(struct pgfix *pg);

/* "postgresql://jitd@127.0.0.1:PORT/jitd", owned by pg. */
const char *pgfix_uri(const struct pgfix *pg);
int pgfix_port(const struct pgfix *pg);
pid_t pgfix_pid(const struct pgfix *pg);
/* The cluster's private directory (data/ and postgres.log inside). */
const char *pgfix_dir(const struct pgfix *pg);

/*
 * Creates database name ([a-z0-9_], 1..48 characters) in the cluster and
 * returns its malloc'd URI, or NULL with a message in *err.
 */
char *pgfix_createdb(struct pgfix *pg, const char *name, char **err);

/* Rows of a query: cells[row * ncols + col], NULL for SQL NULL. */
struct pgfix_result {
	int	  nrows;
	int	  ncols;
	char	**cells;
};

/*
 * Runs one statement on the database at uri, with nparams text
 * parameters ($1, $2, ...; params may be NULL when nparams is 0).  Fills
 * *res (may be NULL for statements without rows; free with
 * pgfix_result_free).  Returns 0, or -1 with a malloc'd message in *err.
 */
int pgfix_query(const char *uri, const char *sql, int nparams,
    const char *const *params, struct pgfix_result *res, char **err);
void pgfix_result_free(struct pgfix_result *res);

/*
 * The first column of the first row as a malloc'd string in *value (NULL
 * for SQL NULL or no row).  Returns 0, or -1 with a message in *err.
 */
int pgfix_value(const char *uri, const char *sql, int nparams,
    const char *const *params, char **value, char **err);

#endif
