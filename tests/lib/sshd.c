/* A real sshd for tests, and the real ssh client (see sshd.h). */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <shadow.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

#define SSHD_DEFAULT_PATH	"/usr/sbin/sshd"
#define SSHD_DEFAULT_BASE	"/run/jit-tests"
#define SSHD_PRIVSEP_DIR	"/run/sshd"
#define SSHD_START_TRIES	3
#define SSHD_START_TIMEOUT_S	10
#define SSH_RUN_TIMEOUT_S	30

struct tu_sshd {
	char	*dir;
	char	*config;
	char	*logpath;
	char	*hostkey;
	char	*hostkey_pub;
	char	*trusted;
	char	*principals;	/* directory */
	char	*krl;		/* NULL without RevokedKeys */
	pid_t	 pid;
	int	 port;
};

static const char *
sshd_path(void)
{
	const char *p = getenv("JIT_SSHD");

	return p != NULL && *p != '\0' ? p : SSHD_DEFAULT_PATH;
}

static int
in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *p;
	int found = 0;

	if (path == NULL)
		path = "/usr/bin:/bin";
	if ((copy = strdup(path)) == NULL)
		return 0;
	for (dir = strtok_r(copy, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		p = tu_path(dir, name);
		found = access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}

int
tu_sshd_available(const char **why)
{
	if (geteuid() != 0) {
		*why = "not running as root (sshd must switch to the "
		    "test account)";
		return 0;
	}
	if (access(sshd_path(), X_OK) != 0) {
		*why = "no sshd binary (set JIT_SSHD or install "
		    "openssh-server)";
		return 0;
	}
	if (!in_path("ssh-keygen") || !in_path("ssh")) {
		*why = "ssh or ssh-keygen not in PATH";
		return 0;
	}
	*why = NULL;
	return 1;
}

/*
 * Checks what StrictModes checks of the directories above a principals
 * file: each, up to /, is owned by root and not group or world writable.
 */
static int
dir_chain_safe(const char *dir)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	if (realpath(dir, path) == NULL) {
		fprintf(stderr, "sshd harness: %s: %s\n", dir, strerror(errno));
		return 0;
	}
	for (;;) {
		if (stat(path, &st) == -1 || st.st_uid != 0 ||
		    (st.st_mode & 022) != 0) {
			fprintf(stderr, "sshd harness: %s is not a root-owned "
			    "directory closed to group and others; sshd's "
			    "StrictModes would refuse it (set JIT_SSHD_BASE)\n",
			    path);
			return 0;
		}
		if (strcmp(path, "/") == 0)
			return 1;
		if ((slash = strrchr(path, '/')) == path)
			path[1] = '\0';
		else
			*slash = '\0';
	}
}

static char *
make_dir(void)
{
	const char *base = getenv("JIT_SSHD_BASE");
	char *dir;

	if (base == NULL || *base == '\0')
		base = SSHD_DEFAULT_BASE;
	if (mkdir(base, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "sshd harness: mkdir %s: %s\n", base,
		    strerror(errno));
		return NULL;
	}
	if (!dir_chain_safe(base))
		return NULL;
	if (asprintf(&dir, "%s/sshd-XXXXXX", base) == -1)
		return NULL;
	if (mkdtemp(dir) == NULL || chmod(dir, 0711) == -1) {
		fprintf(stderr, "sshd harness: mkdtemp %s: %s\n", dir,
		    strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* Runs argv, printing its output on failure.  Returns 0 on exit status 0. */
static int
run_quiet(char *const argv[])
{
	struct tu_out o;
	int ok;

	if (tu_run(argv, NULL, NULL, SSH_RUN_TIMEOUT_S, &o) == -1)
		return -1;
	if (!(ok = o.status == 0))
		fprintf(stderr, "sshd harness: %s exited %d: %s%s\n", argv[0],
		    o.status, o.out, o.err);
	tu_out_free(&o);
	return ok ? 0 : -1;
}

int
tu_ensure_account(const char *name)
{
	char *useradd[] = { "useradd", "-m", "-s", "/bin/sh", (char *)name,
	    NULL };
	char *usermod[] = { "usermod", "-p", "*", (char *)name, NULL };
	struct spwd *sp;

	if (getpwnam(name) == NULL) {
		/* A concurrent run may win the race; look again if so. */
		if (run_quiet(useradd) == -1 && getpwnam(name) == NULL)
			return -1;
	}
	if ((sp = getspnam(name)) == NULL || sp->sp_pwdp == NULL ||
	    sp->sp_pwdp[0] == '!')
		return run_quiet(usermod);
	return 0;
}

/* Writes path through a temporary file and rename(2). */
static void
write_atomic(const char *path, const void *p, size_t len, mode_t mode)
{
	char *tmp;

	if (asprintf(&tmp, "%s.tmp", path) == -1)
		abort();
	tu_write_file(tmp, p, len, mode);
	if (rename(tmp, path) == -1) {
		fprintf(stderr, "sshd harness: rename %s: %s\n", tmp,
		    strerror(errno));
		abort();
	}
	free(tmp);
}

void
tu_sshd_set_principals(struct tu_sshd *s, const char *account,
    const char *const *principals)
{
	char *path = tu_path(s->principals, account), *text = NULL;
	size_t len = 0, i;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		abort();
	for (i = 0; principals != NULL && principals[i] != NULL; i++)
		fprintf(f, "%s\n", principals[i]);
	fclose(f);
	write_atomic(path, text, len, 0644);
	free(text);
	free(path);
}

int
tu_sshd_set_krl(struct tu_sshd *s, const void *krl, size_t len)
{
	if (s->krl == NULL)
		return -1;
	write_atomic(s->krl, krl, len, 0644);
	return 0;
}

static char *
config_text(const struct tu_sshd *s, const struct tu_sshd_opts *opts)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		abort();
	fprintf(f, "# Written by the jitd test harness (tests/lib/sshd.c).\n"
	    "ListenAddress 127.0.0.1:%d\n"
	    "AddressFamily inet\n"
	    "HostKey %s\n"
	    "PidFile none\n"
	    "TrustedUserCAKeys %s\n"
	    "AuthorizedPrincipalsFile %s/%%u\n"
	    "AuthorizedKeysFile none\n",
	    s->port, s->hostkey, s->trusted, s->principals);
	if (s->krl != NULL)
		fprintf(f, "RevokedKeys %s\n", s->krl);
	fprintf(f, "PubkeyAuthentication yes\n"
	    "PasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\n"
	    "HostbasedAuthentication no\n"
	    "UsePAM no\n"
	    "PermitRootLogin no\n"
	    "StrictModes yes\n"
	    "ExposeAuthInfo yes\n"
	    "LogLevel VERBOSE\n"
	    "UseDNS no\n"
	    "PrintMotd no\n"
	    "PrintLastLog no\n"
	    "LoginGraceTime 30\n");
	if (opts->extra_config != NULL)
		fprintf(f, "%s\n", opts->extra_config);
	fclose(f);
	return text;
}

/*
 * Starts sshd with its output appended to the log.  The child asks the
 * kernel for SIGTERM when its parent dies, so a test process that exits
 * without tu_sshd_stop() (a failed check assertion _exit()s) still takes
 * its sshd with it.
 */
static pid_t
spawn_sshd(struct tu_sshd *s)
{
	char *argv[] = { (char *)sshd_path(), "-D", "-e", "-f", s->config,
	    NULL };
	pid_t parent = getpid(), pid;
	sigset_t none;
	int fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid != 0)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(126);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((fd = open(s->logpath, O_WRONLY | O_CREAT | O_APPEND,
	    0600)) == -1)
		_exit(126);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, 0);
		close(fd);
	}
	execv(argv[0], argv);
	_exit(127);
}

/*
 * Waits until sshd says it listens.  Returns 0, 1 if it exited because
 * the port was taken (try another), -1 on any other failure.
 */
static int
wait_listening(struct tu_sshd *s)
{
	char *needle, *log;
	int i, st, r = -1;

	if (asprintf(&needle, "Server listening on 127.0.0.1 port %d.",
	    s->port) == -1)
		abort();
	for (i = 0; i < SSHD_START_TIMEOUT_S * 50; i++) {
		log = tu_sshd_log(s);
		if (tu_contains(log, needle)) {
			free(log);
			r = 0;
			break;
		}
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = -1;
			r = tu_contains(log, "Address already in use") ? 1 : -1;
			free(log);
			break;
		}
		free(log);
		usleep(20000);
	}
	free(needle);
	return r;
}

struct tu_sshd *
tu_sshd_start(const struct tu_sshd_opts *opts)
{
	struct tu_sshd *s;
	char *keygen[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
	    "-C", "jit test sshd host key", "-f", NULL, NULL };
	const char *trusted;
	char *text, *log;
	size_t i;
	int tries, r = -1;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		abort();
	s->pid = -1;
	if (mkdir(SSHD_PRIVSEP_DIR, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "sshd harness: mkdir %s: %s\n",
		    SSHD_PRIVSEP_DIR, strerror(errno));
		goto fail;
	}
	for (i = 0; i < opts->naccounts; i++) {
		if (tu_ensure_account(opts->accounts[i].name) == -1) {
			fprintf(stderr, "sshd harness: cannot create account "
			    "%s\n", opts->accounts[i].name);
			goto fail;
		}
	}
	if ((s->dir = make_dir()) == NULL)
		goto fail;
	s->config = tu_path(s->dir, "sshd_config");
	s->logpath = tu_path(s->dir, "sshd.log");
	s->hostkey = tu_path(s->dir, "host_ed25519");
	s->hostkey_pub = tu_path(s->dir, "host_ed25519.pub");
	s->trusted = tu_path(s->dir, "trusted_user_ca_keys");
	s->principals = tu_path(s->dir, "principals");
	if (opts->krl != NULL)
		s->krl = tu_path(s->dir, "revoked_keys.krl");

	keygen[9] = s->hostkey;
	if (run_quiet(keygen) == -1)
		goto fail;
	if (mkdir(s->principals, 0711) == -1) {
		fprintf(stderr, "sshd harness: mkdir %s: %s\n", s->principals,
		    strerror(errno));
		goto fail;
	}
	for (i = 0; i < opts->naccounts; i++)
		tu_sshd_set_principals(s, opts->accounts[i].name,
		    opts->accounts[i].principals);
	trusted = opts->trusted_ca_keys != NULL ? opts->trusted_ca_keys : "";
	tu_write_file(s->trusted, trusted, strlen(trusted), 0644);
	if (s->krl != NULL)
		tu_write_file(s->krl, opts->krl, opts->krl_len, 0644);

	for (tries = 0; tries < SSHD_START_TRIES; tries++) {
		s->port = tu_free_port();
		tu_write_file(s->logpath, "", 0, 0600);
		text = config_text(s, opts);
		tu_write_file(s->config, text, strlen(text), 0644);
		free(text);
		if ((s->pid = spawn_sshd(s)) == -1) {
			fprintf(stderr, "sshd harness: fork: %s\n",
			    strerror(errno));
			goto fail;
		}
		if ((r = wait_listening(s)) != 1)
			break;
	}
	if (r != 0) {
		log = tu_sshd_log(s);
		fprintf(stderr, "sshd harness: sshd did not start; its log:\n"
		    "%s\n", log);
		free(log);
		goto fail;
	}
	return s;
 fail:
	tu_sshd_stop(s);
	return NULL;
}

void
tu_sshd_stop(struct tu_sshd *s)
{
	const char *keep = getenv("JIT_SSHD_KEEP");

	if (s == NULL)
		return;
	if (s->pid > 0)
		tu_stop(s->pid);
	if (s->dir != NULL) {
		if (keep != NULL && *keep != '\0')
			fprintf(stderr, "sshd harness: kept %s\n", s->dir);
		else
			tu_rmdir(s->dir);
	}
	free(s->dir);
	free(s->config);
	free(s->logpath);
	free(s->hostkey);
	free(s->hostkey_pub);
	free(s->trusted);
	free(s->principals);
	free(s->krl);
	free(s);
}

int
tu_sshd_port(const struct tu_sshd *s)
{
	return s->port;
}

pid_t
tu_sshd_pid(const struct tu_sshd *s)
{
	return s->pid;
}

const char *
tu_sshd_dir(const struct tu_sshd *s)
{
	return s->dir;
}

const char *
tu_sshd_hostkey_pub(const struct tu_sshd *s)
{
	return s->hostkey_pub;
}

const char *
tu_sshd_krl_path(const struct tu_sshd *s)
{
	return s->krl;
}

char *
tu_sshd_log(const struct tu_sshd *s)
{
	char *log = NULL;

	if (s->logpath != NULL)
		log = tu_read_file(s->logpath, NULL);
	if (log == NULL && (log = strdup("")) == NULL)
		abort();
	return log;
}

size_t
tu_sshd_log_mark(const struct tu_sshd *s)
{
	char *log = tu_sshd_log(s);
	size_t len = strlen(log);

	free(log);
	return len;
}

int
tu_sshd_wait_log_since(const struct tu_sshd *s, size_t mark,
    const char *needle, int timeout_s)
{
	char *log;
	int i, found = 0;

	for (i = 0; i <= timeout_s * 50 && !found; i++) {
		if (i > 0)
			usleep(20000);
		log = tu_sshd_log(s);
		found = strlen(log) >= mark && tu_contains(log + mark, needle);
		free(log);
	}
	return found;
}

int
tu_sshd_wait_log(const struct tu_sshd *s, const char *needle, int timeout_s)
{
	return tu_sshd_wait_log_since(s, 0, needle, timeout_s);
}

int
tu_ssh_runv(int port, const char *user, const char *keyfile,
    const char *certfile, char *const extra_args[], const char *command,
    struct tu_out *o)
{
	char *argv[64], portstr[16], *idopt, *certopt = NULL;
	size_t n = 0, i;
	int r;

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (asprintf(&idopt, "IdentityFile=%s", keyfile) == -1 ||
	    (certfile != NULL &&
	    asprintf(&certopt, "CertificateFile=%s", certfile) == -1))
		abort();
	argv[n++] = "ssh";
	argv[n++] = "-F";
	argv[n++] = "/dev/null";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "IdentitiesOnly=yes";
	argv[n++] = "-o";
	argv[n++] = "IdentityAgent=none";
	argv[n++] = "-o";
	argv[n++] = idopt;
	if (certopt != NULL) {
		argv[n++] = "-o";
		argv[n++] = certopt;
	}
	argv[n++] = "-o";
	argv[n++] = "UserKnownHostsFile=/dev/null";
	argv[n++] = "-o";
	argv[n++] = "GlobalKnownHostsFile=/dev/null";
	argv[n++] = "-o";
	argv[n++] = "StrictHostKeyChecking=no";
	argv[n++] = "-o";
	argv[n++] = "PasswordAuthentication=no";
	argv[n++] = "-o";
	argv[n++] = "KbdInteractiveAuthentication=no";
	argv[n++] = "-o";
	argv[n++] = "ConnectTimeout=10";
	argv[n++] = "-o";
	argv[n++] = "LogLevel=ERROR";
	argv[n++] = "-p";
	argv[n++] = portstr;
	argv[n++] = "-l";
	argv[n++] = (char *)user;
	for (i = 0; extra_args != NULL && extra_args[i] != NULL; i++) {
		if (n >= sizeof(argv) / sizeof(argv[0]) - 3)
			abort();
		argv[n++] = extra_args[i];
	}
	argv[n++] = "127.0.0.1";
	if (command != NULL)
		argv[n++] = (char *)command;
	argv[n] = NULL;
	r = tu_run(argv, NULL, NULL, SSH_RUN_TIMEOUT_S, o);
	free(idopt);
	free(certopt);
	return r;
}

int
tu_ssh_run(int port, const char *user, const char *keyfile,
    const char *certfile, const char *command, struct tu_out *o)
{
	return tu_ssh_runv(port, user, keyfile, certfile, NULL, command, o);
}
