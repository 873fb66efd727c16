/*
 * The approver web page: its three static files, and the cookie sessions
 * it runs on.  POST /v1/web/login checks user, password and code exactly
 * like POST /v1/login, then gives the session token to the browser only
 * as an HttpOnly, SameSite=Strict cookie scoped to /v1, and a CSRF token
 * (32 random bytes, kept in the session row) to the page's script, which
 * sends it back as X-CSRF-Token on every POST.  http_require_auth() falls
 * back to the cookie when there is no Authorization header and then
 * insists on that header for anything but GET and HEAD.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "broker/api.h"
#include "broker/auth.h"
#include "broker/login_limit.h"
#include "broker/password.h"
#include "broker/store_web.h"
#include "broker/web.h"
#include "common/b64.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/fileio.h"

#define CSRF_RAW_LEN	32

static const struct {
	const char	*path;		/* request path */
	const char	*file;		/* name under web_root */
	const char	*type;
} web_files[] = {
	{ "/", "index.html", "text/html; charset=utf-8" },
	{ "/app.js", "app.js", "text/javascript; charset=utf-8" },
	{ "/style.css", "style.css", "text/css; charset=utf-8" },
};

static void
security_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy", WEB_CSP);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy",
	    "same-origin");
}

char *
web_cookie_value(const char *token, int64_t max_age, int secure)
{
	char *out;

	if (token == NULL || *token == '\0' || max_age < 0)
		max_age = 0;
	if (asprintf(&out, "%s=%s; Max-Age=%lld; Path=/v1; HttpOnly; "
	    "SameSite=Strict%s", WEB_COOKIE_NAME, max_age > 0 ? token : "",
	    (long long)max_age, secure ? "; Secure" : "") == -1)
		return NULL;
	return out;
}

char *
web_default_root(void)
{
	static const char *const rel[] = { "/../clients/web",
	    "/../share/jitd/web" };
	char exe[PATH_MAX], try[PATH_MAX + 32], *dir, *real;
	struct stat sb;
	ssize_t n;
	size_t i;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return NULL;
	exe[n] = '\0';
	if ((dir = strrchr(exe, '/')) == NULL)
		return NULL;
	*dir = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(try, sizeof(try), "%s%s", exe, rel[i]);
		if ((real = realpath(try, NULL)) == NULL)
			continue;
		snprintf(try, sizeof(try), "%s/index.html", real);
		if (stat(try, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    strchr(real, '"') == NULL && strchr(real, '\\') == NULL)
			return real;
		free(real);
	}
	return NULL;
}

void
api_web_static(struct http_req *rq)
{
	struct MHD_Response *resp;
	char path[PATH_MAX];
	uint8_t *data = NULL;
	size_t len = 0, i;
	int r;

	for (i = 0; i < sizeof(web_files) / sizeof(web_files[0]); i++)
		if (strcmp(rq->path, web_files[i].path) == 0)
			break;
	if (i == sizeof(web_files) / sizeof(web_files[0])) {
		http_error(rq, 404, "not_found", "no such endpoint");
		return;
	}
	if (rq->cfg->web_root == NULL) {
		http_error(rq, 404, "not_found", "the approver web page is not "
		    "enabled: set \"web_root\" in the config");
		return;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", rq->cfg->web_root,
	    web_files[i].file) >= sizeof(path)) {
		http_error_code(rq, JIT_ERR_LIMIT);
		return;
	}
	if ((r = fileio_read(path, WEB_FILE_MAX, 0, &data, &len)) != JIT_OK) {
		fprintf(stderr, "jitd: web: %s: %s\n", path, jit_strerror(r));
		http_error(rq, r == JIT_ERR_NOT_FOUND ? 404 : 500,
		    r == JIT_ERR_NOT_FOUND ? "not_found" : "internal",
		    "the page file %s cannot be read", web_files[i].file);
		return;
	}
	resp = MHD_create_response_from_buffer(len, data,
	    MHD_RESPMEM_MUST_COPY);
	free(data);
	if (resp == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    web_files[i].type);
	security_headers(resp);
	rq->mhd_resp = resp;
	rq->status = 200;
}

/* Answers body (stolen) with status and, if cookie is set, Set-Cookie. */
static void
answer_with_cookie(struct http_req *rq, int status, json_t *body,
    const char *cookie)
{
	struct MHD_Response *resp;
	char *text;

	if (body == NULL || (text = json_dumps(body, JSON_COMPACT |
	    JSON_ENSURE_ASCII)) == NULL) {
		json_decref(body);
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	json_decref(body);
	resp = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_COPY);
	sodium_memzero(text, strlen(text));	/* holds the CSRF token */
	free(text);
	if (resp == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	if (cookie != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
		    cookie);
	security_headers(resp);
	rq->mhd_resp = resp;
	rq->status = status;
}

struct csrf_job {
	uint8_t		 hash[32];
	const char	*csrf;
};

static int
csrf_tx(struct store_tx *tx, void *arg)
{
	struct csrf_job *j = arg;

	return store_tx_session_set_csrf(tx, j->hash, j->csrf);
}

void
api_web_login(struct http_req *rq)
{
	static const char *const fields[] = { "user", "password", "otp",
	    NULL };
	struct auth_login_result res;
	struct csrf_job j;
	const char *user, *password, *otp;
	uint8_t raw[CSRF_RAW_LEN];
	char *csrf = NULL, *cookie = NULL;
	int r;

	memset(&res, 0, sizeof(res));
	memset(&j, 0, sizeof(j));
	if (http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "user", 1, STORE_NAME_MAX * 4, &user) != 0 ||
	    http_body_string(rq, "password", 1, JIT_PASSWORD_MAX,
	    &password) != 0 ||
	    http_body_string(rq, "otp", 1, AUTH_OTP_MAX, &otp) != 0)
		return;
	snprintf(rq->log_user, sizeof(rq->log_user), "%s", user);
	/* The same limits as POST /v1/login (login_limit.h). */
	if ((r = login_limit_admit(rq->srv, rq->cfg, rq->client_ip, user,
	    &rq->retry_after)) != JIT_OK) {
		http_error_code(rq, r);
		goto out;
	}
	r = auth_login(rq->srv, rq->cfg, user, password, otp, rq->client_ip,
	    &res);
	if (r == JIT_OK || r == JIT_ERR_RATE_LIMITED)
		login_limit_refund(rq->srv, rq->cfg, rq->client_ip, user);
	if (r == JIT_ERR_AUTH) {
		http_error(rq, 401, "unauthorized", "login failed: wrong user, "
		    "password or code, or the account is locked");
		goto out;
	}
	if (r != JIT_OK) {
		http_error_code(rq, r);
		goto out;
	}
	randombytes_buf(raw, sizeof(raw));
	csrf = b64_encode(raw, sizeof(raw), B64_URL);
	sodium_memzero(raw, sizeof(raw));
	if (csrf == NULL || auth_token_hash(res.token, j.hash) != JIT_OK) {
		http_error_code(rq, JIT_ERR_ALLOC);
		goto out;
	}
	/*
	 * The session exists already; until its CSRF token is stored nobody
	 * holds its token, so a failure here leaves nothing usable behind.
	 */
	j.csrf = csrf;
	if ((r = store_write(rq->srv->store, csrf_tx, &j)) != JIT_OK) {
		http_error_code(rq, r);
		goto out;
	}
	if ((cookie = web_cookie_value(res.token, res.expires_at - jit_now(),
	    rq->cfg->tls_cert != NULL)) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		goto out;
	}
	answer_with_cookie(rq, 200, json_pack("{s:s,s:s,s:I,s:I,s:I}",
	    "csrf", csrf, "user", user, "expires_at",
	    (json_int_t)res.expires_at, "mfa_max_age",
	    (json_int_t)rq->cfg->mfa_max_age, "now", (json_int_t)jit_now()),
	    cookie);
 out:
	if (cookie != NULL) {
		sodium_memzero(cookie, strlen(cookie));
		free(cookie);
	}
	if (csrf != NULL) {
		sodium_memzero(csrf, strlen(csrf));
		free(csrf);
	}
	sodium_memzero(&res, sizeof(res));
	sodium_memzero(&j, sizeof(j));
}

void
api_web_logout(struct http_req *rq)
{
	char *cookie;
	int r;

	if (http_require_auth(rq) != 0)
		return;
	if ((r = auth_logout(rq->srv, &rq->auth, rq->client_ip)) != JIT_OK) {
		http_error_code(rq, r);
		return;
	}
	if ((cookie = web_cookie_value(NULL, 0, rq->cfg->tls_cert != NULL)) ==
	    NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	answer_with_cookie(rq, 200, json_pack("{s:b}", "logged_out", 1),
	    cookie);
	free(cookie);
}

void
api_web_session(struct http_req *rq)
{
	const struct auth_ctx *a = &rq->auth;
	char csrf[STORE_CSRF_MAX + 1];
	int r;

	if (http_require_auth(rq) != 0)
		return;
	if ((r = store_session_csrf_get(rq->srv->store, a->sess.token_hash,
	    csrf, sizeof(csrf))) != JIT_OK) {
		http_error_code(rq, r == JIT_ERR_NOT_FOUND ? JIT_ERR_AUTH : r);
		return;
	}
	answer_with_cookie(rq, 200, json_pack("{s:s,s:s,s:s,s:b,s:I,s:I,s:I,"
	    "s:I}", "user", a->user.name, "groups", a->user.groups, "csrf",
	    csrf, "mfa_fresh", auth_mfa_fresh(rq->cfg, a), "mfa_valid_until",
	    (json_int_t)(a->sess.auth_time + rq->cfg->mfa_max_age),
	    "mfa_max_age", (json_int_t)rq->cfg->mfa_max_age, "expires_at",
	    (json_int_t)a->sess.expires_at, "now", (json_int_t)jit_now()),
	    NULL);
	sodium_memzero(csrf, sizeof(csrf));
}

int
web_cookie_auth(struct http_req *rq)
{
	char want[STORE_CSRF_MAX + 1];
	const char *tok, *got;
	size_t n;
	int r;

	tok = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND,
	    WEB_COOKIE_NAME);
	if (tok == NULL || *tok == '\0')
		return 1;
	if ((r = auth_check_token(rq->srv, rq->cfg, tok, &rq->auth)) !=
	    JIT_OK) {
		if (r == JIT_ERR_AUTH)
			http_error(rq, 401, "unauthorized", "the session is "
			    "invalid, expired or revoked: log in again");
		else
			http_error_code(rq, r);
		return -1;
	}
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") !=
	    0) {
		got = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
		    WEB_CSRF_HEADER);
		if ((r = store_session_csrf_get(rq->srv->store,
		    rq->auth.sess.token_hash, want, sizeof(want))) != JIT_OK) {
			memset(&rq->auth, 0, sizeof(rq->auth));
			http_error_code(rq, r == JIT_ERR_NOT_FOUND ?
			    JIT_ERR_AUTH : r);
			return -1;
		}
		n = strlen(want);
		/* The length of a CSRF token is public; its bytes are not. */
		if (got == NULL || n == 0 || strlen(got) != n ||
		    sodium_memcmp(got, want, n) != 0) {
			sodium_memzero(want, sizeof(want));
			memset(&rq->auth, 0, sizeof(rq->auth));
			http_error(rq, 403, "csrf", "this call needs the "
			    "session's " WEB_CSRF_HEADER " header");
			return -1;
		}
		sodium_memzero(want, sizeof(want));
	}
	rq->authed = 1;
	snprintf(rq->log_user, sizeof(rq->log_user), "%s", rq->auth.user.name);
	return 0;
}
