/*
 * jit: the command line for engineers, approvers and auditors.  One
 * command with subcommands, --help everywhere, quiet and scriptable
 * (--json), like ssh, git and gh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "clients/cli.h"
#include "clients/commands.h"

static const struct cli_cmd cmds[] = {
	{ "login", cmd_login, "log in with password and one-time code" },
	{ "logout", cmd_logout, "end the session" },
	{ "whoami", cmd_whoami, "who the session belongs to" },
	{ "roles", cmd_roles, "roles you may request or approve" },
	{ "request", cmd_request, "ask for a role: jit request ROLE --for 30m "
	    "--reason TEXT" },
	{ "requests", cmd_requests, "your requests (--all: all you may see)" },
	{ "status", cmd_status, "one request with its history" },
	{ "cancel", cmd_cancel, "cancel your request" },
	{ "approvals", cmd_approvals, "requests you can decide" },
	{ "approve", cmd_approve, "approve a request" },
	{ "deny", cmd_deny, "deny a request" },
	{ "revoke", cmd_revoke, "end a live grant" },
	{ "cert", cmd_cert, "get a certificate for a grant" },
	{ "ssh", cmd_ssh, "ssh with a certificate for a grant" },
	{ "audit", cmd_audit, "query, export and verify the audit log" },
	{ "server-setup", cmd_server_setup, "make this host's sshd trust "
	    "jitd" },
	{ "krl-refresh", cmd_krl_refresh, "update this host's revocation "
	    "list" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
usage(FILE *f)
{
	size_t i;

	fputs("usage: jit [--url URL] [--json] [--otp CODE] COMMAND "
	    "[options]\n\ncommands:\n", f);
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].summary);
	fputs("\nRun 'jit COMMAND --help' for a command's options.  The "
	    "session is kept in\n$JIT_HOME, else ~/.config/jit (0700).  "
	    "JIT_URL sets the broker's URL.\n", f);
}

int
cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c;
	char **args;
	int i, n = 0, rc, stop = 0;
	const char *url = NULL;
	size_t k;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	if (cli_init(&c) != 0) {
		fprintf(stderr, "jit: cannot initialise\n");
		return 1;
	}
	/*
	 * Global options may appear anywhere before "--"; they are taken
	 * out so commands see only their own.  (jit ssh passes what follows
	 * its request id to ssh untouched.)
	 */
	if ((args = calloc((size_t)argc + 1, sizeof(*args))) == NULL)
		return 1;
	for (i = 0; i < argc; i++) {
		if (!stop && n >= 2 && strcmp(args[1], "ssh") == 0 && n >= 3)
			stop = 1;
		if (!stop && strcmp(argv[i], "--") == 0)
			stop = 1;
		if (!stop && strcmp(argv[i], "--json") == 0) {
			c.json = 1;
			continue;
		}
		if (!stop && (strcmp(argv[i], "--url") == 0 ||
		    strcmp(argv[i], "--otp") == 0) && i + 1 < argc) {
			if (argv[i][2] == 'u')
				url = argv[i + 1];
			else
				c.otp = argv[i + 1];
			i++;
			continue;
		}
		args[n++] = argv[i];
	}
	args[n] = NULL;
	if (url != NULL) {
		free(c.url);
		c.url = strdup(url);
		while (c.url != NULL && strlen(c.url) > 0 &&
		    c.url[strlen(c.url) - 1] == '/')
			c.url[strlen(c.url) - 1] = '\0';
	}
	rc = CLI_EXIT_USAGE;
	if (n < 2) {
		usage(stderr);
		goto out;
	}
	if (strcmp(args[1], "--help") == 0 || strcmp(args[1], "-h") == 0 ||
	    strcmp(args[1], "help") == 0) {
		usage(stdout);
		rc = 0;
		goto out;
	}
	for (k = 0; k < NCMDS; k++) {
		if (strcmp(args[1], cmds[k].name) == 0) {
			rc = cmds[k].fn(&c, n - 1, args + 1);
			goto out;
		}
	}
	fprintf(stderr, "jit: unknown command \"%s\"\n", args[1]);
	usage(stderr);
 out:
	free(args);
	cli_free(&c);
	curl_global_cleanup();
	return rc;
}
