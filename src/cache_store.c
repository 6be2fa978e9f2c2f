// SPDX-License-Identifier: GPL-2.0
/*
 * cache_store.c - the compile cache's keys and directory: the host's
 * identity, reading and writing entries, pruning.
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

#define CACHE_DEFAULT_DIR	"/var/cache/bpf_write_monitor"
#define CACHE_MAX_FILE		(64u << 20)

void cache_key(const char *text, const char *ident, uint8_t key[SHA256_LEN])
{
	static const char sep[] = "\n--- bwm cache " BWM_VERSION " ---\n";
	uint32_t format = IMAGE_FORMAT;
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

int cache_read(int dirfd, const uint8_t key[SHA256_LEN], struct image *img, char *why,
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
		rc = image_parse(buf, st.st_size, img, why, whylen);
	free(buf);
	if (!rc && memcmp(img->key, key, SHA256_LEN)) {
		snprintf(why, whylen, "it holds another key");
		image_free(img);
		rc = -1;
	} else if (!rc && cache_proven(img, why, whylen)) {
		image_free(img);
		rc = -1;
	}
	return rc;
}

int cache_write(int dirfd, const struct image *img, char *why, size_t whylen)
{
	char hex[2 * SHA256_LEN + 1], name[2 * SHA256_LEN + 8], tmp[2 * SHA256_LEN + 32];
	size_t len, off = 0;
	uint8_t *buf = image_serialize(img, &len);
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
