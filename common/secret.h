/* Helpers for memory that holds secrets. */
#ifndef JIT_COMMON_SECRET_H
#define JIT_COMMON_SECRET_H

#include <stddef.h>

/* Zeroes len bytes at p, then frees p; accepts NULL. */
void freezero(void *p, size_t len);

/* Zeroes a NUL-terminated string, then frees it; accepts NULL. */
void strfreezero(char *s);

#endif
