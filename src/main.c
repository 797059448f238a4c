/*
 * main.c -- dnsward: command line, start-up, signals, shutdown.
 *
 * The main thread only handles signals (as libevent events, so no work is
 * done in a signal handler); each worker thread runs its own event loop.
 */
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

struct main_ctx {
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
	    "       dnsward [-c file] --explain name [type] [--client ip]\n"
	    "  -c file    configuration (default " DEFAULT_CONFIG ")\n"
	    "  -t         check the configuration and feeds, and exit "
	    "(0 valid, 1 not)\n"
	    "  -V         print the version and library versions\n"
	    "  -h         this help\n"
	    "  --explain  show how the policy decides a name (type: A by "
	    "default;\n"
	    "             client: 127.0.0.1 by default), without serving\n");
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

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	log_warnx("SIGHUP: reloading is not implemented yet; the running "
	    "configuration stays in force");
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

static int
run(struct config *cfg)
{
	struct main_ctx		 m;
	struct daemon		 d;
	struct dlog_sinks	 sinks = { cfg->log_file, cfg->log_stdout,
				    cfg->log_syslog };
	struct event		*ev[4];
	char			 err[256];
	unsigned		 i, n = nthreads(cfg);

	memset(&m, 0, sizeof(m));
	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	atomic_init(&d.tcp_conns, 0);
	if (evthread_use_pthreads() == -1)
		fatalx("libevent: no thread support");
	signal(SIGPIPE, SIG_IGN);
	if ((d.policy = load_policy(cfg, 0, stderr)) == NULL)
		exit(1);
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
	policy_free((struct policy *)d.policy);
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

static int
explain(const struct config *cfg, const char *name, const char *type,
    const char *client)
{
	struct policy		*p;
	struct policy_query	 pq;
	struct policy_result	 res;
	struct addr		 ca;
	uint8_t			 wire[DNS_MAX_NAME];
	char			 text[WIRE_NAME_STRLEN], ede[256];
	const char		*why;
	size_t			 len;

	if (explain_name(name, wire, &len) == -1) {
		fprintf(stderr, "--explain: '%s' is not a domain name\n", name);
		return 1;
	}
	if ((pq.qtype = ldns_get_rr_type_by_name(type)) == 0) {
		fprintf(stderr, "--explain: unknown type '%s'\n", type);
		return 1;
	}
	if (addr_parse(client, 53, &ca, &why) == -1) {
		fprintf(stderr, "--client: bad address '%s': %s\n", client, why);
		return 1;
	}
	if ((p = load_policy(cfg, 1, stdout)) == NULL)
		return 1;
	pq.name = wire;
	pq.namelen = len;
	pq.client = (const struct sockaddr *)&ca.ss;
	pq.phase = POLICY_QUERY;
	wire_name_to_str(wire, len, text, sizeof(text));
	printf("query %s %s from %s\n", text, type, client);
	policy_explain(p, &pq, stdout, &res);
	if (res.verdict == POLICY_BLOCK) {
		respond_ede_text(&res, ede, sizeof(ede));
		printf("verdict: BLOCK, answer %s: %s\n",
		    response_name(res.response), ede);
	} else if (res.action == DLOG_ACTION_ALERT)
		printf("verdict: ALLOW with ALERT by rule '%s' in group '%s'\n",
		    res.rule, res.group);
	else if (res.rule != NULL)
		printf("verdict: ALLOW by rule '%s' in group '%s'\n", res.rule,
		    res.group);
	else
		printf("verdict: ALLOW (default)\n");
	printf("(answers are checked again: CNAME/DNAME targets by the rules "
	    "that inspect redirections)\n");
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
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	struct config	 cfg;
	const char	*path = DEFAULT_CONFIG, *ename = NULL;
	const char	*etype = "A", *eclient = "127.0.0.1";
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
		rc = explain(&cfg, ename, etype, eclient);
	else if (check)
		rc = check_config(&cfg, path);
	else
		rc = run(&cfg);
	config_release(&cfg);
	return rc;
}
