// SPDX-License-Identifier: GPL-2.0
/*
 * cache_load.c - load a cached compile: create the maps, patch, load (libbcc_bpf).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bcc/libbpf.h>

#include "cache_load.h"
#include "verifier.h"

static const char *const ph_names[CACHE_NPH] = { "BWM_TARGET_PID", "BWM_SELF_PID" };

int cache_check(const struct image *img, const bool required[CACHE_NPH], char *why,
		size_t whylen)
{
	int total[CACHE_NPH] = { 0 }, counts[CACHE_NPH], i, j, n;

	for (i = 0; i < img->nprogs; i++) {
		struct cache_site *sites = malloc(sizeof(*sites) * img->progs[i].ninsns);

		if (!sites) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		why[0] = '\0';
		n = cache_find_sites(img, &img->progs[i], sites, img->progs[i].ninsns, counts, why,
				     whylen);
		free(sites);
		if (n < 0)
			return -1;
		for (j = 0; j < CACHE_NPH; j++)
			total[j] += counts[j];
	}
	for (j = 0; j < CACHE_NPH; j++) {
		if (required[j] && !total[j]) {
			snprintf(why, whylen, "%s does not occur as an immediate (the compiler "
				 "folded it)", ph_names[j]);
			return -1;
		}
	}
	return 0;
}

struct load_job {
	const struct image *img;
	const int32_t *values;
	const int *map_fds;
	int prog_fds[IMAGE_MAX_PROGS];
	int errs[IMAGE_MAX_PROGS];
	int next;
};

/*
 * The kernel keeps 15 characters of a program's name, and a program loaded
 * here has no BTF to give the whole one to bpftool: the tracepoint's event
 * ("sys_exit_write"), not "tracepoint__sys".
 */
static const char *short_name(const char *name)
{
	const char *ev = strstr(name, "__");

	while (ev && strstr(ev + 2, "__"))
		ev = strstr(ev + 2, "__");
	return ev ? ev + 2 : name;
}

/* Verifying takes a while (the loops): several programs at a time. */
static void *load_worker(void *arg)
{
	struct load_job *j = arg;
	char why[256];
	int i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->img->nprogs) {
		const struct image_prog *p = &j->img->progs[i];
		struct bpf_insn *insns = malloc(sizeof(*insns) * p->ninsns);

		j->prog_fds[i] = -1;
		j->errs[i] = ENOMEM;
		if (insns && !cache_patch(j->img, p, j->values, j->map_fds, insns, why,
					  sizeof(why))) {
			j->prog_fds[i] = bcc_prog_load(BPF_PROG_TYPE_TRACEPOINT, short_name(p->name),
						       insns,
						       p->ninsns * sizeof(*insns), j->img->license,
						       j->img->kern_version, 0, NULL, 0);
			j->errs[i] = j->prog_fds[i] == -1 ? errno : -j->prog_fds[i];
		} else if (insns) {
			j->errs[i] = EINVAL;
		}
		free(insns);
	}
	return NULL;
}

static void close_all(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int create_maps(const struct image *img, int *fds, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < img->nmaps; i++) {
		const struct image_map *m = &img->maps[i];

		fds[i] = bcc_create_map(m->type, m->name, m->key_size, m->value_size,
					m->max_entries, m->flags);
		if (fds[i] < 0) {
			snprintf(err, errlen, "cannot create map %s: %s", m->name,
				 strerror(fds[i] == -1 ? errno : -fds[i]));
			close_all(fds, i);
			return -1;
		}
	}
	return 0;
}

/*
 * Load every program, several at a time. libbcc prints a refused program's
 * verifier log: that goes to a scratch file, since the caller then compiles
 * the text the usual way, which explains the refusal properly.
 */
static int load_progs(struct load_job *j, char *err, size_t errlen)
{
	int i;

	verify_in_parallel(load_worker, j, "bwm-cache-log", NULL);
	for (i = 0; i < j->img->nprogs; i++) {
		if (j->prog_fds[i] < 0) {
			snprintf(err, errlen, "the kernel refused cached program %s: %s",
				 j->img->progs[i].name, strerror(j->errs[i]));
			close_all(j->prog_fds, j->img->nprogs);
			return -1;
		}
	}
	return 0;
}

int cache_load(const struct image *img, const int32_t values[CACHE_NPH],
	       const bool required[CACHE_NPH], bool verbose, struct compiled *out, char *err,
	       size_t errlen)
{
	static struct load_job job;
	int map_fds[IMAGE_MAX_MAPS], i;

	if (cache_check(img, required, err, errlen) || create_maps(img, map_fds, err, errlen))
		return -1;
	memset(&job, 0, sizeof(job));
	job.img = img;
	job.values = values;
	job.map_fds = map_fds;
	if (load_progs(&job, err, errlen)) {
		close_all(map_fds, img->nmaps);
		return -1;
	}
	out->n = 0;
	for (i = 0; i < img->nprogs; i++) {
		struct compiled_item *it = &out->items[out->n++];

		snprintf(it->name, sizeof(it->name), "%s", img->progs[i].name);
		it->fd = job.prog_fds[i];
		it->is_map = false;
		if (verbose)
			fprintf(stderr, "%s: loaded %s\n", BWM_NAME, it->name);
	}
	for (i = 0; i < img->nmaps; i++) {
		struct compiled_item *it = &out->items[out->n++];

		snprintf(it->name, sizeof(it->name), "%s", img->maps[i].name);
		it->fd = map_fds[i];
		it->is_map = true;
	}
	return 0;
}

/* ---- one run's way to its programs -------------------------------------- */

struct lookup {
	char dir[PATH_MAX];
	int dirfd;
	char path[PATH_MAX + 80];	/* the entry, for messages */
	char *text;			/* the program with placeholders */
	uint8_t key[SHA256_LEN];
	int32_t values[CACHE_NPH];
	bool required[CACHE_NPH];
	bool edited;			/* the templates are not the embedded ones */
};

static void note(const struct config *cfg, const char *fmt, const char *a, const char *b)
{
	if (cfg->verbose) {
		fprintf(stderr, "%s: cache: ", BWM_NAME);
		fprintf(stderr, fmt, a, b);
		fputc('\n', stderr);
	}
}

/*
 * The text with placeholders, its key and the directory. 0, or -1 when the
 * cache cannot be used at all (why in err).
 */
int cache_placeholders(const struct config *cfg, const struct program_params *p,
		       const struct templates *t, char **text, int32_t values[CACHE_NPH],
		       bool required[CACHE_NPH], char *err, size_t errlen)
{
	struct program_params ph = *p;
	struct program prog;

	values[CACHE_PH_TARGET] = p->target;
	values[CACHE_PH_SELF] = p->self;
	/*
	 * The filter compares with the target, or (with descendants) excludes the monitor;
	 * a cgroup's has no target (its id and the filter method are shape, in the text).
	 */
	required[CACHE_PH_TARGET] = !cfg->descendants && !p->cgroup_id;
	required[CACHE_PH_SELF] = cfg->descendants;
	ph.target = CACHE_PH_TARGET_VALUE;
	ph.self = CACHE_PH_SELF_VALUE;
	if (program_build(&ph, t, &prog, err, errlen))
		return -1;
	*text = prog.text;
	prog.text = NULL;
	program_free(&prog);
	return 0;
}

static int prepare(struct lookup *l, const struct config *cfg, const struct program_params *p,
		   const struct templates *t, char *err, size_t errlen)
{
	char ident[8192], hex[2 * SHA256_LEN + 1];

	if (cache_placeholders(cfg, p, t, &l->text, l->values, l->required, err, errlen))
		return -1;
	cache_host_ident(ident, sizeof(ident));
	/*
	 * The embedded templates' shapes are proven for every value by the tests
	 * (tests/prove); edited ones only for the values of the run that stored them.
	 */
	l->edited = !probes_embedded(t);
	if (l->edited)
		snprintf(ident + strlen(ident), sizeof(ident) - strlen(ident),
			 "edited templates, proven for %d %d\n", p->target, p->self);
	cache_key(l->text, ident, l->key);
	cache_key_hex(l->key, hex);
	l->dirfd = cache_dir_open(l->dir, sizeof(l->dir), err, errlen);
	snprintf(l->path, sizeof(l->path), "%s/%s.img", l->dir, hex);
	return l->dirfd < 0 ? -1 : 0;
}

/* Compile the real text, the way without the cache. */
static int compile_text(const struct config *cfg, const char *text, struct compiler **c,
			struct compiled *out, char *err, size_t errlen)
{
	int rc;

	if (!*c)
		*c = compiler_start(cfg->verbose, err, errlen);
	if (!*c)
		return -1;
	rc = compiler_finish(*c, text, out, err, errlen);
	*c = NULL;
	return rc;
}

/*
 * The real text in *c (or a child started here) and the placeholder text in
 * a second, quiet child, compiled at the same time: the compiler's messages
 * are those of the text the operator's command made, once. 0: both images;
 * 1: the real one only (the placeholder text did not compile); -1 (err).
 */
static int compile_both(const struct lookup *l, const struct config *cfg, const char *text,
			struct compiler **c, struct image *ph, struct image *real, char *err,
			size_t errlen)
{
	struct compiler *b = NULL;
	int rc;

	if (!*c)
		*c = compiler_start(cfg->verbose, err, errlen);
	if (*c)
		b = compiler_start_quiet(err, errlen);
	if (!b || compiler_image_send(*c, text, err, errlen)) {
		compiler_cancel(b ? NULL : *c);		/* a failed send freed *c */
		compiler_cancel(b);
		*c = NULL;
		return -1;
	}
	if (compiler_image_send(b, l->text, err, errlen)) {
		compiler_cancel(*c);
		*c = NULL;
		return -1;
	}
	rc = compiler_image_take(*c, real, err, errlen);
	*c = NULL;
	if (compiler_image_take(b, ph, NULL, 0))
		return rc ? -1 : 1;
	if (rc)
		image_free(ph);
	return rc ? -1 : 0;
}

/* Keep the proven img in the directory, and prune it. */
static void store(struct lookup *l, const struct config *cfg, struct image *img)
{
	char why[512];
	int pruned;

	if (cache_write(l->dirfd, img, why, sizeof(why)))
		note(cfg, "not stored: %s%s", why, "");
	else
		note(cfg, "stored %s%s", l->path, "");
	if ((pruned = cache_prune(l->dirfd, CACHE_KEEP, time(NULL))) > 0) {
		snprintf(why, sizeof(why), "%d", pruned);
		note(cfg, "removed %s old files (it keeps the %s most recently used entries)", why,
		     CACHE_KEEP_STR);
	}
}

/*
 * A miss: compile the placeholder text and the real one side by side; when
 * the first, patched, is the second (cache_same_code), load it and store it
 * with its proof; else load the real compile. 1: compile text the usual way.
 */
static int fill(struct lookup *l, const struct config *cfg, const char *text,
		struct compiler **c, struct compiled *out, char *err, size_t errlen)
{
	static struct image img, real;
	static const bool none[CACHE_NPH];
	char why[512];
	int rc;

	rc = compile_both(l, cfg, text, c, &img, &real, err, errlen);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		note(cfg, "not stored: the text with placeholders does not compile: using the "
		     "compile with the real values%s%s", "", "");
		goto real;
	}
	memcpy(img.key, l->key, sizeof(img.key));
	memcpy(img.values, l->values, sizeof(l->values));
	if (cache_check(&img, l->required, why, sizeof(why))) {
		note(cfg, "this program cannot be cached (%s): using the compile with the real "
		     "values%s", why, "");
	} else if (cache_same_code(&img, &real, l->values, why, sizeof(why))) {
		note(cfg, "not stored: the compile with placeholders differs from the one with "
		     "the real values (%s): using the latter%s", why, "");
	} else if (cache_proof(&img, l->values, img.proof, why, sizeof(why)) ||
		   cache_load(&img, l->values, l->required, cfg->verbose, out, why, sizeof(why))) {
		note(cfg, "not stored: %s: compiling the program as it is%s", why, "");
		image_free(&img);
		image_free(&real);
		return 1;
	} else {
		store(l, cfg, &img);
		image_free(&img);
		image_free(&real);
		return 0;
	}
	image_free(&img);
real:
	rc = cache_load(&real, l->values, none, cfg->verbose, out, why, sizeof(why));
	if (rc)
		note(cfg, "the real compile does not load (%s): compiling it again%s", why, "");
	image_free(&real);
	return rc ? 1 : 0;
}

int cache_obtain(const struct config *cfg, const struct program_params *p,
		 const struct templates *t, const char *text, struct compiler **c,
		 struct compiled *out, char *err, size_t errlen)
{
	static struct image img;
	struct lookup l = { .dirfd = -1 };
	char why[1024];
	int rc;

	if (cfg->no_cache) {
		note(cfg, "not used (--no-cache)%s%s", "", "");
		return compile_text(cfg, text, c, out, err, errlen);
	}
	if (prepare(&l, cfg, p, t, why, sizeof(why))) {
		note(cfg, "not used: %s%s", why, "");
		free(l.text);
		return compile_text(cfg, text, c, out, err, errlen);
	}
	rc = cache_read(l.dirfd, l.key, &img, why, sizeof(why));
	if (rc == 0) {
		note(cfg, "hit %s%s", l.path, "");
		rc = cache_load(&img, l.values, l.required, cfg->verbose, out, why, sizeof(why));
		image_free(&img);
		if (rc)
			note(cfg, "the entry does not load (%s): compiling%s", why, "");
	} else if (rc > 0) {
		note(cfg, "miss: no entry %s yet%s", l.path, "");
	} else {
		note(cfg, "miss: refusing entry %s (%s): rebuilding it", l.path, why);
	}
	if (rc)
		rc = fill(&l, cfg, text, c, out, err, errlen);
	if (rc > 0)
		rc = compile_text(cfg, text, c, out, err, errlen);
	close(l.dirfd);
	free(l.text);
	return rc;
}
