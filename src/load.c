// SPDX-License-Identifier: GPL-2.0
/*
 * load.c - the loaded programs and maps: attach and detach (libbcc_bpf), the
 * capture flag, the monitored-process map and the probes' drop counters.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/libbpf.h>

#include "../probes/event.h"
#include "load.h"
#include "options.h"
#include "procs.h"

#define MAX_ITEMS	COMPILED_MAX

struct prog {
	char name[128];		/* tracepoint__<cat>__<ev> */
	int fd;
	bool attached;
};

/* A program attached to a tracepoint: the perf event that holds it there. */
struct link {
	char cat[64];
	char ev[64];
	int stage;		/* 1: lifecycle, 2: write */
	int fd;			/* -1 once detached */
};

struct map {
	char name[64];
	int fd;
};

struct tracer {
	struct prog progs[MAX_ITEMS];
	int nprogs;
	struct link links[MAX_ITEMS];
	int nlinks;
	struct map maps[MAX_ITEMS];
	int nmaps;
	int ncpu;		/* possible CPUs */
	uint64_t *dropped;	/* room for bwm_dropped's per-CPU values */
};

struct tracer *tracer_new(const struct compiled *c, char *err, size_t errlen)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int i;

	if (t) {
		t->ncpu = proc_possible_cpus();
		t->dropped = calloc(t->ncpu, sizeof(*t->dropped));
	}
	if (!t || !t->dropped) {
		for (i = 0; i < c->n; i++)
			close(c->items[i].fd);
		if (t)
			free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < c->n; i++) {
		const struct compiled_item *it = &c->items[i];

		if (it->is_map) {
			struct map *m = &t->maps[t->nmaps++];

			snprintf(m->name, sizeof(m->name), "%s", it->name);
			m->fd = it->fd;
		} else {
			struct prog *p = &t->progs[t->nprogs++];

			snprintf(p->name, sizeof(p->name), "%s", it->name);
			p->fd = it->fd;
		}
	}
	return t;
}

/* Split "tracepoint__<cat>__<ev>"; 0 on success. */
static int split_function(const char *name, char *cat, char *ev)
{
	const char *c = name + 12, *sep = strstr(c, "__");

	if (strncmp(name, "tracepoint__", 12) || !sep || sep == c || sep - c >= 64 ||
	    strlen(sep + 2) >= 64)
		return -1;
	memcpy(cat, c, sep - c);
	cat[sep - c] = '\0';
	strcpy(ev, sep + 2);
	return 0;
}

static struct prog *find_prog(struct tracer *t, const char *name)
{
	int i;

	for (i = 0; i < t->nprogs; i++)
		if (!strcmp(t->progs[i].name, name))
			return &t->progs[i];
	return NULL;
}

static int attach_one(struct tracer *t, struct prog *p, const char *cat, const char *ev,
		      int stage, bool verbose, char *err, size_t errlen)
{
	struct link *l = &t->links[t->nlinks];

	if (t->nlinks == MAX_ITEMS) {
		snprintf(err, errlen, "too many probes (at most %d)", MAX_ITEMS);
		return -1;
	}
	errno = 0;
	l->fd = bpf_attach_tracepoint(p->fd, cat, ev);
	if (l->fd < 0) {
		snprintf(err, errlen, "failed to attach %s:%s: %s (is tracefs mounted and the "
			 "tracepoint enabled in this kernel?)", cat, ev,
			 strerror(errno ? errno : EINVAL));
		return -1;
	}
	snprintf(l->cat, sizeof(l->cat), "%s", cat);
	snprintf(l->ev, sizeof(l->ev), "%s", ev);
	l->stage = stage;
	t->nlinks++;
	p->attached = true;
	if (verbose)
		fprintf(stderr, "%s: attached %s:%s\n", BWM_NAME, cat, ev);
	return 0;
}

static bool ref_present(const struct program *prog, const char *cat, const char *ev)
{
	size_t i;

	for (i = 0; i < prog->nrefs; i++)
		if (!strcmp(prog->refs[i].cat, cat) && !strcmp(prog->refs[i].ev, ev))
			return prog->refs[i].present;
	return false;
}

int tracer_attach(struct tracer *t, const struct program *prog, int stage, bool verbose,
		  char *err, size_t errlen)
{
	char cat[64], ev[64], name[160];
	size_t i;
	int j;

	for (i = 0; i < prog->nrefs; i++) {
		const struct probe_ref *r = &prog->refs[i];
		struct prog *p;

		if (r->stage != stage || !r->present)
			continue;
		snprintf(name, sizeof(name), "tracepoint__%s__%s", r->cat, r->func_ev);
		p = find_prog(t, name);
		if (!p) {
			if (!strcmp(r->ev, r->func_ev) || !ref_present(prog, r->cat, r->func_ev))
				continue;	/* compiled out by the template's own #if */
			snprintf(err, errlen, "BWM_ALSO(%s, %s, %s): there is no probe for %s:%s",
				 r->cat, r->func_ev, r->ev, r->cat, r->func_ev);
			return -1;
		}
		if (attach_one(t, p, r->cat, r->ev, stage, verbose, err, errlen))
			return -1;
	}
	/* A probe the scan did not see (not written with TRACEPOINT_PROBE): with the writes. */
	for (j = 0; stage == 2 && j < t->nprogs; j++) {
		struct prog *p = &t->progs[j];

		if (p->attached)
			continue;
		if (split_function(p->name, cat, ev)) {
			snprintf(err, errlen, "cannot tell the tracepoint of function %s "
				 "(name it with TRACEPOINT_PROBE(category, event))", p->name);
			return -1;
		}
		if (attach_one(t, p, cat, ev, stage, verbose, err, errlen))
			return -1;
	}
	return 0;
}

static void *close_link(void *arg)
{
	bpf_close_perf_event_fd((int)(intptr_t)arg);
	return NULL;
}

/*
 * Each detach waits for an RCU grace period (~70 ms here): close the links
 * in parallel so that they share some, falling back to one by one.
 */
void tracer_detach(struct tracer *t, int stage)
{
	pthread_t th[MAX_ITEMS];
	bool started[MAX_ITEMS] = { false };
	int i;

	for (i = 0; i < t->nlinks; i++) {
		struct link *l = &t->links[i];

		if (l->stage != stage || l->fd < 0)
			continue;
		started[i] = pthread_create(&th[i], NULL, close_link, (void *)(intptr_t)l->fd) == 0;
		if (!started[i])
			close_link((void *)(intptr_t)l->fd);
		l->fd = -1;
	}
	for (i = 0; i < t->nlinks; i++)
		if (started[i])
			pthread_join(th[i], NULL);
}


uint64_t tracer_dropped(const struct tracer *t, uint64_t *full, int ncpu)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_DROPPED)), other = BWM_DROP_NO_BUFFER, when_full = BWM_DROP_FULL, i;
	uint64_t sum = 0;

	if (fd < 0)
		return 0;
	if (bpf_lookup_elem(fd, &when_full, t->dropped) == 0)
		for (i = 0; i < t->ncpu && i < ncpu; i++)
			full[i] = t->dropped[i];
	if (bpf_lookup_elem(fd, &other, t->dropped) == 0)
		for (i = 0; i < t->ncpu; i++)
			sum += t->dropped[i];
	return sum;
}

uint64_t tracer_dropped_slot(const struct tracer *t, int slot)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_DROPPED)), i;
	uint64_t sum = 0;

	if (fd < 0 || bpf_lookup_elem(fd, &slot, t->dropped) != 0)
		return 0;
	for (i = 0; i < t->ncpu; i++)
		sum += t->dropped[i];
	return sum;
}

int tracer_map_fd(const struct tracer *t, const char *name)
{
	int i;

	for (i = 0; i < t->nmaps; i++)
		if (!strcmp(t->maps[i].name, name))
			return t->maps[i].fd;
	return -1;
}

int tracer_set_enabled(struct tracer *t, bool on)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_ENABLED)), key = 0;
	uint32_t val = on;

	if (fd < 0)
		return -ENOENT;
	return bpf_update_elem(fd, &key, &val, 0);
}

int tracer_set_cgroup(struct tracer *t, int dirfd)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_CGROUP)), key = 0;
	uint32_t val = dirfd;

	if (fd < 0)
		return -ENOENT;
	return bpf_update_elem(fd, &key, &val, BPF_ANY) ? -errno : 0;
}

int tracer_set_pid(struct tracer *t, pid_t pid, uint32_t mask, bool only_new)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_MONITORED));
	uint32_t key = pid;

	if (fd < 0)
		return -ENOENT;
	if (bpf_update_elem(fd, &key, &mask, only_new ? BPF_NOEXIST : BPF_ANY))
		return -errno;
	return 0;
}

int tracer_get_pid(struct tracer *t, pid_t pid, uint32_t *mask)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_MONITORED));
	uint32_t key = pid;

	if (fd < 0)
		return -ENOENT;
	return bpf_lookup_elem(fd, &key, mask) ? -errno : 0;
}

int tracer_forget_pid(struct tracer *t, pid_t pid)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_MONITORED));
	uint32_t key = pid;

	if (fd < 0)
		return -ENOENT;
	return bpf_delete_elem(fd, &key) ? -errno : 0;
}

int tracer_each_pid(struct tracer *t, int (*fn)(pid_t pid, uint32_t mask, void *arg), void *arg)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_MONITORED)), rc = 0;
	uint32_t key, next, mask;
	bool first = true;

	if (fd < 0)
		return -ENOENT;
	while (!rc && (first ? bpf_get_first_key(fd, &next, sizeof(next)) :
			       bpf_get_next_key(fd, &key, &next)) == 0) {
		first = false;
		key = next;
		if (bpf_lookup_elem(fd, &key, &mask) == 0)
			rc = fn(key, mask, arg);
	}
	return rc;
}

bool tracer_has_pending(struct tracer *t)
{
	int fd = tracer_map_fd(t, BWM_MAP_NAME(BWM_MAP_PENDING));
	uint32_t key;

	return fd >= 0 && bpf_get_first_key(fd, &key, sizeof(key)) == 0;
}

void tracer_close(struct tracer *t)
{
	int i;

	if (!t)
		return;
	tracer_set_enabled(t, false);
	tracer_detach(t, 2);
	tracer_detach(t, 1);
	free(t->dropped);
	for (i = 0; i < t->nprogs; i++)
		close(t->progs[i].fd);
	for (i = 0; i < t->nmaps; i++)
		close(t->maps[i].fd);
	free(t);
}
