/* Timestamps as jitd shows and accepts them: RFC 3339 UTC or epoch seconds. */
#ifndef JIT_COMMON_TIMEFMT_H
#define JIT_COMMON_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_LEN 21	/* "2026-11-23T12:00:00Z" + NUL */

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ". */
void time_format(int64_t t, char out[TIMEFMT_LEN]);

/*
 * Parses "YYYY-MM-DDTHH:MM:SSZ" (UTC) or a non-negative integer of epoch
 * seconds.  Returns JIT_OK or JIT_ERR_INVALID_FORMAT.
 */
int time_parse(const char *s, int64_t *out) __attribute__((warn_unused_result));

#endif
