# jitd build.  `make` builds every program into bin/; `make test` installs
# what it needs, then runs the whole suite twice: a normal build and one
# under AddressSanitizer + UndefinedBehaviorSanitizer.  `make run` starts a
# demo instance under ./var.  `make bench` prints benchmark ratios.
#
# Sources are found by wildcard: every .c in a module directory belongs to
# that module's library, except program entry points named main_*.c.
# Every tests/<dir>/check_*.c becomes one test binary.

VARIANT	?= release
CC	?= cc
PKGS	 = openssl libsodium libssh jansson libmicrohttpd sqlite3 libpq libcurl check

ifeq ($(VARIANT),asan)
BUILD	 = build/asan
BIN	 = build/asan/bin
OPT	 = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
else ifeq ($(VARIANT),fuzz)
# Only for `make fuzz`: everything instrumented for libFuzzer.
CC	 = clang
BUILD	 = build/fuzz
BIN	 = build/fuzz/bin
OPT	 = -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	   -fno-omit-frame-pointer -fno-sanitize-recover=all -DJIT_LIBFUZZER
# clang warns where gcc does not (-Wformat-nonliteral); gcc's -Werror
# build is the gate, this one only has to build.
VARIANT_CFLAGS = -Wno-error
else
BUILD	 = build/release
BIN	 = bin
OPT	 = -O2 -g -D_FORTIFY_SOURCE=2
endif

WARN	 = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	   -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS	+= -std=c11 -D_GNU_SOURCE -I. $(OPT) $(WARN) -fstack-protector-strong \
	   -fPIE $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(VARIANT_CFLAGS)
LDFLAGS	+= $(OPT) -pie -Wl,-z,relro,-z,now
LDLIBS	 = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm -lutil

MODULES	 = common ca approvals broker clients
lib_srcs = $(filter-out $(1)/main_%.c,$(wildcard $(1)/*.c))
lib_objs = $(patsubst %.c,$(BUILD)/%.o,$(call lib_srcs,$(1)))

LIB_common	= $(BUILD)/libjitcommon.a
LIB_ca		= $(BUILD)/libjitca.a
LIB_approvals	= $(BUILD)/libjitapprovals.a
LIB_broker	= $(BUILD)/libjitbroker.a
LIB_clients	= $(BUILD)/libjitclients.a
# Link order: dependants first.
ALL_LIBS	= $(LIB_broker) $(LIB_clients) $(LIB_approvals) $(LIB_ca) \
		  $(LIB_common)

MAINS	 = $(wildcard $(addsuffix /main_*.c,$(MODULES)))
PROGS	 = $(patsubst main_%,%,$(basename $(notdir $(MAINS))))
PROG_BINS = $(addprefix $(BIN)/,$(subst _,-,$(PROGS)))

TEST_SRCS = $(wildcard tests/*/check_*.c)
TEST_LIB  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))
TEST_BINS = $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))

# libFuzzer harnesses, tests/fuzz/<name>_fuzz.c (see tests/fuzz/fuzz.h).
# In every build they are linked under unique names into
# tests/fuzz/check_fuzz_replay, which replays tests/fuzz/corpus/<name>/;
# `make fuzz` builds each as its own libFuzzer binary and runs it.
FUZZ_SRCS  = $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_NAMES = $(patsubst tests/fuzz/%_fuzz.c,%,$(FUZZ_SRCS))
FUZZ_OBJS  = $(patsubst %.c,$(BUILD)/%.o,$(FUZZ_SRCS)) \
	     $(BUILD)/tests/fuzz/replay.o
FUZZ_BINS  = $(addprefix $(BUILD)/bin/,$(addsuffix _fuzz,$(FUZZ_NAMES)))
FUZZ_SECONDS ?= 30
# -max_len per harness (default 4096).
FUZZ_MAXLEN_sshkey  = 16384
FUZZ_MAXLEN_sshcert = 16384
FUZZ_MAXLEN_csr     = 8192
FUZZ_MAXLEN_krl     = 8192
FUZZ_MAXLEN_audit   = 16384
FUZZ_MAXLEN_jwt     = 8192
FUZZ_MAXLEN_jwks    = 16384
FUZZ_MAXLEN_config  = 16384

.PHONY: all deps test check test-asan run bench soak clean fmt fuzz fuzz-run \
	fuzz-replay
.SECONDARY:

all: $(PROG_BINS)

deps:
	@sh scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

define lib_rule
$$(LIB_$(1)): $$(call lib_objs,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	$$(if $$^,ar rcs $$@ $$^,ar rcs $$@)
endef
$(foreach m,$(MODULES),$(eval $(call lib_rule,$(m))))

# bin/jit-ca is built from ca/main_jit_ca.c, and so on.
define prog_rule
$(BIN)/$(subst _,-,$(1)): $(BUILD)/$(dir $(filter %/main_$(1).c,$(MAINS)))main_$(1).o $(ALL_LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $(ALL_LIBS) $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_LIB) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIB) $(ALL_LIBS) $(LDLIBS)

$(BUILD)/tests/fuzz/check_fuzz_replay: \
    $(BUILD)/tests/fuzz/check_fuzz_replay.o $(FUZZ_OBJS) $(TEST_LIB) \
    $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(FUZZ_OBJS) $(TEST_LIB) $(ALL_LIBS) $(LDLIBS)

# Runs every test binary of this VARIANT; a failing binary fails the target
# after the others have run.
check: $(PROG_BINS) $(TEST_BINS)
	@fail=0; for t in $(TEST_BINS); do \
		echo "== $$t"; start=$$(date +%s); \
		JIT_BIN=$(CURDIR)/$(BIN) JIT_SRC=$(CURDIR) CK_DEFAULT_TIMEOUT=120 \
		    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		    $$t || fail=1; \
		echo "== $$t: $$(( $$(date +%s) - start )) s"; \
	done; \
	if [ $$fail -ne 0 ]; then echo "check ($(VARIANT)): FAILED"; exit 1; fi; \
	echo "check ($(VARIANT)): all test binaries passed"

test-asan: deps
	$(MAKE) VARIANT=asan check

test: deps
	$(MAKE) VARIANT=release check
	$(MAKE) VARIANT=asan check

# Fuzzes each harness for FUZZ_SECONDS on a copy of its seed corpus
# (build/fuzz/corpus/<name>, which keeps what libFuzzer adds); crashes
# land in build/fuzz/new/<name>/, never in the source tree.  Reproduce
# one with build/fuzz/bin/<name>_fuzz FILE; a real bug's input then goes
# into tests/fuzz/corpus/<name>/ as a regression test.
fuzz: deps
	$(MAKE) VARIANT=fuzz fuzz-run

fuzz-run: $(FUZZ_BINS)
	@for n in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus/$$n build/fuzz/new/$$n; \
		cp tests/fuzz/corpus/$$n/* build/fuzz/corpus/$$n/; \
	done
	@fail=0; $(foreach n,$(FUZZ_NAMES),\
		echo "== fuzz $(n) for $(FUZZ_SECONDS)s"; \
		ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(BUILD)/bin/$(n)_fuzz -max_total_time=$(FUZZ_SECONDS) \
		    -max_len=$(or $(FUZZ_MAXLEN_$(n)),4096) -timeout=20 \
		    -rss_limit_mb=4096 -print_final_stats=1 \
		    -artifact_prefix=build/fuzz/new/$(n)/ \
		    build/fuzz/corpus/$(n) >build/fuzz/new/$(n).log 2>&1 \
		    || { fail=1; echo "fuzz $(n): FINDING, see" \
			"build/fuzz/new/$(n).log and build/fuzz/new/$(n)/"; }; \
		grep -h '^stat::number_of_executed_units\|^#.*DONE' \
		    build/fuzz/new/$(n).log | tail -2;) \
	if [ $$fail -ne 0 ]; then echo "fuzz: FINDINGS"; exit 1; fi; \
	echo "fuzz: no findings"

$(BUILD)/bin/%_fuzz: $(BUILD)/tests/fuzz/%_fuzz.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(ALL_LIBS) $(LDLIBS)

# Standalone replay drivers (tests/fuzz/replay.c) in this VARIANT:
# $(BUILD)/tests/fuzz/<name>_replay FILE-OR-DIR...
fuzz-replay: $(patsubst %,$(BUILD)/tests/fuzz/%_replay,$(FUZZ_NAMES))

$(BUILD)/tests/fuzz/%_replay: tests/fuzz/%_fuzz.c tests/fuzz/replay.c \
    $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DJIT_LIBFUZZER -DFUZZ_REPLAY_MAIN $(LDFLAGS) -o $@ \
	    tests/fuzz/$*_fuzz.c tests/fuzz/replay.c $(ALL_LIBS) $(LDLIBS)

run: deps
	$(MAKE) VARIANT=release all
	sh scripts/run.sh

# The long form of the crash and replica tests (docs/SECURITY.md):
# SOAK_ROUNDS kill -9 rounds under load, then the replica workload with
# its leader killed SOAK_REPEAT times.  Never part of `make test`.
SOAK_ROUNDS	?= 200
SOAK_REPEAT	?= 10

soak: deps
	$(MAKE) VARIANT=release all $(BUILD)/tests/integration/check_crash \
	    $(BUILD)/tests/pg/check_pg_replicas
	JIT_BIN=$(CURDIR)/$(BIN) JIT_SRC=$(CURDIR) CK_TIMEOUT_MULTIPLIER=20 \
	    JIT_CRASH_ROUNDS=$(SOAK_ROUNDS) $(BUILD)/tests/integration/check_crash
	@set -e; i=0; while [ $$i -lt $(SOAK_REPEAT) ]; do \
		i=$$((i + 1)); echo "== check_pg_replicas, run $$i"; \
		JIT_BIN=$(CURDIR)/$(BIN) JIT_SRC=$(CURDIR) \
		    $(BUILD)/tests/pg/check_pg_replicas; \
	done

# Benchmarks (docs/BENCHMARKS.md): BENCH_ONLY picks some of them, e.g.
# `make bench BENCH_ONLY="issue login"`; the BENCH_* knobs of each are in
# docs/BENCHMARKS.md.  Never part of `make test`.
BENCH_ALL	 = ca issue login notify audit replicas
BENCH_ONLY	?= $(BENCH_ALL)
BENCH_BINS	 = $(patsubst %,$(BUILD)/tests/bench/bench_%,$(BENCH_ALL))

bench: deps
	$(MAKE) VARIANT=release all $(BENCH_BINS)
	@set -e; for b in $(BENCH_ONLY); do \
		echo "== bench_$$b"; \
		JIT_BIN=$(CURDIR)/$(BIN) $(BUILD)/tests/bench/bench_$$b; \
	done

$(BUILD)/tests/bench/%: $(BUILD)/tests/bench/%.o \
    $(BUILD)/tests/bench/benchlib.o $(TEST_LIB) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/tests/bench/benchlib.o $(TEST_LIB) \
	    $(ALL_LIBS) $(LDLIBS)

fmt:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c tests/*/*.h)

clean:
	rm -rf build bin

# Install: `make install [DESTDIR=/tmp/stage] [PREFIX=/usr/local]`.  Programs
# from the release build, man pages, the approver web page (where jitd init
# finds it: PREFIX/share/jitd/web), the systemd units (PREFIX substituted)
# and the documentation.  No root needed when DESTDIR is set.
PREFIX	?= /usr/local
BINDIR	 = $(PREFIX)/bin
MANDIR	 = $(PREFIX)/share/man
WEBDIR	 = $(PREFIX)/share/jitd/web
DOCDIR	 = $(PREFIX)/share/doc/jitd
UNITDIR	?= /lib/systemd/system
INSTALL	?= install
UNITS	 = $(wildcard contrib/systemd/*.service contrib/systemd/*.timer)
WEB_FILES = $(filter-out %~,$(wildcard clients/web/*))

.PHONY: install
install: all
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(WEBDIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 0755 $(PROG_BINS) $(DESTDIR)$(BINDIR)
	for m in $(wildcard man/*.[18]); do \
		d=$(DESTDIR)$(MANDIR)/man$${m##*.}/$$(basename $$m); \
		sed 's|@PREFIX@|$(PREFIX)|g' $$m > $$d.tmp && chmod 0644 $$d.tmp && \
		mv -f $$d.tmp $$d || exit 1; \
	done
	$(INSTALL) -m 0644 $(WEB_FILES) $(DESTDIR)$(WEBDIR)
	$(INSTALL) -m 0644 README.md $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)
	for u in $(UNITS); do \
		sed 's|@PREFIX@|$(PREFIX)|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done

-include $(shell find build -name '*.d' 2>/dev/null)
