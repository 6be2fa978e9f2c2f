/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_CACHE_H
#define BWM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "image.h"
#include "sha256.h"

/*
 * The compile cache (Cilium's way): the program text is compiled once per
 * shape with placeholder values for the per-run constants, and the compiled
 * instructions and map definitions are kept; a later run with the same key
 * creates the maps itself, patches the placeholders' immediates and the map
 * references, and loads the instructions: no compiler at all.
 *
 * The key is the SHA-256 of the program text built with the placeholders
 * (every template byte and every shape constant is in it) and of the host's
 * identity (kernel, headers, libbcc and LLVM files, the tool's version).
 *
 * cache.c (placeholders, patching, proof) is pure; cache_store.c (keys, the
 * host's identity, the directory, entries, pruning) touches files; neither
 * uses libbcc.
 */

/* The per-run constants ("values"): everything else in the text is shape. */
enum cache_ph {
	CACHE_PH_TARGET,	/* BWM_TARGET_PID */
	CACHE_PH_SELF,		/* BWM_SELF_PID */
	CACHE_NPH,
};

/*
 * Their placeholder values: odd, far above any PID (pid_max is at most
 * 2^22) and far from each other and from any constant of the templates,
 * below 2^31 so that they stay plain 32-bit immediates; their bytes are all
 * different and uncommon, so that a value the compiler split into bytes or
 * halves (a memcpy of a header it folded the PID into) is told apart.
 */
#define CACHE_PH_TARGET_VALUE	0x6b3c9d5b
#define CACHE_PH_SELF_VALUE	0x5d2e4fa7

_Static_assert(CACHE_NPH <= IMAGE_MAX_VALUES, "an entry keeps every placeholder's value");

/* Where a placeholder or a map is referenced in an instruction. */
struct cache_site {
	uint32_t insn;		/* index of the instruction whose imm is patched */
	int ph;			/* enum cache_ph, or -1 for a map reference */
	int map;		/* index in maps[] of a map reference */
};

/* The key of a placeholder program text on a host of identity ident. */
void cache_key(const char *text, const char *ident, uint8_t key[SHA256_LEN]);

/* The key as 64 hex digits (out: 65 bytes): the entry's file name. */
void cache_key_hex(const uint8_t key[SHA256_LEN], char *out);

/*
 * Where prog must be patched: every map reference (BPF_LD_IMM64 with
 * BPF_PSEUDO_MAP_FD) and every 32-bit immediate that equals a placeholder.
 * Refused (-1, why in why) when a placeholder appears in a derived form (a
 * nearby value, negated, inverted, byte-swapped, beside other bits of a
 * 64-bit immediate) or a reference kind cannot be patched. sites gets at
 * most max entries; returns how many, counts[] how often each placeholder.
 */
int cache_find_sites(const struct image *img, const struct image_prog *prog,
		     struct cache_site *sites, int max, int counts[CACHE_NPH],
		     char *why, size_t whylen);

/*
 * Copy prog's instructions into out, patched: placeholders with values[],
 * map references with map_fds[] (indexed like img->maps). 0, or -1 (why).
 */
int cache_patch(const struct image *img, const struct image_prog *prog,
		const int32_t values[CACHE_NPH], const int *map_fds, struct bpf_insn *out,
		char *why, size_t whylen);

/*
 * Does the placeholder image, patched with values, equal the image compiled
 * with those very values (map references compared by map name)? This is
 * what makes a shape cacheable: the compiler used no placeholder's value
 * to shape the code. 0 if so, -1 and why in why.
 */
int cache_same_code(const struct image *ph, const struct image *real,
		    const int32_t values[CACHE_NPH], char *why, size_t whylen);

/*
 * The proof of an entry: the SHA-256 of img's code patched with values (map
 * references by their place in maps[]). Stored once the placeholder compile,
 * patched, was found equal to the compile with those values
 * (cache_same_code), it is the digest of that compile's code. 0, or -1 (why).
 */
int cache_proof(const struct image *img, const int32_t values[CACHE_NPH],
		uint8_t digest[SHA256_LEN], char *why, size_t whylen);

/* Is img's code still what its proof says (img->values, img->proof)? 0, or -1 (why). */
int cache_proven(const struct image *img, char *why, size_t whylen);

/*
 * What identifies the compiler's output on this host besides the text:
 * kernel release and build, the kernel headers libbcc compiles against,
 * libbcc's and LLVM's files, the environment libbcc reads. Into out.
 */
void cache_host_ident(char *out, size_t size);

/*
 * The cache directory: $BWM_CACHE_DIR or /var/cache/bpf_write_monitor,
 * created (mode 0700) when missing. It must be a directory owned by root
 * with mode 0700. An fd, or -1 and why.
 */
int cache_dir_open(char *path, size_t pathlen, char *why, size_t whylen);

/*
 * Read the entry of key: a regular file owned by root, mode 0600, whose
 * checksum and key are right and whose code is that of its proof. 0; 1 when there is none; -1 (refused, why).
 */
int cache_read(int dirfd, const uint8_t key[SHA256_LEN], struct image *img, char *why,
	       size_t whylen);

/* Write img's entry atomically (a temporary file renamed over it); 0 or -1 (why). */
int cache_write(int dirfd, const struct image *img, char *why, size_t whylen);

/*
 * Keep the keep most recently used entries of the cache directory (an entry's
 * mtime is set when it is stored and each time it is read) and remove the
 * rest, and temporary files older than CACHE_TMP_AGE seconds (a writer that
 * died). Returns how many files were removed, -1 if the directory cannot be
 * read.
 */
#define CACHE_KEEP		32
#define CACHE_KEEP_STR		"32"
#define CACHE_TMP_AGE		3600
int cache_prune(int dirfd, int keep, time_t now);

#endif /* BWM_CACHE_H */
