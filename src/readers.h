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
#include "readscan.h"
#include "requests.h"

/*
 * Whoever reads the tool's output must not be traced: what it writes would
 * be captured, printed, read and written again (readers.c). Nor another run
 * of the tool, nor the readers of its output: the two would feed each other.
 *
 * With descendants: the first scan (readers_first()) finds them before the
 * targets are registered (tree_register() gives them mask 0); from then on a
 * rescan every READER_SCAN_NS excludes new ones and traces again those that
 * no longer read, each with a notice. A reader's children are traced from
 * their fork (BWM_READER_MARK) until a scan finds that they read too. A
 * process that held the output's regular file open for reading is excluded
 * only when a second scan finds it still does (tail -f, not a script that
 * read the log once). The loop breaker's requests (requests.h) are carried
 * out here too: a rescan at once for a suspect, a cut (or, without -f, the
 * end) for a loop; a cut is for good.
 */
#define READER_SCAN_NS	1000000000ull

struct readers {
	const struct config *cfg;
	struct tracer *tracer;
	int out_fd;
	FILE *notices;		/* stderr */
	struct reader ex[MAX_READERS];		/* excluded now */
	size_t nex;
	struct reader files[MAX_READERS];	/* file readers seen once, not excluded yet */
	size_t nfiles;
	pid_t cut[MAX_READERS];			/* loops cut: for good */
	size_t ncut;
	bool primed;		/* the first scan's exclusions are in the map */
	uint64_t next_scan;	/* CLOCK_MONOTONIC ns */
};

void readers_init(struct readers *rd, const struct config *cfg, int out_fd, FILE *notices);

/* The first scan: what must not be traced, before any target is registered. */
void readers_first(struct readers *rd);

/* --cgroup: say what the program excludes for the whole run (ex, n). */
void readers_fixed(struct readers *rd, const struct reader *ex, size_t n);

/*
 * -f: from the first call on (after the targets are registered), the first
 * scan's exclusions are said; then a rescan when due (now: CLOCK_MONOTONIC
 * ns), each change with a notice.
 */
void readers_check(struct readers *rd, uint64_t now);

/*
 * Carry out the loop breaker's requests (rescan, cuts); true when the run
 * must end (a loop through a target that cannot be cut, without -f).
 */
bool readers_apply(struct readers *rd, const struct requests *req);

#endif /* BWM_READERS_H */
