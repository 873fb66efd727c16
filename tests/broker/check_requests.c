/*
 * Access requests end to end over HTTP, with the server in-process so the
 * clock can move: alice requests, bob approves, alice gets a certificate
 * that a real sshd accepts; every refusal the workflow promises; racing
 * approvals and concurrent issuance; X.509; break-glass reviews;
 * auto-approval; extensions; expiry by the sweeper; revocation into the
 * KRL that sshd then enforces.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "broker/instance.h"
#include "broker/serve.h"
#include "broker/server.h"
#include "common/clock.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

#define PW "correct horse battery"
#define MAXUSERS 24

static volatile int64_t fake_now;
static char *tmp, *inst, *cfgpath, *base;
static struct server *srv;
static struct {
	char	name[32];
	char	b32[64];
	char	token[64];
} users[MAXUSERS];
static int nusers;

static const char roles_json[] =
"[{\"name\":\"prod-ssh\",\"description\":\"web root\","
"  \"ssh\":{\"principals\":[\"webadmin\"],\"extensions\":[\"permit-pty\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"max_duration\":\"1h\",\"pending_ttl\":\"1h\","
"  \"require_reason\":true,\"ticket_pattern\":\"^(INC|CHG)-[0-9]+$\"},"
" {\"name\":\"quorum2\",\"ssh\":{\"principals\":[\"webadmin\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":2,\"max_duration\":\"1h\",\"require_reason\":false},"
" {\"name\":\"db-x509\",\"x509\":{\"organizational_unit\":\"db\","
"  \"uri_san\":true},\"requesters\":[\"group:eng\"],"
"  \"approvers\":[\"group:sre\"],\"approvals_required\":1,"
"  \"max_duration\":\"30m\",\"require_reason\":false},"
" {\"name\":\"glass\",\"ssh\":{\"principals\":[\"webadmin\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"break_glass\":true,\"max_duration\":\"1h\","
"  \"require_reason\":true},"
" {\"name\":\"auto\",\"ssh\":{\"principals\":[\"webadmin\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":0,\"max_duration\":\"10m\",\"require_reason\":false},"
" {\"name\":\"selfok\",\"ssh\":{\"principals\":[\"webadmin\"]},"
"  \"requesters\":[\"group:sre\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"self_approval\":true,\"max_duration\":\"10m\","
"  \"require_reason\":false}]";

static int64_t
fake_clock(void)
{
	return fake_now;
}

static int
user_index(const char *name)
{
	int i;

	for (i = 0; i < nusers; i++)
		if (strcmp(users[i].name, name) == 0)
			return i;
	return -1;
}

static void
add_user(const char *name, const char *groups)
{
	char *pwf = tu_path(tmp, "pw"), *jitd = tu_bin("jitd");
	char *argv[] = { jitd, "-c", cfgpath, "user", "add", (char *)name,
	    "--groups", (char *)groups, "--password-file", pwf, NULL };
	struct tu_out o;
	const char *s;

	ck_assert_int_lt(nusers, MAXUSERS);
	tu_write_file(pwf, PW "\n", strlen(PW) + 1, 0600);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	s = strstr(o.out, "totp_secret: ");
	ck_assert_ptr_nonnull(s);
	snprintf(users[nusers].name, sizeof(users[nusers].name), "%s", name);
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", users[nusers].b32),
	    1);
	users[nusers].token[0] = '\0';
	nusers++;
	tu_out_free(&o);
	free(pwf);
	free(jitd);
}

static void
call(const char *method, const char *path, const char *user,
    const char *body, struct tu_resp *r)
{
	char url[512];
	const char *tok = NULL;
	int i;

	if (user != NULL) {
		ck_assert_int_ge(i = user_index(user), 0);
		tok = users[i].token;
	}
	snprintf(url, sizeof(url), "%s%s", base, path);
	ck_assert_int_eq(tu_http(method, url, tok, body, body != NULL ?
	    strlen(body) : 0, NULL, NULL, NULL, r), 0);
}

/* Logs user in with the code of the current fake time. */
static void
login(const char *name)
{
	struct tu_resp r;
	char code[7], body[256];
	int i = user_index(name);

	ck_assert_int_ge(i, 0);
	tu_totp(users[i].b32, fake_now, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW
	    "\",\"otp\":\"%s\"}", name, code);
	call("POST", "/v1/login", NULL, body, &r);
	ck_assert_msg(r.status == 200, "login %s: %s", name, r.body);
	snprintf(users[i].token, sizeof(users[i].token), "%s",
	    tu_jstr(&r, "token"));
	tu_resp_free(&r);
}

static void
setup(void)
{
	json_t *c, *roles;
	char *err = NULL, listen[64];
	int port = tu_free_port();

	tmp = tu_mkdtemp("requests");
	inst = tu_path(tmp, "inst");
	cfgpath = tu_path(inst, "jitd.json");
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	c = json_load_file(cfgpath, 0, NULL);
	roles = json_loads(roles_json, 0, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(roles);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "roles", roles);
	json_object_set_new(c, "sweep_interval", json_string("1s"));
	json_object_set_new(c, "threads", json_integer(4));
	/* The fake clock moves only here; a signer process keeps its own. */
	json_object_set_new(c, "signer_process", json_false());
	json_object_set_new(c, "auditors", json_pack("[s]", "group:audit"));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	nusers = 0;
	add_user("alice", "eng");
	add_user("carol", "eng");
	add_user("bob", "sre");
	add_user("dave", "sre");
	add_user("audrey", "audit");
	fake_now = (time(NULL) / 30) * 30 + 5;
	jit_clock_set(fake_clock);
	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
	if (asprintf(&base, "http://127.0.0.1:%d", port) == -1)
		abort();
	login("alice");
	login("carol");
	login("bob");
	login("dave");
	login("audrey");
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

/* Creates a request as user; returns its id (asserts the status). */
static json_int_t
request(const char *user, const char *body, long want, const char *state)
{
	struct tu_resp r;
	json_int_t id = 0;

	call("POST", "/v1/requests", user, body, &r);
	ck_assert_msg(r.status == want, "create: %ld %s", r.status, r.body);
	if (want == 201) {
		id = json_integer_value(json_object_get(r.json, "id"));
		ck_assert_str_eq(tu_jstr(&r, "state"), state);
	}
	tu_resp_free(&r);
	return id;
}

/* POSTs an action on a request and checks the status; returns the body. */
static json_t *
act(const char *user, json_int_t id, const char *action, const char *body,
    long want)
{
	struct tu_resp r;
	char path[128];
	json_t *j;

	snprintf(path, sizeof(path), "/v1/requests/%lld/%s", (long long)id,
	    action);
	call("POST", path, user, body, &r);
	ck_assert_msg(r.status == want, "%s %s on %lld: %ld %s", user, action,
	    (long long)id, r.status, r.body);
	j = json_incref(r.json);
	tu_resp_free(&r);
	return j;
}

static char *
keygen(const char *name)
{
	char *path = tu_path(tmp, name);
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
	    path, NULL };
	struct tu_out o;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	return path;
}

/* Asks for an SSH certificate; on 200 writes PATH-cert.pub. */
static json_t *
ssh_cert(const char *user, json_int_t id, const char *keypath, long want)
{
	char *pubp, *pub, body[1024], *certp;
	json_t *j;

	if (asprintf(&pubp, "%s.pub", keypath) == -1)
		abort();
	pub = tu_read_file(pubp, NULL);
	pub[strcspn(pub, "\n")] = '\0';
	snprintf(body, sizeof(body), "{\"public_key\":\"%s\"}", pub);
	j = act(user, id, "ssh-cert", body, want);
	if (want == 200) {
		const char *line = json_string_value(json_object_get(j,
		    "certificate"));

		if (asprintf(&certp, "%s-cert.pub", keypath) == -1)
			abort();
		tu_write_file(certp, line, strlen(line), 0644);
		free(certp);
	}
	free(pub);
	free(pubp);
	return j;
}

static int
audit_count(const char *action, const char *outcome, json_int_t id)
{
	struct tu_resp r;
	char path[256];
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "/v1/audit?target=request:%lld&limit=1000",
	    (long long)id);
	call("GET", path, "audrey", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	for (i = 0; i < json_array_size(json_object_get(r.json, "events"));
	    i++) {
		json_t *e = json_array_get(json_object_get(r.json, "events"), i);

		if (strcmp(json_string_value(json_object_get(e, "action")),
		    action) == 0 && strcmp(json_string_value(json_object_get(e,
		    "outcome")), outcome) == 0)
			n++;
	}
	tu_resp_free(&r);
	return n;
}

START_TEST(approve_issue_login_revoke)
{
	static const char *const princ[] = { "webadmin", NULL };
	struct tu_sshd_account acct = { "jitt-web", princ };
	struct tu_sshd_opts so;
	struct tu_sshd *sshd = NULL;
	struct tu_resp r;
	struct tu_out o;
	const char *why;
	json_t *j;
	json_int_t id;
	char *key, *certp, keyid[128], *ca;
	int revoked = 0;

	id = request("alice", "{\"role\":\"prod-ssh\",\"reason\":\"disk full on "
	    "web3\",\"duration\":\"30m\",\"ticket\":\"INC-7\"}", 201,
	    "pending");
	/* bob sees it as approvable; carol (not an approver) does not. */
	call("GET", "/v1/requests?approvable=1", "bob", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "requests")),
	    1);
	tu_resp_free(&r);
	call("GET", "/v1/requests?approvable=1", "carol", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "requests")),
	    0);
	tu_resp_free(&r);
	j = act("bob", id, "approve", "{\"comment\":\"go ahead\"}", 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "approved");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "grant_end")),
	    fake_now + 1800);
	json_decref(j);
	key = keygen("id");
	j = ssh_cert("alice", id, key, 200);
	snprintf(keyid, sizeof(keyid), "jitd:alice:%lld:%s", (long long)id,
	    json_string_value(json_object_get(j, "serial")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "key_id")),
	    keyid);
	ck_assert_int_eq(json_integer_value(json_object_get(j,
	    "valid_before")), fake_now + 300);
	json_decref(j);
	/* The certificate as ssh-keygen reads it. */
	if (asprintf(&certp, "%s-cert.pub", key) == -1)
		abort();
	{
		char *argv[] = { "ssh-keygen", "-L", "-f", certp, NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 10, &o), 0);
		ck_assert_int_eq(o.status, 0);
		ck_assert(tu_contains(o.out, keyid));
		ck_assert(tu_contains(o.out, "Principals: \n"
		    "                webadmin\n"));
		ck_assert(tu_contains(o.out, "permit-pty"));
		ck_assert(!tu_contains(o.out, "permit-agent-forwarding"));
		tu_out_free(&o);
	}
	ck_assert_int_eq(audit_count("cert.issue", "ok", id), 1);
	if (!tu_sshd_available(&why)) {
		fprintf(stderr, "approve_issue_login_revoke: sshd part "
		    "skipped: %s\n", why);
		goto out;
	}
	/* A real sshd that trusts GET /v1/ca/ssh. */
	call("GET", "/v1/ca/ssh?format=text", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ca = strdup(r.body);
	tu_resp_free(&r);
	memset(&so, 0, sizeof(so));
	so.trusted_ca_keys = ca;
	so.accounts = &acct;
	so.naccounts = 1;
	call("GET", "/v1/ca/krl", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	so.krl = r.body;
	so.krl_len = r.len;
	ck_assert_ptr_nonnull(sshd = tu_sshd_start(&so));
	tu_resp_free(&r);
	ck_assert_int_eq(tu_ssh_run(tu_sshd_port(sshd), "jitt-web", key, certp,
	    "id -un", &o), 0);
	ck_assert_msg(o.status == 0 && strcmp(o.out, "jitt-web\n") == 0,
	    "ssh: %d %s %s", o.status, o.out, o.err);
	tu_out_free(&o);
	ck_assert(tu_sshd_wait_log(sshd, keyid, 5));
	/* bob revokes; the KRL from the broker makes sshd refuse the cert. */
	json_decref(act("bob", id, "revoke", NULL, 200));
	revoked = 1;
	call("GET", "/v1/ca/krl", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(tu_sshd_set_krl(sshd, r.body, r.len), 0);
	tu_resp_free(&r);
	ck_assert_int_eq(tu_ssh_run(tu_sshd_port(sshd), "jitt-web", key, certp,
	    "id -un", &o), 0);
	ck_assert_int_eq(o.status, 255);
	tu_out_free(&o);
	ck_assert(tu_sshd_wait_log(sshd, "revoked", 5));
	tu_sshd_stop(sshd);
	free(ca);
 out:
	/* After the revoke (above, or here when sshd was skipped): nothing. */
	if (!revoked)
		json_decref(act("bob", id, "revoke", NULL, 200));
	json_decref(ssh_cert("alice", id, key, 409));
	json_decref(act("bob", id, "revoke", NULL, 409));
	free(certp);
	free(key);
}
END_TEST

START_TEST(refusals)
{
	json_int_t q, p, d, c, e;
	char *key = keygen("id");
	json_t *j;

	q = request("alice", "{\"role\":\"quorum2\",\"duration\":600}", 201,
	    "pending");
	/* alice approving herself; carol is not an approver. */
	json_decref(act("alice", q, "approve", NULL, 403));
	json_decref(act("carol", q, "approve", NULL, 403));
	/* bob approves, then again: one vote each. */
	j = act("bob", q, "approve", NULL, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "pending");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "approvals")),
	    1);
	json_decref(j);
	json_decref(act("bob", q, "approve", NULL, 409));
	json_decref(act("bob", q, "deny", NULL, 409));
	/* A certificate for a pending request. */
	json_decref(ssh_cert("alice", q, key, 409));
	/* Refusals were audited. */
	ck_assert_int_eq(audit_count("request.approve", "refused", q), 3);
	ck_assert_int_eq(audit_count("request.deny", "refused", q), 1);
	/* After pending_ttl (1h by default) nobody can approve. */
	p = request("alice", "{\"role\":\"prod-ssh\",\"reason\":\"x\","
	    "\"duration\":\"10m\",\"ticket\":\"CHG-1\"}", 201, "pending");
	fake_now += 3601;
	login("bob");
	login("alice");
	login("dave");
	login("carol");
	json_decref(act("bob", p, "approve", NULL, 410));
	/* Denied, cancelled and expired grants issue nothing. */
	d = request("alice", "{\"role\":\"prod-ssh\",\"reason\":\"x\","
	    "\"duration\":\"10m\",\"ticket\":\"CHG-2\"}", 201, "pending");
	json_decref(act("dave", d, "deny", "{\"comment\":\"no\"}", 200));
	json_decref(ssh_cert("alice", d, key, 409));
	json_decref(act("bob", d, "approve", NULL, 409));
	c = request("alice", "{\"role\":\"prod-ssh\",\"reason\":\"x\","
	    "\"duration\":\"10m\",\"ticket\":\"CHG-3\"}", 201, "pending");
	json_decref(act("bob", c, "cancel", NULL, 403));
	json_decref(act("alice", c, "cancel", NULL, 200));
	json_decref(ssh_cert("alice", c, key, 409));
	e = request("alice", "{\"role\":\"prod-ssh\",\"reason\":\"x\","
	    "\"duration\":\"10m\",\"ticket\":\"CHG-4\"}", 201, "pending");
	json_decref(act("bob", e, "approve", NULL, 200));
	json_decref(ssh_cert("alice", e, key, 200));
	/* Someone else's request: carol cannot see it, bob cannot use it. */
	json_decref(ssh_cert("carol", e, key, 404));
	json_decref(ssh_cert("bob", e, key, 403));
	fake_now += 601;
	login("alice");
	json_decref(ssh_cert("alice", e, key, 410));
	/* Unknown ids and garbage ids. */
	json_decref(act("bob", 999999, "approve", NULL, 404));
	json_decref(act("bob", 0, "approve", NULL, 404));
	free(key);
}
END_TEST

START_TEST(validation_and_mfa)
{
	static const char *const bad[] = {
		"{\"role\":\"nope\",\"reason\":\"x\",\"duration\":\"10m\"}",
		"{\"role\":\"prod-ssh\",\"reason\":\"x\",\"duration\":\"2h\","
		    "\"ticket\":\"INC-1\"}",
		"{\"role\":\"prod-ssh\",\"duration\":\"10m\",\"ticket\":"
		    "\"INC-1\"}",
		"{\"role\":\"prod-ssh\",\"reason\":\"x\",\"duration\":\"10m\","
		    "\"ticket\":\"JIRA-1\"}",
		"{\"role\":\"prod-ssh\",\"reason\":\"x\",\"duration\":\"10m\"}",
		"{\"role\":\"prod-ssh\",\"reason\":\"x\",\"duration\":0,"
		    "\"ticket\":\"INC-1\"}",
		"{\"role\":\"prod-ssh\",\"reason\":\"x\",\"duration\":\"soon\","
		    "\"ticket\":\"INC-1\"}",
		"{\"role\":\"prod-ssh\",\"reason\":\"a\\nb\",\"duration\":"
		    "\"10m\",\"ticket\":\"INC-1\"}",
		"{\"role\":\"prod-ssh\",\"reason\":\"x\",\"duration\":\"10m\","
		    "\"ticket\":\"INC-1\",\"starts_at\":1}",
		"{\"role\":\"prod-ssh\",\"reason\":\"x\",\"duration\":\"10m\","
		    "\"ticket\":\"INC-1\",\"admin\":true}",
	};
	struct tu_resp r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		call("POST", "/v1/requests", "alice", bad[i], &r);
		ck_assert_msg(r.status == 400, "case %zu: %ld %s", i, r.status,
		    r.body);
		tu_resp_free(&r);
	}
	/* bob (sre) may not request prod-ssh. */
	request("bob", "{\"role\":\"prod-ssh\",\"reason\":\"x\",\"duration\":"
	    "\"10m\",\"ticket\":\"INC-1\"}", 403, NULL);
	/* Roles listing says what each may do. */
	call("GET", "/v1/roles", "bob", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(tu_contains(r.body, "\"name\":\"prod-ssh\""));
	ck_assert(tu_contains(r.body, "\"can_request\":false,"
	    "\"can_approve\":true"));
	tu_resp_free(&r);
	/* Stale MFA: 16 minutes later a request needs a step-up. */
	fake_now += 16 * 60;
	call("POST", "/v1/requests", "alice", "{\"role\":\"auto\","
	    "\"duration\":\"5m\"}", &r);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(tu_jstr(&r, "error"), "mfa_required");
	tu_resp_free(&r);
	{
		char code[7], body[64];

		tu_totp(users[user_index("alice")].b32, fake_now, code);
		snprintf(body, sizeof(body), "{\"otp\":\"%s\"}", code);
		call("POST", "/v1/mfa", "alice", body, &r);
		ck_assert_int_eq(r.status, 200);
		tu_resp_free(&r);
	}
	request("alice", "{\"role\":\"auto\",\"duration\":\"5m\"}", 201,
	    "approved");
}
END_TEST

struct racer {
	const char	*user;
	json_int_t	 id;
	long		 status;
};

static void *
race_approve(void *arg)
{
	struct racer *rc = arg;
	struct tu_resp r;
	char url[512], path[128];
	int i = user_index(rc->user);

	snprintf(path, sizeof(path), "/v1/requests/%lld/approve",
	    (long long)rc->id);
	snprintf(url, sizeof(url), "%s%s", base, path);
	if (tu_http("POST", url, users[i].token, NULL, 0, NULL, NULL, NULL,
	    &r) == 0)
		rc->status = r.status;
	tu_resp_free(&r);
	return NULL;
}

START_TEST(racing_approvals)
{
	enum { APPROVERS = 10, RACERS = 20 };
	struct racer rc[RACERS];
	pthread_t th[RACERS];
	struct tu_resp r;
	char name[16];
	json_int_t id;
	int i, ok = 0, conflict = 0, transitions = 0;
	size_t k;

	for (i = 0; i < APPROVERS; i++) {
		snprintf(name, sizeof(name), "sre%d", i);
		add_user(name, "sre");
		login(name);
	}
	id = request("alice", "{\"role\":\"quorum2\",\"duration\":600}", 201,
	    "pending");
	/* Ten approvers, each clicking twice, all at once. */
	for (i = 0; i < RACERS; i++) {
		rc[i].user = users[nusers - APPROVERS + i / 2].name;
		rc[i].id = id;
		rc[i].status = 0;
		pthread_create(&th[i], NULL, race_approve, &rc[i]);
	}
	for (i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		if (rc[i].status == 200)
			ok++;
		else if (rc[i].status == 409)
			conflict++;
	}
	ck_assert_msg(ok == 2 && conflict == RACERS - 2, "ok %d conflict %d",
	    ok, conflict);
	call("GET", "/v1/requests/1", "alice", NULL, &r);
	ck_assert_str_eq(tu_jstr(&r, "state"), "approved");
	ck_assert_int_eq(json_integer_value(json_object_get(r.json,
	    "approvals")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "votes")), 2);
	tu_resp_free(&r);
	/* Exactly one approve event made the transition. */
	call("GET", "/v1/audit?target=request:1&action=request.approve",
	    "audrey", NULL, &r);
	for (k = 0; k < json_array_size(json_object_get(r.json, "events"));
	    k++) {
		json_t *e = json_array_get(json_object_get(r.json, "events"), k);

		if (json_is_true(json_object_get(json_object_get(e, "details"),
		    "transition")))
			transitions++;
	}
	tu_resp_free(&r);
	ck_assert_int_eq(transitions, 1);
	ck_assert_int_eq(audit_count("request.approve", "ok", id), 2);
	ck_assert_int_eq(audit_count("request.approve", "refused", id),
	    RACERS - 2);
}
END_TEST

struct issuer {
	json_int_t	 id;
	const char	*body;
	long		 status;
	char		 serial[48];
};

static void *
race_issue(void *arg)
{
	struct issuer *is = arg;
	struct tu_resp r;
	char url[512];

	snprintf(url, sizeof(url), "%s/v1/requests/%lld/ssh-cert", base,
	    (long long)is->id);
	if (tu_http("POST", url, users[user_index("alice")].token, is->body,
	    strlen(is->body), NULL, NULL, NULL, &r) == 0) {
		is->status = r.status;
		snprintf(is->serial, sizeof(is->serial), "%s",
		    tu_jstr(&r, "serial"));
	}
	tu_resp_free(&r);
	return NULL;
}

START_TEST(concurrent_issuance)
{
	enum { N = 24 };
	struct issuer is[N];
	pthread_t th[N];
	struct tu_resp r;
	char *key = keygen("id"), *pubp, *pub, body[1024];
	json_int_t id;
	int i, k;

	id = request("alice", "{\"role\":\"auto\",\"duration\":\"10m\"}", 201,
	    "approved");
	if (asprintf(&pubp, "%s.pub", key) == -1)
		abort();
	pub = tu_read_file(pubp, NULL);
	pub[strcspn(pub, "\n")] = '\0';
	snprintf(body, sizeof(body), "{\"public_key\":\"%s\"}", pub);
	for (i = 0; i < N; i++) {
		is[i].id = id;
		is[i].body = body;
		is[i].status = 0;
		pthread_create(&th[i], NULL, race_issue, &is[i]);
	}
	for (i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(is[i].status, 200);
		for (k = 0; k < i; k++)
			ck_assert_str_ne(is[i].serial, is[k].serial);
	}
	/* Every certificate is recorded, each with its audit event. */
	call("GET", "/v1/requests/1", "alice", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json,
	    "certificates")), N);
	tu_resp_free(&r);
	ck_assert_int_eq(audit_count("cert.issue", "ok", id), N);
	free(pub);
	free(pubp);
	free(key);
}
END_TEST

START_TEST(x509_issuance)
{
	char *csr = tu_path(tmp, "req.pem"), *k = tu_path(tmp, "req.key");
	char *leaf = tu_path(tmp, "leaf.pem"), *ca = tu_path(tmp, "ca.pem");
	char *req[] = { "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:P-256", "-nodes", "-keyout", k, "-out", csr,
	    "-subj", "/CN=root", NULL };
	char *ver[] = { "openssl", "verify", "-CAfile", ca, "-purpose",
	    "sslclient", leaf, NULL };
	char *txt[] = { "openssl", "x509", "-noout", "-text", "-in", leaf,
	    NULL };
	struct tu_resp r;
	struct tu_out o;
	json_t *body, *j;
	json_int_t id;
	char *pem, *bs;

	ck_assert_int_eq(tu_run(req, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	id = request("alice", "{\"role\":\"db-x509\",\"duration\":\"10m\"}",
	    201, "pending");
	json_decref(act("dave", id, "approve", NULL, 200));
	pem = tu_read_file(csr, NULL);
	body = json_pack("{s:s}", "csr", pem);
	bs = json_dumps(body, 0);
	j = act("alice", id, "x509-cert", bs, 200);
	tu_write_file(leaf, json_string_value(json_object_get(j,
	    "certificate")), strlen(json_string_value(json_object_get(j,
	    "certificate"))), 0644);
	json_decref(j);
	call("GET", "/v1/ca/x509", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	tu_write_file(ca, r.body, r.len, 0644);
	tu_resp_free(&r);
	ck_assert_int_eq(tu_run(ver, NULL, NULL, 10, &o), 0);
	ck_assert_msg(o.status == 0, "%s %s", o.out, o.err);
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(txt, NULL, NULL, 10, &o), 0);
	ck_assert(tu_contains(o.out, "CN = alice"));
	ck_assert(tu_contains(o.out, "OU = db"));
	ck_assert(tu_contains(o.out, "URI:jitd://db-x509/alice"));
	ck_assert(!tu_contains(o.out, "CN = root"));
	tu_out_free(&o);
	/* An SSH certificate from an X.509-only role is refused. */
	{
		char *key = keygen("id");

		json_decref(ssh_cert("alice", id, key, 400));
		free(key);
	}
	free(bs);
	json_decref(body);
	free(pem);
	free(csr);
	free(k);
	free(leaf);
	free(ca);
}
END_TEST

START_TEST(break_glass_review)
{
	struct tu_resp r;
	json_int_t id;

	id = request("alice", "{\"role\":\"glass\",\"reason\":\"site down\","
	    "\"duration\":\"30m\"}", 201, "approved");
	ck_assert_int_eq(audit_count("breakglass.use", "break_glass", id), 1);
	call("GET", "/v1/reviews", "bob", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "reviews")),
	    1);
	tu_resp_free(&r);
	call("GET", "/v1/reviews", "carol", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "reviews")),
	    0);
	tu_resp_free(&r);
	call("GET", "/metrics", NULL, NULL, &r);
	ck_assert(tu_contains(r.body, "jitd_breakglass_unreviewed 1"));
	tu_resp_free(&r);
	/* The user of the grant cannot review it; a comment is required. */
	json_decref(act("alice", id, "review", "{\"comment\":\"fine\"}", 403));
	json_decref(act("bob", id, "review", "{\"comment\":\"\"}", 400));
	json_decref(act("bob", id, "review", "{\"comment\":\"restarted the "
	    "load balancer; ok\"}", 200));
	json_decref(act("dave", id, "review", "{\"comment\":\"again\"}", 409));
	call("GET", "/v1/reviews", "bob", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "reviews")),
	    0);
	tu_resp_free(&r);
	call("GET", "/metrics", NULL, NULL, &r);
	ck_assert(tu_contains(r.body, "jitd_breakglass_unreviewed 0"));
	tu_resp_free(&r);
}
END_TEST

START_TEST(auto_and_self_approval)
{
	json_int_t a, s;

	a = request("alice", "{\"role\":\"auto\",\"duration\":\"5m\"}", 201,
	    "approved");
	ck_assert_int_eq(audit_count("request.create", "ok", a), 1);
	/* selfok: bob may approve his own request. */
	s = request("bob", "{\"role\":\"selfok\",\"duration\":\"5m\"}", 201,
	    "pending");
	json_decref(act("bob", s, "approve", NULL, 200));
}
END_TEST

START_TEST(extend_grant)
{
	json_int_t id, ext;
	struct tu_resp r;
	json_t *j;
	int64_t end;

	id = request("alice", "{\"role\":\"prod-ssh\",\"reason\":\"x\","
	    "\"duration\":\"20m\",\"ticket\":\"INC-9\"}", 201, "pending");
	j = act("bob", id, "approve", NULL, 200);
	end = json_integer_value(json_object_get(j, "grant_end"));
	json_decref(j);
	/* Only the requester extends; it needs the same approval. */
	json_decref(act("bob", id, "extend", "{\"duration\":\"10m\","
	    "\"reason\":\"more\"}", 403));
	j = act("alice", id, "extend", "{\"duration\":\"10m\",\"reason\":"
	    "\"not done yet\"}", 201);
	ext = json_integer_value(json_object_get(j, "id"));
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "pending");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "extends")),
	    id);
	json_decref(j);
	call("GET", "/v1/requests/1", "alice", NULL, &r);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json,
	    "grant_end")), end);
	tu_resp_free(&r);
	json_decref(act("dave", ext, "approve", NULL, 200));
	call("GET", "/v1/requests/1", "alice", NULL, &r);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json,
	    "grant_end")), end + 600);
	tu_resp_free(&r);
	/*
	 * The extension is not a grant of its own: no certificate under it,
	 * before or after the grant it extends is revoked.
	 */
	{
		char *key = keygen("id");

		json_decref(ssh_cert("alice", ext, key, 409));
		json_decref(ssh_cert("alice", id, key, 200));
		json_decref(act("bob", id, "revoke", NULL, 200));
		json_decref(ssh_cert("alice", ext, key, 409));
		json_decref(ssh_cert("alice", id, key, 409));
		free(key);
	}
}
END_TEST

START_TEST(expiry_sweeper_and_lists)
{
	json_int_t p, g;
	struct tu_resp r;
	int i, expired = 0;

	p = request("alice", "{\"role\":\"quorum2\",\"duration\":600}", 201,
	    "pending");
	g = request("alice", "{\"role\":\"auto\",\"duration\":\"5m\"}", 201,
	    "approved");
	call("GET", "/v1/requests?mine=1", "alice", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "requests")),
	    2);
	tu_resp_free(&r);
	call("GET", "/v1/requests?state=approved", "alice", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "requests")),
	    1);
	tu_resp_free(&r);
	call("GET", "/v1/requests?state=bogus", "alice", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	tu_resp_free(&r);
	/* carol sees neither (not hers, not her role to approve). */
	call("GET", "/v1/requests", "carol", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "requests")),
	    0);
	tu_resp_free(&r);
	call("GET", "/v1/requests/1", "carol", NULL, &r);
	ck_assert_int_eq(r.status, 404);
	tu_resp_free(&r);
	/* Two hours later both have expired; the sweeper records it. */
	fake_now += 7200;
	for (i = 0; i < 50 && expired < 2; i++) {
		expired = audit_count("request.expire", "ok", p) +
		    audit_count("request.expire", "ok", g);
		if (expired < 2)
			usleep(100000);
	}
	ck_assert_int_eq(expired, 2);
	login("alice");
	call("GET", "/v1/requests?state=expired&mine=1", "alice", NULL, &r);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "requests")),
	    2);
	tu_resp_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("requests");
	TCase *tc = tcase_create("workflow");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, approve_issue_login_revoke);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, validation_and_mfa);
	tcase_add_test(tc, racing_approvals);
	tcase_add_test(tc, concurrent_issuance);
	tcase_add_test(tc, x509_issuance);
	tcase_add_test(tc, break_glass_review);
	tcase_add_test(tc, auto_and_self_approval);
	tcase_add_test(tc, extend_grant);
	tcase_add_test(tc, expiry_sweeper_and_lists);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
