/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_FILEIO_H
#define BWM_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Reading whole files (fileio.c), one read loop for all: templates, /proc
 * and /sys files.
 */

/* Read from fd until EOF or size bytes (through EINTR); bytes read, or -errno. */
ssize_t fileio_read_upto(int fd, char *buf, size_t size);

/* Read all of an open file into a new NUL-terminated buffer; 0 or -errno. */
int fileio_read_fd(int fd, char **text, size_t *len);

/* Read a small file into buf (NUL-terminated, at most size - 1 bytes); bytes read or -errno. */
ssize_t fileio_read_small(const char *path, char *buf, size_t size);

#endif /* BWM_FILEIO_H */
