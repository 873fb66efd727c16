/* The "oidc" providers of jitd.json and their JWKS caches (oidc_config.h). */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "broker/config_int.h"
#include "broker/oidc_config.h"
#include "broker/server.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/fileio.h"

#define STR_MAX		1024	/* issuer, audience, URLs, claim names */
#define LIST_MAX	32	/* amr_values, acr_values, algorithms */

struct oidc_keys {
	pthread_mutex_t		 mu;
	struct oidc_jwks	*jwks;
	int			 attempted;
	int64_t			 fetched_at;	/* last attempt */
	unsigned long		 fetches;
};

/* https://..., or http:// on a loopback host (tests, a local IdP). */
static int
url_ok(const char *u, int allow_loopback_http)
{
	static const char *const loop[] = { "http://127.0.0.1:",
	    "http://127.0.0.1/", "http://localhost:", "http://localhost/",
	    "http://[::1]:", "http://[::1]/", NULL };
	size_t i;

	if (strncmp(u, "https://", 8) == 0 && u[8] != '\0')
		return 1;
	for (i = 0; allow_loopback_http && loop[i] != NULL; i++)
		if (strncmp(u, loop[i], strlen(loop[i])) == 0)
			return 1;
	return 0;
}

/* A string member: required or not, non-empty, bounded, no controls. */
static int
get_str(json_t *o, const char *key, int required, char **out)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t i;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? JIT_ERR_INVALID_ARG : JIT_OK;
	if (!json_is_string(v) || (s = json_string_value(v))[0] == '\0' ||
	    json_string_length(v) > STR_MAX ||
	    strlen(s) != json_string_length(v))
		return JIT_ERR_INVALID_ARG;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20)
			return JIT_ERR_INVALID_ARG;
	return (*out = strdup(s)) != NULL ? JIT_OK : JIT_ERR_ALLOC;
}

static int
get_bool(json_t *o, const char *key, int def, int *out)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (v == NULL)
		return JIT_OK;
	if (!json_is_boolean(v))
		return JIT_ERR_INVALID_ARG;
	*out = json_is_true(v);
	return JIT_OK;
}

static int
get_list(json_t *o, const char *key, const char *def, char ***out, size_t *n)
{
	json_t *v = json_object_get(o, key), *e;
	size_t i;

	*out = NULL;
	*n = 0;
	if (v == NULL) {
		if (def == NULL)
			return JIT_OK;
		if ((*out = calloc(1, sizeof(char *))) == NULL ||
		    ((*out)[0] = strdup(def)) == NULL)
			return JIT_ERR_ALLOC;
		*n = 1;
		return JIT_OK;
	}
	if (!json_is_array(v) || json_array_size(v) > LIST_MAX)
		return JIT_ERR_INVALID_ARG;
	if ((*out = calloc(json_array_size(v) + 1, sizeof(char *))) == NULL)
		return JIT_ERR_ALLOC;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) > 256)
			return JIT_ERR_INVALID_ARG;
		if (((*out)[i] = strdup(json_string_value(e))) == NULL)
			return JIT_ERR_ALLOC;
		(*n)++;
	}
	return JIT_OK;
}

static void
free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static void
provider_free(struct oidc_provider *p)
{
	free(p->name);
	free(p->issuer);
	free(p->audience);
	free(p->jwks_file);
	free(p->jwks_url);
	free(p->jwks_ca_file);
	free(p->username_claim);
	free(p->username_domain);
	free(p->groups_claim);
	json_decref(p->group_map);
	free_list(p->amr_values, p->namr);
	free_list(p->acr_values, p->nacr);
	free(p->device_authorization_endpoint);
	free(p->token_endpoint);
	if (p->keys != NULL) {
		oidc_jwks_unref(p->keys->jwks);
		pthread_mutex_destroy(&p->keys->mu);
		free(p->keys);
	}
}

void
oidc_config_free(struct oidc_config *oc)
{
	size_t i;

	if (oc == NULL)
		return;
	for (i = 0; i < oc->n; i++)
		provider_free(&oc->p[i]);
	free(oc->p);
	free(oc);
}

static int
valid_provider_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static int
load_jwks_file(struct oidc_provider *p, const char *cfgpath, size_t idx,
    char **err)
{
	uint8_t *d = NULL;
	size_t len = 0;
	char *jerr = NULL;
	int r;

	if ((r = fileio_read(p->jwks_file, OIDC_JWKS_MAX, 0, &d, &len)) !=
	    JIT_OK) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].jwks_file %s: %s", idx,
		    p->jwks_file, jit_strerror(r));
		return r;
	}
	r = oidc_jwks_parse((const char *)d, len, &p->keys->jwks, &jerr);
	free(d);
	if (r != JIT_OK) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].jwks_file %s: %s", idx,
		    p->jwks_file, jerr != NULL ? jerr : jit_strerror(r));
		free(jerr);
		return r;
	}
	if (oidc_jwks_count(p->keys->jwks) == 0) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].jwks_file %s: no usable "
		    "signing key (RSA >= 2048 bits, P-256, Ed25519)", idx,
		    p->jwks_file);
		return JIT_ERR_INVALID_ARG;
	}
	return JIT_OK;
}

static int
load_provider(json_t *o, size_t idx, const char *cfgpath,
    struct oidc_provider *p, char **err)
{
	static const char *const known[] = { "name", "issuer", "audience",
	    "jwks_file", "jwks_url", "jwks_ca_file", "algorithms",
	    "username_claim", "username_domain", "groups_claim", "group_map",
	    "amr_values", "acr_values", "create_users", "link_existing",
	    "device_authorization_endpoint", "token_endpoint", NULL };
	const char *key, *bad = NULL;
	char *tmp = NULL;
	json_t *v, *e;
	size_t i;
	int r = JIT_ERR_INVALID_ARG;

	if (!json_is_object(o)) {
		config_fail(err, cfgpath, "\"oidc\"[%zu] must be an object", idx);
		return r;
	}
	json_object_foreach(o, key, v) {
		if (strncmp(key, "//", 2) == 0)
			continue;
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL) {
			config_fail(err, cfgpath, "unknown key \"%s\" in \"oidc\"[%zu]",
			    key, idx);
			return r;
		}
	}
	if (get_str(o, "issuer", 1, &p->issuer) != JIT_OK) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].issuer must be a non-empty "
		    "string (the IdP's issuer URL, compared exactly)", idx);
		return r;
	}
	if (get_str(o, "audience", 1, &p->audience) != JIT_OK) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].audience must be a non-empty "
		    "string (jitd's client id at the IdP)", idx);
		return r;
	}
	if (get_str(o, "name", 0, &p->name) != JIT_OK ||
	    (p->name != NULL && !valid_provider_name(p->name))) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].name must be 1-64 of "
		    "[A-Za-z0-9._-]", idx);
		return r;
	}
	if (p->name == NULL && (p->name = strdup(p->issuer)) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = get_str(o, "jwks_file", 0, &tmp)) != JIT_OK)
		bad = "jwks_file";
	else if (tmp != NULL && (p->jwks_file = config_resolve_path(cfgpath, tmp)) ==
	    NULL)
		r = JIT_ERR_ALLOC;
	free(tmp);
	tmp = NULL;
	if (bad == NULL && r == JIT_OK && (get_str(o, "jwks_url", 0,
	    &p->jwks_url) != JIT_OK || (p->jwks_url != NULL &&
	    !url_ok(p->jwks_url, 0))))
		bad = "jwks_url";
	if (bad == NULL && r == JIT_OK) {
		if ((r = get_str(o, "jwks_ca_file", 0, &tmp)) != JIT_OK)
			bad = "jwks_ca_file";
		else if (tmp != NULL && (p->jwks_ca_file = config_resolve_path(cfgpath,
		    tmp)) == NULL)
			r = JIT_ERR_ALLOC;
		free(tmp);
	}
	if (bad != NULL) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].%s must be %s", idx, bad,
		    strcmp(bad, "jwks_url") == 0 ? "an https:// URL" :
		    "a file path");
		return JIT_ERR_INVALID_ARG;
	}
	if (r != JIT_OK)
		return r;
	if ((p->jwks_file == NULL) == (p->jwks_url == NULL)) {
		config_fail(err, cfgpath, "\"oidc\"[%zu] needs exactly one of "
		    "\"jwks_file\" and \"jwks_url\"", idx);
		return JIT_ERR_INVALID_ARG;
	}
	p->algs = 0;
	if ((v = json_object_get(o, "algorithms")) == NULL)
		p->algs = OIDC_ALG_DEFAULT;
	else if (json_is_array(v) && json_array_size(v) <= LIST_MAX) {
		json_array_foreach(v, i, e) {
			unsigned int b = json_is_string(e) ?
			    oidc_alg_bit(json_string_value(e)) : 0;

			if (b == 0) {
				p->algs = 0;
				break;
			}
			p->algs |= b;
		}
	}
	if (p->algs == 0) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].algorithms must be a "
		    "non-empty array of \"RS256\", \"ES256\", \"EdDSA\"", idx);
		return JIT_ERR_INVALID_ARG;
	}
	bad = NULL;
	if (get_str(o, "username_claim", 0, &p->username_claim) != JIT_OK)
		bad = "username_claim";
	else if (get_str(o, "username_domain", 0, &p->username_domain) !=
	    JIT_OK)
		bad = "username_domain";
	else if (get_str(o, "groups_claim", 0, &p->groups_claim) != JIT_OK)
		bad = "groups_claim";
	else if (get_str(o, "device_authorization_endpoint", 0,
	    &p->device_authorization_endpoint) != JIT_OK ||
	    (p->device_authorization_endpoint != NULL &&
	    !url_ok(p->device_authorization_endpoint, 1)))
		bad = "device_authorization_endpoint";
	else if (get_str(o, "token_endpoint", 0, &p->token_endpoint) !=
	    JIT_OK || (p->token_endpoint != NULL &&
	    !url_ok(p->token_endpoint, 1)))
		bad = "token_endpoint";
	else if (get_bool(o, "create_users", 1, &p->create_users) != JIT_OK)
		bad = "create_users";
	else if (get_bool(o, "link_existing", 0, &p->link_existing) !=
	    JIT_OK)
		bad = "link_existing";
	else if (get_list(o, "amr_values", "mfa", &p->amr_values, &p->namr) !=
	    JIT_OK)
		bad = "amr_values";
	else if (get_list(o, "acr_values", NULL, &p->acr_values, &p->nacr) !=
	    JIT_OK)
		bad = "acr_values";
	if (bad != NULL) {
		config_fail(err, cfgpath, "\"oidc\"[%zu].%s has the wrong type or "
		    "value (see docs/API.md)", idx, bad);
		return JIT_ERR_INVALID_ARG;
	}
	if (p->username_claim == NULL &&
	    (p->username_claim = strdup("preferred_username")) == NULL)
		return JIT_ERR_ALLOC;
	if ((v = json_object_get(o, "group_map")) != NULL) {
		json_object_foreach(v, key, e) {
			if (!json_is_string(e)) {
				v = NULL;
				break;
			}
		}
		if (!json_is_object(v)) {
			config_fail(err, cfgpath, "\"oidc\"[%zu].group_map must map "
			    "IdP group names to jitd group names", idx);
			return JIT_ERR_INVALID_ARG;
		}
		p->group_map = json_incref(v);
	}
	if ((p->keys = calloc(1, sizeof(*p->keys))) == NULL)
		return JIT_ERR_ALLOC;
	pthread_mutex_init(&p->keys->mu, NULL);
	if (p->jwks_file != NULL)
		return load_jwks_file(p, cfgpath, idx, err);
	return JIT_OK;
}

int
oidc_config_load(json_t *v, const char *cfgpath, struct oidc_config **out,
    char **err)
{
	struct oidc_config *oc = NULL;
	size_t i, j;
	int r;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return JIT_OK;
	if (!json_is_array(v) || json_array_size(v) > OIDC_PROVIDERS_MAX) {
		config_fail(err, cfgpath, "\"oidc\" must be an array of at most %d "
		    "identity providers", OIDC_PROVIDERS_MAX);
		return JIT_ERR_INVALID_ARG;
	}
	if (json_array_size(v) == 0)
		return JIT_OK;
	if ((oc = calloc(1, sizeof(*oc))) == NULL ||
	    (oc->p = calloc(json_array_size(v), sizeof(*oc->p))) == NULL) {
		free(oc);
		return JIT_ERR_ALLOC;
	}
	for (i = 0; i < json_array_size(v); i++) {
		oc->n++;
		if ((r = load_provider(json_array_get(v, i), i, cfgpath,
		    &oc->p[i], err)) != JIT_OK) {
			if (r == JIT_ERR_ALLOC)
				config_fail(err, cfgpath, "out of memory");
			oidc_config_free(oc);
			return r;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(oc->p[j].name, oc->p[i].name) == 0) {
				config_fail(err, cfgpath, "\"oidc\"[%zu]: two providers "
				    "named \"%s\" (set \"name\")", i,
				    oc->p[i].name);
				oidc_config_free(oc);
				return JIT_ERR_INVALID_ARG;
			}
		}
	}
	*out = oc;
	return JIT_OK;
}

/* ---- fetching a jwks_url ---- */

struct sink {
	char	*p;
	size_t	 len;
};

static size_t
sink_write(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;
	char *np;

	if (s->len + add > OIDC_JWKS_MAX)
		return 0;	/* over the cap: the transfer fails */
	if ((np = realloc(s->p, s->len + add + 1)) == NULL)
		return 0;
	memcpy(np + s->len, data, add);
	s->len += add;
	np[s->len] = '\0';
	s->p = np;
	return add;
}

/* GETs the JWKS; returns a parsed set or NULL (logged). */
static struct oidc_jwks *
fetch(const struct oidc_provider *p)
{
	struct sink s = { NULL, 0 };
	struct oidc_jwks *ks = NULL;
	char *jerr = NULL;
	CURL *c;
	CURLcode rc;
	long status = 0;

	if ((c = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, p->jwks_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)OIDC_JWKS_MAX);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->jwks_ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, p->jwks_ca_file);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || status != 200)
		server_log("oidc %s: JWKS fetch from %s failed: %s",
		    p->name, p->jwks_url, rc != CURLE_OK ?
		    curl_easy_strerror(rc) : "HTTP status not 200");
	else if (oidc_jwks_parse(s.p, s.len, &ks, &jerr) != JIT_OK) {
		server_log("oidc %s: JWKS from %s refused: %s", p->name,
		    p->jwks_url, jerr != NULL ? jerr : "invalid");
		ks = NULL;
	}
	free(jerr);
	free(s.p);
	return ks;
}

/* Fetches under k->mu if allowed now; returns 1 if the set changed. */
static int
maybe_fetch(struct oidc_provider *p, int only_if_empty)
{
	struct oidc_keys *k = p->keys;
	struct oidc_jwks *ks;
	int64_t now = jit_now();

	if (p->jwks_url == NULL || (only_if_empty && k->jwks != NULL))
		return 0;
	if (k->attempted && now - k->fetched_at < OIDC_REFETCH_INTERVAL &&
	    now >= k->fetched_at)
		return 0;
	k->attempted = 1;
	k->fetched_at = now;
	k->fetches++;
	if ((ks = fetch(p)) == NULL)
		return 0;
	oidc_jwks_unref(k->jwks);
	k->jwks = ks;
	return 1;
}

void
oidc_keys_get(struct oidc_provider *p, struct oidc_jwks **out)
{
	pthread_mutex_lock(&p->keys->mu);
	(void)maybe_fetch(p, 1);
	*out = oidc_jwks_ref(p->keys->jwks);
	pthread_mutex_unlock(&p->keys->mu);
}

int
oidc_keys_refresh(struct oidc_provider *p, struct oidc_jwks **out)
{
	int changed;

	pthread_mutex_lock(&p->keys->mu);
	changed = maybe_fetch(p, 0);
	*out = changed ? oidc_jwks_ref(p->keys->jwks) : NULL;
	pthread_mutex_unlock(&p->keys->mu);
	return changed;
}

unsigned long
oidc_keys_fetches(const struct oidc_provider *p)
{
	unsigned long n;

	pthread_mutex_lock(&p->keys->mu);
	n = p->keys->fetches;
	pthread_mutex_unlock(&p->keys->mu);
	return n;
}
