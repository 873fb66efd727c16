/*
 * An instance's secrets: the seal key that protects the CA keys and the
 * instance secret file, and the keys derived from the instance secret
 * (the audit checkpoint signing key, the key that seals TOTP secrets at
 * rest).  Also creates a new instance directory (jitd init).
 */
#ifndef JIT_BROKER_INSTANCE_H
#define JIT_BROKER_INSTANCE_H

#include <stddef.h>
#include <stdint.h>

#include "broker/config.h"
#include "ca/ca.h"
#include "common/seal.h"

struct instance {
	struct seal_key	 seal;		/* unlocks the CA and secrets_file */
	char		*passphrase;	/* when sealed with a passphrase */
	uint8_t		 audit_pk[32];
	uint8_t		*audit_sk;	/* sodium_malloc, 64 bytes */
	uint8_t		*totp_key;	/* sodium_malloc, 32 bytes */
};

/*
 * Reads the seal key (ca_key_file or ca_passphrase_file; neither means
 * the keys were stored unsealed) and unseals secrets_file.  On failure
 * returns a code and a malloc'd sentence in *err.
 */
int instance_unlock(const struct config *cfg, struct instance **out,
    char **err) __attribute__((warn_unused_result));

/* Loads the CA with the instance's seal key. */
int instance_open_ca(const struct instance *in, const struct config *cfg,
    struct ca **out, char **err) __attribute__((warn_unused_result));

void instance_free(struct instance *in);

/*
 * Seals a user's TOTP secret (bound to the user name) and opens it again.
 * instance_totp_open returns the secret in sodium_malloc memory.
 */
int instance_totp_seal(const struct instance *in, const char *user,
    const uint8_t *secret, size_t len, uint8_t *out, size_t outcap,
    size_t *outlen) __attribute__((warn_unused_result));
int instance_totp_open(const struct instance *in, const char *user,
    const uint8_t *sealed, size_t len, uint8_t **secret, size_t *secretlen)
    __attribute__((warn_unused_result));

/*
 * Creates a new instance in dir: jitd.json, ca.key (or a passphrase
 * sealing when passphrase_file is set), the CA under ca/, secrets.key,
 * audit.pub and jitd.db.  Refuses if any of them exists.  database, when
 * not NULL, is a PostgreSQL URI used instead of jitd.db (initialised
 * here; refused if it already holds an instance's audit log).
 */
int instance_create(const char *dir, const char *passphrase_file,
    const char *database, char **err) __attribute__((warn_unused_result));

#endif
