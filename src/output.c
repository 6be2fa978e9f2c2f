// SPDX-License-Identifier: GPL-2.0
/*
 * output.c - the file that --output names: created private, or checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

#define OPEN_FLAGS	(O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)

static const char *kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISDIR(mode))
		return "a directory";
	return "not a regular file";
}

/* Why open() failed on an existing path, and what to do instead. */
static void open_error(const char *path, int err, char *msg, size_t len)
{
	const char *hint = "";

	if (err == ELOOP)
		hint = " (it is a symlink: give the real path)";
	else if (err == ENXIO)
		hint = " (a FIFO nobody reads: use shell redirection, > FIFO, instead of -o)";
	else if (err == EISDIR)
		hint = " (it is a directory: give a file name)";
	snprintf(msg, len, "cannot open %s for appending: %s%s", path, strerror(err), hint);
}

/* Is an existing file fit to receive captured output? 0, or -1 with a message. */
static int check_existing(int fd, const char *path, char *msg, size_t len)
{
	struct stat st;

	if (fstat(fd, &st)) {
		snprintf(msg, len, "cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, len, "refusing --output %s: it is %s (-o takes a regular file; "
			 "for FIFOs and devices use shell redirection: > %s)", path,
			 kind(st.st_mode), path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(msg, len, "refusing --output %s: it is owned by UID %u, not by UID %u "
			 "(captured output can hold secrets: give a new file name, or chown %u "
			 "%s)", path, (unsigned)st.st_uid, (unsigned)geteuid(),
			 (unsigned)geteuid(), path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(msg, len, "refusing --output %s: its mode %04o lets other users at it "
			 "(captured output can hold secrets: chmod 600 %s, or give a new file "
			 "name)", path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

int output_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, OPEN_FLAGS | O_CREAT | O_EXCL, 0600);

	if (fd < 0 && errno == EEXIST) {
		fd = open(path, OPEN_FLAGS);
		if (fd < 0) {
			open_error(path, errno, err, errlen);
			return -1;
		}
		if (check_existing(fd, path, err, errlen)) {
			close(fd);
			return -1;
		}
	} else if (fd < 0) {
		open_error(path, errno, err, errlen);
		return -1;
	}
	/* Only the open was not to block: writes to a file do not anyway. */
	if (fcntl(fd, F_SETFL, O_APPEND) < 0) {
		snprintf(err, errlen, "cannot set up %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
