// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the compile cache's keys, placeholder sites, patching and entries. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cache.h"

#define LD64(lo, src)	{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = (src), \
			  .imm = (lo) }
#define HI(hi)		{ .imm = (hi) }
#define MOV(imm_)	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1, .imm = (imm_) }
#define JNE(imm_)	{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = 1, .off = 1, .imm = (imm_) }
#define EXIT		{ .code = BPF_JMP | BPF_EXIT }

static void image(struct image *img, const struct bpf_insn *insns, size_t n)
{
	memset(img, 0, sizeof(*img));
	snprintf(img->license, sizeof(img->license), "GPL");
	img->maps[0] = (struct image_map){ .name = "bwm_events", .type = 4, .key_size = 4,
					   .value_size = 4, .max_entries = 2, .fd = 7 };
	img->maps[1] = (struct image_map){ .name = "bwm_enabled", .type = 2, .key_size = 4,
					   .value_size = 4, .max_entries = 1, .fd = 9 };
	img->nmaps = 2;
	assert_int_equal(image_add_prog(img, "tracepoint__syscalls__sys_exit_write", insns,
					      n * sizeof(*insns)), 0);
}

static const struct bpf_insn good[] = {
	MOV(CACHE_PH_TARGET_VALUE),
	LD64(0, 0), HI(CACHE_PH_TARGET_VALUE),	/* tgid << 32, as clang compares it */
	LD64(7, BPF_PSEUDO_MAP_FD), HI(0),
	JNE(CACHE_PH_SELF_VALUE),
	LD64(9, BPF_PSEUDO_MAP_FD), HI(0),
	MOV(5),
	EXIT,
};

static void test_sha256_known_vectors(void **state)
{
	static const char abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	uint8_t d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	char *million = malloc(1000000);

	(void)state;
	sha256("abc", 3, d);
	cache_key_hex(d, hex);
	assert_string_equal(hex, abc);
	sha256("", 0, d);
	cache_key_hex(d, hex);
	assert_string_equal(hex, empty);
	memset(million, 'a', 1000000);
	sha256(million, 1000000, d);
	cache_key_hex(d, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

static void test_key_changes_with_any_byte_of_text_or_host(void **state)
{
	uint8_t a[SHA256_LEN], b[SHA256_LEN], c[SHA256_LEN], d[SHA256_LEN];

	(void)state;
	cache_key("#define BWM_FD_MASK 0x2\nint x;\n", "6.18 #1", a);
	cache_key("#define BWM_FD_MASK 0x2\nint x;\n", "6.18 #1", b);
	cache_key("#define BWM_FD_MASK 0x2\nint y;\n", "6.18 #1", c);
	cache_key("#define BWM_FD_MASK 0x2\nint x;\n", "6.18 #2", d);
	assert_memory_equal(a, b, SHA256_LEN);
	assert_memory_not_equal(a, c, SHA256_LEN);
	assert_memory_not_equal(a, d, SHA256_LEN);
}

static void test_sites_are_exact_immediates_and_map_references(void **state)
{
	struct cache_site sites[16];
	struct image img;
	int counts[CACHE_NPH], n;
	char why[256] = "";

	(void)state;
	image(&img, good, sizeof(good) / sizeof(good[0]));
	n = cache_find_sites(&img, &img.progs[0], sites, 16, counts, why, sizeof(why));
	assert_int_equal(n, 5);
	assert_int_equal(counts[CACHE_PH_TARGET], 2);
	assert_int_equal(counts[CACHE_PH_SELF], 1);
	assert_int_equal(sites[0].insn, 0);
	assert_int_equal(sites[1].insn, 2);	/* the high half of the 64-bit load */
	assert_int_equal(sites[2].ph, -1);
	assert_int_equal(sites[2].map, 0);
	assert_int_equal(sites[4].map, 1);
	image_free(&img);
}

static void refused(const struct bpf_insn *insns, size_t n, const char *needle)
{
	struct cache_site sites[16];
	struct image img;
	int counts[CACHE_NPH];
	char why[256] = "";

	image(&img, insns, n);
	assert_int_equal(cache_find_sites(&img, &img.progs[0], sites, 16, counts, why,
					  sizeof(why)), -1);
	if (!strstr(why, needle))
		fail_msg("why: %s (expected %s)", why, needle);
	image_free(&img);
}

static void test_derived_forms_and_unknown_references_are_refused(void **state)
{
	const struct bpf_insn plus_one[] = { MOV(CACHE_PH_TARGET_VALUE + 1), EXIT };
	const struct bpf_insn minus[] = { MOV(CACHE_PH_SELF_VALUE - 4096), EXIT };
	const struct bpf_insn negated[] = { MOV(-CACHE_PH_SELF_VALUE), EXIT };
	const struct bpf_insn mixed[] = { LD64(CACHE_PH_TARGET_VALUE, 0), HI(1), EXIT };
	const struct bpf_insn both[] = { LD64(3, 0), HI(CACHE_PH_SELF_VALUE), EXIT };
	const struct bpf_insn value[] = { LD64(7, BPF_PSEUDO_MAP_VALUE), HI(0), EXIT };
	const struct bpf_insn unknown[] = { LD64(8, BPF_PSEUDO_MAP_FD), HI(0), EXIT };
	const struct bpf_insn cut[] = { EXIT, LD64(7, BPF_PSEUDO_MAP_FD) };

	(void)state;
	refused(plus_one, 2, "BWM_TARGET_PID in a derived form");
	refused(minus, 2, "BWM_SELF_PID in a derived form");
	refused(negated, 2, "BWM_SELF_PID in a derived form");
	refused(mixed, 3, "BWM_TARGET_PID in a derived form");
	refused(both, 3, "BWM_SELF_PID in a derived form");
	refused(value, 3, "cannot patch");
	refused(unknown, 3, "unknown map");
	refused(cut, 2, "truncated");
}

/* clang folded the compared PID into a record and copied it byte by byte (seen). */
static void test_a_placeholder_split_into_pieces_is_refused(void **state)
{
	const uint32_t p = CACHE_PH_TARGET_VALUE, q = CACHE_PH_SELF_VALUE;
	const struct bpf_insn bytes[] = {
		MOV(p >> 24), MOV(60), MOV((p >> 16) & 0xff), MOV((p >> 8) & 0xff), MOV(p & 0xff),
		EXIT,
	};
	const struct bpf_insn low_first[] = {
		MOV(q & 0xff), MOV(q >> 24), MOV((q >> 8) & 0xff), MOV((q >> 16) & 0xff), EXIT,
	};
	const struct bpf_insn halves[] = { MOV(p & 0xffff), MOV(7), MOV(p >> 16), EXIT };

	(void)state;
	refused(bytes, 6, "BWM_TARGET_PID split into pieces");	/* high byte first, as seen */
	refused(low_first, 5, "BWM_SELF_PID split into pieces");
	refused(halves, 4, "BWM_TARGET_PID split into pieces");
}

static void test_patch_puts_values_and_new_map_fds(void **state)
{
	const int32_t values[CACHE_NPH] = { [CACHE_PH_TARGET] = 1234, [CACHE_PH_SELF] = 77 };
	const int fds[2] = { 40, 41 };
	struct bpf_insn out[sizeof(good) / sizeof(good[0])];
	struct image img;
	char why[256];

	(void)state;
	image(&img, good, sizeof(good) / sizeof(good[0]));
	assert_int_equal(cache_patch(&img, &img.progs[0], values, fds, out, why, sizeof(why)), 0);
	assert_int_equal(out[0].imm, 1234);
	assert_int_equal(out[1].imm, 0);
	assert_int_equal(out[2].imm, 1234);
	assert_int_equal(out[3].imm, 40);
	assert_int_equal(out[3].src_reg, BPF_PSEUDO_MAP_FD);
	assert_int_equal(out[5].imm, 77);
	assert_int_equal(out[6].imm, 41);
	assert_int_equal(out[8].imm, 5);
	assert_int_equal(out[9].code, BPF_JMP | BPF_EXIT);
	/* The image itself is left as it was. */
	assert_int_equal(img.progs[0].insns[0].imm, CACHE_PH_TARGET_VALUE);
	image_free(&img);
}

static void test_same_code_compares_patched_placeholders_with_a_real_compile(void **state)
{
	const int32_t values[CACHE_NPH] = { [CACHE_PH_TARGET] = 1234, [CACHE_PH_SELF] = 77 };
	const struct bpf_insn real[] = {
		MOV(1234), LD64(0, 0), HI(1234), LD64(3, BPF_PSEUDO_MAP_FD), HI(0), JNE(77),
		LD64(4, BPF_PSEUDO_MAP_FD), HI(0), MOV(5), EXIT,
	};
	struct bpf_insn folded[10];
	struct image ph, r;
	char why[256] = "";

	(void)state;
	image(&ph, good, 10);
	image(&r, real, 10);
	r.maps[0].fd = 3;	/* the other compiler's fds */
	r.maps[1].fd = 4;
	assert_int_equal(cache_same_code(&ph, &r, values, why, sizeof(why)), 0);
	image_free(&r);
	/* The compiler used the value: a compare that a real value folds away. */
	memcpy(folded, real, sizeof(folded));
	folded[5] = (struct bpf_insn)MOV(0);
	image(&r, folded, 10);
	r.maps[0].fd = 3;
	r.maps[1].fd = 4;
	assert_int_equal(cache_same_code(&ph, &r, values, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "compiled differently"));
	image_free(&r);
	image_free(&ph);
}

static void test_proof_holds_for_the_code_it_was_made_of_and_survives_the_bytes(void **state)
{
	const int32_t values[CACHE_NPH] = { [CACHE_PH_TARGET] = 1234, [CACHE_PH_SELF] = 77 };
	struct image img, back;
	uint8_t *buf;
	size_t len;
	char why[256] = "";

	(void)state;
	image(&img, good, sizeof(good) / sizeof(good[0]));
	memcpy(img.values, values, sizeof(values));
	assert_int_equal(cache_proof(&img, values, img.proof, why, sizeof(why)), 0);
	assert_int_equal(cache_proven(&img, why, sizeof(why)), 0);
	buf = image_serialize(&img, &len);
	assert_non_null(buf);
	assert_int_equal(image_parse(buf, len, &back, why, sizeof(why)), 0);
	assert_int_equal(cache_proven(&back, why, sizeof(why)), 0);
	assert_memory_equal(back.values, values, sizeof(values));
	free(buf);
	/* Any instruction changed, or other values, or no proof at all: refused. */
	back.progs[0].insns[8].imm = 6;
	assert_int_equal(cache_proven(&back, why, sizeof(why)), -1);
	assert_string_equal(why, "its code differs from its proof");
	back.progs[0].insns[8].imm = 5;
	back.values[CACHE_PH_SELF] = 78;
	assert_int_equal(cache_proven(&back, why, sizeof(why)), -1);
	back.values[CACHE_PH_SELF] = 77;
	memset(back.proof, 0, sizeof(back.proof));
	assert_int_equal(cache_proven(&back, why, sizeof(why)), -1);
	/* The map references count by their place, not by the fds of the compile. */
	img.maps[0].fd = 70;
	img.progs[0].insns[3].imm = 70;
	assert_int_equal(cache_proven(&img, why, sizeof(why)), 0);
	image_free(&back);
	image_free(&img);
}

static void test_entry_round_trips_and_any_flipped_byte_is_refused(void **state)
{
	struct image img, back;
	uint8_t *buf;
	size_t len, i;
	char why[256];

	(void)state;
	image(&img, good, sizeof(good) / sizeof(good[0]));
	memset(img.key, 0xab, sizeof(img.key));
	img.kern_version = 0x61200;
	buf = image_serialize(&img, &len);
	assert_non_null(buf);
	assert_int_equal(image_parse(buf, len, &back, why, sizeof(why)), 0);
	assert_memory_equal(back.key, img.key, SHA256_LEN);
	assert_string_equal(back.license, "GPL");
	assert_int_equal(back.kern_version, 0x61200);
	assert_int_equal(back.nmaps, 2);
	assert_string_equal(back.maps[1].name, "bwm_enabled");
	assert_int_equal(back.maps[1].fd, 9);
	assert_int_equal(back.nprogs, 1);
	assert_int_equal(back.progs[0].ninsns, sizeof(good) / sizeof(good[0]));
	assert_memory_equal(back.progs[0].insns, good, sizeof(good));
	image_free(&back);
	for (i = 0; i < len; i += 7) {
		buf[i] ^= 0x10;
		assert_int_equal(image_parse(buf, len, &back, why, sizeof(why)), -1);
		buf[i] ^= 0x10;
	}
	assert_int_equal(image_parse(buf, len - 1, &back, why, sizeof(why)), -1);
	assert_int_equal(image_parse(buf, 10, &back, why, sizeof(why)), -1);
	free(buf);
	image_free(&img);
}

/* Files in a fresh directory, each with its own mtime (seconds ago). */
static int prune_dir(char *path, size_t len)
{
	snprintf(path, len, "/tmp/bwm-test-prune.XXXXXX");
	assert_non_null(mkdtemp(path));
	return open(path, O_RDONLY | O_DIRECTORY);
}

static void put(int dirfd, const char *name, time_t now, time_t age)
{
	struct timespec t[2] = { { now - age, 0 }, { now - age, 0 } };
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(futimens(fd, t), 0);
	close(fd);
}

static bool there(int dirfd, const char *name)
{
	return faccessat(dirfd, name, F_OK, 0) == 0;
}

static void test_prune_keeps_the_most_recently_used_and_clears_stale_temporaries(void **state)
{
	char path[64], name[80];
	time_t now = time(NULL);
	int dirfd = prune_dir(path, sizeof(path)), i;

	(void)state;
	assert_true(dirfd >= 0);
	for (i = 0; i < 40; i++) {	/* entry i was last used i minutes ago */
		snprintf(name, sizeof(name), "%064d.img", i);
		put(dirfd, name, now, 60 * i);
	}
	put(dirfd, ".old.123.tmp", now, 2 * CACHE_TMP_AGE);	/* a writer that died */
	put(dirfd, ".new.124.tmp", now, 10);			/* one writing now */
	put(dirfd, "notes.txt", now, 10 * CACHE_TMP_AGE);	/* not the cache's */
	assert_int_equal(cache_prune(dirfd, 32, now), 8 + 1);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "%064d.img", i);
		assert_int_equal(there(dirfd, name), i < 32);
	}
	assert_false(there(dirfd, ".old.123.tmp"));
	assert_true(there(dirfd, ".new.124.tmp"));
	assert_true(there(dirfd, "notes.txt"));
	assert_int_equal(cache_prune(dirfd, 32, now), 0);	/* nothing more to do */
	for (i = 0; i < 32; i++) {
		snprintf(name, sizeof(name), "%064d.img", i);
		unlinkat(dirfd, name, 0);
	}
	unlinkat(dirfd, ".new.124.tmp", 0);
	unlinkat(dirfd, "notes.txt", 0);
	close(dirfd);
	assert_int_equal(rmdir(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_known_vectors),
		cmocka_unit_test(test_key_changes_with_any_byte_of_text_or_host),
		cmocka_unit_test(test_sites_are_exact_immediates_and_map_references),
		cmocka_unit_test(test_derived_forms_and_unknown_references_are_refused),
		cmocka_unit_test(test_a_placeholder_split_into_pieces_is_refused),
		cmocka_unit_test(test_patch_puts_values_and_new_map_fds),
		cmocka_unit_test(test_same_code_compares_patched_placeholders_with_a_real_compile),
		cmocka_unit_test(test_proof_holds_for_the_code_it_was_made_of_and_survives_the_bytes),
		cmocka_unit_test(test_entry_round_trips_and_any_flipped_byte_is_refused),
		cmocka_unit_test(test_prune_keeps_the_most_recently_used_and_clears_stale_temporaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
