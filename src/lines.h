/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_LINES_H
#define BWM_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../probes/event.h"

/* Who wrote a line, and when (the first piece of it). */
struct line_meta {
	uint64_t ts;			/* kernel CLOCK_MONOTONIC ns */
	uint32_t tgid;
	uint32_t tid;
	uint8_t fd;
	bool continued;			/* cut by a cap: the rest follows as the next line */
	uint32_t writes;		/* write calls the line is made of (0: not a line) */
	char comm[BWM_COMM_LEN];
};

/*
 * Called once per line, without its newline. missing > 0: the writer wrote
 * that many more bytes after text that were not captured.
 */
typedef void (*line_fn)(void *cookie, const struct line_meta *m, const char *text, size_t len,
			uint64_t missing);

struct lines_opts {
	size_t max_line;	/* longer lines are passed on in pieces, marked continued */
	size_t max_held;	/* all held bytes; past it the oldest held line is passed on */
	uint64_t window_ns;	/* quiet window; 0: the seed's rules (see lines_feed) */
};

struct lines;

struct lines *lines_new(const struct lines_opts *o, line_fn fn, void *cookie);
void lines_free(struct lines *l);

/*
 * Feed one chunk of one write() (flags BWM_F_FIRST on its first chunk,
 * BWM_F_LAST on its last; missing: bytes written but not captured, on the
 * last chunk), in timestamp order. Lines are kept apart per thread and per fd.
 * A write with a newline passes on every complete line at once; the bytes
 * after the last newline are held and joined with what the writer writes
 * next, until a newline comes, or the writer is quiet for longer than the
 * window (a piece that comes later starts a new line), or it exits.
 * With a window of 0, the seed's rules instead: a newline-less write is passed
 * on at once when nothing is held for its writer, held when bytes are.
 * Either way, a write starting with a newline right after a line was passed
 * on without one (quiet, cut, or a cap) only ends that line.
 */
void lines_feed(struct lines *l, const struct line_meta *m, const char *data, size_t len,
		unsigned flags, uint64_t missing);

/* The time is now (ns, the events' clock): pass on lines quiet for longer than the window. */
void lines_tick(struct lines *l, uint64_t now);

/* Pass on what one thread holds (it exited) and forget it: a reused TID starts afresh. */
void lines_flush_thread(struct lines *l, uint32_t tid);

/* The same for every thread of one process. */
void lines_flush_process(struct lines *l, uint32_t tgid);

/* Pass on everything held, oldest line first, and forget every writer. */
void lines_flush_all(struct lines *l);

/* Number of writers holding a partial line, and the bytes they hold. */
size_t lines_pending(const struct lines *l);
size_t lines_held(const struct lines *l);

#endif /* BWM_LINES_H */
