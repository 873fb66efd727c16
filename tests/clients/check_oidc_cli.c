/*
 * jit login --oidc and --id-token-file against an in-process jitd and a
 * small test identity provider on 127.0.0.1 (tests/lib/oidcfix.c) that
 * implements the device authorization grant: the first poll is
 * authorization_pending, the second slow_down, the third the ID token.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "broker/instance.h"
#include "broker/serve.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/oidcfix.h"
#include "tests/lib/testutil.h"

#define ISS	"https://idp.corp.example"
#define AUD	"jit-cli"

static struct of_key key;
static struct of_idp *idp;
static struct server *srv;
static char *tmp, *home, *base;

static void
setup(void)
{
	const struct of_key *ks[] = { &key };
	char *inst, *cfgpath, *jp, *jw, *err = NULL, listen[64], dev[128],
	    tok[128], down[128];
	int port = tu_free_port(), dead = tu_free_port();
	json_t *c;

	tmp = tu_mkdtemp("oidccli");
	inst = tu_path(tmp, "inst");
	home = tu_path(tmp, "home");
	cfgpath = tu_path(inst, "jitd.json");
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	jw = of_jwks(ks, 1);
	jp = tu_path(inst, "jwks.json");
	tu_write_file(jp, jw, strlen(jw), 0644);
	idp = of_idp_start(tmp, 0);
	snprintf(dev, sizeof(dev), "%s/device", of_idp_base(idp));
	snprintf(tok, sizeof(tok), "%s/token", of_idp_base(idp));
	snprintf(down, sizeof(down), "http://127.0.0.1:%d/device", dead);
	ck_assert_ptr_nonnull(c = json_load_file(cfgpath, 0, NULL));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "threads", json_integer(2));
	json_object_set_new(c, "oidc", json_pack("[{s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:s},{s:s,s:s,s:s,s:s,s:s,s:s}]",
	    "name", "corp", "issuer", ISS, "audience", AUD, "jwks_file",
	    "jwks.json", "groups_claim", "groups",
	    "device_authorization_endpoint", dev, "token_endpoint", tok,
	    "name", "down", "issuer", "https://down.example", "audience", AUD,
	    "jwks_file", "jwks.json", "device_authorization_endpoint", down,
	    "token_endpoint", down));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
	if (asprintf(&base, "http://127.0.0.1:%d", port) == -1)
		abort();
	free(inst);
	free(cfgpath);
	free(jp);
	free(jw);
}

static void
teardown(void)
{
	serve_close(srv);
	srv = NULL;
	of_idp_stop(idp);
	idp = NULL;
	tu_rmdir(tmp);
	free(tmp);
	free(home);
	free(base);
}

/* Runs bin/jit --url BASE ARGS... with JIT_HOME=home. */
static void
jit(struct tu_out *o, ...)
{
	char *argv[16], *bin = tu_bin("jit"), *env[2];
	va_list ap;
	size_t n = 0;

	argv[n++] = bin;
	argv[n++] = "--url";
	argv[n++] = base;
	va_start(ap, o);
	while ((argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	if (asprintf(&env[0], "JIT_HOME=%s", home) == -1)
		abort();
	env[1] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, env, 90, o), 0);
	free(env[0]);
	free(bin);
}

static char *
token_for(const char *user)
{
	int64_t now = time(NULL);
	json_t *c = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:[ss],s:[s]}", "iss",
	    ISS, "aud", AUD, "sub", "s-1", "preferred_username", user, "iat",
	    (json_int_t)now, "exp", (json_int_t)now + 300, "amr", "pwd",
	    "mfa", "groups", "eng");
	char *t = of_sign(&key, NULL, c);

	json_decref(c);
	return t;
}

static void
assert_whoami(const char *user)
{
	struct tu_out o;
	json_t *j;

	jit(&o, "--json", "whoami", NULL);
	ck_assert_msg(o.status == 0, "whoami: %s", o.err);
	ck_assert_ptr_nonnull(j = json_loads(o.out, 0, NULL));
	ck_assert_str_eq(json_string_value(json_object_get(j, "user")), user);
	ck_assert(json_is_true(json_object_get(j, "mfa_fresh")));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j,
	    "methods"), 0)), "oidc");
	json_decref(j);
	tu_out_free(&o);
}

START_TEST(device_flow_logs_in)
{
	struct tu_out o;
	char *t = token_for("devuser");

	of_idp_set_id_token(idp, t);
	jit(&o, "login", "--oidc", "--provider", "corp", NULL);
	ck_assert_msg(o.status == 0, "login: %s", o.err);
	ck_assert_msg(tu_contains(o.err, "WDJB-MJHT") &&
	    tu_contains(o.err, "/activate"), "%s", o.err);
	ck_assert(tu_contains(o.err, "logged in as devuser"));
	/* The token never reaches the terminal. */
	ck_assert(!tu_contains(o.err, t) && !tu_contains(o.out, t));
	ck_assert_uint_eq(of_idp_token_polls(idp), 3);
	tu_out_free(&o);
	assert_whoami("devuser");
	free(t);
}
END_TEST

START_TEST(device_flow_denied)
{
	struct tu_out o;

	of_idp_set_id_token(idp, NULL);
	jit(&o, "login", "--oidc", "--provider", "corp", NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(tu_contains(o.err, "denied at the identity provider"),
	    "%s", o.err);
	tu_out_free(&o);
}
END_TEST

START_TEST(id_token_file)
{
	struct tu_out o;
	char *t = token_for("ciuser"), *f = tu_path(tmp, "id_token");

	char *tn;

	if (asprintf(&tn, "%s\n", t) == -1)
		abort();
	tu_write_file(f, tn, strlen(tn), 0644);	/* 0600 not required */
	free(tn);
	jit(&o, "login", "--id-token-file", f, NULL);
	ck_assert_msg(o.status == 0, "login: %s", o.err);
	tu_out_free(&o);
	assert_whoami("ciuser");
	/* The same token again is a replay. */
	jit(&o, "login", "--id-token-file", f, NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.err, "not accepted"));
	tu_out_free(&o);
	tu_write_file(f, "garbage", 7, 0644);
	jit(&o, "login", "--id-token-file", f, NULL);
	ck_assert_int_eq(o.status, 1);
	tu_out_free(&o);
	free(f);
	free(t);
}
END_TEST

START_TEST(idp_unreachable_and_choices)
{
	struct tu_out o;

	jit(&o, "login", "--oidc", "--provider", "down", NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(tu_contains(o.err, "cannot reach the identity provider"),
	    "%s", o.err);
	tu_out_free(&o);
	jit(&o, "login", "--oidc", NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.err, "--provider NAME"));
	tu_out_free(&o);
	jit(&o, "login", "--oidc", "--provider", "nosuch", NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.err, "no identity provider named"));
	tu_out_free(&o);
	jit(&o, "login", "--oidc", "--id-token-file", "x", NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("oidc_cli");
	TCase *tc = tcase_create("cli");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	of_keygen(&key, "ES256", "cli-ec");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, device_flow_logs_in);
	tcase_add_test(tc, device_flow_denied);
	tcase_add_test(tc, id_token_file);
	tcase_add_test(tc, idp_unreachable_and_choices);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	of_key_free(&key);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
