# cutover — build, test, bench, demo.
#
#   make            bin/cutover
#   make asan       bin/cutover-asan (AddressSanitizer + UBSan)
#   make test       installs what is missing, unit + e2e tests (private MariaDB)
#   make bench      every benchmark, our figure beside its baseline
#                   (bench-copy-pg: the PostgreSQL baselines, expert path
#                   and pgloader; bench-copy-mysql-pg: MariaDB → PostgreSQL
#                   beside pgloader; bench-binlog: binlog capture's reader;
#                   bench-sync-mysql: capture on a MySQL source, its cost,
#                   lag and cutovers; bench-cutover-mysql-pg: the write
#                   pause into PostgreSQL under the Django shop)
#   make demo       a whole migration of a sample shop under a live writer
#   make deps       install the Debian packages all of the above need
#   make fuzz       longer libFuzzer runs of the parsers
#   make install    bin/cutover, its manual pages, example runbooks and bash
#                   completion under $(DESTDIR)$(PREFIX) (PREFIX=/usr/local);
#                   make uninstall removes them
#   make package    the Debian package (dpkg-buildpackage), in build/package/
#   make package-test  build it, check it with lintian, install it into a
#                   throwaway root and migrate the demo database with it

PKGS      := mysqlclient sqlite3 libuv jansson libcurl openssl zlib libpq \
             libmicrohttpd
CC        ?= cc
OPT       ?= -O2
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SAN       ?=
CFLAGS    += -std=c11 -D_GNU_SOURCE -g $(OPT) $(SAN) $(WARN) -MMD -MP -I. \
             $(PKG_CFLAGS)
LDFLAGS   += $(SAN)
LDLIBS    += $(PKG_LIBS) -lpthread -lm

BUILD     ?= build
# The floors of DESIGN §1, from the bottom; tests/lib/check_layers.sh keeps
# each including only the floors below it.
SRC       := $(wildcard lib/*.c checkpoints/*.c sync/*.c sync/drivers/*.c \
                       sync/drivers/*/*.c stages/*.c stages/plan/*.c \
                       orchestrator/*.c)
LIB_SRC   := $(filter-out orchestrator/main.c,$(SRC))
OBJ       := $(SRC:%.c=$(BUILD)/%.o)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(wildcard tests/lib/*.c)
# The live writer is a tool of several files: tests/lib/writer/*.c.
WRITER_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/writer/*.c))
TOOL_BIN  := $(TOOL_SRC:tests/lib/%.c=bin/%) bin/writer

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined

.PHONY: all asan asan-unit test unit e2e bench bench-copy bench-sync bench-verify \
        bench-cutover bench-watchers bench-app-errors bench-copy-pg \
        bench-copy-mysql-pg bench-monitoring bench-binlog bench-sync-mysql \
        bench-cutover-mysql-pg demo deps fuzz stress clean tools check-deps man \
        install uninstall package package-test

all: bin/cutover tools

# The version's one place is the VERSION file.
VERSION   := $(shell cat VERSION)
$(BUILD)/orchestrator/version.o: CFLAGS += -DCUTOVER_VERSION='"$(VERSION)"'
$(BUILD)/orchestrator/version.o: VERSION

bin/cutover: $(OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tools: $(TOOL_BIN)

bin/%: tests/lib/%.c $(LIB_OBJ)
	@mkdir -p $(@D) $(BUILD)/tools
	$(CC) $(CFLAGS) -MF $(BUILD)/tools/$*.d $(LDFLAGS) -o $@ \
	    $(filter %.c %.o,$^) $(LDLIBS)

bin/writer: $(WRITER_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS) -lcmocka

# The sanitizer build lives in build-asan/; `make asan-unit` builds the unit
# tests against it.
ASAN_MAKE = $(MAKE) BUILD=build-asan OPT=-O1 SAN="$(SAN_FLAGS)"
ASAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build-asan/tests/%)

asan:
	$(ASAN_MAKE) bin/cutover-asan

asan-unit:
	$(ASAN_MAKE) $(ASAN_UNIT_BIN)

bin/cutover-asan: $(SRC:%.c=build-asan/%.o)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Install what is missing (no-op on a machine that has everything).
# ---- manual pages, install, the Debian package ------------------------------
PREFIX    ?= /usr/local
PYTHON    ?= python3
# a reproducible date: the package's changelog date when dpkg sets it
MAN_DATE  := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%d)
MAN       := $(BUILD)/man/cutover.1 $(BUILD)/man/cutover-runbook.5

man: $(MAN)

$(BUILD)/man/cutover.1: man/cutover.1.in VERSION
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/; s/@DATE@/$(MAN_DATE)/' $< > $@

# made from the runbook reference, so the two cannot drift apart
$(BUILD)/man/cutover-runbook.5: runbooks/README.md man/runbook2man.py VERSION
	@mkdir -p $(@D)
	$(PYTHON) man/runbook2man.py $< $(VERSION) $(MAN_DATE) > $@.tmp
	mv $@.tmp $@

INSTALLED := bin/cutover share/man/man1/cutover.1 \
             share/man/man5/cutover-runbook.5 \
             share/bash-completion/completions/cutover \
             $(patsubst runbooks/%,share/doc/cutover/examples/%, \
                        $(wildcard runbooks/*.json))

install: bin/cutover man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/doc/cutover/examples
	install -m 755 bin/cutover $(DESTDIR)$(PREFIX)/bin/cutover
	install -m 644 $(BUILD)/man/cutover.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(BUILD)/man/cutover-runbook.5 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 completions/cutover \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/cutover
	install -m 644 runbooks/*.json $(DESTDIR)$(PREFIX)/share/doc/cutover/examples/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))
	-rmdir $(DESTDIR)$(PREFIX)/share/doc/cutover/examples \
	    $(DESTDIR)$(PREFIX)/share/doc/cutover 2>/dev/null

package: check-deps
	tests/lib/package.sh build

package-test: check-deps all
	tests/lib/package.sh test

check-deps:
	@tests/lib/deps.sh --check >/dev/null 2>&1 || tests/lib/deps.sh

deps:
	tests/lib/deps.sh

unit: $(UNIT_BIN)
	@tests/lib/run_unit.sh $(UNIT_BIN)

e2e: all
	@E2E_JOBS=$${E2E_JOBS:-2} tests/lib/run_e2e.sh

# `make test` builds with one job per core unless make was given -j. The
# ASan program and its unit tests are built by one sub-make: asan and
# asan-unit side by side would compile the same objects at the same time.
TEST_JOBS = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc))

test: check-deps
	$(MAKE) $(TEST_JOBS) all $(UNIT_BIN)
	$(ASAN_MAKE) $(TEST_JOBS) bin/cutover-asan $(ASAN_UNIT_BIN)
	tests/lib/run_tests.sh

bench: bench-copy bench-sync bench-verify bench-cutover bench-watchers \
       bench-app-errors bench-copy-pg bench-copy-mysql-pg bench-monitoring \
       bench-binlog bench-sync-mysql bench-cutover-mysql-pg

bench-copy bench-sync bench-verify bench-cutover bench-watchers \
bench-app-errors bench-copy-pg bench-copy-mysql-pg bench-monitoring \
bench-binlog bench-sync-mysql bench-cutover-mysql-pg: check-deps all
	bench/$(@:bench-%=%).sh

demo: check-deps all
	examples/demo.sh

fuzz: check-deps
	tests/fuzz/run.sh 300

# SIGTERM at random moments under the ASan build (tests/stress/sigterm.sh)
stress: check-deps all asan
	tests/stress/sigterm.sh

clean:
	rm -rf build build-asan build-fuzz bin

# Only the dependency files of tools whose source is still there: a stale
# one names a deleted source (tools/writer.d, tests/lib/writer.c) as needed.
-include $(OBJ:.o=.d) $(UNIT_BIN:=.d) $(WRITER_OBJ:.o=.d) \
         $(wildcard $(TOOL_SRC:tests/lib/%.c=$(BUILD)/tools/%.d))
