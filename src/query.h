/*
 * query.h -- one client query from receipt to reply and decision record.
 *
 * A received message goes through the request stages in a fixed order
 * (header, acl, opcode, question, sections, edns, class/type, policy).  Each
 * stage is a small function that either lets the query go on or ends it with
 * a verdict: a reply built here (REFUSED, FORMERR, NOTIMP, BADVERS, policy
 * answers), a silent drop, or "resolve", which hands it to the forwarder.
 * Whatever the path, query_end() is the one place that sends (or not),
 * writes the decision record and releases the query.
 *
 * Stages run on a scratch query owned by the worker, so malformed or refused
 * traffic never allocates; only a query that must wait for an upstream is
 * copied into a pooled struct query (query_hold()).
 */
#ifndef DNSWARD_QUERY_H
#define DNSWARD_QUERY_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>
#include <time.h>

#include "dlog.h"
#include "forward.h"
#include "policy.h"
#include "wire.h"

struct gen;
struct worker;
struct tcp_conn;
struct udp_listener;

/* Who resolves the name a query resolves now. */
enum query_backend {
	BACKEND_DEFAULT = 0,	/* resolver.mode: forward upstreams, recursion */
	BACKEND_ZONE,		/* the forward zone's servers */
	BACKEND_FALLBACK	/* the zone's fallback servers (or the default) */
};

struct query {
	TAILQ_ENTRY(query)	 entry;		/* worker's in-flight list */
	struct worker		*w;
	struct gen		*gen;		/* config and policy it runs on */

	/* Where it came from and how to answer. */
	enum dlog_transport	 transport;
	struct sockaddr_storage	 client;
	socklen_t		 clientlen;
	int			 udp_fd;	/* UDP: listener socket */
	int			 has_dst;	/* UDP: local address known */
	struct sockaddr_storage	 dst;		/* UDP: address it came to */
	int			 dst_ifindex;
	struct tcp_conn		*conn;		/* TCP: the connection */

	struct timespec		 t_real;	/* receipt, wall clock */
	struct timespec		 t_mono;	/* receipt, monotonic */

	/* What the request said (valid as far as stages got). */
	uint16_t		 id;
	uint8_t			 opcode;
	uint8_t			 rd, cd, ad;
	int			 has_question;
	int			 bad_sections;	/* records after it malformed */
	struct wire_question	 q;
	uint8_t			 lname[DNS_MAX_NAME];	/* q.name lower-cased
							   (from the policy
							   stage on) */
	struct wire_edns	 edns;		/* the client's OPT */
	uint16_t		 udp_limit;	/* largest UDP reply allowed */

	/* Outcome, for the reply and the decision record. */
	enum dlog_action	 action;
	const char		*reason;
	int			 rcode;		/* sent, or -1 */
	int			 recursion;	/* resolved by libunbound */
	int			 rec_active;	/* libunbound holds it */
	int			 rec_id;	/* its async id */
	int			 has_pres;	/* the policy decided: pres */
	struct policy_result	 pres;
	uint8_t			 matched[DNS_MAX_NAME];	/* name it matched */
	size_t			 matchedlen;

	/* A CNAME override: the target is resolved instead of the name. */
	int			 chase;
	uint8_t			 chase_name[DNS_MAX_NAME];
	size_t			 chase_len;
	uint32_t		 chase_ttl;

	/*
	 * Zone routing (zone.h).  The name resolved now is the upstream name,
	 * or during a hop the CNAME target hop_name that entered another
	 * zone; prev is then the answer so far (the chain up to hop_name),
	 * malloc'd.  backend says who is asked for the name resolved now.
	 */
	const struct zone	*zone;		/* its route; NULL: default */
	enum query_backend	 backend;
	const struct zone	*zone_log;	/* first zone involved (log) */
	int			 fallback;	/* a fallback was taken (log) */
	int			 visit_fallback; /* ... in this zone visit */
	int			 prev_raw;	/* prev is the default backend's
						   own answer, not joined */
	int			 hops;		/* CNAME hops into zones */
	int			 local;		/* the answer is a local zone's
						   own (AA, not cached) */
	uint8_t			 hop_name[DNS_MAX_NAME];
	size_t			 hop_len;	/* 0: no hop */
	uint8_t			*prev;
	size_t			 prev_len;

	/* The cache: "hit", "miss", "stale" for the log; NULL: not asked. */
	const char		*cache;
	int			 stale;		/* answered from an expired entry */

	struct fwd		 fwd;		/* upstream state while held */
};

TAILQ_HEAD(query_list, query);

/*
 * The name whose answer the client gets: the question's, or a CNAME
 * override's target.  Its answer is what the cache keeps.
 */
static inline const uint8_t *
query_base_name(const struct query *q, size_t *len)
{
	*len = q->chase ? q->chase_len : q->q.namelen;
	return q->chase ? q->chase_name : q->q.name;
}

/* The name asked upstream now: the base name, or a hop's target. */
static inline const uint8_t *
query_upstream_name(const struct query *q, size_t *len)
{
	if (q->hop_len > 0) {
		*len = q->hop_len;
		return q->hop_name;
	}
	return query_base_name(q, len);
}

/* CNAME hops into zones per query; CNAMEs followed per answer. */
#define QUERY_MAX_HOPS		4
#define QUERY_MAX_CHAIN		16

enum query_stage {
	QUERY_NEXT = 0,		/* go on to the next stage */
	QUERY_POLICY,		/* end with the policy's answer (q->pres) */
	QUERY_REPLY,		/* end with the error reply in the verdict */
	QUERY_DROP,		/* end without a reply */
	QUERY_RESOLVE		/* hand to the forwarder */
};

/*
 * Addresses of one answer checked by answer rules: a message of at most
 * 65535 bytes holds fewer A/AAAA records than this (an A record takes 16
 * bytes with a compressed owner).
 */
#define QUERY_MAX_ADDRS		((DNS_MAX_UDP - DNS_HDR_LEN) / 16 + 1)

struct query_verdict {
	int		 rcode;		/* QUERY_REPLY: rcode (may be > 15) */
	int		 ede;		/* RFC 8914 info-code, -1 for none */
	const char	*reason;	/* static text for the log */
	enum dlog_action action;
};

/*
 * Run the request stages on pkt[0..len) (q's transport fields and q->w set)
 * and say how the query ends.  Fills q's request fields (id, flags,
 * question, edns, udp_limit) as far as the stages got.  Sends nothing:
 * query_receive() acts on the verdict.  Exposed for unit tests.
 */
enum query_stage query_check(struct query *q, const uint8_t *pkt,
	    size_t len, struct query_verdict *v);

/*
 * Handle one received message pkt[0..len).  q is the worker's scratch
 * query with the transport fields (client, udp_fd/dst or conn, times)
 * already filled in.  Ends in query_end() synchronously, or holds a copy
 * of q for the forwarder, which ends it later.
 */
void	query_receive(struct query *q, const uint8_t *pkt, size_t len);

/*
 * q must be resolved (its question, or a CNAME override's target): answer
 * it from the cache, or hold it (if it is the scratch query) and hand it to
 * the forwarder.
 */
void	query_resolve(struct query *q);

/*
 * The forwarder has a validated upstream reply resp[0..len) (ID, question
 * and structure checked; edns describes its OPT).  Store it in the cache,
 * then answer with it (query_answer()).
 */
void	query_resolved(struct query *q, uint8_t *resp, size_t len,
	    const struct wire_edns *edns);

/*
 * Every upstream failed: answer from an expired cache entry when
 * serve-stale allows one, else SERVFAIL.
 */
void	query_unresolved(struct query *q);

/*
 * Answer q with the reply resp[0..len) (from an upstream or the cache;
 * edns describes its OPT): check its CNAME/DNAME targets against the
 * policy, rewrite it for the client (ID, flags, question case, OPT,
 * truncation) and end the query.  resp may be modified.
 */
void	query_answer(struct query *q, uint8_t *resp, size_t len,
	    const struct wire_edns *edns);

/*
 * End q with an error reply built here (rcode, with an Extended DNS Error
 * when the client sent EDNS and ede >= 0), or with no reply at all when
 * rcode is -1.  reason is static text for the log.
 */
void	query_fail(struct query *q, int rcode, int ede, const char *reason);
/* The same with the EDE's extra text (RFC 8914 EXTRA-TEXT). */
void	query_fail_text(struct query *q, int rcode, int ede, const char *text,
	    const char *reason);

/*
 * Build a reply carrying only header, question and (if the client sent
 * EDNS) an OPT with an optional EDE option.  Returns its length, or 0 if
 * out is too small.  Exposed for unit tests.
 */
size_t	query_build_error(const struct query *q, int rcode, int ede,
	    uint16_t edns_size, uint8_t *out, size_t outsz);

/*
 * Reply building blocks.  query_put_header() writes the header of a reply
 * to q (ID, opcode, RD, CD, RA, rcode & 0xf) and its question; returns the
 * offset after them, 0 if out is too small.  query_put_opt() appends an
 * OPT (our size, the client's DO, the extended rcode) with an EDE option
 * when ede >= 0 (text may be NULL); returns the new offset, 0 if no room.
 * The caller sets ARCOUNT.
 */
size_t	query_put_header(const struct query *q, int rcode, uint8_t *out,
	    size_t outsz);
size_t	query_put_opt(const struct query *q, uint8_t ext_rcode,
	    uint16_t edns_size, int ede, const char *text, uint8_t *out,
	    size_t n, size_t outsz);

/*
 * Rewrite an upstream reply for the client into out.  Returns the length,
 * or 0 if the reply cannot be rewritten.  Exposed for unit tests.
 */
size_t	query_rewrite(const struct query *q, const uint8_t *resp, size_t len,
	    const struct wire_edns *edns, uint16_t edns_size, uint8_t *out,
	    size_t outsz);

#endif /* DNSWARD_QUERY_H */
