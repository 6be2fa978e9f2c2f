// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_merge - the event decoder and timestamp merger (merge.c) on
 * malformed and truncated perf records, timestamps in any order, CPU
 * numbers out of range (hot-plug), losses, releases at any limit.
 * Invariants: every record pushed is released once or is still queued; an
 * event handed on carries all of its len bytes; one release hands events on
 * in timestamp order when each CPU's records came in order.
 */
#include <stdbool.h>

#include "balance.h"
#include "fuzz.h"
#include "merge.h"

struct seen {
	bool ordered;		/* every CPU's records were pushed in timestamp order */
	uint64_t events;
	uint64_t last_ts;
	uint64_t sum;
};

static void on_event(void *cookie, const struct bwm_event *ev)
{
	struct seen *s = cookie;
	uint32_t i;

	FUZZ_ASSERT(((uintptr_t)ev & 7) == 0);
	for (i = 0; i < ev->len; i++)	/* every byte readable (ASan) */
		s->sum += (unsigned char)ev->data[i];
	FUZZ_ASSERT(!s->ordered || !s->events || ev->ts >= s->last_ts);
	/* What a record leaves out (balance.c) never exceeds what the call wrote. */
	{
		struct shortfall sf;

		balance_shortfall(ev, ev->ts & 1 ? UINT64_MAX : 65536, &sf);
		FUZZ_ASSERT(balance_sum(&sf) <= ev->total);
		FUZZ_ASSERT(ev->total > UINT64_MAX - ev->len ||
			    balance_record_bytes(ev) <= (uint64_t)ev->len + ev->total);
	}
	s->events++;
	s->last_ts = ev->ts;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	uint8_t first = take_u8(&c);
	int ncpu = 1 + first % 8, i;
	struct merger *r = merge_new(ncpu);
	uint64_t pushed = 0, released = 0, last[8] = { 0 }, capped = 0;
	bool ordered = true;
	static uint8_t raw[255 * 5 + 8] __attribute__((aligned(8)));

	if (!r)
		return 0;
	if (first & 0x80)	/* a cap of 0 to 7.5 KiB a CPU (0: none) */
		merge_set_cap(r, (first >> 3 & 15) * 512);
	while (c.left) {
		uint8_t op = take_u8(&c);
		int cpu = (int8_t)take_u8(&c) % 12;	/* out of range, negative too */
		struct seen s = { .ordered = ordered };
		const uint8_t *p;
		size_t n;

		switch (op % 4) {
		case 0:
		case 1:
			/* A record: header fields from the input, then a truncated body or not. */
			p = take_bytes(&c, take_u8(&c) * 5, &n);
			memset(raw, 0, sizeof(raw));
			memcpy(raw, p, n);
			if (merge_push(r, cpu, raw, op & 0x80 ? n : sizeof(raw)) == 0) {
				const struct bwm_event *ev = (const void *)raw;

				pushed++;
				ordered = ordered && ev->ts >= last[cpu];
				last[cpu] = ev->ts;
			}
			break;
		case 2:
			merge_lost(r, cpu, take_u64(&c));
			break;
		default:
			released += merge_release(r, op & 0x80 ? UINT64_MAX : take_u64(&c),
						   on_event, &s);
			FUZZ_ASSERT(s.events <= pushed);
			break;
		}
	}
	FUZZ_ASSERT(released + merge_queued(r) == pushed);
	for (i = 0; i < ncpu; i++)
		capped += merge_capped_on(r, i);
	FUZZ_ASSERT(capped <= merge_no_memory(r));
	merge_release(r, UINT64_MAX, on_event, &(struct seen){ 0 });
	FUZZ_ASSERT(merge_queued(r) == 0);
	merge_free(r);
	return 0;
}
