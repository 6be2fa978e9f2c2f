/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_SINK_H
#define BWM_SINK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "format.h"
#include "grace.h"

/* Where rendered output goes: a buffer, written out in large pieces. */
struct sink {
	int fd;
	struct outbuf ob;
	int error;		/* errno of the first failed write (EPIPE: reader gone) */
	/*
	 * Once *stop is set, a write that does not complete (blocked, then
	 * interrupted by a signal: handlers are installed without SA_RESTART)
	 * gets grace_ns more; then the sink gives up, and what it could not
	 * write, now and later, is counted instead.
	 */
	struct grace grace;
	uint64_t unwritten_bytes;
	uint64_t unwritten_lines;	/* newlines in them */
};

void sink_init(struct sink *s, int fd);

/* Give up grace_ns after *stop is set rather than block for ever. */
void sink_set_stop(struct sink *s, const volatile sig_atomic_t *stop, uint64_t grace_ns);

/* Write out what is buffered; -1 (and s->error) once a write has failed. */
int sink_flush(struct sink *s);

void sink_free(struct sink *s);

#endif /* BWM_SINK_H */
