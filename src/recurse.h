/*
 * recurse.h -- full recursion with DNSSEC validation through libunbound,
 * driven on the worker's own libevent base (ub_ctx_create_event), so no
 * worker ever blocks and no extra thread runs.
 *
 * Each worker has its own context (its own libunbound cache).  The
 * context takes the root hints and trust anchors of the configuration
 * (Debian's dns-root-data files by default), validates unless
 * resolver.dnssec is off, and minimises QNAMEs unless told not to.
 *
 * A resolved answer goes on like a forwarded one (query_resolved()): the
 * same response policy, the cache, the decision log (upstream
 * "recursion").  Its AD bit is set when libunbound found it secure and
 * cleared otherwise; a bogus answer becomes SERVFAIL with Extended DNS
 * Error 6 (DNSSEC Bogus) carrying libunbound's reason.
 */
#ifndef DNSWARD_RECURSE_H
#define DNSWARD_RECURSE_H

#include <stddef.h>

/*
 * The longest a client waits on a recursion: libunbound's own retries can
 * take minutes against dead servers; past this the query ends with
 * SERVFAIL (or a stale answer), like a forward that ran out of upstreams.
 */
#define REC_DEADLINE_MS		10000

struct config;
struct event_base;
struct query;
struct recursor;

/*
 * A recursor on base for cfg (mode recurse).  NULL with "resolver...:
 * why" in err when an option or a file is refused.
 */
struct recursor	*rec_new(struct event_base *, const struct config *,
		    char *err, size_t errsz);

/* Free, cancelling what is in flight (no callback runs); accepts NULL. */
void		 rec_free(struct recursor *);

/*
 * Resolve q (held, not the worker's scratch query).  It ends later
 * through query_resolved() or query_fail().
 */
void		 rec_start(struct query *q);

/* Cancel q's resolution, if any (no callback will run for it). */
void		 rec_cancel(struct query *q);

/* Check the recursion settings of cfg (files readable, values valid) for
 * dnsward -t: 0, or -1 with the message in err. */
int		 rec_check(const struct config *, char *err, size_t errsz);

#endif /* DNSWARD_RECURSE_H */
