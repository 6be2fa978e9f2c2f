/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_IMAGE_H
#define BWM_IMAGE_H

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/*
 * A compiled program as plain data: each tracepoint function's instructions
 * and the definitions of the maps they reference, and its bytes (the
 * compiler child's answer and a compile cache entry are both this). Pure:
 * no libbcc, no files.
 */
#define IMAGE_MAX_MAPS		16
#define IMAGE_MAX_PROGS		32
#define IMAGE_MAX_INSNS		(1 << 20)
#define IMAGE_NAME_LEN		128
#define IMAGE_FORMAT		2	/* of the bytes; also in the cache key */
#define IMAGE_MAX_VALUES	4

/* A map as the compiler created it. */
struct image_map {
	char name[64];
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t flags;
	int32_t fd;		/* its fd in the compiler: what the instructions reference */
};

struct image_prog {
	char name[IMAGE_NAME_LEN];	/* tracepoint__<cat>__<ev> */
	uint32_t ninsns;
	struct bpf_insn *insns;
};

struct image {
	uint8_t key[SHA256_LEN];	/* the cache key it is stored under (zero otherwise) */
	/*
	 * A cache entry's proof: the values it was compiled with as well, and the
	 * SHA-256 of its code patched with them, which was the code of that compile.
	 */
	int32_t values[IMAGE_MAX_VALUES];
	uint8_t proof[SHA256_LEN];
	char license[64];
	uint32_t kern_version;
	int nmaps;
	struct image_map maps[IMAGE_MAX_MAPS];
	int nprogs;
	struct image_prog progs[IMAGE_MAX_PROGS];
};

/* Add a program (insns copied); 0, or -1 when full or out of memory. */
int image_add_prog(struct image *img, const char *name, const void *insns, size_t bytes);
void image_free(struct image *img);

/*
 * The image's bytes: a header, the maps, the programs, and a SHA-256 of all
 * that. Returns a malloc()ed buffer (its length in *len), NULL when out of
 * memory.
 */
uint8_t *image_serialize(const struct image *img, size_t *len);

/* Parse and verify (checksum, bounds) an image's bytes; 0, or -1 and why. */
int image_parse(const uint8_t *buf, size_t len, struct image *img, char *why, size_t whylen);

#endif /* BWM_IMAGE_H */
