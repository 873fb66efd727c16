/*
 * The store's part of the web page's cookie sessions: the CSRF token kept
 * beside a session row (sessions.csrf, schema v3).  Kept apart from
 * store.h so the web page's additions stay in files of their own; like
 * store.h, only store code speaks SQL.
 */
#ifndef JIT_BROKER_STORE_WEB_H
#define JIT_BROKER_STORE_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "broker/store.h"

#define STORE_CSRF_MAX	64	/* base64url of 32 bytes is 43 */

/*
 * Sets the CSRF token of the session with token_hash inside the job's
 * transaction.  Returns JIT_OK, JIT_ERR_NOT_FOUND, JIT_ERR_LIMIT (token
 * longer than STORE_CSRF_MAX) or JIT_ERR_STORE.
 */
int store_tx_session_set_csrf(struct store_tx *tx, const uint8_t *token_hash,
    const char *csrf) STORE_WUR;

/*
 * Copies the CSRF token of the session with token_hash into out (at least
 * STORE_CSRF_MAX + 1 bytes); "" when the session has none (a bearer-token
 * session).  Returns JIT_OK, JIT_ERR_NOT_FOUND or JIT_ERR_STORE.
 */
int store_session_csrf_get(struct store *s, const uint8_t *token_hash,
    char *out, size_t outlen) STORE_WUR;

#endif
