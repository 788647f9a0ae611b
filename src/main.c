/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dnsrl: rate-limits dangerous DNS query types per source, behind an
 * iptables NFQUEUE rule.
 *
 * The main thread owns configuration, signals, timers and logging; one
 * worker thread per queue owns the packet path: the query queues first,
 * then, with answer rules, the answer queues.  See worker.h.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "holds.h"
#include "kset.h"
#include "limiter.h"
#include "log.h"
#include "notify.h"
#include "periodic.h"
#include "policy.h"
#include "prefilter.h"
#include "privs.h"
#include "queue.h"
#include "reload.h"
#include "replay.h"
#include "report.h"
#include "rules.h"
#include "stats.h"
#include "steer.h"
#include "worker.h"

#ifndef DNSRL_VERSION
#define DNSRL_VERSION "unknown"
#endif
#define DEFAULT_CONFIG "/etc/dnsrl/dnsrl.conf"
#define PROMETHEUS_EVERY (10 * CLOCK_NS_PER_S)
#define LOSSES_EVERY CLOCK_NS_PER_S /* losses are looked for once a second */
#define HOLDS_EVERY CLOCK_NS_PER_S  /* kernel holds read back once a second */
#define ALLOW_FILE "allow.state"    /* beside the control socket */
#define CMD_WAIT_S 30 /* a control command the main loop has not taken */

/*
 * What the control thread may read of the main thread's state: a copy,
 * published every tick under view_lock (the originals change under it).
 */
struct ctl_view {
	uint32_t live[LIMITER_RULE_IDS];
	size_t used;
	uint64_t log_suppressed;
	bool log_truncate;
};

/* A reload the control thread asks for; the main thread does it. */
struct ctl_ask {
	int fd; /* an eventfd the main loop polls */
	pthread_mutex_t lock;
	pthread_cond_t done;
	uint64_t asked, answered; /* how many so far */
	bool stopping;		  /* no more answers: the daemon stops */
	int rc;
	char msg[CONFIG_ERR_MAX + 64];
};

/*
 * A show, release, hold or allow the control thread hands to the main
 * thread, which owns the kernel holds and the allow-list; one at a time
 * (the control thread serves one client at a time).  The main thread
 * holds the lock while it runs one, so the asker either finds it done
 * or finds it not begun: its wait can give up safely.
 */
struct ctl_cmd {
	int fd; /* an eventfd the main loop polls */
	pthread_mutex_t lock;
	pthread_cond_t done;
	const char *line; /* the request; NULL: none waiting */
	const struct control_peer *peer;
	FILE *out;
	bool finished;
	bool stopping; /* no more answers: the daemon stops */
	int rc;
};

struct daemon {
	struct config *cfg;
	struct worker_shared shared;
	struct worker *workers; /* the query path's, then the answer path's */
	size_t nworkers, nquery;
	struct reload *reload;
	struct periodic periodic;
	struct periodic_ops periodic_ops;
	struct tbucket log_budget;
	uint64_t log_suppressed;
	struct control *control; /* or NULL */
	pthread_mutex_t view_lock;
	struct ctl_view view;
	_Atomic uint64_t ctl_seen; /* the control thread as a policy reader */
	struct ctl_ask ask;
	struct ctl_cmd cmd;
	struct allowlist *allow; /* the temporary allow-list */
	char *allow_file;	 /* where it is kept; NULL: not */
	bool prom_failed;
	struct notify_watchdog watchdog;
	bool stalled_logged;
	uint64_t losses[STATS_NCOUNTERS]; /* loss counters last looked at */
	int kstats;	     /* the kernel's queue counters, opened as root */
	struct holds *holds; /* kernel holds; NULL without a rule that can */
	struct stats kernel; /* what the kernel dropped for holds, by rule */
	int sigfd;
	int timerfd;
	int exit_code;
};

static __attribute__((noreturn)) void usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
		"usage: dnsrl [-ftvV] [-c file] [--print-rules] [--remove-rules]\n"
		"             [--make-sets]\n"
		"             [-r capture]\n"
		"  -c, --config FILE   configuration (default %s)\n"
		"  -f, --foreground    also log to stderr\n"
		"  -t, --test-config   check the configuration and exit\n"
		"  -v, --verbose       with -t: print the effective policy;\n"
		"                      otherwise: debug logging\n"
		"      --print-rules   print the iptables/ip6tables rules\n"
		"      --remove-rules  remove dnsrl's iptables/ip6tables rules\n"
		"                      and its kernel sets\n"
		"      --make-sets     make the kernel sets of the kernel holds\n"
		"                      (the printed rules run it first)\n"
		"  -r, --replay FILE   run the policy over a capture (pcap)\n"
		"                      and print what it would have done\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n",
		DEFAULT_CONFIG);
	exit(code);
}

/* The policy currently running (main thread's view). */
static const struct policy *current(const struct daemon *d)
{
	return reload_current(d->reload);
}

/* The sets of the running configuration's kernel holds (idempotent). */
static int holds_make_sets_for(struct daemon *d, char *err, size_t errlen)
{
	return rules_make_sets(d->cfg, err, errlen);
}

static void log_policy(const struct daemon *d, const char *what)
{
	const struct config *c = d->cfg;
	char buf[512];

	char answers[64] = "";

	if (d->nworkers > d->nquery)
		snprintf(answers, sizeof(answers), ", answer queues %u-%u",
			 c->answer_queue_first, c->answer_queue_last);
	log_info("%s: queues %u-%u%s, table-size %zu (%zu KiB), fail-open %s, "
		 "malformed %s, fragments %s, %zu allow prefixes, %zu rules",
		 what, c->queue_first, c->queue_last, answers, c->table_size,
		 limiter_bytes(d->shared.limiter) / 1024,
		 c->fail_open ? "yes" : "no",
		 c->malformed == CONFIG_DROP ? "drop" : "accept",
		 c->fragments == CONFIG_DROP ? "drop" : "accept", c->nallow,
		 c->nrules);
	for (size_t i = 0; i < c->nrules; i++) {
		config_rule_summary(&c->rules[i], buf, sizeof(buf));
		log_info("rule %s", buf);
	}
	prefilter_describe(c, buf, sizeof(buf));
	log_info("%s", buf);
}

/*
 * One per-source line, within the log budget.  we carries the query of a
 * first drop, whose name report_event_text escapes: it is whatever the
 * client sent.
 */
static void log_event(struct daemon *d, const struct worker_event *we,
		      uint64_t now)
{
	const struct config_rule *r =
		policy_rule_by_id(current(d), we->ev.rule);
	char line[1536];

	if (r == NULL)
		return; /* the rule is gone since */
	if (!tbucket_take(&d->log_budget, now)) {
		d->log_suppressed++;
		return;
	}
	if (report_event_text(r, &we->ev, we->qtype, we->name, we->name_len,
			      d->cfg->log_truncate, line, sizeof(line)) > 0)
		log_info("%s", line);
}

static void on_released(void *arg, const struct limiter_event *ev)
{
	struct daemon *d = arg;
	struct worker_event we = {.ev = *ev};

	log_event(d, &we, clock_now());
}

/*
 * Sums the workers' counters into sum[0] (the query path) and sum[1] (the
 * answer path) and lends the reports a view of policy p and of the table
 * as view counted it.
 */
static void view_of(struct daemon *d, const struct policy *p,
		    const struct ctl_view *view, struct stats sum[2],
		    struct report_view *v)
{
	uint64_t lost = 0;

	memset(sum, 0, 2 * sizeof(*sum));
	for (size_t i = 0; i < d->nworkers; i++) {
		stats_collect(&d->workers[i].box, &sum[i >= d->nquery]);
		lost += atomic_load(&d->workers[i].lost);
	}
	/* the rules' queries the kernel dropped for their holds */
	pthread_mutex_lock(&d->view_lock);
	stats_add(&sum[0], &d->kernel);
	pthread_mutex_unlock(&d->view_lock);
	*v = (struct report_view){
		.sum = &sum[0],
		.answers = d->nworkers > d->nquery ? &sum[1] : NULL,
		.policy = p,
		.live = view->live,
		.table_used = view->used,
		.table_capacity = limiter_capacity(d->shared.limiter),
		.events_lost = lost,
		.log_suppressed = view->log_suppressed,
	};
}

/* Copies what the control thread may read (every tick). */
static void publish_view(struct daemon *d)
{
	struct ctl_view *view = &d->view;

	pthread_mutex_lock(&d->view_lock);
	memcpy(view->live, periodic_live(&d->periodic), sizeof(view->live));
	view->used = periodic_used(&d->periodic);
	view->log_suppressed = d->log_suppressed;
	view->log_truncate = d->cfg->log_truncate;
	pthread_mutex_unlock(&d->view_lock);
}

/* The main thread's own view: its state as it is now. */
static void report_view_of(struct daemon *d, struct stats sum[2],
			   struct report_view *v)
{
	publish_view(d);
	view_of(d, current(d), &d->view, sum, v);
}

/* The counters, one syslog line each: the same text dnsrlctl shows. */
static void log_stats(struct daemon *d, const char *why)
{
	static struct stats sum[2]; /* 2 x 23 KiB: the main thread's alone */
	struct report_view v;
	char *text = NULL, *line, *next;
	size_t len = 0;
	FILE *out;

	report_view_of(d, sum, &v);
	out = open_memstream(&text, &len);
	if (out == NULL) {
		log_warn("stats");
		return;
	}
	report_stats_text(&v, why, out);
	fclose(out);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		log_info("%s", line);
	}
	free(text);
	if (d->holds != NULL) {
		struct holds_stats hs;

		holds_get_stats(d->holds, &hs);
		log_info("kernel holds%s: added=%" PRIu64 " full=%" PRIu64
			 " failed=%" PRIu64 " lost=%" PRIu64
			 " restored=%" PRIu64 " dropped=%" PRIu64
			 " released=%" PRIu64 " read-errors=%" PRIu64,
			 why, hs.added, hs.full, hs.failed, hs.lost,
			 hs.restored, hs.dropped, hs.released, hs.poll_errors);
	}
	for (size_t i = 0; i < d->nworkers; i++) {
		uint16_t num = d->workers[i].num;
		struct queue_kstats ks;

		if (d->kstats < 0 || queue_kstats_read(d->kstats, num, &ks) < 0)
			continue;
		log_info("queue %u: waiting=%" PRIu32 " kernel-dropped=%" PRIu32
			 " user-dropped=%" PRIu32 " id-sequence=%" PRIu32,
			 num, ks.total, ks.dropped, ks.user_dropped,
			 ks.id_sequence);
	}
}

/*
 * The control thread holds the running policy while it answers: as a
 * reader of the hand-over (reload.h), so that a reload frees nothing it
 * uses.  It holds nothing between requests.
 */
static const struct policy *ctl_hold(struct daemon *d, struct ctl_view *view)
{
	uint64_t gen;

	/* before the policy is read: nothing may be freed meanwhile */
	atomic_store(&d->ctl_seen, 0);
	gen = atomic_load(&d->shared.slot.generation);
	atomic_store(&d->ctl_seen, gen);
	pthread_mutex_lock(&d->view_lock);
	*view = d->view;
	pthread_mutex_unlock(&d->view_lock);
	return atomic_load(&d->shared.slot.policy);
}

static void ctl_release(struct daemon *d)
{
	atomic_store(&d->ctl_seen, UINT64_MAX);
}

static int ctl_stats(void *arg, FILE *out)
{
	static struct stats sum[2]; /* the control thread's alone */
	struct daemon *d = arg;
	struct ctl_view view;
	struct report_view v;
	int rc;

	view_of(d, ctl_hold(d, &view), &view, sum, &v);
	rc = report_stats_text(&v, "", out);
	ctl_release(d);
	return rc;
}

static int ctl_top(void *arg, size_t n, FILE *out)
{
	struct daemon *d = arg;
	struct ctl_view view;
	const struct policy *p = ctl_hold(d, &view);
	struct report_top *t = report_top_new(d->shared.limiter, p, clock_now(),
					      n, &d->shared.stop);
	int rc = -errno;

	if (t != NULL)
		rc = report_top_text(t, p, view.log_truncate, out);
	report_top_free(t);
	ctl_release(d);
	return rc;
}

/*
 * `dnsrlctl reload`: the main thread reloads (it owns the configuration)
 * and this thread answers with its result, so that the client, and
 * `systemctl reload` with it, learns whether the reload failed.
 */
static int ctl_reload(void *arg, FILE *out)
{
	struct daemon *d = arg;
	struct ctl_ask *a = &d->ask;
	uint64_t one = 1, mine;
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&a->lock);
	mine = ++a->asked;
	if (write(a->fd, &one, sizeof(one)) != sizeof(one))
		rc = -errno;
	while (rc == 0 && a->answered < mine && !a->stopping)
		rc = -pthread_cond_timedwait(&a->done, &a->lock, &until);
	if (a->answered >= mine) {
		rc = a->rc;
		fputs(a->msg, out);
	} else if (a->stopping) {
		rc = -ECANCELED;
		fprintf(out, "the daemon is stopping\n");
	} else {
		fprintf(out, "the reload did not end within 60 s\n");
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* The wall clock in ms, for what outlives the monotonic clock. */
static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What show, release, hold and allow work on, at now (main thread). */
static struct steer_ctx steer_ctx_of(struct daemon *d, uint64_t now)
{
	return (struct steer_ctx){
		.limiter = d->shared.limiter,
		.policy = current(d),
		.cfg = d->cfg,
		.holds = d->holds,
		.allow = d->allow,
		.allow_file = d->allow_file,
		.now = now,
		.real_ms = real_ms(),
	};
}

/*
 * `dnsrlctl show`, `release`, `hold`, `allow`: handed to the main thread
 * (it owns the kernel holds and the allow-list), answered when done.
 */
static int ctl_steer(void *arg, const char *line,
		     const struct control_peer *peer, FILE *out)
{
	struct daemon *d = arg;
	struct ctl_cmd *c = &d->cmd;
	struct timespec until;
	uint64_t one = 1;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CMD_WAIT_S;
	pthread_mutex_lock(&c->lock);
	c->line = line;
	c->peer = peer;
	c->out = out;
	c->finished = false;
	if (write(c->fd, &one, sizeof(one)) != sizeof(one))
		rc = -errno;
	while (rc == 0 && !c->finished && !c->stopping)
		rc = -pthread_cond_timedwait(&c->done, &c->lock, &until);
	if (c->finished) {
		rc = c->rc;
	} else {
		/* not begun: the main thread will not take it now */
		c->line = NULL;
		fprintf(out, "%s\n",
			c->stopping ? "the daemon is stopping"
				    : "the daemon's main loop did not take the "
				      "request in time");
		rc = c->stopping ? -ECANCELED : -ETIMEDOUT;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* A command the control thread handed over (main thread). */
static void answer_cmd(struct daemon *d)
{
	struct ctl_cmd *c = &d->cmd;
	uint64_t n;

	if (read(c->fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&c->lock);
	if (c->line != NULL) {
		struct steer_ctx ctx = steer_ctx_of(d, clock_now());
		struct steer_who who = {.uid = c->peer->uid,
					.pid = c->peer->pid};

		c->rc = steer_run(&ctx, c->line, &who, c->out);
		c->line = NULL;
		c->finished = true;
		pthread_cond_broadcast(&c->done);
	}
	pthread_mutex_unlock(&c->lock);
}

/* A hold on its way to the kernel that an operator has overtaken. */
static bool holds_keep_out(void *arg, unsigned rule, int family, uint64_t key)
{
	struct daemon *d = arg;
	struct steer_ctx ctx = steer_ctx_of(d, clock_now());

	return steer_keep_out(&ctx, rule, family, key);
}

static const struct control_ops ctl_ops = {
	.stats = ctl_stats,
	.top = ctl_top,
	.reload = ctl_reload,
	.steer = ctl_steer,
};

static void write_prometheus(struct daemon *d)
{
	static struct stats sum[2];
	struct report_view v;
	int rc;

	report_view_of(d, sum, &v);
	rc = report_prometheus(d->cfg->prometheus_file, &v);
	/* said when it starts failing and when it works again */
	if (rc < 0 && !d->prom_failed) {
		errno = -rc;
		log_warn("prometheus-file %s: not written",
			 d->cfg->prometheus_file);
	} else if (rc == 0 && d->prom_failed) {
		log_info("prometheus-file %s: written again",
			 d->cfg->prometheus_file);
	}
	d->prom_failed = rc < 0;
}

static void log_report(struct daemon *d, uint64_t now)
{
	struct report_top *t = report_top_new(d->shared.limiter, current(d),
					      now, d->cfg->report_top, NULL);

	if (t != NULL)
		report_log(t, current(d), d->cfg->log_truncate);
	else
		log_warn("report");
	report_top_free(t);
}

/* The periodic jobs (see periodic.h). */
static void on_job(void *arg, enum periodic_job job, uint64_t now)
{
	static struct stats sum[2];
	struct daemon *d = arg;
	struct report_view v;

	switch (job) {
	case PERIODIC_STATS:
		log_stats(d, "");
		break;
	case PERIODIC_REPORT:
		log_report(d, now);
		break;
	case PERIODIC_PROMETHEUS:
		if (d->cfg->prometheus_file != NULL)
			write_prometheus(d);
		break;
	case PERIODIC_HOLDS:
		if (d->holds != NULL) {
			/* the control thread reads d->kernel too */
			pthread_mutex_lock(&d->view_lock);
			holds_poll(d->holds, d->shared.limiter, &d->kernel,
				   now);
			pthread_mutex_unlock(&d->view_lock);
		}
		break;
	case PERIODIC_LOSSES:
		report_view_of(d, sum, &v);
		/* both paths: a loss is a loss */
		stats_add(&sum[0], &sum[1]);
		report_losses(&sum[0], d->losses);
		break;
	default:
		break;
	}
}

/* The jobs whose intervals come from the configuration. */
static void schedule(struct daemon *d, uint64_t now)
{
	periodic_every(&d->periodic, PERIODIC_STATS, d->cfg->stats_interval,
		       now);
	periodic_every(&d->periodic, PERIODIC_REPORT, d->cfg->report_interval,
		       now);
}

/*
 * Checks the kernel's rules against the running configuration and says
 * what is wrong, loudly: a query the rules do not send to the queue is
 * never judged.
 */
static void check_rules(struct daemon *d)
{
	char why[1024];
	enum rules_state st = rules_verify(d->cfg, why, sizeof(why));

	if (st == RULES_OK) {
		log_info("rules: in place (%s table, chain %s)", RULES_TABLE,
			 RULES_CHAIN);
		return;
	}
	log_warnx("rules: %s: %s; %s", rules_state_name(st), why,
		  d->cfg->manage_rules
			  ? "manage-rules is on: they were installed, so "
			    "something else changed them"
			  : "run the script `dnsrl --print-rules` prints, or "
			    "set manage-rules yes");
}

/*
 * Reloads, and says how it went in msg (a line): 0 when the new policy
 * runs in every worker, -ETIMEDOUT when one has not taken it yet, another
 * -errno when the running one stays.
 */
static int reload(struct daemon *d, char *msg, size_t len)
{
	char err[CONFIG_ERR_MAX];
	int facility = d->cfg->syslog_facility;
	int rc;

	notify_send("RELOADING=1");
	rc = reload_config(d->reload, &d->cfg, err, sizeof(err));
	if (rc < 0 && rc != -ETIMEDOUT) {
		log_warnx("reload failed: %s; the running policy stays", err);
		snprintf(msg, len,
			 "reload failed: %s; the running policy stays\n", err);
		notify_send("READY=1\nSTATUS=reload failed; old policy");
		return rc;
	}
	if (rc == -ETIMEDOUT) {
		log_warnx("reload: %s", err);
		snprintf(msg, len, "reload: %s\n", err);
	} else {
		snprintf(msg, len, "reloaded: %zu rules\n", d->cfg->nrules);
	}
	if (d->cfg->syslog_facility != facility)
		log_init("dnsrl", d->cfg->syslog_facility, -1);
	/* a new path fails or works afresh, and says so */
	d->prom_failed = false;
	tbucket_init(&d->log_budget, d->cfg->log_n, d->cfg->log_period);
	schedule(d, clock_now());
	if (d->holds != NULL) {
		char herr[256];

		if (!d->cfg->manage_rules &&
		    holds_make_sets_for(d, herr, sizeof(herr)) < 0)
			log_warnx("kernel holds: %s", herr);
		if (holds_configure(d->holds, d->cfg, current(d)) < 0)
			log_warnx("kernel holds: out of memory; the old "
				  "table of counters stays");
	}
	log_policy(d, "reloaded");
	check_rules(d);
	publish_view(d);
	notify_send("READY=1\nSTATUS=running");
	return rc;
}

/* A reload the control thread asked for. */
static void answer_ask(struct daemon *d)
{
	struct ctl_ask *a = &d->ask;
	char msg[sizeof(a->msg)];
	uint64_t n, asked;
	int rc;

	if (read(a->fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&a->lock);
	asked = a->asked;
	pthread_mutex_unlock(&a->lock);
	if (asked == a->answered)
		return;
	rc = reload(d, msg, sizeof(msg));
	pthread_mutex_lock(&a->lock);
	a->rc = rc;
	memcpy(a->msg, msg, sizeof(msg));
	/* every ask made before this reload began is answered by it */
	a->answered = asked;
	pthread_cond_broadcast(&a->done);
	pthread_mutex_unlock(&a->lock);
}

static void tick(struct daemon *d)
{
	uint64_t now = clock_now();
	uint64_t beats[NOTIFY_WORKERS_MAX];
	struct worker_event ev;

	for (size_t i = 0; i < d->nworkers; i++) {
		while (worker_pop_event(&d->workers[i], &ev)) {
			if (d->holds != NULL)
				holds_held(d->holds, &ev.ev);
			log_event(d, &ev, now);
		}
		beats[i] = atomic_load(&d->workers[i].beats);
		if (atomic_load(&d->workers[i].error) != 0 &&
		    d->exit_code == 0) {
			errno = -atomic_load(&d->workers[i].error);
			log_warn("queue %u: worker stopped", d->workers[i].num);
			d->exit_code = 1;
			atomic_store(&d->shared.stop, true);
		}
	}
	if (d->holds != NULL)
		holds_flush(d->holds, now);
	{
		struct steer_ctx ctx = steer_ctx_of(d, now);

		steer_expire(&ctx);
	}
	periodic_run(&d->periodic, now);
	publish_view(d);
	if (notify_watchdog_due(&d->watchdog, beats, now)) {
		notify_send("WATCHDOG=1");
		d->stalled_logged = false;
	} else if (d->watchdog.stalled != SIZE_MAX && !d->stalled_logged) {
		log_warnx("queue %u: worker stalled; not feeding the watchdog",
			  d->workers[d->watchdog.stalled].num);
		d->stalled_logged = true;
	}
	reload_collect(d->reload);
}

static int on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	char msg[CONFIG_ERR_MAX + 64];

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(d, msg, sizeof(msg));
			break;
		case SIGUSR1:
			log_stats(d, " (SIGUSR1)");
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %u: stopping", si.ssi_signo);
			return 1;
		default:
			break;
		}
	}
	return 0;
}

/*
 * The query queues, then the answer queues when there are answer rules
 * (a reload cannot add them: see reload_keep_restart_settings).
 */
static void open_queues(struct daemon *d)
{
	const struct config *c = d->cfg;

	d->nquery = (size_t)(c->queue_last - c->queue_first) + 1;
	d->nworkers = d->nquery;
	d->cfg->answer_path = config_count_rules(c, CONFIG_RULE_ANSWER) > 0;
	if (d->cfg->answer_path)
		d->nworkers +=
			(size_t)(c->answer_queue_last - c->answer_queue_first) +
			1;
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (d->workers == NULL)
		fatal("workers");
	for (size_t i = 0; i < d->nworkers; i++) {
		bool answers = i >= d->nquery;
		struct queue_params qp = {
			.num = answers ? (uint16_t)(c->answer_queue_first + i -
						    d->nquery)
				       : (uint16_t)(c->queue_first + i),
			.maxlen = c->queue_maxlen,
			.rcvbuf = c->queue_rcvbuf,
			.copy_range = QUEUE_COPY_RANGE,
			.fail_open = c->fail_open,
		};
		struct queue *q = queue_open(&qp);
		int rc;

		if (q == NULL)
			fatal("queue %u: cannot bind%s", qp.num,
			      errno == EPERM   ? " (needs CAP_NET_ADMIN)"
			      : errno == EBUSY ? " (another process has it)"
					       : "");
		rc = worker_init(&d->workers[i], &d->shared, q, answers);
		if (rc < 0) {
			errno = -rc;
			fatal("worker");
		}
		/* before the thread starts: the operator's allow-list */
		d->workers[i].ctx.allow = d->allow;
	}
}

/*
 * The kernel holds, when a rule can: the socket opened while still root
 * (it keeps working with CAP_NET_ADMIN alone), the sets made, and the
 * holds a previous run left read back, before any query is judged.
 */
static void open_holds(struct daemon *d, uint64_t now)
{
	char err[256];
	struct kset *k;
	bool any = false;
	int n;

	for (size_t i = 0; i < d->cfg->nrules; i++)
		any |= holds_rule_can(d->cfg, i, NULL, 0);
	if (!any)
		return;
	if (holds_make_sets_for(d, err, sizeof(err)) < 0)
		fatalx("kernel holds: %s", err);
	k = kset_open();
	if (k == NULL)
		fatal("kernel holds: the ipset socket");
	d->holds = holds_new(k);
	if (d->holds == NULL ||
	    holds_configure(d->holds, d->cfg, current(d)) < 0)
		fatal("kernel holds");
	holds_set_filter(d->holds, holds_keep_out, d);
	n = holds_restore(d->holds, d->shared.limiter, now);
	if (n < 0) {
		errno = -n;
		log_warn("kernel holds: reading the sets back");
	} else if (n > 0) {
		log_info("kernel holds: %d holds restored from the kernel", n);
	}
}

/* The readers' group of the socket, as the configuration names it. */
static void open_control_group(struct daemon *d)
{
	const char *name = d->cfg->control_group;
	struct group gr, *g = NULL;
	char buf[16384];
	int rc;

	rc = getgrnam_r(name, &gr, buf, sizeof(buf), &g);
	if (g == NULL && rc != 0)
		fatalx("%s:%d: control-group %s: %s", d->cfg->path,
		       d->cfg->line.control_group, name, strerror(rc));
	if (g == NULL)
		fatalx("%s:%d: control-group: no such group '%s'", d->cfg->path,
		       d->cfg->line.control_group, name);
	rc = control_set_readers(d->control, g->gr_gid);
	if (rc < 0) {
		errno = -rc;
		fatal("control-group %s: the socket's group and mode", name);
	}
	log_info("control-socket %s: group %s (gid %u) may read",
		 d->cfg->control_socket, name, (unsigned)g->gr_gid);
}

/*
 * The control socket, made while still root, owned by the daemon's user;
 * and the temporary allow-list a previous run left beside it.
 */
static void open_control(struct daemon *d)
{
	const char *path = d->cfg->control_socket, *slash;
	char err[512];
	uid_t uid;
	gid_t gid;
	int n;

	if (path == NULL)
		return;
	if (privs_lookup(d->cfg->user, &uid, &gid, err, sizeof(err)) < 0)
		fatalx("control-socket: %s", err);
	d->control = control_open(path, uid, gid);
	if (d->control == NULL)
		fatal("control-socket %s", path);
	if (d->cfg->control_group != NULL)
		open_control_group(d);
	/* the directory is the daemon's user's: it writes the file there */
	slash = strrchr(path, '/');
	if (slash == NULL || asprintf(&d->allow_file, "%.*s/" ALLOW_FILE,
				      (int)(slash - path), path) < 0) {
		d->allow_file = NULL;
		return;
	}
	n = allowlist_load(d->allow, d->allow_file, uid, clock_now(), real_ms(),
			   err, sizeof(err));
	if (err[0] != '\0')
		log_warnx("control: %s", err);
	if (n > 0)
		log_info("control: %d temporary allow-list entr%s read back "
			 "from %s",
			 n, n == 1 ? "y" : "ies", d->allow_file);
}

/*
 * Down to CAP_NET_ADMIN (and the configured user) before any worker
 * thread exists: capabilities are per thread, and workers inherit these.
 */
static void drop_privileges(struct daemon *d)
{
	char err[256];
	uid_t uid;
	gid_t gid;

	if (privs_lookup(d->cfg->user, &uid, &gid, err, sizeof(err)) < 0 ||
	    privs_drop(d->cfg->user, uid, gid, err, sizeof(err)) < 0)
		fatalx("dropping privileges: %s", err);
	log_info("running as uid %u gid %u with CAP_NET_ADMIN only",
		 (unsigned)getuid(), (unsigned)getgid());
}

static void start(struct daemon *d)
{
	sigset_t mask;
	struct itimerspec its = {
		.it_interval = {0, (long)PERIODIC_TICK_NS},
		.it_value = {0, (long)PERIODIC_TICK_NS},
	};
	struct policy *p;
	uint64_t now;

	pthread_mutex_init(&d->view_lock, NULL);
	pthread_mutex_init(&d->ask.lock, NULL);
	pthread_cond_init(&d->ask.done, NULL);
	atomic_store(&d->ctl_seen, UINT64_MAX);
	d->ask.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&d->cmd.lock, NULL);
	pthread_cond_init(&d->cmd.done, NULL);
	d->cmd.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->ask.fd < 0 || d->cmd.fd < 0)
		fatal("eventfd");
	d->allow = allowlist_new();
	if (d->allow == NULL)
		fatal("allow-list");

	/* blocked before any thread starts, so only the signalfd sees them */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timerfd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0)
		fatal("signalfd/timerfd");

	/* shared even with one worker: this thread sweeps it and reports */
	d->shared.limiter = limiter_new(d->cfg->table_size, true);
	if (d->shared.limiter == NULL)
		fatal("table of %zu sources", d->cfg->table_size);
	p = policy_new(d->cfg, NULL, NULL);
	if (p == NULL)
		fatal("policy");
	d->reload = reload_new(&d->shared.slot, d->shared.limiter, p);
	if (d->reload == NULL)
		fatal("reload");
	d->shared.fail_open = d->cfg->fail_open;
	tbucket_init(&d->log_budget, d->cfg->log_n, d->cfg->log_period);

	open_queues(d);
	/* before any query is judged: a hold a restart left goes on */
	open_holds(d, clock_now());
	/* bound first: the rules send queries to a queue that has a reader */
	if (d->cfg->manage_rules) {
		char err[512];

		if (rules_install(d->cfg, NULL, err, sizeof(err)) < 0)
			fatalx("manage-rules: installing the rules: %s", err);
		log_info("rules: installed (manage-rules yes)");
	}
	for (size_t i = 0; i < d->nworkers; i++)
		if (reload_add_reader(d->reload, &d->workers[i].seen, true) < 0)
			fatalx("more than %d workers", RELOAD_READERS_MAX);
	/* the control thread reads policies too; a reload does not wait */
	if (reload_add_reader(d->reload, &d->ctl_seen, false) < 0)
		fatalx("more than %d readers", RELOAD_READERS_MAX);
	open_control(d);
	d->kstats = queue_kstats_open();
	if (d->kstats < 0) {
		errno = -d->kstats;
		log_warn("queue counters of the kernel: cannot open");
	}
	drop_privileges(d);
	for (size_t i = 0; i < d->nworkers; i++) {
		int rc = worker_start(&d->workers[i]);

		if (rc < 0) {
			errno = -rc;
			fatal("worker thread");
		}
	}
	/* the schedule starts before its timer, so no tick comes early */
	now = clock_now();
	d->periodic_ops = (struct periodic_ops){
		.released = on_released,
		.job = on_job,
		.arg = d,
	};
	periodic_init(&d->periodic, d->shared.limiter, &d->periodic_ops, now);
	schedule(d, now);
	periodic_every(&d->periodic, PERIODIC_PROMETHEUS, PROMETHEUS_EVERY,
		       now);
	periodic_every(&d->periodic, PERIODIC_LOSSES, LOSSES_EVERY, now);
	periodic_every(&d->periodic, PERIODIC_HOLDS, HOLDS_EVERY, now);
	if (timerfd_settime(d->timerfd, 0, &its, NULL) < 0)
		fatal("timerfd");
	notify_watchdog_init(&d->watchdog, notify_watchdog_interval(),
			     d->nworkers, now);
	log_policy(d, "dnsrl " DNSRL_VERSION " started");
	check_rules(d);
	publish_view(d);
	/* its own thread: no client can hold this one's loop up */
	if (d->control != NULL) {
		int rc = control_start(d->control, &ctl_ops, d);

		if (rc < 0) {
			errno = -rc;
			fatal("control-socket thread");
		}
	}
	notify_send("READY=1\nSTATUS=running");
}

static void run(struct daemon *d)
{
	struct pollfd pfd[4] = {
		{.fd = d->sigfd, .events = POLLIN},
		{.fd = d->timerfd, .events = POLLIN},
		{.fd = d->ask.fd, .events = POLLIN},
		{.fd = d->cmd.fd, .events = POLLIN},
	};

	while (!atomic_load(&d->shared.stop)) {
		uint64_t expirations;

		if (poll(pfd, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if ((pfd[0].revents & POLLIN) && on_signal(d))
			break;
		if ((pfd[1].revents & POLLIN) &&
		    read(d->timerfd, &expirations, sizeof(expirations)) > 0)
			tick(d);
		if (pfd[2].revents & POLLIN)
			answer_ask(d);
		if (pfd[3].revents & POLLIN)
			answer_cmd(d);
	}
}

static void stop(struct daemon *d)
{
	struct worker_event ev;

	notify_send("STOPPING=1");
	/* a client waiting for a reload gets its answer: none will come */
	pthread_mutex_lock(&d->ask.lock);
	d->ask.stopping = true;
	pthread_cond_broadcast(&d->ask.done);
	pthread_mutex_unlock(&d->ask.lock);
	pthread_mutex_lock(&d->cmd.lock);
	d->cmd.stopping = true;
	pthread_cond_broadcast(&d->cmd.done);
	pthread_mutex_unlock(&d->cmd.lock);
	/* before the control thread is joined: a `top` under way gives up */
	atomic_store(&d->shared.stop, true);
	control_close(d->control);
	for (size_t i = 0; i < d->nworkers; i++) {
		worker_finish(&d->workers[i]);
		while (worker_pop_event(&d->workers[i], &ev))
			log_event(d, &ev, clock_now());
	}
	log_stats(d, " (final)");
	for (size_t i = 0; i < d->nworkers; i++)
		worker_destroy(&d->workers[i]);
	free(d->workers);
	/* no worker runs any more: every policy can go, whoever saw what */
	if (d->holds != NULL)
		holds_flush(d->holds, clock_now());
	holds_free(d->holds);
	reload_free(d->reload);
	limiter_free(d->shared.limiter);
	config_free(d->cfg);
	if (d->kstats >= 0)
		close(d->kstats);
	close(d->sigfd);
	close(d->timerfd);
	close(d->ask.fd);
	close(d->cmd.fd);
	allowlist_free(d->allow);
	free(d->allow_file);
}

/*
 * `dnsrl -t -v`'s last part, as comments (the output still parses): what
 * each path judges, rule by rule, and what the kernel keeps from it.
 */
static void print_paths(const struct config *c, FILE *out)
{
	char buf[1024];

	fprintf(out, "\n# the query path: UDP to port 53, queues %u-%u\n",
		c->queue_first, c->queue_last);
	for (size_t i = 0; i < c->nrules; i++) {
		if (c->rules[i].kind != CONFIG_RULE_QUERY)
			continue;
		config_rule_summary(&c->rules[i], buf, sizeof(buf));
		fprintf(out, "#   rule %s\n", buf);
	}
	prefilter_describe(c, buf, sizeof(buf));
	fprintf(out, "#   %s\n", buf);
	if (config_count_rules(c, CONFIG_RULE_ANSWER) == 0) {
		fprintf(out, "# the answer path: off (no answer-rule)\n");
		return;
	}
	fprintf(out,
		"# the answer path: UDP from port 53 of %u octets or more, "
		"queues %u-%u (shorter answers stay in the kernel)\n",
		config_answer_min_size(c), c->answer_queue_first,
		c->answer_queue_last);
	for (size_t i = 0; i < c->nrules; i++) {
		if (c->rules[i].kind != CONFIG_RULE_ANSWER)
			continue;
		config_rule_summary(&c->rules[i], buf, sizeof(buf));
		fprintf(out, "#   answer-rule %s\n", buf);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"test-config", no_argument, NULL, 't'},
		{"verbose", no_argument, NULL, 'v'},
		{"print-rules", no_argument, NULL, 'P'},
		{"make-sets", no_argument, NULL, 'S'},
		{"remove-rules", no_argument, NULL, 'R'},
		{"replay", required_argument, NULL, 'r'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG, *capture = NULL;
	bool foreground = false, test = false, print_rules = false;
	bool remove_rules = false, make_sets = false;
	int verbose = 0, ch;
	char err[CONFIG_ERR_MAX];
	static struct daemon d;

	while ((ch = getopt_long(argc, argv, "c:fr:tvVh", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			test = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'P':
			print_rules = true;
			break;
		case 'S':
			make_sets = true;
			break;
		case 'R':
			remove_rules = true;
			break;
		case 'r':
			capture = optarg;
			break;
		case 'V':
			printf("dnsrl %s\n", DNSRL_VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (remove_rules) {
		/* whatever the configuration: it may be gone or broken */
		if (rules_remove(err, sizeof(err)) < 0) {
			fprintf(stderr, "dnsrl: removing the rules: %s\n", err);
			return 1;
		}
		return 0;
	}

	/* a replay reads the file alone: it may run on another machine, with
	 * neither the daemon's user nor its directories */
	d.cfg = capture != NULL
			? config_load(path, err, sizeof(err))
			: reload_load_config(path, false, err, sizeof(err));
	if (d.cfg == NULL) {
		fprintf(stderr, "dnsrl: %s\n", err);
		return 1;
	}
	if (test) {
		if (verbose) {
			config_print(d.cfg, stdout);
			print_paths(d.cfg, stdout);
		} else
			printf("dnsrl: %s: configuration OK\n", path);
		config_free(d.cfg);
		return 0;
	}
	if (print_rules) {
		rules_print(d.cfg, stdout);
		config_free(d.cfg);
		return 0;
	}
	if (make_sets) {
		int rc = rules_make_sets(d.cfg, err, sizeof(err));

		if (rc < 0)
			fprintf(stderr, "dnsrl: %s\n", err);
		config_free(d.cfg);
		return rc < 0;
	}
	if (capture != NULL) {
		/* the report of what was read is out even after an error */
		int rc = replay_run(d.cfg, capture, stdout, err, sizeof(err));

		if (rc < 0)
			fprintf(stderr, "dnsrl: %s\n", err);
		config_free(d.cfg);
		return rc < 0;
	}

	log_init("dnsrl", d.cfg->syslog_facility, foreground);
	log_setverbose(verbose);
	start(&d);
	run(&d);
	stop(&d);
	return d.exit_code;
}
