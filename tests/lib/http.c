/* HTTP and TOTP helpers for tests (see http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

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

	if ((np = realloc(s->p, s->len + add + 1)) == NULL)
		return 0;
	memcpy(np + s->len, data, add);
	s->len += add;
	np[s->len] = '\0';
	s->p = np;
	return add;
}

int
tu_http(const char *method, const char *url, const char *token,
    const char *body, size_t bodylen, const char *content_type,
    const char *extra, const char *cafile, struct tu_resp *out)
{
	struct curl_slist *h = NULL;
	struct sink b = { NULL, 0 }, hd = { NULL, 0 };
	char line[512];
	CURL *c;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	if ((c = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (body != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s",
		    content_type != NULL ? content_type : "application/json");
		h = curl_slist_append(h, line);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)bodylen);
	}
	if (extra != NULL)
		h = curl_slist_append(h, extra);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (cafile != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	out->body = b.p != NULL ? b.p : strdup("");
	out->len = b.len;
	out->headers = hd.p != NULL ? hd.p : strdup("");
	out->json = json_loads(out->body, 0, NULL);
	return rc == CURLE_OK ? 0 : -1;
}

void
tu_resp_free(struct tu_resp *r)
{
	free(r->body);
	free(r->headers);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

const char *
tu_jstr(const struct tu_resp *r, const char *key)
{
	json_t *v = r->json != NULL ? json_object_get(r->json, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : "";
}

void
tu_totp(const char *b32, int64_t t, char code[7])
{
	char at[32];
	char *argv[] = { "oathtool", "--totp", "-b", (char *)b32, "-N", at,
	    NULL };
	struct tu_out o;

	snprintf(at, sizeof(at), "@%lld", (long long)t);
	code[0] = '\0';
	if (tu_run(argv, NULL, NULL, 10, &o) != 0)
		abort();
	if (o.status != 0 || strlen(o.out) < 6) {
		fprintf(stderr, "oathtool failed: %s\n", o.err);
		abort();
	}
	memcpy(code, o.out, 6);
	code[6] = '\0';
	tu_out_free(&o);
}
