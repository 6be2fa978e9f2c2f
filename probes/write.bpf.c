/* SPDX-License-Identifier: GPL-2.0 */
/*
 * write.bpf.c - capture what traced processes write to the selected fds.
 *
 * Bytes are copied at a syscall's *exit*: by then the return value says how
 * many were really written, so a failed call (EAGAIN, EPIPE, EBADF) sends
 * nothing and a short write sends only what was written. The arguments come,
 * on the exit-only path, from the registers the task saved on syscall entry;
 * on the entry+exit path (kernels without bpf_task_pt_regs() or BTF), from
 * what the sys_enter_* probes at the end of this file stashed for the thread
 * (see common.bpf.h). Both paths send the same records.
 *
 * Filter first, copy later: a write by any other process costs one compare
 * (one map lookup with descendants).
 *
 * A call's bytes (every iovec, in order, up to BWM_MAX_BYTES) are gathered in
 * a per-CPU scratch buffer, then sent as records of up to BWM_CHUNK bytes,
 * each carrying only its bytes (a perf record must stay under 64 KiB).
 * libbcc 0.26 links neither BPF-to-BPF calls nor bpf_loop() callbacks, and a
 * tail-call program array can leak in the kernel when its last user
 * reference races with a map lookup by id, so the loops are plain bounded
 * loops, kept small so that the verifier's work stays small.
 */

#define BWM_CHUNK	32768	/* payload bytes per record */
#define BWM_MAX_CHUNKS	((BWM_MAX_BYTES + BWM_CHUNK - 1) / BWM_CHUNK)
#define BWM_MAX_IOV	1024	/* UIO_MAXIOV: the kernel takes no more per call */
#define BWM_MAX_MSGS	32	/* sendmmsg messages walked per call; more are reported */
#define BWM_MSG_IOV	8	/* iovecs walked per sendmmsg message; more are reported */
#define BWM_MSG_MAX	(BWM_MAX_BYTES < BWM_CHUNK ? BWM_MAX_BYTES : BWM_CHUNK) /* per message */

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

/*
 * Per-CPU scratch: loop state, room for a record header, then the gathered
 * bytes. A copy may start anywhere below BWM_CAP and be up to BWM_CAP long,
 * hence 2x. Loop state lives here, not in registers or on the stack, because
 * the verifier does not track map values: every path through a loop body
 * then reaches the next iteration in the same state, and is pruned.
 */
struct bwm_scratch {
	u64 pos;	/* bytes gathered */
	u64 cap;	/* bytes that may be gathered */
	u64 err;	/* non-zero: a read failed (bwm_send(): flags of a refused record) */
	u64 sum;	/* bytes: of messages beyond the walk; of refused records */
	struct bwm_event ev;
	char data[2 * BWM_CAP];
};
_Static_assert(__builtin_offsetof(struct bwm_scratch, data) ==
	       __builtin_offsetof(struct bwm_scratch, ev) + sizeof(struct bwm_event) &&
	       __builtin_offsetof(struct bwm_scratch, data) % 8 == 0 &&
	       sizeof(struct bwm_event) % 8 == 0, "bwm_send(): the header lies right before data");

/*
 * One scratch per CPU, indexed by CPU number: it is too big for the 512-byte
 * stack and for a per-CPU map value (32 KiB at most). Programs on one CPU do
 * not nest: the kernel skips a BPF program while another runs on that CPU.
 */
BPF_ARRAY(BWM_MAP_SCRATCH, struct bwm_scratch, BWM_NR_CPUS);

static __always_inline struct bwm_scratch *bwm_scratch_get(void)
{
	u32 cpu = bpf_get_smp_processor_id();

	return bwm_scratch.lookup(&cpu);
}

static __always_inline int bwm_fd_ok(u32 mask, u64 fd)
{
	return fd < 32 && (mask & (1u << fd));
}

/*
 * The arguments of a call worth capturing: a traced process, bytes written,
 * capture on, and an output fd (argument fd_arg: 1 or 3) that is selected.
 * 0 otherwise; *fd gets the fd. On the entry+exit path the stashed arguments
 * are taken out whatever the call returned. nr: the syscall's number.
 */
static __always_inline int bwm_call(u64 id, long nr, long ret, int fd_arg, struct bwm_args *a,
				    u64 *fd)
{
	u32 mask = bwm_mask_of(id >> 32);

	if (!mask)
		return 0;
#if BWM_ENTRY_EXIT
	if (!bwm_take((u32)id, a) || a->nr != nr)
		return 0;	/* none, or left by a call entered before the exit probes */
#endif
	if (ret <= 0 || !bwm_is_enabled())
		return 0;
#if !BWM_ENTRY_EXIT
	bwm_args_from_regs(a);
#endif
	*fd = fd_arg == 1 ? a->arg1 : a->arg3;
	return bwm_fd_ok(mask, *fd);
}

static __always_inline u64 bwm_min(u64 a, u64 b)
{
	return a < b ? a : b;
}

/*
 * Append up to n bytes from user address src at data[pos]; returns the new
 * pos (pos itself when nothing could be read). pos < BWM_CAP.
 */
static __always_inline u64 bwm_gather(struct bwm_scratch *s, u64 pos, u64 src, u64 n)
{
	if (n > BWM_CAP)
		n = BWM_CAP;
	/* Keep the bound visible to the verifier after clang's rewrites. */
	asm volatile("" : "+r"(n));
	if (n > BWM_CAP)
		return pos;
	if (bpf_probe_read_user(s->data + (pos & (BWM_CAP - 1)), n, (void *)src) != 0)
		return pos;
	return pos + n;
}

/*
 * Loop state kept in the scratch map and accessed through volatile, so that
 * clang reloads it and the verifier, which does not track map values, sees
 * every path through a loop body reach the next iteration in the same state.
 * Without this, per-path copies of the state defeat pruning and a 1024-step
 * loop costs the verifier a million instructions.
 */
#define BWM_GET(field)		(*(volatile u64 *)&(field))
#define BWM_SET(field, v)	(*(volatile u64 *)&(field) = (v))

/*
 * Send the n gathered bytes as records of up to BWM_CHUNK bytes (at most
 * max records), each its header followed by its bytes. The header is built
 * in s->ev, right before s->data: the first record is sent where it lies,
 * with no copy (the common case: one short write); a later one's header is
 * copied just before its bytes, over bytes already sent. The flags the
 * caller set in s->ev (BWM_F_UNWALKED, BWM_F_MMSG) go with every record. A
 * record refused counts its bytes (the last also the call's uncaptured rest).
 */
static __always_inline void bwm_send(void *ctx, struct bwm_scratch *s, u64 n, int max)
{
	u8 keep = s->ev.flags & (BWM_F_UNWALKED | BWM_F_MMSG);
	int c;

	BWM_SET(s->sum, 0);	/* payload of refused records (in the map: see BWM_GET) */
	BWM_SET(s->err, 0);	/* flags of the last one refused */

	for (c = 0; c < max; c++) {
		u64 off = (u64)c * BWM_CHUNK, len;
		struct bwm_event *rec;

		if (c > 0 && off >= n)
			break;
		len = off < n ? bwm_min(n - off, BWM_CHUNK) : 0;
		asm volatile("" : "+r"(len));
		if (len > BWM_CHUNK || off > BWM_CAP - BWM_CHUNK)
			break;
		/* 8-byte aligned: s->data is, and so are sizeof(*rec) and off */
		rec = (struct bwm_event *)(s->data + off - sizeof(*rec));
		if (c > 0)
			*rec = s->ev;
		rec->len = len;
		rec->offset = off;
		rec->flags = keep | (c == 0 ? BWM_F_FIRST : 0) | (off + len >= n ? BWM_F_LAST : 0);
		/* refused: its bytes, and the last one also the call's rest */
		if (bwm_submit(ctx, rec, sizeof(*rec) + len)) {
			/* in the map, and no compare with n: the verifier's paths stay few */
			BWM_SET(s->sum, BWM_GET(s->sum) + len);
			BWM_SET(s->err, *(volatile u8 *)&rec->flags);
		}
	}
	if (BWM_GET(s->sum))	/* the last record refused also stood for the call's rest */
		bwm_dropped_add(BWM_DROP_BYTES, BWM_GET(s->sum) + (BWM_GET(s->err) & BWM_F_LAST &&
				s->ev.total > n ? s->ev.total - n : 0));
}

/*
 * Gather an iovec array (at most max entries) up to cap bytes; returns the
 * bytes gathered, or 0 when a buffer could not be read (the call is then
 * reported as not captured rather than shown with holes). Kept nearly free
 * of branches: each one multiplies the paths the verifier walks per step.
 * When iovecs are left past max with room left, s->ev gets BWM_F_UNWALKED:
 * the bytes the walk did not reach are then told apart from --max-bytes.
 */
static __always_inline u64 bwm_gather_iov(struct bwm_scratch *s, u64 iov, u64 vlen, u64 cap,
					  int max)
{
	int i;

	BWM_SET(s->pos, 0);
	BWM_SET(s->cap, cap);
	BWM_SET(s->err, 0);
#pragma clang loop unroll(disable)
	for (i = 0; i < max; i++) {
		struct bwm_iovec v = {};
		u64 pos = BWM_GET(s->pos), n;
		long rc;

		if (i >= vlen || pos >= BWM_GET(s->cap))
			break;
		rc = bpf_probe_read_user(&v, sizeof(v), (void *)(iov + i * sizeof(v)));
		n = bwm_min(v.len, BWM_GET(s->cap) - pos);
		if (n) {
			/* 1 <= n <= BWM_CAP, and visibly so to the verifier */
			n = ((n - 1) & (BWM_CAP - 1)) + 1;
			rc |= bpf_probe_read_user(s->data + (pos & (BWM_CAP - 1)), n,
						  (void *)v.base);
		}
		BWM_SET(s->err, BWM_GET(s->err) | rc);
		BWM_SET(s->pos, pos + n);
	}
	if (vlen > max && BWM_GET(s->pos) < BWM_GET(s->cap))
		s->ev.flags |= BWM_F_UNWALKED;
	return BWM_GET(s->err) ? 0 : BWM_GET(s->pos);
}

/* write(fd, buf, count), pwrite64(), sendto(): one user buffer. */
static __always_inline int bwm_buffer(void *ctx, long nr, long ret)
{
	u64 id = bpf_get_current_pid_tgid(), fd, n;
	struct bwm_args a = {};
	struct bwm_scratch *s;

	if (!bwm_call(id, nr, ret, 1, &a, &fd) || !(s = bwm_scratch_get()))
		return 0;
	bwm_header(&s->ev, id, BWM_EV_WRITE, fd, ret);
	n = bwm_gather(s, 0, a.arg2, bwm_min(ret, BWM_MAX_BYTES));
	bwm_send(ctx, s, n, BWM_MAX_CHUNKS);
	return 0;
}

/* Capture a call that wrote ret bytes from an iovec array of vlen entries. */
static __always_inline int bwm_iovecs(void *ctx, u64 id, u64 fd, u64 iov, u64 vlen, long ret)
{
	struct bwm_scratch *s = bwm_scratch_get();
	u64 n;

	if (!s)
		return 0;
	bwm_header(&s->ev, id, BWM_EV_WRITE, fd, ret);
	n = bwm_gather_iov(s, iov, vlen, bwm_min(ret, BWM_MAX_BYTES), BWM_MAX_IOV);
	bwm_send(ctx, s, n, BWM_MAX_CHUNKS);
	return 0;
}

/*
 * splice(), sendfile(), copy_file_range(): the bytes never pass through user
 * space, so only their count is sent. fd_arg: which argument is the output fd.
 */
static __always_inline int bwm_transfer(void *ctx, long nr, long ret, int fd_arg)
{
	u64 id = bpf_get_current_pid_tgid(), fd;
	struct bwm_args a = {};
	struct bwm_event h;

	if (!bwm_call(id, nr, ret, fd_arg, &a, &fd))
		return 0;
	bwm_header(&h, id, BWM_EV_XFER, fd, ret);
	h.flags = BWM_F_FIRST | BWM_F_LAST;
	if (bwm_submit(ctx, &h, sizeof(h)))
		bwm_dropped_add(BWM_DROP_BYTES, ret);
	return 0;
}

#if BWM_TP(syscalls, sys_exit_write)
/* write(fd, buf, count); pwrite64() and sendto() take the same first three. */
TRACEPOINT_PROBE(syscalls, sys_exit_write)
{
	return bwm_buffer(args, args->__syscall_nr, args->ret);
}
BWM_ALSO(syscalls, sys_exit_write, sys_exit_pwrite64)
BWM_ALSO(syscalls, sys_exit_write, sys_exit_sendto)
#endif

#if BWM_TP(syscalls, sys_exit_writev)
/*
 * writev(fd, iov, vlen); pwritev(), pwritev2() and vmsplice() take the same
 * first three, and sendmsg(fd, msg, flags) has its iovecs in msg. One
 * program for them all, so that the iovec loop is verified once.
 */
TRACEPOINT_PROBE(syscalls, sys_exit_writev)
{
	u64 id = bpf_get_current_pid_tgid(), fd, iov, vlen;
	struct bwm_args a = {};

	if (!bwm_call(id, args->__syscall_nr, args->ret, 1, &a, &fd))
		return 0;
	iov = a.arg2;
	vlen = a.arg3;
	if (args->__syscall_nr == BWM_NR_SENDMSG) {
		struct bwm_msghdr m = {};

		if (bpf_probe_read_user(&m, sizeof(m), (void *)iov) != 0)
			return 0;
		iov = m.iov;
		vlen = m.iovlen;
	}
	return bwm_iovecs(args, id, fd, iov, vlen, args->ret);
}
BWM_ALSO(syscalls, sys_exit_writev, sys_exit_pwritev)
BWM_ALSO(syscalls, sys_exit_writev, sys_exit_pwritev2)
BWM_ALSO(syscalls, sys_exit_writev, sys_exit_vmsplice)
BWM_ALSO(syscalls, sys_exit_writev, sys_exit_sendmsg)
#endif

#if BWM_TP(syscalls, sys_exit_sendmmsg)
/*
 * The bytes of messages from..to-1 of a sendmmsg() vector (their msg_len),
 * at most BWM_MAX_IOV (UIO_MAXIOV: the kernel sends no more per call). The
 * sum lives in the scratch map, as the iovec walk's state does.
 */
static __always_inline u64 bwm_msgs_bytes(struct bwm_scratch *s, u64 vec, u64 to)
{
	int i;

	BWM_SET(s->sum, 0);
#pragma clang loop unroll(disable)
	for (i = BWM_MAX_MSGS; i < BWM_MAX_IOV; i++) {
		u32 len = 0;

		if (i >= to)
			break;
		bpf_probe_read_user(&len, sizeof(len), (void *)(vec + i * sizeof(struct bwm_mmsghdr) +
				    __builtin_offsetof(struct bwm_mmsghdr, len)));
		BWM_SET(s->sum, BWM_GET(s->sum) + len);
	}
	return BWM_GET(s->sum);
}

/*
 * sendmmsg(fd, msgvec, vlen, flags) returns how many messages were sent; the
 * kernel stored each one's byte count in its msg_len. Each message is a
 * write of its own; messages past BWM_MAX_MSGS are one record, their count
 * and bytes.
 */
TRACEPOINT_PROBE(syscalls, sys_exit_sendmmsg)
{
	u64 id = bpf_get_current_pid_tgid(), fd, vec;
	struct bwm_args a = {};
	struct bwm_scratch *s;
	struct bwm_event h;
	int i;

	if (!bwm_call(id, args->__syscall_nr, args->ret, 1, &a, &fd) || !(s = bwm_scratch_get()))
		return 0;
	vec = a.arg2;
	for (i = 0; i < BWM_MAX_MSGS; i++) {
		struct bwm_mmsghdr m = {};
		u64 n;

		if (i >= args->ret ||
		    bpf_probe_read_user(&m, sizeof(m), (void *)(vec + i * sizeof(m))) != 0)
			break;
		bwm_header(&s->ev, id, BWM_EV_WRITE, fd, m.len);
		s->ev.flags = BWM_F_MMSG;
		n = bwm_gather_iov(s, m.hdr.iov, m.hdr.iovlen, bwm_min(m.len, BWM_MSG_MAX),
				   BWM_MSG_IOV);
		bwm_send(args, s, n, 1);
	}
	if (args->ret > BWM_MAX_MSGS) {
		bwm_header(&h, id, BWM_EV_WRITE, fd, bwm_msgs_bytes(s, vec, args->ret));
		h.offset = args->ret - BWM_MAX_MSGS;
		h.flags = BWM_F_FIRST | BWM_F_LAST | BWM_F_MSGS_SKIPPED;
		if (bwm_submit(args, &h, sizeof(h)))
			bwm_dropped_add(BWM_DROP_BYTES, h.total);
	}
	return 0;
}
#endif

#if BWM_TP(syscalls, sys_exit_splice)
/* splice(fd_in, off_in, fd_out, off_out, len, flags); copy_file_range() alike. */
TRACEPOINT_PROBE(syscalls, sys_exit_splice)
{
	return bwm_transfer(args, args->__syscall_nr, args->ret, 3);
}
BWM_ALSO(syscalls, sys_exit_splice, sys_exit_copy_file_range)
#endif

#if BWM_TP(syscalls, sys_exit_sendfile64)
/* sendfile(out_fd, in_fd, offset, count) */
TRACEPOINT_PROBE(syscalls, sys_exit_sendfile64)
{
	return bwm_transfer(args, args->__syscall_nr, args->ret, 1);
}
#endif

#if BWM_ENTRY_EXIT
/*
 * Entry+exit path: at the entry of each syscall above, a traced thread's
 * call to a selected fd has its arguments stashed for the exit probe (the
 * same cheap filter first). Each probe is its own program: a sys_enter_*
 * record has the same layout for every syscall (struct bwm_enter).
 */
static __always_inline int bwm_enter(const void *ctx)
{
	const struct bwm_enter *e = ctx;
	u64 id = bpf_get_current_pid_tgid();
	u32 mask = bwm_mask_of(id >> 32);
	struct bwm_args a;

	if (!mask || !bwm_is_enabled())
		return 0;
	a.arg1 = e->arg[0];
	a.arg2 = e->arg[1];
	a.arg3 = e->arg[2];
	a.nr = e->nr;
	if (!bwm_fd_ok(mask, a.nr == BWM_NR_SPLICE || a.nr == BWM_NR_COPY_FILE_RANGE ?
		       a.arg3 : a.arg1))
		return 0;
	if (!bwm_stash((u32)id, &a))
		bwm_dropped_count(BWM_DROP_UNSTASHED);	/* not captured: its bytes are unknown */
	return 0;
}

#if BWM_TP(syscalls, sys_enter_write)
TRACEPOINT_PROBE(syscalls, sys_enter_write) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_pwrite64)
TRACEPOINT_PROBE(syscalls, sys_enter_pwrite64) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_sendto)
TRACEPOINT_PROBE(syscalls, sys_enter_sendto) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_writev)
TRACEPOINT_PROBE(syscalls, sys_enter_writev) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_pwritev)
TRACEPOINT_PROBE(syscalls, sys_enter_pwritev) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_pwritev2)
/*
 * libbcc declares the record with the kernel's field types; pwritev2's flags
 * is an rwf_t, which no header included here defines. (No header is
 * included after this point, so the name cannot clash.)
 */
#define rwf_t int
TRACEPOINT_PROBE(syscalls, sys_enter_pwritev2) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_vmsplice)
TRACEPOINT_PROBE(syscalls, sys_enter_vmsplice) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_sendmsg)
TRACEPOINT_PROBE(syscalls, sys_enter_sendmsg) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_sendmmsg)
TRACEPOINT_PROBE(syscalls, sys_enter_sendmmsg) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_splice)
TRACEPOINT_PROBE(syscalls, sys_enter_splice) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_copy_file_range)
TRACEPOINT_PROBE(syscalls, sys_enter_copy_file_range) { return bwm_enter(args); }
#endif
#if BWM_TP(syscalls, sys_enter_sendfile64)
TRACEPOINT_PROBE(syscalls, sys_enter_sendfile64) { return bwm_enter(args); }
#endif
#endif /* BWM_ENTRY_EXIT */
