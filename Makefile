# dnsward -- top-level Makefile.
#
# In the style of git's: this file does the work; ./configure is optional and
# only writes config.mk (compiler, flags, library flags, install paths),
# which is included here.  When config.mk is missing, `make` generates
# configure (autoconf) and runs it by itself.
#
#   make              build src/dnsward
#   make run          install missing Debian packages, build, run in the
#                     foreground with conf/dnsward.yaml
#   make check        install missing Debian packages (test tools too), build,
#                     run every unit and integration test
#   make test         build and run the tests, installing nothing
#                     (T="tests/unit/check_acl ..." runs only those)
#   make bench        install missing Debian packages (test tools, dnsperf,
#                     unbound), build, run bench/run: dnsward against
#                     Unbound with dnsperf (BENCH_ARGS="-q" for a quick
#                     smoke run; bench/run -h lists the options)
#   make deps         install missing build packages only
#   make install      DESTDIR=... prefix from ./configure --prefix=...
#   make clean        remove what the build made
#   make distclean    also remove configure's output
#
# Knobs (on the command line):
#   DEVELOPER=1       warnings are errors
#   SANITIZE=1        ASan + UBSan (= SANITIZE=address,undefined);
#                     SANITIZE=thread for TSan; any -fsanitize= list works
#   V=1               show the full commands
#   CFLAGS=...        default -g -O2 (from configure)
#
# Objects are rebuilt when the compiler or flags change: they depend on
# .build-flags, which is rewritten only when its content would change.

.DEFAULT_GOAL := all
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

ACLOCAL_DIR = /usr/share/aclocal
INSTALL = install
SHELL_PATH = /bin/sh
BASH_PATH = /bin/bash

# Goals that must work on a machine where nothing is installed or
# configured yet: they do not read config.mk (run, check and bench install
# the packages first, then call $(MAKE) for the build).
NOCONFIG_GOALS = deps run check bench configure clean distclean
ifneq ($(filter-out $(NOCONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
NEED_CONFIG = 1
endif

ifdef NEED_CONFIG
-include config.mk
endif

### Flags

WARNINGS = -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
	-Wno-unused-parameter
ifdef DEVELOPER
WARNINGS += -Werror
endif

comma := ,
ifneq ($(filter 1 yes,$(SANITIZE)),)
SAN = address,undefined
else
SAN = $(SANITIZE)
endif
ifneq ($(SAN),)
SAN_FLAGS = -fsanitize=$(SAN) -fno-omit-frame-pointer
ifneq ($(findstring undefined,$(SAN)),)
SAN_FLAGS += -fno-sanitize-recover=undefined
endif
# For the tests (make test / make check).
ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
TSAN_OPTIONS ?= second_deadlock_stack=1
CK_TIMEOUT_MULTIPLIER ?= 4
export ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS CK_TIMEOUT_MULTIPLIER
endif

DEPS_CFLAGS = $(LIBEVENT_CFLAGS) $(LDNS_CFLAGS) $(LIBUNBOUND_CFLAGS) \
	$(LIBMAXMINDDB_CFLAGS) $(LIBPSL_CFLAGS) $(YAML_CFLAGS) \
	$(LIBCRYPTO_CFLAGS)
DEPS_LIBS = $(LIBEVENT_LIBS) $(LDNS_LIBS) $(LIBUNBOUND_LIBS) \
	$(LIBMAXMINDDB_LIBS) $(LIBPSL_LIBS) $(YAML_LIBS) $(LIBCRYPTO_LIBS)

ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Isrc $(DEFS) $(WARNINGS) \
	$(PTHREAD_CFLAGS) $(DEPS_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)
ALL_LIBS = $(DEPS_LIBS) $(PTHREAD_LIBS) $(LIBS)

### Sources

PROG_SRCS = src/main.c src/dnsward-ctl.c
LIB_SRCS = $(filter-out $(PROG_SRCS),$(wildcard src/*.c))
LIB_OBJS = $(LIB_SRCS:.c=.o)
LIB = src/libdnsward.a
DAEMON = src/dnsward
CTL = src/dnsward-ctl

UNIT_SRCS = $(wildcard tests/unit/check_*.c)
UNIT_OBJS = $(UNIT_SRCS:.c=.o)
UNIT_PROGS = $(UNIT_SRCS:.c=)

TOOL_SRCS = $(wildcard tests/tools/*.c)
TOOL_OBJS = $(TOOL_SRCS:.c=.o)
TOOL_PROGS = $(TOOL_SRCS:.c=)

ALL_OBJS = $(LIB_OBJS) $(PROG_SRCS:.c=.o) $(UNIT_OBJS) $(TOOL_OBJS)
TEST_PROGS = $(UNIT_PROGS) $(TOOL_PROGS)

ifndef V
QUIET_CC = @echo '   ' CC $@;
QUIET_AR = @echo '   ' AR $@;
QUIET_LINK = @echo '   ' LINK $@;
endif

### Goals that need nothing installed

deps:
	@$(SHELL_PATH) tools/install-deps

run:
	@$(SHELL_PATH) tools/install-deps
	@$(MAKE) --no-print-directory all
	exec ./$(DAEMON) -c conf/dnsward.yaml

check:
	@$(SHELL_PATH) tools/install-deps --test
	@$(MAKE) --no-print-directory test

# The side-by-side benchmark (bench/README.md): minutes, not seconds.
bench:
	@$(SHELL_PATH) tools/install-deps --bench
	@$(MAKE) --no-print-directory $(DAEMON) $(CTL) tests/tools/feedstat
	$(BASH_PATH) bench/run $(BENCH_ARGS)

### Configuration

configure: configure.ac
	@command -v autoconf >/dev/null 2>&1 || { \
		echo >&2 "autoconf not found: apt-get install autoconf (or: make deps)"; \
		exit 1; }
	autoconf -I $(ACLOCAL_DIR) -o $@ $<
	@touch $@

config.mk: config.mk.in configure
	@if test -f config.status; then \
		echo ./config.status --recheck; \
		./config.status --recheck && ./config.status; \
	else \
		echo ./configure; \
		./configure; \
	fi

### Build

all: $(DAEMON) $(CTL)

TRACK_FLAGS = $(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) | $(ALL_LDFLAGS) \
	$(ALL_LIBS) $(CHECK_LIBS)

.build-flags: FORCE
	@flags='$(subst ','\'',$(TRACK_FLAGS))'; \
	if test x"$$flags" != x"`cat $@ 2>/dev/null`"; then \
		test -f $@ && echo >&2 "    * new build flags"; \
		printf '%s\n' "$$flags" >$@; \
	fi

$(filter-out $(UNIT_OBJS),$(ALL_OBJS)): %.o: %.c .build-flags
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(UNIT_OBJS): %.o: %.c .build-flags
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(QUIET_AR)rm -f $@ && $(AR) rcs $@ $(LIB_OBJS)

$(DAEMON): src/main.o $(LIB) .build-flags
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ src/main.o $(LIB) $(ALL_LIBS)

$(CTL): src/dnsward-ctl.o $(LIB) .build-flags
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ src/dnsward-ctl.o $(LIB) $(ALL_LIBS)

$(UNIT_PROGS): %: %.o $(LIB) .build-flags
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(CHECK_LIBS) $(ALL_LIBS)

$(TOOL_PROGS): %: %.o $(LIB) .build-flags
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(ALL_LIBS)

-include $(ALL_OBJS:.o=.d)

# ThreadSanitizer builds the tests always run, whatever SANITIZE says: the
# daemon (tests/integration/test_threads.sh drives it with two workers)
# and the cache's unit tests (threads hammering shared shards).  Each is
# one compiler run over the sources, so they never mix with the objects
# of the main build.
TSAN_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Isrc $(DEFS) $(WARNINGS) \
	$(PTHREAD_CFLAGS) $(DEPS_CFLAGS) $(CPPFLAGS) -g -O1 \
	-fsanitize=thread -fno-omit-frame-pointer
TSAN_PROGS = tests/tsan/dnsward tests/tsan/check_cache
SRC_HDRS = $(wildcard src/*.h)

tests/tsan/dnsward: src/main.c $(LIB_SRCS) $(SRC_HDRS) .build-flags
	@mkdir -p tests/tsan
	$(QUIET_LINK)$(CC) $(TSAN_CFLAGS) -o $@ src/main.c $(LIB_SRCS) \
		$(DEPS_LIBS) $(PTHREAD_LIBS) $(LIBS)

tests/tsan/check_cache: tests/unit/check_cache.c $(LIB_SRCS) $(SRC_HDRS) \
		.build-flags
	@mkdir -p tests/tsan
	$(QUIET_LINK)$(CC) $(TSAN_CFLAGS) $(CHECK_CFLAGS) -o $@ $< \
		$(LIB_SRCS) $(CHECK_LIBS) $(DEPS_LIBS) $(PTHREAD_LIBS) $(LIBS)

### Tests

test-progs: $(DAEMON) $(CTL) $(TEST_PROGS) $(TSAN_PROGS)

# Unit binaries, then integration scripts; one "N passed, N failed" line.
test: test-progs
	@$(BASH_PATH) tests/run-tests $(T)

### Install

# Directories come from config.mk, where configure keeps them relative to
# ${prefix}: `make install prefix=/opt/x` moves them all, and PREFIX= (on
# the command line or in the environment) is the same.  DESTDIR= stages.
# The systemd directories are absolute (systemd reads only those), and so
# are /var/log/dnsward and /var/lib/dnsward in the unit and logrotate files.
ifneq ($(filter command line environment,$(origin PREFIX)),)
prefix = $(PREFIX)
endif
logrotatedir = $(sysconfdir)/logrotate.d

# The unit names /usr/sbin and /etc/dnsward; installed, it names these.
UNIT_SED = -e 's|/usr/sbin/|$(sbindir)/|g' \
	-e 's|/etc/dnsward|$(sysconfdir)/dnsward|g'

# What install puts in place, for uninstall (dnsward.yaml aside).
INSTALLED = $(sbindir)/dnsward $(sbindir)/dnsward-ctl \
	$(mandir)/man8/dnsward.8 $(mandir)/man8/dnsward-ctl.8 \
	$(mandir)/man5/dnsward.yaml.5 \
	$(systemdsystemunitdir)/dnsward.service \
	$(sysusersdir)/dnsward.conf $(tmpfilesdir)/dnsward.conf \
	$(logrotatedir)/dnsward

install: all
	$(INSTALL) -d -m 755 $(DESTDIR)$(sbindir) \
		$(DESTDIR)$(sysconfdir)/dnsward \
		$(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(systemdsystemunitdir) \
		$(DESTDIR)$(sysusersdir) $(DESTDIR)$(tmpfilesdir) \
		$(DESTDIR)$(logrotatedir)
	$(INSTALL) -m 755 $(DAEMON) $(DESTDIR)$(sbindir)/dnsward
	$(INSTALL) -m 755 $(CTL) $(DESTDIR)$(sbindir)/dnsward-ctl
	@if test -e $(DESTDIR)$(sysconfdir)/dnsward/dnsward.yaml; then \
		echo "keeping existing $(DESTDIR)$(sysconfdir)/dnsward/dnsward.yaml"; \
	else \
		echo $(INSTALL) -m 644 conf/dnsward.yaml $(DESTDIR)$(sysconfdir)/dnsward/dnsward.yaml; \
		$(INSTALL) -m 644 conf/dnsward.yaml $(DESTDIR)$(sysconfdir)/dnsward/dnsward.yaml; \
	fi
	$(INSTALL) -m 644 man/dnsward.8 man/dnsward-ctl.8 $(DESTDIR)$(mandir)/man8
	$(INSTALL) -m 644 man/dnsward.yaml.5 $(DESTDIR)$(mandir)/man5
	sed $(UNIT_SED) systemd/dnsward.service \
		>$(DESTDIR)$(systemdsystemunitdir)/dnsward.service.tmp
	chmod 644 $(DESTDIR)$(systemdsystemunitdir)/dnsward.service.tmp
	mv -f $(DESTDIR)$(systemdsystemunitdir)/dnsward.service.tmp \
		$(DESTDIR)$(systemdsystemunitdir)/dnsward.service
	$(INSTALL) -m 644 systemd/dnsward.sysusers $(DESTDIR)$(sysusersdir)/dnsward.conf
	$(INSTALL) -m 644 systemd/dnsward.tmpfiles $(DESTDIR)$(tmpfilesdir)/dnsward.conf
	$(INSTALL) -m 644 systemd/dnsward.logrotate $(DESTDIR)$(logrotatedir)/dnsward

# Removes what install put in place.  dnsward.yaml goes only when it is
# still the shipped one; an edited one stays (and so does its directory).
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@f=$(DESTDIR)$(sysconfdir)/dnsward/dnsward.yaml; \
	if test -e $$f; then \
		if cmp -s conf/dnsward.yaml $$f; then \
			echo rm -f $$f; rm -f $$f; \
		else \
			echo "keeping $$f (changed since installed)"; \
		fi; \
	fi; \
	rmdir $(DESTDIR)$(sysconfdir)/dnsward 2>/dev/null || true

.PHONY: uninstall

### Cleaning

clean:
	rm -f src/*.o src/*.d $(LIB) $(DAEMON) $(CTL) .build-flags
	rm -f tests/unit/*.o tests/unit/*.d tests/tools/*.o tests/tools/*.d
	$(if $(TEST_PROGS),rm -f $(TEST_PROGS))
	rm -rf tests/tsan

distclean: clean
	rm -rf configure config.mk config.log config.status autom4te.cache

.PHONY: all deps run check bench test test-progs install clean distclean FORCE
