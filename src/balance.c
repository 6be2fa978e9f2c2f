// SPDX-License-Identifier: GPL-2.0
/*
 * balance.c - what each record says of the bytes it does not carry, by reason.
 */
#include <string.h>

#include "balance.h"

/* The cap of a sendmmsg message's walk (probes/write.bpf.c, BWM_CHUNK). */
#define MMSG_WALK	32768u

void balance_shortfall(const struct bwm_event *ev, uint64_t max_bytes, struct shortfall *s)
{
	uint64_t end = ev->offset + ev->len, cap, limit;

	memset(s, 0, sizeof(*s));
	if (ev->type == BWM_EV_XFER) {
		s->transferred = ev->total;
		return;
	}
	if (ev->type != BWM_EV_WRITE)
		return;
	if (ev->flags & BWM_F_MSGS_SKIPPED) {
		s->messages = ev->offset;
		s->unwalked = ev->total;
		return;
	}
	if (!(ev->flags & BWM_F_LAST) || ev->total <= end)
		return;
	/* What the probe would copy: the call's bytes up to --max-bytes (a message's, to 32 KiB). */
	limit = max_bytes;
	if ((ev->flags & BWM_F_MMSG) && limit > MMSG_WALK)
		limit = MMSG_WALK;
	cap = ev->total < limit ? ev->total : limit;
	if (ev->total > cap) {
		if (max_bytes < ev->total)
			s->past_max = ev->total - (max_bytes > cap ? max_bytes : cap);
		s->unwalked = ev->total - cap - s->past_max;	/* past a message's 32 KiB */
	}
	if (cap > end) {
		if (ev->flags & BWM_F_UNWALKED)
			s->unwalked += cap - end;
		else
			s->unreadable = cap - end;
	}
}

uint64_t balance_sum(const struct shortfall *s)
{
	return s->past_max + s->unwalked + s->unreadable + s->transferred;
}

uint64_t balance_record_bytes(const struct bwm_event *ev)
{
	struct shortfall s;

	if (ev->type != BWM_EV_WRITE && ev->type != BWM_EV_XFER)
		return 0;
	balance_shortfall(ev, UINT64_MAX, &s);
	return (ev->flags & BWM_F_MSGS_SKIPPED ? 0 : ev->len) + balance_sum(&s);
}
