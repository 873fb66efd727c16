/*
 * make bench: certificates signed per second by libjitca for Ed25519
 * subject keys, printed beside two baselines measured in the same run:
 * raw libsodium Ed25519 signing (the ceiling) and `ssh-keygen -s` run once
 * per certificate (the way a shell-script CA works).  The figures are
 * ratios; absolute rates depend on the machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ca/ca.h"
#include "ca/signer_proc.h"
#include "ca/ssh_cert.h"
#include "ca/sshkey.h"
#include "ca/x509.h"
#include "common/err.h"
#include "tests/lib/testutil.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs fn repeatedly for about secs seconds; returns operations per second. */
static double
rate(void (*fn)(void *), void *arg, double secs)
{
	double t0 = now_s(), t;
	long n = 0;

	do {
		fn(arg);
		n++;
	} while ((t = now_s() - t0) < secs);
	return (double)n / t;
}

struct raw_ctx {
	uint8_t	pk[32], sk[64], msg[400], sig[64];
};

static void
raw_sign(void *p)
{
	struct raw_ctx *c = p;

	c->msg[0]++;
	crypto_sign_detached(c->sig, NULL, c->msg, sizeof(c->msg), c->sk);
}

struct cert_ctx {
	struct ca		*ca;
	struct ca_ssh_cert_req	 req;
};

static void
cert_sign(void *p)
{
	struct cert_ctx *c = p;
	struct ca_ssh_cert *cert = NULL;

	if (ca_ssh_certify(c->ca, &c->req, &cert) != JIT_OK)
		abort();
	ca_ssh_cert_free(cert);
}

int
main(int argc, char **argv)
{
	static const char *principals[] = { "webadmin" };
	static const struct ca_ssh_ext ext[] = { { "permit-pty", NULL } };
	struct raw_ctx raw;
	struct cert_ctx cc, cs;
	struct ca_sshkey *subject = NULL;
	struct tu_out o;
	char *dir, *keyf, *pubf, *caf, *line;
	double r_raw, r_cert, r_fork, r_keygen, t0;
	int i, n_keygen = 40;
	time_t now;

	if (sodium_init() < 0)
		return 1;
	dir = tu_mkdtemp("bench");
	keyf = tu_path(dir, "id");
	pubf = tu_path(dir, "id.pub");
	caf = tu_path(dir, "ca");
	{
		char *kg[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
		    "-f", keyf, NULL };
		char *kc[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
		    "-f", caf, NULL };

		if (tu_run(kg, NULL, NULL, 30, &o) != 0 || o.status != 0)
			return 1;
		tu_out_free(&o);
		if (tu_run(kc, NULL, NULL, 30, &o) != 0 || o.status != 0)
			return 1;
		tu_out_free(&o);
	}
	line = tu_read_file(pubf, NULL);
	if (ca_sshkey_parse_line(line, strlen(line), &subject) != JIT_OK)
		return 1;
	free(line);

	crypto_sign_keypair(raw.pk, raw.sk);
	memset(raw.msg, 0x42, sizeof(raw.msg));

	memset(&cc, 0, sizeof(cc));
	if (ca_generate("bench CA", 1, &cc.ca) != JIT_OK)
		return 1;
	now = time(NULL);
	cc.req.type = CA_SSH_CERT_USER;
	cc.req.subject = subject;
	cc.req.key_id = "jitd:alice:42:bench";
	cc.req.principals = principals;
	cc.req.nprincipals = 1;
	cc.req.valid_after = (uint64_t)now - 60;
	cc.req.valid_before = (uint64_t)now + 300;
	cc.req.extensions = ext;
	cc.req.nextensions = 1;

	r_raw = rate(raw_sign, &raw, 2.0);
	r_cert = rate(cert_sign, &cc, 2.0);
	/* The same through the signer process (ca/signer_proc.h). */
	cs = cc;
	if (ca_generate("bench CA", 1, &cs.ca) != JIT_OK ||
	    ca_signer_fork(cs.ca, NULL, NULL) != JIT_OK)
		return 1;
	r_fork = rate(cert_sign, &cs, 2.0);

	t0 = now_s();
	for (i = 0; i < n_keygen; i++) {
		char *sk[] = { "ssh-keygen", "-q", "-s", caf, "-I", "bench",
		    "-n", "webadmin", "-V", "-1m:+5m", "-O", "clear", "-O",
		    "permit-pty", pubf, NULL };

		if (tu_run(sk, NULL, NULL, 30, &o) != 0 || o.status != 0) {
			fprintf(stderr, "ssh-keygen -s failed: %s\n", o.err);
			return 1;
		}
		tu_out_free(&o);
	}
	r_keygen = n_keygen / (now_s() - t0);

	printf("bench_ca: OpenSSH user certificates, Ed25519 subject, one core\n");
	printf("  %-44s %10.0f /s\n", "raw libsodium Ed25519 sign (baseline)",
	    r_raw);
	printf("  %-44s %10.0f /s   ratio to raw sign: %.2f\n",
	    "ca_ssh_certify (build+sign+post-sign check)", r_cert,
	    r_cert / r_raw);
	printf("  %-44s %10.0f /s   ratio to in-process: %.2f\n",
	    "ca_ssh_certify through the signer process", r_fork,
	    r_fork / r_cert);
	printf("  %-44s %10.0f /s   libjitca is %.0fx faster\n",
	    "ssh-keygen -s, one process per cert", r_keygen,
	    r_cert / r_keygen);

	ca_free(cc.ca);
	ca_free(cs.ca);
	ca_sshkey_free(subject);
	tu_rmdir(dir);
	free(dir);
	free(keyf);
	free(pubf);
	free(caf);
	(void)argc;
	(void)argv;
	return 0;
}
