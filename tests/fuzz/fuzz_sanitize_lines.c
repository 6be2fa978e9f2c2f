// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_sanitize_lines - arbitrary bytes, split at arbitrary points into
 * chunks of writes by several threads on both streams, through the line
 * assembler, every line through the sanitizer.
 *
 * Input: two bytes of settings (ascii, max_line; max_held, the quiet
 * window), then records of [control byte][length byte][data]: control picks
 * the thread, the fd (1 or 2) and the chunk flags, or asks to flush one
 * process or thread; time advances by the length byte (ns) per record.
 * Invariant: every byte fed comes out, a newline as the end of a line (or
 * as the lone newline that only ends a line passed on without one: a cap,
 * the window). The caps cut lines (marked continued, which the formatter
 * shows as a marker): no line is longer than max_line.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "lines.h"
#include "sanitize.h"

struct tally {
	bool ascii;
	size_t max_line;
	uint64_t bytes_out;
	uint64_t lines;
	char out[SANITIZE_MAX_OUT(4096)];
};

static void on_line(void *cookie, const struct line_meta *m, const char *text, size_t len,
		    uint64_t missing)
{
	struct tally *t = cookie;
	size_t off, n;

	(void)missing;
	FUZZ_ASSERT(m->fd == 1 || m->fd == 2);
	FUZZ_ASSERT(len <= t->max_line);
	t->bytes_out += len;
	t->lines++;
	for (off = 0; off < len; off += n) {
		size_t got;

		n = len - off < 4096 ? len - off : 4096;
		got = sanitize(text + off, n, t->out, t->ascii);
		FUZZ_ASSERT(got <= SANITIZE_MAX_OUT(n));
		/* Nothing the terminal would act on survives. */
		FUZZ_ASSERT(!memchr(t->out, '\x1b', got) && !memchr(t->out, '\r', got));
	}
}

static uint64_t count_newlines(const uint8_t *p, size_t n)
{
	uint64_t c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		c += p[i] == '\n';
	return c;
}

/* A control byte that asks for a flush: of the thread (fd bit set) or of the process. */
static bool flush_asked(struct lines *l, uint8_t ctl, const struct line_meta *m)
{
	if ((ctl & 0x70) != 0x70)
		return false;
	if (ctl & 0x80)
		lines_flush_thread(l, m->tid);
	else
		lines_flush_process(l, m->tgid);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	static struct tally t;
	uint8_t settings = take_u8(&c), caps = take_u8(&c);
	uint64_t fed = 0, newlines = 0, now = 0;
	struct lines_opts o = {
		.max_line = 1 + (settings >> 1) * 33,
		.max_held = 1 + (caps >> 4) * 257,
		.window_ns = (caps & 0x0f) * 16,
	};
	struct lines *l;

	memset(&t, 0, sizeof(t));
	t.ascii = settings & 1;
	t.max_line = o.max_line;
	l = lines_new(&o, on_line, &t);
	if (!l)
		return 0;
	while (c.left) {
		uint8_t ctl = take_u8(&c), want = take_u8(&c);
		struct line_meta m = { .ts = now += want, .tgid = 100 + (ctl & 3),
				       .fd = 1 + (ctl >> 7) };
		const uint8_t *p;
		size_t n;

		m.tid = m.tgid + ((ctl >> 2) & 1);
		if (flush_asked(l, ctl, &m))
			continue;
		p = take_bytes(&c, want, &n);
		lines_feed(l, &m, (const char *)p, n, (ctl >> 4) & 3, (ctl >> 6) & 1 ? want : 0);
		lines_tick(l, now);
		fed += n;
		newlines += count_newlines(p, n);
	}
	lines_flush_all(l);
	FUZZ_ASSERT(lines_pending(l) == 0 && lines_held(l) == 0);
	FUZZ_ASSERT(t.bytes_out + newlines == fed);
	lines_free(l);
	return 0;
}
