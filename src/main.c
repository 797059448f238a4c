/*
 * main.c -- dnsward: command line, start-up, signals, shutdown.
 *
 * The main thread only handles signals (as libevent events, so no work is
 * done in a signal handler); each worker thread runs its own event loop.
 */
#include <errno.h>
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
#include "config.h"
#include "dlog.h"
#include "log.h"
#include "policy.h"
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
	    "  -c file  configuration (default " DEFAULT_CONFIG ")\n"
	    "  -t       check the configuration and exit (0 valid, 1 not)\n"
	    "  -V       print the version and library versions\n"
	    "  -h       this help\n");
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
	if ((d.policy = policy_new(cfg)) == NULL)
		fatalx("out of memory");
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
	log_info("stopped");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	const char	*path = DEFAULT_CONFIG;
	int		 ch, check = 0, nerr = 0, rc;

	while ((ch = getopt(argc, argv, "c:htV")) != -1) {
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
		default:
			usage(stderr);
			return 1;
		}
	}
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
	if (check) {
		printf("%s: configuration OK: %zu listen address%s, "
		    "%zu upstream%s, %zu allowed client network%s\n", path,
		    cfg.nlisten, cfg.nlisten == 1 ? "" : "es", cfg.nupstreams,
		    cfg.nupstreams == 1 ? "" : "s",
		    acl_count(cfg.allow_clients),
		    acl_count(cfg.allow_clients) == 1 ? "" : "s");
		config_release(&cfg);
		return 0;
	}
	rc = run(&cfg);
	config_release(&cfg);
	return rc;
}
