/*
 * Helpers for check tests: private temporary directories, running real
 * programs (ssh-keygen, openssl, sshd, our own binaries) with an argv
 * array and capturing their output, background servers stopped by PID,
 * and free loopback ports.
 */
#ifndef JIT_TESTS_TESTUTIL_H
#define JIT_TESTS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Result of tu_run: exit status (or 128+signal) and captured output. */
struct tu_out {
	int	 status;
	char	*out;	/* stdout, NUL-terminated, malloc'd */
	char	*err;	/* stderr, NUL-terminated, malloc'd */
};

/*
 * Creates a fresh 0700 directory under $TMPDIR (or /tmp) and returns its
 * malloc'd path.  tu_rmdir removes it recursively.
 */
char *tu_mkdtemp(const char *tag);
void tu_rmdir(const char *path);

/* Joins dir and name into a malloc'd path. */
char *tu_path(const char *dir, const char *name);

/*
 * Runs argv (argv[0] searched in PATH unless it contains '/'), feeding
 * stdin_data (may be NULL) and capturing stdout and stderr, with envp
 * additions ("NAME=value", NULL-terminated, may be NULL) on top of the
 * current environment.  Kills the child after timeout_s seconds.  Returns
 * 0 and fills *o (free with tu_out_free), or -1 if it could not start.
 */
int tu_run(char *const argv[], const char *stdin_data,
    char *const extra_env[], int timeout_s, struct tu_out *o);
void tu_out_free(struct tu_out *o);

/*
 * Runs our `jit` with JIT_HOME=home and, unless url is NULL, JIT_URL=url,
 * and the NULL-terminated arguments in ap (at most 30); returns as tu_run
 * (-1 also when there are too many arguments).
 */
int tu_jitv(const char *home, const char *url, int timeout_s, va_list ap,
    struct tu_out *o);

/* Full path of one of our programs: $JIT_BIN/name (malloc'd). */
char *tu_bin(const char *name);

/* Starts argv in the background with output to logpath; returns its pid. */
pid_t tu_spawn(char *const argv[], char *const extra_env[],
    const char *logpath);
/* Sends SIGTERM (then SIGKILL after 5 s) to pid and reaps it. */
void tu_stop(pid_t pid);

/* Returns a TCP port on 127.0.0.1 that was free a moment ago. */
int tu_free_port(void);
/* Waits up to timeout_s for something to accept on 127.0.0.1:port. */
int tu_wait_port(int port, int timeout_s);

/* Writes/reads whole files (abort on error: tests only). */
void tu_write_file(const char *path, const void *p, size_t len, mode_t mode);
char *tu_read_file(const char *path, size_t *len);

/* Returns 1 if the text contains needle. */
int tu_contains(const char *text, const char *needle);

#endif
