/* Reading secrets from the controlling terminal without echo. */
#ifndef JIT_COMMON_TTY_H
#define JIT_COMMON_TTY_H

#include <stddef.h>

/*
 * Prints prompt on /dev/tty and reads one line with echo off (at most max
 * bytes).  Returns JIT_OK and a malloc'd string (free with strfreezero),
 * JIT_ERR_NOT_FOUND when there is no terminal, JIT_ERR_LIMIT when longer.
 */
int tty_read_secret(const char *prompt, size_t max, char **out)
    __attribute__((warn_unused_result));

/* Splits "a,b,c" into a NULL-terminated malloc'd array (free with strv_free).
 * Empty elements are kept so that callers can refuse them. */
char **strv_split(const char *s, char sep, size_t max, size_t *n);
void strv_free(char **v);

#endif
