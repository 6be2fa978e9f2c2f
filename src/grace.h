/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_GRACE_H
#define BWM_GRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * The stop's grace for whatever the tool writes to (the sink, the journal,
 * its own stderr): once *stop is set (run.c: a stop signal, or --duration's
 * end), a write that does not complete gets grace_ns more, then the writer
 * gives up for good; from a second stop request (*stop >= 2) on, at once.
 */
struct grace {
	const volatile sig_atomic_t *stop;
	uint64_t grace_ns;
	uint64_t deadline;	/* CLOCK_MONOTONIC ns, 0 until the stop is seen */
	bool gave_up;
};

/* Told to stop, and out of time for the rest? Once true, always. */
static inline bool grace_over(struct grace *g)
{
	struct timespec ts;
	uint64_t now;

	if (g->gave_up)
		return true;
	if (!g->stop || !*g->stop)
		return false;
	if (*g->stop >= 2)
		return g->gave_up = true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (!g->deadline)
		g->deadline = now + g->grace_ns;
	if (now >= g->deadline)
		g->gave_up = true;
	return g->gave_up;
}

#endif /* BWM_GRACE_H */
