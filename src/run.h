/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_RUN_H
#define BWM_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct app;

/*
 * The run loop (run.c): epoll on the perf buffers and the targets' pidfds, a
 * drain every DRAIN_MS (buffers -> merger -> router), CPUs brought online,
 * the readers of the output, and the stop: SIGINT, SIGTERM, SIGHUP (passed
 * on to a command), --duration, the targets gone, the output gone.
 */
#define RUN_DRAIN_MS		25		/* an idle line appears within this */
#define RUN_CPU_CHECK_NS	1000000000ull	/* how often CPUs brought online are looked for */
#define RUN_STOP_GRACE_NS	500000000ull	/* after a stop request, output gets this much more */
#define RUN_STOP_TICK_US	100000		/* a blocked write is interrupted this often then */

/* Install the stop signals' handlers (no SA_RESTART: see run.c), SIGPIPE ignored. */
void run_signals(void);

/* Set once a stop signal came: the output's grace runs from then (sink_set_stop()). */
const volatile sig_atomic_t *run_stopping(void);

/* Has a stop signal come that no one has taken yet (startup: give up)? */
bool run_stop_pending(void);

/* When --duration ends (CLOCK_MONOTONIC ns), from now; UINT64_MAX without one. */
static inline uint64_t run_deadline(double duration, uint64_t now)
{
	return duration > 0 ? now + (uint64_t)(duration * 1e9) : UINT64_MAX;
}

/* Wait for records or the drain timer, until told to stop or all is done. 0, or 1. */
int run_loop(struct app *app);

/* Move what the kernel wrote into lines; final: everything, and every held line. */
void run_drain(struct app *app, bool final);

/* Stop the stop tick: the output is done with. */
void run_quiet(void);

uint64_t run_clock_ns(clockid_t id);

#endif /* BWM_RUN_H */
