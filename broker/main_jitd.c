/*
 * jitd: the just-in-time access broker daemon and its operator commands.
 *   jitd init DIR            create an instance
 *   jitd serve               run the HTTP API
 *   jitd user ...            manage users
 *   jitd audit verify        check the audit hash chain and checkpoints
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/admin.h"
#include "broker/db.h"
#include "broker/instance.h"
#include "broker/serve.h"
#include "broker/store.h"
#include "common/err.h"

#define DEFAULT_CONFIG "var/jitd.json"

static const char usage[] =
"usage: jitd [-c CONFIG] COMMAND [options]\n"
"\n"
"The jitd just-in-time privileged access broker.\n"
"\n"
"commands:\n"
"  init DIR [--passphrase-file F] [--database URI]\n"
"                                   create an instance in DIR\n"
"  serve [--listen ADDR:PORT]       run the HTTP API (SIGHUP reloads,\n"
"                                   SIGTERM drains and stops)\n"
"  user add|list|disable|enable|passwd|reset-otp|link ...\n"
"  audit verify [--export FILE] [--key AUDIT.pub]\n"
"  migrate --from sqlite:PATH --to postgresql://...\n"
"                                   copy an instance into PostgreSQL\n"
"\n"
"-c CONFIG names the configuration file (default " DEFAULT_CONFIG ").\n"
"Run 'jitd COMMAND --help' for details.\n";

static const char usage_init[] =
"usage: jitd init DIR [--passphrase-file FILE] [--database URI]\n"
"\n"
"Creates a ready-to-run instance in DIR: jitd.json (safe defaults, listen\n"
"127.0.0.1:8787), jitd.db, the CA under DIR/ca, the key that seals it\n"
"(DIR/ca.key, 0600; or a passphrase read from FILE), the sealed instance\n"
"secret (secrets.key) and the audit checkpoint public key (audit.pub).\n"
"Refuses to overwrite an existing instance.\n"
"\n"
"--database postgresql://USER@HOST:PORT/DB keeps the data in PostgreSQL\n"
"instead of DIR/jitd.db: the schema is created there (the database must\n"
"exist and hold no jitd instance yet).  Several replicas share it: copy\n"
"DIR (same CA and secrets) to each and give each its own \"listen\".\n";

static const char usage_serve[] =
"usage: jitd [-c CONFIG] serve [--listen ADDR:PORT]\n"
"\n"
"Runs the HTTP API.  A non-loopback address needs tls_cert and tls_key in\n"
"the configuration.  One log line per request goes to stderr.  SIGHUP\n"
"reloads the configuration (an invalid one is refused and the running one\n"
"kept); SIGTERM finishes in-flight requests, writes a final audit\n"
"checkpoint and exits.\n";

static const char usage_audit[] =
"usage: jitd [-c CONFIG] audit verify\n"
"       jitd audit verify --export FILE [--key AUDIT.pub]\n"
"\n"
"Checks the audit log's hash chain and signed checkpoints: in the database\n"
"of CONFIG, or in an export (GET /v1/audit/export) with the public key\n"
"from audit.pub (else the key named in the export's header).  Exits 0\n"
"with a one-line summary when intact, 1 naming the first bad sequence\n"
"number when not, 2 on usage or access errors.\n";

static int
cmd_init(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "database", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pf = NULL, *database = NULL;
	char *err = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'p')
			pf = optarg;
		else if (c == 'd')
			database = optarg;
		else if (c == 'h') {
			fputs(usage_init, stdout);
			return 0;
		} else {
			fputs(usage_init, stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_init, stderr);
		return 2;
	}
	if (instance_create(argv[optind], pf, database, &err) != JIT_OK) {
		fprintf(stderr, "jitd: init: %s\n", err != NULL ? err :
		    "failed");
		free(err);
		return 1;
	}
	fprintf(stderr, "jitd: created instance in %s; next: jitd -c "
	    "%s/jitd.json user add NAME --groups ..., then jitd -c "
	    "%s/jitd.json serve\n", argv[optind], argv[optind], argv[optind]);
	return 0;
}

static const char usage_migrate[] =
"usage: jitd migrate --from sqlite:PATH --to postgresql://USER@HOST/DB\n"
"\n"
"Copies a single-node instance (its sqlite database) into PostgreSQL:\n"
"users, sessions, requests, votes, certificates, the outbox and the whole\n"
"audit chain with its signed checkpoints, in one transaction.  The\n"
"destination database must exist and hold no jitd instance.  Stop jitd\n"
"first; afterwards set \"database\" in jitd.json to the URI and check\n"
"the result with 'jitd -c jitd.json audit verify'.\n";

static int
cmd_migrate(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *from = NULL, *to = NULL;
	char *err = NULL, *shown;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'f')
			from = optarg;
		else if (c == 't')
			to = optarg;
		else if (c == 'h') {
			fputs(usage_migrate, stdout);
			return 0;
		} else {
			fputs(usage_migrate, stderr);
			return 2;
		}
	}
	if (optind != argc || from == NULL || to == NULL) {
		fputs(usage_migrate, stderr);
		return 2;
	}
	if (strncmp(from, "sqlite:", 7) != 0 || from[7] == '\0') {
		fprintf(stderr, "jitd: migrate: --from must be sqlite:PATH "
		    "(the instance's jitd.db)\n");
		return 2;
	}
	if (db_target_kind(to) != DB_PG || strncmp(to, "postgres:", 9) == 0) {
		fprintf(stderr, "jitd: migrate: --to must be a PostgreSQL URI "
		    "(postgresql://...)\n");
		return 2;
	}
	if (access(from + 7, R_OK) != 0) {
		fprintf(stderr, "jitd: migrate: %s: %s\n", from + 7,
		    strerror(errno));
		return 1;
	}
	if (store_copy(from + 7, to, stdout, &err) != JIT_OK) {
		fprintf(stderr, "jitd: migrate: %s\n", err != NULL ? err :
		    "failed");
		free(err);
		return 1;
	}
	shown = db_target_display(to);
	fprintf(stderr, "jitd: migrated %s into %s; set \"database\" in "
	    "jitd.json to it and run 'jitd audit verify'\n", from + 7,
	    shown != NULL ? shown : "PostgreSQL");
	free(shown);
	return 0;
}

static int
cmd_serve(const char *cfg, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *listen = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'l')
			listen = optarg;
		else if (c == 'h') {
			fputs(usage_serve, stdout);
			return 0;
		} else {
			fputs(usage_serve, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage_serve, stderr);
		return 2;
	}
	return serve_main(cfg, listen);
}

static int
cmd_audit(const char *cfg, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "export", required_argument, NULL, 'e' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *exp = NULL, *key = NULL;
	int c;

	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			fputs(usage_audit, stdout);
			return 0;
		}
		fputs(usage_audit, stderr);
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'e')
			exp = optarg;
		else if (c == 'k')
			key = optarg;
		else if (c == 'h') {
			fputs(usage_audit, stdout);
			return 0;
		} else {
			fputs(usage_audit, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage_audit, stderr);
		return 2;
	}
	return admin_audit_verify(cfg, exp, key);
}

int
main(int argc, char **argv)
{
	const char *cfg = DEFAULT_CONFIG;
	int i = 1;

	if (sodium_init() < 0) {
		fprintf(stderr, "jitd: libsodium failed to initialise\n");
		return 1;
	}
	/* Global -c CONFIG may come before the command or right after it. */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cfg = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "jitd: unknown option %s\n", argv[i]);
			fputs(usage, stderr);
			return 2;
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	argc -= i;
	argv += i;
	/* Accept "-c CONFIG" after the command too: "jitd serve -c F". */
	for (i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "-c") == 0) {
			cfg = argv[i + 1];
			memmove(&argv[i], &argv[i + 2],
			    (size_t)(argc - i - 1) * sizeof(*argv));
			argc -= 2;
			i--;
		}
	}
	if (strcmp(argv[0], "init") == 0)
		return cmd_init(argc, argv);
	if (strcmp(argv[0], "serve") == 0)
		return cmd_serve(cfg, argc, argv);
	if (strcmp(argv[0], "user") == 0)
		return admin_user_main(cfg, argc, argv);
	if (strcmp(argv[0], "audit") == 0)
		return cmd_audit(cfg, argc, argv);
	if (strcmp(argv[0], "migrate") == 0)
		return cmd_migrate(argc, argv);
	if (strcmp(argv[0], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "jitd: unknown command \"%s\"\n", argv[0]);
	fputs(usage, stderr);
	return 2;
}
