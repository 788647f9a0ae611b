/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The temporary allow-list.
 *
 * Two copies of each entry: the main thread's own (struct allowlist_entry:
 * who asked, the prefix as given), which only it reads and writes, and the
 * published cell the workers read, written by the main thread under the
 * cell's sequence.  A cell is free when its end is 0 or past; `used` is
 * one past the last cell that may be live, so a reader looks no further,
 * and a list that was never used costs a check one atomic load.
 *
 * Addresses are compared as two 64-bit halves, IPv4 in the top 32 bits of
 * the first (its prefix lengths are then the same masks).
 */
#include "allowlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_TRIES 4 /* reads of a cell being written, before giving up */
#define NS_PER_MS 1000000u
#define FILE_HEAD                                                             \
	"# dnsrl: the temporary allow-list (dnsrlctl allow), written by the " \
	"daemon\n# allow PREFIX until WALL-CLOCK-MS uid UID pid PID\n"

/* What the workers read of an entry. */
struct cell {
	_Atomic uint32_t seq;  /* odd while the main thread writes */
	_Atomic uint32_t meta; /* family (4 or 6) << 8 | prefix length */
	_Atomic uint64_t hi, lo;
	_Atomic uint64_t until; /* monotonic ns; 0: free */
};

struct allowlist {
	_Atomic size_t used; /* cells [0, used) may be live */
	struct cell cell[ALLOWLIST_MAX];
	struct allowlist_entry ent[ALLOWLIST_MAX]; /* the main thread's */
};

static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The two halves of an address of family (AF_INET or AF_INET6). */
static void halves(int family, const uint8_t *addr, uint64_t *hi, uint64_t *lo)
{
	if (family == AF_INET) {
		*hi = (uint64_t)addr[0] << 56 | (uint64_t)addr[1] << 48 |
		      (uint64_t)addr[2] << 40 | (uint64_t)addr[3] << 32;
		*lo = 0;
		return;
	}
	*hi = load64(addr);
	*lo = load64(addr + 8);
}

/* The masks of a prefix length 0..128 over the two halves. */
static void masks(unsigned len, uint64_t *mhi, uint64_t *mlo)
{
	*mhi = len == 0 ? 0 : len >= 64 ? UINT64_MAX : UINT64_MAX << (64 - len);
	*mlo = len <= 64    ? 0
	       : len >= 128 ? UINT64_MAX
			    : UINT64_MAX << (128 - len);
}

static unsigned fam_code(int family)
{
	return family == AF_INET6 ? 6 : 4;
}

struct allowlist *allowlist_new(void)
{
	struct allowlist *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	atomic_init(&a->used, 0);
	for (size_t i = 0; i < ALLOWLIST_MAX; i++) {
		atomic_init(&a->cell[i].seq, 0);
		atomic_init(&a->cell[i].meta, 0);
		atomic_init(&a->cell[i].hi, 0);
		atomic_init(&a->cell[i].lo, 0);
		atomic_init(&a->cell[i].until, 0);
	}
	return a;
}

void allowlist_free(struct allowlist *a)
{
	free(a);
}

/* Reads cell c whole, or returns false when it kept changing. */
static bool cell_read(const struct cell *c, uint32_t *meta, uint64_t *hi,
		      uint64_t *lo, uint64_t *until)
{
	for (int t = 0; t < READ_TRIES; t++) {
		uint32_t s =
			atomic_load_explicit(&c->seq, memory_order_acquire);

		if (s & 1)
			continue;
		*meta = atomic_load_explicit(&c->meta, memory_order_relaxed);
		*hi = atomic_load_explicit(&c->hi, memory_order_relaxed);
		*lo = atomic_load_explicit(&c->lo, memory_order_relaxed);
		*until = atomic_load_explicit(&c->until, memory_order_relaxed);
		/* the reads above come before the second look at seq */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&c->seq, memory_order_relaxed) == s)
			return true;
	}
	return false;
}

bool allowlist_has(const struct allowlist *a, int family, const uint8_t *addr,
		   uint64_t now)
{
	size_t used = atomic_load_explicit(&a->used, memory_order_acquire);
	unsigned fam = fam_code(family);
	uint64_t ahi, alo;

	if (used == 0)
		return false;
	halves(family, addr, &ahi, &alo);
	for (size_t i = 0; i < used; i++) {
		uint64_t hi, lo, until, mhi, mlo;
		uint32_t meta;

		if (!cell_read(&a->cell[i], &meta, &hi, &lo, &until) ||
		    until <= now || meta >> 8 != fam)
			continue;
		masks(meta & 0xff, &mhi, &mlo);
		if ((ahi & mhi) == hi && (alo & mlo) == lo)
			return true;
	}
	return false;
}

/* Publishes the main thread's entry i to the workers. */
static void publish(struct allowlist *a, size_t i)
{
	const struct allowlist_entry *e = &a->ent[i];
	struct cell *c = &a->cell[i];
	uint32_t s = atomic_load_explicit(&c->seq, memory_order_relaxed);
	uint64_t hi, lo, mhi, mlo;

	halves(e->prefix.family, e->prefix.addr, &hi, &lo);
	masks(e->prefix.len, &mhi, &mlo);
	atomic_store_explicit(&c->seq, s + 1, memory_order_relaxed);
	/* odd before any field changes */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&c->meta,
			      fam_code(e->prefix.family) << 8 | e->prefix.len,
			      memory_order_relaxed);
	atomic_store_explicit(&c->hi, hi & mhi, memory_order_relaxed);
	atomic_store_explicit(&c->lo, lo & mlo, memory_order_relaxed);
	atomic_store_explicit(&c->until, e->until, memory_order_relaxed);
	atomic_store_explicit(&c->seq, s + 2, memory_order_release);
}

/* Frees entry i, and the cells past the last live one. */
static void drop(struct allowlist *a, size_t i, uint64_t now)
{
	size_t used = atomic_load_explicit(&a->used, memory_order_relaxed);

	a->ent[i].until = 0;
	publish(a, i);
	while (used > 0 && a->ent[used - 1].until <= now)
		used--;
	atomic_store_explicit(&a->used, used, memory_order_release);
}

static bool same_prefix(const struct config_prefix *a,
			const struct config_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* The live entry for exactly p, or -1. */
static ssize_t find(const struct allowlist *a, const struct config_prefix *p,
		    uint64_t now)
{
	size_t used = atomic_load_explicit(&a->used, memory_order_relaxed);

	for (size_t i = 0; i < used; i++)
		if (a->ent[i].until > now && same_prefix(&a->ent[i].prefix, p))
			return (ssize_t)i;
	return -1;
}

int allowlist_set(struct allowlist *a, const struct config_prefix *p,
		  uint64_t until, uid_t uid, pid_t pid, uint64_t now,
		  uint64_t *was_until)
{
	size_t used = atomic_load_explicit(&a->used, memory_order_relaxed);
	ssize_t i = find(a, p, now);
	size_t j;

	if (until <= now)
		return -EINVAL;
	if (i >= 0) {
		if (was_until != NULL)
			*was_until = a->ent[i].until;
		a->ent[i].until = until;
		a->ent[i].uid = uid;
		a->ent[i].pid = pid;
		publish(a, (size_t)i);
		return 1;
	}
	for (j = 0; j < ALLOWLIST_MAX && a->ent[j].until > now; j++)
		;
	if (j == ALLOWLIST_MAX)
		return -ENOSPC;
	a->ent[j] = (struct allowlist_entry){
		.prefix = *p, .until = until, .uid = uid, .pid = pid};
	publish(a, j);
	/* the cell is whole before a reader may look at it */
	if (j >= used)
		atomic_store_explicit(&a->used, j + 1, memory_order_release);
	return 0;
}

int allowlist_remove(struct allowlist *a, const struct config_prefix *p,
		     uint64_t now, struct allowlist_entry *was)
{
	ssize_t i = find(a, p, now);

	if (i < 0)
		return -ENOENT;
	if (was != NULL)
		*was = a->ent[i];
	drop(a, (size_t)i, now);
	return 0;
}

size_t allowlist_expire(struct allowlist *a, uint64_t now,
			void (*fn)(void *arg, const struct allowlist_entry *e),
			void *arg)
{
	size_t used = atomic_load_explicit(&a->used, memory_order_relaxed);
	size_t n = 0;

	for (size_t i = 0; i < used; i++) {
		struct allowlist_entry e = a->ent[i];

		if (e.until == 0 || e.until > now)
			continue;
		drop(a, i, now);
		n++;
		if (fn != NULL)
			fn(arg, &e);
	}
	return n;
}

size_t allowlist_get(const struct allowlist *a, uint64_t now,
		     struct allowlist_entry out[ALLOWLIST_MAX])
{
	size_t used = atomic_load_explicit(&a->used, memory_order_relaxed);
	size_t n = 0;

	for (size_t i = 0; i < used; i++)
		if (a->ent[i].until > now)
			out[n++] = a->ent[i];
	return n;
}

bool allowlist_prefix_overlap(const struct config_prefix *a,
			      const struct config_prefix *b)
{
	uint64_t ahi, alo, bhi, blo, mhi, mlo;

	if (a->family != b->family)
		return false;
	halves(a->family, a->addr, &ahi, &alo);
	halves(b->family, b->addr, &bhi, &blo);
	/* the shorter one's mask: it holds the other when they agree on it */
	masks(a->len < b->len ? a->len : b->len, &mhi, &mlo);
	return ((ahi ^ bhi) & mhi) == 0 && ((alo ^ blo) & mlo) == 0;
}

bool allowlist_overlaps(const struct allowlist *a,
			const struct config_prefix *p, uint64_t now,
			struct allowlist_entry *out)
{
	size_t used = atomic_load_explicit(&a->used, memory_order_relaxed);

	for (size_t i = 0; i < used; i++) {
		if (a->ent[i].until <= now ||
		    !allowlist_prefix_overlap(&a->ent[i].prefix, p))
			continue;
		if (out != NULL)
			*out = a->ent[i];
		return true;
	}
	return false;
}

static int save_fail(int rc, char *err, size_t errlen, const char *path,
		     const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", path, what, strerror(-rc));
	return rc;
}

int allowlist_save(const struct allowlist *a, const char *path, uint64_t now,
		   int64_t real_ms, char *err, size_t errlen)
{
	struct allowlist_entry e[ALLOWLIST_MAX];
	size_t n = allowlist_get(a, now, e);
	char tmp[4096], addr[INET6_ADDRSTRLEN];
	FILE *f;
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return save_fail(-ENAMETOOLONG, err, errlen, path, "writing");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return save_fail(-errno, err, errlen, tmp, "writing");
	f = fdopen(fd, "w");
	if (f == NULL) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return save_fail(rc, err, errlen, tmp, "writing");
	}
	fputs(FILE_HEAD, f);
	for (size_t i = 0; i < n; i++) {
		uint64_t left_ms =
			(e[i].until - now + NS_PER_MS - 1) / NS_PER_MS;

		inet_ntop(e[i].prefix.family, e[i].prefix.addr, addr,
			  sizeof(addr));
		fprintf(f, "allow %s/%u until %" PRId64 " uid %u pid %d\n",
			addr, e[i].prefix.len, real_ms + (int64_t)left_ms,
			(unsigned)e[i].uid, (int)e[i].pid);
	}
	if (fflush(f) != 0 || ferror(f))
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return save_fail(rc ? rc : -EIO, err, errlen, path, "writing");
	}
	return 0;
}

/* Decimal digits only, no sign, below 2^63. */
static bool digits(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0' || strlen(s) > 18)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

/* One line of the file: 1 taken, 0 past or blank, -EINVAL not an entry. */
static int load_line(struct allowlist *a, char *line, uint64_t now,
		     int64_t real_ms, char *why, size_t whylen)
{
	char *tok[9], *save = NULL;
	int n = 0;
	int64_t until, uid, pid;
	struct config_prefix p;
	uint64_t left;
	int rc;

	line += strspn(line, " \t");
	if (*line == '\0' || *line == '#')
		return 0;
	for (char *t = strtok_r(line, " \t", &save); t != NULL;
	     t = strtok_r(NULL, " \t", &save)) {
		if (n == 8) {
			n++;
			break;
		}
		tok[n++] = t;
	}
	if (n != 8 || strcmp(tok[0], "allow") != 0 ||
	    strcmp(tok[2], "until") != 0 || strcmp(tok[4], "uid") != 0 ||
	    strcmp(tok[6], "pid") != 0 || !digits(tok[3], &until) ||
	    !digits(tok[5], &uid) || uid > UINT32_MAX - 1 ||
	    !digits(tok[7], &pid) || pid > INT32_MAX) {
		snprintf(why, whylen,
			 "expected 'allow PREFIX until MS uid UID pid PID'");
		return -EINVAL;
	}
	if (config_parse_prefix("allow", tok[1], &p, why, whylen) < 0)
		return -EINVAL;
	if (until <= real_ms)
		return 0;
	left = (uint64_t)(until - real_ms) * NS_PER_MS;
	rc = allowlist_set(a, &p, now + left, (uid_t)uid, (pid_t)pid, now,
			   NULL);
	if (rc == -ENOSPC) {
		snprintf(why, whylen, "more than %d entries", ALLOWLIST_MAX);
		return -EINVAL;
	}
	return rc < 0 ? rc : 1;
}

int allowlist_load(struct allowlist *a, const char *path, uid_t owner,
		   uint64_t now, int64_t real_ms, char *err, size_t errlen)
{
	char buf[ALLOWLIST_FILE_MAX + 1];
	char why[256];
	struct stat st;
	size_t len = 0;
	int fd, taken = 0, lineno = 0;
	char *line, *next;

	err[0] = '\0';
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != owner)) {
		snprintf(err, errlen,
			 "%s: not a regular file of root's or the daemon's "
			 "user's; not read",
			 path);
		close(fd);
		return S_ISREG(st.st_mode) ? -EPERM : -EINVAL;
	}
	for (;;) {
		ssize_t got = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -errno;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len == sizeof(buf) - 1) {
			snprintf(err, errlen,
				 "%s: larger than %d bytes; not read", path,
				 ALLOWLIST_FILE_MAX);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: holds a NUL byte; not read", path);
		return -EINVAL;
	}
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		int rc;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		rc = load_line(a, line, now, real_ms, why, sizeof(why));
		if (rc > 0)
			taken++;
		else if (rc < 0 && err[0] == '\0')
			snprintf(err, errlen, "%s:%d: %s; skipped", path,
				 lineno, why);
	}
	return taken;
}
