/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_EMIT_H
#define BWM_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feedback.h"
#include "format.h"
#include "journal.h"
#include "lines.h"
#include "options.h"
#include "requests.h"
#include "sink.h"

/*
 * What goes out (emit.c): each finished line, note and lifecycle record,
 * rendered by the formatter into the sink, counted; each line also shown
 * to the loop breaker (feedback.h), whose verdicts become requests.
 */
struct emit {
	const struct config *cfg;
	struct formatter fmt;
	struct sink *sink;
	struct journal *journal;	/* --journal: entries go there instead of the sink */
	struct feedback *feedback;
	struct requests *req;
	int64_t wall_offset;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint64_t lines_out;	/* lines and records rendered */
};

/* 0, or -1 when out of memory. */
int emit_init(struct emit *e, const struct config *cfg, struct sink *sink, struct requests *req);
void emit_free(struct emit *e);

/* A line_fn (lines.h): one finished line of a writer. */
void emit_line(void *cookie, const struct line_meta *m, const char *text, size_t len,
	       uint64_t missing);

/* --raw: bytes as they are. */
void emit_raw(struct emit *e, const char *data, size_t len);

/* An in-kernel transfer of bytes (splice, sendfile). */
void emit_transfer(struct emit *e, const struct line_meta *m, uint64_t bytes);

/* A note in a writer's stream, e.g. "[... 3 more messages not captured]". */
void emit_note(struct emit *e, const struct line_meta *m, const char *note);

/*
 * --json: a "lost" record, where in the stream the loss was noticed (ts:
 * CLOCK_MONOTONIC): records lost and the bytes written they stood for. Not
 * counted as a line.
 */
void emit_lost(struct emit *e, uint64_t ts, uint64_t events, uint64_t bytes);

/* -x: a fork (parent), exec (path) or exit (status) record. */
void emit_lifecycle(struct emit *e, const struct bwm_event *ev, const struct line_meta *m);

#endif /* BWM_EMIT_H */
