# moat - top-level build.
#
#   make            build every program into build/bin
#   make test       install missing Debian packages, check the parameter table,
#                   build, run unit tests (plain and under ASan+UBSan), sandbox
#                   and integration tests
#   make run        install missing packages, build, run moat in the foreground
#                   on examples/run (127.0.0.1:2525)
#   make install    PREFIX=/usr/local DESTDIR= (no setuid/setgid files)
#   make fuzz       libFuzzer targets with clang into build/fuzz/bin
#   make fuzz-run   FUZZ_SECONDS=600 [FUZZ_TARGETS=...]: run them on their corpora
#   make bench      moat against a private Postfix instance, same run
#                   (BENCH_ARGS="--messages 300 --scenarios tables", "--verify")
#   make load       moat under 1,000 then 10,000 held hostile connections
#                   (banner time, throughput ratio, total PSS)
#   make clean
#
# Every directory of the layout is picked up by wildcard: a new .c file in a
# module joins libmoat.a, a new daemons/<stage>/ becomes build/bin/moat-<stage>,
# a new tools/<tool>/ becomes build/bin/<tool>, a new tests/unit/test_<x>.c a
# unit test. A program that links more libraries sets LDLIBS_<prog> here.

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/moat
CC ?= gcc
B ?= build
MODE_CFLAGS ?= -O2
MODE_LDFLAGS ?=
PYTEST ?= /usr/bin/python3 -m pytest

CFLAGS_ALL := -std=gnu11 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wno-format-nonliteral -D_GNU_SOURCE -I. $(MODE_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := -Wl,--as-needed $(MODE_LDFLAGS) $(LDFLAGS)
LDLIBS_ALL := -lseccomp -lcap

CORE_DIRS := lib mail queue ipc conf sandbox chroot-setup skeleton stagecf
CORE_SRCS := $(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c))
CORE_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(CORE_SRCS))

# Lookup tables (maps/) are a library of their own: only the programs in
# MAPS_PROGS (and the test_map_* unit tests) link it and Berkeley DB and PCRE2;
# no other stage carries a table parser or those libraries. moatd takes only
# maps/map_spec.o (which files a spec names) from it, so --as-needed leaves
# both libraries out of the root process (test_broker_links_no_table_code).
MAPS_SRCS := $(wildcard maps/*.c)
MAPS_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(MAPS_SRCS))
MAPS_LIBS := -ldb -lpcre2-8
MAPS_PROGS := moatmap moat-lookup moatd
$(foreach p,$(MAPS_PROGS),$(eval PRELIBS_$(p) := $(B)/libmoatmaps.a)$(eval LDLIBS_$(p) += $(MAPS_LIBS)))

# TLS (tls/: Postfix's TLS vocabulary over OpenSSL 3) is a library of its
# own too: only the programs in TLS_PROGS and the test_tls_* unit tests link
# it and libssl/libcrypto; a stage that does no TLS carries no OpenSSL.
TLS_SRCS := $(wildcard tls/*.c)
TLS_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(TLS_SRCS))
TLS_LIBS := -lssl -lcrypto
TLS_PROGS := moat-smtp moat-smtpd moat-tlskey
$(foreach p,$(TLS_PROGS),$(eval PRELIBS_$(p) += $(B)/libmoattls.a)$(eval LDLIBS_$(p) += $(TLS_LIBS)))

STAGES := $(filter-out broker,$(notdir $(wildcard daemons/*)))
TOOLS := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/*.c)))))
PROGS := $(B)/bin/moatd $(addprefix $(B)/bin/moat-,$(STAGES)) $(addprefix $(B)/bin/,$(TOOLS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

.PHONY: all test run install clean deps unit unit-asan build-hooks integration fuzz fuzz-bins fuzz-run \
	fuzz-merge fuzz-seeds bench load check-params
all: $(PROGS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(B)/libmoat.a: $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(B)/libmoatmaps.a: $(MAPS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(B)/libmoattls.a: $(TLS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# prog_rule(binary name, source dir)
define prog_rule
$(B)/bin/$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard $(2)/*.c)) $(PRELIBS_$(1)) $(B)/libmoat.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$(filter %.o,$$^) $(PRELIBS_$(1)) $(B)/libmoat.a $$(LDLIBS_$(1)) $$(LDLIBS_ALL)
endef
$(eval $(call prog_rule,moatd,daemons/broker))
$(foreach s,$(STAGES),$(eval $(call prog_rule,moat-$(s),daemons/$(s))))
$(foreach t,$(TOOLS),$(eval $(call prog_rule,$(t),tools/$(t))))

# Kept, not deleted as intermediates: a second `make unit` rebuilds nothing.
.SECONDARY: $(patsubst tests/unit/%.c,$(B)/obj/tests/unit/%.o,$(UNIT_SRCS))
$(B)/tests/%: $(B)/obj/tests/unit/%.o $(B)/libmoat.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(B)/libmoat.a -lcmocka $(LDLIBS_ALL)

MAP_UNIT_BINS := $(filter $(B)/tests/test_map_%,$(UNIT_BINS))
$(MAP_UNIT_BINS): $(B)/tests/%: $(B)/obj/tests/unit/%.o $(B)/libmoatmaps.a $(B)/libmoat.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(B)/libmoatmaps.a $(B)/libmoat.a -lcmocka $(MAPS_LIBS) $(LDLIBS_ALL)

TLS_UNIT_BINS := $(filter $(B)/tests/test_tls_%,$(UNIT_BINS))
$(TLS_UNIT_BINS): $(B)/tests/%: $(B)/obj/tests/unit/%.o $(B)/libmoattls.a $(B)/libmoat.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(B)/libmoattls.a $(B)/libmoat.a -lcmocka $(TLS_LIBS) $(LDLIBS_ALL)

deps:
	@sh tools/install-deps.sh

# Unit tests: plain build, then the same tests under ASan+UBSan.
unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

unit-asan:
	$(MAKE) B=build/asan MODE_CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		MODE_LDFLAGS="-fsanitize=address,undefined" unit

# A build whose stages honour MOAT_TEST_ATTACK after confinement (sandbox tests).
build-hooks:
	$(MAKE) B=$(B)/hooks MODE_CFLAGS="-O2 -DMOAT_TEST_HOOKS" all

integration: all build-hooks
	cd tests/integration && MOAT_BUILD=$(CURDIR)/build MOAT_HOOKS_BUILD=$(CURDIR)/build/hooks $(PYTEST) -q -p no:cacheprovider .

# Every parameter the table declares implemented is read by some code.
check-params:
	/usr/bin/python3 tests/check_params.py

test: deps
	$(MAKE) check-params
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) integration

run: deps all
	sh examples/run/run.sh $(CURDIR)/build/bin

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(B)/bin/moatd $(filter-out $(B)/bin/moatd $(B)/bin/moat-%,$(PROGS)) $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(filter $(B)/bin/moat-%,$(PROGS)) $(DESTDIR)$(LIBEXECDIR)/

# Fuzzing: one libFuzzer binary per tests/fuzz/fuzz_<x>.c, linked with
# libmoat.a and, for a pure parser that lives in a stage directory, that one
# file (FUZZ_SRCS_<target> in tests/fuzz/build.mk). fuzz-run runs every target
# (or FUZZ_TARGETS) for FUZZ_SECONDS on a scratch copy of its corpus, FUZZ_JOBS
# at a time; fuzz-merge does the same, then minimises what found new coverage
# back into tests/fuzz/corpus/ (see tests/fuzz/run.sh); fuzz-seeds rewrites
# the seeds that are generated.
include tests/fuzz/build.mk
FUZZ_ALL := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_CFLAGS := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
fuzz:
	$(MAKE) B=build/fuzz CC=clang MODE_CFLAGS="$(FUZZ_CFLAGS)" \
		MODE_LDFLAGS="-fsanitize=fuzzer,address,undefined" fuzz-bins
fuzz-bins: $(addprefix $(B)/bin/,$(FUZZ_ALL))
define fuzz_rule
$(B)/bin/$(1): $(B)/obj/tests/fuzz/$(1).o $(patsubst %.c,$(B)/obj/%.o,$(FUZZ_SRCS_$(1))) $(B)/libmoat.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$(filter %.o,$$^) $(B)/libmoat.a $(LDLIBS_ALL)
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call fuzz_rule,$(t))))
# Seed corpora: tests/fuzz/seeds.py writes the hand-made ones, seed_queue
# the queue files and status logs, with the real writers.
fuzz-seeds: $(B)/fuzz-seed/seed_queue
	/usr/bin/python3 tests/fuzz/seeds.py tests/fuzz/corpus
	$(B)/fuzz-seed/seed_queue tests/fuzz/corpus
$(B)/fuzz-seed/seed_queue: $(B)/obj/tests/fuzz/seed_queue.o $(B)/libmoat.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(B)/libmoat.a $(LDLIBS_ALL)
fuzz-run: fuzz
	sh tests/fuzz/run.sh -j $(FUZZ_JOBS) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-merge: fuzz
	sh tests/fuzz/run.sh -m -j $(FUZZ_JOBS) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: deps all
	sh bench/run.sh $(CURDIR)/build/bin $(BENCH_ARGS)

load: deps all
	/usr/bin/python3 bench/load.py $(CURDIR)/build/bin

clean:
	rm -rf build

-include $(CORE_OBJS:.o=.d) $(MAPS_OBJS:.o=.d) $(wildcard $(B)/obj/daemons/*/*.d $(B)/obj/tools/*/*.d $(B)/obj/tests/*/*.d)
