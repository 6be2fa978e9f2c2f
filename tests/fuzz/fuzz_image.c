// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_image - image_parse() (image.c) on any bytes: a compile cache entry
 * read from disk, or the compiler child's answer. The input's last 32 bytes
 * are replaced by the SHA-256 of the rest, so that the parser gets past its
 * checksum and meets malformed counts, names and programs. Invariants: a
 * parsed image is within its bounds, its bytes parse again into the same
 * bytes; cache_find_sites() and cache_proven() take any parsed image.
 */
#include "cache.h"
#include "fuzz.h"
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct image img, again;
	uint8_t *buf = malloc(size + 1), *back, *back2;
	char why[256];
	size_t len, len2;
	int i, counts[CACHE_NPH];

	memcpy(buf, data, size);
	if (size >= SHA256_LEN)
		sha256(buf, size - SHA256_LEN, buf + size - SHA256_LEN);
	if (image_parse(buf, size, &img, why, sizeof(why)) == 0) {
		FUZZ_ASSERT(img.nmaps <= IMAGE_MAX_MAPS && img.nprogs <= IMAGE_MAX_PROGS);
		back = image_serialize(&img, &len);
		FUZZ_ASSERT(back && len == size);
		FUZZ_ASSERT(image_parse(back, len, &again, why, sizeof(why)) == 0);
		back2 = image_serialize(&again, &len2);
		FUZZ_ASSERT(back2 && len2 == len && !memcmp(back, back2, len));
		image_free(&again);
		free(back);
		free(back2);
		for (i = 0; i < img.nprogs; i++) {
			struct cache_site *sites = malloc(sizeof(*sites) * img.progs[i].ninsns);

			FUZZ_ASSERT(img.progs[i].ninsns > 0 && img.progs[i].name[IMAGE_NAME_LEN - 1] == 0);
			why[0] = '\0';
			cache_find_sites(&img, &img.progs[i], sites, img.progs[i].ninsns, counts, why,
					 sizeof(why));
			free(sites);
		}
		cache_proven(&img, why, sizeof(why));
		image_free(&img);
	}
	free(buf);
	return 0;
}
