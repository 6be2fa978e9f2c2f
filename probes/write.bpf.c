/* SPDX-License-Identifier: GPL-2.0 */
/*
 * write.bpf.c - capture what monitored processes write to the selected fds.
 *
 * A BCC program template: the frontend pastes probes/event.h above this file
 * and a block of constants above that (see them with `bpf_write_monitor --ebpf`):
 *
 *   BWM_TARGET_PID    the traced process (thread-group id)
 *   BWM_FD_MASK       bit N set: capture fd N (bit 1 stdout, bit 2 stderr)
 *   BWM_SELF_PID      the monitor itself, never captured
 *   BWM_WANT_COMM     1: fill event.comm (a prefix or JSON needs it)
 *   BWM_MAX_BYTES     payload bytes captured per call (a power of two)
 *   BWM_TP(cat, ev)   1 if the running kernel has that tracepoint: probes for
 *                     absent tracepoints compile out
 *
 * Every probe is on a syscall *exit*: by then the return value says how many
 * bytes were really written, so a failed call (EAGAIN, EPIPE, EBADF) sends
 * nothing and a short write sends only what was written. The arguments come
 * from the registers the task saved on syscall entry (see BWM_ARG below).
 *
 * Filter first, copy later: a write by any other process costs one compare.
 */
#include <uapi/linux/ptrace.h>

/* Arguments as user space passed them: struct iovec, msghdr, mmsghdr (UAPI). */
struct bwm_iovec {
	u64 base;
	u64 len;
};

struct bwm_msghdr {
	u64 name;
	u32 namelen;
	u32 pad;
	u64 iov;	/* struct iovec * */
	u64 iovlen;
	u64 control;
	u64 controllen;
	u32 flags;
	u32 pad2;
};

struct bwm_mmsghdr {
	struct bwm_msghdr hdr;
	u32 len;	/* bytes sent for this message, filled in by the kernel */
	u32 pad;
};

struct bwm_record {
	struct bwm_event ev;
	char data[BWM_MAX_BYTES];
};

BPF_PERF_OUTPUT(bwm_events);
/* 1 while capture is on: set after the write probes' preconditions, cleared first on exit. */
BPF_ARRAY(bwm_enabled, u32, 1);
/* One record per CPU: a 4 KiB record does not fit the 512-byte BPF stack. */
BPF_PERCPU_ARRAY(bwm_scratch, struct bwm_record, 1);

/*
 * The syscall's arguments, read at its exit from the user registers the task
 * saved on entry (bpf_task_pt_regs(), no struct layout of ours involved). On
 * x86-64 the syscall ABI passes arguments in di, si, dx and the kernel only
 * writes the return value to ax, so they still hold what the caller passed.
 */
#define BWM_ARG1(r) ((r)->di)
#define BWM_ARG2(r) ((r)->si)
#define BWM_ARG3(r) ((r)->dx)

static __always_inline struct pt_regs *bwm_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* The fd mask the process is monitored with, 0 when it is not. */
static __always_inline u32 bwm_mask_of(u32 tgid)
{
	return tgid == BWM_TARGET_PID && tgid != BWM_SELF_PID ? BWM_FD_MASK : 0;
}

static __always_inline int bwm_is_enabled(void)
{
	int zero = 0;
	u32 *on = bwm_enabled.lookup(&zero);

	return on && *on;
}

/*
 * Prologue of every probe: the caller's fd mask when this call is worth a
 * look (monitored process, bytes written, capture on), 0 otherwise.
 */
static __always_inline u32 bwm_begin(u64 id, long ret)
{
	u32 mask = bwm_mask_of(id >> 32);

	if (!mask || ret <= 0 || !bwm_is_enabled())
		return 0;
	return mask;
}

static __always_inline int bwm_fd_ok(u32 mask, u64 fd)
{
	return fd < 32 && (mask & (1u << fd));
}

static __always_inline struct bwm_record *bwm_record_start(u64 id, int type, int fd, u64 total)
{
	int zero = 0;
	struct bwm_record *r = bwm_scratch.lookup(&zero);

	if (!r)
		return 0;
	r->ev.ts = bpf_ktime_get_ns();
	r->ev.total = total;
	r->ev.offset = 0;
	r->ev.tgid = id >> 32;
	r->ev.tid = (u32)id;
	r->ev.len = 0;
	r->ev.type = type;
	r->ev.fd = fd;
	r->ev.flags = BWM_F_FIRST | BWM_F_LAST;
	r->ev.pad = 0;
#if BWM_WANT_COMM
	bpf_get_current_comm(&r->ev.comm, sizeof(r->ev.comm));
#endif
	return r;
}

/* Send up to BWM_MAX_BYTES of the n bytes at user address buf; total were written. */
static __always_inline int bwm_send_bytes(void *ctx, u64 id, int fd, u64 buf, u64 n, u64 total)
{
	struct bwm_record *r = bwm_record_start(id, BWM_EV_WRITE, fd, total);

	if (!r)
		return 0;
	if (n > total)
		n = total;
	if (n > BWM_MAX_BYTES)
		n = BWM_MAX_BYTES;
	/* Keep the bound visible to the verifier after clang's rewrites. */
	asm volatile("%0 &= %1" : "+r"(n) : "i"(2 * BWM_MAX_BYTES - 1));
	if (n > BWM_MAX_BYTES)
		return 0;
	if (bpf_probe_read_user(r->data, n, (void *)buf) != 0)
		n = 0;
	r->ev.len = n;
	bwm_events.perf_submit(ctx, r, sizeof(r->ev) + n);
	return 0;
}

/* write(fd, buf, count), pwrite64(), sendto(): one user buffer. */
static __always_inline int bwm_buffer(void *ctx, long ret)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 mask = bwm_begin(id, ret);
	struct pt_regs *regs;

	if (!mask)
		return 0;
	regs = bwm_regs();
	if (!bwm_fd_ok(mask, BWM_ARG1(regs)))
		return 0;
	return bwm_send_bytes(ctx, id, BWM_ARG1(regs), BWM_ARG2(regs), ret, ret);
}

/* The first iovec of an array (the seed's limit); total bytes were written. */
static __always_inline int bwm_iov(void *ctx, u64 id, int fd, u64 iov, long total)
{
	struct bwm_iovec v = {};

	if (bpf_probe_read_user(&v, sizeof(v), (void *)iov) != 0)
		return 0;
	return bwm_send_bytes(ctx, id, fd, v.base, v.len, total);
}

/* writev(fd, iov, vlen), pwritev(), pwritev2(), vmsplice(). */
static __always_inline int bwm_vector(void *ctx, long ret)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 mask = bwm_begin(id, ret);
	struct pt_regs *regs;

	if (!mask)
		return 0;
	regs = bwm_regs();
	if (!bwm_fd_ok(mask, BWM_ARG1(regs)))
		return 0;
	return bwm_iov(ctx, id, BWM_ARG1(regs), BWM_ARG2(regs), ret);
}

/*
 * splice(), sendfile(), copy_file_range(): the bytes never pass through user
 * space, so only their count is sent. fd_arg: which argument is the output fd.
 */
static __always_inline int bwm_transfer(void *ctx, long ret, int fd_arg)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 mask = bwm_begin(id, ret);
	struct bwm_record *r;
	struct pt_regs *regs;
	u64 fd;

	if (!mask)
		return 0;
	regs = bwm_regs();
	fd = fd_arg == 1 ? BWM_ARG1(regs) : BWM_ARG3(regs);
	if (!bwm_fd_ok(mask, fd))
		return 0;
	r = bwm_record_start(id, BWM_EV_XFER, fd, ret);
	if (r)
		bwm_events.perf_submit(ctx, r, sizeof(r->ev));
	return 0;
}

#if BWM_TP(syscalls, sys_exit_write)
TRACEPOINT_PROBE(syscalls, sys_exit_write)
{
	return bwm_buffer(args, args->ret);
}
#endif

#if BWM_TP(syscalls, sys_exit_pwrite64)
TRACEPOINT_PROBE(syscalls, sys_exit_pwrite64)
{
	return bwm_buffer(args, args->ret);
}
#endif

#if BWM_TP(syscalls, sys_exit_sendto)
TRACEPOINT_PROBE(syscalls, sys_exit_sendto)
{
	return bwm_buffer(args, args->ret);
}
#endif

#if BWM_TP(syscalls, sys_exit_writev)
TRACEPOINT_PROBE(syscalls, sys_exit_writev)
{
	return bwm_vector(args, args->ret);
}
#endif

#if BWM_TP(syscalls, sys_exit_pwritev)
TRACEPOINT_PROBE(syscalls, sys_exit_pwritev)
{
	return bwm_vector(args, args->ret);
}
#endif

#if BWM_TP(syscalls, sys_exit_pwritev2)
TRACEPOINT_PROBE(syscalls, sys_exit_pwritev2)
{
	return bwm_vector(args, args->ret);
}
#endif

#if BWM_TP(syscalls, sys_exit_vmsplice)
TRACEPOINT_PROBE(syscalls, sys_exit_vmsplice)
{
	return bwm_vector(args, args->ret);
}
#endif

#if BWM_TP(syscalls, sys_exit_sendmsg)
/* sendmsg(fd, msg, flags): the first iovec of the message. */
TRACEPOINT_PROBE(syscalls, sys_exit_sendmsg)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 mask = bwm_begin(id, args->ret);
	struct bwm_msghdr m = {};
	struct pt_regs *regs;

	if (!mask)
		return 0;
	regs = bwm_regs();
	if (!bwm_fd_ok(mask, BWM_ARG1(regs)) ||
	    bpf_probe_read_user(&m, sizeof(m), (void *)BWM_ARG2(regs)) != 0)
		return 0;
	return bwm_iov(args, id, BWM_ARG1(regs), m.iov, args->ret);
}
#endif

#if BWM_TP(syscalls, sys_exit_sendmmsg)
/* sendmmsg(fd, msgvec, vlen, flags) returns a message count: the first message. */
TRACEPOINT_PROBE(syscalls, sys_exit_sendmmsg)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 mask = bwm_begin(id, args->ret);
	struct bwm_mmsghdr m = {};
	struct pt_regs *regs;

	if (!mask)
		return 0;
	regs = bwm_regs();
	if (!bwm_fd_ok(mask, BWM_ARG1(regs)) ||
	    bpf_probe_read_user(&m, sizeof(m), (void *)BWM_ARG2(regs)) != 0 || m.len == 0)
		return 0;
	return bwm_iov(args, id, BWM_ARG1(regs), m.hdr.iov, m.len);
}
#endif

#if BWM_TP(syscalls, sys_exit_splice)
/* splice(fd_in, off_in, fd_out, off_out, len, flags) */
TRACEPOINT_PROBE(syscalls, sys_exit_splice)
{
	return bwm_transfer(args, args->ret, 3);
}
#endif

#if BWM_TP(syscalls, sys_exit_sendfile64)
/* sendfile(out_fd, in_fd, offset, count) */
TRACEPOINT_PROBE(syscalls, sys_exit_sendfile64)
{
	return bwm_transfer(args, args->ret, 1);
}
#endif

#if BWM_TP(syscalls, sys_exit_copy_file_range)
/* copy_file_range(fd_in, off_in, fd_out, off_out, len, flags) */
TRACEPOINT_PROBE(syscalls, sys_exit_copy_file_range)
{
	return bwm_transfer(args, args->ret, 3);
}
#endif
