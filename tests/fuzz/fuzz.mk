# fuzz.mk — builds the libFuzzer harnesses; tests/fuzz/run.sh drives it.
#
# It includes the top-level Makefile so the library objects, pkg-config
# flags and -MMD dependency tracking are exactly the project's own; run.sh
# sets CC=clang, BUILD=build-fuzz and the sanitizer flags on the command
# line, so each library source is compiled once into build-fuzz/ and only
# recompiled when it or a header it includes changes. run.sh drops -Werror
# for the library (a warning only clang gives must not hide the fuzzers);
# the harnesses keep it.

include Makefile

WARN := $(filter-out -Werror,$(WARN))

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/%)

.PHONY: fuzz-harnesses
fuzz-harnesses: $(FUZZ_BIN)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Werror -MF $@.d $(LDFLAGS) -o $@ \
	    $(filter %.c %.o,$^) $(LDLIBS)

-include $(FUZZ_BIN:=.d)
