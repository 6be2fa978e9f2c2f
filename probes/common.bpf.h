/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.bpf.h - what the BPF templates share: maps, the process filter,
 * syscall arguments, record headers.
 *
 * The frontend assembles the program from a block of constants, then
 * probes/event.h, probes/arch-MACHINE.h (registers, syscall numbers, errno),
 * this file, probes/lifecycle.bpf.c and probes/write.bpf.c,
 * each behind a #line marker (see it all with `bpf_write_monitor --ebpf`).
 * The constants, all numbers:
 *
 *   BWM_TARGET_PID    the first traced process (thread-group id), 0 for a cgroup
 *   BWM_IS_TARGET(t)  1 when tgid t is one of the --pid targets (a chain of
 *                     compares with numbers; 0 for a cgroup)
 *   BWM_IS_EXCLUDED(t) 1 when tgid t is never traced: for a cgroup, the readers
 *                     of the tool's own output (so that it cannot feed back)
 *   BWM_CGROUP_ID     --cgroup: the cgroup v2 directory's id (its inode number), else 0
 *   BWM_CGROUP_LEVEL  its depth below the cgroup2 mount (the root is level 0)
 *   BWM_CGROUP_UNDER  1: the cgroup filter is bpf_current_task_under_cgroup() with
 *                     the cgroup's fd in bwm_cgroup (kernels whose tracepoint programs
 *                     lack bpf_get_current_ancestor_cgroup_id, e.g. 5.10); 0: that
 *                     helper at BWM_CGROUP_LEVEL compared with BWM_CGROUP_ID
 *   BWM_PIDNS_DEV, BWM_PIDNS_INO  the tool's PID namespace (device and inode of
 *                     /proc/self/ns/pid) when it is not the initial one, else 0:
 *                     every PID, in the filter and in the records, is then that
 *                     namespace's (bpf_get_ns_current_pid_tgid, kernel 5.7+)
 *   BWM_FD_MASK       bit N set: capture fd N (bit 1 stdout, bit 2 stderr)
 *   BWM_SELF_PID      the monitor itself, never captured
 *   BWM_DESCENDANTS   1: also trace descendants (the bwm_monitored map)
 *   BWM_EXCLUDE_KERNEL 1: kernel threads are not registered (see lifecycle.bpf.c)
 *   BWM_EXITS         1: report fork, exec and exit of traced processes
 *   BWM_FORKS         1: the fork probe (-f; a cgroup with -x or --on-failure)
 *   BWM_WANT_COMM     1: fill event.comm of writes (a prefix or JSON needs it)
 *   BWM_MAX_BYTES     payload bytes captured per call (or sendmmsg message)
 *   BWM_CAP           the smallest power of two >= BWM_MAX_BYTES and 32768
 *   BWM_NR_CPUS       possible CPUs (sizes the scratch map)
 *   BWM_PID_MAX       /proc/sys/kernel/pid_max (sizes bwm_monitored)
 *   BWM_EXIT_CODE_OFF offset of task_struct.exit_code in the *running*
 *                     kernel, from its BTF (/sys/kernel/btf/vmlinux); -1 if unknown
 *   BWM_EXIT_HAS_GROUP_DEAD 1 if sched_process_exit has a group_dead field
 *   BWM_ENTRY_EXIT    capture path: 0 exit-only (arguments from the saved user
 *                     registers, bpf_task_pt_regs(), 5.15+ with BTF); 1 entry+exit
 *                     (arguments stashed per thread at syscall entry)
 *   BWM_EXIT_METHOD   how a process's last thread is told (BWM_EXIT_BY_*)
 *   BWM_SIGNAL_OFF, BWM_LIVE_OFF  offsets of task_struct.signal and
 *                     signal_struct.live in the running kernel (BTF); -1 if unknown
 *   BWM_TP(cat, ev)   1 if the running kernel has that tracepoint: probes for
 *                     absent tracepoints compile out
 *   BWM_ALSO(cat, ev, other)  attach the program of cat:ev to cat:other too
 *                     (the same arguments, so the same code; verified once)
 */
#if BWM_PIDNS_INO
/*
 * The tool runs in a PID namespace: the process and thread ids of the
 * current task as that namespace numbers them. The helper answers only for
 * tasks whose active PID namespace is exactly that one; for any other
 * (the host's, a nested one) this returns 0, and PID 0 is never traced.
 */
static __always_inline u64 bwm_ns_pid_tgid(void)
{
	struct bpf_pidns_info ns = {};

	if (bpf_get_ns_current_pid_tgid(BWM_PIDNS_DEV, BWM_PIDNS_INO, &ns, sizeof(ns)))
		return 0;
	return (u64)ns.tgid << 32 | ns.pid;
}

/* The host's ids, for the few places that need them (see bwm_adopt()). */
static __always_inline u64 bwm_host_pid_tgid(void)
{
	return bpf_get_current_pid_tgid();
}

/* From here on, every probe sees the namespace's ids. */
#define bpf_get_current_pid_tgid() bwm_ns_pid_tgid()
#endif

/*
 * The maps, named in event.h (BWM_MAP_*). libbcc rewrites a map's method
 * calls (.lookup(), .perf_submit(), ...) only where the map's name is
 * spelled out, and refuses one made by a macro: so each map's calls are
 * made here, in small accessors right under its declaration, and nowhere
 * else. An accessor left with an old name after a rename in event.h does
 * not compile (the map is declared under the new one).
 */
BPF_PERF_OUTPUT(BWM_MAP_EVENTS);

static __always_inline int bwm_events_submit(void *ctx, void *data, u32 size)
{
	return bwm_events.perf_submit(ctx, data, size);
}

/* 1 while capture is on: set before the write probes attach, cleared first on exit. */
BPF_ARRAY(BWM_MAP_ENABLED, u32, 1);

static __always_inline int bwm_is_enabled(void)
{
	int zero = 0;
	u32 *on = bwm_enabled.lookup(&zero);

	return on && *on;
}

/* Per CPU: what the probes could not send, by slot (BWM_DROP_* in event.h). */
BPF_PERCPU_ARRAY(BWM_MAP_DROPPED, u64, BWM_DROP_SLOTS);

static __always_inline void bwm_dropped_add(int slot, u64 n)
{
	u64 *c = bwm_dropped.lookup(&slot);

	if (c)
		*c += n;
}

static __always_inline void bwm_dropped_count(int slot)
{
	bwm_dropped_add(slot, 1);
}

#if BWM_CGROUP_ID && BWM_CGROUP_UNDER
/* The traced cgroup: slot 0 holds its directory's fd, put there by the frontend after load. */
BPF_CGROUP_ARRAY(BWM_MAP_CGROUP, 1);

/* Is the current task in the traced cgroup or below it? */
static __always_inline int bwm_cgroup_has_current(void)
{
	return bwm_cgroup.check_current_task(0) == 1;
}
#endif

#if BWM_DESCENDANTS
/*
 * Traced processes: thread-group id -> fd mask. 0 excludes a process (the
 * monitor itself, the readers of its output) and, through fork, its children.
 * Entries are made on demand (no preallocation), so sizing it to pid_max
 * costs nothing until processes are added.
 */
BPF_F_TABLE("hash", u32, u32, BWM_MAP_MONITORED, BWM_PID_MAX, BPF_F_NO_PREALLOC);

static __always_inline u32 *bwm_monitored_get(u32 *tgid)
{
	return bwm_monitored.lookup(tgid);
}

static __always_inline int bwm_monitored_set(u32 *tgid, u32 *mask)
{
	return bwm_monitored.update(tgid, mask);
}

static __always_inline int bwm_monitored_del(u32 *tgid)
{
	return bwm_monitored.delete(tgid);
}
#endif

#if BWM_DESCENDANTS && BWM_PIDNS_INO
/*
 * In a PID namespace, sched_process_fork names the child by its host PID
 * only: the child waits here (host tgid -> fd mask) until its first probe
 * hit (a write, fork, exec or exit), where bwm_adopt() moves it into
 * bwm_monitored under its namespace tgid.
 */
BPF_F_TABLE("hash", u32, u32, BWM_MAP_PENDING, BWM_PID_MAX, BPF_F_NO_PREALLOC);

static __always_inline u32 *bwm_pending_get(u32 *host)
{
	return bwm_pending.lookup(host);
}

static __always_inline int bwm_pending_set(u32 *host, u32 *mask)
{
	return bwm_pending.update(host, mask);
}

static __always_inline int bwm_pending_del(u32 *host)
{
	return bwm_pending.delete(host);
}

static __always_inline void bwm_adopt(void)
{
	u32 host = bwm_host_pid_tgid() >> 32, tgid = bpf_get_current_pid_tgid() >> 32, mask;
	u32 *pending = bwm_pending_get(&host);

	if (!pending)
		return;
	mask = *pending;
	bwm_pending_del(&host);
	if (tgid)
		bwm_monitored_set(&tgid, &mask);
}

/* A traced process forked child (a host PID): trace it with mask (non-zero: the map is full). */
static __always_inline int bwm_track_child(u32 *child, u32 *mask)
{
	return bwm_pending_set(child, mask);
}
#elif BWM_DESCENDANTS
static __always_inline void bwm_adopt(void)
{
}

static __always_inline int bwm_track_child(u32 *child, u32 *mask)
{
	return bwm_monitored_set(child, mask);
}
#endif

/*
 * The fds captured for a traced process, from the mask the command line
 * gave. A field hack can widen it: ((mask) | 1 << 3) captures fd 3 too
 * (its lines are labelled "fd3: ").
 */
#define BWM_CAPTURE(mask)	(mask)

/*
 * The fd mask a process is traced with, 0 when it is not. For --pid
 * without descendants this is a few compares; with them, one hash lookup;
 * for a cgroup, one helper call that names the current task's ancestor
 * cgroup at the target's level (so cgroups below it count too), or, where
 * tracepoint programs lack that helper, one that asks whether the current
 * task is in the cgroup of bwm_cgroup or below it (1; 0 no, < 0 an empty slot).
 */
/*
 * A copy of v the compiler knows nothing about. The filter compares copies, so
 * that clang cannot fold a compared PID into the records it writes (the
 * compile cache patches the PID constants in the compares only), and each
 * compare with a patched constant (BWM_SELF_PID, BWM_TARGET_PID) gets a copy
 * of its own, so that clang cannot merge it with the others: the value
 * decides how (0 or 2 and the monitor's PID 2 make one masked compare), so a
 * compile with placeholders would not be the compile with the values
 * (tests/prove/prove_cache.c proves every shape).
 */
static __always_inline u32 bwm_opaque(u32 v)
{
	asm volatile("" : "+r"(v));
	return v;
}

static __always_inline u32 bwm_mask_of(u32 id)
{
	u32 tgid = bwm_opaque(id);

	if (!tgid || bwm_opaque(tgid) == BWM_SELF_PID || BWM_IS_EXCLUDED(tgid))
		return 0;
#if BWM_CGROUP_ID && BWM_CGROUP_UNDER
	return bwm_cgroup_has_current() ? BWM_CAPTURE(BWM_FD_MASK) : 0;
#elif BWM_CGROUP_ID
	return bpf_get_current_ancestor_cgroup_id(BWM_CGROUP_LEVEL) == BWM_CGROUP_ID ?
	       BWM_CAPTURE(BWM_FD_MASK) : 0;
#elif BWM_DESCENDANTS
	u32 *mask = bwm_monitored_get(&tgid);

	if (!mask && BWM_PIDNS_INO != 0) {
		bwm_adopt();
		mask = bwm_monitored_get(&tgid);
	}
	return mask && *mask ? BWM_CAPTURE(*mask) : 0;
#else
	return BWM_IS_TARGET(tgid) ? BWM_CAPTURE(BWM_FD_MASK) : 0;
#endif
}

/*
 * Queue a record for user space; count a failure in bwm_dropped. A full
 * buffer counts its losses too, but reports them only with its next record,
 * which may never come (a burst that ends while the reader is behind): the
 * frontend takes the larger of the two counts. Returns 1 when the record was
 * refused, 0 when queued, with no branch (so that a loop of submits stays
 * cheap to verify): the caller adds the bytes written that refused records
 * stood for to BWM_DROP_BYTES once.
 */
static __always_inline u64 bwm_submit(void *ctx, void *data, u32 size)
{
	int rc = bwm_events_submit(ctx, data, size);
	u64 r = (u64)(s64)rc;

	if (rc != 0)
		bwm_dropped_count(rc == -BWM_ENOSPC ? BWM_DROP_FULL : BWM_DROP_NO_BUFFER);
	return (r | -r) >> 63;
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
	else	/* two 8-byte stores (comm is 8-byte aligned), not 16 single bytes */
		((u64 *)h->comm)[0] = ((u64 *)h->comm)[1] = 0;
}

/* How the exit probe tells a process's last thread (BWM_EXIT_METHOD). */
#define BWM_EXIT_BY_GROUP_DEAD	1	/* the tracepoint's group_dead field (6.x kernels) */
#define BWM_EXIT_BY_SIGNAL_LIVE	2	/* task->signal->live, offsets from BTF */
#define BWM_EXIT_BY_PROC	3	/* user space checks /proc at each thread's exit */

/* The first three arguments of the syscall being traced, and its number. */
struct bwm_args {
	u64 arg1;
	u64 arg2;
	u64 arg3;
	u64 nr;
};

#if BWM_ENTRY_EXIT
/*
 * Entry+exit path: the sys_enter_* probes of traced threads stash the
 * arguments here, keyed by thread id; the sys_exit_* probe takes them out
 * (lookup, then delete). A thread has at most one syscall in flight. A
 * thread that dies inside a syscall leaves its entry: the exit probe of the
 * thread removes it. Preallocated (allocating in a tracing program is what
 * 5.10 warns about): BWM_MAX_INFLIGHT calls of traced threads at once; a
 * call beyond that is counted as lost.
 */
#define BWM_MAX_INFLIGHT	16384
BPF_F_TABLE("hash", u32, struct bwm_args, BWM_MAP_CALLS, BWM_MAX_INFLIGHT, 0);

/* Stash the arguments of a call entered by a traced thread; 0 if not stashed. */
static __always_inline int bwm_stash(u32 tid, const struct bwm_args *a)
{
	return bwm_calls.update(&tid, (struct bwm_args *)a) == 0;
}

/* Forget a stashed call (its thread died in it). */
static __always_inline void bwm_unstash(u32 tid)
{
	bwm_calls.delete(&tid);
}

/* Take the stashed arguments of this thread's call; 0 if there are none. */
static __always_inline int bwm_take(u32 tid, struct bwm_args *a)
{
	struct bwm_args *s = bwm_calls.lookup(&tid);

	if (!s)
		return 0;
	*a = *s;
	bwm_unstash(tid);
	return 1;
}
#else
/*
 * Exit-only path: the arguments come from the user registers the task saved
 * on entry (bpf_task_pt_regs(); the layout is the arch header's BWM_ARGn).
 */
#include <uapi/linux/ptrace.h>

static __always_inline struct pt_regs *bwm_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline void bwm_args_from_regs(struct bwm_args *a)
{
	struct pt_regs *regs = bwm_regs();

	a->arg1 = BWM_ARG1(regs);
	a->arg2 = BWM_ARG2(regs);
	a->arg3 = BWM_ARG3(regs);
	a->nr = BWM_NR(regs);
}
#endif

/*
 * A sys_enter_* tracepoint's record: the common fields, the syscall number,
 * then every argument as 8 bytes, whatever the syscall (the layout
 * kernel/trace/trace_syscalls.c gives them all).
 */
struct bwm_enter {
	u64 common;
	s32 nr;
	u32 pad;
	u64 arg[3];
};
