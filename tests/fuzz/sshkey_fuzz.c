/*
 * OpenSSH public keys: ca_sshkey_from_blob on the raw input and
 * ca_sshkey_parse_line on it as text.  Round trips: a parsed key's blob
 * parses to an equal key, its authorized_keys line too, and its
 * certificate fields read back (ca_sshkey_get_cert_fields) to it.
 */
#include <stdlib.h>
#include <string.h>

#include "ca/sshkey.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "tests/fuzz/fuzz.h"

FUZZ_INIT(sshkey)
{
}

static void
round_trip(const struct ca_sshkey *k)
{
	struct ca_sshkey *k2 = NULL;
	const uint8_t *blob;
	char fp[CA_SSHKEY_FP_LEN], *b64, *line;
	struct buf *b;
	size_t len, n;

	blob = ca_sshkey_blob(k, &len);
	FUZZ_ASSERT(ca_sshkey_from_blob(blob, len, &k2) == JIT_OK);
	FUZZ_ASSERT(ca_sshkey_equal(k, k2));
	ca_sshkey_free(k2);
	ca_sshkey_fingerprint(k, fp, sizeof(fp));
	FUZZ_ASSERT(strncmp(fp, "SHA256:", 7) == 0);

	FUZZ_ASSERT((b64 = b64_encode(blob, len, B64_STD)) != NULL);
	n = strlen(ca_sshkey_type_name(k)) + strlen(b64) + 16;
	FUZZ_ASSERT((line = malloc(n)) != NULL);
	snprintf(line, n, "%s %s c\n", ca_sshkey_type_name(k), b64);
	k2 = NULL;
	if (strlen(line) <= JIT_PUBKEY_LINE_MAX) {
		FUZZ_ASSERT(ca_sshkey_parse_line(line, strlen(line), &k2) ==
		    JIT_OK);
		FUZZ_ASSERT(ca_sshkey_equal(k, k2));
		ca_sshkey_free(k2);
	}
	free(line);
	free(b64);

	FUZZ_ASSERT((b = buf_new(64 * 1024)) != NULL);
	FUZZ_ASSERT(ca_sshkey_put_cert_fields(k, b) == JIT_OK);
	k2 = NULL;
	FUZZ_ASSERT(ca_sshkey_get_cert_fields(ca_sshkey_cert_type_name(k), b,
	    &k2) == JIT_OK);
	FUZZ_ASSERT(buf_len(b) == 0);
	FUZZ_ASSERT(ca_sshkey_equal(k, k2));
	ca_sshkey_free(k2);
	buf_free(b);
}

FUZZ_TARGET(sshkey)
{
	struct ca_sshkey *k = NULL;

	if (ca_sshkey_from_blob(data, size, &k) == JIT_OK) {
		round_trip(k);
		ca_sshkey_free(k);
	}
	k = NULL;
	if (ca_sshkey_parse_line((const char *)data, size, &k) == JIT_OK) {
		round_trip(k);
		ca_sshkey_free(k);
	}
	return 0;
}
