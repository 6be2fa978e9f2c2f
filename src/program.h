/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_PROGRAM_H
#define BWM_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "probes.h"

/* Everything, besides the config, that gets baked into the program. */
struct program_params {
	const struct config *cfg;
	pid_t target;		/* thread-group id to trace (the first; 0 for a cgroup) */
	const pid_t *targets;	/* all of them (ntargets; NULL: target alone) */
	unsigned ntargets;
	const pid_t *excluded;	/* never traced (the readers of the output, for a cgroup) */
	unsigned nexcluded;
	uint64_t cgroup_id;	/* --cgroup: the cgroup v2 directory's inode number, or 0 */
	int cgroup_level;	/* its depth below the cgroup2 mount */
	bool cgroup_under;	/* filter with bpf_current_task_under_cgroup (bwm_cgroup) */
	uint64_t pidns_dev;	/* the tool's PID namespace when not the initial one, or 0 */
	uint64_t pidns_ino;
	pid_t self;		/* the monitor's own pid */
	long pid_max;		/* sizes the monitored-process map */
	int ncpus;		/* possible CPUs: sizes the scratch map */
	long exit_code_off;	/* task_struct.exit_code in the running kernel, or -1 */
	bool exit_has_group_dead;	/* sched_process_exit has group_dead */
	bool entry_exit;	/* capture path: entry+exit (else exit-only) */
	int exit_method;	/* enum kfeat_exit */
	long signal_off;	/* task_struct.signal, or -1 */
	long live_off;		/* signal_struct.live, or -1 */
	/* Does the running kernel have tracepoint cat:ev? */
	bool (*tp_exists)(const char *cat, const char *ev);
};

/*
 * A tracepoint to attach a probe to, from a template: TRACEPOINT_PROBE(cat, ev)
 * attaches its own function; BWM_ALSO(cat, func_ev, ev) attaches the function
 * of cat:func_ev to cat:ev as well.
 */
struct probe_ref {
	char cat[64];
	char ev[64];		/* the tracepoint */
	char func_ev[64];	/* the event in the probe function's name */
	int stage;		/* 1: lifecycle (before PIDs are registered), 2: write */
	bool present;		/* the kernel has the tracepoint */
};

struct program {
	char *text;		/* the complete C source given to the compiler */
	struct probe_ref *refs;
	size_t nrefs;
};

/*
 * Build the program text: a block of constants, then each template behind a
 * #line marker so that compiler errors point at the template file. Numbers
 * are printed as numbers; the only strings (template paths) are C-escaped.
 * Returns 0, or -1 with a message in err.
 */
int program_build(const struct program_params *p, const struct templates *t,
		  struct program *out, char *err, size_t errlen);
void program_free(struct program *prog);

/* Append s to out as the body of a C string literal (no quotes). */
void program_c_escape(const char *s, char *out, size_t size);

#endif /* BWM_PROGRAM_H */
