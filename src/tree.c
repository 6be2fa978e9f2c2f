// SPDX-License-Identifier: GPL-2.0
/*
 * tree.c - which processes are traced, and when they are all gone.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procs.h"
#include "readscan.h"
#include "tree.h"

#define SCAN_ROUNDS	16		/* /proc rescans before giving up on a fork storm */
#define WATCH_NS	200000000ull	/* how often a gone target's tree is checked */

/* Register the descendants /proc shows now; how many were new, or -1. */
static long register_scan(struct tracer *t, const struct config *cfg, struct pidset *seen,
			  const struct reader *ex, size_t nex)
{
	struct proc_entry *list = NULL;
	ssize_t n = proc_list(&list);
	struct proc_entry *found;
	size_t nfound, i;
	long added = 0;

	if (n < 0)
		return -1;
	found = malloc((n ? n : 1) * sizeof(*found));
	if (!found) {
		free(list);
		return -1;
	}
	nfound = proc_descendants(list, n, seen, cfg->exclude_kernel, found, n);
	/*
	 * Each process for itself: a reader of the output (or another run) is
	 * not traced, its children are, unless they read too (a fork probe that
	 * was first is overruled). A fork probe may have been first for the
	 * others; its mask came from the same parent.
	 */
	for (i = 0; i < nfound; i++) {
		pid_t pid = found[i].pid;
		bool zero = readscan_find(ex, nex, pid) || pid == getpid();

		if (tracer_set_pid(t, pid, zero ? 0 : cfg->fd_mask, !zero) == 0)
			added += !zero;
	}
	free(found);
	free(list);
	return added;
}

/* The targets, none of them a reader of the tool's output. 0, or -1 with a message. */
static int register_targets(struct tracer *t, const struct config *cfg, const pid_t *targets,
			    size_t n, const struct reader *ex, size_t nex, struct pidset *seen,
			    char *err, size_t errlen)
{
	const struct reader *r;
	size_t i;

	for (i = 0; i < n; i++) {
		r = readscan_find(ex, nex, targets[i]);
		if (r && r->kind == READ_RUN) {
			snprintf(err, errlen, "PID %d is another run of this tool: tracing it would "
				 "feed the two outputs into each other (trace what it traces, or end "
				 "it first)", (int)targets[i]);
			return -1;
		}
		if (r) {
			snprintf(err, errlen, "PID %d reads this tool's own output: tracing it would "
				 "feed the output back into itself (send the output elsewhere, e.g. "
				 "-o FILE or > FILE)", (int)targets[i]);
			return -1;
		}
		if (!cfg->descendants)
			continue;
		pidset_add(seen, targets[i]);
		if (tracer_set_pid(t, targets[i], cfg->fd_mask, false)) {
			snprintf(err, errlen, "cannot register PID %d in bwm_monitored: %s",
				 (int)targets[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

long tree_register(struct tracer *t, const struct config *cfg, const pid_t *targets, size_t n,
		   const struct reader *ex, size_t nex, long pid_max, char *err, size_t errlen)
{
	struct pidset seen = { 0 };
	long total = n, added;
	int round;

	if (!cfg->descendants)
		return register_targets(t, cfg, targets, n, ex, nex, NULL, err,
					errlen) ? -1 : total;
	if (pidset_init(&seen, pid_max + 1)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/*
	 * The monitor itself: not traced. Whoever reads its output (readers.c)
	 * gets mask 0 only where the walk finds it, in the tree: a reader
	 * outside it has no entry, and neither have its children.
	 */
	tracer_set_pid(t, getpid(), 0, false);
	if (register_targets(t, cfg, targets, n, ex, nex, &seen, err, errlen)) {
		total = -1;
		goto out;
	}
	for (round = 0; round < SCAN_ROUNDS; round++) {
		added = register_scan(t, cfg, &seen, ex, nex);
		if (added < 0) {
			snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
			total = -1;
			goto out;
		}
		if (added == 0 && round > 0)
			break;
		total += added;
	}
out:
	pidset_free(&seen);
	return total;
}

void tree_watch_init(struct tree_watch *w, const pid_t *targets, const int *pidfds, size_t n)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	w->n = n < BWM_MAX_PIDS ? n : BWM_MAX_PIDS;
	for (i = 0; i < w->n; i++) {
		w->targets[i] = targets[i];
		w->pidfds[i] = pidfds && pidfds[i] >= 0 ? pidfds[i] :
			       syscall(SYS_pidfd_open, targets[i], 0);
		if (w->pidfds[i] < 0)
			w->pidfds[i] = -1;
	}
}

void tree_watch_free(struct tree_watch *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (w->pidfds[i] >= 0)
			close(w->pidfds[i]);
		w->pidfds[i] = -1;
	}
}

int tree_watch_fds(const struct tree_watch *w, int *fds, int max)
{
	int n = 0;
	size_t i;

	for (i = 0; i < w->n && n < max; i++)
		if (w->pidfds[i] >= 0 && !w->gone[i])
			fds[n++] = w->pidfds[i];
	return n;
}

static bool one_gone(struct tree_watch *w, size_t i)
{
	struct pollfd p = { .fd = w->pidfds[i], .events = POLLIN };

	if (w->pidfds[i] >= 0)
		return poll(&p, 1, 0) > 0;
	return kill(w->targets[i], 0) != 0 && errno == ESRCH;
}

/* Have all the targets exited? */
static bool targets_gone(struct tree_watch *w)
{
	bool all = true;
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (!w->gone[i])
			w->gone[i] = one_gone(w, i);
		all &= w->gone[i];
	}
	return all;
}


/* A traced entry of bwm_monitored whose process still runs stops the walk. */
static int live_entry(pid_t pid, uint32_t mask, void *arg)
{
	struct tracer *t = arg;

	if (!mask)
		return 0;
	if (kill(pid, 0) == 0 || errno != ESRCH)
		return 1;
	tracer_forget_pid(t, pid);	/* exited before it was registered */
	return 0;
}

bool tree_done(struct tree_watch *w, struct tracer *t, const struct config *cfg, uint64_t now)
{
	if (!targets_gone(w) || !cfg->descendants)
		return targets_gone(w);
	if (now < w->next_scan)
		return false;
	w->next_scan = now + WATCH_NS;
	return tracer_each_pid(t, live_entry, t) == 0 && !tracer_has_pending(t);
}

void tree_forget(struct tracer *t, pid_t pid)
{
	tracer_forget_pid(t, pid);
}
