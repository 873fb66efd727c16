/*
 * jit audit: query the audit log as a table (all pages followed), list
 * grants (who held which role when, approved by whom, which certificates),
 * export the log, and verify an export offline with no broker and no
 * database.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clients/cli.h"
#include "clients/commands.h"
#include "common/audit_chain.h"
#include "common/b64.h"
#include "common/duration.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/timefmt.h"

static const char usage_audit[] =
"usage: jit audit [--actor U] [--action A] [--target T] [--role R]\n"
"                 [--since WHEN] [--until WHEN] [--json]\n"
"       jit audit grants [--user U] [--since WHEN] [--json]\n"
"       jit audit export > FILE\n"
"       jit audit verify FILE [--key AUDIT.pub]\n"
"\n"
"WHEN is a duration back from now (7d, 12h) or YYYY-MM-DDTHH:MM:SSZ.\n"
"The table shows time, actor, action, target and outcome; every page is\n"
"followed.  'grants' lists who held which role when, approved by whom,\n"
"and the certificates issued.  'verify' checks an export's hash chain and\n"
"signed checkpoints on this machine: no broker and no database needed\n"
"(the key is audit.pub of the instance, else the one named in the\n"
"export).  Auditors only, except verify.\n";

/* WHEN: a duration back from now, or an absolute time. */
static int
parse_when(const char *s, int64_t *out)
{
	int64_t d;

	if (duration_parse(s, 3650LL * 86400, &d) == JIT_OK &&
	    strspn(s, "0123456789") != strlen(s)) {
		*out = (int64_t)time(NULL) - d;
		return 0;
	}
	return time_parse(s, out) == JIT_OK ? 0 : -1;
}

static int
url_append(CURL *cu, char *path, size_t len, const char *key, const char *v)
{
	char *e;
	size_t off = strlen(path);

	if (v == NULL)
		return 0;
	if ((e = curl_easy_escape(cu, v, 0)) == NULL)
		return -1;
	snprintf(path + off, len - off, "%s%s=%s", strchr(path, '?') != NULL ?
	    "&" : "?", key, e);
	curl_free(e);
	return 0;
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

/* Role of a request target, looked up once per request. */
static int
event_has_role(struct cli *c, json_t *ev, const char *role, json_t *cache)
{
	const char *target = jstr(ev, "target"), *r;
	json_t *ans = NULL, *v;
	char path[64];

	r = json_string_value(json_object_get(json_object_get(ev, "details"),
	    "role"));
	if (r != NULL)
		return strcmp(r, role) == 0;
	if (strncmp(target, "request:", 8) != 0)
		return 0;
	if ((v = json_object_get(cache, target)) == NULL) {
		snprintf(path, sizeof(path), "/v1/requests/%s", target + 8);
		if (cli_call(c, "GET", path, NULL, 1, &ans) == 200)
			json_object_set_new(cache, target,
			    json_string(jstr(ans, "role")));
		else
			json_object_set_new(cache, target, json_string(""));
		json_decref(ans);
		v = json_object_get(cache, target);
	}
	return strcmp(json_string_value(v), role) == 0;
}

static int
audit_query(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "actor", required_argument, NULL, 'a' },
		{ "action", required_argument, NULL, 'A' },
		{ "target", required_argument, NULL, 't' },
		{ "role", required_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *actor = NULL, *action = NULL, *target = NULL, *role = NULL;
	json_t *ans = NULL, *all, *cache, *ev;
	char path[2048], num[32], t[TIMEFMT_LEN];
	int64_t since = 0, until = 0;
	json_int_t after = 0;
	CURL *cu;
	size_t i;
	long st;
	int ch, rc = CLI_EXIT_FAIL;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'a': actor = optarg; break;
		case 'A': action = optarg; break;
		case 't': target = optarg; break;
		case 'r': role = optarg; break;
		case 's':
		case 'u':
			if (parse_when(optarg, ch == 's' ? &since : &until) !=
			    0) {
				cli_errx(c, "%s: not a duration (7d) or a time "
				    "(YYYY-MM-DDTHH:MM:SSZ)", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_audit, stdout);
			return 0;
		default:
			fputs(usage_audit, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage_audit, stderr);
		return CLI_EXIT_USAGE;
	}
	if ((cu = curl_easy_init()) == NULL)
		return CLI_EXIT_FAIL;
	all = json_array();
	cache = json_object();
	for (;;) {
		snprintf(path, sizeof(path), "/v1/audit?limit=1000");
		url_append(cu, path, sizeof(path), "actor", actor);
		url_append(cu, path, sizeof(path), "action", action);
		url_append(cu, path, sizeof(path), "target", target);
		if (since > 0) {
			snprintf(num, sizeof(num), "%lld", (long long)since);
			url_append(cu, path, sizeof(path), "since", num);
		}
		if (until > 0) {
			snprintf(num, sizeof(num), "%lld", (long long)until);
			url_append(cu, path, sizeof(path), "until", num);
		}
		snprintf(num, sizeof(num), "%lld", (long long)after);
		url_append(cu, path, sizeof(path), "after", num);
		json_decref(ans);
		if ((st = cli_call(c, "GET", path, NULL, 1, &ans)) != 200) {
			rc = cli_fail_answer(c, st, ans);
			goto out;
		}
		json_array_foreach(json_object_get(ans, "events"), i, ev) {
			if (role == NULL || event_has_role(c, ev, role, cache))
				json_array_append(all, ev);
		}
		if (!json_is_integer(json_object_get(ans, "next_after")))
			break;
		after = json_integer_value(json_object_get(ans,
		    "next_after"));
	}
	if (c->json)
		cli_print_json(all);
	else {
		printf("%-20s %-6s %-14s %-18s %-18s %s\n", "TIME", "SEQ",
		    "ACTOR", "ACTION", "TARGET", "OUTCOME");
		json_array_foreach(all, i, ev) {
			time_format(json_integer_value(json_object_get(ev,
			    "ts")), t);
			printf("%-20s %-6lld %-14s %-18s %-18s %s\n", t,
			    (long long)json_integer_value(json_object_get(ev,
			    "seq")), jtxt(ev, "actor"), jtxt(ev, "action"),
			    jtxt(ev, "target"), jtxt(ev, "outcome"));
		}
	}
	rc = 0;
 out:
	json_decref(ans);
	json_decref(all);
	json_decref(cache);
	curl_easy_cleanup(cu);
	return rc;
}

static int
audit_grants(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *user = NULL;
	json_t *list = NULL, *r, *full, *out, *v;
	char path[64], t1[32], t2[32];
	int64_t since = 0;
	size_t i, k;
	long st;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'u': user = optarg; break;
		case 's':
			if (parse_when(optarg, &since) != 0) {
				cli_errx(c, "%s: not a duration or a time",
				    optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_audit, stdout);
			return 0;
		default:
			fputs(usage_audit, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage_audit, stderr);
		return CLI_EXIT_USAGE;
	}
	if ((st = cli_call(c, "GET", "/v1/requests", NULL, 1, &list)) != 200)
		return cli_fail_consume(c, st, list);
	out = json_array();
	/* Oldest first; only requests that became grants. */
	for (i = json_array_size(json_object_get(list, "requests")); i-- > 0;) {
		r = json_array_get(json_object_get(list, "requests"), i);
		if (json_integer_value(json_object_get(r, "grant_start")) == 0 ||
		    (user != NULL && strcmp(jstr(r, "user"), user) != 0) ||
		    json_integer_value(json_object_get(r, "grant_end")) < since)
			continue;
		snprintf(path, sizeof(path), "/v1/requests/%lld",
		    (long long)json_integer_value(json_object_get(r, "id")));
		full = NULL;
		if ((st = cli_call(c, "GET", path, NULL, 1, &full)) != 200) {
			json_decref(full);
			continue;
		}
		if (c->json) {
			json_array_append_new(out, full);
			continue;
		}
		cli_time(json_integer_value(json_object_get(full,
		    "grant_start")), t1, sizeof(t1));
		cli_time(json_integer_value(json_object_get(full,
		    "grant_end")), t2, sizeof(t2));
		printf("request %lld: %s held %s from %s to %s (%s)\n",
		    (long long)json_integer_value(json_object_get(full, "id")),
		    jtxt(full, "user"), jtxt(full, "role"), t1, t2,
		    jtxt(full, "state"));
		printf("  reason: %s%s%s\n", jtxt(full, "reason"),
		    *jtxt(full, "ticket") != '\0' ? "  ticket: " : "",
		    jtxt(full, "ticket"));
		json_array_foreach(json_object_get(full, "votes"), k, v)
			printf("  %s by %s%s%s\n", jtxt(v, "decision"),
			    jtxt(v, "approver"), *jtxt(v, "comment") != '\0' ?
			    ": " : "", jtxt(v, "comment"));
		if (json_integer_value(json_object_get(full, "approvals")) ==
		    0)
			printf("  approved without votes (%s)\n",
			    json_is_true(json_object_get(full, "break_glass")) ?
			    "break-glass" : "auto-approve role");
		json_array_foreach(json_object_get(full, "certificates"), k,
		    v) {
			cli_time(json_integer_value(json_object_get(v,
			    "valid_after")), t1, sizeof(t1));
			cli_time(json_integer_value(json_object_get(v,
			    "valid_before")), t2, sizeof(t2));
			printf("  cert %s serial %s for %s, %s to %s\n",
			    jtxt(v, "kind"), jtxt(v, "serial"),
			    jtxt(v, "subject"), t1, t2);
		}
		json_decref(full);
	}
	if (c->json)
		cli_print_json(out);
	json_decref(out);
	json_decref(list);
	return 0;
}

static int
audit_export(struct cli *c, int argc, char **argv)
{
	char *raw = NULL;
	size_t len = 0;
	long st;

	if (argc != 1) {
		fputs(usage_audit, stderr);
		return CLI_EXIT_USAGE;
	}
	if (isatty(STDOUT_FILENO)) {
		cli_errx(c, "refusing to write the export to a terminal: "
		    "redirect it, e.g. jit audit export > audit.jsonl");
		return CLI_EXIT_USAGE;
	}
	st = cli_call_raw(c, "GET", "/v1/audit/export", 1, &raw, &len);
	if (st != 200) {
		json_t *ans = raw != NULL ? json_loadb(raw, len, 0, NULL) :
		    NULL;

		free(raw);
		return cli_fail_consume(c, st, ans);
	}
	if (fwrite(raw, 1, len, stdout) != len || fflush(stdout) != 0) {
		cli_errx(c, "write failed");
		free(raw);
		return CLI_EXIT_FAIL;
	}
	free(raw);
	return 0;
}

static int
audit_verify(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct audit_verify_result res;
	const char *keyfile = NULL;
	uint8_t pk[32], *d = NULL, *raw = NULL;
	size_t len = 0, rawlen = 0;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'k': keyfile = optarg; break;
		case 'h':
			fputs(usage_audit, stdout);
			return 0;
		default:
			fputs(usage_audit, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_audit, stderr);
		return CLI_EXIT_USAGE;
	}
	if (keyfile != NULL) {
		if ((r = fileio_read(keyfile, 4096, 0, &d, &len)) != JIT_OK) {
			cli_errx(c, "%s: %s", keyfile, jit_strerror(r));
			return CLI_EXIT_USAGE;
		}
		while (len > 0 && strchr("\r\n ", d[len - 1]) != NULL)
			d[--len] = '\0';
		r = b64_decode((char *)d, len, B64_STD, 32, &raw, &rawlen);
		free(d);
		if (r != JIT_OK || rawlen != 32) {
			free(raw);
			cli_errx(c, "%s: not an audit public key (base64 of 32 "
			    "bytes, as in the instance's audit.pub)", keyfile);
			return CLI_EXIT_USAGE;
		}
		memcpy(pk, raw, 32);
		free(raw);
	}
	memset(&res, 0, sizeof(res));
	r = audit_verify_file(argv[optind], keyfile != NULL ? pk : NULL, &res);
	if (r == JIT_ERR_NOT_FOUND) {
		cli_errx(c, "%s: no such file", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (res.ok && res.events > 0 && res.checkpoints == 0) {
		printf("audit export NOT verified: no signed checkpoint covers "
		    "its %llu events\n", (unsigned long long)res.events);
		return CLI_EXIT_FAIL;
	}
	if (res.ok && keyfile == NULL) {
		/*
		 * A key named inside the file proves nothing: whoever rewrote
		 * the log could have re-signed it with their own key.
		 */
		printf("audit export NOT verified: the chain is consistent, "
		    "but without --key the signatures were checked against a "
		    "key taken from the export itself; give the instance's "
		    "audit.pub (or GET /v1/audit/key) with --key\n");
		return CLI_EXIT_FAIL;
	}
	if (res.ok) {
		printf("audit export intact: %llu events, last seq %llu, %llu "
		    "checkpoints, last checkpoint at seq %llu, signatures "
		    "verified%s\n", (unsigned long long)res.events,
		    (unsigned long long)res.last_seq,
		    (unsigned long long)res.checkpoints,
		    (unsigned long long)res.last_checkpoint_seq,
		    res.last_seq > res.last_checkpoint_seq ? "; the events "
		    "after the last checkpoint are chained but not yet signed" :
		    "");
		return 0;
	}
	printf("audit export FAILED verification at seq %llu: %s\n",
	    (unsigned long long)res.first_bad_seq, res.reason);
	return CLI_EXIT_FAIL;
}

int
cmd_audit(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "grants") == 0)
		return audit_grants(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "export") == 0) {
		if (cli_wants_help(argc - 1, argv + 1)) {
			fputs(usage_audit, stdout);
			return 0;
		}
		return audit_export(c, argc - 1, argv + 1);
	}
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return audit_verify(c, argc - 1, argv + 1);
	return audit_query(c, argc, argv);
}
