/*
 * jit-session: the server-side wrapper sshd runs as its ForceCommand.  It
 * reads the certificate the user logged in with from the file named by
 * $SSH_USER_AUTH (sshd's ExposeAuthInfo), checks it against the trusted
 * user CA, and runs the user's shell (or the certificate's own
 * force-command) in a process group of its own.  It ends that group
 * (SIGHUP, then SIGTERM, then SIGKILL) when the grant ends, which may be
 * long after the five-minute certificate expired, or as soon as the
 * certificate's serial appears in the installed KRL.  It never fails
 * open: without a certificate it can read and verify, nothing runs.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/krl_read.h"
#include "clients/sshcert.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"

#define DEFAULT_KRL	"/etc/ssh/jitd.krl"
#define DEFAULT_CA	"/etc/ssh/jitd_user_ca.pub"
#define CERTS_MAX	4	/* certificates in one login */
#define POLL_MS		200
#define KRL_CHECK_S	2	/* how often the KRL's mtime is looked at */
#define KRL_BAD_MAX	3	/* consecutive unreadable KRLs tolerated */
#define GRACE_S		2	/* between SIGHUP, SIGTERM and SIGKILL */
#define EXIT_REFUSED	1
#define EXIT_ENDED	1

static const char usage[] =
"usage: jit-session [--krl FILE|none] [--ca-key FILE] [--grace SECONDS]\n"
"\n"
"Run by sshd as its ForceCommand (with ExposeAuthInfo yes).  Checks the\n"
"certificate of the login against the user CA (--ca-key, default\n"
DEFAULT_CA ") and the KRL (--krl, else $JIT_SESSION_KRL,\n"
"default " DEFAULT_KRL "), runs the user's shell or the requested\n"
"command, and ends the session when the grant ends or the certificate\n"
"is revoked.\n";

static volatile sig_atomic_t got_signal;

struct state {
	struct sshc_cert	 certs[CERTS_MAX];
	size_t			 ncerts;
	int64_t			 end;		/* when the session must end */
	const char		*krl_path;	/* NULL: no KRL */
	struct stat		 krl_st;
	int			 krl_bad;
	int			 grace;
};

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
say(const char *msg)
{
	fprintf(stderr, "jit-session: %s\n", msg);
}

/* Reads every certificate of the login; all must verify. */
static int
read_certs(struct state *st, const struct sshc_cas *cas)
{
	const char *path = getenv("SSH_USER_AUTH"), *line, *nl, *end;
	uint8_t *d = NULL;
	size_t len = 0;
	int r = JIT_ERR_INTERNAL;

	if (path == NULL || *path == '\0') {
		say("no $SSH_USER_AUTH: sshd needs \"ExposeAuthInfo yes\"; "
		    "refusing to start a session");
		return JIT_ERR_NOT_FOUND;
	}
	if ((r = fileio_read(path, JIT_FILE_MAX, FILEIO_NOFOLLOW, &d,
	    &len)) != JIT_OK) {
		fprintf(stderr, "jit-session: %s: %s; refusing to start a "
		    "session\n", path, r == JIT_ERR_SYSTEM ? strerror(errno) :
		    jit_strerror(r));
		return r;
	}
	end = (const char *)d + len;
	for (line = (const char *)d; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if ((size_t)(nl - line) < 10 || memcmp(line, "publickey ",
		    10) != 0 || memmem(line, (size_t)(nl - line),
		    "-cert-v01@openssh.com ", 22) == NULL)
			continue;
		if (st->ncerts >= CERTS_MAX) {
			r = JIT_ERR_LIMIT;
			break;
		}
		if ((r = sshc_cert_parse_line(line + 10, (size_t)(nl - line -
		    10), cas, &st->certs[st->ncerts])) != JIT_OK)
			break;
		st->ncerts++;
	}
	if (r == JIT_OK && st->ncerts == 0)
		r = JIT_ERR_NOT_FOUND;
	if (r != JIT_OK)
		fprintf(stderr, "jit-session: no certificate of the user CA "
		    "in %s (%s); refusing to start a session\n", path,
		    jit_strerror(r));
	free(d);
	return r;
}

/*
 * Loads the KRL if it changed since the last look.  Returns 1 if one of
 * the session's certificates is revoked, 0 if not, -1 if the KRL could
 * not be read.
 */
static int
check_krl(struct state *st, int force)
{
	struct krlr *k = NULL;
	struct stat sb;
	uint8_t *d = NULL;
	size_t len = 0, i;
	int r, revoked = 0;

	if (st->krl_path == NULL)
		return 0;
	if (stat(st->krl_path, &sb) == -1)
		return -1;
	if (!force && sb.st_ino == st->krl_st.st_ino &&
	    sb.st_size == st->krl_st.st_size &&
	    sb.st_mtim.tv_sec == st->krl_st.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == st->krl_st.st_mtim.tv_nsec)
		return 0;
	if ((r = fileio_read(st->krl_path, JIT_BUF_MAX, 0, &d, &len)) !=
	    JIT_OK || (r = krlr_parse(d, len, NULL, 0, &k)) != JIT_OK) {
		free(d);
		return -1;
	}
	for (i = 0; i < st->ncerts; i++) {
		if (krlr_is_revoked(k, st->certs[i].ca_pk,
		    st->certs[i].serial))
			revoked = 1;
	}
	st->krl_st = sb;
	krlr_free(k);
	free(d);
	return revoked;
}

/* 1 once every process of the group is gone (the child reaped). */
static int
group_gone(pid_t pid, int *child_done, int *status)
{
	if (!*child_done && waitpid(pid, status, WNOHANG) == pid)
		*child_done = 1;
	return *child_done && kill(-pid, 0) == -1 && errno == ESRCH;
}

/* Ends the process group: SIGHUP, SIGTERM, then SIGKILL. */
/*
 * Kills every process left below us.  jit-session is a child subreaper,
 * so descendants that left the session's process group (setsid, double
 * fork) are reparented here rather than to init: find our children in
 * /proc, kill them, reap, and repeat until none is left.
 */
static void
kill_descendants(void)
{
	char path[64], line[256];
	struct dirent *de;
	pid_t self = getpid(), p;
	DIR *d;
	FILE *f;
	int round, found;

	for (round = 0; round < 100; round++) {
		found = 0;
		if ((d = opendir("/proc")) == NULL)
			return;
		while ((de = readdir(d)) != NULL) {
			if ((p = (pid_t)atoi(de->d_name)) <= 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/status", (int)p);
			if ((f = fopen(path, "r")) == NULL)
				continue;
			while (fgets(line, sizeof(line), f) != NULL) {
				if (strncmp(line, "PPid:", 5) == 0) {
					if ((pid_t)atoi(line + 5) == self) {
						(void)kill(p, SIGKILL);
						found = 1;
					}
					break;
				}
			}
			fclose(f);
		}
		closedir(d);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			return;
		usleep(50 * 1000);
	}
}

static void
end_group(pid_t pid, int grace, int *child_done, int *status)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGKILL };
	size_t i;
	int t, limit;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (group_gone(pid, child_done, status))
			return;
		(void)kill(-pid, sigs[i]);
		if (sigs[i] != SIGKILL)
			(void)kill(-pid, SIGCONT);
		limit = sigs[i] == SIGKILL ? 50 : grace * 10;
		for (t = 0; t < limit; t++) {
			if (group_gone(pid, child_done, status))
				return;
			usleep(100 * 1000);
		}
	}
	if (!*child_done && waitpid(pid, status, 0) == pid)
		*child_done = 1;
}

/* Runs argv[0] in a process group of its own; returns its pid or -1. */
static pid_t
start_child(char *const argv[], const char *path)
{
	pid_t parent = getpid(), pid;
	sigset_t none;
	int sig;

	if ((pid = fork()) == -1)
		return -1;
	if (pid != 0) {
		(void)setpgid(pid, pid);
		return pid;
	}
	(void)setpgid(0, 0);
	if (isatty(STDIN_FILENO))
		(void)tcsetpgrp(STDIN_FILENO, getpid());
	/* If the wrapper dies, so does the shell (never fail open). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(126);
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(path, argv);
	fprintf(stderr, "jit-session: %s: %s\n", path, strerror(errno));
	_exit(127);
}

static void
log_certs(const struct state *st, const char *what, const char *detail)
{
	size_t i;

	for (i = 0; i < st->ncerts; i++)
		syslog(LOG_NOTICE, "%s: key id %s serial %" PRIu64 "%s%s",
		    what, st->certs[i].key_id, st->certs[i].serial,
		    detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

/* Decides the session's end from the certificates; 0 or -1 (refused). */
static int
session_end(struct state *st, int64_t now)
{
	const struct sshc_cert *c;
	int64_t e;
	size_t i;

	st->end = INT64_MAX;
	for (i = 0; i < st->ncerts; i++) {
		c = &st->certs[i];
		/* The grant decides; a certificate without one, its expiry. */
		e = c->grant_end >= 0 ? c->grant_end : c->valid_before >
		    (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)c->valid_before;
		if (e < st->end)
			st->end = e;
		if (c->valid_after > (uint64_t)(now + JIT_CLOCK_SKEW) ||
		    c->valid_before + JIT_CLOCK_SKEW < (uint64_t)now) {
			say("the certificate is not valid now; refusing to "
			    "start a session");
			return -1;
		}
	}
	if (st->end <= now) {
		say("grant ended; refusing to start a session");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "krl", required_argument, NULL, 'k' },
		{ "ca-key", required_argument, NULL, 'c' },
		{ "grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct state st;
	struct sshc_cas cas;
	struct sigaction sa;
	struct passwd *pw;
	const char *ca_path = DEFAULT_CA, *cmd, *shell, *base, *why = NULL;
	char *sargv[4], *argv0 = NULL, detail[64];
	int64_t now, last_krl;
	pid_t pid = -1;
	int ch, status = 0, child_done = 0, rc = EXIT_REFUSED, r, tty;
	size_t i;

	memset(&st, 0, sizeof(st));
	memset(&cas, 0, sizeof(cas));
	st.grace = GRACE_S;
	if ((st.krl_path = getenv("JIT_SESSION_KRL")) == NULL ||
	    *st.krl_path == '\0')
		st.krl_path = DEFAULT_KRL;
	openlog("jit-session", LOG_PID | LOG_NDELAY, LOG_AUTH);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'k':
			st.krl_path = strcmp(optarg, "none") == 0 ? NULL :
			    optarg;
			break;
		case 'c':
			ca_path = optarg;
			break;
		case 'g':
			st.grace = atoi(optarg);
			if (st.grace < 0 || st.grace > 60)
				st.grace = GRACE_S;
			break;
		case 'h':
			fputs(usage, stdout);
			rc = 0;
			goto out;
		default:
			fputs(usage, stderr);
			goto out;
		}
	}
	if (optind != argc || sodium_init() < 0) {
		fputs(usage, stderr);
		goto out;
	}
	if ((r = sshc_cas_load(ca_path, &cas)) != JIT_OK) {
		fprintf(stderr, "jit-session: %s: %s; refusing to start a "
		    "session\n", ca_path, r == JIT_ERR_SYSTEM ?
		    strerror(errno) : jit_strerror(r));
		syslog(LOG_ERR, "refused: cannot read the CA key %s", ca_path);
		goto out;
	}
	if (read_certs(&st, &cas) != JIT_OK) {
		syslog(LOG_WARNING, "refused: no verifiable certificate for "
		    "uid %u", (unsigned)getuid());
		goto out;
	}
	now = (int64_t)time(NULL);
	if (session_end(&st, now) != 0) {
		log_certs(&st, "refused", "grant ended or certificate "
		    "expired");
		goto out;
	}
	if ((r = check_krl(&st, 1)) != 0) {
		say(r > 0 ? "certificate revoked; refusing to start a "
		    "session" : "cannot read the revocation list; refusing "
		    "to start a session");
		log_certs(&st, "refused", r > 0 ? "revoked" :
		    "KRL unreadable");
		goto out;
	}
	if ((pw = getpwuid(getuid())) == NULL) {
		say("no passwd entry for this user");
		goto out;
	}
	shell = pw->pw_shell != NULL && *pw->pw_shell != '\0' ?
	    pw->pw_shell : "/bin/sh";
	base = strrchr(shell, '/') != NULL ? strrchr(shell, '/') + 1 : shell;
	/* The certificate's force-command wins over what the client asks. */
	cmd = getenv("SSH_ORIGINAL_COMMAND");
	for (i = st.ncerts; i > 0; i--) {
		if (st.certs[i - 1].has_force_command)
			cmd = st.certs[i - 1].force_command;
	}
	if (cmd != NULL) {
		sargv[0] = (char *)base;
		sargv[1] = "-c";
		sargv[2] = (char *)cmd;
		sargv[3] = NULL;
	} else {
		if (asprintf(&argv0, "-%s", base) == -1)
			goto out;
		sargv[0] = argv0;
		sargv[1] = NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	snprintf(detail, sizeof(detail), "until %lld", (long long)st.end);
	log_certs(&st, "session start", detail);
	/* Orphans of the session come to us, not to init (see above). */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if ((pid = start_child(sargv, shell)) == -1) {
		say("cannot start the shell");
		goto out;
	}
	last_krl = now;
	for (;;) {
		pid_t w;
		int wst;

		/*
		 * As a subreaper we also inherit the session's orphans (a
		 * double fork or setsid); reap them, notice the shell.
		 */
		while ((w = waitpid(-1, &wst, WNOHANG)) > 0) {
			if (w == pid) {
				status = wst;
				child_done = 1;
			}
		}
		if (child_done)
			break;
		now = (int64_t)time(NULL);
		if (got_signal) {
			why = "hangup";
			break;
		}
		if (now >= st.end) {
			why = "grant ended";
			break;
		}
		if (now - last_krl >= KRL_CHECK_S) {
			last_krl = now;
			if ((r = check_krl(&st, 0)) > 0) {
				why = "certificate revoked";
				break;
			}
			st.krl_bad = r < 0 ? st.krl_bad + 1 : 0;
			if (st.krl_bad >= KRL_BAD_MAX) {
				why = "revocation list unreadable";
				break;
			}
		}
		usleep(POLL_MS * 1000);
	}
	if (why != NULL && strcmp(why, "hangup") != 0) {
		tty = isatty(STDERR_FILENO);
		fprintf(stderr, "%sjit-session: %s; closing session%s\n",
		    tty ? "\r\n" : "", why, tty ? "\r" : "");
	}
	/* Nothing of the session outlives it, however it ended. */
	end_group(pid, why != NULL ? st.grace : 1, &child_done, &status);
	kill_descendants();
	if (why != NULL)
		rc = EXIT_ENDED;
	else if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		rc = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
	if (why == NULL)
		snprintf(detail, sizeof(detail), "exit status %d", rc);
	log_certs(&st, "session end", why != NULL ? why : detail);
 out:
	free(argv0);
	closelog();
	return rc;
}
