/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_APP_H
#define BWM_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "buffers.h"
#include "compile.h"
#include "emit.h"
#include "exits.h"
#include "journal.h"
#include "ledger.h"
#include "lines.h"
#include "load.h"
#include "merge.h"
#include "options.h"
#include "probes.h"
#include "program.h"
#include "readers.h"
#include "requests.h"
#include "route.h"
#include "sink.h"
#include "target.h"

/*
 * Everything one run owns: set up by the steps of main(), run by run.c,
 * reported by report.c, torn down by main()'s teardown. Each stage holds
 * only the pointers it needs; this is where they live.
 */
struct app {
	struct config cfg;
	struct program_params params;
	struct templates tpl;
	struct program prog;
	struct target target;
	struct compiler *compiler;
	struct tracer *tracer;
	struct buffers *buffers;
	struct merger *merger;
	struct router router;
	struct lines *lines;
	struct emit emit;
	struct sink sink;
	struct journal journal;	/* --journal: where lines go instead of the sink */
	struct ledger ledger;
	struct exits exits;	/* which exit records mean a process exited */
	struct readers readers;	/* readers of the output, never traced */
	struct requests req;	/* what the drain asks of the maps */
	int out_fd;
	uint64_t *full;		/* per CPU: records the probes found the buffer full for */
	uint64_t started;	/* CLOCK_MONOTONIC ns when tracing began */
	bool done;		/* everything traced has exited */
};

#endif /* BWM_APP_H */
