/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_LINES_H
#define BWM_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "../probes/event.h"

/* Who wrote a line, and when (the write that completed it). */
struct line_meta {
	uint64_t ts;			/* kernel CLOCK_MONOTONIC ns */
	uint32_t tgid;
	uint32_t tid;
	uint8_t fd;
	char comm[BWM_COMM_LEN];
};

/*
 * Called once per line, without its newline. missing > 0: the writer wrote
 * that many more bytes after text that were not captured.
 */
typedef void (*line_fn)(void *cookie, const struct line_meta *m, const char *text, size_t len,
			uint64_t missing);

struct lines;

/* An assembler; lines longer than max_line bytes are passed on in max_line pieces. */
struct lines *lines_new(size_t max_line, line_fn fn, void *cookie);
void lines_free(struct lines *l);

/*
 * Feed one chunk of one write() (flags BWM_F_FIRST on its first chunk,
 * BWM_F_LAST on its last; missing: bytes written but not captured, on the
 * last chunk). Lines are kept apart per thread and per fd, and assembled by
 * the seed's rules:
 *  - a write with a newline emits every complete line at once;
 *  - a write with no newline, when nothing is held for its writer, is emitted
 *    at once as it is (a later write starting with "\n" only ends that line);
 *  - a write with no newline, when bytes are held, is held too.
 */
void lines_feed(struct lines *l, const struct line_meta *m, const char *data, size_t len,
		unsigned flags, uint64_t missing);

/* Emit what is held for one process's writers (it exited). */
void lines_flush_process(struct lines *l, uint32_t tgid);

/* Emit everything held, oldest writer first. */
void lines_flush_all(struct lines *l);

/* Bytes dropped for want of memory (never silently: the ledger reports them). */
uint64_t lines_dropped(const struct lines *l);

/* Number of writers holding a partial line. */
size_t lines_pending(const struct lines *l);

#endif /* BWM_LINES_H */
