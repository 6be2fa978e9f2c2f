/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_PROCS_H
#define BWM_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Linux PF_KTHREAD, the task flag /proc/PID/stat shows in its 9th field. */
#define PROC_PF_KTHREAD	0x00200000u

/* What /proc/PID/stat says about a process. */
struct proc_stat {
	pid_t pid;
	char comm[16];
	char state;		/* R, S, D, Z, X, ... */
	pid_t ppid;
	unsigned flags;		/* PF_* */
};

/* Parse the text of /proc/PID/stat (comm may hold spaces and parentheses); 0 on success. */
int proc_parse_stat(const char *text, struct proc_stat *st);

/* Read /proc/PID/stat; -errno on failure (-ENOENT: no such process). */
int proc_read_stat(pid_t pid, struct proc_stat *st);

/* The thread-group id of a task id, from /proc/PID/status; -errno on failure. */
pid_t proc_tgid(pid_t pid);

/* Kernel limits: /proc/sys/kernel/pid_max, and the highest possible CPU + 1. */
long proc_pid_max(void);
int proc_possible_cpus(void);

/* Parse a CPU list such as "0-3,8,10-11" into set[] (size n); the count, or -1. */
int proc_parse_cpulist(const char *text, bool *set, int n);

/* The online CPUs as a set (size n); their count, or -1. */
int proc_online_cpus(bool *set, int n);

#endif /* BWM_PROCS_H */
