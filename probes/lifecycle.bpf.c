/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lifecycle.bpf.c - follow traced processes through fork, exec and exit.
 *
 * Attached before the traced PIDs are registered (the seed's order), so that
 * no fork slips between the /proc scan and the registration. The fork probe
 * is compiled for --include-descendants (-f), and for a cgroup with --exits
 * (-x) or --on-failure (BWM_FORKS: who forked whom, for the fork lines and
 * for handing a child's kept lines to its parent); the exec probe for -x or
 * --on-failure; the exit probe always (it runs only at task exit): the
 * frontend needs every traced thread's exit to end its partial lines.
 *
 * Only layout-independent information is used: tracepoint fields, helpers,
 * the syscall arguments (an ABI), and task_struct.exit_code, .signal and
 * signal_struct.live at the offsets the running kernel's own BTF gives
 * (BWM_EXIT_CODE_OFF, BWM_SIGNAL_OFF, BWM_LIVE_OFF, found by the frontend),
 * never an offset from the kernel headers, which may be stand-ins.
 */
#if BWM_FORKS && BWM_TP(sched, sched_process_fork)
#if BWM_ENTRY_EXIT
/*
 * Entry+exit path: whether a traced thread's clone, clone3, fork or vfork
 * creates a process (1) or a thread (0) is stashed at the syscall's entry,
 * keyed by thread id, and taken by sched_process_fork, which runs inside
 * the syscall; the syscall's exit removes what a failed call left.
 * Preallocated, like bwm_calls.
 */
BPF_F_TABLE("hash", u32, u32, BWM_MAP_FORKS, BWM_MAX_INFLIGHT, 0);

static __always_inline u32 *bwm_forks_get(u32 *tid)
{
	return bwm_forks.lookup(tid);
}

static __always_inline void bwm_forks_set(u32 *tid, u32 *process)
{
	bwm_forks.update(tid, process);
}

static __always_inline void bwm_forks_del(u32 *tid)
{
	bwm_forks.delete(tid);
}

static __always_inline int bwm_fork_enter(int process)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tgid = id >> 32, tid = id, v = process;

#if BWM_DESCENDANTS
	bwm_adopt();
	if (bwm_monitored_get(&tgid))
#else
	if (bwm_mask_of(tgid))		/* a cgroup's process */
#endif
		bwm_forks_set(&tid, &v);
	return 0;
}

/* clone(flags, ...): a process unless CLONE_THREAD. */
TRACEPOINT_PROBE(syscalls, sys_enter_clone)
{
	const struct bwm_enter *e = (const void *)args;

	return bwm_fork_enter(!(e->arg[0] & BWM_CLONE_THREAD));
}

/* clone3(&clone_args, size): flags is the first member of struct clone_args. */
TRACEPOINT_PROBE(syscalls, sys_enter_clone3)
{
	const struct bwm_enter *e = (const void *)args;
	u64 flags = BWM_CLONE_THREAD;

	bpf_probe_read_user(&flags, sizeof(flags), (void *)e->arg[0]);
	return bwm_fork_enter(!(flags & BWM_CLONE_THREAD));
}

TRACEPOINT_PROBE(syscalls, sys_enter_fork) { return bwm_fork_enter(1); }
TRACEPOINT_PROBE(syscalls, sys_enter_vfork) { return bwm_fork_enter(1); }

static __always_inline int bwm_fork_exit(void)
{
	u32 tid = bpf_get_current_pid_tgid();

	bwm_forks_del(&tid);
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_exit_clone) { return bwm_fork_exit(); }
TRACEPOINT_PROBE(syscalls, sys_exit_clone3) { return bwm_fork_exit(); }
TRACEPOINT_PROBE(syscalls, sys_exit_fork) { return bwm_fork_exit(); }
TRACEPOINT_PROBE(syscalls, sys_exit_vfork) { return bwm_fork_exit(); }

/*
 * Does the running fork create a process (not a thread)? Tasks the kernel
 * creates outside these syscalls (kernel threads, io_uring workers) find no
 * stash: they are not processes of ours.
 */
static __always_inline int bwm_forks_process(void)
{
	u32 tid = bpf_get_current_pid_tgid();
	u32 *v = bwm_forks_get(&tid);

	return v && *v;
}
#else
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
	struct bwm_args a;
	u64 flags = 0;

	bwm_args_from_regs(&a);
	if (a.nr == BWM_NR_FORK || a.nr == BWM_NR_VFORK)
		return 1;
	if (a.nr == BWM_NR_CLONE)
		return !(a.arg1 & BWM_CLONE_THREAD);
	if (a.nr != BWM_NR_CLONE3 ||
	    bpf_probe_read_user(&flags, sizeof(flags), (void *)a.arg1) != 0)
		return 0;
	return !(flags & BWM_CLONE_THREAD);
}
#endif

#if BWM_DESCENDANTS
/*
 * A traced process forked: its child is traced with the same fd mask. A
 * reader of the output (mask 0, marked: see BWM_READER_MARK) is not traced,
 * but its children are, with the command line's fds.
 */
TRACEPOINT_PROBE(sched, sched_process_fork)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32, child = args->child_pid, mask;
	u32 *pmask, mark = parent | BWM_READER_MARK;

	bwm_adopt();
	pmask = bwm_monitored_get(&parent);
	if (!pmask || !bwm_forks_process())
		return 0;
	mask = *pmask;
	if (!mask && bwm_monitored_get(&mark))
		mask = BWM_FD_MASK;
	/* Map full (or no memory): the child is not traced; count it (see BWM_MAP_DROPPED). */
	if (bwm_track_child(&child, &mask) != 0 && mask)
		bwm_dropped_count(BWM_DROP_UNTRACKED);
	/* In a PID namespace the child's number there is not known yet: no fork line. */
#if BWM_EXITS && !BWM_PIDNS_INO
	if (mask && bwm_is_enabled()) {
		struct bwm_event h;

		bwm_header(&h, (u64)child << 32 | child, BWM_EV_FORK, 0, parent);
		bwm_submit(args, &h, sizeof(h));
	}
#endif
	return 0;
}
#else
/*
 * A process of the traced cgroup forked: its child is in the cgroup from
 * birth (nothing to register); the fork is reported, so that the frontend
 * knows who forked whom (-x prints it; --on-failure hands the lines of a
 * child that exits 0 to its parent). Not in a PID namespace: the child's
 * number there is not known yet.
 */
TRACEPOINT_PROBE(sched, sched_process_fork)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32, child = args->child_pid;
	struct bwm_event h;

	if (BWM_PIDNS_INO || !bwm_mask_of(parent) || !bwm_forks_process() ||
	    !bwm_is_enabled())
		return 0;
	bwm_header(&h, (u64)child << 32 | child, BWM_EV_FORK, 0, parent);
	bwm_submit(args, &h, sizeof(h));
	return 0;
}
#endif
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

#if BWM_EXITS && BWM_EXIT_CODE_OFF < 0
/*
 * No BTF, so no task_struct.exit_code: the exit status comes from the
 * exit_group(code) a traced process called, else from the exit(code) of its
 * main thread (what wait(2) reports then). A process killed by a signal has
 * neither: its status is unknown. Bit 16 marks an exit_group() status.
 */
BPF_F_TABLE("lru_hash", u32, u32, BWM_MAP_EXIT_STATUS, 10240, 0);

static __always_inline u32 *bwm_exit_status_get(u32 *tgid)
{
	return bwm_exit_status.lookup(tgid);
}

static __always_inline void bwm_exit_status_set(u32 *tgid, u32 *status)
{
	bwm_exit_status.update(tgid, status);
}

static __always_inline void bwm_exit_status_del(u32 *tgid)
{
	bwm_exit_status.delete(tgid);
}

static __always_inline int bwm_note_exit(u64 code, int group)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tgid = id >> 32, status = (code & 0xff) << 8 | (group ? 0x10000 : 0), *old;

	if (!bwm_mask_of(tgid))
		return 0;
	old = bwm_exit_status_get(&tgid);
	if (group || ((u32)id == tgid && !(old && (*old & 0x10000))))
		bwm_exit_status_set(&tgid, &status);
	return 0;
}

#if BWM_TP(syscalls, sys_enter_exit_group)
TRACEPOINT_PROBE(syscalls, sys_enter_exit_group)
{
	return bwm_note_exit(((const struct bwm_enter *)(const void *)args)->arg[0], 1);
}
#endif

#if BWM_TP(syscalls, sys_enter_exit)
TRACEPOINT_PROBE(syscalls, sys_enter_exit)
{
	return bwm_note_exit(((const struct bwm_enter *)(const void *)args)->arg[0], 0);
}
#endif
#endif

#if BWM_TP(sched, sched_process_exit)
/*
 * Is the exiting task the last of its thread group? 1 yes, 0 no. (With
 * BWM_EXIT_BY_GROUP_DEAD the tracepoint says; with BWM_EXIT_BY_PROC this is
 * always 0 and the frontend tells from /proc.)
 */
static __always_inline int bwm_group_dead(void)
{
#if BWM_EXIT_METHOD == BWM_EXIT_BY_SIGNAL_LIVE
	/*
	 * do_exit() decrements signal->live before this tracepoint (5.10 to
	 * 6.18 alike): 0 means no thread of the group is left. Two threads
	 * exiting at once may both see 0; the frontend reports one exit.
	 */
	u64 sig = 0;
	int live = 1;

	if (bpf_probe_read_kernel(&sig, sizeof(sig),
				  (char *)bpf_get_current_task() + BWM_SIGNAL_OFF) != 0 || !sig ||
	    bpf_probe_read_kernel(&live, sizeof(live), (char *)sig + BWM_LIVE_OFF) != 0)
		return 0;
	return live == 0;
#else
	return 0;
#endif
}

/*
 * Is the exiting task's process traced? With descendants, the entry of a
 * dead group is removed; when two threads both see their group dead, the
 * one whose delete fails reports nothing.
 */
static __always_inline int bwm_exit_traced(u32 tgid, int dead)
{
#if BWM_DESCENDANTS
	u32 *mask, traced;

	bwm_adopt();	/* a child forked in a PID namespace, never seen before */
	mask = bwm_monitored_get(&tgid);
	traced = mask && *mask;
	if (!mask)
		return 0;
	if (dead && bwm_monitored_del(&tgid) != 0)
		return 0;
	return traced;
#else
	return bwm_mask_of(tgid) != 0;
#endif
}

/* The wait status of the exiting task's process, when it can be had. */
static __always_inline void bwm_exit_status_of(struct bwm_event *h, u32 tgid, int dead)
{
#if BWM_EXIT_CODE_OFF >= 0
	/* do_exit() has set it by now: what wait(2) will report. */
	int code = 0;

	if (bpf_probe_read_kernel(&code, sizeof(code),
				  (char *)bpf_get_current_task() + BWM_EXIT_CODE_OFF) == 0) {
		h->total = (u32)code;
		h->flags = BWM_F_STATUS;
	}
#elif BWM_EXITS
	u32 *status = bwm_exit_status_get(&tgid);

	if (status) {
		h->total = *status & 0xffff;
		h->flags = BWM_F_STATUS;
		if (dead)
			bwm_exit_status_del(&tgid);
	}
#endif
}

/*
 * A task exited. A traced thread whose process lives on is reported as
 * TASK_EXIT (the frontend ends its partial lines); the last thread of a
 * traced process as EXIT: the process is forgotten and, with -x, its exit
 * status printed. With BWM_EXIT_BY_PROC every traced thread is reported as
 * TASK_EXIT and the frontend tells the last one from /proc.
 */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tgid = id >> 32, tid = id;
	struct bwm_event h;
#if BWM_EXIT_METHOD == BWM_EXIT_BY_GROUP_DEAD
	int dead = args->group_dead;
#else
	int dead = bwm_group_dead();
#endif

	if (!bwm_exit_traced(tgid, dead))
		return 0;
#if BWM_ENTRY_EXIT
	bwm_unstash(tid);	/* a call the thread died in */
#endif
	bwm_header(&h, id, dead ? BWM_EV_EXIT : BWM_EV_TASK_EXIT, 0, 0);
	if (dead || BWM_EXIT_METHOD == BWM_EXIT_BY_PROC)
		bwm_exit_status_of(&h, tgid, dead);
	bwm_submit(args, &h, sizeof(h));
	return 0;
}
#endif
