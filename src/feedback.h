/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_FEEDBACK_H
#define BWM_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The loop breaker: notices a traced process that writes back what this
 * tool printed (it reads the tool's output, directly or through others that
 * the reader scan could not see). Pure: lines in, verdicts out.
 *
 * Each printed line is remembered (a hash, and the process it came from) in
 * a small table; each captured line is looked up. Per one-second window, a
 * process whose lines are nearly all echoes (FEEDBACK_MIN_ECHOES or more,
 * 90 %) is a suspect; if more than FEEDBACK_MIN_ECHOES of them echo lines of
 * *other* processes, it is a loop (a process repeating its own lines, e.g.
 * `yes` with bare output, is not one by itself).
 */
#define FEEDBACK_WINDOW_NS	1000000000ull
#define FEEDBACK_MIN_ECHOES	256

enum feedback_verdict {
	FEEDBACK_NONE,
	FEEDBACK_SUSPECT,	/* echoes its own printed lines: check whether it reads us */
	FEEDBACK_LOOP,		/* echoes what others wrote, at a flood's rate */
};

struct feedback;

struct feedback *feedback_new(void);
void feedback_free(struct feedback *fb);

/* The hash of a line (without its newline) that both calls below take, never 0. */
uint64_t feedback_hash(const char *line, size_t len);

/* A line went out (its hash); origin: the process that wrote it. */
void feedback_printed(struct feedback *fb, uint64_t hash, uint32_t origin);

/* Process tgid wrote a line (its hash) at now (ns); a verdict once per window. */
enum feedback_verdict feedback_captured(struct feedback *fb, uint32_t tgid, uint64_t hash,
					uint64_t now);

#endif /* BWM_FEEDBACK_H */
