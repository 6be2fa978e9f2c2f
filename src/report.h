/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_REPORT_H
#define BWM_REPORT_H

struct app;

/*
 * What the tool says about the run itself on stderr (report.c): the
 * "Tracing ..." header once everything is attached, why it ended, the
 * losses and the summary (also the last --json record), and what became of
 * a command.
 */

/* "Tracing PID 12 (stdout)... Ctrl-C to end." (traced: processes registered). */
void report_tracing(const struct app *app, long traced);

/* At the end: losses, why it ended, the summary line (and record). */
void report_end(struct app *app);

/* After a command: its status (128+N for signal N); 0 (with a note) if it runs on. */
int report_command_status(struct app *app);

#endif /* BWM_REPORT_H */
