/*
 * Base64 helpers over libsodium's constant-time codec: standard alphabet
 * with padding (OpenSSH key lines, PEM bodies) and URL-safe without padding
 * (session tokens).
 */
#ifndef JIT_COMMON_B64_H
#define JIT_COMMON_B64_H

#include <stddef.h>
#include <stdint.h>

enum b64_variant { B64_STD, B64_URL };

/* Returns a malloc'd NUL-terminated encoding of len bytes, or NULL. */
char *b64_encode(const void *p, size_t len, enum b64_variant v)
    __attribute__((warn_unused_result));

/*
 * Decodes slen characters of s into a malloc'd buffer (at most max bytes).
 * Returns JIT_OK, JIT_ERR_INVALID_FORMAT for bad characters or padding,
 * JIT_ERR_LIMIT if the result would exceed max.  Free *out with free().
 */
int b64_decode(const char *s, size_t slen, enum b64_variant v, size_t max,
    uint8_t **out, size_t *outlen) __attribute__((warn_unused_result));

#endif
