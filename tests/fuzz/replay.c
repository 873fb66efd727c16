/*
 * Corpus replay, SQLite fuzzcheck style: runs a harness over every file of
 * a directory without libFuzzer, under whatever sanitizers the build has.
 * Linked into check_fuzz_replay (make test) and, with -DFUZZ_REPLAY_MAIN
 * and -DJIT_LIBFUZZER, into build/fuzz/bin/<name>_replay: a main() that
 * reproduces a libFuzzer finding ("<name>_replay FILE-OR-DIR...").
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

#define REPLAY_FILE_MAX	(4 * 1024 * 1024)

static int
read_all(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	size_t n;

	if (f == NULL)
		return -1;
	/* One extra byte detects oversized files. */
	if ((b = malloc(REPLAY_FILE_MAX + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(b, 1, REPLAY_FILE_MAX + 1, f);
	fclose(f);
	if (n > REPLAY_FILE_MAX) {
		free(b);
		return -1;
	}
	/* Exactly n bytes, so ASan sees reads past the input. */
	*out = malloc(n > 0 ? n : 1);
	if (*out == NULL) {
		free(b);
		return -1;
	}
	memcpy(*out, b, n);
	free(b);
	*len = n;
	return 0;
}

static int
run_file(const char *path, fuzz_one_fn fn, int verbose)
{
	uint8_t *d;
	size_t n;

	if (read_all(path, &d, &n) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return -1;
	}
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	(void)fn(d, n);
	free(d);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

long
fuzz_replay_dir(const char *dir, fuzz_one_fn fn, int verbose)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char **names = NULL, **nn, path[4096];
	size_t n = 0, cap = 0, i;
	long ran = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nn = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				abort();
			names = nn;
		}
		if ((names[n++] = strdup(e->d_name)) == NULL)
			abort();
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(path, fn, verbose) == 0)
			ran++;
		free(names[i]);
	}
	free(names);
	return ran;
}

#ifdef FUZZ_REPLAY_MAIN
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	struct stat st;
	long n, total = 0;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			if ((n = fuzz_replay_dir(argv[i],
			    LLVMFuzzerTestOneInput, 1)) < 0)
				return 1;
			total += n;
		} else if (run_file(argv[i], LLVMFuzzerTestOneInput, 1) == 0)
			total++;
		else
			return 1;
	}
	fprintf(stderr, "replay: %ld inputs ran without a finding\n", total);
	return 0;
}
#endif
