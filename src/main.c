// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_write_monitor - print what a running process writes to stdout/stderr.
 *
 * main.c: the pipeline, step by step (see README "How it works"):
 *   options -> target -> host checks -> kernel features -> program text
 *   -> compile or cache -> load and attach (the seed's order) -> run
 *   -> report -> teardown (the reverse, on every path).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cache_load.h"
#include "errout.h"
#include "host.h"
#include "kbtf.h"
#include "kfeat.h"
#include "output.h"
#include "report.h"
#include "run.h"

#define WAKEUP_EVENTS	64		/* records per reader wakeup */
#define MAX_LINE	(1 << 20)	/* longer lines are passed on in pieces */

static void fail(const char *msg)
{
	fprintf(stderr, "%s: %s\n", BWM_NAME, msg);
}

/*
 * Privileges, the target (see target.h; a command is started, held), tracefs
 * and headers; with --no-cache the compiler child (it loads libbcc, ~0.1 s,
 * while the program is prepared). For --ebpf, only what shapes the program.
 * Returns 0 or the exit status to end with.
 */
static int check_host(struct app *app)
{
	char err[1024];
	int rc;

	if (app->cfg.ebpf) {
		rc = target_preview(&app->target, &app->cfg, err, sizeof(err));
		if (rc)
			fail(err);
		target_params(&app->target, &app->params);
		return rc;
	}
	if (host_check_privileges(err, sizeof(err))) {
		fail(err);
		return 1;
	}
	rc = target_resolve(&app->target, &app->cfg, err, sizeof(err));
	if (rc) {
		fail(err);
		return rc;
	}
	target_params(&app->target, &app->params);
	if (host_check_tracefs(err, sizeof(err)) || host_check_headers(err, sizeof(err)) ||
	    (app->cfg.no_cache &&
	     !(app->compiler = compiler_start(app->cfg.verbose, err, sizeof(err))))) {
		fail(err);
		return 1;
	}
	return 0;
}

/*
 * What the running kernel offers decides the capture path and the exit
 * method (src/kfeat.c); then the program text from the templates.
 */
static int build_program(struct app *app)
{
	const struct config *cfg = &app->cfg;
	const struct kfeat_ops *ops = kbtf_ops(!cfg->ebpf);
	struct kfeat k;
	char err[1024];
	int rc = kfeat_detect(ops, cfg->exits || cfg->on_failure, &k, err, sizeof(err));

	if (!rc && cfg->kind == TARGET_CGROUP)
		rc = kfeat_cgroup(ops, &k, err, sizeof(err));
	kbtf_release();
	if (!rc) {
		kfeat_apply(&k, &app->params);
		exits_init(&app->exits, k.exit_method);
		kfeat_report(&k, cfg, stderr);
		rc = probes_load(cfg->probe_dir, &app->tpl, err, sizeof(err));
	}
	if (!rc && cfg->verbose)
		fprintf(stderr, "%s: templates from %s\n", BWM_NAME, app->tpl.origin);
	if (!rc)
		rc = program_build(&app->params, &app->tpl, &app->prog, err, sizeof(err));
	if (rc)
		fail(err);
	return rc ? 1 : 0;
}

/* --ebpf: the program text, and nothing loaded. */
static int print_program(struct app *app)
{
	fputs(app->prog.text, stdout);
	return fflush(stdout) ? 1 : 0;
}

/*
 * The merger's cap a CPU: twice a buffer, or $BWM_MERGE_CAP bytes (for tests:
 * a small cap makes the tool fall behind on purpose). 0 when the variable is bad.
 */
static size_t merge_cap(const struct config *cfg)
{
	const char *env = getenv("BWM_MERGE_CAP");
	char *end;
	unsigned long long v;

	if (!env)
		return MERGE_CAP(cfg->buffer_pages, sysconf(_SC_PAGESIZE));
	errno = 0;
	v = strtoull(env, &end, 10);
	return errno || end == env || *end || !v || env[0] == '-' ? 0 : (size_t)v;
}

/* The output (stdout or -o FILE) and the stages between the buffers and it. */
static int open_pipeline(struct app *app)
{
	const struct config *cfg = &app->cfg;
	char err[2 * PATH_MAX + 256];
	size_t cap = merge_cap(cfg);

	run_signals();
	if (errout_install(run_stopping(), RUN_STOP_GRACE_NS)) {
		fail("cannot set up stderr (out of memory?)");
		return 1;
	}
	if (!cap) {
		fail("BWM_MERGE_CAP: give a number of bytes above 0, or unset it");
		return 1;
	}
	/* Before anything is attached: a journal that is not there takes nothing. */
	if (cfg->journal && journal_check(JOURNAL_SOCKET, err, sizeof(err))) {
		fail(err);
		return 1;
	}
	app->out_fd = cfg->output ? output_open(cfg->output, err, sizeof(err)) : STDOUT_FILENO;
	if (app->out_fd < 0) {
		fail(err);
		return 1;
	}
	sink_init(&app->sink, app->out_fd);
	sink_set_stop(&app->sink, run_stopping(), RUN_STOP_GRACE_NS);
	readers_init(&app->readers, cfg, app->out_fd, stderr);
	app->full = calloc(app->params.ncpus, sizeof(*app->full));
	app->merger = merge_new(app->params.ncpus);
	if (app->merger)
		merge_set_cap(app->merger, cap);
	struct keep *keep = cfg->on_failure ? keep_new(&(struct keep_opts){
		.per_stream = cfg->on_failure, .max_held = cfg->max_held,
		.inherit = cfg->descendants || app->params.cgroup_id, .show_running = cfg->exits,
	}, &app->emit, &app->ledger) : NULL;

	app->lines = lines_new(&(struct lines_opts){
		.max_line = cfg->max_bytes > MAX_LINE ? cfg->max_bytes : MAX_LINE,
		.max_held = cfg->max_held,
		.window_ns = cfg->line_timeout * 1000000ull,
	}, keep ? keep_line : emit_line, keep ? (void *)keep : &app->emit);
	app->router = (struct router){
		.cfg = cfg, .lines = app->lines, .emit = &app->emit, .exits = &app->exits,
		.ledger = &app->ledger, .req = &app->req, .keep = keep, .notices = stderr,
	};
	if (!app->full || !app->merger || !app->lines || (cfg->on_failure && !keep) ||
	    emit_init(&app->emit, cfg, &app->sink, &app->req) ||
	    ledger_init(&app->ledger, app->params.ncpus, stderr)) {
		fail("out of memory");
		return 1;
	}
	if (cfg->journal) {
		journal_init(&app->journal, &app->ledger, run_stopping(), RUN_STOP_GRACE_NS);
		app->emit.journal = &app->journal;
	}
	app->ledger.keeping = cfg->on_failure != 0;
	return 0;
}

/* Compile (or take from the cache), load, attach in the seed's order, start a command. */
static int load_and_attach(struct app *app)
{
	const struct config *cfg = &app->cfg;
	static struct compiled compiled;
	char err[1024];
	long traced;
	int rc = cache_obtain(cfg, &app->params, &app->tpl, app->prog.text, &app->compiler,
			      &compiled, err, sizeof(err));

	app->compiler = NULL;
	if (rc || !(app->tracer = tracer_new(&compiled, err, sizeof(err)))) {
		if (!run_stop_pending())
			fail(err);
		return 1;
	}
	app->readers.tracer = app->tracer;
	if (target_load_cgroup(&app->target, app->tracer, err, sizeof(err)))
		goto fail;
	/* Buffers first: a record submitted with no buffer behind it is lost. */
	app->buffers = buffers_open(tracer_map_fd(app->tracer, BWM_MAP_NAME(BWM_MAP_EVENTS)),
				    app->merger, cfg->buffer_pages, WAKEUP_EVENTS, err, sizeof(err));
	/* The seed's order: lifecycle probes, PIDs, enable flag, write probes. */
	if (!app->buffers ||
	    tracer_attach(app->tracer, &app->prog, 1, cfg->verbose, err, sizeof(err)))
		goto fail;
	readers_first(&app->readers);
	traced = target_register(&app->target, app->tracer, cfg, app->readers.ex,
				 app->readers.nex, app->params.pid_max, err, sizeof(err));
	if (traced < 0)
		goto fail;
	readers_check(&app->readers, 0);	/* says who reads already: registered above */
	if (cfg->kind == TARGET_CGROUP)
		readers_fixed(&app->readers, app->target.excluded_why, app->target.nexcluded);
	if (tracer_set_enabled(app->tracer, true)) {
		snprintf(err, sizeof(err), "cannot set the bwm_enabled flag (does common.bpf.h "
			 "still define it?)");
		goto fail;
	}
	if (tracer_attach(app->tracer, &app->prog, 2, cfg->verbose, err, sizeof(err)))
		goto fail;
	report_tracing(app, traced);
	app->started = run_clock_ns(CLOCK_MONOTONIC);
	/* A command runs from here on: its first write finds the probes attached. */
	rc = target_start(&app->target, err, sizeof(err));
	if (rc)
		fail(err);
	return rc;
fail:
	fail(err);
	return 1;
}

/* Load, attach and run. */
static int trace(struct app *app)
{
	int rc = open_pipeline(app);

	if (!rc)
		rc = load_and_attach(app);	/* 126 or 127 when a command cannot run */
	return rc ? rc : run_loop(app);
}

/* The reverse of set-up, on every path. Returns rc, or 1 when the output could not be written. */
static int teardown(struct app *app, int rc)
{
	char err[256];

	if (app->tracer) {
		/* The seed's teardown: flag, write probes, lifecycle probes, then the rest. */
		tracer_set_enabled(app->tracer, false);
		tracer_detach(app->tracer, 2);
		tracer_detach(app->tracer, 1);
		if (app->buffers)
			run_drain(app, true);
		report_end(app);
		buffers_free(app->buffers);
		tracer_close(app->tracer);
	}
	compiler_cancel(app->compiler);
	if (rc == 0)
		rc = report_command_status(app);
	target_free(&app->target);
	if (app->sink.error && app->sink.error != EPIPE) {
		snprintf(err, sizeof(err), "cannot write output: %s", strerror(app->sink.error));
		fail(err);
		rc = 1;
	}
	lines_free(app->lines);
	keep_free(app->router.keep);
	emit_free(&app->emit);
	requests_free(&app->req);
	merge_free(app->merger);
	ledger_free(&app->ledger);
	free(app->full);
	sink_free(&app->sink);
	journal_free(&app->journal);
	if (app->out_fd > STDERR_FILENO)
		close(app->out_fd);
	program_free(&app->prog);
	probes_free(&app->tpl);
	run_quiet();	/* the last word is written: no more stop ticks */
	return rc;
}

/* What the program is built for: this run's facts beside the config. */
static void init_params(struct app *app)
{
	app->params.cfg = &app->cfg;
	app->params.tp_exists = host_has_tracepoint;
	app->params.self = getpid();
	app->params.pid_max = proc_pid_max();
	app->params.ncpus = proc_possible_cpus();
	app->params.target = app->cfg.pid;
	app->out_fd = -1;
}

int main(int argc, char **argv)
{
	static struct app app;
	int rc;

	switch (options_parse(argc, argv, &app.cfg, stdout, stderr)) {
	case OPTIONS_EXIT_OK:
		return 0;
	case OPTIONS_ERROR:
		return 2;
	case OPTIONS_RUN:
		break;
	}
	init_params(&app);
	rc = check_host(&app);
	if (!rc)
		rc = build_program(&app);
	if (!rc)
		rc = app.cfg.ebpf ? print_program(&app) : trace(&app);
	return teardown(&app, rc);
}
