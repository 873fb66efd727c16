/* Test helpers (see testutil.h). */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/testutil.h"

extern char **environ;

static void
die(const char *what)
{
	fprintf(stderr, "testutil: %s: %s\n", what, strerror(errno));
	abort();
}

char *
tu_mkdtemp(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&p, "%s/jit-%s-XXXXXX", base, tag) == -1)
		die("asprintf");
	if (mkdtemp(p) == NULL)
		die("mkdtemp");
	return p;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void
tu_rmdir(const char *path)
{
	if (path != NULL)
		nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) == -1)
		die("asprintf");
	return p;
}

char *
tu_bin(const char *name)
{
	const char *dir = getenv("JIT_BIN");

	return tu_path(dir != NULL ? dir : "bin", name);
}

/* Builds environ plus extra (extra entries override same names). */
static char **
make_env(char *const extra[])
{
	size_t n = 0, m = 0, i, j, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	while (extra != NULL && extra[m] != NULL)
		m++;
	if ((env = calloc(n + m + 1, sizeof(*env))) == NULL)
		die("calloc");
	for (i = 0; i < n; i++) {
		size_t len = strcspn(environ[i], "=");
		int overridden = 0;

		for (j = 0; j < m; j++)
			if (strncmp(extra[j], environ[i], len + 1) == 0)
				overridden = 1;
		if (!overridden)
			env[k++] = environ[i];
	}
	for (j = 0; j < m; j++)
		env[k++] = extra[j];
	env[k] = NULL;
	return env;
}

static void
append(char **buf, size_t *len, const char *p, size_t n)
{
	char *nb;

	if ((nb = realloc(*buf, *len + n + 1)) == NULL)
		die("realloc");
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
}

int
tu_run(char *const argv[], const char *stdin_data, char *const extra_env[],
    int timeout_s, struct tu_out *o)
{
	int in[2], out[2], err[2], st;
	size_t olen = 0, elen = 0, inoff = 0, inlen;
	char **env, chunk[4096];
	struct pollfd pf[3];
	time_t deadline;
	pid_t pid;
	ssize_t n;

	memset(o, 0, sizeof(*o));
	if (pipe(in) == -1 || pipe(out) == -1 || pipe(err) == -1)
		die("pipe");
	env = make_env(extra_env);
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(err[0]); close(err[1]);
		setsid();	/* no controlling terminal: prompts fail fast */
		if (strchr(argv[0], '/') != NULL)
			execve(argv[0], argv, env);
		else
			execvpe(argv[0], argv, env);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(env);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	inlen = stdin_data != NULL ? strlen(stdin_data) : 0;
	if (inlen == 0) {
		close(in[1]);
		in[1] = -1;
	}
	o->out = strdup("");
	o->err = strdup("");
	deadline = time(NULL) + timeout_s;
	signal(SIGPIPE, SIG_IGN);
	while (out[0] != -1 || err[0] != -1) {
		int nfd = 0, i;

		if (time(NULL) > deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		pf[nfd].fd = out[0]; pf[nfd++].events = POLLIN;
		pf[nfd].fd = err[0]; pf[nfd++].events = POLLIN;
		pf[nfd].fd = in[1]; pf[nfd++].events = POLLOUT;
		if (poll(pf, nfd, 200) == -1 && errno != EINTR)
			die("poll");
		for (i = 0; i < nfd; i++) {
			if (pf[i].fd == -1 || pf[i].revents == 0)
				continue;
			if (pf[i].fd == in[1]) {
				n = write(in[1], stdin_data + inoff,
				    inlen - inoff);
				if (n > 0)
					inoff += (size_t)n;
				if (n <= 0 || inoff == inlen) {
					close(in[1]);
					in[1] = -1;
				}
				continue;
			}
			n = read(pf[i].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				if (pf[i].fd == out[0])
					out[0] = -1;
				else
					err[0] = -1;
				close(pf[i].fd);
				continue;
			}
			if (pf[i].fd == out[0])
				append(&o->out, &olen, chunk, (size_t)n);
			else
				append(&o->err, &elen, chunk, (size_t)n);
		}
	}
	if (in[1] != -1)
		close(in[1]);
	if (out[0] != -1)
		close(out[0]);
	if (err[0] != -1)
		close(err[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			die("waitpid");
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/*
	 * Under the sanitizer build our own programs run instrumented: any
	 * report from a child is a bug even when the test expected a failure
	 * exit, so it fails the test here.
	 */
	if (strstr(o->err, "ERROR: AddressSanitizer") != NULL ||
	    strstr(o->err, "ERROR: LeakSanitizer") != NULL ||
	    strstr(o->err, "runtime error:") != NULL) {
		fprintf(stderr, "testutil: %s reported a sanitizer error:\n%s\n",
		    argv[0], o->err);
		abort();
	}
	return 0;
}

void
tu_out_free(struct tu_out *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
}

pid_t
tu_spawn(char *const argv[], char *const extra_env[], const char *logpath)
{
	char **env = make_env(extra_env);
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		if ((fd = open(logpath != NULL ? logpath : "/dev/null",
		    O_WRONLY | O_CREAT | O_APPEND, 0600)) == -1)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			close(fd);
		}
		if (strchr(argv[0], '/') != NULL)
			execve(argv[0], argv, env);
		else
			execvpe(argv[0], argv, env);
		_exit(127);
	}
	free(env);
	return pid;
}

void
tu_stop(pid_t pid)
{
	int st, i;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 50; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

int
tu_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		die("bind");
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int
tu_wait_port(int port, int timeout_s)
{
	struct sockaddr_in sa;
	int fd, i;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < timeout_s * 20; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			die("socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return 0;
		}
		close(fd);
		usleep(50000);
	}
	return -1;
}

void
tu_write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	FILE *f;
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1)
		die(path);
	if ((f = fdopen(fd, "w")) == NULL)
		die("fdopen");
	if (len > 0 && fwrite(p, 1, len, f) != len)
		die("fwrite");
	if (fclose(f) != 0)
		die("fclose");
	chmod(path, mode);
}

char *
tu_read_file(const char *path, size_t *lenp)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0;
	char chunk[4096];
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		append(&buf, &len, chunk, n);
	fclose(f);
	if (buf == NULL)
		buf = strdup("");
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

int
tu_contains(const char *text, const char *needle)
{
	return text != NULL && strstr(text, needle) != NULL;
}

int
tu_jitv(const char *home, const char *url, int timeout_s, va_list ap,
    struct tu_out *o)
{
	char *argv[32], *env[3], *a;
	size_t n = 0, e = 0;
	int r = -1;

	argv[n++] = tu_bin("jit");
	while ((a = va_arg(ap, char *)) != NULL) {
		if (n >= 31)
			goto out;
		argv[n++] = a;
	}
	argv[n] = NULL;
	if (asprintf(&env[e], "JIT_HOME=%s", home) == -1)
		goto out;
	e++;
	if (url != NULL) {
		if (asprintf(&env[e], "JIT_URL=%s", url) == -1)
			goto out;
		e++;
	}
	env[e] = NULL;
	r = tu_run(argv, NULL, env, timeout_s, o);
 out:
	while (e > 0)
		free(env[--e]);
	free(argv[0]);
	return r;
}
