/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_JOURNAL_H
#define BWM_JOURNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "grace.h"
#include "ledger.h"
#include "lines.h"

/*
 * --journal (journal.c): each captured line, note and lifecycle record is one
 * entry sent to systemd-journald with sd_journal_sendv(): MESSAGE= the line
 * as written (binary-safe), PRIORITY= 6 (stdout) or 3 (stderr),
 * SYSLOG_IDENTIFIER= the writer's comm, OBJECT_PID= its PID, and BWM_STREAM=,
 * BWM_TID=, BWM_WRITES=, BWM_CONTINUED=, BWM_WRITE_REALTIME= (the write's time,
 * µs since the epoch). Records other than lines carry a MESSAGE_ID (below,
 * explained by debian/bpf-write-monitor.catalog). An entry the journal does
 * not take is counted in the ledger (LOSS_JOURNAL_LINES, _BYTES), never lost
 * silently.
 */
#define JOURNAL_SOCKET		"/run/systemd/journal/socket"

#define JOURNAL_MID_FORK	"c94cfa92df1541e5936ed12f7444347a"
#define JOURNAL_MID_EXEC	"af3100782760493fbbe06de8528bcb7f"
#define JOURNAL_MID_EXIT	"90121fde2795427baf4a4395a31e31b0"
#define JOURNAL_MID_NOTE	"21ea8310814b4b808ca0aa3448488e92"
#define JOURNAL_MID_TRANSFER	"5e4fa459256c4289a571b999864411be"
#define JOURNAL_MID_SUMMARY	"00611af2c2954c0582e79b98976b2238"

struct journal {
	struct ledger *ledger;
	struct outbuf msg;		/* "MESSAGE=" and the line, one iovec */
	struct outbuf text;		/* a record's text, rendered by the formatter */
	struct grace grace;		/* as the sink's: a blocked send gives way to a stop */
	int error;			/* errno of the first refused entry, reported once */
};

/*
 * Is journald there to take entries (its socket takes a connection)? 0, or -1
 * with a one-line message that says what to do in err.
 */
int journal_check(const char *socket_path, char *err, size_t errlen);

void journal_init(struct journal *j, struct ledger *ledger,
		  const volatile sig_atomic_t *stop, uint64_t grace_ns);
void journal_free(struct journal *j);

/* One captured line (without its newline); missing: bytes written after it, not captured. */
void journal_line(struct journal *j, const struct line_meta *m, int64_t wall_ns,
		  const char *text, size_t len, uint64_t missing);

/*
 * Any other record of a writer: message_id one of JOURNAL_MID_*, text its
 * message (no newline), extra a field "NAME=value" or NULL.
 */
void journal_record(struct journal *j, const char *message_id, int priority,
		    const struct line_meta *m, int64_t wall_ns, const char *text, size_t len,
		    const char *extra);

/* The run's summary (text: the summary line, no newline), with the ledger's figures. */
void journal_summary(struct journal *j, const char *text, uint64_t lines, uint64_t bytes,
		     double seconds);

#endif /* BWM_JOURNAL_H */
