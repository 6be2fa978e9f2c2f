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


/* A process as /proc lists it. */
struct proc_entry {
	pid_t pid;
	pid_t ppid;
	bool kthread;		/* PF_KTHREAD */
};

/* Every process in /proc (thread groups, not threads); count, or -errno. Free *out. */
ssize_t proc_list(struct proc_entry **out);

/* A set of PIDs below pid_max, as a bitmap. */
struct pidset {
	unsigned char *bits;
	long max;
};

int pidset_init(struct pidset *s, long max);
void pidset_free(struct pidset *s);
bool pidset_has(const struct pidset *s, pid_t pid);
void pidset_add(struct pidset *s, pid_t pid);

/*
 * The entries of list that descend from a member of set and are not in it
 * yet (kernel threads too unless skip_kthreads), breadth first: they are
 * added to set and to out (at most max). Returns how many were found.
 */
size_t proc_descendants(const struct proc_entry *list, size_t n, struct pidset *set,
			bool skip_kthreads, struct proc_entry *out, size_t max);

/* The numeric entries of a /proc directory, through fn; stops when fn returns non-zero. */
int proc_each_number(const char *dir, int (*fn)(long n, void *arg), void *arg);

#endif /* BWM_PROCS_H */
