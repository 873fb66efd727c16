/*
 * Login passwords: argon2id hashes in libsodium's crypto_pwhash_str format
 * (interactive cost), verification that takes the same time whether or not
 * the user exists, and the password policy applied when one is set.
 */
#ifndef JIT_BROKER_PASSWORD_H
#define JIT_BROKER_PASSWORD_H

#define JIT_PASSWORD_MAX	1024	/* longest password, in bytes */
#define JIT_PASSWORD_MIN_CHARS	12	/* shortest password, in characters */
#define PASSWORD_HASH_MAX	128	/* crypto_pwhash_STRBYTES, with the NUL */

/*
 * Hashes a NUL-terminated password with argon2id into out, a
 * NUL-terminated "$argon2id$..." string.  Returns JIT_OK,
 * JIT_ERR_INVALID_ARG for NULL or an empty password, JIT_ERR_LIMIT for one
 * longer than JIT_PASSWORD_MAX bytes, JIT_ERR_CRYPTO if hashing failed (no
 * memory).  out is the empty string on error.
 */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX])
    __attribute__((warn_unused_result));

/*
 * Checks password against a hash from password_hash.  Returns JIT_OK on a
 * match and JIT_ERR_AUTH otherwise, including for a NULL, overlong or
 * malformed hash, an argon2 variant other than argon2id, or cost
 * parameters beyond what we would ever have chosen (a tampered hash must
 * not make a login consume gigabytes).
 */
int password_verify(const char *hash, const char *password)
    __attribute__((warn_unused_result));

/*
 * Does the work of one password_verify against a fixed dummy hash (made
 * once, thread-safely, from a random password) and returns JIT_ERR_AUTH.
 * Call it for an unknown user so that the answer takes as long as for a
 * wrong password.
 */
int password_verify_dummy(const char *password)
    __attribute__((warn_unused_result));

/*
 * Returns JIT_OK if password may be set: valid UTF-8, at least
 * JIT_PASSWORD_MIN_CHARS characters (code points), at most JIT_PASSWORD_MAX
 * bytes, no control characters (C0, DEL, C1).  Otherwise JIT_ERR_POLICY.
 */
int password_policy_check(const char *password)
    __attribute__((warn_unused_result));

#endif
