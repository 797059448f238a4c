/*
 * policy.h -- the query policy: a table of small stages, each returning a
 * verdict.
 *
 * The stages run in order and the first that decides ends evaluation:
 *   groups   the operator's rule groups (Route 53 DNS Firewall model):
 *            groups by priority, each optionally scoped to client networks;
 *            rules by priority inside a group; a rule's conditions (feed,
 *            tld, qtype) are ANDed; allow and block stop, alert logs and
 *            goes on.
 *   default  policy.default: allow, or block (walled garden).
 * New checks (tunneling and DGA scores, rate limits) are new rows of the
 * table, so the data path keeps its shape as they arrive.
 *
 * The same rules are asked again for every name an upstream answer
 * redirects to (CNAME/DNAME targets, POLICY_REDIRECT): there only rules
 * with a name condition (feed or tld) and without `redirection: trust`
 * take part, and the default does not apply.
 *
 * Rules with an answer condition (answer-ip) cannot decide before there
 * is an answer: the query phase passes over them, and they are asked once
 * more with the final answer's addresses (POLICY_ANSWER), their other
 * conditions applying to the query name; only answer rules ranked before
 * the rule that decided the query phase take part (a higher-ranked allow
 * stands), and the default does not apply.
 *
 * A struct policy is built from a validated configuration (it keeps
 * pointers into it, so the configuration must outlive it), holds the loaded
 * feeds, is immutable afterwards and is shared read-only by all workers.
 */
#ifndef DNSWARD_POLICY_H
#define DNSWARD_POLICY_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "dlog.h"
#include "feed.h"

struct policy;

enum policy_verdict {
	POLICY_NEXT = 0,	/* no opinion: ask the next stage */
	POLICY_ALLOW,		/* resolve it */
	POLICY_BLOCK		/* answer by policy (see response) */
};

enum policy_phase {
	POLICY_QUERY = 0,	/* the question's name */
	POLICY_REDIRECT,	/* a CNAME/DNAME target in an answer */
	POLICY_ANSWER		/* the addresses of the final answer */
};

/* An address of an answer (A: 4 bytes of a, AAAA: 16). */
struct policy_addr {
	int			 af;
	uint8_t			 a[16];
};

/* Rule positions: where the query phase decided (POLICY_POS_END: the default). */
#define POLICY_POS_END		UINT32_MAX

/*
 * What the policy sees: lower-cased wire name, type, client; for
 * POLICY_ANSWER also the answer's addresses and the position of the rule
 * that decided the query phase (answer rules after it do not apply).
 */
struct policy_query {
	const uint8_t		*name;
	size_t			 namelen;
	uint16_t		 qtype;
	const struct sockaddr	*client;
	enum policy_phase	 phase;
	const struct policy_addr *addrs;
	size_t			 naddrs;
	uint32_t		 stop;
};

/* What it decided, for the reply and the decision record. */
struct policy_result {
	enum policy_verdict	 verdict;
	enum dlog_action	 action;	/* ALLOW, BLOCK or ALERT */
	const char		*reason;	/* feed, tld, qtype, default */
	const char		*group;		/* NULL when no rule decided */
	const char		*rule;
	const char		*feed;		/* feed id when a feed matched */
	size_t			 matched_off;	/* matched entry: name + off */
	uint32_t		 line;		/* feed line, when tracked */
	uint32_t		 pos;		/* of the deciding rule */

	/* POLICY_ANSWER: the address that matched, and the prefix. */
	int			 addr_af;	/* 0: none */
	uint8_t			 addr[16];
	int			 prefix_af;	/* answer-ip only */
	uint8_t			 prefix[16];
	unsigned		 plen;
	char			 country[3];	/* of addr: "GB", "??" unknown,
						   "" without a country-db */
	uint32_t		 asn;		/* of addr; 0: unknown / none */

	/* For POLICY_BLOCK: */
	enum block_response	 response;	/* never RESP_AUTO */
	const struct config_override *override;	/* RESP_OVERRIDE (config) */
	const struct feed_rr	*rrs;		/* RESP_OVERRIDE (rpz data) */
	size_t			 nrrs;
	int			 ede;		/* RFC 8914 info-code */
	uint32_t		 ttl;		/* negative answers' SOA */
};

/* Called by policy_new() for each feed loaded (for -t and the log). */
typedef void (*policy_feed_fn)(void *arg, const struct config_feed *,
    const struct feed_stats *);

/*
 * Build the policy of a validated configuration: load every feed, order
 * groups and rules by priority.  track_lines keeps feed line numbers (for
 * --explain).  Bad feed lines are reported through report (see feed.h);
 * per-feed counts through feed_cb (may be NULL).  Returns NULL with a
 * message in err when a feed cannot be read or memory runs out.
 */
struct policy	*policy_new(const struct config *, int track_lines,
		    feed_report_fn report, policy_feed_fn feed_cb, void *arg,
		    char *err, size_t errsz);

/* Called when a feed version is refused (shrink guard, unreadable on a
 * refresh): the previous version stays. */
typedef void (*policy_refuse_fn)(void *arg, const struct config_feed *);

/*
 * How to build a policy (policy_build()).  prev is the policy in force on
 * a reload (NULL at start).  A feed whose configuration (id, path, format,
 * match) is unchanged is then read again -- every one on a reload (check
 * NULL), only those flagged in check on a feed refresh (the others are
 * shared with prev) -- and a version read again that lost more than the
 * feed's max-shrink share of prev's entries is refused (unless force):
 * prev's version is kept, shared, and the refusal reported ("FILE:LINE:COL:
 * feed 'x': PATH: refused: ...") and passed to refused.  On a refresh a
 * feed file that cannot be read keeps prev's version likewise; on a reload
 * it fails the build.  *loaded (when not NULL) counts the feeds read and
 * taken.
 */
struct policy_build {
	int			 track_lines;
	feed_report_fn		 report;	/* bad lines, refusals */
	policy_feed_fn		 feed_cb;	/* each feed read and taken */
	policy_refuse_fn	 refused;
	void			*arg;
	const struct policy	*prev;
	const unsigned char	*check;		/* refresh: the feeds to read
						   again, by config index */
	int			 force;
	size_t			*loaded;
};

struct policy	*policy_build(const struct config *,
		    const struct policy_build *, char *err, size_t errsz);

/* The feeds, in configuration order (for status and refresh checks). */
size_t		 policy_nfeeds(const struct policy *);
const struct feed *policy_feed_at(const struct policy *, size_t i);

/* Geo lookups that failed (counted, and logged now and then). */
uint64_t	 policy_geo_errors(const struct policy *);

/* Has the policy rules that look at answer addresses (answer-ip, -country,
 * -asn)? */
int		 policy_has_answer_rules(const struct policy *);

/* Run the stages in order; always sets *res. */
void		 policy_check(const struct policy *, const struct policy_query *,
		    struct policy_result *res);

/*
 * Like policy_check() for POLICY_QUERY, printing to out every group and
 * rule evaluated, which matched and why (feed id and feed line, TLD,
 * qtype), and the verdict.  For operators: dnsward --explain.
 */
void		 policy_explain(const struct policy *,
		    const struct policy_query *, FILE *out,
		    struct policy_result *res);

/* Free, with the feeds; accepts NULL. */
void		 policy_free(struct policy *);

#endif /* DNSWARD_POLICY_H */
