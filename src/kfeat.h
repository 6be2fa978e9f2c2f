/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_KFEAT_H
#define BWM_KFEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * kfeat - what the running kernel offers, probed (not guessed from its
 * version), and what the program is built with as a result: the capture
 * path and the way a process's exit is told.
 */

/* How a process's last thread is told (BWM_EXIT_BY_* in probes/common.bpf.h). */
enum kfeat_exit {
	KFEAT_EXIT_GROUP_DEAD = 1,	/* sched_process_exit's group_dead field */
	KFEAT_EXIT_SIGNAL_LIVE = 2,	/* task->signal->live, offsets from BTF */
	KFEAT_EXIT_PROC = 3,		/* user space checks /proc at each thread's exit */
};

/* How the kernel is asked (the tool's: kbtf_ops(); the unit tests' own). */
struct kfeat_ops {
	const char *release;	/* uname -r */
	bool (*has_btf)(void);	/* /sys/kernel/btf/vmlinux */
	/* 1 yes, 0 no, < 0 cannot tell (taken as yes) */
	int (*has_helper)(int bpf_func_id);
	int (*has_tracepoint_programs)(void);
	int (*has_perf_event_array)(void);
	bool (*tp_has_field)(const char *cat, const char *ev, const char *field);
	long (*member_offset)(const char *sname, const char *member);	/* -1: unknown */
	const char *(*env)(const char *name);	/* getenv */
};

struct kfeat {
	bool btf;
	bool entry_exit;	/* capture path: entry+exit (else exit-only) */
	int exit_method;	/* enum kfeat_exit */
	long exit_code_off;	/* task_struct.exit_code, -1 if unknown */
	long signal_off;	/* task_struct.signal, -1 if unknown */
	long live_off;		/* signal_struct.live, -1 if unknown */
	char path_why[200];	/* "exit-only: ...", for -v */
	char exit_why[200];	/* "group-dead: ...", for -v */
	bool cgroup_under;	/* cgroup filter: bpf_current_task_under_cgroup (else ancestor id) */
	char cgroup_why[200];	/* "ancestor: ...", for -v */
	char notice[400];	/* non-empty: the one line to print (no BTF) */
};

/*
 * Probe the kernel through ops. want_exit_code: look up task_struct.exit_code
 * (for -x). The hidden environment overrides, for tests on one machine:
 *   BWM_CAPTURE_PATH=entry-exit|exit-only   force a capture path
 *   BWM_EXIT_METHOD=group-dead|signal-live|proc   force an exit method
 *   BWM_NO_BTF=1                            behave as if the kernel had no BTF
 * Returns 0, or -1 with one line in err: a needed feature is missing (it
 * names the feature and the kernel release), or an override is impossible.
 */
int kfeat_detect(const struct kfeat_ops *ops, bool want_exit_code, struct kfeat *k, char *err,
		 size_t errlen);

const char *kfeat_exit_name(int method);

/*
 * A cgroup target: how the probes tell a task in the cgroup or below it,
 * into k->cgroup_under and k->cgroup_why. "ancestor": compare
 * bpf_get_current_ancestor_cgroup_id() at the cgroup's level with its id
 * (no map); "under": bpf_current_task_under_cgroup() with the cgroup's fd
 * in a one-slot cgroup array (tracepoint programs lack the first on 5.10).
 *   BWM_CGROUP_METHOD=ancestor|under        force one
 * Returns 0, or -1 with one line in err (a bad or impossible override, or
 * neither helper there).
 */
int kfeat_cgroup(const struct kfeat_ops *ops, struct kfeat *k, char *err, size_t errlen);

struct program_params;
struct config;

/* Bake what was found into the program's constants. */
void kfeat_apply(const struct kfeat *k, struct program_params *p);

/*
 * Say what was found on out: the notice (unless quiet or --ebpf), and with
 * -v the capture path, the exit method and (cgroup) the filter, with why.
 */
void kfeat_report(const struct kfeat *k, const struct config *cfg, FILE *out);

#endif /* BWM_KFEAT_H */
