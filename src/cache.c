// SPDX-License-Identifier: GPL-2.0
/*
 * cache.c - the compile cache's placeholders: where they are in the
 * instructions, patching them, and the proof that patching gives what the
 * compiler would have (see cache.h for the idea).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define NEAR			0x10000	/* a value this close to a placeholder is derived from it */

static const int32_t ph_values[CACHE_NPH] = {
	[CACHE_PH_TARGET] = CACHE_PH_TARGET_VALUE,
	[CACHE_PH_SELF] = CACHE_PH_SELF_VALUE,
};

static const char *const ph_names[CACHE_NPH] = {
	[CACHE_PH_TARGET] = "BWM_TARGET_PID",
	[CACHE_PH_SELF] = "BWM_SELF_PID",
};

static int exact_ph(int32_t imm)
{
	int i;

	for (i = 0; i < CACHE_NPH; i++)
		if (imm == ph_values[i])
			return i;
	return -1;
}

/* A placeholder's value transformed: the compiler computed with it. */
static int derived_ph(int32_t imm)
{
	uint32_t v = imm;
	int i;

	for (i = 0; i < CACHE_NPH; i++) {
		uint32_t p = ph_values[i];

		if (v == p)
			continue;
		if (v - p + NEAR < 2 * NEAR || v == -p || v == ~p || v == __builtin_bswap32(p))
			return i;
	}
	return -1;
}

static int add_site(struct cache_site *sites, int n, int max, uint32_t insn, int ph, int map)
{
	if (n >= max)
		return -1;
	sites[n] = (struct cache_site){ .insn = insn, .ph = ph, .map = map };
	return n + 1;
}

static int map_by_fd(const struct image *img, int32_t fd)
{
	int i;

	for (i = 0; i < img->nmaps; i++)
		if (img->maps[i].fd == fd)
			return i;
	return -1;
}

/* A BPF_LD_IMM64 at insn i (two slots): its sites; the new count or -1 (why). */
static int ld_imm64_sites(const struct image *img, const struct image_prog *prog,
			  uint32_t i, struct cache_site *sites, int n, int max,
			  char *why, size_t whylen)
{
	const struct bpf_insn *in = &prog->insns[i];
	int32_t lo = in[0].imm, hi = in[1].imm;
	int map;

	if (in[0].src_reg == BPF_PSEUDO_MAP_FD) {
		map = map_by_fd(img, lo);
		if (map < 0 || hi != 0) {
			snprintf(why, whylen, "%s: instruction %u references an unknown map",
				 prog->name, i);
			return -1;
		}
		return add_site(sites, n, max, i, -1, map);
	}
	if (in[0].src_reg != 0) {
		snprintf(why, whylen, "%s: instruction %u is a 64-bit load of kind %d, which the "
			 "cache cannot patch", prog->name, i, in[0].src_reg);
		return -1;
	}
	if (exact_ph(lo) >= 0 && hi == 0)
		return add_site(sites, n, max, i, exact_ph(lo), 0);
	if (exact_ph(hi) >= 0 && lo == 0)
		return add_site(sites, n, max, i + 1, exact_ph(hi), 0);
	if (exact_ph(lo) >= 0 || exact_ph(hi) >= 0 || derived_ph(lo) >= 0 || derived_ph(hi) >= 0) {
		snprintf(why, whylen, "%s: instruction %u holds %s in a derived form", prog->name,
			 i, ph_names[exact_ph(lo) >= 0 ? exact_ph(lo) : exact_ph(hi) >= 0 ?
				     exact_ph(hi) : derived_ph(lo) >= 0 ? derived_ph(lo) :
				     derived_ph(hi)]);
		return -1;
	}
	return n;
}

#define SPLIT_WINDOW	32	/* instructions in which the pieces of a split value are looked for */

/* Is v among the immediates of insns [from, to)? */
static bool has_imm(const struct bpf_insn *in, uint32_t from, uint32_t to, int32_t v)
{
	uint32_t i;

	for (i = from; i < to; i++)
		if (in[i].imm == v && in[i].code != (BPF_LD | BPF_DW | BPF_IMM))
			return true;
	return false;
}

/*
 * A placeholder the compiler split into its four bytes or two halves (it
 * folded a compared PID into a record and copied that byte by byte): the
 * pieces as immediates within a few instructions of its low piece at i. -1
 * if none, else which.
 */
static int split_ph(const struct image_prog *prog, uint32_t i)
{
	uint32_t to = i + SPLIT_WINDOW < prog->ninsns ? i + SPLIT_WINDOW : prog->ninsns;
	uint32_t from = i > SPLIT_WINDOW ? i - SPLIT_WINDOW : 0;
	const struct bpf_insn *in = prog->insns;
	int k;

	for (k = 0; k < CACHE_NPH; k++) {
		uint32_t p = ph_values[k];

		if (in[i].imm == (int32_t)(p & 0xff) && has_imm(in, from, to, (p >> 8) & 0xff) &&
		    has_imm(in, from, to, (p >> 16) & 0xff) && has_imm(in, from, to, p >> 24))
			return k;
		if (in[i].imm == (int32_t)(p & 0xffff) && has_imm(in, from, to, p >> 16))
			return k;
	}
	return -1;
}

int cache_find_sites(const struct image *img, const struct image_prog *prog,
		     struct cache_site *sites, int max, int counts[CACHE_NPH],
		     char *why, size_t whylen)
{
	uint32_t i;
	int n = 0;

	memset(counts, 0, sizeof(int) * CACHE_NPH);
	for (i = 0; i < prog->ninsns && n >= 0; i++) {
		const struct bpf_insn *in = &prog->insns[i];

		if (in->code == (BPF_LD | BPF_DW | BPF_IMM)) {
			if (i + 1 >= prog->ninsns) {
				snprintf(why, whylen, "%s: truncated 64-bit load", prog->name);
				return -1;
			}
			n = ld_imm64_sites(img, prog, i, sites, n, max, why, whylen);
			i++;
		} else if (exact_ph(in->imm) >= 0) {
			n = add_site(sites, n, max, i, exact_ph(in->imm), 0);
		} else if (derived_ph(in->imm) >= 0) {
			snprintf(why, whylen, "%s: instruction %u holds %s in a derived form",
				 prog->name, i, ph_names[derived_ph(in->imm)]);
			return -1;
		} else if (split_ph(prog, i) >= 0) {
			snprintf(why, whylen, "%s: instruction %u starts %s split into pieces",
				 prog->name, i, ph_names[split_ph(prog, i)]);
			return -1;
		}
		if (n < 0 && !*why)
			snprintf(why, whylen, "%s: too many placeholder sites", prog->name);
	}
	for (i = 0; n > 0 && i < (uint32_t)n; i++)
		if (sites[i].ph >= 0)
			counts[sites[i].ph]++;
	return n;
}

int cache_patch(const struct image *img, const struct image_prog *prog,
		const int32_t values[CACHE_NPH], const int *map_fds, struct bpf_insn *out,
		char *why, size_t whylen)
{
	int counts[CACHE_NPH], n, i;
	struct cache_site *sites = malloc(sizeof(*sites) * prog->ninsns);

	if (!sites) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	why[0] = '\0';
	n = cache_find_sites(img, prog, sites, prog->ninsns, counts, why, whylen);
	if (n >= 0) {
		memcpy(out, prog->insns, sizeof(*out) * prog->ninsns);
		for (i = 0; i < n; i++)
			out[sites[i].insn].imm = sites[i].ph >= 0 ? values[sites[i].ph] :
							map_fds[sites[i].map];
	}
	free(sites);
	return n < 0 ? -1 : 0;
}

static const struct image_prog *prog_by_name(const struct image *img, const char *name)
{
	int i;

	for (i = 0; i < img->nprogs; i++)
		if (!strcmp(img->progs[i].name, name))
			return &img->progs[i];
	return NULL;
}

/* Are the maps the same, and which fd has each of ph's maps in real? */
static int same_maps(const struct image *ph, const struct image *real, int *fds,
		     char *why, size_t whylen)
{
	int i, j;

	if (ph->nmaps != real->nmaps) {
		snprintf(why, whylen, "the programs have different maps");
		return -1;
	}
	for (i = 0; i < ph->nmaps; i++) {
		const struct image_map *a = &ph->maps[i], *b = NULL;

		for (j = 0; j < real->nmaps && !b; j++)
			if (!strcmp(real->maps[j].name, a->name))
				b = &real->maps[j];
		if (!b || a->type != b->type || a->key_size != b->key_size ||
		    a->value_size != b->value_size || a->max_entries != b->max_entries ||
		    a->flags != b->flags) {
			snprintf(why, whylen, "map %s differs", a->name);
			return -1;
		}
		fds[i] = b->fd;
	}
	return 0;
}

int cache_same_code(const struct image *ph, const struct image *real,
		    const int32_t values[CACHE_NPH], char *why, size_t whylen)
{
	int fds[IMAGE_MAX_MAPS], i, rc = 0;

	if (same_maps(ph, real, fds, why, whylen))
		return -1;
	if (ph->nprogs != real->nprogs || strcmp(ph->license, real->license) ||
	    ph->kern_version != real->kern_version) {
		snprintf(why, whylen, "the programs differ in number, license or kernel version");
		return -1;
	}
	for (i = 0; i < ph->nprogs && !rc; i++) {
		const struct image_prog *a = &ph->progs[i], *b = prog_by_name(real, a->name);
		struct bpf_insn *patched;

		if (!b || a->ninsns != b->ninsns) {
			snprintf(why, whylen, "%s: compiled differently with placeholder values "
				 "(the compiler used them)", a->name);
			return -1;
		}
		patched = malloc(sizeof(*patched) * a->ninsns);
		if (!patched) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		rc = cache_patch(ph, a, values, fds, patched, why, whylen);
		if (!rc && memcmp(patched, b->insns, sizeof(*patched) * a->ninsns)) {
			snprintf(why, whylen, "%s: compiled differently with placeholder values "
				 "(the compiler used them)", a->name);
			rc = -1;
		}
		free(patched);
	}
	return rc;
}

int cache_proof(const struct image *img, const int32_t values[CACHE_NPH],
		uint8_t digest[SHA256_LEN], char *why, size_t whylen)
{
	int by_index[IMAGE_MAX_MAPS], i, rc = 0;
	struct sha256 s;

	for (i = 0; i < IMAGE_MAX_MAPS; i++)
		by_index[i] = i;	/* a map is named by its place in maps[], not its fd */
	sha256_init(&s);
	for (i = 0; i < img->nprogs && !rc; i++) {
		const struct image_prog *p = &img->progs[i];
		struct bpf_insn *patched = malloc(sizeof(*patched) * p->ninsns);

		if (!patched) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		rc = cache_patch(img, p, values, by_index, patched, why, whylen);
		sha256_update(&s, p->name, strlen(p->name) + 1);
		sha256_update(&s, patched, sizeof(*patched) * p->ninsns);
		free(patched);
	}
	sha256_final(&s, digest);
	return rc;
}

int cache_proven(const struct image *img, char *why, size_t whylen)
{
	uint8_t digest[SHA256_LEN];

	if (cache_proof(img, img->values, digest, why, whylen))
		return -1;
	if (memcmp(digest, img->proof, SHA256_LEN)) {
		snprintf(why, whylen, "its code differs from its proof");
		return -1;
	}
	return 0;
}
