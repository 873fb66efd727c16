/* sshd_config's managed block, `sshd -t` and reloads (see sshdconf.h). */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clients/sshdconf.h"
#include "common/err.h"
#include "common/fileio.h"

#define OUTPUT_MAX	(64 * 1024)
#define PIDFILE		"/run/sshd.pid"

static const char *const keywords[] = {
	"TrustedUserCAKeys", "AuthorizedPrincipalsFile", "RevokedKeys",
	"ExposeAuthInfo", "ForceCommand", NULL
};

/* 1 if the line [p, e) starts with marker (after optional blanks). */
static int
is_marker(const char *p, const char *e, const char *marker)
{
	size_t n = strlen(marker);

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return (size_t)(e - p) >= n && memcmp(p, marker, n) == 0;
}

int
sshdconf_apply_block(const char *text, size_t len, const char *block,
    char **out, int *had)
{
	const char *p, *e, *end = text + len;
	char *res = NULL;
	size_t rlen = 0;
	FILE *f = NULL;
	int inside = 0, placed = 0, r = JIT_ERR_INTERNAL;

	*out = NULL;
	*had = 0;
	if ((f = open_memstream(&res, &rlen)) == NULL)
		return JIT_ERR_ALLOC;
	for (p = text; p < end; p = e) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		else
			e++;
		if (is_marker(p, e, SSHDCONF_BEGIN)) {
			if (inside) {
				r = JIT_ERR_INVALID_FORMAT;
				goto out;
			}
			inside = 1;
			if (!placed) {
				fputs(block, f);
				placed = *had = 1;
			}
			continue;
		}
		if (is_marker(p, e, SSHDCONF_END)) {
			if (!inside) {
				r = JIT_ERR_INVALID_FORMAT;
				goto out;
			}
			inside = 0;
			continue;
		}
		if (inside)
			continue;
		if (!placed) {
			/* New: the block goes first, so its values win. */
			fputs(block, f);
			placed = 1;
		}
		fwrite(p, 1, (size_t)(e - p), f);
		if (e == end && e > p && e[-1] != '\n')
			fputc('\n', f);
	}
	if (inside) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (!placed)
		fputs(block, f);
	if (fclose(f) != 0) {
		f = NULL;
		r = JIT_ERR_ALLOC;
		goto out;
	}
	f = NULL;
	*out = res;
	res = NULL;
	r = JIT_OK;
 out:
	if (f != NULL)
		fclose(f);
	free(res);
	return r;
}

char *
sshdconf_conflicts(const char *text, size_t len)
{
	const char *p, *e, *w, *end = text + len;
	char *res = NULL;
	size_t rlen = 0, wl, lineno = 0, i;
	int inside = 0;
	FILE *f;

	if ((f = open_memstream(&res, &rlen)) == NULL)
		return NULL;
	for (p = text; p < end; p = e + (e < end)) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		lineno++;
		if (is_marker(p, e, SSHDCONF_BEGIN))
			inside = 1;
		else if (is_marker(p, e, SSHDCONF_END))
			inside = 0;
		if (inside)
			continue;
		for (w = p; w < e && isspace((unsigned char)*w); w++)
			;
		for (wl = 0; w + wl < e && !isspace((unsigned char)w[wl]) &&
		    w[wl] != '='; wl++)
			;
		for (i = 0; keywords[i] != NULL; i++) {
			if (strlen(keywords[i]) == wl &&
			    strncasecmp(w, keywords[i], wl) == 0)
				fprintf(f, "note: line %zu also sets %s; the "
				    "jitd block comes first and wins outside "
				    "Match blocks\n", lineno, keywords[i]);
		}
	}
	if (fclose(f) != 0)
		return NULL;
	return res;
}

int
sshdconf_run(char *const argv[], char **output)
{
	char buf[4096], *res = NULL, *np;
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int fds[2], st, fd;

	if (output != NULL)
		*output = NULL;
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (strchr(argv[0], '/') != NULL)
			execv(argv[0], argv);
		else
			execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		if ((n = read(fds[0], buf, sizeof(buf))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + (size_t)n > OUTPUT_MAX)
			continue;	/* keep draining, stop keeping */
		if ((np = realloc(res, len + (size_t)n + 1)) == NULL)
			continue;
		res = np;
		memcpy(res + len, buf, (size_t)n);
		len += (size_t)n;
		res[len] = '\0';
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			free(res);
			return -1;
		}
	}
	if (output != NULL)
		*output = res != NULL ? res : strdup("");
	else
		free(res);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

const char *
sshdconf_sshd_path(void)
{
	const char *p = getenv("JIT_SSHD");

	if (p != NULL && *p != '\0')
		return p;
	if (access("/usr/sbin/sshd", X_OK) == 0)
		return "/usr/sbin/sshd";
	return "sshd";
}

/* The pid in /run/sshd.pid if that process is an sshd, else -1. */
static pid_t
sshd_pid(void)
{
	uint8_t *d = NULL;
	char path[64], comm[64];
	size_t len = 0;
	long v;
	char *endp;
	FILE *f;
	pid_t pid = -1;

	if (fileio_read(PIDFILE, 64, 0, &d, &len) != JIT_OK)
		return -1;
	errno = 0;
	v = strtol((char *)d, &endp, 10);
	free(d);
	if (errno != 0 || v <= 1 || v > 4194304 || (*endp != '\n' &&
	    *endp != '\0'))
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/comm", v);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(comm, sizeof(comm), f) != NULL &&
	    strncmp(comm, "sshd", 4) == 0)
		pid = (pid_t)v;
	fclose(f);
	return pid;
}

int
sshdconf_reload(char *note, size_t notelen)
{
	char *argv[] = { "systemctl", "reload", "ssh", NULL }, *o = NULL;
	struct stat st;
	pid_t pid;
	int rc;

	if (stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = sshdconf_run(argv, &o);
		if (rc == 0)
			snprintf(note, notelen, "reloaded sshd (systemctl "
			    "reload ssh)");
		else
			snprintf(note, notelen, "systemctl reload ssh failed "
			    "(%d): %s", rc, o != NULL ? o : "");
		free(o);
		return rc == 0 ? 0 : -1;
	}
	if ((pid = sshd_pid()) == -1) {
		snprintf(note, notelen, "sshd does not seem to run (no "
		    "systemd, no live pid in " PIDFILE "); not reloaded");
		return 0;
	}
	if (kill(pid, SIGHUP) == -1) {
		snprintf(note, notelen, "cannot signal sshd (pid %ld): %s",
		    (long)pid, strerror(errno));
		return -1;
	}
	snprintf(note, notelen, "reloaded sshd (SIGHUP to pid %ld)",
	    (long)pid);
	return 0;
}
