// SPDX-License-Identifier: GPL-2.0
/*
 * procs.c - what the tool needs from /proc and /sys: process state, comm,
 * parent, kernel-thread flag, pid_max, CPU lists.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procs.h"

/* Read a small file into buf (NUL-terminated); bytes read or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

int proc_parse_stat(const char *text, struct proc_stat *st)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')'), *p;
	unsigned long field;
	size_t n;
	int i;
	char *end;

	memset(st, 0, sizeof(*st));
	if (!open || !close || close < open)
		return -1;
	st->pid = strtol(text, NULL, 10);
	n = close - open - 1;
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, n);
	p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p)
		return -1;
	st->state = *p++;
	/* Fields after the state: 4 ppid, 5 pgrp, 6 session, 7 tty_nr, 8 tpgid, 9 flags. */
	for (i = 4; i <= 9; i++) {
		errno = 0;
		field = strtoul(p, &end, 10);
		if (end == p || errno)
			return -1;
		p = end;
		if (i == 4)
			st->ppid = field;
		else if (i == 9)
			st->flags = field;
	}
	return 0;
}

int proc_read_stat(pid_t pid, struct proc_stat *st)
{
	char path[64], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	return proc_parse_stat(buf, st) ? -EINVAL : 0;
}

pid_t proc_tgid(pid_t pid)
{
	char path[64], buf[4096], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	p = strstr(buf, "\nTgid:");
	if (!p)
		return -EINVAL;
	return strtol(p + 6, NULL, 10);
}

long proc_pid_max(void)
{
	char buf[32];
	long v;

	if (read_small("/proc/sys/kernel/pid_max", buf, sizeof(buf)) <= 0)
		return 4194304;		/* PID_MAX_LIMIT on 64-bit */
	v = strtol(buf, NULL, 10);
	return v > 0 ? v : 4194304;
}

int proc_parse_cpulist(const char *text, bool *set, int n)
{
	const char *p = text;
	int count = 0;

	memset(set, 0, n * sizeof(*set));
	while (*p && *p != '\n') {
		char *end;
		long a, b, i;

		a = strtol(p, &end, 10);
		if (end == p || a < 0)
			return -1;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return -1;
			p = end;
		}
		for (i = a; i <= b && i < n; i++) {
			count += !set[i];
			set[i] = true;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -1;
	}
	return count;
}

int proc_possible_cpus(void)
{
	char buf[256], *p;
	long hi = -1;

	if (read_small("/sys/devices/system/cpu/possible", buf, sizeof(buf)) <= 0)
		return sysconf(_SC_NPROCESSORS_CONF);
	/* The highest number in the list. */
	for (p = buf; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			long v = strtol(p, &p, 10);

			if (v > hi)
				hi = v;
			p--;
		}
	}
	return hi >= 0 ? hi + 1 : sysconf(_SC_NPROCESSORS_CONF);
}

int proc_online_cpus(bool *set, int n)
{
	char buf[1024];

	if (read_small("/sys/devices/system/cpu/online", buf, sizeof(buf)) <= 0)
		return -1;
	return proc_parse_cpulist(buf, set, n);
}
