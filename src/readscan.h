/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_READSCAN_H
#define BWM_READSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Who reads the tool's output, found in /proc (readscan.c). A reader holds
 * the read side of what the output reaches: a pipe's or FIFO's read end, a
 * pseudo-terminal's master side (a terminal, a multiplexer), the peer of a
 * Unix socket; a process that only holds a write end is no reader. Then,
 * following their stdout and stderr, the readers of what they write (tee, a
 * pager). A process holding a regular file the output goes to, open for
 * reading, is told apart (READ_FILE): it may read the log for a moment
 * (readers.c waits for a second scan) or follow it (tail -f).
 */
enum read_kind {
	READ_PIPE,		/* pipe, FIFO, terminal, socket: reads the output */
	READ_FILE,		/* holds the output's regular file open for reading */
	READ_RUN,		/* another run of this tool */
	READ_RUN_OUTPUT,	/* reads another run's output */
};

struct reader {
	pid_t pid;
	enum read_kind kind;
};

/* Readers the tool keeps track of, at most. */
#define MAX_READERS	256

/*
 * Readers of what is written to fd, never self: appended to out (n entries
 * already, at most max). Returns the new count.
 */
size_t readscan_fd(int fd, pid_t self, enum read_kind as, struct reader *out, size_t n,
		   size_t max);

/*
 * Every process that must not be traced, besides self: the readers of
 * out_fd and of stderr, the other runs of this tool (an executable named
 * bpf_write_monitor), and the readers of those runs' stdout and stderr.
 */
size_t readscan_all(int out_fd, pid_t self, struct reader *out, size_t max);

/* Is pid in v? Its entry, or NULL. */
const struct reader *readscan_find(const struct reader *v, size_t n, pid_t pid);

#endif /* BWM_READSCAN_H */
