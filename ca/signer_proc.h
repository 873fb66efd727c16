/*
 * Privilege separation of the CA keys (the idea of OpenSSH's monitor):
 * ca_signer_fork() moves a CA's private keys into a small child process
 * and leaves the caller with a signer that only talks to it over a
 * socketpair.  The child answers one kind of question, "sign this
 * to-be-signed body", and only after re-checking the body against hard
 * limits; it answers nothing else.  A bug on the caller's side (the HTTP
 * server) can then make the CA sign only what the limits allow, and cannot
 * read the keys, which are no longer in its memory.
 *
 * Protocol (SOCK_SEQPACKET: one message is one request or one answer):
 *   request  u8 slot, u32 len, len bytes (the to-be-signed body)
 *   answer   u8 status (0 = ok, else -JIT_ERR_*), u32 len, len bytes (sig)
 * A request is at most CA_SIGNER_MSG_MAX bytes of body.  What the body is
 * is decided by the signer from its own bytes, never from a claim of the
 * caller, and every kind must be unambiguous:
 *   - CA_SLOT_SSH_USER / CA_SLOT_SSH_HOST, body starting with a string
 *     "*-cert-v01@openssh.com": an OpenSSH certificate up to and including
 *     the signature key (PROTOCOL.certkeys).  Parsed with the strict
 *     certificate parser; the type must match the slot, the signature key
 *     must be that slot's CA key, key id non-empty, serial non-zero, at
 *     least one principal, valid_before - valid_after <= max_validity and
 *     valid_before <= now + max_validity.
 *   - CA_SLOT_SSH_USER, body starting with the KRL magic "SSHKRL\n\0": a
 *     KRL up to and including its signature section header naming the
 *     user CA key (PROTOCOL.krl); it must parse with common/krl_read.h.
 *   - CA_SLOT_X509: the DER TBSCertificate.  Wrapped in a Certificate with
 *     an empty signature and parsed with d2i_X509 (OpenSSL 3.0 has no
 *     public TBSCertificate parser); it must be v3, name this CA as issuer,
 *     use ecdsa-with-SHA256, say CA:FALSE, carry EKU clientAuth and no
 *     keyCertSign/cRLSign, and respect the same validity limits.
 * Anything else gets an error status and the signer keeps serving.
 */
#ifndef JIT_CA_SIGNER_PROC_H
#define JIT_CA_SIGNER_PROC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"

#define CA_SIGNER_MSG_MAX	(64 * 1024)	/* body bytes in one request */
#define CA_SIGNER_HDR_LEN	5		/* u8 slot/status + u32 len */

struct ca_signer_limits {
	/*
	 * Longest validity the signer accepts, in seconds; 0 means the hard
	 * ceiling JIT_CERT_TTL_MAX + JIT_CLOCK_SKEW (also the maximum).
	 */
	int64_t	max_validity;
};

/*
 * Forks the signer process for a CA opened with its keys (ca_open or
 * ca_generate), replaces the CA's signer with one that asks the child, and
 * wipes the keys from this process's memory.  Call it before starting
 * threads.  The child closes every file descriptor but stderr and its end
 * of the socket, is not dumpable, dies with its parent and exits when the
 * socket closes (ca_free() closes it and reaps the child).  ca_sign() calls
 * from several threads are serialised.  If the child dies, every later
 * signature fails with JIT_ERR_CRYPTO.  lim may be NULL (defaults).
 * Returns JIT_OK and the child's pid in *pid (may be NULL), or
 * JIT_ERR_INVALID_ARG when the CA has no local keys, JIT_ERR_SYSTEM.
 */
int ca_signer_fork(struct ca *ca, const struct ca_signer_limits *lim,
    pid_t *pid) __attribute__((warn_unused_result));

/* 1 while the CA's signer is a live signer process, else 0. */
int ca_signer_alive(struct ca *ca);

/*
 * For tests: sends one raw request message of len bytes to the CA's
 * signer process and reads the answer (status, len, sig) into ans
 * (capacity anscap).  Returns JIT_OK with the answer's length in *anslen,
 * JIT_ERR_INVALID_ARG when the CA has no signer process, JIT_ERR_CRYPTO
 * when the child does not answer.
 */
int ca_signer_raw(struct ca *ca, const uint8_t *msg, size_t len,
    uint8_t *ans, size_t anscap, size_t *anslen)
    __attribute__((warn_unused_result));

/*
 * The check the signer applies to a request before signing, exposed for
 * tests and fuzzing: JIT_OK if the signer would sign body with slot's key
 * at time now, or the refusal's JIT_ERR_* code.
 */
int ca_signer_check(struct ca *ca, const struct ca_signer_limits *lim,
    enum ca_slot slot, const uint8_t *body, size_t len, int64_t now)
    __attribute__((warn_unused_result));

#endif
