// SPDX-License-Identifier: GPL-2.0
/*
 * writer - a scripted process for the integration tests to trace.
 *
 * Runs its arguments as actions, in order. TEXT takes C escapes (\n \t \r \e
 * \\ \xNN); in lists, '|' separates items (write \x7c for a literal one).
 *
 *   wait                   read one byte from stdin (the test's "go")
 *   out:TEXT  err:TEXT     write(1 or 2, TEXT)
 *   write:FD:TEXT          write(FD, TEXT)
 *   writev:FD:A|B|...      one writev() of those iovecs
 *   pwrite:FD:TEXT         pwrite64(FD, TEXT, offset 0)
 *   sendto:FD:TEXT         sendto(FD, TEXT)
 *   sendmsg:FD:A|B|...     one sendmsg() with those iovecs
 *   sendmmsg:FD:A|B|...    one sendmmsg() with one message per item
 *   splice:FD:N            splice N bytes from a pipe into FD
 *   sendfile:FD:N          sendfile N bytes from a file into FD
 *   devnull:FD  file:FD    point FD at /dev/null, or at a new unlinked file
 *   socket:FD              point FD at a socket whose peer a thread drains
 *   burst:FD:COUNT:LEN     COUNT lines of LEN bytes ("%09d xxx...\n"), back to back
 *   pinalt:FD:COUNT        COUNT lines "seq N", switching CPU before each
 *   try:FD:TEXT            write(FD, TEXT), ignoring a failure
 *   bigwrite:FD:SIZE:LINE  one write() of SIZE bytes: lines of LINE bytes, letters
 *                          'a'+(line % 26) then '\n'; LINE 0: SIZE 'x', no newline
 *   writevn:FD:N,N,...     one writev() of iovecs of those sizes, iovec i all 'A'+i
 *   copyfile:FD:PATH:CHUNK write PATH's bytes to FD, CHUNK bytes per write()
 *   eagain:FD              FD becomes a full non-blocking pipe (lines of 4095 'f'
 *                          then '\n'); "after eagain\n" is retried until the pipe
 *                          is drained; prints "fills=K eagain=N" on stderr
 *   short:FD               as eagain, then one write() of 200 lines of 99 'g' and
 *                          '\n' that the pipe takes in part; the rest is written
 *                          after draining; prints "fills=K short=N" on stderr
 *   epipe:FD               FD becomes a pipe whose reader is gone
 *   closefd:FD             close FD
 *   storm:N                fork N children, one at a time; each writes
 *                          "storm I" (no newline) to fd 1 and exits
 *   threads:N:COUNT        start N threads (thousands fit) now; at "release" each writes COUNT
 *                          lines "thread T line I\n" to fd 1, then they are joined
 *   release                see threads
 *   leader-exit            release the threads and end the main thread alone
 *                          (pthread_exit): the process lives on in its threads
 *   leader-exit-first      the same, but the threads write only once the main
 *                          thread has exited (is a zombie)
 *   fork-exit:CODE         fork a child that writes "exiting CODE\n" and exits
 *                          with CODE; wait for it
 *   fork-kill:SIG          fork a child that writes "dying SIG\n" and kills
 *                          itself with signal SIG; wait for it
 *   holders:N:SIZE[:MS[:BATCH]]
 *                          start N threads, one at a time, MS (1) ms apart; thread T writes
 *                          "T%04d " and SIZE - 6 'x' to fd 1, no newline, and waits;
 *                          then "held N" goes to stderr. At "release" each writes
 *                          "\n" and ends, and they are joined. With BATCH, after each
 *                          BATCH threads have written, "batch K\n" goes to fd 1 and one
 *                          byte is read from stdin (the test's "go" once it saw the line)
 *   thread-part:TEXT       a thread writes TEXT to fd 1 and ends (its process lives
 *                          on); it is joined
 *   sleep:MS               sleep
 *   exit:CODE              exit now
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define MAX_ITEMS 64

/* Decode C escapes in place; returns the length. */
static size_t unescape(char *s)
{
	char *o = s, *p = s;

	while (*p) {
		if (*p != '\\' || !p[1]) {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; p++; break;
		case 't': *o++ = '\t'; p++; break;
		case 'r': *o++ = '\r'; p++; break;
		case 'e': *o++ = 0x1b; p++; break;
		case 'a': *o++ = 0x07; p++; break;
		case '0': *o++ = 0; p++; break;
		case 'x': {
			char hex[3] = { p[1], p[2], 0 };

			*o++ = (char)strtol(hex, NULL, 16);
			p += 3;
			break;
		}
		default: *o++ = *p++; break;
		}
	}
	return o - s;
}

/* Split a list at '|' and unescape each item. */
static int split(char *list, struct iovec *iov)
{
	int n = 0;
	char *save = NULL, *item;

	for (item = strtok_r(list, "|", &save); item && n < MAX_ITEMS;
	     item = strtok_r(NULL, "|", &save)) {
		iov[n].iov_base = item;
		iov[n].iov_len = unescape(item);
		n++;
	}
	return n;
}

static void *drain_socket(void *arg)
{
	char buf[65536];

	while (read((int)(long)arg, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* A non-blocking pipe on fd, filled with lines of 4095 'f': its read end, and how many. */
static int full_pipe(int fd, int *fills)
{
	char line[4096];
	int p[2];

	if (pipe2(p, O_NONBLOCK) || dup2(p[1], fd) < 0)
		die("pipe2");
	close(p[1]);
	memset(line, 'f', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	*fills = 0;
	while (write(fd, line, sizeof(line)) == (ssize_t)sizeof(line))
		(*fills)++;
	if (errno != EAGAIN)
		die("fill");
	return p[0];
}

static void drain(int rd, size_t n)
{
	char buf[65536];

	while (n > 0) {
		ssize_t r = read(rd, buf, n < sizeof(buf) ? n : sizeof(buf));

		if (r <= 0)
			break;
		n -= r;
	}
}

/* One byte from stdin: the test's "go". */
static void wait_for_go(void)
{
	char c;

	if (read(0, &c, 1) < 0)
		die("read stdin");
}

static pthread_t *threads, *holder_ids;
static int nthreads, thread_lines, gate[2] = { -1, -1 };
static long holders_written;		/* holders whose partial line is written */
static pid_t wait_for_leader;	/* leader-exit-first: its pid */

/* Wait (10 s at most) until the main thread is a zombie. */
static void leader_gone(void)
{
	char path[64], buf[256], *p;
	int i, fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)wait_for_leader);
	for (i = 0; i < 10000; i++) {
		ssize_t n = -1;

		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		if (n <= 0)
			return;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'Z')
			return;
		usleep(1000);
	}
}

/* A thread started before the monitor: it waits at the gate, then writes. */
static void *thread_writer(void *arg)
{
	long t = (long)arg, i;
	char c;

	if (read(gate[0], &c, 1) < 0)
		die("gate");
	if (wait_for_leader)
		leader_gone();
	for (i = 0; i < thread_lines; i++) {
		char line[64];

		write_all(1, line, snprintf(line, sizeof(line), "thread %ld line %ld\n", t, i));
	}
	return NULL;
}

/* A thread that holds a partial line until the gate opens (holders:N:SIZE). */
static void *thread_holder(void *arg)
{
	long t = (long)arg;
	char c, *buf = malloc(thread_lines);

	if (!buf || thread_lines < 6)
		die("holder");
	memset(buf, 'x', thread_lines);
	snprintf(buf, 6, "T%04ld", t);
	buf[5] = ' ';
	write_all(1, buf, thread_lines);
	free(buf);
	__atomic_add_fetch(&holders_written, 1, __ATOMIC_RELEASE);
	if (read(gate[0], &c, 1) < 0)
		die("gate");
	write_all(1, "\n", 1);
	return NULL;
}

static void *thread_part(void *arg)
{
	write_all(1, arg, strlen(arg));
	return NULL;
}

static void start_holders(char *arg)
{
	static pthread_t *ids;
	struct timespec pause = { 0, 1000000 };
	pthread_attr_t attr;
	char *colon = strchr(arg, ':'), *ms = colon ? strchr(colon + 1, ':') : NULL;
	char *batch = ms ? strchr(ms + 1, ':') : NULL, line[32];
	long t, every = batch ? atol(batch + 1) : 0;

	nthreads = atoi(arg);
	thread_lines = colon ? atoi(colon + 1) : 4096;
	if (ms)
		pause.tv_nsec = atol(ms + 1) % 1000 * 1000000;
	ids = calloc(nthreads, sizeof(*ids));
	if (!ids || pipe(gate) || pthread_attr_init(&attr) ||
	    pthread_attr_setstacksize(&attr, 1 << 16))
		die("holders");
	for (t = 0; t < nthreads; t++) {
		if (pthread_create(&ids[t], &attr, thread_holder, (void *)t))
			die("pthread_create");
		nanosleep(&pause, NULL);
		if (every <= 0 || (t + 1) % every)
			continue;
		while (__atomic_load_n(&holders_written, __ATOMIC_ACQUIRE) < t + 1)
			nanosleep(&pause, NULL);
		write_all(1, line, snprintf(line, sizeof(line), "batch %ld\n", (t + 1) / every));
		wait_for_go();
	}
	fprintf(stderr, "held %d\n", nthreads);
	holder_ids = ids;
}

static void fork_and_wait(void (*child)(int), int arg)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		child(arg);
		_exit(0);
	}
	if (waitpid(pid, NULL, 0) < 0)
		die("waitpid");
}

static void child_exit(int code)
{
	char line[32];

	write_all(1, line, snprintf(line, sizeof(line), "exiting %d\n", code));
	_exit(code);
}

static void child_kill(int sig)
{
	char line[32];

	write_all(1, line, snprintf(line, sizeof(line), "dying %d\n", sig));
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(99);
}

static void child_storm(int i)
{
	char line[32];

	write_all(1, line, snprintf(line, sizeof(line), "storm %d", i));
}

static void do_action(char *a)
{
	struct iovec iov[MAX_ITEMS];
	char *arg = strchr(a, ':');
	int fd = -1, n;

	if (arg)
		*arg++ = '\0';
	if (!strcmp(a, "wait")) {
		wait_for_go();
		return;
	}
	if (!strcmp(a, "out") || !strcmp(a, "err")) {
		size_t len = unescape(arg);

		write_all(a[0] == 'o' ? 1 : 2, arg, len);
		return;
	}
	if (!strcmp(a, "sleep")) {
		struct timespec ts = { atoi(arg) / 1000, atoi(arg) % 1000 * 1000000L };

		nanosleep(&ts, NULL);
		return;
	}
	if (!strcmp(a, "exit"))
		exit(atoi(arg));
	if (!strcmp(a, "release")) {
		int i;

		close(gate[1]);		/* every thread's read() returns 0 */
		for (i = 0; i < nthreads; i++)
			pthread_join(holder_ids ? holder_ids[i] : threads[i], NULL);
		return;
	}
	if (!strcmp(a, "leader-exit") || !strcmp(a, "leader-exit-first")) {
		if (a[11])
			wait_for_leader = getpid();
		close(gate[1]);
		pthread_exit(NULL);
	}
	if (!strcmp(a, "storm")) {
		int i, n = atoi(arg);

		for (i = 0; i < n; i++)
			fork_and_wait(child_storm, i);
		return;
	}
	if (!strcmp(a, "fork-exit")) {
		fork_and_wait(child_exit, atoi(arg));
		return;
	}
	if (!strcmp(a, "fork-kill")) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		fork_and_wait(child_kill, atoi(arg));
		return;
	}
	if (!strcmp(a, "thread-part")) {
		pthread_t th;

		unescape(arg);
		if (pthread_create(&th, NULL, thread_part, arg) || pthread_join(th, NULL))
			die("thread-part");
		return;
	}
	if (!strcmp(a, "holders")) {
		start_holders(arg);
		return;
	}
	if (!strcmp(a, "threads")) {
		char *colon = strchr(arg, ':');
		long t;

		pthread_attr_t attr;

		nthreads = atoi(arg);
		thread_lines = colon ? atoi(colon + 1) : 10;
		threads = calloc(nthreads > 0 ? nthreads : 1, sizeof(*threads));
		/* Small stacks: thousands of threads fit. */
		if (!threads || pipe(gate) || pthread_attr_init(&attr) ||
		    pthread_attr_setstacksize(&attr, 64 * 1024))
			die("threads");
		for (t = 0; t < nthreads; t++)
			if (pthread_create(&threads[t], &attr, thread_writer, (void *)t))
				die("pthread_create");
		pthread_attr_destroy(&attr);
		return;
	}
	if (!arg)
		goto bad;
	fd = atoi(arg);
	arg = strchr(arg, ':');
	if (arg)
		arg++;
	if (!strcmp(a, "closefd")) {
		close(fd);
		return;
	}
	if (!strcmp(a, "epipe")) {
		int p[2];

		if (pipe(p) || dup2(p[1], fd) < 0)
			die("pipe");
		close(p[0]);
		close(p[1]);
		return;
	}
	if (!strcmp(a, "devnull") || !strcmp(a, "file")) {
		int f;

		if (a[0] == 'd') {
			f = open("/dev/null", O_WRONLY);
		} else {
			char path[] = "/tmp/writer-XXXXXX";

			f = mkstemp(path);
			if (f >= 0)
				unlink(path);
		}
		if (f < 0 || dup2(f, fd) < 0)
			die(a);
		if (f != fd)
			close(f);
		return;
	}
	if (!strcmp(a, "socket")) {
		pthread_t th;
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || dup2(sv[0], fd) < 0)
			die("socketpair");
		if (sv[0] != fd)
			close(sv[0]);
		if (pthread_create(&th, NULL, drain_socket, (void *)(long)sv[1]))
			die("pthread_create");
		return;
	}
	if (!strcmp(a, "eagain")) {
		static const char line[] = "after eagain\n";
		int fills, eagain = 0, rd = full_pipe(fd, &fills);

		while (write(fd, line, sizeof(line) - 1) < 0) {
			if (errno != EAGAIN)
				die("write");
			eagain++;
			drain(rd, 1 << 20);
		}
		fprintf(stderr, "fills=%d eagain=%d\n", fills, eagain);
		return;
	}
	if (!strcmp(a, "short")) {
		char big[20000];
		size_t done = 0, i;
		int fills, shorts = 0, rd = full_pipe(fd, &fills);

		for (i = 0; i < sizeof(big); i++)
			big[i] = i % 100 == 99 ? '\n' : 'g';
		drain(rd, 8192);	/* two free pages: room for part of the write */
		while (done < sizeof(big)) {
			ssize_t w = write(fd, big + done, sizeof(big) - done);

			if (w < 0 && errno != EAGAIN)
				die("write");
			if (w > 0 && (size_t)w < sizeof(big) - done)
				shorts++;
			if (w > 0)
				done += w;
			drain(rd, 1 << 20);
		}
		fprintf(stderr, "fills=%d short=%d\n", fills, shorts);
		return;
	}
	if (!arg)
		goto bad;
	if (!strcmp(a, "write")) {
		size_t len = unescape(arg);

		write_all(fd, arg, len);
	} else if (!strcmp(a, "try")) {
		size_t len = unescape(arg);

		if (write(fd, arg, len) >= 0)
			die("try: the write was expected to fail");
	} else if (!strcmp(a, "bigwrite")) {
		size_t size = atol(arg), line = strchr(arg, ':') ? atol(strchr(arg, ':') + 1) : 0, i;
		char *buf = malloc(size);

		if (!buf)
			die("malloc");
		for (i = 0; i < size; i++)
			buf[i] = !line ? 'x' : i % line == line - 1 ? '\n' : 'a' + (i / line) % 26;
		write_all(fd, buf, size);
		free(buf);
	} else if (!strcmp(a, "writevn")) {
		char *save = NULL, *tok;
		int i = 0;

		for (tok = strtok_r(arg, ",", &save); tok && i < MAX_ITEMS;
		     tok = strtok_r(NULL, ",", &save), i++) {
			iov[i].iov_len = atol(tok);
			iov[i].iov_base = malloc(iov[i].iov_len + 1);
			if (!iov[i].iov_base)
				die("malloc");
			memset(iov[i].iov_base, 'A' + i, iov[i].iov_len);
		}
		if (writev(fd, iov, i) < 0)
			die("writev");
	} else if (!strcmp(a, "copyfile")) {
		char *colon = strrchr(arg, ':'), *buf;
		size_t chunk = colon ? atol(colon + 1) : 4096;
		ssize_t r;
		int f;

		if (colon)
			*colon = '\0';
		f = open(arg, O_RDONLY);
		buf = malloc(chunk);
		if (f < 0 || !buf)
			die("copyfile");
		while ((r = read(f, buf, chunk)) > 0)
			write_all(fd, buf, r);
		close(f);
		free(buf);
	} else if (!strcmp(a, "pwrite")) {
		size_t len = unescape(arg);

		if (pwrite(fd, arg, len, 0) != (ssize_t)len)
			die("pwrite");
	} else if (!strcmp(a, "sendto")) {
		size_t len = unescape(arg);

		if (sendto(fd, arg, len, 0, NULL, 0) != (ssize_t)len)
			die("sendto");
	} else if (!strcmp(a, "writev")) {
		n = split(arg, iov);
		if (writev(fd, iov, n) < 0)
			die("writev");
	} else if (!strcmp(a, "sendmsg")) {
		struct msghdr m = { .msg_iov = iov };

		m.msg_iovlen = split(arg, iov);
		if (sendmsg(fd, &m, 0) < 0)
			die("sendmsg");
	} else if (!strcmp(a, "sendmmsg")) {
		struct mmsghdr mm[MAX_ITEMS];
		int i;

		n = split(arg, iov);
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < n; i++) {
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		if (sendmmsg(fd, mm, n, 0) != n)
			die("sendmmsg");
	} else if (!strcmp(a, "splice")) {
		size_t len = atol(arg), done = 0;
		char *buf = malloc(len);
		int p[2];

		if (!buf || pipe(p))
			die("pipe");
		memset(buf, 'x', len);
		while (done < len) {
			size_t step = len - done > 16384 ? 16384 : len - done;
			ssize_t s;

			write_all(p[1], buf, step);
			s = splice(p[0], NULL, fd, NULL, step, 0);
			if (s < 0)
				die("splice");
			done += s;
		}
		free(buf);
	} else if (!strcmp(a, "sendfile")) {
		size_t len = atol(arg);
		char path[] = "/tmp/writer-XXXXXX", *buf = malloc(len);
		int f = mkstemp(path);

		if (f < 0 || !buf)
			die("mkstemp");
		unlink(path);
		memset(buf, 'y', len);
		write_all(f, buf, len);
		if (sendfile(fd, f, &(off_t){ 0 }, len) != (ssize_t)len)
			die("sendfile");
		close(f);
		free(buf);
	} else if (!strcmp(a, "burst")) {
		long count = atol(arg), i;
		char *p = strchr(arg, ':');
		size_t len = p ? atol(p + 1) : 100;
		char *line = malloc(len + 16);

		if (!line || len < 11)
			die("burst");
		memset(line, 'x', len);
		line[len - 1] = '\n';
		for (i = 0; i < count; i++) {
			char num[24];

			snprintf(num, sizeof(num), "%09ld ", i);
			memcpy(line, num, 10);
			write_all(fd, line, len);
		}
		free(line);
	} else if (!strcmp(a, "pinalt")) {
		long count = atol(arg), i, ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		for (i = 0; i < count; i++) {
			char line[32];

			pin(i % ncpu);
			write_all(fd, line, snprintf(line, sizeof(line), "seq %ld\n", i));
		}
	} else {
		goto bad;
	}
	return;
bad:
	fprintf(stderr, "writer: bad action: %s\n", a);
	exit(98);
}

int main(int argc, char **argv)
{
	int i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++)
		do_action(argv[i]);
	return 0;
}
