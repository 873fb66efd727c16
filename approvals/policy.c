/*
 * Loading the roles of the config (see policy.h).  policy_load() turns the
 * config's "roles" array into read-only struct policy_role records and
 * refuses anything it does not understand with a sentence that names the
 * role and the field.  Nothing here touches the network, the database or
 * the CA: the source-address list is checked with inet_pton() and prefix
 * arithmetic, the ticket pattern is compiled as a POSIX extended regular
 * expression.  The questions asked of a loaded role live in
 * policy_check.c.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvals/policy.h"
#include "approvals/policy_int.h"
#include "common/duration.h"
#include "common/err.h"
#include "common/limits.h"

#define POLICY_APPROVALS_MAX	10
#define POLICY_PENDING_TTL_DEF	3600
#define POLICY_PENDING_TTL_MAX	(7 * 86400)
#define POLICY_OU_MAX		64
#define POLICY_PATTERN_MAX	256
#define CIDR_ENTRY_MAX		(INET6_ADDRSTRLEN + 4)
#define KEY_ECHO_MAX		64

struct policy {
	struct policy_role	*roles;
	size_t			 nroles;
};

static const char *const role_keys[] = {
	"name", "description", "ssh", "x509", "requesters", "approvers",
	"approvals_required", "self_approval", "max_duration",
	"require_reason", "pending_ttl", "ticket_pattern", "break_glass", NULL
};
static const char *const ssh_keys[] = {
	"principals", "extensions", "source_address", "force_command", NULL
};
static const char *const x509_keys[] = {
	"organizational_unit", "uri_san", NULL
};
static const char *const known_extensions[] = {
	"permit-pty", "permit-agent-forwarding", "permit-port-forwarding",
	"permit-X11-forwarding", "permit-user-rc", NULL
};

/* Replaces *err with "WHERE: sentence" (or just the sentence). */
static void __attribute__((format(printf, 3, 4)))
fail(char **err, const char *where, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	free(*err);
	*err = NULL;
	if (msg == NULL)
		return;
	if (where == NULL) {
		*err = msg;
		return;
	}
	if (asprintf(err, "%s: %s", where, msg) == -1)
		*err = NULL;
	free(msg);
}

/*
 * Copies at most KEY_ECHO_MAX bytes of an untrusted string into out for an
 * error message, with anything but printable ASCII (and the quote) shown
 * as '?'.
 */
static void
echo(const char *s, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < KEY_ECHO_MAX && i + 4 < outlen; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ?
		    s[i] : '?';
	if (s[i] != '\0' && i + 4 <= outlen) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* Role names, user names and group names: 1..64 of [a-z0-9._-], alnum first. */
static int
valid_name(const char *s)
{
	size_t i, n = strnlen(s, POLICY_NAME_MAX + 1);

	if (n == 0 || n > POLICY_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return 0;
	}
	return 1;
}

static int
valid_member(const char *s)
{
	return valid_name(strncmp(s, "group:", 6) == 0 ? s + 6 : s);
}

static int
valid_principal(const char *s)
{
	size_t n = strnlen(s, JIT_PRINCIPAL_LEN_MAX + 1);

	return n > 0 && n <= JIT_PRINCIPAL_LEN_MAX &&
	    policy_printable_ascii(s, n) && strpbrk(s, ", ") == NULL;
}

static int
valid_extension(const char *s)
{
	size_t i;

	for (i = 0; known_extensions[i] != NULL; i++)
		if (strcmp(known_extensions[i], s) == 0)
			return 1;
	return 0;
}

/*
 * One "addr" or "addr/len" of a source-address list.  Like OpenSSH's
 * addr_pton_cidr(), refuses host bits set beyond the prefix.
 */
static int
valid_cidr(const char *s, size_t len)
{
	char buf[CIDR_ENTRY_MAX + 1];
	unsigned char a[16];
	const char *slash;
	size_t alen, i;
	int af, bits, maxbits, plen = -1;

	if (len == 0 || len > CIDR_ENTRY_MAX)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL) {
		if (slash[1] == '\0' || strlen(slash + 1) > 3)
			return 0;
		for (plen = 0, i = 1; slash[i] != '\0'; i++) {
			if (slash[i] < '0' || slash[i] > '9')
				return 0;
			plen = plen * 10 + (slash[i] - '0');
		}
		buf[slash - buf] = '\0';
	}
	if (inet_pton(AF_INET, buf, a) == 1) {
		af = AF_INET;
		alen = 4;
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		af = AF_INET6;
		alen = 16;
	} else
		return 0;
	maxbits = af == AF_INET ? 32 : 128;
	if (plen == -1)
		return 1;
	if (plen > maxbits)
		return 0;
	for (bits = plen, i = 0; i < alen; i++, bits -= 8) {
		if (bits >= 8)
			continue;
		if ((a[i] & (bits <= 0 ? 0xff : 0xff >> bits)) != 0)
			return 0;
	}
	return 1;
}

static int
valid_source_address(const char *s)
{
	const char *p, *e;
	size_t n = strnlen(s, JIT_OPTION_LEN_MAX + 1);

	if (n == 0 || n > JIT_OPTION_LEN_MAX)
		return 0;
	for (p = s;; p = e + 1) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if (!valid_cidr(p, (size_t)(e - p)))
			return 0;
		if (*e == '\0')
			return 1;
	}
}

static int
check_keys(const json_t *obj, const char *const *known, const char *in,
    const char *where, char **err)
{
	char shown[KEY_ECHO_MAX + 8];
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, key, v) {
		if (strncmp(key, "//", 2) == 0)
			continue;
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL) {
			echo(key, shown, sizeof(shown));
			fail(err, where, "unknown key \"%s\"%s%s%s", shown,
			    in != NULL ? " in \"" : "", in != NULL ? in : "",
			    in != NULL ? "\"" : "");
			return JIT_ERR_INVALID_ARG;
		}
	}
	return JIT_OK;
}

static void
strings_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* What get_strings() accepts: a JSON array of distinct strings. */
struct strings_spec {
	const char	*key;		/* for the error sentence */
	size_t		 max;		/* elements */
	int		 nonempty;
	int		(*valid)(const char *);
	const char	*plural;	/* "principals of ..." */
	const char	*one;		/* "one of permit-pty, ..." */
};

static int
get_strings(const json_t *v, const struct strings_spec *spec,
    const char *where, char ***out, size_t *nout, char **err)
{
	char **list = NULL, shown[KEY_ECHO_MAX + 8];
	const char *s;
	size_t i, j, n = 0;
	int r = JIT_ERR_INVALID_ARG;

	*out = NULL;
	*nout = 0;
	if (!json_is_array(v) || json_array_size(v) > spec->max ||
	    (spec->nonempty && json_array_size(v) == 0)) {
		fail(err, where, "\"%s\" must be a%s array of at most %zu %s",
		    spec->key, spec->nonempty ? " non-empty" : "n", spec->max,
		    spec->plural);
		goto out;
	}
	if ((list = calloc(json_array_size(v) + 1, sizeof(*list))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);

		if (!json_is_string(e)) {
			fail(err, where, "\"%s\"[%zu] must be %s", spec->key,
			    i, spec->one);
			goto out;
		}
		s = json_string_value(e);
		echo(s, shown, sizeof(shown));
		if (strlen(s) != json_string_length(e) || !spec->valid(s)) {
			fail(err, where, "\"%s\"[%zu] \"%s\" is invalid: it "
			    "must be %s", spec->key, i, shown, spec->one);
			goto out;
		}
		for (j = 0; j < n; j++) {
			if (strcmp(list[j], s) == 0) {
				fail(err, where, "\"%s\" lists \"%s\" twice",
				    spec->key, shown);
				goto out;
			}
		}
		if ((list[n] = strdup(s)) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		n++;
	}
	*out = list;
	*nout = n;
	list = NULL;
	r = JIT_OK;
 out:
	strings_free(list, n);
	return r;
}

static int
get_bool(const json_t *v, const char *key, int def, const char *where,
    int *out, char **err)
{
	*out = def;
	if (v == NULL)
		return JIT_OK;
	if (!json_is_boolean(v)) {
		fail(err, where, "\"%s\" must be true or false", key);
		return JIT_ERR_INVALID_ARG;
	}
	*out = json_is_true(v);
	return JIT_OK;
}

/* A duration string or integer seconds in 1..max; required if def is 0. */
static int
get_duration(const json_t *v, const char *key, int64_t def, int64_t max,
    const char *where, int64_t *out, char **err)
{
	*out = def;
	if (v == NULL && def != 0)
		return JIT_OK;
	if (v == NULL) {
		fail(err, where, "\"%s\" is required", key);
		return JIT_ERR_INVALID_ARG;
	}
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= max) {
		*out = json_integer_value(v);
		return JIT_OK;
	}
	if (!json_is_string(v) ||
	    duration_parse(json_string_value(v), max, out) != JIT_OK) {
		*out = def;
		fail(err, where, "\"%s\" must be a duration like \"30m\" or "
		    "\"1h\" (at most %lld days)", key,
		    (long long)(max / 86400));
		return JIT_ERR_INVALID_ARG;
	}
	return JIT_OK;
}

/*
 * An optional string (absent or null: *out stays NULL) of minlen..maxlen
 * bytes that ok() accepts.
 */
static int
get_opt_string(const json_t *v, const char *key, size_t maxlen,
    int (*ok)(const char *, size_t), const char *what, const char *where,
    char **out, char **err)
{
	const char *s;
	size_t n;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return JIT_OK;
	if (!json_is_string(v) || (n = json_string_length(v)) == 0 ||
	    n > maxlen || strlen(s = json_string_value(v)) != n || !ok(s, n)) {
		fail(err, where, "\"%s\" must be %s", key, what);
		return JIT_ERR_INVALID_ARG;
	}
	if ((*out = strdup(s)) == NULL)
		return JIT_ERR_ALLOC;
	return JIT_OK;
}

static int
source_address_ok(const char *s, size_t len)
{
	return valid_source_address(s);
}

static const struct strings_spec principals_spec = {
	"ssh.principals", JIT_PRINCIPALS_MAX, 1, valid_principal,
	"principals", "1 to 255 printable ASCII characters without spaces or "
	"commas"
};
static const struct strings_spec extensions_spec = {
	"ssh.extensions", JIT_EXTENSIONS_MAX, 0, valid_extension,
	"extension names", "one of permit-pty, permit-agent-forwarding, "
	"permit-port-forwarding, permit-X11-forwarding and permit-user-rc"
};

static int
load_ssh(struct policy_role *role, const json_t *ssh, const char *where,
    char **err)
{
	const json_t *v;
	int r;

	if (!json_is_object(ssh)) {
		fail(err, where, "\"ssh\" must be an object or null");
		return JIT_ERR_INVALID_ARG;
	}
	if ((r = check_keys(ssh, ssh_keys, "ssh", where, err)) != JIT_OK)
		return r;
	role->has_ssh = 1;
	if ((v = json_object_get(ssh, "principals")) == NULL) {
		fail(err, where, "\"ssh.principals\" is required");
		return JIT_ERR_INVALID_ARG;
	}
	if ((r = get_strings(v, &principals_spec, where,
	    &role->ssh_principals, &role->nssh_principals, err)) != JIT_OK)
		return r;
	if ((v = json_object_get(ssh, "extensions")) != NULL) {
		if ((r = get_strings(v, &extensions_spec, where,
		    &role->ssh_extensions, &role->nssh_extensions, err)) !=
		    JIT_OK)
			return r;
	} else {
		if ((role->ssh_extensions = calloc(2, sizeof(char *))) ==
		    NULL || (role->ssh_extensions[0] = strdup("permit-pty")) ==
		    NULL)
			return JIT_ERR_ALLOC;
		role->nssh_extensions = 1;
	}
	if ((r = get_opt_string(json_object_get(ssh, "source_address"),
	    "ssh.source_address", JIT_OPTION_LEN_MAX, source_address_ok,
	    "a comma-separated list of addresses or CIDR blocks like "
	    "\"10.0.0.0/8,2001:db8::/32\" without host bits set beyond the "
	    "prefix, or null", where, &role->ssh_source_address, err)) !=
	    JIT_OK)
		return r;
	return get_opt_string(json_object_get(ssh, "force_command"),
	    "ssh.force_command", JIT_OPTION_LEN_MAX, policy_printable_ascii,
	    "a command of 1 to 4096 printable ASCII characters, or null",
	    where, &role->ssh_force_command, err);
}

static int
load_x509(struct policy_role *role, const json_t *x, const char *where,
    char **err)
{
	int r;

	if (!json_is_object(x)) {
		fail(err, where, "\"x509\" must be an object or null");
		return JIT_ERR_INVALID_ARG;
	}
	if ((r = check_keys(x, x509_keys, "x509", where, err)) != JIT_OK)
		return r;
	role->has_x509 = 1;
	if ((r = get_opt_string(json_object_get(x, "organizational_unit"),
	    "x509.organizational_unit", POLICY_OU_MAX, policy_clean_utf8,
	    "1 to 64 bytes of UTF-8 text without control characters, or "
	    "null", where, &role->x509_ou, err)) != JIT_OK)
		return r;
	return get_bool(json_object_get(x, "uri_san"), "x509.uri_san", 0,
	    where, &role->x509_uri_san, err);
}

static int
load_pattern(struct policy_role *role, const json_t *v, const char *where,
    char **err)
{
	char msg[128];
	regex_t *re;
	int r, rc;

	if ((r = get_opt_string(v, "ticket_pattern", POLICY_PATTERN_MAX,
	    policy_printable_ascii, "an extended regular expression of at "
	    "most 256 printable ASCII characters, or null", where,
	    &role->ticket_pattern, err)) != JIT_OK ||
	    role->ticket_pattern == NULL)
		return r;
	if ((re = calloc(1, sizeof(*re))) == NULL)
		return JIT_ERR_ALLOC;
	if ((rc = regcomp(re, role->ticket_pattern, REG_EXTENDED |
	    REG_NOSUB)) != 0) {
		regerror(rc, re, msg, sizeof(msg));
		free(re);
		fail(err, where, "\"ticket_pattern\" is not a valid extended "
		    "regular expression (%s)", msg);
		return JIT_ERR_INVALID_ARG;
	}
	role->ticket_re = re;
	return JIT_OK;
}

static void
role_clear(struct policy_role *role)
{
	free(role->name);
	free(role->description);
	strings_free(role->ssh_principals, role->nssh_principals);
	strings_free(role->ssh_extensions, role->nssh_extensions);
	free(role->ssh_source_address);
	free(role->ssh_force_command);
	free(role->x509_ou);
	strings_free(role->requesters, role->nrequesters);
	strings_free(role->approvers, role->napprovers);
	free(role->ticket_pattern);
	if (role->ticket_re != NULL) {
		regfree(role->ticket_re);
		free(role->ticket_re);
	}
	memset(role, 0, sizeof(*role));
}

static int
load_members(struct policy_role *role, const json_t *obj, const char *where,
    char **err)
{
	struct strings_spec spec = {
		"requesters", POLICY_MEMBERS_MAX, 1, valid_member,
		"user names and \"group:NAME\" entries", "a user name or "
		"\"group:NAME\" (names are 1 to 64 of a-z, 0-9, '.', '_' and "
		"'-', starting with a letter or digit)"
	};
	const json_t *v;
	long long n;
	size_t i;
	int r, need;

	if ((v = json_object_get(obj, "requesters")) == NULL) {
		fail(err, where, "\"requesters\" is required");
		return JIT_ERR_INVALID_ARG;
	}
	if ((r = get_strings(v, &spec, where, &role->requesters,
	    &role->nrequesters, err)) != JIT_OK)
		return r;
	role->approvals_required = 1;
	if ((v = json_object_get(obj, "approvals_required")) != NULL) {
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 ||
		    n > POLICY_APPROVALS_MAX) {
			fail(err, where, "\"approvals_required\" must be an "
			    "integer from 0 to %d", POLICY_APPROVALS_MAX);
			return JIT_ERR_INVALID_ARG;
		}
		role->approvals_required = (int)n;
	}
	if ((r = get_bool(json_object_get(obj, "break_glass"), "break_glass",
	    0, where, &role->break_glass, err)) != JIT_OK)
		return r;
	need = role->approvals_required > 0 || role->break_glass;
	if ((v = json_object_get(obj, "approvers")) == NULL) {
		if (!need)
			return JIT_OK;
		fail(err, where, "\"approvers\" is required when "
		    "\"approvals_required\" is above 0 or \"break_glass\" is "
		    "true");
		return JIT_ERR_INVALID_ARG;
	}
	spec.key = "approvers";
	spec.nonempty = need;
	if ((r = get_strings(v, &spec, where, &role->approvers,
	    &role->napprovers, err)) != JIT_OK)
		return r;
	for (i = 0; i < role->napprovers; i++)
		if (strncmp(role->approvers[i], "group:", 6) == 0)
			return JIT_OK;
	if ((size_t)role->approvals_required > role->napprovers) {
		fail(err, where, "\"approvals_required\" is %d but "
		    "\"approvers\" names only %zu user%s",
		    role->approvals_required, role->napprovers,
		    role->napprovers == 1 ? "" : "s");
		return JIT_ERR_INVALID_ARG;
	}
	return JIT_OK;
}

static int
load_role(struct policy *p, size_t idx, const json_t *obj, char **err)
{
	struct policy_role *role = &p->roles[idx];
	char where[POLICY_NAME_MAX + 16];
	const json_t *v, *ssh, *x509;
	const char *name;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "roles[%zu]", idx);
	if (!json_is_object(obj)) {
		fail(err, NULL, "%s must be an object", where);
		return JIT_ERR_INVALID_ARG;
	}
	if ((v = json_object_get(obj, "name")) == NULL) {
		fail(err, where, "\"name\" is required");
		return JIT_ERR_INVALID_ARG;
	}
	if (!json_is_string(v) || !valid_name(name = json_string_value(v)) ||
	    strlen(name) != json_string_length(v)) {
		fail(err, where, "\"name\" must be 1 to 64 of a-z, 0-9, '.', "
		    "'_' and '-', starting with a letter or digit");
		return JIT_ERR_INVALID_ARG;
	}
	for (i = 0; i < idx; i++) {
		if (strcmp(p->roles[i].name, name) == 0) {
			fail(err, NULL, "duplicate role \"%s\" (roles[%zu] and "
			    "roles[%zu])", name, i, idx);
			return JIT_ERR_INVALID_ARG;
		}
	}
	if ((role->name = strdup(name)) == NULL)
		return JIT_ERR_ALLOC;
	snprintf(where, sizeof(where), "role \"%s\"", name);
	if ((r = check_keys(obj, role_keys, NULL, where, err)) != JIT_OK)
		return r;
	if ((v = json_object_get(obj, "description")) != NULL &&
	    (!json_is_string(v) || json_string_length(v) > POLICY_DESC_MAX ||
	    !policy_clean_utf8(json_string_value(v), json_string_length(v)))) {
		fail(err, where, "\"description\" must be at most %d bytes of "
		    "UTF-8 text without control characters", POLICY_DESC_MAX);
		return JIT_ERR_INVALID_ARG;
	}
	if ((role->description = strdup(v != NULL ? json_string_value(v) :
	    "")) == NULL)
		return JIT_ERR_ALLOC;
	ssh = json_object_get(obj, "ssh");
	x509 = json_object_get(obj, "x509");
	if ((ssh == NULL || json_is_null(ssh)) &&
	    (x509 == NULL || json_is_null(x509))) {
		fail(err, where, "at least one of \"ssh\" and \"x509\" is "
		    "required");
		return JIT_ERR_INVALID_ARG;
	}
	if (ssh != NULL && !json_is_null(ssh) &&
	    (r = load_ssh(role, ssh, where, err)) != JIT_OK)
		return r;
	if (x509 != NULL && !json_is_null(x509) &&
	    (r = load_x509(role, x509, where, err)) != JIT_OK)
		return r;
	if ((r = load_members(role, obj, where, err)) != JIT_OK ||
	    (r = get_bool(json_object_get(obj, "self_approval"),
	    "self_approval", 0, where, &role->self_approval, err)) != JIT_OK ||
	    (r = get_duration(json_object_get(obj, "max_duration"),
	    "max_duration", 0, POLICY_DURATION_MAX, where, &role->max_duration,
	    err)) != JIT_OK ||
	    (r = get_bool(json_object_get(obj, "require_reason"),
	    "require_reason", 1, where, &role->require_reason, err)) !=
	    JIT_OK ||
	    (r = get_duration(json_object_get(obj, "pending_ttl"),
	    "pending_ttl", POLICY_PENDING_TTL_DEF, POLICY_PENDING_TTL_MAX,
	    where, &role->pending_ttl, err)) != JIT_OK)
		return r;
	return load_pattern(role, json_object_get(obj, "ticket_pattern"),
	    where, err);
}

int
policy_load(const json_t *roles, struct policy **out, char **err)
{
	struct policy *p = NULL;
	size_t i, n;
	int r = JIT_ERR_INTERNAL;

	*out = NULL;
	if (err != NULL)
		*err = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if (roles != NULL && (!json_is_array(roles) ||
	    json_array_size(roles) > POLICY_ROLES_MAX)) {
		fail(err, NULL, "\"roles\" must be an array of at most %d role "
		    "objects", POLICY_ROLES_MAX);
		r = JIT_ERR_INVALID_ARG;
		goto out;
	}
	n = roles != NULL ? json_array_size(roles) : 0;
	if (n > 0 && (p->roles = calloc(n, sizeof(*p->roles))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = load_role(p, i, json_array_get(roles, i), err);
		p->nroles = i + 1;
		if (r != JIT_OK)
			goto out;
	}
	*out = p;
	p = NULL;
	r = JIT_OK;
 out:
	if (r == JIT_ERR_ALLOC && err != NULL) {
		free(*err);
		*err = NULL;
	}
	policy_free(p);
	return r;
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nroles; i++)
		role_clear(&p->roles[i]);
	free(p->roles);
	free(p);
}

size_t
policy_count(const struct policy *p)
{
	return p != NULL ? p->nroles : 0;
}

const struct policy_role *
policy_role_at(const struct policy *p, size_t i)
{
	return p != NULL && i < p->nroles ? &p->roles[i] : NULL;
}

const struct policy_role *
policy_find(const struct policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i].name, name) == 0)
			return &p->roles[i];
	return NULL;
}
