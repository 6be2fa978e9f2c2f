# bpf_write_monitor - see README.md
#
#   make                 build ./bpf_write_monitor
#   sudo make check      install what is missing, build, run unit and integration tests
#   sudo make check-fallback   the integration tests again, on the entry+exit capture path
#   sudo make demo       install what is missing, build, show a capture
#   sudo make check-kernels   the integration suite in QEMU guests running Debian 11,
#                        12 and 13's stock kernels (KERNELS="5.10 6.1 6.12", TESTS=words|smoke)
#   sudo make deb        install what is missing, build bpf-write-monitor_VERSION_amd64.deb
#                        (for /usr, hardened) and check it with lintian
#   make V=1             show the commands

.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX    ?= /usr/local
DESTDIR   ?=
SBINDIR   := $(PREFIX)/sbin
DATADIR   := $(PREFIX)/share/bpf_write_monitor
MANDIR    := $(PREFIX)/share/man/man8
CC        ?= cc
PYTHON    ?= python3

ifeq ($(V),1)
Q :=
else
Q := @
endif

# libbcc's headers come from pkg-config. The tracer links only libbcc_bpf
# (perf buffers, attach, maps): the compiler half of libbcc (clang, LLVM) is
# dlopen()ed by a short-lived child at startup, so it never stays resident.
BCC_CFLAGS := $(shell pkg-config --cflags libbcc 2>/dev/null)
WARN      := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS    ?= -O2 -g
CPPFLAGS  += -D_GNU_SOURCE
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(CPPFLAGS)
BPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
# --journal talks to systemd-journald through libsystemd (libsystemd-dev).
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null)
LDLIBS_TOOL := -lbcc_bpf -lbpf $(SYSTEMD_LIBS) -ldl -pthread
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

TOOL      := bpf_write_monitor
PROBES    := $(wildcard probes/*)
# CORE_SRCS need no libbcc (the unit tests link them); compile_child.c, verifier.c,
# cache_load.c, load.c and buffers.c are the only files that talk to libbcc.
CORE_SRCS := src/options.c src/sanitize.c src/lines.c src/format.c src/merge.c src/balance.c \
             src/ledger.c src/fileio.c src/procs.c src/probes.c src/program.c src/sink.c \
             src/host.c src/kfeat.c src/exits.c src/cache.c src/cache_store.c src/image.c \
             src/sha256.c src/output.c src/feedback.c src/emit.c src/keep.c src/route.c \
             src/target_pids.c src/target_cgroup.c src/target_command.c src/readscan.c \
             src/journal.c
TOOL_SRCS := $(CORE_SRCS) src/kbtf.c src/compile.c src/compile_child.c src/verifier.c \
             src/load.c src/buffers.c src/cache_load.c src/tree.c src/target.c src/readers.c \
             src/errout.c src/run.c src/report.c src/main.c
BUILD     ?= build

CORE_OBJS := $(CORE_SRCS:src/%.c=$(BUILD)/%.o)
TOOL_OBJS := $(TOOL_SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/embedded.o

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
HELPERS    := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(wildcard tests/helpers/*.c))

.PHONY: have-libsystemd all deps check check-fallback unit integration demo bench clean helpers install uninstall \
	deb FORCE check-kernels fuzz fuzz-replay

all: $(TOOL)

$(TOOL): $(TOOL_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_TOOL)

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) probes/event.h | $(BUILD)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -I$(BUILD) $(if $(filter src/kbtf.c,$<),$(BPF_CFLAGS),$(BCC_CFLAGS)) \
		-c -o $@ $<

# Without libsystemd-dev, say so rather than let the compiler miss sd-journal.h.
$(BUILD)/journal.o $(BUILD)/san/journal.o: | have-libsystemd
have-libsystemd:
	$(Q)pkg-config --exists libsystemd || { echo "make: libsystemd-dev is missing (--journal" \
		"needs sd-journal.h): run 'sudo tools/install-deps.sh'" >&2; exit 1; }

# Where `make install` puts the templates, known to the binary; rewritten
# only when PREFIX changes, so that changing it rebuilds what depends on it.
$(BUILD)/probes.o: $(BUILD)/config.h
$(BUILD)/config.h: FORCE | $(BUILD)
	$(Q)printf '#define BWM_PROBES_DIR "%s/probes"\n' '$(DATADIR)' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# The templates, embedded so that a lone binary still works.
$(BUILD)/embedded.o: src/embedded.S $(PROBES) | $(BUILD)
	@echo "  AS      $<"
	$(Q)$(CC) -c -o $@ $<

$(BUILD) $(BUILD)/tests $(BUILD)/helpers:
	$(Q)mkdir -p $@

# ---- tests -----------------------------------------------------------------

# The unit tests and what they test are built with ASan and UBSan (objects of
# their own in build/san/): any memory error or undefined behaviour fails them.
SAN_OBJS := $(CORE_SRCS:src/%.c=$(BUILD)/san/%.o)
.SECONDARY: $(SAN_OBJS)

$(BUILD)/san/%.o: src/%.c $(wildcard src/*.h) probes/event.h $(BUILD)/config.h | $(BUILD)/san
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -I$(BUILD) $(BCC_CFLAGS) -c -o $@ $<

$(BUILD)/san:
	$(Q)mkdir -p $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(SAN_OBJS) $(BUILD)/embedded.o | $(BUILD)/tests
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Isrc -o $@ $< $(SAN_OBJS) $(BUILD)/embedded.o -lcmocka \
		$(SYSTEMD_LIBS)

$(BUILD)/helpers/%: tests/helpers/%.c tests/helpers/helpers.h | $(BUILD)/helpers
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -pthread -o $@ $<

# The compile cache's proof for every shape the tool can emit on this kernel (issue 20),
# run by tests/integration/test_cache.py: the tool's objects less main.o.
$(BUILD)/prove_cache: tests/prove/prove_cache.c $(filter-out $(BUILD)/main.o,$(TOOL_OBJS))
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc -I$(BUILD) $(BCC_CFLAGS) -o $@ $^ $(LDLIBS_TOOL)

helpers: $(HELPERS) $(BUILD)/prove_cache

# ---- fuzzing (tests/fuzz) ----------------------------------------------------
# `make fuzz`: each libFuzzer target for FUZZ_SECONDS, from its seed corpus; any
# crash, leak or UB report fails (the input is left in build/fuzz/artifacts/:
# add it to tests/fuzz/corpus/NAME/). `make fuzz-replay` (part of check) runs
# every corpus through the same targets built with ASan and UBSan, no libFuzzer.
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := sanitize_lines format merge options templates image
FUZZ_SRCS_sanitize_lines := src/lines.c src/sanitize.c
FUZZ_SRCS_format    := src/format.c src/sanitize.c
FUZZ_SRCS_merge     := src/merge.c src/balance.c
FUZZ_SRCS_options   := src/options.c
FUZZ_SRCS_image     := src/image.c src/cache.c src/sha256.c
FUZZ_SRCS_templates := src/probes.c src/fileio.c src/program.c src/format.c src/sanitize.c src/options.c \
                       $(BUILD)/embedded.o
FUZZ_FLAGS   := -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -I$(BUILD) $(SAN_FLAGS)
FUZZERS      := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
REPLAYERS    := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%-replay)

$(BUILD)/fuzz:
	$(Q)mkdir -p $@ $@/artifacts

.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) tests/fuzz/fuzz.h $(wildcard src/*.h) \
		$(BUILD)/config.h | $(BUILD)/fuzz
	@echo "  CLANG   $@"
	$(Q)clang $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_SRCS_$*)

$(BUILD)/fuzz/fuzz_%-replay: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $$(FUZZ_SRCS_$$*) \
		tests/fuzz/fuzz.h $(wildcard src/*.h) $(BUILD)/config.h | $(BUILD)/fuzz
	@echo "  CC      $@"
	$(Q)$(CC) $(FUZZ_FLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_SRCS_$*)

fuzz-replay: $(REPLAYERS)
	$(Q)for n in $(FUZZ_NAMES); do \
		ASAN_OPTIONS=detect_leaks=1 $(BUILD)/fuzz/fuzz_$$n-replay tests/fuzz/corpus/$$n \
			|| exit 1; \
	done

fuzz: $(FUZZERS)
	$(Q)for n in $(FUZZ_NAMES); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$n; \
		echo "  FUZZ    $$n ($(FUZZ_SECONDS) s)"; \
		$(BUILD)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=0 \
			-artifact_prefix=$(BUILD)/fuzz/artifacts/$$n- \
			$(BUILD)/fuzz/corpus/$$n tests/fuzz/corpus/$$n 2>$(BUILD)/fuzz/$$n.log \
			|| { tail -40 $(BUILD)/fuzz/$$n.log; exit 1; }; \
	done

# Install what a fresh Debian 12 machine lacks (needs root; does nothing when all is there).
deps:
	$(Q)if [ "$$(id -u)" -ne 0 ]; then \
		echo "make: run this as root (sudo make $(MAKECMDGOALS)): it installs packages and loads BPF programs" >&2; \
		exit 1; \
	fi
	$(Q)tools/install-deps.sh

unit: $(UNIT_TESTS)
	$(Q)for t in $(UNIT_TESTS); do $$t || exit 1; done
	$(Q)$(MAKE) --no-print-directory fuzz-replay

integration: $(TOOL) helpers
	$(Q)$(PYTHON) tests/integration/run.py

# deps first, on its own, so that a fresh machine has cmocka and libbcc before anything compiles.
check: deps
	$(Q)$(MAKE) --no-print-directory unit integration

# The suite in QEMU guests booting Debian's stock kernels, one after another (tests/vm/).
# KERNELS="5.10 6.1 6.12" chooses them, TESTS="word ..." (or smoke) the tests.
check-kernels: deps
	$(Q)$(MAKE) --no-print-directory $(TOOL) helpers
	$(Q)KERNELS='$(KERNELS)' TESTS='$(TESTS)' tests/vm/check-kernels.sh

# The whole integration suite again with the entry+exit capture path forced (what
# kernels without bpf_task_pt_regs or BTF run), on this kernel.
check-fallback: deps
	$(Q)$(MAKE) --no-print-directory $(TOOL) helpers
	$(Q)BWM_CAPTURE_PATH=entry-exit $(PYTHON) tests/integration/run.py

demo: deps
	$(Q)$(MAKE) --no-print-directory $(TOOL)
	$(Q)tools/demo.sh

# The benchmark (not part of check): installs bpftrace, strace, gnuplot and GNU
# time, builds its load programs, writes bench/RESULTS.md and bench/chart.png.
BENCH_BINS := $(BUILD)/bench/load $(BUILD)/bench/minimal $(BUILD)/bench/floor

$(BUILD)/bench/load: bench/load.c | $(BUILD)/bench
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $<

$(BUILD)/bench/minimal: bench/minimal.c | $(BUILD)/bench
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(BCC_CFLAGS) -o $@ $< -lbcc

$(BUILD)/bench/floor: bench/floor.c | $(BUILD)/bench
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(BCC_CFLAGS) -o $@ $< -lbcc

$(BUILD)/bench:
	$(Q)mkdir -p $@

bench:
	$(Q)if [ "$$(id -u)" -ne 0 ]; then echo "make: run this as root (sudo make bench)" >&2; exit 1; fi
	$(Q)tools/install-deps.sh --bench
	$(Q)$(MAKE) --no-print-directory $(TOOL) $(BENCH_BINS)
	$(Q)$(PYTHON) bench/bench.py

install: $(TOOL)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/probes $(DESTDIR)$(MANDIR)
	install -m 0755 $(TOOL) $(DESTDIR)$(SBINDIR)/$(TOOL)
	install -m 0644 $(PROBES) $(DESTDIR)$(DATADIR)/probes/
	install -m 0644 doc/records.schema.json $(DESTDIR)$(DATADIR)/records.schema.json
	install -m 0644 man/man8/$(TOOL).8 $(DESTDIR)$(MANDIR)/$(TOOL).8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/$(TOOL) $(DESTDIR)$(MANDIR)/$(TOOL).8
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/probes/,$(notdir $(PROBES)))
	rm -f $(DESTDIR)$(DATADIR)/records.schema.json
	-rmdir $(DESTDIR)$(DATADIR)/probes $(DESTDIR)$(DATADIR) 2>/dev/null

# ---- Debian package ----------------------------------------------------------

# `make deb` builds the tool again, apart (in build/deb, for PREFIX=/usr so that
# it finds its templates in /usr/share, with the hardening flags of
# dpkg-buildflags), then tools/make-deb.sh packages and lints it.
DEB_VERSION := $(shell sed -n 's/^\#define BWM_VERSION[[:space:]]*"\(.*\)"$$/\1/p' src/options.h)
DEB         := bpf-write-monitor_$(DEB_VERSION)_amd64.deb
DEB_BUILD   := build/deb

# build/deb is built with exactly these flags: when they change, it is built afresh.
deb:
	$(Q)if [ "$$(id -u)" -eq 0 ]; then tools/install-deps.sh --deb; fi
	$(Q)flags=$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh) || { \
		echo "make: dpkg-buildflags failed: run 'sudo make deb' (it installs dpkg-dev)" >&2; \
		exit 1; }; \
	if [ "$$flags" != "$$(cat $(DEB_BUILD)/buildflags 2>/dev/null)" ]; then \
		rm -rf $(DEB_BUILD) && mkdir -p $(DEB_BUILD) && \
		printf '%s\n' "$$flags" > $(DEB_BUILD)/buildflags; fi; \
	eval "$$flags"; $(MAKE) --no-print-directory BUILD=$(DEB_BUILD) PREFIX=/usr $(DEB)

$(DEB): $(BUILD)/$(TOOL) $(PROBES) man/man8/$(TOOL).8 tools/$(TOOL)_example.txt doc/records.schema.json \
		$(wildcard debian/*) tools/make-deb.sh
	$(Q)if [ "$(BUILD) $(PREFIX)" != "$(DEB_BUILD) /usr" ]; then \
		echo "make: build the package with 'make deb'" >&2; exit 1; fi
	$(Q)tools/make-deb.sh $(BUILD)/$(TOOL) $(BUILD)/pkg $@

$(BUILD)/$(TOOL): $(TOOL_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_TOOL)

FORCE:

clean:
	rm -rf $(BUILD) $(TOOL) bpf-write-monitor_*_amd64.deb
