/*
 * One table of error codes for all of jitd.  Fallible functions return
 * JIT_OK (0) or one of the negative JIT_ERR_* codes below; only broker/
 * maps them to HTTP statuses, in one place.
 */
#ifndef JIT_COMMON_ERR_H
#define JIT_COMMON_ERR_H

enum jit_err {
	JIT_OK = 0,
	JIT_ERR_INTERNAL = -1,		/* broken invariant of our own code */
	JIT_ERR_ALLOC = -2,		/* out of memory */
	JIT_ERR_INVALID_ARG = -3,	/* caller passed something invalid */
	JIT_ERR_INVALID_FORMAT = -4,	/* input bytes are not well formed */
	JIT_ERR_INCOMPLETE = -5,	/* input ended before it should */
	JIT_ERR_TRAILING_DATA = -6,	/* bytes left over after parsing */
	JIT_ERR_LIMIT = -7,		/* a length or count exceeds its cap */
	JIT_ERR_KEY_TYPE = -8,		/* unsupported key or algorithm */
	JIT_ERR_KEY_TOO_SMALL = -9,	/* key shorter than policy allows */
	JIT_ERR_BAD_SIGNATURE = -10,	/* signature does not verify */
	JIT_ERR_DECRYPT = -11,		/* wrong passphrase or corrupt seal */
	JIT_ERR_SYSTEM = -12,		/* a system call failed; see errno */
	JIT_ERR_EXISTS = -13,		/* refusing to overwrite */
	JIT_ERR_NOT_FOUND = -14,	/* no such file, user or object */
	JIT_ERR_PERMISSION = -15,	/* not allowed */
	JIT_ERR_CRYPTO = -16,		/* libcrypto or libsodium failure */
	JIT_ERR_STORE = -17,		/* database failure */
	JIT_ERR_AUTH = -18,		/* authentication failed */
	JIT_ERR_MFA_REQUIRED = -19,	/* fresh MFA needed */
	JIT_ERR_CONFLICT = -20,		/* state changed underneath */
	JIT_ERR_EXPIRED = -21,		/* too late */
	JIT_ERR_BUSY = -22,		/* resource busy, try again */
	JIT_ERR_UNSEALED = -23,		/* key is not sealed but a seal was expected, or vice versa */
	JIT_ERR_POLICY = -24,		/* refused by policy */
	JIT_ERR_RATE_LIMITED = -25,	/* too many attempts; retry later */
};

/* Returns a static, human-readable sentence for an error code. */
const char *jit_strerror(int r);

/*
 * Replaces *err (when err is not NULL) with a malloc'd sentence: the
 * "char **err" out-parameter of the broker's open and create calls.
 */
void jit_set_err(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
