/*
 * jit cert and jit ssh: a fresh key pair made in memory for every
 * certificate (Ed25519 through libsodium for SSH, ECDSA P-256 through
 * OpenSSL for X.509), certified by the broker under a live grant, then
 * handed to the user's ssh-agent with a lifetime or written to private
 * files; jit ssh reuses a still valid certificate from those files and
 * runs the real ssh with it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "clients/agent.h"
#include "clients/cli.h"
#include "clients/commands.h"
#include "clients/sshkeyfile.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/secret.h"

#define CERTS_DIR	"certs"
#define REUSE_MIN_S	30	/* jit ssh reuses a cert valid this long */
#define KEYFILE_MAX	(16 * 1024)
#define CA_PEM_MAX	(256 * 1024)
#define ID_MAX_DIGITS	18

#define SYNOPSIS_CERT \
	"usage: jit cert ID [--x509] [--out DIR] [--no-agent] [--json]\n"
#define SYNOPSIS_SSH \
	"usage: jit ssh ID [ssh arguments...]\n"

static const char usage_cert[] =
SYNOPSIS_CERT
"\n"
"Makes a fresh key pair in memory and has the broker certify it under the\n"
"grant of request ID.\n"
"\n"
"SSH (the default): with a running ssh-agent ($SSH_AUTH_SOCK) the key and\n"
"its certificate are added to the agent for as long as the certificate is\n"
"valid, and the private key never touches the disk.  Otherwise, or with\n"
"--no-agent or --out, they are written as ID and ID-cert.pub (0600) to\n"
"DIR, by default $JIT_HOME/certs (0700).\n"
"\n"
"--x509: an ECDSA P-256 key and a client certificate, written as ID.key,\n"
"ID.crt and the broker's CA as ca.crt, for curl --cert/--key/--cacert,\n"
"psql sslcert/sslkey/sslrootcert or a kubeconfig.\n"
"\n"
"--json prints the broker's answer with the paths added.\n";

static const char usage_ssh[] =
SYNOPSIS_SSH
"\n"
"Runs ssh with a certificate for the grant of request ID: the one in\n"
"$JIT_HOME/certs is reused while it stays valid for 30 more seconds,\n"
"else a new one is fetched there (as 'jit cert ID --no-agent').  Every\n"
"argument after ID goes to ssh untouched, and ~/.ssh/config still\n"
"applies, e.g. 'jit ssh 42 -p 2222 webadmin@web3 uptime'.\n";

/* Where an issued certificate went, for the messages and --json. */
struct placed {
	char	*dir;
	char	*key;
	char	*cert;
	char	*ca;
	int	 agent;
};

static void
placed_free(struct placed *p)
{
	free(p->dir);
	free(p->key);
	free(p->cert);
	free(p->ca);
	memset(p, 0, sizeof(*p));
}

/* Returns the request id in s, or 0 if s is not a positive decimal. */
static long long
parse_id(const char *s)
{
	long long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > ID_MAX_DIGITS || s[0] == '0')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static char *
path_join(const char *dir, long long id, const char *suffix)
{
	char *p;

	if (asprintf(&p, "%s/%lld%s", dir, id, suffix) == -1)
		return NULL;
	return p;
}

/* The default directory for key files: $JIT_HOME/certs (malloc'd). */
static char *
default_dir(const struct cli *c)
{
	char *p;

	if (asprintf(&p, "%s/%s", c->home, CERTS_DIR) == -1)
		return NULL;
	return p;
}

/*
 * Makes sure dir exists as a directory; a new one is made 0700.  Our own
 * default directory must not be a symbolic link and is narrowed to 0700;
 * a directory given with --out is the user's to arrange.  Returns 0 or
 * -1 (printed).
 */
static int
prepare_dir(struct cli *c, const char *dir, int ours)
{
	struct stat st;

	if (ours && cli_ensure_home(c) != 0)
		return -1;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		cli_errx(c, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((ours ? lstat(dir, &st) : stat(dir, &st)) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		cli_errx(c, "%s is not a directory", dir);
		return -1;
	}
	if (ours && (st.st_mode & 077) != 0 && chmod(dir, 0700) == -1) {
		cli_errx(c, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_private(struct cli *c, const char *path, const void *p, size_t len)
{
	int r;

	if ((r = fileio_write_atomic(path, p, len, 0600)) != JIT_OK) {
		cli_errx(c, "%s: %s", path, r == JIT_ERR_SYSTEM ?
		    strerror(errno) : jit_strerror(r));
		return -1;
	}
	return 0;
}

/* The remaining life of a certificate as "until 12:05Z (5m)". */
static void
until_text(int64_t valid_before, char *out, size_t len)
{
	char t[32], left[32];

	cli_time(valid_before, t, sizeof(t));
	cli_left(valid_before - (int64_t)time(NULL), left, sizeof(left));
	snprintf(out, len, "until %s (%s)", t, left);
}

/* Asks for the certificate: POST /v1/requests/ID/KIND with one field. */
static long
ask_broker(struct cli *c, long long id, const char *kind, const char *field,
    const char *value, json_t **ans)
{
	char path[64];
	json_t *body;
	long st;

	snprintf(path, sizeof(path), "/v1/requests/%lld/%s", id, kind);
	if ((body = json_pack("{s:s}", field, value)) == NULL)
		return 0;
	st = cli_call(c, "POST", path, body, 1, ans);
	json_decref(body);
	return st;
}

/*
 * Hands the key and certificate to the agent.  Returns 1 if it took
 * them, 0 if there is no agent or it refused (a note is printed then).
 */
static int
to_agent(struct cli *c, const uint8_t *blob, size_t bloblen,
    const struct skf_cert *sc, const uint8_t *pk, const uint8_t *sk,
    const char *comment)
{
	int64_t left, window;
	int fd = -1, r;

	if ((r = agent_connect(&fd)) != JIT_OK) {
		if (r != JIT_ERR_NOT_FOUND)
			fprintf(stderr, "%s: no ssh-agent answers at "
			    "$SSH_AUTH_SOCK; writing files instead\n", c->prog);
		return 0;
	}
	/* The agent forgets the key when the certificate ends. */
	window = (int64_t)(sc->valid_before - sc->valid_after);
	left = (int64_t)sc->valid_before - (int64_t)time(NULL);
	if (left > window)
		left = window;
	if (left < 1)
		left = 1;
	r = agent_add_ed25519_cert(fd, blob, bloblen, pk, sk, comment,
	    (uint32_t)left);
	agent_close(fd);
	if (r != JIT_OK) {
		fprintf(stderr, "%s: the ssh-agent did not take the key (%s); "
		    "writing files instead\n", c->prog, jit_strerror(r));
		return 0;
	}
	return 1;
}

/*
 * Gets an SSH certificate for request id and puts it in the agent (when
 * use_agent and one answers) or in files under outdir (NULL: the default
 * directory).  Returns a CLI_EXIT_* code; on success *pl says where.
 */
static int
ssh_issue(struct cli *c, long long id, const char *outdir, int use_agent,
    json_t **ansp, struct placed *pl)
{
	uint8_t pk[SKF_ED25519_PK], sk[SKF_ED25519_SK], *blob = NULL;
	struct skf_cert sc;
	json_t *ans = NULL;
	const char *line, *comment;
	char *pub = NULL, *pem = NULL, *certtext = NULL;
	size_t bloblen = 0, pemlen = 0;
	long st;
	int rc = CLI_EXIT_FAIL, r;

	*ansp = NULL;
	memset(pl, 0, sizeof(*pl));
	if (crypto_sign_ed25519_keypair(pk, sk) != 0 ||
	    (pub = skf_pubkey_line(pk, "jit")) == NULL) {
		cli_errx(c, "cannot make a key pair");
		goto out;
	}
	st = ask_broker(c, id, "ssh-cert", "public_key", pub, &ans);
	if (st != 200) {
		rc = cli_fail_answer(c, st, ans);
		goto out;
	}
	if ((line = json_string_value(json_object_get(ans, "certificate"))) ==
	    NULL || (r = skf_cert_line_decode(line, strlen(line), &blob,
	    &bloblen, &sc)) != JIT_OK || memcmp(sc.pk, pk, sizeof(pk)) != 0) {
		cli_errx(c, "the broker's answer holds no certificate for the "
		    "new key");
		goto out;
	}
	if ((comment = json_string_value(json_object_get(ans, "key_id"))) ==
	    NULL)
		comment = "jit";
	if (use_agent && outdir == NULL &&
	    to_agent(c, blob, bloblen, &sc, pk, sk, comment)) {
		pl->agent = 1;
		rc = CLI_EXIT_OK;
		goto out;
	}
	if ((pl->dir = outdir != NULL ? strdup(outdir) : default_dir(c)) ==
	    NULL || (pl->key = path_join(pl->dir, id, "")) == NULL ||
	    (pl->cert = path_join(pl->dir, id, "-cert.pub")) == NULL ||
	    asprintf(&certtext, "%s\n", line) == -1) {
		certtext = NULL;
		cli_errx(c, "out of memory");
		goto out;
	}
	if (prepare_dir(c, pl->dir, outdir == NULL) != 0)
		goto out;
	if ((r = skf_private_pem(pk, sk, comment, &pem, &pemlen)) != JIT_OK) {
		cli_errx(c, "cannot encode the private key: %s",
		    jit_strerror(r));
		goto out;
	}
	if (write_private(c, pl->key, pem, pemlen) != 0 ||
	    write_private(c, pl->cert, certtext, strlen(certtext)) != 0)
		goto out;
	rc = CLI_EXIT_OK;
 out:
	sodium_memzero(sk, sizeof(sk));
	if (pem != NULL)
		freezero(pem, pemlen);
	free(certtext);
	free(blob);
	free(pub);
	if (rc == CLI_EXIT_OK)
		*ansp = ans;
	else {
		json_decref(ans);
		placed_free(pl);
	}
	return rc;
}

/* Returns the PEM text of a BIO's contents, malloc'd, or NULL. */
static char *
bio_text(BIO *b, size_t *lenp)
{
	char *data, *s;
	long n;

	*lenp = 0;
	if ((n = BIO_get_mem_data(b, &data)) <= 0 ||
	    (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*lenp = (size_t)n;
	return s;
}

/*
 * Makes a P-256 key and a CSR signed by it.  Returns 0 with the key in
 * *pkeyp and the CSR's PEM in *csrp (malloc'd), or -1.
 */
static int
make_csr(const char *cn, EVP_PKEY **pkeyp, char **csrp)
{
	EVP_PKEY *pkey = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name;
	BIO *b = NULL;
	size_t len;
	int rc = -1;

	*pkeyp = NULL;
	*csrp = NULL;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    (name = X509_REQ_get_subject_name(req)) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_REQ_set_pubkey(req, pkey) ||
	    X509_REQ_sign(req, pkey, EVP_sha256()) <= 0 ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_REQ(b, req) ||
	    (*csrp = bio_text(b, &len)) == NULL)
		goto out;
	*pkeyp = pkey;
	pkey = NULL;
	rc = 0;
 out:
	BIO_free(b);
	X509_REQ_free(req);
	EVP_PKEY_free(pkey);
	return rc;
}

/* Writes the key as PKCS#8 PEM (0600), never leaving a copy behind. */
static int
write_pkcs8(struct cli *c, const char *path, EVP_PKEY *pkey)
{
	BIO *b = NULL;
	char *data = NULL;
	long n = 0;
	int rc = -1;

	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) ||
	    (n = BIO_get_mem_data(b, &data)) <= 0) {
		cli_errx(c, "cannot encode the private key");
		goto out;
	}
	rc = write_private(c, path, data, (size_t)n);
 out:
	if (data != NULL && n > 0)
		OPENSSL_cleanse(data, (size_t)n);
	BIO_free(b);
	return rc;
}

/* True when the PEM certificate is for pkey. */
static int
cert_matches(const char *pem, EVP_PKEY *pkey)
{
	BIO *b;
	X509 *x = NULL;
	int ok = 0;

	if ((b = BIO_new_mem_buf(pem, -1)) != NULL &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		ok = X509_check_private_key(x, pkey) == 1;
	X509_free(x);
	BIO_free(b);
	return ok;
}

/* Gets an X.509 client certificate for request id into files. */
static int
x509_issue(struct cli *c, long long id, const char *outdir, json_t **ansp,
    struct placed *pl)
{
	EVP_PKEY *pkey = NULL;
	json_t *ans = NULL;
	const char *leaf;
	char *csr = NULL, *ca = NULL;
	size_t calen = 0;
	long st;
	int rc = CLI_EXIT_FAIL;

	*ansp = NULL;
	memset(pl, 0, sizeof(*pl));
	/* The CA first: no point in a certificate nothing can verify. */
	st = cli_call_raw(c, "GET", "/v1/ca/x509", 0, &ca, &calen);
	if (st != 200 || ca == NULL || calen > CA_PEM_MAX ||
	    strstr(ca, "-----BEGIN CERTIFICATE-----") == NULL) {
		if (st != 0)
			cli_errx(c, "cannot get the broker's X.509 CA (HTTP "
			    "%ld)", st);
		goto out;
	}
	if (make_csr(c->user != NULL ? c->user : "jit", &pkey, &csr) != 0) {
		cli_errx(c, "cannot make a key pair and a CSR");
		goto out;
	}
	st = ask_broker(c, id, "x509-cert", "csr", csr, &ans);
	if (st != 200) {
		rc = cli_fail_answer(c, st, ans);
		goto out;
	}
	if ((leaf = json_string_value(json_object_get(ans, "certificate"))) ==
	    NULL || !cert_matches(leaf, pkey)) {
		cli_errx(c, "the broker's answer holds no certificate for the "
		    "new key");
		goto out;
	}
	if ((pl->dir = outdir != NULL ? strdup(outdir) : default_dir(c)) ==
	    NULL || (pl->key = path_join(pl->dir, id, ".key")) == NULL ||
	    (pl->cert = path_join(pl->dir, id, ".crt")) == NULL ||
	    asprintf(&pl->ca, "%s/ca.crt", pl->dir) == -1) {
		pl->ca = NULL;
		cli_errx(c, "out of memory");
		goto out;
	}
	if (prepare_dir(c, pl->dir, outdir == NULL) != 0 ||
	    write_pkcs8(c, pl->key, pkey) != 0 ||
	    write_private(c, pl->cert, leaf, strlen(leaf)) != 0 ||
	    write_private(c, pl->ca, ca, calen) != 0)
		goto out;
	rc = CLI_EXIT_OK;
 out:
	EVP_PKEY_free(pkey);
	free(csr);
	free(ca);
	if (rc == CLI_EXIT_OK)
		*ansp = ans;
	else {
		json_decref(ans);
		placed_free(pl);
	}
	return rc;
}

/* Reports where the certificate went: JSON on stdout or one line. */
static void
report(struct cli *c, long long id, int x509, json_t *ans,
    const struct placed *pl)
{
	char until[96];
	int64_t end;

	if (c->json) {
		json_object_set_new(ans, "agent", json_boolean(pl->agent));
		if (pl->key != NULL)
			json_object_set_new(ans, "key_file",
			    json_string(pl->key));
		if (pl->cert != NULL)
			json_object_set_new(ans, "certificate_file",
			    json_string(pl->cert));
		if (pl->ca != NULL)
			json_object_set_new(ans, "ca_file",
			    json_string(pl->ca));
		cli_print_json(ans);
		return;
	}
	end = json_integer_value(json_object_get(ans, x509 ? "not_after" :
	    "valid_before"));
	until_text(end, until, sizeof(until));
	if (pl->agent)
		fprintf(stderr, "%s: request %lld: certificate added to the "
		    "ssh-agent %s\n", c->prog, id, until);
	else if (!x509)
		fprintf(stderr, "%s: request %lld: certificate %s %s\n",
		    c->prog, id, pl->cert, until);
	else {
		fprintf(stderr, "%s: request %lld: X.509 certificate in %s "
		    "%s\n", c->prog, id, pl->dir, until);
		printf("cert %s\nkey %s\ncacert %s\n", pl->cert, pl->key,
		    pl->ca);
	}
}

int
cmd_cert(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "x509", no_argument, NULL, 'x' },
		{ "out", required_argument, NULL, 'o' },
		{ "no-agent", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct placed pl;
	json_t *ans = NULL;
	const char *outdir = NULL;
	long long id;
	int ch, x509 = 0, agent = 1, rc;

	memset(&pl, 0, sizeof(pl));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'x':
			x509 = 1;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'n':
			agent = 0;
			break;
		case 'h':
			fputs(usage_cert, stdout);
			return CLI_EXIT_OK;
		default:
			fputs(SYNOPSIS_CERT, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (id = parse_id(argv[optind])) == 0 ||
	    (outdir != NULL && *outdir == '\0')) {
		if (optind == argc - 1)
			cli_errx(c, "\"%s\" is not a request id",
			    argv[optind]);
		fputs(SYNOPSIS_CERT, stderr);
		return CLI_EXIT_USAGE;
	}
	if (x509)
		rc = x509_issue(c, id, outdir, &ans, &pl);
	else
		rc = ssh_issue(c, id, outdir, agent, &ans, &pl);
	if (rc == CLI_EXIT_OK)
		report(c, id, x509, ans, &pl);
	json_decref(ans);
	placed_free(&pl);
	return rc;
}

/*
 * True when keyp and certp hold a key and its certificate that stays
 * valid for REUSE_MIN_S more seconds.
 */
static int
reusable(const char *keyp, const char *certp)
{
	struct skf_cert sc;
	uint8_t *text = NULL, *key = NULL, *blob = NULL, pk[SKF_ED25519_PK];
	size_t len = 0, keylen = 0, bloblen = 0;
	int64_t now = (int64_t)time(NULL);
	int ok = 0;

	if (fileio_read(certp, JIT_PUBKEY_LINE_MAX, FILEIO_NOFOLLOW, &text,
	    &len) != JIT_OK ||
	    skf_cert_line_decode((char *)text, len, &blob, &bloblen, &sc) !=
	    JIT_OK || sc.type != 1 ||
	    (int64_t)sc.valid_before < now + REUSE_MIN_S ||
	    (int64_t)sc.valid_after > now + JIT_CLOCK_SKEW)
		goto out;
	if (fileio_read(keyp, KEYFILE_MAX, FILEIO_NOFOLLOW | FILEIO_PRIVATE,
	    &key, &keylen) != JIT_OK ||
	    skf_private_pem_pubkey((char *)key, keylen, pk) != JIT_OK)
		goto out;
	ok = memcmp(pk, sc.pk, sizeof(pk)) == 0;
 out:
	if (key != NULL)
		freezero(key, keylen + 1);
	if (text != NULL)
		freezero(text, len + 1);
	free(blob);
	return ok;
}

int
cmd_ssh(struct cli *c, int argc, char **argv)
{
	struct placed pl;
	json_t *ans = NULL;
	char **av = NULL, *dir = NULL, *keyp = NULL, *certp = NULL;
	char *certopt = NULL;
	long long id;
	int i, n = 0, rc = CLI_EXIT_FAIL;

	memset(&pl, 0, sizeof(pl));
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage_ssh, stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2 || (id = parse_id(argv[1])) == 0) {
		if (argc >= 2)
			cli_errx(c, "\"%s\" is not a request id", argv[1]);
		fputs(SYNOPSIS_SSH, stderr);
		return CLI_EXIT_USAGE;
	}
	if ((dir = default_dir(c)) == NULL ||
	    (keyp = path_join(dir, id, "")) == NULL ||
	    (certp = path_join(dir, id, "-cert.pub")) == NULL)
		goto out;
	if (!reusable(keyp, certp)) {
		/* Nothing for --json to print here: ssh owns stdout. */
		c->json = 0;
		if ((rc = ssh_issue(c, id, NULL, 0, &ans, &pl)) != CLI_EXIT_OK)
			goto out;
		report(c, id, 0, ans, &pl);
		rc = CLI_EXIT_FAIL;
	}
	if (asprintf(&certopt, "CertificateFile=%s", certp) == -1) {
		certopt = NULL;
		goto out;
	}
	if ((av = calloc((size_t)argc + 8, sizeof(*av))) == NULL)
		goto out;
	av[n++] = "ssh";
	av[n++] = "-i";
	av[n++] = keyp;
	av[n++] = "-o";
	av[n++] = certopt;
	av[n++] = "-o";
	av[n++] = "IdentitiesOnly=yes";
	for (i = 2; i < argc; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	execvp("ssh", av);
	cli_errx(c, "cannot run ssh: %s", strerror(errno));
 out:
	free(av);
	free(certopt);
	json_decref(ans);
	placed_free(&pl);
	free(certp);
	free(keyp);
	free(dir);
	return rc;
}
