/* Handlers for health, metrics and authentication routes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <sodium.h>

#include "broker/api.h"
#include "broker/auth.h"
#include "broker/login_limit.h"
#include "broker/notify.h"
#include "broker/password.h"
#include "common/clock.h"
#include "common/err.h"

void
api_healthz(struct http_req *rq)
{
	http_json(rq, 200, json_pack("{s:s,s:I}", "status", "ok",
	    "audit_head", (json_int_t)store_audit_head(rq->srv->store)));
}

static int
count_one(void *arg, const struct store_request *r)
{
	(void)r;
	(*(long *)arg)++;
	return JIT_OK;
}

void
api_metrics(struct http_req *rq)
{
	struct store_request_filter f;
	struct MHD_Response *resp;
	char *text, extra[1280];
	long open_reviews = 0;

	memset(&f, 0, sizeof(f));
	f.review_state = "open";
	f.limit = 1000;
	if (store_request_list(rq->srv->store, &f, count_one, &open_reviews) !=
	    JIT_OK)
		open_reviews = -1;
	snprintf(extra, sizeof(extra), "# HELP jitd_breakglass_unreviewed "
	    "Break-glass grants whose review is open.\n# TYPE "
	    "jitd_breakglass_unreviewed gauge\njitd_breakglass_unreviewed "
	    "%ld\n", open_reviews);
	notify_metrics(rq->srv, extra + strlen(extra), sizeof(extra) -
	    strlen(extra));
	if ((text = metrics_render(&rq->srv->metrics, http_route_name,
	    extra)) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	resp = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4");
	rq->mhd_resp = resp;
	rq->status = 200;
}

void
api_login(struct http_req *rq)
{
	static const char *const fields[] = { "user", "password", "otp",
	    NULL };
	struct auth_login_result res;
	const char *user, *password, *otp;
	int r;

	if (http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "user", 1, STORE_NAME_MAX * 4, &user) != 0 ||
	    http_body_string(rq, "password", 1, JIT_PASSWORD_MAX,
	    &password) != 0 ||
	    http_body_string(rq, "otp", 1, AUTH_OTP_MAX, &otp) != 0)
		return;
	snprintf(rq->log_user, sizeof(rq->log_user), "%s", user);
	/* Before any hashing: the address's and the name's buckets. */
	if ((r = login_limit_admit(rq->srv, rq->cfg, rq->client_ip, user,
	    &rq->retry_after)) != JIT_OK) {
		http_error_code(rq, r);
		return;
	}
	r = auth_login(rq->srv, rq->cfg, user, password, otp, rq->client_ip,
	    &res);
	if (r == JIT_OK || r == JIT_ERR_RATE_LIMITED)	/* only failures count */
		login_limit_refund(rq->srv, rq->cfg, rq->client_ip, user);
	if (r == JIT_ERR_AUTH) {
		http_error(rq, 401, "unauthorized", "login failed: wrong user, "
		    "password or code, or the account is locked");
		return;
	}
	if (r != JIT_OK) {
		http_error_code(rq, r);
		return;
	}
	http_json(rq, 200, json_pack("{s:s,s:I}", "token", res.token,
	    "expires_at", (json_int_t)res.expires_at));
	sodium_memzero(&res, sizeof(res));
}

void
api_mfa(struct http_req *rq)
{
	static const char *const fields[] = { "otp", NULL };
	const char *otp;
	int r;

	if (http_require_auth(rq) != 0 || http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "otp", 1, AUTH_OTP_MAX, &otp) != 0)
		return;
	r = auth_step_up(rq->srv, rq->cfg, &rq->auth, otp, rq->client_ip);
	if (r == JIT_ERR_POLICY) {
		http_error(rq, 401, "unauthorized", "this account has no "
		    "one-time code: log in again with your identity provider "
		    "(jit login --oidc)");
		return;
	}
	if (r == JIT_ERR_AUTH) {
		http_error(rq, 401, "unauthorized", "the code is wrong, "
		    "expired or already used, or the account is locked");
		return;
	}
	if (r != JIT_OK) {
		http_error_code(rq, r);
		return;
	}
	http_json(rq, 200, json_pack("{s:I,s:I}", "auth_time",
	    (json_int_t)rq->auth.sess.auth_time, "mfa_valid_until",
	    (json_int_t)(rq->auth.sess.auth_time + rq->cfg->mfa_max_age)));
}

void
api_logout(struct http_req *rq)
{
	int r;

	if (http_require_auth(rq) != 0)
		return;
	if ((r = auth_logout(rq->srv, &rq->auth, rq->client_ip)) != JIT_OK) {
		http_error_code(rq, r);
		return;
	}
	http_json(rq, 200, json_pack("{s:b}", "logged_out", 1));
}

/* "a,b" as a JSON array. */
static json_t *
csv_array(const char *csv)
{
	json_t *a = json_array();
	const char *p, *e;

	if (a == NULL)
		return NULL;
	for (p = csv; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if (e > p)
			json_array_append_new(a, json_stringn(p,
			    (size_t)(e - p)));
	}
	return a;
}

void
api_me(struct http_req *rq)
{
	const struct auth_ctx *a = &rq->auth;
	json_t *methods;

	if (http_require_auth(rq) != 0)
		return;
	methods = csv_array(a->sess.methods);
	http_json(rq, 200, json_pack("{s:s,s:o,s:o,s:I,s:I,s:b,s:b}",
	    "user", a->user.name,
	    "groups", csv_array(a->user.groups),
	    "methods", methods,
	    "auth_time", (json_int_t)a->sess.auth_time,
	    "expires_at", (json_int_t)a->sess.expires_at,
	    "mfa_fresh", auth_mfa_fresh(rq->cfg, a),
	    "auditor", config_principal_match(rq->cfg->auditors,
	    rq->cfg->nauditors, a->user.name, a->user.groups)));
}
