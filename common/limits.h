/*
 * Every buffer and every count that comes from outside is born with a
 * ceiling, and this is the one list of them.
 */
#ifndef JIT_COMMON_LIMITS_H
#define JIT_COMMON_LIMITS_H

#define JIT_BUF_MAX		(16 * 1024 * 1024) /* any struct buf */
#define JIT_FILE_MAX		(1024 * 1024)	/* keys, CSRs, configs read from disk */
#define JIT_PUBKEY_LINE_MAX	(16 * 1024)	/* one authorized_keys line */
#define JIT_PUBKEY_BLOB_MAX	(8 * 1024)	/* decoded SSH public key blob */
#define JIT_RSA_MIN_BITS	2048
#define JIT_RSA_MAX_BITS	16384
#define JIT_CSR_MAX		(64 * 1024)	/* PEM or DER CSR */
#define JIT_PRINCIPALS_MAX	256		/* principals in one certificate */
#define JIT_PRINCIPAL_LEN_MAX	255		/* one principal name */
#define JIT_KEYID_LEN_MAX	1024		/* SSH certificate key id */
#define JIT_OPTION_LEN_MAX	4096		/* force-command, source-address */
#define JIT_EXTENSIONS_MAX	32		/* extensions in one certificate */
#define JIT_CN_LEN_MAX		64		/* X.509 commonName (RFC 5280 ub) */
#define JIT_URI_LEN_MAX		2048		/* X.509 SAN URI */
#define JIT_KRL_SERIALS_MAX	(1024 * 1024)	/* serials in one KRL */
#define JIT_CERT_TTL_MAX	(24 * 60 * 60)	/* hard ceiling on any cert */
#define JIT_CLOCK_SKEW		60		/* backdating of not-before */
#define JIT_PASSPHRASE_MAX	1024
#define JIT_JSON_DEPTH_MAX	32		/* JSON nesting from outside */

#endif
