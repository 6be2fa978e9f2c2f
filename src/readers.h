/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_READERS_H
#define BWM_READERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "load.h"
#include "options.h"
#include "procs.h"
#include "requests.h"

/*
 * Whoever reads the tool's output must not be traced: what it writes would
 * be captured, printed, read and written again (readers.c).
 *
 * With descendants: readers of the output (out_fd, and stderr) that appear
 * while tracing (a FIFO opened later, a tee started later) are found by a
 * rescan every READER_SCAN_NS and registered with mask 0, like those found
 * at the start (tree_register()), with a notice. The loop breaker's requests
 * (requests.h) are carried out here too: a rescan at once for a suspect, a
 * cut (or, without -f, the end) for a loop.
 */
#define READER_SCAN_NS	1000000000ull

struct readers {
	const struct config *cfg;
	struct tracer *tracer;
	int out_fd;
	FILE *notices;		/* stderr */
	pid_t known[MAX_READERS];
	size_t n;
	bool primed;		/* the first scan only learns who reads already */
	uint64_t next_scan;	/* CLOCK_MONOTONIC ns */
};

void readers_init(struct readers *rd, const struct config *cfg, struct tracer *t, int out_fd,
		  FILE *notices);

/* -f: rescan when due (now: CLOCK_MONOTONIC ns); new readers are excluded, with a notice. */
void readers_check(struct readers *rd, uint64_t now);

/*
 * Carry out the loop breaker's requests (rescan, cuts); true when the run
 * must end (a loop through a target that cannot be cut, without -f).
 */
bool readers_apply(struct readers *rd, const struct requests *req);

#endif /* BWM_READERS_H */
