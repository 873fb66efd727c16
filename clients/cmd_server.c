/*
 * jit server-setup and jit krl-refresh: the two commands a server's
 * administrator runs (as root) so that the host's plain OpenSSH sshd
 * trusts jitd.  server-setup installs the user CA key, principals files,
 * the KRL and a managed block in sshd_config, checked with `sshd -t`
 * before it replaces the live file; krl-refresh, meant for a timer,
 * replaces the KRL with a newer one only after checking the CA's
 * signature on it.  Both install the KRL without its signature section:
 * OpenSSH 9.4 and later refuse KRLs that carry one.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/cli.h"
#include "clients/commands.h"
#include "common/krl_read.h"
#include "clients/sshcert.h"
#include "clients/sshdconf.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"

#define DEFAULT_DIR	"/etc/ssh"
#define DEFAULT_SESSION	"/usr/local/bin/jit-session"
#define SYSTEM_CONFIG	"/etc/ssh/sshd_config"
#define CA_FILE		"jitd_user_ca.pub"
#define KRL_FILE	"jitd.krl"
#define PRINC_DIR	"jitd_principals"
#define CA_TEXT_MAX	(64 * 1024)
#define MAPPINGS_MAX	64
#define NAME_MAX_LEN	32	/* a local account name */

static const char usage_setup[] =
"usage: jit server-setup --url URL [--principals-for NAME=ACCOUNT ...]\n"
"                        [--dir DIR] [--sshd-config FILE]\n"
"                        [--session-command PATH] [--no-reload] "
"[--dry-run]\n"
"\n"
"Makes this host's sshd trust jitd (run as root).  Fetches the user CA\n"
"(GET /v1/ca/ssh) and the signed KRL (GET /v1/ca/krl?signed=1, checked\n"
"against that CA) and writes, under DIR (default /etc/ssh):\n"
"  jitd_user_ca.pub           the CA key (0644)\n"
"  jitd.krl                   the KRL without its signature (0644)\n"
"  jitd_principals/ACCOUNT    principals ACCOUNT accepts (0644; dir 0755)\n"
"and a block between \"# BEGIN jitd\" and \"# END jitd\" in the sshd\n"
"configuration (default DIR/sshd_config) with TrustedUserCAKeys,\n"
"AuthorizedPrincipalsFile, RevokedKeys, ExposeAuthInfo yes and\n"
"ForceCommand jit-session (--session-command, default\n"
DEFAULT_SESSION ").  The new configuration is checked with\n"
"`sshd -t -f` before it replaces the old one; the system sshd is then\n"
"reloaded when FILE is " SYSTEM_CONFIG " (not with --no-reload).\n"
"\n"
"--principals-for NAME=ACCOUNT (repeatable) lets ACCOUNT accept:\n"
"  role:ROLE=ACCOUNT          the ssh principals of ROLE (needs a login:\n"
"                             GET /v1/roles)\n"
"  principal:NAME=ACCOUNT     the principal NAME\n"
"  NAME=ACCOUNT               the principals of role NAME when logged in\n"
"                             and such a role exists, else principal NAME\n"
"--dry-run prints what would be written and changes nothing.\n";

static const char usage_krl[] =
"usage: jit krl-refresh [--url URL] [--dir DIR] [--ca-key FILE] "
"[--verbose]\n"
"\n"
"Downloads the signed KRL (GET /v1/ca/krl?signed=1), checks that the\n"
"user CA (--ca-key, default DIR/" CA_FILE ") signed it and that it is\n"
"not older than DIR/" KRL_FILE ", and installs it without its signature,\n"
"atomically.  Otherwise keeps the installed file and exits 1.  Quiet on\n"
"success unless --verbose.  For cron or a systemd timer; pass --url (or\n"
"JIT_URL), since root usually has no jit session.\n";

struct mapping {
	char	*account;
	char	*principals[JIT_PRINCIPALS_MAX];
	size_t	 n;
};

struct setup {
	struct cli	*c;
	const char	*dir;
	const char	*config;
	const char	*session;
	int		 dry_run;
	int		 no_reload;
	struct mapping	 maps[MAPPINGS_MAX];
	size_t		 nmaps;
	json_t		*roles;		/* GET /v1/roles, fetched once */
};

static int
valid_account(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	}
	return 1;
}

/* A principal as a line of an AuthorizedPrincipalsFile may hold it. */
static int
valid_principal(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > JIT_PRINCIPAL_LEN_MAX || s[0] == '#')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == ',')
			return 0;
	}
	return 1;
}

static void
free_setup(struct setup *s)
{
	size_t i, k;

	for (i = 0; i < s->nmaps; i++) {
		free(s->maps[i].account);
		for (k = 0; k < s->maps[i].n; k++)
			free(s->maps[i].principals[k]);
	}
	json_decref(s->roles);
}

/* Adds principal p to account's mapping (once).  Returns 0 or -1. */
static int
add_principal(struct setup *s, const char *account, const char *p)
{
	struct mapping *m = NULL;
	size_t i;

	for (i = 0; i < s->nmaps; i++) {
		if (strcmp(s->maps[i].account, account) == 0)
			m = &s->maps[i];
	}
	if (m == NULL) {
		if (s->nmaps >= MAPPINGS_MAX)
			return -1;
		m = &s->maps[s->nmaps];
		if ((m->account = strdup(account)) == NULL)
			return -1;
		m->n = 0;
		s->nmaps++;
	}
	for (i = 0; i < m->n; i++) {
		if (strcmp(m->principals[i], p) == 0)
			return 0;
	}
	if (m->n >= JIT_PRINCIPALS_MAX ||
	    (m->principals[m->n] = strdup(p)) == NULL)
		return -1;
	m->n++;
	return 0;
}

/* The "ssh" object of role name, or NULL; fetches the roles once. */
static json_t *
role_ssh(struct setup *s, const char *name, int *fetched_ok)
{
	json_t *r, *arr;
	size_t i;
	long st;

	*fetched_ok = 0;
	if (s->c->token == NULL)
		return NULL;
	if (s->roles == NULL) {
		st = cli_call(s->c, "GET", "/v1/roles", NULL, 1, &s->roles);
		if (st != 200) {
			cli_fail_answer(s->c, st, s->roles);
			json_decref(s->roles);
			s->roles = NULL;
			return NULL;
		}
	}
	*fetched_ok = 1;
	arr = json_object_get(s->roles, "roles");
	for (i = 0; i < json_array_size(arr); i++) {
		r = json_array_get(arr, i);
		if (json_is_string(json_object_get(r, "name")) &&
		    strcmp(json_string_value(json_object_get(r, "name")),
		    name) == 0)
			return json_is_object(json_object_get(r, "ssh")) ?
			    json_object_get(r, "ssh") : NULL;
	}
	return NULL;
}

/*
 * Reads one --principals-for argument.  Returns 0, CLI_EXIT_USAGE for a
 * malformed one (message printed), or CLI_EXIT_FAIL.
 */
static int
add_mapping(struct setup *s, const char *arg)
{
	char *copy = NULL, *name, *account, *eq;
	json_t *ssh, *pr;
	const char *p;
	int mode = 0, ok = 0, rc = CLI_EXIT_USAGE; /* 1 role, 2 principal */
	size_t i;

	if ((copy = strdup(arg)) == NULL)
		return CLI_EXIT_FAIL;
	name = copy;
	if (strncmp(name, "role:", 5) == 0) {
		mode = 1;
		name += 5;
	} else if (strncmp(name, "principal:", 10) == 0) {
		mode = 2;
		name += 10;
	}
	if ((eq = strrchr(name, '=')) == NULL) {
		cli_errx(s->c, "--principals-for \"%s\": expected NAME=ACCOUNT",
		    arg);
		goto out;
	}
	*eq = '\0';
	account = eq + 1;
	if (!valid_account(account)) {
		cli_errx(s->c, "--principals-for \"%s\": \"%s\" is not a valid "
		    "account name", arg, account);
		goto out;
	}
	if (!valid_principal(name)) {
		cli_errx(s->c, "--principals-for \"%s\": \"%s\" is not a valid "
		    "principal or role name", arg, name);
		goto out;
	}
	ssh = mode == 2 ? NULL : role_ssh(s, name, &ok);
	if (mode != 2 && s->c->token != NULL && !ok) {
		rc = CLI_EXIT_FAIL;	/* the roles could not be fetched */
		goto out;
	}
	if (mode == 1 && ssh == NULL) {
		if (s->c->token == NULL)
			cli_errx(s->c, "--principals-for \"%s\": role lookup "
			    "needs a login (jit login)", arg);
		else if (ok)
			cli_errx(s->c, "--principals-for \"%s\": no role \"%s\" "
			    "with SSH access", arg, name);
		goto out;
	}
	rc = CLI_EXIT_FAIL;
	if (ssh == NULL) {
		if (add_principal(s, account, name) != 0)
			goto out;
		rc = 0;
		goto out;
	}
	pr = json_object_get(ssh, "principals");
	for (i = 0; i < json_array_size(pr); i++) {
		p = json_string_value(json_array_get(pr, i));
		if (p == NULL || !valid_principal(p)) {
			cli_errx(s->c, "role \"%s\": unusable principal", name);
			goto out;
		}
		if (add_principal(s, account, p) != 0)
			goto out;
	}
	rc = 0;
 out:
	free(copy);
	return rc;
}

/* GET path without a token, as raw bytes; prints why on failure. */
static int
fetch(struct cli *c, const char *path, char **body, size_t *len)
{
	long st;

	st = cli_call_raw(c, "GET", path, 0, body, len);
	if (st == 200 && *len > 0)
		return 0;
	if (st != 0)
		cli_errx(c, "GET %s: HTTP %ld", path, st);
	free(*body);
	*body = NULL;
	*len = 0;
	return -1;
}

/* Fetches and checks the signed KRL; returns the parsed list or NULL. */
static struct krlr *
fetch_krl(struct cli *c, const struct sshc_cas *cas, char **blob,
    size_t *len)
{
	struct krlr *k = NULL;
	int r;

	if (fetch(c, "/v1/ca/krl?signed=1", blob, len) != 0)
		return NULL;
	if ((r = krlr_parse((uint8_t *)*blob, *len,
	    cas != NULL ? (const uint8_t (*)[32])cas->pk : NULL,
	    cas != NULL ? cas->n : 0, &k)) != JIT_OK) {
		cli_errx(c, "the downloaded KRL is %s: %s", r ==
		    JIT_ERR_BAD_SIGNATURE ? "not signed by the user CA" :
		    "not a valid KRL", jit_strerror(r));
		free(*blob);
		*blob = NULL;
		return NULL;
	}
	return k;
}

static char *
path2(const char *dir, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", dir, name) == -1 ? NULL : p;
}

/* Writes path atomically unless it already holds exactly these bytes. */
static int
install(struct setup *s, const char *path, const void *p, size_t len,
    mode_t mode, const char *what)
{
	uint8_t *old = NULL;
	size_t oldlen = 0;
	int r, same;

	if (s->dry_run) {
		printf("would write %s (%04o): %s\n", path, (unsigned)mode,
		    what);
		return 0;
	}
	same = fileio_read(path, JIT_BUF_MAX, FILEIO_NOFOLLOW, &old,
	    &oldlen) == JIT_OK && oldlen == len && memcmp(old, p, len) == 0;
	free(old);
	if (same) {
		if (chmod(path, mode) == -1)
			goto fail;
		printf("unchanged %s\n", path);
		return 0;
	}
	if ((r = fileio_write_atomic(path, p, len, mode)) != JIT_OK) {
		if (r != JIT_ERR_SYSTEM)
			errno = EIO;
		goto fail;
	}
	printf("wrote %s (%04o): %s\n", path, (unsigned)mode, what);
	return 0;
 fail:
	cli_errx(s->c, "%s: %s", path, strerror(errno));
	return -1;
}

/* Writes jitd_principals/ACCOUNT for every mapping. */
static int
install_principals(struct setup *s)
{
	struct mapping *m;
	struct stat st;
	char *dir = NULL, *path = NULL, *text = NULL, *what = NULL;
	size_t i, k, len = 0, wlen = 0;
	FILE *f = NULL, *w = NULL;
	int rc = -1;

	if (s->nmaps == 0)
		return 0;
	if ((dir = path2(s->dir, PRINC_DIR)) == NULL)
		goto out;
	if (s->dry_run)
		printf("would create %s/ (0755)\n", dir);
	else if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		cli_errx(s->c, "%s exists and is not a directory", dir);
		goto out;
	} else if ((mkdir(dir, 0755) == -1 && errno != EEXIST) ||
	    chmod(dir, 0755) == -1) {
		cli_errx(s->c, "%s: %s", dir, strerror(errno));
		goto out;
	}
	for (i = 0; i < s->nmaps; i++) {
		m = &s->maps[i];
		if ((f = open_memstream(&text, &len)) == NULL ||
		    (w = open_memstream(&what, &wlen)) == NULL)
			goto out;
		for (k = 0; k < m->n; k++) {
			fprintf(f, "%s\n", m->principals[k]);
			fprintf(w, "%s%s", k > 0 ? ", " : "principals ",
			    m->principals[k]);
		}
		if (getpwnam(m->account) == NULL)
			fprintf(w, " (note: no local account \"%s\" yet)",
			    m->account);
		fclose(f);
		fclose(w);
		f = w = NULL;
		if ((path = path2(dir, m->account)) == NULL ||
		    install(s, path, text, len, 0644, what) != 0)
			goto out;
		free(path);
		free(text);
		free(what);
		path = text = what = NULL;
	}
	rc = 0;
 out:
	if (f != NULL)
		fclose(f);
	if (w != NULL)
		fclose(w);
	free(path);
	free(text);
	free(what);
	free(dir);
	return rc;
}

/* Builds, checks and installs the new sshd configuration. */
static int
install_config(struct setup *s, const char *block)
{
	struct stat st;
	uint8_t *old = NULL;
	size_t oldlen = 0;
	char *text = NULL, *notes = NULL, *tmp = NULL, *out = NULL;
	char note[512];
	mode_t mode = 0644;
	int had = 0, rc = -1, r;
	char *argv[] = { (char *)sshdconf_sshd_path(), "-t", "-f", NULL,
	    NULL };

	r = fileio_read(s->config, JIT_FILE_MAX, 0, &old, &oldlen);
	if (r != JIT_OK && r != JIT_ERR_NOT_FOUND) {
		cli_errx(s->c, "%s: %s", s->config, r == JIT_ERR_SYSTEM ?
		    strerror(errno) : jit_strerror(r));
		goto out;
	}
	if (sshdconf_apply_block(old != NULL ? (char *)old : "", oldlen,
	    block, &text, &had) != JIT_OK) {
		cli_errx(s->c, "%s: unbalanced \"%s\"/\"%s\" markers; fix the "
		    "file by hand", s->config, SSHDCONF_BEGIN, SSHDCONF_END);
		goto out;
	}
	if ((notes = sshdconf_conflicts(old != NULL ? (char *)old : "",
	    oldlen)) != NULL)
		fputs(notes, stdout);
	if (s->dry_run) {
		printf("would %s the jitd block in %s:\n%s", had ? "replace" :
		    "add", s->config, block);
		rc = 0;
		goto out;
	}
	if (old != NULL && strcmp(text, (char *)old) == 0) {
		printf("unchanged %s (jitd block already current)\n",
		    s->config);
		rc = 0;
		goto out;
	}
	if (stat(s->config, &st) == 0)
		mode = st.st_mode & 07777;
	if (asprintf(&tmp, "%s.jitd-new", s->config) == -1)
		goto out;
	(void)unlink(tmp);
	if (fileio_write_new(tmp, text, strlen(text), mode) != JIT_OK) {
		cli_errx(s->c, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	argv[3] = tmp;
	if ((r = sshdconf_run(argv, &out)) != 0) {
		cli_errx(s->c, "sshd -t -f %s refused the new configuration "
		    "(exit %d); %s is unchanged:\n%s", tmp, r, s->config,
		    out != NULL ? out : "");
		goto out;
	}
	if (rename(tmp, s->config) == -1) {
		cli_errx(s->c, "rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	printf("%s the jitd block in %s (sshd -t: ok)\n", had ? "replaced" :
	    "added", s->config);
	if (s->no_reload)
		printf("not reloading sshd (--no-reload)\n");
	else if (strcmp(s->config, SYSTEM_CONFIG) != 0)
		printf("not reloading sshd: %s is not %s\n", s->config,
		    SYSTEM_CONFIG);
	else {
		r = sshdconf_reload(note, sizeof(note));
		printf("%s\n", note);
		if (r != 0)
			goto out;
	}
	rc = 0;
 out:
	if (tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	free(out);
	free(notes);
	free(text);
	free(old);
	return rc;
}

int
cmd_server_setup(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "principals-for", required_argument, NULL, 'p' },
		{ "sshd-config", required_argument, NULL, 'f' },
		{ "dir", required_argument, NULL, 'd' },
		{ "session-command", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-reload", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct setup s;
	struct sshc_cas cas;
	struct krlr *k = NULL;
	const char *specs[MAPPINGS_MAX];
	char *ca = NULL, *krl = NULL, *config = NULL, *block = NULL;
	char *p = NULL, what[256];
	size_t nspecs = 0, calen = 0, krllen = 0, i;
	int ch, rc = CLI_EXIT_USAGE;

	memset(&s, 0, sizeof(s));
	memset(&cas, 0, sizeof(cas));
	s.c = c;
	s.dir = DEFAULT_DIR;
	s.session = DEFAULT_SESSION;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (nspecs >= MAPPINGS_MAX) {
				cli_errx(c, "too many --principals-for");
				goto out;
			}
			specs[nspecs++] = optarg;
			break;
		case 'f':
			s.config = optarg;
			break;
		case 'd':
			s.dir = optarg;
			break;
		case 's':
			s.session = optarg;
			break;
		case 'n':
			s.dry_run = 1;
			break;
		case 'R':
			s.no_reload = 1;
			break;
		case 'h':
			fputs(usage_setup, stdout);
			return 0;
		default:
			fputs(usage_setup, stderr);
			goto out;
		}
	}
	if (optind != argc || *s.dir != '/' || (s.session[0] != '/')) {
		fputs(usage_setup, stderr);
		goto out;
	}
	if (s.config == NULL && (s.config = config = path2(s.dir,
	    "sshd_config")) == NULL) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < nspecs; i++) {
		if ((rc = add_mapping(&s, specs[i])) != 0)
			goto out;
	}
	rc = CLI_EXIT_FAIL;
	/* The CA first: it is what the KRL is checked against. */
	if (fetch(c, "/v1/ca/ssh?format=text", &ca, &calen) != 0)
		goto out;
	if (calen > CA_TEXT_MAX || sshc_cas_parse(ca, calen, &cas) != JIT_OK ||
	    cas.n != 1) {
		cli_errx(c, "GET /v1/ca/ssh did not return one Ed25519 key");
		goto out;
	}
	if (ca[calen - 1] != '\n') {
		if ((p = realloc(ca, calen + 2)) == NULL)
			goto out;
		ca = p;
		p = NULL;
		ca[calen++] = '\n';
		ca[calen] = '\0';
	}
	if ((k = fetch_krl(c, &cas, &krl, &krllen)) == NULL)
		goto out;
	if ((p = path2(s.dir, CA_FILE)) == NULL)
		goto out;
	if (!s.dry_run && mkdir(s.dir, 0755) == -1 && errno != EEXIST) {
		cli_errx(c, "%s: %s", s.dir, strerror(errno));
		goto out;
	}
	if (install(&s, p, ca, calen, 0644, "user CA key") != 0)
		goto out;
	free(p);
	snprintf(what, sizeof(what), "KRL version %" PRIu64 ", %zu revoked "
	    "serial(s), signature checked and removed", krlr_version(k),
	    krlr_count(k));
	if ((p = path2(s.dir, KRL_FILE)) == NULL ||
	    install(&s, p, krl, krlr_unsigned_len(k), 0644, what) != 0)
		goto out;
	if (install_principals(&s) != 0)
		goto out;
	if (asprintf(&block, SSHDCONF_BEGIN " (written by jit server-setup; "
	    "changes here are replaced)\n"
	    "TrustedUserCAKeys %s/" CA_FILE "\n"
	    "AuthorizedPrincipalsFile %s/" PRINC_DIR "/%%u\n"
	    "RevokedKeys %s/" KRL_FILE "\n"
	    "ExposeAuthInfo yes\n"
	    "ForceCommand %s --krl %s/" KRL_FILE " --ca-key %s/" CA_FILE "\n"
	    SSHDCONF_END "\n", s.dir, s.dir, s.dir, s.session, s.dir,
	    s.dir) == -1) {
		block = NULL;
		goto out;
	}
	if (install_config(&s, block) != 0)
		goto out;
	rc = 0;
 out:
	krlr_free(k);
	free(block);
	free(p);
	free(ca);
	free(krl);
	free(config);
	free_setup(&s);
	return rc;
}

/* The version of the installed KRL; 0 when absent or unreadable. */
static uint64_t
installed_version(const char *path, int *present)
{
	struct krlr *k = NULL;
	uint8_t *d = NULL;
	size_t len = 0;
	uint64_t v = 0;

	*present = 0;
	if (fileio_read(path, JIT_BUF_MAX, 0, &d, &len) != JIT_OK)
		return 0;
	*present = 1;
	if (krlr_parse(d, len, NULL, 0, &k) == JIT_OK)
		v = krlr_version(k);
	krlr_free(k);
	free(d);
	return v;
}

int
cmd_krl_refresh(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "ca-key", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sshc_cas cas;
	struct krlr *k = NULL;
	const char *dir = DEFAULT_DIR, *cakey = NULL;
	char *cadef = NULL, *path = NULL, *blob = NULL;
	size_t len = 0;
	uint64_t old;
	int ch, verbose = 0, present, r, rc = CLI_EXIT_USAGE;

	memset(&cas, 0, sizeof(cas));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'c':
			cakey = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(usage_krl, stdout);
			return 0;
		default:
			fputs(usage_krl, stderr);
			goto out;
		}
	}
	if (optind != argc) {
		fputs(usage_krl, stderr);
		goto out;
	}
	rc = CLI_EXIT_FAIL;
	if (cakey == NULL && (cakey = cadef = path2(dir, CA_FILE)) == NULL)
		goto out;
	if ((path = path2(dir, KRL_FILE)) == NULL)
		goto out;
	if ((r = sshc_cas_load(cakey, &cas)) != JIT_OK) {
		cli_errx(c, "%s: %s (run jit server-setup first)", cakey,
		    r == JIT_ERR_SYSTEM ? strerror(errno) : jit_strerror(r));
		goto out;
	}
	if ((k = fetch_krl(c, &cas, &blob, &len)) == NULL) {
		cli_errx(c, "%s is unchanged", path);
		goto out;
	}
	old = installed_version(path, &present);
	if (present && krlr_version(k) < old) {
		cli_errx(c, "the downloaded KRL (version %" PRIu64 ") is older "
		    "than the installed one (version %" PRIu64 "); %s is "
		    "unchanged", krlr_version(k), old, path);
		goto out;
	}
	if ((r = fileio_write_atomic(path, blob, krlr_unsigned_len(k),
	    0644)) != JIT_OK) {
		cli_errx(c, "%s: %s; the installed file is unchanged", path,
		    r == JIT_ERR_SYSTEM ? strerror(errno) : jit_strerror(r));
		goto out;
	}
	if (verbose)
		printf("installed KRL version %" PRIu64 " (%zu revoked "
		    "serial(s)) at %s\n", krlr_version(k), krlr_count(k), path);
	rc = 0;
 out:
	krlr_free(k);
	free(blob);
	free(path);
	free(cadef);
	return rc;
}
