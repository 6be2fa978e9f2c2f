// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_format - the formatter (text and JSON, every prefix, every kind of
 * line) and the JSON escaper on arbitrary text, metadata and times.
 * Invariants: text mode writes exactly one line per call; JSON mode one
 * valid JSON object per line; the escaper one valid JSON string.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "format.h"
#include "fuzz.h"
#include "sanitize.h"

/* A strict little JSON checker: value at *p, up to end; advances *p. */
static bool json_value(const char **p, const char *end, int depth);

static bool utf8_char(const char **p, const char *end)
{
	const unsigned char *s = (const unsigned char *)*p;
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 3 : s[0] >= 0xe0 ? 2 : s[0] >= 0xc2 ? 1 : -1;
	int i;

	if (s[0] < 0x80) {
		(*p)++;
		return true;
	}
	if (n < 0 || s[0] > 0xf4 || end - *p <= n)
		return false;
	for (i = 1; i <= n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return false;
	*p += n + 1;
	return true;
}

static bool json_string(const char **p, const char *end)
{
	if (*p >= end || **p != '"')
		return false;
	for ((*p)++; *p < end && **p != '"';) {
		unsigned char c = **p;

		if (c < 0x20)
			return false;
		if (c != '\\') {
			if (!utf8_char(p, end))
				return false;
			continue;
		}
		if (++(*p) >= end)
			return false;
		if (**p == 'u') {
			int i;

			for (i = 1; i <= 4; i++)
				if (*p + i >= end || !strchr("0123456789abcdefABCDEF", (*p)[i]))
					return false;
			*p += 5;
		} else if (strchr("\"\\/bfnrt", **p) && **p) {
			(*p)++;
		} else {
			return false;
		}
	}
	if (*p >= end)
		return false;
	(*p)++;
	return true;
}

static bool json_object(const char **p, const char *end, int depth)
{
	(*p)++;
	if (*p < end && **p == '}') {
		(*p)++;
		return true;
	}
	for (;;) {
		if (!json_string(p, end) || *p >= end || *(*p)++ != ':' ||
		    !json_value(p, end, depth + 1) || *p >= end)
			return false;
		if (**p == '}') {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

static bool json_value(const char **p, const char *end, int depth)
{
	if (*p >= end || depth > 8)
		return false;
	if (**p == '{')
		return json_object(p, end, depth);
	if (**p == '"')
		return json_string(p, end);
	if (end - *p >= 4 && !memcmp(*p, "true", 4)) {
		*p += 4;
		return true;
	}
	if (end - *p >= 5 && !memcmp(*p, "false", 5)) {
		*p += 5;
		return true;
	}
	if (**p < '0' || **p > '9')
		return false;
	while (*p < end && **p >= '0' && **p <= '9')
		(*p)++;
	return true;
}

/* ob holds exactly one line; with json, one JSON object then the newline. */
static void check_line(const struct outbuf *ob, bool json)
{
	const char *p = ob->p, *end = ob->p + ob->len;

	if (getenv("FUZZ_DEBUG"))
		fwrite(ob->p, 1, ob->len, stderr);
	FUZZ_ASSERT(ob->len > 0 && ob->p[ob->len - 1] == '\n');
	FUZZ_ASSERT(memchr(ob->p, '\n', ob->len) == end - 1);
	if (!json)
		return;
	FUZZ_ASSERT(*p == '{' && json_value(&p, end - 1, 0) && p == end - 1);
}

static void render(struct formatter *f, struct outbuf *ob, struct cursor *c,
		   const struct line_meta *m, int64_t wall)
{
	uint8_t what = take_u8(c);
	uint64_t v = take_u64(c);
	const uint8_t *text;
	size_t n;

	text = take_bytes(c, take_u8(c) * 4, &n);
	switch (what % 6) {
	case 0:
		format_line(f, ob, m, wall, (const char *)text, n, what & 0x80 ? v : 0);
		break;
	case 1:
		format_transfer(f, ob, m, wall, v);
		break;
	case 2: {
		char note[96];

		snprintf(note, sizeof(note), "[... %llu more messages (%llu bytes) not captured]",
			 (unsigned long long)v, (unsigned long long)v * 7);
		format_note(f, ob, m, wall, note);
		break;
	}
	case 3:
		format_fork(f, ob, m, wall, (uint32_t)v);
		break;
	case 4:
		format_exec(f, ob, m, wall, (const char *)text, n);
		break;
	default:
		format_exit(f, ob, m, wall, (unsigned)v, what & 0x80);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	uint8_t o = take_u8(&c);
	struct format_opts opts = {
		.timestamp = o & 1, .pid = o & 2, .comm = o & 4, .label = o & 8,
		.bare_fd = o & 16 ? 2 : 1, .ascii = o & 32, .json = o & 64,
	};
	static char tmp[SANITIZE_MAX_OUT(255)];
	struct outbuf ob = { 0 };
	struct formatter f;
	const char *s;
	const uint8_t *p;
	size_t n;

	format_init(&f, &opts);
	while (c.left) {
		struct line_meta m = { 0 };
		int64_t wall;

		m.tgid = take_u64(&c);
		m.tid = take_u64(&c);
		m.fd = take_u8(&c);
		p = take_bytes(&c, sizeof(m.comm), &n);
		memcpy(m.comm, p, n);
		/* Times a real run can see: the epoch to year 2200. */
		wall = (int64_t)(take_u64(&c) % 7258118400000000000ull);
		ob.len = 0;
		render(&f, &ob, &c, &m, wall);
		check_line(&ob, opts.json);
		/* The escaper alone, on sanitized text (its callers' promise: UTF-8). */
		p = take_bytes(&c, take_u8(&c), &n);
		n = sanitize((const char *)p, n, tmp, opts.ascii);
		ob.len = 0;
		format_json_string(&ob, tmp, n);
		s = ob.p;
		FUZZ_ASSERT(json_string(&s, ob.p + ob.len) && s == ob.p + ob.len);
	}
	ob_free(&ob);
	return 0;
}
