/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_READER_H
#define BWM_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../probes/event.h"

/*
 * Turns raw perf records from per-CPU buffers into events in syscall order.
 *
 * Each CPU's records arrive in the order they were submitted there; a thread
 * that migrates leaves its records on several CPUs. Records are queued per CPU
 * and released by merging the queues on the kernel timestamp, only up to a
 * limit that every CPU is known to have passed (see reader_release()).
 */
struct reader;

/* ev is 8-byte aligned and followed by ev->len bytes of data. */
typedef void (*event_fn)(void *cookie, const struct bwm_event *ev);

struct reader *reader_new(int ncpu);
void reader_free(struct reader *r);

/* Queue a copy of one raw record from cpu's buffer; -1 if it is malformed (counted). */
int reader_push(struct reader *r, int cpu, const void *raw, size_t size);

/* The kernel dropped n records on cpu: its buffer was full. */
void reader_lost(struct reader *r, int cpu, uint64_t n);

/*
 * Pass every queued event with ts <= limit to fn, oldest first, and return
 * how many. Call it with the CLOCK_MONOTONIC time read *before* the buffers
 * were drained: a record stamped before that time was submitted before it
 * (a thread's records are submitted in order), so no later drain can bring
 * an older record of the same thread. UINT64_MAX releases everything.
 */
size_t reader_release(struct reader *r, uint64_t limit, event_fn fn, void *cookie);

uint64_t reader_lost_on(const struct reader *r, int cpu);
uint64_t reader_malformed(const struct reader *r);
size_t reader_queued(const struct reader *r);

#endif /* BWM_READER_H */
