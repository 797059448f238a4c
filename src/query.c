/*
 * query.c -- request stages, reply construction, one decision per query.
 * See query.h.
 */
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "acl.h"
#include "cache.h"
#include "dlog.h"
#include "forward.h"
#include "policy.h"
#include "query.h"
#include "recurse.h"
#include "respond.h"
#include "server.h"
#include "wire.h"
#include "zone.h"

/* RFC 8914 info-codes used here. */
#define EDE_STALE		3
#define EDE_STALE_NXDOMAIN	19
#define EDE_BLOCKED		15
#define EDE_PROHIBITED		18
#define EDE_NO_REACHABLE	22

static int	query_stale(struct query *);
static void	query_routed(struct query *, uint8_t *, size_t,
		    const struct wire_edns *);

typedef enum query_stage (*stage_fn)(struct query *, const uint8_t *,
    size_t, struct query_verdict *);

static enum query_stage
reply(struct query_verdict *v, int rcode, int ede, const char *reason)
{
	v->rcode = rcode;
	v->ede = ede;
	v->reason = reason;
	return QUERY_REPLY;
}

/* Too short to be a DNS message, or not a query: nothing to answer. */
static enum query_stage
stage_header(struct query *q, const uint8_t *pkt, size_t len,
    struct query_verdict *v)
{
	if (len < DNS_HDR_LEN) {
		v->reason = "malformed";
		return QUERY_DROP;
	}
	q->id = DNS_ID(pkt);
	q->opcode = DNS_OPCODE(pkt);
	q->rd = DNS_RD(pkt);
	q->cd = DNS_CD(pkt);
	q->ad = DNS_AD(pkt);
	if (DNS_QR(pkt)) {
		/* Answering responses would let anyone loop us. */
		v->reason = "response";
		return QUERY_DROP;
	}
	/*
	 * Parse the question and the OPT early so that every reply, even an
	 * early REFUSED or NOTIMP, can echo them (RFC 6891 7: an OPT in the
	 * request asks for one in the reply).
	 */
	if (DNS_QDCOUNT(pkt) == 1 && wire_question(pkt, len, &q->q) == 0) {
		q->has_question = 1;
		if (wire_scan(pkt, len, q->q.end, &q->edns) == -1) {
			memset(&q->edns, 0, sizeof(q->edns));
			q->bad_sections = 1;
		}
	}
	return QUERY_NEXT;
}

static enum query_stage
stage_acl(struct query *q, const uint8_t *pkt, size_t len, struct query_verdict *v)
{
	if (acl_match(q->gen->cfg->allow_clients,
	    (struct sockaddr *)&q->client))
		return QUERY_NEXT;
	v->action = DLOG_ACTION_BLOCK;
	return reply(v, DNS_RCODE_REFUSED, EDE_PROHIBITED, "acl");
}

static enum query_stage
stage_opcode(struct query *q, const uint8_t *pkt, size_t len,
    struct query_verdict *v)
{
	if (q->opcode != DNS_OPCODE_QUERY)
		return reply(v, DNS_RCODE_NOTIMP, -1, "notimp");
	return QUERY_NEXT;
}

static enum query_stage
stage_question(struct query *q, const uint8_t *pkt, size_t len,
    struct query_verdict *v)
{
	if (DNS_QDCOUNT(pkt) != 1 || !q->has_question)
		return reply(v, DNS_RCODE_FORMERR, -1, "formerr");
	if (DNS_ANCOUNT(pkt) != 0 || DNS_NSCOUNT(pkt) != 0)
		return reply(v, DNS_RCODE_FORMERR, -1, "formerr");
	return QUERY_NEXT;
}

/* Every record must parse, at most one OPT, no trailing bytes. */
static enum query_stage
stage_sections(struct query *q, const uint8_t *pkt, size_t len,
    struct query_verdict *v)
{
	if (q->bad_sections)
		return reply(v, DNS_RCODE_FORMERR, -1, "formerr");
	return QUERY_NEXT;
}

/* RFC 6891: version > 0 gets BADVERS; sizes below 512 count as 512. */
static enum query_stage
stage_edns(struct query *q, const uint8_t *pkt, size_t len,
    struct query_verdict *v)
{
	uint16_t	 ours = q->gen->cfg->edns_buffer_size;

	if (!q->edns.present) {
		q->udp_limit = 512;
		return QUERY_NEXT;
	}
	q->udp_limit = q->edns.udp_size < 512 ? 512 : q->edns.udp_size;
	if (q->udp_limit > ours)
		q->udp_limit = ours;
	if (q->edns.version > 0)
		return reply(v, DNS_RCODE_BADVERS, -1, "badvers");
	return QUERY_NEXT;
}

static enum query_stage
stage_qtype(struct query *q, const uint8_t *pkt, size_t len,
    struct query_verdict *v)
{
	/* Zone transfers are not forwarded; OPT is not a question type. */
	if (q->q.qtype == DNS_TYPE_AXFR || q->q.qtype == DNS_TYPE_IXFR)
		return reply(v, DNS_RCODE_REFUSED, -1, "xfr");
	if (q->q.qtype == DNS_TYPE_OPT)
		return reply(v, DNS_RCODE_FORMERR, -1, "formerr");
	if (q->q.qclass != DNS_CLASS_IN)
		return reply(v, DNS_RCODE_REFUSED, -1, "class");
	return QUERY_NEXT;
}

/* Keep the policy's decision and the name it matched for reply and log. */
static void
query_keep_decision(struct query *q, const struct policy_result *res,
    const uint8_t *name, size_t namelen)
{
	q->has_pres = 1;
	q->pres = *res;
	q->action = res->action;
	q->reason = res->reason;
	/*
	 * matched_name in the log is the name that was checked (the query
	 * name or a CNAME target of its answer); the feed entry that matched
	 * it starts at pres.matched_off and owns the SOA of negative answers.
	 * Only rule decisions and blocks use it: the default allow, most of
	 * the traffic, copies nothing.
	 */
	if (res->rule == NULL && res->verdict != POLICY_BLOCK) {
		q->matchedlen = 0;
		return;
	}
	memcpy(q->matched, name, namelen);
	q->matchedlen = namelen;
	if (q->pres.matched_off >= namelen)
		q->pres.matched_off = 0;
}

static enum query_stage
stage_policy(struct query *q, const uint8_t *pkt, size_t len,
    struct query_verdict *v)
{
	struct policy_query	 pq;
	struct policy_result	 res;
	uint8_t			*lname = q->lname;

	/* Once per query: the cache key and the answer rules use it too. */
	memcpy(lname, q->q.name, q->q.namelen);
	wire_name_lower(lname, q->q.namelen);
	pq.name = lname;
	pq.namelen = q->q.namelen;
	pq.qtype = q->q.qtype;
	pq.client = (struct sockaddr *)&q->client;
	pq.phase = POLICY_QUERY;
	policy_check(q->gen->policy, &pq, &res);
	query_keep_decision(q, &res, lname, q->q.namelen);
	if (res.verdict != POLICY_BLOCK)
		return QUERY_RESOLVE;
	if (respond_cname_target(&res, q->chase_name, &q->chase_len,
	    &q->chase_ttl)) {
		/* RPZ-style CNAME local data: resolve the target instead. */
		q->chase = 1;
		return QUERY_RESOLVE;
	}
	return QUERY_POLICY;
}

/* The fixed order of checks every request goes through. */
static const struct {
	const char	*name;
	stage_fn	 run;
} request_stages[] = {
	{ "header",	stage_header },
	{ "acl",	stage_acl },
	{ "opcode",	stage_opcode },
	{ "question",	stage_question },
	{ "sections",	stage_sections },
	{ "edns",	stage_edns },
	{ "qtype",	stage_qtype },
	{ "policy",	stage_policy },
};

size_t
query_put_opt(const struct query *q, uint8_t ext_rcode, uint16_t edns_size,
    int ede, const char *text, uint8_t *out, size_t n, size_t outsz)
{
	size_t	 tlen = text != NULL ? strlen(text) : 0;
	size_t	 rdlen = ede >= 0 ? 6 + tlen : 0;

	if (n + WIRE_OPT_LEN + rdlen > outsz || rdlen > UINT16_MAX - 4)
		return 0;
	wire_put_opt(out, n, edns_size, ext_rcode, q->edns.do_bit,
	    (uint16_t)rdlen);
	n += WIRE_OPT_LEN;
	if (ede >= 0) {
		wire_put16(out + n, EDNS_OPT_EDE);
		wire_put16(out + n + 2, (uint16_t)(2 + tlen));
		wire_put16(out + n + 4, (uint16_t)ede);
		if (tlen > 0)
			memcpy(out + n + 6, text, tlen);
	}
	return n + rdlen;
}

size_t
query_put_header(const struct query *q, int rcode, uint8_t *out,
    size_t outsz)
{
	size_t	 n = DNS_HDR_LEN;

	if (outsz < DNS_HDR_LEN + 4 + DNS_MAX_NAME)
		return 0;
	memset(out, 0, DNS_HDR_LEN);
	wire_put16(out, q->id);
	out[2] = 0x80 | (uint8_t)(q->opcode << 3) | q->rd;
	out[3] = 0x80 | (q->cd ? 0x10 : 0) | (uint8_t)(rcode & 0xf);
	if (q->has_question) {
		wire_put16(out + 4, 1);
		n = wire_put_question(out, n, q->q.name, q->q.namelen,
		    q->q.qtype, q->q.qclass);
	}
	return n;
}

/* query_build_error() with the EDE's extra text (NULL: none). */
static size_t
query_build_error_text(const struct query *q, int rcode, int ede,
    const char *text, uint16_t edns_size, uint8_t *out, size_t outsz)
{
	size_t	 n;

	if ((n = query_put_header(q, rcode, out, outsz)) == 0)
		return 0;
	if (!q->edns.present)
		return n;
	wire_put16(out + 10, 1);
	return query_put_opt(q, (uint8_t)(rcode >> 4), edns_size, ede, text, out,
	    n, outsz);
}

size_t
query_build_error(const struct query *q, int rcode, int ede,
    uint16_t edns_size, uint8_t *out, size_t outsz)
{
	return query_build_error_text(q, rcode, ede, NULL, edns_size, out,
	    outsz);
}

/* Copy the upstream's EDE options (RFC 8914 lets them travel on). */
static size_t
copy_ede(const uint8_t *resp, const struct wire_edns *e, uint8_t *out,
    size_t n, size_t outsz)
{
	size_t	 p = e->opt_start, end = e->opt_start + e->opt_len, added = 0;

	while (end - p >= 4) {
		uint16_t code = wire_get16(resp + p), olen = wire_get16(resp + p + 2);

		if (olen > end - p - 4)
			break;
		if (code == EDNS_OPT_EDE && n + added + 4 + olen <= outsz) {
			memcpy(out + n + added, resp + p, (size_t)olen + 4);
			added += (size_t)olen + 4;
		}
		p += (size_t)olen + 4;
	}
	return added;
}

/*
 * Records after the question, without the upstream's OPT.  Removing the
 * OPT shifts what follows it, which would break compression pointers into
 * those bytes, so when the OPT is not the last record the reply is refused
 * here and the caller answers SERVFAIL; every server we know puts it last.
 */
static size_t
copy_records(const uint8_t *resp, size_t len, size_t qend,
    const struct wire_edns *e, uint8_t *out, size_t n, size_t outsz)
{
	size_t	 body = (e->present ? e->rr_start : len) - qend;

	if (e->present && e->rr_end != len)
		return 0;
	if (n + body > outsz)
		return 0;
	memcpy(out + n, resp + qend, body);
	return n + body;
}

size_t
query_rewrite(const struct query *q, const uint8_t *resp, size_t len,
    const struct wire_edns *e, uint16_t edns_size, uint8_t *out, size_t outsz)
{
	struct wire_question	 uq;
	size_t			 n, optpos;
	uint16_t		 arcount;

	/*
	 * The client's question replaces the upstream's byte for byte, so the
	 * upstream's must be uncompressed and as long, or every compression
	 * pointer into the records after it would be off.
	 */
	if (wire_question(resp, len, &uq) == -1 ||
	    uq.namelen != q->q.namelen ||
	    uq.end != DNS_HDR_LEN + uq.namelen + 4)
		return 0;
	if ((n = query_put_header(q, DNS_RCODE(resp), out, outsz)) == 0)
		return 0;
	/*
	 * The client's ID, RD, CD and name case; RA set (we recurse for it);
	 * AA cleared (a forwarded answer is not authoritative) unless a local
	 * zone made it; AD as the upstream said.
	 */
	out[3] |= resp[3] & 0x20;
	if (q->local)
		out[2] |= resp[2] & 0x04;	/* a local zone's own: AA */
	if (!q->edns.do_bit && !q->ad)
		out[3] &= ~0x20;		/* RFC 6840 5.8 */
	memcpy(out + 6, resp + 6, 6);		/* AN, NS, AR counts */
	if ((n = copy_records(resp, len, uq.end, e, out, n, outsz)) == 0)
		return 0;
	arcount = DNS_ARCOUNT(resp) - (e->present ? 1 : 0);
	if (q->edns.present) {
		optpos = n;
		if ((n = query_put_opt(q, e->ext_rcode, edns_size, -1, NULL, out,
		    n, outsz)) == 0)
			return 0;
		if (e->present)
			n += copy_ede(resp, e, out, n, outsz);
		if (q->stale && n + 6 <= outsz) {
			/* RFC 8767 / RFC 8914: say the answer is stale. */
			wire_put16(out + n, EDNS_OPT_EDE);
			wire_put16(out + n + 2, 2);
			wire_put16(out + n + 4, DNS_RCODE(resp) ==
			    DNS_RCODE_NXDOMAIN ? EDE_STALE_NXDOMAIN : EDE_STALE);
			n += 6;
		}
		wire_put16(out + optpos + 9, (uint16_t)(n - optpos - WIRE_OPT_LEN));
		arcount++;
	} else if (e->present && e->ext_rcode != 0) {
		/* An extended rcode cannot be told without EDNS. */
		return 0;
	}
	wire_put16(out + 10, arcount);
	return n;
}

static void
fill_record(const struct query *q, struct dlog_rec *r)
{
	struct timespec	 now;
	int64_t		 us;

	memset(r, 0, sizeof(*r));
	r->ts = q->t_real;
	memcpy(&r->src, &q->client, sizeof(r->src));
	r->transport = q->transport;
	r->worker = (int)q->w->id;
	if (q->has_question) {
		memcpy(r->qname, q->q.name, q->q.namelen);
		r->qname_len = (uint8_t)q->q.namelen;
		r->qtype = q->q.qtype;
		r->qclass = q->q.qclass;
	}
	r->rcode = q->rcode;
	r->action = q->action;
	r->reason = q->reason;
	r->cache = q->cache;
	if (q->has_pres && q->pres.rule != NULL) {
		snprintf(r->group, sizeof(r->group), "%s", q->pres.group);
		snprintf(r->rule, sizeof(r->rule), "%s", q->pres.rule);
		if (q->pres.feed != NULL)
			snprintf(r->feed, sizeof(r->feed), "%s", q->pres.feed);
		memcpy(r->matched, q->matched, q->matchedlen);
		r->matched_len = (uint8_t)q->matchedlen;
		if (q->pres.addr_af != 0) {
			r->answer_af = q->pres.addr_af;
			memcpy(r->answer_addr, q->pres.addr,
			    sizeof(r->answer_addr));
			r->prefix_af = q->pres.prefix_af;
			memcpy(r->prefix, q->pres.prefix, sizeof(r->prefix));
			r->plen = (uint8_t)q->pres.plen;
			memcpy(r->answer_country, q->pres.country, 3);
			r->answer_asn = q->pres.asn;
		}
	}
	r->recursion = q->recursion;
	r->fallback = q->fallback;
	if (q->zone_log != NULL) {
		const struct config_zone *zc = zone_config(q->zone_log);

		memcpy(r->zone, zc->wire, zc->wirelen);
		r->zone_len = (uint8_t)zc->wirelen;
	}
	if (q->fwd.last_up >= 0) {
		r->has_upstream = 1;
		r->upstream = q->fwd.ups[q->fwd.last_up].addr;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - q->t_mono.tv_sec) * 1000000 +
	    (now.tv_nsec - q->t_mono.tv_nsec) / 1000;
	r->latency_us = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* The one exit: send (or not), record the decision, release. */
static void
query_end(struct query *q, const uint8_t *pkt, size_t len)
{
	struct dlog_rec	 r;
	struct daemon	*d = q->w->d;

	struct stats_counters *st = &q->w->stats;

	free(q->prev);
	q->prev = NULL;
	if (pkt != NULL && len > 0)
		server_send(q, pkt, len);
	else
		q->rcode = -1;
	STATS_INC(st->transport[q->transport == DLOG_TCP]);
	if (q->has_question)
		STATS_INC(st->qtype[stats_qtype_index(q->q.qtype)]);
	STATS_INC(st->decision[q->action < STATS_ACTIONS ? q->action : 0]
	    [stats_reason_index(q->reason)]);
	STATS_INC(st->rcode[stats_rcode_index(q->rcode)]);
	if (d->dlog != NULL) {
		fill_record(q, &r);
		dlog_submit(d->dlog, q->w->id, &r, pkt, len);
	}
	server_release(q);
}

void
query_fail_text(struct query *q, int rcode, int ede, const char *text,
    const char *reason)
{
	size_t	 n = 0;

	q->reason = reason;
	q->rcode = rcode;
	if (rcode >= 0)
		n = query_build_error_text(q, rcode, ede, text,
		    q->gen->cfg->edns_buffer_size, q->w->sbuf, DNS_MAX_UDP);
	query_end(q, n > 0 ? q->w->sbuf : NULL, n);
}

void
query_fail(struct query *q, int rcode, int ede, const char *reason)
{
	query_fail_text(q, rcode, ede, NULL, reason);
}

/* Over UDP, a reply larger than the client can take is cut to TC=1. */
static size_t
truncate_udp(const struct query *q, uint8_t *out, size_t n)
{
	size_t	 m;

	if (q->transport != DLOG_UDP || n <= q->udp_limit)
		return n;
	/* q->rcode keeps an upstream extended rcode for the new OPT. */
	m = query_build_error(q, q->rcode,
	    q->has_pres && q->pres.verdict == POLICY_BLOCK ? q->pres.ede : -1,
	    q->gen->cfg->edns_buffer_size, out, DNS_MAX_UDP);
	out[2] |= 0x02;				/* TC */
	return m;
}

/* End q with the policy's answer (or silence, for drop). */
static void
query_policy_answer(struct query *q)
{
	struct worker	*w = q->w;
	size_t		 n;

	n = respond_block(q, &q->pres, q->matched + q->pres.matched_off,
	    q->matchedlen - q->pres.matched_off,
	    q->gen->cfg->edns_buffer_size, w->sbuf, DNS_MAX_UDP);
	q->rcode = n > 0 ? DNS_RCODE(w->sbuf) : -1;
	n = n > 0 ? truncate_udp(q, w->sbuf, n) : 0;
	query_end(q, n > 0 ? w->sbuf : NULL, n);
}

/*
 * Redirection: ask the policy about every CNAME/DNAME target of the
 * answer.  Returns 1 (and keeps the decision) when one of them is blocked.
 */
static int
query_inspect(struct query *q, const uint8_t *resp, size_t len, size_t qend)
{
	struct policy_query	 pq;
	struct policy_result	 res;
	uint8_t			 target[DNS_MAX_NAME];
	size_t			 p = qend, rdpos, tlen;
	unsigned		 i;

	pq.qtype = q->q.qtype;
	pq.client = (struct sockaddr *)&q->client;
	pq.phase = POLICY_REDIRECT;
	for (i = 0; i < DNS_ANCOUNT(resp); i++) {
		uint16_t type, rdlen;
		size_t	 tp;

		if (wire_skip_rr(resp, len, &p, &type, &rdpos, &rdlen) == -1)
			return 0;	/* checked by fwd_accept(); not reached */
		if (type != DNS_TYPE_CNAME && type != DNS_TYPE_DNAME)
			continue;
		tp = rdpos;
		if (wire_read_name(resp, len, &tp, target, &tlen) == -1)
			continue;
		wire_name_lower(target, tlen);
		pq.name = target;
		pq.namelen = tlen;
		policy_check(q->gen->policy, &pq, &res);
		if (res.verdict == POLICY_BLOCK) {
			query_keep_decision(q, &res, target, tlen);
			return 1;
		}
	}
	return 0;
}


/*
 * Answer rules (answer-ip): every A and AAAA record of the answer section
 * -- the addresses the name finally resolves to, after any CNAME chain --
 * against the rules that look at addresses.  Returns 1 (and keeps the
 * decision) when one blocks; an allow or alert by such a rule is kept for
 * the log when no rule had decided before.
 */
static int
query_inspect_addrs(struct query *q, const uint8_t *resp, size_t len,
    size_t qend)
{
	struct policy_addr	*addrs = q->w->addrs;
	struct policy_query	 pq;
	struct policy_result	 res;
	size_t			 p = qend, rdpos, n = 0;
	unsigned		 i;

	if (!policy_has_answer_rules(q->gen->policy))
		return 0;
	/*
	 * Every address: a 64 KB message holds at most QUERY_MAX_ADDRS
	 * records of 16 bytes, so none is left out (an attacker padding the
	 * answer cannot hide one).
	 */
	for (i = 0; i < DNS_ANCOUNT(resp) && n < QUERY_MAX_ADDRS; i++) {
		uint16_t type, rdlen;

		if (wire_skip_rr(resp, len, &p, &type, &rdpos, &rdlen) == -1)
			return 0;	/* checked by fwd_accept(); not reached */
		if (wire_get16(resp + rdpos - 8) != DNS_CLASS_IN)
			continue;
		if (type == DNS_TYPE_A && rdlen == 4)
			addrs[n].af = AF_INET;
		else if (type == DNS_TYPE_AAAA && rdlen == 16)
			addrs[n].af = AF_INET6;
		else
			continue;
		memset(addrs[n].a, 0, sizeof(addrs[n].a));
		memcpy(addrs[n].a, resp + rdpos, rdlen);
		n++;
	}
	if (n == 0)
		return 0;
	memset(&pq, 0, sizeof(pq));
	pq.name = q->lname;
	pq.namelen = q->q.namelen;
	pq.qtype = q->q.qtype;
	pq.client = (struct sockaddr *)&q->client;
	pq.phase = POLICY_ANSWER;
	pq.addrs = addrs;
	pq.naddrs = n;
	pq.stop = q->has_pres ? q->pres.pos : POLICY_POS_END;
	policy_check(q->gen->policy, &pq, &res);
	if (res.verdict == POLICY_BLOCK) {
		query_keep_decision(q, &res, q->lname, q->q.namelen);
		return 1;
	}
	if (res.rule != NULL && (!q->has_pres || q->pres.rule == NULL))
		query_keep_decision(q, &res, q->lname, q->q.namelen);
	return 0;
}

void
query_answer(struct query *q, uint8_t *resp, size_t len,
    const struct wire_edns *e)
{
	struct worker		*w = q->w;
	struct wire_question	 uq;
	size_t			 n;

	if (q->chase) {
		/*
		 * The override target's own answer is inspected too, but a
		 * second CNAME override is not followed (no loops): it gets
		 * the policy answer (NODATA) instead.
		 */
		if (wire_question(resp, len, &uq) == 0 &&
		    (query_inspect(q, resp, len, uq.end) ||
		    query_inspect_addrs(q, resp, len, uq.end))) {
			query_policy_answer(q);
			return;
		}
		n = respond_chase(q, resp, len, q->gen->cfg->edns_buffer_size,
		    w->sbuf, DNS_MAX_UDP);
	} else {
		if (wire_question(resp, len, &uq) == 0 &&
		    (query_inspect(q, resp, len, uq.end) ||
		    query_inspect_addrs(q, resp, len, uq.end))) {
			if (respond_cname_target(&q->pres, q->chase_name,
			    &q->chase_len, &q->chase_ttl)) {
				/* A CNAME override: resolve its target now. */
				q->chase = 1;
				query_resolve(q);
				return;
			}
			query_policy_answer(q);
			return;
		}
		n = query_rewrite(q, resp, len, e,
		    q->gen->cfg->edns_buffer_size, w->sbuf, DNS_MAX_UDP);
	}
	if (n == 0) {
		query_fail(q, DNS_RCODE_SERVFAIL, -1, "upstream-malformed");
		return;
	}
	/* A chased answer is ours: its OPT carries no extended rcode. */
	q->rcode = DNS_RCODE(w->sbuf) |
	    (q->edns.present && !q->chase ? e->ext_rcode << 4 : 0);
	n = truncate_udp(q, w->sbuf, n);
	query_end(q, w->sbuf, n);
}

/*
 * The cache key of q's answer: the lower-cased query name, or a CNAME
 * override's target lower-cased into name.  A hop's target has no key of
 * its own: the answer composed from it is kept under the base name.
 */
static void
query_cache_key(const struct query *q, struct cache_key *k, uint8_t *name)
{
	const uint8_t	*un;
	size_t		 len;

	un = query_base_name(q, &len);
	if (q->chase) {
		memcpy(name, un, len);
		wire_name_lower(name, len);
		k->name = name;
	} else
		k->name = q->lname;
	k->namelen = len;
	k->qtype = q->q.qtype;
	k->qclass = q->q.qclass;
	k->flags = (q->edns.do_bit ? CACHE_DO : 0) | (q->cd ? CACHE_CD : 0);
}

/* The name resolved now, lower-cased into name; returns its length. */
static size_t
query_upstream_lname(const struct query *q, uint8_t *name)
{
	const uint8_t	*un;
	size_t		 len;

	un = query_upstream_name(q, &len);
	memcpy(name, un, len);
	wire_name_lower(name, len);
	return len;
}

/* The zone the name resolved now belongs to (NULL: the default). */
static const struct zone *
query_find_zone(const struct query *q)
{
	uint8_t		 name[DNS_MAX_NAME];
	size_t		 len;

	if (q->gen->zones == NULL)
		return NULL;
	len = query_upstream_lname(q, name);
	return zones_find(q->gen->zones, name, len);
}

/* Forget a hop's state (the answer so far is freed). */
static void
query_hop_clear(struct query *q)
{
	free(q->prev);
	q->prev = NULL;
	q->prev_len = 0;
	q->prev_raw = 0;
	q->hop_len = 0;
}

/*
 * Ask the backend of the name resolved now (q is held): the forward zone's
 * servers, its fallback servers, or the default (forward upstreams or
 * recursion).
 */
static void
query_ask(struct query *q)
{
	const struct config		*cfg = q->gen->cfg;
	const struct config_zone	*zc;

	zc = q->zone != NULL ? zone_config(q->zone) : NULL;
	if (zc != NULL && q->backend == BACKEND_ZONE)
		fwd_start(q, zc->forward, zc->nforward);
	else if (zc != NULL && q->backend == BACKEND_FALLBACK &&
	    zc->nfallback > 0)
		fwd_start(q, zc->fallback, zc->nfallback);
	else if (cfg->mode == RESOLVER_RECURSE)
		rec_start(q);
	else
		fwd_start(q, cfg->upstreams, cfg->nupstreams);
}

/*
 * Resolve the name resolved now through its zone z (NULL: the default
 * backend): a local zone answers at once, others are asked (q is held
 * first if it is the scratch query).
 */
static void
query_route(struct query *q, const struct zone *z)
{
	struct worker		*w = q->w;
	struct query		*held;
	struct wire_edns	 e;
	const uint8_t		*un;
	size_t			 len, n;

	q->zone = z;
	q->backend = q->zone != NULL ? BACKEND_ZONE : BACKEND_DEFAULT;
	q->visit_fallback = 0;
	if (q->zone != NULL && q->zone_log == NULL)
		q->zone_log = q->zone;
	if (q->zone != NULL && zone_config(q->zone)->kind == ZONE_LOCAL) {
		un = query_upstream_name(q, &len);
		n = zone_local_answer(q->zone, un, len, q->q.qtype,
		    q->q.qclass, w->rbuf, sizeof(w->rbuf) - 1);
		if (n == 0) {
			query_fail(q, DNS_RCODE_SERVFAIL, -1, "local-too-big");
			return;
		}
		memset(&e, 0, sizeof(e));
		query_routed(q, w->rbuf, n, &e);
		return;
	}
	if (q == &w->scratch) {
		if ((held = server_hold(q)) == NULL) {
			query_fail(q, -1, -1, "overload");
			return;
		}
		q = held;
	}
	query_ask(q);
}

void
query_resolve(struct query *q)
{
	struct worker		*w = q->w;
	struct cache_key	 k;
	struct wire_edns	 e;
	uint8_t			 name[DNS_MAX_NAME];
	size_t			 n;

	/* A fresh resolution (a CNAME override's target, say). */
	query_hop_clear(q);
	q->hops = 0;
	if ((q->zone = query_find_zone(q)) != NULL && q->zone_log == NULL)
		q->zone_log = q->zone;
	/* Local zones are answered from the configuration, not the cache. */
	if (q->zone != NULL && zone_config(q->zone)->kind == ZONE_LOCAL) {
		query_route(q, q->zone);
		return;
	}
	if (w->d->cache != NULL) {
		query_cache_key(q, &k, name);
		/* The log tells the query name's lookup, not a chase's. */
		if (cache_lookup(w->d->cache, &k, 0, cache_now(), w->cbuf,
		    sizeof(w->cbuf), &n, &e) == CACHE_HIT) {
			if (q->cache == NULL)
				q->cache = "hit";
			query_answer(q, w->cbuf, n, &e);
			return;
		}
		if (q->cache == NULL)
			q->cache = "miss";
	}
	query_route(q, q->zone);
}

/*
 * Find a record of type (DNS_TYPE_ANY: any) owned by name in resp's answer
 * section; 1 with its RDATA's offset in *rdpos, 0 when there is none.
 */
static int
query_find_rr(const uint8_t *resp, size_t len, size_t qend,
    const uint8_t *name, size_t namelen, uint16_t want, size_t *rdpos)
{
	uint8_t		 owner[DNS_MAX_NAME];
	size_t		 p = qend, op, ownerlen;
	uint16_t	 type, rdlen;
	unsigned	 i;

	for (i = 0; i < DNS_ANCOUNT(resp); i++) {
		op = p;
		if (wire_skip_rr(resp, len, &p, &type, rdpos, &rdlen) == -1)
			return 0;
		if ((type == want || want == DNS_TYPE_ANY) &&
		    wire_read_name(resp, len, &op, owner, &ownerlen) == 0 &&
		    wire_name_equal(owner, ownerlen, name, namelen))
			return 1;
	}
	return 0;
}

/*
 * The target of the CNAME owned by name in resp's answer section into
 * next (lower-cased); 0 when there is none.
 */
static int
query_cname_of(const uint8_t *resp, size_t len, size_t qend,
    const uint8_t *name, size_t namelen, uint8_t *next, size_t *nextlen)
{
	size_t	 rdpos;

	if (!query_find_rr(resp, len, qend, name, namelen, DNS_TYPE_CNAME,
	    &rdpos) || wire_read_name(resp, len, &rdpos, next, nextlen) == -1)
		return 0;
	wire_name_lower(next, *nextlen);
	return 1;
}

/* Does resp's answer section hold a record of type owned by name? */
static int
query_has_rr(const uint8_t *resp, size_t len, size_t qend,
    const uint8_t *name, size_t namelen, uint16_t qtype)
{
	size_t	 rdpos;

	return query_find_rr(resp, len, qend, name, namelen, qtype, &rdpos);
}

/*
 * Does the name resolved now have a record of type (DNS_TYPE_CNAME: an
 * alias) in resp?  A zone that answers with an alias knows the name
 * (RFC 6604: a NXDOMAIN then speaks of the chain's last name); a NODATA
 * is NOERROR with neither a record of the question's type nor an alias.
 */
static int
query_name_has(const struct query *q, const uint8_t *resp, size_t len,
    uint16_t type)
{
	struct wire_question	 uq;
	uint8_t			 name[DNS_MAX_NAME];
	size_t			 namelen, rdpos;

	if (wire_question(resp, len, &uq) == -1)
		return 0;
	namelen = query_upstream_lname(q, name);
	return query_find_rr(resp, len, uq.end, name, namelen, type, &rdpos);
}

static int
query_is_nodata(const struct query *q, const uint8_t *resp, size_t len)
{
	struct wire_question	 uq;

	return DNS_RCODE(resp) == DNS_RCODE_NOERROR &&
	    wire_question(resp, len, &uq) == 0 &&
	    !query_name_has(q, resp, len, q->q.qtype) &&
	    !query_name_has(q, resp, len, DNS_TYPE_CNAME);
}

/*
 * Walk the CNAME chain of msg from the name resolved now.  1: a name of
 * it belongs to a zone other than q's (copied to hop, its zone in *zp).
 * 0: it does not; the chain's last name is then in hop and the number of
 * CNAMEs followed in *steps (QUERY_MAX_CHAIN: the walk gave up).  -1: msg
 * has no question.
 */
static int
query_chain_walk(const struct query *q, const uint8_t *msg, size_t len,
    uint8_t *hop, size_t *hoplen, const struct zone **zp, unsigned *steps)
{
	struct wire_question	 uq;
	uint8_t			 next[DNS_MAX_NAME];
	size_t			 nextlen;

	if (wire_question(msg, len, &uq) == -1)
		return -1;
	*hoplen = query_upstream_lname(q, hop);
	for (*steps = 0; *steps < QUERY_MAX_CHAIN; (*steps)++) {
		if (!query_cname_of(msg, len, uq.end, hop, *hoplen, next,
		    &nextlen))
			return 0;
		memcpy(hop, next, nextlen);
		*hoplen = nextlen;
		*zp = zones_find(q->gen->zones, next, nextlen);
		if (*zp != NULL && *zp != q->zone)
			return 1;
	}
	return 0;
}

/*
 * Does the CNAME chain of msg, from the name resolved now on, enter a
 * zone other than the current one (or go on too long to tell)?  (Then msg
 * cannot stand for the fallback's answer: the names after the hop need
 * routing too.)
 */
static int
query_chain_enters_zone(const struct query *q, const uint8_t *msg,
    size_t len)
{
	const struct zone	*z;
	uint8_t			 name[DNS_MAX_NAME];
	size_t			 namelen;
	unsigned		 steps;

	return query_chain_walk(q, msg, len, name, &namelen, &z, &steps) != 0 ||
	    steps == QUERY_MAX_CHAIN;
}

/*
 * Follow the CNAME chain of resp from the name resolved now: the first
 * name that belongs to another forward or local zone -- or, for a zone's
 * answer whose chain leaves the zone without an answer for its last name,
 * that name -- is copied to hop and its zone to *zp (NULL: the default
 * backend); 1 is returned.  0: the answer is complete as it is.  A query
 * for CNAME or ANY wants the alias itself: never followed.
 */
static int
query_hop_target(const struct query *q, const uint8_t *resp, size_t len,
    uint8_t *hop, size_t *hoplen, const struct zone **zp)
{
	struct wire_question	 uq;
	unsigned		 steps;
	int			 r;

	if (q->gen->zones == NULL || q->q.qtype == DNS_TYPE_CNAME ||
	    q->q.qtype == DNS_TYPE_ANY)
		return 0;
	if ((r = query_chain_walk(q, resp, len, hop, hoplen, zp, &steps)) != 0)
		return r == 1;
	/* (The default backend followed its chain itself.) */
	return steps > 0 && steps < QUERY_MAX_CHAIN && q->zone != NULL &&
	    (q->backend == BACKEND_ZONE ||
	    zone_config(q->zone)->nfallback > 0) &&
	    (*zp = zones_find(q->gen->zones, hop, *hoplen)) != q->zone &&
	    wire_question(resp, len, &uq) == 0 &&
	    !query_has_rr(resp, len, uq.end, hop, *hoplen, q->q.qtype);
}

/*
 * Store the answer to the base name (when it may be kept) and give it to
 * the client.
 */
static void
query_final(struct query *q, uint8_t *resp, size_t len,
    const struct wire_edns *e)
{
	struct cache_key	 k;
	uint8_t			 name[DNS_MAX_NAME];

	/*
	 * What the upstream said is stored, not what the policy made of it.
	 * Answers to RD=0 queries may be partial: served, not kept.  A
	 * local zone's own answers are the configuration's: not kept.
	 */
	if (q->w->d->cache != NULL && q->rd && !q->local) {
		/* Not kept when routed by zones no longer in force. */
		query_cache_key(q, &k, name);
		cache_store_epoch(q->w->d->cache, &k, resp, len, e,
		    cache_now(), &q->w->d->zones_epoch, q->gen->zones_epoch);
	}
	/*
	 * SERVFAIL or REFUSED from the last upstream tried is a failure to
	 * refresh too (RFC 8767 4): a stale answer beats it.
	 */
	if ((DNS_RCODE(resp) == DNS_RCODE_SERVFAIL ||
	    DNS_RCODE(resp) == DNS_RCODE_REFUSED) && query_stale(q))
		return;
	query_answer(q, resp, len, e);
}


/*
 * The answer so far with the hop's answer spliced in: q->prev's chain up
 * to the hop's name, then resp (the answer for it).  Returned malloc'd in
 * *out, without OPT; -1 when it cannot be made.
 */
static int
query_compose(struct query *q, const uint8_t *resp, size_t len,
    uint8_t **out, size_t *outlen)
{
	return respond_splice(q->prev, q->prev_len, q->hop_name, q->hop_len,
	    resp, len, out, outlen);
}

/*
 * An answer for the name resolved now, from its backend (or a local zone):
 * take a zone's fallback, follow a CNAME into another zone, or finish.
 */
static void
query_routed(struct query *q, uint8_t *resp, size_t len,
    const struct wire_edns *e)
{
	const struct config_zone *zc;
	const struct zone	*z;
	struct worker		*w = q->w;
	struct wire_edns	 none;
	struct query		*held;
	uint8_t			 hop[DNS_MAX_NAME], *comp = NULL;
	size_t			 hoplen, complen;
	int			 rc = DNS_RCODE(resp);

	zc = q->zone != NULL ? zone_config(q->zone) : NULL;
	memset(&none, 0, sizeof(none));
	/* Recursing, AD says what libunbound proved; zone servers prove
	 * nothing to us. */
	if (q->gen->cfg->mode == RESOLVER_RECURSE && !q->recursion)
		resp[3] &= ~0x20;
	/* The zone says there is nothing: its fallback, once per visit. */
	if (zc != NULL && q->backend == BACKEND_ZONE && !q->visit_fallback &&
	    ((zc->on_nxdomain && rc == DNS_RCODE_NXDOMAIN &&
	    !query_name_has(q, resp, len, DNS_TYPE_CNAME)) ||
	    (zc->on_nodata && query_is_nodata(q, resp, len)))) {
		q->fallback = q->visit_fallback = 1;
		if (q->prev_raw && zc->nfallback == 0 &&
		    !query_chain_enters_zone(q, q->prev, q->prev_len)) {
			/*
			 * A hop out of the default backend's own answer:
			 * that answer is what the fallback would give.
			 */
			comp = q->prev;
			complen = q->prev_len;
			q->prev = NULL;
			query_hop_clear(q);
			q->local = 0;
			query_final(q, comp, complen, &none);
			free(comp);
			return;
		}
		q->backend = BACKEND_FALLBACK;
		query_ask(q);
		return;
	}
	/* A CNAME into another zone: resolve its target there. */
	if (q->hops < QUERY_MAX_HOPS &&
	    query_hop_target(q, resp, len, hop, &hoplen, &z)) {
		if (q->prev != NULL) {
			if (query_compose(q, resp, len, &comp, &complen) == -1) {
				query_fail(q, DNS_RCODE_SERVFAIL, -1,
				    "zone-compose");
				return;
			}
		} else if ((comp = malloc(len)) != NULL) {
			memcpy(comp, resp, len);
			complen = len;
		} else {
			query_fail(q, DNS_RCODE_SERVFAIL, -1, "overload");
			return;
		}
		q->prev_raw = q->prev == NULL && q->backend == BACKEND_DEFAULT;
		free(q->prev);
		q->prev = comp;
		q->prev_len = complen;
		memcpy(q->hop_name, hop, hoplen);
		q->hop_len = hoplen;
		q->hops++;
		q->local = 0;
		if (q == &w->scratch && (z == NULL ||
		    zone_config(z)->kind != ZONE_LOCAL)) {
			if ((held = server_hold(q)) == NULL) {
				query_hop_clear(q);
				query_fail(q, -1, -1, "overload");
				return;
			}
			q = held;
		}
		query_route(q, z);
		return;
	}
	if (q->prev == NULL) {
		/* The zone's own answer, or the default's as it came. */
		q->local = zc != NULL && zc->kind == ZONE_LOCAL && q->hops == 0;
		query_final(q, resp, len, e);
		return;
	}
	if (query_compose(q, resp, len, &comp, &complen) == -1) {
		query_fail(q, DNS_RCODE_SERVFAIL, -1, "zone-compose");
		return;
	}
	query_hop_clear(q);
	q->local = 0;
	query_final(q, comp, complen, &none);
	free(comp);
}

void
query_resolved(struct query *q, uint8_t *resp, size_t len,
    const struct wire_edns *e)
{
	query_routed(q, resp, len, e);
}

/*
 * Resolution failed: answer from an expired entry if serve-stale has one
 * (RFC 8767), or a fresh one another worker stored meanwhile.  Returns 1
 * when answered.
 */
static int
query_stale(struct query *q)
{
	struct worker		*w = q->w;
	struct cache_key	 k;
	struct wire_edns	 e;
	enum cache_result	 r;
	uint8_t			 name[DNS_MAX_NAME];
	size_t			 n;

	if (w->d->cache == NULL || q->gen->cfg->cache_serve_stale == 0)
		return 0;
	query_cache_key(q, &k, name);
	r = cache_lookup(w->d->cache, &k, 1, cache_now(), w->cbuf,
	    sizeof(w->cbuf), &n, &e);
	if (r == CACHE_MISS)
		return 0;
	q->cache = r == CACHE_STALE ? "stale" : "hit";
	q->stale = r == CACHE_STALE;
	query_answer(q, w->cbuf, n, &e);
	return 1;
}

void
query_unresolved(struct query *q)
{
	if (!query_stale(q))
		query_fail(q, DNS_RCODE_SERVFAIL, EDE_NO_REACHABLE,
		    "upstream-failure");
}

enum query_stage
query_check(struct query *q, const uint8_t *pkt, size_t len,
    struct query_verdict *v)
{
	enum query_stage r = QUERY_NEXT;
	size_t		 i;

	memset(v, 0, sizeof(*v));
	v->rcode = -1;
	v->ede = -1;
	for (i = 0; i < sizeof(request_stages) / sizeof(request_stages[0]) &&
	    r == QUERY_NEXT; i++)
		r = request_stages[i].run(q, pkt, len, v);
	return r;
}

void
query_receive(struct query *q, const uint8_t *pkt, size_t len)
{
	struct query_verdict v;

	switch (query_check(q, pkt, len, &v)) {
	case QUERY_NEXT:	/* not reached: the policy stage decides */
	case QUERY_DROP:
		q->action = v.action;
		query_fail(q, -1, -1, v.reason);
		break;
	case QUERY_REPLY:
		q->action = v.action;
		query_fail(q, v.rcode, v.ede, v.reason);
		break;
	case QUERY_POLICY:
		query_policy_answer(q);
		break;
	case QUERY_RESOLVE:
		query_resolve(q);
		break;
	}
}
