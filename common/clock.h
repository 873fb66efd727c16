/*
 * The one clock jitd reads.  Production uses the system time; tests
 * replace it so that lockouts, expiries and certificate validity can be
 * exercised without sleeping.
 */
#ifndef JIT_COMMON_CLOCK_H
#define JIT_COMMON_CLOCK_H

#include <stdint.h>

/* Seconds since the epoch. */
int64_t jit_now(void);

/* Replaces the clock (NULL restores the system clock).  Not for production. */
void jit_clock_set(int64_t (*fn)(void));

#endif
