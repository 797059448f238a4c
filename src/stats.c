/*
 * stats.c -- the counters' name tables and sums, and the two renderings of
 * a snapshot: Prometheus text and JSON.  See stats.h.
 *
 * Both renderings write straight into an evbuffer; a failed append (out of
 * memory) is remembered and reported once at the end, so the formatting
 * code reads as a plain list of what is written.
 *
 * Numbers that are exact in the counters stay exact in the text: counters
 * are printed as integers, microsecond sums as exact decimal seconds.
 * Only values that are doubles in the snapshot (Unix times, durations,
 * the smoothed RTT) go through a float format, the shortest one that
 * reads back as the same double.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "dlog.h"
#include "stats.h"

/*
 * Name tables.
 */

const char *const stats_qtype_names[STATS_QTYPES] = {
	"A", "AAAA", "CNAME", "MX", "TXT", "PTR", "SRV", "NS", "SOA",
	"HTTPS", "SVCB", "ANY", "CAA", "DS", "DNSKEY", "NAPTR", "AXFR",
	"other"
};

/* As dig prints them; 12..15 are unassigned. */
const char *const stats_rcode_names[STATS_RCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
	"RESERVED12", "RESERVED13", "RESERVED14", "RESERVED15",
	"none"
};

/* In the order of enum dlog_action. */
const char *const stats_action_names[STATS_ACTIONS] = {
	"none", "allow", "block", "alert"
};

/*
 * The reasons the code gives today (query.c, server.c, policy.c), most
 * frequent first: stats_reason_index() scans in this order.
 */
const char *const stats_reason_names[STATS_REASONS] = {
	/* policy: the default, then what decided a rule */
	"default", "feed", "tld", "qtype", "answer-ip", "answer-country",
	"answer-asn", "client-country",
	/* request checks */
	"acl", "notimp", "formerr", "badvers", "xfr", "class", "malformed",
	"response",
	/* resolution and the worker */
	"upstream-malformed", "upstream-failure", "overload", "shutdown",
	"dnssec-bogus", "recursion-failure", "recursion-malformed",
	"zone-compose", "local-too-big",
	/* free slots */
	NULL, NULL,
	"other"
};

const char *const stats_transport_names[2] = { "udp", "tcp" };

const uint32_t stats_rtt_bounds_us[STATS_RTT_BUCKETS - 1] = {
	250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000
};

unsigned
stats_qtype_index(uint16_t qtype)
{
	/* Indexes into stats_qtype_names. */
	switch (qtype) {
	case 1:		return 0;	/* A */
	case 28:	return 1;	/* AAAA */
	case 5:		return 2;	/* CNAME */
	case 15:	return 3;	/* MX */
	case 16:	return 4;	/* TXT */
	case 12:	return 5;	/* PTR */
	case 33:	return 6;	/* SRV */
	case 2:		return 7;	/* NS */
	case 6:		return 8;	/* SOA */
	case 65:	return 9;	/* HTTPS */
	case 64:	return 10;	/* SVCB */
	case 255:	return 11;	/* ANY */
	case 257:	return 12;	/* CAA */
	case 43:	return 13;	/* DS */
	case 48:	return 14;	/* DNSKEY */
	case 35:	return 15;	/* NAPTR */
	case 252:	return 16;	/* AXFR */
	default:	return STATS_QTYPE_OTHER;
	}
}

unsigned
stats_rcode_index(int rcode)
{
	if (rcode < 0)
		return STATS_RCODE_NONE;
	return (unsigned)rcode & 0xf;
}

unsigned
stats_reason_index(const char *reason)
{
	const char	*n;
	unsigned	 i;

	if (reason == NULL)
		return STATS_REASON_OTHER;
	for (i = 0; i < STATS_REASON_OTHER; i++) {
		if ((n = stats_reason_names[i]) == reason)
			return i;
		if (n != NULL && n[0] == reason[0] && strcmp(n, reason) == 0)
			return i;
	}
	return STATS_REASON_OTHER;
}

unsigned
stats_rtt_bucket(uint64_t us)
{
	unsigned	 i;

	for (i = 0; i < STATS_RTT_BUCKETS - 1; i++)
		if (us <= stats_rtt_bounds_us[i])
			break;
	return i;
}

static void
stats_upstream_add(struct stats_upstream_sum *s,
    const struct stats_upstream *u)
{
	size_t	 i;

	s->queries += STATS_GET(u->queries);
	s->answers += STATS_GET(u->answers);
	s->failures += STATS_GET(u->failures);
	s->timeouts += STATS_GET(u->timeouts);
	for (i = 0; i < STATS_RTT_BUCKETS; i++)
		s->rtt[i] += STATS_GET(u->rtt[i]);
	s->rtt_sum_us += STATS_GET(u->rtt_sum_us);
}

void
stats_sum_add(struct stats_sum *sum, const struct stats_counters *c)
{
	size_t	 i, j;

	for (i = 0; i < 2; i++)
		sum->transport[i] += STATS_GET(c->transport[i]);
	for (i = 0; i < STATS_QTYPES; i++)
		sum->qtype[i] += STATS_GET(c->qtype[i]);
	for (i = 0; i < STATS_ACTIONS; i++)
		for (j = 0; j < STATS_REASONS; j++)
			sum->decision[i][j] += STATS_GET(c->decision[i][j]);
	for (i = 0; i < STATS_RCODES; i++)
		sum->rcode[i] += STATS_GET(c->rcode[i]);
	sum->tcp_accepted += STATS_GET(c->tcp_accepted);
	sum->tcp_rejected += STATS_GET(c->tcp_rejected);
	sum->overload += STATS_GET(c->overload);
	sum->send_errors += STATS_GET(c->send_errors);
	for (i = 0; i < STATS_MAX_UPSTREAMS; i++)
		stats_upstream_add(&sum->up[i], &c->up[i]);
}

/*
 * Output: an evbuffer and whether an append failed.
 */

struct out {
	struct evbuffer	*b;
	int		 err;
};

static void	out_printf(struct out *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(o->b, fmt, ap) < 0)
		o->err = 1;
	va_end(ap);
}

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (n > 0 && evbuffer_add(o->b, s, n) == -1)
		o->err = 1;
}

static void
out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* s, which fills at most sz bytes and may lack its NUL, as a C string. */
static const char *
cstr(const char *s, size_t sz, char *buf, size_t bufsz)
{
	size_t	 n;

	if (memchr(s, '\0', sz) != NULL)
		return s;
	n = sz < bufsz ? sz : bufsz - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/* Exact decimal seconds of a count of microseconds: "0.00025", "12". */
static void
fmt_us(char *buf, size_t bufsz, uint64_t us)
{
	size_t	 n;

	n = (size_t)snprintf(buf, bufsz, "%" PRIu64 ".%06" PRIu64,
	    us / 1000000, us % 1000000);
	if (n >= bufsz)
		return;
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[n - 1] = '\0';
}

/*
 * The shortest "%g" text that reads back as v, or what non-finite values
 * are called in Prometheus ("NaN", "+Inf", "-Inf").
 */
static void
fmt_double(char *buf, size_t bufsz, double v)
{
	int	 prec;

	if (isnan(v)) {
		snprintf(buf, bufsz, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, bufsz, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, bufsz, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, bufsz, "%.17g", v);
}

/*
 * Prometheus text format 0.0.4.
 */

/* Label lists: { key, value, key, value, ..., NULL }. */
#define LABELS(...)	((const char *const []){ __VA_ARGS__, NULL })

/* Length of a well-formed UTF-8 sequence at s[0..n), 0 if there is none. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t	 len, i;
	uint32_t cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * A label value: backslash, double quote and newline escaped.  The format
 * wants UTF-8; a byte that is not part of a well-formed sequence becomes
 * U+FFFD, so one bad byte cannot make the whole scrape unreadable.
 */
static void
prom_label_value(struct out *o, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t		 n = strlen(v), run, k;

	while (n > 0) {
		for (run = 0; run < n && s[run] >= 0x20 && s[run] < 0x80 &&
		    s[run] != '\\' && s[run] != '"'; run++)
			;
		out_add(o, (const char *)s, run);
		s += run;
		n -= run;
		if (n == 0)
			break;
		if (*s == '\\' || *s == '"' || *s == '\n') {
			out_add(o, "\\", 1);
			out_add(o, *s == '\n' ? "n" : (const char *)s, 1);
			k = 1;
		} else if (*s < 0x80) {
			/* Other control bytes are legal as they are. */
			out_add(o, (const char *)s, 1);
			k = 1;
		} else if ((k = utf8_len(s, n)) > 0) {
			out_add(o, (const char *)s, k);
		} else {
			out_add(o, "\xef\xbf\xbd", 3);
			k = 1;
		}
		s += k;
		n -= k;
	}
}

static void
prom_family(struct out *o, const char *name, const char *type,
    const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* name{k="v",...} and the value text, one line. */
static void
prom_sample(struct out *o, const char *name, const char *const *labels,
    const char *value)
{
	size_t	 i;

	out_str(o, name);
	for (i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		out_printf(o, "%s%s=\"", i == 0 ? "{" : ",", labels[i]);
		prom_label_value(o, labels[i + 1]);
		out_add(o, "\"", 1);
	}
	if (labels != NULL && labels[0] != NULL)
		out_add(o, "}", 1);
	out_printf(o, " %s\n", value);
}

static void
prom_u64(struct out *o, const char *name, const char *const *labels,
    uint64_t v)
{
	char	 buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	prom_sample(o, name, labels, buf);
}

static void
prom_double(struct out *o, const char *name, const char *const *labels,
    double v)
{
	char	 buf[32];

	fmt_double(buf, sizeof(buf), v);
	prom_sample(o, name, labels, buf);
}

/* A family of one unlabelled sample. */
static void
prom_one(struct out *o, const char *name, const char *type,
    const char *help, uint64_t v)
{
	prom_family(o, name, type, help);
	prom_u64(o, name, NULL, v);
}

static void
prom_process(struct out *o, const struct stats_snapshot *s)
{
	prom_family(o, "dnsward_build_info", "gauge",
	    "Always 1; the version as a label.");
	prom_u64(o, "dnsward_build_info",
	    LABELS("version", s->version != NULL ? s->version : ""), 1);
	prom_family(o, "dnsward_start_time_seconds", "gauge",
	    "Start time of the daemon, Unix seconds.");
	prom_double(o, "dnsward_start_time_seconds", NULL, s->start_time);
	prom_one(o, "dnsward_workers", "gauge", "Worker threads.",
	    s->workers);
	prom_one(o, "dnsward_policy_generation", "gauge",
	    "Configuration generation in use: 1 at start, +1 per reload.",
	    s->generation);
}

/* Whether a decision row is written: non-zero, or one that always is. */
static int
prom_decision_shown(const struct stats_sum *sum, size_t a, size_t r)
{
	if (stats_reason_names[r] == NULL)
		return 0;
	if (sum->decision[a][r] != 0)
		return 1;
	return r == 0 && (a == DLOG_ACTION_ALLOW || a == DLOG_ACTION_BLOCK);
}

static void
prom_queries(struct out *o, const struct stats_sum *sum)
{
	size_t	 i, j;

	prom_family(o, "dnsward_queries_total", "counter",
	    "Queries received, by transport.");
	for (i = 0; i < 2; i++)
		prom_u64(o, "dnsward_queries_total",
		    LABELS("transport", stats_transport_names[i]),
		    sum->transport[i]);
	prom_family(o, "dnsward_queries_by_qtype_total", "counter",
	    "Queries with a question, by query type.");
	for (i = 0; i < STATS_QTYPES; i++)
		prom_u64(o, "dnsward_queries_by_qtype_total",
		    LABELS("qtype", stats_qtype_names[i]), sum->qtype[i]);
	prom_family(o, "dnsward_decisions_total", "counter",
	    "Queries by the action taken and the reason for it.");
	for (i = 0; i < STATS_ACTIONS; i++)
		for (j = 0; j < STATS_REASONS; j++)
			if (prom_decision_shown(sum, i, j))
				prom_u64(o, "dnsward_decisions_total",
				    LABELS("action", stats_action_names[i],
				    "reason", stats_reason_names[j]),
				    sum->decision[i][j]);
	/* The common RCODEs always; the rare ones once they happened. */
	prom_family(o, "dnsward_responses_total", "counter",
	    "Replies by RCODE; rcode=\"none\": no reply was sent.");
	for (i = 0; i < STATS_RCODES; i++)
		if (i <= 5 || i == STATS_RCODE_NONE || sum->rcode[i] != 0)
			prom_u64(o, "dnsward_responses_total",
			    LABELS("rcode", stats_rcode_names[i]),
			    sum->rcode[i]);
	prom_family(o, "dnsward_tcp_connections_total", "counter",
	    "TCP client connections, accepted or rejected "
	    "(over max-connections).");
	prom_u64(o, "dnsward_tcp_connections_total",
	    LABELS("result", "accepted"), sum->tcp_accepted);
	prom_u64(o, "dnsward_tcp_connections_total",
	    LABELS("result", "rejected"), sum->tcp_rejected);
	prom_one(o, "dnsward_overload_total", "counter",
	    "Queries dropped because a worker held too many.",
	    sum->overload);
	prom_one(o, "dnsward_send_errors_total", "counter",
	    "Replies the socket refused to send (dropped).",
	    sum->send_errors);
}

static void
prom_cache(struct out *o, const struct stats_snapshot *s)
{
	if (!s->has_cache)
		return;
	prom_one(o, "dnsward_cache_hits_total", "counter",
	    "Cache lookups answered with a fresh entry.", s->cache_hits);
	prom_one(o, "dnsward_cache_misses_total", "counter",
	    "Cache lookups without a fresh entry.", s->cache_misses);
	prom_one(o, "dnsward_cache_stale_total", "counter",
	    "Stale answers served (RFC 8767).", s->cache_stale);
	prom_one(o, "dnsward_cache_evictions_total", "counter",
	    "Entries removed to stay under the memory bound.",
	    s->cache_evictions);
	prom_one(o, "dnsward_cache_entries", "gauge",
	    "Entries in the cache.", s->cache_entries);
	prom_one(o, "dnsward_cache_bytes", "gauge",
	    "Memory accounted to the cache's entries, bytes.",
	    s->cache_bytes);
	prom_one(o, "dnsward_cache_max_bytes", "gauge",
	    "Memory bound of the cache (cache.size), bytes.",
	    s->cache_max_bytes);
}

static size_t
nupstreams(const struct stats_snapshot *s)
{
	return s->nupstreams < STATS_MAX_UPSTREAMS ? s->nupstreams :
	    STATS_MAX_UPSTREAMS;
}

static const char *
upstream_name(const struct stats_snapshot *s, size_t i, char *buf,
    size_t bufsz)
{
	return cstr(s->upstreams[i].name, sizeof(s->upstreams[i].name), buf,
	    bufsz);
}

/* The counters of struct stats_upstream_sum, one family each. */
static const struct {
	const char	*name;
	const char	*help;
	size_t		 off;
} prom_up_counters[] = {
	{ "dnsward_upstream_queries_total",
	  "Tries sent to the upstream (UDP and TCP).",
	  offsetof(struct stats_upstream_sum, queries) },
	{ "dnsward_upstream_answers_total",
	  "Replies accepted from the upstream.",
	  offsetof(struct stats_upstream_sum, answers) },
	{ "dnsward_upstream_failures_total",
	  "Failed tries other than timeouts (SERVFAIL, REFUSED, garbage, "
	  "ICMP, TCP errors).",
	  offsetof(struct stats_upstream_sum, failures) },
	{ "dnsward_upstream_timeouts_total",
	  "Tries that timed out.",
	  offsetof(struct stats_upstream_sum, timeouts) },
};

static void
prom_upstream_rtt(struct out *o, const struct stats_snapshot *s)
{
	const struct stats_upstream_sum *u;
	char		 name[ADDR_STRLEN], le[32], sum[32];
	const char	*n;
	uint64_t	 cum;
	size_t		 i, b;

	prom_family(o, "dnsward_upstream_rtt_seconds", "histogram",
	    "Round-trip time of accepted replies.");
	for (i = 0; i < nupstreams(s); i++) {
		u = &s->sum.up[i];
		n = upstream_name(s, i, name, sizeof(name));
		for (b = 0, cum = 0; b < STATS_RTT_BUCKETS; b++) {
			cum += u->rtt[b];
			if (b < STATS_RTT_BUCKETS - 1)
				fmt_us(le, sizeof(le), stats_rtt_bounds_us[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			prom_u64(o, "dnsward_upstream_rtt_seconds_bucket",
			    LABELS("upstream", n, "le", le), cum);
		}
		fmt_us(sum, sizeof(sum), u->rtt_sum_us);
		prom_sample(o, "dnsward_upstream_rtt_seconds_sum",
		    LABELS("upstream", n), sum);
		prom_u64(o, "dnsward_upstream_rtt_seconds_count",
		    LABELS("upstream", n), cum);
	}
}

static void
prom_upstreams(struct out *o, const struct stats_snapshot *s)
{
	char		 name[ADDR_STRLEN];
	const char	*base;
	size_t		 i, k;

	if (nupstreams(s) == 0)
		return;
	for (k = 0; k < sizeof(prom_up_counters) /
	    sizeof(prom_up_counters[0]); k++) {
		prom_family(o, prom_up_counters[k].name, "counter",
		    prom_up_counters[k].help);
		for (i = 0; i < nupstreams(s); i++) {
			base = (const char *)&s->sum.up[i];
			prom_u64(o, prom_up_counters[k].name,
			    LABELS("upstream", upstream_name(s, i, name,
			    sizeof(name))), *(const uint64_t *)(const void *)
			    (base + prom_up_counters[k].off));
		}
	}
	prom_family(o, "dnsward_upstream_up", "gauge",
	    "1 while some worker considers the upstream usable.");
	for (i = 0; i < nupstreams(s); i++)
		prom_u64(o, "dnsward_upstream_up", LABELS("upstream",
		    upstream_name(s, i, name, sizeof(name))),
		    s->upstreams[i].up != 0);
	prom_family(o, "dnsward_upstream_srtt_seconds", "gauge",
	    "Smoothed round-trip time; 0 until a reply was accepted.");
	for (i = 0; i < nupstreams(s); i++)
		prom_double(o, "dnsward_upstream_srtt_seconds",
		    LABELS("upstream", upstream_name(s, i, name,
		    sizeof(name))), s->upstreams[i].srtt_ms / 1000.0);
	prom_upstream_rtt(o, s);
}

static size_t
nfeeds(const struct stats_snapshot *s)
{
	return s->nfeeds < STATS_MAX_FEEDS ? s->nfeeds : STATS_MAX_FEEDS;
}

/* The feeds' families: "u" a uint64_t field, "d" a double one. */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	char		 kind;
	size_t		 off;
} prom_feed_values[] = {
	{ "dnsward_feed_entries", "gauge",
	  "Entries of the feed version in use.", 'u',
	  offsetof(struct stats_feed, entries) },
	{ "dnsward_feed_errors", "gauge",
	  "Lines of the feed version in use that could not be read.", 'u',
	  offsetof(struct stats_feed, errors) },
	{ "dnsward_feed_refused_total", "counter",
	  "Feed versions refused (shrink guard, unreadable file).", 'u',
	  offsetof(struct stats_feed, refused) },
	{ "dnsward_feed_last_load_timestamp_seconds", "gauge",
	  "When the feed version in use was loaded, Unix seconds.", 'd',
	  offsetof(struct stats_feed, loaded_at) },
	{ "dnsward_feed_load_duration_seconds", "gauge",
	  "How long loading the feed version in use took.", 'd',
	  offsetof(struct stats_feed, load_seconds) },
};

static void
prom_feeds(struct out *o, const struct stats_snapshot *s)
{
	const struct stats_feed *f;
	char		 id[STATS_ID_MAX], fmt[16], sha[65];
	const char	*p;
	size_t		 i, k;

	if (nfeeds(s) == 0)
		return;
	for (k = 0; k < sizeof(prom_feed_values) /
	    sizeof(prom_feed_values[0]); k++) {
		prom_family(o, prom_feed_values[k].name,
		    prom_feed_values[k].type, prom_feed_values[k].help);
		for (i = 0; i < nfeeds(s); i++) {
			f = &s->feeds[i];
			p = (const char *)f + prom_feed_values[k].off;
			if (prom_feed_values[k].kind == 'u')
				prom_u64(o, prom_feed_values[k].name,
				    LABELS("feed", cstr(f->id, sizeof(f->id),
				    id, sizeof(id))),
				    *(const uint64_t *)(const void *)p);
			else
				prom_double(o, prom_feed_values[k].name,
				    LABELS("feed", cstr(f->id, sizeof(f->id),
				    id, sizeof(id))),
				    *(const double *)(const void *)p);
		}
	}
	prom_family(o, "dnsward_feed_info", "gauge",
	    "Always 1; the format and SHA-256 of the feed version in use as "
	    "labels.");
	for (i = 0; i < nfeeds(s); i++) {
		f = &s->feeds[i];
		prom_u64(o, "dnsward_feed_info", LABELS(
		    "feed", cstr(f->id, sizeof(f->id), id, sizeof(id)),
		    "format", cstr(f->format, sizeof(f->format), fmt,
		    sizeof(fmt)),
		    "sha256", cstr(f->sha256, sizeof(f->sha256), sha,
		    sizeof(sha))), 1);
	}
}

static void
prom_reloads(struct out *o, const struct stats_snapshot *s)
{
	prom_family(o, "dnsward_reloads_total", "counter",
	    "Reloads of the configuration (SIGHUP, dnsward-ctl reload).");
	prom_u64(o, "dnsward_reloads_total", LABELS("result", "success"),
	    s->reloads_ok);
	prom_u64(o, "dnsward_reloads_total", LABELS("result", "failure"),
	    s->reloads_failed);
	prom_family(o, "dnsward_last_reload_timestamp_seconds", "gauge",
	    "When the last successful reload happened, Unix seconds; 0: "
	    "none yet.");
	prom_double(o, "dnsward_last_reload_timestamp_seconds", NULL,
	    s->last_reload);
	prom_one(o, "dnsward_feed_refreshes_total", "counter",
	    "Reloads of a single feed done.", s->feed_refreshes);
	if (s->has_dlog) {
		prom_family(o, "dnsward_decision_log_records_total",
		    "counter", "Decision log records written, or dropped "
		    "because a ring was full.");
		prom_u64(o, "dnsward_decision_log_records_total",
		    LABELS("result", "written"), s->dlog_written);
		prom_u64(o, "dnsward_decision_log_records_total",
		    LABELS("result", "dropped"), s->dlog_dropped);
	}
	prom_one(o, "dnsward_geo_errors_total", "counter",
	    "Failed lookups in the geo databases.", s->geo_errors);
}

int
stats_prometheus(const struct stats_snapshot *s, struct evbuffer *b)
{
	struct out	 o = { b, 0 };

	prom_process(&o, s);
	prom_queries(&o, &s->sum);
	prom_cache(&o, s);
	prom_upstreams(&o, s);
	prom_feeds(&o, s);
	prom_reloads(&o, s);
	return o.err ? -1 : 0;
}

/*
 * JSON.
 */

/* A JSON string of s[0..len), escaped in pieces of any length. */
static void
json_strn(struct out *o, const char *s, size_t len)
{
	char	 buf[6 * 64 + 1];
	size_t	 n;

	out_add(o, "\"", 1);
	while (len > 0) {
		n = len < 64 ? len : 64;
		dlog_json_escape(s, n, buf, sizeof(buf));
		out_str(o, buf);
		s += n;
		len -= n;
	}
	out_add(o, "\"", 1);
}

static void
json_str(struct out *o, const char *s)
{
	if (s == NULL)
		out_str(o, "null");
	else
		json_strn(o, s, strlen(s));
}

/* A char array that may fill its size without a NUL. */
static void
json_arr(struct out *o, const char *s, size_t sz)
{
	const char	*z = memchr(s, '\0', sz);

	json_strn(o, s, z != NULL ? (size_t)(z - s) : sz);
}

/* A double; null when not finite, which JSON cannot say. */
static void
json_double(struct out *o, double v)
{
	char	 buf[32];

	if (!isfinite(v)) {
		out_str(o, "null");
		return;
	}
	fmt_double(buf, sizeof(buf), v);
	out_str(o, buf);
}

/* ,"key": (no comma for the first member); keys are plain ASCII. */
static void
json_key(struct out *o, int first, const char *key)
{
	out_printf(o, "%s\"%s\":", first ? "" : ",", key);
}

static void
json_u64(struct out *o, int first, const char *key, uint64_t v)
{
	json_key(o, first, key);
	out_printf(o, "%" PRIu64, v);
}

/* {"name":n,...} of a table of names and counts; NULL names skipped. */
static void
json_table(struct out *o, const char *const *names, const uint64_t *v,
    size_t n, int nonzero)
{
	size_t	 i;
	int	 first = 1;

	out_add(o, "{", 1);
	for (i = 0; i < n; i++) {
		if (names[i] == NULL || (nonzero && v[i] == 0))
			continue;
		json_u64(o, first, names[i], v[i]);
		first = 0;
	}
	out_add(o, "}", 1);
}

static void
json_queries(struct out *o, const struct stats_sum *sum)
{
	size_t	 i;

	json_key(o, 0, "queries");
	json_table(o, stats_transport_names, sum->transport, 2, 0);
	json_key(o, 0, "qtypes");
	json_table(o, stats_qtype_names, sum->qtype, STATS_QTYPES, 0);
	/* Only the reasons that happened, per action. */
	json_key(o, 0, "decisions");
	out_add(o, "{", 1);
	for (i = 0; i < STATS_ACTIONS; i++) {
		json_key(o, i == 0, stats_action_names[i]);
		json_table(o, stats_reason_names, sum->decision[i],
		    STATS_REASONS, 1);
	}
	out_add(o, "}", 1);
	json_key(o, 0, "rcodes");
	json_table(o, stats_rcode_names, sum->rcode, STATS_RCODES, 0);
	json_key(o, 0, "tcp_connections");
	out_add(o, "{", 1);
	json_u64(o, 1, "accepted", sum->tcp_accepted);
	json_u64(o, 0, "rejected", sum->tcp_rejected);
	out_add(o, "}", 1);
	json_u64(o, 0, "overload", sum->overload);
	json_u64(o, 0, "send_errors", sum->send_errors);
}

static void
json_cache(struct out *o, const struct stats_snapshot *s)
{
	json_key(o, 0, "cache");
	if (!s->has_cache) {
		out_str(o, "null");
		return;
	}
	out_add(o, "{", 1);
	json_u64(o, 1, "hits", s->cache_hits);
	json_u64(o, 0, "misses", s->cache_misses);
	json_u64(o, 0, "stale", s->cache_stale);
	json_u64(o, 0, "evictions", s->cache_evictions);
	json_u64(o, 0, "entries", s->cache_entries);
	json_u64(o, 0, "bytes", s->cache_bytes);
	json_u64(o, 0, "max_bytes", s->cache_max_bytes);
	out_add(o, "}", 1);
}

/*
 * The RTT histogram per bucket (not cumulative), keyed by the bucket's
 * upper bound in microseconds, the last one "inf".
 */
static void
json_rtt(struct out *o, const struct stats_upstream_sum *u)
{
	char	 key[16];
	size_t	 b;

	json_key(o, 0, "rtt_us");
	out_add(o, "{", 1);
	for (b = 0; b < STATS_RTT_BUCKETS; b++) {
		if (b < STATS_RTT_BUCKETS - 1)
			snprintf(key, sizeof(key), "%" PRIu32,
			    stats_rtt_bounds_us[b]);
		else
			snprintf(key, sizeof(key), "inf");
		json_u64(o, b == 0, key, u->rtt[b]);
	}
	out_add(o, "}", 1);
	json_u64(o, 0, "rtt_sum_us", u->rtt_sum_us);
}

static void
json_upstreams(struct out *o, const struct stats_snapshot *s)
{
	const struct stats_upstream_info *info;
	const struct stats_upstream_sum *u;
	size_t		 i;

	json_key(o, 0, "upstreams");
	out_add(o, "[", 1);
	for (i = 0; i < nupstreams(s); i++) {
		info = &s->upstreams[i];
		u = &s->sum.up[i];
		out_str(o, i == 0 ? "{" : ",{");
		json_key(o, 1, "name");
		json_arr(o, info->name, sizeof(info->name));
		json_key(o, 0, "up");
		out_str(o, info->up ? "true" : "false");
		json_key(o, 0, "srtt_ms");
		json_double(o, info->srtt_ms);
		json_u64(o, 0, "queries", u->queries);
		json_u64(o, 0, "answers", u->answers);
		json_u64(o, 0, "failures", u->failures);
		json_u64(o, 0, "timeouts", u->timeouts);
		json_rtt(o, u);
		out_add(o, "}", 1);
	}
	out_add(o, "]", 1);
}

static void
json_feeds(struct out *o, const struct stats_snapshot *s)
{
	const struct stats_feed *f;
	size_t		 i;

	json_key(o, 0, "feeds");
	out_add(o, "[", 1);
	for (i = 0; i < nfeeds(s); i++) {
		f = &s->feeds[i];
		out_str(o, i == 0 ? "{" : ",{");
		json_key(o, 1, "id");
		json_arr(o, f->id, sizeof(f->id));
		json_key(o, 0, "format");
		json_arr(o, f->format, sizeof(f->format));
		json_key(o, 0, "path");
		json_arr(o, f->path, sizeof(f->path));
		json_u64(o, 0, "entries", f->entries);
		json_u64(o, 0, "errors", f->errors);
		json_u64(o, 0, "refused", f->refused);
		json_key(o, 0, "loaded_at");
		json_double(o, f->loaded_at);
		json_key(o, 0, "load_seconds");
		json_double(o, f->load_seconds);
		json_key(o, 0, "sha256");
		json_arr(o, f->sha256, sizeof(f->sha256));
		json_u64(o, 0, "refresh_seconds", f->refresh_s);
		out_add(o, "}", 1);
	}
	out_add(o, "]", 1);
}

static void
json_reloads(struct out *o, const struct stats_snapshot *s)
{
	json_key(o, 0, "reloads");
	out_add(o, "{", 1);
	json_u64(o, 1, "success", s->reloads_ok);
	json_u64(o, 0, "failure", s->reloads_failed);
	json_key(o, 0, "last");
	if (s->last_reload > 0)
		json_double(o, s->last_reload);
	else
		out_str(o, "null");
	json_u64(o, 0, "feed_refreshes", s->feed_refreshes);
	out_add(o, "}", 1);
	json_key(o, 0, "decision_log");
	if (s->has_dlog) {
		out_add(o, "{", 1);
		json_u64(o, 1, "written", s->dlog_written);
		json_u64(o, 0, "dropped", s->dlog_dropped);
		out_add(o, "}", 1);
	} else
		out_str(o, "null");
	json_u64(o, 0, "geo_errors", s->geo_errors);
}

int
stats_json(const struct stats_snapshot *s, struct evbuffer *b)
{
	struct out	 o = { b, 0 };

	out_add(&o, "{", 1);
	json_key(&o, 1, "version");
	json_str(&o, s->version);
	json_key(&o, 0, "now");
	json_double(&o, s->now);
	json_key(&o, 0, "start_time");
	json_double(&o, s->start_time);
	json_key(&o, 0, "uptime_seconds");
	json_double(&o, s->now - s->start_time);
	json_u64(&o, 0, "generation", s->generation);
	json_u64(&o, 0, "workers", s->workers);
	json_queries(&o, &s->sum);
	json_cache(&o, s);
	json_upstreams(&o, s);
	json_feeds(&o, s);
	json_reloads(&o, s);
	out_add(&o, "}", 1);
	return o.err ? -1 : 0;
}
