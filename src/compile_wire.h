/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_COMPILE_WIRE_H
#define BWM_COMPILE_WIRE_H

#include <stdbool.h>

#include "compile.h"

/* What goes between the tracer (compile.c) and its compiler child (compile_child.c). */
#define MAX_ITEMS		COMPILED_MAX
#define MODE_LOAD		'L'	/* first byte of the text message: compile and load */
#define MODE_IMAGE		'I'	/* compile and send the image back, load nothing */

struct wire_item {
	char name[128];
	int is_map;
};

struct wire_reply {
	int status;		/* 0, or an errno-like code */
	char msg[512];		/* one-line summary when status != 0 */
	int n;
	struct wire_item items[MAX_ITEMS];
};

/*
 * The child: load libbcc, take one text from sock, compile it, load it (or
 * describe it, MODE_IMAGE) and answer; it never returns.
 */
void compile_child(int sock, bool verbose) __attribute__((noreturn));

#endif /* BWM_COMPILE_WIRE_H */
