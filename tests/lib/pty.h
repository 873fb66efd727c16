/*
 * Driving interactive programs through a pseudo-terminal, as a person
 * at a keyboard would: spawn, wait for a prompt, type, collect the rest.
 */
#ifndef JIT_TESTS_PTY_H
#define JIT_TESTS_PTY_H

#include <sys/types.h>

struct tu_pty {
	pid_t	 pid;
	int	 fd;		/* master side */
	char	*seen;		/* everything read so far */
	size_t	 len;
};

/* Starts argv on a new pseudo-terminal with extra_env; returns 0 or -1. */
int tu_pty_spawn(struct tu_pty *p, char *const argv[],
    char *const extra_env[]);
/* Reads until needle has appeared (after what was already matched). */
int tu_pty_expect(struct tu_pty *p, const char *needle, int timeout_s);
/* Types s (no newline added). */
void tu_pty_send(struct tu_pty *p, const char *s);
/*
 * Reads until the program exits (or timeout, then kills it) and returns
 * its exit status (128+signal); p->seen holds all output.
 */
int tu_pty_finish(struct tu_pty *p, int timeout_s);
void tu_pty_free(struct tu_pty *p);

#endif
