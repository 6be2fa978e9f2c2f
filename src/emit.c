// SPDX-License-Identifier: GPL-2.0
/*
 * emit.c - finished lines and records, rendered into the sink; the loop
 * breaker looks at each line on its way.
 */
#include <stdio.h>
#include <string.h>

#include "emit.h"

#define SINK_HIGH	(1 << 20)	/* flush output past this many buffered bytes */

int emit_init(struct emit *e, const struct config *cfg, struct sink *sink, struct requests *req)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->sink = sink;
	e->req = req;
	format_init(&e->fmt, &(struct format_opts){
		.timestamp = cfg->timestamp, .pid = cfg->origin_pid, .comm = cfg->origin_comm,
		/* Bare lines only for one stream with no prefix. */
		.label = cfg->timestamp || cfg->origin_pid || cfg->origin_comm ||
			 (cfg->fd_mask & (cfg->fd_mask - 1)),
		.bare_fd = cfg->fd_mask ? __builtin_ctz(cfg->fd_mask) : 1,
		.ascii = cfg->ascii,
		.json = cfg->json,
	});
	e->feedback = feedback_new();
	return e->feedback ? 0 : -1;
}

void emit_free(struct emit *e)
{
	feedback_free(e->feedback);
	e->feedback = NULL;
}

static void flush_if_high(struct emit *e)
{
	if (e->sink->ob.len > SINK_HIGH)
		sink_flush(e->sink);
}

/*
 * The loop breaker: a traced process that writes back what the tool prints.
 * A suspect (it echoes its own lines) is cut when the reader scan finds it
 * reading the output; a loop (it echoes others' lines at a flood's rate) is
 * cut at once. Without -f, the target itself cannot be cut: the tool ends.
 */
static void check_feedback(struct emit *e, const struct line_meta *m, uint64_t hash)
{
	enum feedback_verdict v = feedback_captured(e->feedback, m->tgid, hash, m->ts);
	struct cut_request *cut;
	size_t i;

	if (v == FEEDBACK_NONE)
		return;
	if (e->cfg->descendants && v == FEEDBACK_SUSPECT) {
		e->req->rescan = true;
		return;
	}
	if (v != FEEDBACK_LOOP || e->req->ncuts == REQUESTS_MAX_CUTS)
		return;
	cut = &e->req->cuts[e->req->ncuts++];
	cut->pid = m->tgid;
	for (i = 0; i < BWM_COMM_LEN && m->comm[i]; i++)
		cut->comm[i] = m->comm[i] < ' ' || m->comm[i] == 0x7f ? '?' : m->comm[i];
	cut->comm[i] = '\0';
}

void emit_line(void *cookie, const struct line_meta *m, const char *text, size_t len,
	       uint64_t missing)
{
	struct emit *e = cookie;
	struct outbuf *ob = &e->sink->ob;
	size_t start = ob->len;
	uint64_t hash = feedback_hash(text, len);

	check_feedback(e, m, hash);
	if (e->journal) {	/* the entry's MESSAGE is the line as written */
		journal_line(e->journal, m, m->ts + e->wall_offset, text, len, missing);
		feedback_printed(e->feedback, hash, m->tgid);
		e->lines_out++;
		return;
	}
	format_line(&e->fmt, ob, m, m->ts + e->wall_offset, text, len, missing);
	if (ob->len > start) {	/* the line as printed, without its newline */
		const char *out = ob->p + start;
		size_t n = ob->len - start - 1;

		/* Printed as written (no prefix, nothing escaped): the same hash. */
		if (n != len || memcmp(out, text, n))
			hash = feedback_hash(out, n);
		feedback_printed(e->feedback, hash, m->tgid);
	}
	e->lines_out++;
	flush_if_high(e);
}

void emit_raw(struct emit *e, const char *data, size_t len)
{
	ob_put(&e->sink->ob, data, len);
	flush_if_high(e);
}

void emit_transfer(struct emit *e, const struct line_meta *m, uint64_t bytes)
{
	char text[64], extra[48];

	if (e->journal) {
		snprintf(text, sizeof(text), "[%llu bytes via kernel transfer]",
			 (unsigned long long)bytes);
		snprintf(extra, sizeof(extra), "BWM_TRANSFER_BYTES=%llu", (unsigned long long)bytes);
		journal_record(e->journal, JOURNAL_MID_TRANSFER, 6, m, m->ts + e->wall_offset, text,
			       strlen(text), extra);
		e->lines_out++;
		return;
	}
	format_transfer(&e->fmt, &e->sink->ob, m, m->ts + e->wall_offset, bytes);
	e->lines_out++;
}

void emit_lost(struct emit *e, uint64_t ts, uint64_t events, uint64_t bytes)
{
	if (e->cfg->json)	/* text mode says it on stderr (the ledger) */
		format_lost(&e->fmt, &e->sink->ob, ts + e->wall_offset, events, bytes);
}

void emit_note(struct emit *e, const struct line_meta *m, const char *note)
{
	if (e->journal) {
		journal_record(e->journal, JOURNAL_MID_NOTE, 4, m, m->ts + e->wall_offset, note,
			       strlen(note), NULL);
		e->lines_out++;
		return;
	}
	format_note(&e->fmt, &e->sink->ob, m, m->ts + e->wall_offset, note);
	e->lines_out++;
}

/* --journal: the record rendered as text (no prefix but its kind), sent as an entry. */
static void journal_lifecycle(struct emit *e, const struct bwm_event *ev,
			      const struct line_meta *m)
{
	static const char *const ids[] = {
		[BWM_EV_FORK] = JOURNAL_MID_FORK,
		[BWM_EV_EXEC] = JOURNAL_MID_EXEC,
		[BWM_EV_EXIT] = JOURNAL_MID_EXIT,
	};
	struct outbuf *ob = &e->journal->text;
	char extra[48] = "";

	if (ev->type == BWM_EV_FORK)
		snprintf(extra, sizeof(extra), "BWM_PARENT_PID=%u", (unsigned)ev->total);
	else if (ev->type == BWM_EV_EXIT && (ev->flags & BWM_F_STATUS))
		snprintf(extra, sizeof(extra), "BWM_WAIT_STATUS=%u", (unsigned)ev->total);
	if (ob->len && ob->p[ob->len - 1] == '\n')
		ob->len--;
	journal_record(e->journal, ids[ev->type], 6, m, m->ts + e->wall_offset, ob->p, ob->len,
		       *extra ? extra : NULL);
	ob->len = 0;
}

void emit_lifecycle(struct emit *e, const struct bwm_event *ev, const struct line_meta *m)
{
	int64_t wall = m->ts + e->wall_offset;
	struct outbuf *ob = e->journal ? &e->journal->text : &e->sink->ob;

	switch (ev->type) {
	case BWM_EV_FORK:
		format_fork(&e->fmt, ob, m, wall, ev->total);
		break;
	case BWM_EV_EXEC:
		format_exec(&e->fmt, ob, m, wall, ev->data, ev->len);
		break;
	case BWM_EV_EXIT:
		format_exit(&e->fmt, ob, m, wall, ev->total, ev->flags & BWM_F_STATUS);
		break;
	default:
		return;
	}
	if (e->journal)
		journal_lifecycle(e, ev, m);
	e->lines_out++;
}
