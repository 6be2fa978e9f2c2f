/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_EXITS_H
#define BWM_EXITS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "procs.h"

/*
 * exits - which exit records mean that a traced process has exited.
 *
 * The exit probe sends EXIT for a process's last thread and TASK_EXIT for a
 * thread whose process lives on, when the kernel can tell (group_dead, or
 * signal->live with BTF). Without either (KFEAT_EXIT_PROC) it sends
 * TASK_EXIT for every traced thread, and user space settles it from /proc
 * after each drain: a process with a thread that has not begun to exit lives
 * on (that thread will send its own TASK_EXIT); one whose threads are all
 * zombies or gone has sent every record it will send, and its EXIT follows
 * them once the records stamped before that check are drained. Two threads
 * can both see a dead group: the process is reported once.
 */
#include <stdint.h>

#include "../probes/event.h"

#define EXITS_RECENT	64
#define EXITS_PENDING	256

struct exits_pending {
	struct bwm_event ev;	/* its latest TASK_EXIT, sent as EXIT */
	uint64_t seen_gone;	/* CLOCK_MONOTONIC ns /proc showed it gone; 0 not yet */
};

struct exits {
	int method;			/* enum kfeat_exit */
	pid_t recent[EXITS_RECENT];	/* processes reported exited lately */
	unsigned next;
	struct exits_pending pending[EXITS_PENDING];	/* KFEAT_EXIT_PROC */
	unsigned npending;
};

void exits_init(struct exits *x, int method);

/*
 * What an EXIT or TASK_EXIT record means: BWM_EV_EXIT (the process has
 * exited: report it), BWM_EV_TASK_EXIT (a thread exited; with
 * KFEAT_EXIT_PROC its process is then looked at by exits_settle()), or 0
 * (its exit is reported already: drop it).
 */
int exits_classify(struct exits *x, const struct bwm_event *ev);

/*
 * KFEAT_EXIT_PROC, after each drain: pass to emit, as EXIT records, the
 * processes /proc showed gone before limit (every record stamped before
 * limit is drained); now: the clock. final: emit every pending one.
 */
void exits_settle(struct exits *x, uint64_t now, uint64_t limit, bool final,
		  void (*emit)(void *cookie, const struct bwm_event *ev), void *cookie);

/* A process was created (FORK): a reused pid is not an exited process. */
void exits_forget(struct exits *x, pid_t tgid);

/*
 * Are all these threads of a process gone or exiting (state Z or X, or
 * PF_EXITING)? Pure; n == 0 is true.
 */
bool exits_all_exiting(const struct proc_stat *threads, size_t n);

/*
 * What /proc/TGID/task shows: 1 every thread is a zombie or gone (all have
 * passed the exit tracepoint), 0 every thread has begun to exit, -1 a thread
 * has not (the process lives on).
 */
int exits_group_state(pid_t tgid);

#endif /* BWM_EXITS_H */
