// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - what the tool says about the run: its start, its end, its losses.
 */
#include <limits.h>
#include <stdio.h>

#include "app.h"
#include "report.h"
#include "run.h"

void report_tracing(const struct app *app, long traced)
{
	const struct config *cfg = &app->cfg;
	char what[PATH_MAX + 64];

	if (cfg->quiet)
		return;
	target_describe(&app->target, what, sizeof(what));
	if (cfg->kind == TARGET_CGROUP)
		fprintf(stderr, "Tracing %s (%s)... Ctrl-C to end, or remove the cgroup.\n",
			what, options_streams(cfg));
	else if (cfg->descendants)
		fprintf(stderr, "Tracing %s and %s descendants (%ld process%s; %s)... "
			"Ctrl-C to end.\n", what, app->target.n > 1 ? "their" : "its", traced,
			traced == 1 ? "" : "es", options_streams(cfg));
	else
		fprintf(stderr, "Tracing %s (%s)... Ctrl-C to end.\n", what,
			options_streams(cfg));
}

/* Why the tool ended by itself. */
static void report_done(const struct app *app)
{
	char what[PATH_MAX + 64];

	if (!app->done || app->cfg.quiet)
		return;
	target_describe(&app->target, what, sizeof(what));
	if (app->cfg.kind == TARGET_CGROUP)
		fprintf(stderr, "%s: %s was removed\n", BWM_NAME, what);
	else if (app->cfg.descendants)
		fprintf(stderr, "%s: %s and all %s descendants have exited\n", BWM_NAME, what,
			app->target.n > 1 ? "their" : "its");
	else
		fprintf(stderr, "%s: %s %s exited\n", BWM_NAME, what,
			app->target.n > 1 ? "have" : "has");
}

void report_end(struct app *app)
{
	const struct config *cfg = &app->cfg;
	double secs;

	if (app->router.keep) {	/* still running: shown with -x, else dropped and counted */
		keep_finish(app->router.keep);
		sink_flush(&app->sink);
	}
	ledger_add(&app->ledger, LOSS_MALFORMED, merge_malformed(app->merger));
	ledger_report(&app->ledger);
	report_done(app);
	ledger_add(&app->ledger, LOSS_UNPRINTED_LINES, app->sink.unwritten_lines);
	ledger_add(&app->ledger, LOSS_UNPRINTED_BYTES, app->sink.unwritten_bytes);
	secs = app->started ? (run_clock_ns(CLOCK_MONOTONIC) - app->started) / 1e9 : 0;
	if (app->started && cfg->json) {
		/* The last record: the same figures for a machine (none with the output gone). */
		ledger_summary_json(&app->ledger, &app->sink.ob, app->emit.lines_out,
				    app->router.bytes_in, secs);
		sink_flush(&app->sink);
	}
	if (app->started && cfg->journal) {
		char text[512];	/* the summary as an entry too, before stderr's counts it */

		ledger_summary_text(&app->ledger, text, sizeof(text), app->emit.lines_out,
				    app->router.bytes_in, secs);
		journal_summary(&app->journal, text, app->emit.lines_out, app->router.bytes_in,
				secs);
	}
	if (app->started && !cfg->quiet)
		ledger_summary(&app->ledger, app->emit.lines_out, app->router.bytes_in, secs);
}

int report_command_status(struct app *app)
{
	char what[PATH_MAX + 64];
	int status = target_exit_status(&app->target);

	if (status >= 0 || app->cfg.kind != TARGET_COMMAND)
		return status >= 0 ? status : 0;
	if (!app->cfg.quiet && app->started) {
		target_describe(&app->target, what, sizeof(what));
		fprintf(stderr, "%s: %s still runs: left running, no longer traced\n", BWM_NAME,
			what);
	}
	return 0;
}
