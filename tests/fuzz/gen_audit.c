/*
 * Writes a small signed audit export (header, a chain of events with
 * nested details, checkpoints) to stdout, as GET /v1/audit/export does;
 * the seed of tests/fuzz/corpus/audit/.  Not part of the build:
 *
 *   cc -std=c11 -D_GNU_SOURCE -I. -o build/gen_audit tests/fuzz/gen_audit.c \
 *       build/release/libjitcommon.a $(pkg-config --libs jansson libsodium \
 *       openssl)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/audit_chain.h"
#include "common/err.h"

static void
out(char *line)
{
	if (line == NULL)
		abort();
	fputs(line, stdout);
	free(line);
}

int
main(void)
{
	static const char *const actions[] = { "login", "request.create",
	    "request.approve", "cert.issue", "request.revoke" };
	uint8_t pk[32], sk[64], prev[32] = { 0 };
	struct audit_event ev;
	struct audit_checkpoint cp;
	uint64_t seq;

	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	out(audit_header_export_line(pk));
	for (seq = 1; seq <= 5; seq++) {
		memset(&ev, 0, sizeof(ev));
		ev.seq = seq;
		ev.ts = 1700000000 + (int64_t)seq;
		ev.actor = seq % 2 ? "alice" : "bob";
		ev.action = actions[seq - 1];
		ev.target = "request:7";
		ev.outcome = "ok";
		ev.details = json_pack("{s:s,s:I,s:b,s:n,s:[s,{s:s}]}", "ip",
		    "127.0.0.1", "id", (json_int_t)7, "mfa", 1, "note",
		    "tags", "caf\xc3\xa9 \"x\"", "k", "\\u0001");
		if (audit_event_seal(&ev, prev) != JIT_OK)
			abort();
		memcpy(prev, ev.hash, 32);
		out(audit_event_export_line(&ev));
		if (seq == 3 || seq == 5) {
			memset(&cp, 0, sizeof(cp));
			cp.seq = seq;
			cp.ts = ev.ts;
			memcpy(cp.hash, ev.hash, 32);
			if (audit_checkpoint_sign(&cp, sk) != JIT_OK)
				abort();
			out(audit_checkpoint_export_line(&cp));
		}
		json_decref(ev.details);
	}
	return 0;
}
