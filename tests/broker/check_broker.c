/*
 * The broker over HTTP, in-process so the clock can be moved: login with
 * password + TOTP (the real oathtool computes the codes), replayed and
 * stale codes, lockout and unlock, disabled users, token expiry and
 * revocation, MFA step-up, HTTP hygiene (every malformed request is a JSON
 * error and writes nothing), audit queries, export and verification.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "common/audit_chain.h"
#include "broker/instance.h"
#include "broker/serve.h"
#include "broker/server.h"
#include "common/clock.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

static int64_t fake_now;
static char *tmp, *inst, *cfgpath, *base;
static char alice_b32[64], bob_b32[64];
static struct server *srv;

static int64_t
fake_clock(void)
{
	return fake_now;
}

/* Runs bin/jitd user add and returns the base32 TOTP secret. */
static void
add_user(const char *name, const char *groups, char *b32, size_t len)
{
	char *pwf = tu_path(tmp, "pw"), *jitd = tu_bin("jitd");
	char *argv[] = { jitd, "-c", cfgpath, "user", "add", (char *)name,
	    "--groups", (char *)groups, "--password-file", pwf, NULL };
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, "correct horse battery\n", 22, 0600);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	s = strstr(o.out, "totp_secret: ");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", b32), 1);
	(void)len;
	tu_out_free(&o);
	free(pwf);
	free(jitd);
}

static void
patch_config(int port)
{
	json_t *c = json_load_file(cfgpath, 0, NULL);
	char listen[64];

	ck_assert_ptr_nonnull(c);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "lockout", json_pack("{s:i,s:s}",
	    "max_failures", 3, "duration", "10m"));
	json_object_set_new(c, "max_body", json_integer(4096));
	json_object_set_new(c, "threads", json_integer(2));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
}

static void
setup(void)
{
	char *err = NULL;
	int port = tu_free_port();

	tmp = tu_mkdtemp("broker");
	inst = tu_path(tmp, "inst");
	cfgpath = tu_path(inst, "jitd.json");
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	patch_config(port);
	add_user("alice", "eng", alice_b32, sizeof(alice_b32));
	add_user("bob", "auditors,eng", bob_b32, sizeof(bob_b32));
	/* Mid-step, so codes for "now" stay valid while a test runs. */
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

static char *
url(const char *path)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s%s", base, path);
	return buf;
}

static void
req(const char *method, const char *path, const char *token,
    const char *body, struct tu_resp *r)
{
	ck_assert_int_eq(tu_http(method, url(path), token, body,
	    body != NULL ? strlen(body) : 0, NULL, NULL, NULL, r), 0);
}

/* Logs in with the code at time t; returns the token (malloc'd) or NULL. */
static char *
login_at(const char *user, const char *b32, const char *password, int64_t t,
    long *status)
{
	struct tu_resp r;
	char code[7], body[256];
	char *tok = NULL;

	tu_totp(b32, t, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\","
	    "\"otp\":\"%s\"}", user, password, code);
	req("POST", "/v1/login", NULL, body, &r);
	if (status != NULL)
		*status = r.status;
	if (r.status == 200)
		tok = strdup(tu_jstr(&r, "token"));
	tu_resp_free(&r);
	return tok;
}

#define PW "correct horse battery"

START_TEST(login_me_logout)
{
	struct tu_resp r;
	char *tok;
	long st;

	tok = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(strlen(tok), 43);
	req("GET", "/v1/me", tok, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_jstr(&r, "user"), "alice");
	ck_assert(json_is_true(json_object_get(r.json, "mfa_fresh")));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
	    r.json, "groups"), 0)), "eng");
	tu_resp_free(&r);
	req("POST", "/v1/logout", tok, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	req("GET", "/v1/me", tok, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	free(tok);
}
END_TEST

START_TEST(failures_look_alike)
{
	struct tu_resp a, b, c;
	char code[7], body[256];

	tu_totp(alice_b32, fake_now, code);
	snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":"
	    "\"wrong password!\",\"otp\":\"%s\"}", code);
	req("POST", "/v1/login", NULL, body, &a);
	req("POST", "/v1/login", NULL, "{\"user\":\"alice\",\"password\":\""
	    PW "\",\"otp\":\"000000\"}", &b);
	snprintf(body, sizeof(body), "{\"user\":\"mallory\",\"password\":\""
	    PW "\",\"otp\":\"%s\"}", code);
	req("POST", "/v1/login", NULL, body, &c);
	ck_assert_int_eq(a.status, 401);
	ck_assert_int_eq(b.status, 401);
	ck_assert_int_eq(c.status, 401);
	ck_assert_str_eq(a.body, b.body);
	ck_assert_str_eq(a.body, c.body);
	ck_assert_str_eq(tu_jstr(&a, "error"), "unauthorized");
	tu_resp_free(&a);
	tu_resp_free(&b);
	tu_resp_free(&c);
}
END_TEST

START_TEST(code_single_use_and_window)
{
	long st;
	char *t;

	t = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	free(t);
	/* The same code again: refused. */
	t = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 401);
	ck_assert_ptr_null(t);
	/* A code from 3 steps ago: refused; from the next step: accepted. */
	t = login_at("alice", alice_b32, PW, fake_now - 90, &st);
	ck_assert_int_eq(st, 401);
	t = login_at("alice", alice_b32, PW, fake_now + 30, &st);
	ck_assert_int_eq(st, 200);
	free(t);
	/* Older than the last accepted step, though inside the window. */
	t = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 401);
}
END_TEST

START_TEST(lockout_and_unlock)
{
	long st;
	char *t;
	int i;

	for (i = 0; i < 3; i++) {
		t = login_at("alice", alice_b32, "not the password", fake_now,
		    &st);
		ck_assert_int_eq(st, 401);
	}
	/* Locked: even the right password and a fresh code fail. */
	t = login_at("alice", alice_b32, PW, fake_now + 30, &st);
	ck_assert_int_eq(st, 401);
	ck_assert_ptr_null(t);
	/* Bob is not affected. */
	t = login_at("bob", bob_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	free(t);
	/* Ten minutes later the lock is gone. */
	fake_now += 10 * 60 + 1;
	t = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	free(t);
}
END_TEST

START_TEST(disabled_user_and_sessions)
{
	char *jitd = tu_bin("jitd"), *tok;
	char *argv[] = { jitd, "-c", cfgpath, "user", "disable", "alice",
	    NULL };
	struct tu_resp r;
	struct tu_out o;
	long st;

	tok = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	req("GET", "/v1/me", tok, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	free(login_at("alice", alice_b32, PW, fake_now + 30, &st));
	ck_assert_int_eq(st, 401);
	free(tok);
	free(jitd);
}
END_TEST

START_TEST(token_expiry_and_garbage)
{
	struct tu_resp r;
	char *tok;
	long st;

	tok = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	fake_now += 8 * 3600 + 1;
	req("GET", "/v1/me", tok, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	req("GET", "/v1/me", "garbage", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	req("GET", "/v1/me", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
	    &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	/* A token in the URL is not a token. */
	{
		char path[128];

		snprintf(path, sizeof(path), "/v1/me?token=%s", tok);
		req("GET", path, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 401);
		tu_resp_free(&r);
	}
	free(tok);
}
END_TEST

START_TEST(mfa_step_up)
{
	struct tu_resp r;
	char code[7], body[64], *tok;
	long st;

	tok = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	fake_now += 16 * 60;
	req("GET", "/v1/me", tok, NULL, &r);
	ck_assert(json_is_false(json_object_get(r.json, "mfa_fresh")));
	tu_resp_free(&r);
	tu_totp(alice_b32, fake_now, code);
	snprintf(body, sizeof(body), "{\"otp\":\"%s\"}", code);
	req("POST", "/v1/mfa", tok, body, &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	req("GET", "/v1/me", tok, NULL, &r);
	ck_assert(json_is_true(json_object_get(r.json, "mfa_fresh")));
	ck_assert_int_eq(json_integer_value(json_object_get(r.json,
	    "auth_time")), fake_now);
	tu_resp_free(&r);
	/* The same code cannot step up twice. */
	req("POST", "/v1/mfa", tok, body, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	/* Without a token there is nothing to step up. */
	req("POST", "/v1/mfa", NULL, body, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	free(tok);
}
END_TEST

START_TEST(http_hygiene)
{
	static const struct {
		const char	*method, *path, *body, *ctype;
		long		 status;
		const char	*error;
	} cases[] = {
		{ "POST", "/v1/login", "{\"user\":", NULL, 400, "invalid_json" },
		{ "POST", "/v1/login", "[1,2]", NULL, 400, "invalid_json" },
		{ "POST", "/v1/login", "{\"user\":1,\"password\":\"x\","
		    "\"otp\":\"1\"}", NULL, 400, "invalid_request" },
		{ "POST", "/v1/login", "{\"user\":\"alice\"}", NULL, 400,
		    "invalid_request" },
		{ "POST", "/v1/login", "{\"user\":\"a\",\"password\":\"x\","
		    "\"otp\":\"1\",\"admin\":true}", NULL, 400,
		    "invalid_request" },
		{ "POST", "/v1/login", "{\"user\":\"a\",\"user\":\"b\"}", NULL,
		    400, "invalid_json" },
		{ "POST", "/v1/login", "{\"user\":\"\xff\xfe\"}", NULL, 400,
		    "invalid_json" },
		{ "POST", "/v1/login", "{\"user\":\"a\\u0000b\",\"password\":"
		    "\"x\",\"otp\":\"1\"}", NULL, 400, "invalid_json" },
		{ "POST", "/v1/login", "user=a", "application/x-www-form-"
		    "urlencoded", 415, "unsupported_media_type" },
		{ "GET", "/v1/nothing", NULL, NULL, 404, "not_found" },
		{ "GET", "/v1/login", NULL, NULL, 405, "method_not_allowed" },
		{ "DELETE", "/v1/me", NULL, NULL, 405, "method_not_allowed" },
	};
	struct tu_resp r;
	uint64_t head;
	char *big, *hdr;
	size_t i;

	head = store_audit_head(srv->store);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(tu_http(cases[i].method, url(cases[i].path),
		    NULL, cases[i].body, cases[i].body != NULL ?
		    strlen(cases[i].body) : 0, cases[i].ctype, NULL, NULL, &r),
		    0);
		ck_assert_msg(r.status == cases[i].status,
		    "case %zu: status %ld body %s", i, r.status, r.body);
		ck_assert_msg(r.json != NULL, "case %zu: not JSON: %s", i,
		    r.body);
		ck_assert_str_eq(tu_jstr(&r, "error"), cases[i].error);
		ck_assert(tu_contains(r.headers, "application/json"));
		tu_resp_free(&r);
	}
	/* 405 names exactly the methods the path has. */
	ck_assert_int_eq(tu_http("DELETE", url("/v1/me"), NULL, NULL, 0, NULL,
	    NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 405);
	ck_assert_msg(tu_contains(r.headers, "Allow: GET\r\n"), "%s",
	    r.headers);
	tu_resp_free(&r);
	/* Body over the cap. */
	big = malloc(10000);
	memset(big, 'a', 9999);
	big[0] = '"';
	big[9998] = '"';
	big[9999] = '\0';
	req("POST", "/v1/login", NULL, big, &r);
	ck_assert_int_eq(r.status, 413);
	ck_assert_str_eq(tu_jstr(&r, "error"), "body_too_large");
	tu_resp_free(&r);
	/* Oversized headers. */
	hdr = malloc(20050);
	strcpy(hdr, "X-Big: ");
	memset(hdr + 7, 'b', 20000);
	hdr[20007] = '\0';
	ck_assert_int_eq(tu_http("GET", url("/v1/me"), NULL, NULL, 0, NULL,
	    hdr, NULL, &r), 0);
	ck_assert_int_eq(r.status, 431);
	ck_assert_str_eq(tu_jstr(&r, "error"), "headers_too_large");
	tu_resp_free(&r);
	/* Nothing was written by any of them. */
	ck_assert_int_eq(store_audit_head(srv->store), head);
	/* And the server still answers. */
	req("GET", "/healthz", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	free(big);
	free(hdr);
}
END_TEST

static int
count_action(json_t *events, const char *action, const char *outcome)
{
	size_t i;
	int n = 0;

	for (i = 0; i < json_array_size(events); i++) {
		json_t *e = json_array_get(events, i);

		if (strcmp(json_string_value(json_object_get(e, "action")),
		    action) == 0 && (outcome == NULL ||
		    strcmp(json_string_value(json_object_get(e, "outcome")),
		    outcome) == 0))
			n++;
	}
	return n;
}

START_TEST(audit_query_export_verify)
{
	struct audit_verify_result res;
	struct tu_resp r;
	char *atok, *btok, *f;
	json_t *events;
	long st;
	int i;

	free(login_at("alice", alice_b32, "wrong!", fake_now, &st));
	atok = login_at("alice", alice_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	btok = login_at("bob", bob_b32, PW, fake_now, &st);
	ck_assert_int_eq(st, 200);
	/* Not an auditor. */
	req("GET", "/v1/audit", atok, NULL, &r);
	ck_assert_int_eq(r.status, 403);
	tu_resp_free(&r);
	req("GET", "/v1/audit?actor=alice", btok, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	events = json_object_get(r.json, "events");
	ck_assert_int_eq(count_action(events, "login", "ok"), 1);
	ck_assert_int_eq(count_action(events, "login", "failed"), 1);
	ck_assert_int_eq(json_array_size(events), 2);
	tu_resp_free(&r);
	/* Keyset pagination: pages of one, following next_after. */
	{
		char path[128];
		json_int_t after = 0;

		for (i = 0; i < 10; i++) {
			snprintf(path, sizeof(path), "/v1/audit?action=login&"
			    "limit=1&after=%lld", (long long)after);
			req("GET", path, btok, NULL, &r);
			ck_assert_int_eq(r.status, 200);
			if (json_array_size(json_object_get(r.json,
			    "events")) == 0) {
				tu_resp_free(&r);
				break;
			}
			ck_assert(json_integer_value(json_object_get(
			    json_array_get(json_object_get(r.json, "events"),
			    0), "seq")) > after);
			after = json_integer_value(json_object_get(r.json,
			    "next_after"));
			tu_resp_free(&r);
		}
		ck_assert_int_eq(i, 3);	/* failed + 2 ok logins */
	}
	req("GET", "/v1/audit?limit=5000", btok, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	tu_resp_free(&r);
	req("GET", "/v1/audit?since=yesterday", btok, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	tu_resp_free(&r);
	/* Export and verify offline with the published key. */
	ck_assert_int_eq(store_checkpoint(srv->store), JIT_OK);
	req("GET", "/v1/audit/export", btok, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(tu_contains(r.body, "\"type\":\"checkpoint\""));
	f = tu_path(tmp, "export.jsonl");
	tu_write_file(f, r.body, r.len, 0600);
	tu_resp_free(&r);
	ck_assert_int_eq(audit_verify_file(f, srv->inst->audit_pk, &res),
	    JIT_OK);
	ck_assert(res.ok);
	ck_assert(res.events >= 5);
	ck_assert(res.checkpoints >= 1);
	req("GET", "/v1/audit/export", atok, NULL, &r);
	ck_assert_int_eq(r.status, 403);
	tu_resp_free(&r);
	req("GET", "/v1/audit/key", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_jstr(&r, "algorithm"), "ed25519");
	tu_resp_free(&r);
	free(f);
	free(atok);
	free(btok);
}
END_TEST

START_TEST(metrics_and_health)
{
	struct tu_resp r;
	long st;

	free(login_at("alice", alice_b32, "nope nope nope", fake_now, &st));
	req("GET", "/metrics", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(tu_contains(r.body, "jitd_logins_total{result=\"failed\"} 1"));
	ck_assert(tu_contains(r.body,
	    "jitd_http_requests_total{route=\"login\",status=\"401\"} 1"));
	ck_assert(tu_contains(r.body, "jitd_http_request_duration_seconds_"
	    "bucket"));
	ck_assert(tu_contains(r.body, "jitd_audit_events_total"));
	tu_resp_free(&r);
	req("GET", "/healthz", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_jstr(&r, "status"), "ok");
	tu_resp_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("broker");
	TCase *tc = tcase_create("http");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, login_me_logout);
	tcase_add_test(tc, failures_look_alike);
	tcase_add_test(tc, code_single_use_and_window);
	tcase_add_test(tc, lockout_and_unlock);
	tcase_add_test(tc, disabled_user_and_sessions);
	tcase_add_test(tc, token_expiry_and_garbage);
	tcase_add_test(tc, mfa_step_up);
	tcase_add_test(tc, http_hygiene);
	tcase_add_test(tc, audit_query_export_verify);
	tcase_add_test(tc, metrics_and_health);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
