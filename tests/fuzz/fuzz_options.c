// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_options - options_parse() on arbitrary argv, twice in a row: the
 * input is split at the byte 0x01 into two command lines, each split at NUL
 * bytes into at most 32 arguments after the program name. The second is
 * parsed, then the first, then the second again, which must come out the
 * same (getopt keeps state between calls). Invariants: a config accepted
 * to run is sane: a PID (or --ebpf), a fd mask, a page count that is a power
 * of two in range, a byte limit in range.
 */
#include "fuzz.h"
#include "options.h"

#define MAX_ARGS	32

static char *copies[3];
static int ncopies;

/* Parse one command line; its result and config, pointers made comparable. */
static int parse_one(const uint8_t *data, size_t size, FILE *sink, struct config *cfg)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2], *p;
	int argc = 1, rc;

	if (!copy)
		return -1;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "bpf_write_monitor";
	for (p = copy; p <= copy + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	rc = options_parse(argc, argv, cfg, sink, sink);
	if (rc == OPTIONS_RUN) {
		FUZZ_ASSERT(cfg->fd_mask != 0);
		FUZZ_ASSERT(cfg->buffer_pages >= 1 && cfg->buffer_pages <= BWM_MAX_PAGES);
		FUZZ_ASSERT((cfg->buffer_pages & (cfg->buffer_pages - 1)) == 0);
		FUZZ_ASSERT(cfg->max_bytes >= 1 && cfg->max_bytes <= BWM_MAX_MAX_BYTES);
		FUZZ_ASSERT(cfg->duration >= 0);
		/* A PID target has its PID; --cgroup, --unit and a command have none. */
		FUZZ_ASSERT(cfg->ebpf || cfg->pid > 0 || cfg->kind != TARGET_PIDS);
		FUZZ_ASSERT(!cfg->journal || !(cfg->raw || cfg->json || cfg->output));
		options_streams(cfg);
	}
	/* The strings point into argv: keep only whether they were given. */
	cfg->output = cfg->output ? "" : NULL;
	cfg->probe_dir = cfg->probe_dir ? "" : NULL;
	/* Kept until the input is done, so that a stale getopt pointer reads it. */
	copies[ncopies++] = copy;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *cut = memchr(data, 1, size);
	FILE *sink = fopen("/dev/null", "w");

	if (!sink)
		return 0;
	if (cut) {
		struct config after, alone;
		int rc;

		rc = parse_one(cut + 1, size - (cut - data) - 1, sink, &alone);
		parse_one(data, cut - data, sink, &after);
		/* What came before changes nothing. */
		FUZZ_ASSERT(parse_one(cut + 1, size - (cut - data) - 1, sink, &after) == rc);
		FUZZ_ASSERT(rc != OPTIONS_RUN || !memcmp(&after, &alone, sizeof(alone)));
	} else {
		struct config cfg;

		parse_one(data, size, sink, &cfg);
	}
	fclose(sink);
	while (ncopies > 0)
		free(copies[--ncopies]);
	return 0;
}
