/*
 * The self-signed X.509 CA certificate, made once when a CA is generated
 * (the key is in hand then, so this is the one place that signs with an
 * EVP_PKEY directly rather than through the signer interface).
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ca/x509.h"
#include "common/err.h"

static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

int
ca_x509_make_root(EVP_PKEY *key, const char *cn, int validity_days,
    X509 **out)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	X509V3_CTX ctx;
	unsigned char sbytes[16];
	int r = JIT_ERR_CRYPTO;

	*out = NULL;
	if (validity_days <= 0 || validity_days > 36500 || cn == NULL ||
	    *cn == '\0')
		return JIT_ERR_INVALID_ARG;
	randombytes_buf(sbytes, sizeof(sbytes));
	sbytes[0] &= 0x7f;
	sbytes[0] |= 0x40;	/* positive and full length */
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    (bn = BN_bin2bn(sbytes, sizeof(sbytes), NULL)) == NULL ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, serial) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), validity_days, 0,
	    NULL) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto out;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
		goto out;
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	*out = x;
	x = NULL;
	r = JIT_OK;
 out:
	X509_free(x);
	X509_NAME_free(name);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return r;
}
