// SPDX-License-Identifier: GPL-2.0
/*
 * program.c - assemble the BPF program text from the config and the templates.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "program.h"

static void ob_printf(struct outbuf *ob, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ob_printf(struct outbuf *ob, const char *fmt, ...)
{
	va_list ap;
	char *dst;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(dst = ob_reserve(ob, n + 1)))
		return;
	va_start(ap, fmt);
	vsnprintf(dst, n + 1, fmt, ap);
	va_end(ap);
	ob->len += n;
}

void program_c_escape(const char *s, char *out, size_t size)
{
	size_t o = 0;

	if (!size)
		return;
	for (; *s && o + 5 < size; s++) {
		unsigned char c = *s;

		if (c == '\\' || c == '"') {
			out[o++] = '\\';
			out[o++] = c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += snprintf(out + o, size - o, "\\%03o", c);
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
}

/* An identifier at *p, copied into out; advances *p. */
static bool take_ident(const char **p, char *out, size_t size)
{
	size_t n = 0;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	while (isalnum((unsigned char)**p) || **p == '_') {
		if (n + 1 >= size)
			return false;
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
	while (**p == ' ' || **p == '\t')
		(*p)++;
	return n > 0;
}

static int add_ref(struct program *prog, const struct probe_ref *ref)
{
	struct probe_ref *refs;
	size_t i;

	for (i = 0; i < prog->nrefs; i++)
		if (!strcmp(prog->refs[i].cat, ref->cat) && !strcmp(prog->refs[i].ev, ref->ev))
			return 0;	/* the first use of a tracepoint wins */
	refs = realloc(prog->refs, (prog->nrefs + 1) * sizeof(*refs));
	if (!refs)
		return -1;
	prog->refs = refs;
	prog->refs[prog->nrefs++] = *ref;
	return 0;
}

/*
 * Collect the TRACEPOINT_PROBE(cat, ev) and BWM_ALSO(cat, func_ev, ev) uses
 * of one template (an ill-formed use is left to the compiler).
 */
static int scan_probes(const struct template *t, struct program *prog)
{
	static const char probe[] = "TRACEPOINT_PROBE(", also[] = "BWM_ALSO(";
	const char *p = t->text;

	while ((p = strpbrk(p, "TB")) != NULL) {
		struct probe_ref ref = { .stage = t->stage };
		bool is_also = !strncmp(p, also, sizeof(also) - 1);

		if (!is_also && strncmp(p, probe, sizeof(probe) - 1)) {
			p++;
			continue;
		}
		p += is_also ? sizeof(also) - 1 : sizeof(probe) - 1;
		if (!take_ident(&p, ref.cat, sizeof(ref.cat)) || *p++ != ',' ||
		    !take_ident(&p, ref.func_ev, sizeof(ref.func_ev)))
			continue;
		if (is_also && (*p++ != ',' || !take_ident(&p, ref.ev, sizeof(ref.ev))))
			continue;
		if (*p != ')')
			continue;
		if (!is_also)
			strcpy(ref.ev, ref.func_ev);
		if (add_ref(prog, &ref))
			return -1;
	}
	return 0;
}

static unsigned long pow2_at_least(unsigned long n, unsigned long min)
{
	unsigned long v = min;

	while (v < n)
		v <<= 1;
	return v;
}

/* What is traced: the PIDs (a chain of compares), a cgroup, a PID namespace. */
static void put_target(struct outbuf *ob, const struct program_params *p)
{
	unsigned i, n = p->targets ? p->ntargets : 1;

	ob_printf(ob, "#define BWM_TARGET_PID %d\n", (int)p->target);
	/*
	 * The first is BWM_TARGET_PID itself: the compile cache patches that one value,
	 * compared on a copy of its own (bwm_opaque() in common.bpf.h says why).
	 */
	ob_printf(ob, "#define BWM_IS_TARGET(t) (bwm_opaque(t) == BWM_TARGET_PID");
	for (i = 1; i < n; i++)
		ob_printf(ob, " || (t) == %d", (int)p->targets[i]);
	ob_printf(ob, ")\n");
	ob_printf(ob, "#define BWM_IS_EXCLUDED(t) (0");
	for (i = 0; i < p->nexcluded; i++)
		ob_printf(ob, " || (t) == %d", (int)p->excluded[i]);
	ob_printf(ob, ")\n");
	ob_printf(ob, "#define BWM_CGROUP_ID %lluull\n", (unsigned long long)p->cgroup_id);
	ob_printf(ob, "#define BWM_CGROUP_LEVEL %d\n", p->cgroup_level);
	ob_printf(ob, "#define BWM_CGROUP_UNDER %d\n", p->cgroup_id && p->cgroup_under);
	ob_printf(ob, "#define BWM_PIDNS_DEV %lluull\n", (unsigned long long)p->pidns_dev);
	ob_printf(ob, "#define BWM_PIDNS_INO %lluull\n", (unsigned long long)p->pidns_ino);
}

static void put_constants(struct outbuf *ob, const struct program_params *p)
{
	const struct config *cfg = p->cfg;

	if (p->cgroup_id)
		ob_printf(ob, "/*\n * %s %s: BPF program for cgroup %llu (%s).\n", BWM_NAME,
			  BWM_VERSION, (unsigned long long)p->cgroup_id, options_streams(cfg));
	else
		ob_printf(ob, "/*\n * %s %s: BPF program for PID %d%s (%s).\n", BWM_NAME,
			  BWM_VERSION, (int)p->target, p->targets && p->ntargets > 1 ?
			  " and others" : "", options_streams(cfg));
	ob_printf(ob, " * Generated from the templates below; the constants come from the "
		  "command line.\n */\n");
	put_target(ob, p);
	ob_printf(ob, "#define BWM_FD_MASK 0x%x\n", cfg->fd_mask);
	ob_printf(ob, "#define BWM_SELF_PID %d\n", (int)p->self);
	ob_printf(ob, "#define BWM_DESCENDANTS %d\n", cfg->descendants);
	ob_printf(ob, "#define BWM_EXCLUDE_KERNEL %d\n", cfg->exclude_kernel);
	/* --on-failure needs the exit statuses and who forked whom. */
	ob_printf(ob, "#define BWM_EXITS %d\n", cfg->exits || cfg->on_failure);
	/* The fork probe: -f follows forks; a cgroup reports them for -x and --on-failure. */
	ob_printf(ob, "#define BWM_FORKS %d\n", cfg->descendants ||
		  (p->cgroup_id && (cfg->exits || cfg->on_failure)));
	ob_printf(ob, "#define BWM_WANT_COMM %d\n", cfg->origin_comm || cfg->json ||
		  cfg->journal);
	ob_printf(ob, "#define BWM_MAX_BYTES %lu\n", cfg->max_bytes);
	ob_printf(ob, "#define BWM_CAP %lu\n", pow2_at_least(cfg->max_bytes, 32768));
	ob_printf(ob, "#define BWM_NR_CPUS %d\n", p->ncpus);
	ob_printf(ob, "#define BWM_PID_MAX %ld\n", p->pid_max);
	ob_printf(ob, "#define BWM_EXIT_CODE_OFF %ld\n", p->exit_code_off);
	ob_printf(ob, "#define BWM_EXIT_HAS_GROUP_DEAD %d\n", p->exit_has_group_dead);
}

/* What the running kernel offers (src/kfeat.c chose them). */
static void put_kernel_constants(struct outbuf *ob, const struct program_params *p)
{
	ob_printf(ob, "#define BWM_ENTRY_EXIT %d\n", p->entry_exit);
	ob_printf(ob, "#define BWM_EXIT_METHOD %d\n", p->exit_method);
	ob_printf(ob, "#define BWM_SIGNAL_OFF %ld\n", p->signal_off);
	ob_printf(ob, "#define BWM_LIVE_OFF %ld\n", p->live_off);
}

/*
 * A template behind a #line marker, so that compiler messages name its file
 * and line. libbcc inserts each tracepoint's argument struct (several lines)
 * in front of its TRACEPOINT_PROBE, so a marker after each of those lines
 * puts the numbering back on track.
 */
static void put_template(struct outbuf *ob, const struct template *t)
{
	char path[PATH_MAX * 4 + 1];
	const char *p = t->text, *end = t->text + t->len;
	unsigned line = 1;

	program_c_escape(t->path, path, sizeof(path));
	ob_printf(ob, "\n#line 1 \"%s\"\n", path);
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);

		ob_put(ob, p, n);
		if (!nl)
			ob_put(ob, "\n", 1);
		line++;
		if (memmem(p, n, "TRACEPOINT_PROBE(", 17) && !memmem(p, n, "#define", 7))
			ob_printf(ob, "#line %u \"%s\"\n", line, path);
		p += n;
	}
}

int program_build(const struct program_params *p, const struct templates *t,
		  struct program *out, char *err, size_t errlen)
{
	struct outbuf ob = { 0 };
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < TPL_COUNT; i++) {
		if (scan_probes(&t->t[i], out)) {
			snprintf(err, errlen, "out of memory building the program");
			program_free(out);
			return -1;
		}
	}
	put_constants(&ob, p);
	put_kernel_constants(&ob, p);
	ob_printf(&ob, "\n/* Tracepoints this kernel has (probes for others compile out). */\n");
	ob_printf(&ob, "#define BWM_TP(cat, ev) BWM_TP_##cat##__##ev\n");
	ob_printf(&ob, "#define BWM_ALSO(cat, ev, other)\t/* read by the frontend */\n");
	for (i = 0; i < out->nrefs; i++) {
		struct probe_ref *r = &out->refs[i];

		r->present = p->tp_exists(r->cat, r->ev);
		if (r->present)
			ob_printf(&ob, "#define BWM_TP_%s__%s 1\n", r->cat, r->ev);
	}
	for (i = 0; i < TPL_COUNT; i++)
		put_template(&ob, &t->t[i]);
	ob_put(&ob, "", 1);
	if (ob.oom) {
		ob_free(&ob);
		program_free(out);
		snprintf(err, errlen, "out of memory building the program");
		return -1;
	}
	out->text = ob.p;
	return 0;
}

void program_free(struct program *prog)
{
	free(prog->text);
	free(prog->refs);
	memset(prog, 0, sizeof(*prog));
}
