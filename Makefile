# raftfleet build. Every output goes under $(BUILD); sources are discovered by
# convention so that adding a module never means editing this file:
#   core/**/*.c                 -> $(BUILD)/lib/libraftfleet.a   (pure core)
#   sim|prod|reports/**/*.c     -> $(BUILD)/lib/libfleet<room>.a (minus cmd/)
#   <room>/cmd/NAME.c           -> $(BUILD)/bin/NAME             (one binary each)
#   tests/**/*_test.c           -> $(BUILD)/tests/run_tests       (one Check runner)
#   tests/bench/*.c             -> $(BUILD)/bench/NAME            (one benchmark each)
#   scenarios/models/*.c        -> $(BUILD)/models/NAME.so        (example user models)

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := sqlite3 check libuv libgvc libcgraph libcrypto
DEB_PKGS := build-essential pkg-config libsqlite3-dev sqlite3 check graphviz \
            libgraphviz-dev libuv1-dev libssl-dev cppcheck chromium redis-tools

OPT      ?= -O2 -g
SAN      ?=
WARN     := -Wall -Wextra -Werror -Wshadow
CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) $(SAN) -fPIC
CORE_CFLAGS := $(CFLAGS_BASE) -Icore
# pkg-config is only consulted when something outside core/ is compiled.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
ROOM_CFLAGS = $(CFLAGS_BASE) -Icore -I. $(PKG_CFLAGS)

find_c = $(shell find $(1) -name '*.c' 2>/dev/null | sort)

CORE_SRCS    := $(call find_c,core)
SIM_SRCS     := $(filter-out sim/cmd/%,$(call find_c,sim))
PROD_SRCS    := $(filter-out prod/cmd/%,$(call find_c,prod))
REPORTS_SRCS := $(filter-out reports/cmd/%,$(call find_c,reports))
CMD_SRCS     := $(call find_c,sim/cmd prod/cmd reports/cmd)
TEST_SRCS    := $(filter-out tests/bench/%,$(call find_c,tests))
BENCH_SRCS   := $(call find_c,tests/bench)
MODEL_SRCS   := $(call find_c,scenarios/models)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

CORE_LIB    := $(BUILD)/lib/libraftfleet.a
SIM_LIB     := $(BUILD)/lib/libfleetsim.a
PROD_LIB    := $(BUILD)/lib/libfleetprod.a
REPORTS_LIB := $(BUILD)/lib/libfleetreports.a
# Link order: higher rooms first, core last.
ALL_LIBS    := $(SIM_LIB) $(PROD_LIB) $(REPORTS_LIB) $(CORE_LIB)
# Rooms may call each other (fleetd records history through sim/record), so
# the archives are searched as a group.
LINK_LIBS   := -Wl,--start-group $(ALL_LIBS) -Wl,--end-group

BINS   := $(patsubst %.c,$(BUILD)/bin/%,$(notdir $(CMD_SRCS)))
BENCHES := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
MODELS := $(patsubst scenarios/models/%.c,$(BUILD)/models/%.so,$(MODEL_SRCS))
TEST_RUNNER := $(BUILD)/tests/run_tests
SUITES_INC  := $(BUILD)/tests/suites.inc

.PHONY: all test demo bench asan lint deps check-deps install clean mutants determinism
.DEFAULT_GOAL := all
# Keep intermediate objects (benchmarks' .o files) between runs.
.SECONDARY:

all: check-deps $(ALL_LIBS) $(BINS) $(MODELS)

# ---- dependencies -----------------------------------------------------------

# `make deps` installs what is missing and does nothing when all is present.
deps:
	@sh tools/deps.sh $(DEB_PKGS)

# Called before building: installs packages only when pkg-config misses one.
check-deps:
	@pkg-config --exists $(PKGS) 2>/dev/null || $(MAKE) --no-print-directory deps

# ---- objects and libraries --------------------------------------------------

$(BUILD)/obj/core/%.o: core/%.c | check-deps
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c | check-deps
	@mkdir -p $(@D)
	$(CC) $(ROOM_CFLAGS) -MMD -MP -c $< -o $@

define make_lib
$(1): $(2)
	@mkdir -p $$(@D)
	@rm -f $$@
	ar rcs $$@ $(2)
endef
$(eval $(call make_lib,$(CORE_LIB),$(call obj,$(CORE_SRCS))))
$(eval $(call make_lib,$(SIM_LIB),$(call obj,$(SIM_SRCS))))
$(eval $(call make_lib,$(PROD_LIB),$(call obj,$(PROD_SRCS))))
$(eval $(call make_lib,$(REPORTS_LIB),$(call obj,$(REPORTS_SRCS))))

define make_bin
$(BUILD)/bin/$(basename $(notdir $(1))): $(call obj,$(1)) $(ALL_LIBS)
	@mkdir -p $$(@D)
	$(CC) $(SAN) -rdynamic -o $$@ $$< $(LINK_LIBS) $$(PKG_LIBS) -ldl
endef
$(foreach c,$(CMD_SRCS),$(eval $(call make_bin,$(c))))

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(ALL_LIBS)
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $< $(LINK_LIBS) $(PKG_LIBS) -ldl

$(BUILD)/models/%.so: scenarios/models/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -Icore -shared -o $@ $<

# ---- tests ------------------------------------------------------------------

# Every `Suite *NAME_suite(void)` defined under tests/ is registered.
$(SUITES_INC): $(TEST_SRCS)
	@mkdir -p $(@D)
	@grep -ho 'Suite \*[a-z0-9_]*_suite(void)' $(TEST_SRCS) | sort -u | \
	  sed 's/Suite \*\([a-z0-9_]*\)_suite(void)/SUITE(\1)/' > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/obj/tests/run_tests.o: $(SUITES_INC)
$(BUILD)/obj/tests/run_tests.o: ROOM_CFLAGS += -I$(BUILD)/tests

$(TEST_RUNNER): $(call obj,$(TEST_SRCS)) $(ALL_LIBS)
	@mkdir -p $(@D)
	$(CC) $(SAN) -rdynamic -o $@ $(call obj,$(TEST_SRCS)) $(LINK_LIBS) $(PKG_LIBS) -ldl

# CK_RUN_SUITE=name selects one suite; CK_VERBOSITY=verbose lists each test.
test: all $(TEST_RUNNER)
	@cd $(CURDIR) && RF_BUILD=$(BUILD) $(TEST_RUNNER)

demo: all
	@sh tools/demo.sh $(BUILD)

bench: all $(BENCHES)
	@set -e; for b in $(BENCHES); do RF_BUILD=$(BUILD) $$b; done

# ASan + UBSan build of everything, in its own folder, running the tests.
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test

# The same trace hash at -O2, -O0 and in the sanitizer build (issue: determinism
# "at every optimisation level"); run after `make asan`, or it compares two.
determinism: all
	@$(MAKE) --no-print-directory BUILD=build/o0 OPT="-O0 -g" build/o0/bin/fleet-sim build/o0/models/bank.so
	@sh tools/determinism-levels.sh $(BUILD) build/o0 $(patsubst %/bin/fleet-sim,%,$(wildcard build/asan/bin/fleet-sim))

lint: all
	@sh tools/lint-core.sh $(BUILD)
	@sh tools/lint-cppcheck.sh

# Plants each classic bug of tests/mutations/ in a copy of the tree and reports
# whether a fuzz campaign catches it (sim/FUZZING.md).
mutants: all
	@sh tools/mutants.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/raftfleet
	@for b in $(BINS); do echo install $$b; install -m 0755 $$b $(DESTDIR)$(PREFIX)/bin/; done
	install -m 0644 $(CORE_LIB) $(DESTDIR)$(PREFIX)/lib/
	@for h in $$(cd core && find . -name '*.h'); do \
	  install -D -m 0644 core/$$h $(DESTDIR)$(PREFIX)/include/raftfleet/$$h; done

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
