/*
 * One libFuzzer harness per parser.  A harness is written once with
 *
 *	FUZZ_INIT(name) { ...one-time setup, may be empty... }
 *	FUZZ_TARGET(name) { ...one input...; return 0; }
 *
 * which define name_fuzz_init() and name_fuzz_one(), uniquely named so that
 * every harness links into one test binary (tests/fuzz/check_fuzz_replay.c
 * replays each corpus in `make test`).  Built for libFuzzer (-DJIT_LIBFUZZER,
 * `make fuzz`), FUZZ_TARGET also emits LLVMFuzzerInitialize and
 * LLVMFuzzerTestOneInput calling them, one harness per binary.
 *
 * A harness aborts (FUZZ_ASSERT) when a round trip disagrees, so a broken
 * invariant is a finding like a sanitizer report.
 */
#ifndef JIT_TESTS_FUZZ_H
#define JIT_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(e) do {						\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n",	\
		    __FILE__, __LINE__, #e);				\
		abort();						\
	}								\
} while (0)

#define FUZZ_INIT(name)							\
	void name##_fuzz_init(void);					\
	void name##_fuzz_init(void)

#ifdef JIT_LIBFUZZER
#define FUZZ_LIBFUZZER_GLUE(name)					\
	int LLVMFuzzerInitialize(int *argc, char ***argv);		\
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);	\
	int LLVMFuzzerInitialize(int *argc, char ***argv)		\
	{								\
		(void)argc;						\
		(void)argv;						\
		name##_fuzz_init();					\
		return 0;						\
	}								\
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)	\
	{								\
		return name##_fuzz_one(data, size);			\
	}
#else
#define FUZZ_LIBFUZZER_GLUE(name)
#endif

#define FUZZ_TARGET(name)						\
	int name##_fuzz_one(const uint8_t *data, size_t size);		\
	FUZZ_LIBFUZZER_GLUE(name)					\
	int name##_fuzz_one(const uint8_t *data, size_t size)

/*
 * Runs init once, then fn over every regular file of dir (sorted by name,
 * so runs are reproducible).  Returns the number of files run, or -1 if
 * dir cannot be read.  A crash is the caller's signal; fn's return value
 * is ignored as libFuzzer ignores it.  (tests/fuzz/replay.c)
 */
typedef int (*fuzz_one_fn)(const uint8_t *data, size_t size);
long fuzz_replay_dir(const char *dir, fuzz_one_fn fn, int verbose);

/* Copies data into a malloc'd NUL-terminated string (abort on ENOMEM). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
