/*
 * check_dlog.c -- unit tests for the decision log: JSON escaping, the exact
 * line dlog_format() writes, and the rings and writer thread end to end.
 *
 * Every line written is also run through a small strict JSON checker
 * (json_valid() below) so a hostile name or answer can never produce a line
 * a log shipper would reject.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "addr.h"
#include "dlog.h"
#include "wire.h"

/* 2026-11-23T10:34:25.123Z */
#define TEST_SEC	1795430065
#define TEST_NSEC	123456789

#define LINE_MAX_TEST	65536

/*
 * A strict JSON syntax checker (RFC 8259), ASCII only: what we promise.
 */

struct jp {
	const char	*p;
	const char	*end;
};

static int	json_value(struct jp *, int);

static void
json_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
json_lit(struct jp *j, const char *lit)
{
	size_t	n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int
json_digits(struct jp *j)
{
	const char	*start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static int
json_number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j->p >= j->end || *j->p < '1' || *j->p > '9' ||
	    !json_digits(j))
		return 0;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!json_digits(j))
			return 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!json_digits(j))
			return 0;
	}
	return 1;
}

static int
json_string(struct jp *j)
{
	unsigned char	c;
	int		i;

	if (j->p >= j->end || *j->p++ != '"')
		return 0;
	while (j->p < j->end) {
		c = (unsigned char)*j->p++;
		if (c == '"')
			return 1;
		if (c < 0x20 || c >= 0x7f)
			return 0;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return 0;
		c = (unsigned char)*j->p++;
		if (strchr("\"\\/bfnrt", c) != NULL && c != 0)
			continue;
		if (c != 'u')
			return 0;
		for (i = 0; i < 4; i++, j->p++)
			if (j->p >= j->end || strchr("0123456789abcdefABCDEF",
			    *j->p) == NULL || *j->p == 0)
				return 0;
	}
	return 0;
}

/* Elements of an array (obj == 0) or members of an object (obj == 1). */
static int
json_items(struct jp *j, int obj, char close, int depth)
{
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 1;
	}
	for (;;) {
		json_ws(j);
		if (obj) {
			if (!json_string(j))
				return 0;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return 0;
		}
		if (!json_value(j, depth + 1))
			return 0;
		json_ws(j);
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
json_value(struct jp *j, int depth)
{
	if (depth > 64)
		return 0;
	json_ws(j);
	if (j->p >= j->end)
		return 0;
	switch (*j->p) {
	case '{':
		j->p++;
		return json_items(j, 1, '}', depth);
	case '[':
		j->p++;
		return json_items(j, 0, ']', depth);
	case '"':
		return json_string(j);
	case 't':
		return json_lit(j, "true");
	case 'f':
		return json_lit(j, "false");
	case 'n':
		return json_lit(j, "null");
	default:
		return json_number(j);
	}
}

static int
json_valid(const char *s, size_t len)
{
	struct jp	j = { s, s + len };

	if (!json_value(&j, 0))
		return 0;
	json_ws(&j);
	return j.p == j.end;
}

/*
 * Fixtures.
 */

static void
set_ip(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
}

/* The record of the example in dlog.h. */
static void
make_rec(struct dlog_rec *rec)
{
	static const uint8_t	qname[] = "\007example\003com";

	memset(rec, 0, sizeof(*rec));
	rec->ts.tv_sec = TEST_SEC;
	rec->ts.tv_nsec = TEST_NSEC;
	set_ip(&rec->src, "127.0.0.1", 40000);
	rec->transport = DLOG_UDP;
	rec->worker = 0;
	memcpy(rec->qname, qname, sizeof(qname));
	rec->qname_len = sizeof(qname);
	rec->qtype = LDNS_RR_TYPE_A;
	rec->qclass = LDNS_RR_CLASS_IN;
	rec->rcode = 0;
	rec->action = DLOG_ACTION_ALLOW;
	rec->reason = "default";
	rec->cache = "miss";
	rec->has_upstream = 1;
	set_ip(&rec->upstream.ss, "127.0.0.1", 5300);
	rec->upstream.len = sizeof(struct sockaddr_in);
	rec->latency_us = 812;
}

/* A reply whose answer section holds the given RRs (presentation form). */
static uint8_t *
make_reply(const char **rrs, size_t n, size_t *len)
{
	ldns_pkt	*pkt;
	ldns_rr		*rr;
	uint8_t		*wire;
	size_t		 i;

	ck_assert_ptr_nonnull(pkt = ldns_pkt_new());
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_id(pkt, 4242);
	for (i = 0; i < n; i++) {
		ck_assert_msg(ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL) ==
		    LDNS_STATUS_OK, "bad test rr: %s", rrs[i]);
		ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	ck_assert_int_eq(ldns_pkt2wire(&wire, pkt, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	return wire;
}

static size_t
format(const struct dlog_rec *rec, const uint8_t *reply, size_t len,
    char *buf)
{
	size_t	n;

	n = dlog_format(rec, reply, len, buf, LINE_MAX_TEST);
	ck_assert_uint_lt(n, LINE_MAX_TEST);
	ck_assert_uint_eq(strlen(buf), n);
	ck_assert_msg(json_valid(buf, n), "not valid JSON: %s", buf);
	return n;
}

/*
 * JSON checker self-test: it must reject what it is there to catch.
 */

START_TEST(test_json_checker)
{
	static const char *good[] = {
		"{}", "[]", "{\"a\":[1,-2.5e+3,true,false,null,\"\\u00ff\"]}",
		" {\"a\" : {\"b\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}} ", "0",
	};
	static const char *bad[] = {
		"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01",
		"\"\\x\"", "\"\\u00g0\"", "\"tab\there\"", "\"\x7f\"",
		"\"\xc3\xa9\"", "{} {}", "\"open", "tru", "1.", "-", "[1 2]",
	};
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(json_valid(good[i], strlen(good[i])),
		    "rejected %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!json_valid(bad[i], strlen(bad[i])),
		    "accepted %s", bad[i]);
	ck_assert(!json_valid("\"a\0b\"", 5));
}
END_TEST

/*
 * dlog_json_escape()
 */

START_TEST(test_escape_hostile)
{
	static const char	src[] = "a\"b\\c\n\t\r\b\f\x01\x1f\x7f\xff"
	    "\0z/ ~";
	const char		*want = "a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001"
	    "\\u001f\\u007f\\u00ff\\u0000z/ ~";
	char			 out[128];
	size_t			 n;

	n = dlog_json_escape(src, sizeof(src) - 1, out, sizeof(out));
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
}
END_TEST

START_TEST(test_escape_bounds)
{
	const char	*src = "q\"\xff";	/* escapes to q\"\u00ff, 9 bytes */
	char		 out[16];
	size_t		 i;

	ck_assert_uint_eq(dlog_json_escape(src, 3, NULL, 0), 9);
	for (i = 1; i <= 10; i++) {
		memset(out, 'X', sizeof(out));
		ck_assert_uint_eq(dlog_json_escape(src, 3, out, i), 9);
		ck_assert_uint_eq(strlen(out), i - 1 < 9 ? i - 1 : 9);
		ck_assert_int_eq(strncmp(out, "q\\\"\\u00ff", i - 1), 0);
		ck_assert_int_eq(out[i], 'X');
	}
	ck_assert_uint_eq(dlog_json_escape("", 0, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/*
 * dlog_format()
 */

START_TEST(test_format_example)
{
	const char	*rrs[] = { "example.com. 300 IN A 192.0.2.1" };
	struct dlog_rec	 rec;
	char		 buf[LINE_MAX_TEST];
	uint8_t		*reply;
	size_t		 len;

	make_rec(&rec);
	reply = make_reply(rrs, 1, &len);
	format(&rec, reply, len, buf);
	ck_assert_str_eq(buf,
	    "{\"query_timestamp\":\"2026-11-23T10:34:25.123Z\","
	    "\"srcaddr\":\"127.0.0.1\",\"srcport\":40000,\"transport\":\"UDP\","
	    "\"query_name\":\"example.com.\",\"query_type\":\"A\","
	    "\"query_class\":\"IN\",\"rcode\":\"NOERROR\","
	    "\"answers\":[{\"Rdata\":\"192.0.2.1\",\"Type\":\"A\","
	    "\"Class\":\"IN\"}],\"firewall_rule_action\":\"ALLOW\","
	    "\"firewall_rule_group_id\":null,\"rule\":null,"
	    "\"firewall_domain_list_id\":null,\"matched_name\":null,"
	    "\"reason\":\"default\",\"upstream\":\"127.0.0.1:5300\","
	    "\"cache\":\"miss\",\"latency_us\":812,\"id\":0}");
	free(reply);
}
END_TEST

START_TEST(test_format_ipv6_tcp)
{
	struct dlog_rec	rec;
	char		buf[LINE_MAX_TEST];

	make_rec(&rec);
	set_ip(&rec.src, "2001:db8::7", 53000);
	rec.transport = DLOG_TCP;
	set_ip(&rec.upstream.ss, "2001:db8::53", 53);
	rec.upstream.len = sizeof(struct sockaddr_in6);
	rec.ts.tv_nsec = 9000000;		/* 9 ms: zero padded */
	rec.worker = 3;
	rec.action = DLOG_ACTION_ALERT;
	rec.reason = "rule \"txt-watch\"";
	rec.cache = NULL;
	format(&rec, NULL, 0, buf);
	ck_assert_str_eq(buf,
	    "{\"query_timestamp\":\"2026-11-23T10:34:25.009Z\","
	    "\"srcaddr\":\"2001:db8::7\",\"srcport\":53000,"
	    "\"transport\":\"TCP\",\"query_name\":\"example.com.\","
	    "\"query_type\":\"A\",\"query_class\":\"IN\","
	    "\"rcode\":\"NOERROR\",\"answers\":[],"
	    "\"firewall_rule_action\":\"ALERT\","
	    "\"firewall_rule_group_id\":null,\"rule\":null,"
	    "\"firewall_domain_list_id\":null,\"matched_name\":null,"
	    "\"reason\":\"rule \\\"txt-watch\\\"\","
	    "\"upstream\":\"[2001:db8::53]:53\",\"latency_us\":812,\"id\":3}");
}
END_TEST

START_TEST(test_format_hostile_qname)
{
	/* a.b  q"t  b\s  "s p"  00 7f ff */
	static const uint8_t	qname[] = "\003a.b\003q\"t\003b\\s\003s p"
	    "\003\x00\x7f\xff";
	struct dlog_rec		rec;
	char			buf[LINE_MAX_TEST];

	make_rec(&rec);
	memcpy(rec.qname, qname, sizeof(qname));
	rec.qname_len = sizeof(qname);
	format(&rec, NULL, 0, buf);
	/* presentation: a\.b.q\"t.b\\s.s\ p.\000\127\255. -- then JSON */
	ck_assert_ptr_nonnull(strstr(buf,
	    ",\"query_name\":\"a\\\\.b.q\\\\\\\"t.b\\\\\\\\s.s\\\\ p."
	    "\\\\000\\\\127\\\\255.\",\"query_type\":"));
}
END_TEST

START_TEST(test_format_root_and_ascii_only)
{
	struct dlog_rec	rec;
	char		buf[LINE_MAX_TEST];
	size_t		n, i;

	make_rec(&rec);
	rec.qname[0] = 0;
	rec.qname_len = 1;
	rec.qtype = LDNS_RR_TYPE_NS;
	n = format(&rec, NULL, 0, buf);
	ck_assert_ptr_nonnull(strstr(buf, ",\"query_name\":\".\","
	    "\"query_type\":\"NS\","));
	for (i = 0; i < n; i++)
		ck_assert(buf[i] >= 0x20 && buf[i] < 0x7f);
}
END_TEST

START_TEST(test_format_no_question)
{
	struct dlog_rec	rec;
	char		buf[LINE_MAX_TEST];

	make_rec(&rec);
	rec.qname_len = 0;
	rec.rcode = LDNS_RCODE_FORMERR;
	rec.action = DLOG_ACTION_NONE;
	rec.reason = NULL;
	rec.cache = NULL;
	rec.has_upstream = 0;
	rec.latency_us = 0;
	rec.worker = 1;
	format(&rec, NULL, 0, buf);
	ck_assert_str_eq(buf,
	    "{\"query_timestamp\":\"2026-11-23T10:34:25.123Z\","
	    "\"srcaddr\":\"127.0.0.1\",\"srcport\":40000,\"transport\":\"UDP\","
	    "\"query_name\":null,\"query_type\":null,\"query_class\":null,"
	    "\"rcode\":\"FORMERR\",\"answers\":[],"
	    "\"firewall_rule_action\":\"NONE\","
	    "\"firewall_rule_group_id\":null,\"rule\":null,"
	    "\"firewall_domain_list_id\":null,\"matched_name\":null,"
	    "\"latency_us\":0,\"id\":1}");
}
END_TEST

START_TEST(test_format_dropped)
{
	struct dlog_rec	rec;
	char		buf[LINE_MAX_TEST];

	make_rec(&rec);
	rec.rcode = -1;
	rec.action = DLOG_ACTION_BLOCK;
	rec.reason = "feed";
	snprintf(rec.group, sizeof(rec.group), "base\"line");
	snprintf(rec.rule, sizeof(rec.rule), "malware");
	snprintf(rec.feed, sizeof(rec.feed), "mal-feed");
	memcpy(rec.matched, "\001t\004evil\004test", 13);
	rec.matched_len = 13;	/* with the root, the literal's NUL */
	rec.cache = NULL;
	rec.has_upstream = 0;
	format(&rec, NULL, 0, buf);
	ck_assert_ptr_nonnull(strstr(buf, ",\"rcode\":null,\"answers\":[],"
	    "\"firewall_rule_action\":\"BLOCK\","
	    "\"firewall_rule_group_id\":\"base\\\"line\",\"rule\":\"malware\","
	    "\"firewall_domain_list_id\":\"mal-feed\","
	    "\"matched_name\":\"t.evil.test.\",\"reason\":\"feed\","
	    "\"latency_us\":812,\"id\":0}"));
}
END_TEST

START_TEST(test_format_rcodes)
{
	static const struct {
		int		 rcode;
		const char	*text;
	} t[] = {
		{ 0, "NOERROR" }, { 1, "FORMERR" }, { 2, "SERVFAIL" },
		{ 3, "NXDOMAIN" }, { 4, "NOTIMP" }, { 5, "REFUSED" },
		{ 6, "YXDOMAIN" }, { 7, "YXRRSET" }, { 8, "NXRRSET" },
		{ 9, "NOTAUTH" }, { 10, "NOTZONE" }, { 11, "RCODE11" },
		{ 15, "RCODE15" }, { 16, "BADVERS" }, { 23, "RCODE23" },
		{ 4095, "RCODE4095" },
	};
	struct dlog_rec	rec;
	char		buf[LINE_MAX_TEST], want[64];
	size_t		i;

	make_rec(&rec);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rec.rcode = t[i].rcode;
		format(&rec, NULL, 0, buf);
		snprintf(want, sizeof(want), ",\"rcode\":\"%s\",", t[i].text);
		ck_assert_msg(strstr(buf, want) != NULL, "%d: %s",
		    t[i].rcode, buf);
	}
}
END_TEST

START_TEST(test_format_answers)
{
	const char	*rrs[] = {
		"example.com. 300 IN A 192.0.2.1",
		"example.com. 300 IN AAAA 2001:db8::1",
		"example.com. 300 IN TXT \"say \\\"hi\\\"\" \"back\\\\slash\"",
		"example.com. 300 IN MX 10 mail.example.com.",
		"www.example.com. 300 IN CNAME example.com.",
	};
	struct dlog_rec	 rec;
	char		 buf[LINE_MAX_TEST];
	uint8_t		*reply;
	size_t		 len;

	make_rec(&rec);
	reply = make_reply(rrs, 5, &len);
	format(&rec, reply, len, buf);
	ck_assert_ptr_nonnull(strstr(buf, ",\"answers\":["
	    "{\"Rdata\":\"192.0.2.1\",\"Type\":\"A\",\"Class\":\"IN\"},"
	    "{\"Rdata\":\"2001:db8::1\",\"Type\":\"AAAA\",\"Class\":\"IN\"},"
	    "{\"Rdata\":\"\\\"say \\\\\\\"hi\\\\\\\"\\\" "
	    "\\\"back\\\\\\\\slash\\\"\",\"Type\":\"TXT\",\"Class\":\"IN\"},"
	    "{\"Rdata\":\"10 mail.example.com.\",\"Type\":\"MX\","
	    "\"Class\":\"IN\"},"
	    "{\"Rdata\":\"example.com.\",\"Type\":\"CNAME\",\"Class\":\"IN\"}"
	    "],\"firewall_rule_action\":"));
	free(reply);
}
END_TEST

/*
 * The writer formats A, AAAA and plain-named CNAME/DNAME/NS/PTR records
 * itself: its text must be what ldns prints, record for record.
 */
START_TEST(test_format_answers_fast_as_ldns)
{
	static const char *sets[][4] = {
		{ "a.example. 60 IN A 0.0.0.0", "a.example. 60 IN A 255.1.10.100",
		  NULL },
		{ "a.example. 60 IN AAAA ::1", "a.example. 60 IN AAAA ::",
		  "a.example. 60 IN AAAA ::ffff:192.0.2.1", NULL },
		{ "a.example. 60 IN AAAA 2001:db8:0:0:1:0:0:1",
		  "a.example. 60 IN AAAA fe80::1:2:3:4", NULL },
		{ "a.example. 60 IN CNAME Mixed-Case_x.Example.COM.",
		  "mixed-case_x.example.com. 60 IN A 192.0.2.7", NULL },
		{ "a.example. 60 IN DNAME b.example.", "a.example. 60 IN NS .",
		  "4.3.2.1.in-addr.arpa. 60 IN PTR a.example.", NULL },
		/* Not plain: the whole set goes through ldns. */
		{ "a.example. 60 IN CNAME we\\.ird.example.",
		  "a.example. 60 IN A 192.0.2.8", NULL },
		{ "a.example. 60 IN CNAME sp\\032ace.example.", NULL },
	};
	struct dlog_rec	 rec;
	char		 buf[LINE_MAX_TEST], want[LINE_MAX_TEST];
	uint8_t		*reply;
	size_t		 i, n, len, w;

	make_rec(&rec);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		for (n = 0; sets[i][n] != NULL; n++)
			;
		reply = make_reply(sets[i], n, &len);
		format(&rec, reply, len, buf);
		/* What ldns prints for each record. */
		w = (size_t)snprintf(want, sizeof(want), ",\"answers\":[");
		for (n = 0; sets[i][n] != NULL; n++) {
			ldns_rr	*rr = NULL;
			char	*rd;

			ck_assert_int_eq(ldns_rr_new_frm_str(&rr, sets[i][n],
			    0, NULL, NULL), LDNS_STATUS_OK);
			rd = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			ck_assert_ptr_nonnull(rd);
			w += (size_t)snprintf(want + w, sizeof(want) - w,
			    "%s{\"Rdata\":\"%s\",\"Type\":\"%s\",\"Class\":"
			    "\"IN\"}", n > 0 ? "," : "",
			    rd, ldns_rr_descript(ldns_rr_get_type(rr))->_name);
			free(rd);
			ldns_rr_free(rr);
		}
		snprintf(want + w, sizeof(want) - w, "],");
		/* ldns escapes a backslash; JSON escapes it again. */
		if (strchr(want, '\\') == NULL)
			ck_assert_msg(strstr(buf, want) != NULL,
			    "set %zu:\n got %s\nwant %s", i, buf, want);
		else
			ck_assert_msg(strstr(buf, "\\\\") != NULL,
			    "set %zu: escaped name: %s", i, buf);
		free(reply);
	}
}
END_TEST

START_TEST(test_format_unknown_type)
{
	const char	*rrs[] = {
		"example.com. 300 CLASS65280 TYPE65280 \\# 3 ab00ff",
	};
	struct dlog_rec	 rec;
	char		 buf[LINE_MAX_TEST];
	uint8_t		*reply;
	size_t		 len;

	make_rec(&rec);
	rec.qtype = 65280;
	rec.qclass = 65280;
	reply = make_reply(rrs, 1, &len);
	format(&rec, reply, len, buf);
	ck_assert_ptr_nonnull(strstr(buf, ",\"query_type\":\"TYPE65280\","
	    "\"query_class\":\"CLASS65280\",\"rcode\":\"NOERROR\","
	    "\"answers\":[{\"Rdata\":\"\\\\# 3 ab00ff\",\"Type\":\"TYPE65280\","
	    "\"Class\":\"CLASS65280\"}],"));
	free(reply);
}
END_TEST

START_TEST(test_format_bad_reply)
{
	static const uint8_t	junk[] = { 0x12, 0x34, 0x81, 0x80, 0, 1,
	    0, 5, 0, 0, 0, 0, 0xc0 };
	const char		*rrs[] = { "example.com. 300 IN A 192.0.2.1" };
	struct dlog_rec		 rec;
	char			 buf[LINE_MAX_TEST];
	uint8_t			*reply;
	size_t			 len;

	make_rec(&rec);
	format(&rec, junk, sizeof(junk), buf);
	ck_assert_ptr_nonnull(strstr(buf, ",\"answers\":[],"));
	/* Cut short inside the answer. */
	reply = make_reply(rrs, 1, &len);
	format(&rec, reply, len - 2, buf);
	ck_assert_ptr_nonnull(strstr(buf, ",\"answers\":[],"));
	/* Non-NULL reply, zero length. */
	format(&rec, reply, 0, buf);
	ck_assert_ptr_nonnull(strstr(buf, ",\"answers\":[],"));
	free(reply);
}
END_TEST

START_TEST(test_format_small_buffer)
{
	const char	*rrs[] = {
		"example.com. 300 IN TXT \"q\\\"\\\\\\255\"",
	};
	struct dlog_rec	 rec;
	char		 full[LINE_MAX_TEST], *b;
	uint8_t		*reply;
	size_t		 len, n, sz;

	make_rec(&rec);
	rec.qname[1] = '"';		/* escapes inside the cut, too */
	reply = make_reply(rrs, 1, &len);
	n = format(&rec, reply, len, full);
	ck_assert_uint_eq(dlog_format(&rec, reply, len, NULL, 0), n);
	for (sz = 1; sz <= n + 1; sz++) {
		/* Exactly sz bytes: ASan catches a write past the end. */
		ck_assert_ptr_nonnull(b = malloc(sz));
		ck_assert_uint_eq(dlog_format(&rec, reply, len, b, sz), n);
		ck_assert_uint_eq(strlen(b), sz - 1 < n ? sz - 1 : n);
		ck_assert_int_eq(memcmp(b, full, strlen(b)), 0);
		free(b);
	}
	free(reply);
}
END_TEST

/*
 * Rings and the writer.
 */

struct tmpdir {
	char	dir[64];
	char	path[128];
};

static void
tmp_make(struct tmpdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/check_dlog.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/decisions.jsonl", t->dir);
}

static void
tmp_clean(struct tmpdir *t)
{
	char	p[160];

	unlink(t->path);
	snprintf(p, sizeof(p), "%s.1", t->path);
	unlink(p);
	rmdir(t->dir);
}

static struct dlog *
open_log(const char *path, unsigned nworkers, size_t ring)
{
	struct dlog_sinks	 sinks = { path, 0, 0 };
	struct dlog		*d;
	char			 err[256];

	d = dlog_new(&sinks, nworkers, ring, err, sizeof(err));
	ck_assert_msg(d != NULL, "dlog_new: %s", err);
	return d;
}

/*
 * Read a log file: every line must be valid JSON.  Returns the line count;
 * with ids non-NULL, checks each worker's latency_us (its sequence number)
 * increases by one, line after line, and counts lines per id.
 */
static size_t
read_log(const char *path, unsigned *ids, unsigned nids)
{
	FILE		*f;
	char		*line = NULL, *p;
	size_t		 cap = 0, lines = 0;
	ssize_t		 n;
	unsigned	 id, seq;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while ((n = getline(&line, &cap, f)) != -1) {
		ck_assert_msg(n > 0 && line[n - 1] == '\n', "no newline");
		ck_assert_msg(json_valid(line, (size_t)n - 1), "bad: %s", line);
		lines++;
		if (ids == NULL)
			continue;
		ck_assert_ptr_nonnull(p = strstr(line, ",\"latency_us\":"));
		ck_assert_int_eq(sscanf(p, ",\"latency_us\":%u,\"id\":%u",
		    &seq, &id), 2);
		ck_assert_uint_lt(id, nids);
		ck_assert_uint_eq(seq, ids[id]);
		ids[id]++;
	}
	free(line);
	fclose(f);
	return lines;
}

/* Wait (at most 10 s) for the writer to have written n records. */
static void
wait_written(struct dlog *d, uint64_t n)
{
	struct timespec	ms = { 0, 1000000 };
	int		i;

	for (i = 0; i < 10000 && dlog_written(d) < n; i++)
		nanosleep(&ms, NULL);
	ck_assert_uint_eq(dlog_written(d), n);
}

struct producer {
	struct dlog	*d;
	unsigned	 worker;
	unsigned	 count;
	const uint8_t	*reply;
	size_t		 reply_len;
};

static void *
produce(void *arg)
{
	struct producer	*p = arg;
	struct dlog_rec	 rec;
	unsigned	 i;

	make_rec(&rec);
	rec.worker = (int)p->worker;
	for (i = 0; i < p->count; i++) {
		rec.latency_us = i;
		rec.ts.tv_nsec = (long)i * 1000;
		dlog_submit(p->d, p->worker, &rec, p->reply, p->reply_len);
	}
	return NULL;
}

START_TEST(test_end_to_end)
{
	const char	*rrs[] = {
		"example.com. 300 IN A 192.0.2.1",
		"example.com. 300 IN TXT \"a\\\"b\\\\c\\000\"",
	};
	struct producer	 p[2];
	pthread_t	 t[2];
	struct tmpdir	 tmp;
	struct dlog	*d;
	uint8_t		*reply;
	size_t		 len;
	unsigned	 ids[2] = { 0, 0 }, i;

	tmp_make(&tmp);
	reply = make_reply(rrs, 2, &len);
	d = open_log(tmp.path, 2, 1 << 20);
	ck_assert_int_eq(dlog_start(d), 0);
	for (i = 0; i < 2; i++) {
		p[i] = (struct producer){ d, i, 500, reply, len };
		ck_assert_int_eq(pthread_create(&t[i], NULL, produce, &p[i]),
		    0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	wait_written(d, 1000);
	ck_assert_uint_eq(dlog_dropped(d), 0);
	dlog_free(d);
	ck_assert_uint_eq(read_log(tmp.path, ids, 2), 1000);
	ck_assert_uint_eq(ids[0], 500);
	ck_assert_uint_eq(ids[1], 500);
	free(reply);
	tmp_clean(&tmp);
}
END_TEST

/* Submits racing a running writer through a small ring: nothing lost. */
START_TEST(test_busy_small_ring)
{
	struct producer	 p[2];
	pthread_t	 t[2];
	struct tmpdir	 tmp;
	struct dlog	*d;
	unsigned	 i;
	uint64_t	 dropped;
	size_t		 lines;

	tmp_make(&tmp);
	d = open_log(tmp.path, 2, 8192);
	ck_assert_int_eq(dlog_start(d), 0);
	for (i = 0; i < 2; i++) {
		p[i] = (struct producer){ d, i, 20000, NULL, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, produce, &p[i]),
		    0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	dropped = dlog_dropped(d);
	dlog_free(d);
	/* Drops leave gaps in a worker's sequence, so count only. */
	lines = read_log(tmp.path, NULL, 0);
	ck_assert_uint_eq(lines + dropped, 40000);
	tmp_clean(&tmp);
}
END_TEST

START_TEST(test_ring_full_drops)
{
	struct tmpdir	 tmp;
	struct dlog_rec	 rec;
	struct dlog	*d;
	uint8_t		 reply[1000];
	uint64_t	 dropped;
	unsigned	 i;

	tmp_make(&tmp);
	d = open_log(tmp.path, 1, 4096);	/* writer never started */
	make_rec(&rec);
	memset(reply, 0, sizeof(reply));
	for (i = 0; i < 100; i++)
		dlog_submit(d, 0, &rec, reply, sizeof(reply));
	dropped = dlog_dropped(d);
	ck_assert_uint_gt(dropped, 0);
	ck_assert_uint_lt(dropped, 100);
	ck_assert_uint_eq(dlog_written(d), 0);
	/* A worker index out of range is a drop, not a crash. */
	dlog_submit(d, 1, &rec, NULL, 0);
	ck_assert_uint_eq(dlog_dropped(d), dropped + 1);
	dlog_free(d);
	ck_assert_uint_eq(read_log(tmp.path, NULL, 0) + dropped, 100);
	tmp_clean(&tmp);
}
END_TEST

START_TEST(test_reply_truncated)
{
	const char	*rrs[] = { "example.com. 300 IN A 192.0.2.1" };
	struct tmpdir	 tmp;
	struct dlog_rec	 rec;
	struct dlog	*d;
	FILE		*f;
	char		 line[LINE_MAX_TEST];
	uint8_t		*reply, big[2000];
	size_t		 len;

	tmp_make(&tmp);
	d = open_log(tmp.path, 1, 4096);	/* reply cap: 1024 */
	make_rec(&rec);
	reply = make_reply(rrs, 1, &len);
	memset(big, 0, sizeof(big));
	memcpy(big, reply, len);
	dlog_submit(d, 0, &rec, big, sizeof(big));
	dlog_submit(d, 0, &rec, reply, len);
	ck_assert_uint_eq(dlog_dropped(d), 0);
	dlog_free(d);

	ck_assert_ptr_nonnull(f = fopen(tmp.path, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_nonnull(strstr(line, ",\"rcode\":\"NOERROR\","
	    "\"answers\":[],\"answers_truncated\":true,"
	    "\"firewall_rule_action\":\"ALLOW\","));
	ck_assert(json_valid(line, strlen(line) - 1));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_nonnull(strstr(line, ",\"answers\":[{\"Rdata\":"
	    "\"192.0.2.1\",\"Type\":\"A\",\"Class\":\"IN\"}],"
	    "\"firewall_rule_action\":"));
	ck_assert_ptr_null(fgets(line, sizeof(line), f));
	fclose(f);
	free(reply);
	tmp_clean(&tmp);
}
END_TEST

START_TEST(test_reopen)
{
	struct producer	 p;
	struct timespec	 ms = { 0, 1000000 };
	struct tmpdir	 tmp;
	struct stat	 st;
	struct dlog	*d;
	char		 old[160];
	unsigned	 ids[1] = { 0 };
	int		 i;

	tmp_make(&tmp);
	snprintf(old, sizeof(old), "%s.1", tmp.path);
	d = open_log(tmp.path, 1, 65536);
	ck_assert_int_eq(dlog_start(d), 0);
	p = (struct producer){ d, 0, 10, NULL, 0 };
	produce(&p);
	wait_written(d, 10);

	/* logrotate: rename, then SIGUSR1. */
	ck_assert_int_eq(rename(tmp.path, old), 0);
	dlog_reopen(d);
	for (i = 0; i < 5000 && stat(tmp.path, &st) == -1; i++)
		nanosleep(&ms, NULL);
	ck_assert_int_eq(stat(tmp.path, &st), 0);
	produce(&p);
	wait_written(d, 20);
	dlog_free(d);

	ck_assert_uint_eq(read_log(old, ids, 1), 10);
	ids[0] = 0;
	ck_assert_uint_eq(read_log(tmp.path, ids, 1), 10);
	tmp_clean(&tmp);
}
END_TEST

START_TEST(test_open_errors)
{
	struct dlog_sinks	 sinks = { "/nonexistent-dnsward/x.jsonl", 0, 0 };
	struct tmpdir		 tmp;
	struct stat		 st;
	struct dlog		*d;
	char			 err[256];

	ck_assert_ptr_null(dlog_new(&sinks, 1, 4096, err, sizeof(err)));
	ck_assert_str_eq(err, "open /nonexistent-dnsward/x.jsonl: "
	    "No such file or directory");

	tmp_make(&tmp);
	umask(022);
	d = open_log(tmp.path, 1, 4096);
	ck_assert_int_eq(stat(tmp.path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	dlog_free(d);
	dlog_free(NULL);
	tmp_clean(&tmp);
}
END_TEST

static Suite *
dlog_suite(void)
{
	Suite	*s = suite_create("dlog");
	TCase	*tc;

	tc = tcase_create("format");
	tcase_add_test(tc, test_json_checker);
	tcase_add_test(tc, test_escape_hostile);
	tcase_add_test(tc, test_escape_bounds);
	tcase_add_test(tc, test_format_example);
	tcase_add_test(tc, test_format_ipv6_tcp);
	tcase_add_test(tc, test_format_hostile_qname);
	tcase_add_test(tc, test_format_root_and_ascii_only);
	tcase_add_test(tc, test_format_no_question);
	tcase_add_test(tc, test_format_dropped);
	tcase_add_test(tc, test_format_rcodes);
	tcase_add_test(tc, test_format_answers);
	tcase_add_test(tc, test_format_answers_fast_as_ldns);
	tcase_add_test(tc, test_format_unknown_type);
	tcase_add_test(tc, test_format_bad_reply);
	tcase_add_test(tc, test_format_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("writer");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_end_to_end);
	tcase_add_test(tc, test_busy_small_ring);
	tcase_add_test(tc, test_ring_full_drops);
	tcase_add_test(tc, test_reply_truncated);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(dlog_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
