# SPDX-License-Identifier: GPL-2.0-or-later
# dnsrl: GNU make.  `make`, `make check`, `make bench`, `make demo`.

# The release version has one home, debian/changelog (its first line,
# "dnsrl (VERSION) ..."): read with sed, so that building needs no dpkg-dev.
VERSION_SED = 1s/^[^ ]* (\([^)]*\)).*/\1/p
VERSION := $(shell sed -n '$(VERSION_SED)' debian/changelog 2>/dev/null)
ifeq ($(VERSION),)
$(error no version in debian/changelog)
endif

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config

# SANITIZE=1 builds with ASan and UBSan into build-asan/.
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
B ?= build-asan
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
else
B ?= build
SAN_FLAGS =
endif

# ldns ships ldns.pc, or libldns.pc on some systems.  Asked once per make
# run (:=), not once per command line.
LDNS_PC := $(shell $(PKG_CONFIG) --exists ldns && echo ldns || echo libldns)
PKGS = libmnl libnetfilter_queue $(LDNS_PC)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
# only the tests need cmocka
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
PCAP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpcap)
PCAP_LIBS := $(shell $(PKG_CONFIG) --libs libpcap)

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-qual -Wformat=2 -Wsign-compare \
	-Wmissing-declarations -Wundef -Wvla
WERROR ?= 0
ifeq ($(WERROR),1)
WARN += -Werror
endif
HARDEN = -fstack-protector-strong -fPIE
ifeq ($(SANITIZE),0)
HARDEN += -D_FORTIFY_SOURCE=2
endif

# Ours come after the user's CPPFLAGS and CFLAGS and never replace them.
DNSRL_CFLAGS = $(CPPFLAGS) $(CFLAGS) -std=c11 -D_GNU_SOURCE -pthread -Iinclude \
	$(WARN) $(HARDEN) $(SAN_FLAGS) $(PKG_CFLAGS) $(PCAP_CFLAGS) \
	-DDNSRL_VERSION='"$(VERSION)"' -MMD -MP
DNSRL_LDFLAGS = $(LDFLAGS) -pie -Wl,-z,relro,-z,now -pthread $(SAN_FLAGS)
LIBS = $(PKG_LIBS) $(PCAP_LIBS)

LIB_SRCS = $(filter-out src/main.c src/dnsrlctl.c,$(wildcard src/*.c))
LIB_OBJS = $(LIB_SRCS:src/%.c=$(B)/obj/%.o)
TEST_SRCS = $(wildcard tests/test_*.c)
TESTS = $(TEST_SRCS:tests/%.c=$(B)/tests/%)
TOOL_SRCS = $(wildcard tests/tools/*.c)
TOOLS = $(TOOL_SRCS:tests/tools/%.c=$(B)/tools/%)
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES = $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAY = $(FUZZ_NAMES:%=$(B)/fuzz-replay/fuzz_%)
FUZZ_BINS = $(FUZZ_NAMES:%=build-fuzz/fuzz_%)
BENCH_SRCS = $(wildcard bench/*.c)
BENCH_BINS = $(BENCH_SRCS:bench/%.c=$(B)/bench/%)

# Library calls a unit test replaces (-Wl,--wrap=...), per test.
WRAP_test_queue = -Wl,--wrap=recvmmsg -Wl,--wrap=sendmsg
WRAP_test_kset = -Wl,--wrap=mnl_socket_sendto -Wl,--wrap=mnl_socket_recvfrom


.PHONY: all deps check check-long check-unit check-fuzz-corpus check-files \
	check-integration check-integration-long check-deb \
	tests tools fuzz fuzz-run bench demo install uninstall clean format \
	format-check

all: $(B)/dnsrl $(B)/dnsrlctl

$(B)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(DNSRL_CFLAGS) -c -o $@ $<

# The two that print the version are rebuilt when it changes.
$(B)/obj/main.o $(B)/obj/dnsrlctl.o: debian/changelog

$(B)/libdnsrl.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/dnsrl: $(B)/obj/main.o $(B)/libdnsrl.a
	$(CC) $(DNSRL_LDFLAGS) -o $@ $^ $(LIBS)

# The client needs only the control module (and log.o) of the library.
$(B)/dnsrlctl: $(B)/obj/dnsrlctl.o $(B)/libdnsrl.a
	$(CC) $(DNSRL_LDFLAGS) -o $@ $^

$(B)/tests/%: tests/%.c $(B)/libdnsrl.a
	@mkdir -p $(@D)
	$(CC) $(DNSRL_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< $(B)/libdnsrl.a \
		$(DNSRL_LDFLAGS) $(WRAP_$*) $(LIBS) $(CMOCKA_LIBS)

$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	$(CC) $(DNSRL_CFLAGS) -o $@ $< $(DNSRL_LDFLAGS)

# replace_probe answers through the queue module itself: it links the
# library (an explicit rule, so it wins over the pattern above).
$(B)/tools/replace_probe: tests/tools/replace_probe.c $(B)/libdnsrl.a
	@mkdir -p $(@D)
	$(CC) $(DNSRL_CFLAGS) -o $@ $< $(B)/libdnsrl.a $(DNSRL_LDFLAGS) $(LIBS)

# Two sources, so each is compiled on its own: one dependency file each.
$(B)/fuzz-replay/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CC) $(DNSRL_CFLAGS) -c -o $@ $<

$(B)/fuzz-replay/fuzz_%: $(B)/fuzz-replay/fuzz_%.o \
		$(B)/fuzz-replay/replay_main.o $(B)/libdnsrl.a
	$(CC) -o $@ $^ $(DNSRL_LDFLAGS) $(LIBS)

$(B)/bench/%: bench/%.c $(B)/libdnsrl.a
	@mkdir -p $(@D)
	$(CC) $(DNSRL_CFLAGS) -o $@ $< $(B)/libdnsrl.a $(DNSRL_LDFLAGS) $(LIBS)

tests: $(TESTS)
tools: $(TOOLS)

# Installs the Debian packages the build, the tests and the demo need
# (idempotent; apt-get only for what is missing).
deps:
	./scripts/install-deps.sh

# The test command for a fresh machine: installs what it needs, then runs
# the unit tests, the fuzz corpora, the build and install checks and the
# quick integration suite (every correctness check, in a few minutes).
check: deps
	$(MAKE) check-unit check-fuzz-corpus check-files
	$(MAKE) check-integration

# The long runs: the 5-minute soak and the fault tests (a stopped daemon,
# a netlink overflow, a reload storm, valgrind).  CI runs it too.
check-long: deps
	$(MAKE) $(B)/tests/test_kset
	DNSRL_LONG_TESTS=1 $(B)/tests/test_kset
	$(MAKE) check-integration-long

check-unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; $$t; done

check-fuzz-corpus: $(FUZZ_REPLAY)
	@set -e; for n in $(FUZZ_NAMES); do \
		echo "== corpus $$n"; \
		$(B)/fuzz-replay/fuzz_$$n tests/fuzz/corpus/$$n; done

# The systemd unit (systemd-analyze verify), install/uninstall, and the
# dependency tracking of every build directory.
check-files: all $(TESTS) $(TOOLS) $(FUZZ_REPLAY)
	B=$(B) tests/check-unit.sh
	B=$(B) tests/check-install.sh
	B=$(B) CC=$(CC) tests/check-deps.sh

check-integration: all $(TOOLS)
	B=$(B) tests/integration/run.sh quick

check-integration-long: all $(TOOLS)
	B=$(B) tests/integration/run.sh long

# The Debian package, as an operator meets it: built with
# dpkg-buildpackage from a copy of the tracked tree, checked by lintian,
# installed with apt-get, run as its unit runs it (in namespaces, with
# Unbound), upgraded, removed and purged; the machine is left as found
# (tests/integration/t_deb.sh, a few minutes).
check-deb:
	./scripts/install-deps.sh deb
	$(MAKE) $(TOOLS)
	B=$(B) tests/integration/t_deb.sh

# libFuzzer targets (clang).  `make fuzz-run FUZZ_SECONDS=60` runs each.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -pthread -Iinclude $(WARN) \
	$(FUZZ_SAN) $(PKG_CFLAGS) $(PCAP_CFLAGS) \
	-DDNSRL_VERSION='"$(VERSION)"' -MMD -MP
FUZZ_LIB_OBJS = $(LIB_SRCS:src/%.c=build-fuzz/obj/%.o)

# The library is instrumented for coverage too; only the link adds the
# fuzzer's main.
build-fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build-fuzz/obj/fuzz_%.o: tests/fuzz/fuzz_%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build-fuzz/fuzz_%: build-fuzz/obj/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $@ $^ $(LIBS)

fuzz: $(FUZZ_BINS)

# Each run's libFuzzer output goes to build-fuzz/fuzz_NAME.log; its last
# lines (executions, and the crash if any) are shown.  A crash leaves its
# input in build-fuzz/: add it to tests/fuzz/corpus/NAME/ with the fix.
fuzz-run: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
		mkdir -p build-fuzz/corpus-$$n; \
		echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
		if ! build-fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -artifact_prefix=build-fuzz/ \
			build-fuzz/corpus-$$n tests/fuzz/corpus/$$n \
			> build-fuzz/fuzz_$$n.log 2>&1; then \
			tail -n 40 build-fuzz/fuzz_$$n.log; exit 1; fi; \
		grep -E '^(Done|stat::number_of_executed_units)' \
			build-fuzz/fuzz_$$n.log; done

bench: deps
	$(MAKE) $(B)/dnsrl $(TOOLS) $(BENCH_BINS)
	B=$(B) bench/run.sh

demo: deps
	$(MAKE) $(B)/dnsrl $(TOOLS)
	B=$(B) tests/integration/demo.sh

install: $(B)/dnsrl $(B)/dnsrlctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/dnsrl \
		$(DESTDIR)$(UNITDIR)
	install -m 0755 $(B)/dnsrl $(DESTDIR)$(SBINDIR)/dnsrl
	install -m 0755 $(B)/dnsrlctl $(DESTDIR)$(SBINDIR)/dnsrlctl
	install -m 0644 conf/dnsrl.conf \
		$(DESTDIR)$(SYSCONFDIR)/dnsrl/dnsrl.conf.example
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/dnsrl.conf.5 $(DESTDIR)$(MANDIR)/man5/dnsrl.conf.5
	install -m 0644 man/dnsrl.8 man/dnsrlctl.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		systemd/dnsrl.service.in > $(DESTDIR)$(UNITDIR)/dnsrl.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/dnsrl.service
	install -d $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0644 systemd/dnsrl.sysusers $(DESTDIR)$(SYSUSERSDIR)/dnsrl.conf
	install -m 0644 systemd/dnsrl.tmpfiles $(DESTDIR)$(TMPFILESDIR)/dnsrl.conf
	@echo "make install: the daemon runs as the system user dnsrl; create"
	@echo "  it and /run/dnsrl with: systemd-sysusers dnsrl.conf &&"
	@echo "  systemd-tmpfiles --create dnsrl.conf"

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/dnsrl $(DESTDIR)$(SBINDIR)/dnsrlctl \
		$(DESTDIR)$(SYSCONFDIR)/dnsrl/dnsrl.conf.example \
		$(DESTDIR)$(UNITDIR)/dnsrl.service \
		$(DESTDIR)$(SYSUSERSDIR)/dnsrl.conf \
		$(DESTDIR)$(TMPFILESDIR)/dnsrl.conf \
		$(DESTDIR)$(MANDIR)/man5/dnsrl.conf.5 \
		$(DESTDIR)$(MANDIR)/man8/dnsrl.8 $(DESTDIR)$(MANDIR)/man8/dnsrlctl.8
	-rmdir $(DESTDIR)$(SYSCONFDIR)/dnsrl 2>/dev/null

FORMAT_FILES = $(wildcard src/*.c src/*.h include/*.h tests/*.c tests/*.h tests/fuzz/*.c \
	tests/tools/*.c bench/*.c)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build build-asan build-fuzz

# Objects made on the way to a fuzz binary stay, so a rebuild is
# incremental.
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_NAMES:%=build-fuzz/obj/fuzz_%.o) \
	$(FUZZ_NAMES:%=$(B)/fuzz-replay/fuzz_%.o) $(B)/fuzz-replay/replay_main.o

# Every build directory's dependency files: after a header changes, what
# includes it is rebuilt (tests/check-deps.sh checks it).
-include $(wildcard $(B)/obj/*.d $(B)/tests/*.d $(B)/tools/*.d \
	$(B)/bench/*.d $(B)/fuzz-replay/*.d build-fuzz/obj/*.d)
