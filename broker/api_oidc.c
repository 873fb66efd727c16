/* Handlers of the OpenID Connect login routes (see oidc_login.h). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "broker/api.h"
#include "broker/login_limit.h"
#include "broker/oidc_login.h"
#include "common/err.h"

void
api_login_oidc(struct http_req *rq)
{
	static const char *const fields[] = { "id_token", NULL };
	struct oidc_login_result res;
	const char *tok;
	json_t *methods;
	char *p, *save = NULL;
	int r;

	if (http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "id_token", 1, rq->cfg->max_body, &tok) != 0)
		return;
	/*
	 * No password is hashed here, but every refusal is verified and
	 * audited: the address's bucket bounds that (the user name is only
	 * known once the token is verified).
	 */
	if ((r = login_limit_admit(rq->srv, rq->cfg, rq->client_ip, NULL,
	    &rq->retry_after)) != JIT_OK) {
		http_error_code(rq, r);
		return;
	}
	r = oidc_login(rq->srv, rq->cfg, tok, strlen(tok), rq->client_ip,
	    &res);
	if (r == JIT_OK)
		login_limit_refund(rq->srv, rq->cfg, rq->client_ip, NULL);
	if (r == JIT_ERR_AUTH) {
		/* One answer for every refusal; the reason is audited. */
		http_error(rq, 401, "unauthorized", "the identity token was "
		    "not accepted");
		return;
	}
	if (r != JIT_OK) {
		http_error_code(rq, r);
		return;
	}
	snprintf(rq->log_user, sizeof(rq->log_user), "%s", res.user);
	methods = json_array();
	for (p = strtok_r(res.methods, ",", &save); p != NULL && methods !=
	    NULL; p = strtok_r(NULL, ",", &save))
		json_array_append_new(methods, json_string(p));
	http_json(rq, 200, json_pack("{s:s,s:I,s:s,s:o*}", "token", res.token,
	    "expires_at", (json_int_t)res.expires_at, "user", res.user,
	    "methods", methods));
	sodium_memzero(&res, sizeof(res));
}

void
api_login_oidc_providers(struct http_req *rq)
{
	json_t *j = oidc_providers_json(rq->cfg);

	if (j == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	http_json(rq, 200, j);
}
