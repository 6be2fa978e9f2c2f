/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_TREE_H
#define BWM_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "load.h"
#include "readscan.h"

/*
 * Register what is traced, after the lifecycle probes are attached and
 * before capture is enabled (the seed's order). With descendants: the
 * target, then every descendant /proc shows, scanning again until a scan
 * finds nothing new (a fork after a parent's registration is the fork
 * probe's). The tool itself and ex (the readers of its output, other runs:
 * readers.c) are registered with mask 0, so that tracing them cannot feed
 * the output back into itself (their children are traced); a target in ex
 * is refused.
 * Returns the number of processes traced, or -1 with a message in err.
 */
long tree_register(struct tracer *t, const struct config *cfg, const pid_t *targets, size_t n,
		   const struct reader *ex, size_t nex, long pid_max, char *err, size_t errlen);

/* Tells when everything traced has exited. */
struct tree_watch {
	pid_t targets[BWM_MAX_PIDS];
	int pidfds[BWM_MAX_PIDS];	/* -1 where pidfd_open() is not available */
	bool gone[BWM_MAX_PIDS];
	size_t n;
	uint64_t next_scan;	/* CLOCK_MONOTONIC ns */
};

/*
 * Watch targets[0..n). pidfds: theirs (may be NULL), owned from now on; where
 * one is -1 the watch opens it if it can.
 */
void tree_watch_init(struct tree_watch *w, const pid_t *targets, const int *pidfds, size_t n);
void tree_watch_free(struct tree_watch *w);

/* Fds that become readable when a target exits: how many were put in fds (at most max). */
int tree_watch_fds(const struct tree_watch *w, int *fds, int max);

/* Has every traced process exited? now: CLOCK_MONOTONIC ns. */
bool tree_done(struct tree_watch *w, struct tracer *t, const struct config *cfg, uint64_t now);

/*
 * An exited process that the exit probe could not drop from bwm_monitored
 * (its exit was told by /proc): drop it.
 */
void tree_forget(struct tracer *t, pid_t pid);

#endif /* BWM_TREE_H */
