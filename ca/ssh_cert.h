/*
 * OpenSSH certificates (PROTOCOL.certkeys, *-cert-v01@openssh.com) signed
 * by the CA's Ed25519 user or host key.  The builder validates the request
 * against hard limits, encodes the to-be-signed body, hands it to
 * ca_sign() and then re-parses and re-verifies its own output before
 * returning it (the post-sign check).
 */
#ifndef JIT_CA_SSH_CERT_H
#define JIT_CA_SSH_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"
#include "ca/sshkey.h"

#define CA_SSH_CERT_USER	1
#define CA_SSH_CERT_HOST	2

/* Ceiling on a certificate blob, built or parsed. */
#define CA_SSH_CERT_MAX		(256 * 1024)
/* Ceiling on a critical option or extension name. */
#define CA_SSH_OPTNAME_MAX	128

/* One extension; value NULL means the empty string (flag extensions). */
struct ca_ssh_ext {
	const char	*name;
	const char	*value;
};

struct ca_ssh_cert_req {
	int			 type;		/* CA_SSH_CERT_USER or _HOST */
	const struct ca_sshkey	*subject;
	const char		*key_id;	/* non-empty, printable */
	const char *const	*principals;	/* nprincipals >= 1 names */
	size_t			 nprincipals;
	uint64_t		 valid_after;	/* seconds since the epoch */
	uint64_t		 valid_before;	/* > valid_after */
	uint64_t		 serial;	/* 0: pick a random non-zero serial */
	/* User certificates only: */
	const char		*force_command;	/* NULL for none */
	const char		*source_address;	/* "cidr,cidr"; NULL for none */
	const struct ca_ssh_ext	*extensions;	/* may be NULL with nextensions 0 */
	size_t			 nextensions;
};

struct ca_ssh_cert;

/*
 * Checks a request: principals non-empty, each 1..JIT_PRINCIPAL_LEN_MAX
 * bytes of printable ASCII without commas or spaces, at most
 * JIT_PRINCIPALS_MAX, no duplicates; key id 1..JIT_KEYID_LEN_MAX printable
 * bytes; valid_before > valid_after and valid_before - valid_after <=
 * JIT_CERT_TTL_MAX + JIT_CLOCK_SKEW; extensions known ("permit-pty",
 * "permit-agent-forwarding", "permit-port-forwarding",
 * "permit-X11-forwarding", "permit-user-rc", "no-touch-required") or
 * vendor names containing '@'; source-address a valid CIDR list; host
 * certificates carry no options or extensions.  Returns JIT_OK or
 * JIT_ERR_INVALID_ARG / JIT_ERR_LIMIT.
 */
int ca_ssh_cert_check_req(const struct ca_ssh_cert_req *req)
    __attribute__((warn_unused_result));

/*
 * Builds and signs a certificate with the CA's user or host key (by
 * req->type).  Critical options and extensions are encoded sorted by name
 * as OpenSSH requires.  Returns JIT_OK and a certificate in *out (free with
 * ca_ssh_cert_free).
 */
int ca_ssh_certify(struct ca *ca, const struct ca_ssh_cert_req *req,
    struct ca_ssh_cert **out) __attribute__((warn_unused_result));

void ca_ssh_cert_free(struct ca_ssh_cert *c);

/* The certificate's wire blob; owned by c. */
const uint8_t *ca_ssh_cert_blob(const struct ca_ssh_cert *c, size_t *len);
uint64_t ca_ssh_cert_serial(const struct ca_ssh_cert *c);
uint64_t ca_ssh_cert_valid_after(const struct ca_ssh_cert *c);
uint64_t ca_ssh_cert_valid_before(const struct ca_ssh_cert *c);

/*
 * Returns a malloc'd line "TYPE-cert-v01@openssh.com BASE64 COMMENT\n"
 * (comment may be NULL), the format of an ssh -cert.pub file.
 */
char *ca_ssh_cert_to_line(const struct ca_ssh_cert *c, const char *comment)
    __attribute__((warn_unused_result));

/*
 * A parsed certificate, for callers that read certificates back (the
 * post-sign check, jit-session, tests).  Strings are NUL-terminated and
 * owned by the struct.
 */
struct ca_ssh_cert_info {
	char		*cert_type_name;
	uint32_t	 type;
	uint64_t	 serial;
	char		*key_id;
	char		**principals;
	size_t		 nprincipals;
	uint64_t	 valid_after;
	uint64_t	 valid_before;
	char		*force_command;		/* NULL if absent */
	char		*source_address;	/* NULL if absent */
	struct { char *name; char *value; } *extensions; /* value NULL: flag */
	size_t		 nextensions;
	struct ca_sshkey *key;			/* the certified public key */
	uint8_t		 signature_key[32];	/* Ed25519 CA public key */
};

/*
 * Parses a certificate blob and verifies its Ed25519 signature against the
 * signature key it names (callers must then check that key is the CA they
 * trust; pass ca_pub to have it checked here, or NULL).  Rejects unknown
 * critical options, unsorted or duplicate options/extensions, trailing
 * data and non-Ed25519 signature keys.  The signature is checked before
 * names, principals and options are interpreted.  Returns JIT_OK,
 * JIT_ERR_BAD_SIGNATURE, JIT_ERR_KEY_TYPE, JIT_ERR_INVALID_FORMAT,
 * JIT_ERR_INCOMPLETE, JIT_ERR_TRAILING_DATA or JIT_ERR_LIMIT.  Free with
 * ca_ssh_cert_info_free.
 */
int ca_ssh_cert_parse(const uint8_t *blob, size_t len, const uint8_t *ca_pub,
    struct ca_ssh_cert_info **out) __attribute__((warn_unused_result));

void ca_ssh_cert_info_free(struct ca_ssh_cert_info *info);

/*
 * Checks a source-address value: a comma-separated list of IPv4 or IPv6
 * addresses, each with an optional /prefix within the family's range and
 * no bits set past the prefix (OpenSSH's rule); no hostnames, no blanks,
 * no empty entries.  Returns JIT_OK or JIT_ERR_INVALID_ARG / JIT_ERR_LIMIT.
 */
int ca_ssh_check_source_address(const char *s)
    __attribute__((warn_unused_result));

/* Returns a random non-zero 64-bit serial. */
uint64_t ca_ssh_random_serial(void);

#endif
