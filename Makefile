# reef's build. Driven by build.sh, which installs the packages first; `make` alone works once they
# are there. MODE=release (static binary, default), asan (unit tests with ASan+UBSan), fuzz (clang
# libFuzzer targets). Every mode builds into its own directory, so they never mix objects.

MODE ?= release
JOBS ?= 2

LIB_SRCS := $(sort $(wildcard core/*.c core/*/*.c runtime/*.c runtime/*/*.c net/*.c \
                              orchestrate/*.c orchestrate/*/*.c))
CMD_SRCS := $(sort $(wildcard cmd/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
UI_FILES := $(sort $(wildcard ui/*.html ui/*.js ui/*.css))

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CPPFLAGS := -I. -D_GNU_SOURCE -DJSMN_STRICT -DJSMN_PARENT_LINKS
STATIC_LIBS := -lsqlite3 -luv_a -lmbedtls -lmbedx509 -lmbedcrypto -larchive -lacl -lseccomp \
               -lyaml -lzstd -lz -lm -lpthread
SHARED_LIBS := -lsqlite3 -luv -lmbedtls -lmbedx509 -lmbedcrypto -larchive -lseccomp -lyaml \
               -lzstd -lz -lm -lpthread

ifeq ($(MODE),release)
  B := build
  CC := gcc
  CFLAGS := -std=gnu11 -O2 -g -ffunction-sections -fdata-sections $(WARN)
  LDFLAGS := -static -Wl,--gc-sections
  LIBS := $(STATIC_LIBS)
  TESTFLAGS := -DREEF_TESTING
else ifeq ($(MODE),asan)
  B := build-asan
  CC := gcc
  CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=undefined $(WARN) -DREEF_TESTING
  LDFLAGS := -fsanitize=address,undefined
  LIBS := $(SHARED_LIBS)
else ifeq ($(MODE),fuzz)
  B := build-fuzz
  CC := clang
  CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined $(WARN) \
            -Wno-gnu-statement-expression -DREEF_TESTING -DREEF_FUZZING
  LDFLAGS := -fsanitize=fuzzer,address,undefined
  LIBS := $(SHARED_LIBS)
else
  $(error MODE must be release, asan or fuzz)
endif

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o) $(B)/obj/ui_assets.o
CMD_OBJS := $(CMD_SRCS:%.c=$(B)/obj/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
HELPER_BINS := $(HELPER_SRCS:tests/helpers/%.c=$(B)/helpers/%)

.PHONY: all reef tests fuzz FORCE
all: $(B)/reef tests
reef: $(B)/reef
tests: $(TEST_BINS) $(HELPER_BINS)
fuzz: $(FUZZ_BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC      $<'
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Build facts for `reef version`; rewritten on every build, which costs one small compile.
$(B)/gen/buildinfo.h: FORCE
	@mkdir -p $(dir $@)
	@sh vendor/buildinfo.sh > $@.tmp && mv $@.tmp $@
$(B)/obj/cmd/version.o: CPPFLAGS += -I$(B)/gen
$(B)/obj/cmd/version.o: $(B)/gen/buildinfo.h

# The dashboard's files become one C array table compiled into the binary.
$(B)/gen/ui_assets.c: $(UI_FILES) vendor/embed.sh
	@mkdir -p $(dir $@)
	sh vendor/embed.sh $(UI_FILES) > $@.tmp && mv $@.tmp $@
$(B)/obj/ui_assets.o: $(B)/gen/ui_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libreef.a: $(LIB_OBJS)
	@rm -f $@
	@echo '  AR      $@'
	ar rcs $@ $^

$(B)/reef: $(CMD_OBJS) $(B)/libreef.a
	@echo '  LINK    $@'
	$(CC) $(LDFLAGS) -o $@.unstripped $(CMD_OBJS) $(B)/libreef.a $(LIBS) 2> $(B)/link.log || \
	    { cat $(B)/link.log; exit 1; }
	strip -o $@ $@.unstripped

$(B)/tests/%: tests/unit/%.c tests/unit/test.h $(B)/libreef.a
	@mkdir -p $(dir $@)
	@echo '  TEST    $@'
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TESTFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(B)/libreef.a \
	    $(LIBS) 2> $@.log || { cat $@.log; exit 1; }

# Small static programs that end-to-end tests copy into containers.
$(B)/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	@echo '  HELPER  $@'
	gcc $(CPPFLAGS) -std=gnu11 -O2 $(WARN) -static -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(B)/libreef.a
	@mkdir -p $(dir $@)
	@echo '  FUZZ    $@'
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libreef.a $(LIBS)

FORCE:

# Quiet by default: one line per step. V=1 shows the commands.
ifneq ($(V),1)
.SILENT:
endif

-include $(shell find $(B) -name '*.d' 2>/dev/null)
