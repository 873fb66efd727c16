/*
 * Secrets sealed at rest with libsodium secretbox (XSalsa20-Poly1305).
 * The sealing key comes from a passphrase through argon2id (salt and cost
 * stored in the sealed blob) or from a 32-byte key file.  Each sealed blob
 * names its purpose ("ssh-user-ca", "totp", ...) inside the authenticated
 * plaintext, so a blob cannot be moved to another use unnoticed.
 *
 * Format: "JITSEAL1" | u8 mode | [mode 1: u64 opslimit, u64 memlimit,
 * 16-byte salt] | [modes 1, 2: 24-byte nonce | secretbox(plaintext)] |
 * [mode 0: plaintext], where plaintext = string purpose | string secret.
 */
#ifndef JIT_COMMON_SEAL_H
#define JIT_COMMON_SEAL_H

#include <stddef.h>
#include <stdint.h>

enum seal_mode {
	SEAL_NONE = 0,		/* stored unsealed: only when asked explicitly */
	SEAL_PASSPHRASE = 1,	/* argon2id(passphrase, salt) */
	SEAL_KEYFILE = 2,	/* 32 random bytes from a key file */
};

#define SEAL_KEY_LEN	32

struct seal_key {
	enum seal_mode	 mode;
	const char	*passphrase;		/* SEAL_PASSPHRASE */
	uint8_t		 key[SEAL_KEY_LEN];	/* SEAL_KEYFILE */
};

/*
 * Seals len bytes of secret for purpose under sk.  Returns JIT_OK and a
 * malloc'd blob in *out (free with free()).
 */
int seal_encode(const struct seal_key *sk, const char *purpose,
    const uint8_t *secret, size_t len, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Opens a sealed blob.  The secret is returned in sodium_malloc memory:
 * release it with sodium_free().  JIT_ERR_DECRYPT for a wrong key or any
 * tampering, JIT_ERR_UNSEALED when blob's mode differs from sk's,
 * JIT_ERR_INVALID_FORMAT/JIT_ERR_INCOMPLETE for malformed input,
 * JIT_ERR_INVALID_FORMAT when the purpose does not match.
 */
int seal_decode(const struct seal_key *sk, const char *purpose,
    const uint8_t *blob, size_t len, uint8_t **secret, size_t *secretlen)
    __attribute__((warn_unused_result));

/* Reads a 32-byte key file (must not be readable by group or others). */
int seal_key_from_file(const char *path, struct seal_key *sk)
    __attribute__((warn_unused_result));

/* Wipes a seal_key. */
void seal_key_clear(struct seal_key *sk);

#endif
