/*
 * The OpenSSH encodings the jit client needs for its own Ed25519 keys:
 * the public key line sent to the broker, the unencrypted
 * "openssh-key-v1" private key file that ssh and ssh-keygen load, and a
 * bounded reader for the certificate lines the broker returns
 * (PROTOCOL.key, PROTOCOL.certkeys).
 */
#ifndef JIT_CLIENTS_SSHKEYFILE_H
#define JIT_CLIENTS_SSHKEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define SKF_ED25519_PK		32
#define SKF_ED25519_SK		64
#define SKF_ED25519_NAME	"ssh-ed25519"
#define SKF_ED25519_CERT_NAME	"ssh-ed25519-cert-v01@openssh.com"

/* What jit needs to know about an Ed25519 user certificate. */
struct skf_cert {
	uint8_t		pk[SKF_ED25519_PK];	/* the certified key */
	uint64_t	serial;
	uint32_t	type;			/* 1 user, 2 host */
	uint64_t	valid_after;
	uint64_t	valid_before;
};

/*
 * Returns a malloc'd "ssh-ed25519 BASE64 comment" line (no newline), or
 * NULL on allocation failure.
 */
char *skf_pubkey_line(const uint8_t pk[SKF_ED25519_PK], const char *comment)
    __attribute__((warn_unused_result));

/*
 * Encodes an unencrypted OpenSSH private key file ("-----BEGIN OPENSSH
 * PRIVATE KEY-----") for the key pair pk/sk (sk is libsodium's 64-byte
 * seed || public key).  Returns JIT_OK and a malloc'd NUL-terminated text
 * in *out (its length in *outlen), which holds the secret: release it with
 * freezero(*out, *outlen).
 */
int skf_private_pem(const uint8_t pk[SKF_ED25519_PK],
    const uint8_t sk[SKF_ED25519_SK], const char *comment, char **out,
    size_t *outlen) __attribute__((warn_unused_result));

/*
 * Decodes the base64 field of a certificate line "TYPE BASE64 [comment]"
 * (len bytes, a trailing newline allowed) into a malloc'd blob, and
 * parses the blob into *cert when cert is not NULL.  Only Ed25519
 * certificates are accepted.  Returns JIT_OK or JIT_ERR_INVALID_FORMAT,
 * JIT_ERR_KEY_TYPE, JIT_ERR_LIMIT, JIT_ERR_INCOMPLETE, JIT_ERR_ALLOC.
 * Free *blob with free().
 */
int skf_cert_line_decode(const char *line, size_t len, uint8_t **blob,
    size_t *bloblen, struct skf_cert *cert)
    __attribute__((warn_unused_result));

/*
 * Parses an Ed25519 certificate blob up to its validity period (the rest,
 * options, extensions and signature, is the server's business).  Returns
 * JIT_OK or an error as above; *cert is cleared on error.
 */
int skf_cert_parse(const uint8_t *blob, size_t len, struct skf_cert *cert)
    __attribute__((warn_unused_result));

/*
 * Reads the public key stored in the clear part of an openssh-key-v1
 * private key file (text of len bytes).  Returns JIT_OK and the Ed25519
 * public key in pk, or an error as above.  The private part is not
 * decoded.
 */
int skf_private_pem_pubkey(const char *text, size_t len,
    uint8_t pk[SKF_ED25519_PK]) __attribute__((warn_unused_result));

#endif
