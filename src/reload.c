/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "reload.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"
#include "rules.h"

/* How often reload_swap looks whether the readers took the new policy. */
#define SWAP_POLL_MS 5

struct retired {
	struct policy *p;
	uint64_t until; /* every reader must hold this generation or later */
};

struct reload {
	struct reload_slot *slot;
	struct limiter *limiter;
	_Atomic uint64_t *readers[RELOAD_READERS_MAX];
	bool awaited[RELOAD_READERS_MAX];
	size_t nreaders;
	/* retired policies, oldest first; a reload adds one */
	struct retired *retired;
	size_t nretired, cap;
	/* ids that are in no policy but may still have buckets */
	bool stale[LIMITER_RULE_IDS];
};

struct reload *reload_new(struct reload_slot *slot, struct limiter *l,
			  struct policy *p)
{
	struct reload *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->slot = slot;
	r->limiter = l;
	atomic_store(&slot->policy, p);
	atomic_store(&slot->generation, 1);
	return r;
}

int reload_add_reader(struct reload *r, _Atomic uint64_t *seen, bool awaited)
{
	if (r->nreaders == RELOAD_READERS_MAX)
		return -ENOSPC;
	r->awaited[r->nreaders] = awaited;
	r->readers[r->nreaders++] = seen;
	return 0;
}

const struct policy *reload_current(const struct reload *r)
{
	return atomic_load(&r->slot->policy);
}

struct policy *reload_policy(const struct reload *r, const struct config *cfg)
{
	return policy_new(cfg, reload_current(r), r->stale);
}

/* The oldest generation some reader (awaited ones only) still holds. */
static uint64_t oldest_seen(const struct reload *r, bool awaited_only)
{
	uint64_t min = UINT64_MAX;

	for (size_t i = 0; i < r->nreaders; i++) {
		uint64_t g;

		if (awaited_only && !r->awaited[i])
			continue;
		g = atomic_load_explicit(r->readers[i], memory_order_acquire);

		if (g < min)
			min = g;
	}
	return min;
}

int reload_swap(struct reload *r, struct policy *p, unsigned wait_ms)
{
	struct policy *old = atomic_load(&r->slot->policy);
	bool keep[LIMITER_RULE_IDS], had[LIMITER_RULE_IDS];
	uint64_t gen;

	/* room first: once p is published, nothing may fail */
	if (r->nretired == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		struct retired *n = realloc(r->retired, cap * sizeof(*n));

		if (n == NULL) {
			policy_free(p);
			return -ENOMEM;
		}
		r->retired = n;
		r->cap = cap;
	}
	policy_rule_ids(old, had);
	policy_rule_ids(p, keep);
	for (size_t id = 0; id < LIMITER_RULE_IDS; id++)
		if (had[id] && !keep[id])
			r->stale[id] = true;
	atomic_store(&r->slot->policy, p);
	gen = atomic_fetch_add(&r->slot->generation, 1) + 1;
	r->retired[r->nretired++] = (struct retired){old, gen};

	for (unsigned ms = 0; oldest_seen(r, true) < gen; ms += SWAP_POLL_MS) {
		if (ms >= wait_ms)
			return -ETIMEDOUT;
		usleep(SWAP_POLL_MS * 1000);
	}
	reload_collect(r);
	return 0;
}

void reload_collect(struct reload *r)
{
	uint64_t seen = oldest_seen(r, false);
	bool keep[LIMITER_RULE_IDS];
	size_t out = 0;
	bool any_stale = false;

	for (size_t i = 0; i < r->nretired; i++) {
		if (seen >= r->retired[i].until)
			policy_free(r->retired[i].p);
		else
			r->retired[out++] = r->retired[i];
	}
	r->nretired = out;
	if (out > 0)
		return;
	for (size_t id = 0; id < LIMITER_RULE_IDS; id++)
		any_stale |= r->stale[id];
	if (!any_stale)
		return;
	/* no reader can fill a bucket of a rule that is gone any more */
	policy_rule_ids(reload_current(r), keep);
	limiter_forget(r->limiter, keep);
	memset(r->stale, 0, sizeof(r->stale));
}

size_t reload_pending(const struct reload *r)
{
	return r->nretired;
}

void reload_free(struct reload *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nretired; i++)
		policy_free(r->retired[i].p);
	free(r->retired);
	policy_free(atomic_load(&r->slot->policy));
	atomic_store(&r->slot->policy, NULL);
	free(r);
}

/* "file:line: " for a setting given at line (or "file: " for a default). */
static int where(const struct config *cfg, int line, char *buf, size_t len)
{
	if (line > 0)
		return snprintf(buf, len, "%s:%d: ", cfg->path, line);
	return snprintf(buf, len, "%s: ", cfg->path);
}

/*
 * The table must fit: a fixed table larger than half the machine's memory
 * is a typing mistake, not a plan (it is allocated and touched at start).
 */
static int check_table(const struct config *cfg, char *err, size_t errlen)
{
	uint64_t bytes = ((uint64_t)cfg->table_size + 3) / 4 * 128;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page
					     : 0;
	int n;

	if (mem == 0 || bytes <= mem / 2)
		return 0;
	n = where(cfg, cfg->line.table_size, err, errlen);
	snprintf(err + n, errlen - (size_t)n,
		 "table-size %zu needs %" PRIu64 " bytes (%" PRIu64
		 " MiB), more than half of this machine's %" PRIu64
		 " bytes of memory",
		 cfg->table_size, bytes, bytes >> 20, mem);
	return -ENOMEM;
}

/*
 * A directory the daemon writes into after the switch to its user: that
 * user must be able to, and nobody else (a world-writable or sticky
 * directory lets another user block or fake what the daemon writes).
 */
static int check_dir(const struct config *cfg, const char *key, int line,
		     const char *file, const char *user, uid_t uid, gid_t gid,
		     char *err, size_t errlen)
{
	char dir[PATH_MAX], why[512];
	const char *slash = strrchr(file, '/');
	struct stat st;
	int n, rc;

	n = where(cfg, line, err, errlen);
	if (slash == NULL || (size_t)(slash - file) >= sizeof(dir))
		return 0;
	memcpy(dir, file, (size_t)(slash - file));
	dir[slash == file ? 1 : slash - file] = '\0';
	if (stat(dir, &st) < 0) {
		snprintf(err + n, errlen - (size_t)n, "%s: %s: %s", key, dir,
			 strerror(errno));
		return -errno;
	}
	if (st.st_mode & (S_IWOTH | S_ISVTX)) {
		snprintf(err + n, errlen - (size_t)n,
			 "%s: %s is a shared directory (mode %04o): another "
			 "user could block or replace %s; use a directory only "
			 "the daemon's user writes, such as /run/dnsrl",
			 key, dir, (unsigned)(st.st_mode & 07777), file);
		return -EPERM;
	}
	rc = privs_access(dir, user, uid, gid, W_OK | X_OK, why, sizeof(why));
	if (rc < 0)
		snprintf(err + n, errlen - (size_t)n, "%s: %s", key, why);
	return rc;
}

struct config *reload_load_config(const char *path, bool running, char *err,
				  size_t errlen)
{
	struct config *cfg = config_load(path, err, errlen);
	uid_t uid = getuid();
	gid_t gid = getgid();
	char why[512];
	int n;

	if (cfg == NULL)
		return NULL;
	if (!running &&
	    privs_lookup(cfg->user, &uid, &gid, why, sizeof(why)) < 0) {
		n = where(cfg, cfg->line.user, err, errlen);
		snprintf(err + n, errlen - (size_t)n, "user: %s", why);
		goto fail;
	}
	if (config_check_owner(cfg, uid, err, errlen) < 0)
		goto fail;
	if (cfg->nrules == 0 && cfg->rules_required) {
		snprintf(err, errlen,
			 "%s: no rule: every query would pass unjudged; add a "
			 "rule, or say rules-required no to run without one",
			 cfg->path);
		goto fail;
	}
	if (!running && check_table(cfg, err, errlen) < 0)
		goto fail;
	/* the daemon's user rereads the file on each reload */
	if (!running && cfg->user != NULL &&
	    privs_access(cfg->path, cfg->user, uid, gid, R_OK, why,
			 sizeof(why)) < 0) {
		snprintf(err, errlen,
			 "%s: %s: a reload, as that user, could not read it",
			 cfg->path, why);
		goto fail;
	}
	if (cfg->prometheus_file != NULL &&
	    check_dir(cfg, "prometheus-file", cfg->line.prometheus_file,
		      cfg->prometheus_file, cfg->user, uid, gid, err,
		      errlen) < 0)
		goto fail;
	/* the socket is removed at exit, as the daemon's user */
	if (!running && cfg->control_socket != NULL &&
	    check_dir(cfg, "control-socket", cfg->line.control_socket,
		      cfg->control_socket, cfg->user, uid, gid, err,
		      errlen) < 0)
		goto fail;
	return cfg;
fail:
	config_free(cfg);
	return NULL;
}

void reload_keep_restart_settings(const struct config *old, struct config *cfg)
{
	const char *changed = NULL;

	if (old->queue_first != cfg->queue_first ||
	    old->queue_last != cfg->queue_last)
		changed = "queue";
	else if (old->answer_queue_first != cfg->answer_queue_first ||
		 old->answer_queue_last != cfg->answer_queue_last)
		changed = "answer-queue";
	else if (old->queue_maxlen != cfg->queue_maxlen ||
		 old->queue_rcvbuf != cfg->queue_rcvbuf)
		changed = "queue-maxlen or queue-rcvbuf";
	else if (old->table_size != cfg->table_size)
		changed = "table-size";
	else if (old->fail_open != cfg->fail_open)
		changed = "fail-open";
	if (changed != NULL)
		log_warnx("reload: %s changed; that needs a restart, the "
			  "running value stays",
			  changed);
	cfg->queue_first = old->queue_first;
	cfg->queue_last = old->queue_last;
	cfg->answer_queue_first = old->answer_queue_first;
	cfg->answer_queue_last = old->answer_queue_last;
	cfg->answer_path = old->answer_path;
	cfg->queue_maxlen = old->queue_maxlen;
	cfg->queue_rcvbuf = old->queue_rcvbuf;
	cfg->table_size = old->table_size;
	cfg->fail_open = old->fail_open;
}

int reload_config(struct reload *r, struct config **cfg, char *err,
		  size_t errlen)
{
	struct config *old = *cfg, *next;
	struct policy *p;
	int rc;

	next = reload_load_config(old->path, true, err, errlen);
	if (next == NULL)
		return -EINVAL;
	reload_collect(r);
	reload_keep_restart_settings(old, next);
	if (!next->answer_path &&
	    config_count_rules(next, CONFIG_RULE_ANSWER) > 0) {
		snprintf(err, errlen,
			 "%s: answer rules need the answer queues, which the "
			 "daemon binds at start when it has answer rules: "
			 "restart it to add the first",
			 next->path);
		config_free(next);
		return -EINVAL;
	}
	p = reload_policy(r, next);
	if (p == NULL) {
		rc = -errno;
		snprintf(err, errlen, "policy: %s", strerror(errno));
		config_free(next);
		return rc;
	}
	/* the kernel lets through no candidate of either policy meanwhile */
	if (next->manage_rules) {
		rc = rules_install(next, old, err, errlen);
		if (rc < 0) {
			policy_free(p);
			config_free(next);
			return rc;
		}
	}
	rc = reload_swap(r, p, RELOAD_WAIT_MS);
	if (rc < 0 && rc != -ETIMEDOUT) {
		snprintf(err, errlen, "%s", strerror(-rc));
		config_free(next);
		return rc;
	}
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen,
			 "a worker has not taken the new policy in %d ms; it "
			 "will when it runs again",
			 RELOAD_WAIT_MS);
	if (next->manage_rules) {
		char why[256];

		/* wider than needed is safe: only more queries are queued */
		if (rules_install(next, NULL, why, sizeof(why)) < 0)
			log_warnx("reload: the rules could not be narrowed to "
				  "the new policy (more is queued than "
				  "needed): %s",
				  why);
	}
	config_free(old);
	*cfg = next;
	return rc;
}
