// SPDX-License-Identifier: GPL-2.0
/*
 * readers.c - the readers of the tool's output, the other runs of the tool,
 * and the processes that feed the output back: not traced (see readers.h).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "procs.h"
#include "readers.h"

void readers_init(struct readers *rd, const struct config *cfg, int out_fd, FILE *notices)
{
	memset(rd, 0, sizeof(*rd));
	rd->cfg = cfg;
	rd->out_fd = out_fd;
	rd->notices = notices;
}

void readers_first(struct readers *rd)
{
	rd->nex = readscan_all(rd->out_fd, getpid(), rd->ex, MAX_READERS);
}

/* pid's comm, safe to print (no terminal control from a comm). */
static void comm_of(pid_t pid, char *comm, size_t size)
{
	struct proc_stat st = { 0 };
	char *c;

	proc_read_stat(pid, &st);
	snprintf(comm, size, "%s", st.comm[0] ? st.comm : "?");
	for (c = comm; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = '?';
}

static void say(const struct readers *rd, pid_t pid, const char *what)
{
	char comm[32];

	comm_of(pid, comm, sizeof(comm));
	fprintf(rd->notices, "%s: PID %d (%s) %s\n", BWM_NAME, (int)pid, comm, what);
}

/* Why a reader is not traced: for the whole run (fixed), or while it reads. */
static void why(enum read_kind k, bool fixed, char *out, size_t size)
{
	const char *who, *because;

	switch (k) {
	case READ_FILE:
		who = "keeps this tool's output file open for reading";
		because = "it would feed the output back";
		break;
	case READ_RUN:
		who = "is another run of this tool";
		because = "the two would feed each other";
		break;
	case READ_RUN_OUTPUT:
		who = "reads the output of another run of this tool";
		because = "the two would feed each other";
		break;
	default:
		who = "reads this tool's output";
		because = "it would feed the output back";
		break;
	}
	if (k == READ_RUN)	/* it runs, it does not read: "while it does" says nothing */
		snprintf(out, size, "%s: not traced%s (%s)", who, fixed ? " in this run" : "",
			 because);
	else
		snprintf(out, size, "%s: not traced %s (%s)", who,
			 fixed ? "in this run" : "while it does", because);
}

static bool has_pid(const pid_t *v, size_t n, pid_t pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

void readers_fixed(struct readers *rd, const struct reader *ex, size_t n)
{
	char text[192];
	size_t i;

	for (i = 0; i < n; i++) {
		why(ex[i].kind, true, text, sizeof(text));
		say(rd, ex[i].pid, text);
	}
}

/* Not traced from now on; its children are, from their fork (BWM_READER_MARK). */
static void exclude(struct readers *rd, const struct reader *r)
{
	char text[192];

	tracer_set_pid(rd->tracer, r->pid, 0, false);
	tracer_set_pid(rd->tracer, (pid_t)((uint32_t)r->pid | BWM_READER_MARK), 0, false);
	why(r->kind, false, text, sizeof(text));
	say(rd, r->pid, text);
}

static void unmark(struct readers *rd, pid_t pid)
{
	tracer_forget_pid(rd->tracer, (pid_t)((uint32_t)pid | BWM_READER_MARK));
}

/*
 * Is pid traced, or excluded from the tracing, here? A reader outside the
 * traced tree has no entry in bwm_monitored: nothing to exclude, nothing to
 * say, and no mark (which would have its children traced).
 */
static bool in_tree(struct readers *rd, pid_t pid)
{
	uint32_t mask;

	return tracer_get_pid(rd->tracer, pid, &mask) == 0;
}

static bool alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

struct walk {
	struct readers *rd;
	pid_t self;
	pid_t restore[MAX_READERS];
	size_t n;
};

/* An untraced entry that is neither self, nor excluded, nor a cut loop (nor its child). */
static int untraced_entry(pid_t pid, uint32_t mask, void *arg)
{
	struct walk *w = arg;
	struct proc_stat st = { 0 };

	if (mask || pid <= 0 || pid == w->self || readscan_find(w->rd->ex, w->rd->nex, pid) ||
	    has_pid(w->rd->cut, w->rd->ncut, pid) || w->n == MAX_READERS)
		return 0;
	if (proc_read_stat(pid, &st) || has_pid(w->rd->cut, w->rd->ncut, st.ppid) ||
	    st.ppid == w->self)
		return 0;
	w->restore[w->n++] = pid;
	return 0;
}

/* Readers that no longer read (or are gone), and entries no one excludes: traced again. */
static void include_again(struct readers *rd, const struct reader *found, size_t nfound)
{
	struct walk w = { .rd = rd, .self = getpid() };
	size_t i, kept = 0;

	for (i = 0; i < rd->nex; i++) {
		pid_t pid = rd->ex[i].pid;

		if (readscan_find(found, nfound, pid)) {
			rd->ex[kept++] = rd->ex[i];
			continue;
		}
		unmark(rd, pid);
		if (alive(pid) && !has_pid(rd->cut, rd->ncut, pid)) {
			tracer_set_pid(rd->tracer, pid, rd->cfg->fd_mask, false);
			say(rd, pid, "no longer reads this tool's output: traced again");
		}
	}
	rd->nex = kept;
	tracer_each_pid(rd->tracer, untraced_entry, &w);
	for (i = 0; i < w.n; i++) {
		if (tracer_set_pid(rd->tracer, w.restore[i], rd->cfg->fd_mask, false) == 0)
			say(rd, w.restore[i], "does not read this tool's output: traced");
	}
}

void readers_check(struct readers *rd, uint64_t now)
{
	struct reader found[MAX_READERS], files[MAX_READERS];
	size_t n, i, nfiles = 0;

	if (!rd->tracer || !rd->cfg->descendants || now < rd->next_scan)
		return;
	rd->next_scan = now + READER_SCAN_NS;
	if (!rd->primed) {
		/*
		 * The first scan's: those in the tree are registered with mask 0
		 * already; marked and said here. The others are none of ours.
		 */
		rd->primed = true;
		for (i = n = 0; i < rd->nex; i++) {
			if (!in_tree(rd, rd->ex[i].pid))
				continue;
			exclude(rd, &rd->ex[i]);
			rd->ex[n++] = rd->ex[i];
		}
		rd->nex = n;
		return;
	}
	n = readscan_all(rd->out_fd, getpid(), found, MAX_READERS);
	for (i = 0; i < n; i++) {
		const struct reader *r = &found[i];

		if (readscan_find(rd->ex, rd->nex, r->pid) || has_pid(rd->cut, rd->ncut, r->pid) ||
		    !in_tree(rd, r->pid))
			continue;
		/* A file's reader seen for the first time: excluded if the next scan sees it. */
		if (r->kind == READ_FILE && !readscan_find(rd->files, rd->nfiles, r->pid)) {
			files[nfiles++] = *r;
			continue;
		}
		exclude(rd, r);
		if (rd->nex < MAX_READERS)
			rd->ex[rd->nex++] = *r;
	}
	memcpy(rd->files, files, nfiles * sizeof(*files));
	rd->nfiles = nfiles;
	include_again(rd, found, n);
}

bool readers_apply(struct readers *rd, const struct requests *req)
{
	struct proc_stat st;
	size_t i;

	if (req->rescan) {
		rd->next_scan = 0;
		readers_check(rd, 1);
	}
	for (i = 0; i < req->ncuts; i++) {
		const struct cut_request *c = &req->cuts[i];

		fprintf(rd->notices, "%s: PID %u (%s) writes back what this tool prints: %s (send "
			"the output elsewhere, e.g. -o FILE)\n", BWM_NAME, (unsigned)c->pid,
			c->comm, rd->cfg->descendants ? "not traced from now on" : "ending");
		if (!rd->cfg->descendants)
			return true;
		tracer_set_pid(rd->tracer, c->pid, 0, false);
		if (rd->ncut < MAX_READERS)
			rd->cut[rd->ncut++] = c->pid;
		/* A reader's child feeds it back: the reader's later children are not traced. */
		if (proc_read_stat(c->pid, &st) == 0 && readscan_find(rd->ex, rd->nex, st.ppid)) {
			unmark(rd, st.ppid);
			if (rd->ncut < MAX_READERS)
				rd->cut[rd->ncut++] = st.ppid;
		}
	}
	return false;
}
