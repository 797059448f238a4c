/*
 * main.c -- dnsward: command line, start-up, signals, shutdown.
 *
 * The main thread only handles signals (as libevent events, so no work is
 * done in a signal handler); each worker thread runs its own event loop.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
#include "dlog.h"
#include "log.h"
#include "policy.h"
#include "respond.h"
#include "wire.h"
#include "server.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"0.1.0"
#endif

#define DEFAULT_CONFIG	"/etc/dnsward/dnsward.yaml"
/* Decision log ring per worker. */
#define DLOG_RING_BYTES	(8u << 20)
#define MAX_THREADS	256
#define EXPLAIN_MAX_ADDRS	16

struct main_ctx {
	const char		*path;		/* the configuration file */
	struct daemon		*d;
	struct event_base	*base;
	struct worker		*workers[MAX_THREADS];
	unsigned		 nworkers;
	struct dlog		*dlog;
	int			 stopping;
};

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

/* Say so when a setting differs; the running value is kept. */
static int
reload_differs(int differs, const char *name)
{
	if (differs)
		log_warnx("reload: %s changed; it takes a restart to apply, "
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

/*
 * Settings bound to sockets, threads, the cache or the log sinks cannot
 * change under a running daemon: report each that differs in the new
 * configuration and carry the running value over, so that nc describes
 * what really runs.  Everything else (clients, feeds, policy, EDNS size,
 * timeouts, TCP limits) takes effect.  -1 when out of memory.
 */
static int
reload_keep(const struct config *old, struct config *nc)
{
	char	*file = NULL;

	if (reload_differs(listen_differs(old, nc), "server.listen")) {
		memcpy(nc->listen, old->listen, sizeof(nc->listen));
		nc->nlisten = old->nlisten;
	}
	if (reload_differs(old->threads != nc->threads, "server.threads"))
		nc->threads = old->threads;
	if (reload_differs(old->mode != nc->mode, "resolver.mode"))
		nc->mode = old->mode;
	if (reload_differs(upstreams_differ(old, nc), "resolver.upstreams")) {
		memcpy(nc->upstreams, old->upstreams, sizeof(nc->upstreams));
		nc->nupstreams = old->nupstreams;
	}
	if (reload_differs(old->cache_size != nc->cache_size ||
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
	if (reload_differs((old->log_file == NULL) != (nc->log_file == NULL) ||
	    (old->log_file != NULL &&
	    strcmp(old->log_file, nc->log_file) != 0) ||
	    old->log_stdout != nc->log_stdout ||
	    old->log_syslog != nc->log_syslog, "log.decisions")) {
		if (old->log_file != NULL &&
		    (file = strdup(old->log_file)) == NULL)
			return -1;
		free(nc->log_file);
		nc->log_file = file;
		nc->log_stdout = old->log_stdout;
		nc->log_syslog = old->log_syslog;
	}
	return 0;
}

/*
 * SIGHUP: read the configuration and every feed again, build the new
 * policy here (the workers go on serving with the old one), then make it
 * current.  Queries in flight finish on the generation they started with;
 * the old one is freed when the last of them lets go.  Anything wrong: the
 * errors are logged with their place and the running generation stays.
 */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx	*m = arg;
	struct gen	*cur, *g;
	struct config	*nc;
	struct policy	*p;
	unsigned	 i;
	int		 nerr = 0;

	cur = daemon_get_gen(m->d);
	log_info("SIGHUP: reloading %s", m->path);
	if ((nc = calloc(1, sizeof(*nc))) == NULL) {
		log_warnx("reload failed: out of memory; generation %u stays "
		    "in force", cur->number);
		gen_unref(cur);
		return;
	}
	if (config_load(nc, m->path, NULL, report, &nerr) != 0) {
		log_warnx("reload failed: %s: %d error%s; generation %u stays "
		    "in force", m->path, nerr, nerr == 1 ? "" : "s",
		    cur->number);
		goto fail;
	}
	if (reload_keep(cur->cfg, nc) == -1) {
		log_warnx("reload failed: out of memory; generation %u stays "
		    "in force", cur->number);
		goto fail;
	}
	if ((p = load_policy(nc, 0, stderr)) == NULL) {
		log_warnx("reload failed: a feed or geo database could not be "
		    "loaded; generation %u stays in force", cur->number);
		goto fail;
	}
	if ((g = gen_new(nc, p, cur->number + 1)) == NULL) {
		policy_free(p);
		log_warnx("reload failed: out of memory; generation %u stays "
		    "in force", cur->number);
		goto fail;
	}
	daemon_set_gen(m->d, g);
	for (i = 0; i < m->nworkers; i++)
		worker_wake(m->workers[i]);
	log_info("reload: generation %u in force (%zu feed%s, %zu group%s)",
	    g->number, nc->nfeeds, nc->nfeeds == 1 ? "" : "s", nc->ngroups,
	    nc->ngroups == 1 ? "" : "s");
	gen_unref(cur);
	return;
fail:
	config_release(nc);
	free(nc);
	gen_unref(cur);
}

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
	for (i = 0; i < n; i++)
		if (worker_start(m->workers[i]) == -1)
			fatalx("cannot start worker thread %u", i);
}

static void
announce(const struct config *cfg, unsigned n)
{
	size_t	 i;

	for (i = 0; i < cfg->nlisten; i++)
		log_info("listening on %s (udp, tcp)", cfg->listen[i].text);
	for (i = 0; i < cfg->nupstreams; i++)
		log_info("forwarding to %s", cfg->upstreams[i].text);
	log_info("%u worker thread%s, %zu allowed client network%s", n,
	    n == 1 ? "" : "s", acl_count(cfg->allow_clients),
	    acl_count(cfg->allow_clients) == 1 ? "" : "s");
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
	struct gen		*g;
	struct event		*ev[4];
	char			 err[256];
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
	pthread_mutex_init(&d.gen_lock, NULL);
	atomic_init(&d.tcp_conns, 0);
	if (evthread_use_pthreads() == -1)
		fatalx("libevent: no thread support");
	signal(SIGPIPE, SIG_IGN);
	if ((policy = load_policy(cfg, 0, stderr)) == NULL)
		exit(1);
	if ((g = gen_new(cfg, policy, 1)) == NULL)
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
	}
	m.dlog = d.dlog;
	if ((m.base = event_base_new()) == NULL)
		fatalx("cannot create event loop");
	start_workers(&m, &d, n);
	if (d.dlog != NULL && dlog_start(d.dlog) == -1)
		fatalx("cannot start the decision log writer");
	ev[0] = evsignal_new(m.base, SIGTERM, on_stop, &m);
	ev[1] = evsignal_new(m.base, SIGINT, on_stop, &m);
	ev[2] = evsignal_new(m.base, SIGUSR1, on_usr1, &m);
	ev[3] = evsignal_new(m.base, SIGHUP, on_hup, &m);
	for (i = 0; i < 4; i++)
		if (ev[i] == NULL || evsignal_add(ev[i], NULL) == -1)
			fatalx("cannot install signal handlers");
	announce(cfg, n);
	event_base_dispatch(m.base);

	for (i = 0; i < m.nworkers; i++)
		worker_free(m.workers[i]);	/* joins: drained by now */
	if (d.dlog != NULL && dlog_dropped(d.dlog) > 0)
		log_warnx("decision log: %llu records dropped (writer behind)",
		    (unsigned long long)dlog_dropped(d.dlog));
	dlog_free(d.dlog);
	for (i = 0; i < 4; i++)
		event_free(ev[i]);
	event_base_free(m.base);
	daemon_set_gen(&d, NULL);	/* the workers let theirs go */
	pthread_mutex_destroy(&d.gen_lock);
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
explain_verdict(const struct policy_result *res)
{
	char	 ede[256];

	if (res->verdict == POLICY_BLOCK) {
		respond_ede_text(res, ede, sizeof(ede));
		printf("verdict: BLOCK, answer %s: %s\n",
		    response_name(res->response), ede);
	} else if (res->action == DLOG_ACTION_ALERT)
		printf("verdict: ALLOW with ALERT by rule '%s' in group '%s'\n",
		    res->rule, res->group);
	else if (res->rule != NULL)
		printf("verdict: ALLOW by rule '%s' in group '%s'\n", res->rule,
		    res->group);
	else
		printf("verdict: ALLOW (default)\n");
}

static int
explain(const struct config *cfg, const char *name, const char *type,
    const char *client, const struct policy_addr *addrs, size_t naddrs)
{
	struct policy		*p;
	struct policy_query	 pq;
	struct policy_result	 res;
	struct addr		 ca;
	uint8_t			 wire[DNS_MAX_NAME];
	char			 text[WIRE_NAME_STRLEN];
	const char		*why;
	size_t			 len;
	uint16_t		 qtype;

	if (explain_name(name, wire, &len) == -1) {
		fprintf(stderr, "--explain: '%s' is not a domain name\n", name);
		return 1;
	}
	if ((qtype = ldns_get_rr_type_by_name(type)) == 0) {
		fprintf(stderr, "--explain: unknown type '%s'\n", type);
		return 1;
	}
	if (addr_parse(client, 53, &ca, &why) == -1) {
		fprintf(stderr, "--client: bad address '%s': %s\n", client, why);
		return 1;
	}
	if ((p = load_policy(cfg, 1, stdout)) == NULL)
		return 1;
	memset(&pq, 0, sizeof(pq));
	pq.name = wire;
	pq.namelen = len;
	pq.qtype = qtype;
	pq.client = (const struct sockaddr *)&ca.ss;
	pq.phase = POLICY_QUERY;
	wire_name_to_str(wire, len, text, sizeof(text));
	printf("query %s %s from %s\n", text, type, client);
	policy_explain(p, &pq, stdout, &res);
	explain_verdict(&res);
	if (res.verdict != POLICY_BLOCK && naddrs > 0 &&
	    policy_has_answer_rules(p)) {
		/* The answer rules, with the addresses given as the answer. */
		pq.phase = POLICY_ANSWER;
		pq.addrs = addrs;
		pq.naddrs = naddrs;
		pq.stop = res.pos;
		printf("answer with %zu address%s:\n", naddrs,
		    naddrs == 1 ? "" : "es");
		policy_explain(p, &pq, stdout, &res);
		explain_verdict(&res);
	}
	printf("(answers are checked again: CNAME/DNAME targets by the rules "
	    "that inspect redirections%s)\n", policy_has_answer_rules(p) &&
	    naddrs == 0 ? ", addresses by the answer rules: give them with "
	    "--answer IP" : "");
	policy_free(p);
	return 0;
}

static int
check_config(struct config *cfg, const char *path)
{
	struct policy	*p;

	if ((p = load_policy(cfg, 0, stdout)) == NULL)
		return 1;
	policy_free(p);
	printf("%s: configuration OK: %zu listen address%s, %zu upstream%s, "
	    "%zu allowed client network%s, %zu feed%s, %zu group%s\n", path,
	    cfg->nlisten, cfg->nlisten == 1 ? "" : "es", cfg->nupstreams,
	    cfg->nupstreams == 1 ? "" : "s", acl_count(cfg->allow_clients),
	    acl_count(cfg->allow_clients) == 1 ? "" : "s", cfg->nfeeds,
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
	const char	*path = DEFAULT_CONFIG, *ename = NULL;
	const char	*etype = "A", *eclient = "127.0.0.1";
	struct policy_addr eaddrs[EXPLAIN_MAX_ADDRS];
	size_t		 naddrs = 0;
	int		 ch, check = 0, nerr = 0, rc;

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
			ename = optarg;
			break;
		case 'C':
			eclient = optarg;
			break;
		case 'A':
			if (naddrs == EXPLAIN_MAX_ADDRS) {
				fprintf(stderr, "--answer: at most %d "
				    "addresses\n", EXPLAIN_MAX_ADDRS);
				return 1;
			}
			memset(&eaddrs[naddrs], 0, sizeof(eaddrs[0]));
			if (inet_pton(AF_INET, optarg, eaddrs[naddrs].a) == 1)
				eaddrs[naddrs].af = AF_INET;
			else if (inet_pton(AF_INET6, optarg,
			    eaddrs[naddrs].a) == 1)
				eaddrs[naddrs].af = AF_INET6;
			else {
				fprintf(stderr, "--answer: bad address '%s'\n",
				    optarg);
				return 1;
			}
			naddrs++;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (ename != NULL && optind + 1 == argc)
		etype = argv[optind++];
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
	if (ename != NULL)
		rc = explain(&cfg, ename, etype, eclient, eaddrs, naddrs);
	else if (check)
		rc = check_config(&cfg, path);
	else
		rc = run(path, &cfg);
	config_release(&cfg);
	return rc;
}
