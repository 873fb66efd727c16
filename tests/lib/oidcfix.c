/* OpenID Connect helpers for tests (see oidcfix.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "tests/lib/oidcfix.h"
#include "tests/lib/testutil.h"

static void
die(const char *what)
{
	fprintf(stderr, "oidcfix: %s failed\n", what);
	abort();
}

void
of_keygen(struct of_key *k, const char *alg, const char *kid)
{
	memset(k, 0, sizeof(*k));
	k->alg = alg;
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	if (strcmp(alg, "RS256") == 0)
		k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(alg, "ES256") == 0)
		k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k->pk == NULL)
		die("keygen");
}

void
of_key_free(struct of_key *k)
{
	EVP_PKEY_free(k->pk);
	k->pk = NULL;
}

char *
of_b64url(const void *p, size_t n)
{
	size_t cap = sodium_base64_encoded_len(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = malloc(cap);

	if (s == NULL)
		die("malloc");
	sodium_bin2base64(s, cap, p, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

static json_t *
b64_bn(const EVP_PKEY *pk, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t buf[1024];
	char *s;
	json_t *j;
	int n;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1 ||
	    (n = BN_bn2bin(bn, buf)) <= 0)
		die("get_bn_param");
	s = of_b64url(buf, (size_t)n);
	j = json_string(s);
	free(s);
	BN_free(bn);
	return j;
}

json_t *
of_jwk(const struct of_key *k)
{
	uint8_t buf[200];
	size_t len = 0;
	char *x, *y;
	json_t *j;

	if (strcmp(k->alg, "RS256") == 0)
		return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "kty", "RSA",
		    "kid", k->kid, "use", "sig", "alg", "RS256", "n",
		    b64_bn(k->pk, OSSL_PKEY_PARAM_RSA_N), "e",
		    b64_bn(k->pk, OSSL_PKEY_PARAM_RSA_E));
	if (strcmp(k->alg, "ES256") == 0) {
		if (EVP_PKEY_get_octet_string_param(k->pk,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof(buf),
		    &len) != 1 || len != 65)
			die("EC public key");
		x = of_b64url(buf + 1, 32);
		y = of_b64url(buf + 33, 32);
		j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv",
		    "P-256", "kid", k->kid, "x", x, "y", y);
		free(x);
		free(y);
		return j;
	}
	len = 32;
	if (EVP_PKEY_get_raw_public_key(k->pk, buf, &len) != 1)
		die("Ed25519 public key");
	x = of_b64url(buf, len);
	j = json_pack("{s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519",
	    "kid", k->kid, "x", x);
	free(x);
	return j;
}

char *
of_jwks(const struct of_key *const *keys, size_t n)
{
	json_t *arr = json_array(), *o;
	char *s;
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, of_jwk(keys[i]));
	o = json_pack("{s:o}", "keys", arr);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *
of_compact(const char *header, const char *claims, const uint8_t *sig,
    size_t siglen)
{
	char *h = of_b64url(header, strlen(header));
	char *c = of_b64url(claims, strlen(claims));
	char *s = of_b64url(sig, siglen), *out;

	if (asprintf(&out, "%s.%s.%s", h, c, siglen > 0 ? s : "") == -1)
		die("asprintf");
	free(h);
	free(c);
	free(s);
	return out;
}

void
of_sign_raw(const struct of_key *k, const char *msg, uint8_t **sig,
    size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const char *digest = strcmp(k->alg, "EdDSA") == 0 ? NULL : "SHA256";
	uint8_t der[512];
	size_t dl = sizeof(der);

	if (md == NULL || EVP_DigestSignInit_ex(md, NULL, digest, NULL, NULL,
	    k->pk, NULL) != 1 || EVP_DigestSign(md, der, &dl,
	    (const uint8_t *)msg, strlen(msg)) != 1)
		die("sign");
	EVP_MD_CTX_free(md);
	if (strcmp(k->alg, "ES256") == 0) {
		const unsigned char *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dl);

		if (es == NULL || (*sig = malloc(64)) == NULL)
			die("ECDSA DER");
		BN_bn2binpad(ECDSA_SIG_get0_r(es), *sig, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), *sig + 32, 32);
		*siglen = 64;
		ECDSA_SIG_free(es);
		return;
	}
	if ((*sig = malloc(dl)) == NULL)
		die("malloc");
	memcpy(*sig, der, dl);
	*siglen = dl;
}

char *
of_sign(const struct of_key *k, json_t *header, json_t *claims)
{
	json_t *h = header != NULL ? json_incref(header) :
	    json_pack("{s:s,s:s,s:s}", "alg", k->alg, "kid", k->kid, "typ",
	    "JWT");
	char *hs = json_dumps(h, JSON_COMPACT), *cs = json_dumps(claims,
	    JSON_COMPACT);
	char *hb = of_b64url(hs, strlen(hs)), *cb = of_b64url(cs, strlen(cs));
	char *msg, *sb, *out;
	uint8_t *sig;
	size_t sl;

	if (asprintf(&msg, "%s.%s", hb, cb) == -1)
		die("asprintf");
	of_sign_raw(k, msg, &sig, &sl);
	sb = of_b64url(sig, sl);
	if (asprintf(&out, "%s.%s", msg, sb) == -1)
		die("asprintf");
	json_decref(h);
	free(hs);
	free(cs);
	free(hb);
	free(cb);
	free(msg);
	free(sb);
	free(sig);
	return out;
}

/* ---- the test identity provider ---- */

struct of_idp {
	struct MHD_Daemon	*d;
	pthread_mutex_t		 mu;
	char			 base[64];
	char			*ca;
	char			*cert_pem, *key_pem;
	char			*jwks;
	char			*id_token;
	unsigned int		 jwks_fetches;
	unsigned int		 polls;
	int			 device_issued;
};

struct body {
	char	buf[4096];
	size_t	len;
};

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text),
	    (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
on_req(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct of_idp *idp = cls;
	struct body *b = *con_cls;
	enum MHD_Result ret;
	char *text = NULL;

	(void)version;
	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return MHD_NO;
		*con_cls = b;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;

		if (b->len + n < sizeof(b->buf)) {
			memcpy(b->buf + b->len, upload, n);
			b->len += n;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&idp->mu);
	if (strcmp(method, "GET") == 0 && strcmp(url, "/jwks") == 0) {
		idp->jwks_fetches++;
		text = strdup(idp->jwks != NULL ? idp->jwks : "{}");
		pthread_mutex_unlock(&idp->mu);
		ret = answer(c, 200, text);
	} else if (strcmp(method, "POST") == 0 &&
	    strcmp(url, "/device") == 0) {
		if (strstr(b->buf, "client_id=jit-cli") == NULL ||
		    strstr(b->buf, "scope=openid") == NULL) {
			pthread_mutex_unlock(&idp->mu);
			return answer(c, 400, "{\"error\":\"invalid_client\"}");
		}
		idp->device_issued = 1;
		if (asprintf(&text, "{\"device_code\":\"dev-code-1\","
		    "\"user_code\":\"WDJB-MJHT\",\"verification_uri\":"
		    "\"%s/activate\",\"verification_uri_complete\":"
		    "\"%s/activate?user_code=WDJB-MJHT\",\"expires_in\":120,"
		    "\"interval\":1}", idp->base, idp->base) == -1)
			text = NULL;
		pthread_mutex_unlock(&idp->mu);
		ret = answer(c, 200, text != NULL ? text : "{}");
	} else if (strcmp(method, "POST") == 0 &&
	    strcmp(url, "/token") == 0) {
		unsigned int n = ++idp->polls, st;

		if (!idp->device_issued || strstr(b->buf, "grant_type=urn%3A"
		    "ietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code") ==
		    NULL || strstr(b->buf, "device_code=dev-code-1") == NULL) {
			pthread_mutex_unlock(&idp->mu);
			return answer(c, 400, "{\"error\":\"invalid_grant\"}");
		}
		if (n == 1)
			text = strdup("{\"error\":\"authorization_pending\"}");
		else if (n == 2)
			text = strdup("{\"error\":\"slow_down\"}");
		else if (idp->id_token == NULL)
			text = strdup("{\"error\":\"access_denied\"}");
		else if (asprintf(&text, "{\"access_token\":\"at\","
		    "\"token_type\":\"Bearer\",\"id_token\":\"%s\"}",
		    idp->id_token) == -1)
			text = NULL;
		st = n >= 3 && idp->id_token != NULL ? 200 : 400;
		pthread_mutex_unlock(&idp->mu);
		ret = answer(c, st, text != NULL ? text : "{}");
	} else {
		pthread_mutex_unlock(&idp->mu);
		ret = answer(c, 404, "{\"error\":\"not_found\"}");
	}
	free(text);
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

struct of_idp *
of_idp_start(const char *dir, int tls)
{
	struct of_idp *idp = calloc(1, sizeof(*idp));
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	int port = tu_free_port();

	if (idp == NULL)
		die("calloc");
	pthread_mutex_init(&idp->mu, NULL);
	snprintf(idp->base, sizeof(idp->base), "%s://127.0.0.1:%d",
	    tls ? "https" : "http", port);
	if (tls) {
		char *key = tu_path(dir, "idp-key.pem");
		char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
		    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
		    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
		    "-days", "1", "-keyout", key, "-out", NULL, NULL };
		struct tu_out o;

		idp->ca = tu_path(dir, "idp-ca.pem");
		argv[17] = idp->ca;
		if (tu_run(argv, NULL, NULL, 60, &o) != 0 || o.status != 0)
			die("openssl req");
		tu_out_free(&o);
		idp->cert_pem = tu_read_file(idp->ca, NULL);
		idp->key_pem = tu_read_file(key, NULL);
		free(key);
		flags |= MHD_USE_TLS;
	}
	idp->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_req,
	    idp, MHD_OPTION_NOTIFY_COMPLETED, on_done, idp,
	    tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, idp->cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, idp->key_pem, MHD_OPTION_END);
	if (idp->d == NULL)
		die("MHD_start_daemon");
	return idp;
}

void
of_idp_stop(struct of_idp *idp)
{
	if (idp == NULL)
		return;
	MHD_stop_daemon(idp->d);
	pthread_mutex_destroy(&idp->mu);
	free(idp->ca);
	free(idp->cert_pem);
	free(idp->key_pem);
	free(idp->jwks);
	free(idp->id_token);
	free(idp);
}

const char *
of_idp_base(const struct of_idp *idp)
{
	return idp->base;
}

const char *
of_idp_ca(const struct of_idp *idp)
{
	return idp->ca;
}

void
of_idp_set_jwks(struct of_idp *idp, const char *jwks)
{
	pthread_mutex_lock(&idp->mu);
	free(idp->jwks);
	idp->jwks = strdup(jwks);
	pthread_mutex_unlock(&idp->mu);
}

unsigned int
of_idp_jwks_fetches(const struct of_idp *idp)
{
	unsigned int n;

	pthread_mutex_lock((pthread_mutex_t *)&idp->mu);
	n = idp->jwks_fetches;
	pthread_mutex_unlock((pthread_mutex_t *)&idp->mu);
	return n;
}

void
of_idp_set_id_token(struct of_idp *idp, const char *token)
{
	pthread_mutex_lock(&idp->mu);
	free(idp->id_token);
	idp->id_token = token != NULL ? strdup(token) : NULL;
	pthread_mutex_unlock(&idp->mu);
}

unsigned int
of_idp_token_polls(const struct of_idp *idp)
{
	unsigned int n;

	pthread_mutex_lock((pthread_mutex_t *)&idp->mu);
	n = idp->polls;
	pthread_mutex_unlock((pthread_mutex_t *)&idp->mu);
	return n;
}
