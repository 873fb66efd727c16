/*
 * The approver web page's side of the broker: the session cookie and its
 * CSRF token, and where the page's static files come from.  The handlers
 * themselves are declared in api.h with the other routes.
 */
#ifndef JIT_BROKER_WEB_H
#define JIT_BROKER_WEB_H

#include <stdint.h>

#include "broker/server.h"

#define WEB_COOKIE_NAME	"jitd_session"
#define WEB_CSRF_HEADER	"X-CSRF-Token"
#define WEB_FILE_MAX	(512 * 1024)	/* cap on one static file */

/* The headers every page file is served with. */
#define WEB_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
    "connect-src 'self'; img-src 'self'; base-uri 'none'; " \
    "form-action 'self'; frame-ancestors 'none'"

/*
 * Authenticates rq by its session cookie, for requests without an
 * Authorization header.  Returns 1 when there is no cookie (the caller
 * answers as for a missing token), 0 when authenticated (rq->auth is set),
 * -1 after answering an error: 401 for a bad session, 403 "csrf" for a
 * state-changing method (anything but GET and HEAD) whose X-CSRF-Token
 * header does not equal the session's CSRF token.
 */
int web_cookie_auth(struct http_req *rq);

/*
 * The Set-Cookie value carrying token (NULL or "": a cookie that clears
 * the session) for max_age seconds: HttpOnly, SameSite=Strict, Path=/v1,
 * and Secure when secure is non-zero.  Malloc'd; NULL on allocation
 * failure.
 */
char *web_cookie_value(const char *token, int64_t max_age, int secure);

/*
 * The web_root that `jitd init` writes: the absolute path of
 * clients/web beside the directory of the running program (bin/../
 * clients/web in a source tree or an install prefix) when it holds an
 * index.html, else NULL.  Malloc'd.
 */
char *web_default_root(void);

#endif
