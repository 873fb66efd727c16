/*
 * Every harness of tests/fuzz/, as an X-macro: X(name) for
 * tests/fuzz/<name>_fuzz.c with its corpus in tests/fuzz/corpus/<name>/.
 * The Makefile finds harnesses by wildcard; check_fuzz_replay.c checks
 * that this list and the files agree.
 */
#define FUZZ_TARGETS(X)	\
	X(sshkey)	\
	X(sshcert)	\
	X(csr)		\
	X(krl)		\
	X(audit)	\
	X(jwt)		\
	X(jwks)		\
	X(config)	\
	X(body)		\
	X(slack)
