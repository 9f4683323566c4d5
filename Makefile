# alamesh — build, test, install.   make deps && make && make check
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=

# Read when make starts: a target that installs the libraries first (deps)
# builds in a make started after that (the $(MAKE) lines below), never in
# the one that found them missing.
PKGS        := libsodium libb2 libmnl inih libgit2
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
ifeq ($(SANITIZE),1)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ifeq ($(FUZZ),1)
SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DALAMESH_FUZZING
endif
ALL_CFLAGS  = -std=c17 -D_GNU_SOURCE -pthread -I. $(WARN) $(PKG_CFLAGS) $(CFLAGS) $(SAN) -MMD -MP
ALL_LDFLAGS = -pthread $(LDFLAGS) $(SAN)

# Every layer of the daemon (daemon/*/, DESIGN.md's Layout) but the CLI's and main().
LIB_SRC  := $(wildcard wgproto/*.c routing/*.c peers-repo-sync/*.c) \
            $(filter-out daemon/cli/%,$(wildcard daemon/*/*.c))
CLI_SRC  := $(wildcard daemon/cli/*.c)
# Unit tests: pure/ needs neither the kernel's network nor git, system/ does.
TEST_SRC := $(wildcard tests/unit/pure/test_*.c tests/unit/system/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
SIM_SRC  := $(wildcard tests/sim/*.c)
MANPAGES := $(wildcard man/*.[0-9])

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TESTS    := $(addprefix $(BUILD)/tests/,$(basename $(notdir $(TEST_SRC))))
FUZZERS  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
LIBALAMESH := $(BUILD)/libalamesh.a
# The subcommands without main(), for tests/unit/test_cli_*.c and tests/fuzz/fuzz_cli_*.c.
CLI_LIB_OBJ := $(filter-out $(BUILD)/obj/daemon/cli/alamesh.o,$(CLI_OBJ))
LIBCLI   := $(BUILD)/libalamesh-cli.a
SIM_OBJ  := $(SIM_SRC:%.c=$(BUILD)/obj/%.o)
# The simulator's pieces without its command line, for tests/unit/test_sim*.c.
SIMCORE_OBJ := $(filter-out $(BUILD)/obj/tests/sim/main.o $(BUILD)/obj/tests/sim/scenario.o,$(SIM_OBJ))

.PHONY: all deps check check-unit check-integration check-lint san unit fuzzers fuzz \
        install install-files uninstall bench bench-parts bench-sim demo clean format sim tamper
.DEFAULT_GOAL := all

all: $(BUILD)/alameshd $(BUILD)/alamesh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBALAMESH): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/alameshd: $(BUILD)/obj/daemon/alameshd.o $(LIBALAMESH)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(LIBCLI): $(CLI_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/alamesh: $(BUILD)/obj/daemon/cli/alamesh.o $(LIBCLI) $(LIBALAMESH)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

define unit_rules
$(BUILD)/tests/%: tests/unit/$(1)/%.c $(LIBALAMESH)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(TEST_CFLAGS) -o $$@ $$< $$(LIBALAMESH) $$(ALL_LDFLAGS) $$(PKG_LIBS) $$(TEST_LIBS)

$(BUILD)/tests/test_cli_%: tests/unit/$(1)/test_cli_%.c $(LIBCLI) $(LIBALAMESH)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(TEST_CFLAGS) -o $$@ $$< $$(LIBCLI) $$(LIBALAMESH) $$(ALL_LDFLAGS) $$(PKG_LIBS) $$(TEST_LIBS)

$(BUILD)/tests/test_sim%: tests/unit/$(1)/test_sim%.c $(SIMCORE_OBJ) $(LIBALAMESH)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(TEST_CFLAGS) -o $$@ $$< $$(SIMCORE_OBJ) $$(LIBALAMESH) $$(ALL_LDFLAGS) $$(PKG_LIBS) $$(TEST_LIBS) -lm
endef
$(eval $(call unit_rules,pure))
$(eval $(call unit_rules,system))
# The control socket's reply parser is the CLI's (daemon/cli/uapi_reply.c).
$(BUILD)/tests/test_uapi_reply: tests/unit/pure/test_uapi_reply.c $(LIBCLI) $(LIBALAMESH)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(LIBCLI) $(LIBALAMESH) $(ALL_LDFLAGS) $(PKG_LIBS) $(TEST_LIBS)

unit: $(TESTS)

# A relay that misbehaves (daemon/datapath/tamper.h), for tests/integration/test_relay_tamper.sh
# only: never installed.
$(BUILD)/obj/tamper/rx.o: daemon/datapath/rx.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DALAMESH_TEST_TAMPER -c -o $@ $<

$(BUILD)/alameshd-tamper: $(BUILD)/obj/daemon/alameshd.o $(BUILD)/obj/tamper/rx.o $(LIBALAMESH)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

tamper: $(BUILD)/alameshd-tamper

# The routing simulator (tests/sim/sim.h): the router over thousands of simulated nodes.
$(BUILD)/sim/alamesh-sim: $(SIM_OBJ) $(LIBALAMESH)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

sim: $(BUILD)/sim/alamesh-sim

# libFuzzer targets: clang, the library built with the fuzzer instrumentation.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIBALAMESH)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBALAMESH) $(ALL_LDFLAGS) -fsanitize=fuzzer $(PKG_LIBS)

$(BUILD)/fuzz/fuzz_cli_%: tests/fuzz/fuzz_cli_%.c $(LIBCLI) $(LIBALAMESH)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBCLI) $(LIBALAMESH) $(ALL_LDFLAGS) -fsanitize=fuzzer $(PKG_LIBS)

$(BUILD)/fuzz/fuzz_uapi_reply: tests/fuzz/fuzz_uapi_reply.c $(LIBCLI) $(LIBALAMESH)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBCLI) $(LIBALAMESH) $(ALL_LDFLAGS) -fsanitize=fuzzer $(PKG_LIBS)

fuzzers: $(FUZZERS)

FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) BUILD=build/fuzz CC=clang FUZZ=1 fuzzers
	@for f in $(FUZZ_SRC:tests/fuzz/%.c=%); do \
		mkdir -p build/fuzz/corpus/$$f; \
		echo "== $$f ($(FUZZ_SECONDS)s)"; \
		build/fuzz/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
	done

# Installs every Debian package the build, the tests and the benchmarks use.
DEB_PKGS := build-essential pkg-config clang libclang-rt-14-dev clang-format mandoc \
            libsodium-dev libb2-dev libgit2-dev libmnl-dev libinih-dev libcmocka-dev \
            wireguard-go wireguard-tools yggdrasil iperf3 iputils-ping traceroute iproute2 git \
            procps psmisc kmod python3 python3-yaml coreutils util-linux systemd nftables \
            openssh-server openssh-client openssl
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else echo "all dependencies present"; fi

# The test suites: unit tests and the integration tests' daemons built with
# ASan+UBSan (build/san), lint (man pages, formatting, fuzz smoke runs). A
# suite that fails to build counts as a failure. The last line sums them all.
SAN_BUILD := build/san
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	@rm -rf $(BUILD)/results && mkdir -p $(BUILD)/results
	@$(MAKE) --no-print-directory check-unit || echo "FAIL unit suite (build or run)" >>$(BUILD)/results/unit.txt
	@$(MAKE) --no-print-directory check-lint || echo "FAIL lint suite (build or run)" >>$(BUILD)/results/lint.txt
	@$(MAKE) --no-print-directory check-integration || echo "FAIL integration suite (build or run)" >>$(BUILD)/results/integration.txt
	@tests/lib/summary.sh $(BUILD)/results

san:
	$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(SAN_BUILD) SANITIZE=1 unit all sim tamper

check-unit: san
	@mkdir -p $(BUILD)/results
	tests/lib/run-unit.sh $(BUILD)/results $(SAN_BUILD)/tests

check-lint: san
	@mkdir -p $(BUILD)/results
	$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/fuzz CC=clang FUZZ=1 fuzzers
	tests/lib/run-lint.sh $(BUILD)/results $(SAN_BUILD)/obj

check-integration: san
	@mkdir -p $(BUILD)/results
	BUILD=$(SAN_BUILD) tests/lib/run-integration.sh $(BUILD)/results

# Each part runs even if one before it failed; make bench fails if any did.
bench: deps
	@$(MAKE) --no-print-directory all sim bench-parts

bench-parts:
	@rc=0; \
	tests/bench/bench.sh || rc=1; \
	tests/bench/registry_scale.sh || rc=1; \
	tests/bench/sim.sh || rc=1; \
	exit $$rc

# The simulator's part of make bench alone (every topology at 1,000 and 10,000 nodes).
bench-sim: sim
	tests/bench/sim.sh

demo: deps
	@$(MAKE) --no-print-directory all
	tests/demo/demo.sh

install: deps
	@$(MAKE) --no-print-directory install-files

install-files: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/alameshd $(DESTDIR)$(PREFIX)/sbin/alameshd
	install -m 0755 $(BUILD)/alamesh $(DESTDIR)$(PREFIX)/bin/alamesh
	@for m in $(MANPAGES); do s=$${m##*.}; \
		install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 contrib/completion/alamesh.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/alamesh
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	@for u in contrib/systemd/*.service; do \
		sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' $$u >$(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename $$u); \
		chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename $$u); done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/alameshd $(DESTDIR)$(PREFIX)/bin/alamesh
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/alamesh
	rm -f $(DESTDIR)$(PREFIX)/lib/systemd/system/alameshd.service \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/alameshd@.service
	@for m in $(MANPAGES); do s=$${m##*.}; \
		rm -f $(DESTDIR)$(PREFIX)/share/man/man$$s/$$(basename $$m); done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
