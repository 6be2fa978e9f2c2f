// SPDX-License-Identifier: GPL-2.0
/*
 * journal.c - --journal: captured lines and records as structured entries of
 * systemd-journald, through libsystemd's sd_journal_sendv().
 *
 * sd_journal_sendv() sends each entry as one datagram (a memfd when it is too
 * big for one); a field whose value holds a newline goes in the protocol's
 * binary form, any other byte (NUL, invalid UTF-8) as it is: journald keeps
 * values as bytes. Its socket blocks while journald's queue is full: the run
 * loop waits (the perf buffers, and the ledger, take the pressure); after a
 * stop, SIGALRM interrupts a blocked send (run.c) and past the grace the rest
 * is counted, not sent.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#define SD_JOURNAL_SUPPRESS_LOCATION	/* no CODE_FILE= of ours on a traced line */
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "options.h"

#define MAX_FIELDS	24
#define FIELD_SPACE	1024	/* the short fields, all of one entry */

/* One entry being put together: iovecs into msg (MESSAGE=) and into space. */
struct entry {
	struct iovec iov[MAX_FIELDS];
	int n;
	char space[FIELD_SPACE];
	size_t used;
};

int journal_check(const char *socket_path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "--journal: cannot make a socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc)
		snprintf(err, errlen, "--journal: systemd-journald is not running (%s: %s): start "
			 "it (systemctl start systemd-journald), or print with -o FILE instead",
			 socket_path, strerror(errno));
	close(fd);
	return rc ? -1 : 0;
}

void journal_init(struct journal *j, struct ledger *ledger,
		  const volatile sig_atomic_t *stop, uint64_t grace_ns)
{
	memset(j, 0, sizeof(*j));
	j->ledger = ledger;
	j->grace = (struct grace){ .stop = stop, .grace_ns = grace_ns };
}

void journal_free(struct journal *j)
{
	ob_free(&j->msg);
	ob_free(&j->text);
}

/* Add "NAME=value" (value n bytes, copied into the entry's space). */
static void put_field(struct entry *e, const char *name, const char *value, size_t n)
{
	size_t nl = strlen(name);
	char *p = e->space + e->used;

	if (e->n == MAX_FIELDS || e->used + nl + 1 + n > FIELD_SPACE)
		return;
	memcpy(p, name, nl);
	p[nl] = '=';
	memcpy(p + nl + 1, value, n);
	e->iov[e->n++] = (struct iovec){ .iov_base = p, .iov_len = nl + 1 + n };
	e->used += nl + 1 + n;
}

static void put_str(struct entry *e, const char *name, const char *value)
{
	put_field(e, name, value, strlen(value));
}

static void put_u64(struct entry *e, const char *name, uint64_t v)
{
	char buf[24];

	put_field(e, name, buf, snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v));
}

/* MESSAGE= and its bytes, in one iovec (j->msg). */
static void put_message(struct journal *j, struct entry *e, const char *text, size_t len)
{
	j->msg.len = 0;
	ob_puts(&j->msg, "MESSAGE=");
	ob_put(&j->msg, text, len);
	if (j->msg.oom || e->n == MAX_FIELDS)
		return;
	e->iov[e->n++] = (struct iovec){ .iov_base = j->msg.p, .iov_len = j->msg.len };
}

/* What every entry of a writer carries. */
static void put_writer(struct entry *e, int priority, const struct line_meta *m,
		       int64_t wall_ns)
{
	char stream[16];

	put_u64(e, "PRIORITY", priority);
	/* A comm is at most 16 bytes, NUL-terminated unless it fills them. */
	put_field(e, "SYSLOG_IDENTIFIER", m->comm, strnlen(m->comm, BWM_COMM_LEN));
	put_u64(e, "OBJECT_PID", m->tgid);
	put_str(e, "BWM_STREAM", format_stream(m->fd, stream, sizeof(stream)));
	put_u64(e, "BWM_TID", m->tid);
	if (wall_ns > 0)
		put_u64(e, "BWM_WRITE_REALTIME", (uint64_t)wall_ns / 1000);
}

/* A refused entry of len message bytes: counted, and said once. */
static void refused(struct journal *j, int error, size_t len)
{
	ledger_add(j->ledger, LOSS_JOURNAL_LINES, 1);
	ledger_add(j->ledger, LOSS_JOURNAL_BYTES, len ? len : 1);
	if (j->error || !error)
		return;
	j->error = error;
	fprintf(j->ledger->out, "%s: the journal refused an entry: %s (what it does not take is "
		"counted)\n", BWM_NAME, strerror(error));
}

/* Send the entry: 0, or the errno of a refusal (0 after giving up: -1). */
static int send_entry(struct journal *j, struct entry *e)
{
	int rc;

	if (j->msg.oom)
		return ENOMEM;
	for (;;) {
		if (j->grace.gave_up)
			return -1;
		rc = sd_journal_sendv(e->iov, e->n);
		if (rc == 0)
			return 0;
		if (rc != -EINTR || grace_over(&j->grace))
			return rc == -EINTR ? -1 : -rc;
	}
}

/* Send a writer's entry; count it (len bytes of message) when the journal does not take it. */
static void send_counted(struct journal *j, struct entry *e, size_t len)
{
	int rc = send_entry(j, e);

	if (rc)
		refused(j, rc > 0 ? rc : 0, len);
}

void journal_line(struct journal *j, const struct line_meta *m, int64_t wall_ns,
		  const char *text, size_t len, uint64_t missing)
{
	struct entry e = { .n = 0 };

	put_message(j, &e, text, len);
	put_writer(&e, m->fd == 2 ? 3 : 6, m, wall_ns);
	put_u64(&e, "BWM_WRITES", m->writes);
	put_u64(&e, "BWM_CONTINUED", m->continued);
	if (missing)
		put_u64(&e, "BWM_MISSING_BYTES", missing);
	send_counted(j, &e, len);
}

void journal_record(struct journal *j, const char *message_id, int priority,
		    const struct line_meta *m, int64_t wall_ns, const char *text, size_t len,
		    const char *extra)
{
	struct entry e = { .n = 0 };
	const char *eq = extra ? strchr(extra, '=') : NULL;
	char name[64];

	put_message(j, &e, text, len);
	put_str(&e, "MESSAGE_ID", message_id);
	put_writer(&e, priority, m, wall_ns);
	if (eq && (size_t)(eq - extra) < sizeof(name)) {
		snprintf(name, sizeof(name), "%.*s", (int)(eq - extra), extra);
		put_str(&e, name, eq + 1);
	}
	send_counted(j, &e, len);
}

void journal_summary(struct journal *j, const char *text, uint64_t lines, uint64_t bytes,
		     double seconds)
{
	struct entry e = { .n = 0 };
	char name[64], secs[32];
	int k;
	size_t i;

	put_message(j, &e, text, strlen(text));
	put_str(&e, "MESSAGE_ID", JOURNAL_MID_SUMMARY);
	put_u64(&e, "PRIORITY", ledger_events_lost(j->ledger) ? 4 : 6);
	put_str(&e, "SYSLOG_IDENTIFIER", BWM_NAME);
	put_u64(&e, "BWM_LINES", lines);
	put_u64(&e, "BWM_BYTES", bytes);
	put_u64(&e, "BWM_EVENTS_LOST", ledger_events_lost(j->ledger));
	for (k = 0; k < LOSS_KINDS; k++) {
		/* The JSON summary's names, upper case: BWM_BUFFER_FULL_EVENTS=... */
		snprintf(name, sizeof(name), "BWM_%s", ledger_kind_name(k));
		for (i = 4; name[i]; i++)
			name[i] = toupper((unsigned char)name[i]);
		put_u64(&e, name, j->ledger->n[k]);
	}
	snprintf(secs, sizeof(secs), "%.3f", seconds);
	put_str(&e, "BWM_SECONDS", secs);
	/* Not one of the lines it counts: refused, it is still on stderr. */
	send_entry(j, &e);
}
