/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_SANITIZE_H
#define BWM_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Worst case growth: every input byte shown as \xNN. */
#define SANITIZE_MAX_OUT(n)	((n) * 4)

/*
 * Make one line of captured output safe to print: drop ANSI escape sequences
 * (CSI, OSC including hyperlinks and titles, DCS/SOS/PM/APC strings, other ESC
 * sequences, and their 8-bit C1 forms), drop control bytes other than \t and
 * \n, keep valid UTF-8 and show every invalid byte as \xNN. With ascii, only
 * printable ASCII, \t and \n are kept and every other byte is shown as \xNN.
 *
 * out must hold SANITIZE_MAX_OUT(n) bytes; returns the bytes written (no NUL).
 */
size_t sanitize(const char *in, size_t n, char *out, bool ascii);

#endif /* BWM_SANITIZE_H */
