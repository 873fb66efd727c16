/*
 * jit-ca: the offline operator tool for jitd's certificate authority.
 * Creates a CA directory (SSH user and host CAs, X.509 CA, keys sealed at
 * rest), prints its public keys, signs OpenSSH and X.509 certificates and
 * writes KRLs.  Everything here is a thin layer over the ca/ library.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ca/ca.h"
#include "ca/krl.h"
#include "ca/ssh_cert.h"
#include "ca/sshkey.h"
#include "ca/x509.h"
#include "common/duration.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/secret.h"
#include "common/tty.h"

#define EXIT_USAGE 2

static const char *progname = "jit-ca";

static const char usage_main[] =
"usage: jit-ca COMMAND [options]\n"
"\n"
"Offline tool for jitd's certificate authority.\n"
"\n"
"commands:\n"
"  init DIR        create SSH user/host CAs and an X.509 CA in DIR\n"
"  pubkey DIR      print the SSH CA public key (authorized_keys line)\n"
"  x509-ca DIR     print the X.509 CA certificate (PEM)\n"
"  sign-ssh DIR    sign an OpenSSH certificate\n"
"  sign-x509 DIR   issue an X.509 client certificate from a CSR\n"
"  krl DIR         write an OpenSSH KRL revoking certificate serials\n"
"\n"
"Run 'jit-ca COMMAND --help' for a command's options.\n"
"Keys are unsealed with --passphrase-file FILE, the environment variable\n"
"JIT_CA_PASSPHRASE, --key-file FILE (32 random bytes), or a prompt.\n";

static const char usage_init[] =
"usage: jit-ca init DIR [--passphrase-file FILE | --key-file FILE |\n"
"                        --no-passphrase] [--cn NAME] [--days N]\n"
"\n"
"Creates DIR (0700) with an Ed25519 SSH user CA, an Ed25519 SSH host CA and\n"
"a self-signed ECDSA P-256 X.509 CA (CA:TRUE, pathlen:0).  Private keys are\n"
"sealed with a passphrase (argon2id + secretbox) from FILE, from\n"
"$JIT_CA_PASSPHRASE or typed twice at a prompt; or with a 32-byte key file.\n"
"--no-passphrase stores them unsealed and must be said explicitly.  Files\n"
"are created 0600 and existing files are never overwritten.\n"
"  --cn NAME   X.509 CA common name (default \"jitd CA\")\n"
"  --days N    X.509 CA validity in days (default 3650)\n";

static const char usage_pubkey[] =
"usage: jit-ca pubkey DIR [--host]\n"
"\n"
"Prints the SSH user CA public key as an authorized_keys line, for sshd's\n"
"TrustedUserCAKeys; with --host, the host CA key for @cert-authority lines.\n";

static const char usage_x509ca[] =
"usage: jit-ca x509-ca DIR\n"
"\n"
"Prints the X.509 CA certificate in PEM, for peers that verify clients.\n";

static const char usage_sign_ssh[] =
"usage: jit-ca sign-ssh DIR --key USER.pub --id KEYID --principals a,b\n"
"                       --ttl 5m [--host] [--force-command CMD]\n"
"                       [--source-address CIDR,...] [--extensions e1,e2]\n"
"                       [-o OUT]\n"
"\n"
"Signs an OpenSSH certificate for the public key in USER.pub (ssh-ed25519,\n"
"ecdsa-sha2-nistp256/384/521, ssh-rsa >= 2048 bits) with a random serial,\n"
"valid from 60 s ago until now + TTL (at most 24h).  User certificates get\n"
"only permit-pty unless --extensions says otherwise (\"none\" for none);\n"
"known extensions: permit-pty, permit-agent-forwarding,\n"
"permit-port-forwarding, permit-X11-forwarding, permit-user-rc.\n"
"Writes the certificate line to OUT (replaced atomically) or stdout.\n";

static const char usage_sign_x509[] =
"usage: jit-ca sign-x509 DIR --csr REQ.pem --cn NAME [--ou UNIT] [--uri URI]\n"
"                        --ttl 5m [-o OUT]\n"
"\n"
"Issues an X.509 client certificate for the key in the CSR after checking\n"
"the CSR's signature.  Every subject field and extension the CSR asks for\n"
"is ignored: the certificate carries CN=NAME, the optional SAN URI,\n"
"CA:FALSE, digitalSignature and clientAuth, and lives for TTL (at most 24h).\n";

static const char usage_krl[] =
"usage: jit-ca krl DIR --serials N,M,... -o FILE [--version N] [--sign]\n"
"\n"
"Writes an OpenSSH KRL (for sshd's RevokedKeys) revoking the listed serials\n"
"of certificates signed by the user CA; --version defaults to the current\n"
"time.  --sign appends a signature by the user CA key (PROTOCOL.krl) for\n"
"hosts that check KRLs before installing them; give sshd the unsigned KRL:\n"
"OpenSSH 9.4 and later treat a signed KRL as revoking every key.\n";

static void __attribute__((format(printf, 1, 2)))
errx_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
usage_err(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

/* Options shared by commands that unseal keys. */
struct unlock_opts {
	const char	*passphrase_file;
	const char	*key_file;
	int		 no_passphrase;
};

/*
 * Fills sk from the options, the environment or a prompt.  For init,
 * confirm asks twice and an empty passphrase is refused.  *pass holds the
 * passphrase (freed by the caller with strfreezero).
 */
static int
get_seal_key(const struct unlock_opts *u, int creating, struct seal_key *sk,
    char **pass)
{
	const char *env;
	char *again = NULL;
	int r;

	memset(sk, 0, sizeof(*sk));
	*pass = NULL;
	if ((u->passphrase_file != NULL) + (u->key_file != NULL) +
	    u->no_passphrase > 1) {
		errx_msg("--passphrase-file, --key-file and --no-passphrase "
		    "are mutually exclusive");
		return EXIT_USAGE;
	}
	if (u->no_passphrase) {
		sk->mode = SEAL_NONE;
		return 0;
	}
	if (u->key_file != NULL) {
		if ((r = seal_key_from_file(u->key_file, sk)) != JIT_OK) {
			errx_msg("key file %s: %s%s", u->key_file,
			    jit_strerror(r), r == JIT_ERR_PERMISSION ?
			    " (must be a regular file readable only by its "
			    "owner)" : r == JIT_ERR_INVALID_FORMAT ?
			    " (must hold exactly 32 bytes)" : "");
			return 1;
		}
		return 0;
	}
	sk->mode = SEAL_PASSPHRASE;
	if (u->passphrase_file != NULL) {
		if ((r = fileio_read_secret(u->passphrase_file, pass)) !=
		    JIT_OK) {
			errx_msg("passphrase file %s: %s", u->passphrase_file,
			    r == JIT_ERR_SYSTEM ? strerror(errno) :
			    jit_strerror(r));
			return 1;
		}
	} else if ((env = getenv("JIT_CA_PASSPHRASE")) != NULL) {
		if (strlen(env) > JIT_PASSPHRASE_MAX) {
			errx_msg("JIT_CA_PASSPHRASE is too long");
			return 1;
		}
		if ((*pass = strdup(env)) == NULL)
			return 1;
	} else {
		if (tty_read_secret(creating ? "New CA passphrase: " :
		    "CA passphrase: ", JIT_PASSPHRASE_MAX, pass) != JIT_OK) {
			errx_msg("no passphrase: use --passphrase-file FILE, "
			    "JIT_CA_PASSPHRASE, --key-file FILE%s",
			    creating ? " or --no-passphrase" : "");
			return 1;
		}
		if (creating) {
			if (tty_read_secret("Again: ", JIT_PASSPHRASE_MAX,
			    &again) != JIT_OK || strcmp(again, *pass) != 0) {
				errx_msg("passphrases do not match");
				strfreezero(again);
				return 1;
			}
			strfreezero(again);
		}
	}
	if (creating && **pass == '\0') {
		errx_msg("refusing an empty passphrase (use --no-passphrase "
		    "to store keys unsealed)");
		return 1;
	}
	sk->passphrase = *pass;
	return 0;
}

static int
open_ca(const char *dir, const struct unlock_opts *u, struct ca **ca)
{
	struct seal_key sk;
	char *pass = NULL;
	int r, rc;

	if ((rc = get_seal_key(u, 0, &sk, &pass)) != 0)
		return rc;
	r = ca_open(dir, &sk, ca);
	seal_key_clear(&sk);
	strfreezero(pass);
	switch (r) {
	case JIT_OK:
		return 0;
	case JIT_ERR_DECRYPT:
		errx_msg("%s: cannot unseal the CA keys: wrong passphrase or "
		    "key file, or a corrupted key file", dir);
		break;
	case JIT_ERR_UNSEALED:
		errx_msg("%s: the CA keys are protected differently "
		    "(passphrase, key file or unsealed) than given", dir);
		break;
	case JIT_ERR_NOT_FOUND:
		errx_msg("%s: not a CA directory (missing files; see "
		    "'jit-ca init')", dir);
		break;
	case JIT_ERR_PERMISSION:
		errx_msg("%s: a CA key file is readable by group or others, "
		    "or is a symbolic link: refusing to use it", dir);
		break;
	default:
		errx_msg("%s: cannot load the CA: %s", dir, jit_strerror(r));
		break;
	}
	return 1;
}

/* Writes text to path (atomically, mode 0644) or to stdout. */
static int
emit(const char *path, const char *text)
{
	int r;

	if (path == NULL) {
		if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
			errx_msg("write: %s", strerror(errno));
			return 1;
		}
		return 0;
	}
	if ((r = fileio_write_atomic(path, text, strlen(text), 0644)) !=
	    JIT_OK) {
		errx_msg("%s: %s", path, r == JIT_ERR_SYSTEM ?
		    strerror(errno) : jit_strerror(r));
		return 1;
	}
	return 0;
}

static int
parse_ttl(const char *s, int64_t *ttl)
{
	int r;

	if (s == NULL) {
		errx_msg("--ttl is required");
		return EXIT_USAGE;
	}
	if ((r = duration_parse(s, JIT_CERT_TTL_MAX, ttl)) != JIT_OK) {
		errx_msg("--ttl %s: %s", s, r == JIT_ERR_LIMIT ?
		    "above the 24h ceiling" : "not a duration (like 90s, 5m, "
		    "1h)");
		return EXIT_USAGE;
	}
	return 0;
}

enum {
	OPT_PASSFILE = 256, OPT_KEYFILE, OPT_NOPASS, OPT_CN, OPT_DAYS, OPT_HOST,
	OPT_KEY, OPT_ID, OPT_PRINCIPALS, OPT_TTL, OPT_FORCE, OPT_SOURCE,
	OPT_EXT, OPT_CSR, OPT_URI, OPT_OU, OPT_SERIALS, OPT_VERSION,
	OPT_SIGN, OPT_HELP
};

#define UNLOCK_LONGOPTS \
	{ "passphrase-file", required_argument, NULL, OPT_PASSFILE }, \
	{ "key-file", required_argument, NULL, OPT_KEYFILE }, \
	{ "help", no_argument, NULL, OPT_HELP }

static int
unlock_opt(int c, struct unlock_opts *u)
{
	switch (c) {
	case OPT_PASSFILE:
		u->passphrase_file = optarg;
		return 1;
	case OPT_KEYFILE:
		u->key_file = optarg;
		return 1;
	case OPT_NOPASS:
		u->no_passphrase = 1;
		return 1;
	}
	return 0;
}

/* After getopt: exactly one positional DIR. */
static const char *
one_dir(int argc, char **argv)
{
	if (optind != argc - 1)
		return NULL;
	return argv[optind];
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option lo[] = {
		UNLOCK_LONGOPTS,
		{ "no-passphrase", no_argument, NULL, OPT_NOPASS },
		{ "cn", required_argument, NULL, OPT_CN },
		{ "days", required_argument, NULL, OPT_DAYS },
		{ NULL, 0, NULL, 0 }
	};
	struct unlock_opts u = { NULL, NULL, 0 };
	struct seal_key sk;
	struct ca *ca = NULL;
	const char *dir, *cn = "jitd CA";
	char *pass = NULL, *end;
	long days = 3650;
	int c, r, rc = 1;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (unlock_opt(c, &u))
			continue;
		switch (c) {
		case OPT_CN:
			cn = optarg;
			break;
		case OPT_DAYS:
			errno = 0;
			days = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || days < 1 ||
			    days > 36500) {
				errx_msg("--days must be 1..36500");
				return EXIT_USAGE;
			}
			break;
		case OPT_HELP:
			fputs(usage_init, stdout);
			return 0;
		default:
			return usage_err(usage_init);
		}
	}
	if ((dir = one_dir(argc, argv)) == NULL)
		return usage_err(usage_init);
	if (strlen(cn) == 0 || strlen(cn) > JIT_CN_LEN_MAX) {
		errx_msg("--cn must be 1..%d bytes", JIT_CN_LEN_MAX);
		return EXIT_USAGE;
	}
	if ((rc = get_seal_key(&u, 1, &sk, &pass)) != 0)
		return rc;
	rc = 1;
	if ((r = ca_generate(cn, (int)days, &ca)) != JIT_OK) {
		errx_msg("generating keys: %s", jit_strerror(r));
		goto out;
	}
	if ((r = ca_save(ca, dir, &sk)) != JIT_OK) {
		if (r == JIT_ERR_EXISTS)
			errx_msg("%s: a CA already exists there; refusing to "
			    "overwrite it", dir);
		else
			errx_msg("%s: %s", dir, r == JIT_ERR_SYSTEM ?
			    strerror(errno) : jit_strerror(r));
		goto out;
	}
	fprintf(stderr, "%s: created CA in %s (keys %s)\n", progname, dir,
	    sk.mode == SEAL_NONE ? "UNSEALED" : sk.mode == SEAL_KEYFILE ?
	    "sealed with key file" : "sealed with passphrase");
	rc = 0;
 out:
	seal_key_clear(&sk);
	strfreezero(pass);
	ca_free(ca);
	return rc;
}

static int
cmd_pubkey(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", no_argument, NULL, OPT_HOST },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct ca *ca = NULL;
	const char *dir;
	char *line;
	int c, r, host = 0, rc;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HOST)
			host = 1;
		else if (c == OPT_HELP) {
			fputs(usage_pubkey, stdout);
			return 0;
		} else
			return usage_err(usage_pubkey);
	}
	if ((dir = one_dir(argc, argv)) == NULL)
		return usage_err(usage_pubkey);
	if ((r = ca_open_public(dir, &ca)) != JIT_OK) {
		errx_msg("%s: cannot read the CA: %s", dir, jit_strerror(r));
		return 1;
	}
	line = ca_ssh_pubkey_line(ca, host ? CA_SLOT_SSH_HOST :
	    CA_SLOT_SSH_USER, host ? "jitd host CA" : "jitd user CA");
	rc = line != NULL ? emit(NULL, line) : 1;
	free(line);
	ca_free(ca);
	return rc;
}

static int
cmd_x509ca(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct ca *ca = NULL;
	const char *dir;
	char *pem;
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(usage_x509ca, stdout);
			return 0;
		}
		return usage_err(usage_x509ca);
	}
	if ((dir = one_dir(argc, argv)) == NULL)
		return usage_err(usage_x509ca);
	if ((r = ca_open_public(dir, &ca)) != JIT_OK) {
		errx_msg("%s: cannot read the CA: %s", dir, jit_strerror(r));
		return 1;
	}
	pem = ca_x509_ca_pem(ca);
	rc = pem != NULL ? emit(NULL, pem) : 1;
	free(pem);
	ca_free(ca);
	return rc;
}

static void
fmt_time(uint64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "%" PRIu64, t);
}

static int
cmd_sign_ssh(int argc, char **argv)
{
	static const struct option lo[] = {
		UNLOCK_LONGOPTS,
		{ "key", required_argument, NULL, OPT_KEY },
		{ "id", required_argument, NULL, OPT_ID },
		{ "principals", required_argument, NULL, OPT_PRINCIPALS },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "host", no_argument, NULL, OPT_HOST },
		{ "force-command", required_argument, NULL, OPT_FORCE },
		{ "source-address", required_argument, NULL, OPT_SOURCE },
		{ "extensions", required_argument, NULL, OPT_EXT },
		{ NULL, 0, NULL, 0 }
	};
	struct unlock_opts u = { NULL, NULL, 0 };
	struct ca_ssh_cert_req req;
	struct ca_ssh_ext *exts = NULL;
	struct ca_sshkey *key = NULL;
	struct ca_ssh_cert *cert = NULL;
	struct ca *ca = NULL;
	const char *dir, *keyfile = NULL, *id = NULL, *principals = NULL;
	const char *ttls = NULL, *force = NULL, *source = NULL, *extarg = NULL;
	const char *out = NULL;
	char **pv = NULL, **ev = NULL, *line = NULL, t1[32], t2[32];
	char fp[CA_SSHKEY_FP_LEN];
	uint8_t *kd = NULL;
	size_t kdlen = 0, np = 0, ne = 0, i;
	int64_t ttl;
	time_t now;
	int c, r, host = 0, rc = 1;

	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		if (unlock_opt(c, &u))
			continue;
		switch (c) {
		case OPT_KEY: keyfile = optarg; break;
		case OPT_ID: id = optarg; break;
		case OPT_PRINCIPALS: principals = optarg; break;
		case OPT_TTL: ttls = optarg; break;
		case OPT_HOST: host = 1; break;
		case OPT_FORCE: force = optarg; break;
		case OPT_SOURCE: source = optarg; break;
		case OPT_EXT: extarg = optarg; break;
		case 'o': out = optarg; break;
		case OPT_HELP:
			fputs(usage_sign_ssh, stdout);
			return 0;
		default:
			return usage_err(usage_sign_ssh);
		}
	}
	if ((dir = one_dir(argc, argv)) == NULL)
		return usage_err(usage_sign_ssh);
	if (keyfile == NULL || id == NULL || principals == NULL) {
		errx_msg("--key, --id, --principals and --ttl are required");
		return EXIT_USAGE;
	}
	if ((rc = parse_ttl(ttls, &ttl)) != 0)
		return rc;
	rc = 1;
	if (host && (force != NULL || source != NULL || extarg != NULL)) {
		errx_msg("host certificates carry no options or extensions");
		return EXIT_USAGE;
	}
	if ((r = fileio_read(keyfile, JIT_PUBKEY_LINE_MAX, 0, &kd,
	    &kdlen)) != JIT_OK) {
		errx_msg("%s: %s", keyfile, r == JIT_ERR_SYSTEM ?
		    strerror(errno) : r == JIT_ERR_LIMIT ?
		    "too large for a public key" : jit_strerror(r));
		goto out;
	}
	if ((r = ca_sshkey_parse_line((char *)kd, kdlen, &key)) != JIT_OK) {
		errx_msg("%s: not an acceptable public key: %s", keyfile,
		    jit_strerror(r));
		goto out;
	}
	if ((pv = strv_split(principals, ',', JIT_PRINCIPALS_MAX, &np)) ==
	    NULL) {
		errx_msg("too many principals (at most %d)",
		    JIT_PRINCIPALS_MAX);
		goto out;
	}
	if (!host) {
		if (extarg == NULL)
			extarg = "permit-pty";
		if (strcmp(extarg, "none") != 0 && *extarg != '\0') {
			if ((ev = strv_split(extarg, ',', JIT_EXTENSIONS_MAX,
			    &ne)) == NULL ||
			    (exts = calloc(ne, sizeof(*exts))) == NULL) {
				errx_msg("too many extensions");
				goto out;
			}
			for (i = 0; i < ne; i++)
				exts[i].name = ev[i];
		}
	}
	if ((rc = open_ca(dir, &u, &ca)) != 0)
		goto out;
	rc = 1;
	now = ca_now();
	memset(&req, 0, sizeof(req));
	req.type = host ? CA_SSH_CERT_HOST : CA_SSH_CERT_USER;
	req.subject = key;
	req.key_id = id;
	req.principals = (const char *const *)pv;
	req.nprincipals = np;
	req.valid_after = (uint64_t)(now - JIT_CLOCK_SKEW);
	req.valid_before = (uint64_t)(now + ttl);
	req.force_command = force;
	req.source_address = source;
	req.extensions = exts;
	req.nextensions = ne;
	if ((r = ca_ssh_cert_check_req(&req)) != JIT_OK) {
		errx_msg("refusing to sign: %s (principals must be non-empty "
		    "names without commas, spaces or control characters; "
		    "extensions must be known; source-address must be CIDRs)",
		    jit_strerror(r));
		goto out;
	}
	if ((r = ca_ssh_certify(ca, &req, &cert)) != JIT_OK) {
		errx_msg("signing failed: %s", jit_strerror(r));
		goto out;
	}
	if ((line = ca_ssh_cert_to_line(cert, id)) == NULL)
		goto out;
	if ((rc = emit(out, line)) != 0)
		goto out;
	ca_sshkey_fingerprint(key, fp, sizeof(fp));
	fmt_time(ca_ssh_cert_valid_after(cert), t1, sizeof(t1));
	fmt_time(ca_ssh_cert_valid_before(cert), t2, sizeof(t2));
	fprintf(stderr, "%s: signed %s certificate serial %" PRIu64
	    " id \"%s\" for %s key %s, valid %s to %s\n", progname,
	    host ? "host" : "user", ca_ssh_cert_serial(cert), id,
	    ca_sshkey_type_name(key), fp, t1, t2);
	rc = 0;
 out:
	free(line);
	ca_ssh_cert_free(cert);
	ca_free(ca);
	ca_sshkey_free(key);
	free(exts);
	strv_free(ev);
	strv_free(pv);
	free(kd);
	return rc;
}

static int
cmd_sign_x509(int argc, char **argv)
{
	static const struct option lo[] = {
		UNLOCK_LONGOPTS,
		{ "csr", required_argument, NULL, OPT_CSR },
		{ "cn", required_argument, NULL, OPT_CN },
		{ "ou", required_argument, NULL, OPT_OU },
		{ "uri", required_argument, NULL, OPT_URI },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ NULL, 0, NULL, 0 }
	};
	struct unlock_opts u = { NULL, NULL, 0 };
	struct ca_x509_req req;
	struct ca_x509_cert *cert = NULL;
	struct ca *ca = NULL;
	const char *dir, *csrfile = NULL, *cn = NULL, *ou = NULL, *uri = NULL;
	const char *ttls = NULL, *out = NULL;
	uint8_t *csr = NULL;
	size_t csrlen = 0;
	char t1[32], t2[32];
	int64_t ttl;
	int c, r, rc = 1;

	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		if (unlock_opt(c, &u))
			continue;
		switch (c) {
		case OPT_CSR: csrfile = optarg; break;
		case OPT_CN: cn = optarg; break;
		case OPT_OU: ou = optarg; break;
		case OPT_URI: uri = optarg; break;
		case OPT_TTL: ttls = optarg; break;
		case 'o': out = optarg; break;
		case OPT_HELP:
			fputs(usage_sign_x509, stdout);
			return 0;
		default:
			return usage_err(usage_sign_x509);
		}
	}
	if ((dir = one_dir(argc, argv)) == NULL)
		return usage_err(usage_sign_x509);
	if (csrfile == NULL || cn == NULL) {
		errx_msg("--csr, --cn and --ttl are required");
		return EXIT_USAGE;
	}
	if ((rc = parse_ttl(ttls, &ttl)) != 0)
		return rc;
	rc = 1;
	if ((r = fileio_read(csrfile, JIT_CSR_MAX, 0, &csr, &csrlen)) !=
	    JIT_OK) {
		errx_msg("%s: %s", csrfile, r == JIT_ERR_SYSTEM ?
		    strerror(errno) : r == JIT_ERR_LIMIT ?
		    "too large for a CSR" : jit_strerror(r));
		goto out;
	}
	if ((rc = open_ca(dir, &u, &ca)) != 0)
		goto out;
	rc = 1;
	memset(&req, 0, sizeof(req));
	req.csr = csr;
	req.csrlen = csrlen;
	req.cn = cn;
	req.ou = ou;
	req.uri = uri;
	req.ttl = ttl;
	if ((r = ca_x509_issue(ca, &req, &cert)) != JIT_OK) {
		errx_msg("refusing to issue: %s%s", jit_strerror(r),
		    r == JIT_ERR_BAD_SIGNATURE ? " (the CSR's own signature "
		    "does not verify)" : r == JIT_ERR_INVALID_FORMAT ?
		    " (not a PEM or DER certificate request)" : "");
		goto out;
	}
	if ((rc = emit(out, ca_x509_cert_pem(cert))) != 0)
		goto out;
	fmt_time((uint64_t)ca_x509_cert_not_before(cert), t1, sizeof(t1));
	fmt_time((uint64_t)ca_x509_cert_not_after(cert), t2, sizeof(t2));
	fprintf(stderr, "%s: issued certificate serial %s CN=%s for key %s, "
	    "valid %s to %s\n", progname, ca_x509_cert_serial_hex(cert), cn,
	    ca_x509_cert_key_fingerprint(cert), t1, t2);
	rc = 0;
 out:
	ca_x509_cert_free(cert);
	ca_free(ca);
	free(csr);
	return rc;
}

static int
cmd_krl(int argc, char **argv)
{
	static const struct option lo[] = {
		UNLOCK_LONGOPTS,
		{ "serials", required_argument, NULL, OPT_SERIALS },
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "sign", no_argument, NULL, OPT_SIGN },
		{ NULL, 0, NULL, 0 }
	};
	struct unlock_opts u = { NULL, NULL, 0 };
	struct ca *ca = NULL;
	const char *dir, *serials = NULL, *out = NULL, *version = NULL;
	uint64_t *sv = NULL, ver;
	uint8_t *krl = NULL;
	size_t krllen = 0, n = 0, i;
	char **parts = NULL, *end;
	int c, r, sign = 0, rc = 1;

	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		if (unlock_opt(c, &u))
			continue;
		switch (c) {
		case OPT_SERIALS: serials = optarg; break;
		case OPT_VERSION: version = optarg; break;
		case OPT_SIGN: sign = 1; break;
		case 'o': out = optarg; break;
		case OPT_HELP:
			fputs(usage_krl, stdout);
			return 0;
		default:
			return usage_err(usage_krl);
		}
	}
	if ((dir = one_dir(argc, argv)) == NULL || out == NULL ||
	    serials == NULL)
		return usage_err(usage_krl);
	ver = (uint64_t)time(NULL);
	if (version != NULL) {
		errno = 0;
		ver = strtoull(version, &end, 10);
		if (errno != 0 || *end != '\0' || *version == '-' ||
		    *version == '\0') {
			errx_msg("--version must be a non-negative integer");
			return EXIT_USAGE;
		}
	}
	if ((parts = strv_split(serials, ',', JIT_KRL_SERIALS_MAX, &n)) ==
	    NULL || (sv = calloc(n, sizeof(*sv))) == NULL) {
		errx_msg("too many serials (at most %d)", JIT_KRL_SERIALS_MAX);
		goto out;
	}
	for (i = 0; i < n; i++) {
		errno = 0;
		sv[i] = strtoull(parts[i], &end, 10);
		if (errno != 0 || *end != '\0' || parts[i][0] == '\0' ||
		    parts[i][0] == '-' || parts[i][0] == '+' || sv[i] == 0) {
			errx_msg("serial \"%s\" is not a positive 64-bit "
			    "integer", parts[i]);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if ((rc = open_ca(dir, &u, &ca)) != 0)
		goto out;
	rc = 1;
	if ((r = ca_krl_build(ca, sv, n, ver, (uint64_t)time(NULL),
	    "jitd", sign, &krl, &krllen)) != JIT_OK) {
		errx_msg("building the KRL: %s", jit_strerror(r));
		goto out;
	}
	if ((r = fileio_write_atomic(out, krl, krllen, 0644)) != JIT_OK) {
		errx_msg("%s: %s", out, r == JIT_ERR_SYSTEM ? strerror(errno) :
		    jit_strerror(r));
		goto out;
	}
	fprintf(stderr, "%s: wrote %sKRL version %" PRIu64 " revoking %zu "
	    "serial(s) to %s\n", progname, sign ? "signed " : "", ver, n,
	    out);
	rc = 0;
 out:
	free(krl);
	ca_free(ca);
	free(sv);
	strv_free(parts);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} cmds[] = {
		{ "init", cmd_init },
		{ "pubkey", cmd_pubkey },
		{ "x509-ca", cmd_x509ca },
		{ "sign-ssh", cmd_sign_ssh },
		{ "sign-x509", cmd_sign_x509 },
		{ "krl", cmd_krl },
	};
	size_t i;

	if (sodium_init() < 0) {
		errx_msg("libsodium failed to initialise");
		return 1;
	}
	if (argc < 2)
		return usage_err(usage_main);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			/* getopt sees "jit-ca CMD ..." as argv[0] = CMD. */
			optind = 1;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	errx_msg("unknown command \"%s\"", argv[1]);
	return usage_err(usage_main);
}
