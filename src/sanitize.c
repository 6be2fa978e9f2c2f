// SPDX-License-Identifier: GPL-2.0
/*
 * sanitize.c - strip terminal escape sequences and control bytes from a line.
 *
 * Pure: bytes in, bytes out. Follows ECMA-48 closely enough for what programs
 * really print: colours and cursor movement (CSI), titles and hyperlinks (OSC),
 * device control strings, charset selection and the other two-byte ESC forms.
 */
#include <stdint.h>
#include <string.h>

#include "sanitize.h"

#define ESC	0x1b
#define BEL	0x07

/* Length of the valid UTF-8 sequence at p (1 to 4) and its code point; 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0], min;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* End of a CSI sequence whose parameters start at j: parameters, intermediates, final. */
static size_t skip_csi(const unsigned char *p, size_t n, size_t j)
{
	while (j < n && p[j] >= 0x20 && p[j] <= 0x3f)
		j++;
	if (j < n && p[j] >= 0x40 && p[j] <= 0x7e)
		j++;
	return j;
}

/*
 * End of a control string (OSC, DCS, SOS, PM, APC) whose body starts at j:
 * after BEL, ST (ESC \ or U+009C), or just before any other ESC, which starts
 * a sequence of its own. An unterminated string runs to the end of the line.
 */
static size_t skip_string(const unsigned char *p, size_t n, size_t j)
{
	while (j < n) {
		if (p[j] == BEL)
			return j + 1;
		if (p[j] == ESC)
			return j + 1 < n && p[j + 1] == '\\' ? j + 2 : j;
		if (p[j] == 0xc2 && j + 1 < n && p[j + 1] == 0x9c)
			return j + 2;
		j++;
	}
	return j;
}

/* End of the sequence introduced by ESC at i. */
static size_t skip_esc(const unsigned char *p, size_t n, size_t i)
{
	unsigned char c;

	if (i + 1 >= n)
		return n;
	c = p[i + 1];
	if (c == '[')
		return skip_csi(p, n, i + 2);
	if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
		return skip_string(p, n, i + 2);
	if (c >= 0x20 && c <= 0x2f) {		/* intermediates, then a final byte */
		i += 2;
		while (i < n && p[i] >= 0x20 && p[i] <= 0x2f)
			i++;
		return i < n && p[i] >= 0x30 && p[i] <= 0x7e ? i + 1 : i;
	}
	if (c >= 0x30 && c <= 0x7e)		/* two-byte sequence: ESC 7, ESC =, ESC c ... */
		return i + 2;
	return i + 1;				/* a lone ESC */
}

/* End of the sequence introduced by the C1 control cp, encoded in 2 bytes at i. */
static size_t skip_c1(const unsigned char *p, size_t n, size_t i, unsigned cp)
{
	if (cp == 0x9b)
		return skip_csi(p, n, i + 2);
	if (cp == 0x9d || cp == 0x90 || cp == 0x98 || cp == 0x9e || cp == 0x9f)
		return skip_string(p, n, i + 2);
	return i + 2;
}

static size_t put_hex(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 0xf];
	return 4;
}

/*
 * Length of the run of printable ASCII (0x20 to 0x7e) at p: eight bytes at a
 * time while it can (most output is plain text), then byte by byte.
 */
static size_t plain_run(const unsigned char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		/* A byte below 0x20, or above 0x7e (top bit or 0x7f), ends the run. */
		if (((v - ones * 0x20) | (v + ones * (0x7f - 0x7e)) | v) & highs)
			break;
	}
	while (i < n && p[i] >= 0x20 && p[i] < 0x7f)
		i++;
	return i;
}

size_t sanitize(const char *in, size_t n, char *out, bool ascii)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0, len, k;
	unsigned cp;

	while (i < n) {
		unsigned char c = p[i];

		len = plain_run(p + i, n - i);
		if (len) {
			memcpy(out + o, p + i, len);
			o += len;
			i += len;
			continue;
		}

		if (c == ESC) {
			i = skip_esc(p, n, i);
			continue;
		}
		if (c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7f)) {
			out[o++] = c;
			i++;
			continue;
		}
		if (c < 0x80) {				/* C0 control or DEL */
			i++;
			continue;
		}
		len = utf8_seq(p + i, n - i, &cp);
		if (len == 0) {				/* not UTF-8: show the byte */
			o += put_hex(out + o, c);
			i++;
			continue;
		}
		if (cp < 0xa0) {			/* C1 control, maybe a sequence */
			i = skip_c1(p, n, i, cp);
			continue;
		}
		for (k = 0; k < len; k++) {
			if (ascii)
				o += put_hex(out + o, p[i + k]);
			else
				out[o++] = p[i + k];
		}
		i += len;
	}
	return o;
}
