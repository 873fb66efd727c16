/*
 * HTTP handlers of the broker's API, one function per route; the route
 * table lives in http.c.  Internal to broker/.
 */
#ifndef JIT_BROKER_API_H
#define JIT_BROKER_API_H

#include "broker/server.h"

void api_healthz(struct http_req *rq);
void api_metrics(struct http_req *rq);
void api_login(struct http_req *rq);
void api_mfa(struct http_req *rq);
void api_logout(struct http_req *rq);
void api_me(struct http_req *rq);
void api_audit_query(struct http_req *rq);
void api_audit_export(struct http_req *rq);
void api_audit_key(struct http_req *rq);
void api_roles(struct http_req *rq);
void api_request_create(struct http_req *rq);
void api_request_list(struct http_req *rq);
void api_request_get(struct http_req *rq);
void api_request_approve(struct http_req *rq);
void api_request_deny(struct http_req *rq);
void api_request_cancel(struct http_req *rq);
void api_request_revoke(struct http_req *rq);
void api_request_extend(struct http_req *rq);
void api_request_review(struct http_req *rq);
void api_reviews(struct http_req *rq);
void api_ssh_cert(struct http_req *rq);
void api_x509_cert(struct http_req *rq);
void api_ca_ssh(struct http_req *rq);
void api_ca_x509(struct http_req *rq);
void api_ca_krl(struct http_req *rq);
/* The approver web page (api_web.c). */
void api_web_static(struct http_req *rq);
void api_web_login(struct http_req *rq);
void api_web_logout(struct http_req *rq);
void api_web_session(struct http_req *rq);
void api_hook_slack(struct http_req *rq);
void api_login_oidc(struct http_req *rq);
void api_login_oidc_providers(struct http_req *rq);

/* Route names for metrics, NULL past the end. */
const char *http_route_name(int i);

#endif
