/* Human-readable text for the error codes of err.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"

const char *
jit_strerror(int r)
{
	switch (r) {
	case JIT_OK:
		return "success";
	case JIT_ERR_INTERNAL:
		return "internal error";
	case JIT_ERR_ALLOC:
		return "out of memory";
	case JIT_ERR_INVALID_ARG:
		return "invalid argument";
	case JIT_ERR_INVALID_FORMAT:
		return "invalid format";
	case JIT_ERR_INCOMPLETE:
		return "input is truncated";
	case JIT_ERR_TRAILING_DATA:
		return "unexpected trailing data";
	case JIT_ERR_LIMIT:
		return "length or count exceeds limit";
	case JIT_ERR_KEY_TYPE:
		return "unsupported key type";
	case JIT_ERR_KEY_TOO_SMALL:
		return "key is too small";
	case JIT_ERR_BAD_SIGNATURE:
		return "signature verification failed";
	case JIT_ERR_DECRYPT:
		return "wrong passphrase or key, or corrupted key file";
	case JIT_ERR_SYSTEM:
		return "system error";
	case JIT_ERR_EXISTS:
		return "already exists";
	case JIT_ERR_NOT_FOUND:
		return "not found";
	case JIT_ERR_PERMISSION:
		return "permission denied";
	case JIT_ERR_CRYPTO:
		return "cryptographic library error";
	case JIT_ERR_STORE:
		return "database error";
	case JIT_ERR_AUTH:
		return "authentication failed";
	case JIT_ERR_MFA_REQUIRED:
		return "fresh multi-factor authentication required";
	case JIT_ERR_CONFLICT:
		return "conflicting state";
	case JIT_ERR_EXPIRED:
		return "expired";
	case JIT_ERR_BUSY:
		return "resource busy";
	case JIT_ERR_UNSEALED:
		return "key protection does not match (sealed vs unsealed)";
	case JIT_ERR_POLICY:
		return "refused by policy";
	case JIT_ERR_RATE_LIMITED:
		return "too many attempts, try again later";
	}
	return "unknown error";
}

void
jit_set_err(char **err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	free(*err);
	*err = NULL;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) == -1)
		*err = NULL;
	va_end(ap);
}
