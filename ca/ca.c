/*
 * CA key material: generation, sealed storage in a CA directory, loading,
 * and the in-process signer (see ca.h).  The in-process signer keeps the
 * Ed25519 secret keys in sodium_malloc memory and the X.509 key in an
 * OpenSSL EVP_PKEY, both loaded once at start.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "ca/ca.h"
#include "ca/x509.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/secret.h"

static const struct {
	const char	*pub;
	const char	*key;
	const char	*purpose;
} slot_files[CA_SLOT_COUNT] = {
	{ "user_ca.pub", "user_ca.key", "ssh-user-ca" },
	{ "host_ca.pub", "host_ca.key", "ssh-host-ca" },
	{ "x509_ca.pem", "x509_ca.key", "x509-ca" },
};

/* The in-process signer's secrets. */
struct local_signer {
	uint8_t		 ed_sk[2][crypto_sign_SECRETKEYBYTES];
	EVP_PKEY	*x509_key;
};

struct ca {
	uint8_t				 ssh_pub[2][crypto_sign_PUBLICKEYBYTES];
	X509				*x509_cert;
	const struct ca_signer_ops	*ops;
	void				*signer;
};

static time_t
default_clock(void)
{
	return (time_t)jit_now();
}

static ca_clock_fn ca_clock = default_clock;

void
ca_set_clock(ca_clock_fn fn)
{
	ca_clock = fn == NULL ? default_clock : fn;
}

time_t
ca_now(void)
{
	return ca_clock();
}

static int
local_sign(void *ctx, enum ca_slot slot, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	struct local_signer *ls = ctx;
	EVP_MD_CTX *md = NULL;
	size_t n = CA_SIG_MAX;
	int r = JIT_ERR_CRYPTO;

	*siglen = 0;
	switch (slot) {
	case CA_SLOT_SSH_USER:
	case CA_SLOT_SSH_HOST:
		if (crypto_sign_detached(sig, NULL, msg, len,
		    ls->ed_sk[slot]) != 0)
			return JIT_ERR_CRYPTO;
		*siglen = crypto_sign_BYTES;
		return JIT_OK;
	case CA_SLOT_X509:
		if (ls->x509_key == NULL)
			return JIT_ERR_INVALID_ARG;
		if ((md = EVP_MD_CTX_new()) == NULL)
			return JIT_ERR_ALLOC;
		if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
		    ls->x509_key) != 1 ||
		    EVP_DigestSign(md, sig, &n, msg, len) != 1)
			goto out;
		*siglen = n;
		r = JIT_OK;
		break;
	default:
		return JIT_ERR_INVALID_ARG;
	}
 out:
	EVP_MD_CTX_free(md);
	return r;
}

static void
local_free(void *ctx)
{
	struct local_signer *ls = ctx;

	if (ls == NULL)
		return;
	EVP_PKEY_free(ls->x509_key);
	sodium_free(ls);	/* sodium_free wipes the memory */
}

static const struct ca_signer_ops local_ops = { local_sign, local_free };

static struct local_signer *
local_new(void)
{
	struct local_signer *ls;

	if ((ls = sodium_malloc(sizeof(*ls))) == NULL)
		return NULL;
	memset(ls, 0, sizeof(*ls));
	return ls;
}

void
ca_set_signer(struct ca *ca, const struct ca_signer_ops *ops, void *ctx)
{
	if (ca->ops != NULL && ca->ops->free != NULL)
		ca->ops->free(ca->signer);
	ca->ops = ops;
	ca->signer = ctx;
}

void *
ca_signer_ctx(const struct ca *ca, const struct ca_signer_ops *ops)
{
	return ca->ops == ops && ops != NULL ? ca->signer : NULL;
}

int
ca_signer_is_local(const struct ca *ca)
{
	return ca->ops == &local_ops;
}

void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	ca_set_signer(ca, NULL, NULL);
	X509_free(ca->x509_cert);
	freezero(ca, sizeof(*ca));
}

int
ca_sign(struct ca *ca, enum ca_slot slot, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	*siglen = 0;
	if (ca->ops == NULL || ca->ops->sign == NULL)
		return JIT_ERR_PERMISSION;	/* public-only CA */
	if ((unsigned)slot >= CA_SLOT_COUNT)
		return JIT_ERR_INVALID_ARG;
	return ca->ops->sign(ca->signer, slot, msg, len, sig, siglen);
}

const uint8_t *
ca_ssh_pubkey(const struct ca *ca, enum ca_slot slot)
{
	return ca->ssh_pub[slot == CA_SLOT_SSH_HOST ? 1 : 0];
}

void
ca_ssh_pubkey_blob(const struct ca *ca, enum ca_slot slot,
    uint8_t blob[CA_SSH_PUBBLOB_LEN])
{
	ssh_ed25519_blob(ca_ssh_pubkey(ca, slot), blob);
}

char *
ca_ssh_pubkey_line(const struct ca *ca, enum ca_slot slot,
    const char *comment)
{
	uint8_t blob[CA_SSH_PUBBLOB_LEN];
	char *b64, *line = NULL;

	ca_ssh_pubkey_blob(ca, slot, blob);
	if ((b64 = b64_encode(blob, sizeof(blob), B64_STD)) == NULL)
		return NULL;
	if (asprintf(&line, "ssh-ed25519 %s%s%s\n", b64,
	    comment != NULL ? " " : "", comment != NULL ? comment : "") == -1)
		line = NULL;
	free(b64);
	return line;
}

X509 *
ca_x509_ca_cert(const struct ca *ca)
{
	return ca->x509_cert;
}

char *
ca_x509_ca_pem(const struct ca *ca)
{
	BIO *bio;
	BUF_MEM *mem;
	char *s = NULL;

	if (ca->x509_cert == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_X509(bio, ca->x509_cert) == 1 &&
	    BIO_get_mem_ptr(bio, &mem) == 1 &&
	    (s = malloc(mem->length + 1)) != NULL) {
		memcpy(s, mem->data, mem->length);
		s[mem->length] = '\0';
	}
	BIO_free(bio);
	return s;
}

int
ca_generate(const char *cn, int validity_days, struct ca **out)
{
	struct ca *ca = NULL;
	struct local_signer *ls = NULL;
	int r = JIT_ERR_INTERNAL, i;

	*out = NULL;
	if ((ca = calloc(1, sizeof(*ca))) == NULL || (ls = local_new()) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if (crypto_sign_keypair(ca->ssh_pub[i], ls->ed_sk[i]) != 0) {
			r = JIT_ERR_CRYPTO;
			goto out;
		}
	}
	if ((ls->x509_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256")) == NULL) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	if ((r = ca_x509_make_root(ls->x509_key, cn, validity_days,
	    &ca->x509_cert)) != JIT_OK)
		goto out;
	ca_set_signer(ca, &local_ops, ls);
	ls = NULL;
	*out = ca;
	ca = NULL;
	r = JIT_OK;
 out:
	local_free(ls);
	ca_free(ca);
	return r;
}

static int
path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? JIT_ERR_LIMIT : JIT_OK;
}

/* Serialises a slot's secret for sealing. */
static int
slot_secret(const struct local_signer *ls, int slot, uint8_t **out,
    size_t *outlen)
{
	unsigned char *der = NULL;
	int n;

	*out = NULL;
	*outlen = 0;
	if (slot < 2) {
		if ((*out = malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
			return JIT_ERR_ALLOC;
		memcpy(*out, ls->ed_sk[slot], crypto_sign_SECRETKEYBYTES);
		*outlen = crypto_sign_SECRETKEYBYTES;
		return JIT_OK;
	}
	if ((n = i2d_PrivateKey(ls->x509_key, &der)) <= 0)
		return JIT_ERR_CRYPTO;
	if ((*out = malloc((size_t)n)) == NULL) {
		OPENSSL_clear_free(der, (size_t)n);
		return JIT_ERR_ALLOC;
	}
	memcpy(*out, der, (size_t)n);
	*outlen = (size_t)n;
	OPENSSL_clear_free(der, (size_t)n);
	return JIT_OK;
}

int
ca_save(const struct ca *ca, const char *dir, const struct seal_key *sk)
{
	char path[PATH_MAX], *text[CA_SLOT_COUNT] = { NULL, NULL, NULL };
	char *written[2 * CA_SLOT_COUNT];
	uint8_t *secret = NULL, *sealed = NULL;
	size_t secretlen = 0, sealedlen = 0, nwritten = 0, i;
	const struct local_signer *ls;
	struct stat st;
	int r = JIT_ERR_INTERNAL, slot;

	memset(written, 0, sizeof(written));
	if (ca->ops != &local_ops)
		return JIT_ERR_INVALID_ARG;
	ls = ca->signer;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return JIT_ERR_SYSTEM;
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return JIT_ERR_INVALID_ARG;
	/* Refuse before writing anything if any file is already there. */
	for (slot = 0; slot < CA_SLOT_COUNT; slot++) {
		const char *names[2] = { slot_files[slot].pub,
		    slot_files[slot].key };

		for (i = 0; i < 2; i++) {
			if ((r = path_join(path, sizeof(path), dir,
			    names[i])) != JIT_OK)
				return r;
			if (lstat(path, &st) == 0)
				return JIT_ERR_EXISTS;
		}
	}
	text[0] = ca_ssh_pubkey_line(ca, CA_SLOT_SSH_USER, "jitd user CA");
	text[1] = ca_ssh_pubkey_line(ca, CA_SLOT_SSH_HOST, "jitd host CA");
	text[2] = ca_x509_ca_pem(ca);
	if (text[0] == NULL || text[1] == NULL || text[2] == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	for (slot = 0; slot < CA_SLOT_COUNT; slot++) {
		if ((r = path_join(path, sizeof(path), dir,
		    slot_files[slot].key)) != JIT_OK ||
		    (r = slot_secret(ls, slot, &secret, &secretlen)) != JIT_OK ||
		    (r = seal_encode(sk, slot_files[slot].purpose, secret,
		    secretlen, &sealed, &sealedlen)) != JIT_OK)
			goto out;
		freezero(secret, secretlen);
		secret = NULL;
		if ((r = fileio_write_new(path, sealed, sealedlen, 0600)) !=
		    JIT_OK)
			goto out;
		free(sealed);
		sealed = NULL;
		if ((written[nwritten++] = strdup(path)) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		if ((r = path_join(path, sizeof(path), dir,
		    slot_files[slot].pub)) != JIT_OK ||
		    (r = fileio_write_new(path, text[slot], strlen(text[slot]),
		    0600)) != JIT_OK)
			goto out;
		if ((written[nwritten++] = strdup(path)) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
	}
	r = JIT_OK;
 out:
	for (i = 0; i < nwritten; i++) {
		if (r != JIT_OK && written[i] != NULL)
			unlink(written[i]);
		free(written[i]);
	}
	freezero(secret, secretlen);
	free(sealed);
	for (slot = 0; slot < CA_SLOT_COUNT; slot++)
		free(text[slot]);
	return r;
}

/* Reads "ssh-ed25519 BASE64 [comment]" and extracts the 32-byte key. */
static int
load_ssh_pub(const char *path, uint8_t pub[32])
{
	uint8_t *d = NULL, *blob = NULL;
	const uint8_t *k;
	size_t len = 0, bloblen = 0, klen, n;
	struct buf *b = NULL;
	const char *s, *e;
	char *type = NULL;
	int r;

	if ((r = fileio_read(path, JIT_PUBKEY_LINE_MAX, 0, &d, &len)) != JIT_OK)
		return r;
	s = (const char *)d;
	if (strncmp(s, "ssh-ed25519 ", 12) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	s += 12;
	n = strcspn(s, " \n");
	e = s + n;
	if ((r = b64_decode(s, (size_t)(e - s), B64_STD, JIT_PUBKEY_BLOB_MAX,
	    &blob, &bloblen)) != JIT_OK)
		goto out;
	if ((b = buf_from(blob, bloblen)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_cstring(b, &type, NULL)) != JIT_OK ||
	    (r = buf_get_string_direct(b, &k, &klen)) != JIT_OK)
		goto out;
	if (strcmp(type, "ssh-ed25519") != 0 || klen != 32 ||
	    buf_len(b) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	memcpy(pub, k, 32);
	r = JIT_OK;
 out:
	free(type);
	buf_free(b);
	free(blob);
	freezero(d, len + 1);
	return r;
}

static int
load_x509_cert(const char *path, X509 **out)
{
	uint8_t *d = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	if ((r = fileio_read(path, JIT_FILE_MAX, 0, &d, &len)) != JIT_OK)
		return r;
	if ((bio = BIO_new_mem_buf(d, (int)len)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((*out = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		r = JIT_ERR_INVALID_FORMAT;
 out:
	BIO_free(bio);
	free(d);
	return r;
}

/* Names the file at fault in bad (when not NULL). */
static void
blame(char *bad, size_t badlen, const char *dir, const char *name)
{
	if (bad != NULL && badlen > 0 && path_join(bad, badlen, dir, name) !=
	    JIT_OK)
		bad[0] = '\0';
}

static int
load_public(const char *dir, struct ca *ca, char *bad, size_t badlen)
{
	char path[PATH_MAX];
	int r, i;

	for (i = 0; i < 2; i++) {
		if ((r = path_join(path, sizeof(path), dir,
		    slot_files[i].pub)) != JIT_OK ||
		    (r = load_ssh_pub(path, ca->ssh_pub[i])) != JIT_OK) {
			blame(bad, badlen, dir, slot_files[i].pub);
			return r;
		}
	}
	if ((r = path_join(path, sizeof(path), dir,
	    slot_files[CA_SLOT_X509].pub)) != JIT_OK ||
	    (r = load_x509_cert(path, &ca->x509_cert)) != JIT_OK)
		blame(bad, badlen, dir, slot_files[CA_SLOT_X509].pub);
	return r;
}

int
ca_open_public(const char *dir, struct ca **out)
{
	struct ca *ca;
	int r;

	*out = NULL;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = load_public(dir, ca, NULL, 0)) != JIT_OK) {
		ca_free(ca);
		return r;
	}
	*out = ca;
	return JIT_OK;
}

static int
unseal_slot(const char *dir, int slot, const struct seal_key *sk,
    uint8_t **secret, size_t *secretlen)
{
	char path[PATH_MAX];
	uint8_t *d = NULL;
	size_t len = 0;
	int r;

	if ((r = path_join(path, sizeof(path), dir,
	    slot_files[slot].key)) != JIT_OK)
		return r;
	if ((r = fileio_read(path, JIT_FILE_MAX,
	    FILEIO_NOFOLLOW | FILEIO_PRIVATE, &d, &len)) != JIT_OK)
		return r;
	r = seal_decode(sk, slot_files[slot].purpose, d, len, secret,
	    secretlen);
	freezero(d, len + 1);
	return r;
}

int
ca_open(const char *dir, const struct seal_key *sk, struct ca **out)
{
	return ca_open_report(dir, sk, NULL, 0, out);
}

int
ca_open_report(const char *dir, const struct seal_key *sk, char *bad,
    size_t badlen, struct ca **out)
{
	struct ca *ca = NULL;
	struct local_signer *ls = NULL;
	uint8_t *secret = NULL;
	const unsigned char *p;
	size_t secretlen = 0;
	int r = JIT_ERR_INTERNAL, slot = 0;

	*out = NULL;
	if (bad != NULL && badlen > 0)
		bad[0] = '\0';
	if ((ca = calloc(1, sizeof(*ca))) == NULL || (ls = local_new()) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = load_public(dir, ca, bad, badlen)) != JIT_OK)
		goto out;
	for (slot = 0; slot < CA_SLOT_COUNT; slot++) {
		if ((r = unseal_slot(dir, slot, sk, &secret, &secretlen)) !=
		    JIT_OK) {
			blame(bad, badlen, dir, slot_files[slot].key);
			goto out;
		}
		if (slot < 2) {
			/* The secret key embeds its public half: must match. */
			if (secretlen != crypto_sign_SECRETKEYBYTES ||
			    sodium_memcmp(secret + 32, ca->ssh_pub[slot],
			    32) != 0) {
				blame(bad, badlen, dir, slot_files[slot].key);
				r = JIT_ERR_INVALID_FORMAT;
				goto out;
			}
			memcpy(ls->ed_sk[slot], secret, secretlen);
		} else {
			p = secret;
			if (secretlen > LONG_MAX ||
			    (ls->x509_key = d2i_AutoPrivateKey(NULL, &p,
			    (long)secretlen)) == NULL ||
			    p != secret + secretlen ||
			    X509_check_private_key(ca->x509_cert,
			    ls->x509_key) != 1) {
				blame(bad, badlen, dir, slot_files[slot].key);
				r = JIT_ERR_INVALID_FORMAT;
				goto out;
			}
		}
		sodium_free(secret);
		secret = NULL;
	}
	ca_set_signer(ca, &local_ops, ls);
	ls = NULL;
	*out = ca;
	ca = NULL;
	r = JIT_OK;
 out:
	if (secret != NULL)
		sodium_free(secret);
	local_free(ls);
	ca_free(ca);
	return r;
}
