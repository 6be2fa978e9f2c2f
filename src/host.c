// SPDX-License-Identifier: GPL-2.0
/*
 * host.c - privilege, tracefs and kernel-header checks, done the way libbcc
 * will look, so that each failure is one clear line instead of compiler noise.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "host.h"
#include "options.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON	38
#endif
#ifndef CAP_BPF
#define CAP_BPF		39
#endif

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int host_check_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	unsigned long long eff;

	if (syscall(SYS_capget, &hdr, data) == 0) {
		eff = data[0].effective | (unsigned long long)data[1].effective << 32;
		if (eff & (1ull << CAP_SYS_ADMIN))
			return 0;
		if ((eff & (1ull << CAP_BPF)) && (eff & (1ull << CAP_PERFMON)))
			return 0;
	} else if (geteuid() == 0) {
		return 0;
	}
	snprintf(err, errlen, "need root, or CAP_BPF and CAP_PERFMON, to load BPF programs: "
		 "run it with sudo");
	return -1;
}

const char *host_tracefs(void)
{
	/* libbcc 0.26 prefers the debugfs path when it exists. */
	if (is_dir("/sys/kernel/debug/tracing"))
		return "/sys/kernel/debug/tracing";
	if (is_dir("/sys/kernel/tracing/events"))
		return "/sys/kernel/tracing";
	return NULL;
}

int host_check_tracefs(char *err, size_t errlen)
{
	const char *dir = host_tracefs();
	char path[256];

	if (!dir) {
		snprintf(err, errlen, "tracefs is not mounted: mount it with "
			 "'sudo mount -t tracefs tracefs /sys/kernel/tracing'");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/events/syscalls", dir);
	if (!is_dir(path)) {
		snprintf(err, errlen, "%s has no syscall tracepoints: mount tracefs there, or use a "
			 "kernel built with CONFIG_FTRACE_SYSCALLS", dir);
		return -1;
	}
	return 0;
}

bool host_has_tracepoint(const char *cat, const char *ev)
{
	const char *dir = host_tracefs();
	char path[512];

	if (!dir || access(dir, R_OK | X_OK) != 0)
		return true;	/* cannot tell (e.g. --ebpf as a user): assume it is there */
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", dir, cat, ev);
	return exists(path);
}

bool host_tracepoint_has_field(const char *cat, const char *ev, const char *field)
{
	const char *dir = host_tracefs();
	char path[512], line[512], want[160];
	bool found = false;
	FILE *f;

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", dir, cat, ev);
	snprintf(want, sizeof(want), " %s;", field);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, "\tfield:", 7) == 0 && strstr(line, want) != NULL;
	fclose(f);
	return found;
}

int host_check_headers(char *err, size_t errlen)
{
	const char *env = getenv("BCC_KERNEL_SOURCE");
	char build[512], source[512], path[600];
	struct utsname u;

	if (env && *env) {
		snprintf(path, sizeof(path), "%s/include/linux/kconfig.h", env);
		if (exists(path))
			return 0;
		snprintf(err, errlen, "BCC_KERNEL_SOURCE=%s has no include/linux/kconfig.h: point it "
			 "at a kernel header tree, or unset it", env);
		return -1;
	}
	if (uname(&u)) {
		snprintf(err, errlen, "uname: %s", strerror(errno));
		return -1;
	}
	snprintf(build, sizeof(build), "/lib/modules/%s/build", u.release);
	snprintf(source, sizeof(source), "/lib/modules/%s/source", u.release);
	if (is_dir(build)) {
		snprintf(path, sizeof(path), "%s/include/linux/kconfig.h", build);
		if (exists(path))
			return 0;
		snprintf(path, sizeof(path), "%s/include/linux/kconfig.h", source);
		if (exists(path))
			return 0;
	}
	if (exists("/sys/kernel/kheaders.tar.xz"))
		return 0;
	snprintf(err, errlen, "kernel headers for %s not found in %s: install them with "
		 "'sudo apt-get install linux-headers-%s' (or 'sudo tools/install-deps.sh', "
		 "which links a stand-in when no package exists)", u.release, build, u.release);
	return -1;
}
