// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the capture path and exit method chosen from the kernel's features. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/bpf.h>

#include "../probes/event.h"
#include "exits.h"
#include "kfeat.h"

/* A fake kernel: what each probe answers. */
static struct {
	bool btf, group_dead, offsets;
	int pt_regs, task_btf, read_user, tp_progs, ancestor, under;
	const char *path, *method, *no_btf, *cgroup;
} k;

static bool f_btf(void) { return k.btf; }
static int f_tp(void) { return k.tp_progs; }
static int f_perf(void) { return 1; }

static int f_helper(int id)
{
	if (id == BPF_FUNC_task_pt_regs)
		return k.pt_regs;
	if (id == BPF_FUNC_get_current_task_btf)
		return k.task_btf;
	if (id == BPF_FUNC_probe_read_user)
		return k.read_user;
	if (id == BPF_FUNC_get_current_ancestor_cgroup_id)
		return k.ancestor;
	if (id == BPF_FUNC_current_task_under_cgroup)
		return k.under;
	return 1;
}

static bool f_field(const char *cat, const char *ev, const char *field)
{
	return k.group_dead && !strcmp(cat, "sched") && !strcmp(ev, "sched_process_exit") &&
	       !strcmp(field, "group_dead");
}

static long f_offset(const char *s, const char *m)
{
	if (!k.offsets)
		return -1;
	return !strcmp(s, "task_struct") && !strcmp(m, "signal") ? 1848 :
	       !strcmp(s, "signal_struct") && !strcmp(m, "live") ? 4 :
	       !strcmp(m, "exit_code") ? 1500 : -1;
}

static const char *f_env(const char *name)
{
	return !strcmp(name, "BWM_CAPTURE_PATH") ? k.path :
	       !strcmp(name, "BWM_EXIT_METHOD") ? k.method :
	       !strcmp(name, "BWM_NO_BTF") ? k.no_btf :
	       !strcmp(name, "BWM_CGROUP_METHOD") ? k.cgroup : NULL;
}

static const struct kfeat_ops ops = {
	.release = "5.10.0-32-amd64", .has_btf = f_btf, .has_helper = f_helper,
	.has_tracepoint_programs = f_tp, .has_perf_event_array = f_perf,
	.tp_has_field = f_field, .member_offset = f_offset, .env = f_env,
};

/* A kernel like 6.18: everything there. */
static int modern(void **state)
{
	(void)state;
	memset(&k, 0, sizeof(k));
	k.btf = k.group_dead = k.offsets = true;
	k.pt_regs = k.task_btf = k.read_user = k.tp_progs = k.ancestor = k.under = 1;
	return 0;
}

static void modern_kernel_takes_exit_only_and_group_dead(void **state)
{
	struct kfeat f;
	char err[256];

	(void)state;
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), 0);
	assert_false(f.entry_exit);
	assert_int_equal(f.exit_method, KFEAT_EXIT_GROUP_DEAD);
	assert_int_equal(f.exit_code_off, 1500);
	assert_string_equal(f.notice, "");
	assert_non_null(strstr(f.path_why, "exit-only"));
}

static void debian11_like_kernel_takes_entry_exit_and_signal_live(void **state)
{
	struct kfeat f;
	char err[256];

	(void)state;
	k.pt_regs = 0;
	k.group_dead = false;
	assert_int_equal(kfeat_detect(&ops, false, &f, err, sizeof(err)), 0);
	assert_true(f.entry_exit);
	assert_non_null(strstr(f.path_why, "bpf_task_pt_regs"));
	assert_int_equal(f.exit_method, KFEAT_EXIT_SIGNAL_LIVE);
	assert_int_equal(f.signal_off, 1848);
	assert_int_equal(f.live_off, 4);
	assert_int_equal(f.exit_code_off, -1);	/* not asked for */
}

static void no_btf_means_entry_exit_proc_and_one_notice(void **state)
{
	struct kfeat f;
	char err[256];

	(void)state;
	k.btf = false;
	k.group_dead = false;
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), 0);
	assert_true(f.entry_exit);
	assert_int_equal(f.exit_method, KFEAT_EXIT_PROC);
	assert_int_equal(f.exit_code_off, -1);
	assert_int_equal(f.signal_off, -1);
	assert_non_null(strstr(f.notice, "5.10.0-32-amd64"));
	assert_non_null(strstr(f.notice, "no BTF"));
	assert_null(strchr(f.notice, '\n'));
}

static void group_dead_field_is_preferred_even_without_btf(void **state)
{
	struct kfeat f;
	char err[256];

	(void)state;
	k.btf = false;
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), 0);
	assert_int_equal(f.exit_method, KFEAT_EXIT_GROUP_DEAD);
}

static void missing_needed_feature_is_one_error_naming_it_and_the_kernel(void **state)
{
	struct kfeat f;
	char err[256];

	(void)state;
	k.read_user = 0;
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bpf_probe_read_user"));
	assert_non_null(strstr(err, "5.10.0-32-amd64"));
	k.read_user = -1;	/* cannot tell: taken as there */
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), 0);
	k.tp_progs = 0;
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tracepoint"));
}

static void overrides_force_each_choice_or_say_why_not(void **state)
{
	struct kfeat f;
	char err[256];

	(void)state;
	k.path = "entry-exit";
	k.method = "proc";
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), 0);
	assert_true(f.entry_exit);
	assert_int_equal(f.exit_method, KFEAT_EXIT_PROC);
	assert_non_null(strstr(f.path_why, "BWM_CAPTURE_PATH"));
	k.method = "signal-live";
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), 0);
	assert_int_equal(f.exit_method, KFEAT_EXIT_SIGNAL_LIVE);
	k.method = "sometimes";
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "group-dead, signal-live or proc"));
	k.method = NULL;
	k.no_btf = "1";
	k.path = "exit-only";
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "lacks BTF"));
	k.path = NULL;
	k.group_dead = false;
	k.method = "signal-live";
	assert_int_equal(kfeat_detect(&ops, true, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "signal_struct.live"));
}

static void cgroup_filter_is_ancestor_where_offered_else_under(void **state)
{
	struct kfeat f;
	char err[256];

	(void)state;
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), 0);
	assert_false(f.cgroup_under);
	assert_non_null(strstr(f.cgroup_why, "ancestor ("));
	k.ancestor = -1;	/* cannot tell (--ebpf, no privileges): taken as there */
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), 0);
	assert_false(f.cgroup_under);
	k.ancestor = 0;		/* 5.10: not offered to tracepoint programs */
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), 0);
	assert_true(f.cgroup_under);
	assert_non_null(strstr(f.cgroup_why, "under ("));
	assert_non_null(strstr(f.cgroup_why, "lack bpf_get_current_ancestor_cgroup_id"));
	k.under = 0;
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "5.10.0-32-amd64"));
	assert_non_null(strstr(err, "--pid"));
}

static void cgroup_filter_override_forces_it_or_says_why_not(void **state)
{
	struct kfeat f;
	char err[256];

	(void)state;
	k.cgroup = "under";
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), 0);
	assert_true(f.cgroup_under);
	assert_string_equal(f.cgroup_why, "under (forced by BWM_CGROUP_METHOD)");
	k.cgroup = "ancestor";
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), 0);
	assert_false(f.cgroup_under);
	k.ancestor = 0;
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), -1);
	assert_string_equal(err, "BWM_CGROUP_METHOD=ancestor: this kernel (5.10.0-32-amd64) "
			    "lacks bpf_get_current_ancestor_cgroup_id: unset it");
	k.ancestor = 1;
	k.under = 0;
	k.cgroup = "under";
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "lacks bpf_current_task_under_cgroup"));
	k.cgroup = "fast";
	assert_int_equal(kfeat_cgroup(&ops, &f, err, sizeof(err)), -1);
	assert_string_equal(err, "BWM_CGROUP_METHOD=fast: use ancestor or under, or unset it");
}

static void threads_exiting_or_zombie_make_a_gone_group(void **state)
{
	struct proc_stat t[3] = {
		{ .state = 'Z' }, { .state = 'R', .flags = 0x4 }, { .state = 'S' },
	};

	(void)state;
	assert_true(exits_all_exiting(t, 0));
	assert_true(exits_all_exiting(t, 2));
	assert_false(exits_all_exiting(t, 3));
}

static struct bwm_event emitted[4];
static int nemitted;

static void emit(void *cookie, const struct bwm_event *ev)
{
	(void)cookie;
	emitted[nemitted++] = *ev;
}

static void an_exit_is_reported_once(void **state)
{
	struct bwm_event ev = { .type = BWM_EV_TASK_EXIT, .tgid = 100, .tid = 101 };
	struct exits x;

	(void)state;
	exits_init(&x, KFEAT_EXIT_GROUP_DEAD);
	assert_int_equal(exits_classify(&x, &ev), BWM_EV_TASK_EXIT);
	assert_int_equal(x.npending, 0);
	ev.type = BWM_EV_EXIT;
	assert_int_equal(exits_classify(&x, &ev), BWM_EV_EXIT);
	assert_int_equal(exits_classify(&x, &ev), 0);
	ev.type = BWM_EV_TASK_EXIT;
	assert_int_equal(exits_classify(&x, &ev), 0);
	exits_forget(&x, 100);	/* the pid is reused by a new process */
	ev.type = BWM_EV_EXIT;
	assert_int_equal(exits_classify(&x, &ev), BWM_EV_EXIT);
}

static void proc_method_settles_after_the_records_before_the_check(void **state)
{
	struct bwm_event gone = { .type = BWM_EV_TASK_EXIT, .tgid = 0x7ffffff0, .tid = 5 };
	struct bwm_event alive = { .type = BWM_EV_TASK_EXIT, .tgid = 1, .tid = 7 };
	struct exits x;

	(void)state;
	exits_init(&x, KFEAT_EXIT_PROC);
	nemitted = 0;
	assert_int_equal(exits_classify(&x, &gone), BWM_EV_TASK_EXIT);
	assert_int_equal(exits_classify(&x, &alive), BWM_EV_TASK_EXIT);
	assert_int_equal(x.npending, 2);
	/* pid 1 lives on: dropped; the gone one is seen gone at 1000, after limit 900 */
	exits_settle(&x, 1000, 900, false, emit, NULL);
	assert_int_equal(nemitted, 0);
	assert_int_equal(x.npending, 1);
	exits_settle(&x, 2000, 1500, false, emit, NULL);
	assert_int_equal(nemitted, 1);
	assert_int_equal(emitted[0].type, BWM_EV_EXIT);
	assert_int_equal(emitted[0].tgid, 0x7ffffff0);
	assert_int_equal(emitted[0].tid, 5);
	assert_int_equal(x.npending, 0);
}

static void proc_method_reports_exits_oldest_first(void **state)
{
	struct bwm_event a = { .type = BWM_EV_TASK_EXIT, .tgid = 0x7ffffff1, .ts = 30 };
	struct bwm_event b = { .type = BWM_EV_TASK_EXIT, .tgid = 0x7ffffff2, .ts = 10 };
	struct bwm_event c = { .type = BWM_EV_TASK_EXIT, .tgid = 0x7ffffff3, .ts = 20 };
	struct exits x;

	(void)state;
	exits_init(&x, KFEAT_EXIT_PROC);
	nemitted = 0;
	exits_classify(&x, &a);
	exits_classify(&x, &b);
	exits_classify(&x, &c);
	exits_settle(&x, 1000, 0, true, emit, NULL);
	assert_int_equal(nemitted, 3);
	assert_int_equal(emitted[0].tgid, 0x7ffffff2);
	assert_int_equal(emitted[1].tgid, 0x7ffffff3);
	assert_int_equal(emitted[2].tgid, 0x7ffffff1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(modern_kernel_takes_exit_only_and_group_dead, modern),
		cmocka_unit_test_setup(debian11_like_kernel_takes_entry_exit_and_signal_live,
				       modern),
		cmocka_unit_test_setup(no_btf_means_entry_exit_proc_and_one_notice, modern),
		cmocka_unit_test_setup(group_dead_field_is_preferred_even_without_btf, modern),
		cmocka_unit_test_setup(missing_needed_feature_is_one_error_naming_it_and_the_kernel,
				       modern),
		cmocka_unit_test_setup(overrides_force_each_choice_or_say_why_not, modern),
		cmocka_unit_test_setup(cgroup_filter_is_ancestor_where_offered_else_under, modern),
		cmocka_unit_test_setup(cgroup_filter_override_forces_it_or_says_why_not, modern),
		cmocka_unit_test(threads_exiting_or_zombie_make_a_gone_group),
		cmocka_unit_test(an_exit_is_reported_once),
		cmocka_unit_test(proc_method_settles_after_the_records_before_the_check),
		cmocka_unit_test(proc_method_reports_exits_oldest_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
