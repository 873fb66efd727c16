/*
 * `jitd user add|list|disable|enable|passwd|reset-otp|link` and
 * `jitd audit verify` (see admin.h).  Every change goes through the store
 * with its audit event, exactly as the daemon's own changes do, so the two
 * can run side by side on one database.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/admin.h"
#include "common/audit_chain.h"
#include "broker/config.h"
#include "broker/instance.h"
#include "broker/password.h"
#include "broker/store.h"
#include "broker/store_outbox.h"
#include "broker/totp.h"
#include "common/b64.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/secret.h"
#include "common/timefmt.h"
#include "common/tty.h"

static const char usage_user[] =
"usage: jitd user add NAME [--groups a,b] [--password-file FILE]\n"
"       jitd user list\n"
"       jitd user disable NAME | enable NAME\n"
"       jitd user passwd NAME [--password-file FILE]\n"
"       jitd user reset-otp NAME\n"
"       jitd user link NAME --slack ID   (--slack \"\" unlinks)\n"
"\n"
"Manages users in the database named by -c CONFIG (default\n"
"var/jitd.json), with the daemon running or not.  Passwords come from\n"
"FILE or are typed twice without echo (at least 12 characters).  add and\n"
"reset-otp print the TOTP enrolment (otpauth:// URI and base32 secret)\n"
"once.  disable, passwd and reset-otp end the user's sessions.  link maps\n"
"a chat (Slack) user id to the user for approval buttons.\n";

struct admin {
	struct config	*cfg;
	struct instance	*inst;
	struct store	*store;
	char		 actor[80];
};

int
admin_valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > STORE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return 0;
	}
	return 1;
}

static int
admin_open(const char *cfgpath, struct admin *a)
{
	struct store_opts so;
	struct passwd *pw;
	char *err = NULL;

	memset(a, 0, sizeof(*a));
	if (config_load(cfgpath, &a->cfg, &err) != JIT_OK ||
	    instance_unlock(a->cfg, &a->inst, &err) != JIT_OK)
		goto fail;
	memset(&so, 0, sizeof(so));
	so.audit_sk = a->inst->audit_sk;
	so.checkpoint_every = a->cfg->audit_checkpoint_every;
	so.checkpoint_interval = a->cfg->audit_checkpoint_interval;
	so.busy_timeout_ms = a->cfg->database_busy_timeout_ms;
	if (store_open(a->cfg->database, 0, &so, &a->store, &err) != JIT_OK)
		goto fail;
	pw = getpwuid(getuid());
	snprintf(a->actor, sizeof(a->actor), "cli:%s", pw != NULL ?
	    pw->pw_name : "unknown");
	return 0;
 fail:
	fprintf(stderr, "jitd: %s\n", err != NULL ? err : "cannot open");
	free(err);
	return -1;
}

static void
admin_close(struct admin *a)
{
	store_close(a->store);
	instance_free(a->inst);
	config_unref(a->cfg);
}

/* Reads a new password from a file or twice from the terminal. */
static int
read_new_password(const char *file, char **out)
{
	char *again = NULL;
	int r;

	*out = NULL;
	if (file != NULL) {
		if ((r = fileio_read_secret(file, out)) != JIT_OK) {
			fprintf(stderr, "jitd: %s: %s\n", file,
			    r == JIT_ERR_SYSTEM ? strerror(errno) :
			    jit_strerror(r));
			return -1;
		}
	} else {
		if (tty_read_secret("New password: ", JIT_PASSWORD_MAX,
		    out) != JIT_OK) {
			fprintf(stderr, "jitd: no terminal to read the "
			    "password from: use --password-file FILE\n");
			return -1;
		}
		if (tty_read_secret("Again: ", JIT_PASSWORD_MAX, &again) !=
		    JIT_OK || strcmp(again, *out) != 0) {
			fprintf(stderr, "jitd: passwords do not match\n");
			strfreezero(again);
			strfreezero(*out);
			*out = NULL;
			return -1;
		}
		strfreezero(again);
	}
	if (password_policy_check(*out) != JIT_OK) {
		fprintf(stderr, "jitd: the password must have %d to %d "
		    "characters, valid UTF-8, no control characters\n",
		    JIT_PASSWORD_MIN_CHARS, JIT_PASSWORD_MAX);
		strfreezero(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Validates "a,b" group lists. */
static int
valid_groups(const char *csv)
{
	char **v;
	size_t n, i;
	int ok = 1;

	if (*csv == '\0')
		return 1;
	if (strlen(csv) >= STORE_GROUPS_LEN ||
	    (v = strv_split(csv, ',', STORE_GROUPS_MAX, &n)) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (!admin_valid_name(v[i]))
			ok = 0;
	strv_free(v);
	return ok;
}

/* A chat user id such as U024BE7LH; "" unlinks. */
static int
valid_chat_id(const char *s)
{
	size_t i, n = strlen(s);

	if (n > STORE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

enum user_op { OP_ADD, OP_DISABLE, OP_ENABLE, OP_PASSWD, OP_RESET_OTP,
    OP_LINK };

struct user_job {
	enum user_op		 op;
	const char		*actor;
	struct store_user	 u;	/* for add: the new row */
	char			 pwhash[PASSWORD_HASH_MAX];
	int			 set_password;
	uint8_t			 sealed[STORE_SEALED_MAX];
	size_t			 sealedlen;
	char			 slack_id[STORE_NAME_MAX + 1];
};

static const char *const op_action[] = {
	"user.add", "user.disable", "user.enable", "user.passwd",
	"user.reset_otp", "user.link"
};

static int
user_tx(struct store_tx *tx, void *arg)
{
	struct user_job *j = arg;
	struct store_user u;
	json_t *d = NULL;
	int r;

	if (j->op == OP_ADD) {
		if ((r = store_tx_user_insert(tx, &j->u)) != JIT_OK)
			return r;
		d = json_pack("{s:s}", "groups", j->u.groups);
	} else {
		if ((r = store_tx_user_get(tx, j->u.name, &u)) != JIT_OK)
			return r;
		switch (j->op) {
		case OP_DISABLE:
			u.disabled = 1;
			break;
		case OP_ENABLE:
			u.disabled = 0;
			u.failed = 0;
			u.locked_until = 0;
			break;
		case OP_PASSWD:
			snprintf(u.pwhash, sizeof(u.pwhash), "%s", j->pwhash);
			u.failed = 0;
			u.locked_until = 0;
			break;
		case OP_RESET_OTP:
			memcpy(u.totp_sealed, j->sealed, j->sealedlen);
			u.totp_sealed_len = j->sealedlen;
			u.last_totp_step = 0;
			break;
		case OP_LINK: {
			struct store_user other;

			/* One chat id maps to one user. */
			r = store_tx_user_get_by_slack(tx, j->slack_id, &other);
			if (r == JIT_OK && other.id != u.id)
				return JIT_ERR_EXISTS;
			if (r != JIT_OK && r != JIT_ERR_NOT_FOUND)
				return r;
			snprintf(u.slack_id, sizeof(u.slack_id), "%s",
			    j->slack_id);
			break;
		}
		default:
			return JIT_ERR_INTERNAL;
		}
		if ((r = store_tx_user_update(tx, &u)) != JIT_OK)
			return r;
		if (j->op != OP_ENABLE && j->op != OP_LINK &&
		    (r = store_tx_sessions_revoke_user(tx, u.id)) != JIT_OK)
			return r;
		d = j->op == OP_LINK ? json_pack("{s:s}", "slack_id",
		    j->slack_id) : json_object();
	}
	if (d == NULL)
		return JIT_ERR_ALLOC;
	r = store_tx_audit(tx, j->actor, op_action[j->op], j->u.name, "ok", d);
	json_decref(d);
	return r;
}

/* Makes a TOTP secret, seals it into j and prints the enrolment. */
static int
new_totp(struct admin *a, struct user_job *j)
{
	uint8_t secret[TOTP_SECRET_LEN];
	char b32[64], *uri;
	int r;

	if ((r = totp_generate_secret(secret)) != JIT_OK ||
	    (r = instance_totp_seal(a->inst, j->u.name, secret,
	    sizeof(secret), j->sealed, sizeof(j->sealed), &j->sealedlen)) !=
	    JIT_OK ||
	    (r = base32_encode(secret, sizeof(secret), b32, sizeof(b32))) !=
	    JIT_OK ||
	    (uri = totp_uri("jitd", j->u.name, secret, sizeof(secret))) ==
	    NULL) {
		sodium_memzero(secret, sizeof(secret));
		fprintf(stderr, "jitd: cannot create a TOTP secret: %s\n",
		    jit_strerror(r));
		return -1;
	}
	sodium_memzero(secret, sizeof(secret));
	/* Shown once, to the operator enrolling the user. */
	printf("totp_uri: %s\ntotp_secret: %s\n", uri, b32);
	sodium_memzero(b32, sizeof(b32));
	strfreezero(uri);
	return 0;
}

static int
print_user(void *arg, const struct store_user *u)
{
	char ts[TIMEFMT_LEN];
	int64_t now = *(const int64_t *)arg;

	time_format(u->created_at, ts);
	printf("%-20s %-30s %-9s %s\n", u->name, u->groups[0] != '\0' ?
	    u->groups : "-", u->disabled ? "disabled" :
	    u->locked_until > now ? "locked" : u->pwhash[0] == '\0' ?
	    "federated" : "active", ts);
	return JIT_OK;
}

int
admin_user_main(const char *cfgpath, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "groups", required_argument, NULL, 'g' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "slack", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct user_job *j = NULL;
	struct admin a;
	const char *sub, *groups = "", *pwfile = NULL, *slack = NULL;
	char *pw = NULL;
	int64_t now;
	int c, r, rc = 1, opened = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_user, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'g': groups = optarg; break;
		case 'p': pwfile = optarg; break;
		case 's': slack = optarg; break;
		case 'h':
			fputs(usage_user, stdout);
			return 0;
		default:
			fputs(usage_user, stderr);
			return 2;
		}
	}
	if (strcmp(sub, "list") == 0) {
		if (optind != argc) {
			fputs(usage_user, stderr);
			return 2;
		}
		if (admin_open(cfgpath, &a) != 0)
			return 1;
		now = (int64_t)time(NULL);
		printf("%-20s %-30s %-9s %s\n", "NAME", "GROUPS", "STATE",
		    "CREATED");
		r = store_user_list(a.store, print_user, &now);
		admin_close(&a);
		if (r != JIT_OK)
			fprintf(stderr, "jitd: %s\n", jit_strerror(r));
		return r == JIT_OK ? 0 : 1;
	}
	if (optind != argc - 1) {
		fputs(usage_user, stderr);
		return 2;
	}
	if ((j = sodium_malloc(sizeof(*j))) == NULL)
		return 1;
	memset(j, 0, sizeof(*j));
	if (strcmp(sub, "add") == 0)
		j->op = OP_ADD;
	else if (strcmp(sub, "disable") == 0)
		j->op = OP_DISABLE;
	else if (strcmp(sub, "enable") == 0)
		j->op = OP_ENABLE;
	else if (strcmp(sub, "passwd") == 0)
		j->op = OP_PASSWD;
	else if (strcmp(sub, "reset-otp") == 0)
		j->op = OP_RESET_OTP;
	else if (strcmp(sub, "link") == 0)
		j->op = OP_LINK;
	else {
		fprintf(stderr, "jitd: unknown user command \"%s\"\n", sub);
		fputs(usage_user, stderr);
		rc = 2;
		goto out;
	}
	if (!admin_valid_name(argv[optind])) {
		fprintf(stderr, "jitd: invalid user name \"%s\" (1-64 of a-z, "
		    "0-9, '.', '_', '-', starting with a letter or digit)\n",
		    argv[optind]);
		rc = 2;
		goto out;
	}
	snprintf(j->u.name, sizeof(j->u.name), "%s", argv[optind]);
	if ((j->op == OP_LINK) != (slack != NULL) || (slack != NULL &&
	    !valid_chat_id(slack))) {
		fprintf(stderr, "jitd: %s\n", slack == NULL ? "link needs "
		    "--slack ID" : j->op != OP_LINK ? "--slack goes with link" :
		    "invalid --slack ID (1-64 of A-Z, a-z, 0-9, '_', '-'; "
		    "\"\" unlinks)");
		rc = 2;
		goto out;
	}
	if (slack != NULL)
		snprintf(j->slack_id, sizeof(j->slack_id), "%s", slack);
	if (!valid_groups(groups)) {
		fprintf(stderr, "jitd: invalid --groups \"%s\"\n", groups);
		rc = 2;
		goto out;
	}
	if (admin_open(cfgpath, &a) != 0)
		goto out;
	opened = 1;
	j->actor = a.actor;
	if (j->op == OP_ADD || j->op == OP_PASSWD) {
		if (j->op == OP_ADD) {
			struct store_user tmp;

			/* Refuse early, before asking for a password. */
			if (store_user_get(a.store, j->u.name, &tmp) ==
			    JIT_OK) {
				fprintf(stderr, "jitd: user %s already exists\n",
				    j->u.name);
				goto out;
			}
		}
		if (read_new_password(pwfile, &pw) != 0)
			goto out;
		if ((r = password_hash(pw, j->pwhash)) != JIT_OK) {
			fprintf(stderr, "jitd: %s\n", jit_strerror(r));
			goto out;
		}
		snprintf(j->u.pwhash, sizeof(j->u.pwhash), "%s", j->pwhash);
	}
	snprintf(j->u.groups, sizeof(j->u.groups), "%s", groups);
	if ((j->op == OP_ADD || j->op == OP_RESET_OTP) && new_totp(&a, j) != 0)
		goto out;
	if (j->op == OP_ADD) {
		memcpy(j->u.totp_sealed, j->sealed, j->sealedlen);
		j->u.totp_sealed_len = j->sealedlen;
	}
	if ((r = store_write(a.store, user_tx, j)) != JIT_OK) {
		fprintf(stderr, "jitd: %s %s: %s\n", sub, j->u.name,
		    r == JIT_ERR_NOT_FOUND ? "no such user" : r ==
		    JIT_ERR_EXISTS ? "already exists" : jit_strerror(r));
		goto out;
	}
	fprintf(stderr, "jitd: %s: done for %s\n", sub, j->u.name);
	rc = 0;
 out:
	if (opened)
		admin_close(&a);
	strfreezero(pw);
	if (j != NULL)
		sodium_free(j);
	return rc;
}

/* Feeds every stored event and checkpoint to a verifier. */
static int
verify_row(void *arg, const struct audit_event *ev,
    const struct audit_checkpoint *cp)
{
	struct audit_verifier *v = arg;

	int r;

	/* Keep going after a failure: the verifier keeps the first one. */
	if (ev != NULL)
		r = audit_verifier_event(v, ev);
	else
		r = audit_verifier_checkpoint(v, cp);
	(void)r;
	return JIT_OK;
}

static int
read_key_file(const char *path, uint8_t pk[32])
{
	uint8_t *d = NULL, *raw = NULL;
	size_t len = 0, rawlen = 0;
	int r;

	if ((r = fileio_read(path, 4096, 0, &d, &len)) != JIT_OK)
		return r;
	while (len > 0 && (d[len - 1] == '\n' || d[len - 1] == '\r' ||
	    d[len - 1] == ' '))
		d[--len] = '\0';
	r = b64_decode((char *)d, len, B64_STD, 32, &raw, &rawlen);
	if (r == JIT_OK && rawlen != 32)
		r = JIT_ERR_INVALID_FORMAT;
	if (r == JIT_OK)
		memcpy(pk, raw, 32);
	free(raw);
	free(d);
	return r;
}

int
admin_audit_verify(const char *cfgpath, const char *export_file,
    const char *key_file)
{
	struct audit_verify_result res;
	struct audit_verifier *v = NULL;
	struct admin a;
	uint8_t pk[32];
	int r, have_key = 0, opened = 0;

	memset(&res, 0, sizeof(res));
	if (key_file != NULL) {
		if ((r = read_key_file(key_file, pk)) != JIT_OK) {
			fprintf(stderr, "jitd: %s: not an audit public key "
			    "(base64 of 32 bytes): %s\n", key_file,
			    jit_strerror(r));
			return 2;
		}
		have_key = 1;
	}
	if (export_file != NULL) {
		r = audit_verify_file(export_file, have_key ? pk : NULL, &res);
	} else {
		if (admin_open(cfgpath, &a) != 0)
			return 2;
		opened = 1;
		if (!have_key)
			memcpy(pk, a.inst->audit_pk, 32);
		if ((v = audit_verifier_new(pk)) == NULL) {
			admin_close(&a);
			return 2;
		}
		r = store_audit_export(a.store, 0, 0, verify_row, v);
		if (r != JIT_OK) {
			fprintf(stderr, "jitd: reading the audit log: %s\n",
			    jit_strerror(r));
			audit_verifier_free(v);
			admin_close(&a);
			return 2;
		}
		r = audit_verifier_finish(v, &res);
		audit_verifier_free(v);
	}
	if (opened)
		admin_close(&a);
	if (res.ok && res.events > 0 && res.checkpoints == 0) {
		printf("audit log NOT verified: no signed checkpoint covers its "
		    "%llu events\n", (unsigned long long)res.events);
		return 1;
	}
	if (res.ok && export_file != NULL && !have_key) {
		printf("audit log NOT verified: the chain is consistent, but "
		    "without --key the signatures were checked against a key "
		    "taken from the export itself; give the instance's "
		    "audit.pub with --key\n");
		return 1;
	}
	if (res.ok) {
		printf("audit log intact: %llu events, last seq %llu, "
		    "%llu checkpoints, last checkpoint at seq %llu, signatures "
		    "verified%s\n", (unsigned long long)res.events,
		    (unsigned long long)res.last_seq,
		    (unsigned long long)res.checkpoints,
		    (unsigned long long)res.last_checkpoint_seq,
		    res.last_seq > res.last_checkpoint_seq ? "; the events "
		    "after the last checkpoint are chained but not yet signed" :
		    "");
		return 0;
	}
	printf("audit log FAILED verification at seq %llu: %s\n",
	    (unsigned long long)res.first_bad_seq, res.reason);
	return 1;
}
