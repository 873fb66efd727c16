/*
 * OpenID Connect login, in-process jitd with an injected clock over real
 * HTTP: the test generates RSA-2048, P-256 and Ed25519 keys, writes their
 * JWKS, signs ID tokens with OpenSSL, and tries every trick in the book;
 * each is refused with the same 401 body and audited with its reason.
 * Valid tokens of each key type log in, create federated users and map
 * groups; a replay (also with a re-encoded ECDSA signature) is refused;
 * a jwks_url is fetched over TLS and refetched on an unknown kid at most
 * once a minute; bad provider configs stop jitd from starting.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "broker/config.h"
#include "broker/instance.h"
#include "broker/serve.h"
#include "broker/server.h"
#include "common/audit_chain.h"
#include "common/clock.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/oidcfix.h"
#include "tests/lib/testutil.h"

#define ISS	"https://idp.corp.example"
#define ISS2	"https://linked.corp.example"
#define AUD	"jitd-test"

static struct of_key rsa, ec, ed, rogue;
static int64_t fake_now;
static char *tmp, *inst, *cfgpath, *base, alice_b32[64];
static struct server *srv;

static int64_t
fake_clock(void)
{
	return fake_now;
}

static void
add_user(const char *name, const char *groups, char *b32)
{
	char *pwf = tu_path(tmp, "pw"), *jitd = tu_bin("jitd");
	char *argv[] = { jitd, "-c", cfgpath, "user", "add", (char *)name,
	    "--groups", (char *)groups, "--password-file", pwf, NULL };
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, "correct horse battery\n", 22, 0600);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	ck_assert_ptr_nonnull(s = strstr(o.out, "totp_secret: "));
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", b32), 1);
	tu_out_free(&o);
	free(pwf);
	free(jitd);
}

static json_t *
providers(void)
{
	return json_pack("[{s:s,s:s,s:s,s:s,s:s,s:[s]},"
	    "{s:s,s:s,s:s,s:s,s:b,s:b,s:[s]}]",
	    "name", "corp", "issuer", ISS, "audience", AUD, "jwks_file",
	    "jwks.json", "groups_claim", "groups", "acr_values",
	    "urn:corp:mfa",
	    "name", "linked", "issuer", ISS2, "audience", AUD, "jwks_file",
	    "jwks.json", "link_existing", 1, "create_users", 0, "algorithms",
	    "ES256");
}

static void
write_config(json_t *oidc)
{
	json_t *c = json_load_file(cfgpath, 0, NULL);

	ck_assert_ptr_nonnull(c);
	json_object_set_new(c, "oidc", oidc);
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
}

static void
setup(void)
{
	const struct of_key *ks[] = { &rsa, &ec, &ed };
	char *err = NULL, *jwks, *jp, listen[64];
	json_t *c;
	int port = tu_free_port();

	tmp = tu_mkdtemp("oidc");
	inst = tu_path(tmp, "inst");
	cfgpath = tu_path(inst, "jitd.json");
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	ck_assert_ptr_nonnull(c = json_load_file(cfgpath, 0, NULL));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "threads", json_integer(2));
	/* Dozens of refused tokens from one address: no per-address limit. */
	json_object_set_new(c, "login_limits", json_pack("{s:i}", "ip_burst",
	    0));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	jwks = of_jwks(ks, 3);
	jp = tu_path(inst, "jwks.json");
	tu_write_file(jp, jwks, strlen(jwks), 0644);
	free(jwks);
	free(jp);
	write_config(providers());
	add_user("alice", "eng", alice_b32);
	fake_now = (time(NULL) / 30) * 30 + 5;
	jit_clock_set(fake_clock);
	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
	if (asprintf(&base, "http://127.0.0.1:%d", port) == -1)
		abort();
}

static void
teardown(void)
{
	serve_close(srv);
	srv = NULL;
	jit_clock_set(NULL);
	tu_rmdir(tmp);
	free(tmp);
	free(inst);
	free(cfgpath);
	free(base);
}

static void
req(const char *method, const char *path, const char *token,
    const char *body, struct tu_resp *r)
{
	char url[512];

	snprintf(url, sizeof(url), "%s%s", base, path);
	ck_assert_int_eq(tu_http(method, url, token, body, body != NULL ?
	    strlen(body) : 0, NULL, NULL, NULL, r), 0);
}

static void
post_token(const char *tok, struct tu_resp *r)
{
	json_t *b = json_pack("{s:s}", "id_token", tok);
	char *s = json_dumps(b, JSON_COMPACT);

	req("POST", "/v1/login/oidc", NULL, s, r);
	free(s);
	json_decref(b);
}

/* Valid claims for user from ISS, MFA by amr. */
static json_t *
claims(const char *user)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:[sss],"
	    "s:[ssss]}", "iss", ISS, "aud", AUD, "sub", "sub-1234",
	    "preferred_username", user, "iat", (json_int_t)fake_now - 5,
	    "nbf", (json_int_t)fake_now - 5, "exp", (json_int_t)fake_now + 300,
	    "auth_time", (json_int_t)fake_now - 10, "amr", "pwd", "otp", "mfa",
	    "groups", "eng", "Bad Group!", "sre", "eng");
}

static char *
sign_claims(const struct of_key *k, json_t *c)
{
	char *t = of_sign(k, NULL, c);

	json_decref(c);
	return t;
}

/* Header text + claims text signed by k (for hand-made headers). */
static char *
sign_text(const struct of_key *k, const char *header, const char *cl)
{
	char *h = of_b64url(header, strlen(header));
	char *c = of_b64url(cl, strlen(cl)), *msg, *sb, *out;
	uint8_t *sig;
	size_t sl;

	if (asprintf(&msg, "%s.%s", h, c) == -1)
		abort();
	of_sign_raw(k, msg, &sig, &sl);
	sb = of_b64url(sig, sl);
	if (asprintf(&out, "%s.%s", msg, sb) == -1)
		abort();
	free(h);
	free(c);
	free(msg);
	free(sb);
	free(sig);
	return out;
}

static char *
claims_text(const char *user)
{
	json_t *c = claims(user);
	char *s = json_dumps(c, JSON_COMPACT);

	json_decref(c);
	return s;
}

/* The reasons of the login.oidc events after seq, in order. */
struct reasons {
	json_t	*list;
	json_t	*outcomes;
};

static int
collect(void *arg, const struct audit_event *ev)
{
	struct reasons *r = arg;

	json_array_append_new(r->list, json_string(json_string_value(
	    json_object_get(ev->details, "reason"))));
	json_array_append_new(r->outcomes, json_string(ev->outcome));
	return 0;
}

static void
audit_reasons(uint64_t after, struct reasons *r)
{
	struct store_audit_filter f;

	memset(&f, 0, sizeof(f));
	f.action = "login.oidc";
	f.after = after;
	f.limit = 1000;
	r->list = json_array();
	r->outcomes = json_array();
	ck_assert_int_eq(store_audit_query(srv->store, &f, collect, r),
	    JIT_OK);
}

START_TEST(valid_tokens_each_key_type)
{
	static const char *const users[] = { "rsuser", "ecuser", "eduser" };
	const struct of_key *ks[] = { &rsa, &ec, &ed };
	struct store_user u;
	struct tu_resp r, me;
	json_t *g, *m;
	char *t;
	int i;

	for (i = 0; i < 3; i++) {
		t = sign_claims(ks[i], claims(users[i]));
		post_token(t, &r);
		ck_assert_msg(r.status == 200, "%s: %s", ks[i]->alg, r.body);
		ck_assert_str_eq(tu_jstr(&r, "user"), users[i]);
		req("GET", "/v1/me", tu_jstr(&r, "token"), NULL, &me);
		ck_assert_int_eq(me.status, 200);
		ck_assert_str_eq(tu_jstr(&me, "user"), users[i]);
		g = json_object_get(me.json, "groups");
		ck_assert_int_eq(json_array_size(g), 2);
		ck_assert_str_eq(json_string_value(json_array_get(g, 0)),
		    "eng");
		ck_assert_str_eq(json_string_value(json_array_get(g, 1)),
		    "sre");
		m = json_object_get(me.json, "methods");
		ck_assert_int_eq(json_array_size(m), 4);
		ck_assert_str_eq(json_string_value(json_array_get(m, 0)),
		    "oidc");
		ck_assert_str_eq(json_string_value(json_array_get(m, 1)),
		    "mfa");
		ck_assert_str_eq(json_string_value(json_array_get(m, 2)),
		    "pwd");
		ck_assert_str_eq(json_string_value(json_array_get(m, 3)),
		    "otp");
		ck_assert_int_eq(json_integer_value(json_object_get(me.json,
		    "auth_time")), fake_now - 10);
		ck_assert(json_is_true(json_object_get(me.json,
		    "mfa_fresh")));
		tu_resp_free(&me);
		tu_resp_free(&r);
		free(t);
		ck_assert_int_eq(store_user_get(srv->store, users[i], &u),
		    JIT_OK);
		ck_assert_int_eq(u.federated, 1);
		ck_assert_str_eq(u.pwhash, "");
		ck_assert_uint_eq(u.totp_sealed_len, 0);
	}
	/* Leeway: expired 30 s ago is still inside the 60 s. */
	{
		json_t *c = claims("eduser");

		json_object_set_new(c, "exp", json_integer(fake_now - 30));
		t = sign_claims(&ed, c);
		post_token(t, &r);
		ck_assert_int_eq(r.status, 200);
		tu_resp_free(&r);
		free(t);
	}
	/* MFA by acr; the session still counts as MFA. */
	{
		json_t *c = claims("rsuser");

		json_object_set_new(c, "amr", json_pack("[s]", "pwd"));
		json_object_set_new(c, "acr", json_string("urn:corp:mfa"));
		t = sign_claims(&rsa, c);
		post_token(t, &r);
		ck_assert_msg(r.status == 200, "%s", r.body);
		m = json_object_get(r.json, "methods");
		ck_assert_int_eq(json_array_size(m), 3);
		req("GET", "/v1/me", tu_jstr(&r, "token"), NULL, &me);
		ck_assert(json_is_true(json_object_get(me.json,
		    "mfa_fresh")));
		/* Stale after mfa_max_age (15 min) like any session. */
		fake_now += 16 * 60;
		tu_resp_free(&me);
		req("GET", "/v1/me", tu_jstr(&r, "token"), NULL, &me);
		ck_assert(json_is_false(json_object_get(me.json,
		    "mfa_fresh")));
		tu_resp_free(&me);
		/* No TOTP to step up with: a clear answer. */
		req("POST", "/v1/mfa", tu_jstr(&r, "token"),
		    "{\"otp\":\"123456\"}", &me);
		ck_assert_int_eq(me.status, 401);
		ck_assert(tu_contains(tu_jstr(&me, "message"),
		    "log in again with your identity provider"));
		tu_resp_free(&me);
		tu_resp_free(&r);
		free(t);
	}
	/* A federated user has no password. */
	req("POST", "/v1/login", NULL, "{\"user\":\"rsuser\",\"password\":"
	    "\"\",\"otp\":\"123456\"}", &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	/* The providers as the CLI sees them. */
	req("GET", "/v1/login/oidc/providers", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	g = json_object_get(r.json, "providers");
	ck_assert_int_eq(json_array_size(g), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(g,
	    0), "client_id")), AUD);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(g,
	    0), "issuer")), ISS);
	tu_resp_free(&r);
}
END_TEST

/* A listener that must never see a connection (jku, x5u). */
static int
trap_listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s, 8), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return s;
}

struct trick {
	const char	*name;
	char		*token;
	const char	*reason;	/* substring of the audited reason */
};

static void
with_claim(struct trick *t, const struct of_key *k, const char *key,
    json_t *v)
{
	json_t *c = claims("mallory");

	if (v == NULL)
		json_object_del(c, key);
	else
		json_object_set_new(c, key, v);
	t->token = sign_claims(k, c);
}

START_TEST(every_trick_refused)
{
	struct trick tr[48];
	struct tu_resp r, first;
	struct reasons rs;
	char hdr[1024], *cl, *pem = NULL, url[128];
	uint64_t head;
	size_t n = 0, i;
	int trap, tport;

	cl = claims_text("mallory");
	trap = trap_listener(&tport);
	memset(tr, 0, sizeof(tr));
	/* alg none, with and without a signature. */
	tr[n].name = "alg none";
	tr[n].token = of_compact("{\"alg\":\"none\",\"typ\":\"JWT\"}", cl,
	    NULL, 0);
	tr[n++].reason = "signature is missing";
	tr[n].name = "alg none with bytes";
	tr[n].token = of_compact("{\"alg\":\"none\"}", cl,
	    (const uint8_t *)"xx", 2);
	tr[n++].reason = "alg not supported";
	/* HS256 keyed with the RSA public key (the classic confusion). */
	{
		BIO *b = BIO_new(BIO_s_mem());
		char *h, *c, *msg, *sb;
		uint8_t mac[32];
		size_t ml = 0;
		long pl;

		ck_assert_int_eq(PEM_write_bio_PUBKEY(b, rsa.pk), 1);
		pl = BIO_get_mem_data(b, &pem);
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\"}",
		    rsa.kid);
		h = of_b64url(hdr, strlen(hdr));
		c = of_b64url(cl, strlen(cl));
		ck_assert(asprintf(&msg, "%s.%s", h, c) > 0);
		ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256",
		    NULL, pem, (size_t)pl, (uint8_t *)msg, strlen(msg), mac,
		    sizeof(mac), &ml));
		sb = of_b64url(mac, ml);
		ck_assert(asprintf(&tr[n].token, "%s.%s", msg, sb) > 0);
		tr[n].name = "HS256 with the public key";
		tr[n++].reason = "alg not supported";
		free(h);
		free(c);
		free(msg);
		free(sb);
		BIO_free(b);
	}
	/* Unknown kid; known kid with another key's signature. */
	tr[n].name = "wrong kid";
	tr[n].token = sign_claims(&rogue, claims("mallory"));
	tr[n++].reason = "unknown kid";
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\"}",
	    rsa.kid);
	tr[n].name = "rogue key, real kid";
	tr[n].token = sign_text(&rogue, hdr, cl);
	tr[n++].reason = "signature does not verify";
	/* ES256 claimed with the RSA key's kid. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}",
	    rsa.kid);
	tr[n].name = "alg/key type mismatch";
	tr[n].token = sign_text(&ec, hdr, cl);
	tr[n++].reason = "alg does not match the key type";
	/* Times. */
	tr[n].name = "expired";
	with_claim(&tr[n], &rsa, "exp", json_integer(fake_now - 61));
	tr[n++].reason = "expired";
	tr[n].name = "not yet valid";
	with_claim(&tr[n], &ec, "nbf", json_integer(fake_now + 120));
	tr[n++].reason = "not yet valid";
	tr[n].name = "iat in the future";
	with_claim(&tr[n], &ed, "iat", json_integer(fake_now + 120));
	tr[n++].reason = "issued in the future";
	tr[n].name = "auth_time in the future";
	with_claim(&tr[n], &ed, "auth_time", json_integer(fake_now + 600));
	tr[n++].reason = "auth_time in the future";
	tr[n].name = "no exp";
	with_claim(&tr[n], &ed, "exp", NULL);
	tr[n++].reason = "exp or iat missing";
	tr[n].name = "exp as a string";
	with_claim(&tr[n], &ed, "exp", json_string("9999999999"));
	tr[n++].reason = "time claim malformed";
	/* Issuer and audience. */
	tr[n].name = "wrong issuer";
	with_claim(&tr[n], &rsa, "iss", json_string("https://evil.example"));
	tr[n++].reason = "wrong issuer";
	tr[n].name = "wrong audience";
	with_claim(&tr[n], &rsa, "aud", json_string("someone-else"));
	tr[n++].reason = "wrong audience";
	tr[n].name = "several audiences, no azp";
	with_claim(&tr[n], &rsa, "aud", json_pack("[ss]", AUD, "other"));
	tr[n++].reason = "several audiences and no azp";
	{
		json_t *c = claims("mallory");

		json_object_set_new(c, "aud", json_pack("[ss]", AUD,
		    "other"));
		json_object_set_new(c, "azp", json_string("other"));
		tr[n].name = "azp mismatch";
		tr[n].token = sign_claims(&ec, c);
		tr[n++].reason = "azp is not our client id";
	}
	/* MFA. */
	tr[n].name = "no amr";
	with_claim(&tr[n], &rsa, "amr", NULL);
	tr[n++].reason = "no MFA asserted";
	tr[n].name = "amr without mfa";
	with_claim(&tr[n], &rsa, "amr", json_pack("[s]", "pwd"));
	tr[n++].reason = "no MFA asserted";
	tr[n].name = "acr not in the list";
	{
		json_t *c = claims("mallory");

		json_object_set_new(c, "amr", json_pack("[s]", "pwd"));
		json_object_set_new(c, "acr", json_string("urn:weak"));
		tr[n].token = sign_claims(&rsa, c);
		tr[n++].reason = "no MFA asserted";
	}
	/* User names. */
	tr[n].name = "invalid user name";
	with_claim(&tr[n], &rsa, "preferred_username",
	    json_string("Mallory Smith"));
	tr[n++].reason = "not a valid jitd user name";
	tr[n].name = "no user name";
	with_claim(&tr[n], &rsa, "preferred_username", NULL);
	tr[n++].reason = "username claim missing";
	/* Truncated, oversized, malformed. */
	{
		char *t = sign_claims(&rsa, claims("mallory"));

		t[strlen(t) - 7] = '\0';
		tr[n].name = "truncated";
		tr[n].token = t;
		tr[n++].reason = "signature";
	}
	{
		json_t *c = claims("mallory");
		char *pad = malloc(17000);

		memset(pad, 'A', 16999);
		pad[16999] = '\0';
		json_object_set_new(c, "pad", json_string(pad));
		free(pad);
		tr[n].name = "oversized";
		tr[n].token = sign_claims(&rsa, c);
		tr[n++].reason = "token too large";
	}
	tr[n].name = "two parts";
	tr[n].token = strdup("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0");
	tr[n++].reason = "three parts";
	tr[n].name = "four parts";
	tr[n].token = strdup("a.b.c.d");
	tr[n++].reason = "three parts";
	tr[n].name = "not base64url";
	tr[n].token = strdup("e30.e30.!!!!");
	tr[n++].reason = "not base64url";
	/* ECDSA r = s = 0, r = s = n, wrong length. */
	{
		static const uint8_t order[32] = { 0xff, 0xff, 0xff, 0xff, 0,
		    0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3,
		    0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51 };
		uint8_t sig[64];

		snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}",
		    ec.kid);
		memset(sig, 0, sizeof(sig));
		tr[n].name = "ECDSA r = s = 0";
		tr[n].token = of_compact(hdr, cl, sig, 64);
		tr[n++].reason = "r or s out of range";
		memcpy(sig, order, 32);
		memcpy(sig + 32, order, 32);
		tr[n].name = "ECDSA r = s = n";
		tr[n].token = of_compact(hdr, cl, sig, 64);
		tr[n++].reason = "r or s out of range";
		tr[n].name = "ECDSA 63 bytes";
		tr[n].token = of_compact(hdr, cl, sig, 63);
		tr[n++].reason = "wrong length";
	}
	/* Headers that must never be obeyed. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\","
	    "\"crit\":[\"exp\"],\"exp\":1}", rsa.kid);
	tr[n].name = "crit";
	tr[n].token = sign_text(&rsa, hdr, cl);
	tr[n++].reason = "crit header refused";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/jwks", tport);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\","
	    "\"jku\":\"%s\"}", rogue.kid, url);
	tr[n].name = "jku";
	tr[n].token = sign_text(&rogue, hdr, cl);
	tr[n++].reason = "jku/x5u/jwk/x5c header refused";
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\","
	    "\"x5u\":\"%s\"}", rogue.kid, url);
	tr[n].name = "x5u";
	tr[n].token = sign_text(&rogue, hdr, cl);
	tr[n++].reason = "jku/x5u/jwk/x5c header refused";
	{
		json_t *h = json_pack("{s:s,s:s,s:o}", "alg", "RS256", "kid",
		    rogue.kid, "jwk", of_jwk(&rogue));

		json_t *c = claims("mallory");

		tr[n].name = "embedded jwk";
		tr[n].token = of_sign(&rogue, h, c);
		json_decref(c);
		json_decref(h);
		tr[n++].reason = "jku/x5u/jwk/x5c header refused";
	}
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\","
	    "\"x5c\":[\"MIIB\"]}", rsa.kid);
	tr[n].name = "x5c";
	tr[n].token = sign_text(&rsa, hdr, cl);
	tr[n++].reason = "jku/x5u/jwk/x5c header refused";
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\","
	    "\"typ\":\"at+jwt\"}", rsa.kid);
	tr[n].name = "access token typ";
	tr[n].token = sign_text(&rsa, hdr, cl);
	tr[n++].reason = "typ is not JWT";
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\","
	    "\"zip\":\"DEF\"}", rsa.kid);
	tr[n].name = "unknown header parameter";
	tr[n].token = sign_text(&rsa, hdr, cl);
	tr[n++].reason = "unknown header parameter";
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"alg\":\"none\","
	    "\"kid\":\"%s\"}", rsa.kid);
	tr[n].name = "duplicate header member";
	tr[n].token = sign_text(&rsa, hdr, cl);
	tr[n++].reason = "header is not a JSON object";
	{
		/* Duplicate claims: which "aud" would win? Neither. */
		char *dup;

		ck_assert(asprintf(&dup, "{\"aud\":\"evil\",%s", cl + 1) > 0);
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\"}",
		    rsa.kid);
		tr[n].name = "duplicate claims";
		tr[n].token = sign_text(&rsa, hdr, dup);
		tr[n++].reason = "claims are not a JSON object";
		free(dup);
	}
	{
		/* EdDSA with the payload swapped after signing. */
		char *good = sign_claims(&ed, claims("mallory"));
		char *other = claims_text("root0");
		char *ob = of_b64url(other, strlen(other));
		char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');

		*d1 = '\0';
		ck_assert(asprintf(&tr[n].token, "%s.%s%s", good, ob, d2) > 0);
		tr[n].name = "payload swapped";
		tr[n++].reason = "signature does not verify";
		free(good);
		free(other);
		free(ob);
	}
	ck_assert_uint_le(n, sizeof(tr) / sizeof(tr[0]));
	head = store_audit_head(srv->store);
	for (i = 0; i < n; i++) {
		post_token(tr[i].token, &r);
		ck_assert_msg(r.status == 401, "%s: %ld %s", tr[i].name,
		    r.status, r.body);
		if (i == 0)
			first = r;
		else {
			ck_assert_str_eq(r.body, first.body);
			tu_resp_free(&r);
		}
	}
	ck_assert_str_eq(tu_jstr(&first, "error"), "unauthorized");
	tu_resp_free(&first);
	/* Every refusal audited, with its reason, in order. */
	audit_reasons(head, &rs);
	ck_assert_uint_eq(json_array_size(rs.list), n);
	for (i = 0; i < n; i++) {
		const char *got = json_string_value(json_array_get(rs.list,
		    i));

		ck_assert_str_eq(json_string_value(json_array_get(
		    rs.outcomes, i)), "failed");
		ck_assert_msg(got != NULL && strstr(got, tr[i].reason) !=
		    NULL, "%s: audited reason \"%s\", want \"%s\"",
		    tr[i].name, got != NULL ? got : "(none)", tr[i].reason);
		free(tr[i].token);
	}
	json_decref(rs.list);
	json_decref(rs.outcomes);
	/* Nobody was created, and nothing was fetched from jku/x5u. */
	{
		struct store_user u;

		ck_assert_int_eq(store_user_get(srv->store, "mallory", &u),
		    JIT_ERR_NOT_FOUND);
		ck_assert_int_eq(accept(trap, NULL, NULL), -1);
		ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	close(trap);
	free(cl);
}
END_TEST

START_TEST(replay_refused)
{
	struct tu_resp r;
	struct reasons rs;
	uint64_t head;
	char *t, *t2, *dot;
	uint8_t *sig = NULL;
	size_t sl = 0;
	BIGNUM *s, *n = NULL;

	t = sign_claims(&ec, claims("ecuser"));
	post_token(t, &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	head = store_audit_head(srv->store);
	post_token(t, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	/* The same token with s replaced by n - s verifies, and is a replay. */
	dot = strrchr(t, '.');
	ck_assert_int_eq(sodium_base642bin(sig = malloc(64), 64, dot + 1,
	    strlen(dot + 1), NULL, &sl, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	ck_assert_uint_eq(sl, 64);
	ck_assert_ptr_nonnull(s = BN_bin2bn(sig + 32, 32, NULL));
	ck_assert_int_ne(BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6F"
	    "AADA7179E84F3B9CAC2FC632551"), 0);
	ck_assert_int_eq(BN_sub(s, n, s), 1);
	ck_assert_int_eq(BN_bn2binpad(s, sig + 32, 32), 32);
	*dot = '\0';
	{
		char *sb = of_b64url(sig, 64);

		ck_assert(asprintf(&t2, "%s.%s", t, sb) > 0);
		free(sb);
	}
	post_token(t2, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	audit_reasons(head, &rs);
	ck_assert_uint_eq(json_array_size(rs.list), 2);
	ck_assert_str_eq(json_string_value(json_array_get(rs.list, 0)),
	    "token replayed");
	ck_assert_str_eq(json_string_value(json_array_get(rs.list, 1)),
	    "token replayed");
	json_decref(rs.list);
	json_decref(rs.outcomes);
	BN_free(s);
	BN_free(n);
	free(sig);
	free(t);
	free(t2);
}
END_TEST

static json_t *
claims2(const char *user)
{
	json_t *c = claims(user);

	json_object_set_new(c, "iss", json_string(ISS2));
	return c;
}

START_TEST(local_users_and_linking)
{
	struct tu_resp r, me;
	struct reasons rs;
	uint64_t head;
	char *t;

	head = store_audit_head(srv->store);
	/* corp does not link: a local alice is not taken over. */
	t = sign_claims(&rsa, claims("alice"));
	post_token(t, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	free(t);
	/* linked does (ES256 only, no groups claim, no user creation). */
	t = sign_claims(&ec, claims2("alice"));
	post_token(t, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	req("GET", "/v1/me", tu_jstr(&r, "token"), NULL, &me);
	ck_assert_str_eq(tu_jstr(&me, "user"), "alice");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
	    me.json, "groups"), 0)), "eng");
	ck_assert_int_eq(json_array_size(json_object_get(me.json, "groups")),
	    1);
	tu_resp_free(&me);
	tu_resp_free(&r);
	free(t);
	t = sign_claims(&ec, claims2("zed"));
	post_token(t, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	free(t);
	t = sign_claims(&rsa, claims2("alice"));	/* RS256 not allowed */
	post_token(t, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	free(t);
	audit_reasons(head, &rs);
	ck_assert_uint_eq(json_array_size(rs.list), 4);
	ck_assert(tu_contains(json_string_value(json_array_get(rs.list, 0)),
	    "a local user has this name"));
	ck_assert_str_eq(json_string_value(json_array_get(rs.list, 1)), "ok");
	ck_assert(tu_contains(json_string_value(json_array_get(rs.list, 2)),
	    "create_users is off"));
	ck_assert(tu_contains(json_string_value(json_array_get(rs.list, 3)),
	    "wrong issuer"));
	json_decref(rs.list);
	json_decref(rs.outcomes);
}
END_TEST

START_TEST(jwks_url_refetch)
{
	const struct of_key *one[] = { &rsa }, *two[] = { &rsa, &ec };
	struct of_idp *idp = of_idp_start(tmp, 1);
	struct tu_resp r;
	char *err = NULL, *jw, url[128], *t;
	json_t *p;

	serve_close(srv);
	srv = NULL;
	{
		/* A new port: the old one may linger in TIME_WAIT. */
		json_t *c = json_load_file(cfgpath, 0, NULL);
		int port = tu_free_port();
		char listen[64];

		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
		json_object_set_new(c, "listen", json_string(listen));
		ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)),
		    0);
		json_decref(c);
		free(base);
		if (asprintf(&base, "http://127.0.0.1:%d", port) == -1)
			abort();
	}
	jw = of_jwks(one, 1);
	of_idp_set_jwks(idp, jw);
	free(jw);
	snprintf(url, sizeof(url), "%s/jwks", of_idp_base(idp));
	p = json_pack("[{s:s,s:s,s:s,s:s,s:s}]", "name", "remote", "issuer",
	    ISS, "audience", AUD, "jwks_url", url, "jwks_ca_file",
	    of_idp_ca(idp));
	write_config(p);
	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
	ck_assert_uint_eq(of_idp_jwks_fetches(idp), 0);	/* lazily */
	t = sign_claims(&rsa, claims("rsuser"));
	post_token(t, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	tu_resp_free(&r);
	free(t);
	ck_assert_uint_eq(of_idp_jwks_fetches(idp), 1);
	/* The IdP rotates in a new key; within a minute no refetch. */
	jw = of_jwks(two, 2);
	of_idp_set_jwks(idp, jw);
	free(jw);
	t = sign_claims(&ec, claims("ecuser"));
	post_token(t, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	free(t);
	ck_assert_uint_eq(of_idp_jwks_fetches(idp), 1);
	/* A minute later an unknown kid refetches once. */
	fake_now += 61;
	t = sign_claims(&ec, claims("ecuser"));
	post_token(t, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	tu_resp_free(&r);
	free(t);
	ck_assert_uint_eq(of_idp_jwks_fetches(idp), 2);
	/* A stream of unknown kids does not hammer the IdP. */
	for (int i = 0; i < 5; i++) {
		t = sign_claims(&rogue, claims("rsuser"));
		post_token(t, &r);
		ck_assert_int_eq(r.status, 401);
		tu_resp_free(&r);
		free(t);
	}
	ck_assert_uint_eq(of_idp_jwks_fetches(idp), 2);
	of_idp_stop(idp);
}
END_TEST

/* Expects config_load to refuse oidc with a message containing want. */
static void
refused(json_t *oidc, const char *want)
{
	struct config *c = NULL;
	char *err = NULL;

	write_config(oidc);
	ck_assert_int_ne(config_load(cfgpath, &c, &err), JIT_OK);
	ck_assert_ptr_null(c);
	ck_assert_msg(err != NULL && strstr(err, want) != NULL,
	    "want \"%s\", got \"%s\"", want, err != NULL ? err : "(null)");
	free(err);
}

START_TEST(bad_provider_config_refused)
{
	struct of_key weak;
	char *jitd = tu_bin("jitd"), *jp, *jw;
	char *argv[] = { jitd, "-c", cfgpath, "serve", NULL };
	const struct of_key *wk[] = { &weak };
	struct tu_out o;

	refused(json_pack("[{s:s,s:s}]", "issuer", ISS, "jwks_file",
	    "jwks.json"), "audience must be a non-empty string");
	refused(json_pack("[{s:s,s:s,s:s}]", "issuer", "", "audience", AUD,
	    "jwks_file", "jwks.json"), "issuer must be a non-empty string");
	refused(json_pack("[{s:s,s:s,s:s}]", "issuer", ISS, "audience", "",
	    "jwks_file", "jwks.json"), "audience must be a non-empty string");
	refused(json_pack("[{s:s,s:s}]", "issuer", ISS, "audience", AUD),
	    "exactly one of");
	refused(json_pack("[{s:s,s:s,s:s}]", "issuer", ISS, "audience", AUD,
	    "jwks_url", "http://idp.example/jwks"), "https:// URL");
	refused(json_pack("[{s:s,s:s,s:s,s:[s]}]", "issuer", ISS, "audience",
	    AUD, "jwks_file", "jwks.json", "algorithms", "HS256"),
	    "algorithms");
	refused(json_pack("[{s:s,s:s,s:s,s:b}]", "issuer", ISS, "audience",
	    AUD, "jwks_file", "jwks.json", "lnk_existing", 1),
	    "unknown key \"lnk_existing\"");
	refused(json_pack("{s:s}", "issuer", ISS), "must be an array");
	/* A 1024-bit RSA key in the JWKS. */
	weak.alg = "RS256";
	snprintf(weak.kid, sizeof(weak.kid), "weak");
	ck_assert_ptr_nonnull(weak.pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024));
	jw = of_jwks(wk, 1);
	jp = tu_path(inst, "weak.json");
	tu_write_file(jp, jw, strlen(jw), 0644);
	refused(json_pack("[{s:s,s:s,s:s}]", "issuer", ISS, "audience", AUD,
	    "jwks_file", "weak.json"), "2048");
	of_key_free(&weak);
	free(jw);
	/* Private key material published by mistake. */
	jw = "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\",\"d\":"
	    "\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}]}";
	tu_write_file(jp, jw, strlen(jw), 0644);
	refused(json_pack("[{s:s,s:s,s:s}]", "issuer", ISS, "audience", AUD,
	    "jwks_file", "weak.json"), "private key");
	free(jp);
	/* And jitd itself refuses to start, saying why. */
	write_config(json_pack("[{s:s,s:s}]", "issuer", ISS, "jwks_file",
	    "jwks.json"));
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(tu_contains(o.err, "audience must be a non-empty "
	    "string"), "%s", o.err);
	tu_out_free(&o);
	free(jitd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("oidc");
	TCase *tc = tcase_create("login");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	of_keygen(&rsa, "RS256", "rsa-1");
	of_keygen(&ec, "ES256", "ec-1");
	of_keygen(&ed, "EdDSA", "ed-1");
	of_keygen(&rogue, "RS256", "rogue");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, valid_tokens_each_key_type);
	tcase_add_test(tc, every_trick_refused);
	tcase_add_test(tc, replay_refused);
	tcase_add_test(tc, local_users_and_linking);
	tcase_add_test(tc, jwks_url_refetch);
	tcase_add_test(tc, bad_provider_config_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	of_key_free(&rsa);
	of_key_free(&ec);
	of_key_free(&ed);
	of_key_free(&rogue);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
