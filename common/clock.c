/* The injectable clock (see clock.h). */
#include <stdatomic.h>
#include <time.h>

#include "common/clock.h"

static int64_t
system_now(void)
{
	return (int64_t)time(NULL);
}

static _Atomic(int64_t (*)(void)) clock_fn = system_now;

int64_t
jit_now(void)
{
	return atomic_load(&clock_fn)();
}

void
jit_clock_set(int64_t (*fn)(void))
{
	atomic_store(&clock_fn, fn == NULL ? system_now : fn);
}
