# koop — build, test, demo, bench, install.
# `make demo` and `make check` first run scripts/deps.sh, which installs the
# Debian packages koop needs (or says which apt-get line to run), then call
# this Makefile again so that pkg-config sees the freshly installed libraries.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS     = lua5.4 sqlite3 libedit

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
KOOP_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Isrc $(PKG_CFLAGS)
# Lua and SQLite are linked from the static archives of the same Debian
# packages: koop is then one file, starts without resolving ~1,500 dynamic
# symbols (start-up equals a bare C program's), and calls into Lua without
# PLT indirection.  libedit stays shared (it pulls in the terminal libraries).
LDLIBS      = -Wl,-Bstatic -llua5.4 -lsqlite3 -Wl,-Bdynamic \
              $(shell pkg-config --libs libedit 2>/dev/null) -lm -ldl -lpthread -lutil

SRC      := $(wildcard src/*.c)
LUA_LIB  := $(shell find lib -name '*.lua' | LC_ALL=C sort)
OBJ      := $(SRC:src/%.c=$(BUILD)/%.o) $(BUILD)/embedded.o
LIBOBJ   := $(filter-out $(BUILD)/main.o,$(OBJ))
CTESTS   := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(wildcard tests/c/*_test.c))
TOOLS    := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
KOOP     := $(BUILD)/koop

# The sanitizer and fuzzer builds of `make check` also fail on any warning
# (the plain build only shows them, for compilers newer than Debian 12's).
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -Werror

.PHONY: all check test demo bench install clean deps sanitize check-valgrind
all: $(KOOP) $(CTESTS) $(TOOLS)

$(KOOP): $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(BUILD)/%.o: src/%.c src/koop.h | $(BUILD)
	$(CC) $(KOOP_CFLAGS) $(CFLAGS) -c -o $@ $<

# lib/**/*.lua is compiled into the binary: a generated C file, never committed.
$(BUILD)/embed: scripts/embed.c | $(BUILD)
	$(CC) $(KOOP_CFLAGS) -O1 -o $@ $< $(PKG_LIBS)
$(BUILD)/embedded.c: $(BUILD)/embed $(LUA_LIB)
	$(BUILD)/embed $(LUA_LIB) > $@.tmp && mv $@.tmp $@
$(BUILD)/embedded.o: $(BUILD)/embedded.c
	$(CC) $(KOOP_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/c/%.c $(LIBOBJ) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(KOOP_CFLAGS) $(CFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)
$(BUILD)/tools/%: tests/tools/%.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(KOOP_CFLAGS) $(CFLAGS) -o $@ $< $(LDLIBS)

$(BUILD):
	@mkdir -p $@

deps:
	@sh scripts/deps.sh

# The whole suite, then the whole suite again under ASan + UBSan.
check:
	@sh scripts/deps.sh --check
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" all
	@$(MAKE) --no-print-directory fuzzers
	@sh tests/run.sh $(BUILD) $(BUILD)/san

# The suite's koop runs under valgrind memcheck: no leaks, no errors.
check-valgrind:
	@sh scripts/deps.sh --valgrind
	@$(MAKE) --no-print-directory all
	@sh tests/valgrind.sh $(BUILD)

# The suite with its long variants on (KOOP_LONG=1: 200 SIGKILL trials in
# tests/cli/crash_test.sh, 10 x the concurrent writers' work, ...), against
# the plain build; `make check` has run the short suite under ASan + UBSan.
.PHONY: check-long
check-long:
	@sh scripts/deps.sh --check
	@$(MAKE) --no-print-directory all
	@KOOP_LONG=1 sh tests/run.sh $(BUILD)

# libFuzzer targets tests/fuzz/*_fuzz.c, linked with the src objects (all
# but main.o) built by clang with -fsanitize=fuzzer-no-link,address,undefined
# into $(BUILD)/fuzz/.  `make check` runs each for a short time (tests/run.sh
# calls tests/fuzz/run.sh); `make fuzz` runs each for FUZZ_SECONDS, merges
# what it finds into $(BUILD)/fuzz/corpus/ and keeps crashes in
# $(BUILD)/fuzz/crashes/.
FUZZ_SECONDS ?= 600
FUZZ_CC      ?= clang
FUZZERS      := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(wildcard tests/fuzz/*_fuzz.c))
.PHONY: fuzz fuzzers fuzz-targets
fuzzers:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=$(FUZZ_CC) LDFLAGS="-fsanitize=address,undefined" \
	  CFLAGS="$(SAN_FLAGS) -fsanitize=fuzzer-no-link" fuzz-targets
fuzz-targets: $(FUZZERS)
$(BUILD)/%_fuzz: tests/fuzz/%_fuzz.c tests/fuzz/fuzz.h $(LIBOBJ) | $(BUILD)
	$(CC) $(KOOP_CFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBOBJ) $(LDFLAGS) $(LDLIBS)
fuzz:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory fuzzers
	@sh tests/fuzz/run.sh --long $(BUILD)/fuzz $(FUZZ_SECONDS)

# Only the suite, against an existing build (no sanitizer pass).
test: all
	@sh tests/run.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh $(KOOP)

bench:
	@sh scripts/deps.sh --bench
	@$(MAKE) --no-print-directory all
	@sh scripts/bench/run.sh $(KOOP)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(KOOP) $(DESTDIR)$(PREFIX)/bin/koop
	$(KOOP) help --man > $(BUILD)/koop.1
	install -m 644 $(BUILD)/koop.1 $(DESTDIR)$(PREFIX)/share/man/man1/koop.1

clean:
	rm -rf $(BUILD)
