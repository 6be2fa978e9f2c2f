// SPDX-License-Identifier: GPL-2.0
/*
 * ledger.c - one count of everything not printed, reported as it happens and
 * at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "ledger.h"
#include "options.h"

int ledger_init(struct ledger *l, int ncpu, FILE *out)
{
	memset(l, 0, sizeof(*l));
	l->ncpu = ncpu;
	l->out = out;
	l->cpu_full = calloc(ncpu > 0 ? ncpu : 1, sizeof(*l->cpu_full));
	return l->cpu_full ? 0 : -1;
}

void ledger_free(struct ledger *l)
{
	free(l->cpu_full);
	l->cpu_full = NULL;
}

void ledger_add(struct ledger *l, enum loss_kind k, uint64_t n)
{
	if (!n || k >= LOSS_KINDS)
		return;
	l->n[k] += n;
	if (k == LOSS_NO_BUFFER)
		fprintf(l->out, "%s: lost %llu events the probes could not queue (a CPU brought "
			"online has no buffer until the tool notices it, within a second)\n",
			BWM_NAME, (unsigned long long)n);
	else if (k == LOSS_UNTRACKED)
		fprintf(l->out, "%s: %llu new child processes are not traced: bwm_monitored is "
			"full\n", BWM_NAME, (unsigned long long)n);
}

void ledger_cpu_full(struct ledger *l, int cpu, uint64_t total)
{
	if (cpu < 0 || cpu >= l->ncpu || total <= l->cpu_full[cpu])
		return;
	fprintf(l->out, "%s: lost %llu events on CPU #%d\n", BWM_NAME,
		(unsigned long long)(total - l->cpu_full[cpu]), cpu);
	l->n[LOSS_BUFFER_FULL] += total - l->cpu_full[cpu];
	l->cpu_full[cpu] = total;
}

uint64_t ledger_events_lost(const struct ledger *l)
{
	return l->n[LOSS_BUFFER_FULL] + l->n[LOSS_NO_BUFFER] + l->n[LOSS_NO_MEMORY];
}

void ledger_report(const struct ledger *l)
{
	uint64_t lost = ledger_events_lost(l);

	if (lost)
		fprintf(l->out, "%s: lost %llu events in total%s\n", BWM_NAME,
			(unsigned long long)lost,
			l->n[LOSS_BUFFER_FULL] ? " (a bigger --buffer-pages helps)" : "");
	if (l->n[LOSS_NO_MEMORY])
		fprintf(l->out, "%s: %llu of them for want of memory\n", BWM_NAME,
			(unsigned long long)l->n[LOSS_NO_MEMORY]);
	if (l->n[LOSS_NOT_CAPTURED])
		fprintf(l->out, "%s: %llu bytes written are not in the copy (see above)\n",
			BWM_NAME, (unsigned long long)l->n[LOSS_NOT_CAPTURED]);
	if (l->n[LOSS_MALFORMED])
		fprintf(l->out, "%s: dropped %llu malformed records\n", BWM_NAME,
			(unsigned long long)l->n[LOSS_MALFORMED]);
	if (l->n[LOSS_UNTRACKED])
		fprintf(l->out, "%s: %llu child processes could not be traced (bwm_monitored "
			"was full): what they wrote is not in the copy\n", BWM_NAME,
			(unsigned long long)l->n[LOSS_UNTRACKED]);
}

void ledger_summary(const struct ledger *l, uint64_t lines, uint64_t bytes, double seconds)
{
	char unprinted[160] = "";

	if (l->n[LOSS_UNPRINTED_BYTES])
		snprintf(unprinted, sizeof(unprinted), ", %llu lines (%llu bytes) not printed "
			 "(the output stopped taking them)",
			 (unsigned long long)l->n[LOSS_UNPRINTED_LINES],
			 (unsigned long long)l->n[LOSS_UNPRINTED_BYTES]);
	if (l->keeping)
		fprintf(l->out, "%s: %llu processes failed; lines not shown: %llu of processes "
			"that exited 0, %llu older than the last kept, %llu past --max-held, %llu "
			"of processes still running\n", BWM_NAME,
			(unsigned long long)l->n[KEPT_FAILED],
			(unsigned long long)l->n[KEPT_SUCCEEDED],
			(unsigned long long)l->n[KEPT_OLDER], (unsigned long long)l->n[KEPT_CAPPED],
			(unsigned long long)l->n[KEPT_RUNNING]);
	fprintf(l->out, "%s: %llu lines, %llu bytes captured, %llu events lost%s, %.1f s\n",
		BWM_NAME, (unsigned long long)lines, (unsigned long long)bytes,
		(unsigned long long)ledger_events_lost(l), unprinted, seconds);
}

/* The JSON names of the kinds, as the summary record gives them. */
static const char *const json_names[LOSS_KINDS] = {
	[LOSS_BUFFER_FULL] = "buffer_full_events",
	[LOSS_NO_BUFFER] = "no_buffer_events",
	[LOSS_MALFORMED] = "malformed_records",
	[LOSS_NO_MEMORY] = "no_memory_events",
	[LOSS_NOT_CAPTURED] = "not_captured_bytes",
	[LOSS_UNPRINTED_LINES] = "unprinted_lines",
	[LOSS_UNPRINTED_BYTES] = "unprinted_bytes",
	[LOSS_UNTRACKED] = "untracked_children",
	[KEPT_SUCCEEDED] = "succeeded_lines",
	[KEPT_OLDER] = "older_lines",
	[KEPT_CAPPED] = "capped_lines",
	[KEPT_RUNNING] = "running_lines",
	[KEPT_FAILED] = "failed",
};

void ledger_summary_json(const struct ledger *l, struct outbuf *ob, uint64_t lines,
			 uint64_t bytes, double seconds)
{
	char secs[32];
	int k;

	ob_puts(ob, "{\"event\":\"summary\",\"lines\":");
	ob_putu(ob, lines);
	ob_puts(ob, ",\"bytes\":");
	ob_putu(ob, bytes);
	ob_puts(ob, ",\"events_lost\":");
	ob_putu(ob, ledger_events_lost(l));
	for (k = 0; k < LOSS_KINDS; k++) {
		if (k >= KEPT_SUCCEEDED && !l->keeping)
			continue;	/* the fields of --on-failure */
		ob_puts(ob, ",\"");
		ob_puts(ob, json_names[k]);
		ob_puts(ob, "\":");
		ob_putu(ob, l->n[k]);
	}
	snprintf(secs, sizeof(secs), ",\"seconds\":%.3f}\n", seconds);
	ob_puts(ob, secs);
}
