/* Base64 through libsodium (see b64.h). */
#include <stdlib.h>

#include <sodium.h>

#include "common/b64.h"
#include "common/err.h"

static int
variant(enum b64_variant v)
{
	return v == B64_URL ? sodium_base64_VARIANT_URLSAFE_NO_PADDING :
	    sodium_base64_VARIANT_ORIGINAL;
}

char *
b64_encode(const void *p, size_t len, enum b64_variant v)
{
	size_t n;
	char *s;

	if (len > (SIZE_MAX / 4) - 4)
		return NULL;
	n = sodium_base64_encoded_len(len, variant(v));
	if ((s = malloc(n)) == NULL)
		return NULL;
	sodium_bin2base64(s, n, p, len, variant(v));
	return s;
}

int
b64_decode(const char *s, size_t slen, enum b64_variant v, size_t max,
    uint8_t **out, size_t *outlen)
{
	uint8_t *d;
	size_t cap, n = 0;
	const char *end = NULL;

	*out = NULL;
	*outlen = 0;
	cap = slen / 4 * 3 + 3;
	/* Refuse early only what cannot decode to max bytes or fewer. */
	if (slen / 4 > max / 3 + 1)
		return JIT_ERR_LIMIT;
	if ((d = malloc(cap + 1)) == NULL)
		return JIT_ERR_ALLOC;
	if (sodium_base642bin(d, cap, s, slen, NULL, &n, &end,
	    variant(v)) != 0 || end != s + slen) {
		sodium_memzero(d, cap + 1);
		free(d);
		return JIT_ERR_INVALID_FORMAT;
	}
	if (n > max) {
		sodium_memzero(d, cap + 1);
		free(d);
		return JIT_ERR_LIMIT;
	}
	*out = d;
	*outlen = n;
	return JIT_OK;
}
