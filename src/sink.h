/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_SINK_H
#define BWM_SINK_H

#include <stdbool.h>

#include "format.h"

/* Where rendered output goes: a buffer, written out in large pieces. */
struct sink {
	int fd;
	struct outbuf ob;
	int error;		/* errno of the first failed write (EPIPE: reader gone) */
};

void sink_init(struct sink *s, int fd);

/* Write out what is buffered; -1 (and s->error) once a write has failed. */
int sink_flush(struct sink *s);

void sink_free(struct sink *s);

#endif /* BWM_SINK_H */
