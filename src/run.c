// SPDX-License-Identifier: GPL-2.0
/*
 * run.c - the run loop: drain, tick, hot-plug, readers, and the stop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <unistd.h>

#include "app.h"
#include "run.h"
#include "tree.h"

#define MAX_FDS		1024

static volatile sig_atomic_t exiting;		/* a stop signal not yet taken by run_loop() */
static volatile sig_atomic_t stopping;		/* 1: one came (or --duration ended): the
						   output's grace runs; 2: a second one came */
static volatile sig_atomic_t from_terminal;	/* the kernel sent it: the whole process group */

/*
 * The stop tick: from the first stop on, SIGALRM interrupts a write the
 * output (or stderr: errout.c) blocks every RUN_STOP_TICK_US (no
 * SA_RESTART), so that they can give up in time. It runs until the tool
 * has written its last word (run_quiet()).
 */
static void start_tick(void)
{
	struct itimerval tick = {
		.it_interval = { .tv_usec = RUN_STOP_TICK_US },
		.it_value = { .tv_usec = RUN_STOP_TICK_US },
	};

	setitimer(ITIMER_REAL, &tick, NULL);
}

/*
 * A stop request (SIGINT, SIGTERM, SIGHUP): run_loop() takes it (and passes
 * it on to a command). From the first one on, the output has
 * RUN_STOP_GRACE_NS more to take what is left; a second one ends the run at
 * once, command or not, and the output and stderr give up at once.
 */
static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (!stopping)
		start_tick();
	from_terminal = info && info->si_code == SI_KERNEL;
	stopping = stopping ? 2 : 1;
	exiting = sig;
}

/* The stop tick, or --duration's end (armed by run_loop()): a stop like a signal's. */
static void on_alarm(int sig)
{
	(void)sig;
	if (!stopping) {
		stopping = 1;
		start_tick();
	}
}

void run_signals(void)
{
	/* No SA_RESTART: a stop interrupts a blocked write (see on_signal). */
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	struct sigaction alarm = { .sa_handler = on_alarm };

	sigemptyset(&sa.sa_mask);
	sigemptyset(&alarm.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &alarm, NULL);
	signal(SIGPIPE, SIG_IGN);
}

const volatile sig_atomic_t *run_stopping(void)
{
	return &stopping;
}

bool run_stop_pending(void)
{
	return exiting != 0;
}

void run_quiet(void)
{
	setitimer(ITIMER_REAL, &(struct itimerval){ 0 }, NULL);
}

uint64_t run_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Records lost: the probes count what a full buffer refused (at once) and
 * the buffer counts the same records (told only with its next record), so
 * a CPU's loss is the larger of the two; records refused for any other
 * reason are counted by the probes alone.
 */
static void note_losses(struct app *app)
{
	uint64_t other = tracer_dropped(app->tracer, app->full, app->params.ncpus);
	uint64_t no_memory = merge_no_memory(app->merger);
	uint64_t untracked = tracer_dropped_slot(app->tracer, BWM_DROP_UNTRACKED);
	uint64_t unstashed = tracer_dropped_slot(app->tracer, BWM_DROP_UNSTASHED);
	uint64_t lost_bytes = tracer_dropped_slot(app->tracer, BWM_DROP_BYTES) +
			      merge_no_memory_bytes(app->merger);
	struct ledger *l = &app->ledger;
	uint64_t events_before = ledger_events_lost(l), bytes_before = l->n[LOSS_LOST_BYTES];
	int cpu;

	/* Both are running totals: the ledger takes what is new. */
	if (other > l->n[LOSS_NO_BUFFER])
		ledger_add(l, LOSS_NO_BUFFER, other - l->n[LOSS_NO_BUFFER]);
	if (no_memory > l->n[LOSS_NO_MEMORY])
		ledger_add(l, LOSS_NO_MEMORY, no_memory - l->n[LOSS_NO_MEMORY]);
	if (untracked > l->n[LOSS_UNTRACKED])
		ledger_add(l, LOSS_UNTRACKED, untracked - l->n[LOSS_UNTRACKED]);
	if (unstashed > l->n[LOSS_UNSTASHED_CALLS])
		ledger_add(l, LOSS_UNSTASHED_CALLS, unstashed - l->n[LOSS_UNSTASHED_CALLS]);
	for (cpu = 0; cpu < app->params.ncpus; cpu++) {
		uint64_t lost = merge_lost_on(app->merger, cpu);

		ledger_cpu_full(l, cpu, app->full[cpu] > lost ? app->full[cpu] : lost);
		ledger_cpu_capped(l, cpu, merge_capped_on(app->merger, cpu));
	}
	if (lost_bytes > l->n[LOSS_LOST_BYTES])
		ledger_add(l, LOSS_LOST_BYTES, lost_bytes - l->n[LOSS_LOST_BYTES]);
	if (ledger_events_lost(l) > events_before || l->n[LOSS_LOST_BYTES] > bytes_before)
		emit_lost(&app->emit, run_clock_ns(CLOCK_MONOTONIC), ledger_events_lost(l) -
			  events_before, l->n[LOSS_LOST_BYTES] - bytes_before);
}

/* What the drain asked of the maps: exited processes forgotten, loops cut. */
static void carry_out(struct app *app)
{
	size_t i;

	for (i = 0; i < app->req.nforget; i++)
		tree_forget(app->tracer, app->req.forget[i]);
	if (readers_apply(&app->readers, &app->req))
		app->req.stop = true;
	requests_clear(&app->req);
}

/*
 * Move what the kernel wrote into lines. The limit is read before draining:
 * everything stamped before it is in the buffers by now (see merge.h).
 */
void run_drain(struct app *app, bool final)
{
	uint64_t now = run_clock_ns(CLOCK_MONOTONIC);

	app->emit.wall_offset = (int64_t)(run_clock_ns(CLOCK_REALTIME) - now);
	buffers_drain(app->buffers);
	merge_release(app->merger, final ? UINT64_MAX : now, route_event, &app->router);
	exits_settle(&app->exits, run_clock_ns(CLOCK_MONOTONIC), now, final, route_event,
		     &app->router);
	if (!final)
		lines_tick(app->lines, now);	/* every event stamped before now is in */
	note_losses(app);
	if (final)
		lines_flush_all(app->lines);
	sink_flush(&app->sink);
	carry_out(app);
}

/*
 * Poll every buffer (again: EEXIST for those already polled is fine) and the
 * targets' pidfds, each until it has fired once (EPOLLONESHOT): a pidfd
 * stays readable once its process has exited, and would wake the loop at
 * once for ever.
 */
static void watch_fds(struct app *app, int ep)
{
	int fds[MAX_FDS], n, nbuf, i;

	nbuf = n = buffers_fds(app->buffers, fds, MAX_FDS);
	n += target_watch_fds(&app->target, fds + n, MAX_FDS - n);
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | (i >= nbuf ? EPOLLONESHOT : 0),
					  .data.fd = fds[i] };

		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
}

/* Look for CPUs brought online; poll their buffers too. */
static void check_cpus(struct app *app, int ep)
{
	char err[256];
	int added = buffers_add_cpus(app->buffers, app->cfg.verbose, err, sizeof(err));

	if (added < 0)
		fprintf(stderr, "%s: %s\n", BWM_NAME, err);
	else if (added > 0)
		watch_fds(app, ep);
}

int run_loop(struct app *app)
{
	uint64_t now = run_clock_ns(CLOCK_MONOTONIC), next_cpu_check = now + RUN_CPU_CHECK_NS;
	uint64_t deadline = run_deadline(app->cfg.duration, now);
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0) {
		fprintf(stderr, "%s: epoll_create1 failed\n", BWM_NAME);
		return 1;
	}
	watch_fds(app, ep);
	/*
	 * --duration's end is a stop too: an alarm, so that it also comes while
	 * a write to an unread output blocks (the loop would never see it).
	 */
	if (deadline != UINT64_MAX)
		setitimer(ITIMER_REAL, &(struct itimerval){
			.it_value = { .tv_sec = (time_t)app->cfg.duration,
				      .tv_usec = (suseconds_t)((app->cfg.duration -
						(time_t)app->cfg.duration) * 1e6) + 1 } }, NULL);
	while (!app->sink.error && !app->req.stop && stopping < 2) {
		struct epoll_event evs[16];
		int sig = exiting;

		/* A command gets the signal; the tool ends when it is done. */
		exiting = 0;
		if (sig && !target_forward(&app->target, sig, !from_terminal))
			break;
		if (epoll_wait(ep, evs, 16, RUN_DRAIN_MS) < 0 && errno != EINTR) {
			fprintf(stderr, "%s: epoll_wait failed\n", BWM_NAME);
			break;
		}
		run_drain(app, false);
		now = run_clock_ns(CLOCK_MONOTONIC);
		if (now >= deadline) {
			on_alarm(SIGALRM);
			break;
		}
		if (target_done(&app->target, app->tracer, &app->cfg, now)) {
			app->done = true;
			break;
		}
		readers_check(&app->readers, now);
		if (now >= next_cpu_check) {
			check_cpus(app, ep);
			next_cpu_check = now + RUN_CPU_CHECK_NS;
		}
	}
	close(ep);
	return 0;
}
