/*
 * The approver web page: its static files and security headers, cookie
 * sessions with their CSRF token (checked with libcurl), and the page
 * itself in a real headless Chromium driven by playwright-core
 * (tests/web/page.mjs): bob signs in with a TOTP, sees alice's pending
 * request whose reason carries an XSS payload that must render as text,
 * approves it from the detail view, and alice's own page shows the new
 * state; a form posted from another origin is refused.  Screenshots go to
 * build/screenshots/.  The browser part is skipped, saying why, when
 * chromium, node or playwright-core cannot be had; the rest still runs.
 */
#include <sys/stat.h>

#include <check.h>
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
#include "broker/web.h"
#include "common/clock.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

#define PW		"correct horse battery"
#define PLAYWRIGHT	"playwright-core@1.65.1"
#define XSS_REASON	"db3 disk full <img src=x onerror=\"window.__xss=1\">" \
			" <script>window.__xss=2</script> & 'quotes'"

static volatile int64_t fake_now;
static char *tmp, *inst, *cfgpath, *base, *src;
static struct server *srv;
static struct {
	char	name[32];
	char	b32[64];
	char	token[64];
} users[4];
static int nusers;

static const char roles_json[] =
"[{\"name\":\"prod-ssh\",\"description\":\"web root\","
"  \"ssh\":{\"principals\":[\"webadmin\"],\"extensions\":[\"permit-pty\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"max_duration\":\"1h\",\"pending_ttl\":\"1h\","
"  \"require_reason\":true}]";

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
	ck_abort_msg("no user %s", name);
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

	tu_write_file(pwf, PW "\n", strlen(PW) + 1, 0600);
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

/*
 * One request with any headers: cookie (the session token, or NULL),
 * csrf (X-CSRF-Token value, or NULL), bearer token (or NULL), body with
 * its content type (NULL: application/json).
 */
static void
whttp(const char *method, const char *path, const char *cookie,
    const char *csrf, const char *bearer, const char *body, const char *ctype,
    struct tu_resp *out)
{
	struct curl_slist *h = NULL;
	char url[512], line[512];
	CURL *c;
	FILE *bf, *hf;
	char *b = NULL, *hd = NULL;
	size_t blen = 0, hlen = 0;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", base, path);
	ck_assert_ptr_nonnull(c = curl_easy_init());
	ck_assert_ptr_nonnull(bf = open_memstream(&b, &blen));
	ck_assert_ptr_nonnull(hf = open_memstream(&hd, &hlen));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, bf);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, hf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (cookie != NULL) {
		snprintf(line, sizeof(line), "Cookie: " WEB_COOKIE_NAME "=%s",
		    cookie);
		h = curl_slist_append(h, line);
	}
	if (csrf != NULL) {
		snprintf(line, sizeof(line), WEB_CSRF_HEADER ": %s", csrf);
		h = curl_slist_append(h, line);
	}
	if (bearer != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s",
		    bearer);
		h = curl_slist_append(h, line);
	}
	if (body != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype != NULL ?
		    ctype : "application/json");
		h = curl_slist_append(h, line);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path,
	    curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	fclose(bf);
	fclose(hf);
	out->body = b;
	out->len = blen;
	out->headers = hd;
	out->json = json_loads(b, 0, NULL);
}

/* The value of response header name (case-insensitive), or NULL. */
static char *
header(const struct tu_resp *r, const char *name)
{
	const char *p = r->headers;
	size_t n = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			return strndup(p, strcspn(p, "\r\n"));
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

static void
assert_header(const struct tu_resp *r, const char *name, const char *want)
{
	char *v = header(r, name);

	ck_assert_msg(v != NULL, "no %s header in:\n%s", name, r->headers);
	ck_assert_str_eq(v, want);
	free(v);
}

/* Logs user in over the API (bearer token) with the current code. */
static void
login(const char *name)
{
	struct tu_resp r;
	char code[7], body[256];
	int i = user_index(name);

	tu_totp(users[i].b32, fake_now, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW
	    "\",\"otp\":\"%s\"}", name, code);
	whttp("POST", "/v1/login", NULL, NULL, NULL, body, NULL, &r);
	ck_assert_msg(r.status == 200, "login %s: %s", name, r.body);
	snprintf(users[i].token, sizeof(users[i].token), "%s",
	    tu_jstr(&r, "token"));
	tu_resp_free(&r);
}

/* A web login: fills the cookie's token and the CSRF token. */
static void
web_login(const char *name, char cookie[64], char csrf[64],
    struct tu_resp *keep)
{
	struct tu_resp r;
	char code[7], body[256], *sc, *e;
	int i = user_index(name);

	tu_totp(users[i].b32, fake_now, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW
	    "\",\"otp\":\"%s\"}", name, code);
	whttp("POST", "/v1/web/login", NULL, NULL, NULL, body, NULL, &r);
	ck_assert_msg(r.status == 200, "web login %s: %s", name, r.body);
	ck_assert_ptr_nonnull(sc = header(&r, "Set-Cookie"));
	ck_assert_msg(strncmp(sc, WEB_COOKIE_NAME "=", 13) == 0, "%s", sc);
	e = strchr(sc, ';');
	ck_assert_ptr_nonnull(e);
	snprintf(cookie, 64, "%.*s", (int)(e - sc - 13), sc + 13);
	ck_assert_int_eq(strlen(cookie), 43);
	snprintf(csrf, 64, "%s", tu_jstr(&r, "csrf"));
	ck_assert_int_eq(strlen(csrf), 43);
	ck_assert_str_ne(cookie, csrf);
	free(sc);
	if (keep != NULL)
		*keep = r;
	else
		tu_resp_free(&r);
}

static void
write_config(int with_web)
{
	json_t *c = json_load_file(cfgpath, 0, NULL), *roles;
	char *web = tu_path(src, "clients/web");

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(roles = json_loads(roles_json, 0, NULL));
	json_object_set_new(c, "roles", roles);
	json_object_set_new(c, "threads", json_integer(4));
	json_object_set_new(c, "web_root", with_web ? json_string(web) :
	    json_null());
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	free(web);
}

static void
setup(void)
{
	json_t *c;
	char *err = NULL, listen[64];
	int port = tu_free_port();
	const char *s = getenv("JIT_SRC");

	src = strdup(s != NULL ? s : ".");
	tmp = tu_mkdtemp("web");
	inst = tu_path(tmp, "inst");
	cfgpath = tu_path(inst, "jitd.json");
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	ck_assert_ptr_nonnull(c = json_load_file(cfgpath, 0, NULL));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	write_config(1);
	nusers = 0;
	add_user("alice", "eng");
	add_user("bob", "sre");
	add_user("carol", "sre");
	fake_now = (time(NULL) / 30) * 30 + 5;
	jit_clock_set(fake_clock);
	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
	if (asprintf(&base, "http://127.0.0.1:%d", port) == -1)
		abort();
	login("alice");
	login("carol");
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
	free(src);
}

/* alice asks for prod-ssh with reason; returns the id. */
static json_int_t
create_request(const char *reason)
{
	struct tu_resp r;
	json_t *b = json_pack("{s:s,s:s,s:s}", "role", "prod-ssh", "reason",
	    reason, "duration", "30m");
	char *body = json_dumps(b, JSON_COMPACT);
	json_int_t id;

	whttp("POST", "/v1/requests", NULL, NULL,
	    users[user_index("alice")].token, body, NULL, &r);
	ck_assert_msg(r.status == 201, "create: %s", r.body);
	id = json_integer_value(json_object_get(r.json, "id"));
	tu_resp_free(&r);
	free(body);
	json_decref(b);
	return id;
}

/* The request's state as alice (bearer) sees it. */
static char *
request_state(json_int_t id, json_t **full)
{
	struct tu_resp r;
	char path[64];
	char *st;

	snprintf(path, sizeof(path), "/v1/requests/%lld", (long long)id);
	whttp("GET", path, NULL, NULL, users[user_index("alice")].token, NULL,
	    NULL, &r);
	ck_assert_int_eq(r.status, 200);
	st = strdup(tu_jstr(&r, "state"));
	if (full != NULL)
		*full = json_incref(r.json);
	tu_resp_free(&r);
	return st;
}

START_TEST(static_files)
{
	static const struct {
		const char *path, *type, *needle;
	} files[] = {
		{ "/", "text/html; charset=utf-8", "<script src=\"/app.js\"" },
		{ "/app.js", "text/javascript; charset=utf-8", "textContent" },
		{ "/style.css", "text/css; charset=utf-8", "[hidden]" },
	};
	static const char *const missing[] = { "/index.html", "/app.js/",
	    "/..%2fjitd.json", "/%2e%2e/jitd.json", "/favicon.ico",
	    "/clients/web/app.js" };
	struct tu_resp r;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		whttp("GET", files[i].path, NULL, NULL, NULL, NULL, NULL, &r);
		ck_assert_msg(r.status == 200, "%s: %ld", files[i].path,
		    r.status);
		assert_header(&r, "Content-Type", files[i].type);
		assert_header(&r, "Content-Security-Policy", WEB_CSP);
		assert_header(&r, "X-Frame-Options", "DENY");
		assert_header(&r, "Referrer-Policy", "no-referrer");
		assert_header(&r, "X-Content-Type-Options", "nosniff");
		assert_header(&r, "Cache-Control", "no-store");
		ck_assert(tu_contains(r.body, files[i].needle));
		tu_resp_free(&r);
	}
	/* The page has no inline script or style for the CSP to allow. */
	whttp("GET", "/", NULL, NULL, NULL, NULL, NULL, &r);
	ck_assert(!tu_contains(r.body, "<script>"));
	ck_assert(!tu_contains(r.body, "style="));
	ck_assert(!tu_contains(r.body, "<style"));
	ck_assert(!tu_contains(r.body, "onclick="));
	ck_assert(!tu_contains(r.body, "onsubmit="));
	ck_assert(!tu_contains(r.body, "onload="));
	ck_assert(!tu_contains(r.body, "javascript:"));
	tu_resp_free(&r);
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		whttp("GET", missing[i], NULL, NULL, NULL, NULL, NULL, &r);
		ck_assert_msg(r.status == 404, "%s: %ld", missing[i], r.status);
		tu_resp_free(&r);
	}
	whttp("POST", "/", NULL, NULL, NULL, "{}", NULL, &r);
	ck_assert_int_eq(r.status, 405);
	tu_resp_free(&r);
	/* Without web_root the page is off (and a reload applies that). */
	write_config(0);
	serve_reload(srv);
	whttp("GET", "/", NULL, NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert(tu_contains(r.body, "web_root"));
	tu_resp_free(&r);
	whttp("GET", "/app.js", NULL, NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	tu_resp_free(&r);
}
END_TEST

START_TEST(cookie_sessions_and_csrf)
{
	struct tu_resp r;
	char cookie[64], csrf[64], wrong[64], *sc, path[96];
	json_int_t id, id2;
	char *st;

	web_login("bob", cookie, csrf, &r);
	/* The cookie: HttpOnly, SameSite=Strict, scoped to /v1, no Secure. */
	ck_assert_ptr_nonnull(sc = header(&r, "Set-Cookie"));
	ck_assert(tu_contains(sc, "; HttpOnly"));
	ck_assert(tu_contains(sc, "; SameSite=Strict"));
	ck_assert(tu_contains(sc, "; Path=/v1"));
	ck_assert(tu_contains(sc, "; Max-Age=28800"));
	ck_assert(!tu_contains(sc, "Secure"));
	free(sc);
	/* The token is only in the cookie, never in the body. */
	ck_assert(!tu_contains(r.body, cookie));
	ck_assert_ptr_null(json_object_get(r.json, "token"));
	ck_assert_str_eq(tu_jstr(&r, "user"), "bob");
	assert_header(&r, "X-Frame-Options", "DENY");
	tu_resp_free(&r);

	/* A GET needs only the cookie; the session gives the CSRF again. */
	whttp("GET", "/v1/web/session", cookie, NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_jstr(&r, "csrf"), csrf);
	ck_assert_str_eq(tu_jstr(&r, "user"), "bob");
	ck_assert(json_is_true(json_object_get(r.json, "mfa_fresh")));
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "now")),
	    fake_now);
	tu_resp_free(&r);
	whttp("GET", "/v1/me", cookie, NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_jstr(&r, "user"), "bob");
	tu_resp_free(&r);

	id = create_request("disk full on web3");
	snprintf(path, sizeof(path), "/v1/requests/%lld/approve",
	    (long long)id);
	/* Cookie without the CSRF header: refused. */
	whttp("POST", path, cookie, NULL, NULL, "{\"comment\":\"x\"}", NULL,
	    &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(tu_jstr(&r, "error"), "csrf");
	tu_resp_free(&r);
	/* Without a body at all (what an empty cross-site form sends). */
	whttp("POST", path, cookie, NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(tu_jstr(&r, "error"), "csrf");
	tu_resp_free(&r);
	/* A wrong token of the right length, a short one, an empty one. */
	snprintf(wrong, sizeof(wrong), "%s", csrf);
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	whttp("POST", path, cookie, wrong, NULL, "{}", NULL, &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(tu_jstr(&r, "error"), "csrf");
	tu_resp_free(&r);
	wrong[10] = '\0';
	whttp("POST", path, cookie, wrong, NULL, "{}", NULL, &r);
	ck_assert_int_eq(r.status, 403);
	tu_resp_free(&r);
	whttp("POST", path, cookie, "", NULL, "{}", NULL, &r);
	ck_assert_int_eq(r.status, 403);
	tu_resp_free(&r);
	/* bob's CSRF token with carol's API session as a cookie: no. */
	whttp("POST", path, users[user_index("carol")].token, csrf, NULL, "{}",
	    NULL, &r);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(tu_jstr(&r, "error"), "csrf");
	tu_resp_free(&r);
	/* A form-encoded body is refused before anything else (415). */
	whttp("POST", path, cookie, csrf, NULL, "comment=x",
	    "application/x-www-form-urlencoded", &r);
	ck_assert_int_eq(r.status, 415);
	tu_resp_free(&r);
	whttp("POST", path, cookie, csrf, NULL, "{\"comment\":\"x\"}",
	    "text/plain", &r);
	ck_assert_int_eq(r.status, 415);
	tu_resp_free(&r);
	st = request_state(id, NULL);
	ck_assert_str_eq(st, "pending");
	free(st);
	/* A bogus cookie is a 401, not a fallback to anything. */
	whttp("GET", "/v1/requests", "AAAA", NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);

	/* With the token it works. */
	whttp("POST", path, cookie, csrf, NULL, "{\"comment\":\"ok from the "
	    "page\"}", NULL, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_str_eq(tu_jstr(&r, "state"), "approved");
	tu_resp_free(&r);

	/* Bearer tokens need no CSRF header. */
	id2 = create_request("second");
	snprintf(path, sizeof(path), "/v1/requests/%lld/deny", (long long)id2);
	whttp("POST", path, NULL, NULL, users[user_index("carol")].token,
	    "{\"comment\":\"no\"}", NULL, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_str_eq(tu_jstr(&r, "state"), "denied");
	tu_resp_free(&r);
	/* The Authorization header wins over a cookie. */
	whttp("GET", "/v1/me", cookie, NULL, users[user_index("carol")].token,
	    NULL, NULL, &r);
	ck_assert_str_eq(tu_jstr(&r, "user"), "carol");
	tu_resp_free(&r);

	/* Logout needs the CSRF token too, then clears the cookie. */
	whttp("POST", "/v1/web/logout", cookie, NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 403);
	tu_resp_free(&r);
	whttp("POST", "/v1/web/logout", cookie, csrf, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(sc = header(&r, "Set-Cookie"));
	ck_assert(tu_contains(sc, WEB_COOKIE_NAME "=; Max-Age=0; Path=/v1"));
	free(sc);
	tu_resp_free(&r);
	whttp("GET", "/v1/web/session", cookie, NULL, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);

	/* A failed web login sets no cookie. */
	whttp("POST", "/v1/web/login", NULL, NULL, NULL, "{\"user\":\"bob\","
	    "\"password\":\"wrong\",\"otp\":\"000000\"}", NULL, &r);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_null(header(&r, "Set-Cookie"));
	tu_resp_free(&r);
}
END_TEST

START_TEST(cookie_attributes)
{
	char *c;

	/* Secure whenever TLS is on (api_web.c passes tls_cert != NULL). */
	ck_assert_ptr_nonnull(c = web_cookie_value("tok", 60, 1));
	ck_assert_str_eq(c, WEB_COOKIE_NAME "=tok; Max-Age=60; Path=/v1; "
	    "HttpOnly; SameSite=Strict; Secure");
	free(c);
	ck_assert_ptr_nonnull(c = web_cookie_value("tok", 60, 0));
	ck_assert_str_eq(c, WEB_COOKIE_NAME "=tok; Max-Age=60; Path=/v1; "
	    "HttpOnly; SameSite=Strict");
	free(c);
	/* Clearing: no value, Max-Age=0; a negative age also clears. */
	ck_assert_ptr_nonnull(c = web_cookie_value(NULL, 60, 1));
	ck_assert_str_eq(c, WEB_COOKIE_NAME "=; Max-Age=0; Path=/v1; "
	    "HttpOnly; SameSite=Strict; Secure");
	free(c);
	ck_assert_ptr_nonnull(c = web_cookie_value("tok", -5, 0));
	ck_assert(tu_contains(c, "=; Max-Age=0;"));
	free(c);
}
END_TEST

static int
is_exec(const char *p)
{
	return access(p, X_OK) == 0;
}

/* Finds or installs playwright-core under build/web-node; NULL if not. */
static char *
playwright_dir(const char **why)
{
	char *dir = tu_path(src, "build/web-node"), *pkg;
	char *argv[] = { "npm", "install", "--prefix", dir, "--no-audit",
	    "--no-fund", "--no-save", "--loglevel=error", PLAYWRIGHT, NULL };
	struct tu_out o;

	pkg = tu_path(dir, "node_modules/playwright-core/package.json");
	if (access(pkg, R_OK) == 0) {
		free(pkg);
		return dir;
	}
	mkdir(dir, 0755);
	if (tu_run(argv, NULL, NULL, 180, &o) != 0) {
		*why = "npm cannot be run";
		goto fail;
	}
	if (o.status != 0 || access(pkg, R_OK) != 0) {
		fprintf(stderr, "npm install " PLAYWRIGHT ": %s%s\n", o.out,
		    o.err);
		tu_out_free(&o);
		*why = "npm install " PLAYWRIGHT " failed";
		goto fail;
	}
	tu_out_free(&o);
	free(pkg);
	return dir;
 fail:
	free(pkg);
	free(dir);
	return NULL;
}

/* Runs page.mjs for phase with the common environment plus otp2. */
static void
run_page(const char *phase, const char *pwdir, const char *chromium,
    const char *shots, const char *state, json_int_t id, json_int_t id2,
    const char *bob_code, const char *alice_code, const char *otp2)
{
	char *script = tu_path(src, "tests/web/page.mjs"), *node = "node";
	char e[13][640];
	char *env[14];
	struct tu_out o;
	int i;

	snprintf(e[0], sizeof(e[0]), "JITD_URL=%s", base);
	snprintf(e[1], sizeof(e[1]), "JITD_PASSWORD=%s", PW);
	snprintf(e[2], sizeof(e[2]), "BOB_OTP=%s", bob_code);
	snprintf(e[3], sizeof(e[3]), "ALICE_OTP=%s", alice_code);
	snprintf(e[4], sizeof(e[4]), "REQ_ID=%lld", (long long)id);
	snprintf(e[5], sizeof(e[5]), "REQ2_ID=%lld", (long long)id2);
	snprintf(e[6], sizeof(e[6]), "PW_DIR=%s", pwdir);
	snprintf(e[7], sizeof(e[7]), "CHROMIUM=%s", chromium);
	snprintf(e[8], sizeof(e[8]), "SHOT_DIR=%s", shots);
	snprintf(e[9], sizeof(e[9]), "STATE_FILE=%s", state);
	snprintf(e[10], sizeof(e[10]), "PHASE=%s", phase);
	snprintf(e[11], sizeof(e[11]), "BOB_OTP2=%s", otp2);
	/* node is not built with the sanitizers of an ASan run. */
	snprintf(e[12], sizeof(e[12]), "ASAN_OPTIONS=");
	for (i = 0; i < 13; i++)
		env[i] = e[i];
	env[13] = NULL;
	ck_assert_int_eq(tu_run((char *[]){ node, script, NULL }, NULL, env,
	    90, &o), 0);
	fprintf(stderr, "%s", o.out);
	ck_assert_msg(o.status == 0, "page.mjs %s failed (%d):\n%s\n%s", phase,
	    o.status, o.out, o.err);
	tu_out_free(&o);
	free(script);
}

START_TEST(browser)
{
	const char *why = NULL, *chromium = "/usr/bin/chromium";
	char *pwdir = NULL, *shots, *shotlist, *shotdetail, *state;
	char bob_code[7], alice_code[7], otp2[7];
	struct tu_out o;
	json_int_t id, id2;
	json_t *full, *votes;
	char *st;
	struct stat sb;

	if (!is_exec(chromium))
		why = "no /usr/bin/chromium (apt-get install chromium)";
	else if (tu_run((char *[]){ "node", "--version", NULL }, NULL, NULL,
	    30, &o) != 0)
		why = "node cannot be run";
	else {
		if (o.status != 0)
			why = "no node (apt-get install nodejs npm)";
		else
			pwdir = playwright_dir(&why);
		tu_out_free(&o);
	}
	if (pwdir == NULL) {
		fprintf(stderr, "check_web: browser test SKIPPED: %s; the "
		    "cookie, CSRF and header checks still ran\n", why);
		return;
	}
	id = create_request(XSS_REASON);
	id2 = create_request("for the cross-site form test");
	/* Fresh TOTP steps for the two browser logins. */
	fake_now += 30;
	tu_totp(users[user_index("bob")].b32, fake_now, bob_code);
	tu_totp(users[user_index("alice")].b32, fake_now, alice_code);
	shots = tu_path(src, "build/screenshots");
	mkdir(shots, 0755);
	shotlist = tu_path(shots, "web-list.png");
	shotdetail = tu_path(shots, "web-detail.png");
	state = tu_path(tmp, "bob-browser-state.json");
	unlink(shotlist);
	unlink(shotdetail);
	run_page("main", pwdir, chromium, shots, state, id, id2, bob_code,
	    alice_code, "");

	/* What the page did, as the API sees it. */
	st = request_state(id, &full);
	ck_assert_str_eq(st, "approved");
	free(st);
	votes = json_object_get(full, "votes");
	ck_assert_int_eq(json_array_size(votes), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    votes, 0), "approver")), "bob");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    votes, 0), "comment")), "approved from the page <b>ok</b>");
	json_decref(full);
	st = request_state(id2, NULL);
	ck_assert_str_eq(st, "pending");
	free(st);
	ck_assert_int_eq(stat(shotlist, &sb), 0);
	ck_assert_int_gt(sb.st_size, 1000);
	ck_assert_int_eq(stat(shotdetail, &sb), 0);
	ck_assert_int_gt(sb.st_size, 1000);

	/* 16 minutes on, bob's MFA is stale (mfa_max_age 15m). */
	fake_now += 16 * 60;
	tu_totp(users[user_index("bob")].b32, fake_now, otp2);
	run_page("mfa", pwdir, chromium, shots, state, id, id2, "", "", otp2);
	st = request_state(id, NULL);
	ck_assert_str_eq(st, "revoked");
	free(st);
	fprintf(stderr, "check_web: screenshots in %s\n", shots);
	free(shots);
	free(shotlist);
	free(shotdetail);
	free(state);
	free(pwdir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("web");
	TCase *tc = tcase_create("web");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, static_files);
	tcase_add_test(tc, cookie_sessions_and_csrf);
	tcase_add_test(tc, cookie_attributes);
	tcase_add_test(tc, browser);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
