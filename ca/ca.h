/*
 * The certificate authority's keys: creation, sealing at rest, loading,
 * and the signer interface through which every certificate gets signed.
 *
 * A struct ca holds the CA's public material (SSH user and host CA public
 * keys, the X.509 CA certificate) and a signer.  Builders in ssh_cert.h,
 * x509.h and krl.h hand to-be-signed bytes to ca_sign() and never see a
 * private key, so the signer can move to another process or a PKCS#11
 * token without changing them.
 *
 * On disk, a CA directory holds:
 *   user_ca.pub, host_ca.pub   authorized_keys lines (ssh-ed25519)
 *   user_ca.key, host_ca.key   sealed Ed25519 secret keys
 *   x509_ca.pem                self-signed X.509 CA certificate (P-256)
 *   x509_ca.key                sealed PKCS#8 DER of the X.509 CA key
 * All files are created 0600 and never overwritten.
 */
#ifndef JIT_CA_CA_H
#define JIT_CA_CA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/seal.h"

#define CA_WUR __attribute__((warn_unused_result))

enum ca_slot {
	CA_SLOT_SSH_USER = 0,	/* Ed25519, signs user certificates and KRLs */
	CA_SLOT_SSH_HOST = 1,	/* Ed25519, signs host certificates */
	CA_SLOT_X509 = 2,	/* ECDSA P-256, signs X.509 leaves (DER ECDSA-Sig-Value) */
};
#define CA_SLOT_COUNT	3
#define CA_SIG_MAX	128	/* largest signature any slot returns */

struct ca;

/*
 * The signer interface.  sign() signs len bytes of msg with the slot's key
 * and writes the signature to sig (at most CA_SIG_MAX bytes), setting
 * *siglen.  Ed25519 slots sign the message itself; the X.509 slot signs
 * SHA-256 of it (ecdsa-with-SHA256).  Returns JIT_OK or a JIT_ERR_* code.
 * free() releases ctx.
 */
struct ca_signer_ops {
	int	(*sign)(void *ctx, enum ca_slot slot, const uint8_t *msg,
		    size_t len, uint8_t *sig, size_t *siglen);
	void	(*free)(void *ctx);
};

/*
 * Creates a CA with fresh keys in memory (in-process signer), the X.509
 * CA certificate named cn (e.g. "jitd CA") and valid from now for
 * validity_days.  Returns JIT_OK; free with ca_free().
 */
int ca_generate(const char *cn, int validity_days, struct ca **out) CA_WUR;

/*
 * Writes a generated CA into dir (created 0700 if missing), sealing each
 * private key with sk.  Refuses (JIT_ERR_EXISTS) if any CA file is already
 * there, and removes what it wrote on failure.
 */
int ca_save(const struct ca *ca, const char *dir, const struct seal_key *sk)
    CA_WUR;

/*
 * Loads a CA directory and unseals its keys with sk into an in-process
 * signer (secrets kept in sodium_malloc memory).  JIT_ERR_DECRYPT for a
 * wrong passphrase/key or a corrupted key file, JIT_ERR_UNSEALED when the
 * file's protection does not match sk's mode, JIT_ERR_NOT_FOUND when a
 * file is missing.
 */
int ca_open(const char *dir, const struct seal_key *sk, struct ca **out) CA_WUR;

/*
 * ca_open, and on failure the path of the file at fault (a missing, badly
 * protected, corrupt or mismatched key or public file) in bad, which is
 * set to "" first and stays empty when no single file is at fault.
 */
int ca_open_report(const char *dir, const struct seal_key *sk, char *bad,
    size_t badlen, struct ca **out) CA_WUR;

/* Loads only the public material of a CA directory; ca_sign() then fails. */
int ca_open_public(const char *dir, struct ca **out) CA_WUR;

/*
 * Replaces the CA's signer (taking ownership of ctx) with another
 * implementation, e.g. a privilege-separated process.  The old one is freed.
 */
void ca_set_signer(struct ca *ca, const struct ca_signer_ops *ops, void *ctx);

/*
 * The CA's signer context if its signer is ops, else NULL (lets a signer
 * implementation find its own state again; owned by ca).
 */
void *ca_signer_ctx(const struct ca *ca, const struct ca_signer_ops *ops);

/* 1 if the CA signs with keys held in this process (ca_open, ca_generate). */
int ca_signer_is_local(const struct ca *ca);

/* Frees the CA and wipes any key material; accepts NULL. */
void ca_free(struct ca *ca);

/* Signs through the CA's signer; see struct ca_signer_ops. */
int ca_sign(struct ca *ca, enum ca_slot slot, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen) CA_WUR;

/*
 * The 32-byte Ed25519 public key of an SSH slot (CA_SLOT_SSH_USER or
 * CA_SLOT_SSH_HOST).  Owned by ca.
 */
const uint8_t *ca_ssh_pubkey(const struct ca *ca, enum ca_slot slot);

/*
 * The SSH wire blob (string "ssh-ed25519", string key) of an SSH slot's
 * public key, written into a caller-provided 51-byte array.
 */
#define CA_SSH_PUBBLOB_LEN 51
void ca_ssh_pubkey_blob(const struct ca *ca, enum ca_slot slot,
    uint8_t blob[CA_SSH_PUBBLOB_LEN]);

/*
 * Returns a malloc'd authorized_keys line "ssh-ed25519 BASE64 COMMENT\n"
 * for an SSH slot, or NULL.
 */
char *ca_ssh_pubkey_line(const struct ca *ca, enum ca_slot slot,
    const char *comment) CA_WUR;

/*
 * The X.509 CA certificate, as an OpenSSL X509 (owned by ca; callers that
 * keep it take a reference) and as PEM text (malloc'd, caller frees).
 */
struct x509_st;
struct x509_st *ca_x509_ca_cert(const struct ca *ca);
char *ca_x509_ca_pem(const struct ca *ca) CA_WUR;

/* The current time as the CA sees it; tests may override it. */
typedef time_t (*ca_clock_fn)(void);
void ca_set_clock(ca_clock_fn fn);
time_t ca_now(void);

#endif
