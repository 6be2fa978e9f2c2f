/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_CACHE_LOAD_H
#define BWM_CACHE_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "cache.h"
#include "compile.h"
#include "options.h"
#include "program.h"

/*
 * Create img's maps, patch its programs (placeholders with values, map
 * references with the new maps) and load them: no compiler involved.
 * required[]: placeholders that must occur. 0 and the fds in out (as the
 * compiler child hands them back), or -1 and err.
 */
int cache_load(const struct image *img, const int32_t values[CACHE_NPH],
	       const bool required[CACHE_NPH], bool verbose, struct compiled *out, char *err,
	       size_t errlen);

/* Is img loadable with patched values: sites found, required placeholders there? */
int cache_check(const struct image *img, const bool required[CACHE_NPH], char *why,
		size_t whylen);

/*
 * The program text of p with placeholders for the values (malloc()ed, in
 * *text), the run's values, and which placeholders must occur in its
 * compile. 0, or -1 (err).
 */
int cache_placeholders(const struct config *cfg, const struct program_params *p,
		       const struct templates *t, char **text, int32_t values[CACHE_NPH],
		       bool required[CACHE_NPH], char *err, size_t errlen);

/*
 * The programs of this run, loaded: from the cache entry of the program's
 * shape when there is a good one; else compiled with placeholder values in
 * a compiler child (started here), loaded patched, and stored; with
 * --no-cache, or when the shape cannot be cached, compiled from text (the
 * real program) as before. *c is a compiler already started, or NULL; it
 * is used up. -v says which and why. 0, or -1 with a message in err.
 */
int cache_obtain(const struct config *cfg, const struct program_params *p,
		 const struct templates *t, const char *text, struct compiler **c,
		 struct compiled *out, char *err, size_t errlen);

#endif /* BWM_CACHE_LOAD_H */
