/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_MERGE_H
#define BWM_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "../probes/event.h"

/*
 * Turns raw perf records from per-CPU buffers into events in syscall order.
 *
 * Each CPU's records arrive in the order they were submitted there; a thread
 * that migrates leaves its records on several CPUs. Records are queued per CPU
 * and released by merging the queues on the kernel timestamp, only up to a
 * limit that every CPU is known to have passed (see merge_release()).
 */
struct merger;

/* ev is 8-byte aligned and followed by ev->len bytes of data. */
typedef void (*event_fn)(void *cookie, const struct bwm_event *ev);

struct merger *merge_new(int ncpu);
void merge_free(struct merger *r);

/*
 * At most bytes queued per CPU (0: no cap). A reader that falls behind a
 * writer drains its buffer for as long as the writer fills it, all into the
 * queue: without a cap the queue grows with the writer (1.4 GB in 10 s at
 * 400 MB/s); past it, a record is dropped and counted with those there was
 * no memory for (merge_no_memory()), and per CPU (merge_capped_on()).
 */
void merge_set_cap(struct merger *r, size_t bytes);

/* The tool's cap: twice a CPU's buffer (a drain's worth and what came meanwhile), 1 MiB at least. */
#define MERGE_CAP(pages, pagesize) \
	((size_t)(pages) * (size_t)(pagesize) * 2 > (1u << 20) ? \
	 (size_t)(pages) * (size_t)(pagesize) * 2 : (size_t)(1u << 20))

/* Queue a copy of one raw record from cpu's buffer; -1 if it is malformed (counted). */
int merge_push(struct merger *r, int cpu, const void *raw, size_t size);

/* The kernel dropped n records on cpu: its buffer was full. */
void merge_lost(struct merger *r, int cpu, uint64_t n);

/*
 * Pass every queued event with ts <= limit to fn, oldest first, and return
 * how many. Call it with the CLOCK_MONOTONIC time read *before* the buffers
 * were drained: a record stamped before that time was submitted before it
 * (a thread's records are submitted in order), so no later drain can bring
 * an older record of the same thread. UINT64_MAX releases everything.
 */
size_t merge_release(struct merger *r, uint64_t limit, event_fn fn, void *cookie);

uint64_t merge_lost_on(const struct merger *r, int cpu);
/* Records of cpu's queue dropped past the cap (counted in merge_no_memory() too). */
uint64_t merge_capped_on(const struct merger *r, int cpu);
uint64_t merge_malformed(const struct merger *r);
/* Records dropped for want of memory, or past the cap. */
uint64_t merge_no_memory(const struct merger *r);
/* The bytes written those records stood for (balance_record_bytes()). */
uint64_t merge_no_memory_bytes(const struct merger *r);
size_t merge_queued(const struct merger *r);

#endif /* BWM_MERGE_H */
