/* An in-process jitd for the client-side tests (see jitfix.h). */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "broker/instance.h"
#include "broker/serve.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/jitfix.h"
#include "tests/lib/testutil.h"


char *fx_tmp, *fx_base, *fx_home;
static char *inst, *cfgpath;
static struct server *srv;
static struct {
	char	name[32];
	char	b32[64];
	char	token[64];
} users[4];
static int nusers;

static const char roles_json[] =
"[{\"name\":\"short\",\"ssh\":{\"principals\":[\"" FX_PRINC "\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":0,\"max_duration\":\"1h\",\"require_reason\":false},"
" {\"name\":\"forced\",\"ssh\":{\"principals\":[\"" FX_PRINC "\"],"
"  \"force_command\":\"echo forced:$SSH_ORIGINAL_COMMAND\"},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":0,\"max_duration\":\"1h\",\"require_reason\":false}]";

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
	char *pwf = tu_path(fx_tmp, "pw"), *jitd = tu_bin("jitd");
	char *argv[] = { jitd, "-c", cfgpath, "user", "add", (char *)name,
	    "--groups", (char *)groups, "--password-file", pwf, NULL };
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, FX_PASSWORD "\n", strlen(FX_PASSWORD) + 1, 0600);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	ck_assert_ptr_nonnull(s = strstr(o.out, "totp_secret: "));
	snprintf(users[nusers].name, sizeof(users[nusers].name), "%s", name);
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", users[nusers].b32),
	    1);
	nusers++;
	tu_out_free(&o);
	free(pwf);
	free(jitd);
}

void
fx_call(const char *method, const char *path, const char *user,
    const char *body, struct tu_resp *r)
{
	char url[512];
	const char *tok = NULL;

	if (user != NULL)
		tok = users[user_index(user)].token;
	snprintf(url, sizeof(url), "%s%s", fx_base, path);
	ck_assert_int_eq(tu_http(method, url, tok, body, body != NULL ?
	    strlen(body) : 0, NULL, NULL, NULL, r), 0);
}

void
fx_login(const char *name)
{
	struct tu_resp r;
	char code[7], body[256];
	int i = user_index(name);

	tu_totp(users[i].b32, time(NULL), code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" FX_PASSWORD
	    "\",\"otp\":\"%s\"}", name, code);
	fx_call("POST", "/v1/login", NULL, body, &r);
	ck_assert_msg(r.status == 200, "login %s: %s", name, r.body);
	snprintf(users[i].token, sizeof(users[i].token), "%s",
	    tu_jstr(&r, "token"));
	tu_resp_free(&r);
}

void
fx_setup(void)
{
	json_t *c, *roles;
	char *err = NULL, listen[64];
	int port = tu_free_port();

	fx_tmp = tu_mkdtemp("clients");
	inst = tu_path(fx_tmp, "inst");
	fx_home = tu_path(fx_tmp, "home");
	cfgpath = tu_path(inst, "jitd.json");
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	ck_assert_ptr_nonnull(c = json_load_file(cfgpath, 0, NULL));
	ck_assert_ptr_nonnull(roles = json_loads(roles_json, 0, NULL));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "roles", roles);
	json_object_set_new(c, "threads", json_integer(4));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	nusers = 0;
	add_user("alice", "eng");
	add_user("bob", "sre");
	add_user("carol", "eng");
	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
	if (asprintf(&fx_base, "http://127.0.0.1:%d", port) == -1)
		abort();
	fx_login("alice");
	fx_login("bob");
}

void
fx_teardown(void)
{
	serve_close(srv);
	srv = NULL;
	tu_rmdir(fx_tmp);
	free(fx_tmp);
	free(inst);
	free(cfgpath);
	free(fx_base);
	free(fx_home);
}

/* Runs `jit ARGS...` (NULL-terminated) with a private JIT_HOME. */
void
fx_jit(struct tu_out *o, ...)
{
	va_list ap;
	int r;

	va_start(ap, o);
	r = tu_jitv(fx_home, NULL, 60, ap, o);
	va_end(ap);
	ck_assert_int_eq(r, 0);
}

char *
fx_keygen(const char *name)
{
	char *path = tu_path(fx_tmp, name);
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
	    path, NULL };
	struct tu_out o;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	return path;
}

/*
 * alice asks for role for secs seconds (approved at once) and gets a
 * certificate for key, written to KEY-cert.pub; returns the request id
 * and the serial.
 */
json_int_t
fx_grant_cert(const char *role, int secs, const char *key, char **line,
    char serial[32])
{
	struct tu_resp r;
	char body[1024], *pubp, *pub, *certp;
	json_int_t id;

	snprintf(body, sizeof(body), "{\"role\":\"%s\",\"duration\":%d}", role,
	    secs);
	fx_call("POST", "/v1/requests", "alice", body, &r);
	ck_assert_msg(r.status == 201, "request: %s", r.body);
	ck_assert_str_eq(tu_jstr(&r, "state"), "approved");
	id = json_integer_value(json_object_get(r.json, "id"));
	tu_resp_free(&r);
	if (asprintf(&pubp, "%s.pub", key) == -1)
		abort();
	pub = tu_read_file(pubp, NULL);
	pub[strcspn(pub, "\n")] = '\0';
	snprintf(body, sizeof(body), "{\"public_key\":\"%s\"}", pub);
	snprintf(pubp, strlen(pubp) + 1, "/v1/requests/%lld/ssh-cert",
	    (long long)id);
	fx_call("POST", pubp, "alice", body, &r);
	ck_assert_msg(r.status == 200, "ssh-cert: %s", r.body);
	if (asprintf(&certp, "%s-cert.pub", key) == -1)
		abort();
	tu_write_file(certp, tu_jstr(&r, "certificate"),
	    strlen(tu_jstr(&r, "certificate")), 0644);
	if (line != NULL)
		*line = strdup(tu_jstr(&r, "certificate"));
	snprintf(serial, 32, "%s", tu_jstr(&r, "serial"));
	tu_resp_free(&r);
	free(certp);
	free(pub);
	free(pubp);
	return id;
}

const char *
fx_b32(const char *name)
{
	int i = user_index(name);

	ck_assert_int_ge(i, 0);
	return users[i].b32;
}
