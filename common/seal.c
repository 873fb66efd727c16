/*
 * Sealing secrets at rest (see seal.h).  The blob's header is not secret
 * but is covered indirectly: any change to the salt, cost or nonce yields a
 * different key or keystream and the MAC fails.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/seal.h"
#include "common/secret.h"

#define SEAL_MAGIC	"JITSEAL1"
#define SEAL_MAGIC_LEN	8
#define SEAL_SALT_LEN	crypto_pwhash_SALTBYTES
#define SEAL_SECRET_MAX	(64 * 1024)
#define SEAL_PURPOSE_MAX 64
/* Bounds on stored argon2id costs, so a crafted file cannot exhaust us. */
#define SEAL_OPS_MAX	16
#define SEAL_MEM_MAX	(1024ULL * 1024 * 1024)

static int
derive(const struct seal_key *sk, const uint8_t *salt, uint64_t ops,
    uint64_t mem, uint8_t key[SEAL_KEY_LEN])
{
	size_t plen;

	if (sk->mode == SEAL_KEYFILE) {
		memcpy(key, sk->key, SEAL_KEY_LEN);
		return JIT_OK;
	}
	if (sk->passphrase == NULL)
		return JIT_ERR_INVALID_ARG;
	plen = strlen(sk->passphrase);
	if (crypto_pwhash(key, SEAL_KEY_LEN, sk->passphrase, plen, salt,
	    ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return JIT_ERR_ALLOC;
	return JIT_OK;
}

int
seal_encode(const struct seal_key *sk, const char *purpose,
    const uint8_t *secret, size_t len, uint8_t **out, size_t *outlen)
{
	struct buf *pt = NULL, *b = NULL;
	uint8_t key[SEAL_KEY_LEN], salt[SEAL_SALT_LEN];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	uint8_t *ct = NULL, *res = NULL;
	uint64_t ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	uint64_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	size_t ctlen = 0;
	int r = JIT_ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	memset(salt, 0, sizeof(salt));
	if (len > SEAL_SECRET_MAX || strlen(purpose) > SEAL_PURPOSE_MAX)
		return JIT_ERR_LIMIT;
	if ((pt = buf_new(SEAL_SECRET_MAX + SEAL_PURPOSE_MAX + 16)) == NULL ||
	    (b = buf_new(SEAL_SECRET_MAX + 256)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_cstring(pt, purpose)) != JIT_OK ||
	    (r = buf_put_string(pt, secret, len)) != JIT_OK ||
	    (r = buf_put(b, SEAL_MAGIC, SEAL_MAGIC_LEN)) != JIT_OK ||
	    (r = buf_put_u8(b, (uint8_t)sk->mode)) != JIT_OK)
		goto out;
	switch (sk->mode) {
	case SEAL_NONE:
		if ((r = buf_put(b, buf_ptr(pt), buf_len(pt))) != JIT_OK)
			goto out;
		break;
	case SEAL_PASSPHRASE:
	case SEAL_KEYFILE:
		if (sk->mode == SEAL_PASSPHRASE) {
			randombytes_buf(salt, sizeof(salt));
			if ((r = buf_put_u64(b, ops)) != JIT_OK ||
			    (r = buf_put_u64(b, mem)) != JIT_OK ||
			    (r = buf_put(b, salt, sizeof(salt))) != JIT_OK)
				goto out;
		}
		if ((r = derive(sk, salt, ops, mem, key)) != JIT_OK)
			goto out;
		randombytes_buf(nonce, sizeof(nonce));
		ctlen = buf_len(pt) + crypto_secretbox_MACBYTES;
		if ((ct = malloc(ctlen)) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		crypto_secretbox_easy(ct, buf_ptr(pt), buf_len(pt), nonce, key);
		if ((r = buf_put(b, nonce, sizeof(nonce))) != JIT_OK ||
		    (r = buf_put(b, ct, ctlen)) != JIT_OK)
			goto out;
		break;
	default:
		r = JIT_ERR_INVALID_ARG;
		goto out;
	}
	if ((res = malloc(buf_len(b))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	memcpy(res, buf_ptr(b), buf_len(b));
	*outlen = buf_len(b);
	*out = res;
	r = JIT_OK;
 out:
	sodium_memzero(key, sizeof(key));
	free(ct);
	buf_free(pt);
	buf_free(b);
	return r;
}

/* Parses "string purpose | string secret" and checks the purpose. */
static int
unwrap(const char *purpose, const uint8_t *pt, size_t ptlen,
    uint8_t **secret, size_t *secretlen)
{
	struct buf *b = NULL;
	const uint8_t *p, *s;
	size_t plen, slen;
	uint8_t *res;
	int r;

	if ((b = buf_from(pt, ptlen)) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = buf_get_string_direct(b, &p, &plen)) != JIT_OK ||
	    (r = buf_get_string_direct(b, &s, &slen)) != JIT_OK)
		goto out;
	if (buf_len(b) != 0) {
		r = JIT_ERR_TRAILING_DATA;
		goto out;
	}
	if (plen != strlen(purpose) || memcmp(p, purpose, plen) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((res = sodium_malloc(slen + 1)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	memcpy(res, s, slen);
	res[slen] = '\0';
	*secret = res;
	*secretlen = slen;
	r = JIT_OK;
 out:
	buf_free(b);
	return r;
}

int
seal_decode(const struct seal_key *sk, const char *purpose,
    const uint8_t *blob, size_t len, uint8_t **secret, size_t *secretlen)
{
	struct buf *b = NULL;
	uint8_t key[SEAL_KEY_LEN], salt[SEAL_SALT_LEN];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	uint8_t magic[SEAL_MAGIC_LEN], mode;
	uint8_t *pt = NULL;
	uint64_t ops = 0, mem = 0;
	size_t ctlen = 0;
	int r = JIT_ERR_INTERNAL;

	*secret = NULL;
	*secretlen = 0;
	memset(salt, 0, sizeof(salt));
	if ((b = buf_from(blob, len)) == NULL) {
		r = len > JIT_BUF_MAX ? JIT_ERR_LIMIT : JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get(b, magic, sizeof(magic))) != JIT_OK ||
	    (r = buf_get_u8(b, &mode)) != JIT_OK)
		goto out;
	if (memcmp(magic, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (mode > SEAL_KEYFILE) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (mode != (uint8_t)sk->mode) {
		r = JIT_ERR_UNSEALED;
		goto out;
	}
	if (mode == SEAL_NONE) {
		r = unwrap(purpose, buf_ptr(b), buf_len(b), secret, secretlen);
		goto out;
	}
	if (mode == SEAL_PASSPHRASE) {
		if ((r = buf_get_u64(b, &ops)) != JIT_OK ||
		    (r = buf_get_u64(b, &mem)) != JIT_OK ||
		    (r = buf_get(b, salt, sizeof(salt))) != JIT_OK)
			goto out;
		if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > SEAL_OPS_MAX ||
		    mem < crypto_pwhash_MEMLIMIT_MIN || mem > SEAL_MEM_MAX) {
			r = JIT_ERR_INVALID_FORMAT;
			goto out;
		}
	}
	if ((r = buf_get(b, nonce, sizeof(nonce))) != JIT_OK)
		goto out;
	if (buf_len(b) < crypto_secretbox_MACBYTES) {
		r = JIT_ERR_INCOMPLETE;
		goto out;
	}
	ctlen = buf_len(b);
	if ((pt = sodium_malloc(ctlen)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = derive(sk, salt, ops, mem, key)) != JIT_OK)
		goto out;
	if (crypto_secretbox_open_easy(pt, buf_ptr(b), ctlen, nonce,
	    key) != 0) {
		r = JIT_ERR_DECRYPT;
		goto out;
	}
	r = unwrap(purpose, pt, ctlen - crypto_secretbox_MACBYTES, secret,
	    secretlen);
	/* A mismatched purpose inside a valid seal is a swapped file. */
	if (r == JIT_ERR_INVALID_FORMAT)
		r = JIT_ERR_DECRYPT;
 out:
	sodium_memzero(key, sizeof(key));
	if (pt != NULL)
		sodium_free(pt);
	buf_free(b);
	return r;
}

int
seal_key_from_file(const char *path, struct seal_key *sk)
{
	uint8_t *d = NULL;
	size_t len = 0;
	int r;

	memset(sk, 0, sizeof(*sk));
	if ((r = fileio_read(path, 4096, FILEIO_PRIVATE | FILEIO_NOFOLLOW,
	    &d, &len)) != JIT_OK)
		return r;
	if (len != SEAL_KEY_LEN) {
		freezero(d, len + 1);
		return JIT_ERR_INVALID_FORMAT;
	}
	sk->mode = SEAL_KEYFILE;
	memcpy(sk->key, d, SEAL_KEY_LEN);
	freezero(d, len + 1);
	return JIT_OK;
}

void
seal_key_clear(struct seal_key *sk)
{
	sodium_memzero(sk, sizeof(*sk));
}
