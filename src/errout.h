/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_ERROUT_H
#define BWM_ERROUT_H

#include <signal.h>
#include <stdint.h>

/*
 * The tool's own messages (stderr) go through a stream that, like the sink,
 * never blocks a stop: once *stop is set, a write stderr's reader does not
 * take gets grace_ns more, then it and what follows are dropped; from a
 * second stop request (*stop >= 2) on, at once. Without it, a summary written
 * to a pipe nobody reads (`tool 2>&1 | stuck`) would keep the tool for ever.
 * What is dropped is not counted: the tool's messages are not the traced
 * processes' bytes, and the only place to report them is the stream that
 * did not take them.
 */
int errout_install(const volatile sig_atomic_t *stop, uint64_t grace_ns);

#endif /* BWM_ERROUT_H */
