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

static inline uint64_t rotl64(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

static inline uint64_t word_at(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

/*
 * A hash of the line, never 0. Every line is hashed when captured and, unless
 * it is printed as written, again as printed: eight bytes a step in two
 * independent lanes, not a byte at a time
 * (byte-wise FNV-1a took two thirds of the reader's time at 3 million lines/s).
 */
uint64_t feedback_hash(const char *s, size_t n)
{
	const uint64_t k1 = 0x9e3779b97f4a7c15ull, k2 = 0xc2b2ae3d27d4eb4full;
	uint64_t a = n * k1, b = ~n, tail = 0, h;
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		a = rotl64(a ^ word_at(s + i), 31) * k1;
		b = rotl64(b ^ word_at(s + i + 8), 29) * k2;
	}
	if (i + 8 <= n) {
		a = rotl64(a ^ word_at(s + i), 31) * k1;
		i += 8;
	}
	if (n >= 8)		/* the last 8 bytes, overlapping what was hashed */
		tail = word_at(s + n - 8);
	else
		while (i < n)
			tail = tail << 8 | (unsigned char)s[i++];
	b = rotl64(b ^ tail, 29) * k2;
	h = a ^ rotl64(b, 17);
	h = (h ^ h >> 33) * 0xff51afd7ed558ccdull;
	h ^= h >> 33;
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

void feedback_printed(struct feedback *fb, uint64_t h, uint32_t origin)
{
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

enum feedback_verdict feedback_captured(struct feedback *fb, uint32_t tgid, uint64_t h,
					uint64_t now)
{
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
