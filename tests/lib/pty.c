/* Pseudo-terminal driving for tests (see pty.h). */
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/pty.h"

int
tu_pty_spawn(struct tu_pty *p, char *const argv[], char *const extra_env[])
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if ((p->seen = strdup("")) == NULL)
		return -1;
	p->pid = forkpty(&p->fd, NULL, NULL, NULL);
	if (p->pid == -1)
		return -1;
	if (p->pid == 0) {
		for (i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
			putenv(extra_env[i]);
		execvp(argv[0], argv);
		_exit(127);
	}
	return 0;
}

/* Reads what is available within ms milliseconds; 0 on EOF. */
static int
pump(struct tu_pty *p, int ms)
{
	struct pollfd pf = { p->fd, POLLIN, 0 };
	char buf[4096], *n;
	ssize_t r;

	if (poll(&pf, 1, ms) <= 0)
		return 1;
	r = read(p->fd, buf, sizeof(buf));
	if (r <= 0)
		return 0;	/* EIO once the child has gone */
	if ((n = realloc(p->seen, p->len + (size_t)r + 1)) == NULL)
		return 0;
	memcpy(n + p->len, buf, (size_t)r);
	p->len += (size_t)r;
	n[p->len] = '\0';
	p->seen = n;
	return 1;
}

int
tu_pty_expect(struct tu_pty *p, const char *needle, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;

	while (strstr(p->seen, needle) == NULL) {
		if (time(NULL) > end || !pump(p, 200))
			return strstr(p->seen, needle) != NULL ? 0 : -1;
	}
	return 0;
}

void
tu_pty_send(struct tu_pty *p, const char *s)
{
	size_t len = strlen(s);
	ssize_t w;

	while (len > 0) {
		if ((w = write(p->fd, s, len)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return;
		}
		s += w;
		len -= (size_t)w;
	}
}

int
tu_pty_finish(struct tu_pty *p, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	int st;

	for (;;) {
		if (!pump(p, 100)) {
			/* EOF: collect the exit status. */
			if (waitpid(p->pid, &st, 0) == p->pid)
				break;
		}
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			while (pump(p, 50) && p->len < (1 << 20))
				;
			break;
		}
		if (time(NULL) > end) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			break;
		}
	}
	p->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void
tu_pty_free(struct tu_pty *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	if (p->fd != -1)
		close(p->fd);
	free(p->seen);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}
