/*
 * Time-based one-time passwords (RFC 6238) as authenticator apps use them:
 * HMAC-SHA1 over the number of 30-second steps since the epoch, dynamic
 * truncation, 6 decimal digits.  Also the RFC 4648 base32 codec that carries
 * the shared secret (uppercase, no padding) and the otpauth:// URI that
 * enrolment QR codes encode.  The clock is always passed in, never read
 * here, so tests and callers control time.
 */
#ifndef JIT_BROKER_TOTP_H
#define JIT_BROKER_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_LEN		20	/* bytes of a generated secret (160 bits) */
#define TOTP_SECRET_MAX		64	/* longest secret accepted anywhere */
#define TOTP_DIGITS		6
#define TOTP_PERIOD		30	/* seconds per step */
#define TOTP_WINDOW_MAX		10	/* largest verification window, in steps */
#define TOTP_LABEL_MAX		255	/* issuer or account name in a URI, bytes */

/* Characters (without the NUL) of the unpadded base32 encoding of n bytes. */
#define BASE32_ENCODED_LEN(n)	(((n) * 8 + 4) / 5)

/*
 * Fills secret with TOTP_SECRET_LEN random bytes from libsodium.
 * Returns JIT_OK, or JIT_ERR_INVALID_ARG for a NULL pointer.
 */
int totp_generate_secret(uint8_t secret[TOTP_SECRET_LEN])
    __attribute__((warn_unused_result));

/*
 * Writes the uppercase, unpadded base32 encoding of len bytes at p to out,
 * NUL-terminated; outlen is the size of out and must be at least
 * BASE32_ENCODED_LEN(len) + 1.  Returns JIT_OK, JIT_ERR_LIMIT if out is too
 * small (out is then the empty string), JIT_ERR_INVALID_ARG for NULL
 * pointers.
 */
int base32_encode(const uint8_t *p, size_t len, char *out, size_t outlen)
    __attribute__((warn_unused_result));

/*
 * Decodes the NUL-terminated base32 string s into out (outcap bytes) and
 * stores the decoded length in *outlen.  Letters may be of either case,
 * spaces are ignored, and '=' padding is accepted only at the end (and then
 * must complete a group of 8).  Any other character, an impossible length,
 * or non-zero unused trailing bits are JIT_ERR_INVALID_FORMAT; a result
 * longer than outcap is JIT_ERR_LIMIT.  On error out is wiped and *outlen
 * is 0.
 */
int base32_decode(const char *s, uint8_t *out, size_t outcap, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Computes the 6-digit code (HOTP, RFC 4226) of step for a secret of len
 * bytes (1..TOTP_SECRET_MAX) into *code.  The step is floor(unix time / 30).
 * Returns JIT_OK, JIT_ERR_INVALID_ARG, or JIT_ERR_CRYPTO.
 */
int totp_code(const uint8_t *secret, size_t len, uint64_t step,
    uint32_t *code) __attribute__((warn_unused_result));

/*
 * Verifies a user-supplied code at unix time now, accepting the steps from
 * now/30 - window to now/30 + window (window 0..TOTP_WINDOW_MAX).  The code
 * must be exactly 6 ASCII digits.  A step <= last_used_step never matches,
 * so each code is accepted once: the caller stores *matched_step as the new
 * last_used_step (0 when nothing was used yet; step 0 is 1970).  Every
 * candidate step is computed and compared in constant time, without early
 * exit.  Returns JIT_OK and sets *matched_step (may be NULL) to the latest
 * matching step; JIT_ERR_AUTH for a wrong, reused or malformed code;
 * JIT_ERR_INVALID_ARG for a bad secret, window or time; JIT_ERR_CRYPTO.
 */
int totp_verify(const uint8_t *secret, size_t len, const char *code,
    int64_t now, int window, uint64_t last_used_step, uint64_t *matched_step)
    __attribute__((warn_unused_result));

/*
 * Returns a malloc'd enrolment URI
 * "otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1
 * &digits=6&period=30", issuer and account percent-encoded (RFC 3986
 * unreserved characters kept), or NULL for empty or overlong
 * (TOTP_LABEL_MAX) names, a bad secret, or no memory.  The string holds the
 * secret: free it with strfreezero().
 */
char *totp_uri(const char *issuer, const char *account, const uint8_t *secret,
    size_t len) __attribute__((warn_unused_result));

#endif
