// SPDX-License-Identifier: GPL-2.0
/*
 * balance - a writer that counts its own ground truth, for the balance tests.
 *
 * Runs its arguments as actions, in order, and adds what every write-family
 * call returned (bytes written, as the kernel says) to one counter shared by
 * its threads and forked children. The bytes are lines of 64: 63 letters
 * 'a' + (line % 26), then '\n'.
 *
 *   wait                        read one byte from stdin (the test's "go")
 *   socket:FD                   point FD at a socket whose peer a thread drains
 *   write:FD:SIZE[:COUNT]       COUNT (1) write() calls of SIZE bytes
 *   writev:FD:NIOV:SIZE         one writev() of NIOV iovecs of SIZE bytes each
 *   sendmsg:FD:NIOV:SIZE        one sendmsg() of NIOV iovecs of SIZE bytes each
 *   sendmmsg:FD:MSGS:NIOV:SIZE  one sendmmsg() of MSGS messages, each NIOV iovecs of SIZE
 *   splice:FD:N                 splice N bytes from a pipe into FD
 *   sendfile:FD:N               sendfile N bytes from a file into FD
 *   threads:N:COUNT:SIZE        N threads, each COUNT write() calls of SIZE bytes to fd 1
 *   forks:N:COUNT:SIZE          N children, each COUNT write() calls of SIZE bytes to fd 1
 *   truth:PATH                  write "written N\n" to PATH (the counter so far)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "helpers.h"

#define MAX_IOV	1024

static _Atomic unsigned long long *written;	/* shared with forked children */
static char *pattern;				/* the bytes written, 1 MiB + 64 */
static size_t pattern_len;

static void count(ssize_t n)
{
	if (n < 0)
		die("write-family call");
	atomic_fetch_add(written, (unsigned long long)n);
}

static void make_pattern(size_t n)
{
	size_t i;

	pattern_len = n;
	pattern = malloc(n);
	if (!pattern)
		die("malloc");
	for (i = 0; i < n; i++)
		pattern[i] = i % 64 == 63 ? '\n' : 'a' + (i / 64) % 26;
}

static size_t num(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s ? s : "", &end, 10);

	if (!s || *end || v > pattern_len) {
		errno = EINVAL;
		die("a number up to 1 MiB + 64 expected");
	}
	return v;
}

static void writes(int fd, size_t size, size_t n)
{
	while (n--)
		count(write(fd, pattern, size));
}

static struct iovec iov[MAX_IOV];

static int iovecs(size_t niov, size_t size)
{
	size_t i;

	if (niov > MAX_IOV || niov * size > pattern_len) {
		errno = EINVAL;
		die("iovecs");
	}
	for (i = 0; i < niov; i++)
		iov[i] = (struct iovec){ .iov_base = pattern + i * size, .iov_len = size };
	return niov;
}

static void *drain_socket(void *arg)
{
	char buf[65536];

	while (read((int)(long)arg, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

struct job {
	size_t count, size;
};

static void *thread_main(void *arg)
{
	struct job *j = arg;

	writes(1, j->size, j->count);
	return NULL;
}

static void transfer(int fd, size_t n, int by_splice)
{
	int p[2], f;

	if (by_splice) {
		if (pipe(p))
			die("pipe");
		while (n > 0) {
			size_t step = n < 65536 ? n : 65536;
			ssize_t s;

			write_all(p[1], pattern, step);
			s = splice(p[0], NULL, fd, NULL, step, 0);
			count(s);
			n -= s;
		}
		close(p[0]);
		close(p[1]);
		return;
	}
	f = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	if (f < 0) {	/* overlayfs before 6.6 (the kernel guests' root) has no O_TMPFILE */
		char name[] = "/tmp/bwm-balance-XXXXXX";

		f = mkstemp(name);
		if (f < 0)
			die("mkstemp");
		unlink(name);
	}
	write_all(f, pattern, n);
	count(sendfile(fd, f, &(off_t){ 0 }, n));
	close(f);
}

static void act(char *a)
{
	char *arg[5] = { NULL };
	int i, fd;

	for (i = 0; i < 5 && (arg[i] = strsep(&a, ":")); i++)
		;
	fd = arg[1] ? atoi(arg[1]) : -1;
	if (!strcmp(arg[0], "wait")) {
		char c;

		if (read(0, &c, 1) != 1)
			die("wait");
	} else if (!strcmp(arg[0], "socket")) {
		pthread_t th;
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || dup2(sv[0], fd) < 0)
			die("socketpair");
		close(sv[0]);
		if (pthread_create(&th, NULL, drain_socket, (void *)(long)sv[1]))
			die("pthread_create");
	} else if (!strcmp(arg[0], "write")) {
		writes(fd, num(arg[2]), arg[3] ? num(arg[3]) : 1);
	} else if (!strcmp(arg[0], "writev")) {
		count(writev(fd, iov, iovecs(num(arg[2]), num(arg[3]))));
	} else if (!strcmp(arg[0], "sendmsg")) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = iovecs(num(arg[2]), num(arg[3])) };

		count(sendmsg(fd, &m, 0));
	} else if (!strcmp(arg[0], "sendmmsg")) {
		size_t msgs = num(arg[2]), k;
		struct mmsghdr *mm = calloc(msgs ? msgs : 1, sizeof(*mm));
		int sent;

		if (!mm)
			die("calloc");
		for (k = 0; k < msgs; k++) {
			mm[k].msg_hdr.msg_iov = iov;
			mm[k].msg_hdr.msg_iovlen = iovecs(num(arg[3]), num(arg[4]));
		}
		sent = sendmmsg(fd, mm, msgs, 0);
		if (sent < 0)
			die("sendmmsg");
		for (k = 0; k < (size_t)sent; k++)
			count(mm[k].msg_len);
		free(mm);
	} else if (!strcmp(arg[0], "splice") || !strcmp(arg[0], "sendfile")) {
		transfer(fd, num(arg[2]), arg[0][1] == 'p');
	} else if (!strcmp(arg[0], "threads")) {
		size_t n = strtoul(arg[1], NULL, 10), k;
		struct job j = { num(arg[2]), num(arg[3]) };
		pthread_t *th = calloc(n ? n : 1, sizeof(*th));

		for (k = 0; th && k < n; k++)
			if (pthread_create(&th[k], NULL, thread_main, &j))
				die("pthread_create");
		for (k = 0; th && k < n; k++)
			pthread_join(th[k], NULL);
		free(th);
	} else if (!strcmp(arg[0], "forks")) {
		size_t n = strtoul(arg[1], NULL, 10), k;
		size_t cnt = num(arg[2]), size = num(arg[3]);
		int status;

		for (k = 0; k < n; k++) {
			pid_t pid = fork();

			if (pid < 0)
				die("fork");
			if (pid == 0) {
				writes(1, size, cnt);
				_exit(0);
			}
		}
		while (wait(&status) > 0)
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				exit(98);
	} else if (!strcmp(arg[0], "truth")) {
		FILE *f = fopen(arg[1], "w");

		if (!f || fprintf(f, "written %llu\n", (unsigned long long)atomic_load(written)) < 0 ||
		    fclose(f))
			die("truth");
	} else {
		errno = EINVAL;
		die(arg[0]);
	}
}

int main(int argc, char **argv)
{
	int i;

	written = mmap(NULL, sizeof(*written), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (written == MAP_FAILED)
		die("mmap");
	make_pattern((1 << 20) + 64);
	for (i = 1; i < argc; i++)
		act(argv[i]);
	return 0;
}
