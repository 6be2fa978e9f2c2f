// SPDX-License-Identifier: GPL-2.0
/*
 * feedback.c - notice a traced process that writes back the tool's output.
 */
#include <stdlib.h>
#include <string.h>

#include "feedback.h"

#define PRINTED_SLOTS	4096	/* recent printed lines, a lossy table */
#define SUSPECT_SLOTS	64	/* processes with echoes in the current window */

struct printed {
	uint64_t hash;		/* 0: empty */
	uint32_t origin;
};

struct suspect {
	uint32_t tgid;		/* 0: free */
	uint64_t window;	/* start, ns */
	uint32_t lines, echoes, cross;
	bool told;		/* a verdict was given in this window */
};

struct feedback {
	struct printed printed[PRINTED_SLOTS];
	struct suspect suspects[SUSPECT_SLOTS];
};

/* FNV-1a, never 0. */
static uint64_t hash_line(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

struct feedback *feedback_new(void)
{
	return calloc(1, sizeof(struct feedback));
}

void feedback_free(struct feedback *fb)
{
	free(fb);
}

void feedback_printed(struct feedback *fb, const char *line, size_t len, uint32_t origin)
{
	uint64_t h = hash_line(line, len);

	fb->printed[h % PRINTED_SLOTS] = (struct printed){ h, origin };
}

/* The slot of tgid, or a free or stale one (window over) taken for it; NULL if none. */
static struct suspect *suspect_of(struct feedback *fb, uint32_t tgid, uint64_t now)
{
	struct suspect *free_slot = NULL;
	size_t i;

	for (i = 0; i < SUSPECT_SLOTS; i++) {
		struct suspect *s = &fb->suspects[i];

		if (s->tgid == tgid)
			return s;
		if (!free_slot && (!s->tgid || now - s->window >= FEEDBACK_WINDOW_NS))
			free_slot = s;
	}
	if (free_slot)
		*free_slot = (struct suspect){ .tgid = tgid, .window = now };
	return free_slot;
}

enum feedback_verdict feedback_captured(struct feedback *fb, uint32_t tgid, const char *line,
					size_t len, uint64_t now)
{
	uint64_t h = hash_line(line, len);
	const struct printed *p = &fb->printed[h % PRINTED_SLOTS];
	bool echo = p->hash == h;
	struct suspect *s;

	if (!echo) {
		/* Only processes that echo are followed; their other lines count too. */
		for (s = fb->suspects; s < fb->suspects + SUSPECT_SLOTS; s++)
			if (s->tgid == tgid) {
				s->lines++;
				break;
			}
		return FEEDBACK_NONE;
	}
	s = suspect_of(fb, tgid, now);
	if (!s)
		return FEEDBACK_NONE;
	if (now - s->window >= FEEDBACK_WINDOW_NS)
		*s = (struct suspect){ .tgid = tgid, .window = now };
	s->lines++;
	s->echoes++;
	s->cross += p->origin != tgid;
	if (s->told || s->echoes < FEEDBACK_MIN_ECHOES || s->echoes * 10ull < s->lines * 9ull)
		return FEEDBACK_NONE;
	s->told = true;
	return s->cross >= FEEDBACK_MIN_ECHOES ? FEEDBACK_LOOP : FEEDBACK_SUSPECT;
}
