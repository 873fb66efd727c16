/*
 * Unit tests for approvals/policy: loading roles from the config's JSON
 * (every field, every default, every refusal with the sentence that names
 * the role and the field, hostile sizes), membership matching, and the
 * checks on a new request's reason, ticket, duration and start.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "approvals/policy.h"
#include "common/err.h"

#define NOW	((int64_t)1795000000)

static const char example_role[] =
    "{\"name\": \"prod-ssh\", \"description\": \"root on production web "
    "hosts\","
    " \"ssh\": {\"principals\": [\"webadmin\"], \"extensions\": "
    "[\"permit-pty\"], \"source_address\": \"10.0.0.0/8\", "
    "\"force_command\": null},"
    " \"x509\": {\"organizational_unit\": \"prod\", \"uri_san\": true},"
    " \"requesters\": [\"group:eng\"], \"approvers\": [\"group:sre-leads\", "
    "\"bob\"],"
    " \"approvals_required\": 1, \"self_approval\": false, "
    "\"max_duration\": \"1h\","
    " \"require_reason\": true, \"pending_ttl\": \"1h\", "
    "\"ticket_pattern\": \"^(INC|CHG)-[0-9]+$\", \"break_glass\": false}";

static const char minimal_role[] =
    "{\"name\": \"min\", \"ssh\": {\"principals\": [\"p\"]}, "
    "\"requesters\": [\"alice\"], \"approvers\": [\"bob\"], "
    "\"max_duration\": \"30m\"}";

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *v;

	v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	ck_assert_msg(v != NULL, "bad test JSON: %s: %s", e.text, text);
	return v;
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Sets "key" or "obj.key" of role to the JSON text val (NULL deletes). */
static void
set_path(json_t *role, const char *path, const char *val)
{
	const char *dot = strchr(path, '.');
	json_t *obj = role;
	char head[64];

	if (dot != NULL) {
		snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
		obj = json_object_get(role, head);
		ck_assert_ptr_nonnull(obj);
		path = dot + 1;
	}
	if (val == NULL)
		json_object_del(obj, path);
	else
		ck_assert_int_eq(json_object_set_new(obj, path, parse(val)), 0);
}

static json_t *
wrap(json_t *role)
{
	json_t *a = json_array();

	ck_assert_int_eq(json_array_append_new(a, role), 0);
	return a;
}

/* Loads roles, expecting success; returns the policy. */
static struct policy *
load_ok(json_t *roles)
{
	struct policy *p = NULL;
	char *err = NULL;
	int r = policy_load(roles, &p, &err);

	ck_assert_msg(r == JIT_OK, "policy_load: %d: %s", r,
	    err != NULL ? err : "(no message)");
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(p);
	json_decref(roles);
	return p;
}

/* Loads roles, expecting a refusal mentioning want1 and want2. */
static void
load_bad(json_t *roles, const char *want1, const char *want2,
    const char *what)
{
	struct policy *p = (struct policy *)1;
	char *err = NULL;
	int r = policy_load(roles, &p, &err);

	ck_assert_msg(r == JIT_ERR_INVALID_ARG, "%s: policy_load gave %d",
	    what, r);
	ck_assert_ptr_null(p);
	ck_assert_msg(err != NULL, "%s: no message", what);
	ck_assert_msg(strstr(err, want1) != NULL, "%s: message \"%s\" lacks "
	    "\"%s\"", what, err, want1);
	ck_assert_msg(want2 == NULL || strstr(err, want2) != NULL, "%s: "
	    "message \"%s\" lacks \"%s\"", what, err, want2);
	ck_assert_msg(strlen(err) < 600, "%s: message of %zu bytes", what,
	    strlen(err));
	free(err);
	json_decref(roles);
}

START_TEST(example_role_loads)
{
	struct policy *p = load_ok(wrap(parse(example_role)));
	const struct policy_role *r;

	ck_assert_uint_eq(policy_count(p), 1);
	r = policy_role_at(p, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_eq(policy_find(p, "prod-ssh"), r);
	ck_assert_str_eq(r->name, "prod-ssh");
	ck_assert_str_eq(r->description, "root on production web hosts");
	ck_assert_int_eq(r->has_ssh, 1);
	ck_assert_uint_eq(r->nssh_principals, 1);
	ck_assert_str_eq(r->ssh_principals[0], "webadmin");
	ck_assert_uint_eq(r->nssh_extensions, 1);
	ck_assert_str_eq(r->ssh_extensions[0], "permit-pty");
	ck_assert_str_eq(r->ssh_source_address, "10.0.0.0/8");
	ck_assert_ptr_null(r->ssh_force_command);
	ck_assert_int_eq(r->has_x509, 1);
	ck_assert_str_eq(r->x509_ou, "prod");
	ck_assert_int_eq(r->x509_uri_san, 1);
	ck_assert_uint_eq(r->nrequesters, 1);
	ck_assert_str_eq(r->requesters[0], "group:eng");
	ck_assert_uint_eq(r->napprovers, 2);
	ck_assert_str_eq(r->approvers[0], "group:sre-leads");
	ck_assert_str_eq(r->approvers[1], "bob");
	ck_assert_int_eq(r->approvals_required, 1);
	ck_assert_int_eq(r->self_approval, 0);
	ck_assert(r->max_duration == 3600);
	ck_assert_int_eq(r->require_reason, 1);
	ck_assert(r->pending_ttl == 3600);
	ck_assert_str_eq(r->ticket_pattern, "^(INC|CHG)-[0-9]+$");
	ck_assert_ptr_nonnull(r->ticket_re);
	ck_assert_int_eq(r->break_glass, 0);
	ck_assert_ptr_null(policy_find(p, "prod"));
	ck_assert_ptr_null(policy_find(p, "prod-ssh2"));
	ck_assert_ptr_null(policy_find(p, NULL));
	ck_assert_ptr_null(policy_role_at(p, 1));
	policy_free(p);
}
END_TEST

START_TEST(defaults)
{
	struct policy *p;
	const struct policy_role *r;
	json_t *role, *roles = json_array();

	role = parse(minimal_role);
	json_array_append_new(roles, role);
	/* x509 only, an empty x509 object, explicit values, integers. */
	role = parse("{\"name\": \"tls\", \"x509\": {}, \"ssh\": null, "
	    "\"requesters\": [\"alice\", \"group:ops\"], "
	    "\"approvals_required\": 0, \"max_duration\": 604800, "
	    "\"pending_ttl\": \"7d\", \"require_reason\": false, "
	    "\"self_approval\": true, \"ticket_pattern\": null, "
	    "\"description\": \"caf\\u00e9\"}");
	json_array_append_new(roles, role);
	role = parse("{\"name\": \"bg\", \"ssh\": {\"principals\": [\"root\"], "
	    "\"extensions\": [], \"force_command\": \"/usr/bin/true --x\", "
	    "\"source_address\": null}, \"requesters\": [\"alice\"], "
	    "\"approvers\": [\"bob\"], \"approvals_required\": 0, "
	    "\"break_glass\": true, \"max_duration\": 1, \"pending_ttl\": 1}");
	json_array_append_new(roles, role);
	p = load_ok(roles);
	ck_assert_uint_eq(policy_count(p), 3);

	r = policy_find(p, "min");
	ck_assert_str_eq(r->description, "");
	ck_assert_int_eq(r->has_ssh, 1);
	ck_assert_uint_eq(r->nssh_extensions, 1);
	ck_assert_str_eq(r->ssh_extensions[0], "permit-pty");
	ck_assert_ptr_null(r->ssh_source_address);
	ck_assert_ptr_null(r->ssh_force_command);
	ck_assert_int_eq(r->has_x509, 0);
	ck_assert_ptr_null(r->x509_ou);
	ck_assert_int_eq(r->x509_uri_san, 0);
	ck_assert_int_eq(r->approvals_required, 1);
	ck_assert_int_eq(r->self_approval, 0);
	ck_assert(r->max_duration == 1800);
	ck_assert_int_eq(r->require_reason, 1);
	ck_assert(r->pending_ttl == 3600);
	ck_assert_ptr_null(r->ticket_pattern);
	ck_assert_ptr_null(r->ticket_re);
	ck_assert_int_eq(r->break_glass, 0);

	r = policy_find(p, "tls");
	ck_assert_int_eq(r->has_ssh, 0);
	ck_assert_uint_eq(r->nssh_principals, 0);
	ck_assert_int_eq(r->has_x509, 1);
	ck_assert_ptr_null(r->x509_ou);
	ck_assert_int_eq(r->x509_uri_san, 0);
	ck_assert_uint_eq(r->napprovers, 0);
	ck_assert_int_eq(r->approvals_required, 0);
	ck_assert(r->max_duration == 7 * 86400);
	ck_assert(r->pending_ttl == 7 * 86400);
	ck_assert_int_eq(r->require_reason, 0);
	ck_assert_int_eq(r->self_approval, 1);
	ck_assert_str_eq(r->description, "caf\xc3\xa9");

	r = policy_find(p, "bg");
	ck_assert_uint_eq(r->nssh_extensions, 0);
	ck_assert_str_eq(r->ssh_force_command, "/usr/bin/true --x");
	ck_assert_int_eq(r->break_glass, 1);
	ck_assert(r->max_duration == 1 && r->pending_ttl == 1);
	policy_free(p);

	/* No roles at all. */
	p = NULL;
	ck_assert_int_eq(policy_load(NULL, &p, NULL), JIT_OK);
	ck_assert_uint_eq(policy_count(p), 0);
	ck_assert_ptr_null(policy_find(p, "min"));
	policy_free(p);
	p = load_ok(json_array());
	ck_assert_uint_eq(policy_count(p), 0);
	policy_free(p);
	policy_free(NULL);
	ck_assert_uint_eq(policy_count(NULL), 0);
	ck_assert_ptr_null(policy_role_at(NULL, 0));
}
END_TEST

/* One mutation of the example role and what the refusal must say. */
struct bad_case {
	const char	*path;
	const char	*val;	/* JSON text; NULL removes the key */
	const char	*want;	/* besides role "prod-ssh" */
};

static const struct bad_case bad_cases[] = {
	{ "description", "5", "\"description\"" },
	{ "description", "null", "\"description\"" },
	{ "description", "\"a\\nb\"", "\"description\"" },
	{ "description", "\"a\\u0085b\"", "\"description\"" },
	{ "ssh", "\"x\"", "\"ssh\" must be an object" },
	{ "x509", "[]", "\"x509\" must be an object" },
	{ "ssh.principals", NULL, "\"ssh.principals\" is required" },
	{ "ssh.principals", "[]", "\"ssh.principals\" must be a non-empty" },
	{ "ssh.principals", "\"webadmin\"", "\"ssh.principals\" must be" },
	{ "ssh.principals", "null", "\"ssh.principals\" must be" },
	{ "ssh.principals", "[\"a b\"]", "\"ssh.principals\"[0]" },
	{ "ssh.principals", "[\"ok\", \"a,b\"]", "\"ssh.principals\"[1]" },
	{ "ssh.principals", "[\"\"]", "\"ssh.principals\"[0]" },
	{ "ssh.principals", "[\"a\\tb\"]", "\"ssh.principals\"[0]" },
	{ "ssh.principals", "[\"caf\\u00e9\"]", "\"ssh.principals\"[0]" },
	{ "ssh.principals", "[\"a\\u0000b\"]", "\"ssh.principals\"[0]" },
	{ "ssh.principals", "[1]", "\"ssh.principals\"[0]" },
	{ "ssh.principals", "[\"web\", \"web\"]",
	    "\"ssh.principals\" lists \"web\" twice" },
	{ "ssh.extensions", "[\"permit-foo\"]", "\"permit-foo\"" },
	{ "ssh.extensions", "[\"permit-x11-forwarding\"]",
	    "\"permit-x11-forwarding\"" },
	{ "ssh.extensions", "[\"no-touch-required\"]", "\"ssh.extensions\"" },
	{ "ssh.extensions", "\"permit-pty\"", "\"ssh.extensions\" must be" },
	{ "ssh.extensions", "null", "\"ssh.extensions\" must be" },
	{ "ssh.extensions", "[\"permit-pty\", \"permit-pty\"]",
	    "\"ssh.extensions\" lists \"permit-pty\" twice" },
	{ "ssh.source_address", "\"10.0.0.1/8\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/33\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/8,\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\",10.0.0.0/8\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/8, 192.168.0.0/16\"",
	    "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/8,,10.1.0.0/16\"",
	    "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/-1\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/+8\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/0008\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0.0/8/8\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.0.0\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"256.0.0.0\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"host.example.com\"",
	    "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"10.*\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"2001:db8::1/32\"",
	    "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"2001:db8::/129\"",
	    "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"fe80::1%eth0\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"0.0.0.1/0\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "\"\"", "\"ssh.source_address\"" },
	{ "ssh.source_address", "5", "\"ssh.source_address\"" },
	{ "ssh.source_address", "[\"10.0.0.0/8\"]", "\"ssh.source_address\"" },
	{ "ssh.force_command", "\"\"", "\"ssh.force_command\"" },
	{ "ssh.force_command", "\"a\\nb\"", "\"ssh.force_command\"" },
	{ "ssh.force_command", "\"\\u00e9\"", "\"ssh.force_command\"" },
	{ "ssh.force_command", "true", "\"ssh.force_command\"" },
	{ "x509.organizational_unit", "\"\"",
	    "\"x509.organizational_unit\"" },
	{ "x509.organizational_unit", "\"a\\u0001\"",
	    "\"x509.organizational_unit\"" },
	{ "x509.organizational_unit", "\"a\\u007f\"",
	    "\"x509.organizational_unit\"" },
	{ "x509.organizational_unit", "7", "\"x509.organizational_unit\"" },
	{ "x509.uri_san", "\"yes\"", "\"x509.uri_san\" must be true or false" },
	{ "x509.uri_san", "1", "\"x509.uri_san\" must be true or false" },
	{ "requesters", NULL, "\"requesters\" is required" },
	{ "requesters", "[]", "\"requesters\" must be a non-empty" },
	{ "requesters", "\"alice\"", "\"requesters\" must be" },
	{ "requesters", "[\"Bob\"]", "\"requesters\"[0]" },
	{ "requesters", "[\"alice\", \"group:\"]", "\"requesters\"[1]" },
	{ "requesters", "[\"group:Eng\"]", "\"requesters\"[0]" },
	{ "requesters", "[\"group:-eng\"]", "\"requesters\"[0]" },
	{ "requesters", "[\"grp:eng\"]", "\"requesters\"[0]" },
	{ "requesters", "[\"a b\"]", "\"requesters\"[0]" },
	{ "requesters", "[\"alice\", \"alice\"]",
	    "\"requesters\" lists \"alice\" twice" },
	{ "approvers", NULL, "\"approvers\" is required" },
	{ "approvers", "[]", "\"approvers\" must be a non-empty" },
	{ "approvers", "[\"bob\", \"bob\"]", "\"approvers\" lists \"bob\"" },
	{ "approvers", "[\"bob@example.com\"]", "\"approvers\"[0]" },
	{ "approvals_required", "-1", "\"approvals_required\" must be an "
	    "integer from 0 to 10" },
	{ "approvals_required", "11", "\"approvals_required\" must be" },
	{ "approvals_required", "\"1\"", "\"approvals_required\" must be" },
	{ "approvals_required", "1.0", "\"approvals_required\" must be" },
	{ "approvals_required", "true", "\"approvals_required\" must be" },
	{ "approvals_required", "null", "\"approvals_required\" must be" },
	{ "self_approval", "\"no\"", "\"self_approval\" must be true or "
	    "false" },
	{ "self_approval", "0", "\"self_approval\" must be true or false" },
	{ "require_reason", "1", "\"require_reason\" must be true or false" },
	{ "require_reason", "null", "\"require_reason\"" },
	{ "break_glass", "\"false\"", "\"break_glass\" must be true or false" },
	{ "max_duration", NULL, "\"max_duration\" is required" },
	{ "max_duration", "\"8d\"", "\"max_duration\" must be a duration "
	    "like \"30m\" or \"1h\" (at most 7 days)" },
	{ "max_duration", "604801", "\"max_duration\" must be a duration" },
	{ "max_duration", "0", "\"max_duration\" must be a duration" },
	{ "max_duration", "-60", "\"max_duration\" must be a duration" },
	{ "max_duration", "\"0s\"", "\"max_duration\" must be a duration" },
	{ "max_duration", "\"1h \"", "\"max_duration\" must be a duration" },
	{ "max_duration", "\"an hour\"", "\"max_duration\" must be a "
	    "duration" },
	{ "max_duration", "\"-1h\"", "\"max_duration\" must be a duration" },
	{ "max_duration", "3600.0", "\"max_duration\" must be a duration" },
	{ "max_duration", "null", "\"max_duration\" must be a duration" },
	{ "max_duration", "\"99999999999999999999d\"",
	    "\"max_duration\" must be a duration" },
	{ "pending_ttl", "\"8d\"", "\"pending_ttl\" must be a duration like "
	    "\"30m\" or \"1h\" (at most 7 days)" },
	{ "pending_ttl", "0", "\"pending_ttl\" must be a duration" },
	{ "pending_ttl", "\"\"", "\"pending_ttl\" must be a duration" },
	{ "ticket_pattern", "\"(\"", "\"ticket_pattern\" is not a valid" },
	{ "ticket_pattern", "\"[a-\"", "\"ticket_pattern\" is not a valid" },
	{ "ticket_pattern", "\"a{2,1}\"", "\"ticket_pattern\" is not a valid" },
	{ "ticket_pattern", "\"\"", "\"ticket_pattern\"" },
	{ "ticket_pattern", "\"a\\nb\"", "\"ticket_pattern\"" },
	{ "ticket_pattern", "5", "\"ticket_pattern\"" },
	{ "aprovers", "[\"bob\"]", "unknown key \"aprovers\"" },
	{ "Name", "\"x\"", "unknown key \"Name\"" },
	{ "ssh.principal", "[\"x\"]", "unknown key \"principal\" in \"ssh\"" },
	{ "ssh.permit-pty", "true", "unknown key \"permit-pty\" in \"ssh\"" },
	{ "x509.ou", "\"x\"", "unknown key \"ou\" in \"x509\"" },
	{ "x509.uri", "true", "unknown key \"uri\" in \"x509\"" },
};

START_TEST(refusals)
{
	const struct bad_case *c = &bad_cases[_i];
	json_t *role = parse(example_role);
	char what[256];

	set_path(role, c->path, c->val);
	snprintf(what, sizeof(what), "%s = %s", c->path,
	    c->val != NULL ? c->val : "(removed)");
	load_bad(wrap(role), "role \"prod-ssh\": ", c->want, what);
}
END_TEST

/* Mutations of the example role that must load. */
static const struct bad_case good_cases[] = {
	{ "description", "\"\"", NULL },
	{ "ssh.source_address", "\"10.1.2.3\"", NULL },
	{ "ssh.source_address", "\"0.0.0.0/0\"", NULL },
	{ "ssh.source_address", "\"::/0\"", NULL },
	{ "ssh.source_address", "\"::1\"", NULL },
	{ "ssh.source_address", "\"192.168.1.128/25\"", NULL },
	{ "ssh.source_address", "\"10.0.0.0/08\"", NULL },
	{ "ssh.source_address", "\"10.1.2.3/32,2001:db8::/32,fe80::/10\"",
	    NULL },
	{ "ssh.source_address", "\"2001:db8:0:0:8000::/65\"", NULL },
	{ "ssh.source_address", "null", NULL },
	{ "ssh.extensions", "[\"permit-pty\", \"permit-agent-forwarding\", "
	    "\"permit-port-forwarding\", \"permit-X11-forwarding\", "
	    "\"permit-user-rc\"]", NULL },
	{ "ssh.force_command", "\"/usr/local/bin/restricted-shell -x\"",
	    NULL },
	{ "x509", "null", NULL },
	{ "ssh", "null", NULL },
	{ "x509.organizational_unit", "\"\\u00e9quipe prod\"", NULL },
	{ "x509.organizational_unit", "null", NULL },
	{ "approvals_required", "10", NULL },	/* a group: cannot check */
	{ "approvals_required", "0", NULL },
	{ "max_duration", "\"1h30m\"", NULL },
	{ "max_duration", "\"7d\"", NULL },
	{ "max_duration", "604800", NULL },
	{ "max_duration", "\"90s\"", NULL },
	{ "pending_ttl", "\"7d\"", NULL },
	{ "ticket_pattern", "null", NULL },
	{ "ticket_pattern", "\"INC-[0-9]+\"", NULL },
	{ "//", "\"a comment\"", NULL },
	{ "//approvers", "[\"not\", \"a\", \"key\"]", NULL },
	{ "ssh.//principals", "\"comment\"", NULL },
	{ "x509.//", "{\"anything\": 1}", NULL },
};

START_TEST(acceptances)
{
	const struct bad_case *c = &good_cases[_i];
	json_t *role = parse(example_role);

	set_path(role, c->path, c->val);
	policy_free(load_ok(wrap(role)));
}
END_TEST

START_TEST(names_and_structure)
{
	static const char *const bad_names[] = {
		"\"\"", "\"Prod\"", "\"-prod\"", "\".prod\"", "\"prod ssh\"",
		"\"prod/ssh\"", "\"pr\\u00f6d\"", "\"a\\u0000b\"", "42", "null",
		"[\"prod\"]",
	};
	json_t *roles, *role;
	char *big;
	int i;

	load_bad(json_object(), "\"roles\" must be an array", NULL, "object");
	load_bad(json_null(), "\"roles\" must be an array", NULL, "null");
	load_bad(wrap(json_string("prod")), "roles[0] must be an object",
	    NULL, "string role");

	/* The index names a role that has no usable name yet. */
	roles = json_array();
	for (i = 0; i < 3; i++) {
		role = parse(minimal_role);
		json_object_set_new(role, "name", json_sprintf("r%d", i));
		json_array_append_new(roles, role);
	}
	role = parse(minimal_role);
	json_object_del(role, "name");
	json_array_append_new(roles, role);
	load_bad(roles, "roles[3]: \"name\" is required", NULL, "no name");

	for (i = 0; i < (int)(sizeof(bad_names) / sizeof(bad_names[0]));
	    i++) {
		role = parse(example_role);
		set_path(role, "name", bad_names[i]);
		load_bad(wrap(role), "roles[0]: \"name\" must be", NULL,
		    bad_names[i]);
	}
	role = parse(example_role);
	big = repeat('a', 65);
	json_object_set_new(role, "name", json_string(big));
	load_bad(wrap(role), "roles[0]: \"name\" must be", NULL, "65 chars");
	big[64] = '\0';
	role = parse(example_role);
	json_object_set_new(role, "name", json_string(big));
	policy_free(load_ok(wrap(role)));
	free(big);
	role = parse(example_role);
	set_path(role, "name", "\"0.a_b-c\"");
	policy_free(load_ok(wrap(role)));

	/* Duplicates. */
	roles = json_array();
	json_array_append_new(roles, parse(example_role));
	json_array_append_new(roles, parse(minimal_role));
	json_array_append_new(roles, parse(example_role));
	load_bad(roles, "duplicate role \"prod-ssh\"", NULL, "duplicate");

	/* Neither ssh nor x509. */
	role = parse(example_role);
	set_path(role, "ssh", NULL);
	set_path(role, "x509", NULL);
	load_bad(wrap(role), "role \"prod-ssh\": at least one of \"ssh\" and "
	    "\"x509\"", NULL, "no profile");
	role = parse(example_role);
	set_path(role, "ssh", "null");
	set_path(role, "x509", "null");
	load_bad(wrap(role), "at least one of \"ssh\" and \"x509\"", NULL,
	    "null profiles");
}
END_TEST

START_TEST(approvers_rules)
{
	json_t *role;
	struct policy *p;

	/* Quorum larger than a list of plain users. */
	role = parse(example_role);
	set_path(role, "approvers", "[\"bob\", \"carol\"]");
	set_path(role, "approvals_required", "3");
	load_bad(wrap(role), "role \"prod-ssh\": \"approvals_required\" is 3 "
	    "but \"approvers\" names only 2 users", NULL, "quorum");
	role = parse(example_role);
	set_path(role, "approvers", "[\"bob\", \"carol\"]");
	set_path(role, "approvals_required", "2");
	policy_free(load_ok(wrap(role)));
	/* With a group in the list the size is unknown: accepted. */
	role = parse(example_role);
	set_path(role, "approvers", "[\"bob\", \"group:sre\"]");
	set_path(role, "approvals_required", "5");
	policy_free(load_ok(wrap(role)));

	/* No approvals needed and no break-glass: approvers optional. */
	role = parse(example_role);
	set_path(role, "approvals_required", "0");
	set_path(role, "approvers", NULL);
	p = load_ok(wrap(role));
	ck_assert_uint_eq(policy_role_at(p, 0)->napprovers, 0);
	ck_assert_int_eq(policy_is_approver(policy_role_at(p, 0), "bob", ""),
	    0);
	policy_free(p);
	role = parse(example_role);
	set_path(role, "approvals_required", "0");
	set_path(role, "approvers", "[]");
	policy_free(load_ok(wrap(role)));

	/* Break-glass needs someone to review and revoke. */
	role = parse(example_role);
	set_path(role, "approvals_required", "0");
	set_path(role, "break_glass", "true");
	set_path(role, "approvers", NULL);
	load_bad(wrap(role), "\"approvers\" is required", NULL, "bg none");
	role = parse(example_role);
	set_path(role, "approvals_required", "0");
	set_path(role, "break_glass", "true");
	set_path(role, "approvers", "[]");
	load_bad(wrap(role), "\"approvers\" must be a non-empty", NULL,
	    "bg empty");
}
END_TEST

START_TEST(huge_inputs)
{
	static const char *const paths[] = {
		"name", "description", "ssh.principals", "ssh.extensions",
		"ssh.source_address", "ssh.force_command",
		"x509.organizational_unit", "requesters", "approvers",
		"max_duration", "pending_ttl", "ticket_pattern",
	};
	json_t *roles, *role, *a;
	char *big = repeat('a', 10000), *bigaddr;
	size_t i, off;

	/* 300 roles: refused before looking at any of them. */
	roles = json_array();
	for (i = 0; i < 300; i++) {
		role = parse(minimal_role);
		json_object_set_new(role, "name", json_sprintf("r%zu", i));
		json_array_append_new(roles, role);
	}
	load_bad(roles, "\"roles\" must be an array of at most 256", NULL,
	    "300 roles");
	/* 256 roles are fine. */
	roles = json_array();
	for (i = 0; i < POLICY_ROLES_MAX; i++) {
		role = parse(minimal_role);
		json_object_set_new(role, "name", json_sprintf("r%zu", i));
		json_array_append_new(roles, role);
	}
	policy_free(load_ok(roles));

	/* A 10k string in every string field. */
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		role = parse(example_role);
		if (strcmp(paths[i], "ssh.principals") == 0 ||
		    strcmp(paths[i], "ssh.extensions") == 0 ||
		    strcmp(paths[i], "requesters") == 0 ||
		    strcmp(paths[i], "approvers") == 0) {
			a = json_array();
			json_array_append_new(a, json_string(big));
			json_object_set_new(strchr(paths[i], '.') != NULL ?
			    json_object_get(role, "ssh") : role,
			    strchr(paths[i], '.') != NULL ?
			    strchr(paths[i], '.') + 1 : paths[i], a);
		} else if (strchr(paths[i], '.') != NULL) {
			char head[8];

			snprintf(head, sizeof(head), "%.*s",
			    (int)(strchr(paths[i], '.') - paths[i]), paths[i]);
			json_object_set_new(json_object_get(role, head),
			    strchr(paths[i], '.') + 1, json_string(big));
		} else
			json_object_set_new(role, paths[i], json_string(big));
		load_bad(wrap(role), strcmp(paths[i], "name") == 0 ?
		    "roles[0]" : "role \"prod-ssh\"",
		    strchr(paths[i], '.') != NULL ? strchr(paths[i], '.') + 1 :
		    paths[i], paths[i]);
	}
	/* An unknown 10k key is echoed only in part. */
	role = parse(example_role);
	json_object_set_new(role, big, json_true());
	load_bad(wrap(role), "unknown key \"aaaa", "...", "10k key");
	/* A 10k extension name is refused and echoed in part. */
	role = parse(example_role);
	a = json_array();
	json_array_append_new(a, json_string(big));
	json_object_set_new(json_object_get(role, "ssh"), "extensions", a);
	load_bad(wrap(role), "\"ssh.extensions\"[0]", "...", "10k extension");

	/* 257 principals, requesters and extensions beyond their caps. */
	role = parse(example_role);
	a = json_array();
	for (i = 0; i < 257; i++)
		json_array_append_new(a, json_sprintf("p%zu", i));
	json_object_set_new(json_object_get(role, "ssh"), "principals", a);
	load_bad(wrap(role), "\"ssh.principals\" must be", "at most 256",
	    "257 principals");
	role = parse(example_role);
	a = json_array();
	for (i = 0; i < 257; i++)
		json_array_append_new(a, json_sprintf("u%zu", i));
	json_object_set_new(role, "requesters", a);
	load_bad(wrap(role), "\"requesters\" must be", "at most 256",
	    "257 requesters");
	role = parse(example_role);
	a = json_array();
	for (i = 0; i < 256; i++)
		json_array_append_new(a, json_sprintf("u%zu", i));
	json_object_set_new(role, "approvers", a);
	policy_free(load_ok(wrap(role)));
	role = parse(example_role);
	a = json_array();
	for (i = 0; i < 1000; i++)
		json_array_append_new(a, json_string("permit-pty"));
	json_object_set_new(json_object_get(role, "ssh"), "extensions", a);
	load_bad(wrap(role), "\"ssh.extensions\" must be", NULL, "1000 ext");

	/* Principal lengths: 255 accepted, 256 refused. */
	role = parse(example_role);
	big[255] = '\0';
	a = json_array();
	json_array_append_new(a, json_string(big));
	json_object_set_new(json_object_get(role, "ssh"), "principals", a);
	policy_free(load_ok(wrap(role)));
	big[255] = 'a';
	big[256] = '\0';
	role = parse(example_role);
	a = json_array();
	json_array_append_new(a, json_string(big));
	json_object_set_new(json_object_get(role, "ssh"), "principals", a);
	load_bad(wrap(role), "\"ssh.principals\"[0]", NULL, "256 principal");
	big[256] = 'a';

	/* force_command 4096 accepted, 4097 refused. */
	big[4096] = '\0';
	role = parse(example_role);
	json_object_set_new(json_object_get(role, "ssh"), "force_command",
	    json_string(big));
	policy_free(load_ok(wrap(role)));
	big[4096] = 'a';
	big[4097] = '\0';
	role = parse(example_role);
	json_object_set_new(json_object_get(role, "ssh"), "force_command",
	    json_string(big));
	load_bad(wrap(role), "\"ssh.force_command\"", NULL, "4097 command");
	big[4097] = 'a';

	/* description 512 accepted, 513 refused; OU 64 / 65. */
	big[512] = '\0';
	role = parse(example_role);
	json_object_set_new(role, "description", json_string(big));
	policy_free(load_ok(wrap(role)));
	big[512] = 'a';
	big[513] = '\0';
	role = parse(example_role);
	json_object_set_new(role, "description", json_string(big));
	load_bad(wrap(role), "\"description\"", NULL, "513 description");
	big[513] = 'a';
	big[64] = '\0';
	role = parse(example_role);
	json_object_set_new(json_object_get(role, "x509"),
	    "organizational_unit", json_string(big));
	policy_free(load_ok(wrap(role)));
	big[64] = 'a';
	big[65] = '\0';
	role = parse(example_role);
	json_object_set_new(json_object_get(role, "x509"),
	    "organizational_unit", json_string(big));
	load_bad(wrap(role), "\"x509.organizational_unit\"", NULL, "65 OU");
	big[65] = 'a';

	/* A source-address list just under and just over 4096 bytes. */
	bigaddr = malloc(8192);
	ck_assert_ptr_nonnull(bigaddr);
	for (off = 0; off + 12 <= 4096;)
		off += (size_t)snprintf(bigaddr + off, 8192 - off, "%s10.0.0.1",
		    off == 0 ? "" : ",");
	role = parse(example_role);
	json_object_set_new(json_object_get(role, "ssh"), "source_address",
	    json_string(bigaddr));
	policy_free(load_ok(wrap(role)));
	while (off <= 4096)
		off += (size_t)snprintf(bigaddr + off, 8192 - off, ",1.2.3.4");
	role = parse(example_role);
	json_object_set_new(json_object_get(role, "ssh"), "source_address",
	    json_string(bigaddr));
	load_bad(wrap(role), "\"ssh.source_address\"", NULL, "4097 addrs");
	free(bigaddr);
	free(big);
}
END_TEST

START_TEST(membership)
{
	char *list[] = { "bob", "group:eng", "group:sre.leads" };
	char *users[] = { "bob" };
	char *empty_group[] = { "group:" };
	struct policy *p = load_ok(wrap(parse(example_role)));
	const struct policy_role *r = policy_role_at(p, 0);

	ck_assert_int_eq(policy_is_member(list, 3, "bob", ""), 1);
	ck_assert_int_eq(policy_is_member(list, 3, "bob", NULL), 1);
	ck_assert_int_eq(policy_is_member(list, 3, "bobby", ""), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "bo", ""), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "Bob", ""), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "eng"), 1);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "ops,eng"), 1);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "eng,ops"), 1);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "a,eng,b"), 1);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "engineering"), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "xeng"), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "en"), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "xeng,engx"), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "eng "), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "group:eng"), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "sre"), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", "sre.leads"), 1);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", ""), 0);
	ck_assert_int_eq(policy_is_member(list, 3, "alice", ",,"), 0);
	ck_assert_int_eq(policy_is_member(list, 3, NULL, NULL), 0);
	/* A group is not a user, and a user name is not a group. */
	ck_assert_int_eq(policy_is_member(list, 3, "eng", ""), 0);
	ck_assert_int_eq(policy_is_member(users, 1, "alice", "bob"), 0);
	ck_assert_int_eq(policy_is_member(list, 1, "alice", "eng"), 0);
	ck_assert_int_eq(policy_is_member(NULL, 0, "bob", "eng"), 0);
	ck_assert_int_eq(policy_is_member(empty_group, 1, "x", ""), 0);
	ck_assert_int_eq(policy_is_member(empty_group, 1, "x", ","), 0);

	/* The example: requesters group:eng, approvers group:sre-leads, bob. */
	ck_assert_int_eq(policy_can_request(r, "alice", "eng"), 1);
	ck_assert_int_eq(policy_can_request(r, "alice", "engineering"), 0);
	ck_assert_int_eq(policy_can_request(r, "bob", ""), 0);
	ck_assert_int_eq(policy_is_approver(r, "bob", ""), 1);
	ck_assert_int_eq(policy_is_approver(r, "bobby", "eng"), 0);
	ck_assert_int_eq(policy_is_approver(r, "carol", "sre-leads"), 1);
	ck_assert_int_eq(policy_is_approver(r, "carol", "sre-lead"), 0);
	ck_assert_int_eq(policy_is_approver(r, "carol", "eng,sre-leads"), 1);
	ck_assert_int_eq(policy_is_approver(r, "alice", "eng"), 0);
	ck_assert_int_eq(policy_can_request(NULL, "alice", "eng"), 0);
	ck_assert_int_eq(policy_is_approver(NULL, "bob", ""), 0);
	policy_free(p);
}
END_TEST

/* policy_check_request against role r, expecting why to contain want. */
static void
req(const struct policy_role *r, const char *reason, const char *ticket,
    int64_t duration, int64_t starts_at, const char *want)
{
	char why[256];
	int rc;

	memset(why, 'x', sizeof(why));
	rc = policy_check_request(r, reason, ticket, duration, starts_at, NOW,
	    why, sizeof(why));
	if (want == NULL) {
		ck_assert_msg(rc == JIT_OK, "refused: %s", why);
		return;
	}
	ck_assert_msg(rc == JIT_ERR_INVALID_ARG, "accepted, wanted \"%s\"",
	    want);
	ck_assert_msg(strstr(why, want) != NULL, "why \"%s\" lacks \"%s\"",
	    why, want);
}

START_TEST(check_request)
{
	struct policy *p;
	const struct policy_role *r, *open;
	json_t *roles = json_array();
	char *s = repeat('r', 1025);
	char buf[8];

	json_array_append_new(roles, parse(example_role));
	json_array_append_new(roles, parse("{\"name\": \"open\", "
	    "\"x509\": {}, \"requesters\": [\"alice\"], \"approvers\": "
	    "[\"bob\"], \"max_duration\": \"7d\", \"require_reason\": false}"));
	p = load_ok(roles);
	r = policy_find(p, "prod-ssh");
	open = policy_find(p, "open");

	req(r, "disk full", "INC-7", 1800, 0, NULL);

	/* Durations: 0, 1, max, max + 1. */
	req(r, "x", "INC-7", 0, 0, "\"duration\" must be at least 1");
	req(r, "x", "INC-7", -1, 0, "\"duration\"");
	req(r, "x", "INC-7", INT64_MIN, 0, "\"duration\"");
	req(r, "x", "INC-7", 1, 0, NULL);
	req(r, "x", "INC-7", 3600, 0, NULL);
	req(r, "x", "INC-7", 3601, 0,
	    "\"duration\" is above the role's max_duration of 1h");
	req(r, "x", "INC-7", INT64_MAX, 0, "max_duration of 1h");
	req(open, NULL, NULL, 7 * 86400, 0, NULL);
	req(open, NULL, NULL, 7 * 86400 + 1, 0, "max_duration of 7d");

	/* Reasons. */
	req(r, NULL, "INC-7", 60, 0, "\"reason\" is required");
	req(r, "", "INC-7", 60, 0, "\"reason\" is required");
	req(r, "   ", "INC-7", 60, 0, "\"reason\" is required");
	req(r, " ok ", "INC-7", 60, 0, NULL);
	req(r, "a\nb", "INC-7", 60, 0, "\"reason\" must be valid UTF-8");
	req(r, "a\rb", "INC-7", 60, 0, "\"reason\"");
	req(r, "a\tb", "INC-7", 60, 0, "\"reason\"");
	req(r, "\x1b[31mred", "INC-7", 60, 0, "\"reason\"");
	req(r, "del\x7f", "INC-7", 60, 0, "\"reason\"");
	req(r, "nel\xc2\x85", "INC-7", 60, 0, "\"reason\"");	/* U+0085 */
	req(r, "c1\xc2\x9f", "INC-7", 60, 0, "\"reason\"");	/* U+009F */
	req(r, "\xc2\xa0nbsp", "INC-7", 60, 0, NULL);	/* U+00A0 */
	req(r, "bad\xc3\x28", "INC-7", 60, 0, "\"reason\"");
	req(r, "lone\x80", "INC-7", 60, 0, "\"reason\"");
	req(r, "over\xc0\xaf", "INC-7", 60, 0, "\"reason\"");
	req(r, "over\xe0\x80\xaf", "INC-7", 60, 0, "\"reason\"");
	req(r, "sur\xed\xa0\x80", "INC-7", 60, 0, "\"reason\"");
	req(r, "big\xf4\x90\x80\x80", "INC-7", 60, 0, "\"reason\"");
	req(r, "cut\xe2\x82", "INC-7", 60, 0, "\"reason\"");
	req(r, "ff\xff", "INC-7", 60, 0, "\"reason\"");
	req(r, "rlo\xe2\x80\xae", "INC-7", 60, 0, "\"reason\"");
	req(r, "ls\xe2\x80\xa8", "INC-7", 60, 0, "\"reason\"");
	req(r, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\xa5",
	    "INC-7", 60, 0, NULL);
	s[1024] = '\0';
	req(r, s, "INC-7", 60, 0, NULL);
	s[1024] = 'r';
	req(r, s, "INC-7", 60, 0, "\"reason\" must be at most 1024 bytes");
	req(open, NULL, NULL, 60, 0, NULL);
	req(open, "", NULL, 60, 0, NULL);
	req(open, "   ", NULL, 60, 0, NULL);
	req(open, "a\nb", NULL, 60, 0, "\"reason\"");
	req(open, s, NULL, 60, 0, "\"reason\" must be at most 1024 bytes");

	/* Tickets. */
	req(r, "x", "CHG-123", 60, 0, NULL);
	req(r, "x", NULL, 60, 0, "\"ticket\" is required");
	req(r, "x", "", 60, 0, "\"ticket\" is required");
	req(r, "x", "inc-7", 60, 0, "\"ticket\" must match ^(INC|CHG)-[0-9]+$");
	req(r, "x", "INC-7 ", 60, 0, "\"ticket\" must match");
	req(r, "x", "xINC-7", 60, 0, "\"ticket\" must match");
	req(r, "x", "INC-", 60, 0, "\"ticket\" must match");
	req(r, "x", "INC-7\n", 60, 0, "\"ticket\"");
	req(r, "x", "INC-\xc3\xa9", 60, 0, "\"ticket\"");
	memcpy(s, "INC-", 4);
	memset(s + 4, '7', 60);
	s[64] = '\0';
	req(r, "x", s, 60, 0, NULL);
	s[64] = '7';
	s[65] = '\0';
	req(r, "x", s, 60, 0, "\"ticket\" must be at most 64");
	req(open, NULL, "anything goes here", 60, 0, NULL);
	req(open, NULL, "", 60, 0, NULL);
	req(open, NULL, s, 60, 0, "\"ticket\" must be at most 64");
	req(open, NULL, "a\tb", 60, 0, "\"ticket\"");

	/* Scheduled starts. */
	req(r, "x", "INC-7", 60, NOW - 1, "\"starts_at\" is in the past");
	req(r, "x", "INC-7", 60, 1, "\"starts_at\" is in the past");
	req(r, "x", "INC-7", 60, -1, "\"starts_at\"");
	req(r, "x", "INC-7", 60, INT64_MIN, "\"starts_at\"");
	req(r, "x", "INC-7", 60, NOW, NULL);
	req(r, "x", "INC-7", 60, NOW + 7 * 86400, NULL);
	req(r, "x", "INC-7", 60, NOW + 7 * 86400 + 1,
	    "\"starts_at\" is more than 7 days ahead");
	req(r, "x", "INC-7", 60, INT64_MAX, "\"starts_at\"");

	/* No role, no room for a sentence, a tiny room. */
	ck_assert_int_eq(policy_check_request(NULL, "x", NULL, 60, 0, NOW,
	    NULL, 0), JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(policy_check_request(r, "x", "nope", 60, 0, NOW,
	    NULL, 0), JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(policy_check_request(r, "x", "nope", 60, 0, NOW,
	    buf, sizeof(buf)), JIT_ERR_INVALID_ARG);
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
	free(s);
	policy_free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, example_role_loads);
	tcase_add_test(tc, defaults);
	tcase_add_loop_test(tc, refusals, 0,
	    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_loop_test(tc, acceptances, 0,
	    (int)(sizeof(good_cases) / sizeof(good_cases[0])));
	tcase_add_test(tc, names_and_structure);
	tcase_add_test(tc, approvers_rules);
	tcase_add_test(tc, huge_inputs);
	tcase_add_test(tc, membership);
	tcase_add_test(tc, check_request);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
