/*
 * jit login --oidc and --id-token-file (see cmd_oidc.h).  The identity
 * provider is spoken to with libcurl: https only (plain http only on a
 * loopback address, for a local or test IdP), no redirects, answers
 * capped.  The ID token is never printed or written to disk.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "clients/cli.h"
#include "clients/cmd_oidc.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secret.h"

#define ID_TOKEN_MAX	(16 * 1024)
#define IDP_ANSWER_MAX	(64 * 1024)
#define POLL_MAX_WAIT	(30 * 60)	/* whatever expires_in says */
#define INTERVAL_MAX	60

static const char GRANT_DEVICE[] =
    "urn:ietf:params:oauth:grant-type:device_code";

/* Sends the ID token to the broker and saves the session. */
static int
post_id_token(struct cli *c, const char *id_token)
{
	json_t *body, *ans = NULL, *v;
	const char *user, *tok;
	long st;
	int rc = CLI_EXIT_FAIL;

	if ((body = json_pack("{s:s}", "id_token", id_token)) == NULL)
		return CLI_EXIT_FAIL;
	st = cli_call(c, "POST", "/v1/login/oidc", body, 0, &ans);
	v = json_object_get(body, "id_token");
	explicit_bzero((char *)json_string_value(v), json_string_length(v));
	json_decref(body);
	if (st != 200) {
		rc = cli_fail_answer(c, st, ans);
		goto out;
	}
	user = json_string_value(json_object_get(ans, "user"));
	tok = json_string_value(json_object_get(ans, "token"));
	if (user == NULL || tok == NULL) {
		cli_errx(c, "the broker's answer has no user or token");
		goto out;
	}
	free(c->user);
	c->user = strdup(user);
	strfreezero(c->token);
	c->token = strdup(tok);
	c->expires_at = json_integer_value(json_object_get(ans,
	    "expires_at"));
	if (c->user == NULL || c->token == NULL || cli_save_session(c) != 0)
		goto out;
	if (c->json) {
		json_t *o = json_pack("{s:s,s:s,s:I,s:O}", "user", user, "url",
		    c->url, "expires_at", (json_int_t)c->expires_at,
		    "methods", json_object_get(ans, "methods"));

		cli_print_json(o);
		json_decref(o);
	} else
		fprintf(stderr, "%s: logged in as %s\n", c->prog,
		    cli_safe(user));
	rc = 0;
 out:
	if (ans != NULL) {
		v = json_object_get(ans, "token");
		if (v != NULL)
			explicit_bzero((char *)json_string_value(v),
			    json_string_length(v));
		json_decref(ans);
	}
	return rc;
}

int
cli_login_id_token_file(struct cli *c, const char *path)
{
	uint8_t *d = NULL;
	size_t len = 0;
	char *tok;
	int r, rc;

	if ((r = fileio_read(path, ID_TOKEN_MAX + 2, 0, &d, &len)) != JIT_OK) {
		cli_errx(c, "%s: %s", path, r == JIT_ERR_LIMIT ?
		    "too large for an ID token" : r == JIT_ERR_SYSTEM ?
		    strerror(errno) : jit_strerror(r));
		return CLI_EXIT_FAIL;
	}
	tok = (char *)d;
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' ||
	    tok[len - 1] == ' '))
		tok[--len] = '\0';
	if (len == 0 || strlen(tok) != len) {
		cli_errx(c, "%s: not an ID token", path);
		freezero(d, len + 1);
		return CLI_EXIT_FAIL;
	}
	rc = post_id_token(c, tok);
	freezero(d, len + 1);
	return rc;
}

/* https, or http on a loopback host. */
static int
idp_url_ok(const char *u)
{
	static const char *const ok[] = { "https://", "http://127.0.0.1:",
	    "http://127.0.0.1/", "http://localhost:", "http://localhost/",
	    "http://[::1]:", "http://[::1]/", NULL };
	size_t i;

	for (i = 0; ok[i] != NULL; i++)
		if (strncmp(u, ok[i], strlen(ok[i])) == 0)
			return 1;
	return 0;
}

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

	if (s->len + add > IDP_ANSWER_MAX)
		return 0;
	if ((np = realloc(s->p, s->len + add + 1)) == NULL)
		return 0;
	memcpy(np + s->len, data, add);
	s->len += add;
	np[s->len] = '\0';
	s->p = np;
	return add;
}

/*
 * POSTs the form body to url; returns the HTTP status (0 with a message
 * when there was no answer) and the JSON answer in *out (or NULL).
 */
static long
form_post(struct cli *c, const char *url, const char *form, json_t **out)
{
	struct sink s = { NULL, 0 };
	struct curl_slist *h = NULL;
	CURL *curl;
	CURLcode rc;
	long status = 0;

	*out = NULL;
	if ((curl = curl_easy_init()) == NULL)
		return 0;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (s.p != NULL)
			*out = json_loadb(s.p, s.len, JSON_REJECT_DUPLICATES,
			    NULL);
	} else
		cli_errx(c, "cannot reach the identity provider at %s: %s",
		    url, curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	if (s.p != NULL)
		freezero(s.p, s.len + 1);
	return status;
}

/* "k1=v1&k2=v2" with each value escaped; malloc'd or NULL. */
static char *
form(const char *k1, const char *v1, const char *k2, const char *v2,
    const char *k3, const char *v3)
{
	char *e1 = curl_easy_escape(NULL, v1, 0);
	char *e2 = curl_easy_escape(NULL, v2, 0);
	char *e3 = k3 != NULL ? curl_easy_escape(NULL, v3, 0) : NULL;
	char *out = NULL;

	if (e1 != NULL && e2 != NULL && (k3 == NULL || e3 != NULL) &&
	    asprintf(&out, "%s=%s&%s=%s%s%s%s%s", k1, e1, k2, e2,
	    k3 != NULL ? "&" : "", k3 != NULL ? k3 : "", k3 != NULL ? "=" : "",
	    e3 != NULL ? e3 : "") == -1)
		out = NULL;
	curl_free(e1);
	curl_free(e2);
	curl_free(e3);
	return out;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Picks the provider from the broker's list; NULL with a message. */
static json_t *
pick_provider(struct cli *c, json_t *list, const char *name)
{
	json_t *arr = json_object_get(list, "providers"), *p, *found = NULL;
	size_t i, n = 0;

	json_array_foreach(arr, i, p) {
		if (name != NULL) {
			if (jstr(p, "name") != NULL &&
			    strcmp(jstr(p, "name"), name) == 0)
				return p;
			continue;
		}
		if (jstr(p, "device_authorization_endpoint") != NULL) {
			found = p;
			n++;
		}
	}
	if (name != NULL)
		cli_errx(c, "the broker has no identity provider named \"%s\"",
		    name);
	else if (n == 0)
		cli_errx(c, "the broker offers no identity provider with a "
		    "device login (device_authorization_endpoint)");
	else if (n > 1)
		cli_errx(c, "several identity providers: choose one with "
		    "--provider NAME");
	return n == 1 ? found : NULL;
}

static void
sleep_s(long s)
{
	struct timespec ts = { s, 0 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
cli_login_oidc(struct cli *c, const char *provider)
{
	json_t *list = NULL, *p, *dev = NULL, *ans = NULL;
	const char *client_id, *dev_url, *tok_url, *device_code, *user_code;
	const char *uri, *uri_full, *err;
	char *body = NULL, *id_token = NULL;
	long st, interval;
	time_t deadline;
	int rc = CLI_EXIT_FAIL;

	st = cli_call(c, "GET", "/v1/login/oidc/providers", NULL, 0, &list);
	if (st != 200) {
		rc = cli_fail_answer(c, st, list);
		goto out;
	}
	if ((p = pick_provider(c, list, provider)) == NULL)
		goto out;
	client_id = jstr(p, "client_id");
	dev_url = jstr(p, "device_authorization_endpoint");
	tok_url = jstr(p, "token_endpoint");
	if (client_id == NULL || dev_url == NULL || tok_url == NULL) {
		cli_errx(c, "identity provider \"%s\" has no device login "
		    "configured (device_authorization_endpoint, "
		    "token_endpoint)", jstr(p, "name"));
		goto out;
	}
	if (!idp_url_ok(dev_url) || !idp_url_ok(tok_url)) {
		cli_errx(c, "refusing to talk to the identity provider over "
		    "plain http: %s", !idp_url_ok(dev_url) ? dev_url :
		    tok_url);
		goto out;
	}
	if ((body = form("client_id", client_id, "scope", "openid", NULL,
	    NULL)) == NULL)
		goto out;
	st = form_post(c, dev_url, body, &dev);
	free(body);
	body = NULL;
	if (st == 0)
		goto out;
	device_code = jstr(dev, "device_code");
	user_code = jstr(dev, "user_code");
	uri = jstr(dev, "verification_uri");
	if (uri == NULL)
		uri = jstr(dev, "verification_url");	/* older IdPs */
	uri_full = jstr(dev, "verification_uri_complete");
	if (st != 200 || device_code == NULL || user_code == NULL ||
	    uri == NULL) {
		cli_errx(c, "the identity provider refused the device login "
		    "(HTTP %ld%s%s)", st, jstr(dev, "error") != NULL ? ", " :
		    "", jstr(dev, "error") != NULL ? jstr(dev, "error") : "");
		goto out;
	}
	interval = json_is_integer(json_object_get(dev, "interval")) ?
	    (long)json_integer_value(json_object_get(dev, "interval")) : 5;
	if (interval < 1)
		interval = 1;
	if (interval > INTERVAL_MAX)
		interval = INTERVAL_MAX;
	deadline = time(NULL) + (json_is_integer(json_object_get(dev,
	    "expires_in")) && json_integer_value(json_object_get(dev,
	    "expires_in")) > 0 && json_integer_value(json_object_get(dev,
	    "expires_in")) < POLL_MAX_WAIT ? (time_t)json_integer_value(
	    json_object_get(dev, "expires_in")) : POLL_MAX_WAIT);
	/* What the identity provider sent, made safe for the terminal. */
	fprintf(stderr, "To log in, open %s\nand enter the code: %s\n",
	    cli_safe(uri), cli_safe(user_code));
	if (uri_full != NULL)
		fprintf(stderr, "(or open %s)\n", cli_safe(uri_full));
	fprintf(stderr, "Waiting for the identity provider...\n");
	if ((body = form("grant_type", GRANT_DEVICE, "device_code",
	    device_code, "client_id", client_id)) == NULL)
		goto out;
	for (;;) {
		sleep_s(interval);
		if (time(NULL) > deadline) {
			cli_errx(c, "the device code expired before the login "
			    "was approved");
			goto out;
		}
		json_decref(ans);
		if ((st = form_post(c, tok_url, body, &ans)) == 0)
			goto out;
		if (st == 200 && jstr(ans, "id_token") != NULL)
			break;
		err = jstr(ans, "error");
		if (err != NULL && strcmp(err, "authorization_pending") == 0)
			continue;
		if (err != NULL && strcmp(err, "slow_down") == 0) {
			if (interval + 5 <= INTERVAL_MAX)
				interval += 5;
			continue;
		}
		if (err != NULL && strcmp(err, "access_denied") == 0)
			cli_errx(c, "the login was denied at the identity "
			    "provider");
		else if (err != NULL && strcmp(err, "expired_token") == 0)
			cli_errx(c, "the device code expired before the login "
			    "was approved");
		else if (st == 200)
			cli_errx(c, "the identity provider returned no ID token "
			    "(is the \"openid\" scope allowed for client %s?)",
			    client_id);
		else
			cli_errx(c, "the identity provider's token endpoint "
			    "answered HTTP %ld%s%s", st, err != NULL ? ": " :
			    "", err != NULL ? err : "");
		goto out;
	}
	if (json_string_length(json_object_get(ans, "id_token")) >
	    ID_TOKEN_MAX || (id_token = strdup(jstr(ans, "id_token"))) ==
	    NULL) {
		cli_errx(c, "the identity provider's ID token is too large");
		goto out;
	}
	rc = post_id_token(c, id_token);
 out:
	if (ans != NULL) {
		json_t *v = json_object_get(ans, "id_token");

		if (v != NULL)
			explicit_bzero((char *)json_string_value(v),
			    json_string_length(v));
		json_decref(ans);
	}
	strfreezero(id_token);
	free(body);
	json_decref(dev);
	json_decref(list);
	return rc;
}
