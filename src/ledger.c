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
	l->cpu_capped = calloc(ncpu > 0 ? ncpu : 1, sizeof(*l->cpu_capped));
	return l->cpu_full && l->cpu_capped ? 0 : -1;
}

void ledger_free(struct ledger *l)
{
	free(l->cpu_full);
	free(l->cpu_capped);
	l->cpu_full = l->cpu_capped = NULL;
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
	else if (k == LOSS_UNSTASHED_CALLS)
		fprintf(l->out, "%s: %llu write calls not captured: more calls were in flight at "
			"once than bwm_calls holds\n", BWM_NAME, (unsigned long long)n);
	else if (k == LOSS_LOST_BYTES)
		fprintf(l->out, "%s: %llu bytes written are in lost events\n", BWM_NAME,
			(unsigned long long)n);
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

void ledger_cpu_capped(struct ledger *l, int cpu, uint64_t total)
{
	if (cpu < 0 || cpu >= l->ncpu || total <= l->cpu_capped[cpu])
		return;
	fprintf(l->out, "%s: lost %llu events on CPU #%d: the tool fell behind and its queue "
		"for that CPU was full\n", BWM_NAME,
		(unsigned long long)(total - l->cpu_capped[cpu]), cpu);
	l->cpu_capped[cpu] = total;
}

uint64_t ledger_events_lost(const struct ledger *l)
{
	return l->n[LOSS_BUFFER_FULL] + l->n[LOSS_NO_BUFFER] + l->n[LOSS_NO_MEMORY];
}

/* The byte reasons, as the summary line names them. */
static const struct {
	enum loss_kind k;
	const char *name;
} byte_reasons[] = {
	{ LOSS_NOT_CAPTURED, "past --max-bytes" },
	{ LOSS_UNWALKED_BYTES, "not walked" },
	{ LOSS_UNREADABLE_BYTES, "unreadable" },
	{ LOSS_TRANSFERRED_BYTES, "moved by splice/sendfile" },
	{ LOSS_LOST_BYTES, "in lost events" },
};

#define NREASONS	(sizeof(byte_reasons) / sizeof(byte_reasons[0]))

uint64_t ledger_bytes_uncaptured(const struct ledger *l)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < NREASONS; i++)
		sum += l->n[byte_reasons[i].k];
	return sum;
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
	if (l->n[LOSS_UNWALKED_MESSAGES])
		fprintf(l->out, "%s: %llu sendmmsg messages were not walked (see above)\n",
			BWM_NAME, (unsigned long long)l->n[LOSS_UNWALKED_MESSAGES]);
	if (l->n[LOSS_MALFORMED])
		fprintf(l->out, "%s: dropped %llu malformed records\n", BWM_NAME,
			(unsigned long long)l->n[LOSS_MALFORMED]);
	if (l->n[LOSS_JOURNAL_LINES])
		fprintf(l->out, "%s: %llu lines (%llu bytes) were not sent: the journal refused "
			"them, or did not take them before the stop\n", BWM_NAME,
			(unsigned long long)l->n[LOSS_JOURNAL_LINES],
			(unsigned long long)l->n[LOSS_JOURNAL_BYTES]);
	if (l->n[LOSS_UNTRACKED])
		fprintf(l->out, "%s: %llu child processes could not be traced (bwm_monitored "
			"was full): what they wrote is not in the copy\n", BWM_NAME,
			(unsigned long long)l->n[LOSS_UNTRACKED]);
}

void ledger_summary_text(const struct ledger *l, char *buf, size_t size, uint64_t lines,
			 uint64_t bytes, double seconds)
{
	char unprinted[160] = "", reasons[320] = "", uncaptured[400] = "", unsent[128] = "";
	size_t i;
	int n = 0;

	for (i = 0; i < NREASONS && n >= 0 && (size_t)n < sizeof(reasons); i++) {
		if (!l->n[byte_reasons[i].k])
			continue;
		n += snprintf(reasons + n, sizeof(reasons) - n, "%s%llu %s", n ? ", " : "",
			      (unsigned long long)l->n[byte_reasons[i].k], byte_reasons[i].name);
	}
	if (l->n[LOSS_UNPRINTED_BYTES])
		snprintf(unprinted, sizeof(unprinted), ", %llu lines (%llu bytes) not printed "
			 "(the output stopped taking them)",
			 (unsigned long long)l->n[LOSS_UNPRINTED_LINES],
			 (unsigned long long)l->n[LOSS_UNPRINTED_BYTES]);
	if (*reasons)
		snprintf(uncaptured, sizeof(uncaptured), ", %llu bytes not captured (%s)",
			 (unsigned long long)ledger_bytes_uncaptured(l), reasons);
	if (l->n[LOSS_JOURNAL_LINES])
		snprintf(unsent, sizeof(unsent), ", %llu lines (%llu bytes) not taken by the "
			 "journal", (unsigned long long)l->n[LOSS_JOURNAL_LINES],
			 (unsigned long long)l->n[LOSS_JOURNAL_BYTES]);
	snprintf(buf, size, "%llu lines, %llu bytes captured, %llu events lost%s%s%s, %.1f s",
		 (unsigned long long)lines, (unsigned long long)bytes,
		 (unsigned long long)ledger_events_lost(l), uncaptured, unprinted, unsent, seconds);
}

void ledger_summary(const struct ledger *l, uint64_t lines, uint64_t bytes, double seconds)
{
	char text[1024];

	if (l->keeping)
		fprintf(l->out, "%s: %llu process%s failed; lines not shown: %llu of processes "
			"that exited 0, %llu older than the last kept, %llu past --max-held, %llu "
			"of processes still running\n", BWM_NAME,
			(unsigned long long)l->n[KEPT_FAILED], l->n[KEPT_FAILED] == 1 ? "" : "es",
			(unsigned long long)l->n[KEPT_SUCCEEDED],
			(unsigned long long)l->n[KEPT_OLDER], (unsigned long long)l->n[KEPT_CAPPED],
			(unsigned long long)l->n[KEPT_RUNNING]);
	ledger_summary_text(l, text, sizeof(text), lines, bytes, seconds);
	fprintf(l->out, "%s: %s\n", BWM_NAME, text);
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
	[LOSS_UNWALKED_BYTES] = "unwalked_bytes",
	[LOSS_UNWALKED_MESSAGES] = "unwalked_messages",
	[LOSS_UNREADABLE_BYTES] = "unreadable_bytes",
	[LOSS_TRANSFERRED_BYTES] = "transferred_bytes",
	[LOSS_LOST_BYTES] = "lost_bytes",
	[LOSS_UNSTASHED_CALLS] = "unstashed_calls",
	[LOSS_JOURNAL_LINES] = "journal_refused_lines",
	[LOSS_JOURNAL_BYTES] = "journal_refused_bytes",
	[KEPT_SUCCEEDED] = "succeeded_lines",
	[KEPT_OLDER] = "older_lines",
	[KEPT_CAPPED] = "capped_lines",
	[KEPT_RUNNING] = "running_lines",
	[KEPT_FAILED] = "failed",
};

const char *ledger_kind_name(enum loss_kind k)
{
	return k < LOSS_KINDS ? json_names[k] : "unknown";
}

void ledger_summary_json(const struct ledger *l, struct outbuf *ob, uint64_t lines,
			 uint64_t bytes, double seconds)
{
	char secs[32];
	int k;

	ob_puts(ob, "{\"type\":\"summary\",\"lines\":");
	ob_putu(ob, lines);
	ob_puts(ob, ",\"bytes\":");
	ob_putu(ob, bytes);
	ob_puts(ob, ",\"events_lost\":");
	ob_putu(ob, ledger_events_lost(l));
	ob_puts(ob, ",\"uncaptured_bytes\":");
	ob_putu(ob, ledger_bytes_uncaptured(l));
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
