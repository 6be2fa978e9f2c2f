/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.bpf.h - what the BPF templates share: maps, the process filter,
 * syscall arguments, record headers.
 *
 * The frontend assembles the program from a block of constants, then
 * probes/event.h, this file, probes/lifecycle.bpf.c and probes/write.bpf.c,
 * each behind a #line marker (see it all with `bpf_write_monitor --ebpf`).
 * The constants, all numbers:
 *
 *   BWM_TARGET_PID    the traced process (thread-group id)
 *   BWM_FD_MASK       bit N set: capture fd N (bit 1 stdout, bit 2 stderr)
 *   BWM_SELF_PID      the monitor itself, never captured
 *   BWM_DESCENDANTS   1: also trace descendants (the bwm_monitored map)
 *   BWM_EXCLUDE_KERNEL 1: kernel threads are not registered (see lifecycle.bpf.c)
 *   BWM_EXITS         1: report fork, exec and exit of traced processes
 *   BWM_WANT_COMM     1: fill event.comm of writes (a prefix or JSON needs it)
 *   BWM_MAX_BYTES     payload bytes captured per call (or sendmmsg message)
 *   BWM_CAP           the smallest power of two >= BWM_MAX_BYTES and 32768
 *   BWM_NR_CPUS       possible CPUs (sizes the scratch map)
 *   BWM_PID_MAX       /proc/sys/kernel/pid_max (sizes bwm_monitored)
 *   BWM_EXIT_CODE_OFF offset of task_struct.exit_code in the *running*
 *                     kernel, from its BTF (/sys/kernel/btf/vmlinux); -1 if unknown
 *   BWM_EXIT_HAS_GROUP_DEAD 1 if sched_process_exit has a group_dead field
 *   BWM_TP(cat, ev)   1 if the running kernel has that tracepoint: probes for
 *                     absent tracepoints compile out
 *   BWM_ALSO(cat, ev, other)  attach the program of cat:ev to cat:other too
 *                     (the same arguments, so the same code; verified once)
 */
#include <uapi/linux/ptrace.h>

BPF_PERF_OUTPUT(BWM_MAP_EVENTS);
/* 1 while capture is on: set before the write probes attach, cleared first on exit. */
BPF_ARRAY(BWM_MAP_ENABLED, u32, 1);
/*
 * Per CPU: records the probes could not queue, [0] with no buffer yet (a CPU brought online),
 * [1] with the buffer full (it counts those too, but tells only with its next record); [2]
 * children the fork probe could not add to bwm_monitored (map full), who are not traced.
 */
BPF_PERCPU_ARRAY(BWM_MAP_DROPPED, u64, 3);

#if BWM_DESCENDANTS
/*
 * Traced processes: thread-group id -> fd mask. 0 excludes a process (the
 * monitor itself, the readers of its output) and, through fork, its children.
 * Entries are made on demand (no preallocation), so sizing it to pid_max
 * costs nothing until processes are added.
 */
BPF_F_TABLE("hash", u32, u32, BWM_MAP_MONITORED, BWM_PID_MAX, BPF_F_NO_PREALLOC);
#endif

/*
 * The syscall's arguments, read at its exit from the user registers the task
 * saved on entry (bpf_task_pt_regs(), no struct layout of ours involved). On
 * x86-64 the syscall ABI passes arguments in di, si, dx and the kernel only
 * writes the return value to ax, so they still hold what the caller passed;
 * orig_ax holds the syscall number.
 */
#define BWM_ARG1(r) ((r)->di)
#define BWM_ARG2(r) ((r)->si)
#define BWM_ARG3(r) ((r)->dx)
#define BWM_NR(r) ((r)->orig_ax)

static __always_inline struct pt_regs *bwm_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/*
 * The fds captured for a traced process, from the mask the command line
 * gave. A field hack can widen it: ((mask) | 1 << 3) captures fd 3 too
 * (its lines are labelled "fd3: ").
 */
#define BWM_CAPTURE(mask)	(mask)

/*
 * The fd mask a process is traced with, 0 when it is not. Without
 * descendants this is one compare; with them, one hash lookup.
 */
static __always_inline u32 bwm_mask_of(u32 tgid)
{
#if BWM_DESCENDANTS
	u32 *mask = bwm_monitored.lookup(&tgid);

	return mask && *mask && tgid != BWM_SELF_PID ? BWM_CAPTURE(*mask) : 0;
#else
	return tgid == BWM_TARGET_PID && tgid != BWM_SELF_PID ? BWM_CAPTURE(BWM_FD_MASK) : 0;
#endif
}

static __always_inline int bwm_is_enabled(void)
{
	int zero = 0;
	u32 *on = bwm_enabled.lookup(&zero);

	return on && *on;
}

/*
 * Queue a record for user space; count a failure in bwm_dropped. A full
 * buffer counts its losses too, but reports them only with its next record,
 * which may never come (a burst that ends while the reader is behind): the
 * frontend takes the larger of the two counts.
 */
static __always_inline void bwm_submit(void *ctx, void *data, u32 size)
{
	int rc = bwm_events.perf_submit(ctx, data, size), slot = rc == -ENOSPC;
	u64 *dropped;

	if (rc == 0)
		return;
	dropped = bwm_dropped.lookup(&slot);
	if (dropped)
		(*dropped)++;
}

/* Fill a record header; for writes, total is the bytes the call wrote. */
static __always_inline void bwm_header(struct bwm_event *h, u64 id, int type, u64 fd, u64 total)
{
	h->ts = bpf_ktime_get_ns();
	h->total = total;
	h->offset = 0;
	h->tgid = id >> 32;
	h->tid = (u32)id;
	h->len = 0;
	h->type = type;
	h->fd = fd;
	h->flags = 0;
	h->pad = 0;
	if (BWM_WANT_COMM || type >= BWM_EV_FORK)
		bpf_get_current_comm(&h->comm, sizeof(h->comm));
	else
		__builtin_memset(h->comm, 0, sizeof(h->comm));
}
