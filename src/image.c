// SPDX-License-Identifier: GPL-2.0
/*
 * image.c - a compiled program as data, and its bytes (see image.h).
 *
 * The format (host-local, native byte order): a header, the map
 * definitions, each program's name and instructions, then the SHA-256 of
 * everything before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define IMAGE_MAGIC		"BWMCACH1"	/* the name from when only the cache had images */

struct disk_header {
	char magic[8];
	uint32_t format;
	uint32_t nmaps;
	uint32_t nprogs;
	uint32_t kern_version;
	uint8_t key[SHA256_LEN];
	char license[64];
	int32_t values[IMAGE_MAX_VALUES];
	uint8_t proof[SHA256_LEN];
};

struct disk_prog {
	char name[IMAGE_NAME_LEN];
	uint32_t ninsns;
	uint32_t pad;
};

int image_add_prog(struct image *img, const char *name, const void *insns,
			 size_t bytes)
{
	struct image_prog *p = &img->progs[img->nprogs];

	if (img->nprogs >= IMAGE_MAX_PROGS || !bytes || bytes % sizeof(struct bpf_insn) ||
	    bytes / sizeof(struct bpf_insn) > IMAGE_MAX_INSNS)
		return -1;
	p->insns = malloc(bytes);
	if (!p->insns)
		return -1;
	memcpy(p->insns, insns, bytes);
	p->ninsns = bytes / sizeof(struct bpf_insn);
	snprintf(p->name, sizeof(p->name), "%s", name);
	img->nprogs++;
	return 0;
}

void image_free(struct image *img)
{
	int i;

	for (i = 0; i < img->nprogs; i++)
		free(img->progs[i].insns);
	memset(img, 0, sizeof(*img));
}

uint8_t *image_serialize(const struct image *img, size_t *len)
{
	struct disk_header h = { .format = IMAGE_FORMAT, .nmaps = img->nmaps,
				 .nprogs = img->nprogs, .kern_version = img->kern_version };
	size_t n = sizeof(h) + sizeof(img->maps[0]) * img->nmaps + SHA256_LEN, off;
	uint8_t *buf;
	int i;

	for (i = 0; i < img->nprogs; i++)
		n += sizeof(struct disk_prog) + sizeof(struct bpf_insn) * img->progs[i].ninsns;
	buf = calloc(1, n);
	if (!buf)
		return NULL;
	memcpy(h.magic, IMAGE_MAGIC, sizeof(h.magic));
	memcpy(h.key, img->key, sizeof(h.key));
	snprintf(h.license, sizeof(h.license), "%s", img->license);
	memcpy(h.values, img->values, sizeof(h.values));
	memcpy(h.proof, img->proof, sizeof(h.proof));
	memcpy(buf, &h, sizeof(h));
	off = sizeof(h);
	memcpy(buf + off, img->maps, sizeof(img->maps[0]) * img->nmaps);
	off += sizeof(img->maps[0]) * img->nmaps;
	for (i = 0; i < img->nprogs; i++) {
		struct disk_prog p = { .ninsns = img->progs[i].ninsns };

		snprintf(p.name, sizeof(p.name), "%s", img->progs[i].name);
		memcpy(buf + off, &p, sizeof(p));
		off += sizeof(p);
		memcpy(buf + off, img->progs[i].insns, sizeof(struct bpf_insn) * p.ninsns);
		off += sizeof(struct bpf_insn) * p.ninsns;
	}
	sha256(buf, off, buf + off);
	*len = n;
	return buf;
}

static int parse_progs(const uint8_t *buf, size_t end, size_t off, struct image *img,
		       uint32_t nprogs, char *why, size_t whylen)
{
	uint32_t i;

	for (i = 0; i < nprogs; i++) {
		struct disk_prog p;

		if (end - off < sizeof(p)) {
			snprintf(why, whylen, "truncated");
			return -1;
		}
		memcpy(&p, buf + off, sizeof(p));
		off += sizeof(p);
		p.name[sizeof(p.name) - 1] = '\0';
		if (p.ninsns > (end - off) / sizeof(struct bpf_insn) ||
		    image_add_prog(img, p.name, buf + off, p.ninsns * sizeof(struct bpf_insn))) {
			snprintf(why, whylen, "program %u is malformed", i);
			return -1;
		}
		off += p.ninsns * sizeof(struct bpf_insn);
	}
	if (off != end) {
		snprintf(why, whylen, "trailing bytes");
		return -1;
	}
	return 0;
}

int image_parse(const uint8_t *buf, size_t len, struct image *img, char *why,
		size_t whylen)
{
	uint8_t sum[SHA256_LEN];
	struct disk_header h;
	size_t end, off;
	int i;

	memset(img, 0, sizeof(*img));
	if (len < sizeof(h) + SHA256_LEN) {
		snprintf(why, whylen, "too short");
		return -1;
	}
	end = len - SHA256_LEN;
	sha256(buf, end, sum);
	if (memcmp(sum, buf + end, SHA256_LEN)) {
		snprintf(why, whylen, "checksum mismatch");
		return -1;
	}
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, IMAGE_MAGIC, sizeof(h.magic)) || h.format != IMAGE_FORMAT ||
	    h.nmaps > IMAGE_MAX_MAPS || h.nprogs > IMAGE_MAX_PROGS ||
	    (end - sizeof(h)) / sizeof(img->maps[0]) < h.nmaps) {
		snprintf(why, whylen, "not an entry of this version");
		return -1;
	}
	memcpy(img->key, h.key, sizeof(img->key));
	h.license[sizeof(h.license) - 1] = '\0';
	snprintf(img->license, sizeof(img->license), "%s", h.license);
	img->kern_version = h.kern_version;
	memcpy(img->values, h.values, sizeof(img->values));
	memcpy(img->proof, h.proof, sizeof(img->proof));
	img->nmaps = h.nmaps;
	off = sizeof(h);
	memcpy(img->maps, buf + off, sizeof(img->maps[0]) * h.nmaps);
	off += sizeof(img->maps[0]) * h.nmaps;
	for (i = 0; i < img->nmaps; i++)
		img->maps[i].name[sizeof(img->maps[i].name) - 1] = '\0';
	if (parse_progs(buf, end, off, img, h.nprogs, why, whylen)) {
		image_free(img);
		return -1;
	}
	return 0;
}
