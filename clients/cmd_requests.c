/*
 * jit roles, request, requests, status, cancel, approvals, approve, deny,
 * revoke: the request workflow from a terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clients/cli.h"
#include "clients/commands.h"
#include "common/duration.h"
#include "common/err.h"

#define WAIT_POLL_S	2

static int
usage_err(const char *usage)
{
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* A string field for humans: escapes and bidi controls made harmless. */
static const char *
jtxt(json_t *o, const char *k)
{
	return cli_safe(jstr(o, k));
}

static json_int_t
jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* A request id from the command line; 0 if invalid. */
static long long
parse_id(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9')
		return 0;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : 0;
}

/* One line describing a request. */
static void
print_request_line(json_t *r, int64_t now)
{
	char left[32], dur[32];
	const char *state = jstr(r, "state");

	duration_format(jint(r, "duration"), dur, sizeof(dur));
	if (strcmp(state, "pending") == 0)
		cli_left(jint(r, "pending_expires_at") - now, left,
		    sizeof(left));
	else if (strcmp(state, "approved") == 0)
		cli_left(jint(r, "grant_end") - now, left, sizeof(left));
	else
		snprintf(left, sizeof(left), "-");
	printf("%-6lld %-10s %-9s %-16s %-6s %d/%d  %-8s %s\n",
	    (long long)jint(r, "id"), jtxt(r, "user"), jtxt(r, "state"),
	    jtxt(r, "role"), dur, (int)jint(r, "approvals"),
	    (int)jint(r, "approvals_required"), left, jtxt(r, "reason"));
}

static void
print_header(void)
{
	printf("%-6s %-10s %-9s %-16s %-6s %-5s %-8s %s\n", "ID", "USER",
	    "STATE", "ROLE", "FOR", "VOTES", "LEFT", "REASON");
}

static const char usage_roles[] =
"usage: jit roles [--json]\n"
"\n"
"Lists the roles you may request or approve, with the longest grant and\n"
"the approvals each needs.\n";

int
cmd_roles(struct cli *c, int argc, char **argv)
{
	json_t *ans = NULL, *roles, *r;
	char dur[32], need[16];
	size_t i;
	long st;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_roles, stdout);
		return 0;
	}
	if (argc != 1)
		return usage_err(usage_roles);
	if ((st = cli_call(c, "GET", "/v1/roles", NULL, 1, &ans)) != 200)
		return cli_fail_consume(c, st, ans);
	if (c->json) {
		cli_print_json(ans);
		json_decref(ans);
		return 0;
	}
	roles = json_object_get(ans, "roles");
	printf("%-16s %-8s %-9s %-15s %s\n", "ROLE", "MAX", "APPROVALS",
	    "YOU MAY", "DESCRIPTION");
	json_array_foreach(roles, i, r) {
		int req = json_is_true(json_object_get(r, "can_request"));
		int apr = json_is_true(json_object_get(r, "can_approve"));

		if (!req && !apr)
			continue;
		duration_format(jint(r, "max_duration"), dur, sizeof(dur));
		if (json_is_true(json_object_get(r, "break_glass")))
			snprintf(need, sizeof(need), "none (BG)");
		else if (jint(r, "approvals_required") == 0)
			snprintf(need, sizeof(need), "auto");
		else
			snprintf(need, sizeof(need), "%lld",
			    (long long)jint(r, "approvals_required"));
		printf("%-16s %-8s %-9s %-15s %s\n", jtxt(r, "name"), dur, need,
		    req && apr ? "request,approve" : req ? "request" :
		    "approve", jtxt(r, "description"));
	}
	json_decref(ans);
	return 0;
}

/* Fetches one request; returns the status and the answer. */
static long
get_request(struct cli *c, long long id, json_t **ans)
{
	char path[64];

	snprintf(path, sizeof(path), "/v1/requests/%lld", id);
	return cli_call(c, "GET", path, NULL, 1, ans);
}

/*
 * Follows a request until it is decided, printing each change.  Returns
 * 0 when approved, 1 otherwise.
 */
static int
wait_for(struct cli *c, long long id)
{
	json_t *r = NULL, *votes;
	size_t seen = 0, i;
	char left[32];
	const char *state;
	long st;
	int64_t now;

	for (;;) {
		json_decref(r);
		r = NULL;
		if ((st = get_request(c, id, &r)) != 200) {
			cli_fail_answer(c, st, r);
			json_decref(r);
			return 1;
		}
		now = (int64_t)time(NULL);
		votes = json_object_get(r, "votes");
		for (i = seen; i < json_array_size(votes); i++) {
			json_t *v = json_array_get(votes, i);

			fprintf(stderr, "  %s %s%s%s\n", jtxt(v, "approver"),
			    strcmp(jtxt(v, "decision"), "approve") == 0 ?
			    "approved" : "denied", *jtxt(v, "comment") != '\0' ?
			    ": " : "", jtxt(v, "comment"));
		}
		seen = json_array_size(votes);
		state = jstr(r, "state");
		if (strcmp(state, "pending") != 0)
			break;
		cli_left(jint(r, "pending_expires_at") - now, left,
		    sizeof(left));
		fprintf(stderr, "\r  waiting: %d of %d approvals, expires in "
		    "%s   ", (int)jint(r, "approvals"),
		    (int)jint(r, "approvals_required"), left);
		fflush(stderr);
		sleep(WAIT_POLL_S);
	}
	fputc('\n', stderr);
	if (c->json)
		cli_print_json(r);
	else if (strcmp(state, "approved") == 0) {
		cli_left(jint(r, "grant_end") - (int64_t)time(NULL), left,
		    sizeof(left));
		printf("request %lld approved: %s for %s (run 'jit ssh %lld "
		    "…' or 'jit cert %lld')\n", id, jtxt(r, "role"), left, id,
		    id);
	} else
		printf("request %lld %s\n", id, cli_safe(state));
	st = strcmp(state, "approved") == 0 ? 0 : 1;
	json_decref(r);
	return (int)st;
}

static const char usage_request[] =
"usage: jit request ROLE --for DURATION [--reason TEXT] [--ticket T]\n"
"                   [--starts-at EPOCH] [--wait] [--json]\n"
"\n"
"Asks for ROLE for DURATION (like 30m or 1h) with a reason.  With --wait,\n"
"follows the request (who approved, how many are still needed, time left)\n"
"until it is approved (exit 0), denied or expired (exit 1).  Asks for a\n"
"fresh one-time code when the broker requires one.\n";

int
cmd_request(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "reason", required_argument, NULL, 'r' },
		{ "ticket", required_argument, NULL, 't' },
		{ "starts-at", required_argument, NULL, 's' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dur = NULL, *reason = NULL, *ticket = NULL;
	long long starts = 0;
	json_t *body, *ans = NULL;
	int ch, wait = 0, rc;
	long st, id;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'f': dur = optarg; break;
		case 'r': reason = optarg; break;
		case 't': ticket = optarg; break;
		case 's':
			starts = strtoll(optarg, &end, 10);
			if (*end != '\0' || starts <= 0)
				return usage_err(usage_request);
			break;
		case 'w': wait = 1; break;
		case 'h':
			fputs(usage_request, stdout);
			return 0;
		default:
			return usage_err(usage_request);
		}
	}
	if (optind != argc - 1 || dur == NULL)
		return usage_err(usage_request);
	body = json_pack("{s:s,s:s}", "role", argv[optind], "duration", dur);
	if (reason != NULL)
		json_object_set_new(body, "reason", json_string(reason));
	if (ticket != NULL)
		json_object_set_new(body, "ticket", json_string(ticket));
	if (starts > 0)
		json_object_set_new(body, "starts_at", json_integer(starts));
	st = cli_call(c, "POST", "/v1/requests", body, 1, &ans);
	json_decref(body);
	if (st != 201)
		return cli_fail_consume(c, st, ans);
	id = (long)jint(ans, "id");
	if (wait && strcmp(jstr(ans, "state"), "pending") == 0) {
		fprintf(stderr, "request %ld: %s for %s, waiting for approval "
		    "(Ctrl-C stops waiting, not the request)\n", id,
		    jtxt(ans, "role"), dur);
		json_decref(ans);
		return wait_for(c, id);
	}
	if (c->json)
		cli_print_json(ans);
	else
		printf("request %ld: %s%s\n", id, jtxt(ans, "state"),
		    strcmp(jtxt(ans, "state"), "pending") == 0 ? " (jit status "
		    "ID to follow it)" : "");
	rc = strcmp(jstr(ans, "state"), "approved") == 0 || !wait ? 0 : 1;
	json_decref(ans);
	return rc;
}

static int
list(struct cli *c, const char *query, const char *empty)
{
	json_t *ans = NULL, *r;
	size_t i;
	long st;
	char path[128];

	snprintf(path, sizeof(path), "/v1/requests%s", query);
	if ((st = cli_call(c, "GET", path, NULL, 1, &ans)) != 200)
		return cli_fail_consume(c, st, ans);
	if (c->json)
		cli_print_json(ans);
	else if (json_array_size(json_object_get(ans, "requests")) == 0)
		fprintf(stderr, "%s\n", empty);
	else {
		print_header();
		/* Oldest first reads better in a terminal. */
		for (i = json_array_size(json_object_get(ans, "requests"));
		    i-- > 0;) {
			r = json_array_get(json_object_get(ans, "requests"), i);
			print_request_line(r, (int64_t)time(NULL));
		}
	}
	json_decref(ans);
	return 0;
}

int
cmd_requests(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		puts("usage: jit requests [--all] [--json]\n\nYour requests, "
		    "oldest first; --all shows every request you may see\n"
		    "(those of roles you approve, or all as an auditor).");
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--all") == 0)
		return list(c, "", "no requests");
	if (argc != 1) {
		fputs("usage: jit requests [--all]\n", stderr);
		return CLI_EXIT_USAGE;
	}
	return list(c, "?mine=1", "no requests");
}

int
cmd_approvals(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		puts("usage: jit approvals [--json]\n\nPending requests you can "
		    "decide now, oldest first, with requester,\nrole, reason, "
		    "duration, votes and the time before each expires.");
		return 0;
	}
	if (argc != 1) {
		fputs("usage: jit approvals\n", stderr);
		return CLI_EXIT_USAGE;
	}
	return list(c, "?approvable=1", "nothing to decide");
}

int
cmd_status(struct cli *c, int argc, char **argv)
{
	json_t *ans = NULL, *a;
	char t[32], left[32], dur[32];
	long long id;
	size_t i;
	long st;

	if (cli_wants_help(argc, argv)) {
		puts("usage: jit status ID [--json]\n\nOne request: its state, "
		    "window, votes, certificates and history.");
		return 0;
	}
	if (argc != 2 || (id = parse_id(argv[1])) == 0) {
		fputs("usage: jit status ID\n", stderr);
		return CLI_EXIT_USAGE;
	}
	if ((st = get_request(c, id, &ans)) != 200)
		return cli_fail_consume(c, st, ans);
	if (c->json) {
		cli_print_json(ans);
		json_decref(ans);
		return 0;
	}
	duration_format(jint(ans, "duration"), dur, sizeof(dur));
	printf("request %lld: %s asks for %s for %s: %s\n", id,
	    jtxt(ans, "user"), jtxt(ans, "role"), dur, jtxt(ans, "state"));
	printf("  reason: %s%s%s\n", jtxt(ans, "reason"),
	    *jtxt(ans, "ticket") != '\0' ? "  ticket: " : "",
	    jtxt(ans, "ticket"));
	printf("  approvals: %d of %d\n", (int)jint(ans, "approvals"),
	    (int)jint(ans, "approvals_required"));
	if (jint(ans, "grant_end") > 0) {
		cli_time(jint(ans, "grant_start"), t, sizeof(t));
		cli_left(jint(ans, "grant_end") - (int64_t)time(NULL), left,
		    sizeof(left));
		printf("  grant: from %s, %s left\n", t, left);
	}
	json_array_foreach(json_object_get(ans, "votes"), i, a) {
		cli_time(jint(a, "at"), t, sizeof(t));
		printf("  %s %s %s%s%s\n", t, jtxt(a, "approver"),
		    jtxt(a, "decision"), *jtxt(a, "comment") != '\0' ? ": " :
		    "", jtxt(a, "comment"));
	}
	json_array_foreach(json_object_get(ans, "certificates"), i, a) {
		cli_time(jint(a, "valid_before"), t, sizeof(t));
		printf("  cert %s serial %s until %s\n", jtxt(a, "kind"),
		    jtxt(a, "serial"), t);
	}
	json_decref(ans);
	return 0;
}

/* approve, deny, cancel, revoke */
static int
decide(struct cli *c, int argc, char **argv, const char *action,
    const char *done)
{
	static const struct option lo[] = {
		{ "comment", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *comment = NULL;
	json_t *body = NULL, *ans = NULL;
	char path[96];
	long long id;
	long st;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': comment = optarg; break;
		case 'h':
			printf("usage: jit %s ID [--comment TEXT] [--json]\n",
			    action);
			return 0;
		default:
			fprintf(stderr, "usage: jit %s ID [--comment TEXT]\n",
			    action);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (id = parse_id(argv[optind])) == 0) {
		fprintf(stderr, "usage: jit %s ID [--comment TEXT]\n", action);
		return CLI_EXIT_USAGE;
	}
	if (comment != NULL)
		body = json_pack("{s:s}", "comment", comment);
	snprintf(path, sizeof(path), "/v1/requests/%lld/%s", id, action);
	st = cli_call(c, "POST", path, body, 1, &ans);
	json_decref(body);
	if (st != 200)
		return cli_fail_consume(c, st, ans);
	if (c->json)
		cli_print_json(ans);
	else
		printf("request %lld %s: now %s (%d of %d approvals)\n", id,
		    done, jtxt(ans, "state"), (int)jint(ans, "approvals"),
		    (int)jint(ans, "approvals_required"));
	json_decref(ans);
	return 0;
}

int
cmd_approve(struct cli *c, int argc, char **argv)
{
	return decide(c, argc, argv, "approve", "approved by you");
}

int
cmd_deny(struct cli *c, int argc, char **argv)
{
	return decide(c, argc, argv, "deny", "denied by you");
}

int
cmd_cancel(struct cli *c, int argc, char **argv)
{
	return decide(c, argc, argv, "cancel", "cancelled");
}

int
cmd_revoke(struct cli *c, int argc, char **argv)
{
	return decide(c, argc, argv, "revoke", "revoked");
}
