/*
 * policy.h -- the query policy: a table of small stages, each returning a
 * verdict.
 *
 * A stage looks at the question (and the client) and either passes
 * (POLICY_NEXT) or decides.  The first stage that decides ends evaluation;
 * the last stage is the configured default.  New checks (feeds, TLDs,
 * qtypes, tunneling and DGA scores, rate limits) are new rows of the table,
 * so the data path does not change shape as they arrive.
 *
 * A struct policy is built from configuration, is immutable afterwards and
 * is shared read-only by all workers.
 */
#ifndef DNSWARD_POLICY_H
#define DNSWARD_POLICY_H

#include <sys/socket.h>
#include <stdint.h>

#include "dlog.h"

struct config;
struct policy;

enum policy_verdict {
	POLICY_NEXT = 0,	/* no opinion: ask the next stage */
	POLICY_ALLOW,		/* resolve it */
	POLICY_BLOCK		/* answer by policy (issue 3 adds responses) */
};

/* What the policy sees of a query: lower-cased name, type, class, client. */
struct policy_query {
	const uint8_t		*name;		/* wire form, lower case */
	size_t			 namelen;
	uint16_t		 qtype;
	uint16_t		 qclass;
	const struct sockaddr	*client;
};

/* What it decided, for the reply and the decision record. */
struct policy_result {
	enum policy_verdict	 verdict;
	enum dlog_action	 action;
	const char		*reason;	/* static text */
};

/* Build the policy of a validated configuration; NULL when out of memory. */
struct policy	*policy_new(const struct config *);

/* Run the stages in order; always sets *res (the default decides last). */
void		 policy_check(const struct policy *, const struct policy_query *,
		    struct policy_result *res);

/* Free; accepts NULL. */
void		 policy_free(struct policy *);

#endif /* DNSWARD_POLICY_H */
