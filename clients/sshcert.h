/*
 * The server side's view of OpenSSH user CA keys and certificates
 * (PROTOCOL.certkeys), read through common/buf.h: Ed25519 CA keys from
 * authorized_keys-style lines (what TrustedUserCAKeys holds), and the few
 * certificate fields jit-session needs (serial, key id, validity, the
 * grant's end, the force-command option) after checking the CA's Ed25519 signature.  clients/ may
 * not use ca/, so this is a small reader of its own.
 */
#ifndef JIT_CLIENTS_SSHCERT_H
#define JIT_CLIENTS_SSHCERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

#define SSHC_CAS_MAX		8
#define SSHC_ED25519_BLOB_LEN	51	/* string "ssh-ed25519", string pk[32] */

/* A set of trusted Ed25519 CA keys. */
struct sshc_cas {
	uint8_t	pk[SSHC_CAS_MAX][32];
	size_t	n;
};

/* What jit-session reads from a certificate. */
struct sshc_cert {
	uint64_t	serial;
	uint64_t	valid_after;
	uint64_t	valid_before;
	int64_t		grant_end;	/* grant-expires@jitd, or -1 */
	int		has_force_command;
	char		force_command[JIT_OPTION_LEN_MAX + 1];
	char		key_id[JIT_KEYID_LEN_MAX + 1];
	uint8_t		ca_pk[32];	/* the CA key that signed it */
};

/*
 * Reads the Ed25519 keys of authorized_keys-style text ("ssh-ed25519
 * BASE64 [comment]" lines; blank lines and "#" comments skipped) into
 * cas, after what it already holds.  Lines of other key types are an
 * error (JIT_ERR_KEY_TYPE): jitd's CA is Ed25519.  Returns JIT_OK and at
 * least one key, JIT_ERR_NOT_FOUND for none, JIT_ERR_LIMIT past
 * SSHC_CAS_MAX, JIT_ERR_INVALID_FORMAT.
 */
int sshc_cas_parse(const char *text, size_t len, struct sshc_cas *cas)
    __attribute__((warn_unused_result));

/* Reads a CA key file (at most JIT_FILE_MAX bytes) as above. */
int sshc_cas_load(const char *path, struct sshc_cas *cas)
    __attribute__((warn_unused_result));

/* The SSH wire blob of an Ed25519 public key (SSHC_ED25519_BLOB_LEN). */
void sshc_ed25519_blob(const uint8_t pk[32],
    uint8_t out[SSHC_ED25519_BLOB_LEN]);

/*
 * Parses one certificate line ("TYPE-cert-v01@openssh.com BASE64 ..."),
 * or, with a NULL line type, a raw blob.  The certificate must be a user
 * certificate signed (Ed25519) by one of cas, and well formed to its
 * last byte.  Returns JIT_OK and fills *out, JIT_ERR_BAD_SIGNATURE for a
 * signature that does not verify or a CA not in cas, JIT_ERR_KEY_TYPE,
 * JIT_ERR_INVALID_FORMAT, JIT_ERR_INCOMPLETE, JIT_ERR_LIMIT,
 * JIT_ERR_TRAILING_DATA.
 */
int sshc_cert_parse_line(const char *line, size_t len,
    const struct sshc_cas *cas, struct sshc_cert *out)
    __attribute__((warn_unused_result));
int sshc_cert_parse(const uint8_t *blob, size_t len,
    const struct sshc_cas *cas, struct sshc_cert *out)
    __attribute__((warn_unused_result));

#endif
