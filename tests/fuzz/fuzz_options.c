// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_options - options_parse() on arbitrary argv: the input split at NUL
 * bytes into at most 32 arguments after the program name.
 * Invariants: a config accepted to run names a PID or --ebpf... is sane:
 * the fd mask is not empty, the page count a power of two in range.
 */
#include "fuzz.h"
#include "options.h"

#define MAX_ARGS	32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2], *p;
	FILE *sink = fopen("/dev/null", "w");
	struct config cfg;
	int argc = 1;

	if (!copy || !sink) {
		free(copy);
		if (sink)
			fclose(sink);
		return 0;
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "bpf_write_monitor";
	for (p = copy; p <= copy + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	if (options_parse(argc, argv, &cfg, sink, sink) == OPTIONS_RUN) {
		FUZZ_ASSERT(cfg.fd_mask != 0);
		FUZZ_ASSERT(cfg.buffer_pages >= 1 && cfg.buffer_pages <= BWM_MAX_PAGES);
		FUZZ_ASSERT((cfg.buffer_pages & (cfg.buffer_pages - 1)) == 0);
		FUZZ_ASSERT(cfg.max_bytes >= 1 && cfg.max_bytes <= BWM_MAX_MAX_BYTES);
		FUZZ_ASSERT(cfg.duration >= 0);
		FUZZ_ASSERT(cfg.ebpf || cfg.pid > 0);
		options_streams(&cfg);
	}
	fclose(sink);
	free(copy);
	return 0;
}
