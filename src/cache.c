// SPDX-License-Identifier: GPL-2.0
/*
 * cache.c - the compile cache: keys, placeholder sites, patching, entries.
 *
 * See cache.h for the idea. The entry format (host-local, native byte
 * order): a header, the map definitions, each program's name and
 * instructions, then the SHA-256 of everything before it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cache.h"
#include "fileio.h"
#include "options.h"

#define CACHE_MAGIC		"BWMCACH1"
#define CACHE_FORMAT		1
#define CACHE_DEFAULT_DIR	"/var/cache/bpf_write_monitor"
#define CACHE_MAX_FILE		(64u << 20)
#define NEAR			0x10000	/* a value this close to a placeholder is derived from it */

static const int32_t ph_values[CACHE_NPH] = {
	[CACHE_PH_TARGET] = CACHE_PH_TARGET_VALUE,
	[CACHE_PH_SELF] = CACHE_PH_SELF_VALUE,
};

static const char *const ph_names[CACHE_NPH] = {
	[CACHE_PH_TARGET] = "BWM_TARGET_PID",
	[CACHE_PH_SELF] = "BWM_SELF_PID",
};

struct disk_header {
	char magic[8];
	uint32_t format;
	uint32_t nmaps;
	uint32_t nprogs;
	uint32_t kern_version;
	uint8_t key[SHA256_LEN];
	char license[64];
};

struct disk_prog {
	char name[CACHE_NAME_LEN];
	uint32_t ninsns;
	uint32_t pad;
};

int cache_image_add_prog(struct cache_image *img, const char *name, const void *insns,
			 size_t bytes)
{
	struct cache_prog *p = &img->progs[img->nprogs];

	if (img->nprogs >= CACHE_MAX_PROGS || !bytes || bytes % sizeof(struct bpf_insn) ||
	    bytes / sizeof(struct bpf_insn) > CACHE_MAX_INSNS)
		return -1;
	p->insns = malloc(bytes);
	if (!p->insns)
		return -1;
	memcpy(p->insns, insns, bytes);
	p->ninsns = bytes / sizeof(struct bpf_insn);
	snprintf(p->name, sizeof(p->name), "%s", name);
	img->nprogs++;
	return 0;
}

void cache_image_free(struct cache_image *img)
{
	int i;

	for (i = 0; i < img->nprogs; i++)
		free(img->progs[i].insns);
	memset(img, 0, sizeof(*img));
}

void cache_key(const char *text, const char *ident, uint8_t key[SHA256_LEN])
{
	static const char sep[] = "\n--- bwm cache " BWM_VERSION " ---\n";
	uint32_t format = CACHE_FORMAT;
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, &format, sizeof(format));
	sha256_update(&s, text, strlen(text));
	sha256_update(&s, sep, sizeof(sep));
	sha256_update(&s, ident, strlen(ident));
	sha256_final(&s, key);
}

void cache_key_hex(const uint8_t key[SHA256_LEN], char *out)
{
	int i;

	for (i = 0; i < SHA256_LEN; i++)
		sprintf(out + 2 * i, "%02x", key[i]);
}

/* ---- placeholder sites and patching ----------------------------------- */

static int exact_ph(int32_t imm)
{
	int i;

	for (i = 0; i < CACHE_NPH; i++)
		if (imm == ph_values[i])
			return i;
	return -1;
}

/* A placeholder's value transformed: the compiler computed with it. */
static int derived_ph(int32_t imm)
{
	uint32_t v = imm;
	int i;

	for (i = 0; i < CACHE_NPH; i++) {
		uint32_t p = ph_values[i];

		if (v == p)
			continue;
		if (v - p + NEAR < 2 * NEAR || v == -p || v == ~p || v == __builtin_bswap32(p))
			return i;
	}
	return -1;
}

static int add_site(struct cache_site *sites, int n, int max, uint32_t insn, int ph, int map)
{
	if (n >= max)
		return -1;
	sites[n] = (struct cache_site){ .insn = insn, .ph = ph, .map = map };
	return n + 1;
}

static int map_by_fd(const struct cache_image *img, int32_t fd)
{
	int i;

	for (i = 0; i < img->nmaps; i++)
		if (img->maps[i].fd == fd)
			return i;
	return -1;
}

/* A BPF_LD_IMM64 at insn i (two slots): its sites; the new count or -1 (why). */
static int ld_imm64_sites(const struct cache_image *img, const struct cache_prog *prog,
			  uint32_t i, struct cache_site *sites, int n, int max,
			  char *why, size_t whylen)
{
	const struct bpf_insn *in = &prog->insns[i];
	int32_t lo = in[0].imm, hi = in[1].imm;
	int map;

	if (in[0].src_reg == BPF_PSEUDO_MAP_FD) {
		map = map_by_fd(img, lo);
		if (map < 0 || hi != 0) {
			snprintf(why, whylen, "%s: instruction %u references an unknown map",
				 prog->name, i);
			return -1;
		}
		return add_site(sites, n, max, i, -1, map);
	}
	if (in[0].src_reg != 0) {
		snprintf(why, whylen, "%s: instruction %u is a 64-bit load of kind %d, which the "
			 "cache cannot patch", prog->name, i, in[0].src_reg);
		return -1;
	}
	if (exact_ph(lo) >= 0 && hi == 0)
		return add_site(sites, n, max, i, exact_ph(lo), 0);
	if (exact_ph(hi) >= 0 && lo == 0)
		return add_site(sites, n, max, i + 1, exact_ph(hi), 0);
	if (exact_ph(lo) >= 0 || exact_ph(hi) >= 0 || derived_ph(lo) >= 0 || derived_ph(hi) >= 0) {
		snprintf(why, whylen, "%s: instruction %u holds %s in a derived form", prog->name,
			 i, ph_names[exact_ph(lo) >= 0 ? exact_ph(lo) : exact_ph(hi) >= 0 ?
				     exact_ph(hi) : derived_ph(lo) >= 0 ? derived_ph(lo) :
				     derived_ph(hi)]);
		return -1;
	}
	return n;
}

#define SPLIT_WINDOW	32	/* instructions in which the pieces of a split value are looked for */

/* Is v among the immediates of insns [from, to)? */
static bool has_imm(const struct bpf_insn *in, uint32_t from, uint32_t to, int32_t v)
{
	uint32_t i;

	for (i = from; i < to; i++)
		if (in[i].imm == v && in[i].code != (BPF_LD | BPF_DW | BPF_IMM))
			return true;
	return false;
}

/*
 * A placeholder the compiler split into its four bytes or two halves (it
 * folded a compared PID into a record and copied that byte by byte): the
 * pieces as immediates within a few instructions of its low piece at i. -1
 * if none, else which.
 */
static int split_ph(const struct cache_prog *prog, uint32_t i)
{
	uint32_t to = i + SPLIT_WINDOW < prog->ninsns ? i + SPLIT_WINDOW : prog->ninsns;
	uint32_t from = i > SPLIT_WINDOW ? i - SPLIT_WINDOW : 0;
	const struct bpf_insn *in = prog->insns;
	int k;

	for (k = 0; k < CACHE_NPH; k++) {
		uint32_t p = ph_values[k];

		if (in[i].imm == (int32_t)(p & 0xff) && has_imm(in, from, to, (p >> 8) & 0xff) &&
		    has_imm(in, from, to, (p >> 16) & 0xff) && has_imm(in, from, to, p >> 24))
			return k;
		if (in[i].imm == (int32_t)(p & 0xffff) && has_imm(in, from, to, p >> 16))
			return k;
	}
	return -1;
}

int cache_find_sites(const struct cache_image *img, const struct cache_prog *prog,
		     struct cache_site *sites, int max, int counts[CACHE_NPH],
		     char *why, size_t whylen)
{
	uint32_t i;
	int n = 0;

	memset(counts, 0, sizeof(int) * CACHE_NPH);
	for (i = 0; i < prog->ninsns && n >= 0; i++) {
		const struct bpf_insn *in = &prog->insns[i];

		if (in->code == (BPF_LD | BPF_DW | BPF_IMM)) {
			if (i + 1 >= prog->ninsns) {
				snprintf(why, whylen, "%s: truncated 64-bit load", prog->name);
				return -1;
			}
			n = ld_imm64_sites(img, prog, i, sites, n, max, why, whylen);
			i++;
		} else if (exact_ph(in->imm) >= 0) {
			n = add_site(sites, n, max, i, exact_ph(in->imm), 0);
		} else if (derived_ph(in->imm) >= 0) {
			snprintf(why, whylen, "%s: instruction %u holds %s in a derived form",
				 prog->name, i, ph_names[derived_ph(in->imm)]);
			return -1;
		} else if (split_ph(prog, i) >= 0) {
			snprintf(why, whylen, "%s: instruction %u starts %s split into pieces",
				 prog->name, i, ph_names[split_ph(prog, i)]);
			return -1;
		}
		if (n < 0 && !*why)
			snprintf(why, whylen, "%s: too many placeholder sites", prog->name);
	}
	for (i = 0; n > 0 && i < (uint32_t)n; i++)
		if (sites[i].ph >= 0)
			counts[sites[i].ph]++;
	return n;
}

int cache_patch(const struct cache_image *img, const struct cache_prog *prog,
		const int32_t values[CACHE_NPH], const int *map_fds, struct bpf_insn *out,
		char *why, size_t whylen)
{
	int counts[CACHE_NPH], n, i;
	struct cache_site *sites = malloc(sizeof(*sites) * prog->ninsns);

	if (!sites) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	why[0] = '\0';
	n = cache_find_sites(img, prog, sites, prog->ninsns, counts, why, whylen);
	if (n >= 0) {
		memcpy(out, prog->insns, sizeof(*out) * prog->ninsns);
		for (i = 0; i < n; i++)
			out[sites[i].insn].imm = sites[i].ph >= 0 ? values[sites[i].ph] :
							map_fds[sites[i].map];
	}
	free(sites);
	return n < 0 ? -1 : 0;
}

static const struct cache_prog *prog_by_name(const struct cache_image *img, const char *name)
{
	int i;

	for (i = 0; i < img->nprogs; i++)
		if (!strcmp(img->progs[i].name, name))
			return &img->progs[i];
	return NULL;
}

/* Are the maps the same, and which fd has each of ph's maps in real? */
static int same_maps(const struct cache_image *ph, const struct cache_image *real, int *fds,
		     char *why, size_t whylen)
{
	int i, j;

	if (ph->nmaps != real->nmaps) {
		snprintf(why, whylen, "the programs have different maps");
		return -1;
	}
	for (i = 0; i < ph->nmaps; i++) {
		const struct cache_map *a = &ph->maps[i], *b = NULL;

		for (j = 0; j < real->nmaps && !b; j++)
			if (!strcmp(real->maps[j].name, a->name))
				b = &real->maps[j];
		if (!b || a->type != b->type || a->key_size != b->key_size ||
		    a->value_size != b->value_size || a->max_entries != b->max_entries ||
		    a->flags != b->flags) {
			snprintf(why, whylen, "map %s differs", a->name);
			return -1;
		}
		fds[i] = b->fd;
	}
	return 0;
}

int cache_same_code(const struct cache_image *ph, const struct cache_image *real,
		    const int32_t values[CACHE_NPH], char *why, size_t whylen)
{
	int fds[CACHE_MAX_MAPS], i, rc = 0;

	if (same_maps(ph, real, fds, why, whylen))
		return -1;
	if (ph->nprogs != real->nprogs || strcmp(ph->license, real->license) ||
	    ph->kern_version != real->kern_version) {
		snprintf(why, whylen, "the programs differ in number, license or kernel version");
		return -1;
	}
	for (i = 0; i < ph->nprogs && !rc; i++) {
		const struct cache_prog *a = &ph->progs[i], *b = prog_by_name(real, a->name);
		struct bpf_insn *patched;

		if (!b || a->ninsns != b->ninsns) {
			snprintf(why, whylen, "%s: compiled differently with placeholder values "
				 "(the compiler used them)", a->name);
			return -1;
		}
		patched = malloc(sizeof(*patched) * a->ninsns);
		if (!patched) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		rc = cache_patch(ph, a, values, fds, patched, why, whylen);
		if (!rc && memcmp(patched, b->insns, sizeof(*patched) * a->ninsns)) {
			snprintf(why, whylen, "%s: compiled differently with placeholder values "
				 "(the compiler used them)", a->name);
			rc = -1;
		}
		free(patched);
	}
	return rc;
}

/* ---- entries ------------------------------------------------------------ */

uint8_t *cache_serialize(const struct cache_image *img, size_t *len)
{
	struct disk_header h = { .format = CACHE_FORMAT, .nmaps = img->nmaps,
				 .nprogs = img->nprogs, .kern_version = img->kern_version };
	size_t n = sizeof(h) + sizeof(img->maps[0]) * img->nmaps + SHA256_LEN, off;
	uint8_t *buf;
	int i;

	for (i = 0; i < img->nprogs; i++)
		n += sizeof(struct disk_prog) + sizeof(struct bpf_insn) * img->progs[i].ninsns;
	buf = calloc(1, n);
	if (!buf)
		return NULL;
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	memcpy(h.key, img->key, sizeof(h.key));
	snprintf(h.license, sizeof(h.license), "%s", img->license);
	memcpy(buf, &h, sizeof(h));
	off = sizeof(h);
	memcpy(buf + off, img->maps, sizeof(img->maps[0]) * img->nmaps);
	off += sizeof(img->maps[0]) * img->nmaps;
	for (i = 0; i < img->nprogs; i++) {
		struct disk_prog p = { .ninsns = img->progs[i].ninsns };

		snprintf(p.name, sizeof(p.name), "%s", img->progs[i].name);
		memcpy(buf + off, &p, sizeof(p));
		off += sizeof(p);
		memcpy(buf + off, img->progs[i].insns, sizeof(struct bpf_insn) * p.ninsns);
		off += sizeof(struct bpf_insn) * p.ninsns;
	}
	sha256(buf, off, buf + off);
	*len = n;
	return buf;
}

static int parse_progs(const uint8_t *buf, size_t end, size_t off, struct cache_image *img,
		       uint32_t nprogs, char *why, size_t whylen)
{
	uint32_t i;

	for (i = 0; i < nprogs; i++) {
		struct disk_prog p;

		if (end - off < sizeof(p)) {
			snprintf(why, whylen, "truncated");
			return -1;
		}
		memcpy(&p, buf + off, sizeof(p));
		off += sizeof(p);
		p.name[sizeof(p.name) - 1] = '\0';
		if (p.ninsns > (end - off) / sizeof(struct bpf_insn) ||
		    cache_image_add_prog(img, p.name, buf + off, p.ninsns * sizeof(struct bpf_insn))) {
			snprintf(why, whylen, "program %u is malformed", i);
			return -1;
		}
		off += p.ninsns * sizeof(struct bpf_insn);
	}
	if (off != end) {
		snprintf(why, whylen, "trailing bytes");
		return -1;
	}
	return 0;
}

int cache_parse(const uint8_t *buf, size_t len, struct cache_image *img, char *why,
		size_t whylen)
{
	uint8_t sum[SHA256_LEN];
	struct disk_header h;
	size_t end, off;
	int i;

	memset(img, 0, sizeof(*img));
	if (len < sizeof(h) + SHA256_LEN) {
		snprintf(why, whylen, "too short");
		return -1;
	}
	end = len - SHA256_LEN;
	sha256(buf, end, sum);
	if (memcmp(sum, buf + end, SHA256_LEN)) {
		snprintf(why, whylen, "checksum mismatch");
		return -1;
	}
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) || h.format != CACHE_FORMAT ||
	    h.nmaps > CACHE_MAX_MAPS || h.nprogs > CACHE_MAX_PROGS ||
	    (end - sizeof(h)) / sizeof(img->maps[0]) < h.nmaps) {
		snprintf(why, whylen, "not an entry of this version");
		return -1;
	}
	memcpy(img->key, h.key, sizeof(img->key));
	h.license[sizeof(h.license) - 1] = '\0';
	snprintf(img->license, sizeof(img->license), "%s", h.license);
	img->kern_version = h.kern_version;
	img->nmaps = h.nmaps;
	off = sizeof(h);
	memcpy(img->maps, buf + off, sizeof(img->maps[0]) * h.nmaps);
	off += sizeof(img->maps[0]) * h.nmaps;
	for (i = 0; i < img->nmaps; i++)
		img->maps[i].name[sizeof(img->maps[i].name) - 1] = '\0';
	if (parse_progs(buf, end, off, img, h.nprogs, why, whylen)) {
		cache_image_free(img);
		return -1;
	}
	return 0;
}

/* ---- the host ----------------------------------------------------------- */

/* A file's identity: where it really is, its size, time and inode. */
static void put_file(char *out, size_t size, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	size_t n = strlen(out);

	if (n >= size || stat(path, &st) || !realpath(path, real))
		return;
	snprintf(out + n, size - n, "%s %lld %lld.%09ld %llu\n", real, (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
}

static void put_glob(char *out, size_t size, const char *pattern)
{
	glob_t g;
	size_t i;

	if (glob(pattern, 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++)
		put_file(out, size, g.gl_pathv[i]);
	globfree(&g);
}

void cache_host_ident(char *out, size_t size)
{
	static const char *const libs[] = { "libbcc.so.0", "libLLVM*.so*", "libclang-cpp.so*" };
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu", "/usr/lib64",
					    "/usr/local/lib" };
	const char *src = getenv("BCC_KERNEL_SOURCE"), *ver = getenv("BCC_LINUX_VERSION_CODE");
	char path[PATH_MAX + 64];
	struct utsname u;
	size_t i, j;

	uname(&u);
	snprintf(out, size, "%s %s %s %s\nBCC_KERNEL_SOURCE=%s BCC_LINUX_VERSION_CODE=%s\n",
		 u.sysname, u.release, u.version, u.machine, src ? src : "", ver ? ver : "");
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		for (j = 0; j < sizeof(libs) / sizeof(libs[0]); j++) {
			snprintf(path, sizeof(path), "%s/%s", dirs[i], libs[j]);
			put_glob(out, size, path);
		}
	/* The headers libbcc compiles against (their identity, not their content). */
	for (i = 0; i < 2; i++) {
		const char *base = i == 0 ? "/lib/modules/%s/build/%s" : "/lib/modules/%s/source/%s";

		snprintf(path, sizeof(path), base, u.release, "include/generated/autoconf.h");
		put_file(out, size, path);
		snprintf(path, sizeof(path), base, u.release, "Makefile");
		put_file(out, size, path);
	}
	if (src) {
		snprintf(path, sizeof(path), "%s/include/generated/autoconf.h", src);
		put_file(out, size, path);
	}
}

/* ---- the directory and its files --------------------------------------- */

int cache_dir_open(char *path, size_t pathlen, char *why, size_t whylen)
{
	const char *env = getenv("BWM_CACHE_DIR");
	struct stat st;
	bool made;
	int fd;

	snprintf(path, pathlen, "%s", env && *env ? env : CACHE_DEFAULT_DIR);
	made = mkdir(path, 0700) == 0;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open cache directory %s: %s", path, strerror(errno));
		return -1;
	}
	if (made)
		fchmod(fd, 0700);	/* whatever the umask */
	if (fstat(fd, &st) || st.st_uid != 0 || (st.st_mode & 07777) != 0700) {
		snprintf(why, whylen, "refusing cache directory %s: it must be owned by root with "
			 "mode 0700 (fix: sudo chown root: %s && sudo chmod 700 %s)", path, path,
			 path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Exactly len bytes of fd; 0, or -1 (an error or a short file). */
static int read_all(int fd, uint8_t *buf, size_t len)
{
	return fileio_read_upto(fd, (char *)buf, len) == (ssize_t)len ? 0 : -1;
}

int cache_read(int dirfd, const uint8_t key[SHA256_LEN], struct cache_image *img, char *why,
	       size_t whylen)
{
	char name[2 * SHA256_LEN + 8];
	struct stat st;
	uint8_t *buf;
	int fd, rc;

	cache_key_hex(key, name);
	strcat(name, ".img");
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		snprintf(why, whylen, "cannot open it: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 07777) != 0600 || st.st_size > CACHE_MAX_FILE) {
		snprintf(why, whylen, "not a regular file owned by root with mode 0600");
		close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	rc = !buf || read_all(fd, buf, st.st_size) ? -1 : 0;
	if (!rc)
		futimens(fd, NULL);	/* its mtime says when it was last used (cache_prune) */
	close(fd);
	if (rc)
		snprintf(why, whylen, "cannot read it");
	else
		rc = cache_parse(buf, st.st_size, img, why, whylen);
	free(buf);
	if (!rc && memcmp(img->key, key, SHA256_LEN)) {
		snprintf(why, whylen, "it holds another key");
		cache_image_free(img);
		rc = -1;
	}
	return rc;
}

int cache_write(int dirfd, const struct cache_image *img, char *why, size_t whylen)
{
	char hex[2 * SHA256_LEN + 1], name[2 * SHA256_LEN + 8], tmp[2 * SHA256_LEN + 32];
	size_t len, off = 0;
	uint8_t *buf = cache_serialize(img, &len);
	int fd, rc = -1;

	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	cache_key_hex(img->key, hex);
	snprintf(name, sizeof(name), "%s.img", hex);
	/* Each writer its own temporary file; rename() makes the entry appear whole. */
	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", hex, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(errno));
		free(buf);
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	if (off == len && fchmod(fd, 0600) == 0 && close(fd) == 0) {
		fd = -1;
		rc = renameat(dirfd, tmp, dirfd, name);
	}
	if (rc)
		snprintf(why, whylen, "cannot write %s: %s", name, strerror(errno ? errno : EIO));
	if (fd >= 0)
		close(fd);
	if (rc)
		unlinkat(dirfd, tmp, 0);
	free(buf);
	return rc;
}

struct pruned {
	char name[NAME_MAX + 1];
	struct timespec mtime;
};

static int older_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct pruned *)a)->mtime;
	const struct timespec *y = &((const struct pruned *)b)->mtime;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? -1 : 1;
	return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);

	return n >= m && !strcmp(s + n - m, end);
}

int cache_prune(int dirfd, int keep, time_t now)
{
	struct pruned *e = NULL;
	int fd = dup(dirfd), n = 0, cap = 0, removed = 0, i;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		bool img = ends_with(de->d_name, ".img"), tmp = de->d_name[0] == '.' &&
			   ends_with(de->d_name, ".tmp");

		if ((!img && !tmp) || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (tmp) {	/* left by a writer that died: gone after an hour */
			if (now - st.st_mtim.tv_sec > CACHE_TMP_AGE)
				removed += unlinkat(dirfd, de->d_name, 0) == 0;
			continue;
		}
		if (n == cap) {
			struct pruned *more = realloc(e, (cap = cap ? 2 * cap : 64) * sizeof(*e));

			if (!more)
				break;
			e = more;
		}
		snprintf(e[n].name, sizeof(e[n].name), "%s", de->d_name);
		e[n++].mtime = st.st_mtim;
	}
	closedir(d);
	if (n > keep) {
		qsort(e, n, sizeof(*e), older_first);
		for (i = 0; i < n - keep; i++)
			removed += unlinkat(dirfd, e[i].name, 0) == 0;
	}
	free(e);
	return removed;
}
