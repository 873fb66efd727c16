/*
 * HTTP and TOTP helpers for tests: requests through libcurl (the client a
 * user's script would use), JSON answers through jansson, and one-time
 * codes from the real `oathtool` as an independent oracle.
 */
#ifndef JIT_TESTS_HTTP_H
#define JIT_TESTS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct tu_resp {
	long	 status;
	char	*body;		/* NUL-terminated */
	size_t	 len;
	char	*headers;	/* raw response headers */
	json_t	*json;		/* parsed body, or NULL */
};

/*
 * Sends one request.  token adds "Authorization: Bearer", body (may be
 * NULL) is sent with content_type (NULL: application/json), extra is one
 * more raw header line or NULL; cafile enables TLS verification against
 * that CA.  Returns 0, or -1 if no HTTP answer came.
 */
int tu_http(const char *method, const char *url, const char *token,
    const char *body, size_t bodylen, const char *content_type,
    const char *extra, const char *cafile, struct tu_resp *out);
void tu_resp_free(struct tu_resp *r);

/* Convenience: JSON string field of the answer, or "". */
const char *tu_jstr(const struct tu_resp *r, const char *key);

/* The 6-digit TOTP code for a base32 secret at time t, from oathtool. */
void tu_totp(const char *b32, int64_t t, char code[7]);

#endif
