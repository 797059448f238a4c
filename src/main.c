/*
 * main.c -- dnsward: command line, start-up, signals, shutdown.
 *
 * The main thread only handles signals (as libevent events, so no work is
 * done in a signal handler); each worker thread runs its own event loop.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <ldns/ldns.h>
#include <libpsl.h>
#include <maxminddb.h>
#include <unbound.h>
#include <yaml.h>

#include "acl.h"
#include "cache.h"
#include "config.h"
#include "addr.h"
#include "control.h"
#include "dlog.h"
#include "geo.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "policy.h"
#include "recurse.h"
#include "respond.h"
#include "stats.h"
#include "wire.h"
#include "server.h"
#include "zone.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"0.1.0"
#endif

#define DEFAULT_CONFIG	"/etc/dnsward/dnsward.yaml"
/* Decision log ring per worker. */
#define DLOG_RING_BYTES	(8u << 20)
#define MAX_THREADS	256
#define EXPLAIN_MAX_ADDRS	16

/* What the main thread remembers of a feed across generations. */
struct feed_note {
	char			*id;
	uint64_t		 refused;	/* versions refused */
	uint64_t		 next_check_ms;	/* refresh: monotonic */
	int			 has_refused;	/* refused_file is set */
	struct feed_file	 refused_file;	/* the last version refused */
};

/*
 * The daemon's upstream slots (see stats.h); main thread only.  Slot 0 is
 * recursion; an address keeps its slot for the daemon's life unless the
 * table fills: then a slot the new configuration does not use (preferably
 * one the configuration in force does not use either) passes to the new
 * address, and the counts it had are subtracted from then on.  Queries of
 * the old generation still in flight may count a few more there, and its
 * worker health (held down for up to 5 s) carries over.
 */
struct upslot {
	struct addr		 addr;
	char			 name[ADDR_STRLEN];
	unsigned		 mark;		/* last assignment using it */
	unsigned		 live;		/* ... while in force then */
	int			 moved;		/* passed to another address in
						   the assignment under way */
	struct stats_upstream_sum base;	/* counts of an earlier address */
};

struct upslots {
	struct upslot		 s[STATS_MAX_UPSTREAMS];
	size_t			 n;		/* in use: [0, n) */
	unsigned		 mark;
};

struct main_ctx {
	const char		*path;		/* the configuration file */
	struct daemon		*d;
	struct event_base	*base;
	struct worker		*workers[MAX_THREADS];
	unsigned		 nworkers;
	struct dlog		*dlog;
	int			 stopping;

	struct timespec		 start;		/* CLOCK_REALTIME */
	uint64_t		 reloads_ok, reloads_failed, refreshes;
	struct timespec		 last_reload;	/* 0: none yet */
	struct feed_note	*notes;
	size_t			 nnotes;
	struct event		*ev_refresh;	/* feed refresh: every second */
	struct event		*ev_reap;	/* generations to free */
	struct control		*ctl;
	struct metrics		*metrics;
	struct evbuffer		*out;		/* a control reply being
						   written, or NULL */
	struct upslots		 slots;
};

typedef void	(*addr_fn)(void *, struct config_addr *);

/* Call fn for every zone and fallback server of cfg, in file order. */
static void
config_each_zone_addr(struct config *cfg, addr_fn fn, void *arg)
{
	size_t	 i, j;

	for (i = 0; i < cfg->nzones; i++) {
		for (j = 0; j < cfg->zones[i].nforward; j++)
			fn(arg, &cfg->zones[i].forward[j]);
		for (j = 0; j < cfg->zones[i].nfallback; j++)
			fn(arg, &cfg->zones[i].fallback[j]);
	}
}

/* Call fn for every address cfg forwards to: upstreams, then zones'. */
static void
config_each_addr(struct config *cfg, addr_fn fn, void *arg)
{
	size_t	 i;

	for (i = 0; i < cfg->nupstreams; i++)
		fn(arg, &cfg->upstreams[i]);
	config_each_zone_addr(cfg, fn, arg);
}

struct slot_job {
	struct upslots		*t;
	struct main_ctx		*m;		/* NULL: no workers (-t) */
	int			 live;		/* marking the generation in
						   force */
	int			 full;
};

/* The slot of ca's address, or -1. */
static int
slot_find(const struct upslots *t, const struct config_addr *ca)
{
	size_t	 i;

	for (i = 1; i < t->n; i++)
		if (addr_equal((const struct sockaddr *)&t->s[i].addr.ss,
		    (const struct sockaddr *)&ca->addr.ss))
			return (int)i;
	return -1;
}

/* The counts of slot k summed over the workers. */
static void
slot_sum(struct main_ctx *m, size_t k, struct stats_upstream_sum *out)
{
	struct stats_sum	*sum;
	unsigned		 w;

	memset(out, 0, sizeof(*out));
	if (m == NULL || (sum = calloc(1, sizeof(*sum))) == NULL)
		return;
	for (w = 0; w < m->nworkers; w++)
		stats_sum_add(sum, &m->workers[w]->stats);
	*out = sum->up[k];
	free(sum);
}

/*
 * A slot for an address the table does not hold: a free one, else one no
 * configuration uses -- preferably not even the one in force, whose
 * queries in flight still count in its slots.  0 when there is none.
 */
static size_t
slot_free(struct upslots *t)
{
	size_t	 i;

	if (t->n < STATS_MAX_UPSTREAMS)
		return t->n++;
	for (i = 1; i < t->n; i++)
		if (t->s[i].mark != t->mark && t->s[i].live != t->mark)
			return i;
	for (i = 1; i < t->n; i++)
		if (t->s[i].mark != t->mark)
			return i;
	return 0;
}

/* Mark the slots a configuration uses (nothing in it is written). */
static void
slot_mark(void *arg, struct config_addr *ca)
{
	struct slot_job	*j = arg;
	int		 i;

	if ((i = slot_find(j->t, ca)) == -1)
		return;
	if (j->live)
		j->t->s[i].live = j->t->mark;
	else
		j->t->s[i].mark = j->t->mark;
}

static void
slot_assign(void *arg, struct config_addr *ca)
{
	struct slot_job	*j = arg;
	struct upslots	*t = j->t;
	size_t		 i;

	if ((ca->slot = slot_find(t, ca)) != -1)
		return;
	if ((i = slot_free(t)) == 0) {
		j->full = 1;
		ca->slot = 0;
		return;
	}
	slot_sum(j->m, i, &t->s[i].base);
	t->s[i].moved = 1;
	t->s[i].addr = ca->addr;
	snprintf(t->s[i].name, sizeof(t->s[i].name), "%s", ca->text);
	t->s[i].mark = t->mark;
	ca->slot = (int)i;
}

/*
 * Give every address of cfg (not yet in use) its slot in *table (m: the
 * running daemon, whose workers' counts a reused slot starts from, and
 * whose workers are told of slots passed to another address; NULL for
 * -t).  The work is done on a copy, put in place only when it succeeds:
 * -1 with a message in err when cfg names more distinct addresses than
 * there are slots (or memory is short), the table unchanged.
 */
static int
slots_assign(struct upslots *table, struct main_ctx *m, struct config *cfg,
    char *err, size_t errsz)
{
	struct upslots	*t;
	struct slot_job	 j = { NULL, m, 1, 0 };
	struct gen	*cur;
	size_t		 i;

	if ((t = malloc(sizeof(*t))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	*t = *table;
	j.t = t;
	for (i = 0; i < STATS_MAX_UPSTREAMS; i++)
		t->s[i].moved = 0;
	if (t->n == 0) {
		snprintf(t->s[0].name, sizeof(t->s[0].name), "recursion");
		t->n = 1;
	}
	t->mark++;
	if (m != NULL) {
		cur = daemon_get_gen(m->d);
		config_each_addr(cur->cfg, slot_mark, &j);
		gen_unref(cur);
	}
	j.live = 0;
	config_each_addr(cfg, slot_mark, &j);
	config_each_addr(cfg, slot_assign, &j);
	if (j.full) {
		snprintf(err, errsz, "%s: more than %d distinct upstream, zone "
		    "and fallback server addresses", cfg->path,
		    STATS_MAX_UPSTREAMS - 1);
		free(t);
		return -1;
	}
	for (i = 0; i < STATS_MAX_UPSTREAMS; i++) {
		if (!t->s[i].moved || table->s[i].name[0] == '\0')
			continue;
		log_info("upstream %s takes the slot of %s, which the new "
		    "configuration does not use", t->s[i].name,
		    table->s[i].name);
		if (m != NULL)
			atomic_fetch_add_explicit(&m->d->slot_epoch[i], 1,
			    memory_order_release);
	}
	*table = *t;
	free(t);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: dnsward [-htV] [-c file]\n"
	    "       dnsward [-c file] --explain name [type] [--client ip]"
	    " [--answer ip ...]\n"
	    "  -c file    configuration (default " DEFAULT_CONFIG ")\n"
	    "  -t         check the configuration and feeds, and exit "
	    "(0 valid, 1 not)\n"
	    "  -V         print the version and library versions\n"
	    "  -h         this help\n"
	    "  --explain  show how the policy decides a name (type: A by "
	    "default;\n"
	    "             client: 127.0.0.1 by default), without serving;\n"
	    "             --answer (repeatable) gives the answer's addresses "
	    "for\n"
	    "             the answer-ip/-country/-asn rules\n");
}

static void
version(void)
{
	printf("dnsward %s\n", PACKAGE_VERSION);
	printf("libevent %s\n", event_get_version());
	printf("ldns %s\n", ldns_version());
	printf("libunbound %s\n", ub_version());
	printf("libmaxminddb %s\n", MMDB_lib_version());
	printf("libpsl %s\n", psl_get_version());
	printf("libyaml %s\n", yaml_get_version_string());
}

static void
report(void *arg, const char *msg)
{
	int	*n = arg;

	fprintf(stderr, "%s\n", msg);
	(*n)++;
}

/* A bad feed line: reported, never fatal. */
static void
feed_report(void *arg, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static void
feed_loaded(void *arg, const struct config_feed *fc,
    const struct feed_stats *st)
{
	FILE	*out = arg;

	fprintf(out, "feed %s: %zu entries, %zu bad lines, %zu duplicates "
	    "(%s, %s), %.3f s, %zu KiB\n", fc->id, st->entries, st->errors,
	    st->duplicates, feed_format_name(st->format), fc->path,
	    st->load_seconds, st->memory / 1024);
}

/* Load the policy and its feeds, or say why not. */
static struct policy *
load_policy(const struct config *cfg, int track_lines, FILE *out)
{
	struct policy	*p;
	char		 err[512];

	p = policy_new(cfg, track_lines, feed_report, feed_loaded, out, err,
	    sizeof(err));
	if (p == NULL)
		fprintf(stderr, "%s\n", err);
	return p;
}

static unsigned
nthreads(const struct config *cfg)
{
	long	 n;

	if (cfg->threads > 0)
		return cfg->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx	*m = arg;
	unsigned	 i;

	if (m->stopping)
		return;
	m->stopping = 1;
	notify("STOPPING=1\nSTATUS=draining and stopping");
	log_info("signal %d: draining and stopping", (int)sig);
	for (i = 0; i < m->nworkers; i++)
		worker_stop(m->workers[i]);
	event_base_loopexit(m->base, NULL);
}

static void
on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx	*m = arg;

	if (m->dlog != NULL)
		dlog_reopen(m->dlog);
}

/*
 * A message of a reload or refresh: to the daemon's log, and to the
 * control client that asked for it, if any.
 */
static void
say(struct main_ctx *m, int warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct main_ctx *m, int warn, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (warn)
		log_warnx("%s", msg);
	else
		log_info("%s", msg);
	if (m->out != NULL)
		evbuffer_add_printf(m->out, "%s\n", msg);
}

/* Bad feed lines, configuration errors, refusals during a reload. */
static void
reload_report(void *arg, const char *msg)
{
	say(arg, 1, "%s", msg);
}

static void
reload_feed_loaded(void *arg, const struct config_feed *fc,
    const struct feed_stats *st)
{
	say(arg, 0, "feed %s: %zu entries, %zu bad lines (%s, %s), %.3f s",
	    fc->id, st->entries, st->errors, feed_format_name(st->format),
	    fc->path, st->load_seconds);
}

static struct feed_note *
feed_note(struct main_ctx *m, const char *id)
{
	struct feed_note	*n;
	size_t			 i;

	for (i = 0; i < m->nnotes; i++)
		if (strcmp(m->notes[i].id, id) == 0)
			return &m->notes[i];
	if ((n = reallocarray(m->notes, m->nnotes + 1, sizeof(*n))) == NULL)
		return NULL;
	m->notes = n;
	n = &m->notes[m->nnotes];
	memset(n, 0, sizeof(*n));
	if ((n->id = strdup(id)) == NULL)
		return NULL;
	m->nnotes++;
	return n;
}

static void
reload_refused(void *arg, const struct config_feed *fc)
{
	struct feed_note	*n;

	if ((n = feed_note(arg, fc->id)) == NULL)
		return;
	n->refused++;
	/* A refresh does not try this version again (nor say so again);
	 * a missing file counts as one version. */
	n->has_refused = 1;
	if (feed_file_stat(fc->path, &n->refused_file) == -1)
		memset(&n->refused_file, 0, sizeof(n->refused_file));
}

/* A build after prev, reporting through the daemon's log (and m->out). */
static void
build_init(struct policy_build *b, struct main_ctx *m,
    const struct policy *prev)
{
	memset(b, 0, sizeof(*b));
	b->report = reload_report;
	b->feed_cb = reload_feed_loaded;
	b->refused = reload_refused;
	b->arg = m;
	b->prev = prev;
}

/* Say so when a setting differs; the running value is kept. */
static int
reload_differs(struct main_ctx *m, int differs, const char *name)
{
	if (differs)
		say(m, 1, "reload: %s changed; it takes a restart to apply, "
		    "the running value stays", name);
	return differs;
}

static int
upstreams_differ(const struct config *a, const struct config *b)
{
	size_t	 i;

	if (a->nupstreams != b->nupstreams)
		return 1;
	for (i = 0; i < a->nupstreams; i++)
		if (strcmp(a->upstreams[i].text, b->upstreams[i].text) != 0)
			return 1;
	return 0;
}

static int
addrs_differ(const struct config_addr *a, size_t na,
    const struct config_addr *b, size_t nb)
{
	size_t	 i;

	if (na != nb)
		return 1;
	for (i = 0; i < na; i++)
		if (strcmp(a[i].text, b[i].text) != 0)
			return 1;
	return 0;
}

/* Do the two configurations route any name differently? */
static int
zones_differ(const struct config *a, const struct config *b)
{
	const struct config_zone *x, *y;
	size_t		 i, j;

	if (a->nzones != b->nzones)
		return 1;
	for (i = 0; i < a->nzones; i++) {
		x = &a->zones[i];
		y = &b->zones[i];
		if (strcmp(x->name, y->name) != 0 || x->kind != y->kind ||
		    x->on_nxdomain != y->on_nxdomain ||
		    x->on_nodata != y->on_nodata || x->nlocal != y->nlocal ||
		    addrs_differ(x->forward, x->nforward, y->forward,
		    y->nforward) ||
		    addrs_differ(x->fallback, x->nfallback, y->fallback,
		    y->nfallback))
			return 1;
		for (j = 0; j < x->nlocal; j++)
			if (strcmp(x->local[j], y->local[j]) != 0)
				return 1;
	}
	return 0;
}

static int
listen_differs(const struct config *a, const struct config *b)
{
	size_t	 i;

	if (a->nlisten != b->nlisten)
		return 1;
	for (i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return 1;
	return 0;
}

static int
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static int
tas_differ(const struct config *a, const struct config *b)
{
	size_t	 i;

	if (a->ntrust_anchors != b->ntrust_anchors)
		return 1;
	for (i = 0; i < a->ntrust_anchors; i++)
		if (strcmp(a->trust_anchors[i].text,
		    b->trust_anchors[i].text) != 0)
			return 1;
	return 0;
}

/* *to = a copy of from (NULL stays NULL); -1 when out of memory. */
static int
str_keep(char **to, const char *from)
{
	char	*c = NULL;

	if (from != NULL && (c = strdup(from)) == NULL)
		return -1;
	free(*to);
	*to = c;
	return 0;
}

/*
 * Settings bound to sockets, threads, the cache, the log sinks or the
 * process's identity cannot change under a running daemon: report each
 * that differs in the new configuration and carry the running value over,
 * so that nc describes what really runs.  Everything else (clients, feeds,
 * policy, EDNS size, timeouts, TCP limits, geo) takes effect.  -1 when out
 * of memory.
 */
static int
reload_keep(struct main_ctx *m, const struct config *old, struct config *nc)
{
	if (reload_differs(m, listen_differs(old, nc), "server.listen")) {
		memcpy(nc->listen, old->listen, sizeof(nc->listen));
		nc->nlisten = old->nlisten;
	}
	if (reload_differs(m, old->threads != nc->threads, "server.threads"))
		nc->threads = old->threads;
	if (reload_differs(m, str_differs(old->user, nc->user),
	    "server.user")) {
		if (str_keep(&nc->user, old->user) == -1)
			return -1;
		nc->user_set = old->user_set;
	}
	if (reload_differs(m, old->mode != nc->mode, "resolver.mode"))
		nc->mode = old->mode;
	/* Only a running recursor holds them; in forward mode they apply. */
	if (old->mode == RESOLVER_RECURSE && reload_differs(m,
	    old->dnssec != nc->dnssec ||
	    old->qname_min != nc->qname_min ||
	    old->query_loopback != nc->query_loopback ||
	    str_differs(old->root_hints, nc->root_hints) ||
	    tas_differ(old, nc), "resolver recursion settings")) {
		size_t	 i;

		nc->dnssec = old->dnssec;
		nc->qname_min = old->qname_min;
		nc->query_loopback = old->query_loopback;
		if (str_keep(&nc->root_hints, old->root_hints) == -1)
			return -1;
		for (i = 0; i < nc->ntrust_anchors; i++)
			free(nc->trust_anchors[i].text);
		nc->ntrust_anchors = 0;
		for (i = 0; i < old->ntrust_anchors; i++) {
			nc->trust_anchors[i] = old->trust_anchors[i];
			if ((nc->trust_anchors[i].text =
			    strdup(old->trust_anchors[i].text)) == NULL)
				return -1;
			nc->ntrust_anchors++;
		}
	}
	if (reload_differs(m, upstreams_differ(old, nc),
	    "resolver.upstreams")) {
		memcpy(nc->upstreams, old->upstreams, sizeof(nc->upstreams));
		nc->nupstreams = old->nupstreams;
	}
	if (reload_differs(m, old->cache_size != nc->cache_size ||
	    old->cache_min_ttl != nc->cache_min_ttl ||
	    old->cache_max_ttl != nc->cache_max_ttl ||
	    old->cache_negative_max_ttl != nc->cache_negative_max_ttl ||
	    old->cache_serve_stale != nc->cache_serve_stale, "cache")) {
		nc->cache_size = old->cache_size;
		nc->cache_min_ttl = old->cache_min_ttl;
		nc->cache_max_ttl = old->cache_max_ttl;
		nc->cache_negative_max_ttl = old->cache_negative_max_ttl;
		nc->cache_serve_stale = old->cache_serve_stale;
	}
	if (reload_differs(m, str_differs(old->log_file, nc->log_file) ||
	    old->log_stdout != nc->log_stdout ||
	    old->log_syslog != nc->log_syslog, "log.decisions")) {
		if (str_keep(&nc->log_file, old->log_file) == -1)
			return -1;
		nc->log_stdout = old->log_stdout;
		nc->log_syslog = old->log_syslog;
	}
	if (reload_differs(m, str_differs(old->control_socket,
	    nc->control_socket), "control.socket") &&
	    str_keep(&nc->control_socket, old->control_socket) == -1)
		return -1;
	if (reload_differs(m, old->has_metrics != nc->has_metrics ||
	    (old->has_metrics && strcmp(old->metrics_listen.text,
	    nc->metrics_listen.text) != 0), "metrics.listen")) {
		nc->has_metrics = old->has_metrics;
		nc->metrics_listen = old->metrics_listen;
	}
	return 0;
}

static void
wake_workers(struct main_ctx *m)
{
	unsigned	 i;

	for (i = 0; i < m->nworkers; i++)
		worker_wake(m->workers[i]);
}

static void
notify_ready(struct main_ctx *m, unsigned generation)
{
	notify("READY=1\nSTATUS=serving, policy generation %u", generation);
}

/*
 * Reload work -- building a policy (loading a large feed takes a CPU for
 * half a second) and freeing the one it replaced -- runs on a thread of
 * its own at low priority (SCHED_BATCH, nice 10) while the main thread
 * waits: on a machine whose cores the workers keep busy, that time should
 * come out of the workers' idle time, not delay their queries.  Not
 * SCHED_IDLE: under a full load a reload must still end in seconds.
 * Where the priority cannot be lowered (a seccomp filter that denies
 * @resources), the work runs at normal priority.
 */
#define LOW_NICE	10

struct low_job {
	void		(*fn)(void *);
	void		*arg;
	int		 lowered;	/* the priority was lowered */
};

static void *
low_run(void *arg)
{
	struct low_job		*j = arg;
	struct sched_param	 sp;

	memset(&sp, 0, sizeof(sp));
	j->lowered = sched_setscheduler(0, SCHED_BATCH, &sp) == 0 &&
	    setpriority(PRIO_PROCESS, (id_t)gettid(), LOW_NICE) == 0;
	j->fn(j->arg);
	return NULL;
}

/* Run fn(arg) on a thread of low priority and wait for it. */
static void
run_low(void (*fn)(void *), void *arg)
{
	static int	 warned;
	struct low_job	 j;
	pthread_t	 t;
	int		 rc;

	j.fn = fn;
	j.arg = arg;
	j.lowered = 0;
	if ((rc = pthread_create(&t, NULL, low_run, &j)) != 0) {
		if (!warned++)
			log_warnx("no thread for background work (%s); doing "
			    "it at normal priority", strerror(rc));
		fn(arg);
		return;
	}
	pthread_join(t, NULL);
	if (!j.lowered && !warned++)
		log_info("reloads run at normal priority (lowering a "
		    "thread's priority is not allowed here)");
}

struct build_job {
	const struct config		*cfg;
	const struct policy_build	*b;
	struct policy			*p;
	char				 err[1024];
};

static void
build_run(void *arg)
{
	struct build_job	*j = arg;

	j->p = policy_build(j->cfg, j->b, j->err, sizeof(j->err));
}

static struct policy *
build_low(const struct config *cfg, const struct policy_build *b, char *err,
    size_t errsz)
{
	struct build_job	 j;

	memset(&j, 0, sizeof(j));
	j.cfg = cfg;
	j.b = b;
	run_low(build_run, &j);
	if (j.p == NULL)
		snprintf(err, errsz, "%s", j.err);
	return j.p;
}

/*
 * Reload (SIGHUP, dnsward-ctl reload): read the configuration and every
 * feed again, build the new policy here on the main thread (the workers
 * go on serving with the old one), then make it current.  Queries in
 * flight finish on the generation they started with; the old one is freed
 * when the last of them lets go.  Anything wrong: the errors are reported
 * with their place and the running generation stays.  A feed that shrank
 * beyond its max-shrink keeps its previous version (unless force).
 * 0 when a new generation is in force, -1 otherwise.
 */
static int
reload(struct main_ctx *m, int force)
{
	struct policy_build	 b;
	struct gen		*cur, *g;
	struct config		*nc;
	struct zones		*zones = NULL;
	struct policy		*p;
	char			 err[1024];
	int			 nerr = 0, flush;

	cur = daemon_get_gen(m->d);
	notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
	    notify_monotonic_usec(), m->path);
	say(m, 0, "reloading %s%s", m->path, force ? " (--force: no shrink "
	    "guard)" : "");
	if ((nc = calloc(1, sizeof(*nc))) == NULL) {
		say(m, 1, "reload failed: out of memory; generation %u stays "
		    "in force", cur->number);
		goto fail;
	}
	if ((nerr = config_load(nc, m->path, NULL, reload_report, m)) != 0) {
		say(m, 1, "reload failed: %s: %d error%s; generation %u stays "
		    "in force", m->path, nerr, nerr == 1 ? "" : "s",
		    cur->number);
		goto fail;
	}
	if (reload_keep(m, cur->cfg, nc) == -1) {
		say(m, 1, "reload failed: out of memory; generation %u stays "
		    "in force", cur->number);
		goto fail;
	}
	if (nc->nzones > 0 &&
	    (zones = zones_build(nc, err, sizeof(err))) == NULL) {
		say(m, 1, "%s", err);
		say(m, 1, "reload failed: generation %u stays in force",
		    cur->number);
		goto fail;
	}
	build_init(&b, m, cur->policy);
	b.force = force;
	if ((p = build_low(nc, &b, err, sizeof(err))) == NULL) {
		say(m, 1, "%s", err);
		say(m, 1, "reload failed: a feed or geo database could not be "
		    "loaded; generation %u stays in force", cur->number);
		goto fail;
	}
	/* Last: a slot may pass to a new address (see struct upslot). */
	if (slots_assign(&m->slots, m, nc, err, sizeof(err)) == -1) {
		policy_free(p);
		say(m, 1, "%s", err);
		say(m, 1, "reload failed: generation %u stays in force",
		    cur->number);
		goto fail;
	}
	if ((g = gen_new(nc, zones, p, cur->number + 1)) == NULL) {
		policy_free(p);
		say(m, 1, "reload failed: out of memory; generation %u stays "
		    "in force", cur->number);
		goto fail;
	}
	flush = zones_differ(cur->cfg, nc);
	if (!flush)
		g->zones_epoch = cur->zones_epoch;
	daemon_set_gen(m->d, g);
	wake_workers(m);
	/*
	 * Answers in the cache were routed by the old zones (and composed
	 * from them): with other zones, none of them can be trusted.
	 */
	if (m->d->cache != NULL && flush)
		say(m, 0, "reload: zones changed: %zu cached answers flushed",
		    cache_flush(m->d->cache, NULL, 0));
	m->reloads_ok++;
	clock_gettime(CLOCK_REALTIME, &m->last_reload);
	say(m, 0, "reload: generation %u in force (%zu feed%s, %zu group%s)",
	    g->number, nc->nfeeds, nc->nfeeds == 1 ? "" : "s", nc->ngroups,
	    nc->ngroups == 1 ? "" : "s");
	notify_ready(m, g->number);
	gen_unref(cur);
	return 0;
fail:
	zones_free(zones);
	if (nc != NULL) {
		config_release(nc);
		free(nc);
	}
	m->reloads_failed++;
	notify_ready(m, cur->number);
	gen_unref(cur);
	return -1;
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	log_info("SIGHUP");
	(void)reload(arg, 0);
}

static uint64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Every second: feeds with a refresh interval whose time has come are
 * looked at (stat); those whose file changed are read again -- only
 * they -- into a new generation sharing everything else with the current
 * one.  A version refused (shrink guard) or unreadable keeps the running
 * one; nothing new, no new generation.
 */
static void
on_refresh(evutil_socket_t fd, short what, void *arg)
{
	struct main_ctx		*m = arg;
	struct policy_build	 b;
	struct gen		*cur, *g;
	struct policy		*p;
	struct feed_note	*n;
	const struct config_feed *fc;
	struct feed_file	 ff;
	unsigned char		*check;
	char			 err[1024];
	uint64_t		 now = mono_ms();
	size_t			 i, nf, ndue = 0, loaded = 0;

	cur = daemon_get_gen(m->d);
	nf = cur->cfg->nfeeds;
	if (nf == 0 || (check = calloc(nf, 1)) == NULL) {
		gen_unref(cur);
		return;
	}
	for (i = 0; i < nf; i++) {
		fc = &cur->cfg->feeds[i];
		if (fc->refresh_ms == 0 || (n = feed_note(m, fc->id)) == NULL)
			continue;
		if (n->next_check_ms == 0)
			n->next_check_ms = now + fc->refresh_ms;
		if (now < n->next_check_ms)
			continue;
		n->next_check_ms = now + fc->refresh_ms;
		/* A missing file counts as the all-zero identity. */
		if (feed_file_stat(fc->path, &ff) == -1)
			memset(&ff, 0, sizeof(ff));
		if (feed_file_equal(&ff, &feed_get_stats(
		    policy_feed_at(cur->policy, i))->file) ||
		    (n->has_refused && feed_file_equal(&ff, &n->refused_file)))
			continue;
		check[i] = 1;
		ndue++;
	}
	if (ndue == 0)
		goto done;
	build_init(&b, m, cur->policy);
	b.check = check;
	b.loaded = &loaded;
	if ((p = build_low(cur->cfg, &b, err, sizeof(err))) == NULL) {
		log_warnx("feed refresh failed: %s; generation %u stays in "
		    "force", err, cur->number);
		goto done;
	}
	if (loaded == 0) {
		policy_free(p);
		goto done;
	}
	if ((g = gen_new_same_config(cur, p, cur->number + 1)) == NULL) {
		policy_free(p);
		log_warnx("feed refresh failed: out of memory");
		goto done;
	}
	daemon_set_gen(m->d, g);
	wake_workers(m);
	m->refreshes++;
	log_info("feed refresh: generation %u in force (%zu feed%s read "
	    "again)", g->number, loaded, loaded == 1 ? "" : "s");
	notify("STATUS=serving, policy generation %u", g->number);
done:
	free(check);
	gen_unref(cur);
}

static void
reap_run(void *arg)
{
	daemon_reap(arg);
}

/* Free released generations: a large policy's memory, at low priority. */
static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct main_ctx	*m = arg;

	run_low(reap_run, m->d);
}

/* ---- status, stats, metrics -------------------------------------- */

static double
ts_double(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/*
 * Upstream slot k as the workers see it: up when any worker still tries
 * it first, the mean of the workers' smoothed RTTs.
 */
static void
upstream_info(struct main_ctx *m, size_t k, const char *name,
    struct stats_upstream_info *u, uint64_t nowms)
{
	uint64_t	 srtt = 0;
	unsigned	 w, n = 0;

	snprintf(u->name, sizeof(u->name), "%s", name);
	u->up = 0;
	for (w = 0; w < m->nworkers; w++) {
		const struct fwd_upstream *fu = &m->workers[w]->ups[k];
		uint32_t	 v = STATS_GET(fu->srtt_us);

		if (STATS_GET(fu->down_until_ms) <= nowms)
			u->up = 1;
		if (v != 0) {
			srtt += v;
			n++;
		}
	}
	u->srtt_ms = n ? (double)srtt / n / 1000.0 : 0;
}

struct shown {
	struct main_ctx		*m;
	struct stats_snapshot	*s;
	struct stats_upstream_sum *all;	/* by slot */
	unsigned char		 seen[STATS_MAX_UPSTREAMS];
	uint64_t		 nowms;
};

static void
upstream_less(struct stats_upstream_sum *a,
    const struct stats_upstream_sum *b)
{
	size_t	 i;

	a->queries -= b->queries;
	a->answers -= b->answers;
	a->failures -= b->failures;
	a->timeouts -= b->timeouts;
	for (i = 0; i < STATS_RTT_BUCKETS; i++)
		a->rtt[i] -= b->rtt[i];
	a->rtt_sum_us -= b->rtt_sum_us;
}

/* Show slot k (once) as the snapshot's next upstream, named name. */
static void
upstream_show(struct shown *sh, size_t k, const char *name)
{
	struct stats_snapshot	*s = sh->s;
	size_t			 i = s->nupstreams;

	if (k >= STATS_MAX_UPSTREAMS || sh->seen[k] ||
	    i >= STATS_MAX_UPSTREAMS)
		return;
	sh->seen[k] = 1;
	upstream_info(sh->m, k, name, &s->upstreams[i], sh->nowms);
	s->sum.up[i] = sh->all[k];
	upstream_less(&s->sum.up[i], &sh->m->slots.s[k].base);
	s->nupstreams++;
}

static void
upstream_show_addr(void *arg, struct config_addr *ca)
{
	struct shown	*sh = arg;

	upstream_show(sh, (size_t)ca->slot, sh->m->slots.s[ca->slot].name);
}

/*
 * The upstreams of the configuration in force, in its order: recursion
 * (recurse mode), the forward upstreams, then each zone's servers and
 * fallback servers, an address once.  s->sum.up is by slot until here.
 */
static void
snapshot_upstreams(struct main_ctx *m, struct config *cfg,
    struct stats_snapshot *s, uint64_t nowms)
{
	struct shown	 sh;
	size_t		 i;

	memset(&sh, 0, sizeof(sh));
	sh.m = m;
	sh.s = s;
	sh.nowms = nowms;
	if ((sh.all = malloc(sizeof(s->sum.up))) == NULL)
		return;
	memcpy(sh.all, s->sum.up, sizeof(s->sum.up));
	memset(s->sum.up, 0, sizeof(s->sum.up));
	s->nupstreams = 0;
	/* Recursion counts in its own slot, never held down. */
	if (cfg->mode == RESOLVER_RECURSE)
		upstream_show(&sh, STATS_SLOT_RECURSION, "recursion");
	else
		for (i = 0; i < cfg->nupstreams; i++)
			upstream_show_addr(&sh, &cfg->upstreams[i]);
	config_each_zone_addr(cfg, upstream_show_addr, &sh);
	free(sh.all);
}

/* What the daemon looks like now (see stats.h). */
static void
snapshot(struct main_ctx *m, struct stats_snapshot *s)
{
	struct gen		*g;
	struct timespec		 now;
	struct cache_stats	 cs;
	const struct feed_stats	*st;
	struct feed_note	*n;
	uint64_t		 nowms = mono_ms();
	size_t			 i;
	unsigned		 w;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_REALTIME, &now);
	s->version = PACKAGE_VERSION;
	s->now = ts_double(&now);
	s->start_time = ts_double(&m->start);
	s->workers = m->nworkers;
	for (w = 0; w < m->nworkers; w++)
		stats_sum_add(&s->sum, &m->workers[w]->stats);
	if (m->d->cache != NULL) {
		cache_get_stats(m->d->cache, &cs);
		s->has_cache = 1;
		s->cache_hits = cs.hits;
		s->cache_misses = cs.misses;
		s->cache_stale = cs.stale;
		s->cache_evictions = cs.evictions;
		s->cache_entries = cs.entries;
		s->cache_bytes = cs.bytes;
		s->cache_max_bytes = cs.max_bytes;
	}
	s->reloads_ok = m->reloads_ok;
	s->reloads_failed = m->reloads_failed;
	s->last_reload = m->last_reload.tv_sec ? ts_double(&m->last_reload) : 0;
	s->feed_refreshes = m->refreshes;
	if (m->dlog != NULL) {
		s->has_dlog = 1;
		s->dlog_written = dlog_written(m->dlog);
		s->dlog_dropped = dlog_dropped(m->dlog);
	}
	g = daemon_get_gen(m->d);
	s->generation = g->number;
	s->geo_errors = policy_geo_errors(g->policy);
	for (i = 0; i < g->cfg->nfeeds && s->nfeeds < STATS_MAX_FEEDS; i++) {
		const struct config_feed *fc = &g->cfg->feeds[i];
		struct stats_feed *sf = &s->feeds[s->nfeeds++];

		st = feed_get_stats(policy_feed_at(g->policy, i));
		snprintf(sf->id, sizeof(sf->id), "%s", fc->id);
		snprintf(sf->format, sizeof(sf->format), "%s",
		    feed_format_name(st->format));
		snprintf(sf->path, sizeof(sf->path), "%s", fc->path);
		sf->entries = st->entries;
		sf->errors = st->errors;
		if ((n = feed_note(m, fc->id)) != NULL)
			sf->refused = n->refused;
		sf->loaded_at = ts_double(&st->loaded_at);
		sf->load_seconds = st->load_seconds;
		feed_sha256_hex(st, sf->sha256);
		sf->refresh_s = fc->refresh_ms / 1000;
	}
	snapshot_upstreams(m, g->cfg, s, nowms);
	gen_unref(g);
}

/* A snapshot on the heap (it is large); NULL when out of memory. */
static struct stats_snapshot *
snapshot_new(struct main_ctx *m)
{
	struct stats_snapshot	*s;

	if ((s = malloc(sizeof(*s))) != NULL)
		snapshot(m, s);
	return s;
}

static int
render_metrics(void *arg, struct evbuffer *out)
{
	struct stats_snapshot	*s;
	int			 rc;

	if ((s = snapshot_new(arg)) == NULL)
		return -1;
	rc = stats_prometheus(s, out);
	free(s);
	return rc;
}

static void
fmt_time(double t, char *buf, size_t bufsz)
{
	time_t		 sec = (time_t)t;
	struct tm	 tm;

	if (t <= 0 || gmtime_r(&sec, &tm) == NULL)
		snprintf(buf, bufsz, "never");
	else
		strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
fmt_span(double secs, char *buf, size_t bufsz)
{
	unsigned long long t = secs > 0 ? (unsigned long long)secs : 0;

	if (t >= 86400)
		snprintf(buf, bufsz, "%llud%lluh%llum", t / 86400,
		    t % 86400 / 3600, t % 3600 / 60);
	else if (t >= 3600)
		snprintf(buf, bufsz, "%lluh%llum", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		snprintf(buf, bufsz, "%llum%llus", t / 60, t % 60);
	else
		snprintf(buf, bufsz, "%llus", t);
}

static void	zone_summary(const struct config_zone *, FILE *);

static int
ctl_status(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	struct main_ctx		*m = arg;
	struct stats_snapshot	*s;
	struct gen		*g;
	char			 t1[32], t2[32], span[32];
	size_t			 i;

	if (argc != 1) {
		evbuffer_add_printf(out, "usage: status\n");
		return -1;
	}
	if ((s = snapshot_new(m)) == NULL) {
		evbuffer_add_printf(out, "out of memory\n");
		return -1;
	}
	g = daemon_get_gen(m->d);
	fmt_span(s->now - s->start_time, span, sizeof(span));
	fmt_time(s->start_time, t1, sizeof(t1));
	evbuffer_add_printf(out, "dnsward %s, up %s (since %s), pid %ld\n",
	    s->version, span, t1, (long)getpid());
	fmt_time(ts_double(&g->made), t2, sizeof(t2));
	evbuffer_add_printf(out, "generation %u (in force since %s), reloads "
	    "%llu ok, %llu failed, %llu feed refreshes\n", s->generation, t2,
	    (unsigned long long)s->reloads_ok,
	    (unsigned long long)s->reloads_failed,
	    (unsigned long long)s->feed_refreshes);
	for (i = 0; i < g->cfg->nzones; i++) {
		char	*text = NULL;
		size_t	 len = 0;
		FILE	*f;

		if ((f = open_memstream(&text, &len)) == NULL)
			break;
		zone_summary(&g->cfg->zones[i], f);
		if (fclose(f) == 0)
			evbuffer_add_printf(out, "zone %s: %s\n",
			    g->cfg->zones[i].name, text);
		free(text);
	}
	gen_unref(g);
	for (i = 0; i < s->nfeeds; i++) {
		const struct stats_feed *f = &s->feeds[i];

		fmt_time(f->loaded_at, t1, sizeof(t1));
		evbuffer_add_printf(out, "feed %s: %llu entries, %llu errors, "
		    "%s, %s, sha256 %s, loaded %s (%.3f s)", f->id,
		    (unsigned long long)f->entries,
		    (unsigned long long)f->errors, f->format, f->path,
		    f->sha256, t1, f->load_seconds);
		if (f->refresh_s > 0)
			evbuffer_add_printf(out, ", refresh %us", f->refresh_s);
		if (f->refused > 0)
			evbuffer_add_printf(out, ", %llu version%s refused",
			    (unsigned long long)f->refused,
			    f->refused == 1 ? "" : "s");
		evbuffer_add_printf(out, "\n");
	}
	for (i = 0; i < s->nupstreams; i++) {
		const struct stats_upstream_info *u = &s->upstreams[i];
		const struct stats_upstream_sum *c = &s->sum.up[i];

		evbuffer_add_printf(out, "upstream %s: %s, srtt ", u->name,
		    u->up ? "up" : "down");
		if (u->srtt_ms > 0)
			evbuffer_add_printf(out, "%.1f ms", u->srtt_ms);
		else
			evbuffer_add_printf(out, "-");
		evbuffer_add_printf(out, ", %llu queries, %llu answers, %llu "
		    "timeouts, %llu failures\n",
		    (unsigned long long)c->queries,
		    (unsigned long long)c->answers,
		    (unsigned long long)c->timeouts,
		    (unsigned long long)c->failures);
	}
	if (s->has_cache)
		evbuffer_add_printf(out, "cache: %llu entries, %llu of %llu "
		    "bytes, %llu hits, %llu misses, %llu stale, %llu evicted\n",
		    (unsigned long long)s->cache_entries,
		    (unsigned long long)s->cache_bytes,
		    (unsigned long long)s->cache_max_bytes,
		    (unsigned long long)s->cache_hits,
		    (unsigned long long)s->cache_misses,
		    (unsigned long long)s->cache_stale,
		    (unsigned long long)s->cache_evictions);
	else
		evbuffer_add_printf(out, "cache: off\n");
	if (s->has_dlog)
		evbuffer_add_printf(out, "decision log: %llu written, %llu "
		    "dropped\n", (unsigned long long)s->dlog_written,
		    (unsigned long long)s->dlog_dropped);
	free(s);
	return 0;
}

static int
ctl_stats(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	struct stats_snapshot	*s;
	int			 rc;

	if (argc != 1) {
		evbuffer_add_printf(out, "usage: stats\n");
		return -1;
	}
	if ((s = snapshot_new(arg)) == NULL) {
		evbuffer_add_printf(out, "out of memory\n");
		return -1;
	}
	rc = stats_json(s, out);
	free(s);
	if (rc == 0)
		evbuffer_add_printf(out, "\n");
	return rc;
}

static int
ctl_reload(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	struct main_ctx	*m = arg;
	int		 force = 0, rc;

	if (argc == 2 && strcmp(argv[1], "--force") == 0)
		force = 1;
	else if (argc != 1) {
		evbuffer_add_printf(out, "usage: reload [--force]\n");
		return -1;
	}
	m->out = out;
	rc = reload(m, force);
	m->out = NULL;
	return rc;
}

/* ---- explain ------------------------------------------------------ */

static const char *
response_name(enum block_response r)
{
	switch (r) {
	case RESP_NXDOMAIN:
		return "nxdomain";
	case RESP_NODATA:
		return "nodata";
	case RESP_OVERRIDE:
		return "override";
	case RESP_REFUSED:
		return "refused";
	case RESP_DROP:
		return "drop";
	default:
		return "auto";
	}
}

/* Parse "NAME" into a lower-case wire name; -1 if it is no name. */
static int
explain_name(const char *text, uint8_t *wire, size_t *len)
{
	ldns_rdf	*rdf = NULL;

	if (ldns_str2rdf_dname(&rdf, text) != LDNS_STATUS_OK ||
	    ldns_rdf_size(rdf) > DNS_MAX_NAME) {
		ldns_rdf_deep_free(rdf);
		return -1;
	}
	*len = ldns_rdf_size(rdf);
	memcpy(wire, ldns_rdf_data(rdf), *len);
	wire_name_lower(wire, *len);
	ldns_rdf_deep_free(rdf);
	return 0;
}

static void
explain_verdict(const struct policy_result *res, FILE *out)
{
	char	 ede[256];

	if (res->verdict == POLICY_BLOCK) {
		respond_ede_text(res, ede, sizeof(ede));
		fprintf(out, "verdict: BLOCK, answer %s: %s\n",
		    response_name(res->response), ede);
	} else if (res->action == DLOG_ACTION_ALERT)
		fprintf(out, "verdict: ALLOW with ALERT by rule '%s' in group "
		    "'%s'\n", res->rule, res->group);
	else if (res->rule != NULL)
		fprintf(out, "verdict: ALLOW by rule '%s' in group '%s'\n",
		    res->rule, res->group);
	else
		fprintf(out, "verdict: ALLOW (default)\n");
}

/* What to explain: from the command line or from dnsward-ctl. */
struct explain_req {
	const char		*name;
	const char		*type;
	const char		*client;
	struct policy_addr	 addrs[EXPLAIN_MAX_ADDRS];
	size_t			 naddrs;
};

/* Add an --answer address; -1 with a message on errf. */
static int
explain_add_answer(struct explain_req *r, const char *text, FILE *errf)
{
	struct policy_addr	*pa;

	if (r->naddrs == EXPLAIN_MAX_ADDRS) {
		fprintf(errf, "--answer: at most %d addresses\n",
		    EXPLAIN_MAX_ADDRS);
		return -1;
	}
	pa = &r->addrs[r->naddrs];
	memset(pa, 0, sizeof(*pa));
	if (inet_pton(AF_INET, text, pa->a) == 1)
		pa->af = AF_INET;
	else if (inet_pton(AF_INET6, text, pa->a) == 1)
		pa->af = AF_INET6;
	else {
		fprintf(errf, "--answer: bad address '%s'\n", text);
		return -1;
	}
	r->naddrs++;
	return 0;
}

static void
explain_addrs(const struct config_addr *a, size_t n, FILE *out)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", a[i].text);
}

/*
 * What a zone does, in a line: "local (3 records)", or "forward to A, B;
 * NXDOMAIN: fallback to the default backend".
 */
static void
zone_summary(const struct config_zone *zc, FILE *out)
{
	if (zc->kind == ZONE_LOCAL) {
		fprintf(out, "local (%zu record%s)", zc->nlocal,
		    zc->nlocal == 1 ? "" : "s");
		return;
	}
	fprintf(out, "forward to ");
	explain_addrs(zc->forward, zc->nforward, out);
	if (zc->on_nxdomain || zc->on_nodata) {
		fprintf(out, "; %s%s%s: fallback to ",
		    zc->on_nxdomain ? "NXDOMAIN" : "",
		    zc->on_nxdomain && zc->on_nodata ? " and " : "",
		    zc->on_nodata ? "NODATA" : "");
		if (zc->nfallback > 0)
			explain_addrs(zc->fallback, zc->nfallback, out);
		else
			fprintf(out, "the default backend");
	}
}

/* Where a name that is not blocked is resolved (zones, then default). */
static void
explain_route(const struct config *cfg, const struct zones *zs,
    const uint8_t *name, size_t len, FILE *out)
{
	const struct zone		*z;
	const struct config_zone	*zc;
	uint8_t				 lname[DNS_MAX_NAME];

	memcpy(lname, name, len);
	wire_name_lower(lname, len);
	z = zs != NULL ? zones_find(zs, lname, len) : NULL;
	if (z == NULL) {
		fprintf(out, "resolved by the default backend: ");
		if (cfg->mode == RESOLVER_RECURSE)
			fprintf(out, "recursion\n");
		else {
			fprintf(out, "forward to ");
			explain_addrs(cfg->upstreams, cfg->nupstreams, out);
			fprintf(out, "\n");
		}
		return;
	}
	zc = zone_config(z);
	fprintf(out, "%s by zone '%s': ", zc->kind == ZONE_LOCAL ?
	    "answered" : "resolved", zc->name);
	zone_summary(zc, out);
	fprintf(out, "\n");
}

/*
 * Explain r against policy p (the running one, or one loaded for
 * --explain) and the zones zs of cfg.  0, or 1 with a message on errf.
 */
static int
explain_with(const struct config *cfg, const struct zones *zs,
    const struct policy *p, const struct explain_req *r, FILE *out,
    FILE *errf)
{
	struct policy_query	 pq;
	struct policy_result	 res;
	struct addr		 ca;
	uint8_t			 wire[DNS_MAX_NAME];
	char			 text[WIRE_NAME_STRLEN];
	const char		*why;
	size_t			 len;
	uint16_t		 qtype;

	if (explain_name(r->name, wire, &len) == -1) {
		fprintf(errf, "explain: '%s' is not a domain name\n", r->name);
		return 1;
	}
	if ((qtype = ldns_get_rr_type_by_name(r->type)) == 0) {
		fprintf(errf, "explain: unknown type '%s'\n", r->type);
		return 1;
	}
	if (addr_parse(r->client, 53, &ca, &why) == -1) {
		fprintf(errf, "--client: bad address '%s': %s\n", r->client,
		    why);
		return 1;
	}
	memset(&pq, 0, sizeof(pq));
	pq.name = wire;
	pq.namelen = len;
	pq.qtype = qtype;
	pq.client = (const struct sockaddr *)&ca.ss;
	pq.phase = POLICY_QUERY;
	wire_name_to_str(wire, len, text, sizeof(text));
	fprintf(out, "query %s %s from %s\n", text, r->type, r->client);
	policy_explain(p, &pq, out, &res);
	explain_verdict(&res, out);
	if (res.verdict != POLICY_BLOCK && r->naddrs > 0 &&
	    policy_has_answer_rules(p)) {
		/* The answer rules, with the addresses given as the answer. */
		pq.phase = POLICY_ANSWER;
		pq.addrs = r->addrs;
		pq.naddrs = r->naddrs;
		pq.stop = res.pos;
		fprintf(out, "answer with %zu address%s:\n", r->naddrs,
		    r->naddrs == 1 ? "" : "es");
		policy_explain(p, &pq, out, &res);
		explain_verdict(&res, out);
	}
	if (res.verdict != POLICY_BLOCK)
		explain_route(cfg, zs, wire, len, out);
	fprintf(out, "(answers are checked again: CNAME/DNAME targets by the "
	    "rules that inspect redirections%s)\n",
	    policy_has_answer_rules(p) && r->naddrs == 0 ? ", addresses by "
	    "the answer rules: give them with --answer IP" : "");
	return 0;
}

static int
explain(const struct config *cfg, const struct explain_req *r)
{
	struct policy	*p;
	struct zones	*zs = NULL;
	char		 err[1024];
	int		 rc;

	if (cfg->nzones > 0 && (zs = zones_build(cfg, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if ((p = load_policy(cfg, 1, stdout)) == NULL) {
		zones_free(zs);
		return 1;
	}
	rc = explain_with(cfg, zs, p, r, stdout, stderr);
	policy_free(p);
	zones_free(zs);
	return rc;
}

/* dnsward-ctl explain NAME [TYPE] [--client IP] [--answer IP ...] */
static int
ctl_explain(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	struct main_ctx		*m = arg;
	struct explain_req	 r;
	struct gen		*g;
	char			*text = NULL;
	size_t			 len = 0;
	FILE			*f;
	int			 i, rc = 1;

	memset(&r, 0, sizeof(r));
	r.type = "A";
	r.client = "127.0.0.1";
	if ((f = open_memstream(&text, &len)) == NULL) {
		evbuffer_add_printf(out, "out of memory\n");
		return -1;
	}
	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--client") == 0 ||
		    strcmp(argv[i], "--answer") == 0) && i + 1 == argc) {
			fprintf(f, "explain: %s needs an address\n", argv[i]);
			goto usage;
		}
		if (strcmp(argv[i], "--client") == 0)
			r.client = argv[++i];
		else if (strcmp(argv[i], "--answer") == 0) {
			if (explain_add_answer(&r, argv[++i], f) == -1)
				goto done;
		} else if (argv[i][0] == '-') {
			fprintf(f, "explain: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (r.name == NULL)
			r.name = argv[i];
		else if (strcmp(r.type, "A") == 0 && r.name != NULL &&
		    argv[i - 1] == r.name)
			r.type = argv[i];
		else
			goto usage;
	}
	if (r.name == NULL)
		goto usage;
	g = daemon_get_gen(m->d);
	fprintf(f, "policy generation %u\n", g->number);
	rc = explain_with(g->cfg, g->zones, g->policy, &r, f, f);
	gen_unref(g);
	goto done;
usage:
	fprintf(f, "usage: explain NAME [TYPE] [--client IP] "
	    "[--answer IP ...]\n");
	rc = 1;
done:
	fclose(f);
	evbuffer_add(out, text, len);
	free(text);
	return rc == 0 ? 0 : -1;
}

/* dnsward-ctl flush [NAME]: the cache, or NAME and every name below. */
static int
ctl_flush(void *arg, int argc, char *argv[], struct evbuffer *out)
{
	struct main_ctx	*m = arg;
	uint8_t		 wire[DNS_MAX_NAME];
	size_t		 len, n;

	if (argc > 2) {
		evbuffer_add_printf(out, "usage: flush [NAME]\n");
		return -1;
	}
	if (m->d->cache == NULL) {
		evbuffer_add_printf(out, "the cache is off (cache.size: off)\n");
		return -1;
	}
	if (argc == 1) {
		n = cache_flush(m->d->cache, NULL, 0);
		log_info("control: cache flushed, %zu entr%s removed", n,
		    n == 1 ? "y" : "ies");
		evbuffer_add_printf(out, "flushed the cache: %zu entr%s "
		    "removed\n", n, n == 1 ? "y" : "ies");
		return 0;
	}
	if (explain_name(argv[1], wire, &len) == -1) {
		evbuffer_add_printf(out, "flush: '%s' is not a domain name\n",
		    argv[1]);
		return -1;
	}
	n = cache_flush(m->d->cache, wire, len);
	log_info("control: cache flushed for %s and below, %zu entr%s "
	    "removed", argv[1], n, n == 1 ? "y" : "ies");
	evbuffer_add_printf(out, "flushed %s and below: %zu entr%s removed\n",
	    argv[1], n, n == 1 ? "y" : "ies");
	return 0;
}

static const struct control_cmd ctl_cmds[] = {
	{ "reload",	ctl_reload },
	{ "status",	ctl_status },
	{ "stats",	ctl_stats },
	{ "flush",	ctl_flush },
	{ "explain",	ctl_explain },
	{ NULL,		NULL }
};

/* ---- start-up ----------------------------------------------------- */

static void
start_workers(struct main_ctx *m, struct daemon *d, unsigned n)
{
	char	 err[256];
	unsigned i;

	for (i = 0; i < n; i++) {
		m->workers[i] = worker_new(d, i, err, sizeof(err));
		if (m->workers[i] == NULL)
			fatalx("%s", err);
		m->nworkers++;
	}
}

static void
announce(const struct config *cfg, unsigned n)
{
	size_t	 i;

	for (i = 0; i < cfg->nlisten; i++)
		log_info("listening on %s (udp, tcp)", cfg->listen[i].text);
	if (cfg->mode == RESOLVER_RECURSE)
		log_info("recursing from the root hints in %s, DNSSEC "
		    "validation %s", cfg->root_hints, cfg->dnssec ? "on" :
		    "off");
	else
		for (i = 0; i < cfg->nupstreams; i++)
			log_info("forwarding to %s", cfg->upstreams[i].text);
	log_info("%u worker thread%s, %zu allowed client network%s", n,
	    n == 1 ? "" : "s", acl_count(cfg->allow_clients),
	    acl_count(cfg->allow_clients) == 1 ? "" : "s");
	if (cfg->control_socket != NULL)
		log_info("control socket %s", cfg->control_socket);
	if (cfg->has_metrics)
		log_info("metrics on http://%s/metrics",
		    cfg->metrics_listen.text);
}

/*
 * The user to run as: NULL when dnsward is not root, or should stay root
 * (server.user: root, or the default user does not exist -- said so).
 * Exits when a user named in the file does not exist.
 */
static struct passwd *
run_as(const struct config *cfg)
{
	struct passwd	*pw;

	if (geteuid() != 0)
		return NULL;
	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		if (cfg->user_set)
			fatalx("%s:%d:%d: server.user: no user '%s'",
			    cfg->path, cfg->user_line, cfg->user_col,
			    cfg->user);
		log_warnx("server.user: no user '%s' on this system: running "
		    "as root (create it -- systemd-sysusers -- or set "
		    "server.user)", cfg->user);
		return NULL;
	}
	if (pw->pw_uid == 0)
		return NULL;
	return pw;
}

/*
 * Everything privileged is done (sockets bound, control socket and log
 * file created and handed to the user): become pw for good.
 */
static void
drop_privileges(const struct passwd *pw)
{
	gid_t	 gid = pw->pw_gid;

	if (setgroups(1, &gid) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %u", (unsigned)gid);
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("setresuid %u", (unsigned)pw->pw_uid);
	if (setuid(0) != -1 || geteuid() == 0)
		fatalx("could not drop root privileges");
	log_info("running as user %s (uid %u, gid %u)", pw->pw_name,
	    (unsigned)pw->pw_uid, (unsigned)gid);
}

/* Serve with *boot, whose contents the daemon takes over. */
static int
run(const char *path, struct config *boot)
{
	struct main_ctx		 m;
	struct daemon		 d;
	struct dlog_sinks	 sinks;
	struct config		*cfg;
	struct policy		*policy;
	struct zones		*zones = NULL;
	struct passwd		*pw;
	struct gen		*g;
	struct event		*ev[4];
	struct timeval		 one = { 1, 0 };
	char			 err[512];
	unsigned		 i, n;

	if ((cfg = malloc(sizeof(*cfg))) == NULL)
		fatalx("out of memory");
	*cfg = *boot;
	memset(boot, 0, sizeof(*boot));
	n = nthreads(cfg);
	sinks.file = cfg->log_file;
	sinks.to_stdout = cfg->log_stdout;
	sinks.to_syslog = cfg->log_syslog;
	memset(&m, 0, sizeof(m));
	memset(&d, 0, sizeof(d));
	m.path = path;
	m.d = &d;
	clock_gettime(CLOCK_REALTIME, &m.start);
	pthread_mutex_init(&d.gen_lock, NULL);
	pthread_mutex_init(&d.reap_lock, NULL);
	atomic_init(&d.tcp_conns, 0);
	notify_init();
	if (evthread_use_pthreads() == -1)
		fatalx("libevent: no thread support");
	signal(SIGPIPE, SIG_IGN);
	pw = run_as(cfg);
	if (slots_assign(&m.slots, NULL, cfg, err, sizeof(err)) == -1 ||
	    (cfg->nzones > 0 &&
	    (zones = zones_build(cfg, err, sizeof(err))) == NULL))
		fatalx("%s", err);
	if ((policy = load_policy(cfg, 0, stderr)) == NULL)
		exit(1);
	if ((g = gen_new(cfg, zones, policy, 1)) == NULL)
		fatalx("out of memory");
	daemon_set_gen(&d, g);
	if (cfg->cache_size > 0) {
		struct cache_config cc = { cfg->cache_size, cfg->cache_min_ttl,
		    cfg->cache_max_ttl, cfg->cache_negative_max_ttl,
		    cfg->cache_serve_stale };

		if ((d.cache = cache_new(&cc, err, sizeof(err))) == NULL)
			fatalx("%s", err);
	}
	if (sinks.file != NULL || sinks.to_stdout || sinks.to_syslog) {
		d.dlog = dlog_new(&sinks, n, DLOG_RING_BYTES, err, sizeof(err));
		if (d.dlog == NULL)
			fatalx("decision log: %s", err);
		/* Reopened (SIGUSR1) after the drop: the user's file. */
		if (pw != NULL && sinks.file != NULL &&
		    chown(sinks.file, pw->pw_uid, pw->pw_gid) == -1)
			log_warn("chown %s", sinks.file);
	}
	m.dlog = d.dlog;
	if ((m.base = event_base_new()) == NULL)
		fatalx("cannot create event loop");
	if ((m.ev_reap = event_new(m.base, -1, 0, on_reap, &m)) == NULL)
		fatalx("out of memory");
	d.reap_ev = m.ev_reap;
	/* First: a second dnsward on the same socket stops here, before its
	 * SO_REUSEPORT listeners could take a share of the first's traffic. */
	if (cfg->control_socket != NULL && (m.ctl = control_new(m.base,
	    cfg->control_socket, 0660, pw != NULL ? pw->pw_uid : (uid_t)-1,
	    pw != NULL ? pw->pw_gid : (gid_t)-1, ctl_cmds, &m, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	start_workers(&m, &d, n);
	if (cfg->has_metrics && (m.metrics = metrics_new(m.base,
	    &cfg->metrics_listen.addr, cfg->metrics_listen.text,
	    render_metrics, &m, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (pw != NULL)
		drop_privileges(pw);
	for (i = 0; i < n; i++)
		if (worker_start(m.workers[i]) == -1)
			fatalx("cannot start worker thread %u", i);
	if (d.dlog != NULL && dlog_start(d.dlog) == -1)
		fatalx("cannot start the decision log writer");
	ev[0] = evsignal_new(m.base, SIGTERM, on_stop, &m);
	ev[1] = evsignal_new(m.base, SIGINT, on_stop, &m);
	ev[2] = evsignal_new(m.base, SIGUSR1, on_usr1, &m);
	ev[3] = evsignal_new(m.base, SIGHUP, on_hup, &m);
	for (i = 0; i < 4; i++)
		if (ev[i] == NULL || evsignal_add(ev[i], NULL) == -1)
			fatalx("cannot install signal handlers");
	if ((m.ev_refresh = event_new(m.base, -1, EV_PERSIST, on_refresh,
	    &m)) == NULL || event_add(m.ev_refresh, &one) == -1)
		fatalx("out of memory");
	announce(cfg, n);
	notify_ready(&m, 1);
	event_base_dispatch(m.base);

	control_free(m.ctl);
	metrics_free(m.metrics);
	event_free(m.ev_refresh);
	for (i = 0; i < m.nworkers; i++)
		worker_free(m.workers[i]);	/* joins: drained by now */
	if (d.dlog != NULL && dlog_dropped(d.dlog) > 0)
		log_warnx("decision log: %llu records dropped (writer behind)",
		    (unsigned long long)dlog_dropped(d.dlog));
	dlog_free(d.dlog);
	for (i = 0; i < 4; i++)
		event_free(ev[i]);
	pthread_mutex_lock(&d.reap_lock);
	d.reap_ev = NULL;
	pthread_mutex_unlock(&d.reap_lock);
	daemon_reap(&d);
	event_free(m.ev_reap);
	event_base_free(m.base);
	daemon_set_gen(&d, NULL);	/* the workers let theirs go */
	pthread_mutex_destroy(&d.gen_lock);
	pthread_mutex_destroy(&d.reap_lock);
	for (i = 0; i < m.nnotes; i++)
		free(m.notes[i].id);
	free(m.notes);
	if (d.cache != NULL) {
		struct cache_stats cs;

		cache_get_stats(d.cache, &cs);
		log_info("cache: %llu entries, %llu of %llu bytes, %llu hits, "
		    "%llu misses, %llu stale, %llu evicted",
		    (unsigned long long)cs.entries,
		    (unsigned long long)cs.bytes,
		    (unsigned long long)cs.max_bytes,
		    (unsigned long long)cs.hits, (unsigned long long)cs.misses,
		    (unsigned long long)cs.stale,
		    (unsigned long long)cs.evictions);
		cache_free(d.cache);
	}
	log_info("stopped");
	return 0;
}

static int
check_config(struct config *cfg, const char *path)
{
	static struct upslots slots;
	struct zones	*zones = NULL;
	struct policy	*p;
	char		 err[1024];

	/* Only a user the file names must exist (see run_as()). */
	if (cfg->user_set && strcmp(cfg->user, "root") != 0 &&
	    getpwnam(cfg->user) == NULL) {
		fprintf(stderr, "%s:%d:%d: server.user: no user '%s'\n",
		    cfg->path, cfg->user_line, cfg->user_col, cfg->user);
		return 1;
	}
	if (cfg->mode == RESOLVER_RECURSE &&
	    rec_check(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (slots_assign(&slots, NULL, cfg, err, sizeof(err)) == -1 ||
	    (cfg->nzones > 0 &&
	    (zones = zones_build(cfg, err, sizeof(err))) == NULL)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	zones_free(zones);
	if ((p = load_policy(cfg, 0, stdout)) == NULL)
		return 1;
	policy_free(p);
	if (cfg->mode == RESOLVER_RECURSE)
		snprintf(err, sizeof(err), "recursion (DNSSEC %s)",
		    cfg->dnssec ? "validated" : "not validated");
	else
		snprintf(err, sizeof(err), "%zu upstream%s", cfg->nupstreams,
		    cfg->nupstreams == 1 ? "" : "s");
	printf("%s: configuration OK: %zu listen address%s, %s, "
	    "%zu allowed client network%s, %zu zone%s, %zu feed%s, "
	    "%zu group%s\n", path,
	    cfg->nlisten, cfg->nlisten == 1 ? "" : "es", err,
	    acl_count(cfg->allow_clients),
	    acl_count(cfg->allow_clients) == 1 ? "" : "s", cfg->nzones,
	    cfg->nzones == 1 ? "" : "s", cfg->nfeeds,
	    cfg->nfeeds == 1 ? "" : "s", cfg->ngroups,
	    cfg->ngroups == 1 ? "" : "s");
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "explain",	required_argument,	NULL,	'E' },
		{ "client",	required_argument,	NULL,	'C' },
		{ "answer",	required_argument,	NULL,	'A' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	struct config	 cfg;
	struct explain_req er;
	const char	*path = DEFAULT_CONFIG;
	int		 ch, check = 0, nerr = 0, rc;

	memset(&er, 0, sizeof(er));
	er.type = "A";
	er.client = "127.0.0.1";

	while ((ch = getopt_long(argc, argv, "c:htV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 't':
			check = 1;
			break;
		case 'V':
			version();
			return 0;
		case 'E':
			er.name = optarg;
			break;
		case 'C':
			er.client = optarg;
			break;
		case 'A':
			if (explain_add_answer(&er, optarg, stderr) == -1)
				return 1;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (er.name != NULL && optind + 1 == argc)
		er.type = argv[optind++];
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (config_load(&cfg, path, NULL, report, &nerr) != 0) {
		fprintf(stderr, "%s: %d error%s\n", path, nerr,
		    nerr == 1 ? "" : "s");
		return 1;
	}
	if (er.name != NULL)
		rc = explain(&cfg, &er);
	else if (check)
		rc = check_config(&cfg, path);
	else
		rc = run(path, &cfg);
	config_release(&cfg);
	return rc;
}
