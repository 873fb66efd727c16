/*
 * OpenSSH certificates: ca_ssh_cert_parse without a CA key, with the key
 * the certificate names (same verdict) and with another CA's key (must
 * refuse).  Round trip: when the input is a plain public key blob (or a
 * certificate), certify its key with a CA made once at init and parse the
 * result back: every field must come back as requested.
 */
#include <string.h>

#include <sodium.h>

#include "ca/ca.h"
#include "ca/ssh_cert.h"
#include "ca/sshkey.h"
#include "common/err.h"
#include "tests/fuzz/fuzz.h"

static struct ca *fuzz_ca;

FUZZ_INIT(sshcert)
{
	if (fuzz_ca != NULL)
		return;
	FUZZ_ASSERT(sodium_init() >= 0);
	FUZZ_ASSERT(ca_generate("fuzz CA", 30, &fuzz_ca) == JIT_OK);
}

static void
certify(const struct ca_sshkey *key)
{
	static const char *const principals[] = { "alice", "root" };
	static const struct ca_ssh_ext exts[] = { { "permit-pty", NULL } };
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	struct ca_ssh_cert_info *info = NULL;
	const uint8_t *blob;
	size_t len;

	memset(&req, 0, sizeof(req));
	req.type = CA_SSH_CERT_USER;
	req.subject = key;
	req.key_id = "fuzz";
	req.principals = principals;
	req.nprincipals = 2;
	req.valid_after = 1700000000;
	req.valid_before = 1700003600;
	req.serial = 42;
	req.source_address = "10.0.0.0/8";
	req.extensions = exts;
	req.nextensions = 1;
	FUZZ_ASSERT(ca_ssh_certify(fuzz_ca, &req, &c) == JIT_OK);
	blob = ca_ssh_cert_blob(c, &len);
	FUZZ_ASSERT(ca_ssh_cert_parse(blob, len, ca_ssh_pubkey(fuzz_ca,
	    CA_SLOT_SSH_USER), &info) == JIT_OK);
	FUZZ_ASSERT(info->type == CA_SSH_CERT_USER && info->serial == 42);
	FUZZ_ASSERT(strcmp(info->key_id, "fuzz") == 0);
	FUZZ_ASSERT(info->nprincipals == 2 &&
	    strcmp(info->principals[0], "alice") == 0 &&
	    strcmp(info->principals[1], "root") == 0);
	FUZZ_ASSERT(info->valid_after == 1700000000 &&
	    info->valid_before == 1700003600);
	FUZZ_ASSERT(info->force_command == NULL &&
	    info->source_address != NULL &&
	    strcmp(info->source_address, "10.0.0.0/8") == 0);
	FUZZ_ASSERT(info->nextensions == 1 &&
	    strcmp(info->extensions[0].name, "permit-pty") == 0);
	FUZZ_ASSERT(ca_sshkey_equal(info->key, key));
	ca_ssh_cert_info_free(info);
	ca_ssh_cert_free(c);
}

FUZZ_TARGET(sshcert)
{
	struct ca_ssh_cert_info *info = NULL, *info2 = NULL;
	struct ca_sshkey *k = NULL;
	uint8_t other[32];
	int r, r2;

	r = ca_ssh_cert_parse(data, size, NULL, &info);
	if (r == JIT_OK) {
		memcpy(other, info->signature_key, 32);
		r2 = ca_ssh_cert_parse(data, size, other, &info2);
		FUZZ_ASSERT(r2 == JIT_OK);
		FUZZ_ASSERT(info2->serial == info->serial &&
		    info2->nprincipals == info->nprincipals &&
		    ca_sshkey_equal(info2->key, info->key));
		ca_ssh_cert_info_free(info2);
		info2 = NULL;
		other[0] ^= 1;
		FUZZ_ASSERT(ca_ssh_cert_parse(data, size, other, &info2) !=
		    JIT_OK);
		certify(info->key);
		ca_ssh_cert_info_free(info);
	} else {
		/* The init CA never signed the input. */
		FUZZ_ASSERT(ca_ssh_cert_parse(data, size, ca_ssh_pubkey(fuzz_ca,
		    CA_SLOT_SSH_USER), &info2) != JIT_OK);
	}
	if (ca_sshkey_from_blob(data, size, &k) == JIT_OK) {
		certify(k);
		ca_sshkey_free(k);
	}
	return 0;
}
