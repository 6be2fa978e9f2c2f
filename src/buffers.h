/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_BUFFERS_H
#define BWM_BUFFERS_H

#include <stdbool.h>
#include <stddef.h>

#include "merge.h"

/*
 * The per-CPU perf buffers (buffers.c, libbcc's perf reader): one on every
 * online CPU, and on each CPU that comes online later, registered in the
 * program's bwm_events map. Their records go to a merger.
 */
struct buffers;

/*
 * Open a buffer of pages pages on every online CPU, each waking the reader
 * only every wakeup records, registered in the perf event array events_fd.
 * NULL with a message in err on failure.
 */
struct buffers *buffers_open(int events_fd, struct merger *m, unsigned pages, unsigned wakeup,
			     char *err, size_t errlen);

/*
 * Open buffers on the CPUs that came online since; how many, or -1 with a
 * message in err. (Until then, records there are counted as dropped.)
 */
int buffers_add_cpus(struct buffers *b, bool verbose, char *err, size_t errlen);

/* The buffers' fds, to poll; returns how many (at most max). */
int buffers_fds(const struct buffers *b, int *fds, int max);

/* Move everything the kernel has written to the buffers into the merger. */
void buffers_drain(struct buffers *b);

void buffers_free(struct buffers *b);

#endif /* BWM_BUFFERS_H */
