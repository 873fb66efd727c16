/*
 * Deployment: `make install DESTDIR=... PREFIX=/usr/local` lays out the
 * programs, man pages (rendered by groff without warnings), the approver
 * web page, the systemd units with the prefix filled in, and the docs; the
 * installed jitd init finds the web page under PREFIX/share/jitd/web.  The
 * jitd unit must pass `systemd-analyze verify` and keep an exposure of at
 * most 2.0 in `systemd-analyze security --offline=yes` (skipped, saying
 * so, where systemd-analyze is absent).
 */
#include <sys/stat.h>

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/testutil.h"

/* Returns 1 if prog is an executable found in PATH. */
static int
in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *p;
	int found = 0;

	if (path == NULL)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	copy = strdup(path);
	ck_assert_ptr_nonnull(copy);
	for (dir = strtok_r(copy, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		p = tu_path(dir, prog);
		found = access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}

static const char *
src_dir(void)
{
	const char *s = getenv("JIT_SRC");

	ck_assert_msg(s != NULL, "JIT_SRC must name the source tree");
	return s;
}

static void
assert_mode(const char *root, const char *rel, mode_t mode)
{
	struct stat sb;
	char *p = tu_path(root, rel);

	ck_assert_msg(stat(p, &sb) == 0, "%s was not installed", rel);
	ck_assert_msg(S_ISREG(sb.st_mode), "%s is not a file", rel);
	ck_assert_msg((sb.st_mode & 07777) == mode, "%s has mode %o, not %o",
	    rel, (unsigned)(sb.st_mode & 07777), (unsigned)mode);
	free(p);
}

/* Replaces every "@PREFIX@" in text by prefix; malloc'd. */
static char *
subst_prefix(const char *text, const char *prefix)
{
	size_t n = 0, cap = strlen(text) * 4 + strlen(prefix) * 16 + 1;
	char *out = malloc(cap);
	const char *p = text, *q;

	ck_assert_ptr_nonnull(out);
	while ((q = strstr(p, "@PREFIX@")) != NULL) {
		ck_assert(n + (size_t)(q - p) + strlen(prefix) < cap);
		memcpy(out + n, p, (size_t)(q - p));
		n += (size_t)(q - p);
		memcpy(out + n, prefix, strlen(prefix));
		n += strlen(prefix);
		p = q + strlen("@PREFIX@");
	}
	ck_assert(n + strlen(p) < cap);
	memcpy(out + n, p, strlen(p) + 1);
	return out;
}

START_TEST(deploy_install)
{
	static const char *const bins[] = { "jitd", "jit", "jit-ca",
	    "jit-session" };
	static const char *const mans[] = { "man1/jit.1", "man8/jitd.8",
	    "man8/jit-ca.8", "man8/jit-session.8" };
	static const char *const web[] = { "index.html", "app.js",
	    "style.css" };
	static const char *const units[] = { "jitd.service",
	    "jit-krl-refresh.service", "jit-krl-refresh.timer" };
	char *root = tu_mkdtemp("deploy"), *inst = tu_mkdtemp("deploy-inst");
	char *destarg = NULL, *rel = NULL, *p, *text, *dir, *want = NULL;
	char real[PATH_MAX];
	struct tu_out o;
	size_t i;
	char *env[] = { "MAKEFLAGS=", "MAKELEVEL=", "MFLAGS=", NULL };

	ck_assert(asprintf(&destarg, "DESTDIR=%s", root) != -1);
	{
		char *argv[] = { "make", "-s", "-C", (char *)src_dir(),
		    "install", destarg, "PREFIX=/usr/local",
		    "VARIANT=release", NULL };

		ck_assert_int_eq(tu_run(argv, NULL, env, 900, &o), 0);
		ck_assert_msg(o.status == 0, "make install failed: %s%s",
		    o.out, o.err);
		tu_out_free(&o);
	}
	for (i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		ck_assert(asprintf(&rel, "usr/local/bin/%s", bins[i]) != -1);
		assert_mode(root, rel, 0755);
		free(rel);
	}
	for (i = 0; i < sizeof(web) / sizeof(web[0]); i++) {
		ck_assert(asprintf(&rel, "usr/local/share/jitd/web/%s",
		    web[i]) != -1);
		assert_mode(root, rel, 0644);
		free(rel);
	}
	assert_mode(root, "usr/local/share/doc/jitd/OPERATIONS.md", 0644);
	assert_mode(root, "usr/local/share/doc/jitd/README.md", 0644);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		ck_assert(asprintf(&rel, "lib/systemd/system/%s", units[i]) !=
		    -1);
		assert_mode(root, rel, 0644);
		p = tu_path(root, rel);
		text = tu_read_file(p, NULL);
		ck_assert_msg(!tu_contains(text, "@PREFIX@"),
		    "%s: @PREFIX@ left", rel);
		free(text);
		free(p);
		free(rel);
	}
	p = tu_path(root, "lib/systemd/system/jitd.service");
	text = tu_read_file(p, NULL);
	ck_assert(tu_contains(text, "\nExecStart=/usr/local/bin/jitd -c "
	    "/var/lib/jitd/jitd.json serve\n"));
	ck_assert(tu_contains(text, "\nUser=jitd\n"));
	free(text);
	free(p);

	/* Man pages: installed, prefix filled in, no groff warnings. */
	for (i = 0; i < sizeof(mans) / sizeof(mans[0]); i++) {
		ck_assert(asprintf(&rel, "usr/local/share/man/%s", mans[i]) !=
		    -1);
		assert_mode(root, rel, 0644);
		p = tu_path(root, rel);
		text = tu_read_file(p, NULL);
		ck_assert_msg(!tu_contains(text, "@PREFIX@"), "%s", rel);
		free(text);
		if (in_path("groff")) {
			char *argv[] = { "groff", "-man", "-Tutf8", "-ww",
			    "-P-cbu", p, NULL };

			ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
			ck_assert_msg(o.status == 0 && o.err[0] == '\0',
			    "groff on %s: %s", rel, o.err);
			ck_assert(tu_contains(o.out, "NAME"));
			ck_assert(tu_contains(o.out, "SYNOPSIS"));
			ck_assert(tu_contains(o.out, "EXIT STATUS"));
			tu_out_free(&o);
		} else
			fprintf(stderr, "check_deploy: groff not installed; "
			    "%s not rendered\n", rel);
		free(p);
		free(rel);
	}

	/* The installed jitd init points web_root at PREFIX/share/jitd/web. */
	dir = tu_path(inst, "i");
	p = tu_path(root, "usr/local/bin/jitd");
	{
		char *argv[] = { p, "init", dir, NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 120, &o), 0);
		ck_assert_msg(o.status == 0, "jitd init: %s", o.err);
		tu_out_free(&o);
	}
	free(p);
	p = tu_path(root, "usr/local/share/jitd/web");
	ck_assert_ptr_nonnull(realpath(p, real));
	free(p);
	ck_assert(asprintf(&want, "\"web_root\": \"%s\"", real) != -1);
	p = tu_path(dir, "jitd.json");
	text = tu_read_file(p, NULL);
	ck_assert_msg(tu_contains(text, want), "jitd.json lacks %s", want);
	free(text);
	free(p);
	free(want);
	free(dir);
	free(destarg);
	tu_rmdir(root);
	tu_rmdir(inst);
	free(root);
	free(inst);
}
END_TEST

START_TEST(deploy_systemd_units)
{
	static const char *const units[] = { "jitd.service",
	    "jit-krl-refresh.service", "jit-krl-refresh.timer" };
	char *dir, *bin, *prefix, *text, *out, *paths[3], *s;
	struct tu_out o;
	double exposure = 99;
	size_t i;

	if (!in_path("systemd-analyze")) {
		fprintf(stderr, "check_deploy: SKIPPED deploy_systemd_units: "
		    "systemd-analyze is not installed\n");
		return;
	}
	dir = tu_mkdtemp("deploy-units");
	/* ExecStart must name an existing program: our build's. */
	bin = tu_bin("jitd");
	prefix = strdup(bin);
	ck_assert_ptr_nonnull(prefix);
	*strrchr(prefix, '/') = '\0';		/* .../bin */
	*strrchr(prefix, '/') = '\0';		/* its parent */
	for (i = 0; i < 3; i++) {
		char *src = NULL;

		ck_assert(asprintf(&src, "%s/contrib/systemd/%s", src_dir(),
		    units[i]) != -1);
		text = tu_read_file(src, NULL);
		out = subst_prefix(text, prefix);
		paths[i] = tu_path(dir, units[i]);
		tu_write_file(paths[i], out, strlen(out), 0644);
		free(out);
		free(text);
		free(src);
	}
	{
		char *argv[] = { "systemd-analyze", "verify", "--man=no",
		    paths[0], paths[1], paths[2], NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
		ck_assert_msg(o.status == 0, "systemd-analyze verify: %s%s",
		    o.out, o.err);
		tu_out_free(&o);
	}
	{
		/* --threshold is the exposure times 10: fail above 2.0. */
		char *argv[] = { "systemd-analyze", "security",
		    "--offline=yes", "--threshold=20", "--no-pager", paths[0],
		    NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
		s = strstr(o.out, "Overall exposure level for jitd.service:");
		ck_assert_msg(s != NULL, "no rating: %s%s", o.out, o.err);
		exposure = strtod(s + strlen("Overall exposure level for "
		    "jitd.service:"), NULL);
		fprintf(stderr, "check_deploy: jitd.service exposure %.1f\n",
		    exposure);
		ck_assert_msg(o.status == 0 && exposure <= 2.0,
		    "exposure %.1f above 2.0 (status %d)", exposure, o.status);
		tu_out_free(&o);
	}
	for (i = 0; i < 3; i++)
		free(paths[i]);
	free(prefix);
	free(bin);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("deploy");
	TCase *tc = tcase_create("deploy");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, deploy_install);
	tcase_add_test(tc, deploy_systemd_units);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
