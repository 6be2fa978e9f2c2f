/* SPDX-License-Identifier: GPL-2.0 */
/*
 * emit_rig.h - for unit tests: an emitter (src/emit.c) whose output goes to
 * a memfd, with its sink, ledger, requests and a notice stream in memory.
 * test_keep.c and test_route.c build on it.
 */
#ifndef BWM_EMIT_RIG_H
#define BWM_EMIT_RIG_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emit.h"
#include "ledger.h"
#include "requests.h"
#include "sink.h"

struct emit_rig {
	struct config cfg;
	struct emit emit;
	struct sink sink;
	struct ledger ledger;
	struct requests req;
	FILE *notices;
	char *notice_text;
	size_t notice_len;
	int fd;
	char out[1 << 16];
};

/* After the caller has set e->cfg: the sink, the ledger (ncpus) and the emitter. */
static inline void emit_rig_init(struct emit_rig *e, int ncpus)
{
	e->fd = memfd_create("emit-rig-out", 0);
	assert_true(e->fd >= 0);
	sink_init(&e->sink, e->fd);
	e->notices = open_memstream(&e->notice_text, &e->notice_len);
	assert_int_equal(ledger_init(&e->ledger, ncpus, e->notices), 0);
	assert_int_equal(emit_init(&e->emit, &e->cfg, &e->sink, &e->req), 0);
}

static inline void emit_rig_fini(struct emit_rig *e)
{
	emit_free(&e->emit);
	requests_free(&e->req);
	ledger_free(&e->ledger);
	sink_free(&e->sink);
	fclose(e->notices);
	free(e->notice_text);
	close(e->fd);
}

/* What was printed so far (the sink flushed). */
static inline const char *emit_rig_printed(struct emit_rig *e)
{
	ssize_t n;

	sink_flush(&e->sink);
	n = pread(e->fd, e->out, sizeof(e->out) - 1, 0);
	assert_true(n >= 0);
	e->out[n] = '\0';
	return e->out;
}

static inline const char *emit_rig_noticed(struct emit_rig *e)
{
	fflush(e->notices);
	return e->notice_text ? e->notice_text : "";
}

#endif /* BWM_EMIT_RIG_H */
