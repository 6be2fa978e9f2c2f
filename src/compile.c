// SPDX-License-Identifier: GPL-2.0
/*
 * compile.c - the tracer's side of the compiler child (compile_child.c):
 * start it early (it loads libbcc meanwhile), hand it the program text, take
 * back the loaded program and map fds, or the compiled image. So the tracer
 * never keeps the compiler resident. It knows nothing of the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compile_wire.h"
#include "image.h"

static int receive_reply(int sock, struct wire_reply *rep, int *fds, int *nfds)
{
	char control[CMSG_SPACE(sizeof(int) * MAX_ITEMS)];
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*rep))
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			*nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), *nfds * sizeof(int));
		}
	}
	return 0;
}


struct compiler {
	pid_t pid;
	int sock;
};

static struct compiler *start(bool verbose, bool quiet, char *err, size_t errlen)
{
	struct compiler *c = calloc(1, sizeof(*c));
	int sv[2];

	if (!c || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		free(c);
		return NULL;
	}
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(c);
		return NULL;
	}
	if (c->pid == 0) {
		close(sv[0]);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (null >= 0)
				dup2(null, STDERR_FILENO);
		}
		compile_child(sv[1], verbose);
	}
	close(sv[1]);
	c->sock = sv[0];
	return c;
}

struct compiler *compiler_start(bool verbose, char *err, size_t errlen)
{
	return start(verbose, false, err, errlen);
}

struct compiler *compiler_start_quiet(char *err, size_t errlen)
{
	return start(false, true, err, errlen);
}

/* Close the line to the child (one that has no text yet then leaves), reap it; its status. */
static int compiler_end(struct compiler *c)
{
	int status = 0;

	close(c->sock);
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	free(c);
	return status;
}

void compiler_cancel(struct compiler *c)
{
	if (c)
		compiler_end(c);
}

/* Hand text to the child with the mode byte in front, one message; c is freed on failure. */
static int send_text(struct compiler *c, char mode, const char *text, char *err, size_t errlen)
{
	struct iovec iov[2] = { { &mode, 1 }, { (void *)text, strlen(text) } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (sendmsg(c->sock, &msg, MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "cannot hand the program to the compiler: %s%s",
			 strerror(errno), errno == EMSGSIZE ? " (the templates are too big)" : "");
		compiler_end(c);
		return -1;
	}
	return 0;
}

/* The child's answer in out; c is freed. */
static int take(struct compiler *c, struct compiled *out, char *err, size_t errlen)
{
	static struct wire_reply rep;
	int fds[MAX_ITEMS], nfds = 0, status, i;

	memset(&rep, 0, sizeof(rep));
	if (receive_reply(c->sock, &rep, fds, &nfds))
		rep.status = -1;
	status = compiler_end(c);
	if (rep.status != 0 || nfds != rep.n) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (rep.status > 0)
			snprintf(err, errlen, "%s", rep.msg);
		else if (WIFSIGNALED(status))
			snprintf(err, errlen, "the BPF compiler (libbcc) crashed with signal %d",
				 WTERMSIG(status));
		else
			snprintf(err, errlen, "the BPF compiler (libbcc) exited without a result");
		return -1;
	}
	out->n = rep.n;
	for (i = 0; i < rep.n; i++) {
		snprintf(out->items[i].name, sizeof(out->items[i].name), "%s", rep.items[i].name);
		out->items[i].is_map = rep.items[i].is_map;
		out->items[i].fd = fds[i];
	}
	return 0;
}

int compiler_finish(struct compiler *c, const char *text, struct compiled *out, char *err,
		    size_t errlen)
{
	return send_text(c, MODE_LOAD, text, err, errlen) ? -1 : take(c, out, err, errlen);
}

int compiler_image_send(struct compiler *c, const char *text, char *err, size_t errlen)
{
	return send_text(c, MODE_IMAGE, text, err, errlen);
}

int compiler_image_take(struct compiler *c, struct image *img, char *err, size_t errlen)
{
	static struct compiled out;
	struct stat st;
	uint8_t *buf = NULL;
	int rc = -1, fd, i;

	if (take(c, &out, err, errlen))
		return -1;
	fd = out.items[0].fd;
	if (out.n == 1 && !strcmp(out.items[0].name, "image") && fstat(fd, &st) == 0 &&
	    (buf = malloc(st.st_size + 1)) != NULL && pread(fd, buf, st.st_size, 0) == st.st_size)
		rc = image_parse(buf, st.st_size, img, err, errlen);
	else
		snprintf(err, errlen, "the BPF compiler sent no usable image");
	free(buf);
	for (i = 0; i < out.n; i++)
		close(out.items[i].fd);
	return rc;
}

int compiler_image(struct compiler *c, const char *text, struct image *img, char *err,
		   size_t errlen)
{
	return compiler_image_send(c, text, err, errlen) ? -1 :
	       compiler_image_take(c, img, err, errlen);
}
