/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_ROUTE_H
#define BWM_ROUTE_H

#include <stdint.h>
#include <stdio.h>

#include "../probes/event.h"
#include "emit.h"
#include "exits.h"
#include "keep.h"
#include "ledger.h"
#include "lines.h"
#include "options.h"
#include "requests.h"

/*
 * The router (route.c): what each event, in syscall order, becomes.
 *   exit records   -> exits (was the process really gone?), then as below
 *   fork           -> exits (a reused PID is alive again)
 *   bytes          -> the line joiner (lines.h), which hands lines to emit;
 *                     with --raw straight to emit, what cannot be copied
 *                     said on stderr and counted in the ledger
 *   notes, xfers   -> emit
 *   lifecycle      -> lines flushed for a thread/process that is gone;
 *                     with --on-failure forks and exits to the keeper (keep.h),
 *                     which prints a failed process's kept lines;
 *                     with -x a record to emit
 * Processes gone for good are noted in the requests (forget), for the run
 * loop to drop from the maps.
 */
struct router {
	const struct config *cfg;
	struct lines *lines;
	struct emit *emit;
	struct exits *exits;
	struct ledger *ledger;
	struct requests *req;
	struct keep *keep;	/* --on-failure: lines kept until their process fails; or NULL */
	FILE *notices;		/* --raw: what is not in the copy (stderr) */
	uint64_t bytes_in;	/* payload bytes captured */
};

/* An event_fn (merge.h): cookie is the router. */
void route_event(void *cookie, const struct bwm_event *ev);

#endif /* BWM_ROUTE_H */
