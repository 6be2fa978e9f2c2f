// SPDX-License-Identifier: GPL-2.0
/*
 * prove_cache - the compile cache's proof for every shape the tool can emit
 * on this kernel (issue 20). For each shape (the options that change the
 * program text, the target kinds, the capture paths and exit methods this
 * kernel offers) it compiles the text with placeholders once and the text
 * with real values several times (PID 1, a small PID, pid_max - 1, the
 * monitor's PID next to the target's, ...), and requires that the first,
 * patched with each set of values, is the second: cache_same_code(). It
 * also requires what a run requires before it stores an entry
 * (cache_check()). A shape that fails is named; the exit status is 1.
 *
 *   prove_cache [-q] [-a] [-j JOBS] [-l]
 *
 * -q (for emulated guests, where a compile takes 10 s) proves fewer shapes:
 * each kind of target with -f -x (a cgroup with -x), on the capture path and
 * exit method this kernel chooses by itself; BWM_CAPTURE_PATH set proves only that
 * path's. -a uses all four sets of values for each shape (else the first and
 * one of the others in turn). -j: compilers at once (2). -l only names the
 * shapes. Needs root, libbcc and kernel headers, like the tool.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "cache_load.h"
#include "compile.h"
#include "host.h"
#include "kbtf.h"
#include "kfeat.h"
#include "procs.h"
#include "program.h"

#define MAX_VALUES	4
#define MAX_ARGS	16

struct shape {
	char name[256];
	struct config cfg;
	struct program_params p;
	pid_t pids[BWM_MAX_PIDS];
};

static struct templates tpl;
static long pid_max;
static int jobs = 2, nvalues = 2, failed, proven;
static bool quick, list;

/*
 * Values to prove with, (target, self); a cgroup has no target (0). Every
 * shape gets the first set and one of the others in turn, all four with -a.
 */
static void value_sets(const struct shape *s, int nth, pid_t v[MAX_VALUES][2])
{
	const pid_t sets[MAX_VALUES][2] = {
		{ 1, 2 },				/* PID 1, the monitor's next to it */
		{ 300, 301 },				/* a small PID, the monitor's next to it */
		{ pid_max - 1, pid_max - 2 },		/* the largest PID */
		{ 4321, 4320 },				/* the monitor's just below */
	};
	int i;

	for (i = 0; i < MAX_VALUES; i++) {
		int k = nvalues == MAX_VALUES || i == 0 ? i : 1 + (nth + i - 1) % (MAX_VALUES - 1);

		v[i][0] = s->p.cgroup_id ? 0 : sets[k][0];
		v[i][1] = sets[k][1];
	}
}

static int build(const struct shape *s, pid_t target, pid_t self, char **text)
{
	struct program_params p = s->p;
	struct program prog;
	char err[512];

	p.target = target;
	p.self = self;
	if (program_build(&p, &tpl, &prog, err, sizeof(err))) {
		printf("FAIL %s: %s\n", s->name, err);
		return -1;
	}
	*text = prog.text;
	prog.text = NULL;
	program_free(&prog);
	return 0;
}

/* Compile n texts, jobs at a time, into imgs; 0, or -1 (said). */
static int compile_all(const struct shape *s, char **texts, struct image *imgs, int n)
{
	struct compiler *c[1 + MAX_VALUES] = { 0 };
	char err[1024];
	int i, from, rc = 0;

	for (from = 0; from < n; from += jobs) {
		int to = from + jobs < n ? from + jobs : n;

		for (i = from; i < to; i++) {
			c[i] = compiler_start(false, err, sizeof(err));
			if (!c[i] || compiler_image_send(c[i], texts[i], err, sizeof(err))) {
				printf("FAIL %s: %s\n", s->name, err);
				c[i] = NULL;
				rc = -1;
			}
		}
		for (i = from; i < to; i++) {
			if (c[i] && compiler_image_take(c[i], &imgs[i], err, sizeof(err))) {
				printf("FAIL %s: does not compile: %s\n", s->name, err);
				rc = -1;
			}
		}
	}
	return rc;
}

static void prove(struct shape *s)
{
	static struct image imgs[1 + MAX_VALUES];
	char *texts[1 + MAX_VALUES] = { 0 }, why[512] = "";
	static int nth;
	pid_t v[MAX_VALUES][2];
	int32_t values[CACHE_NPH];
	bool required[CACHE_NPH];
	int i, n = 1 + nvalues;

	if (list) {
		printf("%s\n", s->name);
		return;
	}
	value_sets(s, nth++, v);
	s->p.target = v[0][0];
	s->p.self = v[0][1];
	if (cache_placeholders(&s->cfg, &s->p, &tpl, &texts[0], values, required, why,
			       sizeof(why))) {
		printf("FAIL %s: %s\n", s->name, why);
		failed++;
		return;
	}
	for (i = 1; i < n; i++)
		if (build(s, v[i - 1][0], v[i - 1][1], &texts[i]))
			goto out;
	if (compile_all(s, texts, imgs, n))
		goto out;
	if (cache_check(&imgs[0], required, why, sizeof(why))) {
		printf("FAIL %s: cannot be cached: %s\n", s->name, why);
		goto out;
	}
	for (i = 1; i < n; i++) {
		values[CACHE_PH_TARGET] = v[i - 1][0];
		values[CACHE_PH_SELF] = v[i - 1][1];
		if (cache_same_code(&imgs[0], &imgs[i], values, why, sizeof(why))) {
			printf("FAIL %s: with target %d, monitor %d: %s\n", s->name,
			       v[i - 1][0], v[i - 1][1], why);
			goto out;
		}
	}
	printf("ok   %s proven with", s->name);
	for (i = 0; i < nvalues; i++)
		printf(" %d/%d", v[i][0], v[i][1]);
	printf(" (target/monitor)\n");
	proven++;
	failed--;
out:
	failed++;
	for (i = 0; i < n; i++) {
		free(texts[i]);
		image_free(&imgs[i]);
	}
	fflush(stdout);
}

/* The kernel's features with a forced capture path and exit method; false if impossible. */
static bool features(const char *path, const char *method, bool exits, bool cgroup_under,
		     bool cgroup, struct kfeat *k)
{
	const struct kfeat_ops *ops = kbtf_ops(true);
	char err[512];
	bool ok;

	if (path)
		setenv("BWM_CAPTURE_PATH", path, 1);
	if (method)
		setenv("BWM_EXIT_METHOD", method, 1);
	setenv("BWM_CGROUP_METHOD", cgroup_under ? "under" : "ancestor", 1);
	ok = !kfeat_detect(ops, exits, k, err, sizeof(err)) &&
	     (!cgroup || !kfeat_cgroup(ops, k, err, sizeof(err)));
	unsetenv("BWM_CAPTURE_PATH");
	unsetenv("BWM_EXIT_METHOD");
	unsetenv("BWM_CGROUP_METHOD");
	return ok;
}

enum kind { PID1, PIDS3, PIDS64, CGROUP_ANCESTOR, CGROUP_UNDER, NKINDS };

static const char *const kind_names[NKINDS] = {
	"-p PID", "-p 3 PIDs", "-p 64 PIDs", "--cgroup (ancestor)", "--cgroup (under)",
};

/* One shape: a kind of target, a feature set, options (argv words after the target). */
static void shape(const char *path, const char *method, enum kind kind, bool pidns,
		  const char *const *opts)
{
	static struct shape s;
	char *argv[MAX_ARGS + 4] = { "prove_cache" };
	int argc = 1, i;
	bool cgroup = kind == CGROUP_ANCESTOR || kind == CGROUP_UNDER;
	struct kfeat k;
	FILE *null = fopen("/dev/null", "w");

	memset(&s, 0, sizeof(s));
	argv[argc++] = cgroup ? "--cgroup" : "-p";
	argv[argc++] = cgroup ? "/sys/fs/cgroup" : "1";
	for (i = 0; opts[i] && argc < MAX_ARGS; i++)
		argv[argc++] = (char *)opts[i];
	optind = 1;
	if (options_parse(argc, argv, &s.cfg, null, null) != OPTIONS_RUN) {
		fclose(null);
		return;		/* not a command line the tool takes */
	}
	fclose(null);
	if (!features(path, method, s.cfg.exits, kind == CGROUP_UNDER, cgroup, &k))
		return;		/* not on this kernel */
	s.p.cfg = &s.cfg;
	kfeat_apply(&k, &s.p);
	s.p.tp_exists = host_has_tracepoint;
	s.p.pid_max = pid_max;
	s.p.ncpus = proc_possible_cpus();
	if (kind == PIDS3 || kind == PIDS64) {
		s.p.ntargets = kind == PIDS3 ? 3 : BWM_MAX_PIDS;
		for (i = 1; i < (int)s.p.ntargets; i++)
			s.pids[i] = 1000 + 7 * i;
		s.p.targets = s.pids;
	}
	if (cgroup) {
		s.p.cgroup_id = 0x2a1;
		s.p.cgroup_level = 2;
		s.p.cgroup_under = k.cgroup_under;
	}
	if (pidns) {
		s.p.pidns_dev = 0x4;
		s.p.pidns_ino = 4026532000ull;
	}
	snprintf(s.name, sizeof(s.name), "%s, %s, %s%s:", kind_names[kind],
		 k.entry_exit ? "entry+exit" : "exit-only", kfeat_exit_name(k.exit_method),
		 pidns ? ", in a PID namespace" : "");
	for (i = 3; i < argc; i++)
		snprintf(s.name + strlen(s.name), sizeof(s.name) - strlen(s.name), " %s", argv[i]);
	prove(&s);
}

static const char *const *opts(const char *a, const char *b, const char *c, const char *d)
{
	static const char *o[5];

	o[0] = a, o[1] = b, o[2] = c, o[3] = d, o[4] = NULL;
	return o;
}

int main(int argc, char **argv)
{
	static const char *const paths[] = { "exit-only", "entry-exit" };
	static const char *const methods[] = { "group-dead", "signal-live", "proc" };
	const char *forced = getenv("BWM_CAPTURE_PATH");
	char err[512];
	int o, pi, mi, kind;

	while ((o = getopt(argc, argv, "qaj:l")) != -1) {
		if (o == 'q')
			quick = true;
		else if (o == 'a')
			nvalues = MAX_VALUES;
		else if (o == 'j')
			jobs = atoi(optarg) > 0 && atoi(optarg) <= 1 + MAX_VALUES ? atoi(optarg) : 2;
		else if (o == 'l')
			list = true;
		else
			return fprintf(stderr, "usage: prove_cache [-q] [-a] [-j JOBS] [-l]\n"), 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_max = proc_pid_max();
	if (probes_load(NULL, &tpl, err, sizeof(err)) ||
	    (!list && (host_check_privileges(err, sizeof(err)) ||
		       host_check_tracefs(err, sizeof(err)) ||
		       host_check_headers(err, sizeof(err))))) {
		fprintf(stderr, "prove_cache: %s\n", err);
		return 2;
	}
	printf("prove_cache: templates from %s%s; pid_max %ld\n", tpl.origin,
	       probes_embedded(&tpl) ? "" : " (not the embedded ones)", pid_max);
	/*
	 * Every target kind, with and without -f and -x, on every capture path and exit
	 * method this kernel offers; then each other option that changes the text.
	 */
	for (pi = 0; pi < 2; pi++)
		for (mi = 0; mi < 3; mi++) {
			const char *path = quick ? NULL : paths[pi], *m = quick ? NULL : methods[mi];

			if ((quick && (pi || mi)) || (forced && strcmp(forced, paths[pi])))
				continue;
			for (kind = 0; kind < NKINDS; kind++) {
				bool cg = kind >= CGROUP_ANCESTOR;	/* no -f: the cgroup holds them */

				shape(path, m, kind, false, opts(cg ? "-x" : "-f", quick && !cg ?
								 "-x" : NULL, NULL, 0));
				if (quick)
					continue;
				shape(path, m, kind, false, opts(NULL, 0, 0, 0));
				if (cg)
					continue;
				shape(path, m, kind, false, opts("-x", NULL, 0, 0));
				shape(path, m, kind, false, opts("-f", "-x", NULL, 0));
			}
		}
	shape(NULL, NULL, PID1, true, opts("-f", "-x", NULL, 0));
	if (quick)
		goto done;
	shape(NULL, NULL, PID1, true, opts(NULL, 0, 0, 0));
	shape(NULL, NULL, CGROUP_ANCESTOR, true, opts("-x", NULL, 0, 0));
	shape(NULL, NULL, CGROUP_ANCESTOR, false, opts("--on-failure", NULL, 0, 0));
	shape(NULL, NULL, PID1, false, opts("-1", NULL, 0, 0));
	shape(NULL, NULL, PID1, false, opts("-2", "-f", NULL, 0));
	shape(NULL, NULL, PID1, false, opts("-K", "-f", NULL, 0));
	shape(NULL, NULL, PID1, false, opts("-j", "-f", "-x", NULL));
	shape(NULL, NULL, PID1, false, opts("-C", NULL, 0, 0));
	shape(NULL, NULL, PID1, false, opts("-m", "4096", NULL, 0));
	shape(NULL, NULL, PID1, false, opts("-m", "100000", "-f", NULL));
	shape(NULL, NULL, PID1, false, opts("-m", "1048576", NULL, 0));
	shape(NULL, NULL, PIDS64, false, opts("-K", "-j", "-m", "1048576"));
done:
	if (list)
		return 0;
	printf("prove_cache: %d shapes proven, %d failed\n", proven, failed);
	return failed ? 1 : 0;
}
