// SPDX-License-Identifier: GPL-2.0
/*
 * buffers.c - per-CPU perf buffers and CPU hot-plug (libbcc's perf reader).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

#include "buffers.h"
#include "options.h"
#include "procs.h"

struct cpu_buf {
	struct buffers *owner;
	int cpu;
	struct perf_reader *pr;
};

struct buffers {
	struct cpu_buf *bufs;	/* room for every possible CPU, filled as they come online */
	int nbufs;
	int ncpu;		/* possible CPUs */
	int events_fd;		/* the BPF_PERF_OUTPUT map */
	unsigned pages;
	unsigned wakeup;
	struct merger *merger;
};

static void on_sample(void *cookie, void *raw, int size)
{
	struct cpu_buf *b = cookie;

	merge_push(b->owner->merger, b->cpu, raw, size);
}

static void on_lost(void *cookie, uint64_t n)
{
	struct cpu_buf *b = cookie;

	merge_lost(b->owner->merger, b->cpu, n);
}

struct buffers *buffers_open(int events_fd, struct merger *m, unsigned pages, unsigned wakeup,
			     char *err, size_t errlen)
{
	struct buffers *b = calloc(1, sizeof(*b));

	if (b) {
		b->ncpu = proc_possible_cpus();
		b->bufs = calloc(b->ncpu, sizeof(*b->bufs));
	}
	if (!b || !b->bufs) {
		free(b);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->events_fd = events_fd;
	b->merger = m;
	b->pages = pages;
	b->wakeup = wakeup;
	if (buffers_add_cpus(b, false, err, errlen) < 0) {
		buffers_free(b);
		return NULL;
	}
	return b;
}

/* Open and register the buffer of one CPU; 0, or -1 with a message in err. */
static int open_cpu(struct buffers *b, int cpu, char *err, size_t errlen)
{
	struct bcc_perf_buffer_opts opts = { .pid = -1, .cpu = cpu, .wakeup_events = b->wakeup };
	struct cpu_buf *c = &b->bufs[b->nbufs];
	int fd;

	c->owner = b;
	c->cpu = cpu;
	c->pr = bpf_open_perf_buffer_opts(on_sample, on_lost, c, b->pages, &opts);
	if (!c->pr) {
		snprintf(err, errlen, "cannot open a perf buffer of %u pages on CPU %d: %s "
			 "(try a smaller --buffer-pages)", b->pages, cpu, strerror(errno));
		return -1;
	}
	b->nbufs++;
	fd = perf_reader_fd(c->pr);
	if (bpf_update_elem(b->events_fd, &cpu, &fd, 0)) {
		snprintf(err, errlen, "cannot register the perf buffer of CPU %d: %s",
			 cpu, strerror(errno));
		return -1;
	}
	return 0;
}

int buffers_add_cpus(struct buffers *b, bool verbose, char *err, size_t errlen)
{
	bool *online = calloc(b->ncpu, sizeof(*online));
	int cpu, i, added = 0;

	if (!online || proc_online_cpus(online, b->ncpu) <= 0) {
		free(online);
		snprintf(err, errlen, "cannot read /sys/devices/system/cpu/online");
		return -1;
	}
	for (i = 0; i < b->nbufs; i++)
		online[b->bufs[i].cpu] = false;		/* has one already */
	for (cpu = 0; cpu < b->ncpu; cpu++) {
		if (!online[cpu])
			continue;
		if (open_cpu(b, cpu, err, errlen)) {
			free(online);
			return -1;
		}
		added++;
		if (verbose)
			fprintf(stderr, "%s: opened a perf buffer on CPU %d\n", BWM_NAME, cpu);
	}
	free(online);
	return added;
}

int buffers_fds(const struct buffers *b, int *fds, int max)
{
	int i;

	for (i = 0; i < b->nbufs && i < max; i++)
		fds[i] = perf_reader_fd(b->bufs[i].pr);
	return i;
}

void buffers_drain(struct buffers *b)
{
	int i;

	for (i = 0; i < b->nbufs; i++)
		perf_reader_event_read(b->bufs[i].pr);
}

void buffers_free(struct buffers *b)
{
	int i;

	if (!b)
		return;
	for (i = 0; i < b->nbufs; i++)
		perf_reader_free(b->bufs[i].pr);
	free(b->bufs);
	free(b);
}
