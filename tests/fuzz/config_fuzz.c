/*
 * The config file: config_load_buffer on the input, as if read from
 * /nonexistent/jitd/jitd.json (relative paths in it then name nothing, so
 * the files a config refers to are never found and never written).  A
 * config that loads is released; its principals are matched once.
 */
#include "broker/config.h"
#include "common/err.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_CONFIG_PATH "/nonexistent/jitd/jitd.json"

FUZZ_INIT(config)
{
}

FUZZ_TARGET(config)
{
	struct config *c = NULL;
	char *err = NULL;
	int r;

	r = config_load_buffer(FUZZ_CONFIG_PATH, data, size, &c, &err);
	if (r == JIT_OK) {
		FUZZ_ASSERT(c != NULL && err == NULL);
		(void)config_principal_match(c->auditors, c->nauditors,
		    "alice", "eng,ops");
		FUZZ_ASSERT(config_ref(c) == c);
		config_unref(c);
		config_unref(c);
	} else {
		FUZZ_ASSERT(c == NULL);
		free(err);
	}
	return 0;
}
