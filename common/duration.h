/*
 * Durations as operators and users write them: "90s", "15m", "8h", "7d",
 * compounds such as "1h30m", or a bare integer meaning seconds.
 */
#ifndef JIT_COMMON_DURATION_H
#define JIT_COMMON_DURATION_H

#include <stdint.h>

/*
 * Parses s into seconds (> 0 and <= max).  Returns JIT_OK,
 * JIT_ERR_INVALID_FORMAT for anything else (empty, signs, spaces, unknown
 * units, zero), JIT_ERR_LIMIT when above max or on overflow.
 */
int duration_parse(const char *s, int64_t max, int64_t *secs)
    __attribute__((warn_unused_result));

/* Formats secs compactly ("1h30m", "45s") into out (at least 32 bytes). */
void duration_format(int64_t secs, char *out, size_t outlen);

#endif
