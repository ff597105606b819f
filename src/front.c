/*
 * keyquorum: the front, the binary installed as `keyquorum`.
 *
 * It links only what the offline verbs need (libsodium and libc) and runs
 * them in-process: mapping and relocating libcrypto, libssl, p11-kit,
 * jansson, pcsclite and libassuan at start cost split, combine and
 * decode-root more than the verbs themselves (docs/performance.md).
 * Every other verb is run by the full binary (src/main.c): the front
 * execs it with the same argv and environment, so its messages and exit
 * statuses are the full binary's own.  The offline verbs are the lines
 * of src/verbs.def marked KQ_VERB_OFFLINE.
 *
 * The full binary is found from the front's own location, never from
 * PATH or the environment: <dir>/KQ_FULL_REL (installed: BINDIR/keyquorum
 * and LIBEXECDIR/keyquorum/keyquorum-full), else <dir>/keyquorum-full
 * (the build tree), where <dir> holds /proc/self/exe.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/err.h"
#include "common/harden.h"
#include "common/secmem.h"

#ifndef KQ_FULL_REL
#define KQ_FULL_REL "../libexec/keyquorum/keyquorum-full"
#endif

static const struct cli_verb verbs[] = {
#define KQ_VERB(name, fn, summary) {name, NULL, summary},
#define KQ_VERB_OFFLINE(name, fn, summary) {name, fn, summary},
#include "verbs.def"
#undef KQ_VERB_OFFLINE
#undef KQ_VERB
};

/*
 * dir/rel into out, each leading "../" of rel taking the last component
 * off dir (a canonical directory, from /proc/self/exe), so that messages
 * name a plain path.  0, or -1 when it does not fit.
 */
static int
front_join(
    char *out, size_t cap, const char *dir, size_t dirlen, const char *rel)
{
	int n;

	while (strncmp(rel, "../", 3) == 0 && dirlen > 0) {
		while (dirlen > 0 && dir[dirlen - 1] != '/')
			dirlen--;
		if (dirlen > 0)
			dirlen--; /* the slash */
		rel += 3;
	}
	n = snprintf(out, cap, "%.*s/%s", (int)dirlen, dir, rel);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/*
 * exec the full binary with argv and the environment as they are; returns
 * only on failure, after naming the path that could not be run: exit
 * status 1.
 */
static int
front_exec_full(const char *verb, char **argv)
{
	static const char *const rel[2] = {KQ_FULL_REL, "keyquorum-full"};
	char self[PATH_MAX], path[2][PATH_MAX];
	const char *slash;
	ssize_t n;
	size_t i;
	int err[2] = {ENOENT, ENOENT};

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1 ||
	    (slash = memrchr(self, '/', (size_t)n)) == NULL) {
		cli_errx(verb,
		    "cannot find the full keyquorum binary: "
		    "/proc/self/exe: %s",
		    n < 0 ? strerror(errno) : "not a usable path");
		return KQ_EXIT_ERROR;
	}
	for (i = 0; i < 2; i++) {
		if (front_join(path[i], sizeof(path[i]), self,
		        (size_t)(slash - self), rel[i]) != 0) {
			err[i] = ENAMETOOLONG;
			continue;
		}
		execv(path[i], argv);
		err[i] = errno;
	}
	if (err[0] == ENOENT && err[1] == ENOENT) {
		cli_errx(verb,
		    "the full keyquorum binary is missing: %s "
		    "(in a build tree: %s)",
		    path[0], path[1]);
	} else {
		/* The one that exists but would not run. */
		i = err[0] == ENOENT ? 1 : 0;
		cli_errx(verb, "cannot run the full keyquorum binary %s: %s",
		    path[i], strerror(err[i]));
	}
	return KQ_EXIT_ERROR;
}

int
main(int argc, char **argv)
{
	const struct cli_verb *v;
	size_t n = sizeof(verbs) / sizeof(verbs[0]);
	int r;

	if ((r = kq_harden_process()) != KQ_OK)
		return cli_fail(NULL, r, "hardening the process");
	if ((v = cli_verb_of(argc, argv, verbs, n)) != NULL && v->fn == NULL)
		return front_exec_full(v->name, argv);
	if ((r = kq_secmem_init()) != KQ_OK)
		return cli_fail(NULL, r, "initialising libsodium");
	return cli_dispatch(argc, argv, verbs, n);
}
