/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_OUTPUT_H
#define BWM_OUTPUT_H

#include <stddef.h>

/*
 * Open --output PATH for appending, for the captured output, which can hold
 * secrets. A new file is created mode 0600. An existing one must be a
 * regular file owned by the effective user and closed to group and others;
 * a symlink is never followed and opening never blocks (a FIFO nobody reads
 * is refused at once: FIFOs and devices are for shell redirection). Returns
 * a blocking fd, or -1 with a one-line message that says what to do in err.
 */
int output_open(const char *path, char *err, size_t errlen);

#endif /* BWM_OUTPUT_H */
