/*
 * recurse.c -- recursion through libunbound on the worker's event base.
 * See recurse.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>
#include <unbound.h>
#include <unbound-event.h>

#include "config.h"
#include "log.h"
#include "query.h"
#include "recurse.h"
#include "server.h"
#include "stats.h"
#include "wire.h"

/* RFC 8914 info-codes: DNSSEC Bogus; No Reachable Authority. */
#define EDE_DNSSEC_BOGUS	6


struct recursor {
	struct ub_ctx	*ctx;
};

static int
rec_option(struct ub_ctx *ctx, const char *opt, const char *val, char *err,
    size_t errsz)
{
	int	 rc;

	if ((rc = ub_ctx_set_option(ctx, opt, val)) != 0) {
		snprintf(err, errsz, "libunbound: %s %s: %s", opt, val,
		    ub_strerror(rc));
		return -1;
	}
	return 0;
}

/* The files named by the configuration must be readable now. */
static int
rec_files(const struct config *cfg, char *err, size_t errsz)
{
	size_t	 i;

	if (access(cfg->root_hints, R_OK) == -1) {
		snprintf(err, errsz, "%s:%d:%d: resolver.root-hints: %s: %s%s",
		    cfg->path, cfg->root_hints_line, cfg->root_hints_col,
		    cfg->root_hints, strerror(errno),
		    cfg->root_hints_line == 0 ? " (the default; apt-get "
		    "install dns-root-data)" : "");
		return -1;
	}
	for (i = 0; i < cfg->ntrust_anchors; i++) {
		const struct config_ta *ta = &cfg->trust_anchors[i];

		if (!cfg->dnssec || !ta->is_file)
			continue;
		if (access(ta->text, R_OK) == -1) {
			snprintf(err, errsz, "%s:%d:%d: resolver.trust-anchors: "
			    "%s: %s%s", cfg->path, ta->line, ta->col, ta->text,
			    strerror(errno), ta->line == 0 ? " (the default; "
			    "apt-get install dns-root-data)" : "");
			return -1;
		}
	}
	return 0;
}

/* Set every option on ctx; -1 with err. */
static int
rec_setup(struct ub_ctx *ctx, const struct config *cfg, char *err,
    size_t errsz)
{
	size_t	 i;
	int	 rc;

	if (rec_files(cfg, err, errsz) == -1)
		return -1;
	if (rec_option(ctx, "root-hints:", cfg->root_hints, err, errsz) == -1 ||
	    rec_option(ctx, "module-config:", cfg->dnssec ?
	    "validator iterator" : "iterator", err, errsz) == -1 ||
	    rec_option(ctx, "qname-minimisation:", cfg->qname_min ? "yes" :
	    "no", err, errsz) == -1 ||
	    rec_option(ctx, "do-not-query-localhost:", cfg->query_loopback ?
	    "no" : "yes", err, errsz) == -1 ||
	    /* The reason of a bogus answer, for the EDE text. */
	    rec_option(ctx, "val-log-level:", "2", err, errsz) == -1 ||
	    rec_option(ctx, "verbosity:", "0", err, errsz) == -1)
		return -1;
	for (i = 0; cfg->dnssec && i < cfg->ntrust_anchors; i++) {
		const struct config_ta *ta = &cfg->trust_anchors[i];

		rc = ta->is_file ? ub_ctx_add_ta_file(ctx, ta->text) :
		    ub_ctx_add_ta(ctx, ta->text);
		if (rc != 0) {
			snprintf(err, errsz, "%s:%d:%d: resolver.trust-anchors: "
			    "%s: %s", cfg->path, ta->line, ta->col, ta->text,
			    ub_strerror(rc));
			return -1;
		}
	}
	/*
	 * libunbound reads the hints and anchors when the context is
	 * finalized -- by default at the first query, on a worker, after
	 * the privileges are gone.  Finalize now (a zone call does it), so
	 * a broken or unreadable file fails -t and start-up instead of every
	 * query.
	 */
	if ((rc = ub_ctx_zone_remove(ctx, "dnsward-finalize.invalid.")) != 0) {
		snprintf(err, errsz, "%s: resolver: root-hints %s or "
		    "trust-anchors could not be loaded: %s (libunbound)",
		    cfg->path, cfg->root_hints, ub_strerror(rc));
		return -1;
	}
	return 0;
}

int
rec_check(const struct config *cfg, char *err, size_t errsz)
{
	struct ub_ctx	*ctx;
	int		 rc;

	if ((ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errsz, "libunbound: cannot create a context");
		return -1;
	}
	rc = rec_setup(ctx, cfg, err, errsz);
	ub_ctx_delete(ctx);
	return rc;
}

struct recursor *
rec_new(struct event_base *base, const struct config *cfg, char *err,
    size_t errsz)
{
	struct recursor	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if ((r->ctx = ub_ctx_create_event(base)) == NULL) {
		snprintf(err, errsz, "libunbound: cannot create a context on "
		    "the event base");
		free(r);
		return NULL;
	}
	if (rec_setup(r->ctx, cfg, err, errsz) == -1) {
		rec_free(r);
		return NULL;
	}
	return r;
}

void
rec_free(struct recursor *r)
{
	if (r == NULL)
		return;
	ub_ctx_delete(r->ctx);
	free(r);
}

/* Is this RR type DNSSEC proof, kept only for DO clients (RFC 4035 3.2.1)? */
static int
dnssec_type(ldns_rr_type t)
{
	return t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
	    t == LDNS_RR_TYPE_NSEC3 || t == LDNS_RR_TYPE_NSEC3PARAMS;
}

/* Drop the DNSSEC records of one section, but those of the type asked. */
static int
strip_section(ldns_rr_list *rrs, uint16_t qtype)
{
	ldns_rr_list	*keep;
	ldns_rr		*rr;
	size_t		 i, n = ldns_rr_list_rr_count(rrs);

	if ((keep = ldns_rr_list_new()) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(rrs, i);
		if (dnssec_type(ldns_rr_get_type(rr)) &&
		    ldns_rr_get_type(rr) != qtype)
			ldns_rr_free(rr);
		else if (!ldns_rr_list_push_rr(keep, rr)) {
			ldns_rr_free(rr);
			ldns_rr_list_free(keep);
			return -1;
		}
	}
	ldns_rr_list_set_rr_count(rrs, 0);
	for (i = 0; i < ldns_rr_list_rr_count(keep); i++)
		ldns_rr_list_push_rr(rrs, ldns_rr_list_rr(keep, i));
	ldns_rr_list_free(keep);
	return 0;
}

/*
 * libunbound answers with the signatures and proofs it has whatever the
 * question's DO bit: a client that did not ask for DNSSEC gets them
 * removed.  buf[0..*len) is rewritten (at most cap bytes); -1 when it
 * cannot be.
 */
static int
strip_dnssec(uint8_t *buf, size_t *len, size_t cap, uint16_t qtype)
{
	ldns_pkt	*pkt = NULL;
	uint8_t		*out = NULL;
	size_t		 outlen;
	int		 rc = -1;

	if (ldns_wire2pkt(&pkt, buf, *len) != LDNS_STATUS_OK)
		return -1;
	if (strip_section(ldns_pkt_answer(pkt), qtype) == -1 ||
	    strip_section(ldns_pkt_authority(pkt), qtype) == -1 ||
	    strip_section(ldns_pkt_additional(pkt), qtype) == -1)
		goto done;
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(ldns_pkt_answer(pkt)));
	ldns_pkt_set_nscount(pkt,
	    ldns_rr_list_rr_count(ldns_pkt_authority(pkt)));
	ldns_pkt_set_arcount(pkt,
	    ldns_rr_list_rr_count(ldns_pkt_additional(pkt)));
	if (ldns_pkt2wire(&out, pkt, &outlen) != LDNS_STATUS_OK ||
	    outlen > cap)
		goto done;
	memcpy(buf, out, outlen);
	*len = outlen;
	rc = 0;
done:
	free(out);
	ldns_pkt_free(pkt);
	return rc;
}

/*
 * Recursions count in the worker's upstream slot 0 (forward upstreams are
 * not used in this mode): tries, answers with their time, failures and
 * deadline timeouts, shown as the upstream "recursion".
 */
#define REC_SLOT	STATS_SLOT_RECURSION

static void
rec_count(struct query *q, int outcome)
{
	struct stats_upstream	*su = &q->w->stats.up[REC_SLOT];

	if (outcome > 0)
		fwd_count_answer(q->w, REC_SLOT, &q->fwd.sent);
	else if (outcome == 0)
		STATS_INC(su->timeouts);
	else
		STATS_INC(su->failures);
}

/* libunbound is done with q (which is not touched if it was cancelled). */
static void
rec_done(void *arg, int rcode, void *packet, int len, int sec,
    char *why_bogus, int ratelimited)
{
	struct query	*q = arg;
	struct wire_edns e;
	struct wire_question uq;
	uint8_t		*buf = q->w->rbuf;
	char		 why[200];
	size_t		 n;

	q->rec_active = 0;
	evtimer_del(&q->fwd.ev_timer);
	rec_count(q, rcode != 0 || packet == NULL || sec == 1 ? -1 : 1);
	/*
	 * Bogus: SERVFAIL, unless the client set CD (RFC 4035 3.2.2: it
	 * validates itself and gets the data; libunbound hands it over with
	 * the bogus status, and AD stays clear below).
	 */
	if (sec == 1 && !q->cd) {
		snprintf(why, sizeof(why), "DNSSEC validation failed: %s",
		    why_bogus != NULL ? why_bogus : "bogus");
		query_fail_text(q, DNS_RCODE_SERVFAIL, EDE_DNSSEC_BOGUS, why,
		    "dnssec-bogus");
		return;
	}
	/* libunbound gave up (servers unreachable, lame, ...): as a forward
	 * that ran out of upstreams, a stale answer or SERVFAIL + EDE 22. */
	if (rcode != 0 || packet == NULL) {
		query_unresolved(q);
		return;
	}
	if (len < DNS_HDR_LEN || (size_t)len > sizeof(q->w->rbuf) - 1) {
		query_fail(q, DNS_RCODE_SERVFAIL, -1, "recursion-malformed");
		return;
	}
	/* Ours to edit: libunbound's buffer is shared with other callers. */
	n = (size_t)len;
	memcpy(buf, packet, n);
	if ((!q->edns.do_bit &&
	    strip_dnssec(buf, &n, sizeof(q->w->rbuf) - 1, q->q.qtype) == -1) ||
	    wire_question(buf, n, &uq) == -1 ||
	    wire_scan(buf, n, uq.end, &e) == -1) {
		query_fail(q, DNS_RCODE_SERVFAIL, -1, "recursion-malformed");
		return;
	}
	/* AD tells what libunbound proved, nothing else. */
	if (sec == 2)
		buf[3] |= 0x20;
	else
		buf[3] &= ~0x20;
	query_resolved(q, buf, n, &e);
}

static void
rec_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct query	*q = arg;

	rec_cancel(q);
	rec_count(q, 0);
	query_unresolved(q);
}

void
rec_start(struct query *q)
{
	struct timeval	 tv;
	struct timespec	 now;
	char		 name[WIRE_NAME_STRLEN];
	const uint8_t	*un;
	size_t		 len;
	long		 ms;
	int		 rc;

	/* Its deadline, within the query's own budget (see gen_budget_ms). */
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(q->t_mono.tv_sec - now.tv_sec) * 1000 +
	    (q->t_mono.tv_nsec - now.tv_nsec) / 1000000 + q->gen->budget_ms;
	if (ms > REC_DEADLINE_MS)
		ms = REC_DEADLINE_MS;
	if (ms <= 0) {
		query_unresolved(q);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	q->recursion = 1;
	un = query_upstream_name(q, &len);
	wire_name_to_str(un, len, name, sizeof(name));
	q->rec_active = 1;
	STATS_INC(q->w->stats.up[REC_SLOT].queries);
	clock_gettime(CLOCK_MONOTONIC, &q->fwd.sent);
	/* Before the call: an answer from local data comes back inside it. */
	evtimer_assign(&q->fwd.ev_timer, q->w->base, rec_timeout, q);
	evtimer_add(&q->fwd.ev_timer, &tv);
	rc = ub_resolve_event(q->w->rec->ctx, name, q->q.qtype, q->q.qclass,
	    q, rec_done, &q->rec_id);
	if (rc != 0 && q->rec_active) {
		q->rec_active = 0;
		evtimer_del(&q->fwd.ev_timer);
		log_warnx("recursion: %s", ub_strerror(rc));
		query_fail(q, DNS_RCODE_SERVFAIL, -1, "recursion-failure");
	}
}

void
rec_cancel(struct query *q)
{
	if (!q->rec_active)
		return;
	q->rec_active = 0;
	evtimer_del(&q->fwd.ev_timer);
	(void)ub_cancel(q->w->rec->ctx, q->rec_id);
}
