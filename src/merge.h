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
uint64_t merge_malformed(const struct merger *r);
uint64_t merge_no_memory(const struct merger *r);	/* records dropped for want of memory */
/* The bytes written those records stood for (balance_record_bytes()). */
uint64_t merge_no_memory_bytes(const struct merger *r);
size_t merge_queued(const struct merger *r);

#endif /* BWM_MERGE_H */
