/*
 * The notification part of jitd.json (see notify.h): outbound targets,
 * the delivery attempt cap, the inbound Slack signing secret, whether the
 * chat workspace enforces MFA, and the public URL used in links.  Every
 * outbound URL is checked here, when the config loads: https, or plain
 * http only to a loopback host whose entry says "insecure_loopback".
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/config.h"
#include "broker/notify.h"
#include "broker/config_int.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secret.h"

static int
is_loopback_host(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(h, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int
notify_check_url(const char *url, int insecure_loopback, char **host,
    const char **why)
{
	const char *p, *end, *hs, *he;
	size_t i, n;
	char *h;
	int https;

	*host = NULL;
	*why = NULL;
	if (strlen(url) > NOTIFY_URL_MAX) {
		*why = "is too long";
		return JIT_ERR_INVALID_ARG;
	}
	for (p = url; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			*why = "contains a space or a control character";
			return JIT_ERR_INVALID_ARG;
		}
	}
	if (strncasecmp(url, "https://", 8) == 0)
		https = 1;
	else if (strncasecmp(url, "http://", 7) == 0)
		https = 0;
	else {
		*why = "must be an https:// URL";
		return JIT_ERR_INVALID_ARG;
	}
	p = url + (https ? 8 : 7);
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)) != NULL) {
		*why = "must not carry user information (user@host)";
		return JIT_ERR_INVALID_ARG;
	}
	if (*p == '[') {
		hs = p + 1;
		if ((he = memchr(hs, ']', (size_t)(end - hs))) == NULL) {
			*why = "has an invalid host";
			return JIT_ERR_INVALID_ARG;
		}
	} else {
		hs = p;
		he = memchr(hs, ':', (size_t)(end - hs));
		if (he == NULL)
			he = end;
	}
	n = (size_t)(he - hs);
	if (n == 0 || n > 253) {
		*why = "has no host";
		return JIT_ERR_INVALID_ARG;
	}
	if ((h = strndup(hs, n)) == NULL)
		return JIT_ERR_ALLOC;
	for (i = 0; i < n; i++)
		if (h[i] >= 'A' && h[i] <= 'Z')
			h[i] = (char)(h[i] - 'A' + 'a');
	if (!https) {
		if (!insecure_loopback) {
			*why = "must use https (plain http is only for a "
			    "loopback relay with \"insecure_loopback\": true)";
			free(h);
			return JIT_ERR_INVALID_ARG;
		}
		if (!is_loopback_host(h)) {
			*why = "uses plain http to a host that is not loopback "
			    "(\"insecure_loopback\" allows only 127.0.0.0/8, "
			    "::1 and localhost)";
			free(h);
			return JIT_ERR_INVALID_ARG;
		}
	}
	*host = h;
	return JIT_OK;
}

/* Reads a secret file (trailing newlines removed, not empty). */
static int
read_secret(const char *cfgpath, const char *key, json_t *v, uint8_t **out,
    size_t *outlen, char **err)
{
	const char *s;
	uint8_t *d = NULL;
	size_t len = 0;
	char *path;
	int r;

	*out = NULL;
	*outlen = 0;
	if (!json_is_string(v) || (s = json_string_value(v))[0] == '\0' ||
	    strlen(s) >= PATH_MAX) {
		config_fail(err, cfgpath, "\"%s\" must be a file path", key);
		return JIT_ERR_INVALID_ARG;
	}
	if ((path = config_resolve_path(cfgpath, s)) == NULL)
		return JIT_ERR_ALLOC;
	r = fileio_read(path, NOTIFY_SECRET_MAX, FILEIO_PRIVATE, &d, &len);
	if (r != JIT_OK) {
		config_fail(err, cfgpath, "\"%s\": %s: %s", key, path,
		    r == JIT_ERR_PERMISSION ? "must not be readable by group "
		    "or others" : jit_strerror(r));
		free(path);
		return r;
	}
	free(path);
	while (len > 0 && (d[len - 1] == '\n' || d[len - 1] == '\r'))
		d[--len] = '\0';
	if (len == 0) {
		freezero(d, 1);
		config_fail(err, cfgpath, "\"%s\": the file is empty", key);
		return JIT_ERR_INVALID_ARG;
	}
	*out = d;
	*outlen = len;
	return JIT_OK;
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > NOTIFY_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static int
load_target(json_t *e, size_t idx, const char *path, struct notify_target *t,
    char **err)
{
	static const char *const keys[] = { "type", "url", "secret_file",
	    "roles", "insecure_loopback", "name", NULL };
	const char *key, *why, *type;
	json_t *v, *roles;
	size_t i;
	int r;

	if (!json_is_object(e)) {
		config_fail(err, path, "\"notify\"[%zu] must be an object like "
		    "{\"type\": \"webhook\", \"url\": \"https://…\", "
		    "\"secret_file\": \"hook.key\"}", idx);
		return JIT_ERR_INVALID_ARG;
	}
	json_object_foreach(e, key, v) {
		if (strncmp(key, "//", 2) == 0)
			continue;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], key) == 0)
				break;
		if (keys[i] == NULL) {
			config_fail(err, path, "unknown key \"%s\" in \"notify\"[%zu]",
			    key, idx);
			return JIT_ERR_INVALID_ARG;
		}
	}
	v = json_object_get(e, "type");
	type = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(type, "slack") == 0)
		t->type = NOTIFY_SLACK;
	else if (strcmp(type, "webhook") == 0)
		t->type = NOTIFY_WEBHOOK;
	else {
		config_fail(err, path, "\"notify\"[%zu].type must be \"slack\" or "
		    "\"webhook\"", idx);
		return JIT_ERR_INVALID_ARG;
	}
	v = json_object_get(e, "insecure_loopback");
	if (v != NULL && !json_is_boolean(v)) {
		config_fail(err, path, "\"notify\"[%zu].insecure_loopback must be "
		    "true or false", idx);
		return JIT_ERR_INVALID_ARG;
	}
	t->insecure_loopback = json_is_true(v);
	v = json_object_get(e, "url");
	if (!json_is_string(v)) {
		config_fail(err, path, "\"notify\"[%zu].url is required", idx);
		return JIT_ERR_INVALID_ARG;
	}
	if ((r = notify_check_url(json_string_value(v), t->insecure_loopback,
	    &t->host, &why)) != JIT_OK) {
		if (r == JIT_ERR_INVALID_ARG)
			config_fail(err, path, "\"notify\"[%zu].url %s", idx, why);
		return r;
	}
	if ((t->url = strdup(json_string_value(v))) == NULL)
		return JIT_ERR_ALLOC;
	if ((v = json_object_get(e, "name")) != NULL) {
		if (!json_is_string(v) || !valid_name(json_string_value(v))) {
			config_fail(err, path, "\"notify\"[%zu].name must be 1-64 of "
			    "a-z, 0-9, '-', '_', '.'", idx);
			return JIT_ERR_INVALID_ARG;
		}
		t->name = strdup(json_string_value(v));
	} else if (asprintf(&t->name, "%s-%zu", type, idx) == -1)
		t->name = NULL;
	if (t->name == NULL)
		return JIT_ERR_ALLOC;
	if ((v = json_object_get(e, "secret_file")) != NULL &&
	    !json_is_null(v)) {
		char k[64];

		snprintf(k, sizeof(k), "notify[%zu].secret_file", idx);
		if ((r = read_secret(path, k, v, &t->secret, &t->secret_len,
		    err)) != JIT_OK)
			return r;
	} else if (t->type == NOTIFY_WEBHOOK) {
		config_fail(err, path, "\"notify\"[%zu].secret_file is required for "
		    "a webhook (the key that signs each delivery)", idx);
		return JIT_ERR_INVALID_ARG;
	}
	if ((roles = json_object_get(e, "roles")) != NULL) {
		if (!json_is_array(roles) || json_array_size(roles) == 0 ||
		    json_array_size(roles) > 256) {
			config_fail(err, path, "\"notify\"[%zu].roles must be a "
			    "non-empty array of role names", idx);
			return JIT_ERR_INVALID_ARG;
		}
		if ((t->roles = calloc(json_array_size(roles),
		    sizeof(char *))) == NULL)
			return JIT_ERR_ALLOC;
		for (i = 0; i < json_array_size(roles); i++) {
			v = json_array_get(roles, i);
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) > 64) {
				config_fail(err, path, "\"notify\"[%zu].roles[%zu] "
				    "must be a role name", idx, i);
				return JIT_ERR_INVALID_ARG;
			}
			if ((t->roles[i] = strdup(json_string_value(v))) ==
			    NULL)
				return JIT_ERR_ALLOC;
			t->nroles++;
		}
	}
	return JIT_OK;
}

static int
default_public_url(struct config *c, struct notify_config *nc)
{
	int v6 = strchr(c->listen_host, ':') != NULL;

	if (asprintf(&nc->public_url, "%s://%s%s%s:%d", c->tls_cert != NULL ?
	    "https" : "http", v6 ? "[" : "", c->listen_host, v6 ? "]" : "",
	    c->listen_port) == -1) {
		nc->public_url = NULL;
		return JIT_ERR_ALLOC;
	}
	return JIT_OK;
}

int
notify_config_load(json_t *root, struct config *c, char **err)
{
	struct notify_config *nc;
	const char *path = c->path;
	json_t *v;
	size_t i, j;
	int r = JIT_ERR_INVALID_ARG;

	if ((nc = calloc(1, sizeof(*nc))) == NULL)
		return JIT_ERR_ALLOC;
	nc->max_attempts = 8;
	v = json_object_get(root, "notify_max_attempts");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 100) {
			config_fail(err, path, "\"notify_max_attempts\" must be an "
			    "integer from 1 to 100");
			goto out;
		}
		nc->max_attempts = (int)json_integer_value(v);
	}
	v = json_object_get(root, "slack_mfa_asserted");
	if (v != NULL && !json_is_boolean(v)) {
		config_fail(err, path, "\"slack_mfa_asserted\" must be true or false");
		goto out;
	}
	nc->slack_mfa_asserted = json_is_true(v);
	if ((v = json_object_get(root, "slack_signing_secret_file")) != NULL &&
	    !json_is_null(v) && (r = read_secret(path,
	    "slack_signing_secret_file", v, &nc->slack_signing_secret,
	    &nc->slack_signing_secret_len, err)) != JIT_OK)
		goto out;
	r = JIT_ERR_INVALID_ARG;
	if ((v = json_object_get(root, "public_url")) != NULL &&
	    !json_is_null(v)) {
		char *host = NULL;
		const char *why;
		size_t n;

		if (!json_is_string(v) || notify_check_url(json_string_value(v),
		    1, &host, &why) != JIT_OK) {
			config_fail(err, path, "\"public_url\" must be the broker's "
			    "URL as users reach it, like "
			    "\"https://jitd.example.com\"");
			goto out;
		}
		free(host);
		if ((nc->public_url = strdup(json_string_value(v))) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		n = strlen(nc->public_url);
		while (n > 0 && nc->public_url[n - 1] == '/')
			nc->public_url[--n] = '\0';
	} else if ((r = default_public_url(c, nc)) != JIT_OK)
		goto out;
	r = JIT_ERR_INVALID_ARG;
	if ((v = json_object_get(root, "notify")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) >
		    NOTIFY_TARGETS_MAX) {
			config_fail(err, path, "\"notify\" must be an array of at "
			    "most %d targets", NOTIFY_TARGETS_MAX);
			goto out;
		}
		if (json_array_size(v) > 0 && (nc->targets = calloc(
		    json_array_size(v), sizeof(*nc->targets))) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		for (i = 0; i < json_array_size(v); i++) {
			nc->ntargets++;
			if ((r = load_target(json_array_get(v, i), i, path,
			    &nc->targets[i], err)) != JIT_OK)
				goto out;
			for (j = 0; j < i; j++) {
				if (strcmp(nc->targets[j].name,
				    nc->targets[i].name) == 0) {
					config_fail(err, path, "\"notify\"[%zu]: "
					    "the name \"%s\" is taken", i,
					    nc->targets[i].name);
					r = JIT_ERR_INVALID_ARG;
					goto out;
				}
			}
		}
	}
	c->notify = nc;
	nc = NULL;
	r = JIT_OK;
 out:
	notify_config_free(nc);
	return r;
}

void
notify_config_free(struct notify_config *nc)
{
	size_t i, k;

	if (nc == NULL)
		return;
	for (i = 0; i < nc->ntargets; i++) {
		struct notify_target *t = &nc->targets[i];

		free(t->name);
		free(t->url);
		free(t->host);
		if (t->secret != NULL)
			freezero(t->secret, t->secret_len + 1);
		for (k = 0; k < t->nroles; k++)
			free(t->roles[k]);
		free(t->roles);
	}
	free(nc->targets);
	if (nc->slack_signing_secret != NULL)
		freezero(nc->slack_signing_secret,
		    nc->slack_signing_secret_len + 1);
	free(nc->public_url);
	free(nc);
}
