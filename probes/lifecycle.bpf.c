/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lifecycle.bpf.c - follow traced processes through fork, exec and exit.
 *
 * Attached before the traced PIDs are registered (the seed's order), so that
 * no fork slips between the /proc scan and the registration. Compiled only
 * for --include-descendants (-f) or --exits (-x): without them the write
 * filter stays a constant compare and nothing here is attached.
 *
 * Only layout-independent information is used: tracepoint fields, helpers,
 * the syscall registers (an ABI), and task_struct.exit_code at the offset the
 * running kernel's own BTF gives (BWM_EXIT_CODE_OFF, found by the frontend),
 * never an offset from the kernel headers, which may be stand-ins.
 */
#if BWM_DESCENDANTS || BWM_EXITS

/* x86-64 numbers of the syscalls that create tasks (the syscall ABI). */
#define BWM_NR_CLONE		56
#define BWM_NR_FORK		57
#define BWM_NR_VFORK		58
#define BWM_NR_CLONE3		435
#define BWM_CLONE_THREAD	0x00010000

#if BWM_DESCENDANTS && BWM_TP(sched, sched_process_fork)
/*
 * Does the running fork create a process (not a thread)? Told by the
 * syscall's own arguments: clone(flags, ...) and clone3(&args) say
 * CLONE_THREAD; fork() and vfork() always make a process. Tasks the kernel
 * creates itself are not processes of ours: kernel threads (kthreadd forks
 * them outside any syscall) and io_uring workers (threads of their process).
 * So kernel threads never enter bwm_monitored, whatever BWM_EXCLUDE_KERNEL
 * says; they make no system calls, so they write nothing to capture anyway.
 */
static __always_inline int bwm_forks_process(void)
{
	struct pt_regs *regs = bwm_regs();
	u64 nr = BWM_NR(regs), arg = BWM_ARG1(regs), flags = 0;

	if (nr == BWM_NR_FORK || nr == BWM_NR_VFORK)
		return 1;
	if (nr == BWM_NR_CLONE)
		return !(arg & BWM_CLONE_THREAD);
	if (nr != BWM_NR_CLONE3 || bpf_probe_read_user(&flags, sizeof(flags), (void *)arg) != 0)
		return 0;
	return !(flags & BWM_CLONE_THREAD);
}

/* A traced process forked: its child is traced with the same fd mask. */
TRACEPOINT_PROBE(sched, sched_process_fork)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32, child = args->child_pid, mask;
	u32 *pmask = bwm_monitored.lookup(&parent);

	if (!pmask || !bwm_forks_process())
		return 0;
	mask = *pmask;
	if (bwm_monitored.update(&child, &mask) != 0 && mask) {
		/* Map full (or no memory): the child is not traced; count it. */
		int slot = 2;	/* see bwm_dropped */
		u64 *n = bwm_dropped.lookup(&slot);

		if (n)
			(*n)++;
	}
#if BWM_EXITS
	if (mask && bwm_is_enabled()) {
		struct bwm_event h;

		bwm_header(&h, (u64)child << 32 | child, BWM_EV_FORK, 0, parent);
		bwm_submit(args, &h, sizeof(h));
	}
#endif
	return 0;
}
#endif

#if BWM_EXITS && BWM_TP(sched, sched_process_exec)
/*
 * A traced process called execve: report the new program. (It stays traced
 * by itself: bwm_monitored is keyed by the thread-group id, which survives.)
 */
TRACEPOINT_PROBE(sched, sched_process_exec)
{
	struct {
		struct bwm_event h;
		char name[256];
	} e;
	u64 id = bpf_get_current_pid_tgid();
	u32 off = args->data_loc_filename & 0xffff;
	long n;

	if (!bwm_mask_of(id >> 32) || !bwm_is_enabled())
		return 0;
	bwm_header(&e.h, id, BWM_EV_EXEC, 0, 0);
	n = bpf_probe_read_kernel_str(e.name, sizeof(e.name), (char *)args + off);
	if (n < 1)
		n = 1;
	n = (n - 1) & (sizeof(e.name) - 1);	/* without the NUL, visibly bounded */
	e.h.len = n;
	bwm_submit(args, &e, sizeof(e.h) + n);
	return 0;
}
#endif

#if BWM_TP(sched, sched_process_exit)
/*
 * A task exited. When it was the last of its traced process, the process is
 * forgotten and its exit reported (the frontend flushes its partial lines
 * and, with -x, prints its exit status).
 */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tgid = id >> 32;
	struct bwm_event h;

#if BWM_EXIT_HAS_GROUP_DEAD
	if (!args->group_dead)
		return 0;
#else
	if ((u32)id != tgid)
		return 0;	/* older kernels: the leader's exit stands for the group's */
#endif
#if BWM_DESCENDANTS
	{
		u32 *mask = bwm_monitored.lookup(&tgid);
		u32 traced = mask && *mask;

		if (!mask)
			return 0;
		bwm_monitored.delete(&tgid);
		if (!traced)
			return 0;
	}
#else
	if (tgid != BWM_TARGET_PID)
		return 0;
#endif
	bwm_header(&h, id, BWM_EV_EXIT, 0, 0);
#if BWM_EXIT_CODE_OFF >= 0
	{
		/* do_exit() has set it by now: what wait(2) will report. */
		int code = 0;

		if (bpf_probe_read_kernel(&code, sizeof(code),
					  (char *)bpf_get_current_task() + BWM_EXIT_CODE_OFF) == 0) {
			h.total = (u32)code;
			h.flags = BWM_F_STATUS;
		}
	}
#endif
	bwm_submit(args, &h, sizeof(h));
	return 0;
}
#endif

#endif /* BWM_DESCENDANTS || BWM_EXITS */
