/*
 * Unit tests for the audit chain (broker/audit_chain.h): known answers for
 * the canonical form, the hash and the checkpoint signature with sha256sum
 * and openssl as oracles; a 2000-event chain exported and verified; every
 * kind of tampering named by its first bad seq; strict export-line parsing.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "common/audit_chain.h"
#include "common/err.h"
#include "tests/lib/testutil.h"

#define NEVENTS		2000
#define CP_EVERY	1000

/* An exported chain: one malloc'd line per entry, in file order. */
struct chain {
	uint8_t	 pk[AUDIT_PK_LEN];
	uint8_t	 sk[AUDIT_SK_LEN];
	char	*lines[NEVENTS + NEVENTS / CP_EVERY + 1];
	size_t	 nlines;
	/* Index in lines[] of event seq (1-based) and of checkpoints. */
	size_t	 ev_line[NEVENTS + 1];
	size_t	 cp_line[NEVENTS / CP_EVERY + 1];
};

static const char *actors[] = { "alice", "bob", "jit\xc3\xa9", "svc-ci" };
static const char *actions[] = { "request.create", "request.approve",
	"cert.ssh.issue", "login" };

/* Details full of things that must survive canonicalisation. */
static json_t *
make_details(uint64_t seq)
{
	char note[256];

	snprintf(note, sizeof(note), "fix \"prod\" #%llu\n\t\x1b[31mred"
	    "\x1b[0m \xe2\x80\xae" "evil.exe \xe6\x97\xa5\xe6\x9c\xac "
	    "\xf0\x9f\x98\x80 back\\slash", (unsigned long long)seq);
	return json_pack("{s:s, s:I, s:b, s:n, s:{s:[I, s, b], s:s}, s:s}",
	    "note", note, "i", (json_int_t)seq, "even", seq % 2 == 0,
	    "none", "nested", "list", (json_int_t)seq * 7, "\xc3\xa9t\xc3\xa9",
	    0, "z", "\xe2\x80\x8f\xe2\x80\xaa", "ticket", "OPS-1");
}

static void
build_chain(struct chain *c, int header)
{
	struct audit_event ev;
	struct audit_checkpoint cp;
	uint8_t prev[AUDIT_HASH_LEN] = { 0 };
	char target[32];
	uint64_t seq;
	size_t ncp = 0;

	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(crypto_sign_keypair(c->pk, c->sk), 0);
	if (header) {
		c->lines[c->nlines] = audit_header_export_line(c->pk);
		ck_assert_ptr_nonnull(c->lines[c->nlines]);
		c->nlines++;
	}
	for (seq = 1; seq <= NEVENTS; seq++) {
		memset(&ev, 0, sizeof(ev));
		snprintf(target, sizeof(target), "req-%llu",
		    (unsigned long long)(seq / 3));
		ev.seq = seq;
		ev.ts = 1700000000 + (int64_t)seq;
		ev.actor = actors[seq % 4];
		ev.action = actions[seq % 4];
		ev.target = target;
		ev.outcome = seq % 5 == 0 ? "denied" : "ok";
		ev.details = seq % 97 == 0 ? NULL : make_details(seq);
		ck_assert_int_eq(audit_event_seal(&ev, prev), JIT_OK);
		memcpy(prev, ev.hash, sizeof(prev));
		c->ev_line[seq] = c->nlines;
		c->lines[c->nlines] = audit_event_export_line(&ev);
		ck_assert_ptr_nonnull(c->lines[c->nlines]);
		c->nlines++;
		json_decref(ev.details);
		if (seq % CP_EVERY == 0) {
			memset(&cp, 0, sizeof(cp));
			cp.seq = seq;
			cp.ts = ev.ts + 1;
			memcpy(cp.hash, ev.hash, sizeof(cp.hash));
			ck_assert_int_eq(audit_checkpoint_sign(&cp, c->sk),
			    JIT_OK);
			ck_assert_int_eq(audit_checkpoint_verify(&cp, c->pk),
			    JIT_OK);
			c->cp_line[++ncp] = c->nlines;
			c->lines[c->nlines] = audit_checkpoint_export_line(&cp);
			ck_assert_ptr_nonnull(c->lines[c->nlines]);
			c->nlines++;
		}
	}
}

static void
free_chain(struct chain *c)
{
	size_t i;

	for (i = 0; i < c->nlines; i++)
		free(c->lines[i]);
	memset(c, 0, sizeof(*c));
}

/* Writes the lines to a file in a fresh directory; returns its path. */
static char *
write_chain(const struct chain *c, char **dirp)
{
	char *dir = tu_mkdtemp("audit"), *path = tu_path(dir, "export.jsonl");
	FILE *f;
	size_t i;

	ck_assert_ptr_nonnull((f = fopen(path, "w")));
	for (i = 0; i < c->nlines; i++) {
		if (c->lines[i] != NULL)
			ck_assert_int_eq(fputs(c->lines[i], f) >= 0, 1);
	}
	ck_assert_int_eq(fclose(f), 0);
	*dirp = dir;
	return path;
}

/* Verifies the chain's lines through a file; returns finish's code. */
static int
verify_via_file(const struct chain *c, const uint8_t *pk,
    struct audit_verify_result *res)
{
	char *dir, *path = write_chain(c, &dir);
	int r = audit_verify_file(path, pk, res);

	tu_rmdir(dir);
	free(dir);
	free(path);
	return r;
}

/* Verifies a whole in-memory export, split on '\n' like the file reader. */
static int
verify_buffer(const char *p, size_t len, const uint8_t *pk,
    struct audit_verify_result *res)
{
	struct audit_verifier *v = audit_verifier_new(pk);
	const char *nl;
	size_t n;
	int r;

	ck_assert_ptr_nonnull(v);
	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) + 1 : len;
		if (audit_verifier_line(v, p, n) != JIT_OK)
			break;
		p += n;
		len -= n;
	}
	r = audit_verifier_finish(v, res);
	audit_verifier_free(v);
	return r;
}

static char *
join_chain(const struct chain *c, size_t *lenp)
{
	size_t i, len = 0, n;
	char *p;

	for (i = 0; i < c->nlines; i++)
		len += strlen(c->lines[i]);
	ck_assert_ptr_nonnull((p = malloc(len + 1)));
	for (len = 0, i = 0; i < c->nlines; i++) {
		n = strlen(c->lines[i]);
		memcpy(p + len, c->lines[i], n);
		len += n;
	}
	p[len] = '\0';
	*lenp = len;
	return p;
}

static void
assert_bad(int r, const struct audit_verify_result *res, uint64_t seq,
    const char *reason)
{
	ck_assert_int_ne(r, JIT_OK);
	ck_assert_int_eq(res->ok, 0);
	ck_assert_msg(res->first_bad_seq == seq, "first bad %llu, want %llu "
	    "(%s)", (unsigned long long)res->first_bad_seq,
	    (unsigned long long)seq, res->reason);
	ck_assert_msg(tu_contains(res->reason, reason), "reason '%s' lacks "
	    "'%s'", res->reason, reason);
}

/* The fixed event of the known-answer tests. */
static const char kat_details[] = "{\"reason\":\"fix \\\"prod\\\"\\n"
    "\\u001b[31mred\\u001b[0m\",\"bidi\":\"abc\\u202efed\",\"emoji\":"
    "\"\\ud83d\\ude00\",\"n\":-3,\"b\":true,\"z\":null,\"list\":[1,"
    "\"\\u00e9\",{\"k\":false}]}";
static const char kat_canonical[] =
    "{\"action\":\"request.approve\",\"actor\":\"alice\",\"details\":{"
    "\"b\":true,\"bidi\":\"abc\\u202Efed\",\"emoji\":\"\\uD83D\\uDE00\","
    "\"list\":[1,\"\\u00E9\",{\"k\":false}],\"n\":-3,\"reason\":\"fix "
    "\\\"prod\\\"\\n\\u001B[31mred\\u001B[0m\",\"z\":null},\"outcome\":"
    "\"ok\",\"seq\":1,\"target\":\"req-42\",\"ts\":1700000000}";
static const char kat_hash[] =
    "a9f444fadf12d01232a6eefb2a1fa05045a41dea82b47a5f1fd27fbc089b6c46";
static const char kat_sig[] =
    "e89e462c00344d7190bb97a98891ed4620ea0a1120be9f878abfc32c1d43fe93"
    "862d33f368010d3d4e53bb34f9dc0d0b12e1b51f8f7066f93b4740ed16247401";

static void
kat_event(struct audit_event *ev, json_t **details)
{
	json_error_t e;

	ck_assert_ptr_nonnull((*details = json_loads(kat_details, 0, &e)));
	memset(ev, 0, sizeof(*ev));
	ev->seq = 1;
	ev->ts = 1700000000;
	ev->actor = "alice";
	ev->action = "request.approve";
	ev->target = "req-42";
	ev->outcome = "ok";
	ev->details = *details;
}

START_TEST(kat_canonical_and_hash)
{
	static const uint8_t zero[AUDIT_HASH_LEN];
	struct audit_event ev;
	json_t *d;
	char *canon = NULL, hex[65], *dir, *path;
	uint8_t *blob;
	size_t len;
	struct tu_out o;

	kat_event(&ev, &d);
	ck_assert_int_eq(audit_canonical(&ev, &canon, &len), JIT_OK);
	ck_assert_str_eq(canon, kat_canonical);
	ck_assert_int_eq(len, strlen(kat_canonical));
	ck_assert_int_eq(audit_event_seal(&ev, zero), JIT_OK);
	sodium_bin2hex(hex, sizeof(hex), ev.hash, sizeof(ev.hash));
	ck_assert_str_eq(hex, kat_hash);

	/* Independent oracle: sha256sum over prev_hash || canonical. */
	ck_assert_ptr_nonnull((blob = malloc(AUDIT_HASH_LEN + len)));
	memcpy(blob, zero, AUDIT_HASH_LEN);
	memcpy(blob + AUDIT_HASH_LEN, canon, len);
	dir = tu_mkdtemp("audit-kat");
	path = tu_path(dir, "blob");
	tu_write_file(path, blob, AUDIT_HASH_LEN + len, 0600);
	char *argv[] = { "sha256sum", path, NULL };
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	ck_assert_int_eq(strncmp(o.out, hex, 64), 0);
	tu_out_free(&o);
	tu_rmdir(dir);
	free(dir);
	free(path);
	free(blob);
	free(canon);
	json_decref(d);
}
END_TEST

START_TEST(kat_checkpoint_signature)
{
	static const uint8_t der_prefix[] = { 0x30, 0x2a, 0x30, 0x05, 0x06,
	    0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	struct audit_checkpoint cp;
	uint8_t seed[32], pk[32], sk[64], msg[25 + 8 + 8 + 32];
	uint8_t der[sizeof(der_prefix) + 32];
	char hex[129], *dir, *pkp, *msgp, *sigp;
	struct tu_out o;
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	ck_assert_int_eq(crypto_sign_seed_keypair(pk, sk, seed), 0);
	memset(&cp, 0, sizeof(cp));
	cp.seq = 1000;
	cp.ts = -5;	/* negative times are two's complement */
	ck_assert_int_eq(sodium_hex2bin(cp.hash, sizeof(cp.hash), kat_hash,
	    64, NULL, NULL, NULL), 0);
	ck_assert_int_eq(audit_checkpoint_sign(&cp, sk), JIT_OK);
	sodium_bin2hex(hex, sizeof(hex), cp.sig, sizeof(cp.sig));
	ck_assert_str_eq(hex, kat_sig);
	ck_assert_int_eq(audit_checkpoint_verify(&cp, pk), JIT_OK);
	cp.ts++;
	ck_assert_int_eq(audit_checkpoint_verify(&cp, pk),
	    JIT_ERR_BAD_SIGNATURE);
	cp.ts--;

	/* Independent oracle: openssl over the message built by hand. */
	memcpy(msg, "jitd-audit-checkpoint-v1", 25);	/* with its NUL */
	memcpy(msg + 25, "\0\0\0\0\0\0\x03\xe8", 8);
	memcpy(msg + 33, "\xff\xff\xff\xff\xff\xff\xff\xfb", 8);
	memcpy(msg + 41, cp.hash, 32);
	memcpy(der, der_prefix, sizeof(der_prefix));
	memcpy(der + sizeof(der_prefix), pk, 32);
	dir = tu_mkdtemp("audit-kat");
	pkp = tu_path(dir, "pk.der");
	msgp = tu_path(dir, "msg");
	sigp = tu_path(dir, "sig");
	tu_write_file(pkp, der, sizeof(der), 0600);
	tu_write_file(msgp, msg, sizeof(msg), 0600);
	tu_write_file(sigp, cp.sig, sizeof(cp.sig), 0600);
	char *argv[] = { "openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
	    pkp, "-keyform", "DER", "-rawin", "-in", msgp, "-sigfile", sigp,
	    NULL };
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_msg(o.status == 0, "openssl: %s %s", o.out, o.err);
	ck_assert(tu_contains(o.out, "Signature Verified Successfully"));
	tu_out_free(&o);
	tu_rmdir(dir);
	free(dir);
	free(pkp);
	free(msgp);
	free(sigp);
}
END_TEST

START_TEST(chain_verifies)
{
	struct chain c;
	struct audit_verify_result res;
	uint8_t other_pk[32], other_sk[64];

	build_chain(&c, 1);
	/* With the caller's key. */
	ck_assert_int_eq(verify_via_file(&c, c.pk, &res), JIT_OK);
	ck_assert_msg(res.ok, "%s", res.reason);
	ck_assert_int_eq(res.signatures_checked, 1);
	ck_assert_uint_eq(res.events, NEVENTS);
	ck_assert_uint_eq(res.last_seq, NEVENTS);
	ck_assert_uint_eq(res.checkpoints, NEVENTS / CP_EVERY);
	ck_assert_uint_eq(res.last_checkpoint_seq, NEVENTS);
	ck_assert_uint_eq(res.first_bad_seq, 0);
	ck_assert_str_eq(res.reason, "");
	/* With the key from the header. */
	ck_assert_int_eq(verify_via_file(&c, NULL, &res), JIT_OK);
	ck_assert_int_eq(res.ok, 1);
	ck_assert_int_eq(res.signatures_checked, 1);
	ck_assert_uint_eq(res.events, NEVENTS);
	ck_assert_uint_eq(res.checkpoints, NEVENTS / CP_EVERY);
	/* A header with another key than the expected one. */
	ck_assert_int_eq(crypto_sign_keypair(other_pk, other_sk), 0);
	assert_bad(verify_via_file(&c, other_pk, &res), &res, 1,
	    "header key");
	/* No header: no key means no signature check; a wrong key fails. */
	free(c.lines[0]);
	c.lines[0] = strdup("");
	ck_assert_int_eq(verify_via_file(&c, NULL, &res), JIT_OK);
	ck_assert_int_eq(res.ok, 1);
	ck_assert_int_eq(res.signatures_checked, 0);
	ck_assert_uint_eq(res.checkpoints, NEVENTS / CP_EVERY);
	assert_bad(verify_via_file(&c, other_pk, &res), &res, CP_EVERY,
	    "bad checkpoint signature");
	ck_assert_uint_eq(res.events, CP_EVERY);
	free_chain(&c);
}
END_TEST

/* The database path: structs fed directly, checkpoints ahead and behind. */
START_TEST(verifier_structs)
{
	struct audit_verifier *v;
	struct audit_verify_result res;
	struct audit_event ev[5];
	struct audit_checkpoint cp;
	uint8_t pk[32], sk[64], prev[32] = { 0 };
	int i;

	ck_assert_int_eq(crypto_sign_keypair(pk, sk), 0);
	for (i = 0; i < 5; i++) {
		memset(&ev[i], 0, sizeof(ev[i]));
		ev[i].seq = (uint64_t)i + 1;
		ev[i].ts = i;
		ev[i].actor = ev[i].action = ev[i].target = "x";
		ev[i].outcome = "ok";
		ck_assert_int_eq(audit_event_seal(&ev[i], prev), JIT_OK);
		memcpy(prev, ev[i].hash, 32);
	}
	ck_assert_ptr_nonnull((v = audit_verifier_new(pk)));
	/* A checkpoint for event 4 before it arrives is held. */
	cp.seq = 4;
	cp.ts = 9;
	memcpy(cp.hash, ev[3].hash, 32);
	ck_assert_int_eq(audit_checkpoint_sign(&cp, sk), JIT_OK);
	ck_assert_int_eq(audit_verifier_checkpoint(v, &cp), JIT_OK);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(audit_verifier_event(v, &ev[i]), JIT_OK);
	/* One for event 2, seen already. */
	cp.seq = 2;
	memcpy(cp.hash, ev[1].hash, 32);
	ck_assert_int_eq(audit_checkpoint_sign(&cp, sk), JIT_OK);
	ck_assert_int_eq(audit_verifier_checkpoint(v, &cp), JIT_OK);
	ck_assert_int_eq(audit_verifier_finish(v, &res), JIT_OK);
	ck_assert_int_eq(res.ok, 1);
	ck_assert_uint_eq(res.events, 5);
	ck_assert_uint_eq(res.checkpoints, 2);
	ck_assert_uint_eq(res.last_checkpoint_seq, 4);
	/* A bad event afterwards is recorded and sticks. */
	ck_assert_int_eq(audit_verifier_event(v, &ev[0]),
	    JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(audit_verifier_event(v, &ev[4]),
	    JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(audit_verifier_finish(v, &res),
	    JIT_ERR_INVALID_FORMAT);
	assert_bad(JIT_ERR_INVALID_FORMAT, &res, 6,
	    "sequence out of order: expected 6, found 1");
	audit_verifier_free(v);

	/* A chain link that does not match. */
	ck_assert_ptr_nonnull((v = audit_verifier_new(NULL)));
	ck_assert_int_eq(audit_verifier_event(v, &ev[0]), JIT_OK);
	ev[1].prev_hash[0] ^= 1;
	ck_assert_int_eq(audit_verifier_event(v, &ev[1]),
	    JIT_ERR_BAD_SIGNATURE);
	ck_assert_int_eq(audit_verifier_finish(v, &res),
	    JIT_ERR_BAD_SIGNATURE);
	assert_bad(JIT_ERR_BAD_SIGNATURE, &res, 2, "prev_hash");
	audit_verifier_free(v);
	ck_assert_int_eq(audit_verifier_event(NULL, &ev[0]),
	    JIT_ERR_INVALID_ARG);
	audit_verifier_free(NULL);
}
END_TEST

/* Parsing an export line gives back the event's exact canonical bytes. */
START_TEST(round_trip)
{
	struct audit_event ev, back;
	json_t *d;
	char *c1 = NULL, *c2 = NULL, *line, *line2;
	size_t l1, l2;
	static const uint8_t zero[32];

	kat_event(&ev, &d);
	ck_assert_int_eq(audit_event_seal(&ev, zero), JIT_OK);
	ck_assert_ptr_nonnull((line = audit_event_export_line(&ev)));
	ck_assert_int_eq(line[strlen(line) - 1], '\n');
	ck_assert(strchr(line, '\n') == line + strlen(line) - 1);
	ck_assert_int_eq(audit_event_parse(line, strlen(line), &back), JIT_OK);
	ck_assert_int_eq(audit_canonical(&ev, &c1, &l1), JIT_OK);
	ck_assert_int_eq(audit_canonical(&back, &c2, &l2), JIT_OK);
	ck_assert_int_eq(l1, l2);
	ck_assert_mem_eq(c1, c2, l1);
	ck_assert_mem_eq(back.hash, ev.hash, 32);
	ck_assert_mem_eq(back.prev_hash, ev.prev_hash, 32);
	ck_assert_ptr_nonnull((line2 = audit_event_export_line(&back)));
	ck_assert_str_eq(line, line2);
	ck_assert_int_eq(strncmp(line, "{\"type\":\"event\",\"seq\":1,", 24), 0);
	audit_event_clear(&back);
	audit_event_clear(NULL);
	free(c1);
	free(c2);
	free(line);
	free(line2);
	json_decref(d);
}
END_TEST

/* Re-formatting an export (key order, spacing, raw UTF-8) changes nothing. */
START_TEST(format_independent)
{
	struct chain c;
	struct audit_verify_result res;
	json_error_t e;
	json_t *j;
	char *s;
	size_t i, n;

	build_chain(&c, 1);
	for (i = 0; i < c.nlines; i++) {
		ck_assert_ptr_nonnull((j = json_loads(c.lines[i], 0, &e)));
		ck_assert_ptr_nonnull((s = json_dumps(j, JSON_SORT_KEYS)));
		json_decref(j);
		n = strlen(s);
		free(c.lines[i]);
		ck_assert_ptr_nonnull((c.lines[i] = malloc(n + 2)));
		memcpy(c.lines[i], s, n);
		memcpy(c.lines[i] + n, "\n", 2);
		free(s);
	}
	ck_assert_ptr_nonnull(strstr(c.lines[1], "\": "));
	ck_assert_int_eq(verify_via_file(&c, c.pk, &res), JIT_OK);
	ck_assert_uint_eq(res.events, NEVENTS);
	free_chain(&c);
}
END_TEST

/* Replaces lines[i] by a copy with the first occurrence of from replaced. */
static void
edit_line(struct chain *c, size_t i, const char *from, const char *to)
{
	char *p, *n;
	size_t len = strlen(c->lines[i]) + strlen(to) + 1;

	ck_assert_ptr_nonnull((p = strstr(c->lines[i], from)));
	ck_assert_ptr_nonnull((n = malloc(len)));
	snprintf(n, len, "%.*s%s%s", (int)(p - c->lines[i]), c->lines[i], to,
	    p + strlen(from));
	free(c->lines[i]);
	c->lines[i] = n;
}

static void
drop_line(struct chain *c, size_t i)
{
	free(c->lines[i]);
	c->lines[i] = strdup("");
}

START_TEST(tamper_details)
{
	struct chain c;
	struct audit_verify_result res;

	build_chain(&c, 1);
	edit_line(&c, c.ev_line[500], "OPS-1", "OPS-2");
	assert_bad(verify_via_file(&c, c.pk, &res), &res, 500,
	    "hash mismatch");
	ck_assert_uint_eq(res.events, 499);
	ck_assert_uint_eq(res.last_seq, 499);
	free_chain(&c);
}
END_TEST

START_TEST(tamper_delete)
{
	struct chain c;
	struct audit_verify_result res;

	build_chain(&c, 1);
	drop_line(&c, c.ev_line[700]);
	assert_bad(verify_via_file(&c, c.pk, &res), &res, 700,
	    "sequence gap: expected 700, found 701");
	free_chain(&c);
}
END_TEST

START_TEST(tamper_swap)
{
	struct chain c;
	struct audit_verify_result res;
	char *t;

	build_chain(&c, 1);
	t = c.lines[c.ev_line[800]];
	c.lines[c.ev_line[800]] = c.lines[c.ev_line[801]];
	c.lines[c.ev_line[801]] = t;
	assert_bad(verify_via_file(&c, c.pk, &res), &res, 800,
	    "expected 800, found 801");
	free_chain(&c);
}
END_TEST

START_TEST(tamper_checkpoint_sig)
{
	struct chain c;
	struct audit_verify_result res;
	char *p;

	build_chain(&c, 1);
	p = strstr(c.lines[c.cp_line[1]], "\"signature\":\"") + 13;
	*p = *p == 'A' ? 'B' : 'A';
	assert_bad(verify_via_file(&c, c.pk, &res), &res, 1000,
	    "bad checkpoint signature");
	ck_assert_uint_eq(res.events, 1000);
	ck_assert_uint_eq(res.checkpoints, 0);
	free_chain(&c);
}
END_TEST

START_TEST(tamper_checkpoint_hash)
{
	struct chain c;
	struct audit_verify_result res;
	char *p;

	build_chain(&c, 1);
	p = strstr(c.lines[c.cp_line[1]], "\"hash\":\"") + 8;
	*p = *p == '0' ? '1' : '0';
	assert_bad(verify_via_file(&c, c.pk, &res), &res, 1000,
	    "checkpoint 1000 hash does not match");
	free_chain(&c);
}
END_TEST

/* Checkpoint lines may come early, but not long after their event. */
START_TEST(checkpoint_placement)
{
	struct chain c;
	struct audit_verify_result res;
	struct audit_verifier *v;
	struct audit_event ev;
	struct audit_checkpoint cp;
	uint64_t seq;
	char *t;
	size_t i;

	build_chain(&c, 1);
	/* Checkpoint 1000 moved before event 990: held, then settled. */
	t = c.lines[c.cp_line[1]];
	for (i = c.cp_line[1]; i > c.ev_line[990]; i--)
		c.lines[i] = c.lines[i - 1];
	c.lines[c.ev_line[990]] = t;
	ck_assert_int_eq(verify_via_file(&c, c.pk, &res), JIT_OK);
	ck_assert_uint_eq(res.checkpoints, 2);
	free_chain(&c);
	/* Checkpoint 1000 moved after event 2000: within the window. */
	build_chain(&c, 1);
	t = c.lines[c.cp_line[1]];
	for (i = c.cp_line[1]; i < c.ev_line[2000]; i++)
		c.lines[i] = c.lines[i + 1];
	c.lines[c.ev_line[2000]] = t;
	ck_assert_int_eq(verify_via_file(&c, c.pk, &res), JIT_OK);
	ck_assert_uint_eq(res.checkpoints, 2);
	free_chain(&c);

	/* Beyond the window the verifier no longer has the hash. */
	ck_assert_ptr_nonnull((v = audit_verifier_new(NULL)));
	memset(&ev, 0, sizeof(ev));
	ev.actor = ev.action = ev.target = ev.outcome = "x";
	for (seq = 1; seq <= AUDIT_VERIFY_WINDOW + 1; seq++) {
		ev.seq = seq;
		ck_assert_int_eq(audit_event_seal(&ev, ev.hash), JIT_OK);
		if (seq == 1)
			memcpy(cp.hash, ev.hash, 32);
		ck_assert_int_eq(audit_verifier_event(v, &ev), JIT_OK);
	}
	cp.seq = 1;
	cp.ts = 0;
	ck_assert_int_eq(audit_verifier_checkpoint(v, &cp), JIT_ERR_LIMIT);
	ck_assert_int_eq(audit_verifier_finish(v, &res), JIT_ERR_LIMIT);
	assert_bad(JIT_ERR_LIMIT, &res, 1, "too far behind");
	audit_verifier_free(v);
}
END_TEST

/* The log was cut after event 1500; the checkpoint for 2000 remains. */
START_TEST(tamper_truncate)
{
	struct chain c;
	struct audit_verify_result res;
	uint64_t seq;

	build_chain(&c, 1);
	for (seq = 1501; seq <= NEVENTS; seq++)
		drop_line(&c, c.ev_line[seq]);
	ck_assert_int_eq(verify_via_file(&c, c.pk, &res), JIT_ERR_INCOMPLETE);
	assert_bad(JIT_ERR_INCOMPLETE, &res, 2000,
	    "checkpoint 2000 refers to a missing event");
	ck_assert_uint_eq(res.events, 1500);
	ck_assert_uint_eq(res.last_seq, 1500);
	ck_assert_uint_eq(res.checkpoints, 1);
	ck_assert_uint_eq(res.last_checkpoint_seq, 1000);
	free_chain(&c);
}
END_TEST

/* A consistent rewrite of the tail is caught by the signed checkpoint. */
START_TEST(tamper_rewrite_tail)
{
	struct chain c;
	struct audit_verify_result res;
	struct audit_event ev;
	uint8_t prev[32];
	uint64_t seq;

	build_chain(&c, 1);
	for (seq = 1990; seq <= NEVENTS; seq++) {
		ck_assert_int_eq(audit_event_parse(c.lines[c.ev_line[seq]],
		    strlen(c.lines[c.ev_line[seq]]), &ev), JIT_OK);
		if (seq == 1990) {
			ck_assert_int_eq(json_object_set_new(ev.details,
			    "ticket", json_string("nothing to see")), 0);
			memcpy(prev, ev.prev_hash, 32);
		}
		ck_assert_int_eq(audit_event_seal(&ev, prev), JIT_OK);
		memcpy(prev, ev.hash, 32);
		free(c.lines[c.ev_line[seq]]);
		c.lines[c.ev_line[seq]] = audit_event_export_line(&ev);
		audit_event_clear(&ev);
	}
	assert_bad(verify_via_file(&c, c.pk, &res), &res, 2000,
	    "checkpoint 2000 hash does not match");
	ck_assert_uint_eq(res.events, NEVENTS);
	free_chain(&c);
}
END_TEST

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A flip whose line still parses to equal JSON changes no content (the
 * case of a hex digit in a \uXXXX escape); it is not tampering.
 */
static int
content_unchanged(const char *orig, const char *mut, size_t len, size_t pos)
{
	size_t a = pos, b = pos;
	json_t *x, *y;
	int same;

	if (orig[pos] == '\n' || mut[pos] == '\n')
		return 0;
	while (a > 0 && orig[a - 1] != '\n')
		a--;
	while (b < len && orig[b] != '\n')
		b++;
	x = json_loadb(orig + a, b - a, 0, NULL);
	y = json_loadb(mut + a, b - a, 0, NULL);
	same = x != NULL && y != NULL && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

START_TEST(tamper_random_flips)
{
	struct chain c;
	struct audit_verify_result res;
	char *orig, *mut;
	size_t len, pos;
	uint64_t seed, s;
	uint8_t mask;
	int i, neutral = 0;
	const char *env = getenv("JIT_AUDIT_SEED");

	seed = env != NULL ? strtoull(env, NULL, 0) :
	    ((uint64_t)randombytes_random() << 32 | randombytes_random());
	s = seed | 1;
	build_chain(&c, 1);
	orig = join_chain(&c, &len);
	ck_assert_ptr_nonnull((mut = malloc(len + 1)));
	ck_assert_int_eq(verify_buffer(orig, len, c.pk, &res), JIT_OK);
	ck_assert_uint_eq(res.events, NEVENTS);
	for (i = 0; i < 200; i++) {
		memcpy(mut, orig, len + 1);
		pos = (size_t)(xorshift(&s) % len);
		mask = (uint8_t)(1 + xorshift(&s) % 255);
		mut[pos] ^= (char)mask;
		if (content_unchanged(orig, mut, len, pos)) {
			neutral++;
			i--;
			continue;
		}
		ck_assert_msg(verify_buffer(mut, len, i % 2 ? c.pk : NULL,
		    &res) != JIT_OK && !res.ok, "seed %llu: flip %#x at %zu "
		    "verified", (unsigned long long)seed, mask, pos);
		ck_assert_uint_ne(res.first_bad_seq, 0);
	}
	ck_assert_int_lt(neutral, 50);
	free(orig);
	free(mut);
	free_chain(&c);
}
END_TEST

START_TEST(canonical_refusals)
{
	struct audit_event ev;
	json_t *d;
	char *s = NULL, *big;
	size_t len, i;
	static const uint8_t zero[32];
	uint8_t one[32] = { 1 };

	memset(&ev, 0, sizeof(ev));
	ev.seq = 1;
	ev.actor = ev.action = ev.target = ev.outcome = "x";
	/* A real number anywhere in details. */
	ev.details = d = json_pack("{s:[i,{s:f}]}", "a", 1, "r", 1.5);
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_INVALID_ARG);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(audit_event_seal(&ev, zero), JIT_ERR_INVALID_ARG);
	ck_assert_ptr_null(audit_event_export_line(&ev));
	ck_assert_int_eq(audit_details_check(d), JIT_ERR_INVALID_ARG);
	json_decref(d);
	/* details that are not an object; nesting too deep; too large. */
	ev.details = d = json_array();
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_INVALID_ARG);
	json_decref(d);
	ev.details = d = json_object();
	for (i = 0; i < AUDIT_DETAILS_DEPTH_MAX; i++) {
		ck_assert_int_eq(json_object_set_new(d, "x", json_object()),
		    0);
		d = json_object_get(d, "x");
	}
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_LIMIT);
	json_decref(ev.details);
	ck_assert_ptr_nonnull((big = malloc(AUDIT_CANONICAL_MAX + 1)));
	memset(big, 'a', AUDIT_CANONICAL_MAX);
	big[AUDIT_CANONICAL_MAX] = '\0';
	ev.details = d = json_pack("{s:s}", "big", big);
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_LIMIT);
	ck_assert_int_eq(audit_event_seal(&ev, zero), JIT_ERR_LIMIT);
	json_decref(d);
	free(big);
	/* An embedded NUL in a details string would not round-trip. */
	ev.details = d = json_object();
	ck_assert_int_eq(json_object_set_new(d, "n", json_stringn("a\0b", 3)),
	    0);
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_INVALID_ARG);
	json_decref(d);
	ev.details = NULL;
	/* Strings: missing, not UTF-8; seq out of range; seq 1 links to 0. */
	ev.actor = NULL;
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_INVALID_ARG);
	ev.actor = "\xff\xfe";
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_INVALID_ARG);
	ev.actor = "x";
	ev.seq = 0;
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_INVALID_ARG);
	ev.seq = (uint64_t)INT64_MAX + 1;
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_ERR_INVALID_ARG);
	ev.seq = 1;
	ck_assert_int_eq(audit_event_seal(&ev, one), JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(audit_canonical(&ev, &s, &len), JIT_OK);
	ck_assert_str_eq(s, "{\"action\":\"x\",\"actor\":\"x\",\"details\":{},"
	    "\"outcome\":\"x\",\"seq\":1,\"target\":\"x\",\"ts\":0}");
	free(s);
}
END_TEST

/* A valid line with key set to v (deleted if v is NULL); malloc'd. */
static char *
with_field(const char *line, const char *key, json_t *v)
{
	json_t *j = json_loads(line, 0, NULL);
	char *s;

	ck_assert_ptr_nonnull(j);
	if (v == NULL)
		json_object_del(j, key);
	else
		json_object_set_new(j, key, v);
	ck_assert_ptr_nonnull((s = json_dumps(j, JSON_COMPACT)));
	json_decref(j);
	return s;
}

/* Feeds first (may be NULL) then line; the line must be refused. */
static void
refuse(const char *first, const char *line, size_t len, uint64_t bad)
{
	struct audit_verifier *v = audit_verifier_new(NULL);
	struct audit_verify_result res;
	struct audit_event ev;
	struct audit_checkpoint cp;

	ck_assert_ptr_nonnull(v);
	if (first != NULL)
		ck_assert_int_eq(audit_verifier_line(v, first, strlen(first)),
		    JIT_OK);
	ck_assert_int_ne(audit_verifier_line(v, line, len), JIT_OK);
	ck_assert_int_ne(audit_verifier_finish(v, &res), JIT_OK);
	ck_assert_int_eq(res.ok, 0);
	ck_assert_uint_eq(res.first_bad_seq, bad);
	ck_assert(tu_contains(res.reason, "(line "));
	audit_verifier_free(v);
	ck_assert_int_ne(audit_event_parse(line, len, &ev), JIT_OK);
	ck_assert_ptr_null(ev.actor);
	ck_assert_ptr_null(ev.details);
	ck_assert_int_ne(audit_checkpoint_parse(line, len, &cp), JIT_OK);
}

#define REFUSE_NEW(s) do {						\
	char *s_ = (s);							\
	refuse(NULL, s_, strlen(s_), 1);				\
	free(s_);							\
} while (0)
#define REFUSE_LIT(s)	refuse(NULL, (s), sizeof(s) - 1, 1)

START_TEST(malformed_lines)
{
	static const uint8_t zero[32];
	struct audit_event ev;
	struct audit_checkpoint cp;
	struct audit_verify_result res;
	json_t *d;
	char *line, *cpl, *hdr, *big, *dir, *path, sig[89];
	uint8_t pk[32] = { 0 };
	size_t n, i;

	kat_event(&ev, &d);
	ck_assert_int_eq(audit_event_seal(&ev, zero), JIT_OK);
	line = audit_event_export_line(&ev);
	memset(&cp, 0, sizeof(cp));
	cp.seq = 1;
	cpl = audit_checkpoint_export_line(&cp);
	hdr = audit_header_export_line(pk);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(cpl);
	ck_assert_ptr_nonnull(hdr);
	n = strlen(line);

	REFUSE_LIT("not json");
	REFUSE_LIT("[1,2]");
	REFUSE_LIT("\"event\"");
	REFUSE_LIT("{}");
	REFUSE_LIT("\n");
	REFUSE_LIT("{\"type\":\"bogus\"}");
	REFUSE_LIT("{\"type\":7}");
	REFUSE_LIT("{\"type\":\"event\"\0}");
	REFUSE_NEW(with_field(line, "type", json_string("Event")));
	REFUSE_NEW(with_field(line, "seq", json_string("1")));
	REFUSE_NEW(with_field(line, "seq", json_integer(0)));
	REFUSE_NEW(with_field(line, "seq", json_integer(-1)));
	REFUSE_NEW(with_field(line, "seq", json_real(1.0)));
	REFUSE_NEW(with_field(line, "ts", json_string("now")));
	REFUSE_NEW(with_field(line, "ts", json_null()));
	REFUSE_NEW(with_field(line, "actor", json_integer(5)));
	REFUSE_NEW(with_field(line, "details", json_array()));
	REFUSE_NEW(with_field(line, "details", json_pack("{s:f}", "r", 0.5)));
	REFUSE_NEW(with_field(line, "details", json_stringn("a\0b", 3)));
	REFUSE_NEW(with_field(line, "hash", NULL));
	REFUSE_NEW(with_field(line, "details", NULL));
	REFUSE_NEW(with_field(line, "extra", json_true()));
	REFUSE_NEW(with_field(line, "hash", json_integer(0)));
	REFUSE_NEW(with_field(line, "hash", json_string("00")));
	memset(sig, '0', sizeof(sig));
	sig[63] = '\0';
	REFUSE_NEW(with_field(line, "prev_hash", json_string(sig)));
	sig[63] = '0';
	sig[65] = '\0';
	REFUSE_NEW(with_field(line, "prev_hash", json_string(sig)));
	sig[64] = '\0';
	sig[0] = 'A';
	REFUSE_NEW(with_field(line, "prev_hash", json_string(sig)));
	sig[0] = 'g';
	REFUSE_NEW(with_field(line, "hash", json_string(sig)));
	/* Valid: the same all-zero prev_hash the event really has. */
	sig[0] = '0';
	big = with_field(line, "prev_hash", json_string(sig));
	ck_assert_int_eq(audit_event_parse(big, strlen(big), &ev), JIT_OK);
	audit_event_clear(&ev);
	free(big);
	/* Duplicate keys, at the top and inside details. */
	REFUSE_NEW(strdup("{\"seq\":1,\"seq\":1}"));
	ck_assert_ptr_nonnull((big = malloc(n + 16)));
	snprintf(big, n + 16, "{\"seq\":1,%s", line + 1);
	REFUSE_NEW(big);
	ck_assert_ptr_nonnull((big = malloc(n + 16)));
	i = (size_t)(strstr(line, "\"details\":{") + 11 - line);
	snprintf(big, n + 16, "%.*s\"b\":true,%s", (int)i, line, line + i);
	REFUSE_NEW(big);
	/* Trailing data, two objects, every truncation. */
	ck_assert_ptr_nonnull((big = malloc(2 * n + 4)));
	snprintf(big, 2 * n + 4, "%.*s x\n", (int)(n - 1), line);
	REFUSE_NEW(big);
	ck_assert_ptr_nonnull((big = malloc(2 * n + 4)));
	snprintf(big, 2 * n + 4, "%.*s%s", (int)(n - 1), line, line);
	REFUSE_NEW(big);
	for (i = 0; i < n - 2; i++)
		refuse(NULL, line, i, 1);
	/* Checkpoints and headers. */
	REFUSE_NEW(with_field(cpl, "seq", json_integer(0)));
	REFUSE_NEW(with_field(cpl, "signature", json_string("!!!!")));
	REFUSE_NEW(with_field(cpl, "signature", json_string("AAAA")));
	REFUSE_NEW(with_field(cpl, "signature", NULL));
	REFUSE_NEW(with_field(cpl, "hash", json_string("00")));
	REFUSE_NEW(with_field(hdr, "version", json_integer(2)));
	REFUSE_NEW(with_field(hdr, "key", json_string("AAAA")));
	REFUSE_NEW(with_field(hdr, "extra", json_null()));
	refuse(line, hdr, strlen(hdr), 2);	/* header after an event */
	ck_assert_int_eq(audit_checkpoint_parse(cpl, strlen(cpl), &cp),
	    JIT_OK);
	ck_assert_uint_eq(cp.seq, 1);
	/* Overlong, in memory and in a file. */
	ck_assert_ptr_nonnull((big = malloc(2 * AUDIT_LINE_MAX + 2)));
	memset(big, ' ', 2 * AUDIT_LINE_MAX + 1);
	memcpy(big + 2 * AUDIT_LINE_MAX + 1 - n, line, n);
	big[2 * AUDIT_LINE_MAX + 1] = '\0';
	refuse(NULL, big + AUDIT_LINE_MAX, AUDIT_LINE_MAX + 1, 1);
	dir = tu_mkdtemp("audit");
	path = tu_path(dir, "long.jsonl");
	tu_write_file(path, big, 2 * AUDIT_LINE_MAX + 1, 0600);
	ck_assert_int_eq(audit_verify_file(path, NULL, &res), JIT_ERR_LIMIT);
	ck_assert(tu_contains(res.reason, "line too long"));
	ck_assert_int_eq(audit_verify_file("/nonexistent/x", NULL, &res),
	    JIT_ERR_NOT_FOUND);
	ck_assert_int_eq(res.ok, 0);
	tu_rmdir(dir);
	free(dir);
	free(path);
	free(big);
	free(line);
	free(cpl);
	free(hdr);
	json_decref(d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, kat_canonical_and_hash);
	tcase_add_test(tc, kat_checkpoint_signature);
	tcase_add_test(tc, chain_verifies);
	tcase_add_test(tc, verifier_structs);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, format_independent);
	tcase_add_test(tc, tamper_details);
	tcase_add_test(tc, tamper_delete);
	tcase_add_test(tc, tamper_swap);
	tcase_add_test(tc, tamper_checkpoint_sig);
	tcase_add_test(tc, tamper_checkpoint_hash);
	tcase_add_test(tc, checkpoint_placement);
	tcase_add_test(tc, tamper_truncate);
	tcase_add_test(tc, tamper_rewrite_tail);
	tcase_add_test(tc, tamper_random_flips);
	tcase_add_test(tc, canonical_refusals);
	tcase_add_test(tc, malformed_lines);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
