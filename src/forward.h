/*
 * forward.h -- sending a query to the configured upstreams and taking back
 * only a genuine answer.
 *
 * Each try gets a fresh UDP socket bound to a random source port and a
 * random ID, both from the OS CSPRNG, connected to one upstream.  A reply is
 * accepted only from that address and port, with the same ID and the same
 * question (case-insensitive), and only if the whole message parses.  A
 * truncated reply (TC=1) is asked again over TCP.  A try that times out, is
 * refused (ICMP), answers SERVFAIL or REFUSED, or sends garbage fails over to
 * the next upstream; upstreams that keep failing are tried last for a while.
 * The whole query is bounded by timeout x number of upstreams: after that
 * the client gets SERVFAIL.
 */
#ifndef DNSWARD_FORWARD_H
#define DNSWARD_FORWARD_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

struct query;
struct worker;
struct bufferevent;
struct wire_edns;

/* Largest query we send: header + name + question tail + OPT. */
#define FWD_QUERY_MAX	(12 + 255 + 4 + 11)

/* Per-query forwarding state, embedded in struct query. */
struct fwd {
	int			 fd;		/* UDP socket, -1 when none */
	struct event		 ev_read;	/* UDP readable */
	struct event		 ev_timer;	/* per-try timeout */
	struct bufferevent	*bev;		/* TCP try, NULL when none */
	const struct config_addr *ups;		/* the servers asked (the
						   default upstreams, a zone's,
						   a fallback's) */
	uint8_t			 nups;
	uint16_t		 id;		/* ID sent upstream */
	uint8_t			 order[CONFIG_MAX_UPSTREAMS];
	uint8_t			 norder;
	uint8_t			 pos;		/* index into order */
	uint8_t			 tcp;		/* this try is over TCP */
	uint8_t			 pkt[FWD_QUERY_MAX];
	uint16_t		 pktlen;
	struct timespec		 deadline;	/* monotonic */
	struct timespec		 sent;		/* this try's start */
	int			 last_up;	/* index into ups, -1 none */
};

/*
 * Health of one upstream slot as seen by one worker (its counters are in
 * the worker's struct stats_counters; slots: see stats.h).  srtt_us and down_until_ms are written
 * by the worker only and read by the main thread (status, metrics).
 */
struct fwd_upstream {
	unsigned		 fails;		/* consecutive failures */
	struct timespec		 down_until;	/* tried last until then */
	_Atomic uint64_t	 down_until_ms;	/* the same, for readers */
	_Atomic uint32_t	 srtt_us;	/* smoothed RTT; 0: none yet */
	uint64_t		 bogus;		/* replies not taken */
};

/*
 * Start forwarding q (which must be held: not the worker's scratch query)
 * to the servers ups[0..n) (in q's generation's configuration: their
 * slots are set).  The query ends later through query_resolved() or
 * query_unresolved().
 */
void	fwd_start(struct query *q, const struct config_addr *ups, size_t n);

/*
 * Count an accepted answer of upstream slot (of worker w) sent at *sent:
 * answers, the RTT histogram and the smoothed RTT.  The recursor counts
 * its answers here too.
 */
void	fwd_count_answer(struct worker *w, int slot,
	    const struct timespec *sent);

/* Release sockets and events of q's forwarding state (idempotent). */
void	fwd_cleanup(struct query *q);

/*
 * Build the upstream query for q into q->fwd.pkt with the given id.
 * Exposed for unit tests.
 */
void	fwd_build_query(struct query *q, uint16_t id, uint16_t edns_size);

/*
 * 1 if resp[0..len) answers the query q->fwd.pkt (QR set, same ID, opcode,
 * one question equal case-insensitively with same type/class) and parses
 * completely; *edns receives its OPT.  Exposed for unit tests.
 */
int	fwd_accept(const struct query *q, const uint8_t *resp, size_t len,
	    struct wire_edns *edns);

#endif /* DNSWARD_FORWARD_H */
