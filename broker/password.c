/*
 * argon2id password hashing and verification through libsodium's
 * crypto_pwhash_str (see password.h).  A stored hash is checked for shape
 * and cost before libsodium sees it, and an unknown user is verified
 * against a dummy hash of the same cost so that timing does not tell
 * whether a user exists.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "broker/password.h"
#include "common/err.h"

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES,
    "PASSWORD_HASH_MAX must match libsodium");

#define PASSWORD_OPS	crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PASSWORD_MEM	crypto_pwhash_MEMLIMIT_INTERACTIVE
/* Highest cost a stored hash may ask for: 4 passes, 256 MiB. */
#define PASSWORD_OPS_MAX	crypto_pwhash_OPSLIMIT_SENSITIVE
#define PASSWORD_MEM_MAX_KIB	(crypto_pwhash_MEMLIMIT_MODERATE / 1024)

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];
static int dummy_ready;

/*
 * Parses a decimal number of at most 10 digits at *sp, followed by the
 * character end, and advances past it.  Returns 0 or -1.
 */
static int
parse_param(const char **sp, char end, uint64_t *v)
{
	const char *s = *sp;
	uint64_t n = 0;
	int digits = 0;

	*v = 0;
	/* No leading zeros, as the encoder never writes them. */
	if (*s == '0' && s[1] != end)
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (++digits > 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
		s++;
	}
	if (digits == 0 || *s != end)
		return -1;
	*v = n;
	*sp = s + 1;
	return 0;
}

/*
 * Accepts "$argon2id$v=19$m=M,t=T,p=1$" followed by something, with a cost
 * within our ceilings.  Returns 0 or -1.
 */
static int
hash_params_ok(const char *h)
{
	static const char prefix[] = "$argon2id$v=19$m=";
	uint64_t m, t, p;

	if (strncmp(h, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	h += sizeof(prefix) - 1;
	if (parse_param(&h, ',', &m) != 0 || strncmp(h, "t=", 2) != 0)
		return -1;
	h += 2;
	if (parse_param(&h, ',', &t) != 0 || strncmp(h, "p=", 2) != 0)
		return -1;
	h += 2;
	if (parse_param(&h, '$', &p) != 0 || *h == '\0')
		return -1;
	if (m < 8 || m > PASSWORD_MEM_MAX_KIB || t < 1 ||
	    t > PASSWORD_OPS_MAX || p != 1)
		return -1;
	return 0;
}

int
password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	size_t len;

	if (out == NULL)
		return JIT_ERR_INVALID_ARG;
	memset(out, 0, PASSWORD_HASH_MAX);
	if (password == NULL)
		return JIT_ERR_INVALID_ARG;
	len = strnlen(password, JIT_PASSWORD_MAX + 1);
	if (len > JIT_PASSWORD_MAX)
		return JIT_ERR_LIMIT;
	if (len == 0)
		return JIT_ERR_INVALID_ARG;
	if (crypto_pwhash_str(out, password, len, PASSWORD_OPS,
	    PASSWORD_MEM) != 0) {
		sodium_memzero(out, PASSWORD_HASH_MAX);
		return JIT_ERR_CRYPTO;
	}
	return JIT_OK;
}

/*
 * The common path of password_verify and password_verify_dummy, so that
 * both do the same work.
 */
static int
verify_common(const char *hash, const char *password)
{
	int r = JIT_ERR_AUTH;
	char h[PASSWORD_HASH_MAX];
	size_t hlen, plen;

	memset(h, 0, sizeof(h));
	if (hash == NULL || password == NULL)
		goto out;
	plen = strnlen(password, JIT_PASSWORD_MAX + 1);
	if (plen > JIT_PASSWORD_MAX)
		goto out;
	/* libsodium may read the whole array: hand it a full, padded copy. */
	hlen = strnlen(hash, PASSWORD_HASH_MAX);
	if (hlen == PASSWORD_HASH_MAX)
		goto out;
	memcpy(h, hash, hlen);
	if (hash_params_ok(h) != 0)
		goto out;
	if (crypto_pwhash_str_verify(h, password, plen) != 0)
		goto out;
	r = JIT_OK;
 out:
	sodium_memzero(h, sizeof(h));
	return r;
}

int
password_verify(const char *hash, const char *password)
{
	return verify_common(hash, password);
}

static void
dummy_init(void)
{
	uint8_t pw[32];

	if (sodium_init() < 0)
		return;
	randombytes_buf(pw, sizeof(pw));
	if (crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof(pw),
	    PASSWORD_OPS, PASSWORD_MEM) == 0)
		dummy_ready = 1;
	sodium_memzero(pw, sizeof(pw));
}

int
password_verify_dummy(const char *password)
{
	uint8_t key[32], salt[crypto_pwhash_SALTBYTES];
	size_t plen;
	int ignored;

	if (pthread_once(&dummy_once, dummy_init) != 0 || !dummy_ready) {
		/*
		 * No dummy hash (no memory at start): spend the same cost
		 * directly on a throwaway key.
		 */
		if (password == NULL ||
		    (plen = strnlen(password, JIT_PASSWORD_MAX + 1)) >
		    JIT_PASSWORD_MAX)
			return JIT_ERR_AUTH;
		memset(salt, 0, sizeof(salt));
		ignored = crypto_pwhash(key, sizeof(key), password, plen, salt,
		    PASSWORD_OPS, PASSWORD_MEM, crypto_pwhash_ALG_ARGON2ID13);
		(void)ignored;
		sodium_memzero(key, sizeof(key));
		return JIT_ERR_AUTH;
	}
	(void)verify_common(dummy_hash, password);
	return JIT_ERR_AUTH;
}

/*
 * Decodes one UTF-8 sequence at s (strictly: no overlong forms, no
 * surrogates, nothing above U+10FFFF) into *cp and returns its length, or
 * 0 if it is not valid.
 */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		/* Also stops at the NUL terminator. */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int
password_policy_check(const char *password)
{
	const unsigned char *s = (const unsigned char *)password;
	size_t len, i, n, chars = 0;
	uint32_t cp;

	if (password == NULL)
		return JIT_ERR_POLICY;
	len = strnlen(password, JIT_PASSWORD_MAX + 1);
	if (len > JIT_PASSWORD_MAX)
		return JIT_ERR_POLICY;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_next(s + i, &cp)) == 0)
			return JIT_ERR_POLICY;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return JIT_ERR_POLICY;
		chars++;
	}
	if (chars < JIT_PASSWORD_MIN_CHARS)
		return JIT_ERR_POLICY;
	return JIT_OK;
}
