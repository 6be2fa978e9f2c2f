/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_KEEP_H
#define BWM_KEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../probes/event.h"
#include "emit.h"
#include "ledger.h"
#include "lines.h"

/*
 * The keeper (keep.c), for --on-failure: instead of printing lines as they
 * come, keep each traced process's last N lines per stream. When it exits
 * with a non-zero status or is killed by a signal, its kept lines are
 * printed under a header ("PID 4242 (backup.sh) exited with status 2; its
 * last 17 lines:"; with --json the line records and then the exit record);
 * when it exits 0 they are dropped, or, with -f, handed to its parent (a
 * failing script then shows what the commands it ran printed, even those
 * that succeeded). All kept lines together are bounded by --max-held bytes:
 * past it the oldest line of all is dropped. Every line not shown is counted
 * in the ledger by its reason (KEPT_*): none of them is a loss.
 */
struct keep_opts {
	unsigned per_stream;	/* N: lines kept per process and stream */
	size_t max_held;	/* bytes kept in all (lines and their bookkeeping) */
	bool inherit;		/* -f or a cgroup: a process that exits 0 hands its lines to its parent */
	bool show_running;	/* -x: processes still running at the end are shown */
};

struct keep;

/* NULL when out of memory. Lines go to emit; what is not shown is counted in ledger. */
struct keep *keep_new(const struct keep_opts *o, struct emit *emit, struct ledger *ledger);
void keep_free(struct keep *k);

/* A line_fn (lines.h): cookie is the keeper. Keeps the line with its process. */
void keep_line(void *cookie, const struct line_meta *m, const char *text, size_t len,
	       uint64_t missing);

/* A traced process forked child: the child's lines may go to parent. */
void keep_fork(struct keep *k, uint32_t child, uint32_t parent);

/*
 * A traced process exited (an EXIT record; its partial lines already passed
 * on): print, hand over or drop its lines. True when a JSON exit record
 * was printed for it (the router then prints none).
 */
bool keep_exit(struct keep *k, const struct bwm_event *ev, const struct line_meta *m);

/* The end of the run: the processes still running are shown (show_running) or dropped. */
void keep_finish(struct keep *k);

/* Lines and bytes kept now. */
size_t keep_lines(const struct keep *k);
size_t keep_held(const struct keep *k);

#endif /* BWM_KEEP_H */
