/* jit login, logout, whoami. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clients/cli.h"
#include "clients/cmd_oidc.h"
#include "clients/commands.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secret.h"

static const char usage_login[] =
"usage: jit login [--url URL] [--user NAME] [--password-file FILE]\n"
"                 [--otp CODE] [--ca-file CA.pem]\n"
"       jit login --oidc [--provider NAME] [--ca-file CA.pem]\n"
"       jit login --id-token-file FILE [--ca-file CA.pem]\n"
"\n"
"Logs in with a password and a one-time code (both typed without echo,\n"
"or from --password-file and --otp for scripts) and keeps the session\n"
"token in $JIT_HOME (else ~/.config/jit), readable only by you.  With an\n"
"https URL, --ca-file pins the broker's CA for this and later commands.\n"
"--oidc logs in at the company identity provider instead (device login:\n"
"open the URL shown and enter the code); --id-token-file sends an OpenID\n"
"Connect ID token obtained elsewhere (CI, a workload identity).\n";

int
cmd_login(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "oidc", no_argument, NULL, 'O' },
		{ "provider", required_argument, NULL, 'P' },
		{ "id-token-file", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pwfile = NULL, *cafile = NULL, *provider = NULL;
	const char *idfile = NULL;
	int oidc = 0;
	char *user = NULL, *pw = NULL, *otp = NULL, *caout = NULL;
	json_t *body = NULL, *ans = NULL;
	uint8_t *ca = NULL;
	size_t calen = 0;
	long st;
	int ch, rc = CLI_EXIT_FAIL, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'u':
			free(user);
			user = strdup(optarg);
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'c':
			cafile = optarg;
			break;
		case 'h':
			fputs(usage_login, stdout);
			return 0;
		case 'O':
			oidc = 1;
			break;
		case 'P':
			provider = optarg;
			break;
		case 'I':
			idfile = optarg;
			break;
		default:
			fputs(usage_login, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc || (oidc && idfile != NULL) ||
	    (provider != NULL && !oidc) || ((oidc || idfile != NULL) &&
	    (user != NULL || pwfile != NULL))) {
		fputs(usage_login, stderr);
		free(user);
		return CLI_EXIT_USAGE;
	}
	if (cafile != NULL) {
		/* Pin: keep our own copy of the CA in the session directory. */
		if ((r = fileio_read(cafile, 256 * 1024, 0, &ca, &calen)) !=
		    JIT_OK || cli_ensure_home(c) != 0 ||
		    asprintf(&caout, "%s/ca.pem", c->home) == -1 ||
		    fileio_write_atomic(caout, ca, calen, 0600) != JIT_OK) {
			cli_errx(c, "%s: cannot read or store the CA file",
			    cafile);
			goto out;
		}
		free(c->ca_file);
		c->ca_file = caout;
		caout = NULL;
	}
	if (oidc || idfile != NULL) {
		rc = oidc ? cli_login_oidc(c, provider) :
		    cli_login_id_token_file(c, idfile);
		goto out;
	}
	if (user == NULL && c->user != NULL)
		user = strdup(c->user);
	if (user == NULL && (user = cli_prompt("User: ", 1)) == NULL) {
		cli_errx(c, "no user name: use --user NAME");
		goto out;
	}
	if (pwfile != NULL) {
		if ((r = fileio_read_secret(pwfile, &pw)) != JIT_OK) {
			cli_errx(c, "%s: %s", pwfile, jit_strerror(r));
			goto out;
		}
	} else if ((pw = cli_prompt("Password: ", 0)) == NULL) {
		cli_errx(c, "no terminal for the password: use "
		    "--password-file FILE");
		goto out;
	}
	if (c->otp != NULL)
		otp = strdup(c->otp);
	else if ((otp = cli_prompt("One-time code: ", 0)) == NULL) {
		cli_errx(c, "no terminal for the code: use --otp CODE");
		goto out;
	}
	body = json_pack("{s:s,s:s,s:s}", "user", user, "password", pw, "otp",
	    otp);
	st = cli_call(c, "POST", "/v1/login", body, 0, &ans);
	if (st != 200) {
		rc = cli_fail_answer(c, st, ans);
		goto out;
	}
	free(c->user);
	c->user = strdup(user);
	strfreezero(c->token);
	c->token = strdup(json_string_value(json_object_get(ans, "token")));
	c->expires_at = json_integer_value(json_object_get(ans,
	    "expires_at"));
	if (c->token == NULL || cli_save_session(c) != 0)
		goto out;
	if (c->json) {
		json_t *o = json_pack("{s:s,s:s,s:I}", "user", user, "url",
		    c->url, "expires_at", (json_int_t)c->expires_at);

		cli_print_json(o);
		json_decref(o);
	}
	rc = 0;
 out:
	if (body != NULL) {
		/* The serialised body held the password: wipe our copies. */
		json_t *v = json_object_get(body, "password");

		if (v != NULL)
			explicit_bzero((char *)json_string_value(v),
			    json_string_length(v));
		json_decref(body);
	}
	if (ans != NULL) {
		json_t *v = json_object_get(ans, "token");

		if (v != NULL)
			explicit_bzero((char *)json_string_value(v),
			    json_string_length(v));
		json_decref(ans);
	}
	strfreezero(pw);
	strfreezero(otp);
	free(user);
	free(caout);
	free(ca);
	return rc;
}

int
cmd_logout(struct cli *c, int argc, char **argv)
{
	long st;

	if (cli_wants_help(argc, argv)) {
		puts("usage: jit logout\n\nRevokes the session token on the "
		    "broker and forgets it here.");
		return 0;
	}
	if (argc != 1) {
		fputs("usage: jit logout\n", stderr);
		return CLI_EXIT_USAGE;
	}
	if (c->token == NULL)
		return 0;
	st = cli_call(c, "POST", "/v1/logout", NULL, 1, NULL);
	cli_forget_session(c);
	if (st != 200 && st != 401) {
		cli_errx(c, "the broker did not confirm the logout (HTTP %ld); "
		    "the local session is removed", st);
		return CLI_EXIT_FAIL;
	}
	return 0;
}

int
cmd_whoami(struct cli *c, int argc, char **argv)
{
	json_t *ans = NULL, *g;
	char t[32];
	size_t i;
	long st;

	if (cli_wants_help(argc, argv)) {
		puts("usage: jit whoami [--json]\n\nShows the user, groups and "
		    "session of the current login.");
		return 0;
	}
	if (argc != 1) {
		fputs("usage: jit whoami\n", stderr);
		return CLI_EXIT_USAGE;
	}
	st = cli_call(c, "GET", "/v1/me", NULL, 1, &ans);
	if (st != 200)
		return cli_fail_consume(c, st, ans);
	if (c->json)
		cli_print_json(ans);
	else {
		printf("%s", cli_safe(json_string_value(json_object_get(ans,
		    "user"))));
		g = json_object_get(ans, "groups");
		for (i = 0; i < json_array_size(g); i++)
			printf("%s%s", i == 0 ? " (" : ", ",
			    cli_safe(json_string_value(json_array_get(g, i))));
		if (json_array_size(g) > 0)
			putchar(')');
		cli_time(json_integer_value(json_object_get(ans,
		    "expires_at")), t, sizeof(t));
		printf(" at %s, session until %s, MFA %s\n", c->url, t,
		    json_is_true(json_object_get(ans, "mfa_fresh")) ?
		    "fresh" : "needs a new code");
	}
	json_decref(ans);
	return 0;
}
