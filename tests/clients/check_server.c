/*
 * jit server-setup and jit krl-refresh, run as the real `jit` binary:
 * against an in-process jitd (tests/lib/jitfix.h), and, for KRLs jitd
 * would never serve (another CA's, truncated, garbage, older), against a
 * small stand-in HTTP server.  `sshd -t` checks what server-setup wrote.
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <sodium.h>

#include "ca/ca.h"
#include "ca/krl.h"
#include "common/krl_read.h"
#include "clients/sshcert.h"
#include "common/err.h"
#include "tests/lib/jitfix.h"
#include "tests/lib/testutil.h"

/* The CA keys of a struct sshc_cas, as krlr_parse() takes them. */
#define CAS(c) (const uint8_t (*)[32])(c).pk, (c).n

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	ck_assert_msg(stat(path, &st) == 0, "%s missing", path);
	return st.st_mode & 07777;
}

static size_t
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A directory with a host key and a minimal sshd_config. */
static char *
sshd_dir(char **config)
{
	char *dir = tu_path(fx_tmp, "etc"), *hk, *text;
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
	    NULL, NULL };
	struct tu_out o;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	hk = tu_path(dir, "host_key");
	argv[7] = hk;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	*config = tu_path(dir, "sshd_config");
	if (asprintf(&text, "# test sshd_config\nHostKey %s\nUsePAM no\n"
	    "Port 2222\n", hk) == -1)
		abort();
	tu_write_file(*config, text, strlen(text), 0644);
	free(text);
	free(hk);
	return dir;
}

START_TEST(server_setup)
{
	struct tu_out o;
	char *dir, *config, *before, *after, *p, *s, *sshd_argv[5];
	size_t len0, len1;
	struct krlr *k = NULL;

	dir = sshd_dir(&config);
	before = tu_read_file(config, &len0);
	/* --dry-run prints the block and touches nothing. */
	fx_jit(&o, "--url", fx_base, "server-setup", "--dir", dir,
	    "--principals-for", "webops=" FX_ACCOUNT, "--dry-run", NULL);
	ck_assert_msg(o.status == 0, "%s%s", o.out, o.err);
	ck_assert(tu_contains(o.out, "# BEGIN jitd"));
	ck_assert(tu_contains(o.out, "ExposeAuthInfo yes\n"));
	ck_assert(tu_contains(o.out, "ForceCommand /usr/local/bin/jit-session"));
	ck_assert(tu_contains(o.out, "jitd_principals/" FX_ACCOUNT));
	tu_out_free(&o);
	ck_assert_int_eq(entries(dir), 3);	/* key, key.pub, config */
	after = tu_read_file(config, &len1);
	ck_assert(len0 == len1 && memcmp(before, after, len0) == 0);
	free(after);
	/* Bad mappings: usage errors, nothing written. */
	{
		static const char *const bad[] = { "nomapping", "p=bad/acct",
		    "=" FX_ACCOUNT, "p=", "role:=x", "a b=x" };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			fx_jit(&o, "--url", fx_base, "server-setup", "--dir", dir,
			    "--principals-for", bad[i], NULL);
			ck_assert_msg(o.status == 2, "%s: %d %s", bad[i],
			    o.status, o.err);
			tu_out_free(&o);
		}
		/* role: needs a fx_login. */
		fx_jit(&o, "--url", fx_base, "server-setup", "--dir", dir,
		    "--principals-for", "role:short=x", NULL);
		ck_assert_int_eq(o.status, 2);
		tu_out_free(&o);
		ck_assert_int_eq(entries(dir), 3);
	}
	/* A real run, twice: one block, the right files and modes. */
	fx_jit(&o, "--url", fx_base, "server-setup", "--dir", dir,
	    "--principals-for", "webops=" FX_ACCOUNT, "--principals-for",
	    "principal:dbops=" FX_ACCOUNT, NULL);
	ck_assert_msg(o.status == 0, "%s%s", o.out, o.err);
	ck_assert(tu_contains(o.out, "added the jitd block"));
	ck_assert(tu_contains(o.out, "not reloading sshd"));
	tu_out_free(&o);
	fx_jit(&o, "--url", fx_base, "server-setup", "--dir", dir,
	    "--principals-for", "webops=" FX_ACCOUNT, "--principals-for",
	    "principal:dbops=" FX_ACCOUNT, NULL);
	ck_assert_msg(o.status == 0, "%s%s", o.out, o.err);
	tu_out_free(&o);
	after = tu_read_file(config, NULL);
	ck_assert_int_eq(count(after, "# BEGIN jitd"), 1);
	ck_assert_int_eq(count(after, "# END jitd"), 1);
	ck_assert_int_eq(count(after, "HostKey "), 1);
	ck_assert(strncmp(after, "# BEGIN jitd", 12) == 0);
	free(after);
	p = tu_path(dir, "jitd_user_ca.pub");
	ck_assert_int_eq(mode_of(p), 0644);
	s = tu_read_file(p, NULL);
	ck_assert(strncmp(s, "ssh-ed25519 ", 12) == 0);
	free(s);
	free(p);
	p = tu_path(dir, "jitd_principals");
	ck_assert_int_eq(mode_of(p), 0755);
	free(p);
	p = tu_path(dir, "jitd_principals/" FX_ACCOUNT);
	ck_assert_int_eq(mode_of(p), 0644);
	s = tu_read_file(p, NULL);
	ck_assert_str_eq(s, "webops\ndbops\n");
	free(s);
	free(p);
	p = tu_path(dir, "jitd.krl");
	ck_assert_int_eq(mode_of(p), 0644);
	s = tu_read_file(p, &len1);
	ck_assert_int_eq(krlr_parse((uint8_t *)s, len1, NULL, 0, &k), JIT_OK);
	ck_assert(!krlr_is_signed(k));
	krlr_free(k);
	free(s);
	free(p);
	/* The real sshd accepts the result. */
	sshd_argv[0] = "/usr/sbin/sshd";
	sshd_argv[1] = "-t";
	sshd_argv[2] = "-f";
	sshd_argv[3] = config;
	sshd_argv[4] = NULL;
	ck_assert_int_eq(tu_run(sshd_argv, NULL, NULL, 30, &o), 0);
	ck_assert_msg(o.status == 0, "sshd -t: %s", o.err);
	tu_out_free(&o);
	/* A broken block is left for a human. */
	s = tu_read_file(config, &len1);
	p = strstr(s, "# END jitd");
	memcpy(p, "# XND", 5);
	tu_write_file(config, s, len1, 0644);
	fx_jit(&o, "--url", fx_base, "server-setup", "--dir", dir, NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.err, "unbalanced"));
	tu_out_free(&o);
	memcpy(p, "# END", 5);
	tu_write_file(config, s, len1, 0644);
	free(s);
	/* Logged in, role:ROLE maps the role's principals. */
	{
		char code[7], *pwf = tu_path(fx_tmp, "pw");

		tu_totp(fx_b32("carol"), time(NULL), code);
		fx_jit(&o, "--url", fx_base, "login", "--user", "carol",
		    "--password-file", pwf, "--otp", code, NULL);
		ck_assert_msg(o.status == 0, "login: %s", o.err);
		tu_out_free(&o);
		fx_jit(&o, "server-setup", "--dir", dir, "--principals-for",
		    "role:short=" FX_ACCOUNT, "--principals-for", "forced=root",
		    "--dry-run", NULL);
		ck_assert_msg(o.status == 0, "%s", o.err);
		ck_assert(tu_contains(o.out, "principals " FX_PRINC));
		tu_out_free(&o);
		free(pwf);
	}
	free(before);
	free(config);
	free(dir);
}
END_TEST

/* A stand-in broker serving whatever KRL and CA the test sets. */
static struct {
	uint8_t	*krl;
	size_t	 krllen;
	char	*ca;
} fake;

static enum MHD_Result
fake_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *uplen, void **ptr)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (strcmp(url, "/v1/ca/krl") == 0)
		resp = MHD_create_response_from_buffer(fake.krllen, fake.krl,
		    MHD_RESPMEM_MUST_COPY);
	else if (strcmp(url, "/v1/ca/ssh") == 0)
		resp = MHD_create_response_from_buffer(strlen(fake.ca),
		    fake.ca, MHD_RESPMEM_MUST_COPY);
	else
		resp = MHD_create_response_from_buffer(0, "",
		    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, strcmp(url, "/v1/ca/krl") == 0 ||
	    strcmp(url, "/v1/ca/ssh") == 0 ? 200 : 404, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
serve_krl(struct ca *ca, uint64_t version, const uint64_t *serials,
    size_t n, int sign)
{
	free(fake.krl);
	ck_assert_int_eq(ca_krl_build(ca, serials, n, version, time(NULL),
	    "test", sign, &fake.krl, &fake.krllen), JIT_OK);
}

START_TEST(krl_refresh)
{
	static const uint64_t serials[] = { 7, 9, 100 };
	struct MHD_Daemon *d;
	struct ca *ca = NULL, *other = NULL;
	struct krlr *k = NULL;
	struct tu_out o;
	char *dir = tu_path(fx_tmp, "ssh"), *krlp, *cap, url[64], *good, *s;
	size_t goodlen, len, i;
	int port = tu_free_port(), dead = tu_free_port();
	uint8_t *blob;
	char *keyp, *qargv[6];

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	ck_assert_int_eq(ca_generate("other CA", 1, &other), JIT_OK);
	ck_assert_ptr_nonnull(fake.ca = ca_ssh_pubkey_line(ca,
	    CA_SLOT_SSH_USER, "test CA"));
	ck_assert_ptr_nonnull(d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL,
	    fake_handler, NULL, MHD_OPTION_END));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	krlp = tu_path(dir, "jitd.krl");
	cap = tu_path(dir, "jitd_user_ca.pub");
	/* Without the CA key installed, nothing happens. */
	serve_krl(ca, 100, serials, 3, 1);
	fx_jit(&o, "--url", url, "krl-refresh", "--dir", dir, NULL);
	ck_assert_int_eq(o.status, 1);
	tu_out_free(&o);
	tu_write_file(cap, fake.ca, strlen(fake.ca), 0644);
	/* A good signed KRL: quiet, installed without its signature. */
	fx_jit(&o, "--url", url, "krl-refresh", "--dir", dir, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert_str_eq(o.out, "");
	tu_out_free(&o);
	good = tu_read_file(krlp, &goodlen);
	ck_assert_int_eq(mode_of(krlp), 0644);
	ck_assert_uint_lt(goodlen, fake.krllen);
	ck_assert(memcmp(good, fake.krl, goodlen) == 0);
	ck_assert_int_eq(krlr_parse((uint8_t *)good, goodlen, NULL, 0, &k),
	    JIT_OK);
	ck_assert(!krlr_is_signed(k));
	ck_assert_int_eq(krlr_version(k), 100);
	ck_assert(krlr_is_revoked(k, ca_ssh_pubkey(ca, CA_SLOT_SSH_USER), 9));
	ck_assert(!krlr_is_revoked(k, ca_ssh_pubkey(ca, CA_SLOT_SSH_USER), 8));
	ck_assert(!krlr_is_revoked(k, ca_ssh_pubkey(other, CA_SLOT_SSH_USER),
	    9));
	krlr_free(k);
	/* The reader: every truncation and any trailing byte is refused. */
	{
		struct sshc_cas cas;
		uint8_t *big;

		memset(&cas, 0, sizeof(cas));
		ck_assert_int_eq(sshc_cas_parse(fake.ca, strlen(fake.ca), &cas),
		    JIT_OK);
		ck_assert_int_eq(krlr_parse(fake.krl, fake.krllen, CAS(cas), &k),
		    JIT_OK);
		krlr_free(k);
		for (len = 1; len < fake.krllen; len++) {
			ck_assert_msg(krlr_parse(fake.krl, len, CAS(cas), &k) !=
			    JIT_OK, "prefix %zu accepted", len);
			ck_assert_ptr_null(k);
		}
		ck_assert_ptr_nonnull(big = malloc(fake.krllen + 1));
		memcpy(big, fake.krl, fake.krllen);
		big[fake.krllen] = 0;
		ck_assert_int_ne(krlr_parse(big, fake.krllen + 1, CAS(cas), &k),
		    JIT_OK);
		/* A flipped byte breaks the signature. */
		big[20] ^= 1;
		ck_assert_int_eq(krlr_parse(big, fake.krllen, CAS(cas), &k),
		    JIT_ERR_BAD_SIGNATURE);
		free(big);
	}
	/* ssh-keygen reads it (a key it does not list is "ok"). */
	keyp = fx_keygen("probe");
	s = tu_path(fx_tmp, "probe.pub");
	qargv[0] = "ssh-keygen";
	qargv[1] = "-Q";
	qargv[2] = "-f";
	qargv[3] = krlp;
	qargv[4] = s;
	qargv[5] = NULL;
	ck_assert_int_eq(tu_run(qargv, NULL, NULL, 30, &o), 0);
	ck_assert_msg(o.status == 0 && tu_contains(o.out, "ok"), "%d %s %s",
	    o.status, o.out, o.err);
	tu_out_free(&o);
	free(s);
	free(keyp);
	/* --verbose says one line. */
	fx_jit(&o, "--url", url, "krl-refresh", "--dir", dir, "--verbose", NULL);
	ck_assert_int_eq(o.status, 0);
	ck_assert_int_eq(count(o.out, "\n"), 1);
	ck_assert(tu_contains(o.out, "version 100"));
	tu_out_free(&o);
	/*
	 * Refused, the old file kept byte for byte: another CA's signature,
	 * no signature, truncated, garbage, older, unreachable.
	 */
	for (i = 0; i < 6; i++) {
		switch (i) {
		case 0:
			serve_krl(other, 200, serials, 1, 1);
			break;
		case 1:
			serve_krl(ca, 200, serials, 1, 0);
			break;
		case 2:
			serve_krl(ca, 200, serials, 2, 1);
			fake.krllen -= 10;
			break;
		case 3:
			memset(fake.krl, 'x', fake.krllen);
			break;
		case 4:
			serve_krl(ca, 99, serials, 1, 1);
			break;
		default:
			snprintf(url, sizeof(url), "http://127.0.0.1:%d", dead);
			break;
		}
		fx_jit(&o, "--url", url, "krl-refresh", "--dir", dir, NULL);
		ck_assert_msg(o.status == 1, "case %zu: %d", i, o.status);
		ck_assert_msg(tu_contains(o.err, "unchanged"), "case %zu: %s",
		    i, o.err);
		tu_out_free(&o);
		s = tu_read_file(krlp, &len);
		ck_assert_msg(len == goodlen && memcmp(s, good, len) == 0,
		    "case %zu changed the file", i);
		free(s);
	}
	/* A newer one from the right CA replaces it. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	serve_krl(ca, 101, NULL, 0, 1);
	fx_jit(&o, "--url", url, "krl-refresh", "--dir", dir, NULL);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	blob = (uint8_t *)tu_read_file(krlp, &len);
	ck_assert_int_eq(krlr_parse(blob, len, NULL, 0, &k), JIT_OK);
	ck_assert_int_eq(krlr_version(k), 101);
	ck_assert_int_eq(krlr_count(k), 0);
	krlr_free(k);
	free(blob);
	MHD_stop_daemon(d);
	free(fake.krl);
	free(fake.ca);
	memset(&fake, 0, sizeof(fake));
	ca_free(ca);
	ca_free(other);
	free(good);
	free(krlp);
	free(cap);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("server");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, server_setup);
	tcase_add_test(tc, krl_refresh);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
