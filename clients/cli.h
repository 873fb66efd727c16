/*
 * The jit command line's shared core: where the session lives
 * ($JIT_HOME, else ~/.config/jit, directory 0700, files 0600), talking
 * to the broker over HTTP(S) with libcurl (the broker's CA pinned at
 * login when TLS is used), the MFA step-up retry, and output helpers
 * (human text by default, --json for scripts).  Commands live in
 * clients/cmd_*.c and use only this interface and common/.
 */
#ifndef JIT_CLIENTS_CLI_H
#define JIT_CLIENTS_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1	/* the operation failed or was refused */
#define CLI_EXIT_USAGE	2	/* bad command line */

struct cli {
	char		*home;		/* session directory */
	char		*url;		/* broker base URL, no trailing '/' */
	char		*ca_file;	/* pinned CA for https, or NULL */
	char		*user;		/* from the session */
	char		*token;		/* bearer token, or NULL */
	int64_t		 expires_at;
	int		 json;		/* --json */
	const char	*otp;		/* --otp for a step-up, or NULL */
	const char	*prog;		/* "jit" */
};

/*
 * Fills c from the environment and the saved session (if any):
 * JIT_HOME, JIT_URL (overridden later by --url).  Returns 0 or -1 with a
 * message printed.
 */
int cli_init(struct cli *c);
void cli_free(struct cli *c);

/* Creates the session directory (0700) if needed; returns 0 or -1. */
int cli_ensure_home(struct cli *c);

/* Saves url, user, token, expiry and CA file to session.json (0600). */
int cli_save_session(struct cli *c);
/* Removes the saved session. */
void cli_forget_session(struct cli *c);

/*
 * Sends one request.  path starts with "/v1/...".  body (may be NULL) is
 * sent as JSON.  With auth, the session token is sent and a missing
 * session is an error.  On 401 mfa_required the user is asked for a code
 * (or --otp is used), POST /v1/mfa is made and the request is retried
 * once.  Returns the HTTP status (0 if no answer: a message is printed)
 * and the parsed JSON answer in *out (may be NULL; caller decrefs).
 * raw/rawlen, when not NULL, receive the raw body instead of JSON.
 */
long cli_call(struct cli *c, const char *method, const char *path,
    json_t *body, int auth, json_t **out);
long cli_call_raw(struct cli *c, const char *method, const char *path,
    int auth, char **raw, size_t *rawlen);

/*
 * Prints an error answer as "jit: MESSAGE" (or the JSON with --json) and
 * returns CLI_EXIT_FAIL.
 */
int cli_fail_answer(struct cli *c, long status, json_t *answer);
/* The same, and releases answer (for "return cli_fail_consume(...)"). */
int cli_fail_consume(struct cli *c, long status, json_t *answer);

/*
 * Returns s made harmless for a terminal (common/safetext.h: control
 * characters, escape sequences and bidirectional overrides shown as
 * \x1b, \u202e and so on).  Use it for everything the broker or an
 * identity provider sent that is printed for humans.  The string stays
 * valid for the next 31 calls.
 */
const char *cli_safe(const char *s);

/* Prints "jit: " + formatted message (made safe) on stderr. */
void cli_errx(struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints j as pretty JSON on stdout (for --json). */
void cli_print_json(json_t *j);

/* Formats epoch seconds as "2026-11-23 12:00Z" local to UTC. */
void cli_time(int64_t t, char *out, size_t len);
/* Formats a remaining duration "12m", "1h05m", "expired". */
void cli_left(int64_t secs, char *out, size_t len);

/*
 * Prompts on the terminal: with echo (for a user name) or without (for a
 * password or code).  Returns a malloc'd string (strfreezero) or NULL.
 */
char *cli_prompt(const char *prompt, int echo);

/* Command table entry. */
struct cli_cmd {
	const char	*name;
	int		(*fn)(struct cli *c, int argc, char **argv);
	const char	*summary;
};

#endif
