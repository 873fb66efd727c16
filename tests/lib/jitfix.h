/*
 * An in-process jitd for the client-side tests (tests/clients/): a fresh
 * instance with roles "short" (SSH principal FX_PRINC, approved at once)
 * and "forced" (the same with a force_command), users alice (eng), bob
 * (sre) and carol (eng), alice and bob logged in over HTTP with codes
 * from oathtool, on the real clock.  Use fx_setup/fx_teardown as a check
 * fixture; the helpers fail the running test on any surprise.
 */
#ifndef JIT_TESTS_JITFIX_H
#define JIT_TESTS_JITFIX_H

#include <jansson.h>

#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

#define FX_ACCOUNT	"jitt-sess"	/* local account in sshd tests */
#define FX_PRINC	"sessprinc"	/* the roles' principal */
#define FX_PASSWORD	"correct horse battery"

/* Private temporary directory, broker base URL, JIT_HOME for `jit`. */
extern char *fx_tmp, *fx_base, *fx_home;

void fx_setup(void);
void fx_teardown(void);

/* One HTTP request to the broker as user (NULL: no token). */
void fx_call(const char *method, const char *path, const char *user,
    const char *body, struct tu_resp *r);
/* Logs user in with the current TOTP code. */
void fx_login(const char *name);
/* The user's TOTP secret (base32). */
const char *fx_b32(const char *name);

/* Runs `jit ARGS...` (NULL-terminated) with JIT_HOME=fx_home. */
void fx_jit(struct tu_out *o, ...);

/* A new Ed25519 key pair in fx_tmp; returns the private key's path. */
char *fx_keygen(const char *name);

/*
 * alice asks for role for secs seconds (approved at once) and gets a
 * certificate for key, written to KEY-cert.pub; returns the request id,
 * the certificate line in *line (if not NULL; malloc'd) and the serial.
 */
json_int_t fx_grant_cert(const char *role, int secs, const char *key,
    char **line, char serial[32]);

#endif
