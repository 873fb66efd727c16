/*
 * Instance secrets (see instance.h).  secrets.key holds 32 random bytes
 * sealed like the CA keys; from them libsodium's KDF derives the audit
 * checkpoint key (subkey 1, context "jitdaudt") and the TOTP sealing key
 * (subkey 2, "jitdtotp"), so one unseal at start-up yields both.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/db.h"
#include "broker/instance.h"
#include "broker/store.h"
#include "broker/web.h"
#include "common/b64.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secret.h"

#define ROOT_LEN	32
#define ROOT_PURPOSE	"jitd-instance"

static int
derive(struct instance *in, const uint8_t *root)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	if ((in->audit_sk = sodium_malloc(64)) == NULL ||
	    (in->totp_key = sodium_malloc(32)) == NULL)
		return JIT_ERR_ALLOC;
	crypto_kdf_derive_from_key(seed, sizeof(seed), 1, "jitdaudt", root);
	crypto_sign_seed_keypair(in->audit_pk, in->audit_sk, seed);
	sodium_memzero(seed, sizeof(seed));
	crypto_kdf_derive_from_key(in->totp_key, 32, 2, "jitdtotp", root);
	return JIT_OK;
}

static int
load_seal(const struct config *cfg, struct instance *in, char **err)
{
	char why[160];
	int r;

	memset(&in->seal, 0, sizeof(in->seal));
	if (cfg->ca_key_file != NULL) {
		if ((r = seal_key_from_file(cfg->ca_key_file, &in->seal)) !=
		    JIT_OK) {
			jit_set_err(err, "CA key file %s (ca_key_file): %s",
			    cfg->ca_key_file, r == JIT_ERR_INVALID_FORMAT ?
			    "must hold exactly 32 bytes" : fileio_explain(
			    cfg->ca_key_file, r, FILEIO_PRIVATE |
			    FILEIO_NOFOLLOW, why, sizeof(why)));
			return r;
		}
		return JIT_OK;
	}
	if (cfg->ca_passphrase_file != NULL) {
		if ((r = fileio_read_secret(cfg->ca_passphrase_file,
		    &in->passphrase)) != JIT_OK) {
			jit_set_err(err, "%s: %s", cfg->ca_passphrase_file,
			    r == JIT_ERR_SYSTEM ? strerror(errno) :
			    jit_strerror(r));
			return r;
		}
		in->seal.mode = SEAL_PASSPHRASE;
		in->seal.passphrase = in->passphrase;
		return JIT_OK;
	}
	in->seal.mode = SEAL_NONE;
	return JIT_OK;
}

int
instance_unlock(const struct config *cfg, struct instance **out, char **err)
{
	struct instance *in;
	uint8_t *d = NULL, *root = NULL;
	size_t len = 0, rootlen = 0;
	int r;

	*out = NULL;
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = load_seal(cfg, in, err)) != JIT_OK)
		goto out;
	if ((r = fileio_read(cfg->secrets_file, 4096,
	    FILEIO_NOFOLLOW | FILEIO_PRIVATE, &d, &len)) != JIT_OK) {
		char why[160];

		jit_set_err(err, "instance secret %s (secrets_file): %s",
		    cfg->secrets_file, fileio_explain(cfg->secrets_file, r,
		    FILEIO_NOFOLLOW | FILEIO_PRIVATE, why, sizeof(why)));
		goto out;
	}
	if ((r = seal_decode(&in->seal, ROOT_PURPOSE, d, len, &root,
	    &rootlen)) != JIT_OK || rootlen != ROOT_LEN) {
		jit_set_err(err, "%s: cannot unseal: %s", cfg->secrets_file,
		    r == JIT_OK ? "wrong length" : jit_strerror(r));
		if (r == JIT_OK)
			r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = derive(in, root)) != JIT_OK)
		goto out;
	*out = in;
	in = NULL;
 out:
	if (root != NULL)
		sodium_free(root);
	freezero(d, len + 1);
	instance_free(in);
	return r;
}

int
instance_open_ca(const struct instance *in, const struct config *cfg,
    struct ca **out, char **err)
{
	char bad[PATH_MAX], why[160];
	const char *what;
	int r;

	if ((r = ca_open_report(cfg->ca_dir, &in->seal, bad, sizeof(bad),
	    out)) == JIT_OK)
		return JIT_OK;
	switch (r) {
	case JIT_ERR_UNSEALED:
		what = "the keys are protected differently than configured "
		    "(ca_key_file / ca_passphrase_file)";
		break;
	case JIT_ERR_DECRYPT:
		what = "cannot unseal: wrong ca_key_file or passphrase, or the "
		    "file is damaged";
		break;
	case JIT_ERR_INVALID_FORMAT:
		what = "damaged, or does not belong to this CA";
		break;
	default:
		/* Key files are read private and never through a link. */
		what = fileio_explain(bad, r, FILEIO_NOFOLLOW |
		    FILEIO_PRIVATE, why, sizeof(why));
		break;
	}
	if (bad[0] != '\0')
		jit_set_err(err, "CA %s: %s: %s", cfg->ca_dir, bad, what);
	else
		jit_set_err(err, "CA %s: %s", cfg->ca_dir, what);
	return r;
}

void
instance_free(struct instance *in)
{
	if (in == NULL)
		return;
	if (in->audit_sk != NULL)
		sodium_free(in->audit_sk);
	if (in->totp_key != NULL)
		sodium_free(in->totp_key);
	strfreezero(in->passphrase);
	seal_key_clear(&in->seal);
	freezero(in, sizeof(*in));
}

static void
totp_seal_key(const struct instance *in, struct seal_key *sk)
{
	memset(sk, 0, sizeof(*sk));
	sk->mode = SEAL_KEYFILE;
	memcpy(sk->key, in->totp_key, SEAL_KEY_LEN);
}

int
instance_totp_seal(const struct instance *in, const char *user,
    const uint8_t *secret, size_t len, uint8_t *out, size_t outcap,
    size_t *outlen)
{
	struct seal_key sk;
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	char purpose[96];
	int r;

	*outlen = 0;
	if (snprintf(purpose, sizeof(purpose), "totp:%s", user) >=
	    (int)sizeof(purpose))
		return JIT_ERR_LIMIT;
	totp_seal_key(in, &sk);
	r = seal_encode(&sk, purpose, secret, len, &blob, &bloblen);
	seal_key_clear(&sk);
	if (r != JIT_OK)
		return r;
	if (bloblen > outcap) {
		free(blob);
		return JIT_ERR_LIMIT;
	}
	memcpy(out, blob, bloblen);
	*outlen = bloblen;
	free(blob);
	return JIT_OK;
}

int
instance_totp_open(const struct instance *in, const char *user,
    const uint8_t *sealed, size_t len, uint8_t **secret, size_t *secretlen)
{
	struct seal_key sk;
	char purpose[96];
	int r;

	*secret = NULL;
	*secretlen = 0;
	if (snprintf(purpose, sizeof(purpose), "totp:%s", user) >=
	    (int)sizeof(purpose))
		return JIT_ERR_LIMIT;
	totp_seal_key(in, &sk);
	r = seal_decode(&sk, purpose, sealed, len, secret, secretlen);
	seal_key_clear(&sk);
	return r;
}

static int
join(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? JIT_ERR_LIMIT : JIT_OK;
}

static int
create_init_job(struct store_tx *tx, void *arg)
{
	json_t *d = json_pack("{s:s}", "audit_key", (const char *)arg);
	int r;

	if (d == NULL)
		return JIT_ERR_ALLOC;
	r = store_tx_audit(tx, "jitd", "instance.init", "jitd", "ok", d);
	json_decref(d);
	return r;
}

/* Points the default config's "database" at a PostgreSQL URI. */
static int
set_database(char **cfgtext, const char *database)
{
	const char *key = "\"database\": \"jitd.db\"";
	char *p, *n = NULL, *enc;
	json_t *j;

	if ((p = strstr(*cfgtext, key)) == NULL ||
	    (j = json_string(database)) == NULL)
		return JIT_ERR_INTERNAL;
	enc = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	if (enc == NULL || asprintf(&n, "%.*s\"database\": %s%s",
	    (int)(p - *cfgtext), *cfgtext, enc, p + strlen(key)) == -1) {
		free(enc);
		return JIT_ERR_ALLOC;
	}
	free(enc);
	free(*cfgtext);
	*cfgtext = n;
	return JIT_OK;
}

int
instance_create(const char *dir, const char *passphrase_file,
    const char *database, char **err)
{
	static const char *const names[] = { "jitd.json", "jitd.db", "ca",
	    "ca.key", "secrets.key", "audit.pub" };
	char path[PATH_MAX], *cfgtext = NULL, *pass = NULL, *pubb64 = NULL;
	char *publine = NULL, *cfgpath = NULL;
	uint8_t root[ROOT_LEN], *sealed = NULL;
	size_t sealedlen = 0, i;
	struct seal_key sk;
	struct instance in;
	struct store_opts so;
	struct store *st = NULL;
	struct ca *ca = NULL;
	struct stat sb;
	int r;

	memset(&sk, 0, sizeof(sk));
	memset(&in, 0, sizeof(in));
	if (database != NULL && db_target_kind(database) != DB_PG) {
		jit_set_err(err, "--database takes a PostgreSQL URI "
		    "(postgresql://...); without it the instance uses "
		    "sqlite in DIR/jitd.db");
		return JIT_ERR_INVALID_ARG;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		jit_set_err(err, "%s: %s", dir, strerror(errno));
		return JIT_ERR_SYSTEM;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((r = join(path, sizeof(path), dir, names[i])) != JIT_OK)
			return r;
		if (lstat(path, &sb) == 0) {
			jit_set_err(err, "%s already exists: refusing to overwrite "
			    "an existing instance", path);
			return JIT_ERR_EXISTS;
		}
	}
	randombytes_buf(root, sizeof(root));
	if (passphrase_file != NULL) {
		if ((r = fileio_read_secret(passphrase_file, &pass)) != JIT_OK) {
			jit_set_err(err, "%s: %s", passphrase_file,
			    jit_strerror(r));
			goto out;
		}
		if (*pass == '\0') {
			jit_set_err(err, "%s: empty passphrase", passphrase_file);
			r = JIT_ERR_INVALID_ARG;
			goto out;
		}
		sk.mode = SEAL_PASSPHRASE;
		sk.passphrase = pass;
	} else {
		sk.mode = SEAL_KEYFILE;
		randombytes_buf(sk.key, sizeof(sk.key));
		if ((r = join(path, sizeof(path), dir, "ca.key")) != JIT_OK ||
		    (r = fileio_write_new(path, sk.key, sizeof(sk.key),
		    0600)) != JIT_OK) {
			jit_set_err(err, "%s: %s", path, jit_strerror(r));
			goto out;
		}
	}
	if ((r = join(path, sizeof(path), dir, "ca")) != JIT_OK ||
	    (r = ca_generate("jitd CA", 3650, &ca)) != JIT_OK ||
	    (r = ca_save(ca, path, &sk)) != JIT_OK) {
		jit_set_err(err, "creating the CA in %s: %s", path,
		    jit_strerror(r));
		goto out;
	}
	if ((r = seal_encode(&sk, ROOT_PURPOSE, root, sizeof(root), &sealed,
	    &sealedlen)) != JIT_OK ||
	    (r = join(path, sizeof(path), dir, "secrets.key")) != JIT_OK ||
	    (r = fileio_write_new(path, sealed, sealedlen, 0600)) != JIT_OK) {
		jit_set_err(err, "writing %s/secrets.key: %s", dir,
		    jit_strerror(r));
		goto out;
	}
	if ((r = derive(&in, root)) != JIT_OK)
		goto out;
	if ((pubb64 = b64_encode(in.audit_pk, 32, B64_STD)) == NULL ||
	    asprintf(&publine, "%s\n", pubb64) == -1) {
		publine = NULL;
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = join(path, sizeof(path), dir, "audit.pub")) != JIT_OK ||
	    (r = fileio_write_new(path, publine, strlen(publine), 0644)) !=
	    JIT_OK) {
		jit_set_err(err, "writing %s: %s", path, jit_strerror(r));
		goto out;
	}
	if ((cfgtext = config_default_text()) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if (passphrase_file != NULL) {
		/* Point the config at the passphrase file instead. */
		char *p = strstr(cfgtext, "\"ca_key_file\": \"ca.key\"");
		char *n = NULL;

		if (p == NULL || asprintf(&n, "%.*s\"ca_passphrase_file\": "
		    "\"%s\"%s", (int)(p - cfgtext), cfgtext, passphrase_file,
		    p + strlen("\"ca_key_file\": \"ca.key\"")) == -1) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		free(cfgtext);
		cfgtext = n;
	}
	{
		/* Point web_root at the page files shipped beside jitd. */
		char *web = web_default_root(), *p, *n = NULL;
		const char *key = "\"web_root\": null";

		if (web != NULL && (p = strstr(cfgtext, key)) != NULL &&
		    asprintf(&n, "%.*s\"web_root\": \"%s\"%s",
		    (int)(p - cfgtext), cfgtext, web, p + strlen(key)) != -1) {
			free(cfgtext);
			cfgtext = n;
		}
		free(web);
	}
	if (database != NULL && (r = set_database(&cfgtext, database)) !=
	    JIT_OK)
		goto out;
	if ((r = join(path, sizeof(path), dir, "jitd.json")) != JIT_OK ||
	    (r = fileio_write_new(path, cfgtext, strlen(cfgtext), 0600)) !=
	    JIT_OK) {
		jit_set_err(err, "writing %s: %s", path, jit_strerror(r));
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.audit_sk = in.audit_sk;
	if (database != NULL) {
		if ((r = store_open(database, 1, &so, &st, err)) != JIT_OK)
			goto out;
		/* One database holds one instance (and its one chain). */
		if (store_audit_head(st) != 0) {
			jit_set_err(err, "the database already holds a jitd "
			    "instance (its audit log has %llu events): "
			    "refusing to start a second chain in it",
			    (unsigned long long)store_audit_head(st));
			r = JIT_ERR_EXISTS;
			goto out;
		}
		snprintf(path, sizeof(path), "the database");
	} else if ((r = join(path, sizeof(path), dir, "jitd.db")) != JIT_OK ||
	    (r = store_open(path, 1, &so, &st, err)) != JIT_OK)
		goto out;
	if ((r = store_write(st, create_init_job, pubb64)) != JIT_OK ||
	    (r = store_checkpoint(st)) != JIT_OK) {
		jit_set_err(err, "initialising %s: %s", path, jit_strerror(r));
		goto out;
	}
	r = JIT_OK;
 out:
	store_close(st);
	ca_free(ca);
	sodium_memzero(root, sizeof(root));
	seal_key_clear(&sk);
	strfreezero(pass);
	free(sealed);
	free(pubb64);
	free(publine);
	free(cfgtext);
	free(cfgpath);
	if (in.audit_sk != NULL)
		sodium_free(in.audit_sk);
	if (in.totp_key != NULL)
		sodium_free(in.totp_key);
	return r;
}
