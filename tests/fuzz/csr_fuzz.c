/*
 * Certificate signing requests (PEM or DER): ca_x509_issue with a CA made
 * once at init.  A leaf that is issued must carry the requested bounds.
 */
#include <string.h>

#include <sodium.h>

#include "ca/ca.h"
#include "ca/x509.h"
#include "common/err.h"
#include "common/limits.h"
#include "tests/fuzz/fuzz.h"

static struct ca *fuzz_ca;

FUZZ_INIT(csr)
{
	if (fuzz_ca != NULL)
		return;
	FUZZ_ASSERT(sodium_init() >= 0);
	FUZZ_ASSERT(ca_generate("fuzz CA", 30, &fuzz_ca) == JIT_OK);
}

FUZZ_TARGET(csr)
{
	struct ca_x509_req req;
	struct ca_x509_cert *c = NULL;
	int r;

	memset(&req, 0, sizeof(req));
	req.csr = data;
	req.csrlen = size;
	req.cn = "alice";
	req.ou = "fuzz";
	req.uri = "spiffe://jitd/alice";
	req.ttl = 3600;
	r = ca_x509_issue(fuzz_ca, &req, &c);
	if (r == JIT_OK) {
		FUZZ_ASSERT(c != NULL);
		FUZZ_ASSERT(strncmp(ca_x509_cert_pem(c), "-----BEGIN "
		    "CERTIFICATE-----", 27) == 0);
		FUZZ_ASSERT(ca_x509_cert_not_after(c) -
		    ca_x509_cert_not_before(c) <= 3600 + JIT_CLOCK_SKEW);
		FUZZ_ASSERT(strncmp(ca_x509_cert_key_fingerprint(c),
		    "SHA256:", 7) == 0);
		ca_x509_cert_free(c);
	} else
		FUZZ_ASSERT(c == NULL);
	return 0;
}
