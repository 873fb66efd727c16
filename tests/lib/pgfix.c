/* A throwaway PostgreSQL cluster for tests (see pgfix.h). */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "tests/lib/pgfix.h"
#include "tests/lib/testutil.h"

#define INITDB_TIMEOUT_MS	120000
#define READY_TIMEOUT_MS	60000
#define STOP_TIMEOUT_MS		15000
#define START_ATTEMPTS		3	/* a port taken meanwhile: try another */
#define SUN_PATH_MAX		107	/* sizeof(sun_path) - 1 on Linux */
#define DBNAME_MAX		48

struct pgfix {
	char	*bindir;
	char	*dir;		/* private, owned by uid */
	char	*data;		/* dir/data */
	char	*log;		/* dir/postgres.log */
	char	*uri;
	uid_t	 uid;
	gid_t	 gid;
	int	 port;
	pid_t	 pid;		/* the postmaster */
};

static void
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

static int
has_server(const char *bindir)
{
	char *a = tu_path(bindir, "initdb"), *b = tu_path(bindir, "postgres");
	int ok = access(a, X_OK) == 0 && access(b, X_OK) == 0;

	free(a);
	free(b);
	return ok;
}

/* The bin directory of the newest /usr/lib/postgresql/N, or NULL. */
static char *
newest_versioned_bindir(void)
{
	static const char prefix[] = "/usr/lib/postgresql/";
	glob_t g;
	char *best = NULL;
	long v, bestv = -1;
	size_t i;

	if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) != 0)
		return NULL;
	for (i = 0; i < g.gl_pathc; i++) {
		v = strtol(g.gl_pathv[i] + sizeof(prefix) - 1, NULL, 10);
		if (v > bestv && has_server(g.gl_pathv[i])) {
			free(best);
			best = strdup(g.gl_pathv[i]);
			bestv = v;
		}
	}
	globfree(&g);
	return best;
}

static char *
find_bindir(void)
{
	char *argv[] = { "pg_config", "--bindir", NULL };
	const char *env = getenv("JIT_PG_BINDIR");
	struct tu_out o;
	char *dir = NULL;

	if (env != NULL && *env != '\0')
		return has_server(env) ? strdup(env) : NULL;
	if (tu_run(argv, NULL, NULL, 10, &o) == 0) {
		o.out[strcspn(o.out, "\n")] = '\0';
		if (o.status == 0 && *o.out != '\0' && has_server(o.out))
			dir = strdup(o.out);
		tu_out_free(&o);
	}
	return dir != NULL ? dir : newest_versioned_bindir();
}

int
pgfix_available(const char **why)
{
	char *d = find_bindir();

	*why = NULL;
	if (d == NULL) {
		*why = "no initdb/postgres found (JIT_PG_BINDIR, pg_config "
		    "--bindir, /usr/lib/postgresql/*/bin): install the "
		    "postgresql package (scripts/deps.sh)";
		return 0;
	}
	free(d);
	return 1;
}

/* The unprivileged account the cluster runs as, created if missing. */
static int
run_as_account(uid_t *uid, gid_t *gid, char **err)
{
	char *useradd[] = { "useradd", "--system", "--user-group",
	    "--no-create-home", "--home-dir", "/nonexistent", "--shell",
	    "/usr/sbin/nologin", "--comment", "jitd test PostgreSQL clusters",
	    PGFIX_USER, NULL };
	struct passwd *pw;
	struct tu_out o;

	if (geteuid() != 0) {
		*uid = geteuid();
		*gid = getegid();
		return 0;
	}
	if ((pw = getpwnam(PGFIX_USER)) == NULL) {
		if (tu_run(useradd, NULL, NULL, 30, &o) == 0) {
			if (o.status != 0)
				fprintf(stderr, "pgfix: useradd: %s", o.err);
			tu_out_free(&o);
		}
		/* A concurrent test may have won the race: look again. */
		if ((pw = getpwnam(PGFIX_USER)) == NULL) {
			set_err(err, "cannot create the account %s",
			    PGFIX_USER);
			return -1;
		}
	}
	if (pw->pw_uid == 0) {
		set_err(err, "account %s is root", PGFIX_USER);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/*
 * Starts argv as the cluster's account, in its directory, output to
 * logpath, with a small fixed environment.  The child gets SIGINT (a
 * fast shutdown for postgres) if the thread that started it dies first.
 */
static pid_t
spawn_as(const struct pgfix *pg, char *const argv[], const char *logpath)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C",
	    "TZ=UTC", NULL };
	pid_t parent = getpid(), pid;
	int fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid != 0)
		return pid;
	if (geteuid() != pg->uid && (setgroups(0, NULL) == -1 ||
	    setgid(pg->gid) == -1 || setuid(pg->uid) == -1 ||
	    getuid() != pg->uid))
		_exit(126);
	/* Set after setuid, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGINT) == -1 || getppid() != parent)
		_exit(126);
	if (chdir(pg->dir) == -1)
		_exit(126);
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600)) == -1)
		_exit(126);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, 0);
		close(fd);
	}
	execve(argv[0], argv, envp);
	_exit(127);
}

/* Waits up to ms for pid; returns 1 and its status if it exited. */
static int
wait_exit(pid_t pid, int ms, int *status)
{
	struct timespec ts = { 0, 50 * 1000000L };
	int i;

	for (i = 0; i <= ms / 50; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
stop_postmaster(struct pgfix *pg)
{
	int st;

	if (pg->pid <= 0)
		return;
	kill(pg->pid, SIGINT);
	if (!wait_exit(pg->pid, STOP_TIMEOUT_MS, &st)) {
		fprintf(stderr, "pgfix: postgres %d did not stop in %d s; "
		    "killing it\n", (int)pg->pid, STOP_TIMEOUT_MS / 1000);
		kill(pg->pid, SIGKILL);
		waitpid(pg->pid, &st, 0);
	}
	pg->pid = 0;
}

static void
free_pg(struct pgfix *pg)
{
	free(pg->bindir);
	free(pg->dir);
	free(pg->data);
	free(pg->log);
	free(pg->uri);
	free(pg);
}

void
pgfix_stop(struct pgfix *pg)
{
	if (pg == NULL)
		return;
	stop_postmaster(pg);
	tu_rmdir(pg->dir);
	free_pg(pg);
}

static int
run_initdb(struct pgfix *pg, char **err)
{
	char *bin = tu_path(pg->bindir, "initdb"), *log = tu_path(pg->dir,
	    "initdb.log");
	char *argv[] = { bin, "-D", pg->data, "-A", "trust", "-U",
	    PGFIX_SUPERUSER, "--no-sync", "-E", "UTF8", "--locale=C", NULL };
	pid_t pid;
	int st, r = -1;
	char *out;

	if ((pid = spawn_as(pg, argv, log)) == -1)
		set_err(err, "fork: %s", strerror(errno));
	else if (!wait_exit(pid, INITDB_TIMEOUT_MS, &st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		set_err(err, "initdb did not finish in %d s",
		    INITDB_TIMEOUT_MS / 1000);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		out = tu_read_file(log, NULL);
		set_err(err, "initdb failed (status %d): %s", st,
		    out != NULL ? out : "");
		free(out);
	} else
		r = 0;
	free(bin);
	free(log);
	return r;
}

/*
 * Starts the postmaster on a free port and waits until it accepts
 * connections.  Returns 0; 1 if the port was taken (try another); -1.
 */
static int
run_postmaster(struct pgfix *pg, char **err)
{
	char *bin = tu_path(pg->bindir, "postgres"), port[16], conninfo[128];
	const char *sockdir = strlen(pg->dir) + 24 <= SUN_PATH_MAX ?
	    pg->dir : "";
	char *argv[] = { bin, "-D", pg->data, "-k", (char *)sockdir, "-h",
	    "127.0.0.1", "-p", port, "-c", "fsync=off", "-c",
	    "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
	    "max_connections=200", "-c", "shared_buffers=32MB", "-c",
	    "logging_collector=off", "-c", "TimeZone=UTC", NULL };
	struct timespec ts = { 0, 50 * 1000000L };
	char *log;
	int i, st, r = -1;

	/* Benchmarks compare with sqlite's synchronous=FULL: be durable too. */
	if (getenv("JIT_PG_DURABLE") != NULL) {
		argv[10] = "fsync=on";
		argv[12] = "synchronous_commit=on";
		argv[14] = "full_page_writes=on";
	}
	pg->port = tu_free_port();
	snprintf(port, sizeof(port), "%d", pg->port);
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d user="
	    PGFIX_SUPERUSER " dbname=postgres connect_timeout=2", pg->port);
	if ((pg->pid = spawn_as(pg, argv, pg->log)) == -1) {
		pg->pid = 0;
		set_err(err, "fork: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < READY_TIMEOUT_MS / 50; i++) {
		if (PQping(conninfo) == PQPING_OK) {
			r = 0;
			goto out;
		}
		if (waitpid(pg->pid, &st, WNOHANG) == pg->pid) {
			pg->pid = 0;
			log = tu_read_file(pg->log, NULL);
			if (tu_contains(log, "could not bind") ||
			    tu_contains(log, "already in use"))
				r = 1;
			else
				set_err(err, "postgres exited (status %d): %s",
				    st, log != NULL ? log : "");
			free(log);
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	stop_postmaster(pg);
	log = tu_read_file(pg->log, NULL);
	set_err(err, "postgres did not accept connections in %d s: %s",
	    READY_TIMEOUT_MS / 1000, log != NULL ? log : "");
	free(log);
 out:
	free(bin);
	return r;
}

struct pgfix *
pgfix_start(char **err)
{
	struct pgfix *pg;
	char *e = NULL, *admin = NULL, *u = NULL;
	int i, r = 1;

	if (err != NULL)
		*err = NULL;
	if ((pg = calloc(1, sizeof(*pg))) == NULL) {
		set_err(err, "out of memory");
		return NULL;
	}
	if ((pg->bindir = find_bindir()) == NULL) {
		set_err(err, "no PostgreSQL server binaries found: install the "
		    "postgresql package (scripts/deps.sh) or set JIT_PG_BINDIR");
		goto fail;
	}
	if (run_as_account(&pg->uid, &pg->gid, err) == -1)
		goto fail;
	pg->dir = tu_mkdtemp("pg");
	pg->data = tu_path(pg->dir, "data");
	pg->log = tu_path(pg->dir, "postgres.log");
	if (chown(pg->dir, pg->uid, pg->gid) == -1 ||
	    chmod(pg->dir, 0700) == -1) {
		set_err(err, "chown %s: %s", pg->dir, strerror(errno));
		goto fail;
	}
	if (run_initdb(pg, err) == -1)
		goto fail;
	for (i = 0; i < START_ATTEMPTS && r == 1; i++)
		r = run_postmaster(pg, err);
	if (r != 0) {
		if (r == 1)
			set_err(err, "postgres found no free port in %d tries",
			    START_ATTEMPTS);
		goto fail;
	}
	if (asprintf(&admin, "postgresql://" PGFIX_SUPERUSER
	    "@127.0.0.1:%d/postgres", pg->port) == -1 ||
	    pgfix_query(admin, "CREATE DATABASE " PGFIX_DB, 0, NULL, NULL,
	    &e) == -1) {
		set_err(err, "CREATE DATABASE " PGFIX_DB ": %s", e != NULL ? e :
		    "out of memory");
		goto fail;
	}
	if (asprintf(&u, "postgresql://" PGFIX_SUPERUSER "@127.0.0.1:%d/"
	    PGFIX_DB, pg->port) == -1)
		goto fail;
	pg->uri = u;
	free(admin);
	return pg;
 fail:
	free(e);
	free(admin);
	if (pg->dir != NULL)
		stop_postmaster(pg);
	tu_rmdir(pg->dir);
	free_pg(pg);
	return NULL;
}

const char *
pgfix_uri(const struct pgfix *pg)
{
	return pg->uri;
}

int
pgfix_port(const struct pgfix *pg)
{
	return pg->port;
}

pid_t
pgfix_pid(const struct pgfix *pg)
{
	return pg->pid;
}

const char *
pgfix_dir(const struct pgfix *pg)
{
	return pg->dir;
}

char *
pgfix_createdb(struct pgfix *pg, const char *name, char **err)
{
	char *admin = NULL, *sql = NULL, *uri = NULL;
	size_t i, len = strlen(name);

	if (err != NULL)
		*err = NULL;
	for (i = 0; i < len; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_')
			break;
	if (len == 0 || len > DBNAME_MAX || i != len) {
		set_err(err, "invalid database name");
		return NULL;
	}
	/* A name is an identifier, not a parameter: checked above. */
	if (asprintf(&admin, "postgresql://" PGFIX_SUPERUSER
	    "@127.0.0.1:%d/postgres", pg->port) == -1 ||
	    asprintf(&sql, "CREATE DATABASE %s", name) == -1) {
		set_err(err, "out of memory");
		goto out;
	}
	if (pgfix_query(admin, sql, 0, NULL, NULL, err) == -1)
		goto out;
	if (asprintf(&uri, "postgresql://" PGFIX_SUPERUSER "@127.0.0.1:%d/%s",
	    pg->port, name) == -1)
		uri = NULL;
 out:
	free(admin);
	free(sql);
	return uri;
}

void
pgfix_result_free(struct pgfix_result *res)
{
	int i;

	if (res == NULL || res->cells == NULL)
		return;
	for (i = 0; i < res->nrows * res->ncols; i++)
		free(res->cells[i]);
	free(res->cells);
	memset(res, 0, sizeof(*res));
}

int
pgfix_query(const char *uri, const char *sql, int nparams,
    const char *const *params, struct pgfix_result *res, char **err)
{
	PGconn *c;
	PGresult *pr = NULL;
	ExecStatusType st;
	int i, j, r = -1;

	if (err != NULL)
		*err = NULL;
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if ((c = PQconnectdb(uri)) == NULL) {
		set_err(err, "out of memory");
		return -1;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		set_err(err, "connect: %s", PQerrorMessage(c));
		goto out;
	}
	pr = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(pr);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_err(err, "%s: %s", sql, PQerrorMessage(c));
		goto out;
	}
	if (res != NULL && st == PGRES_TUPLES_OK) {
		res->nrows = PQntuples(pr);
		res->ncols = PQnfields(pr);
		if ((res->cells = calloc((size_t)res->nrows * res->ncols + 1,
		    sizeof(char *))) == NULL) {
			set_err(err, "out of memory");
			goto out;
		}
		for (i = 0; i < res->nrows; i++)
			for (j = 0; j < res->ncols; j++)
				if (!PQgetisnull(pr, i, j) &&
				    (res->cells[i * res->ncols + j] =
				    strdup(PQgetvalue(pr, i, j))) == NULL) {
					set_err(err, "out of memory");
					goto out;
				}
	}
	r = 0;
 out:
	if (r == -1)
		pgfix_result_free(res);
	PQclear(pr);
	PQfinish(c);
	return r;
}

int
pgfix_value(const char *uri, const char *sql, int nparams,
    const char *const *params, char **value, char **err)
{
	struct pgfix_result res;

	*value = NULL;
	if (pgfix_query(uri, sql, nparams, params, &res, err) == -1)
		return -1;
	if (res.nrows > 0 && res.ncols > 0) {
		*value = res.cells[0];
		res.cells[0] = NULL;
	}
	pgfix_result_free(&res);
	return 0;
}
