/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz.h - what every fuzz target shares: libFuzzer's entry point, and a
 * cursor that takes typed values from the input.
 */
#ifndef BWM_FUZZ_H
#define BWM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t take_u8(struct cursor *c)
{
	if (!c->left)
		return 0;
	c->left--;
	return *c->p++;
}

static inline uint64_t take_u64(struct cursor *c)
{
	uint64_t v = 0;
	size_t n = c->left < sizeof(v) ? c->left : sizeof(v);

	memcpy(&v, c->p, n);
	c->p += n;
	c->left -= n;
	return v;
}

/* Up to max bytes (fewer if the input ends); *n is set to how many. */
static inline const uint8_t *take_bytes(struct cursor *c, size_t max, size_t *n)
{
	const uint8_t *p = c->p;

	*n = c->left < max ? c->left : max;
	c->p += *n;
	c->left -= *n;
	return p;
}

/* A broken invariant: abort, so that the fuzzer keeps the input. */
#define FUZZ_ASSERT(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();					\
		}							\
	} while (0)

#endif /* BWM_FUZZ_H */
