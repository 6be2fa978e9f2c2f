/* SPDX-License-Identifier: GPL-2.0 */
/*
 * event.h - the one definition of what the BPF side sends to user space.
 *
 * Included by the frontend (src/) and pasted, with a #line marker, at the top
 * of the BPF program text, so both sides always agree on the layout.
 */
#ifndef BWM_EVENT_H
#define BWM_EVENT_H

#include <linux/types.h>

#define BWM_COMM_LEN	16

/*
 * The maps both sides use, named once: the templates declare them with these
 * names (BPF_PERF_OUTPUT(BWM_MAP_EVENTS), ...) and the frontend looks them up
 * by BWM_MAP_NAME(BWM_MAP_EVENTS). libbcc refuses a map method call made
 * through a macro ("cannot use map function inside a macro"), so each map's
 * calls are spelled out once, in the accessors right under its declaration
 * (bwm_events_submit(), bwm_monitored_get(), ...); the rest of the templates
 * call those. A rename here leaves those accessors naming a map that is no
 * longer declared: the compile says where to change them.
 */
#define BWM_MAP_EVENTS		bwm_events	/* perf buffers to user space */
#define BWM_MAP_ENABLED		bwm_enabled	/* the global capture flag */
#define BWM_MAP_DROPPED		bwm_dropped	/* records the probes could not queue */
#define BWM_MAP_MONITORED	bwm_monitored	/* traced processes (with descendants) */
#define BWM_MAP_PENDING		bwm_pending	/* children forked in a PID namespace */
#define BWM_MAP_SCRATCH		bwm_scratch	/* per-CPU gathering buffers */
#define BWM_MAP_CALLS		bwm_calls	/* entry+exit path: arguments per thread */
#define BWM_MAP_FORKS		bwm_forks	/* entry+exit path: clone flags per thread */
#define BWM_MAP_EXIT_STATUS	bwm_exit_status	/* no BTF: exit()/exit_group() codes */
#define BWM_MAP_CGROUP		bwm_cgroup	/* --cgroup, "under" filter: the cgroup's fd */
#define BWM_MAP_NAME(m)		BWM_MAP_NAME_(m)
#define BWM_MAP_NAME_(m)	#m

/*
 * bwm_monitored: a reader of the output is there with mask 0 (not traced),
 * and beside it, under its tgid | BWM_READER_MARK (no PID reaches that bit),
 * a mark that says its children are traced: a child of a reader reads the
 * output only if the frontend's next scan finds it does.
 */
#define BWM_READER_MARK	0x80000000u

/* Event types. */
#define BWM_EV_WRITE	1	/* bytes a write-family call wrote (one chunk of them) */
#define BWM_EV_XFER	2	/* splice/sendfile/copy_file_range: a byte count, no payload */
#define BWM_EV_FORK	3	/* a monitored process forked: tgid is the child */
#define BWM_EV_EXEC	4	/* a monitored process called execve */
#define BWM_EV_EXIT	5	/* a monitored process exited: tid is its last thread */
#define BWM_EV_TASK_EXIT 6	/* a traced thread (tgid, tid) exited; its process lives on */

/* Flags of a BWM_EV_WRITE chunk. */
#define BWM_F_FIRST	0x1	/* first chunk of one call (or one sendmmsg message) */
#define BWM_F_LAST	0x2	/* last chunk: total - (offset + len) bytes were not captured */
#define BWM_F_MSGS_SKIPPED 0x4	/* no data: offset sendmmsg messages, of total bytes, were
				 * not walked */
#define BWM_F_STATUS	0x8	/* EXIT (TASK_EXIT): total holds the (process's) wait status */
#define BWM_F_UNWALKED	0x10	/* the iovec walk stopped at its limit with bytes left */
#define BWM_F_MMSG	0x20	/* one sendmmsg message: its walk is capped at 32 KiB */

/*
 * Slots of BWM_MAP_DROPPED (per CPU): what the probes could not send.
 */
#define BWM_DROP_NO_BUFFER	0	/* records: no buffer on this CPU yet (brought online) */
#define BWM_DROP_FULL		1	/* records: the buffer was full */
#define BWM_DROP_UNTRACKED	2	/* children not added to bwm_monitored (full) */
#define BWM_DROP_UNSTASHED	3	/* entry+exit path: calls whose arguments bwm_calls had
					 * no room for (not captured, bytes unknown) */
#define BWM_DROP_BYTES		4	/* bytes written that refused records stood for */
#define BWM_DROP_SLOTS		5

/*
 * A record on the perf buffer: this header, then len bytes of data. Only the
 * bytes carried are submitted, never a fixed-size buffer.
 */
struct bwm_event {
	__u64 ts;		/* bpf_ktime_get_ns() (CLOCK_MONOTONIC) when the call returned */
	__u64 total;		/* WRITE, XFER: bytes written; FORK: parent pid;
				 * EXIT: wait status (exit code << 8 | signal), if
				 * BWM_F_STATUS */
	__u64 offset;		/* WRITE: where data[] starts within the bytes written */
	__u32 tgid;		/* process (thread-group) id */
	__u32 tid;		/* thread id */
	__u32 len;		/* bytes in data[] (EXEC: the program's path) */
	__u8 type;		/* BWM_EV_* */
	__u8 fd;		/* WRITE, XFER: the file descriptor written to */
	__u8 flags;		/* BWM_F_* */
	__u8 pad;
	char comm[BWM_COMM_LEN];	/* task comm at the time of the call */
	char data[];
};

#endif /* BWM_EVENT_H */
