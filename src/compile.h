/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BWM_COMPILE_H
#define BWM_COMPILE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The compiler child (compile.c, its parent's side; compile_child.c, the
 * child). It dlopen()s libbcc (clang and LLVM, ~120 MB) in a short-lived
 * child process, compiles the program text, loads every tracepoint function
 * and hands the program and map fds back; the tracer itself never links the
 * compiler.
 */
#define COMPILED_MAX	64

/* What the child handed back: programs (tracepoint__<cat>__<ev>) and maps, by name. */
struct compiled_item {
	char name[128];
	int fd;
	bool is_map;
};

struct compiled {
	struct compiled_item items[COMPILED_MAX];
	int n;
};

struct compiler;

/*
 * Start the compiler child: it loads libbcc while the caller prepares the
 * program. NULL (and a message in err) on failure.
 */
struct compiler *compiler_start(bool verbose, char *err, size_t errlen);

/*
 * The same, with the child's stderr (and stdout) on /dev/null: a second
 * compile of the same program, beside one that speaks (two children writing
 * the same compiler messages at once interleave them byte by byte).
 */
struct compiler *compiler_start_quiet(char *err, size_t errlen);

/* Stop a compiler that will not be used (NULL is fine). */
void compiler_cancel(struct compiler *c);

/*
 * Compile and load text in the child, which then exits (c is freed).
 * Compiler errors and verifier logs go to stderr as they happen; on failure
 * err gets a one-line summary with what to do and -1 is returned.
 */
int compiler_finish(struct compiler *c, const char *text, struct compiled *out, char *err,
		    size_t errlen);

struct image;

/*
 * Compile text in the child and get back its image
 * (instructions and map definitions), loading nothing; c is freed. 0, or -1
 * and a one-line summary in err.
 */
int compiler_image(struct compiler *c, const char *text, struct image *img, char *err,
		   size_t errlen);

/*
 * compiler_image() in two halves, so that several children compile at once:
 * hand text over (c is freed on failure), later take the image (c is freed).
 */
int compiler_image_send(struct compiler *c, const char *text, char *err, size_t errlen);
int compiler_image_take(struct compiler *c, struct image *img, char *err, size_t errlen);

#endif /* BWM_COMPILE_H */
