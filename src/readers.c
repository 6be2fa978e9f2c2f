// SPDX-License-Identifier: GPL-2.0
/*
 * readers.c - the readers of the tool's output, and the processes that feed
 * it back: never traced.
 */
#include <unistd.h>

#include "readers.h"

void readers_init(struct readers *rd, const struct config *cfg, struct tracer *t, int out_fd,
		  FILE *notices)
{
	rd->cfg = cfg;
	rd->tracer = t;
	rd->out_fd = out_fd;
	rd->notices = notices;
	rd->n = 0;
	rd->primed = false;
	rd->next_scan = 0;
}

static bool known(const struct readers *rd, pid_t pid)
{
	size_t i;

	for (i = 0; i < rd->n; i++)
		if (rd->known[i] == pid)
			return true;
	return false;
}

/* Say that pid reads the output and is not traced from now on. */
static void announce(const struct readers *rd, pid_t pid)
{
	struct proc_stat st = { 0 };
	char *c;

	proc_read_stat(pid, &st);
	for (c = st.comm; *c; c++)
		if (*c < ' ' || *c == 0x7f)
			*c = '?';	/* no terminal control from a comm */
	fprintf(rd->notices, "%s: PID %d (%s) reads this tool's output: not traced from now on "
		"(it would feed the output back)\n", BWM_NAME, (int)pid, st.comm);
}

void readers_check(struct readers *rd, uint64_t now)
{
	pid_t found[MAX_READERS];
	size_t n, i;

	if (!rd->cfg->descendants || now < rd->next_scan)
		return;
	rd->next_scan = now + READER_SCAN_NS;
	n = proc_output_readers(rd->out_fd, getpid(), found, MAX_READERS);
	n += proc_output_readers(STDERR_FILENO, getpid(), found + n, MAX_READERS - n);
	for (i = 0; i < n; i++) {
		if (known(rd, found[i]))
			continue;
		tracer_set_pid(rd->tracer, found[i], 0, false);
		if (rd->primed)
			announce(rd, found[i]);
		if (rd->n < MAX_READERS)
			rd->known[rd->n++] = found[i];
	}
	rd->primed = true;
}

bool readers_apply(struct readers *rd, const struct requests *req)
{
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
	}
	return false;
}
