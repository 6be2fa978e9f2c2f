// SPDX-License-Identifier: GPL-2.0
/*
 * kfeat.c - choose the capture path and the exit method from what the
 * running kernel offers (see kfeat.h). Pure: the kernel is asked through
 * struct kfeat_ops, so that the choices are unit-tested.
 */
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>

#include "kfeat.h"
#include "options.h"
#include "program.h"

const char *kfeat_exit_name(int method)
{
	switch (method) {
	case KFEAT_EXIT_GROUP_DEAD:
		return "group-dead";
	case KFEAT_EXIT_SIGNAL_LIVE:
		return "signal-live";
	case KFEAT_EXIT_PROC:
		return "proc";
	}
	return "?";
}

static bool yes(int probed)
{
	return probed != 0;	/* < 0: cannot tell (no privileges): assume it is there */
}

static const char *env(const struct kfeat_ops *ops, const char *name)
{
	const char *v = ops->env ? ops->env(name) : NULL;

	return v && *v ? v : NULL;
}

/* The features nothing works without: one line naming the first one missing. */
static int check_needed(const struct kfeat_ops *ops, char *err, size_t errlen)
{
	const char *missing = NULL;

	if (!yes(ops->has_tracepoint_programs()))
		missing = "BPF tracepoint programs (CONFIG_BPF_EVENTS)";
	else if (!yes(ops->has_perf_event_array()))
		missing = "BPF perf event arrays (the buffers to user space)";
	else if (!yes(ops->has_helper(BPF_FUNC_probe_read_user)))
		missing = "the BPF helper bpf_probe_read_user (Linux 5.5+)";
	else if (!yes(ops->has_helper(BPF_FUNC_perf_event_output)))
		missing = "the BPF helper bpf_perf_event_output";
	if (!missing)
		return 0;
	snprintf(err, errlen, "this kernel (%s) lacks %s, which bpf_write_monitor needs: run it "
		 "on Linux 5.8 or newer built with BPF and tracepoints", ops->release, missing);
	return -1;
}

static int choose_path(const struct kfeat_ops *ops, struct kfeat *k, char *err, size_t errlen)
{
	const char *force = env(ops, "BWM_CAPTURE_PATH");
	bool regs = yes(ops->has_helper(BPF_FUNC_task_pt_regs));
	bool task_btf = yes(ops->has_helper(BPF_FUNC_get_current_task_btf));
	const char *lacks = !k->btf ? "BTF" : !regs ? "bpf_task_pt_regs (5.15+)" :
			    !task_btf ? "bpf_get_current_task_btf (5.11+)" : NULL;

	if (force && strcmp(force, "entry-exit") && strcmp(force, "exit-only")) {
		snprintf(err, errlen, "BWM_CAPTURE_PATH=%s: use entry-exit or exit-only, or unset "
			 "it", force);
		return -1;
	}
	if (force && !strcmp(force, "exit-only") && lacks) {
		snprintf(err, errlen, "BWM_CAPTURE_PATH=exit-only: this kernel (%s) lacks %s: "
			 "unset it", ops->release, lacks);
		return -1;
	}
	k->entry_exit = lacks || (force && !strcmp(force, "entry-exit"));
	if (force)
		snprintf(k->path_why, sizeof(k->path_why), "%s (forced by BWM_CAPTURE_PATH)",
			 force);
	else if (lacks)
		snprintf(k->path_why, sizeof(k->path_why), "entry+exit (arguments stashed at "
			 "syscall entry: the kernel lacks %s)", lacks);
	else
		snprintf(k->path_why, sizeof(k->path_why), "exit-only (arguments from the saved "
			 "registers: the kernel has bpf_task_pt_regs and BTF)");
	return 0;
}

static int parse_method(const char *s)
{
	int m;

	for (m = KFEAT_EXIT_GROUP_DEAD; m <= KFEAT_EXIT_PROC; m++)
		if (!strcmp(s, kfeat_exit_name(m)))
			return m;
	return 0;
}

static int choose_exit(const struct kfeat_ops *ops, struct kfeat *k, char *err, size_t errlen)
{
	const char *force = env(ops, "BWM_EXIT_METHOD");
	bool field = ops->tp_has_field("sched", "sched_process_exit", "group_dead");
	bool live = k->signal_off >= 0 && k->live_off >= 0;
	int m = force ? parse_method(force) : 0;

	if (force && !m) {
		snprintf(err, errlen, "BWM_EXIT_METHOD=%s: use group-dead, signal-live or proc, or "
			 "unset it", force);
		return -1;
	}
	if ((m == KFEAT_EXIT_GROUP_DEAD && !field) || (m == KFEAT_EXIT_SIGNAL_LIVE && !live)) {
		snprintf(err, errlen, "BWM_EXIT_METHOD=%s: this kernel (%s) lacks %s: unset it",
			 force, ops->release, m == KFEAT_EXIT_SIGNAL_LIVE ? "BTF offsets of task_struct.signal and "
			 "signal_struct.live" : "sched_process_exit's group_dead field");
		return -1;
	}
	k->exit_method = m ? m : field ? KFEAT_EXIT_GROUP_DEAD :
		live ? KFEAT_EXIT_SIGNAL_LIVE : KFEAT_EXIT_PROC;
	snprintf(k->exit_why, sizeof(k->exit_why), "%s (%s)", kfeat_exit_name(k->exit_method),
		 m ? "forced by BWM_EXIT_METHOD" :
		 field ? "sched_process_exit has group_dead" :
		 live ? "no group_dead field: task->signal->live, offsets from BTF" :
		 "no group_dead field, no BTF: /proc is checked at each traced thread's exit");
	return 0;
}

int kfeat_detect(const struct kfeat_ops *ops, bool want_exit_code, struct kfeat *k, char *err,
		 size_t errlen)
{
	memset(k, 0, sizeof(*k));
	k->exit_code_off = k->signal_off = k->live_off = -1;
	if (check_needed(ops, err, errlen))
		return -1;
	k->btf = ops->has_btf() && !env(ops, "BWM_NO_BTF");
	if (choose_path(ops, k, err, errlen))
		return -1;
	if (k->btf) {
		k->signal_off = ops->member_offset("task_struct", "signal");
		k->live_off = ops->member_offset("signal_struct", "live");
		if (want_exit_code)
			k->exit_code_off = ops->member_offset("task_struct", "exit_code");
	}
	if (choose_exit(ops, k, err, errlen))
		return -1;
	if (!k->btf)
		snprintf(k->notice, sizeof(k->notice), "this kernel (%s) has no BTF%s: writes are "
			 "captured on syscall entry+exit, %s, and -x exit statuses come from exit() "
			 "and exit_group() (a process killed by a signal shows \"status unknown\")",
			 ops->release, env(ops, "BWM_NO_BTF") ? " (BWM_NO_BTF)" :
			 " (/sys/kernel/btf/vmlinux)", k->exit_method == KFEAT_EXIT_PROC ?
			 "process exits are checked in /proc" : "process exits come from the "
			 "tracepoint");
	return 0;
}

int kfeat_cgroup(const struct kfeat_ops *ops, struct kfeat *k, char *err, size_t errlen)
{
	const char *force = env(ops, "BWM_CGROUP_METHOD");
	bool ancestor = yes(ops->has_helper(BPF_FUNC_get_current_ancestor_cgroup_id));
	bool under = yes(ops->has_helper(BPF_FUNC_current_task_under_cgroup));

	if (force && strcmp(force, "ancestor") && strcmp(force, "under")) {
		snprintf(err, errlen, "BWM_CGROUP_METHOD=%s: use ancestor or under, or unset it",
			 force);
		return -1;
	}
	if ((force && !strcmp(force, "ancestor") && !ancestor) ||
	    (force && !strcmp(force, "under") && !under)) {
		snprintf(err, errlen, "BWM_CGROUP_METHOD=%s: this kernel (%s) lacks %s: unset it",
			 force, ops->release, strcmp(force, "under") ?
			 "bpf_get_current_ancestor_cgroup_id" : "bpf_current_task_under_cgroup");
		return -1;
	}
	if (!ancestor && !under) {
		snprintf(err, errlen, "this kernel (%s) lacks bpf_get_current_ancestor_cgroup_id "
			 "and bpf_current_task_under_cgroup: --cgroup and --unit cannot work "
			 "here (trace the processes with --pid)", ops->release);
		return -1;
	}
	k->cgroup_under = force ? !strcmp(force, "under") : !ancestor;
	if (force)
		snprintf(k->cgroup_why, sizeof(k->cgroup_why), "%s (forced by BWM_CGROUP_METHOD)",
			 force);
	else if (k->cgroup_under)
		snprintf(k->cgroup_why, sizeof(k->cgroup_why), "under (bpf_current_task_under_"
			 "cgroup with the cgroup's fd in a map: tracepoint programs lack "
			 "bpf_get_current_ancestor_cgroup_id here)");
	else
		snprintf(k->cgroup_why, sizeof(k->cgroup_why), "ancestor (the current task's "
			 "ancestor cgroup id at the cgroup's level, no map)");
	return 0;
}

void kfeat_apply(const struct kfeat *k, struct program_params *p)
{
	p->entry_exit = k->entry_exit;
	p->exit_method = k->exit_method;
	p->exit_has_group_dead = k->exit_method == KFEAT_EXIT_GROUP_DEAD;
	p->exit_code_off = k->exit_code_off;
	p->signal_off = k->signal_off;
	p->live_off = k->live_off;
	p->cgroup_under = k->cgroup_under;
}

void kfeat_report(const struct kfeat *k, const struct config *cfg, FILE *out)
{
	if (k->notice[0] && !cfg->quiet && !cfg->ebpf)
		fprintf(out, "%s: notice: %s\n", BWM_NAME, k->notice);
	if (!cfg->verbose)
		return;
	fprintf(out, "%s: capture path: %s\n", BWM_NAME, k->path_why);
	fprintf(out, "%s: process exits: %s\n", BWM_NAME, k->exit_why);
	if (cfg->kind == TARGET_CGROUP)
		fprintf(out, "%s: cgroup filter: %s\n", BWM_NAME, k->cgroup_why);
}
