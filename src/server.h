/*
 * server.h -- the daemon's shared context and its workers.
 *
 * Each worker is one thread with its own libevent loop, its own UDP and TCP
 * listening sockets (SO_REUSEPORT, so the kernel spreads clients across
 * workers) and its own upstream sockets.  Workers share only read-only state
 * (configuration, policy) and the decision log, which has a ring per worker.
 */
#ifndef DNSWARD_SERVER_H
#define DNSWARD_SERVER_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "forward.h"
#include "query.h"
#include "stats.h"

struct cache;
struct zones;
struct recursor;
struct dlog;
struct policy;
struct event_base;
struct evconnlistener;

/* Largest number of queries one worker keeps waiting on upstreams. */
#define WORKER_MAX_INFLIGHT	16384
/* Queries one TCP connection may have in flight before reading pauses. */
#define TCP_MAX_PIPELINE	64

/*
 * A generation: a configuration and the policy built from it, what a
 * reload replaces as one.  Reference counted: the daemon holds the current
 * one, each worker the one it last picked up, each held query the one it
 * started with (so a query in flight ends on the policy it began with).
 * The last reference frees it, in whichever thread lets go.
 */
struct gen {
	struct config		*cfg;		/* shared by the generations
						   built from one reading */
	atomic_uint		*cfg_refs;	/* generations using cfg */
	struct zones		*zones;		/* compiled cfg->zones; shared
						   with cfg; NULL: none */
	unsigned		 zones_epoch;	/* number of the generation
						   whose zones these are */
	long			 budget_ms;	/* a query's time, all its
						   backends together */
	struct policy		*policy;	/* owned */
	unsigned		 number;	/* 1 at start, +1 per reload */
	atomic_uint		 refs;
	struct daemon		*d;		/* set when made current */
	struct gen		*next_dead;	/* on the daemon's reap list */
	struct timespec		 made;		/* CLOCK_REALTIME */
};

struct daemon {
	_Atomic(struct gen *)	 gen;		/* current; swapped under lock */
	pthread_mutex_t		 gen_lock;
	struct dlog		*dlog;
	struct cache		*cache;		/* NULL: no cache */
	/*
	 * The current generation's zones_epoch: an answer routed by other
	 * zones (a query in flight across a reload) is not cached.
	 */
	atomic_uint		 zones_epoch;
	/* Bumped when a slot passes to another address (main thread). */
	atomic_uint		 slot_epoch[STATS_MAX_UPSTREAMS];
	atomic_uint		 tcp_conns;	/* open client connections */

	/*
	 * Generations whose last reference a worker dropped are freed on the
	 * main thread (freeing a large policy takes milliseconds a worker
	 * should spend answering): put on this list, reap_ev activated.
	 */
	pthread_mutex_t		 reap_lock;
	struct gen		*dead;
	struct event		*reap_ev;	/* NULL: free at once */
};

struct udp_listener {
	int			 fd;
	struct event		*ev;
};

struct tcp_conn;
LIST_HEAD(tcp_conn_list, tcp_conn);

/*
 * UDP batching: datagrams are read UDP_BATCH at a time (recvmmsg) and the
 * replies made while handling them sent together (sendmmsg).  A slot holds
 * the largest query we take and the largest UDP reply we send
 * (edns-buffer-size is at most 4096).
 */
#define UDP_BATCH		32
#define UDP_SLOT		4096
#define UDP_READ_ROUNDS		4
/* Receive buffer of each listening UDP socket (the kernel doubles it). */
#define UDP_RCVBUF		(4 << 20)

/* Room for the one control message we send or receive (PKTINFO). */
union udp_ctl {
	struct cmsghdr	 hdr;
	uint8_t		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

struct udp_batch {
	int			 fd;		/* socket being read */
	int			 active;	/* replies are queued */
	unsigned		 ntx;
	struct mmsghdr		 rxm[UDP_BATCH];
	struct iovec		 rxiov[UDP_BATCH];
	struct sockaddr_storage	 rxpeer[UDP_BATCH];
	union udp_ctl		 rxctl[UDP_BATCH];
	uint8_t			 rx[UDP_BATCH][UDP_SLOT];
	struct mmsghdr		 txm[UDP_BATCH];
	struct iovec		 txiov[UDP_BATCH];
	struct sockaddr_storage	 txpeer[UDP_BATCH];
	union udp_ctl		 txctl[UDP_BATCH];
	uint8_t			 tx[UDP_BATCH][UDP_SLOT];
};

struct worker {
	unsigned		 id;
	struct daemon		*d;
	struct gen		*gen;		/* referenced; see worker_refresh */
	struct event_base	*base;
	pthread_t		 thread;
	int			 started;	/* thread was created */

	struct udp_listener	 udp[CONFIG_MAX_LISTEN];
	size_t			 nudp;
	struct evconnlistener	*tcp[CONFIG_MAX_LISTEN];
	size_t			 ntcp;
	struct tcp_conn_list	 conns;

	struct query		 scratch;	/* stages run here */
	struct query_list	 inflight;	/* held queries */
	unsigned		 ninflight;
	struct query_list	 pool;		/* free held queries */

	struct fwd_upstream	 ups[STATS_MAX_UPSTREAMS]; /* by slot */
	unsigned		 ups_epoch[STATS_MAX_UPSTREAMS];
	struct recursor		*rec;		/* resolver.mode recurse */

	int			 stopping;
	struct event		*ev_stop;	/* activated by the main thread */
	struct event		*ev_refresh;	/* same: a new generation */
	struct event		*ev_drain;	/* bound on draining */

	struct stats_counters	 stats;		/* written by this worker only */
	struct udp_batch	 batch;

	/* Receive and send buffers; one query is handled at a time. */
	uint8_t			 rbuf[DNS_MAX_UDP + 1];
	uint8_t			 sbuf[DNS_MAX_UDP + 1];
	uint8_t			 cbuf[DNS_MAX_UDP + 1];	/* cache copies */
	struct policy_addr	 addrs[QUERY_MAX_ADDRS]; /* of one answer */
};

/* A generation owning cfg, zones and policy, with one reference. */
struct gen	*gen_new(struct config *cfg, struct zones *zones,
		    struct policy *policy, unsigned number);
/* A generation sharing prev's configuration (and zones), owning policy. */
struct gen	*gen_new_same_config(struct gen *prev, struct policy *policy,
		    unsigned number);
/*
 * The time one query may take from receipt, whatever it asks (zone
 * servers, fallback, hops, recursion): timeout x the longest list of tries
 * x 2 (a TCP retry), plus the recursion deadline when recursing.  Held
 * queries past it end as unresolved; the shutdown drain waits as long.
 */
long		 gen_budget_ms(const struct config *cfg);

/* Free the generations put on the reap list (main thread). */
void		 daemon_reap(struct daemon *);
void		 gen_ref(struct gen *);
/* Drop a reference; the last one frees the generation. */
void		 gen_unref(struct gen *);

/* Make g (whose reference passes to the daemon) current. */
void		 daemon_set_gen(struct daemon *, struct gen *g);
/* The current generation, with a reference for the caller. */
struct gen	*daemon_get_gen(struct daemon *);

/* Pick up the daemon's current generation if it changed. */
void		 worker_refresh(struct worker *);

/*
 * From another thread: make the worker pick up a new generation now, so
 * that an idle worker does not keep the old one alive.
 */
void		 worker_wake(struct worker *);

/*
 * Create a worker: event base, listening sockets on every configured
 * address (UDP and TCP).  Returns NULL with a message in err on failure
 * ("listen 127.0.0.1:53: bind: Address already in use").
 */
struct worker	*worker_new(struct daemon *, unsigned id, char *err,
		    size_t errsz);

/* Run the worker's loop in a new thread.  0, or -1 on failure. */
int		 worker_start(struct worker *);

/*
 * Ask the worker (from another thread) to stop accepting, finish what is in
 * flight (bounded), and leave its loop.
 */
void		 worker_stop(struct worker *);

/* Wait for the thread to end, then free everything; accepts NULL. */
void		 worker_free(struct worker *);

/* Send q's reply pkt[0..len) to its client (UDP or TCP).  */
void		 server_send(struct query *q, const uint8_t *pkt, size_t len);

/* q is done: let its TCP connection (if any) go on and the pool have it. */
void		 server_release(struct query *q);

/* Copy the scratch query into a pooled one; NULL when at the limit. */
struct query	*server_hold(struct query *scratch);

#endif /* DNSWARD_SERVER_H */
