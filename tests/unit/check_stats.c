/*
 * check_stats.c -- unit tests for stats.c (name tables, sums, the
 * Prometheus and JSON renderings of a snapshot) and metrics.c (the HTTP
 * endpoint, end to end on a loopback port).
 *
 * The Prometheus text is checked line by line by prom_parse() below
 * against the rules a scraper applies (HELP and TYPE once per family and
 * before its samples, sample names of the family, counters ending in
 * _total, well-formed labels and values, no series twice); the JSON by a
 * strict recursive-descent parser that also lists every leaf by its path
 * (".cache.hits=5"), so values are checked where they belong.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <ldns/ldns.h>

#include "addr.h"
#include "dlog.h"
#include "metrics.h"
#include "stats.h"

/* The reasons the code gives (query.c, server.c, policy.c). */
static const char *const code_reasons[] = {
	"default", "feed", "tld", "qtype", "answer-ip", "answer-country",
	"answer-asn", "client-country", "acl", "notimp", "formerr", "badvers",
	"xfr", "class", "malformed", "response", "upstream-malformed",
	"upstream-failure", "overload", "shutdown", "dnssec-bogus",
	"recursion-failure", "recursion-malformed", "zone-compose",
	"local-too-big"
};

/* An evbuffer's content as a NUL-terminated string (caller frees). */
static char *
buf_str(struct evbuffer *b)
{
	size_t	 n = evbuffer_get_length(b);
	char	*s;

	ck_assert_ptr_nonnull(s = malloc(n + 1));
	ck_assert_int_eq(evbuffer_remove(b, s, n), (int)n);
	s[n] = '\0';
	return s;
}

/*
 * Name tables and indexes.
 */

START_TEST(test_qtype_index)
{
	unsigned	 i, j;
	ldns_rr_type	 t;

	ck_assert_str_eq(stats_qtype_names[STATS_QTYPE_OTHER], "other");
	for (i = 0; i < STATS_QTYPE_OTHER; i++) {
		t = ldns_get_rr_type_by_name(stats_qtype_names[i]);
		ck_assert_msg(t != 0, "%s: unknown to ldns",
		    stats_qtype_names[i]);
		ck_assert_uint_eq(stats_qtype_index((uint16_t)t), i);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(stats_qtype_names[i],
			    stats_qtype_names[j]);
	}
	ck_assert_uint_eq(stats_qtype_index(1), 0);
	ck_assert_str_eq(stats_qtype_names[stats_qtype_index(28)], "AAAA");
	ck_assert_str_eq(stats_qtype_names[stats_qtype_index(65)], "HTTPS");
	ck_assert_uint_eq(stats_qtype_index(0), STATS_QTYPE_OTHER);
	ck_assert_uint_eq(stats_qtype_index(251), STATS_QTYPE_OTHER); /* IXFR */
	ck_assert_uint_eq(stats_qtype_index(99), STATS_QTYPE_OTHER);
	ck_assert_uint_eq(stats_qtype_index(65535), STATS_QTYPE_OTHER);
}
END_TEST

START_TEST(test_rcode_index)
{
	int	 i;

	for (i = 0; i < 16; i++)
		ck_assert_uint_eq(stats_rcode_index(i), (unsigned)i);
	ck_assert_uint_eq(stats_rcode_index(-1), STATS_RCODE_NONE);
	ck_assert_uint_eq(stats_rcode_index(-42), STATS_RCODE_NONE);
	/* BADVERS (16): the header's 4 bits. */
	ck_assert_uint_eq(stats_rcode_index(16), 0);
	ck_assert_uint_eq(stats_rcode_index(4095), 15);
	ck_assert_str_eq(stats_rcode_names[0], "NOERROR");
	ck_assert_str_eq(stats_rcode_names[2], "SERVFAIL");
	ck_assert_str_eq(stats_rcode_names[3], "NXDOMAIN");
	ck_assert_str_eq(stats_rcode_names[5], "REFUSED");
	ck_assert_str_eq(stats_rcode_names[10], "NOTZONE");
	ck_assert_str_eq(stats_rcode_names[STATS_RCODE_NONE], "none");
	for (i = 0; i < STATS_RCODES; i++)
		ck_assert_ptr_nonnull(stats_rcode_names[i]);
}
END_TEST

START_TEST(test_reason_index)
{
	char		 copy[64];
	unsigned	 i, j, named = 0;

	ck_assert_str_eq(stats_reason_names[STATS_REASON_OTHER], "other");
	for (i = 0; i < sizeof(code_reasons) / sizeof(code_reasons[0]); i++) {
		/* Not the same pointer: found by its text. */
		snprintf(copy, sizeof(copy), "%s", code_reasons[i]);
		j = stats_reason_index(copy);
		ck_assert_msg(j != STATS_REASON_OTHER, "%s: other", copy);
		ck_assert_str_eq(stats_reason_names[j], copy);
		ck_assert_uint_eq(stats_reason_index(stats_reason_names[j]),
		    j);
	}
	for (i = 0; i < STATS_REASONS; i++) {
		if (stats_reason_names[i] == NULL)
			continue;
		named++;
		ck_assert_uint_eq(stats_reason_index(stats_reason_names[i]),
		    i);
		for (j = 0; j < i; j++)
			ck_assert(stats_reason_names[j] == NULL ||
			    strcmp(stats_reason_names[i],
			    stats_reason_names[j]) != 0);
	}
	ck_assert_uint_eq(named, sizeof(code_reasons) /
	    sizeof(code_reasons[0]) + 1);
	ck_assert_uint_eq(stats_reason_index(NULL), STATS_REASON_OTHER);
	ck_assert_uint_eq(stats_reason_index(""), STATS_REASON_OTHER);
	ck_assert_uint_eq(stats_reason_index("feeds"), STATS_REASON_OTHER);
	ck_assert_uint_eq(stats_reason_index("fee"), STATS_REASON_OTHER);
	ck_assert_uint_eq(stats_reason_index("Default"), STATS_REASON_OTHER);
	ck_assert_uint_eq(stats_reason_index("other"), STATS_REASON_OTHER);

	/* Actions follow enum dlog_action. */
	ck_assert_str_eq(stats_action_names[DLOG_ACTION_NONE], "none");
	ck_assert_str_eq(stats_action_names[DLOG_ACTION_ALLOW], "allow");
	ck_assert_str_eq(stats_action_names[DLOG_ACTION_BLOCK], "block");
	ck_assert_str_eq(stats_action_names[DLOG_ACTION_ALERT], "alert");
	ck_assert_str_eq(stats_transport_names[DLOG_UDP], "udp");
	ck_assert_str_eq(stats_transport_names[DLOG_TCP], "tcp");
}
END_TEST

START_TEST(test_rtt_bucket)
{
	unsigned	 i;

	for (i = 1; i < STATS_RTT_BUCKETS - 1; i++)
		ck_assert_uint_gt(stats_rtt_bounds_us[i],
		    stats_rtt_bounds_us[i - 1]);
	ck_assert_uint_eq(stats_rtt_bounds_us[0], 250);
	ck_assert_uint_eq(stats_rtt_bounds_us[STATS_RTT_BUCKETS - 2],
	    1000000);
	/* A bound is in its own bucket (le), one more is in the next. */
	for (i = 0; i < STATS_RTT_BUCKETS - 1; i++) {
		ck_assert_uint_eq(stats_rtt_bucket(stats_rtt_bounds_us[i]), i);
		ck_assert_uint_eq(stats_rtt_bucket(stats_rtt_bounds_us[i] + 1),
		    i + 1);
	}
	ck_assert_uint_eq(stats_rtt_bucket(0), 0);
	ck_assert_uint_eq(stats_rtt_bucket(999), 2);
	ck_assert_uint_eq(stats_rtt_bucket(1000), 2);
	ck_assert_uint_eq(stats_rtt_bucket(1001), 3);
	ck_assert_uint_eq(stats_rtt_bucket(30000000), STATS_RTT_BUCKETS - 1);
	ck_assert_uint_eq(stats_rtt_bucket(UINT64_MAX), STATS_RTT_BUCKETS - 1);
}
END_TEST

START_TEST(test_sum_add)
{
	struct stats_counters	*a, *b;
	struct stats_sum	 sum;
	unsigned		 i;

	ck_assert_ptr_nonnull(a = calloc(1, sizeof(*a)));
	ck_assert_ptr_nonnull(b = calloc(1, sizeof(*b)));
	STATS_ADD(a->transport[DLOG_UDP], 5);
	STATS_INC(a->transport[DLOG_TCP]);
	STATS_ADD(b->transport[DLOG_UDP], 7);
	STATS_INC(a->qtype[stats_qtype_index(1)]);
	STATS_INC(b->qtype[stats_qtype_index(1)]);
	STATS_INC(b->qtype[stats_qtype_index(12345)]);
	STATS_INC(a->decision[DLOG_ACTION_BLOCK][stats_reason_index("feed")]);
	STATS_ADD(b->decision[DLOG_ACTION_BLOCK][stats_reason_index("feed")],
	    2);
	STATS_INC(b->decision[DLOG_ACTION_NONE][STATS_REASON_OTHER]);
	STATS_INC(a->rcode[stats_rcode_index(-1)]);
	STATS_ADD(b->rcode[stats_rcode_index(3)], 4);
	STATS_INC(a->tcp_accepted);
	STATS_ADD(b->tcp_rejected, 2);
	STATS_ADD(a->overload, 3);
	STATS_ADD(b->overload, 4);
	STATS_ADD(a->send_errors, 5);
	STATS_ADD(b->send_errors, 1);
	STATS_INC(a->up[0].queries);
	STATS_ADD(b->up[0].queries, 2);
	STATS_INC(b->up[0].answers);
	STATS_INC(a->up[STATS_MAX_UPSTREAMS - 1].failures);
	STATS_INC(b->up[STATS_MAX_UPSTREAMS - 1].timeouts);
	STATS_INC(a->up[1].rtt[stats_rtt_bucket(300)]);
	STATS_INC(b->up[1].rtt[stats_rtt_bucket(300)]);
	STATS_INC(b->up[1].rtt[stats_rtt_bucket(5000000)]);
	STATS_ADD(a->up[1].rtt_sum_us, 300);
	STATS_ADD(b->up[1].rtt_sum_us, 5000300);

	memset(&sum, 0, sizeof(sum));
	stats_sum_add(&sum, a);
	stats_sum_add(&sum, b);
	ck_assert_uint_eq(sum.transport[DLOG_UDP], 12);
	ck_assert_uint_eq(sum.transport[DLOG_TCP], 1);
	ck_assert_uint_eq(sum.qtype[0], 2);
	ck_assert_uint_eq(sum.qtype[STATS_QTYPE_OTHER], 1);
	ck_assert_uint_eq(sum.decision[DLOG_ACTION_BLOCK][1], 3);
	ck_assert_uint_eq(sum.decision[DLOG_ACTION_NONE][STATS_REASON_OTHER],
	    1);
	ck_assert_uint_eq(sum.decision[DLOG_ACTION_ALLOW][0], 0);
	ck_assert_uint_eq(sum.rcode[STATS_RCODE_NONE], 1);
	ck_assert_uint_eq(sum.rcode[3], 4);
	ck_assert_uint_eq(sum.tcp_accepted, 1);
	ck_assert_uint_eq(sum.tcp_rejected, 2);
	ck_assert_uint_eq(sum.overload, 7);
	ck_assert_uint_eq(sum.send_errors, 6);
	ck_assert_uint_eq(sum.up[0].queries, 3);
	ck_assert_uint_eq(sum.up[0].answers, 1);
	ck_assert_uint_eq(sum.up[STATS_MAX_UPSTREAMS - 1].failures, 1);
	ck_assert_uint_eq(sum.up[STATS_MAX_UPSTREAMS - 1].timeouts, 1);
	ck_assert_uint_eq(sum.up[1].rtt[1], 2);
	ck_assert_uint_eq(sum.up[1].rtt[STATS_RTT_BUCKETS - 1], 1);
	ck_assert_uint_eq(sum.up[1].rtt_sum_us, 5000600);

	/* Adding again accumulates. */
	stats_sum_add(&sum, a);
	ck_assert_uint_eq(sum.transport[DLOG_UDP], 17);
	ck_assert_uint_eq(sum.overload, 10);
	for (i = 0; i < STATS_RCODES; i++)
		if (i != 3 && i != STATS_RCODE_NONE)
			ck_assert_uint_eq(sum.rcode[i], 0);
	free(a);
	free(b);
}
END_TEST

/*
 * A filled snapshot.
 */

#define FEED_ODD	"we\"ird\\id\nx"	/* quote, backslash, newline */
#define FEED_ODD_PROM	"we\\\"ird\\\\id\\nx"

static struct stats_snapshot *
snapshot(int has_cache, int has_dlog)
{
	struct stats_snapshot	*s;
	struct stats_sum	*m;

	ck_assert_ptr_nonnull(s = calloc(1, sizeof(*s)));
	m = &s->sum;
	s->version = "0.1.0";
	s->now = 1700000100.5;
	s->start_time = 1700000000.25;
	s->generation = 3;
	s->workers = 2;

	m->transport[DLOG_UDP] = 10;
	m->transport[DLOG_TCP] = 3;
	m->qtype[stats_qtype_index(1)] = 7;
	m->qtype[stats_qtype_index(28)] = 4;
	m->qtype[STATS_QTYPE_OTHER] = 2;
	m->decision[DLOG_ACTION_ALLOW][stats_reason_index("default")] = 8;
	m->decision[DLOG_ACTION_BLOCK][stats_reason_index("feed")] = 3;
	m->decision[DLOG_ACTION_NONE][stats_reason_index("acl")] = 1;
	m->decision[DLOG_ACTION_NONE][STATS_REASON_OTHER] = 1;
	m->rcode[0] = 9;
	m->rcode[3] = 3;
	m->rcode[11] = 1;	/* DSOTYPENI: rare, shown as it happened */
	m->rcode[STATS_RCODE_NONE] = 1;
	m->tcp_accepted = 3;
	m->tcp_rejected = 1;
	m->overload = 2;
	m->send_errors = 9;

	/* Upstream 0: 1 reply <= 250us, 2 <= 1ms, 1 over 1s. */
	m->up[0].queries = 6;
	m->up[0].answers = 4;
	m->up[0].failures = 1;
	m->up[0].timeouts = 1;
	m->up[0].rtt[0] = 1;
	m->up[0].rtt[2] = 2;
	m->up[0].rtt[STATS_RTT_BUCKETS - 1] = 1;
	m->up[0].rtt_sum_us = 2012345;
	snprintf(s->upstreams[0].name, sizeof(s->upstreams[0].name),
	    "192.0.2.1:53");
	s->upstreams[0].up = 1;
	s->upstreams[0].srtt_ms = 1.5;
	snprintf(s->upstreams[1].name, sizeof(s->upstreams[1].name),
	    "[2001:db8::1]:53");
	s->nupstreams = 2;

	snprintf(s->feeds[0].id, sizeof(s->feeds[0].id), "ads");
	snprintf(s->feeds[0].format, sizeof(s->feeds[0].format), "plain");
	snprintf(s->feeds[0].path, sizeof(s->feeds[0].path),
	    "/var/lib/dnsward/\"ads\".txt");
	s->feeds[0].entries = 1000;
	s->feeds[0].errors = 2;
	s->feeds[0].refused = 1;
	s->feeds[0].loaded_at = 1700000050.75;
	s->feeds[0].load_seconds = 0.1;
	memset(s->feeds[0].sha256, 'a', 64);
	s->feeds[0].refresh_s = 300;
	snprintf(s->feeds[1].id, sizeof(s->feeds[1].id), "%s", FEED_ODD);
	snprintf(s->feeds[1].format, sizeof(s->feeds[1].format), "rpz");
	s->nfeeds = 2;

	s->has_cache = has_cache;
	s->cache_hits = 11;
	s->cache_misses = 12;
	s->cache_stale = 13;
	s->cache_evictions = 14;
	s->cache_entries = 15;
	s->cache_bytes = 16384;
	s->cache_max_bytes = 1048576;
	s->reloads_ok = 2;
	s->reloads_failed = 1;
	s->last_reload = 1700000090;
	s->feed_refreshes = 5;
	s->has_dlog = has_dlog;
	s->dlog_written = 20;
	s->dlog_dropped = 1;
	s->geo_errors = 4;
	return s;
}

/*
 * Prometheus text: a checker of the rules a scraper applies.
 */

#define PROM_MAX_FAMILIES	128
#define PROM_MAX_SERIES		16384

struct prom {
	char	*family[PROM_MAX_FAMILIES];
	char	*type[PROM_MAX_FAMILIES];
	int	 samples[PROM_MAX_FAMILIES];
	size_t	 nfamilies;
	char	*series[PROM_MAX_SERIES];	/* name{labels} */
	size_t	 nseries;
};

static int
prom_name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

static size_t
prom_name_len(const char *s)
{
	size_t	 n = 0;

	while (prom_name_char(s[n], n == 0))
		n++;
	return n;
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	 k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Whether s[0..n) is fam followed by suffix. */
static int
name_is(const char *s, size_t n, const char *fam, const char *suffix)
{
	size_t	 f = strlen(fam);

	return n == f + strlen(suffix) && memcmp(s, fam, f) == 0 &&
	    memcmp(s + f, suffix, n - f) == 0;
}

/* {k="v",...}: names, escapes (\\ \" \n only); the length, or 0. */
static size_t
prom_labels_len(const char *s)
{
	const char	*p = s + 1;
	size_t		 n;

	if (*s != '{')
		return 0;
	for (;;) {
		if ((n = prom_name_len(p)) == 0 || p[n] != '=' ||
		    p[n + 1] != '"')
			return 0;
		for (p += n + 2; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return 0;
			if (*p == '\\' && strchr("\\\"n", *++p) == NULL)
				return 0;
		}
		p++;
		if (*p == '}')
			return (size_t)(p + 1 - s);
		if (*p++ != ',')
			return 0;
	}
}

static void
prom_value_ok(const char *v, const char *line)
{
	char	*end;

	if (strcmp(v, "+Inf") == 0 || strcmp(v, "-Inf") == 0 ||
	    strcmp(v, "NaN") == 0)
		return;
	(void)strtod(v, &end);
	ck_assert_msg(end != v && *end == '\0', "bad value: %s", line);
}

static void
prom_sample_line(struct prom *p, const char *line)
{
	const char	*fam;
	size_t		 n, l, i;

	ck_assert_msg(p->nfamilies > 0, "sample before TYPE: %s", line);
	fam = p->family[p->nfamilies - 1];
	n = prom_name_len(line);
	ck_assert_msg(n > 0 && strncmp(line, "dnsward_", 8) == 0,
	    "bad name: %s", line);
	if (strcmp(p->type[p->nfamilies - 1], "histogram") == 0)
		ck_assert_msg(name_is(line, n, fam, "_bucket") ||
		    name_is(line, n, fam, "_sum") ||
		    name_is(line, n, fam, "_count"),
		    "not of histogram %s: %s", fam, line);
	else
		ck_assert_msg(name_is(line, n, fam, ""),
		    "not of family %s: %s", fam, line);
	l = line[n] == '{' ? prom_labels_len(line + n) : 0;
	ck_assert_msg(line[n] == ' ' || l > 0, "bad labels: %s", line);
	ck_assert_msg(line[n + l] == ' ', "no value: %s", line);
	prom_value_ok(line + n + l + 1, line);
	/* (Check's assertions cost a write each: none in this loop.) */
	for (i = 0; i < p->nseries; i++)
		if (strncmp(p->series[i], line, n + l) == 0 &&
		    p->series[i][n + l] == '\0')
			ck_abort_msg("series twice: %s", line);
	ck_assert_uint_lt(p->nseries, PROM_MAX_SERIES);
	ck_assert_ptr_nonnull(p->series[p->nseries++] = strndup(line, n + l));
	p->samples[p->nfamilies - 1]++;
}

/* HELP then TYPE, once per family; counters end in _total. */
static void
prom_type_line(struct prom *p, const char *prev, const char *line)
{
	const char	*name = line + 7, *type;
	size_t		 n = prom_name_len(name), i;

	ck_assert_msg(n > 0 && name[n] == ' ', "bad TYPE: %s", line);
	type = name + n + 1;
	ck_assert_msg(strcmp(type, "counter") == 0 ||
	    strcmp(type, "gauge") == 0 || strcmp(type, "histogram") == 0,
	    "bad type: %s", line);
	ck_assert_msg(prev != NULL && strncmp(prev, "# HELP ", 7) == 0 &&
	    strncmp(prev + 7, name, n) == 0 && prev[7 + n] == ' ' &&
	    prev[8 + n] != '\0', "no HELP before: %s", line);
	ck_assert_msg(strcmp(type, "counter") != 0 ||
	    ends_with(name, n, "_total"), "counter not _total: %s", line);
	for (i = 0; i < p->nfamilies; i++)
		ck_assert_msg(strlen(p->family[i]) != n ||
		    strncmp(p->family[i], name, n) != 0, "family twice: %s",
		    line);
	ck_assert_uint_lt(p->nfamilies, PROM_MAX_FAMILIES);
	ck_assert_ptr_nonnull(p->family[p->nfamilies] = strndup(name, n));
	ck_assert_ptr_nonnull(p->type[p->nfamilies] = strdup(type));
	p->samples[p->nfamilies++] = 0;
}

/* Check text; fill *p with its families and series. */
static void
prom_parse(struct prom *p, const char *text)
{
	char	*copy, *line, *next, *prev = NULL;
	size_t	 i;

	memset(p, 0, sizeof(*p));
	ck_assert_msg(*text != '\0' && text[strlen(text) - 1] == '\n',
	    "no final newline");
	ck_assert_ptr_nonnull(copy = strdup(text));
	for (line = copy; *line != '\0'; prev = line, line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		ck_assert_msg(*line != '\0', "empty line");
		if (strncmp(line, "# TYPE ", 7) == 0)
			prom_type_line(p, prev, line);
		else if (strncmp(line, "# HELP ", 7) == 0)
			ck_assert_msg(strncmp(next, "# TYPE ", 7) == 0,
			    "HELP without TYPE: %s", line);
		else
			prom_sample_line(p, line);
	}
	for (i = 0; i < p->nfamilies; i++)
		ck_assert_msg(p->samples[i] > 0, "no samples: %s",
		    p->family[i]);
	free(copy);
}

static void
prom_free(struct prom *p)
{
	size_t	 i;

	for (i = 0; i < p->nfamilies; i++) {
		free(p->family[i]);
		free(p->type[i]);
	}
	for (i = 0; i < p->nseries; i++)
		free(p->series[i]);
}

static int
prom_has_family(const struct prom *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->nfamilies; i++)
		if (strcmp(p->family[i], name) == 0)
			return 1;
	return 0;
}

/* The value text of a series ("name{labels}"), or NULL. */
static const char *
prom_get(const char *text, const char *series)
{
	static char	 value[64];
	const char	*p = text, *end;
	size_t		 n = strlen(series);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p += p != NULL) {
		if (strncmp(p, series, n) != 0 || p[n] != ' ')
			continue;
		end = strchr(p + n + 1, '\n');
		snprintf(value, sizeof(value), "%.*s", (int)(end - p - n - 1),
		    p + n + 1);
		return value;
	}
	return NULL;
}

static char *
render_prom(const struct stats_snapshot *s)
{
	struct evbuffer	*b;
	char		*text;

	ck_assert_ptr_nonnull(b = evbuffer_new());
	ck_assert_int_eq(stats_prometheus(s, b), 0);
	text = buf_str(b);
	evbuffer_free(b);
	return text;
}

#define ck_prom(text, series, want) do {				\
	const char *v_ = prom_get(text, series);			\
	ck_assert_msg(v_ != NULL, "missing: %s", series);		\
	ck_assert_msg(strcmp(v_, want) == 0, "%s: %s, want %s", series,	\
	    v_, want);							\
} while (0)

START_TEST(test_prometheus)
{
	struct stats_snapshot	*s = snapshot(1, 1);
	struct prom		 p;
	char			*text = render_prom(s);

	prom_parse(&p, text);
	ck_prom(text, "dnsward_build_info{version=\"0.1.0\"}", "1");
	ck_prom(text, "dnsward_start_time_seconds", "1700000000.25");
	ck_prom(text, "dnsward_workers", "2");
	ck_prom(text, "dnsward_policy_generation", "3");
	ck_prom(text, "dnsward_queries_total{transport=\"udp\"}", "10");
	ck_prom(text, "dnsward_queries_total{transport=\"tcp\"}", "3");
	ck_prom(text, "dnsward_queries_by_qtype_total{qtype=\"A\"}", "7");
	ck_prom(text, "dnsward_queries_by_qtype_total{qtype=\"AAAA\"}", "4");
	ck_prom(text, "dnsward_queries_by_qtype_total{qtype=\"MX\"}", "0");
	ck_prom(text, "dnsward_queries_by_qtype_total{qtype=\"other\"}", "2");
	ck_prom(text, "dnsward_decisions_total{action=\"allow\","
	    "reason=\"default\"}", "8");
	ck_prom(text, "dnsward_decisions_total{action=\"block\","
	    "reason=\"feed\"}", "3");
	ck_prom(text, "dnsward_decisions_total{action=\"none\","
	    "reason=\"acl\"}", "1");
	ck_prom(text, "dnsward_decisions_total{action=\"none\","
	    "reason=\"other\"}", "1");
	/* Always there, even at 0; other zero rows are not. */
	ck_prom(text, "dnsward_decisions_total{action=\"block\","
	    "reason=\"default\"}", "0");
	ck_assert_ptr_null(prom_get(text, "dnsward_decisions_total{"
	    "action=\"allow\",reason=\"feed\"}"));
	ck_assert_ptr_null(prom_get(text, "dnsward_decisions_total{"
	    "action=\"none\",reason=\"default\"}"));
	ck_prom(text, "dnsward_responses_total{rcode=\"NOERROR\"}", "9");
	ck_prom(text, "dnsward_responses_total{rcode=\"NXDOMAIN\"}", "3");
	ck_prom(text, "dnsward_responses_total{rcode=\"REFUSED\"}", "0");
	ck_prom(text, "dnsward_responses_total{rcode=\"DSOTYPENI\"}", "1");
	ck_prom(text, "dnsward_responses_total{rcode=\"none\"}", "1");
	ck_assert_ptr_null(prom_get(text,
	    "dnsward_responses_total{rcode=\"NOTZONE\"}"));
	ck_prom(text, "dnsward_tcp_connections_total{result=\"accepted\"}",
	    "3");
	ck_prom(text, "dnsward_tcp_connections_total{result=\"rejected\"}",
	    "1");
	ck_prom(text, "dnsward_overload_total", "2");
	ck_prom(text, "dnsward_send_errors_total", "9");
	ck_prom(text, "dnsward_cache_hits_total", "11");
	ck_prom(text, "dnsward_cache_misses_total", "12");
	ck_prom(text, "dnsward_cache_stale_total", "13");
	ck_prom(text, "dnsward_cache_evictions_total", "14");
	ck_prom(text, "dnsward_cache_entries", "15");
	ck_prom(text, "dnsward_cache_bytes", "16384");
	ck_prom(text, "dnsward_cache_max_bytes", "1048576");
	ck_prom(text, "dnsward_reloads_total{result=\"success\"}", "2");
	ck_prom(text, "dnsward_reloads_total{result=\"failure\"}", "1");
	ck_prom(text, "dnsward_last_reload_timestamp_seconds", "1700000090");
	ck_prom(text, "dnsward_feed_refreshes_total", "5");
	ck_prom(text, "dnsward_decision_log_records_total{result=\"written\"}",
	    "20");
	ck_prom(text, "dnsward_decision_log_records_total{result=\"dropped\"}",
	    "1");
	ck_prom(text, "dnsward_geo_errors_total", "4");
	ck_assert_uint_eq(p.nfamilies, 36);
	prom_free(&p);
	free(text);
	free(s);
}
END_TEST

START_TEST(test_prometheus_upstreams)
{
	struct stats_snapshot	*s = snapshot(1, 1);
	struct prom		 p;
	char			*text = render_prom(s), series[256];
	const char		*v, *up[2] = { "192.0.2.1:53",
				    "[2001:db8::1]:53" };
	static const char *const le[STATS_RTT_BUCKETS] = { "0.00025",
	    "0.0005", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05",
	    "0.1", "0.25", "0.5", "1", "+Inf" };
	static const char *const cum0[STATS_RTT_BUCKETS] = { "1", "1", "3",
	    "3", "3", "3", "3", "3", "3", "3", "3", "3", "4" };
	size_t			 i, b;
	unsigned long		 prev;

	prom_parse(&p, text);
	ck_prom(text,
	    "dnsward_upstream_queries_total{upstream=\"192.0.2.1:53\"}", "6");
	ck_prom(text,
	    "dnsward_upstream_answers_total{upstream=\"192.0.2.1:53\"}", "4");
	ck_prom(text,
	    "dnsward_upstream_failures_total{upstream=\"192.0.2.1:53\"}", "1");
	ck_prom(text,
	    "dnsward_upstream_timeouts_total{upstream=\"192.0.2.1:53\"}", "1");
	ck_prom(text, "dnsward_upstream_up{upstream=\"192.0.2.1:53\"}", "1");
	ck_prom(text, "dnsward_upstream_up{upstream=\"[2001:db8::1]:53\"}",
	    "0");
	ck_prom(text,
	    "dnsward_upstream_srtt_seconds{upstream=\"192.0.2.1:53\"}",
	    "0.0015");
	ck_prom(text,
	    "dnsward_upstream_queries_total{upstream=\"[2001:db8::1]:53\"}",
	    "0");
	/* Buckets cumulative, +Inf == _count; _sum exact seconds. */
	for (i = 0; i < 2; i++) {
		prev = 0;
		for (b = 0; b < STATS_RTT_BUCKETS; b++) {
			snprintf(series, sizeof(series),
			    "dnsward_upstream_rtt_seconds_bucket{upstream="
			    "\"%s\",le=\"%s\"}", up[i], le[b]);
			ck_assert_msg((v = prom_get(text, series)) != NULL,
			    "missing %s", series);
			ck_assert_uint_ge(strtoul(v, NULL, 10), prev);
			prev = strtoul(v, NULL, 10);
			if (i == 0)
				ck_assert_str_eq(v, cum0[b]);
		}
		snprintf(series, sizeof(series),
		    "dnsward_upstream_rtt_seconds_count{upstream=\"%s\"}",
		    up[i]);
		ck_assert_ptr_nonnull(v = prom_get(text, series));
		ck_assert_uint_eq(strtoul(v, NULL, 10), prev);
	}
	ck_prom(text,
	    "dnsward_upstream_rtt_seconds_sum{upstream=\"192.0.2.1:53\"}",
	    "2.012345");
	ck_prom(text, "dnsward_upstream_rtt_seconds_sum{upstream="
	    "\"[2001:db8::1]:53\"}", "0");
	prom_free(&p);
	free(text);
	free(s);
}
END_TEST

START_TEST(test_prometheus_feeds)
{
	struct stats_snapshot	*s = snapshot(1, 1);
	struct prom		 p;
	char			*text = render_prom(s), sha[128];

	prom_parse(&p, text);
	ck_prom(text, "dnsward_feed_entries{feed=\"ads\"}", "1000");
	ck_prom(text, "dnsward_feed_errors{feed=\"ads\"}", "2");
	ck_prom(text, "dnsward_feed_refused_total{feed=\"ads\"}", "1");
	ck_prom(text, "dnsward_feed_last_load_timestamp_seconds{feed=\"ads\"}",
	    "1700000050.75");
	ck_prom(text, "dnsward_feed_load_duration_seconds{feed=\"ads\"}",
	    "0.1");
	snprintf(sha, sizeof(sha), "%.64s", s->feeds[0].sha256);
	ck_assert_ptr_nonnull(strstr(text, sha));
	/* Escaped: quote, backslash, newline. */
	ck_prom(text, "dnsward_feed_entries{feed=\"" FEED_ODD_PROM "\"}", "0");
	ck_prom(text, "dnsward_feed_info{feed=\"" FEED_ODD_PROM "\","
	    "format=\"rpz\",sha256=\"\"}", "1");
	prom_free(&p);
	free(text);
	free(s);
}
END_TEST

START_TEST(test_prometheus_optional)
{
	struct stats_snapshot	*s = snapshot(0, 0);
	struct prom		 p;
	char			*text = render_prom(s);

	prom_parse(&p, text);
	ck_assert(!prom_has_family(&p, "dnsward_cache_hits_total"));
	ck_assert(!prom_has_family(&p, "dnsward_cache_max_bytes"));
	ck_assert_ptr_null(strstr(text, "dnsward_cache_"));
	ck_assert_ptr_null(strstr(text, "dnsward_decision_log_"));
	ck_assert(prom_has_family(&p, "dnsward_queries_total"));
	prom_free(&p);
	free(text);

	/* No upstreams, no feeds: no empty families. */
	s->nupstreams = 0;
	s->nfeeds = 0;
	text = render_prom(s);
	prom_parse(&p, text);
	ck_assert_ptr_null(strstr(text, "dnsward_upstream_"));
	ck_assert_ptr_null(strstr(text, "dnsward_feed_entries"));
	ck_assert(prom_has_family(&p, "dnsward_feed_refreshes_total"));
	prom_free(&p);
	free(text);
	free(s);
}
END_TEST

START_TEST(test_prometheus_hostile)
{
	struct stats_snapshot	*s = snapshot(1, 1);
	struct prom		 p;
	char			*text, series[256];
	size_t			 i;

	/* More than there can be, each with its own name. */
	s->nupstreams = STATS_MAX_UPSTREAMS + 7;
	for (i = 2; i < STATS_MAX_UPSTREAMS; i++)
		snprintf(s->upstreams[i].name, sizeof(s->upstreams[i].name),
		    "192.0.2.%zu:53", i);
	s->nfeeds = STATS_MAX_FEEDS + 1;
	for (i = 2; i < STATS_MAX_FEEDS; i++)
		snprintf(s->feeds[i].id, sizeof(s->feeds[i].id), "f%zu", i);
	/* Full arrays without a NUL, bad UTF-8, non-finite doubles. */
	memset(s->feeds[0].id, 'x', sizeof(s->feeds[0].id));
	snprintf(s->feeds[1].id, sizeof(s->feeds[1].id),
	    "bad\xff\xc3(\xe2\x82");
	memset(s->upstreams[1].name, 'y', sizeof(s->upstreams[1].name));
	s->version = "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 \xed\xa0\x80";
	s->feeds[0].load_seconds = NAN;
	s->feeds[1].loaded_at = INFINITY;
	s->upstreams[0].srtt_ms = -INFINITY;
	text = render_prom(s);
	prom_parse(&p, text);
	ck_prom(text, "dnsward_build_info{version=\"\xc3\xa9t\xc3\xa9 "
	    "\xf0\x9f\x98\x80 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}", "1");
	ck_prom(text, "dnsward_feed_entries{feed=\"bad\xef\xbf\xbd\xef\xbf\xbd"
	    "(\xef\xbf\xbd\xef\xbf\xbd\"}", "0");
	ck_prom(text, "dnsward_feed_last_load_timestamp_seconds{feed=\"bad"
	    "\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\"}", "+Inf");
	snprintf(series, sizeof(series), "dnsward_feed_load_duration_seconds"
	    "{feed=\"%.*s\"}", STATS_ID_MAX - 1, s->feeds[0].id);
	ck_prom(text, series, "NaN");
	snprintf(series, sizeof(series),
	    "dnsward_upstream_up{upstream=\"%.*s\"}", ADDR_STRLEN - 1,
	    s->upstreams[1].name);
	ck_prom(text, series, "0");
	ck_prom(text,
	    "dnsward_upstream_srtt_seconds{upstream=\"192.0.2.1:53\"}", "-Inf");
	ck_prom(text, "dnsward_upstream_up{upstream=\"192.0.2.127:53\"}", "0");
	ck_assert_ptr_null(strstr(text, "192.0.2.128:53"));
	ck_assert_ptr_null(strstr(text, "f256"));
	ck_prom(text, "dnsward_feed_entries{feed=\"f255\"}", "0");
	prom_free(&p);
	free(text);
	free(s);
}
END_TEST

/*
 * JSON: a strict parser (RFC 8259, ASCII) listing each leaf by its path.
 */

#define JSON_MAX_LEAVES	8192

struct jp {
	const char	*p, *end;
	char		 path[512];
	char		*leaf[JSON_MAX_LEAVES];	/* "path=text" */
	size_t		 nleaves;
};

static int	jp_value(struct jp *, int);

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) != NULL &&
	    *j->p != '\0')
		j->p++;
}

static int
jp_leaf(struct jp *j, const char *start)
{
	size_t	 i, n = strlen(j->path);

	for (i = 0; i < j->nleaves; i++)
		if (strncmp(j->leaf[i], j->path, n) == 0 &&
		    j->leaf[i][n] == '=')
			return 0;	/* a key twice */
	if (j->nleaves == JSON_MAX_LEAVES ||
	    asprintf(&j->leaf[j->nleaves], "%s=%.*s", j->path,
	    (int)(j->p - start), start) == -1)
		return 0;
	j->nleaves++;
	return 1;
}

static int
jp_lit(struct jp *j, const char *lit)
{
	size_t	 n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int
jp_digits(struct jp *j)
{
	const char	*start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static int
jp_number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!jp_digits(j))
		return 0;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jp_digits(j))
			return 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jp_digits(j))
			return 0;
	}
	return 1;
}

static int
jp_string(struct jp *j)
{
	int	 i;

	if (j->p >= j->end || *j->p++ != '"')
		return 0;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"')
			return 1;
		if (c < 0x20 || c >= 0x7f)
			return 0;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return 0;
		c = (unsigned char)*j->p++;
		if (c != '\0' && strchr("\"\\/bfnrt", c) != NULL)
			continue;
		if (c != 'u')
			return 0;
		for (i = 0; i < 4; i++, j->p++)
			if (j->p >= j->end || *j->p == '\0' ||
			    strchr("0123456789abcdefABCDEF", *j->p) == NULL)
				return 0;
	}
	return 0;
}

/* Members (obj) or elements, each under its own path. */
static int
jp_items(struct jp *j, int obj, char close, int depth)
{
	const char	*start = j->p - 1, *key;
	size_t		 plen = strlen(j->path), i = 0;

	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return jp_leaf(j, start);	/* "{}" or "[]" */
	}
	for (;; i++) {
		jp_ws(j);
		if (obj) {
			key = j->p;
			if (!jp_string(j))
				return 0;
			snprintf(j->path + plen, sizeof(j->path) - plen,
			    ".%.*s", (int)(j->p - key - 2), key + 1);
			jp_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return 0;
		} else
			snprintf(j->path + plen, sizeof(j->path) - plen,
			    "[%zu]", i);
		if (!jp_value(j, depth + 1))
			return 0;
		j->path[plen] = '\0';
		jp_ws(j);
		if (j->p >= j->end)
			return 0;
		if (*j->p == close) {
			j->p++;
			return 1;
		}
		if (*j->p++ != ',')
			return 0;
	}
}

static int
jp_value(struct jp *j, int depth)
{
	const char	*start;
	int		 ok;

	if (depth > 32)
		return 0;
	jp_ws(j);
	if (j->p >= j->end)
		return 0;
	start = j->p;
	switch (*j->p) {
	case '{':
		j->p++;
		return jp_items(j, 1, '}', depth);
	case '[':
		j->p++;
		return jp_items(j, 0, ']', depth);
	case '"':
		ok = jp_string(j);
		break;
	case 't':
		ok = jp_lit(j, "true");
		break;
	case 'f':
		ok = jp_lit(j, "false");
		break;
	case 'n':
		ok = jp_lit(j, "null");
		break;
	default:
		ok = jp_number(j);
		break;
	}
	return ok && jp_leaf(j, start);
}

/* Parse s; 1 if it is one valid JSON value. */
static int
jp_parse(struct jp *j, const char *s)
{
	memset(j, 0, sizeof(*j));
	j->p = s;
	j->end = s + strlen(s);
	if (!jp_value(j, 0))
		return 0;
	jp_ws(j);
	return j->p == j->end;
}

/* The text of the leaf at path, or NULL. */
static const char *
jp_get(const struct jp *j, const char *path)
{
	size_t	 i, n = strlen(path);

	for (i = 0; i < j->nleaves; i++)
		if (strncmp(j->leaf[i], path, n) == 0 && j->leaf[i][n] == '=')
			return j->leaf[i] + n + 1;
	return NULL;
}

static void
jp_free(struct jp *j)
{
	size_t	 i;

	for (i = 0; i < j->nleaves; i++)
		free(j->leaf[i]);
}

#define ck_json(j, path, want) do {					\
	const char *v_ = jp_get(j, path);				\
	ck_assert_msg(v_ != NULL, "missing: %s", path);			\
	ck_assert_msg(strcmp(v_, want) == 0, "%s: %s, want %s", path,	\
	    v_, want);							\
} while (0)

static char *
render_json(const struct stats_snapshot *s, struct jp *j)
{
	struct evbuffer	*b;
	char		*text;

	ck_assert_ptr_nonnull(b = evbuffer_new());
	ck_assert_int_eq(stats_json(s, b), 0);
	text = buf_str(b);
	evbuffer_free(b);
	ck_assert_msg(jp_parse(j, text), "not valid JSON: %s", text);
	return text;
}

START_TEST(test_jp_parser)
{
	struct jp	 j;
	static const char *const bad[] = { "", "{", "{\"a\":1,}", "[1,]",
	    "{\"a\" 1}", "01", "1.", "-", "\"\x01\"", "\"\\x\"", "nul",
	    "{\"a\":1,\"a\":2}", "[1] [2]", "{'a':1}", "NaN", "Infinity",
	    "\"\\u12\"", "\"\xc3\xa9\"" };
	size_t		 i;

	ck_assert(jp_parse(&j, " {\"a\":[1,-2.5e3,{\"b\":null}],\"c\":{},"
	    "\"d\":[],\"e\":\"x\\\"\\u00e9\",\"f\":true} "));
	ck_json(&j, ".a[0]", "1");
	ck_json(&j, ".a[1]", "-2.5e3");
	ck_json(&j, ".a[2].b", "null");
	ck_json(&j, ".c", "{}");
	ck_json(&j, ".d", "[]");
	ck_json(&j, ".e", "\"x\\\"\\u00e9\"");
	ck_json(&j, ".f", "true");
	jp_free(&j);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!jp_parse(&j, bad[i]), "parsed: %s", bad[i]);
		jp_free(&j);
	}
}
END_TEST

START_TEST(test_json)
{
	struct stats_snapshot	*s = snapshot(1, 1);
	struct jp		 j;
	char			*text = render_json(s, &j);

	ck_json(&j, ".version", "\"0.1.0\"");
	ck_json(&j, ".now", "1700000100.5");
	ck_json(&j, ".start_time", "1700000000.25");
	ck_json(&j, ".uptime_seconds", "100.25");
	ck_json(&j, ".generation", "3");
	ck_json(&j, ".workers", "2");
	ck_json(&j, ".queries.udp", "10");
	ck_json(&j, ".queries.tcp", "3");
	ck_json(&j, ".qtypes.A", "7");
	ck_json(&j, ".qtypes.MX", "0");
	ck_json(&j, ".qtypes.other", "2");
	ck_json(&j, ".decisions.allow.default", "8");
	ck_json(&j, ".decisions.block.feed", "3");
	ck_json(&j, ".decisions.none.acl", "1");
	ck_json(&j, ".decisions.none.other", "1");
	ck_json(&j, ".decisions.alert", "{}");
	ck_assert_ptr_null(jp_get(&j, ".decisions.block.default"));
	ck_json(&j, ".rcodes.NOERROR", "9");
	ck_json(&j, ".rcodes.NXDOMAIN", "3");
	ck_json(&j, ".rcodes.none", "1");
	ck_json(&j, ".rcodes.RESERVED15", "0");
	ck_json(&j, ".tcp_connections.accepted", "3");
	ck_json(&j, ".tcp_connections.rejected", "1");
	ck_json(&j, ".overload", "2");
	ck_json(&j, ".send_errors", "9");
	ck_json(&j, ".cache.hits", "11");
	ck_json(&j, ".cache.max_bytes", "1048576");
	ck_json(&j, ".upstreams[0].name", "\"192.0.2.1:53\"");
	ck_json(&j, ".upstreams[0].up", "true");
	ck_json(&j, ".upstreams[0].srtt_ms", "1.5");
	ck_json(&j, ".upstreams[0].queries", "6");
	ck_json(&j, ".upstreams[0].timeouts", "1");
	ck_json(&j, ".upstreams[0].rtt_us.250", "1");
	ck_json(&j, ".upstreams[0].rtt_us.1000", "2");
	ck_json(&j, ".upstreams[0].rtt_us.inf", "1");
	ck_json(&j, ".upstreams[0].rtt_sum_us", "2012345");
	ck_json(&j, ".upstreams[1].name", "\"[2001:db8::1]:53\"");
	ck_json(&j, ".upstreams[1].up", "false");
	ck_assert_ptr_null(jp_get(&j, ".upstreams[2].name"));
	ck_json(&j, ".feeds[0].id", "\"ads\"");
	ck_json(&j, ".feeds[0].path", "\"/var/lib/dnsward/\\\"ads\\\".txt\"");
	ck_json(&j, ".feeds[0].entries", "1000");
	ck_json(&j, ".feeds[0].loaded_at", "1700000050.75");
	ck_json(&j, ".feeds[0].load_seconds", "0.1");
	ck_json(&j, ".feeds[0].refresh_seconds", "300");
	ck_json(&j, ".feeds[1].id", "\"we\\\"ird\\\\id\\nx\"");
	ck_json(&j, ".feeds[1].sha256", "\"\"");
	ck_json(&j, ".reloads.success", "2");
	ck_json(&j, ".reloads.failure", "1");
	ck_json(&j, ".reloads.last", "1700000090");
	ck_json(&j, ".reloads.feed_refreshes", "5");
	ck_json(&j, ".decision_log.written", "20");
	ck_json(&j, ".decision_log.dropped", "1");
	ck_json(&j, ".geo_errors", "4");
	jp_free(&j);
	free(text);
	free(s);
}
END_TEST

START_TEST(test_json_optional)
{
	struct stats_snapshot	*s = snapshot(0, 0);
	struct jp		 j;
	char			*text;

	s->nupstreams = 0;
	s->nfeeds = 0;
	s->last_reload = 0;
	s->version = NULL;
	memset(&s->sum, 0, sizeof(s->sum));
	text = render_json(s, &j);
	ck_json(&j, ".version", "null");
	ck_json(&j, ".cache", "null");
	ck_json(&j, ".decision_log", "null");
	ck_json(&j, ".upstreams", "[]");
	ck_json(&j, ".feeds", "[]");
	ck_json(&j, ".reloads.last", "null");
	ck_json(&j, ".decisions.allow", "{}");
	jp_free(&j);
	free(text);
	free(s);
}
END_TEST

START_TEST(test_json_hostile)
{
	struct stats_snapshot	*s = snapshot(1, 1);
	struct jp		 j;
	char			*text, *big;

	/* Full arrays, control and high bytes, non-finite doubles. */
	memset(s->feeds[0].path, '\x01', sizeof(s->feeds[0].path));
	memset(s->feeds[0].sha256, '\xff', sizeof(s->feeds[0].sha256));
	memset(s->upstreams[0].name, '"', sizeof(s->upstreams[0].name));
	ck_assert_ptr_nonnull(big = malloc(10000));
	memset(big, '\\', 9999);
	big[9999] = '\0';
	s->version = big;
	s->now = NAN;
	s->feeds[0].loaded_at = INFINITY;
	s->upstreams[0].srtt_ms = -INFINITY;
	s->nupstreams = STATS_MAX_UPSTREAMS + 7;
	s->nfeeds = STATS_MAX_FEEDS + 7;
	text = render_json(s, &j);
	ck_json(&j, ".now", "null");
	ck_json(&j, ".uptime_seconds", "null");
	ck_json(&j, ".feeds[0].loaded_at", "null");
	ck_json(&j, ".upstreams[0].srtt_ms", "null");
	ck_assert_uint_eq(strlen(jp_get(&j, ".version")), 2 * 9999 + 2);
	ck_assert_uint_eq(strlen(jp_get(&j, ".feeds[0].path")), 6 * 256 + 2);
	ck_assert_ptr_nonnull(jp_get(&j, ".upstreams[127].name"));
	ck_assert_ptr_null(jp_get(&j, ".upstreams[128].name"));
	ck_assert_ptr_nonnull(jp_get(&j, ".feeds[255].id"));
	ck_assert_ptr_null(jp_get(&j, ".feeds[256].id"));
	jp_free(&j);
	free(text);
	free(big);
	free(s);
}
END_TEST

/*
 * metrics.c end to end: the endpoint on a loopback port, fetched by a
 * blocking client in a thread while the test runs the event loop.
 */

struct render {
	int		 fail;		/* return -1 */
	int		 calls;
};

static int
render_test(void *arg, struct evbuffer *out)
{
	struct render	*r = arg;

	r->calls++;
	if (r->fail)
		return -1;
	return evbuffer_add_printf(out, "dnsward_test %d\n", r->calls) < 0 ?
	    -1 : 0;
}

static int
render_snapshot(void *arg, struct evbuffer *out)
{
	return stats_prometheus(arg, out);
}

/* A port that was free a moment ago. */
static uint16_t
free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

struct fetch {
	struct event_base *base;
	int		 family;
	uint16_t	 port;
	int		 fd;		/* fetch_rest(): connected, sent */
	const char	*request;
	char		 resp[1 << 17];
	size_t		 len;
	atomic_int	 done;
};

static void *
fetch_run(void *arg)
{
	struct fetch		*f = arg;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct timeval		 tv = { 5, 0 };
	ssize_t			 n;
	int			 fd;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = f->family;
	if (f->family == AF_INET) {
		sin->sin_port = htons(f->port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		sin6->sin6_port = htons(f->port);
		sin6->sin6_addr = in6addr_loopback;
	}
	f->len = 0;
	if ((fd = socket(f->family, SOCK_STREAM, 0)) == -1)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, f->family == AF_INET ?
	    sizeof(*sin) : sizeof(*sin6)) == -1 ||
	    write(fd, f->request, strlen(f->request)) !=
	    (ssize_t)strlen(f->request)) {
		close(fd);
		goto out;
	}
	while (f->len < sizeof(f->resp) - 1 && (n = read(fd,
	    f->resp + f->len, sizeof(f->resp) - 1 - f->len)) > 0)
		f->len += (size_t)n;
	close(fd);
out:
	f->resp[f->len] = '\0';
	atomic_store(&f->done, 1);
	return NULL;
}

static void
fetch_poll(evutil_socket_t fd, short ev, void *arg)
{
	struct fetch	*f = arg;

	if (atomic_load(&f->done))
		event_base_loopbreak(f->base);
}

/* Send request to the endpoint; the whole response in f->resp. */
static struct fetch *
fetch(struct event_base *base, int family, uint16_t port,
    const char *request)
{
	static struct fetch	 f;
	struct event		*ev;
	struct timeval		 tv = { 0, 2000 };
	pthread_t		 t;

	memset(&f, 0, sizeof(f));
	f.base = base;
	f.family = family;
	f.port = port;
	f.request = request;
	ck_assert_ptr_nonnull(ev = event_new(base, -1, EV_PERSIST, fetch_poll,
	    &f));
	event_add(ev, &tv);
	ck_assert_int_eq(pthread_create(&t, NULL, fetch_run, &f), 0);
	while (!atomic_load(&f.done))
		event_base_loop(base, 0);
	pthread_join(t, NULL);
	event_free(ev);
	return &f;
}

static int
http_status(const struct fetch *f)
{
	int	 code;

	if (sscanf(f->resp, "HTTP/1.%*d %d ", &code) != 1)
		return -1;
	return code;
}

/* The value of header name (first one), or NULL. */
static const char *
http_header(const struct fetch *f, const char *name)
{
	static char	 value[256];
	const char	*p = f->resp, *end = strstr(f->resp, "\r\n\r\n");
	size_t		 n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL && p < end) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			snprintf(value, sizeof(value), "%.*s",
			    (int)strcspn(p, "\r"), p);
			return value;
		}
	}
	return NULL;
}

static const char *
http_body(const struct fetch *f)
{
	const char	*p = strstr(f->resp, "\r\n\r\n");

	return p != NULL ? p + 4 : NULL;
}

/* Read what is left of f's response on fd (already sent). */
static void *
fetch_rest(void *arg)
{
	struct fetch	*f = arg;
	ssize_t		 n;

	while (f->len < sizeof(f->resp) - 1 && (n = read(f->fd,
	    f->resp + f->len, sizeof(f->resp) - 1 - f->len)) > 0)
		f->len += (size_t)n;
	f->resp[f->len] = '\0';
	atomic_store(&f->done, 1);
	return NULL;
}

static struct metrics *
endpoint(struct event_base *base, const char *ip, uint16_t *port,
    metrics_fn fn, void *arg)
{
	struct metrics	*m;
	struct addr	 a;
	char		 text[64], err[256];
	const char	*why;

	*port = free_port();
	snprintf(text, sizeof(text), strchr(ip, ':') != NULL ? "[%s]:%u" :
	    "%s:%u", ip, *port);
	ck_assert_int_eq(addr_parse(text, 9153, &a, &why), 0);
	m = metrics_new(base, &a, text, fn, arg, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	return m;
}

#define GET(path)	"GET " path " HTTP/1.1\r\nHost: t\r\n" \
			"Connection: close\r\n\r\n"

START_TEST(test_metrics_http)
{
	struct event_base	*base;
	struct metrics		*m;
	struct render		 r = { 0, 0 };
	struct fetch		*f;
	uint16_t		 port;

	ck_assert_ptr_nonnull(base = event_base_new());
	m = endpoint(base, "127.0.0.1", &port, render_test, &r);

	f = fetch(base, AF_INET, port, GET("/metrics"));
	ck_assert_int_eq(http_status(f), 200);
	ck_assert_str_eq(http_header(f, "Content-Type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_str_eq(http_header(f, "Content-Length"), "15");
	ck_assert_str_eq(http_body(f), "dnsward_test 1\n");

	/* A query string is ignored; HTTP/1.0 works. */
	f = fetch(base, AF_INET, port,
	    "GET /metrics?name[]=x HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(http_status(f), 200);
	ck_assert_str_eq(http_body(f), "dnsward_test 2\n");

	/* HEAD: the headers (length of what GET would send), no body. */
	f = fetch(base, AF_INET, port, "HEAD /metrics HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(http_status(f), 200);
	ck_assert_str_eq(http_header(f, "Content-Type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_str_eq(http_header(f, "Content-Length"), "15");
	ck_assert_str_eq(http_body(f), "");
	f = fetch(base, AF_INET, port, "HEAD /nope HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(http_status(f), 404);
	ck_assert_str_eq(http_body(f), "");

	f = fetch(base, AF_INET, port, GET("/"));
	ck_assert_int_eq(http_status(f), 200);
	ck_assert_str_eq(http_header(f, "Content-Type"),
	    "text/html; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(http_body(f), "href=\"/metrics\""));

	f = fetch(base, AF_INET, port, GET("/nope"));
	ck_assert_int_eq(http_status(f), 404);
	f = fetch(base, AF_INET, port, GET("/metrics/"));
	ck_assert_int_eq(http_status(f), 404);

	f = fetch(base, AF_INET, port, "POST /metrics HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 3\r\nConnection: close\r\n\r\nabc");
	ck_assert_int_eq(http_status(f), 405);
	ck_assert_msg(http_header(f, "Allow") != NULL, "%s", f->resp);
	ck_assert_str_eq(http_header(f, "Allow"), "GET, HEAD");
	f = fetch(base, AF_INET, port, "DELETE /metrics HTTP/1.1\r\n"
	    "Host: t\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(http_status(f), 405);

	/* Garbage and oversized headers are refused, not served. */
	f = fetch(base, AF_INET, port, "BREW /metrics HTCPCP/1.0\r\n\r\n");
	ck_assert_int_ne(http_status(f), 200);
	ck_assert_int_eq(r.calls, 3);

	r.fail = 1;
	f = fetch(base, AF_INET, port, GET("/metrics"));
	ck_assert_int_eq(http_status(f), 500);

	metrics_free(m);
	metrics_free(NULL);
	event_base_free(base);
}
END_TEST

START_TEST(test_metrics_big_headers)
{
	struct event_base	*base;
	struct metrics		*m;
	struct render		 r = { 0, 0 };
	struct fetch		*f;
	char			*req;
	uint16_t		 port;

	ck_assert_ptr_nonnull(base = event_base_new());
	m = endpoint(base, "127.0.0.1", &port, render_test, &r);
	ck_assert_ptr_nonnull(req = malloc(20000));
	snprintf(req, 20000, "GET /metrics HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\nX-Big: %0*d\r\n\r\n", 16000, 0);
	f = fetch(base, AF_INET, port, req);
	ck_assert_int_ne(http_status(f), 200);
	ck_assert_int_eq(r.calls, 0);
	free(req);
	metrics_free(m);
	event_base_free(base);
}
END_TEST

START_TEST(test_metrics_snapshot_v6)
{
	struct event_base	*base;
	struct metrics		*m;
	struct stats_snapshot	*s = snapshot(1, 1);
	struct fetch		*f;
	struct prom		 p;
	char			*want;
	uint16_t		 port;
	int			 fd;

	/* Skip where the machine has no IPv6 loopback. */
	if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) == -1) {
		free(s);
		return;
	}
	close(fd);
	ck_assert_ptr_nonnull(base = event_base_new());
	m = endpoint(base, "::1", &port, render_snapshot, s);
	f = fetch(base, AF_INET6, port, GET("/metrics"));
	ck_assert_int_eq(http_status(f), 200);
	want = render_prom(s);
	ck_assert_str_eq(http_body(f), want);
	prom_parse(&p, http_body(f));
	prom_free(&p);
	free(want);
	metrics_free(m);
	event_base_free(base);
	free(s);
}
END_TEST

/*
 * Out of descriptors, accept() fails: the listener pauses (one warning,
 * no busy loop), then serves the waiting client once it can.
 */
START_TEST(test_metrics_accept_pause)
{
	struct event_base	*base;
	struct metrics		*m;
	struct render		 r = { 0, 0 };
	static struct fetch	 f;
	struct sockaddr_in	 sin;
	struct rlimit		 old, low;
	struct timeval		 tv = { 0, 300000 }, poll = { 0, 2000 };
	struct event		*ev;
	pthread_t		 t;
	FILE			*errf;
	char			 line[256];
	int			 fd, saved, fill[512], nfill = 0, warnings = 0;
	uint16_t		 port;

	ck_assert_ptr_nonnull(base = event_base_new());
	m = endpoint(base, "127.0.0.1", &port, render_test, &r);
	ck_assert_ptr_nonnull(errf = tmpfile());
	fflush(stderr);
	ck_assert_int_ge(saved = dup(2), 0);
	ck_assert_int_eq(dup2(fileno(errf), 2), 2);

	/* The kernel completes the connection; nobody accepts it yet. */
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_gt(write(fd, GET("/metrics"), strlen(GET("/metrics"))),
	    0);

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 256;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nfill < 512 && (fill[nfill] = open("/dev/null", O_RDONLY)) !=
	    -1)
		nfill++;
	ck_assert_int_lt(nfill, 512);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	while (nfill > 0)
		close(fill[--nfill]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);

	/* Resumed after a second: the client gets its answer. */
	memset(&f, 0, sizeof(f));
	f.base = base;
	f.fd = fd;
	ck_assert_ptr_nonnull(ev = event_new(base, -1, EV_PERSIST,
	    fetch_poll, &f));
	event_add(ev, &poll);
	ck_assert_int_eq(pthread_create(&t, NULL, fetch_rest, &f), 0);
	while (!atomic_load(&f.done))
		event_base_loop(base, 0);
	pthread_join(t, NULL);
	event_free(ev);
	close(fd);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(errf);
	while (fgets(line, sizeof(line), errf) != NULL)
		if (strstr(line, "metrics: accept: ") != NULL)
			warnings++;
	fclose(errf);
	ck_assert_int_eq(warnings, 1);
	ck_assert_int_eq(http_status(&f), 200);
	ck_assert_str_eq(http_body(&f), "dnsward_test 1\n");
	metrics_free(m);
	event_base_free(base);
}
END_TEST

START_TEST(test_metrics_listen_errors)
{
	struct event_base	*base;
	struct metrics		*m, *m2;
	struct render		 r = { 0, 0 };
	struct addr		 a;
	char			 text[64], want[128], err[256];
	const char		*why;
	uint16_t		 port;

	ck_assert_ptr_nonnull(base = event_base_new());
	m = endpoint(base, "127.0.0.1", &port, render_test, &r);
	snprintf(text, sizeof(text), "127.0.0.1:%u", port);
	ck_assert_int_eq(addr_parse(text, 9153, &a, &why), 0);
	m2 = metrics_new(base, &a, "here", render_test, &r, err, sizeof(err));
	ck_assert_ptr_null(m2);
	ck_assert_str_eq(err, "metrics.listen here: bind: Address already in "
	    "use");

	/* An address this machine does not have. */
	ck_assert_int_eq(addr_parse("192.0.2.1:9153", 9153, &a, &why), 0);
	m2 = metrics_new(base, &a, "192.0.2.1:9153", render_test, &r, err,
	    sizeof(err));
	ck_assert_ptr_null(m2);
	snprintf(want, sizeof(want), "metrics.listen 192.0.2.1:9153: bind: ");
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	metrics_free(m);
	event_base_free(base);
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite	*s = suite_create("stats");
	TCase	*tc;

	tc = tcase_create("tables");
	tcase_add_test(tc, test_qtype_index);
	tcase_add_test(tc, test_rcode_index);
	tcase_add_test(tc, test_reason_index);
	tcase_add_test(tc, test_rtt_bucket);
	tcase_add_test(tc, test_sum_add);
	suite_add_tcase(s, tc);

	tc = tcase_create("prometheus");
	tcase_add_test(tc, test_prometheus);
	tcase_add_test(tc, test_prometheus_upstreams);
	tcase_add_test(tc, test_prometheus_feeds);
	tcase_add_test(tc, test_prometheus_optional);
	tcase_add_test(tc, test_prometheus_hostile);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_jp_parser);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_optional);
	tcase_add_test(tc, test_json_hostile);
	suite_add_tcase(s, tc);

	tc = tcase_create("metrics");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_metrics_http);
	tcase_add_test(tc, test_metrics_big_headers);
	tcase_add_test(tc, test_metrics_snapshot_v6);
	tcase_add_test(tc, test_metrics_accept_pause);
	tcase_add_test(tc, test_metrics_listen_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(stats_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
