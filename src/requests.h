/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_REQUESTS_H
#define BWM_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#include "../probes/event.h"

/*
 * What the stages between the buffers and the output decide about the
 * tracing itself, written down while a drain runs and carried out by the
 * run loop after it (src/run.c): the router and the emitter never touch
 * the maps, so they are plain data in, plain data out.
 */
struct cut_request {
	pid_t pid;			/* not traced from now on: it feeds the output back */
	char comm[BWM_COMM_LEN + 1];	/* printable */
};

#define REQUESTS_MAX_CUTS	16

struct requests {
	pid_t *forget;		/* exited processes to drop from bwm_monitored */
	size_t nforget, capforget;
	struct cut_request cuts[REQUESTS_MAX_CUTS];
	size_t ncuts;
	bool rescan;		/* look for readers of the output now */
	bool stop;		/* end the run: a loop that cannot be cut */
};

/* Note pid for forgetting; false when out of memory (the rescan of tree_done() catches it). */
static inline bool requests_forget(struct requests *r, pid_t pid)
{
	if (r->nforget == r->capforget) {
		size_t cap = r->capforget ? 2 * r->capforget : 64;
		pid_t *p = realloc(r->forget, cap * sizeof(*p));

		if (!p)
			return false;
		r->forget = p;
		r->capforget = cap;
	}
	r->forget[r->nforget++] = pid;
	return true;
}

/* Everything carried out: start afresh (memory kept). */
static inline void requests_clear(struct requests *r)
{
	r->nforget = 0;
	r->ncuts = 0;
	r->rescan = false;
}

static inline void requests_free(struct requests *r)
{
	free(r->forget);
	r->forget = NULL;
	r->nforget = r->capforget = 0;
}

#endif /* BWM_REQUESTS_H */
