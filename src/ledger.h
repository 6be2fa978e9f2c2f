/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_LEDGER_H
#define BWM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The loss ledger (ledger.c): every record or byte the tool could not print
 * is added here, once, and reported from here: a line on stderr as it
 * happens, and the totals when the tool ends.
 */
enum loss_kind {
	LOSS_BUFFER_FULL,	/* records a full perf buffer refused (kept per CPU) */
	LOSS_NO_BUFFER,		/* records submitted on a CPU that had no buffer yet */
	LOSS_MALFORMED,		/* records that did not parse */
	LOSS_NO_MEMORY,		/* records the merger had no memory to queue */
	LOSS_NOT_CAPTURED,	/* bytes written past --max-bytes */
	LOSS_UNPRINTED_LINES,	/* lines the output did not take before the stop deadline */
	LOSS_UNPRINTED_BYTES,	/* their bytes */
	LOSS_UNTRACKED,		/* children the fork probe could not add to bwm_monitored */
	LOSS_UNWALKED_BYTES,	/* bytes in iovecs/messages past the probes' walk limits */
	LOSS_UNWALKED_MESSAGES,	/* sendmmsg messages past the walk limit (bytes above) */
	LOSS_UNREADABLE_BYTES,	/* bytes in user buffers the probe could not read */
	LOSS_TRANSFERRED_BYTES,	/* bytes moved inside the kernel (splice, sendfile) */
	LOSS_LOST_BYTES,	/* bytes written that lost records stood for */
	LOSS_UNSTASHED_CALLS,	/* entry+exit path: calls not captured (argument stash full) */
	LOSS_JOURNAL_LINES,	/* --journal: lines and records the journal did not take */
	LOSS_JOURNAL_BYTES,	/* their bytes */
	/* Not losses: what --on-failure (keep.c) chose not to show, by reason. */
	KEPT_SUCCEEDED,		/* lines of processes that exited 0 */
	KEPT_OLDER,		/* lines older than a process's last N of their stream */
	KEPT_CAPPED,		/* lines dropped, oldest first, to stay within --max-held */
	KEPT_RUNNING,		/* lines of processes still running at the end */
	KEPT_FAILED,		/* processes that failed (not lines) */
	LOSS_KINDS,
};

struct ledger {
	int ncpu;
	uint64_t *cpu_full;	/* per CPU: records a full buffer refused, as reported */
	uint64_t *cpu_capped;	/* per CPU: records past the merger's cap, as reported */
	uint64_t n[LOSS_KINDS];
	FILE *out;		/* where losses are reported (stderr) */
	bool keeping;		/* --on-failure: report the KEPT_* counts too */
};

int ledger_init(struct ledger *l, int ncpu, FILE *out);
void ledger_free(struct ledger *l);

/* Add n losses of a kind (LOSS_BUFFER_FULL: use ledger_cpu_full). */
void ledger_add(struct ledger *l, enum loss_kind k, uint64_t n);

/*
 * CPU cpu's buffer has refused total records so far (the larger of what the
 * buffer and the probes counted): add and report what is new.
 */
void ledger_cpu_full(struct ledger *l, int cpu, uint64_t total);

/*
 * The merger's queue for CPU cpu has dropped total records so far, past its
 * cap (merge_set_cap()): report what is new. They are counted with
 * LOSS_NO_MEMORY (ledger_add()), not here.
 */
void ledger_cpu_capped(struct ledger *l, int cpu, uint64_t total);

/* The kind's name in the JSON summary, e.g. "buffer_full_events". */
const char *ledger_kind_name(enum loss_kind k);

/* Records lost: refused by a full buffer, with no buffer to go to, or no memory. */
uint64_t ledger_events_lost(const struct ledger *l);

/*
 * Bytes written that were not captured, all reasons: bytes written = bytes
 * captured + this (when no call went unstashed and no record was malformed).
 */
uint64_t ledger_bytes_uncaptured(const struct ledger *l);

/* The closing loss lines: what was lost in total, by kind (nothing if nothing was). */
void ledger_report(const struct ledger *l);

/*
 * The summary line: "N lines, N bytes captured, N events lost, S s", with
 * "; N bytes not captured (N past --max-bytes, ...)" by reason when some were,
 * and ", N lines (N bytes) not printed (...)" when the output stopped taking
 * them, before the time.
 */
void ledger_summary(const struct ledger *l, uint64_t lines, uint64_t bytes, double seconds);

/* The same line into buf, without the tool's name and newline (the journal's summary). */
void ledger_summary_text(const struct ledger *l, char *buf, size_t size, uint64_t lines,
			 uint64_t bytes, double seconds);

/*
 * The same figures as the last --json record, with every kind of loss:
 * {"type":"summary","lines":N,"bytes":N,"events_lost":N,"uncaptured_bytes":N,...,"seconds":S}
 */
struct outbuf;
void ledger_summary_json(const struct ledger *l, struct outbuf *ob, uint64_t lines,
			 uint64_t bytes, double seconds);

#endif /* BWM_LEDGER_H */
