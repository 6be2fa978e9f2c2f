// SPDX-License-Identifier: GPL-2.0
/*
 * route.c - each event, in syscall order, to the stage it is for.
 */
#include <stdio.h>
#include <string.h>

#include "balance.h"
#include "kfeat.h"
#include "route.h"

/* --raw: the bytes go out as they are; what cannot is said on stderr. */
static void route_raw(struct router *r, const struct bwm_event *ev, uint64_t missing)
{
	char name[16];
	const char *stream = format_stream(ev->fd, name, sizeof(name));

	if (ev->type == BWM_EV_XFER) {
		fprintf(r->notices, "%s: PID %u moved %llu bytes to %s inside the kernel (splice, "
			"sendfile): they are not in the copy\n", BWM_NAME, ev->tgid,
			(unsigned long long)ev->total, stream);
		return;
	}
	if (ev->flags & BWM_F_MSGS_SKIPPED) {
		fprintf(r->notices, "%s: PID %u sent %llu more messages (%llu bytes) to %s than "
			"could be walked: they are not in the copy\n", BWM_NAME, ev->tgid,
			(unsigned long long)ev->offset, (unsigned long long)ev->total, stream);
		return;
	}
	emit_raw(r->emit, ev->data, ev->len);
	if (missing) {
		fprintf(r->notices, "%s: PID %u wrote %llu more bytes to %s than were captured "
			"(--max-bytes %lu): they are not in the copy\n", BWM_NAME, ev->tgid,
			(unsigned long long)missing, stream, r->cfg->max_bytes);
	}
}

/* fork, exec, exit: flush what an exited process left held, and report with -x. */
static void route_lifecycle(struct router *r, const struct bwm_event *ev,
			    const struct line_meta *m)
{
	if (ev->type == BWM_EV_TASK_EXIT) {
		lines_flush_thread(r->lines, ev->tid);	/* a reused TID starts afresh */
		return;
	}
	if (ev->type == BWM_EV_EXIT)
		lines_flush_process(r->lines, ev->tgid);
	if (r->keep && ev->type == BWM_EV_FORK)
		keep_fork(r->keep, ev->tgid, ev->total);
	if (r->keep && ev->type == BWM_EV_EXIT && keep_exit(r->keep, ev, m))
		return;		/* its exit record is printed, after its lines */
	if (r->cfg->exits)
		emit_lifecycle(r->emit, ev, m);
}

/* A sendmmsg() note: messages beyond those the probe walks. */
static void route_skipped(struct router *r, const struct bwm_event *ev,
			  const struct line_meta *m)
{
	char note[96];

	snprintf(note, sizeof(note), "[... %llu more messages (%llu bytes) not captured]",
		 (unsigned long long)ev->offset, (unsigned long long)ev->total);
	emit_note(r->emit, m, note);
}

/* An exit record, or NULL when it is to be dropped (the exit is reported already). */
static const struct bwm_event *exit_record(struct router *r, const struct bwm_event *ev)
{
	int type = exits_classify(r->exits, ev);

	if (!type)
		return NULL;
	/* /proc told it (exits_settle()): the probe did not forget the process */
	if (type == BWM_EV_EXIT && r->exits->method == KFEAT_EXIT_PROC && r->cfg->descendants)
		requests_forget(r->req, ev->tgid);
	return ev;
}

/* What a write or transfer leaves out, into the ledger by reason; the bytes it leaves out. */
static uint64_t account(struct router *r, const struct bwm_event *ev)
{
	struct shortfall s;

	balance_shortfall(ev, r->cfg->max_bytes, &s);
	ledger_add(r->ledger, LOSS_NOT_CAPTURED, s.past_max);
	ledger_add(r->ledger, LOSS_UNWALKED_BYTES, s.unwalked);
	ledger_add(r->ledger, LOSS_UNWALKED_MESSAGES, s.messages);
	ledger_add(r->ledger, LOSS_UNREADABLE_BYTES, s.unreadable);
	ledger_add(r->ledger, LOSS_TRANSFERRED_BYTES, s.transferred);
	return s.past_max + s.unreadable + (s.messages ? 0 : s.unwalked);
}

void route_event(void *cookie, const struct bwm_event *ev)
{
	struct router *r = cookie;
	struct line_meta m = {
		.ts = ev->ts, .tgid = ev->tgid, .tid = ev->tid, .fd = ev->fd,
	};
	uint64_t missing = 0;

	if (ev->type == BWM_EV_EXIT || ev->type == BWM_EV_TASK_EXIT) {
		ev = exit_record(r, ev);
		if (!ev)
			return;
	} else if (ev->type == BWM_EV_FORK) {
		exits_forget(r->exits, ev->tgid);
	}

	if (ev->type == BWM_EV_WRITE)
		r->bytes_in += ev->len;
	if (ev->type <= BWM_EV_XFER)
		missing = account(r, ev);	/* a write's bytes not in its last record */
	if (r->cfg->raw && ev->type <= BWM_EV_XFER) {
		route_raw(r, ev, missing);
		return;
	}
	memcpy(m.comm, ev->comm, sizeof(m.comm));
	lines_tick(r->lines, ev->ts);		/* lines quiet since before it go first */
	switch (ev->type) {
	case BWM_EV_WRITE:
		if (ev->flags & BWM_F_MSGS_SKIPPED)
			route_skipped(r, ev, &m);
		else
			lines_feed(r->lines, &m, ev->data, ev->len, ev->flags, missing);
		break;
	case BWM_EV_XFER:
		emit_transfer(r->emit, &m, ev->total);
		break;
	default:
		route_lifecycle(r, ev, &m);
		break;
	}
}
